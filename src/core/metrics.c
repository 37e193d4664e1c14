/* Process-wide counters and their Prometheus text rendering
 * (exposition format 0.0.4). */
#include "mwrasp/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mw_metrics mw_metrics;

/* Upper bounds in seconds; the last bucket is +Inf. */
const double mw_lat_bounds[MW_LAT_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

static const char *const reject_names[MW_REJ__COUNT] = {"parse", "too_large", "utf8", "limit"};

const char *mw_reject_name(enum mw_reject r)
{
    return (unsigned)r < MW_REJ__COUNT ? reject_names[r] : "unknown";
}

void mw_metrics_observe_latency(uint64_t ns)
{
    double s = (double)ns / 1e9;
    int b = 0;
    while (b < MW_LAT_BUCKETS - 1 && s > mw_lat_bounds[b])
        b++;
    MW_INC(mw_metrics.lat_bucket[b]);
    MW_ADD(mw_metrics.lat_sum_ns, ns);
    MW_INC(mw_metrics.lat_count);
}

/* A growable string with a hard cap (1 MiB: the whole exposition is far
 * smaller). On allocation failure or cap it sets failed. */
struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 8192;
        while (ncap < b->len + (size_t)n + 1)
            ncap *= 2;
        if (ncap > (1u << 20)) {
            b->failed = 1;
            return;
        }
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

static void counter(struct sbuf *b, const char *name, const char *help, uint64_t v)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
              (unsigned long long)v);
}

char *mw_metrics_prometheus(const char *extra)
{
    struct sbuf b = {0};
    struct mw_metrics *m = &mw_metrics;

    sb_printf(&b, "# HELP mwrasp_events_received_total Events accepted, per ingest source.\n"
                  "# TYPE mwrasp_events_received_total counter\n");
    for (int s = 0; s < MW_SRC__COUNT; s++)
        sb_printf(&b, "mwrasp_events_received_total{source=\"%s\"} %llu\n", mw_source_name(s),
                  (unsigned long long)MW_GET(m->events_in[s]));
    sb_printf(&b, "# HELP mwrasp_events_dropped_total Events lost because the rings were full "
                  "(UDP only; TCP and HTTP slow the sender instead).\n"
                  "# TYPE mwrasp_events_dropped_total counter\n");
    for (int s = 0; s < MW_SRC__COUNT; s++)
        sb_printf(&b, "mwrasp_events_dropped_total{source=\"%s\"} %llu\n", mw_source_name(s),
                  (unsigned long long)MW_GET(m->events_dropped[s]));
    sb_printf(&b, "# HELP mwrasp_events_rejected_total Inputs refused, per source and reason.\n"
                  "# TYPE mwrasp_events_rejected_total counter\n");
    for (int s = 0; s < MW_SRC__COUNT; s++)
        for (int r = 0; r < MW_REJ__COUNT; r++)
            sb_printf(&b, "mwrasp_events_rejected_total{source=\"%s\",reason=\"%s\"} %llu\n",
                      mw_source_name(s), mw_reject_name(r),
                      (unsigned long long)MW_GET(m->events_rejected[s][r]));
    sb_printf(&b, "# HELP mwrasp_utf8_repaired_total Events accepted with invalid UTF-8 bytes "
                  "replaced in field values.\n# TYPE mwrasp_utf8_repaired_total counter\n");
    for (int s = 0; s < MW_SRC__COUNT; s++)
        sb_printf(&b, "mwrasp_utf8_repaired_total{source=\"%s\"} %llu\n", mw_source_name(s),
                  (unsigned long long)MW_GET(m->utf8_repaired[s]));

    counter(&b, "mwrasp_events_stored_total", "Events committed to the store.",
            MW_GET(m->events_stored));
    counter(&b, "mwrasp_events_expired_total", "Events removed by retention.",
            MW_GET(m->events_expired));
    counter(&b, "mwrasp_detections_total", "Detections (a detector firing on an event).",
            MW_GET(m->detections));
    counter(&b, "mwrasp_threats_created_total", "New threats opened.", MW_GET(m->threats_new));
    counter(&b, "mwrasp_threats_folded_total",
            "Detections folded into an existing threat (same rule and host within the window).",
            MW_GET(m->threats_folded));
    counter(&b, "mwrasp_store_errors_total", "Store operations that failed.",
            MW_GET(m->store_errors));
    counter(&b, "mwrasp_store_batches_total", "Write batches committed.", MW_GET(m->store_batches));
    counter(&b, "mwrasp_rule_errors_total", "Rules refused (syntax or unsupported).",
            MW_GET(m->rule_errors));
    counter(&b, "mwrasp_rule_reloads_total", "Successful rule reloads.", MW_GET(m->rule_reloads));
    counter(&b, "mwrasp_api_requests_total", "HTTP API requests.", MW_GET(m->api_requests));
    counter(&b, "mwrasp_api_client_errors_total", "HTTP API answers with a 4xx status.",
            MW_GET(m->api_errors_4xx));
    counter(&b, "mwrasp_api_server_errors_total", "HTTP API answers with a 5xx status.",
            MW_GET(m->api_errors_5xx));
    counter(&b, "mwrasp_api_bad_body_total", "HTTP request bodies that were not valid JSON.",
            MW_GET(m->api_bad_body));
    sb_printf(&b,
              "# HELP mwrasp_rules_loaded Rules currently loaded.\n"
              "# TYPE mwrasp_rules_loaded gauge\nmwrasp_rules_loaded %llu\n",
              (unsigned long long)MW_GET(m->rules_loaded));

    sb_printf(&b, "# HELP mwrasp_event_latency_seconds Time from receipt of an event to the "
                  "commit of its batch (detections and threats included).\n"
                  "# TYPE mwrasp_event_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < MW_LAT_BUCKETS; i++) {
        cum += MW_GET(m->lat_bucket[i]);
        if (i < MW_LAT_BUCKETS - 1)
            sb_printf(&b, "mwrasp_event_latency_seconds_bucket{le=\"%g\"} %llu\n", mw_lat_bounds[i],
                      (unsigned long long)cum);
        else
            sb_printf(&b, "mwrasp_event_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                      (unsigned long long)cum);
    }
    sb_printf(&b,
              "mwrasp_event_latency_seconds_sum %.9f\nmwrasp_event_latency_seconds_count %llu\n",
              (double)MW_GET(m->lat_sum_ns) / 1e9, (unsigned long long)MW_GET(m->lat_count));
    if (extra)
        sb_printf(&b, "%s", extra);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
