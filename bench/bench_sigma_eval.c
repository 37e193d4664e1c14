/* bench_sigma_eval: Sigma evaluation throughput over real Windows events.
 *
 * Loads a rules directory (e.g. the 2407 SigmaHQ Windows rules), reads every
 * *.jsonl file under an events path (sorted, recursively), and then, on N
 * threads, runs the events through the rules again and again until at least
 * --seconds of wall time have passed. Each thread has its own scratch and
 * takes the events i with i % N == thread, so the work is spread evenly.
 *
 * Modes:
 *   e2e    (default) per event: mw_jsonl_parse of the line, mw_sigma_match,
 *          mw_event_free; what `mwrasp sigma eval` does minus its output.
 *   match  events parsed once before the clock starts; only mw_sigma_match.
 *   parse  mw_jsonl_parse + mw_event_free only, no rules run (the parsing
 *          share of e2e).
 * --cold gives every pass over the events a new scratch, so that its caches
 * (field layouts, scan memo) start empty each time: the figure of one pass
 * over events never seen before, rather than of the same events repeated.
 * --no-prefilter evaluates every rule on every event (sg_disable_prefilter),
 * to measure what the prefilter saves.
 *
 * Prints one JSON object: rules loaded/refused, events, threads, wall and CPU
 * seconds, events processed, events/s (wall), CPU us per event, matches in
 * one pass over the events, resident memory after loading and at the peak
 * (getrusage). Not part of `make test`: bench/bench_sigma_eval.sh runs it.
 *
 * Usage: bench_sigma_eval --rules DIR --events PATH [--threads N]
 *                         [--seconds S] [--mode e2e|match|parse] [--no-prefilter] [--cold]
 */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "detect/sigma_internal.h" /* sg_disable_prefilter (bench knob) */
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

#define MAX_THREADS 64
#define EV_MAX_INPUT (1ull << 30) /* bytes of events read, in all */
#define MAX_FILES 100000
#define MAX_DEPTH 32

/* ---- the events: all lines of all files, in one buffer ---- */
struct lines {
    char *buf;
    size_t len, cap;
    size_t *off; /* line i is buf[off[i] .. off[i+1]-1), '\n' excluded */
    size_t n, offcap;
    size_t files;
};

