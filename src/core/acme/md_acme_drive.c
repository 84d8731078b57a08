/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The ACME work of one renewal: account, order, authorizations, finalize, and the new
 * certificates staged with their keys. When to renew is decided in md_renew.c. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "md_acme_drive.h"
#include "md_acme_acct.h"
#include "md_acme_ari.h"
#include "md_acme_order.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_renew.h"
#include "md_stats.h"
#include "md_util.h"

#define MD_ORDER_TIMEOUT apr_time_from_sec(300)

/* ---- one certificate ------------------------------------------------------------ */

typedef struct {
    md_acme_drive_ctx_t *ctx;
    md_acme_t *acme;
    const md_pkey_spec_t *spec;
    int spec_index;
} md_acme_drive_spec_t;

static apr_status_t authorize_all(md_acme_drive_spec_t *rs, md_acme_order_t *order, int resumed,
                                  apr_pool_t *p)
{
    md_acme_authz_ctx_t actx;
    apr_status_t rv;
    int i;

    memset(&actx, 0, sizeof(actx));
    actx.store = rs->ctx->store;
    actx.md = rs->ctx->md;
    actx.challenge_types = rs->ctx->challenge_types;
    actx.on_event = rs->ctx->on_event;
    actx.event_baton = rs->ctx->event_baton;
    actx.dns01_version = rs->ctx->dns01_version > 0 ? rs->ctx->dns01_version : 1;
    actx.dns01_timeout = rs->ctx->dns01_timeout;
    actx.dns01_wait = rs->ctx->dns01_wait;
    actx.setups = apr_array_make(p, 5, sizeof(md_chall_ctx_t *));
    actx.resumed = resumed;
    rv = md_acme_authz_answer_all(rs->acme, order->authz_urls, &actx, rs->ctx->result, p);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < actx.setups->nelts; ++i) md_stats_inc(MD_STAT_CHALLENGES);
    }
    MD_FAULT("authz-validated");         /* the crash tests: validated, not torn down */
    /* challenge data lives only as long as the order needs it */
    md_acme_authz_teardown(&actx);
    return rv;
}

static apr_status_t finalize_and_stage(md_acme_drive_spec_t *rs, md_acme_order_t *order, apr_pool_t *p)
{
    md_acme_drive_ctx_t *ctx = rs->ctx;
    const unsigned char *csr;
    apr_array_header_t *chain;
    apr_size_t csr_len;
    const char *why;
    md_pkey_t *key;
    apr_status_t rv;

    /* 1. a new key for the certificate, and the request for it */
    md_result_activity(ctx->result, "finalizing the order for %s (%s key)", ctx->md->name,
                       md_pkey_spec_name(rs->spec));
    rv = md_pkey_gen(&key, rs->spec, p);
    if (rv == APR_SUCCESS) rv = md_csr_create(&csr, &csr_len, ctx->md->domains,
                                              ctx->md->must_staple, key, p);
    if (rv != APR_SUCCESS) {
        md_result_set(ctx->result, rv, "creating the %s key and CSR", md_pkey_spec_name(rs->spec));
        return rv;
    }
    /* 2. finalize, and wait for the CA to issue */
    rv = md_acme_order_finalize(order, rs->acme, csr, csr_len, ctx->result, p);
    if (rv == APR_SUCCESS) rv = md_acme_order_await(order, rs->acme, "valid", MD_ORDER_TIMEOUT,
                                                    ctx->result, p);
    if (rv == APR_SUCCESS) rv = md_acme_order_cert(&chain, order, rs->acme, ctx->md->preferred_chain,
                                                   ctx->result, p);
    if (rv != APR_SUCCESS) return rv;
    /* 3. what the CA sent is checked before it can replace anything: our key, our names,
     *    its dates against now and the served one's, the chain's signatures */
    rv = md_renew_chain_check(&why, ctx->store, ctx->md, rs->spec_index, key, chain, p);
    if (rv != APR_SUCCESS) {
        md_result_set(ctx->result, rv, "the certificate from %s %s: it is not staged",
                      order->certificate, why);
        return rv;
    }
    rv = md_store_save_pkey(ctx->store, MD_SG_STAGING, ctx->md->name,
                            md_pkey_file_name(rs->spec, MD_FN_PRIVKEY, p), key, p);
    if (rv == APR_SUCCESS) rv = md_store_save_chain(ctx->store, MD_SG_STAGING, ctx->md->name,
                                                    md_pkey_file_name(rs->spec, MD_FN_PUBCERT, p),
                                                    chain, p);
    if (rv != APR_SUCCESS) md_result_set(ctx->result, rv, "saving the new certificate in staging");
    return rv;
}

