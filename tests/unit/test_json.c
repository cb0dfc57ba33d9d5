/* test_json - core/json.h: escaping (checked by decoding with jansson)
 * and the writer (nesting, commas, sticky errors, depth limit). */
#include <math.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"
#include "json.h"
#include "utf8.h"

/* Escapes s and decodes it back with jansson; returns the decoded string
 * (caller frees) or NULL when the output is not a valid JSON string. */
static char *roundtrip(const char *s, size_t n, size_t *outlen, char *raw, size_t rawsz)
{
  ob_buf b;
  ob_buf_init(&b, 1 << 20);
  char *res = NULL;
  if (ob_json_escape(&b, s, n) != OB_OK)
    goto out;
  if (raw)
    snprintf(raw, rawsz, "%s", b.data);
  json_error_t e;
  json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
  if (j && json_is_string(j)) {
    *outlen = json_string_length(j);
    res = malloc(*outlen + 1);
    memcpy(res, json_string_value(j), *outlen + 1);
  }
  json_decref(j);
out:
  ob_buf_free(&b);
  return res;
}

static void test_every_byte(void)
{
  for (int c = 0; c < 256; c++) {
    char in = (char)c, raw[64];
    size_t n = 0;
    char *out = roundtrip(&in, 1, &n, raw, sizeof raw);
    if (!OK(out != NULL, "byte 0x%02x: output is a valid JSON string", c))
      continue;
    int ctl = 0;
    for (const char *p = raw; *p; p++)
      if ((unsigned char)*p < 0x20)
        ctl = 1;
    OK(!ctl, "byte 0x%02x: no raw control characters in the output", c);
    if (c < 0x80)
      OK(n == 1 && out[0] == in, "byte 0x%02x round-trips", c);
    else
      OK(n == 3 && memcmp(out, "\xEF\xBF\xBD", 3) == 0, "byte 0x%02x alone becomes U+FFFD", c);
    free(out);
  }
  /* the exact spelling of the escapes */
  static const struct {
    const char *in;
    size_t n;
    const char *want;
  } esc[] = {
      {"\"", 1, "\"\\\"\""},
      {"\\", 1, "\"\\\\\""},
      {"\b", 1, "\"\\b\""},
      {"\t", 1, "\"\\t\""},
      {"\n", 1, "\"\\n\""},
      {"\f", 1, "\"\\f\""},
      {"\r", 1, "\"\\r\""},
      {"\0", 1, "\"\\u0000\""},
      {"\x01", 1, "\"\\u0001\""},
      {"\x1f", 1, "\"\\u001f\""},
      {"\x0b", 1, "\"\\u000b\""},
      {"/", 1, "\"/\""},
      {"\x7f", 1, "\"\x7f\""},
      {"", 0, "\"\""},
      {"中", 3, "\"中\""},                /* valid UTF-8 is copied, not \u-escaped */
      {"\xE2\x80\xA8", 3, "\"\\u2028\""}, /* LINE SEPARATOR: not valid in JS strings */
      {"\xE2\x80\xA9", 3, "\"\\u2029\""}, /* PARAGRAPH SEPARATOR */
      {"a\xC0\x80z", 4, "\"a\xEF\xBF\xBD\xEF\xBF\xBDz\""},             /* overlong NUL */
      {"\xE4\xB8", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},                 /* truncated */
      {"\xED\xA0\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""}, /* surrogate */
      {"\xF4\x90\x80\x80", 4,
       "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""}, /* > U+10FFFF */
      {"\xE4\xB8\xAD\xFF\xE6\x96\x87", 7, "\"中\xEF\xBF\xBD文\""},
  };
  for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
    ob_buf b;
    ob_buf_init(&b, 1024);
    EQ_INT(ob_json_escape(&b, esc[i].in, esc[i].n), OB_OK, "escape case %zu", i);
    EQ_STR(b.data, esc[i].want, "escape case %zu", i);
    ob_buf_free(&b);
  }
}

/* Every two-byte string: valid JSON; valid UTF-8 comes back unchanged. */
static void test_every_pair(void)
{
  long invalid_json = 0, bad_roundtrip = 0;
  for (int i = 0; i < 65536; i++) {
    char in[2] = {(char)(i >> 8), (char)(i & 0xff)};
    size_t n = 0;
    char *out = roundtrip(in, 2, &n, NULL, 0);
    if (!out) {
      invalid_json++;
      continue;
    }
    /* reference: a valid pair is copied, else each byte >= 0x80 is U+FFFD */
    char want[8];
    size_t wn = 0;
    if (ob_utf8_valid(in, 2) && (unsigned char)in[0] >= 0x80) {
      memcpy(want, in, 2);
      wn = 2;
    } else {
      for (int k = 0; k < 2; k++) {
        if ((unsigned char)in[k] < 0x80) {
          want[wn++] = in[k];
        } else {
          memcpy(want + wn, "\xEF\xBF\xBD", 3);
          wn += 3;
        }
      }
    }
    if (n != wn || memcmp(out, want, wn) != 0)
      bad_roundtrip++;
    free(out);
  }
  EQ_INT(invalid_json, 0, "every 2-byte input gives valid JSON");
  EQ_INT(bad_roundtrip, 0, "every 2-byte input decodes to itself, invalid bytes as U+FFFD");

  /* a long mixed string round-trips exactly */
  const char *mixed = "机房温度 \"quoted\" back\\slash\ttab\nline \xE2\x80\xA8 ＵＰＳ 𠀀 end";
  size_t n = 0;
  char *out = roundtrip(mixed, strlen(mixed), &n, NULL, 0);
  OK(out && n == strlen(mixed) && memcmp(out, mixed, n) == 0, "mixed text round-trips");
  free(out);
}

static void test_writer(void)
{
  ob_buf b;
  ob_jw w;
  ob_buf_init(&b, 4096);
  ob_jw_init(&w, &b);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "a", "x");
  ob_jw_key(&w, "list");
  ob_jw_arr(&w);
  ob_jw_int(&w, 1);
  ob_jw_int(&w, -2);
  ob_jw_obj(&w);
  ob_jw_obj_end(&w);
  ob_jw_arr(&w);
  ob_jw_arr_end(&w);
  ob_jw_null(&w);
  ob_jw_bool(&w, 1);
  ob_jw_bool(&w, 0);
  ob_jw_str(&w, NULL);
  ob_jw_raw(&w, "{\"r\":[1]}", 9);
  ob_jw_arr_end(&w);
  ob_jw_kint(&w, "big", INT64_MAX);
  ob_jw_kint(&w, "small", INT64_MIN);
  ob_jw_key(&w, "num");
  ob_jw_num(&w, 1.5);
  ob_jw_key(&w, "nan");
  ob_jw_num(&w, NAN);
  ob_jw_key(&w, "inf");
  ob_jw_num(&w, -INFINITY);
  ob_jw_key(&w, "k\"ey");
  ob_jw_strn(&w, "ab\0c", 4);
  ob_jw_kstr(&w, "null", NULL);
  ob_jw_obj_end(&w);
  EQ_INT(ob_jw_status(&w), OB_OK, "writer status");
  EQ_STR(b.data,
         "{\"a\":\"x\",\"list\":[1,-2,{},[],null,true,false,null,{\"r\":[1]}],"
         "\"big\":9223372036854775807,\"small\":-9223372036854775808,\"num\":1.5,"
         "\"nan\":null,\"inf\":null,\"k\\\"ey\":\"ab\\u0000c\",\"null\":null}",
         "writer output: nesting and commas");
  json_error_t e;
  json_t *j = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &e);
  OK(j != NULL, "writer output parses: %s", j ? "" : e.text);
  OK(j && json_array_size(json_object_get(j, "list")) == 9, "list has 9 items");
  json_decref(j);

  /* top-level scalars and arrays */
  ob_buf_reset(&b);
  ob_jw_init(&w, &b);
  ob_jw_arr(&w);
  for (int i = 0; i < 3; i++)
    ob_jw_str(&w, "s");
  ob_jw_arr_end(&w);
  EQ_STR(b.data, "[\"s\",\"s\",\"s\"]", "array of strings");
  EQ_INT(ob_jw_status(&w), OB_OK, "array status");

  ob_buf_reset(&b);
  ob_jw_init(&w, &b);
  ob_jw_obj(&w);
  EQ_INT(ob_jw_status(&w), OB_EINTERNAL, "unclosed object is an error");
  ob_jw_obj_end(&w);
  EQ_INT(ob_jw_status(&w), OB_OK, "closed");
  ob_jw_obj_end(&w);
  EQ_INT(ob_jw_status(&w), OB_EINTERNAL, "closing more than opened is an error");
  ob_buf_free(&b);
}

