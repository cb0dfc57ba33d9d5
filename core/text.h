/* text.h - the one text pipeline for documents and queries.
 *
 *   NFKC (utf8proc) -> traditional to simplified (OpenCC t2s)
 *   -> lower-case -> tokens: CJK unigrams and bigrams, friso words
 *   (with the ops lexicon), Latin/digit words.
 *
 * An ob_text handle holds the loaded resources (OpenCC, friso dictionary,
 * lexicon, synonym table). It is immutable after ob_text_new() and may be
 * shared by any number of threads; every call allocates its own scratch.
 */
#ifndef OB_TEXT_H
#define OB_TEXT_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_text ob_text;

/* Most bytes normalisation can make of one input byte (NFKC of U+FDFA
 * turns 3 bytes into 33); size output buffers with it. */
#define OB_NFKC_GROWTH 12

/* Longest token kept, in bytes; longer Latin runs are truncated. */
#define OB_TOKEN_MAX 64

/* Loads the language resources from lang_dir (ops.dic, synonyms.txt, stopwords.txt).
 * lang_dir NULL uses OB_LANG_DIR (compiled in). Caller frees with
 * ob_text_free(). */
ob_status ob_text_new(const char *lang_dir, ob_text **out, char *err) OB_WUR;
void ob_text_free(ob_text *t);

/* Normalises n bytes of UTF-8 s into out (appended). If map is not NULL
 * it is filled with, for each byte of the normalised text, the offset of
 * the source byte it came from (map->data holds size_t values; caller
 * frees with ob_buf_free()). Invalid UTF-8 is OB_EINPUT. */
ob_status ob_text_normalize(const ob_text *t, const char *s, size_t n, ob_buf *out,
                            ob_buf *map, char *err) OB_WUR;

typedef enum ob_tok_kind {
  OB_TOK_CJK1 = 0, /* one CJK character */
  OB_TOK_CJK2,     /* two adjacent CJK characters */
  OB_TOK_WORD,     /* a friso word of two or more CJK characters */
  OB_TOK_LATIN     /* a run of letters and digits */
} ob_tok_kind;

typedef struct ob_token {
  ob_tok_kind kind;
  const char *s;  /* borrowed: valid during the callback only */
  size_t len;
  size_t start;   /* byte offsets in the normalised text */
  size_t end;
} ob_token;

/* Return non-zero to stop. */
typedef int (*ob_token_fn)(const ob_token *tok, void *ctx);

/* Tokenises normalised text (from ob_text_normalize). */
ob_status ob_text_tokenize(const ob_text *t, const char *norm, size_t n, ob_token_fn fn,
                           void *ctx) OB_WUR;

/* The synonym group of a normalised word: a NULL-terminated array of the
 * group's words (including the word itself), or NULL. Borrowed from t. */
const char *const *ob_text_synonyms(const ob_text *t, const char *word, size_t len);

/* The stamp of the resources that shape index terms (ops.dic and
 * synonyms.txt, whose words are lexicon words too) in lang_dir (NULL: the
 * built-in default): 16 hex digits of a hash of both files, into out
 * (17 bytes). An index records it; another stamp means its words were
 * cut with other resources, and opsbook-index rebuilds it. */
ob_status ob_text_lang_stamp(const char *lang_dir, char out[17], char *err) OB_WUR;
/* The stamp of the resources t was loaded from (as above). */
const char *ob_text_stamp(const ob_text *t);

/* True when a normalised token is on the query stop list (stopwords.txt). */
int ob_text_is_stop(const ob_text *t, const char *word, size_t len);

#ifdef __cplusplus
}
#endif
#endif
