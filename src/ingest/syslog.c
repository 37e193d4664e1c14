/* Syslog message parser: RFC 5424 (The Syslog Protocol) and RFC 3164 (BSD
 * syslog), one message per call, no framing (see listen.c for RFC 6587).
 *
 * RFC 5424 messages ("<PRI>1 ...") are parsed strictly by the ABNF of RFC 5424
 * section 6; any deviation is refused with the byte offset where it was
 * found. RFC 3164 messages are parsed as RFC 3164 section 4.3 asks of a
 * relay: leniently, whatever follows a valid PRI is accepted, and parts that
 * are not recognised (timestamp, hostname, tag) simply stay in the message.
 *
 * Field values are copied into the event arena; the only heap allocation
 * besides the event is one scratch buffer, and only for messages that carry
 * structured-data escapes or invalid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"

#define SD_PREFIX "log.syslog.structured_data."
#define RFC5424_APPNAME_MAX 48
#define RFC5424_PROCID_MAX 128
#define RFC5424_MSGID_MAX 32
#define RFC5424_SDNAME_MAX 32
#define BSD_TAG_MAX 48
#define BSD_PID_MAX 128

struct sp {
    const char *s;
    size_t len;
    mw_event_t *ev;
    enum mw_source src;
    char *err;
    size_t errlen;
    enum mw_reject *why;
    int utf8_ok; /* the whole line is valid UTF-8: values need no repair */
    int repaired; /* some value had invalid UTF-8 replaced */
    char *scratch; /* lazily allocated: 4 * len + 16 bytes */
    size_t scratch_cap;
    const char *host; /* hostname from the message, or NULL */
    size_t host_len;
};

#define FAIL(p, w, code, ...) ingest_fail((p)->err, (p)->errlen, (p)->why, (w), (code), __VA_ARGS__)

static int is_print_ascii(unsigned char c)
{
    return c >= 33 && c <= 126;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static char *scratch(struct sp *p)
{
    if (!p->scratch) {
        p->scratch_cap = p->len * 4 + 16;
        p->scratch = malloc(p->scratch_cap);
    }
    return p->scratch;
}

/* Copies s[0..len) to dst replacing every maximal ill-formed subsequence
 * (Unicode 15, section 3.9, "U+FFFD substitution of maximal subparts") by
 * U+FFFD. dst must hold 3 * len bytes. Returns bytes written; *changed is
 * set when something was replaced. */
static size_t utf8_repair(const char *src, size_t len, char *dst, int *changed)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            dst[o++] = (char)c;
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            need = 0; /* C0, C1, F5..FF, stray continuation: never valid */
        }
        size_t k = 1;
        if (need) {
            while (k <= need && i + k < len) {
                unsigned char b = s[i + k];
                unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
                if (b < l || b > h)
                    break;
                k++;
            }
        }
        if (need && k == need + 1) {
            memcpy(dst + o, s + i, k);
            o += k;
        } else {
            dst[o++] = (char)0xEF;
            dst[o++] = (char)0xBF;
            dst[o++] = (char)0xBD;
            *changed = 1;
        }
        i += k;
    }
    return o;
}

/* Adds a field whose value may need UTF-8 repair. The value may already be
 * in the scratch buffer's first part (unescaped SD values); repairs go to
 * the part after len. */
