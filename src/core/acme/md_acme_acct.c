/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "md_acme_acct.h"
#include "md_jws.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

static md_json_t *acct_to_json(const md_acme_acct_t *acct, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(acct->status, j, MD_KEY_STATUS, NULL);
    md_json_sets(acct->url, j, MD_KEY_URL, NULL);
    md_json_sets(acct->ca_url, j, MD_KEY_CA_URL, NULL);
    md_json_setsa(acct->contacts, j, MD_KEY_CONTACT, NULL);
    if (acct->registration) md_json_setj(acct->registration, j, MD_KEY_REGISTRATION, NULL);
    if (acct->agreement) md_json_sets(acct->agreement, j, MD_KEY_AGREEMENT, NULL);
    /* The EAB key id identifies which binding made the account; the HMAC is a secret
     * and is never written next to the account. */
    if (acct->eab_kid) md_json_sets(acct->eab_kid, j, MD_KEY_EAB, MD_KEY_KID, NULL);
    return j;
}

static md_acme_acct_t *acct_from_json(const char *id, const md_json_t *j, apr_pool_t *p)
{
    md_acme_acct_t *acct = apr_pcalloc(p, sizeof(*acct));

    acct->id = id;
    acct->status = md_json_gets(j, MD_KEY_STATUS, NULL);
    acct->url = md_json_gets(j, MD_KEY_URL, NULL);
    acct->ca_url = md_json_gets(j, MD_KEY_CA_URL, NULL);
    acct->contacts = md_json_getsa(j, p, MD_KEY_CONTACT, NULL);
    acct->agreement = md_json_gets(j, MD_KEY_AGREEMENT, NULL);
    acct->eab_kid = md_json_gets(j, MD_KEY_EAB, MD_KEY_KID, NULL);
    acct->registration = md_json_getj(j, MD_KEY_REGISTRATION, NULL);
    return acct;
}

/* Ask the CA whether the account still exists and is valid: POST-as-GET of the
 * account URL; CAs that refuse it (malformed) get the older empty update "{}".
 * APR_ENOENT when the CA says it is gone or deactivated; other failures are the CA's
 * trouble, not the account's, and are passed on. */
static apr_status_t acct_check(md_acme_t *acme, md_acme_acct_t *acct, md_result_t *result,
                               apr_pool_t *p)
{
    md_acme_resp_t *resp;
    apr_status_t rv;

    acme->acct_url = acct->url;
    rv = md_acme_post(&resp, acme, acct->url, NULL, 0, result, p);
    if (rv != APR_SUCCESS && result->problem && strstr(result->problem, ":malformed")) {
        rv = md_acme_post(&resp, acme, acct->url, "{}", 0, result, p);
    }
    if (rv == APR_SUCCESS && resp->json) {
        acct->status = md_json_gets(resp->json, MD_KEY_STATUS, NULL);
        if (acct->status && !strcmp(acct->status, "valid")) return APR_SUCCESS;
        rv = APR_ENOENT;
    }
    else if (rv == APR_SUCCESS) {
        md_result_set(result, APR_EINVAL, "the CA's answer about account %s is not JSON", acct->url);
        rv = APR_EINVAL;
    }
    else if (result->problem && (strstr(result->problem, ":accountDoesNotExist")
                                 || strstr(result->problem, ":unauthorized"))) {
        rv = APR_ENOENT;
    }
    acme->acct_url = NULL;
    return rv;
}

static int acct_fits(const md_acme_acct_t *acct, const md_acme_acct_req_t *req)
{
    if (!acct->ca_url || strcmp(acct->ca_url, req->acme->url)) return 0;
    if (acct->status && strcmp(acct->status, "valid")) return 0;
    if (req->eab_kid && (!acct->eab_kid || strcmp(req->eab_kid, acct->eab_kid))) return 0;
    return 1;
}

struct md_acme_acct_trust_t {
    apr_thread_mutex_t *lock;
    apr_hash_t *confirmed;          /* account URL -> apr_time_t* */
};

apr_status_t md_acme_acct_trust_make(md_acme_acct_trust_t **ptrust, apr_pool_t *p)
{
    md_acme_acct_trust_t *trust = apr_pcalloc(p, sizeof(*trust));
    apr_status_t rv = apr_thread_mutex_create(&trust->lock, APR_THREAD_MUTEX_DEFAULT, p);

    trust->confirmed = apr_hash_make(p);
    *ptrust = rv == APR_SUCCESS ? trust : NULL;
    return rv;
}

