/* Unit tests for the capture layer (include/mwrasp/exposure.h section 1):
 * synthetic packets built here for every link type, VLAN stacks, IPv4
 * options and fragments, IPv6 extension headers, GRE, Geneve and VXLAN;
 * TCP reassembly (out of order, overlapping retransmissions where the first
 * copy wins, holes, SYN-less pickup, sequence wraparound, a 3 MB stream with
 * bounded memory, sink stop/drop, FIN/RST, idle and cap eviction, port
 * reuse, snaplen cuts); pcap files written with pcap_dump_open and read back
 * (also truncated); and every capture under $MW_SHARED_DATA/pcaps read
 * without error, each TCP/UDP endpoint pair of oracle.jsonl (tshark) found
 * as one of our flows with the same client/server orientation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <malloc.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mwrasp/exposure.h"

/* ------------------------------------------------------------------ */
/* recording sink                                                      */
/* ------------------------------------------------------------------ */

#define MAXF 64

struct rflow {
    uint64_t id;
    uint8_t l4;
    char cli[MW_ENDPOINT_STRLEN], srv[MW_ENDPOINT_STRLEN];
    uint8_t *data[2];
    size_t len[2], cap[2];
    uint64_t gap_bytes[2];
    int ngaps[2];
    int ends;
    int udp[2];
    int calls_after_stop[2];
    int stopped[2];
    uint64_t end_bytes[2]; /* flow->bytes at flow_end */
};

struct rec {
    struct rflow f[MAXF];
    int n;
    int store; /* keep stream bytes */
    int stop_after; /* return 1 once a direction has this many bytes (0 = never) */
    int drop_after; /* return -1 once the client direction has this many bytes */
    size_t heap_base, heap_peak; /* mallinfo2 samples taken in tcp_data */
};

static struct rflow *rf(struct rec *r, mw_flow_t *fl)
{
    if (fl->user)
        return fl->user;
    assert_true(r->n < MAXF);
    struct rflow *x = &r->f[r->n++];
    memset(x, 0, sizeof *x);
    x->id = fl->id;
    x->l4 = fl->l4;
    mw_endpoint_format(&fl->client, x->cli, sizeof x->cli);
    mw_endpoint_format(&fl->server, x->srv, sizeof x->srv);
    fl->user = x;
    return x;
}

static void heap_sample(struct rec *r)
{
#ifndef __SANITIZE_ADDRESS__
    struct mallinfo2 mi = mallinfo2();
    if (mi.uordblks > r->heap_peak)
        r->heap_peak = mi.uordblks;
#else
    (void)r;
#endif
}

static int on_tcp(void *ctx, mw_flow_t *fl, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ts;
    struct rec *r = ctx;
    struct rflow *x = rf(r, fl);
    assert_true(len > 0);
    assert_int_equal(x->ends, 0);
    if (x->stopped[dir])
        x->calls_after_stop[dir]++;
    if (r->store) {
        if (x->len[dir] + len > x->cap[dir]) {
            x->cap[dir] = (x->len[dir] + len) * 2;
            x->data[dir] = realloc(x->data[dir], x->cap[dir]);
        }
        memcpy(x->data[dir] + x->len[dir], d, len);
    }
    x->len[dir] += len;
    heap_sample(r);
    if (r->drop_after && dir == 0 && x->len[0] >= (size_t)r->drop_after) {
        x->stopped[0] = x->stopped[1] = 1;
        return -1;
    }
    if (r->stop_after && x->len[dir] >= (size_t)r->stop_after) {
        x->stopped[dir] = 1;
        return 1;
    }
    return 0;
}

static void on_gap(void *ctx, mw_flow_t *fl, int dir, uint64_t missing)
{
    struct rec *r = ctx;
    struct rflow *x = rf(r, fl);
    assert_true(missing > 0);
    x->gap_bytes[dir] += missing;
    x->ngaps[dir]++;
}

static void on_udp(void *ctx, mw_flow_t *fl, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ts;
    struct rec *r = ctx;
    struct rflow *x = rf(r, fl);
    x->udp[dir]++;
    if (r->store) {
        if (x->len[dir] + len > x->cap[dir]) {
            x->cap[dir] = (x->len[dir] + len) * 2 + 1;
            x->data[dir] = realloc(x->data[dir], x->cap[dir]);
        }
        memcpy(x->data[dir] + x->len[dir], d, len);
    }
    x->len[dir] += len;
}

static void on_end(void *ctx, mw_flow_t *fl)
{
    struct rec *r = ctx;
    struct rflow *x = rf(r, fl);
    x->ends++;
    x->end_bytes[0] = fl->bytes[0];
    x->end_bytes[1] = fl->bytes[1];
    fl->user = NULL;
}

static struct rec *rec_new(void)
{
    struct rec *r = calloc(1, sizeof *r);
    r->store = 1;
    return r;
}

static void rec_free(struct rec *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->f[i].data[0]);
        free(r->f[i].data[1]);
    }
    free(r);
}

static mw_pcap_t *reader(struct rec *r, size_t max_flows)
{
    mw_flow_sink_t s = {
        .ctx = r, .tcp_data = on_tcp, .tcp_gap = on_gap, .udp_data = on_udp, .flow_end = on_end};
    mw_pcap_t *p = NULL;
    assert_int_equal(mw_pcap_new(&s, max_flows, &p), MW_OK);
    return p;
}

/* every flow ended exactly once */
static void all_ended(struct rec *r)
{
    for (int i = 0; i < r->n; i++)
        assert_int_equal(r->f[i].ends, 1);
}

static struct rflow *find(struct rec *r, const char *cli, const char *srv)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->f[i].cli, cli) == 0 && strcmp(r->f[i].srv, srv) == 0)
            return &r->f[i];
    return NULL;
}

static void assert_stream(const struct rflow *x, int dir, const char *want)
{
    size_t n = strlen(want);
    if (x->len[dir] != n || (n && memcmp(x->data[dir], want, n) != 0))
        fail_msg("dir %d: got %zu bytes \"%.*s\", want \"%s\"", dir, x->len[dir], (int)x->len[dir],
                 x->data[dir] ? (const char *)x->data[dir] : "", want);
}

/* ------------------------------------------------------------------ */
/* packet builders                                                     */
/* ------------------------------------------------------------------ */

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

struct addrs {
    int v6;
    const char *src, *dst;
    uint16_t sp, dp;
};

static void put16(uint8_t *b, unsigned v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b + 2, v & 0xffff);
}

/* IPv4 or IPv6 header (no options) + l4 bytes; returns the length. */
static size_t ip_wrap(uint8_t *out, int v6, const char *src, const char *dst, uint8_t proto,
                      const uint8_t *l4, size_t l4len)
{
    if (v6) {
        memset(out, 0, 40);
        out[0] = 0x60;
        put16(out + 4, (unsigned)l4len);
        out[6] = proto;
        out[7] = 64;
        assert_int_equal(inet_pton(AF_INET6, src, out + 8), 1);
        assert_int_equal(inet_pton(AF_INET6, dst, out + 24), 1);
        memcpy(out + 40, l4, l4len);
        return 40 + l4len;
    }
    memset(out, 0, 20);
    out[0] = 0x45;
    put16(out + 2, (unsigned)(20 + l4len));
    out[8] = 64;
    out[9] = proto;
    assert_int_equal(inet_pton(AF_INET, src, out + 12), 1);
    assert_int_equal(inet_pton(AF_INET, dst, out + 16), 1);
    memcpy(out + 20, l4, l4len);
    return 20 + l4len;
}

static size_t tcp_hdr(uint8_t *out, uint16_t sp, uint16_t dp, uint32_t seq, uint8_t flags,
                      const void *data, size_t len)
{
    memset(out, 0, 20);
    put16(out, sp);
    put16(out + 2, dp);
    put32(out + 4, seq);
    out[12] = 5 << 4;
    out[13] = flags;
    put16(out + 14, 65535);
    if (len)
        memcpy(out + 20, data, len);
    return 20 + len;
}

/* An IP packet with a TCP segment. */
static size_t tcp_ip(uint8_t *out, const struct addrs *a, int rev, uint32_t seq, uint8_t flags,
                     const void *data, size_t len)
{
    uint8_t l4[70000];
    size_t n = tcp_hdr(l4, rev ? a->dp : a->sp, rev ? a->sp : a->dp, seq, flags, data, len);
    return ip_wrap(out, a->v6, rev ? a->dst : a->src, rev ? a->src : a->dst, 6, l4, n);
}

