/* Unit tests for the listeners: real sockets on 127.0.0.1 port 0, a test
 * sink that collects events, UDP datagrams, TCP streams with octet-counting
 * and newline framing, oversized frames, JSON lines, drops and
 * back-pressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mwrasp/ingest.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"

#define MAXEV 1000000

enum sink_mode { ACCEPT, EAGAIN_NOWAIT, GATED };

struct tsink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mw_event_t **evs;
    int n;
    enum sink_mode mode;
    int gate_open;
    int submits_nowait, submits_block;
};

static int tsink_submit(void *ctx, mw_event_t *ev, int flags)
{
    struct tsink *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (flags == MW_SUBMIT_NOWAIT)
        s->submits_nowait++;
    else
        s->submits_block++;
    if (s->mode == EAGAIN_NOWAIT && flags == MW_SUBMIT_NOWAIT) {
        pthread_mutex_unlock(&s->mu);
        return MW_EAGAIN;
    }
    while (s->mode == GATED && !s->gate_open)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->n >= MAXEV) {
        pthread_mutex_unlock(&s->mu);
        return MW_EAGAIN;
    }
    s->evs[s->n++] = ev;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MW_OK;
}

static struct tsink *tsink_new(enum sink_mode mode)
{
    struct tsink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->evs = calloc(MAXEV, sizeof *s->evs);
    s->mode = mode;
    return s;
}

static void tsink_free(struct tsink *s)
{
    for (int i = 0; i < s->n; i++)
        mw_event_free(s->evs[i]);
    free(s->evs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static void tsink_open_gate(struct tsink *s)
{
    pthread_mutex_lock(&s->mu);
    s->gate_open = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits until the sink holds n events (or 10 s). Returns how many it holds. */
static int tsink_wait(struct tsink *s, int n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&s->mu);
    while (s->n < n) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
            break;
    }
    int got = s->n;
    pthread_mutex_unlock(&s->mu);
    return got;
}

/* Waits until an atomic counter reaches want (or 10 s). */
static uint64_t wait_counter(_Atomic uint64_t *c, uint64_t want)
{
    for (int i = 0; i < 1000 && MW_GET(*c) < want; i++)
        usleep(10000);
    return MW_GET(*c);
}

static mw_ingest_t *start(struct tsink *s, const char *udp, const char *tcp, const char *json,
                          size_t max_line)
{
    struct mw_ingest_opts o = {.syslog_udp = udp,
                               .syslog_tcp = tcp,
                               .json_tcp = json,
                               .max_line = max_line,
                               .sink = {.submit = tsink_submit, .ctx = s}};
    mw_ingest_t *in = NULL;
    assert_int_equal(mw_ingest_start(&o, &in), MW_OK);
    assert_non_null(in);
    return in;
}

static int connect_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static void send_udp(int port, const void *buf, size_t len)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
    close(fd);
}

static const char *get(const mw_event_t *ev, const char *k)
{
    const char *v = mw_event_get(ev, k);
    return v ? v : "(absent)";
}

static void test_udp(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(ACCEPT);
    mw_ingest_t *in = start(s, "127.0.0.1:0", NULL, NULL, 1024);
    int port = mw_ingest_port(in, "syslog_udp");
    assert_true(port > 0);
    assert_int_equal(mw_ingest_port(in, "syslog_tcp"), 0);
    assert_int_equal(mw_ingest_port(in, "nope"), 0);

    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_SYSLOG_UDP]);
    uint64_t rp0 = MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_UDP][MW_REJ_PARSE]);
    uint64_t rl0 = MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_UDP][MW_REJ_TOO_LARGE]);

    const char m1[] = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - hi\n";
    send_udp(port, m1, sizeof m1 - 1);
    const char m2[] = "<13>Oct 11 22:14:15 sshd[7]: Failed password\0";
    send_udp(port, m2, sizeof m2 - 1);
    send_udp(port, "<999>bad", 8);
    char big[2000];
    memset(big, 'x', sizeof big);
    send_udp(port, big, sizeof big);
    send_udp(port, "\n", 1); /* blank: ignored, not refused */
    const char m3[] = "<13>Oct 11 22:14:15 last t: after the big one";
    send_udp(port, m3, sizeof m3 - 1);

    assert_int_equal(tsink_wait(s, 3), 3);
    assert_int_equal(wait_counter(&mw_metrics.events_in[MW_SRC_SYSLOG_UDP], in0 + 3), in0 + 3);
    assert_int_equal(
        wait_counter(&mw_metrics.events_rejected[MW_SRC_SYSLOG_UDP][MW_REJ_PARSE], rp0 + 1),
        rp0 + 1);
    assert_int_equal(
        wait_counter(&mw_metrics.events_rejected[MW_SRC_SYSLOG_UDP][MW_REJ_TOO_LARGE], rl0 + 1),
        rl0 + 1);

    assert_string_equal(s->evs[0]->host, "mymachine.example.com");
    assert_string_equal(get(s->evs[0], "message"), "hi"); /* trailing LF stripped */
    assert_int_equal(s->evs[0]->raw_len, sizeof m1 - 2);
    assert_int_equal(s->evs[0]->source, MW_SRC_SYSLOG_UDP);
    assert_string_equal(s->evs[1]->host, "127.0.0.1"); /* no hostname: the peer */
    assert_string_equal(get(s->evs[1], "process.name"), "sshd");
    assert_string_equal(get(s->evs[1], "message"), "Failed password"); /* NUL stripped */
    assert_string_equal(get(s->evs[2], "message"), "after the big one");
    mw_ingest_stop(in);
    assert_int_equal(s->n, 3);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->submits_block, 0); /* UDP never blocks */
    pthread_mutex_unlock(&s->mu);
    tsink_free(s);
}

