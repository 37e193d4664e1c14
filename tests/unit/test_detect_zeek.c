/* Zeek ssl.log / ssh.log reader (src/detect/exposure_zeek.c): every file
 * under $MW_SHARED_DATA/zeek-logs/{tsv,cut,json} is read, and every record
 * of its expected.jsonl must be produced with the same (file, line, phys,
 * uid), class and basis; synthetic logs for pq-only (no Zeek baseline has
 * one), for malformed lines (counted, reported with file:line, the rest
 * read) and for the caps. */
#include <dirent.h>
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

#define MAX_RECS 4096

typedef struct rec {
    char file[160];
    mw_zeek_record_t r;
} rec_t;

typedef struct coll {
    const char *file;
    rec_t *recs;
    size_t n;
} coll_t;

static int collect(void *ctx, const mw_zeek_record_t *r)
{
    coll_t *c = ctx;
    assert_true(c->n < MAX_RECS);
    snprintf(c->recs[c->n].file, sizeof c->recs[c->n].file, "%s", c->file);
    c->recs[c->n].r = *r;
    c->n++;
    return 0;
}

static const char *data_dir(void)
{
    const char *d = getenv("MW_SHARED_DATA");
    return d ? d : MW_SHARED_DATA;
}

/* expected.jsonl basis text -> our basis field. */
static const char *basis_of(const char *b)
{
    if (strncmp(b, "curve ", 6) == 0)
        return "curve";
    if (strncmp(b, "cipher ", 7) == 0)
        return "cipher";
    if (strncmp(b, "kex_alg ", 8) == 0)
        return "kex_alg";
    if (strncmp(b, "SSH-1 ", 6) == 0)
        return "version";
    if (strncmp(b, "version unset", 13) == 0 && strstr(b, "banner"))
        return "banner";
    if (strncmp(b, "no ", 3) == 0)
        return "none";
    return "?";
}

static void test_shared_logs(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/zeek-logs/expected.jsonl", data_dir());
    FILE *ef = fopen(path, "r");
    if (!ef) {
        print_message("SKIP: %s is absent: no Zeek logs to compare with\n", path);
        skip();
    }
    coll_t c = {.recs = calloc(MAX_RECS, sizeof(rec_t))};
    assert_non_null(c.recs);
    static const char *const sub[] = {"tsv", "cut", "json"};
    unsigned files = 0;
    unsigned long bad_total = 0;
    for (int i = 0; i < 3; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/zeek-logs/%s", data_dir(), sub[i]);
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char rel[160], full[1024];
            assert_true(strlen(e->d_name) < 150);
            snprintf(rel, sizeof rel, "%s/%.150s", sub[i], e->d_name);
            snprintf(full, sizeof full, "%.512s/%.256s", dir, e->d_name);
            c.file = rel;
            unsigned long bad = 0;
            assert_int_equal(mw_zeek_read(full, collect, &c, &bad, stderr), 0);
            bad_total += bad;
            files++;
        }
        closedir(d);
    }
    assert_int_equal(bad_total, 0);

    char *line = NULL;
    size_t cap = 0;
    unsigned n = 0, differ = 0;
    unsigned char *used = calloc(c.n, 1);
    while (getline(&line, &cap, ef) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        const char *file = json_string_value(json_object_get(o, "file"));
        unsigned ln = (unsigned)json_integer_value(json_object_get(o, "line"));
        unsigned phys = (unsigned)json_integer_value(json_object_get(o, "phys"));
        const char *log = json_string_value(json_object_get(o, "log"));
        const char *uid = json_string_value(json_object_get(o, "uid"));
        const char *cls = json_string_value(json_object_get(o, "class"));
        const char *basis = basis_of(json_string_value(json_object_get(o, "basis")));
        rec_t *got = NULL;
        for (size_t k = 0; k < c.n; k++)
            if (strcmp(c.recs[k].file, file) == 0 && c.recs[k].r.line == ln) {
                got = &c.recs[k];
                used[k] = 1;
                break;
            }
        if (!got) {
            print_message("%s line %u: no record read\n", file, ln);
            differ++;
        } else if (got->r.phys != phys || strcmp(got->r.log, log) != 0 ||
                   strcmp(got->r.uid, uid ? uid : "") != 0 ||
                   strcmp(mw_expo_class_name(got->r.s.cls), cls) != 0 ||
                   strcmp(got->r.basis, basis) != 0) {
            print_message("%s line %u: got phys %u %s %s %s basis %s (%s), want phys %u %s %s "
                          "%s basis %s\n",
                          file, ln, got->r.phys, got->r.log, got->r.uid,
                          mw_expo_class_name(got->r.s.cls), got->r.basis, got->r.s.reason, phys,
                          log, uid, cls, basis);
            differ++;
        }
        n++;
        json_decref(o);
    }
    for (size_t k = 0; k < c.n; k++)
        if (!used[k]) {
            print_message("%s line %u: record not in expected.jsonl\n", c.recs[k].file,
                          c.recs[k].r.line);
            differ++;
        }
    print_message("zeek: %u files, %zu records read, %u expected, %u differ\n", files, c.n, n,
                  differ);
    free(used);
    free(line);
    fclose(ef);
    free(c.recs);
    assert_int_equal(differ, 0);
    assert_true(n >= 200);
}

