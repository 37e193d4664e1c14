/* libFuzzer harness for the exposure scanner as a whole (src/detect/
 * exposure.c, exposure_write.c): the input is a classic pcap file body (RFC
 * draft-ietf-opsawg-pcap 4-5: 24-byte file header with the magic in either
 * byte order, microsecond or nanosecond, then 16-byte record headers), fed
 * packet by packet through mw_pcap_feed into the scanner's sink; the end of
 * the input ends every flow. Every session, the per-service table and the
 * CBOM are written (to /dev/null). Besides "no crash, no leak, no UB" it
 * checks the scanner's promises: a session has a class and a reason, its
 * exposed bytes are within its bytes and only for a classical session; every
 * service's counts add up. Seeds: fuzz/seeds/exposure/ (made by
 * fuzz/seeds/exposure/make_seeds.py from our TLS and SSH seeds). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;
static uint64_t n_sessions;

static void on_session(void *ctx, const char *label, const mw_expo_session_t *s)
{
    (void)ctx;
    (void)label;
    if ((unsigned)s->cls > MW_EXPO_PQ_ONLY || !memchr(s->reason, '\0', sizeof s->reason))
        abort();
    if (s->exposed_bytes > s->bytes_c2s + s->bytes_s2c)
        abort();
    if (s->exposed_bytes && s->cls != MW_EXPO_CLASSICAL)
        abort();
    if (!s->reason[0])
        abort();
    n_sessions++;
    if (mw_expo_write_json(devnull, label, s) != MW_OK)
        abort();
}

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (!devnull || size < 24)
        return 0;
    uint32_t magic = rd32(data, 0);
    int swap, nano;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
        swap = 0;
    else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
        swap = 1;
    else
        return 0;
    nano = (swap ? __builtin_bswap32(magic) : magic) == 0xa1b23c4d;
    int linktype = (int)(rd32(data + 20, swap) & 0x0fffffff);

    mw_expo_scan_t *sc = NULL;
    mw_pcap_t *p = NULL;
    mw_flow_sink_t sink;
    n_sessions = 0;
    if (mw_expo_scan_new(on_session, NULL, &sc) != MW_OK)
        return 0;
    mw_expo_scan_sink(sc, "fuzz.pcap", &sink);
    if (mw_pcap_new(&sink, 64, &p) != MW_OK) {
        mw_expo_scan_free(sc);
        return 0;
    }
    size_t off = 24;
    while (off + 16 <= size) {
        uint32_t sec = rd32(data + off, swap), frac = rd32(data + off + 4, swap);
        uint32_t incl = rd32(data + off + 8, swap), orig = rd32(data + off + 12, swap);
        off += 16;
        if (incl > size - off || incl > 262144)
            break; /* a truncated record ends the capture, as libpcap does */
        uint64_t ts = (uint64_t)sec * 1000000000ull + (nano ? frac : (uint64_t)frac * 1000ull);
        mw_pcap_feed(p, linktype, data + off, incl, orig < incl ? incl : orig, ts);
        off += incl;
    }
    mw_pcap_free(p); /* ends the flows: sessions are reported here */
    const mw_expo_scan_stats_t *st = mw_expo_scan_stats(sc);
    uint64_t tot = 0;
    for (int c = 0; c < 4; c++)
        tot += st->sessions[c];
    if (tot != n_sessions)
        abort();
    uint64_t svc_tot = 0;
    for (size_t i = 0; i < mw_expo_scan_service_count(sc); i++) {
        const mw_expo_service_t *v = mw_expo_scan_service(sc, i);
        uint64_t n = 0;
        for (int c = 0; c < 4; c++)
            n += v->sessions[c];
        if (n == 0 || v->exposed_bytes > v->bytes || v->n_versions > MW_EXPO_SVC_MAX_ITEMS ||
            v->n_certs > MW_EXPO_SVC_MAX_ITEMS)
            abort();
        svc_tot += n;
    }
    if (svc_tot + st->services_dropped != n_sessions)
        abort();
    if (mw_expo_write_table(devnull, sc) != MW_OK || mw_expo_write_cbom(devnull, sc) != MW_OK)
        abort();
    mw_expo_scan_free(sc);
    return 0;
}
