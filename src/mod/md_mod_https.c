/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* MDRequireHttps: plain http requests for a managed name are redirected to https:
 * (302/307 temporary, 301/308 permanent), and with 'permanent' https answers carry
 * Strict-Transport-Security. /.well-known/acme-challenge/ is never redirected: ACME
 * validations must keep working over http. Nothing happens while the MD has no
 * certificate yet (https would answer 503). */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>

#include "md_mod.h"

#define HSTS_HEADER "Strict-Transport-Security"
#define HSTS_VALUE "max-age=15768000"   /* half a year */

static md_t *md_for_request(request_rec *r)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    int i;

    if (!r->hostname) return NULL;
    for (i = 0; mc->mds && i < mc->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        /* only once the MD has a certificate: before, https answers 503 */
        if (md->require_https != MD_REQUIRE_OFF && md->state == MD_S_COMPLETE
            && md_contains(md, r->hostname)) {
            return md;
        }
    }
    return NULL;
}

/* Is this an ACME http-01 request? Decided on the path as Apache will map it (this hook
 * runs before Apache normalises it): unreserved %-escapes decoded, "." and ".." resolved,
 * slashes merged. A path that climbs above the root is none. */
static int is_acme_challenge(request_rec *r)
{
    char *path = apr_pstrdup(r->pool, r->parsed_uri.path);

    if (!ap_normalize_path(path, AP_NORMALIZE_NOT_ABOVE_ROOT | AP_NORMALIZE_DECODE_UNRESERVED
                                 | AP_NORMALIZE_MERGE_SLASHES)) {
        return 0;
    }
    return !strncmp(path, MD_ACME_CHALLENGE_PREFIX, strlen(MD_ACME_CHALLENGE_PREFIX));
}

int md_mod_https_require(request_rec *r)
{
    md_t *md;
    int permanent, safe;

    if (r->main || r->prev || !r->parsed_uri.path) return DECLINED;
    md = md_for_request(r);
    if (!md) return DECLINED;
    if (ap_ssl_conn_is_ssl(r->connection)) {
        if (md->require_https == MD_REQUIRE_PERMANENT) {
            apr_table_setn(r->err_headers_out, HSTS_HEADER, HSTS_VALUE);
        }
        return DECLINED;
    }
    if (is_acme_challenge(r)) return DECLINED;
    /* The public https port is 443, so the redirect names no port. MDPortMap says on
     * which local port 443 arrives; that is not what the client connects to. */
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, "https://", r->hostname, r->unparsed_uri, NULL));
    permanent = md->require_https == MD_REQUIRE_PERMANENT;
    safe = r->method_number == M_GET || r->header_only;
    return permanent ? (safe ? HTTP_MOVED_PERMANENTLY : HTTP_PERMANENT_REDIRECT)
                     : (safe ? HTTP_MOVED_TEMPORARILY : HTTP_TEMPORARY_REDIRECT);
}
