/* auth.c - reviewer tokens; see auth.h. */
#define _GNU_SOURCE
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "utf8.h"

void ob_sha256(const void *p, size_t n, unsigned char out[OB_SHA256_LEN])
{
  unsigned int len = 0;
  if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != OB_SHA256_LEN) {
    /* only out of memory or a broken libcrypto gets here */
    fprintf(stderr, "opsbook: SHA-256 failed in libcrypto\n");
    abort();
  }
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[2 * n] = '\0';
}

void ob_sha256_hex(const void *p, size_t n, char out[OB_SHA256_HEX])
{
  unsigned char d[OB_SHA256_LEN];
  ob_sha256(p, n, d);
  to_hex(d, sizeof d, out);
}

int ob_auth_name_valid(const char *name)
{
  size_t n = strlen(name);
  if (n == 0 || n > OB_REVIEWER_MAX || name[0] == '#' || !ob_utf8_valid(name, n))
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c <= 0x20 || c == 0x7f)
      return 0;
  }
  return 1;
}

static int unhex(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Called for each reviewer line; name is NUL-terminated. */
typedef void (*line_fn)(const char *name, const unsigned char hash[OB_SHA256_LEN], void *ctx);

static ob_status parse(const char *path, const char *s, size_t len, line_fn fn, void *ctx,
                       size_t *count, char *err)
{
  unsigned line = 0;
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    const char *p = s + i;
    const char *nl = memchr(p, '\n', len - i);
    size_t ll = nl ? (size_t)(nl - p) : len - i;
    i += ll + 1;
    line++;
    if (ll && p[ll - 1] == '\r')
      ll--;
    size_t a = 0;
    while (a < ll && (p[a] == ' ' || p[a] == '\t'))
      a++;
    if (a == ll || p[a] == '#')
      continue;
    size_t ne = a;
    while (ne < ll && p[ne] != ' ' && p[ne] != '\t')
      ne++;
    size_t h = ne;
    while (h < ll && (p[h] == ' ' || p[h] == '\t'))
      h++;
    size_t he = ll;
    while (he > h && (p[he - 1] == ' ' || p[he - 1] == '\t'))
      he--;
    char name[OB_REVIEWER_MAX + 1];
    unsigned char hash[OB_SHA256_LEN];
    int ok = ne - a <= OB_REVIEWER_MAX && he - h == 2 * OB_SHA256_LEN;
    if (ok) {
      memcpy(name, p + a, ne - a);
      name[ne - a] = '\0';
      ok = ob_auth_name_valid(name);
    }
    for (size_t k = 0; ok && k < OB_SHA256_LEN; k++) {
      int hi = unhex(p[h + 2 * k]), lo = unhex(p[h + 2 * k + 1]);
      ok = hi >= 0 && lo >= 0;
      hash[k] = (unsigned char)(hi << 4 | (lo & 15));
    }
    if (!ok)
      return ob_fail(err, OB_EINPUT,
                     "%s:%u: expected 'NAME SHA256-HEX' (a name without spaces and the "
                     "64 hex digits of the token's SHA-256)",
                     path, line);
    if (fn)
      fn(name, hash, ctx);
    n++;
  }
  if (count)
    *count = n;
  return OB_OK;
}

static ob_status read_tokens(const char *path, ob_buf *b, char *err)
{
  char e[OB_ERR_SIZE];
  ob_status st = ob_buf_read_file(b, path, e);
  if (st == OB_ETOOBIG)
    return ob_fail(err, OB_EINPUT, "%s: tokens file larger than %u KiB", path,
                   OB_TOKENS_FILE_MAX / 1024);
  if (st)
    return ob_fail(err, OB_EIO, "tokens file %s", e);
  return OB_OK;
}

ob_status ob_auth_load(const char *path, size_t *reviewers, char *err)
{
  ob_buf b;
  ob_buf_init(&b, OB_TOKENS_FILE_MAX);
  ob_status st = read_tokens(path, &b, err);
  if (!st)
    st = parse(path, b.data ? b.data : "", b.len, NULL, NULL, reviewers, err);
  ob_buf_free(&b);
  return st;
}

