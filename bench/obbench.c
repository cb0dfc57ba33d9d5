/* obbench: in-process search timing over a query list, with the split of
 * one request's time the way the server spends it.
 *
 *   obbench --db DIR --queries FILE [--n N] [--rounds R] [--limit 10]
 *           [--exact] [--compare] [--common F] [--pool N]
 *           [--clauses N]
 *
 * For every query: ob_search_run() as the server calls it (the latency
 * figures p50/p99 and queries/s), then the same work in phases, each
 * timed alone: match (ob_query_build + ob_xdb_search with the data
 * records and ob_search_prior()'s fault prior, as ob_search_run() asks;
 * until session 20 without it, ≈ 10 % less), snippet (ob_snippet per
 * hit), JSON (the hits as /api/search writes them) and gzip (the
 * server's ob_slot_gzip).
 * Prints one summary line; exits 1 when a search fails.
 *
 * --exact turns the two-stage matching of large indexes off (ob_xprune).
 * --compare runs every query both ways and prints how far the two-stage
 * top hits are from the exact ones: the share of the exact top `limit`
 * also in the two-stage top `limit`, how often the first hit is the same,
 * and the mean time of each.
 * --common, --pool and --clauses set the two-stage parameters (ob_xprune)
 * in place of the defaults, for both timing and --compare.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index.h"
#include "json.h"
#include "schema.h"
#include "slot.h"
#include "search.h"

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
  if (!n)
    return 0;
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return sorted[i < n ? i : n - 1];
}

/* gzip as /api/search does it: the server's per-thread compressor */
static size_t gzip_len(struct ob_slot *slot, const char *p, size_t n)
{
  char *gz;
  size_t len;
  if (ob_slot_gzip(slot, p, n, &gz, &len) != OB_OK)
    return 0;
  free(gz);
  return len;
}

/* The /api/search body, as server/routes.c writes it. */
static ob_status render(const char *q, const ob_search_result *r, ob_buf *body)
{
  ob_jw w;
  ob_jw_init(&w, body);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "query", q);
  ob_jw_kint(&w, "total", (int64_t)r->total);
  ob_jw_key(&w, "took_ms");
  ob_jw_num(&w, 1.0);
  ob_jw_key(&w, "results");
  ob_jw_arr(&w);
  for (size_t i = 0; i < r->n; i++) {
    char url[OB_ID_MAX + 64];
    snprintf(url, sizeof url, "/api/docs/%s#%s", r->hits[i].id,
             r->hits[i].anchor ? r->hits[i].anchor : "");
    ob_jw_obj(&w);
    ob_search_hit_fields(&w, &r->hits[i]);
    ob_jw_kstr(&w, "url", url);
    ob_jw_obj_end(&w);
  }
  ob_jw_arr_end(&w);
  ob_jw_obj_end(&w);
  return ob_jw_status(&w);
}

static int same_hit(const struct ob_hit *a, const struct ob_hit *b)
{
  return !strcmp(a->id, b->id) && !strcmp(a->anchor ? a->anchor : "", b->anchor ? b->anchor : "");
}

/* Every query exact and two-stage: how far apart the top hits are. */
static int compare_runs(ob_xdb *x, const ob_text *t, char **qs, size_t nq, size_t limit,
                        const ob_weights *prw)
{
  ob_weights ex = ob_weights_default, pr = *prw;
  ex.prune.min_docs = 0;
  double t_ex = 0, t_pr = 0, overlap = 0, tot_err = 0, tot_worst = 1;
  size_t same_first = 0, identical = 0, counted = 0;
  char err[OB_ERR_SIZE];
  for (size_t i = 0; i < nq; i++) {
    ob_search_opts o;
    memset(&o, 0, sizeof o);
    o.limit = limit;
    ob_search_result a, b;
    o.weights = &ex;
    double t0 = now_ms();
    if (ob_search_run(x, t, qs[i], strlen(qs[i]), &o, &a, err)) {
      fprintf(stderr, "obbench: %s: %s\n", qs[i], err);
      return 1;
    }
    double t1 = now_ms();
    o.weights = &pr;
    if (ob_search_run(x, t, qs[i], strlen(qs[i]), &o, &b, err)) {
      fprintf(stderr, "obbench: %s: %s\n", qs[i], err);
      ob_search_result_free(&a);
      return 1;
    }
    t_ex += t1 - t0;
    t_pr += now_ms() - t1;
    if (a.n) {
      size_t in = 0;
      for (size_t j = 0; j < a.n; j++)
        for (size_t k = 0; k < b.n; k++)
          in += same_hit(&a.hits[j], &b.hits[k]);
      overlap += (double)in / (double)a.n;
      same_first += b.n && same_hit(&a.hits[0], &b.hits[0]);
      int ident = a.n == b.n;
      for (size_t j = 0; j < a.n && ident; j++)
        ident = same_hit(&a.hits[j], &b.hits[j]);
      identical += ident;
      counted++;
      /* the estimated total against the exact one, as a factor >= 1 */
      double f = b.total > a.total ? (double)b.total / (double)a.total
                                   : (double)a.total / (double)(b.total ? b.total : 1);
      tot_err += f;
      if (f > tot_worst)
        tot_worst = f;
    }
    ob_search_result_free(&a);
    ob_search_result_free(&b);
  }
  double n = counted ? (double)counted : 1;
  printf("obbench --compare: %zu queries with hits; top-%zu overlap %.3f, same first hit "
         "%.3f, identical list %.3f; mean ms exact %.3f, two-stage %.3f; estimated total "
         "off by x%.2f on average, x%.2f at worst\n",
         counted, limit, overlap / n, same_first / n, identical / n, t_ex / (double)(nq ? nq : 1),
         t_pr / (double)(nq ? nq : 1), tot_err / n, tot_worst);
  return 0;
}

