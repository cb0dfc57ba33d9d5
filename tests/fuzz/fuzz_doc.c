/* fuzz_doc - a handbook file end to end as the indexer and /api/docs see
 * it: ob_doc_parse (UTF-8 check, front matter, the cmark walk into
 * sections, section symptoms, slots), ob_doc_render_html, the server's
 * anchored HTML (ob_docview_html) and the /api/docs JSON (ob_docview_json,
 * related ids left out so no index is needed), which must parse. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docview.h"
#include "fuzz.h"
#include "json.h"

/* The first input byte picks the file's place in the handbook (it gives
 * the default type and id); the rest is the file. */
static const char *const paths[] = {"sop/a-doc.md", "phrase/p1.md", "fault/f-2.md", "x.md",
                                    "sop/Bad_Name.md"};

static void check_doc(const ob_doc *d)
{
  FUZZ_CHECK(d->id && ob_doc_id_valid(d->id), "invalid id accepted");
  FUZZ_CHECK(d->type && (!strcmp(d->type, "sop") || !strcmp(d->type, "phrase") ||
                         !strcmp(d->type, "fault")),
             "bad type");
  FUZZ_CHECK(d->title && d->markdown, "no title or markdown");
  FUZZ_CHECK(d->nsections >= 1 && d->sections[0].level == 0 && !d->sections[0].heading,
             "no lead section");
  for (size_t i = 0; i < d->nsections; i++) {
    const struct ob_section *s = &d->sections[i];
    FUZZ_CHECK(s->text && s->anchor, "section %zu incomplete", i);
    FUZZ_CHECK(i == 0 || (s->level >= 2 && s->level <= 6 && s->heading), "section %zu level %d",
               i, s->level);
    FUZZ_CHECK(fuzz_utf8(s->text) && (!s->heading || fuzz_utf8(s->heading)),
               "section %zu text is not UTF-8", i);
    FUZZ_CHECK(s->symptoms.n <= 32, "more than 32 section symptoms");
  }
  for (size_t i = 0; i < d->slots.n; i++)
    FUZZ_CHECK(d->slots.v[i] && fuzz_utf8(d->slots.v[i]), "slot %zu", i);
  FUZZ_CHECK(!d->phrase || fuzz_utf8(d->phrase), "phrase is not UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ob_doc *d = NULL;
  char err[OB_ERR_SIZE];
  if (size < 1 || size > OB_DOC_MAX_BYTES + 1)
    return 0;
  const char *path = paths[data[0] % (sizeof paths / sizeof paths[0])];
  /* an exact-size copy so ASan sees any read past the end */
  size_t n = size - 1;
  char *src = malloc(n ? n : 1);
  memcpy(src, data + 1, n);
  fuzz_err_init(err);
  ob_status st = ob_doc_parse(path, src, n, &d, err);
  if (st != OB_OK) {
    FUZZ_CHECK(st == OB_EINPUT || st == OB_ETOOBIG, "unexpected status %d", (int)st);
    FUZZ_CHECK(fuzz_err_ok(err), "failed without a message");
    FUZZ_CHECK(d == NULL, "doc left after an error");
    free(src);
    return 0;
  }
  check_doc(d);

  char *html = ob_doc_render_html(d->markdown, strlen(d->markdown));
  FUZZ_CHECK(html != NULL, "no HTML");
  free(html);

  /* the /api/docs object: without related ids the index is not touched */
  ob_strv related = d->related;
  d->related.v = NULL;
  d->related.n = 0;
  ob_buf out;
  ob_jw w;
  ob_buf_init(&out, 16u << 20);
  ob_jw_init(&w, &out);
  fuzz_err_init(err);
  st = ob_docview_json(NULL, d, &w, err);
  if (st == OB_OK) {
    json_error_t je;
    json_t *j = json_loadb(out.data, out.len, 0, &je);
    FUZZ_CHECK(j != NULL, "/api/docs JSON does not parse: %s", je.text);
    FUZZ_CHECK(json_is_array(json_object_get(j, "lessons")), "no lessons array");
    json_decref(j);
  } else {
    FUZZ_CHECK(fuzz_err_ok(err), "docview failed without a message");
  }
  ob_buf_free(&out);
  d->related = related;
  ob_doc_free(d);
  free(src);
  return 0;
}
