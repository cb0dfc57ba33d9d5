/* auth.h - reviewers and their tokens: SHA-256, the tokens file, new tokens.
 *
 * The tokens file (docs/api.md, "Who may write") holds one reviewer per
 * line, "NAME SHA256-HEX", where the hash is the SHA-256 of the token; the
 * token itself is never stored. Blank lines and lines starting with '#'
 * are ignored. SHA-256 comes from OpenSSL's libcrypto (EVP).
 */
#ifndef OB_AUTH_H
#define OB_AUTH_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_SHA256_LEN 32
#define OB_SHA256_HEX (2 * OB_SHA256_LEN + 1) /* 64 hex digits + NUL */
#define OB_TOKEN_HEX OB_SHA256_HEX            /* a token: 32 random bytes as hex */
#define OB_REVIEWER_MAX 64                    /* bytes of a reviewer name */
#define OB_TOKENS_FILE_MAX (1u << 20)

/* SHA-256 of n bytes at p. */
void ob_sha256(const void *p, size_t n, unsigned char out[OB_SHA256_LEN]);
/* The same as 64 lower-case hex digits and a NUL. */
void ob_sha256_hex(const void *p, size_t n, char out[OB_SHA256_HEX]);

/* True for a usable reviewer name: 1-OB_REVIEWER_MAX bytes of valid UTF-8
 * without white space, control characters or a leading '#'. */
int ob_auth_name_valid(const char *name);

/* Reads and checks the tokens file; *reviewers receives the number of
 * reviewers (may be NULL). OB_EIO when it cannot be read, OB_EINPUT with
 * "path:line: reason" when a line is malformed. */
ob_status ob_auth_load(const char *path, size_t *reviewers, char *err) OB_WUR;

/* Looks the token (n bytes) up in the tokens file: its SHA-256 is compared
 * with every line's hash in constant time, without stopping at a match.
 * On OB_OK name (OB_REVIEWER_MAX + 1 bytes) holds the reviewer; OB_EAUTH
 * when no line matches; load errors as ob_auth_load(). */
ob_status ob_auth_check(const char *path, const char *token, size_t n, char *name,
                        char *err) OB_WUR;

/* Makes a token for a new reviewer from getrandom(2), appends
 * "name hash" to the tokens file (created with mode 0600 when missing;
 * flock(2) held while checking and appending) and writes the token into
 * token. OB_EINPUT for an invalid or already present name. */
ob_status ob_auth_new_token(const char *path, const char *name, char token[OB_TOKEN_HEX],
                            char *err) OB_WUR;

#ifdef __cplusplus
}
#endif
#endif
