/* Sigma rules (https://github.com/SigmaHQ/sigma-specification): loading,
 * compiling and matching, and the "sigma" detector built on them.
 *
 * A ruleset is built single-threaded (new, load/add ..., then read-only);
 * after that, mw_sigma_match() may run concurrently from any number of
 * threads, each with its own scratch. Each YAML document is one rule; a rule
 * that uses something unsupported is refused with an error naming FILE:LINE
 * (logged with mw_error("sigma", ...), counted in mw_metrics.rule_errors) and
 * the other rules still load. What is supported: docs/internals/sigma.md. */
#ifndef MWRASP_SIGMA_H
#define MWRASP_SIGMA_H

#include <stddef.h>

#include "mwrasp/detect.h"
#include "mwrasp/error.h"
#include "mwrasp/event.h"

#define MW_SIGMA_MAX_FILE (1u << 20) /* bytes per rule file / string */
#define MW_SIGMA_MAX_RULES 10000 /* rules per ruleset */
#define MW_SIGMA_MAX_VALUES 8192 /* values per field condition (SigmaHQ has 4432) */
#define MW_SIGMA_MAX_DEPTH 64 /* nesting depth of a condition */
#define MW_SIGMA_MAX_FIELDS 4096 /* distinct field names per ruleset */
#define MW_SIGMA_MAX_SELECTIONS 256 /* named selections per rule */
#define MW_SIGMA_MAX_VALUE_LEN (64u << 10) /* bytes per rule value */
#define MW_SIGMA_DEFAULT_CONFIDENCE 0.7

typedef struct mw_sigma_ruleset mw_sigma_ruleset_t;
typedef struct mw_sigma_scratch mw_sigma_scratch_t;

/* An empty ruleset. NULL on allocation failure. */
mw_sigma_ruleset_t *mw_sigma_ruleset_new(void);
/* Frees the ruleset and every compiled rule. Accepts NULL. Scratches made
 * for it must not be used afterwards. */
void mw_sigma_ruleset_free(mw_sigma_ruleset_t *rs);

/* Loads every *.yml / *.yaml file under dir, recursively (hidden entries are
 * skipped), in sorted path order. Bad rules are logged, counted and skipped:
 * *nerr (if not NULL) gets the number of refused rules/files. Returns 0, or
 * MW_EIO if dir cannot be read, MW_ENOMEM, MW_ELIMIT (MW_SIGMA_MAX_RULES). */
MW_WUR int mw_sigma_load_dir(mw_sigma_ruleset_t *rs, const char *dir, size_t *nerr);

/* Loads one file (one rule per YAML document). Returns 0 if every rule in it
 * compiled; otherwise the first error (MW_EIO unreadable, MW_ETOOBIG above
 * MW_SIGMA_MAX_FILE, MW_EPARSE YAML syntax, MW_EINVAL unsupported or invalid
 * rule, MW_ELIMIT, MW_ENOMEM). Rules that did compile stay loaded. */
MW_WUR int mw_sigma_load_file(mw_sigma_ruleset_t *rs, const char *path);

/* Same as mw_sigma_load_file, over yaml[0..len); name is used in messages
 * ("name:LINE: ...") and for ids of rules without an `id`. */
MW_WUR int mw_sigma_add_string(mw_sigma_ruleset_t *rs, const char *yaml, size_t len,
                               const char *name);

/* Number of rules loaded. */
size_t mw_sigma_count(const mw_sigma_ruleset_t *rs);

/* The message of the last refused rule ("FILE:LINE: ..."), "" if none. Valid
 * until the next load/add call on rs. */
const char *mw_sigma_last_error(const mw_sigma_ruleset_t *rs);

/* Rules that loaded but are reported (today: `status: deprecated` or
 * `status: unsupported`), one "FILE:LINE: ..." message each, also logged
 * with mw_warn("sigma", ...) unless an error function is set. At most
 * MW_SIGMA_MAX_RULES are kept; valid until rs is freed. mw_sigma_warning
 * returns NULL past the count. */
size_t mw_sigma_warning_count(const mw_sigma_ruleset_t *rs);
const char *mw_sigma_warning(const mw_sigma_ruleset_t *rs, size_t i);

/* Regexes (|re values) of the loaded rules, as of the last load/add call:
 * *in_hs get a Hyperscan prefilter (a value the scan rules out is not given
 * to PCRE2), *pcre_only are always run by PCRE2 (Hyperscan rejects the
 * pattern, it can match an empty string, keyword regexes, or no Hyperscan
 * on this CPU). Either pointer may be NULL; rs NULL gives 0 and 0. */
void mw_sigma_regex_counts(const mw_sigma_ruleset_t *rs, size_t *in_hs, size_t *pcre_only);

