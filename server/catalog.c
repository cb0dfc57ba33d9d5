/* catalog.c - the table of contents; see catalog.h. */
#define _POSIX_C_SOURCE 200809L
#include "catalog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "index.h"
#include "json.h"
#include "schema.h"
#include "slot.h"

#define CATALOG_SCAN_MAX 1000000
#define CATALOG_JSON_MAX (16u << 20)
#define CATALOG_GZIP_LEVEL 6 /* once per generation: smaller than replies' level 1 */

void ob_catalog_init(struct ob_catalog *c)
{
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
}

void ob_catalog_release(void *body)
{
  struct ob_catalog_body *b = body;
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    free(b->data);
    free(b->gz);
    free(b);
  }
}

void ob_catalog_clear(struct ob_catalog *c)
{
  ob_catalog_release(c->body);
  c->body = NULL;
  pthread_mutex_destroy(&c->mu);
}

/* A row as it is read: its fields (category, id, type, title) one after
 * another in the arena from `at` on. 20 bytes a row: at 100k files the
 * rows and the JSON being written are most of what /api/categories adds
 * to the server's memory while it is built. */
struct row {
  uint32_t at, len[4];
};

struct collect {
  ob_buf arena;
  struct row *rows;
  size_t n, cap;
  ob_status st;
};

static int cmpn(const char *a, size_t an, const char *b, size_t bn)
{
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? c : (an > bn) - (an < bn);
}

/* The arena the rows being sorted point into (qsort has no context). */
static _Thread_local const char *sort_base;

/* by category (uncategorised last), then id */
static int cmp_row(const void *va, const void *vb)
{
  const struct row *a = va, *b = vb;
  if (!a->len[0] != !b->len[0])
    return a->len[0] ? -1 : 1;
  int c = cmpn(sort_base + a->at, a->len[0], sort_base + b->at, b->len[0]);
  return c ? c
           : cmpn(sort_base + a->at + a->len[0], a->len[1], sort_base + b->at + b->len[0],
                  b->len[1]);
}

/* One document's first record: its category, id, type and title kept, the
 * rest (the section's text) dropped with the record. */
static void take(void *ctx, const char *data, size_t len)
{
  static const int fields[4] = {OB_R_CATEGORY, OB_R_ID, OB_R_TYPE, OB_R_TITLE};
  static const char *const types[] = {"sop", "phrase", "fault"};
  struct collect *c = ctx;
  if (!data) { /* the index moved: start over */
    ob_buf_reset(&c->arena);
    c->n = 0;
    c->st = OB_OK;
    return;
  }
  if (c->st)
    return;
  const char *f[OB_R_NFIELDS];
  size_t fl[OB_R_NFIELDS];
  ob_index_record_fields(data, len, f, fl);
  int known = 0;
  for (size_t t = 0; t < sizeof types / sizeof *types; t++)
    known |= cmpn(f[OB_R_TYPE], fl[OB_R_TYPE], types[t], strlen(types[t])) == 0;
  if (!known)
    return;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 256;
    c->rows = ob_xrealloc(c->rows, c->cap * sizeof *c->rows);
  }
  struct row *r = &c->rows[c->n];
  r->at = (uint32_t)c->arena.len; /* the arena holds at most CATALOG_JSON_MAX */
  for (int i = 0; i < 4; i++) {
    r->len[i] = (uint32_t)fl[fields[i]];
    if ((c->st = ob_buf_append(&c->arena, f[fields[i]], fl[fields[i]])))
      return;
  }
  c->n++;
}

/* One row per document (its XD term), read one record at a time: at 100k
 * files the table of contents once held every entry's record (300 MB). */
