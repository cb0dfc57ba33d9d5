/* mindex.c - an exact BM25 match over a small index held in plain arrays. */
#include "mindex.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct posting {
  uint32_t doc; /* index into the document arrays, not the docid */
  uint32_t wdf;
};

struct term {
  char *s;
  size_t len;
  uint64_t hash;
  struct posting *p;
  size_t n, cap;
};

struct mdoc {
  unsigned docid;
  unsigned long len;
  char *data;
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
    free(tb->v[i].s);
    free(tb->v[i].p);
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
  d->data = ob_xstrndup(data ? data : "", data_len);
  d->data_len = data_len;
  d->scratch = NULL;
  for (int i = 0; i < OB_MINDEX_SLOTS; i++)
    d->key[i] = -1;
  m->total_len += doclen;
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
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 4;
    t->p = ob_xrealloc(t->p, t->cap * sizeof *t->p);
  }
  t->p[t->n].doc = (uint32_t)(m->ndocs - 1);
  t->p[t->n].wdf = wdf;
  t->n++;
}

void ob_mindex_seal(ob_mindex *m)
{
  /* Weight::Internal::get_average_length() */
  double avg = m->ndocs ? (double)m->total_len / (double)m->ndocs : 0;
  m->len_factor = avg != 0 ? 1 / avg : 0;
}

