/* The daemon side of the quantum-exposure scanner (exposure.h section 5):
 * live capture threads, pcap uploads, the shared per-service aggregate, one
 * "hndl-exposure" threat per exposed service, the JSON summary and the
 * Prometheus lines.
 *
 *   capture thread (per interface) --locked sink--> scanner (aggregate) <-- uploads
 *   reporter thread / uploads: exposed services --submit_detection--> engine writer
 *
 * One mutex (mu) guards the scanner, the report bookkeeping and the
 * counters; the capture threads take it per sink callback, so an upload
 * (which holds it for the whole file) pauses them, never the reverse. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/exposure.h"
#include "mwrasp/log.h"
#include "mwrasp/pipeline.h"

#define MOD "exposure"
#define UPLOAD_ACK_MS 30000
#define LIVE_BATCH 1024 /* packets per mw_pcap_run of a capture thread */
#define LIVE_TIMEOUT_MS 200

/* ---- service tags ------------------------------------------------------- */

static void copy_lower(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[len] = '\0';
}

/* Canonical text of an address (RFC 5952 for IPv6 through inet_ntop). 0 or
 * -1 when s is no IP address. */
static int canon_addr(const char *s, size_t len, int *family, uint8_t addr[16], char *out,
                      size_t cap)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1)
        *family = 4;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        *family = 6;
    else
        return -1;
    if (!inet_ntop(*family == 4 ? AF_INET : AF_INET6, addr, out, (socklen_t)cap))
        return -1;
    return 0;
}

static int tag_char(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.';
}

static int name_char(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*';
}

/* One SERVICE=TAG,TAG entry [s, s+len). */
static int parse_entry(const char *s, size_t len, mw_expo_tagged_t *e, char *err, size_t errcap)
{
    const char *eq = memchr(s, '=', len);
    memset(e, 0, sizeof *e);
    if (!eq || eq == s || eq == s + len - 1) {
        snprintf(err, errcap, "exposure.service_tags: entry \"%.*s\" is not SERVICE=TAG[,TAG]",
                 (int)(len > 80 ? 80 : len), s);
        return MW_ECONFIG;
    }
    size_t sl = (size_t)(eq - s);
    char host[64];
    int fam = 0;
    uint8_t addr[16];
    if (s[0] == '[') { /* [IPV6]:PORT */
        const char *rb = memchr(s, ']', sl);
        if (!rb || rb + 1 >= eq || rb[1] != ':' ||
            canon_addr(s + 1, (size_t)(rb - s - 1), &fam, addr, host, sizeof host) != 0 || fam != 6)
            goto bad_service;
        const char *pp = rb + 2;
        char *end;
        if (pp >= eq || !isdigit((unsigned char)*pp))
            goto bad_service;
        unsigned long port = strtoul(pp, &end, 10);
        if (end != eq || port > 65535)
            goto bad_service;
        e->kind = 'p';
        snprintf(e->service, sizeof e->service, "[%s]:%lu", host, port);
    } else if (canon_addr(s, sl, &fam, addr, host, sizeof host) == 0) { /* bare address */
        e->kind = 'a';
        snprintf(e->service, sizeof e->service, "%s", host);
    } else {
        const char *colon = memchr(s, ':', sl);
        if (colon && memchr(colon + 1, ':', (size_t)(eq - colon - 1)) == NULL &&
            canon_addr(s, (size_t)(colon - s), &fam, addr, host, sizeof host) == 0 && fam == 4) {
            char *end;
            if (colon + 1 >= eq || !isdigit((unsigned char)colon[1]))
                goto bad_service;
            unsigned long port = strtoul(colon + 1, &end, 10);
            if (end != eq || port > 65535)
                goto bad_service;
            e->kind = 'p';
            snprintf(e->service, sizeof e->service, "%s:%lu", host, port);
        } else { /* a server name */
            if (sl >= sizeof e->service)
                goto bad_service;
            for (size_t i = 0; i < sl; i++)
                if (!name_char((unsigned char)s[i]))
                    goto bad_service;
            e->kind = 'n';
            copy_lower(e->service, sizeof e->service, s, sl);
        }
    }
    /* tags */
    const char *t = eq + 1, *end = s + len;
    while (t < end) {
        const char *c = memchr(t, ',', (size_t)(end - t));
        size_t tl = c ? (size_t)(c - t) : (size_t)(end - t);
        if (tl == 0 || tl >= MW_EXPO_TAG_LEN) {
            snprintf(err, errcap,
                     "exposure.service_tags: entry \"%.*s\": tags are 1..%d characters",
                     (int)(len > 80 ? 80 : len), s, MW_EXPO_TAG_LEN - 1);
            return MW_ECONFIG;
        }
        for (size_t i = 0; i < tl; i++)
            if (!tag_char((unsigned char)t[i])) {
                snprintf(err, errcap,
                         "exposure.service_tags: entry \"%.*s\": a tag holds letters, digits, "
                         "'-', '_', '.'",
                         (int)(len > 80 ? 80 : len), s);
                return MW_ECONFIG;
            }
        if (e->n_tags == MW_EXPO_MAX_TAGS) {
            snprintf(err, errcap, "exposure.service_tags: entry \"%.*s\": more than %d tags",
                     (int)(len > 80 ? 80 : len), s, MW_EXPO_MAX_TAGS);
            return MW_ECONFIG;
        }
        copy_lower(e->tags[e->n_tags++], MW_EXPO_TAG_LEN, t, tl);
        t += tl + 1;
    }
    return MW_OK;
bad_service:
    snprintf(err, errcap,
             "exposure.service_tags: \"%.*s\" is no ADDR:PORT, [IPV6]:PORT, ADDR or server name",
             (int)(sl > 80 ? 80 : sl), s);
    return MW_ECONFIG;
}

