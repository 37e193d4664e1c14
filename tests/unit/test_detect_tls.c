/* TLS parser and TLS code-point tables of the exposure scanner
 * (src/detect/exposure_tls.c, exposure_tlstab.c). Hellos are built here
 * from the RFC 8446 / RFC 5246 structures; expected values are the fields
 * put in. Code points checked against the IANA registries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mwrasp/exposure.h"

/* ---------------------------------------------------------------- */
/* A byte builder with nested length prefixes                         */
/* ---------------------------------------------------------------- */

#define BMAX (1u << 21)

struct buf {
    uint8_t *b;
    size_t n;
    size_t stack[16], lens[16];
    int depth;
};

static void b_init(struct buf *b)
{
    b->b = malloc(BMAX);
    assert_non_null(b->b);
    b->n = 0;
    b->depth = 0;
}

static void u8(struct buf *b, unsigned v)
{
    assert_true(b->n < BMAX);
    b->b[b->n++] = (uint8_t)v;
}

static void u16(struct buf *b, unsigned v)
{
    u8(b, v >> 8);
    u8(b, v);
}

static void bytes(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= BMAX);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void fill(struct buf *b, int c, size_t n)
{
    assert_true(b->n + n <= BMAX);
    memset(b->b + b->n, c, n);
    b->n += n;
}

/* open a vector with an lenbytes-long length prefix; close() fills it */
static void open_(struct buf *b, size_t lenbytes)
{
    b->stack[b->depth] = b->n;
    b->lens[b->depth++] = lenbytes;
    fill(b, 0, lenbytes);
}

static void close_(struct buf *b)
{
    size_t at = b->stack[--b->depth], lb = b->lens[b->depth];
    size_t len = b->n - at - lb;
    for (size_t i = 0; i < lb; i++)
        b->b[at + i] = (uint8_t)(len >> (8 * (lb - 1 - i)));
}

static void ext_begin(struct buf *b, unsigned type)
{
    u16(b, type);
    open_(b, 2);
}

/* ---------------------------------------------------------------- */
/* Handshake messages                                                 */
/* ---------------------------------------------------------------- */

