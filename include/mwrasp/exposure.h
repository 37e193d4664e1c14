/* MWRASP quantum-exposure scanner (issue 5): which TLS, QUIC and SSH sessions
 * negotiated a key exchange that a future quantum computer can break
 * ("harvest now, decrypt later"). docs/exposure.md.
 *
 * Layers, each with its own section below:
 *   1. Captures (src/ingest/pcap*.c): pcap/pcapng files and live interfaces
 *      through libpcap -> link layer -> IPv4/IPv6 (+VLAN, GRE, Geneve) -> TCP
 *      reassembly per flow and direction, UDP datagrams. Delivers contiguous
 *      stream bytes to a mw_flow_sink_t.
 *   2. Protocol parsers (src/detect/exposure_tls.c, exposure_quic.c,
 *      exposure_ssh.c): incremental, per direction, bounded; they fill a
 *      mw_expo_session_t.
 *   3. Classification (src/detect/exposure_class.c) and Zeek logs
 *      (src/detect/exposure_zeek.c).
 *   4. The scanner (src/detect/exposure.c): flows -> protocol detection ->
 *      sessions -> per-service summary -> JSON lines, table, CycloneDX CBOM.
 *
 * Everything that reads the wire treats it as hostile: every length is
 * checked, every buffer has a cap (named below), oversized or malformed input
 * is counted and skipped, never a crash. */
#ifndef MWRASP_EXPOSURE_H
#define MWRASP_EXPOSURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mwrasp/error.h"

/* ------------------------------------------------------------------ */
/* Common types                                                        */
/* ------------------------------------------------------------------ */

typedef struct mw_endpoint {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes */
    uint16_t port; /* host order */
} mw_endpoint_t;

#define MW_ENDPOINT_STRLEN 56 /* "[ffff:...:ffff]:65535" + NUL */

/* "192.0.2.1:443" or "[2001:db8::1]:443" (RFC 5952 text for IPv6).
 * Returns buf. cap >= MW_ENDPOINT_STRLEN. */
char *mw_endpoint_format(const mw_endpoint_t *ep, char *buf, size_t cap);

typedef enum mw_expo_proto {
    MW_EXPO_TLS = 1,
    MW_EXPO_QUIC = 2,
    MW_EXPO_SSH = 3,
} mw_expo_proto_t;

typedef enum mw_expo_class {
    MW_EXPO_UNKNOWN = 0, /* handshake not seen whole: the negotiated kex is not on the wire */
    MW_EXPO_CLASSICAL, /* ECDHE, DHE, RSA key transport, SSH-1, classical SSH kex */
    MW_EXPO_PQ_HYBRID, /* a classical + post-quantum hybrid (X25519MLKEM768, mlkem768x25519, ...) */
    MW_EXPO_PQ_ONLY, /* a post-quantum KEM alone (ML-KEM-768 0x0201, OQS kyber1024, ...) */
} mw_expo_class_t;

/* "unknown", "classical", "pq-hybrid", "pq-only". */
const char *mw_expo_class_name(mw_expo_class_t c);
const char *mw_expo_proto_name(mw_expo_proto_t p); /* "tls", "quic", "ssh" */

/* Caps on what one session keeps (more is counted, not stored). */
#define MW_EXPO_MAX_LIST 128 /* groups, key shares, versions, sig algs, suites kept */
#define MW_EXPO_MAX_NAME 96 /* SNI, ALPN, algorithm names, banners are truncated here */
#define MW_EXPO_MAX_CERTS 4 /* server certificates described per session */

typedef struct mw_expo_cert {
    char sig_alg[48]; /* OpenSSL long name or dotted OID: "sha256WithRSAEncryption", "ML-DSA-44" */
    char key_alg[48]; /* subject public key algorithm: "rsaEncryption", "id-ecPublicKey", ... */
    int key_bits; /* RSA/EC key size, 0 if unknown */
    int pq_signature; /* 1 if the signature algorithm is post-quantum (ML-DSA, SLH-DSA, ...) */
} mw_expo_cert_t;

/* One handshake. Strings are NUL-terminated, "" when absent; lists hold the
 * first MW_EXPO_MAX_LIST entries (n_* counts every entry seen). */
