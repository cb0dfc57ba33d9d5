/* lesson.c - the handbook write path; see lesson.h and docs/architecture.md. */
#define _GNU_SOURCE
#include "lesson.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmark.h>

#include "audit.h"
#include "buf.h"
#include "doc.h"
#include "schema.h"
#include "utf8.h"
#include "xap.h"

#define PATH_MAX_OB 4096
#define TMP_MARK ".ob-tmp-" /* temporary files: ".<name>.ob-tmp-XXXXXX" */
#define SENTINEL "ob-end-of-text-sentinel"
#define FAULT_DIR "fault"
#define FAULT_CATEGORY "故障复盘"
#define ITEM_MAX 100 /* characters of a tag or wording */

/* One writer per process at a time; ob_index_lock() serialises processes. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const fault_sections[] = {"现象",     "影响",     "时间线",          "原因",
                                             "处理过程", "处理结果", OB_LESSONS_HEADING};
#define FAULT_NSECTIONS (sizeof fault_sections / sizeof fault_sections[0])

void ob_lesson_result_clear(ob_lesson_result *r)
{
  if (!r)
    return;
  free(r->doc);
  free(r->path);
  free(r->heading);
  free(r->date);
  free(r->author);
  free(r->incident);
  free(r->text);
  free(r->anchor);
  memset(r, 0, sizeof *r);
}

void ob_fault_result_clear(ob_fault_result *r)
{
  if (!r)
    return;
  free(r->id);
  free(r->path);
  memset(r, 0, sizeof *r);
}

/* ---- checking input ---- */

static int is_blank_cp(uint32_t cp)
{
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == 0x3000;
}

/* A one-line field: trimmed of spaces (also U+3000) at both ends, valid
 * UTF-8 without control characters, 1..maxchars characters. *out is a
 * malloc'ed copy, or NULL for an absent or empty optional field. */
static ob_status one_line(const char *s, size_t maxchars, const char *what, int required,
                          char **out, char *err)
{
  *out = NULL;
  size_t n = s ? strlen(s) : 0;
  if (n && !ob_utf8_valid(s, n))
    return ob_fail(err, OB_EINPUT, "%s不是有效的 UTF-8 文本", what);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      return ob_fail(err, OB_EINPUT, "%s只能是一行文字,不能含换行或控制字符", what);
  }
  const char *a = s ? s : "", *b = a + n;
  for (;;) {
    uint32_t cp;
    size_t l = a < b ? ob_utf8_decode((const unsigned char *)a, (size_t)(b - a), &cp) : 0;
    if (!l || !is_blank_cp(cp))
      break;
    a += l;
  }
  while (b > a) {
    if (b[-1] == ' ') {
      b--;
    } else if (b - a >= 3 && memcmp(b - 3, "\xE3\x80\x80", 3) == 0) {
      b -= 3;
    } else {
      break;
    }
  }
  if (a == b) {
    if (required)
      return ob_fail(err, OB_EINPUT, "缺少%s", what);
    return OB_OK;
  }
  if (ob_utf8_count(a, (size_t)(b - a)) > maxchars)
    return ob_fail(err, OB_EINPUT, "%s过长:最多 %zu 个字", what, maxchars);
  *out = ob_xstrndup(a, (size_t)(b - a));
  return OB_OK;
}

/* A value written into front matter as a double-quoted string: the
 * front matter subset has no escape for '"' inside a flow of quotes. */
static ob_status fm_safe(const char *s, const char *what, char *err)
{
  if (s && strchr(s, '"'))
    return ob_fail(err, OB_EINPUT, "%s里不能有英文双引号 \"", what);
  return OB_OK;
}

static int leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" (a real date, years 1900-9999) or NULL for today. */
static ob_status check_date(const char *s, char out[11], char *err)
{
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!s || !*s) {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return OB_OK;
  }
  int ok = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
  for (int i = 0; ok && i < 10; i++)
    ok = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
  if (ok) {
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    ok =
        y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
  }
  if (!ok)
    return ob_fail(err, OB_EINPUT, "日期 date 必须是有效的 YYYY-MM-DD,例如 2024-05-01");
  memcpy(out, s, 11);
  return OB_OK;
}

/* Backslash-escapes the ASCII punctuation that means something inline,
 * so a heading's text reads back exactly as given. */
static ob_status md_escape(ob_buf *b, const char *s)
{
  ob_status st = OB_OK;
  for (; *s && !st; s++) {
    if (strchr("\\`*_[]<>&!#{}|~", *s) && (st = ob_buf_putc(b, '\\')))
      break;
    st = ob_buf_putc(b, *s);
  }
  return st;
}

/* The text of a heading node's inline children (text, code, breaks). */
static void heading_text(cmark_node *h, ob_buf *out)
{
  for (cmark_node *c = cmark_node_first_child(h); c; c = cmark_node_next(c)) {
    const char *l = cmark_node_get_literal(c);
    if (l && ob_buf_puts(out, l)) { /* a heading over the cap is no sentinel */
    }
  }
}

