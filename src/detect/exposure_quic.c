/* QUIC Initial packets for the exposure scanner (include/mwrasp/exposure.h,
 * section 2; docs/internals/exposure.md, "QUIC").
 *
 * RFC 9000 17.2 long headers (coalesced packets, 12.2), RFC 9001 5 Initial
 * protection (initial secrets from the client's first Destination
 * Connection ID, header protection with AES-128-ECB, AEAD_AES_128_GCM),
 * RFC 9369 for QUIC version 2 (its salt, labels and packet types), the
 * Initial frames of RFC 9000 19 (PADDING, PING, ACK, CRYPTO,
 * CONNECTION_CLOSE), CRYPTO reassembly by offset (capped at
 * MW_QUIC_MAX_CRYPTO), Retry (RFC 9000 17.2.5: the client's next Initial
 * uses the Retry's Source Connection ID as Destination, and the keys are
 * derived again from it, RFC 9001 5.2). The ClientHello and ServerHello go
 * through the TLS handshake-message parser. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "detect/exposure_tls_internal.h"
#include "mwrasp/exposure.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu /* RFC 9369 3.1 */
#define QUIC_MAX_CID 20 /* RFC 9000 17.2 */
#define QUIC_MAX_DGRAM 65535

/* RFC 9001 5.2 */
static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
/* RFC 9369 3.3.1 */
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
/* draft-ietf-quic-tls-29 to -32 (versions 0xff00001d..0xff000020) */
static const uint8_t salt_d29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                     0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};

struct quic_keys {
    int valid;
    uint32_t version;
    uint8_t key[16], iv[12], hp[16];
};

struct crypto_stream {
    uint8_t *buf; /* grown to the highest offset seen, at most MW_QUIC_MAX_CRYPTO */
    uint8_t *have; /* one bit per byte of buf */
    size_t cap; /* bytes of buf (a multiple of 8) */
    size_t delivered; /* bytes handed to the TLS parser */
};

struct mw_quic_parser {
    mw_tls_parser_t *tls;
    uint8_t dcid[QUIC_MAX_CID]; /* the client's DCID the keys come from */
    uint8_t dcid_len;
    int have_dcid;
    uint8_t retry_scid[QUIC_MAX_CID];
    uint8_t retry_scid_len;
    int retry_pending; /* a Retry was seen, the client has not used its SCID yet */
    struct quic_keys keys[2]; /* per direction, for keys[d].version */
    struct crypto_stream cs[2];
    uint64_t largest_pn[2];
    int have_pn[2];
    int done[2];
    int seen_initial;
    uint64_t malformed;
    uint8_t *scratch; /* header copy and plaintext of one packet, grown as needed */
    size_t scratch_cap;
    EVP_CIPHER_CTX *ctx;
};

static const uint8_t *version_salt(uint32_t v)
{
    if (v == QUIC_V1)
        return salt_v1;
    if (v == QUIC_V2)
        return salt_v2;
    if (v >= 0xff00001du && v <= 0xff000020u)
        return salt_d29;
    return NULL;
}

/* Packet type bits of a long header: RFC 9000 17.2 (v1) and RFC 9369 3.2 (v2). */
enum { PT_INITIAL, PT_0RTT, PT_HANDSHAKE, PT_RETRY };

static int packet_type(uint32_t version, uint8_t b0)
{
    int t = (b0 >> 4) & 3;
    if (version != QUIC_V2)
        return t;
    static const int v2[4] = {PT_RETRY, PT_INITIAL, PT_0RTT, PT_HANDSHAKE};
    return v2[t];
}

/* RFC 9000 16: variable-length integer. */
static int varint(const uint8_t *b, size_t n, size_t *off, uint64_t *v)
{
    if (*off >= n)
        return 0;
    size_t len = (size_t)1 << (b[*off] >> 6);
    if (n - *off < len)
        return 0;
    uint64_t x = b[*off] & 0x3f;
    for (size_t i = 1; i < len; i++)
        x = x << 8 | b[*off + i];
    *off += len;
    *v = x;
    return 1;
}

/* The algorithms, fetched once per process (an implicit fetch at every
 * EVP_*Init costs more than a packet's AES); kept until exit. */
static EVP_MD *alg_sha256;
static EVP_CIPHER *alg_gcm, *alg_ecb;
static pthread_once_t alg_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
    alg_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    alg_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    alg_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

static int algs_ready(void)
{
    pthread_once(&alg_once, algs_fetch);
    return alg_sha256 && alg_gcm && alg_ecb;
}

