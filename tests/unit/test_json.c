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

int main(void)
{
  test_every_byte();
  test_every_pair();
  test_writer();
  test_sticky();
  test_depth();
  return ob_t_done();
}
