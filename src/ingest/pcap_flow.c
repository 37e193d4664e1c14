/* Flow table and TCP reassembly of the capture layer
 * (include/mwrasp/exposure.h section 1; docs/internals/exposure.md,
 * "Captures").
 *
 * Flows live in a chained hash table keyed by the unordered pair of
 * endpoints (a seeded multiplicative hash, so a hostile capture cannot aim at
 * one chain without knowing the seed), and in one LRU list per protocol,
 * oldest activity first, for idle eviction by capture time. Flow structures
 * are recycled through a free list: after warm-up, in-order traffic costs no
 * allocation and no copy (a segment that carries the next expected byte is
 * delivered straight from the packet buffer).
 *
 * TCP per direction (RFC 9293): sequence numbers compare mod 2^32
 * (section 3.4); a SYN sets the initial sequence number, the first data byte
 * is ISN+1 (section 3.4.1); without a SYN the stream starts at the first
 * segment seen. Bytes before next_seq are retransmissions: dropped and
 * counted. Bytes after it are held (copied) up to MW_PCAP_MAX_REASM per
 * direction; the first copy of a byte wins (a later, different copy of a
 * byte already held or delivered is dropped). When the holding cap would be
 * exceeded, the hole before the first held piece is declared lost
 * (tcp_gap) and delivery resumes after it. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ingest/pcap_int.h"

#define SEG_CHARGE ((uint32_t)sizeof(struct mw_seg)) /* per-piece overhead charged to the cap */

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10 };

/* RFC 9293, 3.4: comparisons of sequence numbers mod 2^32. */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* ------------------------------------------------------------------ */
/* table                                                               */
/* ------------------------------------------------------------------ */

#define MIN_BUCKETS 256u
#define MAX_BUCKETS (1u << 20)

int mw_pcap_flows_init(mw_pcap_t *p, size_t max_flows)
{
    if (max_flows == 0)
        max_flows = MW_PCAP_DEFAULT_MAX_FLOWS;
    if (max_flows > (1u << 24))
        max_flows = 1u << 24;
    /* The table starts small and doubles with the flow count (grow()), so a
     * small capture does not pay for a table sized for max_flows. */
    p->buckets = calloc(MIN_BUCKETS, sizeof *p->buckets);
    if (!p->buckets)
        return MW_ENOMEM;
    p->mask = MIN_BUCKETS - 1;
    p->max_flows = max_flows;
    if (getrandom(&p->seed, sizeof p->seed, GRND_NONBLOCK) != (ssize_t)sizeof p->seed)
        p->seed = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    p->seed |= 1;
    p->next_id = 1;
    return MW_OK;
}

/* Doubles the bucket array once there are more flows than buckets (load
 * factor <= 1, up to MAX_BUCKETS); on allocation failure the table keeps
 * its size (longer chains, still correct). */
static void grow(mw_pcap_t *p)
{
    uint64_t nb = p->mask + 1;
    if (p->nflows < nb || nb >= MAX_BUCKETS)
        return;
    struct mw_pflow **b = calloc(nb * 2, sizeof *b);
    if (!b)
        return;
    uint64_t mask = nb * 2 - 1;
    for (int l = 0; l < 2; l++)
        for (struct mw_pflow *f = p->lru_head[l]; f; f = f->next) {
            f->hnext = b[f->hash & mask];
            b[f->hash & mask] = f;
        }
    free(p->buckets);
    p->buckets = b;
    p->mask = mask;
}

static inline uint64_t ep_hash(const mw_endpoint_t *e, uint64_t seed)
{
    uint64_t a, b;
    memcpy(&a, e->addr, 8);
    memcpy(&b, e->addr + 8, 8);
    uint64_t h = (a ^ seed) * 0x9e3779b97f4a7c15ull;
    h ^= (b + e->port + ((uint64_t)e->family << 16)) * 0xc2b2ae3d27d4eb4full;
    return h ^ (h >> 31);
}

