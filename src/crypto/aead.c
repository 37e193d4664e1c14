/* Symmetric layer over OpenSSL 3.0 EVP (include/mwrasp/pqc.h,
 * docs/internals/crypto.md "Symmetric layer", "Sealed format"):
 * AES-256-GCM (NIST SP 800-38D), the sealed message format, and HKDF
 * (RFC 5869) over EVP_KDF "HKDF" with SHA-256 or SHA3-512. */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "mwrasp/pqc.h"

/* ---- AES-256-GCM ------------------------------------------------------- */

/* MW_AEAD_MAX_BYTES (1 GiB) < INT_MAX, so one EVP update call takes it all. */
_Static_assert(MW_AEAD_MAX_BYTES <= INT_MAX, "EVP lengths are int");

static EVP_CIPHER_CTX *gcm_init(int enc, const uint8_t key[32], const uint8_t nonce[12])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return NULL;
    /* SP 800-38D section 5.2.1.1: a 96-bit IV (OpenSSL's default length). */
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, MW_AES256GCM_NONCE_BYTES, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1) {
        EVP_CIPHER_CTX_free(c); /* clears the key schedule */
        return NULL;
    }
    return c;
}

/* Feeds the AAD in two parts (sealed header + caller's aad). */
static int gcm_aad(EVP_CIPHER_CTX *c, const uint8_t *a, size_t a_len)
{
    int n = 0;
    if (a_len == 0)
        return 1;
    return EVP_CipherUpdate(c, NULL, &n, a, (int)a_len) == 1;
}

static int gcm_encrypt2(uint8_t *ct, uint8_t tag[16], const uint8_t key[32],
                        const uint8_t nonce[12], const uint8_t *aad1, size_t aad1_len,
                        const uint8_t *aad2, size_t aad2_len, const uint8_t *pt, size_t pt_len)
{
    int rc = MW_ECRYPTO, n = 0;
    uint8_t fin[MW_AES256GCM_TAG_BYTES];
    EVP_CIPHER_CTX *c = NULL;
    if (pt_len > MW_AEAD_MAX_BYTES || aad2_len > MW_AEAD_MAX_BYTES) {
        rc = MW_ETOOBIG;
        goto out;
    }
    if ((pt_len && (ct == NULL || pt == NULL)) || (aad2_len && aad2 == NULL) || tag == NULL ||
        key == NULL || nonce == NULL) {
        rc = MW_EINVAL;
        goto out;
    }
    c = gcm_init(1, key, nonce);
    if (c == NULL)
        goto out;
    if (!gcm_aad(c, aad1, aad1_len) || !gcm_aad(c, aad2, aad2_len))
        goto out;
    if (pt_len && (EVP_CipherUpdate(c, ct, &n, pt, (int)pt_len) != 1 || (size_t)n != pt_len))
        goto out;
    if (EVP_CipherFinal_ex(c, fin, &n) != 1 || n != 0) /* GCM outputs nothing here */
        goto out;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, MW_AES256GCM_TAG_BYTES, tag) != 1)
        goto out;
    rc = MW_OK;
out:
    EVP_CIPHER_CTX_free(c);
    if (rc != MW_OK) {
        /* Outputs zeroized on every error (pqc.h); a length over the cap is
         * not written to. */
        if (pt_len && ct && rc != MW_ETOOBIG)
            explicit_bzero(ct, pt_len);
        if (tag)
            explicit_bzero(tag, MW_AES256GCM_TAG_BYTES);
    }
    return rc;
}

