/* mindex.c - an exact BM25 match over a small index held in plain arrays. */
#include "mindex.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Postings are stored by page of 65,536 documents: the low 16 bits of
 * the document's index (its place in the document arrays, not its docid),
 * and the wdf in a byte; wdf >= 255 is kept apart in `big`. Three bytes a
 * posting (a 20k-file corpus: 23 M postings, 70 MB). A term in at least
 * 1/DENSE of the entries also has a bit per entry and a rank per 64 of
 * them (at most half a byte more per posting; 9 MB at 20k files): once a
 * match is narrowed to its candidates, looking one up in the longest
 * lists costs a popcount instead of a search. */
#define PAGE_BITS 16
#define WDF_BIG 255
#define DENSE 8
/* A dense term's lookup counts bits: without -mpopcnt (the x86-64
 * baseline Debian builds for) __builtin_popcountll is a call into libgcc
 * on the lookup's critical path; a clone for CPUs with POPCNT, picked at
 * load time, makes it one instruction. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__POPCNT__)
#define OB_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define OB_POPCNT_CLONES
#endif
/* hits scored in full for a floor before narrowing (sample_floor()) */
#define SAMPLE 40
/* how far ahead per-document slots are fetched: a clause's postings read
 * scores, lengths and keys in doc order but sparsely, and the passes over
 * the hits read scores in the order the hits were first met */
#define PREFETCH 16
/* once narrowed, a clause with at most SCAN_RATIO postings a candidate
 * reads its postings against the candidates' bits (scan_clause()) instead
 * of looking each candidate up (add_clause()) */
#ifndef SCAN_RATIO
#define SCAN_RATIO 8
#endif

struct bigwdf {
  uint32_t i; /* the posting */
  uint32_t wdf;
};

struct term {
  char *s;
  size_t len;
  uint64_t hash;
  size_t n;       /* postings; in the values table, the key id */
  uint16_t *lo;   /* index & 0xffff, ascending within a page */
  uint8_t *wdf;   /* WDF_BIG: look it up in big */
  uint32_t *page; /* postings of page g: [page[g], page[g + 1]); NULL = one page */
  struct bigwdf *big;
  size_t nbig;
  unsigned wmax;       /* the largest wdf */
  unsigned long lmin;  /* the shortest document's length */
  /* a term in at least 1/DENSE of the entries: a bit per entry, and the
   * postings before each word of bits, so a lookup costs no search */
  uint64_t *bits;
  uint32_t *rank;
  /* while building with ob_mindex_add_term (until ob_mindex_seal) */
  uint32_t *bdoc;
  unsigned *bwdf;
  size_t cap;
};

struct mdoc {
  unsigned docid;
  unsigned long len;
  char *data; /* NULL when not kept */
  size_t data_len;
  int key[OB_MINDEX_SLOTS]; /* interned value per slot; -1 = none */
  void *scratch;            /* the caller's (ob_mindex_scratch) */
};

/* A hash table of strings, open addressing, power-of-two size: the terms,
 * and the values interned as keys (a term's postings unused there). */
struct table {
  struct term *v;
  size_t n, cap;
};

struct ob_mindex {
  struct mdoc *docs;
  size_t ndocs, docs_cap;
  struct table terms;
  struct table values; /* value -> key id, kept in the entry's n */
  char **keys;         /* keys[id]: the interned values */
  size_t nkeys, keys_cap;
  unsigned long long total_len;
  double len_factor; /* 1 / average length, 0 for an empty index */
  double *normlen;   /* per document: length / average, at least 0.5 */
  double *dlen;      /* per document: its length */
  int *dkey;         /* slot-major: dkey[slot * ndocs + d] = docs[d].key[slot]
                        (a match reads keys of tens of thousands of entries:
                        a dense array keeps them in cache) */
  size_t npages;     /* pages of documents (at least 1 once sealed) */
  uint32_t *ix_of;   /* docid -> index + 1 while building by term; 0 = none */
  size_t ix_cap;
  size_t bytes; /* what the postings and arrays take */
  int sealed;
  unsigned long long serial; /* unique per sealed index (a workspace's kd) */
};

static struct term *find(const struct table *tb, const char *s, size_t n, uint64_t h)
{
  if (!tb->cap)
    return NULL;
  for (size_t i = h & (tb->cap - 1);; i = (i + 1) & (tb->cap - 1)) {
    struct term *t = &tb->v[i];
    if (!t->s)
      return t;
    if (t->hash == h && t->len == n && memcmp(t->s, s, n) == 0)
      return t;
  }
}

/* The slot of s, added (empty postings) if it is new. */
static struct term *intern(struct table *tb, const char *s, size_t n)
{
  if ((tb->n + 1) * 2 > tb->cap) {
    struct table old = *tb;
    tb->cap = old.cap ? old.cap * 2 : 1024;
    tb->v = ob_xcalloc(tb->cap, sizeof *tb->v);
    for (size_t i = 0; i < old.cap; i++)
      if (old.v[i].s)
        *find(tb, old.v[i].s, old.v[i].len, old.v[i].hash) = old.v[i];
    free(old.v);
  }
  uint64_t h = (uint64_t)ob_fnv64(s, n);
  struct term *t = find(tb, s, n, h);
  if (!t->s) {
    t->s = ob_xstrndup(s, n);
    t->len = n;
    t->hash = h;
    tb->n++;
  }
  return t;
}

static void table_free(struct table *tb)
{
  for (size_t i = 0; i < tb->cap; i++) {
    struct term *t = &tb->v[i];
    free(t->s);
    free(t->lo);
    free(t->wdf);
    free(t->page);
    free(t->big);
    free(t->bits);
    free(t->rank);
    free(t->bdoc);
    free(t->bwdf);
  }
  free(tb->v);
}

ob_mindex *ob_mindex_new(void)
{
  return ob_xcalloc(1, sizeof(ob_mindex));
}

void ob_mindex_free(ob_mindex *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->ndocs; i++) {
    free(m->docs[i].data);
    free(m->docs[i].scratch);
  }
  table_free(&m->terms);
  table_free(&m->values); /* frees the keys' strings */
  free(m->docs);
  free(m->keys);
  free(m->normlen);
  free(m->dlen);
  free(m->dkey);
  free(m->ix_of);
  free(m);
}

void ob_mindex_add_doc(ob_mindex *m, unsigned docid, unsigned long doclen, const char *data,
                       size_t data_len)
{
  if (m->ndocs == m->docs_cap) {
    m->docs_cap = m->docs_cap ? m->docs_cap * 2 : 256;
    m->docs = ob_xrealloc(m->docs, m->docs_cap * sizeof *m->docs);
  }
  struct mdoc *d = &m->docs[m->ndocs++];
  d->docid = docid;
  d->len = doclen;
  d->data = data ? ob_xstrndup(data, data_len) : NULL;
  d->data_len = data ? data_len : 0;
  d->scratch = NULL;
  for (int i = 0; i < OB_MINDEX_SLOTS; i++)
    d->key[i] = -1;
  m->total_len += doclen;
  m->bytes += sizeof *d + d->data_len;
}

