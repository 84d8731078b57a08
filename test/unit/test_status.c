/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Status: an MD with a served certificate and a failing renewal, through the snapshot
 * file and the view the request handlers read; the counters; the ARI certificate id. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include "md.h"
#include "md_job.h"
#include "md_json_keys.h"
#include "md_stats.h"
#include "md_acme_ari.h"
#include "md_status.h"
#include "md_store.h"
#include "md_util.h"
#include "md_test.h"
#include "md_time.h"

#define DAY apr_time_from_sec(24 * 60 * 60)

typedef struct {
    const char *dir;
    md_store_t *store;
    md_t *md;
    md_cert_t *cert;
} fixture_t;

/* A store with one MD "a.test" (and alias www.a.test) serving a 90-day certificate. */
static void fixture_make(fixture_t *fx, char *tmpl)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    md_pkey_t *key;

    fx->dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(fx->dir);
    ck_assert_int_eq(md_store_open(&fx->store, fx->dir, 1, md_test_pool), APR_SUCCESS);
    fx->md = md_create(md_test_pool, "a.test");
    APR_ARRAY_PUSH(fx->md->domains, const char *) = "a.test";
    APR_ARRAY_PUSH(fx->md->domains, const char *) = "www.a.test";
    fx->md->state = MD_S_COMPLETE;
    fx->md->watched = 1;
    fx->md->eab_kid = "kid-1";
    fx->md->eab_hmac = "c2VjcmV0";
    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_self_signed(&fx->cert, "a.test", fx->md->domains, key, 90 * DAY,
                                         md_test_pool), APR_SUCCESS);
    APR_ARRAY_PUSH(chain, md_cert_t *) = fx->cert;
    ck_assert_int_eq(md_store_save_chain(fx->store, MD_SG_DOMAINS, "a.test", "pubcert.pem", chain,
                                         md_test_pool), APR_SUCCESS);
}

static void job_failed(fixture_t *fx, const char *problem)
{
    md_job_t *job = md_job_load(fx->store, MD_SG_STAGING, "a.test", md_test_pool);
    md_result_t *result = md_result_make(md_test_pool);

    md_result_problem(result, APR_EACCES, problem, "the CA said no", NULL);
    md_job_end_run(job, result, md_test_pool);
    job->next_run = apr_time_now() + DAY;
    ck_assert_int_eq(md_job_save(job, fx->store, MD_SG_STAGING, md_test_pool), APR_SUCCESS);
}

