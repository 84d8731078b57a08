/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME authorizations (RFC 8555 7.5): for each identifier of an order, choose a
 * challenge we can answer, put the answer in place, ask the CA to validate, and wait. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "md_acme_order.h"
#include "md_jws.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define MD_AUTHZ_TIMEOUT apr_time_from_sec(300)
#define MD_DNS01 "dns-01"

/* An authorization whose answer is set up and that the CA still has to validate. */
typedef struct {
    const char *url;            /* the authorization */
    const char *chall_url;      /* the chosen challenge */
    const char *name;
    int asked;                  /* the CA was told to look already (a resumed order) */
} md_authz_pending_t;

static int authz_is_wildcard(const md_json_t *authz)
{
    return md_json_getb(authz, MD_KEY_WILDCARD, NULL);
}

/* May this type answer this authorization here? Sets *why when not. */
static int type_usable(const char *type, const md_json_t *authz, const md_acme_authz_ctx_t *ctx,
                       const char **why)
{
    if (!md_chall_find(type)) {
        *why = "not implemented";
        return 0;
    }
    if (authz_is_wildcard(authz) && strcmp(type, MD_DNS01)) {
        *why = "wildcard names can only be validated with dns-01";
        return 0;
    }
    if (!strcmp(type, MD_DNS01) && (!ctx->md || !ctx->md->dns01_cmd)) {
        *why = "MDChallengeDns01 (the program that sets the TXT record) is not configured";
        return 0;
    }
    if (md_array_str_index(ctx->challenge_types, type, 0) < 0) {
        *why = !strcmp(type, "http-01")
               ? "this server cannot answer it (port 80 not reachable, see MDPortMap, or not "
                 "in MDCAChallenges)"
               : !strcmp(type, "tls-alpn-01")
               ? "this server cannot answer it (port 443 not reachable, no vhost with "
                 "'Protocols ... acme-tls/1', or not in MDCAChallenges)"
               : "not in MDCAChallenges";
        return 0;
    }
    return 1;
}

static md_json_t *offered(const md_json_t *authz, const char *type)
{
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL), *ch;
    const char *t;
    apr_size_t j;

    for (j = 0; j < md_json_array_len(challenges); ++j) {
        ch = md_json_array_at(challenges, j);
        t = md_json_gets(ch, MD_KEY_TYPE, NULL);
        if (t && !strcmp(t, type)) return ch;
    }
    return NULL;
}

/* The first usable type, in our order of preference, that the CA offers. */
static md_json_t *challenge_pick(const md_json_t *authz, const md_acme_authz_ctx_t *ctx)
{
    const char *why;
    md_json_t *ch;
    int i;

    for (i = 0; i < ctx->challenge_types->nelts; ++i) {
        const char *want = APR_ARRAY_IDX(ctx->challenge_types, i, const char *);
        ch = offered(authz, want);
        if (ch && md_json_gets(ch, MD_KEY_URL, NULL) && type_usable(want, authz, ctx, &why)) {
            return ch;
        }
    }
    return NULL;
}

const char *md_acme_authz_no_challenge_reasons(const md_json_t *authz,
                                               const md_acme_authz_ctx_t *ctx, apr_pool_t *p)
{
    static const char *const KNOWN[] = { "http-01", "tls-alpn-01", "dns-01" };
    apr_array_header_t *types = apr_array_make(p, 5, sizeof(const char *));
    apr_array_header_t *reasons = apr_array_make(p, 5, sizeof(const char *));
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL);
    const char *type, *why;
    apr_size_t i;
    int k;

    for (i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); ++i) md_array_str_add_unique(types, KNOWN[i], 1);
    for (i = 0; i < md_json_array_len(challenges); ++i) {
        type = md_json_gets(md_json_array_at(challenges, i), MD_KEY_TYPE, NULL);
        if (type) md_array_str_add_unique(types, type, 1);
    }
    for (k = 0; k < types->nelts; ++k) {
        type = APR_ARRAY_IDX(types, k, const char *);
        if (!offered(authz, type)) why = "not offered by the CA for this identifier";
        else if (type_usable(type, authz, ctx, &why)) why = "usable";
        APR_ARRAY_PUSH(reasons, const char *) = apr_pstrcat(p, type, ": ", why, NULL);
    }
    return md_array_str_join(reasons, "; ", p);
}

