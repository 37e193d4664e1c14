/* The event model (DESIGN.md section 5).
 *
 * An event is a flat record: a timestamp in ns, the ingest source, the host,
 * a category, key/value fields, and the raw bytes it was parsed from.
 * Field keys are interned (a process-wide table, capped; when it is full a
 * key is copied into the event instead, so nothing is lost). Values are
 * copied into the event's own arena and NUL-terminated; every pointer an
 * event hands out stays valid until mw_event_free().
 *
 * An event is built by one thread, then handed on whole (ownership moves
 * with it through the pipeline); it is never shared for writing. */
#ifndef MWRASP_EVENT_H
#define MWRASP_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "mwrasp/error.h"

#define MW_EVENT_MAX_FIELDS 256 /* hard cap on fields per event */
#define MW_EVENT_MAX_BYTES (1u << 20) /* hard cap on arena bytes per event */
#define MW_EVENT_HOST_MAX 255 /* longer host names are rejected */
#define MW_EVENT_CATEGORY_MAX 63
#define MW_EVENT_DEFAULT_MAX_LINE (64u * 1024u) /* default raw line cap */

/* Where an event came from. Keep mw_source_name() in sync. */
enum mw_source {
    MW_SRC_SYSLOG_UDP = 0,
    MW_SRC_SYSLOG_TCP,
    MW_SRC_JSON_TCP,
    MW_SRC_HTTP,
    MW_SRC_REPLAY,
    MW_SRC_CAPTURE, /* made by the daemon from packet captures (hndl-exposure evidence) */
    MW_SRC__COUNT
};

/* "syslog_udp", "syslog_tcp", "json_tcp", "http", "replay", "capture". */
const char *mw_source_name(enum mw_source s);
/* Inverse of mw_source_name; MW_EINVAL if unknown. */
int mw_source_parse(const char *name, enum mw_source *out);

typedef struct mw_field {
    const char *key; /* interned or in the event arena; NUL-terminated */
    const char *val; /* in the event arena; NUL-terminated */
    uint32_t key_len;
    uint32_t val_len;
} mw_field_t;

struct mw_ack; /* completion ticket, see pipeline.h */
struct mw_detection;
struct mw_arena_chunk;

typedef struct mw_event {
    uint64_t id; /* assigned by the store when written; 0 before */
    int64_t ts_ns; /* event time, ns since the Unix epoch (UTC) */
    int64_t ingest_ns; /* when MWRASP received it (CLOCK_REALTIME ns) */
    uint64_t mono_ns; /* CLOCK_MONOTONIC at receipt, for latency */
    enum mw_source source;
    const char *host; /* never NULL ("" if unknown) */
    const char *category; /* never NULL ("" if unknown) */
    const char *raw; /* raw bytes as received (NUL-terminated copy) */
    uint32_t raw_len;
    uint32_t nfields;
    mw_field_t *fields; /* nfields entries; starts as fields_inline */
    uint32_t fields_cap;
    mw_field_t fields_inline[16];
    uint32_t host_hash; /* hash of host, used for sharding */
    struct mw_ack *ack; /* set by intake that waits for durability */
    struct mw_detection *dets; /* pipeline-private: detections (malloc'd, freed with the event) */
    uint32_t ndets;
    /* arena: private */
    struct mw_arena_chunk *arena_head;
    size_t arena_used_total;
    /* Fields whose key is a copy in the arena rather than interned (the
     * intern table full, or a key over 255 bytes), counted by
     * mw_event_add_field; code that fills fields[] itself must count its
     * non-interned keys here. While it is 0, equal key pointers mean equal
     * keys for the life of the process (the Sigma matcher caches field
     * layouts by them). */
    uint32_t keys_copied;
} mw_event_t;

/* Allocates an empty event whose raw copy is raw[0..raw_len). host and
 * category start as "". Returns NULL on allocation failure or if raw_len
 * exceeds MW_EVENT_MAX_BYTES. */
mw_event_t *mw_event_new(enum mw_source src, const char *raw, size_t raw_len);

/* Frees the event and everything it owns. Accepts NULL. */
void mw_event_free(mw_event_t *ev);

/* Copies host (len bytes, need not be NUL-terminated). MW_ETOOBIG if longer
 * than MW_EVENT_HOST_MAX, MW_ENOMEM on allocation failure. */
MW_WUR int mw_event_set_host(mw_event_t *ev, const char *host, size_t len);
MW_WUR int mw_event_set_category(mw_event_t *ev, const char *cat, size_t len);

/* Appends a field. key and val are copied. Keys are case-sensitive; a key
 * that already exists is appended again (first one wins for lookups).
 * Errors: MW_ELIMIT (MW_EVENT_MAX_FIELDS), MW_ETOOBIG (arena cap),
 * MW_EINVAL (empty key), MW_ENOMEM. The event is unchanged on error. */
MW_WUR int mw_event_add_field(mw_event_t *ev, const char *key, size_t klen, const char *val,
                              size_t vlen);

/* mw_event_add_field for a key already interned: ikey must be what
 * mw_intern() returned for these klen bytes (not checked); it is stored
 * as is, without a lookup. Same errors (MW_EINVAL for a NULL ikey or
 * klen 0); the event is unchanged on error. For parsers that remember the
 * interned keys of the events they saw. */
MW_WUR int mw_event_add_field_interned(mw_event_t *ev, const char *ikey, size_t klen,
                                       const char *val, size_t vlen);

/* The first field with this exact key, or NULL. */
const mw_field_t *mw_event_field(const mw_event_t *ev, const char *key);
/* Convenience: value of the first field named key, or NULL. */
const char *mw_event_get(const mw_event_t *ev, const char *key);

/* Copies bytes into the event's arena (NUL-terminated); NULL on failure.
 * For parsers that need scratch strings living as long as the event. */
char *mw_event_strdup(mw_event_t *ev, const char *s, size_t len);

/* Interns a field key process-wide. Returns a stable pointer, or NULL when
 * the table (MW_INTERN_MAX keys) is full or key is longer than 255 bytes. */
#define MW_INTERN_MAX 65536
const char *mw_intern(const char *key, size_t len);

/* 32-bit FNV-1a. */
uint32_t mw_hash32(const void *data, size_t len);

/* Current time helpers. */
int64_t mw_now_realtime_ns(void);
uint64_t mw_now_mono_ns(void);

/* Parses an RFC 3339 timestamp ("2024-01-02T03:04:05.123Z",
 * "+01:00" offsets) into ns since the epoch. MW_EPARSE if malformed. */
MW_WUR int mw_time_parse_rfc3339(const char *s, size_t len, int64_t *out_ns);
/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31;
 * no validation: callers check ranges). Howard Hinnant's days_from_civil. */
int64_t mw_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Formats ns since epoch as RFC 3339 UTC with ms ("...T...123Z").
 * buf must hold at least 32 bytes. */
void mw_time_format_rfc3339(int64_t ns, char *buf, size_t buflen);

/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
int mw_utf8_valid(const char *s, size_t len);

#endif
