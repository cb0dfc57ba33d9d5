/* reply.c - queueing responses; see reply.h. */
#define _POSIX_C_SOURCE 200809L
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define CC_API "no-cache"
#define CC_STATIC "public, max-age=300"
#define CT_JSON "application/json; charset=utf-8"

static const char *header(struct ob_req *rq, const char *name)
{
  return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int token_is(const char *s, size_t n, const char *word)
{
  size_t m = strlen(word);
  if (n != m)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)s[i]) != word[i])
      return 0;
  return 1;
}

static int is_space(char c)
{
  return c == ' ' || c == '\t';
}

int ob_http_accepts_gzip(const char *ae)
{
  int gzip = -1, star = -1; /* -1: not mentioned, else whether q > 0 */
  if (!ae)
    return 0;
  for (const char *p = ae; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *tok = p, *semi = memchr(p, ';', n);
    size_t tn = semi ? (size_t)(semi - p) : n;
    while (tn && is_space(*tok))
      tok++, tn--;
    while (tn && is_space(tok[tn - 1]))
      tn--;
    int ok = 1;
    if (semi) { /* only the q parameter matters: q=0 refuses */
      const char *q = semi + 1, *qend = p + n;
      while (q < qend && is_space(*q))
        q++;
      if (qend - q >= 2 && lower((unsigned char)q[0]) == 'q' && q[1] == '=') {
        ok = 0;
        for (q += 2; q < qend; q++)
          if (*q >= '1' && *q <= '9')
            ok = 1;
      }
    }
    if (token_is(tok, tn, "gzip") || token_is(tok, tn, "x-gzip"))
      gzip = ok;
    else if (token_is(tok, tn, "*"))
      star = ok;
    p += n + (end ? 1 : 0);
  }
  return gzip >= 0 ? gzip : star > 0;
}

int ob_http_etag_match(const char *inm, const char *etag)
{
  size_t en = strlen(etag);
  if (!inm)
    return 0;
  for (const char *p = inm; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *t = p;
    while (n && is_space(*t))
      t++, n--;
    while (n && is_space(t[n - 1]))
      n--;
    if (n == 1 && *t == '*')
      return 1;
    if (n >= 2 && t[0] == 'W' && t[1] == '/') /* weak comparison */
      t += 2, n -= 2;
    if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
      t++;
      n -= 2;
      if ((n == en || (n == en + 3 && memcmp(t + en, "-gz", 3) == 0)) && memcmp(t, etag, en) == 0)
        return 1;
    }
    p = end ? end + 1 : p + strlen(p);
  }
  return 0;
}

static void finish(struct ob_req *rq, unsigned status, struct MHD_Response *resp, size_t bytes)
{
  if (!resp)
    return; /* out of memory in MHD: the handler returns MHD_NO, MHD closes */
  (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (rq->allow)
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
  if (rq->www_auth)
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, rq->www_auth);
  rq->status = status;
  rq->bytes = bytes;
  rq->queued = MHD_queue_response(rq->conn, status, resp) == MHD_YES;
  MHD_destroy_response(resp);
}

static void add_etag(struct MHD_Response *resp, const char *etag, int gz)
{
  char v[192];
  if ((size_t)snprintf(v, sizeof v, "\"%s%s\"", etag, gz ? "-gz" : "") < sizeof v)
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, v);
}

static void reply_304(struct ob_req *rq, const char *etag, int gz, const char *cc)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (resp) {
    add_etag(resp, etag, gz);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  }
  finish(rq, MHD_HTTP_NOT_MODIFIED, resp, 0);
}

/* Queues resp (len bytes), gzip'ed already when gz. */
static void queue_resp(struct ob_req *rq, unsigned status, const char *ctype,
                       struct MHD_Response *resp, size_t len, int gz, const char *etag,
                       const char *cache)
{
  (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CC_API);
  (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (gz)
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
  if (etag)
    add_etag(resp, etag, gz);
  if (cache)
    (void)MHD_add_response_header(resp, "X-Opsbook-Cache", cache);
  finish(rq, status, resp, len);
}

/* Queues len bytes of data (taken), gzip'ed already when gz. */
static void queue_body(struct ob_req *rq, unsigned status, const char *ctype, char *data,
                       size_t len, int gz, const char *etag, const char *cache)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(data);
    return;
  }
  queue_resp(rq, status, ctype, resp, len, gz, etag, cache);
}