void ob_mindex_add_value(ob_mindex *m, unsigned slot, const char *v, size_t len)
{
  if (!m->ndocs || slot >= OB_MINDEX_SLOTS || len == 0)
    return; /* Xapian does not collapse documents without a value either */
  size_t known = m->values.n;
  struct term *t = intern(&m->values, v, len);
  if (m->values.n > known) { /* new: its id is the next key */
    if (m->nkeys == m->keys_cap) {
      m->keys_cap = m->keys_cap ? m->keys_cap * 2 : 64;
      m->keys = ob_xrealloc(m->keys, m->keys_cap * sizeof *m->keys);
    }
    t->n = m->nkeys;
    m->keys[m->nkeys++] = t->s; /* owned by the table */
  }
  m->docs[m->ndocs - 1].key[slot] = (int)t->n;
}

void ob_mindex_add_term(ob_mindex *m, const char *s, size_t n, unsigned wdf)
{
  if (!m->ndocs)
    return;
  struct term *t = intern(&m->terms, s, n);
  if (t->lo) /* stored by ob_mindex_add_postings already */
    return;
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 4;
    t->bdoc = ob_xrealloc(t->bdoc, t->cap * sizeof *t->bdoc);
    t->bwdf = ob_xrealloc(t->bwdf, t->cap * sizeof *t->bwdf);
  }
  t->bdoc[t->n] = (uint32_t)(m->ndocs - 1);
  t->bwdf[t->n] = wdf;
  t->n++;
}

/* Stores n postings (document indexes ascending) in pages. */
static void store(ob_mindex *m, struct term *t, const uint32_t *ix, const unsigned *wdf, size_t n)
{
  t->n = n;
  t->lo = ob_xmalloc((n ? n : 1) * sizeof *t->lo);
  t->wdf = ob_xmalloc(n ? n : 1);
  if (m->npages > 1)
    t->page = ob_xcalloc(m->npages + 1, sizeof *t->page);
  size_t g = 0;
  t->wmax = 0;
  t->lmin = (unsigned long)-1;
  for (size_t i = 0; i < n; i++) {
    while (t->page && (ix[i] >> PAGE_BITS) > g)
      t->page[++g] = (uint32_t)i;
    if (wdf[i] > t->wmax)
      t->wmax = wdf[i];
    if (m->docs[ix[i]].len < t->lmin)
      t->lmin = m->docs[ix[i]].len;
    t->lo[i] = (uint16_t)(ix[i] & 0xffff);
    if (wdf[i] >= WDF_BIG) {
      t->wdf[i] = WDF_BIG;
      t->big = ob_xrealloc(t->big, (t->nbig + 1) * sizeof *t->big);
      t->big[t->nbig++] = (struct bigwdf){(uint32_t)i, wdf[i]};
    } else {
      t->wdf[i] = (uint8_t)wdf[i];
    }
  }
  while (t->page && g < m->npages)
    t->page[++g] = (uint32_t)n;
  m->bytes += n * 3 + t->nbig * sizeof *t->big + (t->page ? (m->npages + 1) * 4 : 0) +
              sizeof *t + t->len + 1;
}

static void set_pages(ob_mindex *m)
{
  m->npages = m->ndocs ? ((m->ndocs - 1) >> PAGE_BITS) + 1 : 1;
}

void ob_mindex_add_postings(ob_mindex *m, const char *s, size_t len, const unsigned *docids,
                            const unsigned *wdf, size_t n)
{
  if (!m->ndocs || !n)
    return;
  struct term *t = intern(&m->terms, s, len);
  if (t->lo || t->n)
    return; /* one call per term */
  if (!m->ix_of) {
    /* docid -> index + 1; docids are ascending, so the last is the largest */
    m->ix_cap = (size_t)m->docs[m->ndocs - 1].docid + 1;
    m->ix_of = ob_xcalloc(m->ix_cap, sizeof *m->ix_of);
    for (size_t i = 0; i < m->ndocs; i++)
      m->ix_of[m->docs[i].docid] = (uint32_t)i + 1;
    set_pages(m);
  }
  uint32_t *ix = ob_xmalloc(n * sizeof *ix);
  unsigned *w = ob_xmalloc(n * sizeof *w);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) /* documents not added are left out */
    if (docids[i] < m->ix_cap && m->ix_of[docids[i]]) {
      ix[k] = m->ix_of[docids[i]] - 1;
      w[k++] = wdf[i];
    }
  store(m, t, ix, w, k);
  free(ix);
  free(w);
}

/* The postings of page g: [*a, *e). */
static inline void page_range(const struct term *t, size_t g, size_t *a, size_t *e)
{
  if (t->page) {
    *a = t->page[g];
    *e = t->page[g + 1];
  } else {
    *a = 0;
    *e = g == 0 ? t->n : 0;
  }
}

/* The wdf of posting i (a byte, or the exact value when it is large). */
static inline unsigned wdf_at(const struct term *t, size_t i)
{
  unsigned w = t->wdf[i];
  if (w != WDF_BIG)
    return w;
  size_t lo = 0, hi = t->nbig;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->big[mid].i < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < t->nbig && t->big[lo].i == i ? t->big[lo].wdf : w;
}

