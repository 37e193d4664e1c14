/* The exposure scanner (src/detect/exposure.c, exposure_write.c): protocol
 * detection and sessions over the fuzz seeds (pcaps we built from our own
 * parser seeds: fuzz/seeds/exposure/make_seeds.py, expected values worked
 * out from the bytes of those seeds), the per-service aggregate and its caps,
 * the JSON writer's escaping, the table and the CBOM. */
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

struct got {
    mw_expo_session_t s[8];
    char label[8][64];
    int n;
};

static void collect(void *ctx, const char *label, const mw_expo_session_t *s)
{
    struct got *g = ctx;
    if (g->n < 8) {
        g->s[g->n] = *s;
        snprintf(g->label[g->n], sizeof g->label[0], "%s", label);
    }
    g->n++;
}

static void scan_seed(mw_expo_scan_t *sc, const char *name, int want_rc)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/fuzz/seeds/exposure/%s", MW_SOURCE_DIR, name);
    assert_int_equal(mw_expo_scan_file(sc, path, name, err, sizeof err), want_rc);
}

static void test_seeds(void **st)
{
    (void)st;
    static const struct {
        const char *file;
        mw_expo_proto_t proto;
        mw_expo_class_t cls;
        const char *version;
        int32_t group;
        const char *kex;
    } want[] = {
        {"tls_13", MW_EXPO_TLS, MW_EXPO_PQ_HYBRID, "TLS 1.3", 0x11ec, ""},
        {"tls_flow_hrr", MW_EXPO_TLS, MW_EXPO_CLASSICAL, "TLS 1.3", 0x0017, ""},
        {"tls_12_ecdhe", MW_EXPO_TLS, MW_EXPO_CLASSICAL, "TLS 1.2", 0x0017, "ECDHE"},
        {"tls_12_dhe", MW_EXPO_TLS, MW_EXPO_CLASSICAL, "TLS 1.2", -1, "DHE"},
        {"ssh_mlkem", MW_EXPO_SSH, MW_EXPO_PQ_HYBRID, "SSH-2", -1, "mlkem768x25519-sha256"},
        {"ssh_prebanner_ignore", MW_EXPO_SSH, MW_EXPO_CLASSICAL, "SSH-2", -1,
         "diffie-hellman-group14-sha1"},
        {"ssh_ssh1", MW_EXPO_SSH, MW_EXPO_CLASSICAL, "SSH-1", -1, "ssh1-rsa-session-key"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct got g = {0};
        mw_expo_scan_t *sc = NULL;
        assert_int_equal(mw_expo_scan_new(collect, &g, &sc), MW_OK);
        scan_seed(sc, want[i].file, MW_OK);
        assert_int_equal(g.n, 1);
        const mw_expo_session_t *s = &g.s[0];
        print_message("%s: %s %s\n", want[i].file, mw_expo_class_name(s->cls), s->reason);
        assert_string_equal(g.label[0], want[i].file);
        assert_int_equal(s->proto, want[i].proto);
        assert_int_equal(s->cls, want[i].cls);
        assert_string_equal(s->version, want[i].version);
        assert_int_equal(s->selected_group, want[i].group);
        assert_string_equal(s->selected_kex, want[i].kex);
        char c[MW_ENDPOINT_STRLEN], v[MW_ENDPOINT_STRLEN];
        assert_string_equal(mw_endpoint_format(&s->client, c, sizeof c), "10.0.0.1:40000");
        mw_endpoint_format(&s->server, v, sizeof v);
        assert_string_equal(v, want[i].proto == MW_EXPO_SSH ? "10.0.0.2:2222" : "10.0.0.2:8443");
        assert_true(s->bytes_c2s > 0 && s->bytes_s2c > 0);
        /* the seeds end with the handshake: nothing after it is exposed */
        assert_true(s->exposed_bytes <= s->bytes_c2s + s->bytes_s2c);
        const mw_expo_scan_stats_t *stt = mw_expo_scan_stats(sc);
        assert_int_equal(stt->files, 1);
        assert_int_equal(stt->flows, 1);
        assert_int_equal(stt->sessions[want[i].cls], 1);
        assert_int_equal(mw_expo_scan_service_count(sc), 1);
        mw_expo_scan_free(sc);
    }
}

/* A capture cut in a record: the packets before it give their session, the
 * call fails with MW_EIO and names the file; the file is counted failed. */
static void test_truncated(void **st)
{
    (void)st;
    struct got g = {0};
    mw_expo_scan_t *sc = NULL;
    char path[1024], err[512];
    assert_int_equal(mw_expo_scan_new(collect, &g, &sc), MW_OK);
    snprintf(path, sizeof path, "%s/fuzz/seeds/exposure/cut_ssh_mlkem", MW_SOURCE_DIR);
    assert_int_equal(mw_expo_scan_file(sc, path, "cut", err, sizeof err), MW_EIO);
    assert_non_null(strstr(err, "cut_ssh_mlkem"));
    assert_int_equal(g.n, 1);
    assert_int_equal(g.s[0].cls, MW_EXPO_UNKNOWN);
    assert_int_equal(mw_expo_scan_file(sc, "/nonexistent.pcap", NULL, err, sizeof err), MW_EIO);
    assert_int_equal(mw_expo_scan_stats(sc)->files, 2);
    assert_int_equal(mw_expo_scan_stats(sc)->files_failed, 2);
    mw_expo_scan_free(sc);
}

static mw_expo_session_t mk(const char *sni, uint16_t port, mw_expo_class_t cls,
                            const char *version, int32_t group, uint64_t bytes, uint64_t exposed)
{
    mw_expo_session_t s;
    mw_expo_session_init(&s, MW_EXPO_TLS);
    s.server.family = 4;
    memcpy(s.server.addr, "\xc0\x00\x02\x01", 4);
    s.server.port = port;
    s.client.family = 4;
    memcpy(s.client.addr, "\xc0\x00\x02\x63", 4);
    s.client.port = 50000;
    snprintf(s.sni, sizeof s.sni, "%s", sni);
    snprintf(s.version, sizeof s.version, "%s", version);
    s.selected_group = group;
    s.cls = cls;
    snprintf(s.reason, sizeof s.reason, "test %s", mw_expo_class_name(cls));
    s.bytes_c2s = bytes;
    s.exposed_bytes = exposed;
    s.first_ns = 1000 + bytes;
    s.last_ns = 2000 + bytes;
    return s;
}

static void test_services(void **st)
{
    (void)st;
    struct got g = {0};
    mw_expo_scan_t *sc = NULL;
    assert_int_equal(mw_expo_scan_new(collect, &g, &sc), MW_OK);
    mw_expo_session_t a = mk("a.example", 443, MW_EXPO_PQ_HYBRID, "TLS 1.3", 0x11ec, 100, 0);
    mw_expo_session_t b = mk("a.example", 443, MW_EXPO_CLASSICAL, "TLS 1.2", 0x001d, 50, 40);
    mw_expo_session_t c = mk("b.example", 443, MW_EXPO_PQ_HYBRID, "TLS 1.3", 0x11ec, 7, 0);
    mw_expo_session_t d = mk("a.example", 443, MW_EXPO_PQ_HYBRID, "TLS 1.3", 0x11ec, 1, 0);
    mw_expo_scan_add_session(sc, "x", &a);
    mw_expo_scan_add_session(sc, "x", &b);
    mw_expo_scan_add_session(sc, "x", &c);
    mw_expo_scan_add_session(sc, "x", &d);
    assert_int_equal(g.n, 4);
    assert_int_equal(mw_expo_scan_service_count(sc), 2);
    const mw_expo_service_t *v = mw_expo_scan_service(sc, 0);
    assert_string_equal(v->sni, "a.example");
    assert_int_equal(v->sessions[MW_EXPO_PQ_HYBRID], 2);
    assert_int_equal(v->sessions[MW_EXPO_CLASSICAL], 1);
    assert_int_equal(v->bytes, 151);
    assert_int_equal(v->exposed_bytes, 40);
    assert_int_equal(v->first_ns, 1001);
    assert_int_equal(v->last_ns, 2100);
    assert_int_equal(v->worst, MW_EXPO_CLASSICAL); /* one classical session is enough */
    assert_string_equal(v->last_reason, "test classical");
    assert_int_equal(v->n_versions, 2);
    assert_string_equal(v->versions[0], "TLS 1.3");
    assert_int_equal(v->n_groups, 2);
    assert_int_equal(v->groups[1], 0x001d);
    assert_null(mw_expo_scan_service(sc, 2));
    /* the per-service lists are capped, the rest counted */
    for (int i = 0; i < MW_EXPO_SVC_MAX_ITEMS + 3; i++) {
        char ver[16];
        snprintf(ver, sizeof ver, "v%d", i);
        mw_expo_session_t e = mk("b.example", 443, MW_EXPO_UNKNOWN, ver, 0x0100 + i, 1, 0);
        mw_expo_scan_add_session(sc, "x", &e);
    }
    v = mw_expo_scan_service(sc, 1);
    assert_int_equal(v->n_versions, MW_EXPO_SVC_MAX_ITEMS);
    assert_int_equal(v->n_versions_more, 4); /* "TLS 1.3" was first: v0..v10 = 11, 7 kept */
    assert_int_equal(v->n_groups, MW_EXPO_SVC_MAX_ITEMS);
    assert_int_equal(v->sessions[MW_EXPO_UNKNOWN], MW_EXPO_SVC_MAX_ITEMS + 3);
    assert_int_equal(v->worst, MW_EXPO_UNKNOWN);
    /* another port or protocol is another service */
    mw_expo_session_t f = mk("a.example", 8443, MW_EXPO_CLASSICAL, "TLS 1.2", 0x0017, 1, 1);
    mw_expo_scan_add_session(sc, "x", &f);
    f.proto = MW_EXPO_QUIC;
    f.server.port = 443;
    mw_expo_scan_add_session(sc, "x", &f);
    assert_int_equal(mw_expo_scan_service_count(sc), 4);

    /* table: header, one line per service, totals */
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    assert_int_equal(mw_expo_write_table(o, sc), MW_OK);
    fclose(o);
    assert_non_null(strstr(buf, "SERVICE"));
    assert_non_null(strstr(buf, "192.0.2.1:443"));
    assert_non_null(strstr(buf, "X25519MLKEM768,x25519"));
    assert_non_null(
        strstr(buf, "4 services; sessions: 3 classical, 3 pq-hybrid, 0 pq-only, 11 unknown"));
    free(buf);

    /* CBOM: CycloneDX 1.6 with the groups as algorithms and the services */
    o = open_memstream(&buf, &len);
    assert_int_equal(mw_expo_write_cbom(o, sc), MW_OK);
    fclose(o);
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "specVersion")), "1.6");
    assert_int_equal(json_array_size(json_object_get(j, "services")), 4);
    assert_non_null(strstr(buf, "\"crypto/tls-group/0x11ec\""));
    assert_non_null(strstr(buf, "\"nistQuantumSecurityLevel\": 3"));
    assert_non_null(strstr(buf, "urn:uuid:"));
    json_decref(j);
    free(buf);

    mw_expo_scan_clear(sc);
    assert_int_equal(mw_expo_scan_service_count(sc), 0);
    assert_int_equal(mw_expo_scan_stats(sc)->sessions[MW_EXPO_PQ_HYBRID], 0);
    mw_expo_scan_add_session(sc, "x", &a);
    assert_int_equal(mw_expo_scan_service_count(sc), 1);
    mw_expo_scan_free(sc);
}