static size_t udp_ip(uint8_t *out, const struct addrs *a, int rev, const void *data, size_t len)
{
    uint8_t l4[70000];
    put16(l4, rev ? a->dp : a->sp);
    put16(l4 + 2, rev ? a->sp : a->dp);
    put16(l4 + 4, (unsigned)(8 + len));
    put16(l4 + 6, 0);
    memcpy(l4 + 8, data, len);
    return ip_wrap(out, a->v6, rev ? a->dst : a->src, rev ? a->src : a->dst, 17, l4, 8 + len);
}

static size_t eth_hdr(uint8_t *out, uint16_t type)
{
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    memcpy(out, mac, 12);
    put16(out + 12, type);
    return 14;
}

/* Link-layer framings of one IP packet. */
enum framing {
    F_ETH,
    F_VLAN,
    F_QINQ,
    F_LLC_SNAP,
    F_SLL,
    F_SLL2,
    F_NULL_LE,
    F_NULL_BE,
    F_LOOP,
    F_PPP,
    F_PPP_NOHDLC,
    F_PPP_SERIAL,
    F_C_HDLC,
    F_RAW,
    F_IPV4,
    F_IPV6,
    F_PPPOE,
    F_MPLS,
    F__COUNT
};

static const struct {
    const char *name;
    int dlt;
    int v4, v6; /* can carry */
} framings[F__COUNT] = {
    [F_ETH] = {"ethernet", DLT_EN10MB, 1, 1},
    [F_VLAN] = {"802.1Q", DLT_EN10MB, 1, 1},
    [F_QINQ] = {"802.1ad+802.1Q", DLT_EN10MB, 1, 1},
    [F_LLC_SNAP] = {"802.3 LLC/SNAP", DLT_EN10MB, 1, 1},
    [F_SLL] = {"linux sll", DLT_LINUX_SLL, 1, 1},
    [F_SLL2] = {"linux sll2", DLT_LINUX_SLL2, 1, 1},
    [F_NULL_LE] = {"null LE", DLT_NULL, 1, 1},
    [F_NULL_BE] = {"null BE", DLT_NULL, 1, 1},
    [F_LOOP] = {"loop", DLT_LOOP, 1, 1},
    [F_PPP] = {"ppp hdlc", DLT_PPP, 1, 1},
    [F_PPP_NOHDLC] = {"ppp bare, compressed protocol", DLT_PPP, 1, 0},
    [F_PPP_SERIAL] = {"ppp serial", DLT_PPP_SERIAL, 1, 1},
    [F_C_HDLC] = {"cisco hdlc", DLT_C_HDLC, 1, 1},
    [F_RAW] = {"raw", DLT_RAW, 1, 1},
    [F_IPV4] = {"ipv4", DLT_IPV4, 1, 0},
    [F_IPV6] = {"ipv6", DLT_IPV6, 0, 1},
    [F_PPPOE] = {"pppoe", DLT_EN10MB, 1, 1},
    [F_MPLS] = {"mpls", DLT_EN10MB, 1, 1},
};

static size_t frame(uint8_t *out, enum framing f, const uint8_t *ip, size_t n)
{
    int v6 = (ip[0] >> 4) == 6;
    uint16_t et = v6 ? 0x86dd : 0x0800;
    size_t h = 0;
    switch (f) {
    case F_ETH:
        h = eth_hdr(out, et);
        break;
    case F_VLAN:
        h = eth_hdr(out, 0x8100);
        put16(out + h, 42);
        put16(out + h + 2, et);
        h += 4;
        break;
    case F_QINQ:
        h = eth_hdr(out, 0x88a8);
        put16(out + h, 7);
        put16(out + h + 2, 0x8100);
        put16(out + h + 4, 42);
        put16(out + h + 6, et);
        h += 8;
        break;
    case F_LLC_SNAP:
        h = eth_hdr(out, (unsigned)(n + 8));
        memcpy(out + h, "\xaa\xaa\x03\x00\x00\x00", 6);
        put16(out + h + 6, et);
        h += 8;
        break;
    case F_SLL:
        memset(out, 0, 16);
        put16(out + 2, 1);
        put16(out + 4, 6);
        put16(out + 14, et);
        h = 16;
        break;
    case F_SLL2:
        memset(out, 0, 20);
        put16(out, et);
        put32(out + 4, 3);
        put16(out + 8, 1);
        out[11] = 6;
        h = 20;
        break;
    case F_NULL_LE: /* AF_INET 2 / AF_INET6 30 (macOS), little-endian writer */
        memset(out, 0, 4);
        out[0] = v6 ? 30 : 2;
        h = 4;
        break;
    case F_NULL_BE:
    case F_LOOP:
        memset(out, 0, 4);
        out[3] = v6 ? 24 : 2;
        h = 4;
        break;
    case F_PPP:
    case F_PPP_SERIAL:
        out[0] = 0xff;
        out[1] = 0x03;
        put16(out + 2, v6 ? 0x0057 : 0x0021);
        h = 4;
        break;
    case F_PPP_NOHDLC:
        out[0] = 0x21;
        h = 1;
        break;
    case F_C_HDLC:
        out[0] = 0x0f;
        out[1] = 0;
        put16(out + 2, et);
        h = 4;
        break;
    case F_RAW:
    case F_IPV4:
    case F_IPV6:
        h = 0;
        break;
    case F_PPPOE:
        h = eth_hdr(out, 0x8864);
        out[h] = 0x11;
        out[h + 1] = 0;
        put16(out + h + 2, 0x1234);
        put16(out + h + 4, (unsigned)(n + 2));
        put16(out + h + 6, v6 ? 0x0057 : 0x0021);
        h += 8;
        break;
    case F_MPLS:
        h = eth_hdr(out, 0x8847);
        put32(out + h, (100u << 12) | 64); /* label 100, not bottom */
        put32(out + h + 4, (200u << 12) | 0x100 | 64); /* label 200, bottom */
        h += 8;
        break;
    default:
        fail();
    }
    memcpy(out + h, ip, n);
    return h + n;
}

static void feed_framed(mw_pcap_t *p, enum framing f, const uint8_t *ip, size_t n, uint64_t ts)
{
    uint8_t pkt[70100];
    size_t len = frame(pkt, f, ip, n);
    mw_pcap_feed(p, framings[f].dlt, pkt, len, len, ts);
}

/* SYN, SYN-ACK, ACK, "hello" c->s, "world!" s->c, FIN, FIN. */
static void conversation(mw_pcap_t *p, enum framing f, const struct addrs *a)
{
    uint8_t ip[2000];
    uint32_t cs = 1000, ss = 5000;
    uint64_t t = 1000000000;
    feed_framed(p, f, ip, tcp_ip(ip, a, 0, cs, SYN, NULL, 0), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 1, ss, SYN | ACK, NULL, 0), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 0, cs + 1, ACK, NULL, 0), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 0, cs + 1, ACK | PSH, "hello", 5), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 1, ss + 1, ACK | PSH, "world!", 6), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 0, cs + 6, ACK | FIN, NULL, 0), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 1, ss + 7, ACK | FIN, NULL, 0), t++);
    feed_framed(p, f, ip, tcp_ip(ip, a, 0, cs + 7, ACK, NULL, 0), t++);
}

static const struct addrs A4 = {0, "192.0.2.10", "198.51.100.20", 50123, 443};
static const struct addrs A6 = {1, "2001:db8::10", "2001:db8:1::20", 50123, 443};

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

static void test_endpoint_format(void **state)
{
    (void)state;
    char buf[MW_ENDPOINT_STRLEN];
    mw_endpoint_t e;
    memset(&e, 0, sizeof e);
    e.family = 4;
    memcpy(e.addr, "\xc0\x00\x02\x01", 4);
    e.port = 443;
    assert_string_equal(mw_endpoint_format(&e, buf, sizeof buf), "192.0.2.1:443");
    e.family = 6;
    /* RFC 5952, 4.2.3: the first of two equal longest zero runs is "::" */
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", e.addr), 1);
    assert_string_equal(mw_endpoint_format(&e, buf, sizeof buf), "[2001:db8::1:0:0:1]:443");
    /* 4.2.2: a single zero field is not shortened; 4.3: lower case */
    assert_int_equal(inet_pton(AF_INET6, "2001:DB8:0:1:1:1:1:1", e.addr), 1);
    e.port = 65535;
    assert_string_equal(mw_endpoint_format(&e, buf, sizeof buf), "[2001:db8:0:1:1:1:1:1]:65535");
    memset(e.addr, 0xff, 16);
    assert_true(strlen(mw_endpoint_format(&e, buf, sizeof buf)) < MW_ENDPOINT_STRLEN);
    char small[8];
    assert_string_equal(mw_endpoint_format(&e, small, sizeof small), "[ffff:f");
    e.family = 9;
    assert_string_equal(mw_endpoint_format(&e, buf, sizeof buf), "?:65535");
}

