/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP stapling, the httpd side (docs/ocsp.md):
 *
 * - Priming (parent, mod_ssl's post_config): mod_ssl offers every certificate with its
 *   issuer through ssl_ocsp_prime_hook. We take those with stapling on, load their
 *   persisted response (ocsp/<md or "other">/ocsp-<hexid>.json) into memory and say OK.
 * - Serving (children, every handshake): ssl_ocsp_get_resp_hook hands out the response
 *   from memory. A child notices a response renewed by the watchdog (possibly in another
 *   child) by looking at the file's mtime, at most once every MD_STAPLING_RECHECK per
 *   certificate, and reads the file only when it changed: no store read per handshake.
 * - Refreshing (one watchdog thread among the children): fetches, concurrently, every
 *   response whose MDStaplingRenewWindow has opened, checks it, persists it, swaps it
 *   into memory; failed fetches back off. A revoked certificate is reported, and its
 *   persisted status is the marker the renewal decision reads (md_ocsp_md_revoked).
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_ssl.h>
#include <mod_watchdog.h>

#include "md_mod.h"
#include "md_version.h"
#include "md_job.h"
#include "md_ocsp.h"
#include "md_status.h"
#include "md_util.h"
#include "md_time.h"

APLOG_USE_MODULE(md);

#define MD_STAPLING_WATCHDOG "_md_ocsp_"
#define MD_STAPLING_TICK apr_time_from_sec(1)
#define MD_STAPLING_RECHECK apr_time_from_sec(2)
#define MD_STAPLING_PARALLEL 8

/* One primed certificate. The first block is fixed at priming; resp/mtime/checked_at
 * change under the mutex; the watchdog block is touched by the watchdog thread only. */
typedef struct {
    unsigned char id[MD_OCSP_ID_LEN];
    const char *name;             /* store directory: the MD's name or "other" */
    const char *file;             /* ocsp-<hexid>.json */
    const char *url;              /* the responder */
    const char *serial;           /* for messages */
    const char *proxy_url;
    md_cert_t *cert, *issuer;
    apr_thread_mutex_t *mutex;
    apr_pool_t *resp_pool;        /* unmanaged: replaced with each new response */
    md_ocsp_resp_t *resp;
    apr_time_t mtime;             /* of the file resp came from */
    apr_time_t checked_at;
    apr_time_t next_fetch, fetched_at;
    int errors;
} stapling_entry_t;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *by_id;
    apr_hash_t *skipped;          /* ids without a responder, reported once */
    apr_array_header_t *entries;  /* stapling_entry_t* */
    /* certificates that go live in a child later (md_mod_live.c) are added at run time:
     * by_id and entries change under the lock, in a pool of the child's own */
    apr_thread_mutex_t *lock;
    apr_pool_t *live_pool;        /* unmanaged, made with the first one */
    volatile apr_uint32_t added;  /* one was added: the watchdog looks at once */
} stapling_reg_t;

/* The certificates of this configuration cycle, made at the first prime call. */
static stapling_reg_t *current_reg;

/* Set when the child exits: requests to responders in flight are aborted at once and
 * no new one starts, so a silent responder never holds the child's exit. */
static volatile apr_uint32_t stapling_stopping;

static apr_status_t reg_cleanup(void *data)
{
    stapling_reg_t *reg = data;

    if (reg->live_pool) apr_pool_destroy(reg->live_pool);
    reg->live_pool = NULL;
    if (current_reg == data) current_reg = NULL;
    return APR_SUCCESS;
}

static stapling_reg_t *reg_get(apr_pool_t *p)
{
    if (!current_reg) {
        current_reg = apr_pcalloc(p, sizeof(*current_reg));
        current_reg->p = p;
        current_reg->by_id = apr_hash_make(p);
        current_reg->skipped = apr_hash_make(p);
        current_reg->entries = apr_array_make(p, 10, sizeof(stapling_entry_t *));
        apr_thread_mutex_create(&current_reg->lock, APR_THREAD_MUTEX_DEFAULT, p);
        apr_pool_cleanup_register(p, current_reg, reg_cleanup, apr_pool_cleanup_null);
    }
    return current_reg;
}

static int is_dry_run(void)
{
    return ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
}

