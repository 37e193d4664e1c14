/* Writers of the exposure scanner (exposure.h section 4): JSON lines per
 * session, the per-service table, and a CycloneDX 1.6 CBOM (ECMA-424, JSON
 * schema bom-1.6.schema.json: components of type "cryptographic-asset" with
 * cryptoProperties, "services", "dependencies"). */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "detect/exposure_scan_internal.h"

/* ---- JSON lines ----------------------------------------------------------- */

/* Output buffer: appends go to buf, flushed to the FILE when full (one
 * fwrite per session in practice). */
struct ob {
    FILE *f;
    size_t n;
    char buf[8192];
};

static void ob_flush(struct ob *o)
{
    if (o->n)
        fwrite(o->buf, 1, o->n, o->f);
    o->n = 0;
}

static void ob_put(struct ob *o, const char *p, size_t len)
{
    while (len) {
        if (o->n == sizeof o->buf)
            ob_flush(o);
        size_t k = sizeof o->buf - o->n;
        if (k > len)
            k = len;
        memcpy(o->buf + o->n, p, k);
        o->n += k;
        p += k;
        len -= k;
    }
}

static void ob_s(struct ob *o, const char *s)
{
    ob_put(o, s, strlen(s));
}

static void ob_c(struct ob *o, char c)
{
    if (o->n == sizeof o->buf)
        ob_flush(o);
    o->buf[o->n++] = c;
}

static void ob_u64(struct ob *o, uint64_t v)
{
    char b[24];
    int i = (int)sizeof b;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ob_put(o, b + i, sizeof b - (size_t)i);
}

static void ob_i(struct ob *o, int v)
{
    if (v < 0) {
        ob_c(o, '-');
        ob_u64(o, (uint64_t)(-(int64_t)v));
    } else {
        ob_u64(o, (uint64_t)v);
    }
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string (RFC 8259 7); invalid UTF-8 bytes become U+FFFD. */
static void jstr(struct ob *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    ob_c(o, '"');
    while (left) {
        /* the plain run first */
        size_t k = 0;
        while (k < left && p[k] >= 0x20 && p[k] < 0x7f && p[k] != '"' && p[k] != '\\')
            k++;
        ob_put(o, (const char *)p, k);
        p += k;
        left -= k;
        if (!left)
            break;
        unsigned c = *p;
        size_t n = 1;
        if (c == '"' || c == '\\') {
            ob_c(o, '\\');
            ob_c(o, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ob_put(o, e, 6);
        } else {
            n = utf8_len(p, left);
            if (!n) {
                ob_s(o, "\\ufffd");
                n = 1;
            } else {
                ob_put(o, (const char *)p, n);
            }
        }
        p += n;
        left -= n;
    }
    ob_c(o, '"');
}

static void jstr_or_null(struct ob *o, const char *s)
{
    if (s && s[0])
        jstr(o, s);
    else
        ob_s(o, "null");
}

static void jkey(struct ob *o, const char *k)
{
    ob_c(o, ',');
    ob_c(o, '"');
    ob_s(o, k);
    ob_s(o, "\":");
}

static void jhex(struct ob *o, int32_t v)
{
    static const char hex[] = "0123456789abcdef";
    if (v < 0) {
        ob_s(o, "null");
        return;
    }
    unsigned x = (unsigned)v & 0xffff;
    char b[8] = {'"',         '0', 'x', hex[x >> 12], hex[(x >> 8) & 15], hex[(x >> 4) & 15],
                 hex[x & 15], '"'};
    ob_put(o, b, 8);
}

/* RFC 3339 UTC with nanoseconds, or null. The formatted second is cached. */
static void jtime(struct ob *o, uint64_t ns)
{
    static _Thread_local time_t last_t = -1;
    static _Thread_local char last_b[40];
    if (!ns) {
        ob_s(o, "null");
        return;
    }
    time_t t = (time_t)(ns / 1000000000ull);
    if (t != last_t) {
        struct tm tm;
        /* "%Y-%m-%dT%H:%M:%S" written by hand (strftime was ~1 % of a scan);
         * 64-bit nanoseconds end in year 2554: always four digits */
        if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
            ob_s(o, "null");
            return;
        }
        const int v[6] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour,        tm.tm_min,     tm.tm_sec};
        char *w = last_b;
        for (int i = 0; i < 6; i++) {
            if (i == 0) {
                *w++ = (char)('0' + v[0] / 1000);
                *w++ = (char)('0' + v[0] / 100 % 10);
            }
            *w++ = (char)('0' + v[i] / 10 % 10);
            *w++ = (char)('0' + v[i] % 10);
            if (i < 5)
                *w++ = "--T::"[i];
        }
        *w = '\0';
        last_t = t;
    }
    char frac[11];
    uint64_t f = ns % 1000000000ull;
    frac[0] = '.';
    for (int i = 9; i >= 1; i--) {
        frac[i] = (char)('0' + f % 10);
        f /= 10;
    }
    frac[10] = 'Z';
    ob_c(o, '"');
    ob_s(o, last_b);
    ob_put(o, frac, sizeof frac);
    ob_c(o, '"');
}

