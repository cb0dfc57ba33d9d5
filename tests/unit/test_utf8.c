/* test_utf8 - core/utf8.h: the table in data/utf8.test, then sweeps. */
#include <stdint.h>

#include "harness.h"
#include "utf8.h"

/* Splits s at '|' into at most max trimmed fields (in place). */
static int fields(char *s, char **f, int max)
{
  int n = 0;
  while (n < max) {
    char *bar = strchr(s, '|');
    if (bar)
      *bar = '\0';
    while (*s == ' ')
      s++;
    char *e = s + strlen(s);
    while (e > s && e[-1] == ' ')
      *--e = '\0';
    f[n++] = s;
    if (!bar)
      break;
    s = bar + 1;
  }
  return n;
}

static void test_table(void)
{
  char *data = ob_t_slurp("utf8.test", NULL);
  int cases = 0;
  for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#' || line[0] == '\0')
      continue;
    char *f[5];
    if (!OK(fields(line, f, 5) == 5, "utf8.test: malformed line"))
      continue;
    unsigned char bytes[16];
    size_t n = 0;
    for (char *p = f[0]; *p && n < sizeof bytes;) {
      char *end;
      bytes[n++] = (unsigned char)strtoul(p, &end, 16);
      p = end;
      while (*p == ' ')
        p++;
    }
    size_t want_len = strtoul(f[1], NULL, 10);
    uint32_t cp = 0xDEADBEEF;
    size_t got = ob_utf8_decode(bytes, n, &cp);
    EQ_INT(got, want_len, "decode length: %s (%s)", f[0], f[4]);
    if (want_len)
      EQ_INT(cp, strtoul(f[2], NULL, 16), "decoded code point: %s (%s)", f[0], f[4]);
    else
      EQ_INT(cp, 0xDEADBEEF, "invalid input leaves *cp alone: %s (%s)", f[0], f[4]);
    EQ_INT(ob_utf8_valid((const char *)bytes, n), strtol(f[3], NULL, 10), "valid: %s (%s)", f[0],
           f[4]);
    cases++;
  }
  OK(cases > 40, "utf8.test has its cases (%d)", cases);
  free(data);
}

