/* Hostile input: regressions for what the fuzz targets (test/fuzz) and the security
 * review (docs/security.md) found, one test per finding. */
#include <string.h>

#include "md_time.h"
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

Suite *md_test_hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, time_rejects_blanks_and_signs);
    tcase_add_test(tc, time_rejects_overflow);
    tcase_add_test(tc, timeslice_unchanged_on_error);
    suite_add_tcase(s, tc);
    return s;
}
