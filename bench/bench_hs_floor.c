/* bench_hs_floor: how fast can Hyperscan find the SigmaHQ literals at all?
 *
 * The floor experiment of docs/internals/sigma-prefilter.md ("Where the floor
 * is"). Loads a rules directory, collects every literal value of every field
 * condition and keyword (exact, contains, startswith, endswith as plain
 * lowercased substrings; globs and regexes left out), keeps the distinct
 * ones of at least --min-len bytes (at most --max of them, in the order
 * found), compiles them into ONE caseless literal database
 * (hs_compile_lit_multi, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH), and scans
 * every line of the events (whole JSON lines, as bytes) --rounds times.
 * This is a lower bound on what finding the rules' literals in an event
 * costs with Hyperscan, before any parsing or rule evaluation. Prints one
 * JSON object: literals, compile time, bytes per line, ns per line, GB/s,
 * hits per line.
 *
 * Usage: bench_hs_floor --rules DIR --events FILE.jsonl [--min-len N]
 *                       [--max N] [--rounds R]
 */
#include <hs/hs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/sigma_internal.h"
#include "mwrasp/log.h"

#define MAX_LITS 1000000
#define MAX_INPUT (1u << 30)

static char **lit;
static size_t *litlen, nlit;

static int seen(const char *s, size_t n)
{
    for (size_t i = 0; i < nlit; i++) /* load-time only; a few seconds at most */
        if (litlen[i] == n && memcmp(lit[i], s, n) == 0)
            return 1;
    return 0;
}

static int add(const struct sg_value *v, size_t minlen, size_t max)
{
    if (v->op > SG_ENDSWITH || v->len < minlen || nlit >= max || nlit >= MAX_LITS)
        return 0;
    char *p = malloc(v->len);
    if (!p)
        return -1;
    for (uint32_t k = 0; k < v->len; k++) /* rules lowercase caseless values already */
        p[k] = v->s[k] >= 'A' && v->s[k] <= 'Z' ? (char)(v->s[k] + 32) : v->s[k];
    if (seen(p, v->len)) {
        free(p);
        return 0;
    }
    lit[nlit] = p;
    litlen[nlit++] = v->len;
    return 0;
}

static unsigned long long hits;
static int on_hit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags, (void)ctx;
    hits++;
    return 0;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *rules = NULL, *events = NULL;
    size_t minlen = 1, max = MAX_LITS;
    int rounds = 5;
    mw_log_set_level(MW_LOG_ERROR);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            rules = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = argv[++i];
        else if (!strcmp(argv[i], "--min-len") && i + 1 < argc)
            minlen = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--max") && i + 1 < argc)
            max = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else
            rules = NULL, i = argc;
    }
    if (!rules || !events || rounds < 1 || minlen < 1) {
        fprintf(stderr,
                "usage: %s --rules DIR --events FILE.jsonl [--min-len N] [--max N] "
                "[--rounds R]\n",
                argv[0]);
        return 2;
    }
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 0;
    lit = calloc(MAX_LITS, sizeof(*lit));
    litlen = calloc(MAX_LITS, sizeof(*litlen));
    if (!rs || !lit || !litlen || mw_sigma_load_dir(rs, rules, &nerr) != 0) {
        fprintf(stderr, "cannot load %s\n", rules);
        return 1;
    }
    for (size_t r = 0; r < rs->nrules; r++) {
        const struct sg_rule *ru = rs->rules[r];
        for (uint32_t s = 0; s < ru->nsels; s++) {
            const struct sg_sel *sel = &ru->sels[s];
            for (uint32_t k = 0; k < sel->nkw; k++)
                if (add(&sel->kw[k], minlen, max))
                    return 1;
            for (uint32_t m = 0; m < sel->nmaps; m++)
                for (uint32_t c = 0; c < sel->maps[m].n; c++)
                    for (uint32_t v = 0; v < sel->maps[m].conds[c].nvals; v++)
                        if (add(&sel->maps[m].conds[c].vals[v], minlen, max))
                            return 1;
        }
    }
    if (!nlit) {
        fprintf(stderr, "no literal of %zu bytes or more\n", minlen);
        return 1;
    }
    unsigned *ids = calloc(nlit, sizeof(*ids)), *flags = calloc(nlit, sizeof(*flags));
    if (!ids || !flags)
        return 1;
    for (size_t i = 0; i < nlit; i++) {
        ids[i] = (unsigned)i;
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    double t0 = cpu_s();
    if (hs_compile_lit_multi((const char *const *)lit, flags, ids, litlen, (unsigned)nlit,
                             HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
        fprintf(stderr, "hs_compile_lit_multi: %s\n", ce ? ce->message : "?");
        return 1;
    }
    double compile_s = cpu_s() - t0;
    hs_scratch_t *scr = NULL;
    if (hs_alloc_scratch(db, &scr) != HS_SUCCESS)
        return 1;

    FILE *f = fopen(events, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", events);
        return 1;
    }
    size_t cap = 1 << 20, len = 0, nl = 0;
    char *buf = malloc(cap);
    size_t *off = NULL, offcap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while (buf && (got = getline(&line, &lcap, f)) > 0) {
        if (len + (size_t)got > MAX_INPUT)
            break;
        if (len + (size_t)got > cap) {
            while (len + (size_t)got > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                return 1;
            buf = nb;
        }
        if (nl + 2 > offcap) {
            offcap = offcap ? offcap * 2 : 4096;
            size_t *no = realloc(off, offcap * sizeof(*off));
            if (!no)
                return 1;
            off = no;
        }
        off[nl++] = len;
        memcpy(buf + len, line, (size_t)got);
        len += (size_t)got;
    }
    fclose(f);
    free(line);
    if (!nl)
        return 1;
    off[nl] = len;
    t0 = cpu_s();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nl; i++)
            if (hs_scan(db, buf + off[i], (unsigned)(off[i + 1] - off[i]), 0, scr, on_hit, NULL) !=
                HS_SUCCESS)
                return 1;
    double dt = cpu_s() - t0, n = (double)nl * rounds;
    printf("{\"literals\": %zu, \"min_len\": %zu, \"compile_seconds\": %.3f, \"lines\": %zu, "
           "\"bytes_per_line\": %.0f, \"ns_per_line\": %.0f, \"gb_per_s\": %.3f, "
           "\"hits_per_line\": %.1f}\n",
           nlit, minlen, compile_s, nl, (double)len / (double)nl, dt * 1e9 / n,
           (double)len * rounds / dt / 1e9, (double)hits / n);
    hs_free_scratch(scr);
    hs_free_database(db);
    mw_sigma_ruleset_free(rs);
    return 0;
}
