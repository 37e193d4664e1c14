/* ML-DSA-44/65/87, FIPS 204 (include/mwrasp/pqc.h, docs/internals/crypto.md).
 *
 * Polynomials are int32_t[256] over Z_q, q = 8380417. Multiplication goes
 * through the NTT of FIPS 204 Algorithms 41/42 with Montgomery arithmetic
 * (R = 2^32): the zetas are stored as zeta^brv8(m) * R mod q, so that a
 * Montgomery reduction of zeta_mont * a gives zeta * a mod q.
 *
 * Constant time: nothing below branches on or indexes memory with secret data,
 * except the spots marked "CT:" which branch on values that are public or are
 * revealed by design (the rejection decision of the signing loop, the
 * acceptance of a rejection-sampling candidate, which carries no information on
 * the accepted ones). Those values are declassified with MW_CT_DECLASSIFY
 * (crypto/ct.h) for valgrind's memcheck (tests/integration/test_crypto_ct.sh). */
#include <string.h>

#include "mwrasp/pqc.h"
#include "crypto/ct.h"
#include "crypto/dispatch.h"
#include "crypto/mldsa_internal.h"

#define N 256
#define Q 8380417
#define QINV 58728449 /* q^-1 mod 2^32 */
#define D 13
#define MAXK 8
#define MAXL 7
#define CRH 64 /* tr, mu, rho' */
#define MAX_CTILDE 64
#define MAX_ATTEMPT_KAPPA 65535 /* kappa is encoded on 2 bytes (Algorithm 34) */

typedef struct poly {
    int32_t c[N];
} poly;

/* FIPS 204 Table 1 and Table 2. */
typedef struct params {
    mw_mldsa_param_t id;
    const char *name;
    unsigned k, l, eta, tau, beta, omega;
    unsigned ctilde; /* lambda / 4 bytes */
    unsigned gamma1_bits; /* gamma1 = 2^gamma1_bits */
    int32_t gamma2;
    unsigned eta_bits; /* bitlen(2 eta) */
    unsigned w1_bits; /* bitlen((q-1)/(2 gamma2) - 1) */
    size_t pk, sk, sig;
} params;

static const params PARAMS[3] = {
    {MW_MLDSA44, "ML-DSA-44", 4, 4, 2, 39, 78, 80, 32, 17, (Q - 1) / 88, 3, 6, MW_MLDSA44_PK_BYTES,
     MW_MLDSA44_SK_BYTES, MW_MLDSA44_SIG_BYTES},
    {MW_MLDSA65, "ML-DSA-65", 6, 5, 4, 49, 196, 55, 48, 19, (Q - 1) / 32, 4, 4, MW_MLDSA65_PK_BYTES,
     MW_MLDSA65_SK_BYTES, MW_MLDSA65_SIG_BYTES},
    {MW_MLDSA87, "ML-DSA-87", 8, 7, 2, 60, 120, 75, 64, 19, (Q - 1) / 32, 3, 4, MW_MLDSA87_PK_BYTES,
     MW_MLDSA87_SK_BYTES, MW_MLDSA87_SIG_BYTES},
};

static const params *get_params(mw_mldsa_param_t p)
{
    for (size_t i = 0; i < 3; i++)
        if (PARAMS[i].id == p)
            return &PARAMS[i];
    return NULL;
}

/* Encoded sizes, FIPS 204 section 7.2. */
static size_t z_bytes(const params *P)
{
    return 32 * (size_t)(P->gamma1_bits + 1);
}

size_t mw_mldsa_pk_bytes(mw_mldsa_param_t p)
{
    const params *P = get_params(p);
    return P ? P->pk : 0;
}

size_t mw_mldsa_sk_bytes(mw_mldsa_param_t p)
{
    const params *P = get_params(p);
    return P ? P->sk : 0;
}

size_t mw_mldsa_sig_bytes(mw_mldsa_param_t p)
{
    const params *P = get_params(p);
    return P ? P->sig : 0;
}

const char *mw_mldsa_name(mw_mldsa_param_t p)
{
    const params *P = get_params(p);
    return P ? P->name : NULL;
}

int mw_mldsa_param_from_name(const char *name, mw_mldsa_param_t *out)
{
    if (!name || !out)
        return MW_EINVAL;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, PARAMS[i].name) == 0) {
            *out = PARAMS[i].id;
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Modular arithmetic                                                  */
/* ------------------------------------------------------------------ */

/* a * 2^-32 mod q for |a| < 2^31 q; result in (-q, q). */
static inline int32_t mont_reduce(int64_t a)
{
    int32_t t = (int32_t)(uint32_t)((uint64_t)a * QINV);
    return (int32_t)((a - (int64_t)t * Q) >> 32);
}

/* a mod q in [-6283009, 6283007] for a <= 2^31 - 2^22 - 1. */
static inline int32_t reduce32(int32_t a)
{
    int32_t t = (a + (1 << 22)) >> 23;
    return a - t * Q;
}

/* Adds q if a is negative (mask, no branch). */
static inline int32_t caddq(int32_t a)
{
    return a + ((a >> 31) & Q);
}

static inline int32_t freeze(int32_t a)
{
    return caddq(reduce32(a));
}

/* zeta^brv8(m) * 2^32 mod q, centred, m = 0..255 (FIPS 204 Appendix B,
 * Montgomery form). */
const int32_t mw_mldsa_zetas[N] = {
    -4186625, 25847,    -2608894, -518909,  237124,   -777960,  -876248,  466468,   1826347,
    2353451,  -359251,  -2091905, 3119733,  -2884855, 3111497,  2680103,  2725464,  1024112,
    -1079900, 3585928,  -549488,  -1119584, 2619752,  -2108549, -2118186, -3859737, -1399561,
    -3277672, 1757237,  -19422,   4010497,  280005,   2706023,  95776,    3077325,  3530437,
    -1661693, -3592148, -2537516, 3915439,  -3861115, -3043716, 3574422,  -2867647, 3539968,
    -300467,  2348700,  -539299,  -1699267, -1643818, 3505694,  -3821735, 3507263,  -2140649,
    -1600420, 3699596,  811944,   531354,   954230,   3881043,  3900724,  -2556880, 2071892,
    -2797779, -3930395, -1528703, -3677745, -3041255, -1452451, 3475950,  2176455,  -1585221,
    -1257611, 1939314,  -4083598, -1000202, -3190144, -3157330, -3632928, 126922,   3412210,
    -983419,  2147896,  2715295,  -2967645, -3693493, -411027,  -2477047, -671102,  -1228525,
    -22981,   -1308169, -381987,  1349076,  1852771,  -1430430, -3343383, 264944,   508951,
    3097992,  44288,    -1100098, 904516,   3958618,  -3724342, -8578,    1653064,  -3249728,
    2389356,  -210977,  759969,   -1316856, 189548,   -3553272, 3159746,  -1851402, -2409325,
    -177440,  1315589,  1341330,  1285669,  -1584928, -812732,  -1439742, -3019102, -3881060,
    -3628969, 3839961,  2091667,  3407706,  2316500,  3817976,  -3342478, 2244091,  -2446433,
    -3562462, 266997,   2434439,  -1235728, 3513181,  -3520352, -3759364, -1197226, -3193378,
    900702,   1859098,  909542,   819034,   495491,   -1613174, -43260,   -522500,  -655327,
    -3122442, 2031748,  3207046,  -3556995, -525098,  -768622,  -3595838, 342297,   286988,
    -2437823, 4108315,  3437287,  -3342277, 1735879,  203044,   2842341,  2691481,  -2590150,
    1265009,  4055324,  1247620,  2486353,  1595974,  -3767016, 1250494,  2635921,  -3548272,
    -2994039, 1869119,  1903435,  -1050970, -1333058, 1237275,  -3318210, -1430225, -451100,
    1312455,  3306115,  -1962642, -1279661, 1917081,  -2546312, -1374803, 1500165,  777191,
    2235880,  3406031,  -542412,  -2831860, -1671176, -1846953, -2584293, -3724270, 594136,
    -3776993, -2013608, 2432395,  2454455,  -164721,  1957272,  3369112,  185531,   -1207385,
    -3183426, 162844,   1616392,  3014001,  810149,   1652634,  -3694233, -1799107, -3038916,
    3523897,  3866901,  269760,   2213111,  -975884,  1717735,  472078,   -426683,  1723600,
    -1803090, 1910376,  -1667432, -1104333, -260646,  -3833893, -2939036, -2235985, -420899,
    -2286327, 183443,   -976891,  1612842,  -3545687, -554416,  3919660,  -48306,   -1362209,
    3937738,  1400424,  -846154,  1976782,
};

/* NTT, FIPS 204 Algorithm 41 (Cooley-Tukey butterflies, in place). Input
 * |a| < q (or small multiples); each layer adds less than q in absolute value,
 * so the output is bounded by |input| + 8q. */
void mw_mldsa_ntt_portable(int32_t c[N])
{
    poly *a = (poly *)c;
    unsigned m = 0;
    for (unsigned len = 128; len >= 1; len >>= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            int32_t z = mw_mldsa_zetas[++m];
            for (unsigned j = start; j < start + len; j++) {
                int32_t t = mont_reduce((int64_t)z * a->c[j + len]);
                a->c[j + len] = a->c[j] - t;
                a->c[j] = a->c[j] + t;
            }
        }
    }
}

