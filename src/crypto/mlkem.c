/* ML-KEM-512/768/1024, FIPS 203 (include/mwrasp/pqc.h; docs/internals/crypto.md
 * section "ML-KEM").
 *
 * Polynomials are 256 int16_t coefficients. Arithmetic mod q = 3329 uses
 * Montgomery reduction with R = 2^16 for products and Barrett reduction for
 * sums, both branch-free. The NTT (Algorithms 9, 10) uses a precomputed
 * table of zeta^BitRev7(i) * R mod q, and lazy reduction: the forward NTT
 * lets coefficients grow to < 8q and reduces once at the end; products of a
 * whole vector are accumulated in 32 bits and reduced once per coefficient.
 *
 * Constant time: no branch or table index depends on a secret. The only
 * data-dependent branches are on public data: the rejection sampling of
 * SampleNTT on the public seed rho, the modulus check of the public ek, and
 * the length checks. The re-encryption comparison and the choice between K'
 * and the implicit-rejection key use masks (decaps). */
#include <string.h>

#include "crypto/ct.h"
#include "crypto/dispatch.h"
#include "crypto/mlkem_arith.h"
#include "mwrasp/pqc.h"

typedef struct {
    int16_t c[MLKEM_N];
} poly;

typedef struct {
    unsigned k, eta1, eta2, du, dv;
} params;

/* FIPS 203 Table 2. */
static int get_params(mw_mlkem_param_t p, params *out)
{
    switch (p) {
    case MW_MLKEM512:
        *out = (params){2, 3, 2, 10, 4};
        return 0;
    case MW_MLKEM768:
        *out = (params){3, 2, 2, 10, 4};
        return 0;
    case MW_MLKEM1024:
        *out = (params){4, 2, 2, 11, 5};
        return 0;
    }
    return -1;
}

size_t mw_mlkem_ek_bytes(mw_mlkem_param_t p)
{
    params P;
    return get_params(p, &P) ? 0 : 384 * P.k + 32;
}

size_t mw_mlkem_dk_bytes(mw_mlkem_param_t p)
{
    params P;
    return get_params(p, &P) ? 0 : 768 * P.k + 96;
}

size_t mw_mlkem_ct_bytes(mw_mlkem_param_t p)
{
    params P;
    return get_params(p, &P) ? 0 : 32 * (P.du * P.k + P.dv);
}

const char *mw_mlkem_name(mw_mlkem_param_t p)
{
    switch (p) {
    case MW_MLKEM512:
        return "ML-KEM-512";
    case MW_MLKEM768:
        return "ML-KEM-768";
    case MW_MLKEM1024:
        return "ML-KEM-1024";
    }
    return NULL;
}

int mw_mlkem_param_from_name(const char *name, mw_mlkem_param_t *out)
{
    static const mw_mlkem_param_t all[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};
    if (name == NULL || out == NULL)
        return MW_EINVAL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, mw_mlkem_name(all[i])) == 0) {
            *out = all[i];
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Arithmetic mod q                                                    */
/* ------------------------------------------------------------------ */

/* zeta^BitRev7(i) * 2^16 mod q, centered, i = 0..127, zeta = 17
 * (FIPS 203 section 4.3, Appendix A). */
const int16_t mw_mlkem_zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,   -171,  622,   1577,  182,   962,
    -1202, -1474, 1468,  573,   -1325, 264,   383,   -829,  1458,  -1602, -130,  -681,  1017,
    732,   608,   -1542, 411,   -205,  -1571, 1223,  652,   -552,  1015,  -1293, 1491,  -282,
    -1544, 516,   -8,    -320,  -666,  -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,
    107,   -1421, -247,  -951,  -398,  961,   -1508, -725,  448,   -1065, 677,   -1275, -1103,
    430,   555,   843,   -1251, 871,   1550,  105,   422,   587,   177,   -235,  -291,  -460,
    1574,  1653,  -246,  778,   1159,  -147,  -777,  1483,  -602,  1119,  -1590, 644,   -872,
    349,   418,   329,   -156,  -75,   817,   1097,  603,   610,   1322,  -1285, -1465, 384,
    -1215, -136,  1218,  -1335, -874,  220,   -1187, -1659, -1185, -1530, -1278, 794,   -1510,
    -854,  -870,  478,   -108,  -308,  996,   991,   958,   -1460, 1522,  1628,
};

/* gamma_i = zeta^(2 BitRev7(i) + 1) * 2^16 mod q, centered: the moduli
 * X^2 - gamma_i of BaseCaseMultiply (Algorithm 11, line 2; Appendix A). */