static const uint8_t HRR_RANDOM[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

struct ch_opts {
    const uint16_t *shares; /* key_share groups (key sizes picked per group) */
    size_t n_shares;
    int big; /* a 1216-byte X25519MLKEM768 share */
};

/* RFC 8446 4.1.2 ClientHello with every extension the parser reads, GREASE
 * (RFC 8701) in each list. */
static void client_hello(struct buf *b, const struct ch_opts *o)
{
    static const uint16_t def_shares[] = {0x2a2a, 0x11ec, 0x001d};
    const uint16_t *shares = o && o->shares ? o->shares : def_shares;
    size_t ns = o && o->shares ? o->n_shares : 3;
    u8(b, 1);
    open_(b, 3);
    u16(b, 0x0303);
    fill(b, 0x11, 32);
    open_(b, 1);
    fill(b, 0x22, 32);
    close_(b);
    open_(b, 2);
    u16(b, 0x0a0a); /* GREASE */
    u16(b, 0x1301);
    u16(b, 0x1302);
    u16(b, 0xc02f);
    close_(b);
    open_(b, 1);
    u8(b, 0);
    close_(b);
    open_(b, 2); /* extensions */
    ext_begin(b, 0x1a1a); /* GREASE extension */
    close_(b);
    ext_begin(b, 0); /* server_name */
    open_(b, 2);
    u8(b, 0);
    open_(b, 2);
    bytes(b, "example.com", 11);
    close_(b);
    close_(b);
    close_(b);
    ext_begin(b, 10); /* supported_groups */
    open_(b, 2);
    u16(b, 0x2a2a);
    u16(b, 0x11ec);
    u16(b, 0x001d);
    u16(b, 0x0017);
    close_(b);
    close_(b);
    ext_begin(b, 13); /* signature_algorithms */
    open_(b, 2);
    u16(b, 0x0403);
    u16(b, 0x0804);
    u16(b, 0x0904); /* ML-DSA-44 */
    close_(b);
    close_(b);
    ext_begin(b, 16); /* ALPN */
    open_(b, 2);
    open_(b, 1);
    bytes(b, "h2", 2);
    close_(b);
    open_(b, 1);
    bytes(b, "http/1.1", 8);
    close_(b);
    close_(b);
    close_(b);
    ext_begin(b, 43); /* supported_versions */
    open_(b, 1);
    u16(b, 0x3a3a);
    u16(b, 0x0304);
    u16(b, 0x0303);
    close_(b);
    close_(b);
    ext_begin(b, 51); /* key_share */
    open_(b, 2);
    for (size_t i = 0; i < ns; i++) {
        u16(b, shares[i]);
        open_(b, 2);
        fill(b, 0x33, shares[i] == 0x11ec ? (o && !o->big ? 40 : 1216) : 32);
        close_(b);
    }
    close_(b);
    close_(b);
    close_(b); /* extensions */
    close_(b); /* message */
}

/* RFC 8446 4.1.3 ServerHello (or HelloRetryRequest with hrr = 1). */
static void server_hello_13(struct buf *b, unsigned group, int hrr)
{
    u8(b, 2);
    open_(b, 3);
    u16(b, 0x0303);
    if (hrr)
        bytes(b, HRR_RANDOM, 32);
    else
        fill(b, 0x44, 32);
    open_(b, 1);
    fill(b, 0x22, 32);
    close_(b);
    u16(b, 0x1301);
    u8(b, 0);
    open_(b, 2);
    ext_begin(b, 43);
    u16(b, 0x0304);
    close_(b);
    ext_begin(b, 51);
    u16(b, group);
    if (!hrr) {
        open_(b, 2);
        fill(b, 0x55, 32);
        close_(b);
    }
    close_(b);
    close_(b);
    close_(b);
}

/* RFC 5246 7.4.1.3 ServerHello without extensions. */
static void server_hello_12(struct buf *b, unsigned version, unsigned suite)
{
    u8(b, 2);
    open_(b, 3);
    u16(b, version);
    fill(b, 0x44, 32);
    open_(b, 1);
    close_(b);
    u16(b, suite);
    u8(b, 0);
    close_(b);
}

static uint8_t *g_cert;
static int g_cert_len;

/* A self-signed P-256 certificate (ecdsa-with-SHA256) made with OpenSSL. */
static void make_cert(void)
{
    if (g_cert)
        return;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, n);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    g_cert_len = i2d_X509(x, &g_cert);
    assert_true(g_cert_len > 0);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* RFC 5246 7.4.2 Certificate with the test certificate twice. */
static void certificate(struct buf *b)
{
    make_cert();
    u8(b, 11);
    open_(b, 3);
    open_(b, 3);
    for (int i = 0; i < 2; i++) {
        open_(b, 3);
        bytes(b, g_cert, (size_t)g_cert_len);
        close_(b);
    }
    close_(b);
    close_(b);
}

/* RFC 8422 5.4 ServerKeyExchange, named curve. */
static void ske_ecdhe(struct buf *b, unsigned curve)
{
    u8(b, 12);
    open_(b, 3);
    u8(b, 3);
    u16(b, curve);
    open_(b, 1);
    fill(b, 0x04, 65);
    close_(b);
    u16(b, 0x0401);
    open_(b, 2);
    fill(b, 0x66, 256);
    close_(b);
    close_(b);
}

/* RFC 5246 7.4.3 ServerDHParams with a p of pbytes bytes (top bit set). */
static void ske_dhe(struct buf *b, size_t pbytes)
{
    u8(b, 12);
    open_(b, 3);
    open_(b, 2);
    u8(b, 0xff);
    fill(b, 0x77, pbytes - 1);
    close_(b);
    open_(b, 2);
    u8(b, 2);
    close_(b);
    open_(b, 2);
    fill(b, 0x78, pbytes);
    close_(b);
    u16(b, 0x0401);
    open_(b, 2);
    fill(b, 0x66, 256);
    close_(b);
    close_(b);
}

static void server_hello_done(struct buf *b)
{
    u8(b, 14);
    open_(b, 3);
    close_(b);
}

/* Wraps handshake bytes into records of at most frag bytes each. */
static void records(struct buf *out, unsigned type, const uint8_t *p, size_t n, size_t frag)
{
    size_t off = 0;
    do {
        size_t k = n - off < frag ? n - off : frag;
        u8(out, type);
        u16(out, 0x0303);
        u16(out, (unsigned)k);
        bytes(out, p + off, k);
        off += k;
    } while (off < n);
}

static void ccs(struct buf *out)
{
    static const uint8_t one = 1;
    records(out, 20, &one, 1, 1);
}

/* ---------------------------------------------------------------- */
/* Sessions                                                           */
/* ---------------------------------------------------------------- */

static void session_reset(mw_expo_session_t *s)
{
    memset(s, 0, sizeof *s);
    s->proto = MW_EXPO_TLS;
    s->selected_group = -1;
    s->cipher_suite = -1;
    s->hrr_group = -1;
}

/* Feeds both streams in steps of `step` bytes (0 = one shot), client first
 * for each step; returns the last result per direction in rc. */
static void feed_both(const struct buf *c, const struct buf *sv, size_t step, mw_expo_session_t *s,
                      int rc[2], uint64_t *mal)
{
    mw_tls_parser_t *p = NULL;
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    session_reset(s);
    rc[0] = rc[1] = 0;
    size_t off[2] = {0, 0};
    const struct buf *st[2] = {c, sv};
    for (;;) {
        int more = 0;
        for (int d = 0; d < 2; d++) {
            if (!st[d] || off[d] >= st[d]->n)
                continue;
            size_t k = step ? step : st[d]->n;
            if (k > st[d]->n - off[d])
                k = st[d]->n - off[d];
            if (rc[d] == 0)
                rc[d] = mw_tls_parser_feed(p, s, d, st[d]->b + off[d], k);
            off[d] += k;
            more = 1;
        }
        if (!more)
            break;
    }
    if (mal)
        *mal = mw_tls_parser_malformed(p);
    mw_tls_parser_free(p);
}

static void check_client_fields(const mw_expo_session_t *s)
{
    assert_true(s->seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s->sni, "example.com");
    assert_string_equal(s->alpn, "h2");
    assert_int_equal(s->n_client_suites, 4); /* GREASE counted, as tshark does */
    assert_int_equal(s->n_client_groups, 3); /* GREASE not kept */
    assert_int_equal(s->client_groups[0], 0x11ec);
    assert_int_equal(s->client_groups[1], 0x001d);
    assert_int_equal(s->client_groups[2], 0x0017);
    assert_int_equal(s->n_client_versions, 2);
    assert_int_equal(s->client_versions[0], 0x0304);
    assert_int_equal(s->client_versions[1], 0x0303);
    assert_int_equal(s->n_client_sig_algs, 3);
    assert_int_equal(s->client_sig_algs[2], 0x0904);
    assert_int_equal(s->client_offered_pq, 1);
}

/* TLS 1.3 with X25519MLKEM768: the ClientHello spans 2 records, both hellos
 * arrive in one piece, byte by byte, and in odd steps, all equal. */
static void test_tls13_hybrid(void **st)
{
    (void)st;
    struct buf ch, sh, c, sv;
    b_init(&ch);
    b_init(&sh);
    b_init(&c);
    b_init(&sv);
    client_hello(&ch, NULL);
    assert_true(ch.n > 1400); /* more than one 1000-byte record */
    records(&c, 22, ch.b, ch.n, 1000);
    server_hello_13(&sh, 0x11ec, 0);
    records(&sv, 22, sh.b, sh.n, 16384);
    ccs(&sv);
    fill(&sv, 0x17, 1); /* an encrypted record header follows: never read */
    mw_expo_session_t one, s;
    int rc[2];
    feed_both(&c, &sv, 0, &one, rc, NULL);
    assert_int_equal(rc[1], 1);
    check_client_fields(&one);
    assert_int_equal(one.n_client_key_shares, 2);
    assert_int_equal(one.client_key_shares[0], 0x11ec);
    assert_int_equal(one.client_key_shares[1], 0x001d);
    assert_string_equal(one.version, "TLS 1.3");
    assert_int_equal(one.version_code, 0x0304);
    assert_int_equal(one.selected_group, 0x11ec);
    assert_int_equal(one.cipher_suite, 0x1301);
    assert_int_equal(one.hrr_group, -1);
    assert_string_equal(one.selected_kex, "");
    assert_true(one.seen & MW_EXPO_SEEN_SERVER_HELLO);
    static const size_t steps[] = {1, 2, 3, 7, 100, 999, 1001};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        feed_both(&c, &sv, steps[i], &s, rc, NULL);
        assert_memory_equal(&one, &s, sizeof s);
    }
    /* several records in one segment, one handshake message split over 3 */
    c.n = 0;
    records(&c, 22, ch.b, ch.n, 600);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_memory_equal(&one, &s, sizeof s);
    free(ch.b);
    free(sh.b);
    free(c.b);
    free(sv.b);
}

