/* srv.h - the Opsbook HTTP JSON server (opsbook-serve) as a library.
 *
 * ob_srv_start() loads the language resources, checks that the index
 * opens, reads and compresses the static files, binds the listen socket
 * and starts the workers (one libmicrohttpd daemon each) and the thread
 * that accepts connections for them (conns.h); with a tokens file it first
 * catches up with handbook files written but not indexed
 * (ob_lesson_recover). ob_srv_stop() stops accepting, lets in-flight
 * requests finish and frees everything. The routes and
 * their JSON are documented in docs/api.md.
 */
#ifndef OB_SRV_H
#define OB_SRV_H

#include <stdio.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_srv ob_srv;

#define OB_SRV_LISTEN_DEFAULT "127.0.0.1:8080"
#define OB_SRV_THREADS_MAX 256
/* Indexes of up to this many entries (the bundled handbook has ~340) are
 * searched from a copy in memory: ~1.5x the requests per second. Each
 * worker makes its copy again after every write (~0.25 ms per entry). */
#define OB_SRV_MEMORY_INDEX_DEFAULT 1000UL
#define OB_SRV_MEMORY_SHARED_DEFAULT 200000UL

typedef struct ob_srv_opts {
  const char *db;       /* the --db folder (required) */
  const char *handbook; /* handbook root the index was built from (required) */
  const char *web;      /* static files; NULL = OB_WEB_DIR, which may be absent */
  const char *lang;     /* language resources; NULL = OB_LANG_DIR */
  const char *listen;   /* "ADDR:PORT" ("[::1]:PORT" for IPv6); NULL = default */
  unsigned threads;     /* worker threads; 0 = number of online cores */
  size_t cache;         /* reply cache entries (cache.h); 0 = the default */
  int no_cache;         /* 1 = no reply cache */
  unsigned long memory_index; /* search a copy in memory up to this many index
                                 entries (xap.h ob_xdb_preload); 0 = the default */
  int no_memory_index;  /* 1 = always search the index on disk */
  unsigned long memory_shared; /* larger: one shared copy in memory up to this many
                                  entries (xap.h ob_xdb_share); 0 = the default */
  int no_memory_shared; /* 1 = never share a copy */
  FILE *log;            /* access log, one line per request; may be NULL */
  /* writes (POST routes, docs/api.md "Who may write") */
  const char *tokens;   /* reviewers' tokens file; NULL = read-only (403 on writes) */
  const char *audit;    /* audit log; NULL = audit.jsonl next to tokens */
} ob_srv_opts;

/* Starts serving. The strings in o are copied. On error err holds a
 * one-line reason (port taken, index missing, ...). Caller stops and
 * frees with ob_srv_stop(). */
ob_status ob_srv_start(const ob_srv_opts *o, ob_srv **out, char *err) OB_WUR;

/* "http://ADDR:PORT" of the bound socket (the real port when 0 was asked
 * for). Borrowed; valid until ob_srv_stop(). */
const char *ob_srv_url(const ob_srv *s);

/* Stops accepting connections, waits up to drain_ms for requests in
 * flight, stops the worker threads and frees s. NULL is a no-op. */
void ob_srv_stop(ob_srv *s, int drain_ms);

#ifdef __cplusplus
}
#endif
#endif