static void test_link_types(void **state)
{
    (void)state;
    for (int f = 0; f < F__COUNT; f++) {
        for (int v6 = 0; v6 < 2; v6++) {
            if (!(v6 ? framings[f].v6 : framings[f].v4))
                continue;
            struct rec *r = rec_new();
            mw_pcap_t *p = reader(r, 0);
            const struct addrs *a = v6 ? &A6 : &A4;
            conversation(p, (enum framing)f, a);
            /* ended by the FINs, before any flush */
            if (r->n != 1 || r->f[0].ends != 1)
                fail_msg("%s v%d: %d flows, ends %d", framings[f].name, v6 ? 6 : 4, r->n,
                         r->n ? r->f[0].ends : -1);
            const struct rflow *x = &r->f[0];
            assert_string_equal(x->cli, v6 ? "[2001:db8::10]:50123" : "192.0.2.10:50123");
            assert_string_equal(x->srv, v6 ? "[2001:db8:1::20]:443" : "198.51.100.20:443");
            assert_stream(x, 0, "hello");
            assert_stream(x, 1, "world!");
            assert_int_equal(x->end_bytes[0], 5);
            assert_int_equal(x->end_bytes[1], 6);
            const mw_pcap_stats_t *st = mw_pcap_stats(p);
            assert_int_equal(st->packets, 8);
            assert_int_equal(st->tcp_segments, 8);
            assert_int_equal(st->skipped_link + st->skipped_malformed + st->skipped_not_ip, 0);
            assert_int_equal(st->flows, 1);
            mw_pcap_free(p);
            rec_free(r);
        }
    }
}

static void test_link_errors(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    uint8_t ip[200], pkt[300];
    size_t n = tcp_ip(ip, &A4, 0, 1, SYN, NULL, 0);
    /* every truncation of an Ethernet/VLAN frame: no flow, counted */
    size_t len = frame(pkt, F_QINQ, ip, n), flen = len;
    for (size_t cut = 0; cut < len; cut++)
        mw_pcap_feed(p, DLT_EN10MB, pkt, cut, cut, 1);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    assert_int_equal(st->flows, 0);
    assert_int_equal(st->skipped_link + st->skipped_malformed, len);
    /* unknown link type, ARP, an unknown PPP protocol */
    mw_pcap_feed(p, 147, pkt, len, len, 1);
    assert_int_equal(st->skipped_link + st->skipped_malformed, len + 1);
    len = eth_hdr(pkt, 0x0806);
    memset(pkt + len, 0, 28);
    mw_pcap_feed(p, DLT_EN10MB, pkt, len + 28, len + 28, 1);
    assert_int_equal(st->skipped_not_ip, 1);
    memcpy(pkt, "\xff\x03\xc0\x21\x01\x01\x00\x04", 8);
    mw_pcap_feed(p, DLT_PPP, pkt, 8, 8, 1);
    assert_int_equal(st->skipped_not_ip, 2);
    /* a NULL packet pointer is a zero-length packet */
    mw_pcap_feed(p, DLT_EN10MB, NULL, 10, 10, 1);
    assert_int_equal(st->skipped_link + st->skipped_malformed, flen + 2);
    assert_int_equal(st->packets, flen + 4);
    mw_pcap_free(p);
    rec_free(r);
}

/* IPv4 options, fragments, Ethernet padding, a lying total length. */
static void test_ipv4(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    uint8_t ip[200], pkt[300], l4[100];
    /* options: IHL 7 (8 bytes of NOPs + EOL) */
    size_t tl = tcp_hdr(l4, 40000, 443, 77, ACK | PSH, "opts", 4);
    memset(ip, 0, 28);
    ip[0] = 0x47;
    put16(ip + 2, (unsigned)(28 + tl));
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    memset(ip + 20, 1, 7);
    memcpy(ip + 28, l4, tl);
    /* with 20 bytes of Ethernet padding after it */
    size_t len = frame(pkt, F_ETH, ip, 28 + tl);
    memset(pkt + len, 0xee, 20);
    mw_pcap_feed(p, DLT_EN10MB, pkt, len + 20, len + 20, 1);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->f[0].cli, "10.0.0.1:40000");
    assert_stream(&r->f[0], 0, "opts");
    /* fragments: MF set, then an offset */
    put16(ip + 6, 0x2000);
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 2);
    put16(ip + 6, 0x0010);
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 3);
    assert_int_equal(st->ip_fragments, 2);
    /* DF alone is not a fragment */
    put16(ip + 6, 0x4000);
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 4);
    assert_int_equal(st->ip_fragments, 2);
    assert_int_equal(st->tcp_retransmits, 1);
    put16(ip + 6, 0);
    /* total length past the captured bytes (not a snaplen cut), IHL < 5,
     * IHL past the packet, a TCP data offset past the segment */
    put16(ip + 2, (unsigned)(28 + tl + 1));
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 5);
    put16(ip + 2, (unsigned)(28 + tl));
    ip[0] = 0x44;
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 6);
    ip[0] = 0x4f;
    mw_pcap_feed(p, DLT_IPV4, ip, 40, 40, 7);
    ip[0] = 0x47;
    ip[28 + 12] = 0xf0;
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + 30, 28 + 30, 8);
    assert_int_equal(st->skipped_malformed, 4);
    /* other protocols are counted, not flows */
    ip[28 + 12] = 0x50;
    ip[9] = 1;
    mw_pcap_feed(p, DLT_IPV4, ip, 28 + tl, 28 + tl, 9);
    assert_int_equal(st->skipped_other_l4, 1);
    assert_int_equal(st->flows, 1);
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
}

/* RFC 8200, 4.3-4.6: hop-by-hop, routing and destination options are
 * skipped; a fragment header is counted and the packet dropped. */
static void test_ipv6_ext(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    uint8_t l4[100], ext[200], ip[400];
    size_t tl = tcp_hdr(l4, 40000, 22, 9, ACK | PSH, "SSH-2.0-x\r\n", 11);
    /* hop-by-hop (8 bytes) -> routing (24 bytes) -> dest opts (16) -> TCP */
    size_t e = 0;
    memset(ext, 0, sizeof ext);
    ext[e] = 43; /* next: routing */
    ext[e + 1] = 0;
    e += 8;
    ext[e] = 60; /* next: destination options */
    ext[e + 1] = 2;
    ext[e + 2] = 4; /* routing type 4 (SRH), segments left 0 */
    e += 24;
    ext[e] = 6;
    ext[e + 1] = 1;
    e += 16;
    memcpy(ext + e, l4, tl);
    size_t n = ip_wrap(ip, 1, "2001:db8::1", "2001:db8::2", 0, ext, e + tl);
    feed_framed(p, F_ETH, ip, n, 1);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->f[0].srv, "[2001:db8::2]:22");
    assert_stream(&r->f[0], 0, "SSH-2.0-x\r\n");
    /* a fragment header after the hop-by-hop header */
    ext[0] = 44;
    memset(ext + 8, 0, 8);
    ext[8] = 6;
    n = ip_wrap(ip, 1, "2001:db8::1", "2001:db8::2", 0, ext, 16 + tl);
    feed_framed(p, F_ETH, ip, n, 2);
    assert_int_equal(st->ip_fragments, 1);
    /* an extension header longer than the packet */
    ext[0] = 60;
    ext[1] = 200;
    n = ip_wrap(ip, 1, "2001:db8::1", "2001:db8::2", 0, ext, 16 + tl);
    feed_framed(p, F_ETH, ip, n, 3);
    assert_int_equal(st->skipped_malformed, 1);
    /* too many extension headers: 20 destination options headers */
    for (int i = 0; i < 20; i++) {
        ext[i * 8] = i == 19 ? 6 : 60;
        ext[i * 8 + 1] = 0;
        memset(ext + i * 8 + 2, 0, 6);
    }
    n = ip_wrap(ip, 1, "2001:db8::1", "2001:db8::2", 60, ext, 160);
    feed_framed(p, F_ETH, ip, n, 4);
    assert_int_equal(st->skipped_malformed, 2);
    /* payload length past the packet */
    n = ip_wrap(ip, 1, "2001:db8::1", "2001:db8::2", 6, l4, tl);
    put16(ip + 4, (unsigned)(tl + 1));
    feed_framed(p, F_ETH, ip, n, 5);
    assert_int_equal(st->skipped_malformed, 3);
    assert_int_equal(r->n, 1);
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
}

