/* mwrasp apikey create|list|revoke: API keys through the daemon's API
 * (POST/GET /api/v1/apikeys, DELETE /api/v1/apikeys/{id}), with an admin key
 * (--api-key or $MWRASP_API_KEY, taken out of argv by mwrasp.c's main).
 *
 * create prints the new key alone on stdout (it is shown only this once);
 * what it is goes to stderr, so `KEY=$(mwrasp apikey create ...)` works.
 * Exit codes as the other commands: 0 ok, 2 the daemon failed or refused,
 * 64 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mwrasp/api.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define EXIT_DAEMON 2
#define EXIT_USAGE 64

static const char apikey_help[] =
    "usage: mwrasp apikey create --role ROLE [--name NAME] [--url URL]\n"
    "       mwrasp apikey list [--json] [--url URL]\n"
    "       mwrasp apikey revoke ID [--url URL]\n"
    "\n"
    "API keys of the daemon (needs an admin key: --api-key KEY or $MWRASP_API_KEY).\n"
    "ROLE is viewer (read), ingest (post events only), analyst (acknowledge,\n"
    "resolve, respond) or admin. create prints the key once on stdout; the\n"
    "daemon keeps only its SHA3-256 hash.\n"
    "  --url URL    daemon address (default $MWRASP_URL or " DEFAULT_URL ")\n";

/* One request with the credentials; 0 with *r filled, or -1 (printed). */
static int request(const char *url, const char *method, const char *path, const char *body,
                   struct mw_http_response *r)
{
    const char *key = getenv("MWRASP_API_KEY");
    char err[256], *full, *hdrs;
    size_t ul = strlen(url), kl = key ? strlen(key) : 0;
    int rc;

    if (key == NULL || key[0] == '\0') {
        fprintf(stderr, "mwrasp: apikey needs an admin key: --api-key KEY or $MWRASP_API_KEY\n");
        return -1;
    }
    if (strpbrk(key, "\r\n") != NULL || kl > 16384) {
        fprintf(stderr, "mwrasp: the API key is not a single line of at most 16 KiB\n");
        return -1;
    }
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    full = malloc(ul + strlen(path) + 1);
    hdrs = malloc(kl + 96);
    if (full == NULL || hdrs == NULL) {
        free(full);
        free(hdrs);
        fprintf(stderr, "mwrasp: out of memory\n");
        return -1;
    }
    memcpy(full, url, ul);
    strcpy(full + ul, path);
    snprintf(hdrs, kl + 96, "Authorization: Bearer %s\r\n%s", key,
             body ? "Content-Type: application/json\r\n" : "");
    rc = mw_http_request(full, method, hdrs, body, body ? strlen(body) : 0, 30000, 16u << 20, r,
                         err, sizeof err);
    memset(hdrs, 0, kl + 96);
    free(hdrs);
    free(full);
    if (rc != 0) {
        fprintf(stderr, "mwrasp: cannot reach the daemon at %s: %s\n", url, err);
        return -1;
    }
    return 0;
}

