/* slot.c - per-thread index handle and gzip compressor; see slot.h. */
#define _POSIX_C_SOURCE 200809L
#include "slot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

ob_status ob_slot_db(struct ob_slot *s, const char *db_dir, unsigned long mem_max,
                     unsigned long share_max, char *err)
{
  char path[PATH_MAX_SRV];
  ob_status st = OB_EINDEX;
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
