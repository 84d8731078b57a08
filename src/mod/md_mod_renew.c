/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The renewal watchdog: one singleton among the children (unprivileged). It hands the
 * MDs that are due to worker threads, at most MDRenewConcurrency working at a time, so
 * renewals run side by side. A renewal that waits a while (DNS propagation, a CA that
 * validates or issues slowly, a Retry-After) lends its slot to the next MD meanwhile:
 * one slow CA or a long wait never holds up the others. Each MD's outcome is recorded
 * in staging/<md>/job.json, logged once here, and reported to the operator's programs. */
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_atomic.h>
#include <apr_thread_pool.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <httpd.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <mpm_common.h>

#include "md_mod.h"
#include "md_version.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_ari.h"
#include "md_acme_drive.h"
#include "md_crypt.h"
#include "md_farm.h"
#include "md_job.h"
#include "md_preflight.h"
#include "md_renew.h"
#include "md_status.h"
#include "md_util.h"
#include "md_time.h"

APLOG_USE_MODULE(md);

#define MD_RENEW_WATCHDOG "_md_renew_"
#define MD_RENEW_TICK apr_time_from_msec(200)
#define MD_RESTART_SETTLE apr_time_from_sec(5)
#define MD_RENEW_EXIT_WAIT_MS 30000   /* a worker may be running a program, see MDProgramTimeout */
#define MD_RENEW_LEND_MIN apr_time_from_sec(1)  /* a wait this long lends the slot... */
#define MD_RENEW_WAITING_MAX 256                /* ...for up to this many renewals at once */

typedef struct {
    md_mod_conf_t *mc;
    server_rec *s;
    apr_time_t start_at;
    apr_thread_pool_t *workers;
    apr_thread_mutex_t *acct_lock;
    md_acme_acct_trust_t *accounts_trust;
    md_event_conf_t *events;
    volatile apr_uint32_t stopping;   /* the child exits: abort CA requests, start nothing */
    volatile apr_uint32_t active;     /* tasks running */
    struct md_renew_task_t *tasks;    /* one per watched MD, made once */
    /* the slots, under slot_lock: */
    apr_thread_mutex_t *slot_lock;
    apr_thread_cond_t *slot_cond;     /* the child stops: waits end */
    int working;                      /* renewals holding a slot (dispatched or running) */
    int waiting;                      /* renewals waiting with their slot lent out */
    int cursor;                       /* where the next dispatch looks first */
} md_renew_wd_t;

/* This generation's watchdog, for the child's exit (md_mod_renew_child_init); NULL if none. */
static md_renew_wd_t *renew_wd;

typedef struct md_renew_task_t {
    md_renew_wd_t *wd;
    md_watch_t *w;
} md_renew_task_t;

static void renew_wait(void *baton, apr_interval_time_t duration);
static void slot_free(md_renew_wd_t *wd);
static const char *request_take(md_renew_wd_t *wd, md_watch_t *w, apr_pool_t *p);

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
    cfg.user_agent = MD_USER_AGENT;
    cfg.cancel = &wd->stopping;
    md_http_create(&http, &cfg, p);
    return http;
}

typedef struct {
    md_renew_wd_t *wd;
    const md_t *md;
    md_job_t *job;
    struct md_farm_lock_t *farm_lock;  /* MDStore etcd: the MD's farm lock, held */
    apr_pool_t *p;
} md_event_ctx_t;

/* challenge-setup:<type>:<name>: the program may veto before the CA is told to look; in a
 * farm, the answer goes to the engine first (any node may get the CA's request) */
static apr_status_t on_renew_event(void *baton, const char *event, md_result_t *result)
{
    md_event_ctx_t *ec = baton;
    apr_status_t rv;
    int ran;

    rv = md_mod_farm_challenge(ec->wd->mc, ec->farm_lock, ec->md, event, ec->p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "the farm lock was lost, or the farm's etcd did not take the "
                      "challenge answer: stopped before the CA was told to look");
        return rv;
    }
    return md_event_raise(ec->wd->events, event, ec->md, ec->job, result, &ran, ec->p);
}

/* How a renewal goes: in place (see staged_due), under a farm lock. */
typedef struct {
    int replace;
    struct md_farm_lock_t *farm_lock;
} md_renew_how_t;

/* The renewal itself: the 'renewing' veto, then the ACME work; with replace, the
 * staged set is renewed in place (see staged_due). */