typedef struct mw_expo_session {
    mw_expo_proto_t proto;
    mw_endpoint_t client, server;
    uint64_t first_ns, last_ns; /* capture timestamps */
    uint64_t flow_id; /* capture-wide id of the TCP/UDP flow */

    /* Negotiated, as the server chose it. */
    char version[40]; /* "TLS 1.3", "TLS 1.2", "TLS 1.3 (draft 23)", "SSL 2.0", "SSH-2", "SSH-1" */
    uint16_t version_code; /* TLS/QUIC wire value (0x0304...), 0 for SSH */
    int32_t selected_group; /* TLS 1.3 key_share group or TLS 1.2 ECDHE curve; -1 if none */
    char selected_kex[MW_EXPO_MAX_NAME]; /* SSH kex name; TLS <= 1.2: "RSA", "DHE", "ECDHE", ... */
    int32_t cipher_suite; /* -1 if none */
    int dh_bits; /* TLS DHE group size, 0 if not DHE */
    int32_t hrr_group; /* HelloRetryRequest selected group, -1 if none */
    char host_key_alg[MW_EXPO_MAX_NAME]; /* SSH */

    /* Offered by the client. */
    uint16_t client_versions[MW_EXPO_MAX_LIST];
    unsigned n_client_versions;
    uint16_t client_groups[MW_EXPO_MAX_LIST];
    unsigned n_client_groups;
    uint16_t client_key_shares[MW_EXPO_MAX_LIST];
    unsigned n_client_key_shares;
    uint16_t client_sig_algs[MW_EXPO_MAX_LIST];
    unsigned n_client_sig_algs;
    unsigned n_client_suites;
    char sni[MW_EXPO_MAX_NAME];
    char alpn[MW_EXPO_MAX_NAME]; /* first ALPN protocol offered */
    int client_offered_pq; /* a PQ group offered (TLS) or a PQ kex listed (SSH) */
    char client_banner[MW_EXPO_MAX_NAME], server_banner[MW_EXPO_MAX_NAME]; /* SSH */

    /* Server certificates in clear (TLS <= 1.2). */
    mw_expo_cert_t certs[MW_EXPO_MAX_CERTS];
    unsigned n_certs;

    /* Seen so far. */
    unsigned seen; /* MW_EXPO_SEEN_* bits */
    uint64_t bytes_c2s, bytes_s2c; /* payload bytes of the flow, both directions */
    uint64_t exposed_bytes; /* payload after a classical handshake (0 otherwise) */

    mw_expo_class_t cls;
    char reason[160]; /* why this class: "server selected X25519MLKEM768 (0x11ec)" */
} mw_expo_session_t;

enum {
    MW_EXPO_SEEN_CLIENT_HELLO = 1u << 0, /* TLS ClientHello / SSH client KEXINIT */
    MW_EXPO_SEEN_SERVER_HELLO = 1u << 1, /* TLS ServerHello / SSH server KEXINIT */
    MW_EXPO_SEEN_HRR = 1u << 2,
    MW_EXPO_SEEN_SKE = 1u << 3, /* TLS 1.2 ServerKeyExchange */
    MW_EXPO_SEEN_CERT = 1u << 4,
    MW_EXPO_SEEN_CLIENT_BANNER = 1u << 5,
    MW_EXPO_SEEN_SERVER_BANNER = 1u << 6,
};

/* Resets s to "nothing seen" (groups -1, lists empty). */
void mw_expo_session_init(mw_expo_session_t *s, mw_expo_proto_t proto);

/* ------------------------------------------------------------------ */
/* 1. Captures (src/ingest/pcap*.c)                                    */
/* ------------------------------------------------------------------ */

/* Caps of the flow table: a flow keeps at most MW_PCAP_MAX_REASM bytes of
 * out-of-order data per direction; the table holds at most max_flows flows
 * (oldest idle flow evicted first). */
#define MW_PCAP_MAX_REASM (256 * 1024)
/* Held out-of-order bytes of all flows of one reader (added by the capture
 * layer): past it, the direction that needs room loses its oldest hole. */
#define MW_PCAP_MAX_REASM_TOTAL (64u * 1024 * 1024)
#define MW_PCAP_DEFAULT_MAX_FLOWS 65536

typedef struct mw_flow {
    uint64_t id;
    uint8_t l4; /* 6 TCP, 17 UDP */
    mw_endpoint_t client,
        server; /* client = SYN sender (else the higher, ephemeral-looking port) */
    uint64_t first_ns, last_ns;
    uint64_t bytes[2]; /* payload bytes seen per direction, 0 = client->server */
    void *user; /* the sink's per-flow state */
} mw_flow_t;

