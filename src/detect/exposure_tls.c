/* TLS handshake parser of the exposure scanner (include/mwrasp/exposure.h,
 * section 2; docs/internals/exposure.md, "TLS").
 *
 * Per direction: the record layer (RFC 5246 6.2, RFC 8446 5.1) -> handshake
 * messages reassembled across records (RFC 8446 5.1: a message may span
 * records, a record may hold several messages) -> ClientHello, ServerHello
 * (and HelloRetryRequest), Certificate, ServerKeyExchange, ServerHelloDone.
 * Also the SSL 2.0 CLIENT-HELLO (with the SSLv2-compatible ClientHello of
 * RFC 5246 E.2) and SERVER-HELLO. Everything is read through bounds-checked
 * readers; a message longer than MW_TLS_MAX_HANDSHAKE is skipped without
 * being buffered; a malformed message is counted and skipped. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "detect/exposure_tls_internal.h"
#include "mwrasp/exposure.h"

/* RFC 5246 6.2.3: TLSCiphertext.length <= 2^14 + 2048 (TLS 1.3 allows less). */
#define TLS_MAX_RECORD (16384 + 2048)

/* MODE_TEXT: a text preamble (STARTTLS of SMTP/IMAP/POP3/XMPP/IRC, HTTP
 * CONNECT) read line by line until a line starts with a TLS record;
 * MODE_SOCKS: a SOCKS4/4a request or reply before the TLS records. */
enum { MODE_DETECT = 0, MODE_TLS, MODE_SSL2, MODE_TEXT, MODE_SOCKS, MODE_BAD };

/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_HELLO_RETRY_DRAFT = 6, /* draft-ietf-tls-tls13 up to -21 */
    HS_CERTIFICATE = 11,
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_SERVER_HELLO_DONE = 14,
};

/* Extension types (IANA TLS ExtensionType Values). */
enum {
    EXT_SERVER_NAME = 0, /* RFC 6066 3 */
    EXT_SUPPORTED_GROUPS = 10, /* RFC 8422 5.1.1, RFC 8446 4.2.7 */
    EXT_SIGNATURE_ALGORITHMS = 13, /* RFC 8446 4.2.3 */
    EXT_ALPN = 16, /* RFC 7301 3.1 */
    EXT_KEY_SHARE_DRAFT = 40, /* key_share up to draft-ietf-tls-tls13-22 */
    EXT_SUPPORTED_VERSIONS = 43, /* RFC 8446 4.2.1 */
    EXT_KEY_SHARE = 51, /* RFC 8446 4.2.8 */
};

/* RFC 8446 4.1.3: the Random of a HelloRetryRequest, SHA-256 of
 * "HelloRetryRequest". */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

struct hs_reasm {
    uint8_t hdr[4];
    unsigned hdr_len;
    uint32_t msg_len; /* body length of the current message */
    uint32_t got; /* body bytes seen */
    int keep; /* the body is buffered (else skipped) */
    uint8_t *buf;
    size_t cap;
};

struct tls_dir {
    int mode;
    int in_rec; /* inside a record body */
    uint8_t rh[5]; /* record header being read */
    unsigned rh_len;
    uint8_t rec_type;
    uint32_t rec_left;
    int ccs; /* ChangeCipherSpec seen */
    int text_ok; /* MODE_DETECT at the start of a preamble line */
    uint32_t preamble; /* bytes before the first TLS record */
    uint32_t socks_pos; /* MODE_SOCKS: bytes read */
    uint8_t socks_ip_nz; /* the first three DSTIP bytes are not all zero */
    uint8_t socks_nuls; /* NUL-terminated strings still to skip */
    int stop; /* nothing more needed from this direction */
    uint8_t *v2buf; /* SSL 2.0 record body */
    uint32_t v2_len, v2_got;
    struct hs_reasm hs;
};

struct mw_tls_parser {
    struct tls_dir d[2];
    int tls13; /* a HelloRetryRequest or ServerHello chose TLS 1.3 or a draft */
    int sh_final; /* the ServerHello that decides was parsed */
    const char *kex; /* TLS <= 1.2: key exchange of the chosen suite */
    uint64_t malformed;
};

/* ---------------------------------------------------------------- */
/* Bounds-checked reader                                              */
/* ---------------------------------------------------------------- */

struct rd {
    const uint8_t *p;
    size_t n, off;
};

static int rd_left(const struct rd *r)
{
    return r->off < r->n;
}

static int rd_u8(struct rd *r, uint8_t *v)
{
    if (r->n - r->off < 1)
        return 0;
    *v = r->p[r->off++];
    return 1;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
    if (r->n - r->off < 2)
        return 0;
    *v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return 1;
}

static int rd_skip(struct rd *r, size_t k)
{
    if (r->n - r->off < k)
        return 0;
    r->off += k;
    return 1;
}

/* A vector with a 1, 2 or 3-byte length prefix (RFC 8446 3.4). */
static int rd_vec(struct rd *r, unsigned lenbytes, struct rd *out)
{
    size_t len = 0;
    if (r->n - r->off < lenbytes)
        return 0;
    for (unsigned i = 0; i < lenbytes; i++)
        len = len << 8 | r->p[r->off + i];
    if (r->n - r->off - lenbytes < len)
        return 0;
    out->p = r->p + r->off + lenbytes;
    out->n = len;
    out->off = 0;
    r->off += lenbytes + len;
    return 1;
}

/* ---------------------------------------------------------------- */
/* Helpers                                                            */
/* ---------------------------------------------------------------- */