/* Prints the daemon's error for a refused request; returns EXIT_DAEMON. */
static int refused(const char *what, const struct mw_http_response *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    fprintf(stderr, "mwrasp: apikey %s: the daemon answered %d%s%s%s%s\n", what, r->status,
            code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
    json_decref(j);
    return EXIT_DAEMON;
}

static void fmt_ns(json_t *v, char *out, size_t n)
{
    if (!json_is_integer(v)) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(json_integer_value(v) / 1000000000LL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int mw_cmd_apikey(int argc, char **argv)
{
    static const struct option lo[] = {
        {"role", required_argument, 0, 'r'}, {"name", required_argument, 0, 'n'},
        {"url", required_argument, 0, 'u'},  {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *role = NULL, *name = NULL, *url = NULL, *verb;
    int c, as_json = 0, rc = EXIT_DAEMON;
    struct mw_http_response r;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(apikey_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    verb = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "r:n:u:jh", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            role = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'j':
            as_json = 1;
            break;
        case 'h':
            fputs(apikey_help, stdout);
            return 0;
        default:
            fputs(apikey_help, stderr);
            return EXIT_USAGE;
        }
    }
    if (url == NULL)
        url = getenv("MWRASP_URL");
    if (url == NULL || url[0] == '\0')
        url = DEFAULT_URL;
    memset(&r, 0, sizeof r);

    if (strcmp(verb, "create") == 0) {
        if (role == NULL || optind != argc) {
            fputs(apikey_help, stderr);
            return EXIT_USAGE;
        }
        json_t *b = json_pack("{s:s}", "role", role);
        if (b && name)
            json_object_set_new(b, "name", json_string(name));
        char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        if (body == NULL) {
            fprintf(stderr, "mwrasp: apikey create: bad --name (not UTF-8?) or out of memory\n");
            return EXIT_USAGE;
        }
        int q = request(url, "POST", "/api/v1/apikeys", body, &r);
        free(body);
        if (q != 0)
            return EXIT_DAEMON;
        if (r.status != 201) {
            rc = refused("create", &r);
            goto out;
        }
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
        const char *key = json_string_value(json_object_get(j, "key"));
        if (key == NULL) {
            fprintf(stderr, "mwrasp: apikey create: no key in the answer\n");
            json_decref(j);
            goto out;
        }
        fprintf(stderr, "created %s key %s%s%s; it is shown only this once:\n",
                json_string_value(json_object_get(j, "role")),
                json_string_value(json_object_get(j, "id")), name ? " named " : "",
                name ? name : "");
        printf("%s\n", key);
        json_decref(j);
        rc = 0;
    } else if (strcmp(verb, "list") == 0) {
        if (optind != argc) {
            fputs(apikey_help, stderr);
            return EXIT_USAGE;
        }
        if (request(url, "GET", "/api/v1/apikeys", NULL, &r) != 0)
            return EXIT_DAEMON;
        if (r.status != 200) {
            rc = refused("list", &r);
            goto out;
        }
        if (as_json) {
            fwrite(r.body, 1, r.body_len, stdout);
            putchar('\n');
            rc = 0;
            goto out;
        }
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL), *k;
        size_t i;
        printf("%-12s  %-7s  %-20s  %-20s  %-20s  %s\n", "ID", "ROLE", "CREATED", "LAST USED",
               "REVOKED", "NAME");
        json_array_foreach(json_object_get(j, "keys"), i, k)
        {
            char cr[32], lu[32], rv[32];
            fmt_ns(json_object_get(k, "created_ns"), cr, sizeof cr);
            fmt_ns(json_object_get(k, "last_used_ns"), lu, sizeof lu);
            fmt_ns(json_object_get(k, "revoked_ns"), rv, sizeof rv);
            printf("%-12s  %-7s  %-20s  %-20s  %-20s  %s\n",
                   json_string_value(json_object_get(k, "id")),
                   json_string_value(json_object_get(k, "role")), cr, lu, rv,
                   json_string_value(json_object_get(k, "name")));
        }
        json_decref(j);
        rc = 0;
    } else if (strcmp(verb, "revoke") == 0) {
        char path[96];
        if (optind != argc - 1 || strlen(argv[optind]) > 16 ||
            strspn(argv[optind], "0123456789abcdef") != strlen(argv[optind])) {
            fputs(apikey_help, stderr);
            return EXIT_USAGE;
        }
        snprintf(path, sizeof path, "/api/v1/apikeys/%s", argv[optind]);
        if (request(url, "DELETE", path, NULL, &r) != 0)
            return EXIT_DAEMON;
        if (r.status != 200) {
            rc = refused("revoke", &r);
            goto out;
        }
        fprintf(stderr, "revoked key %s\n", argv[optind]);
        rc = 0;
    } else {
        fprintf(stderr, "mwrasp: apikey: unknown action '%s'\n\n", verb);
        fputs(apikey_help, stderr);
        return EXIT_USAGE;
    }
out:
    mw_http_response_clear(&r);
    return rc;
}
