/* cmark_slow - known slow Markdown at the size caps must not hold a worker.
 *
 * Debian's cmark 0.30.2 has inputs that take quadratic time (CVE-2023-22484:
 * "<!--" runs, CVE-2023-22486: "![[]()" runs, and the older pathological
 * cases of cmark's own test suite and of the cmark-gfm advisories). A
 * handbook file is at most OB_DOC_MAX_BYTES and a lesson at most 16 KiB;
 * /api/docs parses a file (ob_doc_parse) and renders it (ob_doc_render_html)
 * in one worker. This builds each pattern at both caps, times parse +
 * render, prints the figures and fails when one takes longer than the
 * limit (1 s; more in sanitizer builds, OB_SLOW_LIMIT_MS).
 *
 * Our own walks are included: ob_doc_parse also collects {{slots}} and
 * sections, so many distinct slots and many headings are patterns too. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "doc.h"

#ifndef OB_SLOW_LIMIT_MS
#define OB_SLOW_LIMIT_MS 1000
#endif
#define LESSON_CAP (16 * 1024)

/* body = head + unit x k + mid + unit2 x k + tail, k as large as fits */
struct pattern {
  const char *name, *head, *unit, *mid, *unit2, *tail;
};

static const struct pattern patterns[] = {
    /* the two CVEs of the brief */
    {"CVE-2023-22484 '</' + '<!--' x k", "</", "<!--", "", "", "\n"},
    {"cmark#457 'a' + '<!--' x k", "a", "<!--", "", "", "\n"},
    {"CVE-2023-22486 '![[]()' x k", "", "![[]()", "", "", "\n"},
    /* other cmark-gfm advisories that apply to core cmark */
    {"CVE-2023-22483 '<?x' x k", "-1", "<?x", "y", "", "\n"},
    {"CVE-2023-22483 '*t ' x k '_t*_ ' x k", "", "*t ", "", "_t*_ ", "\n"},
    {"CVE-2023-22483 ref def + '[f]' lines", "[f]:u\n\"\n", "[f]\n", "[f]:u \"t\n", "", "\n"},
    {"CVE-2023-22483 '>' x k '.' x k", "", ">", "", ".", "\n"},
    {"CVE-2023-24824 '>' x k 'a*' x k", "", ">", "", "a*", "\n"},
    {"CVE-2023-24824 ' -' x k 'x' '\\n' x k", "", " -", "x", "\n", ""},
    {"CVE-2023-26485 '_' x k '.' '_' x k", "", "_", ".", "_", "\n"},
    {"CVE-2023-26485 '1.' + ' 2.' lines", "1.\n", " 2.\n", "", "", ""},
    {"CVE-2023-26485 ' -' lines + 'x'", "", " -\n", "x\n", "", ""},
    /* cmark's own pathological tests (test/pathological_tests.py) */
    {"nested brackets '[' x k 'a' ']' x k", "", "[", "a", "]", "\n"},
    {"nested strong emph", "", "*a **a ", "b", " a** a*", "\n"},
    {"emph closers without openers", "", "a_ ", "", "", "\n"},
    {"emph openers without closers", "", "_a ", "", "", "\n"},
    {"link closers without openers", "", "a]", "", "", "\n"},
    {"link openers without closers", "", "[a", "", "", "\n"},
    {"mismatched openers and closers", "", "*a_ ", "", "", "\n"},
    {"openers and closers multiple of 3", "a**b", "c* ", "", "", "\n"},
    {"link openers and emph closers", "", "[ a_", "", "", "\n"},
    {"pattern '[ (](' x k", "", "[ (](", "", "", "\n"},
    {"nested block quotes '> ' x k", "", "> ", "a", "", "\n"},
    {"unclosed links '[a](<b' x k", "", "[a](<b", "", "", "\n"},
    {"unclosed links '[a](b' x k", "", "[a](b", "", "", "\n"},
    {"unclosed links '[](' x k", "", "[](", "", "", "\n"},
    {"many reference definitions", "", "[a]: u\n", "", "", ""},
    {"'*' x k 'a' '*' x k", "", "*", "a", "*", "\n"},
    {"entities '&#' x k", "", "&#", "", "", "\n"},
    /* our walk over cmark's tree (core/doc.c) */
    {"many headings '## h' (sections)", "# T\n\n", "## h\n", "", "", ""},
    {"many symptom comments", "", "## h\n<!-- symptoms: a; b -->\n\n", "", "", ""},
    {"'{{' x k (slots, unclosed)", "", "{{", "", "", "\n"},
    {"'{{' x k '}}' (slots, one close)", "", "{{", "x", "}}", "\n"},
};

