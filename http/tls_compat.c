/* civetweb 1.15 (Debian 12's libcivetweb) loads "libssl.so" at run time and looks up
 * SSL_get_peer_certificate, which OpenSSL 3 only has as a macro for SSL_get1_peer_certificate;
 * the lookup is not fatal, so the first HTTPS connection calls a NULL pointer
 * (civetweb/civetweb#1334). This library is that missing function. It is built as
 * build/lib/tls-compat/libssl.so and sw-edge links it, so when civetweb asks for "libssl.so" the
 * loader hands it this library, whose own dependency (the real libssl.so.3) provides the rest. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);
int sw_tls_compat_linked(void);

X509 *SSL_get_peer_certificate(const SSL *s)
{
    return SSL_get1_peer_certificate(s); /* the same function, renamed in OpenSSL 3 */
}

/* Called by sw-edge so the linker keeps this library even with --as-needed. */
int sw_tls_compat_linked(void)
{
    return 1;
}