static apr_status_t authz_failed(const md_json_t *authz, const char *name, md_result_t *result)
{
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL), *err = NULL;
    apr_size_t i;

    for (i = 0; !err && i < md_json_array_len(challenges); ++i) {
        err = md_json_getj(md_json_array_at(challenges, i), MD_KEY_ERROR, NULL);
    }
    md_result_problem(result, APR_EINVAL, err ? md_json_gets(err, MD_KEY_TYPE, NULL) : NULL,
                      apr_psprintf(result->p, "the CA could not validate %s: %s",
                                   name ? name : "an identifier",
                                   err && md_json_gets(err, MD_KEY_DETAIL, NULL)
                                   ? md_json_gets(err, MD_KEY_DETAIL, NULL) : "no detail given"),
                      err ? md_json_getj(err, MD_KEY_SUBPROBLEMS, NULL) : NULL);
    return APR_EINVAL;
}

/* Poll the authorization until it is valid or invalid, honouring Retry-After. */
static apr_status_t authz_await(md_acme_t *acme, const md_authz_pending_t *pa,
                                md_result_t *result, apr_pool_t *p)
{
    apr_time_t deadline = apr_time_now() + MD_AUTHZ_TIMEOUT;
    apr_interval_time_t delay = 0;
    md_json_t *authz;
    const char *status;
    apr_status_t rv;

    for (;;) {
        rv = md_acme_get_json(&authz, acme, pa->url, result, p);
        if (rv != APR_SUCCESS) return rv;
        status = md_json_gets(authz, MD_KEY_STATUS, NULL);
        if (status && !strcmp(status, "valid")) return APR_SUCCESS;
        if (!status || (strcmp(status, "pending") && strcmp(status, "processing"))) {
            return authz_failed(authz, pa->name, result);
        }
        if (apr_time_now() > deadline) {
            md_result_set(result, APR_TIMEUP, "the CA did not validate %s within %d seconds",
                          pa->name, (int)apr_time_sec(MD_AUTHZ_TIMEOUT));
            return APR_TIMEUP;
        }
        delay = md_acme_poll_delay(result, delay, apr_time_now());
        md_acme_wait(acme, delay);
    }
}

static md_chall_ctx_t *chall_ctx_make(const md_acme_authz_ctx_t *ctx, const char *type,
                                      const char *name, md_result_t *result, apr_pool_t *p)
{
    md_chall_ctx_t *cctx = apr_pcalloc(p, sizeof(*cctx));

    cctx->type = type;
    cctx->store = ctx->store;
    cctx->md = ctx->md;
    cctx->name = name;
    cctx->result = result;
    cctx->dns01_version = ctx->dns01_version;
    cctx->dns01_timeout = ctx->dns01_timeout;
    cctx->p = p;
    return cctx;
}

/* The identifier must be one we asked for: it names store directories and files. */
static int authz_name_ours(const md_t *md, const md_json_t *authz, const char *name,
                           apr_pool_t *p)
{
    return name && md_array_str_index(md->domains, authz_is_wildcard(authz)
                                      ? apr_pstrcat(p, "*.", name, NULL) : name, 0) >= 0;
}

/* RFC 8555 8.1: a token is base64url, at least 128 bits; we serve up to 128 characters. */
static int token_ok(const char *token)
{
    apr_size_t len = token ? strlen(token) : 0, i;

    if (len < 16 || len > MD_ACME_TOKEN_MAX) return 0;
    for (i = 0; i < len; ++i) {
        if (!apr_isalnum(token[i]) && token[i] != '-' && token[i] != '_') return 0;
    }
    return 1;
}

/* A resumed order's authorization that is valid already: when it was validated by
 * dns-01, the node that made the order set a TXT record up and died before its teardown.
 * The record is the same for every node (the account is the order's), so it goes with
 * this renewal's teardown, as if set up here. */
