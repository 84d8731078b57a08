/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The state of an MD from its served files (md_state.c): complete, missing, torn, for
 * too few names, asking for a new certificate, and what the dry run leaves alone. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_crypt.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_state.h"
#include "md_store.h"
#include "md_test.h"

#define DAY apr_time_from_sec(24 * 60 * 60)

static md_store_t *store;
static md_pkey_spec_t ec_spec = { MD_PKEY_EC, 0, "secp256r1" };

static void state_setup(void)
{
    md_test_setup();
    store = md_test_tmp_store();
}

/* An MD x.test with www.x.test and one P-256 key spec. */
static md_t *md_make(void)
{
    md_t *md = md_create(md_test_pool, "x.test");

    APR_ARRAY_PUSH(md->domains, const char *) = "x.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "www.x.test";
    APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) = &ec_spec;
    return md;
}

static const char *file_of(const char *aspect)
{
    return md_pkey_file_name(&ec_spec, aspect, md_test_pool);
}

/* A key and a self-signed certificate for names in domains/x.test/. */
static md_cert_t *serve(const apr_array_header_t *names)
{
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    md_pkey_t *key;
    md_cert_t *cert;

    ck_assert_int_eq(md_pkey_gen(&key, &ec_spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names, key, 90 * DAY, md_test_pool),
                     APR_SUCCESS);
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    ck_assert_int_eq(md_store_save_chain(store, MD_SG_DOMAINS, "x.test", file_of(MD_FN_PUBCERT),
                                         chain, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_DOMAINS, "x.test", file_of(MD_FN_PRIVKEY),
                                        key, md_test_pool), APR_SUCCESS);
    return cert;
}

START_TEST(nothing_served_is_incomplete)
{
    md_t *md = md_make();
    const char *stored;

    md_state_update(md, store, 0, &stored, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
    ck_assert_str_eq(md->state_descr, "certificate(secp256r1) is missing");
    ck_assert_ptr_null(stored);
    ck_assert_int_eq(md->served->nelts, 1);
    ck_assert_ptr_null(APR_ARRAY_IDX(md->served, 0, md_served_t *));
}
END_TEST

START_TEST(served_set_is_complete_and_read_once)
{
    md_t *md = md_make();
    const md_served_t *served;
    md_json_t *j = md_to_json(md, md_test_pool);
    const char *stored;

    md_json_sets("ACME-ca.test-0001", j, MD_KEY_CA, MD_KEY_ACCOUNT, NULL);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_DOMAINS, "x.test", MD_FN_MD, j, md_test_pool),
                     APR_SUCCESS);
    serve(md->domains);
    md_state_update(md, store, 0, &stored, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    ck_assert_ptr_nonnull(stored);
    ck_assert_str_eq(md->ca_account, "ACME-ca.test-0001");
    ck_assert_int_eq(md->served->nelts, 1);
    served = APR_ARRAY_IDX(md->served, 0, const md_served_t *);
    ck_assert_ptr_nonnull(served);
    ck_assert(served->not_after > apr_time_now() + 89 * DAY);
}
END_TEST

START_TEST(certificate_for_fewer_names_is_incomplete)
{
    md_t *md = md_make();
    apr_array_header_t *one = apr_array_make(md_test_pool, 1, sizeof(const char *));

    APR_ARRAY_PUSH(one, const char *) = "x.test";
    serve(one);
    md_state_update(md, store, 0, NULL, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
    ck_assert_str_eq(md->state_descr, "certificate(secp256r1) does not cover all domains.");
}
END_TEST

/* A certificate file cut off in the middle: reported as damage, and the MD is treated as
 * having none (mod_ssl is not handed it), in the dry run as in the serving pass. */
START_TEST(torn_certificate_is_damage)
{
    md_t *md = md_make();
    const char *pem;
    int dry_run;

    serve(md->domains);
    ck_assert_int_eq(md_store_load_text(&pem, store, MD_SG_DOMAINS, "x.test",
                                        file_of(MD_FN_PUBCERT), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_DOMAINS, "x.test", file_of(MD_FN_PUBCERT),
                                        apr_pstrndup(md_test_pool, pem, strlen(pem) / 2),
                                        md_test_pool), APR_SUCCESS);
    for (dry_run = 0; dry_run < 2; ++dry_run) {
        md_state_update(md, store, dry_run, NULL, md_test_pool, md_test_pool);
        ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
        ck_assert_str_eq(md->state_descr, "certificate(secp256r1) is missing");
    }
    ck_assert_int_gt(md_store_damage_get(store, MD_SG_DOMAINS, "x.test", md_test_pool)->nelts, 0);
}
END_TEST

/* The dry run looks at the files only: complete, but nothing parsed into md->served. */
START_TEST(dry_run_reads_no_certificate)
{
    md_t *md = md_make();

    serve(md->domains);
    md_state_update(md, store, 1, NULL, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    ck_assert_ptr_null(md->served);
}
END_TEST

/* The configuration asks for a name the stored MD did not have: a new certificate. */
START_TEST(changed_names_need_a_new_certificate)
{
    md_t *md = md_make();

    serve(md->domains);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_DOMAINS, "x.test", MD_FN_MD,
                                        md_to_json(md, md_test_pool), md_test_pool), APR_SUCCESS);
    md_state_update(md, store, 0, NULL, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    APR_ARRAY_PUSH(md->domains, const char *) = "mail.x.test";
    md_state_update(md, store, 0, NULL, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
}
END_TEST

/* Static files (MDCertificateFile) are complete without a store. */
START_TEST(static_files_are_complete)
{
    md_t *md = md_make();

    APR_ARRAY_PUSH(md->cert_files, const char *) = "/nonexistent/cert.pem";
    md_state_update(md, NULL, 1, NULL, md_test_pool, md_test_pool);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
}
END_TEST

Suite *md_test_state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("state");

    tcase_add_checked_fixture(tc, state_setup, md_test_teardown);
    tcase_add_test(tc, nothing_served_is_incomplete);
    tcase_add_test(tc, served_set_is_complete_and_read_once);
    tcase_add_test(tc, certificate_for_fewer_names_is_incomplete);
    tcase_add_test(tc, torn_certificate_is_damage);
    tcase_add_test(tc, dry_run_reads_no_certificate);
    tcase_add_test(tc, changed_names_need_a_new_certificate);
    tcase_add_test(tc, static_files_are_complete);
    suite_add_tcase(s, tc);
    return s;
}
