/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP: the renew-time decision, backoff, pruning, persistence, and the checks a
 * response must pass, against responses a tiny in-test responder signs. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "md_ocsp.h"
#include "md_result.h"
#include "md_util.h"
#include "md_test.h"

#define SEC(n) apr_time_from_sec(n)
#define HOUR SEC(60 * 60)
#define DAY (24 * HOUR)
#define NOW (apr_time_from_sec(1800000000))

/* ---- decisions ------------------------------------------------------------------ */

static md_ocsp_resp_t resp_of(apr_time_t from, apr_time_t until)
{
    md_ocsp_resp_t r;

    memset(&r, 0, sizeof(r));
    r.der = (const unsigned char *)"x";
    r.der_len = 1;
    r.status = MD_OCSP_GOOD;
    r.valid_from = from;
    r.valid_until = until;
    return r;
}

START_TEST(renew_at_window)
{
    md_timeslice_t pct = { 33, 100 }, abs2d = { 2 * DAY, 0 };
    md_ocsp_resp_t r = resp_of(NOW, NOW + 3 * DAY);

    /* no response: at once */
    ck_assert(md_ocsp_renew_at(&pct, NULL, 0, NOW) == NOW);
    /* 33% of 3 days before the end: about 2 days in */
    ck_assert(md_ocsp_renew_at(&pct, &r, NOW, NOW) == NOW + 3 * DAY - (3 * DAY * 33) / 100);
    /* absolute: 2 days before the end */
    ck_assert(md_ocsp_renew_at(&abs2d, &r, NOW, NOW) == NOW + DAY);
}
END_TEST

START_TEST(renew_at_floor_and_no_next_update)
{
    md_timeslice_t huge = { 10 * DAY, 0 }, pct = { 33, 100 };
    md_ocsp_resp_t r = resp_of(NOW, NOW + DAY), open_end = resp_of(NOW, 0);

    /* a window longer than the response: not a fetch loop, MD_OCSP_MIN_REFRESH apart */
    ck_assert(md_ocsp_renew_at(&huge, &r, NOW, NOW) == NOW + MD_OCSP_MIN_REFRESH);
    /* without nextUpdate: an hour after thisUpdate */
    ck_assert(md_ocsp_renew_at(&pct, &open_end, NOW, NOW) == NOW + MD_OCSP_NO_NEXT_UPDATE_REFRESH);
}
END_TEST

START_TEST(retry_delay_backs_off)
{
    ck_assert(md_ocsp_retry_delay(1, 0.0) == SEC(5));
    ck_assert(md_ocsp_retry_delay(2, 0.0) == SEC(10));
    ck_assert(md_ocsp_retry_delay(4, 0.0) == SEC(40));
    ck_assert(md_ocsp_retry_delay(50, 0.0) == SEC(600));
    ck_assert(md_ocsp_retry_delay(1, 0.5) == SEC(5) + SEC(5) / 4);
    ck_assert(md_ocsp_retry_delay(1, -0.5) == SEC(5) - SEC(5) / 4);
}
END_TEST

START_TEST(servable_and_prune)
{
    md_ocsp_resp_t r = resp_of(NOW - DAY, NOW + DAY), old = resp_of(NOW - 9 * DAY, NOW - 8 * DAY);

    ck_assert(md_ocsp_servable(&r, NOW));
    ck_assert(!md_ocsp_servable(&old, NOW));
    ck_assert(!md_ocsp_servable(NULL, NOW));
    /* kept: written recently, or still valid however old the file */
    ck_assert(!md_ocsp_should_prune(&old, NOW - DAY, 7 * DAY, NOW));
    ck_assert(!md_ocsp_should_prune(&r, NOW - 30 * DAY, 7 * DAY, NOW));
    /* removed: old and expired, or old and unreadable */
    ck_assert(md_ocsp_should_prune(&old, NOW - 8 * DAY, 7 * DAY, NOW));
    ck_assert(md_ocsp_should_prune(NULL, NOW - 8 * DAY, 7 * DAY, NOW));
}
END_TEST

