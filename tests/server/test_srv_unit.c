/* test_srv_unit.c - the server's parsers that meet outside input:
 * Accept-Encoding, If-None-Match, static URL paths; plus gzip round trip,
 * section anchors in document HTML, the metrics text, the reply cache and
 * the connection table (admission limits, worker choice, deadlines). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../unit/harness.h"
#include "cache.h"
#include "conns.h"
#include "docview.h"
#include "metrics.h"
#include "reply.h"
#include "slot.h"
#include "statics.h"

static void test_accept_encoding(void)
{
  static const struct {
    const char *ae;
    int want;
  } cases[] = {
      {NULL, 0},
      {"", 0},
      {"gzip", 1},
      {"GZIP", 1},
      {"gzip, deflate, br", 1},
      {"deflate, gzip;q=0.5", 1},
      {"gzip;q=0", 0},
      {"gzip; q=0.000", 0},
      {"gzip;q=1.0", 1},
      {"identity", 0},
      {"*", 1},
      {"*;q=0", 0},
      {"gzip;q=0, *", 0},
      {"x-gzip", 1},
      {"gzipx", 0},
      {" gzip ", 1},
      {",,gzip,,", 1},
      {"br;q=1, *;q=0.1", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    EQ_INT(ob_http_accepts_gzip(cases[i].ae), cases[i].want, "Accept-Encoding '%s'",
           cases[i].ae ? cases[i].ae : "(null)");
}

static void test_etag(void)
{
  static const struct {
    const char *inm;
    int want;
  } cases[] = {
      {NULL, 0},
      {"", 0},
      {"\"abc-idx-1:2\"", 1},
      {"\"abc-idx-1:2-gz\"", 1},
      {"W/\"abc-idx-1:2\"", 1},
      {"*", 1},
      {"\"x\", \"abc-idx-1:2\"", 1},
      {"\"abc-idx-1:3\"", 0},
      {"abc-idx-1:2", 0},
      {"\"abc-idx-1:2-gzz\"", 0},
      {"\"abc\"", 0},
      {"\"", 0},
      {",,\"", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    EQ_INT(ob_http_etag_match(cases[i].inm, "abc-idx-1:2"), cases[i].want, "If-None-Match '%s'",
           cases[i].inm ? cases[i].inm : "(null)");
}

static void test_static_paths(void)
{
  struct ob_static files[] = {
      {"a/index.html", "text/html", NULL, 0, NULL, 0, ""},
      {"app.js", "text/javascript", NULL, 0, NULL, 0, ""},
      {"index.html", "text/html", NULL, 0, NULL, 0, ""},
  };
  struct ob_statics s = {files, 3};
  OK(ob_statics_find(&s, "/") == &files[2], "/ is index.html");
  OK(ob_statics_find(&s, "/app.js") == &files[1], "/app.js");
  OK(ob_statics_find(&s, "/a/") == &files[0], "/a/ is a/index.html");
  static const char *const bad[] = {
      "",         "app.js", "/../app.js",     "/a/../app.js", "/./app.js",      "/a/./index.html",
      "/..",      "/.",     "/a\\..\\app.js", "//app.js",     "/a//index.html", "/.git/config",
      "/nope.js", "/a",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    OK(ob_statics_find(&s, bad[i]) == NULL, "'%s' must not match", bad[i]);
  EQ_STR(ob_static_ctype("x.webmanifest"), "application/manifest+json; charset=utf-8", "ctype");
  EQ_STR(ob_static_ctype("x.bin"), "application/octet-stream", "ctype default");
}

/* zlib inflates what the server's gzip wrote: a decoder independent of
 * the encoder (libdeflate). */
static void check_gunzip(const char *what, const char *gz, size_t gzlen, const char *src,
                         size_t n)
{
  char back[6000];
  OK(gzlen > 18 && (unsigned char)gz[0] == 0x1f && (unsigned char)gz[1] == 0x8b,
     "%s: gzip magic", what);
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  inflateInit2(&zs, 15 + 16);
  zs.next_in = (Bytef *)(uintptr_t)gz;
  zs.avail_in = (uInt)gzlen;
  zs.next_out = (Bytef *)back;
  zs.avail_out = sizeof back;
  OK(inflate(&zs, Z_FINISH) == Z_STREAM_END, "%s: inflate", what);
  OK(zs.total_out == n && memcmp(back, src, n) == 0, "%s: round trip", what);
  inflateEnd(&zs);
}

