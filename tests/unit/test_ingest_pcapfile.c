/* Unit tests for the classic pcap record reader (src/ingest/pcap_file.c):
 * every file is read twice, by our reader (mw_pcap_file_fast = 1) and by
 * libpcap alone (0), and both runs must agree on everything the capture
 * layer reports: the run's return value, libpcap's error text, every
 * counter, and every sink callback (flow id, direction, bytes, time stamp).
 * Inputs: synthetic files built here (both byte orders, micro- and
 * nanosecond stamps, negative and out-of-range stamps, records over the
 * snapshot length or over 262144 bytes, version 2.3, snaplen 0, a file of
 * several MB whose records straddle the 1 MiB read window, SLL in the other
 * byte order), each also cut at every length over its first 200 bytes and
 * at spread points, and every capture under $MW_SHARED_DATA/pcaps, whole and
 * cut at 16 points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/pcap_int.h"
#include "mwrasp/exposure.h"

/* ---- a digest of everything the sink sees ---- */

struct dig {
    uint64_t h;
    uint64_t calls;
};

static void mix(struct dig *d, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3u;
}

static void mix_u64(struct dig *d, uint64_t v)
{
    mix(d, &v, sizeof v);
}

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len, uint64_t ts)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 1);
    mix_u64(d, f->id);
    mix_u64(d, (uint64_t)dir);
    mix_u64(d, ts);
    mix(d, data, len);
    return 0;
}

static void on_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 2);
    mix_u64(d, f->id);
    mix_u64(d, (uint64_t)dir);
    mix_u64(d, missing);
}

static void on_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len, uint64_t ts)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 3);
    mix_u64(d, f->id);
    mix_u64(d, (uint64_t)dir);
    mix_u64(d, ts);
    mix(d, data, len);
}

static void on_end(void *ctx, mw_flow_t *f)
{
    struct dig *d = ctx;
    d->calls++;
    mix_u64(d, 4);
    mix_u64(d, f->id);
    mix_u64(d, f->bytes[0]);
    mix_u64(d, f->bytes[1]);
    mix_u64(d, f->first_ns);
    mix_u64(d, f->last_ns);
}

struct outcome {
    int open_rc;
    char open_err[512];
    long run_rc;
    char run_err[PCAP_ERRBUF_SIZE + 256];
    mw_pcap_stats_t st;
    struct dig d;
    int fast_used; /* our reader was set up at open */
};

/* Reads path in runs of `chunk` packets (0: one run) and flushes. */
static void read_file(const char *path, int fast, long chunk, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->d.h = 0xcbf29ce484222325u;
    mw_pcap_file_fast = fast;
    mw_flow_sink_t s = {.ctx = &o->d,
                        .tcp_data = on_tcp,
                        .tcp_gap = on_gap,
                        .udp_data = on_udp,
                        .flow_end = on_end};
    mw_pcap_t *p = NULL;
    o->open_rc = mw_pcap_open_file(path, &s, 64, &p, o->open_err, sizeof o->open_err);
    mw_pcap_file_fast = 1;
    if (o->open_rc != MW_OK) {
        assert_null(p);
        return;
    }
    o->fast_used = p->fast != NULL;
    for (;;) {
        long r = mw_pcap_run(p, chunk, 0);
        if (r <= 0 || chunk <= 0) {
            o->run_rc = r;
            break;
        }
        o->run_rc += r;
    }
    snprintf(o->run_err, sizeof o->run_err, "%s", mw_pcap_error(p));
    mw_pcap_flush(p);
    o->st = *mw_pcap_stats(p);
    mw_pcap_free(p);
}

static int n_fast_used;

/* Both readers on one file; every field must agree. */
static void compare(const char *path, const char *what)
{
    struct outcome a, b;
    for (long chunk = 0; chunk <= 7; chunk += 7) {
        read_file(path, 1, chunk, &a);
        read_file(path, 0, chunk, &b);
        if (a.open_rc != b.open_rc || strcmp(a.open_err, b.open_err) != 0)
            fail_msg("%s: open %d '%s' vs libpcap %d '%s'", what, a.open_rc, a.open_err, b.open_rc,
                     b.open_err);
        if (a.open_rc != MW_OK)
            return;
        assert_false(b.fast_used);
        n_fast_used += a.fast_used;
        if (a.run_rc != b.run_rc || strcmp(a.run_err, b.run_err) != 0)
            fail_msg("%s (chunk %ld): run %ld '%s' vs libpcap %ld '%s'", what, chunk, a.run_rc,
                     a.run_err, b.run_rc, b.run_err);
        if (memcmp(&a.st, &b.st, sizeof a.st) != 0) {
            const uint64_t *x = (const uint64_t *)&a.st, *y = (const uint64_t *)&b.st;
            size_t k = 0;
            while (k < sizeof a.st / 8 && x[k] == y[k])
                k++;
            fail_msg("%s (chunk %ld): counter %zu of mw_pcap_stats_t differs: %llu vs %llu", what,
                     chunk, k, (unsigned long long)x[k], (unsigned long long)y[k]);
        }
        if (a.d.h != b.d.h || a.d.calls != b.d.calls)
            fail_msg("%s (chunk %ld): sink callbacks differ (%llu vs %llu calls)", what, chunk,
                     (unsigned long long)a.d.calls, (unsigned long long)b.d.calls);
    }
}