const int16_t mw_mlkem_gammas[128] = {
    -1103, 1103,  430,   -430,  555,   -555,  843,  -843,  -1251, 1251,  871,   -871,  1550,
    -1550, 105,   -105,  422,   -422,  587,   -587, 177,   -177,  -235,  235,   -291,  291,
    -460,  460,   1574,  -1574, 1653,  -1653, -246, 246,   778,   -778,  1159,  -1159, -147,
    147,   -777,  777,   1483,  -1483, -602,  602,  1119,  -1119, -1590, 1590,  644,   -644,
    -872,  872,   349,   -349,  418,   -418,  329,  -329,  -156,  156,   -75,   75,    817,
    -817,  1097,  -1097, 603,   -603,  610,   -610, 1322,  -1322, -1285, 1285,  -1465, 1465,
    384,   -384,  -1215, 1215,  -136,  136,   1218, -1218, -1335, 1335,  -874,  874,   220,
    -220,  -1187, 1187,  -1659, 1659,  -1185, 1185, -1530, 1530,  -1278, 1278,  794,   -794,
    -1510, 1510,  -854,  854,   -870,  870,   478,  -478,  -108,  108,   -308,  308,   996,
    -996,  991,   -991,  958,   -958,  -1460, 1460, 1522,  -1522, 1628,  -1628,
};

/* NTT, FIPS 203 Algorithm 9. Input |f| < q; output in [-(q-1)/2, (q-1)/2].
 * Each layer adds at most q to a coefficient's magnitude (fqmul returns
 * |t| < q), so after 7 layers |f| < 8q < 2^15: one Barrett pass at the end. */
void mw_mlkem_ntt_portable(int16_t c[MLKEM_N])
{
    poly *f = (poly *)c;
    unsigned i = 1;
    for (unsigned len = 128; len >= 2; len >>= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            const int16_t zeta = mw_mlkem_zetas[i++];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = fqmul(zeta, f->c[j + len]);
                f->c[j + len] = (int16_t)(f->c[j] - t);
                f->c[j] = (int16_t)(f->c[j] + t);
            }
        }
    }
    for (unsigned j = 0; j < MLKEM_N; j++)
        f->c[j] = barrett_reduce(f->c[j]);
}

/* NTT^-1, FIPS 203 Algorithm 10, times R = 2^16: the final scaling by
 * INVNTT_F = R^2/128 multiplies by 128^-1 (line 14) and by R, cancelling
 * the R^-1 that basemul_acc leaves. Input |f| < q; output |f| < q. */
void mw_mlkem_invntt_portable(int16_t c[MLKEM_N])
{
    poly *f = (poly *)c;
    unsigned i = 127;
    for (unsigned len = 2; len <= 128; len <<= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            const int16_t zeta = mw_mlkem_zetas[i--];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = f->c[j];
                f->c[j] = barrett_reduce((int16_t)(t + f->c[j + len]));
                f->c[j + len] = fqmul(zeta, (int16_t)(f->c[j + len] - t));
            }
        }
    }
    for (unsigned j = 0; j < MLKEM_N; j++)
        f->c[j] = fqmul(f->c[j], INVNTT_F);
}

/* r = sum_{j<k} a[j] o b[j] (MultiplyNTTs, Algorithm 11, and
 * BaseCaseMultiply, Algorithm 12), times R^-1. Requires |a| < q and
 * |b| <= (q-1)/2. Per coefficient and term the 32-bit sum is at most q^2
 * in magnitude (a1*b1 is reduced first, then times gamma), so for k <= 4
 * the total stays below q * 2^15 and one Montgomery reduction suffices. */
void mw_mlkem_basemul_acc_portable(int16_t rc[MLKEM_N], const int16_t *ac, const int16_t *bc,
                                   unsigned k)
{
    poly *r = (poly *)rc;
    const poly *a = (const poly *)ac, *b = (const poly *)bc;
    for (unsigned i = 0; i < MLKEM_N / 2; i++) {
        int32_t c0 = 0, c1 = 0;
        for (unsigned j = 0; j < k; j++) {
            int32_t a0 = a[j].c[2 * i], a1 = a[j].c[2 * i + 1];
            int32_t b0 = b[j].c[2 * i], b1 = b[j].c[2 * i + 1];
            c0 += a0 * b0 + (int32_t)montgomery_reduce(a1 * b1) * mw_mlkem_gammas[i];
            c1 += a0 * b1 + a1 * b0;
        }
        r->c[2 * i] = montgomery_reduce(c0);
        r->c[2 * i + 1] = montgomery_reduce(c1);
    }
}

/* Coefficient-wise helpers (crypto/dispatch.h), any int16_t inputs whose
 * sum / difference fits in int16_t: r = freeze(a + b), r = freeze(a - b),
 * r = freeze(r), r = fqmul(r, R^2) (= r R mod q, in (-q, q)). */
