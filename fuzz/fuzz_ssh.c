/* libFuzzer harness for the SSH handshake parser (src/detect/exposure_ssh.c).
 * The input is a sequence of chunks, both directions interleaved: one byte
 * (bit 0: direction, bits 1-7: chunk length 0..127) then the chunk's bytes.
 * Besides "no crash, no leak, no UB" it checks the parser's promises: the
 * session's strings stay NUL-terminated printable text, a negotiated kex is
 * only set once both KEXINITs were seen, and classification always yields a
 * class name and a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    if (!nul)
        abort();
    for (const char *p = s; p < nul; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_ssh_parser_t *p = NULL;
    if (mw_ssh_parser_new(&p) != 0)
        return 0;
    mw_expo_session_t s;
    mw_expo_session_init(&s, MW_EXPO_SSH);
    int rc[2] = {0, 0};
    size_t i = 0;
    while (i < size) {
        int dir = data[i] & 1;
        size_t n = data[i] >> 1;
        i++;
        if (n > size - i)
            n = size - i;
        if (rc[dir] == 0)
            rc[dir] = mw_ssh_parser_feed(p, &s, dir, data + i, n);
        if (rc[dir] > 1)
            abort();
        i += n;
    }
    check_str(s.client_banner, sizeof s.client_banner);
    check_str(s.server_banner, sizeof s.server_banner);
    check_str(s.selected_kex, sizeof s.selected_kex);
    check_str(s.host_key_alg, sizeof s.host_key_alg);
    if (s.selected_kex[0] && strcmp(s.version, "SSH-1") != 0 &&
        (s.seen & (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO)) !=
            (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO))
        abort();
    mw_expo_classify(&s);
    if (!memchr(s.reason, '\0', sizeof s.reason) || s.reason[0] == '\0' ||
        !mw_expo_class_name(s.cls))
        abort();
    mw_ssh_parser_free(p);
    return 0;
}
