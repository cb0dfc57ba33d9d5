/* test_xsearch.c - search over a real index (the bundled handbook):
 * two-stage matching (ob_xprune) against exact matching, the fault prior
 * read from its value slot, and the rebuild of an index written with
 * another schema version; where a multi-section document's tags go. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "index.h"
#include "schema.h"
#include "search.h"

#ifndef OB_HANDBOOK_DIR
#define OB_HANDBOOK_DIR "handbook"
#endif

static ob_text *T;
static ob_xdb *X;

static const char *const QUERIES[] = {
    "客户说宽带修了好几次还是断", "机房温度应该多少度", "光猫LOS灯红了", "第一次上门先说什么",
    "停电了怎么跟客户解释",       "UPS 电源告警",       "装机当天装不完",   "重大应急事件怎么上报",
};
#define NQ (sizeof QUERIES / sizeof QUERIES[0])

static int run(const char *q, const ob_weights *w, size_t limit, const char *type,
               ob_search_result *r)
{
  char err[OB_ERR_SIZE];
  ob_search_opts o;
  memset(&o, 0, sizeof o);
  o.limit = limit;
  o.weights = w;
  o.type = type;
  ob_status st = ob_search_run(X, T, q, strlen(q), &o, r, err);
  if (st)
    fprintf(stderr, "search %s: %s\n", q, err);
  return st == OB_OK;
}

static const struct ob_hit *find(const ob_search_result *r, const struct ob_hit *h)
{
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->hits[i].id, h->id) &&
        !strcmp(r->hits[i].anchor ? r->hits[i].anchor : "", h->anchor ? h->anchor : ""))
      return &r->hits[i];
  return NULL;
}

static int same_list(const ob_search_result *a, const ob_search_result *b)
{
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    if (find(b, &a->hits[i]) != &b->hits[i])
      return 0;
  return 1;
}

static void test_two_stage(void)
{
  ob_weights exact = ob_weights_default, wide = ob_weights_default, narrow = ob_weights_default;
  exact.prune.min_docs = 0;
  /* a pool larger than the index: stage one cannot fill it, so the full
   * query runs and the lists are the exact ones */
  wide.prune = (ob_xprune){1, 0.05, 100000, 0};
  /* a small pool: pruning really happens */
  narrow.prune = (ob_xprune){1, 0.1, 20, 0};
  size_t compared = 0, top1 = 0, pruned = 0;
  for (size_t i = 0; i < NQ; i++) {
    ob_search_result e, w, n, all;
    if (!OK(run(QUERIES[i], &exact, 10, NULL, &e), "exact %s", QUERIES[i]))
      continue;
    if (OK(run(QUERIES[i], &wide, 10, NULL, &w), "wide pool %s", QUERIES[i])) {
      OK(same_list(&e, &w), "pool larger than the index gives the exact list: %s", QUERIES[i]);
      OK(!w.pruned && !e.pruned, "no pruning with a pool larger than the index: %s", QUERIES[i]);
      ob_search_result_free(&w);
    }
    if (OK(run(QUERIES[i], &narrow, 10, NULL, &n), "two-stage %s", QUERIES[i]) &&
        OK(run(QUERIES[i], &exact, OB_LIMIT_MAX, NULL, &all), "exact, long %s", QUERIES[i])) {
      pruned += n.pruned;
      OK(n.n > 0 && n.total >= n.n, "two-stage finds hits, total %lu >= %zu: %s", n.total, n.n,
         QUERIES[i]);
      /* stage two scores with the collection's statistics: a candidate's
       * score is its score in the full query */
      for (size_t k = 0; k < n.n; k++) {
        const struct ob_hit *x = find(&all, &n.hits[k]);
        if (x) {
          compared++;
          OK(fabs(x->score - n.hits[k].score) < 1e-9 * (1 + fabs(x->score)),
             "%s: %s#%s scored %.9f two-stage, %.9f exact", QUERIES[i], n.hits[k].id,
             n.hits[k].anchor ? n.hits[k].anchor : "", n.hits[k].score, x->score);
        }
      }
      top1 += n.n && e.n && find(&e, &n.hits[0]) == &e.hits[0];
      /* scores come out ranked */
      for (size_t k = 1; k < n.n; k++)
        OK(n.hits[k - 1].score >= n.hits[k].score, "%s: ranked at %zu", QUERIES[i], k);
      ob_search_result_free(&all);
    }
    ob_search_result_free(&n);
    ob_search_result_free(&e);
  }
  OK(pruned >= NQ / 2, "two-stage matching ran for %zu of %zu queries", pruned, NQ);
  OK(compared >= NQ * 5, "scores compared: %zu", compared);
  OK(top1 >= NQ - 1, "two-stage keeps the first hit for %zu of %zu queries", top1, NQ);
}