static void test_udp_drop_counted(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(EAGAIN_NOWAIT);
    mw_ingest_t *in = start(s, "127.0.0.1:0", NULL, NULL, 0);
    int port = mw_ingest_port(in, "syslog_udp");
    uint64_t d0 = MW_GET(mw_metrics.events_dropped[MW_SRC_SYSLOG_UDP]);
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_SYSLOG_UDP]);
    for (int i = 0; i < 3; i++)
        send_udp(port, "<13>Oct 11 22:14:15 h t: m", 26);
    assert_int_equal(wait_counter(&mw_metrics.events_dropped[MW_SRC_SYSLOG_UDP], d0 + 3), d0 + 3);
    mw_ingest_stop(in);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_SYSLOG_UDP]), in0);
    assert_int_equal(s->n, 0);
    assert_int_equal(s->submits_nowait, 3);
    tsink_free(s); /* the dropped events were freed by ingest: ASan checks leaks */
}

static void test_syslog_tcp_framing(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(ACCEPT);
    mw_ingest_t *in = start(s, NULL, "127.0.0.1:0", NULL, 1024);
    int port = mw_ingest_port(in, "syslog_tcp");
    assert_true(port > 0);
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_SYSLOG_TCP]);
    uint64_t rl0 = MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_TCP][MW_REJ_TOO_LARGE]);
    uint64_t rp0 = MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_TCP][MW_REJ_PARSE]);

    int fd = connect_tcp(port);
    /* 1: octet counting. */
    const char f1[] = "<34>1 - h1 app - - - one";
    char hdr[32];
    int hl = snprintf(hdr, sizeof hdr, "%zu ", sizeof f1 - 1);
    send_all(fd, hdr, (size_t)hl);
    send_all(fd, f1, sizeof f1 - 1);
    /* 2: newline framing (LF); 3: CRLF; 4: NUL terminator. */
    const char f234[] = "<13>Oct 11 22:14:15 h2 t: two\n"
                        "<13>Oct 11 22:14:15 h3 t: three\r\n"
                        "<13>Oct 11 22:14:15 h4 t: four";
    send_all(fd, f234, sizeof f234); /* includes the NUL */
    /* An oversized newline-framed line, then an oversized octet-counted one
     * (which contains a LF that must not end it early). */
    char big[3000];
    memset(big, 'x', sizeof big);
    big[1500] = '\n';
    send_all(fd, "<13>", 4);
    send_all(fd, big, 1400);
    send_all(fd, "\n", 1);
    hl = snprintf(hdr, sizeof hdr, "%zu ", sizeof big);
    send_all(fd, hdr, (size_t)hl);
    send_all(fd, big, sizeof big);
    /* 5: octet-counted, sent a byte at a time (partial reads). */
    const char f5msg[] = "<13>Oct 11 22:14:15 h5 t: five";
    char f5[64];
    snprintf(f5, sizeof f5, "%zu %s", sizeof f5msg - 1, f5msg);
    for (size_t i = 0; i < strlen(f5); i++) {
        send_all(fd, f5 + i, 1);
        if (i % 8 == 0)
            usleep(1000);
    }
    /* A malformed message: refused, the connection goes on. */
    send_all(fd, "<300>x\n", 7);
    /* Exactly max_line bytes: accepted. */
    char exact[1024 + 1];
    memcpy(exact, "<13>Oct 11 22:14:15 h6 t: ", 26);
    memset(exact + 26, 'y', 1024 - 26);
    exact[1024] = '\n';
    send_all(fd, exact, sizeof exact);
    /* 7: last line without terminator, ended by the close. */
    send_all(fd, "<13>Oct 11 22:14:15 h7 t: seven", 31);
    close(fd);

    assert_int_equal(tsink_wait(s, 7), 7);
    const char *hosts[] = {"h1", "h2", "h3", "h4", "h5", "h6", "h7"};
    for (int i = 0; i < 7; i++)
        assert_string_equal(s->evs[i]->host, hosts[i]);
    assert_string_equal(get(s->evs[0], "message"), "one");
    assert_string_equal(get(s->evs[1], "message"), "two");
    assert_string_equal(get(s->evs[2], "message"), "three"); /* CR stripped */
    assert_string_equal(get(s->evs[3], "message"), "four");
    assert_string_equal(get(s->evs[4], "message"), "five");
    assert_int_equal(strlen(get(s->evs[5], "message")), 1024 - 26);
    assert_string_equal(get(s->evs[6], "message"), "seven");
    assert_int_equal(s->evs[0]->source, MW_SRC_SYSLOG_TCP);
    assert_int_equal(wait_counter(&mw_metrics.events_in[MW_SRC_SYSLOG_TCP], in0 + 7), in0 + 7);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_TCP][MW_REJ_TOO_LARGE]),
                     rl0 + 2);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_SYSLOG_TCP][MW_REJ_PARSE]), rp0 + 1);
    mw_ingest_stop(in);
    assert_int_equal(s->n, 7);
    assert_int_equal(s->submits_nowait, 0); /* TCP always blocks */
    tsink_free(s);
}

