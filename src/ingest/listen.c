/* Network listeners: syslog over UDP (RFC 5426: one message per datagram),
 * syslog over TCP (RFC 6587: octet-counting and newline framing, chosen per
 * frame) and JSON lines over TCP.
 *
 * Threads: one per listener (the UDP reader, or the TCP accept loop), and one
 * per TCP connection, at most MAX_CONNS per listener. A thread per
 * connection (instead of all connections polled by the accept thread) lets
 * parsing run on every core, and makes back-pressure simple: a connection
 * whose submit blocks on a full ring stops reading, its kernel receive
 * window fills and its sender slows, without stalling the accept loop.
 * Every thread polls its socket together with one eventfd that
 * mw_ingest_stop() makes readable, so that stopping is prompt; the accept
 * thread joins its connections before it exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"

#define MAX_CONNS 256 /* TCP connections per listener */
#define READ_CHUNK 65536 /* room kept for each read() beyond max_line */
#define UDP_BATCH 16 /* datagrams per recvmmsg() */
#define OCTET_DIGITS_MAX 9 /* RFC 6587 MSG-LEN: at most 999999999 */
#define ERRLEN 256
#define PEERLEN (INET6_ADDRSTRLEN + 16)

enum kind { K_UDP, K_SYSLOG_TCP, K_JSON_TCP };

struct listener;

struct conn {
    struct listener *l;
    int fd;
    pthread_t th;
    _Atomic int done;
    char peer[PEERLEN]; /* "addr:port" for logs */
    char peer_host[PEERLEN]; /* "addr", host of messages without one */
    char *buf;
    size_t cap, start, end;
    size_t scanned; /* bytes from start known to hold no terminator */
    int skip; /* SKIP_NONE / SKIP_COUNT / SKIP_LINE */
    size_t skip_left; /* for SKIP_COUNT */
    int shutdown; /* the sink said MW_ESHUTDOWN */
};
enum { SKIP_NONE, SKIP_COUNT, SKIP_LINE };

struct listener {
    struct mw_ingest *in;
    const char *name;
    enum mw_source src;
    enum kind kind;
    int fd;
    int port;
    int started;
    pthread_t th;
    _Atomic uint64_t last_warn_ns;
    _Atomic uint64_t suppressed;
    struct conn *conns[MAX_CONNS]; /* owned by the accept thread */
};

struct mw_ingest {
    struct listener l[3];
    int wake_fd;
    _Atomic int stopping;
    size_t max_line;
    mw_sink_t sink;
};

/* ---- shared ---- */

/* Logs a refusal, at most once a second per listener; the others are
 * counted and reported with the next line. */
static void warn_refused(struct listener *l, const char *peer, enum mw_reject why,
                         const char *reason)
{
    uint64_t now = mw_now_mono_ns();
    uint64_t last = atomic_load_explicit(&l->last_warn_ns, memory_order_relaxed);
    if ((last != 0 && now - last < 1000000000ull) ||
        !atomic_compare_exchange_strong(&l->last_warn_ns, &last, now)) {
        atomic_fetch_add_explicit(&l->suppressed, 1, memory_order_relaxed);
        return;
    }
    uint64_t n = atomic_exchange_explicit(&l->suppressed, 0, memory_order_relaxed);
    if (n)
        mw_warn("ingest", "%s: refused input from %s (%s): %s (%llu more refusals suppressed)",
                l->name, peer, mw_reject_name(why), reason, (unsigned long long)n);
    else
        mw_warn("ingest", "%s: refused input from %s (%s): %s", l->name, peer, mw_reject_name(why),
                reason);
}

static void refuse(struct listener *l, const char *peer, enum mw_reject why, const char *reason)
{
    if ((unsigned)why >= MW_REJ__COUNT)
        why = MW_REJ_PARSE;
    MW_INC(mw_metrics.events_rejected[l->src][why]);
    warn_refused(l, peer, why, reason);
}

/* Parses one message and submits it. Returns MW_ESHUTDOWN when the sink is
 * stopping, else 0. */
