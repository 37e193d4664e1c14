/* Zeek ssl.log / ssh.log reader for the exposure scanner (issue 5).
 *
 * Formats (detected per line):
 *   - Zeek ASCII (TSV): "#separator \x09", "#set_separator", "#empty_field",
 *     "#unset_field", "#path", "#fields", "#types", "#open", "#close"
 *     headers; several such blocks per file, each one restarting the schema;
 *     any other line starting with '#' is skipped (btest's first line).
 *   - zeek-cut output: no "#fields"; the first line that is not a comment
 *     names the columns.
 *   - JSON lines (Zeek's JSON writer): one object per line; ts an epoch
 *     number or an ISO-8601 string; "id.orig_h" flat or "id": {...} nested.
 * Columns are found by name. "-" (unset), "(empty)" and "" count as absent.
 *
 * Classification (docs/exposure.md, "Zeek logs"): ssl by curve (or the
 * numeric server_key_share_group of ssl-log-ext), else by the cipher suite's
 * key exchange; ssh by kex_alg, else SSH-1 by version or banner. The TLS
 * group names go through the same tables as the capture parsers
 * (mw_expo_tls_group_from_name, which also reads Zeek's "unknown-N").
 *
 * Bounds: a line is at most MW_ZEEK_MAX_LINE bytes and MW_ZEEK_MAX_FIELDS
 * columns; longer lines and rows whose column count differs from the header
 * are counted as bad, reported with file:line, and skipped. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mwrasp/exposure.h"

enum {
    F_TS,
    F_UID,
    F_OH,
    F_OP,
    F_RH,
    F_RP,
    F_VERSION,
    F_CIPHER,
    F_CURVE,
    F_SKG,
    F_KEX,
    F_HOSTKEY,
    F_CLIENT,
    F_SERVER,
    F_NFIELDS
};

static const char *const field_names[F_NFIELDS] = {
    "ts",        "uid",          "id.orig_h", "id.orig_p", "id.resp_h",
    "id.resp_p", "version",      "cipher",    "curve",     "server_key_share_group",
    "kex_alg",   "host_key_alg", "client",    "server",
};

/* Fields that say which log a record belongs to. */
static const char *const ssh_marks[] = {"kex_alg",      "host_key_alg", "auth_attempts",
                                        "auth_success", "host_key",     "host_key_fingerprint",
                                        "cipher_alg",   "hassh"};
static const char *const ssl_marks[] = {"cipher",           "curve",       "server_name",
                                        "ssl_history",      "resumed",     "cert_chain_fps",
                                        "cert_chain_fuids", "established", "next_protocol"};

enum { FMT_NONE = 0, FMT_TSV, FMT_CUT };

#define ZEEK_MAX_ERRS 20 /* bad lines reported per file on err_out */

typedef struct zeek_rd {
    const char *label;
    int (*cb)(void *ctx, const mw_zeek_record_t *r);
    void *ctx;
    unsigned long bad;
    unsigned long reported;
    FILE *err;
    int stop;
    unsigned phys; /* current physical line, 1-based */
    unsigned data_idx; /* data records so far */
    /* TSV/cut schema of the current block */
    int fmt;
    char sep;
    char unset[16], empty[16];
    int nfields;
    int idx[F_NFIELDS]; /* column of each wanted field, -1 if absent */
    int log; /* 0 none, 1 ssl, 2 ssh */
    char path[16];
    /* the line being assembled (file/chunk input) */
    char *line;
    size_t len;
    int overflow;
} zeek_rd_t;

__attribute__((format(printf, 2, 3))) static void bad_line(zeek_rd_t *z, const char *fmt, ...)
{
    z->bad++;
    if (!z->err || z->reported >= ZEEK_MAX_ERRS)
        return;
    z->reported++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(z->err, "%s:%u: ", z->label, z->phys);
    vfprintf(z->err, fmt, ap);
    fputc('\n', z->err);
    va_end(ap);
}

static void set_str(char *dst, size_t cap, const char *src)
{
    size_t l = src ? strlen(src) : 0;
    if (l >= cap)
        l = cap - 1;
    if (l)
        memcpy(dst, src, l);
    dst[l] = '\0';
}

/* ------------------------------------------------------------------ */
/* Classification of one record                                        */
/* ------------------------------------------------------------------ */