/* What the capture layer delivers. Every callback may be NULL. dir 0 is
 * client->server, 1 server->client. */
typedef struct mw_flow_sink {
    void *ctx;
    /* TCP: the next contiguous bytes of one direction, in order, without
     * retransmitted duplicates. Return 0 to go on, 1 when this direction's
     * bytes are no longer needed (they are then only counted in
     * flow->bytes), negative to drop the flow. */
    int (*tcp_data)(void *ctx, mw_flow_t *flow, int dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns);
    /* TCP: bytes of one direction are missing for good (a hole that did not
     * fill within the reassembly window); the stream resumes after it. */
    void (*tcp_gap)(void *ctx, mw_flow_t *flow, int dir, uint64_t missing);
    /* UDP: one datagram payload. */
    void (*udp_data)(void *ctx, mw_flow_t *flow, int dir, const uint8_t *data, size_t len,
                     uint64_t ts_ns);
    /* The flow ends (FIN/RST both ways, eviction, end of capture): free user state. */
    void (*flow_end)(void *ctx, mw_flow_t *flow);
} mw_flow_sink_t;

/* Counters of the capture layer (also exported to /metrics by the daemon). */
typedef struct mw_pcap_stats {
    uint64_t packets, bytes; /* link-layer packets and captured bytes read */
    uint64_t ip_packets, tcp_segments, udp_datagrams;
    uint64_t skipped_link; /* unsupported link type or truncated link header */
    uint64_t skipped_malformed; /* bad IP/TCP/UDP header, bad lengths */
    uint64_t ip_fragments; /* IP fragments (not reassembled) */
    uint64_t tcp_retransmits, tcp_out_of_order, tcp_gaps, tcp_reasm_overflow;
    uint64_t flows, flows_evicted;
    /* Added by the capture layer (see docs/internals/exposure.md, "Captures"). */
    uint64_t skipped_not_ip; /* ARP, LLC, PPP control, other EtherTypes */
    uint64_t skipped_other_l4; /* IP protocols other than TCP, UDP and tunnels */
    uint64_t skipped_tunnel_depth; /* tunnels nested deeper than 4 levels */
    uint64_t skipped_snaplen; /* UDP datagrams cut by the snapshot length */
    uint64_t tcp_retrans_bytes; /* bytes dropped as copies of bytes already seen */
    uint64_t read_errors; /* libpcap read errors (truncated or corrupt file) */
} mw_pcap_stats_t;

typedef struct mw_pcap mw_pcap_t;

/* Opens a pcap or pcapng file (libpcap detects the format). MW_EIO with a
 * message in err (file name and libpcap's reason) when it cannot. */
MW_WUR int mw_pcap_open_file(const char *path, const mw_flow_sink_t *sink, size_t max_flows,
                             mw_pcap_t **out, char *err, size_t errcap);
/* Opens a live interface (promiscuous off, snaplen 65535, BPF filter may be
 * NULL). Needs CAP_NET_RAW. */
MW_WUR int mw_pcap_open_live(const char *ifname, const char *bpf, const mw_flow_sink_t *sink,
                             size_t max_flows, mw_pcap_t **out, char *err, size_t errcap);
/* Reads up to max packets (0 = until the end of a file; for a live handle,
 * what is ready within timeout_ms). Returns the number of packets read (>= 0),
 * 0 at end of file, or a negative MW_E* on a read error (truncated file: the
 * packets before it are delivered, the truncation is counted, MW_EIO). */
MW_WUR long mw_pcap_run(mw_pcap_t *p, long max, int timeout_ms);
/* Feeds one link-layer packet (tests, fuzzing, API uploads read by another
 * reader): linktype is a DLT_* value. */
void mw_pcap_feed(mw_pcap_t *p, int linktype, const uint8_t *pkt, size_t caplen, size_t wirelen,
                  uint64_t ts_ns);
/* Creates a reader without a capture source, for mw_pcap_feed. */
MW_WUR int mw_pcap_new(const mw_flow_sink_t *sink, size_t max_flows, mw_pcap_t **out);
/* Ends every open flow (calls flow_end), e.g. at the end of a file. */
void mw_pcap_flush(mw_pcap_t *p);
const mw_pcap_stats_t *mw_pcap_stats(const mw_pcap_t *p);
/* libpcap's message for the last MW_EIO of mw_pcap_run ("" if none); owned
 * by p. (Added by the capture layer.) */