static apr_status_t renew_now(md_renew_wd_t *wd, md_t *md, md_job_t *job, const md_renew_how_t *how,
                              md_result_t *result, apr_pool_t *p)
{
    md_event_ctx_t ec = { wd, md, job, how->farm_lock, p };
    md_acme_drive_ctx_t ctx;
    int ran;
    apr_status_t rv;

    md_job_log(job, "starting", NULL, p);
    rv = md_event_raise(wd->events, "renewing", md, job, result, &ran, p);
    if (rv != APR_SUCCESS) {
        md_result_activity(result, "asking MDMessageCmd whether to renew (it vetoed)");
        return rv;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.dns01_version = wd->mc->dns01_version;
    ctx.store = wd->mc->store;
    ctx.md = md;
    ctx.http = http_for(wd, md, p);
    /* a farm lock lost meanwhile: no further request to the CA (md_farm.h) */
    if (ctx.http && how->farm_lock) {
        ctx.http->config.cancel_also = md_farm_lock_lost_flag(how->farm_lock);
    }
    ctx.challenge_types = md->ca_challenges;
    ctx.result = result;
    ctx.acct_lock = wd->acct_lock;
    ctx.accounts_trust = wd->accounts_trust;
    ctx.accounts_share = md_mod_farm_acct_share(wd->mc, p);   /* one account per CA for a farm */
    ctx.on_event = on_renew_event;
    ctx.event_baton = &ec;
    ctx.wait = renew_wait;
    ctx.wait_baton = wd;
    ctx.dns01_wait = md->dns01_wait;
    ctx.replace_staged = how->replace;
    return ctx.http ? md_acme_drive_run(&ctx, p) : APR_EGENERAL;
}

/* MDPreflight: what would make the CA's validation fail, checked here before the CA is
 * asked (docs/directives/MDPreflight.md). A failure is recorded in result as a failed
 * renewal is, with the names and the fix; what could not be checked is logged. */
static apr_status_t preflight(md_renew_wd_t *wd, const md_t *md, md_result_t *result,
                              apr_pool_t *p)
{
    md_preflight_t pf;
    apr_status_t rv;
    int i;

    if (!md->preflight) return APR_SUCCESS;
    memset(&pf, 0, sizeof(pf));
    pf.md = md;
    pf.challenge_types = md->ca_challenges;
    pf.caa_ids = md_caa_ids_for(md->preflight_caa, md->ca_effective, p);
    if (md_dns_create(&pf.dns, wd->mc->preflight_resolver, p) != APR_SUCCESS) pf.dns = NULL;
    pf.http_probe = md->preflight_http;
    pf.store = wd->mc->store;
    pf.http = md_preflight_http(MD_USER_AGENT_FOR("preflight"), &wd->stopping, p);
    pf.local_port = wd->mc->local_80;
    pf.local_addrs = md_preflight_local_addrs(p);
    rv = md_preflight_run(&pf, result, p);
    for (i = 0; i < pf.notes->nelts; ++i) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, wd->s, "MD1600: preflight: %s; not held "
                     "against the renewal", APR_ARRAY_IDX(pf.notes, i, const char *));
    }
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, wd->s, "MD1601: %s: preflight passed (CAA "
                     "identities: %s)", md->name, pf.caa_ids
                     ? md_array_str_join(pf.caa_ids, ",", p) : "unknown for this CA, not checked");
    }
    return rv;
}

/* After the CA refused: what the preflight sees now goes into the result, so that the
 * status names the likely cause and its fix next to the CA's words. */
static void preflight_diagnose(md_renew_wd_t *wd, const md_t *md, md_result_t *result,
                               apr_pool_t *p)
{
    md_result_t *seen = md_result_make(p);

    if (result->status == APR_SUCCESS || !md->preflight || apr_atomic_read32(&wd->stopping)
        || md_preflight_is_problem(result->problem)) {
        return;
    }
    if (preflight(wd, md, seen, p) == APR_SUCCESS) return;
    result->detail = apr_psprintf(result->p, "%s; the preflight check finds: %s (%s)",
                                  result->detail ? result->detail : "", seen->detail,
                                  seen->problem);
}

/* When the staged set may go live (md_renew_activation_at); now when it cannot be read. */
static apr_time_t activate_at(md_renew_wd_t *wd, md_watch_t *w, apr_pool_t *p)
{
    apr_array_header_t *chain;

    if (md_store_load_chain(&chain, wd->mc->store, MD_SG_STAGING, w->md->name,
                            md_pkey_file_name(md_pkey_spec_at(w->md, 0), MD_FN_PUBCERT, p), p)
        != APR_SUCCESS || !chain->nelts) {
        return apr_time_now();
    }
    return md_renew_activation_at(md_cert_not_before(APR_ARRAY_IDX(chain, 0, md_cert_t *)),
                                  wd->mc->activation_delay, w->valid_until);
}

