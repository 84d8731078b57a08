/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Certificate signing requests for the finalize step of an ACME order. */
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "md_crypt.h"
#include "md_crypt_int.h"
#include "md_log.h"

/* Add ext to the list, which then owns it; frees it when that fails. */
static apr_status_t exts_push(STACK_OF(X509_EXTENSION) *exts, X509_EXTENSION *ext)
{
    if (sk_X509_EXTENSION_push(exts, ext)) return APR_SUCCESS;
    X509_EXTENSION_free(ext);
    return APR_ENOMEM;
}

/* The requested extensions: subjectAltName (critical when the subject is empty,
 * RFC 5280 4.2.1.6) and, when asked, the TLS feature status_request. */
static apr_status_t csr_add_extensions(X509_REQ *req, const apr_array_header_t *names,
                                       int has_cn, int must_staple)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = NULL;
    apr_status_t rv;

    if (!exts) return APR_ENOMEM;
    rv = md_cert_san_ext(&ext, names, !has_cn);
    if (rv != APR_SUCCESS) goto leave;
    rv = exts_push(exts, ext);
    if (rv != APR_SUCCESS) goto leave;
    if (must_staple) {
        rv = md_cert_must_staple_ext(&ext);
        if (rv != APR_SUCCESS) goto leave;
        rv = exts_push(exts, ext);
        if (rv != APR_SUCCESS) goto leave;
    }
    rv = X509_REQ_add_extensions(req, exts) ? APR_SUCCESS : APR_EGENERAL;
leave:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rv;
}

/* DER encoding of the request in pool memory. */
static apr_status_t csr_to_der(const unsigned char **pder, apr_size_t *pder_len,
                               X509_REQ *req, apr_pool_t *p)
{
    unsigned char *der, *end;
    int len = i2d_X509_REQ(req, NULL);

    if (len <= 0) return APR_EGENERAL;
    der = apr_palloc(p, (apr_size_t)len);
    end = der;
    if (i2d_X509_REQ(req, &end) != len) return APR_EGENERAL;
    *pder = der;
    *pder_len = (apr_size_t)len;
    return APR_SUCCESS;
}

apr_status_t md_csr_create(const unsigned char **pder, apr_size_t *pder_len,
                           const apr_array_header_t *names, int must_staple,
                           const md_pkey_t *pkey, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_evp(pkey);
    apr_status_t rv;
    X509_REQ *req;
    int has_cn = 0;

    *pder = NULL;
    *pder_len = 0;
    if (!evp || !names || names->nelts <= 0) return APR_EINVAL;
    req = X509_REQ_new();
    if (!req) return APR_ENOMEM;

    /* 1. version 1 (0), subject CN = the first name when it fits and is no IP address */
    rv = X509_REQ_set_version(req, X509_REQ_VERSION_1) ? APR_SUCCESS : APR_EGENERAL;
    if (rv != APR_SUCCESS) goto leave;
    rv = md_cert_name_set_cn(&has_cn, X509_REQ_get_subject_name(req),
                             APR_ARRAY_IDX(names, 0, const char *));
    if (rv != APR_SUCCESS) goto leave;
    /* 2. all names in the subjectAltName, must-staple when asked */
    rv = csr_add_extensions(req, names, has_cn, must_staple);
    if (rv != APR_SUCCESS) goto leave;
    /* 3. the public key, and the signature proving we hold the private one */
    rv = X509_REQ_set_pubkey(req, evp) ? APR_SUCCESS : APR_EGENERAL;
    if (rv != APR_SUCCESS) goto leave;
    if (X509_REQ_sign(req, evp, EVP_sha256()) <= 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EGENERAL, p,
                      "MD2201: signing the certificate request for %s failed",
                      APR_ARRAY_IDX(names, 0, const char *));
        rv = APR_EGENERAL;
        goto leave;
    }
    /* 4. DER, as the finalize request sends it (base64url) */
    rv = csr_to_der(pder, pder_len, req, p);
leave:
    X509_REQ_free(req);
    ERR_clear_error();
    return rv;
}
