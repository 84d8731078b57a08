/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Renewal of one MD without the CA: whether a staged set (staging/<md>/) is complete and
 * fit to go live, and the pure decisions (when to renew, how long to back off). The
 * work with the CA is md_acme_drive.h. */
#ifndef md_renew_h
#define md_renew_h

#include "md.h"
#include "md_store.h"

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
/* The key spec's certificate and key are staged in staging/ and pass the check. */
int md_renew_spec_staged(md_store_t *store, const md_t *md, int spec_index, apr_pool_t *p);
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