static int is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); /* RFC 8701 2 */
}

static void list_add(uint16_t *arr, unsigned *n, uint16_t v)
{
    if (is_grease(v))
        return;
    if (*n < MW_EXPO_MAX_LIST)
        arr[*n] = v;
    if (*n < 0xffffffffu)
        (*n)++;
}

static int is_pq_group(uint16_t g)
{
    mw_expo_class_t c = mw_expo_tls_group_class(g, NULL);
    return c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY;
}

/* Printable copy (bytes outside 0x21..0x7e become '?'), truncated. */
static void copy_name(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

static int is_tls13(uint16_t v)
{
    /* 0x0304, draft-ietf-tls-tls13-NN (0x7fNN), Google's experiments
     * (0x7eNN), Facebook's drafts (0xfbNN) */
    return v == 0x0304 || (v >> 8) == 0x7f || (v >> 8) == 0x7e || (v >> 8) == 0xfb;
}

static void version_name(uint16_t v, char *out, size_t cap)
{
    if (v == 0x0002)
        snprintf(out, cap, "SSL 2.0");
    else if (v == 0x0300)
        snprintf(out, cap, "SSL 3.0");
    else if (v >= 0x0301 && v <= 0x0304)
        snprintf(out, cap, "TLS 1.%u", (unsigned)(v - 0x0301));
    else if ((v >> 8) == 0x7f)
        snprintf(out, cap, "TLS 1.3 (draft %u)", (unsigned)(v & 0xff));
    else if ((v >> 8) == 0x7e)
        snprintf(out, cap, "TLS 1.3 (Google experiment 0x%04x)", (unsigned)v);
    else if ((v >> 8) == 0xfb)
        snprintf(out, cap, "TLS 1.3 (Facebook draft %u)", (unsigned)(v & 0xff));
    else
        snprintf(out, cap, "0x%04x", (unsigned)v);
}

static void malformed(mw_tls_parser_t *p, mw_expo_session_t *s, const char *what)
{
    p->malformed++;
    snprintf(s->reason, sizeof s->reason, "tls: %s", what);
}

/* ---------------------------------------------------------------- */
/* Certificates (OpenSSL d2i_X509)                                    */
/* ---------------------------------------------------------------- */

/* Post-quantum signature and KEM OIDs that OpenSSL 3.0 does not know (NIST
 * Computer Security Objects Register, sigAlgs 2.16.840.1.101.3.4.3 and
 * kems 2.16.840.1.101.3.4.4). */
static const struct {
    const char *oid, *name;
    int pq_sig;
} pq_oids[] = {
    {"2.16.840.1.101.3.4.3.17", "ML-DSA-44", 1},
    {"2.16.840.1.101.3.4.3.18", "ML-DSA-65", 1},
    {"2.16.840.1.101.3.4.3.19", "ML-DSA-87", 1},
    {"2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s", 1},
    {"2.16.840.1.101.3.4.3.21", "SLH-DSA-SHA2-128f", 1},
    {"2.16.840.1.101.3.4.3.22", "SLH-DSA-SHA2-192s", 1},
    {"2.16.840.1.101.3.4.3.23", "SLH-DSA-SHA2-192f", 1},
    {"2.16.840.1.101.3.4.3.24", "SLH-DSA-SHA2-256s", 1},
    {"2.16.840.1.101.3.4.3.25", "SLH-DSA-SHA2-256f", 1},
    {"2.16.840.1.101.3.4.3.26", "SLH-DSA-SHAKE-128s", 1},
    {"2.16.840.1.101.3.4.3.27", "SLH-DSA-SHAKE-128f", 1},
    {"2.16.840.1.101.3.4.3.28", "SLH-DSA-SHAKE-192s", 1},
    {"2.16.840.1.101.3.4.3.29", "SLH-DSA-SHAKE-192f", 1},
    {"2.16.840.1.101.3.4.3.30", "SLH-DSA-SHAKE-256s", 1},
    {"2.16.840.1.101.3.4.3.31", "SLH-DSA-SHAKE-256f", 1},
    {"2.16.840.1.101.3.4.3.32", "HashML-DSA-44-with-SHA512", 1},
    {"2.16.840.1.101.3.4.3.33", "HashML-DSA-65-with-SHA512", 1},
    {"2.16.840.1.101.3.4.3.34", "HashML-DSA-87-with-SHA512", 1},
    {"2.16.840.1.101.3.4.4.1", "ML-KEM-512", 0},
    {"2.16.840.1.101.3.4.4.2", "ML-KEM-768", 0},
    {"2.16.840.1.101.3.4.4.3", "ML-KEM-1024", 0},
};

/* Name of an algorithm OID: OpenSSL's long name, else our PQ table, else
 * the dotted OID. *pq is set when it is a post-quantum signature. */
static void oid_name(const ASN1_OBJECT *obj, char *out, size_t cap, int *pq)
{
    char dotted[80];
    *pq = 0;
    out[0] = '\0';
    if (!obj)
        return;
    int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef && OBJ_nid2ln(nid)) {
        snprintf(out, cap, "%s", OBJ_nid2ln(nid));
        if (strncmp(out, "ML-DSA", 6) == 0 || strncmp(out, "SLH-DSA", 7) == 0 ||
            strncmp(out, "HashML-DSA", 10) == 0)
            *pq = 1;
        return;
    }
    if (OBJ_obj2txt(dotted, sizeof dotted, obj, 1) <= 0)
        return;
    for (size_t i = 0; i < sizeof pq_oids / sizeof pq_oids[0]; i++) {
        if (strcmp(dotted, pq_oids[i].oid) == 0) {
            snprintf(out, cap, "%.40s", pq_oids[i].name);
            *pq = pq_oids[i].pq_sig;
            return;
        }
    }
    /* a sub-arc of the NIST sigAlgs arc we do not name: HashML-DSA/HashSLH-DSA */
    if (strncmp(dotted, "2.16.840.1.101.3.4.3.", 21) == 0 && atoi(dotted + 21) >= 17)
        *pq = 1;
    snprintf(out, cap, "%.47s", dotted);
}