static int handle_msg(struct listener *l, const char *msg, size_t len, const char *peer,
                      const char *peer_host)
{
    struct mw_ingest *in = l->in;
    /* Trailing LF / CR / NUL are framing, not content. */
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == '\0'))
        len--;
    size_t k = 0;
    while (k < len && (msg[k] == ' ' || msg[k] == '\t'))
        k++;
    if (k == len)
        return MW_OK; /* blank: nothing to refuse */
    if (len > in->max_line) {
        char err[ERRLEN];
        snprintf(err, sizeof err, "message of %zu bytes exceeds max_line %zu", len, in->max_line);
        refuse(l, peer, MW_REJ_TOO_LARGE, err);
        return MW_OK;
    }
    mw_event_t *ev = NULL;
    enum mw_reject why = MW_REJ_PARSE;
    char err[ERRLEN];
    int rc;
    if (l->kind == K_JSON_TCP)
        rc = mw_jsonl_parse(msg, len, l->src, &ev, &why, err, sizeof err);
    else
        rc = mw_syslog_parse(msg, len, l->src, peer_host, &ev, &why, err, sizeof err);
    if (rc < 0) {
        refuse(l, peer, why, err);
        return MW_OK;
    }
    int flags = l->kind == K_UDP ? MW_SUBMIT_NOWAIT : MW_SUBMIT_BLOCK;
    rc = in->sink.submit(in->sink.ctx, ev, flags);
    if (rc == MW_OK) {
        MW_INC(mw_metrics.events_in[l->src]);
        return MW_OK;
    }
    mw_event_free(ev);
    if (rc == MW_ESHUTDOWN)
        return MW_ESHUTDOWN;
    MW_INC(mw_metrics.events_dropped[l->src]);
    return MW_OK;
}

static void addr_text(const struct sockaddr *sa, char *peer, size_t plen, char *host, size_t hlen)
{
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        port = ntohs(s4->sin_port);
        snprintf(peer, plen, "%s:%u", a, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        port = ntohs(s6->sin6_port);
        snprintf(peer, plen, "[%s]:%u", a, port);
    } else {
        snprintf(peer, plen, "unknown");
    }
    snprintf(host, hlen, "%s", a);
}

/* Waits until fd is readable (1) or stop was asked (0). */
static int wait_readable(struct mw_ingest *in, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = in->wake_fd, .events = POLLIN}};
    for (;;) {
        if (atomic_load(&in->stopping))
            return 0;
        int n = poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p[1].revents)
            return 0;
        if (n == 0)
            return -1; /* timeout */
        return 1;
    }
}

/* ---- UDP ---- */

static void *udp_main(void *arg)
{
    struct listener *l = arg;
    struct mw_ingest *in = l->in;
    size_t bufsz = in->max_line < 65535 ? in->max_line + 1 : 65536;
    char *bufs = malloc(UDP_BATCH * bufsz);
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage from[UDP_BATCH], last_from;
    socklen_t last_len = 0;
    char peer[PEERLEN] = "", host[PEERLEN] = "";
    if (!bufs) {
        mw_error("ingest", "%s: out of memory; listener stopped", l->name);
        return NULL;
    }
    memset(&last_from, 0, sizeof last_from);
    for (;;) {
        int r = wait_readable(in, l->fd, -1);
        if (r == 0)
            break;
        for (int i = 0; i < UDP_BATCH; i++) {
            iov[i].iov_base = bufs + (size_t)i * bufsz;
            iov[i].iov_len = bufsz;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int n = recvmmsg(l->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            mw_error("ingest", "%s: recvmmsg: %s; listener stopped", l->name, strerror(errno));
            break;
        }
        int stop = 0;
        for (int i = 0; i < n && !stop; i++) {
            socklen_t fl = msgs[i].msg_hdr.msg_namelen;
            if (fl != last_len || memcmp(&from[i], &last_from, fl) != 0) {
                addr_text((struct sockaddr *)&from[i], peer, sizeof peer, host, sizeof host);
                memcpy(&last_from, &from[i], fl <= sizeof last_from ? fl : sizeof last_from);
                last_len = fl;
            }
            size_t len = msgs[i].msg_len;
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > in->max_line) {
                char err[ERRLEN];
                snprintf(err, sizeof err, "datagram larger than max_line %zu", in->max_line);
                refuse(l, peer, MW_REJ_TOO_LARGE, err);
                continue;
            }
            stop = handle_msg(l, iov[i].iov_base, len, peer, host) == MW_ESHUTDOWN;
        }
        if (stop)
            break;
    }
    free(bufs);
    return NULL;
}

