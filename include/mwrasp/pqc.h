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
#include <stdio.h>

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
/* ACVP runner (src/crypto/acvp.c)                                     */
/* ------------------------------------------------------------------ */

/* Runs NIST ACVP vector sets (their published JSON) against the functions
 * above: ML-KEM keyGen and encapDecap (encapsulation, decapsulation,
 * encapsulationKeyCheck, decapsulationKeyCheck) of revision FIPS203, ML-DSA
 * keyGen, sigGen and sigVer of revision FIPS204 (external pure with context,
 * external preHash, internal with externalMu false or true; deterministic
 * groups sign with rnd = 32 zero bytes). docs/internals/crypto.md, "ACVP". */

#define MW_ACVP_MAX_FILE_BYTES (256u << 20) /* a JSON file larger than this is refused */
#define MW_ACVP_MAX_HEX_BYTES (1u << 20) /* decoded size cap of one hex field */
#define MW_ACVP_MAX_DEPTH 4 /* folders below PATH searched for vector sets */

struct mw_acvp_counts {
    unsigned long long passed; /* cases whose every output matched */
    unsigned long long failed; /* cases that differed, or could not run (includes errors) */
    unsigned long long skipped; /* cases of unsupported groups or vector sets */
    unsigned long long errors; /* malformed cases (missing field, bad hex, bad length) */
};

/* Runs one vector set held in memory. json is a whole vector set
 * (internalProjection.json, or prompt.json when expected is not NULL, then
 * joined with expectedResults.json in expected on (tgId, tcId)). name is used
 * in messages. Every failure, skip and error is printed to report (may be
 * NULL) as one line "NAME: vsId V tgId G tcId T ...: what differed". The
 * counts are ADDED to *out (zero it first). Returns 0 when the set was read
 * (even if cases failed), MW_EPARSE for malformed JSON or a malformed case
 * (the run goes on with the other cases; counts.errors says how many),
 * MW_ETOOBIG past a cap, MW_ENOMEM. Never reads outside the buffers. */
MW_WUR int mw_acvp_run_buffer(const char *name, const char *json, size_t len, const char *expected,
                              size_t expected_len, FILE *report, struct mw_acvp_counts *out);

/* Runs PATH: a vector set file (a prompt.json is joined with the
 * expectedResults.json beside it), or a folder holding internalProjection.json,
 * or prompt.json + expectedResults.json, or (searched up to MW_ACVP_MAX_DEPTH
 * levels, in name order) folders that do. As mw_acvp_run_buffer, plus MW_EIO
 * when a file cannot be read and MW_ENOTFOUND when PATH holds no vector set. */
MW_WUR int mw_acvp_run_path(const char *path, FILE *report, struct mw_acvp_counts *out);

/* ------------------------------------------------------------------ */
/* Randomness                                                          */
/* ------------------------------------------------------------------ */

/* len bytes from getrandom(2) (blocking until the kernel pool is seeded,
 * retrying on EINTR and short reads). MW_ECRYPTO if the kernel refuses. */
