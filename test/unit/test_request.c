/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Renewal requests (staging/.renew-requests): what mdctl renew and OCSP stapling
 * write is what the renewal watchdog reads back, with its reason; the job keeps the
 * request for the status. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_request.h"
#include "md_job.h"
#include "md_json_keys.h"
#include "md_util.h"
#include "md_test.h"

static md_store_t *store;
static char tmpl[64];

static void request_setup(void)
{
    md_test_setup();
    apr_cpystrn(tmpl, "/tmp/md-unit-request-XXXXXX", sizeof(tmpl));
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    ck_assert_int_eq(md_store_open(&store, apr_pstrcat(md_test_pool, tmpl, "/md", NULL), 1,
                                   md_test_pool), APR_SUCCESS);
}

static void request_teardown(void)
{
    md_dir_remove_all(tmpl, md_test_pool);
    md_test_teardown();
}

static const md_request_t *req_at(apr_array_header_t *reqs, int i)
{
    return APR_ARRAY_IDX(reqs, i, const md_request_t *);
}

START_TEST(request_written_and_taken_with_reason)
{
    apr_array_header_t *reqs;

    ck_assert_int_eq(md_request_add(store, "a.test", "requested by an administrator", md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_request_add(store, "b.test", NULL, md_test_pool), APR_SUCCESS);
    /* a reason is one line: a line break in it cannot start a request of its own */
    ck_assert_int_eq(md_request_add(store, "c.test", "two\nlines\tand a tab", md_test_pool),
                     APR_SUCCESS);
    reqs = md_request_pending(store, md_test_pool);
    ck_assert_int_eq(reqs->nelts, 3);
    reqs = md_request_take(store, md_test_pool);
    ck_assert_int_eq(reqs->nelts, 3);
    ck_assert_str_eq(req_at(reqs, 0)->name, "a.test");
    ck_assert_str_eq(req_at(reqs, 0)->reason, "requested by an administrator");
    ck_assert_str_eq(req_at(reqs, 1)->name, "b.test");
    ck_assert_str_eq(req_at(reqs, 1)->reason, "");
    ck_assert_str_eq(req_at(reqs, 2)->name, "c.test");
    ck_assert_str_eq(req_at(reqs, 2)->reason, "two lines and a tab");
    /* taken: nothing waits any more */
    ck_assert_int_eq(md_request_pending(store, md_test_pool)->nelts, 0);
    ck_assert_int_eq(md_request_take(store, md_test_pool)->nelts, 0);
}
END_TEST

START_TEST(request_bad_names_refused)
{
    apr_array_header_t *reqs;

    ck_assert_int_eq(md_request_add(store, "../x", "no", md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_request_add(store, "a\tb", "no", md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_request_add(store, "", "no", md_test_pool), APR_EINVAL);
    /* lines of the module before reasons existed: a bare name */
    reqs = md_request_parse("x.test\n\n..\ny.test\twhy\r\n", md_test_pool);
    ck_assert_int_eq(reqs->nelts, 2);
    ck_assert_str_eq(req_at(reqs, 0)->name, "x.test");
    ck_assert_str_eq(req_at(reqs, 1)->reason, "why");
}
END_TEST

START_TEST(request_kept_in_job)
{
    md_job_t *job = md_job_load(store, MD_SG_STAGING, "a.test", md_test_pool);
    md_json_t *j;

    job->next_run = apr_time_now() + apr_time_from_sec(3600);   /* backing off */
    md_job_requested(job, "requested by an administrator", md_test_pool);
    ck_assert_int_eq(job->next_run, 0);
    ck_assert_int_eq(md_job_save(job, store, MD_SG_STAGING, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_json(&j, store, MD_SG_STAGING, "a.test", MD_FN_JOB,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(j, MD_KEY_REQUESTED, MD_KEY_REASON, NULL),
                     "requested by an administrator");
    ck_assert_ptr_nonnull(md_json_gets(j, MD_KEY_REQUESTED, MD_KEY_WHEN, NULL));
    ck_assert_str_eq(md_json_gets(md_json_array_at(md_json_getj(j, MD_KEY_LOG, MD_KEY_ENTRIES,
                                                                NULL), 0), MD_KEY_TYPE, NULL),
                     "renewal-requested");
    job = md_job_load(store, MD_SG_STAGING, "a.test", md_test_pool);
    ck_assert_str_eq(job->requested_reason, "requested by an administrator");
    ck_assert(job->requested_at > 0);
}
END_TEST

Suite *md_test_request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("marker");

    tcase_add_checked_fixture(tc, request_setup, request_teardown);
    tcase_add_test(tc, request_written_and_taken_with_reason);
    tcase_add_test(tc, request_bad_names_refused);
    tcase_add_test(tc, request_kept_in_job);
    suite_add_tcase(s, tc);
    return s;
}
