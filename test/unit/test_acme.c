/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The ACME transport, orders and authorizations against a fake HTTP transport that
 * replays recorded exchanges (fake_http.c): every error path a CA can take us down. */
#include <string.h>
#include <apr_strings.h>
#include <apr_date.h>

#include "fake_http.h"
#include "md_acme.h"
#include "md_acme_order.h"
#include "md_test.h"

#define CA "https://ca.test"
#define DIR_URL CA "/dir"
#define DIR_BODY "{\"newNonce\":\"" CA "/nonce\",\"newAccount\":\"" CA "/acct\"," \
                 "\"newOrder\":\"" CA "/order\",\"revokeCert\":\"" CA "/revoke\"," \
                 "\"keyChange\":\"" CA "/keychange\",\"renewalInfo\":\"" CA "/ari\"," \
                 "\"meta\":{\"profiles\":{\"classic\":\"x\",\"shortlived\":\"y\"}}}"
#define JSON_CT "Content-Type: application/json"
#define PROBLEM_CT "Content-Type: application/problem+json"

#define X_DIR { "GET", DIR_URL, 200, JSON_CT, DIR_BODY, 0 }
#define X_NONCE { "HEAD", CA "/nonce", 200, "Replay-Nonce: n-head", NULL, 0 }

static md_acme_t *acme_for(const fake_exchange_t *script, md_http_t **phttp)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *key;
    md_acme_t *acme;

    *phttp = fake_http_create(script, md_test_pool);
    ck_assert_int_eq(md_acme_create(&acme, DIR_URL, *phttp, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    acme->acct_key = key;
    acme->acct_url = CA "/acct/1";
    acme->max_retry_wait = apr_time_from_sec(2);
    return acme;
}

static void script_done(md_http_t *http)
{
    ck_assert_msg(fake_http_error(http) == NULL, "%s", fake_http_error(http));
    ck_assert_int_eq(fake_http_left(http), 0);
}

/* ---- directory ------------------------------------------------------------------ */

START_TEST(directory_read_and_cached)
{
    static const fake_exchange_t script[] = { X_DIR, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    ck_assert_str_eq(acme->new_order, CA "/order");
    ck_assert_str_eq(acme->renewal_info, CA "/ari");
    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);      /* cached */
    script_done(http);
}
END_TEST

START_TEST(directory_stale_is_read_again)
{
    static const fake_exchange_t script[] = { X_DIR, X_DIR, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    acme->directory_at -= acme->directory_max_age + 1;
    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    script_done(http);
}
END_TEST

START_TEST(directory_not_acme)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 200, JSON_CT, "{\"newNonce\":\"x\"}", 0 }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "lacks newNonce, newAccount or newOrder"));
}
END_TEST

START_TEST(directory_html)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 200, "Content-Type: text/html", "<html>hi</html>", 0 }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "MDCertificateAuthority"));
}
END_TEST

START_TEST(directory_503_short_retry_after)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 503, "Retry-After: 0", "busy", 0 }, X_DIR, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    script_done(http);
}
END_TEST

START_TEST(directory_429_long_retry_after)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 429, "Retry-After: 3600", "slow down", 0 }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_time_t now = apr_time_now();
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_EAGAIN);
    ck_assert_int_ge(r->retry_after, now + apr_time_from_sec(3590));
    ck_assert_int_le(r->retry_after, now + apr_time_from_sec(3610));
    script_done(http);
}
END_TEST

START_TEST(directory_503_http_date)
{
    fake_exchange_t script[] = { { "GET", DIR_URL, 503, NULL, NULL, 0 }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_time_t at = apr_time_now() + apr_time_from_sec(7200);
    char date[APR_RFC822_DATE_LEN];
    md_http_t *http;
    md_acme_t *acme;

    apr_rfc822_date(date, at);
    script[0].headers = apr_pstrcat(md_test_pool, "Retry-After: ", date, NULL);
    acme = acme_for(script, &http);
    ck_assert_int_eq(md_acme_setup(acme, r), APR_EAGAIN);
    ck_assert_int_eq(apr_time_sec(r->retry_after), apr_time_sec(at));
}
END_TEST

START_TEST(transport_error)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 0, NULL, NULL, APR_ECONNREFUSED }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(r->detail, "no answer from the CA"));
}
END_TEST

