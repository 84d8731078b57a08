/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A certificate authority for unit tests: issues a leaf for a CSR, signed by a CA key and
 * certificate it makes once, as PEM text "leaf, CA" the way an ACME CA sends a chain. */
#ifndef fake_ca_h
#define fake_ca_h

#include <apr_pools.h>

typedef struct fake_ca_t fake_ca_t;

/* A CA with a fresh EC P-256 key and a self-signed CA certificate ("Fake Test CA"),
 * freed with the pool. */
apr_status_t fake_ca_create(fake_ca_t **pca, apr_pool_t *p);

/* The PEM chain for the CSR (DER): a leaf valid from an hour ago for 90 days with the
 * CSR's subject and extensions (its subjectAltNames), an authorityKeyIdentifier of the
 * CA, signed by the CA, then the CA's certificate. The leaf carries the CSR's public key,
 * or with other_key a key of the CA's own (a certificate for someone else's key).
 * APR_EINVAL when the CSR cannot be read or its signature does not verify. */
apr_status_t fake_ca_issue(const char **ppem, fake_ca_t *ca, const unsigned char *csr_der,
                           apr_size_t csr_len, int other_key, apr_pool_t *p);

#endif
