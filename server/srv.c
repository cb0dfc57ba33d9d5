/* srv.c - the daemon: listen socket, libmicrohttpd callbacks, lifecycle.
 *
 * The request context (struct ob_req) is made in the URI log callback,
 * which libmicrohttpd calls for every request once the request line is
 * read; it is freed in the completion callback, which also writes the
 * access log line and the metrics.
 */
#define _POSIX_C_SOURCE 200809L
#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "index.h"
#include "lesson.h"
#include "reply.h"
#include "srv_int.h"

#ifndef OB_WEB_DIR
#define OB_WEB_DIR "web"
#endif

#define CONNECTION_TIMEOUT_S 30u
/* A request must arrive whole (head and body) within this many seconds of
 * its connection opening or of the previous reply on it. */
#define REQUEST_DEADLINE_S 30.0
#define CONNECTION_LIMIT 1024u
#define PER_IP_CONNECTION_LIMIT 256u
#define CONNECTION_MEMORY_LIMIT ((size_t)64 * 1024)
#define LISTEN_BACKLOG 256

/* ---- libmicrohttpd callbacks ---- */

static char lower_ascii(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* "%" and the hex digits a, b (given in lower case) in either case */
static int pct(const char *p, char a, char b)
{
  return p[0] == '%' && p[1] && lower_ascii(p[1]) == a && lower_ascii(p[2]) == b;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  ob_srv *s = cls;
  struct ob_req *rq = ob_xcalloc(1, sizeof *rq);
  rq->srv = s;
  rq->conn = conn;
  rq->route = OB_RT_OTHER;
  clock_gettime(CLOCK_MONOTONIC, &rq->t0);
  ob_buf_init(&rq->body, OB_SRV_BODY_MAX);
  /* the raw path: decoding turns %00 into an early end of string, so
   * NUL and backslashes are caught here, before libmicrohttpd decodes */
  size_t k = 0;
  for (const char *p = uri; *p && *p != '?'; p++) {
    if (*p == '\\' || pct(p, '0', '0') || pct(p, '5', 'c'))
      rq->raw_bad = 1;
    if (k + 1 < sizeof rq->path) /* keep the log line one printable line */
      rq->path[k++] = (unsigned char)*p < 0x21 || *p == 0x7f ? '?' : *p;
  }
  rq->path[k] = '\0';
  atomic_fetch_add(&s->inflight, 1);
  return rq;
}

/* ---- slow clients ----
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client sending
 * one byte every few seconds would keep a connection, and a place in the
 * per-IP limit, for ever (slowloris). Every connection therefore gets a
 * deadline for its request: REQUEST_DEADLINE_S from the moment it opens
 * or its previous reply was sent. While a reply is being sent there is no
 * deadline (a slow phone may take its time to read; the idle timeout still
 * applies). A watchdog thread shuts down the socket of a connection past
 * its deadline; libmicrohttpd then sees the client gone and closes it.
 */

static double mono_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct ob_conn *conn_of(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

static void set_deadline(ob_srv *s, struct MHD_Connection *conn, double deadline)
{
  ob_conns_set_deadline(&s->conns, conn_of(conn), deadline);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  ob_srv *s = cls;
  struct ob_conn *c;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    /* admitted by the acceptor; NULL (not watched) cannot happen */
    *socket_context = ci ? ob_conns_started(&s->conns, ci->connect_fd) : NULL;
  } else if ((c = *socket_context)) { /* closed; the socket is still open */
    ob_conns_closed(&s->conns, c);
    *socket_context = NULL;
  }
}

static void *watchdog(void *arg)
{
  ob_srv *s = arg;
  struct timespec tick = {0, 250 * 1000 * 1000};
  while (!atomic_load(&s->stopping)) {
    nanosleep(&tick, NULL);
    (void)ob_conns_cut_late(&s->conns, mono_s());
  }
  return NULL;
}

/* ---- accepting ----
 *
 * One thread accepts and gives each connection to the worker serving the
 * fewest (conns.h says why libmicrohttpd's own pool does not). Limits are
 * checked here: over the total or the per-address limit the socket is
 * closed at once, as libmicrohttpd would.
 */

static void *acceptor(void *arg)
{
  ob_srv *s = arg;
  struct timespec pause = {0, 50 * 1000 * 1000};
  while (!atomic_load(&s->closing)) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    unsigned w;
    int fd = accept(s->lfd, (struct sockaddr *)&sa, &len);
    if (fd < 0) {
      if (atomic_load(&s->closing))
        break;
      if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN && errno != EPROTO)
        nanosleep(&pause, NULL); /* out of descriptors or memory: let some go */
      continue;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
        ob_conns_admit(&s->conns, fd, (struct sockaddr *)&sa, mono_s() + REQUEST_DEADLINE_S,
                       &w) != OB_OK) {
      close(fd);
      continue;
    }
    if (MHD_add_connection(s->mhd[w], fd, (struct sockaddr *)&sa, len) != MHD_YES)
      ob_conns_drop_fd(&s->conns, fd); /* libmicrohttpd has closed it */
  }
  return NULL;
}

