/* conns.c - admission, worker choice and deadlines of open connections
 * (see conns.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "conns.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Open connections from one address. */
struct ob_conn_ip {
  struct ob_conn_ip *next; /* the same bucket */
  unsigned char key[17];   /* family tag, then 4 or 16 address bytes */
  unsigned n;
};

static unsigned bucket_fd(int fd)
{
  return (unsigned)fd % OB_CONNS_BUCKETS;
}

static void ip_key(const struct sockaddr *sa, unsigned char key[17])
{
  memset(key, 0, 17);
  if (sa && sa->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
  } else if (sa && sa->sa_family == AF_INET6) {
    key[0] = 6;
    memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
  }
}

static unsigned bucket_ip(const unsigned char key[17])
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (int i = 0; i < 17; i++)
    h = (h ^ key[i]) * 16777619u;
  return h % OB_CONNS_BUCKETS;
}

ob_status ob_conns_init(struct ob_conns *t, unsigned workers, unsigned max_open,
                        unsigned max_per_ip)
{
  memset(t, 0, sizeof *t);
  if (!workers || !max_open || !max_per_ip)
    return OB_EINPUT;
  if (!(t->load = calloc(workers, sizeof *t->load)))
    return OB_ENOMEM;
  t->workers = workers;
  t->max_open = max_open;
  t->max_per_ip = max_per_ip;
  pthread_mutex_init(&t->mu, NULL);
  return OB_OK;
}

/* Unlinks c everywhere and frees it; under t->mu. */
static void forget(struct ob_conns *t, struct ob_conn *c)
{
  struct ob_conn **pp = &t->by_fd[bucket_fd(c->fd)];
  while (*pp && *pp != c)
    pp = &(*pp)->fd_next;
  if (*pp)
    *pp = c->fd_next;
  if (c->prev)
    c->prev->next = c->next;
  else
    t->all = c->next;
  if (c->next)
    c->next->prev = c->prev;
  struct ob_conn_ip *ip = c->ip;
  if (ip && --ip->n == 0) {
    struct ob_conn_ip **ipp = &t->by_ip[bucket_ip(ip->key)];
    while (*ipp && *ipp != ip)
      ipp = &(*ipp)->next;
    if (*ipp)
      *ipp = ip->next;
    free(ip);
  }
  t->load[c->worker]--;
  t->open--;
  free(c);
}

static struct ob_conn *find_fd(struct ob_conns *t, int fd)
{
  struct ob_conn *c = t->by_fd[bucket_fd(fd)];
  while (c && c->fd != fd)
    c = c->fd_next;
  return c;
}

void ob_conns_free(struct ob_conns *t)
{
  if (!t->load)
    return;
  while (t->all)
    forget(t, t->all);
  free(t->load);
  t->load = NULL;
  pthread_mutex_destroy(&t->mu);
}

ob_status ob_conns_admit(struct ob_conns *t, int fd, const struct sockaddr *sa, double deadline,
                         unsigned *worker)
{
  unsigned char key[17];
  ob_status st = OB_OK;
  ip_key(sa, key);
  unsigned b = bucket_ip(key);
  pthread_mutex_lock(&t->mu);
  struct ob_conn *old = find_fd(t, fd);
  if (old) /* its close was never reported: the number is free again */
    forget(t, old);
  struct ob_conn_ip *ip = t->by_ip[b];
  while (ip && memcmp(ip->key, key, sizeof key))
    ip = ip->next;
  if (t->open >= t->max_open || (ip && ip->n >= t->max_per_ip)) {
    t->refused++;
    st = OB_ETOOBIG;
    goto out;
  }
  struct ob_conn *c = calloc(1, sizeof *c);
  if (!c) {
    st = OB_ENOMEM;
    goto out;
  }
  if (!ip) {
    if (!(ip = calloc(1, sizeof *ip))) {
      free(c);
      st = OB_ENOMEM;
      goto out;
    }
    memcpy(ip->key, key, sizeof key);
    ip->next = t->by_ip[b];
    t->by_ip[b] = ip;
  }
  ip->n++;
  unsigned w = 0;
  for (unsigned i = 1; i < t->workers; i++)
    if (t->load[i] < t->load[w])
      w = i;
  t->load[w]++;
  t->open++;
  c->ip = ip;
  c->fd = fd;
  c->worker = w;
  c->deadline = deadline;
  c->fd_next = t->by_fd[bucket_fd(fd)];
  t->by_fd[bucket_fd(fd)] = c;
  c->next = t->all;
  if (t->all)
    t->all->prev = c;
  t->all = c;
  *worker = w;
out:
  pthread_mutex_unlock(&t->mu);
  return st;
}

void ob_conns_drop_fd(struct ob_conns *t, int fd)
{
  pthread_mutex_lock(&t->mu);
  struct ob_conn *c = find_fd(t, fd);
  if (c)
    forget(t, c);
  pthread_mutex_unlock(&t->mu);
}

struct ob_conn *ob_conns_started(struct ob_conns *t, int fd)
{
  pthread_mutex_lock(&t->mu);
  struct ob_conn *c = find_fd(t, fd);
  pthread_mutex_unlock(&t->mu);
  return c;
}

void ob_conns_closed(struct ob_conns *t, struct ob_conn *c)
{
  pthread_mutex_lock(&t->mu);
  /* a record dropped meanwhile (its number admitted again) is not c any more */
  if (find_fd(t, c->fd) == c)
    forget(t, c);
  pthread_mutex_unlock(&t->mu);
}

void ob_conns_set_deadline(struct ob_conns *t, struct ob_conn *c, double deadline)
{
  if (!c)
    return;
  pthread_mutex_lock(&t->mu);
  c->deadline = deadline;
  pthread_mutex_unlock(&t->mu);
}

unsigned ob_conns_cut_late(struct ob_conns *t, double now)
{
  unsigned n = 0;
  pthread_mutex_lock(&t->mu);
  for (struct ob_conn *c = t->all; c; c = c->next) {
    if (c->cut || c->deadline == 0 || now < c->deadline)
      continue;
    /* the descriptor stays valid: the closed report, which frees c under
     * this mutex, comes before libmicrohttpd closes it */
    (void)shutdown(c->fd, SHUT_RDWR);
    c->cut = 1;
    n++;
  }
  t->cut += n;
  pthread_mutex_unlock(&t->mu);
  return n;
}

void ob_conns_stats(struct ob_conns *t, struct ob_conns_stats *st)
{
  pthread_mutex_lock(&t->mu);
  st->open = t->open;
  st->refused = t->refused;
  st->cut = t->cut;
  st->min_load = st->max_load = t->load[0];
  for (unsigned i = 1; i < t->workers; i++) {
    if (t->load[i] < st->min_load)
      st->min_load = t->load[i];
    if (t->load[i] > st->max_load)
      st->max_load = t->load[i];
  }
  pthread_mutex_unlock(&t->mu);
}
