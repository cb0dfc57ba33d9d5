/* test_mindex - the in-memory BM25 match (core/mindex.h) on indexes built
 * by hand, where every score can be worked out; test_xsearch compares it
 * with Xapian on the bundled handbook. */
#include <math.h>
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
 * value (slot 0) pairs them: k1 k1 k2 k2 ... ; documents 9 and 10 are faults. */
static ob_mindex *ten(void)
{
  ob_mindex *m = ob_mindex_new();
  for (unsigned d = 1; d <= 10; d++) {
    char data[16], key[16];
    snprintf(data, sizeof data, "doc%u", d);
    ob_mindex_add_doc(m, d, 4, data, strlen(data));
    snprintf(key, sizeof key, "%s:k%u", d >= 9 ? "fault" : "sop", (d + 1) / 2);
    ob_mindex_add_value(m, 0, key, strlen(key));
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
  return ob_mindex_search(m, &c, n ? 1 : 0, NULL, 0, K1, B, o, r, err);
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
  if (OK(ob_mindex_search(m, two, 3, NULL, 0, K1, B, &plain, &r, err) == OB_OK && r.n == 10,
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
  if (OK(ob_mindex_search(m, NULL, 0, f1, 2, K1, B, &plain, &r, err) == OB_OK && r.n == 4,
         "browse (sop or fault) and c: 4"))
    OK(r.hits[0].docid == 4 && r.hits[3].docid == 7 && r.hits[0].score == 0,
       "docid order, weight 0");
  ob_xresults_free(&r);
  ob_mfilter f2[] = {{sop, 1}};
  ob_mclause cx[] = {{x, 1, 1}};
  if (OK(ob_mindex_search(m, cx, 1, f2, 1, K1, B, &plain, &r, err) == OB_OK && r.n == 8 &&
             r.total == 8,
         "x filtered to sop: 8"))
    OK(r.hits[4].docid == 8 && r.hits[7].docid == 3, "no fault among them");
  ob_xresults_free(&r);
  OK(ob_mindex_search(m, NULL, 0, NULL, 0, K1, B, &plain, &r, err) == OB_OK && r.n == 0,
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
  return ob_t_done();
}