/* Inverse NTT, FIPS 204 Algorithm 42 (Gentleman-Sande), then a
 * multiplication by 2^32 / 256 (f = 41978 = 2^64 / 256 mod q, reduced once):
 * the output is the inverse transform times 2^32, so pointwise Montgomery
 * products come out exact. Input |a| < 2^31 / 256; output |a| < q. */
void mw_mldsa_invntt_portable(int32_t c[N])
{
    poly *a = (poly *)c;
    const int32_t f = 41978;
    unsigned m = N;
    for (unsigned len = 1; len < N; len <<= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            int32_t z = -mw_mldsa_zetas[--m];
            for (unsigned j = start; j < start + len; j++) {
                int32_t t = a->c[j];
                a->c[j] = t + a->c[j + len];
                a->c[j + len] = mont_reduce((int64_t)z * (t - a->c[j + len]));
            }
        }
    }
    for (unsigned j = 0; j < N; j++)
        a->c[j] = mont_reduce((int64_t)f * a->c[j]);
}

/* r = a o b / 2^32 (pointwise Montgomery product, FIPS 204 Algorithm 45). */
void mw_mldsa_pointwise_portable(int32_t r[N], const int32_t a[N], const int32_t b[N])
{
    for (unsigned j = 0; j < N; j++)
        r[j] = mont_reduce((int64_t)a[j] * b[j]);
}

void mw_mldsa_pointwise_acc_portable(int32_t r[N], const int32_t a[N], const int32_t b[N])
{
    for (unsigned j = 0; j < N; j++)
        r[j] += mont_reduce((int64_t)a[j] * b[j]);
}

void mw_mldsa_reduce_portable(int32_t a[N])
{
    for (unsigned j = 0; j < N; j++)
        a[j] = reduce32(a[j]);
}

void mw_mldsa_caddq_portable(int32_t a[N])
{
    for (unsigned j = 0; j < N; j++)
        a[j] = caddq(a[j]);
}

/* The functions above through the table in use (crypto/dispatch.h): the
 * portable ones or their AVX2 versions, with the same results. */
static void poly_ntt(poly *a)
{
    mw_crypto_impl()->mldsa_ntt(a->c);
}

static void poly_invntt_tomont(poly *a)
{
    mw_crypto_impl()->mldsa_invntt(a->c);
}

static void poly_pointwise(poly *r, const poly *a, const poly *b)
{
    mw_crypto_impl()->mldsa_pointwise(r->c, a->c, b->c);
}

static void poly_pointwise_acc(poly *r, const poly *a, const poly *b)
{
    mw_crypto_impl()->mldsa_pointwise_acc(r->c, a->c, b->c);
}

static void poly_reduce(poly *a)
{
    mw_crypto_impl()->mldsa_reduce(a->c);
}

static void poly_caddq(poly *a)
{
    mw_crypto_impl()->mldsa_caddq(a->c);
}

/* 0 if every |a_j| < bound, else -1 (FIPS 204 section 2.3, infinity norm),
 * without a branch on the coefficients. Input reduced by reduce32 and
 * bound <= (q-1)/8, so each residue class has one small representative. */
int32_t mw_mldsa_norm_mask_portable(const int32_t a[N], int32_t bound)
{
    int32_t bad = 0;
    for (unsigned j = 0; j < N; j++) {
        int32_t t = a[j] >> 31;
        t = a[j] - (t & (2 * a[j])); /* |a_j| */
        bad |= (bound - 1 - t) >> 31; /* -1 if |a_j| >= bound */
    }
    return bad;
}

static int32_t poly_norm_mask(const poly *a, int32_t bound)
{
    return mw_crypto_impl()->mldsa_norm_mask(a->c, bound);
}

/* ------------------------------------------------------------------ */
/* Rounding, FIPS 204 section 7.4                                      */
/* ------------------------------------------------------------------ */

/* Power2Round, Algorithm 35, for a in [0, q): a = a1 * 2^d + a0 with
 * -2^(d-1) < a0 <= 2^(d-1). */
static inline void power2round(int32_t a, int32_t *a1, int32_t *a0)
{
    *a1 = (a + (1 << (D - 1)) - 1) >> D;
    *a0 = a - (*a1 << D);
}

