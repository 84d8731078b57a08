/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <apr_strings.h>
#include "md_log.h"

static md_log_enabled_fn *sink_enabled;
static md_log_print_fn *sink_print;
static void *sink_baton;

void md_log_set_sink(md_log_enabled_fn *enabled, md_log_print_fn *print, void *baton)
{
    sink_enabled = enabled;
    sink_print = print;
    sink_baton = baton;
}

int md_log_enabled(md_log_level_t level)
{
    return sink_enabled && sink_enabled(sink_baton, level);
}

void md_log_perror(const char *file, int line, md_log_level_t level, apr_status_t rv,
                   apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    if (!md_log_enabled(level) || !sink_print) return;
    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    sink_print(sink_baton, file, line, level, rv, msg);
}
