/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Orders in progress in the farm (md_farm.h): the holder of an MD's lock keeps the order
 * it works on in etcd, so that the node taking the lock over after the holder died goes
 * on with that order instead of making another one at the CA. An order is useless
 * without the account it belongs to (the CA accepts answers and a finalize only from
 * it), so the account goes along; keys are sealed as in published sets. Keys under P:
 *   orders/<md>/node              the node that put it
 *   orders/<md>/files             the staged files, one a line (order.json first)
 *   orders/<md>/f/<file>          a staged file; keys sealed
 *   orders/<md>/account/id        the account's folder name on that node
 *   orders/<md>/account/json      its account.json
 *   orders/<md>/account/key       its account.pem, sealed */
#include <string.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_acme_acct.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define ORDERS "orders"

typedef struct {
    md_farm_t *farm;
    md_store_t *store;
    const char *name;
    const char *base;                 /* P orders/<md>/ */
    md_etcd_txn_t *txn;
    apr_hash_t *put;                  /* keys put, so that the others are deleted */
} order_ctx_t;

static int is_key(const char *file)
{
    return !strncmp(file, MD_FN_PRIVKEY, strlen(MD_FN_PRIVKEY)) || !strcmp(file, MD_FN_ACCT_KEY);
}

/* What a sealed key is: another MD's order key, or a set's, does not open as this one. */
static const char *order_aad(const char *name, const char *what, apr_pool_t *p)
{
    return apr_pstrcat(p, name, "/" ORDERS "/", what, NULL);
}

static void order_put_value(order_ctx_t *oc, const char *rel, const char *val, apr_size_t len,
                            apr_pool_t *p)
{
    const char *key = apr_pstrcat(p, oc->base, rel, NULL);

    md_etcd_txn_put(oc->txn, key, val, len, 0);
    apr_hash_set(oc->put, key, APR_HASH_KEY_STRING, key);
}

static apr_status_t seal_key(const char **pval, apr_size_t *plen, order_ctx_t *oc, md_pkey_t *pkey,
                             const char *what, apr_pool_t *p)
{
    const char *pem;
    apr_status_t rv = md_pkey_to_pem(&pem, pkey, NULL, 0, p);

    if (rv != APR_SUCCESS) return rv;
    return md_farm_seal(pval, plen, md_farm_secret(oc->farm), order_aad(oc->name, what, p), pem,
                        strlen(pem), p);
}

/* One staged file into the transaction: keys sealed, the rest as text without a key. */
static apr_status_t order_put_file(order_ctx_t *oc, const char *file, apr_pool_t *p)
{
    md_pkey_t *pkey;
    const char *val;
    apr_size_t len;
    apr_status_t rv;

    if (is_key(file)) {
        rv = md_store_load_pkey(&pkey, oc->store, MD_SG_STAGING, oc->name, file, p);
        if (rv == APR_SUCCESS) rv = seal_key(&val, &len, oc, pkey, file, p);
    }
    else {
        rv = md_store_load_text(&val, oc->store, MD_SG_STAGING, oc->name, file, p);
        if (rv == APR_SUCCESS && strstr(val, "PRIVATE KEY")) rv = APR_EINVAL;
        len = val ? strlen(val) : 0;
    }
    if (rv == APR_SUCCESS) order_put_value(oc, apr_pstrcat(p, "f/", file, NULL), val, len, p);
    return rv;
}

/* The account the order belongs to: its record and its key, sealed. */
static apr_status_t order_put_account(order_ctx_t *oc, const char *url, apr_pool_t *p)
{
    const char *id = md_acme_acct_id_for_url(oc->store, url, p), *json, *val;
    md_pkey_t *pkey;
    apr_size_t len;
    apr_status_t rv;

    /* not APR_ENOENT, which says "no order": an order without its account is of no use */
    if (!id) return APR_EINVAL;
    rv = md_store_load_text(&json, oc->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p);
    if (rv == APR_SUCCESS) rv = md_store_load_pkey(&pkey, oc->store, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, p);
    if (rv == APR_SUCCESS) rv = seal_key(&val, &len, oc, pkey, "account", p);
    if (rv != APR_SUCCESS) return rv;
    order_put_value(oc, "account/id", id, strlen(id), p);
    order_put_value(oc, "account/json", json, strlen(json), p);
    order_put_value(oc, "account/key", val, len, p);
    return APR_SUCCESS;
}

