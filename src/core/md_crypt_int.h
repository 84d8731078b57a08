/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Internal to the crypto files: X.509 extensions that certificates (md_cert.c) and
 * certificate signing requests (md_csr.c) share. Not for use outside md_cert.c/md_csr.c. */
#ifndef md_crypt_int_h
#define md_crypt_int_h

#include <apr_tables.h>
#include <openssl/x509.h>

/* A subjectAltName extension with a dNSName for each name, or an iPAddress for names
 * that are IPv4/IPv6 addresses. The caller frees the extension (X509_EXTENSION_free). */
apr_status_t md_cert_san_ext(X509_EXTENSION **pext, const apr_array_header_t *names,
                             int critical);
/* The TLS Feature extension (RFC 7633) with status_request: OCSP must-staple. */
apr_status_t md_cert_must_staple_ext(X509_EXTENSION **pext);

/* Put "CN=name" into an X.509 name when name is non-empty and short enough;
 * sets *pset to whether it did. */
apr_status_t md_cert_name_set_cn(int *pset, X509_NAME *xname, const char *cn);

#endif
