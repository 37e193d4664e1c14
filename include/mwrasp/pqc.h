/* MWRASP crypto module (src/crypto/): Keccak/SHA-3, ML-KEM (FIPS 203), ML-DSA
 * (FIPS 204), the symmetric layer over OpenSSL 3.0, the hybrid X25519 +
 * ML-KEM-1024 KEM, and the keystore. docs/internals/crypto.md.
 *
 * Conventions (docs/internals/conventions.md, as mlkem-native's
 * API-CONVENTIONS.md): every function that can fail returns 0 or a negative
 * MW_E* code and carries MW_WUR; on failure every output buffer is zeroized.
 * Lengths of keys, ciphertexts and signatures are passed explicitly and
 * checked (MW_EINVAL on a wrong length). Secrets are wiped with
 * explicit_bzero before their memory is released. Functions named *_internal
 * are the FIPS "internal" algorithms, exposed for ACVP validation and
 * deterministic tests: applications use the randomized functions.
 *
 * Constant time: no branch or memory index depends on secret data
 * (tests/integration/test_crypto_ct.sh checks this under valgrind). */
#ifndef MWRASP_PQC_H
#define MWRASP_PQC_H

#include <stddef.h>
#include <stdint.h>

#include "mwrasp/error.h"

/* ------------------------------------------------------------------ */
/* Keccak (FIPS 202)                                                   */
/* ------------------------------------------------------------------ */

/* Keccak-f[1600] on a 25-lane state (lane i = A[x][y] with i = x + 5y,
 * little-endian lanes, FIPS 202 section 3.1). */
void mw_keccak_f1600(uint64_t state[25]);

/* An incremental sponge: init, absorb any number of times, then squeeze any
 * number of times (each squeeze continues where the last stopped; the first
 * squeeze pads). Absorbing after squeezing is a programming error and does
 * nothing. The struct may be copied to fork a sponge. */
typedef struct mw_keccak {
    uint64_t s[25];
    unsigned rate; /* bytes: 168 SHAKE128, 136 SHAKE256/SHA3-256, 72 SHA3-512 */
    unsigned pos; /* byte position within the current block */
    uint8_t dsep; /* domain separation + first pad bit: 0x06 SHA3, 0x1f SHAKE */
    uint8_t squeezing;
} mw_keccak_t;

void mw_shake128_init(mw_keccak_t *k);
void mw_shake256_init(mw_keccak_t *k);
void mw_sha3_256_init(mw_keccak_t *k);
void mw_sha3_512_init(mw_keccak_t *k);
void mw_keccak_absorb(mw_keccak_t *k, const uint8_t *in, size_t len);
void mw_keccak_squeeze(mw_keccak_t *k, uint8_t *out, size_t len);
/* Wipes the state (explicit_bzero); the sponge may be re-initialised. */
void mw_keccak_wipe(mw_keccak_t *k);

/* One-shot hashes. */
void mw_sha3_256(uint8_t out[32], const uint8_t *in, size_t len);
void mw_sha3_512(uint8_t out[64], const uint8_t *in, size_t len);
void mw_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void mw_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);

/* ------------------------------------------------------------------ */
/* ML-KEM (FIPS 203)                                                   */
/* ------------------------------------------------------------------ */

/* The value is k, the module rank. */
typedef enum mw_mlkem_param {
    MW_MLKEM512 = 2,
    MW_MLKEM768 = 3,
    MW_MLKEM1024 = 4,
} mw_mlkem_param_t;

#define MW_MLKEM_SEED_BYTES 32 /* d, z, m */
#define MW_MLKEM_SS_BYTES 32 /* shared secret K */
#define MW_MLKEM512_EK_BYTES 800
#define MW_MLKEM512_DK_BYTES 1632
#define MW_MLKEM512_CT_BYTES 768
#define MW_MLKEM768_EK_BYTES 1184
#define MW_MLKEM768_DK_BYTES 2400
#define MW_MLKEM768_CT_BYTES 1088
#define MW_MLKEM1024_EK_BYTES 1568
#define MW_MLKEM1024_DK_BYTES 3168
#define MW_MLKEM1024_CT_BYTES 1568
#define MW_MLKEM_MAX_EK_BYTES MW_MLKEM1024_EK_BYTES
#define MW_MLKEM_MAX_DK_BYTES MW_MLKEM1024_DK_BYTES
#define MW_MLKEM_MAX_CT_BYTES MW_MLKEM1024_CT_BYTES

