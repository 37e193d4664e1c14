/* Private to src/api: the pieces of the HTTP API that do not need a socket,
 * split out so that unit tests drive them directly (tests/unit/test_api_*.c).
 *
 *   query.c   GET /api/v1/threats query-string parsing
 *   json.c    threat / event / metrics / error JSON shaping
 *   intake.c  POST /api/v1/events body handling (split, parse, submit, ack)
 *   server.c  civetweb glue and routing
 *   client.c  minimal HTTP/1.1 client (public: mw_http_request in api.h) */
#ifndef MWRASP_API_INT_H
#define MWRASP_API_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mwrasp/detect.h"
#include "mwrasp/error.h"
#include "mwrasp/event.h"
#include "mwrasp/metrics.h"
#include "mwrasp/pipeline.h"
#include "mwrasp/store.h"

#define MW_API_LIMIT_DEFAULT 100
#define MW_API_LIMIT_MAX 1000
#define MW_API_QUERY_MAX 4096 /* longest query string accepted */
#define MW_API_EVIDENCE_MAX 20 /* stored events shown with one threat */
#define MW_API_ERRORS_MAX 100 /* per-item errors reported for one POST */
#define MW_API_ACK_TIMEOUT_MS 30000
#define MW_API_SMALL_BODY 4096 /* cap for PATCH bodies */

/* ---- query.c ------------------------------------------------------------ */

/* Parsed GET /api/v1/threats parameters. host points into host_buf. */
struct mw_api_threat_params {
    struct mw_threat_query q;
    char host_buf[MW_EVENT_HOST_MAX + 1];
};

/* Parses a raw (still percent-encoded) query string (NULL or "" = no
 * parameters) into p, filling defaults (limit 100, status -1). On error
 * returns MW_EINVAL, p is untouched, and err names the parameter
 * ("parameter 'limit': must be an integer 1..1000"). Unknown and repeated
 * parameters are errors. Never reads past qs[strlen(qs)]. */
MW_WUR int mw_api_parse_threat_query(const char *qs, struct mw_api_threat_params *p, char *err,
                                     size_t errlen);

/* Percent-decodes src[0..len) into dst (dstlen bytes including the NUL);
 * '+' becomes a space. MW_EINVAL on a bad escape or a decoded NUL,
 * MW_ETOOBIG if it does not fit. Returns the decoded length otherwise. */
MW_WUR int mw_api_url_decode(const char *src, size_t len, char *dst, size_t dstlen);
/* Value of one hex digit (either case), or -1. */
int mw_api_hexval(int c);

/* Parses a decimal uint64 (no sign, no spaces, no leading '+', at most 20
 * digits, no overflow). MW_EINVAL otherwise. */
MW_WUR int mw_api_parse_u64(const char *s, size_t len, uint64_t *out);

/* ---- json.c ------------------------------------------------------------- */

/* New JSON object for a threat (fields in docs/api/openapi.yaml, schema
 * Threat); NULL on allocation failure. Caller owns the reference. */
json_t *mw_api_threat_json(const mw_threat_t *t);

/* New JSON object for a stored event (id, ts, ingest_ts, source, host,
 * category, raw). raw is made valid UTF-8 (bad bytes -> U+FFFD). */
json_t *mw_api_event_json(const mw_stored_event_t *e);

/* {"error": {"code": code, "message": message}}; NULL on allocation failure. */
json_t *mw_api_error_json(const char *code, const char *message);

/* Every counter of mw_metrics as a JSON object; ring_depth is added when
 * have_depth is set. */
json_t *mw_api_metrics_json(int have_depth, uint64_t ring_depth);

/* A new json string from bytes that may not be UTF-8 (invalid sequences are
 * replaced with U+FFFD, as are bytes past a cap of 1 MiB of output). */
json_t *mw_api_string_repaired(const char *s, size_t len);

/* ---- intake.c ----------------------------------------------------------- */

enum mw_api_body_kind {
    MW_BODY_AUTO = 0, /* JSON object / array, or NDJSON if that is what it is */
    MW_BODY_NDJSON, /* application/x-ndjson */
    MW_BODY_TEXT, /* text/plain: syslog or JSON per line */
};

/* Maps a Content-Type header value (may be NULL) to a body kind. */
enum mw_api_body_kind mw_api_body_kind(const char *content_type);

