/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The core's log sink, writing to httpd's error log of the main server. */
#include <httpd.h>
#include <http_log.h>

#include "md_log.h"
#include "md_mod.h"

APLOG_USE_MODULE(md);

static const int LEVELS[] = {
    [MD_LOG_EMERG] = APLOG_EMERG, [MD_LOG_ALERT] = APLOG_ALERT, [MD_LOG_CRIT] = APLOG_CRIT,
    [MD_LOG_ERR] = APLOG_ERR, [MD_LOG_WARNING] = APLOG_WARNING, [MD_LOG_NOTICE] = APLOG_NOTICE,
    [MD_LOG_INFO] = APLOG_INFO, [MD_LOG_DEBUG] = APLOG_DEBUG, [MD_LOG_TRACE1] = APLOG_TRACE1,
    [MD_LOG_TRACE2] = APLOG_TRACE2, [MD_LOG_TRACE3] = APLOG_TRACE3, [MD_LOG_TRACE4] = APLOG_TRACE4,
};

static int log_enabled(void *baton, md_log_level_t level)
{
    server_rec *s = baton;
    return APLOG_IS_LEVEL(s, LEVELS[level]);
}

static void log_print(void *baton, const char *file, int line, md_log_level_t level,
                      apr_status_t rv, const char *msg)
{
    ap_log_error(file, line, APLOG_MODULE_INDEX, LEVELS[level], rv, (server_rec *)baton, "%s", msg);
}

void md_mod_log_install(server_rec *s)
{
    md_log_set_sink(log_enabled, log_print, s);
}
