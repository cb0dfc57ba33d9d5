/* index.c - incremental, idempotent indexing of a handbook folder. */
#define _GNU_SOURCE
#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "schema.h"

#define PATH_MAX_OB 4096

static uint64_t fnv64(const char *s, size_t n)
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

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

/* ---- turning a document into entries ---- */

struct termctx {
  ob_xdoc *xd;
  unsigned wdf;
  char term[OB_TOKEN_MAX + 8];
};

static int add_tok(const ob_token *tok, void *vctx)
{
  struct termctx *c = vctx;
  if (tok->kind == OB_TOK_WORD) {
    size_t pl = sizeof OB_P_WORD - 1;
    memcpy(c->term, OB_P_WORD, pl);
    memcpy(c->term + pl, tok->s, tok->len);
    ob_xdoc_add_term(c->xd, c->term, pl + tok->len, c->wdf);
  } else {
    ob_xdoc_add_term(c->xd, tok->s, tok->len, c->wdf);
  }
  return 0;
}

static ob_status index_text(const ob_text *t, ob_xdoc *xd, const char *s, unsigned wdf,
                            ob_buf *norm, char *err)
{
  if (!s || !*s)
    return OB_OK;
  ob_buf_reset(norm);
  ob_status st = ob_text_normalize(t, s, strlen(s), norm, NULL, err);
  if (st)
    return st;
  struct termctx c = {xd, wdf, {0}};
  return ob_text_tokenize(t, norm->data ? norm->data : "", norm->len, add_tok, &c);
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

ob_status ob_index_put_doc(ob_xwriter *w, const ob_text *t, const ob_doc *d, size_t *entries,
                           char *err)
{
  ob_buf norm, rec, slots;
  ob_status st = OB_OK;
  ob_xdoc *xd = NULL;
  char term[256];
  ob_buf_init(&norm, (size_t)8 * OB_DOC_MAX_BYTES);
  ob_buf_init(&rec, (size_t)4 * OB_DOC_MAX_BYTES);
  ob_buf_init(&slots, 4096);
  *entries = 0;

  snprintf(term, sizeof term, "%s%s", OB_P_DOC, d->id);
  if ((st = ob_xwriter_delete(w, term, err)) != OB_OK)
    goto out;
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
    xd = ob_xdoc_new();
    if ((st = index_text(t, xd, d->title, OB_WDF_TITLE, &norm, err)) ||
        (st = index_text(t, xd, s->heading, OB_WDF_HEADING, &norm, err)) ||
        (st = index_text(t, xd, s->text, OB_WDF_BODY, &norm, err)))
      goto out;
    /* a document's symptoms lead to it as a whole: at full weight when it
     * has one entry, lightly on each entry otherwise; a section's own
     * symptoms lead to that section */
    unsigned dw = d->nsections > 1 ? OB_WDF_DOC_SYMPTOM : OB_WDF_SYMPTOM;
    for (size_t k = 0; k < d->symptoms.n; k++)
      if ((st = index_text(t, xd, d->symptoms.v[k], dw, &norm, err)))
        goto out;
    for (size_t k = 0; k < s->symptoms.n; k++)
      if ((st = index_text(t, xd, s->symptoms.v[k], OB_WDF_SYMPTOM, &norm, err)))
        goto out;
    for (size_t k = 0; k < d->tags.n; k++) {
      if ((st = index_text(t, xd, d->tags.v[k], OB_WDF_TAG, &norm, err)))
        goto out;
      add_bool(xd, OB_P_TAG, d->tags.v[k]);
    }
    add_bool(xd, OB_P_DOC, d->id);
    add_bool(xd, OB_P_TYPE, d->type);
    add_bool(xd, OB_P_CATEGORY, d->category);
    add_bool(xd, OB_P_PATH, d->path);
    char idx[24];
    int il = snprintf(idx, sizeof idx, "%zu", i);
    ob_xdoc_set_value(xd, OB_V_DOC, d->id, strlen(d->id));
    ob_xdoc_set_value(xd, OB_V_SECTION, idx, (size_t)il);

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
    snprintf(term, sizeof term, "%s%s#%zu", OB_P_UNIQUE, d->id, i);
    if ((st = ob_xwriter_replace(w, term, xd, err)) != OB_OK)
      goto out;
    ob_xdoc_free(xd);
    xd = NULL;
    (*entries)++;
  }
out:
  ob_xdoc_free(xd);
  ob_buf_free(&norm);
  ob_buf_free(&rec);
  ob_buf_free(&slots);
  return st;
}