/* Symmetric in the two endpoints: both directions land in one bucket. */
static inline uint64_t pair_hash(const mw_pcap_t *p, const struct mw_l4pkt *k)
{
    uint64_t h = ep_hash(&k->src, p->seed) + ep_hash(&k->dst, p->seed) + k->l4;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

static inline int ep_eq(const mw_endpoint_t *a, const mw_endpoint_t *b)
{
    return a->port == b->port && a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

static struct mw_pflow *lookup(mw_pcap_t *p, const struct mw_l4pkt *k, uint64_t h, int *dir)
{
    for (struct mw_pflow *f = p->buckets[h & p->mask]; f; f = f->hnext) {
        if (f->hash != h || f->pub.l4 != k->l4)
            continue;
        if (ep_eq(&k->src, &f->pub.client) && ep_eq(&k->dst, &f->pub.server)) {
            *dir = 0;
            return f;
        }
        if (ep_eq(&k->src, &f->pub.server) && ep_eq(&k->dst, &f->pub.client)) {
            *dir = 1;
            return f;
        }
    }
    return NULL;
}

static inline int lru_of(const struct mw_pflow *f)
{
    return f->pub.l4 == 17;
}

static void lru_unlink(mw_pcap_t *p, struct mw_pflow *f)
{
    int l = lru_of(f);
    if (f->prev)
        f->prev->next = f->next;
    else
        p->lru_head[l] = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        p->lru_tail[l] = f->prev;
    f->prev = f->next = NULL;
}

static void lru_append(mw_pcap_t *p, struct mw_pflow *f)
{
    int l = lru_of(f);
    f->next = NULL;
    f->prev = p->lru_tail[l];
    if (f->prev)
        f->prev->next = f;
    else
        p->lru_head[l] = f;
    p->lru_tail[l] = f;
}

static void touch(mw_pcap_t *p, struct mw_pflow *f, uint64_t ts)
{
    if (ts > f->pub.last_ns)
        f->pub.last_ns = ts;
    if (p->lru_tail[lru_of(f)] != f) {
        lru_unlink(p, f);
        lru_append(p, f);
    }
}

static void free_segs(mw_pcap_t *p, struct mw_tdir *d)
{
    p->reasm_total -= d->ooo_bytes;
    struct mw_seg *s = d->ooo;
    while (s) {
        struct mw_seg *n = s->next;
        free(s);
        s = n;
    }
    d->ooo = d->ooo_tail = NULL;
    d->ooo_bytes = 0;
}

/* ------------------------------------------------------------------ */
/* delivery                                                            */
/* ------------------------------------------------------------------ */

static void set_done(mw_pcap_t *p, struct mw_tdir *d)
{
    d->done = 1;
    free_segs(p, d);
}

/* Delivers len in-order bytes of direction dir and advances next_seq. */
static void deliver(mw_pcap_t *p, struct mw_pflow *f, int dir, const uint8_t *data, uint32_t len,
                    uint64_t ts)
{
    struct mw_tdir *d = &f->d[dir];
    if (len == 0)
        return;
    f->pub.bytes[dir] += len;
    d->next_seq += len;
    if (d->done || !p->sink.tcp_data)
        return;
    int rc = p->sink.tcp_data(p->sink.ctx, &f->pub, dir, data, len, ts);
    if (rc == 1) {
        set_done(p, d);
    } else if (rc < 0) {
        f->dropped = 1;
        set_done(p, &f->d[0]);
        set_done(p, &f->d[1]);
    }
}

static void gap(mw_pcap_t *p, struct mw_pflow *f, int dir, uint32_t missing)
{
    if (missing == 0)
        return;
    p->st.tcp_gaps++;
    f->d[dir].next_seq += missing;
    if (!f->d[dir].done && p->sink.tcp_gap)
        p->sink.tcp_gap(p->sink.ctx, &f->pub, dir, missing);
}

/* Delivers the held pieces that have become contiguous with next_seq. */
static void drain(mw_pcap_t *p, struct mw_pflow *f, int dir, uint64_t ts)
{
    struct mw_tdir *d = &f->d[dir];
    while (d->ooo && seq_diff(d->ooo->seq, d->next_seq) <= 0) {
        struct mw_seg *s = d->ooo;
        d->ooo = s->next;
        if (!d->ooo)
            d->ooo_tail = NULL;
        d->ooo_bytes -= s->len + SEG_CHARGE;
        p->reasm_total -= s->len + SEG_CHARGE;
        uint32_t skip = (uint32_t)-seq_diff(s->seq, d->next_seq);
        if (skip < s->len)
            deliver(p, f, dir, s->data + skip, s->len - skip, ts);
        free(s);
    }
}

/* Declares the hole before the first held piece lost and delivers what
 * follows it. */
static void skip_hole(mw_pcap_t *p, struct mw_pflow *f, int dir, uint64_t ts)
{
    struct mw_tdir *d = &f->d[dir];
    if (!d->ooo)
        return;
    int32_t hole = seq_diff(d->ooo->seq, d->next_seq);
    if (hole > 0)
        gap(p, f, dir, (uint32_t)hole);
    drain(p, f, dir, ts);
}

static struct mw_seg *seg_new(uint32_t seq, const uint8_t *data, uint32_t len)
{
    struct mw_seg *s = malloc(sizeof *s + len);
    if (!s)
        return NULL;
    s->next = NULL;
    s->seq = seq;
    s->len = len;
    memcpy(s->data, data, len);
    return s;
}

/* Holds [seq, seq+len) (after next_seq) without overlapping what is already
 * held: bytes already held keep their first copy. */
static void hold(mw_pcap_t *p, struct mw_tdir *d, uint32_t seq, const uint8_t *data, uint32_t len)
{
    uint32_t end = seq + len, cur = seq;
    struct mw_seg **link = &d->ooo;
    /* Fast path: past everything held (a hole followed by in-order data). */
    if (d->ooo && seq_diff(seq, d->ooo_tail->seq + d->ooo_tail->len) >= 0)
        link = &d->ooo_tail->next;
    while (seq_diff(cur, end) < 0) {
        struct mw_seg *s = *link;
        uint32_t stop = end;
        if (s) {
            uint32_t s_end = s->seq + s->len;
            if (seq_diff(s_end, cur) <= 0) { /* entirely before cur */
                link = &s->next;
                continue;
            }
            if (seq_diff(s->seq, cur) <= 0) { /* s holds cur: its copy wins */
                uint32_t upto = seq_diff(s_end, end) < 0 ? s_end : end;
                p->st.tcp_retrans_bytes += upto - cur;
                cur = upto;
                link = &s->next;
                continue;
            }
            if (seq_diff(s->seq, end) < 0)
                stop = s->seq;
        }
        /* the caps hold exactly: what does not fit is not held (a hole) */
        if (d->ooo_bytes + (stop - cur) + SEG_CHARGE > MW_PCAP_MAX_REASM ||
            p->reasm_total + (stop - cur) + SEG_CHARGE > MW_PCAP_MAX_REASM_TOTAL) {
            p->st.tcp_reasm_overflow++;
            return;
        }
        struct mw_seg *n = seg_new(cur, data + (cur - seq), stop - cur);
        if (!n) {
            p->st.tcp_reasm_overflow++;
            return;
        }
        n->next = s;
        *link = n;
        if (!s)
            d->ooo_tail = n;
        d->ooo_bytes += n->len + SEG_CHARGE;
        p->reasm_total += n->len + SEG_CHARGE;
        link = &n->next;
        cur = stop;
    }
}

/* Stream bytes [start, start+len) of direction dir, then `missing` bytes the
 * snapshot length cut off. */
static void tcp_payload(mw_pcap_t *p, struct mw_pflow *f, int dir, uint32_t start,
                        const uint8_t *data, uint32_t len, uint32_t missing, uint64_t ts)
{
    struct mw_tdir *d = &f->d[dir];
    uint32_t total = len + missing;
    if (d->done) {
        /* Count only: the bytes that move the stream forward. */
        int32_t ahead = seq_diff(start + total, d->next_seq);
        if (ahead > 0) {
            uint32_t n = seq_diff(start, d->next_seq) > 0 ? total : (uint32_t)ahead;
            f->pub.bytes[dir] += n;
            d->next_seq = start + total;
        } else {
            p->st.tcp_retransmits++;
            p->st.tcp_retrans_bytes += total;
        }
        return;
    }
    int32_t off = seq_diff(start, d->next_seq);
    if (off < 0) {
        uint32_t old = (uint32_t) - (int64_t)off;
        p->st.tcp_retransmits++;
        if (old >= total) {
            p->st.tcp_retrans_bytes += total;
            return;
        }
        p->st.tcp_retrans_bytes += old;
        if (old >= len) {
            missing -= old - len;
            start += old;
            data += len;
            len = 0;
        } else {
            start += old;
            data += old;
            len -= old;
        }
        off = 0;
    }
    if (off > 0) {
        p->st.tcp_out_of_order++;
        if (len == 0)
            return;
        /* Past the per-direction cap (or the reader-wide one) this
         * direction's oldest hole is declared lost. */
        while (d->ooo && (d->ooo_bytes + len + SEG_CHARGE > MW_PCAP_MAX_REASM ||
                          p->reasm_total + len + SEG_CHARGE > MW_PCAP_MAX_REASM_TOTAL)) {
            p->st.tcp_reasm_overflow++;
            skip_hole(p, f, dir, ts);
            if (d->done) {
                tcp_payload(p, f, dir, start, data, len, 0, ts);
                return;
            }
            off = seq_diff(start, d->next_seq);
            if (off <= 0) {
                tcp_payload(p, f, dir, start, data, len, 0, ts);
                return;
            }
        }
        hold(p, d, start, data, len);
        return;
    }
    /* In order: deliver from the packet buffer. A held piece that starts
     * inside this segment arrived first, so its bytes win over ours. */
    while (len > 0) {
        if (d->done) {
            tcp_payload(p, f, dir, start, data, len, 0, ts);
            break;
        }
        if (d->ooo && seq_diff(d->ooo->seq, start + len) < 0) {
            uint32_t n = d->ooo->seq - start;
            deliver(p, f, dir, data, n, ts);
            drain(p, f, dir, ts);
            int32_t covered = seq_diff(d->next_seq, start + n);
            data += n;
            len -= n;
            start += n;
            if (covered < 0)
                covered = 0;
            if ((uint32_t)covered >= len) {
                p->st.tcp_retrans_bytes += len;
                len = 0;
                break;
            }
            p->st.tcp_retrans_bytes += (uint32_t)covered;
            data += covered;
            len -= (uint32_t)covered;
            start += (uint32_t)covered;
            continue;
        }
        deliver(p, f, dir, data, len, ts);
        len = 0;
    }
    if (missing) {
        if (d->done) {
            f->pub.bytes[dir] += missing;
            d->next_seq += missing;
        } else {
            gap(p, f, dir, missing);
        }
    }
    drain(p, f, dir, ts);
}

/* ------------------------------------------------------------------ */
/* flow life                                                           */
/* ------------------------------------------------------------------ */

static void end_flow(mw_pcap_t *p, struct mw_pflow *f)
{
    /* What is still held: the holes before it are lost, the rest delivered. */
    for (int dir = 0; dir < 2; dir++) {
        struct mw_tdir *d = &f->d[dir];
        while (d->ooo && !d->done)
            skip_hole(p, f, dir, f->pub.last_ns);
        free_segs(p, d);
    }
    if (p->sink.flow_end)
        p->sink.flow_end(p->sink.ctx, &f->pub);
    struct mw_pflow **link = &p->buckets[f->hash & p->mask];
    while (*link && *link != f)
        link = &(*link)->hnext;
    if (*link)
        *link = f->hnext;
    lru_unlink(p, f);
    p->nflows--;
    f->hnext = p->freelist;
    p->freelist = f;
}

/* Ports that name a service (the server side when no SYN was seen): below
 * 1024, or one of these registered TLS/SSH/QUIC service ports. */
static int service_port(uint16_t port)
{
    static const uint16_t known[] = {1080, 1194, 1433, 1521, 2083, 2087, 2096, 2200,
                                     2222, 3128, 3306, 3389, 4433, 4443, 5061, 5222,
                                     5223, 5269, 5432, 5671, 5986, 6443, 6697, 8000,
                                     8008, 8080, 8443, 8883, 9090, 9200, 9443, 10443};
    if (port < 1024)
        return 1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i] == port)
            return 1;
    return 0;
}

