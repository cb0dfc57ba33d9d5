/* fuzz_http - raw HTTP requests against the real server, in process.
 *
 * The request line, percent-decoding, the query string and the
 * dispatcher (libmicrohttpd, on_uri in server/srv.c, route_of, arg,
 * uint_arg and filter_args in server/routes.c) are static or inside
 * libmicrohttpd, so they are fuzzed through the smallest public entry:
 * ob_srv_start() on a small index of tests/fixtures, one worker thread.
 * Each input is sent as the bytes of one connection and the answer is
 * read. When the server has write routes, it runs with a tokens file
 * whose one reviewer's token ("fuzz-token") is in http.dict, on a copy
 * of the fixtures, so authenticated lesson and fault writes are fuzzed
 * too.
 *
 * Invariants: an answer comes within 5 s; it is HTTP; it is never a 500
 * (docs/api.md: "never caused by user input"); a JSON body parses. */
#define _GNU_SOURCE /* memmem, strncasecmp, nftw */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef OB_FUZZ_HAVE_WRITES
#include "auth.h"
#endif
#include "fuzz.h"
#include "index.h"
#include "srv.h"
#include "srv_int.h"
#include "text.h"

/* the reviewer token the tokens file holds (also in http.dict) */
#define FUZZ_TOKEN "fuzz-token"

static ob_srv *S;
static struct sockaddr_in A;
static char tmp[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static void cleanup(void)
{
  ob_srv_stop(S, 0);
  S = NULL;
  if (tmp[0])
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0)
    abort();
}

/* cp -r src dst, for the handbook's few small files */
static void copy_tree(const char *src, const char *dst)
{
  char a[512], b[512];
  struct dirent *e;
  DIR *d = opendir(src);
  if (!d || mkdir(dst, 0755) != 0)
    abort();
  while ((e = readdir(d))) {
    struct stat sb;
    if (e->d_name[0] == '.')
      continue;
    snprintf(a, sizeof a, "%s/%s", src, e->d_name);
    snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
    if (stat(a, &sb) != 0)
      abort();
    if (S_ISDIR(sb.st_mode)) {
      copy_tree(a, b);
    } else {
      FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
      char buf[8192];
      size_t n;
      if (!in || !out)
        abort();
      while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
          abort();
      fclose(in);
      if (fclose(out) != 0)
        abort();
    }
  }
  closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  char err[OB_ERR_SIZE], db[128], web[128], p[192], hb[128];
  static char tokens[128];
  ob_text *t = NULL;
  ob_index_report rep;
  (void)argc;
  (void)argv;
  /* tmpfs when there is one: lesson writes fsync every file */
  struct stat shm;
  snprintf(tmp, sizeof tmp, "%s/ob-fuzz-http-XXXXXX",
           stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) ? "/dev/shm" : "/tmp");
  if (!mkdtemp(tmp))
    abort();
  atexit(cleanup);
  snprintf(db, sizeof db, "%s/db", tmp);
  snprintf(web, sizeof web, "%s/web", tmp);
  mkdir(web, 0755);
  snprintf(p, sizeof p, "%s/sub", web);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/index.html", web);
  put_file(p, "<!doctype html><title>t</title>");
  snprintf(p, sizeof p, "%s/app.js", web);
  put_file(p, "console.log('运维');\n");
  snprintf(p, sizeof p, "%s/sub/index.html", web);
  put_file(p, "<p>sub</p>");
  snprintf(p, sizeof p, "%s/.secret", web);
  put_file(p, "never served");

  /* a copy of the fixtures: lesson writes change the handbook */
  snprintf(hb, sizeof hb, "%s/hb", tmp);
  copy_tree(OB_FUZZ_SRC "/tests/fixtures", hb);
  ob_index_opts o = {hb, db, 0, NULL, 0, NULL, 0};
  if (ob_text_new(OB_FUZZ_SRC "/lang", &t, err) || ob_index_run(t, &o, &rep, err)) {
    fprintf(stderr, "fuzz_http: %s\n", err);
    abort();
  }
  ob_text_free(t);
  ob_srv_opts so;
  memset(&so, 0, sizeof so);
  so.db = db;
  so.handbook = hb;
  so.web = web;
  so.lang = OB_FUZZ_SRC "/lang";
  so.listen = "127.0.0.1:0";
  so.threads = 1;
#ifdef OB_FUZZ_HAVE_WRITES
  /* one reviewer whose token is in http.dict, so writes are reached */
  char hex[OB_SHA256_HEX], line[128];
  ob_sha256_hex(FUZZ_TOKEN, strlen(FUZZ_TOKEN), hex);
  snprintf(tokens, sizeof tokens, "%s/tokens", tmp);
  snprintf(line, sizeof line, "fuzzer %s\n", hex);
  put_file(tokens, line);
  so.tokens = tokens;
#endif
  if (ob_srv_start(&so, &S, err)) {
    fprintf(stderr, "fuzz_http: %s\n", err);
    abort();
  }
  const char *colon = strrchr(ob_srv_url(S), ':');
  memset(&A, 0, sizeof A);
  A.sin_family = AF_INET;
  A.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return 0;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Header value of name in the head [h, e), or NULL; *n gets its length. */
