/* cache.h - a bounded cache of rendered search replies.
 *
 * Field technicians ask the same few dozen things all day ("宽带断了",
 * "机房温度"), and a search costs far more than sending bytes. The cache
 * keeps the JSON body of GET /api/search and /api/answer replies (and its
 * gzip form) keyed by the route, the parsed parameters and the index
 * generation ("<folder>:<revision>") the worker answered from. A write or
 * a re-index moves the generation, so every later lookup misses and old
 * entries age out: a cached reply is never older than the index the
 * worker would have searched.
 *
 * Owns its entries (copies in, copies out). Shared by all workers under
 * one mutex held only for the hash lookup and a memcpy. Bounded by entry
 * count and by bytes; least recently used entries go first.
 */
#ifndef OB_SRV_CACHE_H
#define OB_SRV_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

#define OB_CACHE_ENTRIES_DEFAULT 2048
#define OB_CACHE_BYTES_DEFAULT (32u << 20)
#define OB_CACHE_KEY_MAX 2048 /* longer keys are not cached */

struct ob_centry;

struct ob_cache {
  pthread_mutex_t mu;
  struct ob_centry **bucket; /* chains by key hash */
  size_t nbucket;
  struct ob_centry *head, *tail; /* most / least recently used */
  size_t n, bytes, max_n, max_bytes;
  atomic_ulong hits, misses;
};

/* max_n 0 = disabled: lookups miss, stores are dropped. */
ob_status ob_cache_init(struct ob_cache *c, size_t max_n, size_t max_bytes) OB_WUR;
void ob_cache_free(struct ob_cache *c);

/* On a hit, copies the body (gz: its gzip form, or the plain body when
 * none was stored) into out and returns 1; *is_gz says which. 0 = miss. */
int ob_cache_get(struct ob_cache *c, const char *key, size_t klen, int gz, ob_buf *out,
                 int *is_gz);

/* Stores a copy of body and, when not NULL, its gzip form, replacing an
 * entry of the same key. Entries that would not fit are not stored. */
void ob_cache_put(struct ob_cache *c, const char *key, size_t klen, const char *body,
                  size_t blen, const char *gzbody, size_t gzlen);

#endif
