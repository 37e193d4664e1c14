/* SSH handshake parser (src/detect/exposure_ssh.c): hand-built banners and
 * KEXINIT packets (RFC 4253, 4.2, 6 and 7.1), the negotiation against every
 * ssh record of the tshark oracle ($MW_SHARED_DATA/pcaps/oracle.jsonl), and
 * bad input: truncation at every byte, byte-by-byte feeding, oversized
 * packets and name-lists. */
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

static const char *data_dir(void)
{
    const char *d = getenv("MW_SHARED_DATA");
    return d ? d : MW_SHARED_DATA;
}

/* A growable byte buffer for building streams. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *d, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put32(buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void put_str(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* RFC 4253, 6: packet_length, padding_length, payload, padding (>= 4 bytes,
 * total a multiple of 8). */
static void put_packet(buf_t *b, const uint8_t *payload, size_t n)
{
    size_t pad = 8 - ((n + 5) % 8);
    if (pad < 4)
        pad += 8;
    put32(b, (uint32_t)(n + pad + 1));
    uint8_t pl = (uint8_t)pad;
    put(b, &pl, 1);
    put(b, payload, n);
    uint8_t zeros[16] = {0};
    put(b, zeros, pad);
}

/* RFC 4253, 7.1: byte 20, cookie, 10 name-lists, boolean, uint32 0. The kex
 * and host key lists are given; the others get plausible values. */
static void put_kexinit_lists(buf_t *b, const char *kex, const char *hostkey, size_t kexlen)
{
    buf_t pl = {0};
    uint8_t msg = 20;
    put(&pl, &msg, 1);
    uint8_t cookie[16];
    for (int i = 0; i < 16; i++)
        cookie[i] = (uint8_t)(0xa0 + i);
    put(&pl, cookie, 16);
    const char *lists[10] = {
        kex, hostkey, "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none",
        "",  ""};
    for (int i = 0; i < 10; i++) {
        size_t l = i == 0 ? kexlen : strlen(lists[i]);
        put32(&pl, (uint32_t)l);
        put(&pl, lists[i], l);
    }
    uint8_t tail[5] = {0, 0, 0, 0, 0};
    put(&pl, tail, 5);
    put_packet(b, pl.p, pl.len);
    free(pl.p);
}

static void put_kexinit(buf_t *b, const char *kex, const char *hostkey)
{
    put_kexinit_lists(b, kex, hostkey, strlen(kex));
}

typedef struct run {
    mw_expo_session_t s;
    int rc[2];
} run_t;

/* Feeds both streams whole (client first, then server), or byte by byte
 * interleaved when step is 1. */
static void run_streams(run_t *r, const buf_t *c, const buf_t *sv, int step)
{
    mw_ssh_parser_t *p = NULL;
    assert_int_equal(mw_ssh_parser_new(&p), 0);
    mw_expo_session_init(&r->s, MW_EXPO_SSH);
    r->rc[0] = r->rc[1] = 0;
    if (!step) {
        if (c->len)
            r->rc[0] = mw_ssh_parser_feed(p, &r->s, 0, c->p, c->len);
        if (sv->len)
            r->rc[1] = mw_ssh_parser_feed(p, &r->s, 1, sv->p, sv->len);
    } else {
        size_t i = 0, j = 0;
        while (i < c->len || j < sv->len) {
            if (i < c->len && r->rc[0] == 0)
                r->rc[0] = mw_ssh_parser_feed(p, &r->s, 0, c->p + i, 1);
            i++;
            if (j < sv->len && r->rc[1] == 0)
                r->rc[1] = mw_ssh_parser_feed(p, &r->s, 1, sv->p + j, 1);
            j++;
        }
    }
    if (r->rc[0] >= 0 && r->rc[1] >= 0)
        mw_expo_classify(&r->s);
    mw_ssh_parser_free(p);
}

static void build(buf_t *c, buf_t *sv, const char *cban, const char *ckex, const char *chk,
                  const char *sban, const char *skex, const char *shk)
{
    memset(c, 0, sizeof(*c));
    memset(sv, 0, sizeof(*sv));
    put_str(c, cban);
    if (ckex)
        put_kexinit(c, ckex, chk);
    put_str(sv, sban);
    if (skex)
        put_kexinit(sv, skex, shk);
}

