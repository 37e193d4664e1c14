/* Private to src/detect/sigma*.c: applying a logsource pipeline
 * (sigma_pipeline.c) to one rule's YAML document before it is compiled. */
#ifndef MW_SIGMA_PIPELINE_INTERNAL_H
#define MW_SIGMA_PIPELINE_INTERNAL_H

#include <stddef.h>

#include "mwrasp/sigma.h"

/* The selection a pipeline's conditions are added as. The leading '_' keeps
 * it out of "1 of them" / "all of them". */
#define SG_PIPELINE_SEL "_mwrasp_logsource"

/* Rewrites doc in place for p: the rule's logsource picks the first
 * matching entry of p; its field renames are applied to the keys of every
 * selection, and its conditions are added as the selection SG_PIPELINE_SEL
 * ANDed with the rule's condition. Returns 0 (also when no entry matches or
 * the document is not a rule: the compiler reports that), MW_EINVAL with
 * "FILE:LINE: ..." in err when the entry marks the logsource unsupported or
 * the rule already has a selection named SG_PIPELINE_SEL, MW_ENOMEM. */
struct yaml_document_s;
int sg_pipeline_apply(const mw_sigma_pipeline_t *p, struct yaml_document_s *doc, const char *file,
                      char *err, size_t errlen);

#endif
