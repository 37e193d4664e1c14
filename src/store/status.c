/* Threat status names and stored-event cleanup (backend independent). */
#include <stdlib.h>
#include <string.h>

#include "mwrasp/store.h"

static const char *const status_names[MW_THREAT__COUNT] = {
    [MW_THREAT_NEW] = "new",
    [MW_THREAT_ACKNOWLEDGED] = "acknowledged",
    [MW_THREAT_RESPONDING] = "responding",
    [MW_THREAT_RESOLVED] = "resolved",
};

const char *mw_threat_status_name(enum mw_threat_status s)
{
    if ((int)s < 0 || s >= MW_THREAT__COUNT)
        return "unknown";
    return status_names[s];
}

int mw_threat_status_parse(const char *s, enum mw_threat_status *out)
{
    if (!s || !out)
        return MW_EINVAL;
    for (int i = 0; i < MW_THREAT__COUNT; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum mw_threat_status)i;
            return 0;
        }
    }
    return MW_EINVAL;
}

void mw_stored_event_clear(mw_stored_event_t *e)
{
    if (!e)
        return;
    free(e->host);
    free(e->category);
    free(e->raw);
    memset(e, 0, sizeof *e);
}