/* Which packet end is the client (docs/internals/exposure.md, "Captures"):
 * TCP: the SYN sender (a SYN-ACK's receiver); else, when exactly one port
 * is a service port, the other side; else the higher (ephemeral-looking)
 * port; equal ports: the sender. UDP: the service-port rule, else the first
 * sender. Returns 1 when the packet's source is the client. */
static int src_is_client(const struct mw_l4pkt *k)
{
    if (k->l4 == 6 && (k->flags & TH_SYN))
        return !(k->flags & TH_ACK);
    int ss = service_port(k->src.port), ds = service_port(k->dst.port);
    if (ss != ds)
        return ds;
    if (k->l4 == 6 && k->src.port != k->dst.port)
        return k->src.port > k->dst.port;
    return 1;
}

static struct mw_pflow *new_flow(mw_pcap_t *p, const struct mw_l4pkt *k, uint64_t h, int *dir)
{
    if (p->nflows >= p->max_flows) {
        /* Evict the least recently active flow of either list. */
        struct mw_pflow *a = p->lru_head[0], *b = p->lru_head[1];
        struct mw_pflow *v = !a ? b : !b ? a : (a->pub.last_ns <= b->pub.last_ns ? a : b);
        if (!v)
            return NULL;
        p->st.flows_evicted++;
        end_flow(p, v);
    }
    grow(p);
    struct mw_pflow *f = p->freelist;
    if (f)
        p->freelist = f->hnext;
    else if (!(f = malloc(sizeof *f)))
        return NULL;
    memset(f, 0, sizeof *f);
    int c = src_is_client(k);
    f->pub.client = c ? k->src : k->dst;
    f->pub.server = c ? k->dst : k->src;
    *dir = c ? 0 : 1;
    f->pub.id = p->next_id++;
    f->pub.l4 = k->l4;
    f->pub.first_ns = f->pub.last_ns = k->ts;
    f->hash = h;
    f->hnext = p->buckets[h & p->mask];
    p->buckets[h & p->mask] = f;
    lru_append(p, f);
    p->nflows++;
    p->st.flows++;
    return f;
}