/* Decompose, Algorithm 36, for a in [0, q): a = a1 * 2 gamma2 + a0 with
 * a0 in (-gamma2, gamma2], and the special case a - a0 = q - 1 mapped to
 * a1 = 0, a0 - 1. No branch: a1 is a fixed-point approximation of
 * a / (2 gamma2) (exact on [0, q), checked exhaustively by the unit test), the
 * wrap to 0 and the centring of a0 are masks. */
static inline int32_t decompose(int32_t gamma2, int32_t a, int32_t *a0)
{
    int32_t a1 = (a + 127) >> 7;
    if (gamma2 == (Q - 1) / 32) { /* CT: branch on the parameter set only */
        a1 = (a1 * 1025 + (1 << 21)) >> 22;
        a1 &= 15;
    } else {
        a1 = (a1 * 11275 + (1 << 23)) >> 24;
        a1 ^= ((43 - a1) >> 31) & a1;
    }
    int32_t r0 = a - a1 * 2 * gamma2;
    r0 -= (((Q - 1) / 2 - r0) >> 31) & Q;
    *a0 = r0;
    return a1;
}

/* Decompose of 256 coefficients in [0, q): a1[j] = HighBits, a0[j] =
 * LowBits (crypto/dispatch.h). */
void mw_mldsa_decompose_portable(int32_t a1[N], int32_t a0[N], const int32_t a[N], int32_t gamma2)
{
    for (unsigned j = 0; j < N; j++)
        a1[j] = decompose(gamma2, a[j], &a0[j]);
}

/* MakeHint (Algorithm 39) as used by signing: h[j] holds HighBits(r) on
 * input and becomes 1 where HighBits(freeze(r[j] + z[j])) differs from it,
 * else 0 (masks, no branch). */
void mw_mldsa_make_hint_portable(int32_t h[N], const int32_t r[N], const int32_t z[N],
                                 int32_t gamma2)
{
    for (unsigned j = 0; j < N; j++) {
        int32_t lo;
        int32_t hb = decompose(gamma2, freeze(r[j] + z[j]), &lo);
        uint32_t x = (uint32_t)(hb ^ h[j]);
        h[j] = (int32_t)((x | (0u - x)) >> 31);
    }
}

/* UseHint, Algorithm 40 (verification: public data, branches allowed). */
static int32_t use_hint(int32_t gamma2, int32_t a, int32_t hint)
{
    int32_t a0;
    int32_t a1 = decompose(gamma2, a, &a0);
    int32_t m = (Q - 1) / (2 * gamma2);
    if (!hint)
        return a1;
    if (a0 > 0)
        return a1 + 1 == m ? 0 : a1 + 1;
    return a1 == 0 ? m - 1 : a1 - 1;
}

/* UseHint of 256 coefficients in [0, q) with hints h[j] in {0, 1}, in place
 * (crypto/dispatch.h). */
void mw_mldsa_use_hint_portable(int32_t a[N], const int32_t h[N], int32_t gamma2)
{
    for (unsigned j = 0; j < N; j++)
        a[j] = use_hint(gamma2, a[j], h[j]);
}

/* ------------------------------------------------------------------ */
/* Bit packing, FIPS 204 Algorithms 16-19 (little-endian bit order)    */
/* ------------------------------------------------------------------ */

/* Packs 256 values of `bits` bits each (values already in [0, 2^bits)):
 * 32 * bits bytes. The loop structure depends on `bits` only. */
static void pack_bits(uint8_t *out, const uint32_t v[N], unsigned bits)
{
    uint64_t acc = 0;
    unsigned n = 0;
    size_t o = 0;
    for (unsigned i = 0; i < N; i++) {
        acc |= (uint64_t)v[i] << n;
        n += bits;
        while (n >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            n -= 8;
        }
    }
}

/* Reads exactly 32 * bits bytes. */
static void unpack_bits(uint32_t v[N], const uint8_t *in, unsigned bits)
{
    uint64_t acc = 0;
    unsigned n = 0;
    size_t o = 0;
    const uint32_t mask = (1u << bits) - 1;
    for (unsigned i = 0; i < N; i++) {
        while (n < bits) {
            acc |= (uint64_t)in[o++] << n;
            n += 8;
        }
        v[i] = (uint32_t)acc & mask;
        acc >>= bits;
        n -= bits;
    }
}

/* BitPack(w, a, b), Algorithm 17: stores b - w_j (w_j in [-a, b]). */
static void pack_sub(uint8_t *out, const poly *a, int32_t b, unsigned bits)
{
    uint32_t v[N];
    for (unsigned j = 0; j < N; j++)
        v[j] = (uint32_t)(b - a->c[j]);
    pack_bits(out, v, bits);
    explicit_bzero(v, sizeof v);
}

/* BitUnpack, Algorithm 19: w_j = b - value. */
static void unpack_sub(poly *a, const uint8_t *in, int32_t b, unsigned bits)
{
    uint32_t v[N];
    unpack_bits(v, in, bits);
    for (unsigned j = 0; j < N; j++)
        a->c[j] = b - (int32_t)v[j];
    explicit_bzero(v, sizeof v);
}

/* SimpleBitPack / SimpleBitUnpack, Algorithms 16 and 18 (w_j in [0, 2^bits)). */
static void pack_simple(uint8_t *out, const poly *a, unsigned bits)
{
    pack_bits(out, (const uint32_t *)a->c, bits);
}

static void unpack_simple(poly *a, const uint8_t *in, unsigned bits)
{
    unpack_bits((uint32_t *)a->c, in, bits);
}

/* ------------------------------------------------------------------ */
/* Sampling, FIPS 204 section 7.3                                      */
/* ------------------------------------------------------------------ */

/* RejNTTPoly, Algorithm 30, on rho || s[e] || r[e] (ExpandA, Algorithm 32)
 * into a[e] for e < n <= 4, the four SHAKE128 sponges side by side
 * (crypto/dispatch.h; unused lanes hash a copy of entry 0 and are ignored).
 * CT: branches on public data (rho is part of the public key). */
/* RejNTTPoly (Algorithm 30) lines 4-11 on the XOF bytes buf[0..len): the
 * values of CoeffFromThreeBytes (Algorithm 14) below q, in order, appended to
 * a[j..] until a holds 256; returns the new count (crypto/dispatch.h). */
unsigned mw_mldsa_rej_uniform_portable(int32_t a[N], unsigned j, const uint8_t *buf, size_t len)
{
    for (size_t pos = 0; pos + 3 <= len && j < N; pos += 3) {
        const uint8_t *t = buf + pos;
        uint32_t z = t[0] | (uint32_t)t[1] << 8 | (uint32_t)(t[2] & 0x7f) << 16;
        if (z < Q)
            a[j++] = (int32_t)z;
    }
    return j;
}