/* HelloRetryRequest (RFC 8446 4.1.4): CH1 -> HRR(secp256r1) -> CCS -> CH2
 * -> ServerHello(secp256r1). */
static void test_hrr(void **st)
{
    (void)st;
    struct buf m, c, sv;
    b_init(&m);
    b_init(&c);
    b_init(&sv);
    static const uint16_t x25519[] = {0x001d}, p256[] = {0x0017};
    struct ch_opts o1 = {x25519, 1, 0}, o2 = {p256, 1, 0};
    client_hello(&m, &o1);
    records(&c, 22, m.b, m.n, 16384);
    ccs(&c); /* RFC 8446 D.4: compatibility CCS before the second ClientHello */
    m.n = 0;
    client_hello(&m, &o2);
    records(&c, 22, m.b, m.n, 16384);
    m.n = 0;
    server_hello_13(&m, 0x0017, 1);
    records(&sv, 22, m.b, m.n, 16384);
    ccs(&sv);
    m.n = 0;
    server_hello_13(&m, 0x0017, 0);
    records(&sv, 22, m.b, m.n, 16384);
    mw_expo_session_t s, one;
    int rc[2];
    /* in capture order: CH1, HRR, CCS+CH2, SH */
    mw_tls_parser_t *p = NULL;
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    session_reset(&s);
    size_t c1len = 5 + (size_t)(c.b[3] << 8 | c.b[4]);
    size_t s1len = 5 + (size_t)(sv.b[3] << 8 | sv.b[4]) + 6;
    assert_int_equal(mw_tls_parser_feed(p, &s, 0, c.b, c1len), 0);
    assert_int_equal(mw_tls_parser_feed(p, &s, 1, sv.b, s1len), 0);
    assert_true(s.seen & MW_EXPO_SEEN_HRR);
    assert_int_equal(s.hrr_group, 0x0017);
    assert_int_equal(mw_tls_parser_feed(p, &s, 0, c.b + c1len, c.n - c1len), 0);
    assert_int_equal(mw_tls_parser_feed(p, &s, 1, sv.b + s1len, sv.n - s1len), 1);
    assert_int_equal(s.selected_group, 0x0017);
    assert_int_equal(s.hrr_group, 0x0017);
    assert_string_equal(s.version, "TLS 1.3");
    /* the client's lists are those of the first ClientHello */
    assert_int_equal(s.n_client_key_shares, 1);
    assert_int_equal(s.client_key_shares[0], 0x001d);
    assert_int_equal(mw_tls_parser_feed(p, &s, 0, c.b, 1), 1); /* client done now */
    mw_tls_parser_free(p);
    feed_both(&c, &sv, 0, &one, rc, NULL);
    assert_int_equal(one.selected_group, 0x0017);
    assert_int_equal(one.hrr_group, 0x0017);
    free(m.b);
    free(c.b);
    free(sv.b);
}