int mw_expo_write_json(FILE *f, const char *label, const mw_expo_session_t *s)
{
    if (!f || !s)
        return MW_EINVAL;
    struct ob ob, *o = &ob;
    char cl[MW_ENDPOINT_STRLEN], sv[MW_ENDPOINT_STRLEN];
    const char *gname = NULL, *sname = NULL;
    ob.f = f;
    ob.n = 0;
    ob_s(o, "{\"file\":");
    jstr(o, label ? label : "");
    jkey(o, "protocol");
    jstr(o, mw_expo_proto_name(s->proto));
    jkey(o, "client");
    jstr(o, mw_endpoint_format(&s->client, cl, sizeof cl));
    jkey(o, "server");
    jstr(o, mw_endpoint_format(&s->server, sv, sizeof sv));
    jkey(o, "version");
    jstr_or_null(o, s->version);
    jkey(o, "version_code");
    jhex(o, s->version_code ? (int32_t)s->version_code : -1);
    jkey(o, "selected_group");
    jhex(o, s->selected_group);
    jkey(o, "selected_group_name");
    if (s->selected_group >= 0) {
        mw_expo_tls_group_class((uint16_t)s->selected_group, &gname);
        jstr_or_null(o, gname);
    } else {
        ob_s(o, "null");
    }
    jkey(o, "selected_kex");
    jstr_or_null(o, s->selected_kex);
    jkey(o, "classification");
    jstr(o, mw_expo_class_name(s->cls));
    jkey(o, "reason");
    jstr(o, s->reason);
    jkey(o, "sni");
    jstr_or_null(o, s->sni);
    jkey(o, "alpn");
    jstr_or_null(o, s->alpn);
    jkey(o, "cipher_suite");
    jhex(o, s->cipher_suite);
    jkey(o, "cipher_suite_name");
    if (s->cipher_suite >= 0) {
        mw_expo_tls_suite_kex((uint16_t)s->cipher_suite, &sname);
        jstr_or_null(o, sname);
    } else {
        ob_s(o, "null");
    }
    jkey(o, "hrr_group");
    jhex(o, s->hrr_group);
    jkey(o, "dh_bits");
    ob_i(o, s->dh_bits);
    jkey(o, "host_key_alg");
    jstr_or_null(o, s->host_key_alg);
    jkey(o, "client_banner");
    jstr_or_null(o, s->client_banner);
    jkey(o, "server_banner");
    jstr_or_null(o, s->server_banner);
    jkey(o, "client_offered_pq");
    ob_s(o, s->client_offered_pq ? "true" : "false");
    jkey(o, "bytes_c2s");
    ob_u64(o, s->bytes_c2s);
    jkey(o, "bytes_s2c");
    ob_u64(o, s->bytes_s2c);
    jkey(o, "bytes");
    ob_u64(o, s->bytes_c2s + s->bytes_s2c);
    jkey(o, "exposed_bytes");
    ob_u64(o, s->exposed_bytes);
    jkey(o, "first_ts");
    jtime(o, s->first_ns);
    jkey(o, "last_ts");
    jtime(o, s->last_ns);
    ob_s(o, ",\"certificates\":[");
    for (unsigned i = 0; i < s->n_certs && i < MW_EXPO_MAX_CERTS; i++) {
        const mw_expo_cert_t *c = &s->certs[i];
        ob_s(o, i ? ",{\"sig_alg\":" : "{\"sig_alg\":");
        jstr_or_null(o, c->sig_alg);
        ob_s(o, ",\"key_alg\":");
        jstr_or_null(o, c->key_alg);
        ob_s(o, ",\"key_bits\":");
        ob_i(o, c->key_bits);
        ob_s(o, ",\"pq_signature\":");
        ob_s(o, c->pq_signature ? "true}" : "false}");
    }
    ob_s(o, "]}\n");
    ob_flush(o);
    return ferror(f) ? MW_EIO : MW_OK;
}