/* A tunnel wrapper around an inner IP packet (or Ethernet frame). */
static size_t gre_wrap(uint8_t *out, uint16_t flags, uint16_t proto, const uint8_t *in, size_t n)
{
    uint8_t g[2000];
    size_t h = 4;
    put16(g, flags);
    put16(g + 2, proto);
    if (flags & 0x8000) {
        memset(g + h, 0, 4);
        h += 4;
    }
    if (flags & 0x2000) {
        put32(g + h, 0xdeadbeef);
        h += 4;
    }
    if (flags & 0x1000) {
        put32(g + h, 7);
        h += 4;
    }
    memcpy(g + h, in, n);
    return ip_wrap(out, 0, "203.0.113.1", "203.0.113.2", 47, g, h + n);
}

static size_t udp_tunnel(uint8_t *out, uint16_t dport, const uint8_t *hdr, size_t hl,
                         const uint8_t *in, size_t n)
{
    uint8_t u[2000];
    struct addrs a = {0, "203.0.113.1", "203.0.113.2", 49999, dport};
    memcpy(u, hdr, hl);
    memcpy(u + hl, in, n);
    return udp_ip(out, &a, 0, u, hl + n);
}

static void test_tunnels(void **state)
{
    (void)state;
    uint8_t inner[2000], eth[2000], outer[4000], mid[4000];
    size_t in = tcp_ip(inner, &A4, 0, 1, ACK | PSH, "inner", 5);
    size_t en = frame(eth, F_VLAN, inner, in);
    struct {
        const char *name;
        size_t n;
    } cases[8];
    uint8_t bufs[8][4000];
    int nc = 0;
    /* GRE (RFC 2784) plain; with checksum, key and sequence (RFC 2890);
     * transparent Ethernet bridging 0x6558 */
    cases[nc].name = "gre";
    cases[nc].n = gre_wrap(bufs[nc], 0, 0x0800, inner, in);
    nc++;
    cases[nc].name = "gre C K S";
    cases[nc].n = gre_wrap(bufs[nc], 0xb000, 0x0800, inner, in);
    nc++;
    cases[nc].name = "gre teb";
    cases[nc].n = gre_wrap(bufs[nc], 0x2000, 0x6558, eth, en);
    nc++;
    /* Geneve (RFC 8926): 8 bytes of options, Ethernet inside; no options,
     * IPv4 inside */
    uint8_t gh[16] = {0x02, 0, 0x65, 0x58, 0, 0, 42, 0, 0x01, 0x02, 0x03, 0x01, 0, 0, 0, 0};
    cases[nc].name = "geneve teb";
    cases[nc].n = udp_tunnel(bufs[nc], 6081, gh, 16, eth, en);
    nc++;
    uint8_t gh4[8] = {0, 0, 0x08, 0x00, 0, 0, 42, 0};
    cases[nc].name = "geneve ipv4";
    cases[nc].n = udp_tunnel(bufs[nc], 6081, gh4, 8, inner, in);
    nc++;
    /* VXLAN (RFC 7348) */
    uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
    cases[nc].name = "vxlan";
    cases[nc].n = udp_tunnel(bufs[nc], 4789, vx, 8, eth, en);
    nc++;
    /* IPv4 in IPv6 */
    cases[nc].name = "ip-in-ip6";
    cases[nc].n = ip_wrap(bufs[nc], 1, "2001:db8::1", "2001:db8::2", 4, inner, in);
    nc++;
    for (int i = 0; i < nc; i++) {
        struct rec *r = rec_new();
        mw_pcap_t *p = reader(r, 0);
        feed_framed(p, F_ETH, bufs[i], cases[i].n, 1);
        if (r->n != 1)
            fail_msg("%s: %d flows", cases[i].name, r->n);
        assert_string_equal(r->f[0].cli, "192.0.2.10:50123");
        assert_string_equal(r->f[0].srv, "198.51.100.20:443");
        assert_stream(&r->f[0], 0, "inner");
        assert_int_equal(mw_pcap_stats(p)->flows, 1); /* the carrier is no flow */
        mw_pcap_free(p);
        rec_free(r);
    }
    /* depth: 4 GRE levels decode, 5 do not */
    for (int levels = 4; levels <= 5; levels++) {
        size_t n = in;
        memcpy(mid, inner, in);
        for (int l = 0; l < levels; l++) {
            n = gre_wrap(outer, 0, 0x0800, mid, n);
            memcpy(mid, outer, n);
        }
        struct rec *r = rec_new();
        mw_pcap_t *p = reader(r, 0);
        feed_framed(p, F_ETH, mid, n, 1);
        assert_int_equal(r->n, levels == 4 ? 1 : 0);
        assert_int_equal(mw_pcap_stats(p)->skipped_tunnel_depth, levels == 4 ? 0 : 1);
        mw_pcap_free(p);
        rec_free(r);
    }
    /* UDP to 4789 that is not VXLAN (no I flag) stays a datagram; GRE with
     * routing present or version 2 is malformed */
    {
        struct rec *r = rec_new();
        mw_pcap_t *p = reader(r, 0);
        uint8_t novx[8] = {0};
        size_t n = udp_tunnel(outer, 4789, novx, 8, eth, en);
        feed_framed(p, F_ETH, outer, n, 1);
        assert_int_equal(r->n, 1);
        assert_int_equal(r->f[0].udp[0], 1);
        n = gre_wrap(outer, 0x4000, 0x0800, inner, in);
        feed_framed(p, F_ETH, outer, n, 2);
        n = gre_wrap(outer, 0x0002, 0x0800, inner, in);
        feed_framed(p, F_ETH, outer, n, 3);
        assert_int_equal(mw_pcap_stats(p)->skipped_malformed, 2);
        mw_pcap_free(p);
        rec_free(r);
    }
}

/* Feeds one TCP segment of flow A4 on raw IPv4. */
static void seg(mw_pcap_t *p, int rev, uint32_t seq, uint8_t fl, const char *data, uint64_t ts)
{
    uint8_t ip[70100];
    size_t n = tcp_ip(ip, &A4, rev, seq, fl, data, data ? strlen(data) : 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, ts);
}

static void segn(mw_pcap_t *p, int rev, uint32_t seq, uint8_t fl, const uint8_t *d, size_t len,
                 uint64_t ts)
{
    uint8_t ip[70100];
    size_t n = tcp_ip(ip, &A4, rev, seq, fl, d, len);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, ts);
}

static void test_reasm_order(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    seg(p, 0, 100, SYN, NULL, 1);
    seg(p, 1, 900, SYN | ACK, NULL, 2);
    /* client: 3rd, 1st, 2nd; server: in order */
    seg(p, 0, 111, ACK, "ccc", 3);
    seg(p, 0, 101, ACK, "aaaaa", 4);
    seg(p, 1, 901, ACK, "SERVER", 5);
    seg(p, 0, 106, ACK, "bbbbb", 6);
    assert_stream(&r->f[0], 0, "aaaaabbbbbccc");
    assert_stream(&r->f[0], 1, "SERVER");
    assert_int_equal(st->tcp_out_of_order, 1);
    /* a retransmission of delivered bytes with other content: dropped */
    seg(p, 0, 101, ACK, "XXXXXXXXXX", 7);
    assert_int_equal(st->tcp_retransmits, 1);
    assert_int_equal(st->tcp_retrans_bytes, 10);
    /* partly old, partly new: the old part is dropped, the new delivered */
    seg(p, 0, 110, ACK, "XXXXdd", 8);
    assert_stream(&r->f[0], 0, "aaaaabbbbbcccdd");
    assert_int_equal(st->tcp_retrans_bytes, 14);
    /* held bytes win over a later in-order copy: hold "HHHH" at 120..123,
     * then 116..127 arrives in order */
    seg(p, 0, 120, ACK, "HHHH", 9);
    seg(p, 0, 116, ACK, "eeeeLLLLffff", 10);
    assert_stream(&r->f[0], 0, "aaaaabbbbbcccddeeeeHHHHffff");
    /* overlapping out-of-order pieces: the first held copy wins each byte */
    seg(p, 0, 132, ACK, "2222", 11); /* 132..135 */
    seg(p, 0, 130, ACK, "XXXXXXXX", 12); /* 130..137: only 130,131,136,137 new */
    seg(p, 0, 134, ACK, "YYYYYYYY", 13); /* 134..141: only 138..141 new */
    seg(p, 0, 128, ACK, "11", 14);
    assert_stream(&r->f[0], 0, "aaaaabbbbbcccddeeeeHHHHffff11XX2222XXYYYY");
    assert_int_equal(r->f[0].ngaps[0], 0);
    /* FIN both ways ends the flow */
    seg(p, 0, 142, ACK | FIN, NULL, 15);
    assert_int_equal(r->f[0].ends, 0);
    seg(p, 1, 907, ACK | FIN, NULL, 16);
    assert_int_equal(r->f[0].ends, 1);
    assert_int_equal(r->f[0].end_bytes[0], 41);
    /* the last ACK opens no flow */
    seg(p, 0, 143, ACK, NULL, 17);
    assert_int_equal(st->flows, 1);
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
}