static coll_t read_buf(const char *text, unsigned long *bad, FILE *err)
{
    coll_t c = {.file = "mem", .recs = calloc(MAX_RECS, sizeof(rec_t))};
    assert_non_null(c.recs);
    assert_int_equal(mw_zeek_read_buffer("mem.log", text, strlen(text), collect, &c, bad, err), 0);
    return c;
}

static void test_synthetic_classes(void **state)
{
    (void)state;
    /* TSV with a custom unset marker, a pure ML-KEM group, a hybrid by
     * Zeek's old unknown-N name and by number, a TLS 1.3 suite without a
     * group, and an SSH pq-only kex; the second block changes the schema. */
    const char *text = "#separator \\x09\n"
                       "#unset_field\tNONE\n"
                       "#path\tssl\n"
                       "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\t"
                       "cipher\tcurve\n"
                       "1.5\tA\t10.0.0.1\t5000\t2001:db8::1\t443\tTLSv13\tTLS_AES_128_GCM_SHA256"
                       "\tMLKEM768\n"
                       "2.5\tB\t10.0.0.1\t5001\t10.0.0.2\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\t"
                       "unknown-4588\n"
                       "3.5\tC\t10.0.0.1\t5002\t10.0.0.2\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\t"
                       "NONE\n"
                       "4.5\tD\t10.0.0.1\t5003\t10.0.0.2\t443\tTLSv12\t"
                       "TLS_PSK_WITH_AES_128_CBC_SHA\t-\n"
                       "#close\tX\n"
                       "#separator \\x09\n"
                       "#fields\tuid\tversion\tkex_alg\tclient\tserver\n"
                       "E\t2\tmlkem768-sha256\tSSH-2.0-a\tSSH-2.0-b\n"
                       "F\t-\t-\tSSH-2.0-a\tSSH-1.5-b\n";
    unsigned long bad = 9;
    coll_t c = read_buf(text, &bad, NULL);
    assert_int_equal(bad, 0);
    assert_int_equal(c.n, 6);
    mw_zeek_record_t *r = &c.recs[0].r;
    assert_string_equal(r->log, "ssl");
    assert_int_equal(r->s.cls, MW_EXPO_PQ_ONLY);
    assert_int_equal(r->s.selected_group, 0x0201);
    assert_string_equal(r->basis, "curve");
    assert_int_equal(r->line, 0);
    assert_int_equal(r->phys, 5);
    assert_int_equal(r->s.client.family, 4);
    assert_int_equal(r->s.server.family, 6);
    assert_int_equal(r->s.server.port, 443);
    assert_true(r->s.first_ns == 1500000000u);
    assert_string_equal(r->s.version, "TLS 1.3");
    assert_int_equal(c.recs[1].r.s.cls, MW_EXPO_PQ_HYBRID);
    assert_int_equal(c.recs[1].r.s.selected_group, 0x11ec);
    assert_int_equal(c.recs[2].r.s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(c.recs[2].r.basis, "cipher");
    assert_int_equal(c.recs[3].r.s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(c.recs[3].r.s.reason, "pre-shared key"));
    assert_string_equal(c.recs[4].r.log, "ssh");
    assert_int_equal(c.recs[4].r.s.cls, MW_EXPO_PQ_ONLY);
    assert_int_equal(c.recs[4].r.line, 4);
    assert_int_equal(c.recs[5].r.s.cls, MW_EXPO_CLASSICAL);
    assert_string_equal(c.recs[5].r.basis, "banner");
    free(c.recs);

    /* JSON: ISO-8601 ts, nested id, a numeric server_key_share_group. */
    text = "{\"ts\":\"2020-09-16T13:39:18.5Z\",\"uid\":\"G\",\"id\":{\"orig_h\":\"192.0.2.1\","
           "\"orig_p\":1,\"resp_h\":\"192.0.2.2\",\"resp_p\":443},\"version\":\"TLSv13\","
           "\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"server_key_share_group\":4588}\n"
           "{\"uid\":\"H\",\"version\":2,\"kex_alg\":\"sntrup761x25519-sha512\","
           "\"client_key_share_groups\":[29,23]}";
    c = read_buf(text, &bad, NULL);
    assert_int_equal(bad, 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.recs[0].r.s.cls, MW_EXPO_PQ_HYBRID);
    assert_string_equal(c.recs[0].r.basis, "server_key_share_group");
    assert_int_equal(c.recs[0].r.s.server.port, 443);
    assert_true(c.recs[0].r.s.first_ns == 1600263558500000000ull);
    assert_int_equal(c.recs[1].r.s.cls, MW_EXPO_PQ_HYBRID);
    assert_int_equal(c.recs[1].r.phys, 2);
    free(c.recs);
}

static void test_bad_lines(void **state)
{
    (void)state;
    const char *text = "#separator \\x09\n"
                       "#fields\tuid\tversion\tcipher\tcurve\n"
                       "A\tTLSv12\tTLS_RSA_WITH_AES_128_CBC_SHA\t-\n"
                       "B\tTLSv12\tonly three columns\n"
                       "C\tTLSv12\tTLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\tsecp256r1\n"
                       "{\"broken json\n"
                       "[1,2,3]\n"
                       "{\"uid\":\"D\",\"foo\":1}\n"
                       "{\"uid\":\"E\",\"curve\":\"x25519\"}\n";
    char *msg = NULL;
    size_t msglen = 0;
    FILE *err = open_memstream(&msg, &msglen);
    unsigned long bad = 0;
    coll_t c = read_buf(text, &bad, err);
    fclose(err);
    assert_int_equal(bad, 4);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.recs[0].r.uid, "A");
    assert_string_equal(c.recs[1].r.uid, "C");
    assert_int_equal(c.recs[1].r.line, 2);
    assert_string_equal(c.recs[2].r.uid, "E");
    assert_non_null(strstr(msg, "mem.log:4: "));
    assert_non_null(strstr(msg, "mem.log:6: "));
    assert_non_null(strstr(msg, "mem.log:8: "));
    free(msg);
    free(c.recs);

    /* A line over MW_ZEEK_MAX_LINE and one with too many columns are bad;
     * the lines after them are read. */
    size_t big = MW_ZEEK_MAX_LINE + 100;
    char *t = malloc(big + 256);
    strcpy(t, "#fields\tuid\tcurve\n");
    size_t off = strlen(t);
    memset(t + off, 'x', big);
    off += big;
    off += (size_t)sprintf(t + off, "\nZ\tx25519\n");
    t[off] = '\0';
    c = read_buf(t, &bad, NULL);
    assert_int_equal(bad, 1);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.recs[0].r.uid, "Z");
    assert_int_equal(c.recs[0].r.line, 1);
    free(c.recs);
    off = (size_t)sprintf(t, "#fields\tuid\tcurve\n");
    for (int i = 0; i < MW_ZEEK_MAX_FIELDS + 10; i++)
        off += (size_t)sprintf(t + off, "a\t");
    off += (size_t)sprintf(t + off, "\nY\tx25519");
    c = read_buf(t, &bad, NULL);
    assert_int_equal(bad, 1);
    assert_int_equal(c.n, 1);
    free(c.recs);
    free(t);

    /* A separator that unescapes to NUL (found by fuzz_zeek) falls back to
     * TAB instead of splitting past the end of the line. */
    c = read_buf("#separator \\x00\n#fields\tuid\tcurve\nA\tx25519\n"
                 "#separator \\x\n#fields\tuid\tcurve\nB\tx25519\n",
                 &bad, NULL);
    assert_int_equal(bad, 0);
    assert_int_equal(c.n, 2);
    free(c.recs);

    /* No such file. */
    unsigned long b2 = 0;
    assert_int_equal(mw_zeek_read("/nonexistent/ssl.log", collect, NULL, &b2, NULL), MW_EIO);
}

