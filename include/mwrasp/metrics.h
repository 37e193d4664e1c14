/* Process-wide counters, rendered as Prometheus text (GET /metrics) and JSON
 * (GET /api/v1/metrics). All counters are relaxed atomics: cheap to bump from
 * any thread. */
#ifndef MWRASP_METRICS_H
#define MWRASP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mwrasp/event.h"

/* Why an input was refused. Keep mw_reject_name() in sync. */
enum mw_reject {
    MW_REJ_PARSE = 0, /* malformed syslog / JSON */
    MW_REJ_TOO_LARGE, /* line or body above the cap */
    MW_REJ_UTF8, /* invalid UTF-8 where it is required */
    MW_REJ_LIMIT, /* too many fields, host too long, ... */
    MW_REJ__COUNT
};
const char *mw_reject_name(enum mw_reject r); /* "parse", "too_large", ... */

/* Latency histogram bucket upper bounds in seconds (event receipt to
 * detection committed), Prometheus "le" labels; the last is +Inf. */
#define MW_LAT_BUCKETS 14
extern const double mw_lat_bounds[MW_LAT_BUCKETS - 1];

struct mw_metrics {
    _Atomic uint64_t events_in[MW_SRC__COUNT]; /* accepted */
    _Atomic uint64_t events_dropped[MW_SRC__COUNT]; /* lost to full rings (UDP only) */
    _Atomic uint64_t events_rejected[MW_SRC__COUNT][MW_REJ__COUNT];
    _Atomic uint64_t utf8_repaired[MW_SRC__COUNT]; /* accepted, bad bytes replaced */
    _Atomic uint64_t events_stored;
    _Atomic uint64_t events_expired; /* removed by retention */
    _Atomic uint64_t detections;
    _Atomic uint64_t threats_new;
    _Atomic uint64_t threats_folded; /* detections folded into an existing threat */
    _Atomic uint64_t store_errors;
    _Atomic uint64_t store_batches;
    _Atomic uint64_t rules_loaded;
    _Atomic uint64_t rule_errors; /* rule files refused */
    _Atomic uint64_t rule_reloads;
    _Atomic uint64_t api_requests;
    _Atomic uint64_t api_errors_4xx;
    _Atomic uint64_t api_errors_5xx;
    _Atomic uint64_t api_bad_body; /* bodies that were not JSON */
    _Atomic uint64_t lat_bucket[MW_LAT_BUCKETS];
    _Atomic uint64_t lat_sum_ns;
    _Atomic uint64_t lat_count;
};

extern struct mw_metrics mw_metrics;

#define MW_INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#define MW_ADD(c, n) atomic_fetch_add_explicit(&(c), (n), memory_order_relaxed)
#define MW_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* Records one event-to-commit latency. */
void mw_metrics_observe_latency(uint64_t ns);

/* Renders all counters in Prometheus text exposition format 0.0.4 into a
 * malloc'd NUL-terminated string (caller frees). extra, if not NULL, is
 * appended verbatim (gauges from the pipeline). NULL on allocation failure. */
char *mw_metrics_prometheus(const char *extra);

#endif
