/* libFuzzer harness for the API's credential parsers (src/api/auth.c): the
 * JWT verifier (mw_jwt_verify) with HS256 and Ed25519 keys configured, the
 * API key text parser and the base64url decoder. Promises: no crash, no
 * leak, no read outside the input; a successful verify names a real role and
 * a printable subject; base64url decoding is canonical (decode then encode
 * gives the input back); the tokens here are never valid (no signing key is
 * known to the fuzzer), so a success is a bug.
 *
 * Input: the bytes are the token (or key text); the first byte also picks
 * the clock (0: 2020, else 2040) so that exp/nbf paths both run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ed;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[32] = "fuzz-secret-fuzz-secret-fuzz-sec";
    /* RFC 8037 A.1 public key */
    static const uint8_t x[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                  0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                  0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    char *tok, sub[128], id[MW_APIKEY_IDLEN + 1];
    enum mw_api_role role = MW_ROLE_NONE;
    enum mw_auth_fail why = MW_AUTHF__COUNT;
    uint8_t out[MW_JWT_MAX];
    char enc[MW_JWT_MAX * 2];

    if (ed == NULL)
        ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
    if (ed == NULL)
        abort();
    if (size > MW_JWT_MAX + 16)
        return 0;
    tok = malloc(size ? size : 1); /* exact size: ASan sees any overread */
    if (tok == NULL)
        return 0;
    memcpy(tok, data, size);

    struct mw_jwt_config c = {.hs256_secret = secret,
                              .hs256_len = sizeof secret,
                              .ed25519 = ed,
                              .issuer = "iss",
                              .audience = "aud",
                              .role_claim = "role",
                              .leeway_s = 30};
    int64_t now = size && data[0] == 0 ? 1600000000 : 2200000000;
    int rc = mw_jwt_verify(&c, tok, size, now, sub, sizeof sub, &role, &why);
    if (rc == 0)
        abort(); /* forged without the key */
    if (rc != MW_EVERIFY || (unsigned)why >= MW_AUTHF__COUNT)
        abort();

    if (mw_apikey_parse(tok, size, id) == 0 && strlen(id) != MW_APIKEY_IDLEN)
        abort();

    int n = mw_b64url_decode(tok, size, out, sizeof out);
    if (n >= 0) {
        int m = mw_b64url_encode(out, (size_t)n, enc, sizeof enc);
        if (m != (int)size || memcmp(enc, tok, size) != 0)
            abort(); /* not canonical */
    }
    free(tok);
    return 0;
}
