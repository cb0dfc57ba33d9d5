#define _POSIX_C_SOURCE 200809L
#include "text.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <friso/friso.h>
#include <opencc/opencc.h>
#include <utf8proc.h>

#include "utf8.h"

#ifndef OB_LANG_DIR
#define OB_LANG_DIR "lang"
#endif
#ifndef OB_FRISO_INI
#define OB_FRISO_INI "/etc/friso/friso.ini"
#endif
#ifndef OB_OPENCC_T2S
#define OB_OPENCC_T2S "t2s.json"
#endif

/* word -> synonym group; a small chained hash table */
struct syn_entry {
  char *word;
  size_t group;
  struct syn_entry *next;
};

#define SYN_BUCKETS 1024
/* The segmentation memo: direct-mapped, runs of at most SEG_RUN_MAX bytes,
 * so it never holds more than SEG_SLOTS * ~1 KiB. */
#define SEG_SLOTS 8192
#define SEG_RUN_MAX 192

/* One memoised run: the run's bytes, then nw records of struct seg_word,
 * then the words' bytes. */
struct seg_word {
  uint32_t off, rlen, wlen; /* offset and length in the run; word length */
};
struct seg_entry {
  uint32_t hash, runlen, nw, wbytes;
  /* char run[runlen]; struct seg_word w[nw]; char words[wbytes]; */
};
#define TRAD_LO 0x3400
#define TRAD_HI 0xFAFF

struct ob_text {
  opencc_t cc;
  friso_t friso;
  friso_config_t fconf;
  struct syn_entry *syn[SYN_BUCKETS];
  char ***groups; /* each a NULL-terminated word array */
  size_t ngroups;
  struct syn_entry *stop[SYN_BUCKETS]; /* query stop list */
  char stamp[17]; /* ob_text_lang_stamp of the folder loaded */
  /* code points that t2s changes; text without any skips OpenCC */
  unsigned char trad[(TRAD_HI - TRAD_LO + 1) / 8 + 1];
  /* friso's words of recently seen CJK runs (see emit_words) */
  pthread_mutex_t seg_lock;
  struct seg_entry *seg[SEG_SLOTS];
};

static uint32_t hash_bytes(const char *s, size_t n)
{
  return (uint32_t)ob_fnv64(s, n);
}

static void syn_put(ob_text *t, const char *w, size_t group)
{
  uint32_t b = hash_bytes(w, strlen(w)) % SYN_BUCKETS;
  for (struct syn_entry *e = t->syn[b]; e; e = e->next)
    if (strcmp(e->word, w) == 0)
      return; /* first group wins */
  struct syn_entry *e = ob_xmalloc(sizeof *e);
  e->word = ob_xstrdup(w);
  e->group = group;
  e->next = t->syn[b];
  t->syn[b] = e;
}

static void set_put(struct syn_entry **set, const char *w)
{
  uint32_t b = hash_bytes(w, strlen(w)) % SYN_BUCKETS;
  struct syn_entry *e = ob_xmalloc(sizeof *e);
  e->word = ob_xstrdup(w);
  e->group = 0;
  e->next = set[b];
  set[b] = e;
}

int ob_text_is_stop(const ob_text *t, const char *word, size_t len)
{
  uint32_t b = hash_bytes(word, len) % SYN_BUCKETS;
  for (struct syn_entry *e = t->stop[b]; e; e = e->next)
    if (strlen(e->word) == len && memcmp(e->word, word, len) == 0)
      return 1;
  return 0;
}

const char *const *ob_text_synonyms(const ob_text *t, const char *word, size_t len)
{
  uint32_t b = hash_bytes(word, len) % SYN_BUCKETS;
  for (struct syn_entry *e = t->syn[b]; e; e = e->next)
    if (strlen(e->word) == len && memcmp(e->word, word, len) == 0)
      return (const char *const *)t->groups[e->group];
  return NULL;
}

