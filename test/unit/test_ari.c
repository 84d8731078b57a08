/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ARI (RFC 9773), profiles, CA failover and preferred chains: the pure decisions, and
 * the renewalInfo exchange against the fake transport. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/x509v3.h>

#include "fake_http.h"
#include "md_acme.h"
#include "md_acme_ari.h"
#include "md_acme_order.h"
#include "md_renew.h"
#include "md_test.h"

#define CA "https://ca.test"
#define DIR_URL CA "/dir"
#define JSON_CT "Content-Type: application/json"
#define DIR_X(extra) { "GET", DIR_URL, 200, JSON_CT, "{\"newNonce\":\"" CA "/nonce\"," \
    "\"newAccount\":\"" CA "/acct\",\"newOrder\":\"" CA "/order\"" extra "}", 0 }
#define DIR_ARI DIR_X(",\"renewalInfo\":\"" CA "/ari\",\"meta\":{\"profiles\":" \
                      "{\"classic\":\"90 days\",\"ShortLived\":\"6 days\"}}")

/* RFC 9773 section 4.1's example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:
 * DE:01:C8:D4 and serial 0x87654321 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE". */
static md_cert_t *example_cert(int with_aki)
{
    static const unsigned char kid[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1,
        0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
    X509 *x = X509_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

    ck_assert_int_eq(ASN1_INTEGER_set_uint64(serial, 0x87654321u), 1);
    ck_assert_int_eq(X509_set_serialNumber(x, serial), 1);
    if (with_aki) {
        akid->keyid = ASN1_OCTET_STRING_new();
        ck_assert_int_eq(ASN1_OCTET_STRING_set(akid->keyid, kid, sizeof(kid)), 1);
        ck_assert_int_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0), 1);
    }
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(serial);
    return md_cert_wrap(x, md_test_pool);
}

