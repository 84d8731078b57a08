/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_farm against a real etcd member: the farm key file, sealing, one lock holder at a
 * time, fencing of a holder that lost its lock, a set published by one node and pulled
 * by another, no private key in clear in the engine, http-01 answers shared, the watch of
 * the generations (a full read, then what is published; compaction costs a full read). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_http.h"
#include "md_crypt.h"
#include "md_store.h"
#include "md_util.h"
#include "md_test.h"
#include "etcd_member.h"

static const unsigned char farm_key[MD_FARM_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static md_farm_t *farm_as(const char *node, long ttl, const unsigned char *key)
{
    return md_test_farm(NULL, "/farmtest/", node, ttl, key);
}

static const char *write_key_file(const char *content, apr_size_t len, int mode)
{
    char *path = apr_pstrdup(md_test_pool, "/tmp/md-unit-farmkey-XXXXXX");
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    ck_assert_int_eq(chmod(path, (mode_t)mode), 0);
    return path;
}

START_TEST(farm_key_file)
{
    const unsigned char *key;
    const char *why, *path;

    ck_assert_int_eq(getuid(), 0);     /* the checks are about root's file */
    path = write_key_file((const char *)farm_key, MD_FARM_KEY_LEN, 0600);
    ck_assert_int_eq(md_farm_key_load(&key, &why, path, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(memcmp(key, farm_key, MD_FARM_KEY_LEN), 0);
    unlink(path);
    /* what `openssl rand -hex 32 > FILE` writes */
    path = write_key_file("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65, 0400);
    ck_assert_int_eq(md_farm_key_load(&key, &why, path, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(key[0], 0);
    ck_assert_int_eq(key[31], 0x1f);
    /* readable by others: refused, saying why */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(md_farm_key_load(&key, &why, path, md_test_pool), APR_EACCES);
    ck_assert_ptr_null(key);
    ck_assert_ptr_nonnull(strstr(why, "mode 0600"));
    unlink(path);
    path = write_key_file("too short", 9, 0600);
    ck_assert_int_eq(md_farm_key_load(&key, &why, path, md_test_pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "openssl rand -hex 32"));
    unlink(path);
    ck_assert_int_eq(md_farm_key_load(&key, &why, "/nonexistent/farm.key", md_test_pool), APR_ENOENT);
}
END_TEST

START_TEST(farm_seal_open)
{
    static const unsigned char other[MD_FARM_KEY_LEN] = "another key, another key, anothe";
    const char *sealed, *data;
    apr_size_t slen, len;

    ck_assert_int_eq(md_farm_seal(&sealed, &slen, farm_key, "a.test/privkey.pem", "secret", 6,
                                  md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(memmem(sealed, slen, "secret", 6));
    ck_assert_int_eq(md_farm_open(&data, &len, farm_key, "a.test/privkey.pem", sealed, slen,
                                  md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(data, "secret");
    /* another key, or the same bytes passed off as another MD's key: refused */
    ck_assert_int_eq(md_farm_open(&data, &len, other, "a.test/privkey.pem", sealed, slen,
                                  md_test_pool), APR_EACCES);
    ck_assert_int_eq(md_farm_open(&data, &len, farm_key, "b.test/privkey.pem", sealed, slen,
                                  md_test_pool), APR_EACCES);
    ck_assert_int_eq(md_farm_open(&data, &len, farm_key, "a.test/privkey.pem", "plain", 5,
                                  md_test_pool), APR_EINVAL);
}
END_TEST

START_TEST(farm_lock_one_holder)
{
    md_farm_t *a = farm_as("node-a", 60, farm_key), *b = farm_as("node-b", 60, farm_key);
    md_farm_lock_t *la, *lb;
    const char *holder;

    ck_assert_int_eq(md_farm_lock_try(&la, &holder, a, "one.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_gt(md_farm_lock_token(la), 0);
    ck_assert_int_eq(md_farm_lock_try(&lb, &holder, b, "one.test", md_test_pool), APR_EBUSY);
    ck_assert_str_eq(holder, "node-a");
    /* another MD's lock is free */
    ck_assert_int_eq(md_farm_lock_try(&lb, &holder, b, "two.test", md_test_pool), APR_SUCCESS);
    md_farm_unlock(lb);
    /* given up: the next one has it at once */
    md_farm_unlock(la);
    ck_assert_int_eq(md_farm_lock_try(&lb, &holder, b, "one.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_lock_lost(lb), 0);
    md_farm_unlock(lb);
}
END_TEST

/* A staged set in a fresh store: md.json, an EC key and a self-signed certificate. */
static md_store_t *staged_store(const char *name, const char **pcert_pem)
{
    md_store_t *store = md_test_tmp_store();

    ck_assert_int_eq(md_cert_to_pem(pcert_pem, md_test_store_set(store, MD_SG_STAGING, name), md_test_pool),
                     APR_SUCCESS);
    return store;
}

/* Does what etcdctl shows of every key hold the text? */
static int etcd_dump_has(const char *text)
{
    static char out[256 * 1024];
    const char *args[] = { "get", "--prefix", "/", NULL };
    size_t got;

    ck_assert_int_eq(md_test_etcdctl(&md_test_etcd_member, out, sizeof(out), &got, args), 0);
    ck_assert_uint_lt(got, sizeof(out) - 1);
    return memmem(out, got, text, strlen(text)) != NULL;
}

START_TEST(farm_publish_pull)
{
    md_farm_t *a = farm_as("node-a", 60, farm_key), *b = farm_as("node-b", 60, farm_key);
    const char *cert_pem, *pulled, *pem_a, *pem_b;
    md_store_t *sa = staged_store("pub.test", &cert_pem), *sb = md_test_tmp_store();
    md_pkey_t *ka, *kb;
    md_farm_lock_t *lock;
    apr_hash_t *gens;
    apr_int64_t gen;

    ck_assert_int_eq(md_farm_lock_try(&lock, NULL, a, "pub.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_publish(&gen, lock, sa, "pub.test", md_test_set_files(), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(md_farm_local_generation(sa, "pub.test", md_test_pool), 1);
    md_farm_unlock(lock);
    /* every node sees the generation in one request, and pulls the set */
    ck_assert_int_eq(md_farm_generations(&gens, b, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(*(apr_int64_t *)apr_hash_get(gens, "pub.test", APR_HASH_KEY_STRING), 1);
    ck_assert_int_eq(md_farm_local_generation(sb, "pub.test", md_test_pool), 0);
    ck_assert_int_eq(md_farm_pull(&gen, b, sb, "pub.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(md_farm_local_generation(sb, "pub.test", md_test_pool), 1);
    ck_assert_int_eq(md_store_load_text(&pulled, sb, MD_SG_STAGING, "pub.test", "pubcert.pem",
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(pulled, cert_pem);
    /* the same key, saved by B's store as B saves keys (encrypted with B's store key) */
    ck_assert_int_eq(md_store_load_pkey(&ka, sa, MD_SG_STAGING, "pub.test", "privkey.pem", md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_load_pkey(&kb, sb, MD_SG_STAGING, "pub.test", "privkey.pem", md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_pkey_to_pem(&pem_a, ka, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_to_pem(&pem_b, kb, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(pem_a, pem_b);
    ck_assert_int_eq(md_store_load_text(&pulled, sb, MD_SG_STAGING, "pub.test", "privkey.pem",
                                        md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(pulled, "ENCRYPTED PRIVATE KEY"));
    /* what the engine holds: the certificate, but no private key in clear */
    ck_assert(etcd_dump_has("BEGIN CERTIFICATE"));
    ck_assert(!etcd_dump_has("PRIVATE KEY"));
}
END_TEST

START_TEST(farm_wrong_key_fails_clearly)
{
    static const unsigned char other[MD_FARM_KEY_LEN] = "another key, another key, anothe";
    md_farm_t *a = farm_as("node-a", 60, farm_key), *c = farm_as("node-c", 60, other);
    const char *cert_pem;
    md_store_t *sa = staged_store("key.test", &cert_pem), *sc = md_test_tmp_store();
    md_farm_lock_t *lock;
    apr_int64_t gen;

    ck_assert_int_eq(md_farm_lock_try(&lock, NULL, a, "key.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_publish(&gen, lock, sa, "key.test", md_test_set_files(), md_test_pool), APR_SUCCESS);
    md_farm_unlock(lock);
    /* a node with another farm key gets nothing half: no staged set, no generation */
    ck_assert_int_eq(md_farm_pull(&gen, c, sc, "key.test", md_test_pool), APR_EACCES);
    ck_assert_int_eq(md_store_dir_exists(sc, MD_SG_STAGING, "key.test", md_test_pool), 0);
    ck_assert_int_eq(md_farm_local_generation(sc, "key.test", md_test_pool), 0);
}
END_TEST

/* The lease of the lock key, as the engine has it. */
static apr_int64_t lock_lease(md_farm_t *farm, const char *name)
{
    md_etcd_kv_t *kv;

    ck_assert_int_eq(md_etcd_get(&kv, md_farm_etcd(farm), md_farm_key(farm, "locks", name, md_test_pool),
                                 md_test_pool), APR_SUCCESS);
    return kv->lease;
}

START_TEST(farm_fencing)
{
    md_farm_t *a = farm_as("node-a", 60, farm_key), *b = farm_as("node-b", 60, farm_key);
    const char *cert_a, *cert_b, *pulled;
    md_store_t *sa = staged_store("fence.test", &cert_a), *sb = staged_store("fence.test", &cert_b);
    md_store_t *sc = md_test_tmp_store();
    md_farm_lock_t *la, *lb;
    apr_int64_t gen;

    ck_assert_int_eq(md_farm_lock_try(&la, NULL, a, "fence.test", md_test_pool), APR_SUCCESS);
    /* A's lease runs out (here: revoked) while A is paused; B takes the lock */
    ck_assert_int_eq(md_etcd_lease_revoke(md_farm_etcd(a), lock_lease(a, "fence.test"), md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_farm_lock_try(&lb, NULL, b, "fence.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_publish(&gen, lb, sb, "fence.test", md_test_set_files(), md_test_pool), APR_SUCCESS);
    /* A wakes up before its keep-alive noticed: the engine refuses its write */
    ck_assert_int_eq(md_farm_lock_lost(la), 0);
    ck_assert_int_eq(md_farm_publish(&gen, la, sa, "fence.test", md_test_set_files(), md_test_pool),
                     MD_FARM_EFENCED);
    md_farm_unlock(la);
    /* B's set is the farm's */
    ck_assert_int_eq(md_farm_pull(&gen, a, sc, "fence.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(md_store_load_text(&pulled, sc, MD_SG_STAGING, "fence.test", "pubcert.pem",
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(pulled, cert_b);
    md_farm_unlock(lb);
}
END_TEST

START_TEST(farm_lock_lost_seen_by_keepalive)
{
    md_farm_t *a = farm_as("node-a", 3, farm_key);
    md_farm_lock_t *la;
    md_http_config_t hc;
    md_http_t *http;
    md_http_request_t req;
    md_http_response_t *resp;
    int i;

    ck_assert_int_eq(md_farm_lock_try(&la, NULL, a, "lost.test", md_test_pool), APR_SUCCESS);
    /* kept alive beyond its TTL */
    apr_sleep(apr_time_from_sec(4));
    ck_assert_int_eq(md_farm_lock_lost(la), 0);
    ck_assert_int_eq(md_etcd_lease_revoke(md_farm_etcd(a), lock_lease(a, "lost.test"), md_test_pool),
                     APR_SUCCESS);
    for (i = 0; i < 30 && !md_farm_lock_lost(la); ++i) apr_sleep(apr_time_from_msec(100));
    ck_assert_int_eq(md_farm_lock_lost(la), 1);
    /* a request to the CA under a lost lock does not go out */
    memset(&hc, 0, sizeof(hc));
    hc.cancel_also = md_farm_lock_lost_flag(la);
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = apr_pstrcat(md_test_pool, md_test_etcd_member.url, "/health", NULL);
    ck_assert_int_eq(md_http_create(&http, &hc, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_http_perform(&resp, http, &req, md_test_pool), APR_EINTR);
    md_farm_unlock(la);
}
END_TEST

START_TEST(farm_http01_shared)
{
    md_farm_t *a = farm_as("node-a", 60, farm_key), *b = farm_as("node-b", 60, farm_key);
    const char *authz;

    ck_assert_int_eq(md_farm_http01_get(&authz, b, "ch.test", md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_farm_http01_put(a, "ch.test", "tok.thumb", 60, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_farm_http01_get(&authz, b, "ch.test", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(authz, "tok.thumb");
}
END_TEST

static void gen_seen(void *baton, const char *name, apr_int64_t gen)
{
    apr_hash_t *seen = baton;
    apr_int64_t *g = apr_palloc(md_test_pool, sizeof(*g));

    *g = gen;
    apr_hash_set(seen, apr_pstrdup(md_test_pool, name), APR_HASH_KEY_STRING, g);
}

static apr_int64_t gen_of(apr_hash_t *seen, const char *name)
{
    apr_int64_t *g = apr_hash_get(seen, name, APR_HASH_KEY_STRING);

    return g ? *g : -1;
}

static void gen_put(md_farm_t *farm, const char *name, const char *gen)
{
    ck_assert_int_eq(md_etcd_put(md_farm_etcd(farm), md_farm_key(farm, "gen", name, md_test_pool),
                                 gen, strlen(gen), 0, md_test_pool), APR_SUCCESS);
}

START_TEST(farm_watch_generations)
{
    md_farm_t *farm = farm_as("node-w", 60, farm_key), *other = farm_as("node-o", 60, farm_key);
    apr_hash_t *seen = apr_hash_make(md_test_pool);
    md_farm_watch_t fw;
    apr_int64_t resume;
    char revs[32];
    const char *args[] = { "compaction", revs, NULL };
    char out[1024];

    gen_put(other, "w1.test", "3");
    memset(&fw, 0, sizeof(fw));
    fw.cb = gen_seen;
    fw.baton = seen;
    fw.duration = apr_time_from_msec(300);
    /* 1. the first round reads what is there */
    ck_assert_int_eq(md_farm_watch(&fw, farm, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(gen_of(seen, "w1.test"), 3);
    ck_assert_int_gt(fw.read_revision, 0);
    ck_assert_int_eq(fw.next, fw.read_revision + 1);
    /* 2. published while no watch was open: the next round, resuming, sees it without a read */
    apr_hash_clear(seen);
    gen_put(other, "w2.test", "1");
    gen_put(other, "w1.test", "4");
    ck_assert_int_eq(md_farm_watch(&fw, farm, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(fw.read_revision, 0);
    ck_assert_int_eq(gen_of(seen, "w1.test"), 4);
    ck_assert_int_eq(gen_of(seen, "w2.test"), 1);
    /* 3. history compacted past the resume point: a full read in the same round */
    apr_hash_clear(seen);
    resume = fw.next;
    gen_put(other, "w3.test", "9");
    gen_put(other, "w3.test", "10");
    apr_snprintf(revs, sizeof(revs), "%" APR_INT64_T_FMT, resume + 1);
    ck_assert_int_eq(md_test_etcdctl(&md_test_etcd_member, out, sizeof(out), NULL, args), 0);
    ck_assert_int_eq(md_farm_watch(&fw, farm, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(fw.compacted, 1);
    ck_assert_int_eq(gen_of(seen, "w3.test"), 10);
    ck_assert_int_eq(gen_of(seen, "w1.test"), 4);
    ck_assert_int_eq(fw.next, fw.read_revision + 1);
}
END_TEST

Suite *md_test_farm_suite(void)
{
    Suite *s = suite_create("farm");
    TCase *tc;

    tc = tcase_create("key");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, farm_key_file);
    tcase_add_test(tc, farm_seal_open);
    suite_add_tcase(s, tc);
    tc = md_test_etcd_tcase("farm", "engine");
    if (!tc) return s;
    tcase_add_test(tc, farm_lock_one_holder);
    tcase_add_test(tc, farm_publish_pull);
    tcase_add_test(tc, farm_wrong_key_fails_clearly);
    tcase_add_test(tc, farm_fencing);
    tcase_add_test(tc, farm_lock_lost_seen_by_keepalive);
    tcase_add_test(tc, farm_http01_shared);
    tcase_add_test(tc, farm_watch_generations);
    suite_add_tcase(s, tc);
    return s;
}
