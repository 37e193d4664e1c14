/* Authentication and roles of the HTTP API (docs/api.md "Authentication",
 * docs/internals/api.md):
 *
 *  - API keys "mwk_<12 hex id>_<base64url of 32 random bytes>", shown once at
 *    creation; the store keeps SHA3-256(key text) (FIPS 202) with the role.
 *    Every key is cached here, sorted by id; a request costs a binary search
 *    and a constant-time compare of the hashes.
 *  - JWT bearer tokens (RFC 7519) in JWS compact form (RFC 7515): HS256
 *    (RFC 7518 section 3.2) and EdDSA with Ed25519 (RFC 8037). The accepted
 *    alg follows from the configured keys: "none", unknown algs and an alg
 *    whose key is not configured are refused, so an HS256 token "signed"
 *    with the Ed25519 public key as an HMAC secret never verifies.
 *
 * Secrets are compared with CRYPTO_memcmp and never logged. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "api/api_int.h"
#include "mwrasp/config.h"
#include "mwrasp/log.h"
#include "mwrasp/pqc.h"

#define MOD "api"
#define JWT_HEADER_MAX 1024 /* decoded JOSE header */
#define JWT_PAYLOAD_MAX 4096 /* decoded claims */
#define HS256_SECRET_MIN 32 /* RFC 7518 section 3.2: a key of at least the hash size */
#define HS256_SECRET_MAX 4096
#define TOUCH_EVERY_NS (60LL * 1000000000LL) /* last_used written at most once a minute */

/* ---- roles --------------------------------------------------------------- */

static const char *const role_names[MW_ROLE__COUNT] = {"none", "ingest", "viewer", "analyst",
                                                       "admin"};

const char *mw_api_role_name(enum mw_api_role r)
{
    return (unsigned)r < MW_ROLE__COUNT ? role_names[r] : "none";
}

int mw_api_role_parse(const char *s, enum mw_api_role *out)
{
    for (int r = MW_ROLE_INGEST; r < MW_ROLE__COUNT; r++)
        if (s && strcmp(s, role_names[r]) == 0) {
            *out = (enum mw_api_role)r;
            return 0;
        }
    return MW_EINVAL;
}

int mw_api_role_allows(enum mw_api_role have, enum mw_api_role need)
{
    if (need == MW_ROLE_NONE)
        return 1;
    if (have <= MW_ROLE_NONE || have >= MW_ROLE__COUNT || need >= MW_ROLE__COUNT)
        return 0;
    if (need == MW_ROLE_INGEST) /* posting events: ingest, analyst, admin */
        return have == MW_ROLE_INGEST || have >= MW_ROLE_ANALYST;
    if (have == MW_ROLE_INGEST) /* ingest may do nothing else */
        return 0;
    return have >= need;
}

static const char *const fail_names[MW_AUTHF__COUNT] = {
    "missing", "malformed",     "too_large", "unknown_key", "revoked", "bad_signature", "alg",
    "expired", "not_yet_valid", "issuer",    "audience",    "role",    "forbidden"};

const char *mw_auth_fail_name(enum mw_auth_fail f)
{
    return (unsigned)f < MW_AUTHF__COUNT ? fail_names[f] : "unknown";
}

/* ---- base64url (RFC 4648 section 5, no padding) -------------------------- */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int mw_b64url_encode(const uint8_t *src, size_t n, char *dst, size_t dstlen)
{
    size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0), o = 0, i = 0;
    if (need + 1 > dstlen || need > INT32_MAX)
        return MW_ETOOBIG;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        dst[o++] = b64u[v >> 18];
        dst[o++] = b64u[(v >> 12) & 63];
        dst[o++] = b64u[(v >> 6) & 63];
        dst[o++] = b64u[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        dst[o++] = b64u[v >> 18];
        dst[o++] = b64u[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        dst[o++] = b64u[v >> 18];
        dst[o++] = b64u[(v >> 12) & 63];
        dst[o++] = b64u[(v >> 6) & 63];
    }
    dst[o] = '\0';
    return (int)o;
}

static int b64u_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int mw_b64url_decode(const char *src, size_t n, uint8_t *dst, size_t dstlen)
{
    size_t out = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0), o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (n % 4 == 1)
        return MW_EINVAL;
    if (out > dstlen || out > INT32_MAX)
        return MW_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        int v = b64u_val((unsigned char)src[i]);
        if (v < 0)
            return MW_EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: unused bits must be zero */
        return MW_EINVAL;
    return (int)o;
}

