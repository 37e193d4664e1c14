/* The detector table: adding a detector is adding its file and one line. */
#include "mwrasp/detect.h"
#include "mwrasp/sigma.h"

const struct mw_detector_ops *const mw_detectors[] = {
    &mw_detector_sigma,
    NULL,
};
