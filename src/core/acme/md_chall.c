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