/* ---- TCP ---- */

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Handles every complete frame in c->buf[start..end). At eof, what remains
 * is a last frame without terminator. Returns MW_ESHUTDOWN to stop. */
static int process(struct conn *c, int eof)
{
    struct listener *l = c->l;
    size_t max_line = l->in->max_line;
    int syslog = l->kind == K_SYSLOG_TCP;
    int rc = MW_OK;
    while (c->start < c->end && rc == MW_OK) {
        char *b = c->buf + c->start;
        size_t avail = c->end - c->start;
        if (c->skip == SKIP_COUNT) {
            size_t k = avail < c->skip_left ? avail : c->skip_left;
            c->start += k;
            c->skip_left -= k;
            if (c->skip_left == 0)
                c->skip = SKIP_NONE;
            continue;
        }
        if (c->skip == SKIP_LINE) {
            char *nl = memchr(b, '\n', avail);
            if (syslog) {
                char *z = memchr(b, '\0', nl ? (size_t)(nl - b) : avail);
                if (z)
                    nl = z;
            }
            if (!nl) {
                c->start = c->end;
                break;
            }
            c->start += (size_t)(nl - b) + 1;
            c->skip = SKIP_NONE;
            continue;
        }
        if (b[0] == '\n' || b[0] == '\r' || b[0] == '\0') {
            c->start++; /* empty frames between frames */
            c->scanned = 0;
            continue;
        }
        /* RFC 6587 3.4.1 octet counting: MSG-LEN SP MSG, MSG-LEN =
         * NONZERO-DIGIT *DIGIT. A digit run not followed by SP is the start
         * of a newline-framed message instead. */
        if (syslog && b[0] >= '1' && b[0] <= '9') {
            size_t i = 0;
            size_t n = 0;
            while (i < avail && i <= OCTET_DIGITS_MAX && digit(b[i]))
                n = n * 10 + (size_t)(b[i++] - '0');
            if (i == avail && !eof && i <= OCTET_DIGITS_MAX)
                break; /* need more bytes to decide */
            if (i < avail && b[i] == ' ' && i <= OCTET_DIGITS_MAX) {
                if (n > max_line) {
                    char err[ERRLEN];
                    snprintf(err, sizeof err,
                             "octet-counted frame of %zu bytes exceeds max_line %zu", n, max_line);
                    refuse(l, c->peer, MW_REJ_TOO_LARGE, err);
                    c->start += i + 1;
                    c->skip = SKIP_COUNT;
                    c->skip_left = n;
                    continue;
                }
                if (avail - i - 1 < n) {
                    if (eof) {
                        refuse(l, c->peer, MW_REJ_PARSE,
                               "connection closed inside an octet-counted frame");
                        c->start = c->end;
                    }
                    break;
                }
                rc = handle_msg(l, b + i + 1, n, c->peer, c->peer_host);
                c->start += i + 1 + n;
                c->scanned = 0;
                continue;
            }
        }
        /* Newline framing (RFC 6587 3.4.2): LF, CRLF, and for syslog also
         * NUL as terminator. */
        size_t from = c->scanned < avail ? c->scanned : avail;
        char *nl = memchr(b + from, '\n', avail - from);
        if (syslog) {
            char *z = memchr(b + from, '\0', nl ? (size_t)(nl - b) - from : avail - from);
            if (z)
                nl = z;
        }
        if (!nl) {
            if (avail > max_line + 1) { /* +1: a CR before the LF to come */
                char err[ERRLEN];
                snprintf(err, sizeof err, "line longer than max_line %zu", max_line);
                refuse(l, c->peer, MW_REJ_TOO_LARGE, err);
                c->start = c->end;
                c->skip = SKIP_LINE;
                c->scanned = 0;
                break;
            }
            if (eof) {
                rc = handle_msg(l, b, avail, c->peer, c->peer_host);
                c->start = c->end;
                c->scanned = 0;
                break;
            }
            c->scanned = avail;
            break;
        }
        size_t linelen = (size_t)(nl - b);
        rc = handle_msg(l, b, linelen, c->peer, c->peer_host); /* checks max_line */
        c->start += linelen + 1;
        c->scanned = 0;
    }
    if (c->start == c->end) {
        c->start = c->end = 0;
    } else if (c->start > 0 && c->cap - c->end < READ_CHUNK) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    return rc;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct mw_ingest *in = c->l->in;
    for (;;) {
        if (wait_readable(in, c->fd, -1) != 1)
            break;
        ssize_t n = read(c->fd, c->buf + c->end, c->cap - c->end);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            break;
        }
        if (n == 0) {
            (void)process(c, 1);
            break;
        }
        c->end += (size_t)n;
        if (process(c, 0) == MW_ESHUTDOWN)
            break;
    }
    close(c->fd);
    c->fd = -1;
    atomic_store(&c->done, 1);
    return NULL;
}

