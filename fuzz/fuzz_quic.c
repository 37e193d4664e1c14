/* libFuzzer harness for the QUIC Initial parser of the exposure scanner
 * (long headers, coalesced packets, Retry, header protection, AEAD, frames,
 * CRYPTO reassembly), and of the TLS handshake-message parser it feeds.
 * Input: datagrams [ctrl][len16][bytes]; ctrl bit 0 is the direction, bit 1
 * sends the bytes straight to the handshake parser as CRYPTO stream data
 * (the AEAD keeps random bytes away from it otherwise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/exposure_tls_internal.h"
#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_quic_parser_t *p = NULL;
    mw_tls_parser_t *t = NULL;
    mw_expo_session_t s;
    if (mw_quic_parser_new(&p) != MW_OK || mw_tls_parser_new(&t) != MW_OK)
        abort();
    memset(&s, 0, sizeof s);
    s.proto = MW_EXPO_QUIC;
    s.selected_group = s.cipher_suite = s.hrr_group = -1;
    int rc[2] = {0, 0};
    size_t off = 0;
    while (off + 3 <= size) {
        int dir = data[off] & 1, raw = data[off] & 2;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        if (raw) {
            int r = mw_tls_parser_feed_handshake(t, &s, dir, data + off, len);
            if (r != 0 && r != 1)
                abort();
        } else if (rc[dir] == 0) {
            rc[dir] = mw_quic_parser_feed(p, &s, dir, data + off, len);
            if (rc[dir] != 0 && rc[dir] != 1 && rc[dir] != MW_EINVAL)
                abort();
        }
        off += len;
    }
    if (!memchr(s.sni, 0, sizeof s.sni) || !memchr(s.version, 0, sizeof s.version) ||
        s.n_certs > MW_EXPO_MAX_CERTS)
        abort();
    mw_quic_parser_free(p);
    mw_tls_parser_free(t);
    return 0;
}
