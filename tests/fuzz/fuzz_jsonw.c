/* fuzz_jsonw - the JSON writer (ob_json_escape, ob_jw_*) on random bytes.
 *
 * The input is a program: each step's first byte picks a writer call that
 * is legal at that point (a key in an object, a value elsewhere), the
 * following bytes are its string or number. The same document is built in
 * parallel as jansson values, with invalid UTF-8 replaced the way the
 * writer promises (each bad byte -> U+FFFD). Whenever the writer reports
 * OB_OK its output must parse with jansson and equal that document. */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

struct prog {
  const uint8_t *p;
  size_t n;
};

static int take(struct prog *g, uint8_t *b)
{
  if (!g->n)
    return 0;
  *b = *g->p++;
  g->n--;
  return 1;
}

/* A string operand: a length byte, then that many bytes (fewer at the end). */
static size_t take_str(struct prog *g, const uint8_t **s)
{
  uint8_t l = 0;
  take(g, &l);
  size_t n = l < g->n ? l : g->n;
  *s = g->p;
  g->p += n;
  g->n -= n;
  return n;
}

/* What the writer must have written for n bytes of s. */
static json_t *expected_string(const uint8_t *s, size_t n)
{
  char *o = malloc(3 * n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t l = s[i] < 0x80 ? 1 : ob_utf8_decode(s + i, n - i, &cp);
    if (l == 0) {
      memcpy(o + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
    } else {
      memcpy(o + k, s + i, l);
      k += l;
      i += l;
    }
  }
  json_t *j = json_stringn_nocheck(o, k);
  free(o);
  return j;
}

static int same(json_t *a, json_t *b)
{
  if (json_is_number(a) && json_is_number(b)) {
    double x = json_number_value(a), y = json_number_value(b);
    return x == y || fabs(x - y) <= 1e-5 * fmax(fabs(x), fabs(y));
  }
  if (json_typeof(a) != json_typeof(b))
    return 0;
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b))
      return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same(json_array_get(a, i), json_array_get(b, i)))
        return 0;
    return 1;
  }
  if (json_is_object(a)) {
    const char *k;
    json_t *v;
    if (json_object_size(a) != json_object_size(b))
      return 0;
    json_object_foreach(a, k, v) {
      json_t *w = json_object_get(b, k);
      if (!w || !same(v, w))
        return 0;
    }
    return 1;
  }
  return json_equal(a, b);
}

