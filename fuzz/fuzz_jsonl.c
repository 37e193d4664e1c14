/* libFuzzer harness for the JSON-lines parser, differential against
 * jansson: mw_jsonl_parse (our scanner) must accept exactly the objects that
 * json_loadb accepts (short of our limits), and then give the same fields,
 * host, category and time as mw_json_to_event on jansson's tree. Plus the
 * usual promises: raw byte-exact, values NUL-terminated, on refusal a
 * reason, a why in range and *out untouched. */
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
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (rc != MW_OK) {
        if (ev || (unsigned)why >= MW_REJ__COUNT || err[0] == '\0' ||
            !memchr(err, '\0', sizeof err))
            abort();
        /* jansson accepted an object that we refused for a reason other
         * than one of our limits: disagreement. Except with a NUL byte in
         * the input: jansson 2.14 skips a NUL right after a number or a
         * literal ({"a":1\0} loads), where RFC 8259 (and we) refuse it. */
        if (json_is_object(obj) && why != MW_REJ_LIMIT && why != MW_REJ_TOO_LARGE &&
            !memchr(data, '\0', size))
            abort();
        json_decref(obj);
        return 0;
    }
    if (!json_is_object(obj)) /* we accepted what jansson refused */
        abort();
    if (ev->raw_len != size || memcmp(ev->raw, data, size) != 0)
        abort();
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const mw_field_t *f = &ev->fields[i];
        if (f->val[f->val_len] != '\0' || f->key[f->key_len] != '\0' || f->key_len == 0)
            abort();
    }
    /* Same fields through the jansson path, unless duplicate keys made
     * jansson keep a different member (it keeps the last, we the first). */
    json_t *strict =
        json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (strict) {
        mw_event_t *ev2 = NULL;
        rc = mw_json_to_event(obj, MW_SRC_HTTP, &ev2, &why, err, sizeof err);
        if (rc != MW_OK || ev2->nfields != ev->nfields || strcmp(ev2->host, ev->host) != 0 ||
            strcmp(ev2->category, ev->category) != 0 ||
            (ev->ts_ns != ev->ingest_ns && ev2->ts_ns != ev->ts_ns))
            abort();
        for (uint32_t i = 0; i < ev->nfields; i++) {
            if (ev->fields[i].val_len != ev2->fields[i].val_len ||
                memcmp(ev->fields[i].val, ev2->fields[i].val, ev->fields[i].val_len) != 0 ||
                strcmp(ev->fields[i].key, ev2->fields[i].key) != 0)
                abort();
        }
        mw_event_free(ev2);
        json_decref(strict);
    }
    json_decref(obj);
    mw_event_free(ev);
    return 0;
}
