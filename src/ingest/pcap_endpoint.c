/* mw_endpoint_format (include/mwrasp/exposure.h, "Common types"). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mwrasp/exposure.h"

char *mw_endpoint_format(const mw_endpoint_t *ep, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return buf;
    char a[INET6_ADDRSTRLEN];
    if (!ep) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (ep->family == 4 && inet_ntop(AF_INET, ep->addr, a, sizeof a)) {
        snprintf(buf, cap, "%s:%u", a, (unsigned)ep->port);
    } else if (ep->family == 6 && inet_ntop(AF_INET6, ep->addr, a, sizeof a)) {
        /* glibc writes RFC 5952 text: lower case, the longest run of two or
         * more zero fields (the first on a tie) as "::" (section 4.2). */
        snprintf(buf, cap, "[%s]:%u", a, (unsigned)ep->port);
    } else {
        snprintf(buf, cap, "?:%u", (unsigned)ep->port);
    }
    return buf;
}
