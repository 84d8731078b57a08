/* MDRequireHttps: plain http requests for a managed name are redirected to https:
 * (302/307 temporary, 301/308 permanent), and with 'permanent' https answers carry
 * Strict-Transport-Security. /.well-known/ is never redirected: ACME and other
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

int md_https_require(request_rec *r)
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
    if (!strncmp(r->parsed_uri.path, "/.well-known/", 13)) return DECLINED;
    /* The public https port is 443, so the redirect names no port. MDPortMap says on
     * which local port 443 arrives; that is not what the client connects to. */
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, "https://", r->hostname, r->unparsed_uri, NULL));
    permanent = md->require_https == MD_REQUIRE_PERMANENT;
    safe = r->method_number == M_GET || r->header_only;
    return permanent ? (safe ? HTTP_MOVED_PERMANENTLY : HTTP_PERMANENT_REDIRECT)
                     : (safe ? HTTP_MOVED_TEMPORARILY : HTTP_TEMPORARY_REDIRECT);
}
