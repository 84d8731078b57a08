/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The renewal decisions: when to renew, how long to back off, when events may run. */
#include "md_renew.h"
#include "md_event.h"
#include "md_job.h"
#include "md_util.h"
#include "md_test.h"
#include "md_time.h"

#define DAY apr_time_from_sec(24 * 60 * 60)
#define HOUR apr_time_from_sec(60 * 60)
#define T0 apr_time_from_sec(1767225600)  /* 2026-01-01 */

static md_timeslice_t pct(int n)
{
    md_timeslice_t ts = { n, 100 };
    return ts;
}

static md_timeslice_t abs_days(int n)
{
    md_timeslice_t ts = { n * DAY, 0 };
    return ts;
}

START_TEST(renew_at_percentage_of_real_lifetime)
{
    md_timeslice_t w = pct(33);
    /* 90 days: a third before the end is 29.7 days before */
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 90 * DAY), T0 + 90 * DAY - (apr_time_t)(90 * DAY * 0.33));
    w = pct(0);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 90 * DAY), T0 + 90 * DAY);
    w = pct(99);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 100 * DAY), T0 + DAY);
}
END_TEST

START_TEST(renew_at_absolute_window)
{
    md_timeslice_t w = abs_days(30);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 90 * DAY), T0 + 60 * DAY);
    /* a window longer than the lifetime: due at once (before the start) */
    w = abs_days(3650);
    ck_assert(md_renew_at(&w, T0, T0 + 90 * DAY) < T0);
}
END_TEST

/* A set served live is renewed in place at its own renewal time; a window not shorter
 * than its life would make that "at once" at every check: half the life instead. */
START_TEST(renew_in_place_at_never_at_once)
{
    md_timeslice_t w = abs_days(30);
    ck_assert_int_eq(md_renew_in_place_at(&w, T0, T0 + 90 * DAY), T0 + 60 * DAY);
    w = pct(33);
    ck_assert_int_eq(md_renew_in_place_at(&w, T0, T0 + 90 * DAY), md_renew_at(&w, T0, T0 + 90 * DAY));
    w = abs_days(3650);
    ck_assert_int_eq(md_renew_in_place_at(&w, T0, T0 + 90 * DAY), T0 + 45 * DAY);
    w = abs_days(90);
    ck_assert_int_eq(md_renew_in_place_at(&w, T0, T0 + 90 * DAY), T0 + 45 * DAY);
}
END_TEST

/* Certificates under 10 days renew at half their lifetime at the latest. */
START_TEST(renew_at_short_lived)
{
    md_timeslice_t w = pct(33);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 6 * DAY), T0 + 3 * DAY);
    w = abs_days(1);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 6 * DAY), T0 + 3 * DAY);
    w = abs_days(5);  /* an earlier window still wins */
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 6 * DAY), T0 + DAY);
    /* exactly 10 days is not short-lived */
    w = pct(10);
    ck_assert_int_eq(md_renew_at(&w, T0, T0 + 10 * DAY), T0 + 9 * DAY);
}
END_TEST

START_TEST(backoff_doubles_to_a_day)
{
    apr_interval_time_t base = apr_time_from_sec(30);

    ck_assert_int_eq(md_renew_backoff(1, base, 0, 0.0), base);
    ck_assert_int_eq(md_renew_backoff(2, base, 0, 0.0), 2 * base);
    ck_assert_int_eq(md_renew_backoff(5, base, 0, 0.0), 16 * base);
    ck_assert_int_eq(md_renew_backoff(30, base, 0, 0.0), DAY);
    ck_assert_int_eq(md_renew_backoff(100000, base, 0, 0.0), DAY);   /* no overflow */
    ck_assert_int_eq(md_renew_backoff(1, base, 1, 0.0), DAY);        /* input problems */
    ck_assert_int_eq(md_renew_backoff(1, base, 0, 0.5), base + base / 2);
    ck_assert_int_eq(md_renew_backoff(1, base, 0, -0.5), base / 2);
    ck_assert_int_eq(md_renew_backoff(1, base, 0, 7.0), base + base / 2);  /* clamped */
}
END_TEST

START_TEST(event_rate_limits)
{
    md_job_t job = { 0 };
    md_json_t *entry = md_json_create(md_test_pool);
    apr_time_t now = apr_time_now();

    ck_assert_int_eq(md_event_rate_limit("renewed"), DAY);
    ck_assert_int_eq(md_event_rate_limit("errored"), HOUR);
    ck_assert_int_eq(md_event_rate_limit("renewing"), 0);
    ck_assert_int_eq(md_event_rate_limit("challenge-setup:http-01:a.test"), 0);

    job.log = md_json_create_array(md_test_pool);
    ck_assert(!md_event_limited(&job, "errored", now, md_test_pool));
    md_json_sets(md_time_print(now - 30 * apr_time_from_sec(60), md_test_pool), entry, "when", NULL);
    md_json_sets("message-errored", entry, "type", NULL);
    md_json_array_insert_first(job.log, entry, 10);
    ck_assert(md_event_limited(&job, "errored", now, md_test_pool));
    ck_assert(!md_event_limited(&job, "errored", now + HOUR, md_test_pool));
    ck_assert(!md_event_limited(&job, "renewed", now, md_test_pool));
    ck_assert(!md_event_limited(&job, "renewing", now, md_test_pool));
}
END_TEST

