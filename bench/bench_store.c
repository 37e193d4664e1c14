/* bench_store: how many events/s the store's writer sustains.
 *
 *   bench_store [EVENTS [BATCH [HIT_PERCENT]]]     defaults 400000 4096 1
 *
 * Builds BATCH realistic events (bench/evgen.c: syslog and JSON lines,
 * 200-400 bytes) once, then writes EVENTS of them through the public store
 * API exactly as the pipeline's writer does: begin, put_event for each, and
 * for HIT_PERCENT of them a threat update and a detection link, commit. The
 * database lives in a fresh directory under $MW_BENCH_TMP (default /tmp) and
 * is deleted afterwards. Prints events/s and per-commit latency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evgen.h"
#include "mwrasp/log.h"
#include "mwrasp/store.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void rm_db(const char *path)
{
    char p[600];

    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 400000;
    long batch = argc > 2 ? atol(argv[2]) : 4096;
    long hitpct = argc > 3 ? atol(argv[3]) : 1;
    const char *base = getenv("MW_BENCH_TMP");
    char dir[512], path[560], buf[EVGEN_MAX];
    mw_event_t **evs = NULL;
    double *lat = NULL;
    mw_store_t *s = NULL;
    mw_threat_t t;
    mw_detection_t d;
    struct evgen g;
    struct stat sb;
    long nbatches, done = 0, hits = 0;
    double t0, t1;
    int rc = 1;

    if (total <= 0 || batch <= 0 || batch > 1000000 || hitpct < 0 || hitpct > 100) {
        fprintf(stderr, "usage: bench_store [EVENTS [BATCH [HIT_PERCENT]]]\n");
        return 2;
    }
    mw_log_set_level(MW_LOG_WARN);
    snprintf(dir, sizeof dir, "%s/mw-bench-store-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/bench.db", dir);

    evgen_init(&g, 42, 0);
    evs = calloc((size_t)batch, sizeof *evs);
    nbatches = (total + batch - 1) / batch;
    lat = calloc((size_t)nbatches, sizeof *lat);
    if (!evs || !lat)
        goto out;
    for (long i = 0; i < batch; i++) {
        size_t n = evgen_next(&g, (i & 1) ? EVGEN_JSON : EVGEN_SYSLOG, 0, buf, sizeof buf);

        evs[i] = mw_event_new((i & 1) ? MW_SRC_JSON_TCP : MW_SRC_SYSLOG_TCP, buf, n);
        if (!evs[i] || mw_event_set_host(evs[i], g.host, strlen(g.host)) != 0 ||
            mw_event_set_category(evs[i], "auth", 4) != 0)
            goto out;
    }
    if (mw_store_open(path, &s) != 0)
        goto out;

    memset(&t, 0, sizeof t);
    snprintf(t.rule_id, sizeof t.rule_id, "bench-rule");
    snprintf(t.detector, sizeof t.detector, "sigma");
    snprintf(t.title, sizeof t.title, "Bench threat");
    snprintf(t.type, sizeof t.type, "credential-access");
    snprintf(t.threat_class, sizeof t.threat_class, "signature");
    snprintf(t.host, sizeof t.host, "bench-host");
    t.severity = 3;
    t.confidence = 0.7;
    t.count = 0;
    memset(&d, 0, sizeof d);
    snprintf(d.detector, sizeof d.detector, "sigma");
    snprintf(d.rule_id, sizeof d.rule_id, "bench-rule");

    t0 = now_s();
    for (long b = 0; b < nbatches; b++) {
        long n = total - done < batch ? total - done : batch;
        double bs = now_s();

        if (mw_store_begin(s) != 0)
            goto out;
        for (long i = 0; i < n; i++) {
            mw_event_t *ev = evs[i];

            ev->ingest_ns = mw_now_realtime_ns();
            if (mw_store_put_event(s, ev) != 0)
                goto out;
            if (hitpct && (done + i) % (100 / hitpct) == 0) {
                t.count++;
                t.last_seen_ns = ev->ingest_ns;
                if (t.id == 0)
                    t.first_seen_ns = ev->ingest_ns;
                if (mw_store_put_threat(s, &t) != 0 ||
                    mw_store_put_detection(s, t.id, ev->id, &d, ev->ingest_ns) != 0)
                    goto out;
                hits++;
            }
        }
        if (mw_store_commit(s) != 0)
            goto out;
        done += n;
        lat[b] = now_s() - bs;
    }
    t1 = now_s();

    qsort(lat, (size_t)nbatches, sizeof *lat, cmp_double);
    printf("bench_store: %ld events in %ld batches of %ld, %ld detections\n", done, nbatches, batch,
           hits);
    printf("bench_store: %.0f events/s (%.3f s)\n", (double)done / (t1 - t0), t1 - t0);
    printf("bench_store: batch latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           lat[nbatches / 2] * 1e3, lat[(nbatches * 99) / 100] * 1e3, lat[nbatches - 1] * 1e3);
    mw_store_close(s);
    s = NULL;
    if (stat(path, &sb) == 0)
        printf("bench_store: database %.1f MiB, %.0f bytes/event\n",
               (double)sb.st_size / (1024.0 * 1024.0), (double)sb.st_size / (double)done);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench_store: failed after %ld events\n", done);
    mw_store_close(s);
    if (evs)
        for (long i = 0; i < batch; i++)
            mw_event_free(evs[i]);
    free(evs);
    free(lat);
    rm_db(path);
    rmdir(dir);
    return rc;
}
