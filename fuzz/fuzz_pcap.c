/* libFuzzer harness for the capture layer (include/mwrasp/exposure.h
 * section 1): link layer, IP, tunnels, TCP reassembly, the flow table.
 *
 * Input: byte 0 selects the mode and the link type.
 *   bit 7 clear: the rest is one packet of link type LT[(byte0 & 0x3f) % NLT];
 *     bit 6 set: the packet claims 100 more bytes on the wire than were
 *     captured (a snapshot-length cut).
 *   bit 7 set: a sequence of packets of link type LT[(byte0 & 0x3f) % NLT], each as
 *     [len hi][len lo][time step][len bytes]: exercises reassembly, idle
 *     eviction (the time step is in seconds when its top bit is set) and the
 *     flow cap (8 flows).
 * The sink checks the layer's promises: no empty tcp_data, nothing after
 * flow_end, flow_end exactly once (each flow's state is allocated on its
 * first callback and freed by flow_end: ASan reports a double end as a
 * double free and a missing one as a leak). It sometimes returns 1 or -1
 * from tcp_data, from the data's first byte. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int LT[] = {
    DLT_EN10MB, DLT_LINUX_SLL,  DLT_LINUX_SLL2, DLT_NULL,      DLT_LOOP, DLT_PPP, DLT_RAW, DLT_IPV4,
    DLT_IPV6,   DLT_PPP_SERIAL, DLT_C_HDLC,     DLT_PPP_ETHER, 101,      147 /* unknown */};
#define NLT (sizeof LT / sizeof LT[0])

static volatile uint8_t g_sink;

struct fstate {
    uint64_t id;
    int ended;
};

static struct fstate *st_of(mw_flow_t *f)
{
    if (!f->user) {
        struct fstate *s = calloc(1, sizeof *s);
        if (!s)
            abort();
        s->id = f->id;
        f->user = s;
    }
    struct fstate *s = f->user;
    if (s->ended || s->id != f->id)
        abort();
    return s;
}

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ctx;
    (void)ts;
    st_of(f);
    if (len == 0 || (dir != 0 && dir != 1) || f->l4 != 6)
        abort();
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) /* every byte readable */
        sum ^= d[i];
    g_sink ^= sum;
    if (d[0] == 0xf1)
        return 1;
    if (d[0] == 0xf2)
        return -1;
    return 0;
}

static void on_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    (void)ctx;
    st_of(f);
    if (missing == 0 || (dir != 0 && dir != 1))
        abort();
}

static void on_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ctx;
    (void)ts;
    st_of(f);
    if ((dir != 0 && dir != 1) || f->l4 != 17)
        abort();
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum ^= d[i];
    g_sink ^= sum;
}

static void on_end(void *ctx, mw_flow_t *f)
{
    (void)ctx;
    struct fstate *s = st_of(f);
    s->ended = 1;
    free(s);
    f->user = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mw_flow_sink_t sink = {
        .tcp_data = on_tcp, .tcp_gap = on_gap, .udp_data = on_udp, .flow_end = on_end};
    mw_pcap_t *p = NULL;
    if (mw_pcap_new(&sink, 8, &p) != MW_OK)
        return 0;
    int lt = LT[(data[0] & 0x3f) % NLT];
    if (!(data[0] & 0x80)) {
        /* an exact-size copy, so that ASan sees any read past the packet */
        size_t n = size - 1;
        uint8_t *pkt = malloc(n ? n : 1);
        if (!pkt)
            abort();
        memcpy(pkt, data + 1, n);
        mw_pcap_feed(p, lt, pkt, n, (data[0] & 0x40) ? n + 100 : n, 1);
        free(pkt);
    } else {
        uint64_t ts = 1000000000ull;
        size_t off = 1;
        while (off + 3 <= size) {
            size_t n = (size_t)data[off] << 8 | data[off + 1];
            uint8_t step = data[off + 2];
            off += 3;
            if (n > size - off)
                n = size - off;
            ts += (step & 0x80) ? (uint64_t)(step & 0x7f) * 1000000000ull : step;
            uint8_t *pkt = malloc(n ? n : 1);
            if (!pkt)
                abort();
            memcpy(pkt, data + off, n);
            mw_pcap_feed(p, lt, pkt, n, n, ts);
            free(pkt);
            off += n;
        }
    }
    const mw_pcap_stats_t *st = mw_pcap_stats(p);
    if (st->flows < st->flows_evicted)
        abort();
    mw_pcap_free(p);
    return 0;
}