/* MDActivationDelay after notBefore, never after the served certificate's end. */
START_TEST(activation_at_delay_capped_by_served_end)
{
    ck_assert_int_eq(md_renew_activation_at(T0, 0, 0), T0);
    ck_assert_int_eq(md_renew_activation_at(T0, DAY, 0), T0 + DAY);
    ck_assert_int_eq(md_renew_activation_at(T0, DAY, T0 + 30 * DAY), T0 + DAY);
    ck_assert_int_eq(md_renew_activation_at(T0, 3 * DAY, T0 + DAY), T0 + DAY);
    ck_assert_int_eq(md_renew_activation_at(T0, -DAY, 0), T0);   /* never before notBefore */
}
END_TEST

START_TEST(warn_at_before_the_end)
{
    md_timeslice_t w = pct(10);
    ck_assert_int_eq(md_renew_warn_at(&w, T0, T0 + 100 * DAY), T0 + 90 * DAY);
    w = abs_days(7);
    ck_assert_int_eq(md_renew_warn_at(&w, T0, T0 + 90 * DAY), T0 + 83 * DAY);
}
END_TEST

/* The next look at an MD: the interval (with jitter) or something due earlier. */
START_TEST(next_check_takes_the_earliest_due)
{
    apr_time_t now = T0;
    md_renew_times_t t = { 0, 0, 0, 0, 0 };

    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, 0.0), now + 12 * HOUR);
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, 0.5), now + 18 * HOUR);
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, -9.0), now + 6 * HOUR);
    t.renew_at = now + 2 * HOUR;
    t.warn_at = now + 3 * HOUR;
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, 0.0), now + 2 * HOUR);
    t.job_next_run = now + HOUR;          /* a backoff ending first */
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, 0.0), now + HOUR);
    t.renew_at = t.warn_at = now - HOUR;  /* past: no reason to look early */
    t.job_next_run = 0;
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, HOUR, 0.0), now + 12 * HOUR);
}
END_TEST

START_TEST(next_check_of_a_staged_set)
{
    apr_time_t now = T0;
    md_renew_times_t t = { now + HOUR, 0, 0, 1, 0 };

    /* programs not run yet: after retry, or when their backoff ends */
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, 5 * HOUR, 0.0), now + 5 * HOUR);
    t.job_next_run = now + 2 * HOUR;
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, 5 * HOUR, 0.0), now + 2 * HOUR);
    /* programs ran: it waits for activation; the renewal time no longer matters */
    t.notified = 1;
    ck_assert_int_eq(md_renew_next_check(&t, now, 12 * HOUR, 5 * HOUR, 0.0), now + 12 * HOUR);
}
END_TEST

static md_t *md_of(const char *name, const char *d1, const char *d2)
{
    md_t *md = md_create(md_test_pool, name);
    APR_ARRAY_PUSH(md->domains, const char *) = d1;
    if (d2) APR_ARRAY_PUSH(md->domains, const char *) = d2;
    return md;
}

/* A renamed MD carries on from the unclaimed stored MD sharing the most names. */
START_TEST(rename_pick_most_shared_names)
{
    apr_array_header_t *unclaimed = apr_array_make(md_test_pool, 3, sizeof(md_t *));
    const md_t *conf = md_of("new", "a.test", "b.test");

    ck_assert_ptr_null(md_rename_pick(conf, unclaimed));
    APR_ARRAY_PUSH(unclaimed, md_t *) = md_of("other", "c.test", NULL);
    ck_assert_ptr_null(md_rename_pick(conf, unclaimed));
    APR_ARRAY_PUSH(unclaimed, md_t *) = md_of("one", "b.test", "c.test");
    APR_ARRAY_PUSH(unclaimed, md_t *) = md_of("both", "b.test", "a.test");
    APR_ARRAY_PUSH(unclaimed, md_t *) = md_of("both-too", "a.test", "b.test");
    ck_assert_str_eq(md_rename_pick(conf, unclaimed)->name, "both");
}
END_TEST

Suite *md_test_renew_suite(void)
{
    Suite *s = suite_create("renew");
    TCase *tc = tcase_create("decisions");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, renew_at_percentage_of_real_lifetime);
    tcase_add_test(tc, renew_at_absolute_window);
    tcase_add_test(tc, renew_at_short_lived);
    tcase_add_test(tc, renew_in_place_at_never_at_once);
    tcase_add_test(tc, backoff_doubles_to_a_day);
    tcase_add_test(tc, event_rate_limits);
    tcase_add_test(tc, activation_at_delay_capped_by_served_end);
    tcase_add_test(tc, warn_at_before_the_end);
    tcase_add_test(tc, next_check_takes_the_earliest_due);
    tcase_add_test(tc, next_check_of_a_staged_set);
    tcase_add_test(tc, rename_pick_most_shared_names);
    suite_add_tcase(s, tc);
    return s;
}