ob_status ob_lesson_check_markdown(const char *s, size_t n, size_t max, int min_level,
                                   const char *what, ob_buf *out, char *err)
{
  ob_buf doc, tmp;
  cmark_node *root = NULL;
  ob_status st = OB_OK;
  ob_buf_reset(out);
  if (n > max)
    return ob_fail(err, OB_ETOOBIG, "%s过长:最多 %zu KiB", what, max / 1024);
  if (!ob_utf8_valid(s, n))
    return ob_fail(err, OB_EINPUT, "%s不是有效的 UTF-8 文本", what);
  {
    /* the shapes cmark is slow on are refused before cmark parses them */
    char serr[OB_ERR_SIZE];
    if (ob_doc_check_shape(s, n, 1, serr) != OB_OK)
      return ob_fail(err, OB_EINPUT, "%s的 Markdown 嵌套过深或方括号过多,请简化格式", what);
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return ob_fail(err, OB_EINPUT, "%s里有控制字符", what);
  }
  /* line ends: CRLF and CR become LF; leading blank lines go */
  size_t start = 0, line0 = 0;
  while (start < n &&
         (s[start] == ' ' || s[start] == '\t' || s[start] == '\r' || s[start] == '\n')) {
    if (s[start] == '\n' || s[start] == '\r')
      line0 = start + 1;
    start++;
  }
  for (size_t i = line0; i < n && !st; i++) {
    if (s[i] == '\r')
      st = ob_buf_putc(out, '\n');
    else
      st = ob_buf_putc(out, s[i]);
    if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
      i++;
  }
  if (st)
    return ob_fail(err, OB_ETOOBIG, "%s过长:最多 %zu KiB", what, max / 1024);
  while (out->len && strchr(" \t\n", out->data[out->len - 1]))
    out->data[--out->len] = '\0';
  int blank = 1;
  for (size_t i = 0; i < out->len && blank;) {
    uint32_t cp;
    size_t l = ob_utf8_decode((const unsigned char *)out->data + i, out->len - i, &cp);
    blank = l && is_blank_cp(cp);
    i += l ? l : 1;
  }
  if (blank)
    return ob_fail(err, OB_EINPUT, "%s为空", what);

  /* parse it with a heading after it: the heading must come out as a
   * heading of its own, or the text leaves a block open */
  ob_buf_init(&doc, max * 2 + 256);
  ob_buf_init(&tmp, max * 2 + 256);
  if ((st = ob_buf_append(&doc, out->data, out->len)) ||
      (st = ob_buf_puts(&doc, "\n\n## " SENTINEL "\n"))) {
    st = ob_fail(err, OB_ETOOBIG, "%s过长", what);
    goto out;
  }
  root = cmark_parse_document(doc.data, doc.len, CMARK_OPT_DEFAULT);
  cmark_node *last = cmark_node_last_child(root);
  for (cmark_node *c = cmark_node_first_child(root); c && c != last; c = cmark_node_next(c))
    if (cmark_node_get_type(c) == CMARK_NODE_HEADING &&
        cmark_node_get_heading_level(c) < min_level) {
      st = ob_fail(err, OB_EINPUT,
                   "%s里不能有 1 到 %d 级标题(行首的 # 或下划线 === / ---),"
                   "它会打乱文档的章节;请改用 %.*s 或加粗",
                   what, min_level - 1, min_level, "######");
      goto out;
    }
  /* a heading inside a list or quote is no section, and the page could no
   * longer anchor the document's section headings (docview.c) */
  cmark_iter *it = cmark_iter_new(root);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && !st) {
    cmark_node *c = cmark_iter_get_node(it);
    if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(c) == CMARK_NODE_HEADING &&
        cmark_node_parent(c) != root)
      st = ob_fail(err, OB_EINPUT, "%s的列表或引用里不能有标题", what);
  }
  cmark_iter_free(it);
  if (st)
    goto out;
  if (last && cmark_node_get_type(last) == CMARK_NODE_HEADING)
    heading_text(last, &tmp);
  if (!last || cmark_node_get_type(last) != CMARK_NODE_HEADING || !tmp.data ||
      strcmp(tmp.data, SENTINEL) != 0)
    st = ob_fail(err, OB_EINPUT,
                 "%s里有没有闭合的代码块(```)或 HTML 块(如 <script> 缺少结束标记),"
                 "会吞掉后面的内容",
                 what);
out:
  if (root)
    cmark_node_free(root);
  ob_buf_free(&doc);
  ob_buf_free(&tmp);
  return st;
}

/* ---- composing ---- */

/* Byte offset of the start of 1-based line `line` in src (len if past it). */
static size_t line_offset(const char *src, size_t len, unsigned line)
{
  size_t off = 0;
  for (unsigned l = 1; l < line && off < len; l++) {
    const char *nl = memchr(src + off, '\n', len - off);
    if (!nl)
      return len;
    off = (size_t)(nl - src) + 1;
  }
  return off;
}

