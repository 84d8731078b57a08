/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>
#include "md_chall.h"

static const md_chall_type_t *const TYPES[] = {
    &md_chall_http01,
    &md_chall_tlsalpn01,
    &md_chall_dns01,
};

const md_chall_type_t *md_chall_find(const char *type)
{
    apr_size_t i;

    for (i = 0; type && i < sizeof(TYPES) / sizeof(TYPES[0]); ++i) {
        if (!strcmp(TYPES[i]->type, type)) return TYPES[i];
    }
    return NULL;
}

const char *md_chall_names(apr_pool_t *p)
{
    const char *names = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); ++i) {
        names = names ? apr_pstrcat(p, names, ", ", TYPES[i]->type, NULL) : TYPES[i]->type;
    }
    return names;
}

apr_array_header_t *md_chall_usable(const md_t *md, int tls_alpn01, int http01, apr_pool_t *p)
{
    apr_array_header_t *types = apr_array_make(p, 3, sizeof(const char *));

    if (md->ca_challenges && md->ca_challenges->nelts) return md->ca_challenges;
    if (tls_alpn01) APR_ARRAY_PUSH(types, const char *) = md_chall_tlsalpn01.type;
    if (http01) APR_ARRAY_PUSH(types, const char *) = md_chall_http01.type;
    if (md->dns01_cmd) APR_ARRAY_PUSH(types, const char *) = md_chall_dns01.type;
    return types;
}
