/* docview.h - one handbook document as /api/docs shows it.
 *
 * The index knows where a document lives (the path field of its entries,
 * found by its XD<id> term); the file itself is read from the handbook and
 * parsed with ob_doc_parse(), so the page always shows the current text.
 */
#ifndef OB_SRV_DOCVIEW_H
#define OB_SRV_DOCVIEW_H

#include "doc.h"
#include "json.h"
#include "status.h"
#include "xap.h"

/* Type and title of document id from the index. OB_ENOTFOUND when the
 * index has no entry for it. Caller frees *type and *title. */
ob_status ob_docview_brief(ob_xdb *db, const char *id, char **type, char **title, char **path,
                           char *err) OB_WUR;

/* Finds id in the index, reads <handbook>/<path> (at most
 * OB_DOC_MAX_BYTES) and parses it. OB_ENOTFOUND when the index or the
 * handbook has no such document (or the file now holds another id).
 * Caller frees *out with ob_doc_free(). */
ob_status ob_docview_load(ob_xdb *db, const char *handbook, const char *id, ob_doc **out,
                          char *err) OB_WUR;

/* HTML of d's body (raw HTML suppressed) with id="sN" on the section
 * headings, matching the toc anchors. Caller frees. */
char *ob_docview_html(const ob_doc *d);

/* Writes the /api/docs object for d through w: front matter fields,
 * markdown, html, toc, related (each looked up in db; unknown ids are
 * skipped) and lessons (the ### entries under "## 经验教训"). */
ob_status ob_docview_json(ob_xdb *db, const ob_doc *d, ob_jw *w, char *err) OB_WUR;

#endif
