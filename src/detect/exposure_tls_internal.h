/* Between the TLS and QUIC parsers of the exposure scanner (module-private).
 * QUIC carries the TLS handshake messages in CRYPTO frames without the
 * record layer (RFC 9001 4): the QUIC parser feeds the reassembled CRYPTO
 * stream of each direction to the TLS handshake-message parser. */
#ifndef MW_EXPOSURE_TLS_INTERNAL_H
#define MW_EXPOSURE_TLS_INTERNAL_H

#include "mwrasp/exposure.h"

/* Feeds handshake-protocol bytes (RFC 8446 4: msg_type, uint24 length,
 * body), no record headers. Returns 0 to go on, 1 when this direction needs
 * nothing more (the server's final ServerHello was parsed: what follows is
 * encrypted), negative never (malformed messages are counted and skipped). */
int mw_tls_parser_feed_handshake(mw_tls_parser_t *p, mw_expo_session_t *s, int dir,
                                 const uint8_t *data, size_t len);

/* 1 when the server's final (not HelloRetryRequest) ServerHello was parsed. */
int mw_tls_parser_server_hello_done(const mw_tls_parser_t *p);

#endif
