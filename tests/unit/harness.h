/* harness.h - the one tiny unit-test harness (after cmark's api_test).
 *
 *   OK(cond, fmt, ...)          a check; the message is printf-style
 *   EQ_INT(got, want, fmt, ...) integers (as long long)
 *   EQ_STR(got, want, fmt, ...) C strings; NULL only equals NULL
 *   return ob_t_done();         prints "N passed, M failed" (CI reads this
 *                               exact line) and gives the exit status
 *
 * Failures are printed with file:line. ob_t_slurp() reads a data file from
 * OB_TEST_DATA (tests/unit/data), where the table-like cases live.
 */
#ifndef OB_TEST_HARNESS_H
#define OB_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OB_TEST_DATA
#define OB_TEST_DATA "tests/unit/data"
#endif

static int ob_t_passed, ob_t_failed;

static inline void ob_t_vfail(const char *file, int line, const char *fmt, va_list ap)
{
  fprintf(stderr, "FAIL %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

/* Records one check; returns cond so a caller can skip dependent checks. */
static inline int ob_t_ok(const char *file, int line, int cond, const char *fmt, ...)
{
  if (cond) {
    ob_t_passed++;
    return 1;
  }
  ob_t_failed++;
  va_list ap;
  va_start(ap, fmt);
  ob_t_vfail(file, line, fmt, ap);
  va_end(ap);
  return 0;
}

static inline int ob_t_eq_int(const char *file, int line, long long got, long long want,
                              const char *fmt, ...)
{
  if (got == want) {
    ob_t_passed++;
    return 1;
  }
  ob_t_failed++;
  va_list ap;
  va_start(ap, fmt);
  ob_t_vfail(file, line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "    got:  %lld\n    want: %lld\n", got, want);
  return 0;
}

static inline int ob_t_eq_str(const char *file, int line, const char *got, const char *want,
                              const char *fmt, ...)
{
  if ((!got && !want) || (got && want && strcmp(got, want) == 0)) {
    ob_t_passed++;
    return 1;
  }
  ob_t_failed++;
  va_list ap;
  va_start(ap, fmt);
  ob_t_vfail(file, line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "    got:  %s%s%s\n    want: %s%s%s\n", got ? "\"" : "", got ? got : "NULL",
          got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
  return 0;
}

#define OK(cond, ...) ob_t_ok(__FILE__, __LINE__, !!(cond), __VA_ARGS__)
#define EQ_INT(got, want, ...)                                                                     \
  ob_t_eq_int(__FILE__, __LINE__, (long long)(got), (long long)(want), __VA_ARGS__)
#define EQ_STR(got, want, ...) ob_t_eq_str(__FILE__, __LINE__, (got), (want), __VA_ARGS__)

/* Reads OB_TEST_DATA/name whole (NUL-terminated); caller frees. Exits on
 * a missing file: a test without its cases must not pass. */
static inline char *ob_t_slurp(const char *name, size_t *len)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", OB_TEST_DATA, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "FAIL cannot open %s\n", path);
    exit(2);
  }
  size_t cap = 4096, n = 0, r;
  char *p = (char *)malloc(cap);
  while (p && (r = fread(p + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0)
      p = (char *)realloc(p, cap *= 2);
  }
  fclose(f);
  if (!p)
    exit(2);
  p[n] = '\0';
  if (len)
    *len = n;
  return p;
}

static inline int ob_t_done(void)
{
  printf("%d passed, %d failed\n", ob_t_passed, ob_t_failed);
  return ob_t_failed ? 1 : 0;
}

#endif
