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

#include <civetweb.h>

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
};

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
        snprintf(msg, sizeof(msg), "request body larger than %zu bytes", cap);
        return send_error(conn, 413, "body_too_large", msg);
    }
    if (rc == MW_ENOMEM)
        return send_error(conn, 500, "internal", "out of memory");
    return send_error(conn, 400, "bad_body", "the request body could not be read completely");
}

/* ---- routes ------------------------------------------------------------- */

static int route_events(struct mg_connection *conn, struct mw_api *a)
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
    char err[160];
    json_t *o = NULL, *arr = NULL;
    int rc;

    if (mw_api_parse_threat_query(ri->query_string, &p, err, sizeof(err)) != 0)
        return send_error(conn, 400, "invalid_parameter", err);
    rc = mw_store_list_threats(a->store, &p.q, &list, &n, &next);
    if (rc != 0) {
        snprintf(err, sizeof(err), "store query failed: %s", mw_strerror(rc));
        return send_error(conn, 500, "store_error", err);
    }
    o = json_object();
    arr = json_array();
    if (o == NULL || arr == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(arr, mw_api_threat_json(&list[i])) != 0)
            goto oom;
    }
    free(list);
    list = NULL;
    if (json_object_set_new(o, "threats", arr) != 0) {
        arr = NULL;
        goto oom;
    }
    arr = NULL;
    if (next) {
        char cur[24];
        snprintf(cur, sizeof(cur), "%llu", (unsigned long long)next);
        rc = json_object_set_new(o, "next_cursor", json_string(cur));
    } else {
        rc = json_object_set_new(o, "next_cursor", json_null());
    }
    if (rc != 0)
        goto oom;
    return send_json(conn, 200, o, NULL);
oom:
    free(list);
    json_decref(arr);
    json_decref(o);
    return send_error(conn, 500, "internal", "out of memory");
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

static int route_threat_patch(struct mg_connection *conn, struct mw_api *a, uint64_t id)
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
    rc = mw_store_set_threat_status(a->store, id, st);
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
    if (get_threat_or_answer(conn, a, id, &t) == 0)
        answered = send_json(conn, 200, mw_api_threat_json(&t), NULL);
out:
    json_decref(root);
    return answered;
}

