/* routes.c - one function per route: parse -> act -> render -> queue.
 *
 * Errors are queued with ob_reply_error() and the route just returns.
 * The JSON shapes are documented in docs/api.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docview.h"
#include "json.h"
#include "reply.h"
#include "search.h"
#include "srv_int.h"
#include "utf8.h"
#include "writes.h"

#define OFFSET_MAX 1000
#define FILTER_MAX_BYTES 200
#define METRICS_MAX (256u << 10)

/* ---- helpers ---- */

static double ms_since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double ms = (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
  return round(ms * 100.0) / 100.0;
}

/* A decoded query-string argument and its length (it may hold a NUL from
 * %00, which the UTF-8 checks reject); NULL when absent. */
static const char *arg(struct ob_req *rq, const char *key, size_t *n)
{
  const char *v = NULL;
  size_t len = 0;
  *n = 0;
  if (MHD_lookup_connection_value_n(rq->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &len) !=
      MHD_YES)
    return NULL;
  if (!v)
    return "";
  *n = len;
  return v;
}

/* An optional decimal argument in [lo, hi], def when absent or empty.
 * Returns 0, or -1 after replying 400. */
static int uint_arg(struct ob_req *rq, const char *key, size_t lo, size_t hi, size_t def,
                    size_t *out)
{
  size_t n, x = 0;
  const char *v = arg(rq, key, &n);
  char msg[160];
  *out = def;
  if (!v || n == 0)
    return 0;
  int ok = n <= 9;
  for (size_t i = 0; i < n && ok; i++) {
    if (v[i] < '0' || v[i] > '9')
      ok = 0;
    else
      x = x * 10 + (size_t)(v[i] - '0');
  }
  if (ok && x >= lo && x <= hi) {
    *out = x;
    return 0;
  }
  snprintf(msg, sizeof msg, "参数 %s 必须是 %zu 到 %zu 之间的整数", key, lo, hi);
  ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_param", msg);
  return -1;
}

/* type, category and tag filters. Returns 0, or -1 after replying 400. */
static int filter_args(struct ob_req *rq, ob_search_opts *o)
{
  static const char *const keys[] = {"category", "tag"};
  size_t n;
  const char *v = arg(rq, "type", &n);
  char msg[160];
  if (v && n) {
    if (strcmp(v, "sop") && strcmp(v, "phrase") && strcmp(v, "fault")) {
      ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_param",
                     "参数 type 只能是 sop、phrase 或 fault");
      return -1;
    }
    o->type = v;
  }
  for (int k = 0; k < 2; k++) {
    v = arg(rq, keys[k], &n);
    if (!v || !n)
      continue;
    if (n > FILTER_MAX_BYTES || !ob_utf8_valid(v, n)) {
      snprintf(msg, sizeof msg, "参数 %s 过长或不是有效的 UTF-8 文本", keys[k]);
      ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_param", msg);
      return -1;
    }
    if (k == 0)
      o->category = v;
    else
      o->tag = v;
  }
  return 0;
}

/* Queues the error for a failed action; the detail of server-side
 * failures goes to the log, never to the client. */
static void reply_status(struct ob_req *rq, ob_status st, const char *err)
{
  switch (st) {
  case OB_EINPUT:
  case OB_ETOOBIG:
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_query", err);
    return;
  case OB_ENOTFOUND:
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "没有找到这篇文档");
    return;
  case OB_EINDEX:
    fprintf(stderr, "opsbook-serve: %s: %s\n", rq->path, err);
    ob_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "index_unavailable",
                   "索引暂时不可用,请稍后重试");
    return;
  default:
    fprintf(stderr, "opsbook-serve: %s: %s: %s\n", rq->path, ob_strerror(st), err);
    ob_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "服务器内部错误,请稍后重试");
    return;
  }
}

/* Brings this worker's index up to date (fresh: close and open afresh).
 * Returns 0, or -1 after replying 503. */
