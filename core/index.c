/* index.c - incremental, idempotent indexing of a handbook folder. */
#define _GNU_SOURCE
#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "schema.h"
#include "utf8.h"

#define PATH_MAX_OB 4096

void ob_index_record_fields(const char *rec, size_t len, const char *f[], size_t flen[])
{
  size_t i = 0, k = 0;
  while (k < OB_R_NFIELDS) {
    const char *s = rec + i;
    const char *z = i < len ? memchr(s, '\0', len - i) : NULL;
    size_t n = z ? (size_t)(z - s) : (i < len ? len - i : 0);
    f[k] = i < len ? s : "";
    flen[k] = n;
    k++;
    i += n + 1;
  }
}

/* ---- locking and the CURRENT pointer ---- */

ob_status ob_index_lock(const char *db, int wait_ms, int *fd, char *err)
{
  char path[PATH_MAX_OB];
  *fd = -1;
  if (mkdir(db, 0755) != 0 && errno != EEXIST)
    return ob_fail(err, OB_EIO, "%s: cannot create: %s", db, strerror(errno));
  snprintf(path, sizeof path, "%s/LOCK", db);
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0)
    return ob_fail(err, OB_EIO, "%s: %s", path, strerror(errno));
  for (int waited = 0;; waited += 10) {
    if (flock(f, LOCK_EX | LOCK_NB) == 0)
      break;
    if (errno != EWOULDBLOCK || waited >= wait_ms) {
      close(f);
      return ob_fail(err, OB_ELOCKED,
                     "%s: another opsbook writer (indexer or server) holds the index lock; "
                     "try again when it has finished", db);
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  *fd = f;
  return OB_OK;
}

void ob_index_unlock(int fd)
{
  if (fd >= 0) {
    flock(fd, LOCK_UN);
    close(fd);
  }
}

static ob_status read_current(const char *db, char *name, size_t namesz, char *err)
{
  char path[PATH_MAX_OB];
  snprintf(path, sizeof path, "%s/CURRENT", db);
  FILE *f = fopen(path, "r");
  name[0] = '\0';
  if (!f)
    return ob_fail(err, errno == ENOENT ? OB_ENOTFOUND : OB_EIO,
                   "%s: no index here (run opsbook-index first): %s", db, strerror(errno));
  if (!fgets(name, (int)namesz, f))
    name[0] = '\0';
  fclose(f);
  name[strcspn(name, "\r\n")] = '\0';
  if (strncmp(name, "idx-", 4) != 0 || strchr(name, '/'))
    return ob_fail(err, OB_EINDEX, "%s/CURRENT: corrupt", db);
  return OB_OK;
}

ob_status ob_index_resolve(const char *db, char *out, size_t outsz, char *err)
{
  char name[64];
  ob_status st = read_current(db, name, sizeof name, err);
  if (st)
    return st;
  if ((size_t)snprintf(out, outsz, "%s/%s", db, name) >= outsz)
    return ob_fail(err, OB_ETOOBIG, "%s: path too long", db);
  return OB_OK;
}

static int fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

static ob_status write_current(const char *db, const char *name, char *err)
{
  char tmp[PATH_MAX_OB], path[PATH_MAX_OB];
  snprintf(tmp, sizeof tmp, "%s/CURRENT.tmp", db);
  snprintf(path, sizeof path, "%s/CURRENT", db);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return ob_fail(err, OB_EIO, "%s: %s", tmp, strerror(errno));
  size_t n = strlen(name);
  int ok = write(fd, name, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return ob_fail(err, OB_EIO, "%s: %s", path, strerror(errno));
  }
  fsync_dir(db);
  return OB_OK;
}

static void remove_tree(const char *path)
{
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      char sub[PATH_MAX_OB];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      struct stat sb;
      if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
        remove_tree(sub);
      else
        unlink(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

void ob_index_process_init(void)
{
  setenv("XAPIAN_FLUSH_THRESHOLD", OB_FLUSH_ENTRIES, 0);
}

/* ---- turning a document into entries ---- */

/* The terms of one entry with their summed wdf, before they go to Xapian:
 * an open-addressing table over an arena of term bytes. Adding each
 * distinct term once with its total wdf gives the same document as adding
 * every occurrence, at a fraction of the cost; and the terms every entry of
 * a document shares (title, document symptoms, tags) are tokenised once
 * per document instead of once per entry. */
struct tslot {
  uint32_t hash, len, off, wdf; /* len 0: empty */
};

struct terms {
  struct tslot *v;
  size_t cap, n;  /* cap a power of two */
  ob_buf arena;
};

static void terms_init(struct terms *ts)
{
  memset(ts, 0, sizeof *ts);
  ob_buf_init(&ts->arena, (size_t)-1);
}

static void terms_reset(struct terms *ts)
{
  if (ts->v)
    memset(ts->v, 0, ts->cap * sizeof *ts->v);
  ts->n = 0;
  ob_buf_reset(&ts->arena);
}

static void terms_free(struct terms *ts)
{
  free(ts->v);
  ob_buf_free(&ts->arena);
  memset(ts, 0, sizeof *ts);
}

static uint32_t term_hash(const char *s, size_t n)
{
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

static void terms_grow(struct terms *ts)
{
  size_t cap = ts->cap ? ts->cap * 2 : 512;
  struct tslot *v = ob_xcalloc(cap, sizeof *v);
  for (size_t i = 0; i < ts->cap; i++) {
    if (!ts->v[i].len)
      continue;
    size_t k = ts->v[i].hash & (cap - 1);
    while (v[k].len)
      k = (k + 1) & (cap - 1);
    v[k] = ts->v[i];
  }
  free(ts->v);
  ts->v = v;
  ts->cap = cap;
}

/* Adds wdf to a term (prefix + s), as ob_xdoc_add_term would. */
static ob_status terms_add(struct terms *ts, const char *prefix, size_t pl, const char *s,
                           size_t n, unsigned wdf)
{
  char term[OB_TOKEN_MAX + 8];
  if (pl + n > sizeof term || pl + n == 0)
    return OB_OK;
  memcpy(term, prefix, pl);
  memcpy(term + pl, s, n);
  n += pl;
  if (2 * (ts->n + 1) > ts->cap)
    terms_grow(ts);
  uint32_t h = term_hash(term, n);
  size_t k = h & (ts->cap - 1);
  for (; ts->v[k].len; k = (k + 1) & (ts->cap - 1)) {
    struct tslot *e = &ts->v[k];
    if (e->hash == h && e->len == n && memcmp(ts->arena.data + e->off, term, n) == 0) {
      e->wdf += wdf;
      return OB_OK;
    }
  }
  struct tslot *e = &ts->v[k];
  e->hash = h;
  e->len = (uint32_t)n;
  e->off = (uint32_t)ts->arena.len;
  e->wdf = wdf;
  ts->n++;
  return ob_buf_append(&ts->arena, term, n);
}

/* Adds every term of src into dst. */
static ob_status terms_merge(struct terms *dst, const struct terms *src)
{
  ob_status st = OB_OK;
  for (size_t i = 0; i < src->cap && !st; i++)
    if (src->v[i].len)
      st = terms_add(dst, "", 0, src->arena.data + src->v[i].off, src->v[i].len, src->v[i].wdf);
  return st;
}

static void terms_to_doc(const struct terms *ts, ob_xdoc *xd)
{
  for (size_t i = 0; i < ts->cap; i++)
    if (ts->v[i].len)
      ob_xdoc_add_term(xd, ts->arena.data + ts->v[i].off, ts->v[i].len, ts->v[i].wdf);
}

struct termctx {
  struct terms *ts;
  unsigned wdf;
  ob_status st;
};

static int add_tok(const ob_token *tok, void *vctx)
{
  struct termctx *c = vctx;
  if (tok->kind == OB_TOK_WORD && ob_utf8_count(tok->s, tok->len) == 2)
    c->st = OB_OK; /* a two-character word is its bigram, indexed already */
  else if (tok->kind == OB_TOK_WORD)
    c->st = terms_add(c->ts, OB_P_WORD, sizeof OB_P_WORD - 1, tok->s, tok->len, c->wdf);
  else
    c->st = terms_add(c->ts, "", 0, tok->s, tok->len, c->wdf);
  return c->st != OB_OK;
}

static ob_status index_text(const ob_text *t, struct terms *ts, const char *s, unsigned wdf,
                            ob_buf *norm, char *err)
{
  if (!s || !*s)
    return OB_OK;
  ob_buf_reset(norm);
  ob_status st = ob_text_normalize(t, s, strlen(s), norm, NULL, err);
  if (st)
    return st;
  struct termctx c = {ts, wdf, OB_OK};
  st = ob_text_tokenize(t, norm->data ? norm->data : "", norm->len, add_tok, &c);
  return st ? st : c.st;
}

static void add_bool(ob_xdoc *xd, const char *prefix, const char *v)
{
  if (!v || !*v)
    return;
  char term[256];
  int n = snprintf(term, sizeof term, "%s%s", prefix, v);
  if (n > 0 && (size_t)n < sizeof term)
    ob_xdoc_add_boolean(xd, term, (size_t)n);
}

static ob_status rec_field(ob_buf *b, const char *s)
{
  ob_status st = ob_buf_puts(b, s ? s : "");
  return st ? st : ob_buf_putc(b, '\0');
}

static int tag_in(const struct ob_section *s, const char *tag)
{
  return (s->heading && strstr(s->heading, tag)) || (s->text && strstr(s->text, tag));
}

/* A tag of a multi-entry document that some of its sections name and
 * others do not belongs to those sections only. */
static int tag_local(const ob_doc *d, size_t k)
{
  size_t in = 0, n = 0;
  if (d->nsections < 2 || !*d->tags.v[k])
    return 0;
  for (size_t i = 0; i < d->nsections; i++) {
    if (!*d->sections[i].text)
      continue;
    n++;
    in += tag_in(&d->sections[i], d->tags.v[k]) != 0;
  }
  return in > 0 && in < n;
}

/* A document turned into entries, ready for the writer. */
struct prepared {
  char *xdterm;   /* XD<id>: deletes the document's old entries */
  ob_xdoc **xd;
  size_t n;
};

static void prepared_free(struct prepared *p)
{
  for (size_t i = 0; i < p->n; i++) {
    ob_xdoc_free(p->xd[i]);
  }
  free(p->xd);
  free(p->xdterm);
  memset(p, 0, sizeof *p);
}

/* Everything but the writes: touches no index, so it can run on another
 * thread than the writer's. */
static ob_status prepare_doc(const ob_text *t, const ob_doc *d, struct prepared *p, char *err)
{
  ob_buf norm, rec, slots;
  ob_status st = OB_OK;
  ob_xdoc *xd = NULL;
  struct terms shared, ts;
  int have_shared = 0;
  unsigned char *local = NULL; /* per tag: on the sections that name it only */
  char term[256];
  ob_buf_init(&norm, (size_t)OB_NFKC_GROWTH * OB_DOC_MAX_BYTES);
  ob_buf_init(&rec, (size_t)4 * OB_DOC_MAX_BYTES);
  ob_buf_init(&slots, 4096);
  terms_init(&shared);
  terms_init(&ts);
  memset(p, 0, sizeof *p);
  snprintf(term, sizeof term, "%s%s", OB_P_DOC, d->id);
  p->xdterm = ob_xstrdup(term);
  p->xd = ob_xcalloc(d->nsections ? d->nsections : 1, sizeof *p->xd);
  for (size_t i = 0; i < d->slots.n; i++) {
    if ((st = ob_buf_puts(&slots, d->slots.v[i])) || (st = ob_buf_putc(&slots, '\n')))
      goto out;
  }
  for (size_t i = 0; i < d->nsections; i++) {
    const struct ob_section *s = &d->sections[i];
    /* an empty section (a lead before the first heading, a heading whose
     * content is all in subsections) answers nothing, unless it is all */
    if (!*s->text && d->nsections > 1)
      continue;
    /* a document's symptoms lead to it as a whole, lightly on each entry
     * (schema 8: a one-entry document's too, where they were at a
     * section's weight); a section's own symptoms lead to that section */
    if (!have_shared) {
      if ((st = index_text(t, &shared, d->title, OB_WDF_TITLE, &norm, err)))
        goto out;
      for (size_t k = 0; k < d->symptoms.n; k++)
        if ((st = index_text(t, &shared, d->symptoms.v[k], OB_WDF_DOC_SYMPTOM, &norm, err)))
          goto out;
      local = ob_xcalloc(d->tags.n ? d->tags.n : 1, 1);
      for (size_t k = 0; k < d->tags.n; k++) {
        local[k] = (unsigned char)tag_local(d, k);
        if (!local[k] && (st = index_text(t, &shared, d->tags.v[k], OB_WDF_TAG, &norm, err)))
          goto out;
      }
      have_shared = 1;
    }
    terms_reset(&ts);
    if ((st = terms_merge(&ts, &shared)) ||
        (st = index_text(t, &ts, s->heading, OB_WDF_HEADING, &norm, err)) ||
        (st = index_text(t, &ts, s->text, OB_WDF_BODY, &norm, err)))
      goto out;
    for (size_t k = 0; k < s->symptoms.n; k++)
      if ((st = index_text(t, &ts, s->symptoms.v[k], OB_WDF_SYMPTOM, &norm, err)))
        goto out;
    for (size_t k = 0; k < d->tags.n; k++)
      if (local[k] && tag_in(s, d->tags.v[k]) &&
          (st = index_text(t, &ts, d->tags.v[k], OB_WDF_TAG, &norm, err)))
        goto out;
    xd = ob_xdoc_new();
    terms_to_doc(&ts, xd);
    for (size_t k = 0; k < d->tags.n; k++)
      add_bool(xd, OB_P_TAG, d->tags.v[k]);
    add_bool(xd, OB_P_DOC, d->id);
    add_bool(xd, OB_P_TYPE, d->type);
    add_bool(xd, OB_P_CATEGORY, d->category);
    ob_buf_reset(&rec);
    if ((st = ob_buf_puts(&rec, d->type)) || (st = ob_buf_putc(&rec, ':')) ||
        (st = ob_buf_puts(&rec, d->id))) {
      ob_fail(err, st, "document too large");
      goto out;
    }
    ob_xdoc_set_value(xd, OB_V_DOC, rec.data, rec.len);

    ob_buf_reset(&rec);
    if ((st = rec_field(&rec, d->id)) || (st = rec_field(&rec, d->type)) ||
        (st = rec_field(&rec, d->title)) || (st = rec_field(&rec, s->heading)) ||
        (st = rec_field(&rec, s->anchor)) || (st = rec_field(&rec, d->category)) ||
        (st = rec_field(&rec, d->path)) || (st = rec_field(&rec, s->text)) ||
        (st = rec_field(&rec, slots.data))) {
      ob_fail(err, st, "document too large");
      goto out;
    }
    ob_xdoc_set_data(xd, rec.data, rec.len);
    p->xd[p->n++] = xd;
    xd = NULL;
  }
out:
  free(local);
  ob_xdoc_free(xd);
  terms_free(&shared);
  terms_free(&ts);
  ob_buf_free(&norm);
  ob_buf_free(&rec);
  ob_buf_free(&slots);
  if (st)
    prepared_free(p);
  return st;
}

/* Replaces the document's entries: deletes every entry of its id, then
 * adds the new ones. In an index built from nothing (fresh) no id can be
 * there yet, since a run refuses a second file with the same id, and the
 * delete is skipped: inside one big transaction each such lookup merges
 * the on-disk and pending postings, a quarter of a fresh build's time. */
static ob_status write_prepared(ob_xwriter *w, const struct prepared *p, int fresh, char *err)
{
  ob_status st = fresh ? OB_OK : ob_xwriter_delete(w, p->xdterm, err);
  for (size_t i = 0; i < p->n && !st; i++)
    st = ob_xwriter_add(w, p->xd[i], err);
  return st;
}

ob_status ob_index_put_doc(ob_xwriter *w, const ob_text *t, const ob_doc *d, size_t *entries,
                           char *err)
{
  struct prepared p;
  *entries = 0;
  ob_status st = prepare_doc(t, d, &p, err);
  if (st)
    return st;
  if ((st = write_prepared(w, &p, 0, err)) == OB_OK)
    *entries = p.n;
  prepared_free(&p);
  return st;
}



static void stat_key(const struct stat *sb, const char *data, size_t len, const char *id,
                     char *out, size_t outsz)
{
  long long mt = (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
  snprintf(out, outsz, "%lld %lld %016" PRIx64 " %s", (long long)sb->st_size, mt,
           data ? (uint64_t)ob_fnv64(data, len) : 0, id ? id : "");
}

ob_status ob_index_put_file_meta(ob_xwriter *w, const char *relpath, const char *abspath,
                                 const char *data, size_t len, const char *id, char *err)
{
  struct stat sb;
  char key[PATH_MAX_OB + 16], val[512];
  if (stat(abspath, &sb) != 0)
    return ob_fail(err, OB_EIO, "%s: %s", abspath, strerror(errno));
  snprintf(key, sizeof key, "%s%s", OB_M_FILE, relpath);
  stat_key(&sb, data, len, id, val, sizeof val);
  return ob_xwriter_set_meta(w, key, val, err);
}

/* ---- the walk ---- */

struct seen {
  char **paths;
  size_t n, cap;
};

static void seen_add(struct seen *s, const char *p)
{
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->paths = ob_xrealloc(s->paths, s->cap * sizeof *s->paths);
  }
  s->paths[s->n++] = ob_xstrdup(p);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int seen_has(const struct seen *s, const char *p)
{
  return bsearch(&p, s->paths, s->n, sizeof *s->paths, cmp_str) != NULL;
}

/* ids claimed in this run: id -> path, an open-addressing table */
struct idset {
  char **v; /* "id\tpath" */
  size_t cap, n;
};

static size_t id_len(const char *e)
{
  return (size_t)(strchr(e, '\t') - e);
}

static const char *idset_get(const struct idset *s, const char *id)
{
  size_t n = strlen(id);
  if (!s->cap)
    return NULL;
  for (size_t k = term_hash(id, n) & (s->cap - 1); s->v[k]; k = (k + 1) & (s->cap - 1))
    if (id_len(s->v[k]) == n && memcmp(s->v[k], id, n) == 0)
      return s->v[k] + n + 1;
  return NULL;
}

static void idset_put(struct idset *s, const char *id, const char *path)
{
  if (2 * (s->n + 1) > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    char **v = ob_xcalloc(cap, sizeof *v);
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->v[i])
        continue;
      size_t k = term_hash(s->v[i], id_len(s->v[i])) & (cap - 1);
      while (v[k])
        k = (k + 1) & (cap - 1);
      v[k] = s->v[i];
    }
    free(s->v);
    s->v = v;
    s->cap = cap;
  }
  size_t n = strlen(id), pl = strlen(path);
  size_t k = term_hash(id, n) & (s->cap - 1);
  while (s->v[k])
    k = (k + 1) & (s->cap - 1);
  s->v[k] = ob_xmalloc(n + pl + 2);
  memcpy(s->v[k], id, n);
  s->v[k][n] = '\t';
  memcpy(s->v[k] + n + 1, path, pl + 1);
  s->n++;
}

static void idset_free(struct idset *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* One .md file of the walk. The walk lists them and reads their recorded
 * state; a worker thread reads, parses and tokenises the ones that
 * changed (prep_job), ahead of the writer, which takes them in walk order
 * (index_file). */
enum job_state { J_SKIP, J_TODO, J_REJECT, J_SAME, J_DOC, J_FAIL };

struct job {
  char *rel, *abs;
  struct stat sb;
  ob_buf old;            /* the recorded state ("" for a new file) */
  enum job_state state;
  int read;              /* data holds the file (read_job) */
  ob_buf data;           /* the file (J_SAME, J_DOC) */
  char msg[OB_ERR_SIZE]; /* J_REJECT: "line: reason"; J_FAIL: the error */
  ob_status st;          /* J_FAIL */
  ob_doc *d;             /* J_DOC */
  struct prepared p;     /* J_DOC */
};

struct run {
  const ob_text *t;
  ob_text *own_t; /* loaded by the run when the caller gave none */
  const ob_index_opts *o;
  ob_index_report *r;
  ob_xwriter *w;
  struct seen seen;  /* relative paths of every .md file found */
  struct idset ids;  /* id -> path claimed in this run */
  struct job *jobs;
  size_t njobs, capjobs;
  /* the hand-off: the worker has prepared jobs [0, ready), the writer has
   * finished [0, done); the worker stays at most AHEAD jobs in front */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t ready, done;
  int quit;
  int fresh; /* writing a new, empty index (first run or rebuild) */
  char *err;
  /* a fresh build with several writers (see struct shard) */
  struct shard *shards;
  unsigned nopen;    /* shards opened (closed by close_shards) */
  unsigned nshards;  /* shards written: > 1, the writes go to their threads */
  size_t next_shard; /* the shard the next accepted file goes to */
  size_t inflight;   /* files handed to a shard and not yet written */
  int shards_quit;   /* no more files: each shard ends when its queue is empty */
  int shard_failed;  /* some shard's write failed: stop */
};

/* A fresh build of many files spreads its Xapian writes over several
 * threads, each writing a shard of its own (idx-N.build, idx-N.build1, ...)
 * that the final compaction merges in shard order. The writer is what
 * limits a build (Xapian's cost per entry), and one writer keeps only one
 * of two cores busy. The main thread still takes every file in walk order
 * and keeps the bookkeeping (ids, report); it hands each accepted file to
 * the next shard in turn. Shard 0 is run->w, which the main thread uses
 * again once the shards' threads have ended. */
struct shard {
  struct run *run;
  ob_xwriter *w;
  pthread_t th;
  size_t *q; /* indexes into run->jobs, written in order */
  size_t qhead, qn, qcap;
  ob_status st;
  char err[OB_ERR_SIZE];
  char path[PATH_MAX_OB + 16];
};

#define AHEAD 64

static void reject(struct run *run, const char *rel, const char *msg)
{
  run->r->rejected++;
  if (run->o->log)
    fprintf(run->o->log, "%s/%s:%s\n", run->o->handbook, rel, msg);
}

static void job_free(struct job *j)
{
  free(j->rel);
  free(j->abs);
  ob_buf_free(&j->old);
  ob_buf_free(&j->data);
  ob_doc_free(j->d);
  prepared_free(&j->p);
  memset(j, 0, sizeof *j);
}

/* The content hash of a recorded state ("<size> <mtime> <hash> <id>"). */
static const char *state_hash(const char *v)
{
  const char *a = strchr(v, ' ');
  return a ? strchr(a + 1, ' ') : NULL;
}

/* Reads one listed file; marks it J_SAME when only its stamp changed
 * (touched) and J_REJECT when it cannot be read. Returns whether it is
 * still to be parsed. */
static int read_job(struct job *j)
{
  char val[512];
  if (j->read)
    return j->state == J_TODO;
  j->read = 1;
  ob_buf_init(&j->data, OB_DOC_MAX_BYTES);
  if (ob_buf_read_file(&j->data, j->abs, j->msg) != OB_OK) {
    snprintf(j->msg, sizeof j->msg, "%s",
             j->data.len ? "1: file larger than 256 KiB" : " cannot read");
    j->state = J_REJECT;
    return 0;
  }
  /* content unchanged (touched only): the writer refreshes the stamp */
  if (j->old.len) {
    stat_key(&j->sb, j->data.data, j->data.len, NULL, val, sizeof val);
    const char *h_old = state_hash(j->old.data), *h_new = state_hash(val);
    if (h_old && h_new && strncmp(h_old, h_new, 17) == 0) {
      j->state = J_SAME;
      return 0;
    }
  }
  return 1;
}

/* Reads, parses and tokenises one changed file; touches no index. */
static void prep_job(const ob_text *t, struct job *j)
{
  if (!read_job(j))
    return;
  if (ob_doc_parse(j->rel, j->data.data, j->data.len, &j->d, j->msg) != OB_OK) {
    j->state = J_REJECT;
    return;
  }
  if ((j->st = prepare_doc(t, j->d, &j->p, j->msg)) != OB_OK) {
    j->state = J_FAIL;
    return;
  }
  j->state = J_DOC;
}

static void *worker(void *vrun)
{
  struct run *run = vrun;
  for (size_t i = 0; i < run->njobs; i++) {
    pthread_mutex_lock(&run->mu);
    while (!run->quit && i >= run->done + AHEAD)
      pthread_cond_wait(&run->cv, &run->mu);
    int quit = run->quit;
    pthread_mutex_unlock(&run->mu);
    if (quit)
      break;
    if (run->jobs[i].state == J_TODO)
      prep_job(run->t, &run->jobs[i]);
    pthread_mutex_lock(&run->mu);
    run->ready = i + 1;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
  }
  return NULL;
}

/* Writes one accepted file: its id's owner, its entries, its state. */
static ob_status write_job(ob_xwriter *w, int fresh, const struct job *j, char *err)
{
  char ikey[128];
  snprintf(ikey, sizeof ikey, "ob:id:%s", j->d->id);
  ob_status st = ob_xwriter_set_meta(w, ikey, j->rel, err);
  if (!st)
    st = write_prepared(w, &j->p, fresh, err);
  if (!st)
    st = ob_index_put_file_meta(w, j->rel, j->abs, j->data.data, j->data.len, j->d->id, err);
  return st;
}

static void *shard_main(void *vsh)
{
  struct shard *sh = vsh;
  struct run *run = sh->run;
  for (;;) {
    pthread_mutex_lock(&run->mu);
    while (sh->qhead == sh->qn && !run->shards_quit)
      pthread_cond_wait(&run->cv, &run->mu);
    if (sh->qhead == sh->qn) {
      pthread_mutex_unlock(&run->mu);
      break;
    }
    struct job *j = &run->jobs[sh->q[sh->qhead++]];
    int failed = run->shard_failed;
    pthread_mutex_unlock(&run->mu);
    ob_status st = failed ? OB_OK : write_job(sh->w, 1, j, sh->err);
    job_free(j);
    pthread_mutex_lock(&run->mu);
    run->inflight--;
    if (st && !sh->st) {
      sh->st = st;
      run->shard_failed = 1;
    }
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
  }
  return NULL;
}

/* Tells the first n shards' threads that no more files come and waits
 * until each has written what it was given. */
static void stop_shards(struct run *run, unsigned n)
{
  pthread_mutex_lock(&run->mu);
  run->shards_quit = 1;
  pthread_cond_broadcast(&run->cv);
  pthread_mutex_unlock(&run->mu);
  for (unsigned k = 0; k < n; k++)
    pthread_join(run->shards[k].th, NULL);
}

/* Queues an accepted file on the next shard; waits while AHEAD files are
 * queued already, so prepared files do not pile up in memory. */
static ob_status hand_off(struct run *run, struct job *j)
{
  struct shard *sh = &run->shards[run->next_shard++ % run->nshards];
  ob_status st = OB_OK;
  pthread_mutex_lock(&run->mu);
  while (run->inflight >= AHEAD && !run->shard_failed)
    pthread_cond_wait(&run->cv, &run->mu);
  if (run->shard_failed) {
    st = OB_EINTERNAL; /* the shard's own error is reported at the end */
  } else {
    if (sh->qn == sh->qcap) {
      sh->qcap = sh->qcap ? sh->qcap * 2 : 256;
      sh->q = ob_xrealloc(sh->q, sh->qcap * sizeof *sh->q);
    }
    sh->q[sh->qn++] = (size_t)(j - run->jobs);
    run->inflight++;
    pthread_cond_broadcast(&run->cv);
  }
  pthread_mutex_unlock(&run->mu);
  return st;
}

/* The writer's part of one file, in walk order. With shards the write of
 * an accepted file is handed to one (*handed set): the shard frees it. */
static ob_status index_file(struct run *run, struct job *j, int *handed)
{
  const char *rel = j->rel;
  ob_status st = OB_OK;
  switch (j->state) {
  case J_SKIP:
    run->r->unchanged++;
    return OB_OK;
  case J_REJECT:
    reject(run, rel, j->msg);
    return OB_OK;
  case J_SAME: {
    const char *h_old = state_hash(j->old.data);
    const char *oid = strchr(h_old + 1, ' ');
    if ((st = ob_index_put_file_meta(run->w, rel, j->abs, j->data.data, j->data.len,
                                     oid ? oid + 1 : "", run->err)))
      return st;
    run->r->unchanged++;
    return OB_OK;
  }
  case J_FAIL:
  case J_DOC:
  case J_TODO:
    break;
  }
  const ob_doc *d = j->d;
  /* one id, one file */
  const char *other = d ? idset_get(&run->ids, d->id) : NULL;
  if (other) {
    char m[OB_ERR_SIZE];
    snprintf(m, sizeof m, "1: duplicate id '%s' (also %.180s)", d->id, other);
    reject(run, rel, m);
    return OB_OK;
  }
  if (j->state == J_TODO) /* not prepared: cannot happen */
    return ob_fail(run->err, OB_EINTERNAL, "%s: not prepared", rel);
  if (!run->fresh) {
    /* ... also across runs: an unchanged file may own the id already (an
     * index built from nothing has no other run's files) */
    char ikey[128], owner_abs[PATH_MAX_OB];
    struct stat osb;
    ob_buf owner;
    ob_buf_init(&owner, PATH_MAX_OB);
    snprintf(ikey, sizeof ikey, "ob:id:%s", d->id);
    st = ob_xwriter_get_meta(run->w, ikey, &owner, run->err);
    int taken = st == OB_OK && owner.len && strcmp(owner.data, rel) != 0;
    if (taken) {
      snprintf(owner_abs, sizeof owner_abs, "%s/%s", run->o->handbook, owner.data);
      taken = stat(owner_abs, &osb) == 0;
    }
    if (taken) {
      char m[OB_ERR_SIZE];
      snprintf(m, sizeof m, "1: duplicate id '%s' (also %.180s)", d->id, owner.data);
      reject(run, rel, m);
    }
    ob_buf_free(&owner);
    if (st || taken)
      return st;
  }
  idset_put(&run->ids, d->id, rel);
  /* the file used to have another id: drop the old entries */
  if (j->old.len) {
    const char *h_old = state_hash(j->old.data);
    const char *oid = h_old ? strchr(h_old + 1, ' ') : NULL;
    if (oid && strcmp(oid + 1, d->id) != 0) {
      char term[256];
      snprintf(term, sizeof term, "%s%s", OB_P_DOC, oid + 1);
      if ((st = ob_xwriter_delete(run->w, term, run->err)))
        return st;
    }
  }
  if (j->state == J_FAIL) {
    snprintf(run->err, OB_ERR_SIZE, "%s", j->msg);
    return j->st;
  }
  /* counted first: a shard may free the job as soon as it has it */
  run->r->entries += j->p.n;
  if (j->old.len)
    run->r->updated++;
  else
    run->r->added++;
  if (run->o->verbose && run->o->log)
    fprintf(run->o->log, "indexed %s (%s, %zu entries)\n", rel, d->id, j->p.n);
  if (run->nshards <= 1)
    return write_job(run->w, run->fresh, j, run->err);
  if ((st = hand_off(run, j)) == OB_OK)
    *handed = 1;
  return st;
}

/* Lists a file and reads its recorded state: same size and mtime means
 * unchanged without reading it. */
static ob_status list_file(struct run *run, const char *rel, const char *abs,
                           const struct stat *sb)
{
  char key[PATH_MAX_OB + 16], cheap[512];
  run->r->scanned++;
  seen_add(&run->seen, rel);
  if (run->njobs == run->capjobs) {
    run->capjobs = run->capjobs ? run->capjobs * 2 : 256;
    run->jobs = ob_xrealloc(run->jobs, run->capjobs * sizeof *run->jobs);
  }
  struct job *j = &run->jobs[run->njobs++];
  memset(j, 0, sizeof *j);
  j->rel = ob_xstrdup(rel);
  j->abs = ob_xstrdup(abs);
  j->sb = *sb;
  j->state = J_TODO;
  ob_buf_init(&j->old, 1024);
  snprintf(key, sizeof key, "%s%s", OB_M_FILE, rel);
  ob_status st = ob_xwriter_get_meta(run->w, key, &j->old, run->err);
  if (st)
    return st;
  stat_key(sb, NULL, 0, NULL, cheap, sizeof cheap);
  size_t cl = strcspn(cheap, " ");
  cl += 1 + strcspn(cheap + cl + 1, " ");
  if (j->old.len > cl && strncmp(j->old.data, cheap, cl) == 0)
    j->state = J_SKIP;
  return OB_OK;
}

static ob_status walk(struct run *run, const char *rel)
{
  char abs[PATH_MAX_OB];
  snprintf(abs, sizeof abs, "%s%s%s", run->o->handbook, *rel ? "/" : "", rel);
  DIR *dir = opendir(abs);
  if (!dir)
    return ob_fail(run->err, OB_EIO, "%s: %s", abs, strerror(errno));
  ob_status st = OB_OK;
  size_t nn = 0;
  struct dirent *e;
  char **list = NULL;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.' || e->d_name[0] == '_' || !strcmp(e->d_name, "README.md"))
      continue;
    list = ob_xrealloc(list, (nn + 1) * sizeof *list);
    list[nn++] = ob_xstrdup(e->d_name);
  }
  closedir(dir);
  qsort(list, nn, sizeof *list, cmp_str); /* deterministic order */
  for (size_t i = 0; i < nn && st == OB_OK; i++) {
    char crel[PATH_MAX_OB], cabs[PATH_MAX_OB];
    int l1 = snprintf(crel, sizeof crel, "%s%s%s", rel, *rel ? "/" : "", list[i]);
    int l2 = snprintf(cabs, sizeof cabs, "%s/%s", run->o->handbook, crel);
    struct stat sb;
    if (l1 < 0 || (size_t)l1 >= sizeof crel || l2 < 0 || (size_t)l2 >= sizeof cabs ||
        lstat(cabs, &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode))
      st = walk(run, crel);
    else if (S_ISREG(sb.st_mode)) {
      size_t l = strlen(list[i]);
      if (l > 3 && !strcmp(list[i] + l - 3, ".md"))
        st = list_file(run, crel, cabs, &sb);
    }
  }
  for (size_t i = 0; i < nn; i++)
    free(list[i]);
  free(list);
  return st;
}

/* Indexes every listed file: a worker thread prepares, this one writes. */
static ob_status index_all(struct run *run)
{
  pthread_t th;
  ob_status st = OB_OK;
  if (!run->t) {
    /* read listed files up to the first one that has to be parsed: when
     * none has (nothing changed, or only touched), no tokeniser is loaded */
    int parse = 0;
    for (size_t i = 0; i < run->njobs && !parse; i++)
      parse = run->jobs[i].state == J_TODO && read_job(&run->jobs[i]);
    if (parse) {
      if ((st = ob_text_new(run->o->lang, &run->own_t, run->err)))
        return st;
      run->t = run->own_t;
    }
  }
  /* the shards' threads; with fewer than two of them shard 0 (run->w) is
   * written in line, as in a build with one writer */
  unsigned started = 0;
  if (run->nshards > 1)
    while (started < run->nshards &&
           pthread_create(&run->shards[started].th, NULL, shard_main, &run->shards[started]) == 0)
      started++;
  if (started < 2) { /* the one started, if any, ends at once */
    stop_shards(run, started);
    started = 0;
    run->shards_quit = 0;
  }
  run->nshards = started ? started : 1; /* later shards stay empty */
  int threaded = pthread_create(&th, NULL, worker, run) == 0;
  if (!threaded) { /* no thread to be had: prepare in line */
    run->done = (size_t)-1 / 2;
    worker(run);
  }
  for (size_t i = 0; i < run->njobs && !st; i++) {
    int handed = 0;
    pthread_mutex_lock(&run->mu);
    while (run->ready <= i)
      pthread_cond_wait(&run->cv, &run->mu);
    pthread_mutex_unlock(&run->mu);
    st = index_file(run, &run->jobs[i], &handed);
    if (!handed)
      job_free(&run->jobs[i]);
    pthread_mutex_lock(&run->mu);
    run->done = i + 1;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
  }
  if (threaded) {
    pthread_mutex_lock(&run->mu);
    run->quit = 1;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
    pthread_join(th, NULL);
  }
  if (started) {
    stop_shards(run, started);
    for (unsigned k = 0; k < started; k++)
      if (run->shards[k].st) { /* the first failure is the one to report */
        snprintf(run->err, OB_ERR_SIZE, "%s", run->shards[k].err);
        return run->shards[k].st;
      }
  }
  return st;
}

/* Opens the shards of a fresh build (see struct shard) once the walk has
 * counted its files: shard 0 is run->w at bpath, shard k a new index at
 * bpath + k. */
static ob_status open_shards(struct run *run, const char *bpath)
{
  unsigned n = run->o->writers;
  if (!n) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = run->njobs >= OB_WRITERS_MIN_FILES && cpus >= 2 ? OB_WRITERS : 1;
  }
  if (n > OB_WRITERS_MAX)
    n = OB_WRITERS_MAX;
  if (!run->fresh || n < 2)
    return OB_OK;
  run->shards = ob_xcalloc(n, sizeof *run->shards);
  for (unsigned k = 0; k < n; k++) {
    struct shard *sh = &run->shards[k];
    sh->run = run;
    run->nopen = k + 1;
    if (k == 0) {
      snprintf(sh->path, sizeof sh->path, "%s", bpath);
      sh->w = run->w;
      continue;
    }
    snprintf(sh->path, sizeof sh->path, "%s%u", bpath, k);
    remove_tree(sh->path); /* leftovers of an interrupted build */
    ob_status st = ob_xwriter_open(sh->path, &sh->w, run->err);
    if (st)
      return st;
  }
  run->nshards = n;
  return OB_OK;
}

/* Closes and removes shards 1..n (shard 0 is run->w, closed apart). */
static void close_shards(struct run *run)
{
  for (unsigned k = 1; k < run->nopen; k++) {
    ob_xwriter_close(run->shards[k].w);
    remove_tree(run->shards[k].path);
  }
  for (unsigned k = 0; k < run->nopen; k++)
    free(run->shards[k].q);
  free(run->shards);
  run->shards = NULL;
}

struct gone {
  struct run *run;
  struct seen keys;
};

static int collect_gone(const char *key, const char *val, void *vctx)
{
  struct gone *g = vctx;
  const char *rel = key + strlen(OB_M_FILE);
  if (!seen_has(&g->run->seen, rel)) {
    char both[PATH_MAX_OB + 600];
    snprintf(both, sizeof both, "%s\t%s", key, val);
    seen_add(&g->keys, both);
  }
  return 0;
}

static void seen_free(struct seen *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->paths[i]);
  free(s->paths);
  memset(s, 0, sizeof *s);
}

/* Whether the index `name` was written with this schema version and, with
 * lang_check, cut with the same language resources (stamp; an index older
 * than stamps has none); one that is not is rebuilt whole, beside it. An
 * index that cannot be opened counts as current: opening it for writing
 * reports why. *lang_same says whether the stamps agree (an empty index
 * agrees). */
static int schema_current(const char *db, const char *name, const char *stamp,
                          int lang_check, int *lang_same)
{
  char path[PATH_MAX_OB], err[OB_ERR_SIZE];
  ob_xdb *x = NULL;
  ob_buf v;
  int cur = 1;
  ob_buf_init(&v, 256);
  *lang_same = 1;
  snprintf(path, sizeof path, "%s/%s", db, name);
  if (ob_xdb_open(path, &x, err) == OB_OK && ob_xdb_doc_count(x) > 0 &&
      ob_xdb_get_meta(x, OB_M_SCHEMA, &v, err) == OB_OK) {
    cur = v.len == strlen(OB_SCHEMA_VERSION) && memcmp(v.data, OB_SCHEMA_VERSION, v.len) == 0;
    ob_buf_reset(&v);
    if (ob_xdb_get_meta(x, OB_M_LANG, &v, err) == OB_OK)
      *lang_same = v.len == strlen(stamp) && memcmp(v.data, stamp, v.len) == 0;
    if (lang_check && !*lang_same)
      cur = 0;
  }
  ob_xdb_close(x);
  ob_buf_free(&v);
  return cur;
}

/* After CURRENT names keep: removes every other index folder (idx-N,
 * idx-N.build and its shards idx-N.buildK). After a rebuild that is
 * normally the one just replaced, but a rebuild killed between the switch
 * and the removal leaves its predecessor behind, and one killed earlier
 * its idx-N.build; any later run removes them. The caller holds the lock. */
static void remove_stale(const char *db, const char *keep)
{
  DIR *d = opendir(db);
  struct dirent *e;
  char path[PATH_MAX_OB];
  if (!d)
    return;
  while ((e = readdir(d))) {
    const char *p = e->d_name;
    if (strncmp(p, "idx-", 4) != 0 || strcmp(p, keep) == 0)
      continue;
    p += 4;
    if (*p < '0' || *p > '9')
      continue;
    while (*p >= '0' && *p <= '9')
      p++;
    if (*p) { /* idx-N.build or, a shard of its build, idx-N.buildK */
      if (strncmp(p, ".build", 6) != 0)
        continue;
      p += 6;
      while (*p >= '0' && *p <= '9')
        p++;
      if (*p)
        continue;
    }
    snprintf(path, sizeof path, "%s/%s", db, e->d_name);
    remove_tree(path);
  }
  closedir(d);
}

ob_status ob_index_run(const ob_text *t, const ob_index_opts *o, ob_index_report *r,
                       char *err)
{
  int lockfd = -1;
  ob_status st;
  struct run run;
  struct gone g;
  char name[64], path[PATH_MAX_OB], bpath[PATH_MAX_OB + 8], newname[64], stamp[17];
  int lang_same = 1;
  struct stat sb;
  memset(r, 0, sizeof *r);
  memset(&run, 0, sizeof run);
  memset(&g, 0, sizeof g);
  run.t = t;
  run.o = o;
  run.r = r;
  run.err = err;
  pthread_mutex_init(&run.mu, NULL);
  pthread_cond_init(&run.cv, NULL);
  newname[0] = '\0';

  if (stat(o->handbook, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return ob_fail(err, OB_ENOTFOUND, "%s: not a folder", o->handbook);
  if (t)
    snprintf(stamp, sizeof stamp, "%s", ob_text_stamp(t));
  else if ((st = ob_text_lang_stamp(o->lang, stamp, err)))
    return st;
  if ((st = ob_index_lock(o->db, 0, &lockfd, err)))
    return st;
  st = read_current(o->db, name, sizeof name, err);
  if (st == OB_ENOTFOUND) {
    snprintf(name, sizeof name, "idx-1");
    snprintf(newname, sizeof newname, "%s", name);
  } else if (st) {
    goto out;
  } else if (o->rebuild || !schema_current(o->db, name, stamp, o->lang_check, &lang_same)) {
    long n = strtol(name + 4, NULL, 10);
    snprintf(newname, sizeof newname, "idx-%ld", n + 1);
  }
  snprintf(path, sizeof path, "%s/%s", o->db, newname[0] ? newname : name);
  /* A fresh index is built beside its final folder and compacted into it:
   * readers never see either until CURRENT names it, and the compacted
   * B-trees are full (the postlist about a third smaller). */
  snprintf(bpath, sizeof bpath, "%s.build", path);
  if (newname[0]) {
    remove_tree(path); /* leftovers of an interrupted rebuild */
    remove_tree(bpath);
  }
  run.fresh = newname[0] != '\0';
  if ((st = ob_xwriter_open(newname[0] ? bpath : path, &run.w, err)))
    goto out;
  if ((st = walk(&run, "")) || (st = open_shards(&run, bpath)) || (st = index_all(&run)))
    goto out;
  qsort(run.seen.paths, run.seen.n, sizeof *run.seen.paths, cmp_str);
  g.run = &run;
  if ((st = ob_xwriter_meta_each(run.w, OB_M_FILE, collect_gone, &g, err)))
    goto out;
  for (size_t i = 0; i < g.keys.n; i++) {
    char *key = g.keys.paths[i];
    char *tab = strchr(key, '\t');
    *tab = '\0';
    const char *v = tab + 1;
    const char *h = strchr(strchr(v, ' ') + 1, ' ');
    const char *id = h ? strchr(h + 1, ' ') : NULL;
    if (id && id[1]) {
      char term[256];
      snprintf(term, sizeof term, "%s%s", OB_P_DOC, id + 1);
      int still = idset_get(&run.ids, id + 1) != NULL; /* another file took the id over */
      if (!still && (st = ob_xwriter_delete(run.w, term, err)))
        goto out;
    }
    if ((st = ob_xwriter_set_meta(run.w, key, "", err)))
      goto out;
    r->deleted++;
  }
  if ((st = ob_xwriter_set_meta(run.w, OB_M_SCHEMA, OB_SCHEMA_VERSION, err)) ||
      /* an index cut with other resources keeps their stamp until
       * opsbook-index rebuilds it */
      ((newname[0] || lang_same) && (st = ob_xwriter_set_meta(run.w, OB_M_LANG, stamp, err))) ||
      (st = ob_xwriter_commit(run.w, err)))
    goto out;
  for (unsigned k = 1; k < run.nshards; k++)
    if ((st = ob_xwriter_commit(run.shards[k].w, err)))
      goto out;
  ob_xwriter_close(run.w);
  run.w = NULL;
  if (newname[0]) {
    const char *srcs[OB_WRITERS_MAX];
    srcs[0] = bpath;
    for (unsigned k = 1; k < run.nshards; k++) {
      ob_xwriter_close(run.shards[k].w);
      run.shards[k].w = NULL;
      srcs[k] = run.shards[k].path;
    }
    st = ob_xdb_compact(srcs, run.nshards ? run.nshards : 1, path, err);
    remove_tree(bpath);
    if (st || (st = write_current(o->db, newname, err)))
      goto out;
    remove_stale(o->db, newname);
  } else {
    remove_stale(o->db, name); /* e.g. the idx-N.build of a killed rebuild */
  }
out:
  ob_xwriter_close(run.w);
  close_shards(&run);
  seen_free(&run.seen);
  idset_free(&run.ids);
  for (size_t i = 0; i < run.njobs; i++)
    job_free(&run.jobs[i]);
  free(run.jobs);
  ob_text_free(run.own_t);
  pthread_mutex_destroy(&run.mu);
  pthread_cond_destroy(&run.cv);
  seen_free(&g.keys);
  ob_index_unlock(lockfd);
  return st;
}