/* The fault prior: in an unfiltered list a fault write-up's score is its
 * filtered score times ob_weights_default.fault. */
static void test_fault_prior(void)
{
  ob_search_result mixed, faults;
  const char *q = "客户说宽带修了好几次还是断";
  if (!run(q, NULL, OB_LIMIT_MAX, NULL, &mixed))
    return;
  if (run(q, NULL, OB_LIMIT_MAX, "fault", &faults)) {
    size_t seen = 0;
    for (size_t i = 0; i < mixed.n; i++) {
      if (strcmp(mixed.hits[i].type, "fault") != 0)
        continue;
      const struct ob_hit *f = find(&faults, &mixed.hits[i]);
      if (f) {
        seen++;
        OK(fabs(mixed.hits[i].score - f->score * ob_weights_default.fault) < 1e-9,
           "fault hit %s scaled by the prior", f->id);
      }
    }
    OK(seen > 0, "the mixed list holds fault write-ups (%zu)", seen);
    ob_search_result_free(&faults);
  }
  ob_search_result_free(&mixed);
}

static int rm_rf(const char *path)
{
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  return system(cmd);
}

/* Writes one metadata entry into the live index of db, as an older
 * opsbook-index or other resources would have left it. */
static int set_live_meta(const char *db, const char *key, const char *value)
{
  char err[OB_ERR_SIZE], path[4096];
  ob_xwriter *w = NULL;
  if (!OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK, "resolve: %s", err) ||
      !OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err))
    return 0;
  int ok = OK(ob_xwriter_set_meta(w, key, value, err) == OB_OK && ob_xwriter_commit(w, err) == OB_OK,
              "%s = %s written: %s", key, value, err);
  ob_xwriter_close(w);
  return ok;
}

static void test_schema_upgrade(const char *db, size_t files)
{
  char err[OB_ERR_SIZE], path[4096];
  ob_index_opts o = {.handbook = OB_HANDBOOK_DIR, .db = db};
  ob_index_report r;
  /* an unchanged folder: nothing to do */
  if (OK(ob_index_run(T, &o, &r, err) == OB_OK, "second run: %s", err))
    OK(r.added == 0 && r.updated == 0 && r.unchanged == files, "second run changes nothing");
  /* pretend the index was written by an older schema */
  if (!set_live_meta(db, OB_M_SCHEMA, "1") ||
      !OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK, "resolve: %s", err))
    return;
  char before[4096];
  snprintf(before, sizeof before, "%s", path);
  if (OK(ob_index_run(T, &o, &r, err) == OB_OK, "run on the old schema: %s", err)) {
    OK(r.added == files, "every file indexed afresh (%zu of %zu)", r.added, files);
    OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK && strcmp(path, before) != 0,
       "a new index folder replaced %s", before);
    OK(access(before, F_OK) != 0, "the old index folder is gone");
  }

  /* pretend the index was cut with other language resources */
  if (!set_live_meta(db, OB_M_LANG, "0123456789abcdef") ||
      !OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK, "resolve: %s", err))
    return;
  snprintf(before, sizeof before, "%s", path);
  /* a server's run (no lang_check) neither rebuilds nor hides the mismatch */
  if (OK(ob_index_run(T, &o, &r, err) == OB_OK, "run without lang_check: %s", err))
    OK(r.added == 0 && r.unchanged == files && ob_index_resolve(db, path, sizeof path, err) ==
                                                     OB_OK && !strcmp(path, before),
       "no rebuild without lang_check");
  ob_xdb *x = NULL;
  ob_buf v;
  ob_buf_init(&v, 256);
  if (OK(ob_xdb_open(before, &x, err) == OB_OK && ob_xdb_get_meta(x, OB_M_LANG, &v, err) == OB_OK,
         "read the stamp: %s", err))
    OK(v.len == 16 && !memcmp(v.data, "0123456789abcdef", 16), "the other stamp is kept");
  ob_xdb_close(x);
  x = NULL;
  /* opsbook-index's run rebuilds and records this text's stamp */
  o.lang_check = 1;
  if (OK(ob_index_run(T, &o, &r, err) == OB_OK, "run with lang_check: %s", err)) {
    OK(r.added == files, "every file indexed afresh with the new resources");
    OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK && strcmp(path, before) != 0,
       "a new index folder");
    ob_buf_reset(&v);
    if (OK(ob_xdb_open(path, &x, err) == OB_OK && ob_xdb_get_meta(x, OB_M_LANG, &v, err) == OB_OK,
           "read the stamp: %s", err))
      OK(v.len == 16 && !memcmp(v.data, ob_text_stamp(T), 16), "this text's stamp recorded");
    ob_xdb_close(x);
  }
  ob_buf_free(&v);
}

