/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Account operations and revocation against the fake transport: what goes on the wire. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "fake_http.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_jws.h"
#include "md_test.h"
#include "md_util.h"

#define CA "https://ca.test"
#define JSON_CT "Content-Type: application/json"
#define X_DIR { "GET", CA "/dir", 200, JSON_CT, "{\"newNonce\":\"" CA "/nonce\"," \
    "\"newAccount\":\"" CA "/acct\",\"newOrder\":\"" CA "/order\",\"revokeCert\":\"" CA \
    "/revoke\",\"keyChange\":\"" CA "/keychange\"}", 0 }
#define X_NONCE { "HEAD", CA "/nonce", 200, "Replay-Nonce: n0", NULL, 0 }

static md_pkey_t *ec_key(void)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *key;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    return key;
}

static md_acme_t *acme_for(const fake_exchange_t *script, md_http_t **phttp)
{
    md_acme_t *acme;

    *phttp = fake_http_create(script, md_test_pool);
    md_acme_create(&acme, CA "/dir", *phttp, md_test_pool);
    acme->acct_key = ec_key();
    acme->acct_url = CA "/acct/7";
    return acme;
}

START_TEST(find_by_key)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/acct", 200, JSON_CT "\nLocation: " CA "/acct/7\nReplay-Nonce: n1",
          "{\"status\":\"valid\"}", 0 },
        { "POST", CA "/acct", 400, "Content-Type: application/problem+json\nReplay-Nonce: n2",
          "{\"type\":\"urn:ietf:params:acme:error:accountDoesNotExist\",\"detail\":\"no\"}", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    const char *url;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);
    md_json_t *prot;

    acme->acct_url = NULL;
    ck_assert_int_eq(md_acme_acct_find_by_key(&url, acme, r, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(url, CA "/acct/7");
    ck_assert_int_eq(md_json_getb(fake_http_payload(http, 2, md_test_pool), "onlyReturnExisting",
                                  NULL), 1);
    prot = fake_http_protected(http, 2, md_test_pool);
    ck_assert(md_json_has(prot, "jwk", NULL) && !md_json_has(prot, "kid", NULL));
    ck_assert_int_eq(md_acme_acct_find_by_key(&url, acme, r, md_test_pool), APR_ENOENT);
    ck_assert_ptr_null(url);
}
END_TEST

START_TEST(key_change_wire_format)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/keychange", 200, JSON_CT "\nReplay-Nonce: n1", "{\"status\":\"valid\"}", 0 },
        FAKE_END };
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp384r1" };
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_acct_t acct;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);
    const md_pkey_t *old_key = acme->acct_key;
    md_json_t *outer, *inner_jws, *inner_prot, *inner, *old_jwk;
    const unsigned char *data;
    apr_size_t len;
    md_store_t *store = md_test_tmp_store();
    md_pkey_t *saved;

    memset(&acct, 0, sizeof(acct));
    acct.id = "ACME-ca.test-0000";
    acct.url = CA "/acct/7";
    ck_assert_int_eq(md_acme_acct_key_change(acme, &acct, store, &spec, r, md_test_pool), APR_SUCCESS);
    /* outer: the old key, by kid */
    outer = fake_http_protected(http, 2, md_test_pool);
    ck_assert_str_eq(md_json_gets(outer, "kid", NULL), CA "/acct/7");
    ck_assert_str_eq(md_json_gets(outer, "alg", NULL), "ES256");
    /* inner: the new key's JWK, the keyChange URL, no nonce; payload account + oldKey */
    inner_jws = fake_http_payload(http, 2, md_test_pool);
    ck_assert_ptr_nonnull(inner_jws);
    md_b64url_decode(&data, &len, md_json_gets(inner_jws, "protected", NULL), md_test_pool);
    md_json_parse(&inner_prot, (const char *)data, len, md_test_pool);
    ck_assert_str_eq(md_json_gets(inner_prot, "alg", NULL), "ES384");
    ck_assert_str_eq(md_json_gets(inner_prot, "url", NULL), CA "/keychange");
    ck_assert(!md_json_has(inner_prot, "nonce", NULL));
    ck_assert_str_eq(md_json_gets(inner_prot, "jwk", "crv", NULL), "P-384");
    md_b64url_decode(&data, &len, md_json_gets(inner_jws, "payload", NULL), md_test_pool);
    md_json_parse(&inner, (const char *)data, len, md_test_pool);
    ck_assert_str_eq(md_json_gets(inner, "account", NULL), CA "/acct/7");
    md_jwk_get(&old_jwk, old_key, md_test_pool);
    ck_assert_str_eq(md_json_gets(inner, "oldKey", "x", NULL), md_json_gets(old_jwk, "x", NULL));
    /* the new key signs from now on and is in the store */
    ck_assert_ptr_ne(acme->acct_key, old_key);
    ck_assert_int_eq(md_store_load_pkey(&saved, store, MD_SG_ACCOUNTS, acct.id, "account.pem",
                                        md_test_pool), APR_SUCCESS);
    {
        const char *t1, *t2;
        md_jwk_thumbprint(&t1, saved, md_test_pool);
        md_jwk_thumbprint(&t2, acme->acct_key, md_test_pool);
        ck_assert_str_eq(t1, t2);
    }
    md_dir_remove_all(md_store_base(store), md_test_pool);
}
END_TEST