static const char *tmpdir(void)
{
    const char *t = getenv("MW_TEST_TMP");
    if (!t)
        t = "/tmp";
    mkdir(t, 0755);
    return t;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The file itself and cuts: every length up to 200 bytes, then spread. */
static void compare_cuts(const char *path, const uint8_t *b, size_t n, const char *what, int all)
{
    char cut[600], label[700];
    snprintf(cut, sizeof cut, "%s.cut", path);
    write_file(cut, b, n);
    compare(cut, what);
    size_t spread = n / 13 + 1;
    for (size_t at = 0; at < n; at += all && at < 200 ? 1 : spread) {
        write_file(cut, b, at);
        snprintf(label, sizeof label, "%s cut at %zu", what, at);
        compare(cut, label);
    }
    unlink(cut);
}

/* ---- synthetic classic pcap files (draft-ietf-opsawg-pcap 4 and 5) ---- */

struct buf {
    uint8_t *b;
    size_t n, cap;
};

static void put(struct buf *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 1024;
        o->b = realloc(o->b, o->cap);
        assert_non_null(o->b);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(struct buf *o, uint32_t v, int swap)
{
    if (swap)
        v = __builtin_bswap32(v);
    put(o, &v, 4);
}

static void put16(struct buf *o, uint16_t v, int swap)
{
    if (swap)
        v = __builtin_bswap16(v);
    put(o, &v, 2);
}

static void file_header(struct buf *o, uint32_t magic, int swap, uint16_t minor, uint32_t snap,
                        uint32_t lt)
{
    put32(o, magic, swap);
    put16(o, 2, swap);
    put16(o, minor, swap);
    put32(o, 0, swap);
    put32(o, 0, swap);
    put32(o, snap, swap);
    put32(o, lt, swap);
}

/* Ethernet + IPv4 + TCP (or UDP) from 10.0.0.1:40000 to 10.0.0.2:443,
 * `plen` payload bytes; the frame is cut to `cap` bytes if smaller. */
static void record(struct buf *o, int swap, uint32_t sec, uint32_t frac, uint32_t seq, int udp,
                   size_t plen, size_t cap_override)
{
    uint8_t f[14 + 20 + 20];
    size_t l4 = udp ? 8 : 20;
    size_t hl = 14 + 20 + l4;
    size_t ipl = 20 + l4 + plen;
    memset(f, 0, sizeof f);
    f[12] = 0x08; /* EtherType IPv4 */
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ipl >> 8);
    ip[3] = (uint8_t)ipl;
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    ip[12] = 10, ip[15] = 1;
    ip[16] = 10, ip[19] = 2;
    uint8_t *t = ip + 20;
    t[0] = 40000 >> 8, t[1] = 40000 & 0xff, t[2] = 1, t[3] = 0xbb;
    if (udp) {
        t[4] = (uint8_t)((8 + plen) >> 8);
        t[5] = (uint8_t)(8 + plen);
    } else {
        t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
        t[7] = (uint8_t)seq;
        t[12] = 0x50;
        t[13] = 0x18; /* PSH ACK */
    }
    size_t wire = hl + plen;
    size_t cap = cap_override ? cap_override : wire;
    put32(o, sec, swap);
    put32(o, frac, swap);
    put32(o, (uint32_t)cap, swap);
    put32(o, (uint32_t)wire, swap);
    size_t from_frame = cap < hl ? cap : hl;
    put(o, f, from_frame);
    for (size_t i = from_frame; i < cap; i++) {
        uint8_t c = (uint8_t)('a' + (seq + i) % 26);
        put(o, &c, 1);
    }
}

static void test_synthetic(void **state)
{
    (void)state;
    char path[512], what[128];
    snprintf(path, sizeof path, "%s/pcapfile_%d.pcap", tmpdir(), (int)getpid());
    const uint32_t magics[2] = {0xa1b2c3d4u, 0xa1b23c4du};
    n_fast_used = 0;
    for (int swap = 0; swap < 2; swap++) {
        for (int m = 0; m < 2; m++) {
            struct buf o = {0};
            file_header(&o, magics[m], swap, 4, 65535, 1);
            uint32_t seq = 1000;
            record(&o, swap, 1700000000, 5, seq, 0, 100, 0);
            seq += 100;
            record(&o, swap, 0xffffffffu, 999999, seq, 0, 10, 0); /* negative second */
            seq += 10;
            record(&o, swap, 1700000001, 0x80000000u, seq, 0, 0, 0); /* negative fraction */
            record(&o, swap, 1700000002, 2000000000u, seq, 1, 33, 0); /* fraction > 1 s */
            record(&o, swap, 1700000003, 7, seq, 0, 1400, 60); /* cut by the snaplen */
            seq += 1400;
            record(&o, swap, 1700000004, 8, seq, 0, 5, 0);
            snprintf(what, sizeof what, "synthetic swap=%d magic=%08x", swap, magics[m]);
            compare_cuts(path, o.b, o.n, what, 1);
            free(o.b);
        }
    }
    assert_true(n_fast_used > 0);

    /* a record longer than the file's snaplen (libpcap reads snaplen bytes and
     * discards the rest), then more records */
    struct buf o = {0};
    file_header(&o, magics[0], 0, 4, 80, 1);
    record(&o, 0, 1, 1, 1, 0, 20, 0);
    record(&o, 0, 2, 2, 21, 0, 200, 0); /* 254 bytes > 80 */
    record(&o, 0, 3, 3, 221, 0, 10, 0);
    compare_cuts(path, o.b, o.n, "caplen > snaplen", 1);
    free(o.b);

    /* a captured length over 262144 (libpcap: an error) */
    o = (struct buf){0};
    file_header(&o, magics[1], 1, 4, 0x7fffffff, 1);
    record(&o, 1, 1, 1, 1, 0, 20, 0);
    put32(&o, 2, 1);
    put32(&o, 2, 1);
    put32(&o, 300000, 1);
    put32(&o, 300000, 1);
    compare_cuts(path, o.b, o.n, "caplen > 262144", 1);
    free(o.b);

    /* version 2.3, snaplen 0, SLL in the other byte order: libpcap's own way */
    o = (struct buf){0};
    file_header(&o, magics[0], 0, 3, 65535, 1);
    record(&o, 0, 1, 1, 1, 0, 20, 0);
    compare_cuts(path, o.b, o.n, "version 2.3", 0);
    free(o.b);
    o = (struct buf){0};
    file_header(&o, magics[0], 0, 4, 0, 1);
    record(&o, 0, 1, 1, 1, 0, 20, 0);
    compare_cuts(path, o.b, o.n, "snaplen 0", 0);
    free(o.b);
    o = (struct buf){0};
    file_header(&o, magics[0], 1, 4, 65535, 113);
    record(&o, 1, 1, 1, 1, 0, 20, 0);
    compare_cuts(path, o.b, o.n, "swapped SLL", 0);
    free(o.b);

    /* several MB: records straddle the read window, jumbo records too */
    o = (struct buf){0};
    file_header(&o, magics[1], 0, 4, 262144, 1);
    uint32_t seq = 1;
    for (int i = 0; i < 4000; i++) {
        size_t plen = i % 97 == 0 ? 60000 : (size_t)(i * 37) % 1460;
        record(&o, 0, 1700000000u + (uint32_t)i / 100, (uint32_t)i * 1000, seq, i % 13 == 0, plen,
               0);
        if (i % 13)
            seq += (uint32_t)plen;
    }
    assert_true(o.n > 3u << 20);
    compare_cuts(path, o.b, o.n, "large", 0);
    free(o.b);
    unlink(path);
}

/* ---- the shared captures ---- */

static void walk(const char *base, const char *rel, char ***files, int *n)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", base, rel);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[512], full[2048];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            (int)sizeof sub)
            continue;
        snprintf(full, sizeof full, "%s/%s", base, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(base, sub, files, n);
        } else if (strstr(de->d_name, ".pcap")) {
            *files = realloc(*files, sizeof **files * (size_t)(*n + 1));
            assert_non_null(*files);
            (*files)[(*n)++] = strdup(full);
        }
    }
    closedir(d);
}

