/* metrics.h - request counters and latency histograms for /metrics.
 *
 * Lock-free: every counter is a C11 atomic bumped by the worker that
 * finished the request. Rendered as Prometheus text format 0.0.4.
 */
#ifndef OB_SRV_METRICS_H
#define OB_SRV_METRICS_H

#include <stdatomic.h>

#include "buf.h"

enum ob_route {
  OB_RT_SEARCH,
  OB_RT_ANSWER,
  OB_RT_DOCS,
  OB_RT_CATEGORIES,
  OB_RT_HEALTHZ,
  OB_RT_METRICS,
  OB_RT_STATIC,
  OB_RT_OTHER,
  OB_RT_LESSONS, /* POST /api/docs/{id}/lessons */
  OB_RT_FAULTS,  /* POST /api/faults */
  OB_RT_N
};

/* Status codes counted by name; anything else counts as "other". */
#define OB_MS_N 15
/* Latency buckets in seconds (plus +Inf). */
#define OB_MB_N 12

struct ob_metrics {
  atomic_ulong count[OB_RT_N][OB_MS_N + 1];
  atomic_ulong bucket[OB_RT_N][OB_MB_N + 1]; /* not cumulative; summed when rendered */
  atomic_ulong sum_us[OB_RT_N];
};

/* The route's label ("search", "docs", ...). Static. */
const char *ob_route_name(enum ob_route r);

/* Zeroes every counter. */
void ob_metrics_init(struct ob_metrics *m);
/* Counts one finished request. status 0 = no response was queued. */
void ob_metrics_observe(struct ob_metrics *m, enum ob_route r, unsigned status, double ms);

/* Index facts shown next to the counters; name NULL leaves them out. */
struct ob_metrics_index {
  const char *name; /* CURRENT name */
  unsigned long revision, docs, entries;
};

/* Appends the Prometheus text to out. */
ob_status ob_metrics_render(struct ob_metrics *m, const struct ob_metrics_index *ix,
                            ob_buf *out) OB_WUR;

#endif