#define MAXD (OB_JW_MAX_DEPTH + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct prog g = {data, size};
  json_t *stack[MAXD];
  char *keys[MAXD]; /* a pending key per object level */
  json_t *root = NULL;
  int depth = 0, overflow = 0;
  uint8_t cap;
  ob_buf out;
  ob_jw w;
  if (size > 64 * 1024 || !take(&g, &cap))
    return 0;
  /* a small cap now and then, for the OB_ETOOBIG paths */
  ob_buf_init(&out, cap < 16 ? (size_t)cap * 16 : 1u << 20);
  ob_jw_init(&w, &out);
  memset(keys, 0, sizeof keys);

  uint8_t op;
  while (!overflow && !(depth == 0 && root) && take(&g, &op)) {
    int in_obj = depth > 0 && json_is_object(stack[depth - 1]);
    json_t *v = NULL;
    const uint8_t *s;
    size_t n;
    if (in_obj && !keys[depth - 1]) { /* a key, or the end of the object */
      if (op % 5 == 0) {
        ob_jw_obj_end(&w);
        depth--;
        continue;
      }
      n = take_str(&g, &s);
      /* ob_jw_key takes a C string: the key ends at a NUL */
      char *k = fuzz_cstr(s, n);
      ob_jw_key(&w, k);
      json_t *ek = expected_string((const uint8_t *)k, strlen(k));
      keys[depth - 1] = strdup(json_string_value(ek));
      json_decref(ek);
      free(k);
      continue;
    }
    switch (op % 10) {
    case 0:
      if (depth >= OB_JW_MAX_DEPTH) {
        ob_jw_obj(&w); /* must fail with OB_ETOOBIG, not overflow */
        overflow = 1;
        continue;
      }
      ob_jw_obj(&w);
      v = json_object();
      break;
    case 1:
      if (depth >= OB_JW_MAX_DEPTH) {
        ob_jw_arr(&w);
        overflow = 1;
        continue;
      }
      ob_jw_arr(&w);
      v = json_array();
      break;
    case 2:
      if (depth > 0 && !in_obj) {
        ob_jw_arr_end(&w);
        depth--;
        continue;
      }
      /* fall through: nothing to close here, write a string */
    case 3:
    case 4:
      n = take_str(&g, &s);
      ob_jw_strn(&w, (const char *)s, n);
      v = expected_string(s, n);
      break;
    case 5: {
      uint8_t b[8] = {0};
      for (int i = 0; i < 8; i++)
        take(&g, &b[i]);
      int64_t x;
      memcpy(&x, b, 8);
      ob_jw_int(&w, x);
      v = json_integer((json_int_t)x);
      break;
    }
    case 6: {
      uint8_t b[8] = {0};
      for (int i = 0; i < 8; i++)
        take(&g, &b[i]);
      double x;
      memcpy(&x, b, 8);
      ob_jw_num(&w, x);
      if (!isfinite(x)) {
        v = json_null();
      } else {
        char t[64];
        snprintf(t, sizeof t, "%.6g", x);
        v = json_real(strtod(t, NULL));
      }
      break;
    }
    case 7:
      ob_jw_bool(&w, op & 0x80);
      v = json_boolean(op & 0x80);
      break;
    case 8:
      ob_jw_null(&w);
      v = json_null();
      break;
    default: {
      n = take_str(&g, &s);
      char *c = fuzz_cstr(s, n);
      ob_jw_str(&w, (op & 0x80) ? NULL : c);
      v = (op & 0x80) ? json_null() : expected_string((const uint8_t *)c, strlen(c));
      free(c);
      break;
    }
    }
    /* attach v to its parent, or make it the root */
    if (depth == 0) {
      root = json_incref(v);
    } else if (in_obj) {
      json_object_set(stack[depth - 1], keys[depth - 1], v);
      free(keys[depth - 1]);
      keys[depth - 1] = NULL;
    } else {
      json_array_append(stack[depth - 1], v);
    }
    if (json_is_object(v) || json_is_array(v))
      stack[depth++] = v;
    json_decref(v);
  }
  /* close what is open so the document is complete */
  while (!overflow && depth > 0) {
    if (json_is_object(stack[depth - 1])) {
      if (keys[depth - 1]) { /* a key without its value: give it one */
        ob_jw_null(&w);
        json_object_set_new(stack[depth - 1], keys[depth - 1], json_null());
        free(keys[depth - 1]);
        keys[depth - 1] = NULL;
      }
      ob_jw_obj_end(&w);
    } else {
      ob_jw_arr_end(&w);
    }
    depth--;
  }

  ob_status st = ob_jw_status(&w);
  if (overflow)
    FUZZ_CHECK(st == OB_ETOOBIG, "depth %d: status %d", OB_JW_MAX_DEPTH + 1, (int)st);
  if (st == OB_OK && root) {
    json_error_t je;
    json_t *got = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(got != NULL, "writer output is not JSON (%s at %d): %.*s", je.text, je.position,
               (int)(out.len < 400 ? out.len : 400), out.data);
    FUZZ_CHECK(same(got, root), "writer output differs from the document: %.*s",
               (int)(out.len < 400 ? out.len : 400), out.data);
    /* JSON inside <script> or JS eval: U+2028/2029 must be escaped */
    FUZZ_CHECK(!memmem(out.data, out.len, "\xe2\x80\xa8", 3) &&
                   !memmem(out.data, out.len, "\xe2\x80\xa9", 3),
               "raw U+2028/U+2029 in output");
    json_decref(got);
  } else if (st == OB_OK) {
    FUZZ_CHECK(out.len == 0, "output without a document");
  } else {
    FUZZ_CHECK(st == OB_ETOOBIG, "writer status %d", (int)st);
  }
  for (int i = 0; i < MAXD; i++)
    free(keys[i]);
  json_decref(root);
  ob_buf_free(&out);
  return 0;
}