static void test_sticky(void)
{
  ob_buf b;
  ob_jw w;
  ob_buf_init(&b, 20);
  ob_jw_init(&w, &b);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "k", "a string that does not fit");
  EQ_INT(ob_jw_status(&w), OB_ETOOBIG, "overflow is reported");
  size_t len = b.len;
  ob_jw_kint(&w, "n", 1);
  ob_jw_str(&w, "");
  ob_jw_obj_end(&w);
  ob_jw_raw(&w, "1", 1);
  EQ_INT(ob_jw_status(&w), OB_ETOOBIG, "the first error sticks");
  EQ_INT(b.len, len, "nothing is written after the error");
  ob_buf_free(&b);

  ob_buf_init(&b, 8);
  EQ_INT(ob_json_escape(&b, "0123456789", 10), OB_ETOOBIG, "escape into a small buffer");
  ob_buf_free(&b);
  ob_buf_init(&b, 6);
  EQ_INT(ob_json_escape(&b, "\x01", 1), OB_ETOOBIG, "a \\u escape that does not fit");
  ob_buf_free(&b);
  ob_buf_init(&b, 8);
  EQ_INT(ob_json_escape(&b, "\x01", 1), OB_OK, "a \\u escape that just fits");
  EQ_INT(b.len, 8, "\"\\u0001\" is 8 bytes");
  ob_buf_free(&b);
}

