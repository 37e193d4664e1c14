/* mwrasp sigma: offline Sigma tools over libmwrasp (no daemon involved).
 *
 *   mwrasp sigma eval --rules DIR --events FILE.jsonl [--events FILE2 ...]
 *                     [--pipeline NAME|FILE|none] [--nulls spec|sql] [--output FILE]
 *                     [--stats] [--threads N]
 *   mwrasp sigma check [--pipeline NAME|FILE] DIR
 *
 * eval reads JSON lines with the ingest module's parser (the daemon's
 * flattening), runs every rule over every event and prints one JSON line
 * per (event, rule) match: {"event": LINE (0-based), "rule_id", "title",
 * "level"}, plus "file" when several --events files are given. The summary
 * goes to stderr. With --threads N the lines of a file are taken in chunks
 * by N workers (one scratch each) and the results written in line order, so
 * the output is the same as with one thread. check prints every refused rule as FILE:LINE: message
 * and exits 1 if there is any. Both print the rules that loaded with a warning (deprecated /
 * unsupported status) as FILE:LINE: warning: message. */
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mwrasp/detect.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

#define EXIT_PROBLEMS 1
#define EXIT_FAIL 2
#define EXIT_USAGE 64
#define MAX_EVENT_FILES 100000
#define MAX_GROUPS 256
#define MAX_THREADS 256

int mw_cmd_sigma(int argc, char **argv);

/* ---- refusals, grouped by reason ------------------------------------------ */

struct group {
    char *reason; /* message without "FILE:LINE: " and with quoted parts as '…' */
    char *example; /* first full message */
    size_t n;
};

struct problems {
    struct group g[MAX_GROUPS];
    size_t ng, total, other;
    FILE *echo; /* check: print each message here */
};

/* Where the text of "FILE:LINE[:COL]: text" starts (msg if no location). */
static const char *after_location(const char *msg)
{
    const char *s = strstr(msg, ": ");
    while (s) { /* skip "FILE:LINE: " (a path may itself hold ": ") */
        const char *q = s;
        while (q > msg && q[-1] >= '0' && q[-1] <= '9')
            q--;
        if (q < s && q > msg && q[-1] == ':')
            return s + 2;
        s = strstr(s + 2, ": ");
    }
    return msg;
}

/* "FILE:LINE[:COL]: text 'x' more" -> "text '…' more". */
static char *reason_of(const char *msg)
{
    const char *p = after_location(msg);
    size_t l = strlen(p);
    char *r = malloc(l + 1), *o = r;
    if (!r)
        return NULL;
    for (size_t i = 0; i < l; i++) {
        if (p[i] == '\'') {
            const char *e = strchr(p + i + 1, '\'');
            if (e) {
                memcpy(o, "'*'", 3);
                o += 3;
                i = (size_t)(e - p);
                continue;
            }
        }
        *o++ = p[i];
    }
    *o = '\0';
    return r;
}

static void on_refused(void *ctx, const char *msg)
{
    struct problems *pr = ctx;
    pr->total++;
    if (pr->echo)
        fprintf(pr->echo, "%s\n", msg);
    char *r = reason_of(msg);
    if (!r) {
        pr->other++;
        return;
    }
    for (size_t i = 0; i < pr->ng; i++) {
        if (!strcmp(pr->g[i].reason, r)) {
            pr->g[i].n++;
            free(r);
            return;
        }
    }
    if (pr->ng == MAX_GROUPS) {
        pr->other++;
        free(r);
        return;
    }
    struct group *g = &pr->g[pr->ng];
    g->example = strdup(msg);
    if (!g->example) {
        free(r);
        pr->other++;
        return;
    }
    g->reason = r;
    g->n = 1;
    pr->ng++;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->reason, y->reason);
}

static void problems_print(struct problems *pr, FILE *fp)
{
    qsort(pr->g, pr->ng, sizeof(pr->g[0]), cmp_group);
    for (size_t i = 0; i < pr->ng; i++)
        fprintf(fp, "  %5zu  %s\n         e.g. %s\n", pr->g[i].n, pr->g[i].reason,
                pr->g[i].example);
    if (pr->other)
        fprintf(fp, "  %5zu  other reasons\n", pr->other);
}

static void problems_free(struct problems *pr)
{
    for (size_t i = 0; i < pr->ng; i++) {
        free(pr->g[i].reason);
        free(pr->g[i].example);
    }
}