/* TLS 1.2: ECDHE (curve from ServerKeyExchange), DHE (p bits), RSA key
 * transport (no SKE), certificates through d2i_X509. */
static void tls12_flight(struct buf *sv, unsigned suite, int ske)
{
    struct buf m;
    b_init(&m);
    server_hello_12(&m, 0x0303, suite);
    certificate(&m);
    if (ske == 1)
        ske_ecdhe(&m, 0x0018);
    else if (ske == 2)
        ske_dhe(&m, 256);
    server_hello_done(&m);
    records(sv, 22, m.b, m.n, 16384);
    ccs(sv);
    free(m.b);
}

static void test_tls12(void **st)
{
    (void)st;
    struct buf ch, c, sv;
    b_init(&ch);
    b_init(&c);
    b_init(&sv);
    struct ch_opts o = {NULL, 0, 0};
    static const uint16_t none[] = {0};
    o.shares = none;
    client_hello(&ch, &o);
    records(&c, 22, ch.b, ch.n, 16384);
    mw_expo_session_t s, s1;
    int rc[2];

    tls12_flight(&sv, 0xc030, 1);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_int_equal(rc[1], 1);
    assert_string_equal(s.version, "TLS 1.2");
    assert_int_equal(s.cipher_suite, 0xc030);
    assert_string_equal(s.selected_kex, "ECDHE");
    assert_int_equal(s.selected_group, 0x0018);
    assert_true(s.seen & MW_EXPO_SEEN_SKE);
    assert_true(s.seen & MW_EXPO_SEEN_CERT);
    assert_int_equal(s.n_certs, 2);
    assert_string_equal(s.certs[0].sig_alg, "ecdsa-with-SHA256");
    assert_string_equal(s.certs[0].key_alg, "id-ecPublicKey");
    assert_int_equal(s.certs[0].key_bits, 256);
    assert_int_equal(s.certs[0].pq_signature, 0);
    feed_both(&c, &sv, 1, &s1, rc, NULL);
    assert_memory_equal(&s, &s1, sizeof s);

    sv.n = 0;
    tls12_flight(&sv, 0x009f, 2);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_string_equal(s.selected_kex, "DHE");
    assert_int_equal(s.dh_bits, 2048);
    assert_int_equal(s.selected_group, -1);

    sv.n = 0;
    tls12_flight(&sv, 0x009d, 0);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_string_equal(s.selected_kex, "RSA");
    assert_false(s.seen & MW_EXPO_SEEN_SKE);
    assert_int_equal(rc[1], 1); /* stopped at ServerHelloDone */

    /* TLS 1.0 server */
    sv.n = 0;
    struct buf m;
    b_init(&m);
    server_hello_12(&m, 0x0301, 0x0035);
    records(&sv, 22, m.b, m.n, 16384);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_string_equal(s.version, "TLS 1.0");
    assert_string_equal(s.selected_kex, "RSA");
    free(m.b);
    free(ch.b);
    free(c.b);
    free(sv.b);
}

static void *cert_thread(void *arg)
{
    mw_expo_session_t *s = arg;
    struct buf c, sv;
    int rc[2];
    b_init(&c);
    b_init(&sv);
    tls12_flight(&sv, 0xc02f, 1);
    feed_both(NULL, &sv, 0, s, rc, NULL);
    free(c.b);
    free(sv.b);
    return NULL;
}

/* The certificate cache is per thread (released by a pthread key destructor
 * at thread exit; LeakSanitizer does not see a missing release, glibc keeps
 * dead threads' TLS blocks reachable): threads come and go, a cached
 * description equals a fresh one. */
static void test_cert_cache_threads(void **st)
{
    (void)st;
    mw_expo_session_t a, b;
    pthread_t th;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th, NULL, cert_thread, i ? &b : &a), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
    }
    assert_int_equal(a.n_certs, 2);
    assert_string_equal(a.certs[1].sig_alg, "ecdsa-with-SHA256");
    assert_memory_equal(&a, &b, sizeof a);
    cert_thread(&b); /* this thread: first fill, then a hit */
    cert_thread(&a);
    assert_memory_equal(&a, &b, sizeof a);
}

/* TLS 1.3 drafts: draft 18 ServerHello layout (no session id, no
 * compression, key_share extension 40), Google's 0x7e01 experiment. */
