/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <strings.h>
#include <arpa/inet.h>

#include "md_names.h"

struct md_names_t {
    apr_pool_t *p;
    apr_hash_t *exact;      /* lower-case name -> array of items */
    apr_hash_t *children;   /* lower-case parent -> array of items */
};

md_names_t *md_names_make(apr_pool_t *p)
{
    md_names_t *names = apr_palloc(p, sizeof(*names));

    names->p = p;
    names->exact = apr_hash_make(p);
    names->children = apr_hash_make(p);
    return names;
}

static const char *lower(const char *name, apr_pool_t *p)
{
    char *s = apr_pstrdup(p, name), *c;

    for (c = s; *c; ++c) *c = (char)apr_tolower(*c);
    return s;
}

const char *md_names_parent(const char *name)
{
    const char *dot = strchr(name, '.');
    return (dot && dot[1]) ? dot + 1 : NULL;
}

static void push(apr_hash_t *h, const char *key, void *item, apr_pool_t *p)
{
    apr_array_header_t *a = apr_hash_get(h, key, APR_HASH_KEY_STRING);

    if (!a) {
        a = apr_array_make(p, 1, sizeof(void *));
        apr_hash_set(h, key, APR_HASH_KEY_STRING, a);
    }
    APR_ARRAY_PUSH(a, void *) = item;
}

void md_names_add(md_names_t *names, const char *name, void *item)
{
    const char *key = lower(name, names->p), *parent = md_names_parent(key);

    push(names->exact, key, item, names->p);
    if (parent && key[0] != '*') push(names->children, parent, item, names->p);
}

const apr_array_header_t *md_names_exact(const md_names_t *names, const char *name)
{
    char buf[256];
    apr_size_t i, len = strlen(name);

    if (len >= sizeof(buf)) return apr_hash_get(names->exact, lower(name, names->p), APR_HASH_KEY_STRING);
    for (i = 0; i <= len; ++i) buf[i] = (char)apr_tolower(name[i]);
    return apr_hash_get(names->exact, buf, APR_HASH_KEY_STRING);
}

const apr_array_header_t *md_names_children(const md_names_t *names, const char *parent)
{
    char buf[256];
    apr_size_t i, len = strlen(parent);

    if (len >= sizeof(buf)) return apr_hash_get(names->children, lower(parent, names->p), APR_HASH_KEY_STRING);
    for (i = 0; i <= len; ++i) buf[i] = (char)apr_tolower(parent[i]);
    return apr_hash_get(names->children, buf, APR_HASH_KEY_STRING);
}

void *md_names_covering(const md_names_t *names, const char *name)
{
    const apr_array_header_t *a = md_names_exact(names, name);
    const char *parent;
    char wildcard[256];

    if (a && a->nelts) return APR_ARRAY_IDX(a, 0, void *);
    parent = md_names_parent(name);
    if (!parent || name[0] == '*' || strlen(parent) + 3 > sizeof(wildcard)) return NULL;
    wildcard[0] = '*';
    wildcard[1] = '.';
    memcpy(wildcard + 2, parent, strlen(parent) + 1);
    a = md_names_exact(names, wildcard);
    return (a && a->nelts) ? APR_ARRAY_IDX(a, 0, void *) : NULL;
}

/* ---- names -------------------------------------------------------------------- */

int md_dns_is_wildcard(const char *name)
{
    return name[0] == '*' && name[1] == '.';
}

int md_dns_matches(const char *pattern, const char *name)
{
    const char *dot;

    if (!strcasecmp(pattern, name)) return 1;
    if (!md_dns_is_wildcard(pattern)) return 0;
    dot = strchr(name, '.');
    return dot && dot != name && !strcasecmp(pattern + 1, dot);
}

int md_is_ip_address(const char *name)
{
    struct in6_addr a6;

    return inet_pton(AF_INET, name, &a6) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
}