/* Zeek's version names (ssl.log "version", from its SSL analyzer's
 * version table) to our text and the wire code. */
static void tls_version(mw_expo_session_t *s, const char *v)
{
    static const struct {
        const char *zeek, *text;
        uint16_t code;
    } tab[] = {
        {"SSLv2", "SSL 2.0", 0x0002},    {"SSLv3", "SSL 3.0", 0x0300},
        {"TLSv10", "TLS 1.0", 0x0301},   {"TLSv11", "TLS 1.1", 0x0302},
        {"TLSv12", "TLS 1.2", 0x0303},   {"TLSv13", "TLS 1.3", 0x0304},
        {"DTLSv10", "DTLS 1.0", 0xfeff}, {"DTLSv12", "DTLS 1.2", 0xfefd},
        {"DTLSv13", "DTLS 1.3", 0xfefc},
    };
    if (!v)
        return;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(v, tab[i].zeek) == 0) {
            set_str(s->version, sizeof s->version, tab[i].text);
            s->version_code = tab[i].code;
            return;
        }
    int d;
    if (sscanf(v, "TLSv13-draft%d", &d) == 1 && d > 0 && d < 256) {
        snprintf(s->version, sizeof s->version, "TLS 1.3 (draft %d)", d);
        s->version_code = (uint16_t)(0x7f00 | d);
        return;
    }
    unsigned long u;
    char *end;
    if (strncmp(v, "unknown-", 8) == 0 && (u = strtoul(v + 8, &end, 10)) <= 0xffff && !*end) {
        s->version_code = (uint16_t)u;
        if (u == 0x7e01 || u == 0x7e02)
            snprintf(s->version, sizeof s->version, "TLS 1.3 (Google experiment 0x%04lx)", u);
        else
            snprintf(s->version, sizeof s->version, "0x%04lx", u);
        return;
    }
    set_str(s->version, sizeof s->version, v);
}

__attribute__((format(printf, 2, 3))) static void reasonf(mw_expo_session_t *s, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
}

static void classify_group(mw_zeek_record_t *r, int g, const char *field, const char *raw)
{
    mw_expo_session_t *s = &r->s;
    set_str(r->basis, sizeof r->basis, field);
    if (g < 0) {
        s->cls = MW_EXPO_UNKNOWN;
        reasonf(s, "Zeek %s %.60s: not a known TLS group", field, raw);
        return;
    }
    const char *name = NULL;
    s->selected_group = g;
    s->cls = mw_expo_tls_group_class((uint16_t)g, &name);
    reasonf(s, "%s group %.40s (0x%04x) (Zeek %s %.40s)",
            s->cls == MW_EXPO_UNKNOWN ? "unassigned" : "server selected", name ? name : "?",
            (unsigned)g, field, raw);
}

/* The key exchange of a TLS <= 1.2 suite name as Zeek logs it (IANA names,
 * "SSL_" read as "TLS_"): the part between "TLS_" and "_WITH_" (RFC 5246,
 * A.5). Returns NULL for a TLS 1.3 suite (no "_WITH_") or a name we do not
 * know. */
static const char *cipher_kex(const char *c, char *buf, size_t cap)
{
    if (strncmp(c, "SSLv20_CK_", 10) == 0 || strncmp(c, "SSL2_", 5) == 0)
        return "RSA"; /* SSL 2.0: the master key is RSA-encrypted */
    if (strncmp(c, "TLS_", 4) != 0 && strncmp(c, "SSL_", 4) != 0)
        return NULL;
    const char *w = strstr(c + 4, "_WITH_");
    if (!w)
        return NULL;
    size_t l = (size_t)(w - (c + 4));
    if (l == 0 || l >= cap)
        return NULL;
    memcpy(buf, c + 4, l);
    buf[l] = '\0';
    return buf;
}