static void put(ob_buf *b, const char *s)
{
  if (ob_buf_puts(b, s) != OB_OK) /* sized below to fit */
    abort();
}

static char *repeat(const struct pattern *p, size_t cap, size_t *len)
{
  size_t fixed = strlen(p->head) + strlen(p->mid) + strlen(p->tail);
  size_t per = strlen(p->unit) + strlen(p->unit2);
  size_t k = cap > fixed ? (cap - fixed) / per : 0;
  ob_buf b;
  ob_buf_init(&b, cap);
  put(&b, p->head);
  for (size_t i = 0; i < k; i++)
    put(&b, p->unit);
  put(&b, p->mid);
  for (size_t i = 0; i < k && *p->unit2; i++)
    put(&b, p->unit2);
  put(&b, p->tail);
  return ob_buf_detach(&b, len);
}

/* Patterns that are not a repeated unit. */
static char *special(int which, size_t cap, size_t *len)
{
  ob_buf b;
  ob_buf_init(&b, cap);
  for (size_t i = 1;; i++) {
    static char unit[8192];
    int n = 0;
    switch (which) {
    case 0: /* backtick runs of growing length: "e`", "e``", ... */
      unit[0] = 'e';
      n = 1;
      for (size_t j = 0; j < i && n < 159; j++)
        unit[n++] = '`';
      break;
    case 1: /* deeply nested lists */
      for (size_t j = 0; j < i && n < 120; j++)
        n += snprintf(unit + n, sizeof unit - (size_t)n, "  ");
      n += snprintf(unit + n, sizeof unit - (size_t)n, "* a\n");
      break;
    case 2: /* many distinct {{slots}} (a list kept free of duplicates) */
      n = snprintf(unit, sizeof unit, "{{s%zu}} ", i);
      break;
    case 3: /* many distinct link references and their uses */
      n = snprintf(unit, sizeof unit, "[r%zu]: /u%zu\n", i, i);
      break;
    default: /* lists nested by indentation (one marker a line, 2 columns
              * a level) 300 deep, or (which 5) 30 markers a line and
              * indentation growing with them, then blank lines: each
              * blank line walks every open container (CVE-2023-24824) */
      if (which == 4 && i <= 300) {
        n = snprintf(unit, sizeof unit, "%*s- a\n", (int)(2 * (i - 1)), "");
      } else if (which == 5 && i <= 60) {
        n = snprintf(unit, sizeof unit, "%*s", (int)(60 * (i - 1)), "");
        for (int k = 0; k < 30; k++)
          n += snprintf(unit + n, sizeof unit - (size_t)n, "- ");
        n += snprintf(unit + n, sizeof unit - (size_t)n, "a\n");
      } else {
        unit[0] = '\n';
        n = 1;
      }
      break;
    }
    if (ob_buf_append(&b, unit, (size_t)n) != OB_OK)
      break;
  }
  return ob_buf_detach(&b, len);
}

static const char *const special_names[] = {
    "backtick runs 'e`' 'e``' ...",      "deeply nested lists",
    "distinct {{slots}}",                "distinct link reference definitions",
    "lists 300 deep by indent + blanks", "30 markers a line, indented + blanks"};
#define NSPECIAL (sizeof special_names / sizeof special_names[0])

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int failures;
static double worst;
static char worst_name[128];

/* Parses md as /api/docs does, renders it when the parse succeeded, and
 * writes the two times (ms) and the status to fd. */
static void child(const char *md, size_t len, int fd)
{
  char err[OB_ERR_SIZE];
  double r[3] = {0, 0, 0};
  ob_doc *d = NULL;
  double t0 = now_ms();
  ob_status st = ob_doc_parse("fault/slow.md", md, len, &d, err);
  r[0] = now_ms() - t0;
  if (st == OB_OK) {
    t0 = now_ms();
    char *html = ob_doc_render_html(d->markdown, strlen(d->markdown));
    r[1] = now_ms() - t0;
    free(html);
  }
  r[2] = (double)st;
  ob_doc_free(d);
  if (write(fd, r, sizeof r) != (ssize_t)sizeof r)
    _exit(2);
  _exit(0);
}

/* Runs one input in a child process, so that a pathological one can be
 * stopped at the budget instead of holding the test for minutes. */
