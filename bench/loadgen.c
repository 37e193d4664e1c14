/* loadgen: load generator and reference sink for the MWRASP benchmarks.
 *
 *   loadgen syslog-tcp HOST:PORT [options]   newline-framed syslog over TCP
 *   loadgen http-ndjson URL [options]        POST batches of NDJSON lines to URL;
 *                                            each connection waits for the 2xx
 *                                            answer to a batch before the next
 *   loadgen sink-tcp PORT [--count N]        reference: accept TCP connections
 *                                            on 127.0.0.1:PORT, read and discard
 *   loadgen print syslog|json [options]      write the events to stdout instead
 *                                            (to inspect or validate them)
 *
 * Options for the senders:
 *   --count N            events in total (default 100000)
 *   --rate R             events/s in total, 0 = as fast as possible (default 0)
 *   --connections C      parallel connections, one thread each (default 1)
 *   --batch B            lines per HTTP POST (default 1000)
 *   --rules-hit-ratio X  fraction of events crafted to match rules (default 0)
 *   --bench-rules K      number of bench rules to aim hits at (default 0: hits
 *                        aim at the bundled rules only)
 *   --seed S             generator seed (default 1)
 *   --wait-metrics URL   GET URL (the daemon's /api/v1/metrics) before and after
 *                        sending, and wait until events_stored has grown by the
 *                        number of events sent; report that time too
 *   --timeout S          give up after S seconds of sending and waiting
 *                        (default 300); the summary then says "timed_out"
 *   --api-key KEY        sent as "Authorization: Bearer KEY" on every HTTP
 *                        request (default: $MWRASP_API_KEY, if set)
 *
 * Output: one JSON object on stdout (sent, seconds, events_per_s, ...).
 * The sink prints {"listening": PORT} on stderr once bound (PORT 0 picks a
 * free port), then its JSON summary on stdout when --count lines have
 * arrived, or when no data came for --idle-timeout seconds (default 3).
 *
 * Exit status: 0 on success, 1 on a failure (connect, send, HTTP error,
 * timeout), 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evgen.h"

#define POOL_EVENTS 8192
#define SEND_BUF (256 * 1024)
#define HTTP_HDR_MAX (16 * 1024)
#define MAX_CONNECTIONS 256
#define MAX_BATCH 100000
#define HTTP_RETRIES 1000 /* 429/503 answers tolerated per batch */

enum mode { MODE_SYSLOG_TCP, MODE_HTTP_NDJSON, MODE_SINK_TCP, MODE_PRINT };

struct opts {
    enum mode mode;
    const char *target;
    uint64_t count;
    double rate;
    unsigned connections;
    unsigned batch;
    double hit_ratio;
    unsigned bench_rules;
    uint64_t seed;
    const char *wait_url;
    double timeout;
    double idle_timeout;
    int count_set;
};

struct url {
    char host[300];
    char port[16];
    char path[1024];
    char hostport[300];
};

static atomic_int g_stop;
static double g_deadline; /* monotonic seconds; 0 = none. Set before threads start. */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* True once the run should give up (deadline passed or stop requested). */
static int give_up(void)
{
    return atomic_load(&g_stop) || (g_deadline > 0 && now_s() > g_deadline);
}

/* ---- addresses -------------------------------------------------------- */

/* "HOST:PORT" (HOST may be [v6]). */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return -1;
        hl = (size_t)(end - s - 1);
        if (hl >= hcap)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - s);
        if (hl == 0 || hl >= hcap)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= pcap)
        return -1;
    strcpy(port, colon + 1);
    return 0;
}

static int parse_url(const char *s, struct url *u)
{
    const char *p, *slash;
    char hp[300];
    size_t n;
    if (strncmp(s, "http://", 7) != 0)
        return -1;
    p = s + 7;
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= sizeof(hp))
        return -1;
    memcpy(hp, p, n);
    hp[n] = '\0';
    if (strchr(hp, ':') && hp[0] != '[') {
        if (split_hostport(hp, u->host, sizeof(u->host), u->port, sizeof(u->port)) != 0)
            return -1;
    } else if (hp[0] == '[') {
        if (split_hostport(hp, u->host, sizeof(u->host), u->port, sizeof(u->port)) != 0)
            return -1;
    } else {
        snprintf(u->host, sizeof(u->host), "%s", hp);
        strcpy(u->port, "80");
    }
    snprintf(u->hostport, sizeof(u->hostport), "%s", hp);
    if (!slash)
        strcpy(u->path, "/");
    else if (strlen(slash) >= sizeof(u->path))
        return -1;
    else
        strcpy(u->path, slash);
    return 0;
}

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, one = 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        /* Blocking calls wake up every second so the deadline is checked. */
        struct timeval tv = {1, 0};
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!give_up())
                    continue;
                errno = ETIMEDOUT;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- a minimal HTTP/1.1 client --------------------------------------- */

