/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "md_acme_order.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"
#include "md_names.h"

/* Alternate chains (Link rel="alternate") looked at for MDPreferredChain: CAs offer one or
 * two; each costs a request, so a CA cannot make us follow hundreds. */
#define MD_ACME_MAX_ALTERNATES 8

static void order_read(md_acme_order_t *order, md_json_t *json, apr_pool_t *p)
{
    order->json = json;
    order->status = md_json_gets(json, MD_KEY_STATUS, NULL);
    order->authz_urls = md_json_getsa(json, p, MD_KEY_AUTHORIZATIONS, NULL);
    order->finalize = md_json_gets(json, MD_KEY_FINALIZE, NULL);
    order->certificate = md_json_gets(json, MD_KEY_CERTIFICATE, NULL);
}

static md_json_t *identifiers_json(const apr_array_header_t *names, apr_pool_t *p)
{
    md_json_t *ids = md_json_create_array(p), *id;
    int i;

    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        id = md_json_create(p);
        md_json_sets(md_is_ip_address(name) ? "ip" : "dns", id, MD_KEY_TYPE, NULL);
        md_json_sets(name, id, MD_KEY_VALUE, NULL);
        md_json_array_append(ids, id);
    }
    return ids;
}

/* The names of a JSON object's members. */
static apr_array_header_t *object_keys(const md_json_t *obj, apr_pool_t *p)
{
    apr_array_header_t *keys = apr_array_make(p, 5, sizeof(const char *));
    json_t *raw = md_json_raw(obj), *v;
    const char *k;

    if (raw && json_is_object(raw)) {
        json_object_foreach(raw, k, v) APR_ARRAY_PUSH(keys, const char *) = apr_pstrdup(p, k);
    }
    return keys;
}

apr_status_t md_acme_profile_select(const char **pprofile, md_acme_t *acme, const char *wanted,
                                    int mandatory, md_result_t *result, apr_pool_t *p)
{
    md_json_t *profiles;
    apr_array_header_t *names;
    apr_status_t rv;
    int i;

    *pprofile = NULL;
    if (!wanted) return APR_SUCCESS;
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    profiles = md_json_getj(acme->directory, MD_KEY_META, MD_KEY_PROFILES, NULL);
    names = object_keys(profiles, p);
    for (i = 0; i < names->nelts; ++i) {
        if (!apr_strnatcasecmp(APR_ARRAY_IDX(names, i, const char *), wanted)) {
            *pprofile = APR_ARRAY_IDX(names, i, const char *);
            return APR_SUCCESS;
        }
    }
    if (mandatory) {
        md_result_set(result, APR_EINVAL, "the CA at %s does not offer the profile '%s' "
                      "(MDProfile, mandatory by MDProfileMandatory); it offers: %s", acme->url,
                      wanted, names->nelts ? md_array_str_join(names, ", ", p) : "none");
        return APR_EINVAL;
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "MD3030: the CA at %s does not offer the profile "
                  "'%s'; ordering without a profile", acme->url, wanted);
    return APR_SUCCESS;
}

apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme,
                               const md_acme_order_req_t *req, md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    md_acme_order_t *order;
    md_acme_resp_t *resp;
    apr_status_t rv;

    rv = md_acme_setup(acme, result);           /* newOrder comes from the directory */
    if (rv != APR_SUCCESS) return rv;
    md_json_setj(identifiers_json(req->names, p), payload, MD_KEY_IDENTIFIERS, NULL);
    if (req->profile) md_json_sets(req->profile, payload, MD_KEY_PROFILE, NULL);
    if (req->replaces) md_json_sets(req->replaces, payload, MD_KEY_REPLACES, NULL);
    rv = md_acme_post(&resp, acme, acme->new_order, md_json_dump(payload, MD_JSON_COMPACT, p),
                      0, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (!resp->json || !resp->location) {
        md_result_set(result, APR_EINVAL, "the CA's answer to the new order at %s %s",
                      acme->new_order, resp->json ? "lacks the order's Location"
                                                  : "is not valid JSON");
        return APR_EINVAL;
    }
    order = apr_pcalloc(p, sizeof(*order));
    order->url = apr_pstrdup(p, resp->location);
    order_read(order, resp->json, p);
    *porder = order;
    return APR_SUCCESS;
}

apr_status_t md_acme_order_update(md_acme_order_t *order, md_acme_t *acme, md_result_t *result,
                                  apr_pool_t *p)
{
    md_json_t *json;
    apr_status_t rv = md_acme_get_json(&json, acme, order->url, result, p);

    if (rv == APR_SUCCESS) order_read(order, json, p);
    return rv;
}

static apr_status_t order_failed(md_acme_order_t *order, md_result_t *result)
{
    md_json_t *err = md_json_getj(order->json, MD_KEY_ERROR, NULL);

    md_result_problem(result, APR_EINVAL, err ? md_json_gets(err, MD_KEY_TYPE, NULL) : NULL,
                      err && md_json_gets(err, MD_KEY_DETAIL, NULL)
                          ? md_json_gets(err, MD_KEY_DETAIL, NULL) : "the CA marked the order invalid",
                      err ? md_json_getj(err, MD_KEY_SUBPROBLEMS, NULL) : NULL);
    return APR_EINVAL;
}