static void rej_ntt_poly_x4(poly *const a[4], const uint8_t rho[32], const uint8_t s[4],
                            const uint8_t r[4], unsigned n)
{
    uint8_t seed[4][34];
    uint8_t buf[4][5 * 168]; /* 168 = 56 * 3: no bytes left over */
    mw_keccakx4_t k;
    unsigned cnt[4] = {N, N, N, N};
    size_t len = sizeof buf[0];
    const mw_crypto_impl_t *impl = mw_crypto_impl();
    for (unsigned e = 0; e < 4; e++) {
        memcpy(seed[e], rho, 32);
        seed[e][32] = s[e < n ? e : 0];
        seed[e][33] = r[e < n ? e : 0];
    }
    for (unsigned e = 0; e < n; e++)
        cnt[e] = 0;
    const uint8_t *const in[4] = {seed[0], seed[1], seed[2], seed[3]};
    uint8_t *const out[4] = {buf[0], buf[1], buf[2], buf[3]};
    mw_shakex4_absorb_once(&k, 168, in, sizeof seed[0]);
    mw_shakex4_squeezeblocks(&k, 168, out, 5);
    while (cnt[0] < N || cnt[1] < N || cnt[2] < N || cnt[3] < N) {
        for (unsigned e = 0; e < n; e++)
            cnt[e] = impl->mldsa_rej_uniform(a[e]->c, cnt[e], buf[e], len);
        if (cnt[0] < N || cnt[1] < N || cnt[2] < N || cnt[3] < N) {
            mw_shakex4_squeezeblocks(&k, 168, out, 1);
            len = 168;
        }
    }
}

/* Entries of A = ExpandA(rho) (Algorithm 32) requested in row-major order
 * e = l r + s, sampled four at a time: keygen and verify stream A. */
typedef struct {
    poly a[4];
    unsigned base, have;
} a_stream;

static const poly *a_stream_get(a_stream *st, const params *P, const uint8_t rho[32], unsigned r,
                                unsigned s)
{
    const unsigned e = r * P->l + s, total = P->k * P->l;
    if (e < st->base || e >= st->base + st->have) {
        poly *a[4];
        uint8_t ss[4], rr[4];
        unsigned n = 0;
        for (; n < 4 && e + n < total; n++) {
            a[n] = &st->a[n];
            ss[n] = (uint8_t)((e + n) % P->l);
            rr[n] = (uint8_t)((e + n) / P->l);
        }
        for (unsigned i = n; i < 4; i++) /* unused lanes repeat lane 0 (n >= 1: e < total) */
            a[i] = &st->a[0];
        rej_ntt_poly_x4(a, rho, ss, rr, n);
        st->base = e;
        st->have = n;
    }
    return &st->a[e - st->base];
}

/* ExpandA, Algorithm 32: A[r][s] (already in the NTT domain). */
static void expand_a(const params *P, poly A[MAXK][MAXL], const uint8_t rho[32])
{
    const unsigned total = P->k * P->l;
    for (unsigned e = 0; e < total; e += 4) {
        poly *a[4];
        uint8_t ss[4], rr[4];
        unsigned n = 0;
        for (; n < 4 && e + n < total; n++) {
            a[n] = &A[(e + n) / P->l][(e + n) % P->l];
            ss[n] = (uint8_t)((e + n) % P->l);
            rr[n] = (uint8_t)((e + n) / P->l);
        }
        for (unsigned i = n; i < 4; i++) /* unused lanes repeat lane 0 (n >= 1: e < total) */
            a[i] = &A[e / P->l][e % P->l];
        rej_ntt_poly_x4(a, rho, ss, rr, n);
    }
}

/* RejBoundedPoly, Algorithm 31, with CoeffFromHalfByte (Algorithm 15), on
 * rho' || IntegerToBytes(r[e], 2) into a[e] for e < n <= 4 (four SHAKE256
 * sponges side by side). The secret coefficients are computed without a
 * branch (eta - (b mod 5) with the mod by multiply-shift); the only branch
 * is whether a half-byte is accepted (b < 15 or b < 9), which tells nothing
 * about the values accepted (CT: declassified). */
static void rej_bounded_poly_x4(const params *P, poly *const a[4], const uint8_t rhop[64],
                                const uint16_t r[4], unsigned n)
{
    uint8_t seed[4][66];
    uint8_t buf[4][136];
    mw_keccakx4_t k;
    unsigned cnt[4] = {N, N, N, N};
    for (unsigned e = 0; e < 4; e++) {
        memcpy(seed[e], rhop, 64);
        seed[e][64] = (uint8_t)r[e < n ? e : 0];
        seed[e][65] = (uint8_t)(r[e < n ? e : 0] >> 8);
    }
    for (unsigned e = 0; e < n; e++)
        cnt[e] = 0;
    const uint8_t *const in[4] = {seed[0], seed[1], seed[2], seed[3]};
    uint8_t *const out[4] = {buf[0], buf[1], buf[2], buf[3]};
    mw_shakex4_absorb_once(&k, 136, in, sizeof seed[0]);
    const uint32_t lim = P->eta == 2 ? 15 : 9;
    while (cnt[0] < N || cnt[1] < N || cnt[2] < N || cnt[3] < N) {
        mw_shakex4_squeezeblocks(&k, 136, out, 1);
        for (unsigned e = 0; e < n; e++) {
            unsigned j = cnt[e];
            for (size_t pos = 0; pos < sizeof buf[e] && j < N; pos++) {
                uint32_t h[2] = {buf[e][pos] & 15u, (uint32_t)buf[e][pos] >> 4};
                for (unsigned t = 0; t < 2 && j < N; t++) {
                    uint32_t b = h[t];
                    uint32_t ok = b < lim;
                    MW_CT_DECLASSIFY(&ok, sizeof ok);
                    if (ok) {
                        int32_t v;
                        if (P->eta == 2) /* CT: parameter set */
                            v = 2 - (int32_t)(b - ((b * 205) >> 10) * 5); /* b mod 5, b < 15 */
                        else
                            v = 4 - (int32_t)b;
                        a[e]->c[j++] = v;
                    }
                }
            }
            cnt[e] = j;
        }
    }
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(seed, sizeof seed);
    explicit_bzero(&k, sizeof k);
}

/* ExpandS, Algorithm 33: s1[r] with r = 0..l-1, s2[r] with r = l..l+k-1. */
static void expand_s(const params *P, poly *s1, poly *s2, const uint8_t rhop[64])
{
    const unsigned total = P->l + P->k;
    for (unsigned e = 0; e < total; e += 4) {
        poly *a[4];
        uint16_t r[4];
        unsigned n = 0;
        for (; n < 4 && e + n < total; n++) {
            a[n] = e + n < P->l ? &s1[e + n] : &s2[e + n - P->l];
            r[n] = (uint16_t)(e + n);
        }
        for (unsigned i = n; i < 4; i++)
            a[i] = a[0];
        rej_bounded_poly_x4(P, a, rhop, r, n);
    }
}