/* ---- API key text -------------------------------------------------------- */

int mw_apikey_parse(const char *text, size_t len, char id[MW_APIKEY_IDLEN + 1])
{
    if (text == NULL || len != MW_APIKEY_TEXTLEN || memcmp(text, MW_APIKEY_PREFIX, 4) != 0 ||
        text[4 + MW_APIKEY_IDLEN] != '_')
        return MW_EINVAL;
    for (size_t i = 4; i < 4 + MW_APIKEY_IDLEN; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return MW_EINVAL;
    for (size_t i = 5 + MW_APIKEY_IDLEN; i < len; i++)
        if (b64u_val((unsigned char)text[i]) < 0)
            return MW_EINVAL;
    /* 43 chars carry 258 bits: the last char's low 2 bits must be zero. */
    if (b64u_val((unsigned char)text[len - 1]) & 3)
        return MW_EINVAL;
    memcpy(id, text + 4, MW_APIKEY_IDLEN);
    id[MW_APIKEY_IDLEN] = '\0';
    return 0;
}

void mw_apikey_hash(const char *text, size_t len, uint8_t out[32])
{
    mw_sha3_256(out, (const uint8_t *)text, len);
}

/* ---- JWT ----------------------------------------------------------------- */

/* A JSON number claim as whole seconds (fractions cut toward -inf). */
static int claim_time(json_t *v, int64_t *out)
{
    double d;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    if (!(d > -9.0e15 && d < 9.0e15))
        return -1;
    *out = (int64_t)d - (d < 0 && d != (double)(int64_t)d);
    return 0;
}

static json_t *decode_json_part(const char *p, size_t n, size_t cap)
{
    uint8_t *buf;
    int len;
    json_t *j;
    if (n > cap / 3 * 4 + 4)
        return NULL;
    buf = malloc(cap + 1);
    if (buf == NULL)
        return NULL;
    len = mw_b64url_decode(p, n, buf, cap);
    if (len <= 0) {
        free(buf);
        return NULL;
    }
    j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int verify_hs256(const struct mw_jwt_config *c, const char *input, size_t inlen,
                        const uint8_t *sig, size_t siglen)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    int ok;
    if (siglen != 32)
        return 0;
    if (HMAC(EVP_sha256(), c->hs256_secret, (int)c->hs256_len, (const unsigned char *)input, inlen,
             mac, &maclen) == NULL ||
        maclen != 32)
        return 0;
    ok = CRYPTO_memcmp(mac, sig, 32) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    return ok;
}

static int verify_ed25519(const struct mw_jwt_config *c, const char *input, size_t inlen,
                          const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *md;
    int ok = 0;
    if (siglen != 64)
        return 0;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        return 0;
    /* RFC 8037 section 3.1: Ed25519 signs the JWS Signing Input as is
     * (PureEdDSA: no digest). */
    if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, (EVP_PKEY *)c->ed25519) == 1)
        ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input, inlen) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int fail(enum mw_auth_fail *why, enum mw_auth_fail f)
{
    *why = f;
    return MW_EVERIFY;
}

/* The checked time claims of a verified token (for the cache of
 * mw_api_authenticate). */
struct jwt_times {
    int64_t exp, nbf; /* nbf = INT64_MIN when absent */
};

static int jwt_verify(const struct mw_jwt_config *c, const char *token, size_t len, int64_t now_s,
                      char *sub, size_t sublen, enum mw_api_role *role, enum mw_auth_fail *why,
                      struct jwt_times *times)
{
    const char *d1, *d2;
    json_t *hdr = NULL, *claims = NULL, *v;
    uint8_t sig[64];
    int siglen, rc = MW_EVERIFY, hs;
    int64_t exp, nbf = INT64_MIN;
    const char *alg, *s;

