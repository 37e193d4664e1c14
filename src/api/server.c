/* The HTTP server: civetweb glue and the route table. The work of each
 * route is in query.c (parameters), json.c (shaping) and intake.c (event
 * bodies); this file reads requests, calls the store/engine and writes
 * answers. Every answer it writes (including errors) is JSON, except
 * /metrics (Prometheus text) and /api/v1/openapi.yaml (YAML). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <time.h>

#include <civetweb.h>
#include <openssl/crypto.h>

#include "api/api_int.h"
#include "mwrasp/api.h"
#include "mwrasp/exposure.h"
#include "mwrasp/log.h"

#define MOD "api"
#define OPENAPI_MAX (1u << 20)
#define MW_FEATURE_TLS 2u
#define MW_FEATURE_WEBSOCKET 16u

struct mw_api {
    struct mg_context *ctx;
    mw_store_t *store;
    mw_detect_engine_t *engine;
    mw_expo_daemon_t *exposure;
    size_t upload_max;
    mw_sink_t sink;
    int have_sink;
    size_t max_body;
    size_t max_line;
    char *openapi_path;
    int port;
    atomic_int ready;
    int lib_init;
    mw_api_auth_t *auth; /* API keys, JWT (auth.c) */
    int metrics_public; /* GET /metrics without credentials */
    /* rate limits, TLS, the door (ratelimit.c, tls.c, guard.c) */
    mw_ratelimit_t *rate;
    struct mw_rate_spec rate_address;
    struct mw_rate_spec rate_role[MW_ROLE__COUNT]; /* per identity, by role */
    mw_api_tls_t *tls;
    int https_port;
    uint64_t header_timeout_ns;
    mw_api_ws_t *ws; /* the WebSocket stream /api/v1/stream (ws.c) */
    mw_api_readcache_t *readcache; /* GET /api/v1/threats answers (readcache.c) */
};

/* One request as the route table sees it: who calls (auth.c), the {id}
 * of the path, and what the audit log records for state changes. */
struct req {
    struct mw_api_identity who;
    const char *method;
    const char *path;
    const char *idtext; /* the {id} segment, or NULL */
    char target[64]; /* audit: the id acted on */
    char summary[256]; /* audit: a short description, filled by the handler */
};

/* The status of the answer this thread sent last (the audit log reads it:
 * one request is served start to end by one civetweb thread). */
static _Thread_local int last_status;

/* ---- answering ---------------------------------------------------------- */

static void count_status(int status)
{
    if (status >= 500)
        MW_INC(mw_metrics.api_errors_5xx);
    else if (status >= 400)
        MW_INC(mw_metrics.api_errors_4xx);
}

static int send_bytes(struct mg_connection *conn, int status, const char *ctype, const char *body,
                      size_t len, const char *allow)
{
    char cl[32];

    last_status = status;
    count_status(status);
    snprintf(cl, sizeof(cl), "%zu", len);
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", ctype, -1);
    mg_response_header_add(conn, "Content-Length", cl, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    if (allow)
        mg_response_header_add(conn, "Allow", allow, -1);
    mg_response_header_send(conn);
    if (len > 0)
        mg_write(conn, body, len);
    return status;
}

/* Sends j (reference consumed). NULL j means allocation failed: 500. */
static int send_json(struct mg_connection *conn, int status, json_t *j, const char *allow)
{
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    int rc;

    json_decref(j);
    if (text == NULL)
        return send_bytes(conn, 500, "application/json", oom, sizeof(oom) - 1, NULL);
    rc = send_bytes(conn, status, "application/json", text, strlen(text), allow);
    free(text);
    return rc;
}

static int send_error(struct mg_connection *conn, int status, const char *code, const char *msg)
{
    return send_json(conn, status, mw_api_error_json(code, msg), NULL);
}

static int send_405(struct mg_connection *conn, const char *allow)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "method not allowed here; allowed: %s", allow);
    return send_json(conn, 405, mw_api_error_json("method_not_allowed", msg), allow);
}

/* ---- request bodies ----------------------------------------------------- */

/* Reads the whole body into a malloc'd NUL-terminated buffer of at most cap
 * bytes. MW_ETOOBIG above cap (nothing more is read), MW_EIO on a read
 * error or a body shorter than its Content-Length, MW_ENOMEM. */
static int read_body(struct mg_connection *conn, size_t cap, char **out, size_t *outlen)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    long long cl = ri->content_length;
    size_t want, len = 0, alloc;
    char *buf = NULL;
    int rc = 0;

    if (cl > 0 && (unsigned long long)cl > cap)
        return MW_ETOOBIG;
    want = cl >= 0 ? (size_t)cl : cap + 1; /* unknown length: read to the cap + 1 */
    alloc = (cl >= 0 ? (size_t)cl : 65536) + 1;
    buf = malloc(alloc);
    if (buf == NULL)
        return MW_ENOMEM;
    while (len < want) {
        if (len + 1 >= alloc) {
            size_t na = alloc * 2;
            if (na > cap + 2)
                na = cap + 2;
            char *nb = realloc(buf, na);
            if (nb == NULL) {
                rc = MW_ENOMEM;
                goto out;
            }
            buf = nb;
            alloc = na;
        }
        size_t room = alloc - 1 - len;
        if (room > want - len)
            room = want - len;
        int n = mg_read(conn, buf + len, room);
        if (n < 0) {
            rc = MW_EIO;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > cap) {
            rc = MW_ETOOBIG;
            goto out;
        }
    }
    if (cl >= 0 && len != (size_t)cl) {
        rc = MW_EIO;
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    buf = NULL;
out:
    free(buf);
    return rc;
}

static int body_error(struct mg_connection *conn, int rc, size_t cap)
{
    char msg[128];
    if (rc == MW_ETOOBIG) {
        mw_api_bad_input_count(MW_BAD_BODY_TOO_LARGE);
        snprintf(msg, sizeof(msg), "request body larger than %zu bytes", cap);
        return send_error(conn, 413, "body_too_large", msg);
    }
    if (rc == MW_ENOMEM)
        return send_error(conn, 500, "internal", "out of memory");
    return send_error(conn, 400, "bad_body", "the request body could not be read completely");
}

/* ---- routes ------------------------------------------------------------- */

static int route_events(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *srch = mg_get_header(conn, "X-MWRASP-Source");
    enum mw_source src = MW_SRC_HTTP;
    struct mw_api_intake_result r;
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (!a->have_sink)
        return send_error(conn, 503, "unavailable", "no detection engine attached");
    if (srch && strcasecmp(srch, "replay") == 0)
        src = MW_SRC_REPLAY;
    rc = read_body(conn, a->max_body, &body, &len);
    if (rc == MW_ETOOBIG)
        MW_INC(mw_metrics.events_rejected[src][MW_REJ_TOO_LARGE]);
    if (rc != 0)
        return body_error(conn, rc, a->max_body);
    rc = mw_api_intake(body, len, mw_api_body_kind(mg_get_header(conn, "Content-Type")), src,
                       ri->remote_addr, a->max_line, a->sink, MW_API_ACK_TIMEOUT_MS, &r);
    free(body);
    if (rc != 0)
        return send_error(conn, 500, "internal", "out of memory");
    snprintf(q->summary, sizeof q->summary, "events: %llu accepted, %llu rejected",
             (unsigned long long)r.accepted, (unsigned long long)r.rejected);
    rc = send_json(conn, r.status, json_incref(r.body), NULL);
    mw_api_intake_result_clear(&r);
    return rc;
}

