/* fuzz_lesson - the body of a lesson write (POST /api/docs/{id}/lessons,
 * POST /api/faults): what server/writes.c does with it before anything
 * is written: UTF-8 check, jansson's json_loadb with the route's flags
 * (JSON_REJECT_DUPLICATES), the field types (a string or null), then
 * core/lesson.c's Markdown check, entry composition and the re-parse of
 * the document (the pure steps of ob_lesson_append), and the text
 * rendered as /api/docs will render it. jansson and cmark are Debian's
 * libraries, not instrumented: their code runs but gives no coverage.
 *
 * OB_FUZZ_JSON_FLAGS must be the flags server/writes.c passes to
 * json_loadb. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doc.h"
#include "fuzz.h"
#include "json.h"
#ifdef OB_FUZZ_HAVE_LESSON
#include "lesson.h"
#endif

#ifndef OB_FUZZ_JSON_FLAGS
#define OB_FUZZ_JSON_FLAGS JSON_REJECT_DUPLICATES
#endif
#define BODY_MAX (64 * 1024) /* OB_SRV_BODY_MAX: larger bodies never reach the parser */
#define TEXT_MAX (16 * 1024) /* OB_LESSON_TEXT_MAX */

#ifdef OB_FUZZ_HAVE_LESSON
/* The fault write-up lessons are appended to, parsed once. */
static char *FAULT;
static size_t FAULT_LEN;
static ob_doc *FAULT_DOC;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  char err[OB_ERR_SIZE];
  ob_buf b;
  (void)argc;
  (void)argv;
  ob_buf_init(&b, OB_DOC_MAX_BYTES);
  if (ob_buf_read_file(&b, OB_FUZZ_SRC "/tests/fixtures/fault/room-overheat.md", err) ||
      ob_doc_parse("fault/room-overheat.md", b.data, b.len, &FAULT_DOC, err)) {
    fprintf(stderr, "fuzz_lesson: %s\n", err);
    abort();
  }
  FAULT = ob_buf_detach(&b, &FAULT_LEN);
  return 0;
}

static size_t count_heading(const ob_doc *d, int level, const char *h)
{
  size_t n = 0;
  for (size_t i = 0; i < d->nsections; i++)
    n += d->sections[i].level == level && d->sections[i].heading &&
         strcmp(d->sections[i].heading, h) == 0;
  return n;
}

/* What ob_lesson_append does with the text before anything is written:
 * check it (ob_lesson_check_markdown), make the "### date author" entry,
 * insert it into the document (ob_lesson_compose) and parse the result.
 * A text the check accepts must give a document that parses and holds
 * the new entry once, with every other section where it was. */
static void lesson_path(const char *text, size_t tn)
{
  char err[OB_ERR_SIZE];
  ob_buf md, entry, out;
  ob_buf_init(&md, 2 * OB_LESSON_TEXT_MAX);
  ob_buf_init(&entry, 4 * OB_LESSON_TEXT_MAX);
  ob_buf_init(&out, 2 * OB_DOC_MAX_BYTES);
  fuzz_err_init(err);
  ob_status st = ob_lesson_check_markdown(text, tn, OB_LESSON_TEXT_MAX, 4, "text", &md, err);
  if (st != OB_OK) {
    FUZZ_CHECK(st == OB_EINPUT || st == OB_ETOOBIG, "check status %d", (int)st);
    FUZZ_CHECK(fuzz_err_ok(err) && fuzz_utf8(err), "check failed without a message");
    goto out;
  }
  FUZZ_CHECK(md.len <= OB_LESSON_TEXT_MAX && ob_utf8_valid(md.data ? md.data : "", md.len),
             "checked text too long or not UTF-8");
  if (ob_buf_puts(&entry, "### 2099-01-01 fuzz\n\n") || ob_buf_append(&entry, md.data, md.len) ||
      ob_buf_putc(&entry, '\n'))
    goto out;
  fuzz_err_init(err);
  st = ob_lesson_compose(FAULT, FAULT_LEN, FAULT_DOC, entry.data, &out, err);
  FUZZ_CHECK(st == OB_OK || fuzz_err_ok(err), "compose failed without a message");
  if (st == OB_OK) {
    ob_doc *nd = NULL;
    st = ob_doc_parse("fault/room-overheat.md", out.data, out.len, &nd, err);
    fuzz_known_bug("lesson-shape", st == OB_OK,
                   "a lesson ob_lesson_check_markdown accepts breaks its document: %s", err);
    if (st == OB_OK) {
      FUZZ_CHECK(count_heading(nd, 3, "2099-01-01 fuzz") == 1, "the entry is not there once");
      for (size_t i = 0; i < FAULT_DOC->nsections; i++) {
        const struct ob_section *s = &FAULT_DOC->sections[i];
        if (s->level == 2)
          FUZZ_CHECK(count_heading(nd, 2, s->heading) == count_heading(FAULT_DOC, 2, s->heading),
                     "section '%s' lost or doubled", s->heading);
      }
    }
    ob_doc_free(nd);
  }
out:
  ob_buf_free(&md);
  ob_buf_free(&entry);
  ob_buf_free(&out);
}
#endif