/* ---- signed requests -------------------------------------------------------------- */

/* Each transport failure in words that name it (and MDCATimeout for a timeout). */
START_TEST(transport_errors_named)
{
    static const struct { apr_status_t rv; const char *words; } cases[] = {
        { APR_TIMEUP, "no answer from the CA within 7s (MDCATimeout)" },
        { MD_HTTP_ETOOLARGE, "larger than the limit of 1048576 bytes" },
        { APR_ECONNRESET, "closed or reset" },
        { APR_EHOSTUNREACH, "could not be resolved" },
        { MD_HTTP_EVERIFY, "could not be verified" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        fake_exchange_t script[] = { { "GET", DIR_URL, 0, NULL, NULL, cases[i].rv }, FAKE_END };
        md_result_t *r = md_result_make(md_test_pool);
        md_http_t *http;
        md_acme_t *acme = acme_for(script, &http);

        http->config.timeout = apr_time_from_sec(7);
        ck_assert_int_eq(md_acme_setup(acme, r), cases[i].rv);
        ck_assert_msg(strstr(r->detail, cases[i].words) != NULL, "%s", r->detail);
    }
}
END_TEST

/* ACME has no redirects: a 3xx is an error naming the target, never followed. */
START_TEST(redirect_not_followed)
{
    static const fake_exchange_t script[] = {
        { "GET", DIR_URL, 302, "Location: https://elsewhere.test/dir", "", 0 }, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_setup(acme, r), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "redirected (HTTP 302) to https://elsewhere.test/dir, "
                                 "another host; redirects are not followed"));
    script_done(http);
}
END_TEST

/* Every URL the CA names must be https: (the directory's was): nothing is sent to one
 * that is not, and the failure names it. */
START_TEST(urls_from_the_ca_must_be_https)
{
    static const char *const refused[] = {
        "http://127.0.0.1:8080/internal/admin", "HTTP://ca.test/x", "ftp://ca.test/x",
        "file:///etc/passwd", "https:///x", "https://", "/relative", "", "https://ca.test/a b",
        "https://ca.test/a\nb", "gopher://ca.test/" };
    static const fake_exchange_t script[] = { X_DIR, FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_response_t *resp;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);
    apr_size_t i;

    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        r = md_result_make(md_test_pool);
        ck_assert_int_eq(md_acme_get(&resp, acme, refused[i], r, md_test_pool), APR_EINVAL);
        ck_assert_msg(r->detail && strstr(r->detail, ": refused, the URL from the CA "),
                      "%s: %s", refused[i], r->detail);
        ck_assert_ptr_nonnull(strstr(r->detail, "nothing was sent to it"));
    }
    ck_assert_ptr_nonnull(strstr(r->detail, "GET gopher://ca.test/: refused, the URL from the "
                                 "CA is not https: (http: only with an http: "
                                 "MDCertificateAuthority)"));
    ck_assert_int_eq(fake_http_count(http), 1);
    script_done(http);
}
END_TEST

/* An order whose Location and finalize URL are http: is neither polled nor finalized. */
START_TEST(order_http_urls_not_used)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/order", 201, JSON_CT "\nLocation: http://127.0.0.1:9/o/1\nReplay-Nonce: n",
          "{\"status\":\"ready\",\"authorizations\":[],\"finalize\":"
          "\"http://127.0.0.1:9/internal/admin\"}", 0 },
        X_NONCE,
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *names = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_acme_order_req_t req = { names, NULL, NULL };
    static const unsigned char csr[] = { 0x30, 0x00 };
    md_acme_order_t *order;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(names, const char *) = "x.test";
    ck_assert_int_eq(md_acme_order_new(&order, acme, &req, r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_acme_order_update(order, acme, r, md_test_pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "POST http://127.0.0.1:9/o/1: refused"));
    ck_assert_int_eq(md_acme_order_finalize(order, acme, csr, sizeof(csr), r, md_test_pool),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "POST http://127.0.0.1:9/internal/admin: refused"));
    script_done(http);
}
END_TEST