void ob_mindex_seal(ob_mindex *m)
{
  if (m->sealed)
    return;
  m->sealed = 1;
  if (!m->ix_of)
    set_pages(m);
  free(m->ix_of);
  m->ix_of = NULL;
  for (size_t i = 0; i < m->terms.cap; i++) {
    struct term *t = &m->terms.v[i];
    if (!t->s || t->lo)
      continue;
    store(m, t, t->bdoc, t->bwdf, t->n);
    free(t->bdoc);
    free(t->bwdf);
    t->bdoc = NULL;
    t->bwdf = NULL;
  }
  /* Weight::Internal::get_average_length(), and BM25Weight's normalised
   * length with its minimum of 0.5 */
  double avg = m->ndocs ? (double)m->total_len / (double)m->ndocs : 0;
  m->len_factor = avg != 0 ? 1 / avg : 0;
  m->normlen = ob_xmalloc((m->ndocs ? m->ndocs : 1) * sizeof *m->normlen);
  m->dlen = ob_xmalloc((m->ndocs ? m->ndocs : 1) * sizeof *m->dlen);
  for (size_t d = 0; d < m->ndocs; d++) {
    m->dlen[d] = (double)m->docs[d].len;
    double normlen = (double)m->docs[d].len * m->len_factor;
    m->normlen[d] = normlen < 0.5 ? 0.5 : normlen;
  }
  m->dkey = ob_xmalloc((m->ndocs ? m->ndocs : 1) * OB_MINDEX_SLOTS * sizeof *m->dkey);
  for (size_t s = 0; s < OB_MINDEX_SLOTS; s++)
    for (size_t d = 0; d < m->ndocs; d++)
      m->dkey[s * m->ndocs + d] = m->docs[d].key[s];
  m->bytes +=
      m->ndocs * (sizeof *m->normlen + sizeof *m->dlen + OB_MINDEX_SLOTS * sizeof *m->dkey) +
      m->terms.cap * sizeof *m->terms.v;
  size_t nw = (m->ndocs + 63) / 64;
  for (size_t i = 0; i < m->terms.cap; i++) {
    struct term *t = &m->terms.v[i];
    if (!t->s || !t->lo || !m->ndocs || t->n * DENSE < m->ndocs)
      continue;
    t->bits = ob_xcalloc(nw, sizeof *t->bits);
    t->rank = ob_xmalloc(nw * sizeof *t->rank);
    for (size_t g = 0; g < m->npages; g++) {
      size_t a, e;
      page_range(t, g, &a, &e);
      for (size_t j = a; j < e; j++) {
        size_t d = (g << PAGE_BITS) | t->lo[j];
        t->bits[d >> 6] |= (uint64_t)1 << (d & 63);
      }
    }
    uint32_t r = 0;
    for (size_t w = 0; w < nw; w++) {
      t->rank[w] = r;
      r += (uint32_t)__builtin_popcountll(t->bits[w]);
    }
    m->bytes += nw * (sizeof *t->bits + sizeof *t->rank);
  }
  static atomic_ullong serials;
  m->serial = atomic_fetch_add(&serials, 1) + 1;
}

size_t ob_mindex_doc_count(const ob_mindex *m)
{
  return m->ndocs;
}

size_t ob_mindex_bytes(const ob_mindex *m)
{
  return m->bytes;
}

void **ob_mindex_scratch(ob_mindex *m, unsigned docid)
{
  size_t lo = 0, hi = m->ndocs; /* documents are in docid order */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->docs[mid].docid < docid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m->ndocs && m->docs[lo].docid == docid ? &m->docs[lo].scratch : NULL;
}

static const struct term *lookup(const ob_mindex *m, const char *s)
{
  size_t n = strlen(s);
  const struct term *t = find(&m->terms, s, n, (uint64_t)ob_fnv64(s, n));
  return t && t->s ? t : NULL;
}

unsigned long ob_mindex_termfreq(const ob_mindex *m, const char *s)
{
  const struct term *t = lookup(m, s);
  return t ? (unsigned long)t->n : 0;
}

/* Xapian 1.4's estimate of the term frequency of an OR of terms (the
 * statistics of a synonym group): OrContext pairs the two smallest
 * estimates first, like a Huffman tree, and each OrPostList estimates
 * l + r - l r / N, rounded. */
double ob_mindex_or_estimate(double *tf, size_t n, double N)
{
  while (n > 1) {
    size_t a = 0, b = 1; /* the two smallest */
    if (tf[b] < tf[a]) {
      a = 1;
      b = 0;
    }
    for (size_t i = 2; i < n; i++) {
      if (tf[i] < tf[a]) {
        b = a;
        a = i;
      } else if (tf[i] < tf[b]) {
        b = i;
      }
    }
    double l = tf[a], r = tf[b];
    double e = N == 0 ? 0 : (double)(uint32_t)(l + r - (l * r / N) + 0.5);
    size_t lo = a < b ? a : b, hi = a < b ? b : a;
    tf[lo] = e;
    tf[hi] = tf[n - 1];
    n--;
  }
  return n ? tf[0] : 0;
}

double ob_mindex_clause_weight(double N, double freq, double scale, double k1)
{
  double tw = (N - freq + 0.5) / (freq + 0.5);
  if (tw < 2)
    tw = tw * 0.5 + 1;
  double termweight = log(tw) * scale;
  termweight *= (1.0 + 1) * 1.0 / (1.0 + 1.0);
  return termweight * (k1 + 1);
}

struct ranked {
  double w;
  uint32_t doc;
};

/* Rank order: weight descending, then docid ascending (doc order is
 * docid order), as Xapian sorts by relevance. */
static int before(const struct ranked *a, const struct ranked *b)
{
  return a->w > b->w || (a->w == b->w && a->doc < b->doc);
}

static void sift_down(struct ranked *h, size_t n, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, best = i;
    if (l < n && before(&h[l], &h[best]))
      best = l;
    if (l + 1 < n && before(&h[l + 1], &h[best]))
      best = l + 1;
    if (best == i)
      return;
    struct ranked t = h[i];
    h[i] = h[best];
    h[best] = t;
    i = best;
  }
}

/* What a search needs per document and per key, kept between searches
 * (allocating a few MB per query cost more than the match: page faults
 * and, across threads, TLB shootdowns). At rest score, wdf, cbits, groups
 * and seen are zero and keybest is -HUGE_VAL. hit and mark hold stamps
 * instead (hit_stamp: this search's; mark_stamp: the last synonym
 * group's), so that what a search touched needs no clearing: clearing
 * them was a tenth of a search at 20k files (random stores). */
struct ob_mwork {
  size_t cap, kcap; /* documents, keys */
  double *score, *tmp, *keybest;
  double *kd; /* k1 * (normlen * b + (1 - b)) of index kd_serial, for kd_k1 and kd_b */
  unsigned long long kd_serial;
  double kd_k1, kd_b;
  unsigned *wdf, *mark, *groups, *keys, *seen;
  uint32_t *hits, *cand, *touched, *above;
  uint64_t *cbits; /* a bit per document */
  double *full;    /* sample_floor(): its documents' full scores */
  /* per key: the prior's factor (kf_prefix, kf_factor) over index kf_serial */
  double *kfac;
  unsigned long long kf_serial;
  double kf_factor;
  char kf_prefix[64];
  unsigned char *hit, *pass;
  unsigned char hit_stamp;
  unsigned mark_stamp;
  struct ranked *rk;
};

ob_mwork *ob_mwork_new(void)
{
  return ob_xcalloc(1, sizeof(ob_mwork));
}

static void work_free_docs(ob_mwork *w)
{
  free(w->kd);
  w->kd = NULL;
  w->kd_serial = 0;
  free(w->score);
  free(w->tmp);
  free(w->wdf);
  free(w->mark);
  free(w->groups);
  free(w->hits);
  free(w->cand);
  free(w->touched);
  free(w->above);
  free(w->cbits);
  free(w->full);
  free(w->hit);
  free(w->pass);
  free(w->rk);
}