void mw_pcap_flows_clock(mw_pcap_t *p, uint64_t ts)
{
    if (ts > p->now_ns)
        p->now_ns = ts;
    if (p->now_ns < p->next_sweep_ns)
        return;
    p->next_sweep_ns = p->now_ns + MW_PCAP_SWEEP_NS;
    static const uint64_t idle[2] = {MW_PCAP_TCP_IDLE_NS, MW_PCAP_UDP_IDLE_NS};
    for (int l = 0; l < 2; l++) {
        while (p->lru_head[l] && p->lru_head[l]->pub.last_ns + idle[l] < p->now_ns) {
            p->st.flows_evicted++;
            end_flow(p, p->lru_head[l]);
        }
    }
}

void mw_pcap_flows_flush(mw_pcap_t *p)
{
    for (int l = 0; l < 2; l++)
        while (p->lru_head[l])
            end_flow(p, p->lru_head[l]);
}

void mw_pcap_flows_free(mw_pcap_t *p)
{
    mw_pcap_flows_flush(p);
    while (p->freelist) {
        struct mw_pflow *n = p->freelist->hnext;
        free(p->freelist);
        p->freelist = n;
    }
    free(p->buckets);
    p->buckets = NULL;
}

/* ------------------------------------------------------------------ */
/* TCP and UDP                                                         */
/* ------------------------------------------------------------------ */

