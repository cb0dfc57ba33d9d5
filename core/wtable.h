/* wtable.h - the wdf of the most common terms, by docid, in memory.
 *
 * Above the size where a whole copy of the index is kept in memory
 * (mindex.h), a search runs Xapian's two-stage match (ob_xprune in
 * xap.h): stage one ranks by the rare clauses, stage two scores the
 * common clauses on stage one's candidates. Reading the common terms'
 * posting lists on disk for a few hundred documents decodes most of
 * each list; this table answers "the wdf of term t in document d" with a
 * bit test and a few popcounts instead. A term costs a bit per docid, a
 * rank per 256 docids and three bits per posting, so the caller chooses
 * the terms and a cap (at 490,000 entries, 56 MiB hold the 475 most
 * common of the 854 terms in a twentieth of them or more).
 *
 * Owns: every byte it holds (terms are copied). Not thread-safe to
 * build; once built it is read-only and may be read by several threads.
 */
#ifndef OB_WTABLE_H
#define OB_WTABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_wtable ob_wtable;
typedef struct ob_wterm ob_wterm;

/* A table for docids 1..max_docid. Caller frees with ob_wtable_free(). */
ob_wtable *ob_wtable_new(unsigned max_docid);
void ob_wtable_free(ob_wtable *t);

/* Adds a term with its postings (docids ascending, each at most
 * max_docid; a wdf of 0 reads back as 0, as where the term does not
 * occur). A term given twice keeps its first postings.
 * Returns 0, or -1 when a docid is out of range or not ascending (the
 * term is then not added). */
int ob_wtable_add(ob_wtable *t, const char *term, size_t len, const unsigned *docids,
                  const unsigned *wdf, size_t n);
/* What a term of n postings would add to ob_wtable_bytes(). */
size_t ob_wtable_cost(const ob_wtable *t, size_t n);
/* A document's length (Xapian's doclength), 0 until set. */
void ob_wtable_set_length(ob_wtable *t, unsigned docid, unsigned long len);
unsigned long ob_wtable_length(const ob_wtable *t, unsigned docid);
/* Every length, by docid 0..*max_docid (for loops over many docids). */
const uint32_t *ob_wtable_lengths(const ob_wtable *t, unsigned *max_docid);

/* The term, or NULL when it is not in the table. */
const ob_wterm *ob_wtable_find(const ob_wtable *t, const char *term, size_t len);
/* Its wdf in document docid (0: it does not occur there). */
unsigned ob_wtable_wdf(const ob_wterm *w, unsigned docid);
/* Its postings. */
size_t ob_wtable_termfreq(const ob_wterm *w);

size_t ob_wtable_terms(const ob_wtable *t);
size_t ob_wtable_bytes(const ob_wtable *t);

#ifdef __cplusplus
}
#endif
#endif