/* A FIN that arrives before the data it ends. */
static void test_reasm_fin_early(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    seg(p, 0, 100, SYN, NULL, 1);
    seg(p, 1, 900, SYN | ACK, NULL, 2);
    seg(p, 1, 901, ACK | FIN, NULL, 3);
    seg(p, 0, 104, ACK | FIN, "end", 4);
    assert_int_equal(r->f[0].ends, 0);
    seg(p, 0, 101, ACK, "the", 5);
    assert_int_equal(r->f[0].ends, 1);
    assert_stream(&r->f[0], 0, "theend");
    mw_pcap_free(p);
    rec_free(r);
}

static void test_reasm_holes(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    seg(p, 0, 100, SYN, NULL, 1);
    seg(p, 0, 101, ACK, "one", 2);
    seg(p, 0, 110, ACK, "three", 3); /* 104..109 never come */
    assert_stream(&r->f[0], 0, "one");
    /* RST: what is held is delivered after a gap, then the flow ends */
    seg(p, 1, 5, RST, NULL, 4);
    assert_int_equal(r->f[0].ends, 1);
    assert_stream(&r->f[0], 0, "onethree");
    assert_int_equal(r->f[0].gap_bytes[0], 6);
    assert_int_equal(st->tcp_gaps, 1);
    /* the same at flush */
    seg(p, 0, 200, SYN, NULL, 5);
    seg(p, 0, 205, ACK, "later", 6);
    mw_pcap_flush(p);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->f[1].ends, 1);
    assert_stream(&r->f[1], 0, "later");
    assert_int_equal(r->f[1].gap_bytes[0], 4);
    /* a hole that never fills while the stream goes on: past
     * MW_PCAP_MAX_REASM held bytes the hole is declared lost */
    seg(p, 0, 1000, SYN, NULL, 7);
    static uint8_t chunk[1000];
    memset(chunk, 'z', sizeof chunk);
    uint32_t s = 1001 + 500; /* 500 bytes missing */
    int sent = 0;
    while (r->f[2].len[0] == 0 && sent < 400) {
        segn(p, 0, s, ACK, chunk, sizeof chunk, 8);
        s += sizeof chunk;
        sent++;
    }
    assert_true(sent * sizeof chunk <= MW_PCAP_MAX_REASM + sizeof chunk);
    assert_true(sent * sizeof chunk >= MW_PCAP_MAX_REASM / 2);
    assert_int_equal(r->f[2].gap_bytes[0], 500);
    assert_int_equal(r->f[2].len[0], (size_t)sent * sizeof chunk);
    assert_true(st->tcp_reasm_overflow >= 1);
    /* and then in-order data flows straight through */
    segn(p, 0, s, ACK, chunk, sizeof chunk, 9);
    assert_int_equal(r->f[2].len[0], (size_t)(sent + 1) * sizeof chunk);
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
}

/* No SYN: the stream starts at the first segment; the server (port 443)
 * speaks first but is still the server. */
static void test_reasm_synless(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    seg(p, 1, 7000, ACK, "banner", 1);
    seg(p, 0, 300, ACK, "hi", 2);
    seg(p, 1, 7006, ACK, "!", 3);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->f[0].cli, "192.0.2.10:50123");
    assert_string_equal(r->f[0].srv, "198.51.100.20:443");
    assert_stream(&r->f[0], 0, "hi");
    assert_stream(&r->f[0], 1, "banner!");
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
    /* orientation without SYN and without a service port: the higher port is
     * the client, whoever speaks first */
    r = rec_new();
    p = reader(r, 0);
    struct addrs a = {0, "10.0.0.1", "10.0.0.2", 6069, 33290};
    uint8_t ip[200];
    size_t n = tcp_ip(ip, &a, 0, 1, ACK, "x", 1);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 1);
    assert_string_equal(r->f[0].cli, "10.0.0.2:33290");
    /* a SYN-ACK seen first: its receiver is the client */
    struct addrs b = {0, "10.0.0.1", "10.0.0.2", 22, 2222};
    n = tcp_ip(ip, &b, 0, 1, SYN | ACK, NULL, 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 1);
    mw_pcap_flush(p);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->f[1].cli, "10.0.0.2:2222");
    mw_pcap_free(p);
    rec_free(r);
}

/* RFC 9293, 3.4: sequence numbers wrap mod 2^32. */
static void test_reasm_wrap(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 0);
    uint32_t isn = 0xfffffff0u;
    seg(p, 0, isn, SYN, NULL, 1);
    char want[101];
    for (int i = 0; i < 100; i++)
        want[i] = (char)('A' + i % 26);
    want[100] = 0;
    /* ten 10-byte segments crossing 2^32, sent 1,0,3,2,5,4,... */
    for (int i = 0; i < 10; i++) {
        int k = i ^ 1;
        segn(p, 0, isn + 1 + (uint32_t)k * 10, ACK, (const uint8_t *)want + k * 10, 10, 2);
    }
    assert_stream(&r->f[0], 0, want);
    /* a retransmission from before the wrap is still recognized as old */
    segn(p, 0, isn + 1, ACK, (const uint8_t *)"0123456789", 10, 3);
    assert_stream(&r->f[0], 0, want);
    assert_int_equal(mw_pcap_stats(p)->tcp_retrans_bytes, 10);
    mw_pcap_free(p);
    rec_free(r);
}

/* 3 MB in 100-byte segments, one in 50 swapped with its successor and one
 * early hole of 100 bytes that never fills: the stream arrives whole but
 * for the hole, and the heap never grows past the reassembly cap. */
static void test_reasm_big(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    r->store = 0;
    mw_pcap_t *p = reader(r, 0);
    static uint8_t d[100];
    memset(d, 'q', sizeof d);
    seg(p, 0, 1, SYN, NULL, 1);
#ifndef __SANITIZE_ADDRESS__
    r->heap_base = mallinfo2().uordblks;
#endif
    const int nseg = 30000;
    for (int i = 0; i < nseg; i++) {
        if (i == 5)
            continue; /* the lost segment */
        int k = i;
        if (i % 50 == 10)
            k = i + 1;
        else if (i % 50 == 11)
            k = i - 1;
        segn(p, 0, 2 + (uint32_t)k * 100, ACK, d, sizeof d, 2 + (uint64_t)i);
    }
    seg(p, 0, 2 + nseg * 100, ACK | FIN, NULL, 100000);
    seg(p, 1, 77, RST, NULL, 100001);
    assert_int_equal(r->f[0].ends, 1);
    assert_int_equal(r->f[0].len[0], (size_t)(nseg - 1) * 100);
    assert_int_equal(r->f[0].gap_bytes[0], 100);
    assert_int_equal(r->f[0].end_bytes[0], (size_t)(nseg - 1) * 100);
#ifndef __SANITIZE_ADDRESS__
    size_t grown = r->heap_peak > r->heap_base ? r->heap_peak - r->heap_base : 0;
    print_message("heap growth during 3 MB with a hole: %zu bytes\n", grown);
    assert_true(grown < MW_PCAP_MAX_REASM + MW_PCAP_MAX_REASM / 2);
#endif
    mw_pcap_free(p);
    rec_free(r);
}

/* tcp_data returning 1 stops one direction (bytes still counted);
 * returning -1 stops the flow; flow_end comes once either way. */
static void test_sink_stop(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    r->stop_after = 4;
    mw_pcap_t *p = reader(r, 0);
    seg(p, 0, 100, SYN, NULL, 1);
    seg(p, 0, 109, ACK, "held", 2); /* held, then freed by the stop */
    seg(p, 0, 101, ACK, "abcd", 3); /* 4 bytes: the sink says stop */
    seg(p, 0, 105, ACK, "efgh", 4);
    seg(p, 0, 109, ACK, "ijkl", 5);
    seg(p, 0, 105, ACK, "efgh", 6); /* a retransmission: not counted */
    seg(p, 1, 5000, ACK, "xy", 7);
    assert_int_equal(r->f[0].len[0], 4);
    assert_int_equal(r->f[0].calls_after_stop[0], 0);
    mw_pcap_flush(p);
    assert_int_equal(r->f[0].end_bytes[0], 12);
    assert_int_equal(r->f[0].end_bytes[1], 2);
    mw_pcap_free(p);
    rec_free(r);

    r = rec_new();
    r->drop_after = 2;
    p = reader(r, 0);
    seg(p, 0, 100, SYN, NULL, 1);
    seg(p, 0, 101, ACK, "ab", 2);
    seg(p, 1, 5000, SYN | ACK, NULL, 3);
    seg(p, 1, 5001, ACK, "no", 4);
    seg(p, 0, 103, ACK, "cd", 5);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->f[0].calls_after_stop[0] + r->f[0].calls_after_stop[1], 0);
    seg(p, 0, 105, ACK | FIN, NULL, 6);
    seg(p, 1, 5003, ACK | FIN, NULL, 7);
    assert_int_equal(r->f[0].ends, 1);
    assert_int_equal(r->f[0].end_bytes[0], 4);
    assert_int_equal(r->f[0].end_bytes[1], 2);
    mw_pcap_free(p);
    rec_free(r);
}

