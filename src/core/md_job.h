/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The persisted state of an MD's renewal: job.json in today's format, with its
 * activity log (newest first, at most 128 entries). */
#ifndef md_job_h
#define md_job_h

#include "md_json.h"
#include "md_result.h"
#include "md_store.h"

typedef struct {
    const char *mdname;
    int finished;
    int notified_renewed;       /* the 'renewed' programs ran for the staged set */
    int errors;                 /* consecutive errored runs */
    apr_time_t next_run, last_run, valid_from;
    md_json_t *last;            /* the last result */
    apr_time_t ari_renew_at;    /* the time picked inside the CA's ARI window, 0: none */
    apr_time_t ari_start, ari_end;  /* that window, so the pick stays while it does */
    apr_time_t requested_at;    /* the last renewal request taken for the MD, 0: none */
    const char *requested_reason;   /* why it was asked for ("" when not said) */
    md_json_t *log;             /* array of entries */
} md_job_t;

#define MD_JOB_LOG_MAX 128
/* Consecutive errors are counted up to this (a damaged job.json cannot overflow it). */
#define MD_JOB_ERRORS_MAX 10000

/* The job of an MD in a group (staging or domains); a fresh one when there is none or
 * the file is damaged (job state is rebuilt, never a reason to stop). */
md_job_t *md_job_load(md_store_t *store, md_store_group_t group, const char *mdname, apr_pool_t *p);
apr_status_t md_job_save(const md_job_t *job, md_store_t *store, md_store_group_t group,
                         apr_pool_t *p);
/* Record a run's end: errors counted, the result kept, a log entry of the given type. */
void md_job_end_run(md_job_t *job, const md_result_t *result, apr_pool_t *p);
void md_job_log(md_job_t *job, const char *type, const md_result_t *result, apr_pool_t *p);
/* A renewal was asked for (staging/.renew-requests): kept in the job as "requested"
 * until the staged set goes live, logged as "renewal-requested", and the backoff of
 * earlier failures no longer holds the renewal back. */
void md_job_requested(md_job_t *job, const char *reason, apr_pool_t *p);

#endif
