/* The store: one interface, a SQLite backend now (WAL, synchronous=NORMAL,
 * schema versions with migrations), PostgreSQL later.
 *
 * Threading: one writer thread uses the batch calls (begin / put_* / commit);
 * any thread may call the query and status functions concurrently (reads use
 * a pool of read connections; the occasional API write takes the write lock
 * between batches). Every call that returns 0 after commit is durable. */
#ifndef MWRASP_STORE_H
#define MWRASP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mwrasp/detection.h"
#include "mwrasp/error.h"
#include "mwrasp/event.h"

typedef struct mw_store mw_store_t;

enum mw_threat_status {
    MW_THREAT_NEW = 0,
    MW_THREAT_ACKNOWLEDGED,
    MW_THREAT_RESPONDING,
    MW_THREAT_RESOLVED,
    MW_THREAT__COUNT
};
const char *mw_threat_status_name(enum mw_threat_status s); /* "new", ... */
MW_WUR int mw_threat_status_parse(const char *s, enum mw_threat_status *out);

typedef struct mw_threat {
    uint64_t id;
    char rule_id[MW_RULE_ID_MAX];
    char detector[32];
    char title[MW_TITLE_MAX];
    char type[MW_TYPE_MAX];
    char threat_class[MW_CLASS_MAX];
    char tags[MW_TAGS_MAX]; /* the rule's tags, comma-separated (mw_detection_t) */
    char host[MW_EVENT_HOST_MAX + 1];
    int severity; /* 1..5 */
    double confidence; /* 0..1 */
    int64_t first_seen_ns;
    int64_t last_seen_ns;
    uint64_t count; /* detections folded into this threat */
    enum mw_threat_status status;
    int64_t updated_ns;
} mw_threat_t;

/* A stored event (for evidence and GET by id). Strings are malloc'd; free
 * with mw_stored_event_clear(). */
typedef struct mw_stored_event {
    uint64_t id;
    int64_t ts_ns;
    int64_t ingest_ns;
    enum mw_source source;
    char *host;
    char *category;
    char *raw;
    size_t raw_len;
} mw_stored_event_t;
void mw_stored_event_clear(mw_stored_event_t *e);

/* Opens (creating and migrating as needed) the SQLite database at path.
 * The parent directory must exist. MW_EIO with a logged reason on failure. */
MW_WUR int mw_store_open(const char *path, mw_store_t **out);
/* Closes all connections. Accepts NULL. */
void mw_store_close(mw_store_t *s);
/* Schema version of the open database. */
int mw_store_schema_version(mw_store_t *s);

/* ---- batch writes (writer thread) ---- */
MW_WUR int mw_store_begin(mw_store_t *s);
/* Stores an event; sets ev->id at once (ids are dense and increasing, never
 * reused). The event is durable at commit; it is not visible to readers
 * before. */
MW_WUR int mw_store_put_event(mw_store_t *s, mw_event_t *ev);
/* id == 0: inserts and sets t->id. id != 0: updates last_seen, count,
 * severity (min), confidence (max) of an existing threat that is not
 * resolved; MW_ENOTFOUND if it does not exist or is resolved (the caller then
 * opens a new threat). */
MW_WUR int mw_store_put_threat(mw_store_t *s, mw_threat_t *t);
/* Links a detection of event_id to threat_id. */
MW_WUR int mw_store_put_detection(mw_store_t *s, uint64_t threat_id, uint64_t event_id,
                                  const mw_detection_t *d, int64_t ts_ns);
MW_WUR int mw_store_commit(mw_store_t *s);
void mw_store_rollback(mw_store_t *s);

/* ---- queries (any thread) ---- */
struct mw_threat_query {
    int severity; /* 0 = any; else exactly this level */
    int max_severity; /* 0 = any; else severity <= this (1 = critical only) */
    int status; /* -1 = any; else an mw_threat_status */
    int64_t since_ns; /* 0 = any; else last_seen >= since */
    const char *host; /* NULL = any; exact match */
    uint64_t cursor; /* 0 = from newest; else threats with id < cursor */
    uint32_t limit; /* 1..1000 */
};
/* Newest first (id descending). *out is malloc'd (caller frees), *n entries;
 * *next_cursor is 0 when there are no more pages. */
MW_WUR int mw_store_list_threats(mw_store_t *s, const struct mw_threat_query *q, mw_threat_t **out,
                                 size_t *n, uint64_t *next_cursor);
MW_WUR int mw_store_get_threat(mw_store_t *s, uint64_t id, mw_threat_t *out);
/* MW_ENOTFOUND if no such threat. Durable on return. */
MW_WUR int mw_store_set_threat_status(mw_store_t *s, uint64_t id, enum mw_threat_status st);
/* Threats that are not resolved and whose last_seen >= since_ns; used to
 * rebuild the fold window after a restart. */
MW_WUR int mw_store_open_threats(mw_store_t *s, int64_t since_ns, mw_threat_t **out, size_t *n);
/* Evidence: the newest up to `limit` event ids linked to a threat. */
MW_WUR int mw_store_threat_events(mw_store_t *s, uint64_t threat_id, uint32_t limit, uint64_t **ids,
                                  size_t *n);