/* ExpandMask, Algorithm 34: y[r] = BitUnpack(H(rho'' || kappa + r), gamma1 - 1,
 * gamma1), four SHAKE256 calls at a time. No branch on data. */
static void expand_mask(const params *P, poly *y, const uint8_t rhopp[64], unsigned kappa)
{
    uint8_t seed[4][66];
    uint8_t buf[4][5 * 136]; /* z_bytes <= 640 */
    mw_keccakx4_t k;
    const size_t zb = z_bytes(P);
    const uint8_t *const in[4] = {seed[0], seed[1], seed[2], seed[3]};
    uint8_t *const out[4] = {buf[0], buf[1], buf[2], buf[3]};
    for (unsigned r0 = 0; r0 < P->l; r0 += 4) {
        for (unsigned e = 0; e < 4; e++) {
            unsigned v = kappa + r0 + e;
            memcpy(seed[e], rhopp, 64);
            seed[e][64] = (uint8_t)v;
            seed[e][65] = (uint8_t)(v >> 8);
        }
        mw_shakex4_absorb_once(&k, 136, in, sizeof seed[0]);
        mw_shakex4_squeezeblocks(&k, 136, out, (zb + 135) / 136);
        for (unsigned e = 0; e < 4 && r0 + e < P->l; e++)
            unpack_sub(&y[r0 + e], buf[e], (int32_t)1 << P->gamma1_bits, P->gamma1_bits + 1);
    }
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(seed, sizeof seed);
    explicit_bzero(&k, sizeof k);
}

/* SampleInBall, Algorithm 29. In signing c~ is secret until the attempt is
 * accepted, so with ct set the swap c_i = c_j, c_j = +-1 scans positions
 * 0..i with masks instead of indexing by j; the rejection of j > i is
 * declassified (a rejected byte tells nothing about the accepted ones). */
static void sample_in_ball(const params *P, poly *c, const uint8_t *ctilde, int ct)
{
    uint8_t buf[136];
    mw_keccak_t k;
    mw_shake256_init(&k);
    mw_keccak_absorb(&k, ctilde, P->ctilde);
    mw_keccak_squeeze(&k, buf, sizeof buf);
    uint64_t signs = 0;
    for (unsigned i = 0; i < 8; i++)
        signs |= (uint64_t)buf[i] << (8 * i);
    size_t pos = 8;
    memset(c, 0, sizeof *c);
    for (unsigned i = N - P->tau; i < N; i++) {
        uint32_t j;
        for (;;) {
            if (pos >= sizeof buf) {
                mw_keccak_squeeze(&k, buf, sizeof buf);
                pos = 0;
            }
            j = buf[pos++];
            uint32_t reject = j > i;
            MW_CT_DECLASSIFY(&reject, sizeof reject);
            if (!reject)
                break;
        }
        int32_t sign = 1 - 2 * (int32_t)(signs & 1);
        signs >>= 1;
        if (ct) {
            /* c_i is still 0 here (only positions < i were written), so one
             * pass over t < i reads c_j and writes the sign into c_j; then
             * c_i = c_j, or the sign when j = i. */
            int32_t cj = 0;
            for (uint32_t t = 0; t < i; t++) {
                int32_t m = -(int32_t)(((t ^ j) - 1) >> 31); /* -1 iff t == j */
                cj |= c->c[t] & m;
                c->c[t] = (c->c[t] & ~m) | (sign & m);
            }
            int32_t mi = -(int32_t)(((i ^ j) - 1) >> 31);
            c->c[i] = (cj & ~mi) | (sign & mi);
        } else {
            c->c[i] = c->c[j];
            c->c[j] = sign;
        }
    }
    explicit_bzero(buf, sizeof buf);
    mw_keccak_wipe(&k);
}

/* ------------------------------------------------------------------ */
/* Key and signature encodings, FIPS 204 section 7.2                   */
/* ------------------------------------------------------------------ */

/* w1Encode, Algorithm 28. */
static void w1_encode(const params *P, uint8_t *out, const poly *w1)
{
    for (unsigned i = 0; i < P->k; i++)
        pack_simple(out + (size_t)i * 32 * P->w1_bits, &w1[i], P->w1_bits);
}

/* HintBitPack, Algorithm 20. CT: h is part of the signature being output. */
static void hint_pack(const params *P, uint8_t *y, const poly *h)
{
    unsigned index = 0;
    memset(y, 0, P->omega + P->k);
    for (unsigned i = 0; i < P->k; i++) {
        for (unsigned j = 0; j < N; j++) {
            if (h[i].c[j] != 0)
                y[index++] = (uint8_t)j;
        }
        y[P->omega + i] = (uint8_t)index;
    }
}

/* HintBitUnpack, Algorithm 21: -1 for a malformed hint (a count out of
 * order or above omega, indices not strictly increasing, non-zero padding). */
static int hint_unpack(const params *P, poly *h, const uint8_t *y)
{
    unsigned index = 0;
    for (unsigned i = 0; i < P->k; i++) {
        memset(&h[i], 0, sizeof h[i]);
        unsigned end = y[P->omega + i];
        if (end < index || end > P->omega)
            return -1;
        unsigned first = index;
        while (index < end) {
            if (index > first && y[index - 1] >= y[index])
                return -1;
            h[i].c[y[index]] = 1;
            index++;
        }
    }
    for (unsigned i = index; i < P->omega; i++)
        if (y[i] != 0)
            return -1;
    return 0;
}

/* skDecode, Algorithm 25: rho, K, tr and s1, s2, t0 (coefficient form). A
 * malformed sk yields coefficients in [eta - 2^eta_bits + 1, eta]; no check
 * is required by FIPS 204 and none leaks. */
static void sk_decode(const params *P, const uint8_t *sk, poly *s1, poly *s2, poly *t0)
{
    const uint8_t *p = sk + 128;
    const size_t eb = 32 * (size_t)P->eta_bits;
    for (unsigned i = 0; i < P->l; i++, p += eb)
        unpack_sub(&s1[i], p, (int32_t)P->eta, P->eta_bits);
    for (unsigned i = 0; i < P->k; i++, p += eb)
        unpack_sub(&s2[i], p, (int32_t)P->eta, P->eta_bits);
    for (unsigned i = 0; i < P->k; i++, p += 32 * D)
        unpack_sub(&t0[i], p, 1 << (D - 1), D);
}

/* ------------------------------------------------------------------ */
/* KeyGen_internal, Algorithm 6                                        */
/* ------------------------------------------------------------------ */

struct keygen_ws {
    a_stream as; /* four entries of A at a time (ExpandA streamed: each is used once) */
    poly s1[MAXL], s1h[MAXL], s2[MAXK], t, t1, t0; /* t: one row at a time */
    uint8_t seed[128]; /* rho || rho' || K */
    uint8_t in[34];
};

