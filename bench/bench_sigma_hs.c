/* bench_sigma_hs: the Hyperscan prefilter experiment of
 * docs/internals/sigma-prefilter.md.
 *
 * For one field (default CommandLine), collects the literal values of every
 * field condition on it in a loaded ruleset (exact, contains, startswith,
 * endswith; globs, null and '*' are left out), then times two ways of
 * answering "which of these values match this event's field?" over the
 * field's values in a set of JSON-lines events:
 *   A. per-value checks, the way sigma_match.c does them today: lowercase
 *      the value once, a bigram filter for contains, then memmem / memcmp
 *      for each value of each condition;
 *   B. one Hyperscan block-mode database of all the values
 *      (HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH; startswith as ^lit, endswith
 *      as lit\z, exact as ^lit\z), one hs_scan of the original bytes.
 * Both must give the same set of matching values for every event (checked;
 * a difference fails the run). Prints one JSON object.
 *
 * Usage: bench_sigma_hs --rules DIR --events PATH [--field NAME] [--rounds R]
 */
#include <dirent.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "detect/sigma_internal.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"

#define MAX_VALUES 200000
#define MAX_FIELD_VALUES 10000000
#define MAX_DEPTH 32

struct lit {
    const struct sg_value *v;
};

static struct lit *lits;
static size_t nlits;

/* the field's values of all events: original bytes and lowercased copies */
static char **vals, **lvals;
static uint32_t *vlens;
static size_t nvals;

static int add_value(const char *s, size_t len)
{
    if (nvals >= MAX_FIELD_VALUES)
        return -1;
    if (nvals % 1024 == 0) {
        size_t nc = nvals + 1024;
        char **a = realloc(vals, nc * sizeof(*a)), **b = NULL;
        if (a)
            vals = a;
        if (a && (b = realloc(lvals, nc * sizeof(*b))))
            lvals = b;
        uint32_t *c = b ? realloc(vlens, nc * sizeof(*c)) : NULL;
        if (!c)
            return -1;
        vlens = c;
    }
    vals[nvals] = malloc(len + 1);
    lvals[nvals] = malloc(len + 1);
    if (!vals[nvals] || !lvals[nvals])
        return -1;
    memcpy(vals[nvals], s, len);
    vals[nvals][len] = '\0';
    sg_lower(lvals[nvals], s, len);
    lvals[nvals][len] = '\0';
    vlens[nvals++] = (uint32_t)len;
    return 0;
}

static int read_file(const char *path, const char *field)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t flen = strlen(field);
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0 && rc == 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (!n)
            continue;
        mw_event_t *ev = NULL;
        enum mw_reject why;
        if (mw_jsonl_parse(line, (size_t)n, MW_SRC_REPLAY, &ev, &why, NULL, 0) != 0)
            continue;
        for (uint32_t i = 0; i < ev->nfields; i++)
            if (ev->fields[i].key_len == flen && !memcmp(ev->fields[i].key, field, flen)) {
                rc = add_value(ev->fields[i].val, ev->fields[i].val_len);
                break; /* first value wins, as in the matcher */
            }
        mw_event_free(ev);
    }
    free(line);
    fclose(f);
    return rc;
}

