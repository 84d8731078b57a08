/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Durations and renewal windows as administrators write them in directives. */
#include <string.h>

#include "md_time.h"
#include "md_test.h"

#define DAY apr_time_from_sec(24 * 60 * 60)

static apr_interval_time_t duration(const char *s, const char *default_unit)
{
    apr_interval_time_t d = -1;
    const char *err = md_duration_parse(&d, s, default_unit);

    ck_assert_msg(err == NULL, "'%s' rejected: %s", s, err ? err : "");
    return d;
}

START_TEST(duration_units)
{
    ck_assert_int_eq(duration("30", "s"), apr_time_from_sec(30));
    ck_assert_int_eq(duration("30", "d"), 30 * DAY);
    ck_assert_int_eq(duration("30s", "d"), apr_time_from_sec(30));
    ck_assert_int_eq(duration("5mi", "s"), apr_time_from_sec(5 * 60));
    ck_assert_int_eq(duration("12h", "s"), apr_time_from_sec(12 * 60 * 60));
    ck_assert_int_eq(duration("7d", "s"), 7 * DAY);
    ck_assert_int_eq(duration("250ms", "s"), apr_time_from_msec(250));
    ck_assert_int_eq(duration("0s", "s"), 0);
}
END_TEST

/* "m" could be minutes or months: refused, with a message that names the valid forms. */
START_TEST(duration_rejects_ambiguous_and_garbage)
{
    static const char *const bad[] = { "1m", "abc", "", "-5s", "5x", "s", "5dd" };
    apr_interval_time_t d = 42;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        err = md_duration_parse(&d, bad[i], "s");
        ck_assert_msg(err != NULL, "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "mi"));
    }
    ck_assert_int_eq(d, 42);
}
END_TEST

START_TEST(duration_print_round_trip)
{
    static const char *const forms[] = { "30s", "5mi", "12h", "7d", "250ms" };
    size_t i;

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); ++i) {
        apr_interval_time_t d = duration(forms[i], "s");

        ck_assert_str_eq(md_duration_print(d, md_test_pool), forms[i]);
    }
}
END_TEST

START_TEST(timeslice_percentages)
{
    md_timeslice_t ts;

    ck_assert_ptr_null(md_timeslice_parse(&ts, "33%", "d"));
    ck_assert_int_ne(ts.norm, 0);
    ck_assert_ptr_null(md_timeslice_parse(&ts, "0%", "d"));
    ck_assert_int_eq(ts.len, 0);
    ck_assert_ptr_null(md_timeslice_parse(&ts, "99%", "d"));
    ck_assert_str_eq(md_timeslice_print(&ts, md_test_pool), "99%");
}
END_TEST

/* 100% would keep the window open for the whole lifetime: renew forever. */
START_TEST(timeslice_rejects_bad_percentages)
{
    static const char *const bad[] = { "100%", "150%", "-5%", "%", "x%", "33.5%" };
    md_timeslice_t ts;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_timeslice_parse(&ts, bad[i], "d") != NULL, "accepted '%s'", bad[i]);
    }
}
END_TEST

START_TEST(timeslice_absolute)
{
    md_timeslice_t ts;

    ck_assert_ptr_null(md_timeslice_parse(&ts, "30d", "d"));
    ck_assert_int_eq(ts.norm, 0);
    ck_assert_int_eq(ts.len, 30 * DAY);
    ck_assert_ptr_null(md_timeslice_parse(&ts, "10", "d"));
    ck_assert_int_eq(ts.len, 10 * DAY);
    ck_assert_ptr_nonnull(md_timeslice_parse(&ts, "10m", "d"));
}
END_TEST

START_TEST(timeslice_length_of_lifetime)
{
    apr_time_t from = apr_time_from_sec(1700000000);
    apr_time_t until = from + 90 * DAY;
    apr_interval_time_t len;
    md_timeslice_t ts;

    /* 33% of a 90-day certificate: 29.7 days before it ends */
    ck_assert_ptr_null(md_timeslice_parse(&ts, "33%", "d"));
    len = md_timeslice_length(&ts, from, until);
    ck_assert_int_eq(apr_time_sec(len), 29 * 24 * 3600 + 7 * 24 * 360);
    /* an absolute window is the same whatever the lifetime */
    ck_assert_ptr_null(md_timeslice_parse(&ts, "30d", "d"));
    ck_assert_int_eq(md_timeslice_length(&ts, from, until), 30 * DAY);
    ck_assert_int_eq(md_timeslice_length(&ts, from, from + 6 * DAY), 30 * DAY);
    /* 0% never opens early */
    ck_assert_ptr_null(md_timeslice_parse(&ts, "0%", "d"));
    ck_assert_int_eq(md_timeslice_length(&ts, from, until), 0);
}
END_TEST

/* MDActivationRestart's window: minutes of the day, the end excluded, across midnight. */
START_TEST(daily_window_wraps_midnight)
{
    ck_assert(md_time_in_daily_window(0, -1, -1));              /* no window */
    ck_assert(md_time_in_daily_window(2 * 60, 2 * 60, 4 * 60));
    ck_assert(md_time_in_daily_window(4 * 60 - 1, 2 * 60, 4 * 60));
    ck_assert(!md_time_in_daily_window(4 * 60, 2 * 60, 4 * 60));
    ck_assert(!md_time_in_daily_window(2 * 60 - 1, 2 * 60, 4 * 60));
    /* 23:00-01:00 */
    ck_assert(md_time_in_daily_window(23 * 60, 23 * 60, 60));
    ck_assert(md_time_in_daily_window(23 * 60 + 59, 23 * 60, 60));
    ck_assert(md_time_in_daily_window(0, 23 * 60, 60));
    ck_assert(md_time_in_daily_window(59, 23 * 60, 60));
    ck_assert(!md_time_in_daily_window(60, 23 * 60, 60));
    ck_assert(!md_time_in_daily_window(12 * 60, 23 * 60, 60));
}
END_TEST

Suite *md_test_time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, duration_units);
    tcase_add_test(tc, duration_rejects_ambiguous_and_garbage);
    tcase_add_test(tc, duration_print_round_trip);
    tcase_add_test(tc, timeslice_percentages);
    tcase_add_test(tc, timeslice_rejects_bad_percentages);
    tcase_add_test(tc, timeslice_absolute);
    tcase_add_test(tc, timeslice_length_of_lifetime);
    tcase_add_test(tc, daily_window_wraps_midnight);
    suite_add_tcase(s, tc);
    return s;
}
