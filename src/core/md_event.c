/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>

#include "md_event.h"
#include "md_exec.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"
#include "md_time.h"

#define HOUR apr_time_from_sec(60 * 60)
#define DAY (24 * HOUR)

typedef struct {
    const char *reason;
    apr_interval_time_t limit;
} md_event_limit_t;

/* "renewing" is not limited here, unlike today's module: a cluster vetoes renewals
 * through it, so it must run before every attempt (attempts are limited by backoff). */
static const md_event_limit_t LIMITS[] = {
    { "renewed", DAY }, { "installed", DAY }, { "expiring", DAY }, { "errored", HOUR },
    { "ocsp-renewed", DAY }, { "ocsp-errored", HOUR },
};

apr_interval_time_t md_event_rate_limit(const char *reason)
{
    apr_size_t i;

    for (i = 0; i < sizeof(LIMITS) / sizeof(LIMITS[0]); ++i) {
        if (!strcmp(LIMITS[i].reason, reason)) return LIMITS[i].limit;
    }
    return 0;
}

int md_event_limited(const md_job_t *job, const char *reason, apr_time_t now, apr_pool_t *p)
{
    apr_interval_time_t limit = md_event_rate_limit(reason);
    const char *type = apr_pstrcat(p, "message-", reason, NULL);
    apr_size_t i;

    if (!limit || !job) return 0;
    for (i = 0; i < md_json_array_len(job->log); ++i) {
        md_json_t *entry = md_json_array_at(job->log, i);
        const char *t = md_json_gets(entry, MD_KEY_TYPE, NULL);
        if (t && !strcmp(t, type)) {
            return now - md_time_parse(md_json_gets(entry, MD_KEY_WHEN, NULL)) < limit;
        }
    }
    return 0;
}

static apr_table_t *event_env(const md_event_conf_t *conf, const char *reason, const md_t *md,
                              apr_pool_t *p)
{
    apr_table_t *env = apr_table_make(p, 5);

    apr_table_setn(env, "MD_NAME", md->name);
    apr_table_setn(env, "MD_REASON", reason);
    apr_table_setn(env, "MD_DOMAINS", md_array_str_join(md->domains, " ", p));
    if (conf->store_dir) apr_table_setn(env, "MD_STORE", conf->store_dir);
    return env;
}

static apr_status_t run_one(const md_event_conf_t *conf, apr_array_header_t *argv,
                            apr_table_t *env, md_result_t *result, apr_pool_t *p)
{
    md_exec_req_t req = { argv, env, conf->timeout, conf->cancel };
    md_exec_res_t *res;
    apr_status_t rv = md_exec_run(&res, &req, p);

    if (rv == APR_TIMEUP) {
        md_result_set(result, rv, "%s was killed after %s without finishing",
                      APR_ARRAY_IDX(argv, 0, const char *), md_duration_print(req.timeout, p));
    }
    else if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "%s exited with %d%s%s", APR_ARRAY_IDX(argv, 0, const char *),
                      res->exit_code, res->output[0] ? ": " : "", res->output);
    }
    return rv;
}

apr_status_t md_event_raise(const md_event_conf_t *conf, const char *reason, const md_t *md,
                            md_job_t *job, md_result_t *result, int *pran, apr_pool_t *p)
{
    apr_table_t *env = event_env(conf, reason, md, p);
    md_result_t *r = md_result_make(p);
    apr_status_t rv = APR_SUCCESS;
    const char *problem = MD_PROBLEM_MESSAGE_FAILED, *failed = "message-error";

    *pran = 0;
    if (!conf->message_cmd && !(conf->notify_cmd && !strcmp(reason, "renewed"))) return APR_SUCCESS;
    if (md_event_limited(job, reason, apr_time_now(), p)) return APR_SUCCESS;
    *pran = 1;
    md_result_activity(r, "running the '%s' event program", reason);
    /* 1. MDMessageCmd <args> <reason> <mdname> */
    if (conf->message_cmd) {
        rv = run_one(conf, md_exec_argv(conf->message_cmd, p, reason, md->name, NULL), env, r, p);
    }
    /* 2. MDNotifyCmd <args> <mdname>, after a renewal */
    if (rv == APR_SUCCESS && conf->notify_cmd && !strcmp(reason, "renewed")) {
        rv = run_one(conf, md_exec_argv(conf->notify_cmd, p, md->name, NULL), env, r, p);
        problem = MD_PROBLEM_NOTIFY_FAILED;
        failed = "notify-error";
    }
    /* a failure carries the problem today's module names it with (AH10108 for
     * MDNotifyCmd, AH10109 for MDMessageCmd), for status and monitoring */
    if (rv != APR_SUCCESS) md_result_problem(r, rv, problem, r->detail, NULL);
    if (job) md_job_log(job, rv == APR_SUCCESS ? apr_pstrcat(p, "message-", reason, NULL)
                                               : failed, r, p);
    if (rv != APR_SUCCESS && result) md_result_problem(result, rv, r->problem, r->detail, NULL);
    return rv;
}