static int add_field(struct sp *p, const char *key, size_t klen, const char *val, size_t vlen)
{
    if (!p->utf8_ok && !mw_utf8_valid(val, vlen)) {
        char *sc = scratch(p);
        if (!sc)
            return FAIL(p, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
        char *dst = sc + p->len + 1; /* 3 * len + 15 bytes left: enough */
        int changed = 0;
        vlen = utf8_repair(val, vlen, dst, &changed);
        val = dst;
        p->repaired |= changed;
    }
    int rc = mw_event_add_field(p->ev, key, klen, val, vlen);
    if (rc == MW_ELIMIT)
        return FAIL(p, MW_REJ_LIMIT, MW_ELIMIT, "too many fields (max %d)", MW_EVENT_MAX_FIELDS);
    if (rc == MW_ETOOBIG)
        return FAIL(p, MW_REJ_LIMIT, MW_ELIMIT, "event larger than %u bytes",
                    (unsigned)MW_EVENT_MAX_BYTES);
    if (rc < 0)
        return FAIL(p, MW_REJ_LIMIT, rc, "cannot add field: %s", mw_strerror(rc));
    return MW_OK;
}

/* key is a string literal: its length is known at compile time. */
#define add_str(p, key, val, vlen) add_field((p), (key), sizeof(key) - 1, (val), (vlen))

/* v <= 999 (PRI and its parts). */
static int add_small(struct sp *p, const char *key, size_t klen, unsigned v)
{
    char buf[4];
    size_t n = 0;
    if (v >= 100)
        buf[n++] = (char)('0' + v / 100);
    if (v >= 10)
        buf[n++] = (char)('0' + v / 10 % 10);
    buf[n++] = (char)('0' + v % 10);
    return add_field(p, key, klen, buf, n);
}
#define add_uint(p, key, v) add_small((p), (key), sizeof(key) - 1, (v))

/* ---- time ---- */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_date(int y, int m, int d)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return 0;
    int md = mdays[m - 1] + (m == 2 && is_leap(y));
    return d <= md;
}

/* n digits at s[pos..]; -1 if not all digits or past end. */
static int num(const char *s, size_t len, size_t pos, size_t n)
{
    if (pos + n > len)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[pos + i]))
            return -1;
        v = v * 10 + (s[pos + i] - '0');
    }
    return v;
}

/* RFC 5424 section 6.2.3 TIMESTAMP (not NILVALUE): FULL-DATE "T" FULL-TIME,
 * TIME-SECFRAC of 1..6 digits, TIME-OFFSET "Z" or +/-hh:mm. Parses s[0..len)
 * exactly. Returns -1 on success (*ns set), else the offset of the first
 * bad byte (relative to s), and *what says what was expected. */
static long parse_ts5424(const char *s, size_t len, int64_t *ns, const char **what)
{
    int Y = num(s, len, 0, 4), M, D, h, m, sec;
    *what = "4-digit year";
    if (Y < 0)
        return 0;
    *what = "a year in 1678..2261 (representable in ns since 1970)";
    if (Y < 1678 || Y > 2261)
        return 0;
    *what = "'-' after year";
    if (len <= 4 || s[4] != '-')
        return 4;
    *what = "2-digit month 01..12";
    if ((M = num(s, len, 5, 2)) < 1 || M > 12)
        return 5;
    *what = "'-' after month";
    if (len <= 7 || s[7] != '-')
        return 7;
    *what = "2-digit day valid for the month";
    if ((D = num(s, len, 8, 2)) < 0 || !valid_date(Y, M, D))
        return 8;
    *what = "'T' between date and time";
    if (len <= 10 || s[10] != 'T')
        return 10;
    *what = "2-digit hour 00..23";
    if ((h = num(s, len, 11, 2)) < 0 || h > 23)
        return 11;
    *what = "':' after hour";
    if (len <= 13 || s[13] != ':')
        return 13;
    *what = "2-digit minute 00..59";
    if ((m = num(s, len, 14, 2)) < 0 || m > 59)
        return 14;
    *what = "':' after minute";
    if (len <= 16 || s[16] != ':')
        return 16;
    *what = "2-digit second 00..59";
    if ((sec = num(s, len, 17, 2)) < 0 || sec > 59)
        return 17;
    size_t p = 19;
    int64_t frac = 0;
    if (p < len && s[p] == '.') {
        p++;
        size_t nd = 0;
        while (p < len && is_digit((unsigned char)s[p])) {
            if (nd == 6) {
                *what = "at most 6 digits of TIME-SECFRAC";
                return (long)p;
            }
            frac = frac * 10 + (s[p] - '0');
            nd++;
            p++;
        }
        if (nd == 0) {
            *what = "a digit after '.'";
            return (long)p;
        }
        for (; nd < 9; nd++)
            frac *= 10;
    }
    int64_t off = 0;
    if (p < len && s[p] == 'Z') {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int oh = num(s, len, p + 1, 2), om;
        *what = "TIME-OFFSET hour 00..23";
        if (oh < 0 || oh > 23)
            return (long)p + 1;
        *what = "':' in TIME-OFFSET";
        if (p + 3 >= len || s[p + 3] != ':')
            return (long)p + 3;
        om = num(s, len, p + 4, 2);
        *what = "TIME-OFFSET minute 00..59";
        if (om < 0 || om > 59)
            return (long)p + 4;
        off = (int64_t)(oh * 60 + om) * 60;
        if (s[p] == '-')
            off = -off;
        p += 6;
    } else {
        *what = "TIME-OFFSET ('Z', '+hh:mm' or '-hh:mm')";
        return (long)p;
    }
    if (p != len) {
        *what = "SP after TIMESTAMP";
        return (long)p;
    }
    int64_t secs =
        mw_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - off;
    *ns = secs * 1000000000LL + frac;
    return -1;
}

