/* Ingest: parsers (syslog RFC 5424 / RFC 3164, JSON lines) and listeners
 * (syslog UDP, syslog TCP with octet-counting and newline framing, JSON lines
 * over TCP), plus file replay. Everything here depends only on core: events
 * go to an mw_sink_t.
 *
 * Policies (docs/internals/ingest.md):
 *  - a line longer than max_line is refused (MW_REJ_TOO_LARGE), the rest of
 *    the stream goes on;
 *  - JSON must be valid UTF-8 (else MW_REJ_UTF8); syslog bytes that are not
 *    UTF-8 are kept in raw, and replaced by U+FFFD in field values
 *    (counted in mw_metrics.utf8_repaired);
 *  - every refusal is counted in mw_metrics.events_rejected[source][reason]
 *    and logged (rate-limited) with the peer and reason. */
#ifndef MWRASP_INGEST_H
#define MWRASP_INGEST_H

#include <stddef.h>
#include <stdio.h>

#include "mwrasp/error.h"
#include "mwrasp/event.h"
#include "mwrasp/metrics.h"
#include "mwrasp/pipeline.h"

struct json_t;

/* ---- parsers ------------------------------------------------------------
 * All parsers: on success *out is a new event owned by the caller. On error
 * *out is untouched, *why says which counter to bump, and err (if not NULL)
 * gets a NUL-terminated human-readable reason ("invalid JSON at column 17:
 * ..."). None of them ever reads past line[len-1]. */

/* One syslog message (no framing, no trailing newline). RFC 5424 if it has
 * "<PRI>1 ", else RFC 3164 (BSD). peer is the sender address text used as
 * host when the message has none (may be NULL). Fields (ECS names):
 * log.syslog.priority, log.syslog.facility.code, log.syslog.severity.code,
 * log.syslog.hostname, log.syslog.appname, log.syslog.procid,
 * log.syslog.msgid, log.syslog.version, log.syslog.structured_data.<id>.<param>,
 * process.name (= appname), message. category "syslog". */
MW_WUR int mw_syslog_parse(const char *line, size_t len, enum mw_source src, const char *peer,
                           mw_event_t **out, enum mw_reject *why, char *err, size_t errlen);

/* One JSON object (a JSON-lines line). Nested objects are flattened with
 * dots ({"source":{"ip":"1.2.3.4"}} -> source.ip); strings are kept, numbers
 * and booleans as their JSON text, arrays and nulls as compact JSON text.
 * Timestamp from "@timestamp", "timestamp" or "TimeCreated" (RFC 3339) else
 * now; host from "host.name", "host", "hostname" or "Computer"; category from
 * "event.category" or "category". */
MW_WUR int mw_jsonl_parse(const char *line, size_t len, enum mw_source src, mw_event_t **out,
                          enum mw_reject *why, char *err, size_t errlen);

/* Same, from an already parsed jansson object (HTTP intake). raw is the
 * compact JSON text of obj. */
MW_WUR int mw_json_to_event(const struct json_t *obj, enum mw_source src, mw_event_t **out,
                            enum mw_reject *why, char *err, size_t errlen);

/* Auto-detects the format of one line: first non-blank byte '{' -> JSON,
 * otherwise syslog. Used by replay and by HTTP intake of text/plain. */
MW_WUR int mw_ingest_parse_line(const char *line, size_t len, enum mw_source src, const char *peer,
                                mw_event_t **out, enum mw_reject *why, char *err, size_t errlen);

/* ---- listeners ---------------------------------------------------------- */
struct mw_ingest_opts {
    const char *syslog_udp; /* "HOST:PORT" or NULL/"" for off */
    const char *syslog_tcp;
    const char *json_tcp;
    size_t max_line; /* bytes; 0 = MW_EVENT_DEFAULT_MAX_LINE */
    mw_sink_t sink;
};
typedef struct mw_ingest mw_ingest_t;

/* Binds every configured listener and starts their threads. MW_EIO (with a
 * logged reason naming the address) if a bind fails; nothing is left
 * running then. */
MW_WUR int mw_ingest_start(const struct mw_ingest_opts *o, mw_ingest_t **out);
/* The port actually bound (useful with port 0); 0 if that listener is off.
 * which: "syslog_udp", "syslog_tcp", "json_tcp". */
int mw_ingest_port(const mw_ingest_t *in, const char *which);
/* Stops accepting, closes sockets, joins threads. After it returns nothing
 * more is submitted to the sink. Accepts NULL. */
void mw_ingest_stop(mw_ingest_t *in);

/* ---- replay ------------------------------------------------------------- */
struct mw_replay_stats {
    uint64_t lines, accepted, rejected;
};
/* Reads a file (or "-" for stdin) line by line: lines starting with '{' are
 * JSON, others syslog; blank lines are skipped. Each accepted event goes to
 * sink with MW_SUBMIT_BLOCK. Each bad line is reported on `errors` (if not
 * NULL) as "FILE:LINE: reason". Progress every second on `progress` (if not
 * NULL). Returns 0 if the file could be read (even with bad lines). */
MW_WUR int mw_replay_file(const char *path, enum mw_source src, size_t max_line, mw_sink_t sink,
                          struct mw_replay_stats *stats, FILE *errors, FILE *progress);

#endif