static void check_same(const run_t *a, const run_t *b)
{
    assert_string_equal(a->s.version, b->s.version);
    assert_string_equal(a->s.selected_kex, b->s.selected_kex);
    assert_string_equal(a->s.host_key_alg, b->s.host_key_alg);
    assert_string_equal(a->s.client_banner, b->s.client_banner);
    assert_string_equal(a->s.server_banner, b->s.server_banner);
    assert_string_equal(a->s.reason, b->s.reason);
    assert_int_equal(a->s.seen, b->s.seen);
    assert_int_equal(a->s.cls, b->s.cls);
    assert_int_equal(a->s.client_offered_pq, b->s.client_offered_pq);
}

/* Runs one-shot and byte-by-byte, checks they agree, returns one-shot. */
static void run_both(run_t *r, const buf_t *c, const buf_t *sv)
{
    run_t r2;
    run_streams(r, c, sv, 0);
    run_streams(&r2, c, sv, 1);
    check_same(r, &r2);
}

static void test_basic_curve25519(void **state)
{
    (void)state;
    buf_t c, sv;
    build(&c, &sv, "SSH-2.0-OpenSSH_9.6\r\n",
          "curve25519-sha256,ecdh-sha2-nistp256,ext-info-c,kex-strict-c-v00@openssh.com",
          "ssh-ed25519,rsa-sha2-512", "SSH-2.0-OpenSSH_8.2p1 Ubuntu\r\n",
          "ecdh-sha2-nistp256,curve25519-sha256,kex-strict-s-v00@openssh.com",
          "rsa-sha2-512,ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], 1);
    assert_int_equal(r.rc[1], 1);
    assert_string_equal(r.s.version, "SSH-2");
    assert_string_equal(r.s.client_banner, "SSH-2.0-OpenSSH_9.6");
    assert_string_equal(r.s.server_banner, "SSH-2.0-OpenSSH_8.2p1 Ubuntu");
    /* RFC 4253, 7.1: the client's order decides. */
    assert_string_equal(r.s.selected_kex, "curve25519-sha256");
    assert_string_equal(r.s.host_key_alg, "ssh-ed25519");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(r.s.reason, "curve25519-sha256"));
    assert_int_equal(r.s.client_offered_pq, 0);
    assert_int_equal(r.s.proto, MW_EXPO_SSH);
    free(c.p);
    free(sv.p);
}

static void test_pseudo_algorithms_ignored(void **state)
{
    (void)state;
    buf_t c, sv;
    /* Both sides list the pseudo names first: they must not be chosen. */
    build(&c, &sv, "SSH-2.0-c\r\n",
          "ext-info-c,kex-strict-c-v00@openssh.com,kex-strict-s-v00@openssh.com,ext-info-s,"
          "mlkem768x25519-sha256,curve25519-sha256",
          "ssh-ed25519", "SSH-2.0-s\r\n",
          "ext-info-c,ext-info-s,kex-strict-s-v00@openssh.com,kex-strict-c-v00@openssh.com,"
          "curve25519-sha256,mlkem768x25519-sha256",
          "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "mlkem768x25519-sha256");
    assert_int_equal(r.s.cls, MW_EXPO_PQ_HYBRID);
    assert_int_equal(r.s.client_offered_pq, 1);
    assert_string_equal(r.s.reason, "negotiated mlkem768x25519-sha256 (post-quantum hybrid)");
    free(c.p);
    free(sv.p);

    /* Only pseudo names in common: no kex. */
    build(&c, &sv, "SSH-2.0-c\r\n", "ext-info-c,kex-strict-c-v00@openssh.com", "ssh-rsa",
          "SSH-2.0-s\r\n", "ext-info-c,kex-strict-c-v00@openssh.com", "ssh-rsa");
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "");
    assert_string_equal(r.s.host_key_alg, "ssh-rsa");
    assert_int_equal(r.s.cls, MW_EXPO_UNKNOWN);
    free(c.p);
    free(sv.p);
}

