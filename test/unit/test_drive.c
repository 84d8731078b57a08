/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The renewal drive md_acme_drive_run() from end to end against the fake transport, whose CA
 * issues for the CSR the drive sends (FAKE_BODY_ISSUE): what is staged, what goes to
 * the CA, what the result says. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/x509v3.h>

#include "fake_ca.h"
#include "fake_http.h"
#include "md_acme_acct.h"
#include "md_acme_drive.h"
#include "md_json_keys.h"
#include "md_renew.h"
#include "md_util.h"
#include "md_test.h"

#define CA "https://ca.test"
#define DIR_URL CA "/dir"
#define DIR_BODY "{\"newNonce\":\"" CA "/nonce\",\"newAccount\":\"" CA "/acct\"," \
                 "\"newOrder\":\"" CA "/order\",\"revokeCert\":\"" CA "/revoke\"," \
                 "\"keyChange\":\"" CA "/keychange\",\"renewalInfo\":\"" CA "/ari\"}"
#define JSON_CT "Content-Type: application/json"
#define PROBLEM_CT "Content-Type: application/problem+json"
#define PEM_CT "Content-Type: application/pem-certificate-chain"
#define NONCE(n) "\nReplay-Nonce: " n
#define ACCT_ID "ACME-ca.test-0000"
#define ARI_ID "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

#define X_DIR { "GET", DIR_URL, 200, JSON_CT, DIR_BODY, 0 }
#define X_NONCE { "HEAD", CA "/nonce", 200, "Replay-Nonce: n-head", NULL, 0 }
/* a new account, registered */
#define X_ACCT_NEW { "POST", CA "/acct", 201, JSON_CT "\nLocation: " CA "/acct/1" NONCE("na"), \
    "{\"status\":\"valid\"}", 0 }
/* the stored account (acct_store), confirmed by the CA */
#define X_ACCT_CHECK { "POST", CA "/acct/7", 200, JSON_CT NONCE("nc"), "{\"status\":\"valid\"}", 0 }

/* Order n: for both names of the MD, with an authorization each. */
#define ORDER(n, status, extra) "{\"status\":\"" status "\",\"authorizations\":[\"" CA \
    "/authz/1\",\"" CA "/authz/2\"],\"finalize\":\"" CA "/fin/" n "\"" extra "}"
#define CERT_AT(n) ",\"certificate\":\"" CA "/cert/" n "\""
#define X_ORDER_NEW(n) { "POST", CA "/order", 201, JSON_CT "\nLocation: " CA "/o/" n \
    NONCE("no" n), ORDER(n, "pending", ""), 0 }
#define X_AUTHZ_VALID(i, name) { "POST", CA "/authz/" i, 200, JSON_CT NONCE("nz" i), \
    "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\",\"value\":\"" name "\"}," \
    "\"challenges\":[]}", 0 }
#define X_ORDER_POLL(n, status, extra) { "POST", CA "/o/" n, 200, JSON_CT NONCE("np" n), \
    ORDER(n, status, extra), 0 }
#define X_FINALIZE(n, status, extra) { "POST", CA "/fin/" n, 200, JSON_CT NONCE("nf" n), \
    ORDER(n, status, extra), 0 }
#define X_CERT(n, body) { "POST", CA "/cert/" n, 200, PEM_CT NONCE("nd" n), body, 0 }
/* After the new order n: both authorizations valid already (no challenge), the order
 * ready, finalized to valid at once, the certificate downloaded: 6 exchanges. */
#define X_ORDER_TO_CERT(n, body) X_ORDER_NEW(n), X_AUTHZ_VALID("1", "x.test"), \
    X_AUTHZ_VALID("2", "www.x.test"), X_ORDER_POLL(n, "ready", ""), \
    X_FINALIZE(n, "valid", CERT_AT(n)), X_CERT(n, body)

static md_store_t *store;
static const char *store_dir;

static void drive_setup(void)
{
    md_test_setup();
    store = md_test_tmp_store();
    store_dir = md_store_base(store);
}

