/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_farm_order against a real etcd member: the holder's order in progress (its account
 * and staged keys sealed) taken over by another node, fenced, and gone once the set is
 * published; tls-alpn-01 answers shared. */
#include <string.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_crypt.h"
#include "md_store.h"
#include "md_test.h"
#include "etcd_member.h"

static const unsigned char order_key[MD_FARM_KEY_LEN] = "0123456789abcdef0123456789abcdef";

#define ACCT_URL "https://ca.test/acct/17"
#define ORDER_URL "https://ca.test/order/42"

static md_farm_t *farm_node(const char *node)
{
    return md_test_farm(NULL, "/ordertest/", node, 60, order_key);
}

static md_pkey_t *new_key(void)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "secp256r1", NULL));
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    return pkey;
}

static const char *key_pem(md_pkey_t *pkey)
{
    const char *pem;

    ck_assert_int_eq(md_pkey_to_pem(&pem, pkey, NULL, 0, md_test_pool), APR_SUCCESS);
    return pem;
}

/* A node in the middle of a renewal: an account, an order of it, a key staged. */
static md_store_t *renewing_store(const char *name, const char **pacct_pem, const char **pkey_pem)
{
    md_store_t *store = md_test_tmp_store();
    md_pkey_t *acct = new_key(), *key = new_key();

    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_ACCOUNTS, "ACME-ca.test-0000", MD_FN_ACCT_KEY, acct,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_ACCOUNTS, "ACME-ca.test-0000", MD_FN_ACCOUNT,
                                        "{\"url\": \"" ACCT_URL "\", \"status\": \"valid\", "
                                        "\"ca-url\": \"https://ca.test/dir\"}", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_STAGING, name, "privkey.pem", key, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, name, MD_FN_ORDER,
                                        "{\"status\": \"pending\", \"url\": \"" ORDER_URL "\", "
                                        "\"account\": \"" ACCT_URL "\"}", md_test_pool), APR_SUCCESS);
    *pacct_pem = key_pem(acct);
    *pkey_pem = key_pem(key);
    return store;
}

static apr_array_header_t *order_files(void)
{
    apr_array_header_t *files = apr_array_make(md_test_pool, 3, sizeof(const char *));

    APR_ARRAY_PUSH(files, const char *) = "privkey.pem";
    APR_ARRAY_PUSH(files, const char *) = "pubcert.pem";       /* not staged yet: left out */
    return files;
}

/* Does any value under the prefix hold the text? */
static int engine_has(md_farm_t *farm, const char *text)
{
    apr_array_header_t *kvs;
    md_etcd_kv_t *kv;
    int i;

    ck_assert_int_eq(md_etcd_get_prefix(&kvs, NULL, md_farm_etcd(farm), "/ordertest/", 0, md_test_pool),
                     APR_SUCCESS);
    for (i = 0; i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, md_etcd_kv_t *);
        if (memmem(kv->value, kv->value_len, text, strlen(text))) return 1;
    }
    return 0;
}

