/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The farm's view for status and metrics (docs/farm.md, "Status and metrics").
 * The renewal watchdog looks at the engine every few seconds (md_mod_farm.c); each time,
 * it records what this node serves in the engine (nodes/<node>, md_farm_admin.c) and
 * writes what it saw to DefaultRuntimeDir/md-status/farm.json. The status handlers run
 * in children that must not make an engine request per status request (nor read the
 * farm key): they read that file. */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md_mod.h"
#include "md_farm.h"
#include "md_json_keys.h"
#include "md_time.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

#define FARM_VIEW_FILE "farm.json"
#define FARM_VIEW_MAX (4 * 1024 * 1024)

/* The watchdog's own state, in the one child it runs in. */
static struct {
    apr_pool_t *pool;
    md_farm_node_t *node;
    int record_failed;               /* MD1786 logged, until a record is written again */
} wd;

static const char *view_path(apr_pool_t *p)
{
    return ap_runtime_dir_relative(p, MD_STATUS_DIR "/" FARM_VIEW_FILE);
}

md_json_t *md_mod_farm_status_load(apr_pool_t *p)
{
    const char *path = view_path(p), *data;
    apr_size_t len;
    md_json_t *j;

    if (!path || md_file_read(&data, &len, path, FARM_VIEW_MAX, p) != APR_SUCCESS) return NULL;
    if (md_json_parse(&j, data, len, p) != APR_SUCCESS || !md_json_is_object(j, NULL)) return NULL;
    return j;
}

void md_mod_farm_status_clear(apr_pool_t *p)
{
    apr_file_remove(view_path(p), p);
}

/* The engine's state, "since" kept from the view before while it did not change (also
 * across restarts: the file outlives the child). */
static void engine_set(md_json_t *view, const md_json_t *before, int reachable, const char *error,
                       apr_pool_t *p)
{
    const char *now = md_time_print(apr_time_now(), p), *since = now;

    if (before && md_json_has(before, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL)
        && md_json_getb(before, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL) == reachable
        && md_json_gets(before, MD_KEY_ENGINE, MD_KEY_SINCE, NULL)) {
        since = md_json_gets(before, MD_KEY_ENGINE, MD_KEY_SINCE, NULL);
    }
    md_json_setb(reachable, view, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL);
    md_json_sets(since, view, MD_KEY_ENGINE, MD_KEY_SINCE, NULL);
    md_json_sets(now, view, MD_KEY_ENGINE, MD_KEY_CHECKED, NULL);
    if (error) md_json_sets(error, view, MD_KEY_ENGINE, MD_KEY_ERROR, NULL);
}

/* Per MD: this node's generation, and the generation each node serves of it. */
static void mds_complete(md_json_t *view, md_mod_conf_t *mc, apr_hash_t *serves, apr_pool_t *p)
{
    md_json_t *nodes = md_json_getj(view, MD_KEY_NODES, NULL), *n;
    const char *node, *name;
    apr_int64_t *gen;
    apr_size_t k;
    int i;

    for (i = 0; i < mc->watched->nelts; ++i) {
        name = APR_ARRAY_IDX(mc->watched, i, md_watch_t *)->md->name;
        gen = apr_hash_get(serves, name, APR_HASH_KEY_STRING);
        if (!md_json_has(view, MD_KEY_MDS, name, MD_KEY_GENERATION, NULL)) {
            md_json_setl(0, view, MD_KEY_MDS, name, MD_KEY_GENERATION, NULL);
        }
        md_json_setl(gen ? (long)*gen : 0, view, MD_KEY_MDS, name, MD_KEY_LOCAL_GENERATION, NULL);
        md_json_setj(md_json_create(p), view, MD_KEY_MDS, name, MD_KEY_NODES, NULL);
        for (k = 0; nodes && k < md_json_array_len(nodes); ++k) {
            n = md_json_array_at(nodes, k);
            node = md_json_gets(n, MD_KEY_NODE, NULL);
            if (node && md_json_has(n, MD_KEY_SERVES, name, NULL)) {
                md_json_setl(md_json_getl(n, MD_KEY_SERVES, name, NULL), view, MD_KEY_MDS, name,
                             MD_KEY_NODES, node, NULL);
            }
        }
    }
}

/* What this node has of each MD: the generation pulled or published last. */
static apr_hash_t *local_serves(md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_hash_t *serves = apr_hash_make(p);
    apr_int64_t *gen;
    const char *name;
    int i;

    for (i = 0; i < mc->watched->nelts; ++i) {
        name = APR_ARRAY_IDX(mc->watched, i, md_watch_t *)->md->name;
        gen = apr_palloc(p, sizeof(*gen));
        *gen = md_farm_local_generation(mc->store, name, p);
        if (*gen > 0) apr_hash_set(serves, name, APR_HASH_KEY_STRING, gen);
    }
    return serves;
}

static void node_record(md_farm_t *farm, apr_hash_t *serves, server_rec *s, apr_pool_t *p)
{
    apr_status_t rv;

    if (!wd.pool) {
        apr_pool_create(&wd.pool, NULL);
        wd.node = md_farm_node_make(wd.pool);
    }
    rv = md_farm_node_update(wd.node, farm, serves, p);
    if (rv != APR_SUCCESS && !wd.record_failed) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "MD1786: this node's record in the farm (%s) "
                     "could not be written: %s; the other nodes' status does not list it",
                     md_farm_config(farm)->node, md_etcd_error(md_farm_etcd(farm)));
    }
    wd.record_failed = rv != APR_SUCCESS;
}

void md_mod_farm_status_update(md_mod_conf_t *mc, server_rec *s, md_farm_t *farm, apr_status_t rv,
                               md_json_t *engine_view, apr_pool_t *p)
{
    md_json_t *before = md_mod_farm_status_load(p), *view;
    apr_hash_t *serves = local_serves(mc, p);
    const char *text, *path = view_path(p);

    /* 1. what the engine holds, or what it held when it last answered */
    if (rv == APR_SUCCESS && engine_view) {
        if (farm) node_record(farm, serves, s, p);
        view = engine_view;
    }
    else {
        view = md_json_create(p);
        md_json_setj(before && md_json_is_object(before, MD_KEY_MDS, NULL)
                     ? md_json_getj(before, MD_KEY_MDS, NULL) : md_json_create(p), view, MD_KEY_MDS, NULL);
        md_json_setj(before && md_json_is_array(before, MD_KEY_NODES, NULL)
                     ? md_json_getj(before, MD_KEY_NODES, NULL) : md_json_create_array(p),
                     view, MD_KEY_NODES, NULL);
    }
    /* 2. this node and the engine's state */
    md_json_sets("etcd", view, MD_KEY_STORE, NULL);
    md_json_sets(farm ? md_farm_config(farm)->node : "", view, MD_KEY_NODE, NULL);
    md_json_sets(md_time_print(apr_time_now(), p), view, MD_KEY_WRITTEN, NULL);
    engine_set(view, before, rv == APR_SUCCESS,
               rv == APR_SUCCESS ? NULL : (farm ? md_etcd_error(md_farm_etcd(farm)) : "no client"), p);
    mds_complete(view, mc, serves, p);
    /* 3. the file the children read; rebuilt at the next look when lost */
    text = md_json_dump(view, MD_JSON_INDENT, p);
    if (!text || md_file_write_scratch(path, text, strlen(text), APR_FPROT_UREAD | APR_FPROT_UWRITE
                                       | APR_FPROT_GREAD | APR_FPROT_WREAD, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD1787: the farm's view %s could not be "
                     "written; status and metrics show an older one", path);
    }
}