int mw_expo_tags_parse(const char *text, mw_expo_tagged_t *out, size_t cap, size_t *n, char *err,
                       size_t errcap)
{
    size_t k = 0;
    const char *p = text ? text : "";
    for (;;) {
        while (*p == ';' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ';' && !isspace((unsigned char)*q))
            q++;
        if (k == cap) {
            snprintf(err, errcap, "exposure.service_tags: more than %zu entries", cap);
            return MW_ECONFIG;
        }
        int rc = parse_entry(p, (size_t)(q - p), &out[k], err, errcap);
        if (rc != MW_OK)
            return rc;
        k++;
        p = q;
    }
    *n = k;
    return MW_OK;
}

size_t mw_expo_tags_match(const mw_expo_tagged_t *tagged, size_t ntagged,
                          const mw_endpoint_t *server, const char *sni, const char **tags,
                          size_t cap)
{
    char ep[MW_ENDPOINT_STRLEN], addr[64] = "";
    size_t n = 0;
    mw_endpoint_format(server, ep, sizeof ep);
    inet_ntop(server->family == 6 ? AF_INET6 : AF_INET, server->addr, addr, sizeof addr);
    for (size_t i = 0; i < ntagged; i++) {
        const mw_expo_tagged_t *e = &tagged[i];
        int hit = (e->kind == 'p' && strcmp(e->service, ep) == 0) ||
                  (e->kind == 'a' && strcmp(e->service, addr) == 0) ||
                  (e->kind == 'n' && sni && sni[0] && strcasecmp(e->service, sni) == 0);
        if (!hit)
            continue;
        for (unsigned t = 0; t < e->n_tags; t++) {
            size_t j = 0;
            while (j < n && strcmp(tags[j], e->tags[t]) != 0)
                j++;
            if (j == n && n < cap)
                tags[n++] = e->tags[t];
        }
    }
    return n;
}

/* ---- severity ----------------------------------------------------------- */

int mw_expo_severity(uint64_t exposed_bytes, const char *const *tags, size_t ntags)
{
    static const char *const raise1[] = {"critical", "sensitive", "pii", "pci",
                                         "phi",      "regulated", NULL};
    static const char *const lower1[] = {"test", "lab", "dev", NULL};
    int sev = exposed_bytes >= (1ULL << 30) ? 2 : exposed_bytes >= 10ULL * (1 << 20) ? 3 : 4;
    int raise = 0, lower = 0;
    for (size_t i = 0; i < ntags; i++) {
        if (strcasecmp(tags[i], "crown-jewel") == 0)
            raise = 2;
        for (int k = 0; raise1[k]; k++)
            if (strcasecmp(tags[i], raise1[k]) == 0 && raise < 1)
                raise = 1;
        for (int k = 0; lower1[k]; k++)
            if (strcasecmp(tags[i], lower1[k]) == 0)
                lower = 1;
    }
    sev -= raise;
    if (!raise)
        sev += lower;
    return sev < 1 ? 1 : sev > 5 ? 5 : sev;
}

/* ---- the daemon --------------------------------------------------------- */

struct live {
    struct mw_expo_daemon *d;
    char ifname[64];
    char label[80]; /* "live:IFNAME" */
    mw_flow_sink_t inner; /* the scanner's sink */
    mw_pcap_t *p;
    pthread_t th;
    int running;
    mw_pcap_stats_t stats; /* copied under mu after each run */
};

/* Per-service report state, by service index. */
struct report {
    uint64_t sessions; /* total sessions when last reported (0: never) */
    int severity; /* of the last report */
};

struct counters {
    uint64_t uploads_accepted, uploads_not_pcap, uploads_too_large, uploads_unreadable;
    uint64_t upload_packets, upload_bytes, upload_malformed;
    uint64_t live_open_failed, live_read_errors;
    uint64_t threat_reports, threat_report_errors;
};

struct mw_expo_daemon {
    struct mw_detect_engine *engine;
    char interfaces[MW_CONFIG_STR_MAX];
    char bpf[MW_CONFIG_STR_MAX];
    size_t max_flows;
    uint64_t min_exposed;
    int64_t report_ns;
    char tmp_dir[MW_CONFIG_STR_MAX];
    mw_expo_tagged_t *tagged;
    size_t ntagged;

    pthread_mutex_t mu;
    mw_expo_scan_t *sc;
    struct report *rep;
    size_t rep_cap;
    struct counters c;
    unsigned upload_seq;

    struct live *live;
    size_t nlive;
    pthread_t reporter;
    int reporter_running;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    _Atomic int stopping;
    int started, stopped;
};

/* The locked sink: every callback of a capture thread goes to the scanner
 * under mu. */
static int live_tcp_data(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len,
                         uint64_t ts)
{
    struct live *l = ctx;
    int rc = 0;
    pthread_mutex_lock(&l->d->mu);
    if (l->inner.tcp_data)
        rc = l->inner.tcp_data(l->inner.ctx, f, dir, data, len, ts);
    pthread_mutex_unlock(&l->d->mu);
    return rc;
}

static void live_tcp_gap(void *ctx, mw_flow_t *f, int dir, uint64_t missing)
{
    struct live *l = ctx;
    pthread_mutex_lock(&l->d->mu);
    if (l->inner.tcp_gap)
        l->inner.tcp_gap(l->inner.ctx, f, dir, missing);
    pthread_mutex_unlock(&l->d->mu);
}

static void live_udp_data(void *ctx, mw_flow_t *f, int dir, const uint8_t *data, size_t len,
                          uint64_t ts)
{
    struct live *l = ctx;
    pthread_mutex_lock(&l->d->mu);
    if (l->inner.udp_data)
        l->inner.udp_data(l->inner.ctx, f, dir, data, len, ts);
    pthread_mutex_unlock(&l->d->mu);
}

static void live_flow_end(void *ctx, mw_flow_t *f)
{
    struct live *l = ctx;
    pthread_mutex_lock(&l->d->mu);
    if (l->inner.flow_end)
        l->inner.flow_end(l->inner.ctx, f);
    pthread_mutex_unlock(&l->d->mu);
}