/* The 'renewed' programs failed (MDNotifyCmd, MDMessageCmd): as with today's module the
 * MD shows it in status (renewal.last, its problem AH10108 or AH10109, errors counted)
 * and they run again on the renewal's backoff, not at every look at the MD. */
static void notify_failed(md_renew_wd_t *wd, const md_t *md, md_job_t *job,
                          md_result_t *result, apr_pool_t *p)
{
    apr_interval_time_t delay;

    if (job->errors < MD_JOB_ERRORS_MAX) ++job->errors;
    job->last_run = apr_time_now();
    job->last = md_result_to_json(result, p);
    delay = md_renew_backoff(job->errors, wd->mc->retry_delay, 0, jitter());
    job->next_run = apr_time_now() + delay;
    ap_log_error(APLOG_MARK, APLOG_ERR, result->status, wd->s, "MD1106: %s: the 'renewed' "
                 "program failed (attempt %d), next try in %s: %s (%s)", md->name, job->errors,
                 md_duration_print(apr_time_from_sec(apr_time_sec(delay)), p), result->detail,
                 result->problem ? result->problem : "");
}

/* A staged set is ready: tell the operator (renewed, MDNotifyCmd), and ask the parent
 * for a restart if it restarts by itself. */
static void staged_ready(md_renew_wd_t *wd, md_watch_t *w, md_job_t *job, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    const char *text;
    int ran;

    if (!job->notified_renewed && job->next_run <= apr_time_now()) {
        if (md_event_raise(wd->events, "renewed", w->md, job, result, &ran, p) == APR_SUCCESS) {
            job->notified_renewed = 1;
            if (job->errors) {   /* after failed tries: the status shows the MD well again */
                md_result_set(result, APR_SUCCESS, "the 'renewed' program ran");
                job->last = md_result_to_json(result, p);
            }
            job->errors = 0;
            job->next_run = 0;
        }
        else notify_failed(wd, w->md, job, result, p);
    }
    if (!wd->mc->restart_auto) return;
    text = md_time_print(activate_at(wd, w, p), p);
    md_store_save_text(wd->mc->store, MD_SG_STAGING, NULL, MD_FN_RESTART_WANTED, text, p);
}

/* When to look at the MD again, given what happened (md_renew_next_check). */
static apr_time_t next_check(md_renew_wd_t *wd, md_watch_t *w, md_job_t *job, int staged)
{
    md_renew_times_t t = { w->renew_at, w->warn_at, job->next_run, staged,
                           job->notified_renewed };

    return md_renew_next_check(&t, apr_time_now(), wd->mc->check_interval,
                               wd->mc->retry_delay, jitter());
}

/* A failed renewal: back off, saved in job.json before it is told: whoever reads the
 * log line, or the 'errored' program, finds the job saying so. 1 when job.json holds the
 * job as it is; 0 when a program ran since and the job logged it (to be saved again). */
static int renew_failed(md_renew_wd_t *wd, md_t *md, md_job_t *job, md_result_t *result,
                        apr_pool_t *p)
{
    apr_interval_time_t delay;
    int ran;

    delay = md_renew_backoff(job->errors, wd->mc->retry_delay,
                             result->problem && md_acme_problem_is_input_related(result->problem),
                             jitter());
    if (result->retry_after > apr_time_now() + delay) delay = result->retry_after - apr_time_now();
    job->next_run = apr_time_now() + delay;
    md_job_save(job, wd->mc->store, MD_SG_STAGING, p);
    ap_log_error(APLOG_MARK, APLOG_ERR, result->status, wd->s, "AH10056: MD1102: %s: renewal failed "
                 "(attempt %d), next try in %s: %s", md->name, job->errors,
                 md_duration_print(delay < apr_time_from_sec(10)   /* no "0d" for 0.4s */
                                   ? apr_time_from_msec(apr_time_as_msec(delay))
                                   : apr_time_from_sec(apr_time_sec(delay)), p),
                 md_result_line(result, p));
    md_event_raise(wd->events, "errored", md, job, NULL, &ran, p);
    return !ran;
}

/* ARI (RFC 9773): the CA may suggest renewing earlier than the window says. The time is
 * drawn once inside the suggested window and kept, in the job, while the window stays. */
