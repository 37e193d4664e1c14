/* Severity: Sigma levels (Sigma specification, "level") <-> MWRASP's
 * 1 (critical) .. 5 (informational) scale (DESIGN.md section 1). */
#include <stddef.h>
#include <strings.h>

#include "mwrasp/detect.h"

static const char *const levels[] = {"critical", "high", "medium", "low", "informational"};

int mw_severity_from_level(const char *level, int *out)
{
    if (!level || !out)
        return MW_EINVAL;
    for (int i = 0; i < 5; i++) {
        if (strcasecmp(level, levels[i]) == 0) {
            *out = i + 1;
            return 0;
        }
    }
    return MW_EINVAL;
}

const char *mw_severity_name(int severity)
{
    return severity >= 1 && severity <= 5 ? levels[severity - 1] : "unknown";
}
