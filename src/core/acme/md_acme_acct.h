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

typedef struct {
    md_acme_t *acme;
    md_store_t *store;
    const apr_array_header_t *contacts;
    const char *agreement;      /* "accepted" or a ToS URL, NULL if none */
    const char *eab_kid, *eab_hmac;
    const char *preferred_id;   /* the account the MD used last, if any */
} md_acme_acct_req_t;

/* Make acme sign as an account: a valid one from the store for the same CA (checked
 * with the CA), else a newly registered one saved to accounts/. */
apr_status_t md_acme_acct_use(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                              md_result_t *result, apr_pool_t *p);

#endif