/* ---- the response in memory ------------------------------------------------------- */

static apr_status_t entry_pool_cleanup(void *data)
{
    stapling_entry_t *e = data;

    if (e->resp_pool) apr_pool_destroy(e->resp_pool);
    e->resp_pool = NULL;
    e->resp = NULL;
    return APR_SUCCESS;
}

/* Make resp (or nothing) the served response; call with the mutex held. The response
 * is copied into a pool of its own, so that threads may swap it without sharing one. */
static void entry_swap(stapling_entry_t *e, const md_ocsp_resp_t *resp, apr_time_t mtime)
{
    apr_pool_t *old = e->resp_pool, *np = NULL;
    md_ocsp_resp_t *copy = NULL;

    if (resp && apr_pool_create_unmanaged_ex(&np, NULL, NULL) == APR_SUCCESS) {
        copy = apr_pmemdup(np, resp, sizeof(*resp));
        copy->der = apr_pmemdup(np, resp->der, resp->der_len);
        copy->fetched_by = resp->fetched_by ? apr_pstrdup(np, resp->fetched_by) : NULL;
    }
    e->resp_pool = np;
    e->resp = copy;
    e->mtime = mtime;
    if (old) apr_pool_destroy(old);
}

static apr_time_t file_mtime(const md_mod_conf_t *mc, const stapling_entry_t *e, apr_pool_t *p)
{
    apr_finfo_t info;

    if (!mc->store) return 0;
    if (md_store_info(&info, mc->store, MD_SG_OCSP, e->name, e->file, p) != APR_SUCCESS) return 0;
    return info.mtime;
}

/* Read the persisted response when its file changed; call with the mutex held. */
static void entry_reload(const md_mod_conf_t *mc, stapling_entry_t *e, apr_pool_t *p)
{
    md_ocsp_resp_t *resp;
    apr_time_t mtime = file_mtime(mc, e, p);

    if (!mtime || mtime == e->mtime) return;
    if (md_ocsp_resp_load(&resp, mc->store, e->name, e->file, p) == APR_SUCCESS) {
        entry_swap(e, resp, mtime);
    }
}

static stapling_entry_t *entry_find(stapling_reg_t *reg, const char *id, apr_size_t id_len)
{
    stapling_entry_t *e;

    if (!reg) return NULL;
    apr_thread_mutex_lock(reg->lock);
    e = apr_hash_get(reg->by_id, id, (apr_ssize_t)id_len);
    apr_thread_mutex_unlock(reg->lock);
    return e;
}

int md_mod_ocsp_get_resp(server_rec *s, conn_rec *c, const char *id, apr_size_t id_len,
                         ap_ssl_ocsp_copy_resp *cb, void *userdata)
{
    stapling_entry_t *e = entry_find(current_reg, id, id_len);
    md_mod_conf_t *mc = md_config_get(s)->mc;
    apr_time_t now = apr_time_now();
    int rv = DECLINED;

    if (!e) return DECLINED;
    apr_thread_mutex_lock(e->mutex);
    if (now - e->checked_at >= MD_STAPLING_RECHECK) {
        e->checked_at = now;
        entry_reload(mc, e, c->pool);
    }
    if (md_ocsp_servable(e->resp, now)) {
        cb(e->resp->der, e->resp->der_len, userdata);
        rv = OK;
    }
    apr_thread_mutex_unlock(e->mutex);
    if (rv != OK) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "MD8002: %s: no valid OCSP response "
                      "to staple for certificate %s", e->name, e->serial);
    }
    return rv;
}

/* ---- priming ------------------------------------------------------------------------ */

/* Is stapling on for this certificate of server s? Returns the store name or NULL. */
static const char *stapling_name(server_rec *s, const char **pproxy)
{
    md_t *md = md_mod_vhosts_md_for_server(s);
    const md_settings_t *st = &md_config_get(s)->settings;

    *pproxy = NULL;
    if (md && md->state == MD_S_COMPLETE) {
        *pproxy = md->proxy_url;
        return md->stapling ? md->name : NULL;
    }
    *pproxy = st->proxy_url;
    return (st->stapling > 0 && st->staple_others != 0) ? MD_OCSP_OTHER : NULL;
}

