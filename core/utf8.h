/* utf8.h - UTF-8 validation and decoding helpers (no allocation). */
#ifndef OB_UTF8_H
#define OB_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes one code point at s (n bytes available). Returns its length in
 * bytes (1-4) and stores it in *cp, or returns 0 for an invalid or
 * truncated sequence (overlongs, surrogates and > U+10FFFF are invalid). */
size_t ob_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Encodes cp into out (4 bytes room); returns the length. */
size_t ob_utf8_encode(uint32_t cp, char *out);
/* True when all n bytes are valid UTF-8 (a NUL byte counts as invalid). */
int ob_utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8 s. */
size_t ob_utf8_count(const char *s, size_t n);
/* True for Han ideographs and other CJK letters that are indexed as n-grams. */
int ob_utf8_is_cjk(uint32_t cp);

#ifdef __cplusplus
}
#endif
#endif
