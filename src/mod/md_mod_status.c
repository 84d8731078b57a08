/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Status: the snapshot written at start, the per-process view of it that request
 * threads share, the md-status handler and /.httpd/certificate-status.
 * (server-status: md_mod_server_status.c; metrics: md_mod_metrics.c.) */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <unixd.h>

#include "md_mod.h"
#include "md_json_keys.h"
#include "md_status.h"
#include "md_util.h"
#include "md_version.h"

APLOG_USE_MODULE(md);

#define MD_STATUS_FILE "status.json"
#define MD_CERT_STATUS_PATH "/.httpd/certificate-status"

/* A view shared by request threads; freed when the last user is done with it. */
typedef struct {
    md_status_view_t *view;
    apr_pool_t *pool;
    int refs;
} view_ref_t;

/* This process's state: set in the parent at post_config, inherited by the children. */
static struct {
    const char *path;               /* the snapshot file, NULL without MDs */
    md_store_t *store;              /* for job logs of a single MD */
    apr_thread_mutex_t *lock;
    view_ref_t *current;
    int loading;
} cache;

/* ---- post_config: the snapshot ----------------------------------------------------- */

static apr_status_t snapshot_dir(const char **pdir, server_rec *s, apr_pool_t *p)
{
    const char *dir = ap_runtime_dir_relative(p, MD_STATUS_DIR);
    apr_status_t rv;

    *pdir = dir;
    rv = md_dir_make(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE
                     | APR_FPROT_GREAD | APR_FPROT_GEXECUTE | APR_FPROT_WREAD
                     | APR_FPROT_WEXECUTE, p);
    if (rv != APR_SUCCESS) return rv;
    /* the renewal watchdog, in an unprivileged child, replaces the file */
    if (geteuid() == 0 && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

int md_mod_status_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    const char *dir;
    apr_status_t rv;

    memset(&cache, 0, sizeof(cache));
    mc->status_snap = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (!mc->mds->nelts || !mc->store) return OK;
    apr_thread_mutex_create(&cache.lock, APR_THREAD_MUTEX_DEFAULT, pconf);
    rv = snapshot_dir(&dir, s, ptemp);
    /* a farm's view from before a restart that left the farm is no longer true */
    if (rv == APR_SUCCESS && !mc->farm) md_mod_farm_status_clear(ptemp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD7010: the status directory %s cannot be "
                     "made; status pages show no managed domains. Check DefaultRuntimeDir", dir);
        return OK;
    }
    /* 1. the status of every MD, read from the store once, in one file */
    mc->status_snap = md_status_snap_make(apr_pstrcat(pconf, dir, "/", MD_STATUS_FILE, NULL), pconf);
    md_status_snap_set_owner(mc->status_snap, (int)ap_unixd_config.user_id,
                             (int)ap_unixd_config.group_id);
    rv = md_status_snapshot_write(mc->status_snap, mc->mds, mc->store, ptemp);
    if (rv != APR_SUCCESS) return OK;  /* logged by the core; serving goes on */
    /* 2. what the children need to answer from it */
    cache.path = md_status_snap_path(mc->status_snap);
    cache.store = mc->store;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD7011: status of %d managed domain(s) "
                 "written to %s", mc->mds->nelts, cache.path);
    return OK;
}

/* ---- the shared view ---------------------------------------------------------------- */

static void ref_drop(view_ref_t *ref)
{
    /* called with cache.lock held */
    if (--ref->refs == 0) apr_pool_destroy(ref->pool);
}

static apr_status_t view_release(void *data)
{
    apr_thread_mutex_lock(cache.lock);
    ref_drop(data);
    apr_thread_mutex_unlock(cache.lock);
    return APR_SUCCESS;
}

static view_ref_t *view_load(request_rec *r)
{
    view_ref_t *ref;
    apr_pool_t *pool;
    md_status_view_t *view;
    apr_status_t rv;

    apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    rv = md_status_view_load(&view, cache.path, pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "MD7012: reading the status snapshot %s "
                      "failed; it is written at start and after each renewal run", cache.path);
        apr_pool_destroy(pool);
        return NULL;
    }
    ref = apr_pcalloc(pool, sizeof(*ref));
    ref->view = view;
    ref->pool = pool;
    ref->refs = 1;                  /* held by cache.current */
    return ref;
}

/* One stat per request; the file is parsed again only when it changed, by one thread
 * while the others go on answering from the view before. */
const md_status_view_t *md_mod_status_view(request_rec *r)
{
    view_ref_t *ref = NULL, *fresh;
    apr_finfo_t info;
    int have_info;

    if (!cache.path || !cache.lock) return NULL;
    have_info = apr_stat(&info, cache.path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                         r->pool) == APR_SUCCESS;
    apr_thread_mutex_lock(cache.lock);
    if (cache.current && (!have_info || cache.loading
                          || md_status_view_is_current(cache.current->view, &info))) {
        ref = cache.current;
        ++ref->refs;
    }
    else {
        cache.loading = 1;
    }
    apr_thread_mutex_unlock(cache.lock);
    if (!ref) {
        fresh = view_load(r);
        apr_thread_mutex_lock(cache.lock);
        if (fresh) {
            if (cache.current) ref_drop(cache.current);
            cache.current = fresh;
        }
        ref = cache.current;
        if (ref) ++ref->refs;
        cache.loading = 0;
        apr_thread_mutex_unlock(cache.lock);
    }
    if (!ref) return NULL;
    apr_pool_cleanup_register(r->pool, ref, view_release, apr_pool_cleanup_null);
    return ref->view;
}

