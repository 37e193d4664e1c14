/* ws_fanout: WebSocket fan-out latency of mwraspd's /api/v1/stream.
 *
 *   ws_fanout --port P --key KEY [--host 127.0.0.1] [--clients 1000]
 *             [--expect N] [--timeout S]
 *
 * Opens --clients connections (RFC 6455 handshake with Authorization:
 * Bearer KEY), subscribes each to "threats", prints "ready" on stdout, then
 * reads every connection with one epoll loop. For each threat message, the
 * delivery latency is receive time (CLOCK_REALTIME) minus the message's
 * published_ns (set by the daemon when the engine's writer hands the
 * committed threat to the stream). Pings are answered. Ends when every
 * client has --expect threat messages (or at --timeout) and prints one JSON
 * line: clients, messages, lost, p50/p90/p99/max in ms. Exit 1 on a setup
 * error or when messages are missing. Client and daemon share the clock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_CAP (256u << 10) /* per connection: largest frame we accept */

struct conn {
    int fd;
    unsigned char *buf;
    size_t len;
    long got; /* threat messages */
    int subscribed;
};

static double *lat_ms;
static size_t nlat, caplat;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "ws_fanout: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A masked client frame (RFC 6455 section 5.3; the mask may be constant
 * for a benchmark, the server unmasks whatever it is). */
static int send_frame(int fd, int opcode, const void *data, size_t n)
{
    unsigned char hdr[14 + 125];
    size_t h = 0;
    static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (n > 125)
        return -1;
    hdr[h++] = (unsigned char)(0x80 | opcode);
    hdr[h++] = (unsigned char)(0x80 | n);
    memcpy(hdr + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        hdr[h++] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    return write_all(fd, hdr, h);
}

static int open_client(const char *host, int port, const char *key)
{
    struct sockaddr_in sa;
    char req[1024];
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        die("socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "ws_fanout: bad host %s\n", host);
        exit(1);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                     host, port, key);
    if (n <= 0 || (size_t)n >= sizeof req || write_all(fd, req, (size_t)n) != 0)
        die("handshake write");
    /* read the response head byte by byte (once per client: fine) */
    char head[2048];
    size_t hl = 0;
    while (hl < sizeof head - 1) {
        ssize_t r = read(fd, head + hl, 1);
        if (r <= 0)
            die("handshake read");
        hl++;
        if (hl >= 4 && memcmp(head + hl - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[hl] = '\0';
    /* RFC 6455 section 1.3 example key -> this accept value */
    if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
        fprintf(stderr, "ws_fanout: upgrade refused: %.200s\n", head);
        exit(1);
    }
    static const char sub[] = "{\"type\":\"subscribe\",\"topics\":[\"threats\"]}";
    if (send_frame(fd, 1, sub, sizeof sub - 1) != 0)
        die("subscribe");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void add_lat(double ms)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 65536;
        lat_ms = realloc(lat_ms, caplat * sizeof *lat_ms);
        if (!lat_ms)
            die("realloc");
    }
    lat_ms[nlat++] = ms;
}

/* Consumes whole frames of c->buf. Returns -1 when the server closed. */
static int frames(struct conn *c, int64_t t_recv, long *subscribed)
{
    size_t off = 0;
    while (c->len - off >= 2) {
        unsigned char *p = c->buf + off;
        int op = p[0] & 0x0f;
        uint64_t n = p[1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
            if (c->len - off < 4)
                break;
            n = ((uint64_t)p[2] << 8) | p[3];
            h = 4;
        } else if (n == 127) {
            if (c->len - off < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = (n << 8) | p[2 + i];
            h = 10;
        }
        if (n > BUF_CAP - 16) {
            fprintf(stderr, "ws_fanout: frame of %llu bytes\n", (unsigned long long)n);
            exit(1);
        }
        if (c->len - off < h + n)
            break;
        const char *d = (const char *)p + h;
        if (op == 9) {
            send_frame(c->fd, 10, d, n > 125 ? 125 : n);
        } else if (op == 8) {
            return -1;
        } else if (op == 1) {
            const char *t = memmem(d, n, "\"published_ns\":", 15);
            if (memmem(d, n < 40 ? n : 40, "\"type\":\"threat\"", 15) && t) {
                int64_t pub = strtoll(t + 15, NULL, 10);
                add_lat((double)(t_recv - pub) / 1e6);
                c->got++;
            } else if (!c->subscribed && memmem(d, n < 40 ? n : 40, "\"subscribed\"", 12)) {
                c->subscribed = 1;
                (*subscribed)++;
            }
        }
        off += h + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double q)
{
    if (!nlat)
        return 0;
    size_t i = (size_t)(q * (double)(nlat - 1) + 0.5);
    return lat_ms[i];
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *key = NULL;
    int port = 0, nclients = 1000, timeout_s = 60;
    long expect = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--host"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--key"))
            key = argv[i + 1];
        else if (!strcmp(argv[i], "--clients"))
            nclients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--expect"))
            expect = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout"))
            timeout_s = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "ws_fanout: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!port || !key || nclients < 1 || expect < 1) {
        fprintf(stderr, "usage: ws_fanout --port P --key KEY [--host H] [--clients N] "
                        "[--expect N] [--timeout S]\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nclients + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct conn *cs = calloc((size_t)nclients, sizeof *cs);
    int ep = epoll_create1(0);
    if (!cs || ep < 0)
        die("setup");
    for (int i = 0; i < nclients; i++) {
        cs[i].fd = open_client(host, port, key);
        cs[i].buf = malloc(BUF_CAP);
        if (!cs[i].buf)
            die("malloc");
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    long subscribed = 0, done = 0, closed = 0;
    int announced = 0;
    int64_t deadline = now_ns() + (int64_t)timeout_s * 1000000000LL;
    struct epoll_event evs[256];
    while (now_ns() < deadline) {
        if (!announced && subscribed == nclients) {
            printf("ready\n");
            fflush(stdout);
            announced = 1;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        int64_t t = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->len, BUF_CAP - c->len);
                if (r > 0) {
                    c->len += (size_t)r;
                    long before = c->got;
                    if (frames(c, t, &subscribed) < 0) {
                        closed++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                        break;
                    }
                    if (before < expect && c->got >= expect)
                        done++;
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    closed++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                }
                break;
            }
        }
        if (done == nclients)
            break;
    }
    qsort(lat_ms, nlat, sizeof *lat_ms, cmp_d);
    long lost = (long)nclients * expect - (long)nlat;
    printf("{\"clients\":%d,\"subscribed\":%ld,\"expected\":%ld,\"messages\":%zu,\"lost\":%ld,"
           "\"closed\":%ld,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           nclients, subscribed, (long)nclients * expect, nlat, lost < 0 ? 0 : lost, closed,
           pct(0.50), pct(0.90), pct(0.99), nlat ? lat_ms[nlat - 1] : 0.0);
    for (int i = 0; i < nclients; i++) {
        close(cs[i].fd);
        free(cs[i].buf);
    }
    free(cs);
    free(lat_ms);
    return lost > 0 ? 1 : 0;
}
