/* doc.c - one handbook file -> ob_doc, by walking cmark's tree. */
#include "doc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "buf.h"
#include "utf8.h"

int ob_doc_id_valid(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n > OB_ID_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
    if (!ok)
      return 0;
  }
  return 1;
}

void ob_doc_free(ob_doc *d)
{
  if (!d)
    return;
  free(d->path);
  free(d->id);
  free(d->type);
  free(d->title);
  free(d->category);
  free(d->severity);
  ob_strv_clear(&d->tags);
  ob_strv_clear(&d->symptoms);
  ob_strv_clear(&d->related);
  ob_strv_clear(&d->slots);
  free(d->phrase);
  free(d->markdown);
  for (size_t i = 0; i < d->nsections; i++) {
    free(d->sections[i].heading);
    free(d->sections[i].anchor);
    free(d->sections[i].text);
    ob_strv_clear(&d->sections[i].symptoms);
  }
  free(d->sections);
  free(d);
}

char *ob_doc_render_html(const char *md, size_t len)
{
  /* CMARK_OPT_SAFE is the default in 0.30: raw HTML and unsafe links are
   * replaced by comments / empty links. Keep it explicit. */
  char *html = cmark_markdown_to_html(md, len, CMARK_OPT_DEFAULT);
  char *out = ob_xstrdup(html ? html : "");
  free(html);
  return out;
}

/* "N) " or "N. " for an item of an ordered list numbered 0-999, else 0.
 * Items are met in order: each keeps its number in the node's user data,
 * and the next counts on from its previous sibling's (counting the
 * siblings each time was quadratic, tests/hostile/cmark_slow.c). */
static int item_number(cmark_node *item, char *out, size_t cap)
{
  cmark_node *list = cmark_node_parent(item);
  if (!list || cmark_node_get_list_type(list) != CMARK_ORDERED_LIST)
    return 0;
  cmark_node *prev = cmark_node_previous(item);
  long k = prev ? (long)(intptr_t)cmark_node_get_user_data(prev) + 1
                : (long)cmark_node_get_list_start(list);
  cmark_node_set_user_data(item, (void *)(intptr_t)k);
  /* at most "999. ": an item takes at least three bytes of the file
   * ("1.\n"), so the text stays within twice the file's size */
  if (k < 0 || k > 999)
    return 0;
  snprintf(out, cap, "%ld%c ", k, cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ? ')' : '.');
  return 1;
}

/* Plain text of a node's inline content. */
static void inline_text(cmark_node *n, ob_buf *out)
{
  cmark_iter *it = cmark_iter_new(n);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    cmark_node *c = cmark_iter_get_node(it);
    if (ev != CMARK_EVENT_ENTER)
      continue;
    switch (cmark_node_get_type(c)) {
    case CMARK_NODE_TEXT:
    case CMARK_NODE_CODE:
    case CMARK_NODE_HTML_INLINE: {
      const char *l = cmark_node_get_literal(c);
      if (l)
        if (ob_buf_puts(out, l)) { /* cannot overflow: caps are 2x the file cap */ }
      break;
    }
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
      if (ob_buf_putc(out, '\n')) { /* cannot overflow: caps are 2x the file cap */ }
      break;
    default:
      break;
    }
  }
  cmark_iter_free(it);
}

static void trim_buf(ob_buf *b)
{
  while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
    b->data[--b->len] = '\0';
}

struct builder {
  ob_doc *d;
  ob_buf text;  /* current section text */
  int have_title;
  size_t cap;   /* sections allocated */
};

static void add_section(struct builder *b, const char *heading, int level, unsigned line)
{
  ob_doc *d = b->d;
  if (d->nsections == b->cap) { /* doubling: one realloc per section is quadratic */
    b->cap = b->cap ? 2 * b->cap : 8;
    d->sections = ob_xrealloc(d->sections, b->cap * sizeof *d->sections);
  }
  struct ob_section *s = &d->sections[d->nsections];
  char anchor[32];
  if (level == 0)
    anchor[0] = '\0';
  else
    snprintf(anchor, sizeof anchor, "s%zu", d->nsections);
  s->heading = heading ? ob_xstrdup(heading) : NULL;
  s->level = level;
  s->anchor = ob_xstrdup(anchor);
  s->text = NULL;
  s->line = line;
  s->symptoms.v = NULL;
  s->symptoms.n = 0;
  d->nsections++;
}

static void close_section(struct builder *b)
{
  trim_buf(&b->text);
  struct ob_section *s = &b->d->sections[b->d->nsections - 1];
  s->text = ob_buf_detach(&b->text, NULL);
}