static stapling_entry_t *entry_make(apr_pool_t *p, const char *id, const char *name,
                                    md_cert_t *cert, md_cert_t *issuer)
{
    stapling_entry_t *e = apr_pcalloc(p, sizeof(*e));

    memcpy(e->id, id, MD_OCSP_ID_LEN);
    e->name = apr_pstrdup(p, name);
    e->file = md_ocsp_file_name(e->id, MD_OCSP_ID_LEN, p);
    e->cert = cert;
    e->issuer = issuer;
    e->serial = md_cert_serial_hex(e->cert, p);
    e->url = md_ocsp_responder_url(e->cert, p);
    if (apr_thread_mutex_create(&e->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_cleanup_register(p, e, entry_pool_cleanup, apr_pool_cleanup_null);
    return e;
}

/* Load the persisted response and plan the first fetch. */
static void entry_init(stapling_entry_t *e, md_mod_conf_t *mc, server_rec *s, apr_pool_t *ptemp)
{
    apr_time_t now = apr_time_now();

    entry_reload(mc, e, ptemp);
    e->checked_at = now;
    e->next_fetch = md_ocsp_renew_at(&mc->staple_renew_window, e->resp, 0, now);
    if (is_dry_run()) return;
    if (e->resp && e->resp->status == MD_OCSP_REVOKED) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD8003: %s: certificate %s is REVOKED "
                     "according to its last OCSP response", e->name, e->serial);
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD8004: %s: stapling certificate %s, "
                 "responder %s, %s response in store", e->name, e->serial, e->url,
                 e->resp ? md_ocsp_status_name(e->resp->status) : "no");
}

int md_mod_ocsp_prime(server_rec *s, apr_pool_t *p, const char *id, apr_size_t id_len,
                      const char *pem)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    stapling_reg_t *reg;
    stapling_entry_t *e;
    apr_array_header_t *chain;
    const char *name, *proxy;
    apr_pool_t *ptemp;

    name = stapling_name(s, &proxy);
    if (!name || id_len != MD_OCSP_ID_LEN) return DECLINED;
    reg = reg_get(p);
    if (apr_hash_get(reg->by_id, id, (apr_ssize_t)id_len)) return OK;  /* primed before */
    if (apr_hash_get(reg->skipped, id, (apr_ssize_t)id_len)) return DECLINED;
    if (md_chain_from_pem(&chain, pem, strlen(pem), reg->p) != APR_SUCCESS || chain->nelts < 2) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD8005: %s: no issuer with the "
                     "certificate offered for stapling; not stapling it", name);
        return DECLINED;
    }
    e = entry_make(reg->p, id, name, APR_ARRAY_IDX(chain, 0, md_cert_t *),
                   APR_ARRAY_IDX(chain, 1, md_cert_t *));
    if (!e) return DECLINED;
    if (!e->url) {
        /* CAs without OCSP (Let's Encrypt since 2025): nothing to staple, nothing wrong */
        if (!is_dry_run()) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD8006: %s: certificate %s names no "
                         "OCSP responder; nothing to staple", name, e->serial);
        }
        apr_hash_set(reg->skipped, e->id, MD_OCSP_ID_LEN, e);
        return DECLINED;
    }
    e->proxy_url = proxy;
    apr_pool_create(&ptemp, p);
    entry_init(e, mc, s, ptemp);
    apr_pool_destroy(ptemp);
    apr_hash_set(reg->by_id, e->id, MD_OCSP_ID_LEN, e);
    APR_ARRAY_PUSH(reg->entries, stapling_entry_t *) = e;
    return OK;
}

/* A certificate gone live in this child: an entry of its own (copies of the certificates
 * in the registry's live pool: the pack they came from may go before the child does). */