static int ari_check(md_renew_wd_t *wd, md_watch_t *w, md_job_t *job, apr_pool_t *p)
{
    int changed = 0;
    md_t *md = w->md;
    md_result_t *result = md_result_make(p);
    const md_served_t *served;
    md_acme_ari_t ari;
    md_acme_t *acme;
    md_http_t *http;
    apr_status_t rv;

    if (!md->ari_renewals || !md->served || !md->served->nelts) return 0;
    served = APR_ARRAY_IDX(md->served, 0, const md_served_t *);
    if (!served || !served->ari_id) return 0;
    http = http_for(wd, md, p);
    if (!http || md_acme_create(&acme, md->ca_effective ? md->ca_effective
                                : APR_ARRAY_IDX(md->ca_urls, 0, const char *), http, p) != APR_SUCCESS) {
        return 0;
    }
    rv = md_acme_ari_get(&ari, acme, served->ari_id, result, p);
    if (rv != APR_SUCCESS) {
        if (rv != APR_ENOTIMPL) ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, wd->s, "MD1111: %s: "
                                             "no renewal information from the CA: %s",
                                             md->name, md_result_line(result, p));
        return 0;
    }
    if (!job->ari_renew_at || ari.start != job->ari_start || ari.end != job->ari_end) {
        changed = 1;
        job->ari_start = ari.start;
        job->ari_end = ari.end;
        job->ari_renew_at = md_acme_ari_pick(ari.start, ari.end, apr_time_now(), jitter() + 0.5);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, wd->s, "MD1112: %s: the CA suggests renewing "
                     "between %s and %s; picked %s", md->name, md_time_print(ari.start, p),
                     md_time_print(ari.end, p), md_time_print(job->ari_renew_at, p));
    }
    if (job->ari_renew_at && job->ari_renew_at < w->renew_at) w->renew_at = job->ari_renew_at;
    return changed;
}

/* CA failover: after MDRetryFailover errors in a row the next CA of MDCertificateAuthority
 * is used; what was staged for the old one is of no use there. */
static void ca_pick(md_renew_wd_t *wd, md_t *md, md_job_t *job, apr_pool_t *p)
{
    const char *ca = md_renew_ca_pick(md->ca_urls, job->errors, wd->mc->retry_failover);

    if (!ca) return;
    if (md->ca_effective && strcmp(ca, md->ca_effective)) {
        if (job->errors) ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wd->s, "MD1110: %s: %d errors "
                                      "in a row at %s, switching to %s", md->name, job->errors,
                                      md->ca_effective, ca);
        else ap_log_error(APLOG_MARK, APLOG_INFO, 0, wd->s, "MD1113: %s: renewing at %s, the "
                          "first of MDCertificateAuthority, again", md->name, ca);
        md_store_purge(wd->mc->store, MD_SG_STAGING, md->name, p);
    }
    md->ca_effective = ca;
}

/* With MDActivation live a staged set is what the children serve for as long as no
 * restart activates it, which may be longer than its own life: when its renew window
 * opens (md_renew_in_place_at), it is renewed in place (and the new set goes live in
 * turn). */
static int staged_due(md_renew_wd_t *wd, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    md_cert_t *leaf;

    if (md_store_load_chain(&chain, wd->mc->store, MD_SG_STAGING, md->name,
                            md_pkey_file_name(md_pkey_spec_at(md, 0), MD_FN_PUBCERT, p), p)
        != APR_SUCCESS || !chain->nelts) {
        return 0;
    }
    leaf = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    return md_renew_in_place_at(&md->renew_window, md_cert_not_before(leaf), md_cert_not_after(leaf))
           <= apr_time_now();
}

/* A farm (MDStore etcd): only the holder of the MD's farm lock renews it, tried once; a
 * busy lock is another node's renewal, whose set the poll brings here (md_mod_farm.c).
 * APR_SUCCESS: renew (with *pflock, NULL without a farm); else leave the MD for now. */
static apr_status_t farm_hold(md_renew_wd_t *wd, md_watch_t *w, struct md_farm_lock_t **pflock,
                              apr_pool_t *p)
{
    apr_status_t rv = md_mod_farm_lock(pflock, wd->mc, wd->s, w->md, p);

    if (rv != APR_SUCCESS) {
        w->next_check = apr_time_now() + (apr_interval_time_t)((double)wd->mc->retry_delay
                                                               * (1.0 + jitter()));
        return rv;
    }
    /* published by another node since the poll looked: staged now, no order, and the
     * children told as for any pulled set (the next turn finds it staged, nothing new) */
    if (*pflock && md_mod_farm_pull_newer(wd->mc, wd->s, w->md, p)) {
        md_mod_farm_unlock(*pflock);
        *pflock = NULL;
        if (wd->mc->activation_live) md_mod_live_note_staged(wd->mc, p);
        w->next_check = apr_time_now();
        return APR_EAGAIN;
    }
    /* a holder that died left its order: this renewal goes on with it */
    if (*pflock) md_mod_farm_resume(*pflock, wd->mc, wd->s, w->md, p);
    return APR_SUCCESS;
}