static void drive_teardown(void)
{
    md_dir_remove_all(store_dir, md_test_pool);
    md_test_teardown();
}

static md_pkey_spec_t *ec_spec(const char *curve)
{
    md_pkey_spec_t *spec = apr_pcalloc(md_test_pool, sizeof(*spec));

    spec->type = MD_PKEY_EC;
    spec->curve = curve;
    return spec;
}

/* The MD x.test with www.x.test, one EC P-256 key, at the fake CA. */
static md_t *md_make(void)
{
    md_t *md = md_create(md_test_pool, "x.test");

    APR_ARRAY_PUSH(md->domains, const char *) = "x.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "www.x.test";
    APR_ARRAY_PUSH(md->contacts, const char *) = "mailto:admin@x.test";
    APR_ARRAY_PUSH(md->ca_urls, const char *) = DIR_URL;
    APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) = ec_spec("secp256r1");
    md->ca_agreement = "accepted";
    return md;
}

/* A valid account at the fake CA in accounts/, as an earlier renewal left it. */
static void acct_store(void)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_json_t *j = md_json_create(md_test_pool);
    md_pkey_t *key;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    md_json_sets("valid", j, MD_KEY_STATUS, NULL);
    md_json_sets(CA "/acct/7", j, MD_KEY_URL, NULL);
    md_json_sets(DIR_URL, j, MD_KEY_CA_URL, NULL);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_ACCOUNTS, ACCT_ID, MD_FN_ACCT_KEY, key,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_ACCOUNTS, ACCT_ID, MD_FN_ACCOUNT, j,
                                        md_test_pool), APR_SUCCESS);
}

/* Every exchange of the script used, and nothing else asked for. */
static void script_done(const md_http_t *http, const md_result_t *r)
{
    ck_assert_msg(fake_http_error(http) == NULL, "%s", fake_http_error(http));
    ck_assert_msg(fake_http_left(http) == 0, "%d exchanges of the script unused; the drive "
                  "ended with: %s", fake_http_left(http), md_result_line(r, md_test_pool));
}

static void ctx_init(md_acme_drive_ctx_t *ctx, const md_t *md, md_http_t *http)
{
    apr_array_header_t *types = apr_array_make(md_test_pool, 1, sizeof(const char *));

    APR_ARRAY_PUSH(types, const char *) = "http-01";
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->md = md;
    ctx->http = http;
    ctx->challenge_types = types;
    ctx->result = md_result_make(md_test_pool);
}

/* One renewal of md through the script; the whole script is used, nothing else sent. */
static apr_status_t drive(md_result_t **presult, md_http_t **phttp, const md_t *md,
                          const fake_exchange_t *script)
{
    md_acme_drive_ctx_t ctx;
    apr_status_t rv;

    *phttp = fake_http_create(script, md_test_pool);
    ctx_init(&ctx, md, *phttp);
    rv = md_acme_drive_run(&ctx, md_test_pool);
    script_done(*phttp, ctx.result);
    *presult = ctx.result;
    return rv;
}

/* The index of the request to url, the n-th (0-based) of them. */
static int request_at(const md_http_t *http, const char *url, int n)
{
    int i, seen = 0;

    for (i = 0; i < fake_http_count(http); ++i) {
        if (strcmp(fake_http_request(http, i)->url, url)) continue;
        if (seen++ == n) return i;
    }
    ck_abort_msg("no request %d to %s", n, url);
    return -1;
}

static int requests_to(const md_http_t *http, const char *url)
{
    int i, n = 0;

    for (i = 0; i < fake_http_count(http); ++i) n += !strcmp(fake_http_request(http, i)->url, url);
    return n;
}

