/* test_search - query checking and building, snippets (core/search.h).
 * Cases live in data/query.test and data/snippet.test. */
#include "harness.h"
#include "search.h"
#include "utf8.h"

static ob_text *T;

/* Expands \s \t \n \r \xHH and {N*c} of the data files into b. */
static void expand(const char *s, ob_buf *b)
{
  ob_buf_reset(b);
  for (const char *p = s; *p;) {
    ob_status st = OB_OK;
    if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
      char hex[3] = {p[2], p[3], 0};
      st = ob_buf_putc(b, (char)strtoul(hex, NULL, 16));
      p += 4;
    } else if (p[0] == '\\' && (p[1] == 's' || p[1] == 't' || p[1] == 'n' || p[1] == 'r')) {
      st = ob_buf_putc(b, p[1] == 's' ? ' ' : p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : '\r');
      p += 2;
    } else if (p[0] == '{' && strchr(p, '*') && strchr(p, '}')) {
      char *star;
      long n = strtol(p + 1, &star, 10);
      char *close = strchr(star, '}');
      for (long i = 0; i < n && !st; i++)
        st = ob_buf_append(b, star + 1, (size_t)(close - star - 1));
      p = close + 1;
    } else {
      st = ob_buf_putc(b, *p++);
    }
    if (st)
      exit(2);
  }
}

static char *trim(char *s)
{
  while (*s == ' ')
    s++;
  char *e = s + strlen(s);
  while (e > s && e[-1] == ' ')
    *--e = '\0';
  return s;
}

static void test_query_check(void)
{
  char *data = ob_t_slurp("query.test", NULL);
  ob_buf q;
  ob_buf_init(&q, 1 << 16);
  int cases = 0;
  for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#')
      continue;
    char *b1 = strchr(line, '|');
    char *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
    if (!OK(b2 != NULL, "query.test: malformed line '%s'", line))
      continue;
    *b1 = *b2 = '\0';
    char *want = trim(line), *query = trim(b1 + 1), *what = trim(b2 + 1);
    ob_status ws = !strcmp(want, "ok")        ? OB_OK
                   : !strcmp(want, "EINPUT")  ? OB_EINPUT
                   : !strcmp(want, "ETOOBIG") ? OB_ETOOBIG
                                              : OB_EINTERNAL;
    expand(query, &q);
    char err[OB_ERR_SIZE] = "";
    ob_status st = ob_query_check(q.data, q.len, err);
    EQ_INT(st, ws, "ob_query_check: %s (%s)", what, err);
    if (st != OB_OK)
      OK(err[0] != '\0' && ob_utf8_valid(err, strlen(err)),
         "%s: a user-facing message in valid UTF-8", what);
    cases++;
  }
  OK(cases >= 20, "query.test has its cases (%d)", cases);
  ob_buf_free(&q);
  free(data);
}

static int hl_has(const ob_strv *hl, const char *s)
{
  for (size_t i = 0; i < hl->n; i++)
    if (!strcmp(hl->v[i], s))
      return 1;
  return 0;
}

static size_t build(const char *q, const ob_weights *w, ob_strv *hl, ob_status *stp)
{
  ob_xquery *xq = ob_xquery_new();
  char err[OB_ERR_SIZE] = "";
  *stp = ob_query_build(T, q, strlen(q), w, xq, hl, err);
  size_t n = ob_xquery_size(xq);
  ob_xquery_free(xq);
  return n;
}

