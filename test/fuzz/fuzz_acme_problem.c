/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Problem documents (RFC 7807, RFC 8555 6.7) on failed requests: md_acme_post records
 * them in the result, which goes to the log, job.json and the status. Input: two bytes
 * for the HTTP status and the content type, then the body. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme.h"
#include "md_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const CTYPES[] = {
    "application/problem+json", "application/json", "text/html", NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    md_acme_resp_t *resp;
    md_acme_t *acme;
    fuzz_answer_t *a;
    apr_status_t rv;

    if (size < 2) return 0;
    md_acme_create(&acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    acme->acct_key = fuzz_account_key();
    acme->acct_url = "https://ca.fuzz.test/acct/1";
    a = fuzz_ca_post(ca, 400 + data[0] % 200, CTYPES[data[1] % 4], (const char *)data + 2,
                     size - 2, p);
    ca->after = *a;  /* badNonce retries see the same answer */
    rv = md_acme_post(&resp, acme, "https://ca.fuzz.test/order", "{}", 0, result, p);
    if (rv == APR_SUCCESS || result->status != rv || !result->detail) abort();
    md_acme_problem_is_input_related(result->problem);
    md_acme_problem_status(result->problem);
    if (!md_json_dump(md_result_to_json(result, p), MD_JSON_COMPACT, p)) abort();
    md_result_line(result, p);
    return 0;
}
