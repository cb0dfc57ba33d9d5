#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
  fprintf(stderr, "opsbook: out of memory allocating %zu bytes\n", n);
  abort();
}

void *ob_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p)
    oom(n);
  return p;
}

void *ob_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    oom(n * size);
  return p;
}

void *ob_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (!q)
    oom(n);
  return q;
}

char *ob_xstrndup(const char *s, size_t n)
{
  char *p = ob_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *ob_xstrdup(const char *s)
{
  return ob_xstrndup(s, strlen(s));
}

void ob_buf_init(ob_buf *b, size_t max)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void ob_buf_free(ob_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void ob_buf_reset(ob_buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

ob_status ob_buf_reserve(ob_buf *b, size_t n)
{
  if (n > b->max || b->len > b->max - n)
    return OB_ETOOBIG;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->data = ob_xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';
  }
  return OB_OK;
}

ob_status ob_buf_append(ob_buf *b, const void *p, size_t n)
{
  ob_status st = ob_buf_reserve(b, n);
  if (st)
    return st;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return OB_OK;
}

ob_status ob_buf_puts(ob_buf *b, const char *s)
{
  return ob_buf_append(b, s, strlen(s));
}

ob_status ob_buf_putc(ob_buf *b, char c)
{
  if (b->len + 2 <= b->cap && b->len < b->max) { /* room for c and the NUL */
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return OB_OK;
  }
  return ob_buf_append(b, &c, 1);
}

ob_status ob_buf_printf(ob_buf *b, const char *fmt, ...)
{
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return OB_EINTERNAL;
  if ((size_t)n < sizeof small)
    return ob_buf_append(b, small, (size_t)n);
  char *big = ob_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  ob_status st = ob_buf_append(b, big, (size_t)n);
  free(big);
  return st;
}

char *ob_buf_detach(ob_buf *b, size_t *len)
{
  char *p = b->data ? b->data : ob_xstrdup("");
  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

ob_status ob_buf_read_file(ob_buf *b, const char *path, char *err)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return ob_fail(err, errno == ENOENT ? OB_ENOTFOUND : OB_EIO, "%s: %s", path,
                   strerror(errno));
  ob_status st = OB_OK;
  char chunk[16384];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    st = ob_buf_append(b, chunk, n);
    if (st != OB_OK) {
      ob_fail(err, st, "%s: larger than %zu bytes", path, b->max);
      goto out;
    }
  }
  if (ferror(f))
    st = ob_fail(err, OB_EIO, "%s: read error", path);
  if (!b->data)
    st = st ? st : ob_buf_append(b, "", 0);
out:
  fclose(f);
  return st;
}

unsigned long long ob_fnv64(const void *p, size_t n)
{
  const unsigned char *s = p;
  unsigned long long h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
