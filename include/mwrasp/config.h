/* Configuration: every option is declared once in a table (name, type,
 * default, description) that drives parsing of mwrasp.yaml, --set flags,
 * validation, and the generated reference (docs/config.md,
 * `mwraspd --config-reference`). Unknown keys are an error naming the file
 * and line. */
#ifndef MWRASP_CONFIG_H
#define MWRASP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "mwrasp/error.h"

#define MW_CONFIG_STR_MAX 512

struct mw_config {
    char http_listen[MW_CONFIG_STR_MAX]; /* listen.http */
    char syslog_udp_listen[MW_CONFIG_STR_MAX]; /* listen.syslog_udp ("" = off) */
    char syslog_tcp_listen[MW_CONFIG_STR_MAX]; /* listen.syslog_tcp */
    char json_tcp_listen[MW_CONFIG_STR_MAX]; /* listen.json_tcp */
    char store_path[MW_CONFIG_STR_MAX]; /* store.path (SQLite file) */
    char rules_dir[MW_CONFIG_STR_MAX]; /* rules.dir */
    char rules_pipeline[MW_CONFIG_STR_MAX]; /* rules.pipeline ("" = none) */
    char log_level[16]; /* log.level */
    uint32_t workers; /* pipeline.workers */
    uint32_t ring_size; /* pipeline.ring_size (per worker) */
    uint32_t batch_max; /* pipeline.batch_max */
    int64_t dedup_window_ns; /* threats.dedup_window */
    int64_t retention_ns; /* events.retention */
    int64_t cleanup_interval_ns; /* events.cleanup_interval */
    uint32_t max_line; /* ingest.max_line (bytes) */
    uint32_t max_body; /* api.max_body (bytes) */
    uint32_t api_threads; /* api.threads */
    /* api.rate.*, api.header_timeout, TLS (issue 6, src/api/ratelimit.c, tls.c, guard.c) */
    char https_listen[MW_CONFIG_STR_MAX]; /* listen.https ("" = no TLS listener) */
    char api_allow_plain_http[8]; /* "no": listen.http must be loopback; "yes" */
    char api_tls_cert[MW_CONFIG_STR_MAX]; /* PEM certificate (chain) */
    char api_tls_key[MW_CONFIG_STR_MAX]; /* PEM private key */
    char api_tls_min_version[8]; /* "1.3" or "1.2" */
    char api_tls_client_ca[MW_CONFIG_STR_MAX]; /* CA of client certificates ("" = no mTLS) */
    char api_tls_client_verify[16]; /* "optional" or "required" */
    char api_tls_client_roles[2048]; /* list: "CN=ops:admin;SHA256=..:viewer" */
    char api_rate_address[64]; /* "N/min burst M" per client address, or "off" */
    char api_rate_ingest[64]; /* per API key / JWT sub / certificate, by role */
    char api_rate_viewer[64];
    char api_rate_analyst[64];
    char api_rate_admin[64];
    uint32_t api_rate_max_clients; /* buckets tracked at most */
    int64_t api_header_timeout_ns; /* time to send the request head */
    char api_web_root[MW_CONFIG_STR_MAX]; /* api.web_root: dashboard files ("" = none) */
    /* api.ws_* the WebSocket stream /api/v1/stream (issue 6, src/api/ws.c) */
    uint32_t ws_max_clients; /* concurrent stream clients (civetweb threads added) */
    uint32_t ws_max_frame; /* largest client message (bytes); above: close 1009 */
    uint32_t ws_queue; /* messages queued per client; full: close 1008 */
    int64_t ws_ping_interval_ns; /* a ping this often */
    int64_t ws_pong_timeout_ns; /* no pong this long after a ping: closed */
    int64_t ws_auth_timeout_ns; /* time to send {"type":"auth"} without a header */
    /* exposure.* (issue 5, the daemon side of the exposure scanner) */
    char exposure_interfaces[MW_CONFIG_STR_MAX]; /* list: "eth0,lo" ("" = no live capture) */
    char exposure_bpf[MW_CONFIG_STR_MAX]; /* BPF filter of live captures */
    uint32_t exposure_max_flows; /* flow-table cap per live interface */
    uint32_t exposure_upload_max; /* bytes of one POST /api/v1/exposure/pcap body */
    uint32_t exposure_min_exposed_bytes; /* exposed bytes that make a service a threat */
    char exposure_service_tags[4096]; /* list: "ADDR:PORT=tag,tag;SNI=tag" */
    int64_t exposure_report_interval_ns; /* how often live results become threats */
    /* api.* authentication (issue 6, src/api/auth.c) */
    char api_auth[16]; /* "required" or "off" (loopback only) */
    char api_metrics_public[8]; /* "auto" (public on loopback), "yes", "no" */
    char api_admin_key_file[MW_CONFIG_STR_MAX]; /* first admin key written here ("" = not) */
    char api_jwt_hs256_secret_file[MW_CONFIG_STR_MAX]; /* HS256 secret ("" = HS256 off) */
    char api_jwt_ed25519_public_key[MW_CONFIG_STR_MAX]; /* PEM file ("" = EdDSA off) */
    char api_jwt_issuer[256]; /* required iss ("" = not checked) */
    char api_jwt_audience[256]; /* required in aud ("" = not checked) */
    char api_jwt_role_claim[64]; /* claim naming the role */
    int64_t api_jwt_leeway_ns; /* clock skew allowed on exp / nbf */
};

/* MW_OPT_LIST: a string; in YAML either a scalar or a sequence of scalars,
 * whose items are joined with ';' (items must not contain ';'). */
enum mw_opt_type { MW_OPT_STR, MW_OPT_U32, MW_OPT_DURATION, MW_OPT_SIZE, MW_OPT_LIST };

struct mw_config_opt {
    const char *name; /* dotted key, e.g. "listen.http" */
    enum mw_opt_type type;
    const char *def; /* default, as it would be written in the file */
    size_t offset; /* offsetof(struct mw_config, field) */
    size_t size; /* sizeof the field (strings: buffer size) */
    uint64_t min, max; /* bounds for numbers (durations in ns, sizes in bytes) */
    const char *description;
};

extern const struct mw_config_opt mw_config_opts[]; /* NULL-name terminated */

/* Fills cfg with every default. */
void mw_config_defaults(struct mw_config *cfg);

/* Loads a YAML file (nested mappings or dotted keys) over cfg. On error,
 * errbuf gets "FILE:LINE: message" and MW_ECONFIG/MW_EIO is returned; cfg may
 * be partly updated, so callers load into a copy. */
MW_WUR int mw_config_load_file(struct mw_config *cfg, const char *path, char *errbuf,
                               size_t errlen);

/* Sets one option from text ("pipeline.workers", "4"). Durations take
 * ns/us/ms/s/m/h/d suffixes, sizes B/KiB/MiB/GiB (or k/m/g). */
MW_WUR int mw_config_set(struct mw_config *cfg, const char *name, const char *value, char *errbuf,
                         size_t errlen);

/* Writes the reference (Markdown table) of all options to a FILE*. */
void mw_config_write_reference(void *fp);

/* Parsers shared with the CLI. */
MW_WUR int mw_parse_duration(const char *s, int64_t *out_ns);
MW_WUR int mw_parse_size(const char *s, uint64_t *out_bytes);

#endif
