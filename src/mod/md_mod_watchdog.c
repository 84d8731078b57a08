/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* One way to start a mod_watchdog callback, for the renewal, OCSP stapling and live
 * activation watchdogs. */
#include <apr_optional.h>
#include <httpd.h>
#include <mod_watchdog.h>

#include "md_mod.h"

apr_status_t md_mod_watchdog_start(const char *name, int singleton, apr_interval_time_t tick,
                                   ap_watchdog_callback_fn_t *callback, void *baton, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
    ap_watchdog_t *instance;
    apr_status_t rv;

    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register) return APR_ENOTIMPL;
    /* never in the parent; a singleton runs in one child, else in every child */
    rv = wd_get(&instance, name, 0, singleton, p);
    return rv == APR_SUCCESS ? wd_register(instance, tick, baton, callback) : rv;
}
