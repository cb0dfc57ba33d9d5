/* xap.h - the Xapian shim: plain C over libxapian, the only C++ in Opsbook.
 *
 * No Xapian type crosses this header and no exception crosses into C:
 * every function catches Xapian::Error and ... and maps them to an
 * ob_status with the message in a caller-owned err[OB_ERR_SIZE].
 */
#ifndef OB_XAP_H
#define OB_XAP_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_xdb ob_xdb;         /* read-only database, one per thread */
typedef struct ob_xwriter ob_xwriter; /* the one writer */
typedef struct ob_xdoc ob_xdoc;       /* a document being built */
typedef struct ob_xquery ob_xquery;   /* a query being built */

/* --- documents --- */
ob_xdoc *ob_xdoc_new(void); /* caller frees with ob_xdoc_free() */
void ob_xdoc_free(ob_xdoc *d);
void ob_xdoc_add_term(ob_xdoc *d, const char *term, size_t len, unsigned wdf);
void ob_xdoc_add_boolean(ob_xdoc *d, const char *term, size_t len);
void ob_xdoc_set_value(ob_xdoc *d, unsigned slot, const char *v, size_t len);
void ob_xdoc_set_data(ob_xdoc *d, const char *data, size_t len);

/* --- writer --- */
/* Opens (creating if needed) the database at path for writing. A second
 * writer gets OB_ELOCKED. Caller closes with ob_xwriter_close(), which
 * discards anything not committed. */
ob_status ob_xwriter_open(const char *path, ob_xwriter **out, char *err) OB_WUR;
void ob_xwriter_close(ob_xwriter *w);
/* Adds d as a new document. Entries are replaced by deleting every entry
 * of their document (its XD term, ob_xwriter_delete) and adding anew. */
ob_status ob_xwriter_add(ob_xwriter *w, const ob_xdoc *d, char *err) OB_WUR;
ob_status ob_xwriter_delete(ob_xwriter *w, const char *term, char *err) OB_WUR;
ob_status ob_xwriter_set_meta(ob_xwriter *w, const char *key, const char *val,
                              char *err) OB_WUR;
/* Value of a metadata key appended to out ("" when absent). */
ob_status ob_xwriter_get_meta(ob_xwriter *w, const char *key, ob_buf *out, char *err) OB_WUR;
/* Calls fn for every metadata key starting with prefix. Return non-zero
 * from fn to stop. */
typedef int (*ob_meta_fn)(const char *key, const char *val, void *ctx);
ob_status ob_xwriter_meta_each(ob_xwriter *w, const char *prefix, ob_meta_fn fn, void *ctx,
                               char *err) OB_WUR;
ob_status ob_xwriter_commit(ob_xwriter *w, char *err) OB_WUR;
ob_status ob_xwriter_cancel(ob_xwriter *w, char *err) OB_WUR;

/* Writes a compacted copy of the n databases at srcs into the new folder
 * dst (full B-tree blocks). One source keeps its document ids; several are
 * merged in order, the documents of each following those of the one
 * before, and their metadata keys must not overlap. */
ob_status ob_xdb_compact(const char *const *srcs, size_t n, const char *dst, char *err) OB_WUR;

/* --- reader --- */
ob_status ob_xdb_open(const char *path, ob_xdb **out, char *err) OB_WUR;
void ob_xdb_close(ob_xdb *db);
/* Searches a copy of the index in memory (Xapian's InMemory backend)
 * while it has at most max_docs entries (0: never), from now on and after
 * every reopen that moves it. Same documents, ids and scores (mindex.h);
 * no Xapian matcher, block reads or inflating of data records per query.
 * The copy takes ~0.06 ms per entry to make. */
ob_status ob_xdb_preload(ob_xdb *db, unsigned long max_docs, char *err) OB_WUR;
/* An index with more entries than ob_xdb_preload's max_docs and at most
 * max_docs here (0: never) is copied into memory once per folder and
 * revision, by a thread of its own, its records deflated, and the copy is
 * shared by every handle on it (mindex.h; it is matched with pruning when
 * the search asks for it). Until the copy of a handle's revision is ready
 * (≈ 2.2–3 s per 100,000 entries), the handle searches with Xapian; after a
 * write moves the index, again until the new copy is made. An index with
 * more than max_docs entries gets, the same way, the wdf table of its
 * most common terms (wtable.h, 56 MiB at most; none past ≈ 7 M docids)
 * and every entry's length, from which an unfiltered two-stage match
 * (ob_xprune) runs its first stage and scores its second; the "copy"
 * below is that table then (ob_xdb_in_memory stays 0). */
ob_status ob_xdb_share(ob_xdb *db, unsigned long max_docs, char *err) OB_WUR;
/* Waits up to seconds for the shared copy of db's revision; 1 = ready. */
int ob_xdb_share_wait(ob_xdb *db, double seconds);
/* About what the shared copy db uses takes (0: none). */
size_t ob_xdb_shared_bytes(ob_xdb *db);
/* 0: db is not shared (its own copy, or Xapian); 1: its shared copy is
 * being made (or could not be); 2: searches run on it. */
int ob_xdb_shared_state(ob_xdb *db);
/* The folders the loader keeps anything for (a copy, a request made or
 * given up): those with a handle on them and the one asked for last; a
 * rebuild's old folder is forgotten once no handle holds its copy. */
