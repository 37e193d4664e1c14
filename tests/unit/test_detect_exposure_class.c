/* Classification (src/detect/exposure_class.c): SSH kex names, the rules of
 * mw_expo_classify for SSH and TLS/QUIC with their reasons, and every TLS and
 * QUIC record of the tshark oracle ($MW_SHARED_DATA/pcaps/oracle.jsonl)
 * rebuilt as a session: the class must be the oracle's ("pq-pure" there is
 * "pq-only" here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mw_expo_class_name(MW_EXPO_UNKNOWN), "unknown");
    assert_string_equal(mw_expo_class_name(MW_EXPO_CLASSICAL), "classical");
    assert_string_equal(mw_expo_class_name(MW_EXPO_PQ_HYBRID), "pq-hybrid");
    assert_string_equal(mw_expo_class_name(MW_EXPO_PQ_ONLY), "pq-only");
    assert_string_equal(mw_expo_class_name((mw_expo_class_t)42), "unknown");
    assert_string_equal(mw_expo_proto_name(MW_EXPO_TLS), "tls");
    assert_string_equal(mw_expo_proto_name(MW_EXPO_QUIC), "quic");
    assert_string_equal(mw_expo_proto_name(MW_EXPO_SSH), "ssh");

    mw_expo_session_t s;
    memset(&s, 0x5a, sizeof s);
    mw_expo_session_init(&s, MW_EXPO_QUIC);
    assert_int_equal(s.proto, MW_EXPO_QUIC);
    assert_int_equal(s.selected_group, -1);
    assert_int_equal(s.cipher_suite, -1);
    assert_int_equal(s.hrr_group, -1);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_int_equal(s.seen, 0);
    assert_int_equal(s.n_client_groups, 0);
    assert_string_equal(s.version, "");
    assert_string_equal(s.reason, "");
}

static void test_ssh_kex_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        mw_expo_class_t c;
    } cases[] = {
        /* IANA / RFC 10042, OpenSSH */
        {"mlkem768x25519-sha256", MW_EXPO_PQ_HYBRID},
        {"mlkem768nistp256-sha256", MW_EXPO_PQ_HYBRID},
        {"mlkem1024nistp384-sha384", MW_EXPO_PQ_HYBRID},
        {"sntrup761x25519-sha512", MW_EXPO_PQ_HYBRID},
        {"sntrup761x25519-sha512@openssh.com", MW_EXPO_PQ_HYBRID},
        {"sntrup4591761x25519-sha512@tinyssh.org", MW_EXPO_PQ_HYBRID},
        {"MLKEM768X25519-SHA256", MW_EXPO_PQ_HYBRID},
        /* OQS-OpenSSH / OQS-libssh */
        {"ecdh-nistp256-kyber-512r3-sha256-d00@openquantumsafe.org", MW_EXPO_PQ_HYBRID},
        {"ecdh-nistp384-kyber-768r3-sha384-d00@openquantumsafe.org", MW_EXPO_PQ_HYBRID},
        {"x25519-kyber-512r3-sha256-d00@amazon.com", MW_EXPO_PQ_HYBRID},
        {"ecdh-nistp256-frodokem-640-aes-sha256", MW_EXPO_PQ_HYBRID},
        {"ecdh-nistp384-mlkem768-sha384", MW_EXPO_PQ_HYBRID},
        {"kyber-512-sha256", MW_EXPO_PQ_ONLY},
        {"kyber-1024-sha512", MW_EXPO_PQ_ONLY},
        {"mlkem768-sha256", MW_EXPO_PQ_ONLY},
        {"frodokem-1344-shake-sha512", MW_EXPO_PQ_ONLY},
        {"bike1-l1-fo-sha512", MW_EXPO_PQ_ONLY},
        {"hqc-128-sha256", MW_EXPO_PQ_ONLY},
        {"classic-mceliece-348864-sha256", MW_EXPO_PQ_ONLY},
        {"ntru-hps2048509-sha512", MW_EXPO_PQ_ONLY},
        {"ntruprime-sntrup761-sha384", MW_EXPO_PQ_ONLY},
        {"saber-firesaber-sha512", MW_EXPO_PQ_ONLY},
        /* broken: SIKE */
        {"sike-p434-sha256", MW_EXPO_CLASSICAL},
        {"ecdh-nistp256-sike-p434-sha256", MW_EXPO_CLASSICAL},
        /* classical */
        {"curve25519-sha256", MW_EXPO_CLASSICAL},
        {"curve25519-sha256@libssh.org", MW_EXPO_CLASSICAL},
        {"curve448-sha512", MW_EXPO_CLASSICAL},
        {"ecdh-sha2-nistp256", MW_EXPO_CLASSICAL},
        {"ecdh-sha2-nistp521", MW_EXPO_CLASSICAL},
        {"ecdh-sha2-1.3.132.0.10", MW_EXPO_CLASSICAL},
        {"diffie-hellman-group1-sha1", MW_EXPO_CLASSICAL},
        {"diffie-hellman-group14-sha256", MW_EXPO_CLASSICAL},
        {"diffie-hellman-group18-sha512", MW_EXPO_CLASSICAL},
        {"diffie-hellman-group-exchange-sha256", MW_EXPO_CLASSICAL},
        {"gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g==", MW_EXPO_CLASSICAL},
        {"rsa2048-sha256", MW_EXPO_CLASSICAL},
        {"rsa1024-sha1", MW_EXPO_CLASSICAL},
        /* not a kex */
        {"ext-info-c", MW_EXPO_UNKNOWN},
        {"ext-info-s", MW_EXPO_UNKNOWN},
        {"kex-strict-c-v00@openssh.com", MW_EXPO_UNKNOWN},
        {"ak17", MW_EXPO_UNKNOWN},
        {"", MW_EXPO_UNKNOWN},
        {"none", MW_EXPO_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mw_expo_class_t c = mw_expo_ssh_kex_class(cases[i].name);
        if (c != cases[i].c)
            fail_msg("%s: %s, want %s", cases[i].name, mw_expo_class_name(c),
                     mw_expo_class_name(cases[i].c));
    }
    assert_int_equal(mw_expo_ssh_kex_class(NULL), MW_EXPO_UNKNOWN);
}