static void stat_key(const struct stat *sb, const char *data, size_t len, const char *id,
                     char *out, size_t outsz)
{
  long long mt = (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
  snprintf(out, outsz, "%lld %lld %016" PRIx64 " %s", (long long)sb->st_size, mt,
           data ? fnv64(data, len) : 0, id ? id : "");
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

struct run {
  const ob_text *t;
  const ob_index_opts *o;
  ob_index_report *r;
  ob_xwriter *w;
  struct seen seen;  /* relative paths of every .md file found */
  struct seen ids;   /* "id\tpath" claimed in this run */
  char *err;
};

static void reject(struct run *run, const char *rel, const char *msg)
{
  run->r->rejected++;
  if (run->o->log)
    fprintf(run->o->log, "%s/%s:%s\n", run->o->handbook, rel, msg);
}

static ob_status index_file(struct run *run, const char *rel, const char *abs,
                            const struct stat *sb)
{
  char key[PATH_MAX_OB + 16], val[512], cheap[512], perr[OB_ERR_SIZE];
  ob_buf old, data;
  ob_doc *d = NULL;
  ob_status st = OB_OK;
  ob_buf_init(&old, 1024);
  ob_buf_init(&data, OB_DOC_MAX_BYTES);
  run->r->scanned++;
  seen_add(&run->seen, rel);

  snprintf(key, sizeof key, "%s%s", OB_M_FILE, rel);
  if ((st = ob_xwriter_get_meta(run->w, key, &old, run->err)))
    goto out;
  /* same size and mtime: unchanged without reading it */
  stat_key(sb, NULL, 0, NULL, cheap, sizeof cheap);
  size_t cl = strcspn(cheap, " ");
  cl += 1 + strcspn(cheap + cl + 1, " ");
  if (old.len > cl && strncmp(old.data, cheap, cl) == 0) {
    run->r->unchanged++;
    goto out;
  }
  if (ob_buf_read_file(&data, abs, perr) != OB_OK) {
    reject(run, rel, data.len ? "1: file larger than 256 KiB" : " cannot read");
    goto out;
  }
  stat_key(sb, data.data, data.len, NULL, val, sizeof val);
  /* content unchanged (touched only): refresh the stamp */
  if (old.len) {
    size_t hl = strlen(val);
    if (hl > 0 && val[hl - 1] == ' ')
      hl--;
    const char *h_old = strchr(strchr(old.data, ' ') + 1, ' ');
    const char *h_new = strchr(strchr(val, ' ') + 1, ' ');
    if (h_old && h_new && strncmp(h_old, h_new, 17) == 0) {
      const char *oid = strchr(h_old + 1, ' ');
      if ((st = ob_index_put_file_meta(run->w, rel, abs, data.data, data.len,
                                       oid ? oid + 1 : "", run->err)))
        goto out;
      run->r->unchanged++;
      goto out;
    }
  }
  if (ob_doc_parse(rel, data.data, data.len, &d, perr) != OB_OK) {
    reject(run, rel, perr);
    goto out;
  }
  /* one id, one file */
  for (size_t i = 0; i < run->ids.n; i++) {
    const char *tab = strchr(run->ids.paths[i], '\t');
    if ((size_t)(tab - run->ids.paths[i]) == strlen(d->id) &&
        strncmp(run->ids.paths[i], d->id, strlen(d->id)) == 0) {
      char m[OB_ERR_SIZE];
      snprintf(m, sizeof m, "1: duplicate id '%s' (also %.180s)", d->id, tab + 1);
      reject(run, rel, m);
      goto out;
    }
  }
  {
    /* ... also across runs: an unchanged file may own the id already */
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
      goto out;
    if ((st = ob_xwriter_set_meta(run->w, ikey, rel, run->err)))
      goto out;
  }
  {
    char idp[PATH_MAX_OB + 80];
    snprintf(idp, sizeof idp, "%s\t%s", d->id, rel);
    seen_add(&run->ids, idp);
  }
  /* the file used to have another id: drop the old entries */
  if (old.len) {
    const char *h_old = strchr(strchr(old.data, ' ') + 1, ' ');
    const char *oid = h_old ? strchr(h_old + 1, ' ') : NULL;
    if (oid && strcmp(oid + 1, d->id) != 0) {
      char term[256];
      snprintf(term, sizeof term, "%s%s", OB_P_DOC, oid + 1);
      if ((st = ob_xwriter_delete(run->w, term, run->err)))
        goto out;
    }
  }
  size_t n = 0;
  if ((st = ob_index_put_doc(run->w, run->t, d, &n, run->err)) ||
      (st = ob_index_put_file_meta(run->w, rel, abs, data.data, data.len, d->id, run->err)))
    goto out;
  run->r->entries += n;
  if (old.len)
    run->r->updated++;
  else
    run->r->added++;
  if (run->o->verbose && run->o->log)
    fprintf(run->o->log, "indexed %s (%s, %zu entries)\n", rel, d->id, n);
out:
  ob_doc_free(d);
  ob_buf_free(&old);
  ob_buf_free(&data);
  return st;
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
        st = index_file(run, crel, cabs, &sb);
    }
  }
  for (size_t i = 0; i < nn; i++)
    free(list[i]);
  free(list);
  return st;
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

ob_status ob_index_run(const ob_text *t, const ob_index_opts *o, ob_index_report *r,
                       char *err)
{
  int lockfd = -1;
  ob_status st;
  struct run run;
  struct gone g;
  char name[64], path[PATH_MAX_OB], newname[64];
  struct stat sb;
  memset(r, 0, sizeof *r);
  memset(&run, 0, sizeof run);
  memset(&g, 0, sizeof g);
  run.t = t;
  run.o = o;
  run.r = r;
  run.err = err;
  newname[0] = '\0';

  if (stat(o->handbook, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return ob_fail(err, OB_ENOTFOUND, "%s: not a folder", o->handbook);
  if ((st = ob_index_lock(o->db, 0, &lockfd, err)))
    return st;
  st = read_current(o->db, name, sizeof name, err);
  if (st == OB_ENOTFOUND) {
    snprintf(name, sizeof name, "idx-1");
    snprintf(newname, sizeof newname, "%s", name);
  } else if (st) {
    goto out;
  } else if (o->rebuild) {
    long n = strtol(name + 4, NULL, 10);
    snprintf(newname, sizeof newname, "idx-%ld", n + 1);
  }
  snprintf(path, sizeof path, "%s/%s", o->db, newname[0] ? newname : name);
  if (newname[0])
    remove_tree(path); /* leftovers of an interrupted rebuild */
  if ((st = ob_xwriter_open(path, &run.w, err)))
    goto out;
  if ((st = walk(&run, "")))
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
      int still = 0; /* another file may have taken the id over */
      for (size_t k = 0; k < run.ids.n; k++)
        if (!strncmp(run.ids.paths[k], id + 1, strlen(id + 1)) &&
            run.ids.paths[k][strlen(id + 1)] == '\t')
          still = 1;
      if (!still && (st = ob_xwriter_delete(run.w, term, err)))
        goto out;
    }
    if ((st = ob_xwriter_set_meta(run.w, key, "", err)))
      goto out;
    r->deleted++;
  }
  if ((st = ob_xwriter_set_meta(run.w, OB_M_SCHEMA, OB_SCHEMA_VERSION, err)) ||
      (st = ob_xwriter_commit(run.w, err)))
    goto out;
  ob_xwriter_close(run.w);
  run.w = NULL;
  if (newname[0]) {
    if ((st = write_current(o->db, newname, err)))
      goto out;
    if (strcmp(newname, name) != 0) {
      char oldp[PATH_MAX_OB];
      snprintf(oldp, sizeof oldp, "%s/%s", o->db, name);
      remove_tree(oldp);
    }
  }
out:
  ob_xwriter_close(run.w);
  seen_free(&run.seen);
  seen_free(&run.ids);
  seen_free(&g.keys);
  ob_index_unlock(lockfd);
  return st;
}