/* The identifiers of a newOrder payload, as "type:value,type:value". */
static const char *identifiers_of(md_json_t *payload)
{
    md_json_t *ids = md_json_getj(payload, MD_KEY_IDENTIFIERS, NULL), *id;
    const char *text = "";
    apr_size_t i;

    for (i = 0; i < md_json_array_len(ids); ++i) {
        id = md_json_array_at(ids, i);
        text = apr_pstrcat(md_test_pool, text, i ? "," : "", md_json_gets(id, "type", NULL),
                           ":", md_json_gets(id, "value", NULL), NULL);
    }
    return text;
}

/* The staged chain of a key spec: leaf and the fake CA, the leaf for the staged key and
 * for exactly the MD's names. */
static void assert_staged_spec(const md_t *md, const md_pkey_spec_t *spec)
{
    apr_array_header_t *chain, *names;
    md_pkey_t *key;

    ck_assert_int_eq(md_store_load_pkey(&key, store, MD_SG_STAGING, md->name,
                                        md_pkey_file_name(spec, MD_FN_PRIVKEY, md_test_pool),
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_chain(&chain, store, MD_SG_STAGING, md->name,
                                         md_pkey_file_name(spec, MD_FN_PUBCERT, md_test_pool),
                                         md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(chain->nelts, 2);
    ck_assert(md_cert_matches_key(APR_ARRAY_IDX(chain, 0, md_cert_t *), key));
    ck_assert_int_eq(md_cert_alt_names(&names, APR_ARRAY_IDX(chain, 0, md_cert_t *),
                                       md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_array_str_join(names, ",", md_test_pool), "x.test,www.x.test");
    ck_assert_ptr_nonnull(strstr(md_cert_issuer_name(APR_ARRAY_IDX(chain, 0, md_cert_t *),
                                                     md_test_pool), "Fake Test CA"));
}

static void assert_nothing_staged_for(const md_t *md, const md_pkey_spec_t *spec)
{
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, md->name,
                                     md_pkey_file_name(spec, MD_FN_PUBCERT, md_test_pool),
                                     md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, md->name,
                                     md_pkey_file_name(spec, MD_FN_PRIVKEY, md_test_pool),
                                     md_test_pool), APR_SUCCESS);
}

/* ---- a complete renewal ------------------------------------------------------------ */

/* No account yet, authorizations valid already, the CA processing a moment after
 * finalize: a new account, one order, the CSR, and a complete staged set. */
START_TEST(renewal_complete_new_account)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_NEW,
        X_ORDER_NEW("1"), X_AUTHZ_VALID("1", "x.test"), X_AUTHZ_VALID("2", "www.x.test"),
        X_ORDER_POLL("1", "ready", ""),
        X_FINALIZE("1", "processing", ""),
        X_ORDER_POLL("1", "valid", CERT_AT("1")),
        X_CERT("1", FAKE_BODY_ISSUE),
        FAKE_END };
    md_t *md = md_make();
    md_json_t *order, *acct, *staged;
    md_result_t *r;
    md_http_t *http;

    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 0);
    ck_assert_int_eq(drive(&r, &http, md, script), APR_SUCCESS);
    /* the result says so */
    ck_assert_int_eq(r->status, APR_SUCCESS);
    ck_assert_ptr_null(r->problem);
    ck_assert_str_eq(r->detail, "certificate(s) for x.test staged; they go live at the next "
                     "graceful restart");
    /* what went to the CA: a new account agreeing to the terms, an order for both names
     * without 'replaces' (nothing is served), no challenge, the CSR signed by the account */
    acct = fake_http_payload(http, 2, md_test_pool);
    ck_assert_int_eq(md_json_getb(acct, MD_KEY_TOS_AGREED, NULL), 1);
    ck_assert_str_eq(md_array_str_join(md_json_getsa(acct, md_test_pool, MD_KEY_CONTACT, NULL),
                                       ",", md_test_pool), "mailto:admin@x.test");
    order = fake_http_payload(http, request_at(http, CA "/order", 0), md_test_pool);
    ck_assert_str_eq(identifiers_of(order), "dns:x.test,dns:www.x.test");
    ck_assert(!md_json_has(order, MD_KEY_REPLACES, NULL));
    ck_assert_ptr_nonnull(md_json_gets(fake_http_payload(http, request_at(http, CA "/fin/1", 0),
                                                         md_test_pool), "csr", NULL));
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, request_at(http, CA "/fin/1", 0),
                                                      md_test_pool), "kid", NULL), CA "/acct/1");
    ck_assert_int_eq(fake_http_count(http), 10);
    /* staged: key, chain and md.json naming the new account; the order is gone */
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
    assert_staged_spec(md, md_pkey_spec_at(md, 0));
    ck_assert_int_eq(md_store_load_json(&staged, store, MD_SG_STAGING, "x.test", MD_FN_MD,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(staged, MD_KEY_CA, MD_KEY_ACCOUNT, NULL), ACCT_ID);
    ck_assert_str_eq(md_json_gets(staged, MD_KEY_CA, MD_KEY_URL, NULL), DIR_URL);
    ck_assert_int_eq(md_store_exists(store, MD_SG_ACCOUNTS, ACCT_ID, MD_FN_ACCOUNT,
                                     md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "x.test", MD_FN_ORDER, md_test_pool),
                     APR_SUCCESS);
}
END_TEST

