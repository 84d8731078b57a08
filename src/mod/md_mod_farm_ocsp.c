/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP stapling in a farm, the httpd side (docs/farm.md; the core is md_farm_ocsp.c): the
 * stapling watchdog's fetch of a certificate's response goes through the farm, so that
 * one node asks the responder and the others take its answer from etcd. */
#include <apr_strings.h>
#include <httpd.h>
#include <http_log.h>

#include "md_mod.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

/* A busy certificate lock: the holder's answer is usually there within a second or two;
 * nodes looking again spread over a few seconds, not all at once */
#define FARM_OCSP_LOOK_AGAIN_MIN apr_time_from_sec(2)
#define FARM_OCSP_LOOK_AGAIN_SPREAD 2000      /* milliseconds */

apr_status_t md_mod_farm_ocsp_obtain(md_ocsp_resp_t **presp, md_farm_ocsp_outcome_t *out,
                                     md_mod_conf_t *mc, md_farm_ocsp_req_t *req, md_result_t *result,
                                     apr_pool_t *p)
{
    memset(out, 0, sizeof(*out));
    req->farm = md_mod_farm_client(mc, p);
    if (!req->farm) {
        out->how = MD_FARM_OCSP_ALONE;
        return req->fetch(presp, req->baton, result, p);
    }
    return md_farm_ocsp_obtain(presp, out, req, result, p);
}

static apr_interval_time_t look_again(void)
{
    unsigned char b[2] = { 0, 0 };

    md_rand_bytes(b, sizeof(b));
    return FARM_OCSP_LOOK_AGAIN_MIN
           + apr_time_from_msec((b[0] * 256 + b[1]) % FARM_OCSP_LOOK_AGAIN_SPREAD);
}

/* The farm had no part in a response it should have had. */
static void farm_trouble(server_rec *s, const char *name, const char *serial, apr_status_t rv,
                         const char *what)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "MD1779: %s: OCSP response of certificate %s %s",
                 name, serial, what);
}

int md_mod_farm_ocsp_report(apr_time_t *pnext, server_rec *s, const char *name, const char *serial,
                            const md_farm_ocsp_outcome_t *out, apr_status_t rv)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;

    if (!mc->farm) return 0;
    switch (out->how) {
    case MD_FARM_OCSP_BUSY:
        *pnext = apr_time_now() + look_again();
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD1778: %s: the OCSP response of certificate %s "
                     "is being fetched by %s; looking at the farm's again shortly", name, serial,
                     out->by ? out->by : "another node");
        return 1;
    case MD_FARM_OCSP_TAKEN:
    case MD_FARM_OCSP_FETCHED:
        if (rv == APR_SUCCESS && (out->how == MD_FARM_OCSP_TAKEN || out->published == APR_SUCCESS)) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD1777: %s: OCSP response of certificate %s %s%s",
                         name, serial, out->how == MD_FARM_OCSP_TAKEN ? "taken from the farm, fetched by "
                         : "fetched for the farm and published", out->how == MD_FARM_OCSP_TAKEN ? out->by : "");
        }
        else if (rv == APR_SUCCESS) farm_trouble(s, name, serial, out->published, out->published == MD_FARM_EFENCED
                                                 ? "not published (the lock was lost)" : "not published");
        break;
    case MD_FARM_OCSP_ALONE:
        farm_trouble(s, name, serial, out->engine, "fetched alone: the farm's etcd did not answer");
        break;
    }
    return 0;
}
