/* docview.c - a document for /api/docs; see docview.h. */
#define _POSIX_C_SOURCE 200809L
#include "docview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "index.h"
#include "schema.h"

#define PATH_MAX_SRV 4096
#define LESSONS_HEADING "经验教训"

ob_status ob_docview_brief(ob_xdb *db, const char *id, char **type, char **title, char **path,
                           char *err)
{
  char term[OB_ID_MAX + 8];
  ob_xresults xr = {0, 0, NULL, 0};
  ob_status st;
  *type = *title = NULL;
  if (path)
    *path = NULL;
  if (!ob_doc_id_valid(id))
    return ob_fail(err, OB_ENOTFOUND, "invalid id");
  snprintf(term, sizeof term, "%s%s", OB_P_DOC, id);
  if ((st = ob_xdb_by_term(db, term, 1, &xr, err)))
    return st;
  if (xr.n == 0) {
    st = ob_fail(err, OB_ENOTFOUND, "%s: not in the index", id);
    goto out;
  }
  const char *f[OB_R_NFIELDS];
  size_t fl[OB_R_NFIELDS];
  ob_index_record_fields(xr.hits[0].data, xr.hits[0].data_len, f, fl);
  *type = ob_xstrndup(f[OB_R_TYPE], fl[OB_R_TYPE]);
  *title = ob_xstrndup(f[OB_R_TITLE], fl[OB_R_TITLE]);
  if (path)
    *path = ob_xstrndup(f[OB_R_PATH], fl[OB_R_PATH]);
out:
  ob_xresults_free(&xr);
  return st;
}

/* A path from the index is ours, but it is joined to a folder: refuse
 * anything that could step out of it. */
static int safe_relpath(const char *p)
{
  if (!*p || p[0] == '/' || strchr(p, '\\'))
    return 0;
  for (const char *seg = p; *seg;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || (n == 2 && seg[0] == '.' && seg[1] == '.'))
      return 0;
    seg += n + (end ? 1 : 0);
  }
  return 1;
}

ob_status ob_docview_load(ob_xdb *db, const char *handbook, const char *id, ob_doc **out, char *err)
{
  char *type = NULL, *title = NULL, *rel = NULL;
  char abs[PATH_MAX_SRV];
  ob_buf src;
  ob_status st;
  *out = NULL;
  ob_buf_init(&src, OB_DOC_MAX_BYTES);
  if ((st = ob_docview_brief(db, id, &type, &title, &rel, err)))
    goto out;
  if (!safe_relpath(rel)) {
    st = ob_fail(err, OB_ENOTFOUND, "%s: unusable path in the index", id);
    goto out;
  }
  if ((size_t)snprintf(abs, sizeof abs, "%s/%s", handbook, rel) >= sizeof abs) {
    st = ob_fail(err, OB_ENOTFOUND, "%s: path too long", id);
    goto out;
  }
  if ((st = ob_buf_read_file(&src, abs, err)))
    goto out;
  if ((st = ob_doc_parse(rel, src.data, src.len, out, err)))
    goto out;
  if (strcmp((*out)->id, id) != 0) { /* edited since it was indexed */
    ob_doc_free(*out);
    *out = NULL;
    st = ob_fail(err, OB_ENOTFOUND, "%s: the file now holds another id", id);
  }
out:
  free(type);
  free(title);
  free(rel);
  ob_buf_free(&src);
  return st;
}

char *ob_docview_html(const ob_doc *d)
{
  char *html = ob_doc_render_html(d->markdown, strlen(d->markdown));
  size_t heads = 0, sections = d->nsections ? d->nsections - 1 : 0;
  /* cmark writes headings as bare "<hN>" and escapes every '<' of text,
   * so these are exactly the headings. Only top-level ones are sections;
   * when the counts differ (a heading inside a list or quote) the anchors
   * are left out rather than put on the wrong headings. */
  for (const char *p = strstr(html, "<h"); p; p = strstr(p + 2, "<h"))
    if (p[2] >= '2' && p[2] <= '6' && p[3] == '>')
      heads++;
  if (heads == 0 || heads != sections)
    return html;
  ob_buf b;
  ob_buf_init(&b, strlen(html) + heads * 16 + 1);
  size_t k = 0;
  const char *from = html;
  for (const char *p = strstr(html, "<h"); p; p = strstr(p + 2, "<h")) {
    if (!(p[2] >= '2' && p[2] <= '6' && p[3] == '>'))
      continue;
    const char *anchor = d->sections[++k].anchor;
    if (ob_buf_append(&b, from, (size_t)(p - from)) ||
        ob_buf_printf(&b, "<h%c id=\"%s\">", p[2], anchor))
      goto fail;
    from = p + 4;
  }
  if (ob_buf_puts(&b, from))
    goto fail;
  free(html);
  return ob_buf_detach(&b, NULL);
fail:
  ob_buf_free(&b);
  return html;
}