/* Sizes of a parameter set; 0 for an invalid one. */
size_t mw_mlkem_ek_bytes(mw_mlkem_param_t p);
size_t mw_mlkem_dk_bytes(mw_mlkem_param_t p);
size_t mw_mlkem_ct_bytes(mw_mlkem_param_t p);
/* "ML-KEM-768" etc.; NULL for an invalid set. */
const char *mw_mlkem_name(mw_mlkem_param_t p);
/* Parses "ML-KEM-512|768|1024"; MW_EINVAL otherwise. */
MW_WUR int mw_mlkem_param_from_name(const char *name, mw_mlkem_param_t *out);

/* ML-KEM.KeyGen_internal(d, z), FIPS 203 Algorithm 16. ek and dk must hold
 * mw_mlkem_ek_bytes(p) / mw_mlkem_dk_bytes(p). MW_EINVAL: bad p. */
MW_WUR int mw_mlkem_keygen_internal(mw_mlkem_param_t p, uint8_t *ek, uint8_t *dk,
                                    const uint8_t d[32], const uint8_t z[32]);
/* ML-KEM.KeyGen, Algorithm 19: d and z from mw_random_bytes. */
MW_WUR int mw_mlkem_keygen(mw_mlkem_param_t p, uint8_t *ek, uint8_t *dk);

/* ML-KEM.Encaps_internal(ek, m), Algorithm 17, after the encapsulation key
 * check of section 7.2 (length and modulus check): MW_EINVAL if ek fails it.
 * ss: 32 bytes; ct: mw_mlkem_ct_bytes(p). */
MW_WUR int mw_mlkem_encaps_internal(mw_mlkem_param_t p, uint8_t ss[32], uint8_t *ct,
                                    const uint8_t *ek, size_t ek_len, const uint8_t m[32]);
/* ML-KEM.Encaps, Algorithm 20: m from mw_random_bytes. */
MW_WUR int mw_mlkem_encaps(mw_mlkem_param_t p, uint8_t ss[32], uint8_t *ct, const uint8_t *ek,
                           size_t ek_len);

/* ML-KEM.Decaps, Algorithm 21 (= Decaps_internal, Algorithm 18), after the
 * input checks of section 7.3: ciphertext length, dk length, and the hash
 * check H(ek) == h inside dk (MW_EINVAL if any fails). A ciphertext that does
 * not re-encrypt yields the implicit-rejection key J(z || c), in constant
 * time, and returns 0. */
MW_WUR int mw_mlkem_decaps(mw_mlkem_param_t p, uint8_t ss[32], const uint8_t *ct, size_t ct_len,
                           const uint8_t *dk, size_t dk_len);

/* The input checks alone (ACVP encapsulationKeyCheck / decapsulationKeyCheck):
 * 0 if the key passes, MW_EINVAL if not (including a wrong length). */
MW_WUR int mw_mlkem_check_ek(mw_mlkem_param_t p, const uint8_t *ek, size_t ek_len);
MW_WUR int mw_mlkem_check_dk(mw_mlkem_param_t p, const uint8_t *dk, size_t dk_len);

/* ------------------------------------------------------------------ */
/* ML-DSA (FIPS 204)                                                   */
/* ------------------------------------------------------------------ */

typedef enum mw_mldsa_param {
    MW_MLDSA44 = 44,
    MW_MLDSA65 = 65,
    MW_MLDSA87 = 87,
} mw_mldsa_param_t;

#define MW_MLDSA_SEED_BYTES 32 /* xi, rnd */
#define MW_MLDSA_MU_BYTES 64
#define MW_MLDSA_MAX_CTX_BYTES 255
#define MW_MLDSA44_PK_BYTES 1312
#define MW_MLDSA44_SK_BYTES 2560
#define MW_MLDSA44_SIG_BYTES 2420
#define MW_MLDSA65_PK_BYTES 1952
#define MW_MLDSA65_SK_BYTES 4032
#define MW_MLDSA65_SIG_BYTES 3309
#define MW_MLDSA87_PK_BYTES 2592
#define MW_MLDSA87_SK_BYTES 4896
#define MW_MLDSA87_SIG_BYTES 4627
#define MW_MLDSA_MAX_PK_BYTES MW_MLDSA87_PK_BYTES
#define MW_MLDSA_MAX_SK_BYTES MW_MLDSA87_SK_BYTES
#define MW_MLDSA_MAX_SIG_BYTES MW_MLDSA87_SIG_BYTES

size_t mw_mldsa_pk_bytes(mw_mldsa_param_t p); /* 0 for an invalid set */
size_t mw_mldsa_sk_bytes(mw_mldsa_param_t p);
size_t mw_mldsa_sig_bytes(mw_mldsa_param_t p);
const char *mw_mldsa_name(mw_mldsa_param_t p); /* "ML-DSA-65"; NULL if invalid */
MW_WUR int mw_mldsa_param_from_name(const char *name, mw_mldsa_param_t *out);