static void test_classify_ssh(void **state)
{
    (void)state;
    mw_expo_session_t s;
    mw_expo_session_init(&s, MW_EXPO_SSH);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(s.reason, "no KEXINIT seen");

    strcpy(s.client_banner, "SSH-1.5-OpenSSH_6.2");
    strcpy(s.server_banner, "SSH-1.99-OpenSSH_6.6");
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_string_equal(s.reason, "SSH-1 (client SSH-1.5-OpenSSH_6.2): session key sent "
                                  "RSA-encrypted, no key exchange");

    mw_expo_session_init(&s, MW_EXPO_SSH);
    strcpy(s.server_banner, "SSH-1.99-OpenSSH_6.6");
    s.seen = MW_EXPO_SEEN_SERVER_HELLO;
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(s.reason, "no client KEXINIT seen");

    s.seen |= MW_EXPO_SEEN_CLIENT_HELLO;
    strcpy(s.selected_kex, "mlkem768x25519-sha256");
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_PQ_HYBRID);
    assert_string_equal(s.reason, "negotiated mlkem768x25519-sha256 (post-quantum hybrid)");

    strcpy(s.selected_kex, "kyber-768-sha384");
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_PQ_ONLY);

    strcpy(s.selected_kex, "ecdh-sha2-nistp256");
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_string_equal(s.reason, "negotiated ecdh-sha2-nistp256 (classical key exchange)");

    s.selected_kex[0] = '\0';
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(s.reason, "no common kex algorithm in the client and server KEXINIT");
}

static void tls_session(mw_expo_session_t *s, const char *ver, uint16_t vcode, int group, int suite)
{
    mw_expo_session_init(s, MW_EXPO_TLS);
    strcpy(s->version, ver);
    s->version_code = vcode;
    s->selected_group = group;
    s->cipher_suite = suite;
    s->seen = MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO;
}

