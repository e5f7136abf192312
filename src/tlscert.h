/*
 * tlscert.h: certificates in words, with no Lua in it: a name as
 * "CN=localhost, O=netlua test" (most specific first, as RFC 2253 orders
 * it), the names a certificate is for, times as "2036-01-01 00:00:00 UTC",
 * days left, the serial in hex, the SHA-256 fingerprint. Each writes a NUL-
 * terminated string into buf (truncated to size) and returns buf.
 */
#ifndef NETLUA_TLSCERT_H
#define NETLUA_TLSCERT_H

#include <stddef.h>

#include <openssl/x509.h>

char *tlscert_name(const X509_NAME *n, char *buf, size_t size);

/* The subjectAltName DNS names and IP addresses, ", "-separated; without
   any, the subject's CN. */
char *tlscert_names(X509 *x, char *buf, size_t size);

/* The DNS names and IPs one by one: calls f(ud, name) for each. */
void tlscert_eachname(X509 *x, void (*f)(void *ud, const char *name), void *ud);

char *tlscert_time(const ASN1_TIME *t, char *buf, size_t size);

/* Whole days from now until t (negative once past). */
int tlscert_daysleft(const ASN1_TIME *t);

char *tlscert_serial(X509 *x, char *buf, size_t size);

/* "AB:CD:..." (95 characters and a NUL: size >= 96). */
char *tlscert_sha256(X509 *x, char *buf, size_t size);

#endif