/* RFC 3164 "Mmm dd hh:mm:ss" (dd space- or zero-padded) at s[0..15). The
 * year is not sent: the current UTC year, or the previous one if that puts
 * the date more than a day in the future. The zone is not sent either: the
 * time is read as UTC. Returns 1 and *ns on success. */
static int parse_ts3164(const char *s, size_t len, int64_t now_ns, int64_t *ns)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (len < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':')
        return 0;
    int M = 0;
    for (int i = 0; i < 12; i++) {
        if (memcmp(s, months + 3 * i, 3) == 0) {
            M = i + 1;
            break;
        }
    }
    if (!M)
        return 0;
    int D;
    if (s[4] == ' ')
        D = num(s, len, 5, 1);
    else
        D = num(s, len, 4, 2);
    int h = num(s, len, 7, 2), m = num(s, len, 10, 2), sec = num(s, len, 13, 2);
    if (D < 1 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
        return 0;
    if (sec == 60)
        sec = 59;
    int64_t now_s = now_ns / 1000000000LL;
    /* Current UTC year from days since the epoch (civil_from_days). */
    int64_t z = now_s / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned cm = mp < 10 ? mp + 3 : mp - 9;
    int year = (int)(yoe + era * 400) + (cm <= 2);
    for (int attempt = 0; attempt < 2; attempt++, year--) {
        if (!valid_date(year, M, D))
            continue; /* Feb 29 outside a leap year */
        int64_t t =
            mw_days_from_civil(year, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
        if (t > now_s + 86400 && attempt == 0)
            continue;
        *ns = t * 1000000000LL;
        return 1;
    }
    return 0;
}

/* ---- RFC 5424 ---- */

/* Reads a HEADER token of 1..max PRINTUSASCII at *pos, requires SP after it
 * and moves *pos past the SP. nil=1 when the token is "-". */
static int header_token(struct sp *p, size_t *pos, const char *name, size_t max, size_t *start,
                        size_t *tlen, int *nil)
{
    size_t i = *pos;
    *start = i;
    while (i < p->len && p->s[i] != ' ') {
        unsigned char c = (unsigned char)p->s[i];
        if (!is_print_ascii(c))
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                        "RFC 5424: invalid byte 0x%02x in %s at byte %zu", c, name, i);
        i++;
    }
    if (i == *start) {
        if (i >= p->len)
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE, "RFC 5424: message ends before %s at byte %zu",
                        name, i);
        return FAIL(p, MW_REJ_PARSE, MW_EPARSE, "RFC 5424: empty %s at byte %zu", name, i);
    }
    if (i - *start > max) {
        enum mw_reject w = max == MW_EVENT_HOST_MAX ? MW_REJ_LIMIT : MW_REJ_PARSE;
        return FAIL(p, w, w == MW_REJ_LIMIT ? MW_ELIMIT : MW_EPARSE,
                    "RFC 5424: %s longer than %zu bytes at byte %zu", name, max, *start);
    }
    if (i >= p->len)
        return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                    "RFC 5424: message ends after %s at byte %zu (expected SP)", name, i);
    *tlen = i - *start;
    *nil = *tlen == 1 && p->s[*start] == '-';
    *pos = i + 1;
    return MW_OK;
}