START_TEST(revoke_wire_format)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/revoke", 200, "Replay-Nonce: n1", "", 0 },
        { "POST", CA "/revoke", 200, "Replay-Nonce: n2", "", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *names = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_pkey_t *cert_key = ec_key();
    md_cert_t *cert;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);
    md_json_t *pl, *prot;

    APR_ARRAY_PUSH(names, const char *) = "x.test";
    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names, cert_key, apr_time_from_sec(3600),
                                         md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_acme_revoke(acme, cert, NULL, 1, r, md_test_pool), APR_SUCCESS);
    pl = fake_http_payload(http, 2, md_test_pool);
    ck_assert_int_eq(md_json_getl(pl, "reason", NULL), 1);
    ck_assert_ptr_nonnull(md_json_gets(pl, "certificate", NULL));
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, 2, md_test_pool), "kid", NULL),
                     CA "/acct/7");
    /* with the certificate's key: a JWK header, no reason when none is given */
    ck_assert_int_eq(md_acme_revoke(acme, cert, cert_key, -1, r, md_test_pool), APR_SUCCESS);
    prot = fake_http_protected(http, 3, md_test_pool);
    ck_assert(md_json_has(prot, "jwk", NULL) && !md_json_has(prot, "kid", NULL));
    ck_assert(!md_json_has(fake_http_payload(http, 3, md_test_pool), "reason", NULL));
    ck_assert_str_eq(acme->acct_url, CA "/acct/7");          /* the account signs again */
    /* no request for an invalid reason */
    ck_assert_int_eq(md_acme_revoke(acme, cert, NULL, 7, r, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(fake_http_count(http), 4);
}
END_TEST

/* ---- accounts shared with other servers (md_acme_acct_req_t.share) -------------- */

typedef struct {
    apr_status_t answer;         /* what acquire says */
    const char *json;
    md_pkey_t *key;
    int released;
    const char *published;       /* what release got */
} test_share_t;

static apr_status_t share_acquire(const char **pjson, md_pkey_t **pkey, md_acme_acct_share_t *share,
                                  const char *ca_url, const char *eab_kid, apr_pool_t *p)
{
    test_share_t *t = share->baton;

    ck_assert_str_eq(ca_url, CA "/dir");
    ck_assert_ptr_null(eab_kid);
    *pjson = t->json;
    *pkey = t->key;
    return t->answer;
}

static void share_release(md_acme_acct_share_t *share, const char *json, const md_pkey_t *key,
                          apr_pool_t *p)
{
    test_share_t *t = share->baton;

    ++t->released;
    t->published = json;
    ck_assert(json == NULL || key != NULL);
}

static md_acme_acct_req_t share_req(md_acme_t *acme, md_store_t *store, md_acme_acct_share_t *share,
                                    test_share_t *t)
{
    md_acme_acct_req_t req;

    memset(&req, 0, sizeof(req));
    req.acme = acme;
    req.store = store;
    req.agreement = "accepted";
    share->acquire = share_acquire;
    share->release = share_release;
    share->baton = t;
    req.share = share;
    return req;
}

START_TEST(shared_account_taken)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/acct/9", 200, JSON_CT "\nReplay-Nonce: n1", "{\"status\":\"valid\"}", 0 },
        FAKE_END };
    test_share_t t = { APR_SUCCESS, "{\"url\":\"" CA "/acct/9\",\"ca-url\":\"" CA "/dir\","
                       "\"status\":\"valid\"}", NULL, 0, NULL };
    md_result_t *r = md_result_make(md_test_pool);
    md_store_t *store = md_test_tmp_store();
    md_acme_acct_share_t share;
    md_acme_acct_req_t req;
    md_acme_acct_t *acct;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);
    md_json_t *saved;

    acme->acct_key = NULL;
    acme->acct_url = NULL;
    t.key = ec_key();
    req = share_req(acme, store, &share, &t);
    /* the others' account: saved as an account of this store and used, none registered */
    ck_assert_int_eq(md_acme_acct_use(&acct, &req, r, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(acct->url, CA "/acct/9");
    ck_assert_ptr_nonnull(acme->acct_key);
    ck_assert_int_eq(t.released, 0);
    ck_assert_int_eq(md_store_load_json(&saved, store, MD_SG_ACCOUNTS, acct->id, MD_FN_ACCOUNT,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(saved, "url", NULL), CA "/acct/9");
}
END_TEST

START_TEST(shared_account_none_registers_for_all)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/acct", 201, JSON_CT "\nLocation: " CA "/acct/10\nReplay-Nonce: n1",
          "{\"status\":\"valid\"}", 0 },
        FAKE_END };
    test_share_t t = { APR_ENOENT, NULL, NULL, 0, NULL };
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_acct_share_t share;
    md_acme_acct_req_t req;
    md_acme_acct_t *acct;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    acme->acct_key = NULL;
    acme->acct_url = NULL;
    req = share_req(acme, md_test_tmp_store(), &share, &t);
    /* none shared yet: registered here, and handed back for the others */
    ck_assert_int_eq(md_acme_acct_use(&acct, &req, r, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(acct->url, CA "/acct/10");
    ck_assert_int_eq(t.released, 1);
    ck_assert_ptr_nonnull(strstr(t.published, CA "/acct/10"));
    ck_assert_ptr_null(strstr(t.published, "PRIVATE"));
}
END_TEST

Suite *md_test_acct_suite(void)
{
    Suite *s = suite_create("acct");
    TCase *tc = tcase_create("acct");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, find_by_key);
    tcase_add_test(tc, key_change_wire_format);
    tcase_add_test(tc, revoke_wire_format);
    tcase_add_test(tc, shared_account_taken);
    tcase_add_test(tc, shared_account_none_registers_for_all);
    suite_add_tcase(s, tc);
    return s;
}
