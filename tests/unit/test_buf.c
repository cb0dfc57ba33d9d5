/* test_buf - core/buf.h (bounded buffer) and core/status.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "status.h"

static void test_status(void)
{
  for (int st = OB_OK; st <= OB_EINTERNAL; st++) {
    const char *s = ob_strerror((ob_status)st);
    OK(s && *s, "ob_strerror(%d) is a non-empty string", st);
    for (int o = OB_OK; o < st; o++)
      OK(strcmp(s, ob_strerror((ob_status)o)) != 0, "ob_strerror(%d) differs from %d", st, o);
  }
  OK(ob_strerror((ob_status)999) != NULL, "ob_strerror of an unknown status is not NULL");

  char err[OB_ERR_SIZE];
  EQ_INT(ob_fail(err, OB_EINPUT, "%d: %s", 7, "bad"), OB_EINPUT, "ob_fail returns st");
  EQ_STR(err, "7: bad", "ob_fail formats into err");
  EQ_INT(ob_fail(NULL, OB_EIO, "x"), OB_EIO, "ob_fail(NULL, ...) is allowed");
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  memset(err, 0, sizeof err);
  (void)ob_fail(err, OB_EIO, "%s", big);
  EQ_INT(strlen(err), OB_ERR_SIZE - 1, "ob_fail truncates to OB_ERR_SIZE");
}

static void test_bounded(void)
{
  ob_buf b;
  ob_buf_init(&b, 10);
  OK(b.data == NULL && b.len == 0, "init: empty, no memory");

  EQ_INT(ob_buf_append(&b, "0123456789x", 11), OB_ETOOBIG, "first append past max");
  OK(b.data == NULL && b.len == 0, "failed first append leaves the buffer untouched");

  EQ_INT(ob_buf_append(&b, "", 0), OB_OK, "empty append");
  OK(b.data != NULL && b.data[0] == '\0', "empty append gives a C string");

  EQ_INT(ob_buf_append(&b, "01234", 5), OB_OK, "append 5");
  EQ_INT(ob_buf_puts(&b, "5678"), OB_OK, "puts 4");
  EQ_INT(ob_buf_putc(&b, '9'), OB_OK, "putc to exactly max");
  EQ_INT(b.len, 10, "len == max");
  EQ_STR(b.data, "0123456789", "content at max");

  char *before = b.data;
  EQ_INT(ob_buf_putc(&b, 'x'), OB_ETOOBIG, "putc past max");
  EQ_INT(ob_buf_puts(&b, "yz"), OB_ETOOBIG, "puts past max");
  EQ_INT(ob_buf_append(&b, "abc", 3), OB_ETOOBIG, "append past max");
  EQ_INT(ob_buf_append(&b, "abc", SIZE_MAX), OB_ETOOBIG, "append of SIZE_MAX bytes");
  EQ_INT(ob_buf_printf(&b, "%d", 1), OB_ETOOBIG, "printf past max");
  EQ_INT(b.len, 10, "failed appends keep len");
  EQ_STR(b.data, "0123456789", "failed appends keep content and the NUL");
  OK(b.data == before, "failed appends do not reallocate");

  size_t cap = b.cap;
  ob_buf_reset(&b);
  OK(b.len == 0 && b.data && b.data[0] == '\0' && b.cap == cap, "reset keeps memory");
  EQ_INT(ob_buf_append(&b, "0123456789", 10), OB_OK, "full again after reset");
  ob_buf_free(&b);
  OK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 10, "free empties, keeps max");
  EQ_INT(ob_buf_puts(&b, "again"), OB_OK, "reusable after free");
  EQ_STR(b.data, "again", "content after reuse");
  ob_buf_free(&b);
  ob_buf_free(&b); /* twice is harmless */

  ob_buf z;
  ob_buf_init(&z, 0);
  EQ_INT(ob_buf_putc(&z, 'a'), OB_ETOOBIG, "max 0 refuses everything");
  EQ_INT(ob_buf_append(&z, "", 0), OB_OK, "max 0 still takes an empty append");
  ob_buf_free(&z);
}

