/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* tls-alpn-01 (RFC 8737): a self-signed certificate with the acmeIdentifier extension
 * in challenges/<name>/, handed to mod_ssl by the glue on acme-tls/1 connections. */
#include "md_chall.h"
#include "md_crypt.h"

#define TLSALPN01_VALIDITY apr_time_from_sec(7 * 24 * 60 * 60)

static const md_pkey_spec_t tlsalpn01_spec = { MD_PKEY_EC, 0, "secp256r1" };

/* One EC P-256 key: every CA that offers tls-alpn-01 accepts it, and it is cheap. */
static apr_status_t tlsalpn01_make(md_pkey_t **pkey, md_cert_t **pcert, const char *name,
                                   const char *key_authz, apr_pool_t *p)
{
    apr_status_t rv = md_pkey_gen(pkey, &tlsalpn01_spec, p);

    if (rv == APR_SUCCESS) rv = md_cert_tls_alpn01(pcert, name, key_authz, *pkey, TLSALPN01_VALIDITY, p);
    return rv;
}

apr_status_t md_chall_tlsalpn01_make(const char **pcert_pem, const char **pkey_pem, const char *name,
                                     const char *key_authz, apr_pool_t *p)
{
    md_pkey_t *key;
    md_cert_t *cert;
    apr_status_t rv = tlsalpn01_make(&key, &cert, name, key_authz, p);

    if (rv == APR_SUCCESS) rv = md_cert_to_pem(pcert_pem, cert, p);
    if (rv == APR_SUCCESS) rv = md_pkey_to_pem(pkey_pem, key, NULL, 0, p);
    return rv;
}

static apr_status_t tlsalpn01_setup(const md_chall_ctx_t *ctx)
{
    apr_array_header_t *chain = apr_array_make(ctx->p, 1, sizeof(md_cert_t *));
    md_pkey_t *key;
    md_cert_t *cert;
    apr_status_t rv;

    rv = tlsalpn01_make(&key, &cert, ctx->name, ctx->key_authz, ctx->p);
    if (rv == APR_SUCCESS) {
        rv = md_store_save_pkey(ctx->store, MD_SG_CHALLENGES, ctx->name,
                                md_pkey_file_name(&tlsalpn01_spec, MD_FN_TLSALPN01_PKEY, ctx->p), key, ctx->p);
    }
    if (rv == APR_SUCCESS) {
        APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
        rv = md_store_save_chain(ctx->store, MD_SG_CHALLENGES, ctx->name,
                                 md_pkey_file_name(&tlsalpn01_spec, MD_FN_TLSALPN01_CERT, ctx->p), chain,
                                 ctx->p);
    }
    /* the key authorization too: in a farm, the other nodes make their own certificate
     * from it (md_mod_farm.c), so that no private key leaves this one */
    if (rv == APR_SUCCESS) {
        rv = md_store_save_text(ctx->store, MD_SG_CHALLENGES, ctx->name, MD_FN_TLSALPN01_AUTHZ,
                                ctx->key_authz, ctx->p);
    }
    if (rv != APR_SUCCESS) md_result_set(ctx->result, rv, "preparing the tls-alpn-01 certificate "
                                         "for %s", ctx->name);
    return rv;
}

static void tlsalpn01_teardown(const md_chall_ctx_t *ctx)
{
    md_store_remove(ctx->store, MD_SG_CHALLENGES, ctx->name,
                    md_pkey_file_name(&tlsalpn01_spec, MD_FN_TLSALPN01_PKEY, ctx->p), ctx->p);
    md_store_remove(ctx->store, MD_SG_CHALLENGES, ctx->name,
                    md_pkey_file_name(&tlsalpn01_spec, MD_FN_TLSALPN01_CERT, ctx->p), ctx->p);
    md_store_remove(ctx->store, MD_SG_CHALLENGES, ctx->name, MD_FN_TLSALPN01_AUTHZ, ctx->p);
}

const md_chall_type_t md_chall_tlsalpn01 = { "tls-alpn-01", tlsalpn01_setup, tlsalpn01_teardown };
