/* The quantum-exposure scanner (exposure.h section 4): a mw_flow_sink_t that
 * finds the TLS, QUIC and SSH handshakes of each flow, classifies them
 * (mw_expo_classify), counts the bytes that follow a classical handshake and
 * keeps a per-service aggregate. Writers are in exposure_write.c.
 *
 * Protocol detection never looks at ports (docs/internals/exposure.md,
 * "Scanner"): a TCP flow runs the TLS and SSH parsers side by side on the
 * bytes of both directions until one of them refuses; the first bytes of a
 * direction settle it early ("SSH-" is SSH, RFC 4253 4.2; a TLS record
 * header 16 03 xx is TLS, RFC 8446 5.1; an SSL 2.0 record header is TLS,
 * RFC 6101 E.2). A UDP flow is QUIC when its first datagram is a long-header
 * packet the QUIC parser accepts (RFC 9000 17.2). */
#include <stdlib.h>
#include <string.h>

#include "detect/exposure_scan_internal.h"

/* Per-flow state (flow->user). */
enum { CAND_TLS = 0, CAND_SSH = 1, CAND_QUIC = 2, NCAND = 3 };

struct cand {
    int alive; /* still a possible protocol of this flow */
    int rc[2]; /* last return of the parser per direction: 0 go on, 1 done, < 0 refused */
    mw_expo_session_t s;
    union {
        mw_tls_parser_t *tls;
        mw_ssh_parser_t *ssh;
        mw_quic_parser_t *quic;
    } p;
};

struct flowst {
    struct cand *c[NCAND]; /* allocated while alive */
    int none; /* no candidate left: not TLS, QUIC or SSH */
    int started[2]; /* a direction's first bytes were seen */
    int hs_mark; /* hs_end was set */
    uint64_t hs_end[2]; /* flow->bytes[] when the server's handshake part was done */
};

static void cand_free(struct cand *c, int kind)
{
    if (!c)
        return;
    if (kind == CAND_TLS)
        mw_tls_parser_free(c->p.tls);
    else if (kind == CAND_SSH)
        mw_ssh_parser_free(c->p.ssh);
    else
        mw_quic_parser_free(c->p.quic);
    free(c);
}

static struct cand *cand_new(int kind)
{
    struct cand *c = calloc(1, sizeof *c);
    int rc;
    if (!c)
        return NULL;
    c->alive = 1;
    if (kind == CAND_TLS) {
        mw_expo_session_init(&c->s, MW_EXPO_TLS);
        rc = mw_tls_parser_new(&c->p.tls);
    } else if (kind == CAND_SSH) {
        mw_expo_session_init(&c->s, MW_EXPO_SSH);
        rc = mw_ssh_parser_new(&c->p.ssh);
    } else {
        mw_expo_session_init(&c->s, MW_EXPO_QUIC);
        rc = mw_quic_parser_new(&c->p.quic);
    }
    if (rc != MW_OK) {
        free(c);
        return NULL;
    }
    return c;
}

static void kill_cand(mw_expo_scan_t *sc, struct flowst *st, int kind)
{
    struct cand *c = st->c[kind];
    if (!c)
        return;
    if (kind == CAND_TLS)
        sc->st.tls_malformed += mw_tls_parser_malformed(c->p.tls);
    else if (kind == CAND_QUIC)
        sc->st.quic_malformed += mw_quic_parser_malformed(c->p.quic);
    cand_free(c, kind);
    st->c[kind] = NULL;
}

static void flowst_free(struct flowst *st)
{
    if (!st)
        return;
    for (int k = 0; k < NCAND; k++)
        cand_free(st->c[k], k);
    free(st);
}

static struct flowst *flowst_get(mw_flow_t *f, int udp)
{
    struct flowst *st = f->user;
    if (st)
        return st;
    st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (udp) {
        st->c[CAND_QUIC] = cand_new(CAND_QUIC);
        if (!st->c[CAND_QUIC])
            goto fail;
    } /* TCP: the candidates come with the first bytes (on_tcp) */
    f->user = st;
    return st;
fail:
    flowst_free(st);
    return NULL;
}