int mw_expo_daemon_new(const struct mw_config *cfg, struct mw_detect_engine *engine,
                       const char *tmp_dir, mw_expo_daemon_t **out, char *err, size_t errcap)
{
    struct mw_expo_daemon *d = calloc(1, sizeof *d);
    int rc = MW_ENOMEM;
    if (!d)
        return MW_ENOMEM;
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->stop_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    d->engine = engine;
    snprintf(d->interfaces, sizeof d->interfaces, "%s", cfg->exposure_interfaces);
    snprintf(d->bpf, sizeof d->bpf, "%s", cfg->exposure_bpf);
    d->max_flows = cfg->exposure_max_flows ? cfg->exposure_max_flows : MW_PCAP_DEFAULT_MAX_FLOWS;
    d->min_exposed = cfg->exposure_min_exposed_bytes;
    d->report_ns =
        cfg->exposure_report_interval_ns > 0 ? cfg->exposure_report_interval_ns : 10000000000LL;
    if (tmp_dir && tmp_dir[0]) {
        snprintf(d->tmp_dir, sizeof d->tmp_dir, "%s", tmp_dir);
    } else {
        snprintf(d->tmp_dir, sizeof d->tmp_dir, "%s", cfg->store_path);
        char *slash = strrchr(d->tmp_dir, '/');
        if (slash && slash != d->tmp_dir)
            *slash = '\0';
        else if (slash)
            slash[1] = '\0';
        else
            snprintf(d->tmp_dir, sizeof d->tmp_dir, ".");
    }
    d->tagged = calloc(MW_EXPO_MAX_TAGGED, sizeof *d->tagged);
    if (!d->tagged)
        goto fail;
    rc = mw_expo_tags_parse(cfg->exposure_service_tags, d->tagged, MW_EXPO_MAX_TAGGED, &d->ntagged,
                            err, errcap);
    if (rc != MW_OK)
        goto fail;
    rc = mw_expo_scan_new(NULL, NULL, &d->sc);
    if (rc != MW_OK)
        goto fail;
    *out = d;
    return MW_OK;
fail:
    mw_expo_daemon_free(d);
    return rc;
}

/* ---- threats ------------------------------------------------------------ */

static const char *sev_name(int s)
{
    static const char *const n[] = {"", "critical", "high", "medium", "low", "informational"};
    return s >= 1 && s <= 5 ? n[s] : "unknown";
}

static void service_label(const mw_expo_service_t *sv, char *buf, size_t cap)
{
    char ep[MW_ENDPOINT_STRLEN];
    mw_endpoint_format(&sv->server, ep, sizeof ep);
    if (sv->sni[0])
        snprintf(buf, cap, "%s (%s)", ep, sv->sni);
    else
        snprintf(buf, cap, "%s", ep);
}

static uint64_t total_sessions(const mw_expo_service_t *sv)
{
    return sv->sessions[0] + sv->sessions[1] + sv->sessions[2] + sv->sessions[3];
}

static int is_exposed(const struct mw_expo_daemon *d, const mw_expo_service_t *sv)
{
    return sv->sessions[MW_EXPO_CLASSICAL] > 0 && sv->exposed_bytes >= d->min_exposed &&
           sv->exposed_bytes > 0;
}

