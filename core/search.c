/* search.c - query building, searching and snippets. */
#include "search.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "index.h"
#include "schema.h"
#include "utf8.h"

/* Character n-grams dominate; words and synonyms add a little. A Latin
 * word (UPS, RAID) counts twice: a CJK word scores through its unigrams
 * and its bigram, a Latin word through one term. BM25's length
 * normalisation b is 0.5, not Xapian's 0.75: a section's symptoms count in
 * its length, so at 0.75 the sections with the most everyday wordings were
 * the ones marked down most. Bigrams at 0.8 and a synonym group at 1.3
 * (session 8, chosen on 1,460 queries; on 160 unseen ones the anchor +8,
 * the handbook +1), then groups at 1.5 (session 9: the next step session
 * 8 named; 1,780 queries anchor +7, handbook -1; the 240 of three sets
 * written after it was named, anchor +4, handbook +2): a two-character
 * word typed still scores through n-gram clauses worth 2.8 against its
 * group's 1.5, and a synonym of it through the group alone. Judged on
 * held-out queries (tests/quality), not only on the ones tuned on. */
const ob_weights ob_weights_default = {
  .uni = 1.0, .bi = 0.8, .word = 0.3, .syn = 1.5, .latin = 2.0,
  .k1 = 1.2, .b = 0.5, .per_doc = 2, .stop = 1, .fault = 0.7,
  .prune = {.min_docs = 5000, .common = 0.1, .pool = 600, .clauses = 10},
};

ob_status ob_query_check(const char *q, size_t n, char *err)
{
  if (!ob_utf8_valid(q, n))
    return ob_fail(err, OB_EINPUT, "查询不是有效的 UTF-8 文本");
  size_t chars = ob_utf8_count(q, n);
  if (chars > OB_QUERY_MAX_CHARS)
    return ob_fail(err, OB_ETOOBIG, "查询过长:最多 %d 个字符,收到 %zu 个",
                   OB_QUERY_MAX_CHARS, chars);
  int blank = 1;
  for (size_t i = 0; i < n && blank; i++) {
    unsigned char c = (unsigned char)q[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      blank = 0;
  }
  if (n >= 3 && blank == 0) {
    /* all ideographic spaces counts as blank too */
    blank = 1;
    for (size_t i = 0; i < n && blank; i++) {
      if (i + 2 < n && memcmp(q + i, "\xE3\x80\x80", 3) == 0) {
        i += 2;
        continue;
      }
      unsigned char c = (unsigned char)q[i];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        blank = 0;
    }
  }
  if (blank)
    return ob_fail(err, OB_EINPUT, "查询为空:请输入要查找的故障现象或关键词");
  return OB_OK;
}

/* A byte range [s, e): of the normalised query (stop bigrams) or of a
 * section's original text (snippet marks). */
struct span {
  size_t s, e;
};

/* ---- query building ---- */

struct qterm {
  char *term;
  ob_tok_kind kind;
};

struct qctx {
  struct qterm *v;
  size_t n;
  int have_bigram;
  const ob_text *t;
  int stop;       /* stop words are dropped (ob_weights.stop) */
  int drop_chars; /* and so are characters only met inside stop bigrams */
  /* the stop bigrams' spans and the characters' places in the normalised
   * query (NFKC may make it longer than OB_QUERY_MAX_CHARS: past that,
   * full, and no character is dropped) */
  struct span stopped[OB_QUERY_MAX_CHARS];
  struct occ {
    size_t term, start;
  } chars[OB_QUERY_MAX_CHARS];
  size_t nstopped, nchars;
  int full;
};

static int collect(const ob_token *tok, void *vctx)
{
  struct qctx *c = vctx;
  if (c->stop && tok->kind == OB_TOK_CJK2 && ob_text_is_stop(c->t, tok->s, tok->len)) {
    if (c->nstopped < OB_QUERY_MAX_CHARS)
      c->stopped[c->nstopped++] = (struct span){tok->start, tok->end};
    else
      c->full = 1;
  }
  size_t i = 0;
  while (i < c->n && !(c->v[i].kind == tok->kind && strlen(c->v[i].term) == tok->len &&
                       memcmp(c->v[i].term, tok->s, tok->len) == 0))
    i++;
  if (i == c->n) { /* each term once: repeats would double its weight */
    if (c->n >= 512)
      return 1;
    c->v = ob_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n].term = ob_xstrndup(tok->s, tok->len);
    c->v[c->n].kind = tok->kind;
    c->n++;
    if (tok->kind == OB_TOK_CJK2)
      c->have_bigram = 1;
  }
  if (tok->kind == OB_TOK_CJK1) {
    if (c->nchars < OB_QUERY_MAX_CHARS)
      c->chars[c->nchars++] = (struct occ){i, tok->start};
    else
      c->full = 1;
  }
  return 0;
}

