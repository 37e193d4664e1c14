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

#endif
