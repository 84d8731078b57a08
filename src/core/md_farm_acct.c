/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME accounts shared by the farm (md_farm.h): the first node that needs an account at
 * a CA registers it under the CA's farm lock and publishes it, its key sealed with the
 * farm key; the others take that one instead of registering their own. The EAB HMAC is
 * never part of it (account.json holds the key id only, see md_acme_acct.c). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md_farm.h"
#include "md_log.h"
#include "md_util.h"

#define ACCT_LOOK_AGAIN apr_time_from_msec(1000)

typedef struct {
    md_farm_t *farm;
    apr_interval_time_t wait;
    md_farm_lock_t *lock;            /* held between acquire and release */
    const char *ca_key;
    const char *ca_url;
} acct_share_t;

const char *md_farm_acct_ca_key(const char *ca_url, const char *eab_kid, apr_pool_t *p)
{
    const char *what = apr_pstrcat(p, ca_url, "\n", eab_kid ? eab_kid : "", NULL);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!EVP_Digest(what, strlen(what), md, &len, EVP_sha256(), NULL)) return NULL;
    return md_hex_encode(md, len, p);
}

static const char *acct_file_key(md_farm_t *farm, const char *ca_key, const char *file, apr_pool_t *p)
{
    return md_farm_key(farm, "accounts", apr_pstrcat(p, ca_key, "/", file, NULL), p);
}

/* What the sealed key is: a key sealed for one CA's account is no other's. */
static const char *acct_aad(const char *ca_key, apr_pool_t *p)
{
    return apr_pstrcat(p, "accounts/", ca_key, "/", MD_FN_ACCT_KEY, NULL);
}

apr_status_t md_farm_acct_get(const char **pjson, md_pkey_t **pkey, md_farm_t *farm, const char *ca_key,
                              apr_pool_t *p)
{
    md_etcd_kv_t *json, *sealed;
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    *pjson = NULL;
    *pkey = NULL;
    rv = md_etcd_get(&json, md_farm_etcd(farm), acct_file_key(farm, ca_key, MD_FN_ACCOUNT, p), p);
    if (rv == APR_SUCCESS) {
        rv = md_etcd_get(&sealed, md_farm_etcd(farm), acct_file_key(farm, ca_key, MD_FN_ACCT_KEY, p), p);
    }
    if (rv != APR_SUCCESS) return rv;
    rv = md_farm_open(&pem, &len, md_farm_config(farm)->key, acct_aad(ca_key, p), sealed->value,
                      sealed->value_len, p);
    if (rv == APR_SUCCESS) rv = md_pkey_from_pem(pkey, pem, len, NULL, 0, p);
    if (rv != APR_SUCCESS) return APR_EACCES;
    *pjson = json->value;
    return APR_SUCCESS;
}

apr_status_t md_farm_acct_publish(md_farm_lock_t *lock, md_farm_t *farm, const char *ca_key,
                                  const char *json, const md_pkey_t *key, apr_pool_t *p)
{
    md_etcd_txn_t *txn = md_etcd_txn_make(p);
    const char *pem, *sealed;
    apr_size_t len;
    apr_status_t rv;

    if (strstr(json, "PRIVATE KEY")) return APR_EINVAL;     /* never a key in clear */
    rv = md_pkey_to_pem(&pem, key, NULL, 0, p);
    if (rv == APR_SUCCESS) {
        rv = md_farm_seal(&sealed, &len, md_farm_config(farm)->key, acct_aad(ca_key, p), pem, strlen(pem), p);
    }
    if (rv != APR_SUCCESS) return rv;
    md_etcd_txn_put(txn, acct_file_key(farm, ca_key, MD_FN_ACCOUNT, p), json, strlen(json), 0);
    md_etcd_txn_put(txn, acct_file_key(farm, ca_key, MD_FN_ACCT_KEY, p), sealed, len, 0);
    return md_farm_commit_fenced(lock, farm, txn, p);
}