/* Whether every place of character term i is inside a stop bigram (东 and
 * 西 of 东西, 时 and 候 of 时候): such a character is part of the filler,
 * not the topic, and as a unigram it would weigh more than the bigram. */
static int char_in_stop(const struct qctx *c, size_t i)
{
  int any = 0;
  if (c->full)
    return 0;
  for (size_t k = 0; k < c->nchars; k++) {
    if (c->chars[k].term != i)
      continue;
    int in = 0;
    for (size_t j = 0; j < c->nstopped && !in; j++)
      in = c->stopped[j].s <= c->chars[k].start && c->chars[k].start < c->stopped[j].e;
    if (!in)
      return 0;
    any = 1;
  }
  return any;
}

/* Whether term i of the query is left out as filler: a stop word, or
 * (c->drop_chars) a character only met inside stop bigrams. */
static int is_filler(const struct qctx *c, size_t i)
{
  if (!c->stop || c->v[i].kind == OB_TOK_LATIN)
    return 0;
  if (ob_text_is_stop(c->t, c->v[i].term, strlen(c->v[i].term)))
    return 1;
  return c->drop_chars && c->v[i].kind == OB_TOK_CJK1 && char_in_stop(c, i);
}

/* The index term of a word: friso words carry the W prefix, Latin words
 * (indexed as LATIN tokens) carry none, and a two-character word is
 * indexed as its bigram (schema.h). */
static void word_term(const char *word, char *out, size_t outsz)
{
  int bare = 1;
  for (const char *p = word; *p && bare; p++)
    bare = ((unsigned char)*p < 0x80);
  if (!bare)
    bare = ob_utf8_count(word, strlen(word)) == 2;
  snprintf(out, outsz, "%s%s", bare ? "" : OB_P_WORD, word);
}

/* A word's synonym group as one OP_SYNONYM clause at the synonym weight. */
static void add_synonyms(const ob_text *t, const char *term, const ob_weights *w,
                         ob_xquery *xq, ob_strv *hl)
{
  const char *const *syn = ob_text_synonyms(t, term, strlen(term));
  if (!syn || w->syn <= 0)
    return;
  const char *terms[32];
  char bufs[32][OB_TOKEN_MAX + 8];
  size_t k = 0;
  for (; syn[k] && k < 32; k++) {
    word_term(syn[k], bufs[k], sizeof bufs[k]);
    terms[k] = bufs[k];
    if (hl && strcmp(syn[k], term) != 0)
      ob_strv_push(hl, syn[k], strlen(syn[k]));
  }
  ob_xquery_add(xq, terms, k, w->syn);
}