/* Slots found in the body, at most: a phrase has a handful, and the
 * duplicate check below is quadratic in their number. */
#define OB_DOC_MAX_BODY_SLOTS 32

static void collect_slots(const char *s, ob_strv *slots)
{
  for (const char *p = strstr(s, "{{"); p && slots->n < OB_DOC_MAX_BODY_SLOTS;
       p = strstr(p, "{{")) {
    const char *e = strstr(p + 2, "}}");
    if (!e)
      break;
    size_t n = (size_t)(e - p - 2);
    int dup = 0;
    for (size_t i = 0; i < slots->n; i++)
      if (strlen(slots->v[i]) == n && memcmp(slots->v[i], p + 2, n) == 0)
        dup = 1;
    /* names are 1-16 characters without braces or white space */
    int ok = n > 0 && ob_utf8_count(p + 2, n) <= 16;
    for (size_t i = 0; ok && i < n; i++)
      ok = !strchr("{} \t\r\n", p[2 + i]);
    if (!dup && ok)
      ob_strv_push(slots, p + 2, n);
    p = e + 2;
  }
}

/* A section's own everyday wordings: an HTML comment
 * `<!-- symptoms: 机房太热; 空调坏了 -->` (items separated by ; or ；).
 * Returns 1 when lit is such a comment. */
static int section_symptoms(const char *lit, ob_strv *out)
{
  static const char key[] = "symptoms:";
  if (!lit || strncmp(lit, "<!--", 4) != 0)
    return 0;
  const char *p = lit + 4;
  while (*p == ' ' || *p == '\n' || *p == '\t')
    p++;
  if (strncmp(p, key, sizeof key - 1) != 0)
    return 0;
  p += sizeof key - 1;
  const char *end = strstr(p, "-->");
  if (!end)
    return 0;
  while (p < end) {
    const char *q = p;
    while (q < end && *q != ';' && *q != '\n' && strncmp(q, "\xEF\xBC\x9B", 3) != 0)
      q++;
    const char *a = p, *b = q;
    while (a < b && (*a == ' ' || *a == '\t'))
      a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
      b--;
    if (b > a && out->n < 32)
      ob_strv_push(out, a, (size_t)(b - a));
    p = q < end ? q + (*q == ';' || *q == '\n' ? 1 : 3) : end;
  }
  return 1;
}

/* cmark 0.30.2 takes quadratic time on a few shapes: containers nested
 * hundreds deep and then many lines (CVE-2023-24824: every line walks every
 * open container; "> > > ...", "- - - ..." or lists nested by indentation)
 * and a paragraph of thousands of link brackets (CVE-2023-22486: "![[]()"
 * repeated). A 256 KiB file of them holds a worker for seconds to minutes
 * (tests/hostile/cmark_slow.c); no handbook needs them, so they are refused
 * before cmark sees the text. Code blocks are not told apart: the limits
 * are far above what prose or code needs. */
#define OB_DOC_MAX_NESTING 32     /* quotes and lists open at one line */
#define OB_DOC_MAX_BRACKETS 2000  /* '[' in one paragraph (between blank lines) */

static int list_marker(const char *p, const char *e, size_t *len)
{
  size_t n = 0;
  if (p < e && (*p == '-' || *p == '+' || *p == '*'))
    n = 1;
  else {
    while (p + n < e && n < 9 && p[n] >= '0' && p[n] <= '9')
      n++;
    if (n == 0 || p + n >= e || (p[n] != '.' && p[n] != ')'))
      return 0;
    n++;
  }
  if (p + n < e && p[n] != ' ' && p[n] != '\t')
    return 0;
  *len = n;
  return 1;
}

/* A thematic break ("- - -", "***"): only -, * or _ and white space. */
static int thematic_break(const char *p, const char *e)
{
  size_t marks = 0;
  for (; p < e; p++) {
    if (*p == '-' || *p == '*' || *p == '_')
      marks++;
    else if (*p != ' ' && *p != '\t' && *p != '\r')
      return 0;
  }
  return marks >= 3;
}

/* The end of the line at p: the first LF or CR (cmark ends a line at
 * either, and at CRLF), or end. */
static const char *line_end(const char *p, const char *end)
{
  while (p < end && *p != '\n' && *p != '\r')
    p++;
  return p;
}

/* Past the line end at e (LF, CR or CRLF). */
static const char *next_line(const char *e, const char *end)
{
  if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
    return e + 2;
  return e < end ? e + 1 : end;
}