/* ---- ARI: alreadyReplaced ----------------------------------------------------------- */

/* The served certificate has an ARI id: the order names it in 'replaces'; the CA says it
 * was replaced already (409), and the drive orders once more as a plain order. */
START_TEST(already_replaced_orders_again_without_replaces)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_CHECK,
        { "POST", CA "/order", 409, PROBLEM_CT NONCE("nx"),
          "{\"type\":\"urn:ietf:params:acme:error:alreadyReplaced\","
          "\"detail\":\"the certificate was replaced already\"}", 0 },
        X_ORDER_TO_CERT("1", FAKE_BODY_ISSUE),
        FAKE_END };
    md_t *md = md_make();
    md_served_t *served = apr_pcalloc(md_test_pool, sizeof(*served));
    md_json_t *first, *second;
    md_result_t *r;
    md_http_t *http;

    acct_store();
    served->name = "secp256r1";
    served->not_before = apr_time_now() - apr_time_from_sec(80 * 24 * 3600);
    served->not_after = apr_time_now() + apr_time_from_sec(10 * 24 * 3600);
    served->ari_id = ARI_ID;
    md->served = apr_array_make(md_test_pool, 1, sizeof(md_served_t *));
    APR_ARRAY_PUSH(md->served, md_served_t *) = served;
    md->state = MD_S_COMPLETE;

    ck_assert_int_eq(drive(&r, &http, md, script), APR_SUCCESS);
    ck_assert_int_eq(requests_to(http, CA "/order"), 2);
    first = fake_http_payload(http, request_at(http, CA "/order", 0), md_test_pool);
    second = fake_http_payload(http, request_at(http, CA "/order", 1), md_test_pool);
    ck_assert_str_eq(md_json_gets(first, MD_KEY_REPLACES, NULL), ARI_ID);
    ck_assert(!md_json_has(second, MD_KEY_REPLACES, NULL));
    ck_assert_str_eq(identifiers_of(first), "dns:x.test,dns:www.x.test");
    ck_assert_str_eq(identifiers_of(second), identifiers_of(first));
    /* the stored account signed both */
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, request_at(http, CA "/order", 1),
                                                      md_test_pool), "kid", NULL), CA "/acct/7");
    /* completed, and the refusal does not linger in the result */
    ck_assert_int_eq(r->status, APR_SUCCESS);
    ck_assert_ptr_null(r->problem);
    ck_assert_ptr_nonnull(strstr(r->detail, "staged"));
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
    assert_staged_spec(md, md_pkey_spec_at(md, 0));
}
END_TEST

/* The certificate in domains/ (as mdctl, running as root, finds it; md->served is not
 * read): 'replaces' is its ARI id, the issuer's key identifier and its serial. */