static int route_threat_list(struct mg_connection *conn, struct mw_api *a)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct mw_api_threat_params p;
    mw_threat_t *list = NULL;
    size_t n = 0;
    uint64_t next = 0;
    char err[160], *text;
    size_t len = 0;
    int rc;

    char key[MW_READCACHE_KEY_MAX];
    int cacheable;
    uint64_t gen;

    if (mw_api_parse_threat_query(ri->query_string, &p, err, sizeof(err)) != 0)
        return send_error(conn, 400, "invalid_parameter", err);
    /* The read cache (readcache.c): the generation is taken before the
     * store is read, so that a threat change committed meanwhile makes this
     * answer stale rather than cached. */
    cacheable = a->readcache && mw_api_readcache_key(&p.q, key, sizeof key) == 0;
    gen = mw_api_readcache_generation(a->readcache);
    if (cacheable) {
        struct mw_readcache_body *hit = mw_api_readcache_get(a->readcache, key);
        if (hit) {
            const char *t = mw_api_readcache_body_text(hit, &len);
            rc = send_bytes(conn, 200, "application/json", t, len, NULL);
            mw_api_readcache_body_put(hit);
            return rc;
        }
    }
    rc = mw_store_list_threats(a->store, &p.q, &list, &n, &next);
    if (rc != 0) {
        snprintf(err, sizeof(err), "store query failed: %s", mw_strerror(rc));
        return send_error(conn, 500, "store_error", err);
    }
    /* Written straight to text (jsonfast.c): the same bytes as the jansson
     * tree of mw_api_threat_json, several times cheaper. */
    text = mw_api_threat_list_text(list, n, next, &len);
    free(list);
    if (text == NULL)
        return send_error(conn, 500, "internal", "out of memory");
    if (cacheable)
        mw_api_readcache_put(a->readcache, key, gen, text, len);
    rc = send_bytes(conn, 200, "application/json", text, len, NULL);
    free(text);
    return rc;
}

static int get_threat_or_answer(struct mg_connection *conn, struct mw_api *a, uint64_t id,
                                mw_threat_t *t)
{
    char msg[96];
    int rc = mw_store_get_threat(a->store, id, t);
    if (rc == MW_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "no threat with id %llu", (unsigned long long)id);
        send_error(conn, 404, "not_found", msg);
    } else if (rc != 0) {
        snprintf(msg, sizeof(msg), "store query failed: %s", mw_strerror(rc));
        send_error(conn, 500, "store_error", msg);
    }
    return rc;
}

static int route_threat_get(struct mg_connection *conn, struct mw_api *a, uint64_t id)
{
    mw_threat_t t;
    uint64_t *ids = NULL;
    size_t n = 0;
    json_t *o = NULL, *ev = NULL;

    if (get_threat_or_answer(conn, a, id, &t) != 0)
        return 0;
    o = mw_api_threat_json(&t);
    ev = json_array();
    if (o == NULL || ev == NULL)
        goto oom;
    if (mw_store_threat_events(a->store, id, MW_API_EVIDENCE_MAX, &ids, &n) == 0) {
        for (size_t i = 0; i < n && i < MW_API_EVIDENCE_MAX; i++) {
            mw_stored_event_t se;
            memset(&se, 0, sizeof(se));
            if (mw_store_get_event(a->store, ids[i], &se) != 0)
                continue; /* expired by retention */
            json_t *ej = mw_api_event_json(&se);
            mw_stored_event_clear(&se);
            if (json_array_append_new(ev, ej) != 0)
                goto oom;
        }
        free(ids);
        ids = NULL;
    }
    if (json_object_set_new(o, "evidence", ev) != 0) {
        ev = NULL;
        goto oom;
    }
    return send_json(conn, 200, o, NULL);
oom:
    free(ids);
    json_decref(ev);
    json_decref(o);
    return send_error(conn, 500, "internal", "out of memory");
}

static int route_threat_patch(struct mg_connection *conn, struct mw_api *a, uint64_t id,
                              struct req *q)
{
    char *body = NULL;
    size_t len = 0;
    json_t *root = NULL;
    json_error_t jerr;
    enum mw_threat_status st;
    mw_threat_t t;
    char msg[256];
    const char *key;
    json_t *val;
    int rc, answered = 0;

    rc = read_body(conn, MW_API_SMALL_BODY, &body, &len);
    if (rc != 0)
        return body_error(conn, rc, MW_API_SMALL_BODY);
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    free(body);
    if (root == NULL) {
        MW_INC(mw_metrics.api_bad_body);
        snprintf(msg, sizeof(msg), "body is not valid JSON: %s at line %d column %d", jerr.text,
                 jerr.line, jerr.column);
        return send_error(conn, 400, "invalid_json", msg);
    }
    if (!json_is_object(root)) {
        answered = send_error(conn, 400, "invalid_body", "body must be a JSON object");
        goto out;
    }
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "status") != 0) {
            snprintf(msg, sizeof(msg), "unknown field '%.64s' (only 'status' can be changed)", key);
            answered = send_error(conn, 400, "invalid_body", msg);
            goto out;
        }
    }
    val = json_object_get(root, "status");
    if (!json_is_string(val) || mw_threat_status_parse(json_string_value(val), &st) != 0) {
        answered =
            send_error(conn, 400, "invalid_body",
                       "field 'status' must be one of new, acknowledged, responding, resolved");
        goto out;
    }
    snprintf(q->summary, sizeof q->summary, "status=%s", mw_threat_status_name(st));
    rc = mw_store_set_threat_status(a->store, id, st);
    /* Committed (or failed): cached threat lists are stale either way. */
    mw_api_readcache_invalidate(a->readcache);
    if (rc == MW_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "no threat with id %llu", (unsigned long long)id);
        answered = send_error(conn, 404, "not_found", msg);
        goto out;
    }
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "store update failed: %s", mw_strerror(rc));
        answered = send_error(conn, 500, "store_error", msg);
        goto out;
    }
    if (get_threat_or_answer(conn, a, id, &t) == 0) {
        mw_api_ws_publish_threat(a->ws, &t, 0);
        answered = send_json(conn, 200, mw_api_threat_json(&t), NULL);
    }
out:
    json_decref(root);
    return answered;
}

/* The {id} of /api/v1/threats/{id}: 0 and *id, or an answered 400. */
static int threat_id_or_answer(struct mg_connection *conn, struct req *q, uint64_t *id)
{
    if (mw_api_parse_u64(q->idtext, strlen(q->idtext), id) != 0 || *id == 0 || *id > INT64_MAX) {
        send_error(conn, 400, "invalid_id", "threat id must be a positive integer");
        return -1;
    }
    return 0;
}

static int route_openapi(struct mg_connection *conn, struct mw_api *a)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n;
    int rc;

    if (a->openapi_path == NULL)
        return send_error(conn, 404, "not_found", "no OpenAPI description configured");
    f = fopen(a->openapi_path, "rb");
    if (f == NULL)
        return send_error(conn, 404, "not_found", "OpenAPI description not found");
    buf = malloc(OPENAPI_MAX);
    if (buf == NULL) {
        fclose(f);
        return send_error(conn, 500, "internal", "out of memory");
    }
    n = fread(buf, 1, OPENAPI_MAX, f);
    if (ferror(f) || n == OPENAPI_MAX) {
        rc = send_error(conn, 500, "internal", "OpenAPI description unreadable or too large");
    } else {
        rc = send_bytes(conn, 200, "application/yaml", buf, n, NULL);
    }
    fclose(f);
    free(buf);
    return rc;
}

/* ---- rate limits (ratelimit.c) and the door (guard.c) -------------------- */