/* MW_ENOTFOUND if no such event (never stored, rolled back or expired);
 * MW_EIO if its storage is unreadable or corrupt. *out untouched on error. */
MW_WUR int mw_store_get_event(mw_store_t *s, uint64_t id, mw_stored_event_t *out);
/* Calls cb for every stored event with id >= from_id, in id order, from one
 * consistent snapshot (a batch is seen entirely or not at all). The event
 * passed to cb is borrowed: it and its strings (NUL-terminated) are valid
 * only during the call; do not clear or keep them. cb returns 0 to go on;
 * any other value stops the scan, which returns that value. Otherwise 0, or
 * MW_EIO (storage error or a corrupt segment: the events of the segments
 * before it were delivered, none of its own), MW_ENOMEM. Holds one read connection for the whole
 * scan. */
typedef int (*mw_store_event_cb)(const mw_stored_event_t *e, void *ctx);
MW_WUR int mw_store_scan_events(mw_store_t *s, uint64_t from_id, mw_store_event_cb cb, void *ctx);
MW_WUR int mw_store_count_events(mw_store_t *s, uint64_t *n);
MW_WUR int mw_store_count_threats(mw_store_t *s, uint64_t *n);

/* Deletes events (and their detection links) ingested before older_than_ns,
 * in chunks so the writer is never blocked long; *deleted gets the count.
 * The SQLite store deletes whole segments (runs of up to 256 events of one
 * batch): an event older than the cutoff stays while a newer event of its
 * segment is inside retention. Event ids are never reused. */
MW_WUR int mw_store_expire_events(mw_store_t *s, int64_t older_than_ns, uint64_t *deleted);

/* ---- agents ---- */
typedef struct mw_agent_rec {
    char id[64];
    char role[32]; /* monitor, defender, analyzer, coordinator, recovery */
    char host[MW_EVENT_HOST_MAX + 1];
    int64_t last_seen_ns;
    double trust; /* 0..1 */
} mw_agent_rec_t;
MW_WUR int mw_store_put_agent(mw_store_t *s, const mw_agent_rec_t *a);
MW_WUR int mw_store_list_agents(mw_store_t *s, mw_agent_rec_t **out, size_t *n);

/* ---- API keys (schema 4; src/api/auth.c owns their format) ----
 * Only the SHA3-256 hash of a key is stored. Strings are NUL-terminated and
 * cut to their buffers. */
#define MW_APIKEY_ID_MAX 16
#define MW_APIKEY_NAME_MAX 64
#define MW_APIKEYS_MAX 10000 /* cap on mw_store_list_apikeys */
typedef struct mw_apikey_rec {
    char id[MW_APIKEY_ID_MAX + 1];
    char name[MW_APIKEY_NAME_MAX + 1];
    char role[16];
    uint8_t hash[32];
    int64_t created_ns;
    int64_t last_used_ns; /* 0 = never */
    int64_t revoked_ns; /* 0 = valid */
} mw_apikey_rec_t;
/* Inserts a new key; MW_EEXIST if the id is taken, MW_EINVAL if id is empty. */
MW_WUR int mw_store_put_apikey(mw_store_t *s, const mw_apikey_rec_t *k);
/* Every key (revoked ones too), oldest first, at most MW_APIKEYS_MAX.
 * *out malloc'd (caller frees), *n entries. */
MW_WUR int mw_store_list_apikeys(mw_store_t *s, mw_apikey_rec_t **out, size_t *n);
/* Marks a key revoked at ns; MW_ENOTFOUND if no such key or already revoked. */
MW_WUR int mw_store_revoke_apikey(mw_store_t *s, const char *id, int64_t ns);
/* Sets last_used (only ever forward). */
MW_WUR int mw_store_touch_apikey(mw_store_t *s, const char *id, int64_t ns);

/* ---- audit log (schema 4) ----
 * One row per state-changing API call. */
#define MW_AUDIT_LIMIT_MAX 1000
typedef struct mw_audit_rec {
    uint64_t id; /* set by mw_store_put_audit */
    int64_t ts_ns;
    char actor[128]; /* API key id, JWT sub, or "anonymous" */
    char role[16];
    char method[8];
    char path[256];
    char target[64]; /* the id acted on ("" = none) */
    char summary[256];
    char client[64]; /* client address */
    int status; /* HTTP status answered */
} mw_audit_rec_t;
MW_WUR int mw_store_put_audit(mw_store_t *s, mw_audit_rec_t *r);
struct mw_audit_query {
    int64_t since_ns; /* 0 = any; else ts >= since */
    const char *actor; /* NULL = any; exact match */
    uint64_t cursor; /* 0 = from newest; else rows with id < cursor */
    uint32_t limit; /* 1..MW_AUDIT_LIMIT_MAX */
};
/* Newest first. *out malloc'd (caller frees); *next_cursor 0 on the last page. */
MW_WUR int mw_store_list_audit(mw_store_t *s, const struct mw_audit_query *q, mw_audit_rec_t **out,
                               size_t *n, uint64_t *next_cursor);

#endif