START_TEST(farm_order_taken_over)
{
    md_farm_t *a = farm_node("node-a"), *b = farm_node("node-b");
    const char *acct_pem, *staged_pem, *node, *text;
    md_store_t *sa = renewing_store("ord.test", &acct_pem, &staged_pem), *sb = md_test_tmp_store();
    md_farm_lock_t *la, *lb;
    md_pkey_t *pkey;
    apr_array_header_t *ids;

    /* B has an account of its own under the same folder name: the taken one goes beside */
    ck_assert_int_eq(md_store_save_text(sb, MD_SG_ACCOUNTS, "ACME-ca.test-0000", MD_FN_ACCOUNT,
                                        "{\"url\": \"https://ca.test/acct/99\"}", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_take(&node, b, sb, "ord.test", md_test_pool), APR_ENOENT);
    /* 1. A renews and keeps its order in the engine, then dies (its lease goes) */
    ck_assert_int_eq(md_farm_lock_try(&la, NULL, a, "ord.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_put(la, a, sa, "ord.test", order_files(), md_test_pool), APR_SUCCESS);
    ck_assert(!engine_has(a, "PRIVATE KEY"));
    md_farm_unlock(la);
    /* 2. B takes the lock and the order: staged as A had it, account and key opened */
    ck_assert_int_eq(md_farm_lock_try(&lb, NULL, b, "ord.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_take(&node, b, sb, "ord.test", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(node, "node-a");
    ck_assert_int_eq(md_store_load_text(&text, sb, MD_SG_STAGING, "ord.test", MD_FN_ORDER, md_test_pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(text, ORDER_URL));
    ck_assert_int_eq(md_store_load_pkey(&pkey, sb, MD_SG_STAGING, "ord.test", "privkey.pem", md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(key_pem(pkey), staged_pem);
    ck_assert_int_eq(md_store_names(&ids, sb, MD_SG_ACCOUNTS, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ids->nelts, 2);
    ck_assert_int_eq(md_store_load_pkey(&pkey, sb, MD_SG_ACCOUNTS, "ACME-ca.test-0000-farm1", MD_FN_ACCT_KEY,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(key_pem(pkey), acct_pem);
    md_farm_unlock(lb);
}
END_TEST

START_TEST(farm_order_fenced_and_done)
{
    md_farm_t *a = farm_node("node-a"), *b = farm_node("node-b");
    const char *acct_pem, *staged_pem, *node;
    md_store_t *sa = renewing_store("fen.test", &acct_pem, &staged_pem), *sb = md_test_tmp_store();
    md_farm_lock_t *la, *lb;
    md_etcd_kv_t *kv;
    apr_array_header_t *files;
    apr_int64_t gen;

    ck_assert_int_eq(md_farm_lock_try(&la, NULL, a, "fen.test", md_test_pool), APR_SUCCESS);
    /* A's lease runs out while it is paused; B takes the lock */
    ck_assert_int_eq(md_etcd_get(&kv, md_farm_etcd(a), md_farm_key(a, "locks", "fen.test", md_test_pool),
                                 md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_lease_revoke(md_farm_etcd(a), kv->lease, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_lock_try(&lb, NULL, b, "fen.test", md_test_pool), APR_SUCCESS);
    /* A wakes up: its order is refused, as its drop */
    ck_assert_int_eq(md_farm_order_put(la, a, sa, "fen.test", order_files(), md_test_pool), MD_FARM_EFENCED);
    ck_assert_int_eq(md_farm_order_drop(la, a, "fen.test", md_test_pool), MD_FARM_EFENCED);
    ck_assert_int_eq(md_farm_order_take(&node, b, sb, "fen.test", md_test_pool), APR_ENOENT);
    md_farm_unlock(la);
    /* B's order is there until B publishes the set it made: then it is gone */
    ck_assert_int_eq(md_farm_order_put(lb, b, sa, "fen.test", order_files(), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_take(&node, a, md_test_tmp_store(), "fen.test", md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(node, "node-b");
    ck_assert_int_eq(md_store_save_text(sa, MD_SG_STAGING, "fen.test", MD_FN_MD, "{\"name\": \"fen.test\"}",
                                        md_test_pool), APR_SUCCESS);
    files = apr_array_make(md_test_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = MD_FN_MD;
    APR_ARRAY_PUSH(files, const char *) = "privkey.pem";
    ck_assert_int_eq(md_farm_publish(&gen, lb, sa, "fen.test", files, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_take(&node, a, md_test_tmp_store(), "fen.test", md_test_pool),
                     APR_ENOENT);
    /* a failed order is dropped as well */
    ck_assert_int_eq(md_farm_order_put(lb, b, sa, "fen.test", order_files(), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_drop(lb, b, "fen.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_order_take(&node, a, md_test_tmp_store(), "fen.test", md_test_pool),
                     APR_ENOENT);
    md_farm_unlock(lb);
}
END_TEST

START_TEST(farm_tlsalpn01_shared)
{
    md_farm_t *a = farm_node("node-a"), *b = farm_node("node-b");
    const char *authz;

    ck_assert_int_eq(md_farm_tlsalpn01_get(&authz, b, "alpn.test", md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_farm_tlsalpn01_put(a, "alpn.test", "tok.thumb", 60, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_tlsalpn01_get(&authz, b, "alpn.test", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(authz, "tok.thumb");
    /* not an http-01 answer */
    ck_assert_int_eq(md_farm_http01_get(&authz, b, "alpn.test", md_test_pool), APR_ENOENT);
}
END_TEST

Suite *md_test_farm_order_suite(void)
{
    Suite *s = suite_create("farm_order");
    TCase *tc = md_test_etcd_tcase("farm_order", "engine");

    tcase_add_test(tc, farm_order_taken_over);
    tcase_add_test(tc, farm_order_fenced_and_done);
    tcase_add_test(tc, farm_tlsalpn01_shared);
    suite_add_tcase(s, tc);
    return s;
}
