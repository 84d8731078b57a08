/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <stdarg.h>
#include <apr_strings.h>

#include "md_result.h"
#include "md_json_keys.h"
#include "md_util.h"

md_result_t *md_result_make(apr_pool_t *p)
{
    md_result_t *r = apr_pcalloc(p, sizeof(*r));

    r->p = p;
    return r;
}

void md_result_activity(md_result_t *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    r->activity = apr_pvsprintf(r->p, fmt, ap);
    va_end(ap);
}

void md_result_set(md_result_t *r, apr_status_t rv, const char *fmt, ...)
{
    va_list ap;

    r->status = rv;
    r->problem = NULL;
    r->subproblems = NULL;
    va_start(ap, fmt);
    r->detail = apr_pvsprintf(r->p, fmt, ap);
    va_end(ap);
}

void md_result_problem(md_result_t *r, apr_status_t rv, const char *problem,
                       const char *detail, md_json_t *subproblems)
{
    r->status = rv;
    r->problem = problem ? apr_pstrdup(r->p, problem) : NULL;
    r->detail = detail ? apr_pstrdup(r->p, detail) : NULL;
    r->subproblems = subproblems;
}

md_json_t *md_result_to_json(const md_result_t *r, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    char buf[256];

    md_json_setl(r->status, j, MD_KEY_STATUS, NULL);
    if (r->status != APR_SUCCESS) {
        md_json_sets(apr_strerror(r->status, buf, sizeof(buf)), j, MD_KEY_STATUS_DESCR, NULL);
    }
    if (r->problem) md_json_sets(r->problem, j, MD_KEY_PROBLEM, NULL);
    if (r->detail) md_json_sets(r->detail, j, MD_KEY_DETAIL, NULL);
    if (r->activity) md_json_sets(r->activity, j, MD_KEY_ACTIVITY, NULL);
    if (r->subproblems) md_json_setj(r->subproblems, j, MD_KEY_SUBPROBLEMS, NULL);
    return j;
}

const char *md_result_line(const md_result_t *r, apr_pool_t *p)
{
    return apr_psprintf(p, "%s%s%s%s%s%s", r->activity ? r->activity : "",
                        r->activity ? ": " : "", r->detail ? r->detail : "no detail",
                        r->problem ? " (" : "", r->problem ? r->problem : "",
                        r->problem ? ")" : "");
}
