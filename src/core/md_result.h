/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The one result record a long operation carries: what failed, the ACME problem,
 * the detail for the operator, what was being done, and when to try again. */
#ifndef md_result_h
#define md_result_h

#include <apr_pools.h>
#include <apr_time.h>
#include "md_json.h"

typedef struct md_result_t {
    apr_pool_t *p;
    apr_status_t status;
    const char *problem;        /* ACME problem type URN, if the CA sent one */
    const char *detail;         /* text for the operator */
    const char *activity;       /* what was being done */
    md_json_t *subproblems;
    apr_time_t retry_after;     /* absolute; 0 when nobody said */
} md_result_t;

/* Problems found here, not by the CA: named as today's module names them in job.json and
 * the status (renewal.last.problem), where monitoring keys on them. */
#define MD_PROBLEM_CHALLENGE_MISMATCH   "challenge-mismatch"
#define MD_PROBLEM_CHALLENGE_SETUP      "challenge-setup-failure"
#define MD_PROBLEM_EAB_HMAC_INVALID     "apache:eab-hmac-invalid"
#define MD_PROBLEM_EAB_HMAC_FAIL        "apache:eab-hmac-fail"
#define MD_PROBLEM_NOTIFY_FAILED        "urn:org:apache:httpd:log:AH10108:"
#define MD_PROBLEM_MESSAGE_FAILED       "urn:org:apache:httpd:log:AH10109:"

md_result_t *md_result_make(apr_pool_t *p);
void md_result_activity(md_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Record a failure (or success with rv == APR_SUCCESS) with a detail text. */
void md_result_set(md_result_t *r, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void md_result_problem(md_result_t *r, apr_status_t rv, const char *problem,
                       const char *detail, md_json_t *subproblems);
md_json_t *md_result_to_json(const md_result_t *r, apr_pool_t *p);
/* One line for the log: "<activity>: <detail> (<problem>)". */
const char *md_result_line(const md_result_t *r, apr_pool_t *p);

#endif
