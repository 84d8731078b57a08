/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Which virtual hosts an MD covers, found through an index of the vhosts' names: with
 * thousands of MDs and vhosts, a look-up per name instead of comparing every pair. */
#include <stdlib.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <httpd.h>

#include "md_mod.h"
#include "md_names.h"
#include "md_util.h"

struct md_vhost_index_t {
    md_names_t *names;          /* ServerName (and ServerAlias unless servernames only) */
    apr_hash_t *position;       /* server_rec* -> its place in the configuration */
};

md_vhost_index_t *md_mod_vhosts_index_make(server_rec *base, int with_base, int servernames_only,
                                           apr_pool_t *p)
{
    md_vhost_index_t *idx = apr_palloc(p, sizeof(*idx));
    server_rec *s;
    int i;
    long pos = 0;

    idx->names = md_names_make(p);
    idx->position = apr_hash_make(p);
    for (s = with_base ? base : base->next; s; s = s->next) {
        apr_hash_set(idx->position, apr_pmemdup(p, &s, sizeof(s)), sizeof(s), (void *)++pos);
        if (s->server_hostname) md_names_add(idx->names, s->server_hostname, s);
        for (i = 0; !servernames_only && s->names && i < s->names->nelts; ++i) {
            md_names_add(idx->names, APR_ARRAY_IDX(s->names, i, const char *), s);
        }
    }
    return idx;
}

static void add_unique(apr_array_header_t *found, apr_hash_t *seen, const apr_array_header_t *servers)
{
    int i;

    for (i = 0; servers && i < servers->nelts; ++i) {
        server_rec *s = APR_ARRAY_IDX(servers, i, server_rec *);
        if (apr_hash_get(seen, &s, sizeof(s))) continue;
        apr_hash_set(seen, apr_pmemdup(found->pool, &s, sizeof(s)), sizeof(s), s);
        APR_ARRAY_PUSH(found, server_rec *) = s;
    }
}

static const md_vhost_index_t *sort_idx;

static int by_position(const void *a, const void *b)
{
    long pa = (long)apr_hash_get(sort_idx->position, a, sizeof(server_rec *));
    long pb = (long)apr_hash_get(sort_idx->position, b, sizeof(server_rec *));
    return (pa > pb) - (pa < pb);
}

apr_array_header_t *md_mod_vhosts_index_find(const md_vhost_index_t *idx, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *found = apr_array_make(p, 2, sizeof(server_rec *));
    apr_hash_t *seen = apr_hash_make(p);
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(md->domains, i, const char *);
        add_unique(found, seen, md_names_exact(idx->names, name));
        if (md_dns_is_wildcard(name)) {
            add_unique(found, seen, md_names_children(idx->names, md_names_parent(name)));
        }
    }
    /* in the order of the configuration, as a walk over the vhosts would find them
     * (configuration passes run single-threaded: the static is safe) */
    sort_idx = idx;
    qsort(found->elts, (size_t)found->nelts, sizeof(server_rec *), by_position);
    return found;
}

/* The MD a server record belongs to, by its ServerName: an MD naming it exactly wins over
 * one that covers it by a wildcard. NULL before the MDs are merged at post_config. */
md_t *md_mod_vhosts_md_for_server(server_rec *s)
{
    const md_mod_conf_t *mc = md_config_get(s)->mc;

    if (!mc->md_names || !s->server_hostname) return NULL;
    return md_names_covering(mc->md_names, s->server_hostname);
}