void md_mod_ocsp_live_add(server_rec *s, const md_t *md, const md_cert_t *cert,
                          const md_cert_t *issuer)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    stapling_reg_t *reg = current_reg;
    md_cert_facts_t *facts;
    stapling_entry_t *e = NULL;
    apr_pool_t *ptemp;

    if (!reg || !md->stapling) return;
    apr_pool_create_unmanaged_ex(&ptemp, NULL, NULL);
    apr_thread_mutex_lock(reg->lock);
    if (!reg->live_pool) apr_pool_create_unmanaged_ex(&reg->live_pool, NULL, NULL);
    if (md_cert_facts_of(&facts, cert, ptemp) == APR_SUCCESS
        && !apr_hash_get(reg->by_id, facts->sha1, MD_OCSP_ID_LEN)) {
        e = entry_make(reg->live_pool, (const char *)facts->sha1, md->name,
                       md_cert_wrap(X509_dup(md_cert_x509(cert)), reg->live_pool),
                       md_cert_wrap(X509_dup(md_cert_x509(issuer)), reg->live_pool));
    }
    if (e && e->url) {
        e->proxy_url = md->proxy_url;
        entry_init(e, mc, s, ptemp);
        apr_hash_set(reg->by_id, e->id, MD_OCSP_ID_LEN, e);
        APR_ARRAY_PUSH(reg->entries, stapling_entry_t *) = e;
        apr_atomic_set32(&reg->added, 1);
    }
    apr_thread_mutex_unlock(reg->lock);
    apr_pool_destroy(ptemp);
}

/* ---- the watchdog ------------------------------------------------------------------- */

typedef struct {
    md_mod_conf_t *mc;
    server_rec *s;
    apr_time_t next_wake;
} stapling_wd_t;

/* One fetch, run in a thread of its own: only network and crypto, no store, no log
 * of outcomes (the watchdog thread does that once, in fetch_finish). In a farm, the
 * fetch goes through it: the farm's response, or one fetched for the farm. */
typedef struct {
    stapling_entry_t *e;
    md_mod_conf_t *mc;
    md_ocsp_resp_t own;           /* the entry's response when the fetch began (no DER) */
    int has_own;
    md_http_t *http;
    apr_pool_t *p;
    md_result_t *result;
    md_ocsp_resp_t *resp;
    md_farm_ocsp_outcome_t farm;
    apr_status_t rv;
} stapling_fetch_t;

static apr_status_t fetch_responder(md_ocsp_resp_t **presp, void *baton, md_result_t *result,
                                    apr_pool_t *p)
{
    stapling_fetch_t *f = baton;
    md_ocsp_req_t *req = NULL;
    apr_status_t rv;

    rv = md_ocsp_req_create(&req, f->e->cert, f->e->issuer, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "building the OCSP request failed");
        return rv;
    }
    return md_ocsp_fetch(presp, f->http, f->e->url, req, result, p);
}

static void fetch_do(stapling_fetch_t *f)
{
    md_farm_ocsp_req_t req;

    if (!f->mc->farm) {
        f->rv = fetch_responder(&f->resp, f, f->result, f->p);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.hexid = md_hex_encode(f->e->id, MD_OCSP_ID_LEN, f->p);
    req.cert = f->e->cert;
    req.issuer = f->e->issuer;
    req.own = f->has_own ? &f->own : NULL;
    req.window = &f->mc->staple_renew_window;
    req.fetch = fetch_responder;
    req.baton = f;
    f->rv = md_mod_farm_ocsp_obtain(&f->resp, &f->farm, f->mc, &req, f->result, f->p);
}

static void *APR_THREAD_FUNC fetch_run(apr_thread_t *thread, void *data)
{
    fetch_do(data);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static double jitter(void)
{
    unsigned char b;

    md_rand_bytes(&b, 1);
    return (double)b / 255.0 - 0.5;
}

/* ocsp-renewed (at most once a day) and ocsp-errored (once an hour) for MDMessageCmd; the
 * rate limits read the log of ocsp/<name>/job.json. Certificates mod_md does not manage
 * report under the name "other". */
static void stapling_event(stapling_wd_t *wd, const char *reason, const char *name,
                           md_job_t *job, apr_pool_t *p)
{
    md_event_conf_t *events = md_config_event_conf(wd->mc, p);
    const md_t *md = NULL;
    int i, ran;

    events->cancel = &stapling_stopping;
    for (i = 0; wd->mc->mds && i < wd->mc->mds->nelts && !md; ++i) {
        const md_t *m = APR_ARRAY_IDX(wd->mc->mds, i, const md_t *);
        if (!strcmp(m->name, name)) md = m;
    }
    if (!md) md = md_create(p, name);
    md_event_raise(events, reason, md, job, NULL, &ran, p);
}

static void log_success(stapling_wd_t *wd, stapling_entry_t *e, const md_ocsp_resp_t *resp,
                        md_ocsp_status_t before, apr_pool_t *p)
{
    const char *until = resp->valid_until ? md_time_print(resp->valid_until, p) : "(no nextUpdate)";

    if (resp->status == MD_OCSP_GOOD) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, wd->s, "MD8010: %s: OCSP response for "
                     "certificate %s renewed: good, valid until %s", e->name, e->serial, until);
    }
    else if (resp->status != before) {
        int managed = strcmp(e->name, MD_OCSP_OTHER) != 0;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wd->s, "MD8011: %s: the OCSP responder "
                     "says certificate %s is %s%s", e->name, e->serial,
                     resp->status == MD_OCSP_REVOKED ? "REVOKED" : "unknown",
                     managed && resp->status == MD_OCSP_REVOKED
                     ? "; a new certificate is ordered now" : "");
        if (managed && resp->status == MD_OCSP_REVOKED) {
            md_request_add(wd->mc->store, e->name, apr_psprintf(p, "the OCSP responder says "
                                                                "certificate %s is revoked",
                                                                e->serial), p);
        }
    }
}