void ob_mwork_free(ob_mwork *w)
{
  if (!w)
    return;
  work_free_docs(w);
  free(w->keybest);
  free(w->keys);
  free(w->seen);
  free(w->kfac);
  free(w);
}

/* Room for n documents and k keys. */
static void work_fit(ob_mwork *w, size_t n, size_t k)
{
  n = n ? n : 1;
  k = k ? k : 1;
  if (w->cap < n) {
    work_free_docs(w);
    w->score = ob_xcalloc(n, sizeof *w->score);
    w->kd = ob_xmalloc(n * sizeof *w->kd);
    w->tmp = ob_xmalloc(n * sizeof *w->tmp);
    w->wdf = ob_xcalloc(n, sizeof *w->wdf);
    w->mark = ob_xcalloc(n, sizeof *w->mark);
    w->groups = ob_xcalloc(n, sizeof *w->groups);
    w->hits = ob_xmalloc(n * sizeof *w->hits);
    w->cand = ob_xmalloc(n * sizeof *w->cand);
    w->touched = ob_xmalloc(n * sizeof *w->touched);
    w->above = ob_xmalloc(n * sizeof *w->above);
    w->cbits = ob_xcalloc(n / 64 + 1, sizeof *w->cbits);
    w->full = ob_xmalloc(n * sizeof *w->full);
    w->hit = ob_xcalloc(n, 1);
    w->pass = ob_xmalloc(n);
    w->rk = ob_xmalloc(n * sizeof *w->rk);
    w->cap = n;
  }
  if (w->kcap < k) {
    free(w->keybest);
    free(w->keys);
    free(w->seen);
    free(w->kfac);
    w->kfac = ob_xmalloc(k * sizeof *w->kfac);
    w->kf_serial = 0;
    w->keybest = ob_xmalloc(k * sizeof *w->keybest);
    for (size_t i = 0; i < k; i++)
      w->keybest[i] = -HUGE_VAL;
    w->keys = ob_xmalloc(k * sizeof *w->keys);
    w->seen = ob_xcalloc(k, sizeof *w->seen);
    w->kcap = k;
  }
}

/* Marks the documents that pass every filter group in w->pass. */
static void filter_pass(const ob_mindex *m, const ob_mfilter *f, size_t nf, ob_mwork *w)
{
  unsigned *groups = w->groups;
  for (size_t g = 0; g < nf; g++) {
    for (size_t k = 0; k < f[g].n; k++) {
      const struct term *t = lookup(m, f[g].terms[k]);
      for (size_t pg = 0; t && pg < m->npages; pg++) {
        size_t a, e;
        page_range(t, pg, &a, &e);
        for (size_t i = a; i < e; i++) {
          uint32_t d = (uint32_t)(pg << PAGE_BITS) | t->lo[i];
          if (groups[d] == g) /* once per group */
            groups[d] = (unsigned)g + 1;
        }
      }
    }
  }
  /* locals, so the loop is not reloading them through the char stores
   * (it vectorises: a filtered search at 98,000 entries spent a fifth of
   * its match here) */
  unsigned char *pass = w->pass;
  size_t n = m->ndocs;
  unsigned all = (unsigned)nf;
  for (size_t i = 0; i < n; i++)
    pass[i] = groups[i] == all;
  memset(groups, 0, n * sizeof *groups);
}

/* One clause, resolved: its terms' postings and its weight. */
struct rclause {
  const struct term *ts[32];
  size_t nt;
  double tw; /* BM25 term weight x (k1 + 1) */
  double ub;   /* what it adds to an entry at most (pruning) */
  double rest; /* what the clauses after it add at most (pruning) */
  double yield; /* ub per posting (pruning: the order clauses run in) */
  size_t np;    /* its terms' postings (pruning) */
  int single;   /* a clause of one term (not a synonym group) */
};

/* Resolves the clauses that match something, with BM25Weight::init()'s
 * term weights (idf, the clause's scale, k3 = 1 with wqf 1, then
 * (k1 + 1), in Xapian's order of operations). A one-term clause whose
 * term has a one-term clause already is folded into it (weights and
 * bounds added; scores move by rounding only). */
static size_t resolve(const ob_mindex *m, const ob_mclause *c, size_t nc, double k1, double b,
                      struct rclause *out)
{
  size_t n = 0, N = m->ndocs;
  for (size_t ci = 0; ci < nc; ci++) {
    struct rclause *r = &out[n];
    double tf[32];
    r->nt = 0;
    for (size_t k = 0; k < c[ci].n && r->nt < 32; k++) {
      const struct term *t = lookup(m, c[ci].terms[k]);
      if (t) {
        r->ts[r->nt] = t;
        tf[r->nt++] = (double)t->n;
      }
    }
    if (!r->nt)
      continue;
    double freq = c[ci].n == 1 ? tf[0] : ob_mindex_or_estimate(tf, r->nt, (double)N);
    double termweight = ob_mindex_clause_weight((double)N, freq, c[ci].scale, k1);
    r->tw = termweight;
    /* tw x wdf / (k1 (normlen b + 1 - b) + wdf) grows with the wdf and
     * falls with the length: the largest wdf over the shortest entry
     * bounds it (a synonym group: the sum of its terms' largest) */
    double wmax = 0;
    unsigned long lmin = (unsigned long)-1;
    for (size_t k = 0; k < r->nt; k++) {
      wmax += r->ts[k]->wmax;
      if (r->ts[k]->lmin < lmin)
        lmin = r->ts[k]->lmin;
    }
    double nmin = (double)lmin * m->len_factor;
    if (nmin < 0.5)
      nmin = 0.5;
    r->ub = k1 >= 0 && b >= 0 && b <= 1 && wmax > 0
                ? termweight * (wmax / (k1 * (nmin * b + (1 - b)) + wmax))
                : termweight;
    /* a term that is a clause already (a two-character word is also its
     * bigram's clause) adds its weight to that clause: its postings are
     * read once */
    size_t same = n;
    if (r->nt == 1 && c[ci].n == 1)
      for (size_t j = 0; j < n && same == n; j++)
        if (out[j].nt == 1 && out[j].single && out[j].ts[0] == r->ts[0])
          same = j;
    if (same < n && out[same].tw >= 0 && r->tw >= 0) {
      out[same].tw += r->tw;
      out[same].ub += r->ub;
      continue;
    }
    r->single = r->nt == 1 && c[ci].n == 1;
    n++;
  }
  return n;
}

/* The collapse key of document d, or -1 when it is not collapsed. */
static int key_of(const ob_mindex *m, const ob_xsearch_opts *o, uint32_t d)
{
  return o->collapse_max ? m->dkey[(size_t)o->collapse_slot * m->ndocs + d] : -1;
}

