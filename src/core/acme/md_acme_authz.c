#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_jws.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define MD_AUTHZ_TIMEOUT apr_time_from_sec(300)

/* The first usable type, in our order of preference, that the CA offers. */
static md_json_t *challenge_pick(const md_json_t *authz, const apr_array_header_t *types)
{
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL), *ch;
    apr_size_t j;
    int i;

    for (i = 0; i < types->nelts; ++i) {
        const char *want = APR_ARRAY_IDX(types, i, const char *);
        for (j = 0; j < md_json_array_len(challenges); ++j) {
            ch = md_json_array_at(challenges, j);
            if (!strcmp(want, md_json_gets(ch, MD_KEY_TYPE, NULL) ? md_json_gets(ch, MD_KEY_TYPE, NULL) : "")
                && md_chall_find(want)) {
                return ch;
            }
        }
    }
    return NULL;
}

static apr_status_t authz_failed(const md_json_t *authz, const char *name, md_result_t *result)
{
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL), *err = NULL;
    apr_size_t i;

    for (i = 0; !err && i < md_json_array_len(challenges); ++i) {
        err = md_json_getj(md_json_array_at(challenges, i), MD_KEY_ERROR, NULL);
    }
    md_result_problem(result, APR_EINVAL, err ? md_json_gets(err, MD_KEY_TYPE, NULL) : NULL,
                      apr_psprintf(result->p, "the CA could not validate %s: %s", name,
                                   err && md_json_gets(err, MD_KEY_DETAIL, NULL)
                                   ? md_json_gets(err, MD_KEY_DETAIL, NULL) : "no detail given"),
                      err ? md_json_getj(err, MD_KEY_SUBPROBLEMS, NULL) : NULL);
    return APR_EINVAL;
}

/* Poll the authorization until it is valid or invalid, honouring Retry-After. */
static apr_status_t authz_await(md_acme_t *acme, const char *url, const char *name,
                                md_result_t *result, apr_pool_t *p)
{
    apr_time_t deadline = apr_time_now() + MD_AUTHZ_TIMEOUT;
    apr_interval_time_t delay = apr_time_from_msec(250);
    md_json_t *authz;
    const char *status;
    apr_status_t rv;

    for (;;) {
        rv = md_acme_get_json(&authz, acme, url, result, p);
        if (rv != APR_SUCCESS) return rv;
        status = md_json_gets(authz, MD_KEY_STATUS, NULL);
        if (status && !strcmp(status, "valid")) return APR_SUCCESS;
        if (!status || strcmp(status, "pending")) return authz_failed(authz, name, result);
        if (apr_time_now() > deadline) {
            md_result_set(result, APR_TIMEUP, "the CA did not validate %s within %d seconds",
                          name, (int)apr_time_sec(MD_AUTHZ_TIMEOUT));
            return APR_TIMEUP;
        }
        if (result->retry_after > apr_time_now()) delay = result->retry_after - apr_time_now();
        else if (delay < apr_time_from_sec(5)) delay *= 2;
        apr_sleep(delay > apr_time_from_sec(60) ? apr_time_from_sec(60) : delay);
    }
}

static apr_status_t no_challenge(const md_json_t *authz, const char *name,
                                 const md_acme_authz_ctx_t *ctx, md_result_t *result)
{
    md_json_t *challenges = md_json_getj(authz, MD_KEY_CHALLENGES, NULL);
    apr_array_header_t *offered = apr_array_make(result->p, 3, sizeof(const char *));
    apr_size_t i;

    for (i = 0; i < md_json_array_len(challenges); ++i) {
        const char *t = md_json_gets(md_json_array_at(challenges, i), MD_KEY_TYPE, NULL);
        if (t) APR_ARRAY_PUSH(offered, const char *) = t;
    }
    md_result_set(result, APR_EINVAL, "no usable challenge for %s: the CA offers [%s], this "
                  "server can answer [%s]. For wildcards configure MDChallengeDns01; otherwise "
                  "check MDPortMap, MDCAChallenges and 'Protocols ... acme-tls/1'", name,
                  md_array_str_join(offered, ", ", result->p),
                  md_array_str_join(ctx->challenge_types, ", ", result->p));
    return APR_EINVAL;
}

/* The identifier must be one we asked for: it names store directories and files. */
static int authz_name_ours(const md_t *md, const md_json_t *authz, const char *name,
                           apr_pool_t *p)
{
    int wildcard = md_json_getb(authz, MD_KEY_WILDCARD, NULL);

    return name && md_array_str_index(md->domains, wildcard ? apr_pstrcat(p, "*.", name, NULL)
                                                            : name, 0) >= 0;
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

apr_status_t md_acme_authz_answer(md_acme_t *acme, const char *authz_url,
                                  md_acme_authz_ctx_t *ctx, md_result_t *result, apr_pool_t *p)
{
    md_chall_ctx_t *cctx;
    md_json_t *authz, *ch;
    const char *status, *name, *type;
    md_acme_resp_t *resp;
    apr_status_t rv;

    /* 1. what the CA wants for this identifier; valid ones need nothing */
    rv = md_acme_get_json(&authz, acme, authz_url, result, p);
    if (rv != APR_SUCCESS) return rv;
    status = md_json_gets(authz, MD_KEY_STATUS, NULL);
    name = md_json_gets(authz, MD_KEY_IDENTIFIER, MD_KEY_VALUE, NULL);
    if (status && !strcmp(status, "valid")) return APR_SUCCESS;
    if (!status || strcmp(status, "pending") || !name) return authz_failed(authz, name, result);
    if (!authz_name_ours(ctx->md, authz, name, p)) {
        md_result_set(result, APR_EINVAL, "the CA's authorization %s is for '%s', which %s "
                      "did not ask for", authz_url, name, ctx->md->name);
        return APR_EINVAL;
    }
    /* 2. the challenge we can answer */
    ch = challenge_pick(authz, ctx->challenge_types);
    if (!ch) return no_challenge(authz, name, ctx, result);
    type = md_json_gets(ch, MD_KEY_TYPE, NULL);
    md_result_activity(result, "answering %s for %s", type, name);
    /* 3. the answer in place */
    cctx = apr_pcalloc(p, sizeof(*cctx));
    cctx->type = type;
    cctx->store = ctx->store;
    cctx->md = ctx->md;
    cctx->name = name;
    cctx->token = md_json_gets(ch, MD_KEY_TOKEN, NULL);
    cctx->result = result;
    cctx->p = p;
    if (!token_ok(cctx->token)) {
        md_result_set(result, APR_EINVAL, "the CA's %s challenge for %s has no valid token",
                      type, name);
        return APR_EINVAL;
    }
    rv = md_jws_key_authz(&cctx->key_authz, acme->acct_key, cctx->token, p);
    if (rv == APR_SUCCESS) rv = md_chall_find(type)->setup(cctx);
    if (rv != APR_SUCCESS) return rv;
    APR_ARRAY_PUSH(ctx->setups, md_chall_ctx_t *) = cctx;
    if (ctx->on_event) {
        rv = ctx->on_event(ctx->event_baton, apr_psprintf(p, "challenge-setup:%s:%s", type, name),
                           result);
        if (rv != APR_SUCCESS) return rv;
    }
    /* 4. tell the CA to look, then wait for its verdict */
    rv = md_acme_post(&resp, acme, md_json_gets(ch, MD_KEY_URL, NULL), "{}", 0, result, p);
    if (rv != APR_SUCCESS) return rv;
    return authz_await(acme, authz_url, name, result, p);
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