MW_WUR int mw_random_bytes(void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Symmetric layer over OpenSSL 3.0 (src/crypto/aead.c)                */
/* ------------------------------------------------------------------ */

/* AES-256-GCM, NIST SP 800-38D, through OpenSSL EVP. */
#define MW_AES256GCM_KEY_BYTES 32
#define MW_AES256GCM_NONCE_BYTES 12
#define MW_AES256GCM_TAG_BYTES 16
#define MW_AEAD_MAX_BYTES ((size_t)1 << 30) /* cap on a plaintext and on an AAD */

/* ct (pt_len bytes, may equal pt) and tag = GCM-AE(key, nonce, aad, pt).
 * The caller guarantees that (key, nonce) is never used twice (see
 * mw_seal and docs/internals/crypto.md "AEAD nonces"). MW_ETOOBIG past
 * MW_AEAD_MAX_BYTES, MW_ECRYPTO if OpenSSL fails (outputs zeroized). */
MW_WUR int mw_aes256gcm_encrypt(uint8_t *ct, uint8_t tag[16], const uint8_t key[32],
                                const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                                const uint8_t *pt, size_t pt_len);
/* pt (ct_len bytes, may equal ct) = GCM-AD(...). The tag is compared in
 * constant time (by OpenSSL); MW_EVERIFY on a mismatch, with pt zeroized. */
MW_WUR int mw_aes256gcm_decrypt(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[12],
                                const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                                size_t ct_len, const uint8_t tag[16]);

/* Sealed message format, version 1 (docs/internals/crypto.md "Sealed
 * format"):  version (1 byte, MW_SEAL_VERSION) || key generation id (8 bytes,
 * big-endian) || nonce (12) || ciphertext (as long as the plaintext) || tag
 * (16). The GCM AAD is the 21-byte header followed by the caller's aad, so
 * the version and the generation id are authenticated with the data. */
#define MW_SEAL_VERSION 1
#define MW_SEAL_HEADER_BYTES 21
#define MW_SEAL_OVERHEAD (MW_SEAL_HEADER_BYTES + MW_AES256GCM_TAG_BYTES) /* 37 */

/* Seals pt under (key, gen_id, nonce) into out (out_cap >= pt_len +
 * MW_SEAL_OVERHEAD, else MW_EINVAL); *out_len = pt_len + MW_SEAL_OVERHEAD.
 * The nonce must be unique under key: use mw_keystore_seal, which manages
 * them. */
MW_WUR int mw_seal(uint8_t *out, size_t out_cap, size_t *out_len, const uint8_t key[32],
                   uint64_t gen_id, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                   const uint8_t *pt, size_t pt_len);
/* The generation id of a sealed message (to pick its key); MW_EINVAL if in
 * is shorter than MW_SEAL_OVERHEAD or not version 1. Not authenticated yet. */
MW_WUR int mw_seal_generation(const uint8_t *in, size_t in_len, uint64_t *gen_id);
/* Opens a sealed message: pt_cap >= in_len - MW_SEAL_OVERHEAD. MW_EVERIFY
 * for any change to the message, its aad, or a header that names another
 * version or generation than gen_id; MW_EINVAL if in is too short or pt_cap
 * too small. On failure pt is zeroized and *pt_len is 0. */
MW_WUR int mw_seal_open(uint8_t *pt, size_t pt_cap, size_t *pt_len, const uint8_t key[32],
                        uint64_t gen_id, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                        size_t in_len);

/* HKDF, RFC 5869, through OpenSSL's EVP_KDF "HKDF". */
typedef enum mw_hkdf_hash {
    MW_HKDF_SHA256 = 1, /* HashLen 32 */
    MW_HKDF_SHA3_512 = 2, /* HashLen 64 */
} mw_hkdf_hash_t;

#define MW_HKDF_MAX_INFO_BYTES 1024 /* OpenSSL 3.0's limit on info */
#define MW_HKDF_MAX_IKM_BYTES ((size_t)1 << 20)

/* HashLen of h; 0 for an invalid h. */
size_t mw_hkdf_hash_bytes(mw_hkdf_hash_t h);
/* OKM = HKDF-Expand(HKDF-Extract(salt, ikm), info, out_len). salt may be NULL
 * when salt_len is 0 (then HashLen zero bytes, RFC 5869 section 2.2), info
 * NULL when info_len is 0. out_len in 1..255*HashLen, else MW_EINVAL;
 * info_len > MW_HKDF_MAX_INFO_BYTES or ikm_len > MW_HKDF_MAX_IKM_BYTES:
 * MW_ETOOBIG. */
MW_WUR int mw_hkdf(mw_hkdf_hash_t h, uint8_t *out, size_t out_len, const uint8_t *salt,
                   size_t salt_len, const uint8_t *ikm, size_t ikm_len, const uint8_t *info,
                   size_t info_len);
/* PRK = HKDF-Extract(salt, ikm): prk_len must be HashLen. */
MW_WUR int mw_hkdf_extract(mw_hkdf_hash_t h, uint8_t *prk, size_t prk_len, const uint8_t *salt,
                           size_t salt_len, const uint8_t *ikm, size_t ikm_len);
/* OKM = HKDF-Expand(prk, info, out_len): prk_len >= HashLen. */
MW_WUR int mw_hkdf_expand(mw_hkdf_hash_t h, uint8_t *out, size_t out_len, const uint8_t *prk,
                          size_t prk_len, const uint8_t *info, size_t info_len);

/* ------------------------------------------------------------------ */
/* Hybrid KEM: X25519 + ML-KEM-1024 (src/crypto/hybrid.c)              */
/* ------------------------------------------------------------------ */

/* Combined as X-Wing does (docs/internals/crypto.md "Hybrid KEM"):
 *   ss = SHA3-256("MWHK01" || ss_mlkem || ss_x25519 || ct_x25519 ||
 *                 pk_x25519 || ct_mlkem)
 * Byte layouts:
 *   pk = ek_mlkem1024 (1568) || pk_x25519 (32)
 *   sk = dk_mlkem1024 (3168) || sk_x25519 (32) || pk_x25519 (32)
 *   ct = ct_mlkem1024 (1568) || ct_x25519 (32, the ephemeral public key) */
#define MW_HYBRID_LABEL "MWHK01"
#define MW_HYBRID_LABEL_BYTES 6
#define MW_HYBRID_PK_BYTES (MW_MLKEM1024_EK_BYTES + 32) /* 1600 */
#define MW_HYBRID_SK_BYTES (MW_MLKEM1024_DK_BYTES + 64) /* 3232 */
#define MW_HYBRID_CT_BYTES (MW_MLKEM1024_CT_BYTES + 32) /* 1600 */
#define MW_HYBRID_SS_BYTES 32

/* All lengths must be exactly the sizes above (MW_EINVAL otherwise).
 * MW_ECRYPTO if OpenSSL or the random source fails, or if an X25519 shared
 * secret is all zero (a low-order point, which OpenSSL refuses). Outputs are
 * zeroized on failure. */
MW_WUR int mw_hybrid_keygen(uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len);
MW_WUR int mw_hybrid_encaps(uint8_t ss[32], uint8_t *ct, size_t ct_len, const uint8_t *pk,
                            size_t pk_len);
/* A tampered ML-KEM ciphertext gives ML-KEM's implicit-rejection secret (so a
 * different ss, return 0); a tampered X25519 part gives a different ss or
 * MW_ECRYPTO (low-order point). */
MW_WUR int mw_hybrid_decaps(uint8_t ss[32], const uint8_t *ct, size_t ct_len, const uint8_t *sk,
                            size_t sk_len);

/* ------------------------------------------------------------------ */
/* Keystore (src/crypto/keystore.c)                                    */
/* ------------------------------------------------------------------ */

/* A file of key generations, sealed under a master key. Each generation has
 * an ML-DSA-87 identity key pair and an AES-256-GCM data key. Rotation adds a
 * generation; the newest MW_KEYSTORE_GENERATIONS are kept (data sealed under
 * them still opens), older ones are wiped and dropped. The file format, the
 * master key derivation and the nonce scheme are in docs/internals/crypto.md
 * ("Keystore", "AEAD nonces"). Writers lock PATH.lock (flock) and re-read
 * the file before each change, so several processes may share a keystore.
 * Not thread-safe: one handle per thread. */
#define MW_KEYSTORE_GENERATIONS 3
#define MW_KEYSTORE_DEFAULT_ROTATE_S (24u * 3600u)
#define MW_KEYSTORE_MASTER_KEY_BYTES 32
#define MW_KEYSTORE_MAX_FILE_BYTES 65536 /* a larger file is refused */
#define MW_KEYSTORE_ERR_BYTES 512 /* room for an error message */
#define MW_KEYSTORE_SCRYPT_LOG2N 17 /* default scrypt cost: N = 2^17, r = 8, p = 1 */
#define MW_KEYSTORE_SCRYPT_R 8
#define MW_KEYSTORE_SCRYPT_P 1

typedef struct mw_keystore mw_keystore_t;

/* How to get the master key: exactly one of key_file / passphrase. */
typedef struct mw_keystore_opts {
    const char *key_file; /* 64 hex digits (+ newline), mode 0600 or stricter */
    const char *passphrase; /* NUL-terminated, 1..1024 bytes, through scrypt */
    uint64_t rotate_interval_s; /* create only: 0 = MW_KEYSTORE_DEFAULT_ROTATE_S */
    uint8_t scrypt_log2n; /* create only: 0 = default; 10..20 */
    uint8_t scrypt_r; /* create only: 0 = default; 1..32 */
    uint8_t scrypt_p; /* create only: 0 = default; 1..16 */
} mw_keystore_opts_t;

typedef struct mw_keystore_gen_info {
    uint64_t id; /* 1, 2, 3, ... in creation order */
    int64_t created; /* Unix seconds */
    uint8_t identity_id[32]; /* SHA3-256 of the ML-DSA-87 public key */
} mw_keystore_gen_info_t;

/* In every function below, err (may be NULL) receives a one-line message
 * naming the file on failure (err_len >= MW_KEYSTORE_ERR_BYTES is enough). */

/* Writes a new master key file: 32 random bytes as 64 hex digits and a
 * newline, created with O_EXCL and mode 0600 (MW_EEXIST if path exists). */
MW_WUR int mw_keystore_new_master_key_file(const char *path, char *err, size_t err_len);
/* Reads a master key file. MW_ECONFIG if the file is not a regular file or
 * its mode grants any access to group or others; MW_EPARSE if the whole
 * file is not 64 hex digits followed only by newlines, CRs or spaces, or is
 * over 256 bytes; MW_EIO if it cannot be read. */
MW_WUR int mw_keystore_read_master_key(uint8_t key[32], const char *path, char *err,
                                       size_t err_len);

/* Creates a keystore file at path (MW_EEXIST if it exists) with one
 * generation created at now (Unix seconds), and returns an open handle. */
MW_WUR int mw_keystore_create(mw_keystore_t **out, const char *path, const mw_keystore_opts_t *opts,
                              int64_t now, char *err, size_t err_len);
/* Opens an existing keystore. MW_EVERIFY: wrong master key or a modified
 * file (the tag is checked before anything in the body is parsed);
 * MW_EPARSE / MW_ETOOBIG: malformed header or over a cap; MW_EIO. */
MW_WUR int mw_keystore_load(mw_keystore_t **out, const char *path, const mw_keystore_opts_t *opts,
                            char *err, size_t err_len);
/* Wipes every secret and frees; NULL is fine. */
void mw_keystore_free(mw_keystore_t *ks);

/* Adds a generation created at now, drops (wipes) those beyond
 * MW_KEYSTORE_GENERATIONS, and writes the file atomically. */
MW_WUR int mw_keystore_rotate(mw_keystore_t *ks, int64_t now, char *err, size_t err_len);
/* Rotates if the newest generation is at least the rotation interval old
 * at now; *rotated (may be NULL) says whether it did. */
MW_WUR int mw_keystore_rotate_if_due(mw_keystore_t *ks, int64_t now, int *rotated, char *err,
                                     size_t err_len);
uint64_t mw_keystore_rotate_interval(const mw_keystore_t *ks);

/* Generations held, newest first: i in 0..mw_keystore_generations()-1. */
size_t mw_keystore_generations(const mw_keystore_t *ks);
MW_WUR int mw_keystore_gen_info(const mw_keystore_t *ks, size_t i, mw_keystore_gen_info_t *out);
/* The ML-DSA-87 public key of generation i (pk_len = MW_MLDSA87_PK_BYTES). */
MW_WUR int mw_keystore_identity_pk(const mw_keystore_t *ks, size_t i, uint8_t *pk, size_t pk_len);

/* Seals under the newest generation's data key (format of mw_seal), with a
 * nonce from this handle's sealer (docs/internals/crypto.md "AEAD nonces"):
 * the first seal under a generation reserves a sealer id in the file (a
 * write). MW_ELIMIT when the generation's sealer ids or this sealer's
 * counter are used up: rotate. */
MW_WUR int mw_keystore_seal(mw_keystore_t *ks, uint8_t *out, size_t out_cap, size_t *out_len,
                            const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len);
/* Opens a message sealed under any generation held. MW_ENOTFOUND if its
 * generation is not held (destroyed or unknown), MW_EVERIFY if it was
 * modified, as mw_seal_open otherwise. */
MW_WUR int mw_keystore_unseal(const mw_keystore_t *ks, uint8_t *pt, size_t pt_cap, size_t *pt_len,
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len);
/* ML-DSA-87 signature (hedged, FIPS 204 Algorithm 2, context ctx) with the
 * newest generation's identity key; sig_len = MW_MLDSA87_SIG_BYTES. */
MW_WUR int mw_keystore_sign(const mw_keystore_t *ks, uint8_t *sig, size_t sig_len,
                            const uint8_t *msg, size_t msg_len, const uint8_t *ctx, size_t ctx_len);

#endif
