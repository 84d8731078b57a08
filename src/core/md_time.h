/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Durations and windows as administrators write them in directives. */
#ifndef md_time_h
#define md_time_h

#include <apr_time.h>
#include <apr_pools.h>

/* Parse "30", "30s", "5mi", "12h", "7d", "250ms". A number without unit takes
 * default_unit ("s" or "d"). Plain "m" is rejected as ambiguous. Returns an error
 * text naming the valid forms, or NULL on success. */
const char *md_duration_parse(apr_interval_time_t *pd, const char *s, const char *default_unit);
const char *md_duration_print(apr_interval_time_t d, apr_pool_t *p);

/* A time slice before the end of a lifetime: either an absolute length or a
 * percentage (0..99) of the real lifetime. */
typedef struct {
    apr_interval_time_t len;   /* absolute length, when norm == 0 */
    apr_interval_time_t norm;  /* when non-zero: len/norm is the fraction of a lifetime */
} md_timeslice_t;

/* Parse "33%", "30d", "10" (days). Percentages of 100 or more are rejected. */
const char *md_timeslice_parse(md_timeslice_t *ts, const char *s, const char *default_unit);
const char *md_timeslice_print(const md_timeslice_t *ts, apr_pool_t *p);
/* The length of the slice for a lifetime from..until. */
apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts, apr_time_t from, apr_time_t until);

/* Is minute (of the day, 0..1439) inside the daily window from..to (minutes of the day,
 * to excluded)? A window whose end is before its start runs across midnight; from < 0
 * means no window (always inside). */
int md_time_in_daily_window(int minute, int from, int to);

/* Time as RFC 822/1123 text ("Thu, 29 Jan 2026 09:25:26 GMT"), as in today's JSON; 0 for
 * text that is none. RFC 3339 ("2026-01-29T09:25:26Z") as ACME sends it. */
const char *md_time_print(apr_time_t t, apr_pool_t *p);
apr_time_t md_time_parse(const char *s);
apr_time_t md_time_parse_rfc3339(const char *s);

#endif