/* ---------------------------------------------------------------- */
/* Keys (RFC 9001 5.1-5.2, RFC 8446 7.1 HKDF-Expand-Label)            */
/* ---------------------------------------------------------------- */

/* HMAC-SHA256 (RFC 2104, section 2; B = 64, L = 32) over the digest fetched
 * once: EVP_KDF's HKDF fetched SHA-256 by name at every derivation (its
 * "digest" parameter), five times per direction of every QUIC flow. The
 * message is the concatenation of m1 and m2. */
static int hmac_sha256(EVP_MD_CTX *md, const uint8_t *key, size_t keylen, const uint8_t *m1,
                       size_t m1len, const uint8_t *m2, size_t m2len, uint8_t out[32])
{
    uint8_t k[64] = {0}, pad[64], inner[32];
    unsigned len = 0;
    int ok = 1;
    if (keylen > sizeof k) /* a longer key is hashed first */
        ok = EVP_DigestInit_ex2(md, alg_sha256, NULL) == 1 &&
             EVP_DigestUpdate(md, key, keylen) == 1 && EVP_DigestFinal_ex(md, k, &len) == 1;
    else
        memcpy(k, key, keylen);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex2(md, alg_sha256, NULL) == 1 &&
         EVP_DigestUpdate(md, pad, 64) == 1 && EVP_DigestUpdate(md, m1, m1len) == 1 &&
         EVP_DigestUpdate(md, m2, m2len) == 1 && EVP_DigestFinal_ex(md, inner, &len) == 1 &&
         len == 32;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2(md, alg_sha256, NULL) == 1 &&
         EVP_DigestUpdate(md, pad, 64) == 1 && EVP_DigestUpdate(md, inner, 32) == 1 &&
         EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32;
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok;
}

/* RFC 5869 2.2: PRK = HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). */
static int hkdf_extract(EVP_MD_CTX *md, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                        size_t ikmlen, uint8_t prk[32])
{
    return hmac_sha256(md, salt, saltlen, ikm, ikmlen, NULL, 0, prk);
}

/* RFC 5869 2.3 for L <= HashLen: OKM = first L octets of
 * T(1) = HMAC-Hash(PRK, info | 0x01). */
static int hkdf_expand(EVP_MD_CTX *md, const uint8_t *prk, const uint8_t *info, size_t infolen,
                       uint8_t *out, size_t outlen)
{
    static const uint8_t one = 0x01;
    uint8_t t[32];
    if (outlen > sizeof t || !hmac_sha256(md, prk, 32, info, infolen, &one, 1, t))
        return 0;
    memcpy(out, t, outlen);
    OPENSSL_cleanse(t, sizeof t);
    return 1;
}

/* HKDF-Expand-Label(secret, label, "", outlen) (RFC 8446 7.1). */
static int expand_label(EVP_MD_CTX *md, const uint8_t *secret, const char *label, uint8_t *out,
                        size_t outlen)
{
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = 6 + strlen(label), n = 0;
    if (ll > 255)
        return 0;
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll - 6);
    n += ll;
    info[n++] = 0; /* empty context */
    return hkdf_expand(md, secret, info, n, out, outlen);
}

static int derive_keys(mw_quic_parser_t *p, int dir, uint32_t version)
{
    struct quic_keys *k = &p->keys[dir];
    if (k->valid && k->version == version)
        return 1;
    const uint8_t *salt = version_salt(version);
    uint8_t initial[32], secret[32];
    int v2 = version == QUIC_V2;
    k->valid = 0;
    if (!salt || !p->have_dcid || !algs_ready())
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id) */
    int ok = md && hkdf_extract(md, salt, 20, p->dcid, p->dcid_len, initial) &&
             expand_label(md, initial, dir == 0 ? "client in" : "server in", secret, 32) &&
             expand_label(md, secret, v2 ? "quicv2 key" : "quic key", k->key, 16) &&
             expand_label(md, secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) &&
             expand_label(md, secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
    EVP_MD_CTX_free(md);
    OPENSSL_cleanse(initial, sizeof initial);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!ok) {
        ERR_clear_error();
        return 0;
    }
    k->valid = 1;
    k->version = version;
    return 1;
}

