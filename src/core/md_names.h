/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* An index from DNS names to items, so that matching thousands of names against
 * thousands of others costs a look-up each instead of a comparison with every one.
 * Names compare case-insensitively; a wildcard "*.x.test" is kept as it is written
 * and can be found as a name or as the parent of the names it covers. */
#ifndef md_names_h
#define md_names_h

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct md_names_t md_names_t;

md_names_t *md_names_make(apr_pool_t *p);
void md_names_add(md_names_t *names, const char *name, void *item);
/* The items added under exactly this name (NULL when none). */
const apr_array_header_t *md_names_exact(const md_names_t *names, const char *name);
/* The items added under a name one label below parent: "a.x.test" for "x.test". */
const apr_array_header_t *md_names_children(const md_names_t *names, const char *parent);
/* The first item whose name covers name: exactly, or else by a wildcard "*.<parent>". */
void *md_names_covering(const md_names_t *names, const char *name);
/* The parent of a name ("x.test" for "a.x.test" and for "*.x.test"), NULL for one label. */
const char *md_names_parent(const char *name);

/* Single names: a wildcard ("*.x.test"); does pattern (a name or a wildcard) cover name
 * (case-insensitively, a wildcard one label); is name an IPv4 or IPv6 address. */
int md_dns_is_wildcard(const char *name);
int md_dns_matches(const char *pattern, const char *name);
int md_is_ip_address(const char *name);

#endif