/* What the first bytes of a direction say: RFC 4253 4.2 identification
 * string, RFC 8446 5.1 / RFC 5246 6.2.1 record header (handshake, alert or
 * change_cipher_spec of SSL 3.0 .. TLS 1.3), RFC 6101 E.2 SSL 2.0 two-byte
 * header with CLIENT-HELLO (1) or SERVER-HELLO (4). -1: undecided. */
static int sniff(const uint8_t *d, size_t n)
{
    if (n >= 4 && memcmp(d, "SSH-", 4) == 0)
        return CAND_SSH;
    if (n >= 3 && (d[0] == 0x16 || d[0] == 0x15) && d[1] == 0x03 && d[2] <= 0x04)
        return CAND_TLS;
    if (n >= 3 && (d[0] & 0x80) && (d[2] == 1 || d[2] == 4))
        return CAND_TLS;
    return -1;
}

static void mark_handshake_end(struct flowst *st, const mw_flow_t *f)
{
    st->hs_mark = 1;
    st->hs_end[0] = f->bytes[0];
    st->hs_end[1] = f->bytes[1];
}

/* After a feed: the server's handshake part (hello seen, or its parser done)
 * sets where exposed bytes start. */
static void after_feed(struct flowst *st, const mw_flow_t *f, struct cand *c, int dir, int rc,
                       unsigned seen_before)
{
    if (!(seen_before & MW_EXPO_SEEN_SERVER_HELLO) && (c->s.seen & MW_EXPO_SEEN_SERVER_HELLO))
        mark_handshake_end(st, f);
    else if (dir == 1 && rc == 1 && c->rc[1] != 1 && (c->s.seen & MW_EXPO_SEEN_SERVER_HELLO))
        mark_handshake_end(st, f);
}

static int on_tcp(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len, uint64_t ts_ns)
{
    mw_expo_scan_t *sc = ctx;
    (void)ts_ns;
    if (f->l4 != 6)
        return 1;
    struct flowst *st = flowst_get(f, 0);
    if (!st)
        return 1; /* out of memory: the flow is only counted */
    if (st->none)
        return 1;
    if (!st->started[0] && !st->started[1]) {
        /* the first bytes of the flow: only the parsers they allow */
        int k = sniff(data, len);
        st->started[dir] = 1;
        if (k != CAND_SSH && !(st->c[CAND_TLS] = cand_new(CAND_TLS)))
            k = -2;
        if (k != CAND_TLS && k != -2 && !(st->c[CAND_SSH] = cand_new(CAND_SSH)))
            k = -2;
        if (k == -2) { /* out of memory: the flow is only counted */
            kill_cand(sc, st, CAND_TLS);
            kill_cand(sc, st, CAND_SSH);
            st->none = 1;
            return 1;
        }
    } else if (!st->started[dir]) {
        st->started[dir] = 1;
        int k = sniff(data, len);
        if (k == CAND_SSH && st->c[CAND_TLS])
            kill_cand(sc, st, CAND_TLS);
        else if (k == CAND_TLS && st->c[CAND_SSH])
            kill_cand(sc, st, CAND_SSH);
    }
    int alive = 0, done = 1;
    for (int k = CAND_TLS; k <= CAND_SSH; k++) {
        struct cand *c = st->c[k];
        if (!c)
            continue;
        if (c->rc[dir] == 0) {
            unsigned seen = c->s.seen;
            int rc = k == CAND_TLS ? mw_tls_parser_feed(c->p.tls, &c->s, dir, data, len)
                                   : mw_ssh_parser_feed(c->p.ssh, &c->s, dir, data, len);
            after_feed(st, f, c, dir, rc, seen);
            c->rc[dir] = rc;
            if (rc < 0) {
                /* Refused: drop it unless it is the only protocol left and
                 * saw something (its session is kept for what was seen). */
                int other = st->c[k ^ 1] != NULL;
                if (other || !c->s.seen) {
                    if (k == CAND_SSH && c->s.seen)
                        sc->st.ssh_errors++;
                    kill_cand(sc, st, k);
                    continue;
                }
                if (k == CAND_SSH)
                    sc->st.ssh_errors++;
            }
        }
        alive++;
        if (c->rc[dir] == 0)
            done = 0;
    }
    if (!alive) {
        st->none = 1;
        return 1;
    }
    return done;
}