/* The k-th largest (0-based) of v[0..n), k < n: quickselect, v reordered. */
static double kth_largest(double *v, size_t n, size_t k)
{
  ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    ptrdiff_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] > pivot)
        i++;
      while (v[j] < pivot)
        j--;
      if (i <= j) {
        double t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (kk <= j)
      hi = j;
    else if (kk >= i)
      lo = i;
    else
      return v[kk];
  }
  return v[kk];
}

/* A score the want-th hit of the collapsed ranking of docs[0..n) is sure
 * to reach: the want-th largest of the best score of each collapse key
 * (a key keeps at least its best document) and of the uncollapsed
 * documents' scores; with kfac, of the keys' best scores times their
 * factor (the prior's ranking). -HUGE_VAL when there are fewer than want
 * of them. keybest (nkeys, all -HUGE_VAL) is left as it was found. */
static double floor_of(const ob_mindex *m, const ob_xsearch_opts *o, const double *score,
                       const uint32_t *docs, size_t n, size_t want, double *keybest,
                       unsigned *keys, double *tmp, const double *kfac)
{
  size_t nv = 0, nk = 0;
  for (size_t i = 0; i < n; i++) {
    int key = key_of(m, o, docs[i]);
    double w = score[docs[i]];
    if (key < 0) {
      tmp[nv++] = w;
    } else if (keybest[key] == -HUGE_VAL) {
      keybest[key] = w;
      keys[nk++] = (unsigned)key;
    } else if (w > keybest[key]) {
      keybest[key] = w;
    }
  }
  for (size_t i = 0; i < nk; i++) {
    tmp[nv++] = kfac ? keybest[keys[i]] * kfac[keys[i]] : keybest[keys[i]];
    keybest[keys[i]] = -HUGE_VAL;
  }
  if (want == 0 || nv < want)
    return -HUGE_VAL;
  return kth_largest(tmp, nv, want - 1);
}

/* The first index >= i in lo[0..n) whose value is >= x (galloping). */
static size_t gallop(const uint16_t *lo, size_t n, size_t i, uint16_t x)
{
  size_t step = 1, a = i, e = i;
  while (e < n && lo[e] < x) {
    a = e + 1;
    e += step;
    step *= 2;
  }
  if (e > n)
    e = n;
  while (a < e) {
    size_t mid = a + (e - a) / 2;
    if (lo[mid] < x)
      a = mid + 1;
    else
      e = mid;
  }
  return a;
}

/* Adds clause r's part to score[d] for the documents docs[0..n) (in doc
 * order), each looked up in the clause's postings (galloping search; a
 * dense term: its bits, the posting's place by their rank). */
OB_POPCNT_CLONES
static void add_clause(const struct rclause *r, const uint32_t *docs, size_t n, const double *kd,
                       double *score)
{
  size_t pos[32] = {0};
  double tw = r->tw;
  for (size_t i = 0; i < n; i++) {
    uint32_t d = docs[i];
    size_t pg = d >> PAGE_BITS;
    uint16_t low = (uint16_t)(d & 0xffff);
    unsigned long w = 0;
    for (size_t k = 0; k < r->nt; k++) {
      const struct term *t = r->ts[k];
      if (t->bits) {
        uint64_t word = t->bits[d >> 6], below = ((uint64_t)1 << (d & 63)) - 1;
        if (word >> (d & 63) & 1)
          w += wdf_at(t, t->rank[d >> 6] + (size_t)__builtin_popcountll(word & below));
        continue;
      }
      size_t a, e;
      page_range(t, pg, &a, &e);
      if (pos[k] < a)
        pos[k] = a;
      pos[k] = gallop(t->lo, e, pos[k], low);
      if (pos[k] < e && t->lo[pos[k]] == low)
        w += wdf_at(t, pos[k]);
    }
    if (w) {
      /* (SynonymPostList caps the wdf at the entry's length: a sum of
       * some of its terms' wdf never reaches it, the length being the sum
       * of all; reading the length was a cache miss per lookup) */
      double x = (double)w;
      score[d] += tw * (x / (kd[d] + x));
    }
  }
}

/* add_clause() for the candidates cand[0..nca), marked in cset, when the
 * clause's postings are few beside them: its postings read in order, each
 * tested against the candidates' bits (a few KB, in cache), where looking
 * each candidate up in each term would search. The same sums in the same
 * order as add_clause(), so the same doubles. wdf (all 0) is left so. */
static void scan_clause(const ob_mindex *m, const struct rclause *r, const uint64_t *cset,
                        const uint32_t *cand, size_t nca, const double *kd, double *score,
                        unsigned *wdf)
{
  double tw = r->tw;
  for (size_t k = 0; k < r->nt; k++) {
    const struct term *t = r->ts[k];
    for (size_t pg = 0; pg < m->npages; pg++) {
      size_t a, e;
      page_range(t, pg, &a, &e);
      uint32_t base = (uint32_t)(pg << PAGE_BITS);
      for (size_t i = a; i < e; i++) {
        uint32_t d = base | t->lo[i];
        if (!(cset[d >> 6] >> (d & 63) & 1))
          continue;
        if (r->nt == 1) {
          double x = (double)wdf_at(t, i);
          score[d] += tw * (x / (kd[d] + x));
        } else {
          wdf[d] += wdf_at(t, i);
        }
      }
    }
  }
  if (r->nt == 1)
    return;
  for (size_t i = 0; i < nca; i++) {
    uint32_t d = cand[i];
    if (wdf[d]) {
      double x = (double)wdf[d];
      score[d] += tw * (x / (kd[d] + x));
      wdf[d] = 0;
    }
  }
}

/* Reads off the documents marked in bits[0..nw) in doc order into out,
 * clearing the bits unless keep; returns how many. */
static size_t take_marked(uint64_t *bits, size_t nw, uint32_t *out, int keep)
{
  size_t n = 0;
  for (size_t wi = 0; wi < nw; wi++) {
    for (uint64_t word = bits[wi]; word; word &= word - 1)
      out[n++] = (uint32_t)(wi * 64 + (size_t)__builtin_ctzll(word));
    if (!keep)
      bits[wi] = 0;
  }
  return n;
}

/* A floor from a few documents scored in full: the SAMPLE best hits so
 * far, looked up in the clauses not run yet (rest[0..nrest)). Their
 * want-th best final score, collapsed, is one the want-th hit is sure to
 * reach; while many clauses are left it is far above the floor of the
 * partial scores, so the match narrows after fewer clauses run in full.
 * Uses w's tmp, touched, cbits and full; -HUGE_VAL when it cannot tell. */