static int append_file(struct lines *L, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        L->len + (size_t)st.st_size + 1 > EV_MAX_INPUT) {
        fclose(f);
        return -1;
    }
    size_t need = L->len + (size_t)st.st_size + 2;
    if (need > L->cap) {
        size_t nc = L->cap ? L->cap : 1 << 20;
        while (nc < need)
            nc *= 2;
        char *nb = realloc(L->buf, nc);
        if (!nb) {
            fclose(f);
            return -1;
        }
        L->buf = nb;
        L->cap = nc;
    }
    size_t got = fread(L->buf + L->len, 1, (size_t)st.st_size, f);
    fclose(f);
    size_t start = L->len;
    L->len += got;
    if (got && L->buf[L->len - 1] != '\n')
        L->buf[L->len++] = '\n';
    L->files++;
    /* record line starts (blank lines skipped) */
    for (size_t i = start; i < L->len;) {
        char *nl = memchr(L->buf + i, '\n', L->len - i);
        size_t end = (size_t)(nl - L->buf);
        if (end > i) {
            if (L->n + 2 > L->offcap) {
                size_t nc = L->offcap ? L->offcap * 2 : 4096;
                size_t *no = realloc(L->off, nc * sizeof(*no));
                if (!no)
                    return -1;
                L->off = no;
                L->offcap = nc;
            }
            L->off[L->n++] = i;
            L->off[L->n] = end + 1;
        }
        i = end + 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

/* Appends every *.jsonl under path (a file or a directory), sorted. */
static int load_events(struct lines *L, const char *path, int depth)
{
    struct stat st;
    if (depth > MAX_DEPTH || stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return L->files >= MAX_FILES ? -1 : append_file(L, path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof(*nn));
            if (!nn) {
                rc = -1;
                goto out;
            }
            names = nn;
            cap = nc;
        }
        if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0) {
            rc = -1;
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat cs;
        if (stat(names[i], &cs) != 0)
            continue;
        if (S_ISDIR(cs.st_mode))
            rc = load_events(L, names[i], depth + 1);
        else if (ends_with(names[i], ".jsonl"))
            rc = L->files >= MAX_FILES ? -1 : append_file(L, names[i]);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* ---- the timed run ---- */
struct shared {
    const mw_sigma_ruleset_t *rs;
    const struct lines *L;
    mw_event_t **evs; /* match mode: parsed events (NULL where parsing failed) */
    int nthreads, e2e, parse_only;
    int cold; /* a new scratch (empty caches and scan memo) for every pass */
    double seconds;
    struct timespec start;
};

struct worker {
    pthread_t tid;
    int id;
    const struct shared *sh;
    uint64_t processed; /* events run through the rules */
    uint64_t matches_first_pass; /* (event, rule) matches in the first pass */
    uint64_t parse_errors_first_pass;
    double cpu_s, wall_end_s;
    int rc;
};

static double ts_diff(struct timespec a, struct timespec b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_emit(void *ctx, const mw_detection_t *d)
{
    (void)d;
    ++*(uint64_t *)ctx;
    return 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    const struct shared *sh = w->sh;
    mw_sigma_scratch_t *sc = NULL;
    w->rc = mw_sigma_scratch_new(sh->rs, &sc);
    if (w->rc)
        return NULL;
    double c0 = thread_cpu_s();
    struct timespec now;
    for (int pass = 0;; pass++) {
        uint64_t m = 0, perr = 0;
        if (pass > 0 && sh->cold) { /* every pass as the first one */
            mw_sigma_scratch_free(sc);
            sc = NULL;
            if ((w->rc = mw_sigma_scratch_new(sh->rs, &sc)))
                goto out;
        }
        for (size_t i = (size_t)w->id; i < sh->L->n; i += (size_t)sh->nthreads) {
            mw_event_t *ev = NULL;
            if (sh->e2e) {
                const char *line = sh->L->buf + sh->L->off[i];
                size_t len = sh->L->off[i + 1] - sh->L->off[i] - 1;
                enum mw_reject why;
                if (mw_jsonl_parse(line, len, MW_SRC_REPLAY, &ev, &why, NULL, 0) != 0) {
                    perr++;
                    continue;
                }
            } else if (!(ev = sh->evs[i])) {
                continue;
            }
            int rc = sh->parse_only ? 0 : mw_sigma_match(sh->rs, sc, ev, count_emit, &m);
            if (sh->e2e)
                mw_event_free(ev);
            if (rc) {
                w->rc = rc;
                goto out;
            }
            w->processed++;
        }
        if (pass == 0) {
            w->matches_first_pass = m;
            w->parse_errors_first_pass = perr;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts_diff(sh->start, now) >= sh->seconds)
            break;
    }
out:
    w->cpu_s = thread_cpu_s() - c0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    w->wall_end_s = ts_diff(sh->start, now);
    mw_sigma_scratch_free(sc);
    return NULL;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * 4; /* 4 KiB pages (x86-64 Linux) */
}

static void usage(const char *p)
{
    fprintf(stderr,
            "usage: %s --rules DIR --events PATH [--threads N] [--seconds S] "
            "[--mode e2e|match|parse] [--no-prefilter] [--cold] [--pipeline NAME|FILE]\n",
            p);
}

int main(int argc, char **argv)
{
    const char *rules = NULL, *events = NULL, *pipeline = NULL;
    int nthreads = 1, e2e = 1, parse_only = 0, cold = 0;
    double seconds = 10.0;
    mw_log_set_level(MW_LOG_ERROR); /* refused rules are counted, not listed */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            rules = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            const char *m = argv[++i];
            if (!strcmp(m, "e2e"))
                e2e = 1;
            else if (!strcmp(m, "match"))
                e2e = 0;
            else if (!strcmp(m, "parse"))
                parse_only = 1;
            else {
                usage(argv[0]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--pipeline") && i + 1 < argc)
            pipeline = argv[++i];
        else if (!strcmp(argv[i], "--no-prefilter"))
            sg_disable_prefilter = 1;
        else if (!strcmp(argv[i], "--cold"))
            cold = 1;
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (!rules || !events || nthreads < 1 || nthreads > MAX_THREADS || !(seconds >= 0)) {
        usage(argv[0]);
        return 2;
    }

    long rss0 = rss_kib();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 0;
    if (rs && pipeline) {
        mw_sigma_pipeline_t *p = NULL;
        char perr[512];
        if (mw_sigma_pipeline_load(pipeline, &p, perr, sizeof perr) != 0) {
            fprintf(stderr, "bench_sigma_eval: pipeline: %s\n", perr);
            return 1;
        }
        mw_sigma_ruleset_set_pipeline(rs, p);
    }
    if (!rs || mw_sigma_load_dir(rs, rules, &nerr) != 0) {
        fprintf(stderr, "bench_sigma_eval: cannot load %s: %s\n", rules,
                rs ? mw_sigma_last_error(rs) : "out of memory");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double load_s = ts_diff(t0, t1);
    long rss_rules = rss_kib();

    struct lines L = {0};
    if (load_events(&L, events, 0) != 0 || L.n == 0) {
        fprintf(stderr, "bench_sigma_eval: cannot read events from %s\n", events);
        return 1;
    }

    struct shared sh = {.rs = rs,
                        .L = &L,
                        .nthreads = nthreads,
                        .e2e = e2e,
                        .parse_only = parse_only,
                        .cold = cold,
                        .seconds = seconds};
    size_t parse_errors = 0;
    if (!e2e) {
        sh.evs = calloc(L.n, sizeof(*sh.evs));
        if (!sh.evs)
            return 1;
        for (size_t i = 0; i < L.n; i++) {
            enum mw_reject why;
            if (mw_jsonl_parse(L.buf + L.off[i], L.off[i + 1] - L.off[i] - 1, MW_SRC_REPLAY,
                               &sh.evs[i], &why, NULL, 0) != 0) {
                sh.evs[i] = NULL;
                parse_errors++;
            }
        }
    }

    struct worker ws[MAX_THREADS];
    memset(ws, 0, sizeof(ws));
    clock_gettime(CLOCK_MONOTONIC, &sh.start);
    for (int t = 0; t < nthreads; t++) {
        ws[t].id = t;
        ws[t].sh = &sh;
        if (pthread_create(&ws[t].tid, NULL, work, &ws[t]) != 0) {
            fprintf(stderr, "bench_sigma_eval: pthread_create failed\n");
            return 1;
        }
    }
    uint64_t processed = 0, matches = 0;
    double cpu = 0, wall = 0;
    int rc = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(ws[t].tid, NULL);
        processed += ws[t].processed;
        matches += ws[t].matches_first_pass;
        if (e2e)
            parse_errors += ws[t].parse_errors_first_pass;
        cpu += ws[t].cpu_s;
        if (ws[t].wall_end_s > wall)
            wall = ws[t].wall_end_s;
        if (ws[t].rc)
            rc = ws[t].rc;
    }
    if (rc) {
        fprintf(stderr, "bench_sigma_eval: mw_sigma_match failed: %d\n", rc);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    size_t re_hs = 0, re_pcre = 0;
    mw_sigma_regex_counts(rs, &re_hs, &re_pcre);
    printf("{\"mode\": \"%s\", \"prefilter\": %s, \"cold\": %s, \"threads\": %d, \"rules_loaded\": "
           "%zu, "
           "\"rules_refused\": %zu, \"regex_hs\": %zu, \"regex_pcre2_only\": %zu, "
           "\"load_seconds\": %.3f, \"files\": %zu, \"events\": %zu, "
           "\"event_bytes\": %zu, \"parse_errors\": %zu, \"matches_per_pass\": %llu, "
           "\"processed\": %llu, \"wall_seconds\": %.3f, \"cpu_seconds\": %.3f, "
           "\"events_per_s\": %.0f, \"events_per_cpu_s\": %.0f, \"us_per_event_cpu\": %.3f, "
           "\"rss_start_kib\": %ld, \"rss_rules_kib\": %ld, \"peak_rss_kib\": %ld}\n",
           parse_only ? "parse"
           : e2e      ? "e2e"
                      : "match",
           sg_disable_prefilter ? "false" : "true", cold ? "true" : "false", nthreads,
           mw_sigma_count(rs), nerr, re_hs, re_pcre, load_s, L.files, L.n, L.len, parse_errors,
           (unsigned long long)matches, (unsigned long long)processed, wall, cpu,
           wall > 0 ? (double)processed / wall : 0.0, cpu > 0 ? (double)processed / cpu : 0.0,
           processed ? cpu * 1e6 / (double)processed : 0.0, rss0, rss_rules, ru.ru_maxrss);
    if (sh.evs)
        for (size_t i = 0; i < L.n; i++)
            mw_event_free(sh.evs[i]);
    free(sh.evs);
    free(L.buf);
    free(L.off);
    mw_sigma_ruleset_free(rs);
    return 0;
}
