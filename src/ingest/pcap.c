/* Capture sources and packet decoding of the capture layer
 * (include/mwrasp/exposure.h section 1; docs/internals/exposure.md,
 * "Captures").
 *
 * libpcap reads files (pcap and pcapng) and live interfaces; everything
 * after the link-layer header is decoded here: Ethernet with 802.1Q/802.1ad
 * tags, Linux cooked v1/v2, BSD loopback, PPP (HDLC-like framing), Cisco
 * HDLC, PPPoE, MPLS, raw IP; IPv4 and IPv6 with extension headers; GRE,
 * VXLAN, Geneve and IP-in-IP tunnels (inner packets decoded again, at most
 * MAX_DEPTH levels); then TCP and UDP to pcap_flow.c.
 *
 * Every read is preceded by a length check against the captured bytes. A
 * packet that fails one is counted (skipped_link, skipped_malformed, ...)
 * and dropped. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/pcap_int.h"

#define MAX_DEPTH 4 /* tunnel levels decoded */
#define MAX_VLAN 8 /* stacked 802.1Q/802.1ad tags */
#define MAX_MPLS 8 /* MPLS labels */
#define MAX_EXT 16 /* IPv6 extension headers */

#define LINKTYPE_RAW 101 /* pcap file value; libpcap maps it to DLT_RAW */

/* Per-packet decoding state. */
struct dctx {
    uint64_t ts;
    int depth; /* tunnel level */
    int snapped; /* the packet was cut by the snapshot length */
};

static inline uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void link_layer(mw_pcap_t *p, int lt, const uint8_t *b, size_t n, struct dctx *c);
static void ethertype(mw_pcap_t *p, uint16_t type, const uint8_t *b, size_t n, struct dctx *c);
static void ether(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c);
static void ip_any(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c);

static void malformed(mw_pcap_t *p)
{
    p->st.skipped_malformed++;
}

/* ------------------------------------------------------------------ */
/* transport                                                           */
/* ------------------------------------------------------------------ */

static int tunnel_in(mw_pcap_t *p, struct dctx *c)
{
    if (c->depth >= MAX_DEPTH) {
        p->st.skipped_tunnel_depth++;
        return 0;
    }
    c->depth++;
    return 1;
}

/* RFC 7348, section 5: 8-byte VXLAN header, I flag (0x08) set, then an
 * Ethernet frame. Returns 0 when the bytes are not VXLAN. */
static int vxlan(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 8 + 14 || !(b[0] & 0x08))
        return 0;
    if (tunnel_in(p, c))
        ether(p, b + 8, n - 8, c);
    return 1;
}

/* RFC 8926, section 3.4: Ver(2) Opt Len(6, 4-byte units) O C Rsvd,
 * Protocol Type (an EtherType; 0x6558 is Ethernet), VNI, Reserved, options.
 * Returns 0 when the bytes are not Geneve version 0. */
static int geneve(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 8 || (b[0] >> 6) != 0)
        return 0;
    size_t hl = 8 + (size_t)(b[0] & 0x3f) * 4;
    if (hl > n)
        return 0;
    if (tunnel_in(p, c))
        ethertype(p, be16(b + 2), b + hl, n - hl, c);
    return 1;
}

static void udp(mw_pcap_t *p, const mw_endpoint_t *src, const mw_endpoint_t *dst, const uint8_t *b,
                size_t n, struct dctx *c)
{
    /* RFC 768: source port, destination port, length (header included),
     * checksum. */
    if (n < 8) {
        malformed(p);
        return;
    }
    size_t ulen = be16(b + 4);
    if (ulen < 8) {
        malformed(p);
        return;
    }
    if (ulen > n) {
        if (c->snapped)
            p->st.skipped_snaplen++; /* a datagram is of no use cut short */
        else
            malformed(p);
        return;
    }
    struct mw_l4pkt k;
    k.src = *src;
    k.dst = *dst;
    k.src.port = be16(b);
    k.dst.port = be16(b + 2);
    k.payload = b + 8;
    k.len = ulen - 8;
    k.missing = 0;
    k.seq = 0;
    k.flags = 0;
    k.l4 = 17;
    k.ts = c->ts;
    if ((k.dst.port == 4789 || k.src.port == 4789) && vxlan(p, k.payload, k.len, c))
        return;
    if ((k.dst.port == 6081 || k.src.port == 6081) && geneve(p, k.payload, k.len, c))
        return;
    mw_pcap_udp(p, &k);
}