/* The copy in memory (ob_xdb_preload, searched by mindex.c instead of
 * Xapian's matcher) gives the same hits, in the same order, with the
 * same records and Xapian's scores (to rounding: the sum of the clauses
 * is taken in another order), with a type filter too; its total is the
 * exact number of matches after collapsing, which Xapian gives when asked
 * for every hit. And it follows a write after a reopen. */
static void test_memory_copy(const char *path)
{
  char err[OB_ERR_SIZE];
  ob_xdb *disk = X, *mem = NULL;
  if (!OK(ob_xdb_open(path, &mem, err) == OB_OK && ob_xdb_preload(mem, 100000, err) == OB_OK,
          "open and copy: %s", err))
    return;
  OK(ob_xdb_in_memory(mem) && !ob_xdb_in_memory(disk), "only the preloaded handle is in memory");
  OK(ob_xdb_doc_count(mem) == ob_xdb_doc_count(disk), "same entries (%lu)", ob_xdb_doc_count(mem));
  size_t compared = 0;
  for (size_t i = 0; i < NQ; i++) {
    for (int typed = 0; typed < 2; typed++) {
      ob_search_result d = {0}, m = {0}, every = {0};
      const char *type = typed ? "phrase" : NULL;
      X = disk;
      int okd = run(QUERIES[i], &ob_weights_default, 20, type, &d) &&
                run(QUERIES[i], &ob_weights_default, 100000, type, &every);
      X = mem;
      int okm = run(QUERIES[i], &ob_weights_default, 20, type, &m);
      if (OK(okd && okm, "both searched: %s", QUERIES[i]) &&
          OK(same_list(&d, &m), "same list: %s (type %s)", QUERIES[i], type ? type : "any")) {
        OK(m.total == every.n, "%s: exact total %lu, Xapian finds %zu", QUERIES[i],
           (unsigned long)m.total, every.n);
        for (size_t k = 0; k < d.n; k++, compared++)
          OK(fabs(d.hits[k].score - m.hits[k].score) <= 1e-12 * d.hits[k].score &&
                 !strcmp(d.hits[k].snippet, m.hits[k].snippet) &&
                 !strcmp(d.hits[k].path, m.hits[k].path),
             "%s: same score (%.17g, %.17g), snippet and record at %zu", QUERIES[i],
             d.hits[k].score, m.hits[k].score, k);
      }
      ob_search_result_free(&d);
      ob_search_result_free(&m);
      ob_search_result_free(&every);
    }
  }
  X = disk;
  OK(compared >= NQ * 20, "hits compared: %zu", compared);
  /* a reopen with nothing written keeps the copy; a write (a new entry)
   * is seen after the next reopen */
  ob_xwriter *w = NULL;
  ob_xdoc *doc = ob_xdoc_new();
  ob_xdoc_add_term(doc, "Qxsearch-memory-probe", 21, 1);
  ob_xdoc_add_term(doc, "犇", strlen("犇"), 1);
  int changed = 0;
  unsigned long before = ob_xdb_doc_count(mem);
  OK(ob_xdb_reopen(mem, &changed, err) == OB_OK && !changed, "no write, no new copy: %s", err);
  if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
    OK(ob_xwriter_add(w, doc, err) == OB_OK &&
           ob_xwriter_commit(w, err) == OB_OK,
       "write: %s", err);
    ob_xwriter_close(w);
  }
  ob_xdoc_free(doc);
  OK(ob_xdb_termfreq(mem, "犇") == 0, "the copy does not move by itself");
  OK(ob_xdb_reopen(mem, &changed, err) == OB_OK && changed, "reopen sees the write: %s", err);
  OK(ob_xdb_in_memory(mem) && ob_xdb_doc_count(mem) == before + 1 &&
         ob_xdb_termfreq(mem, "犇") == 1,
     "the copy was made again: %lu entries", ob_xdb_doc_count(mem));
  ob_xdb_close(mem);
  if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
    OK(ob_xwriter_delete(w, "Qxsearch-memory-probe", err) == OB_OK &&
           ob_xwriter_commit(w, err) == OB_OK,
       "remove the probe: %s", err);
    ob_xwriter_close(w);
  }
}

/* Hits with the same scores (to 1e-9) in the same order, each found in
 * the other list at its score: a tie may be ordered either way. */
static int same_scores(const ob_search_result *a, const ob_search_result *b)
{
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct ob_hit *h = find(b, &a->hits[i]);
    double s = a->hits[i].score;
    if (fabs(s - b->hits[i].score) > 1e-9 * (1 + s) || !h || fabs(h->score - s) > 1e-9 * (1 + s))
      return 0;
  }
  return 1;
}