START_TEST(replaces_from_domains_certificate)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_CHECK,
        X_ORDER_TO_CERT("1", FAKE_BODY_ISSUE),
        FAKE_END };
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_t *md = md_make();
    const unsigned char *csr;
    const ASN1_OCTET_STRING *ski;
    apr_array_header_t *chain;
    apr_size_t csr_len;
    const char *pem, *expected;
    fake_ca_t *fca;
    md_pkey_t *key;
    md_result_t *r;
    md_http_t *http;

    acct_store();
    /* served: issued by another instance of the fake CA, its second certificate (serial 2) */
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_csr_create(&csr, &csr_len, md->domains, 0, key, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(fake_ca_create(&fca, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(fake_ca_issue(&pem, fca, csr, csr_len, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_chain_from_pem(&chain, pem, strlen(pem), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_chain(store, MD_SG_DOMAINS, "x.test",
                                         md_pkey_file_name(&spec, MD_FN_PUBCERT, md_test_pool),
                                         chain, md_test_pool), APR_SUCCESS);
    ski = X509_get0_subject_key_id(md_cert_x509(APR_ARRAY_IDX(chain, 1, md_cert_t *)));
    ck_assert_ptr_nonnull(ski);
    expected = apr_pstrcat(md_test_pool, md_b64url_encode(ASN1_STRING_get0_data(ski),
                           (apr_size_t)ASN1_STRING_length(ski), md_test_pool), ".Ag", NULL);

    ck_assert_int_eq(drive(&r, &http, md, script), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(fake_http_payload(http, request_at(http, CA "/order", 0),
                                                    md_test_pool), MD_KEY_REPLACES, NULL),
                     expected);
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
}
END_TEST

/* With ARI off (MDRenewViaARI off) no 'replaces' is sent; an alreadyReplaced then is the
 * CA's verdict on a plain order and is not retried. */
START_TEST(ari_off_sends_no_replaces)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_CHECK,
        { "POST", CA "/order", 409, PROBLEM_CT NONCE("nx"),
          "{\"type\":\"urn:ietf:params:acme:error:alreadyReplaced\","
          "\"detail\":\"the certificate was replaced already\"}", 0 },
        FAKE_END };
    md_t *md = md_make();
    md_served_t *served = apr_pcalloc(md_test_pool, sizeof(*served));
    md_result_t *r;
    md_http_t *http;

    acct_store();
    served->not_after = apr_time_now() + apr_time_from_sec(10 * 24 * 3600);
    served->ari_id = ARI_ID;
    md->served = apr_array_make(md_test_pool, 1, sizeof(md_served_t *));
    APR_ARRAY_PUSH(md->served, md_served_t *) = served;
    md->state = MD_S_COMPLETE;
    md->ari_renewals = 0;

    ck_assert_int_eq(drive(&r, &http, md, script), APR_EEXIST);
    ck_assert_int_eq(requests_to(http, CA "/order"), 1);
    ck_assert(!md_json_has(fake_http_payload(http, request_at(http, CA "/order", 0),
                                             md_test_pool), MD_KEY_REPLACES, NULL));
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:alreadyReplaced");
    ck_assert_ptr_nonnull(strstr(r->detail, "the certificate was replaced already"));
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 0);
}
END_TEST

/* ---- a certificate for another key ---------------------------------------------- */

/* The CA answers the finalize with a certificate for a key that is not ours: the renewal
 * fails naming the certificate, and neither key nor certificate nor md.json is staged. */
START_TEST(certificate_for_other_key_not_staged)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_NEW,
        X_ORDER_TO_CERT("1", FAKE_BODY_ISSUE_OTHER_KEY),
        FAKE_END };
    md_t *md = md_make();
    md_result_t *r;
    md_http_t *http;

    ck_assert_int_eq(drive(&r, &http, md, script), APR_EINVAL);
    ck_assert_int_eq(r->status, APR_EINVAL);
    ck_assert_str_eq(r->detail, "the certificate from " CA "/cert/1 does not match the key of "
                     "our request: it is not staged");
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 0);
    assert_nothing_staged_for(md, md_pkey_spec_at(md, 0));
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "x.test", MD_FN_MD, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "x.test", MD_FN_ORDER, md_test_pool),
                     APR_SUCCESS);
}
END_TEST