    if (len > MW_JWT_MAX)
        return fail(why, MW_AUTHF_TOO_LARGE);
    d1 = memchr(token, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) ||
        d1 == token || d2 == d1 + 1)
        return fail(why, MW_AUTHF_MALFORMED);

    /* JOSE header (RFC 7515 section 4). */
    hdr = decode_json_part(token, (size_t)(d1 - token), JWT_HEADER_MAX);
    if (hdr == NULL)
        return fail(why, MW_AUTHF_MALFORMED);
    alg = json_string_value(json_object_get(hdr, "alg"));
    if (alg == NULL) {
        rc = fail(why, MW_AUTHF_MALFORMED);
        goto out;
    }
    /* crit: extensions we would have to understand (section 4.1.11): none. */
    if (json_object_get(hdr, "crit")) {
        rc = fail(why, MW_AUTHF_MALFORMED);
        goto out;
    }
    if (strcmp(alg, "HS256") == 0 && c->hs256_secret)
        hs = 1;
    else if (strcmp(alg, "EdDSA") == 0 && c->ed25519)
        hs = 0;
    else {
        rc = fail(why, MW_AUTHF_ALG); /* none, RS256, HS512, a key not configured ... */
        goto out;
    }

    /* Signature over ASCII(header '.' payload) (section 5.2). */
    siglen = mw_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), sig, sizeof sig);
    if (siglen <= 0) {
        rc = fail(why, siglen == MW_ETOOBIG ? MW_AUTHF_BAD_SIGNATURE : MW_AUTHF_MALFORMED);
        goto out;
    }
    if (!(hs ? verify_hs256(c, token, (size_t)(d2 - token), sig, (size_t)siglen)
             : verify_ed25519(c, token, (size_t)(d2 - token), sig, (size_t)siglen))) {
        rc = fail(why, MW_AUTHF_BAD_SIGNATURE);
        goto out;
    }

    /* Claims (RFC 7519 section 4.1). */
    claims = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1), JWT_PAYLOAD_MAX);
    if (claims == NULL) {
        rc = fail(why, MW_AUTHF_MALFORMED);
        goto out;
    }
    v = json_object_get(claims, "exp");
    if (v == NULL || claim_time(v, &exp) != 0) {
        rc = fail(why, MW_AUTHF_MALFORMED); /* exp is required here */
        goto out;
    }
    if (now_s - c->leeway_s >= exp) {
        rc = fail(why, MW_AUTHF_EXPIRED); /* section 4.1.4: on or after exp */
        goto out;
    }
    v = json_object_get(claims, "nbf");
    if (v) {
        if (claim_time(v, &nbf) != 0) {
            rc = fail(why, MW_AUTHF_MALFORMED);
            goto out;
        }
        if (now_s + c->leeway_s < nbf) {
            rc = fail(why, MW_AUTHF_NOT_YET_VALID);
            goto out;
        }
    }
    if (c->issuer && c->issuer[0]) {
        s = json_string_value(json_object_get(claims, "iss"));
        if (s == NULL || strcmp(s, c->issuer) != 0) {
            rc = fail(why, MW_AUTHF_ISSUER);
            goto out;
        }
    }
    if (c->audience && c->audience[0]) {
        int found = 0;
        v = json_object_get(claims, "aud"); /* section 4.1.3: a string or an array */
        if (json_is_string(v))
            found = strcmp(json_string_value(v), c->audience) == 0;
        else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) if (json_is_string(e) &&
                                            strcmp(json_string_value(e), c->audience) == 0) found =
                1;
        }
        if (!found) {
            rc = fail(why, MW_AUTHF_AUDIENCE);
            goto out;
        }
    }
    s = json_string_value(json_object_get(claims, c->role_claim ? c->role_claim : "role"));
    if (s == NULL || mw_api_role_parse(s, role) != 0) {
        rc = fail(why, MW_AUTHF_ROLE);
        goto out;
    }
    s = json_string_value(json_object_get(claims, "sub"));
    if (s == NULL || s[0] == '\0' || strlen(s) > 100) {
        rc = fail(why, MW_AUTHF_MALFORMED);
        goto out;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            rc = fail(why, MW_AUTHF_MALFORMED);
            goto out;
        }
    snprintf(sub, sublen, "%s", s);
    times->exp = exp;
    times->nbf = nbf;
    rc = 0;
out:
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

int mw_jwt_verify(const struct mw_jwt_config *c, const char *token, size_t len, int64_t now_s,
                  char *sub, size_t sublen, enum mw_api_role *role, enum mw_auth_fail *why)
{
    struct jwt_times t;
    return jwt_verify(c, token, len, now_s, sub, sublen, role, why, &t);
}

/* ---- the authenticator --------------------------------------------------- */

