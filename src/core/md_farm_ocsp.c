/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP responses shared by the farm (md_farm.h): one node fetches a certificate's response
 * under the certificate's farm lock and publishes it; the others take it from etcd, so the
 * responder sees one request per certificate and refresh, whatever the number of nodes.
 * Stapling never waits for etcd: a node whose engine does not answer fetches alone. */
#include <string.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_json_keys.h"
#include "md_util.h"

static const char *ocsp_key(md_farm_t *farm, const char *hexid, apr_pool_t *p)
{
    return md_farm_key(farm, "ocsp", hexid, p);
}

static const char *lock_name(const char *hexid, apr_pool_t *p)
{
    return apr_pstrcat(p, "ocsp/", hexid, NULL);   /* P locks/ocsp/<id> */
}

apr_status_t md_farm_ocsp_get(md_farm_ocsp_t **pshared, md_farm_t *farm, const char *hexid,
                              apr_pool_t *p)
{
    md_farm_ocsp_t *shared;
    md_etcd_kv_t *kv;
    md_json_t *json;
    apr_status_t rv;

    *pshared = NULL;
    rv = md_etcd_get(&kv, md_farm_etcd(farm), ocsp_key(farm, hexid, p), p);
    if (rv != APR_SUCCESS) return rv;
    /* a value we cannot read is as good as none: the node fetches and overwrites it */
    if (md_json_parse(&json, kv->value, kv->value_len, p) != APR_SUCCESS) return APR_ENOENT;
    shared = apr_pcalloc(p, sizeof(*shared));
    if (md_ocsp_resp_from_json(&shared->resp, json, p) != APR_SUCCESS) return APR_ENOENT;
    shared->fetched_at = md_time_parse(md_json_gets(json, MD_KEY_FETCHED_AT, NULL));
    shared->fetched_by = md_json_gets(json, MD_KEY_FETCHED_BY, NULL);
    *pshared = shared;
    return APR_SUCCESS;
}

/* A response goes to the farm under the certificate's lock (fenced). */
static apr_status_t ocsp_publish(md_farm_lock_t *lock, md_farm_t *farm, const char *hexid,
                                 const md_farm_ocsp_t *shared, apr_pool_t *p)
{
    md_json_t *json = md_ocsp_resp_to_json(shared->resp, p);
    md_etcd_txn_t *txn = md_etcd_txn_make(p);
    const char *text;

    md_json_sets(md_time_print(shared->fetched_at, p), json, MD_KEY_FETCHED_AT, NULL);
    if (shared->fetched_by) md_json_sets(shared->fetched_by, json, MD_KEY_FETCHED_BY, NULL);
    text = md_json_dump(json, MD_JSON_COMPACT, p);
    md_etcd_txn_put(txn, ocsp_key(farm, hexid, p), text, strlen(text), 0);
    return md_farm_commit_fenced(lock, farm, txn, p);
}

int md_farm_ocsp_usable(const md_farm_ocsp_t *shared, const md_ocsp_resp_t *own,
                        const md_timeslice_t *window, apr_time_t now)
{
    if (!shared || !md_ocsp_servable(shared->resp, now)) return 0;
    /* the same as ours, or older: ours is due, so is that one */
    if (own && shared->resp->valid_from <= own->valid_from) return 0;
    /* a response the farm should replace itself is not worth taking */
    return md_ocsp_renew_at(window, shared->resp, shared->fetched_at, now) > now;
}

/* The farm's response, when usable and signed for our certificate by its issuer (etcd is
 * shared by many: what it holds is checked as a responder's answer is). */
static md_ocsp_resp_t *farm_usable(const md_farm_ocsp_t **pshared, const md_farm_ocsp_req_t *req,
                                   apr_status_t *prv, apr_pool_t *p)
{
    md_farm_ocsp_t *shared;
    md_ocsp_req_t *check;
    md_ocsp_resp_t *resp;
    apr_time_t now = apr_time_now();

    *pshared = NULL;
    *prv = md_farm_ocsp_get(&shared, req->farm, req->hexid, p);
    if (*prv != APR_SUCCESS || !md_farm_ocsp_usable(shared, req->own, req->window, now)) return NULL;
    if (md_ocsp_req_for_check(&check, req->cert, req->issuer, p) != APR_SUCCESS
        || md_ocsp_resp_check(&resp, check, shared->resp->der, shared->resp->der_len, now,
                              md_result_make(p), p) != APR_SUCCESS) {
        /* not ours, or damaged: fetched again and overwritten by this node */
        return NULL;
    }
    *pshared = shared;
    return resp;
}

/* Fetched under the lock: published for the others, fenced by the lock. */
static apr_status_t fetch_and_publish(md_ocsp_resp_t **presp, md_farm_ocsp_outcome_t *out,
                                      md_farm_lock_t *lock, const md_farm_ocsp_req_t *req,
                                      md_result_t *result, apr_pool_t *p)
{
    md_farm_ocsp_t shared;
    apr_status_t rv;

    out->how = MD_FARM_OCSP_FETCHED;
    rv = req->fetch(presp, req->baton, result, p);
    if (rv != APR_SUCCESS) return rv;
    shared.resp = *presp;
    shared.fetched_at = apr_time_now();
    shared.fetched_by = out->by;
    out->published = ocsp_publish(lock, req->farm, req->hexid, &shared, p);
    return APR_SUCCESS;
}

apr_status_t md_farm_ocsp_obtain(md_ocsp_resp_t **presp, md_farm_ocsp_outcome_t *out,
                                 const md_farm_ocsp_req_t *req, md_result_t *result, apr_pool_t *p)
{
    const md_farm_ocsp_t *shared;
    md_farm_lock_t *lock = NULL;
    apr_status_t rv;

    *presp = NULL;
    memset(out, 0, sizeof(*out));
    out->by = md_farm_config(req->farm)->node;
    /* 1. the farm's response, when another node fetched a fresh one */
    *presp = farm_usable(&shared, req, &rv, p);
    if (*presp) goto taken;
    if (rv != APR_SUCCESS && rv != APR_ENOENT) goto alone;
    /* 2. the certificate's lock, tried once: held by another, that one fetches */
    rv = md_farm_lock_try(&lock, &out->by, req->farm, lock_name(req->hexid, p), p);
    if (rv == APR_EBUSY) {
        out->how = MD_FARM_OCSP_BUSY;
        return APR_SUCCESS;
    }
    out->by = md_farm_config(req->farm)->node;
    if (rv != APR_SUCCESS) goto alone;
    /* 3. held: a node that held it just before may have published meanwhile */
    *presp = farm_usable(&shared, req, &rv, p);
    if (*presp) {
        md_farm_unlock(lock);
        goto taken;
    }
    /* 4. fetch, publish, let go */
    rv = fetch_and_publish(presp, out, lock, req, result, p);
    md_farm_unlock(lock);
    return rv;
taken:
    out->how = MD_FARM_OCSP_TAKEN;
    out->by = shared->fetched_by ? shared->fetched_by : "another node";
    return APR_SUCCESS;
alone:
    out->how = MD_FARM_OCSP_ALONE;
    out->engine = rv;
    return req->fetch(presp, req->baton, result, p);
}
