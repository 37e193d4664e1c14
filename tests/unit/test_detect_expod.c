/* The pure parts of the exposure daemon (exposure.h section 5): the
 * exposure.service_tags syntax and matching, and the severity table of
 * docs/exposure.md ("In the daemon"), with expected values worked out by
 * hand from that table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mwrasp/exposure.h"

#define MIB (1024ULL * 1024)

static void test_severity_table(void **state)
{
    (void)state;
    const char *none[1] = {NULL};
    /* volume alone: < 10 MiB low (4), >= 10 MiB medium (3), >= 1 GiB high (2) */
    assert_int_equal(mw_expo_severity(1, none, 0), 4);
    assert_int_equal(mw_expo_severity(10 * MIB - 1, none, 0), 4);
    assert_int_equal(mw_expo_severity(10 * MIB, none, 0), 3);
    assert_int_equal(mw_expo_severity(1024 * MIB - 1, none, 0), 3);
    assert_int_equal(mw_expo_severity(1024 * MIB, none, 0), 2);
    assert_int_equal(mw_expo_severity(UINT64_MAX, none, 0), 2);

    const char *cj[] = {"crown-jewel"};
    assert_int_equal(mw_expo_severity(1, cj, 1), 2); /* low - 2 = high */
    assert_int_equal(mw_expo_severity(10 * MIB, cj, 1), 1); /* medium - 2 = critical */
    assert_int_equal(mw_expo_severity(1024 * MIB, cj, 1), 1); /* high - 2 clamps at 1 */

    const char *pci[] = {"pci"};
    assert_int_equal(mw_expo_severity(1, pci, 1), 3);
    /* the strongest raise counts, not the sum */
    const char *both[] = {"pci", "crown-jewel", "pii"};
    assert_int_equal(mw_expo_severity(1, both, 3), 2);

    const char *lab[] = {"lab"};
    assert_int_equal(mw_expo_severity(1, lab, 1), 5); /* low + 1 = informational */
    assert_int_equal(mw_expo_severity(1024 * MIB, lab, 1), 3);
    /* a lowering tag does nothing next to a raising one */
    const char *mixed[] = {"test", "critical"};
    assert_int_equal(mw_expo_severity(1, mixed, 2), 3);
    /* unknown tags and case */
    const char *other[] = {"web", "CROWN-JEWEL"};
    assert_int_equal(mw_expo_severity(1, other, 2), 2);
}

static void test_tags_parse(void **state)
{
    (void)state;
    mw_expo_tagged_t t[8];
    size_t n = 99;
    char err[256];
    assert_int_equal(mw_expo_tags_parse("", t, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mw_expo_tags_parse("192.0.2.1:443=Crown-Jewel,pci; "
                                        "[2001:DB8:0:0::1]:22=prod\t10.0.0.5=lab;"
                                        "Example.COM=pii;2001:db8::7=dev",
                                        t, 8, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 5);
    assert_int_equal(t[0].kind, 'p');
    assert_string_equal(t[0].service, "192.0.2.1:443");
    assert_int_equal(t[0].n_tags, 2);
    assert_string_equal(t[0].tags[0], "crown-jewel");
    assert_string_equal(t[0].tags[1], "pci");
    assert_int_equal(t[1].kind, 'p');
    assert_string_equal(t[1].service, "[2001:db8::1]:22"); /* RFC 5952 text */
    assert_int_equal(t[2].kind, 'a');
    assert_string_equal(t[2].service, "10.0.0.5");
    assert_int_equal(t[3].kind, 'n');
    assert_string_equal(t[3].service, "example.com");
    assert_int_equal(t[4].kind, 'a');
    assert_string_equal(t[4].service, "2001:db8::7");

    static const char *const bad[] = {
        "192.0.2.1:443", /* no '=' */
        "=tag", /* no service */
        "192.0.2.1:443=", /* no tag */
        "192.0.2.1:70000=x", /* port */
        "192.0.2.1:44x=x", /* port */
        "[192.0.2.1]:443=x", /* brackets around IPv4 */
        "[2001:db8::1]=x", /* brackets without port */
        "host name=x", /* split at the space: "host" then "name=x" fails */
        "a=b,,c", /* empty tag */
        "a=t@g", /* tag characters */
        "a=0123456789012345678901234567890123", /* tag too long */
        "a=1,2,3,4,5,6,7,8,9", /* more than MW_EXPO_MAX_TAGS */
        "exa$mple.com=x", /* name characters */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(mw_expo_tags_parse(bad[i], t, 8, &n, err, sizeof err), MW_ECONFIG);
        assert_non_null(strstr(err, "exposure.service_tags"));
    }
    /* cap on entries */
    assert_int_equal(mw_expo_tags_parse("a=x;b=x;c=x", t, 2, &n, err, sizeof err), MW_ECONFIG);
}

static void test_tags_match(void **state)
{
    (void)state;
    mw_expo_tagged_t t[8];
    size_t n;
    char err[256];
    assert_int_equal(mw_expo_tags_parse("192.0.2.1:443=crown-jewel,pci;192.0.2.1=pci,web;"
                                        "example.com=pii;[2001:db8::1]:22=prod",
                                        t, 8, &n, err, sizeof err),
                     0);
    mw_endpoint_t ep = {.family = 4, .addr = {192, 0, 2, 1}, .port = 443};
    const char *tags[16];
    size_t k = mw_expo_tags_match(t, n, &ep, "EXAMPLE.com", tags, 16);
    /* port entry, address entry, name entry; "pci" once */
    assert_int_equal(k, 4);
    assert_string_equal(tags[0], "crown-jewel");
    assert_string_equal(tags[1], "pci");
    assert_string_equal(tags[2], "web");
    assert_string_equal(tags[3], "pii");
    ep.port = 8443; /* the address entry still applies, the port entry not */
    k = mw_expo_tags_match(t, n, &ep, "", tags, 16);
    assert_int_equal(k, 2);
    assert_string_equal(tags[0], "pci");
    assert_string_equal(tags[1], "web");
    k = mw_expo_tags_match(t, n, &ep, "", tags, 1); /* cap */
    assert_int_equal(k, 1);
    mw_endpoint_t v6 = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, .port = 22};
    k = mw_expo_tags_match(t, n, &v6, NULL, tags, 16);
    assert_int_equal(k, 1);
    assert_string_equal(tags[0], "prod");
    v6.port = 23;
    assert_int_equal(mw_expo_tags_match(t, n, &v6, NULL, tags, 16), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_table),
        cmocka_unit_test(test_tags_parse),
        cmocka_unit_test(test_tags_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