apr_status_t md_acme_order_await(md_acme_order_t *order, md_acme_t *acme, const char *until_status,
                                 apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    apr_time_t deadline = apr_time_now() + timeout;
    apr_interval_time_t delay = 0;
    apr_status_t rv = APR_SUCCESS;

    while (rv == APR_SUCCESS) {
        if (order->status && !strcmp(order->status, until_status)) return APR_SUCCESS;
        if (order->status && !strcmp(order->status, "invalid")) return order_failed(order, result);
        if (order->status && !strcmp(order->status, "valid")) return APR_SUCCESS;
        if (apr_time_now() >= deadline) {
            md_result_set(result, APR_TIMEUP, "the order is still '%s' after %d seconds",
                          order->status, (int)apr_time_sec(timeout));
            return APR_TIMEUP;
        }
        delay = md_acme_poll_delay(result, delay, apr_time_now());
        md_acme_wait(acme, delay);
        rv = md_acme_order_update(order, acme, result, p);
    }
    return rv;
}

apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme,
                                    const unsigned char *csr_der, apr_size_t csr_len,
                                    md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    md_acme_resp_t *resp;
    apr_status_t rv;

    md_json_sets(md_b64url_encode(csr_der, csr_len, p), payload, "csr", NULL);
    rv = md_acme_post(&resp, acme, order->finalize, md_json_dump(payload, MD_JSON_COMPACT, p),
                      0, result, p);
    if (rv == APR_SUCCESS && resp->json) order_read(order, resp->json, p);
    return rv;
}

static const char *issuer_cn(const md_cert_t *cert, apr_pool_t *p)
{
    X509_NAME *name = X509_get_issuer_name(md_cert_x509(cert));
    int idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    ASN1_STRING *data;
    unsigned char *utf8 = NULL;
    const char *cn = NULL;
    int len;

    if (idx < 0) return NULL;
    data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) cn = apr_pstrndup(p, (const char *)utf8, (apr_size_t)len);
    OPENSSL_free(utf8);
    return cn;
}

int md_acme_chain_has_issuer(const apr_array_header_t *chain, const char *cn, apr_pool_t *p)
{
    const char *issuer;
    int i;

    for (i = 0; chain && i < chain->nelts; ++i) {
        issuer = issuer_cn(APR_ARRAY_IDX(chain, i, md_cert_t *), p);
        if (issuer && !apr_strnatcasecmp(issuer, cn)) return 1;
    }
    return 0;
}

static apr_status_t chain_get(apr_array_header_t **pchain, md_acme_resp_t **presp,
                              md_acme_t *acme, const char *url, md_result_t *result,
                              apr_pool_t *p)
{
    apr_status_t rv = md_acme_post(presp, acme, url, NULL, 0, result, p);

    if (rv != APR_SUCCESS) return rv;
    rv = md_chain_from_pem(pchain, (*presp)->body, (*presp)->body_len, p);
    if (rv != APR_SUCCESS || (*pchain)->nelts == 0) {
        md_result_set(result, APR_EINVAL, "the certificate from %s is not a PEM chain", url);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The first alternate chain issued by the preferred CN, or NULL. */
static apr_array_header_t *chain_alternate(md_acme_resp_t *resp, md_acme_t *acme,
                                           const char *preferred, md_result_t *result,
                                           apr_pool_t *p)
{
    apr_array_header_t *links = md_http_links(resp->http, "alternate", p), *alt;
    md_acme_resp_t *aresp;
    int i;

    if (links->nelts > MD_ACME_MAX_ALTERNATES) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "MD3032: the CA offers %d alternate "
                      "chains; only the first %d are looked at", links->nelts,
                      MD_ACME_MAX_ALTERNATES);
    }
    for (i = 0; i < links->nelts && i < MD_ACME_MAX_ALTERNATES; ++i) {
        const char *url = APR_ARRAY_IDX(links, i, const char *);
        if (chain_get(&alt, &aresp, acme, url, result, p) != APR_SUCCESS) continue;
        if (md_acme_chain_has_issuer(alt, preferred, p)) return alt;
    }
    return NULL;
}

apr_status_t md_acme_order_cert(apr_array_header_t **pchain, md_acme_order_t *order,
                                md_acme_t *acme, const char *preferred_issuer,
                                md_result_t *result, apr_pool_t *p)
{
    md_acme_resp_t *resp;
    apr_array_header_t *alt;
    apr_status_t rv;

    if (!order->certificate) {
        md_result_set(result, APR_EINVAL, "the valid order has no certificate URL");
        return APR_EINVAL;
    }
    rv = chain_get(pchain, &resp, acme, order->certificate, result, p);
    if (rv != APR_SUCCESS || !preferred_issuer) return rv;
    if (md_acme_chain_has_issuer(*pchain, preferred_issuer, p)) return APR_SUCCESS;
    alt = chain_alternate(resp, acme, preferred_issuer, result, p);
    if (alt) {
        *pchain = alt;
    }
    else {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "MD3031: no chain from %s is issued by "
                      "'%s' (MDPreferredChain); using the default chain", order->certificate,
                      preferred_issuer);
    }
    result->status = APR_SUCCESS;
    result->problem = result->detail = NULL;
    return APR_SUCCESS;
}