struct conn {
    int fd;
    char buf[HTTP_HDR_MAX];
    size_t pos, len;
};

static int conn_fill(struct conn *c)
{
    ssize_t r;
    if (c->pos > 0 && c->pos < c->len)
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
    if (c->len == sizeof(c->buf))
        return -1;
    for (;;) {
        r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (r >= 0)
            break;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && !give_up())
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            errno = ETIMEDOUT;
        break;
    }
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    return 0;
}

/* One line without CRLF into out (NUL-terminated). */
static int conn_line(struct conn *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->pos));
            if (n > 0 && c->buf[c->pos + n - 1] == '\r')
                n--;
            if (n >= cap)
                return -1;
            memcpy(out, c->buf + c->pos, n);
            out[n] = '\0';
            c->pos = (size_t)(nl - c->buf) + 1;
            return 0;
        }
        if (conn_fill(c) != 0)
            return -1;
    }
}

/* Reads n body bytes, keeping up to keep_cap of them in keep. */
static int conn_body(struct conn *c, size_t n, char *keep, size_t keep_cap, size_t *kept)
{
    while (n > 0) {
        if (c->pos == c->len && conn_fill(c) != 0)
            return -1;
        size_t avail = c->len - c->pos;
        size_t take = avail < n ? avail : n;
        if (keep && *kept < keep_cap) {
            size_t k = keep_cap - *kept < take ? keep_cap - *kept : take;
            memcpy(keep + *kept, c->buf + c->pos, k);
            *kept += k;
        }
        c->pos += take;
        n -= take;
    }
    return 0;
}

/* Reads one response. *status gets the code; body (first body_cap-1 bytes,
 * NUL-terminated) into body if not NULL; *close_after set when the server
 * will close the connection. */
static int http_read_response(struct conn *c, int *status, char *body, size_t body_cap,
                              int *close_after)
{
    char line[HTTP_HDR_MAX];
    long long clen = -1;
    int chunked = 0, minor = 1;
    size_t kept = 0;
    if (conn_line(c, line, sizeof(line)) != 0)
        return -1;
    if (sscanf(line, "HTTP/1.%d %d", &minor, status) != 2)
        return -1;
    *close_after = minor == 0;
    for (;;) {
        if (conn_line(c, line, sizeof(line)) != 0)
            return -1;
        if (line[0] == '\0')
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtoll(line + 15, NULL, 10);
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strcasestr(line, "chunked"))
            chunked = 1;
        else if (strncasecmp(line, "Connection:", 11) == 0) {
            if (strcasestr(line, "close"))
                *close_after = 1;
            else if (strcasestr(line, "keep-alive"))
                *close_after = 0;
        }
    }
    if (chunked) {
        for (;;) {
            unsigned long long sz;
            if (conn_line(c, line, sizeof(line)) != 0)
                return -1;
            sz = strtoull(line, NULL, 16);
            if (sz == 0) {
                /* trailers until an empty line */
                do {
                    if (conn_line(c, line, sizeof(line)) != 0)
                        return -1;
                } while (line[0] != '\0');
                break;
            }
            if (conn_body(c, (size_t)sz, body, body_cap ? body_cap - 1 : 0, &kept) != 0)
                return -1;
            if (conn_line(c, line, sizeof(line)) != 0)
                return -1;
        }
    } else if (clen >= 0) {
        if (conn_body(c, (size_t)clen, body, body_cap ? body_cap - 1 : 0, &kept) != 0)
            return -1;
    } else if (*status != 204 && *status != 304 && *status >= 200) {
        /* no length: body runs to EOF */
        for (;;) {
            size_t avail = c->len - c->pos;
            if (body && kept + 1 < body_cap) {
                size_t k = body_cap - 1 - kept < avail ? body_cap - 1 - kept : avail;
                memcpy(body + kept, c->buf + c->pos, k);
                kept += k;
            }
            c->pos = c->len = 0;
            if (conn_fill(c) != 0)
                break;
        }
        *close_after = 1;
    }
    if (body && body_cap)
        body[kept] = '\0';
    return 0;
}

