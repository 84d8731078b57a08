/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* What the farm looks like (md_farm.h, docs/farm.md "Status and metrics"): the view of
 * generations, lock holders and nodes read in one request, each node's record of what
 * it serves on a lease of its own, and the certificates of a published set. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_crypt.h"
#include "md_farm.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_time.h"

/* ---- the view ---------------------------------------------------------------------- */

/* One kv of the range into the view: gen/<md>, locks/<md> or nodes/<node>. */
static void view_add(md_json_t *view, apr_hash_t *gens, const char *rel, const md_etcd_kv_t *kv,
                     apr_pool_t *p)
{
    apr_int64_t *gen;
    md_json_t *node;

    if (!strncmp(rel, "gen/", 4) && rel[4]) {
        gen = apr_palloc(p, sizeof(*gen));
        *gen = apr_atoi64(kv->value);
        apr_hash_set(gens, rel + 4, APR_HASH_KEY_STRING, gen);
        md_json_setl((long)*gen, view, MD_KEY_MDS, rel + 4, MD_KEY_GENERATION, NULL);
    }
    else if (!strncmp(rel, "locks/", 6) && rel[6] && !strchr(rel + 6, '/')) {
        /* (locks/ocsp/<id> and locks/account/<ca> are a certificate's and a CA's, no MD's) */
        md_json_sets(kv->value, view, MD_KEY_MDS, rel + 6, MD_KEY_LOCK_HOLDER, NULL);
    }
    else if (!strncmp(rel, "nodes/", 6) && rel[6]) {
        /* a record that is no JSON (written by something else) is shown by its name only */
        if (md_json_parse(&node, kv->value, kv->value_len, p) != APR_SUCCESS
            || !md_json_is_object(node, NULL)) {
            node = md_json_create(p);
        }
        md_json_sets(rel + 6, node, MD_KEY_NODE, NULL);
        md_json_array_append(md_json_getj(view, MD_KEY_NODES, NULL), node);
    }
}

apr_status_t md_farm_view_read(md_json_t **pview, apr_hash_t **pgens, md_farm_t *farm, apr_pool_t *p)
{
    /* gen/, locks/ and nodes/ are neighbours among the farm's keys (challenges/ < gen/ <
     * locks/ < nodes/ < sets/): one range, from "gen/" up to "nodes0" ('0' follows '/') */
    const char *prefix = md_farm_config(farm)->prefix;
    const char *from = apr_pstrcat(p, prefix, "gen/", NULL), *to = apr_pstrcat(p, prefix, "nodes0", NULL);
    apr_array_header_t *kvs;
    apr_hash_t *gens = apr_hash_make(p);
    md_json_t *view = md_json_create(p);
    const md_etcd_kv_t *kv;
    apr_status_t rv;
    int i;

    *pview = NULL;
    if (pgens) *pgens = NULL;
    rv = md_etcd_get_range(&kvs, NULL, md_farm_etcd(farm), from, to, 0, p);
    if (rv != APR_SUCCESS) return rv;
    md_json_setj(md_json_create(p), view, MD_KEY_MDS, NULL);
    md_json_setj(md_json_create_array(p), view, MD_KEY_NODES, NULL);
    for (i = 0; i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, const md_etcd_kv_t *);
        view_add(view, gens, kv->key + strlen(prefix), kv, p);
    }
    *pview = view;
    if (pgens) *pgens = gens;
    return APR_SUCCESS;
}

/* ---- this node's record ------------------------------------------------------------ */

struct md_farm_node_t {
    apr_pool_t *pool;                /* holds serves; cleared when it changes */
    apr_int64_t lease;               /* 0: none (yet, or it ran out) */
    const char *serves;              /* the "serves" JSON last written */
    apr_time_t next_refresh;
};

md_farm_node_t *md_farm_node_make(apr_pool_t *p)
{
    md_farm_node_t *node = apr_pcalloc(p, sizeof(*node));

    apr_pool_create(&node->pool, p);
    return node;
}

/* {"node": NAME, "serves": {MD: GEN, ...}, "updated": TIME}: the text put in the engine */
static const char *node_record(const char *name, const char *serves, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p), *s;

    md_json_sets(name, j, MD_KEY_NODE, NULL);
    if (md_json_parse(&s, serves, strlen(serves), p) == APR_SUCCESS) md_json_setj(s, j, MD_KEY_SERVES, NULL);
    md_json_sets(md_time_print(apr_time_now(), p), j, MD_KEY_UPDATED, NULL);
    return md_json_dump(j, MD_JSON_COMPACT, p);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {"md": GEN, ...} by name: the dump keeps the order of insertion, and equal maps must
 * give equal text (the record is written again only when the text changed) */