static void tcp(mw_pcap_t *p, const mw_endpoint_t *src, const mw_endpoint_t *dst, const uint8_t *b,
                size_t n, size_t missing, struct dctx *c)
{
    /* RFC 9293, 3.1: ports, sequence number, acknowledgment number, data
     * offset (32-bit words, >= 5), flags. */
    if (n < 20) {
        malformed(p);
        return;
    }
    size_t doff = (size_t)(b[12] >> 4) * 4;
    if (doff < 20 || doff > n) {
        malformed(p);
        return;
    }
    struct mw_l4pkt k;
    k.src = *src;
    k.dst = *dst;
    k.src.port = be16(b);
    k.dst.port = be16(b + 2);
    k.seq = be32(b + 4);
    k.flags = b[13];
    k.payload = b + doff;
    k.len = n - doff;
    k.missing = missing;
    k.l4 = 6;
    k.ts = c->ts;
    mw_pcap_tcp(p, &k);
}

/* RFC 2784, section 2.1 (with the Key and Sequence Number fields of RFC
 * 2890, section 2, and the routing-present bit of RFC 1701); version 1 is
 * PPTP's enhanced GRE (RFC 2637, section 4.1) carrying PPP. */
static void gre(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 4) {
        malformed(p);
        return;
    }
    uint16_t fl = be16(b), proto = be16(b + 2);
    size_t hl = 4;
    switch (fl & 7) {
    case 0:
        if (fl & 0x4000) { /* RFC 1701 source routing: not decoded */
            malformed(p);
            return;
        }
        hl += (fl & 0x8000) ? 4 : 0; /* checksum + reserved1 */
        hl += (fl & 0x2000) ? 4 : 0; /* key */
        hl += (fl & 0x1000) ? 4 : 0; /* sequence number */
        break;
    case 1:
        if (!(fl & 0x2000) || proto != 0x880b) {
            malformed(p);
            return;
        }
        hl = 8; /* key: payload length + call id */
        hl += (fl & 0x1000) ? 4 : 0;
        hl += (fl & 0x0080) ? 4 : 0; /* acknowledgment number */
        break;
    default:
        malformed(p);
        return;
    }
    if (hl > n) {
        malformed(p);
        return;
    }
    if (!tunnel_in(p, c))
        return;
    if (proto == 0x880b)
        link_layer(p, DLT_PPP, b + hl, n - hl, c);
    else
        ethertype(p, proto, b + hl, n - hl, c);
}

static void l4(mw_pcap_t *p, uint8_t proto, const mw_endpoint_t *src, const mw_endpoint_t *dst,
               const uint8_t *b, size_t n, size_t missing, struct dctx *c)
{
    switch (proto) {
    case 6:
        tcp(p, src, dst, b, n, missing, c);
        break;
    case 17:
        udp(p, src, dst, b, n, c);
        break;
    case 47:
        gre(p, b, n, c);
        break;
    case 4: /* IPv4 in IP (RFC 2003) */
    case 41: /* IPv6 in IP (RFC 4213) */
        if (tunnel_in(p, c))
            ip_any(p, b, n, c);
        break;
    default:
        p->st.skipped_other_l4++;
        break;
    }
}

/* ------------------------------------------------------------------ */
/* IP                                                                  */
/* ------------------------------------------------------------------ */