static int wants_gzip(struct ob_req *rq, size_t len)
{
  return rq->slot && len > OB_SRV_GZIP_MIN &&
         ob_http_accepts_gzip(header(rq, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

/* When the client holds etag already (If-None-Match): queues a 304 and
 * returns 1. */
static int not_modified(struct ob_req *rq, const char *etag, int gz)
{
  if (!etag || !ob_http_etag_match(header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH), etag))
    return 0;
  reply_304(rq, etag, gz, CC_API);
  return 1;
}

/* Queues a malloc'ed body (taken), compressed when worth it. */
static void reply_body(struct ob_req *rq, unsigned status, const char *ctype, ob_buf *body,
                       const char *etag)
{
  int gz = wants_gzip(rq, body->len);
  if (status == MHD_HTTP_OK && not_modified(rq, etag, gz)) {
    ob_buf_free(body);
    return;
  }
  size_t len;
  char *data = ob_buf_detach(body, &len);
  if (gz) {
    char *z;
    size_t zlen;
    if (ob_slot_gzip(rq->slot, data, len, &z, &zlen) == OB_OK) {
      free(data);
      data = z;
      len = zlen;
    } else {
      gz = 0;
    }
  }
  queue_body(rq, status, ctype, data, len, gz, etag, NULL);
}

int ob_reply_cached(struct ob_req *rq, const ob_buf *key)
{
  ob_buf out;
  int gz = 0;
  ob_buf_init(&out, OB_SRV_REPLY_MAX);
  int hit = ob_cache_get(&rq->srv->cache, key->data, key->len,
                         ob_http_accepts_gzip(header(rq, MHD_HTTP_HEADER_ACCEPT_ENCODING)),
                         &out, &gz);
  if (hit) {
    size_t len;
    char *data = ob_buf_detach(&out, &len);
    queue_body(rq, MHD_HTTP_OK, CT_JSON, data, len, gz, NULL, "hit");
  }
  ob_buf_free(&out);
  return hit;
}

void ob_reply_json_cache(struct ob_req *rq, ob_buf *body, const ob_buf *key)
{
  char *z = NULL;
  size_t zlen = 0, len;
  if (!key) {
    reply_body(rq, MHD_HTTP_OK, CT_JSON, body, NULL);
    return;
  }
  if (rq->slot && body->len > OB_SRV_GZIP_MIN &&
      ob_slot_gzip(rq->slot, body->data, body->len, &z, &zlen) != OB_OK)
    z = NULL;
  ob_cache_put(&rq->srv->cache, key->data, key->len, body->data, body->len, z, zlen);
  if (z && wants_gzip(rq, body->len)) {
    ob_buf_free(body);
    queue_body(rq, MHD_HTTP_OK, CT_JSON, z, zlen, 1, NULL, "miss");
    return;
  }
  free(z);
  char *data = ob_buf_detach(body, &len);
  queue_body(rq, MHD_HTTP_OK, CT_JSON, data, len, 0, NULL, "miss");
}

void ob_reply_json(struct ob_req *rq, unsigned status, ob_buf *body, const char *etag)
{
  reply_body(rq, status, CT_JSON, body, etag);
}

void ob_reply_json_shared(struct ob_req *rq, char *data, size_t len, char *gz, size_t gzlen,
                          const char *etag, void (*release)(void *), void *cls)
{
  int gzip = wants_gzip(rq, len);
  /* etag may live in cls: released only once the headers hold a copy */
  if (not_modified(rq, etag, gzip)) {
    release(cls);
    return;
  }
  if (gzip && !gz) {
    char *z;
    size_t zlen;
    if (ob_slot_gzip(rq->slot, data, len, &z, &zlen) == OB_OK) {
      queue_body(rq, MHD_HTTP_OK, CT_JSON, z, zlen, 1, etag, NULL);
      release(cls);
      return;
    }
    gzip = 0;
  }
  if (gzip) {
    data = gz;
    len = gzlen;
  }
  /* libmicrohttpd calls release(cls) when it has sent the reply or drops it */
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback_cls(len, data, release, cls);
  if (!resp) {
    release(cls);
    return;
  }
  queue_resp(rq, MHD_HTTP_OK, CT_JSON, resp, len, gzip, etag, NULL);
}

void ob_reply_text(struct ob_req *rq, const char *ctype, ob_buf *body)
{
  reply_body(rq, MHD_HTTP_OK, ctype, body, NULL);
}

void ob_reply_error(struct ob_req *rq, unsigned status, const char *code, const char *msg)
{
  ob_buf b;
  ob_jw w;
  ob_buf_init(&b, 4096);
  ob_jw_init(&w, &b);
  ob_jw_obj(&w);
  ob_jw_key(&w, "error");
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "code", code);
  ob_jw_kstr(&w, "message", msg);
  ob_jw_obj_end(&w);
  ob_jw_obj_end(&w);
  if (ob_jw_status(&w) != OB_OK) { /* a message over 4 KiB is a bug; keep the shape */
    ob_buf_reset(&b);
    if (ob_buf_puts(&b, "{\"error\":{\"code\":\"internal\",\"message\":\"服务器内部错误\"}}"))
      return;
  }
  reply_body(rq, status, CT_JSON, &b, NULL);
}

void ob_reply_static(struct ob_req *rq, const struct ob_static *f)
{
  int gz = f->gz && ob_http_accepts_gzip(header(rq, MHD_HTTP_HEADER_ACCEPT_ENCODING));
  if (ob_http_etag_match(header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH), f->etag)) {
    reply_304(rq, f->etag, gz, CC_STATIC);
    return;
  }
  size_t len = gz ? f->gzlen : f->len;
  /* the table lives until the daemon has stopped: no copy */
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, gz ? f->gz : f->data, MHD_RESPMEM_PERSISTENT);
  if (resp) {
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->ctype);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CC_STATIC);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gz)
      (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    add_etag(resp, f->etag, gz);
  }
  finish(rq, MHD_HTTP_OK, resp, len);
}