/* A CA configured as http: (a test CA) may use http: URLs, and no other scheme. */
START_TEST(http_directory_allows_http)
{
    static const fake_exchange_t script[] = {
        { "GET", "http://ca.test/dir", 200, JSON_CT, DIR_BODY, 0 },
        { "GET", "http://other.test/ari/x", 404, NULL, "", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_http_response_t *resp;
    md_http_t *http = fake_http_create(script, md_test_pool);
    md_acme_t *acme;

    ck_assert_int_eq(md_acme_create(&acme, "http://ca.test/dir", http, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_acme_setup(acme, r), APR_SUCCESS);
    ck_assert_int_eq(md_acme_get(&resp, acme, "http://other.test/ari/x", r, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_acme_get(&resp, acme, "ftp://ca.test/x", r, md_test_pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "is neither https: nor http:"));
    script_done(http);
}
END_TEST

#define BAD_NONCE(nonce) { "POST", CA "/x", 400, PROBLEM_CT "\nReplay-Nonce: " nonce, \
    "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"stale\"}", 0 }

START_TEST(bad_nonce_retried_with_fresh_nonce)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, BAD_NONCE("n-fresh"),
        { "POST", CA "/x", 200, JSON_CT "\nReplay-Nonce: n-next", "{\"ok\":true}", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_json_t *j = NULL;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/x", r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_json_getb(j, "ok", NULL), 1);
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, 2, md_test_pool), "nonce", NULL), "n-head");
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, 3, md_test_pool), "nonce", NULL), "n-fresh");
    ck_assert_str_eq(md_json_gets(fake_http_protected(http, 3, md_test_pool), "kid", NULL), CA "/acct/1");
    ck_assert_ptr_null(r->problem);
    /* the pool keeps the last response's nonce: no HEAD needed next time */
    ck_assert_int_eq(acme->nonces->nelts, 1);
    script_done(http);
}
END_TEST

START_TEST(bad_nonce_gives_up)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE, BAD_NONCE("a"), BAD_NONCE("b"), BAD_NONCE("c"), BAD_NONCE("d"), FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_json_t *j;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    acme->max_nonce_retries = 3;
    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/x", r, md_test_pool), APR_EAGAIN);
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:badNonce");
    script_done(http);
}
END_TEST

START_TEST(post_429_retry_after_short_and_long)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/x", 429, PROBLEM_CT "\nRetry-After: 0\nReplay-Nonce: n2",
          "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many\"}", 0 },
        { "POST", CA "/x", 200, JSON_CT "\nReplay-Nonce: n3", "{}", 0 },
        { "POST", CA "/y", 503, "Retry-After: 86400\nReplay-Nonce: n4", "down", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_json_t *j;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/x", r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/y", r, md_test_pool), APR_EAGAIN);
    ck_assert_int_ge(r->retry_after, apr_time_now() + apr_time_from_sec(86000));
    ck_assert_ptr_nonnull(strstr(r->detail, "without a problem document"));
    script_done(http);
}
END_TEST