/* RFC 791, 3.1. The header checksum is not verified. */
static void ip4(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 20 || (b[0] >> 4) != 4) {
        malformed(p);
        return;
    }
    size_t ihl = (size_t)(b[0] & 15) * 4;
    size_t tot = be16(b + 2);
    if (ihl < 20 || ihl > n) {
        malformed(p);
        return;
    }
    if (tot == 0) /* TCP segmentation offload on the capturing host: no length */
        tot = n;
    if (tot < ihl) {
        malformed(p);
        return;
    }
    size_t missing = 0;
    if (tot > n) {
        if (!c->snapped) {
            malformed(p);
            return;
        }
        missing = tot - n;
    } else {
        n = tot; /* drop link-layer padding */
    }
    p->st.ip_packets++;
    if (be16(b + 6) & 0x3fff) { /* MF set or a fragment offset */
        p->st.ip_fragments++;
        return;
    }
    mw_endpoint_t src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    src.family = dst.family = 4;
    memcpy(src.addr, b + 12, 4);
    memcpy(dst.addr, b + 16, 4);
    l4(p, b[9], &src, &dst, b + ihl, n - ihl, missing, c);
}

/* RFC 8200, sections 3 and 4. */
static void ip6(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 40 || (b[0] >> 4) != 6) {
        malformed(p);
        return;
    }
    size_t plen = be16(b + 4);
    if (plen == 0) { /* a jumbogram (RFC 2675): not supported */
        malformed(p);
        return;
    }
    size_t missing = 0;
    if (40 + plen > n) {
        if (!c->snapped) {
            malformed(p);
            return;
        }
        missing = 40 + plen - n;
    } else {
        n = 40 + plen;
    }
    p->st.ip_packets++;
    uint8_t nh = b[6];
    size_t off = 40;
    for (int i = 0;; i++) {
        size_t hl;
        if (nh == 0 || nh == 43 || nh == 60) {
            /* hop-by-hop options, routing, destination options (4.3-4.6):
             * Hdr Ext Len in 8-octet units, not counting the first 8 */
            if (off + 8 > n) {
                malformed(p);
                return;
            }
            hl = ((size_t)b[off + 1] + 1) * 8;
        } else if (nh == 51) {
            /* AH (RFC 4302, 2.2): Payload Len in 4-octet units, minus 2 */
            if (off + 8 > n) {
                malformed(p);
                return;
            }
            hl = ((size_t)b[off + 1] + 2) * 4;
        } else if (nh == 44) { /* fragment header (4.5) */
            p->st.ip_fragments++;
            return;
        } else if (nh == 59) { /* no next header */
            return;
        } else {
            break;
        }
        if (i >= MAX_EXT || off + hl > n) {
            malformed(p);
            return;
        }
        nh = b[off];
        off += hl;
    }
    mw_endpoint_t src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    src.family = dst.family = 6;
    memcpy(src.addr, b + 8, 16);
    memcpy(dst.addr, b + 24, 16);
    l4(p, nh, &src, &dst, b + off, n - off, missing, c);
}

static void ip_any(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 1) {
        malformed(p);
        return;
    }
    switch (b[0] >> 4) {
    case 4:
        ip4(p, b, n, c);
        break;
    case 6:
        ip6(p, b, n, c);
        break;
    default:
        malformed(p);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* link layer                                                          */
/* ------------------------------------------------------------------ */

/* RFC 3032, 2.1: 4-byte label stack entries, S bit ends the stack; the
 * payload's version nibble tells IPv4 from IPv6. */
static void mpls(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    for (int i = 0; i < MAX_MPLS; i++) {
        if (n < 4) {
            p->st.skipped_link++;
            return;
        }
        int bottom = b[2] & 1;
        b += 4;
        n -= 4;
        if (bottom) {
            if (n > 0 && ((b[0] >> 4) == 4 || (b[0] >> 4) == 6))
                ip_any(p, b, n, c);
            else
                p->st.skipped_not_ip++; /* pseudowire or other payload */
            return;
        }
    }
    p->st.skipped_link++;
}

/* PPP (RFC 1661, section 2) in HDLC-like framing (RFC 1662, section 3.1:
 * address 0xff, control 0x03, both optional) with a 1- or 2-byte Protocol
 * field (RFC 1661, 6.5: compressed when its first byte is odd). */
static void ppp(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n >= 2 && b[0] == 0xff && b[1] == 0x03) {
        b += 2;
        n -= 2;
    }
    if (n < 1) {
        p->st.skipped_link++;
        return;
    }
    uint16_t proto;
    if (b[0] & 1) {
        proto = b[0];
        b++;
        n--;
    } else {
        if (n < 2) {
            p->st.skipped_link++;
            return;
        }
        proto = be16(b);
        b += 2;
        n -= 2;
    }
    switch (proto) {
    case 0x0021: /* IPv4 */
        ip4(p, b, n, c);
        break;
    case 0x0057: /* IPv6 */
        ip6(p, b, n, c);
        break;
    case 0x0281: /* MPLS unicast */
        mpls(p, b, n, c);
        break;
    default:
        p->st.skipped_not_ip++; /* LCP, IPCP, CCP, ... */
        break;
    }
}