/* RFC 9001 5.4.3: AES-based header protection mask. */
static int hp_mask(mw_quic_parser_t *p, const uint8_t *hp, const uint8_t *sample, uint8_t *mask)
{
    int outl = 0;
    return EVP_EncryptInit_ex(p->ctx, alg_ecb, NULL, hp, NULL) == 1 &&
           EVP_CIPHER_CTX_set_padding(p->ctx, 0) == 1 &&
           EVP_EncryptUpdate(p->ctx, mask, &outl, sample, 16) == 1 && outl == 16;
}

/* RFC 9001 5.3: AEAD_AES_128_GCM open; out receives clen - 16 bytes. */
static int aead_open(mw_quic_parser_t *p, const struct quic_keys *k, uint64_t pn,
                     const uint8_t *aad, size_t aadlen, const uint8_t *c, size_t clen, uint8_t *out)
{
    uint8_t nonce[12];
    int outl = 0, fin = 0;
    if (clen < 16 || aadlen > 0x7fffffff || clen > 0x7fffffff)
        return 0;
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    size_t plen = clen - 16;
    int ok = EVP_DecryptInit_ex(p->ctx, alg_gcm, NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(p->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
             EVP_DecryptInit_ex(p->ctx, NULL, NULL, k->key, nonce) == 1 &&
             EVP_DecryptUpdate(p->ctx, NULL, &outl, aad, (int)aadlen) == 1 &&
             EVP_DecryptUpdate(p->ctx, out, &outl, c, (int)plen) == 1 &&
             EVP_CIPHER_CTX_ctrl(p->ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(c + plen)) == 1 &&
             EVP_DecryptFinal_ex(p->ctx, out + outl, &fin) == 1;
    if (!ok)
        ERR_clear_error();
    return ok;
}

/* RFC 9000 A.3: full packet number from the truncated one. */
static uint64_t decode_pn(uint64_t largest, int have, uint64_t truncated, int nbits)
{
    uint64_t expected = have ? largest + 1 : 0;
    uint64_t win = (uint64_t)1 << nbits, hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | truncated;
    if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win)
        return cand + win;
    if (cand > expected + hwin && cand >= win)
        return cand - win;
    return cand;
}

/* ---------------------------------------------------------------- */
/* CRYPTO stream and frames                                           */
/* ---------------------------------------------------------------- */

static void crypto_data(mw_quic_parser_t *p, mw_expo_session_t *s, int dir, uint64_t off,
                        const uint8_t *b, size_t n)
{
    struct crypto_stream *c = &p->cs[dir];
    if (off >= MW_QUIC_MAX_CRYPTO || n == 0) {
        if (n)
            p->malformed++;
        return;
    }
    if (n > MW_QUIC_MAX_CRYPTO - off) {
        p->malformed++; /* past the cap: dropped */
        n = MW_QUIC_MAX_CRYPTO - (size_t)off;
    }
    if ((size_t)off + n > c->cap) { /* grow by doubling, up to the cap */
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < (size_t)off + n)
            cap *= 2;
        if (cap > MW_QUIC_MAX_CRYPTO)
            cap = MW_QUIC_MAX_CRYPTO;
        uint8_t *nb = realloc(c->buf, cap);
        if (nb)
            c->buf = nb;
        uint8_t *nh = nb ? realloc(c->have, cap / 8) : NULL;
        if (!nh) {
            p->malformed++;
            return;
        }
        memset(nh + c->cap / 8, 0, (cap - c->cap) / 8);
        c->have = nh;
        c->cap = cap;
    }
    memcpy(c->buf + off, b, n);
    size_t i = (size_t)off, end = (size_t)off + n;
    for (; i < end && (i & 7); i++)
        c->have[i >> 3] |= (uint8_t)(1u << (i & 7));
    if (end - i >= 8) { /* whole bytes of the bitmap */
        memset(c->have + (i >> 3), 0xff, (end - i) >> 3);
        i += (end - i) & ~(size_t)7;
    }
    for (; i < end; i++)
        c->have[i >> 3] |= (uint8_t)(1u << (i & 7));
    size_t from = c->delivered;
    while (c->delivered < c->cap) {
        if (!(c->delivered & 7) && c->have[c->delivered >> 3] == 0xff) {
            c->delivered += 8;
            continue;
        }
        if (!((c->have[c->delivered >> 3] >> (c->delivered & 7)) & 1))
            break;
        c->delivered++;
    }
    if (c->delivered > from && !p->done[dir] &&
        mw_tls_parser_feed_handshake(p->tls, s, dir, c->buf + from, c->delivered - from) == 1)
        p->done[dir] = 1;
}