static int conn_open(struct conn *c, const struct url *u)
{
    c->pos = c->len = 0;
    c->fd = tcp_connect(u->host, u->port);
    return c->fd < 0 ? -1 : 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* "Authorization: Bearer KEY\r\n" for every HTTP request, or "" (set in main). */
static char auth_header[300];

static int set_api_key(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 256)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (key[i] <= ' ' || key[i] > '~')
            return -1;
    snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s\r\n", key);
    return 0;
}

/* GET url; body into out (NUL-terminated). Returns the status or -1. */
static int http_get(const struct url *u, char *out, size_t cap)
{
    struct conn *c = calloc(1, sizeof(*c));
    char req[1800];
    int status = -1, close_after;
    if (!c)
        return -1;
    if (conn_open(c, u) != 0)
        goto out;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
             u->path, u->hostport, auth_header);
    if (write_all(c->fd, req, strlen(req)) != 0 ||
        http_read_response(c, &status, out, cap, &close_after) != 0)
        status = -1;
out:
    conn_close(c);
    free(c);
    return status;
}

/* events_stored from the daemon's metrics JSON; -1 if unreadable. */
static long long get_events_stored(const struct url *u)
{
    static char body[1 << 16];
    const char *p;
    if (http_get(u, body, sizeof(body)) != 200)
        return -1;
    p = strstr(body, "\"events_stored\"");
    if (!p)
        return -1;
    p += strlen("\"events_stored\"");
    while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    return strtoll(p, NULL, 10);
}

/* ---- senders ------------------------------------------------------------ */

struct worker {
    pthread_t th;
    const struct opts *o;
    const struct url *url;
    char host[256], port[16];
    unsigned idx;
    uint64_t quota; /* events this worker sends */
    double rate; /* events/s for this worker, 0 = unpaced */
    double t_start; /* shared start time */
    /* results */
    uint64_t sent, bytes, hits, batches, retries;
    int failed, timed_out;
    char err[1024];
};

/* Copies up to k events of the pool, from *cursor on (wrapping), into dst;
 * *taken gets how many fit; *hits grows by how many of them are hits.
 * Returns the bytes copied. */
static size_t pool_copy(const struct evpool *p, size_t *cursor, size_t k, char *dst, size_t cap,
                        size_t *taken, uint64_t *hits)
{
    size_t used = 0, n = 0;
    while (n < k) {
        size_t i = *cursor;
        size_t len = p->off[i + 1] - p->off[i];
        if (used + len > cap)
            break;
        memcpy(dst + used, p->data + p->off[i], len);
        *hits += p->hit[i];
        used += len;
        n++;
        *cursor = (i + 1) % p->n;
    }
    *taken = n;
    return used;
}

static void *syslog_worker(void *arg)
{
    struct worker *w = arg;
    struct evgen g;
    struct evpool pool;
    char *buf = NULL;
    size_t cursor = 0;
    int fd = -1;
    unsigned chunk;

    evgen_init(&g, w->o->seed * 1000 + w->idx + 1, w->o->bench_rules);
    if (evpool_build(&pool, &g, EVGEN_SYSLOG, POOL_EVENTS, w->o->hit_ratio) != 0) {
        snprintf(w->err, sizeof(w->err), "out of memory");
        w->failed = 1;
        return NULL;
    }
    buf = malloc(SEND_BUF);
    fd = tcp_connect(w->host, w->port);
    if (!buf || fd < 0) {
        snprintf(w->err, sizeof(w->err), "connect %s:%s: %s", w->host, w->port, strerror(errno));
        w->failed = 1;
        goto out;
    }
    /* Paced: about 1 ms worth of events per write. */
    chunk = w->rate > 0 ? (unsigned)(w->rate / 1000.0) : 1000000;
    if (chunk < 1)
        chunk = 1;
    while (w->sent < w->quota && !give_up()) {
        uint64_t want = w->quota - w->sent;
        size_t taken, n;
        if (want > chunk)
            want = chunk;
        if (w->rate > 0)
            sleep_until(w->t_start + (double)w->sent / w->rate);
        n = pool_copy(&pool, &cursor, (size_t)want, buf, SEND_BUF, &taken, &w->hits);
        if (write_all(fd, buf, n) != 0) {
            if (errno != ETIMEDOUT) {
                snprintf(w->err, sizeof(w->err), "send: %s", strerror(errno));
                w->failed = 1;
            }
            break;
        }
        w->sent += taken;
        w->bytes += n;
    }
    w->timed_out = !w->failed && w->sent < w->quota;
    shutdown(fd, SHUT_WR);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    evpool_free(&pool);
    return NULL;
}