static int describe_cert_x509(const uint8_t *der, size_t len, mw_expo_cert_t *c)
{
    const unsigned char *q = der;
    int pq = 0;
    if (len > 0x7fffffff)
        return 0;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    if (!x) {
        ERR_clear_error();
        return 0;
    }
    memset(c, 0, sizeof *c);
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    X509_get0_signature(NULL, &alg, x);
    if (alg)
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
    oid_name(obj, c->sig_alg, sizeof c->sig_alg, &c->pq_signature);

    ASN1_OBJECT *kobj = NULL;
    X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
    if (pk && X509_PUBKEY_get0_param(&kobj, NULL, NULL, NULL, pk) == 1)
        oid_name(kobj, c->key_alg, sizeof c->key_alg, &pq);
    EVP_PKEY *pkey = X509_get0_pubkey(x); /* NULL for a key type OpenSSL lacks */
    c->key_bits = pkey ? EVP_PKEY_get_bits(pkey) : 0;
    if (c->key_bits < 0)
        c->key_bits = 0;
    X509_free(x);
    ERR_clear_error();
    return 1;
}

/* Decoding a certificate through OpenSSL 3.0 costs tens of microseconds
 * (its key decoders); servers send the same chain in every handshake. A
 * per-thread cache of certificates seen (DER compared byte for byte)
 * answers the repeats. Set-associative: CERT_CACHE_WAYS slots per set, the
 * set chosen by a hash of the DER, the oldest slot of the set replaced (a
 * direct-mapped table of the same size lost a few of the shared captures'
 * 73 certificates to collisions on every pass, each miss a full d2i_X509).
 * Bounded: CERT_CACHE slots of at most CERT_CACHE_MAX_DER bytes per thread
 * (2 MiB); longer certificates are not cached. */
#define CERT_CACHE 512 /* a power of two */
#define CERT_CACHE_WAYS 8 /* a power of two, divides CERT_CACHE */
#define CERT_CACHE_MAX_DER 4096

struct cert_cache_ent {
    uint64_t hash;
    uint64_t stamp; /* last use, for replacement in the set */
    size_t len;
    uint8_t *der;
    int ok;
    mw_expo_cert_t desc;
};

/* The slots are on the heap: a _Thread_local array would sit in every
 * thread's static TLS block, which glibc carves out of the thread's stack
 * (civetweb's HTTP threads have ~100 KiB stacks: 70 KiB of cache overflowed
 * them). NULL until the thread's first certificate, or if calloc failed. */
static _Thread_local struct cert_cache_ent *cert_cache;
static _Thread_local int cert_cache_registered;
static _Thread_local uint64_t cert_cache_clock;
static pthread_key_t cert_cache_key;
static pthread_once_t cert_cache_once = PTHREAD_ONCE_INIT;
static int cert_cache_key_ok; /* without the key, no cache (it could not be freed) */

/* At thread exit: the DER copies of that thread's cache. */
static void cert_cache_release(void *arg)
{
    struct cert_cache_ent *c = arg;
    for (unsigned i = 0; i < CERT_CACHE; i++)
        free(c[i].der);
    free(c);
}

static void cert_cache_key_make(void)
{
    cert_cache_key_ok = pthread_key_create(&cert_cache_key, cert_cache_release) == 0;
}

/* A hash of the DER 8 bytes at a time (the slot is only a hint: a hit
 * compares every byte). */
static uint64_t der_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3u;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    h ^= h >> 32;
    return h * 0xff51afd7ed558ccdu;
}

static int describe_cert(const uint8_t *der, size_t len, mw_expo_cert_t *c)
{
    if (len == 0 || len > CERT_CACHE_MAX_DER)
        return describe_cert_x509(der, len, c);
    if (!cert_cache && !cert_cache_registered) {
        cert_cache_registered = 1; /* one try per thread */
        pthread_once(&cert_cache_once, cert_cache_key_make);
        if (cert_cache_key_ok)
            cert_cache = calloc(CERT_CACHE, sizeof *cert_cache);
        if (cert_cache && pthread_setspecific(cert_cache_key, cert_cache) != 0) {
            free(cert_cache);
            cert_cache = NULL;
        }
    }
    if (!cert_cache)
        return describe_cert_x509(der, len, c);
    uint64_t h = der_hash(der, len);
    struct cert_cache_ent *set =
        &cert_cache[(h >> 32) & (CERT_CACHE - 1) & ~(uint64_t)(CERT_CACHE_WAYS - 1)];
    struct cert_cache_ent *victim = &set[0];
    for (unsigned w = 0; w < CERT_CACHE_WAYS; w++) {
        struct cert_cache_ent *e = &set[w];
        if (e->der && e->hash == h && e->len == len && memcmp(e->der, der, len) == 0) {
            e->stamp = ++cert_cache_clock;
            if (e->ok)
                *c = e->desc;
            return e->ok;
        }
        if (e->stamp < victim->stamp)
            victim = e; /* empty slots have stamp 0 and go first */
    }
    int ok = describe_cert_x509(der, len, c);
    uint8_t *copy = victim->der ? victim->der : malloc(CERT_CACHE_MAX_DER);
    if (copy) {
        memcpy(copy, der, len);
        victim->der = copy;
        victim->hash = h;
        victim->len = len;
        victim->ok = ok;
        victim->stamp = ++cert_cache_clock;
        if (ok)
            victim->desc = *c;
    }
    return ok;
}