/* PPPoE session stage (RFC 2516, section 4): ver/type, code, session id,
 * length, then a PPP protocol field. */
static void pppoe(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 6 || b[0] != 0x11) {
        p->st.skipped_link++;
        return;
    }
    size_t len = be16(b + 4);
    if (len > n - 6) {
        if (!c->snapped) {
            p->st.skipped_link++;
            return;
        }
        len = n - 6;
    }
    ppp(p, b + 6, len, c);
}

static void ethertype(mw_pcap_t *p, uint16_t type, const uint8_t *b, size_t n, struct dctx *c)
{
    /* IEEE 802.1Q tags (0x8100), 802.1ad service tags (0x88a8) and the
     * older 0x9100/0x9200 QinQ values: TCI(2) then the next EtherType. */
    for (int i = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200; i++) {
        if (i >= MAX_VLAN || n < 4) {
            p->st.skipped_link++;
            return;
        }
        type = be16(b + 2);
        b += 4;
        n -= 4;
    }
    switch (type) {
    case 0x0800:
        ip4(p, b, n, c);
        break;
    case 0x86dd:
        ip6(p, b, n, c);
        break;
    case 0x6558: /* transparent Ethernet bridging (GRE, Geneve) */
        ether(p, b, n, c);
        break;
    case 0x8864:
        pppoe(p, b, n, c);
        break;
    case 0x8847:
    case 0x8848:
        mpls(p, b, n, c);
        break;
    case 0x880b:
        ppp(p, b, n, c);
        break;
    default:
        p->st.skipped_not_ip++; /* ARP, LLDP, PPPoE discovery, ... */
        break;
    }
}

/* Ethernet II (IEEE 802.3 with an EtherType), or 802.3 length + 802.2
 * LLC/SNAP carrying an EtherType (RFC 1042). */
static void ether(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 14) {
        p->st.skipped_link++;
        return;
    }
    uint16_t type = be16(b + 12);
    b += 14;
    n -= 14;
    if (type < 0x0600) { /* a length: LLC follows */
        if (n >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03) {
            type = be16(b + 6);
            b += 8;
            n -= 8;
        } else {
            p->st.skipped_not_ip++;
            return;
        }
    }
    ethertype(p, type, b, n, c);
}

/* BSD loopback: a 4-byte address family, in the writer's byte order for
 * DLT_NULL and in network order for DLT_LOOP; both orders are accepted. */
static void bsd_loop(mw_pcap_t *p, const uint8_t *b, size_t n, struct dctx *c)
{
    if (n < 4) {
        p->st.skipped_link++;
        return;
    }
    uint32_t af = be32(b);
    if (af > 0xffff)
        af = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    b += 4;
    n -= 4;
    switch (af) {
    case 2: /* AF_INET everywhere */
        ip4(p, b, n, c);
        break;
    case 10: /* AF_INET6: Linux */
    case 23: /* Windows */
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD */
    case 30: /* macOS */
        ip6(p, b, n, c);
        break;
    default:
        p->st.skipped_not_ip++;
        break;
    }
}

