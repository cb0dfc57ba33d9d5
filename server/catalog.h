/* catalog.h - the table of contents (/api/categories), cached per index
 * generation.
 *
 * Built by scanning the index's type terms (XTsop, XTphrase, XTfault):
 * one row per document id, grouped by category. Workers share one cache
 * under a mutex; it is rebuilt when a worker sees a new generation.
 */
#ifndef OB_SRV_CATALOG_H
#define OB_SRV_CATALOG_H

#include <pthread.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"
#include "xap.h"

#define OB_CATALOG_UNFILED "未分类"

struct ob_catalog {
  pthread_mutex_t mu;
  char gen[96]; /* generation the body was built for */
  char *json;   /* the /api/categories body, or NULL */
  size_t len;
  size_t docs; /* distinct documents */
};

void ob_catalog_init(struct ob_catalog *c);
void ob_catalog_clear(struct ob_catalog *c);

/* The number of documents and (when json is not NULL) the categories
 * JSON, appended to json, for generation gen of db. */
ob_status ob_catalog_get(struct ob_catalog *c, ob_xdb *db, const char *gen, ob_buf *json,
                         size_t *docs, char *err) OB_WUR;

#endif