static void test_gzip(void)
{
  char src[5000], *gz = NULL;
  size_t gzlen = 0;
  for (size_t i = 0; i < sizeof src; i++)
    src[i] = (char)("运维手册"[i % 12]);
  if (OK(ob_gzip_once(src, sizeof src, 12, &gz, &gzlen) == OB_OK, "gzip once")) {
    check_gunzip("once", gz, gzlen, src, sizeof src);
    OK(gzlen < 200, "once: compresses (%zu bytes)", gzlen);
    free(gz);
  }
  EQ_INT(ob_gzip_once(src, sizeof src, 13, &gz, &gzlen), OB_EINPUT, "level 13 refused");
  EQ_INT(ob_gzip_once(src, sizeof src, -1, &gz, &gzlen), OB_EINPUT, "level -1 refused");

  /* a slot's compressor is made once and reused, reply after reply */
  struct ob_slot *slot = ob_xcalloc(1, sizeof *slot);
  const size_t sizes[] = {sizeof src, 0, 1, 777, sizeof src};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    char what[32];
    snprintf(what, sizeof what, "slot reply %zu", k);
    if (OK(ob_slot_gzip(slot, src, sizes[k], &gz, &gzlen) == OB_OK, "%s", what)) {
      check_gunzip(what, gz, gzlen, src, sizes[k]);
      free(gz);
    }
  }
  ob_slot_free(slot);
}

static void test_html_anchors(void)
{
  static const char md[] = "# T\n\n## A\n\ntext <h2>x</h2>\n\n### B\n\n`<h3>`\n";
  static const char nested[] = "# T\n\n## A\n\n> ## quoted\n";
  char err[OB_ERR_SIZE];
  ob_doc *d = NULL;
  if (OK(ob_doc_parse("sop/t.md", md, strlen(md), &d, err) == OB_OK, "parse: %s", err)) {
    char *html = ob_docview_html(d);
    OK(strstr(html, "<h2 id=\"s1\">A</h2>") && strstr(html, "<h3 id=\"s2\">B</h3>"), "%s", html);
    OK(strstr(html, "<h1>T</h1>") && !strstr(html, "<h2>x"), "no raw HTML: %s", html);
    free(html);
  }
  ob_doc_free(d);
  if (OK(ob_doc_parse("sop/t.md", nested, strlen(nested), &d, err) == OB_OK, "parse nested")) {
    char *html = ob_docview_html(d);
    OK(!strstr(html, " id=\""), "nested heading: anchors left out: %s", html);
    free(html);
  }
  ob_doc_free(d);
}

static void test_metrics(void)
{
  static struct ob_metrics m;
  struct ob_metrics_index ix = {"idx-2", 7, 5, 19};
  ob_buf b;
  ob_buf_init(&b, 1 << 20);
  ob_metrics_init(&m);
  ob_metrics_observe(&m, OB_RT_SEARCH, 200, 3.0);
  ob_metrics_observe(&m, OB_RT_SEARCH, 418, 3000.0);
  if (OK(ob_metrics_render(&m, &ix, &b) == OB_OK, "render")) {
    OK(strstr(b.data, "opsbook_http_requests_total{route=\"search\",status=\"200\"} 1\n") != NULL,
       "count");
    OK(strstr(b.data, "{route=\"search\",status=\"other\"} 1\n") != NULL, "other status");
    OK(strstr(b.data, "_bucket{route=\"search\",le=\"0.005\"} 1\n") != NULL, "bucket");
    OK(strstr(b.data, "_bucket{route=\"search\",le=\"+Inf\"} 2\n") != NULL, "+Inf");
    OK(strstr(b.data, "route=\"docs\"") == NULL, "unused routes left out");
    OK(strstr(b.data, "opsbook_index_generation{name=\"idx-2\",revision=\"7\"} 1\n") != NULL,
       "generation");
  }
  ob_buf_free(&b);
}

static int get(struct ob_cache *c, const char *key, int gz, ob_buf *out, int *is_gz)
{
  return ob_cache_get(c, key, strlen(key), gz, out, is_gz);
}