static char *rate_metrics(struct mw_api *a)
{
    struct mw_ratelimit_stats st;
    char *buf = malloc(1024);
    if (buf == NULL)
        return NULL;
    mw_ratelimit_stats(a->rate, &st);
    snprintf(buf, 1024,
             "# HELP mwrasp_api_rate_limited_total Requests refused with 429, by bucket kind.\n"
             "# TYPE mwrasp_api_rate_limited_total counter\n"
             "mwrasp_api_rate_limited_total{kind=\"address\"} %llu\n"
             "mwrasp_api_rate_limited_total{kind=\"key\"} %llu\n"
             "# HELP mwrasp_api_rate_buckets Token buckets tracked now.\n"
             "# TYPE mwrasp_api_rate_buckets gauge\nmwrasp_api_rate_buckets %llu\n"
             "# HELP mwrasp_api_rate_evicted_total Buckets dropped to make room "
             "(api.rate.max_clients).\n"
             "# TYPE mwrasp_api_rate_evicted_total counter\nmwrasp_api_rate_evicted_total %llu\n",
             (unsigned long long)st.limited[MW_RATE_ADDRESS],
             (unsigned long long)st.limited[MW_RATE_KEY], (unsigned long long)st.tracked,
             (unsigned long long)st.evicted);
    return buf;
}

/* 429 Too Many Requests (RFC 6585 section 4) with Retry-After in seconds. */
static int send_429(struct mg_connection *conn, const char *which, uint32_t retry_after)
{
    char body[256], cl[16], ra[16];
    int n = snprintf(body, sizeof(body),
                     "{\"error\":{\"code\":\"rate_limited\",\"message\":\"too many requests "
                     "for this %s; retry after %u s\"}}",
                     which, retry_after);
    count_status(429);
    snprintf(cl, sizeof(cl), "%d", n);
    snprintf(ra, sizeof(ra), "%u", retry_after);
    mg_response_header_start(conn, 429);
    mg_response_header_add(conn, "Content-Type", "application/json", -1);
    mg_response_header_add(conn, "Content-Length", cl, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_add(conn, "Retry-After", ra, -1);
    mg_response_header_send(conn);
    mg_write(conn, body, (size_t)n);
    return 429;
}

/* mTLS: a verified client certificate that api.tls_client_roles maps to a
 * role authenticates a request that carries no other credentials (an API
 * key or a JWT, when sent, wins). 1 if it did, with who filled. */
static int cert_identity(struct mw_api *a, struct mg_connection *conn, struct mw_api_identity *who)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *role = NULL;
    enum mw_api_role r;
    char sub[128];

    if (a->tls == NULL || ri->client_cert == NULL || mg_get_header(conn, "Authorization") ||
        mg_get_header(conn, "X-API-Key"))
        return 0;
    if (!mw_api_tls_peer_role(a->tls, ri->client_cert->peer_cert, sub, sizeof(sub), &role) ||
        mw_api_role_parse(role, &r) != 0)
        return 0;
    who->kind = MW_AUTH_CERT;
    who->role = r;
    snprintf(who->subject, sizeof(who->subject), "%s", sub);
    who->key_id[0] = '\0';
    return 1;
}

/* civetweb begin_request: every request (routes and static files) passes
 * here first: the target checks of guard.c, then the per-address bucket
 * (not for the /health/ probes). Returns 0 to go on, else the status sent. */
static int begin_request_cb(struct mg_connection *conn)
{
    struct mw_api *a = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *uri = ri->request_uri ? ri->request_uri : "";
    char msg[128];
    uint32_t ra = 0;
    enum mw_bad_input bad;

    bad = mw_api_check_target(uri, ri->query_string, msg, sizeof(msg));
    if (bad != MW_BAD__COUNT) {
        mw_api_bad_input_count(bad);
        return send_error(conn, 400, bad == MW_BAD_UTF8 ? "invalid_utf8" : "bad_path", msg);
    }
    if (a == NULL || strncmp(uri, "/health/", 8) == 0)
        return 0;
    if (!mw_ratelimit_take(a->rate, MW_RATE_ADDRESS, ri->remote_addr, &a->rate_address,
                           mw_now_mono_ns(), &ra))
        return send_429(conn, "client address", ra);
    return 0;
}

/* When this worker thread began to wait for a request head (connection
 * accepted, or the previous request on it answered): tells a header
 * timeout from a malformed request in http_error_cb. */
static _Thread_local uint64_t head_start_ns;

static int init_connection_cb(const struct mg_connection *conn, void **conn_data)
{
    (void)conn;
    (void)conn_data;
    head_start_ns = mw_now_mono_ns();
    return 0;
}

static void end_request_cb(const struct mg_connection *conn, int status)
{
    (void)conn;
    (void)status;
    head_start_ns = mw_now_mono_ns();
}

/* civetweb http_error: errors civetweb finds itself (request head not
 * complete in time, malformed, too large; static files not found) answered
 * as JSON. */
static int http_error_cb(struct mg_connection *conn, int status, const char *errmsg)
{
    struct mw_api *a = mg_get_user_data(mg_get_context(conn));
    const char *code = "bad_request";
    char msg[160];
    uint64_t waited = mw_now_mono_ns() - head_start_ns;
    /* civetweb reports a request head cut by request_timeout_ms as a 400
     * "Malformed message"; the time spent waiting tells them apart. */
    if ((errmsg && (strcasestr(errmsg, "timeout") || strcasestr(errmsg, "timed out"))) ||
        (status == 400 && a && a->header_timeout_ns &&
         waited >= a->header_timeout_ns - a->header_timeout_ns / 10)) {
        errmsg = "the request head was not complete within api.header_timeout";
        mw_api_bad_input_count(MW_BAD_HEADER_TIMEOUT);
        code = "header_timeout";
        status = 408;
    } else if (status == 404) {
        code = "not_found";
    } else if (status == 413 || status == 431) {
        mw_api_bad_input_count(MW_BAD_MALFORMED);
        code = "request_too_large";
    } else if (status >= 400 && status < 500) {
        mw_api_bad_input_count(MW_BAD_MALFORMED);
        code = status == 405 ? "method_not_allowed" : status == 403 ? "forbidden" : "bad_request";
    } else if (status >= 500) {
        code = "internal";
    }
    snprintf(msg, sizeof(msg), "%s", errmsg && errmsg[0] ? errmsg : "bad request");
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
            *p = ' ';
    send_error(conn, status, code, msg);
    return 0;
}

/* Appends part (malloc'd, may be NULL; freed here) to *acc (malloc'd or
 * NULL). Out of memory: part is dropped and *acc kept. */
static void append_owned(char **acc, char *part)
{
    if (part == NULL)
        return;
    size_t l1 = *acc ? strlen(*acc) : 0, l2 = strlen(part);
    char *both = realloc(*acc, l1 + l2 + 1);
    if (both) {
        memcpy(both + l1, part, l2 + 1);
        *acc = both;
    }
    free(part);
}