static void link_layer(mw_pcap_t *p, int lt, const uint8_t *b, size_t n, struct dctx *c)
{
    switch (lt) {
    case DLT_EN10MB:
        ether(p, b, n, c);
        break;
    case DLT_LINUX_SLL:
        /* packet type(2) ARPHRD type(2) address length(2) address(8)
         * protocol(2) */
        if (n < 16) {
            p->st.skipped_link++;
            return;
        }
        ethertype(p, be16(b + 14), b + 16, n - 16, c);
        break;
    case DLT_LINUX_SLL2:
        /* protocol(2) reserved(2) interface index(4) ARPHRD type(2)
         * packet type(1) address length(1) address(8) */
        if (n < 20) {
            p->st.skipped_link++;
            return;
        }
        ethertype(p, be16(b), b + 20, n - 20, c);
        break;
    case DLT_NULL:
    case DLT_LOOP:
        bsd_loop(p, b, n, c);
        break;
    case DLT_PPP:
    case DLT_PPP_SERIAL:
    case DLT_C_HDLC:
        /* PPP in HDLC framing, or Cisco HDLC: address 0x0f/0x8f,
         * control 0, an EtherType */
        if (n >= 4 && (b[0] == 0x0f || b[0] == 0x8f) && b[1] == 0)
            ethertype(p, be16(b + 2), b + 4, n - 4, c);
        else if (lt != DLT_C_HDLC)
            ppp(p, b, n, c);
        else
            p->st.skipped_link++;
        break;
    case DLT_PPP_ETHER:
        pppoe(p, b, n, c);
        break;
    case DLT_RAW:
    case 14: /* DLT_RAW on OpenBSD */
    case LINKTYPE_RAW:
        ip_any(p, b, n, c);
        break;
    case DLT_IPV4:
        ip4(p, b, n, c);
        break;
    case DLT_IPV6:
        ip6(p, b, n, c);
        break;
    default:
        p->st.skipped_link++;
        break;
    }
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

void mw_pcap_feed(mw_pcap_t *p, int linktype, const uint8_t *pkt, size_t caplen, size_t wirelen,
                  uint64_t ts_ns)
{
    if (!p)
        return;
    p->st.packets++;
    p->st.bytes += caplen;
    mw_pcap_flows_clock(p, ts_ns);
    if (!pkt)
        caplen = 0;
    struct dctx c = {.ts = ts_ns, .depth = 0, .snapped = wirelen > caplen};
    link_layer(p, linktype, pkt, caplen, &c);
}

int mw_pcap_new(const mw_flow_sink_t *sink, size_t max_flows, mw_pcap_t **out)
{
    if (!out)
        return MW_EINVAL;
    mw_pcap_t *p = calloc(1, sizeof *p);
    if (!p)
        return MW_ENOMEM;
    if (sink)
        p->sink = *sink;
    p->linktype = -1;
    int rc = mw_pcap_flows_init(p, max_flows);
    if (rc != MW_OK) {
        free(p);
        return rc;
    }
    *out = p;
    return MW_OK;
}

static void set_err(char *err, size_t errcap, const char *what, const char *name, const char *why)
{
    if (err && errcap)
        snprintf(err, errcap, "%s %s: %s", what, name, why);
}

/* libpcap's own fopen gives the stream stdio's default 4 KiB buffer: a
 * read(2) per 4 KiB. A regular file is opened here instead and handed to
 * libpcap (pcap_fopen_offline), which parses the file header as before.
 * A classic pcap file (mw_pcap_fast_probe) keeps the small buffer: after
 * the header its records are read by pcap_file.c. Any other file (pcapng)
 * gets a buffer as large as the file, up to IOBUF_MAX, for libpcap's
 * freads. Returns NULL, with nothing left open, when the path is stdin
 * ("-"), not a regular file, or anything fails; the caller then lets
 * libpcap open the path itself (its error messages unchanged). */
#define IOBUF_MAX (1u << 20)

struct opened {
    pcap_t *pc;
    void *iobuf;
    int fd; /* >= 0: a classic pcap file for pcap_file.c */
    uint8_t hdr[24];
    uint64_t size;
};

static int open_buffered(const char *path, char *ebuf, struct opened *o)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (strcmp(path, "-") == 0)
        return 0;
    FILE *f = fopen(path, "rbe");
    if (!f)
        return 0;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return 0;
    }
    o->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    int classic =
        mw_pcap_file_fast && pread(fileno(f), o->hdr, 24, 0) == 24 && mw_pcap_fast_probe(o->hdr);
    void *buf = NULL;
    if (!classic) {
        size_t len = o->size < IOBUF_MAX ? (size_t)o->size + 1 : IOBUF_MAX;
        if (len < BUFSIZ)
            len = BUFSIZ;
        buf = malloc(len);
        if (!buf || setvbuf(f, buf, _IOFBF, len) != 0) {
            fclose(f);
            free(buf);
            return 0;
        }
    }
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!pc) { /* not a capture: libpcap did not take the stream */
        fclose(f);
        free(buf);
        return 0;
    }
    o->pc = pc;
    o->iobuf = buf;
    if (classic && pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO)
        o->fd = fileno(f);
    return 1;
}