START_TEST(problem_with_subproblems)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/order", 400, PROBLEM_CT,
          "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
          "\"detail\":\"Some identifiers were rejected\",\"subproblems\":["
          "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"detail\":\"bad name\","
          "\"identifier\":{\"type\":\"dns\",\"value\":\"a.invalid\"}},"
          "{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA forbids\","
          "\"identifier\":{\"type\":\"dns\",\"value\":\"b.test\"}}]}", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *names = apr_array_make(md_test_pool, 2, sizeof(const char *));
    md_acme_order_req_t req = { names, NULL, NULL };
    md_acme_order_t *order;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(names, const char *) = "a.invalid";
    APR_ARRAY_PUSH(names, const char *) = "b.test";
    ck_assert_int_eq(md_acme_order_new(&order, acme, &req, r, md_test_pool), APR_EINVAL);
    ck_assert_msg(r->problem != NULL, "%s", r->detail);
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:rejectedIdentifier");
    ck_assert_ptr_nonnull(strstr(r->detail, "Some identifiers were rejected"));
    ck_assert_int_eq(md_json_array_len(r->subproblems), 2);
    ck_assert_int_eq(md_acme_problem_is_input_related(r->problem), 1);
    script_done(http);
}
END_TEST

START_TEST(malformed_json_wrong_type_truncated)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/a", 200, JSON_CT "\nReplay-Nonce: n1", "{\"status\": \"valid\",,}", 0 },
        { "POST", CA "/b", 200, "Content-Type: text/html\nReplay-Nonce: n2", "{\"status\":\"valid\"}", 0 },
        { "POST", CA "/c", 200, JSON_CT "\nReplay-Nonce: n3", "{\"status\":\"val", 0 },
        { "POST", CA "/d", 500, "Content-Type: text/html\nReplay-Nonce: n4", "<h1>oops</h1>", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_json_t *j;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/a", r, md_test_pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "not JSON"));
    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/b", r, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/c", r, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_acme_get_json(&j, acme, CA "/d", r, md_test_pool), APR_EGENERAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "HTTP 500"));
    script_done(http);
}
END_TEST

START_TEST(problem_table)
{
    ck_assert_int_eq(md_acme_problem_status("urn:ietf:params:acme:error:badNonce"), APR_EAGAIN);
    ck_assert_int_eq(md_acme_problem_status("urn:acme:error:unauthorized"), APR_EACCES);
    ck_assert_int_eq(md_acme_problem_status("rateLimited"), APR_EAGAIN);
    ck_assert_int_eq(md_acme_problem_status("urn:ietf:params:acme:error:alreadyReplaced"), APR_EEXIST);
    ck_assert_int_eq(md_acme_problem_status("urn:ietf:params:acme:error:nope"), APR_EGENERAL);
    ck_assert_int_eq(md_acme_problem_status(NULL), APR_EGENERAL);
    ck_assert_int_eq(md_acme_problem_is_input_related("urn:ietf:params:acme:error:invalidContact"), 1);
    ck_assert_int_eq(md_acme_problem_is_input_related("urn:ietf:params:acme:error:serverInternal"), 0);
}
END_TEST

/* ---- orders and authorizations --------------------------------------------------- */

#define ORDER_JSON(status, extra) "{\"status\":\"" status "\",\"authorizations\":[\"" CA \
    "/authz/1\"],\"finalize\":\"" CA "/fin/1\"" extra "}"

