/* metrics.c - counters for /metrics; see metrics.h. */
#include "metrics.h"

#include <string.h>

static const char *const route_names[OB_RT_N] = {
    "search", "answer", "docs", "categories", "healthz", "metrics", "static", "other",
    "lessons", "faults",
};

static const unsigned statuses[OB_MS_N] = {200, 304, 400, 404, 405, 413, 414, 431, 500, 503, 0,
                                           201, 401, 403, 409};

static const double bounds[OB_MB_N] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

const char *ob_route_name(enum ob_route r)
{
  return (unsigned)r < OB_RT_N ? route_names[r] : "other";
}

void ob_metrics_init(struct ob_metrics *m)
{
  for (int r = 0; r < OB_RT_N; r++) {
    for (int i = 0; i <= OB_MS_N; i++)
      atomic_init(&m->count[r][i], 0);
    for (int i = 0; i <= OB_MB_N; i++)
      atomic_init(&m->bucket[r][i], 0);
    atomic_init(&m->sum_us[r], 0);
  }
}

void ob_metrics_observe(struct ob_metrics *m, enum ob_route r, unsigned status, double ms)
{
  if ((unsigned)r >= OB_RT_N)
    r = OB_RT_OTHER;
  int si = OB_MS_N; /* other */
  for (int i = 0; i < OB_MS_N; i++)
    if (statuses[i] == status)
      si = i;
  atomic_fetch_add_explicit(&m->count[r][si], 1, memory_order_relaxed);
  double sec = ms / 1000.0;
  int bi = OB_MB_N; /* +Inf */
  for (int i = 0; i < OB_MB_N; i++)
    if (sec <= bounds[i]) {
      bi = i;
      break;
    }
  atomic_fetch_add_explicit(&m->bucket[r][bi], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->sum_us[r], (unsigned long)(ms * 1000.0), memory_order_relaxed);
}

ob_status ob_metrics_render(struct ob_metrics *m, const struct ob_metrics_index *ix, ob_buf *out)
{
  ob_status st = ob_buf_puts(out, "# HELP opsbook_http_requests_total HTTP requests by route "
                                  "and status (status 0: no response was sent).\n"
                                  "# TYPE opsbook_http_requests_total counter\n");
  for (int r = 0; r < OB_RT_N && !st; r++)
    for (int i = 0; i <= OB_MS_N && !st; i++) {
      unsigned long v = atomic_load_explicit(&m->count[r][i], memory_order_relaxed);
      if (!v)
        continue;
      if (i < OB_MS_N)
        st = ob_buf_printf(out, "opsbook_http_requests_total{route=\"%s\",status=\"%u\"} %lu\n",
                           route_names[r], statuses[i], v);
      else
        st = ob_buf_printf(out, "opsbook_http_requests_total{route=\"%s\",status=\"other\"} %lu\n",
                           route_names[r], v);
    }
  if (!st)
    st = ob_buf_puts(out, "# HELP opsbook_http_request_duration_seconds Time from the request "
                          "line to the last byte queued.\n"
                          "# TYPE opsbook_http_request_duration_seconds histogram\n");
  for (int r = 0; r < OB_RT_N && !st; r++) {
    unsigned long cum = 0, any = 0;
    for (int i = 0; i <= OB_MB_N; i++)
      any += atomic_load_explicit(&m->bucket[r][i], memory_order_relaxed);
    if (!any)
      continue; /* a route never asked for: no series */
    for (int i = 0; i <= OB_MB_N && !st; i++) {
      cum += atomic_load_explicit(&m->bucket[r][i], memory_order_relaxed);
      if (i < OB_MB_N)
        st = ob_buf_printf(out,
                           "opsbook_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                           "%lu\n",
                           route_names[r], bounds[i], cum);
      else
        st = ob_buf_printf(out,
                           "opsbook_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                           "%lu\n"
                           "opsbook_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                           "opsbook_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                           route_names[r], cum, route_names[r],
                           (double)atomic_load_explicit(&m->sum_us[r], memory_order_relaxed) / 1e6,
                           route_names[r], cum);
    }
  }
  if (!st && ix && ix->name)
    st = ob_buf_printf(out,
                       "# HELP opsbook_index_documents Handbook documents in the live index.\n"
                       "# TYPE opsbook_index_documents gauge\n"
                       "opsbook_index_documents %lu\n"
                       "# HELP opsbook_index_entries Indexed sections (Xapian documents).\n"
                       "# TYPE opsbook_index_entries gauge\n"
                       "opsbook_index_entries %lu\n"
                       "# HELP opsbook_index_generation The live index folder and revision.\n"
                       "# TYPE opsbook_index_generation gauge\n"
                       "opsbook_index_generation{name=\"%s\",revision=\"%lu\"} 1\n"
                       "# HELP opsbook_index_revision Revision of the live index.\n"
                       "# TYPE opsbook_index_revision gauge\n"
                       "opsbook_index_revision %lu\n",
                       ix->docs, ix->entries, ix->name, ix->revision, ix->revision);
  return st;
}