/* Adds a word to friso's dictionary; friso keeps the pointer. */
static void lex_add(ob_text *t, const char *w)
{
  if (strlen(w) >= 60)
    return;
  friso_dic_add_with_fre(t->friso->dic, __LEX_CJK_WORDS__, ob_xstrdup(w), NULL, 1000);
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

/* Normalises a resource word the same way text is normalised. */
static ob_status norm_word(ob_text *t, const char *w, ob_buf *out, char *err)
{
  ob_buf_reset(out);
  return ob_text_normalize(t, w, strlen(w), out, NULL, err);
}

/* The longest line a language resource file may have; a longer one is an
 * error, not two lines. A whole file is read at most this large. */
#define LANG_LINE_MAX 4096
#define LANG_FILE_MAX ((size_t)8 << 20)

typedef ob_status (*line_fn)(ob_text *t, char *line, ob_buf *nb, int stop, char *err);

/* Folds one resource file's bytes into a language stamp (see
 * ob_text_lang_stamp: ops.dic, then synonyms.txt). */
static unsigned long long stamp_fold(unsigned long long h, const ob_buf *b)
{
  return h * 1099511628211ULL ^ ob_fnv64(b->data ? b->data : "", b->len);
}

/* Reads a resource file whole into b; a missing one is an I/O error of
 * the folder, as any other. */
static ob_status read_resource(ob_buf *b, const char *path, char *err)
{
  ob_buf_init(b, LANG_FILE_MAX);
  ob_status st = ob_buf_read_file(b, path, err);
  return st == OB_ENOTFOUND ? OB_EIO : st;
}

/* Calls fn on every line of a resource file that is neither blank nor a
 * '#' comment, trimmed; an error names the file and line. With hash, the
 * file's bytes are folded into *hash (stamp_fold), read once for both. */
static ob_status each_line(ob_text *t, const char *path, line_fn fn, int stop,
                           unsigned long long *hash, char *err)
{
  ob_buf b, nb;
  ob_status st = read_resource(&b, path, err);
  unsigned lineno = 0;
  ob_buf_init(&nb, 256);
  if (st)
    goto out;
  if (hash)
    *hash = stamp_fold(*hash, &b);
  for (char *p = b.data, *end = b.data + b.len; p < end && !st;) {
    char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
      e = end;
    lineno++;
    if ((size_t)(e - p) > LANG_LINE_MAX) {
      st = ob_fail(err, OB_EINPUT, "%s:%u: line longer than %d bytes", path, lineno, LANG_LINE_MAX);
      break;
    }
    if (memchr(p, '\0', (size_t)(e - p))) {
      st = ob_fail(err, OB_EINPUT, "%s:%u: NUL byte", path, lineno);
      break;
    }
    *e = '\0'; /* the buffer is ours; b.data[b.len] is NUL already */
    char *s = trim(p);
    p = e + 1;
    if (!*s || *s == '#')
      continue;
    if ((st = fn(t, s, &nb, stop, err)) != OB_OK)
      st = ob_fail(err, st, "%s:%u: invalid word", path, lineno);
  }
out:
  ob_buf_free(&nb);
  ob_buf_free(&b);
  return st;
}

/* ops.dic and stopwords.txt: one word a line. */
static ob_status word_line(ob_text *t, char *s, ob_buf *nb, int stop, char *err)
{
  ob_status st = norm_word(t, s, nb, err);
  if (st)
    return OB_EINPUT;
  if (stop)
    set_put(t->stop, nb->data);
  else
    lex_add(t, nb->data);
  return OB_OK;
}

/* synonyms.txt: one group a line, words separated by spaces or '/'. */
static ob_status synonym_line(ob_text *t, char *s, ob_buf *nb, int stop, char *err)
{
  char **words = NULL;
  size_t nw = 0;
  char *save = NULL;
  ob_status st = OB_OK;
  (void)stop;
  for (char *w = strtok_r(s, " /\t", &save); w; w = strtok_r(NULL, " /\t", &save)) {
    if (norm_word(t, w, nb, err) != OB_OK || nb->len == 0) {
      st = OB_EINPUT;
      break;
    }
    words = ob_xrealloc(words, (nw + 2) * sizeof *words);
    words[nw++] = ob_xstrdup(nb->data);
    words[nw] = NULL;
  }
  if (st != OB_OK || nw < 2) {
    for (size_t i = 0; i < nw; i++)
      free(words[i]);
    free(words);
    return st;
  }
  t->groups = ob_xrealloc(t->groups, (t->ngroups + 1) * sizeof *t->groups);
  t->groups[t->ngroups] = words;
  for (size_t i = 0; i < nw; i++) {
    syn_put(t, words[i], t->ngroups);
    lex_add(t, words[i]);
  }
  t->ngroups++;
  return OB_OK;
}

/* Converts every ideograph alone (one a line) once, and remembers the
 * ones t2s changes: most text has none of them and then needs no OpenCC
 * pass at all, which is most of the cost of normalising. */
static ob_status build_trad_set(ob_text *t, char *err)
{
  ob_buf all;
  ob_status st = OB_OK;
  ob_buf_init(&all, (size_t)8 << 20);
  for (uint32_t cp = TRAD_LO; cp <= TRAD_HI; cp++) {
    char u[4];
    size_t l = ob_utf8_encode(cp, u);
    if ((st = ob_buf_append(&all, u, l)) || (st = ob_buf_putc(&all, '\n')))
      goto out;
  }
  char *conv = opencc_convert_utf8(t->cc, all.data, all.len);
  if (!conv) {
    st = ob_fail(err, OB_EINTERNAL, "OpenCC: %s", opencc_error());
    goto out;
  }
  const char *a = all.data, *b = conv;
  for (uint32_t cp = TRAD_LO; cp <= TRAD_HI && *a && *b; cp++) {
    const char *ae = strchr(a, '\n'), *be = strchr(b, '\n');
    if (!ae || !be)
      break;
    if (ae - a != be - b || memcmp(a, b, (size_t)(ae - a)) != 0)
      t->trad[(cp - TRAD_LO) / 8] |= (unsigned char)(1u << ((cp - TRAD_LO) % 8));
    a = ae + 1;
    b = be + 1;
  }
  opencc_convert_utf8_free(conv);
out:
  ob_buf_free(&all);
  return st;
}

static int is_trad(const ob_text *t, uint32_t cp)
{
  if (cp < TRAD_LO || cp > TRAD_HI)
    return cp >= 0x20000 && cp <= 0x3134F; /* rare extensions: let OpenCC decide */
  return (t->trad[(cp - TRAD_LO) / 8] >> ((cp - TRAD_LO) % 8)) & 1;
}

ob_status ob_text_lang_stamp(const char *lang_dir, char out[17], char *err)
{
  static const char *const files[] = {"ops.dic", "synonyms.txt"};
  char path[1024];
  ob_status st = OB_OK;
  unsigned long long h = 0;
  if (!lang_dir)
    lang_dir = OB_LANG_DIR;
  for (size_t i = 0; i < sizeof files / sizeof *files && !st; i++) {
    ob_buf b;
    snprintf(path, sizeof path, "%s/%s", lang_dir, files[i]);
    if (!(st = read_resource(&b, path, err)))
      h = stamp_fold(h, &b);
    ob_buf_free(&b);
  }
  if (!st)
    snprintf(out, 17, "%016llx", h);
  return st;
}

const char *ob_text_stamp(const ob_text *t)
{
  return t->stamp;
}

ob_status ob_text_new(const char *lang_dir, ob_text **out, char *err)
{
  ob_text *t = ob_xcalloc(1, sizeof *t);
  ob_status st = OB_OK;
  char path[1024];
  unsigned long long stamp = 0;
  *out = NULL;
  pthread_mutex_init(&t->seg_lock, NULL);
  if (!lang_dir)
    lang_dir = OB_LANG_DIR;

  t->cc = opencc_open(OB_OPENCC_T2S);
  if (t->cc == (opencc_t)-1) {
    t->cc = NULL;
    st = ob_fail(err, OB_EIO, "OpenCC t2s: %s", opencc_error());
    goto out;
  }
  if ((st = build_trad_set(t, err)) != OB_OK)
    goto out;
  t->friso = friso_new();
  t->fconf = friso_new_config();
  if (friso_init_from_ifile(t->friso, t->fconf, (fstring)OB_FRISO_INI) != 1) {
    st = ob_fail(err, OB_EIO, "friso: cannot load %s (is friso-dict installed?)",
                 OB_FRISO_INI);
    goto out;
  }
  /* we expand synonyms ourselves, at query time and at low weight */
  t->fconf->add_syn = 0;
  t->fconf->clr_stw = 0;
  t->fconf->en_sseg = 0;
  t->fconf->max_len = 7; /* lexicon words such as 服务水平协议 are longer than 5 */

  /* the stamp comes from the bytes loaded, in ob_text_lang_stamp's order */
  snprintf(path, sizeof path, "%s/ops.dic", lang_dir);
  if ((st = each_line(t, path, word_line, 0, &stamp, err)) != OB_OK)
    goto out;
  snprintf(path, sizeof path, "%s/stopwords.txt", lang_dir);
  if ((st = each_line(t, path, word_line, 1, NULL, err)) != OB_OK)
    goto out;
  snprintf(path, sizeof path, "%s/synonyms.txt", lang_dir);
  if ((st = each_line(t, path, synonym_line, 0, &stamp, err)) != OB_OK)
    goto out;
  snprintf(t->stamp, sizeof t->stamp, "%016llx", stamp);
out:
  if (st != OB_OK) {
    ob_text_free(t);
    return st;
  }
  *out = t;
  return OB_OK;
}

void ob_text_free(ob_text *t)
{
  if (!t)
    return;
  if (t->cc)
    opencc_close(t->cc);
  if (t->friso)
    friso_free(t->friso);
  if (t->fconf)
    friso_free_config(t->fconf);
  for (size_t b = 0; b < SYN_BUCKETS; b++) {
    struct syn_entry *e = t->syn[b];
    while (e) {
      struct syn_entry *n = e->next;
      free(e->word);
      free(e);
      e = n;
    }
  }
  for (size_t b = 0; b < SYN_BUCKETS; b++) {
    struct syn_entry *e = t->stop[b];
    while (e) {
      struct syn_entry *n = e->next;
      free(e->word);
      free(e);
      e = n;
    }
  }
  for (size_t g = 0; g < t->ngroups; g++) {
    for (char **w = t->groups[g]; *w; w++)
      free(*w);
    free(t->groups[g]);
  }
  free(t->groups);
  for (size_t i = 0; i < SEG_SLOTS; i++)
    free(t->seg[i]);
  pthread_mutex_destroy(&t->seg_lock);
  free(t);
}

/* Records that count output bytes came from input byte src: one append
 * per code point, not per byte (the snippet path runs this over every
 * hit's text). */
static ob_status map_push(ob_buf *map, size_t src, size_t count)
{
  size_t v[16];
  while (count) {
    size_t k = count < 16 ? count : 16;
    for (size_t i = 0; i < k; i++)
      v[i] = src;
    ob_status st = ob_buf_append(map, v, k * sizeof *v);
    if (st)
      return st;
    count -= k;
  }
  return OB_OK;
}

/* Records that the len output bytes of a run copied byte for byte came from
 * the input bytes at src: each code point of step bytes maps to its first
 * byte, as map_push does one code point at a time. */
static ob_status map_run(ob_buf *map, size_t src, size_t len, size_t step)
{
  size_t v[48];
  for (size_t done = 0; done < len;) {
    size_t k = len - done < 48 ? len - done : 48;
    for (size_t i = 0; i < k; i++)
      v[i] = src + (done + i) / step * step;
    ob_status st = ob_buf_append(map, v, k * sizeof *v);
    if (st)
      return st;
    done += k;
  }
  return OB_OK;
}

/* Length of the run at p of unified ideographs (three bytes each) that
 * neither NFKC nor t2s changes. */
static size_t plain_han_run(const ob_text *t, const unsigned char *p, size_t n)
{
  size_t j = 0;
  uint32_t cp;
  while ((cp = ob_utf8_han3(p + j, n - j)) >= 0x4E00 && !is_trad(t, cp))
    j += 3;
  return j;
}

/* NFKC + case fold of one code point, appended to out. */
static ob_status fold_cp(uint32_t cp, const unsigned char *src, size_t srclen, ob_buf *out)
{
  if (cp < 0x80)
    return ob_buf_putc(out, (char)tolower((int)cp));
  if (cp >= 0x4E00 && cp <= 0x9FFF) /* NFKC leaves unified ideographs alone */
    return ob_buf_append(out, src, srclen);
  utf8proc_uint8_t *m = NULL;
  utf8proc_ssize_t r = utf8proc_map(src, (utf8proc_ssize_t)srclen, &m,
                                    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                        UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
  ob_status st;
  if (r < 0)
    st = ob_buf_append(out, src, srclen);
  else
    st = ob_buf_append(out, m, (size_t)r);
  free(m);
  return st;
}

/* Appends src to dst; when dst is empty, by handing src's memory over. */
static ob_status buf_put(ob_buf *dst, ob_buf *src)
{
  if (dst->len || src->len > dst->max)
    return ob_buf_append(dst, src->data, src->len);
  free(dst->data);
  dst->data = src->data;
  dst->len = src->len;
  dst->cap = src->cap;
  src->data = NULL;
  src->len = src->cap = 0;
  return OB_OK;
}

ob_status ob_text_normalize(const ob_text *t, const char *s, size_t n, ob_buf *out,
                            ob_buf *map, char *err)
{
  const unsigned char *p = (const unsigned char *)s;
  ob_buf tmp, tmap;
  ob_status st = OB_OK;
  char *conv = NULL;
  int need_cc = 0;
  ob_buf_init(&tmp, out->max);
  ob_buf_init(&tmap, map ? map->max : 0);
  /* most text keeps its length: one allocation each instead of a doubling
   * chain. Sized within max, neither can fail; the appends check anyway. */
  ob_status hint = ob_buf_reserve(&tmp, n < out->max ? n : out->max);
  if (hint == OB_OK && map && n <= tmap.max / sizeof(size_t))
    hint = ob_buf_reserve(&tmap, n * sizeof(size_t));
  (void)hint;

  for (size_t i = 0; i < n;) {
    /* Fast path: a run of ASCII, or of ideographs that stay as they are,
     * is copied whole (the snippets normalise every hit's text). */
    size_t run = 0, step = 1;
    if (p[i] < 0x80) {
      while (i + run < n && p[i + run] && p[i + run] < 0x80)
        run++;
    } else {
      run = plain_han_run(t, p + i, n - i);
      step = 3;
    }
    if (run) {
      size_t at = tmp.len;
      if ((st = ob_buf_append(&tmp, p + i, run)) != OB_OK) {
        ob_fail(err, st, "text too long after normalisation");
        goto out;
      }
      if (step == 1)
        for (size_t k = at; k < tmp.len; k++)
          tmp.data[k] = (char)tolower((unsigned char)tmp.data[k]);
      if (map && (st = map_run(&tmap, i, run, step)) != OB_OK)
        goto out;
      i += run;
      continue;
    }
    uint32_t cp;
    size_t l = ob_utf8_decode(p + i, n - i, &cp);
    if (l == 0 || cp == 0) {
      st = ob_fail(err, OB_EINPUT, "invalid UTF-8 at byte %zu", i);
      goto out;
    }
    size_t before = tmp.len;
    if ((st = fold_cp(cp, p + i, l, &tmp)) != OB_OK) {
      ob_fail(err, st, "text too long after normalisation");
      goto out;
    }
    if (!need_cc && tmp.len > before) {
      uint32_t fc;
      size_t fl = ob_utf8_decode((const unsigned char *)tmp.data + before, tmp.len - before, &fc);
      need_cc = fl > 0 && is_trad(t, fc);
    }
    if (map && (st = map_push(&tmap, i, tmp.len - before)) != OB_OK)
      goto out;
    i += l;
  }
  if (tmp.len == 0)
    goto out;

  /* Traditional -> simplified. OpenCC converts phrase by phrase; the
   * byte map stays valid only when the length is unchanged, which holds
   * for t2s in practice; otherwise map every byte to its old position
   * proportionally (highlights may then be off by a character). */
  if (!need_cc) { /* nothing traditional: the folded text is final */
    if ((st = buf_put(out, &tmp)) != OB_OK) {
      ob_fail(err, st, "text too long");
      goto out;
    }
    if (map && (st = buf_put(map, &tmap)) != OB_OK)
      goto out;
    goto out;
  }
  conv = opencc_convert_utf8(t->cc, tmp.data, tmp.len);
  if (!conv) {
    st = ob_fail(err, OB_EINTERNAL, "OpenCC: %s", opencc_error());
    goto out;
  }
  size_t clen = strlen(conv);
  if ((st = ob_buf_append(out, conv, clen)) != OB_OK) {
    ob_fail(err, st, "text too long");
    goto out;
  }
  if (map) {
    const size_t *m = (const size_t *)tmap.data;
    for (size_t j = 0; j < clen; j++) {
      size_t k = clen == tmp.len ? j : j * tmp.len / clen;
      if ((st = ob_buf_append(map, &m[k], sizeof m[k])) != OB_OK)
        goto out;
    }
  }
out:
  if (conv)
    opencc_convert_utf8_free(conv);
  ob_buf_free(&tmp);
  ob_buf_free(&tmap);
  return st;
}

static int is_word_cp(uint32_t cp)
{
  if (cp < 0x80)
    return isalnum((int)cp);
  utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
  return c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LU ||
         c == UTF8PROC_CATEGORY_LO || c == UTF8PROC_CATEGORY_ND ||
         c == UTF8PROC_CATEGORY_LT || c == UTF8PROC_CATEGORY_LM;
}

static size_t seg_size(uint32_t runlen, uint32_t nw, uint32_t wbytes)
{
  return sizeof(struct seg_entry) + runlen + nw * sizeof(struct seg_word) + wbytes;
}

/* The words of a memoised run copied into *copy (caller frees), or NULL. */
static struct seg_entry *seg_get(const ob_text *t, uint32_t h, const char *run, size_t n)
{
  ob_text *mt = (ob_text *)t; /* the memo is the one mutable part, behind its lock */
  struct seg_entry *copy = NULL;
  pthread_mutex_lock(&mt->seg_lock);
  const struct seg_entry *e = t->seg[h % SEG_SLOTS];
  if (e && e->hash == h && e->runlen == n && memcmp(e + 1, run, n) == 0) {
    size_t sz = seg_size(e->runlen, e->nw, e->wbytes);
    copy = ob_xmalloc(sz);
    memcpy(copy, e, sz);
  }
  pthread_mutex_unlock(&mt->seg_lock);
  return copy;
}

static void seg_put(const ob_text *t, struct seg_entry *e)
{
  ob_text *mt = (ob_text *)t;
  pthread_mutex_lock(&mt->seg_lock);
  struct seg_entry **slot = &mt->seg[e->hash % SEG_SLOTS];
  free(*slot);
  *slot = e;
  pthread_mutex_unlock(&mt->seg_lock);
}

/* Replays a run's words to fn. */
static int seg_emit(const struct seg_entry *e, size_t base, ob_token_fn fn, void *ctx)
{
  const char *p = (const char *)(e + 1) + e->runlen;
  struct seg_word w;
  const char *words = p + e->nw * sizeof w;
  int stop = 0;
  for (uint32_t i = 0; i < e->nw && !stop; i++) {
    memcpy(&w, p + i * sizeof w, sizeof w);
    ob_token tok = {OB_TOK_WORD, words, w.wlen, base + w.off, base + w.off + w.rlen};
    words += w.wlen;
    stop = fn(&tok, ctx);
  }
  return stop;
}

/* friso words of one CJK run; run is NUL-terminated scratch. friso's
 * segmentation of a run depends on the run alone, and it is the dearest
 * step of indexing: titles, symptoms and tags recur on every entry of a
 * document and everyday clauses recur across documents, so runs seen
 * recently are answered from the memo. *task is made on first use and
 * reused for the caller's next runs. */
static int emit_words(const ob_text *t, friso_task_t *task, char *run, size_t n, size_t base,
                      ob_token_fn fn, void *ctx)
{
  uint32_t h = hash_bytes(run, n);
  int memo = n <= SEG_RUN_MAX;
  if (memo) {
    struct seg_entry *e = seg_get(t, h, run, n);
    if (e) {
      int stop = seg_emit(e, base, fn, ctx);
      free(e);
      return stop;
    }
  }
  /* segment, keeping the words for the memo */
  struct seg_word ws[SEG_RUN_MAX];
  char wb[SEG_RUN_MAX * 2];
  uint32_t nw = 0, wbytes = 0;
  if (!*task)
    *task = friso_new_task();
  friso_set_text(*task, run);
  while (t->fconf->next_token(t->friso, t->fconf, *task) != NULL) {
    friso_token_t tk = (*task)->token;
    size_t wl = strlen(tk->word);
    if (tk->type != __LEX_CJK_WORDS__ && tk->type != __LEX_OTHER_WORDS__)
      continue;
    if (ob_utf8_count(tk->word, wl) < 2 || wl >= OB_TOKEN_MAX)
      continue;
    if (memo && nw < SEG_RUN_MAX && wbytes + wl <= sizeof wb) {
      ws[nw].off = (uint32_t)tk->offset;
      ws[nw].rlen = (uint32_t)tk->rlen;
      ws[nw].wlen = (uint32_t)wl;
      memcpy(wb + wbytes, tk->word, wl);
      nw++;
      wbytes += (uint32_t)wl;
    } else {
      memo = 0;
    }
    ob_token tok = {OB_TOK_WORD, tk->word, wl, base + (size_t)tk->offset,
                    base + (size_t)tk->offset + (size_t)tk->rlen};
    if (fn(&tok, ctx)) /* stopped early: the word list is incomplete */
      return 1;
  }
  if (memo) {
    struct seg_entry *e = ob_xmalloc(seg_size((uint32_t)n, nw, wbytes));
    e->hash = h;
    e->runlen = (uint32_t)n;
    e->nw = nw;
    e->wbytes = wbytes;
    char *p = (char *)(e + 1);
    memcpy(p, run, n);
    memcpy(p + n, ws, nw * sizeof *ws);
    memcpy(p + n + nw * sizeof *ws, wb, wbytes);
    seg_put(t, e);
  }
  return 0;
}

ob_status ob_text_tokenize(const ob_text *t, const char *norm, size_t n, ob_token_fn fn,
                           void *ctx)
{
  const unsigned char *p = (const unsigned char *)norm;
  size_t i = 0;
  char *scratch = NULL;
  friso_task_t task = NULL;
  int stop = 0;
  while (i < n && !stop) {
    uint32_t cp;
    size_t l = ob_utf8_decode(p + i, n - i, &cp);
    if (l == 0) {
      i++;
      continue;
    }
    if (ob_utf8_is_cjk(cp)) {
      size_t start = i, prev = (size_t)-1, prevlen = 0;
      while (i < n && !stop) {
        l = ob_utf8_decode(p + i, n - i, &cp);
        if (l == 0 || !ob_utf8_is_cjk(cp))
          break;
        ob_token u = {OB_TOK_CJK1, norm + i, l, i, i + l};
        stop = fn(&u, ctx);
        if (!stop && prev != (size_t)-1) {
          ob_token b = {OB_TOK_CJK2, norm + prev, prevlen + l, prev, i + l};
          stop = fn(&b, ctx);
        }
        prev = i;
        prevlen = l;
        i += l;
      }
      if (!stop && i - start > 3) { /* words need two characters */
        scratch = ob_xrealloc(scratch, i - start + 1);
        memcpy(scratch, norm + start, i - start);
        scratch[i - start] = '\0';
        stop = emit_words(t, &task, scratch, i - start, start, fn, ctx);
      }
    } else if (is_word_cp(cp)) {
      size_t start = i;
      while (i < n) {
        l = ob_utf8_decode(p + i, n - i, &cp);
        if (l == 0 || ob_utf8_is_cjk(cp) || !is_word_cp(cp))
          break;
        i += l;
      }
      size_t len = i - start;
      if (len >= OB_TOKEN_MAX) { /* truncate on a character boundary */
        len = OB_TOKEN_MAX - 1;
        while (len > 0 && (p[start + len] & 0xC0) == 0x80)
          len--;
      }
      ob_token w = {OB_TOK_LATIN, norm + start, len, start, i};
      stop = fn(&w, ctx);
      /* a name and a number (iso17799, raid5) or a number and a unit
       * (24h, 5g) also give their two parts, so that "ISO" or "24" finds
       * them; runs that change more often (zs00001q, a1b2) are codes and
       * stay whole */
      size_t cut = 0, changes = 0;
      for (size_t b = start + 1; len == i - start && b < i; b++)
        if ((p[b] >= '0' && p[b] <= '9') != (p[b - 1] >= '0' && p[b - 1] <= '9')) {
          cut = b;
          changes++;
        }
      if (!stop && changes == 1) {
        ob_token head = {OB_TOK_LATIN, norm + start, cut - start, start, cut};
        ob_token tail = {OB_TOK_LATIN, norm + cut, i - cut, cut, i};
        stop = fn(&head, ctx) || fn(&tail, ctx);
      }
    } else {
      i += l;
    }
  }
  free(scratch);
  if (task)
    friso_free_task(task);
  return OB_OK;
}
