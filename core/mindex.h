/* mindex.h - a BM25 match over an index held in plain arrays.
 *
 * The shim (xap.cc) copies an index into an ob_mindex and searches the
 * copy instead of running Xapian's matcher. A small index (the bundled
 * handbook: a few hundred entries) is copied by each worker when it opens
 * it, with its records: there the matcher's fixed cost per query term
 * (postlist trees, statistics, weight objects) was half of a request. A
 * larger one is copied once, without its records, by a thread of its own,
 * and shared (xap.cc): there the copy is matched with pruning (MaxScore,
 * term at a time), where Xapian 1.4's OR matcher reads every posting of
 * every query term. The scores are Xapian's: BM25Weight with k2 = 0,
 * k3 = 1 and a minimum normalised length of 0.5, a synonym clause
 * weighted as one term (wdf summed, term frequency estimated the way
 * Xapian 1.4 estimates an OR), clauses summed, ties in docid order,
 * collapsing and the prior as in ob_xdb_search. tests/unit/test_xsearch.c
 * compares both on every query it has.
 *
 * Owns: every byte it holds (terms, postings, values, data records); the
 * caller's strings are copied. Not thread-safe to build; a sealed index is
 * read-only and may be searched by several threads at once. The scratch
 * slots (ob_mindex_scratch) are the caller's to guard: xap.cc uses them
 * only on a worker's own copy.
 */
#ifndef OB_MINDEX_H
#define OB_MINDEX_H

#include <stddef.h>

#include "status.h"
#include "xap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_MINDEX_SLOTS 4 /* value slots kept (0..3); collapsing on others falls back */

typedef struct ob_mindex ob_mindex;

ob_mindex *ob_mindex_new(void); /* caller frees with ob_mindex_free() */
void ob_mindex_free(ob_mindex *m);

/* Building: documents in ascending docid order, each followed by its
 * values and terms; then ob_mindex_seal() once. data NULL: the record is
 * not kept (hits then come back with data NULL). Instead of a document's
 * terms, ob_mindex_add_postings() may give a term's postings once every
 * document is added (docids ascending; docids not added are skipped);
 * one call per term, not mixed with ob_mindex_add_term(). */
void ob_mindex_add_doc(ob_mindex *m, unsigned docid, unsigned long doclen, const char *data,
                       size_t data_len);
void ob_mindex_add_value(ob_mindex *m, unsigned slot, const char *v, size_t len);
void ob_mindex_add_term(ob_mindex *m, const char *term, size_t len, unsigned wdf);
void ob_mindex_add_postings(ob_mindex *m, const char *term, size_t len, const unsigned *docids,
                            const unsigned *wdf, size_t n);
void ob_mindex_seal(ob_mindex *m);

size_t ob_mindex_doc_count(const ob_mindex *m);
size_t ob_mindex_bytes(const ob_mindex *m); /* postings, documents, records (about) */
/* The caller's slot for document docid (NULL if there is none): one
 * malloc'ed block or NULL, freed with free() by ob_mindex_free(). */
void **ob_mindex_scratch(ob_mindex *m, unsigned docid);
unsigned long ob_mindex_termfreq(const ob_mindex *m, const char *term);

/* One weighted clause: n > 1 terms form a synonym group. */
typedef struct ob_mclause {
  const char *const *terms;
  size_t n;
  double scale;
} ob_mclause;

/* Filters: the terms of one group are OR-ed, groups AND-ed. */
typedef struct ob_mfilter {
  const char *const *terms;
  size_t n;
} ob_mfilter;

/* Xapian 1.4's BM25 for one clause, as the match above uses it: the
 * term weight times (k1 + 1) of a clause whose terms occur in freq of N
 * documents (BM25Weight::init(), k3 = 1, wqf 1), and Xapian's estimate of
 * the term frequency of an OR of terms (a synonym group; tf[0..n) is
 * overwritten). xap.cc scores stage two of its two-stage match with them. */
double ob_mindex_clause_weight(double N, double freq, double scale, double k1);
double ob_mindex_or_estimate(double *tf, size_t n, double N);

/* A search's room per document (a few MB for 100,000 entries), kept
 * between searches by one thread; any index may be searched with it. */
typedef struct ob_mwork ob_mwork;
ob_mwork *ob_mwork_new(void); /* caller frees with ob_mwork_free() */
void ob_mwork_free(ob_mwork *w);

/* Runs the OR of the clauses, filtered, with BM25 (k1, b), as
 * ob_xdb_search does. With o->prune and at least o->prune->min_docs
 * documents, the match is pruned (MaxScore): the hits and their scores
 * are those of the exhaustive match, but res->total is then an estimate
 * (the entries the clauses run in full matched, OR-ed with Xapian's
 * estimate for the others, scaled by the filters and by the share that
 * collapsing keeps) and res->pruned is 1; otherwise res->total is the
 * exact number of matches after collapsing. w may be NULL (one is made
 * for the call). Returns OB_EINPUT when
 * o->collapse_slot is not kept (the caller then searches with Xapian).
 * Caller frees res with ob_xresults_free(). */
ob_status ob_mindex_search(const ob_mindex *m, ob_mwork *w, const ob_mclause *c, size_t nc,
                           const ob_mfilter *f, size_t nf, double k1, double b,
                           const ob_xsearch_opts *o, ob_xresults *res, char *err) OB_WUR;

#ifdef __cplusplus
}
#endif
#endif