/* ---- md-status ------------------------------------------------------------------------ */

static int send_json(request_rec *r, const md_json_t *j)
{
    const char *text = md_json_dump(j, MD_JSON_INDENT, r->pool);

    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rputs(text ? text : "{}", r);
    ap_rputs("\n", r);
    return OK;
}

/* In a farm, an MD's "farm": the farm's generation, this node's, the lock holder and
 * the generation each node serves (md_mod_farm_status.c). */
static md_json_t *farm_md(const md_json_t *farm, const char *name)
{
    return farm && md_json_is_object(farm, MD_KEY_MDS, name, NULL)
           ? md_json_getj(farm, MD_KEY_MDS, name, NULL) : NULL;
}

/* An MD's entry: the snapshot's text, with what the children serve live and the farm's
 * view of it, if any. */
static const char *entry_text(const md_status_md_t *m, const md_live_view_t *live, const md_json_t *farm,
                              apr_pool_t *p)
{
    md_json_t *j, *served = md_mod_live_status(live, m->name, p), *fm = farm_md(farm, m->name);

    if ((!served && !fm) || md_json_parse(&j, m->json, strlen(m->json), p) != APR_SUCCESS) return m->json;
    if (served) md_json_setj(served, j, MD_KEY_LIVE, NULL);
    if (fm) md_json_setj(fm, j, MD_KEY_FARM, NULL);
    return md_json_dump(j, MD_JSON_COMPACT, p);
}

/* The farm as md-status shows it at the top: store, node, engine, nodes (the MDs are
 * shown in their entries). */
static const char *farm_text(const md_json_t *farm, apr_pool_t *p)
{
    md_json_t *j;

    if (!farm) return NULL;
    j = md_json_copy(farm, p);
    md_json_del(j, MD_KEY_MDS, NULL);
    return md_json_dump(j, MD_JSON_COMPACT, p);
}

/* All MDs, sorted by name, without job logs: the entries are JSON text already. */
static int send_list(request_rec *r, const md_status_view_t *view)
{
    md_live_view_t *live = md_mod_live_view_load(r->pool);
    md_json_t *farm = md_mod_farm_status_load(r->pool);
    const char *ft = farm_text(farm, r->pool);
    int i;

    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rputs("{\"" MD_KEY_VERSION "\":\"" MOD_MD_VERSION "\",", r);
    if (ft) ap_rputs(apr_pstrcat(r->pool, "\"" MD_KEY_FARM "\":", ft, ",", NULL), r);
    ap_rputs("\"" MD_KEY_MANAGED_DOMAINS "\":[", r);
    for (i = 0; view && i < view->mds->nelts; ++i) {
        if (i) ap_rputc(',', r);
        ap_rputs(entry_text(APR_ARRAY_IDX(view->mds, i, const md_status_md_t *), live, farm, r->pool), r);
    }
    ap_rputs("]}\n", r);
    return OK;
}

/* One MD with the activity log of its renewal (staging/<md>/job.json). */
static int send_one(request_rec *r, const md_status_md_t *m)
{
    md_json_t *j, *job, *served, *fm;

    if (md_json_parse(&j, m->json, strlen(m->json), r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cache.store && md_json_has(j, MD_KEY_RENEWAL, NULL)
        && md_store_load_json(&job, cache.store, MD_SG_STAGING, m->name, MD_FN_JOB, r->pool) == APR_SUCCESS
        && md_json_has(job, MD_KEY_LOG, NULL)) {
        md_json_setj(md_json_getj(job, MD_KEY_LOG, NULL), j, MD_KEY_RENEWAL, MD_KEY_LOG, NULL);
    }
    served = md_mod_live_status(md_mod_live_view_load(r->pool), m->name, r->pool);
    if (served) md_json_setj(served, j, MD_KEY_LIVE, NULL);
    fm = farm_md(md_mod_farm_status_load(r->pool), m->name);
    if (fm) md_json_setj(fm, j, MD_KEY_FARM, NULL);
    return send_json(r, j);
}

int md_mod_status_handler(request_rec *r)
{
    const md_status_view_t *view;
    const md_status_md_t *m;
    const char *name;

    if (!r->handler || strcmp(r->handler, "md-status")) return DECLINED;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    view = md_mod_status_view(r);
    /* GET <location>/<md-or-domain>: the rest of the URL after the location */
    name = r->path_info;
    while (name && *name == '/') ++name;
    if (!name || !*name) return send_list(r, view);
    m = md_status_view_find(view, name, r->pool);
    return m ? send_one(r, m) : HTTP_NOT_FOUND;
}

/* ---- /.httpd/certificate-status ----------------------------------------------------- */

/* Answered at post_read_request, before mod_ssl, which answers 503 on a connection
 * with a fallback certificate: the renewal's progress is visible there too. */
int md_mod_status_cert_status(request_rec *r)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    const md_status_md_t *m;

    if (!r->parsed_uri.path || strcmp(r->parsed_uri.path, MD_CERT_STATUS_PATH)) return DECLINED;
    if (!mc->certificate_status || !r->hostname) return DECLINED;
    m = md_status_view_find(md_mod_status_view(r), r->hostname, r->pool);
    if (!m) return DECLINED;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    send_json(r, md_status_public_json(m, r->pool));
    return DONE;
}