/* ---------------------------------------------------------------- */
/* Handshake messages                                                 */
/* ---------------------------------------------------------------- */

static void u16_list(struct rd *v, uint16_t *arr, unsigned *n, int *pq)
{
    uint16_t x;
    while (rd_u16(v, &x)) {
        if (arr)
            list_add(arr, n, x);
        if (pq && is_pq_group(x))
            *pq = 1;
    }
}

/* RFC 8446 4.1.2 (RFC 5246 7.4.1.2): ClientHello. A second ClientHello
 * (after a HelloRetryRequest) only adds to client_offered_pq: the lists are
 * those of the first one. */
static void parse_client_hello(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    struct rd r = {b, n, 0}, sid, suites, comp, exts = {NULL, 0, 0};
    uint16_t legacy, x;
    int first = !(s->seen & MW_EXPO_SEEN_CLIENT_HELLO);
    int pq = 0;

    if (!rd_u16(&r, &legacy) || !rd_skip(&r, 32) || !rd_vec(&r, 1, &sid) || sid.n > 32 ||
        !rd_vec(&r, 2, &suites) || (suites.n & 1) || !rd_vec(&r, 1, &comp)) {
        malformed(p, s, "malformed ClientHello");
        return;
    }
    if (rd_left(&r) && (!rd_vec(&r, 2, &exts) || rd_left(&r))) {
        malformed(p, s, "malformed ClientHello extensions");
        return;
    }
    if (first) /* every entry, GREASE included, as tshark counts them */
        s->n_client_suites = (unsigned)(suites.n / 2);
    (void)x;
    while (rd_left(&exts)) {
        uint16_t type;
        struct rd e, v;
        if (!rd_u16(&exts, &type) || !rd_vec(&exts, 2, &e)) {
            malformed(p, s, "malformed ClientHello extension");
            break;
        }
        switch (type) {
        case EXT_SERVER_NAME: /* RFC 6066 3: ServerNameList */
            if (first && rd_vec(&e, 2, &v)) {
                while (rd_left(&v)) {
                    uint8_t nt;
                    struct rd name;
                    if (!rd_u8(&v, &nt) || !rd_vec(&v, 2, &name))
                        break;
                    if (nt == 0 && !s->sni[0]) /* host_name */
                        copy_name(s->sni, sizeof s->sni, name.p, name.n);
                }
            }
            break;
        case EXT_SUPPORTED_GROUPS:
            if (rd_vec(&e, 2, &v))
                u16_list(&v, first ? s->client_groups : NULL, &s->n_client_groups, &pq);
            break;
        case EXT_SIGNATURE_ALGORITHMS:
            if (first && rd_vec(&e, 2, &v))
                u16_list(&v, s->client_sig_algs, &s->n_client_sig_algs, NULL);
            break;
        case EXT_ALPN: /* RFC 7301 3.1: ProtocolNameList */
            if (first && rd_vec(&e, 2, &v)) {
                struct rd name;
                if (rd_vec(&v, 1, &name) && name.n > 0)
                    copy_name(s->alpn, sizeof s->alpn, name.p, name.n);
            }
            break;
        case EXT_SUPPORTED_VERSIONS: /* RFC 8446 4.2.1: versions<2..254> */
            if (first && rd_vec(&e, 1, &v))
                u16_list(&v, s->client_versions, &s->n_client_versions, NULL);
            break;
        case EXT_KEY_SHARE:
        case EXT_KEY_SHARE_DRAFT: /* RFC 8446 4.2.8: KeyShareEntry client_shares<0..2^16-1> */
            if (rd_vec(&e, 2, &v)) {
                while (rd_left(&v)) {
                    uint16_t g;
                    struct rd key;
                    if (!rd_u16(&v, &g) || !rd_vec(&v, 2, &key))
                        break;
                    if (first)
                        list_add(s->client_key_shares, &s->n_client_key_shares, g);
                    if (is_pq_group(g))
                        pq = 1;
                }
            }
            break;
        default:
            break;
        }
    }
    if (pq)
        s->client_offered_pq = 1;
    s->seen |= MW_EXPO_SEEN_CLIENT_HELLO;
}

/* The ServerHello layouts seen on the wire; each must consume the whole
 * body. A: RFC 5246 7.4.1.3 / RFC 8446 4.1.3 (session id, suite,
 * compression, extensions); B: draft-ietf-tls-tls13 up to -21 (suite,
 * extensions); C: A without the compression byte (early experiments). */
static int sh_layout(struct rd r, int layout, uint16_t *suite, struct rd *exts)
{
    struct rd sid;
    uint8_t comp;
    exts->n = 0;
    exts->off = 0;
    if (layout != 'B' && (!rd_vec(&r, 1, &sid) || sid.n > 32))
        return 0;
    if (!rd_u16(&r, suite))
        return 0;
    if (layout == 'A' && !rd_u8(&r, &comp))
        return 0;
    if (layout == 'C' || rd_left(&r))
        if (!rd_vec(&r, 2, exts))
            return 0;
    return !rd_left(&r);
}