/* Decoding accepts exactly the shortest form of every scalar value. */
static void test_sweeps(void)
{
  uint32_t cp;
  unsigned char b[4];
  long valid2 = 0, valid3 = 0, valid4 = 0, bad_rt = 0;
  for (unsigned i = 0; i < 256; i++) {
    for (unsigned j = 0; j < 256; j++) {
      b[0] = (unsigned char)i;
      b[1] = (unsigned char)j;
      if (i >= 0x80 && ob_utf8_decode(b, 2, &cp) == 2) {
        char e[4];
        valid2++;
        if (ob_utf8_encode(cp, e) != 2 || memcmp(e, b, 2) != 0)
          bad_rt++;
      }
      if (i < 0xE0)
        continue;
      for (unsigned k = 0; k < 256; k++) {
        b[2] = (unsigned char)k;
        if (ob_utf8_decode(b, 3, &cp) == 3) {
          char e[4];
          valid3++;
          if (ob_utf8_encode(cp, e) != 3 || memcmp(e, b, 3) != 0)
            bad_rt++;
        }
        if (i < 0xF0 || (k & 0xC0) != 0x80)
          continue;
        static const unsigned char last[] = {0x00, 0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
        for (size_t l = 0; l < sizeof last; l++) {
          b[3] = last[l];
          if (ob_utf8_decode(b, 4, &cp) == 4) {
            char e[4];
            valid4++;
            if (ob_utf8_encode(cp, e) != 4 || memcmp(e, b, 4) != 0 || cp < 0x10000 || cp > 0x10FFFF)
              bad_rt++;
          }
        }
      }
    }
  }
  EQ_INT(valid2, 0x800 - 0x80, "exactly the 2-byte scalars decode");
  EQ_INT(valid3, 0x10000 - 0x800 - 0x800, "exactly the 3-byte non-surrogates decode");
  /* 4 of the 8 last bytes are continuations: 0x100000 / 64 * 4 */
  EQ_INT(valid4, 0x100000 / 64 * 4, "exactly the 4-byte forms up to U+10FFFF decode");
  EQ_INT(bad_rt, 0, "every accepted sequence is the canonical encoding");

  /* encode -> decode round trip over every scalar value */
  long bad = 0;
  for (uint32_t c = 1; c <= 0x10FFFF; c++) {
    if (c >= 0xD800 && c <= 0xDFFF)
      continue;
    char e[4];
    size_t n = ob_utf8_encode(c, e);
    size_t want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (n != want || ob_utf8_decode((const unsigned char *)e, n, &cp) != n || cp != c ||
        !ob_utf8_valid(e, n) || ob_utf8_decode((const unsigned char *)e, n - 1, &cp) != 0)
      bad++;
  }
  EQ_INT(bad, 0, "encode/decode round trip of U+0001..U+10FFFF");
}

static void test_misc(void)
{
  uint32_t cp = 7;
  EQ_INT(ob_utf8_decode((const unsigned char *)"a", 0, &cp), 0, "decode of 0 bytes");
  OK(ob_utf8_valid("", 0), "empty string is valid");
  OK(!ob_utf8_valid("\xE4\xB8\xAD", 2), "valid() respects n (cut inside 中)");
  OK(ob_utf8_valid("ab\0cd", 2), "valid() stops at n");
  EQ_INT(ob_utf8_count("", 0), 0, "count empty");
  EQ_INT(ob_utf8_count("a中b", strlen("a中b")), 3, "count mixed");
  EQ_INT(ob_utf8_count("机房温度", strlen("机房温度")), 4, "count CJK");
  EQ_INT(ob_utf8_count("\xF0\xA0\x80\x80x", 5), 2, "count 4-byte");

  static const struct {
    uint32_t cp;
    int cjk;
  } cjk[] = {
      {0x4E2D, 1},                                                                   /* 中 */
      {0x4E00, 1}, {0x9FFF, 1}, {0x3400, 1}, {0x20000, 1}, {0xF900, 1}, {0x3042, 1}, /* あ */
      {0x30AB, 1},                                                                   /* カ */
      {0xAC00, 1},                                                                   /* 가 */
      {0x3007, 1},                                                                   /* 〇 */
      {'a', 0},    {'1', 0},    {0x3000, 0}, /* ideographic space */
      {0x3002, 0},                           /* 。 */
      {0xFF0C, 0},                           /* ， */
      {0x2F79, 0},                           /* Kangxi ⽹: normalised to 网 before tokenising */
      {0xFF21, 0},                           /* full-width Ａ */
  };
  for (size_t i = 0; i < sizeof cjk / sizeof cjk[0]; i++)
    EQ_INT(ob_utf8_is_cjk(cjk[i].cp), cjk[i].cjk, "is_cjk(U+%04X)", (unsigned)cjk[i].cp);
}

/* ob_utf8_han3 agrees with ob_utf8_decode on every three-byte input that
 * starts with a multi-byte lead, and is 0 wherever its shortcut does not
 * apply (and for fewer than three bytes). */
static void test_han3(void)
{
  long wrong = 0, hits = 0;
  unsigned char s[3];
  for (unsigned a = 0xC0; a <= 0xFF; a++)
    for (unsigned b = 0; b <= 0xFF; b++)
      for (unsigned c = 0; c <= 0xFF; c++) {
        s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = (unsigned char)c;
        uint32_t cp = 0, h = ob_utf8_han3(s, 3);
        size_t l = ob_utf8_decode(s, 3, &cp);
        if (h) {
          hits++;
          wrong += !(l == 3 && cp == h && cp >= 0x4000 && cp <= 0x9FFF);
        } else {
          wrong += l == 3 && cp >= 0x4000 && cp <= 0x9FFF;
        }
      }
  EQ_INT(wrong, 0, "han3 agrees with decode on every three-byte input");
  EQ_INT(hits, 6 * 64 * 64, "han3 takes exactly the sequences of U+4000-U+9FFF");
  OK(ob_utf8_han3((const unsigned char *)"\xE6\x9C", 2) == 0, "han3: two bytes are not enough");
  OK(ob_utf8_han3((const unsigned char *)"\xE6\x9C\xBA", 3) == 0x673A, "han3: U+673A");
}

int main(void)
{
  test_table();
  test_sweeps();
  test_misc();
  test_han3();
  return ob_t_done();
}