static const char *serves_text(apr_hash_t *serves, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, (int)apr_hash_count(serves) + 1, sizeof(const char *));
    md_json_t *j = md_json_create(p);
    apr_hash_index_t *hi;
    const void *name;
    const char *n;
    int i;

    for (hi = apr_hash_first(p, serves); hi; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, &name, NULL, NULL);
        APR_ARRAY_PUSH(names, const char *) = name;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), name_cmp);
    for (i = 0; i < names->nelts; ++i) {
        n = APR_ARRAY_IDX(names, i, const char *);
        md_json_setl((long)*(apr_int64_t *)apr_hash_get(serves, n, APR_HASH_KEY_STRING), j, n, NULL);
    }
    return md_json_dump(j, MD_JSON_COMPACT, p);
}

apr_status_t md_farm_node_update(md_farm_node_t *node, md_farm_t *farm, apr_hash_t *serves, apr_pool_t *p)
{
    const md_farm_config_t *cfg = md_farm_config(farm);
    const char *text = serves_text(serves, p), *key = md_farm_key(farm, "nodes", cfg->node, p), *record;
    long ttl;
    apr_status_t rv = APR_SUCCESS;

    /* 1. the lease still there, refreshed at a third of its time (a dead node's record
     *    goes with it within MD_FARM_NODE_TTL seconds) */
    if (node->lease && apr_time_now() >= node->next_refresh) {
        rv = md_etcd_lease_keepalive(&ttl, md_farm_etcd(farm), node->lease, p);
        if (rv == APR_ENOENT) node->lease = 0;
        else if (rv != APR_SUCCESS) return rv;
        else node->next_refresh = apr_time_now() + apr_time_from_sec(MD_FARM_NODE_TTL / 3);
    }
    /* 2. a new lease when there is none: the record went with the old one */
    if (!node->lease) {
        rv = md_etcd_lease_grant(&node->lease, md_farm_etcd(farm), MD_FARM_NODE_TTL, p);
        if (rv != APR_SUCCESS) return rv;
        node->next_refresh = apr_time_now() + apr_time_from_sec(MD_FARM_NODE_TTL / 3);
        node->serves = NULL;
    }
    /* 3. the record, when what the node serves changed or the record is new */
    if (node->serves && !strcmp(node->serves, text)) return APR_SUCCESS;
    record = node_record(cfg->node, text, p);
    rv = md_etcd_put(md_farm_etcd(farm), key, record, strlen(record), node->lease, p);
    if (rv != APR_SUCCESS) return rv;
    apr_pool_clear(node->pool);
    node->serves = apr_pstrdup(node->pool, text);
    return APR_SUCCESS;
}

/* ---- a published set's certificates ------------------------------------------------ */

apr_status_t md_farm_set_certs(md_json_t **pcerts, md_farm_t *farm, const char *name, apr_pool_t *p)
{
    const char *files = md_farm_key(farm, "sets", apr_pstrcat(p, name, "/f/", NULL), p);
    apr_array_header_t *kvs;
    const md_etcd_kv_t *kv;
    md_cert_facts_t *facts;
    md_json_t *certs = md_json_create_array(p), *c;
    const char *file;
    apr_status_t rv;
    int i;

    *pcerts = certs;
    rv = md_etcd_get_prefix(&kvs, NULL, md_farm_etcd(farm), apr_pstrcat(p, files, MD_FN_PUBCERT, NULL),
                            0, p);
    if (rv != APR_SUCCESS) return rv;
    /* pubcert.pem, pubcert.<curve>.pem: one per key spec; the leaf comes first */
    for (i = 0; i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, const md_etcd_kv_t *);
        file = kv->key + strlen(files);
        if (md_cert_facts_from_pem(&facts, kv->value, kv->value_len, 0, p) != APR_SUCCESS) continue;
        c = md_json_create(p);
        md_json_sets(file, c, MD_KEY_FILE, NULL);
        md_json_sets(facts->serial_hex, c, MD_KEY_SERIAL, NULL);
        md_json_sets(md_time_print(facts->not_after, p), c, MD_KEY_VALID_UNTIL, NULL);
        md_json_array_append(certs, c);
    }
    return APR_SUCCESS;
}