/* The ARI id of the certificate this order replaces: the one in domains/ for this key
 * spec, when ARI is on and the CA that issued it (this one) offers renewalInfo. */
static const char *replaces_id(md_acme_drive_spec_t *rs, apr_pool_t *p)
{
    md_acme_drive_ctx_t *ctx = rs->ctx;
    apr_array_header_t *chain;
    const md_served_t *served;
    md_json_t *stored;
    const char *issued_by;

    md_log_perror(MD_LOG_MARK, MD_LOG_TRACE1, 0, p, "MD3041: %s: ARI %s, renewalInfo %s",
                  ctx->md->name, ctx->md->ari_renewals ? "on" : "off",
                  rs->acme->renewal_info ? rs->acme->renewal_info : "not offered");
    if (!ctx->md->ari_renewals || !rs->acme->renewal_info) return NULL;
    if (md_store_load_json(&stored, ctx->store, MD_SG_DOMAINS, ctx->md->name, MD_FN_MD, p)
        == APR_SUCCESS) {
        issued_by = md_json_gets(stored, MD_KEY_CA, MD_KEY_URL, NULL);
        if (issued_by && strcmp(issued_by, rs->acme->url)) return NULL;  /* another CA's */
    }
    /* read by the parent at start; as root (mdctl) the store can be read directly */
    if (ctx->md->served) {
        served = rs->spec_index < ctx->md->served->nelts
                 ? APR_ARRAY_IDX(ctx->md->served, rs->spec_index, const md_served_t *) : NULL;
        return served ? served->ari_id : NULL;
    }
    if (md_store_load_chain(&chain, ctx->store, MD_SG_DOMAINS, ctx->md->name,
                            md_pkey_file_name(rs->spec, MD_FN_PUBCERT, p), p) != APR_SUCCESS
        || chain->nelts == 0) {
        return NULL;
    }
    return md_cert_ari_id(APR_ARRAY_IDX(chain, 0, md_cert_t *),
                               chain->nelts > 1 ? APR_ARRAY_IDX(chain, 1, md_cert_t *) : NULL, p);
}

static apr_status_t order_new(md_acme_order_t **porder, md_acme_drive_spec_t *rs, apr_pool_t *p)
{
    md_acme_drive_ctx_t *ctx = rs->ctx;
    md_acme_order_req_t req;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.names = ctx->md->domains;
    rv = md_acme_profile_select(&req.profile, rs->acme, ctx->md->profile,
                                ctx->md->profile_mandatory, ctx->result, p);
    if (rv != APR_SUCCESS) return rv;
    req.replaces = replaces_id(rs, p);
    rv = md_acme_order_new(porder, rs->acme, &req, ctx->result, p);
    if (rv != APR_SUCCESS && req.replaces && ctx->result->problem
        && strstr(ctx->result->problem, ":alreadyReplaced")) {
        /* another order replaced it already (ours, lost, or a second client): once more
         * as a plain order */
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, p, "MD3040: %s: the CA says the certificate "
                      "was replaced already; ordering without 'replaces'", ctx->md->name);
        req.replaces = NULL;
        rv = md_acme_order_new(porder, rs->acme, &req, ctx->result, p);
    }
    return rv;
}

/* staging/<md>/order.json: the CA's order with its URL and the account's URL added, so
 * that a later run (this server's after a restart, or another farm node's that took the
 * renewal over, md_farm_order_take) can go on with it. */