static void test_query_build(void)
{
  ob_strv hl = {NULL, 0};
  ob_status st;
  /* n-grams only: 4 unigrams + 3 bigrams */
  ob_weights ngrams = ob_weights_default;
  ngrams.word = 0;
  ngrams.syn = 0;
  EQ_INT(build("机房温度", &ngrams, &hl, &st), 7, "机房温度: 4 unigrams + 3 bigrams");
  EQ_INT(st, OB_OK, "build status");
  OK(hl_has(&hl, "机房") && hl_has(&hl, "房温") && hl_has(&hl, "温度"), "bigrams highlighted");
  OK(!hl_has(&hl, "机"), "unigrams are not highlighted when there are bigrams");
  ob_strv_clear(&hl);

  /* default weights add friso words and their synonym groups */
  size_t n = build("机房温度", NULL, &hl, &st);
  OK(n > 7, "words and synonyms add clauses (%zu)", n);
  OK(hl_has(&hl, "数据中心") && hl_has(&hl, "气温"), "synonyms of words are highlighted");
  ob_strv_clear(&hl);

  EQ_INT(build("ＵＰＳ", &ngrams, &hl, &st), 1, "a Latin word is one clause");
  OK(hl.n == 1 && hl_has(&hl, "ups"), "normalised Latin highlight term");
  ob_strv_clear(&hl);

  EQ_INT(build("断", &ngrams, &hl, &st), 1, "one character: one clause");
  OK(hl.n == 1 && hl_has(&hl, "断"), "a lone unigram is highlighted");
  ob_strv_clear(&hl);

  EQ_INT(build("机房 机房 机房", &ngrams, &hl, &st), 3, "repeated terms count once");
  ob_strv_clear(&hl);

  EQ_INT(build("！？。，", NULL, &hl, &st), 0, "punctuation: no clauses");
  EQ_INT(hl.n, 0, "punctuation: no highlight terms");
  ob_strv_clear(&hl);

  /* a stop bigram takes its characters with it where they occur only
   * inside it: 弄 坏 + 弄坏 坏东 (东西, 东 and 西 dropped) */
  EQ_INT(build("弄坏东西", &ngrams, &hl, &st), 4, "弄坏东西: filler 东西 and its characters");
  OK(!hl_has(&hl, "东西") && hl_has(&hl, "坏东"), "弄坏东西: highlights");
  ob_strv_clear(&hl);
  /* 东 also outside 东西 stays: 东 在 边 + 西在 在东 东边 */
  EQ_INT(build("东西在东边", &ngrams, &hl, &st), 6, "a character also outside the filler stays");
  ob_strv_clear(&hl);
  /* filler alone keeps its characters (the bigram stays dropped) */
  EQ_INT(build("东西", &ngrams, &hl, &st), 2, "filler alone: its characters");
  ob_strv_clear(&hl);
  ob_weights nostop = ngrams;
  nostop.stop = 0;
  EQ_INT(build("弄坏东西", &nostop, &hl, &st), 7, "without the stop list: every n-gram");
  ob_strv_clear(&hl);

  EQ_INT(build("機房溫度", &ngrams, &hl, &st), 7, "traditional query: same clauses");
  OK(hl_has(&hl, "温度"), "traditional query: simplified highlight terms");
  ob_strv_clear(&hl);

  n = build("x\xFFy", NULL, &hl, &st);
  EQ_INT(st, OB_EINPUT, "invalid UTF-8 query");
  ob_strv_clear(&hl);

  ob_xquery *xq = ob_xquery_new();
  char err[OB_ERR_SIZE];
  EQ_INT(ob_query_build(T, "断网", strlen("断网"), NULL, xq, NULL, err), OB_OK, "hl may be NULL");
  OK(ob_xquery_size(xq) > 0, "clauses without hl");
  ob_xquery_free(xq);
}

static void run_snippet(const char *name, const char *query, size_t width, const char *text,
                        const char *want)
{
  ob_strv hl = {NULL, 0};
  ob_xquery *xq = ob_xquery_new();
  ob_buf out, tb;
  char err[OB_ERR_SIZE] = "";
  ob_buf_init(&out, 1 << 20);
  ob_buf_init(&tb, 1 << 20);
  expand(text, &tb);
  if (EQ_INT(ob_query_build(T, query, strlen(query), NULL, xq, &hl, err), OB_OK,
             "%s: query builds (%s)", name, err)) {
    ob_status st = ob_snippet(T, tb.data, tb.len, &hl, width, &out, err);
    EQ_INT(st, OB_OK, "%s: snippet status (%s)", name, err);
    EQ_STR(out.data ? out.data : "", want, "%s", name);
    OK(ob_utf8_valid(out.data ? out.data : "", out.len), "%s: valid UTF-8", name);
  }
  ob_buf_free(&out);
  ob_buf_free(&tb);
  ob_xquery_free(xq);
  ob_strv_clear(&hl);
}

