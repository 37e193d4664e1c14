/* QUIC Initial parsing of the exposure scanner (src/detect/exposure_quic.c):
 * the RFC 9001 Appendix A sample packets (A.2 client Initial, A.3 server
 * Initial, published test vectors written here from the RFC text), then
 * flows built here with our own Initial protection (RFC 9001 5, checked
 * against the keys of RFC 9001 A.1): CRYPTO split over packets out of order,
 * Retry, QUIC v2 (RFC 9369), coalesced packets; corruption and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "mwrasp/exposure.h"

/* RFC 9001 A.2 (1200 bytes) and A.3 (135 bytes), protected. */
static const char RFC9001_A2_CLIENT_INITIAL[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";
static const char RFC9001_A3_SERVER_INITIAL[] =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = strlen(h) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void session_reset(mw_expo_session_t *s)
{
    memset(s, 0, sizeof *s);
    s->proto = MW_EXPO_QUIC;
    s->selected_group = -1;
    s->cipher_suite = -1;
    s->hrr_group = -1;
}

/* RFC 9001 A.2 / A.3: the client's ClientHello and the server's ServerHello. */
static void test_rfc9001_vectors(void **st)
{
    (void)st;
    uint8_t c[1200], sv[200];
    size_t cn = unhex(RFC9001_A2_CLIENT_INITIAL, c, sizeof c);
    size_t sn = unhex(RFC9001_A3_SERVER_INITIAL, sv, sizeof sv);
    assert_int_equal(cn, 1200);
    mw_quic_parser_t *p = NULL;
    mw_expo_session_t s;
    assert_int_equal(mw_quic_parser_new(&p), MW_OK);
    session_reset(&s);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, c, cn), 0);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_string_equal(s.sni, "example.com");
    assert_string_equal(s.alpn, "alpn");
    assert_int_equal(s.n_client_suites, 2);
    assert_int_equal(s.n_client_groups, 3);
    assert_int_equal(s.client_groups[0], 0x001d);
    assert_int_equal(s.client_groups[1], 0x0017);
    assert_int_equal(s.client_groups[2], 0x0018);
    assert_int_equal(s.n_client_key_shares, 1);
    assert_int_equal(s.client_key_shares[0], 0x001d);
    assert_int_equal(s.n_client_versions, 1);
    assert_int_equal(s.client_versions[0], 0x0304);
    assert_int_equal(s.n_client_sig_algs, 7);
    assert_int_equal(s.client_offered_pq, 0);
    assert_int_equal(mw_quic_parser_feed(p, &s, 1, sv, sn), 1);
    assert_true(s.seen & MW_EXPO_SEEN_SERVER_HELLO);
    assert_string_equal(s.version, "TLS 1.3");
    assert_int_equal(s.version_code, 0x0304);
    assert_int_equal(s.selected_group, 0x001d);
    assert_int_equal(s.cipher_suite, 0x1301);
    assert_int_equal(s.proto, MW_EXPO_QUIC);
    assert_int_equal(mw_quic_parser_malformed(p), 0);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, c, cn), 1); /* client side done too */
    mw_quic_parser_free(p);
}

/* Every single-byte change and every truncation of the A.2 packet: no crash,
 * and the ClientHello is never taken from a packet that does not
 * authenticate. */
static void test_corrupt(void **st)
{
    (void)st;
    uint8_t c[1200];
    size_t cn = unhex(RFC9001_A2_CLIENT_INITIAL, c, sizeof c);
    for (size_t pos = 0; pos < cn; pos++) {
        for (int mode = 0; mode < 2; mode++) {
            size_t len = mode ? pos : cn;
            uint8_t *copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, c, len);
            if (!mode)
                copy[pos] ^= 0x01;
            mw_quic_parser_t *p = NULL;
            mw_expo_session_t s;
            assert_int_equal(mw_quic_parser_new(&p), MW_OK);
            session_reset(&s);
            int rc = mw_quic_parser_feed(p, &s, 0, copy, len);
            assert_true(rc == 0 || rc == MW_EINVAL);
            assert_false(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
            free(copy);
            mw_quic_parser_free(p);
        }
    }
}

/* ---------------------------------------------------------------- */
/* Our own Initial protection (RFC 9001 5.1-5.4)                      */
/* ---------------------------------------------------------------- */

struct keys {
    uint8_t key[16], iv[12], hp[16];
};

