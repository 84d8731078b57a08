/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* External programs: argv passed literally, exit codes, output, and the timeout. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "md_exec.h"
#include "md_test.h"

static apr_array_header_t *argv_of(const char *a0, const char *a1, const char *a2, const char *a3)
{
    apr_array_header_t *argv = apr_array_make(md_test_pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(argv, const char *) = a0;
    if (a1) APR_ARRAY_PUSH(argv, const char *) = a1;
    if (a2) APR_ARRAY_PUSH(argv, const char *) = a2;
    if (a3) APR_ARRAY_PUSH(argv, const char *) = a3;
    return argv;
}

/* Shell syntax in a name reaches the program as one literal argument. */
START_TEST(exec_args_are_literal)
{
    md_exec_req_t req = { NULL, NULL, apr_time_from_sec(10), NULL };
    md_exec_res_t *res;
    apr_table_t *env = apr_table_make(md_test_pool, 2);

    apr_table_setn(env, "MD_NAME", "a.test");
    req.env = env;
    req.argv = argv_of("/usr/bin/printf", "[%s][%s]|%s", "x; rm -rf / $(id) `id`", NULL);
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(res->output, "[x; rm -rf / $(id) `id`][]|");
    req.argv = argv_of("/usr/bin/env", NULL, NULL, NULL);
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(res->output, "MD_NAME=a.test\n"));
    ck_assert_ptr_null(strstr(res->output, "HOME="));   /* a clean environment */
}
END_TEST

START_TEST(exec_exit_code_and_output)
{
    md_exec_req_t req = { NULL, NULL, apr_time_from_sec(10), NULL };
    md_exec_res_t *res;

    req.argv = argv_of("/bin/sh", "-c", "echo oops >&2; exit 3", NULL);
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_EGENERAL);
    ck_assert_int_eq(res->exit_code, 3);
    ck_assert_str_eq(res->output, "oops\n");
}
END_TEST

START_TEST(exec_timeout_kills)
{
    md_exec_req_t req = { NULL, NULL, apr_time_from_msec(300), NULL };
    md_exec_res_t *res;
    apr_time_t start = apr_time_now();

    req.argv = argv_of("/bin/sleep", "30", NULL, NULL);
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_TIMEUP);
    ck_assert(res->timed_out);
    ck_assert(apr_time_now() - start < apr_time_from_sec(5));
}
END_TEST

static void *APR_THREAD_FUNC cancel_later(apr_thread_t *thread, void *baton)
{
    apr_sleep(apr_time_from_msec(200));
    apr_atomic_set32(baton, 1);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* The process exits (the flag is set while the program runs): the program is stopped at
 * once, not at its timeout; one that ignores SIGTERM is killed after the grace time. */
START_TEST(exec_cancel_stops_the_program)
{
    static const char *scripts[] = { "sleep 30", "trap '' TERM; sleep 30; sleep 30" };
    volatile apr_uint32_t cancel;
    md_exec_req_t req = { NULL, NULL, apr_time_from_sec(60), &cancel };
    md_exec_res_t *res;
    apr_thread_t *thread;
    apr_status_t trv;
    apr_time_t start;
    int i;

    for (i = 0; i < 2; ++i) {
        apr_atomic_set32(&cancel, 0);
        req.argv = argv_of("/bin/sh", "-c", scripts[i], NULL);
        start = apr_time_now();
        ck_assert_int_eq(apr_thread_create(&thread, NULL, cancel_later, (void *)&cancel,
                                           md_test_pool), APR_SUCCESS);
        ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_EINTR);
        apr_thread_join(&trv, thread);
        ck_assert(!res->timed_out);
        ck_assert(apr_time_now() - start < apr_time_from_sec(2));
    }
    /* once the flag is set, no program starts */
    req.argv = argv_of("/bin/sh", "-c", "exit 0", NULL);
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_EINTR);
}
END_TEST

START_TEST(exec_missing_program)
{
    md_exec_req_t req = { NULL, NULL, apr_time_from_sec(5), NULL };
    md_exec_res_t *res;

    req.argv = argv_of("/nonexistent/program", NULL, NULL, NULL);
    ck_assert_int_ne(md_exec_run(&res, &req, md_test_pool), APR_SUCCESS);
}
END_TEST

Suite *md_test_exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("programs");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, exec_args_are_literal);
    tcase_add_test(tc, exec_exit_code_and_output);
    tcase_add_test(tc, exec_timeout_kills);
    tcase_add_test(tc, exec_missing_program);
    tcase_add_test(tc, exec_cancel_stops_the_program);
    suite_add_tcase(s, tc);
    return s;
}
