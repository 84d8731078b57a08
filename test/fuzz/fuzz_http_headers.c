/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Response headers as the transport collects them from the wire (the libcurl header
 * callback, reached by including the transport's source), then read by the ACME client:
 * Replay-Nonce, Location, Content-Type, Retry-After (md_http_retry_after) and Link
 * (md_http_link). The input is a raw header block, "Name: value" lines. */
#include "../../src/core/md_http_curl.c"

#include <stdlib.h>

#include "fuzz_common.h"
#include "md_acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MONTH apr_time_from_sec(30 * 24 * 3600)

static md_http_response_t *headers_read(const uint8_t *data, size_t size, apr_pool_t *p)
{
    curl_ctx_t ctx;
    size_t start = 0, i;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.max = 64;
    ctx.resp = apr_pcalloc(p, sizeof(*ctx.resp));
    ctx.resp->headers = apr_table_make(p, 10);
    /* curl hands over one line at a time, with its line end, not NUL-terminated */
    for (i = 0; i <= size; ++i) {
        if (i == size || data[i] == '\n') {
            size_t end = (i < size) ? i + 1 : i;
            /* a copy of exactly the line: reading past it is caught */
            char *line = (end > start) ? apr_pmemdup(p, data + start, end - start) : NULL;
            if (line && on_header(line, 1, end - start, &ctx) != end - start) abort();
            start = end;
        }
    }
    on_body((char *)data, 1, size, &ctx);
    return ctx.resp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_http_response_t *resp = headers_read(data, size, p);
    apr_time_t now = apr_time_now(), at;
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    md_acme_resp_t *aresp;
    md_acme_t *acme;
    fuzz_answer_t *a;

    /* 1. Retry-After is never further than a month away */
    at = md_http_retry_after(resp, now);
    if (at != 0 && at > now + MONTH) abort();
    md_http_link(resp, "up", p);
    md_http_link(resp, "alternate", p);
    /* 2. the same headers on an ACME answer */
    md_acme_create(&acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    acme->acct_key = fuzz_account_key();
    acme->acct_url = "https://ca.fuzz.test/acct/1";
    a = fuzz_ca_post(ca, 200, NULL, "{}", 2, p);
    a->headers = resp->headers;
    fuzz_ca_post(ca, 200, NULL, "{}", 2, p)->headers = resp->headers;
    md_acme_post(&aresp, acme, "https://ca.fuzz.test/order", "{}", 0, result, p);
    md_acme_post(&aresp, acme, "https://ca.fuzz.test/order", "{}", 0, result, p);
    if (result->retry_after > now + MONTH + apr_time_from_sec(60)) abort();
    return 0;
}