static int route_threat_id(struct mg_connection *conn, struct mw_api *a, const char *method,
                           const char *idtext)
{
    uint64_t id = 0;

    if (strcmp(method, "GET") != 0 && strcmp(method, "PATCH") != 0)
        return send_405(conn, "GET, PATCH");
    if (mw_api_parse_u64(idtext, strlen(idtext), &id) != 0 || id == 0 || id > INT64_MAX)
        return send_error(conn, 400, "invalid_id", "threat id must be a positive integer");
    if (strcmp(method, "GET") == 0)
        return route_threat_get(conn, a, id);
    return route_threat_patch(conn, a, id);
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

static int route_prometheus(struct mg_connection *conn, struct mw_api *a)
{
    char *extra = a->engine ? mw_detect_engine_gauges(a->engine) : NULL;
    char *expo = a->exposure ? mw_expo_daemon_metrics(a->exposure) : NULL;
    char *text;
    int rc;

    if (expo) {
        size_t l1 = extra ? strlen(extra) : 0, l2 = strlen(expo);
        char *both = malloc(l1 + l2 + 1);
        if (both) {
            memcpy(both, extra ? extra : "", l1);
            memcpy(both + l1, expo, l2 + 1);
            free(extra);
            extra = both;
        }
        free(expo);
    }
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

/* One handler for every path: exact routes, then 404/405. */
static int handler(struct mg_connection *conn, void *cbdata)
{
    struct mw_api *a = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *path = ri->local_uri ? ri->local_uri : "";
    const char *m = ri->request_method ? ri->request_method : "";
    int get = strcmp(m, "GET") == 0;

    MW_INC(mw_metrics.api_requests);
    if (strcmp(path, "/health/live") == 0)
        return get ? send_json(conn, 200, json_pack("{s:s}", "status", "ok"), NULL)
                   : send_405(conn, "GET");
    if (strcmp(path, "/health/ready") == 0)
        return get ? route_ready(conn, a) : send_405(conn, "GET");
    if (strcmp(path, "/metrics") == 0)
        return get ? route_prometheus(conn, a) : send_405(conn, "GET");
    if (strcmp(path, "/api/v1/metrics") == 0)
        return get ? send_json(
                         conn, 200,
                         mw_api_metrics_json(a->engine != NULL,
                                             a->engine ? mw_detect_engine_depth(a->engine) : 0),
                         NULL)
                   : send_405(conn, "GET");
    if (strcmp(path, "/api/v1/openapi.yaml") == 0)
        return get ? route_openapi(conn, a) : send_405(conn, "GET");
    if (strcmp(path, "/api/v1/events") == 0)
        return strcmp(m, "POST") == 0 ? route_events(conn, a) : send_405(conn, "POST");
    if (strcmp(path, "/api/v1/exposure") == 0 || strcmp(path, "/api/v1/exposure/pcap") == 0) {
        int pcap = path[16] == '/';
        if (strcmp(m, pcap ? "POST" : "GET") != 0)
            return send_405(conn, pcap ? "POST" : "GET");
        if (a->exposure == NULL)
            return send_error(conn, 503, "unavailable", "the exposure scanner is not running");
        return pcap ? route_exposure_pcap(conn, a) : route_exposure(conn, a);
    }
    if (strncmp(path, "/api/v1/threats", 15) == 0) {
        const char *rest = path + 15;
        if (a->store == NULL && (rest[0] == '\0' || rest[0] == '/'))
            return send_error(conn, 503, "unavailable", "no store attached");
        if (rest[0] == '\0')
            return get ? route_threat_list(conn, a) : send_405(conn, "GET");
        if (rest[0] == '/' && rest[1] != '\0' && strchr(rest + 1, '/') == NULL)
            return route_threat_id(conn, a, m, rest + 1);
    }
    return send_error(conn, 404, "not_found", "no such route");
}

/* ---- life --------------------------------------------------------------- */

static int log_message_cb(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    mw_warn(MOD, "civetweb: %s", message);
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
    char listen[MW_CONFIG_STR_MAX + 16];
    char threads[16], timeout[16];
    const char *opts[16];
    int k = 0, rc = MW_OK, np;

    if (o == NULL || o->cfg == NULL || out == NULL)
        return MW_EINVAL;
    if (listen_spec(o->cfg->http_listen, listen, sizeof(listen)) != 0) {
        mw_error(MOD, "listen.http '%s' is not HOST:PORT", o->cfg->http_listen);
        return MW_ECONFIG;
    }
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
    if (o->openapi_path && (a->openapi_path = strdup(o->openapi_path)) == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }

    mw_info(MOD, "civetweb features: tls=%s websocket=%s",
            mg_check_feature(MW_FEATURE_TLS) ? "yes" : "no",
            mg_check_feature(MW_FEATURE_WEBSOCKET) ? "yes" : "no");
    mg_init_library(0);
    a->lib_init = 1;

    snprintf(threads, sizeof(threads), "%u", o->cfg->api_threads ? o->cfg->api_threads : 4);
    snprintf(timeout, sizeof(timeout), "%d", 30000);
    opts[k++] = "listening_ports";
    opts[k++] = listen;
    opts[k++] = "num_threads";
    opts[k++] = threads;
    opts[k++] = "request_timeout_ms";
    opts[k++] = timeout;
    opts[k++] = "enable_keep_alive";
    opts[k++] = "yes";
    /* An answer goes out as two writes (headers, then body): without
     * TCP_NODELAY the body waits for the client's delayed ACK, ~40 ms added
     * to every answer (HTTP intake of 1,000-event batches on 4 keep-alive
     * connections: 55k events/s with the delay, 92k-140k without it). */
    opts[k++] = "tcp_nodelay";
    opts[k++] = "1";
    if (o->web_root && o->web_root[0]) {
        opts[k++] = "document_root";
        opts[k++] = o->web_root;
        opts[k++] = "enable_directory_listing";
        opts[k++] = "no";
    }
    opts[k] = NULL;

    memset(&cb, 0, sizeof(cb));
    cb.log_message = log_message_cb;
    a->ctx = mg_start(&cb, a, opts);
    if (a->ctx == NULL) {
        mw_error(MOD, "cannot listen for HTTP on %s", o->cfg->http_listen);
        rc = MW_EIO;
        goto out;
    }
    np = mg_get_server_ports(a->ctx, 4, ports);
    a->port = np > 0 ? ports[0].port : 0;

    mg_set_request_handler(a->ctx, "/api", handler, a);
    mg_set_request_handler(a->ctx, "/metrics", handler, a);
    mg_set_request_handler(a->ctx, "/health", handler, a);
    if (o->web_root == NULL || o->web_root[0] == '\0')
        mg_set_request_handler(a->ctx, "/", handler, a);
    mw_info(MOD, "HTTP API listening on %s (port %d, %s threads)", listen, a->port, threads);
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

void mw_api_set_ready(mw_api_t *a, int ready)
{
    if (a)
        atomic_store(&a->ready, ready ? 1 : 0);
}

void mw_api_stop(mw_api_t *a)
{
    if (a == NULL)
        return;
    if (a->ctx)
        mg_stop(a->ctx);
    if (a->lib_init)
        mg_exit_library();
    free(a->openapi_path);
    free(a);
}
