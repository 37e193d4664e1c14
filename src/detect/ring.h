/* A bounded multi-producer multi-consumer queue of pointers, after Dmitry
 * Vyukov's bounded MPMC queue design (per-cell sequence numbers), plus
 * blocking waits for "not empty" and "not full" that cost nothing when
 * nobody waits. Internal to the detect module. */
#ifndef MW_DETECT_RING_H
#define MW_DETECT_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct mw_ring_cell {
    _Atomic size_t seq;
    void *data;
};

struct mw_ring {
    struct mw_ring_cell *cells;
    size_t mask;
    _Alignas(64) _Atomic size_t head; /* enqueue position */
    _Alignas(64) _Atomic size_t tail; /* dequeue position */
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    _Atomic int consumers_waiting;
    _Atomic int producers_waiting;
};

/* cap is rounded up to a power of two (>= 2). 0 or MW_ENOMEM. */
int mw_ring_init(struct mw_ring *r, size_t cap);
void mw_ring_destroy(struct mw_ring *r);
/* 1 if queued, 0 if full. Wakes a waiting consumer. */
int mw_ring_push(struct mw_ring *r, void *p);
/* 1 and *out if an item was taken, 0 if empty. Wakes waiting producers. */
int mw_ring_pop(struct mw_ring *r, void **out);
/* Waits up to timeout_ms for the ring to be non-empty / non-full. */
void mw_ring_wait_not_empty(struct mw_ring *r, int timeout_ms);
void mw_ring_wait_not_full(struct mw_ring *r, int timeout_ms);
/* Approximate number of queued items. */
size_t mw_ring_depth(struct mw_ring *r);
/* Wakes everyone (used at shutdown). */
void mw_ring_wake_all(struct mw_ring *r);

#endif
