/* Hybrid KEM: X25519 (RFC 7748, through OpenSSL EVP_PKEY) + ML-KEM-1024
 * (FIPS 203), combined as X-Wing combines them (include/mwrasp/pqc.h,
 * docs/internals/crypto.md "Hybrid KEM"):
 *
 *   ss = SHA3-256("MWHK01" || ss_mlkem || ss_x25519 || ct_x25519 ||
 *                 pk_x25519 || ct_mlkem)
 *
 * The key is secret as long as either component is: the hash binds both
 * shared secrets to the X25519 transcript (ephemeral and static public keys)
 * and to the ML-KEM ciphertext. */
#include <string.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

#define X_BYTES 32 /* X25519 keys and shared secrets, RFC 7748 section 6.1 */
#define EK_OFF 0
#define PKX_OFF MW_MLKEM1024_EK_BYTES
#define SKX_OFF MW_MLKEM1024_DK_BYTES
#define SKPKX_OFF (MW_MLKEM1024_DK_BYTES + X_BYTES)
#define CTX_OFF MW_MLKEM1024_CT_BYTES

_Static_assert(sizeof(MW_HYBRID_LABEL) - 1 == MW_HYBRID_LABEL_BYTES, "label length");

/* pub = X25519(sk, 9): the public key of a raw private key. */
static int x25519_public(uint8_t pub[32], const uint8_t sk[32])
{
    int rc = MW_ECRYPTO;
    size_t n = X_BYTES;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, X_BYTES);
    if (k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == X_BYTES)
        rc = MW_OK;
    EVP_PKEY_free(k); /* OpenSSL clears the private key on free */
    return rc;
}

/* ss = X25519(sk, peer). OpenSSL refuses an all-zero result (RFC 7748
 * section 6.1: a low-order peer point), which gives MW_ECRYPTO. */
static int x25519_derive(uint8_t ss[32], const uint8_t sk[32], const uint8_t peer[32])
{
    int rc = MW_ECRYPTO;
    size_t n = X_BYTES;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, X_BYTES);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, X_BYTES);
    EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    if (c == NULL || p == NULL)
        goto out;
    if (EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c, p) != 1 ||
        EVP_PKEY_derive(c, ss, &n) != 1 || n != X_BYTES)
        goto out;
    rc = MW_OK;
out:
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    if (rc != MW_OK)
        explicit_bzero(ss, X_BYTES);
    return rc;
}

/* The combiner (the byte layout is in pqc.h). */
static void combine(uint8_t ss[32], const uint8_t ss_m[32], const uint8_t ss_x[32],
                    const uint8_t ct_x[32], const uint8_t pk_x[32], const uint8_t *ct_m)
{
    mw_keccak_t k;
    mw_sha3_256_init(&k);
    mw_keccak_absorb(&k, (const uint8_t *)MW_HYBRID_LABEL, MW_HYBRID_LABEL_BYTES);
    mw_keccak_absorb(&k, ss_m, MW_MLKEM_SS_BYTES);
    mw_keccak_absorb(&k, ss_x, X_BYTES);
    mw_keccak_absorb(&k, ct_x, X_BYTES);
    mw_keccak_absorb(&k, pk_x, X_BYTES);
    mw_keccak_absorb(&k, ct_m, MW_MLKEM1024_CT_BYTES);
    mw_keccak_squeeze(&k, ss, MW_HYBRID_SS_BYTES);
    mw_keccak_wipe(&k);
}

