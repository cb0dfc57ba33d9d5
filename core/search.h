/* search.h - queries built from our own tokens, ranked hits, snippets.
 *
 * Xapian's QueryParser ANDs CJK n-grams and ignores CJK synonyms, so the
 * query is built with the Query API: an OR of weighted clauses where
 * character n-grams dominate and friso words and synonyms add a little.
 */
#ifndef OB_SEARCH_H
#define OB_SEARCH_H

#include <stddef.h>

#include "buf.h"
#include "doc.h"
#include "status.h"
#include "text.h"
#include "xap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_QUERY_MAX_CHARS 256
#define OB_LIMIT_MAX 50

typedef struct ob_weights {
  double uni;   /* CJK unigrams */
  double bi;    /* CJK bigrams */
  double word;  /* friso words */
  double syn;   /* a word's synonym group */
  double latin; /* Latin words and numbers */
  double k1, b; /* BM25 */
  unsigned per_doc; /* hits per document kept (collapse), 0 = all */
  int stop;         /* drop query stop words */
  double fault;     /* score factor of fault write-ups in unfiltered searches */
  ob_xprune prune;  /* two-stage matching on large indexes (xap.h) */
} ob_weights;

extern const ob_weights ob_weights_default;

/* The fault prior ob_search_run() gives a search restricted to type (NULL
 * or "" = every type): fault write-ups' scores times w->fault among the
 * best hits, ranked again before the list is cut. Fills *buf and returns
 * it, or returns NULL when there is none. */
const ob_xprior *ob_search_prior(const ob_weights *w, const char *type, ob_xprior *buf);

/* Checks a raw query: not empty or blank, at most OB_QUERY_MAX_CHARS
 * characters, valid UTF-8. The message in err is user-facing Chinese. */
ob_status ob_query_check(const char *q, size_t n, char *err) OB_WUR;

/* Builds xq from the query's tokens; hl (may be NULL) receives the
 * normalised terms worth highlighting. */
ob_status ob_query_build(const ob_text *t, const char *q, size_t n, const ob_weights *w,
                         ob_xquery *xq, ob_strv *hl, char *err) OB_WUR;

/* Best window of text (about width characters) around the highlight terms,
 * HTML-escaped, matches wrapped in <mark>..</mark> over whole terms. */
ob_status ob_snippet(const ob_text *t, const char *text, size_t len, const ob_strv *hl,
                     size_t width, ob_buf *out, char *err) OB_WUR;

typedef struct ob_search_opts {
  const char *type, *category, *tag; /* filters, may be NULL */
  size_t offset, limit;
  const ob_weights *weights;         /* NULL = default */
  int want_text;                     /* keep each hit's full section text */
} ob_search_opts;

struct ob_hit {
  char *id, *type, *title, *section, *anchor, *category, *path;
  char *snippet; /* HTML */
  char *text;    /* title, section heading and text; only with want_text */
  char *slots;   /* slot names separated by '\n' */
  double score;
};

typedef struct ob_search_result {
  unsigned long total;
  size_t n;
  struct ob_hit *hits;
  int pruned; /* two-stage matching ran (ob_xprune): the list may differ from the exact one */
} ob_search_result;

ob_status ob_search_run(ob_xdb *db, const ob_text *t, const char *q, size_t qlen,
                        const ob_search_opts *o, ob_search_result *r, char *err) OB_WUR;
void ob_search_result_free(ob_search_result *r);

/* Writes one hit's fields (id, type, title, section, anchor, category,
 * path, snippet, score, slots) into the JSON object the caller opened, so
 * the caller can add its own fields before closing it. */
struct ob_jw;
void ob_search_hit_fields(struct ob_jw *w, const struct ob_hit *h);

#ifdef __cplusplus
}
#endif
#endif