static json_t *str_list(const char (*items)[MW_EXPO_MAX_NAME], unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

static json_t *ts_json(uint64_t ns)
{
    char buf[40];
    if (!ns)
        return json_null();
    mw_time_format_rfc3339((int64_t)ns, buf, sizeof buf);
    return json_string(buf);
}

/* The JSON object of one service (schema ExposureService). */
static json_t *service_json(const struct mw_expo_daemon *d, const mw_expo_service_t *sv,
                            const struct report *r)
{
    char ep[MW_ENDPOINT_STRLEN], label[MW_ENDPOINT_STRLEN + MW_EXPO_MAX_NAME + 4], hex[8];
    const char *tags[MW_EXPO_MAX_TAGS * 4];
    size_t nt = mw_expo_tags_match(d->tagged, d->ntagged, &sv->server, sv->sni, tags,
                                   sizeof tags / sizeof tags[0]);
    mw_endpoint_format(&sv->server, ep, sizeof ep);
    service_label(sv, label, sizeof label);
    json_t *o = json_object();
    json_t *ss = json_object(), *vers = json_array(), *groups = json_array(),
           *suites = json_array(), *certs = json_array(), *jt = json_array();
    if (!o || !ss || !vers || !groups || !suites || !certs || !jt)
        goto oom;
    for (int c = 0; c < 4; c++)
        json_object_set_new(ss, mw_expo_class_name((mw_expo_class_t)c),
                            json_integer((json_int_t)sv->sessions[c]));
    for (unsigned i = 0; i < sv->n_versions; i++)
        json_array_append_new(vers, json_string(sv->versions[i]));
    for (unsigned i = 0; i < sv->n_groups; i++) {
        const char *name = NULL;
        snprintf(hex, sizeof hex, "0x%04x", (unsigned)(sv->groups[i] & 0xffff));
        mw_expo_tls_group_class((uint16_t)sv->groups[i], &name);
        json_array_append_new(groups, json_pack("{s:s,s:s?}", "code", hex, "name", name));
    }
    for (unsigned i = 0; i < sv->n_suites; i++) {
        snprintf(hex, sizeof hex, "0x%04x", sv->suites[i]);
        json_array_append_new(suites, json_string(hex));
    }
    for (unsigned i = 0; i < sv->n_certs; i++)
        json_array_append_new(certs, json_pack("{s:s,s:s,s:i,s:b}", "sig_alg", sv->certs[i].sig_alg,
                                               "key_alg", sv->certs[i].key_alg, "key_bits",
                                               sv->certs[i].key_bits, "pq_signature",
                                               sv->certs[i].pq_signature));
    for (size_t i = 0; i < nt; i++)
        json_array_append_new(jt, json_string(tags[i]));
    int exposed = is_exposed(d, sv);
    int sev = exposed ? mw_expo_severity(sv->exposed_bytes, tags, nt) : 0;
    json_object_set_new(o, "service", json_string(label));
    json_object_set_new(o, "server", json_string(ep));
    json_object_set_new(o, "sni", sv->sni[0] ? json_string(sv->sni) : json_null());
    json_object_set_new(o, "protocol", json_string(mw_expo_proto_name(sv->proto)));
    json_object_set_new(o, "class", json_string(mw_expo_class_name(sv->worst)));
    json_object_set_new(o, "sessions", ss);
    ss = NULL;
    json_object_set_new(o, "bytes", json_integer((json_int_t)sv->bytes));
    json_object_set_new(o, "exposed_bytes", json_integer((json_int_t)sv->exposed_bytes));
    json_object_set_new(o, "first_seen", ts_json(sv->first_ns));
    json_object_set_new(o, "last_seen", ts_json(sv->last_ns));
    json_object_set_new(o, "versions", vers);
    vers = NULL;
    json_object_set_new(o, "groups", groups);
    groups = NULL;
    json_object_set_new(o, "kex", str_list(sv->kex, sv->n_kex));
    json_object_set_new(o, "cipher_suites", suites);
    suites = NULL;
    json_object_set_new(o, "host_key_algs", str_list(sv->host_key_algs, sv->n_host_key_algs));
    json_object_set_new(o, "certificates", certs);
    certs = NULL;
    json_object_set_new(o, "reason", json_string(sv->last_reason));
    json_object_set_new(o, "tags", jt);
    jt = NULL;
    json_object_set_new(o, "exposed", json_boolean(exposed));
    json_object_set_new(o, "severity", exposed ? json_string(sev_name(sev)) : json_null());
    json_object_set_new(o, "reported", json_boolean(r && r->sessions));
    return o;
oom:
    json_decref(o);
    json_decref(ss);
    json_decref(vers);
    json_decref(groups);
    json_decref(suites);
    json_decref(certs);
    json_decref(jt);
    return NULL;
}

/* Makes the evidence event + detection of exposed service i (under mu).
 * NULL when it could not be built (counted). */
static mw_event_t *threat_event(struct mw_expo_daemon *d, size_t i, const char *source,
                                mw_detection_t *det)
{
    const mw_expo_service_t *sv = mw_expo_scan_service(d->sc, i);
    char label[MW_ENDPOINT_STRLEN + MW_EXPO_MAX_NAME + 4];
    const char *tags[MW_EXPO_MAX_TAGS * 4];
    size_t nt = mw_expo_tags_match(d->tagged, d->ntagged, &sv->server, sv->sni, tags,
                                   sizeof tags / sizeof tags[0]);
    int sev = mw_expo_severity(sv->exposed_bytes, tags, nt);
    service_label(sv, label, sizeof label);
    json_t *o = service_json(d, sv, &d->rep[i]);
    char *raw = NULL;
    mw_event_t *ev = NULL;
    if (!o)
        return NULL;
    json_object_set_new(o, "observed_by", json_string(source));
    raw = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!raw)
        return NULL;
    ev = mw_event_new(MW_SRC_CAPTURE, raw, strlen(raw));
    free(raw);
    if (!ev)
        return NULL;
    ev->ts_ns = mw_now_realtime_ns();
    ev->ingest_ns = ev->ts_ns;
    ev->mono_ns = mw_now_mono_ns();
    /* The kex or group of the exposed sessions, for the title. */
    char kex[MW_EXPO_MAX_NAME + 16] = "";
    if (sv->n_kex)
        snprintf(kex, sizeof kex, "%s", sv->kex[0]);
    else if (sv->n_groups) {
        const char *name = NULL;
        mw_expo_tls_group_class((uint16_t)sv->groups[0], &name);
        snprintf(kex, sizeof kex, "%s", name ? name : "?");
    } else
        snprintf(kex, sizeof kex, "classical key exchange");
    char num[24];
    if (mw_event_set_host(ev, label, strlen(label)) != MW_OK ||
        mw_event_set_category(ev, "exposure", 8) != MW_OK)
        goto fail;
    if (mw_event_add_field(ev, "service", 7, label, strlen(label)) != MW_OK ||
        mw_event_add_field(ev, "kex", 3, kex, strlen(kex)) != MW_OK)
        goto fail;
    snprintf(num, sizeof num, "%llu", (unsigned long long)sv->exposed_bytes);
    if (mw_event_add_field(ev, "exposed_bytes", 13, num, strlen(num)) != MW_OK)
        goto fail;
    snprintf(num, sizeof num, "%llu", (unsigned long long)sv->sessions[MW_EXPO_CLASSICAL]);
    if (mw_event_add_field(ev, "classical_sessions", 18, num, strlen(num)) != MW_OK)
        goto fail;

    memset(det, 0, sizeof *det);
    snprintf(det->detector, sizeof det->detector, "exposure");
    snprintf(det->rule_id, sizeof det->rule_id, "hndl-exposure");
    /* No counts in the title: a folded threat keeps its first title; the
     * evidence events carry the numbers of each report. */
    snprintf(det->title, sizeof det->title,
             "Quantum-exposed service %.140s: classical key exchange (%.60s)", label, kex);
    snprintf(det->type, sizeof det->type, "hndl-exposure");
    snprintf(det->threat_class, sizeof det->threat_class, "%s", MW_THREAT_CLASS_HNDL);
    det->severity = sev;
    det->confidence = 0.9;
    size_t tl = (size_t)snprintf(det->tags, sizeof det->tags, "exposure.hndl");
    for (size_t k = 0; k < nt && tl + strlen(tags[k]) + 2 < sizeof det->tags; k++)
        tl += (size_t)snprintf(det->tags + tl, sizeof det->tags - tl, ",%s", tags[k]);
    d->rep[i].severity = sev;
    return ev;
fail:
    mw_event_free(ev);
    return NULL;
}

struct pending {
    mw_event_t **ev;
    mw_detection_t *det;
    size_t n;
};

static void pending_free(struct pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        mw_event_free(p->ev[i]);
    free(p->ev);
    free(p->det);
    memset(p, 0, sizeof *p);
}

/* Under mu: the threat events of every exposed service whose session count
 * changed since its last report. */