/* Idle eviction by capture time (TCP 120 s, UDP 60 s), the max_flows cap
 * (oldest first), port reuse, snaplen cuts, UDP orientation. */
static void test_flow_table(void **state)
{
    (void)state;
    const uint64_t S = 1000000000ull;
    struct rec *r = rec_new();
    mw_pcap_t *p = reader(r, 3);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    uint8_t ip[300];
    struct addrs u = {0, "10.1.0.1", "10.1.0.2", 40000, 53};
    size_t n = udp_ip(ip, &u, 1, "answer", 6); /* the server's datagram first */
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 0);
    seg(p, 0, 1, ACK, "t", 0);
    n = udp_ip(ip, &u, 0, "q", 1);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 59 * S);
    assert_string_equal(r->f[0].cli, "10.1.0.1:40000");
    assert_int_equal(r->f[0].udp[0], 1);
    assert_int_equal(r->f[0].udp[1], 1);
    struct addrs u2 = {0, "10.1.0.3", "10.1.0.4", 5000, 6000};
    n = udp_ip(ip, &u2, 0, "first", 5);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 62 * S);
    assert_string_equal(r->f[2].cli, "10.1.0.3:5000");
    assert_int_equal(st->flows_evicted, 0);
    /* at 120 s the first UDP flow (last seen at 59 s) has been idle > 60 s,
     * the TCP flow (0 s) not > 120 s; at 121 s it has */
    n = udp_ip(ip, &u2, 0, "again", 5);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 120 * S);
    assert_int_equal(r->f[0].ends, 1);
    assert_int_equal(r->f[1].ends, 0);
    assert_int_equal(st->flows_evicted, 1);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 121 * S);
    assert_int_equal(r->f[1].ends, 1);
    assert_int_equal(st->flows_evicted, 2);
    /* the cap: three flows live, a fourth evicts the least recent */
    struct addrs t1 = {0, "10.2.0.1", "10.2.0.2", 40001, 443};
    struct addrs t2 = {0, "10.2.0.1", "10.2.0.2", 40002, 443};
    struct addrs t3 = {0, "10.2.0.1", "10.2.0.2", 40003, 443};
    n = tcp_ip(ip, &t1, 0, 1, SYN, NULL, 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 123 * S);
    n = tcp_ip(ip, &t2, 0, 1, SYN, NULL, 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 124 * S);
    assert_int_equal(r->f[2].ends, 0);
    n = tcp_ip(ip, &t3, 0, 1, SYN, NULL, 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 125 * S);
    assert_int_equal(r->f[2].ends, 1); /* u2, last seen at 121 s */
    assert_int_equal(st->flows, 6);
    assert_int_equal(st->flows_evicted, 3);
    /* port reuse: a SYN with another ISN on t3 starts a new flow */
    n = tcp_ip(ip, &t3, 0, 1, SYN, NULL, 0); /* retransmitted SYN: same flow */
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 126 * S);
    assert_int_equal(st->flows, 6);
    n = tcp_ip(ip, &t3, 0, 99999, SYN, NULL, 0);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 127 * S);
    assert_int_equal(st->flows, 7);
    /* a segment cut by the snapshot length: captured bytes, then a gap */
    n = tcp_ip(ip, &t3, 0, 100000, ACK, "0123456789", 10);
    mw_pcap_feed(p, DLT_RAW, ip, n - 4, n, 128 * S);
    n = tcp_ip(ip, &t3, 0, 100010, ACK, "abc", 3);
    mw_pcap_feed(p, DLT_RAW, ip, n, n, 129 * S);
    struct rflow *x = find(r, "10.2.0.1:40003", "10.2.0.2:443");
    assert_non_null(x);
    x = &r->f[r->n - 1];
    assert_stream(x, 0, "012345abc");
    assert_int_equal(x->gap_bytes[0], 4);
    /* a UDP datagram cut by the snapshot length is skipped */
    n = udp_ip(ip, &u2, 0, "cut short", 9);
    mw_pcap_feed(p, DLT_RAW, ip, n - 2, n, 130 * S);
    assert_int_equal(st->skipped_snaplen, 1);
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
}

/* Many flows: the bucket array grows (rehash) and every flow is still found;
 * past max_flows the oldest go. */
static void test_many_flows(void **state)
{
    (void)state;
    mw_flow_sink_t s = {.udp_data = NULL};
    mw_pcap_t *p = NULL;
    assert_int_equal(mw_pcap_new(&s, 4096, &p), MW_OK);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    uint8_t ip[200];
    char src[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5000; i++) {
            snprintf(src, sizeof src, "10.%d.%d.1", i >> 8, i & 255);
            struct addrs a = {0, src, "10.255.0.1", (uint16_t)(40000 + i % 1000), 443};
            size_t n = udp_ip(ip, &a, round, "d", 1);
            /* round 1 only touches the flows still there: the last 4096 */
            if (round == 0 || i >= 5000 - 4096)
                mw_pcap_feed(p, DLT_RAW, ip, n, n, 1000 + (uint64_t)round * 1000000 + (uint64_t)i);
        }
        assert_int_equal(st->flows, 5000);
        assert_int_equal(st->flows_evicted, 5000 - 4096);
    }
    assert_int_equal(st->udp_datagrams, 5000 + 4096);
    mw_pcap_free(p);
}

struct counter {
    uint64_t bytes, gaps, ends;
};

static int cnt_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)f, (void)dir, (void)d, (void)ts;
    ((struct counter *)ctx)->bytes += len;
    return 0;
}

static void cnt_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    (void)f, (void)dir, (void)missing;
    ((struct counter *)ctx)->gaps++;
}

static void cnt_end(void *ctx, mw_flow_t *f)
{
    (void)f;
    ((struct counter *)ctx)->ends++;
}

/* The reader-wide cap: 300 flows each holding ~250 KB behind a hole (under
 * the per-direction cap) would hold 75 MB; past MW_PCAP_MAX_REASM_TOTAL the
 * direction that needs room loses its hole, so data is delivered before the
 * end of the flows. */
static void test_reasm_total_cap(void **state)
{
    (void)state;
    struct counter c = {0};
    mw_flow_sink_t s = {.ctx = &c, .tcp_data = cnt_tcp, .tcp_gap = cnt_gap, .flow_end = cnt_end};
    mw_pcap_t *p = NULL;
    assert_int_equal(mw_pcap_new(&s, 0, &p), MW_OK);
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    static uint8_t chunk[1000], ip[1100];
    memset(chunk, 'w', sizeof chunk);
    const int nflows = 300, nseg = 250;
    for (int i = 0; i < nflows; i++) {
        struct addrs a = {0, "10.9.0.1", "10.9.0.2", (uint16_t)(20000 + i), 443};
        size_t n = tcp_ip(ip, &a, 0, 0, SYN, NULL, 0);
        mw_pcap_feed(p, DLT_RAW, ip, n, n, 1);
        for (int k = 0; k < nseg; k++) {
            n = tcp_ip(ip, &a, 0, 11 + (uint32_t)k * 1000, ACK, chunk, sizeof chunk);
            mw_pcap_feed(p, DLT_RAW, ip, n, n, 2);
        }
    }
    uint64_t total = (uint64_t)nflows * nseg * sizeof chunk;
    assert_true(st->tcp_reasm_overflow > 0);
    assert_true(c.bytes > 0);
    /* every hole released early was declared; at most the cap is still held */
    assert_int_equal(c.gaps, st->tcp_gaps);
    assert_true(total - c.bytes <= MW_PCAP_MAX_REASM_TOTAL);
    mw_pcap_free(p);
    assert_int_equal(c.bytes, total);
    assert_int_equal(c.gaps, nflows);
    assert_int_equal(c.ends, nflows);
}

/* Live capture on the loopback interface (needs CAP_NET_RAW: skipped
 * without it): UDP datagrams sent to 127.0.0.1 come back as one flow. */
