/* libFuzzer harness for the classic pcap record reader (src/ingest/pcap_file.c).
 *
 * Input: the bytes of a capture file. Byte 0 picks the file header's
 * variant (bits 0-1: magic: microseconds or nanoseconds, either byte order,
 * bit 2: version 2.4 or the input's own bytes, so the fuzzer does not have to
 * find the magic); the rest is written after that header as the records
 * (byte 0 bit 3 clear) or the input is used as the whole file (set). The
 * file lives in a memfd and is read twice through mw_pcap_open_file: by our
 * reader and by libpcap alone (mw_pcap_file_fast = 0). Both runs must agree
 * on the open result, the run result and libpcap's error text, every
 * counter, and a digest of every sink callback (flow id, direction, bytes,
 * time stamps); any difference aborts. Runs are cut into pieces of 1..8
 * packets (byte 0 bits 4-6) to exercise the hand-over between runs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest/pcap_int.h"
#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct dig {
    uint64_t h, calls;
};

static void mix(struct dig *d, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3u;
}

static void mix_u64(struct dig *d, uint64_t v)
{
    mix(d, &v, sizeof v);
}

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *b, size_t n, uint64_t ts)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 1 ^ f->id << 8 ^ (uint64_t)dir << 4);
    mix_u64(d, ts);
    mix(d, b, n);
    return 0;
}

static void on_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 2 ^ f->id << 8 ^ (uint64_t)dir << 4);
    mix_u64(d, missing);
}

static void on_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *b, size_t n, uint64_t ts)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 3 ^ f->id << 8 ^ (uint64_t)dir << 4);
    mix_u64(d, ts);
    mix(d, b, n);
}

static void on_end(void *ctx, mw_flow_t *f)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 4 ^ f->id << 8);
    mix_u64(d, f->bytes[0]);
    mix_u64(d, f->bytes[1]);
    mix_u64(d, f->first_ns ^ f->last_ns << 1);
}

struct outcome {
    int open_rc;
    long run_rc;
    char err[PCAP_ERRBUF_SIZE + 256];
    mw_pcap_stats_t st;
    struct dig d;
};

static void read_file(const char *path, int fast, long chunk, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->d.h = 0xcbf29ce484222325u;
    mw_pcap_file_fast = fast;
    mw_flow_sink_t s = {.ctx = &o->d,
                        .tcp_data = on_tcp,
                        .tcp_gap = on_gap,
                        .udp_data = on_udp,
                        .flow_end = on_end};
    mw_pcap_t *p = NULL;
    o->open_rc = mw_pcap_open_file(path, &s, 16, &p, o->err, sizeof o->err);
    mw_pcap_file_fast = 1;
    if (o->open_rc != MW_OK)
        return;
    for (int i = 0; i < 100000; i++) {
        long r = mw_pcap_run(p, chunk, 0);
        if (r <= 0) {
            o->run_rc = r;
            break;
        }
    }
    snprintf(o->err, sizeof o->err, "%s", mw_pcap_error(p));
    mw_pcap_flush(p);
    o->st = *mw_pcap_stats(p);
    mw_pcap_free(p);
}

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (memfd < 0) {
        memfd = memfd_create("fuzz_pcapfile", MFD_CLOEXEC);
        if (memfd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    }
    uint8_t mode = data[0];
    data++;
    size--;
    static const uint32_t magics[4] = {0xa1b2c3d4u, 0xa1b23c4du, 0xd4c3b2a1u, 0x4d3cb2a1u};
    uint8_t hdr[24] = {0};
    if (ftruncate(memfd, 0) != 0)
        abort();
    size_t off = 0;
    if (!(mode & 8)) {
        uint32_t m = magics[mode & 3];
        int swap = (mode & 3) >= 2;
        memcpy(hdr, &m, 4);
        uint16_t maj = 2, min = (mode & 4) ? 4 : (uint16_t)(size ? data[0] % 6 : 4);
        uint32_t snap = 65535, lt = 1;
        if (swap) {
            maj = __builtin_bswap16(maj);
            min = __builtin_bswap16(min);
            snap = __builtin_bswap32(snap);
            lt = __builtin_bswap32(lt);
        }
        memcpy(hdr + 4, &maj, 2);
        memcpy(hdr + 6, &min, 2);
        memcpy(hdr + 16, &snap, 4);
        memcpy(hdr + 20, &lt, 4);
        if (pwrite(memfd, hdr, 24, 0) != 24)
            abort();
        off = 24;
    }
    if (size && pwrite(memfd, data, size, (off_t)off) != (ssize_t)size)
        abort();
    long chunk = 1 + ((mode >> 4) & 7);
    struct outcome a, b;
    read_file(path, 1, chunk, &a);
    read_file(path, 0, chunk, &b);
    if (a.open_rc != b.open_rc || a.run_rc != b.run_rc || strcmp(a.err, b.err) != 0 ||
        memcmp(&a.st, &b.st, sizeof a.st) != 0 || a.d.h != b.d.h || a.d.calls != b.d.calls) {
        fprintf(
            stderr,
            "fuzz_pcapfile: our reader and libpcap differ: open %d/%d run %ld/%ld '%s' / '%s'\n",
            a.open_rc, b.open_rc, a.run_rc, b.run_rc, a.err, b.err);
        abort();
    }
    return 0;
}