/* Verified JWTs, direct-mapped by SHA3-256(token): a client that sends the
 * same token again skips the signature (Ed25519 verification is ~0.2-0.5 ms
 * here, HS256 ~20 us with OpenSSL 3's per-call fetches; SHA3-256 of a token
 * ~1-2 us). exp and nbf are checked again on every hit; the other checks
 * (signature, iss, aud, role) depend only on the token and the configuration,
 * which does not change while the daemon runs. */
#define JWT_CACHE_SLOTS 512
struct jwt_slot {
    uint8_t h[32];
    int used;
    struct jwt_times t;
    enum mw_api_role role;
    char sub[112];
};

struct key {
    mw_apikey_rec_t rec;
    _Atomic int64_t used_ns; /* last use seen here */
    _Atomic int64_t touched_ns; /* last use written to the store */
};

struct mw_api_auth {
    mw_store_t *store;
    int off;
    pthread_rwlock_t lock;
    struct key *keys; /* sorted by rec.id */
    size_t n, cap;
    uint8_t *hs256;
    size_t hs256_len;
    EVP_PKEY *ed25519;
    struct mw_jwt_config jwt;
    char issuer[256], audience[256], role_claim[64];
    _Atomic uint64_t fails[MW_AUTHF__COUNT];
    _Atomic uint64_t ok_key, ok_jwt;
    pthread_mutex_t jmu;
    struct jwt_slot *jcache; /* JWT_CACHE_SLOTS */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Index of id in the sorted table, or -1. Under the lock. */
static long key_find(const mw_api_auth_t *a, const char *id)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->keys[mid].rec.id, id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Inserts rec in order (under the write lock). */
static int key_insert(mw_api_auth_t *a, const mw_apikey_rec_t *rec)
{
    size_t pos = 0;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        struct key *nk = realloc(a->keys, nc * sizeof *nk);
        if (nk == NULL)
            return MW_ENOMEM;
        a->keys = nk;
        a->cap = nc;
    }
    while (pos < a->n && strcmp(a->keys[pos].rec.id, rec->id) < 0)
        pos++;
    memmove(&a->keys[pos + 1], &a->keys[pos], (a->n - pos) * sizeof *a->keys);
    memset(&a->keys[pos], 0, sizeof *a->keys);
    a->keys[pos].rec = *rec;
    atomic_init(&a->keys[pos].used_ns, rec->last_used_ns);
    atomic_init(&a->keys[pos].touched_ns, rec->last_used_ns);
    a->n++;
    return 0;
}

static int read_small_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL)
        return MW_EIO;
    n = fread(buf, 1, cap, f);
    int bad = ferror(f) || n == cap;
    fclose(f);
    if (bad)
        return MW_ETOOBIG;
    *len = n;
    return 0;
}

static int load_jwt(mw_api_auth_t *a, const struct mw_config *cfg, char *err, size_t errlen)
{
    if (cfg->api_jwt_hs256_secret_file[0]) {
        uint8_t buf[HS256_SECRET_MAX + 1];
        size_t n = 0;
        int rc = read_small_file(cfg->api_jwt_hs256_secret_file, buf, sizeof buf, &n);
        if (rc != 0) {
            snprintf(err, errlen, "api.jwt_hs256_secret_file %s: %s",
                     cfg->api_jwt_hs256_secret_file,
                     rc == MW_EIO ? strerror(errno) : "larger than 4096 bytes");
            return MW_ECONFIG;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n < HS256_SECRET_MIN) {
            OPENSSL_cleanse(buf, sizeof buf);
            snprintf(err, errlen,
                     "api.jwt_hs256_secret_file %s: the secret must be at least %d bytes",
                     cfg->api_jwt_hs256_secret_file, HS256_SECRET_MIN);
            return MW_ECONFIG;
        }
        a->hs256 = malloc(n);
        if (a->hs256 == NULL)
            return MW_ENOMEM;
        memcpy(a->hs256, buf, n);
        a->hs256_len = n;
        OPENSSL_cleanse(buf, sizeof buf);
    }
    if (cfg->api_jwt_ed25519_public_key[0]) {
        FILE *f = fopen(cfg->api_jwt_ed25519_public_key, "rb");
        if (f == NULL) {
            snprintf(err, errlen, "api.jwt_ed25519_public_key %s: %s",
                     cfg->api_jwt_ed25519_public_key, strerror(errno));
            return MW_ECONFIG;
        }
        a->ed25519 = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        if (a->ed25519 == NULL || EVP_PKEY_get_id(a->ed25519) != EVP_PKEY_ED25519) {
            snprintf(err, errlen, "api.jwt_ed25519_public_key %s: not a PEM Ed25519 public key",
                     cfg->api_jwt_ed25519_public_key);
            return MW_ECONFIG;
        }
    }
    snprintf(a->issuer, sizeof a->issuer, "%s", cfg->api_jwt_issuer);
    snprintf(a->audience, sizeof a->audience, "%s", cfg->api_jwt_audience);
    snprintf(a->role_claim, sizeof a->role_claim, "%s",
             cfg->api_jwt_role_claim[0] ? cfg->api_jwt_role_claim : "role");
    a->jwt.hs256_secret = a->hs256;
    a->jwt.hs256_len = a->hs256_len;
    a->jwt.ed25519 = a->ed25519;
    a->jwt.issuer = a->issuer;
    a->jwt.audience = a->audience;
    a->jwt.role_claim = a->role_claim;
    a->jwt.leeway_s = cfg->api_jwt_leeway_ns / 1000000000LL;
    return 0;
}

