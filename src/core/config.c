/* Configuration: the option table drives defaults, YAML loading, --set,
 * validation and the generated reference (docs/config.md). */
#include "mwrasp/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define OPT(n, t, d, field, lo, hi, desc)                                                          \
    {                                                                                              \
        n, t, d, offsetof(struct mw_config, field), sizeof(((struct mw_config *)0)->field), lo,    \
            hi, desc                                                                               \
    }
#define SEC 1000000000ULL

const struct mw_config_opt mw_config_opts[] = {
    OPT("listen.http", MW_OPT_STR, "127.0.0.1:8080", http_listen, 0, 0,
        "Address of the HTTP API and dashboard (HOST:PORT)."),
    OPT("listen.syslog_udp", MW_OPT_STR, "127.0.0.1:5514", syslog_udp_listen, 0, 0,
        "Syslog over UDP (RFC 5424 / RFC 3164); empty to disable."),
    OPT("listen.syslog_tcp", MW_OPT_STR, "127.0.0.1:5514", syslog_tcp_listen, 0, 0,
        "Syslog over TCP, octet-counting or newline framing (RFC 6587); empty to disable."),
    OPT("listen.json_tcp", MW_OPT_STR, "127.0.0.1:5515", json_tcp_listen, 0, 0,
        "JSON lines over TCP (one object per line); empty to disable."),
    OPT("store.path", MW_OPT_STR, "var/mwrasp.db", store_path, 0, 0,
        "SQLite database file (created with its schema if absent)."),
    OPT("rules.dir", MW_OPT_STR, "rules", rules_dir, 0, 0,
        "Directories of Sigma rules, separated by ':' and loaded in order "
        "(*.yml, *.yaml, searched recursively), e.g. rules:/opt/sigma/rules/windows."),
    OPT("rules.pipeline", MW_OPT_STR, "", rules_pipeline, 0, 0,
        "Logsource pipeline for the Sigma rules: a name (sysmon, windows-audit: "
        "pipelines/NAME.yml) or a file; empty = rules match as written."),
    OPT("log.level", MW_OPT_STR, "info", log_level, 0, 0, "debug, info, warn or error."),
    OPT("pipeline.workers", MW_OPT_U32, "2", workers, 1, 64,
        "Detection worker threads; events are sharded over them by host."),
    OPT("pipeline.ring_size", MW_OPT_U32, "65536", ring_size, 64, 1u << 24,
        "Capacity of each worker's input ring (events); rounded up to a power of two."),
    OPT("pipeline.batch_max", MW_OPT_U32, "4096", batch_max, 1, 1u << 20,
        "Most events the writer commits in one transaction."),
    OPT("threats.dedup_window", MW_OPT_DURATION, "60s", dedup_window_ns, 0, 30ULL * 86400 * SEC,
        "Detections of the same rule on the same host within this window fold into one threat."),
    OPT("events.retention", MW_OPT_DURATION, "24h", retention_ns, SEC, 3650ULL * 86400 * SEC,
        "How long raw events are kept."),
    OPT("events.cleanup_interval", MW_OPT_DURATION, "60s", cleanup_interval_ns, SEC, 86400ULL * SEC,
        "How often expired events are removed."),
    OPT("ingest.max_line", MW_OPT_SIZE, "64KiB", max_line, 256, 1u << 20,
        "Longest accepted line, datagram or frame (bytes); longer ones are refused and counted."),
    OPT("api.max_body", MW_OPT_SIZE, "10MiB", max_body, 1024, 1u << 30,
        "Largest accepted HTTP request body (bytes); larger ones get 413."),
    OPT("api.threads", MW_OPT_U32, "8", api_threads, 1, 256, "HTTP server worker threads."),
    OPT("listen.https", MW_OPT_STR, "", https_listen, 0, 0,
        "Address of the HTTPS API and dashboard (HOST:PORT), TLS 1.3 with api.tls_cert and "
        "api.tls_key; empty = no TLS listener. listen.http may then be empty."),
    OPT("api.allow_plain_http", MW_OPT_STR, "no", api_allow_plain_http, 0, 0,
        "yes: listen.http may bind a non-loopback address (plain HTTP over a network); no: the "
        "daemon refuses to start unless listen.http is loopback (127.0.0.0/8, localhost, "
        "[::1]) or empty."),
    OPT("api.tls_cert", MW_OPT_STR, "", api_tls_cert, 0, 0,
        "PEM certificate (chain) of listen.https (`mwrasp cert selfsigned` makes one)."),
    OPT("api.tls_key", MW_OPT_STR, "", api_tls_key, 0, 0, "PEM private key of api.tls_cert."),
    OPT("api.tls_min_version", MW_OPT_STR, "1.3", api_tls_min_version, 0, 0,
        "Lowest TLS version accepted: 1.3 (default), or 1.2 (ECDHE + AEAD suites only)."),
    OPT("api.tls_client_ca", MW_OPT_STR, "", api_tls_client_ca, 0, 0,
        "PEM file of the CA(s) that sign client certificates (mTLS); empty = no client "
        "certificates asked for."),
    OPT("api.tls_client_verify", MW_OPT_STR, "optional", api_tls_client_verify, 0, 0,
        "With api.tls_client_ca: optional (a client may present a certificate; a bad one fails "
        "the handshake) or required (no certificate, no connection)."),
    OPT("api.tls_client_roles", MW_OPT_LIST, "", api_tls_client_roles, 0, 0,
        "Roles of client certificates: entries CN=NAME:ROLE or SHA256=HEX:ROLE (SHA-256 of the "
        "certificate's DER, ':' between bytes allowed), ROLE ingest, viewer, analyst or admin; a "
        "verified certificate that matches authenticates the request without an API key."),
    OPT("api.rate.address", MW_OPT_STR, "10000/min burst 20000", api_rate_address, 0, 0,
        "Token bucket per client address, for every request but /health/*: N/min or N/s, "
        "optional burst M (default N/min), or off. Over it: 429 with Retry-After."),
    OPT("api.rate.ingest", MW_OPT_STR, "10000/min burst 20000", api_rate_ingest, 0, 0,
        "Token bucket per API key, JWT subject or client certificate of the ingest role."),
    OPT("api.rate.viewer", MW_OPT_STR, "10000/min burst 20000", api_rate_viewer, 0, 0,
        "Token bucket per API key, JWT subject or client certificate of the viewer role."),
    OPT("api.rate.analyst", MW_OPT_STR, "10000/min burst 20000", api_rate_analyst, 0, 0,
        "Token bucket per API key, JWT subject or client certificate of the analyst role."),
    OPT("api.rate.admin", MW_OPT_STR, "10000/min burst 20000", api_rate_admin, 0, 0,
        "Token bucket per API key, JWT subject or client certificate of the admin role."),
    OPT("api.rate.max_clients", MW_OPT_U32, "100000", api_rate_max_clients, 16, 1u << 24,
        "Most buckets (addresses + identities) tracked; the least recently used is dropped to "
        "make room (it comes back full)."),
    OPT("api.header_timeout", MW_OPT_DURATION, "10s", api_header_timeout_ns, SEC / 10, 600ULL * SEC,
        "Time a client has to send its whole request head (and each body read); then 408 and "
        "the connection is closed (slowloris)."),
    OPT("api.web_root", MW_OPT_STR, "build/web", api_web_root, 0, 0,
        "Directory of the dashboard served at / (built by make: web/ plus uPlot, in "
        "BUILD/web); empty = no dashboard. Static files need no API key; the API does."),
    OPT("api.ws_max_clients", MW_OPT_U32, "256", ws_max_clients, 1, 16384,
        "Most WebSocket stream clients (/api/v1/stream) at once; more get 503. Each holds one "
        "HTTP server thread (added to api.threads) and one sender thread."),
    OPT("api.ws_max_frame", MW_OPT_SIZE, "64KiB", ws_max_frame, 125, 16u << 20,
        "Largest message a stream client may send (bytes, fragments added up); larger ones "
        "close the connection with 1009."),
    OPT("api.ws_queue", MW_OPT_U32, "4096", ws_queue, 4, 1u << 20,
        "Messages queued for one stream client; a client that lets its queue fill (it reads "
        "too slowly) is dropped with close code 1008, publishers never wait for it. Keep it "
        "above 2048, the most threats one commit of the engine notifies at once."),
    OPT("api.ws_ping_interval", MW_OPT_DURATION, "20s", ws_ping_interval_ns, SEC / 10,
        3600ULL * SEC, "How often the server pings each stream client."),
    OPT("api.ws_pong_timeout", MW_OPT_DURATION, "10s", ws_pong_timeout_ns, SEC / 10, 3600ULL * SEC,
        "A stream client that has not answered a ping after this long is closed (1008)."),
    OPT("api.ws_auth_timeout", MW_OPT_DURATION, "5s", ws_auth_timeout_ns, SEC / 10, 60ULL * SEC,
        "Time a stream client that sent no credentials with the upgrade request has to send "
        "its {\"type\":\"auth\"} message; then it is closed (1008)."),
    OPT("exposure.interfaces", MW_OPT_LIST, "", exposure_interfaces, 0, 0,
        "Interfaces captured live by the quantum-exposure scanner (a YAML list, or names "
        "separated by ',' or ';'); empty = no live capture. Needs CAP_NET_RAW: without it the "
        "daemon logs the refusal, counts it and runs on (docs/exposure.md)."),
    OPT("exposure.bpf", MW_OPT_STR, "tcp or udp", exposure_bpf, 0, 0,
        "BPF filter of the live captures. Not restricted to ports: TLS, QUIC and SSH are "
        "recognised by their bytes on any port; empty = every packet."),
    OPT("exposure.max_flows", MW_OPT_U32, "65536", exposure_max_flows, 64, 1u << 22,
        "Most flows tracked at once per live interface (the oldest idle flow is evicted)."),
    OPT("exposure.upload_max", MW_OPT_SIZE, "64MiB", exposure_upload_max, 1024, 1u << 30,
        "Largest capture accepted by POST /api/v1/exposure/pcap (bytes); larger ones get 413."),
    OPT("exposure.min_exposed_bytes", MW_OPT_SIZE, "1", exposure_min_exposed_bytes, 0, 0xffffffffu,
        "A service becomes an hndl-exposure threat once its sessions with a classical key "
        "exchange carried at least this many payload bytes after the handshake."),
    OPT("exposure.service_tags", MW_OPT_LIST, "", exposure_service_tags, 0, 0,
        "Criticality tags of services, entries SERVICE=TAG[,TAG] (a YAML list, or entries "
        "separated by ';'); SERVICE is ADDR:PORT ([v6]:PORT), ADDR, or a TLS server name. "
        "Tags raise or lower the severity of hndl-exposure threats (docs/exposure.md)."),
    OPT("exposure.report_interval", MW_OPT_DURATION, "10s", exposure_report_interval_ns, SEC / 10,
        86400ULL * SEC,
        "How often services seen by live capture are turned into (or update) threats."),
    OPT("api.auth", MW_OPT_STR, "required", api_auth, 0, 0,
        "required: every API call but /health/*, /api/v1/openapi.yaml, the dashboard's files "
        "(and /metrics, see api.metrics_public) needs an API key or a JWT (docs/api.md); off: "
        "no credentials, everyone is admin (refused unless listen.http is a loopback address)."),
    OPT("api.metrics_public", MW_OPT_STR, "auto", api_metrics_public, 0, 0,
        "Whether GET /metrics (Prometheus) is served without credentials: yes, no, or auto "
        "(yes when listen.http is a loopback address, else a viewer key is needed)."),
    OPT("api.admin_key_file", MW_OPT_STR, "", api_admin_key_file, 0, 0,
        "At first start (no admin key in the store) the daemon creates an admin API key, prints "
        "it once and, if this is set, writes it to this file (mode 0600)."),
    OPT("api.jwt_hs256_secret_file", MW_OPT_STR, "", api_jwt_hs256_secret_file, 0, 0,
        "File holding the HS256 secret of JWT bearer tokens (RFC 7519; at least 32 bytes, a "
        "trailing newline is dropped); empty = HS256 tokens are refused."),
    OPT("api.jwt_ed25519_public_key", MW_OPT_STR, "", api_jwt_ed25519_public_key, 0, 0,
        "PEM file with the Ed25519 public key of EdDSA JWT bearer tokens (RFC 8037); empty = "
        "EdDSA tokens are refused."),
    OPT("api.jwt_issuer", MW_OPT_STR, "", api_jwt_issuer, 0, 0,
        "Required `iss` claim of JWTs; empty = not checked."),
    OPT("api.jwt_audience", MW_OPT_STR, "", api_jwt_audience, 0, 0,
        "Required `aud` claim of JWTs (a string, or one of an array); empty = not checked."),
    OPT("api.jwt_role_claim", MW_OPT_STR, "role", api_jwt_role_claim, 0, 0,
        "JWT claim naming the role (viewer, ingest, analyst, admin)."),
    OPT("api.jwt_leeway", MW_OPT_DURATION, "30s", api_jwt_leeway_ns, 0, 600ULL * SEC,
        "Clock skew allowed when checking the `exp` and `nbf` claims of JWTs."),
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct mw_config_opt *find_opt(const char *name)
{
    for (const struct mw_config_opt *o = mw_config_opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

int mw_parse_duration(const char *s, int64_t *out_ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return MW_EINVAL;
    double mul;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1e9;
    else if (strcmp(end, "ns") == 0)
        mul = 1;
    else if (strcmp(end, "us") == 0)
        mul = 1e3;
    else if (strcmp(end, "ms") == 0)
        mul = 1e6;
    else if (strcmp(end, "m") == 0)
        mul = 60e9;
    else if (strcmp(end, "h") == 0)
        mul = 3600e9;
    else if (strcmp(end, "d") == 0)
        mul = 86400e9;
    else
        return MW_EINVAL;
    double ns = v * mul;
    if (ns > 9.2e18)
        return MW_EINVAL;
    *out_ns = (int64_t)ns;
    return MW_OK;
}

int mw_parse_size(const char *s, uint64_t *out_bytes)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return MW_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno)
        return MW_EINVAL;
    uint64_t mul;
    if (*end == '\0' || strcmp(end, "B") == 0)
        mul = 1;
    else if (strcmp(end, "KiB") == 0 || strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
        mul = 1024;
    else if (strcmp(end, "MiB") == 0 || strcmp(end, "m") == 0 || strcmp(end, "M") == 0)
        mul = 1024 * 1024;
    else if (strcmp(end, "GiB") == 0 || strcmp(end, "g") == 0 || strcmp(end, "G") == 0)
        mul = 1024ULL * 1024 * 1024;
    else
        return MW_EINVAL;
    if (v > UINT64_MAX / mul)
        return MW_EINVAL;
    *out_bytes = v * mul;
    return MW_OK;
}

static int set_opt(struct mw_config *cfg, const struct mw_config_opt *o, const char *value,
                   char *err, size_t errlen)
{
    char *dst = (char *)cfg + o->offset;
    switch (o->type) {
    case MW_OPT_STR:
    case MW_OPT_LIST:
        if (strlen(value) >= o->size) {
            snprintf(err, errlen, "%s: value longer than %zu bytes", o->name, o->size - 1);
            return MW_ECONFIG;
        }
        memcpy(dst, value, strlen(value) + 1);
        return MW_OK;
    case MW_OPT_U32: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (*value == '-' || end == value || *end || errno || v < o->min || v > o->max) {
            snprintf(err, errlen, "%s: expected an integer in %llu..%llu, got \"%s\"", o->name,
                     (unsigned long long)o->min, (unsigned long long)o->max, value);
            return MW_ECONFIG;
        }
        *(uint32_t *)(void *)dst = (uint32_t)v;
        return MW_OK;
    }
    case MW_OPT_DURATION: {
        int64_t ns;
        if (mw_parse_duration(value, &ns) != MW_OK || (uint64_t)ns < o->min ||
            (uint64_t)ns > o->max) {
            snprintf(err, errlen,
                     "%s: expected a duration like 500ms, 60s, 24h (%llus..%llus), got \"%s\"",
                     o->name, (unsigned long long)(o->min / SEC),
                     (unsigned long long)(o->max / SEC), value);
            return MW_ECONFIG;
        }
        *(int64_t *)(void *)dst = ns;
        return MW_OK;
    }
    case MW_OPT_SIZE: {
        uint64_t b;
        if (mw_parse_size(value, &b) != MW_OK || b < o->min || b > o->max) {
            snprintf(err, errlen, "%s: expected a size like 64KiB (%llu..%llu bytes), got \"%s\"",
                     o->name, (unsigned long long)o->min, (unsigned long long)o->max, value);
            return MW_ECONFIG;
        }
        *(uint32_t *)(void *)dst = (uint32_t)b;
        return MW_OK;
    }
    }
    return MW_EINVAL;
}

void mw_config_defaults(struct mw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (const struct mw_config_opt *o = mw_config_opts; o->name; o++)
        if (set_opt(cfg, o, o->def, err, sizeof err) != MW_OK)
            abort(); /* a bad default is a programming error */
}

int mw_config_set(struct mw_config *cfg, const char *name, const char *value, char *err,
                  size_t errlen)
{
    const struct mw_config_opt *o = find_opt(name);
    if (!o) {
        snprintf(err, errlen, "unknown option \"%s\"", name);
        return MW_ECONFIG;
    }
    return set_opt(cfg, o, value, err, errlen);
}

/* A YAML sequence of scalars for a list option, the SEQUENCE_START event
 * just read: the items joined with ';' (an item holding ';' or a nested
 * node is an error). */
static int load_list(yaml_parser_t *p, struct mw_config *cfg, const struct mw_config_opt *o,
                     const char *path, char *err, size_t errlen)
{
    char *buf = calloc(1, o->size);
    size_t len = 0;
    int rc = MW_ECONFIG;
    char msg[256];
    yaml_event_t ev;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MW_ENOMEM;
    }
    for (;;) {
        if (!yaml_parser_parse(p, &ev)) {
            snprintf(err, errlen, "%s:%zu:%zu: yaml error: %s", path, p->problem_mark.line + 1,
                     p->problem_mark.column + 1, p->problem ? p->problem : "syntax error");
            goto out;
        }
        size_t line = ev.start_mark.line + 1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            snprintf(err, errlen, "%s:%zu: %s: list items must be plain values", path, line,
                     o->name);
            yaml_event_delete(&ev);
            goto out;
        }
        const char *v = (const char *)ev.data.scalar.value;
        size_t vl = strlen(v);
        if (memchr(v, ';', vl) || len + (len ? 1 : 0) + vl >= o->size) {
            snprintf(err, errlen, "%s:%zu: %s: %s", path, line, o->name,
                     vl && memchr(v, ';', vl) ? "a list item cannot contain ';'"
                                              : "list longer than the option allows");
            yaml_event_delete(&ev);
            goto out;
        }
        if (len)
            buf[len++] = ';';
        memcpy(buf + len, v, vl + 1);
        len += vl;
        yaml_event_delete(&ev);
    }
    if (mw_config_set(cfg, o->name, buf, msg, sizeof msg) != MW_OK) {
        snprintf(err, errlen, "%s: %s", path, msg);
        goto out;
    }
    rc = MW_OK;
