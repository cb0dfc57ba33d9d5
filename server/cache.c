/* cache.c - bounded LRU of rendered replies; see cache.h. */
#include "cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ob_centry {
  struct ob_centry *chain;      /* next in the hash bucket */
  struct ob_centry *prev, *next; /* LRU list */
  uint64_t hash;
  char *key, *body, *gz;
  size_t klen, blen, gzlen;
};

static size_t entry_bytes(const struct ob_centry *e)
{
  return sizeof *e + e->klen + e->blen + e->gzlen;
}

ob_status ob_cache_init(struct ob_cache *c, size_t max_n, size_t max_bytes)
{
  memset(c, 0, sizeof *c);
  c->max_n = max_n;
  c->max_bytes = max_bytes;
  atomic_init(&c->hits, 0);
  atomic_init(&c->misses, 0);
  if (pthread_mutex_init(&c->mu, NULL) != 0)
    return OB_ENOMEM;
  if (!max_n)
    return OB_OK;
  c->nbucket = 64;
  while (c->nbucket < max_n)
    c->nbucket *= 2;
  c->bucket = calloc(c->nbucket, sizeof *c->bucket);
  if (!c->bucket) {
    pthread_mutex_destroy(&c->mu);
    return OB_ENOMEM;
  }
  return OB_OK;
}

static void entry_free(struct ob_centry *e)
{
  free(e->key);
  free(e->body);
  free(e->gz);
  free(e);
}

void ob_cache_free(struct ob_cache *c)
{
  for (struct ob_centry *e = c->head, *next; e; e = next) {
    next = e->next;
    entry_free(e);
  }
  free(c->bucket);
  pthread_mutex_destroy(&c->mu);
  memset(c, 0, sizeof *c);
}

static struct ob_centry *find(struct ob_cache *c, uint64_t h, const char *key, size_t klen)
{
  for (struct ob_centry *e = c->bucket[h & (c->nbucket - 1)]; e; e = e->chain)
    if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
      return e;
  return NULL;
}

static void lru_unlink(struct ob_cache *c, struct ob_centry *e)
{
  if (e->prev)
    e->prev->next = e->next;
  else
    c->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push(struct ob_cache *c, struct ob_centry *e)
{
  e->prev = NULL;
  e->next = c->head;
  if (c->head)
    c->head->prev = e;
  c->head = e;
  if (!c->tail)
    c->tail = e;
}

/* Unlinks e from everything and frees it. */
static void drop(struct ob_cache *c, struct ob_centry *e)
{
  struct ob_centry **pp = &c->bucket[e->hash & (c->nbucket - 1)];
  while (*pp != e)
    pp = &(*pp)->chain;
  *pp = e->chain;
  lru_unlink(c, e);
  c->n--;
  c->bytes -= entry_bytes(e);
  entry_free(e);
}

int ob_cache_get(struct ob_cache *c, const char *key, size_t klen, int gz, ob_buf *out,
                 int *is_gz)
{
  int hit = 0;
  *is_gz = 0;
  if (!c->max_n || klen > OB_CACHE_KEY_MAX)
    return 0;
  uint64_t h = ob_fnv64(key, klen);
  pthread_mutex_lock(&c->mu);
  struct ob_centry *e = find(c, h, key, klen);
  if (e) {
    lru_unlink(c, e);
    lru_push(c, e);
    int use_gz = gz && e->gz;
    ob_buf_reset(out);
    hit = ob_buf_append(out, use_gz ? e->gz : e->body, use_gz ? e->gzlen : e->blen) == OB_OK;
    *is_gz = hit && use_gz;
  }
  pthread_mutex_unlock(&c->mu);
  atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
  return hit;
}

static char *dup_bytes(const char *p, size_t n)
{
  char *d = malloc(n ? n : 1);
  if (d && n)
    memcpy(d, p, n);
  return d;
}

void ob_cache_put(struct ob_cache *c, const char *key, size_t klen, const char *body,
                  size_t blen, const char *gzbody, size_t gzlen)
{
  if (!c->max_n || klen > OB_CACHE_KEY_MAX)
    return;
  struct ob_centry *e = calloc(1, sizeof *e);
  if (!e)
    return;
  e->hash = ob_fnv64(key, klen);
  e->klen = klen;
  e->blen = blen;
  e->gzlen = gzbody ? gzlen : 0;
  e->key = dup_bytes(key, klen);
  e->body = dup_bytes(body, blen);
  e->gz = gzbody ? dup_bytes(gzbody, gzlen) : NULL;
  if (!e->key || !e->body || (gzbody && !e->gz) || entry_bytes(e) > c->max_bytes) {
    entry_free(e);
    return;
  }
  pthread_mutex_lock(&c->mu);
  struct ob_centry *old = find(c, e->hash, key, klen);
  if (old)
    drop(c, old);
  while (c->tail && (c->n + 1 > c->max_n || c->bytes + entry_bytes(e) > c->max_bytes))
    drop(c, c->tail);
  size_t b = e->hash & (c->nbucket - 1);
  e->chain = c->bucket[b];
  c->bucket[b] = e;
  lru_push(c, e);
  c->n++;
  c->bytes += entry_bytes(e);
  pthread_mutex_unlock(&c->mu);
}