struct mw_api_intake_result {
    int status; /* HTTP status to answer with */
    uint64_t accepted; /* events durable */
    uint64_t rejected; /* items refused */
    json_t *body; /* response body (owned by the result) */
};

/* Handles one POST /api/v1/events body: splits it, parses each item
 * (NDJSON lines and single-line array elements with mw_jsonl_parse, text
 * lines with mw_ingest_parse_line, anything else with jansson and
 * mw_json_to_event; see intake.c), submits accepted
 * events to sink with MW_SUBMIT_BLOCK and an ack ticket, and waits for them
 * to be durable (timeout_ms, then 503). src is the source events are
 * labelled with (MW_SRC_HTTP, or MW_SRC_REPLAY for text bodies from
 * replay). peer (may be NULL) is the client address, the host of syslog
 * lines that name none. Lines (NDJSON, text) longer than max_line (0 =
 * MW_EVENT_DEFAULT_MAX_LINE) are refused as too_large. Counts mw_metrics.events_in /
 * events_rejected / api_bad_body. Always fills r (status + JSON body); returns 0, or MW_ENOMEM when
 * even the response could not be built (r->body NULL then, answer 500). Free with
 * mw_api_intake_result_clear(). */
MW_WUR int mw_api_intake(const char *body, size_t len, enum mw_api_body_kind kind,
                         enum mw_source src, const char *peer, size_t max_line, mw_sink_t sink,
                         int timeout_ms, struct mw_api_intake_result *r);
void mw_api_intake_result_clear(struct mw_api_intake_result *r);

/* 1 (default): JSON arrays of objects are split and read without jansson
 * when every element parses. 0: always jansson. For the fuzz harness, which
 * compares both paths; not changed at run time otherwise. */
extern int mw_api_fast_arrays;

/* ---- ratelimit.c: token buckets (issue 6 item 2) ---------------------------
 * Rates are tokens per minute; a request takes one token. See ratelimit.c
 * for the exact integer refill. */

#define MW_RATE_MICRO 1000000ULL /* micro-tokens per request */
#define MW_RATE_MAX_PER_MIN 100000000u
#define MW_RATE_MAX_BURST 100000000u
#define MW_RATE_SHARDS 16 /* power of two */
#define MW_RATE_ID_MAX 128 /* longer ids are shortened with a keyed hash */

struct mw_rate_spec {
    uint32_t per_min; /* 0 = unlimited ("off") */
    uint32_t burst; /* bucket size, 1..MW_RATE_MAX_BURST */
};

/* Parses "N/min burst M", "N/s burst M", "N/min" (burst N) or "off".
 * N/min at most MW_RATE_MAX_PER_MIN, M at most MW_RATE_MAX_BURST, both >= 1.
 * MW_EINVAL otherwise (out untouched). */
MW_WUR int mw_rate_parse(const char *text, struct mw_rate_spec *out);

enum mw_rate_kind {
    MW_RATE_ADDRESS = 0, /* per client address (every request) */
    MW_RATE_KEY, /* per API key id / JWT sub / client certificate */
    MW_RATE__KINDS
};

typedef struct mw_ratelimit mw_ratelimit_t;

/* A table of at most max_clients buckets (>= 1), in MW_RATE_SHARDS shards
 * with their own locks; the least recently used bucket of a full shard is
 * evicted. MW_EINVAL, MW_ENOMEM, MW_EIO (no randomness for the hash key). */
MW_WUR int mw_ratelimit_new(uint32_t max_clients, mw_ratelimit_t **out);
void mw_ratelimit_free(mw_ratelimit_t *rl); /* accepts NULL */

/* Takes one token from the bucket of (kind, id) at now_ns (a monotonic
 * clock, mw_now_mono_ns()). A new bucket starts full (spec->burst tokens).
 * Returns 1 if the request may go on, 0 if it is over the limit: then
 * *retry_after_s (if not NULL) is the whole number of seconds, rounded up,
 * after which one token will be there (1..86400). spec->per_min 0, a NULL
 * table, or an allocation failure: 1 (fail open). Thread-safe. */
int mw_ratelimit_take(mw_ratelimit_t *rl, enum mw_rate_kind kind, const char *id,
                      const struct mw_rate_spec *spec, uint64_t now_ns, uint32_t *retry_after_s);

