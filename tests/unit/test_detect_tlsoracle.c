/* The TLS and QUIC parsers on the shared captures, through the capture layer
 * (mw_pcap_*), compared with what tshark reported for every tls and quic
 * handshake ($MW_SHARED_DATA/pcaps/oracle.jsonl, README beside it): version,
 * selected group, cipher suite, HRR group, DHE size, SNI, client groups, key
 * shares and versions, suite count, offered PQ, TLS <= 1.2 key exchange,
 * certificate signature algorithms, and the class from mw_expo_classify.
 * Skipped with a message when the shared data is absent. */
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

struct result {
    char client[MW_ENDPOINT_STRLEN], server[MW_ENDPOINT_STRLEN];
    int used;
    mw_expo_session_t s;
};

struct scan {
    struct result *r;
    size_t n, cap;
};

struct flowstate {
    mw_tls_parser_t *tls;
    mw_quic_parser_t *quic;
    int rc[2];
    mw_expo_session_t s;
};

static struct flowstate *state(mw_flow_t *f)
{
    if (!f->user) {
        struct flowstate *st = calloc(1, sizeof *st);
        assert_non_null(st);
        mw_expo_session_init(&st->s, f->l4 == 17 ? MW_EXPO_QUIC : MW_EXPO_TLS);
        if (f->l4 == 17)
            assert_int_equal(mw_quic_parser_new(&st->quic), MW_OK);
        else
            assert_int_equal(mw_tls_parser_new(&st->tls), MW_OK);
        f->user = st;
    }
    return f->user;
}

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t n, uint64_t ts)
{
    (void)ctx;
    (void)ts;
    struct flowstate *st = state(f);
    if (st->rc[dir] == 0)
        st->rc[dir] = mw_tls_parser_feed(st->tls, &st->s, dir, d, n);
    return st->rc[dir] != 0;
}

static void on_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t n, uint64_t ts)
{
    (void)ctx;
    (void)ts;
    struct flowstate *st = state(f);
    if (st->rc[dir] == 0)
        st->rc[dir] = mw_quic_parser_feed(st->quic, &st->s, dir, d, n);
}

static void on_end(void *ctx, mw_flow_t *f)
{
    struct scan *sc = ctx;
    struct flowstate *st = f->user;
    if (!st)
        return;
    if (st->s.seen & (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO)) {
        if (sc->n == sc->cap) {
            sc->cap = sc->cap ? 2 * sc->cap : 64;
            sc->r = realloc(sc->r, sc->cap * sizeof *sc->r);
            assert_non_null(sc->r);
        }
        struct result *r = &sc->r[sc->n++];
        memset(r, 0, sizeof *r);
        mw_endpoint_format(&f->client, r->client, sizeof r->client);
        mw_endpoint_format(&f->server, r->server, sizeof r->server);
        r->s = st->s;
        mw_expo_classify(&r->s);
    }
    mw_tls_parser_free(st->tls);
    mw_quic_parser_free(st->quic);
    free(st);
    f->user = NULL;
}

static void scan_file(const char *path, struct scan *sc)
{
    mw_flow_sink_t sink = {sc, on_tcp, NULL, on_udp, on_end};
    mw_pcap_t *p = NULL;
    char err[256];
    assert_int_equal(mw_pcap_open_file(path, &sink, 0, &p, err, sizeof err), MW_OK);
    while (mw_pcap_run(p, 0, 0) > 0)
        ;
    mw_pcap_free(p);
}

static int hexval(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? (int)strtol(v, NULL, 16) : -1;
}

/* The oracle's list of "0x...." strings without GREASE vs ours. */
static int list_equal(json_t *arr, const uint16_t *ours, unsigned n)
{
    size_t i;
    json_t *v;
    unsigned k = 0;
    json_array_foreach(arr, i, v)
    {
        unsigned x = (unsigned)strtol(json_string_value(v), NULL, 16);
        if ((x & 0x0f0f) == 0x0a0a && (x >> 8) == (x & 0xff))
            continue;
        if (k >= n || ours[k] != x)
            return 0;
        k++;
    }
    return k == n;
}

static const char *class_of(const char *oracle)
{
    return strcmp(oracle, "pq-pure") == 0 ? "pq-only" : oracle;
}

