/* index.h - handbook folder -> Xapian index, incremental and atomic.
 *
 * Layout of a --db folder: LOCK (flock by the one writer), CURRENT (the
 * name of the live index folder, replaced atomically by rename) and the
 * index folders idx-N themselves. Readers resolve CURRENT and reopen when
 * it or the index revision moves.
 */
#ifndef OB_INDEX_H
#define OB_INDEX_H

#include <stdio.h>

#include "doc.h"
#include "status.h"
#include "text.h"
#include "xap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_index_opts {
  const char *handbook; /* root folder of Markdown */
  const char *db;       /* the --db folder */
  int rebuild;          /* build a fresh index beside the old and swap */
  FILE *log;            /* rejected files and progress; may be NULL */
  int verbose;
  const char *lang;     /* language resources when ob_index_run gets no text
                           (NULL: the built-in default) */
  int lang_check;       /* rebuild an index cut with other language resources
                           (opsbook-index); 0: leave that to opsbook-index,
                           as the server's runs do (a rebuild would hold up
                           its start or a write) */
  unsigned writers;     /* Xapian writer threads of a fresh build (first run
                           or rebuild), each filling a shard of its own that
                           the final compaction merges: 0 = OB_WRITERS when
                           the build has OB_WRITERS_MIN_FILES files or more
                           and the machine two cores or more, else 1; at
                           most OB_WRITERS_MAX. Runs on an existing index
                           have one writer. */
} ob_index_opts;

#define OB_WRITERS 2
#define OB_WRITERS_MAX 8
#define OB_WRITERS_MIN_FILES 1000

typedef struct ob_index_report {
  size_t scanned, added, updated, unchanged, deleted, rejected, entries;
} ob_index_report;

/* Indexes the handbook into the db folder in one atomic commit.
 * Returns OB_OK even when files were rejected (see report->rejected, each
 * reported on o->log as "path:line: reason"); OB_ELOCKED when another
 * writer runs. t may be NULL: the language resources (o->lang) are then
 * loaded only when some file has changed, so a run that finds nothing to
 * do does not pay for friso's and OpenCC's dictionaries. */
ob_status ob_index_run(const ob_text *t, const ob_index_opts *o, ob_index_report *r,
                       char *err) OB_WUR;

/* Xapian buffers this many added entries per writer before it flushes
 * them to the tables (its own default: 10,000). Smaller batches merge
 * faster: its buffer is a map of docid maps, and a large one is walked
 * with a cache miss per level (20 % of a 10k build's CPU at 3,000). 100k
 * files (488k entries), fresh build: one writer 454 s at 10,000, 340 s at
 * 3,000 (session 5); two writers 351 s at 3,000, 293 s at 1,000, peak RSS
 * 327 -> 281 MB (session 7, docs/performance.md). */
#define OB_FLUSH_ENTRIES "1000"

/* Process-wide set-up of the index writer: sets XAPIAN_FLUSH_THRESHOLD to
 * OB_FLUSH_ENTRIES unless the environment sets it already. It changes the
 * environment, so call it once at start, before any thread. */
void ob_index_process_init(void);

/* Resolves the live index folder of a db folder into out (size outsz). */
ob_status ob_index_resolve(const char *db, char *out, size_t outsz, char *err) OB_WUR;

/* Takes the db folder's writer lock (creating the folder if needed),
 * waiting up to wait_ms. Returns the lock fd in *fd; release with
 * ob_index_unlock(). */
ob_status ob_index_lock(const char *db, int wait_ms, int *fd, char *err) OB_WUR;
void ob_index_unlock(int fd);

/* Adds (replaces) every entry of one parsed document; used by the
 * indexer and by lesson writes. */
ob_status ob_index_put_doc(ob_xwriter *w, const ob_text *t, const ob_doc *d, size_t *entries,
                           char *err) OB_WUR;
/* Records a source file's state (size, mtime, hash) for incremental runs. */
ob_status ob_index_put_file_meta(ob_xwriter *w, const char *relpath, const char *abspath,
                                 const char *data, size_t len, const char *id,
                                 char *err) OB_WUR;

/* Splits a data record into its OB_R_NFIELDS fields (pointers into rec). */
void ob_index_record_fields(const char *rec, size_t len, const char *f[], size_t flen[]);

#ifdef __cplusplus
}
#endif
#endif