static void check_closed(mw_pcap_t *p, struct mw_pflow *f)
{
    for (int dir = 0; dir < 2; dir++) {
        struct mw_tdir *d = &f->d[dir];
        if (d->fin && !d->closed && seq_diff(d->next_seq, d->fin_seq) >= 0)
            d->closed = 1;
    }
    if (f->d[0].closed && f->d[1].closed)
        end_flow(p, f);
}

void mw_pcap_tcp(mw_pcap_t *p, const struct mw_l4pkt *k)
{
    p->st.tcp_segments++;
    uint64_t h = pair_hash(p, k);
    int dir = 0;
    uint8_t fl = k->flags;
    int syn = (fl & TH_SYN) != 0;
    struct mw_pflow *f = lookup(p, k, h, &dir);
    if (f && syn && !(fl & TH_ACK)) {
        /* A new connection on a known 4-tuple (port reuse): a SYN with
         * another ISN, or a SYN after data of a flow picked up mid-stream. */
        struct mw_tdir *d = &f->d[dir];
        if ((d->syn && d->isn != k->seq) || (!d->syn && (f->pub.bytes[0] | f->pub.bytes[1]) != 0)) {
            end_flow(p, f);
            f = NULL;
        }
    }
    if (!f) {
        /* Segments without a SYN or payload (ACKs, the FIN/RST of a flow
         * already ended) open nothing. */
        if (!syn && k->len == 0 && k->missing == 0)
            return;
        if (fl & TH_RST)
            return;
        f = new_flow(p, k, h, &dir);
        if (!f)
            return;
    }
    touch(p, f, k->ts);
    if (fl & TH_RST) {
        /* RFC 9293, 3.5.3: the connection is gone; data in a RST is not
         * part of the stream. */
        end_flow(p, f);
        return;
    }
    struct mw_tdir *d = &f->d[dir];
    uint32_t start = k->seq;
    if (syn) {
        if (!d->started) {
            d->isn = k->seq;
            d->next_seq = k->seq + 1;
            d->started = 1;
            d->syn = 1;
        }
        start = k->seq + 1; /* RFC 9293, 3.4.1: SYN occupies one sequence number */
    }
    if (!d->started) {
        d->started = 1; /* mid-stream pickup */
        d->next_seq = start;
    }
    if (k->len || k->missing)
        tcp_payload(p, f, dir, start, k->payload, (uint32_t)k->len, (uint32_t)k->missing, k->ts);
    if (fl & TH_FIN) {
        if (!d->fin) {
            d->fin = 1;
            d->fin_seq = start + (uint32_t)(k->len + k->missing);
        }
    }
    check_closed(p, f);
}

void mw_pcap_udp(mw_pcap_t *p, const struct mw_l4pkt *k)
{
    p->st.udp_datagrams++;
    uint64_t h = pair_hash(p, k);
    int dir = 0;
    struct mw_pflow *f = lookup(p, k, h, &dir);
    if (!f && !(f = new_flow(p, k, h, &dir)))
        return;
    touch(p, f, k->ts);
    f->pub.bytes[dir] += k->len;
    if (!f->dropped && p->sink.udp_data)
        p->sink.udp_data(p->sink.ctx, &f->pub, dir, k->payload, k->len, k->ts);
}