int mw_mldsa_keygen_internal(mw_mldsa_param_t p, uint8_t *pk, uint8_t *sk, const uint8_t xi[32])
{
    const params *P = get_params(p);
    if (!P || !pk || !sk || !xi)
        return MW_EINVAL;
    struct keygen_ws ws;
    ws.as.base = ws.as.have = 0;
    /* (rho, rho', K) = H(xi || k || l, 128) */
    memcpy(ws.in, xi, 32);
    ws.in[32] = (uint8_t)P->k;
    ws.in[33] = (uint8_t)P->l;
    mw_shake256(ws.seed, 128, ws.in, 34);
    const uint8_t *rho = ws.seed, *rhop = ws.seed + 32, *key = ws.seed + 96;
    /* CT: rho is the public half of the seed (it goes into pk). */
    MW_CT_DECLASSIFY(ws.seed, 32);

    /* ExpandS, Algorithm 33 */
    expand_s(P, ws.s1, ws.s2, rhop);

    for (unsigned i = 0; i < P->l; i++) {
        ws.s1h[i] = ws.s1[i];
        poly_ntt(&ws.s1h[i]);
    }
    /* t = NTT^-1(A o NTT(s1)) + s2; (t1, t0) = Power2Round(t) */
    memcpy(pk, rho, 32);
    memcpy(sk, rho, 32);
    memcpy(sk + 32, key, 32);
    const size_t eb = 32 * (size_t)P->eta_bits;
    uint8_t *s1o = sk + 128, *s2o = s1o + P->l * eb, *t0o = s2o + P->k * eb;
    for (unsigned i = 0; i < P->k; i++) {
        /* row i of A = ExpandA(rho) (Algorithm 32), entry by entry */
        for (unsigned j = 0; j < P->l; j++) {
            const poly *a = a_stream_get(&ws.as, P, rho, i, j);
            if (j == 0)
                poly_pointwise(&ws.t, a, &ws.s1h[0]);
            else
                poly_pointwise_acc(&ws.t, a, &ws.s1h[j]);
        }
        poly_reduce(&ws.t);
        poly_invntt_tomont(&ws.t);
        for (unsigned j = 0; j < N; j++) {
            int32_t v = freeze(ws.t.c[j] + ws.s2[i].c[j]);
            power2round(v, &ws.t1.c[j], &ws.t0.c[j]);
        }
        /* pkEncode, Algorithm 22: t1 on 10 bits */
        pack_simple(pk + 32 + (size_t)i * 320, &ws.t1, 10);
        pack_sub(t0o + (size_t)i * 32 * D, &ws.t0, 1 << (D - 1), D);
    }
    /* skEncode, Algorithm 24 */
    for (unsigned i = 0; i < P->l; i++)
        pack_sub(s1o + i * eb, &ws.s1[i], (int32_t)P->eta, P->eta_bits);
    for (unsigned i = 0; i < P->k; i++)
        pack_sub(s2o + i * eb, &ws.s2[i], (int32_t)P->eta, P->eta_bits);
    /* tr = H(pk, 64) */
    mw_shake256(sk + 64, 64, pk, P->pk);
    explicit_bzero(&ws, sizeof ws);
    return MW_OK;
}