/* Persist, serve and report one fetch's outcome; plan the next fetch. */
/* md-status shows what is stapled: the certificate's "ocsp" member follows the response. */
static void status_follow(stapling_wd_t *wd, const stapling_entry_t *e, const md_ocsp_resp_t *resp,
                          apr_pool_t *p)
{
    md_cert_facts_t *facts;

    if (md_cert_facts_of(&facts, e->cert, p) != APR_SUCCESS) return;
    md_status_snapshot_ocsp(wd->mc->status_snap, e->name,
                            md_hex_encode(facts->sha256, sizeof(facts->sha256), p), resp, p);
}

static void fetch_finish(stapling_wd_t *wd, stapling_fetch_t *f, apr_pool_t *p)
{
    stapling_entry_t *e = f->e;
    md_job_t *job = md_job_load(wd->mc->store, MD_SG_OCSP, e->name, p);
    md_ocsp_status_t before = e->resp ? e->resp->status : MD_OCSP_UNKNOWN;
    apr_time_t now = apr_time_now();
    apr_interval_time_t delay;

    /* in a farm, another node may be fetching it now: its answer is looked for soon */
    if (f->rv == APR_SUCCESS && md_mod_farm_ocsp_report(&e->next_fetch, wd->s, e->name, e->serial,
                                                        &f->farm, f->rv)) {
        return;
    }
    job->last_run = now;
    if (f->rv == APR_SUCCESS && wd->mc->farm) f->resp->fetched_by = f->farm.by;   /* for the status */
    if (f->rv == APR_SUCCESS) {
        f->rv = md_ocsp_resp_save(f->resp, wd->mc->store, e->name, e->file, p);
        if (f->rv != APR_SUCCESS) md_result_set(f->result, f->rv, "saving the OCSP response failed");
    }
    if (f->rv == APR_SUCCESS) {
        apr_thread_mutex_lock(e->mutex);
        entry_swap(e, f->resp, file_mtime(wd->mc, e, p));
        apr_thread_mutex_unlock(e->mutex);
        e->errors = 0;
        e->fetched_at = now;
        e->next_fetch = md_ocsp_renew_at(&wd->mc->staple_renew_window, f->resp, now, now);
        /* who fetched it, for the status: in a farm, often another node */
        md_result_set(f->result, APR_SUCCESS, "certificate %s: %s%s%s", e->serial,
                      md_ocsp_status_name(f->resp->status), f->farm.by ? ", fetched by " : "",
                      f->farm.by ? f->farm.by : "");
        job->errors = 0;
        md_job_log(job, "finished", f->result, p);
        log_success(wd, e, f->resp, before, p);
        status_follow(wd, e, f->resp, p);
        stapling_event(wd, "ocsp-renewed", e->name, job, p);
    }
    else {
        ++e->errors;
        ++job->errors;
        delay = md_ocsp_retry_delay(e->errors, jitter());
        if (f->result->retry_after > now + delay) delay = f->result->retry_after - now;
        e->next_fetch = now + delay;
        md_job_log(job, "ocsp-error", f->result, p);
        ap_log_error(APLOG_MARK, APLOG_WARNING, f->rv, wd->s, "MD8012: %s: OCSP response for "
                     "certificate %s from %s failed (attempt %d), next try in %s: %s", e->name,
                     e->serial, e->url, e->errors, md_duration_print(apr_time_from_sec(apr_time_sec(delay)), p),
                     md_result_line(f->result, p));
        stapling_event(wd, "ocsp-errored", e->name, job, p);
    }
    job->last = md_result_to_json(f->result, p);
    job->next_run = e->next_fetch;
    md_job_save(job, wd->mc->store, MD_SG_OCSP, p);
}

