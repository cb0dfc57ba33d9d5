/* srv_int.h - the server's shared state and the per-request context,
 * private to server/.
 */
#ifndef OB_SRV_INT_H
#define OB_SRV_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "catalog.h"
#include "conns.h"
#include "metrics.h"
#include "slot.h"
#include "srv.h"
#include "statics.h"
#include "text.h"

#define OB_SRV_BODY_MAX (64 * 1024)  /* request bodies (for POST routes) */
#define OB_SRV_REPLY_MAX (16u << 20) /* any JSON reply */
#define OB_SRV_GZIP_MIN 1024         /* smaller bodies are sent as they are */
#define OB_SRV_LOGPATH_MAX 256       /* path bytes kept for the access log */

struct ob_srv {
  char *db, *handbook;
  ob_text *text; /* immutable, shared by all workers */
  struct MHD_Daemon **mhd; /* the workers, one thread each */
  unsigned workers;        /* how many started */
  int lfd;                 /* our listen socket, read by the acceptor */
  pthread_t acceptor;
  int have_acceptor;
  atomic_int closing;      /* the acceptor stops */
  char url[128];
  pthread_key_t slot_key;
  int have_key;
  atomic_int inflight; /* requests between request line and completion */
  struct ob_statics statics;
  struct ob_catalog catalog;
  struct ob_metrics metrics;
  struct ob_cache cache; /* rendered search replies */
  int have_cache;
  unsigned long mem_max; /* ob_xdb_preload limit; 0 = search the disk */
  unsigned long share_max; /* ob_xdb_share limit; 0 = never shared */
  FILE *log;
  char *tokens, *audit; /* writes: NULL tokens = read-only (writes.c) */
  /* every open connection (conns.h), and the thread that cuts those
   * whose request does not arrive whole in time */
  struct ob_conns conns;
  int have_conns;
  pthread_t watchdog;
  int have_watchdog;
  atomic_int stopping;
};

struct ob_req {
  ob_srv *srv;
  struct MHD_Connection *conn;
  struct ob_slot *slot; /* this worker's, set by the dispatcher */
  const char *url;      /* decoded path, borrowed from MHD */
  char method[16];
  char path[OB_SRV_LOGPATH_MAX]; /* raw path without the query, for the log */
  int raw_bad;                   /* raw path holds %00, %5C or a backslash */
  struct timespec t0;
  int started, too_big, queued;
  ob_buf body; /* request body, capped at OB_SRV_BODY_MAX */
  enum ob_route route;
  const char *allow; /* Allow header for a 405 */
  const char *www_auth; /* WWW-Authenticate header for a 401 */
  unsigned status;
  size_t bytes;
};

/* Routes the finished request to one route function (routes.c); returns
 * what the MHD access handler must return. */
enum MHD_Result ob_route_dispatch(struct ob_req *rq);

#endif
