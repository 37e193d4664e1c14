/* mwrasp: the command-line client of the MWRASP daemon (a thin layer over
 * the HTTP API, through mw_http_request in libmwrasp).
 *
 *   mwrasp replay FILE [--url URL] [--batch N]
 *   mwrasp threats [--url URL] [--severity N] [--status S] [--host H] [--limit N] [--json]
 *   mwrasp status [--url URL]
 *   mwrasp apikey create|list|revoke ...  (cmd/mwrasp_apikey.c)
 *   mwrasp sigma eval|check ...  (offline, cmd/mwrasp_sigma.c)
 *   mwrasp exposure scan FILE... (offline, cmd/mwrasp_exposure.c)
 *
 * Exit codes: 0 ok, 1 the work was done but something was refused (rejected
 * lines, daemon not ready), 2 the daemon could not be reached or failed,
 * 64 usage error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mwrasp/api.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define EXIT_REFUSED 1
#define EXIT_DAEMON 2
#define EXIT_USAGE 64
#define BATCH_BYTES (512u * 1024u) /* a batch is sent once it holds this much */
#define REQ_TIMEOUT_MS 60000 /* the daemon waits up to 30 s for durability */
#define RESP_MAX (16u << 20)

/* ---- shared helpers ------------------------------------------------------ */

/* The API key or JWT sent as "Authorization: Bearer ..." (--api-key KEY, any
 * position, else $MWRASP_API_KEY); NULL = none. */
static const char *api_key;

/* Takes --api-key KEY / --api-key=KEY out of argv (so that the subcommands
 * never see it); returns the new argc, or -1 if KEY is missing. */
static int take_api_key(int argc, char **argv)
{
    int o = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--api-key") == 0) {
            if (i + 1 >= argc)
                return -1;
            api_key = argv[++i];
        } else if (strncmp(argv[i], "--api-key=", 10) == 0) {
            api_key = argv[i] + 10;
        } else {
            argv[o++] = argv[i];
        }
    }
    argv[o] = NULL;
    return o;
}

static const char *pick_url(const char *flag)
{
    const char *u = flag ? flag : getenv("MWRASP_URL");
    return (u && u[0]) ? u : DEFAULT_URL;
}

/* Joins base (trailing '/' dropped) and path into a malloc'd string. */
static char *join_url(const char *base, const char *path)
{
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    char *s = malloc(bl + strlen(path) + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, base, bl);
    strcpy(s + bl, path);
    return s;
}

/* Appends "&key=value" (percent-encoded) to a query buffer. */
static int query_add(char *q, size_t qlen, const char *key, const char *val)
{
    size_t o = strlen(q);
    int n = snprintf(q + o, qlen - o, "%s%s=", o ? "&" : "?", key);
    if (n < 0 || (size_t)n >= qlen - o)
        return -1;
    o += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == ':') {
            if (o + 2 > qlen)
                return -1;
            q[o++] = (char)*p;
        } else {
            if (o + 4 > qlen)
                return -1;
            snprintf(q + o, 4, "%%%02X", *p);
            o += 3;
        }
    }
    q[o] = '\0';
    return 0;
}

/* One request; on a transport failure prints the standard message. */
static int call(const char *base, const char *method, const char *path, const char *headers,
                const char *body, size_t blen, struct mw_http_response *r)
{
    char err[256];
    char *url = join_url(base, path);
    char *hdrs = NULL;
    int rc;

    if (url == NULL) {
        fprintf(stderr, "mwrasp: out of memory\n");
        return -1;
    }
    if (api_key && api_key[0]) {
        if (strpbrk(api_key, "\r\n") != NULL || strlen(api_key) > 16384) {
            fprintf(stderr, "mwrasp: the API key is not a single line of at most 16 KiB\n");
            free(url);
            return -1;
        }
        size_t hl = headers ? strlen(headers) : 0, kl = strlen(api_key);
        hdrs = malloc(hl + kl + 32);
        if (hdrs == NULL) {
            fprintf(stderr, "mwrasp: out of memory\n");
            free(url);
            return -1;
        }
        snprintf(hdrs, hl + kl + 32, "%sAuthorization: Bearer %s\r\n", headers ? headers : "",
                 api_key);
        headers = hdrs;
    }
    rc = mw_http_request(url, method, headers, body, blen, REQ_TIMEOUT_MS, RESP_MAX, r, err,
                         sizeof(err));
    if (hdrs) {
        memset(hdrs, 0, strlen(hdrs));
        free(hdrs);
    }
    free(url);
    if (rc != 0) {
        fprintf(stderr, "mwrasp: cannot reach the daemon at %s: %s\n", base, err);
        return -1;
    }
    return 0;
}

