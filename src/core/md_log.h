/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Logging sink of the core. The httpd glue or the command-line tool installs a sink;
 * without one, messages go nowhere. Every message at debug level or above starts
 * with a unique id "MDnnnn:" so that an operator can search for it. */
#ifndef md_log_h
#define md_log_h

#include <stdarg.h>
#include <apr_pools.h>

typedef enum {
    MD_LOG_EMERG, MD_LOG_ALERT, MD_LOG_CRIT, MD_LOG_ERR, MD_LOG_WARNING,
    MD_LOG_NOTICE, MD_LOG_INFO, MD_LOG_DEBUG, MD_LOG_TRACE1, MD_LOG_TRACE2,
    MD_LOG_TRACE3, MD_LOG_TRACE4,
} md_log_level_t;

#define MD_LOG_MARK __FILE__, __LINE__

typedef int md_log_enabled_fn(void *baton, md_log_level_t level);
typedef void md_log_print_fn(void *baton, const char *file, int line, md_log_level_t level,
                             apr_status_t rv, const char *msg);

void md_log_set_sink(md_log_enabled_fn *enabled, md_log_print_fn *print, void *baton);
int md_log_enabled(md_log_level_t level);
void md_log_perror(const char *file, int line, md_log_level_t level, apr_status_t rv,
                   apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
