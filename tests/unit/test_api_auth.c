/* src/api/auth.c: base64url, JWT verification (RFC 7515 A.1 HS256 and RFC
 * 8037 A.4 Ed25519 examples, then every refusal), API key text, hashing,
 * lookup and revocation, and the role matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "api/api_int.h"
#include "mwrasp/config.h"
#include "mwrasp/pqc.h"

/* ---- helpers ------------------------------------------------------------- */

static size_t b64d(const char *s, uint8_t *out, size_t cap)
{
    int n = mw_b64url_decode(s, strlen(s), out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static char *b64e(const void *p, size_t n)
{
    char *s = malloc(n * 2 + 8);
    assert_non_null(s);
    assert_true(mw_b64url_encode(p, n, s, n * 2 + 8) >= 0);
    return s;
}

/* header.payload (both JSON texts, encoded here) */
static char *signing_input(const char *hdr, const char *claims)
{
    char *h = b64e(hdr, strlen(hdr)), *c = b64e(claims, strlen(claims));
    char *s = malloc(strlen(h) + strlen(c) + 2);
    sprintf(s, "%s.%s", h, c);
    free(h);
    free(c);
    return s;
}

static char *with_sig(char *in, const uint8_t *sig, size_t n)
{
    char *e = b64e(sig, n);
    char *s = malloc(strlen(in) + strlen(e) + 2);
    sprintf(s, "%s.%s", in, e);
    free(e);
    free(in);
    return s;
}

static char *hs256_token(const uint8_t *key, size_t kl, const char *hdr, const char *claims)
{
    char *in = signing_input(hdr, claims);
    uint8_t mac[32];
    unsigned ml = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)kl, (uint8_t *)in, strlen(in), mac, &ml));
    return with_sig(in, mac, 32);
}

static char *ed_token(EVP_PKEY *k, const char *hdr, const char *claims)
{
    char *in = signing_input(hdr, claims);
    uint8_t sig[64];
    size_t sl = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sl, (uint8_t *)in, strlen(in)), 1);
    EVP_MD_CTX_free(md);
    return with_sig(in, sig, sl);
}

