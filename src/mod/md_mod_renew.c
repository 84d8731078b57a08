/* The renewal watchdog: one singleton thread among the children (unprivileged) that
 * runs each due MD's renewal and records the outcome in staging/<md>/job.json. */
#include <string.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <httpd.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "md_mod.h"
#include "md_acme.h"
#include "md_job.h"
#include "md_renew.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

#define MD_RENEW_WATCHDOG "_md_renew_"
#define MD_RENEW_TICK apr_time_from_sec(1)

typedef struct {
    md_mod_conf_t *mc;
    server_rec *s;
    apr_time_t start_at;
} md_renew_wd_t;

static double jitter(void)
{
    unsigned char b;

    md_rand_bytes(&b, 1);
    return (double)b / 255.0 - 0.5;
}

static md_http_t *http_for(md_renew_wd_t *wd, const md_t *md, apr_pool_t *p)
{
    md_http_config_t cfg = wd->mc->http;
    md_http_t *http = NULL;

    cfg.ca_file = md->ca_certs;
    cfg.proxy_url = md->proxy_url;
    cfg.proxy_ca_file = md->proxy_ca_certs;
    cfg.user_agent = "mod_md/" "0.1 (Apache httpd)";
    md_http_create(&http, &cfg, p);
    return http;
}

/* Run one MD's renewal if it is due; record and log the outcome once, here. */
static void renew_md(md_renew_wd_t *wd, md_t *md, apr_pool_t *p)
{
    md_store_t *store = wd->mc->store;
    md_job_t *job = md_job_load(store, MD_SG_STAGING, md->name, p);
    md_renew_ctx_t ctx;
    apr_status_t rv;

    if (job->next_run > apr_time_now()) return;
    if (md_renew_staging_complete(store, md, p)) return;  /* ready: waits for a restart */
    memset(&ctx, 0, sizeof(ctx));
    ctx.dns01_version = wd->mc->dns01_version;
    ctx.store = store;
    ctx.md = md;
    ctx.http = http_for(wd, md, p);
    ctx.challenge_types = md->ca_challenges;
    ctx.result = md_result_make(p);
    md_job_log(job, "starting", NULL, p);
    rv = ctx.http ? md_renew_run(&ctx, p) : APR_EGENERAL;
    md_job_end_run(job, ctx.result, p);
    if (rv == APR_SUCCESS) {
        job->next_run = 0;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wd->s, "MD1101: %s: %s", md->name,
                     ctx.result->detail);
    }
    else {
        apr_interval_time_t delay = md_renew_backoff(job->errors, wd->mc->retry_delay,
            ctx.result->problem && md_acme_problem_is_input_related(ctx.result->problem), jitter());
        if (ctx.result->retry_after > apr_time_now() + delay) delay = ctx.result->retry_after - apr_time_now();
        job->next_run = apr_time_now() + delay;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, wd->s, "MD1102: %s: renewal failed (attempt "
                     "%d), next try in %s: %s", md->name, job->errors,
                     md_duration_print(apr_time_from_sec(apr_time_sec(delay)), p),
                     md_result_line(ctx.result, p));
    }
    md_job_save(job, store, MD_SG_STAGING, p);
}

static apr_status_t renew_tick(int state, void *baton, apr_pool_t *ptemp)
{
    md_renew_wd_t *wd = baton;
    int i;

    if (state == AP_WATCHDOG_STATE_STARTING) {
        wd->start_at = apr_time_now() + wd->mc->initial_delay;
        return APR_SUCCESS;
    }
    if (state != AP_WATCHDOG_STATE_RUNNING || apr_time_now() < wd->start_at) return APR_SUCCESS;
    for (i = 0; i < wd->mc->watched->nelts; ++i) {
        apr_pool_t *p;
        apr_pool_create(&p, ptemp);
        renew_md(wd, APR_ARRAY_IDX(wd->mc->watched, i, md_t *), p);
        apr_pool_destroy(p);
    }
    return APR_SUCCESS;
}

apr_status_t md_renew_start_watchdog(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
    ap_watchdog_t *instance;
    md_renew_wd_t *wd;
    apr_status_t rv;

    if (!mc->watched->nelts) return APR_SUCCESS;
    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "MD1103: mod_watchdog is not available; "
                     "it is needed to renew certificates");
        return APR_ENOTIMPL;
    }
    wd = apr_pcalloc(p, sizeof(*wd));
    wd->mc = mc;
    wd->s = s;
    rv = wd_get(&instance, MD_RENEW_WATCHDOG, 0, 1, p);
    if (rv == APR_SUCCESS) rv = wd_register(instance, MD_RENEW_TICK, wd, renew_tick);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "MD1104: the renewal watchdog could not start");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD1105: %d managed domain(s) to renew",
                 mc->watched->nelts);
    return APR_SUCCESS;
}
