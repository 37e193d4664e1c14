/* libFuzzer harness for the ACVP reader (src/crypto/acvp.c): arbitrary bytes
 * as a vector set. A NUL byte splits the input into a prompt and its
 * expectedResults (the join on tgId, tcId); without one the input is a
 * whole internalProjection. Promises checked: no crash or sanitizer report,
 * a status among the documented ones, and no error counted when the status
 * says the set was well formed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/pqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    struct mw_acvp_counts c;
    const char *p = (const char *)data, *e = NULL;
    size_t plen = size, elen = 0;
    const uint8_t *nul = memchr(data, '\0', size);

    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    if (nul != NULL) {
        plen = (size_t)(nul - data);
        e = (const char *)nul + 1;
        elen = size - plen - 1;
    }
    memset(&c, 0, sizeof c);
    int rc = mw_acvp_run_buffer("fuzz", p, plen, e, elen, devnull, &c);
    if (rc != 0 && rc != MW_EPARSE && rc != MW_ENOMEM && rc != MW_ETOOBIG)
        abort();
    if (rc == 0 && c.errors != 0)
        abort();
    if (rc == MW_EPARSE && c.errors == 0)
        abort();
    return 0;
}