int mw_pcap_open_file(const char *path, const mw_flow_sink_t *sink, size_t max_flows,
                      mw_pcap_t **out, char *err, size_t errcap)
{
    if (!path || !out)
        return MW_EINVAL;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct opened o;
    pcap_t *pc = open_buffered(path, ebuf, &o) ? o.pc : NULL;
    if (!pc)
        pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!pc) {
        set_err(err, errcap, "capture", path, ebuf);
        return MW_EIO;
    }
    mw_pcap_t *p = NULL;
    int rc = mw_pcap_new(sink, max_flows, &p);
    if (rc != MW_OK) {
        pcap_close(pc);
        free(o.iobuf);
        set_err(err, errcap, "capture", path, mw_strerror(rc));
        return rc;
    }
    p->pc = pc;
    p->iobuf = o.iobuf;
    if (o.fd >= 0)
        mw_pcap_fast_open(p, o.fd, o.hdr, o.size);
    p->linktype = pcap_datalink(pc);
    *out = p;
    return MW_OK;
}

int mw_pcap_open_live(const char *ifname, const char *bpf, const mw_flow_sink_t *sink,
                      size_t max_flows, mw_pcap_t **out, char *err, size_t errcap)
{
    if (!ifname || !out)
        return MW_EINVAL;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int rc = MW_EIO;
    mw_pcap_t *p = NULL;
    pcap_t *pc = pcap_create(ifname, ebuf);
    if (!pc) {
        set_err(err, errcap, "interface", ifname, ebuf);
        return MW_EIO;
    }
    if (pcap_set_snaplen(pc, 65535) != 0 || pcap_set_promisc(pc, 0) != 0 ||
        pcap_set_timeout(pc, 100) != 0 || pcap_set_immediate_mode(pc, 1) != 0) {
        set_err(err, errcap, "interface", ifname, "cannot set capture options");
        goto out;
    }
    (void)pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_NANO); /* micro if not supported */
    int a = pcap_activate(pc);
    if (a < 0) {
        set_err(err, errcap, "interface", ifname, pcap_geterr(pc));
        goto out;
    }
    if (bpf) {
        struct bpf_program prog;
        if (pcap_compile(pc, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            set_err(err, errcap, "filter", bpf, pcap_geterr(pc));
            rc = MW_ECONFIG;
            goto out;
        }
        int s = pcap_setfilter(pc, &prog);
        pcap_freecode(&prog);
        if (s != 0) {
            set_err(err, errcap, "filter", bpf, pcap_geterr(pc));
            goto out;
        }
    }
    if (pcap_setnonblock(pc, 1, ebuf) != 0) {
        set_err(err, errcap, "interface", ifname, ebuf);
        goto out;
    }
    rc = mw_pcap_new(sink, max_flows, &p);
    if (rc != MW_OK) {
        set_err(err, errcap, "interface", ifname, mw_strerror(rc));
        goto out;
    }
    p->pc = pc;
    p->live = 1;
    p->linktype = pcap_datalink(pc);
    pc = NULL;
    *out = p;
    rc = MW_OK;
out:
    if (pc)
        pcap_close(pc);
    return rc;
}

