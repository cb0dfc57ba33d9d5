/* reply.h - queueing responses: JSON, errors, static files.
 *
 * Every reply goes through here so that all of them get the same headers
 * (Content-Type, Cache-Control, Vary, ETag), gzip when the client accepts
 * it and the body is larger than OB_SRV_GZIP_MIN, and 304 on a matching
 * If-None-Match. The status and size are kept in the request for the
 * access log and /metrics.
 */
#ifndef OB_SRV_REPLY_H
#define OB_SRV_REPLY_H

#include "srv_int.h"

/* Queues {"error":{"code":code,"message":msg}} with status. msg is the
 * user-facing (Chinese) text. Adds rq->allow as Allow and rq->www_auth as
 * WWW-Authenticate when set. */
void ob_reply_error(struct ob_req *rq, unsigned status, const char *code, const char *msg);

/* Queues body (JSON) with status; the data is taken from body. etag (the
 * inner text, without quotes) may be NULL; with it a matching
 * If-None-Match gives 304. */
void ob_reply_json(struct ob_req *rq, unsigned status, ob_buf *body, const char *etag);

/* The reply cache (cache.h). ob_reply_cached() queues the reply stored
 * under key and returns 1, or returns 0 on a miss. ob_reply_json_cache()
 * queues a 200 JSON body (taken from body) like ob_reply_json() and keeps
 * it, with its gzip form, under key (key NULL: not cached). Cached and
 * cacheable replies say "X-Opsbook-Cache: hit|miss". */
int ob_reply_cached(struct ob_req *rq, const ob_buf *key);
void ob_reply_json_cache(struct ob_req *rq, ob_buf *body, const ob_buf *key);

/* Queues a 200 JSON body that stays its owner's (no copy), or its gzip
 * form gz (gzlen bytes; NULL: compressed here when the client accepts
 * gzip), with its etag (NULL: none; a match of If-None-Match: 304).
 * release(cls) is called once the reply no longer needs them. */
void ob_reply_json_shared(struct ob_req *rq, char *data, size_t len, char *gz, size_t gzlen,
                          const char *etag, void (*release)(void *), void *cls);

/* Queues text (not JSON) such as /metrics; the data is taken from body. */
void ob_reply_text(struct ob_req *rq, const char *ctype, ob_buf *body);

/* Queues a static file from the start-up table (no copy). */
void ob_reply_static(struct ob_req *rq, const struct ob_static *f);

/* Whether an Accept-Encoding value allows gzip (q > 0). NULL is no. */
int ob_http_accepts_gzip(const char *ae);

/* Whether an If-None-Match value matches etag (inner text), in either
 * its identity or its gzip variant. */
int ob_http_etag_match(const char *inm, const char *etag);

#endif
