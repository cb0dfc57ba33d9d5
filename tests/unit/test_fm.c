/* test_fm - front matter (ob_fm_parse in core/fm.c): the cases in
 * data/fm.test, plus the 200-line limit, generated here. */
#include "buf.h"
#include "doc.h"
#include "harness.h"

/* Expands the <TAB>-style markers of fm.test (and \n, \\ when esc). */
static char *expand(const char *s, size_t n, int esc, size_t *outlen)
{
  static const struct {
    const char *mark, *bytes;
  } marks[] = {
      {"<TAB>", "\t"},
      {"<CR>", "\r"},
      {"<BOM>", "\xEF\xBB\xBF"},
      {"<FF>", "\xFF"},
  };
  char *out = malloc(n + 1), *o = out;
  for (size_t i = 0; i < n;) {
    size_t k, step = 0;
    for (k = 0; k < sizeof marks / sizeof marks[0]; k++) {
      size_t ml = strlen(marks[k].mark);
      if (n - i >= ml && memcmp(s + i, marks[k].mark, ml) == 0) {
        size_t bl = strlen(marks[k].bytes);
        memcpy(o, marks[k].bytes, bl);
        o += bl;
        step = ml;
        break;
      }
    }
    if (!step && n - i >= 6 && memcmp(s + i, "<EOF>\n", 6) == 0)
      step = 6; /* drop the newline */
    if (!step && esc && s[i] == '\\' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
      *o++ = s[i + 1] == 'n' ? '\n' : '\\';
      step = 2;
    }
    if (!step) {
      *o++ = s[i];
      step = 1;
    }
    i += step;
  }
  *o = '\0';
  if (outlen)
    *outlen = (size_t)(o - out);
  return out;
}

static void check_str(const char *name, const char *field, const char *got, const char *want)
{
  char *w = strcmp(want, "NULL") == 0 ? NULL : expand(want, strlen(want), 1, NULL);
  EQ_STR(got, w, "%s: %s", name, field);
  free(w);
}

static void check_list(const char *name, const char *field, const ob_strv *v, const char *want)
{
  char *w = expand(want, strlen(want), 1, NULL);
  size_t i = 0;
  for (char *item = w; *item;) {
    char *bar = strstr(item, " | ");
    if (bar)
      *bar = '\0';
    EQ_STR(i < v->n ? v->v[i] : NULL, item, "%s: %s[%zu]", name, field, i);
    i++;
    item = bar ? bar + 3 : item + strlen(item);
  }
  EQ_INT(v->n, i, "%s: number of %s", name, field);
  free(w);
}

static void run_case(const char *name, char *checks, const char *in, size_t inlen)
{
  char *src;
  size_t len;
  src = expand(in, inlen, 0, &len);
  ob_fm fm;
  char err[OB_ERR_SIZE] = "";
  ob_status st = ob_fm_parse(src, len, &fm, err);
  for (char *line = strtok(checks, "\n"); line; line = strtok(NULL, "\n")) {
    char *eq = strstr(line, " =");
    if (strncmp(line, "expect: ", 8) == 0) {
      const char *want = line + 8;
      if (strcmp(want, "ok") == 0) {
        EQ_INT(st, OB_OK, "%s: parses (err: %s)", name, err);
      } else {
        EQ_INT(st, OB_EINPUT, "%s: is an error", name);
        EQ_STR(st ? err : NULL, want, "%s: message", name);
      }
      continue;
    }
    if (!OK(eq != NULL, "%s: bad check line '%s'", name, line))
      continue;
    *eq = '\0';
    const char *key = line, *want = eq[2] == ' ' ? eq + 3 : eq + 2;
    if (st != OB_OK)
      continue; /* the expect line reports it */
    if (!strcmp(key, "id"))
      check_str(name, key, fm.id, want);
    else if (!strcmp(key, "type"))
      check_str(name, key, fm.type, want);
    else if (!strcmp(key, "title"))
      check_str(name, key, fm.title, want);
    else if (!strcmp(key, "category"))
      check_str(name, key, fm.category, want);
    else if (!strcmp(key, "severity"))
      check_str(name, key, fm.severity, want);
    else if (!strcmp(key, "tags"))
      check_list(name, key, &fm.tags, want);
    else if (!strcmp(key, "symptoms"))
      check_list(name, key, &fm.symptoms, want);
    else if (!strcmp(key, "related"))
      check_list(name, key, &fm.related, want);
    else if (!strcmp(key, "slots"))
      check_list(name, key, &fm.slots, want);
    else if (!strcmp(key, "body_line"))
      EQ_INT(fm.body_line, strtol(want, NULL, 10), "%s: body_line", name);
    else if (!strcmp(key, "body")) {
      OK(fm.body_offset <= len, "%s: body_offset inside the input", name);
      check_str(name, key, src + fm.body_offset, want);
    } else
      OK(0, "%s: unknown check '%s'", name, key);
  }
  if (st != OB_OK)
    OK(!fm.id && !fm.title && fm.tags.n == 0, "%s: failure leaves fm cleared", name);
  ob_fm_clear(&fm);
  free(src);
}