static void test_shared_captures(void **state)
{
    (void)state;
    const char *sd = getenv("MW_SHARED_DATA");
    char base[1024], path[512];
    snprintf(base, sizeof base, "%s/pcaps", sd ? sd : MW_SHARED_DATA);
    char **files = NULL;
    int nf = 0;
    walk(base, "", &files, &nf);
    if (nf == 0) {
        print_message("SKIP: no captures under %s\n", base);
        skip();
    }
    snprintf(path, sizeof path, "%s/pcapfile_shared_%d.pcap", tmpdir(), (int)getpid());
    n_fast_used = 0;
    for (int i = 0; i < nf; i++) {
        FILE *f = fopen(files[i], "rb");
        assert_non_null(f);
        struct stat st;
        assert_int_equal(fstat(fileno(f), &st), 0);
        size_t n = (size_t)st.st_size;
        uint8_t *b = malloc(n + 1);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, n, f), n);
        fclose(f);
        compare(files[i], files[i]);
        compare_cuts(path, b, n, files[i], 0);
        free(b);
        free(files[i]);
    }
    free(files);
    print_message("%d captures, whole and cut: our reader used %d times, same as libpcap\n", nf,
                  n_fast_used);
    assert_true(n_fast_used > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic),
        cmocka_unit_test(test_shared_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
