/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* What the farm shares besides sets, against a real etcd member: OCSP responses (one
 * fetch per certificate for all nodes, the others take it, a busy lock, an engine that
 * does not answer, a response that is not the certificate's) and ACME accounts (one
 * registration per CA, its key sealed, the others take it). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "md_farm.h"
#include "md_crypt.h"
#include "md_json.h"
#include "md_util.h"
#include "md_test.h"
#include "etcd_member.h"

#define SEC(n) apr_time_from_sec(n)

static const unsigned char farm_key[MD_FARM_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char other_key[MD_FARM_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static md_farm_t *farm_at(const char *url, const char *node, const unsigned char *key)
{
    return md_test_farm(url, "/sharetest/", node, 30, key);
}

static md_farm_t *farm_as(const char *node)
{
    return farm_at(md_test_etcd_member.url, node, farm_key);
}

/* ---- the decision ------------------------------------------------------------------ */

static md_ocsp_resp_t *resp_at(apr_time_t from, apr_time_t until)
{
    md_ocsp_resp_t *r = apr_pcalloc(md_test_pool, sizeof(*r));

    r->der = (const unsigned char *)"x";
    r->der_len = 1;
    r->status = MD_OCSP_GOOD;
    r->valid_from = from;
    r->valid_until = until;
    return r;
}

START_TEST(ocsp_usable_decision)
{
    apr_time_t now = SEC(1800000000);
    md_timeslice_t window;
    md_farm_ocsp_t shared = { NULL, 0, "node-a" };

    ck_assert_ptr_null(md_timeslice_parse(&window, "40s", "d"));
    /* fetched 2 s ago, valid a minute, due 20 s after thisUpdate */
    shared.resp = resp_at(now - SEC(2), now + SEC(58));
    shared.fetched_at = now - SEC(2);
    ck_assert(md_farm_ocsp_usable(&shared, NULL, &window, now));
    ck_assert(md_farm_ocsp_usable(&shared, resp_at(now - SEC(30), now + SEC(30)), &window, now));
    /* not newer than ours: ours is due, so is that one */
    ck_assert(!md_farm_ocsp_usable(&shared, resp_at(now - SEC(2), now + SEC(58)), &window, now));
    /* due itself: the farm needs a new one, not this one */
    ck_assert(!md_farm_ocsp_usable(&shared, NULL, &window, now + SEC(25)));
    /* no longer valid, or none */
    shared.resp = resp_at(now - SEC(120), now - SEC(60));
    ck_assert(!md_farm_ocsp_usable(&shared, NULL, &window, now));
    ck_assert(!md_farm_ocsp_usable(NULL, NULL, &window, now));
}
END_TEST

/* ---- a CA, a certificate and what its responder says ------------------------------ */

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
    md_cert_t *wrapped;
} pki_t;

static pki_t pki_make(const char *cn, const pki_t *ca, long serial)
{
    pki_t id;
    X509_NAME *name;
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    id.key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(id.key);
    id.cert = X509_new();
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), serial);
    name = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(id.cert, ca ? X509_get_subject_name(ca->cert) : name);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), 86400);
    X509_set_pubkey(id.cert, id.key);
    X509V3_set_ctx(&ctx, ca ? ca->cert : id.cert, id.cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "CA:FALSE" : "critical,CA:TRUE");
    ck_assert(X509_add_ext(id.cert, ext, -1));
    X509_EXTENSION_free(ext);
    ck_assert(X509_sign(id.cert, ca ? ca->key : id.key, EVP_sha256()) > 0);
    ck_assert(X509_up_ref(id.cert));
    id.wrapped = md_cert_wrap(id.cert, md_test_pool);
    return id;
}

static void pki_free(pki_t *id)
{
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
}

/* The responder of the test: a good response for leaf, signed by its CA, valid a minute. */
typedef struct {
    const pki_t *ca, *leaf;
    int fetches;
} responder_t;

static apr_status_t respond(md_ocsp_resp_t **presp, void *baton, md_result_t *result, apr_pool_t *p)
{
    responder_t *r = baton;
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *cid = OCSP_cert_to_id(EVP_sha1(), r->leaf->cert, r->ca->cert);
    ASN1_TIME *from = X509_gmtime_adj(NULL, -10), *until = X509_gmtime_adj(NULL, 60);
    OCSP_RESPONSE *resp;
    md_ocsp_req_t *req;
    unsigned char *der = NULL;
    int len;
    apr_status_t rv;

    ++r->fetches;
    OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_GOOD, 0, NULL, from, until);
    ck_assert(OCSP_basic_sign(bs, r->ca->cert, r->ca->key, EVP_sha256(), NULL, 0));
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    len = i2d_OCSP_RESPONSE(resp, &der);
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(md_ocsp_req_for_check(&req, r->leaf->wrapped, r->ca->wrapped, p), APR_SUCCESS);
    rv = md_ocsp_resp_check(presp, req, der, (apr_size_t)len, apr_time_now(), result, p);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(cid);
    ASN1_TIME_free(from);
    ASN1_TIME_free(until);
    return rv;
}