int mw_mldsa_keygen(mw_mldsa_param_t p, uint8_t *pk, uint8_t *sk)
{
    uint8_t xi[32];
    const params *P = get_params(p);
    if (!P || !pk || !sk)
        return MW_EINVAL;
    int rc = mw_random_bytes(xi, sizeof xi);
    if (rc == MW_OK)
        rc = mw_mldsa_keygen_internal(p, pk, sk, xi);
    if (rc != MW_OK) {
        explicit_bzero(pk, P->pk);
        explicit_bzero(sk, P->sk);
    }
    explicit_bzero(xi, sizeof xi);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sign_internal, Algorithm 7 (from line 8, mu given)                  */
/* ------------------------------------------------------------------ */

struct sign_ws {
    poly A[MAXK][MAXL];
    poly s1[MAXL], s2[MAXK], t0[MAXK]; /* NTT domain after decoding */
    poly y[MAXL], z[MAXL], w[MAXK], w1[MAXK], h[MAXK];
    poly cp, tmp;
    uint8_t rhopp[64];
    uint8_t keyin[32 + 32 + 64]; /* K || rnd || mu */
    uint8_t ctilde[MAX_CTILDE];
    uint8_t w1buf[MAXK * 32 * 6];
    mw_keccak_t k;
};

static int sign_mu(const params *P, uint8_t *sig, const uint8_t *sk, const uint8_t mu[64],
                   const uint8_t rnd[32])
{
    struct sign_ws ws;
    int rc = MW_ECRYPTO;
    const int32_t gamma1 = (int32_t)1 << P->gamma1_bits;
    const int32_t gamma2 = P->gamma2;
    const int32_t beta = (int32_t)P->beta;
    const mw_crypto_impl_t *impl = mw_crypto_impl();

    sk_decode(P, sk, ws.s1, ws.s2, ws.t0);
    for (unsigned i = 0; i < P->l; i++)
        poly_ntt(&ws.s1[i]);
    for (unsigned i = 0; i < P->k; i++) {
        poly_ntt(&ws.s2[i]);
        poly_ntt(&ws.t0[i]);
    }
    expand_a(P, ws.A, sk);
    /* rho'' = H(K || rnd || mu, 64) */
    memcpy(ws.keyin, sk + 32, 32);
    memcpy(ws.keyin + 32, rnd, 32);
    memcpy(ws.keyin + 64, mu, 64);
    mw_shake256(ws.rhopp, 64, ws.keyin, sizeof ws.keyin);

    for (unsigned kappa = 0; kappa + P->l <= MAX_ATTEMPT_KAPPA; kappa += P->l) {
        expand_mask(P, ws.y, ws.rhopp, kappa);
        /* w = NTT^-1(A o NTT(y)) */
        for (unsigned i = 0; i < P->l; i++) {
            ws.z[i] = ws.y[i];
            poly_ntt(&ws.z[i]);
        }
        for (unsigned i = 0; i < P->k; i++) {
            poly_pointwise(&ws.w[i], &ws.A[i][0], &ws.z[0]);
            for (unsigned j = 1; j < P->l; j++)
                poly_pointwise_acc(&ws.w[i], &ws.A[i][j], &ws.z[j]);
            poly_reduce(&ws.w[i]);
            poly_invntt_tomont(&ws.w[i]);
            poly_caddq(&ws.w[i]);
            /* w1 = HighBits(w) (h[i] takes the unused LowBits until it is
             * computed below) */
            impl->mldsa_decompose(ws.w1[i].c, ws.h[i].c, ws.w[i].c, gamma2);
        }
        /* c~ = H(mu || w1Encode(w1), lambda/4) */
        w1_encode(P, ws.w1buf, ws.w1);
        mw_shake256_init(&ws.k);
        mw_keccak_absorb(&ws.k, mu, 64);
        mw_keccak_absorb(&ws.k, ws.w1buf, (size_t)P->k * 32 * P->w1_bits);
        mw_keccak_squeeze(&ws.k, ws.ctilde, P->ctilde);
        sample_in_ball(P, &ws.cp, ws.ctilde, 1);
        poly_ntt(&ws.cp);

        int32_t bad = 0;
        /* z = y + c s1; ||z|| < gamma1 - beta */
        for (unsigned i = 0; i < P->l; i++) {
            poly_pointwise(&ws.tmp, &ws.cp, &ws.s1[i]);
            poly_invntt_tomont(&ws.tmp);
            for (unsigned j = 0; j < N; j++)
                ws.z[i].c[j] = reduce32(ws.y[i].c[j] + ws.tmp.c[j]);
            bad |= poly_norm_mask(&ws.z[i], gamma1 - beta);
        }
        for (unsigned i = 0; i < P->k; i++) {
            /* r0 = LowBits(w - c s2); ||r0|| < gamma2 - beta */
            poly_pointwise(&ws.tmp, &ws.cp, &ws.s2[i]);
            poly_invntt_tomont(&ws.tmp);
            for (unsigned j = 0; j < N; j++)
                ws.tmp.c[j] = freeze(ws.w[i].c[j] - ws.tmp.c[j]); /* w - c s2 in [0, q) */
            poly r0; /* stack copy kept small: wiped below */
            poly *u = &ws.h[i];
            impl->mldsa_decompose(u->c, r0.c, ws.tmp.c, gamma2); /* HighBits(w - c s2) */
            bad |= poly_norm_mask(&r0, gamma2 - beta);
            /* ct0; ||ct0|| < gamma2 */
            poly_pointwise(&r0, &ws.cp, &ws.t0[i]);
            poly_invntt_tomont(&r0);
            poly_reduce(&r0);
            bad |= poly_norm_mask(&r0, gamma2);
            /* h = MakeHint(-ct0, w - c s2 + ct0), Algorithm 39:
             * HighBits(w - c s2 + ct0) != HighBits(w - c s2), as 0/1 masks */
            impl->mldsa_make_hint(u->c, ws.tmp.c, r0.c, gamma2);
            explicit_bzero(&r0, sizeof r0);
        }
        /* number of 1s in h <= omega */
        int32_t ones = 0;
        for (unsigned i = 0; i < P->k; i++)
            for (unsigned j = 0; j < N; j++)
                ones += ws.h[i].c[j];
        bad |= ((int32_t)P->omega - ones) >> 31;
        /* CT: the rejection decision is public by design (the number of
         * attempts shows in the running time); which check failed, and the
         * values of a rejected attempt, stay secret (FIPS 204 section 3.6.3). */
        MW_CT_DECLASSIFY(&bad, sizeof bad);
        if (bad)
            continue;

        /* CT: z, c~ and h are the signature output from here on. */
        MW_CT_DECLASSIFY(ws.h, sizeof ws.h);
        /* sigEncode, Algorithm 26: c~ || BitPack(z, gamma1 - 1, gamma1) || h */
        memcpy(sig, ws.ctilde, P->ctilde);
        uint8_t *o = sig + P->ctilde;
        for (unsigned i = 0; i < P->l; i++, o += z_bytes(P))
            pack_sub(o, &ws.z[i], gamma1, P->gamma1_bits + 1);
        hint_pack(P, o, ws.h);
        rc = MW_OK;
        break;
    }
    if (rc != MW_OK)
        explicit_bzero(sig, P->sig);
    explicit_bzero(&ws, sizeof ws);
    return rc;
}

static int get_rnd(uint8_t out[32], const uint8_t *rnd)
{
    if (rnd) {
        memcpy(out, rnd, 32);
        return MW_OK;
    }
    return mw_random_bytes(out, 32);
}

int mw_mldsa_sign_mu(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                     const uint8_t mu[64], const uint8_t *rnd)
{
    const params *P = get_params(p);
    uint8_t r[32];
    if (!P || !sig)
        return MW_EINVAL;
    int rc = MW_EINVAL;
    if (sk && sk_len == P->sk && mu)
        rc = get_rnd(r, rnd);
    if (rc == MW_OK)
        rc = sign_mu(P, sig, sk, mu, r);
    else
        explicit_bzero(sig, P->sig);
    explicit_bzero(r, sizeof r);
    return rc;
}

/* mu = H(tr || pre || ctx || msg, 64) (Algorithm 7 line 6, with M' given in
 * parts so that a long message is not copied). */
static void compute_mu(uint8_t mu[64], const uint8_t tr[64], const uint8_t *pre, size_t pre_len,
                       const uint8_t *ctx, size_t ctx_len, const uint8_t *msg, size_t msg_len)
{
    mw_keccak_t k;
    mw_shake256_init(&k);
    mw_keccak_absorb(&k, tr, 64);
    if (pre_len)
        mw_keccak_absorb(&k, pre, pre_len);
    if (ctx_len)
        mw_keccak_absorb(&k, ctx, ctx_len);
    if (msg_len)
        mw_keccak_absorb(&k, msg, msg_len);
    mw_keccak_squeeze(&k, mu, 64);
    mw_keccak_wipe(&k);
}

static int sign_parts(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                      const uint8_t *pre, size_t pre_len, const uint8_t *ctx, size_t ctx_len,
                      const uint8_t *msg, size_t msg_len, const uint8_t *rnd)
{
    const params *P = get_params(p);
    uint8_t mu[64];
    if (!P || !sig)
        return MW_EINVAL;
    if (!sk || sk_len != P->sk || (msg_len && !msg) || (ctx_len && !ctx)) {
        explicit_bzero(sig, P->sig);
        return MW_EINVAL;
    }
    compute_mu(mu, sk + 64, pre, pre_len, ctx, ctx_len, msg, msg_len);
    int rc = mw_mldsa_sign_mu(p, sig, sk, sk_len, mu, rnd);
    explicit_bzero(mu, sizeof mu);
    return rc;
}

int mw_mldsa_sign_internal(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                           const uint8_t *mprime, size_t mprime_len, const uint8_t *rnd)
{
    return sign_parts(p, sig, sk, sk_len, NULL, 0, NULL, 0, mprime, mprime_len, rnd);
}

/* ML-DSA.Sign, Algorithm 2: M' = IntegerToBytes(0, 1) || IntegerToBytes(|ctx|, 1) || ctx || M. */
int mw_mldsa_sign(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                  const uint8_t *msg, size_t msg_len, const uint8_t *ctx, size_t ctx_len,
                  const uint8_t *rnd)
{
    const params *P = get_params(p);
    if (!P || !sig)
        return MW_EINVAL;
    if (ctx_len > MW_MLDSA_MAX_CTX_BYTES) {
        explicit_bzero(sig, P->sig);
        return MW_EINVAL;
    }
    uint8_t pre[2] = {0, (uint8_t)ctx_len};
    return sign_parts(p, sig, sk, sk_len, pre, 2, ctx, ctx_len, msg, msg_len, rnd);
}

/* ------------------------------------------------------------------ */
/* Verify_internal, Algorithm 8 (from line 7, mu given)                */
/* All inputs are public: branches on them are fine.                   */
/* ------------------------------------------------------------------ */

struct verify_ws {
    a_stream as; /* four entries of A at a time (ExpandA streamed) */
    poly z[MAXL], h[MAXK], w[MAXK];
    poly cp, t1;
    uint8_t ctilde[MAX_CTILDE];
    uint8_t w1buf[MAXK * 32 * 6];
    mw_keccak_t k;
};

static int verify_mu(const params *P, const uint8_t *pk, const uint8_t mu[64], const uint8_t *sig)
{
    struct verify_ws ws;
    ws.as.base = ws.as.have = 0;
    const int32_t gamma1 = (int32_t)1 << P->gamma1_bits;
    int rc = MW_EVERIFY;

    /* sigDecode, Algorithm 27 */
    const uint8_t *o = sig + P->ctilde;
    for (unsigned i = 0; i < P->l; i++, o += z_bytes(P))
        unpack_sub(&ws.z[i], o, gamma1, P->gamma1_bits + 1);
    if (hint_unpack(P, ws.h, o) != 0)
        return MW_EVERIFY;
    for (unsigned i = 0; i < P->l; i++)
        if (poly_norm_mask(&ws.z[i], gamma1 - (int32_t)P->beta) != 0)
            return MW_EVERIFY;

    sample_in_ball(P, &ws.cp, sig, 0);
    poly_ntt(&ws.cp);
    for (unsigned i = 0; i < P->l; i++)
        poly_ntt(&ws.z[i]);
    /* w'approx = NTT^-1(A o NTT(z) - NTT(c) o NTT(t1 2^d)) */
    for (unsigned i = 0; i < P->k; i++) {
        for (unsigned j = 0; j < P->l; j++) {
            const poly *a = a_stream_get(&ws.as, P, pk, i, j); /* A[i][j], Algorithm 32 */
            if (j == 0)
                poly_pointwise(&ws.w[i], a, &ws.z[0]);
            else
                poly_pointwise_acc(&ws.w[i], a, &ws.z[j]);
        }
        /* pkDecode, Algorithm 23 */
        unpack_simple(&ws.t1, pk + 32 + (size_t)i * 320, 10);
        for (unsigned j = 0; j < N; j++)
            ws.t1.c[j] <<= D;
        poly_ntt(&ws.t1);
        poly_pointwise(&ws.t1, &ws.cp, &ws.t1);
        for (unsigned j = 0; j < N; j++)
            ws.w[i].c[j] -= ws.t1.c[j];
        poly_reduce(&ws.w[i]);
        poly_invntt_tomont(&ws.w[i]);
        poly_caddq(&ws.w[i]);
        /* w1' = UseHint(h, w'approx) */
        mw_crypto_impl()->mldsa_use_hint(ws.w[i].c, ws.h[i].c, P->gamma2);
    }
    w1_encode(P, ws.w1buf, ws.w);
    mw_shake256_init(&ws.k);
    mw_keccak_absorb(&ws.k, mu, 64);
    mw_keccak_absorb(&ws.k, ws.w1buf, (size_t)P->k * 32 * P->w1_bits);
    mw_keccak_squeeze(&ws.k, ws.ctilde, P->ctilde);
    if (memcmp(ws.ctilde, sig, P->ctilde) == 0)
        rc = MW_OK;
    return rc;
}

int mw_mldsa_verify_mu(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len, const uint8_t mu[64],
                       const uint8_t *sig, size_t sig_len)
{
    const params *P = get_params(p);
    if (!P || !pk || pk_len != P->pk || !mu)
        return MW_EINVAL;
    if (!sig || sig_len != P->sig)
        return MW_EVERIFY;
    return verify_mu(P, pk, mu, sig);
}

static int verify_parts(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len, const uint8_t *pre,
                        size_t pre_len, const uint8_t *ctx, size_t ctx_len, const uint8_t *msg,
                        size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    const params *P = get_params(p);
    uint8_t tr[64], mu[64];
    if (!P || !pk || pk_len != P->pk || (msg_len && !msg) || (ctx_len && !ctx))
        return MW_EINVAL;
    if (!sig || sig_len != P->sig)
        return MW_EVERIFY;
    mw_shake256(tr, 64, pk, pk_len);
    compute_mu(mu, tr, pre, pre_len, ctx, ctx_len, msg, msg_len);
    return verify_mu(P, pk, mu, sig);
}

int mw_mldsa_verify_internal(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len,
                             const uint8_t *mprime, size_t mprime_len, const uint8_t *sig,
                             size_t sig_len)
{
    return verify_parts(p, pk, pk_len, NULL, 0, NULL, 0, mprime, mprime_len, sig, sig_len);
}

/* ML-DSA.Verify, Algorithm 3. */
int mw_mldsa_verify(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len, const uint8_t *msg,
                    size_t msg_len, const uint8_t *ctx, size_t ctx_len, const uint8_t *sig,
                    size_t sig_len)
{
    if (ctx_len > MW_MLDSA_MAX_CTX_BYTES)
        return MW_EINVAL;
    uint8_t pre[2] = {0, (uint8_t)ctx_len};
    return verify_parts(p, pk, pk_len, pre, 2, ctx, ctx_len, msg, msg_len, sig, sig_len);
}

/* ------------------------------------------------------------------ */
/* Hooks for the unit test (crypto/mldsa_internal.h)                   */
/* ------------------------------------------------------------------ */

int32_t mw_mldsa_test_decompose(int32_t gamma2, int32_t a, int32_t *a0)
{
    return decompose(gamma2, a, a0);
}

void mw_mldsa_test_power2round(int32_t a, int32_t *a1, int32_t *a0)
{
    power2round(a, a1, a0);
}

/* c = a * b in Z_q[X]/(X^256 + 1) through the NTT; coefficients in [0, q). */
void mw_mldsa_test_polymul(int32_t c[256], const int32_t a[256], const int32_t b[256])
{
    poly x, y;
    memcpy(x.c, a, sizeof x.c);
    memcpy(y.c, b, sizeof y.c);
    poly_ntt(&x);
    poly_ntt(&y);
    poly_pointwise(&x, &x, &y);
    poly_invntt_tomont(&x);
    for (unsigned j = 0; j < N; j++)
        c[j] = freeze(x.c[j]);
}
