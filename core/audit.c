/* audit.c - the audit log; see audit.h. */
#define _GNU_SOURCE
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "json.h"

ob_status ob_audit_open(const char *path, int *fd, char *err)
{
  *fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (*fd < 0)
    return ob_fail(err, OB_EIO, "audit log %s: %s", path, strerror(errno));
  return OB_OK;
}

void ob_audit_close(int fd)
{
  if (fd >= 0)
    close(fd);
}

ob_status ob_audit_write(int fd, const ob_audit_rec *r, char *err)
{
  char ts[40], hash[OB_SHA256_HEX];
  struct timespec now;
  struct tm tm;
  ob_buf b;
  ob_jw w;
  ob_status st;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  size_t tl = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + tl, sizeof ts - tl, ".%03ldZ", now.tv_nsec / 1000000L);
  ob_sha256_hex(r->text, r->len, hash);
  ob_buf_init(&b, 4096);
  ob_jw_init(&w, &b);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "time", ts);
  ob_jw_kstr(&w, "reviewer", r->reviewer);
  ob_jw_kstr(&w, "action", r->action);
  ob_jw_kstr(&w, "doc", r->doc);
  ob_jw_kstr(&w, "path", r->path);
  if (r->heading)
    ob_jw_kstr(&w, "heading", r->heading);
  ob_jw_kint(&w, "size", (int64_t)r->len);
  ob_jw_kstr(&w, "sha256", hash);
  ob_jw_obj_end(&w);
  if ((st = ob_jw_status(&w)) || (st = ob_buf_putc(&b, '\n'))) {
    st = ob_fail(err, st, "audit line too long");
    goto out;
  }
  /* one write: O_APPEND places it whole at the end */
  if (write(fd, b.data, b.len) != (ssize_t)b.len || fdatasync(fd) != 0)
    st = ob_fail(err, OB_EIO, "audit log: %s", strerror(errno));
out:
  ob_buf_free(&b);
  return st;
}

char *ob_audit_default_path(const char *tokens_path)
{
  static const char name[] = "audit.jsonl";
  const char *slash = strrchr(tokens_path, '/');
  size_t dl = slash ? (size_t)(slash - tokens_path) + 1 : 0;
  char *p = ob_xmalloc(dl + sizeof name);
  memcpy(p, tokens_path, dl);
  memcpy(p + dl, name, sizeof name);
  return p;
}
