/* fm.c - the front matter subset of YAML (see docs/handbook-format.md). */
#include <string.h>
#include <stdlib.h>

#include "buf.h"
#include "doc.h"
#include "utf8.h"

void ob_strv_push(ob_strv *v, const char *s, size_t n)
{
  v->v = ob_xrealloc(v->v, (v->n + 1) * sizeof *v->v);
  v->v[v->n++] = ob_xstrndup(s, n);
}

void ob_strv_clear(ob_strv *v)
{
  for (size_t i = 0; i < v->n; i++)
    free(v->v[i]);
  free(v->v);
  v->v = NULL;
  v->n = 0;
}

void ob_fm_clear(ob_fm *fm)
{
  free(fm->id);
  free(fm->type);
  free(fm->title);
  free(fm->category);
  free(fm->severity);
  ob_strv_clear(&fm->tags);
  ob_strv_clear(&fm->symptoms);
  ob_strv_clear(&fm->related);
  ob_strv_clear(&fm->slots);
  memset(fm, 0, sizeof *fm);
}

static const char *skip_ws(const char *p, const char *e)
{
  while (p < e && *p == ' ')
    p++;
  return p;
}

/* True when a quote at s opens a quoted string: at the start of the value
 * or, in a flow list, of an item. Elsewhere (it's) it is a plain character. */
static int quote_opens(const char *p, const char *s)
{
  const char *b = s;
  while (b > p && b[-1] == ' ')
    b--;
  return b == p || (*p == '[' && (b[-1] == '[' || b[-1] == ','));
}

/* Strips a trailing comment (" #...") outside quotes and trailing spaces. */
static const char *value_end(const char *p, const char *e)
{
  char q = 0;
  for (const char *s = p; s < e; s++) {
    if (q) {
      if (*s == q)
        q = 0;
    } else if ((*s == '"' || *s == '\'') && quote_opens(p, s)) {
      q = *s;
    } else if (*s == '#' && (s == p || s[-1] == ' ')) {
      e = s;
      break;
    }
  }
  while (e > p && (e[-1] == ' ' || e[-1] == '\r'))
    e--;
  return e;
}

/* Parses one scalar [p,e) (quoted or plain) into out. */
static int scalar(const char *p, const char *e, ob_buf *out, const char **why)
{
  ob_buf_reset(out);
  if (p < e && (*p == '"' || *p == '\'')) {
    char q = *p++;
    while (p < e && *p != q) {
      char c = *p++;
      if (q == '"' && c == '\\' && p < e) {
        c = *p++;
        if (c == 'n')
          c = '\n';
        else if (c == 't')
          c = '\t';
        else if (c != '"' && c != '\\') {
          *why = "unsupported escape in double-quoted string";
          return -1;
        }
      }
      if (ob_buf_putc(out, c)) {
        *why = "value too long";
        return -1;
      }
    }
    if (p >= e) {
      *why = "unterminated quoted string";
      return -1;
    }
    p++;
    if (skip_ws(p, e) != e) {
      *why = "text after a quoted string";
      return -1;
    }
    return 0;
  }
  if (ob_buf_append(out, p, (size_t)(e - p))) {
    *why = "value too long";
    return -1;
  }
  return 0;
}

/* Parses a flow list "[a, b, 'c']" into v. */
static int flow_list(const char *p, const char *e, ob_strv *v, ob_buf *tmp, const char **why)
{
  p++; /* '[' */
  if (e <= p || e[-1] != ']') {
    *why = "flow list must end with ]";
    return -1;
  }
  e--;
  while (p < e) {
    p = skip_ws(p, e);
    if (p >= e)
      break;
    const char *s = p;
    char q = 0;
    while (p < e && (q || *p != ',')) {
      if (q && *p == q)
        q = 0;
      else if (!q && p == s && (*p == '"' || *p == '\''))
        q = *p;
      p++;
    }
    const char *t = p;
    while (t > s && t[-1] == ' ')
      t--;
    if (t == s) {
      *why = "empty item in flow list";
      return -1;
    }
    if (*s == '[' || *s == '{') {
      *why = "nested collections are not supported";
      return -1;
    }
    if (scalar(s, t, tmp, why))
      return -1;
    ob_strv_push(v, tmp->data ? tmp->data : "", tmp->len);
    if (p < e)
      p++; /* ',' */
  }
  return 0;
}

static char **field_str(ob_fm *fm, const char *key, size_t n)
{
#define F(name) if (n == sizeof #name - 1 && memcmp(key, #name, n) == 0) return &fm->name
  F(id); F(type); F(title); F(category); F(severity);
#undef F
  return NULL;
}

static ob_strv *field_list(ob_fm *fm, const char *key, size_t n)
{
#define F(name) if (n == sizeof #name - 1 && memcmp(key, #name, n) == 0) return &fm->name
  F(tags); F(symptoms); F(related); F(slots);
#undef F
  return NULL;
}