/* ---- table ---------------------------------------------------------------- */

static void human_bytes(uint64_t b, char *out, size_t cap)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 5) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, cap, "%" PRIu64 " B", b);
    else
        snprintf(out, cap, "%.1f %s", v, u[i]);
}

/* Appends "a,b,c" to out (cap-bounded, truncated with "..."). */
static void join_add(char *out, size_t cap, const char *item)
{
    size_t l = strlen(out);
    if (!item[0] || l + 4 >= cap)
        return;
    int n = snprintf(out + l, cap - l, "%s%s", l ? "," : "", item);
    if (n < 0 || (size_t)n >= cap - l)
        snprintf(out + cap - 4, 4, "...");
}

#define NCOL 10
struct row {
    char c[NCOL][160];
};

static void svc_row(const mw_expo_service_t *v, struct row *r)
{
    char ep[MW_ENDPOINT_STRLEN];
    memset(r, 0, sizeof *r);
    snprintf(r->c[0], sizeof r->c[0], "%s", mw_endpoint_format(&v->server, ep, sizeof ep));
    snprintf(r->c[1], sizeof r->c[1], "%s", v->sni[0] ? v->sni : "-");
    snprintf(r->c[2], sizeof r->c[2], "%s", mw_expo_proto_name(v->proto));
    snprintf(r->c[3], sizeof r->c[3], "%s", mw_expo_class_name(v->worst));
    snprintf(r->c[4], sizeof r->c[4], "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64,
             v->sessions[MW_EXPO_CLASSICAL], v->sessions[MW_EXPO_PQ_HYBRID],
             v->sessions[MW_EXPO_PQ_ONLY], v->sessions[MW_EXPO_UNKNOWN]);
    human_bytes(v->exposed_bytes, r->c[5], sizeof r->c[5]);
    human_bytes(v->bytes, r->c[6], sizeof r->c[6]);
    for (unsigned i = 0; i < v->n_versions; i++)
        join_add(r->c[7], sizeof r->c[7], v->versions[i]);
    for (unsigned i = 0; i < v->n_groups; i++) {
        const char *n = NULL;
        mw_expo_tls_group_class((uint16_t)v->groups[i], &n);
        join_add(r->c[8], sizeof r->c[8], n ? n : "?");
    }
    for (unsigned i = 0; i < v->n_kex; i++) {
        /* TLS 1.2 ECDHE with a curve already named above */
        if (v->proto != MW_EXPO_SSH && v->n_groups && strcmp(v->kex[i], "ECDHE") == 0)
            continue;
        join_add(r->c[8], sizeof r->c[8], v->kex[i]);
    }
    for (unsigned i = 0; i < v->n_certs; i++) {
        char b[128];
        if (v->certs[i].key_bits)
            snprintf(b, sizeof b, "%s/%s-%d", v->certs[i].sig_alg, v->certs[i].key_alg,
                     v->certs[i].key_bits);
        else
            snprintf(b, sizeof b, "%s/%s", v->certs[i].sig_alg, v->certs[i].key_alg);
        join_add(r->c[9], sizeof r->c[9], b);
    }
    for (int i = 7; i < NCOL; i++)
        if (!r->c[i][0])
            snprintf(r->c[i], sizeof r->c[i], "-");
}