static void test_cases(void)
{
  char *data = ob_t_slurp("fm.test", NULL);
  int cases = 0;
  char *p = strstr(data, "\n### ");
  while (p) {
    char *name = p + 5;
    char *nl = strchr(name, '\n');
    char *at = strstr(name, "\n@@@\n");
    if (!nl || !at) {
      OK(0, "fm.test: case without @@@");
      break;
    }
    *nl = '\0';
    *at = '\0';
    char *in = at + 5;
    char *next = strstr(in, "\n### ");
    size_t inlen = next ? (size_t)(next - in) + 1 : strlen(in);
    while (inlen >= 2 && in[inlen - 1] == '\n' && in[inlen - 2] == '\n')
      inlen--; /* blank lines before the next case separate cases */
    run_case(name, nl + 1, in, inlen);
    cases++;
    p = next;
  }
  OK(cases >= 50, "fm.test has its cases (%d)", cases);
  free(data);
}

/* OB_FM_MAX_LINES counts the whole block, both --- lines included. */
static void test_line_limit(void)
{
  for (int lines = OB_FM_MAX_LINES - 1; lines <= OB_FM_MAX_LINES + 2; lines++) {
    ob_buf b;
    ob_buf_init(&b, 1 << 20);
    if (ob_buf_puts(&b, "---\nid: x\n"))
      exit(2);
    for (int i = 3; i < lines; i++)
      if (ob_buf_printf(&b, "# comment %d\n", i))
        exit(2);
    if (ob_buf_puts(&b, "---\nbody\n"))
      exit(2);
    ob_fm fm;
    char err[OB_ERR_SIZE] = "";
    ob_status st = ob_fm_parse(b.data, b.len, &fm, err);
    if (lines <= OB_FM_MAX_LINES) {
      EQ_INT(st, OB_OK, "front matter of %d lines is accepted (%s)", lines, err);
      EQ_STR(fm.id, "x", "id of a %d-line block", lines);
      EQ_INT(fm.body_line, lines + 1, "body_line after %d lines", lines);
    } else {
      EQ_INT(st, OB_EINPUT, "front matter of %d lines is refused", lines);
      EQ_STR(err, "201: front matter longer than 200 lines", "message for %d lines", lines);
    }
    ob_fm_clear(&fm);
    ob_buf_free(&b);
  }
  /* never closed and long: the length limit, not the missing --- */
  ob_buf b;
  ob_buf_init(&b, 1 << 20);
  if (ob_buf_puts(&b, "---\n"))
    exit(2);
  for (int i = 0; i < 5000; i++)
    if (ob_buf_puts(&b, "tags:\n"))
      exit(2);
  ob_fm fm;
  char err[OB_ERR_SIZE] = "";
  EQ_INT(ob_fm_parse(b.data, b.len, &fm, err), OB_EINPUT, "5000 lines refused");
  OK(strncmp(err, "3: duplicate key", 16) == 0 || strncmp(err, "201:", 4) == 0, "stops early: %s",
     err);
  ob_buf_free(&b);
}

static void test_clear(void)
{
  ob_fm fm;
  char err[OB_ERR_SIZE];
  const char *s = "---\nid: a\ntags: [x, y]\n---\n";
  EQ_INT(ob_fm_parse(s, strlen(s), &fm, err), OB_OK, "parse for clear");
  ob_fm_clear(&fm);
  OK(!fm.id && !fm.tags.v && fm.tags.n == 0 && fm.body_offset == 0, "clear zeroes");
  ob_fm_clear(&fm); /* twice is harmless */
  EQ_INT(ob_fm_parse("", 0, &fm, err), OB_OK, "empty input");
  EQ_INT(fm.body_offset, 0, "empty input has no front matter");
  ob_fm_clear(&fm);
}

int main(void)
{
  test_cases();
  test_line_limit();
  test_clear();
  return ob_t_done();
}