static void test_snippet_cases(void)
{
  char *data = ob_t_slurp("snippet.test", NULL);
  int cases = 0;
  char *name = NULL, *query = NULL, *text = NULL;
  size_t width = 80;
  for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strncmp(line, "### ", 4)) {
      name = line + 4;
      query = text = NULL;
      width = 80;
    } else if (!strncmp(line, "query: ", 7)) {
      query = line + 7;
    } else if (!strncmp(line, "width: ", 7)) {
      width = strtoul(line + 7, NULL, 10);
    } else if (!strncmp(line, "text: ", 6)) {
      text = line + 6;
    } else if (!strncmp(line, "want: ", 6) || !strcmp(line, "want:")) {
      if (!OK(name && query && text, "snippet.test: incomplete case before '%s'", line))
        continue;
      run_snippet(name, query, width, text, line[5] ? line + 6 : "");
      cases++;
    }
  }
  OK(cases >= 10, "snippet.test has its cases (%d)", cases);
  free(data);
}

static void test_snippet_misc(void)
{
  ob_buf out;
  char err[OB_ERR_SIZE];
  ob_buf_init(&out, 1 << 16);
  EQ_INT(ob_snippet(T, "机房温度", strlen("机房温度"), NULL, 80, &out, err), OB_OK, "hl NULL");
  EQ_STR(out.data, "机房温度", "hl NULL: the start of the text, unmarked");
  ob_buf_reset(&out);
  EQ_INT(ob_snippet(T, "", 0, NULL, 80, &out, err), OB_OK, "empty text");
  EQ_INT(out.len, 0, "empty text: empty snippet");
  EQ_INT(ob_snippet(T, "a\xFF", 2, NULL, 80, &out, err), OB_EINPUT, "invalid UTF-8 text");
  ob_buf_free(&out);

  ob_buf_init(&out, 10);
  ob_strv hl = {NULL, 0};
  EQ_INT(ob_snippet(T, "机房温度机房温度", strlen("机房温度机房温度"), &hl, 80, &out, err),
         OB_ETOOBIG, "snippet past the buffer's max");
  ob_buf_free(&out);

  /* a long text with matches everywhere: bounded output */
  ob_buf text;
  ob_buf_init(&text, 1 << 20);
  for (int i = 0; i < 2000; i++)
    if (ob_buf_puts(&text, "机房温度<b>&"))
      exit(2);
  ob_xquery *xq = ob_xquery_new();
  if (ob_query_build(T, "机房温度", strlen("机房温度"), NULL, xq, &hl, err))
    exit(2);
  ob_buf_init(&out, 1 << 20);
  EQ_INT(ob_snippet(T, text.data, text.len, &hl, 80, &out, err), OB_OK, "long text");
  OK(out.len < 2000 && ob_utf8_valid(out.data, out.len), "long text: short, valid snippet (%zu)",
     out.len);
  OK(!strstr(out.data, "<b>"), "long text: no raw HTML");
  ob_buf_free(&out);
  ob_buf_free(&text);
  ob_xquery_free(xq);
  ob_strv_clear(&hl);
}

/* The fault prior: every type's search has it, a search of one type not,
 * and a factor of 1 (no change) is no prior. */
static void test_prior(void)
{
  ob_xprior buf = {NULL, 0, 0};
  const ob_xprior *p = ob_search_prior(&ob_weights_default, NULL, &buf);
  OK(p == &buf && p->prefix && !strcmp(p->prefix, "fault:") &&
         p->factor == ob_weights_default.fault && p->pool > 0,
     "an unfiltered search ranks fault write-ups with the prior");
  OK(ob_search_prior(&ob_weights_default, "", &buf) == &buf, "an empty type is every type");
  OK(ob_search_prior(&ob_weights_default, "sop", &buf) == NULL, "a typed search has no prior");
  ob_weights w = ob_weights_default;
  w.fault = 1.0;
  OK(ob_search_prior(&w, NULL, &buf) == NULL, "a factor of 1 is no prior");
}

int main(void)
{
  char err[OB_ERR_SIZE] = "";
  if (ob_text_new(NULL, &T, err) != OB_OK) {
    fprintf(stderr, "FAIL ob_text_new: %s\n", err);
    return 1;
  }
  test_query_check();
  test_query_build();
  test_snippet_cases();
  test_snippet_misc();
  test_prior();
  ob_text_free(T);
  return ob_t_done();
}