/* What was under orders/<md>/ and is not put again goes (an earlier spec's files). */
static apr_status_t order_delete_rest(order_ctx_t *oc, apr_pool_t *p)
{
    apr_array_header_t *kvs;
    md_etcd_kv_t *kv;
    apr_status_t rv;
    int i;

    rv = md_etcd_get_prefix(&kvs, NULL, md_farm_etcd(oc->farm), oc->base, 1, p);
    for (i = 0; rv == APR_SUCCESS && i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, md_etcd_kv_t *);
        if (!apr_hash_get(oc->put, kv->key, APR_HASH_KEY_STRING)) md_etcd_txn_delete(oc->txn, kv->key);
    }
    return rv;
}

apr_status_t md_farm_order_put(md_farm_lock_t *lock, md_farm_t *farm, md_store_t *store,
                               const char *name, const apr_array_header_t *files, apr_pool_t *p)
{
    apr_array_header_t *put = apr_array_make(p, 8, sizeof(const char *));
    const char *file, *list, *node = md_farm_node(farm);
    order_ctx_t oc;
    md_json_t *order;
    int i, ok;
    apr_status_t rv;

    if (md_farm_lock_lost(lock)) return MD_FARM_EFENCED;
    rv = md_store_load_json(&order, store, MD_SG_STAGING, name, MD_FN_ORDER, p);
    if (rv != APR_SUCCESS) return APR_ENOENT;
    memset(&oc, 0, sizeof(oc));
    oc.farm = farm;
    oc.store = store;
    oc.name = name;
    oc.base = md_farm_key(farm, ORDERS, apr_pstrcat(p, name, "/", NULL), p);
    oc.txn = md_etcd_txn_make(p);
    oc.put = apr_hash_make(p);
    md_farm_lock_fence(oc.txn, lock);
    /* 1. the order, the account it belongs to, the files staged so far */
    APR_ARRAY_PUSH(put, const char *) = MD_FN_ORDER;
    rv = order_put_file(&oc, MD_FN_ORDER, p);
    if (rv == APR_SUCCESS) rv = order_put_account(&oc, md_json_gets(order, MD_KEY_ACCOUNT, NULL), p);
    for (i = 0; rv == APR_SUCCESS && files && i < files->nelts; ++i) {
        file = APR_ARRAY_IDX(files, i, const char *);
        if (!strcmp(file, MD_FN_ORDER)
            || md_store_exists(store, MD_SG_STAGING, name, file, p) != APR_SUCCESS) continue;
        rv = order_put_file(&oc, file, p);
        APR_ARRAY_PUSH(put, const char *) = file;
    }
    if (rv != APR_SUCCESS) return rv;
    list = md_array_str_join(put, "\n", p);
    order_put_value(&oc, "files", list, strlen(list), p);
    order_put_value(&oc, "node", node, strlen(node), p);
    /* 2. replacing the order put before, only while the lock is ours */
    rv = order_delete_rest(&oc, p);
    if (rv == APR_SUCCESS) rv = md_etcd_txn_commit(&ok, md_farm_etcd(farm), oc.txn, p);
    if (rv != APR_SUCCESS) return rv;
    return ok ? APR_SUCCESS : MD_FARM_EFENCED;
}

/* ---- taking an order over ---------------------------------------------------------- */

static const md_etcd_kv_t *kv_at(apr_hash_t *kvs, const char *rel)
{
    return apr_hash_get(kvs, rel, APR_HASH_KEY_STRING);
}

static apr_status_t open_key(md_pkey_t **ppkey, md_farm_t *farm, const char *name, const char *what,
                             const md_etcd_kv_t *kv, apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    if (!kv) return APR_ENOENT;
    rv = md_farm_open(&pem, &len, md_farm_secret(farm), order_aad(name, what, p), kv->value,
                      kv->value_len, p);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "MD1784: %s: the key %s of the order in the "
                      "farm cannot be opened: is the farm key the same on every node?", name, what);
        return rv;
    }
    return md_pkey_from_pem(ppkey, pem, len, NULL, 0, p);
}

/* A folder in accounts/ for a taken account: its id on the other node, unless this
 * store has another account of that name (ids are numbered per node). */
static const char *account_free_id(md_store_t *store, const char *id, apr_pool_t *p)
{
    const char *try = id;
    int n;

    for (n = 1; n < 100; ++n) {
        if (md_store_exists(store, MD_SG_ACCOUNTS, try, MD_FN_ACCOUNT, p) != APR_SUCCESS) return try;
        try = apr_psprintf(p, "%s-farm%d", id, n);
    }
    return NULL;
}

