/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md.json from the store (domains/ root-owned, but staging/ is written by the
 * unprivileged children): md_from_json, md_to_json, and everything the rest of the
 * module derives from an MD, above all store file names, which must stay names. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void file_name_check(const char *fn)
{
    if (strchr(fn, '/') || !strncmp(fn, "..", 2)) abort();
}

static void md_check(const md_t *md, apr_pool_t *p)
{
    int i;

    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        const md_pkey_spec_t *spec = md_pkey_spec_at(md, i);
        file_name_check(md_pkey_file_name(spec, "privkey", p));
        file_name_check(md_pkey_file_name(spec, "pubcert", p));
        md_pkey_spec_name(spec);
    }
    for (i = 0; i < md->domains->nelts; ++i) {
        md_contains(md, APR_ARRAY_IDX(md->domains, i, const char *));
    }
    md_state_descr(md->state);
    if (md->renew_window.len < 0 || md->warn_window.len < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_json_t *json, *json2;
    md_t *md, *md2;

    if (md_json_parse(&json, (const char *)data, size, p) != APR_SUCCESS) return 0;
    if (md_from_json(&md, json, p) != APR_SUCCESS) return 0;
    md_check(md, p);
    /* written and read again: the same MD */
    json2 = md_to_json(md, p);
    if (!md_json_dump(json2, MD_JSON_INDENT, p)) abort();
    if (md_from_json(&md2, json2, p) != APR_SUCCESS) abort();
    md_check(md2, p);
    if (strcmp(md->name, md2->name) || md_needs_new_cert_for(md, md2)) abort();
    if (!md_array_str_eq(md->contacts, md2->contacts, 1)) abort();
    md_copy(p, md);
    return 0;
}