struct mw_ratelimit_stats {
    uint64_t tracked; /* buckets in the table now */
    uint64_t evicted; /* buckets evicted to make room */
    uint64_t limited[MW_RATE__KINDS]; /* requests refused, by kind */
    uint64_t allowed[MW_RATE__KINDS];
};
void mw_ratelimit_stats(mw_ratelimit_t *rl, struct mw_ratelimit_stats *st);

/* SipHash-2-4 of data under the key (k0, k1). */
uint64_t mw_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* ---- guard.c: bad input at the door (issue 6 "Bad input") ----------------- */

enum mw_bad_input {
    MW_BAD_PATH = 0, /* dot segment, encoded slash, NUL, control byte: 400 bad_path */
    MW_BAD_UTF8, /* path or query string not UTF-8: 400 invalid_utf8 */
    MW_BAD_BODY_TOO_LARGE, /* above api.max_body: 413 */
    MW_BAD_HEADER_TIMEOUT, /* request head not complete within api.header_timeout: 408 */
    MW_BAD_MALFORMED, /* request line / headers civetweb could not parse: 400 */
    MW_BAD__COUNT
};
void mw_api_bad_input_count(enum mw_bad_input why);
uint64_t mw_api_bad_input_get(enum mw_bad_input why);

/* 1 if s[0..n) is UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
int mw_api_utf8_valid(const unsigned char *s, size_t n);

/* Checks a request target: uri is the path as sent (percent-encoded),
 * query the raw query string (may be NULL). Returns MW_BAD__COUNT when
 * fine, else MW_BAD_PATH or MW_BAD_UTF8 with msg set. */
enum mw_bad_input mw_api_check_target(const char *uri, const char *query, char *msg, size_t msglen);

/* Prometheus text of mwrasp_api_bad_input_total; malloc'd, NULL on OOM. */
char *mw_api_guard_metrics(void);

/* ---- jsonfast.c: GET /api/v1/threats answers without jansson -------------- */

/* The JSON text {"threats": [...], "next_cursor": "N" | null} of list[0..n),
 * byte for byte what json_dumps (JSON_COMPACT, JSON_REAL_PRECISION(10)) makes
 * of mw_api_threat_json objects (a non-finite confidence, which jansson
 * refuses, is written null). malloc'd (caller frees), *len set; NULL on
 * allocation failure. */
char *mw_api_threat_list_text(const mw_threat_t *list, size_t n, uint64_t next_cursor, size_t *len);

/* ---- readcache.c: rendered GET /api/v1/threats answers -------------------
 * Keyed by the normalized query; valid while the generation they were read
 * under is current (mw_api_readcache_invalidate on every threat change: the
 * engine's threat hook, PATCH). Take the generation BEFORE reading the
 * store, hand it to _put. Thread-safe. */
#define MW_READCACHE_ENTRIES 64
#define MW_READCACHE_ANSWER_MAX (1u << 20) /* larger answers are not kept */
#define MW_READCACHE_BYTES_MAX (16u << 20) /* all entries together */
#define MW_READCACHE_KEY_MAX (MW_EVENT_HOST_MAX + 160)

typedef struct mw_api_readcache mw_api_readcache_t;
struct mw_readcache_body; /* a cached answer, reference-counted */
struct mw_readcache_stats {
    uint64_t hits, misses, stores, evictions, too_big, entries, bytes, generation;
};
MW_WUR int mw_api_readcache_new(mw_api_readcache_t **out); /* MW_ENOMEM */
void mw_api_readcache_free(mw_api_readcache_t *c); /* accepts NULL */
uint64_t mw_api_readcache_generation(mw_api_readcache_t *c);
void mw_api_readcache_invalidate(mw_api_readcache_t *c); /* accepts NULL */
/* The key of q (every parameter); MW_ETOOBIG if keylen is too small. */
MW_WUR int mw_api_readcache_key(const struct mw_threat_query *q, char *key, size_t keylen);
/* A current answer for key (release with _body_put) or NULL. Counts hits
 * and misses. */
struct mw_readcache_body *mw_api_readcache_get(mw_api_readcache_t *c, const char *key);
const char *mw_api_readcache_body_text(const struct mw_readcache_body *b, size_t *len);
void mw_api_readcache_body_put(struct mw_readcache_body *b); /* accepts NULL */
/* Keeps a copy of text[0..len) under key if gen is still current and len
 * <= MW_READCACHE_ANSWER_MAX, evicting stale then least recently used
 * entries. Allocation failure: not kept. */