/* Rules that loaded with a warning (mw_sigma_warning), one line each. */
static void warnings_print(const mw_sigma_ruleset_t *rs, FILE *fp, const char *indent)
{
    size_t n = mw_sigma_warning_count(rs);
    for (size_t i = 0; i < n; i++) {
        const char *w = mw_sigma_warning(rs, i);
        if (!w)
            continue;
        const char *t = after_location(w);
        fprintf(fp, "%s%.*swarning: %s\n", indent, (int)(t - w), w, t);
    }
}

/* Loads the pipeline (NULL/"none"/"" = none) and the rules. */
static int load_rules(const char *dir, const char *pipeline, struct problems *pr,
                      mw_sigma_ruleset_t **out)
{
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    if (!rs) {
        fprintf(stderr, "mwrasp sigma: out of memory\n");
        return EXIT_FAIL;
    }
    mw_sigma_ruleset_set_error_fn(rs, on_refused, pr);
    if (pipeline && pipeline[0] && strcmp(pipeline, "none") != 0) {
        mw_sigma_pipeline_t *p = NULL;
        char err[1024];
        if (mw_sigma_pipeline_load(pipeline, &p, err, sizeof(err)) != 0) {
            fprintf(stderr, "mwrasp sigma: pipeline %s\n", err);
            mw_sigma_ruleset_free(rs);
            return EXIT_FAIL;
        }
        mw_sigma_ruleset_set_pipeline(rs, p);
    }
    size_t nerr = 0;
    if (mw_sigma_load_dir(rs, dir, &nerr) != 0) {
        fprintf(stderr, "mwrasp sigma: %s\n", mw_sigma_last_error(rs));
        mw_sigma_ruleset_free(rs);
        return EXIT_FAIL;
    }
    *out = rs;
    return 0;
}

/* ---- eval ---------------------------------------------------------------- */

struct rule_count {
    char id[MW_RULE_ID_MAX];
    char title[MW_TITLE_MAX];
    size_t n;
};

struct eval_ctx {
    FILE *out;
    const char *file; /* printed when several files are evaluated */
    size_t line;
    size_t matches;
    int stats;
    struct rule_count *counts; /* --stats: per rule id, linear (small) */
    size_t ncounts, capcounts;
};

static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static int on_match(void *vctx, const mw_detection_t *d)
{
    struct eval_ctx *c = vctx;
    c->matches++;
    fprintf(c->out, "{\"event\": %zu, \"rule_id\": ", c->line);
    json_str(c->out, d->rule_id);
    fputs(", \"title\": ", c->out);
    json_str(c->out, d->title);
    fputs(", \"level\": ", c->out);
    json_str(c->out, mw_severity_name(d->severity));
    if (c->file) {
        fputs(", \"file\": ", c->out);
        json_str(c->out, c->file);
    }
    fputs("}\n", c->out);
    if (c->stats) {
        for (size_t i = 0; i < c->ncounts; i++) {
            if (!strcmp(c->counts[i].id, d->rule_id)) {
                c->counts[i].n++;
                return 0;
            }
        }
        if (c->ncounts == c->capcounts) {
            size_t cap = c->capcounts ? c->capcounts * 2 : 64;
            struct rule_count *nc = realloc(c->counts, cap * sizeof(*nc));
            if (!nc)
                return MW_ENOMEM;
            c->counts = nc;
            c->capcounts = cap;
        }
        struct rule_count *rc = &c->counts[c->ncounts++];
        snprintf(rc->id, sizeof(rc->id), "%s", d->rule_id);
        snprintf(rc->title, sizeof(rc->title), "%s", d->title);
        rc->n = 1;
    }
    return 0;
}