/* Extensions of a ServerHello / HelloRetryRequest: selected version and
 * key_share group (RFC 8446 4.2.1, 4.2.8). */
static void sh_extensions(struct rd exts, int hrr, int *version, int *group)
{
    while (rd_left(&exts)) {
        uint16_t type, x;
        struct rd e;
        if (!rd_u16(&exts, &type) || !rd_vec(&exts, 2, &e))
            return;
        if (type == EXT_SUPPORTED_VERSIONS && rd_u16(&e, &x))
            *version = x;
        else if ((type == EXT_KEY_SHARE || type == EXT_KEY_SHARE_DRAFT) && rd_u16(&e, &x)) {
            /* HRR: selected_group; ServerHello: KeyShareEntry server_share */
            (void)hrr;
            *group = x;
        }
    }
}

static int parse_server_hello(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    struct rd r = {b, n, 0}, exts;
    uint16_t legacy, suite = 0;
    int ok = 0;
    if (!rd_u16(&r, &legacy) || r.n - r.off < 32) {
        malformed(p, s, "malformed ServerHello");
        return 0;
    }
    int hrr = memcmp(r.p + r.off, hrr_random, 32) == 0;
    r.off += 32;
    if ((legacy >> 8) == 0x7f && (legacy & 0xff) < 22)
        ok = sh_layout(r, 'B', &suite, &exts);
    else
        ok = sh_layout(r, 'A', &suite, &exts) || sh_layout(r, 'C', &suite, &exts) ||
             sh_layout(r, 'B', &suite, &exts);
    if (!ok) {
        malformed(p, s, "malformed ServerHello");
        return 0;
    }
    int version = legacy, group = -1;
    sh_extensions(exts, hrr, &version, &group);
    if (hrr) {
        p->tls13 = 1;
        s->hrr_group = group;
        s->seen |= MW_EXPO_SEEN_HRR;
        return 0;
    }
    s->version_code = (uint16_t)version;
    version_name((uint16_t)version, s->version, sizeof s->version);
    s->cipher_suite = suite;
    s->seen |= MW_EXPO_SEEN_SERVER_HELLO;
    p->sh_final = 1;
    if (is_tls13((uint16_t)version)) {
        p->tls13 = 1;
        s->selected_group = group;
        return 1; /* RFC 8446 2: everything after the ServerHello is encrypted */
    }
    p->tls13 = 0;
    p->kex = mw_expo_tls_suite_kex(suite, NULL);
    snprintf(s->selected_kex, sizeof s->selected_kex, "%s", p->kex ? p->kex : "");
    return 0;
}

/* draft-ietf-tls-tls13 (up to -21) HelloRetryRequest, handshake type 6:
 * server_version, [cipher_suite (draft 19+)], extensions. */
static void parse_hrr_draft(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    struct rd r = {b, n, 0}, exts;
    uint16_t v, suite;
    if (!rd_u16(&r, &v)) {
        malformed(p, s, "malformed HelloRetryRequest");
        return;
    }
    struct rd save = r;
    if (!rd_vec(&r, 2, &exts) || rd_left(&r)) {
        r = save;
        if (!rd_u16(&r, &suite) || !rd_vec(&r, 2, &exts) || rd_left(&r)) {
            malformed(p, s, "malformed HelloRetryRequest");
            return;
        }
    }
    int version = v, group = -1;
    sh_extensions(exts, 1, &version, &group);
    p->tls13 = 1;
    s->hrr_group = group;
    s->seen |= MW_EXPO_SEEN_HRR;
}

/* RFC 5246 7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
static void parse_certificate(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    struct rd r = {b, n, 0}, list, cert;
    if (!rd_vec(&r, 3, &list)) {
        malformed(p, s, "malformed Certificate");
        return;
    }
    s->seen |= MW_EXPO_SEEN_CERT;
    while (rd_left(&list) && s->n_certs < MW_EXPO_MAX_CERTS) {
        if (!rd_vec(&list, 3, &cert)) {
            malformed(p, s, "malformed Certificate entry");
            return;
        }
        if (describe_cert(cert.p, cert.n, &s->certs[s->n_certs]))
            s->n_certs++;
        else
            malformed(p, s, "certificate not decodable by d2i_X509");
    }
}

/* RFC 8422 5.4 ECParameters: curve_type 3 = named_curve. */
static void ske_ec(struct rd *r, mw_expo_session_t *s)
{
    uint8_t type;
    uint16_t curve;
    if (!rd_u8(r, &type))
        return;
    if (type == 3 && rd_u16(r, &curve))
        s->selected_group = curve;
    else if (type == 1)
        s->selected_group = 0xff01; /* explicit_prime */
    else if (type == 2)
        s->selected_group = 0xff02; /* explicit_char2 */
}

/* RFC 5246 7.4.3 ServerDHParams: dh_p<1..2^16-1>; the size of p in bits. */
static void ske_dh(struct rd *r, mw_expo_session_t *s)
{
    struct rd pv;
    if (!rd_vec(r, 2, &pv))
        return;
    size_t i = 0;
    while (i < pv.n && pv.p[i] == 0)
        i++;
    if (i == pv.n)
        return;
    int bits = (int)(pv.n - i) * 8;
    for (uint8_t top = pv.p[i]; !(top & 0x80); top <<= 1)
        bits--;
    s->dh_bits = bits;
}

