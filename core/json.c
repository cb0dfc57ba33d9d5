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

/* Length of the valid UTF-8 character at p that JSON may carry as it is
 * (0 for an invalid sequence and for U+2028/9). Three-byte characters,
 * most CJK text and its punctuation, are told inline; the rest goes to
 * ob_utf8_decode. */
static size_t copy_len(const unsigned char *p, size_t n)
{
  unsigned c = p[0];
  /* E1-EF with two continuation bytes is valid but for E0 (overlongs)
   * and ED (surrogates); E2 80 A8/A9 is U+2028/9 */
  if (c >= 0xE1 && c <= 0xEF && c != 0xED && n >= 3 && (p[1] & 0xC0) == 0x80 &&
      (p[2] & 0xC0) == 0x80 && !(c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)))
    return 3;
  uint32_t cp = 0;
  size_t l = ob_utf8_decode(p, n, &cp);
  return l && cp != 0x2028 && cp != 0x2029 ? l : 0;
}

ob_status ob_json_escape(ob_buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  ob_status st = ob_buf_putc(b, '"');
  size_t i = 0, start = 0; /* p[start, i) is copied as it is */
  while (st == OB_OK && i < n) {
    unsigned c = p[i];
    size_t l;
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\') {
        i++;
        continue;
      }
      l = 0;
    } else if ((l = copy_len(p + i, n - i)) != 0) {
      i += l;
      continue;
    }
    /* p[i] needs an escape or a replacement */
    if (i > start && (st = ob_buf_append(b, p + start, i - start)))
      break;
    if (c >= 0x80) {
      uint32_t cp = 0;
      l = ob_utf8_decode(p + i, n - i, &cp);
      if (l == 0) {
        st = ob_buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
        i++;
      } else {
        /* U+2028/9: legal JSON but not legal JavaScript source: escape */
        st = ob_buf_puts(b, cp == 0x2028 ? "\\u2028" : "\\u2029");
        i += l;
      }
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
    start = i;
  }
  if (st == OB_OK && i > start)
    st = ob_buf_append(b, p + start, i - start);
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
  /* keys are mostly short names that need no escape: one append */
  char tmp[32];
  size_t n = 0;
  while (n < sizeof tmp - 3 && key[n] >= 0x20 && key[n] < 0x7F && key[n] != '"' && key[n] != '\\') {
    tmp[n + 1] = key[n];
    n++;
  }
  if (!key[n]) {
    tmp[0] = '"';
    tmp[n + 1] = '"';
    tmp[n + 2] = ':';
    w->st = ob_buf_append(w->out, tmp, n + 3);
  } else {
    w->st = ob_json_escape(w->out, key, strlen(key));
    if (!w->st)
      w->st = ob_buf_putc(w->out, ':');
  }
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
  if (w->st)
    return;
  char tmp[24]; /* the digits from the end; INT64_MIN has no positive twin */
  size_t o = sizeof tmp;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[--o] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    tmp[--o] = '-';
  w->st = ob_buf_append(w->out, tmp + o, sizeof tmp - o);
}

/* Writes v as printf's "%.6g" would, for 1e-4 <= |v| < 1e6 (scores and
 * milliseconds): printf's exact decimal conversion was 5 % of a search
 * request's time. Returns the length, or 0 where it cannot be sure of
 * printf's answer (out of range, or within 1e-9 of a rounding tie, where
 * the one rounding of v * 10^k might go the other way) and printf must
 * write it. out holds at least 16 bytes. */
static size_t fmt_g6(double v, char *out)
{
  static const double p10[] = {1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  static const double scale[] = {1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1e0};
  double a = v < 0 ? -v : v;
  if (!(a >= 1e-4 && a < 1e6))
    return 0;
  int e = 0; /* a in [10^(e-4), 10^(e-3)) */
  while (a >= p10[e + 1])
    e++;
  double x = a * scale[e]; /* exact up to one rounding: < 1e6 * 2^-52 off */
  double fl = floor(x), frac = x - fl;
  if (fabs(frac - 0.5) < 1e-9)
    return 0;
  uint32_t m = (uint32_t)fl + (frac > 0.5);
  if (m < 100000 || m > 999999) /* rounded up to the next power of ten */
    return 0;
  char dig[6];
  for (int i = 5; i >= 0; i--, m /= 10)
    dig[i] = (char)('0' + m % 10);
  int nd = 6; /* significant digits left after dropping trailing zeros */
  int ip = e - 3; /* digits before the point (<= 0: leading zeros after "0.") */
  while (nd > 1 && dig[nd - 1] == '0' && nd > ip)
    nd--;
  size_t o = 0;
  if (v < 0)
    out[o++] = '-';
  if (ip <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int i = 0; i < -ip; i++)
      out[o++] = '0';
    memcpy(out + o, dig, (size_t)nd);
    o += (size_t)nd;
  } else {
    for (int i = 0; i < nd; i++) {
      if (i == ip)
        out[o++] = '.';
      out[o++] = dig[i];
    }
  }
  return o;
}

void ob_jw_num(ob_jw *w, double v)
{
  if (!isfinite(v)) {
    ob_jw_null(w);
    return;
  }
  sep(w);
  if (w->st)
    return;
  char tmp[16];
  size_t n = fmt_g6(v, tmp);
  w->st = n ? ob_buf_append(w->out, tmp, n) : ob_buf_printf(w->out, "%.6g", v);
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
