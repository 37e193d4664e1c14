/* libFuzzer harness for the TLS parser of the exposure scanner (record
 * layer, handshake reassembly, hellos, certificates, SSL 2.0, preambles).
 * Input: chunks [ctrl][len16][bytes]; ctrl bit 0 is the direction. Besides
 * "no crash, no leak, no UB": results are 0, 1 or MW_EINVAL; a direction
 * that returned non-zero is not fed again (as the scanner does); the
 * session's strings stay NUL-terminated and its counts within caps. Inputs
 * that do not start with 0xff are fed whole to one direction, then
 * byte by byte to a second parser, and both sessions must be equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reset(mw_expo_session_t *s)
{
    memset(s, 0, sizeof *s);
    s->proto = MW_EXPO_TLS;
    s->selected_group = s->cipher_suite = s->hrr_group = -1;
}

static void check(const mw_expo_session_t *s, int rc)
{
    if (rc != 0 && rc != 1 && rc != MW_EINVAL)
        abort();
    if (!memchr(s->sni, 0, sizeof s->sni) || !memchr(s->alpn, 0, sizeof s->alpn) ||
        !memchr(s->version, 0, sizeof s->version) ||
        !memchr(s->selected_kex, 0, sizeof s->selected_kex) ||
        !memchr(s->reason, 0, sizeof s->reason) || s->n_certs > MW_EXPO_MAX_CERTS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_tls_parser_t *p = NULL, *q = NULL;
    mw_expo_session_t s, t;
    int rc[2] = {0, 0};
    if (mw_tls_parser_new(&p) != MW_OK)
        abort();
    reset(&s);
    if (size > 0 && data[0] == 0xff) {
        size_t off = 1;
        while (off + 3 <= size) {
            int dir = data[off] & 1;
            size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
            off += 3;
            if (len > size - off)
                len = size - off;
            if (rc[dir] == 0) {
                rc[dir] = mw_tls_parser_feed(p, &s, dir, data + off, len);
                check(&s, rc[dir]);
            }
            off += len;
        }
    } else {
        int dir = size > 0 ? data[0] & 1 : 0;
        const uint8_t *b = size ? data + 1 : data;
        size_t n = size ? size - 1 : 0;
        rc[0] = mw_tls_parser_feed(p, &s, dir, b, n);
        check(&s, rc[0]);
        if (mw_tls_parser_new(&q) != MW_OK)
            abort();
        reset(&t);
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++)
            r = mw_tls_parser_feed(q, &t, dir, b + i, 1);
        check(&t, r);
        if ((rc[0] < 0) != (r < 0) || memcmp(&s, &t, sizeof s) != 0)
            abort(); /* byte-by-byte feeding must equal one-shot feeding */
        mw_tls_parser_free(q);
    }
    mw_tls_parser_free(p);
    return 0;
}
