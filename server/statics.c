/* statics.c - the in-memory web folder; see statics.h. */
#define _XOPEN_SOURCE 700
#include "statics.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "slot.h"

#define PATH_MAX_SRV 4096

static int ends_with(const char *s, const char *suf)
{
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

const char *ob_static_ctype(const char *name)
{
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".webmanifest", "application/manifest+json; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (ends_with(name, types[i].ext))
      return types[i].type;
  return "application/octet-stream";
}

struct loader {
  struct ob_statics *s;
  char root[PATH_MAX_SRV]; /* realpath of the folder */
  size_t total;
  char *err;
};

/* Compressing images and fonts again gains nothing. */
static int compressible(const char *ctype)
{
  return strncmp(ctype, "text/", 5) == 0 || strncmp(ctype, "application/", 12) == 0 ||
         strcmp(ctype, "image/svg+xml") == 0 || strcmp(ctype, "image/x-icon") == 0;
}

static ob_status add_file(struct loader *L, const char *abs, const char *rel)
{
  char real[PATH_MAX_SRV];
  ob_buf b;
  ob_status st;
  if (!realpath(abs, real))
    return OB_OK; /* dangling link: nothing to serve */
  size_t rl = strlen(L->root);
  if (strncmp(real, L->root, rl) != 0 || real[rl] != '/') {
    fprintf(stderr, "opsbook-serve: skipping %s: it leads outside the web folder\n", abs);
    return OB_OK;
  }
  if (L->s->n >= OB_STATIC_FILES_MAX)
    return ob_fail(L->err, OB_ETOOBIG, "web folder: more than %d files", OB_STATIC_FILES_MAX);
  ob_buf_init(&b, OB_STATIC_FILE_MAX);
  if ((st = ob_buf_read_file(&b, real, L->err))) {
    ob_buf_free(&b);
    return st;
  }
  L->total += b.len;
  if (L->total > OB_STATIC_TOTAL_MAX) {
    ob_buf_free(&b);
    return ob_fail(L->err, OB_ETOOBIG, "web folder: more than %u MiB", OB_STATIC_TOTAL_MAX >> 20);
  }
  struct ob_static *f;
  L->s->v = ob_xrealloc(L->s->v, (L->s->n + 1) * sizeof *L->s->v);
  f = &L->s->v[L->s->n++];
  memset(f, 0, sizeof *f);
  f->path = ob_xstrdup(rel);
  f->ctype = ob_static_ctype(rel);
  f->data = ob_buf_detach(&b, &f->len);
  snprintf(f->etag, sizeof f->etag, "%016llx", ob_fnv64(f->data, f->len));
  if (compressible(f->ctype)) {
    char *gz;
    size_t gzlen;
    if (ob_gzip_once(f->data, f->len, 9, &gz, &gzlen) == OB_OK) {
      if (gzlen < f->len) {
        f->gz = gz;
        f->gzlen = gzlen;
      } else {
        free(gz);
      }
    }
  }
  return OB_OK;
}

static ob_status walk(struct loader *L, const char *abs, const char *rel, int depth)
{
  DIR *d = NULL;
  ob_status st = OB_OK;
  if (depth > 16)
    return OB_OK;
  if (!(d = opendir(abs)))
    return ob_fail(L->err, OB_EIO, "%s: %s", abs, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)) && !st) {
    char sa[PATH_MAX_SRV], sr[PATH_MAX_SRV];
    struct stat sb;
    if (e->d_name[0] == '.')
      continue;
    if ((size_t)snprintf(sa, sizeof sa, "%s/%s", abs, e->d_name) >= sizeof sa ||
        (size_t)snprintf(sr, sizeof sr, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= sizeof sr)
      continue;
    if (stat(sa, &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode))
      st = walk(L, sa, sr, depth + 1);
    else if (S_ISREG(sb.st_mode))
      st = add_file(L, sa, sr);
  }
  closedir(d);
  return st;
}

static int cmp_static(const void *a, const void *b)
{
  return strcmp(((const struct ob_static *)a)->path, ((const struct ob_static *)b)->path);
}

ob_status ob_statics_load(struct ob_statics *s, const char *dir, int required, char *err)
{
  struct loader L;
  struct stat sb;
  memset(s, 0, sizeof *s);
  memset(&L, 0, sizeof L);
  L.s = s;
  L.err = err;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    if (required)
      return ob_fail(err, OB_ENOTFOUND, "--web %s: not a folder", dir);
    return OB_OK;
  }
  if (!realpath(dir, L.root))
    return ob_fail(err, OB_EIO, "%s: %s", dir, strerror(errno));
  ob_status st = walk(&L, L.root, "", 0);
  if (st) {
    ob_statics_free(s);
    return st;
  }
  if (s->n)
    qsort(s->v, s->n, sizeof *s->v, cmp_static);
  return OB_OK;
}

void ob_statics_free(struct ob_statics *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].path);
    free(s->v[i].data);
    free(s->v[i].gz);
  }
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

/* A path segment that could step out of the folder or hide a file. */
static int bad_path(const char *p)
{
  if (strchr(p, '\\'))
    return 1;
  for (const char *seg = p; *seg;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
      return 1;
    if (n > 0 && seg[0] == '.') /* dotfiles are never loaded anyway */
      return 1;
    seg += n;
    while (*seg == '/')
      seg++;
  }
  return 0;
}

const struct ob_static *ob_statics_find(const struct ob_statics *s, const char *urlpath)
{
  char rel[PATH_MAX_SRV];
  if (urlpath[0] != '/' || bad_path(urlpath))
    return NULL;
  const char *p = urlpath + 1;
  size_t n = strlen(p);
  int dir = n == 0 || p[n - 1] == '/';
  if ((size_t)snprintf(rel, sizeof rel, "%s%s", p, dir ? "index.html" : "") >= sizeof rel)
    return NULL;
  if (strstr(rel, "//"))
    return NULL;
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(rel, s->v[mid].path);
    if (c == 0)
      return &s->v[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}
