/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_farm_admin against a real etcd member: the view of generations, lock holders and
 * nodes in one request, a node's record written only when what it serves changed, an
 * active set (domains/) published as mdctl farm push does, its certificates listed. */
#include <string.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_crypt.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_store.h"
#include "md_test.h"
#include "etcd_member.h"

static const unsigned char farm_key[MD_FARM_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static md_farm_t *farm_as(const char *node)
{
    return md_test_farm(NULL, "/admintest/", node, 0, farm_key);
}

/* An active set in domains/<name> of a fresh store, as a single server has it. */
static md_store_t *active_store(const char *name, const char **pserial)
{
    md_store_t *store = md_test_tmp_store();

    *pserial = md_cert_serial_hex(md_test_store_set(store, MD_SG_DOMAINS, name), md_test_pool);
    return store;
}

static apr_hash_t *serving(const char *name, apr_int64_t gen)
{
    apr_hash_t *h = apr_hash_make(md_test_pool);
    apr_int64_t *g = apr_palloc(md_test_pool, sizeof(*g));

    *g = gen;
    if (name) apr_hash_set(h, name, APR_HASH_KEY_STRING, g);
    return h;
}

static md_json_t *node_in(const md_json_t *view, const char *node)
{
    md_json_t *nodes = md_json_getj(view, MD_KEY_NODES, NULL);
    apr_size_t i;

    for (i = 0; nodes && i < md_json_array_len(nodes); ++i) {
        const char *n = md_json_gets(md_json_array_at(nodes, i), MD_KEY_NODE, NULL);
        if (n && !strcmp(n, node)) return md_json_array_at(nodes, i);
    }
    return NULL;
}

START_TEST(farm_admin_view)
{
    md_farm_t *a = farm_as("node-a"), *b = farm_as("node-b");
    const char *serial;
    md_store_t *sa = active_store("v.test", &serial);
    md_farm_node_t *na = md_farm_node_make(md_test_pool), *nb = md_farm_node_make(md_test_pool);
    md_farm_lock_t *lock, *held;
    md_json_t *view, *certs, *n;
    apr_hash_t *gens;
    apr_int64_t gen;

    /* 1. a single server's active set published, as mdctl farm push does */
    ck_assert_int_eq(md_farm_lock_try(&lock, NULL, a, "v.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_publish_from(&gen, lock, sa, MD_SG_DOMAINS, "v.test", md_test_set_files(),
                                          md_test_pool), APR_SUCCESS);
    md_farm_unlock(lock);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(md_farm_local_generation(sa, "v.test", md_test_pool), 1);
    /* 2. another MD being renewed by node-b; both nodes recorded */
    ck_assert_int_eq(md_farm_lock_try(&held, NULL, b, "w.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_node_update(na, a, serving("v.test", 1), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_node_update(nb, b, serving(NULL, 0), md_test_pool), APR_SUCCESS);
    /* 3. one read shows it all, and the generations the poll needs */
    ck_assert_int_eq(md_farm_view_read(&view, &gens, b, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_json_getl(view, MD_KEY_MDS, "v.test", MD_KEY_GENERATION, NULL), 1);
    ck_assert_ptr_null(md_json_gets(view, MD_KEY_MDS, "v.test", MD_KEY_LOCK_HOLDER, NULL));
    ck_assert_str_eq(md_json_gets(view, MD_KEY_MDS, "w.test", MD_KEY_LOCK_HOLDER, NULL), "node-b");
    ck_assert_int_eq(*(apr_int64_t *)apr_hash_get(gens, "v.test", APR_HASH_KEY_STRING), 1);
    ck_assert_ptr_null(apr_hash_get(gens, "w.test", APR_HASH_KEY_STRING));
    n = node_in(view, "node-a");
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(md_json_getl(n, MD_KEY_SERVES, "v.test", NULL), 1);
    ck_assert_ptr_nonnull(md_json_gets(n, MD_KEY_UPDATED, NULL));
    ck_assert_ptr_nonnull(node_in(view, "node-b"));
    /* 4. the lock given up: no holder any more */
    md_farm_unlock(held);
    ck_assert_int_eq(md_farm_view_read(&view, NULL, a, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(md_json_gets(view, MD_KEY_MDS, "w.test", MD_KEY_LOCK_HOLDER, NULL));
    /* 5. the published certificate, by its serial */
    ck_assert_int_eq(md_farm_set_certs(&certs, b, "v.test", md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(md_json_array_len(certs), 1);
    ck_assert_str_eq(md_json_gets(md_json_array_at(certs, 0), MD_KEY_SERIAL, NULL), serial);
    ck_assert_str_eq(md_json_gets(md_json_array_at(certs, 0), MD_KEY_FILE, NULL), "pubcert.pem");
    ck_assert_int_eq(md_farm_set_certs(&certs, b, "none.test", md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(md_json_array_len(certs), 0);
}
END_TEST

static apr_int64_t record_revision(md_farm_t *farm, const char *node)
{
    md_etcd_kv_t *kv;

    ck_assert_int_eq(md_etcd_get(&kv, md_farm_etcd(farm), md_farm_key(farm, "nodes", node, md_test_pool),
                                 md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(kv->lease, 0);     /* a dead node's record goes with its lease */
    return kv->mod_revision;
}

START_TEST(farm_admin_record_on_change)
{
    md_farm_t *a = farm_as("node-r");
    md_farm_node_t *na = md_farm_node_make(md_test_pool);
    apr_int64_t rev;

    ck_assert_int_eq(md_farm_node_update(na, a, serving("r.test", 1), md_test_pool), APR_SUCCESS);
    rev = record_revision(a, "node-r");
    /* the same again: no write (a poll every few seconds must not grow etcd's history) */
    ck_assert_int_eq(md_farm_node_update(na, a, serving("r.test", 1), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(record_revision(a, "node-r"), rev);
    /* a new generation: written */
    ck_assert_int_eq(md_farm_node_update(na, a, serving("r.test", 2), md_test_pool), APR_SUCCESS);
    ck_assert_int_gt(record_revision(a, "node-r"), rev);
}
END_TEST

Suite *md_test_farm_admin_suite(void)
{
    Suite *s = suite_create("farm_admin");
    TCase *tc = md_test_etcd_tcase("farm_admin", "view");

    if (!tc) return s;
    tcase_add_test(tc, farm_admin_view);
    tcase_add_test(tc, farm_admin_record_on_change);
    suite_add_tcase(s, tc);
    return s;
}