/* JSON: hostile strings stay one valid JSON line (RFC 8259 7). */
static void test_json(void **st)
{
    (void)st;
    mw_expo_session_t s = mk("q\"uote\\back\x01slash", 443, MW_EXPO_CLASSICAL, "TLS 1.2", -1, 9, 3);
    snprintf(s.selected_kex, sizeof s.selected_kex, "RSA");
    s.cipher_suite = 0x009c;
    s.n_certs = 1;
    snprintf(s.certs[0].sig_alg, sizeof s.certs[0].sig_alg, "ML-DSA-44");
    s.certs[0].pq_signature = 1;
    s.server.family = 6;
    memset(s.server.addr, 0, 16);
    s.server.addr[0] = 0x20;
    s.server.addr[1] = 0x01;
    s.server.addr[15] = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    assert_int_equal(mw_expo_write_json(o, "caf\xc3\xa9 \xff.pcap", &s), MW_OK);
    fclose(o);
    assert_true(len > 0 && buf[len - 1] == '\n');
    assert_null(memchr(buf, '\n', len - 1));
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "file")),
                        "caf\xc3\xa9 \xef\xbf\xbd.pcap");
    assert_string_equal(json_string_value(json_object_get(j, "sni")), "q\"uote\\back\x01slash");
    assert_string_equal(json_string_value(json_object_get(j, "server")), "[2001::1]:443");
    assert_true(json_is_null(json_object_get(j, "selected_group")));
    assert_string_equal(json_string_value(json_object_get(j, "selected_kex")), "RSA");
    assert_string_equal(json_string_value(json_object_get(j, "cipher_suite")), "0x009c");
    assert_string_equal(json_string_value(json_object_get(j, "cipher_suite_name")),
                        "TLS_RSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(json_string_value(json_object_get(j, "classification")), "classical");
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 9);
    assert_int_equal(json_integer_value(json_object_get(j, "exposed_bytes")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "first_ts")),
                        "1970-01-01T00:00:00.000001009Z");
    json_t *c = json_array_get(json_object_get(j, "certificates"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "sig_alg")), "ML-DSA-44");
    assert_true(json_is_true(json_object_get(c, "pq_signature")));
    assert_true(json_is_null(json_object_get(c, "key_alg")));
    json_decref(j);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