static void hkdf(int mode, const uint8_t *k, size_t kl, const char *pname, const uint8_t *x,
                 size_t xl, uint8_t *out, size_t ol)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    assert_non_null(kdf);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    char md[] = "SHA256";
    OSSL_PARAM prm[] = {
        OSSL_PARAM_construct_int("mode", &mode), OSSL_PARAM_construct_utf8_string("digest", md, 0),
        OSSL_PARAM_construct_octet_string("key", (void *)k, kl),
        OSSL_PARAM_construct_octet_string(pname, (void *)x, xl), OSSL_PARAM_construct_end()};
    assert_int_equal(EVP_KDF_derive(ctx, out, ol, prm), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

static void label(const uint8_t *secret, const char *l, uint8_t *out, size_t ol)
{
    uint8_t info[64];
    size_t n = 0, ll = strlen(l) + 6;
    info[n++] = 0;
    info[n++] = (uint8_t)ol;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, l, ll - 6);
    n += ll;
    info[n++] = 0;
    hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, 32, "info", info, n, out, ol);
}

static void initial_keys(uint32_t version, const uint8_t *dcid, size_t dl, int server,
                         struct keys *k)
{
    static const char s1[] = "38762cf7f55934b34d179ae6a4c80cadccbb7f0a"; /* RFC 9001 5.2 */
    static const char s2[] = "0dede3def700a6db819381be6e269dcbf9bd2ed9"; /* RFC 9369 3.3.1 */
    uint8_t salt[20], init[32], sec[32];
    int v2 = version == 0x6b3343cf;
    unhex(v2 ? s2 : s1, salt, sizeof salt);
    hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dl, "salt", salt, 20, init, 32);
    label(init, server ? "server in" : "client in", sec, 32);
    label(sec, v2 ? "quicv2 key" : "quic key", k->key, 16);
    label(sec, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
    label(sec, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

/* RFC 9001 A.1 */
static void test_initial_keys(void **st)
{
    (void)st;
    uint8_t dcid[8], want[16];
    struct keys k;
    unhex("8394c8f03e515708", dcid, sizeof dcid);
    initial_keys(1, dcid, 8, 0, &k);
    unhex("1f369613dd76d5467730efcbe3b1a22d", want, 16);
    assert_memory_equal(k.key, want, 16);
    unhex("fa044b2f42a3fd3b46fb255c", want, 12);
    assert_memory_equal(k.iv, want, 12);
    unhex("9f50449e04a0e810283a1e9933adedd2", want, 16);
    assert_memory_equal(k.hp, want, 16);
    initial_keys(1, dcid, 8, 1, &k);
    unhex("cf3a5331653c364c88f0f379b6067e37", want, 16);
    assert_memory_equal(k.key, want, 16);
    unhex("c206b8d9b9f0f37644430b490eeaa314", want, 16);
    assert_memory_equal(k.hp, want, 16);
}

/* An Initial packet (2-byte packet number, no token) carrying payload,
 * protected with the keys of key_dcid. Returns its length. */
static size_t initial(uint8_t *out, uint32_t version, const uint8_t *dcid, size_t dl,
                      const uint8_t *scid, size_t sl, const uint8_t *key_dcid, size_t kdl,
                      int server, uint16_t pn, const uint8_t *payload, size_t plen)
{
    struct keys k;
    initial_keys(version, key_dcid, kdl, server, &k);
    int v2 = version == 0x6b3343cf;
    size_t n = 0;
    out[n++] = (uint8_t)(0xc0 | (v2 ? 1 : 0) << 4 | 0x01); /* pn length 2 */
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(version >> (8 * i));
    out[n++] = (uint8_t)dl;
    memcpy(out + n, dcid, dl);
    n += dl;
    out[n++] = (uint8_t)sl;
    memcpy(out + n, scid, sl);
    n += sl;
    out[n++] = 0; /* token length */
    size_t len = 2 + plen + 16;
    out[n++] = (uint8_t)(0x40 | len >> 8);
    out[n++] = (uint8_t)len;
    size_t pn_off = n;
    out[n++] = (uint8_t)(pn >> 8);
    out[n++] = (uint8_t)pn;
    uint8_t nonce[12];
    memcpy(nonce, k.iv, 12);
    nonce[10] ^= (uint8_t)(pn >> 8);
    nonce[11] ^= (uint8_t)pn;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ol = 0;
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &ol, out, (int)n), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out + n, &ol, payload, (int)plen), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + n + plen, &ol), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + n + plen), 1);
    uint8_t mask[16];
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp, NULL), 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    assert_int_equal(EVP_EncryptUpdate(ctx, mask, &ol, out + pn_off + 4, 16), 1);
    EVP_CIPHER_CTX_free(ctx);
    out[0] ^= mask[0] & 0x0f;
    out[pn_off] ^= mask[1];
    out[pn_off + 1] ^= mask[2];
    return n + plen + 16;
}