static void on_udp(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len,
                   uint64_t ts_ns)
{
    mw_expo_scan_t *sc = ctx;
    (void)ts_ns;
    struct flowst *st = flowst_get(f, 1);
    if (!st || st->none)
        return;
    struct cand *c = st->c[CAND_QUIC];
    if (!c || c->rc[dir] != 0)
        return;
    if (!st->started[0] && !st->started[1] && (len < 7 || (data[0] & 0xc0) != 0xc0)) {
        /* RFC 9000 17.2: a QUIC flow the scanner can read starts with a
         * long header (form and fixed bits set) */
        kill_cand(sc, st, CAND_QUIC);
        st->none = 1;
        return;
    }
    st->started[dir] = 1;
    unsigned seen = c->s.seen;
    int rc = mw_quic_parser_feed(c->p.quic, &c->s, dir, data, len);
    after_feed(st, f, c, dir, rc, seen);
    if (rc < 0 && !c->s.seen) {
        kill_cand(sc, st, CAND_QUIC);
        st->none = 1;
        return;
    }
    c->rc[dir] = rc;
}

static void on_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    (void)ctx;
    (void)missing;
    struct flowst *st = f->user;
    if (!st)
        return;
    /* A hole in the stream: the parsers cannot resynchronise inside a
     * handshake; a direction that was still parsing stops here. */
    for (int k = CAND_TLS; k <= CAND_SSH; k++)
        if (st->c[k] && st->c[k]->rc[dir] == 0)
            st->c[k]->rc[dir] = 1;
}

static void on_end(void *ctx, mw_flow_t *f)
{
    mw_expo_scan_t *sc = ctx;
    struct flowst *st = f->user;
    sc->st.flows++;
    if (!st) {
        return;
    }
    f->user = NULL;
    /* The candidate that saw most: SSH and TLS cannot both have seen a hello. */
    struct cand *best = NULL;
    int bestk = -1;
    for (int k = 0; k < NCAND; k++) {
        struct cand *c = st->c[k];
        if (!c || !c->s.seen)
            continue;
        if (!best || __builtin_popcount(c->s.seen) > __builtin_popcount(best->s.seen)) {
            best = c;
            bestk = k;
        }
    }
    if (!best) {
        if ((f->bytes[0] | f->bytes[1]) != 0)
            sc->st.not_detected++;
    } else {
        mw_expo_session_t *s = &best->s;
        s->client = f->client;
        s->server = f->server;
        s->first_ns = f->first_ns;
        s->last_ns = f->last_ns;
        s->flow_id = f->id;
        s->bytes_c2s = f->bytes[0];
        s->bytes_s2c = f->bytes[1];
        mw_expo_classify(s);
        s->exposed_bytes = 0;
        if (s->cls == MW_EXPO_CLASSICAL) {
            uint64_t e0 = st->hs_mark ? st->hs_end[0] : f->bytes[0];
            uint64_t e1 = st->hs_mark ? st->hs_end[1] : f->bytes[1];
            s->exposed_bytes = (f->bytes[0] > e0 ? f->bytes[0] - e0 : 0) +
                               (f->bytes[1] > e1 ? f->bytes[1] - e1 : 0);
        }
        mw_expo_scan_add_session(sc, sc->label, s);
    }
    for (int k = 0; k < NCAND; k++)
        kill_cand(sc, st, k);
    (void)bestk;
    flowst_free(st);
}

/* ---- scanner ------------------------------------------------------------- */