void mw_api_readcache_put(mw_api_readcache_t *c, const char *key, uint64_t gen, const char *text,
                          size_t len);
void mw_api_readcache_stats(mw_api_readcache_t *c, struct mw_readcache_stats *st);
/* Prometheus text of the mwrasp_api_readcache_* series; malloc'd, NULL on OOM. */
char *mw_api_readcache_metrics(mw_api_readcache_t *c);

/* ---- tls.c: TLS 1.3 and client certificates (issue 6 item 3) -------------- */

struct mw_config;
typedef struct mw_api_tls mw_api_tls_t;

/* 1 if HOST:PORT binds loopback only (127.0.0.0/8, localhost, [::1]) or is
 * empty; ":PORT" and 0.0.0.0 are not. */
int mw_api_listen_is_loopback(const char *hostport);

/* Reads the api.tls_* options (files must be readable; roles parsed).
 * MW_ECONFIG with err set, MW_ENOMEM. */
MW_WUR int mw_api_tls_new(const struct mw_config *cfg, mw_api_tls_t **out, char *err,
                          size_t errlen);
void mw_api_tls_free(mw_api_tls_t *t); /* accepts NULL */

/* civetweb's init_ssl callback body: certificate chain and key, protocol
 * floor, suites, client CA and verification on ssl_ctx (an SSL_CTX *).
 * 1 on success, -1 (logged) otherwise. */
int mw_api_tls_setup_ctx(mw_api_tls_t *t, void *ssl_ctx);

/* Maps a verified client certificate (an X509 *, may be NULL) to a role
 * through api.tls_client_roles: 1 with subject ("cert:CN") and *role
 * ("viewer", ...) set, 0 if no certificate or no entry matches. */
int mw_api_tls_peer_role(const mw_api_tls_t *t, void *x509, char *subject, size_t sublen,
                         const char **role);

/* ---- auth.c: API keys, JWT bearer tokens, roles ---------------------------
 * Roles: viewer (read) < analyst (acknowledge, resolve, respond, canaries)
 * < admin (config, agents, keys, audit). ingest is beside them: it may only
 * post events (routes declaring MW_ROLE_INGEST), which analyst and admin may
 * also do. MW_ROLE_NONE on a route = public. */
enum mw_api_role {
    MW_ROLE_NONE = 0,
    MW_ROLE_INGEST,
    MW_ROLE_VIEWER,
    MW_ROLE_ANALYST,
    MW_ROLE_ADMIN,
    MW_ROLE__COUNT
};
const char *mw_api_role_name(enum mw_api_role r); /* "none", "ingest", "viewer", ... */
/* MW_EINVAL unless s is "ingest", "viewer", "analyst" or "admin". */
MW_WUR int mw_api_role_parse(const char *s, enum mw_api_role *out);
/* 1 if a caller of role `have` may use a route that requires `need`. */
int mw_api_role_allows(enum mw_api_role have, enum mw_api_role need);

enum mw_api_auth_kind {
    MW_AUTH_ANON = 0, /* no credentials (public routes) */
    MW_AUTH_APIKEY,
    MW_AUTH_JWT,
    MW_AUTH_OFF, /* api.auth: off (loopback only): admin for everyone */
    MW_AUTH_CERT, /* TLS client certificate (mTLS), filled by the TLS code */
};

/* Who is calling: handed to every route handler, the audit log and the
 * rate limiter (the "admit" hook in server.c). */
struct mw_api_identity {
    enum mw_api_auth_kind kind;
    enum mw_api_role role; /* MW_ROLE_NONE when anonymous */
    char subject[128]; /* "key:<id>", "jwt:<sub>", "cert:<cn>", "anonymous", "local" */
    char key_id[24]; /* API key id (MW_AUTH_APIKEY) or "" */
    char client[64]; /* client address */
};