/* Frames of an Initial packet (RFC 9000 17.2.2: only PADDING, PING, ACK,
 * CRYPTO and CONNECTION_CLOSE of type 0x1c are allowed there). */
static void frames(mw_quic_parser_t *p, mw_expo_session_t *s, int dir, const uint8_t *b, size_t n)
{
    size_t off = 0;
    uint64_t type, a, c, l;
    while (off < n) {
        if (b[off] == 0) { /* PADDING, usually hundreds of bytes: skip the run */
            while (off < n && b[off] == 0)
                off++;
            continue;
        }
        if (!varint(b, n, &off, &type))
            goto bad;
        switch (type) {
        case 0x00: /* PADDING (19.1) */
        case 0x01: /* PING (19.2) */
            break;
        case 0x02:
        case 0x03: /* ACK (19.3): largest, delay, range count, first range, ranges */
            if (!varint(b, n, &off, &a) || !varint(b, n, &off, &a) || !varint(b, n, &off, &c) ||
                !varint(b, n, &off, &a))
                goto bad;
            for (uint64_t i = 0; i < c; i++)
                if (!varint(b, n, &off, &a) || !varint(b, n, &off, &a))
                    goto bad;
            if (type == 0x03) /* ECN counts (19.3.2) */
                for (int i = 0; i < 3; i++)
                    if (!varint(b, n, &off, &a))
                        goto bad;
            break;
        case 0x06: /* CRYPTO (19.6): offset, length, data */
            if (!varint(b, n, &off, &a) || !varint(b, n, &off, &l) || l > n - off)
                goto bad;
            crypto_data(p, s, dir, a, b + off, (size_t)l);
            off += (size_t)l;
            break;
        case 0x1c:
        case 0x1d: /* CONNECTION_CLOSE (19.19) */
            if (!varint(b, n, &off, &a) || (type == 0x1c && !varint(b, n, &off, &a)) ||
                !varint(b, n, &off, &l) || l > n - off)
                goto bad;
            off += (size_t)l;
            break;
        default:
            goto bad;
        }
    }
    return;
bad:
    p->malformed++;
}

/* ---------------------------------------------------------------- */
/* Packets                                                            */
/* ---------------------------------------------------------------- */

/* One Initial packet: b[0..end) with the packet number at pn_off. */
static void initial_packet(mw_quic_parser_t *p, mw_expo_session_t *s, int dir, uint32_t version,
                           const uint8_t *b, size_t pn_off, size_t end)
{
    uint8_t mask[16];
    const struct quic_keys *k = &p->keys[dir];
    /* RFC 9001 5.4.2: the sample starts 4 bytes after the packet number */
    if (end < pn_off + 4 + 16 || !derive_keys(p, dir, version) ||
        !hp_mask(p, k->hp, b + pn_off + 4, mask)) {
        p->malformed++;
        return;
    }
    if (p->scratch_cap < end) {
        uint8_t *ns = realloc(p->scratch, end);
        if (!ns) {
            p->malformed++;
            return;
        }
        p->scratch = ns;
        p->scratch_cap = end;
    }
    uint8_t *hdr = p->scratch;
    memcpy(hdr, b, pn_off + 4);
    hdr[0] ^= mask[0] & 0x0f; /* long header: 4 bits */
    size_t pnlen = (size_t)(hdr[0] & 3) + 1;
    uint64_t tpn = 0;
    for (size_t i = 0; i < pnlen; i++) {
        hdr[pn_off + i] ^= mask[1 + i];
        tpn = tpn << 8 | hdr[pn_off + i];
    }
    size_t hlen = pn_off + pnlen;
    uint64_t pn = decode_pn(p->largest_pn[dir], p->have_pn[dir], tpn, (int)(8 * pnlen));
    uint8_t *plain = p->scratch + hlen;
    if (end - hlen < 16 + 1 || !aead_open(p, k, pn, hdr, hlen, b + hlen, end - hlen, plain)) {
        p->malformed++;
        return;
    }
    if (!p->have_pn[dir] || pn > p->largest_pn[dir])
        p->largest_pn[dir] = pn;
    p->have_pn[dir] = 1;
    p->seen_initial = 1;
    frames(p, s, dir, plain, end - hlen - 16);
}

int mw_quic_parser_new(mw_quic_parser_t **out)
{
    if (!out)
        return MW_EINVAL;
    mw_quic_parser_t *p = calloc(1, sizeof *p);
    if (!p)
        return MW_ENOMEM;
    int rc = mw_tls_parser_new(&p->tls);
    if (rc == MW_OK && !(p->ctx = EVP_CIPHER_CTX_new()))
        rc = MW_ENOMEM;
    if (rc != MW_OK) {
        mw_quic_parser_free(p);
        return rc;
    }
    *out = p;
    return MW_OK;
}

