/* The HTTP API (civetweb + jansson): /api/v1/..., /metrics, /health/live, /health/ready.
 * Errors are JSON {"error": {"code": "...", "message": "..."}} with the
 * right 4xx/5xx status. The OpenAPI 3.0 description is docs/api/openapi.yaml
 * (served at /api/v1/openapi.yaml). */
#ifndef MWRASP_API_H
#define MWRASP_API_H

#include <stddef.h>

#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/error.h"
#include "mwrasp/store.h"

typedef struct mw_api mw_api_t;
struct mw_expo_daemon; /* exposure.h */

struct mw_api_opts {
    const struct mw_config *cfg; /* listen.http, api.max_body, api.threads */
    mw_store_t *store; /* not owned */
    mw_detect_engine_t *engine; /* not owned; events are submitted here */
    const char *openapi_path; /* file served at /api/v1/openapi.yaml (may be NULL) */
    const char *web_root; /* dashboard static files (may be NULL) */
    /* The exposure scanner (not owned; NULL: /api/v1/exposure* answer 503).
     * Uploads are capped by cfg->exposure_upload_max. */
    struct mw_expo_daemon *exposure;
};

/* Starts the server. MW_EIO (logged) if the port cannot be bound. */
MW_WUR int mw_api_start(const struct mw_api_opts *o, mw_api_t **out);
/* Port actually bound (for listen "127.0.0.1:0"). */
int mw_api_port(const mw_api_t *a);
/* Port of the TLS listener (listen.https), 0 if none. */
int mw_api_https_port(const mw_api_t *a);
/* /health/ready answers 503 until this is set to 1 (and after it is 0). */
void mw_api_set_ready(mw_api_t *a, int ready);
/* Stops the server, waits for in-flight requests. Accepts NULL. */
void mw_api_stop(mw_api_t *a);

/* ---- HTTP client (src/api/client.c) --------------------------------------
 * A minimal blocking HTTP/1.1 client for the CLI and tests: plain http://
 * only, one request per connection ("Connection: close"), Content-Length,
 * chunked and read-to-close bodies. */

struct mw_http_response {
    int status; /* e.g. 200 */
    char *body; /* malloc'd, NUL-terminated (body_len bytes before it) */
    size_t body_len;
    char content_type[128];
};

/* Sends one request to url ("http://HOST[:PORT][/PATH[?QUERY]]", HOST a name
 * or an IPv4/IPv6 literal in brackets). headers: extra header lines, each
 * ending in "\r\n" (may be NULL). body may be NULL (body_len 0).
 * timeout_ms bounds connect and each read/write (0 = 30 s). Responses
 * bodies above max_body (0 = 64 MiB) fail with MW_ETOOBIG.
 * On success fills *out (free with mw_http_response_clear); any HTTP status
 * is success. Errors: MW_EINVAL (bad url), MW_EIO (cannot connect, reset,
 * timeout, malformed response), MW_ETOOBIG, MW_ENOMEM; err gets a
 * human-readable reason ("connection refused"); *out untouched. */
MW_WUR int mw_http_request(const char *url, const char *method, const char *headers,
                           const char *body, size_t body_len, int timeout_ms, size_t max_body,
                           struct mw_http_response *out, char *err, size_t errlen);
/* Frees the body and zeroes r. Accepts NULL. */
void mw_http_response_clear(struct mw_http_response *r);

#endif
