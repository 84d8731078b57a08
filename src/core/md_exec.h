/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Running external programs (MDMessageCmd, MDNotifyCmd, MDChallengeDns01): from an argv
 * vector, never through a shell, with a clean environment plus MD_* variables, and a
 * timeout after which the program is killed. Output (stdout and stderr together) is
 * kept, up to a limit, for the log and the job. */
#ifndef md_exec_h
#define md_exec_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_atomic.h>

typedef struct {
    const apr_array_header_t *argv;   /* const char*: the program, then its arguments */
    const apr_table_t *env;           /* MD_* variables (may be NULL) */
    apr_interval_time_t timeout;
    volatile apr_uint32_t *cancel;    /* when set and non-zero, the program is stopped at once */
} md_exec_req_t;

typedef struct {
    int exit_code;                    /* -1 when killed or not run */
    int timed_out;
    const char *output;               /* stdout and stderr, at most MD_EXEC_MAX_OUTPUT */
} md_exec_res_t;

#define MD_EXEC_MAX_OUTPUT (64 * 1024)
#define MD_EXEC_DEFAULT_TIMEOUT apr_time_from_sec(60)
#define MD_EXEC_GRACE apr_time_from_msec(500)

/* APR_SUCCESS when the program ran and exited 0; APR_TIMEUP when it was stopped at the
 * timeout; APR_EINTR when it was stopped because *cancel became non-zero (the process
 * exits); APR_EGENERAL for another exit code; the start error otherwise. A program is
 * stopped with SIGTERM and, if it has not ended MD_EXEC_GRACE later, SIGKILL. *pres is
 * always set. */
apr_status_t md_exec_run(md_exec_res_t **pres, const md_exec_req_t *req, apr_pool_t *p);

/* Split a command line as written in a directive into an argv vector: words separated
 * by blanks; '...' and "..." quote (no escapes inside single quotes); a backslash
 * escapes the next character outside single quotes. No shell, no expansion.
 * APR_EINVAL on an unterminated quote or an empty line. */
apr_status_t md_exec_split(apr_array_header_t **pargv, const char *line, apr_pool_t *p);

/* argv with more arguments appended (the configured command, then ours). */
apr_array_header_t *md_exec_argv(const apr_array_header_t *base, apr_pool_t *p, ...);

#endif
