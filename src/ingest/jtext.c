/* Text helpers shared by the two JSON paths (jscan.c for JSON lines,
 * jsonl.c for jansson objects), so that both give the same field text:
 * a bounded growable buffer, compact JSON string escaping, number text and
 * event time from JSON values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"

void jt_init(struct jt *b)
{
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof b->stack;
}

void jt_free(struct jt *b)
{
    if (b->p != b->stack)
        free(b->p);
    jt_init(b);
}

int jt_put(struct jt *b, const char *s, size_t n)
{
    if (n > b->cap - b->len) {
        if (b->len + n >= MW_EVENT_MAX_BYTES)
            return MW_ETOOBIG;
        size_t ncap = b->cap * 2;
        while (ncap < b->len + n)
            ncap *= 2;
        if (ncap > MW_EVENT_MAX_BYTES)
            ncap = MW_EVENT_MAX_BYTES;
        char *np = malloc(ncap);
        if (!np)
            return MW_ENOMEM;
        memcpy(np, b->p, b->len);
        if (b->p != b->stack)
            free(b->p);
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return MW_OK;
}

int jt_str(struct jt *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = jt_put(b, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < n && rc == MW_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = jt_put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        }
        if (rc == MW_OK)
            rc = jt_put(b, e, el);
    }
    if (rc == MW_OK)
        rc = jt_put(b, s + run, n - run);
    if (rc == MW_OK)
        rc = jt_put(b, "\"", 1);
    return rc;
}

size_t jt_int_text(long long v, char *buf, size_t cap)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    if (n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t jt_real_text(double d, char *buf, size_t cap)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        if (n < 0 || (size_t)n >= cap)
            return 0;
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eEn") && (size_t)n + 2 < cap) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

int jt_time_str(const char *s, size_t n, int64_t *ns)
{
    /* Years outside 1678..2261 do not fit in int64 ns. */
    int y = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        y = y * 10 + (s[i] - '0');
    }
    if (y < 1678 || y > 2261)
        return 0;
    return mw_time_parse_rfc3339(s, n, ns) == MW_OK;
}

int jt_time_int(long long i, int64_t *ns)
{
    long long mul;
    if (i <= 0)
        return 0;
    if (i < 100000000000LL) /* seconds */
        mul = 1000000000LL;
    else if (i < 100000000000000LL) /* ms */
        mul = 1000000LL;
    else if (i < 100000000000000000LL) /* us */
        mul = 1000LL;
    else
        mul = 1;
    long long v;
    if (__builtin_mul_overflow(i, mul, &v))
        return 0; /* past 2262 */
    *ns = (int64_t)v;
    return 1;
}

int jt_time_real(double d, int64_t *ns)
{
    if (!isfinite(d) || d <= 0)
        return 0;
    if (d < 1e11)
        d *= 1e9;
    else if (d < 1e14)
        d *= 1e6;
    else if (d < 1e17)
        d *= 1e3;
    if (d >= 9.2e18)
        return 0;
    *ns = (int64_t)d;
    return 1;
}
