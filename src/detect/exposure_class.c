/* Classification of a handshake's key exchange (issue 5): which sessions a
 * future quantum computer can decrypt. The rules are in docs/exposure.md and
 * in the comment of mw_expo_classify in include/mwrasp/exposure.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mwrasp/exposure.h"

const char *mw_expo_class_name(mw_expo_class_t c)
{
    switch (c) {
    case MW_EXPO_CLASSICAL:
        return "classical";
    case MW_EXPO_PQ_HYBRID:
        return "pq-hybrid";
    case MW_EXPO_PQ_ONLY:
        return "pq-only";
    case MW_EXPO_UNKNOWN:
    default:
        return "unknown";
    }
}

const char *mw_expo_proto_name(mw_expo_proto_t p)
{
    switch (p) {
    case MW_EXPO_TLS:
        return "tls";
    case MW_EXPO_QUIC:
        return "quic";
    case MW_EXPO_SSH:
        return "ssh";
    default:
        return "unknown";
    }
}

void mw_expo_session_init(mw_expo_session_t *s, mw_expo_proto_t proto)
{
    memset(s, 0, sizeof(*s));
    s->proto = proto;
    s->selected_group = -1;
    s->cipher_suite = -1;
    s->hrr_group = -1;
    s->cls = MW_EXPO_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* SSH key exchange names                                              */
/* ------------------------------------------------------------------ */

/* Substring / prefix tests on a name already lowercased (lower()). */
static int has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ASCII lowercase copy, truncated to MW_EXPO_MAX_NAME - 1 bytes (SSH names
 * are at most 64, RFC 4251, 6). */