/* ---- a key spec staged already ------------------------------------------------------ */

/* Two key specs; the first renewal gets the P-256 certificate staged but the CA sends
 * the P-384 one for another key, so the set is incomplete. The next renewal orders the
 * P-384 certificate only, and the set is complete. The account the CA confirmed in the
 * first renewal is not asked about again in the second. */
START_TEST(staged_spec_not_ordered_again)
{
    static const fake_exchange_t first[] = {
        X_DIR, X_NONCE, X_ACCT_CHECK,
        X_ORDER_TO_CERT("1", FAKE_BODY_ISSUE),
        X_ORDER_TO_CERT("2", FAKE_BODY_ISSUE_OTHER_KEY),
        FAKE_END };
    static const fake_exchange_t second[] = {
        X_DIR, X_NONCE,
        X_ORDER_TO_CERT("3", FAKE_BODY_ISSUE),
        FAKE_END };
    md_t *md = md_make();
    md_acme_acct_trust_t *trust;
    apr_thread_mutex_t *lock;
    md_acme_drive_ctx_t ctx;
    md_http_t *http;

    acct_store();
    APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) = ec_spec("secp384r1");
    ck_assert_int_eq(md_acme_acct_trust_make(&trust, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, md_test_pool),
                     APR_SUCCESS);

    /* 1. P-256 staged, P-384 refused: incomplete */
    http = fake_http_create(first, md_test_pool);
    ctx_init(&ctx, md, http);
    ctx.acct_lock = lock;
    ctx.accounts_trust = trust;
    ck_assert_int_eq(md_acme_drive_run(&ctx, md_test_pool), APR_EINVAL);
    script_done(http, ctx.result);
    ck_assert_str_eq(ctx.result->detail, "the certificate from " CA "/cert/2 does not match "
                     "the key of our request: it is not staged");
    assert_staged_spec(md, md_pkey_spec_at(md, 0));
    assert_nothing_staged_for(md, md_pkey_spec_at(md, 1));
    ck_assert_int_eq(md_renew_spec_staged(store, md, 0, md_test_pool), 1);
    ck_assert_int_eq(md_renew_spec_staged(store, md, 1, md_test_pool), 0);
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 0);

    /* 2. only P-384 is ordered, with no account check: complete */
    http = fake_http_create(second, md_test_pool);
    ctx_init(&ctx, md, http);
    ctx.acct_lock = lock;
    ctx.accounts_trust = trust;
    ck_assert_int_eq(md_acme_drive_run(&ctx, md_test_pool), APR_SUCCESS);
    script_done(http, ctx.result);
    ck_assert_int_eq(requests_to(http, CA "/order"), 1);
    ck_assert_int_eq(requests_to(http, CA "/acct/7"), 0);
    ck_assert_ptr_nonnull(strstr(ctx.result->detail, "staged"));
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
    assert_staged_spec(md, md_pkey_spec_at(md, 0));
    assert_staged_spec(md, md_pkey_spec_at(md, 1));
}
END_TEST

/* ---- an order made earlier (a restart, or a farm node that died: md_farm_order_take) -- */

/* staging/x.test/order.json as the drive saves it: the CA's order, its URL, the account's. */
static void order_staged(const char *url, const char *acct_url)
{
    md_json_t *j = md_json_create(md_test_pool);

    md_json_sets("pending", j, MD_KEY_STATUS, NULL);
    md_json_sets(url, j, MD_KEY_URL, NULL);
    md_json_sets(acct_url, j, MD_KEY_ACCOUNT, NULL);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_STAGING, "x.test", MD_FN_ORDER, j, md_test_pool),
                     APR_SUCCESS);
}

/* The staged order goes on, signed by the account it belongs to (not the MD's last one):
 * no new order at the CA. */