static int refresh(struct ob_req *rq, int fresh)
{
  char err[OB_ERR_SIZE];
  if (fresh)
    ob_slot_drop(rq->slot);
  ob_status st = ob_slot_db(rq->slot, rq->srv->db, rq->srv->mem_max, rq->srv->share_max, err);
  if (st == OB_OK)
    return 0;
  reply_status(rq, OB_EINDEX, err);
  return -1;
}

/* An index error in the middle of a request most likely means a rebuild
 * deleted the folder under this reader: open afresh and try once more. */
static int retry_index(struct ob_req *rq, ob_status st, int *tries)
{
  if (st != OB_EINDEX || (*tries)++ > 0)
    return 0;
  char err[OB_ERR_SIZE];
  ob_slot_drop(rq->slot);
  return ob_slot_db(rq->slot, rq->srv->db, rq->srv->mem_max, rq->srv->share_max, err) == OB_OK;
}

static ob_status search(struct ob_req *rq, const char *q, size_t qn, const ob_search_opts *o,
                        ob_search_result *r, char *err)
{
  ob_status st;
  int tries = 0;
  do
    st = ob_search_run(rq->slot->db, rq->srv->text, q, qn, o, r, err);
  while (retry_index(rq, st, &tries));
  return st;
}

/* The reply cache key (cache.h): the route, this worker's index
 * generation and every parameter that shapes the reply, NUL-separated.
 * Returns 0, or -1 when the key does not fit (the reply is not cached). */
static int cache_key(struct ob_req *rq, ob_buf *key, const char *route, const char *q, size_t qn,
                     const ob_search_opts *o)
{
  ob_buf_init(key, OB_CACHE_KEY_MAX);
  if (!rq->srv->cache.max_n)
    return -1;
  ob_status st = OB_OK;
  if ((st = ob_buf_puts(key, route)) || (st = ob_buf_putc(key, '\0')) ||
      (st = ob_buf_puts(key, rq->slot->gen)) || (st = ob_buf_putc(key, '\0')) ||
      (st = ob_buf_append(key, q, qn)) || (st = ob_buf_putc(key, '\0')))
    return -1;
  const char *f[3] = {o ? o->type : NULL, o ? o->category : NULL, o ? o->tag : NULL};
  for (int i = 0; i < 3; i++)
    if ((st = ob_buf_puts(key, f[i] ? f[i] : "")) || (st = ob_buf_putc(key, '\0')))
      return -1;
  if (o && (st = ob_buf_printf(key, "%zu/%zu", o->limit, o->offset)))
    return -1;
  return 0;
}

/* One hit as a search result: the hit's fields plus "url" (and "phrase"
 * for /api/answer replies). */
static ob_status hit_json(ob_jw *w, const struct ob_hit *h, int with_phrase, const char *phrase)
{
  char url[OB_ID_MAX + 64];
  const char *anchor = h->section && h->anchor ? h->anchor : "";
  size_t il = strlen(h->id), al = strlen(anchor);
  if (sizeof "/api/docs/" + il + 1 + al > sizeof url)
    return OB_ETOOBIG;
  memcpy(url, "/api/docs/", sizeof "/api/docs/" - 1); /* no snprintf: 10 a request */
  memcpy(url + sizeof "/api/docs/" - 1, h->id, il);
  char *e = url + sizeof "/api/docs/" - 1 + il;
  if (al)
    *e++ = '#';
  memcpy(e, anchor, al);
  e[al] = '\0';
  ob_jw_obj(w);
  ob_search_hit_fields(w, h);
  ob_jw_kstr(w, "url", url);
  if (with_phrase)
    ob_jw_kstr(w, "phrase", phrase);
  ob_jw_obj_end(w);
  return OB_OK; /* a failure sticks in w, checked at the end */
}

/* ---- routes ---- */

