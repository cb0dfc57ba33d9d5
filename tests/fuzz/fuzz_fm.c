/* fuzz_fm - front matter (ob_fm_parse): the YAML subset at the top of a
 * handbook file, which anyone who can edit the handbook (and, through
 * lesson writes, the API) controls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fuzz.h"

static void check_strv(const ob_strv *v, const char *what)
{
  FUZZ_CHECK(v->n == 0 || v->v, "%s: items without an array", what);
  for (size_t i = 0; i < v->n; i++)
    FUZZ_CHECK(v->v[i] != NULL, "%s[%zu] is NULL", what, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ob_fm fm;
  char err[OB_ERR_SIZE];
  if (size > OB_DOC_MAX_BYTES)
    return 0;
  fuzz_err_init(err);
  ob_status st = ob_fm_parse((const char *)data, size, &fm, err);
  if (st == OB_OK) {
    FUZZ_CHECK(fm.body_offset <= size, "body_offset %zu > %zu", fm.body_offset, size);
    FUZZ_CHECK(fm.body_line >= 1, "body_line 0");
    /* the body starts at a line start (or at the end) */
    FUZZ_CHECK(fm.body_offset == 0 || fm.body_offset == size || data[fm.body_offset - 1] == '\n',
               "body does not start a line");
    /* every field came from lines checked as UTF-8 and has no NUL */
    const char *s[] = {fm.id, fm.type, fm.title, fm.category, fm.severity};
    for (size_t i = 0; i < 5; i++)
      FUZZ_CHECK(!s[i] || fuzz_utf8(s[i]), "field %zu not UTF-8", i);
    check_strv(&fm.tags, "tags");
    check_strv(&fm.symptoms, "symptoms");
    check_strv(&fm.related, "related");
    check_strv(&fm.slots, "slots");
    ob_fm_clear(&fm);
  } else {
    FUZZ_CHECK(st == OB_EINPUT, "unexpected status %d", (int)st);
    FUZZ_CHECK(fuzz_err_ok(err), "failed without a message");
    FUZZ_CHECK(err[0] >= '1' && err[0] <= '9', "message without a line: %s", err);
    FUZZ_CHECK(!fm.id && !fm.title && fm.tags.n == 0, "fields left after an error");
  }
  return 0;
}