static int cmp_count(const void *a, const void *b)
{
    const struct rule_count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->id, y->id);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void eval_usage(FILE *fp)
{
    fprintf(fp, "usage: mwrasp sigma eval --rules DIR --events FILE.jsonl [--events FILE ...]\n"
                "                         [--pipeline NAME|FILE|none] [--nulls spec|sql]\n"
                "                         [--output FILE] [--stats] [--threads N]\n\n"
                "Runs every Sigma rule under DIR over every event (one JSON object per line)\n"
                "and prints one JSON line per (event, rule) match:\n"
                "  {\"event\": LINE (0-based), \"rule_id\": ..., \"title\": ..., \"level\": ...}\n"
                "with \"file\" added when several --events files are given.\n\n"
                "  --pipeline P  logsource pipeline: a name (pipelines/P.yml or\n"
                "                $MWRASP_PIPELINES/P.yml), a file, or none (default: sysmon)\n"
                "  --nulls M     a condition on a field the event lacks: spec (default) = false,\n"
                "                as the Sigma specification, Splunk and Elasticsearch; sql = SQL\n"
                "                NULL (UNKNOWN, three-valued not/and/or; field: null and |exists\n"
                "                stay two-valued, |re is false), to compare with SQL backends\n"
                "                such as pySigma's SQLite output (a diagnostic mode, not for\n"
                "                production; docs/sigma-compat.md)\n"
                "  --output F    write the matches to F instead of stdout\n"
                "  --stats       also print match counts per rule on stderr\n"
                "  --threads N   evaluate on N threads (0: one per online CPU; default 1);\n"
                "                the output is the same, in line order\n\n"
                "The summary (rules loaded, rules skipped with reasons, rules loaded with a\n"
                "warning, events, matches, events/s) goes to stderr. A line that is not a JSON "
                "object is reported as\n"
                "FILE:LINE and skipped. Exit: 0 ok, 1 some lines were skipped, 2 failure,\n"
                "64 usage.\n");
}

/* ---- evaluation of one file, on one or more threads ---------------------- *
 *
 * Workers take chunks of consecutive lines from the file (read under a
 * lock), parse and match them with their own scratch, keep the matches and
 * the skipped lines of the chunk, then wait for the chunk's turn and write
 * them out: output and messages come in line order whatever the number of
 * threads, and a worker holds at most one chunk. */
#define EV_CHUNK_LINES 64
#define EV_CHUNK_BYTES (4u << 20) /* a chunk stops growing past this (one line at least) */

struct ev_match {
    size_t line;
    int severity;
    size_t id, title; /* offsets in the chunk's string pool */
};

struct ev_chunk {
    uint64_t seq;
    size_t first; /* 0-based line number of the chunk's first line */
    size_t nlines;
    char *text; /* the lines, NUL-separated */
    size_t textlen, textcap;
    size_t off[EV_CHUNK_LINES], len[EV_CHUNK_LINES];
    struct ev_match *m;
    size_t nm, capm;
    char *pool; /* rule ids and titles of the matches */
    size_t poollen, poolcap;
    char *msgs; /* messages of skipped lines, each "FILE:LINE: ...\n", in order */
    size_t msglen, msgcap;
    size_t nevents, nbad;
    int fatal; /* matching failed (message in msgs): nothing after is written */
    int oom;
};

struct ev_run {
    const mw_sigma_ruleset_t *rs;
    FILE *in;
    const char *path;
    struct eval_ctx *c;
    size_t *nevents, *nbad;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *line; /* getline buffer, used under mu */
    size_t linecap;
    size_t next_line;
    uint64_t next_seq, turn;
    int eof, failed, read_err;
};

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = nc;
    return 0;
}

static int put_str(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (grow(buf, cap, *len + n + 1))
        return -1;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Reads the next chunk of lines (under r->mu). 1 if it got lines, 0 at the
 * end of the file, -1 out of memory. */
static int chunk_read(struct ev_run *r, struct ev_chunk *k)
{
    k->nlines = k->textlen = 0;
    k->first = r->next_line;
    while (!r->eof && k->nlines < EV_CHUNK_LINES && k->textlen < EV_CHUNK_BYTES) {
        ssize_t len = getline(&r->line, &r->linecap, r->in);
        if (len < 0) {
            r->eof = 1;
            r->read_err = ferror(r->in) != 0;
            break;
        }
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            len--;
        if (grow(&k->text, &k->textcap, k->textlen + (size_t)len + 1))
            return -1;
        memcpy(k->text + k->textlen, r->line, (size_t)len);
        k->off[k->nlines] = k->textlen;
        k->len[k->nlines++] = (size_t)len;
        k->textlen += (size_t)len;
        k->text[k->textlen++] = '\0';
    }
    r->next_line += k->nlines;
    if (k->nlines == 0)
        return 0;
    k->seq = r->next_seq++;
    return 1;
}

struct chunk_emit {
    struct ev_chunk *k;
    size_t line;
};

static int chunk_on_match(void *vctx, const mw_detection_t *d)
{
    struct chunk_emit *e = vctx;
    struct ev_chunk *k = e->k;
    if (k->nm == k->capm) {
        size_t nc = k->capm ? k->capm * 2 : 64;
        struct ev_match *nm = realloc(k->m, nc * sizeof(*nm));
        if (!nm)
            return MW_ENOMEM;
        k->m = nm;
        k->capm = nc;
    }
    struct ev_match *m = &k->m[k->nm];
    m->line = e->line;
    m->severity = d->severity;
    m->id = k->poollen;
    if (put_str(&k->pool, &k->poollen, &k->poolcap, d->rule_id, strlen(d->rule_id) + 1))
        return MW_ENOMEM;
    m->title = k->poollen;
    if (put_str(&k->pool, &k->poollen, &k->poolcap, d->title, strlen(d->title) + 1))
        return MW_ENOMEM;
    k->nm++;
    return 0;
}

static void chunk_msg(struct ev_chunk *k, const char *path, size_t line, const char *what,
                      const char *err)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s:%zu: %s: %s\n", path, line + 1, what, err);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    if (put_str(&k->msgs, &k->msglen, &k->msgcap, buf, (size_t)n))
        k->oom = 1;
}