/* The renewed set goes to the farm under the lock; when that fails (the lock was lost
 * and another node renews, or the engine failed) the set is dropped: a node serves only
 * what the farm has. */
static void farm_publish(md_renew_wd_t *wd, struct md_farm_lock_t *flock, md_t *md,
                         md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;

    if (!flock) return;
    md_mod_farm_answers_drop(wd->mc, md, p);            /* the CA looks no more */
    if (result->status != APR_SUCCESS) {
        md_mod_farm_order_drop(flock, wd->mc, md, p);   /* nobody is to go on with it */
        return;
    }
    rv = md_mod_farm_publish(flock, wd->mc, wd->s, md, p);
    if (rv == APR_SUCCESS) return;
    md_store_purge(wd->mc->store, MD_SG_STAGING, md->name, p);
    md_result_set(result, rv, "the renewed set could not be published to the farm");
}

/* One MD's turn: under its lock, so no other process or server works on it meanwhile. */
static void renew_md(md_renew_wd_t *wd, md_watch_t *w, apr_pool_t *p)
{
    md_store_t *store = wd->mc->store;
    md_t *md = w->md;
    md_store_lock_t *lock;
    md_renew_how_t how = { 0, NULL };
    md_result_t *result;
    md_job_t *job;
    int staged, ran = 0, touched, renewed = 0, replace, saved = 0;
    const char *requested;

    if (md_store_lock_md(&lock, store, md->name, 0, p) != APR_SUCCESS) {
        w->next_check = apr_time_now() + wd->mc->retry_delay;  /* someone else has it */
        return;
    }
    job = md_job_load(store, MD_SG_STAGING, md->name, p);
    /* 0. a renewal asked for: recorded in the job (status shows it), backoff lifted */
    requested = request_take(wd, w, p);
    if (requested) md_job_requested(job, requested, p);
    /* 1. inside the warn window: the 'expiring' event (rate-limited to once a day) */
    if (w->warn_at && w->warn_at <= apr_time_now()) {
        md_event_raise(wd->events, "expiring", md, job, NULL, &ran, p);
    }
    /* 2. a staged set waits for activation; otherwise renew when due (by the window or
     *    the CA's ARI suggestion) and not backing off, at the CA failover says */
    touched = ran || requested;
    /*    in a farm, a newer set another node published is staged here first */
    if (md_mod_farm_pull_newer(wd->mc, wd->s, md, p)) {
        touched = 1;
        if (wd->mc->activation_live) md_mod_live_note_staged(wd->mc, p);
    }
    staged = md_renew_staging_complete(store, md, p);
    /* with MDActivation live the staged set is the served one: renewed in place when its
     * own window opened, or when asked for */
    replace = staged && wd->mc->activation_live && (requested || staged_due(wd, md, p));
    if (replace) staged = 0;
    if (!staged && !replace && w->renew_at > apr_time_now()) touched |= ari_check(wd, w, job, p);
    if (staged) {
        touched = 1;
        if (requested) ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wd->s, "MD1114: %s: a renewed "
                                    "set is already staged; it goes live at the next graceful "
                                    "restart (apache2ctl graceful)", md->name);
        /* the files say finished, even when the process that staged them died before
         * it could save the job (status and metrics read the job) */
        job->finished = 1;
        staged_ready(wd, w, job, p);
    }
    else if ((replace || w->renew_at <= apr_time_now()) && job->next_run <= apr_time_now()) {
        if (farm_hold(wd, w, &how.farm_lock, p) != APR_SUCCESS) {
            md_store_unlock(lock);
            return;
        }
        how.replace = replace;
        touched = 1;
        ca_pick(wd, md, job, p);
        result = md_result_make(p);
        /* the preflight first: what fails here is not worth one of the CA's attempts */
        if (preflight(wd, md, result, p) == APR_SUCCESS) {
            renew_now(wd, md, job, &how, result, p);
            preflight_diagnose(wd, md, result, p);
        }
        if (apr_atomic_read32(&wd->stopping)) {
            md_mod_farm_unlock(how.farm_lock);
            md_store_unlock(lock);   /* cut short by the child's exit: the next one retries */
            return;
        }
        farm_publish(wd, how.farm_lock, md, result, p);
        md_mod_farm_unlock(how.farm_lock);
        md_job_end_run(job, result, p);
        staged = (result->status == APR_SUCCESS);
        if (staged && wd->mc->activation_live) {
            md_result_set(result, APR_SUCCESS, "certificate(s) for %s staged; every child "
                          "serves them within seconds (MDActivation live)", md->name);
        }
        if (staged) {
            renewed = 1;
            job->next_run = 0;
            job->notified_renewed = 0;
            md_mod_live_note_staged(wd->mc, p);   /* every child looks at it (MDActivation live) */
            staged_ready(wd, w, job, p);
        }
        else saved = renew_failed(wd, md, job, result, p);
    }
    /* 3. a job is kept only when something happened: no empty renewals in status. One
     *    save: the log line of a renewal comes after it */
    if (touched && !saved) md_job_save(job, store, MD_SG_STAGING, p);
    if (renewed) ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wd->s, "AH10059: MD1101: %s: %s", md->name,
                              result->detail);
    w->next_check = next_check(wd, w, job, staged);
    md_store_unlock(lock);
    if (!touched) return;
    /* status: refresh this MD's renewal in the status snapshot (md_mod_status.c) */
    md_status_snapshot_update(wd->mc->status_snap, md, store, p);   /* locks itself */
}