/* An upper bound of the containers open at each line: those of the last
 * non-blank line that its indentation can continue (a list item needs two
 * columns or more), plus the quote and list markers it opens. Lines end
 * where cmark ends them: at LF, CRLF or a lone CR. */
ob_status ob_doc_check_shape(const char *s, size_t n, unsigned line, char *err)
{
  size_t brackets = 0, depth = 0;
  for (const char *p = s, *end = s + n; p < end; line++) {
    const char *e = line_end(p, end);
    const char *q = p;
    size_t cols = 0;
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
      cols += *q++ == '\t' ? 4 : 1;
    if (q == e) {
      brackets = 0; /* a blank line ends every paragraph, not the lists */
      p = next_line(e, end);
      continue;
    }
    for (const char *b = q; (b = memchr(b, '[', (size_t)(e - b))); b++)
      if (++brackets > OB_DOC_MAX_BRACKETS)
        return ob_fail(err, OB_EINPUT,
                       "%u: more than %d '[' in one paragraph (Markdown that is slow to "
                       "parse): split it with blank lines",
                       line, OB_DOC_MAX_BRACKETS);
    depth = depth < cols / 2 ? depth : cols / 2;
    if (!thematic_break(q, e)) {
      size_t ml;
      for (;;) {
        if (q < e && *q == '>')
          q++;
        else if (list_marker(q, e, &ml))
          q += ml;
        else
          break;
        while (q < e && (*q == ' ' || *q == '\t'))
          q++;
        if (++depth > OB_DOC_MAX_NESTING)
          return ob_fail(err, OB_EINPUT,
                         "%u: quotes or lists nested more than %d deep (Markdown that is slow "
                         "to parse)",
                         line, OB_DOC_MAX_NESTING);
      }
    }
    p = next_line(e, end);
  }
  return OB_OK;
}

static char *take(char **s)
{
  char *v = *s;
  *s = NULL;
  return v;
}

static void move_strv(ob_strv *dst, ob_strv *src)
{
  *dst = *src;
  src->v = NULL;
  src->n = 0;
}

