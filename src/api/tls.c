/* TLS for the HTTP API (issue 6 item 3): the server context civetweb uses
 * on listen.https, set up by us through civetweb's init_ssl callback (so
 * that the certificate and the key can be two files, and the protocol
 * floor is set with SSL_CTX_set_min_proto_version rather than option bits):
 *
 *   - TLS 1.3 only by default (RFC 8446); api.tls_min_version 1.2 also
 *     allows TLS 1.2 with ECDHE + AEAD suites only;
 *   - client certificates (mTLS) when api.tls_client_ca is set: verified
 *     against that CA file, optional or required (api.tls_client_verify);
 *   - a verified client certificate maps to a role by its subject CN or
 *     the SHA-256 of its DER encoding (api.tls_client_roles). */
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api/api_int.h"
#include "mwrasp/config.h"
#include "mwrasp/log.h"

#define MOD "api"
#define MAP_MAX 64

struct map_entry {
    int by_fp; /* 1: fingerprint, 0: CN */
    char cn[128];
    unsigned char fp[32];
    char role[16];
};

struct mw_api_tls {
    char cert[MW_CONFIG_STR_MAX];
    char key[MW_CONFIG_STR_MAX];
    char ca[MW_CONFIG_STR_MAX];
    int verify_required;
    int min_version; /* TLS1_3_VERSION or TLS1_2_VERSION */
    struct map_entry map[MAP_MAX];
    int nmap;
};

int mw_api_listen_is_loopback(const char *hostport)
{
    const char *colon;
    size_t hl;
    char host[64];

    if (hostport == NULL || hostport[0] == '\0')
        return 1; /* nothing listens */
    if (hostport[0] == '[') {
        const char *rb = strchr(hostport, ']');
        if (rb == NULL)
            return 0;
        hl = (size_t)(rb - hostport - 1);
        if (hl >= sizeof(host))
            return 0;
        memcpy(host, hostport + 1, hl);
        host[hl] = '\0';
        return strcmp(host, "::1") == 0;
    }
    colon = strrchr(hostport, ':');
    hl = colon ? (size_t)(colon - hostport) : strlen(hostport);
    if (hl == 0 || hl >= sizeof(host))
        return 0; /* ":8080" binds every interface */
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        return 1;
    /* 127.0.0.0/8, written as a dotted quad */
    unsigned a, b, c, d;
    char tail;
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
        c < 256 && d < 256)
        return 1;
    return 0;
}

static int role_ok(const char *r)
{
    return strcmp(r, "ingest") == 0 || strcmp(r, "viewer") == 0 || strcmp(r, "analyst") == 0 ||
           strcmp(r, "admin") == 0;
}

/* "CN=ops:admin;SHA256=ab:cd:...:viewer": entries split on ';', the role
 * after the last ':'; SHA256 hex may have ':' between bytes. */
int mw_api_tls_parse_roles(const char *spec, struct mw_api_tls *t, char *err, size_t errlen)
{
    const char *p = spec;
    t->nmap = 0;
    while (p && *p) {
        size_t len = strcspn(p, ";");
        char ent[256];
        if (len == 0) {
            p++;
            continue;
        }
        if (len >= sizeof(ent) || t->nmap == MAP_MAX) {
            snprintf(err, errlen, "api.tls_client_roles: entry too long or more than %d entries",
                     MAP_MAX);
            return MW_ECONFIG;
        }
        memcpy(ent, p, len);
        ent[len] = '\0';
        p += len;
        char *colon = strrchr(ent, ':');
        struct map_entry *m = &t->map[t->nmap];
        memset(m, 0, sizeof(*m));
        if (colon == NULL || !role_ok(colon + 1)) {
            snprintf(err, errlen,
                     "api.tls_client_roles: '%.64s' must end in :ROLE (ingest, viewer, analyst, "
                     "admin)",
                     ent);
            return MW_ECONFIG;
        }
        *colon = '\0';
        snprintf(m->role, sizeof(m->role), "%s", colon + 1);
        if (strncmp(ent, "CN=", 3) == 0 && ent[3] != '\0' && strlen(ent + 3) < sizeof(m->cn)) {
            snprintf(m->cn, sizeof(m->cn), "%s", ent + 3);
        } else if (strncasecmp(ent, "SHA256=", 7) == 0) {
            const char *h = ent + 7;
            int n = 0;
            while (*h && n < 32) {
                if (*h == ':') {
                    h++;
                    continue;
                }
                int hi = mw_api_hexval((unsigned char)h[0]),
                    lo = h[1] ? mw_api_hexval((unsigned char)h[1]) : -1;
                if (hi < 0 || lo < 0)
                    break;
                m->fp[n++] = (unsigned char)(hi * 16 + lo);
                h += 2;
            }
            if (n != 32 || *h != '\0') {
                snprintf(err, errlen,
                         "api.tls_client_roles: '%.80s' is not SHA256= and 32 bytes of hex", ent);
                return MW_ECONFIG;
            }
            m->by_fp = 1;
        } else {
            snprintf(err, errlen,
                     "api.tls_client_roles: '%.64s' must start with CN= or SHA256=", ent);
            return MW_ECONFIG;
        }
        t->nmap++;
    }
    return 0;
}