ob_status ob_query_build(const ob_text *t, const char *q, size_t n, const ob_weights *w,
                         ob_xquery *xq, ob_strv *hl, char *err)
{
  ob_buf norm;
  struct qctx c = {0};
  ob_status st;
  /* NFKC can grow a character elevenfold (U+FDFA: 3 -> 33 bytes) */
  ob_buf_init(&norm, OB_NFKC_GROWTH * 4 * OB_QUERY_MAX_CHARS);
  if (!w)
    w = &ob_weights_default;
  c.t = t;
  c.stop = c.drop_chars = w->stop != 0;
  if ((st = ob_text_normalize(t, q, n, &norm, NULL, err)))
    goto out;
  if ((st = ob_text_tokenize(t, norm.data ? norm.data : "", norm.len, collect, &c)))
    goto out;
  if (c.stop) { /* a query of filler alone (东西) keeps its characters */
    size_t kept = 0;
    for (size_t i = 0; i < c.n && !kept; i++)
      kept = !is_filler(&c, i);
    c.drop_chars = kept != 0;
  }
  for (size_t i = 0; i < c.n; i++) {
    const char *term = c.v[i].term;
    if (is_filler(&c, i))
      continue;
    switch (c.v[i].kind) {
    case OB_TOK_CJK1:
      ob_xquery_add(xq, &term, 1, w->uni);
      if (hl && !c.have_bigram)
        ob_strv_push(hl, term, strlen(term));
      break;
    case OB_TOK_CJK2:
      ob_xquery_add(xq, &term, 1, w->bi);
      if (hl)
        ob_strv_push(hl, term, strlen(term));
      break;
    case OB_TOK_LATIN:
      ob_xquery_add(xq, &term, 1, w->latin);
      if (hl)
        ob_strv_push(hl, term, strlen(term));
      add_synonyms(t, term, w, xq, hl);
      break;
    case OB_TOK_WORD: {
      char wt[OB_TOKEN_MAX + 8];
      word_term(term, wt, sizeof wt);
      const char *one = wt;
      if (w->word > 0)
        ob_xquery_add(xq, &one, 1, w->word);
      if (hl)
        ob_strv_push(hl, term, strlen(term));
      add_synonyms(t, term, w, xq, hl);
      break;
    }
    }
  }
out:
  for (size_t i = 0; i < c.n; i++)
    free(c.v[i].term);
  free(c.v);
  ob_buf_free(&norm);
  return st;
}

/* ---- snippets ---- */

struct sctx {
  const ob_strv *hl;
  const size_t *map;
  size_t norm_len, orig_len;
  struct span *v;
  size_t n, cap;
};

static size_t orig_end(const struct sctx *c, size_t norm_end)
{
  if (norm_end >= c->norm_len)
    return c->orig_len;
  return c->map[norm_end];
}

static int ascii_alnum(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Bytes of the UTF-8 character whose lead byte is b (1 for a stray
 * continuation byte), at most the n left. */
static size_t char_len(unsigned char b, size_t n)
{
  size_t l = b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  return l < n ? l : n;
}

#define HL_BUCKETS 64

/* Bucket of the character at s: the low six bits of its last byte (for
 * CJK the last byte's six payload bits, so a run of text spreads evenly). */
static size_t hl_bucket(const unsigned char *s, size_t n)
{
  return s[char_len(s[0], n) - 1] & (HL_BUCKETS - 1);
}

/* A section's text normalised for matching, with the byte map back to
 * the text, in one block: ob_search_run keeps it per document of an index
 * in memory (ob_xdb_doc_scratch), since normalising was half of a
 * snippet's cost and the same sections come back query after query. A
 * kept one also lists where each character starts, by bucket, so that
 * marking looks only at the characters a query's terms start with. */
struct prep {
  size_t norm_len;
  size_t *map;  /* an offset into the text per normalised byte */
  char *norm;   /* norm_len bytes and a NUL */
  uint32_t *bpos; /* NULL, or the characters' offsets grouped by bucket */
  uint32_t bstart[HL_BUCKETS + 1]; /* bucket b: bpos[bstart[b] .. bstart[b + 1]) */
};

/* Adds the span of the term h (hn bytes) found at normalised offset `at`,
 * unless a Latin term runs on into letters or digits there. Returns 0
 * once the span cap is reached. */
static int mark_at(struct sctx *c, const unsigned char *u, size_t at, const char *h, size_t hn)
{
  if ((unsigned char)h[0] < 0x80 && ((at > 0 && ascii_alnum(u[at - 1])) ||
                                     (at + hn < c->norm_len && ascii_alnum(u[at + hn]))))
    return 1;
  if (c->n >= 4096)
    return 0;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 32;
    c->v = ob_xrealloc(c->v, c->cap * sizeof *c->v);
  }
  c->v[c->n].s = c->map[at];
  c->v[c->n].e = orig_end(c, at + hn);
  c->n++;
  return 1;
}