const char *mw_pcap_error(const mw_pcap_t *p);
/* Breaks a mw_pcap_run on a live handle from another thread. */
void mw_pcap_break(mw_pcap_t *p);
void mw_pcap_free(mw_pcap_t *p); /* flushes first; NULL is fine */

/* ------------------------------------------------------------------ */
/* 2. Protocol parsers                                                 */
/* ------------------------------------------------------------------ */

/* Caps: a TLS handshake message longer than this is skipped (counted as
 * malformed), as is an SSH packet before NEWKEYS longer than MW_SSH_MAX_PACKET
 * or a KEXINIT name-list with more than MW_SSH_MAX_NAMES names. */
#define MW_TLS_MAX_HANDSHAKE (64 * 1024)
/* The TLS parser accepts a text preamble (STARTTLS in SMTP, IMAP, POP3,
 * XMPP, IRC; HTTP CONNECT) or a SOCKS4/4a request/reply before the first
 * record of a direction, up to this many bytes. */
#define MW_TLS_MAX_PREAMBLE (16 * 1024)
#define MW_SSH_MAX_PACKET 35000 /* RFC 4253 section 6.1 */
#define MW_SSH_MAX_NAMES 1024

/* Per-direction incremental parsers. Each one consumes the contiguous bytes
 * of one direction (from mw_flow_sink_t.tcp_data), fills the session, and
 * returns 0 to go on, 1 when it needs nothing more from this direction
 * (handshake part done), or a negative MW_E* when the bytes are not this
 * protocol or are malformed beyond recovery (the reason is in the session's
 * reason field, the session stays usable for what was seen). */
typedef struct mw_tls_parser mw_tls_parser_t;
MW_WUR int mw_tls_parser_new(mw_tls_parser_t **out);
MW_WUR int mw_tls_parser_feed(mw_tls_parser_t *p, mw_expo_session_t *s, int dir,
                              const uint8_t *data, size_t len);
void mw_tls_parser_free(mw_tls_parser_t *p);
/* Malformed or oversized records and handshake messages counted (and
 * skipped) so far by this parser; 0 for NULL. */
uint64_t mw_tls_parser_malformed(const mw_tls_parser_t *p);

typedef struct mw_ssh_parser mw_ssh_parser_t;
MW_WUR int mw_ssh_parser_new(mw_ssh_parser_t **out);
MW_WUR int mw_ssh_parser_feed(mw_ssh_parser_t *p, mw_expo_session_t *s, int dir,
                              const uint8_t *data, size_t len);
void mw_ssh_parser_free(mw_ssh_parser_t *p);

/* QUIC (RFC 9000/9001, versions 1 and 2): one UDP datagram at a time;
 * decrypts Initial packets with the initial secrets derived from the client's
 * Destination Connection ID, reassembles CRYPTO frames and parses the
 * ClientHello / ServerHello into the session. Returns as the parsers above. */
typedef struct mw_quic_parser mw_quic_parser_t;
MW_WUR int mw_quic_parser_new(mw_quic_parser_t **out);
MW_WUR int mw_quic_parser_feed(mw_quic_parser_t *p, mw_expo_session_t *s, int dir,
                               const uint8_t *dgram, size_t len);
void mw_quic_parser_free(mw_quic_parser_t *p);
/* Cap on the reassembled CRYPTO stream kept per direction and packet number
 * space (Initial): CRYPTO data past this offset is counted and dropped. */
#define MW_QUIC_MAX_CRYPTO (64 * 1024)
/* Undecodable packets, failed decryptions and bad frames counted so far. */
uint64_t mw_quic_parser_malformed(const mw_quic_parser_t *p);

/* ------------------------------------------------------------------ */
/* 3. Classification                                                   */
/* ------------------------------------------------------------------ */

/* What a TLS named group is: MW_EXPO_PQ_HYBRID for X25519MLKEM768 (0x11ec),
 * SecP256r1MLKEM768 (0x11eb), SecP384r1MLKEM1024 (0x11ed),
 * X25519Kyber768Draft00 (0x6399), SecP256r1Kyber768Draft00 (0x639a) and the
 * other hybrids of the IANA registry and of OQS; MW_EXPO_PQ_ONLY for ML-KEM-512/
 * 768/1024 (0x0200-0x0202) and OQS pure KEMs (e.g. kyber1024 0x023d);
 * MW_EXPO_CLASSICAL for every other known group (ECDHE curves, ffdhe);
 * MW_EXPO_UNKNOWN for an unassigned one. name gets the IANA name or
 * "0x%04x" (may be NULL). */