static int route_prometheus(struct mg_connection *conn, struct mw_api *a)
{
    char *extra = a->engine ? mw_detect_engine_gauges(a->engine) : NULL;
    char *text;
    int rc;

    if (a->exposure)
        append_owned(&extra, mw_expo_daemon_metrics(a->exposure));
    append_owned(&extra, mw_api_auth_metrics(a->auth));
    append_owned(&extra, mw_api_ws_metrics(a->ws));
    append_owned(&extra, rate_metrics(a));
    append_owned(&extra, mw_api_guard_metrics());
    append_owned(&extra, mw_api_readcache_metrics(a->readcache));
    text = mw_metrics_prometheus(extra);
    free(extra);
    if (text == NULL)
        return send_error(conn, 500, "internal", "out of memory");
    rc =
        send_bytes(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return rc;
}

/* ---- the exposure scanner (exposure.h section 5) ------------------------ */

/* Walks a raw query string: calls fn(key, decoded value) for each
 * parameter; a repeated parameter is an error. 0, or -1 with err set. */
static int each_param(const char *qs,
                      int (*fn)(void *ctx, const char *k, const char *v, char *err, size_t errlen),
                      void *ctx, char *err, size_t errlen)
{
    char seen[8][32];
    int nseen = 0;
    if (qs == NULL)
        return 0;
    if (strlen(qs) > MW_API_QUERY_MAX) {
        snprintf(err, errlen, "query string longer than %d bytes", MW_API_QUERY_MAX);
        return -1;
    }
    while (*qs) {
        size_t len = strcspn(qs, "&");
        const char *eq = memchr(qs, '=', len);
        char key[32], val[256];
        size_t kl = eq ? (size_t)(eq - qs) : len;
        if (len == 0) {
            qs++;
            continue;
        }
        int dk = mw_api_url_decode(qs, kl, key, sizeof(key));
        int dv = eq ? mw_api_url_decode(eq + 1, len - kl - 1, val, sizeof(val)) : 0;
        if (dk < 0 || dv < 0) {
            snprintf(err, errlen, "parameter '%.*s': bad encoding or too long",
                     (int)(kl > 32 ? 32 : kl), qs);
            return -1;
        }
        if (!eq)
            val[0] = '\0';
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], key) == 0) {
                snprintf(err, errlen, "parameter '%s' given twice", key);
                return -1;
            }
        if (nseen < 8)
            snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
        if (fn(ctx, key, val, err, errlen) != 0)
            return -1;
        qs += len;
        if (*qs == '&')
            qs++;
    }
    return 0;
}

struct expo_filter {
    int cls;
    uint64_t min_exposed;
};

static int expo_filter_param(void *ctx, const char *k, const char *v, char *err, size_t errlen)
{
    struct expo_filter *f = ctx;
    if (strcmp(k, "class") == 0) {
        for (int c = 0; c < 4; c++)
            if (strcmp(v, mw_expo_class_name((mw_expo_class_t)c)) == 0) {
                f->cls = c;
                return 0;
            }
        snprintf(err, errlen,
                 "parameter 'class': must be one of classical, pq-hybrid, pq-only, unknown");
        return -1;
    }
    if (strcmp(k, "min_exposed_bytes") == 0) {
        if (mw_api_parse_u64(v, strlen(v), &f->min_exposed) != 0) {
            snprintf(err, errlen, "parameter 'min_exposed_bytes': must be a non-negative integer");
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown parameter '%.32s' (class, min_exposed_bytes)", k);
    return -1;
}

static int expo_name_param(void *ctx, const char *k, const char *v, char *err, size_t errlen)
{
    char *name = ctx;
    if (strcmp(k, "name") != 0) {
        snprintf(err, errlen, "unknown parameter '%.32s' (name)", k);
        return -1;
    }
    size_t n = strlen(v);
    if (n == 0 || n > 80) {
        snprintf(err, errlen, "parameter 'name': 1..80 printable characters");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(err, errlen, "parameter 'name': 1..80 printable characters");
            return -1;
        }
    memcpy(name, v, n + 1);
    return 0;
}

static int send_expo_answer(struct mg_connection *conn, int rc, mw_expo_answer_t *ans)
{
    int r;
    if (rc != 0 || ans->body == NULL) {
        free(ans->body);
        return send_error(conn, 500, "internal", "out of memory");
    }
    r = send_bytes(conn, ans->status, "application/json", ans->body, strlen(ans->body), NULL);
    free(ans->body);
    return r;
}

static int route_exposure(struct mg_connection *conn, struct mw_api *a)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct expo_filter f = {-1, 0};
    mw_expo_answer_t ans;
    char err[160];

    if (each_param(ri->query_string, expo_filter_param, &f, err, sizeof(err)) != 0)
        return send_error(conn, 400, "invalid_parameter", err);
    return send_expo_answer(conn, mw_expo_daemon_summary(a->exposure, f.cls, f.min_exposed, &ans),
                            &ans);
}

static int route_exposure_pcap(struct mg_connection *conn, struct mw_api *a)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char name[96] = "", err[160];
    char *body = NULL;
    size_t len = 0;
    mw_expo_answer_t ans;
    int rc;

    if (each_param(ri->query_string, expo_name_param, name, err, sizeof(err)) != 0)
        return send_error(conn, 400, "invalid_parameter", err);
    rc = read_body(conn, a->upload_max, &body, &len);
    if (rc != 0) {
        mw_expo_daemon_refused(a->exposure, rc == MW_ETOOBIG);
        if (rc == MW_ETOOBIG) {
            mw_api_bad_input_count(MW_BAD_BODY_TOO_LARGE);
            snprintf(err, sizeof(err), "capture larger than exposure.upload_max (%zu bytes)",
                     a->upload_max);
            return send_error(conn, 413, "body_too_large", err);
        }
        return body_error(conn, rc, a->upload_max);
    }
    rc = mw_expo_daemon_upload(a->exposure, body, len, name, &ans);
    free(body);
    return send_expo_answer(conn, rc, &ans);
}

static int store_answers(struct mw_api *a)
{
    mw_threat_t t;
    if (a->store == NULL)
        return 0;
    int rc = mw_store_get_threat(a->store, 1, &t);
    return rc == 0 || rc == MW_ENOTFOUND;
}

static int route_ready(struct mg_connection *conn, struct mw_api *a)
{
    if (!atomic_load(&a->ready))
        return send_error(conn, 503, "not_ready", "the daemon is starting or stopping");
    if (!store_answers(a))
        return send_error(conn, 503, "not_ready", "the store does not answer");
    return send_json(conn, 200, json_pack("{s:s}", "status", "ready"), NULL);
}

/* ---- API keys and the audit log (admin) -------------------------------- */

static json_t *apikey_json(const mw_apikey_rec_t *k)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:b, s:o}", "id", k->id, "name", k->name, "role",
                     k->role, "created_ns", (json_int_t)k->created_ns, "last_used_ns",
                     k->last_used_ns ? json_integer(k->last_used_ns) : json_null(), "revoked",
                     k->revoked_ns != 0, "revoked_ns",
                     k->revoked_ns ? json_integer(k->revoked_ns) : json_null());
}

static int route_apikey_create(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    char *body = NULL, text[MW_APIKEY_TEXTLEN + 1], msg[160];
    size_t len = 0;
    json_t *root, *o;
    json_error_t jerr;
    const char *role_s, *name = NULL, *key;
    json_t *val;
    enum mw_api_role role;
    mw_apikey_rec_t rec;
    int rc;

    rc = read_body(conn, MW_API_SMALL_BODY, &body, &len);
    if (rc != 0)
        return body_error(conn, rc, MW_API_SMALL_BODY);
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    free(body);
    if (root == NULL || !json_is_object(root)) {
        MW_INC(mw_metrics.api_bad_body);
        json_decref(root);
        return send_error(conn, 400, "invalid_json", "body must be a JSON object");
    }
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "role") != 0 && strcmp(key, "name") != 0) {
            snprintf(msg, sizeof msg, "unknown field '%.64s' (role, name)", key);
            json_decref(root);
            return send_error(conn, 400, "invalid_body", msg);
        }
    }
    role_s = json_string_value(json_object_get(root, "role"));
    val = json_object_get(root, "name");
    if (val && !json_is_string(val)) {
        json_decref(root);
        return send_error(conn, 400, "invalid_body", "field 'name' must be a string");
    }
    name = val ? json_string_value(val) : NULL;
    if (role_s == NULL || mw_api_role_parse(role_s, &role) != 0) {
        json_decref(root);
        return send_error(conn, 400, "invalid_body",
                          "field 'role' must be one of viewer, ingest, analyst, admin");
    }
    rc = mw_api_auth_create_key(a->auth, role, name, text, &rec);
    json_decref(root);
    if (rc == MW_EINVAL)
        return send_error(conn, 400, "invalid_body",
                          "field 'name': at most 64 bytes, no control characters");
    if (rc == MW_ELIMIT)
        return send_error(conn, 409, "limit", "too many API keys: revoke some first");
    if (rc != 0) {
        snprintf(msg, sizeof msg, "could not create the key: %s", mw_strerror(rc));
        return send_error(conn, 500, "internal", msg);
    }
    snprintf(q->target, sizeof q->target, "%s", rec.id);
    snprintf(q->summary, sizeof q->summary, "created %s key '%.64s'", rec.role, rec.name);
    o = apikey_json(&rec);
    if (o == NULL || json_object_set_new(o, "key", json_string(text)) != 0) {
        json_decref(o);
        o = NULL;
    }
    OPENSSL_cleanse(text, sizeof text);
    return send_json(conn, 201, o, NULL);
}

