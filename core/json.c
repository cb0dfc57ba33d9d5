#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* 0 = copy, 1 = short escape (letter in esc_char), 2 = \u00XX */
static const char esc_char[32] = {
  0, 0, 0, 0, 0, 0, 0, 0, 'b', 't', 'n', 0, 'f', 'r', 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 0,   0,   0, 0,
};

ob_status ob_json_escape(ob_buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  ob_status st = ob_buf_putc(b, '"');
  size_t i = 0, run = 0;
  while (st == OB_OK && i < n) {
    unsigned c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      run++;
      continue;
    }
    if (ob_utf8_han3(p + i, n - i)) { /* most CJK text, always valid */
      i += 3;
      run += 3;
      continue;
    }
    uint32_t cp = 0;
    size_t l = c >= 0x80 ? ob_utf8_decode(p + i, n - i, &cp) : 0;
    if (l && cp != 0x2028 && cp != 0x2029) { /* valid UTF-8 goes as it is */
      i += l;
      run += l;
      continue;
    }
    if (run) {
      st = ob_buf_append(b, p + i - run, run);
      run = 0;
      if (st)
        break;
    }
    if (c >= 0x80 && l == 0) {
      st = ob_buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
      i++;
    } else if (c >= 0x80) {
      /* U+2028/9: legal JSON but not legal JavaScript source: escape */
      st = ob_buf_puts(b, cp == 0x2028 ? "\\u2028" : "\\u2029");
      i += l;
    } else if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      st = ob_buf_append(b, e, 2);
      i++;
    } else if (esc_char[c]) {
      char e[2] = {'\\', esc_char[c]};
      st = ob_buf_append(b, e, 2);
      i++;
    } else {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      st = ob_buf_append(b, e, 6);
      i++;
    }
  }
  if (st == OB_OK && run)
    st = ob_buf_append(b, p + i - run, run);
  if (st == OB_OK)
    st = ob_buf_putc(b, '"');
  return st;
}

void ob_jw_init(ob_jw *w, ob_buf *out)
{
  memset(w, 0, sizeof *w);
  w->out = out;
}

static void sep(ob_jw *w)
{
  if (w->st)
    return;
  if (w->after_key) {
    w->after_key = 0;
    return;
  }
  if (w->depth > 0) {
    if (w->need_comma[w->depth - 1])
      w->st = ob_buf_putc(w->out, ',');
    w->need_comma[w->depth - 1] = 1;
  }
}

static void open(ob_jw *w, char c)
{
  sep(w);
  if (w->st)
    return;
  if (w->depth >= OB_JW_MAX_DEPTH) {
    w->st = OB_ETOOBIG;
    return;
  }
  w->st = ob_buf_putc(w->out, c);
  w->need_comma[w->depth++] = 0;
}

static void close_(ob_jw *w, char c)
{
  if (w->st)
    return;
  if (w->depth <= 0) {
    w->st = OB_EINTERNAL;
    return;
  }
  w->depth--;
  w->st = ob_buf_putc(w->out, c);
}

void ob_jw_obj(ob_jw *w) { open(w, '{'); }
void ob_jw_obj_end(ob_jw *w) { close_(w, '}'); }
void ob_jw_arr(ob_jw *w) { open(w, '['); }
void ob_jw_arr_end(ob_jw *w) { close_(w, ']'); }

void ob_jw_key(ob_jw *w, const char *key)
{
  sep(w);
  if (w->st)
    return;
  w->st = ob_json_escape(w->out, key, strlen(key));
  if (!w->st)
    w->st = ob_buf_putc(w->out, ':');
  w->after_key = 1;
}

void ob_jw_strn(ob_jw *w, const char *s, size_t n)
{
  sep(w);
  if (!w->st)
    w->st = ob_json_escape(w->out, s, n);
}

void ob_jw_str(ob_jw *w, const char *s)
{
  if (!s) {
    ob_jw_null(w);
    return;
  }
  ob_jw_strn(w, s, strlen(s));
}

void ob_jw_int(ob_jw *w, int64_t v)
{
  sep(w);
  if (!w->st)
    w->st = ob_buf_printf(w->out, "%lld", (long long)v);
}

void ob_jw_num(ob_jw *w, double v)
{
  if (!isfinite(v)) {
    ob_jw_null(w);
    return;
  }
  sep(w);
  if (!w->st)
    w->st = ob_buf_printf(w->out, "%.6g", v);
}

void ob_jw_bool(ob_jw *w, int v)
{
  sep(w);
  if (!w->st)
    w->st = ob_buf_puts(w->out, v ? "true" : "false");
}

void ob_jw_null(ob_jw *w)
{
  sep(w);
  if (!w->st)
    w->st = ob_buf_puts(w->out, "null");
}

void ob_jw_raw(ob_jw *w, const char *json, size_t n)
{
  sep(w);
  if (!w->st)
    w->st = ob_buf_append(w->out, json, n);
}

void ob_jw_kstr(ob_jw *w, const char *key, const char *s)
{
  ob_jw_key(w, key);
  ob_jw_str(w, s);
}

void ob_jw_kint(ob_jw *w, const char *key, int64_t v)
{
  ob_jw_key(w, key);
  ob_jw_int(w, v);
}

ob_status ob_jw_status(const ob_jw *w)
{
  if (w->st)
    return w->st;
  return w->depth == 0 ? OB_OK : OB_EINTERNAL;
}