static void run(const char *name, const char *md, size_t len, const char *cap)
{
  int fds[2];
  double r[3] = {-1, -1, -1};
  int budget = 3 * OB_SLOW_LIMIT_MS;
  if (pipe(fds) != 0)
    abort();
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    abort();
  if (pid == 0) {
    close(fds[0]);
    child(md, len, fds[1]);
  }
  close(fds[1]);
  struct pollfd pf = {fds[0], POLLIN, 0};
  int killed = poll(&pf, 1, budget) <= 0;
  if (killed)
    kill(pid, SIGKILL);
  else if (read(fds[0], r, sizeof r) != (ssize_t)sizeof r)
    r[0] = -1;
  waitpid(pid, NULL, 0);
  close(fds[0]);
  double total = killed ? budget : r[0] + r[1];
  int bad = killed || r[0] < 0 || total > OB_SLOW_LIMIT_MS;
  if (killed)
    printf("%-44s %6s %7zu B  more than %d ms: stopped  TOO SLOW\n", name, cap, len, budget);
  else
    printf("%-44s %6s %7zu B  parse %7.1f ms  render %7.1f ms  %s%s\n", name, cap, len, r[0],
           r[1], bad ? "TOO SLOW" : "ok", r[2] != 0 ? " (rejected by ob_doc_parse)" : "");
  if (total > worst) {
    worst = total;
    snprintf(worst_name, sizeof worst_name, "%s (%s)", name, cap);
  }
  failures += bad;
}

/* The limits core/doc.c puts on nesting and brackets refuse the
 * pathological shapes but never ordinary Markdown. */
static void check_limits(void)
{
  static const struct {
    const char *what, *head, *unit, *line_end;
    size_t k;
    int ok;
  } cases[] = {
      {"32 nested quotes", "", "> ", "a\n", 32, 1},
      {"33 nested quotes", "", "> ", "a\n", 33, 0},
      {"32 nested lists", "", "- ", "a\n", 32, 1},
      {"33 nested lists", "", "1. ", "a\n", 33, 0},
      {"33 lists nested by indent", "", "- a\n\n  ", "- a\n", 32, 0},
      {"a long thematic break", "", "- ", "\n", 500, 1},
      {"code indented 400 columns", "```\n", " ", "x\n```\n", 400, 1},
      {"2000 '[' in a paragraph", "", "[a] ", "\n", 2000, 1},
      {"2001 '[' in a paragraph", "", "[a] ", "\n", 2001, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ob_buf b;
    char err[OB_ERR_SIZE];
    ob_doc *d = NULL;
    ob_buf_init(&b, OB_DOC_MAX_BYTES);
    put(&b, "# T\n\n");
    put(&b, cases[i].head);
    for (size_t k = 0; k < cases[i].k; k++) {
      put(&b, cases[i].unit);
      if (strchr(cases[i].unit, '\n')) /* "- a\n\n  ": indent one more level */
        for (size_t j = 0; j < k; j++)
          put(&b, "  ");
    }
    put(&b, cases[i].line_end);
    /* brackets on separate paragraphs never add up */
    for (size_t k = 0; k < 3000; k++)
      put(&b, "\n[x]\n");
    int ok = ob_doc_parse("sop/t.md", b.data, b.len, &d, err) == OB_OK;
    printf("limit: %-28s %s\n", cases[i].what, ok ? "accepted" : err);
    if (ok != cases[i].ok) {
      printf("  FAIL: should be %s\n", cases[i].ok ? "accepted" : "refused");
      failures++;
    }
    ob_doc_free(d);
    ob_buf_free(&b);
  }
}

int main(void)
{
  static const struct {
    size_t bytes;
    const char *name;
  } caps[] = {{OB_DOC_MAX_BYTES, "file"}, {LESSON_CAP, "lesson"}};
  setvbuf(stdout, NULL, _IOLBF, 0);
  check_limits();
  printf("limit %d ms per parse + render\n", OB_SLOW_LIMIT_MS);
  for (size_t c = 0; c < 2; c++) {
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
      size_t len;
      char *md = repeat(&patterns[i], caps[c].bytes, &len);
      run(patterns[i].name, md, len, caps[c].name);
      free(md);
    }
    for (int k = 0; k < (int)NSPECIAL; k++) {
      size_t len;
      char *md = special(k, caps[c].bytes, &len);
      run(special_names[k], md, len, caps[c].name);
      free(md);
    }
  }
  printf("slowest: %s%.1f ms, %s\n", worst >= 3 * OB_SLOW_LIMIT_MS ? "more than " : "", worst,
         worst_name);
  printf("%d passed, %d failed\n",
         (int)(2 * (sizeof patterns / sizeof patterns[0] + NSPECIAL)) + 9 - failures, failures);
  return failures ? 1 : 0;
}