START_TEST(json_round_trip)
{
    md_ocsp_resp_t r = resp_of(apr_time_from_sec(1800000000), apr_time_from_sec(1800086400)), *back;
    md_json_t *j;

    r.status = MD_OCSP_REVOKED;
    j = md_ocsp_resp_to_json(&r, md_test_pool);
    ck_assert_str_eq(md_json_gets(j, "status", NULL), "revoked");
    ck_assert_str_eq(md_json_gets(j, "valid", "from", NULL), "Fri, 15 Jan 2027 08:00:00 GMT");
    ck_assert_str_eq(md_json_gets(j, "response", NULL), "eA");
    ck_assert_int_eq(md_ocsp_resp_from_json(&back, j, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(back->status, MD_OCSP_REVOKED);
    ck_assert(back->valid_from == r.valid_from && back->valid_until == r.valid_until);
    ck_assert_int_eq((int)back->der_len, 1);
    ck_assert_str_eq(md_ocsp_file_name((const unsigned char *)"\x01\xab", 2, md_test_pool),
                     "ocsp-01ab.json");
}
END_TEST

/* ---- a CA, a certificate and a responder ----------------------------------------- */

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} test_id_t;

static void id_free(test_id_t *id)
{
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(ext);
    ck_assert(X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

/* A certificate for cn, signed by issuer (self-signed without one). */
static test_id_t make_id(const char *cn, const test_id_t *issuer, long serial, const char *ocsp_url)
{
    test_id_t id;
    X509_NAME *name;

    id.key = EVP_EC_gen("P-256");
    id.cert = X509_new();
    ck_assert_ptr_nonnull(id.key);
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), serial);
    name = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(id.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), 30 * 24 * 3600);
    X509_set_pubkey(id.cert, id.key);
    add_ext(id.cert, issuer ? issuer->cert : id.cert, NID_basic_constraints,
            issuer ? "CA:FALSE" : "critical,CA:TRUE");
    if (ocsp_url) add_ext(id.cert, issuer->cert, NID_info_access, apr_pstrcat(md_test_pool, "OCSP;URI:", ocsp_url, NULL));
    ck_assert(X509_sign(id.cert, issuer ? issuer->key : id.key, EVP_sha256()) > 0);
    return id;
}

static md_cert_t *wrap(X509 *x)
{
    ck_assert(X509_up_ref(x));
    return md_cert_wrap(x, md_test_pool);
}

typedef struct {
    const test_id_t *signer;
    int status;             /* V_OCSP_CERTSTATUS_* */
    long this_off, next_off;/* seconds from now */
    int echo_nonce, wrong_nonce, other_serial;
} answer_t;

/* What a responder would answer to the request. */
static const unsigned char *answer(apr_size_t *plen, const md_ocsp_req_t *mreq,
                                   const test_id_t *ca, const answer_t *a)
{
    const unsigned char *d;
    unsigned char *out = NULL;
    apr_size_t len;
    OCSP_REQUEST *req;
    OCSP_CERTID *cid;
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_RESPONSE *resp;
    ASN1_TIME *this_upd = X509_gmtime_adj(NULL, a->this_off);
    ASN1_TIME *next_upd = X509_gmtime_adj(NULL, a->next_off);
    const unsigned char *copy;
    int n;

    md_ocsp_req_der(&d, &len, mreq);
    req = d2i_OCSP_REQUEST(NULL, &d, (long)len);
    ck_assert_ptr_nonnull(req);
    cid = OCSP_CERTID_dup(OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0)));
    if (a->other_serial) {
        test_id_t other = make_id("other", ca, 999, NULL);
        OCSP_CERTID_free(cid);
        cid = OCSP_cert_to_id(EVP_sha1(), other.cert, ca->cert);
        id_free(&other);
    }
    OCSP_basic_add1_status(bs, cid, a->status, 0, a->status == V_OCSP_CERTSTATUS_REVOKED
                           ? this_upd : NULL, this_upd, next_upd);
    if (a->echo_nonce) OCSP_copy_nonce(bs, req);
    if (a->wrong_nonce) OCSP_basic_add1_nonce(bs, NULL, 16);
    ck_assert(OCSP_basic_sign(bs, a->signer->cert, a->signer->key, EVP_sha256(), NULL, 0));
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    n = i2d_OCSP_RESPONSE(resp, &out);
    ck_assert_int_gt(n, 0);
    copy = apr_pmemdup(md_test_pool, out, (apr_size_t)n);
    *plen = (apr_size_t)n;
    OPENSSL_free(out);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(cid);
    OCSP_REQUEST_free(req);
    ASN1_TIME_free(this_upd);
    ASN1_TIME_free(next_upd);
    return copy;
}