/* ML-DSA.KeyGen_internal(xi), FIPS 204 Algorithm 6. */
MW_WUR int mw_mldsa_keygen_internal(mw_mldsa_param_t p, uint8_t *pk, uint8_t *sk,
                                    const uint8_t xi[32]);
/* ML-DSA.KeyGen, Algorithm 1: xi from mw_random_bytes. */
MW_WUR int mw_mldsa_keygen(mw_mldsa_param_t p, uint8_t *pk, uint8_t *sk);

/* In every signing function, rnd is 32 bytes, or NULL for 32 fresh random
 * bytes (the hedged variant FIPS 204 recommends); 32 zero bytes give the
 * deterministic variant. sig must hold mw_mldsa_sig_bytes(p). */

/* ML-DSA.Sign_internal(sk, M', rnd), Algorithm 7, on M' as given. */
MW_WUR int mw_mldsa_sign_internal(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk,
                                  size_t sk_len, const uint8_t *mprime, size_t mprime_len,
                                  const uint8_t *rnd);
/* Algorithm 7 with mu given (the "external mu" interface: lines 6-7 skipped). */
MW_WUR int mw_mldsa_sign_mu(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                            const uint8_t mu[64], const uint8_t *rnd);
/* ML-DSA.Sign(sk, M, ctx), Algorithm 2: M' = 0 || |ctx| || ctx || M.
 * ctx_len > 255: MW_EINVAL. ctx may be NULL when ctx_len is 0. */
MW_WUR int mw_mldsa_sign(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                         const uint8_t *msg, size_t msg_len, const uint8_t *ctx, size_t ctx_len,
                         const uint8_t *rnd);

/* Verification returns 0 for a valid signature, MW_EVERIFY for an invalid
 * one (including a wrong signature length), MW_EINVAL for a wrong public
 * key length, a bad parameter set or ctx_len > 255. */
MW_WUR int mw_mldsa_verify_internal(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len,
                                    const uint8_t *mprime, size_t mprime_len, const uint8_t *sig,
                                    size_t sig_len);
MW_WUR int mw_mldsa_verify_mu(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len,
                              const uint8_t mu[64], const uint8_t *sig, size_t sig_len);
/* ML-DSA.Verify(pk, M, sigma, ctx), Algorithm 3. */
MW_WUR int mw_mldsa_verify(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len, const uint8_t *msg,
                           size_t msg_len, const uint8_t *ctx, size_t ctx_len, const uint8_t *sig,
                           size_t sig_len);

/* Pre-hash functions of HashML-DSA (FIPS 204 section 5.4, Table of OIDs). */
typedef enum mw_ph_alg {
    MW_PH_SHA2_224,
    MW_PH_SHA2_256,
    MW_PH_SHA2_384,
    MW_PH_SHA2_512,
    MW_PH_SHA2_512_224,
    MW_PH_SHA2_512_256,
    MW_PH_SHA3_224,
    MW_PH_SHA3_256,
    MW_PH_SHA3_384,
    MW_PH_SHA3_512,
    MW_PH_SHAKE128, /* 256-bit output */
    MW_PH_SHAKE256, /* 512-bit output */
} mw_ph_alg_t;

/* ACVP names: "SHA2-256", "SHA2-512/224", "SHA3-384", "SHAKE-128", ... */
MW_WUR int mw_ph_alg_from_name(const char *name, mw_ph_alg_t *out);

/* HashML-DSA.Sign / Verify, Algorithms 4 and 5: M' = 1 || |ctx| || ctx ||
 * OID(ph) || PH(M), on the raw message M. */
MW_WUR int mw_hashmldsa_sign(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                             const uint8_t *msg, size_t msg_len, const uint8_t *ctx, size_t ctx_len,
                             mw_ph_alg_t ph, const uint8_t *rnd);
MW_WUR int mw_hashmldsa_verify(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len,
                               const uint8_t *msg, size_t msg_len, const uint8_t *ctx,
                               size_t ctx_len, mw_ph_alg_t ph, const uint8_t *sig, size_t sig_len);

/* ------------------------------------------------------------------ */
/* Randomness                                                          */
/* ------------------------------------------------------------------ */

/* len bytes from getrandom(2) (blocking until the kernel pool is seeded,
 * retrying on EINTR and short reads). MW_ECRYPTO if the kernel refuses. */
MW_WUR int mw_random_bytes(void *buf, size_t len);

#endif