int mw_expo_scan_new(void (*on_session)(void *ctx, const char *label, const mw_expo_session_t *s),
                     void *ctx, mw_expo_scan_t **out)
{
    if (!out)
        return MW_EINVAL;
    mw_expo_scan_t *sc = calloc(1, sizeof *sc);
    if (!sc)
        return MW_ENOMEM;
    sc->on_session = on_session;
    sc->ctx = ctx;
    sc->label = strdup("");
    if (!sc->label) {
        free(sc);
        return MW_ENOMEM;
    }
    *out = sc;
    return MW_OK;
}

void mw_expo_scan_free(mw_expo_scan_t *sc)
{
    if (!sc)
        return;
    free(sc->svc);
    free(sc->idx);
    free(sc->label);
    free(sc);
}

static int set_label(mw_expo_scan_t *sc, const char *label)
{
    char *l = strdup(label ? label : "");
    if (!l)
        return MW_ENOMEM;
    free(sc->label);
    sc->label = l;
    return MW_OK;
}

void mw_expo_scan_sink(mw_expo_scan_t *sc, const char *label, mw_flow_sink_t *out)
{
    if (!sc || !out)
        return;
    (void)set_label(sc, label); /* on failure the previous label stays */
    out->ctx = sc;
    out->tcp_data = on_tcp;
    out->tcp_gap = on_gap;
    out->udp_data = on_udp;
    out->flow_end = on_end;
}

static void add_stats(mw_pcap_stats_t *a, const mw_pcap_stats_t *b)
{
    /* every field is a uint64_t counter */
    uint64_t *x = (uint64_t *)a;
    const uint64_t *y = (const uint64_t *)b;
    for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++)
        x[i] += y[i];
}

int mw_expo_scan_file(mw_expo_scan_t *sc, const char *path, const char *label, char *err,
                      size_t errcap)
{
    if (!sc || !path)
        return MW_EINVAL;
    mw_flow_sink_t sink;
    mw_pcap_t *p = NULL;
    int rc;
    if (err && errcap)
        err[0] = '\0';
    sc->st.files++;
    mw_expo_scan_sink(sc, label ? label : path, &sink);
    rc = mw_pcap_open_file(path, &sink, 0, &p, err, errcap);
    if (rc != MW_OK)
        goto out;
    for (;;) {
        long n = mw_pcap_run(p, 0, 0);
        if (n == 0)
            break;
        if (n < 0) {
            rc = (int)n;
            if (err && errcap)
                snprintf(err, errcap, "%s: %s", path,
                         mw_pcap_error(p)[0] ? mw_pcap_error(p) : mw_strerror(rc));
            break;
        }
    }
    mw_pcap_flush(p);
    add_stats(&sc->st.pcap, mw_pcap_stats(p));
    mw_pcap_free(p);
out:
    if (rc != MW_OK)
        sc->st.files_failed++;
    return rc;
}

const mw_expo_scan_stats_t *mw_expo_scan_stats(const mw_expo_scan_t *sc)
{
    return sc ? &sc->st : NULL;
}

/* ---- per-service aggregate ---------------------------------------------- */

static uint64_t svc_hash(mw_expo_proto_t proto, const mw_endpoint_t *ep, const char *sni)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
#define MIX(b)                                                                                     \
    do {                                                                                           \
        h ^= (uint8_t)(b);                                                                         \
        h *= 1099511628211ull;                                                                     \
    } while (0)
    MIX(proto);
    MIX(ep->family);
    for (int i = 0; i < (ep->family == 6 ? 16 : 4); i++)
        MIX(ep->addr[i]);
    MIX(ep->port >> 8);
    MIX(ep->port);
    for (const char *p = sni; *p; p++)
        MIX(*p);
#undef MIX
    return h;
}

static int svc_same(const mw_expo_service_t *v, mw_expo_proto_t proto, const mw_endpoint_t *ep,
                    const char *sni)
{
    size_t al = ep->family == 6 ? 16 : 4;
    return v->proto == proto && v->server.family == ep->family && v->server.port == ep->port &&
           memcmp(v->server.addr, ep->addr, al) == 0 && strcmp(v->sni, sni) == 0;
}