static double sample_floor(const ob_mindex *m, const ob_xsearch_opts *o, ob_mwork *w,
                           const struct rclause *rest, size_t nrest, const double *kd,
                           size_t nh, size_t want, const double *kfac)
{
  const double *score = w->score;
  const uint32_t *hits = w->hits;
  double *heap = w->tmp; /* a min-heap of the SAMPLE best scores */
  size_t hn = 0;
  for (size_t i = 0; i < nh; i++) {
    double v = score[hits[i]];
    size_t j;
    if (hn < SAMPLE) {
      for (j = hn++; j > 0 && heap[(j - 1) / 2] > v; j = (j - 1) / 2)
        heap[j] = heap[(j - 1) / 2];
    } else if (v > heap[0]) {
      for (j = 0;;) {
        size_t l = 2 * j + 1, sm = j;
        double least = v;
        if (l < hn && heap[l] < least)
          sm = l, least = heap[l];
        if (l + 1 < hn && heap[l + 1] < least)
          sm = l + 1;
        if (sm == j)
          break;
        heap[j] = heap[sm];
        j = sm;
      }
    } else {
      continue;
    }
    heap[j] = v;
  }
  if (hn < SAMPLE)
    return -HUGE_VAL;
  /* the documents reaching the heap's least (ties: at most 2 x SAMPLE),
   * in doc order */
  double least = heap[0];
  size_t nmark = 0;
  for (size_t i = 0; i < nh && nmark < 2 * SAMPLE; i++)
    if (score[hits[i]] >= least) {
      w->cbits[hits[i] >> 6] |= (uint64_t)1 << (hits[i] & 63);
      nmark++;
    }
  uint32_t *smp = w->touched; /* free between clauses */
  size_t ns = take_marked(w->cbits, (m->ndocs + 63) / 64, smp, 0);
  for (size_t i = 0; i < ns; i++)
    w->full[smp[i]] = score[smp[i]];
  /* in the order the match runs them, so the sums are the same doubles */
  for (size_t j = 0; j < nrest; j++)
    add_clause(&rest[j], smp, ns, kd, w->full);
  return floor_of(m, o, w->full, smp, ns, want, w->keybest, w->keys, w->tmp, kfac);
}

/* The prior's factor per key, for index m (cached in w); NULL when the
 * prefix is too long to cache. */
static const double *key_factors(const ob_mindex *m, ob_mwork *w, const ob_xprior *p)
{
  size_t plen = strlen(p->prefix);
  if (plen >= sizeof w->kf_prefix)
    return NULL;
  if (w->kf_serial != m->serial || w->kf_factor != p->factor || strcmp(w->kf_prefix, p->prefix)) {
    for (size_t i = 0; i < m->nkeys; i++)
      w->kfac[i] = strncmp(m->keys[i], p->prefix, plen) == 0 ? p->factor : 1.0;
    memcpy(w->kf_prefix, p->prefix, plen + 1);
    w->kf_factor = p->factor;
    w->kf_serial = m->serial;
  }
  return w->kfac;
}

/* ob_mindex_search(); with adjust, a prior's floors are taken from the
 * adjusted scores, and *redo set when the pool cannot be told from what
 * was kept (the caller then searches again without adjust). */
