/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ARI (RFC 9773) answers from a CA: md_acme_ari_parse on a renewalInfo body, then the
 * pick inside the window. A parsed window must be ordered, the pick inside it (or now),
 * and an error must say what was wrong. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme_ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_http_response_t resp;
    md_result_t *result = md_result_make(p);
    md_acme_ari_t ari;
    apr_time_t now = apr_time_now(), at;

    memset(&resp, 0, sizeof(resp));
    memset(&ari, 0, sizeof(ari));
    resp.status = 200;
    resp.headers = apr_table_make(p, 1);
    resp.body = apr_pstrmemdup(p, (const char *)data, size);
    resp.body_len = size;
    if (md_acme_ari_parse(&ari, &resp, "https://ca.fuzz.test/ari/x", result, p) != APR_SUCCESS) {
        if (!result->detail) abort();
        return 0;
    }
    if (ari.start <= 0 || ari.end < ari.start) abort();
    at = md_acme_ari_pick(ari.start, ari.end, now, 0.5);
    if (at < now) abort();                       /* never in the past */
    if (at > ari.end && at != now) abort();      /* inside the window, or now */
    if (at < ari.start) abort();
    return 0;
}
