/* mwraspd: the MWRASP daemon. A thin main over libmwrasp: configuration,
 * store, detection engine, exposure scanner (live capture, uploads), ingest
 * listeners, HTTP API, signals.
 *
 *   SIGTERM / SIGINT  stop intake, drain the rings, flush the store, exit 0
 *   SIGHUP            reload rules (the old rules stay if the new ones fail) */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mwrasp/api.h"
#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/exposure.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"
#include "mwrasp/store.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: mwraspd [--config FILE] [--set KEY=VALUE]... [--check] [--config-reference]\n"
            "\n"
            "Runs the MWRASP daemon: ingest (syslog, JSON lines, HTTP), detection, store, API.\n"
            "\n"
            "  -c, --config FILE       YAML configuration (see docs/config.md); defaults apply\n"
            "                          to every option it does not set\n"
            "  -s, --set KEY=VALUE     override one option, e.g. --set pipeline.workers=4\n"
            "      --check             load the configuration and rules, report, and exit\n"
            "      --config-reference  print the table of options (Markdown) and exit\n"
            "  -h, --help              this help\n"
            "\n"
            "Signals: SIGTERM/SIGINT drain and exit; SIGHUP reloads the rules.\n");
}

/* Creates the parent directory of path (one level), for store.path. */
static int ensure_parent_dir(const char *path)
{
    char dir[MW_CONFIG_STR_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "mwraspd: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static const char *openapi_path(void)
{
    static const char *const candidates[] = {"docs/api/openapi.yaml",
                                             "/usr/share/mwrasp/openapi.yaml", NULL};
    for (int i = 0; candidates[i]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

int main(int argc, char **argv)
{
    static struct mw_config cfg;
    mw_config_defaults(&cfg);
    const char *config_path = NULL;
    int check_only = 0;
    char err[1024];
    const char *sets[64];
    int nsets = 0;

    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
        {"check", no_argument, NULL, 'C'},        {"config-reference", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "mwraspd: too many --set options\n");
                return 2;
            }
            sets[nsets++] = optarg;
            break;
        case 'C':
            check_only = 1;
            break;
        case 'R':
            mw_config_write_reference(stdout);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mwraspd: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (config_path && mw_config_load_file(&cfg, config_path, err, sizeof err) != MW_OK) {
        fprintf(stderr, "mwraspd: %s\n", err);
        return 2;
    }
    for (int i = 0; i < nsets; i++) {
        char key[128];
        const char *eq = strchr(sets[i], '=');
        if (!eq || (size_t)(eq - sets[i]) >= sizeof key) {
            fprintf(stderr, "mwraspd: --set expects KEY=VALUE, got \"%s\"\n", sets[i]);
            return 2;
        }
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = '\0';
        if (mw_config_set(&cfg, key, eq + 1, err, sizeof err) != MW_OK) {
            fprintf(stderr, "mwraspd: --set: %s\n", err);
            return 2;
        }
    }
    enum mw_log_level lvl;
    if (mw_log_level_parse(cfg.log_level, &lvl) != MW_OK) {
        fprintf(stderr, "mwraspd: log.level: unknown level \"%s\"\n", cfg.log_level);
        return 2;
    }
    mw_log_set_level(lvl);

    /* Block the signals we handle in every thread; the main thread takes
     * them with sigwait. SIGPIPE is ignored (peers that hang up). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int code = 1;
    mw_store_t *store = NULL;
    mw_detect_engine_t *engine = NULL;
    mw_ingest_t *ingest = NULL;
    mw_api_t *api = NULL;
    mw_expo_daemon_t *expo = NULL;

    if (ensure_parent_dir(cfg.store_path) != 0)
        goto out;
    if (mw_store_open(cfg.store_path, &store) != MW_OK) {
        fprintf(stderr, "mwraspd: cannot open the store at %s (see the log above)\n",
                cfg.store_path);
        goto out;
    }
    if (mw_detect_engine_new(&cfg, store, &engine) != MW_OK) {
        fprintf(stderr, "mwraspd: the detection engine could not start (see the log above)\n");
        goto out;
    }
    if (mw_expo_daemon_new(&cfg, engine, NULL, &expo, err, sizeof err) != MW_OK) {
        fprintf(stderr, "mwraspd: %s\n", err);
        goto out;
    }
    if (check_only) {
        printf("configuration OK; %llu rules loaded, %llu refused\n",
               (unsigned long long)MW_GET(mw_metrics.rules_loaded),
               (unsigned long long)MW_GET(mw_metrics.rule_errors));
        code = MW_GET(mw_metrics.rule_errors) ? 1 : 0;
        goto out;
    }
    if (mw_detect_engine_start(engine) != MW_OK)
        goto out;

    struct mw_api_opts ao = {
        .cfg = &cfg,
        .store = store,
        .engine = engine,
        .openapi_path = openapi_path(),
        .web_root = cfg.api_web_root,
        .exposure = expo,
    };
    if (mw_api_start(&ao, &api) != MW_OK) {
        fprintf(stderr, "mwraspd: cannot start the API on %s\n", cfg.http_listen);
        goto out;
    }
    struct mw_ingest_opts io = {
        .syslog_udp = cfg.syslog_udp_listen,
        .syslog_tcp = cfg.syslog_tcp_listen,
        .json_tcp = cfg.json_tcp_listen,
        .max_line = cfg.max_line,
        .sink = mw_detect_engine_sink(engine),
    };
    if (mw_ingest_start(&io, &ingest) != MW_OK) {
        fprintf(stderr, "mwraspd: cannot start the ingest listeners (see the log above)\n");
        goto out;
    }
    if (mw_expo_daemon_start(expo) != MW_OK) {
        fprintf(stderr, "mwraspd: cannot start the exposure scanner (out of memory)\n");
        goto out;
    }
    mw_api_set_ready(api, 1);
    mw_info("mwraspd",
            "ready: api http://%s  syslog udp %s tcp %s  json-tcp %s  store %s  rules %s",
            cfg.http_listen, cfg.syslog_udp_listen, cfg.syslog_tcp_listen, cfg.json_tcp_listen,
            cfg.store_path, cfg.rules_dir);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            mw_info("mwraspd", "SIGHUP: reloading rules from %s", cfg.rules_dir);
            if (mw_detect_engine_reload(engine, &cfg) == MW_OK)
                mw_info("mwraspd", "rules reloaded: %llu loaded",
                        (unsigned long long)MW_GET(mw_metrics.rules_loaded));
            continue;
        }
        mw_info("mwraspd", "%s: draining and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    code = 0;
out:
    /* Order: stop intake first (nothing new arrives), then the API (its
     * in-flight requests finish and get their acks), then drain the engine,
     * then close the store. */
    if (api)
        mw_api_set_ready(api, 0);
    mw_ingest_stop(ingest);
    mw_api_stop(api);
    mw_expo_daemon_stop(expo); /* its last threats go through the engine */
    mw_detect_engine_stop(engine);
    mw_expo_daemon_free(expo);
    mw_detect_engine_free(engine);
    mw_store_close(store);
    if (code == 0)
        mw_info("mwraspd", "stopped cleanly");
    return code;
}
