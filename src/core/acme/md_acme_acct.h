/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME accounts: find a usable one in the store, or register a new one. */
#ifndef md_acme_acct_h
#define md_acme_acct_h

#include "md_acme.h"
#include "md_store.h"

typedef struct {
    const char *id;             /* directory name in accounts/ */
    const char *url;
    const char *ca_url;
    const char *status;
    apr_array_header_t *contacts;
    const char *agreement;
    const char *eab_kid;
    md_json_t *registration;
} md_acme_acct_t;

/* Accounts shared with other servers (a farm on etcd, md_farm_acct.c), so that servers
 * sharing their MDs register one account per CA, not one each. Asked only when the store
 * has no usable account:
 * - acquire: the account the others registered at ca_url (for eab_kid), as account.json
 *   text and key (APR_SUCCESS; it is saved in the store and used), or APR_ENOENT: there is
 *   none and this server may register one (it holds the right until release). Any other
 *   status: sharing does not work now, the server registers alone, as a single one does;
 * - release: after acquire said APR_ENOENT; acct is the account registered (to publish),
 *   NULL when none was. */
typedef struct md_acme_acct_share_t md_acme_acct_share_t;
struct md_acme_acct_share_t {
    apr_status_t (*acquire)(const char **pjson, md_pkey_t **pkey, md_acme_acct_share_t *share,
                            const char *ca_url, const char *eab_kid, apr_pool_t *p);
    void (*release)(md_acme_acct_share_t *share, const char *json, const md_pkey_t *key,
                    apr_pool_t *p);
    void *baton;
};

typedef struct {
    md_acme_t *acme;
    md_store_t *store;
    const apr_array_header_t *contacts;
    const md_pkey_spec_t *key_spec;  /* for a new account key; NULL: EC P-256 */
    const char *agreement;      /* "accepted" or a ToS URL, NULL if none */
    const char *eab_kid, *eab_hmac;
    const char *preferred_id;   /* the account the MD used last, if any */
    int trusted_only;           /* only an account in trust, without asking the CA;
                                 * APR_ENOENT instead of checking or registering one */
    /* The accounts the CA confirmed lately, shared by the caller's threads, or NULL: one
     * confirmed within MD_ACME_ACCT_TRUST is used without asking the CA again. */
    struct md_acme_acct_trust_t *trust;
    md_acme_acct_share_t *share;    /* accounts shared with other servers, or NULL */
} md_acme_acct_req_t;

/* How long a confirmation of an account by the CA is trusted (req->trust). */
#define MD_ACME_ACCT_TRUST apr_time_from_sec(10 * 60)

typedef struct md_acme_acct_trust_t md_acme_acct_trust_t;
/* An empty record of confirmed accounts, safe to share between threads; lives in p. */
apr_status_t md_acme_acct_trust_make(md_acme_acct_trust_t **ptrust, apr_pool_t *p);

/* Make acme sign as an account: a valid one from the store for the same CA (checked
 * with the CA), else a newly registered one saved to accounts/. */
apr_status_t md_acme_acct_use(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                              md_result_t *result, apr_pool_t *p);

/* The id (folder in accounts/) of the stored account with this URL, or NULL: an order
 * belongs to its account, and resuming one needs that account (md_acme_drive.c). */
const char *md_acme_acct_id_for_url(md_store_t *store, const char *url, apr_pool_t *p);

/* The URL of the account of acme->acct_key (newAccount with onlyReturnExisting);
 * APR_ENOENT (accountDoesNotExist) when the CA has none for the key. */
apr_status_t md_acme_acct_find_by_key(const char **purl, md_acme_t *acme, md_result_t *result,
                                      apr_pool_t *p);
/* Load an account from accounts/<id>/ and make acme sign as it (no check with the CA). */
apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_acme_t *acme, md_store_t *store,
                               const char *id, md_result_t *result, apr_pool_t *p);
/* Replace the account's contacts at the CA (RFC 8555 7.3.2), and in the store. */
apr_status_t md_acme_acct_update_contacts(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                          const apr_array_header_t *contacts, md_result_t *result,
                                          apr_pool_t *p);
/* Deactivate the account at the CA (7.3.6); it is kept in the store as "deactivated". */
apr_status_t md_acme_acct_deactivate(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                     md_result_t *result, apr_pool_t *p);
/* Account-key rollover (7.3.5): a new key of spec, introduced to the CA by the old one;
 * saved over the old key in the store only after the CA took it. */
apr_status_t md_acme_acct_key_change(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                     const md_pkey_spec_t *spec, md_result_t *result,
                                     apr_pool_t *p);

/* ---- revocation (md_acme_revoke.c) -------------------------------------------- */

/* Revoke cert (RFC 8555 7.6) with reason (RFC 5280 CRLReason, 0..10; < 0: none given).
 * Signed by the account acme signs as, or, when cert_key is given, by the certificate's
 * own key (then no account is needed). */
apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, const md_pkey_t *cert_key,
                            int reason, md_result_t *result, apr_pool_t *p);

#endif