size_t ob_xdb_shared_folders(void);
/* 1 when searches run on a copy in memory (its own or a shared one). */
int ob_xdb_in_memory(ob_xdb *db);
/* A slot the caller may fill with one malloc'ed block about document
 * docid, kept as long as the copy in memory: freed with free() when the
 * copy is made again or the handle closed. NULL when the index is not in
 * memory or has no such document. */
void **ob_xdb_doc_scratch(ob_xdb *db, unsigned docid);
/* Moves to the latest committed revision; *changed says whether it moved
 * (and refreshes the copy in memory, if any). */
ob_status ob_xdb_reopen(ob_xdb *db, int *changed, char *err) OB_WUR;
unsigned long ob_xdb_doc_count(ob_xdb *db);
unsigned long ob_xdb_revision(ob_xdb *db);
/* Number of documents indexed by term (0 on any error). */
unsigned long ob_xdb_termfreq(ob_xdb *db, const char *term);
ob_status ob_xdb_get_meta(ob_xdb *db, const char *key, ob_buf *out, char *err) OB_WUR;
/* BM25 parameters (defaults 1.2 / 0.75). */
void ob_xdb_set_bm25(ob_xdb *db, double k1, double b);

/* --- queries --- */
ob_xquery *ob_xquery_new(void); /* caller frees with ob_xquery_free() */
void ob_xquery_free(ob_xquery *q);
/* Adds one weighted clause, OR-ed with the others. n > 1 terms are
 * combined with OP_SYNONYM (they count as one term). */
void ob_xquery_add(ob_xquery *q, const char *const *terms, size_t n, double scale);
/* Boolean filter: terms of the same group are OR-ed, groups AND-ed. */
void ob_xquery_filter(ob_xquery *q, const char *term, int group);
size_t ob_xquery_size(const ob_xquery *q);

struct ob_xhit {
  unsigned docid;
  double score;
  char *data;  /* the document's data record; owned by the result */
  size_t data_len;
};

typedef struct ob_xresults {
  unsigned long total; /* estimated number of matches */
  size_t n;
  struct ob_xhit *hits;
  int pruned; /* 1 = two-stage matching ran (ob_xprune); 2 = its second stage
               * scored from the wdf table of a shared index (ob_xdb_share) */
} ob_xresults;

/* Two-stage matching for large indexes (docs/performance.md). Scoring an
 * OR of every query character walks posting lists as long as the index;
 * instead, when the index holds at least min_docs documents, stage one
 * ranks by the clauses whose terms occur in at most common x the documents
 * (the 3 rarest clauses when none is that rare; of a long query's, the
 * `clauses` rarest) and keeps its best pool documents; stage two scores
 * the full query on those documents only, with the same collection
 * statistics, so a candidate's score is exactly its
 * score in the full query. A document that matches only common terms is
 * missed, which is why the result is approximate: bench/obbench --compare
 * measures how often the top hits differ from the exact ones. */
typedef struct ob_xprune {
  unsigned long min_docs; /* 0 = always exact */
  double common;          /* fraction of the documents */
  unsigned pool;          /* stage-one candidates */
  unsigned clauses;       /* stage one's clauses at most (0 = every rare one) */
} ob_xprune;

/* A score factor for the documents whose collapse value (the value in
 * ob_xsearch_opts.collapse_slot) starts with `prefix`, applied to the best
 * `pool` hits before they are cut to offset/limit. With collapsing on, the
 * value comes with the hit and costs no lookup. */
typedef struct ob_xprior {
  const char *prefix;
  double factor;
  size_t pool;
} ob_xprior;

typedef struct ob_xsearch_opts {
  size_t offset, limit;
  unsigned collapse_slot, collapse_max; /* at most collapse_max hits per value
                                           of the slot; 0 = no collapsing */
  const ob_xprune *prune;               /* NULL = exact */
  const ob_xprior *prior;               /* NULL = none */
} ob_xsearch_opts;

/* Runs q. Only the hits returned have their data records read. Retries
 * once after reopening when the index moved under the reader. Caller
 * frees res with ob_xresults_free(). */
ob_status ob_xdb_search(ob_xdb *db, const ob_xquery *q, const ob_xsearch_opts *o,
                        ob_xresults *res, char *err) OB_WUR;
/* Every document indexed by a boolean term, in docid order (offset 0,
 * up to limit). */
ob_status ob_xdb_by_term(ob_xdb *db, const char *term, size_t limit, ob_xresults *res,
                         char *err) OB_WUR;
/* The number of distinct terms starting with prefix (e.g. one XD term per
 * document): the term list only, no record read. */
ob_status ob_xdb_count_terms(ob_xdb *db, const char *prefix, size_t *n, char *err) OB_WUR;
/* Calls each(ctx, data, len) with the data record of the first entry of
 * every term starting with prefix, in term order, up to max terms: one
 * record in memory at a time. When the index moves under the reader it
 * calls each(ctx, NULL, 0) (start over) and runs again once. */
typedef void (*ob_xrecord_fn)(void *ctx, const char *data, size_t len);
ob_status ob_xdb_first_records(ob_xdb *db, const char *prefix, size_t max, ob_xrecord_fn each,
                               void *ctx, char *err) OB_WUR;
void ob_xresults_free(ob_xresults *res);

#ifdef __cplusplus
}
#endif
#endif
