/* The HTTP API (civetweb + jansson): /api/v1/..., /metrics, /health/*.
 * Errors are JSON {"error": {"code": "...", "message": "..."}} with the
 * right 4xx/5xx status. The OpenAPI 3.0 description is docs/api/openapi.yaml
 * (served at /api/v1/openapi.yaml). */
#ifndef MWRASP_API_H
#define MWRASP_API_H

#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/error.h"
#include "mwrasp/store.h"

typedef struct mw_api mw_api_t;

struct mw_api_opts {
    const struct mw_config *cfg;   /* listen.http, api.max_body, api.threads */
    mw_store_t *store;             /* not owned */
    mw_detect_engine_t *engine;    /* not owned; events are submitted here */
    const char *openapi_path;      /* file served at /api/v1/openapi.yaml (may be NULL) */
    const char *web_root;          /* dashboard static files (may be NULL) */
};

/* Starts the server. MW_EIO (logged) if the port cannot be bound. */
MW_WUR int mw_api_start(const struct mw_api_opts *o, mw_api_t **out);
/* Port actually bound (for listen "127.0.0.1:0"). */
int mw_api_port(const mw_api_t *a);
/* /health/ready answers 503 until this is set to 1 (and after it is 0). */
void mw_api_set_ready(mw_api_t *a, int ready);
/* Stops the server, waits for in-flight requests. Accepts NULL. */
void mw_api_stop(mw_api_t *a);

#endif