/* Marks every occurrence of each highlight term in the normalised text.
 * A substring search (no segmentation) is enough here and far cheaper
 * than running friso over every hit; Latin terms must stand alone.
 *
 * One pass over the text: the terms are bucketed by their first
 * character, and at each character only its bucket's terms are compared
 * (a memmem per term cost a pass over the text per term). A term's next
 * occurrence is looked for after the end of its last one, as a memmem
 * loop would; past 4096 spans the rest of the text goes unmarked. */
static void mark_all(struct sctx *c, const struct prep *p)
{
  const unsigned char *u = (const unsigned char *)p->norm;
  size_t nt = c->hl->n, head[HL_BUCKETS];
  /* per term: next in its bucket, where its next occurrence may start, length */
  size_t *next = ob_xcalloc(3 * (nt ? nt : 1), sizeof *next);
  size_t *from = next + nt, *len = from + nt;
  uint64_t used = 0; /* a bit per bucket that holds a term */
  for (size_t b = 0; b < HL_BUCKETS; b++)
    head[b] = SIZE_MAX;
  for (size_t i = nt; i-- > 0;) { /* chains in term order */
    const char *h = c->hl->v[i];
    len[i] = strlen(h);
    if (!len[i])
      continue;
    size_t b = hl_bucket((const unsigned char *)h, len[i]);
    next[i] = head[b];
    head[b] = i;
    used |= (uint64_t)1 << b;
  }
  if (p->bpos) {
    /* term by term over the characters of its bucket; the same spans as
     * the pass below, which takes over if the cap cuts them short */
    for (size_t i = 0; i < nt; i++) {
      if (!len[i])
        continue;
      const char *h = c->hl->v[i];
      size_t hn = len[i], b = hl_bucket((const unsigned char *)h, hn);
      for (uint32_t k = p->bstart[b]; k < p->bstart[b + 1]; k++) {
        size_t at = p->bpos[k];
        if (at < from[i] || hn > c->norm_len - at || memcmp(u + at, h, hn) != 0)
          continue;
        from[i] = at + hn;
        if (!mark_at(c, u, at, h, hn)) {
          c->n = 0;
          memset(from, 0, nt * sizeof *from);
          goto scan;
        }
      }
    }
    goto out;
  }
scan:
  for (size_t at = 0; at < c->norm_len; at += char_len(u[at], c->norm_len - at)) {
    size_t b = hl_bucket(u + at, c->norm_len - at);
    if (!(used >> b & 1)) /* most characters start no term */
      continue;
    for (size_t i = head[b]; i != SIZE_MAX; i = next[i]) {
      const char *h = c->hl->v[i];
      size_t hn = len[i];
      if (at < from[i] || hn > c->norm_len - at || memcmp(u + at, h, hn) != 0)
        continue;
      from[i] = at + hn;
      if (!mark_at(c, u, at, h, hn))
        goto out;
    }
  }
out:
  free(next);
}

static int cmp_span(const void *a, const void *b)
{
  const struct span *x = a, *y = b;
  return x->s < y->s ? -1 : x->s > y->s ? 1 : (x->e < y->e ? -1 : x->e > y->e);
}

static ob_status put_escaped(ob_buf *out, const char *s, size_t n)
{
  ob_status st = OB_OK;
  size_t run = 0;
  for (size_t i = 0; i < n && !st; i++) {
    const char *rep = NULL;
    if ((unsigned char)s[i] > '>') { /* CJK, letters: nothing to escape */
      run++;
      continue;
    }
    switch (s[i]) {
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '&': rep = "&amp;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    case '\n': rep = " "; break;
    default: run++; continue;
    }
    st = ob_buf_append(out, s + i - run, run);
    run = 0;
    if (!st)
      st = ob_buf_puts(out, rep);
  }
  if (!st && run)
    st = ob_buf_append(out, s + n - run, run);
  return st;
}

