/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Orders (RFC 8555 7.4): the CA's answers to newOrder, to polling, to finalize, and the
 * certificate download. The first input byte picks which; the rest is the body. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static md_acme_order_t *order_canned(apr_pool_t *p)
{
    md_acme_order_t *order = apr_pcalloc(p, sizeof(*order));

    order->url = "https://ca.fuzz.test/order/1";
    order->status = "pending";
    order->finalize = "https://ca.fuzz.test/order/1/finalize";
    order->certificate = "https://ca.fuzz.test/cert/1";
    order->authz_urls = apr_array_make(p, 1, sizeof(const char *));
    return order;
}

/* Polling sleeps between requests: only states that end it at once are awaited. */
static void order_settle(md_acme_order_t *order, md_acme_t *acme, md_result_t *result,
                         apr_pool_t *p)
{
    int i;

    for (i = 0; order->authz_urls && i < order->authz_urls->nelts; ++i) {
        if (!APR_ARRAY_IDX(order->authz_urls, i, const char *)) abort();
    }
    if (!order->status || (strcmp(order->status, "ready") && strcmp(order->status, "valid")
                           && strcmp(order->status, "invalid"))) {
        return;
    }
    if (md_acme_order_await(order, acme, "ready", apr_time_from_sec(1), result, p)
        != APR_SUCCESS && !result->detail) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char CSR[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    apr_pool_t *p = fuzz_pool();
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    apr_array_header_t *names = apr_array_make(p, 2, sizeof(const char *)), *chain;
    md_acme_order_t *order = order_canned(p);
    md_acme_t *acme;
    md_acme_order_req_t req = { NULL, NULL, NULL };
    fuzz_answer_t *a;
    const char *body = (const char *)data + 1;
    apr_size_t len = size ? size - 1 : 0;
    apr_status_t rv = APR_EGENERAL;

    if (size == 0) return 0;
    md_acme_create(&acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    acme->acct_key = fuzz_account_key();
    acme->acct_url = "https://ca.fuzz.test/acct/1";
    APR_ARRAY_PUSH(names, const char *) = "a.test";
    APR_ARRAY_PUSH(names, const char *) = "192.0.2.1";
    switch (data[0] % 4) {
    case 0:
        a = fuzz_ca_post(ca, 201, "application/json", body, len, p);
        a->location = "https://ca.fuzz.test/order/2";
        req.names = names;
        req.profile = "classic";
        rv = md_acme_order_new(&order, acme, &req, result, p);
        break;
    case 1:
        fuzz_ca_post(ca, 200, "application/json", body, len, p);
        rv = md_acme_order_update(order, acme, result, p);
        break;
    case 2:
        fuzz_ca_post(ca, 200, "application/json", body, len, p);
        rv = md_acme_order_finalize(order, acme, CSR, sizeof(CSR), result, p);
        break;
    default:
        fuzz_ca_post(ca, 200, "application/pem-certificate-chain", body, len, p);
        if (md_acme_order_cert(&chain, order, acme, NULL, result, p) == APR_SUCCESS
            && chain->nelts == 0) {
            abort();
        }
        return 0;
    }
    if (rv == APR_SUCCESS) order_settle(order, acme, result, p);
    else if (!result->detail) abort();
    return 0;
}