int mw_hybrid_keygen(uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len)
{
    if (pk == NULL || sk == NULL || pk_len != MW_HYBRID_PK_BYTES || sk_len != MW_HYBRID_SK_BYTES)
        return MW_EINVAL; /* outputs untouched (they may hold the caller's keys) */
    /* ML-KEM-1024 KeyGen (FIPS 203, Algorithm 19): ek and dk in place. */
    int rc = mw_mlkem_keygen(MW_MLKEM1024, pk + EK_OFF, sk);
    if (rc != MW_OK)
        goto out;
    /* X25519: a random 32-byte scalar (clamped inside X25519, RFC 7748
     * section 5) and its public key. */
    rc = mw_random_bytes(sk + SKX_OFF, X_BYTES);
    if (rc != MW_OK)
        goto out;
    rc = x25519_public(pk + PKX_OFF, sk + SKX_OFF);
    if (rc != MW_OK)
        goto out;
    memcpy(sk + SKPKX_OFF, pk + PKX_OFF, X_BYTES);
out:
    if (rc != MW_OK) {
        explicit_bzero(pk, pk_len);
        explicit_bzero(sk, sk_len);
    }
    return rc;
}

int mw_hybrid_encaps(uint8_t ss[32], uint8_t *ct, size_t ct_len, const uint8_t *pk, size_t pk_len)
{
    if (ss == NULL || ct == NULL || pk == NULL || ct_len != MW_HYBRID_CT_BYTES ||
        pk_len != MW_HYBRID_PK_BYTES) {
        if (ss != NULL) /* ss zeroized on every error, as ML-KEM does */
            explicit_bzero(ss, MW_HYBRID_SS_BYTES);
        return MW_EINVAL;
    }
    uint8_t ss_m[MW_MLKEM_SS_BYTES], ss_x[X_BYTES], eph[X_BYTES];
    /* ML-KEM.Encaps (FIPS 203, Algorithm 20) with the ek check of 7.2. */
    int rc = mw_mlkem_encaps(MW_MLKEM1024, ss_m, ct, pk + EK_OFF, MW_MLKEM1024_EK_BYTES);
    if (rc != MW_OK)
        goto out;
    /* Ephemeral X25519 key: its public key is the X25519 ciphertext. */
    rc = mw_random_bytes(eph, sizeof eph);
    if (rc != MW_OK)
        goto out;
    rc = x25519_public(ct + CTX_OFF, eph);
    if (rc != MW_OK)
        goto out;
    rc = x25519_derive(ss_x, eph, pk + PKX_OFF);
    if (rc != MW_OK)
        goto out;
    combine(ss, ss_m, ss_x, ct + CTX_OFF, pk + PKX_OFF, ct);
out:
    explicit_bzero(ss_m, sizeof ss_m);
    explicit_bzero(ss_x, sizeof ss_x);
    explicit_bzero(eph, sizeof eph);
    if (rc != MW_OK) {
        explicit_bzero(ss, MW_HYBRID_SS_BYTES);
        explicit_bzero(ct, ct_len);
    }
    return rc;
}

int mw_hybrid_decaps(uint8_t ss[32], const uint8_t *ct, size_t ct_len, const uint8_t *sk,
                     size_t sk_len)
{
    if (ss == NULL || ct == NULL || sk == NULL || ct_len != MW_HYBRID_CT_BYTES ||
        sk_len != MW_HYBRID_SK_BYTES) {
        if (ss != NULL)
            explicit_bzero(ss, MW_HYBRID_SS_BYTES);
        return MW_EINVAL;
    }
    uint8_t ss_m[MW_MLKEM_SS_BYTES], ss_x[X_BYTES];
    /* ML-KEM.Decaps (FIPS 203, Algorithm 21) with the checks of 7.3; a bad
     * ciphertext gives the implicit-rejection key, not an error. */
    int rc =
        mw_mlkem_decaps(MW_MLKEM1024, ss_m, ct, MW_MLKEM1024_CT_BYTES, sk, MW_MLKEM1024_DK_BYTES);
    if (rc != MW_OK)
        goto out;
    rc = x25519_derive(ss_x, sk + SKX_OFF, ct + CTX_OFF);
    if (rc != MW_OK)
        goto out;
    combine(ss, ss_m, ss_x, ct + CTX_OFF, sk + SKPKX_OFF, ct);
out:
    explicit_bzero(ss_m, sizeof ss_m);
    explicit_bzero(ss_x, sizeof ss_x);
    if (rc != MW_OK)
        explicit_bzero(ss, MW_HYBRID_SS_BYTES);
    return rc;
}