static void *http_worker(void *arg)
{
    struct worker *w = arg;
    struct evgen g;
    struct evpool pool;
    struct conn *c = calloc(1, sizeof(*c));
    size_t cap = (size_t)w->o->batch * EVGEN_MAX + 1024;
    char *buf = malloc(cap);
    char hdr[1600], body[512];
    size_t cursor = 0;
    int pool_ok;

    evgen_init(&g, w->o->seed * 1000 + w->idx + 1, w->o->bench_rules);
    pool_ok = evpool_build(&pool, &g, EVGEN_JSON, POOL_EVENTS, w->o->hit_ratio) == 0;
    if (!c || !buf || !pool_ok) {
        snprintf(w->err, sizeof(w->err), "out of memory");
        w->failed = 1;
        goto out;
    }
    c->fd = -1;
    while (w->sent < w->quota && !give_up()) {
        uint64_t want = w->quota - w->sent;
        size_t taken, n;
        int status = 0, close_after = 0, tries = 0;
        if (want > w->o->batch)
            want = w->o->batch;
        if (w->rate > 0)
            sleep_until(w->t_start + (double)w->sent / w->rate);
        n = pool_copy(&pool, &cursor, (size_t)want, buf, cap, &taken, &w->hits);
        for (;;) {
            int hl;
            if (c->fd < 0 && conn_open(c, w->url) != 0) {
                snprintf(w->err, sizeof(w->err), "connect %s: %s", w->url->hostport,
                         strerror(errno));
                w->failed = 1;
                goto out;
            }
            hl = snprintf(hdr, sizeof(hdr),
                          "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/x-ndjson\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          w->url->path, w->url->hostport, auth_header, n);
            if (write_all(c->fd, hdr, (size_t)hl) != 0 || write_all(c->fd, buf, n) != 0 ||
                http_read_response(c, &status, body, sizeof(body), &close_after) != 0) {
                /* The server may close an idle keep-alive connection: retry once
                 * on a fresh one, then fail. */
                conn_close(c);
                if (errno == ETIMEDOUT || give_up())
                    goto out;
                if (++tries > 1) {
                    snprintf(w->err, sizeof(w->err), "HTTP exchange failed: %s", strerror(errno));
                    w->failed = 1;
                    goto out;
                }
                continue;
            }
            if (close_after)
                conn_close(c);
            if (status == 429 || status == 503) {
                /* back-pressure: wait and resend the same batch */
                if (++w->retries > (uint64_t)HTTP_RETRIES * (w->batches + 1)) {
                    snprintf(w->err, sizeof(w->err), "HTTP %d too many times", status);
                    w->failed = 1;
                    goto out;
                }
                usleep(10000);
                continue;
            }
            break;
        }
        if (status < 200 || status > 299) {
            snprintf(w->err, sizeof(w->err), "HTTP %d: %.200s", status, body);
            w->failed = 1;
            break;
        }
        w->batches++;
        w->sent += taken;
        w->bytes += n;
    }
out:
    w->timed_out = !w->failed && w->sent < w->quota;
    if (c)
        conn_close(c);
    free(c);
    free(buf);
    evpool_free(&pool);
    return NULL;
}

static int run_sender(const struct opts *o)
{
    struct worker *ws = calloc(o->connections, sizeof(*ws));
    struct url url, wurl;
    char host[256], port[16];
    long long base = -1, stored = -1;
    double t0, t_sent, t_stored = 0;
    uint64_t sent = 0, bytes = 0, hits = 0, batches = 0, retries = 0;
    int failed = 0, timed_out = 0, rc = 1;
    const char *first_err = "";

    if (!ws)
        return 1;
    memset(&url, 0, sizeof(url));
    if (o->mode == MODE_HTTP_NDJSON) {
        if (parse_url(o->target, &url) != 0) {
            fprintf(stderr, "loadgen: bad URL '%s' (want http://HOST:PORT/PATH)\n", o->target);
            free(ws);
            return 2;
        }
    } else if (split_hostport(o->target, host, sizeof(host), port, sizeof(port)) != 0) {
        fprintf(stderr, "loadgen: bad address '%s' (want HOST:PORT)\n", o->target);
        free(ws);
        return 2;
    }
    if (o->wait_url) {
        if (parse_url(o->wait_url, &wurl) != 0) {
            fprintf(stderr, "loadgen: bad --wait-metrics URL '%s'\n", o->wait_url);
            free(ws);
            return 2;
        }
        base = get_events_stored(&wurl);
        if (base < 0) {
            fprintf(stderr, "loadgen: cannot read events_stored from %s\n", o->wait_url);
            free(ws);
            return 1;
        }
    }

    t0 = now_s();
    g_deadline = t0 + o->timeout;
    for (unsigned i = 0; i < o->connections; i++) {
        struct worker *w = &ws[i];
        w->o = o;
        w->url = &url;
        w->idx = i;
        w->quota = o->count / o->connections + (i < o->count % o->connections ? 1 : 0);
        w->rate = o->rate > 0 ? o->rate / o->connections : 0;
        w->t_start = t0;
        if (o->mode == MODE_SYSLOG_TCP) {
            strcpy(w->host, host);
            strcpy(w->port, port);
        }
        if (pthread_create(&w->th, NULL, o->mode == MODE_SYSLOG_TCP ? syslog_worker : http_worker,
                           w) != 0) {
            fprintf(stderr, "loadgen: pthread_create failed\n");
            atomic_store(&g_stop, 1);
            for (unsigned j = 0; j < i; j++)
                pthread_join(ws[j].th, NULL);
            free(ws);
            return 1;
        }
    }
    for (unsigned i = 0; i < o->connections; i++) {
        pthread_join(ws[i].th, NULL);
        sent += ws[i].sent;
        bytes += ws[i].bytes;
        hits += ws[i].hits;
        batches += ws[i].batches;
        retries += ws[i].retries;
        if (ws[i].failed && !failed) {
            failed = 1;
            first_err = ws[i].err;
        }
        timed_out |= ws[i].timed_out;
    }
    t_sent = now_s();
    if (failed)
        fprintf(stderr, "loadgen: %s\n", first_err);

    if (timed_out)
        fprintf(stderr, "loadgen: timeout after %.1f s: %" PRIu64 " of %" PRIu64 " events sent\n",
                t_sent - t0, sent, o->count);

    /* Wait until the daemon has stored everything sent (or the deadline);
     * read the counter at least once so a timed-out run still reports. */
    if (o->wait_url && !failed) {
        for (;;) {
            stored = get_events_stored(&wurl);
            t_stored = now_s();
            if (stored >= 0 && (uint64_t)(stored - base) >= sent)
                break;
            if (give_up()) {
                timed_out = 1;
                fprintf(stderr, "loadgen: timeout: %lld of %" PRIu64 " events stored\n",
                        stored < 0 ? -1 : stored - base, sent);
                break;
            }
            usleep(20000);
        }
    }

    double secs = t_sent - t0;
    printf("{\"mode\":\"%s\",\"target\":\"%s\",\"sent\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"hits\":%" PRIu64 ",\"connections\":%u,",
           o->mode == MODE_SYSLOG_TCP ? "syslog-tcp" : "http-ndjson", o->target, sent, bytes, hits,
           o->connections);
    if (o->mode == MODE_HTTP_NDJSON)
        printf("\"batch\":%u,\"batches\":%" PRIu64 ",\"retries\":%" PRIu64 ",", o->batch, batches,
               retries);
    printf("\"rate_target\":%.0f,\"seconds\":%.3f,\"events_per_s\":%.0f,\"avg_bytes\":%.0f",
           o->rate, secs, secs > 0 ? (double)sent / secs : 0.0,
           sent ? (double)bytes / (double)sent : 0.0);
    if (o->wait_url && !failed) {
        double ss = t_stored - t0;
        printf(",\"stored\":%lld,\"stored_seconds\":%.3f,\"stored_events_per_s\":%.0f",
               stored < 0 ? -1 : stored - base, ss,
               ss > 0 && stored >= 0 ? (double)(stored - base) / ss : 0.0);
    }
    printf(",\"timed_out\":%s", timed_out ? "true" : "false");
    printf(",\"ok\":%s}\n", failed || timed_out ? "false" : "true");
    fflush(stdout);
    rc = failed || timed_out ? 1 : 0;
    free(ws);
    return rc;
}

/* ---- sink ---------------------------------------------------------------- */

static atomic_uint_fast64_t s_lines, s_bytes;
static atomic_int s_active;
static _Atomic double s_first, s_last;

static void *sink_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(SEND_BUF);
    if (!buf) {
        close(fd);
        atomic_fetch_sub(&s_active, 1);
        return NULL;
    }
    for (;;) {
        ssize_t r = recv(fd, buf, SEND_BUF, 0);
        uint64_t nl = 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (const char *p = buf, *end = buf + r; (p = memchr(p, '\n', (size_t)(end - p))); p++)
            nl++;
        double t = now_s();
        double zero = 0;
        atomic_compare_exchange_strong(&s_first, &zero, t);
        atomic_store(&s_last, t);
        atomic_fetch_add(&s_bytes, (uint64_t)r);
        atomic_fetch_add(&s_lines, nl);
    }
    close(fd);
    free(buf);
    atomic_fetch_sub(&s_active, 1);
    return NULL;
}