START_TEST(ari_cert_id_rfc_example)
{
    ck_assert_str_eq(md_cert_ari_id(example_cert(1), NULL, md_test_pool),
                     "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    ck_assert_ptr_null(md_cert_ari_id(example_cert(0), NULL, md_test_pool));
    ck_assert_ptr_null(md_cert_ari_id(NULL, NULL, md_test_pool));
}
END_TEST

START_TEST(ari_pick_inside_window)
{
    apr_time_t now = apr_time_from_sec(1000000), s = now + apr_time_from_sec(3600),
               e = now + apr_time_from_sec(7200);

    ck_assert_int_eq(md_acme_ari_pick(s, e, now, 0.0), s);
    ck_assert_int_eq(md_acme_ari_pick(s, e, now, 0.5), s + apr_time_from_sec(1800));
    ck_assert_int_le(md_acme_ari_pick(s, e, now, 0.99999999), e);
    ck_assert_int_ge(md_acme_ari_pick(s, e, now, 0.99999999), e - apr_time_from_sec(1));
    /* a window in the past: renew now */
    ck_assert_int_eq(md_acme_ari_pick(now - apr_time_from_sec(100), now - 1, now, 0.3), now);
    /* a window that began: times before now become now */
    ck_assert_int_eq(md_acme_ari_pick(now - apr_time_from_sec(100), now + apr_time_from_sec(100),
                                      now, 0.0), now);
    ck_assert_int_eq(md_acme_ari_pick(e, s, now, 0.5), 0);
    ck_assert_int_eq(md_acme_ari_pick(0, e, now, 0.5), 0);
}
END_TEST

START_TEST(ari_get_and_renew_at)
{
    static const fake_exchange_t script[] = {
        DIR_ARI,
        { "GET", CA "/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", 200,
          JSON_CT "\nRetry-After: 21600",
          "{\"suggestedWindow\":{\"start\":\"2031-01-02T04:00:00Z\","
          "\"end\":\"2031-01-03T04:00:00Z\"},\"explanationURL\":\"https://ca.test/why\"}", 0 },
        { "GET", CA "/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", 200, JSON_CT,
          "{\"suggestedWindow\":{\"start\":\"2031-01-02T04:00:00Z\","
          "\"end\":\"2031-01-03T04:00:00Z\"}}", 0 },
        FAKE_END };
    md_http_t *http = fake_http_create(script, md_test_pool);
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_ari_t ari;
    md_acme_t *acme;
    apr_time_t at;

    ck_assert_int_eq(md_acme_create(&acme, DIR_URL, http, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(ari.start), 1925092800);
    ck_assert_int_eq(apr_time_sec(ari.end), 1925179200);
    ck_assert_str_eq(ari.explanation, "https://ca.test/why");
    ck_assert_int_ge(ari.retry_after, apr_time_now() + apr_time_from_sec(21500));
    ck_assert_int_ge(r->retry_after, apr_time_now() + apr_time_from_sec(21500));
    ck_assert_int_eq(md_acme_ari_renew_at(&at, acme, example_cert(1), NULL, r, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_ge(apr_time_sec(at), 1925092800);
    ck_assert_int_le(apr_time_sec(at), 1925179200);
    ck_assert_int_eq(fake_http_left(http), 0);
}
END_TEST

START_TEST(ari_not_offered_and_bad_answers)
{
    static const fake_exchange_t none[] = { DIR_X(""), FAKE_END };
    static const fake_exchange_t bad[] = {
        DIR_ARI,
        { "GET", NULL, 200, JSON_CT, "{\"suggestedWindow\":{\"start\":\"x\"}}", 0 },
        { "GET", NULL, 200, JSON_CT, "{\"suggestedWindow\":{\"start\":\"2031-01-03T04:00:00Z\","
          "\"end\":\"2031-01-02T04:00:00Z\"}}", 0 },
        { "GET", NULL, 404, NULL, "not found", 0 },
        { "GET", NULL, 503, "Retry-After: 7200", "later", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    md_acme_ari_t ari;
    md_acme_t *acme;

    md_acme_create(&acme, DIR_URL, fake_http_create(none, md_test_pool), md_test_pool);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool),
                     APR_ENOTIMPL);
    md_acme_create(&acme, DIR_URL, fake_http_create(bad, md_test_pool), md_test_pool);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool), APR_ENOENT);
    ck_assert_int_ne(md_acme_ari_get(&ari, acme, md_cert_ari_id(example_cert(1), NULL, md_test_pool), r, md_test_pool), APR_SUCCESS);
    ck_assert_int_ge(r->retry_after, apr_time_now() + apr_time_from_sec(7100));
}
END_TEST

/* "renewalInfo": "" names no resource (it was read one byte before the string); a "/"
 * at the end is not doubled. */
START_TEST(ari_renewal_info_short_strings)
{
    static const fake_exchange_t empty[] = { DIR_X(",\"renewalInfo\":\"\""), FAKE_END };
    static const fake_exchange_t slash[] = {
        DIR_X(",\"renewalInfo\":\"" CA "/ari/\""),
        { "GET", CA "/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", 404, NULL, "", 0 },
        FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    const char *id = md_cert_ari_id(example_cert(1), NULL, md_test_pool);
    md_acme_ari_t ari;
    md_http_t *http;
    md_acme_t *acme;

    http = fake_http_create(empty, md_test_pool);
    md_acme_create(&acme, DIR_URL, http, md_test_pool);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, id, r, md_test_pool), APR_ENOTIMPL);
    ck_assert_ptr_null(acme->renewal_info);
    ck_assert_int_eq(fake_http_left(http), 0);
    http = fake_http_create(slash, md_test_pool);
    md_acme_create(&acme, DIR_URL, http, md_test_pool);
    ck_assert_int_eq(md_acme_ari_get(&ari, acme, id, r, md_test_pool), APR_ENOENT);
    ck_assert_msg(fake_http_error(http) == NULL, "%s", fake_http_error(http));
    ck_assert_int_eq(fake_http_left(http), 0);
}
END_TEST

START_TEST(profile_select)
{
    static const fake_exchange_t script[] = { DIR_ARI, FAKE_END };
    static const fake_exchange_t none[] = { DIR_X(""), FAKE_END };
    md_result_t *r = md_result_make(md_test_pool);
    const char *prof;
    md_acme_t *acme;

    md_acme_create(&acme, DIR_URL, fake_http_create(script, md_test_pool), md_test_pool);
    ck_assert_int_eq(md_acme_profile_select(&prof, acme, NULL, 1, r, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(prof);
    ck_assert_int_eq(md_acme_profile_select(&prof, acme, "shortlived", 1, r, md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(prof, "ShortLived");          /* as the CA spells it */
    ck_assert_int_eq(md_acme_profile_select(&prof, acme, "tlsserver", 0, r, md_test_pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(prof);
    ck_assert_int_eq(md_acme_profile_select(&prof, acme, "tlsserver", 1, r, md_test_pool),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "does not offer the profile 'tlsserver'"));
    ck_assert_ptr_nonnull(strstr(r->detail, "classic"));
    md_acme_create(&acme, DIR_URL, fake_http_create(none, md_test_pool), md_test_pool);
    ck_assert_int_eq(md_acme_profile_select(&prof, acme, "classic", 1, r, md_test_pool),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(r->detail, "it offers: none"));
}
END_TEST

START_TEST(ca_failover_pick)
{
    apr_array_header_t *urls = apr_array_make(md_test_pool, 3, sizeof(const char *));

    ck_assert_ptr_null(md_renew_ca_pick(urls, 5, 13));
    APR_ARRAY_PUSH(urls, const char *) = "a";
    ck_assert_str_eq(md_renew_ca_pick(urls, 100, 13), "a");
    APR_ARRAY_PUSH(urls, const char *) = "b";
    APR_ARRAY_PUSH(urls, const char *) = "c";
    ck_assert_str_eq(md_renew_ca_pick(urls, 0, 13), "a");
    ck_assert_str_eq(md_renew_ca_pick(urls, 12, 13), "a");
    ck_assert_str_eq(md_renew_ca_pick(urls, 13, 13), "b");
    ck_assert_str_eq(md_renew_ca_pick(urls, 25, 13), "b");
    ck_assert_str_eq(md_renew_ca_pick(urls, 26, 13), "c");
    ck_assert_str_eq(md_renew_ca_pick(urls, 39, 13), "a");     /* round robin */
    ck_assert_str_eq(md_renew_ca_pick(urls, 2, 1), "c");
    ck_assert_str_eq(md_renew_ca_pick(urls, 2, 0), "c");       /* failover < 1 acts as 1 */
    ck_assert_str_eq(md_renew_ca_pick(urls, -4, 13), "a");
}
END_TEST

static md_cert_t *issued_by(const char *issuer_cn)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)issuer_cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_NAME_free(n);
    return md_cert_wrap(x, md_test_pool);
}

START_TEST(chain_issuer_match)
{
    apr_array_header_t *chain = apr_array_make(md_test_pool, 2, sizeof(md_cert_t *));

    APR_ARRAY_PUSH(chain, md_cert_t *) = issued_by("Pebble Intermediate CA 1a2b");
    APR_ARRAY_PUSH(chain, md_cert_t *) = issued_by("ISRG Root X1");
    ck_assert_int_eq(md_acme_chain_has_issuer(chain, "isrg root x1", md_test_pool), 1);
    ck_assert_int_eq(md_acme_chain_has_issuer(chain, "Pebble Intermediate CA 1a2b", md_test_pool), 1);
    ck_assert_int_eq(md_acme_chain_has_issuer(chain, "ISRG Root X2", md_test_pool), 0);
    ck_assert_int_eq(md_acme_chain_has_issuer(NULL, "x", md_test_pool), 0);
}
END_TEST

Suite *md_test_ari_suite(void)
{
    Suite *s = suite_create("ari");
    TCase *tc = tcase_create("ari");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, ari_cert_id_rfc_example);
    tcase_add_test(tc, ari_pick_inside_window);
    tcase_add_test(tc, ari_get_and_renew_at);
    tcase_add_test(tc, ari_not_offered_and_bad_answers);
    tcase_add_test(tc, ari_renewal_info_short_strings);
    tcase_add_test(tc, profile_select);
    tcase_add_test(tc, ca_failover_pick);
    tcase_add_test(tc, chain_issuer_match);
    suite_add_tcase(s, tc);
    return s;
}