/* The timing run: latency of ob_search_run, then the phases apart. */
static int time_runs(ob_xdb *x, const ob_text *t, char **qs, size_t nq, int rounds,
                     size_t limit, const ob_weights *w, double t_text)
{
  char err[OB_ERR_SIZE];
  int rc = 0;
  size_t total = nq * (size_t)rounds, k = 0, hits = 0, with_hits = 0, json_bytes = 0,
         gz_bytes = 0, snip_bytes = 0;
  double *lat = calloc(total ? total : 1, sizeof *lat);
  double sum_match = 0, sum_snip = 0, sum_json = 0, sum_gzip = 0;
  struct ob_slot *slot = ob_xcalloc(1, sizeof *slot);
  ob_search_opts o;
  memset(&o, 0, sizeof o);
  o.limit = limit;
  o.weights = w;
  double all0 = now_ms();
  for (int r = 0; r < rounds; r++) {
    for (size_t i = 0; i < nq; i++) {
      const char *q = qs[i];
      ob_search_result res;
      double a = now_ms();
      ob_status st = ob_search_run(x, t, q, strlen(q), &o, &res, err);
      lat[k++] = now_ms() - a;
      if (st) {
        fprintf(stderr, "obbench: %s: %s\n", q, err);
        rc = 1;
        continue;
      }
      hits += res.n;
      with_hits += res.n > 0;
      for (size_t h = 0; h < res.n; h++)
        snip_bytes += strlen(res.hits[h].snippet);

      /* the phases, timed apart */
      ob_xquery *xq = ob_xquery_new();
      ob_strv hl = {NULL, 0};
      ob_xresults xr = {0, 0, NULL, 0};
      a = now_ms();
      /* the match as ob_search_run() makes it, the fault prior included */
      ob_xprior prior;
      ob_xsearch_opts xo = {0, limit, OB_V_DOC, w->per_doc, &w->prune,
                            ob_search_prior(w, NULL, &prior)};
      if (ob_query_build(t, q, strlen(q), w, xq, &hl, err) == OB_OK && ob_xquery_size(xq))
        (void)!ob_xdb_search(x, xq, &xo, &xr, err);
      sum_match += now_ms() - a;
      a = now_ms();
      ob_buf sn;
      ob_buf_init(&sn, 64 * 1024);
      for (size_t h = 0; h < xr.n; h++) {
        const char *fl[OB_R_NFIELDS];
        size_t fn[OB_R_NFIELDS];
        ob_index_record_fields(xr.hits[h].data, xr.hits[h].data_len, fl, fn);
        ob_buf_reset(&sn);
        (void)!ob_snippet(t, fl[OB_R_TEXT], fn[OB_R_TEXT], &hl, 80, &sn, err);
      }
      sum_snip += now_ms() - a;
      ob_buf_free(&sn);
      ob_xresults_free(&xr);
      ob_xquery_free(xq);
      ob_strv_clear(&hl);

      ob_buf body;
      ob_buf_init(&body, (size_t)4 << 20);
      a = now_ms();
      if (render(q, &res, &body) != OB_OK) {
        fprintf(stderr, "obbench: %s: reply too large\n", q);
        rc = 1;
      }
      sum_json += now_ms() - a;
      a = now_ms();
      gz_bytes += gzip_len(slot, body.data, body.len);
      sum_gzip += now_ms() - a;
      json_bytes += body.len;
      ob_buf_free(&body);
      ob_search_result_free(&res);
    }
  }
  double all = now_ms() - all0 - sum_match - sum_snip - sum_json - sum_gzip;
  qsort(lat, k, sizeof *lat, cmp_double);
  double n = k ? (double)k : 1;
  printf("obbench: %zu queries, p50 %.3f ms, p99 %.3f ms, %.1f q/s; "
         "mean match %.3f ms, snippet %.3f ms, json %.3f ms, gzip %.3f ms; "
         "%zu with hits, %.1f hits/query, %.0f snippet bytes/hit, %.0f json B, %.0f gzip B; "
         "text load %.0f ms\n",
         k, pct(lat, k, 50), pct(lat, k, 99), n / (all / 1e3), sum_match / n, sum_snip / n,
         sum_json / n, sum_gzip / n, with_hits / (size_t)rounds, (double)hits / n,
         hits ? (double)snip_bytes / (double)hits : 0.0, (double)json_bytes / n,
         (double)gz_bytes / n, t_text);
  free(lat);
  ob_slot_free(slot);
  return rc;
}

