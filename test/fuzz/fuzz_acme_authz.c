/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Authorizations and challenges (RFC 8555 7.5, 8): the CA's authorization object drives
 * md_acme_authz_answer, which picks a challenge, writes its answer into a scratch store
 * (http-01 file, tls-alpn-01 certificate) and tells the CA. Whatever the CA says, the
 * answers land only in challenges/<one of our names>/, and nowhere outside the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme_order.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static md_t *md_canned(apr_pool_t *p)
{
    md_t *md = md_create(p, "a.test");

    APR_ARRAY_PUSH(md->domains, const char *) = "a.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "*.b.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "192.0.2.1";
    return md;
}

static void name_check(const md_t *md, const char *name, apr_pool_t *p)
{
    if (md_array_str_index(md->domains, name, 0) < 0
        && md_array_str_index(md->domains, apr_pstrcat(p, "*.", name, NULL), 0) < 0) {
        fprintf(stderr, "challenge answer for a name not ours: %s\n", name);
        abort();
    }
}

/* Both what was set up (whatever path it would make) and what is in challenges/. */
static void challenges_check(const md_acme_authz_ctx_t *ctx, apr_pool_t *p)
{
    apr_array_header_t *names;
    int i;

    for (i = 0; i < ctx->setups->nelts; ++i) {
        name_check(ctx->md, APR_ARRAY_IDX(ctx->setups, i, md_chall_ctx_t *)->name, p);
    }
    if (md_store_names(&names, ctx->store, MD_SG_CHALLENGES, p) != APR_SUCCESS) abort();
    for (i = 0; i < names->nelts; ++i) name_check(ctx->md, APR_ARRAY_IDX(names, i, const char *), p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    apr_array_header_t *types = apr_array_make(p, 2, sizeof(const char *));
    md_acme_authz_ctx_t ctx;
    md_acme_t *acme;
    const char *scratch;
    apr_array_header_t *urls;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = fuzz_store(&scratch, p);
    ctx.md = md_canned(p);
    APR_ARRAY_PUSH(types, const char *) = "http-01";
    APR_ARRAY_PUSH(types, const char *) = "tls-alpn-01";
    ctx.challenge_types = types;
    ctx.setups = apr_array_make(p, 2, sizeof(md_chall_ctx_t *));
    urls = apr_array_make(p, 1, sizeof(const char *));
    md_acme_create(&acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    acme->acct_key = fuzz_account_key();
    acme->acct_url = "https://ca.fuzz.test/acct/1";
    /* 1. the authorization, 2. the answer to "please validate", 3. the poll: valid */
    fuzz_ca_post(ca, 200, "application/json", (const char *)data, size, p);
    fuzz_ca_post(ca, 200, "application/json", "{\"status\":\"processing\"}", 24, p);
    fuzz_ca_post(ca, 200, "application/json", "{\"status\":\"valid\"}", 18, p);
    APR_ARRAY_PUSH(urls, const char *) = "https://ca.fuzz.test/authz/1";
    if (md_acme_authz_answer_all(acme, urls, &ctx, result, p) != APR_SUCCESS && !result->detail) {
        abort();
    }
    challenges_check(&ctx, p);
    md_acme_authz_teardown(&ctx);
    fuzz_store_check(scratch, p);
    return 0;
}