static int collect_reports(struct mw_expo_daemon *d, const char *source, struct pending *out)
{
    size_t n = mw_expo_scan_service_count(d->sc);
    memset(out, 0, sizeof *out);
    if (n > d->rep_cap) {
        size_t nc = d->rep_cap ? d->rep_cap : 64;
        while (nc < n)
            nc *= 2;
        struct report *nr = realloc(d->rep, nc * sizeof *nr);
        if (!nr)
            return MW_ENOMEM;
        memset(nr + d->rep_cap, 0, (nc - d->rep_cap) * sizeof *nr);
        d->rep = nr;
        d->rep_cap = nc;
    }
    if (!d->engine)
        return MW_OK;
    size_t want = 0;
    for (size_t i = 0; i < n; i++) {
        const mw_expo_service_t *sv = mw_expo_scan_service(d->sc, i);
        if (is_exposed(d, sv) && total_sessions(sv) != d->rep[i].sessions)
            want++;
    }
    if (!want)
        return MW_OK;
    out->ev = calloc(want, sizeof *out->ev);
    out->det = calloc(want, sizeof *out->det);
    if (!out->ev || !out->det) {
        pending_free(out);
        return MW_ENOMEM;
    }
    for (size_t i = 0; i < n && out->n < want; i++) {
        const mw_expo_service_t *sv = mw_expo_scan_service(d->sc, i);
        if (!is_exposed(d, sv) || total_sessions(sv) == d->rep[i].sessions)
            continue;
        mw_event_t *ev = threat_event(d, i, source, &out->det[out->n]);
        if (!ev) {
            d->c.threat_report_errors++;
            continue;
        }
        d->rep[i].sessions = total_sessions(sv);
        out->ev[out->n++] = ev;
    }
    return MW_OK;
}

/* Outside mu: hands the events to the engine (ack may be NULL). Returns the
 * number submitted. */
static size_t submit_reports(struct mw_expo_daemon *d, struct pending *p, mw_ack_t *ack)
{
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i < p->n; i++) {
        mw_event_t *ev = p->ev[i];
        if (ack) {
            mw_ack_add(ack, 1);
            ev->ack = ack;
        }
        if (mw_detect_engine_submit_detection(d->engine, ev, &p->det[i]) == MW_OK) {
            p->ev[i] = NULL;
            ok++;
        } else {
            if (ack) {
                ev->ack = NULL;
                mw_ack_done(ack, MW_ESHUTDOWN);
            }
            failed++;
        }
    }
    pthread_mutex_lock(&d->mu);
    d->c.threat_reports += ok;
    d->c.threat_report_errors += failed;
    pthread_mutex_unlock(&d->mu);
    pending_free(p);
    return ok;
}

static void report_now(struct mw_expo_daemon *d)
{
    struct pending p;
    pthread_mutex_lock(&d->mu);
    int rc = collect_reports(d, "live", &p);
    pthread_mutex_unlock(&d->mu);
    if (rc == MW_OK && p.n)
        submit_reports(d, &p, NULL);
}

/* ---- threads ------------------------------------------------------------ */

static void *live_main(void *arg)
{
    struct live *l = arg;
    struct mw_expo_daemon *d = l->d;
    while (!atomic_load(&d->stopping)) {
        long n = mw_pcap_run(l->p, LIVE_BATCH, LIVE_TIMEOUT_MS);
        pthread_mutex_lock(&d->mu);
        l->stats = *mw_pcap_stats(l->p);
        if (n < 0)
            d->c.live_read_errors++;
        pthread_mutex_unlock(&d->mu);
        if (n < 0 && !atomic_load(&d->stopping)) {
            mw_warn(MOD, "live capture on %s: %s (%s); retrying in 1 s", l->ifname,
                    mw_strerror((int)n), mw_pcap_error(l->p));
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void *reporter_main(void *arg)
{
    struct mw_expo_daemon *d = arg;
    pthread_mutex_lock(&d->stop_mu);
    while (!atomic_load(&d->stopping)) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += d->report_ns / 1000000000LL;
        dl.tv_nsec += d->report_ns % 1000000000LL;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->stop_cv, &d->stop_mu, &dl);
        if (atomic_load(&d->stopping))
            break;
        pthread_mutex_unlock(&d->stop_mu);
        report_now(d);
        pthread_mutex_lock(&d->stop_mu);
    }
    pthread_mutex_unlock(&d->stop_mu);
    return NULL;
}

int mw_expo_daemon_start(mw_expo_daemon_t *d)
{
    if (!d || d->started)
        return MW_EINVAL;
    /* interfaces: separated by ',', ';' or white space */
    size_t cap = 0;
    for (const char *p = d->interfaces; *p; p++)
        cap += (*p == ',' || *p == ';' || *p == ' ');
    cap++;
    d->live = calloc(cap, sizeof *d->live);
    if (!d->live)
        return MW_ENOMEM;
    d->started = 1;
    const char *p = d->interfaces;
    while (*p) {
        size_t len = strcspn(p, ",; \t");
        if (len == 0) {
            p++;
            continue;
        }
        struct live *l = &d->live[d->nlive];
        l->d = d;
        snprintf(l->ifname, sizeof l->ifname, "%.*s", (int)(len < 63 ? len : 63), p);
        p += len;
        snprintf(l->label, sizeof l->label, "live:%s", l->ifname);
        mw_expo_scan_sink(d->sc, l->label, &l->inner);
        mw_flow_sink_t s = {l, live_tcp_data, live_tcp_gap, live_udp_data, live_flow_end};
        char err[256] = "";
        int rc = mw_pcap_open_live(l->ifname, d->bpf[0] ? d->bpf : NULL, &s, d->max_flows, &l->p,
                                   err, sizeof err);
        if (rc != MW_OK) {
            pthread_mutex_lock(&d->mu);
            d->c.live_open_failed++;
            pthread_mutex_unlock(&d->mu);
            mw_error(MOD,
                     "live capture on %s refused: %s (%s); capturing needs CAP_NET_RAW "
                     "(setcap cap_net_raw+ep mwraspd, or run as root); the daemon runs on "
                     "without it",
                     l->ifname, err[0] ? err : "cannot open", mw_strerror(rc));
            l->p = NULL;
            d->nlive++;
            continue;
        }
        if (pthread_create(&l->th, NULL, live_main, l) != 0) {
            mw_pcap_free(l->p);
            l->p = NULL;
            d->nlive++;
            return MW_ENOMEM;
        }
        l->running = 1;
        mw_info(MOD, "live capture on %s (filter \"%s\")", l->ifname, d->bpf);
        d->nlive++;
    }
    if (pthread_create(&d->reporter, NULL, reporter_main, d) != 0)
        return MW_ENOMEM;
    d->reporter_running = 1;
    return MW_OK;
}

void mw_expo_daemon_stop(mw_expo_daemon_t *d)
{
    if (!d || !d->started || d->stopped)
        return;
    atomic_store(&d->stopping, 1);
    for (size_t i = 0; i < d->nlive; i++)
        if (d->live[i].running)
            mw_pcap_break(d->live[i].p);
    for (size_t i = 0; i < d->nlive; i++) {
        struct live *l = &d->live[i];
        if (l->running) {
            pthread_join(l->th, NULL);
            l->running = 0;
        }
        if (l->p) {
            mw_pcap_flush(l->p); /* flow_end of every open flow, into the scanner */
            pthread_mutex_lock(&d->mu);
            l->stats = *mw_pcap_stats(l->p);
            pthread_mutex_unlock(&d->mu);
            mw_pcap_free(l->p);
            l->p = NULL;
        }
    }
    pthread_mutex_lock(&d->stop_mu);
    pthread_cond_broadcast(&d->stop_cv);
    pthread_mutex_unlock(&d->stop_mu);
    if (d->reporter_running) {
        pthread_join(d->reporter, NULL);
        d->reporter_running = 0;
    }
    if (d->nlive)
        report_now(d); /* what the live captures saw last */
    d->stopped = 1;
}

void mw_expo_daemon_free(mw_expo_daemon_t *d)
{
    if (!d)
        return;
    mw_expo_daemon_stop(d);
    free(d->live);
    mw_expo_scan_free(d->sc);
    free(d->rep);
    free(d->tagged);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->stop_mu);
    pthread_cond_destroy(&d->stop_cv);
    free(d);
}