static size_t varint2(uint8_t *o, size_t v)
{
    o[0] = (uint8_t)(0x40 | v >> 8);
    o[1] = (uint8_t)v;
    return 2;
}

/* CRYPTO frame(s) + PING + ACK + PADDING up to pad bytes. */
static size_t crypto_payload(uint8_t *o, size_t off, const uint8_t *d, size_t n, size_t pad)
{
    size_t k = 0;
    o[k++] = 0x01; /* PING */
    o[k++] = 0x02; /* ACK: largest 0, delay 0, 1 range, first 0, gap 0 len 0 */
    o[k++] = 0;
    o[k++] = 0;
    o[k++] = 1;
    o[k++] = 0;
    o[k++] = 0;
    o[k++] = 0;
    o[k++] = 0x06;
    k += varint2(o + k, off);
    k += varint2(o + k, n);
    memcpy(o + k, d, n);
    k += n;
    while (k < pad)
        o[k++] = 0;
    return k;
}

/* A TLS 1.3 ClientHello with an X25519MLKEM768 share (1216 bytes) and a
 * ServerHello choosing it. */
static size_t hello(uint8_t *o, int server)
{
    size_t n = 0;
    o[n++] = server ? 2 : 1;
    n += 3;
    o[n++] = 3;
    o[n++] = 3;
    memset(o + n, 0x5a, 32);
    n += 32;
    o[n++] = 0; /* session id */
    if (!server) {
        o[n++] = 0;
        o[n++] = 2;
    }
    o[n++] = 0x13;
    o[n++] = 0x01;
    if (!server) {
        o[n++] = 1;
    }
    o[n++] = 0; /* compression */
    size_t ks = server ? 1120 : 1216, ext_at = n;
    n += 2; /* extensions length, filled below */
    static const uint8_t sv_c[] = {0, 43, 0, 3, 2, 3, 4}, sv_s[] = {0, 43, 0, 2, 3, 4};
    if (server) {
        memcpy(o + n, sv_s, sizeof sv_s);
        n += sizeof sv_s;
    } else {
        memcpy(o + n, sv_c, sizeof sv_c);
        n += sizeof sv_c;
        static const uint8_t sg[] = {0, 10, 0, 6, 0, 4, 0x11, 0xec, 0, 0x1d};
        memcpy(o + n, sg, sizeof sg);
        n += sizeof sg;
    }
    o[n++] = 0;
    o[n++] = 51;
    size_t el = server ? 4 + ks : 2 + 4 + ks;
    o[n++] = (uint8_t)(el >> 8);
    o[n++] = (uint8_t)el;
    if (!server) {
        o[n++] = (uint8_t)((el - 2) >> 8);
        o[n++] = (uint8_t)(el - 2);
    }
    o[n++] = 0x11;
    o[n++] = 0xec;
    o[n++] = (uint8_t)(ks >> 8);
    o[n++] = (uint8_t)ks;
    memset(o + n, 0x66, ks);
    n += ks;
    o[ext_at] = (uint8_t)((n - ext_at - 2) >> 8);
    o[ext_at + 1] = (uint8_t)(n - ext_at - 2);
    o[1] = (uint8_t)((n - 4) >> 16);
    o[2] = (uint8_t)((n - 4) >> 8);
    o[3] = (uint8_t)(n - 4);
    return n;
}

/* client Initial 1 (DCID A, first half of the ClientHello) and Initial 2
 * (second half) sent in reverse order; optional Retry moving to DCID B;
 * server Initial coalesced with a Handshake packet and a 1-RTT packet. */