/* ServerKeyExchange by the suite's key exchange (RFC 5246 7.4.3, RFC 8422
 * 5.4, RFC 4279 2-3 and RFC 5489 2 for the PSK hint). */
static void parse_ske(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    struct rd r = {b, n, 0}, hint;
    const char *k = p->kex;
    s->seen |= MW_EXPO_SEEN_SKE;
    if (!k) { /* no ServerHello seen: a named curve is the usual case */
        ske_ec(&r, s);
        return;
    }
    if (strcmp(k, "ECDHE") == 0 || strcmp(k, "ECDH") == 0) {
        ske_ec(&r, s);
    } else if (strcmp(k, "ECDHE_PSK") == 0) {
        if (rd_vec(&r, 2, &hint))
            ske_ec(&r, s);
    } else if (strcmp(k, "DHE") == 0) {
        ske_dh(&r, s);
    } else if (strcmp(k, "DHE_PSK") == 0) {
        if (rd_vec(&r, 2, &hint))
            ske_dh(&r, s);
    }
}

static int wanted(const mw_tls_parser_t *p, int dir, uint8_t type)
{
    if (dir == 0)
        return type == HS_CLIENT_HELLO;
    return type == HS_SERVER_HELLO || type == HS_HELLO_RETRY_DRAFT ||
           (type == HS_CERTIFICATE && !p->tls13) || type == HS_SERVER_KEY_EXCHANGE;
}

/* A whole message: returns 1 when this direction is done. */
static int hs_message(mw_tls_parser_t *p, mw_expo_session_t *s, int dir, uint8_t type,
                      const uint8_t *b, size_t n)
{
    if (dir == 0)
        return type == HS_CLIENT_HELLO ? (parse_client_hello(p, s, b, n), 0) : 0;
    switch (type) {
    case HS_SERVER_HELLO:
        return parse_server_hello(p, s, b, n);
    case HS_HELLO_RETRY_DRAFT:
        parse_hrr_draft(p, s, b, n);
        return 0;
    case HS_CERTIFICATE:
        if (!p->tls13)
            parse_certificate(p, s, b, n);
        return 0;
    case HS_SERVER_KEY_EXCHANGE:
        parse_ske(p, s, b, n);
        return 0;
    case HS_SERVER_HELLO_DONE: /* RFC 5246 7.4.5: the server's clear flight ends */
        return p->sh_final;
    default:
        return 0;
    }
}

int mw_tls_parser_feed_handshake(mw_tls_parser_t *p, mw_expo_session_t *s, int dir,
                                 const uint8_t *b, size_t n)
{
    struct hs_reasm *h = &p->d[dir].hs;
    size_t i = 0;
    while (i < n) {
        if (h->hdr_len < 4) {
            h->hdr[h->hdr_len++] = b[i++];
            if (h->hdr_len < 4)
                continue;
            h->msg_len = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
            h->got = 0;
            h->keep = 0;
            if (h->msg_len > MW_TLS_MAX_HANDSHAKE) {
                malformed(p, s, "handshake message over MW_TLS_MAX_HANDSHAKE skipped");
            } else if (wanted(p, dir, h->hdr[0])) {
                if (h->cap < h->msg_len) {
                    uint8_t *nb = realloc(h->buf, h->msg_len);
                    if (nb) {
                        h->buf = nb;
                        h->cap = h->msg_len;
                    }
                }
                h->keep = h->cap >= h->msg_len;
                if (!h->keep)
                    malformed(p, s, "out of memory: handshake message skipped");
            }
        } else {
            size_t take = h->msg_len - h->got;
            if (take > n - i)
                take = n - i;
            if (h->keep)
                memcpy(h->buf + h->got, b + i, take);
            h->got += (uint32_t)take;
            i += take;
        }
        if (h->hdr_len == 4 && h->got == h->msg_len) {
            int r = 0;
            h->hdr_len = 0;
            if (h->keep || h->msg_len == 0)
                r = hs_message(p, s, dir, h->hdr[0], h->buf, h->msg_len);
            if (r == 1)
                return 1;
        }
    }
    return 0;
}

int mw_tls_parser_server_hello_done(const mw_tls_parser_t *p)
{
    return p && p->sh_final;
}

/* ---------------------------------------------------------------- */
/* SSL 2.0                                                            */
/* ---------------------------------------------------------------- */

/* SSL 2.0 CLIENT-HELLO (draft-hickman-netscape-ssl-00; RFC 5246 E.2 for the
 * SSLv2-compatible ClientHello): msg type 1, version, cipher-specs length,
 * session-id length, challenge length, then the three vectors. */
static int ssl2_client_hello(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n,
                             uint16_t *version)
{
    if (n < 9 || b[0] != 1)
        return 0;
    unsigned specs = (unsigned)b[3] << 8 | b[4], sid = (unsigned)b[5] << 8 | b[6],
             chal = (unsigned)b[7] << 8 | b[8];
    if (specs % 3 || (size_t)9 + specs + sid + chal > n) {
        malformed(p, s, "malformed SSLv2 CLIENT-HELLO");
        return 0;
    }
    *version = (uint16_t)(b[1] << 8 | b[2]);
    s->n_client_suites = specs / 3;
    s->seen |= MW_EXPO_SEEN_CLIENT_HELLO;
    return 1;
}

