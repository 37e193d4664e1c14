/* Capture layer internals (include/mwrasp/exposure.h section 1): shared by
 * pcap.c (libpcap sources, link layer, IP, tunnels) and pcap_flow.c (flow
 * table, TCP reassembly, UDP). docs/internals/exposure.md, "Captures". */
#ifndef MW_INGEST_PCAP_INT_H
#define MW_INGEST_PCAP_INT_H

#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mwrasp/exposure.h"

#define MW_PCAP_TCP_IDLE_NS (120ull * 1000000000ull)
#define MW_PCAP_UDP_IDLE_NS (60ull * 1000000000ull)
#define MW_PCAP_SWEEP_NS (1000000000ull) /* idle sweep at most once per capture second */

/* An out-of-order piece of one direction, held until the hole before it
 * fills. Pieces of a direction never overlap and are sorted by seq. */
struct mw_seg {
    struct mw_seg *next;
    uint32_t seq, len;
    uint8_t data[];
};

/* Per-direction TCP state; sequence numbers compare mod 2^32 (RFC 9293,
 * 3.4). */
struct mw_tdir {
    uint32_t next_seq; /* next byte to deliver */
    uint32_t isn; /* SYN's sequence number (when syn) */
    uint32_t fin_seq; /* sequence number just past the data (when fin) */
    uint8_t started; /* next_seq is set (SYN or first segment seen) */
    uint8_t syn, fin, closed; /* closed: FIN seen and every byte before it delivered */
    uint8_t done; /* the sink needs no more bytes: count only */
    struct mw_seg *ooo, *ooo_tail;
    uint32_t ooo_bytes; /* held bytes plus a header charge per piece */
};

struct mw_pflow {
    mw_flow_t pub;
    struct mw_pflow *hnext; /* hash chain */
    struct mw_pflow *prev, *next; /* LRU list of its protocol, oldest first */
    uint64_t hash;
    struct mw_tdir d[2];
    uint8_t dropped; /* the sink returned < 0: nothing more is delivered */
};

/* One decoded transport packet, as the flow layer sees it. */
struct mw_l4pkt {
    mw_endpoint_t src, dst;
    const uint8_t *payload;
    size_t len; /* captured payload bytes */
    size_t missing; /* payload bytes cut by the snapshot length */
    uint32_t seq;
    uint8_t flags; /* TCP flags byte */
    uint8_t l4; /* 6 or 17 */
    uint64_t ts;
};

struct mw_pcap {
    mw_flow_sink_t sink;
    pcap_t *pc;
    int linktype;
    int live;
    atomic_int brk; /* mw_pcap_break from another thread */
    mw_pcap_stats_t st;
    /* flow table */
    size_t max_flows, nflows;
    struct mw_pflow **buckets;
    uint64_t mask, seed;
    struct mw_pflow *lru_head[2], *lru_tail[2]; /* [0] TCP, [1] UDP */
    struct mw_pflow *freelist;
    uint64_t next_id;
    uint64_t reasm_total; /* held out-of-order bytes (+ charges) of all flows */
    uint64_t now_ns, next_sweep_ns;
    char err[PCAP_ERRBUF_SIZE + 256];
    void *iobuf; /* stdio buffer of a file opened by pcap.c (open_buffered) */
    struct mw_pcap_fast *fast; /* classic pcap records read by pcap_file.c, or NULL */
};

/* pcap_file.c: classic pcap records read in place (see there). */
struct mw_pcap_rec {
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts_ns;
};
extern int mw_pcap_file_fast; /* 0: libpcap reads every record (tests) */
int mw_pcap_fast_probe(const uint8_t hdr[24]);
void mw_pcap_fast_open(mw_pcap_t *p, int fd, const uint8_t hdr[24], uint64_t file_size);
/* 1: a record; 0: the end of the file; MW_EAGAIN: libpcap reads the rest
 * (p->fast is gone); MW_EIO: the stream could not be positioned. */
int mw_pcap_fast_next(mw_pcap_t *p, struct mw_pcap_rec *rec);
void mw_pcap_fast_free(mw_pcap_t *p);

int mw_pcap_flows_init(mw_pcap_t *p, size_t max_flows);
void mw_pcap_flows_free(mw_pcap_t *p);
void mw_pcap_flows_flush(mw_pcap_t *p);
void mw_pcap_flows_clock(mw_pcap_t *p, uint64_t ts); /* advances capture time, evicts idle */
void mw_pcap_tcp(mw_pcap_t *p, const struct mw_l4pkt *k);
void mw_pcap_udp(mw_pcap_t *p, const struct mw_l4pkt *k);

#endif