/* ---- uploads ------------------------------------------------------------ */

static int answer_json(mw_expo_answer_t *ans, int status, json_t *j)
{
    ans->status = status;
    ans->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return ans->body ? MW_OK : MW_ENOMEM;
}

static int answer_error(mw_expo_answer_t *ans, int status, const char *code, const char *msg)
{
    return answer_json(ans, status,
                       json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

/* pcap (RFC-less de-facto format, both byte orders, micro and nanosecond
 * magics) or pcapng (draft-ietf-opsawg-pcapng, Section Header Block type
 * 0x0A0D0D0A). */
static int capture_magic(const uint8_t *b, size_t len)
{
    static const uint8_t magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
        {0xa1, 0xb2, 0x3c, 0x4d}, {0x0a, 0x0d, 0x0d, 0x0a},
    };
    if (len < 24)
        return 0;
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(b, magics[i], 4) == 0)
            return 1;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void mw_expo_daemon_refused(mw_expo_daemon_t *d, int too_large)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    if (too_large)
        d->c.uploads_too_large++;
    else
        d->c.uploads_unreadable++;
    pthread_mutex_unlock(&d->mu);
}

static int upload_impl(mw_expo_daemon_t *d, const void *data, size_t len, const char *label,
                       mw_expo_answer_t *ans)
{
    char path[MW_CONFIG_STR_MAX + 32], name[96], err[512] = "", msg[600];
    memset(ans, 0, sizeof *ans);
    if (atomic_load(&d->stopping))
        return answer_error(ans, 503, "unavailable", "the daemon is stopping");
    if (!data || !capture_magic(data, len)) {
        pthread_mutex_lock(&d->mu);
        d->c.uploads_not_pcap++;
        pthread_mutex_unlock(&d->mu);
        return answer_error(ans, 400, "not_pcap",
                            "the body is not a pcap or pcapng capture (no file magic)");
    }
    snprintf(path, sizeof path, "%s/.mwrasp-upload-XXXXXX", d->tmp_dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(msg, sizeof msg, "cannot create a temporary file in %s: %s", d->tmp_dir,
                 strerror(errno));
        mw_error(MOD, "%s", msg);
        return answer_error(ans, 500, "internal", msg);
    }
    int wrc = write_all(fd, data, len);
    if (close(fd) != 0)
        wrc = -1;
    if (wrc != 0) {
        snprintf(msg, sizeof msg, "cannot write the temporary file %s: %s", path, strerror(errno));
        unlink(path);
        mw_error(MOD, "%s", msg);
        return answer_error(ans, 500, "internal", msg);
    }

    pthread_mutex_lock(&d->mu);
    unsigned seq = ++d->upload_seq;
    if (label && label[0])
        snprintf(name, sizeof name, "%s", label);
    else
        snprintf(name, sizeof name, "upload-%u", seq);
    const mw_expo_scan_stats_t *st = mw_expo_scan_stats(d->sc);
    mw_expo_scan_stats_t before = *st;
    int rc = mw_expo_scan_file(d->sc, path, name, err, sizeof err);
    mw_expo_scan_stats_t after = *mw_expo_scan_stats(d->sc);
    uint64_t packets = after.pcap.packets - before.pcap.packets;
    uint64_t malformed = (after.pcap.skipped_malformed - before.pcap.skipped_malformed) +
                         (after.pcap.skipped_link - before.pcap.skipped_link) +
                         (after.tls_malformed - before.tls_malformed) +
                         (after.quic_malformed - before.quic_malformed) +
                         (after.ssh_errors - before.ssh_errors);
    struct pending p = {0};
    int crc = MW_OK;
    if (rc != MW_OK && packets == 0) {
        d->c.uploads_unreadable++;
    } else {
        d->c.uploads_accepted++;
        d->c.upload_packets += packets;
        d->c.upload_bytes += after.pcap.bytes - before.pcap.bytes;
        d->c.upload_malformed += malformed;
        crc = collect_reports(d, name, &p);
    }
    pthread_mutex_unlock(&d->mu);
    unlink(path);
    if (rc != MW_OK && packets == 0) {
        snprintf(msg, sizeof msg, "the capture could not be read: %s", err);
        return answer_error(ans, 400, "bad_capture", msg);
    }
    size_t threats = 0;
    int ack_rc = MW_OK;
    if (crc == MW_OK && p.n) {
        mw_ack_t ack;
        mw_ack_init(&ack);
        threats = submit_reports(d, &p, &ack);
        ack_rc = mw_ack_wait(&ack, UPLOAD_ACK_MS);
        if (ack_rc == MW_EAGAIN)
            ack_rc = mw_ack_wait(&ack, -1); /* the writer always ends every event */
        mw_ack_destroy(&ack);
    } else {
        pending_free(&p);
    }
    json_t *ss = json_object();
    for (int c = 0; ss && c < 4; c++)
        json_object_set_new(ss, mw_expo_class_name((mw_expo_class_t)c),
                            json_integer((json_int_t)(after.sessions[c] - before.sessions[c])));
    json_t *o =
        json_pack("{s:s,s:I,s:I,s:I,s:o,s:I,s:I,s:I}", "file", name, "packets", (json_int_t)packets,
                  "bytes", (json_int_t)(after.pcap.bytes - before.pcap.bytes), "flows",
                  (json_int_t)(after.flows - before.flows), "sessions", ss ? ss : json_null(),
                  "malformed", (json_int_t)malformed, "services",
                  (json_int_t)mw_expo_scan_service_count(d->sc), "threats", (json_int_t)threats);
    if (o && rc != MW_OK)
        json_object_set_new(o, "warning", json_string(err));
    if (o && (crc != MW_OK || ack_rc != MW_OK))
        json_object_set_new(o, "warning",
                            json_string("the threats of this capture could not all be written"));
    return answer_json(ans, 200, o);
}

