/* MWRASP error convention (docs/internals/conventions.md).
 *
 * Every function that can fail returns 0 (MW_OK) or a negative MW_E* code.
 * On failure, outputs are left untouched or zeroized; nothing is leaked. */
#ifndef MWRASP_ERROR_H
#define MWRASP_ERROR_H

#define MW_WUR __attribute__((warn_unused_result))

enum {
    MW_OK = 0,
    MW_EINVAL = -1, /* bad argument or malformed input */
    MW_ENOMEM = -2, /* allocation failed */
    MW_EIO = -3, /* I/O or storage error */
    MW_EAGAIN = -4, /* would block (ring full, try again) */
    MW_ETOOBIG = -5, /* input exceeds a hard cap */
    MW_EPARSE = -6, /* syntax error in input */
    MW_EUTF8 = -7, /* invalid UTF-8 where UTF-8 is required */
    MW_ENOTFOUND = -8, /* no such object */
    MW_ESHUTDOWN = -9, /* component is stopping */
    MW_ELIMIT = -10, /* a configured limit (fields, keys, rules) reached */
    MW_EEXIST = -11, /* already exists */
    MW_ECONFIG = -12, /* invalid configuration */
    MW_EVERIFY = -13, /* signature or authentication tag does not verify */
    MW_ECRYPTO = -14, /* crypto library or random source failed */
};

/* Static English text for an MW_E* code; never NULL. */
const char *mw_strerror(int err);

#endif
