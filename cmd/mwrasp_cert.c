/* mwrasp cert selfsigned: a key and a self-signed certificate for the API's
 * TLS listener on a first run (listen.https, api.tls_cert, api.tls_key).
 * OpenSSL EVP: a P-256 (default) or Ed25519 key (RFC 8410), an X.509 v3
 * certificate with subjectAltName (RFC 5280 section 4.2.1.6): the CN as a
 * DNS name or IP address, plus localhost, 127.0.0.1 and ::1. The key file
 * is created with mode 0600 and never overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

int mw_cmd_cert(int argc, char **argv);

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mwrasp cert selfsigned --out-cert FILE --out-key FILE [--cn NAME]\n"
                "                              [--days N] [--key-type p256|ed25519]\n"
                "\n"
                "Makes a private key (mode 0600) and a self-signed X.509 certificate for the\n"
                "API's TLS listener (listen.https, api.tls_cert, api.tls_key). subjectAltName:\n"
                "the CN (default localhost) and localhost, 127.0.0.1, ::1. Default 365 days,\n"
                "P-256 (Ed25519 certificates are not accepted by web browsers).\n"
                "Existing files are not overwritten.\n");
}

static int ssl_fail(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    fprintf(stderr, "mwrasp cert: %s failed%s%s\n", what, buf[0] ? ": " : "", buf);
    return 1;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Opens path for writing, new file only, with mode. */
static FILE *create_file(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "mwrasp cert: cannot create %s: %s\n", path, strerror(errno));
        return NULL;
    }
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL)
        close(fd);
    return fp;
}

static int selfsigned(const char *cert_path, const char *key_path, const char *cn, long days,
                      int ed25519)
{
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    BIGNUM *bn = NULL;
    FILE *kf = NULL, *cf = NULL;
    unsigned char serial[16];
    char san[600];
    unsigned char ipbuf[16];
    int rc = 1, cn_is_ip;

    pkey = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                   : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (pkey == NULL)
        return ssl_fail("key generation");
    x = X509_new();
    if (x == NULL || X509_set_version(x, 2) != 1) /* v3 */
        goto ssl_err;
    /* A positive random 127-bit serial (RFC 5280 section 4.1.2.2). */
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto ssl_err;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto ssl_err;
    if (X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL)
        goto ssl_err;
    if (X509_set_pubkey(x, pkey) != 1)
        goto ssl_err;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1)
        goto ssl_err;
    cn_is_ip = inet_pton(AF_INET, cn, ipbuf) == 1 || inet_pton(AF_INET6, cn, ipbuf) == 1;
    if (strcmp(cn, "localhost") == 0)
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1");
    else
        snprintf(san, sizeof(san), "%s:%s,DNS:localhost,IP:127.0.0.1,IP:::1",
                 cn_is_ip ? "IP" : "DNS", cn);
    if (add_ext(x, NID_subject_alt_name, san) != 0 ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") != 0)
        goto ssl_err;
    /* Ed25519 signs the message itself: no digest (RFC 8410). */
    if (X509_sign(x, pkey, ed25519 ? NULL : EVP_sha256()) <= 0)
        goto ssl_err;

    kf = create_file(key_path, 0600);
    if (kf == NULL)
        goto out;
    if (PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        ssl_fail("writing the key");
        goto out;
    }
    if (fclose(kf) != 0) {
        kf = NULL;
        fprintf(stderr, "mwrasp cert: writing %s: %s\n", key_path, strerror(errno));
        goto out;
    }
    kf = NULL;
    cf = create_file(cert_path, 0644);
    if (cf == NULL)
        goto out;
    if (PEM_write_X509(cf, x) != 1) {
        ssl_fail("writing the certificate");
        goto out;
    }
    if (fclose(cf) != 0) {
        cf = NULL;
        fprintf(stderr, "mwrasp cert: writing %s: %s\n", cert_path, strerror(errno));
        goto out;
    }
    cf = NULL;
    {
        unsigned char fp[32];
        unsigned int n = 0;
        if (X509_digest(x, EVP_sha256(), fp, &n) == 1 && n == 32) {
            printf("certificate %s (CN=%s, %ld days, %s), key %s\nSHA256=", cert_path, cn, days,
                   ed25519 ? "Ed25519" : "P-256", key_path);
            for (unsigned i = 0; i < n; i++)
                printf("%02X%s", fp[i], i + 1 < n ? ":" : "\n");
        }
    }
    rc = 0;
    goto out;
ssl_err:
    ssl_fail("building the certificate");
out:
    if (kf)
        fclose(kf);
    if (cf)
        fclose(cf);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

int mw_cmd_cert(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out-cert", required_argument, NULL, 'c'},
        {"out-key", required_argument, NULL, 'k'},
        {"cn", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'd'},
        {"key-type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cert = NULL, *key = NULL, *cn = "localhost";
    long days = 365;
    int ed = 0, opt;

    if (argc < 2 || strcmp(argv[1], "selfsigned") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'n':
            cn = optarg;
            break;
        case 'd': {
            char *end;
            errno = 0;
            days = strtol(optarg, &end, 10);
            if (*end || errno || days < 1 || days > 3650) {
                fprintf(stderr, "mwrasp cert: --days: 1..3650\n");
                return 2;
            }
            break;
        }
        case 't':
            if (strcmp(optarg, "ed25519") == 0)
                ed = 1;
            else if (strcmp(optarg, "p256") == 0)
                ed = 0;
            else {
                fprintf(stderr, "mwrasp cert: --key-type: p256 or ed25519\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (cert == NULL || key == NULL || optind < argc) {
        usage(stderr);
        return 2;
    }
    size_t cl = strlen(cn);
    unsigned char v6[16];
    /* The CN goes into the SAN list as text: no separators (',' ':' only in
     * an IPv6 address). */
    if (cl == 0 || cl > 200 || strpbrk(cn, ",/\\\" ") != NULL ||
        (strchr(cn, ':') && inet_pton(AF_INET6, cn, v6) != 1)) {
        fprintf(stderr, "mwrasp cert: --cn: a host name or IP address (1..200 characters)\n");
        return 2;
    }
    return selfsigned(cert, key, cn, days, ed);
}