struct upload_job {
    mw_expo_daemon_t *d;
    const void *data;
    size_t len;
    const char *label;
    mw_expo_answer_t *ans;
    int rc;
};

static void *upload_main(void *arg)
{
    struct upload_job *j = arg;
    j->rc = upload_impl(j->d, j->data, j->len, j->label, j->ans);
    return NULL;
}

/* The scan runs on a thread of its own with the default stack size: HTTP
 * worker threads (civetweb) have ~100 KiB stacks, too little for the
 * scanner and the parsers. */
int mw_expo_daemon_upload(mw_expo_daemon_t *d, const void *data, size_t len, const char *label,
                          mw_expo_answer_t *ans)
{
    struct upload_job j = {d, data, len, label, ans, MW_ENOMEM};
    pthread_attr_t at;
    pthread_t th;
    memset(ans, 0, sizeof *ans);
    if (pthread_attr_init(&at) != 0)
        return MW_ENOMEM;
    pthread_attr_setstacksize(&at, 8u << 20);
    int prc = pthread_create(&th, &at, upload_main, &j);
    pthread_attr_destroy(&at);
    if (prc != 0)
        return answer_error(ans, 503, "unavailable", "cannot start a scan thread");
    pthread_join(th, NULL);
    return j.rc;
}

/* ---- summary and metrics ------------------------------------------------ */

struct order {
    size_t i;
    uint64_t exposed;
};

static int by_exposed(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->exposed != y->exposed)
        return x->exposed < y->exposed ? 1 : -1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int mw_expo_daemon_summary(mw_expo_daemon_t *d, int cls, uint64_t min_exposed,
                           mw_expo_answer_t *ans)
{
    memset(ans, 0, sizeof *ans);
    json_t *arr = json_array();
    if (!arr)
        return MW_ENOMEM;
    pthread_mutex_lock(&d->mu);
    size_t n = mw_expo_scan_service_count(d->sc);
    struct order *ord = calloc(n ? n : 1, sizeof *ord);
    size_t k = 0;
    int rc = MW_OK;
    if (!ord) {
        rc = MW_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const mw_expo_service_t *sv = mw_expo_scan_service(d->sc, i);
        if ((cls >= 0 && (int)sv->worst != cls) || sv->exposed_bytes < min_exposed)
            continue;
        ord[k].i = i;
        ord[k].exposed = sv->exposed_bytes;
        k++;
    }
    qsort(ord, k, sizeof *ord, by_exposed);
    for (size_t j = 0; j < k; j++) {
        size_t i = ord[j].i;
        json_t *o =
            service_json(d, mw_expo_scan_service(d->sc, i), i < d->rep_cap ? &d->rep[i] : NULL);
        if (!o || json_array_append_new(arr, o) != 0) {
            rc = MW_ENOMEM;
            goto out;
        }
    }
out:
    pthread_mutex_unlock(&d->mu);
    free(ord);
    if (rc != MW_OK) {
        json_decref(arr);
        return rc;
    }
    return answer_json(ans, 200, arr);
}