static void test_drafts(void **st)
{
    (void)st;
    struct buf m, sv;
    b_init(&m);
    b_init(&sv);
    u8(&m, 2);
    open_(&m, 3);
    u16(&m, 0x7f12);
    fill(&m, 0x44, 32);
    u16(&m, 0x1301);
    open_(&m, 2);
    ext_begin(&m, 40);
    u16(&m, 0x001d);
    open_(&m, 2);
    fill(&m, 0x55, 32);
    close_(&m);
    close_(&m);
    close_(&m);
    close_(&m);
    records(&sv, 22, m.b, m.n, 16384);
    mw_expo_session_t s;
    int rc[2];
    feed_both(NULL, &sv, 0, &s, rc, NULL);
    assert_int_equal(rc[1], 1);
    assert_string_equal(s.version, "TLS 1.3 (draft 18)");
    assert_int_equal(s.version_code, 0x7f12);
    assert_int_equal(s.selected_group, 0x001d);

    m.n = sv.n = 0;
    server_hello_13(&m, 0x001d, 0);
    m.b[4] = 0x7e; /* legacy_version 0x7e01, and no supported_versions: */
    m.b[5] = 0x01;
    assert_int_equal(m.b[m.n - 46 + 1], 43);
    m.b[m.n - 46 + 1] = 0xfe; /* supported_versions -> an unknown extension type */
    records(&sv, 22, m.b, m.n, 16384);
    feed_both(NULL, &sv, 0, &s, rc, NULL);
    assert_string_equal(s.version, "TLS 1.3 (Google experiment 0x7e01)");
    assert_int_equal(s.selected_group, 0x001d);
    free(m.b);
    free(sv.b);
}

/* SSL 2.0 CLIENT-HELLO (SSLv2-compatible, RFC 5246 E.2) and SERVER-HELLO. */
static void test_sslv2(void **st)
{
    (void)st;
    struct buf c, sv;
    b_init(&c);
    b_init(&sv);
    /* 2-byte header; msg 1, version 3.1, 3 cipher specs, no session, 16 challenge */
    u16(&c, 0x8000 | (9 + 9 + 16));
    u8(&c, 1);
    u16(&c, 0x0301);
    u16(&c, 9);
    u16(&c, 0);
    u16(&c, 16);
    static const uint8_t specs[9] = {0, 0, 0x35, 0, 0, 0x2f, 0x01, 0x00, 0x80};
    bytes(&c, specs, 9);
    fill(&c, 0x99, 16);
    mw_expo_session_t s;
    int rc[2];
    /* the server answers in SSL 2.0 with a certificate */
    make_cert();
    size_t n = 11 + (size_t)g_cert_len + 3 + 16;
    u16(&sv, 0x8000 | (unsigned)n);
    u8(&sv, 4);
    u8(&sv, 0);
    u8(&sv, 1);
    u16(&sv, 0x0002);
    u16(&sv, (unsigned)g_cert_len);
    u16(&sv, 3);
    u16(&sv, 16);
    bytes(&sv, g_cert, (size_t)g_cert_len);
    bytes(&sv, specs + 6, 3);
    fill(&sv, 0x98, 16);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_int_equal(s.n_client_suites, 3);
    assert_string_equal(s.version, "SSL 2.0");
    assert_int_equal(s.version_code, 0x0002);
    assert_string_equal(s.selected_kex, "RSA");
    assert_int_equal(s.n_certs, 1);
    assert_int_equal(rc[1], 1);
    mw_expo_session_t s1;
    feed_both(&c, &sv, 1, &s1, rc, NULL);
    assert_memory_equal(&s, &s1, sizeof s);
    free(c.b);
    free(sv.b);
}

/* Preambles: SMTP STARTTLS text, XMPP's <proceed/> without a newline,
 * SOCKS4a request and reply; then not-TLS bytes. */
static void test_preambles(void **st)
{
    (void)st;
    struct buf ch, c, sv, m;
    b_init(&ch);
    b_init(&c);
    b_init(&sv);
    b_init(&m);
    struct ch_opts o = {NULL, 3, 0};
    client_hello(&ch, &o);
    server_hello_12(&m, 0x0303, 0xc02f);
    mw_expo_session_t s;
    int rc[2];

    bytes(&c, "EHLO x\r\nSTARTTLS\r\n", 18);
    records(&c, 22, ch.b, ch.n, 16384);
    bytes(&sv, "220 ok\r\n250 STARTTLS\r\n220 go\r\n", 30);
    records(&sv, 22, m.b, m.n, 16384);
    feed_both(&c, &sv, 1, &s, rc, NULL);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s.selected_kex, "ECDHE");

    c.n = sv.n = 0;
    bytes(&c, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 51);
    records(&c, 22, ch.b, ch.n, 16384);
    bytes(&sv, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 50);
    records(&sv, 22, m.b, m.n, 16384);
    feed_both(&c, &sv, 0, &s, rc, NULL);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s.version, "TLS 1.2");

    c.n = sv.n = 0;
    static const uint8_t socks_req[] = {4, 1, 1, 187, 0, 0, 0, 9, 'u', 0, 'h', '.', 'x', 0};
    static const uint8_t socks_rep[] = {0, 90, 0, 0, 0, 0, 0, 0};
    bytes(&c, socks_req, sizeof socks_req);
    records(&c, 22, ch.b, ch.n, 16384);
    bytes(&sv, socks_rep, sizeof socks_rep);
    records(&sv, 22, m.b, m.n, 16384);
    feed_both(&c, &sv, 1, &s, rc, NULL);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s.version, "TLS 1.2");

    /* not TLS: binary at once, text without end, an SSH banner then a packet */
    mw_tls_parser_t *p = NULL;
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    session_reset(&s);
    static const uint8_t junk[] = {0x00, 0x00, 0x00, 0x2c, 0x01};
    assert_true(mw_tls_parser_feed(p, &s, 0, junk, sizeof junk) < 0);
    assert_true(mw_tls_parser_feed(p, &s, 0, junk, sizeof junk) < 0); /* stays so */
    assert_non_null(strstr(s.reason, "not TLS"));
    mw_tls_parser_free(p);
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    c.n = 0;
    fill(&c, 'a', MW_TLS_MAX_PREAMBLE + 10);
    assert_true(mw_tls_parser_feed(p, &s, 1, c.b, c.n) < 0);
    mw_tls_parser_free(p);
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    c.n = 0;
    bytes(&c, "SSH-2.0-OpenSSH_9.6\r\n\x00\x00\x05\xdc\x07\x14", 27);
    assert_true(mw_tls_parser_feed(p, &s, 0, c.b, c.n) < 0);
    mw_tls_parser_free(p);
    free(ch.b);
    free(c.b);
    free(sv.b);
    free(m.b);
}