/* Prints the daemon's JSON error ("code: message") for a failed answer. */
static void print_api_error(const char *what, const struct mw_http_response *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *e = j ? json_object_get(j, "error") : NULL;
    const char *code = e ? json_string_value(json_object_get(e, "code")) : NULL;
    const char *msg = e ? json_string_value(json_object_get(e, "message")) : NULL;
    fprintf(stderr, "mwrasp: %s: the daemon answered %d%s%s%s%s\n", what, r->status,
            code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
    json_decref(j);
}

static unsigned long long parse_count(const char *s, const char *opt, unsigned long long max)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > max || s[0] == '-') {
        fprintf(stderr, "mwrasp: %s must be an integer 1..%llu\n", opt, max);
        exit(EXIT_USAGE);
    }
    return v;
}

/* ---- replay --------------------------------------------------------------- */

static const char replay_help[] =
    "usage: mwrasp replay FILE [--url URL] [--batch N]\n"
    "\n"
    "Sends a file of events (one per line: syslog RFC 5424/3164 or a JSON object;\n"
    "blank lines are skipped; FILE '-' is stdin) to the daemon's\n"
    "POST /api/v1/events in text/plain batches marked X-MWRASP-Source: replay.\n"
    "Each batch is acknowledged only once its events are durable.\n"
    "\n"
    "  --url URL    daemon address (default $MWRASP_URL or " DEFAULT_URL ")\n"
    "  --batch N    lines per request (default 1000, max 100000)\n"
    "  -h, --help   this help\n"
    "\n"
    "Prints progress on stderr every second, then 'N lines, N accepted, N rejected'\n"
    "on stdout and each refused line as FILE:LINE: message on stderr.\n"
    "Exit status: 0 all accepted, 1 some lines rejected, 2 daemon unreachable or failing.\n";

struct batch {
    char *buf;
    size_t len, cap;
    unsigned long long first_line; /* file line of body line 1 */
    unsigned long long nlines; /* physical lines in buf */
    unsigned long long items; /* non-blank lines in buf */
};

struct replay {
    const char *url;
    const char *file;
    unsigned long long lines, accepted, rejected;
    int tty;
    struct timespec last_progress, start;
};

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void progress(struct replay *rp, int final)
{
    if (!final && since(&rp->last_progress) < 1.0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &rp->last_progress);
    double el = since(&rp->start);
    if (final && !rp->tty)
        return;
    fprintf(stderr, "%sreplay: %llu lines, %llu accepted, %llu rejected (%.0f lines/s)%s",
            rp->tty ? "\r" : "", rp->lines, rp->accepted, rp->rejected,
            el > 0 ? (double)rp->lines / el : 0.0, rp->tty ? (final ? "\n" : "") : "\n");
    fflush(stderr);
}

/* Sends body lines [0..) of b; on 413 splits the batch in halves.
 * Returns 0, or -1 after printing why the replay must stop. */