static void lower(char *dst, const char *src)
{
    size_t i = 0;
    for (; src[i] && i < MW_EXPO_MAX_NAME - 1; i++) {
        char c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    dst[i] = '\0';
}

/* Post-quantum KEM families seen in SSH kex names: the IANA "Key Exchange
 * Method Names" registry (mlkem768x25519-sha256, mlkem768nistp256-sha256,
 * mlkem1024nistp384-sha384: RFC 10042; sntrup761x25519-sha512: draft-ietf-
 * sshm-ntruprime-ssh), OpenSSH (sntrup761x25519-sha512@openssh.com,
 * sntrup4591761x25519-sha512@tinyssh.org) and OQS-OpenSSH / OQS-libssh
 * (kyber-*, ml-kem-*, frodokem-*, bike*, hqc-*, classic-mceliece-*,
 * ntru-*, ntruprime-*, saber-*, and their ecdh-nistpNNN-* / x25519-*
 * hybrids). */
static const char *const ssh_pq_tokens[] = {
    "mlkem",     "ml-kem",   "kyber", "sntrup", "ntruprime", "ntrulpr", "ntru-hps",
    "ntru-hrss", "frodokem", "bike",  "hqc-",   "mceliece",  "saber",
};
/* The classical half of a hybrid. */
static const char *const ssh_ecdh_tokens[] = {
    "x25519", "curve25519", "x448", "curve448", "nistp", "ecdh", "p256", "p384", "p521",
};

static mw_expo_class_t ssh_kex_class_slow(const char *name)
{
    char kex[MW_EXPO_MAX_NAME];
    lower(kex, name);
    /* Pseudo-algorithms, never negotiated (RFC 8308, 2.1; OpenSSH strict kex). */
    if (starts(kex, "ext-info-") || starts(kex, "kex-strict-"))
        return MW_EXPO_UNKNOWN;
    /* SIKE/SIDH (OQS-OpenSSH 7.9-8.x) fell to a classical attack in 2022:
     * what is left is the ECDH half, if any. */
    if (has(kex, "sike") || has(kex, "sidh"))
        return MW_EXPO_CLASSICAL;
    int pq = 0, ecdh = 0;
    for (size_t i = 0; i < sizeof(ssh_pq_tokens) / sizeof(ssh_pq_tokens[0]); i++)
        if (has(kex, ssh_pq_tokens[i]))
            pq = 1;
    if (pq) {
        for (size_t i = 0; i < sizeof(ssh_ecdh_tokens) / sizeof(ssh_ecdh_tokens[0]); i++)
            if (has(kex, ssh_ecdh_tokens[i]))
                ecdh = 1;
        return ecdh ? MW_EXPO_PQ_HYBRID : MW_EXPO_PQ_ONLY;
    }
    /* Classical: RFC 8731 (curve25519/448), RFC 5656 (ecdh-sha2-*), RFC 4253
     * and RFC 8268 (diffie-hellman-group*), RFC 4419 (group exchange), RFC
     * 4462 (gss-*), RFC 4432 (rsa1024-sha1, rsa2048-sha256), and the
     * pre-RFC curve25519-sha256@libssh.org. */
    static const char *const classical[] = {
        "curve25519-",  "curve448-",      "ecdh-sha2-", "diffie-hellman-", "gss-",
        "rsa1024-sha1", "rsa2048-sha256", "ecmqv-sha2", "sm2kep-",
    };
    for (size_t i = 0; i < sizeof(classical) / sizeof(classical[0]); i++)
        if (starts(kex, classical[i]))
            return MW_EXPO_CLASSICAL;
    return MW_EXPO_UNKNOWN;
}

/* The names every SSH client and server lists (IANA "Key Exchange Method
 * Names", OpenSSH, RFC 8308 ext-info, strict kex), in strcmp order. Their
 * classes are computed once by the rules above (so they cannot disagree
 * with them); an exact match skips the lowercase copy and the ~30 substring
 * searches, which were ~4 % of `mwrasp exposure scan` (every name of every
 * client KEXINIT is classified for client_offered_pq). */
static const char *const ssh_common_kex[] = {
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "curve448-sha512",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "ext-info-c",
    "ext-info-s",
    "kex-strict-c-v00@openssh.com",
    "kex-strict-s-v00@openssh.com",
    "mlkem1024nistp384-sha384",
    "mlkem768nistp256-sha256",
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
};
#define N_COMMON_KEX (sizeof ssh_common_kex / sizeof ssh_common_kex[0])
static mw_expo_class_t ssh_common_cls[N_COMMON_KEX];
static pthread_once_t ssh_common_once = PTHREAD_ONCE_INIT;

static void ssh_common_init(void)
{
    for (size_t i = 0; i < N_COMMON_KEX; i++)
        ssh_common_cls[i] = ssh_kex_class_slow(ssh_common_kex[i]);
}

mw_expo_class_t mw_expo_ssh_kex_class(const char *name)
{
    if (!name || !*name)
        return MW_EXPO_UNKNOWN;
    pthread_once(&ssh_common_once, ssh_common_init);
    size_t lo = 0, hi = N_COMMON_KEX;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, ssh_common_kex[mid]);
        if (c == 0)
            return ssh_common_cls[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return ssh_kex_class_slow(name);
}

/* ------------------------------------------------------------------ */
/* mw_expo_classify                                                    */
/* ------------------------------------------------------------------ */

/* Writes s->reason (truncated to its size). */
__attribute__((format(printf, 2, 3))) static void reasonf(mw_expo_session_t *s, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
    va_end(ap);
}

/* SSH-1 only: a 1.x banner other than 1.99 (RFC 4253, 5.1). */
static int banner_ssh1_only(const char *b)
{
    return strncmp(b, "SSH-1.", 6) == 0 && strncmp(b, "SSH-1.99", 8) != 0;
}

static void classify_ssh(mw_expo_session_t *s)
{
    if (strcmp(s->version, "SSH-1") == 0 || banner_ssh1_only(s->client_banner) ||
        banner_ssh1_only(s->server_banner)) {
        const char *who = banner_ssh1_only(s->server_banner) ? "server" : "client";
        const char *b = banner_ssh1_only(s->server_banner) ? s->server_banner : s->client_banner;
        s->cls = MW_EXPO_CLASSICAL;
        reasonf(s, "SSH-1 (%s %.60s): session key sent RSA-encrypted, no key exchange", who, b);
        return;
    }
    int c = (s->seen & MW_EXPO_SEEN_CLIENT_HELLO) != 0;
    int sv = (s->seen & MW_EXPO_SEEN_SERVER_HELLO) != 0;
    if (s->selected_kex[0]) {
        s->cls = mw_expo_ssh_kex_class(s->selected_kex);
        const char *what = "unrecognised kex algorithm";
        switch (s->cls) {
        case MW_EXPO_CLASSICAL:
            what = strcasestr(s->selected_kex, "sike") || strcasestr(s->selected_kex, "sidh")
                       ? "SIKE/SIDH is broken: classical at best"
                       : "classical key exchange";
            break;
        case MW_EXPO_PQ_HYBRID:
            what = "post-quantum hybrid";
            break;
        case MW_EXPO_PQ_ONLY:
            what = "post-quantum KEM alone";
            break;
        default:
            break;
        }
        reasonf(s, "negotiated %.90s (%s)", s->selected_kex, what);
        return;
    }
    s->cls = MW_EXPO_UNKNOWN;
    /* Keep what the parser said about malformed input (mark_malformed). */
    if (strncmp(s->reason, "malformed SSH", 13) == 0)
        return;
    if (c && sv)
        reasonf(s, "no common kex algorithm in the client and server KEXINIT");
    else if (c)
        reasonf(s, "no server KEXINIT seen");
    else if (sv)
        reasonf(s, "no client KEXINIT seen");
    else
        reasonf(s, "no KEXINIT seen");
}

/* TLS 1.3 rules: the version the server selected is 1.3, a 1.3 draft
 * (0x7fNN), Google's experiment (0x7e01, 0x7e02), DTLS 1.3 (0xfefc), or QUIC. */
static int is_tls13(const mw_expo_session_t *s)
{
    unsigned v = s->version_code;
    if (s->proto == MW_EXPO_QUIC)
        return 1;
    if (v == 0x0304 || (v >> 8) == 0x7f || v == 0x7e01 || v == 0x7e02 || v == 0xfefc)
        return 1;
    /* A 0x13xx suite is TLS 1.3 whatever the version field says. */
    return s->cipher_suite >= 0 && (s->cipher_suite >> 8) == 0x13;
}

static const char *tls_ver(const mw_expo_session_t *s)
{
    return s->version[0] ? s->version : "TLS <= 1.2";
}

static void classify_tls(mw_expo_session_t *s)
{
    s->cls = MW_EXPO_UNKNOWN;
    if (!(s->seen & MW_EXPO_SEEN_SERVER_HELLO)) {
        reasonf(s, "no ServerHello seen");
        return;
    }
    if (is_tls13(s)) {
        if (s->selected_group < 0) {
            reasonf(s, "%s ServerHello without key_share (PSK-only resumption?)", tls_ver(s));
            return;
        }
        const char *name = NULL;
        uint16_t g = (uint16_t)s->selected_group;
        s->cls = mw_expo_tls_group_class(g, &name);
        char gn[48];
        if (name && strncmp(name, "0x", 2) != 0)
            snprintf(gn, sizeof(gn), "%.30s (0x%04x)", name, g);
        else
            snprintf(gn, sizeof(gn), "0x%04x", g);
        if (s->cls == MW_EXPO_UNKNOWN)
            reasonf(s, "server selected unassigned group %s", gn);
        else
            reasonf(s, "server selected %s%s", gn,
                    (s->seen & MW_EXPO_SEEN_HRR) ? " after HelloRetryRequest" : "");
        return;
    }
    if (s->version_code == 0x0002) {
        /* SSL 2.0: the client sends the master key RSA-encrypted. */
        s->cls = MW_EXPO_CLASSICAL;
        reasonf(s, "SSL 2.0 RSA key transport");
        return;
    }
    if (s->cipher_suite < 0) {
        reasonf(s, "%s ServerHello without a cipher suite", tls_ver(s));
        return;
    }
    const char *sname = NULL;
    uint16_t suite = (uint16_t)s->cipher_suite;
    const char *kex = mw_expo_tls_suite_kex(suite, &sname);
    char sn[80];
    if (sname)
        snprintf(sn, sizeof(sn), "%.78s", sname);
    else
        snprintf(sn, sizeof(sn), "0x%04x", suite);
    if (!kex) {
        reasonf(s, "%s unknown cipher suite %s", tls_ver(s), sn);
        return;
    }
    s->cls = MW_EXPO_CLASSICAL;
    if (strcmp(kex, "RSA") == 0) {
        reasonf(s, "%s RSA key transport (%s)", tls_ver(s), sn);
    } else if (strcmp(kex, "PSK") == 0) {
        reasonf(s, "%s pre-shared key alone, no post-quantum key exchange (%s)", tls_ver(s), sn);
    } else if ((strcmp(kex, "ECDHE") == 0 || strcmp(kex, "ECDH") == 0 ||
                strcmp(kex, "ECDHE_PSK") == 0) &&
               s->selected_group >= 0) {
        const char *name = NULL;
        uint16_t g = (uint16_t)s->selected_group;
        mw_expo_class_t gc = mw_expo_tls_group_class(g, &name);
        /* A hybrid group in a TLS 1.2 ECDHE exchange does not exist in
         * any standard; trust the group if a server did it. */
        if (gc == MW_EXPO_PQ_HYBRID || gc == MW_EXPO_PQ_ONLY)
            s->cls = gc;
        reasonf(s, "%s %s with %.30s (0x%04x) (%s)", tls_ver(s), kex, name ? name : "group", g, sn);
    } else if (s->dh_bits > 0) {
        reasonf(s, "%s %s-%d (%s)", tls_ver(s), kex, s->dh_bits, sn);
    } else {
        reasonf(s, "%s %s key exchange (%s)", tls_ver(s), kex, sn);
    }
}

void mw_expo_classify(mw_expo_session_t *s)
{
    if (!s)
        return;
    if (s->proto == MW_EXPO_SSH)
        classify_ssh(s);
    else
        classify_tls(s);
}