/* A handshake message claiming 16 MB is skipped, not buffered; the next
 * hello still parses. A record claiming more than 2^14+2048 ends it. */
static void test_oversized(void **st)
{
    (void)st;
    struct buf c, ch;
    b_init(&c);
    b_init(&ch);
    mw_tls_parser_t *p = NULL;
    mw_expo_session_t s;
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    session_reset(&s);
    /* a ClientHello of 0xffffff bytes, in 16 KB records */
    size_t total = 0xffffff + 4, off = 0;
    while (off < total) {
        size_t k = total - off < 16384 ? total - off : 16384;
        c.n = 0;
        u8(&c, 22);
        u16(&c, 0x0303);
        u16(&c, (unsigned)k);
        if (off == 0) {
            u8(&c, 1);
            u8(&c, 0xff);
            u8(&c, 0xff);
            u8(&c, 0xff);
            fill(&c, 0xab, k - 4);
        } else {
            fill(&c, 0xab, k);
        }
        off += k;
        assert_int_equal(mw_tls_parser_feed(p, &s, 0, c.b, c.n), 0);
    }
    assert_int_equal(mw_tls_parser_malformed(p), 1);
    assert_false(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    struct ch_opts o = {NULL, 3, 0};
    client_hello(&ch, &o);
    c.n = 0;
    records(&c, 22, ch.b, ch.n, 16384);
    assert_int_equal(mw_tls_parser_feed(p, &s, 0, c.b, c.n), 0);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s.sni, "example.com");
    mw_tls_parser_free(p);

    c.n = 0;
    u8(&c, 22);
    u16(&c, 0x0303);
    u16(&c, 16384 + 2048 + 1);
    assert_int_equal(mw_tls_parser_new(&p), MW_OK);
    session_reset(&s);
    assert_true(mw_tls_parser_feed(p, &s, 0, c.b, c.n) < 0);
    assert_int_equal(mw_tls_parser_malformed(p), 1);
    mw_tls_parser_free(p);
    free(c.b);
    free(ch.b);
}

/* Every truncation and single-byte corruption of a valid exchange: no
 * crash, no out-of-bounds read (ASan), session strings stay terminated. */
static void test_malformed_everywhere(void **st)
{
    (void)st;
    struct buf ch, c, sv, m;
    b_init(&ch);
    b_init(&c);
    b_init(&sv);
    b_init(&m);
    struct ch_opts o = {NULL, 3, 0};
    client_hello(&ch, &o);
    records(&c, 22, ch.b, ch.n, 100);
    server_hello_12(&m, 0x0303, 0xc02f);
    certificate(&m);
    ske_ecdhe(&m, 0x0017);
    server_hello_done(&m);
    records(&sv, 22, m.b, m.n, 300);
    struct buf *streams[2] = {&c, &sv};
    static const uint8_t vals[] = {0x00, 0xff, 0x80, 0x01};
    for (int d = 0; d < 2; d++) {
        struct buf *x = streams[d];
        uint8_t *orig = malloc(x->n);
        assert_non_null(orig);
        memcpy(orig, x->b, x->n);
        size_t n = x->n;
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t v = 0; v < sizeof vals + 1; v++) {
                mw_tls_parser_t *p = NULL;
                mw_expo_session_t s;
                assert_int_equal(mw_tls_parser_new(&p), MW_OK);
                session_reset(&s);
                size_t len = n;
                if (v == sizeof vals) {
                    len = pos; /* truncated */
                } else {
                    x->b[pos] = vals[v];
                }
                uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
                assert_non_null(copy);
                memcpy(copy, x->b, len);
                int rc = mw_tls_parser_feed(p, &s, d, copy, len);
                assert_true(rc == 0 || rc == 1 || rc == MW_EINVAL);
                assert_true(memchr(s.sni, 0, sizeof s.sni) != NULL);
                assert_true(memchr(s.version, 0, sizeof s.version) != NULL);
                assert_true(s.n_certs <= MW_EXPO_MAX_CERTS);
                free(copy);
                x->b[pos] = orig[pos];
                mw_tls_parser_free(p);
            }
        }
        free(orig);
    }
    free(ch.b);
    free(c.b);
    free(sv.b);
    free(m.b);
}

