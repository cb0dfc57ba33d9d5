/* audit.h - the append-only audit log of handbook writes (JSON Lines).
 *
 * One line per accepted write: time (UTC), reviewer, action ("lesson" or
 * "fault"), document id, file path, size and SHA-256 of the text written.
 * Each line is one write(2) on an O_APPEND descriptor followed by
 * fdatasync(2), so lines never interleave and an acknowledged write's line
 * is on disk. The log is opened before anything is written, so a log that
 * cannot be opened stops the write before it starts.
 */
#ifndef OB_AUDIT_H
#define OB_AUDIT_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_audit_rec {
  const char *reviewer; /* who (token name, or "cli:USER") */
  const char *action;   /* "lesson" | "fault" */
  const char *doc;      /* document id */
  const char *path;     /* file, relative to the handbook */
  const char *heading;  /* the lesson's heading; may be NULL */
  const char *text;     /* the text written: its size and SHA-256 are logged */
  size_t len;
} ob_audit_rec;

/* Opens (creating, mode 0600) the log at path for appending; *fd receives
 * the descriptor. */
ob_status ob_audit_open(const char *path, int *fd, char *err) OB_WUR;
/* Appends one line for r and syncs it. */
ob_status ob_audit_write(int fd, const ob_audit_rec *r, char *err) OB_WUR;
/* Closes fd; a negative fd is a no-op. */
void ob_audit_close(int fd);

/* The default log next to a tokens file: "audit.jsonl" in its folder.
 * Caller frees. */
char *ob_audit_default_path(const char *tokens_path);

#ifdef __cplusplus
}
#endif
#endif
