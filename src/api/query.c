/* Query-string parsing for GET /api/v1/threats. Strict: unknown, repeated
 * and malformed parameters are refused with a message naming the
 * parameter, so that a typo never silently widens a query. */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "mwrasp/event.h"

int mw_api_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mw_api_url_decode(const char *src, size_t len, char *dst, size_t dstlen)
{
    size_t i = 0, o = 0;

    if (dstlen == 0)
        return MW_ETOOBIG;
    while (i < len) {
        char c = src[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3)
                return MW_EINVAL;
            hi = mw_api_hexval((unsigned char)src[i + 1]);
            lo = mw_api_hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return MW_EINVAL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return MW_EINVAL;
            i += 3;
        } else {
            if (c == '+')
                c = ' ';
            i++;
        }
        if (o + 1 >= dstlen)
            return MW_ETOOBIG;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (int)o;
}

int mw_api_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return MW_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return MW_EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return MW_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

enum qparam {
    QP_SEVERITY,
    QP_MAX_SEVERITY,
    QP_STATUS,
    QP_SINCE,
    QP_HOST,
    QP_LIMIT,
    QP_CURSOR,
    QP__COUNT
};
static const char *const qp_names[QP__COUNT] = {"severity", "max_severity", "status", "since",
                                                "host",     "limit",        "cursor"};

static int parse_param(enum qparam which, const char *v, size_t vlen,
                       struct mw_api_threat_params *p, char *err, size_t errlen)
{
    uint64_t u = 0;
    const char *name = qp_names[which];

    switch (which) {
    case QP_SEVERITY:
    case QP_MAX_SEVERITY:
        if (mw_api_parse_u64(v, vlen, &u) != 0 || u < 1 || u > 5) {
            snprintf(err, errlen, "parameter '%s': must be an integer 1..5", name);
            return MW_EINVAL;
        }
        if (which == QP_SEVERITY)
            p->q.severity = (int)u;
        else
            p->q.max_severity = (int)u;
        return 0;
    case QP_STATUS: {
        enum mw_threat_status st;
        if (mw_threat_status_parse(v, &st) != 0) {
            snprintf(err, errlen,
                     "parameter 'status': must be one of new, acknowledged, responding, resolved");
            return MW_EINVAL;
        }
        p->q.status = (int)st;
        return 0;
    }
    case QP_SINCE: {
        int64_t ns = 0;
        if (vlen > 0 && v[0] >= '0' && v[0] <= '9' && mw_api_parse_u64(v, vlen, &u) == 0) {
            if (u > (uint64_t)INT64_MAX) {
                snprintf(err, errlen, "parameter 'since': out of range");
                return MW_EINVAL;
            }
            ns = (int64_t)u;
        } else if (mw_time_parse_rfc3339(v, vlen, &ns) != 0) {
            snprintf(err, errlen,
                     "parameter 'since': must be an RFC 3339 time or nanoseconds since the epoch");
            return MW_EINVAL;
        }
        p->q.since_ns = ns;
        return 0;
    }
    case QP_HOST:
        if (vlen == 0 || vlen > MW_EVENT_HOST_MAX) {
            snprintf(err, errlen, "parameter 'host': must be 1..%d bytes", MW_EVENT_HOST_MAX);
            return MW_EINVAL;
        }
        if (!mw_utf8_valid(v, vlen)) {
            snprintf(err, errlen, "parameter 'host': not valid UTF-8");
            return MW_EINVAL;
        }
        memcpy(p->host_buf, v, vlen);
        p->host_buf[vlen] = '\0';
        p->q.host = p->host_buf;
        return 0;
    case QP_LIMIT:
        if (mw_api_parse_u64(v, vlen, &u) != 0 || u < 1 || u > MW_API_LIMIT_MAX) {
            snprintf(err, errlen, "parameter 'limit': must be an integer 1..%d", MW_API_LIMIT_MAX);
            return MW_EINVAL;
        }
        p->q.limit = (uint32_t)u;
        return 0;
    case QP_CURSOR:
        if (mw_api_parse_u64(v, vlen, &u) != 0 || u == 0) {
            snprintf(err, errlen, "parameter 'cursor': not a cursor returned by this API");
            return MW_EINVAL;
        }
        p->q.cursor = u;
        return 0;
    default:
        break;
    }
    snprintf(err, errlen, "internal error");
    return MW_EINVAL;
}

int mw_api_parse_threat_query(const char *qs, struct mw_api_threat_params *out, char *err,
                              size_t errlen)
{
    struct mw_api_threat_params p;
    unsigned seen = 0;
    size_t len = qs ? strlen(qs) : 0;
    size_t i = 0;
    char key[64];
    char val[MW_API_QUERY_MAX + 1];

    memset(&p, 0, sizeof(p));
    p.q.status = -1;
    p.q.limit = MW_API_LIMIT_DEFAULT;
    if (len > MW_API_QUERY_MAX) {
        snprintf(err, errlen, "query string longer than %d bytes", MW_API_QUERY_MAX);
        return MW_EINVAL;
    }
    while (i < len) {
        const char *seg = qs + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t seglen = amp ? (size_t)(amp - seg) : len - i;
        i += seglen + (amp ? 1 : 0);
        if (seglen == 0)
            continue; /* "a=1&&b=2" or a trailing '&' */
        const char *eq = memchr(seg, '=', seglen);
        size_t klen_raw = eq ? (size_t)(eq - seg) : seglen;
        int klen = mw_api_url_decode(seg, klen_raw, key, sizeof(key));
        if (klen < 0) {
            snprintf(err, errlen, "malformed parameter name in query string");
            return MW_EINVAL;
        }
        int which = -1;
        for (int k = 0; k < QP__COUNT; k++) {
            if (strcmp(key, qp_names[k]) == 0) {
                which = k;
                break;
            }
        }
        if (which < 0) {
            /* key is decoded and NUL-free; cap what we echo */
            snprintf(err, errlen, "unknown parameter '%.40s'", key);
            return MW_EINVAL;
        }
        if (seen & (1u << which)) {
            snprintf(err, errlen, "parameter '%s' given more than once", qp_names[which]);
            return MW_EINVAL;
        }
        seen |= 1u << which;
        size_t vlen_raw = eq ? seglen - klen_raw - 1 : 0;
        int vlen = mw_api_url_decode(eq ? eq + 1 : seg + seglen, vlen_raw, val, sizeof(val));
        if (vlen < 0) {
            snprintf(err, errlen, "parameter '%s': malformed percent-encoding", qp_names[which]);
            return MW_EINVAL;
        }
        if (vlen == 0) {
            snprintf(err, errlen, "parameter '%s': empty value", qp_names[which]);
            return MW_EINVAL;
        }
        int rc = parse_param((enum qparam)which, val, (size_t)vlen, &p, err, errlen);
        if (rc != 0)
            return rc;
    }
    *out = p;
    if (out->q.host)
        out->q.host = out->host_buf;
    return 0;
}