/* A string field: absent is fine, anything but a string (or a string with
 * a NUL) is a 400. Returns -1 for a bad field. */
static int str_field(json_t *o, const char *key, const char **s, size_t *n)
{
  json_t *v = json_object_get(o, key);
  *s = NULL;
  *n = 0;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return -1;
  *s = json_string_value(v);
  *n = json_string_length(v);
  /* jansson guarantees UTF-8; a \u0000 is refused without JSON_ALLOW_NUL */
  FUZZ_CHECK(ob_utf8_valid(*s, *n) || *n == 0, "jansson string is not UTF-8 without NUL");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_error_t je;
  /* the route refuses a body that is not UTF-8 (or holds a NUL) first */
  if (size > BODY_MAX || !ob_utf8_valid((const char *)data, size))
    return 0;
  json_t *j = json_loadb((const char *)data, size, OB_FUZZ_JSON_FLAGS, &je);
  if (!j) {
    /* the 400 message quotes jansson's text: it must be printable */
    FUZZ_CHECK(memchr(je.text, '\0', sizeof je.text) != NULL, "unterminated jansson error");
    return 0;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    return 0;
  }
  const char *author, *text, *date, *incident;
  size_t an, tn, dn, in;
  if (str_field(j, "author", &author, &an) || str_field(j, "text", &text, &tn) ||
      str_field(j, "date", &date, &dn) || str_field(j, "incident", &incident, &in) || !text ||
      tn > TEXT_MAX) {
    json_decref(j);
    return 0;
  }

  /* the echo of a stored lesson goes back through the writer: it must
   * round-trip through jansson unchanged */
  ob_buf out;
  ob_jw w;
  ob_buf_init(&out, 4 * BODY_MAX);
  ob_jw_init(&w, &out);
  ob_jw_obj(&w);
  ob_jw_key(&w, "text");
  ob_jw_strn(&w, text, tn);
  ob_jw_key(&w, "author");
  ob_jw_strn(&w, author ? author : "", an);
  ob_jw_obj_end(&w);
  FUZZ_CHECK(ob_jw_status(&w) == OB_OK, "writer status");
  json_t *back = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &je);
  FUZZ_CHECK(back && json_equal(json_object_get(back, "text"), json_object_get(j, "text")),
             "lesson text does not round-trip: %s", back ? "differs" : je.text);
  json_decref(back);
  ob_buf_free(&out);

#ifdef OB_FUZZ_HAVE_LESSON
  lesson_path(text, tn);
  const char *symptoms;
  size_t sn;
  if (!str_field(j, "symptoms", &symptoms, &sn) && symptoms) {
    /* a fault section: ### subsections allowed */
    char err[OB_ERR_SIZE];
    ob_buf md;
    ob_buf_init(&md, 2 * OB_LESSON_TEXT_MAX);
    fuzz_err_init(err);
    ob_status st = ob_lesson_check_markdown(symptoms, sn, OB_LESSON_TEXT_MAX, 3, "symptoms", &md,
                                            err);
    FUZZ_CHECK(st == OB_OK || fuzz_err_ok(err), "check failed without a message");
    ob_buf_free(&md);
  }
#endif

  char *html = ob_doc_render_html(text, tn);
  FUZZ_CHECK(html != NULL, "no HTML");
  free(html);
  json_decref(j);
  return 0;
}