/* Did the CA confirm the account lately? A renewal of each of 1000 MDs would otherwise
 * ask it the same question 1000 times. */
static int acct_trusted(const md_acme_acct_req_t *req, const char *url)
{
    const apr_time_t *at;
    int trusted;

    if (!req->trust || !url) return 0;
    apr_thread_mutex_lock(req->trust->lock);
    at = apr_hash_get(req->trust->confirmed, url, APR_HASH_KEY_STRING);
    trusted = at && apr_time_now() - *at < MD_ACME_ACCT_TRUST;
    apr_thread_mutex_unlock(req->trust->lock);
    return trusted;
}

static void acct_confirmed(const md_acme_acct_req_t *req, const char *url)
{
    apr_hash_t *h;
    apr_pool_t *hp;
    apr_time_t *at;

    if (!req->trust || !url) return;
    h = req->trust->confirmed;
    apr_thread_mutex_lock(req->trust->lock);
    at = apr_hash_get(h, url, APR_HASH_KEY_STRING);
    if (!at) {
        hp = apr_hash_pool_get(h);
        at = apr_palloc(hp, sizeof(*at));
        apr_hash_set(h, apr_pstrdup(hp, url), APR_HASH_KEY_STRING, at);
    }
    *at = apr_time_now();
    apr_thread_mutex_unlock(req->trust->lock);
}

static apr_status_t acct_try(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                             const char *id, md_result_t *result, apr_pool_t *p)
{
    md_json_t *json;
    md_pkey_t *key;
    md_acme_acct_t *acct;
    apr_status_t rv;

    rv = md_store_load_json(&json, req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p);
    if (rv != APR_SUCCESS) return APR_ENOENT;  /* none, or damaged: not one to use */
    acct = acct_from_json(id, json, p);
    if (!acct_fits(acct, req)) return APR_ENOENT;
    if (req->trusted_only && !acct_trusted(req, acct->url)) return APR_ENOENT;
    rv = md_store_load_pkey(&key, req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, p);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "MD0402: the key of account %s "
                      "cannot be read (damaged, or encrypted with another store key); "
                      "not using it", id);
        return APR_ENOENT;
    }
    req->acme->acct_key = key;
    if (!acct->url) {
        /* a damaged record: the CA knows the account by its key */
        rv = md_acme_acct_find_by_key(&acct->url, req->acme, result, p);
        if (rv == APR_SUCCESS) md_store_save_json(req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT,
                                                  acct_to_json(acct, p), p);
        else if (result->problem && strstr(result->problem, ":accountDoesNotExist")) rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS && acct_trusted(req, acct->url)) {
        req->acme->acct_url = acct->url;
    }
    else if (rv == APR_SUCCESS) {
        rv = acct_check(req->acme, acct, result, p);
        if (rv == APR_SUCCESS) acct_confirmed(req, acct->url);
    }
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
        req->acme->acct_key = NULL;
        return rv;
    }
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, p, "MD0401: account %s at %s is no longer "
                      "usable (%s: %s), looking for another", id, acct->ca_url,
                      result->problem ? result->problem : "not valid",
                      result->detail ? result->detail : "");
        acct->status = "invalid";
        md_store_save_json(req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, acct_to_json(acct, p), p);
        req->acme->acct_key = NULL;
        return rv;
    }
    *pacct = acct;
    return APR_SUCCESS;
}

/* A usable account from the store: APR_ENOENT when there is none, another status when
 * the CA could not be asked (then no new account is made either). */
static apr_status_t acct_find(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                              md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *ids;
    apr_status_t rv = APR_ENOENT;
    int i;

    if (req->preferred_id) rv = acct_try(pacct, req, req->preferred_id, result, p);
    if (rv != APR_ENOENT && !APR_STATUS_IS_ENOENT(rv)) return rv;
    rv = md_store_names(&ids, req->store, MD_SG_ACCOUNTS, p);
    if (rv != APR_SUCCESS) return rv;
    for (i = 0, rv = APR_ENOENT; i < ids->nelts && APR_STATUS_IS_ENOENT(rv); ++i) {
        rv = acct_try(pacct, req, APR_ARRAY_IDX(ids, i, const char *), result, p);
    }
    return rv;
}