/* GET /api/search?q=&type=&category=&tag=&limit=&offset= */
static void route_search(struct ob_req *rq)
{
  char err[OB_ERR_SIZE];
  ob_search_opts o;
  ob_search_result r = {0, 0, NULL, 0};
  ob_buf body, key;
  ob_jw w;
  size_t qn, limit, offset;
  int cached = -1;
  const char *q;
  struct timespec t0;
  ob_status st = OB_OK;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(&o, 0, sizeof o);
  ob_buf_init(&body, OB_SRV_REPLY_MAX);
  ob_buf_init(&key, 0);

  q = arg(rq, "q", &qn);
  if (!q)
    q = "";
  if (ob_query_check(q, qn, err) != OB_OK) {
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_query", err);
    goto out;
  }
  if (filter_args(rq, &o) || uint_arg(rq, "limit", 1, OB_LIMIT_MAX, 10, &limit) ||
      uint_arg(rq, "offset", 0, OFFSET_MAX, 0, &offset) || refresh(rq, 0))
    goto out;
  o.limit = limit;
  o.offset = offset;
  if ((cached = cache_key(rq, &key, "search", q, qn, &o)) == 0 && ob_reply_cached(rq, &key))
    goto out;
  if ((st = search(rq, q, qn, &o, &r, err))) {
    reply_status(rq, st, err);
    goto out;
  }

  /* a hit is about 600 bytes of JSON: one allocation instead of doublings */
  if ((st = ob_buf_reserve(&body, 1024 + 768 * r.n))) {
    reply_status(rq, OB_EINTERNAL, "search reply too large");
    goto out;
  }
  ob_jw_init(&w, &body);
  ob_jw_obj(&w);
  ob_jw_key(&w, "query");
  ob_jw_strn(&w, q, qn);
  ob_jw_kint(&w, "total", (int64_t)r.total);
  ob_jw_key(&w, "took_ms");
  ob_jw_num(&w, ms_since(&t0));
  ob_jw_key(&w, "results");
  ob_jw_arr(&w);
  for (size_t i = 0; i < r.n && !st; i++)
    st = hit_json(&w, &r.hits[i], 0, NULL);
  ob_jw_arr_end(&w);
  ob_jw_obj_end(&w);
  if (st || (st = ob_jw_status(&w))) {
    reply_status(rq, OB_EINTERNAL, "search reply too large");
    goto out;
  }
  ob_reply_json_cache(rq, &body, cached == 0 ? &key : NULL);
out:
  ob_search_result_free(&r);
  ob_buf_free(&body);
  ob_buf_free(&key);
}

/* GET /api/answer?q= : phrases to say, procedures to follow, past faults */
static void route_answer(struct ob_req *rq)
{
  static const struct {
    const char *key, *type;
    size_t limit;
  } parts[3] = {
      {"replies", "phrase", 5},
      {"procedures", "sop", 5},
      {"faults", "fault", 3},
  };
  char err[OB_ERR_SIZE];
  ob_search_result r[3];
  char *phrase[OB_LIMIT_MAX];
  double took;
  ob_buf body, key;
  ob_jw w;
  int cached = -1;
  size_t qn;
  const char *q;
  struct timespec t0;
  ob_status st = OB_OK;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(r, 0, sizeof r);
  memset(phrase, 0, sizeof phrase);
  ob_buf_init(&body, OB_SRV_REPLY_MAX);
  ob_buf_init(&key, 0);

  q = arg(rq, "q", &qn);
  if (!q)
    q = "";
  if (ob_query_check(q, qn, err) != OB_OK) {
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_query", err);
    goto out;
  }
  if (refresh(rq, 0))
    goto out;
  if ((cached = cache_key(rq, &key, "answer", q, qn, NULL)) == 0 && ob_reply_cached(rq, &key))
    goto out;
  for (int k = 0; k < 3; k++) {
    ob_search_opts o;
    memset(&o, 0, sizeof o);
    o.type = parts[k].type;
    o.limit = parts[k].limit;
    if ((st = search(rq, q, qn, &o, &r[k], err))) {
      reply_status(rq, st, err);
      goto out;
    }
  }

  /* the phrase text lives in the file, not in the index */
  for (size_t i = 0; i < r[0].n && i < OB_LIMIT_MAX; i++) {
    ob_doc *d = NULL;
    if (ob_docview_load(rq->slot->db, rq->srv->handbook, r[0].hits[i].id, &d, err) == OB_OK &&
        d->phrase)
      phrase[i] = ob_xstrdup(d->phrase);
    ob_doc_free(d); /* a hit without its phrase is still worth showing */
  }
  took = ms_since(&t0);

  ob_jw_init(&w, &body);
  ob_jw_obj(&w);
  ob_jw_key(&w, "query");
  ob_jw_strn(&w, q, qn);
  ob_jw_key(&w, "took_ms");
  ob_jw_num(&w, took);
  for (int k = 0; k < 3 && !st; k++) {
    ob_jw_key(&w, parts[k].key);
    ob_jw_arr(&w);
    for (size_t i = 0; i < r[k].n && !st; i++)
      st = hit_json(&w, &r[k].hits[i], k == 0, k == 0 && i < OB_LIMIT_MAX ? phrase[i] : NULL);
    ob_jw_arr_end(&w);
  }
  ob_jw_obj_end(&w);
  if (st || (st = ob_jw_status(&w))) {
    reply_status(rq, OB_EINTERNAL, "answer reply too large");
    goto out;
  }
  ob_reply_json_cache(rq, &body, cached == 0 ? &key : NULL);
out:
  for (int k = 0; k < 3; k++)
    ob_search_result_free(&r[k]);
  for (size_t i = 0; i < OB_LIMIT_MAX; i++)
    free(phrase[i]);
  ob_buf_free(&body);
  ob_buf_free(&key);
}

