/* wtable.c - the wdf of the most common terms, by docid, in memory. */
#include "wtable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* A posting's wdf takes CODE_BITS bits, in the order of the postings; a
 * wdf of CODE_BIG or more is kept apart, in `big`. At 490,000 entries,
 * 99.4 % of the table's postings have a wdf under 7 (61 % have 1): three
 * bits instead of half a byte leave room for more terms in the same
 * bytes (docs/performance.md, session 18). */
#define CODE_BITS 3
#define CODE_BIG 7
#define CODE_BYTES(n) (((n) * CODE_BITS + 7) / 8 + 1) /* + 1: reads take 2 bytes */
/* A rank per RANK_WORDS words of the bitset: a third of the bytes of a
 * rank per word, for up to RANK_WORDS - 1 more popcounts a lookup. */
#define RANK_WORDS 4
#define NRANKS(nwords) ((nwords) / RANK_WORDS + 1)

struct bigwdf {
  uint32_t i; /* the posting's rank */
  uint32_t wdf;
};

struct ob_wterm {
  char *s;
  size_t len;
  uint64_t hash;
  size_t n;
  size_t nwords;
  uint64_t *bits;  /* bit d: the term occurs in docid d */
  uint32_t *rank;  /* set bits before word r x RANK_WORDS */
  uint8_t *code;   /* the wdf of posting i in CODE_BITS bits, CODE_BIG: in big */
  struct bigwdf *big; /* ascending by i */
  size_t nbig;
};

struct ob_wtable {
  unsigned max_docid;
  size_t nwords;
  uint32_t *len; /* by docid */
  ob_wterm **terms;
  size_t nterms, terms_cap;
  size_t *slot; /* open addressing: index + 1 into terms, 0 = empty */
  size_t nslots;
  size_t bytes;
};

ob_wtable *ob_wtable_new(unsigned max_docid)
{
  ob_wtable *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->max_docid = max_docid;
  t->nwords = (size_t)max_docid / 64 + 1;
  t->len = calloc((size_t)max_docid + 1, sizeof *t->len);
  t->nslots = 1024;
  t->slot = calloc(t->nslots, sizeof *t->slot);
  if (!t->len || !t->slot) {
    ob_wtable_free(t);
    return NULL;
  }
  t->bytes = ((size_t)max_docid + 1) * sizeof *t->len;
  return t;
}

static void term_free(ob_wterm *w)
{
  if (!w)
    return;
  free(w->s);
  free(w->bits);
  free(w->rank);
  free(w->code);
  free(w->big);
  free(w);
}

void ob_wtable_free(ob_wtable *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->nterms; i++)
    term_free(t->terms[i]);
  free(t->terms);
  free(t->slot);
  free(t->len);
  free(t);
}

size_t ob_wtable_cost(const ob_wtable *t, size_t n)
{
  return t->nwords * sizeof(uint64_t) + NRANKS(t->nwords) * sizeof(uint32_t) + CODE_BYTES(n);
}

void ob_wtable_set_length(ob_wtable *t, unsigned docid, unsigned long len)
{
  if (docid <= t->max_docid)
    t->len[docid] = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

unsigned long ob_wtable_length(const ob_wtable *t, unsigned docid)
{
  return docid <= t->max_docid ? t->len[docid] : 0;
}

const uint32_t *ob_wtable_lengths(const ob_wtable *t, unsigned *max_docid)
{
  *max_docid = t->max_docid;
  return t->len;
}

/* The slot of a term: where it is, or the empty one where it would go. */
static size_t probe(const ob_wtable *t, const char *s, size_t len, uint64_t h)
{
  size_t mask = t->nslots - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    size_t k = t->slot[i];
    if (!k)
      return i;
    const ob_wterm *w = t->terms[k - 1];
    if (w->hash == h && w->len == len && !memcmp(w->s, s, len))
      return i;
  }
}

static int grow(ob_wtable *t)
{
  size_t n = t->nslots * 2;
  size_t *slot = calloc(n, sizeof *slot);
  if (!slot)
    return -1;
  free(t->slot);
  t->slot = slot;
  t->nslots = n;
  for (size_t k = 0; k < t->nterms; k++) {
    const ob_wterm *w = t->terms[k];
    t->slot[probe(t, w->s, w->len, w->hash)] = k + 1;
  }
  return 0;
}