const char *md_acme_acct_id_for_url(md_store_t *store, const char *url, apr_pool_t *p)
{
    apr_array_header_t *ids;
    md_json_t *json;
    const char *id, *found;
    int i;

    if (!url || md_store_names(&ids, store, MD_SG_ACCOUNTS, p) != APR_SUCCESS) return NULL;
    for (i = 0; i < ids->nelts; ++i) {
        id = APR_ARRAY_IDX(ids, i, const char *);
        if (md_store_load_json(&json, store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p) != APR_SUCCESS) continue;
        found = md_json_gets(json, MD_KEY_URL, NULL);
        if (found && !strcmp(found, url)) return id;
    }
    return NULL;
}

/* A free directory name ACME-<last 16 chars of the CA host>-NNNN, as today. */
static const char *acct_new_id(const md_acme_acct_req_t *req, apr_pool_t *p)
{
    const char *host = md_acme_host(req->acme, p), *id;
    apr_size_t len = strlen(host);
    int n;

    if (len > 16) host += len - 16;
    for (n = 0; n < 10000; ++n) {
        id = apr_psprintf(p, "ACME-%s-%04d", host, n);
        if (md_store_exists(req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p) != APR_SUCCESS) {
            return id;
        }
    }
    return NULL;
}

static apr_status_t acct_payload(const char **ppayload, const md_acme_acct_req_t *req,
                                 const md_pkey_t *key, md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p), *jwk, *eab;
    apr_status_t rv;

    md_json_setsa(req->contacts, j, MD_KEY_CONTACT, NULL);
    md_json_setb(1, j, MD_KEY_TOS_AGREED, NULL);
    if (req->eab_kid && req->eab_hmac) {
        rv = md_jwk_get(&jwk, key, p);
        if (rv == APR_SUCCESS) {
            rv = md_jws_eab(&eab, jwk, req->eab_kid, req->eab_hmac, req->acme->new_account, p);
        }
        if (rv != APR_SUCCESS) {
            /* local problems, named as today's module names them in its status */
            md_result_problem(result, rv, rv == APR_EINVAL ? MD_PROBLEM_EAB_HMAC_INVALID
                                                           : MD_PROBLEM_EAB_HMAC_FAIL,
                              "the external account binding could not be signed: "
                              "is the MDExternalAccountBinding hmac base64url?", NULL);
            return rv;
        }
        md_json_setj(eab, j, MD_KEY_EXTERNAL_ACCOUNT_BINDING, NULL);
    }
    *ppayload = md_json_dump(j, MD_JSON_COMPACT, p);
    return APR_SUCCESS;
}

static apr_status_t acct_register(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                                  md_result_t *result, apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_acme_acct_t *acct;
    md_acme_resp_t *resp;

    if (req->key_spec && req->key_spec->type != MD_PKEY_DEFAULT) spec = *req->key_spec;
    md_pkey_t *key;
    const char *payload;
    apr_status_t rv;

    /* 1. the terms of service must be agreed to when the CA has some */
    if (req->acme->terms_of_service && !req->agreement) {
        md_result_set(result, APR_EACCES, "the CA requires agreeing to its terms of service "
                      "(%s): add 'MDCertificateAgreement accepted'", req->acme->terms_of_service);
        return APR_EACCES;
    }
    /* 2. a new account key, then the signed newAccount request */
    rv = md_pkey_gen(&key, &spec, p);
    if (rv == APR_SUCCESS) rv = acct_payload(&payload, req, key, result, p);
    if (rv != APR_SUCCESS) return rv;
    req->acme->acct_key = key;
    rv = md_acme_post(&resp, req->acme, req->acme->new_account, payload, 1, result, p);
    if (rv == APR_SUCCESS && !resp->location) {
        md_result_set(result, APR_EINVAL, "the CA created an account without telling its URL");
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        req->acme->acct_key = NULL;
        return rv;
    }
    /* 3. keep it in the store */
    acct = apr_pcalloc(p, sizeof(*acct));
    acct->id = acct_new_id(req, p);
    acct->url = apr_pstrdup(p, resp->location);
    acct->ca_url = req->acme->url;
    acct->status = "valid";
    acct->contacts = md_array_str_copy(p, req->contacts);
    acct->agreement = req->agreement;
    acct->eab_kid = req->eab_kid;
    acct->registration = resp->json;
    rv = md_store_save_pkey(req->store, MD_SG_ACCOUNTS, acct->id, MD_FN_ACCT_KEY, key, p);
    if (rv == APR_SUCCESS) {
        rv = md_store_save_json(req->store, MD_SG_ACCOUNTS, acct->id, MD_FN_ACCOUNT,
                                acct_to_json(acct, p), p);
    }
    if (rv != APR_SUCCESS) md_result_set(result, rv, "saving the new account %s", acct->id);
    req->acme->acct_url = acct->url;
    *pacct = acct;
    return rv;
}