static void *APR_THREAD_FUNC renew_task(apr_thread_t *thread, void *baton)
{
    md_renew_task_t *task = baton;
    apr_pool_t *p;

    apr_atomic_inc32(&task->wd->active);
    if (!apr_atomic_read32(&task->wd->stopping)) {
        apr_pool_create(&p, NULL);
        renew_md(task->wd, task->w, p);
        apr_pool_destroy(p);
    }
    apr_atomic_set32(&task->w->running, 0);
    apr_atomic_dec32(&task->wd->active);
    slot_free(task->wd);
    return NULL;
}

/* Another part of the server (OCSP stapling seeing a revocation) or an administrator
 * (mdctl renew) may ask for an MD to be renewed now: a line in staging/.renew-requests
 * (md_request_add()). One stat a tick. */

/* The watched MDs by name, for a batch of requests (mdctl renew --all names them all). */
static apr_hash_t *watch_index(md_renew_wd_t *wd, apr_pool_t *p)
{
    apr_hash_t *index = apr_hash_make(p);
    int i;

    for (i = 0; i < wd->mc->watched->nelts; ++i) {
        md_watch_t *w = APR_ARRAY_IDX(wd->mc->watched, i, md_watch_t *);
        apr_hash_set(index, w->md->name, APR_HASH_KEY_STRING, w);
    }
    return index;
}

/* The requests written since the last look: the MDs are checked at once, and their
 * renewal does not wait for the window or a backoff (renew_md records why). */
static void renew_requests_take(md_renew_wd_t *wd, apr_pool_t *p)
{
    apr_array_header_t *reqs = md_request_take(wd->mc->store, p);
    apr_hash_t *index;
    int i;

    if (!reqs->nelts) return;
    index = watch_index(wd, p);
    for (i = 0; i < reqs->nelts; ++i) {
        const md_request_t *req = APR_ARRAY_IDX(reqs, i, const md_request_t *);
        md_watch_t *w = apr_hash_get(index, req->name, APR_HASH_KEY_STRING);
        const char *why = *req->reason ? req->reason : "no reason given";

        if (!w) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wd->s, "MD1115: %s: a renewal was "
                         "requested (%s), but this server does not renew that MD: it is not "
                         "configured here, has MDRenewMode manual or static certificate "
                         "files. Check the name with 'mdctl status'", req->name, why);
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wd->s, "MD1109: %s: renewal requested (%s); "
                     "renewing now", req->name, why);
        apr_thread_mutex_lock(wd->slot_lock);
        w->requested = 1;
        apr_cpystrn(w->requested_reason, req->reason, sizeof(w->requested_reason));
        apr_thread_mutex_unlock(wd->slot_lock);
        w->renew_at = 0;
        w->next_check = 0;
    }
}

/* A request for the MD taken (renew_requests_take): its reason copied into p. */
static const char *request_take(md_renew_wd_t *wd, md_watch_t *w, apr_pool_t *p)
{
    const char *reason = NULL;

    apr_thread_mutex_lock(wd->slot_lock);
    if (w->requested) reason = apr_pstrdup(p, w->requested_reason);
    w->requested = 0;
    apr_thread_mutex_unlock(wd->slot_lock);
    return reason;
}

/* Fill the free slots with MDs whose check is due, from where the last dispatch ended.
 * Called at each tick and whenever a slot comes free, so the next MD starts at once. */