mw_expo_class_t mw_expo_tls_group_class(uint16_t group, const char **name);
/* The group code for a name as Zeek, tshark or OpenSSL write it ("x25519",
 * "secp256r1", "X25519MLKEM768", "unknown-4588" = 0x11ec, "0x11ec");
 * -1 when unknown. Case-insensitive. */
int mw_expo_tls_group_from_name(const char *name);
/* The same for an SSH kex algorithm name (mlkem768x25519-sha256,
 * sntrup761x25519-sha512[@openssh.com] are hybrids). */
mw_expo_class_t mw_expo_ssh_kex_class(const char *kex);
/* Key exchange of a TLS <= 1.2 cipher suite: "RSA", "DHE", "ECDHE", "DH", "ECDH",
 * "PSK", "ECDHE_PSK", "DHE_PSK", "RSA_PSK", "SRP", "KRB5", "ECCPWD" (RFC 8492),
 * "GOST" (RFC 9189), or NULL when the
 * suite is unknown or TLS 1.3 (0x13xx). name: IANA name or NULL. */
const char *mw_expo_tls_suite_kex(uint16_t suite, const char **name);

/* Sets s->cls and s->reason from what the session saw. Rules
 * (docs/exposure.md): TLS 1.3 and QUIC by the ServerHello key_share group
 * (after HRR); TLS <= 1.2 by the suite's key exchange (PSK alone is
 * classical-free but not PQ: classical with that reason); SSH-2 by the kex
 * chosen per RFC 4253 section 7.1 (the first client algorithm the server also
 * lists, ignoring ext-info-* and kex-strict-*); SSH-1 is classical (RSA
 * session key); no server half: unknown. */
void mw_expo_classify(mw_expo_session_t *s);

/* ------------------------------------------------------------------ */
/* 3b. Zeek logs (src/detect/exposure_zeek.c)                          */
/* ------------------------------------------------------------------ */

/* One classified Zeek ssl.log / ssh.log record. */
typedef struct mw_zeek_record {
    char log[8]; /* "ssl" or "ssh" */
    unsigned line; /* 0-based data-record index within the file */
    unsigned phys; /* 1-based physical line number in the file */
    char uid[32];
    mw_expo_session_t s; /* proto TLS (QUIC when Zeek says so) or SSH, endpoints from id.* */
    /* Which field decided s.cls: "curve", "server_key_share_group", "cipher" (ssl);
     * "kex_alg", "version" (ssh version 1), "banner" (an SSH-1.x banner, version unset)
     * (ssh); "none" when nothing did (s.cls is then unknown). */
    char basis[24];
} mw_zeek_record_t;

/* Caps of the Zeek reader: a longer line, or a row with more columns, is a
 * bad line (counted, reported, skipped). */
#define MW_ZEEK_MAX_LINE (1024 * 1024)
#define MW_ZEEK_MAX_FIELDS 512

/* Reads a Zeek ssl.log or ssh.log: ASCII/TSV with #fields headers (several
 * #separator..#close blocks per file), zeek-cut output (a header line of field
 * names), or JSON lines; the format and log type are detected. Calls cb once
 * per record (cb returns non-zero to stop). Bad lines are counted in *bad and
 * reported on err_out (file and line) when it is not NULL. */
MW_WUR int mw_zeek_read(const char *path, int (*cb)(void *ctx, const mw_zeek_record_t *r),
                        void *ctx, unsigned long *bad, FILE *err_out);
/* The same over a file body in memory (API uploads, fuzzing); label names
 * it in error messages. Returns 0, MW_EINVAL (data NULL with len > 0) or
 * MW_ENOMEM; bad lines do not fail the call. mw_zeek_read also returns
 * MW_EIO when the file cannot be opened or read. */
MW_WUR int mw_zeek_read_buffer(const char *label, const char *data, size_t len,
                               int (*cb)(void *ctx, const mw_zeek_record_t *r), void *ctx,
                               unsigned long *bad, FILE *err_out);

/* ------------------------------------------------------------------ */
/* 4. The scanner (src/detect/exposure.c)                              */
/* ------------------------------------------------------------------ */

typedef struct mw_expo_scan mw_expo_scan_t;

/* on_session (may be NULL) is called once per finished session (flow end or
 * handshake complete) with the file label given to mw_expo_scan_file. */