/* Index of the "## 经验教训" section, or nsections. */
static size_t lessons_index(const ob_doc *d)
{
  for (size_t i = 0; i < d->nsections; i++)
    if (d->sections[i].level == 2 && d->sections[i].heading &&
        strcmp(d->sections[i].heading, OB_LESSONS_HEADING) == 0)
      return i;
  return d->nsections;
}

/* Where the new entry's section goes: after the last section belonging
 * to 经验教训 (or at the end, behind a new 经验教训). */
static size_t insert_index(const ob_doc *d, size_t li)
{
  if (li == d->nsections)
    return d->nsections;
  size_t j = li + 1;
  while (j < d->nsections && d->sections[j].level > 2)
    j++;
  return j;
}

/* Ends b with a blank line (unless it is empty). */
static ob_status blank_line(ob_buf *b)
{
  ob_status st = OB_OK;
  if (b->len && b->data[b->len - 1] != '\n')
    st = ob_buf_putc(b, '\n');
  if (!st && b->len >= 1 && !(b->len >= 2 && b->data[b->len - 2] == '\n'))
    st = ob_buf_putc(b, '\n');
  return st;
}

ob_status ob_lesson_compose(const char *src, size_t len, const ob_doc *d, const char *entry,
                            ob_buf *out, char *err)
{
  size_t li = lessons_index(d);
  size_t pos = insert_index(d, li);
  size_t off = pos < d->nsections ? line_offset(src, len, d->sections[pos].line) : len;
  ob_status st;
  ob_buf_reset(out);
  if ((st = ob_buf_append(out, src, off)) || (st = blank_line(out)))
    goto big;
  if (li == d->nsections && ((st = ob_buf_puts(out, "## " OB_LESSONS_HEADING "\n\n")) != OB_OK))
    goto big;
  if ((st = ob_buf_puts(out, entry)))
    goto big;
  if (off < len && ((st = blank_line(out)) || (st = ob_buf_append(out, src + off, len - off))))
    goto big;
  return OB_OK;
big:
  return ob_fail(err, OB_ETOOBIG, "文档已达到 %d KiB 的上限,无法再追加", OB_DOC_MAX_BYTES / 1024);
}

static int same_section(const struct ob_section *a, const struct ob_section *b)
{
  return a->level == b->level &&
         strcmp(a->heading ? a->heading : "", b->heading ? b->heading : "") == 0;
}

/* The composed document nd must be d with `added` sections at pos, the
 * last of them the entry (level 3, heading). */
static int structure_ok(const ob_doc *d, const ob_doc *nd, size_t pos, size_t added,
                        const char *heading)
{
  if (strcmp(nd->id, d->id) || strcmp(nd->type, d->type) || strcmp(nd->title, d->title) ||
      nd->nsections != d->nsections + added)
    return 0;
  for (size_t i = 0; i < d->nsections; i++)
    if (!same_section(&d->sections[i], &nd->sections[i < pos ? i : i + added]))
      return 0;
  const struct ob_section *e = &nd->sections[pos + added - 1];
  if (added == 2 &&
      !(nd->sections[pos].level == 2 && strcmp(nd->sections[pos].heading, OB_LESSONS_HEADING) == 0))
    return 0;
  return e->level == 3 && e->heading && strcmp(e->heading, heading) == 0 && *e->text;
}

/* ---- locking, files ---- */

