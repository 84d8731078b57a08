/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_date.h>

#include "md_time.h"

#define MD_SECS_PER_DAY (24 * 60 * 60)
#define MD_DURATION_MAX (apr_time_from_sec(100LL * 365 * MD_SECS_PER_DAY))

typedef struct {
    const char *unit;
    apr_interval_time_t factor;
} md_time_unit_t;

/* Longest suffixes first so that "ms" and "mi" are not taken for something shorter. */
static const md_time_unit_t UNITS[] = {
    { "ms", 1000 },
    { "mi", apr_time_from_sec(60) },
    { "d",  apr_time_from_sec(MD_SECS_PER_DAY) },
    { "h",  apr_time_from_sec(60 * 60) },
    { "s",  apr_time_from_sec(1) },
};

static const char *DURATION_FORMS =
    "a duration is a number with a unit: d (days), h (hours), mi (minutes), s (seconds) "
    "or ms (milliseconds), e.g. 30s, 12h, 7d";

static const md_time_unit_t *unit_find(const char *unit)
{
    apr_size_t i;

    for (i = 0; i < sizeof(UNITS) / sizeof(UNITS[0]); ++i) {
        if (!strcasecmp(UNITS[i].unit, unit)) return &UNITS[i];
    }
    return NULL;
}

const char *md_duration_parse(apr_interval_time_t *pd, const char *s, const char *default_unit)
{
    const md_time_unit_t *u;
    char *end;
    long long n;

    /* digits first: strtoll would also take leading blanks and a sign ("\t-5d") */
    if (!s || !apr_isdigit(*s)) return DURATION_FORMS;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || end == s) return DURATION_FORMS;
    u = unit_find(*end ? end : default_unit);
    if (!u) return DURATION_FORMS;  /* includes "m", which would be ambiguous */
    /* at most 100 years in any unit, so that n * factor cannot overflow */
    if (n > MD_DURATION_MAX / u->factor) return DURATION_FORMS;
    *pd = (apr_interval_time_t)n * u->factor;
    return NULL;
}

const char *md_duration_print(apr_interval_time_t d, apr_pool_t *p)
{
    static const char *const LARGEST_FIRST[] = { "d", "h", "mi", "s", "ms" };
    const md_time_unit_t *u = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(LARGEST_FIRST) / sizeof(LARGEST_FIRST[0]); ++i) {
        u = unit_find(LARGEST_FIRST[i]);
        if (d % u->factor == 0) break;
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "%s", d / u->factor, u->unit);
}

const char *md_timeslice_parse(md_timeslice_t *ts, const char *s, const char *default_unit)
{
    apr_size_t len = s ? strlen(s) : 0;
    apr_interval_time_t d;
    const char *err;
    char *end;
    long pct;

    /* ts changes only on success: a bad value keeps the previous (default) window */
    if (len > 1 && s[len - 1] == '%') {
        errno = 0;
        pct = strtol(s, &end, 10);
        if (errno || end != s + len - 1 || !apr_isdigit(s[0])) {
            return "a percentage is a whole number from 0 to 99 followed by '%', e.g. 33%";
        }
        if (pct >= 100) return "a window of 100% or more would always be open; use 0% to 99%";
        ts->len = pct;
        ts->norm = 100;
        return NULL;
    }
    err = md_duration_parse(&d, s, default_unit);
    if (err) return err;
    ts->len = d;
    ts->norm = 0;
    return NULL;
}

const char *md_timeslice_print(const md_timeslice_t *ts, apr_pool_t *p)
{
    if (ts->norm) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "%%", ts->len * 100 / ts->norm);
    }
    return md_duration_print(ts->len, p);
}

apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts, apr_time_t from, apr_time_t until)
{
    apr_interval_time_t lifetime = until - from;

    if (!ts->norm) return ts->len;
    if (lifetime <= 0) return 0;
    return (apr_interval_time_t)((double)lifetime * (double)ts->len / (double)ts->norm);
}

int md_time_in_daily_window(int minute, int from, int to)
{
    if (from < 0) return 1;
    if (from <= to) return minute >= from && minute < to;
    return minute >= from || minute < to;   /* across midnight */
}

/* ---- points in time ------------------------------------------------------------ */

const char *md_time_print(apr_time_t t, apr_pool_t *p)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    apr_rfc822_date(buf, t);
    return buf;
}

apr_time_t md_time_parse(const char *s)
{
    return s ? apr_date_parse_rfc(s) : 0;
}

apr_time_t md_time_parse_rfc3339(const char *s)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int n = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) return 0;
    return t;  /* fractions and "Z" are ignored; ACME CAs send UTC */
}
