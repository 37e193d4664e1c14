/* Logging: one JSON object per line on stderr, or plain text for the CLI. */
#include "mwrasp/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mwrasp/event.h"

static enum mw_log_level g_level = MW_LOG_INFO;
static int g_plain;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void mw_log_set_level(enum mw_log_level lvl)
{
    g_level = lvl;
}

void mw_log_set_plain(int plain)
{
    g_plain = plain;
}

int mw_log_level_parse(const char *s, enum mw_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum mw_log_level)i;
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

/* Appends s to out as the inside of a JSON string; returns bytes written. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

void mw_log(enum mw_log_level lvl, const char *module, const char *fmt, ...)
{
    if (lvl < g_level)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (g_plain) {
        pthread_mutex_lock(&g_log_mu);
        fprintf(stderr, "%s: %s: %s\n", level_names[lvl], module, msg);
        pthread_mutex_unlock(&g_log_mu);
        return;
    }
    char ts[40];
    mw_time_format_rfc3339(mw_now_realtime_ns(), ts, sizeof ts);
    char esc[8192];
    json_escape(esc, sizeof esc, msg);
    pthread_mutex_lock(&g_log_mu);
    fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%s\"}\n", ts,
            level_names[lvl], module, esc);
    pthread_mutex_unlock(&g_log_mu);
}