static int send_text(struct replay *rp, const char *body, size_t len, unsigned long long first_line,
                     unsigned long long items)
{
    struct mw_http_response r;
    int rc = -1;

    if (items == 0)
        return 0;
    if (call(rp->url, "POST", "/api/v1/events",
             "Content-Type: text/plain; charset=utf-8\r\nX-MWRASP-Source: replay\r\n", body, len,
             &r) != 0)
        return -1;
    if (r.status == 413) {
        /* too large for api.max_body: split at the middle line */
        const char *mid = NULL;
        if (len >= 2) /* a '\n' before the final one, nearest the middle */
            mid = memchr(body + len / 2, '\n', len - 1 - len / 2);
        if (mid == NULL && len >= 2)
            mid = memrchr(body, '\n', len / 2);
        if (mid == NULL) {
            fprintf(stderr, "%s:%llu: line larger than the daemon accepts (api.max_body)\n",
                    rp->file, first_line);
            rp->rejected += items;
            rc = 0;
            goto out;
        }
        size_t l1 = (size_t)(mid - body) + 1;
        unsigned long long n1 = 0, i1 = 0, i2 = 0;
        for (size_t i = 0, s = 0; i < len; i++) {
            if (body[i] == '\n' || i == len - 1) {
                size_t e = body[i] == '\n' ? i : i + 1;
                int blank = is_blank(body + s, e - s);
                if (i < l1) {
                    n1++;
                    i1 += !blank;
                } else {
                    i2 += !blank;
                }
                s = i + 1;
            }
        }
        mw_http_response_clear(&r);
        if (send_text(rp, body, l1, first_line, i1) != 0)
            return -1;
        return send_text(rp, body + l1, len - l1, first_line + n1, i2);
    }
    if (r.status != 202 && r.status != 400) {
        print_api_error("replay", &r);
        goto out;
    }
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    json_t *acc = j ? json_object_get(j, "accepted") : NULL;
    json_t *rej = j ? json_object_get(j, "rejected") : NULL;
    json_t *errs = j ? json_object_get(j, "errors") : NULL;
    if (!json_is_integer(acc) || !json_is_integer(rej)) {
        print_api_error("replay", &r);
        json_decref(j);
        goto out;
    }
    rp->accepted += (unsigned long long)json_integer_value(acc);
    rp->rejected += (unsigned long long)json_integer_value(rej);
    size_t i;
    json_t *e;
    unsigned long long last = first_line;
    json_array_foreach(errs, i, e)
    {
        json_int_t line = json_integer_value(json_object_get(e, "line"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        last = first_line + (unsigned long long)(line > 0 ? line - 1 : 0);
        if (rp->tty)
            fputc('\r', stderr);
        fprintf(stderr, "%s:%llu: %s\n", rp->file, last, msg ? msg : "rejected");
    }
    if ((unsigned long long)json_integer_value(rej) > json_array_size(errs))
        fprintf(stderr, "%s: %llu more rejected lines after line %llu not listed\n", rp->file,
                (unsigned long long)json_integer_value(rej) - json_array_size(errs), last);
    json_decref(j);
    rc = 0;
out:
    mw_http_response_clear(&r);
    return rc;
}

static int flush_batch(struct replay *rp, struct batch *b)
{
    int rc = send_text(rp, b->buf, b->len, b->first_line, b->items);
    b->first_line += b->nlines;
    b->len = 0;
    b->nlines = 0;
    b->items = 0;
    progress(rp, 0);
    return rc;
}

static int cmd_replay(int argc, char **argv)
{
    static const struct option lo[] = {{"url", required_argument, 0, 'u'},
                                       {"batch", required_argument, 0, 'b'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *urlflag = NULL;
    unsigned long long batch_n = 1000;
    struct replay rp;
    struct batch b;
    FILE *f = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int c, rc = EXIT_DAEMON;

    while ((c = getopt_long(argc, argv, "u:b:h", lo, NULL)) != -1) {
        switch (c) {
        case 'u':
            urlflag = optarg;
            break;
        case 'b':
            batch_n = parse_count(optarg, "--batch", 100000);
            break;
        case 'h':
            fputs(replay_help, stdout);
            return 0;
        default:
            fputs(replay_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(replay_help, stderr);
        return EXIT_USAGE;
    }
    memset(&rp, 0, sizeof(rp));
    memset(&b, 0, sizeof(b));
    rp.url = pick_url(urlflag);
    rp.file = argv[optind];
    rp.tty = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &rp.start);
    rp.last_progress = rp.start;
    b.first_line = 1;
    f = strcmp(rp.file, "-") == 0 ? stdin : fopen(rp.file, "rb");
    if (f == NULL) {
        fprintf(stderr, "mwrasp: replay: cannot open %s: %s\n", rp.file, strerror(errno));
        return EXIT_REFUSED;
    }
    while ((n = getline(&line, &lcap, f)) >= 0) {
        size_t ln = (size_t)n;
        if (ln > 0 && line[ln - 1] == '\n')
            ln--;
        if (b.len + ln + 1 > b.cap) {
            size_t nc = (b.len + ln + 1) * 2;
            char *nb = realloc(b.buf, nc);
            if (nb == NULL) {
                fprintf(stderr, "mwrasp: out of memory\n");
                goto out;
            }
            b.buf = nb;
            b.cap = nc;
        }
        memcpy(b.buf + b.len, line, ln);
        b.len += ln;
        b.buf[b.len++] = '\n';
        b.nlines++;
        if (!is_blank(line, ln)) {
            b.items++;
            rp.lines++;
        }
        if (b.items >= batch_n || b.len >= BATCH_BYTES) {
            if (flush_batch(&rp, &b) != 0)
                goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "mwrasp: replay: reading %s: %s\n", rp.file, strerror(errno));
        goto out;
    }
    if (flush_batch(&rp, &b) != 0)
        goto out;
    progress(&rp, 1);
    printf("%llu lines, %llu accepted, %llu rejected\n", rp.lines, rp.accepted, rp.rejected);
    rc = rp.rejected ? EXIT_REFUSED : 0;
out:
    if (f && f != stdin)
        fclose(f);
    free(line);
    free(b.buf);
    return rc;
}

/* ---- threats -------------------------------------------------------------- */

static const char threats_help[] =
    "usage: mwrasp threats [--url URL] [--severity N] [--status S] [--host H]\n"
    "                      [--since T] [--limit N] [--cursor C] [--json]\n"
    "\n"
    "Lists threats, newest first, from GET /api/v1/threats.\n"
    "\n"
    "  --url URL       daemon address (default $MWRASP_URL or " DEFAULT_URL ")\n"
    "  --severity N    only severity N (1 = critical .. 5 = informational)\n"
    "  --status S      new, acknowledged, responding or resolved\n"
    "  --host H        only threats on host H\n"
    "  --since T       last seen at or after T (RFC 3339, or ns since the epoch)\n"
    "  --limit N       at most N threats (1..1000, default 100)\n"
    "  --cursor C      continue from a previous page (printed when there is more)\n"
    "  --json          print the API's JSON answer as is\n"
    "  -h, --help      this help\n";

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static int cmd_threats(int argc, char **argv)
{
    static const struct option lo[] = {
        {"url", required_argument, 0, 'u'},    {"severity", required_argument, 0, 's'},
        {"status", required_argument, 0, 'S'}, {"host", required_argument, 0, 'H'},
        {"since", required_argument, 0, 'T'},  {"limit", required_argument, 0, 'l'},
        {"cursor", required_argument, 0, 'c'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *urlflag = NULL;
    char q[2048] = "";
    int c, as_json = 0, rc = EXIT_DAEMON, bad = 0;
    struct mw_http_response r;
    char path[2200];

    while ((c = getopt_long(argc, argv, "u:s:S:H:T:l:c:jh", lo, NULL)) != -1) {
        switch (c) {
        case 'u':
            urlflag = optarg;
            break;
        case 's':
            parse_count(optarg, "--severity", 5);
            bad |= query_add(q, sizeof(q), "severity", optarg);
            break;
        case 'S':
            bad |= query_add(q, sizeof(q), "status", optarg);
            break;
        case 'H':
            bad |= query_add(q, sizeof(q), "host", optarg);
            break;
        case 'T':
            bad |= query_add(q, sizeof(q), "since", optarg);
            break;
        case 'l':
            parse_count(optarg, "--limit", 1000);
            bad |= query_add(q, sizeof(q), "limit", optarg);
            break;
        case 'c':
            bad |= query_add(q, sizeof(q), "cursor", optarg);
            break;
        case 'j':
            as_json = 1;
            break;
        case 'h':
            fputs(threats_help, stdout);
            return 0;
        default:
            fputs(threats_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || bad) {
        fputs(bad ? "mwrasp: threats: arguments too long\n" : threats_help, stderr);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/threats%s", q);
    const char *url = pick_url(urlflag);
    if (call(url, "GET", path, NULL, NULL, 0, &r) != 0)
        return EXIT_DAEMON;
    if (r.status != 200) {
        print_api_error("threats", &r);
        rc = r.status == 400 ? EXIT_USAGE : EXIT_DAEMON;
        goto out;
    }
    if (as_json) {
        fwrite(r.body, 1, r.body_len, stdout);
        if (r.body_len == 0 || r.body[r.body_len - 1] != '\n')
            fputc('\n', stdout);
        rc = 0;
        goto out;
    }
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    json_t *arr = j ? json_object_get(j, "threats") : NULL;
    if (!json_is_array(arr)) {
        fprintf(stderr, "mwrasp: threats: unexpected answer from the daemon\n");
        json_decref(j);
        goto out;
    }
    printf("%-8s %-3s %-12s %-24s %7s %-24s %s\n", "ID", "SEV", "STATUS", "HOST", "COUNT",
           "LAST-SEEN", "TITLE");
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        printf("%-8s %-3lld %-12s %-24s %7lld %-24s %s\n", jstr(t, "id"),
               (long long)json_integer_value(json_object_get(t, "severity")), jstr(t, "status"),
               jstr(t, "host"), (long long)json_integer_value(json_object_get(t, "count")),
               jstr(t, "last_seen"), jstr(t, "title"));
    }
    const char *next = json_string_value(json_object_get(j, "next_cursor"));
    if (next)
        fprintf(stderr, "(more: mwrasp threats --cursor %s)\n", next);
    json_decref(j);
    rc = 0;
out:
    mw_http_response_clear(&r);
    return rc;
}

/* ---- status --------------------------------------------------------------- */

static const char status_help[] =
    "usage: mwrasp status [--url URL]\n"
    "\n"
    "Shows whether the daemon is live and ready, and its key counters\n"
    "(from /health/live, /health/ready and /api/v1/metrics).\n"
    "\n"
    "  --url URL    daemon address (default $MWRASP_URL or " DEFAULT_URL ")\n"
    "  -h, --help   this help\n"
    "\n"
    "Exit status: 0 live and ready, 1 live but not ready, 2 unreachable.\n";

static unsigned long long sum_obj(json_t *o)
{
    const char *k;
    json_t *v;
    unsigned long long s = 0;
    json_object_foreach(o, k, v)
    {
        if (json_is_integer(v))
            s += (unsigned long long)json_integer_value(v);
        else if (json_is_object(v))
            s += sum_obj(v);
    }
    return s;
}

static int cmd_status(int argc, char **argv)
{
    static const struct option lo[] = {
        {"url", required_argument, 0, 'u'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *urlflag = NULL;
    struct mw_http_response r;
    int c, ready;

    while ((c = getopt_long(argc, argv, "u:h", lo, NULL)) != -1) {
        switch (c) {
        case 'u':
            urlflag = optarg;
            break;
        case 'h':
            fputs(status_help, stdout);
            return 0;
        default:
            fputs(status_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(status_help, stderr);
        return EXIT_USAGE;
    }
    const char *url = pick_url(urlflag);
    if (call(url, "GET", "/health/live", NULL, NULL, 0, &r) != 0)
        return EXIT_DAEMON;
    printf("daemon:      %s (%s)\n", url, r.status == 200 ? "live" : "NOT live");
    mw_http_response_clear(&r);
    if (call(url, "GET", "/health/ready", NULL, NULL, 0, &r) != 0)
        return EXIT_DAEMON;
    ready = r.status == 200;
    printf("ready:       %s\n", ready ? "yes" : "no");
    mw_http_response_clear(&r);
    if (call(url, "GET", "/api/v1/metrics", NULL, NULL, 0, &r) != 0)
        return EXIT_DAEMON;
    json_t *m = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
    mw_http_response_clear(&r);
    if (m == NULL) {
        fprintf(stderr, "mwrasp: status: no metrics from the daemon\n");
        return EXIT_DAEMON;
    }
    json_t *in = json_object_get(m, "events_in");
    printf("events in:   %llu (", sum_obj(in));
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(in, k, v)
    {
        printf("%s%s %lld", first ? "" : ", ", k, (long long)json_integer_value(v));
        first = 0;
    }
    printf(")\n");
#define N(k) ((unsigned long long)json_integer_value(json_object_get(m, k)))
    printf("rejected:    %llu\n", sum_obj(json_object_get(m, "events_rejected")));
    printf("dropped:     %llu\n", sum_obj(json_object_get(m, "events_dropped")));
    printf("stored:      %llu\n", N("events_stored"));
    printf("detections:  %llu\n", N("detections"));
    printf("threats:     %llu new, %llu folded\n", N("threats_new"), N("threats_folded"));
    printf("rules:       %llu loaded, %llu refused\n", N("rules_loaded"), N("rule_errors"));
    if (json_object_get(m, "ring_depth"))
        printf("ring depth:  %llu\n", N("ring_depth"));
    printf("api:         %llu requests, %llu 4xx, %llu 5xx\n", N("api_requests"),
           N("api_errors_4xx"), N("api_errors_5xx"));
#undef N
    json_decref(m);
    return ready ? 0 : EXIT_REFUSED;
}

/* ---- main ----------------------------------------------------------------- */

int mw_cmd_sigma(int argc, char **argv); /* cmd/mwrasp_sigma.c */
int mw_cmd_crypto(int argc, char **argv); /* cmd/mwrasp_crypto.c */
int mw_cmd_keygen(int argc, char **argv); /* cmd/mwrasp_keys.c */
int mw_cmd_keys(int argc, char **argv); /* cmd/mwrasp_keys.c */
int mw_cmd_exposure(int argc, char **argv); /* cmd/mwrasp_exposure.c */
int mw_cmd_cert(int argc, char **argv); /* cmd/mwrasp_cert.c */
int mw_cmd_apikey(int argc, char **argv); /* cmd/mwrasp_apikey.c */

struct subcmd {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct subcmd subcmds[] = {
    {"replay", cmd_replay, "send a file of events to the daemon"},
    {"threats", cmd_threats, "list threats"},
    {"status", cmd_status, "daemon health and key counters"},
    {"apikey", mw_cmd_apikey, "API keys: apikey create --role ROLE | list | revoke ID (admin)"},
    {"sigma", mw_cmd_sigma, "offline Sigma tools: eval rules over events, check rules"},
    {"crypto", mw_cmd_crypto, "offline crypto tools: run NIST ACVP vectors (crypto acvp PATH)"},
    {"keygen", mw_cmd_keygen, "create a keystore (ML-DSA-87 identity, AES-256-GCM data keys)"},
    {"keys", mw_cmd_keys, "keystore generations: keys list | keys rotate"},
    {"cert", mw_cmd_cert, "TLS: cert selfsigned --out-cert F --out-key F (key and certificate)"},
    {"exposure", mw_cmd_exposure,
     "quantum exposure: exposure scan FILE... (TLS/QUIC/SSH key exchanges, CBOM)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mwrasp COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct subcmd *s = subcmds; s->name; s++)
        fprintf(fp, "  %-10s %s\n", s->name, s->summary);
    fprintf(fp, "\n'mwrasp COMMAND --help' describes each one. The daemon address is\n"
                "--url URL, else $MWRASP_URL, else " DEFAULT_URL ".\n"
                "Credentials: --api-key KEY (an API key or a JWT), else $MWRASP_API_KEY.\n");
}

int main(int argc, char **argv)
{
    argc = take_api_key(argc, argv);
    if (argc < 0) {
        fprintf(stderr, "mwrasp: --api-key needs a value\n");
        return EXIT_USAGE;
    }
    if (api_key == NULL)
        api_key = getenv("MWRASP_API_KEY");
    else if (setenv("MWRASP_API_KEY", api_key, 1) != 0) /* for cmd/mwrasp_apikey.c */
        return EXIT_USAGE;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (const struct subcmd *s = subcmds; s->name; s++) {
        if (strcmp(argv[1], s->name) == 0) {
            optind = 1;
            return s->fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mwrasp: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
