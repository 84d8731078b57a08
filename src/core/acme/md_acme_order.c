#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define MD_POLL_MIN apr_time_from_msec(500)
#define MD_POLL_MAX apr_time_from_sec(10)

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

apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme,
                               const apr_array_header_t *names, const char *profile,
                               md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    md_acme_order_t *order;
    md_acme_resp_t *resp;
    apr_status_t rv;

    rv = md_acme_setup(acme, result);           /* newOrder comes from the directory */
    if (rv != APR_SUCCESS) return rv;
    md_json_setj(identifiers_json(names, p), payload, MD_KEY_IDENTIFIERS, NULL);
    if (profile) md_json_sets(profile, payload, MD_KEY_PROFILE, NULL);
    rv = md_acme_post(&resp, acme, acme->new_order, md_json_dump(payload, MD_JSON_COMPACT, p),
                      0, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (!resp->json || !resp->location) {
        md_result_set(result, APR_EINVAL, "the CA's new order lacks a JSON body or Location");
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

/* How long to wait before the next poll: what the CA asked for, within bounds. */
static apr_interval_time_t poll_delay(md_result_t *result, apr_interval_time_t current)
{
    apr_time_t now = apr_time_now();

    if (result->retry_after > now) {
        apr_interval_time_t asked = result->retry_after - now;
        return asked > MD_POLL_MAX * 6 ? MD_POLL_MAX * 6 : asked;
    }
    return current * 2 > MD_POLL_MAX ? MD_POLL_MAX : current * 2;
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
    apr_interval_time_t delay = MD_POLL_MIN / 2;
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
        delay = poll_delay(result, delay);
        apr_sleep(delay);
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

apr_status_t md_acme_order_cert(apr_array_header_t **pchain, md_acme_order_t *order,
                                md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    md_acme_resp_t *resp;
    apr_status_t rv;

    if (!order->certificate) {
        md_result_set(result, APR_EINVAL, "the valid order has no certificate URL");
        return APR_EINVAL;
    }
    rv = md_acme_post(&resp, acme, order->certificate, NULL, 0, result, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_chain_from_pem(pchain, resp->body, resp->body_len, p);
    if (rv != APR_SUCCESS || (*pchain)->nelts == 0) {
        md_result_set(result, APR_EINVAL, "the certificate from %s is not a PEM chain",
                      order->certificate);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
