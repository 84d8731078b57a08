/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <stdarg.h>
#include <string.h>
#include <signal.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "md_exec.h"
#include "md_log.h"

#define SAFE_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

apr_array_header_t *md_exec_argv(const apr_array_header_t *base, apr_pool_t *p, ...)
{
    apr_array_header_t *argv = apr_array_copy(p, base);
    const char *arg;
    va_list ap;

    va_start(ap, p);
    while ((arg = va_arg(ap, const char *)) != NULL) APR_ARRAY_PUSH(argv, const char *) = arg;
    va_end(ap);
    return argv;
}

static const char *const *env_make(const apr_table_t *vars, apr_pool_t *p)
{
    const apr_array_header_t *elts = vars ? apr_table_elts(vars) : NULL;
    apr_array_header_t *env = apr_array_make(p, 8, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(env, const char *) = SAFE_PATH;
    for (i = 0; elts && i < elts->nelts; ++i) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(elts, i, apr_table_entry_t);
        APR_ARRAY_PUSH(env, const char *) = apr_pstrcat(p, e->key, "=", e->val, NULL);
    }
    APR_ARRAY_PUSH(env, const char *) = NULL;
    return (const char *const *)env->elts;
}

static const char *const *argv_make(const apr_array_header_t *argv, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_copy(p, argv);

    APR_ARRAY_PUSH(a, const char *) = NULL;
    return (const char *const *)a->elts;
}

/* How long one read may wait: the time left, in slices when a cancel flag is watched. */
static apr_interval_time_t read_slice(const md_exec_req_t *req, apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();

    if (req->cancel && left > apr_time_from_msec(100)) left = apr_time_from_msec(100);
    return left;
}

/* Read the child's output until EOF, the deadline or the cancel flag. */
static apr_status_t output_read(md_exec_res_t *res, apr_file_t *out, const md_exec_req_t *req,
                                apr_time_t deadline, apr_pool_t *p)
{
    char *buf = apr_palloc(p, MD_EXEC_MAX_OUTPUT + 1), chunk[4096];
    apr_size_t len = 0, n;
    apr_status_t rv = APR_SUCCESS;

    while (rv == APR_SUCCESS || APR_STATUS_IS_TIMEUP(rv)) {
        apr_interval_time_t left = read_slice(req, deadline);
        if (req->cancel && apr_atomic_read32(req->cancel)) {
            rv = APR_EINTR;
            break;
        }
        if (left <= 0) {
            rv = APR_TIMEUP;
            break;
        }
        apr_file_pipe_timeout_set(out, left);
        n = sizeof(chunk);
        rv = apr_file_read(out, chunk, &n);
        if (rv == APR_SUCCESS && len < MD_EXEC_MAX_OUTPUT) {
            if (n > MD_EXEC_MAX_OUTPUT - len) n = MD_EXEC_MAX_OUTPUT - len;
            memcpy(buf + len, chunk, n);
            len += n;
        }
    }
    buf[len] = '\0';
    res->output = buf;
    return (rv == APR_EOF) ? APR_SUCCESS : rv;
}

/* Ask the program to end (SIGTERM: a script may clean up), then kill it if it has not
 * ended after the grace time; it is reaped either way. */
static void program_stop(apr_proc_t *proc)
{
    apr_time_t until = apr_time_now() + MD_EXEC_GRACE;
    apr_exit_why_e why;
    int code;

    apr_proc_kill(proc, SIGTERM);
    while (apr_time_now() < until) {
        if (apr_proc_wait(proc, &code, &why, APR_NOWAIT) == APR_CHILD_DONE) return;
        apr_sleep(apr_time_from_msec(20));
    }
    apr_proc_kill(proc, SIGKILL);
    apr_proc_wait(proc, &code, &why, APR_WAIT);
}

apr_status_t md_exec_run(md_exec_res_t **pres, const md_exec_req_t *req, apr_pool_t *p)
{
    md_exec_res_t *res = apr_pcalloc(p, sizeof(*res));
    apr_interval_time_t timeout = req->timeout > 0 ? req->timeout : MD_EXEC_DEFAULT_TIMEOUT;
    apr_procattr_t *attr;
    apr_file_t *out_r = NULL, *out_w = NULL;
    apr_proc_t proc;
    apr_exit_why_e why;
    apr_status_t rv;

    *pres = res;
    res->exit_code = -1;
    res->output = "";
    if (req->cancel && apr_atomic_read32(req->cancel)) return APR_EINTR;  /* none starts */
    /* 1. one pipe for stdout and stderr, no stdin, no shell */
    rv = apr_procattr_create(&attr, p);
    if (rv == APR_SUCCESS) rv = apr_file_pipe_create_ex(&out_r, &out_w, APR_READ_BLOCK, p);
    if (rv == APR_SUCCESS) rv = apr_procattr_child_out_set(attr, out_w, NULL);
    if (rv == APR_SUCCESS) rv = apr_procattr_child_err_set(attr, out_w, NULL);
    if (rv == APR_SUCCESS) rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM);
    if (rv == APR_SUCCESS) rv = apr_procattr_io_set(attr, APR_NO_FILE, APR_NO_PIPE, APR_NO_PIPE);
    /* 2. start it */
    if (rv == APR_SUCCESS) {
        rv = apr_proc_create(&proc, APR_ARRAY_IDX(req->argv, 0, const char *),
                             argv_make(req->argv, p), env_make(req->env, p), attr, p);
    }
    if (out_w) apr_file_close(out_w);
    if (rv != APR_SUCCESS) {
        if (out_r) apr_file_close(out_r);
        return rv;
    }
    /* 3. its output until it ends; stopped when the time is up or the process exits */
    rv = output_read(res, out_r, req, apr_time_now() + timeout, p);
    apr_file_close(out_r);
    if (rv != APR_SUCCESS) {
        res->timed_out = (rv == APR_TIMEUP);
        program_stop(&proc);
        return rv;
    }
    apr_proc_wait(&proc, &res->exit_code, &why, APR_WAIT);
    if (why != APR_PROC_EXIT) res->exit_code = -1;
    return res->exit_code == 0 ? APR_SUCCESS : APR_EGENERAL;
}

/* One word starting at *pline (blanks already skipped); advances *pline past it. */
static apr_status_t split_word(const char **pword, const char **pline, apr_pool_t *p)
{
    const char *s = *pline;
    char *word = apr_palloc(p, strlen(s) + 1), *w = word, quote = 0;

    for (; *s && (quote || (*s != ' ' && *s != '\t')); ++s) {
        if (quote && *s == quote) quote = 0;
        else if (!quote && (*s == '\'' || *s == '"')) quote = *s;
        else if (*s == '\\' && quote != '\'' && s[1]) *w++ = *++s;
        else *w++ = *s;
    }
    *w = '\0';
    *pline = s;
    *pword = word;
    return quote ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t md_exec_split(apr_array_header_t **pargv, const char *line, apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_make(p, 4, sizeof(const char *));
    const char *word;
    apr_status_t rv = APR_SUCCESS;

    while (line && rv == APR_SUCCESS) {
        while (*line == ' ' || *line == '\t') ++line;
        if (!*line) break;
        rv = split_word(&word, &line, p);
        if (rv == APR_SUCCESS) APR_ARRAY_PUSH(argv, const char *) = word;
    }
    if (rv == APR_SUCCESS && argv->nelts == 0) rv = APR_EINVAL;
    *pargv = (rv == APR_SUCCESS) ? argv : NULL;
    return rv;
}