static void chunk_eval(struct ev_run *r, mw_sigma_scratch_t *scratch, struct ev_chunk *k)
{
    k->nm = k->poollen = k->msglen = k->nevents = k->nbad = 0;
    k->fatal = k->oom = 0;
    for (size_t i = 0; i < k->nlines && !k->fatal && !k->oom; i++) {
        if (k->len[i] == 0)
            continue; /* blank: keeps its line number, no event */
        mw_event_t *ev = NULL;
        enum mw_reject why;
        char err[256];
        size_t line = k->first + i;
        if (mw_jsonl_parse(k->text + k->off[i], k->len[i], MW_SRC_REPLAY, &ev, &why, err,
                           sizeof(err)) != 0) {
            chunk_msg(k, r->path, line, "skipped", err);
            k->nbad++;
            continue;
        }
        k->nevents++;
        struct chunk_emit e = {.k = k, .line = line};
        int mrc = mw_sigma_match(r->rs, scratch, ev, chunk_on_match, &e);
        mw_event_free(ev);
        if (mrc) {
            chunk_msg(k, r->path, line, "matching failed", mw_strerror(mrc));
            k->fatal = 1;
        }
    }
}

/* Writes chunk k (its turn, under r->mu): 0, or EXIT_FAIL. */
static int chunk_write(struct ev_run *r, struct ev_chunk *k)
{
    struct eval_ctx *c = r->c;
    if (k->msglen)
        fputs(k->msgs, stderr);
    if (k->oom) {
        fprintf(stderr, "%s:%zu: out of memory\n", r->path, k->first + 1);
        return EXIT_FAIL;
    }
    mw_detection_t d;
    memset(&d, 0, sizeof d);
    for (size_t i = 0; i < k->nm; i++) {
        const struct ev_match *m = &k->m[i];
        snprintf(d.rule_id, sizeof d.rule_id, "%s", k->pool + m->id);
        snprintf(d.title, sizeof d.title, "%s", k->pool + m->title);
        d.severity = m->severity;
        c->line = m->line;
        if (on_match(c, &d)) {
            fprintf(stderr, "mwrasp sigma eval: out of memory\n");
            return EXIT_FAIL;
        }
    }
    *r->nevents += k->nevents;
    *r->nbad += k->nbad;
    return k->fatal ? EXIT_FAIL : 0;
}

struct ev_worker {
    pthread_t tid;
    struct ev_run *r;
    mw_sigma_scratch_t *scratch;
};

static void *ev_work(void *arg)
{
    struct ev_worker *w = arg;
    struct ev_run *r = w->r;
    struct ev_chunk k;
    memset(&k, 0, sizeof k);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int got = r->failed ? 0 : chunk_read(r, &k);
        if (got < 0)
            r->failed = 1;
        pthread_mutex_unlock(&r->mu);
        if (got <= 0) {
            if (got < 0)
                fprintf(stderr, "mwrasp sigma eval: %s: out of memory\n", r->path);
            break;
        }
        chunk_eval(r, w->scratch, &k);
        pthread_mutex_lock(&r->mu);
        while (r->turn != k.seq)
            pthread_cond_wait(&r->cv, &r->mu);
        if (!r->failed && chunk_write(r, &k))
            r->failed = 1;
        r->turn++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    free(k.text);
    free(k.m);
    free(k.pool);
    free(k.msgs);
    return NULL;
}

