/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Domain names, IP literals and key specs as they come from the configuration, md.json,
 * CA answers and SNI: md_dns_matches, md_is_ip_address, md_pkey_spec_parse and the store
 * file names made from specs. The input is "pattern\nname\nword\nbits". */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "md.h"
#include "md_util.h"
#include "md_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void names_check(const char *pattern, const char *name)
{
    int m = md_dns_matches(pattern, name);

    /* a match is case-insensitive equality or "*.rest" against "label.rest" */
    if (m && strcasecmp(pattern, name)) {
        const char *dot = strchr(name, '.');
        if (!md_dns_is_wildcard(pattern) || !dot || dot == name) abort();
        if (strcasecmp(pattern + 1, dot)) abort();
    }
    md_is_ip_address(pattern);
    md_is_ip_address(name);
}

static void spec_check(const char *word, const char *bits, apr_pool_t *p)
{
    md_pkey_spec_t spec;
    const char *file;

    if (md_pkey_spec_parse(&spec, word, bits)) return;
    if (spec.type == MD_PKEY_RSA && (spec.bits < 2048 || spec.bits > 16384)) abort();
    if (spec.type == MD_PKEY_EC && !spec.curve) abort();
    file = md_pkey_file_name(&spec, "privkey", p);
    /* a spec becomes part of a file name in the store: never a path */
    if (strchr(file, '/') || strstr(file, "..")) abort();
    if (!md_pkey_spec_eq(&spec, &spec)) abort();
    md_pkey_spec_name(&spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *s = apr_pstrmemdup(p, (const char *)data, size), *last;
    const char *pattern = apr_strtok(s, "\n", &last);
    const char *name = pattern ? apr_strtok(NULL, "\n", &last) : NULL;
    const char *word = name ? apr_strtok(NULL, "\n", &last) : NULL;
    const char *bits = word ? apr_strtok(NULL, "\n", &last) : NULL;
    md_t *md;

    if (!pattern) return 0;
    names_check(pattern, name ? name : pattern);
    spec_check(pattern, NULL, p);
    if (word) spec_check(word, bits, p);
    md = md_create(p, pattern);
    APR_ARRAY_PUSH(md->domains, const char *) = pattern;
    if (name && md_contains(md, name) != md_dns_matches(pattern, name)) abort();
    return 0;
}