static int run_sink(const struct opts *o)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int lfd, one = 1;
    char *end;
    long port = strtol(o->target, &end, 10);
    double t_done;

    if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "loadgen: bad port '%s'\n", o->target);
        return 2;
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        fprintf(stderr, "loadgen: bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
        close(lfd);
        return 1;
    }
    fprintf(stderr, "{\"listening\":%u}\n", ntohs(sa.sin_port));
    fflush(stderr);

    double t_begin = now_s();
    for (;;) {
        struct pollfd pfd = {lfd, POLLIN, 0};
        int pr = poll(&pfd, 1, 20);
        double t = now_s();
        if (pr > 0) {
            int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) {
                pthread_t th;
                atomic_fetch_add(&s_active, 1);
                if (pthread_create(&th, NULL, sink_conn, (void *)(intptr_t)cfd) != 0) {
                    close(cfd);
                    atomic_fetch_sub(&s_active, 1);
                } else {
                    pthread_detach(th);
                }
            }
        }
        if (o->count_set && atomic_load(&s_lines) >= o->count)
            break;
        double last = atomic_load(&s_last);
        if (last > 0 && atomic_load(&s_active) == 0 && !o->count_set)
            break; /* every sender hung up */
        if ((last > 0 ? t - last : t - t_begin) > o->idle_timeout)
            break;
    }
    t_done = now_s();
    close(lfd);
    uint64_t lines = atomic_load(&s_lines), bytes = atomic_load(&s_bytes);
    double first = atomic_load(&s_first);
    double secs =
        first > 0 ? (o->count_set && lines >= o->count ? t_done : atomic_load(&s_last)) - first : 0;
    int ok = !o->count_set || lines >= o->count;
    printf("{\"mode\":\"sink-tcp\",\"port\":%u,\"received\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"seconds\":%.3f,\"events_per_s\":%.0f,\"ok\":%s}\n",
           ntohs(sa.sin_port), lines, bytes, secs, secs > 0 ? (double)lines / secs : 0.0,
           ok ? "true" : "false");
    fflush(stdout);
    return ok ? 0 : 1;
}

