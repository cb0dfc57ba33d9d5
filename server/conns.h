/* conns.h - the server's open connections: admission (a total and a
 * per-address limit), the worker each one is given to, and each one's
 * request deadline (the slow-client watchdog, srv.c).
 *
 * opsbook-serve accepts connections on one thread of its own and gives
 * each to the worker serving the fewest (a worker is a single-threaded
 * libmicrohttpd daemon). libmicrohttpd's own thread pool lets the worker
 * that wakes first accept up to ten connections in a row and keeps each
 * connection on its worker for life, so a few keep-alive clients (a
 * reverse proxy, a load test) could all land on one worker and leave the
 * other cores idle: measured on the handbook with 16 connections, runs
 * where one worker did 93 % of the work (CPU time) served 5,300 requests/s
 * against 9,300 when the two shared it evenly.
 *
 * The table owns its struct ob_conn records and per-address counts; every
 * call is thread-safe (one mutex, held for a few pointer updates). A
 * record is made when a socket is admitted and freed when libmicrohttpd
 * reports the connection closed. A record whose close is never reported
 * (a worker that failed to take the socket) is dropped when its
 * descriptor number is admitted again.
 */
#ifndef OB_SRV_CONNS_H
#define OB_SRV_CONNS_H

#include <pthread.h>
#include <sys/socket.h>

#include "status.h"

#define OB_CONNS_BUCKETS 1024 /* hash buckets for descriptors and addresses */

struct ob_conn_ip; /* connections from one address (conns.c) */

struct ob_conn {
  struct ob_conn *prev, *next; /* every record, for the watchdog */
  struct ob_conn *fd_next;     /* the same bucket of the descriptor hash */
  struct ob_conn_ip *ip;
  int fd;
  unsigned worker;
  double deadline; /* CLOCK_MONOTONIC seconds; 0 = a reply is on its way */
  int cut;         /* shut down by the watchdog */
};

struct ob_conns {
  pthread_mutex_t mu;
  struct ob_conn *all;
  struct ob_conn *by_fd[OB_CONNS_BUCKETS];
  struct ob_conn_ip *by_ip[OB_CONNS_BUCKETS];
  unsigned *load; /* open connections per worker */
  unsigned workers, open, max_open, max_per_ip;
  unsigned long refused, cut;
};

struct ob_conns_stats {
  unsigned open;         /* connections admitted and not yet closed */
  unsigned long refused; /* over a limit, since the start */
  unsigned long cut;     /* past their request deadline, since the start */
  unsigned min_load, max_load; /* fewest and most connections of a worker */
};

/* workers >= 1; max_open and max_per_ip >= 1. */
ob_status ob_conns_init(struct ob_conns *t, unsigned workers, unsigned max_open,
                        unsigned max_per_ip) OB_WUR;
/* Frees every record; no other call may run. */
void ob_conns_free(struct ob_conns *t);

/* Admits socket fd from address sa (AF_INET or AF_INET6; others count as
 * one address) with its request deadline. On OB_OK *worker is the worker
 * with the fewest connections, now counted one more. OB_ETOOBIG when the
 * total or the address's limit is reached (counted as refused);
 * OB_ENOMEM. On error nothing is kept and the caller closes fd. */
ob_status ob_conns_admit(struct ob_conns *t, int fd, const struct sockaddr *sa, double deadline,
                         unsigned *worker) OB_WUR;
/* The worker refused the admitted socket fd: its record is freed. */
void ob_conns_drop_fd(struct ob_conns *t, int fd);
/* libmicrohttpd started serving fd: its record, borrowed until
 * ob_conns_closed(); NULL if fd was not admitted. */
struct ob_conn *ob_conns_started(struct ob_conns *t, int fd);
/* The connection closed (its socket still open): the record is freed. */
void ob_conns_closed(struct ob_conns *t, struct ob_conn *c);
/* c may be NULL (a no-op). */
void ob_conns_set_deadline(struct ob_conns *t, struct ob_conn *c, double deadline);
/* Shuts down (SHUT_RDWR) the socket of every connection past its
 * deadline at time now, once; returns how many this call. */
unsigned ob_conns_cut_late(struct ob_conns *t, double now);
void ob_conns_stats(struct ob_conns *t, struct ob_conns_stats *st);

#endif
