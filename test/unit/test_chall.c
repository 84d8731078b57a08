/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Challenge types: the dns-01 TXT value, the command line splitter for the dns-01
 * program, the per-type reasons when no challenge can be answered, and the types a
 * renewal offers. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_chall.h"
#include "md_exec.h"
#include "md_util.h"
#include "md_test.h"

/* RFC 8555 8.1's example key authorization; the value is SHA-256, base64url. */
START_TEST(dns01_txt_value)
{
    const char *v = NULL;

    ck_assert_int_eq(md_chall_dns01_txt_value(&v, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
                                              "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
                                              md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(v, "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM");
    ck_assert_int_eq(md_chall_dns01_txt_value(&v, NULL, md_test_pool), APR_EINVAL);
}
END_TEST

static const char *split_join(const char *line)
{
    apr_array_header_t *argv;

    if (md_exec_split(&argv, line, md_test_pool) != APR_SUCCESS) return NULL;
    return apr_array_pstrcat(md_test_pool, argv, '|');
}

START_TEST(split_words_and_quotes)
{
    ck_assert_str_eq(split_join("/usr/bin/dns  setup\tx"), "/usr/bin/dns|setup|x");
    ck_assert_str_eq(split_join("  prog \"a b\" 'c d' e"), "prog|a b|c d|e");
    ck_assert_str_eq(split_join("prog a\\ b 'x\\y' \"q\\\"r\""), "prog|a b|x\\y|q\"r");
    ck_assert_str_eq(split_join("prog 'it''s' ab\"cd\"ef"), "prog|its|abcdef");
    ck_assert_str_eq(split_join("prog '' x"), "prog||x");
    /* shell syntax stays literal: no expansion, no operators */
    ck_assert_str_eq(split_join("prog $HOME ; rm `x` | y"), "prog|$HOME|;|rm|`x`|||y");
}
END_TEST

START_TEST(split_rejects)
{
    ck_assert_ptr_null(split_join(""));
    ck_assert_ptr_null(split_join("   "));
    ck_assert_ptr_null(split_join("prog 'open"));
    ck_assert_ptr_null(split_join("prog \"open"));
}
END_TEST

static md_json_t *authz(const char *json)
{
    md_json_t *j = NULL;

    ck_assert_int_eq(md_json_parse(&j, json, strlen(json), md_test_pool), APR_SUCCESS);
    return j;
}

static md_acme_authz_ctx_t *actx(const char *types, const char *dns01_cmd)
{
    md_acme_authz_ctx_t *ctx = apr_pcalloc(md_test_pool, sizeof(*ctx));
    apr_array_header_t *a = apr_array_make(md_test_pool, 3, sizeof(const char *));
    char *list = apr_pstrdup(md_test_pool, types), *last, *t;
    md_t *md = md_create(md_test_pool, "x.test");

    for (t = apr_strtok(list, " ", &last); t; t = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = t;
    }
    md->dns01_cmd = dns01_cmd;
    ctx->md = md;
    ctx->challenge_types = a;
    return ctx;
}

START_TEST(reasons_wildcard)
{
    md_json_t *a = authz("{\"identifier\":{\"type\":\"dns\",\"value\":\"x.test\"},\"wildcard\":true,"
                         "\"status\":\"pending\",\"challenges\":[{\"type\":\"dns-01\",\"url\":\"u\","
                         "\"token\":\"t\"}]}");
    const char *r = md_acme_authz_no_challenge_reasons(a, actx("http-01 tls-alpn-01", NULL),
                                                       md_test_pool);

    ck_assert_msg(strstr(r, "http-01: not offered by the CA") != NULL, "%s", r);
    ck_assert_msg(strstr(r, "tls-alpn-01: not offered by the CA") != NULL, "%s", r);
    ck_assert_msg(strstr(r, "dns-01: MDChallengeDns01") != NULL, "%s", r);
}
END_TEST

START_TEST(reasons_per_type)
{
    md_json_t *a = authz("{\"identifier\":{\"type\":\"dns\",\"value\":\"x.test\"},"
                         "\"status\":\"pending\",\"challenges\":[{\"type\":\"http-01\"},"
                         "{\"type\":\"tls-alpn-01\"},{\"type\":\"dns-01\"},{\"type\":\"foo-99\"}]}");
    const char *r = md_acme_authz_no_challenge_reasons(a, actx("dns-01", "/bin/dns"),
                                                       md_test_pool);

    ck_assert_msg(strstr(r, "http-01: this server cannot answer it (port 80") != NULL, "%s", r);
    ck_assert_msg(strstr(r, "tls-alpn-01: this server cannot answer it (port 443") != NULL, "%s", r);
    ck_assert_msg(strstr(r, "dns-01: usable") != NULL, "%s", r);
    ck_assert_msg(strstr(r, "foo-99: not implemented") != NULL, "%s", r);
}
END_TEST

static const char *usable(const md_t *md, int tls_alpn01, int http01)
{
    return md_array_str_join(md_chall_usable(md, tls_alpn01, http01, md_test_pool), " ",
                             md_test_pool);
}

/* What the server can answer, in preference order; MDCAChallenges as given. */
START_TEST(usable_types)
{
    md_t *md = md_create(md_test_pool, "x.test");

    ck_assert_str_eq(usable(md, 1, 1), "tls-alpn-01 http-01");
    ck_assert_str_eq(usable(md, 0, 1), "http-01");
    ck_assert_str_eq(usable(md, 0, 0), "");
    md->dns01_cmd = "/bin/dns";
    ck_assert_str_eq(usable(md, 1, 0), "tls-alpn-01 dns-01");
    ck_assert_str_eq(usable(md, 0, 0), "dns-01");
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";
    ck_assert_str_eq(usable(md, 1, 0), "http-01");
}
END_TEST

Suite *md_test_chall_suite(void)
{
    Suite *s = suite_create("chall");
    TCase *tc = tcase_create("chall");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, dns01_txt_value);
    tcase_add_test(tc, split_words_and_quotes);
    tcase_add_test(tc, split_rejects);
    tcase_add_test(tc, reasons_wildcard);
    tcase_add_test(tc, reasons_per_type);
    tcase_add_test(tc, usable_types);
    suite_add_tcase(s, tc);
    return s;
}