static void order_save(md_acme_drive_spec_t *rs, const md_acme_order_t *order, apr_pool_t *p)
{
    md_json_t *json = md_json_copy(order->json, p);

    md_json_sets(order->url, json, MD_KEY_URL, NULL);
    md_json_sets(rs->acme->acct_url, json, MD_KEY_ACCOUNT, NULL);
    md_store_save_json(rs->ctx->store, MD_SG_STAGING, rs->ctx->md->name, MD_FN_ORDER, json, p);
}

/* The account URL of a staged order, or NULL. */
static const char *staged_order_account(md_acme_drive_ctx_t *ctx, apr_pool_t *p)
{
    md_json_t *json;

    if (md_store_load_json(&json, ctx->store, MD_SG_STAGING, ctx->md->name, MD_FN_ORDER, p)
        != APR_SUCCESS) {
        return NULL;
    }
    return md_json_gets(json, MD_KEY_ACCOUNT, NULL);
}

/* The staged order, when it can go on: made by the account we sign as, and pending or
 * ready at the CA. One that is valid or processing was finalized with a key we do not
 * have; one invalid, expired or gone cannot go on either: then APR_ENOENT, a new order. */
static apr_status_t order_resume(md_acme_order_t **porder, md_acme_drive_spec_t *rs, apr_pool_t *p)
{
    md_acme_drive_ctx_t *ctx = rs->ctx;
    md_acme_order_t *order;
    md_json_t *json;
    const char *acct;
    apr_status_t rv;

    if (md_store_load_json(&json, ctx->store, MD_SG_STAGING, ctx->md->name, MD_FN_ORDER, p)
        != APR_SUCCESS) {
        return APR_ENOENT;
    }
    order = apr_pcalloc(p, sizeof(*order));
    order->url = md_json_gets(json, MD_KEY_URL, NULL);
    acct = md_json_gets(json, MD_KEY_ACCOUNT, NULL);
    if (!order->url || !acct || !rs->acme->acct_url || strcmp(acct, rs->acme->acct_url)) {
        return APR_ENOENT;
    }
    rv = md_acme_order_update(order, rs->acme, ctx->result, p);
    if (rv == APR_SUCCESS && order->status
        && (!strcmp(order->status, "pending") || !strcmp(order->status, "ready"))) {
        md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "MD1782: %s: going on with the order %s "
                      "(%s) made earlier", ctx->md->name, order->url, order->status);
        *porder = order;
        return APR_SUCCESS;
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, rv, p, "MD1783: %s: the order %s made earlier cannot "
                  "go on (%s); ordering anew", ctx->md->name, order->url,
                  rv == APR_SUCCESS && order->status ? order->status : "the CA did not show it");
    return APR_ENOENT;
}

static apr_status_t renew_spec(md_acme_drive_spec_t *rs, apr_pool_t *p)
{
    md_acme_drive_ctx_t *ctx = rs->ctx;
    md_acme_order_t *order;
    int resumed;
    apr_status_t rv;

    /* 1. the order for all names of the MD: the one staged earlier, or a new one */
    md_result_activity(ctx->result, "ordering a certificate for %s", ctx->md->name);
    rv = order_resume(&order, rs, p);
    resumed = (rv == APR_SUCCESS);
    if (!resumed) {
        rv = order_new(&order, rs, p);
        if (rv != APR_SUCCESS) return rv;
        md_stats_inc(MD_STAT_ORDERS);
    }
    order_save(rs, order, p);
    /* 2. every authorization answered */
    rv = authorize_all(rs, order, resumed, p);
    /* 3. the order ready for the CSR */
    if (rv == APR_SUCCESS) rv = md_acme_order_update(order, rs->acme, ctx->result, p);
    if (rv == APR_SUCCESS) rv = md_acme_order_await(order, rs->acme, "ready", MD_ORDER_TIMEOUT,
                                                    ctx->result, p);
    /* 4. key, CSR, certificate */
    if (rv == APR_SUCCESS) rv = finalize_and_stage(rs, order, p);
    md_store_remove(ctx->store, MD_SG_STAGING, ctx->md->name, MD_FN_ORDER, p);
    return rv;
}