/* The number of hits of term in db (ob_xdb_search, no collapsing). */
static size_t hits_of(ob_xdb *db, const char *term)
{
  char err[OB_ERR_SIZE];
  ob_xquery *q = ob_xquery_new();
  ob_xquery_add(q, &term, 1, 1.0);
  ob_xsearch_opts o = {0, 10, 0, 0, NULL, NULL};
  ob_xresults r;
  size_t n = ob_xdb_search(db, q, &o, &r, err) == OB_OK ? r.n : (size_t)-1;
  ob_xresults_free(&r);
  ob_xquery_free(q);
  return n;
}

/* The shared copy (ob_xdb_share: made by the loader thread, without
 * records, one for every handle on the folder): the same lists, scores,
 * snippets and records as Xapian; pruned (every index counts as large
 * here), the same hits and scores as the exact match; after a write, the
 * handle searches Xapian until the copy of the new revision is made, and
 * then that copy. */
static void test_shared_copy(const char *path)
{
  char err[OB_ERR_SIZE];
  ob_xdb *disk = X, *a = NULL, *b = NULL;
  if (!OK(ob_xdb_open(path, &a, err) == OB_OK && ob_xdb_open(path, &b, err) == OB_OK &&
              ob_xdb_share(a, 100000, err) == OB_OK && ob_xdb_share(b, 100000, err) == OB_OK,
          "open two handles and share: %s", err))
    goto out;
  OK(ob_xdb_share_wait(a, 60) && ob_xdb_share_wait(b, 60), "the shared copy is made");
  OK(ob_xdb_shared_bytes(a) > 100000 && ob_xdb_shared_bytes(a) == ob_xdb_shared_bytes(b),
     "one copy for both handles (%zu bytes)", ob_xdb_shared_bytes(a));
  ob_weights exact = ob_weights_default, pruned = ob_weights_default;
  exact.prune.min_docs = 0;
  pruned.prune.min_docs = 1;
  size_t compared = 0, narrowed = 0;
  for (size_t i = 0; i < NQ; i++) {
    for (int typed = 0; typed < 2; typed++) {
      ob_search_result d = {0}, m = {0}, every = {0}, pd = {0}, pm = {0};
      const char *type = typed ? "phrase" : NULL;
      X = disk;
      int okd = run(QUERIES[i], &exact, 20, type, &d) &&
                run(QUERIES[i], &exact, 100000, type, &every) &&
                run(QUERIES[i], &exact, 10, type, &pd);
      X = a;
      int okm = run(QUERIES[i], &exact, 20, type, &m) && run(QUERIES[i], &pruned, 10, type, &pm);
      if (OK(okd && okm, "both searched: %s", QUERIES[i]) &&
          OK(same_list(&d, &m), "shared copy, same list: %s (type %s)", QUERIES[i],
             type ? type : "any")) {
        OK(m.total == every.n, "%s: exact total %lu, Xapian finds %zu", QUERIES[i],
           (unsigned long)m.total, every.n);
        for (size_t k = 0; k < d.n; k++, compared++)
          OK(fabs(d.hits[k].score - m.hits[k].score) <= 1e-12 * d.hits[k].score &&
                 !strcmp(d.hits[k].snippet, m.hits[k].snippet) &&
                 !strcmp(d.hits[k].path, m.hits[k].path) &&
                 !strcmp(d.hits[k].title, m.hits[k].title),
             "%s: same score, snippet and record at %zu", QUERIES[i], k);
        narrowed += pm.pruned;
        OK(same_scores(&pd, &pm), "%s: pruned, the exact hits and scores", QUERIES[i]);
      }
      ob_search_result_free(&d);
      ob_search_result_free(&m);
      ob_search_result_free(&every);
      ob_search_result_free(&pd);
      ob_search_result_free(&pm);
    }
  }
  X = disk;
  OK(compared >= NQ * 20, "hits compared: %zu", compared);
  OK(narrowed * 2 >= NQ * 2, "most pruned searches narrowed: %zu of %zu", narrowed, NQ * 2);

  /* a write: found at once (Xapian), then by the new copy */
  ob_xwriter *w = NULL;
  ob_xdoc *doc = ob_xdoc_new();
  ob_xdoc_add_term(doc, "Qxsearch-shared-probe", 21, 1);
  ob_xdoc_add_term(doc, "犇", strlen("犇"), 1);
  int changed = 0;
  if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
    OK(ob_xwriter_add(w, doc, err) == OB_OK && ob_xwriter_commit(w, err) == OB_OK, "write: %s",
       err);
    ob_xwriter_close(w);
  }
  OK(hits_of(a, "犇") == 0, "before the reopen, the old revision");
  OK(ob_xdb_reopen(a, &changed, err) == OB_OK && changed, "reopen: %s", err);
  OK(hits_of(a, "犇") == 1, "after the reopen, found at once");
  OK(ob_xdb_share_wait(a, 60) && ob_xdb_in_memory(a), "the new copy is made");
  OK(hits_of(a, "犇") == 1, "and it has the new entry");
  if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
    OK(ob_xwriter_delete(w, "Qxsearch-shared-probe", err) == OB_OK &&
           ob_xwriter_commit(w, err) == OB_OK,
       "remove the probe: %s", err);
    ob_xwriter_close(w);
  }
  ob_xdoc_free(doc);