char *mw_expo_daemon_metrics(mw_expo_daemon_t *d)
{
    if (!d)
        return NULL;
    mw_pcap_stats_t live = {0};
    pthread_mutex_lock(&d->mu);
    struct counters c = d->c;
    mw_expo_scan_stats_t st = *mw_expo_scan_stats(d->sc);
    size_t nsvc = mw_expo_scan_service_count(d->sc), nexp = 0;
    for (size_t i = 0; i < nsvc; i++)
        nexp += is_exposed(d, mw_expo_scan_service(d->sc, i));
    size_t running = 0, failed = 0;
    for (size_t i = 0; i < d->nlive; i++) {
        const mw_pcap_stats_t *s = &d->live[i].stats;
        live.packets += s->packets;
        live.bytes += s->bytes;
        live.skipped_malformed += s->skipped_malformed + s->skipped_link;
        live.read_errors += s->read_errors;
        running += d->live[i].running;
        failed += d->live[i].p == NULL && !d->stopped;
    }
    pthread_mutex_unlock(&d->mu);

    size_t cap = 8192;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int n = snprintf(
        s, cap,
        "# HELP mwrasp_exposure_packets_total Packets read by the exposure scanner, per source.\n"
        "# TYPE mwrasp_exposure_packets_total counter\n"
        "mwrasp_exposure_packets_total{source=\"live\"} %llu\n"
        "mwrasp_exposure_packets_total{source=\"upload\"} %llu\n"
        "# HELP mwrasp_exposure_bytes_total Captured bytes read by the exposure scanner.\n"
        "# TYPE mwrasp_exposure_bytes_total counter\n"
        "mwrasp_exposure_bytes_total{source=\"live\"} %llu\n"
        "mwrasp_exposure_bytes_total{source=\"upload\"} %llu\n"
        "# HELP mwrasp_exposure_flows_total TCP/UDP flows ended in the exposure scanner.\n"
        "# TYPE mwrasp_exposure_flows_total counter\n"
        "mwrasp_exposure_flows_total %llu\n"
        "# HELP mwrasp_exposure_sessions_total TLS/QUIC/SSH sessions, per class.\n"
        "# TYPE mwrasp_exposure_sessions_total counter\n"
        "mwrasp_exposure_sessions_total{class=\"classical\"} %llu\n"
        "mwrasp_exposure_sessions_total{class=\"pq-hybrid\"} %llu\n"
        "mwrasp_exposure_sessions_total{class=\"pq-only\"} %llu\n"
        "mwrasp_exposure_sessions_total{class=\"unknown\"} %llu\n"
        "# HELP mwrasp_exposure_malformed_total Malformed input counted and skipped.\n"
        "# TYPE mwrasp_exposure_malformed_total counter\n"
        "mwrasp_exposure_malformed_total{kind=\"capture_live\"} %llu\n"
        "mwrasp_exposure_malformed_total{kind=\"capture_upload\"} %llu\n"
        "mwrasp_exposure_malformed_total{kind=\"tls\"} %llu\n"
        "mwrasp_exposure_malformed_total{kind=\"quic\"} %llu\n"
        "mwrasp_exposure_malformed_total{kind=\"ssh\"} %llu\n"
        "# HELP mwrasp_exposure_uploads_total POST /api/v1/exposure/pcap bodies, per result.\n"
        "# TYPE mwrasp_exposure_uploads_total counter\n"
        "mwrasp_exposure_uploads_total{result=\"accepted\"} %llu\n"
        "mwrasp_exposure_uploads_total{result=\"not_pcap\"} %llu\n"
        "mwrasp_exposure_uploads_total{result=\"too_large\"} %llu\n"
        "mwrasp_exposure_uploads_total{result=\"unreadable\"} %llu\n"
        "# HELP mwrasp_exposure_live_open_failures_total Interfaces that could not be opened "
        "(e.g. no CAP_NET_RAW).\n"
        "# TYPE mwrasp_exposure_live_open_failures_total counter\n"
        "mwrasp_exposure_live_open_failures_total %llu\n"
        "# HELP mwrasp_exposure_live_read_errors_total Read errors of live captures.\n"
        "# TYPE mwrasp_exposure_live_read_errors_total counter\n"
        "mwrasp_exposure_live_read_errors_total %llu\n"
        "# HELP mwrasp_exposure_live_interfaces Live capture interfaces, per state.\n"
        "# TYPE mwrasp_exposure_live_interfaces gauge\n"
        "mwrasp_exposure_live_interfaces{state=\"running\"} %zu\n"
        "mwrasp_exposure_live_interfaces{state=\"failed\"} %zu\n"
        "# HELP mwrasp_exposure_services Services in the exposure aggregate.\n"
        "# TYPE mwrasp_exposure_services gauge\n"
        "mwrasp_exposure_services %zu\n"
        "# HELP mwrasp_exposure_exposed_services Services that are hndl-exposure threats.\n"
        "# TYPE mwrasp_exposure_exposed_services gauge\n"
        "mwrasp_exposure_exposed_services %zu\n"
        "# HELP mwrasp_exposure_threat_reports_total hndl-exposure detections written "
        "(new threats and updates).\n"
        "# TYPE mwrasp_exposure_threat_reports_total counter\n"
        "mwrasp_exposure_threat_reports_total %llu\n"
        "# HELP mwrasp_exposure_threat_report_errors_total hndl-exposure detections that could "
        "not be built or handed to the engine.\n"
        "# TYPE mwrasp_exposure_threat_report_errors_total counter\n"
        "mwrasp_exposure_threat_report_errors_total %llu\n",
        (unsigned long long)live.packets, (unsigned long long)c.upload_packets,
        (unsigned long long)live.bytes, (unsigned long long)c.upload_bytes,
        (unsigned long long)st.flows, (unsigned long long)st.sessions[MW_EXPO_CLASSICAL],
        (unsigned long long)st.sessions[MW_EXPO_PQ_HYBRID],
        (unsigned long long)st.sessions[MW_EXPO_PQ_ONLY],
        (unsigned long long)st.sessions[MW_EXPO_UNKNOWN],
        (unsigned long long)(live.skipped_malformed + live.read_errors),
        (unsigned long long)(st.pcap.skipped_malformed + st.pcap.skipped_link +
                             st.pcap.read_errors),
        (unsigned long long)st.tls_malformed, (unsigned long long)st.quic_malformed,
        (unsigned long long)st.ssh_errors, (unsigned long long)c.uploads_accepted,
        (unsigned long long)c.uploads_not_pcap, (unsigned long long)c.uploads_too_large,
        (unsigned long long)c.uploads_unreadable, (unsigned long long)c.live_open_failed,
        (unsigned long long)c.live_read_errors, running, failed, nsvc, nexp,
        (unsigned long long)c.threat_reports, (unsigned long long)c.threat_report_errors);
    if (n < 0 || (size_t)n >= cap) {
        free(s);
        return NULL;
    }
    return s;
}