static void test_classify_tls(void **state)
{
    (void)state;
    mw_expo_session_t s;
    tls_session(&s, "", 0, -1, -1);
    s.seen = MW_EXPO_SEEN_CLIENT_HELLO;
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(s.reason, "no ServerHello seen");

    tls_session(&s, "TLS 1.3", 0x0304, 0x11ec, 0x1301);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_PQ_HYBRID);
    assert_string_equal(s.reason, "server selected X25519MLKEM768 (0x11ec)");

    tls_session(&s, "TLS 1.3", 0x0304, 0x001d, 0x1301);
    s.seen |= MW_EXPO_SEEN_HRR;
    s.hrr_group = 0x001d;
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_string_equal(s.reason, "server selected x25519 (0x001d) after HelloRetryRequest");

    tls_session(&s, "TLS 1.3", 0x0304, 0x0201, 0x1301);
    s.proto = MW_EXPO_QUIC;
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_PQ_ONLY);

    tls_session(&s, "TLS 1.3", 0x0304, -1, 0x1301);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
    assert_non_null(strstr(s.reason, "without key_share"));

    tls_session(&s, "TLS 1.3 (draft 23)", 0x7f17, 0x001d, 0x1301);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);

    tls_session(&s, "TLS 1.2", 0x0303, -1, 0x009c);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_string_equal(s.reason, "TLS 1.2 RSA key transport (TLS_RSA_WITH_AES_128_GCM_SHA256)");

    tls_session(&s, "TLS 1.2", 0x0303, 0x0017, 0xc02f);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(s.reason, "ECDHE with secp256r1 (0x0017)"));

    tls_session(&s, "TLS 1.2", 0x0303, -1, 0x009e);
    s.dh_bits = 2048;
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(s.reason, "DHE-2048"));

    tls_session(&s, "TLS 1.2", 0x0303, -1, 0x008c);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(s.reason, "pre-shared key"));

    tls_session(&s, "SSL 2.0", 0x0002, -1, -1);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_CLASSICAL);

    tls_session(&s, "TLS 1.2", 0x0303, -1, 0xfefe);
    mw_expo_classify(&s);
    assert_int_equal(s.cls, MW_EXPO_UNKNOWN);
}

static long hexval(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? strtol(s, NULL, 16) : -1;
}

static void test_oracle_tls(void **state)
{
    (void)state;
    char path[512];
    const char *d = getenv("MW_SHARED_DATA");
    snprintf(path, sizeof path, "%s/pcaps/oracle.jsonl", d ? d : MW_SHARED_DATA);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        print_message("SKIP: %s is absent: no oracle to compare with\n", path);
        skip();
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned n = 0, bad = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        const char *proto = json_string_value(json_object_get(o, "protocol"));
        if (strcmp(proto, "ssh") == 0) {
            json_decref(o);
            continue;
        }
        mw_expo_session_t s;
        mw_expo_session_init(&s, strcmp(proto, "quic") == 0 ? MW_EXPO_QUIC : MW_EXPO_TLS);
        const char *ver = json_string_value(json_object_get(o, "version"));
        if (ver) {
            snprintf(s.version, sizeof s.version, "%s", ver);
            s.version_code = (uint16_t)hexval(json_object_get(o, "version_code"));
            s.seen |= MW_EXPO_SEEN_SERVER_HELLO;
        }
        s.seen |= MW_EXPO_SEEN_CLIENT_HELLO;
        s.selected_group = (int32_t)hexval(json_object_get(o, "selected_group"));
        s.cipher_suite = (int32_t)hexval(json_object_get(o, "cipher_suite"));
        json_t *hrr = json_object_get(o, "hrr_selected_group");
        if (json_is_string(hrr)) {
            s.seen |= MW_EXPO_SEEN_HRR;
            s.hrr_group = (int32_t)hexval(hrr);
        }
        json_t *dh = json_object_get(o, "dh_p_bits");
        if (json_is_integer(dh))
            s.dh_bits = (int)json_integer_value(dh);
        mw_expo_classify(&s);
        const char *want = json_string_value(json_object_get(o, "classification"));
        if (strcmp(want, "pq-pure") == 0)
            want = "pq-only";
        if (strcmp(mw_expo_class_name(s.cls), want) != 0) {
            print_message("%s stream %lld: %s (%s), oracle %s\n",
                          json_string_value(json_object_get(o, "file")),
                          (long long)json_integer_value(json_object_get(o, "stream")),
                          mw_expo_class_name(s.cls), s.reason, want);
            bad++;
        }
        n++;
        json_decref(o);
    }
    free(line);
    fclose(fp);
    print_message("oracle: %u tls/quic records classified, %u differ\n", n, bad);
    assert_int_equal(bad, 0);
    assert_true(n >= 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),        cmocka_unit_test(test_ssh_kex_names),
        cmocka_unit_test(test_classify_ssh), cmocka_unit_test(test_classify_tls),
        cmocka_unit_test(test_oracle_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