static void test_json_tcp(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(ACCEPT);
    mw_ingest_t *in = start(s, NULL, NULL, "127.0.0.1:0", 256);
    int port = mw_ingest_port(in, "json_tcp");
    assert_true(port > 0);
    uint64_t rp0 = MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_PARSE]);
    uint64_t rl0 = MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_TOO_LARGE]);
    uint64_t ru0 = MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_UTF8]);
    int fd = connect_tcp(port);
    char big[600];
    memset(big, 'a', sizeof big);
    big[0] = '{';
    const char part1[] = "{\"host\":\"j1\",\"a\":{\"b\":1}}\n"
                         "\n"
                         "{\"host\":\"j2\"}\r\n"
                         "{not json}\n"
                         "123 \n"
                         "{\"bad\":\"\xC3\"}\n";
    send_all(fd, part1, sizeof part1 - 1);
    send_all(fd, big, sizeof big);
    const char tail[] = "}\n{\"host\":\"j3\"}\n{\"host\":\"j4\"}";
    send_all(fd, tail, strlen(tail));
    close(fd);
    assert_int_equal(tsink_wait(s, 4), 4);
    assert_string_equal(s->evs[0]->host, "j1");
    assert_string_equal(get(s->evs[0], "a.b"), "1");
    assert_string_equal(s->evs[1]->host, "j2");
    assert_string_equal(s->evs[2]->host, "j3");
    assert_string_equal(s->evs[3]->host, "j4");
    assert_int_equal(s->evs[0]->source, MW_SRC_JSON_TCP);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_PARSE]), rp0 + 2);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_UTF8]), ru0 + 1);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_JSON_TCP][MW_REJ_TOO_LARGE]),
                     rl0 + 1);
    mw_ingest_stop(in);
    tsink_free(s);
}

/* While the sink blocks, the reader stops reading: the sender's socket
 * buffer fills up (send() would block). Once the sink accepts again, every
 * line arrives: nothing is dropped. */