ob_status ob_fm_parse(const char *src, size_t len, ob_fm *fm, char *err)
{
  memset(fm, 0, sizeof *fm);
  const char *p = src, *end = src + len;
  ob_buf tmp;
  ob_buf_init(&tmp, 4096);
  ob_status st = OB_OK;
  const char *why = NULL;
  unsigned line = 1;
  ob_strv *open_list = NULL; /* the key whose block list we are in */
  ob_strv ignored = {0};     /* items of an unknown key's block list */
  ob_strv keys = {0};        /* known keys seen so far */

  fm->body_line = 1; /* also without front matter: the body is the file */
  /* a UTF-8 BOM is tolerated */
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  if (!(end - p >= 3 && memcmp(p, "---", 3) == 0 &&
        (end - p == 3 || p[3] == '\n' || (p[3] == '\r' && end - p > 4 && p[4] == '\n'))))
    goto out; /* no front matter */
  p = memchr(p, '\n', (size_t)(end - p));
  p = p ? p + 1 : end;
  line = 2;

  for (;;) {
    if (p >= end) {
      why = "front matter is not closed by ---";
      line--;
      goto fail;
    }
    if (line > OB_FM_MAX_LINES) {
      why = "front matter longer than 200 lines";
      goto fail;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *next = nl ? nl + 1 : end;
    if (le > p && le[-1] == '\r')
      le--;
    if (le - p == 3 && memcmp(p, "---", 3) == 0) {
      p = next;
      line++;
      break;
    }
    if (memchr(p, '\t', (size_t)(le - p))) {
      why = "tab characters are not allowed in front matter";
      goto fail;
    }
    if (!ob_utf8_valid(p, (size_t)(le - p))) {
      why = "invalid UTF-8";
      goto fail;
    }
    const char *s = skip_ws(p, le);
    if (s == le || *s == '#') {
      /* blank or comment line */
    } else if (*s == '-' && (s + 1 == le || s[1] == ' ')) {
      if (!open_list || s == p) {
        why = open_list ? "list items must be indented" : "list item without a list key";
        goto fail;
      }
      const char *v = skip_ws(s + 1, le);
      const char *ve = value_end(v, le);
      if (v == ve) {
        why = "empty list item";
        goto fail;
      }
      const char *colon = memchr(v, ':', (size_t)(ve - v));
      if (*v == '[' || *v == '{' ||
          (colon && *v != '"' && *v != '\'' && (colon + 1 == ve || colon[1] == ' '))) {
        why = "nested collections are not supported";
        goto fail;
      }
      if (scalar(v, ve, &tmp, &why))
        goto fail;
      ob_strv_push(open_list, tmp.data ? tmp.data : "", tmp.len);
    } else {
      if (s != p) {
        why = "nested maps are not supported";
        goto fail;
      }
      const char *k = p;
      while (k < le && ((*k >= 'a' && *k <= 'z') || *k == '_'))
        k++;
      if (k == p || k >= le || *k != ':') {
        why = "expected 'key: value' with a key of a-z and _";
        goto fail;
      }
      size_t klen = (size_t)(k - p);
      const char *v = skip_ws(k + 1, le);
      if (v == k + 1 && v < le) {
        why = "expected a space after ':'";
        goto fail;
      }
      const char *ve = value_end(v, le);
      char **fs = field_str(fm, p, klen);
      ob_strv *fl = field_list(fm, p, klen);
      open_list = NULL;
      if (fs || fl) {
        for (size_t i = 0; i < keys.n; i++) {
          if (strlen(keys.v[i]) == klen && memcmp(keys.v[i], p, klen) == 0) {
            why = "duplicate key";
            goto fail;
          }
        }
        ob_strv_push(&keys, p, klen);
      }
      if (v < ve && (*v == '&' || *v == '*' || *v == '|' || *v == '>' || *v == '{')) {
        why = "anchors, block scalars and maps are not supported";
        goto fail;
      }
      if (fl) {
        if (v == ve)
          open_list = fl;
        else if (*v == '[') {
          if (flow_list(v, ve, fl, &tmp, &why))
            goto fail;
        } else {
          if (scalar(v, ve, &tmp, &why))
            goto fail;
          ob_strv_push(fl, tmp.data ? tmp.data : "", tmp.len);
        }
      } else if (fs) {
        if (v < ve && *v == '[') {
          why = "this key takes a single value, not a list";
          goto fail;
        }
        if (scalar(v, ve, &tmp, &why))
          goto fail;
        *fs = ob_xstrdup(tmp.data ? tmp.data : "");
      } else if (v == ve) {
        open_list = &ignored;
      }
    }
    p = next;
    line++;
  }
  fm->body_offset = (size_t)(p - src);
  fm->body_line = line;
  goto out;
fail:
  st = ob_fail(err, OB_EINPUT, "%u: %s", line, why);
  ob_fm_clear(fm);
out:
  ob_strv_clear(&ignored);
  ob_strv_clear(&keys);
  ob_buf_free(&tmp);
  return st;
}