static void classify_ssl(mw_zeek_record_t *r, const char *const *v)
{
    mw_expo_session_t *s = &r->s;
    tls_version(s, v[F_VERSION]);
    if (v[F_CURVE]) {
        classify_group(r, mw_expo_tls_group_from_name(v[F_CURVE]), "curve", v[F_CURVE]);
        return;
    }
    if (v[F_SKG]) {
        char *end;
        unsigned long g = strtoul(v[F_SKG], &end, 10);
        classify_group(r, (*end || g > 0xffff) ? -1 : (int)g, "server_key_share_group", v[F_SKG]);
        return;
    }
    if (v[F_CIPHER]) {
        char kb[48];
        const char *c = v[F_CIPHER];
        const char *k = cipher_kex(c, kb, sizeof kb);
        set_str(r->basis, sizeof r->basis, "cipher");
        if (!k) {
            s->cls = MW_EXPO_UNKNOWN;
            reasonf(s, "Zeek logged cipher %.80s but no group (TLS 1.3 or unknown suite)", c);
            return;
        }
        set_str(s->selected_kex, sizeof s->selected_kex, k);
        s->cls = MW_EXPO_CLASSICAL;
        if (strncmp(k, "RSA", 3) == 0 && strstr(k, "PSK") == NULL)
            reasonf(s, "RSA key transport (%.100s)", c);
        else if (strcmp(k, "PSK") == 0)
            reasonf(s, "pre-shared key alone, no post-quantum key exchange (%.100s)", c);
        else if (strncmp(k, "DHE", 3) == 0 || strncmp(k, "DH_", 3) == 0)
            reasonf(s, "finite-field DH, group not logged (%.100s)", c);
        else if (strncmp(k, "ECDH", 4) == 0)
            reasonf(s, "ECDHE, curve not logged (%.100s)", c);
        else
            reasonf(s, "%s key exchange (%.100s)", k, c);
        return;
    }
    set_str(r->basis, sizeof r->basis, "none");
    s->cls = MW_EXPO_UNKNOWN;
    reasonf(s, "Zeek logged no curve and no cipher");
}

static int ssh1_only(const char *banner)
{
    return banner && strncmp(banner, "SSH-1.", 6) == 0 && strncmp(banner, "SSH-1.99", 8) != 0;
}

static void classify_ssh(mw_zeek_record_t *r, const char *const *v)
{
    mw_expo_session_t *s = &r->s;
    set_str(s->client_banner, sizeof s->client_banner, v[F_CLIENT]);
    set_str(s->server_banner, sizeof s->server_banner, v[F_SERVER]);
    set_str(s->host_key_alg, sizeof s->host_key_alg, v[F_HOSTKEY]);
    if (v[F_VERSION])
        set_str(s->version, sizeof s->version, strcmp(v[F_VERSION], "1") == 0 ? "SSH-1" : "SSH-2");
    if (v[F_KEX]) {
        set_str(r->basis, sizeof r->basis, "kex_alg");
        set_str(s->selected_kex, sizeof s->selected_kex, v[F_KEX]);
        s->seen |= MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO;
        s->cls = mw_expo_ssh_kex_class(v[F_KEX]);
        static const char *const what[] = {"unrecognised kex algorithm", "classical key exchange",
                                           "post-quantum hybrid", "post-quantum KEM alone"};
        reasonf(s, "negotiated %.90s (%s)", v[F_KEX], what[s->cls]);
        return;
    }
    if (v[F_VERSION] && strcmp(v[F_VERSION], "1") == 0) {
        set_str(r->basis, sizeof r->basis, "version");
        set_str(s->selected_kex, sizeof s->selected_kex, "ssh1-rsa-session-key");
        s->cls = MW_EXPO_CLASSICAL;
        reasonf(s, "SSH-1 (Zeek version 1): session key sent RSA-encrypted, no key exchange");
        return;
    }
    if (!v[F_VERSION] && (ssh1_only(v[F_CLIENT]) || ssh1_only(v[F_SERVER]))) {
        int cl = ssh1_only(v[F_CLIENT]);
        set_str(r->basis, sizeof r->basis, "banner");
        set_str(s->version, sizeof s->version, "SSH-1");
        set_str(s->selected_kex, sizeof s->selected_kex, "ssh1-rsa-session-key");
        s->cls = MW_EXPO_CLASSICAL;
        reasonf(s, "SSH-1 (%s %.60s): session key sent RSA-encrypted, no key exchange",
                cl ? "client" : "server", cl ? v[F_CLIENT] : v[F_SERVER]);
        return;
    }
    set_str(r->basis, sizeof r->basis, "none");
    s->cls = MW_EXPO_UNKNOWN;
    reasonf(s, "Zeek logged no kex_alg");
}