/* SD-NAME: 1..32 PRINTUSASCII except '=', SP, ']', '"' (RFC 5424 6.3). */
static size_t sd_name(struct sp *p, size_t i)
{
    size_t start = i;
    while (i < p->len) {
        unsigned char c = (unsigned char)p->s[i];
        if (!is_print_ascii(c) || c == '=' || c == ']' || c == '"')
            break;
        i++;
    }
    return i - start;
}

/* STRUCTURED-DATA at *pos (not NILVALUE): 1*SD-ELEMENT. */
static int parse_sd(struct sp *p, size_t *pos)
{
    size_t i = *pos;
    char key[sizeof SD_PREFIX + 2 * RFC5424_SDNAME_MAX + 2];
    const size_t plen = sizeof SD_PREFIX - 1;
    memcpy(key, SD_PREFIX, plen);
    while (i < p->len && p->s[i] == '[') {
        i++;
        size_t idlen = sd_name(p, i);
        if (idlen == 0)
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE, "RFC 5424: missing SD-ID at byte %zu", i);
        if (idlen > RFC5424_SDNAME_MAX)
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                        "RFC 5424: SD-ID longer than %d bytes at byte %zu", RFC5424_SDNAME_MAX, i);
        memcpy(key + plen, p->s + i, idlen);
        key[plen + idlen] = '.';
        i += idlen;
        for (;;) {
            if (i >= p->len)
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: message ends inside SD-ELEMENT at byte %zu", i);
            if (p->s[i] == ']') {
                i++;
                break;
            }
            if (p->s[i] != ' ')
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: expected SP or ']' in SD-ELEMENT at byte %zu", i);
            i++;
            size_t nlen = sd_name(p, i);
            if (nlen == 0)
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE, "RFC 5424: missing PARAM-NAME at byte %zu",
                            i);
            if (nlen > RFC5424_SDNAME_MAX)
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: PARAM-NAME longer than %d bytes at byte %zu",
                            RFC5424_SDNAME_MAX, i);
            size_t klen = plen + idlen + 1 + nlen;
            memcpy(key + plen + idlen + 1, p->s + i, nlen);
            i += nlen;
            if (i >= p->len || p->s[i] != '=')
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: expected '=' after PARAM-NAME at byte %zu", i);
            i++;
            if (i >= p->len || p->s[i] != '"')
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: expected '\"' before PARAM-VALUE at byte %zu", i);
            i++;
            /* PARAM-VALUE: up to an unescaped '"'; \" \\ \] lose their
             * backslash, any other backslash is kept (RFC 5424 6.3.3). */
            size_t vstart = i;
            int escaped = 0;
            while (i < p->len && p->s[i] != '"') {
                if (p->s[i] == '\\' && i + 1 < p->len &&
                    (p->s[i + 1] == '"' || p->s[i + 1] == '\\' || p->s[i + 1] == ']')) {
                    escaped = 1;
                    i += 2;
                } else {
                    i++;
                }
            }
            if (i >= p->len)
                return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                            "RFC 5424: unterminated PARAM-VALUE starting at byte %zu", vstart);
            const char *val = p->s + vstart;
            size_t vlen = i - vstart;
            if (escaped) {
                char *sc = scratch(p);
                if (!sc)
                    return FAIL(p, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
                size_t o = 0;
                for (size_t k = vstart; k < i; k++) {
                    if (p->s[k] == '\\' && k + 1 < i &&
                        (p->s[k + 1] == '"' || p->s[k + 1] == '\\' || p->s[k + 1] == ']'))
                        k++;
                    sc[o++] = p->s[k];
                }
                val = sc;
                vlen = o;
            }
            i++; /* closing quote */
            int rc = add_field(p, key, klen, val, vlen);
            if (rc < 0)
                return rc;
        }
    }
    if (i == *pos)
        return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                    "RFC 5424: expected '[' or '-' for STRUCTURED-DATA at byte %zu", i);
    *pos = i;
    return MW_OK;
}