/* GET /api/docs/{id} */
static void route_doc(struct ob_req *rq, const char *id)
{
  char err[OB_ERR_SIZE], etag[160];
  ob_doc *d = NULL;
  ob_buf body;
  ob_jw w;
  ob_status st;
  int tries = 0;
  ob_buf_init(&body, OB_SRV_REPLY_MAX);

  if (!ob_doc_id_valid(id)) {
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "没有这篇文档:编号无效");
    goto out;
  }
  if (refresh(rq, 0))
    goto out;
  do
    st = ob_docview_load(rq->slot->db, rq->srv->handbook, id, &d, err);
  while (retry_index(rq, st, &tries));
  if (st == OB_OK) {
    ob_jw_init(&w, &body);
    st = ob_docview_json(rq->slot->db, d, &w, err);
  }
  if (st == OB_ENOTFOUND || st == OB_EINDEX) {
    reply_status(rq, st, err);
    goto out;
  }
  if (st) { /* the file changed since it was indexed (too big, broken) */
    fprintf(stderr, "opsbook-serve: %s: %s\n", rq->path, err);
    ob_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "doc_unavailable",
                   "这篇文档暂时无法读取,请稍后重试");
    goto out;
  }
  snprintf(etag, sizeof etag, "%016llx-%s", ob_fnv64(body.data, body.len), rq->slot->gen);
  ob_reply_json(rq, MHD_HTTP_OK, &body, etag);
out:
  ob_doc_free(d);
  ob_buf_free(&body);
}

/* GET /api/categories: the catalog's body itself, not a copy (11 MB at
 * 100,000 files) */
static void route_categories(struct ob_req *rq)
{
  char err[OB_ERR_SIZE];
  struct ob_catalog_body *body = NULL;
  ob_status st;
  int tries = 0;
  if (refresh(rq, 0))
    return;
  do {
    st = ob_catalog_json(&rq->srv->catalog, rq->slot->db, rq->slot->gen, &body, err);
  } while (retry_index(rq, st, &tries));
  if (st) {
    reply_status(rq, st == OB_EINDEX ? st : OB_EINTERNAL, err);
    return;
  }
  ob_reply_json_shared(rq, body->data, body->len, body->gz, body->gzlen, body->etag,
                       ob_catalog_release, body);
}