static void test_live_loopback(void **state)
{
    (void)state;
    struct rec *r = rec_new();
    mw_flow_sink_t s = {.ctx = r, .udp_data = on_udp, .flow_end = on_end};
    mw_pcap_t *p = NULL;
    char err[512];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char bpf[64];
    snprintf(bpf, sizeof bpf, "udp and dst port %u", (unsigned)ntohs(sa.sin_port));
    if (mw_pcap_open_live("lo", bpf, &s, 0, &p, err, sizeof err) != MW_OK) {
        print_message("SKIP: no live capture on lo: %s\n", err);
        close(fd);
        rec_free(r);
        skip();
    }
    /* a bad filter is refused */
    mw_pcap_t *q = NULL;
    assert_int_equal(mw_pcap_open_live("lo", "not a (filter", &s, 0, &q, err, sizeof err),
                     MW_ECONFIG);
    assert_null(q);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendto(fd, "ping", 4, 0, (struct sockaddr *)&sa, sizeof sa), 4);
    for (int tries = 0; tries < 40 && (r->n == 0 || r->f[0].udp[0] + r->f[0].udp[1] < 3); tries++)
        assert_true(mw_pcap_run(p, 0, 50) >= 0);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->f[0].udp[0] + r->f[0].udp[1], 3);
    assert_int_equal(r->f[0].len[0] + r->f[0].len[1], 12);
    mw_pcap_break(p);
    mw_pcap_free(p);
    close(fd);
    all_ended(r);
    rec_free(r);
}

/* ------------------------------------------------------------------ */
/* files                                                               */
/* ------------------------------------------------------------------ */

static const char *tmpdir(void)
{
    const char *t = getenv("MW_TEST_TMP");
    if (!t)
        t = "/tmp";
    mkdir(t, 0755);
    return t;
}

static void dump_pkt(pcap_dumper_t *d, const uint8_t *b, size_t n, size_t wire, long sec, long ns)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = sec;
    h.ts.tv_usec = ns;
    h.caplen = (bpf_u_int32)n;
    h.len = (bpf_u_int32)wire;
    pcap_dump((u_char *)d, &h, b);
}

static void test_files(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/cap_test_%d.pcap", tmpdir(), (int)getpid());
    for (int dlt = 0; dlt < 2; dlt++) {
        int lt = dlt ? DLT_LINUX_SLL2 : DLT_EN10MB;
        pcap_t *dead = pcap_open_dead_with_tstamp_precision(lt, 65535, PCAP_TSTAMP_PRECISION_NANO);
        assert_non_null(dead);
        pcap_dumper_t *d = pcap_dump_open(dead, path);
        assert_non_null(d);
        uint8_t ip[300], pkt[400];
        enum framing f = dlt ? F_SLL2 : F_VLAN;
        size_t n = tcp_ip(ip, &A6, 0, 10, SYN, NULL, 0);
        size_t len = frame(pkt, f, ip, n);
        dump_pkt(d, pkt, len, len, 1700000000, 5);
        n = tcp_ip(ip, &A6, 0, 11, ACK, "from a file", 11);
        len = frame(pkt, f, ip, n);
        dump_pkt(d, pkt, len, len, 1700000001, 999999999);
        n = udp_ip(ip, &A6, 0, "dgram", 5);
        len = frame(pkt, f, ip, n);
        dump_pkt(d, pkt, len, len, 1700000002, 0);
        pcap_dump_close(d);
        pcap_close(dead);

        struct rec *r = rec_new();
        mw_flow_sink_t s = {.ctx = r,
                            .tcp_data = on_tcp,
                            .tcp_gap = on_gap,
                            .udp_data = on_udp,
                            .flow_end = on_end};
        mw_pcap_t *p = NULL;
        char err[512];
        assert_int_equal(mw_pcap_open_file(path, &s, 0, &p, err, sizeof err), MW_OK);
        mw_pcap_break(p); /* a pending break stops the next run after one packet */
        assert_int_equal(mw_pcap_run(p, 0, 0), 1);
        assert_int_equal(mw_pcap_run(p, 1, 0), 1);
        assert_int_equal(mw_pcap_run(p, 0, 0), 1);
        assert_int_equal(mw_pcap_run(p, 0, 0), 0);
        assert_int_equal(r->n, 2);
        assert_stream(&r->f[0], 0, "from a file");
        assert_stream(&r->f[1], 0, "dgram");
        mw_pcap_flush(p);
        assert_int_equal(mw_pcap_stats(p)->packets, 3);
        mw_pcap_free(p);
        all_ended(r);
        rec_free(r);
    }
    /* cut the last record short: the first two are delivered, then MW_EIO */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size - 10), 0);
    struct rec *r = rec_new();
    mw_flow_sink_t s = {.ctx = r, .tcp_data = on_tcp, .udp_data = on_udp, .flow_end = on_end};
    mw_pcap_t *p = NULL;
    char err[512];
    assert_int_equal(mw_pcap_open_file(path, &s, 0, &p, err, sizeof err), MW_OK);
    assert_int_equal(mw_pcap_run(p, 0, 0), MW_EIO);
    assert_int_equal(mw_pcap_stats(p)->read_errors, 1);
    assert_true(strlen(mw_pcap_error(p)) > 0);
    assert_int_equal(r->n, 1);
    assert_stream(&r->f[0], 0, "from a file");
    mw_pcap_free(p);
    all_ended(r);
    rec_free(r);
    /* not a capture; no file */
    FILE *fp = fopen(path, "wb");
    fputs("this is not a capture file at all", fp);
    fclose(fp);
    p = NULL;
    assert_int_equal(mw_pcap_open_file(path, &s, 0, &p, err, sizeof err), MW_EIO);
    assert_null(p);
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_int_equal(mw_pcap_open_file(path, &s, 0, &p, err, sizeof err), MW_EIO);
    assert_non_null(strstr(err, path));
}

/* ------------------------------------------------------------------ */
/* shared captures and the tshark oracle                               */
/* ------------------------------------------------------------------ */

struct fileflows {
    char (*pairs)[2 * MW_ENDPOINT_STRLEN + 8];
    int n, cap;
};

static void ff_end(void *ctx, mw_flow_t *fl)
{
    struct fileflows *ff = ctx;
    if (ff->n == ff->cap) {
        ff->cap = ff->cap ? ff->cap * 2 : 64;
        ff->pairs = realloc(ff->pairs, (size_t)ff->cap * sizeof *ff->pairs);
    }
    char c[MW_ENDPOINT_STRLEN], s[MW_ENDPOINT_STRLEN];
    snprintf(ff->pairs[ff->n++], sizeof ff->pairs[0], "%s %s>%s", fl->l4 == 6 ? "tcp" : "udp",
             mw_endpoint_format(&fl->client, c, sizeof c),
             mw_endpoint_format(&fl->server, s, sizeof s));
}

/* How many of our flows have this endpoint pair (a 4-tuple can be reused). */
static int ff_count(const struct fileflows *ff, const char *pair)
{
    int n = 0;
    for (int i = 0; i < ff->n; i++)
        n += strcmp(ff->pairs[i], pair) == 0;
    return n;
}

struct capfile {
    char rel[512];
    struct fileflows ff;
    uint64_t packets;
};

static void walk(const char *base, const char *rel, struct capfile **files, int *n, int *cap)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", base, rel);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[512], full[2048];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            (int)sizeof sub)
            continue;
        snprintf(full, sizeof full, "%s/%s", base, sub);
        struct stat sb;
        if (stat(full, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk(base, sub, files, n, cap);
        } else if (strstr(de->d_name, ".pcap")) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *files = realloc(*files, (size_t)*cap * sizeof **files);
            }
            memset(&(*files)[*n], 0, sizeof **files);
            memcpy((*files)[*n].rel, sub, sizeof sub);
            (*n)++;
        }
    }
    closedir(d);
}

