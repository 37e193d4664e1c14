/* Bad input at the door (issue 6, "Bad input"): checks every request makes
 * before any route or static file sees it, and the JSON answers to errors
 * civetweb finds itself (malformed request line, header timeout, headers
 * too large). Each refusal is counted (mwrasp_api_bad_input_total{reason}).
 *
 *   path   a "." or ".." segment, an encoded '/' or '\' (%2f, %5c), a
 *          backslash, a NUL (%00) or a control byte: 400 bad_path. civetweb
 *          also cleans local_uri, so a file outside the web root is never
 *          served; refusing outright keeps the answer the same for files and
 *          routes and makes the attempt visible.
 *   utf-8  the decoded path and the decoded query string must be UTF-8
 *          (RFC 3629): 400 invalid_utf8.
 *   headers a client that has not sent its whole request head within
 *          api.header_timeout (civetweb request_timeout_ms) is answered 408
 *          and the connection closed (slowloris). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static _Atomic uint64_t bad_input[MW_BAD__COUNT];

static const char *const bad_names[MW_BAD__COUNT] = {
    "path", "invalid_utf8", "body_too_large", "header_timeout", "malformed_request",
};

void mw_api_bad_input_count(enum mw_bad_input why)
{
    if ((unsigned)why < MW_BAD__COUNT)
        atomic_fetch_add_explicit(&bad_input[why], 1, memory_order_relaxed);
}

uint64_t mw_api_bad_input_get(enum mw_bad_input why)
{
    return (unsigned)why < MW_BAD__COUNT
               ? atomic_load_explicit(&bad_input[why], memory_order_relaxed)
               : 0;
}

int mw_api_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        unsigned cp = c & (0x3f >> need);
        for (size_t k = 1; k <= need; k++) {
            unsigned cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (cc & 0x3f);
        }
        /* overlong, surrogates (U+D800..DFFF), above U+10FFFF */
        if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += need + 1;
    }
    return 1;
}

enum mw_bad_input mw_api_check_target(const char *uri, const char *query, char *msg, size_t msglen)
{
    unsigned char dec[MW_API_QUERY_MAX + 1];
    size_t n = 0;

    if (uri == NULL)
        uri = "";
    /* The raw path: percent escapes decoded here, once, by us. */
    for (const char *p = uri; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = mw_api_hexval((unsigned char)p[1]),
                lo = hi >= 0 ? mw_api_hexval((unsigned char)p[2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(msg, msglen, "bad percent escape in the path");
                return MW_BAD_PATH;
            }
            c = hi * 16 + lo;
            p += 2;
            if (c == '/' || c == '\\') {
                snprintf(msg, msglen, "encoded '/' or '\\' in the path");
                return MW_BAD_PATH;
            }
        }
        if (c == 0 || c < 0x20 || c == 0x7f || c == '\\') {
            snprintf(msg, msglen, "NUL, control byte or backslash in the path");
            return MW_BAD_PATH;
        }
        if (n == MW_API_QUERY_MAX) {
            snprintf(msg, msglen, "path longer than %d bytes", MW_API_QUERY_MAX);
            return MW_BAD_PATH;
        }
        dec[n++] = (unsigned char)c;
    }
    dec[n] = '\0';
    /* dot segments, after decoding (%2e%2e is ..) */
    for (size_t i = 0; i < n; i++) {
        if (dec[i] != '/')
            continue;
        size_t j = i + 1, k = j;
        while (k < n && dec[k] != '/')
            k++;
        size_t seg = k - j;
        if ((seg == 1 && dec[j] == '.') || (seg == 2 && dec[j] == '.' && dec[j + 1] == '.')) {
            snprintf(msg, msglen, "'.' or '..' segment in the path");
            return MW_BAD_PATH;
        }
    }
    if (!mw_api_utf8_valid(dec, n)) {
        snprintf(msg, msglen, "the path is not valid UTF-8");
        return MW_BAD_UTF8;
    }
    /* The query string: decoded as a whole ('+' is a byte like any other
     * for this check); bad escapes are left to the routes' parsers. */
    if (query && *query) {
        size_t qn = 0;
        for (const char *p = query; *p && qn < MW_API_QUERY_MAX; p++) {
            int c = (unsigned char)*p;
            if (c == '%' && mw_api_hexval((unsigned char)p[1]) >= 0 &&
                mw_api_hexval((unsigned char)p[2]) >= 0) {
                c = mw_api_hexval((unsigned char)p[1]) * 16 + mw_api_hexval((unsigned char)p[2]);
                p += 2;
            }
            dec[qn++] = (unsigned char)c;
        }
        if (!mw_api_utf8_valid(dec, qn)) {
            snprintf(msg, msglen, "the query string is not valid UTF-8");
            return MW_BAD_UTF8;
        }
    }
    return MW_BAD__COUNT;
}

char *mw_api_guard_metrics(void)
{
    char *buf = malloc(1024);
    size_t off = 0;
    if (buf == NULL)
        return NULL;
    off += (size_t)snprintf(buf + off, 1024 - off,
                            "# HELP mwrasp_api_bad_input_total Requests refused at the door, "
                            "by reason.\n# TYPE mwrasp_api_bad_input_total counter\n");
    for (int i = 0; i < MW_BAD__COUNT; i++)
        off += (size_t)snprintf(buf + off, 1024 - off,
                                "mwrasp_api_bad_input_total{reason=\"%s\"} %llu\n", bad_names[i],
                                (unsigned long long)mw_api_bad_input_get((enum mw_bad_input)i));
    return buf;
}