static void access_log(ob_srv *s, const struct ob_req *rq, double ms)
{
  struct timespec now;
  struct tm tm;
  char ts[32], status[12];
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rq->status)
    snprintf(status, sizeof status, "%u", rq->status);
  else
    snprintf(status, sizeof status, "-");
  /* one call per line: stdio locks the stream, lines never interleave */
  fprintf(s->log, "%s.%03ldZ %s %s %s %zu %.2fms\n", ts, now.tv_nsec / 1000000L,
          rq->method[0] ? rq->method : "-", rq->path, status, rq->bytes, ms);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                    enum MHD_RequestTerminationCode toe)
{
  ob_srv *s = cls;
  struct ob_req *rq = *req_cls;
  struct timespec t;
  (void)toe;
  set_deadline(s, conn, mono_s() + REQUEST_DEADLINE_S); /* for the next request */
  if (!rq)
    return;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double ms = (double)(t.tv_sec - rq->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - rq->t0.tv_nsec) / 1e6;
  ob_metrics_observe(&s->metrics, rq->route, rq->status, ms);
  if (s->log)
    access_log(s, rq, ms);
  ob_buf_free(&rq->body);
  free(rq);
  *req_cls = NULL;
  atomic_fetch_sub(&s->inflight, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
  struct ob_req *rq = *req_cls;
  ob_srv *s = cls;
  (void)version;
  if (!rq)
    return MHD_NO;
  if (!rq->started) { /* headers are in; the body (if any) follows */
    rq->started = 1;
    rq->url = url;
    snprintf(rq->method, sizeof rq->method, "%s", method);
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
      char *end;
      errno = 0;
      unsigned long long n = strtoull(cl, &end, 10);
      if (errno || *end || n > OB_SRV_BODY_MAX) { /* refuse before reading it */
        rq->too_big = 1;
        set_deadline(s, conn, 0);
        return ob_route_dispatch(rq);
      }
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!rq->too_big && !rq->queued &&
        ob_buf_append(&rq->body, upload_data, *upload_data_size) != OB_OK)
      rq->too_big = 1; /* chunked: found out while reading */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->queued)
    return MHD_YES;
  set_deadline(s, conn, 0); /* the request is in: no deadline while replying */
  return ob_route_dispatch(rq);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg[strcspn(msg, "\r\n")] = '\0';
  fprintf(stderr, "opsbook-serve: libmicrohttpd: %s\n", msg);
}

/* ---- the listen socket ---- */