static void test_shared_captures(void **state)
{
    (void)state;
    const char *sd = getenv("MW_SHARED_DATA");
    char base[1024];
    snprintf(base, sizeof base, "%s/pcaps", sd ? sd : MW_SHARED_DATA);
    struct capfile *files = NULL;
    int nf = 0, capf = 0;
    walk(base, "", &files, &nf, &capf);
    if (nf == 0) {
        print_message("SKIP: no captures under %s\n", base);
        skip();
    }
    uint64_t bytes = 0, flows = 0;
    for (int i = 0; i < nf; i++) {
        char path[2048], err[1024];
        snprintf(path, sizeof path, "%s/%s", base, files[i].rel);
        mw_flow_sink_t s = {.ctx = &files[i].ff, .flow_end = ff_end};
        mw_pcap_t *p = NULL;
        if (mw_pcap_open_file(path, &s, 0, &p, err, sizeof err) != MW_OK)
            fail_msg("%s", err);
        long rc = mw_pcap_run(p, 0, 0);
        if (rc < 0)
            fail_msg("%s: %s (%s)", files[i].rel, mw_strerror((int)rc), mw_pcap_error(p));
        const mw_pcap_stats_t *st = mw_pcap_stats(p);
        if (st->skipped_link)
            fail_msg("%s: %llu packets of an unsupported link layer", files[i].rel,
                     (unsigned long long)st->skipped_link);
        files[i].packets = st->packets;
        bytes += st->bytes;
        mw_pcap_free(p);
        flows += (uint64_t)files[i].ff.n;
    }
    print_message("%d captures, %llu bytes, %llu flows\n", nf, (unsigned long long)bytes,
                  (unsigned long long)flows);

    char opath[1200];
    snprintf(opath, sizeof opath, "%s/oracle.jsonl", base);
    FILE *fp = fopen(opath, "r");
    if (!fp) {
        print_message("SKIP: no %s\n", opath);
        goto out;
    }
    char line[1 << 16];
    int recs = 0, matched = 0, missing = 0, nkeys = 0;
    char **keys = NULL;
    while (fgets(line, sizeof line, fp)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            continue;
        const char *file = json_string_value(json_object_get(o, "file"));
        const char *tr = json_string_value(json_object_get(o, "transport"));
        const char *cli = json_string_value(json_object_get(o, "client"));
        const char *srv = json_string_value(json_object_get(o, "server"));
        if (file && tr && cli && srv) {
            int k = 0;
            while (k < nf && strcmp(files[k].rel, file) != 0)
                k++;
            char pair[2 * MW_ENDPOINT_STRLEN + 8];
            snprintf(pair, sizeof pair, "%s %s>%s", tr, cli, srv);
            recs++;
            if (k == nf) {
                print_message("oracle names a capture that is not there: %s\n", file);
                missing++;
            } else if (ff_count(&files[k].ff, pair) > 0) {
                matched++;
                /* tshark streams of this pair (distinct stream numbers) */
                char key[2200];
                snprintf(key, sizeof key, "%s %s #%lld", file, pair,
                         (long long)json_integer_value(json_object_get(o, "stream")));
                int seen = 0, same_pair = 0;
                size_t pl = strlen(file) + 1 + strlen(pair) + 2;
                for (int j = 0; j < nkeys; j++) {
                    seen |= strcmp(keys[j], key) == 0;
                    same_pair += strncmp(keys[j], key, pl) == 0;
                }
                if (!seen) {
                    keys = realloc(keys, (size_t)(nkeys + 1) * sizeof *keys);
                    keys[nkeys++] = strdup(key);
                    if (same_pair + 1 > ff_count(&files[k].ff, pair)) {
                        print_message("%s: tshark has %d streams %s, we have %d flows\n", file,
                                      same_pair + 1, pair, ff_count(&files[k].ff, pair));
                        missing++;
                    }
                }
            } else {
                print_message("MISSING %s: %s (stream %lld)\n", file, pair,
                              (long long)json_integer_value(json_object_get(o, "stream")));
                missing++;
            }
        }
        json_decref(o);
    }
    fclose(fp);
    for (int j = 0; j < nkeys; j++)
        free(keys[j]);
    free(keys);
    print_message("oracle: %d of %d handshake endpoint pairs found with the same orientation\n",
                  matched, recs);
    assert_int_equal(missing, 0);
    assert_true(recs > 0);
out:
    for (int i = 0; i < nf; i++)
        free(files[i].ff.pairs);
    free(files);
}

/* The fuzz seeds (fuzz/seeds/pcap/, format in fuzz/fuzz_pcap.c) replayed
 * through the recording sink: no crash, every flow ended once. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    static const int lt[] = {
        DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,   DLT_LOOP,      DLT_PPP, DLT_RAW,
        DLT_IPV4,   DLT_IPV6,      DLT_PPP_SERIAL, DLT_C_HDLC, DLT_PPP_ETHER, 101,     147};
    const size_t nlt = sizeof lt / sizeof lt[0];
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/seeds/pcap", MW_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int files = 0;
    uint64_t flows = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        static uint8_t buf[1 << 16];
        size_t size = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        if (size == 0)
            continue;
        struct rec *r = rec_new();
        mw_pcap_t *p = reader(r, 8);
        int t = lt[(buf[0] & 0x3f) % nlt];
        if (!(buf[0] & 0x80)) {
            mw_pcap_feed(p, t, buf + 1, size - 1, (buf[0] & 0x40) ? size + 99 : size - 1, 1);
        } else {
            uint64_t ts = 1000000000ull;
            for (size_t off = 1; off + 3 <= size;) {
                size_t n = (size_t)buf[off] << 8 | buf[off + 1];
                uint8_t step = buf[off + 2];
                off += 3;
                if (n > size - off)
                    n = size - off;
                ts += (step & 0x80) ? (uint64_t)(step & 0x7f) * 1000000000ull : step;
                mw_pcap_feed(p, t, buf + off, n, n, ts);
                off += n;
            }
        }
        if (mw_pcap_stats(p)->flows == 0) /* every seed reaches a flow */
            fail_msg("seed %s: no flow", de->d_name);
        flows += mw_pcap_stats(p)->flows;
        mw_pcap_free(p);
        all_ended(r);
        rec_free(r);
        files++;
    }
    closedir(d);
    assert_true(files >= 5);
    assert_true(flows >= (uint64_t)files);
}

/* Every shared capture cut at 13 places (inside the file header, inside
 * record headers, inside packets): opening fails cleanly or reading stops
 * with MW_EIO or at the end, every flow ends once, nothing leaks (ASan). */
static void test_truncated_captures(void **state)
{
    (void)state;
    const char *sd = getenv("MW_SHARED_DATA");
    char base[1024];
    snprintf(base, sizeof base, "%s/pcaps", sd ? sd : MW_SHARED_DATA);
    struct capfile *files = NULL;
    int nf = 0, capf = 0;
    walk(base, "", &files, &nf, &capf);
    if (nf == 0) {
        print_message("SKIP: no captures under %s\n", base);
        skip();
    }
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cap_cut_%d.pcap", tmpdir(), (int)getpid());
    int eio = 0, refused = 0, runs = 0;
    for (int i = 0; i < nf; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", base, files[i].rel);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)size + 1);
        assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
        fclose(fp);
        const long at[13] = {0,        10,         24,         30,       40,
                             50,       size / 7,   size / 3,   size / 2, 2 * size / 3,
                             size - 1, size - 100, size - 1000};
        for (int k = 0; k < 13; k++) {
            if (at[k] < 0 || at[k] >= size)
                continue;
            FILE *out = fopen(cut, "wb");
            assert_non_null(out);
            assert_int_equal(fwrite(buf, 1, (size_t)at[k], out), (size_t)at[k]);
            fclose(out);
            struct rec *r = rec_new();
            r->store = 0;
            mw_flow_sink_t s = {
                .ctx = r, .tcp_data = on_tcp, .tcp_gap = on_gap, .flow_end = on_end};
            mw_pcap_t *p = NULL;
            char err[1024];
            if (mw_pcap_open_file(cut, &s, 64, &p, err, sizeof err) != MW_OK) {
                assert_null(p);
                refused++;
                rec_free(r);
                continue;
            }
            long rc = mw_pcap_run(p, 0, 0);
            assert_true(rc >= 0 || rc == MW_EIO);
            eio += rc == MW_EIO;
            runs++;
            mw_pcap_free(p);
            all_ended(r);
            rec_free(r);
        }
        free(buf);
        free(files[i].ff.pairs);
    }
    free(files);
    unlink(cut);
    print_message("%d cut files refused at open, %d read (%d of them ended by MW_EIO)\n", refused,
                  runs, eio);
    assert_true(refused > 0 && eio > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_format),
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_link_errors),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6_ext),
        cmocka_unit_test(test_tunnels),
        cmocka_unit_test(test_reasm_order),
        cmocka_unit_test(test_reasm_fin_early),
        cmocka_unit_test(test_reasm_holes),
        cmocka_unit_test(test_reasm_synless),
        cmocka_unit_test(test_reasm_wrap),
        cmocka_unit_test(test_reasm_big),
        cmocka_unit_test(test_sink_stop),
        cmocka_unit_test(test_flow_table),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_shared_captures),
        cmocka_unit_test(test_fuzz_seeds),
        cmocka_unit_test(test_many_flows),
        cmocka_unit_test(test_reasm_total_cap),
        cmocka_unit_test(test_live_loopback),
        cmocka_unit_test(test_truncated_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
