/* libFuzzer harness for the Zeek ssl.log / ssh.log reader
 * (src/detect/exposure_zeek.c): the input is a whole file body for
 * mw_zeek_read_buffer. Checks, besides "no crash, no leak, no UB": every
 * record has a log name, a basis, a reason and a physical line within the
 * input, data-record indexes increase, and bad lines never fail the call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct st {
    size_t lines;
    long last;
} st_t;

static int cb(void *ctx, const mw_zeek_record_t *r)
{
    st_t *st = ctx;
    if (strcmp(r->log, "ssl") != 0 && strcmp(r->log, "ssh") != 0)
        abort();
    if (!memchr(r->basis, '\0', sizeof r->basis) || r->basis[0] == '\0')
        abort();
    if (!memchr(r->s.reason, '\0', sizeof r->s.reason) || r->s.reason[0] == '\0')
        abort();
    if (r->phys == 0 || r->phys > st->lines || (long)r->line <= st->last)
        abort();
    st->last = (long)r->line;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_t st = {1, -1};
    for (size_t i = 0; i < size; i++)
        st.lines += data[i] == '\n';
    unsigned long bad = 0;
    int rc = mw_zeek_read_buffer("fuzz", (const char *)data, size, cb, &st, &bad, NULL);
    if (rc != 0 && rc != MW_ENOMEM)
        abort();
    return 0;
}