/* Binds ADDR:PORT ourselves so a taken port gives a clear message. */
static ob_status bind_listen(const char *spec, int *fd, char *url, size_t urlsz, char *err)
{
  char host[256], port[8];
  struct addrinfo hints, *ai = NULL;
  struct sockaddr_storage sa;
  socklen_t salen = sizeof sa;
  ob_status st = OB_OK;
  int f = -1, one = 1;
  const char *colon = strrchr(spec, ':');
  *fd = -1;
  if (!colon || colon == spec || !colon[1] || strlen(colon + 1) > 5 ||
      strspn(colon + 1, "0123456789") != strlen(colon + 1) || strtol(colon + 1, NULL, 10) > 65535)
    return ob_fail(err, OB_EINPUT, "--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:8080", spec);
  size_t hl = (size_t)(colon - spec);
  const char *h = spec;
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') /* [::1]:8080 */
    h++, hl -= 2;
  if (hl >= sizeof host)
    return ob_fail(err, OB_EINPUT, "--listen %s: address too long", spec);
  memcpy(host, h, hl);
  host[hl] = '\0';
  snprintf(port, sizeof port, "%s", colon + 1);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &ai);
  if (gai != 0)
    return ob_fail(err, OB_EINPUT, "--listen %s: %s", spec, gai_strerror(gai));
  if ((f = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 || fcntl(f, F_SETFD, FD_CLOEXEC) != 0 ||
      setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      (ai->ai_family == AF_INET6 &&
       setsockopt(f, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
      bind(f, ai->ai_addr, ai->ai_addrlen) != 0 || listen(f, LISTEN_BACKLOG) != 0 ||
      getsockname(f, (struct sockaddr *)&sa, &salen) != 0) {
    st = ob_fail(err, OB_EIO, "cannot listen on %s: %s", spec, strerror(errno));
    goto out;
  }
  char addr[INET6_ADDRSTRLEN];
  unsigned p;
  if (sa.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&sa;
    inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr);
    p = ntohs(s6->sin6_port);
    snprintf(url, urlsz, "http://[%s]:%u", addr, p);
  } else {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&sa;
    inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr);
    p = ntohs(s4->sin_port);
    snprintf(url, urlsz, "http://%s:%u", addr, p);
  }
  *fd = f;
  f = -1;
out:
  if (f >= 0)
    close(f);
  freeaddrinfo(ai);
  return st;
}

/* ---- writes ---- */

/* With a tokens file the server writes: check the file and the audit log,
 * then catch up with files written but not indexed (a writer that died
 * between its file and its index commit). */
static ob_status start_writes(ob_srv *s, const ob_srv_opts *o, char *err)
{
  char e[OB_ERR_SIZE];
  size_t reviewers;
  int fd;
  ob_index_report rep;
  ob_status st;
  if ((st = ob_auth_load(o->tokens, &reviewers, e)))
    return ob_fail(err, st, "--tokens: %s", e);
  s->tokens = ob_xstrdup(o->tokens);
  s->audit = o->audit ? ob_xstrdup(o->audit) : ob_audit_default_path(o->tokens);
  if ((st = ob_audit_open(s->audit, &fd, err)))
    return st;
  ob_audit_close(fd);
  ob_write_env we = {s->text, s->handbook, s->db, s->audit, "opsbook-serve", 0};
  st = ob_lesson_recover(&we, stderr, &rep, e);
  if (st == OB_ELOCKED) {
    fprintf(stderr, "opsbook-serve: start-up re-index skipped: %s\n", e);
    return OB_OK;
  }
  if (st)
    return ob_fail(err, st, "start-up re-index: %s", e);
  if (rep.added + rep.updated + rep.deleted)
    fprintf(stderr,
            "opsbook-serve: start-up re-index: %zu added, %zu updated, %zu deleted\n",
            rep.added, rep.updated, rep.deleted);
  return OB_OK;
}

/* ---- lifecycle ---- */