int mw_api_tls_new(const struct mw_config *cfg, mw_api_tls_t **out, char *err, size_t errlen)
{
    struct mw_api_tls *t;
    int rc;

    if (cfg->api_tls_cert[0] == '\0' || cfg->api_tls_key[0] == '\0') {
        snprintf(err, errlen,
                 "listen.https is set: api.tls_cert and api.tls_key are required "
                 "(mwrasp cert selfsigned makes a pair)");
        return MW_ECONFIG;
    }
    const char *files[] = {cfg->api_tls_cert, cfg->api_tls_key, cfg->api_tls_client_ca};
    for (int i = 0; i < 3; i++)
        if (files[i][0] && access(files[i], R_OK) != 0) {
            snprintf(err, errlen, "cannot read %s (api.tls_%s)", files[i],
                     i == 0   ? "cert"
                     : i == 1 ? "key"
                              : "client_ca");
            return MW_ECONFIG;
        }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return MW_ENOMEM;
    snprintf(t->cert, sizeof(t->cert), "%s", cfg->api_tls_cert);
    snprintf(t->key, sizeof(t->key), "%s", cfg->api_tls_key);
    snprintf(t->ca, sizeof(t->ca), "%s", cfg->api_tls_client_ca);
    if (strcmp(cfg->api_tls_min_version, "1.3") == 0) {
        t->min_version = TLS1_3_VERSION;
    } else if (strcmp(cfg->api_tls_min_version, "1.2") == 0) {
        t->min_version = TLS1_2_VERSION;
    } else {
        snprintf(err, errlen, "api.tls_min_version: 1.3 or 1.2, not \"%s\"",
                 cfg->api_tls_min_version);
        free(t);
        return MW_ECONFIG;
    }
    if (strcmp(cfg->api_tls_client_verify, "required") == 0) {
        t->verify_required = 1;
    } else if (strcmp(cfg->api_tls_client_verify, "optional") != 0) {
        snprintf(err, errlen, "api.tls_client_verify: optional or required, not \"%s\"",
                 cfg->api_tls_client_verify);
        free(t);
        return MW_ECONFIG;
    }
    rc = mw_api_tls_parse_roles(cfg->api_tls_client_roles, t, err, errlen);
    if (rc == 0 && t->nmap > 0 && t->ca[0] == '\0') {
        snprintf(err, errlen,
                 "api.tls_client_roles needs api.tls_client_ca (the CA that "
                 "signs client certificates)");
        rc = MW_ECONFIG;
    }
    if (rc != 0) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void mw_api_tls_free(mw_api_tls_t *t)
{
    free(t);
}

static void ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        mw_error(MOD, "%s: %s", what, buf);
    }
}

int mw_sslshim_present(void); /* src/api/compat/ssl_shim.c */

int mw_api_tls_setup_ctx(mw_api_tls_t *t, void *ssl_ctx)
{
    SSL_CTX *ctx = ssl_ctx;

    if (t == NULL || ctx == NULL || !mw_sslshim_present())
        return -1;
    if (SSL_CTX_set_min_proto_version(ctx, t->min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, 0) != 1) {
        ssl_errors("TLS protocol version");
        return -1;
    }
    /* TLS 1.3 suites (RFC 8446 section 9.1), and for 1.2 only ECDHE with AEAD. */
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                                      "TLS_AES_128_GCM_SHA256") != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
        ssl_errors("TLS cipher suites");
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1) {
        ssl_errors(t->cert);
        mw_error(MOD, "api.tls_cert %s: not a PEM certificate (chain)", t->cert);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_errors(t->key);
        mw_error(MOD, "api.tls_key %s: not a PEM key, or not the key of api.tls_cert", t->key);
        return -1;
    }
    if (t->ca[0]) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);
        if (SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1 || names == NULL) {
            ssl_errors(t->ca);
            mw_error(MOD, "api.tls_client_ca %s: no PEM certificate in it", t->ca);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | (t->verify_required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
            NULL);
        SSL_CTX_set_verify_depth(ctx, 4);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return 1; /* civetweb: the callback set up the certificate */
}

int mw_api_tls_peer_role(const mw_api_tls_t *t, void *x509, char *subject, size_t sublen,
                         const char **role)
{
    X509 *cert = x509;
    unsigned char fp[32];
    unsigned int fplen = 0;
    char cn[128] = "";

    if (t == NULL || cert == NULL || t->ca[0] == '\0')
        return 0;
    /* civetweb keeps the certificate only after OpenSSL verified it
     * against api.tls_client_ca (SSL_VERIFY_PEER fails the handshake
     * otherwise). */
    if (X509_digest(cert, EVP_sha256(), fp, &fplen) != 1 || fplen != 32)
        return 0;
    X509_NAME *name = X509_get_subject_name(cert);
    int n = name ? X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn)) : -1;
    if (n < 0)
        cn[0] = '\0';
    for (int i = 0; i < t->nmap; i++) {
        const struct map_entry *m = &t->map[i];
        int hit = m->by_fp ? CRYPTO_memcmp(m->fp, fp, 32) == 0
                           : (cn[0] != '\0' && strcmp(m->cn, cn) == 0);
        if (hit) {
            if (cn[0])
                snprintf(subject, sublen, "cert:%s", cn);
            else
                snprintf(subject, sublen, "cert:sha256:%02x%02x%02x%02x%02x%02x%02x%02x", fp[0],
                         fp[1], fp[2], fp[3], fp[4], fp[5], fp[6], fp[7]);
            *role = m->role;
            return 1;
        }
    }
    return 0;
}