out:
    free(buf);
    return rc;
}

/* YAML loading: a tree of mappings whose leaves are scalars (or, for list
 * options, sequences of scalars); keys are joined with dots. Depth is capped
 * at 8. */
#define MAX_DEPTH 8
int mw_config_load_file(struct mw_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return MW_EIO;
    }
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = MW_OK, have_ev = 0;
    char prefix[MAX_DEPTH][128];
    size_t depth = 0; /* mapping nesting */
    int expect_key[MAX_DEPTH + 1] = {0};
    char key[128] = "";
    char msg[256];
    if (!yaml_parser_initialize(&p)) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", path);
        return MW_ENOMEM;
    }
    yaml_parser_set_input_file(&p, fp);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(err, errlen, "%s:%zu:%zu: yaml error: %s", path, p.problem_mark.line + 1,
                     p.problem_mark.column + 1, p.problem ? p.problem : "syntax error");
            rc = MW_ECONFIG;
            goto out;
        }
        have_ev = 1;
        size_t line = ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            goto out;
        case YAML_MAPPING_START_EVENT:
            if (depth > 0 && expect_key[depth]) {
                snprintf(err, errlen, "%s:%zu: a mapping cannot be a key", path, line);
                rc = MW_ECONFIG;
                goto out;
            }
            if (depth >= MAX_DEPTH) {
                snprintf(err, errlen, "%s:%zu: nested deeper than %d levels", path, line,
                         MAX_DEPTH);
                rc = MW_ECONFIG;
                goto out;
            }
            if (depth > 0) /* the key just read names this mapping */
                memcpy(prefix[depth], key, sizeof key);
            depth++;
            expect_key[depth] = 1;
            break;
        case YAML_MAPPING_END_EVENT:
            if (depth > 0)
                depth--;
            if (depth > 0)
                expect_key[depth] = 1;
            break;
        case YAML_SEQUENCE_START_EVENT: {
            const struct mw_config_opt *o = find_opt(key);
            if (depth == 0 || expect_key[depth] || !o || o->type != MW_OPT_LIST) {
                snprintf(err, errlen, "%s:%zu: lists are not valid here (key \"%s\")", path, line,
                         key);
                rc = MW_ECONFIG;
                goto out;
            }
            rc = load_list(&p, cfg, o, path, err, errlen);
            if (rc != MW_OK)
                goto out;
            expect_key[depth] = 1;
            break;
        }
        case YAML_ALIAS_EVENT:
            snprintf(err, errlen, "%s:%zu: aliases are not supported", path, line);
            rc = MW_ECONFIG;
            goto out;
        case YAML_SCALAR_EVENT: {
            const char *val = (const char *)ev.data.scalar.value;
            if (depth == 0) {
                snprintf(err, errlen, "%s:%zu: expected a mapping of options", path, line);
                rc = MW_ECONFIG;
                goto out;
            }
            if (expect_key[depth]) {
                /* key = full path of the enclosing mapping "." val */
                const char *parent = depth > 1 ? prefix[depth - 1] : "";
                size_t pl = strlen(parent), vl = strlen(val);
                if (pl + vl + 2 > sizeof key) {
                    snprintf(err, errlen, "%s:%zu: key too long", path, line);
                    rc = MW_ECONFIG;
                    goto out;
                }
                memcpy(key, parent, pl);
                if (pl)
                    key[pl++] = '.';
                memcpy(key + pl, val, vl + 1);
                expect_key[depth] = 0;
            } else {
                if (mw_config_set(cfg, key, val, msg, sizeof msg) != MW_OK) {
                    snprintf(err, errlen, "%s:%zu: %s", path, line, msg);
                    rc = MW_ECONFIG;
                    goto out;
                }
                expect_key[depth] = 1;
            }
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        have_ev = 0;
    }
out:
    if (have_ev)
        yaml_event_delete(&ev);
    yaml_parser_delete(&p);
    fclose(fp);
    return rc;
}

void mw_config_write_reference(void *fpv)
{
    FILE *fp = fpv;
    static const char *const tn[] = {"string", "integer", "duration", "size", "list"};
    fprintf(fp, "| option | type | default | description |\n|---|---|---|---|\n");
    for (const struct mw_config_opt *o = mw_config_opts; o->name; o++)
        fprintf(fp, "| `%s` | %s | `%s` | %s |\n", o->name, tn[o->type], o->def, o->description);
}