/* Moves a byte offset back to the start of its UTF-8 character. */
static size_t char_start(const char *s, size_t i)
{
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
    i--;
  return i;
}

static ob_status snip_prepare(const ob_text *t, const char *text, size_t len, int with_index,
                              struct prep **out, char *err)
{
  ob_buf norm, map;
  ob_status st;
  *out = NULL;
  ob_buf_init(&norm, OB_NFKC_GROWTH * len + 64);
  ob_buf_init(&map, (size_t)-1);
  if ((st = ob_text_normalize(t, text, len, &norm, &map, err)) == OB_OK) {
    const unsigned char *u = (const unsigned char *)norm.data;
    size_t nchars = 0;
    if (with_index && norm.len <= UINT32_MAX)
      for (size_t at = 0; at < norm.len; at += char_len(u[at], norm.len - at))
        nchars++;
    size_t ilen = (nchars * sizeof(uint32_t) + sizeof(size_t) - 1) / sizeof(size_t) * sizeof(size_t);
    struct prep *p = ob_xmalloc(sizeof *p + ilen + map.len + norm.len + 1);
    p->norm_len = norm.len;
    p->bpos = nchars ? (uint32_t *)(p + 1) : NULL;
    p->map = (size_t *)((char *)(p + 1) + ilen);
    p->norm = (char *)p->map + map.len;
    if (map.len)
      memcpy(p->map, map.data, map.len);
    if (norm.len)
      memcpy(p->norm, norm.data, norm.len);
    p->norm[norm.len] = '\0';
    memset(p->bstart, 0, sizeof p->bstart);
    if (p->bpos) { /* a counting sort of the characters by bucket */
      for (size_t at = 0; at < norm.len; at += char_len(u[at], norm.len - at))
        p->bstart[hl_bucket(u + at, norm.len - at) + 1]++;
      for (size_t b = 0; b < HL_BUCKETS; b++)
        p->bstart[b + 1] += p->bstart[b];
      uint32_t fill[HL_BUCKETS];
      memcpy(fill, p->bstart, sizeof fill);
      for (size_t at = 0; at < norm.len; at += char_len(u[at], norm.len - at))
        p->bpos[fill[hl_bucket(u + at, norm.len - at)]++] = (uint32_t)at;
    }
    *out = p;
  }
  ob_buf_free(&norm);
  ob_buf_free(&map);
  return st;
}

static ob_status snip_render(const struct prep *p, const char *text, size_t len,
                             const ob_strv *hl, size_t width, ob_buf *out, char *err)
{
  struct sctx c = {hl, NULL, 0, len, NULL, 0, 0};
  ob_status st = OB_OK;
  c.map = p->map;
  c.norm_len = p->norm_len;
  if (hl && hl->n && p->norm_len)
    mark_all(&c, p);
  if (c.n) /* qsort(NULL, 0, ...) is undefined behaviour */
    qsort(c.v, c.n, sizeof *c.v, cmp_span);
  /* merge overlapping and touching spans into whole highlighted runs */
  size_t m = 0;
  for (size_t i = 0; i < c.n; i++) {
    if (m && c.v[i].s <= c.v[m - 1].e) {
      if (c.v[i].e > c.v[m - 1].e)
        c.v[m - 1].e = c.v[i].e;
    } else {
      c.v[m++] = c.v[i];
    }
  }
  c.n = m;

  /* window: about `width` characters (3 bytes each for CJK) holding the
   * most highlighted bytes */
  size_t wbytes = width * 3;
  size_t best_s = 0, best_score = 0;
  for (size_t i = 0; i < c.n; i++) {
    size_t score = 0;
    for (size_t j = i; j < c.n && c.v[j].e <= c.v[i].s + wbytes; j++)
      score += c.v[j].e - c.v[j].s;
    if (score > best_score) {
      best_score = score;
      best_s = c.v[i].s;
    }
  }
  /* start a little before the first match, at a character boundary */
  size_t ws = best_s > wbytes / 6 ? char_start(text, best_s - wbytes / 6) : 0;
  if (len - ws < wbytes) /* near the end: show a full window */
    ws = len > wbytes ? char_start(text, len - wbytes) : 0;
  size_t we = ws + wbytes < len ? char_start(text, ws + wbytes) : len;
  if (ws > 0 && (st = ob_buf_puts(out, "…")))
    goto out;
  size_t pos = ws;
  for (size_t i = 0; i < c.n && !st; i++) {
    if (c.v[i].e <= ws || c.v[i].s >= we)
      continue;
    size_t s = c.v[i].s < ws ? ws : c.v[i].s;
    size_t e = c.v[i].e > we ? we : c.v[i].e;
    if ((st = put_escaped(out, text + pos, s - pos)) || (st = ob_buf_puts(out, "<mark>")) ||
        (st = put_escaped(out, text + s, e - s)) || (st = ob_buf_puts(out, "</mark>")))
      break;
    pos = e;
  }
  if (!st)
    st = put_escaped(out, text + pos, we - pos);
  if (!st && we < len)
    st = ob_buf_puts(out, "…");
  if (st)
    ob_fail(err, st, "snippet too long");
out:
  free(c.v);
  return st;
}