/* ---------------------------------------------------------------- */
/* Code points (IANA TLS Supported Groups / Cipher Suites registries)  */
/* ---------------------------------------------------------------- */

static void test_groups(void **st)
{
    (void)st;
    const char *name = NULL;
    assert_int_equal(mw_expo_tls_group_class(0x11ec, &name), MW_EXPO_PQ_HYBRID);
    assert_string_equal(name, "X25519MLKEM768");
    assert_int_equal(mw_expo_tls_group_class(0x11eb, &name), MW_EXPO_PQ_HYBRID);
    assert_string_equal(name, "SecP256r1MLKEM768");
    assert_int_equal(mw_expo_tls_group_class(0x11ed, &name), MW_EXPO_PQ_HYBRID);
    assert_string_equal(name, "SecP384r1MLKEM1024");
    assert_int_equal(mw_expo_tls_group_class(0x6399, &name), MW_EXPO_PQ_HYBRID);
    assert_string_equal(name, "X25519Kyber768Draft00");
    assert_int_equal(mw_expo_tls_group_class(0x639a, NULL), MW_EXPO_PQ_HYBRID);
    assert_int_equal(mw_expo_tls_group_class(0x0200, &name), MW_EXPO_PQ_ONLY);
    assert_string_equal(name, "MLKEM512");
    assert_int_equal(mw_expo_tls_group_class(0x0201, NULL), MW_EXPO_PQ_ONLY);
    assert_int_equal(mw_expo_tls_group_class(0x0202, NULL), MW_EXPO_PQ_ONLY);
    assert_int_equal(mw_expo_tls_group_class(0x023d, &name), MW_EXPO_PQ_ONLY);
    assert_string_equal(name, "kyber1024");
    assert_int_equal(mw_expo_tls_group_class(0x001d, &name), MW_EXPO_CLASSICAL);
    assert_string_equal(name, "x25519");
    assert_int_equal(mw_expo_tls_group_class(23, &name), MW_EXPO_CLASSICAL);
    assert_string_equal(name, "secp256r1");
    assert_int_equal(mw_expo_tls_group_class(0x0104, &name), MW_EXPO_CLASSICAL);
    assert_string_equal(name, "ffdhe8192");
    assert_int_equal(mw_expo_tls_group_class(33, &name), MW_EXPO_CLASSICAL);
    assert_string_equal(name, "brainpoolP512r1tls13");
    assert_int_equal(mw_expo_tls_group_class(0x1234, &name), MW_EXPO_UNKNOWN);
    assert_string_equal(name, "0x1234");
    assert_int_equal(mw_expo_tls_group_class(0xdada, &name), MW_EXPO_UNKNOWN);
    assert_string_equal(name, "GREASE");

    assert_int_equal(mw_expo_tls_group_from_name("x25519"), 0x001d);
    assert_int_equal(mw_expo_tls_group_from_name("X25519"), 0x001d);
    assert_int_equal(mw_expo_tls_group_from_name("secp256r1"), 0x0017);
    assert_int_equal(mw_expo_tls_group_from_name("prime256v1"), 0x0017);
    assert_int_equal(mw_expo_tls_group_from_name("P-256"), 0x0017);
    assert_int_equal(mw_expo_tls_group_from_name("x25519mlkem768"), 0x11ec);
    assert_int_equal(mw_expo_tls_group_from_name("SecP256r1MLKEM768"), 0x11eb);
    assert_int_equal(mw_expo_tls_group_from_name("X25519Kyber768Draft00"), 0x6399);
    assert_int_equal(mw_expo_tls_group_from_name("unknown-4588"), 0x11ec);
    assert_int_equal(mw_expo_tls_group_from_name("unknown-0"), 0);
    assert_int_equal(mw_expo_tls_group_from_name("0x11EC"), 0x11ec);
    assert_int_equal(mw_expo_tls_group_from_name("ML-KEM-768"), 0x0201);
    assert_int_equal(mw_expo_tls_group_from_name("unknown-65536"), -1);
    assert_int_equal(mw_expo_tls_group_from_name("unknown-"), -1);
    assert_int_equal(mw_expo_tls_group_from_name("0x"), -1);
    assert_int_equal(mw_expo_tls_group_from_name("curve-of-the-day"), -1);
    assert_int_equal(mw_expo_tls_group_from_name(""), -1);
    assert_int_equal(mw_expo_tls_group_from_name(NULL), -1);

    /* every named group round-trips through its name */
    unsigned named = 0;
    for (unsigned g = 0; g <= 0xffff; g++) {
        if (mw_expo_tls_group_class((uint16_t)g, &name) == MW_EXPO_UNKNOWN)
            continue;
        named++;
        assert_int_equal(mw_expo_tls_group_from_name(name), (int)g);
    }
    assert_true(named >= 60);
}