static void test_growth(void)
{
  ob_buf b;
  ob_buf_init(&b, 1 << 20);
  int ok = 1;
  for (int i = 0; i < 100000; i++)
    if (ob_buf_putc(&b, (char)('a' + i % 26)) != OB_OK)
      ok = 0;
  OK(ok, "100000 putc");
  EQ_INT(b.len, 100000, "len after growth");
  OK(b.cap > b.len && b.data[b.len] == '\0', "NUL kept after growth");
  int same = 1;
  for (int i = 0; i < 100000; i++)
    if (b.data[i] != (char)('a' + i % 26))
      same = 0;
  OK(same, "content survives reallocations");
  ob_buf_free(&b);

  /* reserve: room without content; appends within it keep the pointer */
  ob_buf_init(&b, 100);
  EQ_INT(ob_buf_reserve(&b, 50), OB_OK, "reserve 50 of 100");
  OK(b.data && b.len == 0 && b.cap >= 51 && b.data[0] == '\0', "reserved: empty, terminated");
  char *before = b.data;
  EQ_INT(ob_buf_append(&b, "0123456789", 10), OB_OK, "append inside the reserve");
  OK(b.data == before && !strcmp(b.data, "0123456789"), "no reallocation inside the reserve");
  EQ_INT(ob_buf_reserve(&b, 91), OB_ETOOBIG, "reserve past max");
  EQ_INT(ob_buf_reserve(&b, SIZE_MAX), OB_ETOOBIG, "reserve of SIZE_MAX bytes");
  OK(b.len == 10 && !strcmp(b.data, "0123456789"), "failed reserve leaves the buffer");
  EQ_INT(ob_buf_reserve(&b, 90), OB_OK, "reserve up to max");
  ob_buf_free(&b);

  /* embedded NULs are data */
  ob_buf_init(&b, 100);
  EQ_INT(ob_buf_append(&b, "a\0b", 3), OB_OK, "append with NUL");
  OK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0, "embedded NUL kept, terminator added");
  ob_buf_free(&b);
}

static void test_printf(void)
{
  ob_buf b;
  ob_buf_init(&b, 4096);
  EQ_INT(ob_buf_printf(&b, "%s-%d-%zu", "x", -3, (size_t)42), OB_OK, "printf small");
  EQ_STR(b.data, "x--3-42", "printf content");
  char long_s[1001];
  memset(long_s, 'q', 1000);
  long_s[1000] = '\0';
  EQ_INT(ob_buf_printf(&b, "<%s>", long_s), OB_OK, "printf longer than the 256-byte scratch");
  EQ_INT(b.len, 7 + 1002, "printf long length");
  OK(b.data[7] == '<' && b.data[8] == 'q' && b.data[b.len - 1] == '>', "printf long content");
  EQ_INT(ob_buf_printf(&b, "%s", ""), OB_OK, "printf empty");
  EQ_INT(b.len, 1009, "printf empty adds nothing");
  ob_buf_free(&b);

  ob_buf_init(&b, 300);
  EQ_INT(ob_buf_printf(&b, "%s", long_s), OB_ETOOBIG, "printf of 1000 bytes into max 300");
  OK(b.data == NULL && b.len == 0, "failed printf leaves buffer unchanged");
  EQ_INT(ob_buf_printf(&b, "%.300s", long_s), OB_OK, "printf to exactly max (long path)");
  EQ_INT(b.len, 300, "printf exact len");
  ob_buf_free(&b);
}

