/*
 * http/metrics: the numbers behind /metrics, in the Prometheus text exposition format 0.0.4.
 * Per server: requests counted by route, method and status, a latency histogram per route and
 * method, and the number of requests in flight. Process-wide: the process start time and the
 * counters that any module adds with hpf_http_metric_add() (declared in http/server.h).
 *
 * Every label set is bounded: routes come from the table, methods are folded into eight names
 * (GET HEAD POST PUT PATCH DELETE OPTIONS OTHER), statuses are 100..599, and at most
 * HPF_METRICS_MAX_CUSTOM custom series exist. All functions are thread-safe.
 */
#ifndef HPF_HTTP_METRICS_H
#define HPF_HTTP_METRICS_H

#include "base/buf.h"

#include <stddef.h>

#define HPF_METRICS_MAX_CUSTOM 1024

typedef struct hpf_metrics hpf_metrics;

/* New per-server metrics with `n` slots; slot i is labelled route="labels[i]" (copied). */
hpf_metrics *hpf_metrics_new(const char *const *labels, size_t n);
void hpf_metrics_free(hpf_metrics *m);

/* Count one finished request in `slot` (< n) with its status and duration in seconds. */
void hpf_metrics_observe(hpf_metrics *m, size_t slot, const char *method, int status,
                         double seconds);

/* Requests in flight: add +1 when one starts and -1 when it ends; read the current value. */
void hpf_metrics_in_flight_add(hpf_metrics *m, long delta);
long hpf_metrics_in_flight(const hpf_metrics *m);

/* Append the whole exposition (this server's series, then the process-wide ones) to `out`.
 * Returns 0 or HPF_ETOOBIG when `out` reaches its maximum. */
int hpf_metrics_render(hpf_metrics *m, hpf_buf *out);

#endif