/* SSL 2.0 SERVER-HELLO: msg type 4, session-id-hit, certificate type,
 * version, certificate length, cipher-specs length, connection-id length,
 * then the certificate (X.509 when its type is 1). SSL 2.0 has no other key
 * exchange than RSA key transport (CLIENT-MASTER-KEY). */
static void ssl2_server_hello(mw_tls_parser_t *p, mw_expo_session_t *s, const uint8_t *b, size_t n)
{
    if (n < 11 || b[0] != 4) {
        malformed(p, s, "malformed SSLv2 SERVER-HELLO");
        return;
    }
    unsigned certlen = (unsigned)b[5] << 8 | b[6], specs = (unsigned)b[7] << 8 | b[8],
             conn = (unsigned)b[9] << 8 | b[10];
    if ((size_t)11 + certlen + specs + conn > n) {
        malformed(p, s, "malformed SSLv2 SERVER-HELLO");
        return;
    }
    s->version_code = 0x0002;
    version_name(0x0002, s->version, sizeof s->version);
    snprintf(s->selected_kex, sizeof s->selected_kex, "RSA");
    s->seen |= MW_EXPO_SEEN_SERVER_HELLO;
    p->sh_final = 1;
    if (b[2] == 1 && certlen > 0 && s->n_certs < MW_EXPO_MAX_CERTS) {
        s->seen |= MW_EXPO_SEEN_CERT;
        if (describe_cert(b + 11, certlen, &s->certs[s->n_certs]))
            s->n_certs++;
    }
}

/* ---------------------------------------------------------------- */
/* Record layer                                                       */
/* ---------------------------------------------------------------- */

/* First three bytes of a direction: a TLS record header (RFC 5246 6.2.1:
 * ContentType 20..24, major version 3) or an SSL 2.0 record with a 2-byte
 * header holding a CLIENT-HELLO (dir 0) or SERVER-HELLO (dir 1). */
static int detect(const uint8_t *h, int dir)
{
    if (h[0] >= 20 && h[0] <= 24 && h[1] == 3 && h[2] <= 4)
        return MODE_TLS;
    if ((h[0] & 0x80) && h[2] == (dir == 0 ? 1 : 4)) {
        unsigned len = (unsigned)(h[0] & 0x7f) << 8 | h[1];
        if (len >= (dir == 0 ? 9u : 11u))
            return MODE_SSL2;
    }
    return MODE_BAD;
}

int mw_tls_parser_new(mw_tls_parser_t **out)
{
    if (!out)
        return MW_EINVAL;
    mw_tls_parser_t *p = calloc(1, sizeof *p);
    if (!p)
        return MW_ENOMEM;
    *out = p;
    return MW_OK;
}

void mw_tls_parser_free(mw_tls_parser_t *p)
{
    if (!p)
        return;
    for (int i = 0; i < 2; i++) {
        free(p->d[i].hs.buf);
        free(p->d[i].v2buf);
    }
    free(p);
}

uint64_t mw_tls_parser_malformed(const mw_tls_parser_t *p)
{
    return p ? p->malformed : 0;
}

static int is_text(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t';
}

/* What the first three bytes of a direction (or of a preamble line) are
 * when they are not a record: text, a SOCKS4 request (RFC-less SOCKS 4/4a:
 * VN 4, CD 1) or reply (VN 0, CD 90..93), else MODE_BAD. */
static int detect_preamble(const uint8_t *h, int dir, int first)
{
    if (is_text(h[0]) && is_text(h[1]) && is_text(h[2]))
        return MODE_TEXT;
    if (first && dir == 0 && h[0] == 4 && h[1] == 1)
        return MODE_SOCKS;
    if (first && dir == 1 && h[0] == 0 && h[1] >= 90 && h[1] <= 93)
        return MODE_SOCKS;
    return MODE_BAD;
}

/* One preamble byte; returns 0, or MW_EINVAL past MW_TLS_MAX_PREAMBLE. */
static int preamble_byte(struct tls_dir *d, int dir, uint8_t c)
{
    if (++d->preamble > MW_TLS_MAX_PREAMBLE)
        return MW_EINVAL;
    if (d->mode == MODE_TEXT) {
        if (c == '\n') {
            d->mode = MODE_DETECT;
            d->text_ok = 1;
        } else if (!is_text(c)) {
            return MW_EINVAL;
        }
        return 0;
    }
    /* MODE_SOCKS: request VN CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL
     * when DSTIP is 0.0.0.x, x != 0 (4a)]; reply: 8 bytes */
    uint32_t pos = d->socks_pos++;
    int end = 0;
    if (dir == 1) {
        end = d->socks_pos == 8;
    } else if (pos < 8) {
        if (pos >= 4 && pos <= 6 && c != 0)
            d->socks_ip_nz = 1;
        if (pos == 7)
            d->socks_nuls = (!d->socks_ip_nz && c != 0) ? 2 : 1;
    } else if (c == 0) {
        end = --d->socks_nuls == 0;
    }
    if (end) {
        d->mode = MODE_DETECT;
        d->text_ok = 0;
    }
    return 0;
}

static int bad(mw_tls_parser_t *p, mw_expo_session_t *s, struct tls_dir *d, const char *what)
{
    d->mode = MODE_BAD;
    malformed(p, s, what);
    return MW_EINVAL;
}