static const char *header(const char *h, const char *e, const char *name, size_t *n)
{
  size_t nl = strlen(name);
  for (const char *p = h; p < e;) {
    const char *eol = memchr(p, '\n', (size_t)(e - p));
    if (!eol)
      eol = e;
    if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (v < eol && *v == ' ')
        v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
        ve--;
      *n = (size_t)(ve - v);
      return v;
    }
    p = eol + 1;
  }
  return NULL;
}

/* Checks the first response of the connection. */
static void check_response(const char *r, size_t n, int head)
{
  FUZZ_CHECK(n >= 12 && memcmp(r, "HTTP/1.", 7) == 0, "not an HTTP response: %.*s",
             (int)(n < 80 ? n : 80), r);
  int status = atoi(r + 9);
  FUZZ_CHECK(status >= 100 && status < 600, "status %d", status);
  FUZZ_CHECK(status != 500, "500 for a client request: %.*s", (int)(n < 400 ? n : 400), r);
  const char *he = memmem(r, n, "\r\n\r\n", 4);
  if (!he || head || status == 304 || status == 204)
    return;
  const char *body = he + 4;
  size_t vn, bn = n - (size_t)(body - r);
  const char *ct = header(r, he, "Content-Type", &vn);
  const char *cl = header(r, he, "Content-Length", &vn);
  const char *ce = header(r, he, "Content-Encoding", &vn);
  if (!ct || strncmp(ct, "application/json", 16) != 0 || ce || !cl)
    return;
  size_t len = strtoul(cl, NULL, 10);
  if (len > bn)
    return; /* cut short: the server closed on a later pipelined request */
  json_error_t je;
  json_t *j = json_loadb(body, len, 0, &je);
  FUZZ_CHECK(j != NULL, "JSON body does not parse (%s): %.*s", je.text, (int)(len < 300 ? len : 300),
             body);
  if (status >= 400) {
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    FUZZ_CHECK(json_is_string(json_object_get(e, "code")) && msg, "error without the error shape");
    /* a message for the user, not left-over stack bytes */
    fuzz_known_bug("normalize-err", msg[0] && ob_utf8_valid(msg, strlen(msg)),
                   "error %d with an empty message", status);
  }
  json_decref(j);
}

/* Whether the answers in r end with a complete response (a head and
 * Content-Length bytes of body). */
static int ends_whole(const char *r, size_t n)
{
  size_t at = 0;
  while (at < n) {
    const char *he = memmem(r + at, n - at, "\r\n\r\n", 4);
    size_t vn;
    if (!he)
      return 0;
    const char *cl = header(r + at, he, "Content-Length", &vn);
    size_t end = (size_t)(he + 4 - r) + (cl ? strtoul(cl, NULL, 10) : 0);
    if (end > n)
      return 0;
    at = end;
  }
  return 1;
}

/* How long to wait for the first byte of an answer: a request can only
 * be complete (and answered) once its head has ended with a blank line;
 * without one libmicrohttpd just waits for more, up to its 30 s timeout,
 * and also ignores the client's half-close (shutdown(SHUT_WR)). */
static int first_byte_ms(const uint8_t *data, size_t size)
{
  if (memmem(data, size, "\n\r\n", 3) || memmem(data, size, "\n\n", 2))
    return 500;
  return 20; /* at most an early 4xx for an over-long line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char resp[1 << 20];
  if (size > 64 * 1024)
    return 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
  FUZZ_CHECK(connect(fd, (struct sockaddr *)&A, sizeof A) == 0, "connect: %s", strerror(errno));
  size_t off = 0, got = 0;
  while (off < size) {
    ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (w <= 0)
      break; /* the server may close early (413, 431, ...) */
    off += (size_t)w;
  }
  /* read until the server closes, or goes quiet after answering */
  int wait_ms = first_byte_ms(data, size);
  for (;;) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, wait_ms) <= 0)
      break;
    ssize_t r = recv(fd, resp + got, sizeof resp - got, 0);
    if (r <= 0 || (got += (size_t)r) == sizeof resp)
      break;
    /* keep-alive: the answer has come once the stream pauses; shortly
     * when what came ends with a whole response (pipelined requests
     * may still be answered) */
    wait_ms = ends_whole(resp, got) ? 5 : 50;
  }
  /* reset, not close: libmicrohttpd notices a reset at once and ends the
   * request; then no request may be left running (a stuck route) */
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
  double t0 = now();
  while (atomic_load(&S->inflight) > 0) {
    FUZZ_CHECK(now() - t0 < 5.0, "a request still runs 5 s after its client went away");
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
  }
  /* a HEAD answer has no body; empty lines before a request line are
   * skipped (RFC 9112 2.2), so "\r\nHEAD / ..." is a HEAD too */
  size_t lead = 0;
  while (lead < size && (data[lead] == '\r' || data[lead] == '\n'))
    lead++;
  if (got)
    check_response(resp, got, size - lead >= 5 && memcmp(data + lead, "HEAD ", 5) == 0);
  return 0;
}
