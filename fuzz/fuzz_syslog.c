/* libFuzzer harness for the syslog parser (and the line auto-detection).
 * Besides "no crash, no leak, no UB" it checks the parser's promises: on
 * success every field value is valid UTF-8 and NUL-terminated and the raw
 * copy is byte-exact; on failure the reason is set and *out untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, mw_event_t *ev, enum mw_reject why, const char *err, size_t errlen,
                  const uint8_t *data, size_t size)
{
    if (rc == MW_OK) {
        if (!ev || ev->raw_len != size || memcmp(ev->raw, data, size) != 0 || !ev->host ||
            !ev->category)
            abort();
        for (uint32_t i = 0; i < ev->nfields; i++) {
            const mw_field_t *f = &ev->fields[i];
            if (f->val[f->val_len] != '\0' || f->key[f->key_len] != '\0' ||
                !mw_utf8_valid(f->val, f->val_len))
                abort();
        }
        mw_event_free(ev);
        return;
    }
    if (ev || (unsigned)why >= MW_REJ__COUNT || !memchr(err, '\0', errlen) || err[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    enum mw_reject why = MW_REJ__COUNT;
    mw_event_t *ev = NULL;
    int rc = mw_syslog_parse((const char *)data, size, MW_SRC_SYSLOG_UDP, "192.0.2.1", &ev, &why,
                             err, sizeof err);
    check(rc, ev, why, err, sizeof err, data, size);
    ev = NULL;
    why = MW_REJ__COUNT;
    rc = mw_ingest_parse_line((const char *)data, size, MW_SRC_REPLAY, NULL, &ev, &why, err,
                              sizeof err);
    if (rc == MW_OK) {
        mw_event_free(ev);
    } else if (ev || (unsigned)why >= MW_REJ__COUNT || err[0] == '\0') {
        abort();
    }
    return 0;
}
