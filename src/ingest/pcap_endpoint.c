/* mw_endpoint_format (include/mwrasp/exposure.h, "Common types"). */
#include <arpa/inet.h>
#include <string.h>

#include "mwrasp/exposure.h"

/* Decimal digits of v at the end of out[0..]; returns the first digit. */
static char *utoa_end(char *end, unsigned v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Formatted by hand (this is on the scanner's per-session path; snprintf
 * and inet_ntop's sprintf per octet were a few per cent of `mwrasp exposure
 * scan`): IPv4 "a.b.c.d:port" (RFC 791 dotted decimal); IPv6 through
 * inet_ntop, "[addr]:port". Truncated to cap - 1 bytes like snprintf. */
char *mw_endpoint_format(const mw_endpoint_t *ep, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return buf;
    char t[INET6_ADDRSTRLEN + 16];
    size_t n = 0;
    char num[12], *e = num + sizeof num, *d;
    if (!ep) {
        t[n++] = '?';
    } else if (ep->family == 4) {
        for (int i = 0; i < 4; i++) {
            d = utoa_end(e, ep->addr[i]);
            memcpy(t + n, d, (size_t)(e - d));
            n += (size_t)(e - d);
            t[n++] = i < 3 ? '.' : ':';
        }
    } else if (ep->family == 6 && inet_ntop(AF_INET6, ep->addr, t + 1, INET6_ADDRSTRLEN)) {
        /* glibc writes RFC 5952 text: lower case, the longest run of two or
         * more zero fields (the first on a tie) as "::" (section 4.2). */
        t[0] = '[';
        n = 1 + strlen(t + 1);
        t[n++] = ']';
        t[n++] = ':';
    } else {
        t[n++] = '?';
        t[n++] = ':';
    }
    if (ep) {
        d = utoa_end(e, ep->port);
        memcpy(t + n, d, (size_t)(e - d));
        n += (size_t)(e - d);
    }
    if (n > cap - 1)
        n = cap - 1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return buf;
}