/* GET /healthz */
static void route_healthz(struct ob_req *rq)
{
  char err[OB_ERR_SIZE];
  ob_buf body;
  ob_jw w;
  size_t docs = 0;
  ob_status st;
  int tries = 0;
  ob_buf_init(&body, 4096);
  if (refresh(rq, 0))
    goto out;
  do
    st = ob_catalog_docs(&rq->srv->catalog, rq->slot->db, rq->slot->gen, &docs, err);
  while (retry_index(rq, st, &tries));
  if (st) {
    reply_status(rq, st == OB_EINDEX ? st : OB_EINTERNAL, err);
    goto out;
  }
  ob_jw_init(&w, &body);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "status", "ok");
  ob_jw_kint(&w, "docs", (int64_t)docs);
  ob_jw_kstr(&w, "generation", rq->slot->gen);
  ob_jw_obj_end(&w);
  if (ob_jw_status(&w)) {
    reply_status(rq, OB_EINTERNAL, "healthz reply too large");
    goto out;
  }
  ob_reply_json(rq, MHD_HTTP_OK, &body, NULL);
out:
  ob_buf_free(&body);
}

/* GET /metrics (Prometheus text); the index part is left out while the
 * index is unavailable, the counters never are. */
static void route_metrics(struct ob_req *rq)
{
  char err[OB_ERR_SIZE];
  ob_buf body;
  struct ob_metrics_index ix = {NULL, 0, 0, 0};
  size_t docs = 0;
  ob_buf_init(&body, METRICS_MAX);
  if (ob_slot_db(rq->slot, rq->srv->db, rq->srv->mem_max, rq->srv->share_max, err) == OB_OK &&
      ob_catalog_docs(&rq->srv->catalog, rq->slot->db, rq->slot->gen, &docs, err) == OB_OK) {
    ix.name = rq->slot->name;
    ix.revision = rq->slot->revision;
    ix.docs = docs;
    ix.entries = ob_xdb_doc_count(rq->slot->db);
  }
  struct ob_cache *c = &rq->srv->cache;
  struct ob_conns_stats cs;
  ob_conns_stats(&rq->srv->conns, &cs);
  if (ob_metrics_render(&rq->srv->metrics, &ix, &body) ||
      ob_buf_printf(&body,
                    "# HELP opsbook_reply_cache_lookups_total Reply cache lookups by result.\n"
                    "# TYPE opsbook_reply_cache_lookups_total counter\n"
                    "opsbook_reply_cache_lookups_total{result=\"hit\"} %lu\n"
                    "opsbook_reply_cache_lookups_total{result=\"miss\"} %lu\n"
                    "# HELP opsbook_slow_connections_cut_total Connections whose request did not "
                    "arrive whole in time.\n"
                    "# TYPE opsbook_slow_connections_cut_total counter\n"
                    "opsbook_slow_connections_cut_total %lu\n"
                    "# HELP opsbook_connections_open Connections open now.\n"
                    "# TYPE opsbook_connections_open gauge\n"
                    "opsbook_connections_open %u\n"
                    "# HELP opsbook_connections_refused_total Connections closed at once: over "
                    "the total or the per-address limit.\n"
                    "# TYPE opsbook_connections_refused_total counter\n"
                    "opsbook_connections_refused_total %lu\n"
                    "# HELP opsbook_worker_connections_max Open connections of the busiest "
                    "worker thread.\n"
                    "# TYPE opsbook_worker_connections_max gauge\n"
                    "opsbook_worker_connections_max %u\n"
                    "# HELP opsbook_worker_connections_min Open connections of the least busy "
                    "worker thread.\n"
                    "# TYPE opsbook_worker_connections_min gauge\n"
                    "opsbook_worker_connections_min %u\n"
                    "# HELP opsbook_index_shared_copy_bytes Memory of the copy of a larger index "
                    "shared by the workers, or past --memory-shared of its common terms' table "
                    "(0: none in use).\n"
                    "# TYPE opsbook_index_shared_copy_bytes gauge\n"
                    "opsbook_index_shared_copy_bytes %zu\n"
                    "# HELP opsbook_index_shared_copy_state 0: the index is not shared (its "
                    "own copy per worker, or the files); 1: the shared copy of this revision "
                    "is being made; 2: searches run on it.\n"
                    "# TYPE opsbook_index_shared_copy_state gauge\n"
                    "opsbook_index_shared_copy_state %d\n",
                    atomic_load(&c->hits), atomic_load(&c->misses), cs.cut, cs.open,
                    cs.refused, cs.max_load, cs.min_load,
                    ix.name ? ob_xdb_shared_bytes(rq->slot->db) : (size_t)0,
                    ix.name ? ob_xdb_shared_state(rq->slot->db) : 0)) {
    reply_status(rq, OB_EINTERNAL, "metrics too large");
    goto out;
  }
  ob_reply_text(rq, "text/plain; version=0.0.4; charset=utf-8", &body);
out:
  ob_buf_free(&body);
}

