/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Renewal of one MD: from nothing to a complete staged set (staging/<md>/), and the
 * pure decisions around it (when to renew, how long to back off). */
#ifndef md_renew_h
#define md_renew_h

#include "md.h"
#include "md_http.h"
#include "md_result.h"
#include "md_store.h"
#include "md_acme.h"

/* Called at points the operator's programs may veto ("challenge-setup:<type>:<name>").
 * A status other than APR_SUCCESS stops the renewal. */
typedef apr_status_t md_renew_event_fn(void *baton, const char *event, md_result_t *result);

typedef struct {
    md_store_t *store;
    const md_t *md;
    md_http_t *http;
    const apr_array_header_t *challenge_types;  /* usable types, in preference order */
    md_result_t *result;
    struct apr_thread_mutex_t *acct_lock;       /* serializes finding/creating accounts */
    struct md_acme_acct_trust_t *accounts_trust; /* md_acme_acct_req_t.trust */
    md_renew_event_fn *on_event;
    void *event_baton;
    md_acme_wait_fn *wait;                      /* md_acme_t.wait: NULL sleeps */
    void *wait_baton;
    /* zero is the default for each of these */
    int dns01_version;                          /* MDChallengeDns01Version: 1 or 2 */
    apr_interval_time_t dns01_timeout;          /* per run of the dns-01 program */
    apr_interval_time_t dns01_wait;             /* DNS propagation wait after dns-01 setups */
    int replace_staged;                         /* renew the key specs staged already, too
                                                 * (their set is served live and is due) */
} md_renew_ctx_t;

/* Obtain a certificate for every key spec of the MD that has none staged yet, and stage
 * it with its key and the MD's md.json. Failures are recorded in ctx->result. */
apr_status_t md_renew_run(md_renew_ctx_t *ctx, apr_pool_t *p);

/* Is the set in group (staging/, or its copy in tmp/ at activation) complete and fit to
 * go live? APR_ENOENT when something is missing; APR_SUCCESS when each key spec has its
 * certificate and key and md_cert_check_chain passes them now (against the MD's names
 * and the served certificate); else its status with *preason naming the certificate and
 * what is wrong with it. */
apr_status_t md_renew_set_check(const char **preason, md_store_t *store, md_store_group_t group,
                                const md_t *md, apr_pool_t *p);
/* md_cert_check_chain for the chain and key of one key spec, loaded by the caller, against
 * the MD as it is now (its names; not ending before the certificate it replaces). */
apr_status_t md_renew_chain_check(const char **preason, md_store_t *store, const md_t *md,
                                  int spec_index, const md_pkey_t *key,
                                  const apr_array_header_t *chain, apr_pool_t *p);
/* md_renew_set_check() passes on staging/. */
int md_renew_staging_complete(md_store_t *store, const md_t *md, apr_pool_t *p);
/* The aspects of a complete staged set to activate: md.json, job.json, keys, certs. */
apr_array_header_t *md_renew_staged_files(md_store_t *store, const md_t *md, apr_pool_t *p);


/* ---- decisions (pure) -------------------------------------------------------- */

/* When the certificate valid from..until should be renewed: the window before until,
 * or half the lifetime for certificates of less than 10 days, whichever is earlier. */
apr_time_t md_renew_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until);
/* When a staged set that is served live (MDActivation live, no restart since) is renewed
 * in place: at its own renewal time, but a window not shorter than its life (MD4012: due
 * at once) counts from half the life, so that such a server does not order a
 * certificate at every check. */
apr_time_t md_renew_in_place_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until);
/* Delay after the n-th consecutive error (n >= 1): base doubling to at most a day;
 * a day at once for problems that blame the input. jitter in [-0.5, 0.5] scales it. */
apr_interval_time_t md_renew_backoff(int errors, apr_interval_time_t base, int input_related,
                                     double jitter);

/* Which CA of urls to use after `errors` consecutive errors: the next one every
 * retry_failover errors, round robin. NULL for an empty list. */
const char *md_renew_ca_pick(const apr_array_header_t *urls, int errors, int retry_failover);

/* When a staged set valid from not_before may go live: not_before plus delay
 * (MDActivationDelay), but never later than the end of the served certificate
 * (served_until; 0 when none is served, or it is not known). */
apr_time_t md_renew_activation_at(apr_time_t not_before, apr_interval_time_t delay,
                                  apr_time_t served_until);
/* When the served certificate valid from..until is near enough its end to warn about
 * (MDWarnWindow). */
apr_time_t md_renew_warn_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until);

/* What the watchdog knows of an MD when it decides when to look at it again. */
typedef struct {
    apr_time_t renew_at;        /* when the served certificate is due; 0: none served */
    apr_time_t warn_at;         /* when to warn about its end; 0: none */
    apr_time_t job_next_run;    /* the job's backoff or a CA's Retry-After; 0: none */
    int staged;                 /* a complete set waits in staging/ */
    int notified;               /* its 'renewed' programs ran */
} md_renew_times_t;

/* When to look at the MD again: after interval (scaled by 1 + jitter, jitter in
 * [-0.5, 0.5]), or earlier at the renewal time, the warning time, or the end of the
 * job's backoff. A staged set whose programs have not run yet is looked at again when
 * its backoff ends, else after retry; a staged set that waits for activation only at
 * the interval. */
apr_time_t md_renew_next_check(const md_renew_times_t *t, apr_time_t now,
                               apr_interval_time_t interval, apr_interval_time_t retry,
                               double jitter);

#endif
