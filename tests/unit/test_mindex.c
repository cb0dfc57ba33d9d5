/* test_mindex - the in-memory BM25 match (core/mindex.h) on indexes built
 * by hand, where every score can be worked out; test_xsearch compares it
 * with Xapian on the bundled handbook. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mindex.h"

#define K1 1.2
#define B 0.5

/* BM25Weight as Xapian computes it, for a term in freq of N documents */
static double bm25(double N, double freq, double scale, unsigned wdf, double len, double avg)
{
  double tw = (N - freq + 0.5) / (freq + 0.5);
  if (tw < 2)
    tw = tw * 0.5 + 1;
  double normlen = len / avg < 0.5 ? 0.5 : len / avg;
  return log(tw) * scale * (K1 + 1) * (wdf / (K1 * (normlen * B + (1 - B)) + wdf));
}

/* Ten documents, docids 1..10: "a" in 1-2, "b" in 1-3, "c" in 4-7, every
 * document has "x" (length 4 each) and the boolean type term; the collapse
 * value (slot 0) pairs them: k1 k1 k2 k2 ... ; documents 9 and 10 are faults.
 * Slot 1 groups them by three: g1 g1 g1 g2 g2 g2 g3 g3 g3 g4. */
static ob_mindex *ten(void)
{
  ob_mindex *m = ob_mindex_new();
  for (unsigned d = 1; d <= 10; d++) {
    char data[16], key[16];
    snprintf(data, sizeof data, "doc%u", d);
    ob_mindex_add_doc(m, d, 4, data, strlen(data));
    snprintf(key, sizeof key, "%s:k%u", d >= 9 ? "fault" : "sop", (d + 1) / 2);
    ob_mindex_add_value(m, 0, key, strlen(key));
    snprintf(key, sizeof key, "g%u", (d + 2) / 3);
    ob_mindex_add_value(m, 1, key, strlen(key));
    ob_mindex_add_term(m, d >= 9 ? "Tfault" : "Tsop", d >= 9 ? 6 : 4, 0);
    if (d <= 2)
      ob_mindex_add_term(m, "a", 1, 1);
    if (d <= 3)
      ob_mindex_add_term(m, "b", 1, 2);
    if (d >= 4 && d <= 7)
      ob_mindex_add_term(m, "c", 1, 1);
    ob_mindex_add_term(m, "x", 1, d <= 3 ? 1 : 3);
  }
  ob_mindex_seal(m);
  return m;
}

static ob_status search(const ob_mindex *m, const char *const *terms, size_t n, double scale,
                        const ob_xsearch_opts *o, ob_xresults *r)
{
  char err[OB_ERR_SIZE];
  ob_mclause c = {terms, n, scale};
  return ob_mindex_search(m, NULL, &c, n ? 1 : 0, NULL, 0, K1, B, o, r, err);
}

/* A deterministic pseudo-random stream (an LCG; the figures must not move
 * between runs). */
static unsigned long long seed = 42;
static unsigned rnd(unsigned n)
{
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((seed >> 33) % n);
}

/* A term drawn with a skewed frequency: t0 is in most documents, t399
 * in few (like characters, then bigrams, of a corpus). */
static unsigned zipf_term(void)
{
  unsigned r = rnd(1000);
  return (r * r / 1000) * 400 / 1000;
}

/* ndocs documents (docids 1, 3, 5, ...: gaps as after deletions), three
 * entries per file sharing a collapse key, one file in ten a fault, a
 * type term each; built per document or per term (both must give the
 * same index). Document 7 has a wdf past a byte. */