/* The order's account into accounts/, unless this node has it already. */
static apr_status_t take_account(md_farm_t *farm, md_store_t *store, const char *name, apr_hash_t *kvs,
                                 const char *url, apr_pool_t *p)
{
    const md_etcd_kv_t *id = kv_at(kvs, "account/id"), *json = kv_at(kvs, "account/json");
    const char *local;
    md_pkey_t *pkey;
    apr_status_t rv;

    if (md_acme_acct_id_for_url(store, url, p)) return APR_SUCCESS;
    if (!id || !json) return APR_ENOENT;
    local = account_free_id(store, id->value, p);
    if (!local) return APR_EEXIST;
    rv = open_key(&pkey, farm, name, "account", kv_at(kvs, "account/key"), p);
    /* the key first: a record without its key would be taken for a damaged account */
    if (rv == APR_SUCCESS) rv = md_store_save_pkey(store, MD_SG_ACCOUNTS, local, MD_FN_ACCT_KEY, pkey, p);
    if (rv == APR_SUCCESS) rv = md_store_save_text(store, MD_SG_ACCOUNTS, local, MD_FN_ACCOUNT,
                                                   json->value, p);
    return rv;
}

static apr_status_t take_file(md_farm_t *farm, md_store_t *store, const char *name, apr_hash_t *kvs,
                              const char *file, apr_pool_t *p)
{
    const md_etcd_kv_t *kv = kv_at(kvs, apr_pstrcat(p, "f/", file, NULL));
    md_pkey_t *pkey;
    apr_status_t rv;

    if (!kv) return APR_ENOENT;
    if (!is_key(file)) return md_store_save_text(store, MD_SG_STAGING, name, file, kv->value, p);
    rv = open_key(&pkey, farm, name, file, kv, p);
    if (rv == APR_SUCCESS) rv = md_store_save_pkey(store, MD_SG_STAGING, name, file, pkey, p);
    return rv;
}

apr_status_t md_farm_order_take(const char **pnode, md_farm_t *farm, md_store_t *store,
                                const char *name, apr_pool_t *p)
{
    const char *base = md_farm_key(farm, ORDERS, apr_pstrcat(p, name, "/", NULL), p), *url;
    char *names, *tok, *last;
    apr_array_header_t *list;
    apr_hash_t *kvs = apr_hash_make(p);
    const md_etcd_kv_t *kv;
    md_json_t *order;
    apr_status_t rv;
    int i;

    *pnode = NULL;
    /* 1. the whole order as of one revision */
    rv = md_etcd_get_prefix(&list, NULL, md_farm_etcd(farm), base, 0, p);
    if (rv != APR_SUCCESS) return rv;
    for (i = 0; i < list->nelts; ++i) {
        kv = APR_ARRAY_IDX(list, i, md_etcd_kv_t *);
        apr_hash_set(kvs, kv->key + strlen(base), APR_HASH_KEY_STRING, kv);
    }
    kv = kv_at(kvs, "f/" MD_FN_ORDER);
    if (!kv || !kv_at(kvs, "files")
        || md_json_parse(&order, kv->value, kv->value_len, p) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    *pnode = kv_at(kvs, "node") ? kv_at(kvs, "node")->value : "?";
    url = md_json_gets(order, MD_KEY_ACCOUNT, NULL);
    /* 2. its account, then the staged files; order.json last: it makes the driver go on */
    rv = take_account(farm, store, name, kvs, url, p);
    if (rv != APR_SUCCESS) return rv;
    names = apr_pstrdup(p, kv_at(kvs, "files")->value);
    for (tok = apr_strtok(names, "\n", &last); rv == APR_SUCCESS && tok; tok = apr_strtok(NULL, "\n", &last)) {
        /* only keys and certificates, and never a path out of staging/<name> */
        if ((is_key(tok) || !strncmp(tok, MD_FN_PUBCERT, strlen(MD_FN_PUBCERT))) && !strchr(tok, '/')) {
            rv = take_file(farm, store, name, kvs, tok, p);
        }
    }
    if (rv == APR_SUCCESS) rv = take_file(farm, store, name, kvs, MD_FN_ORDER, p);
    return rv;
}

apr_status_t md_farm_order_drop(md_farm_lock_t *lock, md_farm_t *farm, const char *name, apr_pool_t *p)
{
    md_etcd_txn_t *txn = md_etcd_txn_make(p);
    int ok;
    apr_status_t rv;

    if (md_farm_lock_lost(lock)) return MD_FARM_EFENCED;
    md_farm_lock_fence(txn, lock);
    md_etcd_txn_delete_prefix(txn, md_farm_key(farm, ORDERS, apr_pstrcat(p, name, "/", NULL), p));
    rv = md_etcd_txn_commit(&ok, md_farm_etcd(farm), txn, p);
    if (rv != APR_SUCCESS) return rv;
    return ok ? APR_SUCCESS : MD_FARM_EFENCED;
}
