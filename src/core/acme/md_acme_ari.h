/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME Renewal Information (RFC 9773): when the CA suggests renewing a certificate. */
#ifndef md_acme_ari_h
#define md_acme_ari_h

#include "md_acme.h"

typedef struct {
    apr_time_t start, end;      /* the suggested window */
    const char *explanation;    /* explanationURL, if any */
    apr_time_t retry_after;     /* when to ask again (absolute; 0: not said) */
} md_acme_ari_t;

/* Fetch the renewalInfo of the certificate from the CA that issued it (acme). APR_ENOTIMPL
 * when the CA has no renewalInfo resource. */
apr_status_t md_acme_ari_get(md_acme_ari_t *ari, md_acme_t *acme, const char *cert_id,
                             md_result_t *result, apr_pool_t *p);

/* The CA's renewalInfo answer: a suggestedWindow with start <= end, else an error. */
apr_status_t md_acme_ari_parse(md_acme_ari_t *ari, const md_http_response_t *resp,
                               const char *url, md_result_t *result, apr_pool_t *p);

/* Pure: a time drawn uniformly inside [start, end] by rnd in [0, 1); a time in the past
 * becomes now (renew at once). 0 for an empty or inverted window. */
apr_time_t md_acme_ari_pick(apr_time_t start, apr_time_t end, apr_time_t now, double rnd);

/* For the renewal scheduler: when to renew the certificate as the CA suggests, drawn
 * at random inside the window. result->retry_after says when to ask again. */
apr_status_t md_acme_ari_renew_at(apr_time_t *pat, md_acme_t *acme, const md_cert_t *cert,
                                  const md_cert_t *issuer, md_result_t *result, apr_pool_t *p);

#endif