static int route_apikey_list(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    mw_apikey_rec_t *v = NULL;
    size_t n = 0;
    json_t *arr, *o;
    (void)q;
    if (mw_api_auth_list_keys(a->auth, &v, &n) != 0)
        return send_error(conn, 500, "internal", "out of memory");
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, apikey_json(&v[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    free(v);
    o = arr ? json_pack("{s:o}", "keys", arr) : NULL;
    return send_json(conn, 200, o, NULL);
}

static int route_apikey_revoke(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    char msg[96];
    int rc;
    size_t n = strlen(q->idtext);
    if (n == 0 || n > MW_APIKEY_IDLEN)
        return send_error(conn, 404, "not_found", "no such API key");
    snprintf(q->target, sizeof q->target, "%s", q->idtext);
    rc = mw_api_auth_revoke_key(a->auth, q->idtext);
    snprintf(q->summary, sizeof q->summary, "revoked key");
    if (rc == MW_ENOTFOUND) {
        snprintf(msg, sizeof msg, "no unrevoked API key with id '%.16s'", q->idtext);
        return send_error(conn, 404, "not_found", msg);
    }
    if (rc != 0)
        return send_error(conn, 500, "store_error", "could not revoke the key");
    return send_json(conn, 200, json_pack("{s:s, s:b}", "id", q->idtext, "revoked", 1), NULL);
}

struct audit_params {
    struct mw_audit_query q;
    char actor[128];
};

static int audit_param(void *ctx, const char *k, const char *v, char *err, size_t errlen)
{
    struct audit_params *p = ctx;
    uint64_t u;
    if (strcmp(k, "since") == 0 || strcmp(k, "cursor") == 0 || strcmp(k, "limit") == 0) {
        if (mw_api_parse_u64(v, strlen(v), &u) != 0 || u > INT64_MAX ||
            (k[0] == 'l' && (u == 0 || u > MW_AUDIT_LIMIT_MAX))) {
            snprintf(err, errlen, "parameter '%s': %s", k,
                     k[0] == 'l' ? "must be an integer 1..1000" : "must be a non-negative integer");
            return -1;
        }
        if (k[0] == 's')
            p->q.since_ns = (int64_t)u;
        else if (k[0] == 'c')
            p->q.cursor = u;
        else
            p->q.limit = (uint32_t)u;
        return 0;
    }
    if (strcmp(k, "actor") == 0) {
        if (v[0] == '\0' || strlen(v) >= sizeof p->actor) {
            snprintf(err, errlen, "parameter 'actor': 1..127 bytes");
            return -1;
        }
        snprintf(p->actor, sizeof p->actor, "%s", v);
        p->q.actor = p->actor;
        return 0;
    }
    snprintf(err, errlen, "unknown parameter '%.32s' (since, actor, cursor, limit)", k);
    return -1;
}

static int route_audit(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct audit_params p;
    mw_audit_rec_t *v = NULL;
    size_t n = 0;
    uint64_t next = 0;
    char err[160], cur[24];
    json_t *arr, *o = NULL;
    (void)q;

    memset(&p, 0, sizeof p);
    p.q.limit = MW_API_LIMIT_DEFAULT;
    if (each_param(ri->query_string, audit_param, &p, err, sizeof err) != 0)
        return send_error(conn, 400, "invalid_parameter", err);
    if (a->store == NULL)
        return send_error(conn, 503, "unavailable", "no store attached");
    if (mw_store_list_audit(a->store, &p.q, &v, &n, &next) != 0)
        return send_error(conn, 500, "store_error", "audit query failed");
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const mw_audit_rec_t *r = &v[i];
        json_t *e =
            json_pack("{s:I, s:I, s:o, s:s, s:s, s:o, s:s, s:o, s:s, s:i}", "id", (json_int_t)r->id,
                      "ts_ns", (json_int_t)r->ts_ns, "actor",
                      mw_api_string_repaired(r->actor, strlen(r->actor)), "role", r->role, "method",
                      r->method, "path", mw_api_string_repaired(r->path, strlen(r->path)), "target",
                      r->target, "summary", mw_api_string_repaired(r->summary, strlen(r->summary)),
                      "client", r->client, "status", r->status);
        if (json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(v);
    if (arr) {
        snprintf(cur, sizeof cur, "%llu", (unsigned long long)next);
        o = json_pack("{s:o, s:o}", "entries", arr, "next_cursor",
                      next ? json_string(cur) : json_null());
    }
    return send_json(conn, 200, o, NULL);
}

/* ---- the route table ----------------------------------------------------- */

/* Handlers of the table: the status sent is in last_status. */
typedef int (*route_fn)(struct mg_connection *conn, struct mw_api *a, struct req *q);

static int h_live(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)a;
    (void)q;
    return send_json(conn, 200, json_pack("{s:s}", "status", "ok"), NULL);
}

static int h_ready(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    return route_ready(conn, a);
}

static int h_prometheus(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    return route_prometheus(conn, a);
}

static int h_metrics_json(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    return send_json(
        conn, 200,
        mw_api_metrics_json(a->engine != NULL, a->engine ? mw_detect_engine_depth(a->engine) : 0),
        NULL);
}

static int h_openapi(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    return route_openapi(conn, a);
}

static int h_exposure(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    if (a->exposure == NULL)
        return send_error(conn, 503, "unavailable", "the exposure scanner is not running");
    return route_exposure(conn, a);
}

static int h_exposure_pcap(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    snprintf(q->summary, sizeof q->summary, "capture upload");
    if (a->exposure == NULL)
        return send_error(conn, 503, "unavailable", "the exposure scanner is not running");
    return route_exposure_pcap(conn, a);
}

static int h_threats(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)q;
    if (a->store == NULL)
        return send_error(conn, 503, "unavailable", "no store attached");
    return route_threat_list(conn, a);
}

static int h_threat_get(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    uint64_t id = 0;
    if (a->store == NULL)
        return send_error(conn, 503, "unavailable", "no store attached");
    if (threat_id_or_answer(conn, q, &id) != 0)
        return 400;
    return route_threat_get(conn, a, id);
}

static int h_threat_patch(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    uint64_t id = 0;
    snprintf(q->target, sizeof q->target, "%.63s", q->idtext);
    if (a->store == NULL)
        return send_error(conn, 503, "unavailable", "no store attached");
    if (threat_id_or_answer(conn, q, &id) != 0)
        return 400;
    return route_threat_patch(conn, a, id, q);
}

enum { R_METRICS = 1 }; /* public when api.metrics_public says so, else viewer */

/* GET /api/v1/stream without an Upgrade: websocket header (the upgrade
 * itself is answered by ws.c before this table is consulted). */
static int h_stream_plain(struct mg_connection *conn, struct mw_api *a, struct req *q)
{
    (void)a;
    (void)q;
    return send_error(conn, 426, "upgrade_required",
                      "GET /api/v1/stream is a WebSocket (RFC 6455): send Upgrade: websocket");
}

struct route {
    const char *method;
    const char *pattern; /* exact, or with one "{id}" segment */
    enum mw_api_role role; /* MW_ROLE_NONE: public */
    unsigned flags;
    route_fn fn;
};

/* Every route of the API, with the role it needs. docs/api/openapi.yaml
 * declares the same (x-required-role on each operation);
 * tests/integration/test_api_roles.sh checks both against the daemon. */
static const struct route routes[] = {
    {"GET", "/health/live", MW_ROLE_NONE, 0, h_live},
    {"GET", "/health/ready", MW_ROLE_NONE, 0, h_ready},
    {"GET", "/metrics", MW_ROLE_VIEWER, R_METRICS, h_prometheus},
    {"GET", "/api/v1/openapi.yaml", MW_ROLE_NONE, 0, h_openapi},
    {"GET", "/api/v1/metrics", MW_ROLE_VIEWER, 0, h_metrics_json},
    {"POST", "/api/v1/events", MW_ROLE_INGEST, 0, route_events},
    {"GET", "/api/v1/threats", MW_ROLE_VIEWER, 0, h_threats},
    {"GET", "/api/v1/threats/{id}", MW_ROLE_VIEWER, 0, h_threat_get},
    {"PATCH", "/api/v1/threats/{id}", MW_ROLE_ANALYST, 0, h_threat_patch},
    {"GET", "/api/v1/exposure", MW_ROLE_VIEWER, 0, h_exposure},
    {"POST", "/api/v1/exposure/pcap", MW_ROLE_ANALYST, 0, h_exposure_pcap},
    {"POST", "/api/v1/apikeys", MW_ROLE_ADMIN, 0, route_apikey_create},
    {"GET", "/api/v1/apikeys", MW_ROLE_ADMIN, 0, route_apikey_list},
    {"DELETE", "/api/v1/apikeys/{id}", MW_ROLE_ADMIN, 0, route_apikey_revoke},
    {"GET", "/api/v1/audit", MW_ROLE_ADMIN, 0, route_audit},
    {"GET", "/api/v1/stream", MW_ROLE_VIEWER, 0, h_stream_plain},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Does path match pattern? *idtext gets the {id} segment (in path). */
static int path_match(const char *pattern, const char *path, const char **idtext)
{
    const char *br = strstr(pattern, "{id}");
    size_t pre, seg;
    if (br == NULL)
        return strcmp(pattern, path) == 0;
    pre = (size_t)(br - pattern);
    if (strncmp(pattern, path, pre) != 0)
        return 0;
    seg = strcspn(path + pre, "/");
    if (seg == 0 || strcmp(path + pre + seg, br + 4) != 0)
        return 0;
    *idtext = path + pre;
    return 1;
}

/* The rate limiter's hook: called for every routed request after
 * authentication, before the handler, with the caller's identity. Returns 0
 * to go on, or the status it answered (429). */
static int admit(struct mg_connection *conn, struct mw_api *a, const struct route *r,
                 const struct req *q)
{
    uint32_t ra = 0;
    (void)r;
    /* Anonymous callers of public routes have only their address bucket
     * (begin_request_cb); everyone else also has one per identity. */
    if (q->who.role == MW_ROLE_NONE || (unsigned)q->who.role >= MW_ROLE__COUNT)
        return 0;
    if (!mw_ratelimit_take(a->rate, MW_RATE_KEY, q->who.subject, &a->rate_role[q->who.role],
                           mw_now_mono_ns(), &ra))
        return send_429(conn, "API key", ra);
    return 0;
}

/* The audit log: one row per state-changing call that got past
 * authentication (refusals are in the auth failure counters). */
static void audit(struct mw_api *a, const struct req *q, int status)
{
    mw_audit_rec_t r;
    struct timespec ts;
    if (a->store == NULL)
        return;
    memset(&r, 0, sizeof r);
    clock_gettime(CLOCK_REALTIME, &ts);
    r.ts_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    snprintf(r.actor, sizeof r.actor, "%s", q->who.subject);
    snprintf(r.role, sizeof r.role, "%s", mw_api_role_name(q->who.role));
    snprintf(r.method, sizeof r.method, "%s", q->method);
    snprintf(r.path, sizeof r.path, "%s", q->path);
    snprintf(r.target, sizeof r.target, "%s", q->target);
    snprintf(r.summary, sizeof r.summary, "%s", q->summary);
    snprintf(r.client, sizeof r.client, "%s", q->who.client);
    r.status = status;
    if (mw_store_put_audit(a->store, &r) != 0)
        mw_warn(MOD, "audit log write failed (%s %s by %s)", q->method, q->path, r.actor);
}

static int send_401(struct mg_connection *conn, enum mw_auth_fail why)
{
    static const char body[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"%s\"}}";
    char msg[160], text[256];
    const char *m;
    int n;
    switch (why) {
    case MW_AUTHF_MISSING:
        m = "credentials required: Authorization: Bearer <API key or JWT>";
        break;
    case MW_AUTHF_EXPIRED:
        m = "the token has expired";
        break;
    case MW_AUTHF_NOT_YET_VALID:
        m = "the token is not valid yet (nbf)";
        break;
    case MW_AUTHF_REVOKED:
        m = "the API key has been revoked";
        break;
    default:
        m = "invalid credentials";
    }
    snprintf(msg, sizeof msg, "%s (%s)", m, mw_auth_fail_name(why));
    n = snprintf(text, sizeof text, body, msg);
    count_status(401);
    last_status = 401;
    mg_response_header_start(conn, 401);
    mg_response_header_add(conn, "Content-Type", "application/json", -1);
    snprintf(msg, sizeof msg, "%d", n);
    mg_response_header_add(conn, "Content-Length", msg, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    /* RFC 6750 section 3 */
    mg_response_header_add(conn, "WWW-Authenticate",
                           why == MW_AUTHF_MISSING ? "Bearer realm=\"mwrasp\""
                                                   : "Bearer realm=\"mwrasp\", "
                                                     "error=\"invalid_token\"",
                           -1);
    mg_response_header_send(conn);
    mg_write(conn, text, (size_t)n);
    return 401;
}

/* Credentials of a WebSocket stream client (ws.c): as for a route that
 * needs the viewer role. */
static int ws_auth(void *ctx, const char *authorization, const char *x_api_key, const char *peer,
                   char *why, size_t whylen)
{
    struct mw_api *a = ctx;
    struct mw_api_identity id;
    enum mw_auth_fail f = MW_AUTHF_MISSING;

    memset(&id, 0, sizeof id);
    snprintf(id.client, sizeof id.client, "%s", peer);
    if (mw_api_authenticate(a->auth, authorization, x_api_key, &id, &f) != 0) {
        snprintf(why, whylen, "invalid credentials (%s)", mw_auth_fail_name(f));
        return 401;
    }
    if (!mw_api_role_allows(id.role, MW_ROLE_VIEWER)) {
        mw_api_auth_count(a->auth, MW_AUTHF_FORBIDDEN);
        snprintf(why, whylen, "the stream needs the viewer role; the caller is %s",
                 mw_api_role_name(id.role));
        return 403;
    }
    return 0;
}

/* One handler for every path: the table, then 404/405, 401/403. */
static int handler(struct mg_connection *conn, void *cbdata)
{
    struct mw_api *a = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *path = ri->local_uri ? ri->local_uri : "";
    const char *m = ri->request_method ? ri->request_method : "";
    const struct route *r = NULL;
    char allow[64] = "";
    enum mw_auth_fail why = MW_AUTHF_MISSING;
    enum mw_api_role need;
    struct req q;
    int st;

    MW_INC(mw_metrics.api_requests);
    memset(&q, 0, sizeof q);
    q.method = m;
    q.path = path;
    for (size_t i = 0; i < NROUTES; i++) {
        const char *idt = NULL;
        if (!path_match(routes[i].pattern, path, &idt))
            continue;
        if (strcmp(routes[i].method, m) == 0) {
            r = &routes[i];
            q.idtext = idt;
            break;
        }
        size_t al = strlen(allow);
        snprintf(allow + al, sizeof allow - al, "%s%s", al ? ", " : "", routes[i].method);
    }
    if (r == NULL)
        return allow[0] ? send_405(conn, allow)
                        : send_error(conn, 404, "not_found", "no such route");

    snprintf(q.who.client, sizeof q.who.client, "%s", ri->remote_addr);
    need = r->role;
    if ((r->flags & R_METRICS) && a->metrics_public)
        need = MW_ROLE_NONE;
    if (need != MW_ROLE_NONE) {
        if (!cert_identity(a, conn, &q.who) &&
            mw_api_authenticate(a->auth, mg_get_header(conn, "Authorization"),
                                mg_get_header(conn, "X-API-Key"), &q.who, &why) != 0)
            return send_401(conn, why);
        if (!mw_api_role_allows(q.who.role, need)) {
            char msg[128];
            mw_api_auth_count(a->auth, MW_AUTHF_FORBIDDEN);
            snprintf(msg, sizeof msg, "this route needs the %s role; the caller is %s",
                     mw_api_role_name(need), mw_api_role_name(q.who.role));
            return send_error(conn, 403, "forbidden", msg);
        }
    }
    st = admit(conn, a, r, &q);
    if (st != 0)
        return st;
    last_status = 0;
    r->fn(conn, a, &q);
    st = last_status ? last_status : 500;
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
        audit(a, &q, st);
    return st;
}

/* ---- life --------------------------------------------------------------- */

static int init_ssl_cb(void *ssl_ctx, void *user_data)
{
    struct mw_api *a = user_data;
    return mw_api_tls_setup_ctx(a->tls, ssl_ctx);
}

static int log_message_cb(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    mw_warn(MOD, "civetweb: %s", message);
    return 1;
}

/* 1 if listen.http (HOST:PORT) binds a loopback address only. */
static int listen_is_loopback(const char *spec)
{
    return strncmp(spec, "127.", 4) == 0 || strncmp(spec, "localhost:", 10) == 0 ||
           strncmp(spec, "[::1]:", 6) == 0;
}

/* Headers of the dashboard's static files: the page runs only its own
 * scripts and styles (no inline code: an event text shown in the page can
 * never run), talks only to this origin (REST and the WebSocket stream),
 * and cannot be framed. */
#define WEB_HEADERS                                                                                \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "          \
    "form-action 'self'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer"

/* api.web_root is served only when it holds an index.html (else a warning:
 * the dashboard was not built, run make). */
static int web_root_usable(const char *root)
{
    char path[MW_CONFIG_STR_MAX + 16];
    if (root == NULL || root[0] == '\0')
        return 0;
    snprintf(path, sizeof path, "%s/index.html", root);
    if (access(path, R_OK) != 0) {
        mw_warn(MOD, "dashboard not served: %s is missing (api.web_root; make builds it)", path);
        return 0;
    }
    return 1;
}

/* "127.0.0.1:8080" stays; ":8080" -> "8080"; "localhost:8080" ->
 * "127.0.0.1:8080". MW_EINVAL if it has no port. */
static int listen_spec(const char *in, char *out, size_t outlen)
{
    const char *colon = strrchr(in, ':');
    int n;

    if (colon == NULL || colon[1] == '\0')
        return MW_EINVAL;
    if (colon == in)
        n = snprintf(out, outlen, "%s", colon + 1);
    else if (strncmp(in, "localhost:", 10) == 0)
        n = snprintf(out, outlen, "127.0.0.1%s", colon);
    else
        n = snprintf(out, outlen, "%s", in);
    return (n < 0 || (size_t)n >= outlen) ? MW_EINVAL : 0;
}

int mw_api_start(const struct mw_api_opts *o, mw_api_t **out)
{
    struct mw_api *a = NULL;
    struct mg_callbacks cb;
    struct mg_server_port ports[4];
    char listen[2 * MW_CONFIG_STR_MAX + 40], lp[MW_CONFIG_STR_MAX + 16], ls[MW_CONFIG_STR_MAX + 16];
    char tlserr[256];
    char threads[16], timeout[16];
    const char *opts[40];
    int k = 0, rc = MW_OK, np, web;

    if (o == NULL || o->cfg == NULL || out == NULL)
        return MW_EINVAL;
    const struct mw_config *c = o->cfg;
    lp[0] = ls[0] = '\0';
    if (c->http_listen[0] && listen_spec(c->http_listen, lp, sizeof(lp)) != 0) {
        mw_error(MOD, "listen.http '%s' is not HOST:PORT", c->http_listen);
        return MW_ECONFIG;
    }
    if (c->https_listen[0] && listen_spec(c->https_listen, ls, sizeof(ls)) != 0) {
        mw_error(MOD, "listen.https '%s' is not HOST:PORT", c->https_listen);
        return MW_ECONFIG;
    }
    if (lp[0] == '\0' && ls[0] == '\0') {
        mw_error(MOD, "neither listen.http nor listen.https is set: the API would not listen");
        return MW_ECONFIG;
    }
    /* Plain HTTP crosses a network only when the configuration says so. */
    if (lp[0] && !mw_api_listen_is_loopback(c->http_listen) &&
        strcmp(c->api_allow_plain_http, "yes") != 0) {
        mw_error(MOD,
                 "listen.http %s is not a loopback address: plain HTTP would carry API keys over "
                 "the network. Use listen.https (TLS), or set api.allow_plain_http: yes",
                 c->http_listen);
        return MW_ECONFIG;
    }
    snprintf(listen, sizeof(listen), "%s%s%s%s", lp, lp[0] && ls[0] ? "," : "", ls,
             ls[0] ? "s" : "");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return MW_ENOMEM;
    a->store = o->store;
    a->engine = o->engine;
    a->exposure = o->exposure;
    a->upload_max = o->cfg->exposure_upload_max ? o->cfg->exposure_upload_max : (64u << 20);
    if (o->engine) {
        a->sink = mw_detect_engine_sink(o->engine);
        a->have_sink = 1;
    }
    a->max_body = o->cfg->max_body ? o->cfg->max_body : (16u << 20);
    a->max_line = o->cfg->max_line;
    atomic_init(&a->ready, 0);
    {
        const char *specs[5] = {c->api_rate_address, c->api_rate_ingest, c->api_rate_viewer,
                                c->api_rate_analyst, c->api_rate_admin};
        static const char *const names[5] = {"address", "ingest", "viewer", "analyst", "admin"};
        static const enum mw_api_role roles[5] = {MW_ROLE_NONE, MW_ROLE_INGEST, MW_ROLE_VIEWER,
                                                  MW_ROLE_ANALYST, MW_ROLE_ADMIN};
        for (int i = 0; i < 5; i++) {
            struct mw_rate_spec *sp = i == 0 ? &a->rate_address : &a->rate_role[roles[i]];
            if (mw_rate_parse(specs[i], sp) != 0) {
                mw_error(MOD,
                         "api.rate.%s: \"%s\" is not N/min or N/s, optionally followed by "
                         "burst M, or off",
                         names[i], specs[i]);
                rc = MW_ECONFIG;
                goto out;
            }
        }
        rc = mw_ratelimit_new(c->api_rate_max_clients ? c->api_rate_max_clients : 100000, &a->rate);
        if (rc != 0)
            goto out;
    }
    rc = mw_api_readcache_new(&a->readcache);
    if (rc != 0)
        goto out;
    if (ls[0]) {
        rc = mw_api_tls_new(c, &a->tls, tlserr, sizeof(tlserr));
        if (rc != 0) {
            mw_error(MOD, "%s", tlserr);
            goto out;
        }
    }
    {
        const char *mp = o->cfg->api_metrics_public;
        int loop = listen_is_loopback(o->cfg->http_listen);
        char err[256] = "";
        if (strcmp(mp, "auto") == 0 || mp[0] == '\0')
            a->metrics_public = loop;
        else if (strcmp(mp, "yes") == 0 || strcmp(mp, "true") == 0)
            a->metrics_public = 1;
        else if (strcmp(mp, "no") == 0 || strcmp(mp, "false") == 0)
            a->metrics_public = 0;
        else {
            mw_error(MOD, "api.metrics_public: expected auto, yes or no, got \"%s\"", mp);
            rc = MW_ECONFIG;
            goto out;
        }
        if (strcmp(o->cfg->api_auth, "off") == 0 && !loop) {
            mw_error(MOD,
                     "api.auth: off is only allowed when listen.http is a loopback address "
                     "(it is %s)",
                     o->cfg->http_listen);
            rc = MW_ECONFIG;
            goto out;
        }
        rc = mw_api_auth_new(o->cfg, o->store, &a->auth, err, sizeof err);
        if (rc != 0) {
            mw_error(MOD, "%s", err[0] ? err : mw_strerror(rc));
            goto out;
        }
        if (mw_api_auth_off(a->auth))
            mw_warn(MOD, "api.auth is off: every client of %s is an admin", o->cfg->http_listen);
    }
    if (o->openapi_path && (a->openapi_path = strdup(o->openapi_path)) == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }

    mw_info(MOD, "civetweb features: tls=%s websocket=%s",
            mg_check_feature(MW_FEATURE_TLS) ? "yes" : "no",
            mg_check_feature(MW_FEATURE_WEBSOCKET) ? "yes" : "no");
    mg_init_library(0);
    a->lib_init = 1;

    /* each WebSocket stream client holds one civetweb thread (ws.c) */
    snprintf(threads, sizeof(threads), "%u",
             (o->cfg->api_threads ? o->cfg->api_threads : 4) + mw_api_ws_threads(o->cfg));
    a->header_timeout_ns =
        c->api_header_timeout_ns ? (uint64_t)c->api_header_timeout_ns : 10000000000ULL;
    snprintf(timeout, sizeof(timeout), "%llu",
             (unsigned long long)(a->header_timeout_ns / 1000000));
    opts[k++] = "listening_ports";
    opts[k++] = listen;
    opts[k++] = "num_threads";
    opts[k++] = threads;
    opts[k++] = "request_timeout_ms";
    opts[k++] = timeout;
    opts[k++] = "enable_keep_alive";
    opts[k++] = "yes";
    /* Paths reach us as sent: guard.c decodes them once and refuses
     * encoded slashes, NULs and dot segments; routes and files are ASCII. */
    opts[k++] = "decode_url";
    opts[k++] = "no";
    /* An answer goes out as two writes (headers, then body): without
     * TCP_NODELAY the body waits for the client's delayed ACK, ~40 ms added
     * to every answer (HTTP intake of 1,000-event batches on 4 keep-alive
     * connections: 55k events/s with the delay, 92k-140k without it). */
    opts[k++] = "tcp_nodelay";
    opts[k++] = "1";
    web = web_root_usable(o->web_root);
    if (web) {
        opts[k++] = "document_root";
        opts[k++] = o->web_root;
        opts[k++] = "enable_directory_listing";
        opts[k++] = "no";
        opts[k++] = "additional_header";
        opts[k++] = WEB_HEADERS;
    }
    opts[k] = NULL;

    memset(&cb, 0, sizeof(cb));
    cb.log_message = log_message_cb;
    cb.begin_request = begin_request_cb;
    cb.http_error = http_error_cb;
    cb.init_connection = init_connection_cb;
    cb.end_request = end_request_cb;
    if (a->tls)
        cb.init_ssl = init_ssl_cb;
    a->ctx = mg_start(&cb, a, opts);
    if (a->ctx == NULL) {
        mw_error(MOD, "cannot listen for HTTP on %s (TLS set-up errors are logged above)", listen);
        rc = MW_EIO;
        goto out;
    }
    np = mg_get_server_ports(a->ctx, 4, ports);
    for (int i = 0; i < np; i++) {
        if (ports[i].is_ssl && a->https_port == 0)
            a->https_port = ports[i].port;
        else if (!ports[i].is_ssl && a->port == 0)
            a->port = ports[i].port;
    }

    {
        struct mw_api_ws_opts wo;
        memset(&wo, 0, sizeof wo);
        wo.max_clients = o->cfg->ws_max_clients;
        wo.max_frame = o->cfg->ws_max_frame;
        wo.queue = o->cfg->ws_queue;
        wo.ping_interval_ns = o->cfg->ws_ping_interval_ns;
        wo.pong_timeout_ns = o->cfg->ws_pong_timeout_ns;
        wo.auth_timeout_ns = o->cfg->ws_auth_timeout_ns;
        if (a->auth && !mw_api_auth_off(a->auth)) {
            wo.auth = ws_auth;
            wo.auth_ctx = a;
        }
        wo.readcache = a->readcache;
        rc = mw_api_ws_start(a->ctx, &wo, a->engine, &a->ws);
        if (rc != 0)
            goto out;
    }
    mg_set_request_handler(a->ctx, "/api", handler, a);
    mg_set_request_handler(a->ctx, "/metrics", handler, a);
    mg_set_request_handler(a->ctx, "/health", handler, a);
    if (!web)
        mg_set_request_handler(a->ctx, "/", handler, a);
    else
        mw_info(MOD, "dashboard: serving %s at /", o->web_root);
    mw_info(MOD, "HTTP API listening on %s (http port %d, https port %d, %s threads)", listen,
            a->port, a->https_port, threads);
    *out = a;
    a = NULL;
out:
    mw_api_stop(a);
    return rc;
}

int mw_api_port(const mw_api_t *a)
{
    return a ? a->port : 0;
}

int mw_api_https_port(const mw_api_t *a)
{
    return a ? a->https_port : 0;
}

void mw_api_set_ready(mw_api_t *a, int ready)
{
    if (a)
        atomic_store(&a->ready, ready ? 1 : 0);
}

void mw_api_stop(mw_api_t *a)
{
    if (a == NULL)
        return;
    mw_api_ws_detach(a->ws);
    if (a->ctx)
        mg_stop(a->ctx);
    mw_api_ws_stop(a->ws);
    mw_api_readcache_free(a->readcache);
    if (a->lib_init)
        mg_exit_library();
    free(a->openapi_path);
    mw_ratelimit_free(a->rate);
    mw_api_tls_free(a->tls);
    mw_api_auth_free(a->auth);
    free(a);
}