static apr_status_t use_account(md_acme_t *acme, md_acme_drive_ctx_t *ctx, md_t *staged, apr_pool_t *p)
{
    md_acme_acct_req_t req;
    md_acme_acct_t *acct;
    const char *order_acct;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.acme = acme;
    req.store = ctx->store;
    req.contacts = ctx->md->contacts;
    req.agreement = ctx->md->ca_agreement;
    req.eab_kid = ctx->md->eab_kid;
    req.eab_hmac = ctx->md->eab_hmac;
    req.preferred_id = ctx->md->ca_account;
    /* a staged order belongs to its account: going on with it needs that one */
    order_acct = md_acme_acct_id_for_url(ctx->store, staged_order_account(ctx, p), p);
    if (order_acct) req.preferred_id = order_acct;
    req.trust = ctx->accounts_trust;
    req.share = ctx->accounts_share;
    md_result_activity(ctx->result, "finding an account at %s", acme->url);
    /* an account the CA confirmed lately, side by side with other renewals; asking the CA
     * about one or making a new one is serialized, so that renewals running together ask
     * once and share one new account instead of making one each */
    req.trusted_only = ctx->acct_lock != NULL && ctx->accounts_trust != NULL;
    rv = req.trusted_only ? md_acme_acct_use(&acct, &req, ctx->result, p) : APR_ENOENT;
    if (APR_STATUS_IS_ENOENT(rv)) {
        req.trusted_only = 0;
        if (ctx->acct_lock) apr_thread_mutex_lock(ctx->acct_lock);
        rv = md_acme_acct_use(&acct, &req, ctx->result, p);
        if (ctx->acct_lock) apr_thread_mutex_unlock(ctx->acct_lock);
    }
    if (rv == APR_SUCCESS) staged->ca_account = acct->id;
    return rv;
}

apr_status_t md_acme_drive_run(md_acme_drive_ctx_t *ctx, apr_pool_t *p)
{
    md_acme_drive_spec_t rs;
    md_t *staged = md_copy(p, ctx->md);
    apr_status_t rv;
    int i;

    /* 1. the CA and an account there */
    staged->ca_effective = ctx->md->ca_effective ? ctx->md->ca_effective
                           : APR_ARRAY_IDX(ctx->md->ca_urls, 0, const char *);
    memset(&rs, 0, sizeof(rs));
    rs.ctx = ctx;
    rv = md_acme_create(&rs.acme, staged->ca_effective, ctx->http, p);
    if (rv == APR_SUCCESS) {
        rs.acme->wait = ctx->wait;
        rs.acme->wait_baton = ctx->wait_baton;
    }
    if (rv == APR_SUCCESS) rv = use_account(rs.acme, ctx, staged, p);
    /* 2. one certificate per key spec that has none staged yet. A staged set renewed in
     *    place stays complete meanwhile: a child starting (MDActivation live) serves it
     *    until the new one is there; each key and its certificate are written together
     *    once the CA issued */
    for (i = 0; rv == APR_SUCCESS && i < md_pkey_spec_count(ctx->md); ++i) {
        rs.spec = md_pkey_spec_at(ctx->md, i);
        rs.spec_index = i;
        if (!ctx->replace_staged && md_renew_spec_staged(ctx->store, ctx->md, i, p)) continue;
        rv = renew_spec(&rs, p);
    }
    /* 3. the MD as it was renewed, which also marks the set as complete */
    if (rv == APR_SUCCESS) {
        rv = md_store_save_json(ctx->store, MD_SG_STAGING, ctx->md->name, MD_FN_MD,
                                md_to_json(staged, p), p);
        if (rv != APR_SUCCESS) md_result_set(ctx->result, rv, "saving the staged md.json");
    }
    if (rv == APR_SUCCESS) {
        md_result_set(ctx->result, APR_SUCCESS, "certificate(s) for %s staged; they go live at "
                      "the next graceful restart", ctx->md->name);
    }
    return rv;
}