START_TEST(md_json_has_todays_fields)
{
    char tmpl[] = "/tmp/md-test-status-XXXXXX";
    fixture_t fx;
    md_json_t *j;
    unsigned char fp[EVP_MAX_MD_SIZE];
    unsigned int fp_len = 0;

    fixture_make(&fx, tmpl);
    ck_assert_int_eq(md_status_md_json(&j, fx.md, fx.store, 0, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(j, MD_KEY_NAME, NULL), "a.test");
    ck_assert_int_eq(X509_digest(md_cert_x509(fx.cert), EVP_sha256(), fp, &fp_len), 1);
    ck_assert_str_eq(md_json_gets(j, MD_KEY_CERT, "rsa", MD_KEY_SHA256_FINGERPRINT, NULL),
                     md_hex_encode(fp, fp_len, md_test_pool));
    ck_assert_str_eq(md_json_gets(j, MD_KEY_CERT, "rsa", MD_KEY_SERIAL, NULL),
                     md_cert_serial_hex(fx.cert, md_test_pool));
    ck_assert(md_json_has(j, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_UNTIL, NULL));
    /* 33% of 90 days before the end */
    ck_assert_int_eq(md_time_parse(md_json_gets(j, MD_KEY_RENEW_AT, NULL)) / APR_USEC_PER_SEC,
                     (md_cert_not_after(fx.cert) - md_timeslice_length(&fx.md->renew_window,
                      md_cert_not_before(fx.cert), md_cert_not_after(fx.cert))) / APR_USEC_PER_SEC);
    ck_assert_str_eq(md_json_gets(j, MD_KEY_RENEW_REASON, NULL), "window");
    ck_assert(!md_json_has(j, MD_KEY_RENEWAL, NULL));
    /* the EAB secret never shows */
    ck_assert_str_eq(md_json_gets(j, MD_KEY_EAB, MD_KEY_HMAC, NULL), "***");
    ck_assert_ptr_null(strstr(md_json_dump(j, MD_JSON_COMPACT, md_test_pool), "c2VjcmV0"));
    md_dir_remove_all(fx.dir, md_test_pool);
}
END_TEST

START_TEST(snapshot_view_and_update)
{
    char tmpl[] = "/tmp/md-test-status-XXXXXX";
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    const md_status_md_t *m;
    md_status_view_t *view;
    md_status_snap_t *snap;
    apr_finfo_t info;
    fixture_t fx;
    const char *path;

    fixture_make(&fx, tmpl);
    APR_ARRAY_PUSH(mds, md_t *) = fx.md;
    path = apr_pstrcat(md_test_pool, fx.dir, "/status.json", NULL);
    snap = md_status_snap_make(path, md_test_pool);
    /* 1. the parent writes the snapshot; the view finds the MD by name and domain */
    ck_assert_int_eq(md_status_snapshot_write(snap, mds, fx.store, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_status_view_load(&view, path, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(view->mds->nelts, 1);
    m = md_status_view_find(view, "WWW.a.test", md_test_pool);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "a.test");
    ck_assert_int_eq(m->certs->nelts, 1);
    ck_assert_int_eq(m->valid_until, md_cert_not_after(fx.cert));
    ck_assert(!m->has_job);
    ck_assert_ptr_null(md_status_view_find(view, "b.test", md_test_pool));
    /* 2. a failed renewal run, counted, then the watchdog's update */
    job_failed(&fx, "urn:ietf:params:acme:error:rateLimited");
    ck_assert_uint_eq(md_stats_get(MD_STAT_ERRORS), 1);
    ck_assert_uint_eq(md_stats_get(MD_STAT_RATE_LIMITED), 1);
    md_stats_inc(MD_STAT_ORDERS);
    ck_assert_int_eq(md_status_snapshot_update(snap, fx.md, fx.store, md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(md_stats_get(MD_STAT_ERRORS), 0);   /* taken into the snapshot */
    /* within a second of the last write the file waits for the next flush that may */
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                              md_test_pool), APR_SUCCESS);
    ck_assert(md_status_view_is_current(view, &info));
    ck_assert_int_eq(md_status_snapshot_flush(snap, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                              md_test_pool), APR_SUCCESS);
    ck_assert(md_status_view_is_current(view, &info));
    ck_assert_int_eq(md_status_snapshot_flush(snap, 1, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                              md_test_pool), APR_SUCCESS);
    ck_assert(!md_status_view_is_current(view, &info));
    ck_assert_int_eq(md_status_view_load(&view, path, md_test_pool), APR_SUCCESS);
    m = md_status_view_find(view, "a.test", md_test_pool);
    ck_assert(m->has_job && m->renew && !m->finished);
    ck_assert_int_eq(m->errors, 1);
    ck_assert_str_eq(m->last_problem, "urn:ietf:params:acme:error:rateLimited");
    ck_assert_uint_eq(view->stats[MD_STAT_ERRORS], 1);
    ck_assert_uint_eq(view->stats[MD_STAT_ORDERS], 1);
    /* 3. a new start keeps the counters */
    ck_assert_int_eq(md_status_snapshot_write(md_status_snap_make(path, md_test_pool), mds, fx.store,
                                              md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_status_view_load(&view, path, md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(view->stats[MD_STAT_RATE_LIMITED], 1);
    /* 4. the public answer has certificate data only */
    ck_assert_ptr_null(strstr(md_json_dump(md_status_public_json(md_status_view_find(view, "a.test",
        md_test_pool), md_test_pool), MD_JSON_COMPACT, md_test_pool), "problem"));
    md_dir_remove_all(fx.dir, md_test_pool);
}
END_TEST

START_TEST(ari_cert_id_of_self_signed)
{
    char tmpl[] = "/tmp/md-test-status-XXXXXX";
    fixture_t fx;
    md_cert_facts_t *facts;

    fixture_make(&fx, tmpl);
    /* our self-signed certificates carry no authority key identifier */
    ck_assert_ptr_null(md_cert_ari_id(fx.cert, NULL, md_test_pool));
    ck_assert_int_eq(md_cert_facts_of(&facts, fx.cert, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(facts->aki);
    ck_assert_str_eq(facts->issuer, "/CN=a.test");
    md_dir_remove_all(fx.dir, md_test_pool);
}
END_TEST

Suite *md_test_status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, md_json_has_todays_fields);
    tcase_add_test(tc, snapshot_view_and_update);
    tcase_add_test(tc, ari_cert_id_of_self_signed);
    suite_add_tcase(s, tc);
    return s;
}
