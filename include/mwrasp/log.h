/* Structured logging: one JSON object per line on stderr (or a file).
 * Thread-safe. Messages longer than 4 KiB are truncated. */
#ifndef MWRASP_LOG_H
#define MWRASP_LOG_H

enum mw_log_level { MW_LOG_DEBUG, MW_LOG_INFO, MW_LOG_WARN, MW_LOG_ERROR };

void mw_log_set_level(enum mw_log_level lvl);
/* "debug", "info", "warn", "error"; returns MW_EINVAL for anything else. */
int mw_log_level_parse(const char *s, enum mw_log_level *out);
/* When set, logs are plain text ("LEVEL module: message") instead of JSON;
 * the CLI uses this so people read it easily. */
void mw_log_set_plain(int plain);

void mw_log(enum mw_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define mw_debug(mod, ...) mw_log(MW_LOG_DEBUG, mod, __VA_ARGS__)
#define mw_info(mod, ...) mw_log(MW_LOG_INFO, mod, __VA_ARGS__)
#define mw_warn(mod, ...) mw_log(MW_LOG_WARN, mod, __VA_ARGS__)
#define mw_error(mod, ...) mw_log(MW_LOG_ERROR, mod, __VA_ARGS__)

#endif
