/* Detection: the detector interface, the detector table, and the detection
 * engine (worker threads + writer thread) that runs every registered detector
 * over every event and turns detections into threats.
 *
 * Adding a detector is adding a file with one `const struct mw_detector_ops`
 * and one line in the table in src/detect/registry.c (like Suricata's
 * sigmatch table). */
#ifndef MWRASP_DETECT_H
#define MWRASP_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "mwrasp/config.h"
#include "mwrasp/detection.h"
#include "mwrasp/error.h"
#include "mwrasp/event.h"
#include "mwrasp/pipeline.h"

struct mw_store;

/* Called by a detector once per detection. Returns 0, or MW_ELIMIT when the
 * per-event detection cap (MW_DETECT_MAX_PER_EVENT) is reached: the detector
 * should then stop. */
#define MW_DETECT_MAX_PER_EVENT 64
typedef int (*mw_detection_emit_fn)(void *ctx, const mw_detection_t *d);

struct mw_detector_ops {
    const char *name;
    /* Builds the detector's immutable state from the configuration (e.g. loads
     * rules.dir). Called at start and again on every reload (SIGHUP); the new
     * state replaces the old one only if create succeeds. Problems in single
     * rules are logged (file and line) and counted, not fatal; create fails
     * only if the detector cannot run at all. */
    int (*create)(const struct mw_config *cfg, void **state);
    void (*destroy)(void *state);
    /* Per-thread scratch (e.g. a Hyperscan scratch); may be NULL ops. */
    int (*scratch_new)(void *state, void **scratch);
    void (*scratch_free)(void *scratch);
    /* Matches one event. state is shared read-only between threads. Must not
     * keep pointers into ev after returning. */
    int (*match)(void *state, void *scratch, const mw_event_t *ev, mw_detection_emit_fn emit,
                 void *emit_ctx);
    /* Number of rules/models loaded (for metrics and logs). */
    size_t (*count)(void *state);
};

/* The table of detectors, NULL-terminated. */
extern const struct mw_detector_ops *const mw_detectors[];

/* ---- the engine --------------------------------------------------------- */

typedef struct mw_detect_engine mw_detect_engine_t;

/* Creates the engine over an open store (not owned). Loads all detectors.
 * Threads are not started until mw_detect_engine_start(). */
MW_WUR int mw_detect_engine_new(const struct mw_config *cfg, struct mw_store *store,
                                mw_detect_engine_t **out);
MW_WUR int mw_detect_engine_start(mw_detect_engine_t *e);

/* Threat notifications (the WebSocket stream, src/api/ws.c). After each
 * committed batch the writer thread calls fn once per threat the batch
 * created or changed (in its state after the batch; a threat touched several
 * times in one batch is notified once), then once with t = NULL and what =
 * MW_THREAT_BATCH_END (a subscriber may hold its wake-ups until then). Up to
 * 2048 threats per batch are notified; the rest are counted
 * (mwrasp_threat_notes_skipped_total). fn runs on the writer thread and must
 * not block (copy what it needs; t is valid only during the call). Setting
 * fn = NULL removes the hook and waits for a call in progress to return, so
 * ctx may be freed afterwards. */
enum mw_threat_change { MW_THREAT_CREATED = 1, MW_THREAT_UPDATED = 2, MW_THREAT_BATCH_END = 3 };
struct mw_threat;
typedef void (*mw_threat_hook_fn)(void *ctx, const struct mw_threat *t, enum mw_threat_change what);
void mw_detect_engine_set_threat_hook(mw_detect_engine_t *e, mw_threat_hook_fn fn, void *ctx);

/* The sink intake submits into (see pipeline.h). Valid until _free. */
mw_sink_t mw_detect_engine_sink(mw_detect_engine_t *e);

/* Threat class of the quantum-exposure daemon's detections (a service whose
 * sessions use a classical key exchange: "harvest now, decrypt later"). Such
 * a detection is standing: it folds into the open threat of its (rule, host)
 * whatever that threat's age, not only within threats.dedup_window. */
#define MW_THREAT_CLASS_HNDL "hndl-exposure"

/* Hands the writer an event that already carries its one detection d
 * (copied), for detectors outside the worker path (the exposure daemon):
 * the event skips the workers and is committed, folded and acked like any
 * other (set ev->ack to wait for it). ev needs host and ts_ns; it must
 * carry no detections yet. On 0 the engine owns ev; on error (MW_EINVAL,
 * MW_ESHUTDOWN once stopping, MW_ENOMEM) the caller still does. Waits while
 * the writer ring is full. */
MW_WUR int mw_detect_engine_submit_detection(mw_detect_engine_t *e, mw_event_t *ev,
                                             const mw_detection_t *d);

/* Rebuilds all detectors from cfg (rules reload). Old state is kept if the
 * new one fails to build. Thread-safe. */
MW_WUR int mw_detect_engine_reload(mw_detect_engine_t *e, const struct mw_config *cfg);

/* Stops accepting, drains every ring, commits the last batch, joins threads.
 * Idempotent. */
void mw_detect_engine_stop(mw_detect_engine_t *e);
void mw_detect_engine_free(mw_detect_engine_t *e);

/* Appends Prometheus gauges (ring depth per worker, rules loaded) to a
 * malloc'd string; returns NULL on allocation failure. */
char *mw_detect_engine_gauges(mw_detect_engine_t *e);

/* Current total ring depth (events queued, not yet committed). */
uint64_t mw_detect_engine_depth(mw_detect_engine_t *e);

/* Severity helpers: Sigma level name -> 1..5 ("critical" = 1,
 * "informational" = 5); MW_EINVAL for unknown names. */
MW_WUR int mw_severity_from_level(const char *level, int *out);
const char *mw_severity_name(int severity); /* 1 -> "critical" */

#endif