MW_WUR int mw_expo_scan_new(void (*on_session)(void *ctx, const char *label,
                                               const mw_expo_session_t *s),
                            void *ctx, mw_expo_scan_t **out);
/* Scans a capture file; label is what the JSON's "file" says. */
MW_WUR int mw_expo_scan_file(mw_expo_scan_t *sc, const char *path, const char *label, char *err,
                             size_t errcap);
void mw_expo_scan_free(mw_expo_scan_t *sc);

/* --- Added by the scanner (helper "scan"; docs/internals/exposure.md,
 * "Scanner"). A scanner belongs to one thread: nothing here locks. --- */

/* Caps of the per-service aggregate: at most MW_EXPO_MAX_SERVICES services
 * (later new services are counted in services_dropped, their sessions still
 * go to on_session); at most MW_EXPO_SVC_MAX_ITEMS distinct values per list
 * of a service (more are counted in the list's n_*_more). */
#define MW_EXPO_MAX_SERVICES 65536
#define MW_EXPO_SVC_MAX_ITEMS 8

/* One service: server address:port + SNI (SSH and QUIC without SNI: ""),
 * across every session the scanner saw (files, live captures, Zeek records
 * added with mw_expo_scan_add_session). Strings NUL-terminated. */
typedef struct mw_expo_service {
    mw_expo_proto_t proto; /* of the first session */
    mw_endpoint_t server;
    char sni[MW_EXPO_MAX_NAME];
    uint64_t sessions[4]; /* per class, indexed by mw_expo_class_t */
    uint64_t bytes; /* payload bytes of its sessions, both directions */
    uint64_t exposed_bytes; /* sum of the sessions' exposed_bytes */
    uint64_t first_ns, last_ns; /* capture time of the first and last session (0: unknown) */
    /* The worst class seen: classical > unknown > pq-hybrid > pq-only
     * ("is anything of this service exposed?"). */
    mw_expo_class_t worst;
    char last_reason[160]; /* reason of the last session with the worst class */
    /* Distinct values seen, in order of first appearance. */
    char versions[MW_EXPO_SVC_MAX_ITEMS][40]; /* "TLS 1.3", "SSH-2" */
    unsigned n_versions, n_versions_more;
    int32_t groups[MW_EXPO_SVC_MAX_ITEMS]; /* TLS/QUIC selected groups (never -1) */
    unsigned n_groups, n_groups_more;
    char kex[MW_EXPO_SVC_MAX_ITEMS]
            [MW_EXPO_MAX_NAME]; /* SSH kex; TLS <= 1.2 "ECDHE", "RSA", "DHE-2048" */
    unsigned n_kex, n_kex_more;
    uint16_t suites[MW_EXPO_SVC_MAX_ITEMS]; /* TLS cipher suites selected */
    unsigned n_suites, n_suites_more;
    char host_key_algs[MW_EXPO_SVC_MAX_ITEMS][MW_EXPO_MAX_NAME]; /* SSH */
    unsigned n_host_key_algs, n_host_key_algs_more;
    mw_expo_cert_t certs[MW_EXPO_SVC_MAX_ITEMS]; /* distinct (sig_alg, key_alg, key_bits) */
    unsigned n_certs, n_certs_more;
} mw_expo_service_t;

/* Totals of a scanner since mw_expo_scan_new (or mw_expo_scan_clear). */
typedef struct mw_expo_scan_stats {
    uint64_t files, files_failed; /* mw_expo_scan_file calls, and those that returned an error */
    mw_pcap_stats_t pcap; /* capture-layer counters summed over the files */
    uint64_t flows; /* flows ended */
    uint64_t sessions[4]; /* sessions per class (on_session calls, and added sessions) */
    uint64_t tls_malformed, quic_malformed; /* parser counters summed at flow end */
    uint64_t ssh_errors; /* SSH flows whose parser gave up (bad packet, cap) */
    uint64_t not_detected; /* flows with payload that were no TLS, QUIC or SSH */
    uint64_t services_dropped; /* sessions whose new service was over MW_EXPO_MAX_SERVICES */
} mw_expo_scan_stats_t;

const mw_expo_scan_stats_t *mw_expo_scan_stats(const mw_expo_scan_t *sc);