/* Writes the first admin key to path, mode 0600, replacing any old file. */
static int write_key_file(const char *path, const char *text)
{
    char tmp[MW_CONFIG_STR_MAX + 16];
    int fd, ok;
    size_t n = strlen(text);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return MW_EINVAL;
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return MW_EIO;
    ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return MW_EIO;
    }
    return 0;
}

static int first_admin(mw_api_auth_t *a, const struct mw_config *cfg, char *err, size_t errlen)
{
    char text[MW_APIKEY_TEXTLEN + 1];
    mw_apikey_rec_t rec;
    int rc;

    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->keys[i].rec.role, "admin") == 0 && a->keys[i].rec.revoked_ns == 0)
            return 0;
    rc = mw_api_auth_create_key(a, MW_ROLE_ADMIN, "initial admin", text, &rec);
    if (rc != 0) {
        snprintf(err, errlen, "cannot create the initial admin API key: %s", mw_strerror(rc));
        return rc;
    }
    printf("\n"
           "=====================================================================\n"
           "  MWRASP: first start, an admin API key was created. It is shown\n"
           "  once and cannot be recovered (the store keeps only its hash):\n"
           "\n"
           "    %s\n"
           "\n"
           "  Use it as 'Authorization: Bearer <key>' or MWRASP_API_KEY; create\n"
           "  more keys with 'mwrasp apikey create --role analyst'.\n"
           "=====================================================================\n\n",
           text);
    fflush(stdout);
    if (cfg->api_admin_key_file[0]) {
        rc = write_key_file(cfg->api_admin_key_file, text);
        if (rc != 0) {
            OPENSSL_cleanse(text, sizeof text);
            snprintf(err, errlen, "api.admin_key_file %s: cannot write it",
                     cfg->api_admin_key_file);
            return MW_ECONFIG;
        }
        mw_info(MOD, "initial admin API key %s written to %s", rec.id, cfg->api_admin_key_file);
    }
    OPENSSL_cleanse(text, sizeof text);
    return 0;
}