static void dns01_left_over(md_acme_t *acme, const md_json_t *authz, const char *name,
                            md_acme_authz_ctx_t *ctx, md_result_t *result, apr_pool_t *p)
{
    md_json_t *ch = offered(authz, MD_DNS01);
    md_chall_ctx_t *cctx;
    const char *status = ch ? md_json_gets(ch, MD_KEY_STATUS, NULL) : NULL, *why;

    if (!status || strcmp(status, "valid") || !type_usable(MD_DNS01, authz, ctx, &why)) return;
    cctx = chall_ctx_make(ctx, MD_DNS01, name, result, p);
    cctx->cancel = acme->http->config.cancel;
    cctx->token = md_json_gets(ch, MD_KEY_TOKEN, NULL);
    if (!token_ok(cctx->token) || md_jws_key_authz(&cctx->key_authz, acme->acct_key, cctx->token, p)
        != APR_SUCCESS) {
        return;
    }
    APR_ARRAY_PUSH(ctx->setups, md_chall_ctx_t *) = cctx;
}

/* Phase 1 for one authorization: the answer in place. *ppa stays NULL when the
 * authorization is valid already. */
static apr_status_t authz_prepare(md_authz_pending_t **ppa, md_acme_t *acme, const char *url,
                                  md_acme_authz_ctx_t *ctx, md_result_t *result, apr_pool_t *p)
{
    md_chall_ctx_t *cctx;
    md_json_t *authz, *ch;
    const char *status, *name, *type;
    apr_status_t rv;

    *ppa = NULL;
    /* 1. what the CA wants for this identifier; valid ones need nothing (but the TXT
     *    record a dead farm node left for it goes) */
    rv = md_acme_get_json(&authz, acme, url, result, p);
    if (rv != APR_SUCCESS) return rv;
    status = md_json_gets(authz, MD_KEY_STATUS, NULL);
    name = md_json_gets(authz, MD_KEY_IDENTIFIER, MD_KEY_VALUE, NULL);
    if (status && !strcmp(status, "valid")) {
        if (ctx->resumed && name && authz_name_ours(ctx->md, authz, name, p)) {
            dns01_left_over(acme, authz, name, ctx, result, p);
        }
        return APR_SUCCESS;
    }
    if (!status || strcmp(status, "pending") || !name) return authz_failed(authz, name, result);
    if (!authz_name_ours(ctx->md, authz, name, p)) {
        md_result_set(result, APR_EINVAL, "the CA's authorization %s is for '%s', which %s "
                      "did not ask for", url, name, ctx->md->name);
        return APR_EINVAL;
    }
    /* 2. the challenge we can answer */
    ch = challenge_pick(authz, ctx);
    if (!ch) {
        /* today's module names this local problem 'challenge-mismatch' in its status */
        md_result_problem(result, APR_EINVAL, MD_PROBLEM_CHALLENGE_MISMATCH,
                          apr_psprintf(result->p, "no usable challenge for %s%s: %s",
                                       authz_is_wildcard(authz) ? "*." : "", name,
                                       md_acme_authz_no_challenge_reasons(authz, ctx, p)), NULL);
        return APR_EINVAL;
    }
    type = md_json_gets(ch, MD_KEY_TYPE, NULL);
    md_result_activity(result, "setting up %s for %s", type, name);
    /* 3. the answer in place */
    cctx = chall_ctx_make(ctx, type, name, result, p);
    cctx->cancel = acme->http->config.cancel;   /* a stop ends the program as it ends requests */
    cctx->token = md_json_gets(ch, MD_KEY_TOKEN, NULL);
    if (!token_ok(cctx->token)) {
        md_result_set(result, APR_EINVAL, "the CA's %s challenge for %s has no valid token",
                      type, name);
        return APR_EINVAL;
    }
    rv = md_jws_key_authz(&cctx->key_authz, acme->acct_key, cctx->token, p);
    if (rv == APR_SUCCESS) rv = md_chall_find(type)->setup(cctx);
    if (rv != APR_SUCCESS) {
        /* a local problem, named as today's module names it */
        if (!result->problem) md_result_problem(result, rv, MD_PROBLEM_CHALLENGE_SETUP,
                                                result->detail, NULL);
        return rv;
    }
    APR_ARRAY_PUSH(ctx->setups, md_chall_ctx_t *) = cctx;
    /* 4. the operator's program may veto before the CA is told to look */
    if (ctx->on_event) {
        rv = ctx->on_event(ctx->event_baton, apr_psprintf(p, "challenge-setup:%s:%s", type, name),
                           result);
        if (rv != APR_SUCCESS) return rv;
    }
    *ppa = apr_pcalloc(p, sizeof(**ppa));
    (*ppa)->url = url;
    (*ppa)->chall_url = md_json_gets(ch, MD_KEY_URL, NULL);
    (*ppa)->name = name;
    /* an order resumed: the node before may have told the CA already; CAs refuse that
     * twice, the answer now in place is for its look */
    status = md_json_gets(ch, MD_KEY_STATUS, NULL);
    (*ppa)->asked = status && strcmp(status, "pending");
    return APR_SUCCESS;
}

