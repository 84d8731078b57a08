/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Certificate revocation (RFC 8555 7.6). */
#include <apr_strings.h>
#include <openssl/x509.h>

#include "md_acme_acct.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

static const char *cert_der_b64(const md_cert_t *cert, apr_pool_t *p)
{
    unsigned char *der = NULL;
    const char *out;
    int len = i2d_X509(md_cert_x509(cert), &der);

    if (len <= 0) return NULL;
    out = md_b64url_encode(der, (apr_size_t)len, p);
    OPENSSL_free(der);
    return out;
}

apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, const md_pkey_t *cert_key,
                            int reason, md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    const md_pkey_t *acct_key = acme->acct_key;
    const char *acct_url = acme->acct_url, *der;
    md_acme_resp_t *resp;
    apr_status_t rv;

    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    der = cert ? cert_der_b64(cert, p) : NULL;
    if (!acme->revoke_cert || !der || reason > 10 || reason == 7) {
        md_result_set(result, APR_EINVAL, "%s", !acme->revoke_cert
                      ? "the CA has no revokeCert resource" : !der ? "no certificate to revoke"
                      : "the reason must be a CRLReason code 0-10, not 7");
        return APR_EINVAL;
    }
    md_json_sets(der, j, MD_KEY_CERTIFICATE, NULL);
    if (reason >= 0) md_json_setl(reason, j, MD_KEY_REASON, NULL);
    /* signed by the certificate's key: a JWK header instead of the account */
    if (cert_key) {
        acme->acct_key = cert_key;
        acme->acct_url = NULL;
    }
    rv = md_acme_post(&resp, acme, acme->revoke_cert, md_json_dump(j, MD_JSON_COMPACT, p),
                      cert_key != NULL, result, p);
    acme->acct_key = acct_key;
    acme->acct_url = acct_url;
    if (rv == APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "MD3050: certificate %s revoked at %s",
                      md_cert_serial_hex(cert, p), acme->url);
    }
    return rv;
}