static md_http_t *http_for(stapling_wd_t *wd, const stapling_entry_t *e, apr_pool_t *p)
{
    md_http_config_t cfg = wd->mc->http;
    md_http_t *http = NULL;

    cfg.proxy_url = e->proxy_url;
    cfg.user_agent = MD_USER_AGENT " OCSP";
    cfg.cancel = &stapling_stopping;
    cfg.connect_timeout = apr_time_from_sec(10);
    cfg.timeout = apr_time_from_sec(30);
    cfg.max_body = 64 * 1024;
    md_http_create(&http, &cfg, p);
    return http;
}

/* Fetch up to MD_STAPLING_PARALLEL responses side by side, then finish them in turn.
 * Each fetch has an unmanaged pool (an allocator of its own): pools sharing an
 * allocator must not be used from two threads. */
static void fetch_batch(stapling_wd_t *wd, stapling_entry_t **due, int n)
{
    stapling_fetch_t fetches[MD_STAPLING_PARALLEL];
    apr_thread_t *threads[MD_STAPLING_PARALLEL];
    apr_status_t rv;
    int i;

    for (i = 0; i < n; ++i) {
        stapling_fetch_t *f = &fetches[i];
        memset(f, 0, sizeof(*f));
        f->e = due[i];
        f->mc = wd->mc;
        apr_thread_mutex_lock(f->e->mutex);
        if (f->e->resp) {
            f->own = *f->e->resp;          /* its times: the DER stays with the entry */
            f->own.der = NULL;
            f->own.der_len = 0;
            f->own.fetched_by = NULL;
            f->has_own = 1;
        }
        apr_thread_mutex_unlock(f->e->mutex);
        apr_pool_create_unmanaged_ex(&f->p, NULL, NULL);
        f->http = http_for(wd, f->e, f->p);
        f->result = md_result_make(f->p);
        threads[i] = NULL;
        if (apr_thread_create(&threads[i], NULL, fetch_run, f, f->p) != APR_SUCCESS) {
            threads[i] = NULL;
            fetch_do(f);
        }
    }
    for (i = 0; i < n; ++i) {
        if (threads[i]) apr_thread_join(&rv, threads[i]);
        fetch_finish(wd, &fetches[i], fetches[i].p);
        apr_pool_destroy(fetches[i].p);
    }
}

static apr_status_t stapling_tick(int state, void *baton, apr_pool_t *ptemp)
{
    stapling_wd_t *wd = baton;
    stapling_entry_t *due[MD_STAPLING_PARALLEL];
    apr_array_header_t *entries;
    apr_time_t now = apr_time_now(), next = 0;
    int i, n = 0;

    if (state != AP_WATCHDOG_STATE_RUNNING || !current_reg || !wd->mc->store) return APR_SUCCESS;
    md_status_snapshot_flush(wd->mc->status_snap, 0, ptemp);   /* what a fetch left unwritten */
    if ((wd->next_wake > now && !apr_atomic_xchg32(&current_reg->added, 0))
        || apr_atomic_read32(&stapling_stopping)) {
        return APR_SUCCESS;
    }
    /* the entries as they are now: a live certificate may add one meanwhile */
    apr_thread_mutex_lock(current_reg->lock);
    entries = apr_array_copy(ptemp, current_reg->entries);
    apr_thread_mutex_unlock(current_reg->lock);
    for (i = 0; i < entries->nelts; ++i) {
        stapling_entry_t *e = APR_ARRAY_IDX(entries, i, stapling_entry_t *);
        if (e->next_fetch <= now) {
            due[n++] = e;
            if (n == MD_STAPLING_PARALLEL) {
                fetch_batch(wd, due, n);
                n = 0;
            }
        }
    }
    if (n) fetch_batch(wd, due, n);
    for (i = 0; i < entries->nelts; ++i) {
        stapling_entry_t *e = APR_ARRAY_IDX(entries, i, stapling_entry_t *);
        if (!next || e->next_fetch < next) next = e->next_fetch;
    }
    wd->next_wake = next;
    return APR_SUCCESS;
}

