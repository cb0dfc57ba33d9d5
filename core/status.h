/* status.h - the one status enum shared by every Opsbook module.
 *
 * Functions that can fail return ob_status and write a human-readable
 * detail into a caller-owned buffer of OB_ERR_SIZE bytes (curl's
 * CURLcode + CURL_ERROR_SIZE pattern). ob_strerror() gives the generic text.
 */
#ifndef OB_STATUS_H
#define OB_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#define OB_ERR_SIZE 256

#if defined(__GNUC__)
#define OB_WUR __attribute__((warn_unused_result))
#define OB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OB_WUR
#define OB_PRINTF(a, b)
#endif

typedef enum ob_status {
  OB_OK = 0,
  OB_ENOMEM,    /* allocation failed */
  OB_EIO,       /* file system or OS error */
  OB_EINPUT,    /* malformed input from a user or a file */
  OB_ETOOBIG,   /* a bounded buffer or a size limit was exceeded */
  OB_ENOTFOUND, /* no such document, file or route */
  OB_EINDEX,    /* the index is missing, unreadable or corrupt */
  OB_ELOCKED,   /* another writer holds the index or document lock */
  OB_EAUTH,     /* missing or wrong credentials */
  OB_EINTERNAL, /* a bug or an unexpected library error */
  OB_EEXIST     /* the name or id to create is taken (lesson.h) */
} ob_status;

/* Static generic description of a status; never NULL. */
const char *ob_strerror(ob_status st);

/* Writes a formatted message into err (OB_ERR_SIZE bytes, may be NULL);
 * returns st so callers can `return ob_fail(err, OB_EINPUT, "...")`. */
ob_status ob_fail(char *err, ob_status st, const char *fmt, ...) OB_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif
#endif