START_TEST(order_new_identifiers_and_profile)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/order", 201, JSON_CT "\nLocation: " CA "/o/1\nReplay-Nonce: n",
          ORDER_JSON("pending", ""), 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *names = apr_array_make(md_test_pool, 3, sizeof(const char *));
    md_acme_order_req_t req = { names, "shortlived", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" };
    md_acme_order_t *order;
    md_json_t *pl, *ids;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(names, const char *) = "x.test";
    APR_ARRAY_PUSH(names, const char *) = "*.x.test";
    APR_ARRAY_PUSH(names, const char *) = "192.0.2.7";
    APR_ARRAY_PUSH(names, const char *) = "2001:db8::1";
    ck_assert_int_eq(md_acme_order_new(&order, acme, &req, r, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(order->url, CA "/o/1");
    pl = fake_http_payload(http, 2, md_test_pool);
    ck_assert_str_eq(md_json_gets(pl, "profile", NULL), "shortlived");
    ck_assert_str_eq(md_json_gets(pl, "replaces", NULL), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    ids = md_json_getj(pl, "identifiers", NULL);
    ck_assert_int_eq(md_json_array_len(ids), 4);
    ck_assert_str_eq(md_json_gets(md_json_array_at(ids, 1), "type", NULL), "dns");
    ck_assert_str_eq(md_json_gets(md_json_array_at(ids, 1), "value", NULL), "*.x.test");
    ck_assert_str_eq(md_json_gets(md_json_array_at(ids, 2), "type", NULL), "ip");
    ck_assert_str_eq(md_json_gets(md_json_array_at(ids, 3), "type", NULL), "ip");
    script_done(http);
}
END_TEST

START_TEST(order_goes_invalid)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/o/1", 200, JSON_CT "\nReplay-Nonce: n1\nRetry-After: 0",
          ORDER_JSON("processing", ""), 0 },
        { "POST", CA "/o/1", 200, JSON_CT "\nReplay-Nonce: n2",
          ORDER_JSON("invalid", ",\"error\":{\"type\":\"urn:ietf:params:acme:error:badCSR\","
                     "\"detail\":\"key too small\"}"), 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_order_t order;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    memset(&order, 0, sizeof(order));
    order.url = CA "/o/1";
    order.status = "processing";
    ck_assert_int_eq(md_acme_order_await(&order, acme, "valid", apr_time_from_sec(20), r,
                                         md_test_pool), APR_EINVAL);
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:badCSR");
    ck_assert_ptr_nonnull(strstr(r->detail, "key too small"));
    script_done(http);
}
END_TEST

START_TEST(order_poll_honours_retry_after)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/o/1", 200, JSON_CT "\nReplay-Nonce: n1\nRetry-After: 1",
          ORDER_JSON("processing", ""), 0 },
        { "POST", CA "/o/1", 200, JSON_CT "\nReplay-Nonce: n2",
          ORDER_JSON("valid", ",\"certificate\":\"" CA "/cert/1\""), 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_order_t order;
    apr_time_t start = apr_time_now();
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    memset(&order, 0, sizeof(order));
    order.url = CA "/o/1";
    order.status = "processing";
    ck_assert_int_eq(md_acme_order_await(&order, acme, "valid", apr_time_from_sec(20), r,
                                         md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(order.certificate, CA "/cert/1");
    /* the second poll came no earlier than the CA asked */
    ck_assert_int_ge(apr_time_now() - start, apr_time_from_msec(900));
    script_done(http);
}
END_TEST

START_TEST(poll_delay_edges)
{
    md_result_t *r = md_result_make(md_test_pool);
    apr_time_t now = apr_time_now();
    apr_interval_time_t d = 0;
    int i;

    /* no Retry-After: 10 ms first, doubling, never beyond MD_POLL_MAX, no overflow */
    ck_assert_int_eq(md_acme_poll_delay(r, 0, now), MD_POLL_FIRST);
    ck_assert_int_eq(md_acme_poll_delay(r, MD_POLL_FIRST, now), 2 * MD_POLL_FIRST);
    for (i = 0; i < 100; ++i) d = md_acme_poll_delay(r, d, now);
    ck_assert_int_eq(d, MD_POLL_MAX);
    /* a Retry-After in the past is no request to wait */
    r->retry_after = now - apr_time_from_sec(5);
    ck_assert_int_eq(md_acme_poll_delay(r, 0, now), MD_POLL_FIRST);
    /* one in the future is honoured exactly, also when shorter than the schedule... */
    r->retry_after = now + apr_time_from_msec(3);
    ck_assert_int_eq(md_acme_poll_delay(r, MD_POLL_MAX, now), apr_time_from_msec(3));
    r->retry_after = now + apr_time_from_sec(30);
    ck_assert_int_eq(md_acme_poll_delay(r, 0, now), apr_time_from_sec(30));
    /* ...up to a minute: a CA asking for hours is asked again sooner */
    r->retry_after = now + apr_time_from_sec(3600);
    ck_assert_int_eq(md_acme_poll_delay(r, 0, now), MD_POLL_MAX_ASKED);
}
END_TEST

START_TEST(authz_valid_is_not_challenged)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/authz/1", 200, JSON_CT "\nReplay-Nonce: n1",
          "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\",\"value\":\"x.test\"},"
          "\"challenges\":[{\"type\":\"http-01\",\"url\":\"" CA "/ch/1\",\"token\":\"t\","
          "\"status\":\"valid\"}]}", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *urls = apr_array_make(md_test_pool, 1, sizeof(const char *));
    apr_array_header_t *types = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_acme_authz_ctx_t ctx;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(urls, const char *) = CA "/authz/1";
    APR_ARRAY_PUSH(types, const char *) = "http-01";
    memset(&ctx, 0, sizeof(ctx));
    ctx.md = md_create(md_test_pool, "x.test");
    APR_ARRAY_PUSH(ctx.md->domains, const char *) = "x.test";
    ctx.challenge_types = types;
    ctx.setups = apr_array_make(md_test_pool, 1, sizeof(void *));
    ck_assert_int_eq(md_acme_authz_answer_all(acme, urls, &ctx, r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ctx.setups->nelts, 0);
    script_done(http);
}
END_TEST

START_TEST(authz_invalid_reports_challenge_error)
{
    static const fake_exchange_t script[] = {
        X_DIR, X_NONCE,
        { "POST", CA "/authz/1", 200, JSON_CT "\nReplay-Nonce: n1",
          "{\"status\":\"invalid\",\"identifier\":{\"type\":\"dns\",\"value\":\"x.test\"},"
          "\"challenges\":[{\"type\":\"http-01\",\"url\":\"" CA "/ch/1\",\"token\":\"t\","
          "\"status\":\"invalid\",\"error\":{\"type\":\"urn:ietf:params:acme:error:connection\","
          "\"detail\":\"Connection refused\"}}]}", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *urls = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_acme_authz_ctx_t ctx;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(urls, const char *) = CA "/authz/1";
    memset(&ctx, 0, sizeof(ctx));
    ctx.md = md_create(md_test_pool, "x.test");
    APR_ARRAY_PUSH(ctx.md->domains, const char *) = "x.test";
    ctx.challenge_types = urls;
    ctx.setups = apr_array_make(md_test_pool, 1, sizeof(void *));
    ck_assert_int_eq(md_acme_authz_answer_all(acme, urls, &ctx, r, md_test_pool), APR_EINVAL);
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:connection");
    ck_assert_ptr_nonnull(strstr(r->detail, "x.test: Connection refused"));
    script_done(http);
}
END_TEST

/* An order of two authorizations for an MD of one name is refused before any is
 * fetched. */
START_TEST(authz_more_than_names_refused)
{
    static const fake_exchange_t script[] = { FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    apr_array_header_t *urls = apr_array_make(md_test_pool, 2, sizeof(const char *));
    md_acme_authz_ctx_t ctx;
    md_http_t *http;
    md_acme_t *acme = acme_for(script, &http);

    APR_ARRAY_PUSH(urls, const char *) = CA "/authz/1";
    APR_ARRAY_PUSH(urls, const char *) = CA "/authz/2";
    memset(&ctx, 0, sizeof(ctx));
    ctx.md = md_create(md_test_pool, "x.test");
    APR_ARRAY_PUSH(ctx.md->domains, const char *) = "x.test";
    ctx.challenge_types = urls;
    ctx.setups = apr_array_make(md_test_pool, 1, sizeof(void *));
    ck_assert_int_eq(md_acme_authz_answer_all(acme, urls, &ctx, r, md_test_pool), APR_EINVAL);
    ck_assert_str_eq(r->detail, "the CA's order has 2 authorizations for the 1 name(s) of "
                     "x.test; it is refused");
    ck_assert_int_eq(fake_http_count(http), 0);
    script_done(http);
}
END_TEST

/* Twenty alternate chains offered, none from the preferred issuer: the first 8 are
 * fetched, then the default chain is kept. */
START_TEST(alternates_followed_at_most_8)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    fake_exchange_t *script = apr_pcalloc(md_test_pool, 14 * sizeof(*script));
    apr_array_header_t *names = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_order_t order;
    apr_array_header_t *chain;
    const char *pem, *links = "";
    md_pkey_t *key;
    md_cert_t *cert;
    md_http_t *http;
    md_acme_t *acme;
    int i;

    APR_ARRAY_PUSH(names, const char *) = "x.test";
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names, key, apr_time_from_sec(3600),
                                         md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_to_pem(&pem, cert, md_test_pool), APR_SUCCESS);
    for (i = 1; i <= 20; ++i) {
        links = apr_psprintf(md_test_pool, "%s%s<" CA "/alt/%d>;rel=\"alternate\"", links,
                             i > 1 ? ", " : "", i);
    }
    script[0] = (fake_exchange_t){ "GET", DIR_URL, 200, JSON_CT, DIR_BODY, 0 };
    script[1] = (fake_exchange_t){ "HEAD", CA "/nonce", 200, "Replay-Nonce: n-head", NULL, 0 };
    script[2] = (fake_exchange_t){ "POST", CA "/cert/1", 200, apr_pstrcat(md_test_pool,
        "Content-Type: application/pem-certificate-chain\nReplay-Nonce: n\nLink: ", links,
        NULL), pem, 0 };
    for (i = 1; i <= 8; ++i) {
        script[2 + i] = (fake_exchange_t){ "POST", apr_psprintf(md_test_pool, CA "/alt/%d", i),
            200, "Content-Type: application/pem-certificate-chain\nReplay-Nonce: n", pem, 0 };
    }
    acme = acme_for(script, &http);
    memset(&order, 0, sizeof(order));
    order.certificate = CA "/cert/1";
    ck_assert_int_eq(md_acme_order_cert(&chain, &order, acme, "Some Other Root", r,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(chain->nelts, 1);
    ck_assert_int_eq(fake_http_count(http), 11);
    script_done(http);
}
END_TEST

Suite *md_test_acme_suite(void)
{
    Suite *s = suite_create("acme");
    TCase *tc = tcase_create("acme");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, directory_read_and_cached);
    tcase_add_test(tc, directory_stale_is_read_again);
    tcase_add_test(tc, directory_not_acme);
    tcase_add_test(tc, directory_html);
    tcase_add_test(tc, directory_503_short_retry_after);
    tcase_add_test(tc, directory_429_long_retry_after);
    tcase_add_test(tc, directory_503_http_date);
    tcase_add_test(tc, transport_error);
    tcase_add_test(tc, transport_errors_named);
    tcase_add_test(tc, redirect_not_followed);
    tcase_add_test(tc, urls_from_the_ca_must_be_https);
    tcase_add_test(tc, order_http_urls_not_used);
    tcase_add_test(tc, http_directory_allows_http);
    tcase_add_test(tc, bad_nonce_retried_with_fresh_nonce);
    tcase_add_test(tc, bad_nonce_gives_up);
    tcase_add_test(tc, post_429_retry_after_short_and_long);
    tcase_add_test(tc, problem_with_subproblems);
    tcase_add_test(tc, malformed_json_wrong_type_truncated);
    tcase_add_test(tc, problem_table);
    tcase_add_test(tc, order_new_identifiers_and_profile);
    tcase_add_test(tc, order_goes_invalid);
    tcase_add_test(tc, order_poll_honours_retry_after);
    tcase_add_test(tc, poll_delay_edges);
    tcase_add_test(tc, authz_valid_is_not_challenged);
    tcase_add_test(tc, authz_invalid_reports_challenge_error);
    tcase_add_test(tc, authz_more_than_names_refused);
    tcase_add_test(tc, alternates_followed_at_most_8);
    suite_add_tcase(s, tc);
    return s;
}
