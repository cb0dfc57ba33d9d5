/* slot.c - per-thread index handle and gzip compressor; see slot.h. */
#define _POSIX_C_SOURCE 200809L
#include "slot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "index.h"

#define PATH_MAX_SRV 4096

struct ob_slot *ob_slot_get(pthread_key_t key)
{
  struct ob_slot *s = pthread_getspecific(key);
  if (!s) {
    s = ob_xcalloc(1, sizeof *s);
    if (pthread_setspecific(key, s) != 0) {
      fprintf(stderr, "opsbook-serve: pthread_setspecific failed\n");
      abort();
    }
  }
  return s;
}

void ob_slot_drop(struct ob_slot *s)
{
  ob_xdb_close(s->db);
  s->db = NULL;
  s->name[0] = '\0';
  s->stamped = 0;
}

void ob_slot_free(void *p)
{
  struct ob_slot *s = p;
  if (!s)
    return;
  ob_slot_drop(s);
  libdeflate_free_compressor(s->gz);
  free(s);
}

/* A file's identity and times; 0 when it cannot be stat'ed. */
static int stamp_of(const char *path, struct ob_stamp *t)
{
  struct stat sb;
  if (stat(path, &sb) != 0)
    return 0;
  memset(t, 0, sizeof *t);
  t->dev = (unsigned long long)sb.st_dev;
  t->ino = (unsigned long long)sb.st_ino;
  t->size = (long long)sb.st_size;
  t->mtime = sb.st_mtim;
  t->ctime = sb.st_ctim;
  return 1;
}

static int same_stamp(const struct ob_stamp *a, const struct ob_stamp *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
         a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

ob_status ob_slot_db(struct ob_slot *s, const char *db_dir, unsigned long mem_max,
                     unsigned long share_max, char *err)
{
  char path[PATH_MAX_SRV];
  ob_status st = OB_EINDEX;
  /* The fast path: CURRENT and the open folder's iamglass as they were at
   * the last full check, so neither a --rebuild (which renames a new
   * CURRENT into place) nor a commit (Xapian renames a new iamglass into
   * place) happened since: two stat() calls instead of reading both files
   * (eight system calls a request). The stamps are taken before the full
   * check, so a change during it is seen next time, never missed. */
  struct ob_stamp cur, ver;
  char name_then[sizeof s->name];
  int stamped = 0;
  if (s->db && (size_t)snprintf(path, sizeof path, "%s/CURRENT", db_dir) < sizeof path &&
      stamp_of(path, &cur) &&
      (size_t)snprintf(path, sizeof path, "%s/%s/iamglass", db_dir, s->name) < sizeof path &&
      stamp_of(path, &ver)) {
    if (s->stamped && same_stamp(&cur, &s->cur) && same_stamp(&ver, &s->ver))
      return OB_OK;
    stamped = 1;
    memcpy(name_then, s->name, sizeof name_then);
  }
  s->stamped = 0;
  /* Three rounds: a rebuild may swap CURRENT and delete the folder we just
   * resolved; the next round reads the new name. */
  for (int round = 0; round < 3; round++) {
    if ((st = ob_index_resolve(db_dir, path, sizeof path, err)))
      return st;
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    if (s->db && strcmp(name, s->name) == 0) {
      int changed;
      if (ob_xdb_reopen(s->db, &changed, err) == OB_OK)
        goto ok;
    }
    ob_slot_drop(s);
    size_t nl = strlen(name);
    if (nl >= sizeof s->name)
      return ob_fail(err, OB_EINDEX, "%s: index folder name too long", db_dir);
    if ((st = ob_xdb_open(path, &s->db, err)) == OB_OK) {
      memcpy(s->name, name, nl + 1);
      if ((st = ob_xdb_preload(s->db, mem_max, err)) == OB_OK &&
          (st = ob_xdb_share(s->db, share_max, err)) == OB_OK)
        goto ok;
      ob_slot_drop(s);
    }
  }
  return st;
ok:
  if (stamped && strcmp(name_then, s->name) == 0) { /* the stamps are of this folder */
    s->cur = cur;
    s->ver = ver;
    s->stamped = 1;
  }
  s->revision = ob_xdb_revision(s->db);
  snprintf(s->gen, sizeof s->gen, "%s:%lu", s->name, s->revision);
  return OB_OK;
}

/* Replies at libdeflate's level 1: on the bundled handbook's replies
 * (5-6 KB of JSON) it takes 40 us a reply against level 4's 63 us, for
 * 6 % more bytes (2.06 against 1.95 KB, two TCP segments either way);
 * docs/performance.md. libdeflate compresses a whole buffer at once,
 * which is all a reply is. A compressor of levels 1-9 holds at most ~650 KiB
 * (levels 10-12: ~8.6 MiB, which is why static files use 9). */
#define REPLY_LEVEL 1

static ob_status gzip_with(struct libdeflate_compressor *c, const void *p, size_t n, char **out,
                           size_t *outlen)
{
  size_t bound = libdeflate_gzip_compress_bound(c, n);
  char *buf = ob_xmalloc(bound);
  size_t len = libdeflate_gzip_compress(c, p, n, buf, bound);
  if (!len) { /* cannot happen with a bound-sized buffer */
    free(buf);
    return OB_EINTERNAL;
  }
  *out = buf;
  *outlen = len;
  return OB_OK;
}

ob_status ob_slot_gzip(struct ob_slot *s, const void *p, size_t n, char **out, size_t *outlen)
{
  if (!s->gz && !(s->gz = libdeflate_alloc_compressor(REPLY_LEVEL)))
    return OB_ENOMEM;
  return gzip_with(s->gz, p, n, out, outlen);
}

ob_status ob_gzip_once(const void *p, size_t n, int level, char **out, size_t *outlen)
{
  if (level < 0 || level > 12)
    return OB_EINPUT;
  struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
  if (!c)
    return OB_ENOMEM;
  ob_status st = gzip_with(c, p, n, out, outlen);
  libdeflate_free_compressor(c);
  return st;
}