static apr_status_t stapling_child_exit(void *baton)
{
    (void)baton;
    apr_atomic_set32(&stapling_stopping, 1);
    return APR_SUCCESS;
}

void md_mod_ocsp_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_pool_pre_cleanup_register(pchild, NULL, stapling_child_exit);
}

/* ---- start ------------------------------------------------------------------------- */

int md_mod_ocsp_configured(const md_mod_conf_t *mc, server_rec *s)
{
    int i;

    for (; s; s = s->next) {
        if (md_config_get(s)->settings.stapling > 0) return 1;
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        if (APR_ARRAY_IDX(mc->mds, i, md_t *)->stapling) return 1;
    }
    return 0;
}

/* MDMustStaple on, but the CA put no OCSP responder into the certificate: every
 * client that honours must-staple will refuse it. */
static void must_staple_check(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    apr_array_header_t *chain;
    int i, k;

    for (i = 0; mc->store && i < mc->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        if (!md->must_staple || md->state != MD_S_COMPLETE || md->cert_files->nelts) continue;
        for (k = 0; k < md_pkey_spec_count(md); ++k) {
            if (md_store_load_chain(&chain, mc->store, MD_SG_DOMAINS, md->name,
                    md_pkey_file_name(md_pkey_spec_at(md, k), MD_FN_PUBCERT, p), p) != APR_SUCCESS
                || !chain->nelts || md_ocsp_responder_url(APR_ARRAY_IDX(chain, 0, md_cert_t *), p)) {
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD8020: %s: MDMustStaple is on, but "
                         "the certificate names no OCSP responder (its CA does not run OCSP, as "
                         "Let's Encrypt since 2025): clients that honour must-staple will refuse "
                         "it. Turn MDMustStaple off for this domain.", md->name);
        }
    }
}

static apr_status_t stapling_start(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    stapling_wd_t *wd;
    apr_status_t rv;
    int removed;

    /* 1. the must-staple check holds with or without our stapling */
    must_staple_check(mc, s, p);
    if (!md_mod_ocsp_configured(mc, s) || !mc->store) return APR_SUCCESS;
    /* 2. responses nobody wrote for MDStaplingKeepResponse and no longer valid go */
    removed = md_ocsp_prune(mc->store, mc->staple_keep_response, apr_time_now(), p);
    if (removed) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD8021: removed %d old OCSP response(s) "
                     "from the store", removed);
    }
    /* 3. the watchdog; it finds the certificates mod_ssl primes after this hook */
    wd = apr_pcalloc(p, sizeof(*wd));
    wd->mc = mc;
    wd->s = s;
    rv = md_mod_watchdog_start(MD_STAPLING_WATCHDOG, 1, MD_STAPLING_TICK, stapling_tick, wd, p);
    if (rv == APR_ENOTIMPL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "MD8022: mod_watchdog is not available; "
                     "it is needed to refresh OCSP responses for MDStapling");
        return rv;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "MD8023: the OCSP watchdog could not start");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD8024: the OCSP watchdog is registered");
    return rv;
}

/* The serving pass, after md_mod_init_post_config merged and synced the MDs and before mod_ssl
 * primes the certificates: the must-staple check, old responses pruned, the OCSP watchdog. */
int md_mod_ocsp_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;

    if (is_dry_run() || (!mc->mds->nelts && !md_mod_ocsp_configured(mc, s))) return OK;
    return stapling_start(mc, s, pconf) == APR_SUCCESS ? OK : !OK;
}