int main(int argc, char **argv)
{
  const char *db = NULL, *qfile = NULL, *lang = NULL;
  size_t nmax = (size_t)-1, limit = 10;
  unsigned long mem_max = 0;
  unsigned long share_max = 0;
  int rounds = 1, exact = 0, compare = 0;
  double common = 0;
  unsigned long pool = 0, clauses = 0;
  char err[OB_ERR_SIZE], path[4096], line[4096];
  for (int i = 1; i < argc; i += 2) {
    if (!strcmp(argv[i], "--exact")) {
      exact = 1;
      i--;
      continue;
    }
    if (!strcmp(argv[i], "--compare")) {
      compare = 1;
      i--;
      continue;
    }
    if (i + 1 >= argc)
      break;
    if (!strcmp(argv[i], "--db"))
      db = argv[i + 1];
    else if (!strcmp(argv[i], "--queries"))
      qfile = argv[i + 1];
    else if (!strcmp(argv[i], "--lang"))
      lang = argv[i + 1];
    else if (!strcmp(argv[i], "--n"))
      nmax = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--rounds"))
      rounds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--limit"))
      limit = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--memory"))
      mem_max = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--shared"))
      share_max = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--common"))
      common = strtod(argv[i + 1], NULL);
    else if (!strcmp(argv[i], "--pool"))
      pool = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--clauses"))
      clauses = strtoul(argv[i + 1], NULL, 10);
  }
  if (!db || !qfile || rounds < 1) {
    fprintf(stderr, "usage: obbench --db DIR --queries FILE [--n N] [--rounds R] [--limit L] "
                    "[--memory N] [--shared N] [--exact] [--compare] [--common F] [--pool N] "
                    "[--clauses N]\n");
    return 2;
  }
  ob_text *t = NULL;
  ob_xdb *x = NULL;
  double t0 = now_ms();
  if (ob_text_new(lang, &t, err)) {
    fprintf(stderr, "obbench: %s\n", err);
    return 1;
  }
  double t_text = now_ms() - t0;
  double t1 = now_ms();
  if (ob_index_resolve(db, path, sizeof path, err) || ob_xdb_open(path, &x, err) ||
      ob_xdb_preload(x, mem_max, err) || ob_xdb_share(x, share_max, err)) {
    fprintf(stderr, "obbench: %s\n", err);
    return 1;
  }
  if (share_max && ob_xdb_share_wait(x, 600))
    printf("obbench: %lu entries %s (%.1f MB) after %.0f ms\n", ob_xdb_doc_count(x),
           ob_xdb_in_memory(x) ? "shared in memory" : "searched with the common terms' table",
           (double)ob_xdb_shared_bytes(x) / 1e6, now_ms() - t1);
  else if (ob_xdb_in_memory(x))
    printf("obbench: %lu entries copied into memory in %.0f ms\n", ob_xdb_doc_count(x),
           now_ms() - t1);
  char **qs = NULL;
  size_t nq = 0;
  FILE *f = fopen(qfile, "r");
  if (!f) {
    perror(qfile);
    return 1;
  }
  while (nq < nmax && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line)
      continue;
    qs = realloc(qs, (nq + 1) * sizeof *qs);
    qs[nq++] = strdup(line);
  }
  fclose(f);
  int rc = 0;
  ob_weights wts = ob_weights_default;
  if (exact)
    wts.prune.min_docs = 0;
  if (common > 0)
    wts.prune.common = common;
  if (pool)
    wts.prune.pool = (unsigned)pool;
  if (clauses)
    wts.prune.clauses = (unsigned)clauses;
  rc = compare ? compare_runs(x, t, qs, nq, limit, &wts)
               : time_runs(x, t, qs, nq, rounds, limit, &wts, t_text);
  for (size_t i = 0; i < nq; i++)
    free(qs[i]);
  free(qs);
  ob_xdb_close(x);
  ob_text_free(t);
  return rc;
}
