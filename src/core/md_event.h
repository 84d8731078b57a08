/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Events for the operator's programs: MDMessageCmd gets "<reason> <mdname>", MDNotifyCmd
 * "<mdname>" after a renewal. Reasons and their rate limits are those of today's module
 * (docs/programs.md); each run is recorded in the MD's job log, which is also what the
 * rate limits read. */
#ifndef md_event_h
#define md_event_h

#include "md.h"
#include "md_job.h"
#include "md_result.h"

typedef struct {
    const apr_array_header_t *message_cmd;   /* argv, or NULL */
    const apr_array_header_t *notify_cmd;    /* argv, or NULL */
    apr_interval_time_t timeout;
    const char *store_dir;                   /* passed as MD_STORE */
    volatile apr_uint32_t *cancel;           /* the process exits: stop the program */
} md_event_conf_t;

/* The rate limit of a reason ("renewed": a day, "errored": an hour, ...); 0 for none. */
apr_interval_time_t md_event_rate_limit(const char *reason);
/* Was the reason's program run within its rate limit, according to the job log? */
int md_event_limited(const md_job_t *job, const char *reason, apr_time_t now, apr_pool_t *p);

/* Run the programs for the event. APR_SUCCESS when they ran and exited 0, or there are
 * none, or the rate limit holds them back (*pran says whether they ran). A non-zero exit
 * is recorded in result; for "renewing" and "challenge-setup:*" it means: do not go on. */
apr_status_t md_event_raise(const md_event_conf_t *conf, const char *reason, const md_t *md,
                            md_job_t *job, md_result_t *result, int *pran, apr_pool_t *p);

#endif
