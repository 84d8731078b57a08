/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* dns-01 (RFC 8555 8.4): the administrator's program (MDChallengeDns01) puts the TXT
 * record _acme-challenge.<domain> in place and removes it again. It runs from an argv
 * vector (the configured command line split once, never by a shell) as
 *
 *     <cmd...> setup    <domain> <txt-value>
 *     <cmd...> teardown <domain>               (MDChallengeDns01Version 1)
 *     <cmd...> teardown <domain> <txt-value>   (MDChallengeDns01Version 2)
 *
 * with these environment variables (see docs/dns01-program.md):
 *     MD_ACTION        setup | teardown
 *     MD_NAME          the managed domain's name
 *     MD_DOMAIN        the domain (wildcards without "*.")
 *     MD_RECORD        _acme-challenge.<domain>
 *     MD_TXT_VALUE     the TXT value
 *     MD_DNS01_VERSION 1 | 2
 * Exit code 0 means done; anything else, or running past the timeout, fails the
 * challenge, and the exit code and output go into the result. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md_chall.h"
#include "md_exec.h"
#include "md_log.h"
#include "md_util.h"

apr_status_t md_chall_dns01_txt_value(const char **pvalue, const char *key_authz, apr_pool_t *p)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    if (!key_authz || !EVP_Digest(key_authz, strlen(key_authz), digest, &dlen, EVP_sha256(), NULL)) {
        return APR_EINVAL;
    }
    *pvalue = md_b64url_encode(digest, dlen, p);
    return APR_SUCCESS;
}

static apr_table_t *dns01_env(const md_chall_ctx_t *ctx, const char *action, const char *value)
{
    apr_table_t *env = apr_table_make(ctx->p, 6);

    apr_table_set(env, "MD_ACTION", action);
    apr_table_set(env, "MD_NAME", ctx->md->name);
    apr_table_set(env, "MD_DOMAIN", ctx->name);
    apr_table_set(env, "MD_RECORD", apr_pstrcat(ctx->p, "_acme-challenge.", ctx->name, NULL));
    apr_table_set(env, "MD_TXT_VALUE", value);
    apr_table_set(env, "MD_DNS01_VERSION", ctx->dns01_version >= 2 ? "2" : "1");
    return env;
}

/* Run the program for one action; with_value appends the TXT value to argv. */
static apr_status_t dns01_run(const md_chall_ctx_t *ctx, const char *action, int with_value,
                              md_exec_res_t **pres)
{
    apr_array_header_t *base, *argv;
    const char *value;
    md_exec_req_t req;
    apr_status_t rv;

    *pres = NULL;
    if (!ctx->md->dns01_cmd || md_exec_split(&base, ctx->md->dns01_cmd, ctx->p) != APR_SUCCESS) {
        md_result_set(ctx->result, APR_ENOTIMPL, "dns-01 for %s needs a program: configure "
                      "MDChallengeDns01 (it is %s)", ctx->name,
                      ctx->md->dns01_cmd ? "not a valid command line" : "not set");
        return APR_ENOTIMPL;
    }
    rv = md_chall_dns01_txt_value(&value, ctx->key_authz, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    argv = with_value ? md_exec_argv(base, ctx->p, action, ctx->name, value, NULL)
                      : md_exec_argv(base, ctx->p, action, ctx->name, NULL);
    req.argv = argv;
    req.env = dns01_env(ctx, action, value);
    req.timeout = ctx->dns01_timeout;
    req.cancel = ctx->cancel;
    rv = md_exec_run(pres, &req, ctx->p);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ctx->p, "MD3001: %s: dns-01 %s %s: exit %d%s, "
                  "output: %s", ctx->md->name, action, ctx->name, (*pres)->exit_code,
                  (*pres)->timed_out ? " (timed out)" : "", (*pres)->output);
    return rv;
}

static apr_status_t dns01_setup(const md_chall_ctx_t *ctx)
{
    md_exec_res_t *res;
    apr_status_t rv = dns01_run(ctx, "setup", 1, &res);

    if (rv == APR_SUCCESS || !res) return rv;
    if (res->timed_out) {
        md_result_set(ctx->result, rv, "the dns-01 program (MDChallengeDns01) did not finish "
                      "'setup %s' within %d seconds; output: %s", ctx->name,
                      (int)apr_time_sec(ctx->dns01_timeout > 0 ? ctx->dns01_timeout
                                        : MD_EXEC_DEFAULT_TIMEOUT), res->output);
    }
    else if (res->exit_code >= 0) {
        md_result_set(ctx->result, rv, "the dns-01 program (MDChallengeDns01) failed 'setup %s' "
                      "with exit code %d; output: %s", ctx->name, res->exit_code, res->output);
    }
    else {
        md_result_set(ctx->result, rv, "the dns-01 program (MDChallengeDns01) '%s' could not "
                      "be run for 'setup %s'", ctx->md->dns01_cmd, ctx->name);
    }
    return rv;
}

/* Teardown failures do not fail the renewal: the certificate is unaffected. They are
 * logged so that stale TXT records can be found. */
static void dns01_teardown(const md_chall_ctx_t *ctx)
{
    md_exec_res_t *res;
    apr_status_t rv = dns01_run(ctx, "teardown", ctx->dns01_version >= 2, &res);

    if (rv == APR_EINTR) {
        md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, ctx->p, "MD3003: %s: the dns-01 program "
                      "was not run for 'teardown %s': the server stops; the TXT record "
                      "_acme-challenge.%s may stay until it is removed", ctx->md->name,
                      ctx->name, ctx->name);
    }
    else if (rv != APR_SUCCESS && res) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, ctx->p, "MD3002: %s: the dns-01 program "
                      "failed 'teardown %s' (exit %d%s): %s", ctx->md->name, ctx->name,
                      res->exit_code, res->timed_out ? ", timed out" : "", res->output);
    }
}

const md_chall_type_t md_chall_dns01 = { "dns-01", dns01_setup, dns01_teardown };
