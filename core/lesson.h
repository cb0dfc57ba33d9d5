/* lesson.h - writing to the handbook: lessons learned and new fault write-ups.
 *
 * The one write path, shared by opsbook-serve (POST /api/docs/{id}/lessons,
 * POST /api/faults) and opsbook-lesson. Every write:
 *
 *   1. checks the input (user-facing Chinese messages in err for OB_EINPUT
 *      and OB_ETOOBIG);
 *   2. takes the writer lock: a process-wide mutex, then ob_index_lock() on
 *      the --db folder, both within lock_wait_ms;
 *   3. opens the audit log (when one is configured);
 *   4. composes the new file, parses it again and checks its structure;
 *   5. writes it to a temporary file in the same folder, fsync, rename over
 *      the old (a new fault: link, so an existing file is never replaced),
 *      fsync the folder;
 *   6. appends the audit line (fdatasync);
 *   7. re-indexes that one document and commits;
 *   8. releases the lock.
 *
 * A crash between 5 and 7 leaves a file newer than the index; the next
 * ob_lesson_recover() (every writer's start) or opsbook-index re-indexes it.
 * See docs/architecture.md, "The write path".
 */
#ifndef OB_LESSON_H
#define OB_LESSON_H

#include <stddef.h>
#include <stdio.h>

#include "auth.h"
#include "index.h"
#include "status.h"
#include "text.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_LESSON_TEXT_MAX (16 * 1024) /* bytes of a lesson or of one fault section */
#define OB_LESSON_NAME_MAX 64          /* characters of an author or incident */
#define OB_FAULT_TITLE_MAX 120         /* characters of a fault's title */
#define OB_FAULT_LIST_MAX 32           /* tags, wordings, related ids */
#define OB_LESSON_LOCK_WAIT_MS 5000
#define OB_LESSONS_HEADING "经验教训"

/* Where and as whom to write. Everything is borrowed. */
typedef struct ob_write_env {
  const ob_text *text;  /* the language pipeline, for re-indexing */
  const char *handbook; /* handbook root */
  const char *db;       /* the --db folder */
  const char *audit;    /* audit log path; NULL = no audit log */
  const char *reviewer; /* who writes, for the audit log */
  int lock_wait_ms;     /* 0 = OB_LESSON_LOCK_WAIT_MS */
} ob_write_env;

/* A lesson to append. Strings are NUL-terminated UTF-8; text is Markdown
 * of text_len bytes. */
typedef struct ob_lesson {
  const char *author; /* required: 1-OB_LESSON_NAME_MAX characters, one line */
  const char *text;   /* required: at most OB_LESSON_TEXT_MAX bytes, not blank */
  size_t text_len;
  const char *date;     /* "YYYY-MM-DD"; NULL = today (local time) */
  const char *incident; /* optional incident id or name; NULL = none */
} ob_lesson;

/* What was stored. Strings owned; free with ob_lesson_result_clear(). */
typedef struct ob_lesson_result {
  char *doc;     /* document id */
  char *path;    /* file, relative to the handbook */
  char *heading; /* "YYYY-MM-DD 作者[ · 事件 X]" as /api/docs lessons show it */
  char *date, *author, *incident; /* incident may be NULL */
  char *text;                     /* the Markdown as stored (line ends normalised, trimmed) */
  char *anchor;                   /* the entry's section anchor ("s9") */
  size_t bytes;                   /* size of the file after the write */
} ob_lesson_result;

void ob_lesson_result_clear(ob_lesson_result *r);

/* Appends l under the document's "## 经验教训" (created at the end when the
 * document has none) as "### date author[ · 事件 incident]" and the text,
 * then re-indexes the document. OB_EINPUT / OB_ETOOBIG: bad input (nothing
 * written); OB_ENOTFOUND: no such document; OB_ELOCKED: the writer lock
 * was not free in time; OB_EINDEX: index missing or the file cannot be
 * parsed. */
ob_status ob_lesson_append(const ob_write_env *e, const char *doc_id, const ob_lesson *l,
                           ob_lesson_result *r, char *err) OB_WUR;

/* A new fault write-up (docs/handbook-format.md). Markdown fields become
 * the sections 现象 影响 时间线 原因 处理过程 处理结果 (经验教训 starts
 * empty). */
typedef struct ob_fault {
  const char *id;       /* NULL = "fault-YYYYMMDD-<8 hex>" */
  const char *title;    /* required, one line */
  const char *severity; /* required: 一般 | 较大 | 重大 */
  const char *category; /* NULL = "故障复盘" */
  const char *date;     /* "YYYY-MM-DD" for the generated id; NULL = today */
  const char *symptoms, *impact, *timeline, *cause, *handling, *result; /* impact optional */
  const char *const *tags; /* front matter lists; may be NULL */
  size_t ntags;
  const char *const *wordings; /* everyday wordings -> front matter symptoms */
  size_t nwordings;
  const char *const *related; /* document ids */
  size_t nrelated;
} ob_fault;

typedef struct ob_fault_result {
  char *id, *path; /* owned; free with ob_fault_result_clear() */
  size_t bytes;
} ob_fault_result;

void ob_fault_result_clear(ob_fault_result *r);

/* Creates <handbook>/fault/<id>.md and indexes it. OB_EEXIST when the id
 * is taken; otherwise the statuses of ob_lesson_append(). */
ob_status ob_lesson_new_fault(const ob_write_env *e, const ob_fault *f, ob_fault_result *r,
                              char *err) OB_WUR;

/* What a writer does at start-up: removes temporary files an interrupted
 * write left in the handbook (under the writer lock), then runs an
 * incremental ob_index_run() so files written but not indexed are indexed.
 * Rejected files are reported on log. OB_ELOCKED when another writer is
 * busy (that writer catches up instead). */
ob_status ob_lesson_recover(const ob_write_env *e, FILE *log, ob_index_report *r, char *err) OB_WUR;

/* ---- pieces, exposed for tests ---- */

/* Checks a Markdown field and normalises it into out (CRLF and CR -> LF,
 * leading blank lines and trailing white space removed): valid UTF-8, no
 * control characters but tab and newline, at most max bytes (else
 * OB_ETOOBIG), not blank, no top-level heading of a level below min_level
 * (it would start another section), no heading inside a list or quote, and
 * no block left open (an unclosed code fence or HTML block would swallow
 * what follows it). what names the field in messages. */
ob_status ob_lesson_check_markdown(const char *s, size_t n, size_t max, int min_level,
                                   const char *what, ob_buf *out, char *err) OB_WUR;

/* Inserts entry (a complete "### ..." block) at the end of the 经验教训
 * section of d, parsed from src, creating the section at the end when
 * missing; the result goes to out. */
ob_status ob_lesson_compose(const char *src, size_t len, const ob_doc *d, const char *entry,
                            ob_buf *out, char *err) OB_WUR;

#ifdef __cplusplus
}
#endif
#endif