static int idx_grow(mw_expo_scan_t *sc)
{
    size_t ncap = sc->idx_cap ? sc->idx_cap * 2 : 256;
    uint32_t *ni = malloc(ncap * sizeof *ni);
    if (!ni)
        return MW_ENOMEM;
    memset(ni, 0xff, ncap * sizeof *ni);
    for (size_t i = 0; i < sc->n_svc; i++) {
        const mw_expo_service_t *v = &sc->svc[i];
        size_t j = svc_hash(v->proto, &v->server, v->sni) & (ncap - 1);
        while (ni[j] != UINT32_MAX)
            j = (j + 1) & (ncap - 1);
        ni[j] = (uint32_t)i;
    }
    free(sc->idx);
    sc->idx = ni;
    sc->idx_cap = ncap;
    return MW_OK;
}

static mw_expo_service_t *svc_find(mw_expo_scan_t *sc, const mw_expo_session_t *s)
{
    /* QUIC and TLS on one port are different services (UDP and TCP) */
    mw_expo_proto_t proto = s->proto == MW_EXPO_QUIC ? MW_EXPO_QUIC : s->proto;
    if (sc->idx_cap) {
        size_t j = svc_hash(proto, &s->server, s->sni) & (sc->idx_cap - 1);
        while (sc->idx[j] != UINT32_MAX) {
            mw_expo_service_t *v = &sc->svc[sc->idx[j]];
            if (svc_same(v, proto, &s->server, s->sni))
                return v;
            j = (j + 1) & (sc->idx_cap - 1);
        }
    }
    if (sc->n_svc >= MW_EXPO_MAX_SERVICES)
        return NULL;
    if (sc->n_svc == sc->svc_cap) {
        size_t nc = sc->svc_cap ? sc->svc_cap * 2 : 64;
        mw_expo_service_t *nv = realloc(sc->svc, nc * sizeof *nv);
        if (!nv)
            return NULL;
        sc->svc = nv;
        sc->svc_cap = nc;
    }
    if ((sc->n_svc + 1) * 2 > sc->idx_cap && idx_grow(sc) != MW_OK)
        return NULL;
    mw_expo_service_t *v = &sc->svc[sc->n_svc];
    memset(v, 0, sizeof *v);
    v->proto = proto;
    v->server = s->server;
    snprintf(v->sni, sizeof v->sni, "%s", s->sni);
    v->worst = s->cls;
    size_t j = svc_hash(proto, &s->server, s->sni) & (sc->idx_cap - 1);
    while (sc->idx[j] != UINT32_MAX)
        j = (j + 1) & (sc->idx_cap - 1);
    sc->idx[j] = (uint32_t)sc->n_svc++;
    return v;
}

/* snprintf(dst, cap, "%s", src) without the formatting machinery. */
static void str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
}

/* classical > unknown > pq-hybrid > pq-only */
static int badness(mw_expo_class_t c)
{
    switch (c) {
    case MW_EXPO_CLASSICAL:
        return 3;
    case MW_EXPO_UNKNOWN:
        return 2;
    case MW_EXPO_PQ_HYBRID:
        return 1;
    default:
        return 0;
    }
}

