/* fuzz_url - URL paths and the request headers the server parses itself:
 * the request path percent-decoded as libmicrohttpd does
 * (MHD_http_unescape) and looked up in the static table
 * (ob_statics_find), document ids (ob_doc_id_valid), Accept-Encoding
 * (ob_http_accepts_gzip) and If-None-Match (ob_http_etag_match).
 *
 * The query string and the dispatcher (route_of, uint_arg, filter_args in
 * server/routes.c, the raw-path check in server/srv.c) are static and are
 * fuzzed through the real server by fuzz_http.
 *
 * Input: "path[?query]\nAccept-Encoding\nIf-None-Match". */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fuzz.h"
#include "reply.h"
#include "statics.h"

static struct ob_static files[] = {
    {"a/b/index.html", "text/html", NULL, 0, NULL, 0, ""},
    {"a/index.html", "text/html", NULL, 0, NULL, 0, ""},
    {"app.js", "text/javascript", NULL, 0, NULL, 0, ""},
    {"index.html", "text/html", NULL, 0, NULL, 0, ""},
    {"x y.txt", "text/plain", NULL, 0, NULL, 0, ""},
    {"\xe8\xbf\x90\xe7\xbb\xb4.css", "text/css", NULL, 0, NULL, 0, ""},
};
static const struct ob_statics table = {files, sizeof files / sizeof files[0]};

/* Independent statement of the rule: no segment is empty inside the
 * path, "." or "..", or starts with a dot; no backslash. */
static int path_is_safe(const char *p)
{
  if (p[0] != '/' || strchr(p, '\\'))
    return 0;
  for (const char *s = p + 1; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (s[0] == '.' || (n == 0 && e))
      return 0;
    if (!e)
      break;
    s = e + 1;
  }
  return 1;
}

static int id_is_valid(const char *id)
{
  size_t n = strlen(id);
  if (n < 1 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
      return 0;
  }
  return 1;
}

static int has_ci(const char *s, const char *w)
{
  size_t n = strlen(w);
  for (; *s; s++) {
    size_t i = 0;
    while (i < n && s[i] && (s[i] | 0x20) == w[i])
      i++;
    if (i == n)
      return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 16 * 1024)
    return 0;
  char *in = fuzz_cstr(data, size); /* a NUL in the input ends that field */
  char *fields[3] = {in, NULL, NULL};
  for (int k = 1; k < 3; k++) {
    char *nl = fields[k - 1] ? strchr(fields[k - 1], '\n') : NULL;
    if (nl) {
      *nl = '\0';
      fields[k] = nl + 1;
    }
  }

  /* the path, decoded the way the server receives it */
  char *path = fields[0];
  path[strcspn(path, "?")] = '\0';
  size_t rawlen = strlen(path);
  size_t n = MHD_http_unescape(path);
  FUZZ_CHECK(n <= rawlen && strlen(path) <= n, "unescape grew %zu -> %zu", rawlen, n);
  const struct ob_static *f = ob_statics_find(&table, path);
  if (f) {
    FUZZ_CHECK(f >= files && f < files + table.n, "found a file outside the table");
    FUZZ_CHECK(path_is_safe(path), "unsafe path '%s' served %s", path, f->path);
    size_t pl = strlen(path);
    FUZZ_CHECK(strncmp(path + 1, f->path, pl - 1) == 0, "'%s' served %s", path, f->path);
  }
  if (strncmp(path, "/api/docs/", 10) == 0)
    FUZZ_CHECK(ob_doc_id_valid(path + 10) == id_is_valid(path + 10), "id '%s'", path + 10);

  const char *ae = fields[1];
  int gz = ob_http_accepts_gzip(ae);
  FUZZ_CHECK(gz == 0 || gz == 1, "accepts_gzip %d", gz);
  if (ae && !has_ci(ae, "gzip") && !strchr(ae, '*'))
    FUZZ_CHECK(!gz, "gzip accepted from '%s'", ae);

  const char *inm = fields[2];
  static const char etag[] = "0123456789abcdef-idx-1:2";
  int m = ob_http_etag_match(inm, etag);
  if (inm && !strchr(inm, '*') && !strstr(inm, etag))
    FUZZ_CHECK(!m, "'%s' matched", inm);
  free(in);
  return 0;
}