static void test_depth(void)
{
  ob_buf b;
  ob_jw w;
  ob_buf_init(&b, 4096);
  ob_jw_init(&w, &b);
  for (int i = 0; i < OB_JW_MAX_DEPTH; i++)
    ob_jw_arr(&w);
  for (int i = 0; i < OB_JW_MAX_DEPTH; i++)
    ob_jw_arr_end(&w);
  EQ_INT(ob_jw_status(&w), OB_OK, "OB_JW_MAX_DEPTH levels are fine");
  EQ_INT(b.len, 2 * OB_JW_MAX_DEPTH, "nested arrays written");

  ob_buf_reset(&b);
  ob_jw_init(&w, &b);
  for (int i = 0; i < OB_JW_MAX_DEPTH; i++) {
    ob_jw_obj(&w);
    ob_jw_key(&w, "k");
  }
  ob_jw_arr(&w);
  EQ_INT(ob_jw_status(&w), OB_ETOOBIG, "one level more is refused");
  size_t len = b.len;
  for (int i = 0; i < OB_JW_MAX_DEPTH + 1; i++)
    ob_jw_obj_end(&w);
  EQ_INT(ob_jw_status(&w), OB_ETOOBIG, "depth error sticks");
  EQ_INT(b.len, len, "nothing written after the depth error");
  ob_buf_free(&b);
}

/* The escaper as first written, one character at a time: the reference
 * for the faster one (inline three-byte check, runs copied at once). */
static ob_status ref_escape(ob_buf *b, const unsigned char *p, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  static const char *const short_esc[32] = {
      [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"};
  ob_status st = ob_buf_putc(b, '"');
  for (size_t i = 0; i < n && !st;) {
    unsigned c = p[i];
    uint32_t cp = 0;
    size_t l = c >= 0x80 ? ob_utf8_decode(p + i, n - i, &cp) : 1;
    if (c >= 0x80 && !l) {
      st = ob_buf_append(b, "\xEF\xBF\xBD", 3);
      i++;
    } else if (c >= 0x80 && (cp == 0x2028 || cp == 0x2029)) {
      st = ob_buf_puts(b, cp == 0x2028 ? "\\u2028" : "\\u2029");
      i += l;
    } else if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      st = ob_buf_append(b, e, 2);
      i++;
    } else if (c < 0x20 && short_esc[c]) {
      st = ob_buf_puts(b, short_esc[c]);
      i++;
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      st = ob_buf_append(b, e, 6);
      i++;
    } else {
      st = ob_buf_append(b, p + i, l);
      i += l;
    }
  }
  if (!st)
    st = ob_buf_putc(b, '"');
  return st;
}

/* Every three-byte string with a lead byte of 0xC0 or more (every
 * multi-byte form and its truncations, the U+2028/9 exceptions) and
 * a run of mixed text: the same bytes as the reference escaper. */
static void test_every_triple(void)
{
  long diff = 0;
  ob_buf got, want;
  ob_buf_init(&got, 64);
  ob_buf_init(&want, 64);
  for (unsigned i = 0xC00000; i <= 0xFFFFFF; i++) {
    unsigned char in[3] = {(unsigned char)(i >> 16), (unsigned char)(i >> 8), (unsigned char)i};
    ob_buf_reset(&got);
    ob_buf_reset(&want);
    if (ob_json_escape(&got, (const char *)in, 3) != OB_OK)
      diff++;
    if (ref_escape(&want, in, 3) != OB_OK)
      diff++;
    if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
      diff++;
  }
  EQ_INT(diff, 0, "every 3-byte string escapes as the reference does");
  static const char mixed[] = "IDC机房温度22-24℃,“湿度”\xE2\x80\xA8<mark>UPS</mark>\t\"q\"\\"
                              "\xED\xA0\x80\xE0\x80\xAF…— 𝄞 é\x01\xFF中";
  ob_buf_free(&got);
  ob_buf_free(&want);
  ob_buf_init(&got, 4096);
  ob_buf_init(&want, 4096);
  EQ_INT(ob_json_escape(&got, mixed, sizeof mixed - 1), OB_OK, "mixed text escapes");
  EQ_INT(ref_escape(&want, (const unsigned char *)mixed, sizeof mixed - 1), OB_OK,
         "the reference escapes it");
  OK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
     "mixed text escapes as the reference does");
  ob_buf_free(&got);
  ob_buf_free(&want);
}

