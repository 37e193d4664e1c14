/* The door (src/api/guard.c): request-target checks and the UTF-8
 * validator (RFC 3629), and the loopback test of src/api/tls.c. Expected
 * answers worked out by hand from the byte values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static enum mw_bad_input check(const char *uri, const char *query)
{
    char msg[128] = "";
    enum mw_bad_input r = mw_api_check_target(uri, query, msg, sizeof(msg));
    if (r != MW_BAD__COUNT)
        assert_true(msg[0] != '\0');
    return r;
}

static void test_paths(void **state)
{
    (void)state;
    const char *fine[] = {"/",           "/api/v1/threats", "/api/v1/threats/42",
                          "/index.html", "/assets/app.js",  "/a.b/c..d/...",
                          "/%41pi",      "/caf%C3%A9",      "/api/v1/threats?x",
                          NULL};
    for (int i = 0; fine[i]; i++)
        if (check(fine[i], NULL) != MW_BAD__COUNT)
            fail_msg("refused %s", fine[i]);
    const char *bad[] = {"/..",       "/../etc/passwd", "/a/../b", "/a/./b",           "/.",
                         "/%2e%2e/x", "/%2E%2e/x",      "/.%2e/x", "/a%2fb",           "/a%2Fb",
                         "/a%5cb",    "/a\\b",          "/a%00b",  "/a%0ab",           "/a%7f",
                         "/a%",       "/a%4",           "/a%zz",   "/sub/..%2f..%2fx", NULL};
    for (int i = 0; bad[i]; i++)
        if (check(bad[i], NULL) != MW_BAD_PATH)
            fail_msg("did not refuse %s", bad[i]);
    /* %252e%252e decodes once to the literal name "%2e%2e": allowed */
    assert_int_equal(check("/%252e%252e/x", NULL), MW_BAD__COUNT);
    /* bad UTF-8 in the path */
    assert_int_equal(check("/%ff", NULL), MW_BAD_UTF8);
    assert_int_equal(check("/%c0%ae%c0%ae/x", NULL), MW_BAD_UTF8); /* overlong '.' */
    assert_int_equal(check(NULL, NULL), MW_BAD__COUNT);
}

static void test_queries(void **state)
{
    (void)state;
    assert_int_equal(check("/x", "host=web1&limit=5"), MW_BAD__COUNT);
    assert_int_equal(check("/x", "host=%C3%A9t%C3%A9"), MW_BAD__COUNT);
    assert_int_equal(check("/x", "host=%F0%9F%98%80"), MW_BAD__COUNT); /* U+1F600 */
    assert_int_equal(check("/x", "q=%zz"), MW_BAD__COUNT); /* left to the route's parser */
    assert_int_equal(check("/x", "host=%ff"), MW_BAD_UTF8);
    assert_int_equal(check("/x", "host=%c3"), MW_BAD_UTF8); /* truncated */
    assert_int_equal(check("/x", "host=%c3%28"), MW_BAD_UTF8); /* bad continuation */
    assert_int_equal(check("/x", "host=%ed%a0%80"), MW_BAD_UTF8); /* U+D800 surrogate */
    assert_int_equal(check("/x", "host=%f4%90%80%80"), MW_BAD_UTF8); /* U+110000 */
    assert_int_equal(check("/x", "host=%e0%80%af"), MW_BAD_UTF8); /* overlong '/' */
    assert_int_equal(check("/x", "host=\xff"), MW_BAD_UTF8); /* raw byte */
}

static void test_utf8(void **state)
{
    (void)state;
    static const unsigned char ok1[] = {0x7f, 0xc2, 0x80, 0xdf, 0xbf};
    static const unsigned char ok2[] = {0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf, 0xed, 0x9f, 0xbf};
    static const unsigned char ok3[] = {0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf};
    assert_true(mw_api_utf8_valid(ok1, sizeof(ok1)));
    assert_true(mw_api_utf8_valid(ok2, sizeof(ok2)));
    assert_true(mw_api_utf8_valid(ok3, sizeof(ok3)));
    assert_true(mw_api_utf8_valid((const unsigned char *)"", 0));
    static const unsigned char *bad[] = {
        (const unsigned char *)"\x80",
        (const unsigned char *)"\xc1\xbf",
        (const unsigned char *)"\xe0\x9f\xbf",
        (const unsigned char *)"\xed\xa0\x80",
        (const unsigned char *)"\xf0\x8f\xbf\xbf",
        (const unsigned char *)"\xf5\x80\x80\x80",
        (const unsigned char *)"\xf0\x90\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mw_api_utf8_valid(bad[i], strlen((const char *)bad[i])))
            fail_msg("accepted bad sequence %zu", i);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(mw_api_listen_is_loopback("127.0.0.1:8080"));
    assert_true(mw_api_listen_is_loopback("127.1.2.3:1"));
    assert_true(mw_api_listen_is_loopback("localhost:8080"));
    assert_true(mw_api_listen_is_loopback("[::1]:8080"));
    assert_true(mw_api_listen_is_loopback(""));
    assert_false(mw_api_listen_is_loopback(":8080"));
    assert_false(mw_api_listen_is_loopback("0.0.0.0:8080"));
    assert_false(mw_api_listen_is_loopback("10.0.0.1:8080"));
    assert_false(mw_api_listen_is_loopback("[::]:8080"));
    assert_false(mw_api_listen_is_loopback("127.0.0.1.evil.com:80"));
    assert_false(mw_api_listen_is_loopback("128.0.0.1:80"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
