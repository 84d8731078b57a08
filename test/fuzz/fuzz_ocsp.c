/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP responses from a responder: md_ocsp_resp_check on DER input against a request
 * for a certificate of ours, and the persisted JSON form (md_ocsp_resp_from_json). A
 * response that passes must be about a known status with an ordered validity; a
 * rejected one must say why. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A request for a fresh certificate, made in the input's pool (all freed with it). */
static md_ocsp_req_t *request(apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_ocsp_req_t *req;
    apr_array_header_t *names;
    md_pkey_t *key;
    md_cert_t *cert;

    names = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = "ocsp.fuzz.test";
    if (md_pkey_gen(&key, &spec, p) != APR_SUCCESS
        || md_cert_self_signed(&cert, "ocsp.fuzz.test", names, key, apr_time_from_sec(86400), p)
           != APR_SUCCESS
        || md_ocsp_req_create(&req, cert, cert, p) != APR_SUCCESS) {
        abort();
    }
    return req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = NULL;
    md_json_t *json;

    if (md_ocsp_resp_check(&resp, request(p), data, size, apr_time_now(), result, p) == APR_SUCCESS) {
        if (!resp || resp->valid_until < resp->valid_from) abort();
    }
    else if (!result->detail) {
        abort();
    }
    /* the same bytes as a stored ocsp-*.json */
    if (md_json_parse(&json, (const char *)data, size, p) == APR_SUCCESS
        && md_ocsp_resp_from_json(&resp, json, p) == APR_SUCCESS && !resp) {
        abort();
    }
    return 0;
}
