/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
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
