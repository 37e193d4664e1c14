/* Runtime selection of the portable or AVX2 code paths, and the four-way
 * SHAKE sponge built on the dispatched Keccak-f[1600] x4 (src/crypto/dispatch.h,
 * docs/internals/crypto.md section "AVX2"). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/dispatch.h"
#include "mwrasp/pqc.h"

/* Four Keccak-f[1600] (FIPS 202 Algorithm 7) one after the other. */
static void keccakx4_portable(uint64_t s[100])
{
    uint64_t st[25];
    for (unsigned j = 0; j < 4; j++) {
        for (unsigned i = 0; i < 25; i++)
            st[i] = s[4 * i + j];
        mw_keccak_f1600(st);
        for (unsigned i = 0; i < 25; i++)
            s[4 * i + j] = st[i];
    }
    explicit_bzero(st, sizeof st);
}

static const mw_crypto_impl_t impl_portable = {
    .name = "portable",
    .keccakx4 = keccakx4_portable,
    .mlkem_ntt = mw_mlkem_ntt_portable,
    .mlkem_invntt = mw_mlkem_invntt_portable,
    .mlkem_basemul_acc = mw_mlkem_basemul_acc_portable,
    .mlkem_add_freeze = mw_mlkem_add_freeze_portable,
    .mlkem_sub_freeze = mw_mlkem_sub_freeze_portable,
    .mlkem_freeze = mw_mlkem_freeze_portable,
    .mlkem_tomont = mw_mlkem_tomont_portable,
    .mlkem_rej_uniform = mw_mlkem_rej_uniform_portable,
    .mlkem_cbd = mw_mlkem_cbd_portable,
    .mldsa_ntt = mw_mldsa_ntt_portable,
    .mldsa_invntt = mw_mldsa_invntt_portable,
    .mldsa_pointwise = mw_mldsa_pointwise_portable,
    .mldsa_pointwise_acc = mw_mldsa_pointwise_acc_portable,
    .mldsa_reduce = mw_mldsa_reduce_portable,
    .mldsa_caddq = mw_mldsa_caddq_portable,
    .mldsa_decompose = mw_mldsa_decompose_portable,
    .mldsa_make_hint = mw_mldsa_make_hint_portable,
    .mldsa_norm_mask = mw_mldsa_norm_mask_portable,
    .mldsa_rej_uniform = mw_mldsa_rej_uniform_portable,
    .mldsa_use_hint = mw_mldsa_use_hint_portable,
};

#if defined(__x86_64__)
static const mw_crypto_impl_t impl_avx2 = {
    .name = "avx2",
    .keccakx4 = mw_keccakx4_f1600_avx2,
    .mlkem_ntt = mw_mlkem_ntt_avx2,
    .mlkem_invntt = mw_mlkem_invntt_avx2,
    .mlkem_basemul_acc = mw_mlkem_basemul_acc_avx2,
    .mlkem_add_freeze = mw_mlkem_add_freeze_avx2,
    .mlkem_sub_freeze = mw_mlkem_sub_freeze_avx2,
    .mlkem_freeze = mw_mlkem_freeze_avx2,
    .mlkem_tomont = mw_mlkem_tomont_avx2,
    .mlkem_rej_uniform = mw_mlkem_rej_uniform_avx2,
    .mlkem_cbd = mw_mlkem_cbd_avx2,
    .mldsa_ntt = mw_mldsa_ntt_avx2,
    .mldsa_invntt = mw_mldsa_invntt_avx2,
    .mldsa_pointwise = mw_mldsa_pointwise_avx2,
    .mldsa_pointwise_acc = mw_mldsa_pointwise_acc_avx2,
    .mldsa_reduce = mw_mldsa_reduce_avx2,
    .mldsa_caddq = mw_mldsa_caddq_avx2,
    .mldsa_decompose = mw_mldsa_decompose_avx2,
    .mldsa_make_hint = mw_mldsa_make_hint_avx2,
    .mldsa_norm_mask = mw_mldsa_norm_mask_avx2,
    .mldsa_rej_uniform = mw_mldsa_rej_uniform_avx2,
    .mldsa_use_hint = mw_mldsa_use_hint_avx2,
};
#endif

static _Atomic(const mw_crypto_impl_t *) current;

static const mw_crypto_impl_t *best(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return &impl_avx2;
#endif
    return &impl_portable;
}

static const mw_crypto_impl_t *select_impl(void)
{
    const char *e = getenv("MW_CRYPTO_PORTABLE");
    if (e != NULL && strcmp(e, "1") == 0)
        return &impl_portable;
    return best();
}

/* The choice is a pure function of the CPU and the environment, so two
 * threads racing on the first call store the same pointer. */
const mw_crypto_impl_t *mw_crypto_impl(void)
{
    const mw_crypto_impl_t *p = atomic_load_explicit(&current, memory_order_relaxed);
    if (p == NULL) {
        p = select_impl();
        atomic_store_explicit(&current, p, memory_order_relaxed);
    }
    return p;
}

const mw_crypto_impl_t *mw_crypto_impl_force(int portable)
{
    const mw_crypto_impl_t *p = portable ? &impl_portable : best();
    atomic_store_explicit(&current, p, memory_order_relaxed);
    return p;
}

/* Little-endian 64-bit lanes (FIPS 202 section B.1): a plain copy on
 * little-endian machines (the byte loops cost ~10 % of bench_pqc). */
static inline uint64_t load64_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, sizeof v);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

/* SPONGE[Keccak-f[1600], pad10*1, r] absorbing phase (FIPS 202 Algorithm 8
 * steps 1-6) for four messages of the same length, with the SHAKE suffix
 * 1111 (section 6.2): domain byte 0x1f, final bit 0x80. */
void mw_shakex4_absorb_once(mw_keccakx4_t *k, unsigned rate, const uint8_t *const in[4], size_t len)
{
    memset(k->s, 0, sizeof k->s);
    if (rate == 0 || rate > 200 || rate % 8 != 0)
        return;
    void (*perm)(uint64_t *) = mw_crypto_impl()->keccakx4;
    size_t off = 0;
    while (len - off >= rate) {
        for (unsigned j = 0; j < 4; j++)
            for (unsigned i = 0; i < rate / 8; i++)
                k->s[4 * i + j] ^= load64_le(in[j] + off + 8 * i);
        perm(k->s);
        off += rate;
    }
    const size_t rest = len - off; /* < rate */
    for (unsigned j = 0; j < 4; j++) {
        for (size_t b = 0; b < rest; b++)
            k->s[4 * (b / 8) + j] ^= (uint64_t)in[j][off + b] << (8 * (b % 8));
        k->s[4 * (rest / 8) + j] ^= (uint64_t)0x1f << (8 * (rest % 8));
        k->s[4 * ((rate - 1) / 8) + j] ^= (uint64_t)0x80 << (8 * ((rate - 1) % 8));
    }
}

/* Squeezing phase (Algorithm 8 steps 7-10), whole blocks. */
void mw_shakex4_squeezeblocks(mw_keccakx4_t *k, unsigned rate, uint8_t *const out[4],
                              size_t nblocks)
{
    if (rate == 0 || rate > 200 || rate % 8 != 0)
        return;
    void (*perm)(uint64_t *) = mw_crypto_impl()->keccakx4;
    for (size_t b = 0; b < nblocks; b++) {
        perm(k->s);
        for (unsigned j = 0; j < 4; j++)
            for (unsigned i = 0; i < rate / 8; i++)
                store64_le(out[j] + b * rate + 8 * i, k->s[4 * i + j]);
    }
}