/* How a field condition on a field the event lacks is evaluated.
 * MW_SIGMA_NULLS_SPEC (the default, and the only mode for production): it is
 * false (only `field: null` and `|exists: false` hold), as the Sigma
 * specification, Splunk and Elasticsearch do; `not` of it is true.
 * MW_SIGMA_NULLS_SQL is a compatibility / diagnostic mode that reproduces
 * SQL backends (pySigma's SQLite output as Zircolite runs it): the condition
 * is UNKNOWN (except `field: null`, which is IS NULL, `|exists`, and `|re`,
 * whose REGEXP function returns false on NULL), and `not`, `and`, `or`,
 * `1 of`, `all of` follow Kleene's three-valued logic; a rule matches only if
 * its condition is TRUE. SQL matches are always a subset of SPEC matches.
 * Keywords are two-valued in both modes. Set it before matching (not while
 * mw_sigma_match runs). Returns 0, or MW_EINVAL (rs NULL or unknown mode). */
enum mw_sigma_nulls { MW_SIGMA_NULLS_SPEC = 0, MW_SIGMA_NULLS_SQL = 1 };
MW_WUR int mw_sigma_ruleset_set_null_semantics(mw_sigma_ruleset_t *rs, int mode);

/* Per-thread matching state (field-value cache). It adapts itself if rules
 * are added to rs later. Returns 0 or MW_ENOMEM (*out untouched). */
MW_WUR int mw_sigma_scratch_new(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t **out);
void mw_sigma_scratch_free(mw_sigma_scratch_t *s); /* accepts NULL */

/* Runs every rule over ev and calls emit once per matching rule, in load
 * order. scratch may be NULL (a temporary one is made: slower). Stops
 * quietly when emit returns MW_ELIMIT. Returns 0, MW_ENOMEM, or the first
 * other negative value emit returned. Keeps no pointer into ev. */
MW_WUR int mw_sigma_match(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *scratch,
                          const mw_event_t *ev, mw_detection_emit_fn emit, void *ctx);

/* The detector: create() loads cfg->rules_dir (fails with MW_EIO if the
 * directory cannot be read; bad rules are only logged and counted). */
extern const struct mw_detector_ops mw_detector_sigma;

/* ---- logsource pipelines ------------------------------------------------
 * A pipeline says what a rule's logsource (product / category / service)
 * means in the events: conditions ANDed with the rule (e.g. process_creation
 * = Channel Sysmon and EventID 1) and field renames (Image -> NewProcessName),
 * declared in a YAML file (pipelines/NAME.yml; format in docs/sigma-pipelines.md). */
#define MW_SIGMA_PIPELINE_MAX_ENTRIES 1024 /* logsource entries per pipeline */
#define MW_SIGMA_PIPELINE_MAX_FIELDS 256 /* conditions or renames per entry */
#define MW_SIGMA_PIPELINE_MAX_STR 4096 /* bytes per name or value */

typedef struct mw_sigma_pipeline mw_sigma_pipeline_t;

/* Loads a pipeline. name_or_path containing '/' or ending in .yml/.yaml is
 * a file; otherwise NAME is looked up as $MWRASP_PIPELINES/NAME.yml, then
 * pipelines/NAME.yml (relative to the working directory). On error *out is
 * untouched and err gets "FILE:LINE: message" (or "NAME: ..."): MW_ENOTFOUND
 * (no such pipeline), MW_EIO, MW_ETOOBIG (file > MW_SIGMA_MAX_FILE),
 * MW_EPARSE (YAML syntax), MW_EINVAL (bad content), MW_ELIMIT, MW_ENOMEM. */
MW_WUR int mw_sigma_pipeline_load(const char *name_or_path, mw_sigma_pipeline_t **out, char *err,
                                  size_t errlen);
void mw_sigma_pipeline_free(mw_sigma_pipeline_t *p); /* accepts NULL */
/* The pipeline's `name` (else its file name without extension). */
const char *mw_sigma_pipeline_name(const mw_sigma_pipeline_t *p);

/* Rules loaded into rs after this call are compiled through p (NULL: none).
 * rs takes ownership of p (freed with rs or by the next call). A rule whose
 * logsource the pipeline marks unsupported is refused with the reason. */
void mw_sigma_ruleset_set_pipeline(mw_sigma_ruleset_t *rs, mw_sigma_pipeline_t *p);

/* Called once per refused rule with its message ("FILE:LINE: ..."); while
 * set, refusals are passed to fn instead of being logged (still counted).
 * fn = NULL restores logging. While set, warnings (mw_sigma_warning) are
 * not logged either. For tools that report problems themselves
 * (mwrasp sigma check / eval). */
typedef void (*mw_sigma_error_fn)(void *ctx, const char *msg);
void mw_sigma_ruleset_set_error_fn(mw_sigma_ruleset_t *rs, mw_sigma_error_fn fn, void *ctx);

#endif