static void test_detach(void)
{
  ob_buf b;
  size_t n = 99;
  ob_buf_init(&b, 100);
  char *p = ob_buf_detach(&b, &n);
  OK(p != NULL, "detach of an empty buffer is never NULL");
  EQ_STR(p, "", "detach of an empty buffer is \"\"");
  EQ_INT(n, 0, "detach length 0");
  free(p);

  EQ_INT(ob_buf_puts(&b, "hello"), OB_OK, "puts");
  p = ob_buf_detach(&b, &n);
  EQ_STR(p, "hello", "detached content");
  EQ_INT(n, 5, "detached length");
  OK(b.data == NULL && b.len == 0 && b.cap == 0, "buffer empty after detach");
  EQ_INT(b.max, 100, "max kept after detach");
  EQ_INT(ob_buf_puts(&b, "next"), OB_OK, "usable after detach");
  EQ_STR(p, "hello", "detached memory independent of the buffer");
  free(p);
  p = ob_buf_detach(&b, NULL);
  EQ_STR(p, "next", "detach with NULL len");
  free(p);
  ob_buf_free(&b);

  char *d = ob_xstrndup("abcdef", 3);
  EQ_STR(d, "abc", "ob_xstrndup");
  free(d);
  d = ob_xstrdup("");
  EQ_STR(d, "", "ob_xstrdup empty");
  free(d);
  free(ob_xmalloc(0)); /* never NULL, freeable */
  free(ob_xcalloc(0, 0));
}

static void write_file(const char *path, const char *s, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(2);
  }
  if (n && fwrite(s, 1, n, f) != n)
    exit(2);
  fclose(f);
}

static void test_read_file(void)
{
  char dir[] = "/tmp/ob-test-buf-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    exit(2);
  }
  char path[256], empty[256], missing[256];
  snprintf(path, sizeof path, "%s/f.txt", dir);
  snprintf(empty, sizeof empty, "%s/empty.txt", dir);
  snprintf(missing, sizeof missing, "%s/nope.txt", dir);

  /* larger than the 16 KiB read chunk, with a NUL inside */
  size_t n = 40000;
  char *content = malloc(n);
  for (size_t i = 0; i < n; i++)
    content[i] = (char)(i % 251);
  write_file(path, content, n);
  write_file(empty, "", 0);

  char err[OB_ERR_SIZE] = "";
  ob_buf b;
  ob_buf_init(&b, 1 << 20);
  EQ_INT(ob_buf_read_file(&b, path, err), OB_OK, "read_file");
  OK(b.len == n && memcmp(b.data, content, n) == 0 && b.data[n] == '\0',
     "read_file content, NUL-terminated");
  EQ_INT(ob_buf_read_file(&b, path, err), OB_OK, "read_file appends");
  OK(b.len == 2 * n && memcmp(b.data + n, content, n) == 0, "appended content");
  ob_buf_free(&b);

  ob_buf_init(&b, 100);
  EQ_INT(ob_buf_read_file(&b, empty, err), OB_OK, "read empty file");
  OK(b.data != NULL && b.len == 0, "empty file gives \"\" (data not NULL)");
  ob_buf_free(&b);

  ob_buf_init(&b, n - 1);
  err[0] = '\0';
  EQ_INT(ob_buf_read_file(&b, path, err), OB_ETOOBIG, "file one byte over max");
  OK(strstr(err, path) != NULL && strstr(err, "larger than") != NULL,
     "ETOOBIG message names the file: %s", err);
  OK(b.len <= b.max, "never more than max");
  ob_buf_free(&b);

  ob_buf_init(&b, n);
  EQ_INT(ob_buf_read_file(&b, path, err), OB_OK, "file of exactly max bytes");
  ob_buf_free(&b);

  err[0] = '\0';
  EQ_INT(ob_buf_read_file(&b, missing, err), OB_ENOTFOUND, "missing file");
  OK(strstr(err, missing) != NULL, "ENOTFOUND message names the file: %s", err);
  EQ_INT(ob_buf_read_file(&b, dir, err), OB_EIO, "reading a folder is EIO");
  ob_buf_free(&b);

  unlink(path);
  unlink(empty);
  rmdir(dir);
  free(content);
}

int main(void)
{
  test_status();
  test_bounded();
  test_growth();
  test_printf();
  test_detach();
  test_read_file();
  return ob_t_done();
}