static void conn_free(struct conn *c)
{
    if (!c)
        return;
    free(c->buf);
    free(c);
}

/* Joins finished connection threads; returns the number of free slots. */
static int reap(struct listener *l, int all)
{
    int free_slots = 0;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = l->conns[i];
        if (c && (all || atomic_load(&c->done))) {
            pthread_join(c->th, NULL);
            conn_free(c);
            l->conns[i] = NULL;
        }
        if (!l->conns[i])
            free_slots++;
    }
    return free_slots;
}

static void *tcp_main(void *arg)
{
    struct listener *l = arg;
    struct mw_ingest *in = l->in;
    for (;;) {
        int r = wait_readable(in, l->fd, 1000);
        if (r == 0)
            break;
        if (r < 0) {
            (void)reap(l, 0);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                mw_warn("ingest", "%s: accept: %s", l->name, strerror(errno));
            if (errno == EMFILE || errno == ENFILE)
                usleep(100000); /* out of descriptors: do not spin */
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (c) {
            c->l = l;
            c->fd = fd;
            c->cap = in->max_line + READ_CHUNK;
            c->buf = malloc(c->cap);
            addr_text((struct sockaddr *)&ss, c->peer, sizeof c->peer, c->peer_host,
                      sizeof c->peer_host);
        }
        if (!c || !c->buf) {
            mw_warn("ingest", "%s: out of memory; connection closed", l->name);
            conn_free(c);
            close(fd);
            continue;
        }
        int slot = -1;
        if (reap(l, 0) > 0) {
            for (int i = 0; i < MAX_CONNS; i++) {
                if (!l->conns[i]) {
                    slot = i;
                    break;
                }
            }
        }
        if (slot < 0) {
            mw_warn("ingest", "%s: %d connections open; refusing %s", l->name, MAX_CONNS, c->peer);
            conn_free(c);
            close(fd);
            continue;
        }
        if (pthread_create(&c->th, NULL, conn_main, c) != 0) {
            mw_warn("ingest", "%s: cannot start a thread; connection from %s closed", l->name,
                    c->peer);
            conn_free(c);
            close(fd);
            continue;
        }
        l->conns[slot] = c;
    }
    (void)reap(l, 1);
    return NULL;
}

/* ---- start / stop ---- */

/* "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" (any address). */
static int bind_addr(const char *name, const char *spec, int socktype, int *fd_out, int *port_out)
{
    char host[256];
    const char *port;
    const char *colon;
    int rc = MW_EINVAL;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof host)
            goto bad;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        port = rb + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host)
            goto bad;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    if (!port[0] || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
        atoi(port) > 65535)
        goto bad;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = socktype, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    const char *h = (host[0] == '\0' || strcmp(host, "*") == 0) ? NULL : host;
    int gai = getaddrinfo(h, port, &hints, &res);
    if (gai != 0) {
        mw_error("ingest", "%s: cannot resolve \"%s\": %s", name, spec, gai_strerror(gai));
        return MW_EIO;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mw_error("ingest", "%s: socket for \"%s\": %s", name, spec, strerror(errno));
        freeaddrinfo(res);
        return MW_EIO;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (socktype == SOCK_DGRAM) {
        int rcv = 8 << 20; /* absorbs bursts; the kernel caps it at rmem_max */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
        (socktype == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)) {
        mw_error("ingest", "%s: cannot bind \"%s\": %s", name, spec, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return MW_EIO;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int port_num = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            port_num = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port_num = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    *fd_out = fd;
    *port_out = port_num;
    return MW_OK;
bad:
    mw_error("ingest", "%s: bad address \"%s\" (expected HOST:PORT or [V6ADDR]:PORT)", name, spec);
    return rc;
}

static int on(const char *spec)
{
    return spec && spec[0];
}

int mw_ingest_start(const struct mw_ingest_opts *o, mw_ingest_t **out)
{
    if (!o || !out || !o->sink.submit)
        return MW_EINVAL;
    struct mw_ingest *in = calloc(1, sizeof *in);
    if (!in)
        return MW_ENOMEM;
    int rc = MW_OK;
    in->max_line = o->max_line ? o->max_line : MW_EVENT_DEFAULT_MAX_LINE;
    if (in->max_line >= MW_EVENT_MAX_BYTES)
        in->max_line = MW_EVENT_MAX_BYTES - 1;
    in->sink = o->sink;
    in->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (in->wake_fd < 0) {
        free(in);
        return MW_EIO;
    }
    const char *specs[3] = {o->syslog_udp, o->syslog_tcp, o->json_tcp};
    static const char *const names[3] = {"syslog_udp", "syslog_tcp", "json_tcp"};
    static const enum mw_source srcs[3] = {MW_SRC_SYSLOG_UDP, MW_SRC_SYSLOG_TCP, MW_SRC_JSON_TCP};
    static const enum kind kinds[3] = {K_UDP, K_SYSLOG_TCP, K_JSON_TCP};
    for (int i = 0; i < 3; i++) {
        struct listener *l = &in->l[i];
        l->in = in;
        l->name = names[i];
        l->src = srcs[i];
        l->kind = kinds[i];
        l->fd = -1;
    }
    for (int i = 0; i < 3; i++) {
        struct listener *l = &in->l[i];
        if (!on(specs[i]))
            continue;
        rc = bind_addr(l->name, specs[i], kinds[i] == K_UDP ? SOCK_DGRAM : SOCK_STREAM, &l->fd,
                       &l->port);
        if (rc < 0)
            goto out;
    }
    for (int i = 0; i < 3; i++) {
        struct listener *l = &in->l[i];
        if (l->fd < 0)
            continue;
        if (pthread_create(&l->th, NULL, l->kind == K_UDP ? udp_main : tcp_main, l) != 0) {
            mw_error("ingest", "%s: cannot start the listener thread", l->name);
            rc = MW_EIO;
            goto out;
        }
        l->started = 1;
        mw_info("ingest", "%s: listening on %s (port %d)", l->name, specs[i], l->port);
    }
    *out = in;
    in = NULL;
out:
    mw_ingest_stop(in);
    return rc;
}

int mw_ingest_port(const mw_ingest_t *in, const char *which)
{
    if (!in || !which)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (strcmp(in->l[i].name, which) == 0)
            return in->l[i].fd >= 0 ? in->l[i].port : 0;
    }
    return 0;
}

void mw_ingest_stop(mw_ingest_t *in)
{
    if (!in)
        return;
    atomic_store(&in->stopping, 1);
    uint64_t one = 1;
    if (in->wake_fd >= 0)
        (void)!write(in->wake_fd, &one, sizeof one);
    for (int i = 0; i < 3; i++) {
        struct listener *l = &in->l[i];
        if (l->started)
            pthread_join(l->th, NULL);
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
    }
    if (in->wake_fd >= 0)
        close(in->wake_fd);
    free(in);
}
