/* The event pipeline: intake -> bounded rings -> N detection workers
 * (sharded by host) -> one writer thread (batches into the store, folds
 * detections into threats) -> acks.
 *
 * Intake code depends only on mw_sink_t and mw_ack_t (both here) so that
 * ingest never links against detect or store. */
#ifndef MWRASP_PIPELINE_H
#define MWRASP_PIPELINE_H

#include <pthread.h>
#include <stdint.h>

#include "mwrasp/error.h"
#include "mwrasp/event.h"

/* ---- completion tickets ------------------------------------------------
 * An intake that must not acknowledge before data is durable (HTTP, replay)
 * sets ev->ack on each event it submits, after mw_ack_add(ack, 1). The writer
 * calls mw_ack_done() once the event's batch is committed (err = 0) or has
 * failed (err < 0). mw_ack_wait() returns 0 once every event is durable, the
 * first error otherwise, or MW_EAGAIN on timeout (timeout_ms < 0: no
 * timeout). The writer always ends every submitted event (commit or error),
 * so waiting without a timeout cannot hang forever. After MW_EAGAIN the
 * events are still in flight: the ack must NOT be destroyed (or go out of
 * scope) until a later mw_ack_wait() returned something else. */
typedef struct mw_ack {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t pending;
    int err;
} mw_ack_t;

void mw_ack_init(mw_ack_t *a);
void mw_ack_destroy(mw_ack_t *a);
void mw_ack_add(mw_ack_t *a, uint64_t n);
void mw_ack_done(mw_ack_t *a, int err);
MW_WUR int mw_ack_wait(mw_ack_t *a, int timeout_ms);

/* ---- sink --------------------------------------------------------------
 * Where intake puts events. submit() takes ownership of ev on success (0).
 * On failure the caller still owns ev and must free it. flags:
 *   MW_SUBMIT_BLOCK   wait for ring space (TCP, HTTP, replay: back-pressure)
 *   MW_SUBMIT_NOWAIT  return MW_EAGAIN when the ring is full (UDP: counted drop)
 * MW_ESHUTDOWN once the pipeline is stopping. */
#define MW_SUBMIT_BLOCK 0
#define MW_SUBMIT_NOWAIT 1
typedef struct mw_sink {
    int (*submit)(void *ctx, mw_event_t *ev, int flags);
    void *ctx;
} mw_sink_t;

#endif