ob_status ob_snippet(const ob_text *t, const char *text, size_t len, const ob_strv *hl,
                     size_t width, ob_buf *out, char *err)
{
  struct prep *p;
  ob_status st = snip_prepare(t, text, len, 0, &p, err);
  if (st == OB_OK)
    st = snip_render(p, text, len, hl, width, out, err);
  free(p);
  return st;
}

/* ---- running a search ---- */

static char *dupf(const char *s, size_t n)
{
  return ob_xstrndup(s, n);
}

#define OB_PRIOR_POOL 30

/* Fault write-ups retell the standards they quote: in a mixed list they
 * rank a little below the clause or phrase itself. */
const ob_xprior *ob_search_prior(const ob_weights *w, const char *type, ob_xprior *buf)
{
  if (!(w->fault < 1.0) || (type && *type))
    return NULL;
  *buf = (ob_xprior){"fault:", w->fault, OB_PRIOR_POOL};
  return buf;
}

ob_status ob_search_run(ob_xdb *db, const ob_text *t, const char *q, size_t qlen,
                        const ob_search_opts *o, ob_search_result *r, char *err)
{
  ob_xquery *xq = ob_xquery_new();
  ob_strv hl = {NULL, 0};
  ob_xresults xr = {0, 0, NULL, 0};
  ob_buf snip, full;
  ob_status st;
  const ob_weights *w = o->weights ? o->weights : &ob_weights_default;
  memset(r, 0, sizeof *r);
  ob_buf_init(&snip, 64 * 1024);
  ob_buf_init(&full, 4 * OB_DOC_MAX_BYTES);

  if ((st = ob_query_check(q, qlen, err)))
    goto out;
  if ((st = ob_query_build(t, q, qlen, w, xq, &hl, err)))
    goto out;
  if (ob_xquery_size(xq) == 0) /* only punctuation: nothing can match */
    goto out;
  char term[256];
  if (o->type && *o->type) {
    snprintf(term, sizeof term, "%s%s", OB_P_TYPE, o->type);
    ob_xquery_filter(xq, term, 0);
  }
  if (o->category && *o->category) {
    snprintf(term, sizeof term, "%s%s", OB_P_CATEGORY, o->category);
    ob_xquery_filter(xq, term, 1);
  }
  if (o->tag && *o->tag) {
    snprintf(term, sizeof term, "%s%s", OB_P_TAG, o->tag);
    ob_xquery_filter(xq, term, 2);
  }
  ob_xdb_set_bm25(db, w->k1, w->b);
  ob_xprior prior;
  ob_xsearch_opts xo = {o->offset, o->limit ? o->limit : 10, OB_V_DOC, w->per_doc, &w->prune,
                        ob_search_prior(w, o->type, &prior)};
  if ((st = ob_xdb_search(db, xq, &xo, &xr, err)))
    goto out;
  r->total = xr.total;
  r->pruned = xr.pruned;
  r->hits = ob_xcalloc(xr.n ? xr.n : 1, sizeof *r->hits);
  for (size_t i = 0; i < xr.n; i++) {
    const char *f[OB_R_NFIELDS];
    size_t fl[OB_R_NFIELDS];
    ob_index_record_fields(xr.hits[i].data, xr.hits[i].data_len, f, fl);
    struct ob_hit *h = &r->hits[r->n++];
    h->id = dupf(f[OB_R_ID], fl[OB_R_ID]);
    h->type = dupf(f[OB_R_TYPE], fl[OB_R_TYPE]);
    h->title = dupf(f[OB_R_TITLE], fl[OB_R_TITLE]);
    h->section = fl[OB_R_SECTION] ? dupf(f[OB_R_SECTION], fl[OB_R_SECTION]) : NULL;
    h->anchor = dupf(f[OB_R_ANCHOR], fl[OB_R_ANCHOR]);
    h->category = dupf(f[OB_R_CATEGORY], fl[OB_R_CATEGORY]);
    h->path = dupf(f[OB_R_PATH], fl[OB_R_PATH]);
    h->slots = dupf(f[OB_R_SLOTS], fl[OB_R_SLOTS]);
    h->score = xr.hits[i].score;
    ob_buf_reset(&snip);
    void **kept = ob_xdb_doc_scratch(db, xr.hits[i].docid);
    struct prep *p = kept ? *kept : NULL;
    if (!p && (st = snip_prepare(t, f[OB_R_TEXT], fl[OB_R_TEXT], kept != NULL, &p, err)))
      goto out;
    if (kept)
      *kept = p;
    st = snip_render(p, f[OB_R_TEXT], fl[OB_R_TEXT], &hl, 80, &snip, err);
    if (!kept)
      free(p);
    if (st)
      goto out;
    h->snippet = ob_buf_detach(&snip, NULL);
    if (o->want_text) {
      ob_buf_reset(&full);
      if ((st = ob_buf_append(&full, f[OB_R_TITLE], fl[OB_R_TITLE])) ||
          (st = ob_buf_putc(&full, '\n')) ||
          (st = ob_buf_append(&full, f[OB_R_SECTION], fl[OB_R_SECTION])) ||
          (st = ob_buf_putc(&full, '\n')) ||
          (st = ob_buf_append(&full, f[OB_R_TEXT], fl[OB_R_TEXT])))
        goto out;
      h->text = ob_xstrndup(full.data, full.len);
    }
  }
out:
  if (st)
    ob_search_result_free(r);
  ob_xresults_free(&xr);
  ob_xquery_free(xq);
  ob_strv_clear(&hl);
  ob_buf_free(&snip);
  ob_buf_free(&full);
  return st;
}