static void test_suites(void **st)
{
    (void)st;
    const char *name = NULL;
    assert_string_equal(mw_expo_tls_suite_kex(0xc02f, &name), "ECDHE");
    assert_string_equal(name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(mw_expo_tls_suite_kex(0xcca9, &name), "ECDHE");
    assert_string_equal(name, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_string_equal(mw_expo_tls_suite_kex(0x0004, &name), "RSA");
    assert_string_equal(name, "TLS_RSA_WITH_RC4_128_MD5");
    assert_string_equal(mw_expo_tls_suite_kex(0x0003, NULL), "RSA"); /* RSA_EXPORT */
    assert_string_equal(mw_expo_tls_suite_kex(0x0039, NULL), "DHE");
    assert_string_equal(mw_expo_tls_suite_kex(0x0088, NULL), "DHE");
    assert_string_equal(mw_expo_tls_suite_kex(0x001b, NULL), "DHE"); /* DH_anon */
    assert_string_equal(mw_expo_tls_suite_kex(0x0030, NULL), "DH");
    assert_string_equal(mw_expo_tls_suite_kex(0xc004, NULL), "ECDH");
    assert_string_equal(mw_expo_tls_suite_kex(0xc018, NULL), "ECDHE"); /* ECDH_anon */
    assert_string_equal(mw_expo_tls_suite_kex(0x00a8, NULL), "PSK");
    assert_string_equal(mw_expo_tls_suite_kex(0x00aa, NULL), "DHE_PSK");
    assert_string_equal(mw_expo_tls_suite_kex(0xc0aa, NULL), "DHE_PSK");
    assert_string_equal(mw_expo_tls_suite_kex(0x00ac, NULL), "RSA_PSK");
    assert_string_equal(mw_expo_tls_suite_kex(0xd001, NULL), "ECDHE_PSK");
    assert_string_equal(mw_expo_tls_suite_kex(0xc01d, NULL), "SRP");
    assert_string_equal(mw_expo_tls_suite_kex(0x001e, NULL), "KRB5");
    assert_string_equal(mw_expo_tls_suite_kex(0xc0b0, NULL), "ECCPWD");
    assert_string_equal(mw_expo_tls_suite_kex(0xc100, NULL), "GOST");
    assert_null(mw_expo_tls_suite_kex(0x1301, &name));
    assert_string_equal(name, "TLS_AES_128_GCM_SHA256");
    assert_null(mw_expo_tls_suite_kex(0x00ff, &name));
    assert_string_equal(name, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    assert_null(mw_expo_tls_suite_kex(0x0000, NULL));
    assert_null(mw_expo_tls_suite_kex(0xfefe, &name));
    assert_null(name);
    assert_null(mw_expo_tls_suite_kex(0x0a0a, NULL));
    /* the registry's count of assigned values (with 0x0000, SCSVs, TLS 1.3) */
    unsigned n = 0;
    for (unsigned v = 0; v <= 0xffff; v++) {
        if (mw_expo_tls_suite_kex((uint16_t)v, &name), name)
            n++;
    }
    assert_int_equal(n, 350);
}

/* The fuzz seed corpus (fuzz/seeds/tls, same input format as
 * fuzz/fuzz_tls.c): ok_* must yield a hello without error, bad_* an error
 * or a malformed count. */
static void test_fuzz_seeds(void **st)
{
    (void)st;
    char dir[1024], path[1300];
    snprintf(dir, sizeof dir, "%s/fuzz/seeds/tls", MW_SOURCE_DIR);
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 16];
        size_t size = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *data = malloc(size ? size : 1);
        assert_non_null(data);
        memcpy(data, buf, size);
        mw_tls_parser_t *p = NULL;
        mw_expo_session_t s;
        assert_int_equal(mw_tls_parser_new(&p), MW_OK);
        session_reset(&s);
        int rc[2] = {0, 0}, neg = 0;
        if (size > 0 && data[0] == 0xff) {
            size_t off = 1;
            while (off + 3 <= size) {
                int d = data[off] & 1;
                size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
                off += 3;
                if (len > size - off)
                    len = size - off;
                if (rc[d] == 0)
                    rc[d] = mw_tls_parser_feed(p, &s, d, data + off, len);
                neg |= rc[d] < 0;
                off += len;
            }
        } else if (size > 0) {
            neg = mw_tls_parser_feed(p, &s, data[0] & 1, data + 1, size - 1) < 0;
        }
        if (strncmp(de->d_name, "ok_", 3) == 0) {
            if (neg || !(s.seen & (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO)))
                fail_msg("seed %s: not accepted (%s)", de->d_name, s.reason);
        } else if (strncmp(de->d_name, "bad_", 4) == 0) {
            if (!neg && mw_tls_parser_malformed(p) == 0)
                fail_msg("seed %s: accepted", de->d_name);
        }
        n++;
        mw_tls_parser_free(p);
        free(data);
    }
    closedir(dp);
    assert_true(n >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13_hybrid),
        cmocka_unit_test(test_hrr),
        cmocka_unit_test(test_tls12),
        cmocka_unit_test(test_cert_cache_threads),
        cmocka_unit_test(test_drafts),
        cmocka_unit_test(test_sslv2),
        cmocka_unit_test(test_preambles),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_malformed_everywhere),
        cmocka_unit_test(test_fuzz_seeds),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_suites),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    OPENSSL_free(g_cert);
    return rc;
}