static ob_mindex *synthetic(size_t ndocs, int by_term)
{
  ob_mindex *m = ob_mindex_new();
  static unsigned wdf[400];
  unsigned *count = NULL;
  unsigned **tdoc = NULL, **twdf = NULL;
  if (by_term) {
    tdoc = calloc(401, sizeof *tdoc);
    twdf = calloc(401, sizeof *twdf);
    count = calloc(401, sizeof *count);
    for (int t = 0; t < 401; t++) {
      tdoc[t] = malloc(ndocs * sizeof **tdoc);
      twdf[t] = malloc(ndocs * sizeof **twdf);
    }
  }
  seed = 42;
  for (size_t d = 0; d < ndocs; d++) {
    unsigned docid = (unsigned)(2 * d + 1), len = 0, file = (unsigned)(d / 3);
    memset(wdf, 0, sizeof wdf);
    unsigned n = 5 + rnd(60);
    for (unsigned i = 0; i < n; i++)
      wdf[zipf_term()]++;
    if (d == 7)
      wdf[3] += 300;
    for (int t = 0; t < 400; t++)
      len += wdf[t];
    char key[32], term[16];
    int fault = file % 10 == 3;
    snprintf(key, sizeof key, "%s:f%u", fault ? "fault" : "sop", file);
    ob_mindex_add_doc(m, docid, len, key, strlen(key));
    ob_mindex_add_value(m, 0, key, strlen(key));
    for (int t = 0; t < 401; t++) {
      unsigned w = t < 400 ? wdf[t] : 0;
      if (t < 400 && !w)
        continue;
      if (t == 400 && !fault)
        continue; /* the type term: faults only, a filter */
      if (by_term) {
        tdoc[t][count[t]] = docid;
        twdf[t][count[t]++] = w;
      } else {
        if (t < 400)
          snprintf(term, sizeof term, "t%d", t);
        else
          snprintf(term, sizeof term, "Tfault");
        ob_mindex_add_term(m, term, strlen(term), w);
      }
    }
  }
  if (by_term) {
    for (int t = 0; t < 401; t++) {
      char term[16];
      if (t < 400)
        snprintf(term, sizeof term, "t%d", t);
      else
        snprintf(term, sizeof term, "Tfault");
      ob_mindex_add_postings(m, term, strlen(term), tdoc[t], twdf[t], count[t]);
      free(tdoc[t]);
      free(twdf[t]);
    }
    free(tdoc);
    free(twdf);
    free(count);
  }
  ob_mindex_seal(m);
  return m;
}

/* Same hits in the same order with the same scores, to rounding (the
 * pruned match adds the clauses up in another order); within a tie
 * (scores 1e-9 apart) the order may differ. */
static int same_hits(const ob_xresults *a, const ob_xresults *b)
{
  if (a->n != b->n)
    return 0;
  for (size_t k = 0; k < a->n; k++) {
    double s = a->hits[k].score;
    if (fabs(s - b->hits[k].score) > 1e-9 * (1 + fabs(s)))
      return 0;
    if (a->hits[k].docid == b->hits[k].docid)
      continue;
    int found = 0; /* a tie: the other list has it at an equal score */
    for (size_t j = 0; j < b->n; j++)
      if (b->hits[j].docid == a->hits[k].docid && fabs(b->hits[j].score - s) <= 1e-9 * (1 + s))
        found = 1;
    if (!found)
      return 0;
  }
  return 1;
}

/* The prior's list as ob_xprior defines it, from a search without it:
 * the best `pool` hits (or offset + limit when more), faults times the
 * factor, stably sorted, then the page (each synthetic document's record
 * is its collapse value). */
static ob_status prior_oracle(ob_mindex *m, const ob_mclause *c, size_t nc, const ob_mfilter *f,
                              size_t nf, const ob_xsearch_opts *o, ob_xresults *out, char *err)
{
  ob_xsearch_opts po = *o;
  po.offset = 0;
  po.limit = o->prior->pool > o->offset + o->limit ? o->prior->pool : o->offset + o->limit;
  po.prior = NULL;
  po.prune = NULL;
  ob_status st = ob_mindex_search(m, NULL, c, nc, f, nf, K1, B, &po, out, err);
  if (st)
    return st;
  size_t plen = strlen(o->prior->prefix);
  for (size_t i = 0; i < out->n; i++)
    if (out->hits[i].data_len >= plen && !memcmp(out->hits[i].data, o->prior->prefix, plen))
      out->hits[i].score *= o->prior->factor;
  for (size_t i = 1; i < out->n; i++) {
    struct ob_xhit x = out->hits[i];
    size_t j = i;
    while (j > 0 && out->hits[j - 1].score < x.score) {
      out->hits[j] = out->hits[j - 1];
      j--;
    }
    out->hits[j] = x;
  }
  size_t first = o->offset < out->n ? o->offset : out->n;
  size_t n = out->n - first < o->limit ? out->n - first : o->limit;
  for (size_t i = 0; i < first; i++)
    free(out->hits[i].data);
  for (size_t i = first + n; i < out->n; i++)
    free(out->hits[i].data);
  memmove(out->hits, out->hits + first, n * sizeof *out->hits);
  out->n = n;
  return OB_OK;
}