static void endpoint(mw_endpoint_t *ep, const char *addr, const char *port)
{
    if (addr) {
        if (inet_pton(AF_INET, addr, ep->addr) == 1)
            ep->family = 4;
        else if (inet_pton(AF_INET6, addr, ep->addr) == 1)
            ep->family = 6;
    }
    if (port) {
        char *end;
        unsigned long p = strtoul(port, &end, 10);
        if (!*end && p <= 65535)
            ep->port = (uint16_t)p;
    }
}

/* ts: epoch seconds with a fraction, or ISO-8601 ("2020-09-16T13:39:18.425492Z");
 * btest's "XXXXXXXXXX.XXXXXX" and anything else give 0. */
static uint64_t parse_ts(const char *t)
{
    if (!t)
        return 0;
    char *end;
    double d = strtod(t, &end);
    if (end != t && *end == '\0' && d >= 0 && d < 1e11)
        return (uint64_t)(d * 1e9);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return 0;
    uint64_t ns = 0;
    if (*rest == '.') {
        uint64_t scale = 100000000;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
            ns += (uint64_t)(*rest - '0') * scale;
    }
    time_t sec = timegm(&tm);
    if (sec < 0)
        return 0;
    return (uint64_t)sec * 1000000000u + ns;
}

/* Emits one record: v[] holds each wanted field or NULL. */
static void emit(zeek_rd_t *z, int log, const char *const *v)
{
    mw_zeek_record_t r;
    memset(&r, 0, sizeof r);
    set_str(r.log, sizeof r.log, log == 2 ? "ssh" : "ssl");
    r.line = z->data_idx;
    r.phys = z->phys;
    set_str(r.uid, sizeof r.uid, v[F_UID]);
    mw_expo_session_init(&r.s, log == 2 ? MW_EXPO_SSH : MW_EXPO_TLS);
    endpoint(&r.s.client, v[F_OH], v[F_OP]);
    endpoint(&r.s.server, v[F_RH], v[F_RP]);
    r.s.first_ns = r.s.last_ns = parse_ts(v[F_TS]);
    if (log == 2)
        classify_ssh(&r, v);
    else
        classify_ssl(&r, v);
    if (z->cb && z->cb(z->ctx, &r) != 0)
        z->stop = 1;
}

/* ------------------------------------------------------------------ */
/* Line formats                                                        */
/* ------------------------------------------------------------------ */

static int absent(const zeek_rd_t *z, const char *s)
{
    return !s || !*s || strcmp(s, "-") == 0 || strcmp(s, "(empty)") == 0 ||
           (z->unset[0] && strcmp(s, z->unset) == 0) || (z->empty[0] && strcmp(s, z->empty) == 0);
}

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Splits line in place on sep; returns the number of columns, or -1 when
 * there are more than MW_ZEEK_MAX_FIELDS. */
static int split(char *line, char sep, char **col)
{
    int n = 0;
    char *p = line;
    if (sep == '\0')
        sep = '\t';
    for (;;) {
        if (n == MW_ZEEK_MAX_FIELDS)
            return -1;
        col[n++] = p;
        char *q = strchr(p, sep);
        if (!q)
            return n;
        *q = '\0';
        p = q + 1;
    }
}

/* A header of column names (#fields or a zeek-cut first line). */
static void set_schema(zeek_rd_t *z, char *names, int fmt)
{
    char *col[MW_ZEEK_MAX_FIELDS];
    int n = split(names, z->sep, col);
    z->fmt = fmt;
    z->log = 0;
    for (int f = 0; f < F_NFIELDS; f++)
        z->idx[f] = -1;
    if (n < 0) {
        z->nfields = 0;
        bad_line(z, "more than %d columns", MW_ZEEK_MAX_FIELDS);
        return;
    }
    z->nfields = n;
    int ssh = 0, ssl = 0;
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < F_NFIELDS; f++)
            if (strcmp(col[i], field_names[f]) == 0)
                z->idx[f] = i;
        ssh |= in_list(col[i], ssh_marks, NELEM(ssh_marks));
        ssl |= in_list(col[i], ssl_marks, NELEM(ssl_marks));
    }
    if (ssh && !ssl)
        z->log = 2;
    else if (ssl && !ssh)
        z->log = 1;
    else if (strcmp(z->path, "ssh") == 0)
        z->log = 2;
    else if (strcmp(z->path, "ssl") == 0)
        z->log = 1;
}