out:
  ob_xdb_close(a);
  ob_xdb_close(b);
}

/* Two-character words are their bigrams (schema.h): no W term for them;
 * longer friso words keep theirs. */
static void test_word_terms(void)
{
  OK(ob_xdb_termfreq(X, "宽带") > 0, "bigram 宽带 indexed");
  OK(ob_xdb_termfreq(X, "W宽带") == 0, "no W term for the two-character word 宽带");
  OK(ob_xdb_termfreq(X, "W机顶盒") > 0, "W term for the three-character word 机顶盒");
}

/* A tag of a multi-section document goes to the sections that name it;
 * a tag that every section names, or none does, goes to all of them. */
static void test_local_tags(void)
{
  char err[OB_ERR_SIZE], hb[] = "/tmp/ob-tags-XXXXXX", db[4200], file[4200], path[4200];
  ob_index_report r;
  ob_xdb *x = NULL;
  if (!OK(mkdtemp(hb) != NULL, "mkdtemp"))
    return;
  snprintf(file, sizeof file, "%s/t.md", hb);
  snprintf(db, sizeof db, "%s/db", hb);
  FILE *f = fopen(file, "w");
  if (!OK(f != NULL, "write %s", file))
    goto out;
  fputs("---\nid: t\ntitle: 甲乙\ntags: [月度简报, 共用条目, 外面标签]\n---\n"
        "## 一\n\n每月提交月度简报。共用条目。\n\n"
        "## 二\n\n年终总结。共用条目。\n\n"
        "## 三\n\n其他内容。共用条目。\n",
        f);
  fclose(f);
  ob_index_opts o = {.handbook = hb, .db = db};
  if (!OK(ob_index_run(T, &o, &r, err) == OB_OK && r.added == 1, "index: %s", err) ||
      !OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK && ob_xdb_open(path, &x, err) == OB_OK,
          "open: %s", err))
    goto out;
  OK(ob_xdb_termfreq(x, "简报") == 1, "tag named by one section: on that section only (%lu)",
     ob_xdb_termfreq(x, "简报"));
  OK(ob_xdb_termfreq(x, "条目") == 3, "tag named by every section: on all (%lu)",
     ob_xdb_termfreq(x, "条目"));
  OK(ob_xdb_termfreq(x, "标签") == 3, "tag named by no section: on all (%lu)",
     ob_xdb_termfreq(x, "标签"));
  OK(ob_xdb_termfreq(x, "K月度简报") == 3, "the tag filter still covers every section");
  ob_xdb_close(x);
out:
  rm_rf(hb);
}

/* The flush threshold is set for Xapian unless the environment sets it. */
static void test_process_init(void)
{
  const char *v;
  unsetenv("XAPIAN_FLUSH_THRESHOLD");
  ob_index_process_init();
  v = getenv("XAPIAN_FLUSH_THRESHOLD");
  OK(v && strcmp(v, OB_FLUSH_ENTRIES) == 0, "flush threshold set (%s)", v ? v : "unset");
  setenv("XAPIAN_FLUSH_THRESHOLD", "777", 1);
  ob_index_process_init();
  v = getenv("XAPIAN_FLUSH_THRESHOLD");
  OK(v && strcmp(v, "777") == 0, "the environment's own value is kept (%s)", v ? v : "unset");
  setenv("XAPIAN_FLUSH_THRESHOLD", OB_FLUSH_ENTRIES, 1);
}

/* The documents' terms: counted from the term list, and one record each
 * (the first entry's), one at a time. */
struct firsts {
  size_t n, restarts;
  char ids[1024][64];
};

static void first_record(void *ctx, const char *data, size_t len)
{
  struct firsts *fs = ctx;
  if (!data) {
    fs->restarts++;
    fs->n = 0;
    return;
  }
  const char *f[OB_R_NFIELDS];
  size_t fl[OB_R_NFIELDS];
  ob_index_record_fields(data, len, f, fl);
  if (fs->n < 1024)
    snprintf(fs->ids[fs->n], sizeof fs->ids[0], "%.*s", (int)fl[OB_R_ID], f[OB_R_ID]);
  fs->n++;
}

