/* catalog.c - the table of contents; see catalog.h. */
#define _POSIX_C_SOURCE 200809L
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "index.h"
#include "json.h"
#include "schema.h"

#define CATALOG_SCAN_MAX 1000000
#define CATALOG_JSON_MAX (16u << 20)

void ob_catalog_init(struct ob_catalog *c)
{
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
}

void ob_catalog_clear(struct ob_catalog *c)
{
  free(c->json);
  c->json = NULL;
  pthread_mutex_destroy(&c->mu);
}

struct row {
  const char *cat, *id, *type, *title; /* fields of a data record */
  size_t catn, idn, typen, titlen;
};

static int cmpn(const char *a, size_t an, const char *b, size_t bn)
{
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? c : (an > bn) - (an < bn);
}

/* by category (uncategorised last), then id */
static int cmp_row(const void *va, const void *vb)
{
  const struct row *a = va, *b = vb;
  if (!a->catn != !b->catn)
    return a->catn ? -1 : 1;
  int c = cmpn(a->cat, a->catn, b->cat, b->catn);
  return c ? c : cmpn(a->id, a->idn, b->id, b->idn);
}

static ob_status build(ob_xdb *db, ob_buf *out, size_t *docs, char *err)
{
  static const char *const types[] = {"sop", "phrase", "fault"};
  ob_xresults xr[3];
  struct row *rows = NULL;
  size_t n = 0;
  ob_status st = OB_OK;
  ob_jw w;
  memset(xr, 0, sizeof xr);
  *docs = 0;
  for (int t = 0; t < 3 && !st; t++) {
    char term[16];
    snprintf(term, sizeof term, "%s%s", OB_P_TYPE, types[t]);
    if ((st = ob_xdb_by_term(db, term, CATALOG_SCAN_MAX, &xr[t], err)))
      goto out;
    rows = ob_xrealloc(rows, (n + xr[t].n + 1) * sizeof *rows);
    for (size_t i = 0; i < xr[t].n; i++) {
      const char *f[OB_R_NFIELDS];
      size_t fl[OB_R_NFIELDS];
      ob_index_record_fields(xr[t].hits[i].data, xr[t].hits[i].data_len, f, fl);
      struct row *r = &rows[n++];
      r->cat = f[OB_R_CATEGORY], r->catn = fl[OB_R_CATEGORY];
      r->id = f[OB_R_ID], r->idn = fl[OB_R_ID];
      r->type = f[OB_R_TYPE], r->typen = fl[OB_R_TYPE];
      r->title = f[OB_R_TITLE], r->titlen = fl[OB_R_TITLE];
    }
  }
  if (n)
    qsort(rows, n, sizeof *rows, cmp_row);
  ob_jw_init(&w, out);
  ob_jw_obj(&w);
  ob_jw_key(&w, "categories");
  ob_jw_arr(&w);
  for (size_t i = 0; i < n; i++) {
    const struct row *r = &rows[i];
    int new_cat = i == 0 || cmpn(r->cat, r->catn, rows[i - 1].cat, rows[i - 1].catn) != 0;
    if (!new_cat && cmpn(r->id, r->idn, rows[i - 1].id, rows[i - 1].idn) == 0)
      continue; /* another section of the same document */
    if (new_cat) {
      if (i > 0) {
        ob_jw_arr_end(&w);
        ob_jw_obj_end(&w);
      }
      ob_jw_obj(&w);
      ob_jw_key(&w, "name");
      if (r->catn)
        ob_jw_strn(&w, r->cat, r->catn);
      else
        ob_jw_str(&w, OB_CATALOG_UNFILED);
      ob_jw_key(&w, "docs");
      ob_jw_arr(&w);
    }
    ob_jw_obj(&w);
    ob_jw_key(&w, "id");
    ob_jw_strn(&w, r->id, r->idn);
    ob_jw_key(&w, "type");
    ob_jw_strn(&w, r->type, r->typen);
    ob_jw_key(&w, "title");
    ob_jw_strn(&w, r->title, r->titlen);
    ob_jw_obj_end(&w);
    (*docs)++;
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
  for (int t = 0; t < 3; t++)
    ob_xresults_free(&xr[t]);
  free(rows);
  return st;
}

ob_status ob_catalog_get(struct ob_catalog *c, ob_xdb *db, const char *gen, ob_buf *json,
                         size_t *docs, char *err)
{
  ob_buf b;
  size_t n = 0;
  ob_status st = OB_OK;
  pthread_mutex_lock(&c->mu);
  if (c->json && strcmp(c->gen, gen) == 0) {
    if (json)
      st = ob_buf_append(json, c->json, c->len);
    *docs = c->docs;
    pthread_mutex_unlock(&c->mu);
    return st;
  }
  pthread_mutex_unlock(&c->mu);
  /* build outside the lock: other workers keep answering meanwhile */
  ob_buf_init(&b, CATALOG_JSON_MAX);
  if ((st = build(db, &b, &n, err)) || (json && (st = ob_buf_append(json, b.data, b.len)))) {
    ob_buf_free(&b);
    return st;
  }
  *docs = n;
  pthread_mutex_lock(&c->mu);
  free(c->json);
  c->len = b.len;
  c->json = ob_buf_detach(&b, NULL);
  c->docs = n;
  snprintf(c->gen, sizeof c->gen, "%s", gen);
  pthread_mutex_unlock(&c->mu);
  return OB_OK;
}