/* Writes v with ob_jw_num into b and compares it with printf's "%.6g";
 * reports the first few differences. */
static void check_num(ob_buf *b, double v, long *n, long *diff)
{
  char want[64];
  snprintf(want, sizeof want, "%.6g", v);
  ob_jw w;
  ob_buf_reset(b);
  ob_jw_init(&w, b);
  ob_jw_num(&w, v);
  (*n)++;
  const char *got = b->data ? b->data : "";
  if ((ob_jw_status(&w) != OB_OK || strcmp(got, want) != 0) && (*diff)++ < 5)
    OK(0, "%.17g: got %s, printf %s", v, got, want);
}

/* ob_jw_num writes most numbers without printf; it must write what
 * "%.6g" writes, for every kind of value a reply carries and around
 * every rounding tie and power of ten. */
static void test_num(void)
{
  long diff = 0, n = 0;
  ob_buf b;
  ob_buf_init(&b, 64);
  uint64_t r = 88172645463325252ull; /* xorshift64 */
  for (int i = 0; i < 400000; i++) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    double v;
    switch (i % 4) {
    case 0: v = pow(10, -6 + 14 * u); break;                           /* 1e-6 .. 1e8 */
    case 1: v = (floor(u * 2e6) + 0.5) * pow(10, (int)(i / 4 % 12) - 7); break; /* ties */
    case 2: v = floor(u * 1e7) * pow(10, (int)(i / 4 % 12) - 8); break;  /* short decimals */
    default: v = -pow(10, -5 + 12 * u); break;
    }
    check_num(&b, v, &n, &diff);
    check_num(&b, nextafter(v, 0), &n, &diff);
    check_num(&b, nextafter(v, INFINITY), &n, &diff);
  }
  for (int e = -6; e <= 8; e++) { /* powers of ten and their neighbours */
    double v = pow(10, e);
    double around[5] = {v, nextafter(v, 0), nextafter(v, INFINITY), v * 0.9999995, v * 0.99999949};
    for (int k = 0; k < 5; k++)
      check_num(&b, around[k], &n, &diff);
  }
  EQ_INT(diff, 0, "ob_jw_num and %%.6g agree on %ld numbers", n);
  ob_buf_free(&b);
}

/* Keys: plain ones take a short path; the rest are escaped as strings. */
static void test_keys(void)
{
  static const struct {
    const char *key, *want;
  } k[] = {
      {"id", "{\"id\":1}"},
      {"", "{\"\":1}"},
      {"a\"b", "{\"a\\\"b\":1}"},
      {"a\\b", "{\"a\\\\b\":1}"},
      {"\n", "{\"\\n\":1}"},
      {"标题", "{\"标题\":1}"},
      {"abcdefghijklmnopqrstuvwxyz0123456789", "{\"abcdefghijklmnopqrstuvwxyz0123456789\":1}"},
      {"abcdefghijklmnopqrstuvwxyz01\"", "{\"abcdefghijklmnopqrstuvwxyz01\\\"\":1}"},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    ob_buf b;
    ob_jw w;
    ob_buf_init(&b, 256);
    ob_jw_init(&w, &b);
    ob_jw_obj(&w);
    ob_jw_kint(&w, k[i].key, 1);
    ob_jw_obj_end(&w);
    EQ_INT(ob_jw_status(&w), OB_OK, "key case %zu", i);
    EQ_STR(b.data, k[i].want, "key case %zu", i);
    ob_buf_free(&b);
  }
}

int main(void)
{
  test_every_byte();
  test_every_pair();
  test_every_triple();
  test_num();
  test_keys();
  test_writer();
  test_sticky();
  test_depth();
  return ob_t_done();
}