static uint64_t ts_of(const mw_pcap_t *p, const struct pcap_pkthdr *h)
{
    uint64_t frac = (uint64_t)h->ts.tv_usec;
    if (pcap_get_tstamp_precision(p->pc) == PCAP_TSTAMP_PRECISION_NANO)
        return (uint64_t)h->ts.tv_sec * 1000000000ull + frac;
    return (uint64_t)h->ts.tv_sec * 1000000000ull + frac * 1000ull;
}

static void live_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    mw_pcap_t *p = (mw_pcap_t *)user;
    mw_pcap_feed(p, p->linktype, data, h->caplen, h->len, ts_of(p, h));
}

long mw_pcap_run(mw_pcap_t *p, long max, int timeout_ms)
{
    if (!p || !p->pc)
        return MW_EINVAL;
    if (p->live) {
        if (atomic_exchange_explicit(&p->brk, 0, memory_order_relaxed))
            return 0;
        struct pollfd pfd = {.fd = pcap_get_selectable_fd(p->pc), .events = POLLIN};
        if (pfd.fd >= 0 && poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms) < 0)
            return 0; /* EINTR: nothing read */
        int n = pcap_dispatch(p->pc, max > 0 ? (int)(max > 1 << 30 ? 1 << 30 : max) : -1, live_cb,
                              (u_char *)p);
        if (n == PCAP_ERROR_BREAK) {
            atomic_store_explicit(&p->brk, 0, memory_order_relaxed);
            return 0;
        }
        if (n < 0) {
            snprintf(p->err, sizeof p->err, "%s", pcap_geterr(p->pc));
            p->st.read_errors++;
            return MW_EIO;
        }
        return n;
    }
    (void)timeout_ms;
    long got = 0;
    while (p->fast && (max <= 0 || got < max)) {
        struct mw_pcap_rec rec;
        int r = mw_pcap_fast_next(p, &rec);
        if (r == 0)
            return got; /* end of file */
        if (r == MW_EAGAIN)
            break; /* libpcap reads on from this record */
        if (r < 0) {
            p->st.read_errors++;
            return MW_EIO;
        }
        got++;
        mw_pcap_feed(p, p->linktype, rec.data, rec.caplen, rec.len, rec.ts_ns);
        if (atomic_load_explicit(&p->brk, memory_order_relaxed)) {
            atomic_store_explicit(&p->brk, 0, memory_order_relaxed);
            return got; /* mw_pcap_break: the packets read so far count */
        }
    }
    while (max <= 0 || got < max) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(p->pc, &h, &data);
        if (r == 1) {
            got++;
            mw_pcap_feed(p, p->linktype, data, h->caplen, h->len, ts_of(p, h));
            if (atomic_load_explicit(&p->brk, memory_order_relaxed)) {
                atomic_store_explicit(&p->brk, 0, memory_order_relaxed);
                break; /* mw_pcap_break: the packets read so far count */
            }
            continue;
        }
        if (r == PCAP_ERROR_BREAK || r == 0)
            break; /* end of file */
        /* a truncated or corrupt file: what came before was delivered */
        snprintf(p->err, sizeof p->err, "%s", pcap_geterr(p->pc));
        p->st.read_errors++;
        return MW_EIO;
    }
    return got;
}

void mw_pcap_flush(mw_pcap_t *p)
{
    if (p)
        mw_pcap_flows_flush(p);
}

const mw_pcap_stats_t *mw_pcap_stats(const mw_pcap_t *p)
{
    return &p->st;
}

const char *mw_pcap_error(const mw_pcap_t *p)
{
    return p ? p->err : "";
}

void mw_pcap_break(mw_pcap_t *p)
{
    if (!p)
        return;
    atomic_store_explicit(&p->brk, 1, memory_order_relaxed);
    if (p->pc && p->live) /* offline, pcap_next_ex would take it for the end */
        pcap_breakloop(p->pc);
}

void mw_pcap_free(mw_pcap_t *p)
{
    if (!p)
        return;
    mw_pcap_flows_free(p);
    mw_pcap_fast_free(p);
    if (p->pc)
        pcap_close(p->pc); /* closes the stream that uses iobuf */
    free(p->iobuf);
    free(p);
}