static void test_sntrup_offered_not_chosen(void **state)
{
    (void)state;
    buf_t c, sv;
    build(&c, &sv, "SSH-2.0-OpenSSH_9.0\r\n",
          "sntrup761x25519-sha512@openssh.com,curve25519-sha256,diffie-hellman-group18-sha512",
          "ssh-ed25519", "SSH-2.0-OpenSSH_7.4\r\n",
          "diffie-hellman-group18-sha512,curve25519-sha256", "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "curve25519-sha256");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    assert_int_equal(r.s.client_offered_pq, 1);
    free(c.p);
    free(sv.p);

    build(&c, &sv, "SSH-2.0-OpenSSH_9.0\r\n",
          "sntrup761x25519-sha512@openssh.com,curve25519-sha256", "ssh-ed25519",
          "SSH-2.0-OpenSSH_9.0\r\n", "curve25519-sha256,sntrup761x25519-sha512@openssh.com",
          "ssh-ed25519");
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "sntrup761x25519-sha512@openssh.com");
    assert_int_equal(r.s.cls, MW_EXPO_PQ_HYBRID);
    free(c.p);
    free(sv.p);
}

static void test_no_common(void **state)
{
    (void)state;
    buf_t c, sv;
    build(&c, &sv, "SSH-2.0-c\n", "a1,a2,a3", "h1", "SSH-2.0-s\n", "b1,b2", "h2");
    run_t r;
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "");
    assert_string_equal(r.s.host_key_alg, "");
    assert_int_equal(r.s.cls, MW_EXPO_UNKNOWN);
    assert_non_null(strstr(r.s.reason, "no common kex"));
    assert_int_equal(r.s.seen & (MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO),
                     MW_EXPO_SEEN_CLIENT_HELLO | MW_EXPO_SEEN_SERVER_HELLO);
    free(c.p);
    free(sv.p);
}

static void test_ssh199_and_ssh1(void **state)
{
    (void)state;
    buf_t c, sv;
    run_t r;
    /* SSH-1.99 server, SSH-2 client: SSH-2 (RFC 4253, 5.1). */
    build(&c, &sv, "SSH-2.0-Cisco-1.25\r\n", "diffie-hellman-group1-sha1", "ssh-rsa",
          "SSH-1.99-Cisco-1.25\r\n", "diffie-hellman-group1-sha1", "ssh-rsa");
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.version, "SSH-2");
    assert_string_equal(r.s.selected_kex, "diffie-hellman-group1-sha1");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    free(c.p);
    free(sv.p);

    /* SSH-1.5 client, SSH-1.99 server: SSH-1, classical; the SSH-1 binary
     * packets after the banners are not read as SSH-2. */
    build(&c, &sv, "SSH-1.5-OpenSSH_6.2\n", NULL, NULL,
          "SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2\n", NULL, NULL);
    static const char g1[] = "\x00\x00\x01\x0c garbage of an SSH-1 packet";
    static const char g2[] = "\x00\x00\x01\x0c\x00\x00 more SSH-1 bytes";
    put(&c, g1, sizeof g1 - 1);
    put(&sv, g2, sizeof g2 - 1);
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.version, "SSH-1");
    assert_string_equal(r.s.selected_kex, "ssh1-rsa-session-key");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(r.s.reason, "SSH-1"));
    assert_int_equal(r.rc[0], 1);
    assert_int_equal(r.rc[1], 1);
    free(c.p);
    free(sv.p);

    /* A server that speaks only SSH-1.5, client banner not captured. */
    build(&c, &sv, "", NULL, NULL, "SSH-1.5-OpenSSH_6.6\r\n", NULL, NULL);
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.version, "SSH-1");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    assert_non_null(strstr(r.s.reason, "server"));
    free(c.p);
    free(sv.p);

    /* Half duplex: only a 1.99 server banner: SSH-2 but unknown kex. */
    build(&c, &sv, "", NULL, NULL, "SSH-1.99-OpenSSH_6.6.1p1\r\n", NULL, NULL);
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.version, "SSH-2");
    assert_int_equal(r.s.cls, MW_EXPO_UNKNOWN);
    assert_string_equal(r.s.reason, "no KEXINIT seen");
    free(c.p);
    free(sv.p);
}