/* Every prefix of a real log body: never a crash, never more records than
 * the whole. */
static int count_cb(void *ctx, const mw_zeek_record_t *r)
{
    (void)r;
    (*(unsigned *)ctx)++;
    return 0;
}

static void test_truncations(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/zeek-logs/tsv/scripts.base.protocols.ssl.tls13__ssl-out.log",
             data_dir());
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        print_message("SKIP: %s is absent\n", path);
        skip();
    }
    char *body = malloc(1 << 20);
    size_t len = fread(body, 1, 1 << 20, fp);
    fclose(fp);
    unsigned whole = 0;
    unsigned long bad;
    assert_int_equal(mw_zeek_read_buffer("x", body, len, count_cb, &whole, &bad, NULL), 0);
    assert_int_equal(whole, 11);
    for (size_t n = 0; n < len; n += 7) {
        unsigned k = 0;
        assert_int_equal(mw_zeek_read_buffer("x", body, n, count_cb, &k, &bad, NULL), 0);
        assert_true(k <= whole);
    }
    free(body);
}

/* The fuzz seed corpus (fuzz/seeds/zeek/) replayed: each file gives its
 * records, without bad lines except in the fuzzer's find. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned records;
    } seeds[] = {{"tsv", 4}, {"cut", 1}, {"json", 3}, {"bad_separator", 2}};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/fuzz/seeds/zeek/%s", MW_SOURCE_DIR, seeds[k].name);
        unsigned n = 0;
        unsigned long bad = 0;
        assert_int_equal(mw_zeek_read(path, count_cb, &n, &bad, NULL), 0);
        if (strcmp(seeds[k].name, "bad_separator") != 0)
            assert_int_equal(bad, 0);
        assert_int_equal(n, seeds[k].records);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_logs), cmocka_unit_test(test_synthetic_classes),
        cmocka_unit_test(test_bad_lines),   cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
