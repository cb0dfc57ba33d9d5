/* json.h - JSON writer into a bounded ob_buf.
 *
 * Strings are escaped by table; invalid UTF-8 becomes U+FFFD so the output
 * is always valid JSON. The writer tracks commas itself and keeps the first
 * error (sticky), so callers write linearly and check ob_jw_status() once.
 */
#ifndef OB_JSON_H
#define OB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_JW_MAX_DEPTH 32

typedef struct ob_jw {
  ob_buf *out;          /* borrowed */
  int depth;
  unsigned char need_comma[OB_JW_MAX_DEPTH];
  int after_key;
  ob_status st;
} ob_jw;

/* Appends s (n bytes) to b as a quoted, escaped JSON string. */
ob_status ob_json_escape(ob_buf *b, const char *s, size_t n) OB_WUR;

void ob_jw_init(ob_jw *w, ob_buf *out);
void ob_jw_obj(ob_jw *w);   /* { */
void ob_jw_obj_end(ob_jw *w);
void ob_jw_arr(ob_jw *w);   /* [ */
void ob_jw_arr_end(ob_jw *w);
void ob_jw_key(ob_jw *w, const char *key);
void ob_jw_str(ob_jw *w, const char *s);  /* NULL writes null */
void ob_jw_strn(ob_jw *w, const char *s, size_t n);
void ob_jw_int(ob_jw *w, int64_t v);
void ob_jw_num(ob_jw *w, double v);       /* non-finite writes null */
void ob_jw_bool(ob_jw *w, int v);
void ob_jw_null(ob_jw *w);
/* Inserts already-valid JSON text as one value. */
void ob_jw_raw(ob_jw *w, const char *json, size_t n);
/* Convenience: key + string / int. */
void ob_jw_kstr(ob_jw *w, const char *key, const char *s);
void ob_jw_kint(ob_jw *w, const char *key, int64_t v);
ob_status ob_jw_status(const ob_jw *w);

#ifdef __cplusplus
}
#endif
#endif
