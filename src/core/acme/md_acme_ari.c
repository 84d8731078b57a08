/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME Renewal Information (RFC 9773). */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_ari.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"
#include "md_time.h"

apr_time_t md_acme_ari_pick(apr_time_t start, apr_time_t end, apr_time_t now, double rnd)
{
    apr_time_t at;

    if (start <= 0 || end < start) return 0;
    if (rnd < 0) rnd = 0;
    if (rnd >= 1) rnd = 0.999999;
    at = start + (apr_time_t)((double)(end - start) * rnd);
    return at < now ? now : at;
}

apr_status_t md_acme_ari_parse(md_acme_ari_t *ari, const md_http_response_t *resp,
                               const char *url, md_result_t *result, apr_pool_t *p)
{
    md_json_t *j;

    if (resp->status != 200 || md_json_parse(&j, resp->body, resp->body_len, p) != APR_SUCCESS) {
        md_result_set(result, resp->status == 404 ? APR_ENOENT : APR_EINVAL, "the CA's renewal "
                      "information at %s is not usable (HTTP %d)", url, resp->status);
        return result->status;
    }
    ari->start = md_time_parse_rfc3339(md_json_gets(j, MD_KEY_SUGGESTED_WINDOW, MD_KEY_START, NULL));
    ari->end = md_time_parse_rfc3339(md_json_gets(j, MD_KEY_SUGGESTED_WINDOW, MD_KEY_END, NULL));
    ari->explanation = md_json_gets(j, MD_KEY_EXPLANATION_URL, NULL);
    if (ari->start <= 0 || ari->end < ari->start) {
        md_result_set(result, APR_EINVAL, "the CA's renewal information at %s has no valid "
                      "suggestedWindow", url);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_acme_ari_get(md_acme_ari_t *ari, md_acme_t *acme, const char *id,
                             md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp;
    const char *url;
    apr_size_t len;
    apr_status_t rv;

    memset(ari, 0, sizeof(*ari));
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    if (!acme->renewal_info || !*acme->renewal_info) {
        md_result_set(result, APR_ENOTIMPL, "the CA at %s offers no renewal information", acme->url);
        return APR_ENOTIMPL;
    }
    if (!id) {
        md_result_set(result, APR_EINVAL, "the certificate has no authority key identifier");
        return APR_EINVAL;
    }
    /* RFC 9773 4.1: the id is appended as a path segment */
    len = strlen(acme->renewal_info);
    url = apr_pstrcat(p, acme->renewal_info, acme->renewal_info[len - 1] == '/' ? "" : "/", id,
                      NULL);
    rv = md_acme_get(&resp, acme, url, result, p);
    if (rv != APR_SUCCESS) return rv;
    ari->retry_after = result->retry_after;
    rv = md_acme_ari_parse(ari, resp, url, result, p);
    result->retry_after = ari->retry_after;
    return rv;
}

static double rand_unit(void)
{
    unsigned char b[4];
    apr_uint32_t v;

    if (md_rand_bytes(b, sizeof(b)) != APR_SUCCESS) return 0.5;
    v = ((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) | ((apr_uint32_t)b[2] << 8) | b[3];
    return (double)v / 4294967296.0;
}

apr_status_t md_acme_ari_renew_at(apr_time_t *pat, md_acme_t *acme, const md_cert_t *cert,
                                  const md_cert_t *issuer, md_result_t *result, apr_pool_t *p)
{
    md_acme_ari_t ari;
    apr_status_t rv;

    *pat = 0;
    rv = md_acme_ari_get(&ari, acme, md_cert_ari_id(cert, issuer, p), result, p);
    if (rv != APR_SUCCESS) return rv;
    *pat = md_acme_ari_pick(ari.start, ari.end, apr_time_now(), rand_unit());
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "MD3020: ARI window %s .. %s, renew at %s%s%s",
                  md_time_print(ari.start, p), md_time_print(ari.end, p), md_time_print(*pat, p),
                  ari.explanation ? ", see " : "", ari.explanation ? ari.explanation : "");
    return APR_SUCCESS;
}