/* "\x09" escapes of the #separator line; a NUL or unreadable separator
 * falls back to TAB (a NUL one would split past the end of the line). */
static char unescape_sep(const char *v)
{
    if (v[0] == '\\' && v[1] == 'x') {
        char hex[3] = {v[2], v[2] ? v[3] : 0, 0};
        char *end;
        long c = strtol(hex, &end, 16);
        return (hex[0] && hex[1] && *end == '\0' && c > 0 && c < 256) ? (char)c : '\t';
    }
    return v[0] ? v[0] : '\t';
}

static void header_line(zeek_rd_t *z, char *line)
{
    if (strncmp(line, "#separator ", 11) == 0) {
        /* A new block: the schema restarts. */
        z->sep = unescape_sep(line + 11);
        z->fmt = FMT_NONE;
        z->nfields = 0;
        z->log = 0;
        z->path[0] = z->unset[0] = z->empty[0] = '\0';
        return;
    }
    size_t kl = strcspn(line, (char[]){z->sep, 0});
    const char *val = line[kl] ? line + kl + 1 : "";
    if (kl == 7 && strncmp(line, "#fields", 7) == 0)
        set_schema(z, line + kl + (line[kl] ? 1 : 0), FMT_TSV);
    else if (kl == 5 && strncmp(line, "#path", 5) == 0)
        set_str(z->path, sizeof z->path, val);
    else if (kl == 12 && strncmp(line, "#unset_field", 12) == 0)
        set_str(z->unset, sizeof z->unset, val);
    else if (kl == 12 && strncmp(line, "#empty_field", 12) == 0)
        set_str(z->empty, sizeof z->empty, val);
    /* #set_separator, #types, #open, #close, btest's banner: nothing to do. */
}

static void tsv_record(zeek_rd_t *z, char *line)
{
    char *col[MW_ZEEK_MAX_FIELDS];
    int n = split(line, z->sep, col);
    if (n != z->nfields) {
        bad_line(z, "%d columns, the header has %d", n, z->nfields);
        return;
    }
    if (!z->log) {
        bad_line(z, "not an ssl.log or ssh.log record");
        return;
    }
    const char *v[F_NFIELDS];
    for (int f = 0; f < F_NFIELDS; f++)
        v[f] = z->idx[f] >= 0 && !absent(z, col[z->idx[f]]) ? col[z->idx[f]] : NULL;
    emit(z, z->log, v);
}

/* A JSON value as text: strings as they are, numbers printed, arrays joined
 * with ','; NULL when absent, null or empty. */
static const char *json_text(json_t *j, char *buf, size_t cap)
{
    if (!j)
        return NULL;
    if (json_is_string(j))
        return json_string_length(j) ? json_string_value(j) : NULL;
    if (json_is_integer(j)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    if (json_is_real(j)) {
        snprintf(buf, cap, "%.6f", json_real_value(j));
        return buf;
    }
    if (json_is_true(j) || json_is_false(j)) {
        snprintf(buf, cap, "%s", json_is_true(j) ? "T" : "F");
        return buf;
    }
    if (json_is_array(j) && json_array_size(j) > 0) {
        size_t used = 0, i;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(j, i, e)
        {
            char eb[64];
            const char *t = json_is_array(e) ? NULL : json_text(e, eb, sizeof eb);
            if (!t)
                continue;
            int w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", t);
            if (w < 0 || (size_t)w >= cap - used)
                break;
            used += (size_t)w;
        }
        return used ? buf : NULL;
    }
    return NULL;
}

static void json_record(zeek_rd_t *z, const char *line, size_t len)
{
    json_error_t err;
    json_t *o = json_loadb(line, len, 0, &err);
    if (!o || !json_is_object(o)) {
        bad_line(z, "not a JSON object: %s", o ? "not an object" : err.text);
        json_decref(o);
        return;
    }
    int ssh = 0, ssl = 0;
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        ssh |= in_list(key, ssh_marks, NELEM(ssh_marks));
        ssl |= in_list(key, ssl_marks, NELEM(ssl_marks));
    }
    int log = ssh && !ssl ? 2 : ssl && !ssh ? 1 : 0;
    if (!log) {
        bad_line(z, "not an ssl.log or ssh.log record");
        json_decref(o);
        return;
    }
    static const size_t BUF = 256;
    char bufs[F_NFIELDS][256];
    const char *v[F_NFIELDS];
    json_t *id = json_object_get(o, "id"); /* nested id record (JSON::use_json_nested) */
    for (int f = 0; f < F_NFIELDS; f++) {
        json_t *j = json_object_get(o, field_names[f]);
        if (!j && json_is_object(id) && strncmp(field_names[f], "id.", 3) == 0)
            j = json_object_get(id, field_names[f] + 3);
        const char *t = json_text(j, bufs[f], BUF);
        v[f] = absent(z, t) ? NULL : t;
    }
    emit(z, log, v);
    json_decref(o);
}

