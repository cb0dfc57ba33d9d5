/* catalog.h - the table of contents (/api/categories) and the number of
 * documents (/healthz, /metrics), cached per index generation.
 *
 * The table is built from the index's document terms (XD<id>): the first
 * entry's record of each, one at a time, one row per document of type
 * sop, phrase or fault, grouped by category. The count is the number of
 * document terms, read from the term list without a record: /healthz and
 * /metrics never build the table. Workers share one cache under a mutex;
 * it is rebuilt when a worker sees a new generation.
 */
#ifndef OB_SRV_CATALOG_H
#define OB_SRV_CATALOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "status.h"
#include "xap.h"

#define OB_CATALOG_UNFILED "未分类"

/* A built /api/categories body and its gzip form, shared by the cache and
 * the replies on their way: each holds a reference. At 100,000 files it
 * is 11 MB (1.3 MB gzip'ed), so a reply neither copies nor compresses it. */
struct ob_catalog_body {
  atomic_uint refs;
  size_t len, gzlen;
  char *data;
  char *gz; /* NULL when compressing failed (the reply compresses then) */
  char etag[128]; /* the body's hash and generation (If-None-Match: 304) */
};

struct ob_catalog {
  pthread_mutex_t mu;
  char gen[96];                 /* generation the body was built for */
  struct ob_catalog_body *body; /* the cache's reference, or NULL */
  char count_gen[96];           /* generation count was taken for */
  size_t count;       /* document terms */
};

void ob_catalog_init(struct ob_catalog *c);
void ob_catalog_clear(struct ob_catalog *c);

/* The categories JSON of generation gen of db, as a reference of the
 * caller's, released with ob_catalog_release(). */
ob_status ob_catalog_json(struct ob_catalog *c, ob_xdb *db, const char *gen,
                          struct ob_catalog_body **body, char *err) OB_WUR;
/* Drops a reference; the last one frees the body. (void *: the shape of
 * libmicrohttpd's free callback.) */
void ob_catalog_release(void *body);
/* The number of documents of generation gen: its document terms
 * (ob_xdb_count_terms), no record read. */
ob_status ob_catalog_docs(struct ob_catalog *c, ob_xdb *db, const char *gen, size_t *docs,
                          char *err) OB_WUR;

#endif
