/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_etcd against a real etcd member on loopback: keys and values of any bytes, prefixes,
 * transactions, leases, endpoint failover, authentication, watches (live events, resuming
 * after the connection ended, compaction, a silent engine, an engine not there). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_etcd.h"
#include "md_test.h"
#include "etcd_member.h"


/* A client of the test member, or of the given endpoints (comma-separated). */
static md_etcd_t *client_of(const char *endpoints, const char *user, const char *password)
{
    md_etcd_config_t cfg;
    md_etcd_t *etcd;
    char *list = apr_pstrdup(md_test_pool, endpoints), *tok, *last;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoints = apr_array_make(md_test_pool, 3, sizeof(const char *));
    for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(cfg.endpoints, const char *) = tok;
    }
    cfg.user = user;
    cfg.password = password;
    cfg.timeout = apr_time_from_sec(3);
    ck_assert_int_eq(md_etcd_create(&etcd, &cfg, md_test_pool), APR_SUCCESS);
    return etcd;
}

static md_etcd_t *client(void)
{
    return client_of(md_test_etcd_member.url, NULL, NULL);
}

START_TEST(etcd_put_get_any_bytes)
{
    md_etcd_t *etcd = client();
    md_etcd_kv_t *kv;
    static const char bin[] = { 'a', 0, (char)0xff, '\n', 'z' };

    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t1/absent", md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_etcd_put(etcd, "/t1/bin", bin, sizeof(bin), 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t1/bin", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(kv->key, "/t1/bin");
    ck_assert_uint_eq(kv->value_len, sizeof(bin));
    ck_assert_int_eq(memcmp(kv->value, bin, sizeof(bin)), 0);
    ck_assert_int_eq(kv->version, 1);
    ck_assert_int_gt(kv->create_revision, 0);
    /* an empty value is a value */
    ck_assert_int_eq(md_etcd_put(etcd, "/t1/empty", "", 0, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t1/empty", md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(kv->value_len, 0);
}
END_TEST

START_TEST(etcd_prefix_list_and_delete)
{
    md_etcd_t *etcd = client();
    apr_array_header_t *kvs;
    apr_int64_t rev = 0;

    ck_assert_int_eq(md_etcd_put(etcd, "/t2/b", "2", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/t2/a", "1", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/t2x", "no", 2, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get_prefix(&kvs, &rev, etcd, "/t2/", 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(kvs->nelts, 2);
    ck_assert_int_gt(rev, 0);
    ck_assert_str_eq(APR_ARRAY_IDX(kvs, 0, md_etcd_kv_t *)->key, "/t2/a");
    ck_assert_str_eq(APR_ARRAY_IDX(kvs, 1, md_etcd_kv_t *)->value, "2");
    ck_assert_int_eq(md_etcd_get_prefix(&kvs, NULL, etcd, "/t2/", 1, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(APR_ARRAY_IDX(kvs, 1, md_etcd_kv_t *)->value, "");
    ck_assert_int_eq(md_etcd_delete(etcd, "/t2/", 1, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get_prefix(&kvs, NULL, etcd, "/t2/", 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(kvs->nelts, 0);
    ck_assert_int_eq(md_etcd_get_prefix(&kvs, NULL, etcd, "/t2", 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(kvs->nelts, 1);
}
END_TEST

START_TEST(etcd_txn_compares)
{
    md_etcd_t *etcd = client();
    md_etcd_txn_t *txn;
    md_etcd_kv_t *kv;
    int ok = -1;

    /* create if absent: once */
    txn = md_etcd_txn_make(md_test_pool);
    md_etcd_txn_compare(txn, "/t3/lock", MD_ETCD_VERSION, 0);
    md_etcd_txn_put(txn, "/t3/lock", "me", 2, 0);
    ck_assert_int_eq(md_etcd_txn_commit(&ok, etcd, txn, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(md_etcd_txn_commit(&ok, etcd, txn, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ok, 0);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t3/lock", md_test_pool), APR_SUCCESS);
    /* a write conditioned on the key's create_revision, with a put and a delete at once */
    ck_assert_int_eq(md_etcd_put(etcd, "/t3/old", "x", 1, 0, md_test_pool), APR_SUCCESS);
    txn = md_etcd_txn_make(md_test_pool);
    md_etcd_txn_compare(txn, "/t3/lock", MD_ETCD_CREATE_REVISION, kv->create_revision);
    md_etcd_txn_compare(txn, "/t3/lock", MD_ETCD_MOD_REVISION, kv->mod_revision);
    md_etcd_txn_put(txn, "/t3/data", "d", 1, 0);
    md_etcd_txn_delete(txn, "/t3/old");
    ck_assert_int_eq(md_etcd_txn_commit(&ok, etcd, txn, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t3/old", md_test_pool), APR_ENOENT);
    /* the lock key made anew: the same txn is refused and writes nothing */
    ck_assert_int_eq(md_etcd_delete(etcd, "/t3/lock", 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/t3/lock", "other", 5, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_delete(etcd, "/t3/data", 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_txn_commit(&ok, etcd, txn, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(ok, 0);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t3/data", md_test_pool), APR_ENOENT);
}
END_TEST

START_TEST(etcd_leases)
{
    md_etcd_t *etcd = client();
    apr_int64_t lease;
    md_etcd_kv_t *kv;
    long ttl;

    ck_assert_int_eq(md_etcd_lease_grant(&lease, etcd, 30, md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(lease, 0);
    ck_assert_int_eq(md_etcd_put(etcd, "/t4/leased", "v", 1, lease, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t4/leased", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(kv->lease, lease);
    ck_assert_int_eq(md_etcd_lease_keepalive(&ttl, etcd, lease, md_test_pool), APR_SUCCESS);
    ck_assert_int_gt(ttl, 20);
    /* revoked: its keys are gone, keepalive says so, a put with it is refused */
    ck_assert_int_eq(md_etcd_lease_revoke(etcd, lease, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t4/leased", md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_etcd_lease_keepalive(&ttl, etcd, lease, md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_etcd_put(etcd, "/t4/x", "v", 1, lease, md_test_pool), APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(md_etcd_error(etcd), "lease not found"));
    /* a short lease runs out by itself */
    ck_assert_int_eq(md_etcd_lease_grant(&lease, etcd, 1, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/t4/short", "v", 1, lease, md_test_pool), APR_SUCCESS);
    apr_sleep(apr_time_from_msec(3000));
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t4/short", md_test_pool), APR_ENOENT);
}
END_TEST

START_TEST(etcd_endpoint_failover)
{
    md_etcd_t *etcd;
    md_etcd_kv_t *kv;

    /* a member that does not answer first: the next one is used, and kept */
    etcd = client_of(apr_pstrcat(md_test_pool, "http://127.0.0.1:1,", md_test_etcd_member.url, NULL), NULL, NULL);
    ck_assert_int_eq(md_etcd_put(etcd, "/t5/k", "v", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_etcd_endpoint(etcd), md_test_etcd_member.url);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t5/k", md_test_pool), APR_SUCCESS);
    /* none answers: one status, and a message naming an endpoint */
    etcd = client_of("http://127.0.0.1:1,http://127.0.0.1:2", NULL, NULL);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t5/k", md_test_pool), APR_ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(md_etcd_error(etcd), "cannot be reached"));
}
END_TEST

static void ctl_ok(const char *a0, const char *a1, const char *a2, const char *a3)
{
    const char *args[] = { a0, a1, a2, a3, NULL };
    char out[4096];

    ck_assert_int_eq(md_test_etcdctl(&md_test_etcd_member, out, sizeof(out), NULL, args), 0);
}

static void grant_prefix(const char *role, const char *prefix)
{
    const char *args[] = { "role", "grant-permission", "--prefix=true", role, "readwrite", prefix, NULL };
    char out[4096];

    ck_assert_int_eq(md_test_etcdctl(&md_test_etcd_member, out, sizeof(out), NULL, args), 0);
}

/* ---- watches -------------------------------------------------------------------------- */

typedef struct {
    apr_array_header_t *seen;   /* "PUT key=value" / "DEL key", in md_test_pool */
    int messages;
} watch_log_t;

static apr_status_t watch_record(void *baton, const apr_array_header_t *events, apr_pool_t *p)
{
    watch_log_t *log = baton;
    int i;

    (void)p;
    ++log->messages;
    for (i = 0; i < events->nelts; ++i) {
        const md_etcd_event_t *e = APR_ARRAY_IDX(events, i, const md_etcd_event_t *);
        APR_ARRAY_PUSH(log->seen, const char *) = e->deleted
            ? apr_pstrcat(md_test_pool, "DEL ", e->kv->key, NULL)
            : apr_pstrcat(md_test_pool, "PUT ", e->kv->key, "=", e->kv->value, NULL);
    }
    return APR_SUCCESS;
}

static md_etcd_watch_t watch_of(const char *prefix, apr_int64_t from, watch_log_t *log)
{
    md_etcd_watch_t w;

    memset(&w, 0, sizeof(w));
    log->seen = apr_array_make(md_test_pool, 8, sizeof(const char *));
    log->messages = 0;
    w.prefix = prefix;
    w.start_revision = from;
    w.duration = apr_time_from_msec(1500);
    w.cb = watch_record;
    w.baton = log;
    return w;
}

static const char *seen_at(const watch_log_t *log, int i)
{
    return i < log->seen->nelts ? APR_ARRAY_IDX(log->seen, i, const char *) : "(none)";
}

/* Another client writes while the watch is open: its own md_etcd_t, made beforehand. */
typedef struct {
    md_etcd_t *etcd;
    apr_pool_t *p;
} writer_t;

static void *write_later(void *baton)
{
    writer_t *w = baton;

    usleep(400 * 1000);
    md_etcd_put(w->etcd, "/w1/live", "2", 1, 0, w->p);
    md_etcd_delete(w->etcd, "/w1/a", 0, w->p);
    md_etcd_put(w->etcd, "/w1x", "not watched", 11, 0, w->p);
    return NULL;
}

START_TEST(etcd_watch_live_events)
{
    md_etcd_t *etcd = client();
    writer_t writer = { client(), NULL };
    md_etcd_watch_t w;
    watch_log_t log;
    apr_int64_t next = 0;
    pthread_t t;

    ck_assert_int_eq(md_etcd_put(etcd, "/w1/a", "1", 1, 0, md_test_pool), APR_SUCCESS);
    apr_pool_create(&writer.p, md_test_pool);
    w = watch_of("/w1/", 0, &log);          /* from now on: /w1/a is not told */
    ck_assert_int_eq(pthread_create(&t, NULL, write_later, &writer), 0);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_SUCCESS);
    pthread_join(t, NULL);
    ck_assert_int_eq(log.seen->nelts, 2);
    ck_assert_str_eq(seen_at(&log, 0), "PUT /w1/live=2");
    ck_assert_str_eq(seen_at(&log, 1), "DEL /w1/a");
    ck_assert_int_gt(next, 0);
}
END_TEST

/* The watch ends (its connection is gone); changes are made meanwhile; a watch from the
 * revision it says to resume at gets exactly those, none twice. */
START_TEST(etcd_watch_resume_after_drop)
{
    md_etcd_t *etcd = client();
    md_etcd_watch_t w;
    watch_log_t log;
    apr_int64_t next = 0, first;

    ck_assert_int_eq(md_etcd_put(etcd, "/w2/a", "1", 1, 0, md_test_pool), APR_SUCCESS);
    w = watch_of("/w2/", 0, &log);
    w.duration = apr_time_from_msec(300);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(log.seen->nelts, 0);
    first = next;
    ck_assert_int_eq(md_etcd_put(etcd, "/w2/b", "2", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/w2/a", "3", 1, 0, md_test_pool), APR_SUCCESS);
    w = watch_of("/w2/", next, &log);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(log.seen->nelts, 2);
    ck_assert_str_eq(seen_at(&log, 0), "PUT /w2/b=2");
    ck_assert_str_eq(seen_at(&log, 1), "PUT /w2/a=3");
    ck_assert_int_eq(next, first + 2);
    /* resuming again: nothing new, nothing repeated */
    w = watch_of("/w2/", next, &log);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(log.seen->nelts, 0);
    ck_assert_int_eq(next, first + 2);
}
END_TEST

START_TEST(etcd_watch_compacted)
{
    md_etcd_t *etcd = client();
    md_etcd_watch_t w;
    watch_log_t log;
    apr_array_header_t *kvs;
    apr_int64_t rev, next = 0;
    char revs[32];

    ck_assert_int_eq(md_etcd_put(etcd, "/w3/a", "1", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_put(etcd, "/w3/a", "2", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get_prefix(&kvs, &rev, etcd, "/w3/", 0, md_test_pool), APR_SUCCESS);
    apr_snprintf(revs, sizeof(revs), "%" APR_INT64_T_FMT, rev);
    ctl_ok("compaction", revs, NULL, NULL);
    w = watch_of("/w3/", 1, &log);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), MD_ETCD_ECOMPACTED);
    ck_assert_int_eq(next, rev);
    ck_assert_ptr_nonnull(strstr(md_etcd_error(etcd), "compacted"));
    ck_assert_int_eq(log.seen->nelts, 0);
}
END_TEST

/* An engine that sends nothing for longer than idle counts as gone: the watch ends then,
 * not when its duration would have. */
START_TEST(etcd_watch_idle_and_unreachable)
{
    md_etcd_t *etcd = client();
    md_etcd_watch_t w;
    watch_log_t log;
    apr_int64_t next = 0;
    apr_time_t start;

    w = watch_of("/w4/", 0, &log);
    w.idle = apr_time_from_sec(1);
    w.duration = apr_time_from_sec(30);
    start = apr_time_now();
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_TIMEUP);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_sec(5));
    ck_assert_ptr_nonnull(strstr(md_etcd_error(etcd), "sent nothing"));
    /* nothing listening */
    etcd = client_of("http://127.0.0.1:1", NULL, NULL);
    w = watch_of("/w4/", 7, &log);
    ck_assert_int_eq(md_etcd_watch(&next, etcd, &w, md_test_pool), APR_ECONNREFUSED);
    ck_assert_int_eq(next, 7);
}
END_TEST

/* Last in its case: it turns authentication on for the member. */
START_TEST(etcd_authentication)
{
    md_etcd_t *etcd;
    md_etcd_kv_t *kv;

    ctl_ok("user", "add", "root:rootpw", NULL);
    ctl_ok("user", "add", "farm:farmpw", NULL);
    ctl_ok("role", "add", "md", NULL);
    grant_prefix("md", "/t6/");
    ctl_ok("user", "grant-role", "farm", "md");
    ctl_ok("auth", "enable", NULL, NULL);
    etcd = client_of(md_test_etcd_member.url, "farm", "wrong");
    ck_assert_int_eq(md_etcd_put(etcd, "/t6/k", "v", 1, 0, md_test_pool), APR_EACCES);
    ck_assert_ptr_nonnull(strstr(md_etcd_error(etcd), "authentication failed"));
    etcd = client_of(md_test_etcd_member.url, NULL, NULL);
    ck_assert_int_eq(md_etcd_put(etcd, "/t6/k", "v", 1, 0, md_test_pool), APR_EACCES);
    etcd = client_of(md_test_etcd_member.url, "farm", "farmpw");
    ck_assert_int_eq(md_etcd_put(etcd, "/t6/k", "v", 1, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_etcd_get(&kv, etcd, "/t6/k", md_test_pool), APR_SUCCESS);
}
END_TEST

Suite *md_test_etcd_suite(void)
{
    Suite *s = suite_create("etcd");
    TCase *tc;

    tc = md_test_etcd_tcase("etcd", "gateway");
    if (!tc) return s;
    tcase_add_test(tc, etcd_put_get_any_bytes);
    tcase_add_test(tc, etcd_prefix_list_and_delete);
    tcase_add_test(tc, etcd_txn_compares);
    tcase_add_test(tc, etcd_leases);
    tcase_add_test(tc, etcd_endpoint_failover);
    tcase_add_test(tc, etcd_watch_live_events);
    tcase_add_test(tc, etcd_watch_resume_after_drop);
    tcase_add_test(tc, etcd_watch_compacted);
    tcase_add_test(tc, etcd_watch_idle_and_unreachable);
    tcase_add_test(tc, etcd_authentication);
    suite_add_tcase(s, tc);
    return s;
}
