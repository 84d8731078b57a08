/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The ACME directory (RFC 8555 7.1.1) as the CA sends it: md_acme_setup reads it, a
 * signed POST then goes to the URLs it named, and the renewalInfo URL (RFC 9773) is
 * asked about a certificate. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme.h"
#include "md_acme_ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    md_acme_resp_t *resp;
    md_acme_ari_t ari;
    md_acme_t *acme;

    ca->dir.body = (const char *)data;
    ca->dir.body_len = size;
    md_acme_create(&acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    if (md_acme_setup(acme, result) != APR_SUCCESS) {
        if (!result->detail) abort();  /* a failure always says why */
        md_result_line(result, p);
        return 0;
    }
    if (!acme->new_nonce || !acme->new_account || !acme->new_order) abort();
    md_acme_host(acme, p);
    acme->acct_key = fuzz_account_key();
    acme->acct_url = "https://ca.fuzz.test/acct/1";
    fuzz_ca_post(ca, 200, "application/json", "{\"status\":\"valid\"}", 18, p);
    md_acme_post(&resp, acme, acme->new_order, "{}", 0, result, p);
    md_acme_post(&resp, acme, acme->new_account, "{}", 1, result, p);
    /* the renewalInfo URL is joined with a certificate id ("" and "/" edges) */
    if (md_acme_ari_get(&ari, acme, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", result, p)
        != APR_SUCCESS && !result->detail) {
        abort();
    }
    return 0;
}
