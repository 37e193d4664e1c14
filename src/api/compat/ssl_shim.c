/* libmwrasp-sslshim.so, SONAME "libssl.so": lets Debian 12's civetweb 1.15
 * use TLS with OpenSSL 3.
 *
 * civetweb loads OpenSSL at run time (dlopen("libssl.so"), then dlsym of
 * every function it uses) and asks for SSL_get_peer_certificate, the
 * OpenSSL 1.1 name of what OpenSSL 3.0 exports as SSL_get1_peer_certificate
 * (same meaning: the peer's certificate with its reference count raised).
 * Without that symbol civetweb refuses to start any TLS listener ("load_tls_dll:
 * libssl.so: cannot find SSL_get_peer_certificate").
 *
 * This library is linked into mwraspd. Because its SONAME is "libssl.so",
 * the dynamic loader hands it to civetweb's dlopen("libssl.so") (a loaded
 * object whose SONAME matches is reused), and civetweb's dlsym calls search
 * it and then its dependencies, libssl.so.3 and libcrypto.so.3: every other
 * function comes from OpenSSL itself. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *s);
int mw_sslshim_present(void);

X509 *SSL_get_peer_certificate(const SSL *s)
{
    return SSL_get1_peer_certificate(s);
}

/* Referenced by src/api/tls.c so that the linker keeps this library. */
int mw_sslshim_present(void)
{
    return 1;
}