static ob_status lock_writer(const ob_write_env *e, int *fd, char *err)
{
  int wait = e->lock_wait_ms > 0 ? e->lock_wait_ms : OB_LESSON_LOCK_WAIT_MS;
  struct timespec dl, now;
  *fd = -1;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += wait / 1000;
  dl.tv_nsec += (long)(wait % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  if (pthread_mutex_timedlock(&write_mu, &dl) != 0)
    return ob_fail(err, OB_ELOCKED, "%s: the writers in this process are busy", e->db);
  clock_gettime(CLOCK_REALTIME, &now);
  long left = (long)(dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000L;
  ob_status st = ob_index_lock(e->db, left > 0 ? (int)left : 0, fd, err);
  if (st)
    pthread_mutex_unlock(&write_mu);
  return st;
}

static void unlock_writer(int fd)
{
  if (fd >= 0) {
    ob_index_unlock(fd);
    pthread_mutex_unlock(&write_mu);
  }
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

/* Writes data to a new temporary file next to abs (fsync'ed); its path
 * goes to tmp. */
static ob_status write_tmp(const char *abs, const char *data, size_t len, mode_t mode, char *tmp,
                           size_t tmpsz, char *err)
{
  const char *slash = strrchr(abs, '/');
  size_t dl = slash ? (size_t)(slash - abs) + 1 : 0;
  if ((size_t)snprintf(tmp, tmpsz, "%.*s.%s" TMP_MARK "XXXXXX", (int)dl, abs, abs + dl) >= tmpsz)
    return ob_fail(err, OB_EIO, "%s: path too long", abs);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return ob_fail(err, OB_EIO, "%s: %s", tmp, strerror(errno));
  size_t done = 0;
  int ok = fchmod(fd, mode) == 0;
  while (ok && done < len) {
    ssize_t w = write(fd, data + done, len - done);
    if (w < 0 && errno == EINTR)
      continue;
    ok = w > 0;
    if (ok)
      done += (size_t)w;
  }
  ok = ok && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0)
    ok = 0;
  if (!ok) {
    unlink(tmp);
    return ob_fail(err, OB_EIO, "%s: %s", tmp, strerror(saved));
  }
  return OB_OK;
}

/* Moves the temporary file into place: rename over the old file, or (new
 * files) link so that an existing file is never replaced. Then syncs the
 * folder so the new name is durable. */
static ob_status publish(const char *tmp, const char *abs, int no_replace, char *err)
{
  int r = no_replace ? link(tmp, abs) : rename(tmp, abs);
  int saved = errno;
  if (no_replace || r != 0)
    unlink(tmp);
  if (r != 0) {
    if (no_replace && saved == EEXIST)
      return ob_fail(err, OB_EEXIST, "这个编号的文件已经存在");
    return ob_fail(err, OB_EIO, "%s: %s", abs, strerror(saved));
  }
  char dir[PATH_MAX_OB];
  const char *slash = strrchr(abs, '/');
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - abs) : 1, slash ? abs : ".");
  if (fsync_dir(dir) != 0)
    return ob_fail(err, OB_EIO, "%s: fsync: %s", dir, strerror(errno));
  return OB_OK;
}

/* A path from the index, joined to the handbook: refuse anything that
 * could step out of it. */
static int safe_relpath(const char *p)
{
  if (!*p || p[0] == '/' || strchr(p, '\\'))
    return 0;
  for (const char *seg = p; *seg;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || (n == 2 && seg[0] == '.' && seg[1] == '.') || (n == 1 && seg[0] == '.'))
      return 0;
    seg += n + (end ? 1 : 0);
  }
  return 1;
}

/* Opens the writer on the live index. A missing index is OB_EINDEX. */
static ob_status open_index(const ob_write_env *e, ob_xwriter **w, char *err)
{
  char path[PATH_MAX_OB];
  ob_status st = ob_index_resolve(e->db, path, sizeof path, err);
  if (st == OB_ENOTFOUND)
    st = OB_EINDEX;
  if (!st && (st = ob_xwriter_open(path, w, err)) != OB_OK && st != OB_ELOCKED)
    st = OB_EINDEX;
  return st;
}

/* The file that owns id according to the index ("" when none). */
static ob_status owner_of(ob_xwriter *w, const char *id, ob_buf *rel, char *err)
{
  char key[OB_ID_MAX + 16];
  snprintf(key, sizeof key, "ob:id:%s", id);
  return ob_xwriter_get_meta(w, key, rel, err);
}

/* The file's part of a write: temporary file, audit line, into place. */
struct file_job {
  const char *abs, *data;
  size_t len;
  mode_t mode;
  int is_new;
  int auditfd; /* -1: no audit log */
  const ob_audit_rec *ar;
  ob_status st;
  char err[OB_ERR_SIZE];
};

static void *file_job_run(void *vj)
{
  struct file_job *j = vj;
  char tmp[PATH_MAX_OB];
  if ((j->st = write_tmp(j->abs, j->data, j->len, j->mode, tmp, sizeof tmp, j->err)))
    return NULL;
  /* the audit line goes first: every file change is in the log */
  if (j->auditfd >= 0 && (j->st = ob_audit_write(j->auditfd, j->ar, j->err))) {
    unlink(tmp);
    return NULL;
  }
  j->st = publish(tmp, j->abs, j->is_new, j->err);
  return NULL;
}

/* Writes the file (j) and re-indexes d from it. The document's entries
 * are built into the writer while another thread writes and syncs the
 * file (CPU against disk waits); the commit comes only after the file is
 * durable, so the index never holds what the files do not. */
static ob_status write_and_index(const ob_write_env *e, ob_xwriter *w, const ob_doc *d,
                                 const char *rel, struct file_job *j, char *err)
{
  pthread_t th;
  size_t entries;
  char key[OB_ID_MAX + 16];
  int threaded = pthread_create(&th, NULL, file_job_run, j) == 0;
  if (!threaded)
    file_job_run(j);
  ob_status st = ob_index_put_doc(w, e->text, d, &entries, err);
  if (threaded)
    pthread_join(th, NULL);
  if (j->st) /* nothing is committed: the writer's changes are dropped */
    return ob_fail(err, j->st, "%s", j->err);
  if (st) /* the file is written; ob_lesson_recover() indexes it */
    return st;
  snprintf(key, sizeof key, "ob:id:%s", d->id);
  if ((j->is_new && (st = ob_xwriter_set_meta(w, key, rel, err))) ||
      (st = ob_index_put_file_meta(w, rel, j->abs, j->data, j->len, d->id, err)) ||
      (st = ob_xwriter_commit(w, err)))
    return st;
  return OB_OK;
}

