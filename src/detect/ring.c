/* Bounded MPMC pointer queue (see ring.h). */
#include "ring.h"

#include <stdlib.h>
#include <time.h>

#include "mwrasp/error.h"

int mw_ring_init(struct mw_ring *r, size_t cap)
{
    size_t n = 2;
    while (n < cap)
        n <<= 1;
    r->cells = calloc(n, sizeof *r->cells);
    if (!r->cells)
        return MW_ENOMEM;
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&r->cells[i].seq, i, memory_order_relaxed);
    r->mask = n - 1;
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&r->not_empty, &a);
    pthread_cond_init(&r->not_full, &a);
    pthread_condattr_destroy(&a);
    atomic_store(&r->consumers_waiting, 0);
    atomic_store(&r->producers_waiting, 0);
    return MW_OK;
}

void mw_ring_destroy(struct mw_ring *r)
{
    free(r->cells);
    r->cells = NULL;
    pthread_cond_destroy(&r->not_empty);
    pthread_cond_destroy(&r->not_full);
    pthread_mutex_destroy(&r->mu);
}

static void signal_if(struct mw_ring *r, _Atomic int *waiting, pthread_cond_t *cv)
{
    /* seq_cst pairs with the waiter's seq_cst store of *waiting before it
     * re-checks the ring (Dekker): either it sees our item or we see it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(waiting) > 0) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_broadcast(cv);
        pthread_mutex_unlock(&r->mu);
    }
}

int mw_ring_push(struct mw_ring *r, void *p)
{
    size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
    struct mw_ring_cell *c;
    for (;;) {
        c = &r->cells[pos & r->mask];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t diff = (intptr_t)seq - (intptr_t)pos;
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            return 0; /* full */
        } else {
            pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
    c->data = p;
    atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
    signal_if(r, &r->consumers_waiting, &r->not_empty);
    return 1;
}

int mw_ring_pop(struct mw_ring *r, void **out)
{
    size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
    struct mw_ring_cell *c;
    for (;;) {
        c = &r->cells[pos & r->mask];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t diff = (intptr_t)seq - (intptr_t)(pos + 1);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            return 0; /* empty */
        } else {
            pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
        }
    }
    *out = c->data;
    atomic_store_explicit(&c->seq, pos + r->mask + 1, memory_order_release);
    signal_if(r, &r->producers_waiting, &r->not_full);
    return 1;
}

size_t mw_ring_depth(struct mw_ring *r)
{
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return h >= t ? h - t : 0;
}

static void deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    while (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void mw_ring_wait_not_empty(struct mw_ring *r, int timeout_ms)
{
    struct timespec ts;
    deadline(&ts, timeout_ms);
    pthread_mutex_lock(&r->mu);
    atomic_fetch_add(&r->consumers_waiting, 1);
    if (mw_ring_depth(r) == 0)
        pthread_cond_timedwait(&r->not_empty, &r->mu, &ts);
    atomic_fetch_sub(&r->consumers_waiting, 1);
    pthread_mutex_unlock(&r->mu);
}

void mw_ring_wait_not_full(struct mw_ring *r, int timeout_ms)
{
    struct timespec ts;
    deadline(&ts, timeout_ms);
    pthread_mutex_lock(&r->mu);
    atomic_fetch_add(&r->producers_waiting, 1);
    if (mw_ring_depth(r) > r->mask)
        pthread_cond_timedwait(&r->not_full, &r->mu, &ts);
    atomic_fetch_sub(&r->producers_waiting, 1);
    pthread_mutex_unlock(&r->mu);
}

void mw_ring_wake_all(struct mw_ring *r)
{
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->not_empty);
    pthread_cond_broadcast(&r->not_full);
    pthread_mutex_unlock(&r->mu);
}