int mw_api_auth_new(const struct mw_config *cfg, mw_store_t *store, mw_api_auth_t **out, char *err,
                    size_t errlen)
{
    mw_api_auth_t *a;
    mw_apikey_rec_t *recs = NULL;
    size_t n = 0;
    int rc;

    if (cfg == NULL || out == NULL)
        return MW_EINVAL;
    if (strcmp(cfg->api_auth, "required") != 0 && strcmp(cfg->api_auth, "off") != 0) {
        snprintf(err, errlen, "api.auth: expected required or off, got \"%s\"", cfg->api_auth);
        return MW_ECONFIG;
    }
    a = calloc(1, sizeof *a);
    if (a == NULL)
        return MW_ENOMEM;
    pthread_rwlock_init(&a->lock, NULL);
    pthread_mutex_init(&a->jmu, NULL);
    a->jcache = calloc(JWT_CACHE_SLOTS, sizeof *a->jcache);
    if (a->jcache == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    a->store = store;
    a->off = strcmp(cfg->api_auth, "off") == 0;
    rc = load_jwt(a, cfg, err, errlen);
    if (rc != 0)
        goto out;
    if (store) {
        rc = mw_store_list_apikeys(store, &recs, &n);
        if (rc != 0) {
            snprintf(err, errlen, "cannot read the API keys from the store");
            goto out;
        }
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = key_insert(a, &recs[i]);
        if (recs)
            OPENSSL_cleanse(recs, n * sizeof *recs);
        free(recs);
        if (rc != 0)
            goto out;
    }
    if (!a->off && (rc = first_admin(a, cfg, err, errlen)) != 0)
        goto out;
    *out = a;
    a = NULL;
out:
    mw_api_auth_free(a);
    return rc;
}

void mw_api_auth_free(mw_api_auth_t *a)
{
    if (a == NULL)
        return;
    if (a->keys)
        OPENSSL_cleanse(a->keys, a->cap * sizeof *a->keys);
    free(a->keys);
    if (a->hs256)
        OPENSSL_cleanse(a->hs256, a->hs256_len);
    free(a->hs256);
    EVP_PKEY_free(a->ed25519);
    pthread_rwlock_destroy(&a->lock);
    if (a->jcache)
        OPENSSL_cleanse(a->jcache, JWT_CACHE_SLOTS * sizeof *a->jcache);
    free(a->jcache);
    pthread_mutex_destroy(&a->jmu);
    free(a);
}

int mw_api_auth_off(const mw_api_auth_t *a)
{
    return a && a->off;
}

void mw_api_auth_count(mw_api_auth_t *a, enum mw_auth_fail why)
{
    if (a && (unsigned)why < MW_AUTHF__COUNT)
        atomic_fetch_add_explicit(&a->fails[why], 1, memory_order_relaxed);
}

static int refuse(mw_api_auth_t *a, enum mw_auth_fail *why, enum mw_auth_fail f)
{
    mw_api_auth_count(a, f);
    *why = f;
    return MW_EVERIFY;
}

static int check_key(mw_api_auth_t *a, const char *text, size_t len, struct mw_api_identity *id,
                     enum mw_auth_fail *why)
{
    char kid[MW_APIKEY_IDLEN + 1];
    uint8_t h[32];
    long i;
    int ok = 0, revoked = 0;
    enum mw_api_role role = MW_ROLE_NONE;
    int64_t now = now_ns(), touch = 0;

    if (mw_apikey_parse(text, len, kid) != 0)
        return refuse(a, why, MW_AUTHF_MALFORMED);
    mw_apikey_hash(text, len, h);
    pthread_rwlock_rdlock(&a->lock);
    i = key_find(a, kid);
    if (i >= 0) {
        struct key *k = &a->keys[i];
        ok = CRYPTO_memcmp(k->rec.hash, h, 32) == 0;
        revoked = k->rec.revoked_ns != 0;
        if (ok && !revoked) {
            if (mw_api_role_parse(k->rec.role, &role) != 0)
                ok = 0;
            atomic_store_explicit(&k->used_ns, now, memory_order_relaxed);
            int64_t t = atomic_load_explicit(&k->touched_ns, memory_order_relaxed);
            if (now - t > TOUCH_EVERY_NS && atomic_compare_exchange_strong(&k->touched_ns, &t, now))
                touch = now;
        }
    }
    pthread_rwlock_unlock(&a->lock);
    OPENSSL_cleanse(h, sizeof h);
    if (i < 0)
        return refuse(a, why, MW_AUTHF_UNKNOWN_KEY);
    if (!ok)
        return refuse(a, why, MW_AUTHF_BAD_SIGNATURE);
    if (revoked)
        return refuse(a, why, MW_AUTHF_REVOKED);
    if (touch && a->store && mw_store_touch_apikey(a->store, kid, touch) != 0)
        mw_warn(MOD, "could not record the last use of API key %s", kid);
    id->kind = MW_AUTH_APIKEY;
    id->role = role;
    snprintf(id->key_id, sizeof id->key_id, "%s", kid);
    snprintf(id->subject, sizeof id->subject, "key:%s", kid);
    atomic_fetch_add_explicit(&a->ok_key, 1, memory_order_relaxed);
    return 0;
}

int mw_api_authenticate(mw_api_auth_t *a, const char *authorization, const char *x_api_key,
                        struct mw_api_identity *id, enum mw_auth_fail *why)
{
    const char *tok = NULL;
    size_t len;
    char sub[112];
    enum mw_api_role role = MW_ROLE_NONE;
    int rc;

    id->kind = MW_AUTH_ANON;
    id->role = MW_ROLE_NONE;
    id->key_id[0] = '\0';
    snprintf(id->subject, sizeof id->subject, "anonymous");
    if (a->off) {
        id->kind = MW_AUTH_OFF;
        id->role = MW_ROLE_ADMIN;
        snprintf(id->subject, sizeof id->subject, "local");
        return 0;
    }
    if (authorization) {
        /* RFC 6750 section 2.1: "Bearer" (case-insensitive) 1*SP token. */
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
            return refuse(a, why, MW_AUTHF_MALFORMED);
        tok = authorization + 7;
        while (*tok == ' ')
            tok++;
    } else if (x_api_key) {
        tok = x_api_key;
    }
    if (tok == NULL || tok[0] == '\0')
        return refuse(a, why, MW_AUTHF_MISSING);
    len = strnlen(tok, MW_JWT_MAX + 1);
    if (len > MW_JWT_MAX)
        return refuse(a, why, MW_AUTHF_TOO_LARGE);
    while (len > 0 && tok[len - 1] == ' ')
        len--;
    if (len >= 4 && memcmp(tok, MW_APIKEY_PREFIX, 4) == 0)
        return check_key(a, tok, len, id, why);
    {
        uint8_t h[32];
        int64_t now = (int64_t)time(NULL);
        struct jwt_times t;
        struct jwt_slot *sl;
        int hit = 0;
        mw_sha3_256(h, (const uint8_t *)tok, len);
        sl = &a->jcache[(h[0] | (unsigned)h[1] << 8) % JWT_CACHE_SLOTS];
        pthread_mutex_lock(&a->jmu);
        if (sl->used && CRYPTO_memcmp(sl->h, h, 32) == 0) {
            hit = 1;
            t = sl->t;
            role = sl->role;
            memcpy(sub, sl->sub, sizeof sub);
        }
        pthread_mutex_unlock(&a->jmu);
        if (hit) {
            if (now - a->jwt.leeway_s >= t.exp)
                return refuse(a, why, MW_AUTHF_EXPIRED);
            if (t.nbf != INT64_MIN && now + a->jwt.leeway_s < t.nbf)
                return refuse(a, why, MW_AUTHF_NOT_YET_VALID);
        } else {
            rc = jwt_verify(&a->jwt, tok, len, now, sub, sizeof sub, &role, why, &t);
            if (rc != 0) {
                mw_api_auth_count(a, *why);
                return rc;
            }
            pthread_mutex_lock(&a->jmu);
            memcpy(sl->h, h, 32);
            sl->used = 1;
            sl->t = t;
            sl->role = role;
            memcpy(sl->sub, sub, sizeof sl->sub);
            pthread_mutex_unlock(&a->jmu);
        }
    }
    id->kind = MW_AUTH_JWT;
    id->role = role;
    snprintf(id->subject, sizeof id->subject, "jwt:%s", sub);
    atomic_fetch_add_explicit(&a->ok_jwt, 1, memory_order_relaxed);
    return 0;
}

int mw_api_auth_create_key(mw_api_auth_t *a, enum mw_api_role role, const char *name,
                           char text[MW_APIKEY_TEXTLEN + 1], mw_apikey_rec_t *rec)
{
    uint8_t rnd[6 + 32];
    mw_apikey_rec_t r;
    int rc = MW_EEXIST;

    if (a == NULL || role <= MW_ROLE_NONE || role >= MW_ROLE__COUNT)
        return MW_EINVAL;
    if (name && strlen(name) > MW_APIKEY_NAME_MAX)
        return MW_EINVAL;
    for (const char *p = name; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return MW_EINVAL;
    memset(&r, 0, sizeof r);
    for (int attempt = 0; attempt < 4 && rc == MW_EEXIST; attempt++) {
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return MW_ECRYPTO;
        memcpy(text, MW_APIKEY_PREFIX, 4);
        for (int i = 0; i < 6; i++)
            snprintf(text + 4 + 2 * i, 3, "%02x", rnd[i]);
        text[4 + MW_APIKEY_IDLEN] = '_';
        if (mw_b64url_encode(rnd + 6, 32, text + 5 + MW_APIKEY_IDLEN, 44) != 43) {
            rc = MW_EINVAL;
            break;
        }
        memcpy(r.id, text + 4, MW_APIKEY_IDLEN);
        r.id[MW_APIKEY_IDLEN] = '\0';
        snprintf(r.name, sizeof r.name, "%s", name ? name : "");
        snprintf(r.role, sizeof r.role, "%s", mw_api_role_name(role));
        mw_apikey_hash(text, MW_APIKEY_TEXTLEN, r.hash);
        r.created_ns = now_ns();
        pthread_rwlock_wrlock(&a->lock);
        if (a->n >= MW_APIKEYS_MAX)
            rc = MW_ELIMIT;
        else if (key_find(a, r.id) >= 0)
            rc = MW_EEXIST;
        else {
            rc = a->store ? mw_store_put_apikey(a->store, &r) : 0;
            if (rc == 0)
                rc = key_insert(a, &r);
        }
        pthread_rwlock_unlock(&a->lock);
    }
    OPENSSL_cleanse(rnd, sizeof rnd);
    if (rc != 0) {
        OPENSSL_cleanse(text, MW_APIKEY_TEXTLEN + 1);
        return rc;
    }
    if (rec)
        *rec = r;
    mw_info(MOD, "API key %s created (role %s)", r.id, r.role);
    return 0;
}

int mw_api_auth_revoke_key(mw_api_auth_t *a, const char *id)
{
    long i;
    int rc;
    int64_t now = now_ns();
    if (a == NULL || id == NULL)
        return MW_EINVAL;
    pthread_rwlock_wrlock(&a->lock);
    i = key_find(a, id);
    if (i < 0 || a->keys[i].rec.revoked_ns != 0)
        rc = MW_ENOTFOUND;
    else {
        rc = a->store ? mw_store_revoke_apikey(a->store, id, now) : 0;
        if (rc == 0)
            a->keys[i].rec.revoked_ns = now;
    }
    pthread_rwlock_unlock(&a->lock);
    if (rc == 0)
        mw_info(MOD, "API key %s revoked", id);
    return rc;
}

int mw_api_auth_list_keys(mw_api_auth_t *a, mw_apikey_rec_t **out, size_t *n)
{
    mw_apikey_rec_t *v;
    if (a == NULL || out == NULL || n == NULL)
        return MW_EINVAL;
    pthread_rwlock_rdlock(&a->lock);
    v = malloc((a->n ? a->n : 1) * sizeof *v);
    if (v) {
        for (size_t i = 0; i < a->n; i++) {
            v[i] = a->keys[i].rec;
            memset(v[i].hash, 0, sizeof v[i].hash);
            v[i].last_used_ns = atomic_load_explicit(&a->keys[i].used_ns, memory_order_relaxed);
        }
        *n = a->n;
    }
    pthread_rwlock_unlock(&a->lock);
    if (v == NULL)
        return MW_ENOMEM;
    *out = v;
    return 0;
}

char *mw_api_auth_metrics(mw_api_auth_t *a)
{
    size_t cap = 1024 + MW_AUTHF__COUNT * 80, o;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    o = (size_t)snprintf(s, cap,
                         "# HELP mwrasp_api_auth_failures_total API requests refused by "
                         "authentication (401) or role (403), per reason.\n"
                         "# TYPE mwrasp_api_auth_failures_total counter\n");
    for (int f = 0; f < MW_AUTHF__COUNT && o < cap; f++)
        o += (size_t)snprintf(s + o, cap - o,
                              "mwrasp_api_auth_failures_total{reason=\"%s\"} %llu\n", fail_names[f],
                              (unsigned long long)(a ? atomic_load(&a->fails[f]) : 0));
    if (o < cap)
        snprintf(s + o, cap - o,
                 "# HELP mwrasp_api_auth_success_total API requests authenticated, per method.\n"
                 "# TYPE mwrasp_api_auth_success_total counter\n"
                 "mwrasp_api_auth_success_total{method=\"apikey\"} %llu\n"
                 "mwrasp_api_auth_success_total{method=\"jwt\"} %llu\n",
                 (unsigned long long)(a ? atomic_load(&a->ok_key) : 0),
                 (unsigned long long)(a ? atomic_load(&a->ok_jwt) : 0));
    return s;
}