#define ADD_STR(arr, n, more, val)                                                                 \
    do {                                                                                           \
        if ((val)[0]) {                                                                            \
            unsigned i_;                                                                           \
            for (i_ = 0; i_ < (n); i_++)                                                           \
                if (strcmp((arr)[i_], (val)) == 0)                                                 \
                    break;                                                                         \
            if (i_ == (n)) {                                                                       \
                if ((n) < MW_EXPO_SVC_MAX_ITEMS)                                                   \
                    str_copy((arr)[(n)++], sizeof(arr)[0], (val));                                 \
                else                                                                               \
                    (more)++;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define ADD_NUM(arr, n, more, val)                                                                 \
    do {                                                                                           \
        unsigned i_;                                                                               \
        for (i_ = 0; i_ < (n); i_++)                                                               \
            if ((arr)[i_] == (val))                                                                \
                break;                                                                             \
        if (i_ == (n)) {                                                                           \
            if ((n) < MW_EXPO_SVC_MAX_ITEMS)                                                       \
                (arr)[(n)++] = (val);                                                              \
            else                                                                                   \
                (more)++;                                                                          \
        }                                                                                          \
    } while (0)

void mw_expo_scan_add_session(mw_expo_scan_t *sc, const char *label, const mw_expo_session_t *s)
{
    if (!sc || !s)
        return;
    unsigned cls = (unsigned)s->cls < 4 ? (unsigned)s->cls : 0;
    sc->st.sessions[cls]++;
    if (sc->on_session)
        sc->on_session(sc->ctx, label ? label : "", s);
    mw_expo_service_t *v = svc_find(sc, s);
    if (!v) {
        sc->st.services_dropped++;
        return;
    }
    v->sessions[cls]++;
    v->bytes += s->bytes_c2s + s->bytes_s2c;
    v->exposed_bytes += s->exposed_bytes;
    if (s->first_ns && (!v->first_ns || s->first_ns < v->first_ns))
        v->first_ns = s->first_ns;
    uint64_t last = s->last_ns ? s->last_ns : s->first_ns;
    if (last > v->last_ns)
        v->last_ns = last;
    if (badness(s->cls) >= badness(v->worst) || !v->last_reason[0]) {
        v->worst = badness(s->cls) >= badness(v->worst) ? s->cls : v->worst;
        if (v->worst == s->cls)
            str_copy(v->last_reason, sizeof v->last_reason, s->reason);
    }
    ADD_STR(v->versions, v->n_versions, v->n_versions_more, s->version);
    if (s->selected_group >= 0)
        ADD_NUM(v->groups, v->n_groups, v->n_groups_more, s->selected_group);
    char kex[MW_EXPO_MAX_NAME];
    if (strcmp(s->selected_kex, "DHE") == 0 && s->dh_bits > 0)
        snprintf(kex, sizeof kex, "DHE-%d", s->dh_bits); /* the group size matters */
    else
        str_copy(kex, sizeof kex, s->selected_kex);
    ADD_STR(v->kex, v->n_kex, v->n_kex_more, kex);
    if (s->cipher_suite >= 0)
        ADD_NUM(v->suites, v->n_suites, v->n_suites_more, (uint16_t)s->cipher_suite);
    ADD_STR(v->host_key_algs, v->n_host_key_algs, v->n_host_key_algs_more, s->host_key_alg);
    for (unsigned i = 0; i < s->n_certs && i < MW_EXPO_MAX_CERTS; i++) {
        const mw_expo_cert_t *c = &s->certs[i];
        unsigned j;
        for (j = 0; j < v->n_certs; j++)
            if (strcmp(v->certs[j].sig_alg, c->sig_alg) == 0 &&
                strcmp(v->certs[j].key_alg, c->key_alg) == 0 && v->certs[j].key_bits == c->key_bits)
                break;
        if (j == v->n_certs) {
            if (v->n_certs < MW_EXPO_SVC_MAX_ITEMS)
                v->certs[v->n_certs++] = *c;
            else
                v->n_certs_more++;
        }
    }
}

size_t mw_expo_scan_service_count(const mw_expo_scan_t *sc)
{
    return sc ? sc->n_svc : 0;
}

const mw_expo_service_t *mw_expo_scan_service(const mw_expo_scan_t *sc, size_t i)
{
    return sc && i < sc->n_svc ? &sc->svc[i] : NULL;
}

void mw_expo_scan_clear(mw_expo_scan_t *sc)
{
    if (!sc)
        return;
    sc->n_svc = 0;
    if (sc->idx)
        memset(sc->idx, 0xff, sc->idx_cap * sizeof *sc->idx);
    memset(&sc->st, 0, sizeof sc->st);
}