static int parse_5424(struct sp *p, size_t pos, int64_t *ts)
{
    int rc, nil;
    size_t st, tl;
    /* VERSION "1" and its SP were checked by the caller. */
    if ((rc = add_str(p, "log.syslog.version", "1", 1)) < 0)
        return rc;
    /* TIMESTAMP */
    if ((rc = header_token(p, &pos, "TIMESTAMP", 64, &st, &tl, &nil)) < 0)
        return rc;
    if (!nil) {
        const char *what;
        long bad = parse_ts5424(p->s + st, tl, ts, &what);
        if (bad >= 0)
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                        "RFC 5424: bad TIMESTAMP at byte %zu: expected %s", st + (size_t)bad, what);
    }
    /* HOSTNAME */
    if ((rc = header_token(p, &pos, "HOSTNAME", MW_EVENT_HOST_MAX, &st, &tl, &nil)) < 0)
        return rc;
    if (!nil) {
        p->host = p->s + st;
        p->host_len = tl;
        if ((rc = add_str(p, "log.syslog.hostname", p->s + st, tl)) < 0)
            return rc;
    }
    /* APP-NAME */
    if ((rc = header_token(p, &pos, "APP-NAME", RFC5424_APPNAME_MAX, &st, &tl, &nil)) < 0)
        return rc;
    if (!nil) {
        if ((rc = add_str(p, "log.syslog.appname", p->s + st, tl)) < 0 ||
            (rc = add_str(p, "process.name", p->s + st, tl)) < 0)
            return rc;
    }
    /* PROCID */
    if ((rc = header_token(p, &pos, "PROCID", RFC5424_PROCID_MAX, &st, &tl, &nil)) < 0)
        return rc;
    if (!nil) {
        if ((rc = add_str(p, "log.syslog.procid", p->s + st, tl)) < 0)
            return rc;
        size_t k = 0;
        while (k < tl && is_digit((unsigned char)p->s[st + k]))
            k++;
        if (k == tl && tl <= 10 && (rc = add_str(p, "process.pid", p->s + st, tl)) < 0)
            return rc;
    }
    /* MSGID: followed by SP then STRUCTURED-DATA. */
    if ((rc = header_token(p, &pos, "MSGID", RFC5424_MSGID_MAX, &st, &tl, &nil)) < 0)
        return rc;
    if (!nil && (rc = add_str(p, "log.syslog.msgid", p->s + st, tl)) < 0)
        return rc;
    /* STRUCTURED-DATA */
    if (pos >= p->len)
        return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                    "RFC 5424: message ends before STRUCTURED-DATA at byte %zu", pos);
    if (p->s[pos] == '-') {
        pos++;
    } else if ((rc = parse_sd(p, &pos)) < 0) {
        return rc;
    }
    /* [SP MSG] */
    if (pos < p->len) {
        if (p->s[pos] != ' ')
            return FAIL(p, MW_REJ_PARSE, MW_EPARSE,
                        "RFC 5424: expected SP after STRUCTURED-DATA at byte %zu", pos);
        pos++;
        if (p->len - pos >= 3 && memcmp(p->s + pos, "\xEF\xBB\xBF", 3) == 0)
            pos += 3; /* BOM: MSG-UTF8 */
        if ((rc = add_str(p, "message", p->s + pos, p->len - pos)) < 0)
            return rc;
    }
    return MW_OK;
}

/* ---- RFC 3164 ---- */