static void test_cache(void)
{
  struct ob_cache c;
  ob_buf out;
  int gz;
  ob_buf_init(&out, 1 << 20);

  /* hits, the gzip form only when asked for and stored, replacement */
  if (OK(ob_cache_init(&c, 3, 1 << 20) == OB_OK, "init")) {
    OK(!get(&c, "a", 0, &out, &gz), "empty cache misses");
    ob_cache_put(&c, "a", 1, "AAAA", 4, "za", 2);
    ob_cache_put(&c, "b", 1, "BBBB", 4, NULL, 0);
    OK(get(&c, "a", 0, &out, &gz) && !gz && out.len == 4 && !memcmp(out.data, "AAAA", 4),
       "plain body");
    OK(get(&c, "a", 1, &out, &gz) && gz && out.len == 2 && !memcmp(out.data, "za", 2),
       "gzip body");
    OK(get(&c, "b", 1, &out, &gz) && !gz && out.len == 4, "no gzip stored: plain body");
    ob_cache_put(&c, "a", 1, "A2", 2, NULL, 0);
    OK(get(&c, "a", 1, &out, &gz) && !gz && out.len == 2 && !memcmp(out.data, "A2", 2),
       "a second put replaces");
    OK(c.n == 2, "replacing keeps one entry (n=%zu)", c.n);
    /* least recently used goes first: order of use is now b, a */
    ob_cache_put(&c, "c", 1, "C", 1, NULL, 0);
    OK(get(&c, "b", 0, &out, &gz), "b still there");
    ob_cache_put(&c, "d", 1, "D", 1, NULL, 0); /* evicts a, the least recently used */
    OK(!get(&c, "a", 0, &out, &gz), "LRU entry evicted");
    OK(get(&c, "b", 0, &out, &gz) && get(&c, "c", 0, &out, &gz) && get(&c, "d", 0, &out, &gz),
       "the rest kept");
    OK(c.n == 3, "bounded by entries (n=%zu)", c.n);
    /* keys differ in bytes after a NUL */
    ob_cache_put(&c, "k\0x", 3, "X", 1, NULL, 0);
    OK(ob_cache_get(&c, "k\0y", 3, 0, &out, &gz) == 0, "bytes after NUL count");
    OK(ob_cache_get(&c, "k\0x", 3, 0, &out, &gz) == 1, "exact bytes hit");
    OK(atomic_load(&c.hits) > 0 && atomic_load(&c.misses) > 0, "hit and miss counters");
    ob_cache_free(&c);
  }

  /* bounded by bytes: an entry larger than the whole cache is not stored */
  if (OK(ob_cache_init(&c, 100, 400) == OB_OK, "init small")) {
    char big[1000];
    memset(big, 'x', sizeof big);
    ob_cache_put(&c, "big", 3, big, sizeof big, NULL, 0);
    OK(!get(&c, "big", 0, &out, &gz), "too large for the cache");
    for (int i = 0; i < 20; i++) {
      char k[8];
      snprintf(k, sizeof k, "k%d", i);
      ob_cache_put(&c, k, strlen(k), big, 100, NULL, 0);
    }
    OK(c.bytes <= 400, "bytes stay under the bound (%zu)", c.bytes);
    OK(get(&c, "k19", 0, &out, &gz) && !get(&c, "k0", 0, &out, &gz), "newest kept, oldest gone");
    ob_cache_free(&c);
  }

  /* disabled: nothing stored */
  if (OK(ob_cache_init(&c, 0, 1 << 20) == OB_OK, "init disabled")) {
    ob_cache_put(&c, "a", 1, "A", 1, NULL, 0);
    OK(!get(&c, "a", 0, &out, &gz), "disabled cache never hits");
    ob_cache_free(&c);
  }
  ob_buf_free(&out);
}