struct check {
  unsigned char want[OB_SHA256_LEN];
  char *name;
  int found;
};

static void check_line(const char *name, const unsigned char hash[OB_SHA256_LEN], void *vctx)
{
  struct check *c = vctx;
  /* constant time per line; every line is compared, a match does not stop */
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < OB_SHA256_LEN; i++)
    diff |= (unsigned char)(hash[i] ^ c->want[i]);
  int match = diff == 0;
  if (match && !c->found) {
    snprintf(c->name, OB_REVIEWER_MAX + 1, "%s", name);
    c->found = 1;
  }
}

ob_status ob_auth_check(const char *path, const char *token, size_t n, char *name, char *err)
{
  ob_buf b;
  struct check c;
  ob_status st;
  name[0] = '\0';
  c.name = name;
  c.found = 0;
  ob_sha256(token, n, c.want);
  ob_buf_init(&b, OB_TOKENS_FILE_MAX);
  if ((st = read_tokens(path, &b, err)) ||
      (st = parse(path, b.data ? b.data : "", b.len, check_line, &c, NULL, err)))
    goto out;
  if (!c.found || n == 0)
    st = ob_fail(err, OB_EAUTH, "unknown token");
out:
  ob_buf_free(&b);
  return st;
}

struct dup {
  const char *name;
  int found;
};

static void dup_line(const char *name, const unsigned char hash[OB_SHA256_LEN], void *vctx)
{
  struct dup *d = vctx;
  (void)hash;
  if (strcmp(name, d->name) == 0)
    d->found = 1;
}

ob_status ob_auth_new_token(const char *path, const char *name, char token[OB_TOKEN_HEX], char *err)
{
  unsigned char raw[OB_SHA256_LEN];
  char hash[OB_SHA256_HEX];
  struct dup d = {name, 0};
  struct stat sb;
  ob_buf b, line;
  ob_status st = OB_OK;
  int fd = -1;
  token[0] = '\0';
  ob_buf_init(&b, OB_TOKENS_FILE_MAX);
  ob_buf_init(&line, 256);
  if (!ob_auth_name_valid(name))
    return ob_fail(err, OB_EINPUT,
                   "invalid reviewer name '%.80s': 1-%d bytes of UTF-8 without spaces, "
                   "control characters or a leading '#'",
                   name, OB_REVIEWER_MAX);
  fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0) {
    st = ob_fail(err, OB_EIO, "%s: %s", path, strerror(errno));
    goto out;
  }
  if ((size_t)sb.st_size > OB_TOKENS_FILE_MAX) {
    st = ob_fail(err, OB_EINPUT, "%s: tokens file too large", path);
    goto out;
  }
  if ((st = read_tokens(path, &b, err)) ||
      (st = parse(path, b.data ? b.data : "", b.len, dup_line, &d, NULL, err)))
    goto out;
  if (d.found) {
    st = ob_fail(err, OB_EINPUT, "%s: reviewer '%s' already has a token", path, name);
    goto out;
  }
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      st = ob_fail(err, OB_EIO, "getrandom: %s", strerror(errno));
      goto out;
    }
    got += (size_t)r;
  }
  to_hex(raw, sizeof raw, token);
  ob_sha256_hex(token, strlen(token), hash);
  if ((b.len && b.data[b.len - 1] != '\n' && (st = ob_buf_putc(&line, '\n'))) ||
      (st = ob_buf_printf(&line, "%s %s\n", name, hash)))
    goto out;
  if (write(fd, line.data, line.len) != (ssize_t)line.len || fsync(fd) != 0) {
    st = ob_fail(err, OB_EIO, "%s: %s", path, strerror(errno));
    goto out;
  }
out:
  if (st)
    memset(token, 0, OB_TOKEN_HEX);
  memset(raw, 0, sizeof raw);
  if (fd >= 0)
    close(fd); /* releases the flock */
  ob_buf_free(&b);
  ob_buf_free(&line);
  return st;
}
