/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Unit tests of the core: one suite per module, run together by test_main.c. */
#ifndef md_test_h
#define md_test_h

#include <check.h>
#include <apr_pools.h>

/* The process-wide pool that test_main.c creates after apr_initialize(). */
extern apr_pool_t *md_test_global_pool;

/* A fresh pool for each test, made by md_test_setup and destroyed by md_test_teardown
 * (use them with tcase_add_checked_fixture). */
extern apr_pool_t *md_test_pool;
void md_test_setup(void);
/* A store in a fresh folder under /tmp, opened for writing. */
struct md_store_t *md_test_tmp_store(void);
/* A set in group/name of store (md.json, an EC key, a self-signed certificate for the
 * name, a day long): as a renewal stages it or a server serves it. The certificate. */
struct md_cert_t *md_test_store_set(struct md_store_t *store, int group, const char *name);
/* The names of the files md_test_store_set() writes. */
struct apr_array_header_t *md_test_set_files(void);
void md_test_teardown(void);

Suite *md_test_b64_suite(void);
Suite *md_test_json_suite(void);
Suite *md_test_time_suite(void);
Suite *md_test_crypt_suite(void);
Suite *md_test_jws_suite(void);
Suite *md_test_renew_suite(void);
Suite *md_test_exec_suite(void);
Suite *md_test_store_suite(void);
Suite *md_test_fs_suite(void);
Suite *md_test_ocsp_suite(void);
Suite *md_test_status_suite(void);
Suite *md_test_hostile_suite(void);
Suite *md_test_chall_suite(void);
Suite *md_test_acme_suite(void);
Suite *md_test_ari_suite(void);
Suite *md_test_acct_suite(void);
Suite *md_test_names_suite(void);
Suite *md_test_cert_check_suite(void);
Suite *md_test_request_suite(void);
Suite *md_test_preflight_suite(void);
Suite *md_test_drive_suite(void);
Suite *md_test_state_suite(void);
Suite *md_test_etcd_suite(void);
Suite *md_test_farm_suite(void);
Suite *md_test_farm_admin_suite(void);
Suite *md_test_farm_order_suite(void);
Suite *md_test_farm_share_suite(void);

#endif