static void renew_dispatch(md_renew_wd_t *wd)
{
    apr_time_t now = apr_time_now();
    int n = wd->mc->watched->nelts, looked;

    apr_thread_mutex_lock(wd->slot_lock);
    for (looked = 0; looked < n && !apr_atomic_read32(&wd->stopping)
         && wd->working < wd->mc->renew_concurrency; ++looked) {
        int i = (wd->cursor + looked) % n;
        md_watch_t *w = APR_ARRAY_IDX(wd->mc->watched, i, md_watch_t *);
        md_renew_task_t *task = &wd->tasks[i];    /* one per MD: an MD runs once at a time */

        /* running first: once it reads 0, the next check its worker set is seen too */
        if (apr_atomic_read32(&w->running) || w->next_check > now) continue;
        task->wd = wd;
        task->w = w;
        apr_atomic_set32(&w->running, 1);
        if (apr_thread_pool_push(wd->workers, renew_task, task, APR_THREAD_TASK_PRIORITY_NORMAL,
                                 wd) != APR_SUCCESS) {
            apr_atomic_set32(&w->running, 0);
            break;
        }
        ++wd->working;
    }
    wd->cursor = n ? (wd->cursor + looked) % n : 0;
    apr_thread_mutex_unlock(wd->slot_lock);
}

/* md_acme_t.wait of the renewals: a long wait lends the slot to the next MD and takes
 * it back afterwards, at once, even when all slots are taken meanwhile: the renewals
 * started in its place may be waiting for what it holds (the account lock, while it
 * waits out a Retry-After on registering), so waiting for one of them to end could
 * wait forever. No new MD starts until the count is below MDRenewConcurrency again.
 * The child's exit cuts every wait short. */
static void renew_wait(void *baton, apr_interval_time_t duration)
{
    md_renew_wd_t *wd = baton;
    apr_time_t until = apr_time_now() + duration, now;
    int lent = 0;

    apr_thread_mutex_lock(wd->slot_lock);
    if (duration >= MD_RENEW_LEND_MIN && wd->waiting < MD_RENEW_WAITING_MAX) {
        lent = 1;
        --wd->working;
        ++wd->waiting;
    }
    apr_thread_mutex_unlock(wd->slot_lock);
    if (lent) renew_dispatch(wd);

    apr_thread_mutex_lock(wd->slot_lock);
    while (!apr_atomic_read32(&wd->stopping) && (now = apr_time_now()) < until) {
        apr_thread_cond_timedwait(wd->slot_cond, wd->slot_lock, until - now);
    }
    if (lent) {
        --wd->waiting;
        ++wd->working;
    }
    apr_thread_mutex_unlock(wd->slot_lock);
}

/* A slot came free: start the next MD. */
static void slot_free(md_renew_wd_t *wd)
{
    apr_thread_mutex_lock(wd->slot_lock);
    --wd->working;
    apr_thread_mutex_unlock(wd->slot_lock);
    renew_dispatch(wd);
}

/* Start nothing more, cut the waits short (requests in flight see the flag, too). */
static void renew_stop(md_renew_wd_t *wd)
{
    apr_atomic_set32(&wd->stopping, 1);
    if (!wd->slot_lock) return;
    apr_thread_mutex_lock(wd->slot_lock);
    apr_thread_cond_broadcast(wd->slot_cond);
    apr_thread_mutex_unlock(wd->slot_lock);
}

/* A child exits without stopping the watchdog's thread first (mod_watchdog's pool
 * outlives the child's): workers still talking to the CA would then run into
 * OpenSSL's and APR's exit-time cleanups. So, before anything else is cleaned up,
 * requests in flight are aborted, waits cut short and the running tasks waited for;
 * the thread pool itself is left alone (the watchdog's thread may still use it). What
 * the status snapshot was not yet told is written. */
static apr_status_t renew_child_exit(void *baton)
{
    int i;

    if (!renew_wd) return APR_SUCCESS;
    renew_stop(renew_wd);
    md_mod_farm_watch_stop(renew_wd->mc);      /* its thread must not outlive the child */
    for (i = 0; i < MD_RENEW_EXIT_WAIT_MS / 10 && apr_atomic_read32(&renew_wd->active); ++i) {
        apr_sleep(apr_time_from_msec(10));
    }
    md_status_snapshot_flush(renew_wd->mc->status_snap, 1, renew_wd->mc->watched->pool);
    return APR_SUCCESS;
}

void md_mod_renew_child_init(apr_pool_t *pchild)
{
    apr_pool_pre_cleanup_register(pchild, NULL, renew_child_exit);
}

