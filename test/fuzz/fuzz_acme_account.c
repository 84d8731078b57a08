/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Accounts: the CA's answer to newAccount (RFC 8555 7.3) and to the account check
 * (7.3.2), and account.json from the store, through md_acme_acct_use on a scratch
 * store. The first input byte picks the case and the HTTP status; the rest is the body
 * (or account.json). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_acme_acct.h"
#include "md_json_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int STATUSES[] = { 201, 200, 400, 403, 500 };

/* An account of this CA in the store, as md_acme_acct_use wrote it. */
static void account_store(md_store_t *store, const char *json_text, apr_size_t len,
                          apr_pool_t *p)
{
    md_json_t *j;

    if (md_store_save_pkey(store, MD_SG_ACCOUNTS, "ACME-fuzz-0000", MD_FN_ACCT_KEY,
                           fuzz_account_key(), p) != APR_SUCCESS) {
        abort();
    }
    if (md_json_parse(&j, json_text, len, p) != APR_SUCCESS) {
        /* damaged account.json: written as it is */
        md_store_save_text(store, MD_SG_ACCOUNTS, "ACME-fuzz-0000", MD_FN_ACCOUNT,
                           apr_pstrmemdup(p, json_text, len), p);
        return;
    }
    md_store_save_json(store, MD_SG_ACCOUNTS, "ACME-fuzz-0000", MD_FN_ACCOUNT, j, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char STORED[] = "{\"status\":\"valid\",\"url\":\"https://ca.fuzz.test/acct/1\","
                                 "\"ca-url\":\"" FUZZ_DIR_URL "\",\"contact\":[\"mailto:a@b.test\"]}";
    apr_pool_t *p = fuzz_pool();
    fuzz_ca_t *ca = fuzz_ca_make(p);
    md_result_t *result = md_result_make(p);
    apr_array_header_t *contacts = apr_array_make(p, 1, sizeof(const char *));
    md_acme_acct_req_t req;
    md_acme_acct_t *acct;
    fuzz_answer_t *a;
    const char *scratch, *body = (const char *)data + 1;
    apr_size_t len = size ? size - 1 : 0;
    int mode = size ? data[0] % 3 : 0;
    int status = STATUSES[size ? (data[0] / 3) % 5 : 0];

    memset(&req, 0, sizeof(req));
    req.store = fuzz_store(&scratch, p);
    md_acme_create(&req.acme, FUZZ_DIR_URL, fuzz_http(ca, p), p);
    APR_ARRAY_PUSH(contacts, const char *) = "mailto:a@b.test";
    req.contacts = contacts;
    req.agreement = "accepted";
    if (mode == 0) {
        /* 1. a new account: the body answers newAccount */
        a = fuzz_ca_post(ca, status, "application/json", body, len, p);
        a->location = "https://ca.fuzz.test/acct/7";
    }
    else if (mode == 1) {
        /* 2. a stored account: the body answers the check */
        account_store(req.store, STORED, sizeof(STORED) - 1, p);
        fuzz_ca_post(ca, status, "application/json", body, len, p);
    }
    else {
        /* 3. the body is the stored account.json; the CA says valid, or makes a new one */
        account_store(req.store, body, len, p);
        fuzz_ca_post(ca, 200, "application/json", "{\"status\":\"valid\"}", 18, p);
        a = fuzz_ca_post(ca, 201, "application/json", "{\"status\":\"valid\"}", 18, p);
        a->location = "https://ca.fuzz.test/acct/8";
    }
    if (md_acme_acct_use(&acct, &req, result, p) == APR_SUCCESS) {
        if (!acct->url || !req.acme->acct_url || !req.acme->acct_key) abort();
    }
    else if (!result->detail) {
        abort();
    }
    fuzz_store_check(scratch, p);
    return 0;
}