/* One physical line (NUL-terminated, without its LF; may be modified). */
static void one_line(zeek_rd_t *z, char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if (line[0] == '#') {
        header_line(z, line);
        return;
    }
    if (len == 0)
        return;
    if (line[0] == '{') {
        json_record(z, line, len);
        z->data_idx++;
        return;
    }
    if (z->fmt == FMT_NONE) {
        set_schema(z, line, FMT_CUT); /* zeek-cut: a line of column names */
        return;
    }
    if (strlen(line) != len) {
        bad_line(z, "NUL byte in a line");
    } else {
        tsv_record(z, line);
    }
    z->data_idx++;
}

/* Feeds a chunk of the file; lines may straddle chunks. */
static int feed(zeek_rd_t *z, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && !z->stop) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t take = nl ? (size_t)(nl - (data + i)) : len - i;
        if (!z->overflow) {
            if (z->len + take > MW_ZEEK_MAX_LINE) {
                z->overflow = 1;
            } else {
                char *b = realloc(z->line, z->len + take + 1);
                if (!b)
                    return MW_ENOMEM;
                z->line = b;
                memcpy(z->line + z->len, data + i, take);
                z->len += take;
                z->line[z->len] = '\0';
            }
        }
        i += take;
        if (nl) {
            i++;
            z->phys++;
            if (z->overflow) {
                bad_line(z, "line longer than MW_ZEEK_MAX_LINE");
                z->data_idx++;
            } else {
                one_line(z, z->line ? z->line : (char[]){0}, z->len);
            }
            z->len = 0;
            z->overflow = 0;
        }
    }
    return 0;
}

/* The last line may lack its LF. */
static void finish(zeek_rd_t *z)
{
    if ((z->len || z->overflow) && !z->stop) {
        z->phys++;
        if (z->overflow)
            bad_line(z, "line longer than MW_ZEEK_MAX_LINE");
        else
            one_line(z, z->line, z->len);
    }
    free(z->line);
    z->line = NULL;
}

static void rd_init(zeek_rd_t *z, const char *label, int (*cb)(void *, const mw_zeek_record_t *),
                    void *ctx, FILE *err_out)
{
    memset(z, 0, sizeof *z);
    z->label = label ? label : "-";
    z->cb = cb;
    z->ctx = ctx;
    z->err = err_out;
    z->sep = '\t';
    for (int f = 0; f < F_NFIELDS; f++)
        z->idx[f] = -1;
}

int mw_zeek_read_buffer(const char *label, const char *data, size_t len,
                        int (*cb)(void *ctx, const mw_zeek_record_t *r), void *ctx,
                        unsigned long *bad, FILE *err_out)
{
    if (!data && len)
        return MW_EINVAL;
    zeek_rd_t z;
    rd_init(&z, label, cb, ctx, err_out);
    int rc = feed(&z, data, len);
    finish(&z);
    if (bad)
        *bad = z.bad;
    return rc;
}

int mw_zeek_read(const char *path, int (*cb)(void *ctx, const mw_zeek_record_t *r), void *ctx,
                 unsigned long *bad, FILE *err_out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err_out)
            fprintf(err_out, "%s: cannot open\n", path);
        return MW_EIO;
    }
    zeek_rd_t z;
    rd_init(&z, path, cb, ctx, err_out);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!z.stop && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        if ((rc = feed(&z, chunk, n)) != 0)
            break;
    if (ferror(fp))
        rc = MW_EIO;
    finish(&z);
    fclose(fp);
    if (bad)
        *bad = z.bad;
    return rc;
}
