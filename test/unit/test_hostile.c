/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Hostile input: regressions for what the fuzz targets (test/fuzz) and the security
 * review (docs/security.md) found, one test per finding. */
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md.h"
#include "md_exec.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"
#include "md_test.h"

#define DAY apr_time_from_sec(24 * 60 * 60)

/* strtoll skips blanks and takes a sign: "\t-5d" was a negative duration and
 * " -5%" a negative window. */
START_TEST(time_rejects_blanks_and_signs)
{
    static const char *const bad[] = { "\t-5d", "\n-2%", " -5%", "\t5%", "\n5s", "+5s" };
    md_timeslice_t ts = { 33, 100 };
    apr_interval_time_t d = 42;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_duration_parse(&d, bad[i], "d") != NULL, "accepted '%s'", bad[i]);
        ck_assert_msg(md_timeslice_parse(&ts, bad[i], "d") != NULL, "accepted '%s'", bad[i]);
    }
    ck_assert_int_eq(d, 42);
}
END_TEST

/* n days was n * 86400e6 with only n checked: "3153600000d" overflowed. */
START_TEST(time_rejects_overflow)
{
    apr_interval_time_t d = 42;

    ck_assert_ptr_nonnull(md_duration_parse(&d, "3153600000d", "d"));
    ck_assert_ptr_nonnull(md_duration_parse(&d, "9223372036854775807ms", "s"));
    ck_assert_ptr_nonnull(md_duration_parse(&d, "36501d", "d"));
    ck_assert_int_eq(d, 42);
    ck_assert_ptr_null(md_duration_parse(&d, "36500d", "d"));
    ck_assert_int_eq(d, 36500 * DAY);
}
END_TEST

/* A damaged renew-window in md.json used to leave {len 33, norm 0}: 33 microseconds. */
START_TEST(timeslice_unchanged_on_error)
{
    md_timeslice_t ts = { 33, 100 };

    ck_assert_ptr_nonnull(md_timeslice_parse(&ts, "soon", "d"));
    ck_assert_int_eq(ts.len, 33);
    ck_assert_int_eq(ts.norm, 100);
}
END_TEST

/* Names reach programs (MDMessageCmd, MDChallengeDns01) as argv elements, never
 * through a shell: each arrives literally, as one argument. */
START_TEST(exec_arguments_arrive_literally)
{
    const char *marker = apr_psprintf(md_test_pool, "/tmp/md-exec-injected-%d", (int)getpid());
    const char *hostile[] = { "x.test; rm -rf /", apr_psprintf(md_test_pool, "$(touch %s)", marker),
                              apr_psprintf(md_test_pool, "`touch %s`", marker), "a b\tc\nd",
                              "--version", "*", "'\"", "" };
    apr_array_header_t *argv = apr_array_make(md_test_pool, 10, sizeof(const char *));
    apr_table_t *env = apr_table_make(md_test_pool, 2);
    const char *expected = "";
    md_exec_req_t req = { NULL, NULL, apr_time_from_sec(10), NULL };
    md_exec_res_t *res;
    size_t i;

    APR_ARRAY_PUSH(argv, const char *) = "/usr/bin/printf";
    APR_ARRAY_PUSH(argv, const char *) = "[%s]\n";
    for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); ++i) {
        APR_ARRAY_PUSH(argv, const char *) = hostile[i];
        expected = apr_pstrcat(md_test_pool, expected, "[", hostile[i], "]\n", NULL);
    }
    req.argv = argv;
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(res->output, expected);
    ck_assert_int_ne(access(marker, F_OK), 0);

    /* the environment too: a value is a value */
    argv = apr_array_make(md_test_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(argv, const char *) = "/usr/bin/printenv";
    APR_ARRAY_PUSH(argv, const char *) = "MD_NAME";
    apr_table_setn(env, "MD_NAME", hostile[1]);
    req.argv = argv;
    req.env = env;
    ck_assert_int_eq(md_exec_run(&res, &req, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(res->output, apr_pstrcat(md_test_pool, hostile[1], "\n", NULL));
    ck_assert_int_ne(access(marker, F_OK), 0);
}
END_TEST

/* A name from a CA's answer or a damaged file never reaches outside its group. */
START_TEST(store_names_are_path_components)
{
    static const char *const bad[] = { "..", ".", "", "../x", "a/b", "/etc", "x/.." };
    char dir[] = "/tmp/md-test-store-XXXXXX";
    const char *text;
    md_store_t *store;
    size_t i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(md_store_open(&store, apr_pstrcat(md_test_pool, dir, "/md", NULL), 1,
                                   md_test_pool), APR_SUCCESS);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_int_eq(md_store_save_text(store, MD_SG_CHALLENGES, bad[i], MD_FN_HTTP01, "x",
                                            md_test_pool), APR_EINVAL);
        ck_assert_int_eq(md_store_save_text(store, MD_SG_CHALLENGES, "a.test", bad[i], "x",
                                            md_test_pool), APR_EINVAL);
        ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, bad[i], MD_FN_MD,
                                            md_test_pool), APR_EINVAL);
        ck_assert_int_eq(md_store_purge(store, MD_SG_STAGING, bad[i], md_test_pool), APR_EINVAL);
    }
    ck_assert_int_eq(md_store_save_text(store, MD_SG_CHALLENGES, "a.test", MD_FN_HTTP01, "x",
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_dir_remove_all(dir, md_test_pool), APR_SUCCESS);
}
END_TEST