static void test_oracle(void **st)
{
    (void)st;
    const char *d = getenv("MW_SHARED_DATA");
    char base[1024], path[2048];
    snprintf(base, sizeof base, "%s/pcaps", d ? d : MW_SHARED_DATA);
    snprintf(path, sizeof path, "%s/oracle.jsonl", base);
    FILE *f = fopen(path, "r");
    if (!f) {
        print_message("SKIP: %s is absent: no oracle to compare with\n", path);
        skip();
    }
    char *line = NULL, last[512] = "";
    size_t cap = 0;
    unsigned checked = 0, failed = 0;
    struct scan sc = {0};
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        const char *proto = json_string_value(json_object_get(o, "protocol"));
        if (strcmp(proto, "tls") != 0 && strcmp(proto, "quic") != 0) {
            json_decref(o);
            continue;
        }
        const char *file = json_string_value(json_object_get(o, "file"));
        if (strcmp(file, last) != 0) { /* records of one file are together */
            sc.n = 0;
            snprintf(last, sizeof last, "%s", file);
            snprintf(path, sizeof path, "%s/%s", base, file);
            scan_file(path, &sc);
        }
        const char *cl = json_string_value(json_object_get(o, "client"));
        const char *sv = json_string_value(json_object_get(o, "server"));
        struct result *r = NULL;
        for (size_t i = 0; i < sc.n && !r; i++)
            if (!sc.r[i].used && strcmp(sc.r[i].client, cl) == 0 && strcmp(sc.r[i].server, sv) == 0)
                r = &sc.r[i];
        char why[512] = "";
        if (!r) {
            snprintf(why, sizeof why, "no session");
        } else {
            r->used = 1;
            const mw_expo_session_t *s = &r->s;
            const char *ver = json_string_value(json_object_get(o, "version"));
            const char *sni = json_string_value(json_object_get(o, "sni"));
            const char *kex = json_string_value(json_object_get(o, "kex"));
            json_t *dh = json_object_get(o, "dh_p_bits");
            json_t *nsuites = json_object_get(o, "client_cipher_suites_count");
            json_t *certs = json_object_get(o, "server_certificates");
            const char *cls = json_string_value(json_object_get(o, "classification"));
            if (strcmp(ver ? ver : "", s->version) != 0)
                snprintf(why, sizeof why, "version %s != %s", ver, s->version);
            else if (hexval(o, "selected_group") != s->selected_group)
                snprintf(why, sizeof why, "group %d", s->selected_group);
            else if (hexval(o, "cipher_suite") != s->cipher_suite)
                snprintf(why, sizeof why, "suite %d", s->cipher_suite);
            else if (hexval(o, "hrr_selected_group") != s->hrr_group)
                snprintf(why, sizeof why, "hrr %d", s->hrr_group);
            else if ((json_is_integer(dh) ? json_integer_value(dh) : 0) != s->dh_bits)
                snprintf(why, sizeof why, "dh %d", s->dh_bits);
            else if (strcmp(sni ? sni : "", s->sni) != 0)
                snprintf(why, sizeof why, "sni %s", s->sni);
            else if (!list_equal(json_object_get(o, "client_supported_groups"), s->client_groups,
                                 s->n_client_groups))
                snprintf(why, sizeof why, "client groups");
            else if (!list_equal(json_object_get(o, "client_key_share_groups"),
                                 s->client_key_shares, s->n_client_key_shares))
                snprintf(why, sizeof why, "key shares");
            else if (!list_equal(json_object_get(o, "client_supported_versions"),
                                 s->client_versions, s->n_client_versions))
                snprintf(why, sizeof why, "versions");
            /* tshark counts no suites in an SSLv2-format ClientHello */
            else if (json_is_integer(nsuites) && json_integer_value(nsuites) != 0 &&
                     json_integer_value(nsuites) != s->n_client_suites)
                snprintf(why, sizeof why, "suite count %u", s->n_client_suites);
            else if (json_is_true(json_object_get(o, "client_offered_pq")) !=
                     !!s->client_offered_pq)
                snprintf(why, sizeof why, "offered pq");
            else if (kex && (!strcmp(kex, "RSA") || !strcmp(kex, "DHE") || !strcmp(kex, "ECDHE")) &&
                     strcmp(kex, s->selected_kex) != 0)
                snprintf(why, sizeof why, "kex %s", s->selected_kex);
            else if (strcmp(class_of(cls), mw_expo_class_name(s->cls)) != 0)
                snprintf(why, sizeof why, "class %s (%s)", mw_expo_class_name(s->cls), s->reason);
            else if (json_is_array(certs) && json_array_size(certs) > 0) {
                size_t i;
                json_t *c;
                json_array_foreach(certs, i, c)
                {
                    if (i >= MW_EXPO_MAX_CERTS)
                        break;
                    const char *sig = json_string_value(json_object_get(c, "sig_alg"));
                    /* tshark's name for 1.2.840.113549.1.1.10; OpenSSL's is rsassaPss */
                    if (sig && strcmp(sig, "rsassa-pss") == 0)
                        sig = "rsassaPss";
                    if (i >= s->n_certs || !sig || strcmp(sig, s->certs[i].sig_alg) != 0 ||
                        json_is_true(json_object_get(c, "pq_signature")) !=
                            !!s->certs[i].pq_signature) {
                        snprintf(why, sizeof why, "certificate %zu", i);
                        break;
                    }
                }
            }
        }
        checked++;
        if (why[0]) {
            failed++;
            print_message("MISMATCH %s %s -> %s: %s\n", file, cl, sv, why);
        }
        json_decref(o);
    }
    free(line);
    free(sc.r);
    fclose(f);
    print_message("oracle: %u tls/quic records compared, %u differ\n", checked, failed);
    assert_true(checked >= 90);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracle)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