int mw_expo_write_table(FILE *o, const mw_expo_scan_t *sc)
{
    if (!o || !sc)
        return MW_EINVAL;
    static const char *head[NCOL] = {"SERVICE", "SNI",   "PROTO",    "CLASS", "SESSIONS C/H/P/U",
                                     "EXPOSED", "BYTES", "VERSIONS", "KEX",   "CERTIFICATES"};
    size_t w[NCOL];
    struct row r;
    for (int i = 0; i < NCOL; i++)
        w[i] = strlen(head[i]);
    for (size_t k = 0; k < sc->n_svc; k++) {
        svc_row(&sc->svc[k], &r);
        for (int i = 0; i < NCOL; i++)
            if (strlen(r.c[i]) > w[i])
                w[i] = strlen(r.c[i]);
    }
    for (int i = 0; i < NCOL; i++)
        if (i == NCOL - 1)
            fprintf(o, "%s\n", head[i]);
        else
            fprintf(o, "%-*s  ", (int)w[i], head[i]);
    for (size_t k = 0; k < sc->n_svc; k++) {
        svc_row(&sc->svc[k], &r);
        for (int i = 0; i < NCOL; i++) {
            if (i == NCOL - 1)
                fprintf(o, "%s\n", r.c[i]);
            else if (i == 5 || i == 6)
                fprintf(o, "%*s  ", (int)w[i], r.c[i]);
            else
                fprintf(o, "%-*s  ", (int)w[i], r.c[i]);
        }
    }
    uint64_t tot[4] = {0}, exposed = 0;
    for (size_t k = 0; k < sc->n_svc; k++) {
        for (int c = 0; c < 4; c++)
            tot[c] += sc->svc[k].sessions[c];
        exposed += sc->svc[k].exposed_bytes;
    }
    char eb[32];
    human_bytes(exposed, eb, sizeof eb);
    fprintf(o,
            "%zu services; sessions: %" PRIu64 " classical, %" PRIu64 " pq-hybrid, %" PRIu64
            " pq-only, %" PRIu64 " unknown; exposed %s\n",
            sc->n_svc, tot[MW_EXPO_CLASSICAL], tot[MW_EXPO_PQ_HYBRID], tot[MW_EXPO_PQ_ONLY],
            tot[MW_EXPO_UNKNOWN], eb);
    return ferror(o) ? MW_EIO : MW_OK;
}

/* ---- CycloneDX 1.6 CBOM --------------------------------------------------- */

/* What the CBOM says about an algorithm (CycloneDX 1.6 algorithmProperties). */
struct algo {
    char ref[160];
    char name[128];
    const char *primitive; /* "key-agree", "kem", "pke", "signature" */
    char param[32]; /* parameterSetIdentifier, "" if none */
    char curve[32]; /* "" if none */
    int level; /* nistQuantumSecurityLevel, -1 if not known */
    const char *func; /* cryptoFunctions entry */
};

static void ref_of(char *out, size_t cap, const char *kind, const char *name)
{
    size_t l = (size_t)snprintf(out, cap, "crypto/%s/", kind);
    for (const char *p = name; *p && l + 1 < cap; p++) {
        char c = *p;
        out[l++] =
            (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '-' || c == '_' || c == '@'
                       ? c
                       : '-');
    }
    out[l < cap ? l : cap - 1] = '\0';
}

/* TLS named groups (IANA TLS Supported Groups; FIPS 203 for the ML-KEM
 * security categories: ML-KEM-512 1, -768 3, -1024 5). */