static md_farm_ocsp_req_t ocsp_req(md_farm_t *farm, const char *hexid, const pki_t *ca, const pki_t *leaf,
                                   responder_t *r, const md_timeslice_t *window)
{
    md_farm_ocsp_req_t req;

    memset(&req, 0, sizeof(req));
    req.farm = farm;
    req.hexid = hexid;
    req.cert = leaf->wrapped;
    req.issuer = ca->wrapped;
    req.window = window;
    req.fetch = respond;
    req.baton = r;
    return req;
}

START_TEST(ocsp_one_fetch_for_the_farm)
{
    pki_t ca = pki_make("Share CA", NULL, 1), leaf = pki_make("leaf.test", &ca, 0x77);
    responder_t r = { &ca, &leaf, 0 };
    md_timeslice_t window;
    md_farm_ocsp_req_t req;
    md_farm_ocsp_outcome_t out;
    md_farm_ocsp_t *shared;
    md_ocsp_resp_t *resp;
    md_farm_lock_t *lock;
    md_json_t *view;
    md_result_t *result = md_result_make(md_test_pool);

    ck_assert_ptr_null(md_timeslice_parse(&window, "40s", "d"));
    /* 1. node A: nothing in the farm, A fetches and publishes */
    req = ocsp_req(farm_as("node-a"), "aa01", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_FETCHED);
    ck_assert_int_eq(out.published, APR_SUCCESS);
    ck_assert_int_eq(r.fetches, 1);
    ck_assert_int_eq(resp->status, MD_OCSP_GOOD);
    ck_assert_int_eq(md_farm_ocsp_get(&shared, farm_as("node-x"), "aa01", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(shared->fetched_by, "node-a");
    ck_assert_uint_eq(shared->resp->der_len, resp->der_len);
    /* 2. nodes B and C take it: the responder saw one request */
    req = ocsp_req(farm_as("node-b"), "aa01", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_TAKEN);
    ck_assert_str_eq(out.by, "node-a");
    ck_assert_int_eq(resp->status, MD_OCSP_GOOD);
    req = ocsp_req(farm_as("node-c"), "aa01", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_TAKEN);
    ck_assert_int_eq(r.fetches, 1);
    /* 3. a node whose own is the farm's (both due) fetches a new one */
    req.own = resp;
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert(out.how == MD_FARM_OCSP_FETCHED || out.how == MD_FARM_OCSP_TAKEN);
    /* 4. another certificate's fetch under way: busy, no request */
    ck_assert_int_eq(md_farm_lock_try(&lock, NULL, farm_as("node-a"), "ocsp/bb02", md_test_pool), APR_SUCCESS);
    r.fetches = 0;
    req = ocsp_req(farm_as("node-b"), "bb02", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_BUSY);
    ck_assert_str_eq(out.by, "node-a");
    ck_assert_ptr_null(resp);
    ck_assert_int_eq(r.fetches, 0);
    /*    the farm's view (status) lists MDs' locks only, not a certificate's */
    ck_assert_int_eq(md_farm_view_read(&view, NULL, farm_as("node-x"), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq((int)md_json_keys(view, md_test_pool, "mds", NULL)->nelts, 0);
    md_farm_unlock(lock);
    /* 5. an engine that does not answer: the node fetches alone */
    req = ocsp_req(farm_at("http://127.0.0.1:1", "node-d", farm_key), "bb02", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_ALONE);
    ck_assert_int_ne(out.engine, APR_SUCCESS);
    ck_assert_int_eq(r.fetches, 1);
    ck_assert_int_eq(resp->status, MD_OCSP_GOOD);
    pki_free(&leaf);
    pki_free(&ca);
}
END_TEST

START_TEST(ocsp_foreign_response_not_taken)
{
    pki_t ca = pki_make("Share CA", NULL, 1), leaf = pki_make("leaf.test", &ca, 0x77);
    pki_t other = pki_make("other.test", &ca, 0x78);
    responder_t r_other = { &ca, &other, 0 }, r = { &ca, &leaf, 0 };
    md_timeslice_t window;
    md_farm_ocsp_req_t req;
    md_farm_ocsp_outcome_t out;
    md_ocsp_resp_t *resp;
    md_result_t *result = md_result_make(md_test_pool);

    ck_assert_ptr_null(md_timeslice_parse(&window, "40s", "d"));
    /* the other certificate's response lands under leaf's id (a bug, or a hostile writer) */
    req = ocsp_req(farm_as("node-a"), "cc03", &ca, &other, &r_other, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_FETCHED);
    /* leaf's node does not staple it: it checks, finds it is not leaf's, fetches its own */
    req = ocsp_req(farm_as("node-b"), "cc03", &ca, &leaf, &r, &window);
    ck_assert_int_eq(md_farm_ocsp_obtain(&resp, &out, &req, result, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(out.how, MD_FARM_OCSP_FETCHED);
    ck_assert_int_eq(r.fetches, 1);
    pki_free(&other);
    pki_free(&leaf);
    pki_free(&ca);
}
END_TEST

/* ---- accounts ---------------------------------------------------------------------- */

static int etcd_dump_has(const char *text)
{
    static char out[256 * 1024];
    const char *args[] = { "get", "--prefix", "/sharetest/", NULL };
    size_t got;

    ck_assert_int_eq(md_test_etcdctl(&md_test_etcd_member, out, sizeof(out), &got, args), 0);
    return memmem(out, got, text, strlen(text)) != NULL;
}

START_TEST(acct_one_registration_per_ca)
{
    static const char ca_url[] = "https://ca.test/dir";
    static const char json[] = "{\"url\":\"https://ca.test/acct/1\",\"ca-url\":\"https://ca.test/dir\"}";
    md_acme_acct_share_t *sa, *sb, *sc;
    md_pkey_spec_t spec;
    md_pkey_t *key, *got;
    const char *text, *pem, *got_pem;
    apr_time_t start;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "secp256r1", NULL));
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_acct_share(&sa, farm_as("node-a"), SEC(1), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_acct_share(&sb, farm_as("node-b"), SEC(1), md_test_pool), APR_SUCCESS);
    /* 1. A finds none and may register: it holds the CA's lock */
    ck_assert_int_eq(sa->acquire(&text, &got, sa, ca_url, NULL, md_test_pool), APR_ENOENT);
    /* 2. B meanwhile waits for it, up to its wait, then registers alone */
    start = apr_time_now();
    ck_assert_int_eq(sb->acquire(&text, &got, sb, ca_url, NULL, md_test_pool), APR_EBUSY);
    ck_assert_int_ge(apr_time_now() - start, SEC(1));
    /* 3. A registered: published, the key sealed */
    sa->release(sa, json, key, md_test_pool);
    ck_assert(!etcd_dump_has("PRIVATE KEY"));
    ck_assert(etcd_dump_has("https://ca.test/acct/1"));
    /* 4. B takes it: the same account and key */
    ck_assert_int_eq(sb->acquire(&text, &got, sb, ca_url, NULL, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, json);
    ck_assert_int_eq(md_pkey_to_pem(&pem, key, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_to_pem(&got_pem, got, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(pem, got_pem);
    /* 5. another EAB binding is another account; another farm key opens nothing */
    ck_assert_int_eq(sb->acquire(&text, &got, sb, ca_url, "kid-2", md_test_pool), APR_ENOENT);
    sb->release(sb, NULL, NULL, md_test_pool);
    ck_assert_int_eq(md_farm_acct_share(&sc, farm_at(md_test_etcd_member.url, "node-c", other_key), SEC(1),
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(sc->acquire(&text, &got, sc, ca_url, NULL, md_test_pool), APR_EACCES);
    ck_assert_str_ne(md_farm_acct_ca_key(ca_url, NULL, md_test_pool),
                     md_farm_acct_ca_key(ca_url, "kid-2", md_test_pool));
}
END_TEST

START_TEST(acct_publish_fenced)
{
    md_farm_t *a = farm_as("node-a");
    md_farm_lock_t *lock;
    md_pkey_spec_t spec;
    md_pkey_t *key;
    const char *ca_key = md_farm_acct_ca_key("https://fenced.test/dir", NULL, md_test_pool);
    const char *text;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "secp256r1", NULL));
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_lock_try(&lock, NULL, a, apr_pstrcat(md_test_pool, "account/", ca_key, NULL),
                                      md_test_pool), APR_SUCCESS);
    /* the lock gone (its key deleted, as when its lease ran out): the write is refused */
    ck_assert_int_eq(md_etcd_delete(md_farm_etcd(a), md_farm_key(a, "locks/account", ca_key, md_test_pool), 0,
                                    md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_acct_publish(lock, a, ca_key, "{}", key, md_test_pool), MD_FARM_EFENCED);
    ck_assert_int_eq(md_farm_acct_get(&text, &key, a, ca_key, md_test_pool), APR_ENOENT);
    md_farm_unlock(lock);
}
END_TEST

Suite *md_test_farm_share_suite(void)
{
    Suite *s = suite_create("farm_share");
    TCase *tc;

    tc = tcase_create("decide");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, ocsp_usable_decision);
    suite_add_tcase(s, tc);
    tc = md_test_etcd_tcase("farm_share", "engine");
    if (tc) {
        tcase_add_test(tc, ocsp_one_fetch_for_the_farm);
        tcase_add_test(tc, ocsp_foreign_response_not_taken);
        tcase_add_test(tc, acct_one_registration_per_ca);
        tcase_add_test(tc, acct_publish_fenced);
        suite_add_tcase(s, tc);
    }
    return s;
}
