/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* http-01 (RFC 8555 8.3): the key authorization in challenges/<name>/acme-http-01.txt,
 * served by the glue for exactly this token. */
#include "md_chall.h"

static apr_status_t http01_setup(const md_chall_ctx_t *ctx)
{
    apr_status_t rv = md_store_save_text(ctx->store, MD_SG_CHALLENGES, ctx->name, MD_FN_HTTP01,
                                         ctx->key_authz, ctx->p);

    if (rv != APR_SUCCESS) md_result_set(ctx->result, rv, "writing the http-01 answer for %s",
                                         ctx->name);
    return rv;
}

static void http01_teardown(const md_chall_ctx_t *ctx)
{
    md_store_remove(ctx->store, MD_SG_CHALLENGES, ctx->name, MD_FN_HTTP01, ctx->p);
}

const md_chall_type_t md_chall_http01 = { "http-01", http01_setup, http01_teardown };