static void algo_group(uint16_t g, struct algo *a)
{
    const char *n = NULL;
    mw_expo_class_t c = mw_expo_tls_group_class(g, &n);
    memset(a, 0, sizeof *a);
    a->level = c == MW_EXPO_CLASSICAL ? 0 : -1;
    a->primitive = c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY ? "kem" : "key-agree";
    a->func = c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY ? "encapsulate" : "keygen";
    snprintf(a->name, sizeof a->name, "%s", n ? n : "unknown");
    static const struct {
        uint16_t g;
        const char *name, *curve, *param;
        int level;
    } known[] = {
        {0x0017, "ECDH P-256", "secp256r1", "256", 0},
        {0x0018, "ECDH P-384", "secp384r1", "384", 0},
        {0x0019, "ECDH P-521", "secp521r1", "521", 0},
        {0x001d, "X25519", "Curve25519", "255", 0},
        {0x001e, "X448", "Curve448", "448", 0},
        {0x0100, "DHE-2048 (ffdhe2048)", "", "2048", 0},
        {0x0101, "DHE-3072 (ffdhe3072)", "", "3072", 0},
        {0x0102, "DHE-4096 (ffdhe4096)", "", "4096", 0},
        {0x0103, "DHE-6144 (ffdhe6144)", "", "6144", 0},
        {0x0104, "DHE-8192 (ffdhe8192)", "", "8192", 0},
        {0x0200, "ML-KEM-512", "", "512", 1},
        {0x0201, "ML-KEM-768", "", "768", 3},
        {0x0202, "ML-KEM-1024", "", "1024", 5},
        {0x11eb, "SecP256r1MLKEM768 (ECDH P-256 + ML-KEM-768)", "secp256r1", "768", 3},
        {0x11ec, "X25519MLKEM768 (X25519 + ML-KEM-768)", "Curve25519", "768", 3},
        {0x11ed, "SecP384r1MLKEM1024 (ECDH P-384 + ML-KEM-1024)", "secp384r1", "1024", 5},
        {0x6399, "X25519Kyber768Draft00 (X25519 + Kyber-768)", "Curve25519", "768", 3},
        {0x639a, "SecP256r1Kyber768Draft00 (ECDH P-256 + Kyber-768)", "secp256r1", "768", 3},
        {0x023a, "Kyber-512 (OQS kyber512)", "", "512", 1},
        {0x023c, "Kyber-768 (OQS kyber768)", "", "768", 3},
        {0x023d, "Kyber-1024 (OQS kyber1024)", "", "1024", 5},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].g == g) {
            snprintf(a->name, sizeof a->name, "%s", known[i].name);
            snprintf(a->curve, sizeof a->curve, "%s", known[i].curve);
            snprintf(a->param, sizeof a->param, "%s", known[i].param);
            a->level = known[i].level;
        }
    }
    char id[16];
    snprintf(id, sizeof id, "0x%04x", g);
    ref_of(a->ref, sizeof a->ref, "tls-group", id);
}

/* TLS <= 1.2 key exchange without a named curve: RSA key transport, DHE. */
static void algo_tlskex(const char *kex, struct algo *a)
{
    memset(a, 0, sizeof *a);
    a->level = 0;
    a->func = "keygen";
    a->primitive = "key-agree";
    if (strcmp(kex, "RSA") == 0) {
        snprintf(a->name, sizeof a->name, "RSA key transport");
        a->primitive = "pke";
        a->func = "encrypt";
    } else if (strncmp(kex, "DHE-", 4) == 0) { /* "DHE-2048": the group size */
        snprintf(a->name, sizeof a->name, "%s", kex);
        snprintf(a->param, sizeof a->param, "%s", kex + 4);
    } else {
        snprintf(a->name, sizeof a->name, "%s", kex);
        if (strcmp(kex, "PSK") == 0)
            a->primitive = "other";
    }
    ref_of(a->ref, sizeof a->ref, "tls-kex", a->name);
}