size_t ob_mindex_doc_count(const ob_mindex *m)
{
  return m->ndocs;
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
static double or_estimate(double *tf, size_t n, double N)
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

/* Marks the documents that pass every filter group. */
static unsigned char *filter_pass(const ob_mindex *m, const ob_mfilter *f, size_t nf)
{
  unsigned char *pass = ob_xcalloc(m->ndocs ? m->ndocs : 1, 1);
  unsigned *groups = ob_xcalloc(m->ndocs ? m->ndocs : 1, sizeof *groups);
  for (size_t g = 0; g < nf; g++) {
    for (size_t k = 0; k < f[g].n; k++) {
      const struct term *t = lookup(m, f[g].terms[k]);
      for (size_t i = 0; t && i < t->n; i++)
        if (groups[t->p[i].doc] == g) /* once per group */
          groups[t->p[i].doc] = (unsigned)g + 1;
    }
  }
  for (size_t i = 0; i < m->ndocs; i++)
    pass[i] = groups[i] == nf;
  free(groups);
  return pass;
}

ob_status ob_mindex_search(const ob_mindex *m, const ob_mclause *c, size_t nc, const ob_mfilter *f,
                           size_t nf, double k1, double b, const ob_xsearch_opts *o,
                           ob_xresults *res, char *err)
{
  double *score = NULL;
  unsigned *wdf = NULL;
  uint32_t *touched = NULL;
  unsigned char *hit = NULL, *pass = NULL;
  struct ranked *rk = NULL, *top = NULL;
  unsigned *seen = NULL, *mark = NULL;
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
  score = ob_xcalloc(N, sizeof *score);
  hit = ob_xcalloc(N, 1);
  wdf = ob_xcalloc(N, sizeof *wdf);
  touched = ob_xmalloc(N * sizeof *touched);
  mark = ob_xcalloc(N, sizeof *mark);
  if (nf)
    pass = filter_pass(m, f, nf);

  for (size_t ci = 0; ci < nc; ci++) {
    double tf[32];
    const struct term *ts[32];
    size_t nt = 0;
    for (size_t k = 0; k < c[ci].n && nt < 32; k++) {
      const struct term *t = lookup(m, c[ci].terms[k]);
      if (t) {
        ts[nt] = t;
        tf[nt++] = (double)t->n;
      }
    }
    if (!nt)
      continue;
    /* BM25Weight::init(): idf, the clause's scale, k3 = 1 with wqf 1,
     * then (k1 + 1), in Xapian's order of operations */
    double freq = c[ci].n == 1 ? tf[0] : or_estimate(tf, nt, (double)N);
    double tw = ((double)N - freq + 0.5) / (freq + 0.5);
    if (tw < 2)
      tw = tw * 0.5 + 1;
    double termweight = log(tw) * c[ci].scale;
    termweight *= (1.0 + 1) * 1.0 / (1.0 + 1.0);
    termweight *= (k1 + 1);
    size_t ntouched = 0;
    for (size_t k = 0; k < nt; k++)
      for (size_t i = 0; i < ts[k]->n; i++) {
        uint32_t d = ts[k]->p[i].doc;
        if (pass && !pass[d])
          continue;
        if (mark[d] != ci + 1) { /* first posting of this clause here */
          mark[d] = (unsigned)ci + 1;
          touched[ntouched++] = d;
        }
        wdf[d] += ts[k]->p[i].wdf;
        hit[d] = 1;
      }
    for (size_t j = 0; j < ntouched; j++) {
      uint32_t d = touched[j];
      double w = wdf[d];
      if (w > (double)m->docs[d].len)
        w = (double)m->docs[d].len; /* SynonymPostList caps wdf at the length */
      /* BM25Weight::get_sumpart() */
      double normlen = (double)m->docs[d].len * m->len_factor;
      if (normlen < 0.5)
        normlen = 0.5;
      double denom = k1 * (normlen * b + (1 - b)) + w;
      score[d] += termweight * (w / denom);
      wdf[d] = 0;
    }
  }
  if (nc == 0) /* browse: every document that passes the filter, weight 0 */
    for (size_t d = 0; d < N; d++)
      hit[d] = pass[d];

  size_t nr = 0;
  rk = ob_xmalloc(N * sizeof *rk);
  for (size_t d = 0; d < N; d++)
    if (hit[d]) {
      rk[nr].w = score[d];
      rk[nr].doc = (uint32_t)d;
      nr++;
    }

  /* the total after collapsing, from counts alone */
  if (o->collapse_max)
    seen = ob_xcalloc(m->nkeys ? m->nkeys : 1, sizeof *seen);
  size_t total = 0;
  for (size_t i = 0; i < nr; i++) {
    int key = o->collapse_max ? m->docs[rk[i].doc].key[o->collapse_slot] : -1;
    if (key < 0 || seen[key]++ < o->collapse_max)
      total++;
  }
  res->total = total;
  if (seen)
    memset(seen, 0, (m->nkeys ? m->nkeys : 1) * sizeof *seen);

  /* with a prior, the best `pool` hits are ranked again before the cut */
  size_t want = o->offset + o->limit;
  if (o->prior && o->prior->pool > want)
    want = o->prior->pool;
  if (want > total)
    want = total;

  /* the best `want` in rank order, collapsed (at most collapse_max per
   * value): a heap, since a request needs 10-30 of a few hundred matches */
  for (size_t i = nr / 2; i-- > 0;)
    sift_down(rk, nr, i);
  top = ob_xmalloc((want ? want : 1) * sizeof *top);
  size_t kept = 0, left = nr;
  while (left && kept < want) {
    struct ranked r = rk[0];
    rk[0] = rk[--left];
    sift_down(rk, left, 0);
    int key = o->collapse_max ? m->docs[r.doc].key[o->collapse_slot] : -1;
    if (key >= 0 && seen[key]++ >= o->collapse_max)
      continue;
    top[kept++] = r;
  }
  nr = kept;

  size_t first = o->prior ? 0 : o->offset;
  size_t end = nr < want ? nr : want;
  if (first > end)
    first = end;
  if (o->prior) {
    size_t plen = strlen(o->prior->prefix);
    for (size_t i = first; i < end; i++) {
      int key = m->docs[top[i].doc].key[o->collapse_slot];
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
    h->data = ob_xstrndup(d->data, d->data_len);
    h->data_len = d->data_len;
  }
out:
  free(score);
  free(wdf);
  free(touched);
  free(hit);
  free(pass);
  free(rk);
  free(top);
  free(seen);
  free(mark);
  return st;
}