static ob_status build(ob_xdb *db, ob_buf *out, char *err)
{
  struct collect c = {.rows = NULL, .n = 0, .cap = 0, .st = OB_OK};
  size_t n = 0;
  ob_status st = OB_OK;
  ob_jw w;
  ob_buf_init(&c.arena, CATALOG_JSON_MAX);
  if ((st = ob_xdb_first_records(db, OB_P_DOC, CATALOG_SCAN_MAX, take, &c, err)))
    goto out;
  if ((st = c.st)) {
    ob_fail(err, st, "table of contents too large");
    goto out;
  }
  n = c.n;
  const char *base = c.arena.data ? c.arena.data : ""; /* the arena no longer moves */
  if (n) {
    sort_base = base;
    qsort(c.rows, n, sizeof *c.rows, cmp_row);
    sort_base = NULL;
  }
  /* the JSON is the fields and ≈ 40 bytes of syntax a row: room for it at
   * once, so that it is not copied as it grows (each copy held both) */
  size_t want = c.arena.len + 48 * n + 64;
  if (want > out->max - out->len)
    want = out->max - out->len;
  if ((st = ob_buf_reserve(out, want))) {
    ob_fail(err, st, "table of contents too large");
    goto out;
  }
  ob_jw_init(&w, out);
  ob_jw_obj(&w);
  ob_jw_key(&w, "categories");
  ob_jw_arr(&w);
  for (size_t i = 0; i < n; i++) {
    const struct row *r = &c.rows[i], *p = i ? &c.rows[i - 1] : NULL;
    const char *cat = base + r->at, *id = cat + r->len[0], *type = id + r->len[1],
               *title = type + r->len[2];
    int new_cat = !p || cmpn(cat, r->len[0], base + p->at, p->len[0]) != 0;
    if (!new_cat && cmpn(id, r->len[1], base + p->at + p->len[0], p->len[1]) == 0)
      continue; /* another section of the same document */
    if (new_cat) {
      if (i > 0) {
        ob_jw_arr_end(&w);
        ob_jw_obj_end(&w);
      }
      ob_jw_obj(&w);
      ob_jw_key(&w, "name");
      if (r->len[0])
        ob_jw_strn(&w, cat, r->len[0]);
      else
        ob_jw_str(&w, OB_CATALOG_UNFILED);
      ob_jw_key(&w, "docs");
      ob_jw_arr(&w);
    }
    ob_jw_obj(&w);
    ob_jw_key(&w, "id");
    ob_jw_strn(&w, id, r->len[1]);
    ob_jw_key(&w, "type");
    ob_jw_strn(&w, type, r->len[2]);
    ob_jw_key(&w, "title");
    ob_jw_strn(&w, title, r->len[3]);
    ob_jw_obj_end(&w);
  }
  if (n) {
    ob_jw_arr_end(&w);
    ob_jw_obj_end(&w);
  }
  ob_jw_arr_end(&w);
  ob_jw_obj_end(&w);
  if ((st = ob_jw_status(&w)))
    ob_fail(err, st, "table of contents too large");
out:
  free(c.rows);
  ob_buf_free(&c.arena);
  return st;
}

ob_status ob_catalog_json(struct ob_catalog *c, ob_xdb *db, const char *gen,
                          struct ob_catalog_body **body, char *err)
{
  ob_buf b;
  ob_status st;
  struct ob_catalog_body *old = NULL, *nb;
  *body = NULL;
  pthread_mutex_lock(&c->mu);
  if (c->body && strcmp(c->gen, gen) == 0) {
    atomic_fetch_add(&c->body->refs, 1);
    *body = c->body;
    pthread_mutex_unlock(&c->mu);
    return OB_OK;
  }
  pthread_mutex_unlock(&c->mu);
  /* build outside the lock: other workers keep answering meanwhile */
  ob_buf_init(&b, CATALOG_JSON_MAX);
  if ((st = build(db, &b, err))) {
    ob_buf_free(&b);
    return st;
  }
  nb = ob_xmalloc(sizeof *nb);
  atomic_init(&nb->refs, 2); /* the cache's and the caller's */
  nb->data = ob_buf_detach(&b, &nb->len);
  snprintf(nb->etag, sizeof nb->etag, "%016llx-%s", ob_fnv64(nb->data, nb->len), gen);
  /* compressed once per generation: 29 ms a reply at 100k files when each
   * reply compressed it */
  if (ob_gzip_once(nb->data, nb->len, CATALOG_GZIP_LEVEL, &nb->gz, &nb->gzlen) == OB_OK) {
    nb->gz = ob_xrealloc(nb->gz, nb->gzlen); /* it had room for the worst case */
  } else {
    nb->gz = NULL;
    nb->gzlen = 0;
  }
  pthread_mutex_lock(&c->mu);
  old = c->body;
  c->body = nb;
  snprintf(c->gen, sizeof c->gen, "%s", gen);
  pthread_mutex_unlock(&c->mu);
  ob_catalog_release(old); /* replies still sending it keep theirs */
  *body = nb;
  return OB_OK;
}

ob_status ob_catalog_docs(struct ob_catalog *c, ob_xdb *db, const char *gen, size_t *docs,
                          char *err)
{
  size_t n = 0;
  ob_status st;
  pthread_mutex_lock(&c->mu);
  if (strcmp(c->count_gen, gen) == 0) {
    *docs = c->count;
    pthread_mutex_unlock(&c->mu);
    return OB_OK;
  }
  pthread_mutex_unlock(&c->mu);
  if ((st = ob_xdb_count_terms(db, OB_P_DOC, &n, err)))
    return st;
  *docs = n;
  pthread_mutex_lock(&c->mu);
  c->count = n;
  snprintf(c->count_gen, sizeof c->count_gen, "%s", gen);
  pthread_mutex_unlock(&c->mu);
  return OB_OK;
}
