/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Runs every unit suite of the core; exits non-zero when any test fails. */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "md_store.h"

#include "md_test.h"

apr_pool_t *md_test_global_pool;
apr_pool_t *md_test_pool;

struct md_store_t *md_test_tmp_store(void)
{
    char *dir = apr_pstrdup(md_test_pool, "/tmp/md-unit-XXXXXX");
    md_store_t *store;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(md_store_open(&store, dir, 1, md_test_pool), APR_SUCCESS);
    return store;
}

struct md_cert_t *md_test_store_set(struct md_store_t *store, int group, const char *name)
{
    md_store_group_t g = (md_store_group_t)group;
    md_pkey_spec_t spec;
    md_pkey_t *pkey;
    md_cert_t *cert;
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    apr_array_header_t *names = apr_array_make(md_test_pool, 1, sizeof(const char *));

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "secp256r1", NULL));
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    APR_ARRAY_PUSH(names, const char *) = name;
    ck_assert_int_eq(md_cert_self_signed(&cert, name, names, pkey, apr_time_from_sec(86400),
                                         md_test_pool), APR_SUCCESS);
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    ck_assert_int_eq(md_store_save_pkey(store, g, name, "privkey.pem", pkey, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_chain(store, g, name, "pubcert.pem", chain, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, g, name, MD_FN_MD,
                                        apr_psprintf(md_test_pool, "{\"name\": \"%s\"}", name),
                                        md_test_pool), APR_SUCCESS);
    return cert;
}

apr_array_header_t *md_test_set_files(void)
{
    apr_array_header_t *files = apr_array_make(md_test_pool, 3, sizeof(const char *));

    APR_ARRAY_PUSH(files, const char *) = MD_FN_MD;
    APR_ARRAY_PUSH(files, const char *) = "privkey.pem";
    APR_ARRAY_PUSH(files, const char *) = "pubcert.pem";
    return files;
}

void md_test_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&md_test_pool, md_test_global_pool), APR_SUCCESS);
}

void md_test_teardown(void)
{
    apr_pool_destroy(md_test_pool);
    md_test_pool = NULL;
}

int main(void)
{
    SRunner *runner;
    int failed;

    if (apr_initialize() != APR_SUCCESS) return EXIT_FAILURE;
    if (apr_pool_create(&md_test_global_pool, NULL) != APR_SUCCESS) return EXIT_FAILURE;

    runner = srunner_create(md_test_b64_suite());
    srunner_add_suite(runner, md_test_json_suite());
    srunner_add_suite(runner, md_test_time_suite());
    srunner_add_suite(runner, md_test_crypt_suite());
    srunner_add_suite(runner, md_test_jws_suite());
    srunner_add_suite(runner, md_test_renew_suite());
    srunner_add_suite(runner, md_test_exec_suite());
    srunner_add_suite(runner, md_test_fs_suite());
    srunner_add_suite(runner, md_test_store_suite());
    srunner_add_suite(runner, md_test_ocsp_suite());
    srunner_add_suite(runner, md_test_status_suite());
    srunner_add_suite(runner, md_test_hostile_suite());
    srunner_add_suite(runner, md_test_chall_suite());
    srunner_add_suite(runner, md_test_acme_suite());
    srunner_add_suite(runner, md_test_ari_suite());
    srunner_add_suite(runner, md_test_acct_suite());
    srunner_add_suite(runner, md_test_names_suite());
    srunner_add_suite(runner, md_test_cert_check_suite());
    srunner_add_suite(runner, md_test_request_suite());
    srunner_add_suite(runner, md_test_preflight_suite());
    srunner_add_suite(runner, md_test_drive_suite());
    srunner_add_suite(runner, md_test_state_suite());
    srunner_add_suite(runner, md_test_etcd_suite());
    srunner_add_suite(runner, md_test_farm_suite());
    srunner_add_suite(runner, md_test_farm_admin_suite());
    srunner_add_suite(runner, md_test_farm_order_suite());
    srunner_add_suite(runner, md_test_farm_share_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);

    apr_pool_destroy(md_test_global_pool);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
