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

/* Fast path for most CJK text: the code point of the three-byte sequence
 * at s when its lead byte is E4-E9 (U+4000-U+9FFF), else 0. Such a lead
 * with two continuation bytes is always valid, so no further check is
 * needed; anything else goes through ob_utf8_decode(). */
static inline uint32_t ob_utf8_han3(const unsigned char *s, size_t n)
{
  if (n < 3 || s[0] < 0xE4 || s[0] > 0xE9 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
    return 0;
  return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (uint32_t)(s[2] & 0x3F);
}

#ifdef __cplusplus
}
#endif
#endif