/* The body of the one SSL 2.0 record a direction starts with. */
static void ssl2_record(mw_tls_parser_t *p, mw_expo_session_t *s, int dir, struct tls_dir *d)
{
    uint16_t version = 0;
    if (dir == 1) {
        ssl2_server_hello(p, s, d->v2buf, d->v2_len);
        d->stop = 1;
    } else if (ssl2_client_hello(p, s, d->v2buf, d->v2_len, &version) && version >= 0x0300) {
        d->mode = MODE_TLS; /* RFC 5246 E.2: TLS records follow */
    } else {
        d->stop = 1; /* SSL 2.0 proper: the rest is CLIENT-MASTER-KEY and ciphertext */
    }
    free(d->v2buf);
    d->v2buf = NULL;
}

int mw_tls_parser_feed(mw_tls_parser_t *p, mw_expo_session_t *s, int dir, const uint8_t *data,
                       size_t len)
{
    if (!p || !s || (dir != 0 && dir != 1) || (!data && len))
        return MW_EINVAL;
    struct tls_dir *d = &p->d[dir];
    if (d->mode == MODE_BAD)
        return MW_EINVAL;
    size_t i = 0;
    while (!d->stop) {
        if (dir == 0 && p->sh_final && (s->seen & MW_EXPO_SEEN_CLIENT_HELLO)) {
            d->stop = 1; /* the server decided: nothing more from the client */
            break;
        }
        if (i >= len)
            break;
        if (d->mode == MODE_TEXT && !is_text(data[i])) {
            d->mode = MODE_DETECT; /* e.g. after XMPP's <proceed/>: a record or nothing */
            d->text_ok = 0;
            continue;
        }
        if (d->mode == MODE_TEXT || d->mode == MODE_SOCKS) {
            if (preamble_byte(d, dir, data[i++]) < 0)
                return bad(p, s, d, "no TLS record within MW_TLS_MAX_PREAMBLE bytes");
            continue;
        }
        if (!d->in_rec) {
            d->rh[d->rh_len++] = data[i++];
            if (d->mode == MODE_DETECT) {
                if (d->rh_len < 3)
                    continue;
                int first = d->preamble == 0 && !d->text_ok;
                d->mode = detect(d->rh, dir);
                if (d->mode == MODE_BAD && (first || d->text_ok)) {
                    /* not a record: a preamble (its bytes go through preamble_byte) */
                    int m = detect_preamble(d->rh, dir, first);
                    if (m != MODE_BAD) {
                        uint8_t h[3] = {d->rh[0], d->rh[1], d->rh[2]};
                        d->mode = m;
                        d->rh_len = 0;
                        for (int k = 0; k < 3; k++) {
                            if (d->mode == MODE_DETECT) { /* a new line began inside h */
                                d->rh[d->rh_len++] = h[k];
                                continue;
                            }
                            if (preamble_byte(d, dir, h[k]) < 0)
                                return bad(p, s, d,
                                           "no TLS record within MW_TLS_MAX_PREAMBLE bytes");
                        }
                        continue;
                    }
                }
                if (d->mode == MODE_BAD) {
                    char what[64];
                    snprintf(what, sizeof what, "not TLS (first bytes %02x %02x %02x)", d->rh[0],
                             d->rh[1], d->rh[2]);
                    return bad(p, s, d, what);
                }
                if (d->mode == MODE_SSL2) {
                    d->v2_len = (uint32_t)(d->rh[0] & 0x7f) << 8 | d->rh[1];
                    d->v2buf = malloc(d->v2_len);
                    if (!d->v2buf)
                        return bad(p, s, d, "out of memory");
                    d->v2buf[0] = d->rh[2];
                    d->v2_got = 1;
                    d->rec_left = d->v2_len - 1;
                    d->in_rec = 1;
                    d->rh_len = 0;
                    if (d->rec_left == 0) {
                        d->in_rec = 0;
                        ssl2_record(p, s, dir, d);
                    }
                }
                continue;
            }
            if (d->rh_len < 5)
                continue;
            d->rh_len = 0;
            d->rec_type = d->rh[0];
            d->rec_left = (uint32_t)d->rh[3] << 8 | d->rh[4];
            if (d->rec_type < 20 || d->rec_type > 24 || d->rh[1] != 3 ||
                d->rec_left > TLS_MAX_RECORD)
                return bad(p, s, d, "malformed TLS record header");
            d->in_rec = d->rec_left > 0;
            if (d->rec_type == 20) { /* ChangeCipherSpec (RFC 5246 7.1) */
                d->ccs = 1;
                /* RFC 8446 D.4: in TLS 1.3 it is only for middlebox compatibility */
                if (!p->tls13 && (dir == 1 || p->sh_final))
                    d->stop = 1;
            } else if (d->rec_type == 23 && dir == 1) {
                d->stop = 1; /* application data: the server's handshake is encrypted */
            }
            continue;
        }
        size_t take = d->rec_left;
        if (take > len - i)
            take = len - i;
        if (d->mode == MODE_SSL2) {
            memcpy(d->v2buf + d->v2_got, data + i, take);
            d->v2_got += (uint32_t)take;
        } else if (d->rec_type == 22 && !(d->ccs && !p->tls13)) {
            if (mw_tls_parser_feed_handshake(p, s, dir, data + i, take) == 1)
                d->stop = 1;
        }
        i += take;
        d->rec_left -= (uint32_t)take;
        if (d->rec_left == 0) {
            d->in_rec = 0;
            if (d->mode == MODE_SSL2)
                ssl2_record(p, s, dir, d);
        }
    }
    if (d->stop && d->hs.buf) { /* done: give the message buffer back */
        free(d->hs.buf);
        d->hs.buf = NULL;
        d->hs.cap = 0;
    }
    return d->stop ? 1 : 0;
}