static void flow(uint32_t version, int retry, int v2_server)
{
    static const uint8_t A[8] = {1, 2, 3, 4, 5, 6, 7, 8}, B[8] = {9, 9, 9, 9, 8, 8, 8, 8};
    static const uint8_t CS[4] = {0xc1, 0xc2, 0xc3, 0xc4}, SS[5] = {0x51, 0x52, 0x53, 0x54, 0x55};
    uint8_t ch[2000], sh[2000], pl[2000], d1[1500], d2[1500], sd[4000];
    size_t chn = hello(ch, 0), shn = hello(sh, 1);
    assert_true(chn > 1216 && shn > 1120);
    size_t half = chn / 2;
    mw_quic_parser_t *p = NULL;
    mw_expo_session_t s;
    assert_int_equal(mw_quic_parser_new(&p), MW_OK);
    session_reset(&s);
    const uint8_t *kd = A;
    if (retry) {
        /* the first Initial goes unanswered but for a Retry (RFC 9000 17.2.5) */
        size_t k = crypto_payload(pl, 0, ch, half, 1100);
        size_t n = initial(d1, version, A, 8, CS, 4, A, 8, 0, 0, pl, k);
        assert_int_equal(mw_quic_parser_feed(p, &s, 0, d1, n), 0);
        uint8_t r[64];
        size_t rn = 0;
        r[rn++] = (uint8_t)(0xc0 | (version == 0x6b3343cf ? 0 : 3) << 4);
        for (int i = 3; i >= 0; i--)
            r[rn++] = (uint8_t)(version >> (8 * i));
        r[rn++] = 4;
        memcpy(r + rn, CS, 4);
        rn += 4;
        r[rn++] = 8;
        memcpy(r + rn, B, 8);
        rn += 8;
        memset(r + rn, 0x7e, 20 + 16); /* token + integrity tag */
        rn += 36;
        assert_int_equal(mw_quic_parser_feed(p, &s, 1, r, rn), 0);
        kd = B;
    }
    size_t k1 = crypto_payload(pl, 0, ch, half, 1100);
    size_t n1 = initial(d1, version, kd, 8, CS, 4, kd, 8, 0, 1, pl, k1);
    size_t k2 = crypto_payload(pl, half, ch + half, chn - half, 1100);
    size_t n2 = initial(d2, version, kd, 8, CS, 4, kd, 8, 0, 2, pl, k2);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, d2, n2), 0); /* out of order */
    /* without a Retry the first half is still missing; with one, the
     * pre-Retry Initial (keys of A) delivered it */
    assert_int_equal(!!(s.seen & MW_EXPO_SEEN_CLIENT_HELLO), retry);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, d1, n1), 0);
    assert_true(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_int_equal(s.n_client_key_shares, 1);
    assert_int_equal(s.client_key_shares[0], 0x11ec);
    assert_int_equal(s.client_offered_pq, 1);
    uint32_t sver = v2_server ? 0x6b3343cf : version;
    size_t k = crypto_payload(pl, 0, sh, shn, 0);
    size_t n = initial(sd, sver, CS, 4, SS, 5, kd, 8, 1, 0, pl, k);
    /* a Handshake packet we cannot read, then a 1-RTT packet */
    sd[n++] = (uint8_t)(0xc0 | (sver == 0x6b3343cf ? 3 : 2) << 4);
    for (int i = 3; i >= 0; i--)
        sd[n++] = (uint8_t)(sver >> (8 * i));
    sd[n++] = 4;
    memcpy(sd + n, CS, 4);
    n += 4;
    sd[n++] = 5;
    memcpy(sd + n, SS, 5);
    n += 5;
    sd[n++] = 40;
    memset(sd + n, 0xee, 40);
    n += 40;
    sd[n++] = 0x41;
    memset(sd + n, 0xdd, 30);
    n += 30;
    assert_int_equal(mw_quic_parser_feed(p, &s, 1, sd, n), 1);
    assert_string_equal(s.version, "TLS 1.3");
    assert_int_equal(s.selected_group, 0x11ec);
    assert_int_equal(s.cipher_suite, 0x1301);
    assert_int_equal(s.proto, MW_EXPO_QUIC);
    assert_int_equal(mw_quic_parser_malformed(p), 0);
    mw_quic_parser_free(p);
}

static void test_flow_v1(void **st)
{
    (void)st;
    flow(1, 0, 0);
}

static void test_flow_retry(void **st)
{
    (void)st;
    flow(1, 1, 0);
}