static apr_status_t renew_tick(int state, void *baton, apr_pool_t *ptemp)
{
    md_renew_wd_t *wd = baton;
    apr_pool_t *pool = wd->mc->watched->pool;
    apr_status_t rv;
    int i;

    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        wd->start_at = apr_time_now() + wd->mc->initial_delay;
        for (i = 0; i < wd->mc->watched->nelts; ++i) {
            APR_ARRAY_IDX(wd->mc->watched, i, md_watch_t *)->next_check = wd->start_at;
        }
        wd->tasks = apr_pcalloc(pool, sizeof(md_renew_task_t) * (apr_size_t)wd->mc->watched->nelts);
        rv = apr_thread_mutex_create(&wd->acct_lock, APR_THREAD_MUTEX_DEFAULT, pool);
        if (rv == APR_SUCCESS) rv = apr_thread_mutex_create(&wd->slot_lock,
                                                            APR_THREAD_MUTEX_DEFAULT, pool);
        if (rv == APR_SUCCESS) rv = apr_thread_cond_create(&wd->slot_cond, pool);
        if (rv == APR_SUCCESS) rv = md_acme_acct_trust_make(&wd->accounts_trust, pool);
        /* threads: the working renewals and the waiting ones; made when needed */
        if (rv == APR_SUCCESS) rv = apr_thread_pool_create(&wd->workers, 0,
                                   (apr_size_t)(wd->mc->renew_concurrency + MD_RENEW_WAITING_MAX),
                                   pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, wd->s, "MD1107: the renewal workers "
                         "could not be started");
            return rv;
        }
        md_mod_farm_watch_start(wd->mc, wd->s);
        /* without an initial delay, the first MDs go now, not a tick later */
        /* fall through */
    case AP_WATCHDOG_STATE_RUNNING:
        if (wd->workers && apr_time_now() >= wd->start_at) {
            md_mod_farm_poll(wd->mc, wd->s, ptemp);
            renew_requests_take(wd, ptemp);
            renew_dispatch(wd);
        }
        md_status_snapshot_flush(wd->mc->status_snap, 0, ptemp);
        return APR_SUCCESS;
    case AP_WATCHDOG_STATE_STOPPING:
        renew_stop(wd);
        md_mod_farm_watch_stop(wd->mc);
        if (wd->workers) apr_thread_pool_destroy(wd->workers);   /* waits for the tasks */
        wd->workers = NULL;
        return APR_SUCCESS;
    default:
        return APR_SUCCESS;
    }
}

apr_status_t md_mod_renew_start_watchdog(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    md_renew_wd_t *wd;
    apr_status_t rv;

    renew_wd = NULL;
    if (!mc->watched->nelts) return APR_SUCCESS;
    wd = apr_pcalloc(p, sizeof(*wd));
    wd->mc = mc;
    wd->s = s;
    wd->events = md_config_event_conf(mc, p);
    wd->events->cancel = &wd->stopping;
    rv = md_mod_watchdog_start(MD_RENEW_WATCHDOG, 1, MD_RENEW_TICK, renew_tick, wd, p);
    if (rv == APR_ENOTIMPL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AH10061: MD1103: mod_watchdog is not available; "
                     "it is needed to renew certificates");
        return rv;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "AH10066: MD1104: the renewal watchdog could not start");
        return rv;
    }
    renew_wd = wd;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD1105: watching %d managed domain(s), "
                 "renewing up to %d at a time", mc->watched->nelts, mc->renew_concurrency);
    return APR_SUCCESS;
}

/* ---- the parent: restart by itself when renewed sets are ready ------------------- */

/* MDActivationRestart's time-of-day window, in local time (md_time_in_daily_window). */
static int in_window(const md_mod_conf_t *mc, apr_time_t now)
{
    apr_time_exp_t tm;

    apr_time_exp_lt(&tm, now);
    return md_time_in_daily_window(tm.tm_hour * 60 + tm.tm_min, mc->restart_from, mc->restart_to);
}

/* mpm's monitor hook, in the parent, about once a second. The marker's time says when
 * the sets may go live; waiting until it has been quiet for a few seconds coalesces
 * renewals that finish close together into one restart. */
int md_mod_renew_monitor(apr_pool_t *p, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    const char *text;
    apr_finfo_t info;
    apr_time_t now = apr_time_now();

    if (!mc->restart_auto || !mc->store) return DECLINED;
    /* the children's marker, read as one (md_store: no link followed, no FIFO waited on) */
    if (md_store_info(&info, mc->store, MD_SG_STAGING, NULL, MD_FN_RESTART_WANTED, p) != APR_SUCCESS) {
        return DECLINED;
    }
    if (info.mtime + MD_RESTART_SETTLE > now || !in_window(mc, now)) return DECLINED;
    if (md_store_load_text(&text, mc->store, MD_SG_STAGING, NULL, MD_FN_RESTART_WANTED, p) == APR_SUCCESS
        && md_time_parse(text) > now) {
        return DECLINED;
    }
    md_store_remove(mc->store, MD_SG_STAGING, NULL, MD_FN_RESTART_WANTED, p);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1108: renewed certificates are ready: "
                 "restarting gracefully to put them in use (MDActivationRestart on)");
    raise(AP_SIG_GRACEFUL);
    return OK;
}