static int walk(const char *path, const char *field, int depth)
{
    struct stat st;
    if (depth > MAX_DEPTH || stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return read_file(path, field);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        if (snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= (int)sizeof(p))
            continue;
        size_t l = strlen(p);
        struct stat cs;
        if (stat(p, &cs) != 0)
            continue;
        if (S_ISDIR(cs.st_mode))
            rc = walk(p, field, depth + 1);
        else if (l > 6 && !strcmp(p + l - 6, ".jsonl"))
            rc = read_file(p, field);
    }
    closedir(d);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A: today's per-value checks (same operations as value_match()). */
static int check(const struct sg_value *v, const char *s, size_t len, const uint64_t bl[4])
{
    switch (v->op) {
    case SG_EXACT:
        return len == v->len && memcmp(s, v->s, len) == 0;
    case SG_CONTAINS:
        if (v->len > len)
            return 0;
        if (v->len > 1 &&
            ((bl[0] & v->bloom[0]) != v->bloom[0] || (bl[1] & v->bloom[1]) != v->bloom[1] ||
             (bl[2] & v->bloom[2]) != v->bloom[2] || (bl[3] & v->bloom[3]) != v->bloom[3]))
            return 0;
        return memmem(s, len, v->s, v->len) != NULL;
    case SG_STARTSWITH:
        return v->len <= len && memcmp(s, v->s, v->len) == 0;
    case SG_ENDSWITH:
        return v->len <= len && memcmp(s + len - v->len, v->s, v->len) == 0;
    }
    return 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    uint8_t *hit = ctx;
    hit[id] = 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *rules = NULL, *events = NULL, *field = "CommandLine";
    int rounds = 5;
    mw_log_set_level(MW_LOG_ERROR);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            rules = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = argv[++i];
        else if (!strcmp(argv[i], "--field") && i + 1 < argc)
            field = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s --rules DIR --events PATH [--field NAME] [--rounds R]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!rules || !events || rounds < 1)
        return 2;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 0;
    if (!rs || mw_sigma_load_dir(rs, rules, &nerr) != 0)
        return 1;
    int32_t slot = sg_fields_find(&rs->fields, field, strlen(field));
    if (slot < 0) {
        fprintf(stderr, "no rule uses %s\n", field);
        return 1;
    }
    size_t nconds = 0, skipped = 0;
    lits = calloc(MAX_VALUES, sizeof(*lits));
    if (!lits)
        return 1;
    for (size_t r = 0; r < rs->nrules; r++) {
        const struct sg_rule *ru = rs->rules[r];
        for (uint32_t s = 0; s < ru->nsels; s++)
            for (uint32_t m = 0; m < ru->sels[s].nmaps; m++)
                for (uint32_t c = 0; c < ru->sels[s].maps[m].n; c++) {
                    const struct sg_fcond *fc = &ru->sels[s].maps[m].conds[c];
                    if (fc->slot != (uint32_t)slot)
                        continue;
                    nconds++;
                    for (uint32_t v = 0; v < fc->nvals; v++) {
                        const struct sg_value *sv = &fc->vals[v];
                        if (sv->op > SG_ENDSWITH || sv->len == 0 || nlits >= MAX_VALUES) {
                            skipped++;
                            continue;
                        }
                        lits[nlits++].v = sv;
                    }
                }
    }
    if (walk(events, field, 0) != 0 || !nvals || !nlits) {
        fprintf(stderr, "no events with %s, or no literals\n", field);
        return 1;
    }

    /* B: one database of all the literals */
    char **pats = calloc(nlits, sizeof(*pats));
    unsigned *ids = calloc(nlits, sizeof(*ids)), *flags = calloc(nlits, sizeof(*flags));
    if (!pats || !ids || !flags)
        return 1;
    for (size_t i = 0; i < nlits; i++) {
        const struct sg_value *v = lits[i].v;
        char *p = malloc((size_t)v->len * 4 + 4), *q = p;
        if (!p)
            return 1;
        if (v->op == SG_EXACT || v->op == SG_STARTSWITH)
            *q++ = '^';
        for (uint32_t k = 0; k < v->len; k++)
            q += sprintf(q, "\\x%02x", (unsigned char)v->s[k]);
        if (v->op == SG_EXACT || v->op == SG_ENDSWITH) {
            *q++ = '\\'; /* \z: the very end ('$' also matches before a final newline) */
            *q++ = 'z';
        }
        *q = '\0';
        pats[i] = p;
        ids[i] = (unsigned)i;
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    double c0 = now_s();
    if (hs_compile_multi((const char *const *)pats, flags, ids, (unsigned)nlits, HS_MODE_BLOCK,
                         NULL, &db, &cerr) != HS_SUCCESS) {
        fprintf(stderr, "hs_compile_multi: %s (pattern %d)\n", cerr->message, cerr->expression);
        return 1;
    }
    double compile_s = now_s() - c0;
    size_t dbsize = 0;
    hs_database_size(db, &dbsize);
    hs_scratch_t *hsc = NULL;
    if (hs_alloc_scratch(db, &hsc) != HS_SUCCESS)
        return 1;

    uint8_t *hit_a = calloc(nlits, 1), *hit_b = calloc(nlits, 1);
    if (!hit_a || !hit_b)
        return 1;
    /* correctness: same answers for every value */
    size_t diffs = 0, hits = 0;
    size_t bytes = 0;
    for (size_t e = 0; e < nvals; e++) {
        uint64_t bl[4];
        sg_bloom(lvals[e], vlens[e], bl);
        memset(hit_b, 0, nlits);
        if (hs_scan(db, vals[e], vlens[e], 0, hsc, on_match, hit_b) != HS_SUCCESS)
            return 1;
        for (size_t i = 0; i < nlits; i++) {
            int a = check(lits[i].v, lvals[e], vlens[e], bl);
            hits += (size_t)a;
            diffs += (size_t)(a != hit_b[i]);
        }
        bytes += vlens[e];
    }
    /* timing */
    size_t sink = 0;
    double t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t e = 0; e < nvals; e++) {
            uint64_t bl[4]; /* lowercase once, as the matcher does */
            sg_lower(lvals[e], vals[e], vlens[e]);
            sg_bloom(lvals[e], vlens[e], bl);
            for (size_t i = 0; i < nlits; i++)
                sink += (size_t)check(lits[i].v, lvals[e], vlens[e], bl);
        }
    double ta = (now_s() - t0) * 1e9 / ((double)nvals * rounds);
    t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t e = 0; e < nvals; e++)
            if (hs_scan(db, vals[e], vlens[e], 0, hsc, on_match, hit_b) != HS_SUCCESS)
                return 1;
    double tb = (now_s() - t0) * 1e9 / ((double)nvals * rounds);
    printf("{\"field\": \"%s\", \"rules\": %zu, \"conditions\": %zu, \"literals\": %zu, "
           "\"left_out\": %zu, \"values\": %zu, \"avg_value_bytes\": %.0f, "
           "\"matches_per_pass\": %zu, \"differences\": %zu, \"hs_compile_s\": %.2f, "
           "\"hs_db_bytes\": %zu, \"ns_per_value_per_value_checks\": %.0f, "
           "\"ns_per_value_hyperscan\": %.0f, \"speedup\": %.1f, \"check\": %zu}\n",
           field, mw_sigma_count(rs), nconds, nlits, skipped, nvals, (double)bytes / (double)nvals,
           hits, diffs, compile_s, dbsize, ta, tb, ta / tb, sink / (size_t)rounds);
    hs_free_scratch(hsc);
    hs_free_database(db);
    return diffs ? 1 : 0;
}