static void strv_json(ob_jw *w, const char *key, const ob_strv *v)
{
  ob_jw_key(w, key);
  ob_jw_arr(w);
  for (size_t i = 0; i < v->n; i++)
    ob_jw_str(w, v->v[i]);
  ob_jw_arr_end(w);
}

static ob_status lessons_json(const ob_doc *d, ob_jw *w)
{
  ob_buf text;
  ob_status st = OB_OK;
  ob_buf_init(&text, 2 * OB_DOC_MAX_BYTES);
  ob_jw_key(w, "lessons");
  ob_jw_arr(w);
  size_t i = 0;
  while (i < d->nsections && !(d->sections[i].level == 2 && d->sections[i].heading &&
                               strcmp(d->sections[i].heading, LESSONS_HEADING) == 0))
    i++;
  for (i++; i < d->nsections && d->sections[i].level > 2 && !st; i++) {
    const struct ob_section *s = &d->sections[i];
    if (s->level != 3)
      continue; /* deeper headings are folded into their lesson below */
    ob_buf_reset(&text);
    st = ob_buf_puts(&text, s->text);
    for (size_t k = i + 1; k < d->nsections && d->sections[k].level > 3 && !st; k++)
      if ((st = ob_buf_puts(&text, "\n")) || (st = ob_buf_puts(&text, d->sections[k].heading)) ||
          (st = ob_buf_puts(&text, "\n")) || (st = ob_buf_puts(&text, d->sections[k].text)))
        break;
    ob_jw_obj(w);
    ob_jw_kstr(w, "heading", s->heading);
    ob_jw_key(w, "text");
    ob_jw_strn(w, text.data ? text.data : "", text.len);
    ob_jw_obj_end(w);
  }
  ob_jw_arr_end(w);
  ob_buf_free(&text);
  return st;
}

ob_status ob_docview_json(ob_xdb *db, const ob_doc *d, ob_jw *w, char *err)
{
  ob_status st = OB_OK;
  char *html = ob_docview_html(d);
  ob_jw_obj(w);
  ob_jw_kstr(w, "id", d->id);
  ob_jw_kstr(w, "type", d->type);
  ob_jw_kstr(w, "title", d->title);
  ob_jw_kstr(w, "category", d->category);
  strv_json(w, "tags", &d->tags);
  strv_json(w, "symptoms", &d->symptoms);
  strv_json(w, "slots", &d->slots);
  ob_jw_kstr(w, "severity", d->severity);
  ob_jw_kstr(w, "phrase", d->phrase);
  ob_jw_kstr(w, "markdown", d->markdown);
  ob_jw_kstr(w, "html", html);
  ob_jw_key(w, "toc");
  ob_jw_arr(w);
  for (size_t i = 0; i < d->nsections; i++) {
    const struct ob_section *s = &d->sections[i];
    if (s->level < 2)
      continue;
    ob_jw_obj(w);
    ob_jw_kint(w, "level", s->level);
    ob_jw_kstr(w, "text", s->heading);
    ob_jw_kstr(w, "anchor", s->anchor);
    ob_jw_obj_end(w);
  }
  ob_jw_arr_end(w);
  ob_jw_key(w, "related");
  ob_jw_arr(w);
  for (size_t i = 0; i < d->related.n && !st; i++) {
    char *type = NULL, *title = NULL;
    st = ob_docview_brief(db, d->related.v[i], &type, &title, NULL, err);
    if (st == OB_OK) {
      ob_jw_obj(w);
      ob_jw_kstr(w, "id", d->related.v[i]);
      ob_jw_kstr(w, "type", type);
      ob_jw_kstr(w, "title", title);
      ob_jw_obj_end(w);
    } else if (st == OB_ENOTFOUND) {
      st = OB_OK; /* a related id that is not (yet) in the handbook */
    }
    free(type);
    free(title);
  }
  ob_jw_arr_end(w);
  if (!st)
    st = lessons_json(d, w);
  ob_jw_obj_end(w);
  free(html);
  if (!st && (st = ob_jw_status(w)))
    ob_fail(err, st, "document too large to send");
  return st;
}