/* One message for what became of the farm's account at a CA. */
static void acct_log(md_log_level_t level, apr_status_t rv, const char *ca_url, const char *what,
                     apr_pool_t *p)
{
    md_log_perror(MD_LOG_MARK, level, rv, p, "MD1780: the account at %s: %s", ca_url, what);
}

/* The farm's account, or the CA's lock: a busy lock is a node registering now, whose
 * account is looked for again each second, up to the share's wait. */
static apr_status_t share_acquire(const char **pjson, md_pkey_t **pkey, md_acme_acct_share_t *share,
                                  const char *ca_url, const char *eab_kid, apr_pool_t *p)
{
    acct_share_t *sh = share->baton;
    apr_time_t give_up = apr_time_now() + sh->wait;
    const char *holder;
    apr_status_t rv;

    sh->lock = NULL;
    sh->ca_url = apr_pstrdup(p, ca_url);
    sh->ca_key = md_farm_acct_ca_key(ca_url, eab_kid, p);
    if (!sh->ca_key) return APR_EGENERAL;
    for (;;) {
        /* 1. the account the farm has */
        rv = md_farm_acct_get(pjson, pkey, sh->farm, sh->ca_key, p);
        if (rv != APR_ENOENT) break;
        /* 2. none: the right to register it; held, look once more (its last holder may
         *    have published just now) */
        rv = md_farm_lock_try(&sh->lock, &holder, sh->farm, apr_pstrcat(p, "account/", sh->ca_key, NULL), p);
        if (rv == APR_SUCCESS) {
            rv = md_farm_acct_get(pjson, pkey, sh->farm, sh->ca_key, p);
            if (rv != APR_ENOENT) {
                md_farm_unlock(sh->lock);
                sh->lock = NULL;
            }
            break;
        }
        /* 3. another node registers: its account soon, or give up waiting */
        if (rv != APR_EBUSY || apr_time_now() >= give_up) break;
        apr_sleep(ACCT_LOOK_AGAIN);
    }
    if (rv == APR_SUCCESS) acct_log(MD_LOG_NOTICE, 0, ca_url, "the farm's is used", p);
    else if (rv != APR_ENOENT) {
        acct_log(MD_LOG_WARNING, rv, ca_url, apr_pstrcat(p, "the farm's cannot be had (",
                 rv == APR_EBUSY ? "another node is still registering it"
                 : rv == APR_EACCES ? "its key does not open: is the farm key the same everywhere?"
                 : md_etcd_error(md_farm_etcd(sh->farm)), "); this node registers one alone", NULL), p);
    }
    return rv;
}

/* The account registered under the lock goes to the farm; the lock goes in any case. */
static void share_release(md_acme_acct_share_t *share, const char *json, const md_pkey_t *key,
                          apr_pool_t *p)
{
    acct_share_t *sh = share->baton;
    apr_status_t rv;

    if (!sh->lock) return;
    if (json && key) {
        rv = md_farm_acct_publish(sh->lock, sh->farm, sh->ca_key, json, key, p);
        acct_log(rv == APR_SUCCESS ? MD_LOG_NOTICE : MD_LOG_WARNING, rv, sh->ca_url, rv == APR_SUCCESS
                 ? "a new one, published to the farm" : "a new one, which could not be published to "
                 "the farm: other nodes may register their own", p);
    }
    md_farm_unlock(sh->lock);
    sh->lock = NULL;
}

apr_status_t md_farm_acct_share(md_acme_acct_share_t **pshare, md_farm_t *farm, apr_interval_time_t wait,
                                apr_pool_t *p)
{
    md_acme_acct_share_t *share = apr_pcalloc(p, sizeof(*share));
    acct_share_t *sh = apr_pcalloc(p, sizeof(*sh));

    sh->farm = farm;
    sh->wait = wait;
    share->acquire = share_acquire;
    share->release = share_release;
    share->baton = sh;
    *pshare = share;
    return APR_SUCCESS;
}