/* Why credentials were refused: labels of mwrasp_api_auth_failures_total. */
enum mw_auth_fail {
    MW_AUTHF_MISSING = 0,
    MW_AUTHF_MALFORMED, /* not a key, bad base64url / JSON / structure */
    MW_AUTHF_TOO_LARGE,
    MW_AUTHF_UNKNOWN_KEY,
    MW_AUTHF_REVOKED,
    MW_AUTHF_BAD_SIGNATURE, /* wrong key secret or JWT signature */
    MW_AUTHF_ALG, /* alg none, unknown, or not configured (algorithm confusion) */
    MW_AUTHF_EXPIRED,
    MW_AUTHF_NOT_YET_VALID,
    MW_AUTHF_ISSUER,
    MW_AUTHF_AUDIENCE,
    MW_AUTHF_ROLE, /* no or unknown role claim */
    MW_AUTHF_FORBIDDEN, /* authenticated, role too low (403) */
    MW_AUTHF__COUNT
};
const char *mw_auth_fail_name(enum mw_auth_fail f);

/* RFC 4648 section 5 base64url without padding (as JWS, RFC 7515 section 2).
 * encode: writes 4*ceil(n/3) minus padding chars + NUL; returns length or
 * MW_ETOOBIG if dstlen is too small. decode: strict (no '=', no whitespace,
 * unused trailing bits must be zero); returns the decoded length, MW_EINVAL
 * on bad input, MW_ETOOBIG if it does not fit. */
MW_WUR int mw_b64url_encode(const uint8_t *src, size_t n, char *dst, size_t dstlen);
MW_WUR int mw_b64url_decode(const char *src, size_t n, uint8_t *dst, size_t dstlen);

/* API key text: "mwk_" + 12 hex id + "_" + base64url of 32 random bytes. */
#define MW_APIKEY_PREFIX "mwk_"
#define MW_APIKEY_IDLEN 12
#define MW_APIKEY_TEXTLEN (4 + MW_APIKEY_IDLEN + 1 + 43)
/* Splits a key text; 0 and id (NUL-terminated) filled, or MW_EINVAL. */
MW_WUR int mw_apikey_parse(const char *text, size_t len, char id[MW_APIKEY_IDLEN + 1]);
/* SHA3-256 of the whole key text (what the store keeps). */
void mw_apikey_hash(const char *text, size_t len, uint8_t out[32]);

/* JWT verification (RFC 7519 on JWS compact serialization, RFC 7515).
 * Accepted algs: HS256 (if hs256 set) and EdDSA with Ed25519 (RFC 8037, if
 * ed25519 set); anything else, "none" included, is MW_AUTHF_ALG: the alg is
 * chosen by the configured key, never trusted from the token alone. exp is
 * required; nbf checked if present; iss / aud when configured. */
#define MW_JWT_MAX 8192 /* longest token accepted */
struct mw_jwt_config {
    const uint8_t *hs256_secret; /* NULL: HS256 refused */
    size_t hs256_len;
    void *ed25519; /* EVP_PKEY * of an Ed25519 public key; NULL: EdDSA refused */
    const char *issuer; /* NULL or "": not checked */
    const char *audience; /* NULL or "": not checked */
    const char *role_claim; /* e.g. "role" */
    int64_t leeway_s;
};
/* 0 and sub (cut to sublen) / role filled, or MW_EVERIFY with *why set. */
MW_WUR int mw_jwt_verify(const struct mw_jwt_config *c, const char *token, size_t len,
                         int64_t now_s, char *sub, size_t sublen, enum mw_api_role *role,
                         enum mw_auth_fail *why);

/* The daemon's authenticator: API keys (cached in memory from the store,
 * sorted by id; a lookup is a binary search and a constant-time compare of
 * the SHA3-256 hashes) and the JWT configuration. Thread-safe. */
typedef struct mw_api_auth mw_api_auth_t;
struct mw_config;
/* Loads keys and JWT keys from cfg; when the store holds no valid admin key,
 * creates one, prints it once on stdout and writes it to
 * cfg->api_admin_key_file (mode 0600) when set. MW_ECONFIG (err set) on a
 * bad setting, MW_EIO, MW_ENOMEM. store may be NULL (keys then live in
 * memory only: unit tests). */
MW_WUR int mw_api_auth_new(const struct mw_config *cfg, mw_store_t *store, mw_api_auth_t **out,
                           char *err, size_t errlen);