START_TEST(staged_order_resumed_with_its_account)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/acct/8", 200, JSON_CT NONCE("n8"), "{\"status\":\"valid\"}", 0 },
        X_ORDER_POLL("5", "pending", ""),
        X_AUTHZ_VALID("1", "x.test"), X_AUTHZ_VALID("2", "www.x.test"),
        X_ORDER_POLL("5", "ready", ""),
        X_FINALIZE("5", "valid", CERT_AT("5")), X_CERT("5", FAKE_BODY_ISSUE),
        FAKE_END };
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_json_t *j = md_json_create(md_test_pool), *staged;
    md_t *md = md_make();
    md_pkey_t *key;
    md_result_t *r;
    md_http_t *http;

    acct_store();                                   /* ACCT_ID, /acct/7: the MD's last */
    md->ca_account = ACCT_ID;
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    md_json_sets("valid", j, MD_KEY_STATUS, NULL);
    md_json_sets(CA "/acct/8", j, MD_KEY_URL, NULL);
    md_json_sets(DIR_URL, j, MD_KEY_CA_URL, NULL);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_ACCOUNTS, "ACME-ca.test-0001-farm1", MD_FN_ACCT_KEY,
                                        key, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_ACCOUNTS, "ACME-ca.test-0001-farm1", MD_FN_ACCOUNT,
                                        j, md_test_pool), APR_SUCCESS);
    order_staged(CA "/o/5", CA "/acct/8");
    ck_assert_int_eq(drive(&r, &http, md, script), APR_SUCCESS);
    ck_assert_int_eq(requests_to(http, CA "/order"), 0);
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, request_at(http, CA "/fin/5", 0),
                                                      md_test_pool), "kid", NULL), CA "/acct/8");
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
    assert_staged_spec(md, md_pkey_spec_at(md, 0));
    ck_assert_int_eq(md_store_load_json(&staged, store, MD_SG_STAGING, "x.test", MD_FN_MD,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(staged, MD_KEY_CA, MD_KEY_ACCOUNT, NULL), "ACME-ca.test-0001-farm1");
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "x.test", MD_FN_ORDER, md_test_pool),
                     APR_SUCCESS);
}
END_TEST

/* A staged order the CA marked invalid (or one already finalized with a key we do not
 * have) cannot go on: a new order, and the renewal completes. */
START_TEST(staged_order_invalid_orders_anew)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, X_ACCT_CHECK,
        X_ORDER_POLL("5", "invalid", ""),
        X_ORDER_TO_CERT("1", FAKE_BODY_ISSUE),
        FAKE_END };
    md_t *md = md_make();
    md_result_t *r;
    md_http_t *http;

    acct_store();
    order_staged(CA "/o/5", CA "/acct/7");
    ck_assert_int_eq(drive(&r, &http, md, script), APR_SUCCESS);
    ck_assert_int_eq(requests_to(http, CA "/order"), 1);
    ck_assert_int_eq(r->status, APR_SUCCESS);
    ck_assert_ptr_null(r->problem);
    ck_assert_int_eq(md_renew_staging_complete(store, md, md_test_pool), 1);
}
END_TEST

Suite *md_test_drive_suite(void)
{
    Suite *s = suite_create("drive");
    TCase *tc = tcase_create("drive");

    tcase_add_checked_fixture(tc, drive_setup, drive_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, renewal_complete_new_account);
    tcase_add_test(tc, already_replaced_orders_again_without_replaces);
    tcase_add_test(tc, replaces_from_domains_certificate);
    tcase_add_test(tc, ari_off_sends_no_replaces);
    tcase_add_test(tc, certificate_for_other_key_not_staged);
    tcase_add_test(tc, staged_spec_not_ordered_again);
    tcase_add_test(tc, staged_order_resumed_with_its_account);
    tcase_add_test(tc, staged_order_invalid_orders_anew);
    suite_add_tcase(s, tc);
    return s;
}