static int gcm_decrypt2(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[12],
                        const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                        const uint8_t *ct, size_t ct_len, const uint8_t tag[16])
{
    int rc = MW_ECRYPTO, n = 0;
    uint8_t t[MW_AES256GCM_TAG_BYTES], fin[MW_AES256GCM_TAG_BYTES];
    EVP_CIPHER_CTX *c = NULL;
    if (ct_len > MW_AEAD_MAX_BYTES || aad2_len > MW_AEAD_MAX_BYTES)
        return MW_ETOOBIG; /* pt (ct_len bytes) is not written to */
    if ((ct_len && (ct == NULL || pt == NULL)) || (aad2_len && aad2 == NULL) || tag == NULL ||
        key == NULL || nonce == NULL) {
        rc = MW_EINVAL;
        goto out;
    }
    memcpy(t, tag, sizeof t); /* EVP takes a non-const pointer */
    c = gcm_init(0, key, nonce);
    if (c == NULL)
        goto out;
    if (!gcm_aad(c, aad1, aad1_len) || !gcm_aad(c, aad2, aad2_len))
        goto out;
    if (ct_len && (EVP_CipherUpdate(c, pt, &n, ct, (int)ct_len) != 1 || (size_t)n != ct_len))
        goto out;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, MW_AES256GCM_TAG_BYTES, t) != 1)
        goto out;
    /* SP 800-38D Algorithm 5 step 8: OpenSSL compares the tags with
     * CRYPTO_memcmp (constant time) and fails the final call on a mismatch. */
    if (EVP_CipherFinal_ex(c, fin, &n) != 1 || n != 0) {
        rc = MW_EVERIFY;
        goto out;
    }
    rc = MW_OK;
out:
    EVP_CIPHER_CTX_free(c);
    if (rc != MW_OK && ct_len && pt)
        explicit_bzero(pt, ct_len);
    return rc;
}

int mw_aes256gcm_encrypt(uint8_t *ct, uint8_t tag[16], const uint8_t key[32],
                         const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                         const uint8_t *pt, size_t pt_len)
{
    return gcm_encrypt2(ct, tag, key, nonce, NULL, 0, aad, aad_len, pt, pt_len);
}

int mw_aes256gcm_decrypt(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[12],
                         const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                         const uint8_t tag[16])
{
    return gcm_decrypt2(pt, key, nonce, NULL, 0, aad, aad_len, ct, ct_len, tag);
}

/* ---- sealed format ----------------------------------------------------- */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

int mw_seal(uint8_t *out, size_t out_cap, size_t *out_len, const uint8_t key[32], uint64_t gen_id,
            const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, const uint8_t *pt,
            size_t pt_len)
{
    if (out_len)
        *out_len = 0;
    if (pt_len > MW_AEAD_MAX_BYTES)
        return MW_ETOOBIG;
    if (out == NULL || out_len == NULL || out_cap < pt_len + MW_SEAL_OVERHEAD || key == NULL ||
        nonce == NULL)
        return MW_EINVAL;
    out[0] = MW_SEAL_VERSION;
    put_be64(out + 1, gen_id);
    memcpy(out + 9, nonce, MW_AES256GCM_NONCE_BYTES);
    int rc = gcm_encrypt2(out + MW_SEAL_HEADER_BYTES, out + MW_SEAL_HEADER_BYTES + pt_len, key,
                          nonce, out, MW_SEAL_HEADER_BYTES, aad, aad_len, pt, pt_len);
    if (rc != MW_OK) {
        explicit_bzero(out, pt_len + MW_SEAL_OVERHEAD);
        return rc;
    }
    *out_len = pt_len + MW_SEAL_OVERHEAD;
    return MW_OK;
}

int mw_seal_generation(const uint8_t *in, size_t in_len, uint64_t *gen_id)
{
    if (in == NULL || gen_id == NULL || in_len < MW_SEAL_OVERHEAD || in[0] != MW_SEAL_VERSION)
        return MW_EINVAL;
    *gen_id = get_be64(in + 1);
    return MW_OK;
}

int mw_seal_open(uint8_t *pt, size_t pt_cap, size_t *pt_len, const uint8_t key[32], uint64_t gen_id,
                 const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len)
{
    if (pt_len)
        *pt_len = 0;
    if (in == NULL || pt_len == NULL || in_len < MW_SEAL_OVERHEAD)
        return MW_EINVAL;
    size_t n = in_len - MW_SEAL_OVERHEAD;
    if (n > MW_AEAD_MAX_BYTES)
        return MW_ETOOBIG;
    if (pt_cap < n || (n && pt == NULL))
        return MW_EINVAL;
    /* The header is public: a version or generation that is not the one
     * expected cannot verify under this key. */
    if (in[0] != MW_SEAL_VERSION || get_be64(in + 1) != gen_id) {
        if (n)
            explicit_bzero(pt, n);
        return MW_EVERIFY;
    }
    int rc = gcm_decrypt2(pt, key, in + 9, in, MW_SEAL_HEADER_BYTES, aad, aad_len,
                          in + MW_SEAL_HEADER_BYTES, n, in + MW_SEAL_HEADER_BYTES + n);
    if (rc == MW_OK)
        *pt_len = n;
    return rc;
}

