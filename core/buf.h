/* buf.h - bounded growable byte buffer and the allocation wrappers.
 *
 * An ob_buf owns its memory; it always keeps a NUL after the last byte so
 * data can be used as a C string. Appends past `max` bytes fail with
 * OB_ETOOBIG and leave the buffer unchanged (curl's dynbuf). Allocation
 * failure aborts through ob_xmalloc: there is no sensible recovery from it.
 */
#ifndef OB_BUF_H
#define OB_BUF_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_buf {
  char *data;  /* NUL-terminated; NULL until the first append */
  size_t len;
  size_t cap;
  size_t max;  /* hard cap on len */
} ob_buf;

/* Allocation that never returns NULL (aborts with a message instead). */
void *ob_xmalloc(size_t n);
void *ob_xcalloc(size_t n, size_t size);
void *ob_xrealloc(void *p, size_t n);
/* Caller frees with free(). */
char *ob_xstrdup(const char *s);
char *ob_xstrndup(const char *s, size_t n);

/* Initialise an empty buffer that may grow to max bytes. */
void ob_buf_init(ob_buf *b, size_t max);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void ob_buf_free(ob_buf *b);
/* Empties the buffer, keeping its memory. */
void ob_buf_reset(ob_buf *b);
/* Makes room for n more bytes, so that appending them allocates nothing;
 * the contents stay as they are. Fails like an append of n bytes. */
ob_status ob_buf_reserve(ob_buf *b, size_t n) OB_WUR;
ob_status ob_buf_append(ob_buf *b, const void *p, size_t n) OB_WUR;
ob_status ob_buf_puts(ob_buf *b, const char *s) OB_WUR;
ob_status ob_buf_putc(ob_buf *b, char c) OB_WUR;
ob_status ob_buf_printf(ob_buf *b, const char *fmt, ...) OB_PRINTF(2, 3) OB_WUR;
/* Hands the data to the caller (free() it; never NULL) and empties b. */
char *ob_buf_detach(ob_buf *b, size_t *len);

/* 64-bit FNV-1a of n bytes: file fingerprints in the index metadata,
 * ETags, hash tables. Not for anything an attacker may choose to collide. */
unsigned long long ob_fnv64(const void *p, size_t n);

/* Reads a whole file into b (respecting b->max). */
ob_status ob_buf_read_file(ob_buf *b, const char *path, char *err) OB_WUR;

#ifdef __cplusplus
}
#endif
#endif
