/* Error codes to text (include/mwrasp/error.h). */
#include "mwrasp/error.h"

const char *mw_strerror(int err)
{
    switch (err) {
    case MW_OK:
        return "success";
    case MW_EINVAL:
        return "invalid argument or input";
    case MW_ENOMEM:
        return "out of memory";
    case MW_EIO:
        return "I/O or storage error";
    case MW_EAGAIN:
        return "resource busy, try again";
    case MW_ETOOBIG:
        return "input exceeds a size limit";
    case MW_EPARSE:
        return "syntax error";
    case MW_EUTF8:
        return "invalid UTF-8";
    case MW_ENOTFOUND:
        return "not found";
    case MW_ESHUTDOWN:
        return "shutting down";
    case MW_ELIMIT:
        return "limit reached";
    case MW_EEXIST:
        return "already exists";
    case MW_ECONFIG:
        return "invalid configuration";
    case MW_EVERIFY:
        return "verification failed";
    case MW_ECRYPTO:
        return "cryptographic failure";
    default:
        return "unknown error";
    }
}