static struct sockaddr_storage addr4(const char *ip)
{
  struct sockaddr_storage ss;
  struct sockaddr_in *a = (struct sockaddr_in *)&ss;
  memset(&ss, 0, sizeof ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(40000); /* the port is not part of the address */
  inet_pton(AF_INET, ip, &a->sin_addr);
  return ss;
}

static struct sockaddr_storage addr6(const char *ip)
{
  struct sockaddr_storage ss;
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
  memset(&ss, 0, sizeof ss);
  a->sin6_family = AF_INET6;
  inet_pton(AF_INET6, ip, &a->sin6_addr);
  return ss;
}

static ob_status admit(struct ob_conns *t, int fd, struct sockaddr_storage a, unsigned *w)
{
  return ob_conns_admit(t, fd, (const struct sockaddr *)&a, 100.0, w);
}

static void test_conns(void)
{
  struct ob_conns t;
  struct ob_conns_stats st;
  unsigned w = 99;
  EQ_INT(ob_conns_init(&t, 0, 5, 3), OB_EINPUT, "no workers");
  if (!OK(ob_conns_init(&t, 3, 5, 3) == OB_OK, "init"))
    return;
  /* the least busy worker, the lowest on a tie */
  for (int fd = 100; fd < 103; fd++)
    if (OK(admit(&t, fd, addr4("10.0.0.1"), &w) == OB_OK, "admit %d", fd))
      EQ_INT(w, fd - 100, "worker of %d", fd);
  EQ_INT(admit(&t, 103, addr4("10.0.0.1"), &w), OB_ETOOBIG, "fourth from one address");
  EQ_INT(admit(&t, 104, addr6("::ffff:10.0.0.1"), &w), OB_OK, "IPv6 is another address");
  EQ_INT(w, 0, "worker");
  EQ_INT(admit(&t, 105, addr6("2001:db8::1"), &w), OB_OK, "fifth");
  EQ_INT(w, 1, "worker");
  EQ_INT(admit(&t, 106, addr6("2001:db8::2"), &w), OB_ETOOBIG, "over the total");
  ob_conns_stats(&t, &st);
  EQ_INT(st.open, 5, "open");
  EQ_INT(st.refused, 2, "refused");
  EQ_INT(st.max_load, 2, "max load");
  EQ_INT(st.min_load, 1, "min load");
  /* closing frees the place, the worker and the address's count */
  struct ob_conn *c = ob_conns_started(&t, 101);
  if (OK(c && c->fd == 101 && c->worker == 1, "started finds the record")) {
    ob_conns_closed(&t, c);
    OK(ob_conns_started(&t, 101) == NULL, "closed: gone");
  }
  OK(ob_conns_started(&t, 999) == NULL, "never admitted");
  EQ_INT(admit(&t, 107, addr4("10.0.0.1"), &w), OB_OK, "the address has room again");
  EQ_INT(w, 1, "the freed worker");
  /* a worker refused fd 107; then a record never reported closed is
   * dropped when its number comes back */
  ob_conns_drop_fd(&t, 107);
  ob_conns_stats(&t, &st);
  EQ_INT(st.open, 4, "dropped");
  EQ_INT(admit(&t, 105, addr4("10.0.0.9"), &w), OB_OK, "number 105 again");
  ob_conns_stats(&t, &st);
  EQ_INT(st.open, 4, "the stale record went");
  EQ_INT(admit(&t, 108, addr6("2001:db8::1"), &w), OB_OK, "its address counts no more");
  /* deadlines: fds 900+ are not open, shutdown() fails harmlessly */
  struct ob_conns d;
  if (OK(ob_conns_init(&d, 2, 100, 100) == OB_OK, "init")) {
    for (int fd = 900; fd < 904; fd++)
      (void)admit(&d, fd, addr4("10.0.0.2"), &w);
    ob_conns_set_deadline(&d, ob_conns_started(&d, 901), 0);    /* replying */
    ob_conns_set_deadline(&d, ob_conns_started(&d, 902), 200.0); /* later */
    ob_conns_set_deadline(&d, NULL, 1.0);                        /* no-op */
    EQ_INT(ob_conns_cut_late(&d, 50.0), 0, "none late yet");
    EQ_INT(ob_conns_cut_late(&d, 150.0), 2, "two late");
    EQ_INT(ob_conns_cut_late(&d, 150.0), 0, "each cut once");
    EQ_INT(ob_conns_cut_late(&d, 250.0), 1, "the later one");
    ob_conns_stats(&d, &st);
    EQ_INT(st.cut, 3, "cut total");
    EQ_INT(st.max_load - st.min_load, 0, "two and two");
    ob_conns_free(&d);
  }
  ob_conns_free(&t);
}

int main(void)
{
  test_accept_encoding();
  test_etag();
  test_static_paths();
  test_gzip();
  test_html_anchors();
  test_metrics();
  test_cache();
  test_conns();
  return ob_t_done();
}
