/* CSPRNG: getrandom(2) (include/mwrasp/pqc.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mwrasp/pqc.h"

int mw_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        if (want > 33554431) /* getrandom returns at most 32 MiB - 1 per call */
            want = 33554431;
        ssize_t n = getrandom(p + done, want, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            explicit_bzero(buf, len);
            return MW_ECRYPTO;
        }
        done += (size_t)n;
    }
    return MW_OK;
}
