/* Completion tickets (include/mwrasp/pipeline.h). */
#include <errno.h>
#include <time.h>

#include "mwrasp/pipeline.h"

void mw_ack_init(mw_ack_t *a)
{
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &attr);
    pthread_condattr_destroy(&attr);
    a->pending = 0;
    a->err = 0;
}

void mw_ack_destroy(mw_ack_t *a)
{
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
}

void mw_ack_add(mw_ack_t *a, uint64_t n)
{
    pthread_mutex_lock(&a->mu);
    a->pending += n;
    pthread_mutex_unlock(&a->mu);
}

void mw_ack_done(mw_ack_t *a, int err)
{
    pthread_mutex_lock(&a->mu);
    if (err && !a->err)
        a->err = err;
    if (a->pending > 0)
        a->pending--;
    if (a->pending == 0)
        pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

int mw_ack_wait(mw_ack_t *a, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    int rc = MW_OK;
    pthread_mutex_lock(&a->mu);
    while (a->pending > 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        if (pthread_cond_timedwait(&a->cv, &a->mu, &dl) == ETIMEDOUT && a->pending > 0) {
            rc = MW_EAGAIN;
            break;
        }
    }
    if (rc == MW_OK)
        rc = a->err;
    pthread_mutex_unlock(&a->mu);
    return rc;
}