const ob_wterm *ob_wtable_find(const ob_wtable *t, const char *s, size_t len)
{
  size_t k = t->slot[probe(t, s, len, (uint64_t)ob_fnv64(s, len))];
  return k ? t->terms[k - 1] : NULL;
}

int ob_wtable_add(ob_wtable *t, const char *s, size_t len, const unsigned *docids,
                  const unsigned *wdf, size_t n)
{
  uint64_t h = (uint64_t)ob_fnv64(s, len);
  if (t->slot[probe(t, s, len, h)])
    return 0;
  for (size_t i = 0; i < n; i++)
    if (docids[i] > t->max_docid || (i && docids[i] <= docids[i - 1]))
      return -1;
  if ((t->nterms + 1) * 2 > t->nslots && grow(t))
    return -1;
  if (t->nterms == t->terms_cap) {
    size_t cap = t->terms_cap ? t->terms_cap * 2 : 64;
    ob_wterm **v = realloc(t->terms, cap * sizeof *v);
    if (!v)
      return -1;
    t->terms = v;
    t->terms_cap = cap;
  }
  ob_wterm *w = calloc(1, sizeof *w);
  if (!w)
    return -1;
  w->s = malloc(len + 1);
  w->bits = calloc(t->nwords, sizeof *w->bits);
  w->rank = calloc(NRANKS(t->nwords), sizeof *w->rank);
  w->code = calloc(CODE_BYTES(n), 1);
  if (!w->s || !w->bits || !w->rank || !w->code) {
    term_free(w);
    return -1;
  }
  memcpy(w->s, s, len);
  w->s[len] = '\0';
  w->len = len;
  w->hash = h;
  w->n = n;
  w->nwords = t->nwords;
  size_t nbig = 0;
  for (size_t i = 0; i < n; i++)
    nbig += wdf[i] >= CODE_BIG;
  if (nbig && !(w->big = malloc(nbig * sizeof *w->big))) {
    term_free(w);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    w->bits[docids[i] >> 6] |= (uint64_t)1 << (docids[i] & 63);
    unsigned v = wdf[i] >= CODE_BIG ? CODE_BIG : wdf[i];
    size_t bit = i * CODE_BITS;
    w->code[bit >> 3] |= (uint8_t)(v << (bit & 7));
    w->code[(bit >> 3) + 1] |= (uint8_t)(v >> (8 - (bit & 7)));
    if (v == CODE_BIG)
      w->big[w->nbig++] = (struct bigwdf){(uint32_t)i, wdf[i]};
  }
  uint32_t r = 0;
  for (size_t i = 0; i < t->nwords; i++) {
    if (i % RANK_WORDS == 0)
      w->rank[i / RANK_WORDS] = r;
    r += (uint32_t)__builtin_popcountll(w->bits[i]);
  }
  t->terms[t->nterms++] = w;
  t->slot[probe(t, s, len, h)] = t->nterms;
  t->bytes += ob_wtable_cost(t, n) + len + 1 + w->nbig * sizeof *w->big + sizeof *w;
  return 0;
}

unsigned ob_wtable_wdf(const ob_wterm *w, unsigned docid)
{
  size_t wi = docid >> 6;
  uint64_t bit = (uint64_t)1 << (docid & 63);
  if (wi >= w->nwords)
    return 0;
  uint64_t word = w->bits[wi];
  if (!(word & bit))
    return 0;
  size_t i = w->rank[wi / RANK_WORDS] + (size_t)__builtin_popcountll(word & (bit - 1));
  for (size_t k = wi - wi % RANK_WORDS; k < wi; k++)
    i += (size_t)__builtin_popcountll(w->bits[k]);
  size_t at = i * CODE_BITS;
  unsigned two = (unsigned)w->code[at >> 3] | (unsigned)w->code[(at >> 3) + 1] << 8;
  unsigned v = (two >> (at & 7)) & CODE_BIG;
  if (v < CODE_BIG)
    return v;
  size_t lo = 0, hi = w->nbig;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (w->big[mid].i < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < w->nbig && w->big[lo].i == i ? w->big[lo].wdf : CODE_BIG;
}

size_t ob_wtable_termfreq(const ob_wterm *w)
{
  return w->n;
}

size_t ob_wtable_terms(const ob_wtable *t)
{
  return t->nterms;
}

size_t ob_wtable_bytes(const ob_wtable *t)
{
  return t->bytes + t->nslots * sizeof *t->slot;
}