static void test_pre_banner_lines(void **state)
{
    (void)state;
    buf_t c, sv;
    build(&c, &sv, "SSH-2.0-OpenSSH_9.6\r\n",
          "sntrup761x25519-sha512@openssh.com,curve25519-sha256", "ssh-ed25519", "", NULL, NULL);
    /* RFC 4253, 4.2: the server MAY send other lines first. */
    put_str(&sv, "Welcome to the machine\r\nno SSH- at the start here\r\n\r\n");
    put_str(&sv, "SSH-2.0-OpenSSH_9.3\r\n");
    put_kexinit(&sv, "curve25519-sha256,sntrup761x25519-sha512@openssh.com", "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.server_banner, "SSH-2.0-OpenSSH_9.3");
    assert_string_equal(r.s.selected_kex, "sntrup761x25519-sha512@openssh.com");
    assert_int_equal(r.s.cls, MW_EXPO_PQ_HYBRID);
    free(sv.p);

    /* Capped: too many lines is not SSH. */
    memset(&sv, 0, sizeof(sv));
    for (int i = 0; i < 600; i++)
        put_str(&sv, "line\r\n");
    put_str(&sv, "SSH-2.0-x\r\n");
    run_streams(&r, &c, &sv, 0);
    assert_true(r.rc[1] < 0);
    assert_int_equal(r.s.server_banner[0], '\0');
    free(sv.p);

    /* A line longer than the cap is not SSH either. */
    memset(&sv, 0, sizeof(sv));
    for (int i = 0; i < 2000; i++)
        put_str(&sv, "x");
    run_streams(&r, &c, &sv, 0);
    assert_true(r.rc[1] < 0);
    free(sv.p);
    free(c.p);
}

static void test_client_not_ssh(void **state)
{
    (void)state;
    buf_t c = {0}, sv = {0};
    put_str(&c, "GET / HTTP/1.1\r\n");
    run_t r;
    run_streams(&r, &c, &sv, 0);
    assert_true(r.rc[0] < 0);
    assert_non_null(strstr(r.s.reason, "not SSH"));
    run_streams(&r, &c, &sv, 1);
    assert_true(r.rc[0] < 0);
    free(c.p);
    c = (buf_t){0};
    put_str(&c, "SSH-9.0-future\r\n");
    run_streams(&r, &c, &sv, 0);
    assert_true(r.rc[0] < 0);
    free(c.p);
}

static void test_other_packets_and_newkeys(void **state)
{
    (void)state;
    buf_t c = {0}, sv = {0};
    put_str(&c, "SSH-2.0-c\r\n");
    /* SSH_MSG_IGNORE (2) and SSH_MSG_DEBUG (4) before KEXINIT are skipped. */
    uint8_t ign[] = {2, 0, 0, 0, 3, 'a', 'b', 'c'};
    put_packet(&c, ign, sizeof ign);
    uint8_t dbg[] = {4, 0, 0, 0, 0, 1, 'x', 0, 0, 0, 0};
    put_packet(&c, dbg, sizeof dbg);
    put_kexinit(&c, "curve25519-sha256", "ssh-ed25519");
    put_str(&sv, "SSH-2.0-s\r\n");
    /* NEWKEYS (21) before any KEXINIT: nothing more is in clear. */
    uint8_t nk[] = {21};
    put_packet(&sv, nk, 1);
    put_kexinit(&sv, "curve25519-sha256", "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], 1);
    assert_int_equal(r.rc[1], 1);
    assert_true(r.s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_false(r.s.seen & MW_EXPO_SEEN_SERVER_HELLO);
    assert_string_equal(r.s.reason, "no server KEXINIT seen");
    free(c.p);
    free(sv.p);

    /* padding_length larger than packet_length: malformed. */
    c = (buf_t){0};
    put_str(&c, "SSH-2.0-c\r\n");
    uint8_t bad[] = {0, 0, 0, 12, 200, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    put(&c, bad, sizeof bad);
    sv = (buf_t){0};
    run_streams(&r, &c, &sv, 0);
    assert_true(r.rc[0] < 0);
    free(c.p);
}

/* A 100k-entry name-list makes a packet over MW_SSH_MAX_PACKET: skipped,
 * marked malformed, not buffered; a valid KEXINIT after it is still read. */
static void test_huge_name_list(void **state)
{
    (void)state;
    buf_t names = {0};
    for (int i = 0; i < 100000; i++)
        put_str(&names, i ? ",k" : "k");
    buf_t c = {0}, sv = {0};
    put_str(&c, "SSH-2.0-c\r\n");
    put_kexinit_lists(&c, (const char *)names.p, "ssh-ed25519", names.len);
    put_str(&sv, "SSH-2.0-s\r\n");
    put_kexinit(&sv, "curve25519-sha256", "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], 0);
    assert_false(r.s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_int_equal(r.s.cls, MW_EXPO_UNKNOWN);
    assert_non_null(strstr(r.s.reason, "malformed"));

    put_kexinit(&c, "curve25519-sha256", "ssh-ed25519");
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], 1);
    assert_string_equal(r.s.selected_kex, "curve25519-sha256");
    free(c.p);

    /* 2000 names fit in a packet but exceed MW_SSH_MAX_NAMES: the KEXINIT is
     * dropped whole. */
    names.len = 0;
    for (int i = 0; i < 2000; i++)
        put_str(&names, i ? ",k" : "k");
    c = (buf_t){0};
    put_str(&c, "SSH-2.0-c\r\n");
    put_kexinit_lists(&c, (const char *)names.p, "ssh-ed25519", names.len);
    run_both(&r, &c, &sv);
    assert_false(r.s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    assert_non_null(strstr(r.s.reason, "MW_SSH_MAX_NAMES"));

    /* 1024 names exactly are fine, and the last one can match. */
    names.len = 0;
    for (int i = 0; i < 1023; i++)
        put_str(&names, i ? ",k" : "k");
    put_str(&names, ",curve25519-sha256");
    c.len = 0;
    put_str(&c, "SSH-2.0-c\r\n");
    put_kexinit_lists(&c, (const char *)names.p, "ssh-ed25519", names.len);
    run_both(&r, &c, &sv);
    assert_string_equal(r.s.selected_kex, "curve25519-sha256");
    free(c.p);
    free(sv.p);
    free(names.p);
}

/* Every prefix of both streams: no crash, no negotiation before the last
 * byte of the second KEXINIT, and the same state one-shot and byte-wise. */
static void test_truncations(void **state)
{
    (void)state;
    buf_t c, sv;
    const char *cban = "SSH-2.0-OpenSSH_10.2\r\n", *sban = "Hello\r\nSSH-2.0-OpenSSH_9.9\r\n";
    build(&c, &sv, cban, "mlkem768x25519-sha256,curve25519-sha256", "ssh-ed25519", sban,
          "mlkem768x25519-sha256", "ssh-ed25519,rsa-sha2-256");
    /* The KEXINIT is whole before its padding (RFC 4253, 6). */
    size_t c_end = c.len - c.p[strlen(cban) + 4], s_end = sv.len - sv.p[strlen(sban) + 4];
    for (size_t n = 0; n <= sv.len; n++) {
        buf_t t = {sv.p, n, n};
        run_t r;
        run_both(&r, &c, &t);
        if (n < s_end) {
            assert_string_equal(r.s.selected_kex, "");
            assert_int_equal(r.s.cls, MW_EXPO_UNKNOWN);
        } else {
            assert_int_equal(r.s.cls, MW_EXPO_PQ_HYBRID);
        }
    }
    for (size_t n = 0; n <= c.len; n++) {
        buf_t t = {c.p, n, n};
        run_t r;
        run_both(&r, &t, &sv);
        assert_int_equal(r.s.cls, n < c_end ? MW_EXPO_UNKNOWN : MW_EXPO_PQ_HYBRID);
    }
    /* Each byte of the client KEXINIT corrupted in turn: never a crash. */
    for (size_t n = 0; n < c.len; n++) {
        uint8_t old = c.p[n];
        c.p[n] ^= 0xff;
        run_t r;
        run_both(&r, &c, &sv);
        c.p[n] = old;
    }
    free(c.p);
    free(sv.p);
}

/* The oracle's ssh records: the lists tshark saw, rebuilt as KEXINITs; the
 * parser's negotiation must give tshark's selected_kex and host key
 * algorithm (RFC 4253, 7.1), and the class. */
static void join_list(buf_t *b, json_t *arr)
{
    size_t i;
    json_t *v;
    b->len = 0;
    json_array_foreach(arr, i, v)
    {
        if (i)
            put_str(b, ",");
        put_str(b, json_string_value(v));
    }
    put(b, "", 1);
}

static void test_oracle(void **state)
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
    unsigned checked = 0, ssh1 = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        if (strcmp(json_string_value(json_object_get(o, "protocol")), "ssh") != 0) {
            json_decref(o);
            continue;
        }
        const char *cb = json_string_value(json_object_get(o, "client_banner"));
        const char *sb = json_string_value(json_object_get(o, "server_banner"));
        json_t *ck = json_object_get(o, "client_kex_algorithms");
        json_t *skx = json_object_get(o, "server_kex_algorithms");
        json_t *ch = json_object_get(o, "client_host_key_algorithms");
        json_t *sh = json_object_get(o, "server_host_key_algorithms");
        const char *want_kex = json_string_value(json_object_get(o, "selected_kex"));
        const char *want_hk = json_string_value(json_object_get(o, "selected_host_key_algorithm"));
        const char *want_cls = json_string_value(json_object_get(o, "classification"));
        const char *want_ver = json_string_value(json_object_get(o, "version"));
        buf_t c = {0}, sv = {0}, l1 = {0}, l2 = {0};
        int full = json_is_array(ck) && json_is_array(skx) && json_is_array(ch) &&
                   json_is_array(sh) && cb && sb;
        int is1 = want_ver && strcmp(want_ver, "SSH-1") == 0;
        if (full || (is1 && cb && sb)) {
            put_str(&c, cb);
            put_str(&c, "\r\n");
            put_str(&sv, sb);
            put_str(&sv, "\r\n");
            if (full) {
                join_list(&l1, ck);
                join_list(&l2, ch);
                put_kexinit(&c, (char *)l1.p, (char *)l2.p);
                join_list(&l1, skx);
                join_list(&l2, sh);
                put_kexinit(&sv, (char *)l1.p, (char *)l2.p);
            }
            run_t r;
            run_both(&r, &c, &sv);
            assert_string_equal(r.s.version, want_ver);
            assert_string_equal(r.s.selected_kex, want_kex ? want_kex : "");
            if (!is1)
                assert_string_equal(r.s.host_key_alg, want_hk ? want_hk : "");
            assert_string_equal(mw_expo_class_name(r.s.cls), want_cls);
            checked++;
            ssh1 += is1;
        }
        free(c.p);
        free(sv.p);
        free(l1.p);
        free(l2.p);
        json_decref(o);
    }
    free(line);
    fclose(fp);
    print_message("oracle: %u ssh records compared (%u SSH-1)\n", checked, ssh1);
    assert_true(checked >= 40);
}

/* ------------------------------------------------------------------ */
/* The shared captures, through the capture layer                      */
/* ------------------------------------------------------------------ */

#define MAX_FLOWS_SEEN 256

typedef struct flow_st {
    mw_ssh_parser_t *p;
    mw_expo_session_t s;
    int rc[2];
} flow_st_t;

typedef struct cap_res {
    char client[MW_ENDPOINT_STRLEN], server[MW_ENDPOINT_STRLEN];
    mw_expo_session_t s;
    int used;
} cap_res_t;

typedef struct cap_ctx {
    cap_res_t res[MAX_FLOWS_SEEN];
    unsigned n;
} cap_ctx_t;

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *d, size_t len, uint64_t ts)
{
    (void)ctx;
    (void)ts;
    flow_st_t *st = f->user;
    if (!st) {
        st = calloc(1, sizeof *st);
        assert_non_null(st);
        assert_int_equal(mw_ssh_parser_new(&st->p), 0);
        mw_expo_session_init(&st->s, MW_EXPO_SSH);
        f->user = st;
    }
    if (st->rc[dir] == 0)
        st->rc[dir] = mw_ssh_parser_feed(st->p, &st->s, dir, d, len);
    return st->rc[dir] == 0 ? 0 : 1;
}

static void on_end(void *ctx, mw_flow_t *f)
{
    cap_ctx_t *c = ctx;
    flow_st_t *st = f->user;
    if (!st)
        return;
    /* Flows without an SSH banner are dropped; the others are kept with
     * their session (also when the parser gave up later: the session stays
     * usable for what was seen). */
    if ((st->s.client_banner[0] || st->s.server_banner[0]) && c->n < MAX_FLOWS_SEEN) {
        cap_res_t *r = &c->res[c->n++];
        mw_expo_classify(&st->s);
        mw_endpoint_format(&f->client, r->client, sizeof r->client);
        mw_endpoint_format(&f->server, r->server, sizeof r->server);
        r->s = st->s;
        r->used = 0;
    }
    mw_ssh_parser_free(st->p);
    free(st);
    f->user = NULL;
}

/* Every ssh record of oracle.jsonl: the capture is read with mw_pcap, each
 * TCP flow fed to the SSH parser, and the session of the record's endpoints
 * must have tshark's version, selected kex and host key algorithm, and
 * class. Where the oracle carries a cross_check (tshark could not read the
 * server KEXINIT), its classification_if_visible is what we must give. */
static void test_captures(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/pcaps/oracle.jsonl", data_dir());
    FILE *fp = fopen(path, "r");
    if (!fp) {
        print_message("SKIP: %s is absent: no captures to compare with\n", path);
        skip();
    }
    cap_ctx_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    char cur[256] = "";
    char *line = NULL;
    size_t cap = 0;
    unsigned n = 0, differ = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        if (strcmp(json_string_value(json_object_get(o, "protocol")), "ssh") != 0) {
            json_decref(o);
            continue;
        }
        const char *file = json_string_value(json_object_get(o, "file"));
        if (strcmp(file, cur) != 0) {
            snprintf(cur, sizeof cur, "%s", file);
            c->n = 0;
            char pc[768];
            snprintf(pc, sizeof pc, "%s/pcaps/%s", data_dir(), file);
            mw_flow_sink_t sink = {.ctx = c, .tcp_data = on_tcp, .flow_end = on_end};
            mw_pcap_t *pc_h = NULL;
            char err[256];
            assert_int_equal(mw_pcap_open_file(pc, &sink, 0, &pc_h, err, sizeof err), 0);
            while (mw_pcap_run(pc_h, 0, 0) > 0)
                ;
            mw_pcap_free(pc_h);
        }
        const char *cl = json_string_value(json_object_get(o, "client"));
        const char *sv = json_string_value(json_object_get(o, "server"));
        cap_res_t *r = NULL;
        for (unsigned k = 0; k < c->n; k++)
            if (!c->res[k].used && strcmp(c->res[k].client, cl) == 0 &&
                strcmp(c->res[k].server, sv) == 0) {
                r = &c->res[k];
                r->used = 1;
                break;
            }
        const char *want_cls = json_string_value(json_object_get(o, "classification"));
        json_t *xc = json_object_get(o, "cross_check");
        if (json_is_object(xc))
            want_cls = json_string_value(json_object_get(xc, "classification_if_visible"));
        const char *want_kex = json_string_value(json_object_get(o, "selected_kex"));
        const char *want_hk = json_string_value(json_object_get(o, "selected_host_key_algorithm"));
        const char *want_ver = json_string_value(json_object_get(o, "version"));
        n++;
        if (!r) {
            print_message("%s %s -> %s: no SSH session found\n", file, cl, sv);
            differ++;
        } else if (strcmp(mw_expo_class_name(r->s.cls), want_cls) != 0 ||
                   (want_ver && strcmp(r->s.version, want_ver) != 0) ||
                   (!json_is_object(xc) &&
                    (strcmp(r->s.selected_kex, want_kex ? want_kex : "") != 0 ||
                     strcmp(r->s.host_key_alg, want_hk ? want_hk : "") != 0))) {
            print_message("%s %s -> %s: got %s %s kex '%s' hk '%s' (%s); oracle %s %s kex '%s' hk "
                          "'%s'\n",
                          file, cl, sv, mw_expo_class_name(r->s.cls), r->s.version,
                          r->s.selected_kex, r->s.host_key_alg, r->s.reason, want_cls,
                          want_ver ? want_ver : "-", want_kex ? want_kex : "",
                          want_hk ? want_hk : "");
            differ++;
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    free(c);
    print_message("captures: %u ssh records of oracle.jsonl compared, %u differ\n", n, differ);
    assert_int_equal(differ, 0);
}

/* The fuzz seed corpus (fuzz/seeds/ssh/, fuzz_ssh's chunk format: one byte
 * = direction bit + length << 1, then the bytes) replayed: the seeds must
 * parse to what they were built for. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    static const struct {
        const char *name, *kex;
        mw_expo_class_t cls;
    } seeds[] = {
        {"mlkem", "mlkem768x25519-sha256", MW_EXPO_PQ_HYBRID},
        {"prebanner_ignore", "diffie-hellman-group14-sha1", MW_EXPO_CLASSICAL},
        {"ssh1", "ssh1-rsa-session-key", MW_EXPO_CLASSICAL},
        {"nocommon", "", MW_EXPO_UNKNOWN},
    };
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/fuzz/seeds/ssh/%s", MW_SOURCE_DIR, seeds[k].name);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        uint8_t data[8192];
        size_t size = fread(data, 1, sizeof data, fp);
        fclose(fp);
        mw_ssh_parser_t *p = NULL;
        assert_int_equal(mw_ssh_parser_new(&p), 0);
        mw_expo_session_t s;
        mw_expo_session_init(&s, MW_EXPO_SSH);
        int rc[2] = {0, 0};
        for (size_t i = 0; i < size;) {
            int dir = data[i] & 1;
            size_t n = data[i] >> 1;
            i++;
            if (n > size - i)
                n = size - i;
            if (rc[dir] == 0)
                rc[dir] = mw_ssh_parser_feed(p, &s, dir, data + i, n);
            i += n;
        }
        mw_expo_classify(&s);
        assert_string_equal(s.selected_kex, seeds[k].kex);
        assert_int_equal(s.cls, seeds[k].cls);
        mw_ssh_parser_free(p);
    }
}

/* Lengths that lie: a name-list longer than its packet drops that KEXINIT
 * (the packet is skipped by its own length, the next KEXINIT is read); a
 * packet_length of 1 MiB or more ends the direction with MW_ETOOBIG. */
static void test_lying_lengths(void **state)
{
    (void)state;
    buf_t c = {0}, sv = {0};
    put_str(&c, "SSH-2.0-c\r\n");
    buf_t pl = {0};
    uint8_t msg = 20, cookie[16] = {0};
    put(&pl, &msg, 1);
    put(&pl, cookie, 16);
    put32(&pl, 5000); /* kex list "longer" than the packet */
    put_str(&pl, "curve25519-sha256");
    put_packet(&c, pl.p, pl.len);
    free(pl.p);
    put_kexinit(&c, "curve25519-sha256", "ssh-ed25519");
    put_str(&sv, "SSH-2.0-s\r\n");
    put_kexinit(&sv, "curve25519-sha256", "ssh-ed25519");
    run_t r;
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], 1);
    assert_string_equal(r.s.selected_kex, "curve25519-sha256");
    assert_int_equal(r.s.cls, MW_EXPO_CLASSICAL);
    free(c.p);

    c = (buf_t){0};
    put_str(&c, "SSH-2.0-c\r\n");
    put32(&c, 1u << 20);
    put_str(&c, "\x04\x14 whatever follows");
    run_both(&r, &c, &sv);
    assert_int_equal(r.rc[0], MW_ETOOBIG);
    assert_false(r.s.seen & MW_EXPO_SEEN_CLIENT_HELLO);
    free(c.p);
    free(sv.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_curve25519),
        cmocka_unit_test(test_pseudo_algorithms_ignored),
        cmocka_unit_test(test_sntrup_offered_not_chosen),
        cmocka_unit_test(test_no_common),
        cmocka_unit_test(test_ssh199_and_ssh1),
        cmocka_unit_test(test_pre_banner_lines),
        cmocka_unit_test(test_client_not_ssh),
        cmocka_unit_test(test_other_packets_and_newkeys),
        cmocka_unit_test(test_huge_name_list),
        cmocka_unit_test(test_lying_lengths),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_oracle),
        cmocka_unit_test(test_captures),
        cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