/* SSH kex names (RFC 4253 8, RFC 8731, RFC 9142, draft-ietf-sshm-mlkem-hybrid-kex). */
static void algo_sshkex(const char *kex, struct algo *a)
{
    mw_expo_class_t c = mw_expo_ssh_kex_class(kex);
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", kex);
    a->level = c == MW_EXPO_CLASSICAL ? 0 : -1;
    a->primitive = c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY ? "kem" : "key-agree";
    a->func = c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY ? "encapsulate" : "keygen";
    if (strstr(kex, "mlkem768")) {
        a->level = 3;
        snprintf(a->param, sizeof a->param, "768");
    } else if (strstr(kex, "mlkem1024")) {
        a->level = 5;
        snprintf(a->param, sizeof a->param, "1024");
    }
    if (strstr(kex, "25519"))
        snprintf(a->curve, sizeof a->curve, "Curve25519");
    else if (strstr(kex, "nistp256"))
        snprintf(a->curve, sizeof a->curve, "secp256r1");
    else if (strstr(kex, "nistp384"))
        snprintf(a->curve, sizeof a->curve, "secp384r1");
    else if (strstr(kex, "nistp521"))
        snprintf(a->curve, sizeof a->curve, "secp521r1");
    ref_of(a->ref, sizeof a->ref, "ssh-kex", kex);
}

/* Signature or public-key algorithm (certificates, SSH host keys); FIPS 204
 * security categories: ML-DSA-44 2, -65 3, -87 5. */
static void algo_sig(const char *name, int bits, const char *kind, struct algo *a)
{
    memset(a, 0, sizeof *a);
    a->primitive = "signature";
    a->func = "verify";
    a->level = 0;
    if (bits > 0)
        snprintf(a->name, sizeof a->name, "%s-%d", name, bits);
    else
        snprintf(a->name, sizeof a->name, "%s", name);
    if (bits > 0)
        snprintf(a->param, sizeof a->param, "%d", bits);
    if (strstr(name, "ML-DSA-44")) {
        a->level = 2;
        snprintf(a->param, sizeof a->param, "44");
    } else if (strstr(name, "ML-DSA-65")) {
        a->level = 3;
        snprintf(a->param, sizeof a->param, "65");
    } else if (strstr(name, "ML-DSA-87")) {
        a->level = 5;
        snprintf(a->param, sizeof a->param, "87");
    } else if (strstr(name, "SLH-DSA") || strstr(name, "ML-DSA")) {
        a->level = -1;
    } else if (strcmp(name, "rsaEncryption") == 0 && bits <= 0) {
        a->primitive = "pke";
    }
    ref_of(a->ref, sizeof a->ref, kind, a->name);
}

struct cbom {
    json_t *components; /* array */
    json_t *seen; /* object: ref -> true */
};

/* Adds the component of a once; returns its ref. */
static const char *cbom_algo(struct cbom *b, const struct algo *a)
{
    if (json_object_get(b->seen, a->ref))
        return a->ref;
    json_t *ap =
        json_pack("{s:s, s:s, s:s, s:[s]}", "primitive", a->primitive, "executionEnvironment",
                  "unknown", "implementationPlatform", "unknown", "cryptoFunctions", a->func);
    if (a->param[0])
        json_object_set_new(ap, "parameterSetIdentifier", json_string(a->param));
    if (a->curve[0])
        json_object_set_new(ap, "curve", json_string(a->curve));
    if (a->level >= 0)
        json_object_set_new(ap, "nistQuantumSecurityLevel", json_integer(a->level));
    json_t *c = json_pack("{s:s, s:s, s:s, s:{s:s, s:o}}", "type", "cryptographic-asset", "bom-ref",
                          a->ref, "name", a->name, "cryptoProperties", "assetType", "algorithm",
                          "algorithmProperties", ap);
    json_array_append_new(b->components, c);
    json_object_set_new(b->seen, a->ref, json_true());
    return a->ref;
}

static void version_num(const char *v, char *out, size_t cap)
{
    /* "TLS 1.3" -> "1.3", "SSH-2" -> "2.0", "SSL 2.0" -> "2.0" */
    if (strncmp(v, "SSH-", 4) == 0)
        snprintf(out, cap, "%s.0", v + 4);
    else if (strncmp(v, "TLS ", 4) == 0 || strncmp(v, "SSL ", 4) == 0)
        snprintf(out, cap, "%s", v + 4);
    else
        snprintf(out, cap, "%s", v);
    char *sp = strchr(out, ' ');
    if (sp && (strncmp(v, "TLS", 3) == 0))
        *sp = '\0'; /* "1.3 (draft 23)" -> "1.3" */
}

