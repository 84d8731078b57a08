/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
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

typedef struct {
    const apr_array_header_t *names;  /* DNS names, wildcards and IP addresses */
    const char *profile;              /* as the CA spells it (md_acme_profile_select), or NULL */
    const char *replaces;             /* ARI id of the certificate this one replaces, or NULL */
} md_acme_order_req_t;

/* Ask for a new order. */
apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme,
                               const md_acme_order_req_t *req, md_result_t *result, apr_pool_t *p);
/* The profile to ask for: the wanted one as the directory's meta.profiles spells it
 * (matched case-insensitively); NULL when none is wanted or it is not offered and not
 * mandatory. Not offered and mandatory fails with a message naming the offered ones. */
apr_status_t md_acme_profile_select(const char **pprofile, md_acme_t *acme, const char *wanted,
                                    int mandatory, md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_order_update(md_acme_order_t *order, md_acme_t *acme, md_result_t *result,
                                  apr_pool_t *p);
/* Poll until the order leaves "pending"/"processing" or timeout passes, honouring
 * Retry-After. An "invalid" order fails with its error recorded. */
apr_status_t md_acme_order_await(md_acme_order_t *order, md_acme_t *acme, const char *until_status,
                                 apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme,
                                    const unsigned char *csr_der, apr_size_t csr_len,
                                    md_result_t *result, apr_pool_t *p);
/* Download the issued chain (leaf first). With preferred_issuer (a CN), the default
 * chain and the alternates (Link rel="alternate", the first 8 of them) are searched for
 * one with a certificate issued by that CN, the topmost such match winning; otherwise,
 * or when none matches, the default chain. */
apr_status_t md_acme_order_cert(apr_array_header_t **pchain, md_acme_order_t *order,
                                md_acme_t *acme, const char *preferred_issuer,
                                md_result_t *result, apr_pool_t *p);
/* Pure: does the chain have a certificate whose issuer CN is cn (case-insensitive)? */
int md_acme_chain_has_issuer(const apr_array_header_t *chain, const char *cn, apr_pool_t *p);

/* What the authorizations of an order need from the caller to be answered. */
typedef struct {
    md_store_t *store;
    const md_t *md;
    const apr_array_header_t *challenge_types;  /* usable types, in preference order */
    int dns01_version;                          /* MDChallengeDns01Version */
    apr_interval_time_t dns01_timeout;          /* per run of the dns-01 program; 0: default */
    apr_interval_time_t dns01_wait;             /* after dns-01 setups, before the CA looks */
    apr_array_header_t *setups;                 /* md_chall_ctx_t* done, for teardown */
    int resumed;                                /* the order was made by an earlier run */
    /* told "challenge-setup:<type>:<name>" once the answer is in place; may veto */
    apr_status_t (*on_event)(void *baton, const char *event, md_result_t *result);
    void *event_baton;
} md_acme_authz_ctx_t;

/* Bring every authorization to "valid": the valid ones need nothing; for the others pick
 * a challenge type (wildcards only dns-01), set all answers up, wait dns01_wait once when
 * dns-01 is among them, tell the CA to look, and poll each until valid or invalid. More
 * authorizations than the MD has names are refused before any is fetched. */
apr_status_t md_acme_authz_answer_all(md_acme_t *acme, const apr_array_header_t *authz_urls,
                                      md_acme_authz_ctx_t *ctx, md_result_t *result,
                                      apr_pool_t *p);
/* Remove every answer that was set up. */
void md_acme_authz_teardown(md_acme_authz_ctx_t *ctx);
/* Why none of the offered challenges can be answered: one reason per type. */
const char *md_acme_authz_no_challenge_reasons(const md_json_t *authz,
                                               const md_acme_authz_ctx_t *ctx, apr_pool_t *p);

#endif
