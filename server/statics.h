/* statics.h - the web folder, read and gzip-compressed once at start-up.
 *
 * Requests are answered from this table only, so a request path can name
 * nothing but the files found here; every file's real path was checked to
 * lie inside the folder (symbolic links leading out are skipped).
 */
#ifndef OB_SRV_STATICS_H
#define OB_SRV_STATICS_H

#include <stddef.h>

#include "status.h"

#define OB_STATIC_FILES_MAX 2000
#define OB_STATIC_FILE_MAX (8u << 20)
#define OB_STATIC_TOTAL_MAX (64u << 20)

struct ob_static {
  char *path;        /* relative, '/'-separated, e.g. "js/app.js" */
  const char *ctype; /* static string */
  char *data;
  size_t len;
  char *gz; /* gzip body, or NULL when it would not be smaller */
  size_t gzlen;
  char etag[24]; /* content hash, without quotes */
};

struct ob_statics {
  struct ob_static *v; /* sorted by path */
  size_t n;
};

/* Loads every regular file under dir (names starting with '.' skipped).
 * A missing dir is an error only when required. Free with
 * ob_statics_free(). */
ob_status ob_statics_load(struct ob_statics *s, const char *dir, int required, char *err) OB_WUR;
void ob_statics_free(struct ob_statics *s);

/* The file for a decoded URL path ("/", "/app.js", "/docs/"), or NULL.
 * Paths with "." or ".." segments, backslashes or NUL never match.
 * Borrowed from s. */
const struct ob_static *ob_statics_find(const struct ob_statics *s, const char *urlpath);

/* Content type for a file name, by extension. Static string. */
const char *ob_static_ctype(const char *name);


#endif