/* Is an account of this URL in the store already (usable or not)? */
static int acct_known(const md_acme_acct_req_t *req, const char *url, apr_pool_t *p)
{
    apr_array_header_t *ids;
    md_json_t *json;
    const char *known;
    int i;

    if (md_store_names(&ids, req->store, MD_SG_ACCOUNTS, p) != APR_SUCCESS) return 0;
    for (i = 0; i < ids->nelts; ++i) {
        if (md_store_load_json(&json, req->store, MD_SG_ACCOUNTS, APR_ARRAY_IDX(ids, i, const char *),
                               MD_FN_ACCOUNT, p) != APR_SUCCESS) continue;
        known = md_json_gets(json, MD_KEY_URL, NULL);
        if (known && !strcmp(known, url)) return 1;
    }
    return 0;
}

/* An account the other servers registered, saved here as a new one is. APR_ENOENT when it
 * does not fit the request or is one this store has already (then it was not usable). */
static apr_status_t acct_save_shared(const md_acme_acct_req_t *req, const char *text, md_pkey_t *key,
                                     apr_pool_t *p)
{
    md_acme_acct_t *acct;
    md_json_t *json;
    const char *id;
    apr_status_t rv;

    if (md_json_parse(&json, text, strlen(text), p) != APR_SUCCESS) return APR_EINVAL;
    id = acct_new_id(req, p);
    if (!id) return APR_ENOSPC;
    acct = acct_from_json(id, json, p);
    if (!acct->url || !acct_fits(acct, req) || acct_known(req, acct->url, p)) return APR_ENOENT;
    rv = md_store_save_pkey(req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, key, p);
    if (rv == APR_SUCCESS) rv = md_store_save_json(req->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, json, p);
    return rv;
}

/* With servers sharing accounts: theirs when they have one for the CA, else one registered
 * here for all of them, published when this server holds the right to (see share). */
static apr_status_t acct_use_shared(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                                    md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_share_t *share = req->share;
    const char *text = NULL;
    md_pkey_t *key = NULL;
    apr_status_t rv, srv;

    /* 1. the others' account, or the right to register the one for all */
    md_result_activity(result, "looking for a shared account at %s", req->acme->url);
    srv = share->acquire(&text, &key, share, req->acme->url, req->eab_kid, p);
    /* (one that does not fit, or cannot be saved: this server registers its own) */
    if (srv == APR_SUCCESS && acct_save_shared(req, text, key, p) == APR_SUCCESS) {
        rv = acct_find(pacct, req, result, p);
        if (!APR_STATUS_IS_ENOENT(rv)) return rv;
    }
    /* 2. a new account; published when the right is ours */
    md_result_activity(result, "registering a new account at %s", req->acme->url);
    rv = acct_register(pacct, req, result, p);
    if (APR_STATUS_IS_ENOENT(srv)) {
        share->release(share, rv == APR_SUCCESS ? md_json_dump(acct_to_json(*pacct, p), MD_JSON_COMPACT, p)
                                                : NULL, req->acme->acct_key, p);
    }
    return rv;
}

apr_status_t md_acme_acct_use(md_acme_acct_t **pacct, const md_acme_acct_req_t *req,
                              md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;

    rv = md_acme_setup(req->acme, result);
    if (rv != APR_SUCCESS) return rv;
    rv = acct_find(pacct, req, result, p);
    if (!APR_STATUS_IS_ENOENT(rv) || req->trusted_only) return rv;
    if (req->share) return acct_use_shared(pacct, req, result, p);
    md_result_activity(result, "registering a new account at %s", req->acme->url);
    return acct_register(pacct, req, result, p);
}

/* ---- operations on an existing account ------------------------------------------ */

apr_status_t md_acme_acct_find_by_key(const char **purl, md_acme_t *acme, md_result_t *result,
                                      apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    md_acme_resp_t *resp;
    apr_status_t rv;

    *purl = NULL;
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    md_json_setb(1, j, MD_KEY_ONLY_RETURN_EXISTING, NULL);
    rv = md_acme_post(&resp, acme, acme->new_account, md_json_dump(j, MD_JSON_COMPACT, p), 1,
                      result, p);
    if (rv == APR_SUCCESS && !resp->location) {
        md_result_set(result, APR_EINVAL, "the CA found the account but did not tell its URL");
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) *purl = apr_pstrdup(p, resp->location);
    return rv;
}

apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_acme_t *acme, md_store_t *store,
                               const char *id, md_result_t *result, apr_pool_t *p)
{
    md_json_t *json;
    md_pkey_t *key;
    apr_status_t rv;

    rv = md_store_load_json(&json, store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p);
    if (rv == APR_SUCCESS) rv = md_store_load_pkey(&key, store, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "the account %s cannot be read from the store", id);
        return rv;
    }
    *pacct = acct_from_json(id, json, p);
    if (!(*pacct)->url) {
        md_result_set(result, APR_EINVAL, "the account %s has no URL", id);
        return APR_EINVAL;
    }
    acme->acct_key = key;
    acme->acct_url = (*pacct)->url;
    return APR_SUCCESS;
}

static apr_status_t acct_save(md_store_t *store, const md_acme_acct_t *acct, md_result_t *result,
                              apr_pool_t *p)
{
    apr_status_t rv = md_store_save_json(store, MD_SG_ACCOUNTS, acct->id, MD_FN_ACCOUNT,
                                         acct_to_json(acct, p), p);

    if (rv != APR_SUCCESS) md_result_set(result, rv, "saving the account %s", acct->id);
    return rv;
}

apr_status_t md_acme_acct_update_contacts(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                          const apr_array_header_t *contacts, md_result_t *result,
                                          apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    md_acme_resp_t *resp;
    apr_status_t rv;

    md_json_setsa(contacts, j, MD_KEY_CONTACT, NULL);
    rv = md_acme_post(&resp, acme, acct->url, md_json_dump(j, MD_JSON_COMPACT, p), 0, result, p);
    if (rv != APR_SUCCESS) return rv;
    acct->contacts = md_array_str_copy(p, contacts);
    if (resp->json) acct->registration = resp->json;
    return acct_save(store, acct, result, p);
}

apr_status_t md_acme_acct_deactivate(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                     md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    md_acme_resp_t *resp;
    apr_status_t rv;

    md_json_sets("deactivated", j, MD_KEY_STATUS, NULL);
    rv = md_acme_post(&resp, acme, acct->url, md_json_dump(j, MD_JSON_COMPACT, p), 0, result, p);
    if (rv != APR_SUCCESS) return rv;
    acct->status = "deactivated";
    return acct_save(store, acct, result, p);
}

/* The keyChange payload: a JWS by the new key over {account, oldKey}, url keyChange. */
static apr_status_t key_change_payload(const char **ppayload, md_acme_t *acme,
                                       const md_pkey_t *new_key, apr_pool_t *p)
{
    md_json_t *inner = md_json_create(p), *old_jwk, *jws;
    apr_status_t rv;

    rv = md_jwk_get(&old_jwk, acme->acct_key, p);
    if (rv != APR_SUCCESS) return rv;
    md_json_sets(acme->acct_url, inner, MD_KEY_ACCOUNT, NULL);
    md_json_setj(old_jwk, inner, MD_KEY_OLD_KEY, NULL);
    rv = md_jws_sign(&jws, md_json_dump(inner, MD_JSON_COMPACT, p), new_key, NULL, NULL,
                     acme->key_change, p);
    if (rv == APR_SUCCESS) *ppayload = md_json_dump(jws, MD_JSON_COMPACT, p);
    return rv;
}

apr_status_t md_acme_acct_key_change(md_acme_t *acme, md_acme_acct_t *acct, md_store_t *store,
                                     const md_pkey_spec_t *spec, md_result_t *result,
                                     apr_pool_t *p)
{
    md_acme_resp_t *resp;
    const char *payload;
    md_pkey_t *new_key;
    apr_status_t rv;

    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    if (!acme->key_change) {
        md_result_set(result, APR_ENOTIMPL, "the CA at %s has no keyChange resource", acme->url);
        return APR_ENOTIMPL;
    }
    /* 1. the new key, and the old key's word for it */
    rv = md_pkey_gen(&new_key, spec, p);
    if (rv == APR_SUCCESS) rv = key_change_payload(&payload, acme, new_key, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "making the new account key and the keyChange request");
        return rv;
    }
    /* 2. the CA switches the account over */
    rv = md_acme_post(&resp, acme, acme->key_change, payload, 0, result, p);
    if (rv != APR_SUCCESS) return rv;
    /* 3. from now on only the new key works: keep it */
    acme->acct_key = new_key;
    rv = md_store_save_pkey(store, MD_SG_ACCOUNTS, acct->id, MD_FN_ACCT_KEY, new_key, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "the CA took the new key of %s, but saving it failed", acct->id);
    }
    return rv;
}