static void test_tcp_backpressure(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(GATED);
    mw_ingest_t *in = start(s, NULL, "127.0.0.1:0", NULL, 0);
    int fd = connect_tcp(mw_ingest_port(in, "syslog_tcp"));
    int small = 64 * 1024;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    char line[128];
    int sent_lines = 0;
    size_t total = 0;
    int blocked = 0;
    while (total < 64u * 1024 * 1024) {
        int n =
            snprintf(line, sizeof line,
                     "<13>Oct 11 22:14:15 bp t: line %08d padding padding padding\n", sent_lines);
        ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Retry a few times: the reader may still be draining. */
            usleep(20000);
            w = send(fd, line, (size_t)n, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                blocked = 1;
                break;
            }
        }
        assert_true(w > 0);
        total += (size_t)w;
        if (w < n) { /* finish a partial line blocking */
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            send_all(fd, line + w, (size_t)(n - w));
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            total += (size_t)(n - w);
        }
        sent_lines++;
    }
    assert_true(blocked); /* back-pressure reached the sender */
    assert_true(sent_lines > 100);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->n, 0); /* all held back by the gate */
    pthread_mutex_unlock(&s->mu);
    tsink_open_gate(s);
    close(fd);
    assert_int_equal(tsink_wait(s, sent_lines), sent_lines);
    for (int i = 0; i < sent_lines; i += sent_lines / 10 + 1) {
        char want[32];
        snprintf(want, sizeof want, "line %08d", i);
        assert_non_null(strstr(get(s->evs[i], "message"), want));
    }
    mw_ingest_stop(in);
    assert_int_equal(s->n, sent_lines);
    tsink_free(s);
}

static void test_stop_is_prompt(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(ACCEPT);
    mw_ingest_t *in = start(s, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", 0);
    int a = connect_tcp(mw_ingest_port(in, "syslog_tcp"));
    int b = connect_tcp(mw_ingest_port(in, "json_tcp"));
    send_all(a, "<13>Oct 11 22:14:15 h t: partial", 32); /* no terminator */
    usleep(50000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mw_ingest_stop(in);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 500);
    close(a);
    close(b);
    mw_ingest_stop(NULL);
    tsink_free(s);
}

static void test_addresses(void **st)
{
    (void)st;
    struct tsink *s = tsink_new(ACCEPT);
    struct mw_ingest_opts o = {.sink = {.submit = tsink_submit, .ctx = s}};
    mw_ingest_t *in = NULL;
    o.syslog_tcp = "nonsense";
    assert_int_equal(mw_ingest_start(&o, &in), MW_EINVAL);
    o.syslog_tcp = "127.0.0.1:99999";
    assert_int_equal(mw_ingest_start(&o, &in), MW_EINVAL);
    o.syslog_tcp = "[::1:514";
    assert_int_equal(mw_ingest_start(&o, &in), MW_EINVAL);
    assert_null(in);
    /* A port in use: MW_EIO, and nothing left running. */
    o.syslog_tcp = "127.0.0.1:0";
    assert_int_equal(mw_ingest_start(&o, &in), MW_OK);
    char spec[64];
    snprintf(spec, sizeof spec, "127.0.0.1:%d", mw_ingest_port(in, "syslog_tcp"));
    struct mw_ingest_opts o2 = o;
    o2.syslog_udp = "127.0.0.1:0";
    o2.syslog_tcp = spec;
    mw_ingest_t *in2 = NULL;
    assert_int_equal(mw_ingest_start(&o2, &in2), MW_EIO);
    assert_null(in2);
    mw_ingest_stop(in);
    /* All off: starts, nothing bound. */
    struct mw_ingest_opts none = {.syslog_udp = "", .sink = o.sink};
    assert_int_equal(mw_ingest_start(&none, &in), MW_OK);
    assert_int_equal(mw_ingest_port(in, "syslog_udp"), 0);
    mw_ingest_stop(in);
    /* IPv6 loopback, when the host has it. */
    struct mw_ingest_opts v6 = {.syslog_udp = "[::1]:0", .sink = o.sink};
    in = NULL;
    if (mw_ingest_start(&v6, &in) == MW_OK) {
        int port = mw_ingest_port(in, "syslog_udp");
        assert_true(port > 0);
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        a.sin6_addr = in6addr_loopback;
        assert_int_equal(sendto(fd, "hello v6", 8, 0, (struct sockaddr *)&a, sizeof a), 8);
        close(fd);
        assert_int_equal(tsink_wait(s, 1), 1);
        assert_string_equal(s->evs[0]->host, "::1");
        mw_ingest_stop(in);
    } else {
        print_message("IPv6 loopback unavailable: [::1] part skipped\n");
    }
    tsink_free(s);
}

int main(void)
{
    mw_log_set_level(MW_LOG_ERROR); /* refusals are expected here: keep the output short */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_udp_drop_counted),
        cmocka_unit_test(test_syslog_tcp_framing),
        cmocka_unit_test(test_json_tcp),
        cmocka_unit_test(test_tcp_backpressure),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