/* GET / and the files of the web folder */
static void route_static(struct ob_req *rq)
{
  const struct ob_static *f = ob_statics_find(&rq->srv->statics, rq->url);
  if (!f) {
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "找不到这个页面或文件");
    return;
  }
  ob_reply_static(rq, f);
}

/* ---- dispatch ---- */

static enum ob_route route_of(const char *u)
{
  static const struct {
    const char *path;
    enum ob_route r;
  } exact[] = {
      {"/api/search", OB_RT_SEARCH},         {"/api/answer", OB_RT_ANSWER},
      {"/api/categories", OB_RT_CATEGORIES}, {"/healthz", OB_RT_HEALTHZ},
      {"/metrics", OB_RT_METRICS},
  };
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (strcmp(u, exact[i].path) == 0)
      return exact[i].r;
  if (strcmp(u, "/api/faults") == 0)
    return OB_RT_FAULTS;
  if (strncmp(u, "/api/docs/", 10) == 0) {
    size_t n = strlen(u);
    return n > 18 && strcmp(u + n - 8, "/lessons") == 0 ? OB_RT_LESSONS : OB_RT_DOCS;
  }
  if (strncmp(u, "/api/", 5) == 0 || strcmp(u, "/api") == 0)
    return OB_RT_OTHER;
  return OB_RT_STATIC;
}

enum MHD_Result ob_route_dispatch(struct ob_req *rq)
{
  int get =
      strcmp(rq->method, MHD_HTTP_METHOD_GET) == 0 || strcmp(rq->method, MHD_HTTP_METHOD_HEAD) == 0;
  char msg[96];
  rq->slot = ob_slot_get(rq->srv->slot_key);
  rq->route = route_of(rq->url);
  /* the write routes take POST only (writes.c) */
  int writes = rq->route == OB_RT_LESSONS || rq->route == OB_RT_FAULTS;
  int post = strcmp(rq->method, MHD_HTTP_METHOD_POST) == 0;
  if (rq->too_big) {
    snprintf(msg, sizeof msg, "请求体过大:最多 %d KiB", OB_SRV_BODY_MAX / 1024);
    ob_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", msg);
  } else if (rq->raw_bad || rq->route == OB_RT_OTHER) {
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "找不到这个页面或接口");
  } else if (writes && !post) {
    rq->allow = "POST";
    ob_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                   "不支持这个请求方法:请使用 POST");
  } else if (!writes && !get) {
    rq->allow = "GET, HEAD";
    ob_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                   "不支持这个请求方法:请使用 GET");
  } else {
    switch (rq->route) {
    case OB_RT_SEARCH:
      route_search(rq);
      break;
    case OB_RT_ANSWER:
      route_answer(rq);
      break;
    case OB_RT_DOCS:
      route_doc(rq, rq->url + 10);
      break;
    case OB_RT_CATEGORIES:
      route_categories(rq);
      break;
    case OB_RT_HEALTHZ:
      route_healthz(rq);
      break;
    case OB_RT_METRICS:
      route_metrics(rq);
      break;
    case OB_RT_LESSONS:
      ob_route_lessons(rq);
      break;
    case OB_RT_FAULTS:
      ob_route_faults(rq);
      break;
    default:
      route_static(rq);
      break;
    }
  }
  return rq->queued ? MHD_YES : MHD_NO;
}