static int eval_file(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t **scratch, int nthreads,
                     const char *path, struct eval_ctx *c, size_t *nevents, size_t *nbad)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        fprintf(stderr, "mwrasp sigma eval: %s: cannot open\n", path);
        return EXIT_FAIL;
    }
    struct ev_run r = {.rs = rs, .in = fp, .path = path, .c = c, .nevents = nevents, .nbad = nbad};
    struct ev_worker w[MAX_THREADS];
    int started = 0, rc = 0;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    for (int i = 0; i < nthreads; i++)
        w[i] = (struct ev_worker){.r = &r, .scratch = scratch[i]};
    if (nthreads == 1) {
        ev_work(&w[0]);
    } else {
        for (; started < nthreads; started++)
            if (pthread_create(&w[started].tid, NULL, ev_work, &w[started]) != 0)
                break;
        if (started == 0)
            ev_work(&w[0]); /* no thread could start: this one does the work */
        for (int i = 0; i < started; i++)
            pthread_join(w[i].tid, NULL);
    }
    if (r.failed)
        rc = EXIT_FAIL;
    if (r.read_err) {
        fprintf(stderr, "mwrasp sigma eval: %s: read error\n", path);
        rc = EXIT_FAIL;
    }
    free(r.line);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"events", required_argument, NULL, 'e'},
        {"pipeline", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"stats", no_argument, NULL, 's'},
        {"nulls", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules = NULL, *pipeline = "sysmon", *output = NULL;
    const char **files = NULL;
    size_t nfiles = 0;
    int stats = 0, ch, rc = 0, nulls = MW_SIGMA_NULLS_SPEC, nthreads = 1;
    struct problems pr = {0};
    mw_sigma_ruleset_t *rs = NULL;
    mw_sigma_scratch_t *scratch[MAX_THREADS] = {NULL};
    struct eval_ctx c = {0};
    files = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*files));
    if (!files)
        return EXIT_FAIL;
    while ((ch = getopt_long(argc, argv, "r:e:p:o:n:t:sh", opts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            rules = optarg;
            break;
        case 'e':
            if (nfiles < MAX_EVENT_FILES)
                files[nfiles++] = optarg;
            break;
        case 'p':
            pipeline = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 's':
            stats = 1;
            break;
        case 'n':
            if (!strcmp(optarg, "spec")) {
                nulls = MW_SIGMA_NULLS_SPEC;
            } else if (!strcmp(optarg, "sql")) {
                nulls = MW_SIGMA_NULLS_SQL;
            } else {
                fprintf(stderr, "mwrasp sigma eval: --nulls takes spec or sql, not '%s'\n", optarg);
                free(files);
                return EXIT_USAGE;
            }
            break;
        case 't': {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);
            if (!end || *end || end == optarg || n < 0 || n > MAX_THREADS) {
                fprintf(stderr, "mwrasp sigma eval: --threads takes 0 to %d, not '%s'\n",
                        MAX_THREADS, optarg);
                free(files);
                return EXIT_USAGE;
            }
            if (n == 0) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                n = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
            }
            nthreads = (int)n;
            break;
        }
        case 'h':
            eval_usage(stdout);
            free(files);
            return 0;
        default:
            eval_usage(stderr);
            free(files);
            return EXIT_USAGE;
        }
    }
    if (!rules || nfiles == 0 || optind != argc) {
        eval_usage(stderr);
        free(files);
        return EXIT_USAGE;
    }
    double t0 = now_s();
    if ((rc = load_rules(rules, pipeline, &pr, &rs)))
        goto out;
    double t1 = now_s();
    if (mw_sigma_ruleset_set_null_semantics(rs, nulls) != 0) {
        fprintf(stderr, "mwrasp sigma eval: out of memory\n");
        rc = EXIT_FAIL;
        goto out;
    }
    for (int i = 0; i < nthreads; i++) {
        if (mw_sigma_scratch_new(rs, &scratch[i]) != 0) {
            fprintf(stderr, "mwrasp sigma eval: out of memory\n");
            rc = EXIT_FAIL;
            goto out;
        }
    }
    c.out = stdout;
    if (output && !(c.out = fopen(output, "w"))) {
        fprintf(stderr, "mwrasp sigma eval: %s: cannot create\n", output);
        rc = EXIT_FAIL;
        goto out;
    }
    c.stats = stats;
    size_t nevents = 0, nbad = 0;
    for (size_t i = 0; i < nfiles && !rc; i++) {
        c.file = nfiles > 1 ? files[i] : NULL;
        rc = eval_file(rs, scratch, nthreads, files[i], &c, &nevents, &nbad);
    }
    double t2 = now_s();
    if (fflush(c.out) != 0 || ferror(c.out)) {
        fprintf(stderr, "mwrasp sigma eval: write error\n");
        rc = EXIT_FAIL;
    }
    double dt = t2 - t1 > 1e-9 ? t2 - t1 : 1e-9;
    fprintf(stderr, "rules loaded: %zu (pipeline %s, nulls %s, %.2f s)\nrules skipped: %zu\n",
            mw_sigma_count(rs), pipeline && pipeline[0] ? pipeline : "none",
            nulls == MW_SIGMA_NULLS_SQL ? "sql" : "spec", t1 - t0, pr.total);
    problems_print(&pr, stderr);
    fprintf(stderr, "rules loaded with a warning: %zu\n", mw_sigma_warning_count(rs));
    warnings_print(rs, stderr, "  ");
    size_t re_hs = 0, re_pcre = 0;
    mw_sigma_regex_counts(rs, &re_hs, &re_pcre);
    fprintf(stderr, "regexes: %zu prefiltered by Hyperscan, %zu PCRE2 only\n", re_hs, re_pcre);
    fprintf(stderr,
            "events: %zu (%zu lines skipped) in %zu file(s)\nmatches: %zu\n"
            "events/s: %.0f (%.3f s, %d thread%s)\n",
            nevents, nbad, nfiles, c.matches, (double)nevents / dt, dt, nthreads,
            nthreads == 1 ? "" : "s");
    if (stats) {
        qsort(c.counts, c.ncounts, sizeof(*c.counts), cmp_count);
        fprintf(stderr, "matches per rule (%zu rules matched):\n", c.ncounts);
        for (size_t i = 0; i < c.ncounts; i++)
            fprintf(stderr, "  %7zu  %s  %s\n", c.counts[i].n, c.counts[i].id, c.counts[i].title);
    }
    if (!rc && nbad)
        rc = EXIT_PROBLEMS;