/* ---- print ------------------------------------------------------------- */

static int run_print(const struct opts *o)
{
    struct evgen g;
    struct evpool pool;
    enum evgen_format fmt;
    size_t cursor = 0;

    if (!strcmp(o->target, "syslog"))
        fmt = EVGEN_SYSLOG;
    else if (!strcmp(o->target, "json"))
        fmt = EVGEN_JSON;
    else {
        fprintf(stderr, "loadgen: print wants 'syslog' or 'json'\n");
        return 2;
    }
    evgen_init(&g, o->seed * 1000 + 1, o->bench_rules);
    if (evpool_build(&pool, &g, fmt, POOL_EVENTS, o->hit_ratio) != 0)
        return 1;
    for (uint64_t i = 0; i < o->count; i++) {
        size_t k = cursor;
        fwrite(pool.data + pool.off[k], 1, pool.off[k + 1] - pool.off[k], stdout);
        cursor = (k + 1) % pool.n;
    }
    evpool_free(&pool);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loadgen syslog-tcp HOST:PORT [options]\n"
            "       loadgen http-ndjson http://HOST:PORT/api/v1/events [options]\n"
            "       loadgen sink-tcp PORT [--count N] [--idle-timeout S]\n"
            "       loadgen print syslog|json [--count N] [--rules-hit-ratio X] [--bench-rules K]\n"
            "options: --count N --rate R --connections C --batch B --rules-hit-ratio X\n"
            "         --bench-rules K --seed S --wait-metrics URL --timeout S\n"
            "         --api-key KEY (default $MWRASP_API_KEY)\n");
}