/* RFC 8037 A.1 key pair */
static const char ED_D[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char ED_X[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/* RFC 7515 A.1 HMAC key */
static const char HS_K[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

static EVP_PKEY *ed_pub(void)
{
    uint8_t x[32];
    assert_int_equal(b64d(ED_X, x, sizeof x), 32);
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
    assert_non_null(k);
    return k;
}

static EVP_PKEY *ed_priv(void)
{
    uint8_t d[32];
    assert_int_equal(b64d(ED_D, d, sizeof d), 32);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, 32);
    assert_non_null(k);
    return k;
}

static enum mw_auth_fail verify(const struct mw_jwt_config *c, const char *tok, int64_t now,
                                char *sub, enum mw_api_role *role)
{
    enum mw_auth_fail why = MW_AUTHF__COUNT;
    char s[128];
    enum mw_api_role r = MW_ROLE_NONE;
    int rc = mw_jwt_verify(c, tok, strlen(tok), now, sub ? sub : s, 128, role ? role : &r, &why);
    if (rc == 0)
        return MW_AUTHF__COUNT; /* "no failure" */
    assert_int_equal(rc, MW_EVERIFY);
    return why;
}

/* ---- base64url ----------------------------------------------------------- */

static void test_b64url(void **state)
{
    (void)state;
    uint8_t out[16];
    char enc[32];
    /* RFC 4648 section 10 vectors, base64url without padding */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(mw_b64url_encode((const uint8_t *)in[i], strlen(in[i]), enc, sizeof enc),
                         (int)strlen(want[i]));
        assert_string_equal(enc, want[i]);
        assert_int_equal(mw_b64url_decode(want[i], strlen(want[i]), out, sizeof out),
                         (int)strlen(in[i]));
        assert_memory_equal(out, in[i], strlen(in[i]));
    }
    uint8_t ff[2] = {0xfb, 0xff};
    assert_int_equal(mw_b64url_encode(ff, 2, enc, sizeof enc), 3);
    assert_string_equal(enc, "-_8"); /* the url-safe alphabet */
    assert_int_equal(mw_b64url_decode("Zg==", 4, out, sizeof out), MW_EINVAL); /* padding */
    assert_int_equal(mw_b64url_decode("Zm9v+g", 6, out, sizeof out), MW_EINVAL); /* '+' */
    assert_int_equal(mw_b64url_decode("Zm9vY", 5, out, sizeof out), MW_EINVAL); /* 4n+1 */
    assert_int_equal(mw_b64url_decode("Zh", 2, out, sizeof out), MW_EINVAL); /* stray bits */
    assert_int_equal(mw_b64url_decode("Zm9vYmFy", 8, out, 5), MW_ETOOBIG);
    assert_int_equal(mw_b64url_encode((const uint8_t *)"foo", 3, enc, 4), MW_ETOOBIG);
}

/* ---- RFC test vectors ---------------------------------------------------- */

static void test_rfc7515_a1_hs256(void **state)
{
    (void)state;
    /* RFC 7515 appendix A.1: the JWS Signing Input and its HMAC SHA-256 */
    static const char tok[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                              ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                              "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                              ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    uint8_t key[64], sig[32], mac[32];
    unsigned ml = 0;
    size_t kl = b64d(HS_K, key, sizeof key);
    assert_int_equal(kl, 64);
    const char *d2 = strrchr(tok, '.');
    /* recompute: HMAC-SHA256(key, header '.' payload) is the RFC's signature */
    assert_int_equal(b64d(d2 + 1, sig, sizeof sig), 32);
    HMAC(EVP_sha256(), key, (int)kl, (const uint8_t *)tok, (size_t)(d2 - tok), mac, &ml);
    assert_memory_equal(mac, sig, 32);

    struct mw_jwt_config c = {.hs256_secret = key, .hs256_len = kl, .role_claim = "role"};
    /* signature and exp (1300819380) pass; the example has no role claim */
    assert_int_equal(verify(&c, tok, 1300819000, NULL, NULL), MW_AUTHF_ROLE);
    c.issuer = "joe";
    assert_int_equal(verify(&c, tok, 1300819000, NULL, NULL), MW_AUTHF_ROLE);
    c.issuer = "bob";
    assert_int_equal(verify(&c, tok, 1300819000, NULL, NULL), MW_AUTHF_ISSUER);
    c.issuer = NULL;
    assert_int_equal(verify(&c, tok, 1300819380, NULL, NULL), MW_AUTHF_EXPIRED); /* at exp */
    assert_int_equal(verify(&c, tok, 1300819379, NULL, NULL), MW_AUTHF_ROLE);
    c.leeway_s = 30;
    assert_int_equal(verify(&c, tok, 1300819409, NULL, NULL), MW_AUTHF_ROLE);
    assert_int_equal(verify(&c, tok, 1300819410, NULL, NULL), MW_AUTHF_EXPIRED);
    c.leeway_s = 0;
    char bad[sizeof tok];
    memcpy(bad, tok, sizeof tok);
    bad[sizeof tok - 3] = bad[sizeof tok - 3] == 'X' ? 'Y' : 'X';
    assert_int_equal(verify(&c, bad, 1300819000, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
    /* the same token when only EdDSA is configured: alg refused */
    EVP_PKEY *pub = ed_pub();
    struct mw_jwt_config e = {.ed25519 = pub, .role_claim = "role"};
    assert_int_equal(verify(&e, tok, 1300819000, NULL, NULL), MW_AUTHF_ALG);
    EVP_PKEY_free(pub);
}

static void test_rfc8037_a4_ed25519(void **state)
{
    (void)state;
    /* RFC 8037 appendix A.4: payload "Example of Ed25519 signing" */
    static const char tok[] =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
        ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    EVP_PKEY *pub = ed_pub(), *priv = ed_priv();
    struct mw_jwt_config c = {.ed25519 = pub, .role_claim = "role"};
    /* the signature verifies; the payload is not a JSON claims set */
    assert_int_equal(verify(&c, tok, 0, NULL, NULL), MW_AUTHF_MALFORMED);
    char bad[sizeof tok];
    memcpy(bad, tok, sizeof tok);
    bad[30] = bad[30] == 'A' ? 'B' : 'A'; /* payload changed */
    assert_int_equal(verify(&c, bad, 0, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
    /* Ed25519 is deterministic: signing the same input gives the RFC's signature */
    char *mine = ed_token(priv, "{\"alg\":\"EdDSA\"}", "Example of Ed25519 signing");
    assert_string_equal(mine, tok);
    free(mine);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
}

/* ---- every refusal ------------------------------------------------------- */

static void test_jwt_refusals(void **state)
{
    (void)state;
    uint8_t key[64];
    size_t kl = b64d(HS_K, key, sizeof key);
    EVP_PKEY *pub = ed_pub(), *priv = ed_priv();
    struct mw_jwt_config c = {.hs256_secret = key,
                              .hs256_len = kl,
                              .ed25519 = pub,
                              .issuer = "https://idp.example",
                              .audience = "mwrasp",
                              .role_claim = "role",
                              .leeway_s = 30};
    const int64_t now = 1700000000;
    char claims[512], sub[128];
    enum mw_api_role role;
    char *t;
#define CLAIMS(extra)                                                                              \
    snprintf(claims, sizeof claims,                                                                \
             "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"mwrasp\"," extra "}")
    static const char HS[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    static const char ED[] = "{\"alg\":\"EdDSA\"}";

    /* good HS256 and EdDSA tokens */
    CLAIMS("\"exp\":1700000600,\"role\":\"analyst\"");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, sub, &role), MW_AUTHF__COUNT);
    assert_string_equal(sub, "alice");
    assert_int_equal(role, MW_ROLE_ANALYST);
    free(t);
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, sub, &role), MW_AUTHF__COUNT);
    assert_int_equal(role, MW_ROLE_ANALYST);
    free(t);

    /* expired, and within the leeway; exp required; exp as a real */
    CLAIMS("\"exp\":1699999900,\"role\":\"viewer\"");
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_EXPIRED);
    free(t);
    CLAIMS("\"exp\":1699999990,\"role\":\"viewer\"");
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF__COUNT);
    free(t);
    CLAIMS("\"role\":\"viewer\"");
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_MALFORMED);
    free(t);
    CLAIMS("\"exp\":\"tomorrow\",\"role\":\"viewer\"");
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_MALFORMED);
    free(t);
    CLAIMS("\"exp\":1700000600.5,\"role\":\"viewer\"");
    t = ed_token(priv, ED, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF__COUNT);
    free(t);

    /* nbf in the future, beyond and within the leeway */
    CLAIMS("\"exp\":1700000600,\"nbf\":1700000100,\"role\":\"viewer\"");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_NOT_YET_VALID);
    free(t);
    CLAIMS("\"exp\":1700000600,\"nbf\":1700000020,\"role\":\"viewer\"");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF__COUNT);
    free(t);

    /* iss / aud */
    snprintf(claims, sizeof claims,
             "{\"sub\":\"a\",\"iss\":\"https://evil\",\"aud\":\"mwrasp\",\"exp\":1700000600,"
             "\"role\":\"admin\"}");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ISSUER);
    free(t);
    snprintf(claims, sizeof claims,
             "{\"sub\":\"a\",\"iss\":\"https://idp.example\",\"aud\":\"other\","
             "\"exp\":1700000600,\"role\":\"admin\"}");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_AUDIENCE);
    free(t);
    snprintf(claims, sizeof claims,
             "{\"sub\":\"a\",\"iss\":\"https://idp.example\",\"aud\":[\"x\",\"mwrasp\"],"
             "\"exp\":1700000600,\"role\":\"admin\"}");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, &role), MW_AUTHF__COUNT);
    assert_int_equal(role, MW_ROLE_ADMIN);
    free(t);

    /* role: missing, unknown, from another claim */
    CLAIMS("\"exp\":1700000600");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ROLE);
    free(t);
    CLAIMS("\"exp\":1700000600,\"role\":\"root\"");
    t = hs256_token(key, kl, HS, claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ROLE);
    free(t);
    CLAIMS("\"exp\":1700000600,\"mwrasp_role\":\"ingest\"");
    t = hs256_token(key, kl, HS, claims);
    c.role_claim = "mwrasp_role";
    assert_int_equal(verify(&c, t, now, NULL, &role), MW_AUTHF__COUNT);
    assert_int_equal(role, MW_ROLE_INGEST);
    c.role_claim = "role";
    free(t);

    /* alg none (RFC 7519 section 6.1 unsecured JWT), unknown algs */
    CLAIMS("\"exp\":1700000600,\"role\":\"admin\"");
    t = signing_input("{\"alg\":\"none\"}", claims);
    t = realloc(t, strlen(t) + 2);
    strcat(t, ".");
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ALG);
    free(t);
    t = hs256_token(key, kl, "{\"alg\":\"none\"}", claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ALG);
    free(t);
    t = hs256_token(key, kl, "{\"alg\":\"HS512\"}", claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ALG);
    free(t);
    t = hs256_token(key, kl, "{\"alg\":\"hs256\"}", claims); /* case matters */
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_ALG);
    free(t);

    /* algorithm confusion: HS256 "signed" with the Ed25519 public key (its PEM
     * and its raw bytes) as the HMAC secret */
    {
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        PEM_write_bio_PUBKEY(b, pub);
        long pl = BIO_get_mem_data(b, &pem);
        uint8_t x[32];
        b64d(ED_X, x, sizeof x);
        struct mw_jwt_config only_ed = c;
        only_ed.hs256_secret = NULL;
        t = hs256_token((const uint8_t *)pem, (size_t)pl, HS, claims);
        assert_int_equal(verify(&only_ed, t, now, NULL, NULL), MW_AUTHF_ALG);
        assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
        free(t);
        t = hs256_token(x, 32, HS, claims);
        assert_int_equal(verify(&only_ed, t, now, NULL, NULL), MW_AUTHF_ALG);
        assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
        free(t);
        BIO_free(b);
        /* and an EdDSA token when only HS256 is configured */
        struct mw_jwt_config only_hs = c;
        only_hs.ed25519 = NULL;
        t = ed_token(priv, ED, claims);
        assert_int_equal(verify(&only_hs, t, now, NULL, NULL), MW_AUTHF_ALG);
        free(t);
    }

    /* forged: claims changed after signing (role upgrade) */
    t = hs256_token(key, kl, HS, claims);
    {
        char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
        CLAIMS("\"exp\":1700000600,\"role\":\"admin\",\"x\":1");
        char *enc = b64e(claims, strlen(claims));
        char *f = malloc(strlen(t) + strlen(enc) + 4);
        sprintf(f, "%.*s.%s%s", (int)(d1 - t), t, enc, d2);
        assert_int_equal(verify(&c, f, now, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
        free(f);
        free(enc);
    }
    free(t);

    /* malformed structure, base64url and JSON */
    const char *mal[] = {"",
                         "abc",
                         "a.b",
                         "a.b.c.d",
                         ".eyJ9.c2ln",
                         "eyJhbGciOiJIUzI1NiJ9..c2ln",
                         "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln",
                         "e30.e30.c2ln", /* header without alg */
                         "W10.e30.c2ln", /* header is an array */
                         "bm90IGpzb24.e30.c2ln", /* "not json" */
                         "eyJhbGciOiJIUzI1NiIsImFsZyI6Im5vbmUifQ.e30.c2ln"}; /* dup alg */
    for (size_t i = 0; i < sizeof mal / sizeof mal[0]; i++) {
        enum mw_auth_fail w = verify(&c, mal[i], now, NULL, NULL);
        if (w != MW_AUTHF_MALFORMED)
            fail_msg("'%s': reason %s, want malformed", mal[i], mw_auth_fail_name(w));
    }
    /* crit header parameter: refused */
    t = hs256_token(key, kl, "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", claims);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_MALFORMED);
    free(t);
    /* signature of the wrong length */
    t = signing_input(HS, claims);
    t = with_sig(t, (const uint8_t *)"short", 5);
    assert_int_equal(verify(&c, t, now, NULL, NULL), MW_AUTHF_BAD_SIGNATURE);
    free(t);
    /* oversized */
    char *big = malloc(MW_JWT_MAX + 2);
    memset(big, 'A', MW_JWT_MAX + 1);
    big[10] = '.';
    big[20] = '.';
    big[MW_JWT_MAX + 1] = '\0';
    assert_int_equal(verify(&c, big, now, NULL, NULL), MW_AUTHF_TOO_LARGE);
    free(big);
#undef CLAIMS
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
}