/* Is s[0..n) a tag: "name:", "name[pid]:" or "name[pid]"? Sets name/pid. */
static int bsd_tag(const char *s, size_t n, size_t *name_len, size_t *pid_off, size_t *pid_len)
{
    if (n == 0)
        return 0;
    size_t end = n;
    int colon = s[n - 1] == ':';
    if (colon)
        end--;
    *pid_len = 0;
    *pid_off = 0;
    size_t nl = end;
    if (end >= 3 && s[end - 1] == ']') {
        const char *lb = memchr(s, '[', end - 1);
        if (lb && lb != s) {
            nl = (size_t)(lb - s);
            *pid_off = nl + 1;
            *pid_len = end - 1 - *pid_off;
            if (*pid_len == 0 || *pid_len > BSD_PID_MAX)
                return 0;
        }
    }
    if (!colon && *pid_len == 0)
        return 0;
    if (nl == 0 || nl > BSD_TAG_MAX)
        return 0;
    for (size_t i = 0; i < end; i++) {
        if (!is_print_ascii((unsigned char)s[i]))
            return 0;
    }
    *name_len = nl;
    return 1;
}

static size_t token_len(const struct sp *p, size_t pos)
{
    const char *sp = memchr(p->s + pos, ' ', p->len - pos);
    return sp ? (size_t)(sp - (p->s + pos)) : p->len - pos;
}

static int parse_3164(struct sp *p, size_t pos, int64_t *ts)
{
    int rc;
    int have_ts = 0;
    const size_t pos0 = pos;
    int64_t now = p->ev->ingest_ns;
    if (parse_ts3164(p->s + pos, p->len - pos, now, ts)) {
        have_ts = 1;
        pos += 15;
    } else if (pos < p->len && is_digit((unsigned char)p->s[pos])) {
        /* Many senders put an RFC 3339 stamp in a BSD header. */
        size_t tl = token_len(p, pos);
        int64_t t;
        int y = num(p->s, p->len, pos, 4);
        if (tl >= 20 && y >= 1678 && y <= 2261 &&
            mw_time_parse_rfc3339(p->s + pos, tl, &t) == MW_OK) {
            *ts = t;
            have_ts = 1;
            pos += tl;
        }
    }
    if (have_ts) {
        if (pos < p->len && p->s[pos] == ' ')
            pos++;
        else if (pos < p->len) {
            /* e.g. "Oct 11 22:14:15x": not a timestamp; all of it is MSG. */
            have_ts = 0;
            pos = pos0;
            *ts = now;
        }
    }
    if (have_ts && pos < p->len) {
        /* HOSTNAME, unless the first word is already the TAG. */
        size_t tl = token_len(p, pos), nl, po, pl;
        if (!bsd_tag(p->s + pos, tl, &nl, &po, &pl) && tl <= MW_EVENT_HOST_MAX) {
            int ok = 1;
            for (size_t k = 0; k < tl && ok; k++)
                ok = is_print_ascii((unsigned char)p->s[pos + k]);
            if (ok && tl > 0) {
                p->host = p->s + pos;
                p->host_len = tl;
                if ((rc = add_str(p, "log.syslog.hostname", p->s + pos, tl)) < 0)
                    return rc;
                pos += tl;
                if (pos < p->len)
                    pos++; /* the SP */
            }
        }
        /* TAG */
        if (pos < p->len) {
            tl = token_len(p, pos);
            if (bsd_tag(p->s + pos, tl, &nl, &po, &pl)) {
                if ((rc = add_str(p, "log.syslog.appname", p->s + pos, nl)) < 0 ||
                    (rc = add_str(p, "process.name", p->s + pos, nl)) < 0)
                    return rc;
                if (pl) {
                    if ((rc = add_str(p, "log.syslog.procid", p->s + pos + po, pl)) < 0)
                        return rc;
                    size_t k = 0;
                    while (k < pl && is_digit((unsigned char)p->s[pos + po + k]))
                        k++;
                    if (k == pl && pl <= 10 &&
                        (rc = add_str(p, "process.pid", p->s + pos + po, pl)) < 0)
                        return rc;
                }
                pos += tl;
                if (pos < p->len)
                    pos++;
            }
        }
    }
    return add_str(p, "message", p->s + pos, p->len - pos);
}

