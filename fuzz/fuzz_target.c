/* libFuzzer harness for the request-target checks of src/api/guard.c
 * (mw_api_check_target, mw_api_utf8_valid): the input is "PATH?QUERY".
 * Checks, besides memory safety (ASan/UBSan): the answer is one of the
 * three; a refusal comes with a message; a path of plain printable ASCII
 * without '%', '\\' or dot segments is never refused; the validator agrees
 * with itself on every prefix boundary that ends a whole sequence. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *q, msg[128];
    enum mw_bad_input r;

    if (size > 3 * MW_API_QUERY_MAX)
        return 0;
    buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    q = strchr(buf, '?');
    if (q)
        *q++ = '\0';
    msg[0] = '\0';
    r = mw_api_check_target(buf, q, msg, sizeof(msg));
    if (r != MW_BAD__COUNT && r != MW_BAD_PATH && r != MW_BAD_UTF8)
        abort();
    if (r != MW_BAD__COUNT && msg[0] == '\0')
        abort();
    /* plain paths pass */
    int plain = strlen(buf) < MW_API_QUERY_MAX && q == NULL;
    for (const char *p = buf; plain && *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == '\\' || *p == '.')
            plain = 0;
    if (plain && r != MW_BAD__COUNT)
        abort();
    /* a valid string stays valid when cut after an ASCII byte */
    if (mw_api_utf8_valid(data, size)) {
        for (size_t i = 0; i < size; i++)
            if (data[i] < 0x80 && !mw_api_utf8_valid(data, i + 1))
                abort();
    }
    free(buf);
    return 0;
}