/* The flow sink of the scanner, for a capture source opened by the caller
 * (mw_pcap_open_live, mw_pcap_new + mw_pcap_feed): sessions of that source get
 * label (copied; NULL = "") in on_session. The sink stays valid until
 * mw_expo_scan_free; the caller must end the source's flows (mw_pcap_free or
 * mw_pcap_flush) before freeing the scanner. */
void mw_expo_scan_sink(mw_expo_scan_t *sc, const char *label, mw_flow_sink_t *out);

/* Adds a session found elsewhere (a Zeek record, an API upload) to the
 * per-service aggregate and the stats, as if scanned; on_session is called
 * with label. s is classified already (s->cls). */
void mw_expo_scan_add_session(mw_expo_scan_t *sc, const char *label, const mw_expo_session_t *s);

/* Services in order of first appearance: index 0 .. count-1. The pointer is
 * valid until the next scan call on sc (the table may grow). NULL past the end. */
size_t mw_expo_scan_service_count(const mw_expo_scan_t *sc);
const mw_expo_service_t *mw_expo_scan_service(const mw_expo_scan_t *sc, size_t i);

/* Forgets every service and resets the stats (daemon: a new reporting period). */
void mw_expo_scan_clear(mw_expo_scan_t *sc);

/* Writers. Each returns 0, or MW_EIO when out reports a write error
 * (ferror), MW_ENOMEM when building the document failed. */

/* One JSON object and "\n": file (label), protocol, client, server, version,
 * version_code, selected_group ("0x%04x" or null), selected_group_name,
 * selected_kex (SSH name; TLS <= 1.2 "RSA"/"DHE"/"ECDHE"/...; else null),
 * classification, reason, sni, alpn, cipher_suite ("0x%04x" or null),
 * cipher_suite_name, hrr_group, dh_bits, host_key_alg, client_banner,
 * server_banner, client_offered_pq, bytes_c2s, bytes_s2c, bytes, exposed_bytes,
 * first_ts/last_ts (RFC 3339 with ns, null when 0), certificates [{sig_alg,
 * key_alg, key_bits, pq_signature}]. Absent strings are null. */
MW_WUR int mw_expo_write_json(FILE *out, const char *label, const mw_expo_session_t *s);
/* The per-service summary for people: a header line and one line per service,
 * aligned columns (service, SNI, proto, class, sessions per class, exposed
 * bytes, versions, groups/kex, certificate algorithms). */
MW_WUR int mw_expo_write_table(FILE *out, const mw_expo_scan_t *sc);
/* A CycloneDX 1.6 JSON CBOM of the services: components of type
 * "cryptographic-asset" (algorithms: key exchange groups and kex, signature
 * and public-key algorithms of certificates; protocols: TLS/SSH versions with
 * their cipher suites), "services" with the refs they use in "dependencies",
 * random urn:uuid serialNumber, metadata.timestamp now. */
MW_WUR int mw_expo_write_cbom(FILE *out, const mw_expo_scan_t *sc);

/* ------------------------------------------------------------------ */
/* 5. The daemon (src/detect/exposure_daemon.c; helper "expod")        */
/* ------------------------------------------------------------------ */

/* mwraspd's side of the scanner: live capture on exposure.interfaces (one
 * thread per interface), captures uploaded by POST /api/v1/exposure/pcap,
 * one shared per-service aggregate (a mw_expo_scan_t behind a mutex), one
 * "hndl-exposure" threat per exposed service written through the detection
 * engine (mw_detect_engine_submit_detection), the summary of
 * GET /api/v1/exposure and the exposure lines of /metrics.
 * docs/exposure.md, "In the daemon". */

/* exposure.service_tags: at most MW_EXPO_MAX_TAGGED entries of at most
 * MW_EXPO_MAX_TAGS tags (each shorter than MW_EXPO_TAG_LEN bytes). */
#define MW_EXPO_MAX_TAGGED 256
#define MW_EXPO_MAX_TAGS 8
#define MW_EXPO_TAG_LEN 32

typedef struct mw_expo_tagged {
    /* What the entry names, canonical: "192.0.2.1:443", "[2001:db8::1]:22"
     * (kind 'p'), "192.0.2.1", "2001:db8::1" (kind 'a': every port), or a
     * lower-case TLS server name (kind 'n'). */
    char kind;
    char service[MW_EXPO_MAX_NAME];
    char tags[MW_EXPO_MAX_TAGS][MW_EXPO_TAG_LEN]; /* lower-case */
    unsigned n_tags;
} mw_expo_tagged_t;