/* The protocol component of a service and version, with its cipher suites
 * (CycloneDX 1.6 protocolProperties). */
static const char *cbom_proto(struct cbom *b, const mw_expo_service_t *v, const char *ver,
                              char *ref, size_t cap)
{
    const char *type = v->proto == MW_EXPO_SSH ? "ssh" : v->proto == MW_EXPO_QUIC ? "other" : "tls";
    char name[96];
    if (v->proto == MW_EXPO_QUIC)
        snprintf(name, sizeof name, "QUIC (%s)", ver);
    else
        snprintf(name, sizeof name, "%s", ver);
    ref_of(ref, cap, "protocol", name);
    json_t *c = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(b->components, i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "bom-ref")), ref) == 0)
            c = x;
    }
    if (!c) {
        char num[48];
        version_num(ver, num, sizeof num);
        c = json_pack("{s:s, s:s, s:s, s:{s:s, s:{s:s, s:s, s:[]}}}", "type", "cryptographic-asset",
                      "bom-ref", ref, "name", name, "cryptoProperties", "assetType", "protocol",
                      "protocolProperties", "type", type, "version", num, "cipherSuites");
        json_array_append_new(b->components, c);
        json_object_set_new(b->seen, ref, json_true());
    }
    json_t *suites = json_object_get(
        json_object_get(json_object_get(c, "cryptoProperties"), "protocolProperties"),
        "cipherSuites");
    for (unsigned k = 0; k < v->n_suites; k++) {
        const char *sn = NULL;
        mw_expo_tls_suite_kex(v->suites[k], &sn);
        char id[16];
        snprintf(id, sizeof id, "0x%04x", v->suites[k]);
        int dup = 0;
        json_array_foreach(suites, i, x)
        {
            if (strcmp(json_string_value(json_array_get(json_object_get(x, "identifiers"), 0)),
                       id) == 0)
                dup = 1;
        }
        if (!dup)
            json_array_append_new(
                suites, json_pack("{s:s, s:[s]}", "name", sn ? sn : id, "identifiers", id));
    }
    return ref;
}

static int uuid4(char out[37])
{
    unsigned char u[16];
    if (RAND_bytes(u, sizeof u) != 1)
        return MW_ECRYPTO;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* RFC 9562 5.4: version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
    return MW_OK;
}

static void add_ref(json_t *arr, const char *ref)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (strcmp(json_string_value(x), ref) == 0)
            return;
    }
    json_array_append_new(arr, json_string(ref));
}