static ob_status search(const ob_mindex *m, ob_mwork *work, const ob_mclause *c, size_t nc,
                        const ob_mfilter *f, size_t nf, double k1, double b,
                        const ob_xsearch_opts *o, int adjust, int *redo, ob_xresults *res,
                        char *err)
{
  struct ranked *top = NULL;
  struct rclause *rc = NULL;
  size_t nall = 0; /* hits[0..nall): every document touched, reset at the end */
  ob_status st = OB_OK;
  res->total = 0;
  res->n = 0;
  res->hits = NULL;
  res->pruned = 0;
  if ((o->collapse_max || o->prior) && o->collapse_slot >= OB_MINDEX_SLOTS)
    return ob_fail(err, OB_EINPUT, "collapse slot %u is not kept in memory", o->collapse_slot);
  size_t N = m->ndocs;
  if (!N || (nc == 0 && nf == 0)) {
    res->hits = ob_xcalloc(1, sizeof *res->hits);
    goto out;
  }
  work_fit(work, N, m->nkeys);
  if (++work->hit_stamp == 0) { /* wrapped: no stale stamp may equal the new one */
    memset(work->hit, 0, work->cap);
    work->hit_stamp = 1;
  }
  const unsigned char hs = work->hit_stamp;
  /* With a prior, the best `pool` hits are ranked again before the cut.
   * Asking for `pool` hits lowers the floors that prune the match (the
   * 30th score instead of the 10th); a factor in [0, 1] only lowers
   * scores, so with collapsing (each key one factor) the floors can be
   * those of the final ranking instead: the want-th best of the keys'
   * scores times their factor. A raw score bounds its adjusted one, so
   * no document that can end in the list is pruned, and each kept
   * document has every document scoring above it kept too (its rank in
   * the pool is known). The pool is then checked at the end. */
  size_t want = o->offset + o->limit, pool = 0;
  const double *kfac = NULL;
  if (o->prior && o->prior->pool > want) {
    if (adjust && o->collapse_max && o->prior->factor >= 0 && o->prior->factor <= 1 &&
        (kfac = key_factors(m, work, o->prior)))
      pool = o->prior->pool;
    else
      want = o->prior->pool;
  }

  double *score = work->score, *keybest = work->keybest, *tmp = work->tmp;
  unsigned *wdf = work->wdf, *keys = work->keys, *seen = work->seen, *mark = work->mark;
  uint32_t *hits = work->hits, *cand = work->cand, *touched = work->touched;
  uint32_t *above = work->above;
  unsigned char *hit = work->hit, *pass = NULL;
  struct ranked *rk = work->rk;
  if (nf) {
    filter_pass(m, f, nf, work);
    pass = work->pass;
  }
  rc = ob_xmalloc((nc ? nc : 1) * sizeof *rc);
  size_t nrc = resolve(m, c, nc, k1, b, rc);
  /* BM25Weight::get_sumpart()'s denominator less the wdf, per document */
  if (work->kd_serial != m->serial || work->kd_k1 != k1 || work->kd_b != b) {
    for (size_t d = 0; d < N; d++)
      work->kd[d] = k1 * (m->normlen[d] * b + (1 - b));
    work->kd_serial = m->serial;
    work->kd_k1 = k1;
    work->kd_b = b;
  }
  const double *kd = work->kd;

  /* Pruning (large indexes, o->prune): clauses run from the one that can
   * add most per posting it reads to the one that can add least. Once the
   * want-th best score so far beats what every clause left could add
   * together, a document not yet matched cannot reach the list: the rest
   * is looked up for the documents that still can (MaxScore, term at a
   * time). The list is the exhaustive one; the total becomes an estimate.
   * Any order keeps it exact; by bound alone (MaxScore's order) a long
   * synonym group or common word with a fair bound ran in full before the
   * floor was reached: at 20k files this order reads 15 % fewer postings
   * in full and the match runs 13 % fewer instructions (obbench under
   * callgrind, docs/performance.md). */
  int prune = o->prune && o->prune->min_docs && N >= o->prune->min_docs && want > 0;
  double left = 0; /* what the clauses not run yet can add at most */
  if (prune) {
    for (size_t i = 0; i < nrc; i++) {
      rc[i].np = 0;
      for (size_t k = 0; k < rc[i].nt; k++)
        rc[i].np += rc[i].ts[k]->n;
      rc[i].yield = rc[i].ub / (double)(rc[i].np + 1);
    }
    for (size_t i = 1; i < nrc; i++) { /* insertion sort, stable, by yield descending */
      struct rclause x = rc[i];
      size_t j = i;
      while (j > 0 && rc[j - 1].yield < x.yield) {
        rc[j] = rc[j - 1];
        j--;
      }
      rc[j] = x;
    }
    for (size_t i = nrc; i-- > 0;) { /* summed from the end */
      if (rc[i].tw < 0)
        prune = 0; /* a partial score would not be a lower bound */
      rc[i].rest = left;
      left += rc[i].ub;
    }
  }
  size_t nh = 0;    /* hits[0..nh): every document matched */
  /* of those, what collapsing keeps, counted as they come: a clause's
   * postings are in doc order, and so are their keys */
  size_t kept_hits = 0;
  const int *dk = o->collapse_max ? m->dkey + (size_t)o->collapse_slot * N : NULL;
  unsigned cmax = o->collapse_max;
  size_t nca = 0;   /* narrowed: cand[0..nca), the documents that can still make the list */
  int narrowed = 0; /* 1 once only the candidates are scored */
  double fl_last = 0; /* narrowed: a score the want-th hit reaches */
  double tried = HUGE_VAL; /* what was left at the last attempt to narrow */
  size_t or_clauses = nrc;  /* the clauses run over every posting */
  for (size_t ci = 0; ci < nrc; ci++) {
    const struct rclause *r = &rc[ci];
    double tw = r->tw;
    left = r->rest;
    if (narrowed) { /* (only when pruning, which counted r->np) */
      if (r->np <= SCAN_RATIO * nca)
        scan_clause(m, r, work->cbits, cand, nca, kd, score, wdf);
      else
        add_clause(r, cand, nca, kd, score);
    } else if (r->nt == 1) {
      const struct term *t = r->ts[0];
      for (size_t pg = 0; pg < m->npages; pg++) {
        size_t a, e;
        page_range(t, pg, &a, &e);
        uint32_t base = (uint32_t)(pg << PAGE_BITS);
        for (size_t i = a; i < e; i++) {
          uint32_t d = base | t->lo[i];
          if (i + PREFETCH < e) {
            uint32_t f = base | t->lo[i + PREFETCH];
            __builtin_prefetch(&kd[f]);
            __builtin_prefetch(&score[f], 1);
            if (dk)
              __builtin_prefetch(&dk[f]);
          }
          if (pass && !pass[d])
            continue;
          double w = t->wdf[i] == WDF_BIG ? wdf_at(t, i) : t->wdf[i];
          score[d] += tw * (w / (kd[d] + w));
          if (hit[d] != hs) {
            hit[d] = hs;
            hits[nh++] = d;
            if (!dk || dk[d] < 0 || seen[dk[d]]++ < cmax)
              kept_hits++;
          }
        }
      }
    } else {
      size_t ntouched = 0;
      unsigned ms = ++work->mark_stamp;
      if (ms == 0) {
        memset(mark, 0, work->cap * sizeof *mark);
        ms = work->mark_stamp = 1;
      }
      for (size_t k = 0; k < r->nt; k++) {
        const struct term *t = r->ts[k];
        for (size_t pg = 0; pg < m->npages; pg++) {
          size_t a, e;
          page_range(t, pg, &a, &e);
          uint32_t base = (uint32_t)(pg << PAGE_BITS);
          for (size_t i = a; i < e; i++) {
            uint32_t d = base | t->lo[i];
            if (pass && !pass[d])
              continue;
            if (mark[d] != ms) { /* first posting of this clause here */
              mark[d] = ms;
              touched[ntouched++] = d;
            }
            wdf[d] += wdf_at(t, i);
            if (hit[d] != hs) {
              hit[d] = hs;
              hits[nh++] = d;
              if (!dk || dk[d] < 0 || seen[dk[d]]++ < cmax)
                kept_hits++;
            }
          }
        }
      }
      for (size_t j = 0; j < ntouched; j++) {
        uint32_t d = touched[j];
        double w = wdf[d];
        if (w > m->dlen[d])
          w = m->dlen[d]; /* SynonymPostList caps wdf at the length */
        score[d] += tw * (w / (kd[d] + w));
        wdf[d] = 0;
      }
    }
    if (!prune || ci + 1 == nrc || (!narrowed && left > tried * 0.8))
      continue;
    if (!narrowed)
      tried = left;
    /* only documents above what the rest can add can make the floor
     * beat it: the floor of those is enough (a floor of some documents
     * is a floor of all) */
    double slack = left * (1 + 1e-9) + 1e-12;
    size_t na = 0;
    if (narrowed) {
      /* one pass: drop the candidates below the last floor (still a
       * floor: scores only grow), collect those above the slack that
       * reach the last floor: the documents above the slack include
       * those the last floor was taken from, so the want-th best of them
       * is at least the last floor, and the documents it is taken from
       * all reach it */
      size_t kept = 0;
      for (size_t i = 0; i < nca; i++) {
        double sc = score[cand[i]];
        if (sc + slack >= fl_last)
          cand[kept++] = cand[i];
        else
          work->cbits[cand[i] >> 6] &= ~((uint64_t)1 << (cand[i] & 63));
        if (sc > slack && sc >= fl_last)
          above[na++] = cand[i];
      }
      nca = kept;
    } else {
      for (size_t i = 0; i < nh; i++) {
        if (i + PREFETCH < nh) /* hits are in the order first met */
          __builtin_prefetch(&score[hits[i + PREFETCH]]);
        if (score[hits[i]] > slack)
          above[na++] = hits[i];
      }
    }
    double fl = na >= want ? floor_of(m, o, score, above, na, want, keybest, keys, tmp, kfac)
                           : -HUGE_VAL;
    if (!narrowed && !(fl > slack) && nh > SAMPLE) {
      double fs = sample_floor(m, o, work, rc + ci + 1, nrc - ci - 1, kd, nh, want, kfac);
      if (fs > fl)
        fl = fs;
    }
    /* strictly above: a tie would be ranked by docid */
    if (!(fl > slack))
      continue;
    fl_last = fl;
    if (!narrowed) {
      /* the candidates, in doc order: marked in a bit per document,
       * then read off word by word (cheaper than sorting them) */
      uint64_t *cbits = work->cbits;
      for (size_t i = 0; i < nh; i++) {
        if (i + PREFETCH < nh)
          __builtin_prefetch(&score[hits[i + PREFETCH]]);
        if (score[hits[i]] + slack >= fl)
          cbits[hits[i] >> 6] |= (uint64_t)1 << (hits[i] & 63);
      }
      /* the bits stay: the candidates' set for scan_clause(), unmarked
       * as they drop and at the end of the clauses */
      nca = take_marked(cbits, (N + 63) / 64, cand, 1);
      narrowed = 1;
      or_clauses = ci + 1;
    }
  }
  if (narrowed) /* cbits back at rest */
    for (size_t i = 0; i < nca; i++)
      work->cbits[cand[i] >> 6] = 0;
  res->pruned = narrowed;
  nall = nh;

  if (nrc == 0 && nc == 0) /* browse: every document that passes the filter, weight 0 */
    for (size_t d = 0; d < N; d++)
      if (pass[d])
        hits[nh++] = (uint32_t)d;
  const uint32_t *list = narrowed ? cand : hits; /* what can be ranked */
  size_t nl = narrowed ? nca : nh;

  /* the total after collapsing, from counts alone; pruned, an estimate:
   * the entries the clauses run in full matched (exact, filtered), OR-ed
   * with Xapian's estimate for each clause after them (scaled to the
   * entries that pass the filters), times the share of those entries
   * that collapsing keeps */
  size_t total = 0;
  if (dk)
    memset(seen, 0, m->nkeys * sizeof *seen);
  if (narrowed) {
    size_t kept = kept_hits, npass = N;
    if (pass) {
      npass = 0;
      for (size_t d = 0; d < N; d++)
        npass += pass[d];
    }
    double tf[32], est = (double)nh, u = (double)(npass ? npass : 1);
    for (size_t i = or_clauses; i < nrc; i++) {
      size_t n = 0;
      for (size_t k = 0; k < rc[i].nt && n < 32; k++)
        tf[n++] = (double)rc[i].ts[k]->n;
      double e = ob_mindex_or_estimate(tf, n, (double)N) * u / (double)N;
      est = est + e - est * e / u;
    }
    total = (size_t)(est * ((double)kept / (double)(nh ? nh : 1)) + 0.5);
    if (total < kept)
      total = kept;
  } else if (nrc) {
    total = kept_hits;
  } else { /* browse */
    for (size_t i = 0; i < nl; i++) {
      int key = key_of(m, o, list[i]);
      if (key < 0 || seen[key]++ < o->collapse_max)
        total++;
    }
    memset(seen, 0, m->nkeys * sizeof *seen);
  }
  res->total = total;
  if (want > total)
    want = total;

  /* only documents that reach the floor can be in the list */
  double fl =
      nl > want ? floor_of(m, o, score, list, nl, want, keybest, keys, tmp, kfac) : -HUGE_VAL;
  size_t nr = 0;
  for (size_t i = 0; i < nl; i++)
    if (score[list[i]] >= fl) {
      rk[nr].w = score[list[i]];
      rk[nr].doc = list[i];
      nr++;
    }

  /* the best `want` (with adjusted floors: `pool`) in rank order,
   * collapsed (at most collapse_max per value): a heap over what reaches
   * the floor */
  for (size_t i = nr / 2; i-- > 0;)
    sift_down(rk, nr, i);
  size_t take = kfac ? pool : want;
  top = ob_xmalloc((take ? take : 1) * sizeof *top);
  size_t kept = 0, nleft = nr;
  while (nleft && kept < take) {
    struct ranked r = rk[0];
    rk[0] = rk[--nleft];
    sift_down(rk, nleft, 0);
    int key = key_of(m, o, r.doc);
    if (key >= 0 && seen[key]++ >= o->collapse_max)
      continue;
    top[kept++] = r;
  }
  nr = kept;
  memset(seen, 0, m->nkeys * sizeof *seen);
  if (kfac && fl != -HUGE_VAL) {
    /* top[0..nr) is the pool, or the start of it up to the documents
     * below the floor (whose adjusted scores are below it too): when
     * want of it reach the floor adjusted, the pool's want best are
     * among them. Otherwise (most of the pool lowered by the prior),
     * search again with the pool's floors. */
    size_t reach = 0;
    for (size_t i = 0; i < nr; i++) {
      int key = m->dkey[(size_t)o->collapse_slot * m->ndocs + top[i].doc];
      reach += (key >= 0 ? top[i].w * kfac[key] : top[i].w) >= fl;
    }
    if (reach < want) {
      *redo = 1;
      goto out;
    }
  }

  size_t first = o->prior ? 0 : o->offset;
  size_t end = nr < take ? nr : take;
  if (first > end)
    first = end;
  if (o->prior) {
    size_t plen = strlen(o->prior->prefix);
    for (size_t i = first; i < end; i++) {
      int key = m->dkey[(size_t)o->collapse_slot * m->ndocs + top[i].doc];
      if (key >= 0 && strncmp(m->keys[key], o->prior->prefix, plen) == 0)
        top[i].w *= o->prior->factor;
    }
    /* a stable sort keeps the order among equal weights: insertion sort
     * over at most `pool` items */
    for (size_t i = first + 1; i < end; i++) {
      struct ranked x = top[i];
      size_t j = i;
      while (j > first && top[j - 1].w < x.w) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = x;
    }
  }
  size_t skip = o->offset - first;
  size_t n = end - first > skip ? end - first - skip : 0;
  if (n > o->limit)
    n = o->limit;
  res->hits = ob_xcalloc(n ? n : 1, sizeof *res->hits);
  for (size_t i = 0; i < n; i++) {
    const struct ranked *r = &top[first + skip + i];
    const struct mdoc *d = &m->docs[r->doc];
    struct ob_xhit *h = &res->hits[res->n++];
    h->docid = d->docid;
    h->score = r->w;
    h->data = d->data ? ob_xstrndup(d->data, d->data_len) : NULL;
    h->data_len = d->data_len;
  }
out:
  for (size_t i = 0; i < nall; i++) /* the workspace back at rest */
    work->score[work->hits[i]] = 0;
  free(rc);
  free(top);
  return st;
}

ob_status ob_mindex_search(const ob_mindex *m, ob_mwork *work, const ob_mclause *c, size_t nc,
                           const ob_mfilter *f, size_t nf, double k1, double b,
                           const ob_xsearch_opts *o, ob_xresults *res, char *err)
{
  ob_mwork *own = work ? NULL : (work = ob_mwork_new());
  int redo = 0;
  ob_status st = search(m, work, c, nc, f, nf, k1, b, o, 1, &redo, res, err);
  if (st == OB_OK && redo) {
    ob_xresults_free(res);
    st = search(m, work, c, nc, f, nf, k1, b, o, 0, &redo, res, err);
  }
  ob_mwork_free(own);
  return st;
}