out:
    if (c.out && c.out != stdout)
        fclose(c.out);
    free(c.counts);
    for (int i = 0; i < MAX_THREADS; i++)
        mw_sigma_scratch_free(scratch[i]);
    mw_sigma_ruleset_free(rs);
    problems_free(&pr);
    free(files);
    return rc;
}

/* ---- check ------------------------------------------------------------- */

static void check_usage(FILE *fp)
{
    fprintf(fp, "usage: mwrasp sigma check [--pipeline NAME|FILE] DIR\n\n"
                "Compiles every rule under DIR (*.yml, *.yaml, recursively) and prints each\n"
                "problem as FILE:LINE: message, each rule that loaded with a warning\n"
                "(status deprecated or unsupported) as FILE:LINE: warning: message, then the\n"
                "counts. Exit: 0 no rule refused (warnings allowed), 1 some rule was refused,\n"
                "2 DIR or the pipeline cannot be read, 64 usage.\n");
}

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pipeline", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *pipeline = NULL;
    int ch, rc;
    while ((ch = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            pipeline = optarg;
            break;
        case 'h':
            check_usage(stdout);
            return 0;
        default:
            check_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        check_usage(stderr);
        return EXIT_USAGE;
    }
    struct problems pr = {.echo = stdout};
    mw_sigma_ruleset_t *rs = NULL;
    if ((rc = load_rules(argv[optind], pipeline, &pr, &rs))) {
        problems_free(&pr);
        return rc;
    }
    warnings_print(rs, stdout, "");
    printf("%zu rules ok, %zu refused, %zu with a warning\n", mw_sigma_count(rs), pr.total,
           mw_sigma_warning_count(rs));
    rc = pr.total ? EXIT_PROBLEMS : 0;
    mw_sigma_ruleset_free(rs);
    problems_free(&pr);
    return rc;
}

/* ---- mwrasp sigma -------------------------------------------------------- */

static void sigma_usage(FILE *fp)
{
    fprintf(fp, "usage: mwrasp sigma eval --rules DIR --events FILE.jsonl [...]\n"
                "       mwrasp sigma check [--pipeline P] DIR\n\n"
                "Offline Sigma tools ('mwrasp sigma eval --help', 'mwrasp sigma check --help').\n");
}

int mw_cmd_sigma(int argc, char **argv)
{
    if (argc < 2) {
        sigma_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        sigma_usage(stdout);
        return 0;
    }
    mw_log_set_plain(1);
    optind = 1;
    if (!strcmp(argv[1], "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 1, argv + 1);
    fprintf(stderr, "mwrasp sigma: unknown command '%s'\n\n", argv[1]);
    sigma_usage(stderr);
    return EXIT_USAGE;
}
