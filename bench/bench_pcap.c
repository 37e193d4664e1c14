/* bench_pcap: throughput of the capture layer (include/mwrasp/exposure.h
 * section 1) with a sink that does nothing, one thread.
 *
 *   bench_pcap [--seconds S] FILE...
 *
 * Three figures, each over the files repeated until S seconds (default 3) of
 * CPU time have passed:
 *   run:  mw_pcap_open_file + mw_pcap_run + mw_pcap_free per file (file
 *         reading from the page cache: classic pcap records by
 *         src/ingest/pcap_file.c, pcapng by libpcap; link/IP decoding,
 *         reassembly, flows);
 *   run-libpcap: the same with every record read by libpcap's pcap_next_ex
 *         (mw_pcap_file_fast = 0), for comparison;
 *   feed: the same packets preloaded in memory, through mw_pcap_feed (no
 *         libpcap, no file I/O): the decoding and reassembly cost alone.
 * MB/s counts captured bytes (pcap record payloads), MB = 10^6 bytes; CPU
 * time is the process's (CLOCK_PROCESS_CPUTIME_ID), so other load on the
 * machine changes the figure less than wall time would. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwrasp/exposure.h"

extern int mw_pcap_file_fast; /* src/ingest/pcap_int.h */

static uint64_t g_calls;

static int nop_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ctx, (void)f, (void)dir, (void)d, (void)len, (void)ts;
    g_calls++;
    return 0;
}

static void nop_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ctx, (void)f, (void)dir, (void)d, (void)len, (void)ts;
    g_calls++;
}

static void nop_end(void *ctx, mw_flow_t *f)
{
    (void)ctx, (void)f;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct pkt {
    uint32_t off, caplen, wirelen;
    uint64_t ts;
};

struct loaded {
    int linktype;
    uint8_t *data;
    struct pkt *pkts;
    size_t n, bytes;
};

static int load(const char *path, struct loaded *l)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!pc) {
        fprintf(stderr, "%s: %s\n", path, eb);
        return -1;
    }
    memset(l, 0, sizeof *l);
    l->linktype = pcap_datalink(pc);
    size_t cap = 1 << 16, pcapn = 64;
    l->data = malloc(cap);
    l->pkts = malloc(pcapn * sizeof *l->pkts);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        if (l->bytes + h->caplen > cap) {
            while (l->bytes + h->caplen > cap)
                cap *= 2;
            l->data = realloc(l->data, cap);
        }
        if (l->n == pcapn)
            l->pkts = realloc(l->pkts, (pcapn *= 2) * sizeof *l->pkts);
        memcpy(l->data + l->bytes, d, h->caplen);
        l->pkts[l->n++] = (struct pkt){(uint32_t)l->bytes, h->caplen, h->len,
                                       (uint64_t)h->ts.tv_sec * 1000000000ull + h->ts.tv_usec};
        l->bytes += h->caplen;
    }
    pcap_close(pc);
    return 0;
}

/* Opens, runs and frees every file, repeated for `seconds` of CPU time. */
static int run_files(char **files, int nf, const mw_flow_sink_t *sink, double seconds,
                     const char *label)
{
    uint64_t bytes = 0, packets = 0, flows = 0;
    int rounds = 0;
    double t0 = cpu_now(), t1 = t0;
    while (t1 - t0 < seconds) {
        for (int i = 0; i < nf; i++) {
            mw_pcap_t *p = NULL;
            char err[512];
            if (mw_pcap_open_file(files[i], sink, 0, &p, err, sizeof err) != MW_OK) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            if (mw_pcap_run(p, 0, 0) < 0)
                fprintf(stderr, "%s: %s\n", files[i], mw_pcap_error(p));
            bytes += mw_pcap_stats(p)->bytes;
            packets += mw_pcap_stats(p)->packets;
            flows += mw_pcap_stats(p)->flows;
            mw_pcap_free(p);
        }
        rounds++;
        t1 = cpu_now();
    }
    double dt = t1 - t0;
    printf("%s %d files x %d rounds, %.1f MB, %llu packets, %llu flows in %.2f s CPU: "
           "%.0f MB/s, %.2f Mpackets/s\n",
           label, nf, rounds, bytes / 1e6, (unsigned long long)packets, (unsigned long long)flows,
           dt, bytes / 1e6 / dt, packets / 1e6 / dt);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 3;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--seconds") == 0) {
        seconds = atof(argv[2]);
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: bench_pcap [--seconds S] FILE...\n");
        return 2;
    }
    int nf = argc - first;
    mw_flow_sink_t sink = {.tcp_data = nop_tcp, .udp_data = nop_udp, .flow_end = nop_end};

    for (int fast = 1; fast >= 0; fast--) {
        mw_pcap_file_fast = fast;
        if (run_files(argv + first, nf, &sink, seconds, fast ? "run:        " : "run-libpcap:") !=
            0)
            return 1;
    }
    mw_pcap_file_fast = 1;
    uint64_t bytes = 0, packets = 0;
    int rounds = 0;
    double t0, t1, dt;

    /* feed: preloaded packets */
    struct loaded *ls = calloc((size_t)nf, sizeof *ls);
    for (int i = 0; i < nf; i++)
        if (load(argv[first + i], &ls[i]) != 0)
            return 1;
    bytes = packets = 0;
    rounds = 0;
    t0 = t1 = cpu_now();
    while (t1 - t0 < seconds) {
        for (int i = 0; i < nf; i++) {
            mw_pcap_t *p = NULL;
            if (mw_pcap_new(&sink, 0, &p) != MW_OK)
                return 1;
            const struct loaded *l = &ls[i];
            for (size_t k = 0; k < l->n; k++)
                mw_pcap_feed(p, l->linktype, l->data + l->pkts[k].off, l->pkts[k].caplen,
                             l->pkts[k].wirelen, l->pkts[k].ts);
            bytes += l->bytes;
            packets += l->n;
            mw_pcap_free(p);
        }
        rounds++;
        t1 = cpu_now();
    }
    dt = t1 - t0;
    printf("feed:        %d files x %d rounds, %.1f MB, %llu packets in %.2f s CPU: %.0f MB/s, "
           "%.2f Mpackets/s (sink calls %llu)\n",
           nf, rounds, bytes / 1e6, (unsigned long long)packets, dt, bytes / 1e6 / dt,
           packets / 1e6 / dt, (unsigned long long)g_calls);
    for (int i = 0; i < nf; i++) {
        free(ls[i].data);
        free(ls[i].pkts);
    }
    free(ls);
    return 0;
}