void mw_api_auth_free(mw_api_auth_t *a);
/* 1 when api.auth is off (every caller is an admin). */
int mw_api_auth_off(const mw_api_auth_t *a);
/* Checks the credentials of one request: authorization is the
 * Authorization header ("Bearer <key or JWT>"), x_api_key the X-API-Key
 * header (either may be NULL). id->client must be set by the caller; the
 * rest is filled. 0, or MW_EVERIFY with *why (counted in the metrics). */
MW_WUR int mw_api_authenticate(mw_api_auth_t *a, const char *authorization, const char *x_api_key,
                               struct mw_api_identity *id, enum mw_auth_fail *why);
/* Counts a refusal (used for 403, and by other authenticators). */
void mw_api_auth_count(mw_api_auth_t *a, enum mw_auth_fail why);
/* Creates a key: text gets the key (shown once), rec its stored record.
 * name may be NULL. MW_EINVAL for a bad role/name, MW_ELIMIT when
 * MW_APIKEYS_MAX keys exist, MW_EIO, MW_ECRYPTO. */
MW_WUR int mw_api_auth_create_key(mw_api_auth_t *a, enum mw_api_role role, const char *name,
                                  char text[MW_APIKEY_TEXTLEN + 1], mw_apikey_rec_t *rec);
/* MW_ENOTFOUND if no such (unrevoked) key. */
MW_WUR int mw_api_auth_revoke_key(mw_api_auth_t *a, const char *id);
/* A copy of every key record (hashes zeroed); caller frees *out. */
MW_WUR int mw_api_auth_list_keys(mw_api_auth_t *a, mw_apikey_rec_t **out, size_t *n);
/* Prometheus text of mwrasp_api_auth_failures_total; malloc'd, NULL on OOM. */
char *mw_api_auth_metrics(mw_api_auth_t *a);

/* ---- ws.c: the WebSocket stream /api/v1/stream (docs/api.md) -------------- */
typedef struct mw_api_ws mw_api_ws_t;
struct mg_context;

/* Checks the credentials of a stream client: authorization is an
 * Authorization header value ("Bearer <key or JWT>"), x_api_key an X-API-Key
 * value (either may be NULL), peer the client address. 0 when the caller may
 * read the stream (viewer or above); 403 when the role is too low; 401 when
 * the credentials are missing or bad. why gets a short reason, never the
 * secret. */
typedef int (*mw_api_ws_auth_fn)(void *ctx, const char *authorization, const char *x_api_key,
                                 const char *peer, char *why, size_t whylen);

struct mw_api_ws_opts {
    uint32_t max_clients; /* api.ws_max_clients: more get 503 */
    uint32_t max_frame; /* api.ws_max_frame: larger messages close 1009 */
    uint32_t queue; /* api.ws_queue: messages queued per client */
    int64_t ping_interval_ns, pong_timeout_ns, auth_timeout_ns;
    mw_api_ws_auth_fn auth; /* NULL: no credentials needed (api.auth off) */
    void *auth_ctx;
    /* Invalidated on every call of the engine's threat hook (may be NULL). */
    struct mw_api_readcache *readcache;
};

/* Registers the stream's handlers on ctx (GET /api/v1/stream), starts the
 * metrics tick thread and, when engine is not NULL, sets its threat hook.
 * civetweb's num_threads must leave room for max_clients connections (each
 * holds a worker thread): mw_api_ws_threads(). MW_ENOMEM. */
MW_WUR int mw_api_ws_start(struct mg_context *ctx, const struct mw_api_ws_opts *o,
                           mw_detect_engine_t *engine, mw_api_ws_t **out);
/* Extra civetweb worker threads the stream needs (api.ws_max_clients). */
unsigned mw_api_ws_threads(const struct mw_config *cfg);
/* Before mg_stop(): removes the threat hook, stops the tick thread and
 * queues close 1001 to every client. */
void mw_api_ws_detach(mw_api_ws_t *h);
/* After mg_stop() (every client closed): frees h. Accepts NULL. */
void mw_api_ws_stop(mw_api_ws_t *h);
/* A threat created (created = 1) or changed (acknowledged, resolved ...):
 * queued for every subscribed client whose filter it passes. Never blocks
 * on a client. Accepts NULL h. */
void mw_api_ws_publish_threat(mw_api_ws_t *h, const mw_threat_t *t, int created);
/* Prometheus text of the mwrasp_ws_* counters; malloc'd, NULL on OOM. */
char *mw_api_ws_metrics(mw_api_ws_t *h);

#endif