static void test_flow_v2(void **st)
{
    (void)st;
    flow(0x6b3343cf, 0, 0);
    flow(0x6b3343cf, 1, 0);
    flow(1, 0, 1); /* RFC 9368 compatible negotiation: v1 client, v2 server */
}

/* Not QUIC, and CRYPTO data past MW_QUIC_MAX_CRYPTO. */
static void test_bad_input(void **st)
{
    (void)st;
    mw_quic_parser_t *p = NULL;
    mw_expo_session_t s;
    assert_int_equal(mw_quic_parser_new(&p), MW_OK);
    session_reset(&s);
    static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    assert_true(mw_quic_parser_feed(p, &s, 0, dns, sizeof dns) < 0);
    static const uint8_t vneg[] = {0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_true(mw_quic_parser_feed(p, &s, 0, vneg, sizeof vneg) < 0);
    static const uint8_t unk[] = {0xc0, 0x51, 0x30, 0x35, 0x30, 0, 0, 0, 0};
    assert_true(mw_quic_parser_feed(p, &s, 0, unk, sizeof unk) < 0);
    mw_quic_parser_free(p);

    assert_int_equal(mw_quic_parser_new(&p), MW_OK);
    session_reset(&s);
    static const uint8_t A[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t pl[64], d[200];
    size_t k = 0;
    pl[k++] = 0x06;
    pl[k++] = 0x80; /* offset 4-byte varint: 0x00010000 = 64 KiB */
    pl[k++] = 0x01;
    pl[k++] = 0x00;
    pl[k++] = 0x00;
    pl[k++] = 4;
    memset(pl + k, 1, 4);
    k += 4;
    pl[k++] = 0x1c; /* CONNECTION_CLOSE: code 0, frame type 0, no reason */
    pl[k++] = 0;
    pl[k++] = 0;
    pl[k++] = 0;
    while (k < 30)
        pl[k++] = 0;
    size_t n = initial(d, 1, A, 8, A, 0, A, 8, 0, 0, pl, k);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, d, n), 0);
    assert_int_equal(mw_quic_parser_malformed(p), 1);
    assert_false(s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    /* an unknown frame type in an Initial stops that packet */
    pl[0] = 0x08;
    n = initial(d, 1, A, 8, A, 0, A, 8, 0, 1, pl, k);
    assert_int_equal(mw_quic_parser_feed(p, &s, 0, d, n), 0);
    assert_int_equal(mw_quic_parser_malformed(p), 2);
    mw_quic_parser_free(p);
}

/* The fuzz seed corpus (fuzz/seeds/quic, the format of fuzz/fuzz_quic.c):
 * ok_* must yield a hello, bad_* an error. */
static void test_fuzz_seeds(void **st)
{
    (void)st;
    char dir[1024], path[1300];
    snprintf(dir, sizeof dir, "%s/fuzz/seeds/quic", MW_SOURCE_DIR);
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
        mw_quic_parser_t *p = NULL;
        mw_expo_session_t s;
        assert_int_equal(mw_quic_parser_new(&p), MW_OK);
        session_reset(&s);
        int neg = 0, raw = 0;
        size_t off = 0;
        while (off + 3 <= size) {
            int d = buf[off] & 1;
            raw |= buf[off] & 2;
            size_t len = (size_t)buf[off + 1] << 8 | buf[off + 2];
            off += 3;
            if (len > size - off)
                len = size - off;
            uint8_t *dg = malloc(len ? len : 1);
            assert_non_null(dg);
            memcpy(dg, buf + off, len);
            if (!(buf[off - 3] & 2))
                neg |= mw_quic_parser_feed(p, &s, d, dg, len) < 0;
            free(dg);
            off += len;
        }
        if (strncmp(de->d_name, "ok_", 3) == 0 && !raw) {
            if (neg || !(s.seen & MW_EXPO_SEEN_SERVER_HELLO))
                fail_msg("seed %s: not accepted", de->d_name);
        } else if (strncmp(de->d_name, "bad_", 4) == 0 && !neg) {
            fail_msg("seed %s: accepted", de->d_name);
        }
        n++;
        mw_quic_parser_free(p);
    }
    closedir(dp);
    assert_true(n >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9001_vectors), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_initial_keys),    cmocka_unit_test(test_flow_v1),
        cmocka_unit_test(test_flow_retry),      cmocka_unit_test(test_flow_v2),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