void mw_quic_parser_free(mw_quic_parser_t *p)
{
    if (!p)
        return;
    mw_tls_parser_free(p->tls);
    for (int i = 0; i < 2; i++) {
        free(p->cs[i].buf);
        free(p->cs[i].have);
    }
    free(p->scratch);
    EVP_CIPHER_CTX_free(p->ctx);
    OPENSSL_cleanse(p->keys, sizeof p->keys);
    free(p);
}

uint64_t mw_quic_parser_malformed(const mw_quic_parser_t *p)
{
    return p ? p->malformed + mw_tls_parser_malformed(p->tls) : 0;
}

int mw_quic_parser_feed(mw_quic_parser_t *p, mw_expo_session_t *s, int dir, const uint8_t *dg,
                        size_t len)
{
    if (!p || !s || (dir != 0 && dir != 1) || (!dg && len))
        return MW_EINVAL;
    if (len > QUIC_MAX_DGRAM)
        len = QUIC_MAX_DGRAM;
    size_t off = 0;
    while (off < len && !p->done[dir]) {
        const uint8_t *b = dg + off;
        size_t n = len - off, pos = 7;
        /* RFC 9000 17.2: header form 1, fixed bit 1 */
        if ((b[0] & 0xc0) != 0xc0 || n < 7)
            break; /* a short header (or not QUIC): the rest of the datagram */
        uint32_t version = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
        if (version == 0 || !version_salt(version))
            break; /* Version Negotiation (17.2.1) or a version we cannot read */
        uint8_t dcil = b[5];
        if (dcil > QUIC_MAX_CID || n < 6 + (size_t)dcil + 1)
            break;
        const uint8_t *dcid = b + 6;
        uint8_t scil = b[6 + dcil];
        pos = 7 + (size_t)dcil;
        if (scil > QUIC_MAX_CID || n < pos + scil)
            break;
        const uint8_t *scid = b + pos;
        pos += scil;
        int type = packet_type(version, b[0]);
        if (type == PT_RETRY) { /* 17.2.5: takes the rest of the datagram */
            if (dir == 1) {
                memcpy(p->retry_scid, scid, scil);
                p->retry_scid_len = scil;
                p->retry_pending = 1;
            }
            off = len;
            break;
        }
        uint64_t tok = 0, plen;
        if (type == PT_INITIAL && (!varint(b, n, &pos, &tok) || tok > n - pos))
            break;
        pos += (size_t)tok;
        if (!varint(b, n, &pos, &plen) || plen > n - pos)
            break;
        size_t end = pos + (size_t)plen;
        if (type == PT_INITIAL) {
            if (dir == 0 && (!p->have_dcid || (p->retry_pending && dcil == p->retry_scid_len &&
                                               memcmp(dcid, p->retry_scid, dcil) == 0))) {
                /* RFC 9001 5.2: keys from the client's first DCID, again after a Retry */
                memcpy(p->dcid, dcid, dcil);
                p->dcid_len = dcil;
                p->have_dcid = 1;
                p->retry_pending = 0;
                p->keys[0].valid = p->keys[1].valid = 0;
            }
            if (p->have_dcid)
                initial_packet(p, s, dir, version, b, pos, end);
            else
                p->malformed++; /* a server Initial before any client Initial */
        }
        off += end;
    }
    if (off == 0 && !p->seen_initial && !p->have_dcid) {
        snprintf(s->reason, sizeof s->reason, "quic: not a QUIC long-header packet");
        return MW_EINVAL;
    }
    if (s->seen & (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO))
        s->proto = MW_EXPO_QUIC;
    if (dir == 0 && mw_tls_parser_server_hello_done(p->tls) &&
        (s->seen & MW_EXPO_SEEN_CLIENT_HELLO))
        p->done[0] = 1;
    if (p->done[dir] && p->cs[dir].buf) { /* nothing more to reassemble here */
        free(p->cs[dir].buf);
        free(p->cs[dir].have);
        memset(&p->cs[dir], 0, sizeof p->cs[dir]);
    }
    if (p->done[0] && p->done[1] && p->scratch) {
        free(p->scratch);
        p->scratch = NULL;
        p->scratch_cap = 0;
    }
    return p->done[dir] ? 1 : 0;
}