/* Parses exposure.service_tags: entries SERVICE=TAG[,TAG...] separated by
 * ';' or white space (SERVICE: ADDR:PORT, [IPV6]:PORT, ADDR, or a server
 * name; tags: letters, digits, '-', '_', '.'). Fills out[0..*n). Returns 0,
 * or MW_ECONFIG with err naming the entry (out and *n then undefined). */
MW_WUR int mw_expo_tags_parse(const char *text, mw_expo_tagged_t *out, size_t cap, size_t *n,
                              char *err, size_t errcap);

/* The tags of a service (server endpoint, SNI "" if none) from every
 * matching entry, without duplicates: up to cap pointers into tagged. */
size_t mw_expo_tags_match(const mw_expo_tagged_t *tagged, size_t ntagged,
                          const mw_endpoint_t *server, const char *sni, const char **tags,
                          size_t cap);

/* Severity (1 critical .. 5 informational) of an hndl-exposure threat: by
 * exposed bytes (>= 1 GiB high 2, >= 10 MiB medium 3, else low 4), then two
 * levels more severe for the tag "crown-jewel", one for "critical",
 * "sensitive", "pii", "pci", "phi" or "regulated" (the strongest raise
 * counts, not their sum), one less severe for "test", "lab" or "dev" when
 * no tag raises it; clamped to 1..5. The table is in docs/exposure.md. */
int mw_expo_severity(uint64_t exposed_bytes, const char *const *tags, size_t ntags);

struct mw_config;
struct mw_detect_engine;
typedef struct mw_expo_daemon mw_expo_daemon_t;

/* Reads the exposure.* options of cfg (copied: cfg need not outlive the
 * daemon; service tags parsed here) and prepares the aggregate. engine (not
 * owned; may be NULL: no threats) must outlive the daemon. Temp files of
 * uploads go to tmp_dir (NULL: the directory of store.path). Returns 0,
 * MW_ECONFIG (err says why) or MW_ENOMEM. */
MW_WUR int mw_expo_daemon_new(const struct mw_config *cfg, struct mw_detect_engine *engine,
                              const char *tmp_dir, mw_expo_daemon_t **out, char *err,
                              size_t errcap);
/* Opens every configured interface (an interface that cannot be opened,
 * e.g. without CAP_NET_RAW, is logged and counted, the others run) and
 * starts its capture thread and the reporter thread (every
 * exposure.report_interval, exposed services seen live become threats).
 * Returns 0 or MW_ENOMEM. */
MW_WUR int mw_expo_daemon_start(mw_expo_daemon_t *d);
/* Breaks and joins the capture threads (mw_pcap_break), ends their flows,
 * makes a last threat report, joins the reporter. Idempotent; call before
 * the engine stops. */
void mw_expo_daemon_stop(mw_expo_daemon_t *d);
void mw_expo_daemon_free(mw_expo_daemon_t *d); /* stops first; NULL is fine */

/* The result of one call: an HTTP status and a malloc'd JSON body. */
typedef struct mw_expo_answer {
    int status;
    char *body; /* caller frees */
} mw_expo_answer_t;

/* Scans an uploaded pcap/pcapng body (len <= exposure.upload_max, checked
 * by the caller) into the aggregate under label ("" = "upload-N"), writes
 * the threats of the exposed services it changed and waits (up to 30 s)
 * until they are committed. Answers 200 with the per-file summary, 400 when
 * the body is no capture (counted), 503 when stopping. Returns 0, or
 * MW_ENOMEM (no answer built). */
MW_WUR int mw_expo_daemon_upload(mw_expo_daemon_t *d, const void *data, size_t len,
                                 const char *label, mw_expo_answer_t *ans);
/* Counts an upload refused before it reached the daemon (body over
 * exposure.upload_max: too_large 1; unreadable: 0). */
void mw_expo_daemon_refused(mw_expo_daemon_t *d, int too_large);
/* The per-service summary, a JSON array (docs/api/openapi.yaml,
 * ExposureService), most exposed bytes first: services whose class is cls
 * (-1 any) with at least min_exposed exposed bytes. Returns 0 or MW_ENOMEM. */
MW_WUR int mw_expo_daemon_summary(mw_expo_daemon_t *d, int cls, uint64_t min_exposed,
                                  mw_expo_answer_t *ans);
/* Prometheus text of the exposure counters (malloc'd; NULL on failure). */
char *mw_expo_daemon_metrics(mw_expo_daemon_t *d);

#endif