static int num_arg(const char *name, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d;
    if (!v) {
        fprintf(stderr, "loadgen: %s needs a value\n", name);
        return -1;
    }
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= lo && d <= hi)) {
        fprintf(stderr, "loadgen: %s: '%s' is not a number in [%g, %g]\n", name, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.count = 100000,
                     .connections = 1,
                     .batch = 1000,
                     .seed = 1,
                     .timeout = 300,
                     .idle_timeout = 3};
    double d;
    int i;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "syslog-tcp"))
        o.mode = MODE_SYSLOG_TCP;
    else if (!strcmp(argv[1], "http-ndjson"))
        o.mode = MODE_HTTP_NDJSON;
    else if (!strcmp(argv[1], "sink-tcp"))
        o.mode = MODE_SINK_TCP;
    else if (!strcmp(argv[1], "print"))
        o.mode = MODE_PRINT;
    else {
        usage(stderr);
        return 2;
    }
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    o.target = argv[2];
    if (getenv("MWRASP_API_KEY") && *getenv("MWRASP_API_KEY") &&
        set_api_key(getenv("MWRASP_API_KEY")) != 0) {
        fprintf(stderr, "loadgen: $MWRASP_API_KEY is not a valid API key\n");
        return 2;
    }
    for (i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--api-key")) {
            if (!v || set_api_key(v) != 0) {
                fprintf(stderr, "loadgen: --api-key needs a key (printable, at most 256 bytes)\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--count")) {
            if (num_arg(a, v, 1, 1e12, &d))
                return 2;
            o.count = (uint64_t)d;
            o.count_set = 1;
        } else if (!strcmp(a, "--rate")) {
            if (num_arg(a, v, 0, 1e9, &d))
                return 2;
            o.rate = d;
        } else if (!strcmp(a, "--connections")) {
            if (num_arg(a, v, 1, MAX_CONNECTIONS, &d))
                return 2;
            o.connections = (unsigned)d;
        } else if (!strcmp(a, "--batch")) {
            if (num_arg(a, v, 1, MAX_BATCH, &d))
                return 2;
            o.batch = (unsigned)d;
        } else if (!strcmp(a, "--rules-hit-ratio")) {
            if (num_arg(a, v, 0, 1, &d))
                return 2;
            o.hit_ratio = d;
        } else if (!strcmp(a, "--bench-rules")) {
            if (num_arg(a, v, 0, 1e6, &d))
                return 2;
            o.bench_rules = (unsigned)d;
        } else if (!strcmp(a, "--seed")) {
            if (num_arg(a, v, 0, 1e15, &d))
                return 2;
            o.seed = (uint64_t)d;
        } else if (!strcmp(a, "--wait-metrics")) {
            if (!v) {
                fprintf(stderr, "loadgen: --wait-metrics needs a URL\n");
                return 2;
            }
            o.wait_url = v;
        } else if (!strcmp(a, "--timeout")) {
            if (num_arg(a, v, 0.1, 86400, &d))
                return 2;
            o.timeout = d;
        } else if (!strcmp(a, "--idle-timeout")) {
            if (num_arg(a, v, 0.1, 86400, &d))
                return 2;
            o.idle_timeout = d;
        } else {
            fprintf(stderr, "loadgen: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (o.mode == MODE_PRINT)
        return run_print(&o);
    if (o.connections > o.count && o.mode != MODE_SINK_TCP)
        o.connections = (unsigned)o.count;
    signal(SIGPIPE, SIG_IGN);
    if (o.mode == MODE_SINK_TCP)
        return run_sink(&o);
    return run_sender(&o);
}