/* ---- API keys ------------------------------------------------------------ */

static void test_apikey_text(void **state)
{
    (void)state;
    char id[MW_APIKEY_IDLEN + 1];
    const char *good = "mwk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(strlen(good), MW_APIKEY_TEXTLEN);
    assert_int_equal(mw_apikey_parse(good, strlen(good), id), 0);
    assert_string_equal(id, "0123456789ab");
    const char *bad[] = {
        "mwk_0123456789AB_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* upper-case hex */
        "mwx_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "mwk_0123456789ab.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "mwk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* short */
        "mwk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* long */
        "mwk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "mwk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", /* stray bits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mw_apikey_parse(bad[i], strlen(bad[i]), id), MW_EINVAL);
    /* the stored hash is SHA3-256 of the key text; FIPS 202 SHA3-256("") */
    uint8_t h[32], e[32];
    static const uint8_t sha3_empty[32] = {0xa7, 0xff, 0xc6, 0xf8, 0xbf, 0x1e, 0xd7, 0x66,
                                           0x51, 0xc1, 0x47, 0x56, 0xa0, 0x61, 0xd6, 0x62,
                                           0xf5, 0x80, 0xff, 0x4d, 0xe4, 0x3b, 0x49, 0xfa,
                                           0x82, 0xd8, 0x0a, 0x4b, 0x80, 0xf8, 0x43, 0x4a};
    mw_apikey_hash("", 0, h);
    assert_memory_equal(h, sha3_empty, 32);
    mw_apikey_hash(good, strlen(good), h);
    mw_sha3_256(e, (const uint8_t *)good, strlen(good));
    assert_memory_equal(h, e, 32);
}

static void test_apikey_lookup(void **state)
{
    (void)state;
    struct mw_config cfg;
    mw_api_auth_t *a = NULL;
    char err[256], text[MW_APIKEY_TEXTLEN + 1], hdr[128], id2[MW_APIKEY_IDLEN + 1];
    mw_apikey_rec_t rec, *list = NULL;
    size_t n = 0;
    struct mw_api_identity who;
    enum mw_auth_fail why;

    mw_config_defaults(&cfg);
    assert_int_equal(mw_api_auth_new(&cfg, NULL, &a, err, sizeof err), 0); /* + first admin */
    assert_int_equal(mw_api_auth_list_keys(a, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].role, "admin");
    free(list);

    assert_int_equal(mw_api_auth_create_key(a, MW_ROLE_ANALYST, "ci", text, &rec), 0);
    assert_int_equal(strlen(text), MW_APIKEY_TEXTLEN);
    assert_int_equal(mw_apikey_parse(text, strlen(text), id2), 0);
    assert_string_equal(id2, rec.id);
    uint8_t h[32];
    mw_apikey_hash(text, strlen(text), h);
    assert_memory_equal(h, rec.hash, 32);

    snprintf(hdr, sizeof hdr, "Bearer %s", text);
    memset(&who, 0, sizeof who);
    assert_int_equal(mw_api_authenticate(a, hdr, NULL, &who, &why), 0);
    assert_int_equal(who.kind, MW_AUTH_APIKEY);
    assert_int_equal(who.role, MW_ROLE_ANALYST);
    assert_string_equal(who.key_id, rec.id);
    assert_int_equal(mw_api_authenticate(a, "bearer   x", text, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_MALFORMED); /* Authorization wins over X-API-Key */
    assert_int_equal(mw_api_authenticate(a, NULL, text, &who, &why), 0); /* X-API-Key */
    assert_int_equal(mw_api_authenticate(a, NULL, NULL, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_MISSING);
    assert_int_equal(mw_api_authenticate(a, "Basic dXNlcjpwYXNz", NULL, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_MALFORMED);

    /* same id, another secret: refused by the hash compare */
    char forged[MW_APIKEY_TEXTLEN + 1];
    memcpy(forged, text, sizeof forged);
    forged[30] = forged[30] == 'A' ? 'B' : 'A';
    assert_int_equal(mw_api_authenticate(a, NULL, forged, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_BAD_SIGNATURE);
    /* unknown id */
    memcpy(forged, text, sizeof forged);
    forged[4] = forged[4] == 'a' ? 'b' : 'a';
    assert_int_equal(mw_api_authenticate(a, NULL, forged, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_UNKNOWN_KEY);

    /* revoked */
    assert_int_equal(mw_api_auth_revoke_key(a, rec.id), 0);
    assert_int_equal(mw_api_auth_revoke_key(a, rec.id), MW_ENOTFOUND);
    assert_int_equal(mw_api_authenticate(a, hdr, NULL, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_REVOKED);

    assert_int_equal(mw_api_auth_create_key(a, MW_ROLE_NONE, NULL, text, &rec), MW_EINVAL);
    assert_int_equal(mw_api_auth_create_key(a, MW_ROLE_VIEWER, "bad\nname", text, &rec), MW_EINVAL);

    char *m = mw_api_auth_metrics(a);
    assert_non_null(m);
    assert_non_null(strstr(m, "mwrasp_api_auth_failures_total{reason=\"revoked\"} 1\n"));
    assert_non_null(strstr(m, "mwrasp_api_auth_failures_total{reason=\"unknown_key\"} 1\n"));
    assert_non_null(strstr(m, "mwrasp_api_auth_failures_total{reason=\"malformed\"} 2\n"));
    assert_non_null(strstr(m, "mwrasp_api_auth_success_total{method=\"apikey\"} 2\n"));
    free(m);
    mw_api_auth_free(a);
}

/* mw_api_authenticate keeps verified JWTs: a repeated token is served from
 * the cache, and its exp is still enforced there. */
static void test_jwt_cache(void **state)
{
    (void)state;
    struct mw_config cfg;
    mw_api_auth_t *a = NULL;
    char err[256], claims[256], hdr[1024], path[400];
    const char *t = getenv("MW_TEST_TMP");
    uint8_t key[64];
    size_t kl = b64d(HS_K, key, sizeof key);
    struct mw_api_identity who;
    enum mw_auth_fail why;

    if (!t || !*t)
        t = "/tmp";
    (void)mkdir(t, 0700); /* the first test of a fresh build may run before any other made it */
    snprintf(path, sizeof path, "%.300s/jwt-cache-%d.secret", t, (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(key, 1, kl, f), kl);
    fclose(f);
    mw_config_defaults(&cfg);
    snprintf(cfg.api_jwt_hs256_secret_file, sizeof cfg.api_jwt_hs256_secret_file, "%s", path);
    cfg.api_jwt_leeway_ns = 0;
    assert_int_equal(mw_api_auth_new(&cfg, NULL, &a, err, sizeof err), 0);
    unlink(path);

    int64_t exp = (int64_t)time(NULL) + 2;
    snprintf(claims, sizeof claims, "{\"sub\":\"carol\",\"exp\":%lld,\"role\":\"analyst\"}",
             (long long)exp);
    char *tok = hs256_token(key, kl, "{\"alg\":\"HS256\"}", claims);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    for (int i = 0; i < 3; i++) { /* a miss, then hits */
        memset(&who, 0, sizeof who);
        assert_int_equal(mw_api_authenticate(a, hdr, NULL, &who, &why), 0);
        assert_int_equal(who.kind, MW_AUTH_JWT);
        assert_int_equal(who.role, MW_ROLE_ANALYST);
        assert_string_equal(who.subject, "jwt:carol");
    }
    /* a token differing only in its signature is verified, not served from the cache */
    size_t n = strlen(hdr);
    hdr[n - 2] = hdr[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(mw_api_authenticate(a, hdr, NULL, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_BAD_SIGNATURE);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    while ((int64_t)time(NULL) < exp)
        usleep(100000);
    assert_int_equal(mw_api_authenticate(a, hdr, NULL, &who, &why), MW_EVERIFY);
    assert_int_equal(why, MW_AUTHF_EXPIRED); /* from the cache */
    free(tok);
    char *m = mw_api_auth_metrics(a);
    assert_non_null(strstr(m, "mwrasp_api_auth_success_total{method=\"jwt\"} 3\n"));
    assert_non_null(strstr(m, "mwrasp_api_auth_failures_total{reason=\"expired\"} 1\n"));
    free(m);
    mw_api_auth_free(a);
}

static void test_roles(void **state)
{
    (void)state;
    /* rows: caller; columns: need none, ingest, viewer, analyst, admin */
    static const int want[MW_ROLE__COUNT][MW_ROLE__COUNT] = {
        {1, 0, 0, 0, 0}, /* none (anonymous) */
        {1, 1, 0, 0, 0}, /* ingest */
        {1, 0, 1, 0, 0}, /* viewer */
        {1, 1, 1, 1, 0}, /* analyst */
        {1, 1, 1, 1, 1}, /* admin */
    };
    for (int h = 0; h < MW_ROLE__COUNT; h++)
        for (int n = 0; n < MW_ROLE__COUNT; n++)
            if (mw_api_role_allows((enum mw_api_role)h, (enum mw_api_role)n) != want[h][n])
                fail_msg("caller %s, route %s: want %d", mw_api_role_name((enum mw_api_role)h),
                         mw_api_role_name((enum mw_api_role)n), want[h][n]);
    enum mw_api_role r;
    assert_int_equal(mw_api_role_parse("analyst", &r), 0);
    assert_int_equal(r, MW_ROLE_ANALYST);
    assert_int_equal(mw_api_role_parse("none", &r), MW_EINVAL);
    assert_int_equal(mw_api_role_parse("Admin", &r), MW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_rfc7515_a1_hs256),
        cmocka_unit_test(test_rfc8037_a4_ed25519),
        cmocka_unit_test(test_jwt_refusals),
        cmocka_unit_test(test_apikey_text),
        cmocka_unit_test(test_apikey_lookup),
        cmocka_unit_test(test_jwt_cache),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
