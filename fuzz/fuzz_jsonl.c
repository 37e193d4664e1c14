/* libFuzzer harness for the JSON-lines parser. Besides "no crash, no leak,
 * no UB" it checks: on success values are NUL-terminated and the raw copy
 * is byte-exact, and mw_json_to_event on the same JSON gives the same
 * fields; on failure the reason is set and *out untouched. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    enum mw_reject why = MW_REJ__COUNT;
    mw_event_t *ev = NULL;
    int rc = mw_jsonl_parse((const char *)data, size, MW_SRC_JSON_TCP, &ev, &why, err, sizeof err);
    if (rc != MW_OK) {
        if (ev || (unsigned)why >= MW_REJ__COUNT || err[0] == '\0' ||
            !memchr(err, '\0', sizeof err))
            abort();
        return 0;
    }
    if (!ev || ev->raw_len != size || memcmp(ev->raw, data, size) != 0)
        abort();
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const mw_field_t *f = &ev->fields[i];
        if (f->val[f->val_len] != '\0' || f->key[f->key_len] != '\0' || f->key_len == 0)
            abort();
    }
    /* The same object through the HTTP path gives the same fields. */
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (!obj)
        abort();
    mw_event_t *ev2 = NULL;
    rc = mw_json_to_event(obj, MW_SRC_HTTP, &ev2, &why, err, sizeof err);
    if (rc != MW_OK || ev2->nfields != ev->nfields || strcmp(ev2->host, ev->host) != 0 ||
        strcmp(ev2->category, ev->category) != 0 ||
        (ev->ts_ns != ev->ingest_ns && ev2->ts_ns != ev->ts_ns)) /* same time from data */
        abort();
    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (ev->fields[i].val_len != ev2->fields[i].val_len ||
            memcmp(ev->fields[i].val, ev2->fields[i].val, ev->fields[i].val_len) != 0 ||
            strcmp(ev->fields[i].key, ev2->fields[i].key) != 0)
            abort();
    }
    json_decref(obj);
    mw_event_free(ev2);
    mw_event_free(ev);
    return 0;
}