static apr_status_t check(md_ocsp_resp_t **presp, const answer_t *a)
{
    test_id_t ca = make_id("Test CA", NULL, 1, NULL);
    test_id_t leaf = make_id("leaf.test", &ca, 0x1234, "http://ocsp.test:8080/");
    test_id_t *signer = (test_id_t *)a->signer;
    test_id_t rogue;
    md_ocsp_req_t *req;
    answer_t use = *a;
    const unsigned char *der;
    apr_size_t len;
    apr_status_t rv;

    ck_assert_str_eq(md_ocsp_responder_url(wrap(leaf.cert), md_test_pool), "http://ocsp.test:8080/");
    ck_assert_int_eq(md_ocsp_req_create(&req, wrap(leaf.cert), wrap(ca.cert), md_test_pool),
                     APR_SUCCESS);
    rogue = make_id("Rogue CA", NULL, 2, NULL);
    use.signer = signer ? &rogue : &ca;
    der = answer(&len, req, &ca, &use);
    rv = md_ocsp_resp_check(presp, req, der, len, apr_time_now(), md_result_make(md_test_pool),
                            md_test_pool);
    id_free(&rogue);
    id_free(&leaf);
    id_free(&ca);
    return rv;
}

START_TEST(response_good)
{
    answer_t a = { NULL, V_OCSP_CERTSTATUS_GOOD, -60, 3 * 24 * 3600, 1, 0, 0 };
    md_ocsp_resp_t *r;

    ck_assert_int_eq(check(&r, &a), APR_SUCCESS);
    ck_assert_int_eq(r->status, MD_OCSP_GOOD);
    ck_assert(r->valid_until - r->valid_from == apr_time_from_sec(3 * 24 * 3600 + 60));
    ck_assert_int_gt((int)r->der_len, 100);
}
END_TEST

START_TEST(response_revoked_without_nonce)
{
    answer_t a = { NULL, V_OCSP_CERTSTATUS_REVOKED, -60, 3600, 0, 0, 0 };
    md_ocsp_resp_t *r;

    /* a responder that does not echo the nonce is fine (many never do) */
    ck_assert_int_eq(check(&r, &a), APR_SUCCESS);
    ck_assert_int_eq(r->status, MD_OCSP_REVOKED);
}
END_TEST

START_TEST(response_rejected)
{
    answer_t wrong_signer = { (const test_id_t *)1, V_OCSP_CERTSTATUS_GOOD, -60, 3600, 1, 0, 0 };
    answer_t expired = { NULL, V_OCSP_CERTSTATUS_GOOD, -7200, -3600, 1, 0, 0 };
    answer_t future = { NULL, V_OCSP_CERTSTATUS_GOOD, 3600, 7200, 1, 0, 0 };
    answer_t nonce = { NULL, V_OCSP_CERTSTATUS_GOOD, -60, 3600, 0, 1, 0 };
    answer_t other = { NULL, V_OCSP_CERTSTATUS_GOOD, -60, 3600, 1, 0, 1 };
    md_ocsp_resp_t *r;

    ck_assert_int_eq(check(&r, &wrong_signer), APR_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(check(&r, &expired), APR_EINVAL);
    ck_assert_int_eq(check(&r, &future), APR_EINVAL);
    ck_assert_int_eq(check(&r, &nonce), APR_EINVAL);
    ck_assert_int_eq(check(&r, &other), APR_EINVAL);
}
END_TEST

START_TEST(response_garbage)
{
    test_id_t ca = make_id("Test CA", NULL, 1, NULL);
    test_id_t leaf = make_id("leaf.test", &ca, 7, NULL);
    md_ocsp_req_t *req;
    md_ocsp_resp_t *r;
    md_result_t *result = md_result_make(md_test_pool);

    ck_assert_ptr_null(md_ocsp_responder_url(wrap(leaf.cert), md_test_pool));
    ck_assert_int_eq(md_ocsp_req_create(&req, wrap(leaf.cert), wrap(ca.cert), md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_ocsp_resp_check(&r, req, (const unsigned char *)"junk", 4, apr_time_now(),
                                        result, md_test_pool), APR_EINVAL);
    ck_assert_ptr_nonnull(result->detail);
    id_free(&leaf);
    id_free(&ca);
}
END_TEST

Suite *md_test_ocsp_suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *tc = tcase_create("decisions");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, renew_at_window);
    tcase_add_test(tc, renew_at_floor_and_no_next_update);
    tcase_add_test(tc, retry_delay_backs_off);
    tcase_add_test(tc, servable_and_prune);
    tcase_add_test(tc, json_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("responses");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, response_good);
    tcase_add_test(tc, response_revoked_without_nonce);
    tcase_add_test(tc, response_rejected);
    tcase_add_test(tc, response_garbage);
    suite_add_tcase(s, tc);
    return s;
}