/* The pruned match against the exhaustive one, on random queries of
 * 2-30 clauses (some synonym groups, some scaled below 1), with
 * collapsing, the prior, a filter and pages. The exhaustive one runs
 * with a fresh workspace, the pruned one with w, reused across queries
 * and indexes (it must be left at rest after each). */
static void test_pruning(ob_mindex *m, ob_mwork *w, size_t nq, const char *what)
{
  char err[OB_ERR_SIZE];
  ob_xprune prune = {1, 0.1, 300, 0};
  ob_xprior prior = {"fault:", 0.7, 30}, steep = {"fault:", 0.3, 12};
  size_t pruned = 0, compared = 0;
  seed = 7;
  for (size_t q = 0; q < nq; q++) {
    char names[32][3][8];
    const char *ptr[32][3];
    ob_mclause c[32];
    size_t nc = 2 + rnd(29);
    for (size_t i = 0; i < nc; i++) {
      size_t nt = rnd(6) == 0 ? 2 + rnd(2) : 1;
      for (size_t k = 0; k < nt; k++) {
        snprintf(names[i][k], sizeof names[i][k], "t%u", zipf_term());
        ptr[i][k] = names[i][k];
      }
      c[i] = (ob_mclause){ptr[i], nt, rnd(3) == 0 ? 0.5 : 1.0};
    }
    const char *ft[] = {"Tfault"};
    ob_mfilter f = {ft, 1};
    /* a third of the prior's queries ask for faults, and their prior
     * lowers them more, in a smaller pool: the pool is often mostly
     * faults, some ranked below documents outside it */
    int steep_prior = q % 9 == 6;
    if (steep_prior && nc < 32)
      c[nc++] = (ob_mclause){ft, 1, 1.0 + rnd(3)};
    int filtered = q % 7 == 3;
    ob_xsearch_opts o = {q % 5 == 1 ? 10 : 0, 10, 0, q % 4 == 0 ? 0 : 2, NULL,
                         q % 3 == 0 ? (steep_prior ? &steep : &prior) : NULL};
    ob_xresults e, p;
    ob_status se = ob_mindex_search(m, NULL, c, nc, &f, filtered, K1, B, &o, &e, err);
    o.prune = &prune;
    ob_status sp = ob_mindex_search(m, w, c, nc, &f, filtered, K1, B, &o, &p, err);
    if (OK(se == OB_OK && sp == OB_OK, "%s: query %zu searched", what, q)) {
      compared++;
      pruned += p.pruned;
      OK(same_hits(&e, &p), "%s: query %zu (%zu clauses): same hits pruned (%s)", what, q, nc,
         p.pruned ? "narrowed" : "not narrowed");
      OK(!e.pruned && (!p.pruned || p.total >= p.n), "%s: query %zu: totals", what, q);
      /* pruned, the total is an estimate: within a factor of two of the
       * exact one here, with collapsing and filters (1.0-1.5x on these
       * queries; Xapian's estimate for the OR alone was up to 15x) */
      if (p.pruned)
        OK(p.total * 2 >= e.total && p.total <= e.total * 2,
           "%s: query %zu: estimated total %lu, exact %lu", what, q, (unsigned long)p.total,
           (unsigned long)e.total);
      if (!p.pruned)
        OK(p.total == e.total, "%s: query %zu: not narrowed, exact total", what, q);
      ob_xresults pr;
      if (o.prior && OK(prior_oracle(m, c, nc, &f, filtered, &o, &pr, err) == OB_OK,
                        "%s: query %zu: the prior's oracle", what, q)) {
        OK(same_hits(&pr, &e) && same_hits(&pr, &p),
           "%s: query %zu: the prior's list, exhaustive and pruned", what, q);
        ob_xresults_free(&pr);
      }
    }
    ob_xresults_free(&e);
    ob_xresults_free(&p);
  }
  printf("%s: %zu of %zu queries narrowed\n", what, pruned, compared);
  /* a check that could not fail if nothing were ever pruned */
  OK(pruned * 2 >= compared, "%s: %zu of %zu queries narrowed", what, pruned, compared);
}

