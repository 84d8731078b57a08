/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>

#include "md_job.h"
#include "md_json_keys.h"
#include "md_stats.h"
#include "md_util.h"
#include "md_time.h"

/* The count only drives the backoff, which is at its maximum long before this. */
static int errors_clamp(long n)
{
    if (n < 0) return 0;
    return n > MD_JOB_ERRORS_MAX ? MD_JOB_ERRORS_MAX : (int)n;
}

md_job_t *md_job_load(md_store_t *store, md_store_group_t group, const char *mdname, apr_pool_t *p)
{
    md_job_t *job = apr_pcalloc(p, sizeof(*job));
    md_json_t *j;

    job->mdname = mdname;
    job->log = md_json_create_array(p);
    if (md_store_load_json(&j, store, group, mdname, MD_FN_JOB, p) != APR_SUCCESS) return job;
    job->finished = md_json_getb(j, MD_KEY_FINISHED, NULL);
    job->notified_renewed = md_json_getb(j, MD_KEY_NOTIFIED_RENEWED, NULL);
    job->errors = errors_clamp(md_json_getl(j, MD_KEY_ERRORS, NULL));
    job->next_run = md_time_parse(md_json_gets(j, MD_KEY_NEXT_RUN, NULL));
    job->last_run = md_time_parse(md_json_gets(j, MD_KEY_LAST_RUN, NULL));
    job->valid_from = md_time_parse(md_json_gets(j, MD_KEY_VALID_FROM, NULL));
    job->last = md_json_getj(j, MD_KEY_LAST, NULL);
    job->ari_renew_at = md_time_parse(md_json_gets(j, MD_KEY_ARI, MD_KEY_RENEW_AT, NULL));
    job->ari_start = md_time_parse(md_json_gets(j, MD_KEY_ARI, MD_KEY_START, NULL));
    job->ari_end = md_time_parse(md_json_gets(j, MD_KEY_ARI, MD_KEY_END, NULL));
    job->requested_at = md_time_parse(md_json_gets(j, MD_KEY_REQUESTED, MD_KEY_WHEN, NULL));
    job->requested_reason = md_json_gets(j, MD_KEY_REQUESTED, MD_KEY_REASON, NULL);
    if (md_json_is_array(j, MD_KEY_LOG, MD_KEY_ENTRIES, NULL)) {
        job->log = md_json_getj(j, MD_KEY_LOG, MD_KEY_ENTRIES, NULL);
    }
    return job;
}

static void set_time(md_json_t *j, const char *key, apr_time_t t, apr_pool_t *p)
{
    if (t > 0) md_json_sets(md_time_print(t, p), j, key, NULL);
}

apr_status_t md_job_save(const md_job_t *job, md_store_t *store, md_store_group_t group,
                         apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(job->mdname, j, MD_KEY_NAME, NULL);
    md_json_setb(job->finished, j, MD_KEY_FINISHED, NULL);
    md_json_setb(job->notified_renewed, j, MD_KEY_NOTIFIED, NULL);
    md_json_setb(job->notified_renewed, j, MD_KEY_NOTIFIED_RENEWED, NULL);
    md_json_setl(job->errors, j, MD_KEY_ERRORS, NULL);
    set_time(j, MD_KEY_NEXT_RUN, job->next_run, p);
    set_time(j, MD_KEY_LAST_RUN, job->last_run, p);
    set_time(j, MD_KEY_VALID_FROM, job->valid_from, p);
    if (job->last) md_json_setj(job->last, j, MD_KEY_LAST, NULL);
    if (job->ari_renew_at > 0) {
        md_json_sets(md_time_print(job->ari_renew_at, p), j, MD_KEY_ARI, MD_KEY_RENEW_AT, NULL);
        md_json_sets(md_time_print(job->ari_start, p), j, MD_KEY_ARI, MD_KEY_START, NULL);
        md_json_sets(md_time_print(job->ari_end, p), j, MD_KEY_ARI, MD_KEY_END, NULL);
    }
    if (job->requested_at > 0) {
        md_json_sets(md_time_print(job->requested_at, p), j, MD_KEY_REQUESTED, MD_KEY_WHEN, NULL);
        md_json_sets(job->requested_reason ? job->requested_reason : "", j, MD_KEY_REQUESTED,
                     MD_KEY_REASON, NULL);
    }
    md_json_setj(job->log, j, MD_KEY_LOG, MD_KEY_ENTRIES, NULL);
    return md_store_save_json(store, group, job->mdname, MD_FN_JOB, j, p);
}

void md_job_log(md_job_t *job, const char *type, const md_result_t *result, apr_pool_t *p)
{
    md_json_t *entry = md_json_create(p);

    md_json_sets(md_time_print(apr_time_now(), p), entry, MD_KEY_WHEN, NULL);
    md_json_sets(type, entry, MD_KEY_TYPE, NULL);
    if (result) {
        md_json_setl(result->status, entry, MD_KEY_STATUS, NULL);
        if (result->detail) md_json_sets(result->detail, entry, MD_KEY_DETAIL, NULL);
        if (result->problem) md_json_sets(result->problem, entry, MD_KEY_PROBLEM, NULL);
    }
    md_json_array_insert_first(job->log, entry, MD_JOB_LOG_MAX);
}

void md_job_requested(md_job_t *job, const char *reason, apr_pool_t *p)
{
    md_json_t *entry = md_json_create(p);

    job->requested_at = apr_time_now();
    job->requested_reason = reason ? reason : "";
    job->next_run = 0;
    md_json_sets(md_time_print(job->requested_at, p), entry, MD_KEY_WHEN, NULL);
    md_json_sets("renewal-requested", entry, MD_KEY_TYPE, NULL);
    if (*job->requested_reason) md_json_sets(job->requested_reason, entry, MD_KEY_DETAIL, NULL);
    md_json_array_insert_first(job->log, entry, MD_JOB_LOG_MAX);
}

/* "urn:ietf:params:acme:error:rateLimited" (RFC 8555 section 6.7), any prefix. */
static int md_job_is_rate_limit(const char *problem)
{
    const char *tail = strrchr(problem, ':');

    return !strcmp(tail ? tail + 1 : problem, "rateLimited");
}

void md_job_end_run(md_job_t *job, const md_result_t *result, apr_pool_t *p)
{
    job->last_run = apr_time_now();
    job->last = md_result_to_json(result, p);
    if (result->status == APR_SUCCESS) {
        job->errors = 0;
        job->finished = 1;
        md_job_log(job, "finished", result, p);
    }
    else {
        if (job->errors < MD_JOB_ERRORS_MAX) ++job->errors;
        job->finished = 0;
        md_job_log(job, "renewal-error", result, p);
        md_stats_inc(MD_STAT_ERRORS);
        if (result->problem && md_job_is_rate_limit(result->problem)) md_stats_inc(MD_STAT_RATE_LIMITED);
    }
}