/* ---- lessons ---- */

ob_status ob_lesson_append(const ob_write_env *e, const char *doc_id, const ob_lesson *l,
                           ob_lesson_result *r, char *err)
{
  char date[11], abs[PATH_MAX_OB];
  char *author = NULL, *incident = NULL;
  ob_buf text, heading, entry, rel, src, out;
  ob_doc *d = NULL, *nd = NULL;
  ob_xwriter *w = NULL;
  int lockfd = -1, auditfd = -1;
  ob_status st;
  struct stat sb;
  memset(r, 0, sizeof *r);
  ob_buf_init(&text, OB_LESSON_TEXT_MAX);
  ob_buf_init(&heading, 1024);
  ob_buf_init(&entry, OB_LESSON_TEXT_MAX + 2048);
  ob_buf_init(&rel, PATH_MAX_OB);
  ob_buf_init(&src, OB_DOC_MAX_BYTES);
  ob_buf_init(&out, 2 * OB_DOC_MAX_BYTES);

  /* 1. the input, before anything is locked or written */
  if (!doc_id || !ob_doc_id_valid(doc_id)) {
    st = ob_fail(err, OB_ENOTFOUND, "没有这篇文档:编号无效");
    goto out;
  }
  if ((st = one_line(l->author, OB_LESSON_NAME_MAX, "作者 author", 1, &author, err)) ||
      (st = one_line(l->incident, OB_LESSON_NAME_MAX, "事件 incident", 0, &incident, err)) ||
      (st = check_date(l->date, date, err)))
    goto out;
  if (!l->text) {
    st = ob_fail(err, OB_EINPUT, "缺少经验正文 text");
    goto out;
  }
  if ((st = ob_lesson_check_markdown(l->text, l->text_len, OB_LESSON_TEXT_MAX, 4, "经验正文 text",
                                     &text, err)))
    goto out;
  if ((st = ob_buf_printf(&heading, "%s %s", date, author)) ||
      (incident && (st = ob_buf_printf(&heading, " · 事件 %s", incident))) ||
      (st = ob_buf_printf(&entry, "### %s ", date)) || (st = md_escape(&entry, author)) ||
      (incident &&
       ((st = ob_buf_puts(&entry, " · 事件 ")) || (st = md_escape(&entry, incident)))) ||
      (st = ob_buf_puts(&entry, "\n\n")) || (st = ob_buf_append(&entry, text.data, text.len)) ||
      (st = ob_buf_putc(&entry, '\n'))) {
    st = ob_fail(err, OB_ETOOBIG, "经验过长");
    goto out;
  }

  /* 2. the writer lock; then the document as it is now */
  if ((st = lock_writer(e, &lockfd, err)) || (st = open_index(e, &w, err)) ||
      (st = owner_of(w, doc_id, &rel, err)))
    goto out;
  if (!rel.len || !safe_relpath(rel.data) ||
      (size_t)snprintf(abs, sizeof abs, "%s/%s", e->handbook, rel.data) >= sizeof abs ||
      lstat(abs, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st = ob_fail(err, OB_ENOTFOUND, "没有找到这篇文档");
    goto out;
  }
  if ((st = ob_buf_read_file(&src, abs, err))) {
    /* the messages of the input statuses reach the client: no paths */
    if (st == OB_ETOOBIG)
      st = ob_fail(err, OB_ETOOBIG, "文档已达到 %d KiB 的上限,无法再追加", OB_DOC_MAX_BYTES / 1024);
    else if (st == OB_ENOTFOUND)
      st = ob_fail(err, OB_ENOTFOUND, "没有找到这篇文档");
    goto out;
  }
  if (ob_doc_parse(rel.data, src.data, src.len, &d, err) != OB_OK) {
    st = OB_EINDEX; /* err: "LINE: reason"; the file was broken by hand */
    goto out;
  }
  if (strcmp(d->id, doc_id) != 0) {
    st = ob_fail(err, OB_ENOTFOUND, "没有找到这篇文档(文件已改为其他编号)");
    goto out;
  }

  /* 3. the new text, parsed again: exactly one more entry where we meant */
  size_t li = lessons_index(d), pos = insert_index(d, li), added = li == d->nsections ? 2 : 1;
  if ((st = ob_lesson_compose(src.data, src.len, d, entry.data, &out, err)))
    goto out;
  if (out.len > OB_DOC_MAX_BYTES) {
    st = ob_fail(err, OB_ETOOBIG, "文档已达到 %d KiB 的上限,无法再追加", OB_DOC_MAX_BYTES / 1024);
    goto out;
  }
  if (ob_doc_parse(rel.data, out.data, out.len, &nd, err) != OB_OK ||
      !structure_ok(d, nd, pos, added, heading.data)) {
    st = ob_fail(err, OB_EINPUT,
                 "这篇文档的经验教训部分格式异常(例如有未闭合的代码块),无法自动追加,"
                 "请联系维护人员手工编辑");
    goto out;
  }

  /* 4. audit, file, index */
  if (e->audit && (st = ob_audit_open(e->audit, &auditfd, err)))
    goto out;
  ob_audit_rec ar = {e->reviewer, "lesson", doc_id, rel.data, heading.data, text.data, text.len};
  struct file_job fj = {abs, out.data, out.len, sb.st_mode & 07777, 0, auditfd, &ar, OB_OK, ""};
  if ((st = write_and_index(e, w, nd, rel.data, &fj, err)))
    goto out;

  r->doc = ob_xstrdup(doc_id);
  r->path = ob_xstrdup(rel.data);
  r->heading = ob_xstrdup(heading.data);
  r->date = ob_xstrdup(date);
  r->author = author;
  r->incident = incident;
  author = incident = NULL;
  r->text = ob_buf_detach(&text, NULL);
  r->anchor = ob_xstrdup(nd->sections[pos + added - 1].anchor);
  r->bytes = out.len;
out:
  ob_xwriter_close(w);
  unlock_writer(lockfd);
  ob_audit_close(auditfd);
  ob_doc_free(d);
  ob_doc_free(nd);
  free(author);
  free(incident);
  ob_buf_free(&text);
  ob_buf_free(&heading);
  ob_buf_free(&entry);
  ob_buf_free(&rel);
  ob_buf_free(&src);
  ob_buf_free(&out);
  return st;
}

/* ---- new fault write-ups ---- */

struct fault_in {
  char *title, *category, *id;
  char date[11];
  ob_buf md[FAULT_NSECTIONS]; /* normalised Markdown of each section */
  ob_strv tags, wordings;
};

static void fault_in_free(struct fault_in *f)
{
  free(f->title);
  free(f->category);
  free(f->id);
  for (size_t i = 0; i < FAULT_NSECTIONS; i++)
    ob_buf_free(&f->md[i]);
  ob_strv_clear(&f->tags);
  ob_strv_clear(&f->wordings);
}

static ob_status check_list(const char *const *v, size_t n, const char *what, ob_strv *out,
                            char *err)
{
  ob_status st = OB_OK;
  if (n > OB_FAULT_LIST_MAX)
    return ob_fail(err, OB_EINPUT, "%s最多 %d 项", what, OB_FAULT_LIST_MAX);
  for (size_t i = 0; i < n && !st; i++) {
    char *s = NULL;
    if ((st = one_line(v[i], ITEM_MAX, what, 1, &s, err)) || (st = fm_safe(s, what, err))) {
      free(s);
      break;
    }
    ob_strv_push(out, s, strlen(s));
    free(s);
  }
  return st;
}

static ob_status check_fault(const ob_fault *f, struct fault_in *in, char *err)
{
  static const char *const names[FAULT_NSECTIONS] = {
      "现象 symptoms",   "影响 impact", "时间线 timeline", "原因 cause", "处理过程 handling",
      "处理结果 result", NULL};
  const char *md[FAULT_NSECTIONS] = {f->symptoms, f->impact, f->timeline, f->cause,
                                     f->handling, f->result, NULL};
  ob_status st;
  if ((st = one_line(f->title, OB_FAULT_TITLE_MAX, "标题 title", 1, &in->title, err)) ||
      (st = fm_safe(in->title, "标题 title", err)) ||
      (st = one_line(f->category, OB_LESSON_NAME_MAX, "分类 category", 0, &in->category, err)) ||
      (st = fm_safe(in->category, "分类 category", err)) ||
      (st = one_line(f->id, OB_ID_MAX, "编号 id", 0, &in->id, err)) ||
      (st = check_date(f->date, in->date, err)))
    return st;
  if (in->id && !ob_doc_id_valid(in->id))
    return ob_fail(err, OB_EINPUT, "编号 id 只能由小写字母、数字和 - 组成(最多 %d 个字符)",
                   OB_ID_MAX);
  if (!f->severity || !*f->severity)
    return ob_fail(err, OB_EINPUT, "缺少严重程度 severity(一般、较大或重大)");
  if (strcmp(f->severity, "一般") && strcmp(f->severity, "较大") && strcmp(f->severity, "重大"))
    return ob_fail(err, OB_EINPUT, "严重程度 severity 只能是一般、较大或重大");
  for (size_t i = 0; i + 1 < FAULT_NSECTIONS; i++) {
    if (!md[i] || !*md[i]) {
      if (i == 1) /* 影响 may wait */
        continue;
      return ob_fail(err, OB_EINPUT, "缺少%s", names[i]);
    }
    if ((st = ob_lesson_check_markdown(md[i], strlen(md[i]), OB_LESSON_TEXT_MAX, 3, names[i],
                                       &in->md[i], err)))
      return st;
  }
  if ((st = check_list(f->tags, f->ntags, "标签 tags", &in->tags, err)) ||
      (st = check_list(f->wordings, f->nwordings, "常见说法 wordings", &in->wordings, err)))
    return st;
  if (f->nrelated > OB_FAULT_LIST_MAX)
    return ob_fail(err, OB_EINPUT, "相关文档 related 最多 %d 项", OB_FAULT_LIST_MAX);
  for (size_t i = 0; i < f->nrelated; i++)
    if (!f->related[i] || !ob_doc_id_valid(f->related[i]))
      return ob_fail(err, OB_EINPUT, "相关文档 related 里有无效的文档编号");
  return OB_OK;
}

static ob_status fm_list(ob_buf *b, const char *key, const ob_strv *v)
{
  ob_status st = OB_OK;
  if (!v->n)
    return OB_OK;
  st = ob_buf_printf(b, "%s:\n", key);
  for (size_t i = 0; i < v->n && !st; i++)
    st = ob_buf_printf(b, "  - \"%s\"\n", v->v[i]);
  return st;
}

static ob_status compose_fault(const ob_fault *f, const struct fault_in *in, const char *id,
                               ob_buf *b)
{
  ob_status st;
  if ((st = ob_buf_printf(b, "---\nid: %s\ntype: fault\ntitle: \"%s\"\ncategory: \"%s\"\n", id,
                          in->title, in->category ? in->category : FAULT_CATEGORY)) ||
      (st = fm_list(b, "tags", &in->tags)) || (st = fm_list(b, "symptoms", &in->wordings)))
    return st;
  if (f->nrelated) {
    if ((st = ob_buf_puts(b, "related: [")))
      return st;
    for (size_t i = 0; i < f->nrelated; i++)
      if ((st = ob_buf_printf(b, "%s%s", i ? ", " : "", f->related[i])))
        return st;
    if ((st = ob_buf_puts(b, "]\n")))
      return st;
  }
  if ((st = ob_buf_printf(b, "severity: %s\n---\n# ", f->severity)) ||
      (st = md_escape(b, in->title)) || (st = ob_buf_puts(b, "\n")))
    return st;
  for (size_t i = 0; i < FAULT_NSECTIONS; i++) {
    if ((st = ob_buf_printf(b, "\n## %s\n", fault_sections[i])))
      return st;
    if (in->md[i].len &&
        ((st = ob_buf_putc(b, '\n')) || (st = ob_buf_append(b, in->md[i].data, in->md[i].len)) ||
         (st = ob_buf_putc(b, '\n'))))
      return st;
  }
  return OB_OK;
}

/* The composed fault must read back as written: the id, type, title,
 * severity and the seven sections in order. */
static int fault_ok(const ob_doc *d, const ob_fault *f, const struct fault_in *in, const char *id)
{
  if (strcmp(d->id, id) || strcmp(d->type, "fault") || strcmp(d->title, in->title) ||
      !d->severity || strcmp(d->severity, f->severity) || d->tags.n != in->tags.n ||
      d->symptoms.n != in->wordings.n)
    return 0;
  size_t k = 0;
  for (size_t i = 0; i < d->nsections; i++) {
    if (d->sections[i].level != 2)
      continue;
    if (k >= FAULT_NSECTIONS || strcmp(d->sections[i].heading, fault_sections[k]) != 0)
      return 0;
    k++;
  }
  return k == FAULT_NSECTIONS;
}

/* Whether id is taken: a file owns it in the index, or fault/<id>.md exists. */
static ob_status id_taken(const ob_write_env *e, ob_xwriter *w, const char *id, int *taken,
                          char *err)
{
  char p[PATH_MAX_OB];
  struct stat sb;
  ob_buf rel;
  ob_buf_init(&rel, PATH_MAX_OB);
  ob_status st = owner_of(w, id, &rel, err);
  *taken = 0;
  if (!st && rel.len && safe_relpath(rel.data)) {
    snprintf(p, sizeof p, "%s/%s", e->handbook, rel.data);
    *taken = lstat(p, &sb) == 0;
  }
  snprintf(p, sizeof p, "%s/" FAULT_DIR "/%s.md", e->handbook, id);
  if (!st && lstat(p, &sb) == 0)
    *taken = 1;
  ob_buf_free(&rel);
  return st;
}

ob_status ob_lesson_new_fault(const ob_write_env *e, const ob_fault *f, ob_fault_result *r,
                              char *err)
{
  struct fault_in in;
  char id[OB_ID_MAX + 1], rel[OB_ID_MAX + 16], abs[PATH_MAX_OB];
  char dir[PATH_MAX_OB];
  ob_buf out;
  ob_doc *d = NULL;
  ob_xwriter *w = NULL;
  int lockfd = -1, auditfd = -1, taken = 0;
  ob_status st;
  memset(r, 0, sizeof *r);
  memset(&in, 0, sizeof in);
  for (size_t i = 0; i < FAULT_NSECTIONS; i++)
    ob_buf_init(&in.md[i], OB_LESSON_TEXT_MAX);
  ob_buf_init(&out, OB_DOC_MAX_BYTES);

  if ((st = check_fault(f, &in, err)) || (st = lock_writer(e, &lockfd, err)) ||
      (st = open_index(e, &w, err)))
    goto out;
  if (in.id) {
    snprintf(id, sizeof id, "%s", in.id);
    if ((st = id_taken(e, w, id, &taken, err)))
      goto out;
    if (taken) {
      st = ob_fail(err, OB_EEXIST, "编号 %s 已被其他文档使用", id);
      goto out;
    }
  } else {
    /* fault-YYYYMMDD-<8 hex of SHA-256 over the title, the time and a counter> */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (unsigned k = 0;; k++) {
      char seed[512], hex[OB_SHA256_HEX];
      int n = snprintf(seed, sizeof seed, "%s\n%lld.%09ld\n%u\n%ld", in.title, (long long)ts.tv_sec,
                       ts.tv_nsec, k, (long)getpid());
      ob_sha256_hex(seed, n > 0 && (size_t)n < sizeof seed ? (size_t)n : sizeof seed - 1, hex);
      snprintf(id, sizeof id, "fault-%.4s%.2s%.2s-%.8s", in.date, in.date + 5, in.date + 8, hex);
      if ((st = id_taken(e, w, id, &taken, err)))
        goto out;
      if (!taken)
        break;
      if (k == 16) {
        st = ob_fail(err, OB_EEXIST, "无法生成未被使用的编号,请指定 id");
        goto out;
      }
    }
  }
  snprintf(rel, sizeof rel, FAULT_DIR "/%s.md", id);
  snprintf(dir, sizeof dir, "%s/" FAULT_DIR, e->handbook);
  if ((size_t)snprintf(abs, sizeof abs, "%s/%s", e->handbook, rel) >= sizeof abs) {
    st = ob_fail(err, OB_EIO, "%s: path too long", e->handbook);
    goto out;
  }
  if (compose_fault(f, &in, id, &out) != OB_OK) {
    st = ob_fail(err, OB_ETOOBIG, "故障复盘过长");
    goto out;
  }
  if (ob_doc_parse(rel, out.data, out.len, &d, err) != OB_OK || !fault_ok(d, f, &in, id)) {
    st = ob_fail(err, OB_EINPUT, "内容无法组成有效的故障复盘文档,请检查各字段的格式");
    goto out;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    st = ob_fail(err, OB_EIO, "%s: %s", dir, strerror(errno));
    goto out;
  }
  if (e->audit && (st = ob_audit_open(e->audit, &auditfd, err)))
    goto out;
  ob_audit_rec ar = {e->reviewer, "fault", id, rel, NULL, out.data, out.len};
  struct file_job fj = {abs, out.data, out.len, 0644, 1, auditfd, &ar, OB_OK, ""};
  if ((st = write_and_index(e, w, d, rel, &fj, err)))
    goto out;
  r->id = ob_xstrdup(id);
  r->path = ob_xstrdup(rel);
  r->bytes = out.len;
out:
  ob_xwriter_close(w);
  unlock_writer(lockfd);
  ob_audit_close(auditfd);
  ob_doc_free(d);
  fault_in_free(&in);
  ob_buf_free(&out);
  return st;
}

/* ---- start-up ---- */

/* Removes ".<name>.ob-tmp-XXXXXX" files under dir (not following links). */
static void remove_tmp_files(const char *dir, int depth)
{
  DIR *dp = opendir(dir);
  struct dirent *de;
  if (!dp || depth > 16) {
    if (dp)
      closedir(dp);
    return;
  }
  while ((de = readdir(dp))) {
    char p[PATH_MAX_OB];
    struct stat sb;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
        (size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= sizeof p || lstat(p, &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode) && de->d_name[0] != '.')
      remove_tmp_files(p, depth + 1);
    else if (S_ISREG(sb.st_mode) && de->d_name[0] == '.' && strstr(de->d_name, TMP_MARK))
      unlink(p);
  }
  closedir(dp);
}

ob_status ob_lesson_recover(const ob_write_env *e, FILE *log, ob_index_report *r, char *err)
{
  int lockfd = -1;
  ob_status st = lock_writer(e, &lockfd, err);
  memset(r, 0, sizeof *r);
  if (st)
    return st;
  remove_tmp_files(e->handbook, 0);
  unlock_writer(lockfd);
  ob_index_opts o = {.handbook = e->handbook, .db = e->db, .log = log}; /* no lang rebuild here */
  return ob_index_run(e->text, &o, r, err);
}