static void test_document_terms(size_t files)
{
  char err[OB_ERR_SIZE];
  size_t n = 0;
  static struct firsts fs;
  OK(ob_xdb_count_terms(X, OB_P_DOC, &n, err) == OB_OK && n == files,
     "one document term per file: %zu of %zu", n, files);
  OK(ob_xdb_count_terms(X, "XDno-such-document", &n, err) == OB_OK && n == 0,
     "no term with that prefix");
  memset(&fs, 0, sizeof fs);
  if (OK(ob_xdb_first_records(X, OB_P_DOC, 1000000, first_record, &fs, err) == OB_OK,
         "first records: %s", err)) {
    OK(fs.n == files && fs.restarts == 0, "a record per document: %zu", fs.n);
    int ordered = 1;
    for (size_t i = 1; i < fs.n && i < 1024; i++)
      ordered &= strcmp(fs.ids[i - 1], fs.ids[i]) < 0;
    OK(ordered, "in term order, each document once");
  }
  memset(&fs, 0, sizeof fs);
  OK(ob_xdb_first_records(X, OB_P_DOC, 5, first_record, &fs, err) == OB_OK && fs.n == 5,
     "at most max: %zu", fs.n);
}

/* A rebuild writes a new folder; once no handle holds the old folder's
 * copy, the loader forgets it (nothing kept per folder ever used). */
static void test_loader_forgets(void)
{
  char err[OB_ERR_SIZE], db[] = "/tmp/ob-xsearch2-XXXXXX", path[4096];
  ob_index_report r;
  ob_xdb *h = NULL;
  if (!OK(mkdtemp(db) != NULL, "second db folder"))
    return;
  ob_index_opts o = {.handbook = OB_HANDBOOK_DIR, .db = db};
  for (int round = 0; round < 3; round++) {
    o.rebuild = round > 0;
    if (!OK(ob_index_run(T, &o, &r, err) == OB_OK && ob_index_resolve(db, path, sizeof path, err) == OB_OK &&
                ob_xdb_open(path, &h, err) == OB_OK && ob_xdb_share(h, 100000, err) == OB_OK,
            "index, open and share (round %d): %s", round, err))
      break;
    OK(ob_xdb_share_wait(h, 60), "round %d: the copy is made", round);
    OK(ob_xdb_shared_folders() == 1, "round %d: the loader keeps one folder, has %zu", round,
       ob_xdb_shared_folders());
    ob_xdb_close(h);
    h = NULL;
  }
  ob_xdb_close(h);
  rm_rf(db);
}

/* The best hit of 犇 OR 的 in db (prune NULL: exact), its score and docid;
 * *pruned as ob_xresults says. -1 when the search fails or finds nothing. */
static double probe_score(ob_xdb *db, const ob_xprune *prune, unsigned *docid, int *pruned)
{
  char err[OB_ERR_SIZE];
  const char *rare = "犇", *common = "的";
  ob_xquery *q = ob_xquery_new();
  ob_xquery_add(q, &rare, 1, 1.0);
  ob_xquery_add(q, &common, 1, 1.0);
  ob_xsearch_opts o = {0, 10, 0, 0, prune, NULL};
  ob_xresults r;
  double s = -1;
  if (ob_xdb_search(db, q, &o, &r, err) == OB_OK && r.n) {
    s = r.hits[0].score;
    *docid = r.hits[0].docid;
    *pruned = r.pruned;
  }
  ob_xresults_free(&r);
  ob_xquery_free(q);
  return s;
}

/* The same query through ob_xdb_search on db and on ref with options o:
 * 1 when both give the same hits and scores (within 1e-9), n > 0. */
static int same_xsearch(ob_xdb *db, ob_xdb *ref, const ob_xsearch_opts *o, int *pruned)
{
  static const char *const terms[] = {"宽", "带", "宽带", "断", "网", "的", "客户", "故障"};
  char err[OB_ERR_SIZE];
  ob_xquery *q = ob_xquery_new();
  for (size_t i = 0; i < sizeof terms / sizeof *terms; i++)
    ob_xquery_add(q, &terms[i], 1, 1.0);
  ob_xresults a = {0, 0, NULL, 0}, b = {0, 0, NULL, 0};
  int same = ob_xdb_search(db, q, o, &a, err) == OB_OK &&
             ob_xdb_search(ref, q, o, &b, err) == OB_OK && a.n == b.n && a.n > 0 &&
             a.total == b.total;
  for (size_t i = 0; same && i < a.n; i++)
    same = a.hits[i].docid == b.hits[i].docid &&
           fabs(a.hits[i].score - b.hits[i].score) < 1e-9 * (1 + fabs(b.hits[i].score));
  *pruned = a.pruned;
  ob_xresults_free(&a);
  ob_xresults_free(&b);
  ob_xquery_free(q);
  return same;
}

