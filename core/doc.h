/* doc.h - the document model: front matter + Markdown -> sections.
 *
 * ob_doc_parse() turns one handbook file into an ob_doc: front matter
 * fields (a documented YAML subset, see docs/handbook-format.md), the
 * title, and the sections a search hit can point at. Markdown is parsed
 * with cmark; nothing here is a hand-written Markdown parser.
 */
#ifndef OB_DOC_H
#define OB_DOC_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_DOC_MAX_BYTES (256 * 1024)
#define OB_FM_MAX_LINES 200
#define OB_ID_MAX 64

typedef struct ob_strv {
  char **v;   /* owned strings */
  size_t n;
} ob_strv;

struct ob_section {
  char *heading;  /* NULL for the lead section */
  int level;      /* 0 for the lead section, else 2..6 */
  char *anchor;   /* "s1", "s2", ...; "" for the lead */
  char *text;     /* plain text of the section (headings excluded) */
  unsigned line;  /* 1-based line of the heading in the file */
  ob_strv symptoms; /* from a `<!-- symptoms: a; b -->` comment in the section */
};

/* Front matter as parsed; every field may be NULL/empty when absent. */
typedef struct ob_fm {
  char *id, *type, *title, *category, *severity;
  ob_strv tags, symptoms, related, slots;
  size_t body_offset;  /* byte offset of the Markdown body in the file */
  unsigned body_line;  /* 1-based line where the body starts */
} ob_fm;

typedef struct ob_doc {
  char *path;      /* relative to the handbook root */
  char *id, *type, *title, *category, *severity;
  ob_strv tags, symptoms, related, slots;
  char *phrase;    /* text of the first blockquote (phrases), or NULL */
  char *markdown;  /* the body without front matter */
  struct ob_section *sections;
  size_t nsections;
} ob_doc;

/* Parses front matter at the start of src. Without a front matter block
 * the result is empty and body_offset is 0. On error err holds
 * "LINE: reason" (line within the file). Caller frees with ob_fm_clear(). */
ob_status ob_fm_parse(const char *src, size_t len, ob_fm *fm, char *err) OB_WUR;
void ob_fm_clear(ob_fm *fm);

/* Parses one handbook file. relpath (e.g. "phrase/foo.md") gives the
 * default type (first folder) and id (file name). On error err holds
 * "LINE: reason". Caller frees with ob_doc_free(). */
ob_status ob_doc_parse(const char *relpath, const char *src, size_t len, ob_doc **out,
                       char *err) OB_WUR;
void ob_doc_free(ob_doc *d);

/* Refuses Markdown shapes cmark 0.30 is slow on (containers nested more
 * than 32 deep, more than 2000 '[' in one paragraph) before cmark sees
 * them; line is the file line of s, for "LINE: reason" in err. */
ob_status ob_doc_check_shape(const char *s, size_t n, unsigned line, char *err) OB_WUR;

/* True for a valid document id: [a-z0-9][a-z0-9-]{0,63}. */
int ob_doc_id_valid(const char *id);
/* Renders Markdown to HTML with raw HTML suppressed. Caller frees. */
char *ob_doc_render_html(const char *md, size_t len);

void ob_strv_push(ob_strv *v, const char *s, size_t n);
void ob_strv_clear(ob_strv *v);

#ifdef __cplusplus
}
#endif
#endif
