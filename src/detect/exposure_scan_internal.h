/* Between the scanner (exposure.c) and its writers (exposure_write.c):
 * module-private. */
#ifndef MW_EXPOSURE_SCAN_INTERNAL_H
#define MW_EXPOSURE_SCAN_INTERNAL_H

#include <stdint.h>

#include "mwrasp/exposure.h"

struct mw_expo_scan {
    void (*on_session)(void *ctx, const char *label, const mw_expo_session_t *s);
    void *ctx;
    char *label; /* of the current source */
    mw_expo_scan_stats_t st;
    mw_expo_service_t *svc; /* in order of first appearance */
    size_t n_svc, svc_cap;
    uint32_t *idx; /* open addressing over svc, UINT32_MAX = empty; idx_cap a power of 2 */
    size_t idx_cap;
};

#endif