void ob_search_result_free(ob_search_result *r)
{
  for (size_t i = 0; i < r->n; i++) {
    struct ob_hit *h = &r->hits[i];
    free(h->id);
    free(h->type);
    free(h->title);
    free(h->section);
    free(h->anchor);
    free(h->category);
    free(h->path);
    free(h->snippet);
    free(h->text);
    free(h->slots);
  }
  free(r->hits);
  memset(r, 0, sizeof *r);
}

void ob_search_hit_fields(ob_jw *w, const struct ob_hit *h)
{
  ob_jw_kstr(w, "id", h->id);
  ob_jw_kstr(w, "type", h->type);
  ob_jw_kstr(w, "title", h->title);
  if (h->section) {
    ob_jw_kstr(w, "section", h->section);
    ob_jw_kstr(w, "anchor", h->anchor);
  }
  ob_jw_kstr(w, "category", h->category);
  ob_jw_kstr(w, "path", h->path);
  ob_jw_kstr(w, "snippet", h->snippet);
  ob_jw_key(w, "score");
  ob_jw_num(w, h->score);
  ob_jw_key(w, "slots");
  ob_jw_arr(w);
  for (const char *s = h->slots; s && *s;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    ob_jw_strn(w, s, n);
    s = nl ? nl + 1 : s + n;
  }
  ob_jw_arr_end(w);
}