ob_status ob_srv_start(const ob_srv_opts *o, ob_srv **out, char *err)
{
  ob_srv *s = ob_xcalloc(1, sizeof *s);
  ob_xdb *x = NULL;
  char path[4096];
  struct stat sb;
  ob_status st;
  *out = NULL;
  s->lfd = -1;
  atomic_init(&s->inflight, 0);
  atomic_init(&s->stopping, 0);
  atomic_init(&s->closing, 0);
  ob_metrics_init(&s->metrics);
  ob_catalog_init(&s->catalog);
  s->log = o->log;

  if (!o->db || !o->handbook) {
    st = ob_fail(err, OB_EINPUT, "--db and --handbook are required");
    goto fail;
  }
  s->db = ob_xstrdup(o->db);
  s->handbook = ob_xstrdup(o->handbook);
  if (stat(s->handbook, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    st = ob_fail(err, OB_ENOTFOUND, "--handbook %s: not a folder", s->handbook);
    goto fail;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned threads = o->threads ? o->threads : cores > 0 ? (unsigned)cores : 1;
  if (threads > OB_SRV_THREADS_MAX)
    threads = OB_SRV_THREADS_MAX;
  /* refuse to start on a missing or unreadable index */
  if ((st = ob_index_resolve(s->db, path, sizeof path, err)) || (st = ob_xdb_open(path, &x, err)))
    goto fail;
  s->mem_max = o->no_memory_index ? 0 : o->memory_index ? o->memory_index : OB_SRV_MEMORY_INDEX_DEFAULT;
  s->share_max = o->no_memory_shared ? 0
                 : o->memory_shared ? o->memory_shared
                                    : OB_SRV_MEMORY_SHARED_DEFAULT;
  /* a larger index: have its shared copy made now, not on the first search */
  if (ob_xdb_doc_count(x) > s->mem_max && (st = ob_xdb_share(x, s->share_max, err)))
    goto fail;
  ob_xdb_close(x);
  if ((st = ob_text_new(o->lang, &s->text, err)))
    goto fail;
  if (o->tokens && (st = start_writes(s, o, err)))
    goto fail;
  if ((st = ob_statics_load(&s->statics, o->web ? o->web : OB_WEB_DIR, o->web != NULL, err)))
    goto fail;
  if ((st = ob_cache_init(&s->cache, o->no_cache ? 0 : o->cache ? o->cache : OB_CACHE_ENTRIES_DEFAULT,
                          OB_CACHE_BYTES_DEFAULT))) {
    ob_fail(err, st, "out of memory for the reply cache");
    goto fail;
  }
  s->have_cache = 1;
  if (pthread_key_create(&s->slot_key, ob_slot_free) != 0) {
    st = ob_fail(err, OB_ENOMEM, "pthread_key_create failed");
    goto fail;
  }
  s->have_key = 1;
  if ((st = bind_listen(o->listen ? o->listen : OB_SRV_LISTEN_DEFAULT, &s->lfd, s->url,
                        sizeof s->url, err)))
    goto fail;
  if (ob_conns_init(&s->conns, threads, CONNECTION_LIMIT, PER_IP_CONNECTION_LIMIT) != OB_OK) {
    st = ob_fail(err, OB_ENOMEM, "out of memory for the connection table");
    goto fail;
  }
  s->have_conns = 1;
  s->mhd = ob_xcalloc(threads, sizeof *s->mhd);
  for (; s->workers < threads; s->workers++) {
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        s, /* first, or MHD logs the rest itself */
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        CONNECTION_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY_LIMIT,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!d) {
      st = ob_fail(err, OB_EIO, "cannot start the HTTP server on %s (libmicrohttpd refused)",
                   s->url);
      goto fail;
    }
    s->mhd[s->workers] = d;
  }
  if (pthread_create(&s->acceptor, NULL, acceptor, s) != 0) {
    st = ob_fail(err, OB_ENOMEM, "cannot start the accepting thread");
    goto fail;
  }
  s->have_acceptor = 1;
  if (pthread_create(&s->watchdog, NULL, watchdog, s) != 0) {
    st = ob_fail(err, OB_ENOMEM, "cannot start the slow-client watchdog thread");
    goto fail;
  }
  s->have_watchdog = 1;
  *out = s;
  return OB_OK;
fail:
  ob_srv_stop(s, 0);
  return st;
}

const char *ob_srv_url(const ob_srv *s)
{
  return s->url;
}

void ob_srv_stop(ob_srv *s, int drain_ms)
{
  if (!s)
    return;
  /* stop accepting: new clients are refused now, not left in the backlog;
   * the connections we have are still served */
  atomic_store(&s->closing, 1);
  if (s->have_acceptor) {
    (void)shutdown(s->lfd, SHUT_RDWR); /* wakes accept() */
    pthread_join(s->acceptor, NULL);
  }
  if (s->lfd >= 0)
    close(s->lfd);
  if (s->workers) {
    struct timespec tick = {0, 5 * 1000 * 1000};
    for (int waited = 0; atomic_load(&s->inflight) > 0 && waited < drain_ms; waited += 5)
      nanosleep(&tick, NULL);
  }
  for (unsigned i = 0; i < s->workers; i++)
    MHD_stop_daemon(s->mhd[i]); /* joins its thread: the thread's slot is freed */
  free(s->mhd);
  if (s->have_watchdog) {
    atomic_store(&s->stopping, 1);
    pthread_join(s->watchdog, NULL);
  }
  if (s->have_conns)
    ob_conns_free(&s->conns);
  if (s->have_key)
    pthread_key_delete(s->slot_key);
  ob_statics_free(&s->statics);
  ob_catalog_clear(&s->catalog);
  if (s->have_cache)
    ob_cache_free(&s->cache);
  ob_text_free(s->text);
  free(s->db);
  free(s->handbook);
  free(s->tokens);
  free(s->audit);
  free(s);
}