/* ---- HKDF (RFC 5869) --------------------------------------------------- */

size_t mw_hkdf_hash_bytes(mw_hkdf_hash_t h)
{
    switch (h) {
    case MW_HKDF_SHA256:
        return 32;
    case MW_HKDF_SHA3_512:
        return 64;
    }
    return 0;
}

static const char *hkdf_digest(mw_hkdf_hash_t h)
{
    return h == MW_HKDF_SHA256 ? "SHA2-256" : h == MW_HKDF_SHA3_512 ? "SHA3-512" : NULL;
}

/* One EVP_KDF "HKDF" derivation in the given mode. key is the IKM (extract
 * modes) or the PRK (expand only). */
static int hkdf_run(mw_hkdf_hash_t h, int mode, uint8_t *out, size_t out_len, const uint8_t *salt,
                    size_t salt_len, const uint8_t *key, size_t key_len, const uint8_t *info,
                    size_t info_len)
{
    const char *dg = hkdf_digest(h);
    if (dg == NULL || out == NULL || out_len == 0 || (key_len && key == NULL) ||
        (salt_len && salt == NULL) || (info_len && info == NULL))
        return MW_EINVAL;
    if (info_len > MW_HKDF_MAX_INFO_BYTES || key_len > MW_HKDF_MAX_IKM_BYTES ||
        salt_len > MW_HKDF_MAX_IKM_BYTES)
        return MW_ETOOBIG;
    int rc = MW_ECRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (c == NULL)
        goto out;
    /* An empty IKM is passed as a zero-length octet string (with a valid
     * pointer: OpenSSL copies it). */
    uint8_t dummy = 0;
    OSSL_PARAM ps[6], *p = ps;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)dg, 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key_len ? (void *)key : &dummy,
                                             key_len);
    /* RFC 5869 section 2.2: a missing salt is HashLen zero bytes, the same
     * HMAC key as an empty one; OpenSSL uses that when no salt is set. */
    if (salt_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(c, out, out_len, ps) != 1)
        goto out;
    rc = MW_OK;
out:
    EVP_KDF_CTX_free(c); /* frees (and OpenSSL clears) the key copies */
    EVP_KDF_free(kdf);
    if (rc != MW_OK)
        explicit_bzero(out, out_len);
    return rc;
}

int mw_hkdf(mw_hkdf_hash_t h, uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
            const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
    size_t hl = mw_hkdf_hash_bytes(h);
    if (hl == 0 || out_len > 255 * hl) /* RFC 5869 section 2.3: L <= 255*HashLen */
        return MW_EINVAL;
    return hkdf_run(h, EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, out, out_len, salt, salt_len, ikm,
                    ikm_len, info, info_len);
}

int mw_hkdf_extract(mw_hkdf_hash_t h, uint8_t *prk, size_t prk_len, const uint8_t *salt,
                    size_t salt_len, const uint8_t *ikm, size_t ikm_len)
{
    size_t hl = mw_hkdf_hash_bytes(h);
    if (hl == 0 || prk_len != hl)
        return MW_EINVAL;
    return hkdf_run(h, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, prk, prk_len, salt, salt_len, ikm, ikm_len,
                    NULL, 0);
}

int mw_hkdf_expand(mw_hkdf_hash_t h, uint8_t *out, size_t out_len, const uint8_t *prk,
                   size_t prk_len, const uint8_t *info, size_t info_len)
{
    size_t hl = mw_hkdf_hash_bytes(h);
    if (hl == 0 || out_len > 255 * hl || prk_len < hl) /* RFC 5869 section 2.3 */
        return MW_EINVAL;
    return hkdf_run(h, EVP_KDF_HKDF_MODE_EXPAND_ONLY, out, out_len, NULL, 0, prk, prk_len, info,
                    info_len);
}