ob_status ob_doc_parse(const char *relpath, const char *src, size_t len, ob_doc **out,
                       char *err)
{
  ob_fm fm;
  ob_doc *d = NULL;
  cmark_node *root = NULL;
  struct builder b;
  ob_buf tmp;
  ob_status st;
  char ferr[OB_ERR_SIZE];

  *out = NULL;
  ob_buf_init(&b.text, OB_DOC_MAX_BYTES * 2);
  ob_buf_init(&tmp, OB_DOC_MAX_BYTES);
  if (len > OB_DOC_MAX_BYTES)
    return ob_fail(err, OB_ETOOBIG, "1: file larger than %d KiB", OB_DOC_MAX_BYTES / 1024);
  if (!ob_utf8_valid(src, len)) {
    /* find the line of the first bad byte for the message */
    unsigned line = 1;
    size_t i = 0;
    while (i < len) {
      uint32_t cp;
      size_t l = ob_utf8_decode((const unsigned char *)src + i, len - i, &cp);
      if (l == 0 || cp == 0)
        break;
      if (cp == '\n')
        line++;
      i += l;
    }
    return ob_fail(err, OB_EINPUT, "%u: invalid UTF-8", line);
  }
  if ((st = ob_fm_parse(src, len, &fm, ferr)) != OB_OK)
    return ob_fail(err, st, "%s", ferr);
  if ((st = ob_doc_check_shape(src + fm.body_offset, len - fm.body_offset, fm.body_line, err))) {
    ob_fm_clear(&fm);
    return st;
  }

  d = ob_xcalloc(1, sizeof *d);
  b.d = d;
  b.have_title = 0;
  b.cap = 0;
  d->path = ob_xstrdup(relpath);

  /* defaults from the path: type from the first folder, id from the name */
  const char *slash = strchr(relpath, '/');
  const char *base = strrchr(relpath, '/');
  base = base ? base + 1 : relpath;
  size_t blen = strlen(base);
  if (blen > 3 && strcmp(base + blen - 3, ".md") == 0)
    blen -= 3;
  d->id = fm.id ? take(&fm.id) : ob_xstrndup(base, blen);
  if (fm.type)
    d->type = take(&fm.type);
  else if (slash && (size_t)(slash - relpath) == 6 && memcmp(relpath, "phrase", 6) == 0)
    d->type = ob_xstrdup("phrase");
  else if (slash && (size_t)(slash - relpath) == 5 && memcmp(relpath, "fault", 5) == 0)
    d->type = ob_xstrdup("fault");
  else
    d->type = ob_xstrdup("sop");
  if (!ob_doc_id_valid(d->id)) {
    st = ob_fail(err, OB_EINPUT, "1: invalid id '%.64s' (use a-z, 0-9 and -)", d->id);
    goto out;
  }
  if (strcmp(d->type, "sop") && strcmp(d->type, "phrase") && strcmp(d->type, "fault")) {
    st = ob_fail(err, OB_EINPUT, "1: unknown type '%.32s' (sop, phrase or fault)", d->type);
    goto out;
  }
  d->title = take(&fm.title);
  d->category = take(&fm.category);
  d->severity = take(&fm.severity);
  move_strv(&d->tags, &fm.tags);
  move_strv(&d->symptoms, &fm.symptoms);
  move_strv(&d->related, &fm.related);
  move_strv(&d->slots, &fm.slots);
  d->markdown = ob_xstrndup(src + fm.body_offset, len - fm.body_offset);

  root = cmark_parse_document(d->markdown, strlen(d->markdown), CMARK_OPT_DEFAULT);
  add_section(&b, NULL, 0, fm.body_line);
  for (cmark_node *n = cmark_node_first_child(root); n; n = cmark_node_next(n)) {
    cmark_node_type t = cmark_node_get_type(n);
    unsigned line = fm.body_line + (unsigned)cmark_node_get_start_line(n) - 1;
    if (t == CMARK_NODE_HEADING) {
      int level = cmark_node_get_heading_level(n);
      ob_buf_reset(&tmp);
      inline_text(n, &tmp);
      trim_buf(&tmp);
      if (level == 1 && !b.have_title) {
        b.have_title = 1;
        if (!d->title)
          d->title = ob_xstrdup(tmp.data ? tmp.data : "");
        continue;
      }
      if (level >= 2) {
        close_section(&b);
        add_section(&b, tmp.data ? tmp.data : "", level, line);
        continue;
      }
    }
    if (t == CMARK_NODE_BLOCK_QUOTE && !d->phrase && strcmp(d->type, "phrase") == 0) {
      ob_buf_reset(&tmp);
      for (cmark_node *c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
        if (tmp.len)
          if (ob_buf_putc(&tmp, '\n')) { /* cannot overflow: caps are 2x the file cap */ }
        inline_text(c, &tmp);
      }
      trim_buf(&tmp);
      d->phrase = ob_xstrdup(tmp.data ? tmp.data : "");
    }
    /* block text: every leaf block's inline text, one line each */
    cmark_iter *it = cmark_iter_new(n);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
      cmark_node *c = cmark_iter_get_node(it);
      cmark_node_type ct = cmark_node_get_type(c);
      if (ev != CMARK_EVENT_ENTER)
        continue;
      if (ct == CMARK_NODE_ITEM) {
        /* an ordered item's number is the source's text ("2) 损害…",
         * "3. 变更管理"): kept, where the HTML renders it as <ol> */
        char num[32];
        if (item_number(c, num, sizeof num))
          if (ob_buf_puts(&b.text, num)) { /* cannot overflow: caps are 2x the file cap */ }
      } else if (ct == CMARK_NODE_PARAGRAPH || ct == CMARK_NODE_HEADING) {
        inline_text(c, &b.text);
        if (ob_buf_putc(&b.text, '\n')) { /* cannot overflow: caps are 2x the file cap */ }
      } else if (ct == CMARK_NODE_HTML_BLOCK && section_symptoms(cmark_node_get_literal(c),
                                     &d->sections[d->nsections - 1].symptoms)) {
        /* metadata comment: indexed, never shown */
      } else if (ct == CMARK_NODE_CODE_BLOCK || ct == CMARK_NODE_HTML_BLOCK) {
        const char *l = cmark_node_get_literal(c);
        if (l)
          if (ob_buf_puts(&b.text, l)) { /* cannot overflow: caps are 2x the file cap */ }
        if (ob_buf_putc(&b.text, '\n')) { /* cannot overflow: caps are 2x the file cap */ }
      }
    }
    cmark_iter_free(it);
  }
  close_section(&b);
  if (!d->title || !*d->title) {
    free(d->title);
    d->title = ob_xstrdup(d->id);
  }
  if (d->slots.n == 0)
    collect_slots(d->markdown, &d->slots);
  st = OB_OK;
out:
  if (root)
    cmark_node_free(root);
  ob_fm_clear(&fm);
  ob_buf_free(&b.text);
  ob_buf_free(&tmp);
  if (st != OB_OK) {
    ob_doc_free(d);
    return st;
  }
  *out = d;
  return OB_OK;
}