/* Past the size of a whole shared copy (ob_xdb_share's max_docs below the
 * index's entries) the loader makes the wdf table of the common terms,
 * and the two-stage match scores its second stage from it: the same hits,
 * scores and totals as the second stage run by Xapian, and the exact
 * scores. A low `common` puts terms outside the table into the common
 * clauses (read from their posting lists). */
static void test_table(const char *path)
{
  char err[OB_ERR_SIZE];
  ob_xdb *disk = X, *a = NULL;
  if (!OK(ob_xdb_open(path, &a, err) == OB_OK && ob_xdb_share(a, 1, err) == OB_OK,
          "open and share with a table: %s", err))
    goto out;
  OK(ob_xdb_share_wait(a, 60), "the table is made");
  OK(!ob_xdb_in_memory(a) && ob_xdb_shared_state(a) == 2 && ob_xdb_shared_bytes(a) > 1000,
     "a table, not a copy: in memory %d, state %d, %zu bytes", ob_xdb_in_memory(a),
     ob_xdb_shared_state(a), ob_xdb_shared_bytes(a));
  const ob_xprune settings[] = {{1, 0.1, 20, 0}, {1, 0.02, 20, 0}, {1, 0.3, 60, 0},
                                {1, 0.1, 5, 0},  {1, 0.3, 5, 3},   {1, 1, 5, 4}};
  ob_weights exact = ob_weights_default;
  exact.prune.min_docs = 0;
  size_t tabled = 0, narrowed = 0, runs = 0, compared = 0;
  for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
    ob_weights w = ob_weights_default;
    w.prune = settings[s];
    for (size_t i = 0; i < NQ; i++) {
      for (int typed = 0; typed < 2; typed++) {
        ob_search_result d = {0}, t = {0}, all = {0};
        const char *type = typed ? "phrase" : NULL;
        X = disk;
        int ok = run(QUERIES[i], &w, 10, type, &d) &&
                 run(QUERIES[i], &exact, OB_LIMIT_MAX, type, &all);
        X = a;
        ok = ok && run(QUERIES[i], &w, 10, type, &t);
        if (OK(ok, "searched: %s", QUERIES[i])) {
          runs++;
          if (d.pruned) {
            narrowed++;
            tabled += t.pruned == 2;
            OK(t.pruned == 2, "%s (setting %zu): scored from the table", QUERIES[i], s);
          }
          OK(same_scores(&d, &t), "%s (setting %zu, type %s): the hits and scores of Xapian's "
                                  "second stage", QUERIES[i], s, type ? type : "any");
          OK(d.total == t.total, "%s: total %lu, Xapian's second stage %lu", QUERIES[i],
             (unsigned long)t.total, (unsigned long)d.total);
          /* the estimate (from the term frequencies without a filter,
           * Xapian's with one): at least the hits, and not far above an
           * exact count (under 50 matches): ×5.4 at worst here, where
           * Xapian's rounded estimate was ×6.5 */
          OK(t.total >= t.n && (all.n == OB_LIMIT_MAX || t.total <= 6 * all.total),
             "%s: total %lu, exact %lu", QUERIES[i], (unsigned long)t.total,
             (unsigned long)all.total);
          for (size_t k = 0; k < t.n; k++) {
            const struct ob_hit *x = find(&all, &t.hits[k]);
            if (x) { /* (the exact list is cut at OB_LIMIT_MAX) */
              compared++;
              OK(fabs(x->score - t.hits[k].score) < 1e-9 * (1 + fabs(x->score)),
                 "%s: %s scored %.12f from the table, %.12f exact", QUERIES[i], t.hits[k].id,
                 t.hits[k].score, x->score);
            }
          }
          for (size_t k = 1; k < t.n; k++)
            OK(t.hits[k - 1].score >= t.hits[k].score, "%s: ranked at %zu", QUERIES[i], k);
        }
        ob_search_result_free(&d);
        ob_search_result_free(&t);
        ob_search_result_free(&all);
      }
    }
  }
  X = disk;
  /* ranked from the table's collapse values (slot 0), without collapsing,
   * and by Xapian when the table has no values of the slot asked for
   * (slot 3): each as Xapian's second stage ranks them */
  {
    const ob_xprune p = {1, 0.1, 20, 0};
    const ob_xprior prior = {"fault:", 0.5, 30};
    const ob_xsearch_opts opts[] = {{0, 10, 0, 2, &p, NULL},
                                    {2, 10, 0, 1, &p, NULL},
                                    {0, 10, 0, 2, &p, &prior},
                                    {0, 10, 0, 0, &p, NULL},
                                    {0, 10, 3, 2, &p, NULL}};
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
      int pruned = 0;
      OK(same_xsearch(a, disk, &opts[k], &pruned) && pruned == 2,
         "options %zu: the hits of Xapian's second stage from the table (pruned %d)", k, pruned);
    }
  }
  OK(tabled == narrowed && narrowed * 3 >= runs,
     "scored from the table: %zu of the %zu two-stage searches of %zu", tabled, narrowed, runs);
  OK(compared >= runs * 5, "hits compared with the exact scores: %zu", compared);

  /* a write: two new entries alike, the only ones with 犇, and 的 (a
   * common term, scored in stage two) three times. Until the table of the
   * new revision is made stage two runs in Xapian, then from that table;
   * either way the entries' score is their exact one, and of the two
   * (equal scores) the first added ranks first, as in Xapian */
  {
    const ob_xprune one = {1, 0.01, 1, 0}, two = {1, 0.01, 2, 0};
    ob_xwriter *w = NULL;
    ob_xdoc *doc = ob_xdoc_new();
    ob_xdoc_add_term(doc, "Qxsearch-table-probe", 20, 1);
    ob_xdoc_add_term(doc, "犇", strlen("犇"), 1);
    ob_xdoc_add_term(doc, "的", strlen("的"), 3);
    int changed = 0, p1 = 0, p2 = 0, p3 = 0, pe = 0;
    unsigned d1 = 0, d2 = 0, d3 = 0, de = 0;
    if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
      OK(ob_xwriter_add(w, doc, err) == OB_OK && ob_xwriter_add(w, doc, err) == OB_OK &&
             ob_xwriter_commit(w, err) == OB_OK,
         "write: %s", err);
      ob_xwriter_close(w);
    }
    ob_xdoc_free(doc);
    OK(ob_xdb_reopen(a, &changed, err) == OB_OK && changed, "reopen: %s", err);
    double s1 = probe_score(a, &one, &d1, &p1);
    OK(ob_xdb_share_wait(a, 60) && ob_xdb_shared_state(a) == 2, "the new revision's table");
    double s2 = probe_score(a, &one, &d2, &p2);
    double s3 = probe_score(a, &two, &d3, &p3);
    double se = probe_score(a, NULL, &de, &pe);
    OK(p1 >= 1 && p2 == 2 && p3 == 2 && pe == 0,
       "two-stage before (%d) and after (%d, %d) the table", p1, p2, p3);
    OK(d1 == de && d2 == de && d3 == de && se > 0, "the first new entry first: %u, %u, %u, %u",
       d1, d2, d3, de);
    OK(fabs(s3 - se) < 1e-9 * (1 + se), "a tie ranked from the table: %.12f, %.12f exact", s3,
       se);
    OK(fabs(s1 - se) < 1e-9 * (1 + se) && fabs(s2 - se) < 1e-9 * (1 + se),
       "its score %.12f before the table, %.12f after, %.12f exact", s1, s2, se);
    if (OK(ob_xwriter_open(path, &w, err) == OB_OK, "writer: %s", err)) {
      OK(ob_xwriter_delete(w, "Qxsearch-table-probe", err) == OB_OK &&
             ob_xwriter_commit(w, err) == OB_OK,
         "remove the probe: %s", err);
      ob_xwriter_close(w);
    }
  }
out:
  X = disk;
  ob_xdb_close(a);
}

int main(void)
{
  char err[OB_ERR_SIZE], db[] = "/tmp/ob-xsearch-XXXXXX", path[4096];
  ob_index_report r;
  test_process_init();
  if (!OK(ob_text_new(NULL, &T, err) == OB_OK, "text: %s", err) || !mkdtemp(db))
    return ob_t_done();
  ob_index_opts o = {.handbook = OB_HANDBOOK_DIR, .db = db};
  if (OK(ob_index_run(T, &o, &r, err) == OB_OK, "index the handbook: %s", err) &&
      OK(r.added > 50 && r.rejected == 0, "handbook indexed (%zu files)", r.added) &&
      OK(ob_index_resolve(db, path, sizeof path, err) == OB_OK && ob_xdb_open(path, &X, err) == OB_OK,
         "open: %s", err)) {
    test_two_stage();
    test_fault_prior();
    test_word_terms();
    test_local_tags();
    test_memory_copy(path);
    test_shared_copy(path);
    test_table(path);
    test_loader_forgets();
    test_document_terms(r.added);
    ob_xdb_close(X);
    test_schema_upgrade(db, r.added);
  }
  ob_text_free(T);
  rm_rf(db);
  return ob_t_done();
}
