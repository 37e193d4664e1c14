/* GET /api/v1/threats answers written straight into one buffer, without
 * building jansson objects: the same bytes as
 *   json_dumps({"threats": [mw_api_threat_json(t)...], "next_cursor": ...},
 *              JSON_COMPACT | JSON_REAL_PRECISION(10))
 * (tests/unit/test_api_threatjson.c compares both on random threats), at a
 * fraction of the cost: building and dumping the jansson tree was ~60 % of
 * the CPU of a 50-threat answer (perf, bench/bench_api.sh).
 *
 * Strings are made valid UTF-8 first (invalid bytes -> U+FFFD, as
 * mw_api_string_repaired) and escaped as jansson does: \" \\ \b \f \n \r \t,
 * other bytes below 0x20 as \u00XX (upper-case hex), everything else as is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "mwrasp/detect.h"

struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

#define PUTS(b, lit) jb_put((b), (lit), sizeof(lit) - 1)

/* Escapes valid UTF-8 s[0..n) between quotes. */
static void jb_escaped(struct jbuf *b, const char *s, size_t n)
{
    size_t run = 0;
    PUTS(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = NULL;
        char u[8];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            snprintf(u, sizeof(u), "\\u%04X", c);
            e = u;
        }
        jb_put(b, e, strlen(e));
    }
    jb_put(b, s + run, n - run);
    PUTS(b, "\"");
}

/* A string from a fixed-size store field: bounded length, repaired. */
static void jb_string(struct jbuf *b, const char *s, size_t n)
{
    if (mw_utf8_valid(s, n)) {
        jb_escaped(b, s, n);
        return;
    }
    json_t *j = mw_api_string_repaired(s, n);
    if (j == NULL) {
        b->oom = 1;
        return;
    }
    jb_escaped(b, json_string_value(j), json_string_length(j));
    json_decref(j);
}

static void jb_fixed(struct jbuf *b, const char *s, size_t cap)
{
    jb_string(b, s, strnlen(s, cap));
}

/* A real as jansson writes it with precision 10: "%.10g", ".0" added when
 * it looks like an integer, '+' and leading zeros dropped from exponents. */
static void jb_real(struct jbuf *b, double v)
{
    char buf[64], *e;
    if (!isfinite(v)) { /* jansson refuses these; null keeps the answer JSON */
        PUTS(b, "null");
        return;
    }
    int n = snprintf(buf, sizeof(buf), "%.10g", v);
    if (n < 0 || (size_t)n >= sizeof(buf) - 3) {
        b->oom = 1;
        return;
    }
    if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL)
        strcat(buf, ".0");
    e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start)
            memmove(start, end, strlen(end) + 1);
    }
    jb_put(b, buf, strlen(buf));
}

/* Decimal digits of v at the end of buf[24]; returns the first. */
static char *u64_digits(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static void jb_u64_string(struct jbuf *b, uint64_t v)
{
    char buf[24], *end = buf + sizeof(buf) - 1, *p;
    *end = '"';
    p = u64_digits(v, end);
    *--p = '"';
    jb_put(b, p, (size_t)(end + 1 - p));
}

static void jb_int(struct jbuf *b, long long v)
{
    char buf[24], *end = buf + sizeof(buf), *p;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    p = u64_digits(u, end);
    if (v < 0)
        *--p = '-';
    jb_put(b, p, (size_t)(end - p));
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* mw_time_format_rfc3339 without gmtime_r and snprintf for years 1..9999
 * (days to civil date: the inverse of mw_days_from_civil, by eras of
 * 146097 days); other times go to mw_time_format_rfc3339. */
static void jb_time(struct jbuf *b, int64_t ns)
{
    char buf[48];
    int64_t secs = ns / 1000000000LL, rem = ns % 1000000000LL;
    if (rem < 0) {
        rem += 1000000000LL;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2)
        y++;
    if (y < 1 || y > 9999) {
        mw_time_format_rfc3339(ns, buf, sizeof(buf));
        jb_string(b, buf, strlen(buf));
        return;
    }
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    unsigned ms = (unsigned)(rem / 1000000);
    buf[0] = '"';
    put2(buf + 1, (unsigned)(y / 100));
    put2(buf + 3, (unsigned)(y % 100));
    buf[5] = '-';
    put2(buf + 6, m);
    buf[8] = '-';
    put2(buf + 9, d);
    buf[11] = 'T';
    put2(buf + 12, (unsigned)(sod / 3600));
    buf[14] = ':';
    put2(buf + 15, (unsigned)(sod / 60 % 60));
    buf[17] = ':';
    put2(buf + 18, (unsigned)(sod % 60));
    buf[20] = '.';
    buf[21] = (char)('0' + ms / 100);
    put2(buf + 22, ms % 100);
    buf[24] = 'Z';
    buf[25] = '"';
    jb_put(b, buf, 26);
}

static void jb_threat(struct jbuf *b, const mw_threat_t *t)
{
    const char *sev = mw_severity_name(t->severity);
    const char *st =
        (t->status >= 0 && t->status < MW_THREAT__COUNT) ? mw_threat_status_name(t->status) : NULL;
    size_t tn = strnlen(t->tags, sizeof(t->tags)), i = 0, first = 1;

    PUTS(b, "{\"id\":");
    jb_u64_string(b, t->id);
    PUTS(b, ",\"rule_id\":");
    jb_fixed(b, t->rule_id, sizeof(t->rule_id));
    PUTS(b, ",\"detector\":");
    jb_fixed(b, t->detector, sizeof(t->detector));
    PUTS(b, ",\"title\":");
    jb_fixed(b, t->title, sizeof(t->title));
    PUTS(b, ",\"type\":");
    jb_fixed(b, t->type, sizeof(t->type));
    PUTS(b, ",\"class\":");
    jb_fixed(b, t->threat_class, sizeof(t->threat_class));
    PUTS(b, ",\"tags\":[");
    while (i < tn) {
        size_t j = i;
        while (j < tn && t->tags[j] != ',')
            j++;
        if (j > i) {
            if (!first)
                PUTS(b, ",");
            jb_string(b, t->tags + i, j - i);
            first = 0;
        }
        i = j + 1;
    }
    PUTS(b, "],\"host\":");
    jb_fixed(b, t->host, sizeof(t->host));
    PUTS(b, ",\"severity\":");
    jb_int(b, t->severity);
    PUTS(b, ",\"severity_name\":");
    jb_string(b, sev ? sev : "unknown", strlen(sev ? sev : "unknown"));
    PUTS(b, ",\"confidence\":");
    jb_real(b, t->confidence);
    PUTS(b, ",\"first_seen\":");
    jb_time(b, t->first_seen_ns);
    PUTS(b, ",\"last_seen\":");
    jb_time(b, t->last_seen_ns);
    PUTS(b, ",\"count\":");
    jb_int(b, (long long)t->count);
    PUTS(b, ",\"status\":");
    jb_string(b, st ? st : "unknown", strlen(st ? st : "unknown"));
    PUTS(b, "}");
}

char *mw_api_threat_list_text(const mw_threat_t *list, size_t n, uint64_t next_cursor, size_t *len)
{
    struct jbuf b = {NULL, 0, 0, 0};

    PUTS(&b, "{\"threats\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUTS(&b, ",");
        jb_threat(&b, &list[i]);
    }
    PUTS(&b, "],\"next_cursor\":");
    if (next_cursor)
        jb_u64_string(&b, next_cursor);
    else
        PUTS(&b, "null");
    PUTS(&b, "}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
