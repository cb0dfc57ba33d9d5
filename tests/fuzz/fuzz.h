/* fuzz.h - what every Opsbook libFuzzer target shares.
 *
 *   FUZZ_CHECK(cond, fmt, ...)  an invariant: prints and aborts when false,
 *                               so libFuzzer saves the input as a crash
 *   fuzz_known_bug(name, ...)   the same for a bug already reported and not
 *                               yet fixed: aborts unless OB_FUZZ_KNOWN (a
 *                               comma-separated list) names it, so a long
 *                               run keeps looking for new bugs while the
 *                               regression replay still fails
 *   fuzz_err_init/fuzz_err_ok   the err[OB_ERR_SIZE] contract: a function
 *                               that fails has written a message
 *
 * The paths of the source tree come from the build (OB_FUZZ_SRC).
 */
#ifndef OB_FUZZ_H
#define OB_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "utf8.h"

#ifndef OB_FUZZ_SRC
#define OB_FUZZ_SRC "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond))                                                               \
      fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                       \
  } while (0)

static inline void fuzz_fail(const char *file, int line, const char *what, const char *fmt,
                             ...)
{
  va_list ap;
  fprintf(stderr, "\nFUZZ INVARIANT %s:%d: %s: ", file, line, what);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

/* True when OB_FUZZ_KNOWN lists name (or is "all"). */
static inline int fuzz_known(const char *name)
{
  const char *k = getenv("OB_FUZZ_KNOWN");
  size_t n = strlen(name);
  if (!k)
    return 0;
  if (strcmp(k, "all") == 0)
    return 1;
  for (const char *p = k; (p = strstr(p, name)); p += n)
    if ((p == k || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
      return 1;
  return 0;
}

#define fuzz_known_bug(name, cond, ...)                                        \
  do {                                                                         \
    if (!(cond) && !fuzz_known(name))                                          \
      fuzz_fail(__FILE__, __LINE__, "known bug " name, __VA_ARGS__);           \
  } while (0)

#define FUZZ_ERR_FILL 0xBE

static inline void fuzz_err_init(char *err)
{
  memset(err, FUZZ_ERR_FILL, OB_ERR_SIZE);
}

/* A failed call wrote a NUL-terminated message into err. */
static inline int fuzz_err_ok(const char *err)
{
  return (unsigned char)err[0] != FUZZ_ERR_FILL && memchr(err, '\0', OB_ERR_SIZE) != NULL;
}

/* A NUL-terminated copy of the input (caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

static inline int fuzz_utf8(const char *s)
{
  return ob_utf8_valid(s, strlen(s));
}

#endif
