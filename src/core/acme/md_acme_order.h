/* ACME orders (RFC 8555 7.4) and their authorizations (7.5). */
#ifndef md_acme_order_h
#define md_acme_order_h

#include "md_acme.h"
#include "md_chall.h"

typedef struct {
    const char *url;
    const char *status;         /* pending, ready, processing, valid, invalid */
    apr_array_header_t *authz_urls;
    const char *finalize;
    const char *certificate;
    md_json_t *json;
} md_acme_order_t;

/* Ask for a new order for the names (DNS names, wildcards and IP addresses). */
apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme,
                               const apr_array_header_t *names, const char *profile,
                               md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_order_update(md_acme_order_t *order, md_acme_t *acme, md_result_t *result,
                                  apr_pool_t *p);
/* Poll until the order leaves "pending"/"processing" or timeout passes, honouring
 * Retry-After. An "invalid" order fails with its error recorded. */
apr_status_t md_acme_order_await(md_acme_order_t *order, md_acme_t *acme, const char *until_status,
                                 apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme,
                                    const unsigned char *csr_der, apr_size_t csr_len,
                                    md_result_t *result, apr_pool_t *p);
/* Download the issued chain (leaf first). */
apr_status_t md_acme_order_cert(apr_array_header_t **pchain, md_acme_order_t *order,
                                md_acme_t *acme, md_result_t *result, apr_pool_t *p);

/* What an authorization needs from the caller to be answered. */
typedef struct {
    md_store_t *store;
    const md_t *md;
    const apr_array_header_t *challenge_types;  /* usable types, in preference order */
    apr_array_header_t *setups;                 /* md_chall_ctx_t* done, for teardown */
    /* told "challenge-setup:<type>:<name>" once the answer is in place; may veto */
    apr_status_t (*on_event)(void *baton, const char *event, md_result_t *result);
    void *event_baton;
} md_acme_authz_ctx_t;

/* Bring one authorization to "valid": nothing to do if it is already, otherwise pick a
 * challenge type, set up the answer, tell the CA, and poll. */
apr_status_t md_acme_authz_answer(md_acme_t *acme, const char *authz_url,
                                  md_acme_authz_ctx_t *ctx, md_result_t *result, apr_pool_t *p);
void md_acme_authz_teardown(md_acme_authz_ctx_t *ctx);

#endif