/* A key spec from md.json names store files: a curve that is no name becomes the default. */
START_TEST(md_json_hostile_key_spec)
{
    static const char TEXT[] = "{\"name\":\"x.test\",\"domains\":[\"x.test\"],\"privkey\":"
        "[{\"type\":\"EC\",\"curve\":\"../../../tmp/evil\"},{\"type\":\"RSA\",\"bits\":-1}],"
        "\"renew-mode\":99}";
    md_json_t *json;
    md_t *md;

    ck_assert_int_eq(md_json_parse(&json, TEXT, sizeof(TEXT) - 1, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_from_json(&md, json, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_pkey_file_name(md_pkey_spec_at(md, 0), "privkey", md_test_pool),
                     "privkey.pem");
    ck_assert_uint_eq(md_pkey_spec_at(md, 1)->bits, MD_PKEY_RSA_BITS_DEFAULT);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_AUTO);
}
END_TEST

/* A proxy URL as shown anywhere (status, job.json, logs) never carries its password. */
START_TEST(url_password_masked)
{
    ck_assert_str_eq(md_url_masked("http://u:s3cret@proxy.test:3128/", md_test_pool),
                     "http://u:***@proxy.test:3128/");
    ck_assert_str_eq(md_url_masked("https://proxy.test:3128", md_test_pool), "https://proxy.test:3128");
    ck_assert_str_eq(md_url_masked("http://u@proxy.test/", md_test_pool), "http://u@proxy.test/");
    ck_assert_ptr_null(strstr(md_url_masked("http://u:a@b@proxy.test/", md_test_pool), "a@b"));
    ck_assert_ptr_null(strstr(md_url_masked("http://u:s3cret@[::1/", md_test_pool), "s3cret"));
    ck_assert_ptr_null(md_url_masked(NULL, md_test_pool));
}
END_TEST

Suite *md_test_hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, time_rejects_blanks_and_signs);
    tcase_add_test(tc, time_rejects_overflow);
    tcase_add_test(tc, timeslice_unchanged_on_error);
    tcase_add_test(tc, exec_arguments_arrive_literally);
    tcase_add_test(tc, store_names_are_path_components);
    tcase_add_test(tc, md_json_hostile_key_spec);
    tcase_add_test(tc, url_password_masked);
    suite_add_tcase(s, tc);
    return s;
}