static void prop(json_t *props, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void prop(json_t *props, const char *name, const char *fmt, ...)
{
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    json_array_append_new(props, json_pack("{s:s, s:s}", "name", name, "value", b));
}

int mw_expo_write_cbom(FILE *o, const mw_expo_scan_t *sc)
{
    if (!o || !sc)
        return MW_EINVAL;
    int rc = MW_ENOMEM;
    char uuid[37], urn[48], ts[32];
    struct cbom b = {json_array(), json_object()};
    json_t *services = json_array(), *deps = json_array(), *doc = NULL;
    if (!b.components || !b.seen || !services || !deps)
        goto out;
    rc = uuid4(uuid);
    if (rc != MW_OK)
        goto out;
    rc = MW_ENOMEM;
    snprintf(urn, sizeof urn, "urn:uuid:%s", uuid);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);

    for (size_t k = 0; k < sc->n_svc; k++) {
        const mw_expo_service_t *v = &sc->svc[k];
        char ep[MW_ENDPOINT_STRLEN], sref[200], name[200], ref[160];
        struct algo a;
        mw_endpoint_format(&v->server, ep, sizeof ep);
        snprintf(name, sizeof name, "%s%s%s%s", ep, v->sni[0] ? " (" : "", v->sni,
                 v->sni[0] ? ")" : "");
        snprintf(sref, sizeof sref, "service/%s/%s%s%s", mw_expo_proto_name(v->proto), ep,
                 v->sni[0] ? "/" : "", v->sni);
        json_t *uses = json_array();
        for (unsigned i = 0; i < v->n_versions; i++)
            add_ref(uses, cbom_proto(&b, v, v->versions[i], ref, sizeof ref));
        for (unsigned i = 0; i < v->n_groups; i++) {
            algo_group((uint16_t)v->groups[i], &a);
            add_ref(uses, cbom_algo(&b, &a));
        }
        for (unsigned i = 0; i < v->n_kex; i++) {
            if (v->proto == MW_EXPO_SSH) {
                algo_sshkex(v->kex[i], &a);
            } else {
                /* ECDHE/ECDH: the curve is the algorithm, named by the group */
                if ((strcmp(v->kex[i], "ECDHE") == 0 || strcmp(v->kex[i], "ECDH") == 0) &&
                    v->n_groups)
                    continue;
                algo_tlskex(v->kex[i], &a);
            }
            add_ref(uses, cbom_algo(&b, &a));
        }
        for (unsigned i = 0; i < v->n_host_key_algs; i++) {
            algo_sig(v->host_key_algs[i], 0, "ssh-hostkey", &a);
            add_ref(uses, cbom_algo(&b, &a));
        }
        for (unsigned i = 0; i < v->n_certs; i++) {
            if (v->certs[i].sig_alg[0]) {
                algo_sig(v->certs[i].sig_alg, 0, "signature", &a);
                add_ref(uses, cbom_algo(&b, &a));
            }
            if (v->certs[i].key_alg[0]) {
                algo_sig(v->certs[i].key_alg, v->certs[i].key_bits, "public-key", &a);
                add_ref(uses, cbom_algo(&b, &a));
            }
        }
        json_t *props = json_array();
        prop(props, "mwrasp:exposure:classification", "%s", mw_expo_class_name(v->worst));
        prop(props, "mwrasp:exposure:reason", "%s", v->last_reason);
        prop(props, "mwrasp:exposure:server", "%s", ep);
        prop(props, "mwrasp:exposure:protocol", "%s", mw_expo_proto_name(v->proto));
        prop(props, "mwrasp:exposure:sessions:classical", "%" PRIu64,
             v->sessions[MW_EXPO_CLASSICAL]);
        prop(props, "mwrasp:exposure:sessions:pq-hybrid", "%" PRIu64,
             v->sessions[MW_EXPO_PQ_HYBRID]);
        prop(props, "mwrasp:exposure:sessions:pq-only", "%" PRIu64, v->sessions[MW_EXPO_PQ_ONLY]);
        prop(props, "mwrasp:exposure:sessions:unknown", "%" PRIu64, v->sessions[MW_EXPO_UNKNOWN]);
        prop(props, "mwrasp:exposure:bytes", "%" PRIu64, v->bytes);
        prop(props, "mwrasp:exposure:exposed_bytes", "%" PRIu64, v->exposed_bytes);
        json_t *svc =
            json_pack("{s:s, s:s, s:o}", "bom-ref", sref, "name", name, "properties", props);
        if (v->sni[0])
            json_object_set_new(svc, "description", json_string(v->sni));
        json_array_append_new(services, svc);
        json_array_append_new(deps, json_pack("{s:s, s:o}", "ref", sref, "dependsOn", uses));
    }
    doc =
        json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:{s:[{s:s, s:s, s:s}]}}, s:o, s:o, s:o}",
                  "$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat",
                  "CycloneDX", "specVersion", "1.6", "version", 1, "metadata", "timestamp", ts,
                  "tools", "components", "type", "application", "name", "mwrasp", "version",
                  "0.1.0", "components", b.components, "services", services, "dependencies", deps);
    b.components = services = deps = NULL;
    if (!doc)
        goto out;
    json_object_set_new(doc, "serialNumber", json_string(urn));
    rc = json_dumpf(doc, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? MW_OK : MW_EIO;
    fputc('\n', o);
    if (ferror(o))
        rc = MW_EIO;
out:
    json_decref(doc);
    json_decref(b.components);
    json_decref(b.seen);
    json_decref(services);
    json_decref(deps);
    return rc;
}