void mw_mlkem_add_freeze_portable(int16_t r[MLKEM_N], const int16_t a[MLKEM_N],
                                  const int16_t b[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r[i] = freeze((int16_t)(a[i] + b[i]));
}

void mw_mlkem_sub_freeze_portable(int16_t r[MLKEM_N], const int16_t a[MLKEM_N],
                                  const int16_t b[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r[i] = freeze((int16_t)(a[i] - b[i]));
}

void mw_mlkem_freeze_portable(int16_t r[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r[i] = freeze(r[i]);
}

void mw_mlkem_tomont_portable(int16_t r[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r[i] = fqmul(r[i], MONT_R2);
}

/* The NTT, NTT^-1 and basemul of the table in use (crypto/dispatch.h): the
 * portable functions above or their AVX2 versions, with the same results. */
static void ntt(poly *f)
{
    mw_crypto_impl()->mlkem_ntt(f->c);
}

static void invntt(poly *f)
{
    mw_crypto_impl()->mlkem_invntt(f->c);
}

static void basemul_acc(poly *r, const poly *a, const poly *b, unsigned k)
{
    mw_crypto_impl()->mlkem_basemul_acc(r->c, a->c, b->c, k);
}

/* ------------------------------------------------------------------ */
/* Encoding, compression (FIPS 203 sections 4.2.1, 4.2.1)              */
/* ------------------------------------------------------------------ */

/* ByteEncode_12 (Algorithm 5) of a polynomial with coefficients in [0, q). */
static void encode12(uint8_t *out, const poly *f)
{
    for (unsigned i = 0; i < MLKEM_N / 2; i++) {
        uint16_t a = (uint16_t)f->c[2 * i], b = (uint16_t)f->c[2 * i + 1];
        out[3 * i] = (uint8_t)a;
        out[3 * i + 1] = (uint8_t)((a >> 8) | (b << 4));
        out[3 * i + 2] = (uint8_t)(b >> 4);
    }
}

/* ByteDecode_12 (Algorithm 6): integers mod q, so a 12-bit value >= q is
 * reduced (one masked subtraction: 4095 < 2q). Constant time. */
static void decode12(poly *f, const uint8_t *in)
{
    for (unsigned i = 0; i < MLKEM_N / 2; i++) {
        int16_t a = (int16_t)(in[3 * i] | ((in[3 * i + 1] & 0x0f) << 8));
        int16_t b = (int16_t)((in[3 * i + 1] >> 4) | (in[3 * i + 2] << 4));
        a = (int16_t)(a - MLKEM_Q);
        a = (int16_t)(a + ((a >> 15) & MLKEM_Q));
        b = (int16_t)(b - MLKEM_Q);
        b = (int16_t)(b + ((b >> 15) & MLKEM_Q));
        f->c[2 * i] = a;
        f->c[2 * i + 1] = b;
    }
}

/* ByteEncode_d(Compress_d(f)) for d in {1, 4, 5, 10, 11} (Algorithm 5),
 * f in [0, q); out gets 32 d bytes. Bits are packed little-endian. */
static void compress_encode(uint8_t *out, const poly *f, unsigned d)
{
    uint64_t acc = 0;
    unsigned bits = 0, o = 0;
    for (unsigned i = 0; i < MLKEM_N; i++) {
        acc |= (uint64_t)compress(f->c[i], d) << bits;
        bits += d;
        while (bits >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

/* Decompress_d(ByteDecode_d(in)) (Algorithm 6): in holds 32 d bytes. */
static void decode_decompress(poly *f, const uint8_t *in, unsigned d)
{
    uint64_t acc = 0;
    unsigned bits = 0, o = 0;
    const uint32_t mask = (1u << d) - 1;
    for (unsigned i = 0; i < MLKEM_N; i++) {
        while (bits < d) {
            acc |= (uint64_t)in[o++] << bits;
            bits += 8;
        }
        f->c[i] = decompress((uint16_t)(acc & mask), d);
        acc >>= d;
        bits -= d;
    }
}

/* Decompress_1(ByteDecode_1(m)): bit i of m -> 0 or (q+1)/2, by a mask. */
static void poly_from_msg(poly *f, const uint8_t m[32])
{
    for (unsigned i = 0; i < MLKEM_N; i++) {
        int16_t bit = (int16_t)((m[i / 8] >> (i % 8)) & 1);
        f->c[i] = (int16_t)(-bit & ((MLKEM_Q + 1) / 2));
    }
}

/* ByteEncode_1(Compress_1(f)), f in [0, q). */
static void poly_to_msg(uint8_t m[32], const poly *f)
{
    memset(m, 0, 32);
    for (unsigned i = 0; i < MLKEM_N; i++)
        m[i / 8] |= (uint8_t)(compress(f->c[i], 1) << (i % 8));
}

/* ------------------------------------------------------------------ */
/* Sampling (FIPS 203 section 4.2.2)                                   */
/* ------------------------------------------------------------------ */

/* Lines 5-16 of SampleNTT (Algorithm 7): rejection sampling of the XOF
 * bytes buf[0..len) (len a multiple of 3) into a->c[j..]; returns the new
 * count j. The branches depend only on the public seed rho. */
unsigned mw_mlkem_rej_uniform_portable(int16_t a[MLKEM_N], unsigned j, const uint8_t *buf,
                                       size_t len)
{
    for (size_t pos = 0; pos + 3 <= len && j < MLKEM_N; pos += 3) {
        uint16_t d1 = (uint16_t)(buf[pos] | ((buf[pos + 1] & 0x0f) << 8));
        uint16_t d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
        if (d1 < MLKEM_Q)
            a[j++] = (int16_t)d1;
        if (d2 < MLKEM_Q && j < MLKEM_N)
            a[j++] = (int16_t)d2;
    }
    return j;
}

static unsigned rej_uniform(poly *a, unsigned j, const uint8_t *buf, size_t len)
{
    return mw_crypto_impl()->mlkem_rej_uniform(a->c, j, buf, len);
}

/* SampleNTT(rho || x[e] || y[e]) (Algorithm 7, XOF = SHAKE128) into a[e]
 * for e < n <= 4: the four sponges run side by side (crypto/dispatch.h);
 * unused lanes hash a copy of entry 0 and are ignored. */
static void sample_ntt_x4(poly *const a[4], const uint8_t rho[32], const uint8_t x[4],
                          const uint8_t y[4], unsigned n)
{
    uint8_t seed[4][34];
    uint8_t buf[4][3 * 168]; /* 168 = 56 * 3: no bytes left over */
    mw_keccakx4_t xof;
    unsigned cnt[4] = {MLKEM_N, MLKEM_N, MLKEM_N, MLKEM_N};
    for (unsigned e = 0; e < 4; e++) {
        memcpy(seed[e], rho, 32);
        seed[e][32] = x[e < n ? e : 0];
        seed[e][33] = y[e < n ? e : 0];
    }
    const uint8_t *const in[4] = {seed[0], seed[1], seed[2], seed[3]};
    uint8_t *const out[4] = {buf[0], buf[1], buf[2], buf[3]};
    mw_shakex4_absorb_once(&xof, 168, in, sizeof seed[0]);
    mw_shakex4_squeezeblocks(&xof, 168, out, 3);
    for (unsigned e = 0; e < n; e++)
        cnt[e] = rej_uniform(a[e], 0, buf[e], sizeof buf[e]);
    while (cnt[0] < MLKEM_N || cnt[1] < MLKEM_N || cnt[2] < MLKEM_N || cnt[3] < MLKEM_N) {
        mw_shakex4_squeezeblocks(&xof, 168, out, 1);
        for (unsigned e = 0; e < n; e++)
            cnt[e] = rej_uniform(a[e], cnt[e], buf[e], 168);
    }
}

/* The k x k matrix A^ of ExpandA-style sampling, row-major in A[k * i + j]:
 * A^[i,j] = SampleNTT(rho || j || i) (K-PKE.KeyGen, Algorithm 13 line 6),
 * or its transpose SampleNTT(rho || i || j) when transposed (K-PKE.Encrypt,
 * Algorithm 14 line 6), four entries at a time. */
static void gen_matrix(poly *A, const uint8_t rho[32], unsigned k, int transposed)
{
    for (unsigned e0 = 0; e0 < k * k; e0 += 4) {
        poly *a[4];
        uint8_t x[4], y[4];
        unsigned n = 0;
        for (unsigned e = e0; e < e0 + 4 && e < k * k; e++, n++) {
            const uint8_t i = (uint8_t)(e / k), j = (uint8_t)(e % k);
            a[n] = &A[e];
            x[n] = transposed ? i : j;
            y[n] = transposed ? j : i;
        }
        for (unsigned e = n; e < 4; e++) /* unused lanes repeat lane 0 (n >= 1: e0 < k * k) */
            a[e] = &A[e0];
        sample_ntt_x4(a, rho, x, y, n);
    }
}

/* SamplePolyCBD_eta (Algorithm 8) of the 64 eta bytes buf. Coefficients in
 * [-eta, eta]; no branch on the secret bits: each coefficient is a
 * difference of two bit counts. */
void mw_mlkem_cbd_portable(int16_t c[MLKEM_N], const uint8_t *buf, unsigned eta)
{
    poly *f = (poly *)c;
    if (eta == 2) {
        for (unsigned i = 0; i < MLKEM_N / 8; i++) {
            uint32_t t = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 |
                         (uint32_t)buf[4 * i + 2] << 16 | (uint32_t)buf[4 * i + 3] << 24;
            /* 2-bit field at 2m = bit 2m + bit 2m+1 */
            uint32_t d = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
            for (unsigned j = 0; j < 8; j++) {
                int16_t x = (int16_t)((d >> (4 * j)) & 3);
                int16_t y = (int16_t)((d >> (4 * j + 2)) & 3);
                f->c[8 * i + j] = (int16_t)(x - y);
            }
        }
    } else { /* eta == 3 */
        for (unsigned i = 0; i < MLKEM_N / 4; i++) {
            uint32_t t = (uint32_t)buf[3 * i] | (uint32_t)buf[3 * i + 1] << 8 |
                         (uint32_t)buf[3 * i + 2] << 16;
            /* 3-bit field at 3m = bit 3m + bit 3m+1 + bit 3m+2 */
            uint32_t d = (t & 0x249249u) + ((t >> 1) & 0x249249u) + ((t >> 2) & 0x249249u);
            for (unsigned j = 0; j < 4; j++) {
                int16_t x = (int16_t)((d >> (6 * j)) & 7);
                int16_t y = (int16_t)((d >> (6 * j + 3)) & 7);
                f->c[4 * i + j] = (int16_t)(x - y);
            }
        }
    }
}

static void cbd(poly *f, const uint8_t *buf, unsigned eta)
{
    mw_crypto_impl()->mlkem_cbd(f->c, buf, eta);
}

/* f[e] = SamplePolyCBD_eta[e](PRF_eta[e](s, nonce0 + e)) for e < n
 * (Algorithm 8 and section 4.1: PRF = SHAKE256(s || b), 64 eta bytes),
 * four PRF calls at a time. Every eta <= 3: two SHAKE256 blocks (272 bytes)
 * cover the 192 bytes of the longest output, a prefix of the same stream. */
static void sample_noise(poly *const *f, const unsigned *eta, unsigned n, const uint8_t s[32],
                         uint8_t nonce0)
{
    uint8_t in[4][33], buf[4][2 * 136];
    mw_keccakx4_t prf;
    const uint8_t *const inp[4] = {in[0], in[1], in[2], in[3]};
    uint8_t *const out[4] = {buf[0], buf[1], buf[2], buf[3]};
    for (unsigned e0 = 0; e0 < n; e0 += 4) {
        for (unsigned e = 0; e < 4; e++) {
            memcpy(in[e], s, 32);
            in[e][32] = (uint8_t)(nonce0 + e0 + e);
        }
        mw_shakex4_absorb_once(&prf, 136, inp, sizeof in[0]);
        mw_shakex4_squeezeblocks(&prf, 136, out, 2);
        for (unsigned e = 0; e < 4 && e0 + e < n; e++)
            cbd(f[e0 + e], buf[e], eta[e0 + e]);
    }
    explicit_bzero(in, sizeof in);
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(&prf, sizeof prf);
}

/* ------------------------------------------------------------------ */
/* Constant-time helpers                                               */
/* ------------------------------------------------------------------ */

/* A volatile read the compiler cannot see through, so the masks below stay
 * masks and are not turned back into branches. Always 0. */
static volatile uint8_t ct_blocker = 0;

/* 0xff if a and b differ in any of the n bytes, else 0; no early exit. */
static uint8_t ct_differ_mask(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint32_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= (uint32_t)(a[i] ^ b[i]);
    r ^= ct_blocker;
    /* r in [0, 255]: (0 - r) >> 31 is 1 iff r != 0. */
    return (uint8_t)(0u - ((0u - r) >> 31));
}

/* dst = mask ? src : dst, for mask in {0, 0xff}. */
static void ct_cmov(uint8_t *dst, const uint8_t *src, size_t n, uint8_t mask)
{
    mask ^= ct_blocker;
    for (size_t i = 0; i < n; i++)
        dst[i] ^= (uint8_t)(mask & (dst[i] ^ src[i]));
}

/* ------------------------------------------------------------------ */
/* K-PKE (FIPS 203 section 5)                                          */
/* ------------------------------------------------------------------ */

/* K-PKE.KeyGen(d), Algorithm 13: ek_pke = ByteEncode_12(t^) || rho and
 * dk_pke = ByteEncode_12(s^). Writes ek_pke at ek and dk_pke at dk. */
static void kpke_keygen(const params *P, uint8_t *ek, uint8_t *dk, const uint8_t d[32])
{
    uint8_t in[33], rs[64]; /* rho || sigma */
    poly s[MLKEM_MAXK], e[MLKEM_MAXK], A[MLKEM_MAXK * MLKEM_MAXK], t;
    poly *noise[2 * MLKEM_MAXK];
    unsigned eta[2 * MLKEM_MAXK];
    const unsigned k = P->k;
    const mw_crypto_impl_t *impl = mw_crypto_impl();

    memcpy(in, d, 32);
    in[32] = (uint8_t)k; /* line 1: G(d || k) */
    mw_sha3_512(rs, in, sizeof in);
    const uint8_t *rho = rs, *sigma = rs + 32;
    /* rho is published in ek (line 19): SampleNTT may branch on it. */
    MW_CT_DECLASSIFY(rs, 32);

    gen_matrix(A, rho, k, 0); /* lines 3-7: A[i,j] = SampleNTT(rho||j||i) */
    for (unsigned i = 0; i < k; i++) { /* lines 8-15: s with N = 0..k-1, e with k..2k-1 */
        noise[i] = &s[i];
        noise[k + i] = &e[i];
        eta[i] = eta[k + i] = P->eta1;
    }
    sample_noise(noise, eta, 2 * k, sigma, 0);
    for (unsigned i = 0; i < k; i++) {
        ntt(&s[i]); /* line 16 */
        ntt(&e[i]); /* line 17 */
    }
    for (unsigned i = 0; i < k; i++) {
        basemul_acc(&t, &A[k * i], s, k); /* line 18: t^ = A^ o s^ + e^ */
        impl->mlkem_tomont(t.c);
        impl->mlkem_add_freeze(t.c, t.c, e[i].c);
        encode12(ek + 384 * i, &t); /* line 19 */
    }
    memcpy(ek + 384 * k, rho, 32);
    for (unsigned i = 0; i < k; i++) { /* line 20 */
        impl->mlkem_freeze(s[i].c);
        encode12(dk + 384 * i, &s[i]);
    }
    explicit_bzero(in, sizeof in);
    explicit_bzero(rs, sizeof rs);
    explicit_bzero(s, sizeof s);
    explicit_bzero(e, sizeof e);
    explicit_bzero(&t, sizeof t);
}

/* K-PKE.Encrypt(ek_pke, m, r), Algorithm 14. ek_pke is decoded mod q (the
 * caller has done the modulus check where FIPS 203 requires it). */
static void kpke_encrypt(const params *P, uint8_t *c, const uint8_t *ek, const uint8_t m[32],
                         const uint8_t r[32])
{
    poly y[MLKEM_MAXK], e1[MLKEM_MAXK], that[MLKEM_MAXK], A[MLKEM_MAXK * MLKEM_MAXK], u, v, e2;
    poly *noise[2 * MLKEM_MAXK + 1];
    unsigned eta[2 * MLKEM_MAXK + 1];
    const unsigned k = P->k;
    const mw_crypto_impl_t *impl = mw_crypto_impl();
    const uint8_t *rho = ek + 384 * k; /* line 3 */

    for (unsigned i = 0; i < k; i++) /* line 2 */
        decode12(&that[i], ek + 384 * i);
    gen_matrix(A, rho, k, 1); /* lines 4-8: A^T[i,j] = A[j,i] = SampleNTT(rho||i||j) */
    for (unsigned i = 0; i < k; i++) { /* lines 9-16: y (N = 0..k-1), e1 (k..2k-1) */
        noise[i] = &y[i];
        noise[k + i] = &e1[i];
        eta[i] = P->eta1;
        eta[k + i] = P->eta2;
    }
    noise[2 * k] = &e2; /* line 17: e2 with N = 2k */
    eta[2 * k] = P->eta2;
    sample_noise(noise, eta, 2 * k + 1, r, 0);
    for (unsigned i = 0; i < k; i++) /* line 18 */
        ntt(&y[i]);
    for (unsigned i = 0; i < k; i++) {
        basemul_acc(&u, &A[k * i], y, k);
        invntt(&u); /* line 19: u = NTT^-1(A^T o y^) + e1 */
        impl->mlkem_add_freeze(u.c, u.c, e1[i].c);
        compress_encode(c + 32 * P->du * i, &u, P->du); /* line 22 */
    }
    basemul_acc(&v, that, y, k);
    invntt(&v); /* lines 20-21: v = NTT^-1(t^T o y^) + e2 + mu */
    poly_from_msg(&u, m);
    impl->mlkem_add_freeze(v.c, v.c, e2.c); /* same residue, same [0, q) value */
    impl->mlkem_add_freeze(v.c, v.c, u.c);
    compress_encode(c + 32 * P->du * k, &v, P->dv); /* line 23 */

    explicit_bzero(y, sizeof y);
    explicit_bzero(e1, sizeof e1);
    explicit_bzero(&u, sizeof u);
    explicit_bzero(&v, sizeof v);
    explicit_bzero(&e2, sizeof e2);
}

/* K-PKE.Decrypt(dk_pke, c), Algorithm 15. */
static void kpke_decrypt(const params *P, uint8_t m[32], const uint8_t *dk, const uint8_t *c)
{
    poly u[MLKEM_MAXK], s[MLKEM_MAXK], v, w;
    const unsigned k = P->k;
    for (unsigned i = 0; i < k; i++) {
        decode_decompress(&u[i], c + 32 * P->du * i, P->du); /* line 3 */
        ntt(&u[i]);
        decode12(&s[i], dk + 384 * i); /* line 5 */
    }
    decode_decompress(&v, c + 32 * P->du * k, P->dv); /* line 4 */
    basemul_acc(&w, s, u, k);
    invntt(&w); /* line 6: w = v' - NTT^-1(s^T o NTT(u')) */
    mw_crypto_impl()->mlkem_sub_freeze(w.c, v.c, w.c);
    poly_to_msg(m, &w); /* line 7 */
    explicit_bzero(s, sizeof s);
    explicit_bzero(&w, sizeof w);
    explicit_bzero(u, sizeof u);
    explicit_bzero(&v, sizeof v);
}

/* ------------------------------------------------------------------ */
/* ML-KEM (FIPS 203 sections 6, 7)                                     */
/* ------------------------------------------------------------------ */

/* Algorithm 16. dk = dk_pke || ek || H(ek) || z. */
int mw_mlkem_keygen_internal(mw_mlkem_param_t p, uint8_t *ek, uint8_t *dk, const uint8_t d[32],
                             const uint8_t z[32])
{
    params P;
    if (get_params(p, &P) || ek == NULL || dk == NULL || d == NULL || z == NULL)
        return MW_EINVAL;
    const size_t ekl = 384 * P.k + 32;
    kpke_keygen(&P, ek, dk, d);
    memcpy(dk + 384 * P.k, ek, ekl);
    mw_sha3_256(dk + 384 * P.k + ekl, ek, ekl);
    memcpy(dk + 384 * P.k + ekl + 32, z, 32);
    return MW_OK;
}

/* Algorithm 19. */
int mw_mlkem_keygen(mw_mlkem_param_t p, uint8_t *ek, uint8_t *dk)
{
    uint8_t dz[64];
    params P;
    if (get_params(p, &P) || ek == NULL || dk == NULL)
        return MW_EINVAL;
    int rc = mw_random_bytes(dz, sizeof dz);
    if (rc == MW_OK)
        rc = mw_mlkem_keygen_internal(p, ek, dk, dz, dz + 32);
    if (rc != MW_OK) {
        memset(ek, 0, mw_mlkem_ek_bytes(p));
        explicit_bzero(dk, mw_mlkem_dk_bytes(p));
    }
    explicit_bzero(dz, sizeof dz);
    return rc;
}

/* Section 7.2, encapsulation key check: length, then the modulus check
 * ByteEncode_12(ByteDecode_12(t)) == t, i.e. every 12-bit value < q. ek is
 * public, so this may branch. */
int mw_mlkem_check_ek(mw_mlkem_param_t p, const uint8_t *ek, size_t ek_len)
{
    params P;
    if (get_params(p, &P) || ek == NULL || ek_len != 384 * P.k + 32)
        return MW_EINVAL;
    unsigned bad = 0;
    for (size_t i = 0; i < 128 * P.k; i++) {
        unsigned a = ek[3 * i] | ((ek[3 * i + 1] & 0x0fu) << 8);
        unsigned b = (ek[3 * i + 1] >> 4) | ((unsigned)ek[3 * i + 2] << 4);
        bad |= (a >= MLKEM_Q) | (b >= MLKEM_Q);
    }
    return bad ? MW_EINVAL : MW_OK;
}

/* Section 7.3, decapsulation key check: length, then the hash check
 * H(dk[384k : 768k+32]) == dk[768k+32 : 768k+64], compared in constant
 * time (dk is secret). */
int mw_mlkem_check_dk(mw_mlkem_param_t p, const uint8_t *dk, size_t dk_len)
{
    params P;
    uint8_t h[32];
    if (get_params(p, &P) || dk == NULL || dk_len != 768 * P.k + 96)
        return MW_EINVAL;
    mw_sha3_256(h, dk + 384 * P.k, 384 * P.k + 32);
    uint8_t differ = ct_differ_mask(h, dk + 768 * P.k + 32, 32);
    /* Whether the key passes the check is public (the caller is told). */
    MW_CT_DECLASSIFY(&differ, sizeof differ);
    explicit_bzero(h, sizeof h);
    return differ ? MW_EINVAL : MW_OK;
}

/* Algorithm 17 after the section 7.2 check: (K, r) = G(m || H(ek)),
 * c = K-PKE.Encrypt(ek, m, r). */
int mw_mlkem_encaps_internal(mw_mlkem_param_t p, uint8_t ss[32], uint8_t *ct, const uint8_t *ek,
                             size_t ek_len, const uint8_t m[32])
{
    params P;
    uint8_t in[64], kr[64];
    if (ss != NULL)
        explicit_bzero(ss, 32);
    if (get_params(p, &P) || ss == NULL || ct == NULL || m == NULL)
        return MW_EINVAL;
    if (mw_mlkem_check_ek(p, ek, ek_len) != MW_OK) {
        memset(ct, 0, mw_mlkem_ct_bytes(p));
        return MW_EINVAL;
    }
    memcpy(in, m, 32);
    mw_sha3_256(in + 32, ek, ek_len);
    mw_sha3_512(kr, in, sizeof in);
    kpke_encrypt(&P, ct, ek, m, kr + 32);
    memcpy(ss, kr, 32);
    explicit_bzero(in, sizeof in);
    explicit_bzero(kr, sizeof kr);
    return MW_OK;
}

/* Algorithm 20. */
int mw_mlkem_encaps(mw_mlkem_param_t p, uint8_t ss[32], uint8_t *ct, const uint8_t *ek,
                    size_t ek_len)
{
    uint8_t m[32];
    params P;
    if (get_params(p, &P) || ss == NULL || ct == NULL) {
        if (ss != NULL)
            explicit_bzero(ss, 32);
        return MW_EINVAL;
    }
    int rc = mw_random_bytes(m, sizeof m);
    if (rc == MW_OK)
        rc = mw_mlkem_encaps_internal(p, ss, ct, ek, ek_len, m);
    if (rc != MW_OK) {
        explicit_bzero(ss, 32);
        memset(ct, 0, mw_mlkem_ct_bytes(p));
    }
    explicit_bzero(m, sizeof m);
    return rc;
}

/* Algorithm 21 = checks of section 7.3 + Decaps_internal (Algorithm 18). */
int mw_mlkem_decaps(mw_mlkem_param_t p, uint8_t ss[32], const uint8_t *ct, size_t ct_len,
                    const uint8_t *dk, size_t dk_len)
{
    params P;
    uint8_t m[32], in[64], kr[64], kbar[32];
    uint8_t cprime[MW_MLKEM_MAX_CT_BYTES];
    mw_keccak_t j;
    if (ss != NULL)
        explicit_bzero(ss, 32);
    if (get_params(p, &P) || ss == NULL || ct == NULL || ct_len != mw_mlkem_ct_bytes(p))
        return MW_EINVAL;
    if (mw_mlkem_check_dk(p, dk, dk_len) != MW_OK)
        return MW_EINVAL;
    const unsigned k = P.k;
    const uint8_t *dk_pke = dk, *ek_pke = dk + 384 * k; /* lines 1-4 */
    const uint8_t *h = dk + 768 * k + 32, *z = dk + 768 * k + 64;

    kpke_decrypt(&P, m, dk_pke, ct); /* line 5 */
    memcpy(in, m, 32);
    memcpy(in + 32, h, 32);
    mw_sha3_512(kr, in, sizeof in); /* line 6: (K', r') = G(m' || h) */
    mw_shake256_init(&j); /* line 7: K_bar = J(z || c) */
    mw_keccak_absorb(&j, z, 32);
    mw_keccak_absorb(&j, ct, ct_len);
    mw_keccak_squeeze(&j, kbar, 32);
    kpke_encrypt(&P, cprime, ek_pke, m, kr + 32); /* line 8 */
    /* lines 9-11: if c != c' then K' = K_bar, without a branch */
    uint8_t differ = ct_differ_mask(ct, cprime, ct_len);
    ct_cmov(kr, kbar, 32, differ);
    memcpy(ss, kr, 32);

    explicit_bzero(m, sizeof m);
    explicit_bzero(in, sizeof in);
    explicit_bzero(kr, sizeof kr);
    explicit_bzero(kbar, sizeof kbar);
    explicit_bzero(cprime, sizeof cprime);
    mw_keccak_wipe(&j);
    return MW_OK;
}