int main(void)
{
  ob_mindex *m = ten();
  ob_xresults r;
  ob_xsearch_opts plain = {0, 10, 0, 0, NULL, NULL};
  EQ_INT(ob_mindex_doc_count(m), 10, "ten documents");
  EQ_INT(ob_mindex_termfreq(m, "b"), 3, "termfreq of b");
  EQ_INT(ob_mindex_termfreq(m, "nope"), 0, "termfreq of a missing term");

  /* one term: BM25 with its scale, ties in docid order */
  const char *b[] = {"b"};
  if (OK(search(m, b, 1, 0.8, &plain, &r) == OB_OK && r.n == 3 && r.total == 3, "b: 3 hits")) {
    OK(fabs(r.hits[0].score - bm25(10, 3, 0.8, 2, 4, 4)) < 1e-12, "b: score %.17g",
       r.hits[0].score);
    OK(r.hits[0].docid == 1 && r.hits[1].docid == 2 && r.hits[2].docid == 3, "ties by docid");
    OK(r.hits[2].data_len == 4 && !memcmp(r.hits[2].data, "doc3", 4), "the record comes along");
  }
  ob_xresults_free(&r);

  /* a synonym group: wdf summed, the frequency estimated as Xapian's OR
   * does (a 2 + b 3 -> 4.4 -> 4; with c 4 -> 6.4 -> 6) */
  const char *abc[] = {"a", "b", "c"};
  if (OK(search(m, abc, 3, 1, &plain, &r) == OB_OK && r.n == 7, "a b c: 7 hits")) {
    OK(fabs(r.hits[0].score - bm25(10, 6, 1, 3, 4, 4)) < 1e-12, "doc 1: wdf 1 + 2 at frequency 6");
    OK(r.hits[0].docid == 1 && r.hits[1].docid == 2 && r.hits[2].docid == 3, "then 2, 3");
  }
  ob_xresults_free(&r);

  /* two clauses add up; a term missing from the index adds nothing */
  char err[OB_ERR_SIZE];
  const char *x[] = {"x"}, *nope[] = {"nope"};
  ob_mclause two[] = {{b, 1, 1}, {x, 1, 1}, {nope, 1, 1}};
  if (OK(ob_mindex_search(m, NULL, two, 3, NULL, 0, K1, B, &plain, &r, err) == OB_OK && r.n == 10,
         "b OR x OR nope: every document")) {
    double want = bm25(10, 3, 1, 2, 4, 4) + bm25(10, 10, 1, 1, 4, 4);
    OK(fabs(r.hits[0].score - want) < 1e-12, "sum of two clauses");
    OK(r.hits[3].docid == 4 && r.hits[3].score == r.hits[9].score, "x alone: equal, docid order");
  }
  ob_xresults_free(&r);

  /* collapsing: at most one per value, the best of each; x ranks 4-10
   * (wdf 3) above 1-3 (wdf 1) */
  ob_xsearch_opts one = {0, 10, 0, 1, NULL, NULL};
  if (OK(search(m, x, 1, 1, &one, &r) == OB_OK && r.n == 5 && r.total == 5, "x collapsed: 5"))
    OK(r.hits[0].docid == 4 && r.hits[1].docid == 5 && r.hits[2].docid == 7 &&
           r.hits[3].docid == 9 && r.hits[4].docid == 1,
       "the best of each pair");
  ob_xresults_free(&r);

  /* collapsing on another slot: by three */
  ob_xsearch_opts three = {0, 10, 1, 1, NULL, NULL};
  if (OK(search(m, x, 1, 1, &three, &r) == OB_OK && r.n == 4 && r.total == 4, "x by slot 1: 4"))
    OK(r.hits[0].docid == 4 && r.hits[1].docid == 7 && r.hits[2].docid == 10 &&
           r.hits[3].docid == 1,
       "the best of each group of three");
  ob_xresults_free(&r);

  /* paging: offset 2, limit 2 of the collapsed list */
  ob_xsearch_opts page = {2, 2, 0, 1, NULL, NULL};
  if (OK(search(m, x, 1, 1, &page, &r) == OB_OK && r.n == 2 && r.total == 5, "page 2"))
    OK(r.hits[0].docid == 7 && r.hits[1].docid == 9, "documents 7 and 9");
  ob_xresults_free(&r);
  ob_xsearch_opts past = {9, 2, 0, 1, NULL, NULL};
  OK(search(m, x, 1, 1, &past, &r) == OB_OK && r.n == 0 && r.total == 5, "past the end: none");
  ob_xresults_free(&r);

  /* the prior: faults x0.5 within the pool; c's documents (4-7) and the
   * faults (9, 10) only match x, so they tie until the prior splits them */
  ob_xprior prior = {"fault:", 0.5, 30};
  ob_xsearch_opts pri = {0, 10, 0, 2, NULL, &prior};
  if (OK(search(m, x, 1, 1, &pri, &r) == OB_OK && r.n == 10, "x with the prior"))
    OK(r.hits[8].docid == 9 && r.hits[9].docid == 10 && r.hits[8].score < r.hits[7].score,
       "faults last, halved");
  ob_xresults_free(&r);

  /* filters: OR within a group, AND across groups; no clauses = browse */
  const char *sop[] = {"Tsop"}, *both[] = {"Tsop", "Tfault"}, *c[] = {"c"};
  ob_mfilter f1[] = {{both, 2}, {c, 1}};
  if (OK(ob_mindex_search(m, NULL, NULL, 0, f1, 2, K1, B, &plain, &r, err) == OB_OK && r.n == 4,
         "browse (sop or fault) and c: 4"))
    OK(r.hits[0].docid == 4 && r.hits[3].docid == 7 && r.hits[0].score == 0,
       "docid order, weight 0");
  ob_xresults_free(&r);
  ob_mfilter f2[] = {{sop, 1}};
  ob_mclause cx[] = {{x, 1, 1}};
  if (OK(ob_mindex_search(m, NULL, cx, 1, f2, 1, K1, B, &plain, &r, err) == OB_OK && r.n == 8 &&
             r.total == 8,
         "x filtered to sop: 8"))
    OK(r.hits[4].docid == 8 && r.hits[7].docid == 3, "no fault among them");
  ob_xresults_free(&r);
  OK(ob_mindex_search(m, NULL, NULL, 0, NULL, 0, K1, B, &plain, &r, err) == OB_OK && r.n == 0,
     "no clause, no filter: nothing");
  ob_xresults_free(&r);

  /* the caller's scratch per document: found by docid, freed with the
   * index (AddressSanitizer's leak check in CI sees to it) */
  void **s3 = ob_mindex_scratch(m, 3), **s10 = ob_mindex_scratch(m, 10);
  OK(s3 && s10 && s3 != s10 && !*s3, "scratch slots for documents 3 and 10, empty");
  if (s3)
    *s3 = malloc(16);
  OK(ob_mindex_scratch(m, 3) == s3 && *ob_mindex_scratch(m, 3) == *s3, "the same slot again");
  OK(!ob_mindex_scratch(m, 0) && !ob_mindex_scratch(m, 11), "no slot for an unknown docid");

  /* a workspace reused past its first-met stamp's wrap (a byte, one a
   * search): b's documents (1-3) are met by the first search, then only
   * by every 255th, when the stamp is back at the first one's; the
   * searches between meet the others only (c, and the synonym group c
   * or Tfault). A stale stamp taken for this search's would lose them. */
  {
    ob_mwork *ws = ob_mwork_new();
    const char *cf[] = {"c", "Tfault"};
    ob_mclause cb[] = {{b, 1, 1}}, cc[] = {{c, 1, 1}}, cg[] = {{cf, 2, 1}};
    ob_xresults r0;
    size_t bad = 0, again = 0;
    if (OK(ob_mindex_search(m, ws, cb, 1, NULL, 0, K1, B, &plain, &r0, err) == OB_OK &&
               r0.n == 3,
           "b with a workspace: 3 hits")) {
      for (int i = 1; i < 600; i++) {
        int isb = i % 255 == 0;
        const ob_mclause *q = isb ? cb : i % 2 ? cc : cg;
        if (ob_mindex_search(m, ws, q, 1, NULL, 0, K1, B, &plain, &r, err) != OB_OK ||
            r.n != (isb ? 3u : i % 2 ? 4u : 6u) || (isb && !same_hits(&r0, &r)))
          bad++;
        again += isb;
        ob_xresults_free(&r);
      }
      OK(bad == 0 && again == 2, "600 searches with one workspace: %zu wrong", bad);
      ob_xresults_free(&r0);
    }
    ob_mwork_free(ws);
  }

  /* a value slot that is not kept: the caller falls back to Xapian */
  ob_xsearch_opts far = {0, 10, OB_MINDEX_SLOTS, 2, NULL, NULL};
  EQ_INT(search(m, x, 1, 1, &far, &r), OB_EINPUT, "slot %d is not kept", OB_MINDEX_SLOTS);
  ob_xresults_free(&r);
  ob_mindex_free(m);

  /* an empty index */
  m = ob_mindex_new();
  ob_mindex_seal(m);
  OK(search(m, x, 1, 1, &plain, &r) == OB_OK && r.n == 0 && r.total == 0, "empty index");
  ob_xresults_free(&r);
  ob_mindex_free(m);
  ob_mindex_free(NULL);

  /* pruning is exact for the hits; one page of documents, then three
   * (indexes past 65,536), built per document and per term */
  ob_mwork *w = ob_mwork_new();
  m = synthetic(3000, 0);
  test_pruning(m, w, 400, "3000 entries");
  ob_mindex *t = synthetic(3000, 1);
  const char *t3[] = {"t3"}, *t399[] = {"t399"};
  OK(ob_mindex_termfreq(t, "t0") == ob_mindex_termfreq(m, "t0") &&
         ob_mindex_termfreq(t, "Tfault") == ob_mindex_termfreq(m, "Tfault"),
     "per term and per document: same frequencies");
  for (int k = 0; k < 2; k++) {
    ob_xresults r1, r2;
    const char **q = k ? t399 : t3;
    if (OK(search(m, q, 1, 1, &plain, &r1) == OB_OK && search(t, q, 1, 1, &plain, &r2) == OB_OK,
           "both built ways searched"))
      OK(same_hits(&r1, &r2) && r1.total == r2.total && r1.n > 0, "%s: same hits", q[0]);
    if (k == 0)
      OK(r1.n && r1.hits[0].docid == 15 && r2.hits[0].docid == 15,
         "the wdf past a byte counts (document 15, %u)", r1.n ? r1.hits[0].docid : 0);
    ob_xresults_free(&r1);
    ob_xresults_free(&r2);
  }
  ob_mindex_free(t);
  ob_mindex_free(m);
  m = synthetic(150000, 1);
  EQ_INT(ob_mindex_doc_count(m), 150000, "150,000 entries");
  test_pruning(m, w, 60, "150000 entries");
  ob_mindex_free(m);
  ob_mwork_free(w);
  return ob_t_done();
}
