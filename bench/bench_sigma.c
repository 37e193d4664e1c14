/* bench_sigma: Sigma evaluation speed, one thread, no I/O.
 *
 * Loads the rules of every directory given (e.g. rules/ and the output of
 * scripts/gen-bench-rules.sh), parses a pool of realistic events from
 * bench/evgen.c (half Windows JSON, half syslog; a small fraction crafted to
 * hit), then times mw_sigma_match over the pool for a few rounds and prints
 * nanoseconds per event. Not part of `make test` (nothing there is timed).
 *
 * Usage: bench_sigma [--events N] [--rounds R] [--hit-ratio X] [--bench-rules K] DIR...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evgen.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

static int count_emit(void *ctx, const mw_detection_t *d)
{
    (void)d;
    ++*(size_t *)ctx;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int build_events(struct evgen *g, enum evgen_format fmt, size_t n, double hit,
                        mw_event_t **evs, size_t *nev)
{
    struct evpool p;
    if (evpool_build(&p, g, fmt, n, hit) != 0)
        return -1;
    for (size_t i = 0; i < p.n; i++) {
        const char *line = p.data + p.off[i];
        size_t len = p.off[i + 1] - p.off[i] - 1; /* without '\n' */
        enum mw_reject why;
        mw_event_t *ev = NULL;
        if (mw_ingest_parse_line(line, len, MW_SRC_REPLAY, "10.0.0.1", &ev, &why, NULL, 0) == 0)
            evs[(*nev)++] = ev;
    }
    evpool_free(&p);
    return 0;
}

/* Times rounds over evs[0..n); returns ns per event. */
static double run(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc, mw_event_t **evs, size_t n,
                  int rounds, size_t *hits)
{
    double t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++)
            if (mw_sigma_match(rs, sc, evs[i], count_emit, hits) != 0) {
                fprintf(stderr, "match failed\n");
                exit(1);
            }
    return (now_s() - t0) * 1e9 / ((double)n * rounds);
}

int main(int argc, char **argv)
{
    size_t nevents = 20000, nbench = 100;
    int rounds = 20;
    double hit = 0.01;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    int ndirs = 0;
    mw_log_set_level(MW_LOG_WARN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            nevents = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hit-ratio") && i + 1 < argc)
            hit = atof(argv[++i]);
        else if (!strcmp(argv[i], "--bench-rules") && i + 1 < argc)
            nbench = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] == '-') {
            fprintf(stderr,
                    "usage: %s [--events N] [--rounds R] [--hit-ratio X] [--bench-rules K] "
                    "DIR...\n",
                    argv[0]);
            return 2;
        } else {
            size_t nerr = 0;
            if (mw_sigma_load_dir(rs, argv[i], &nerr) != 0) {
                fprintf(stderr, "%s: %s\n", argv[i], mw_sigma_last_error(rs));
                return 1;
            }
            if (nerr)
                fprintf(stderr, "%s: %zu rules refused\n", argv[i], nerr);
            ndirs++;
        }
    }
    if (!ndirs || rounds < 1 || nevents < 2) {
        fprintf(stderr, "give at least one rules directory\n");
        return 2;
    }
    mw_event_t **evs = calloc(nevents, sizeof(*evs));
    size_t njson = 0, nsys = 0;
    struct evgen g;
    evgen_init(&g, 7, (uint32_t)nbench);
    if (!evs || build_events(&g, EVGEN_JSON, nevents / 2, hit, evs, &njson) ||
        build_events(&g, EVGEN_SYSLOG, nevents - nevents / 2, hit, evs + njson, &nsys)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    size_t fields = 0;
    for (size_t i = 0; i < njson + nsys; i++)
        fields += evs[i]->nfields;
    mw_sigma_scratch_t *sc = NULL;
    if (mw_sigma_scratch_new(rs, &sc) != 0)
        return 1;
    size_t warm = 0, hj = 0, hs = 0, ha = 0;
    run(rs, sc, evs, njson + nsys, 1, &warm);
    double ns_json = run(rs, sc, evs, njson, rounds, &hj);
    double ns_sys = run(rs, sc, evs + njson, nsys, rounds, &hs);
    double ns_all = run(rs, sc, evs, njson + nsys, rounds, &ha);
    printf("{\"rules\": %zu, \"events\": %zu, \"avg_fields\": %.1f, \"rounds\": %d, "
           "\"ns_per_event\": %.0f, \"ns_per_event_json\": %.0f, \"ns_per_event_syslog\": %.0f, "
           "\"events_per_s\": %.0f, \"detections_per_round\": %zu}\n",
           mw_sigma_count(rs), njson + nsys, (double)fields / (double)(njson + nsys), rounds,
           ns_all, ns_json, ns_sys, 1e9 / ns_all, ha / (size_t)rounds);
    for (size_t i = 0; i < njson + nsys; i++)
        mw_event_free(evs[i]);
    free(evs);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
    return 0;
}