/* ---- entry point ---- */

int mw_syslog_parse(const char *line, size_t len, enum mw_source src, const char *peer,
                    mw_event_t **out, enum mw_reject *why, char *err, size_t errlen)
{
    struct sp p = {.s = line, .len = len, .src = src, .err = err, .errlen = errlen, .why = why};
    int rc;
    if (err && errlen)
        err[0] = '\0';
    if (!line || len == 0)
        return FAIL(&p, MW_REJ_PARSE, MW_EPARSE, "empty syslog message");
    if (len >= MW_EVENT_MAX_BYTES)
        return FAIL(&p, MW_REJ_TOO_LARGE, MW_ETOOBIG, "syslog message of %zu bytes exceeds %u", len,
                    (unsigned)MW_EVENT_MAX_BYTES - 1);

    /* PRI = "<" PRIVAL ">", PRIVAL 1..3 digits in 0..191 (RFC 5424 6.2.1). */
    size_t pos = 0;
    int pri = -1;
    if (line[0] == '<') {
        size_t i = 1;
        unsigned v = 0;
        while (i < len && is_digit((unsigned char)line[i]) && i <= 3) {
            v = v * 10 + (unsigned)(line[i] - '0');
            i++;
        }
        if (i == 1)
            return FAIL(&p, MW_REJ_PARSE, MW_EPARSE, "PRI: expected a digit at byte 1");
        if (i >= len)
            return FAIL(&p, MW_REJ_PARSE, MW_EPARSE, "PRI: message ends at byte %zu (expected '>')",
                        i);
        if (line[i] != '>')
            return FAIL(&p, MW_REJ_PARSE, MW_EPARSE,
                        is_digit((unsigned char)line[i]) ? "PRI: more than 3 digits at byte %zu"
                                                         : "PRI: expected '>' at byte %zu",
                        i);
        if (v > 191)
            return FAIL(&p, MW_REJ_PARSE, MW_EPARSE, "PRI %u out of range 0..191 at byte 1", v);
        pri = (int)v;
        pos = i + 1;
    }

    mw_event_t *ev = mw_event_new(src, line, len);
    if (!ev)
        return FAIL(&p, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
    p.ev = ev;
    p.utf8_ok = mw_utf8_valid(line, len);
    int64_t ts = ev->ts_ns;

    if (pri >= 0) {
        if ((rc = add_uint(&p, "log.syslog.priority", (unsigned)pri)) < 0 ||
            (rc = add_uint(&p, "log.syslog.facility.code", (unsigned)pri / 8)) < 0 ||
            (rc = add_uint(&p, "log.syslog.severity.code", (unsigned)pri % 8)) < 0)
            goto out;
    }
    if (pri >= 0 && len - pos >= 2 && line[pos] == '1' && line[pos + 1] == ' ')
        rc = parse_5424(&p, pos + 2, &ts);
    else
        rc = parse_3164(&p, pos, &ts);
    if (rc < 0)
        goto out;

    if (p.host) {
        rc = mw_event_set_host(ev, p.host, p.host_len);
    } else if (peer) {
        size_t pl = strlen(peer);
        rc = mw_event_set_host(ev, peer, pl > MW_EVENT_HOST_MAX ? MW_EVENT_HOST_MAX : pl);
    }
    if (rc < 0) {
        rc = FAIL(&p, MW_REJ_LIMIT, rc, "cannot set host: %s", mw_strerror(rc));
        goto out;
    }
    if ((rc = mw_event_set_category(ev, "syslog", 6)) < 0) {
        rc = FAIL(&p, MW_REJ_LIMIT, rc, "cannot set category: %s", mw_strerror(rc));
        goto out;
    }
    ev->ts_ns = ts;
    if (p.repaired)
        MW_INC(mw_metrics.utf8_repaired[(unsigned)src < MW_SRC__COUNT ? src : 0]);
    *out = ev;
    ev = NULL;
    rc = MW_OK;
out:
    free(p.scratch);
    mw_event_free(ev);
    return rc;
}
