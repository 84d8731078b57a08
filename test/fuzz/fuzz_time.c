/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Durations, windows and times: md_duration_parse and md_timeslice_parse (directive
 * values and md.json's renew-window/warn-window), md_time_parse (job.json times) and
 * md_time_parse_rfc3339 (CA answers). What parses must be non-negative, printable, and
 * parse back to the same value; nothing may overflow. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_time.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void duration_check(const char *s, const char *unit, apr_pool_t *p)
{
    apr_interval_time_t d = 0, d2 = 0;

    if (md_duration_parse(&d, s, unit)) return;
    if (d < 0) abort();
    if (md_duration_parse(&d2, md_duration_print(d, p), unit) || d2 != d) abort();
}

static void timeslice_check(const char *s, apr_pool_t *p)
{
    md_timeslice_t ts = { 0, 0 }, ts2 = { 0, 0 };
    apr_time_t now = apr_time_now();
    apr_interval_time_t len;

    if (md_timeslice_parse(&ts, s, "d")) return;
    if (ts.len < 0 || (ts.norm && ts.len >= ts.norm)) abort();
    if (md_timeslice_parse(&ts2, md_timeslice_print(&ts, p), "d")) abort();
    if (ts2.norm != ts.norm || ts2.len != ts.len) abort();
    len = md_timeslice_length(&ts, now, now + apr_time_from_sec(90 * 24 * 3600));
    if (len < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *s = fuzz_str(data, size, p);
    apr_time_t t;

    duration_check(s, "s", p);
    duration_check(s, "d", p);
    timeslice_check(s, p);
    t = md_time_parse(s);
    if (t > 0) md_time_print(t, p);
    t = md_time_parse_rfc3339(s);
    if (t > 0) md_time_print(t, p);
    return 0;
}