static int dns01_used(const md_acme_authz_ctx_t *ctx)
{
    int i;

    for (i = 0; i < ctx->setups->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(ctx->setups, i, md_chall_ctx_t *)->type, MD_DNS01)) return 1;
    }
    return 0;
}

apr_status_t md_acme_authz_answer_all(md_acme_t *acme, const apr_array_header_t *authz_urls,
                                      md_acme_authz_ctx_t *ctx, md_result_t *result,
                                      apr_pool_t *p)
{
    apr_array_header_t *pending = apr_array_make(p, 5, sizeof(md_authz_pending_t *));
    md_authz_pending_t *pa;
    md_acme_resp_t *resp;
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* 0. one authorization per identifier (RFC 8555 7.1.3): an order with more than the
     *    MD has names is not the one we asked for, and each costs requests */
    if (authz_urls->nelts > ctx->md->domains->nelts) {
        md_result_set(result, APR_EINVAL, "the CA's order has %d authorizations for the %d "
                      "name(s) of %s; it is refused", authz_urls->nelts,
                      ctx->md->domains->nelts, ctx->md->name);
        return APR_EINVAL;
    }
    /* 1. every answer in place first, so that DNS propagation is waited for once */
    for (i = 0; rv == APR_SUCCESS && i < authz_urls->nelts; ++i) {
        rv = authz_prepare(&pa, acme, APR_ARRAY_IDX(authz_urls, i, const char *), ctx, result, p);
        if (rv == APR_SUCCESS && pa) APR_ARRAY_PUSH(pending, md_authz_pending_t *) = pa;
    }
    if (rv != APR_SUCCESS || pending->nelts == 0) return rv;
    /* 2. TXT records take a while to reach every name server of the zone */
    if (ctx->dns01_wait > 0 && dns01_used(ctx)) {
        md_result_activity(result, "waiting %d seconds for DNS propagation",
                           (int)apr_time_sec(ctx->dns01_wait));
        md_acme_wait(acme, ctx->dns01_wait);
    }
    /* 3. the CA looks, and we wait for each verdict */
    for (i = 0; rv == APR_SUCCESS && i < pending->nelts; ++i) {
        pa = APR_ARRAY_IDX(pending, i, md_authz_pending_t *);
        if (pa->asked) continue;
        md_result_activity(result, "asking the CA to validate %s", pa->name);
        rv = md_acme_post(&resp, acme, pa->chall_url, "{}", 0, result, p);
    }
    for (i = 0; rv == APR_SUCCESS && i < pending->nelts; ++i) {
        pa = APR_ARRAY_IDX(pending, i, md_authz_pending_t *);
        rv = authz_await(acme, pa, result, p);
    }
    return rv;
}

void md_acme_authz_teardown(md_acme_authz_ctx_t *ctx)
{
    int i;

    for (i = 0; i < ctx->setups->nelts; ++i) {
        md_chall_ctx_t *cctx = APR_ARRAY_IDX(ctx->setups, i, md_chall_ctx_t *);
        md_chall_find(cctx->type)->teardown(cctx);
    }
    ctx->setups->nelts = 0;
}
