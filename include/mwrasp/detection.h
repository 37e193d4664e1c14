/* A detection: one detector firing on one event. Plain data shared by
 * detect (which makes them) and store (which keeps them). */
#ifndef MWRASP_DETECTION_H
#define MWRASP_DETECTION_H

#define MW_RULE_ID_MAX 128
#define MW_TITLE_MAX 256
#define MW_TYPE_MAX 64
#define MW_CLASS_MAX 32
#define MW_TAGS_MAX 256

/* One detector firing on one event. Plain data, copied freely. */
typedef struct mw_detection {
    char detector[32]; /* "sigma", "stats", "canary", ... */
    char rule_id[MW_RULE_ID_MAX]; /* stable id of the rule / model */
    char title[MW_TITLE_MAX];
    char type[MW_TYPE_MAX]; /* threat type, e.g. "credential-access" */
    char threat_class[MW_CLASS_MAX]; /* "signature", "anomaly", "hndl-exposure", ... */
    int severity; /* 1 (critical) .. 5 (informational) */
    double confidence; /* 0..1 */
    /* The rule's tags, comma-separated ("attack.execution,attack.t1059.001"),
     * cut at a tag boundary to fit. */
    char tags[MW_TAGS_MAX];
} mw_detection_t;

#endif
