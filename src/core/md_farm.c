/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The farm on etcd (md_farm.h): locks per MD with their keep-alive, sets published in
 * one fenced transaction and pulled into the local store, shared http-01 answers. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_atomic.h>

#include "md_farm.h"
#include "md_log.h"
#include "md_util.h"

#define GEN_FOLDER "farm"            /* locks/farm/<md>.gen: the local generation */

struct md_farm_t {
    md_farm_config_t config;
    md_etcd_t *etcd;
};

struct md_farm_lock_t {
    md_farm_config_t config;         /* the farm's, for the keep-alive's own client */
    apr_pool_t *pool;                /* the lock's own, destroyed by md_farm_unlock */
    const char *name;
    const char *key;
    apr_int64_t lease;
    apr_int64_t token;
    volatile apr_uint32_t lost;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int stop;                        /* under mutex */
};

apr_status_t md_farm_create(md_farm_t **pfarm, const md_farm_config_t *config, apr_pool_t *p)
{
    md_farm_t *farm = apr_pcalloc(p, sizeof(*farm));

    farm->config = *config;
    if (!farm->config.prefix) farm->config.prefix = "/md/";
    if (!farm->config.lock_ttl) farm->config.lock_ttl = MD_FARM_LOCK_TTL;
    if (!farm->config.node) farm->config.node = "a node";
    *pfarm = farm;
    return md_etcd_create(&farm->etcd, &farm->config.etcd, p);
}

md_etcd_t *md_farm_etcd(md_farm_t *farm)
{
    return farm->etcd;
}

const md_farm_config_t *md_farm_config(const md_farm_t *farm)
{
    return &farm->config;
}

const char *md_farm_key(const md_farm_t *farm, const char *part, const char *name, apr_pool_t *p)
{
    return apr_pstrcat(p, farm->config.prefix, part, name ? "/" : NULL, name, NULL);
}

/* ---- locks -------------------------------------------------------------------------- */

/* Waits up to d for the stop signal; 1 when told to stop. */
static int keepalive_wait(md_farm_lock_t *lock, apr_interval_time_t d)
{
    int stop;

    apr_thread_mutex_lock(lock->mutex);
    if (!lock->stop) apr_thread_cond_timedwait(lock->cond, lock->mutex, d);
    stop = lock->stop;
    apr_thread_mutex_unlock(lock->mutex);
    return stop;
}

/* The keep-alive: renew the lease every TTL/3. A lease the engine no longer knows, or
 * one not renewed for two thirds of its TTL (it may run out before we hear again), is a
 * lost lock: the holder must not act on it any more. */
static void *APR_THREAD_FUNC keepalive_run(apr_thread_t *thread, void *baton)
{
    md_farm_lock_t *lock = baton;
    apr_interval_time_t ttl = apr_time_from_sec(lock->config.lock_ttl);
    apr_time_t renewed = apr_time_now();
    apr_pool_t *kp, *p;
    md_etcd_t *etcd;
    long left;
    apr_status_t rv;

    /* one client for the lock's life (its auth token too), a scratch pool per renewal */
    apr_pool_create(&kp, NULL);
    apr_pool_create(&p, kp);
    rv = md_etcd_create(&etcd, &lock->config.etcd, kp);
    while (rv == APR_SUCCESS && !keepalive_wait(lock, ttl / 3)) {
        rv = md_etcd_lease_keepalive(&left, etcd, lock->lease, p);
        if (rv == APR_SUCCESS) renewed = apr_time_now();
        else if (rv != APR_ENOENT && apr_time_now() - renewed < ttl * 2 / 3) rv = APR_SUCCESS;
        apr_pool_clear(p);
    }
    if (rv != APR_SUCCESS) {
        apr_atomic_set32(&lock->lost, 1);
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "MD1761: %s: the farm lock is lost (its "
                      "lease could not be renewed): the work on it stops", lock->name);
    }
    apr_pool_destroy(kp);
    /* returned, not apr_thread_exit(): its pthread_exit unwinds the stack, which the
     * sanitizers take for an overflow; the thread's pool goes with the lock's */
    return NULL;
}

/* The lock's pool goes: the keep-alive stops, the lease is revoked (best effort: when
 * the engine cannot be reached, the lease runs out by itself). */
static apr_status_t lock_cleanup(void *data)
{
    md_farm_lock_t *lock = data;
    apr_status_t trv;
    apr_pool_t *p;
    md_etcd_t *etcd;

    if (lock->thread) {
        apr_thread_mutex_lock(lock->mutex);
        lock->stop = 1;
        apr_thread_cond_signal(lock->cond);
        apr_thread_mutex_unlock(lock->mutex);
        apr_thread_join(&trv, lock->thread);
        lock->thread = NULL;
    }
    apr_pool_create(&p, NULL);
    if (md_etcd_create(&etcd, &lock->config.etcd, p) == APR_SUCCESS) {
        md_etcd_lease_revoke(etcd, lock->lease, p);
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

static apr_status_t lock_start_keepalive(md_farm_lock_t *lock)
{
    apr_status_t rv;

    rv = apr_thread_mutex_create(&lock->mutex, APR_THREAD_MUTEX_DEFAULT, lock->pool);
    if (rv == APR_SUCCESS) rv = apr_thread_cond_create(&lock->cond, lock->pool);
    if (rv == APR_SUCCESS) rv = apr_thread_create(&lock->thread, NULL, keepalive_run, lock, lock->pool);
    return rv;
}

/* Create the lock key on our lease when there is none; its create_revision is the token. */
static apr_status_t lock_create_key(const char **pholder, md_farm_t *farm, md_farm_lock_t *lock,
                                    apr_pool_t *p)
{
    md_etcd_txn_t *txn = md_etcd_txn_make(p);
    const char *node = farm->config.node;
    md_etcd_kv_t *kv;
    int ok;
    apr_status_t rv;

    md_etcd_txn_compare(txn, lock->key, MD_ETCD_VERSION, 0);
    md_etcd_txn_put(txn, lock->key, node, strlen(node), lock->lease);
    rv = md_etcd_txn_commit(&ok, farm->etcd, txn, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_etcd_get(&kv, farm->etcd, lock->key, p);
    if (rv == APR_ENOENT) return APR_EBUSY;          /* came and went meanwhile */
    if (rv != APR_SUCCESS) return rv;
    if (pholder) *pholder = kv->value;
    if (!ok || kv->lease != lock->lease) return APR_EBUSY;
    lock->token = kv->create_revision;
    return APR_SUCCESS;
}

apr_status_t md_farm_lock_try(md_farm_lock_t **plock, const char **pholder, md_farm_t *farm,
                              const char *name, apr_pool_t *p)
{
    md_farm_lock_t *lock;
    md_etcd_kv_t *kv;
    apr_pool_t *lp;
    apr_status_t rv;

    *plock = NULL;
    if (pholder) *pholder = NULL;
    apr_pool_create(&lp, p);
    lock = apr_pcalloc(lp, sizeof(*lock));
    lock->config = farm->config;
    lock->pool = lp;
    lock->name = apr_pstrdup(lp, name);
    lock->key = md_farm_key(farm, "locks", name, lp);
    /* 0. a lock held already costs one read, not a lease granted and revoked and a
     *    transaction (three writes, each a round of the engine's consensus): at a cold
     *    start every node finds most locks held */
    rv = md_etcd_get(&kv, farm->etcd, lock->key, p);
    if (rv == APR_SUCCESS) {
        if (pholder) *pholder = kv->value;
        rv = APR_EBUSY;
        goto leave;
    }
    if (rv != APR_ENOENT) goto leave;
    /* 1. a lease of our own; 2. the key on it, if nobody has one meanwhile */
    rv = md_etcd_lease_grant(&lock->lease, farm->etcd, farm->config.lock_ttl, p);
    if (rv != APR_SUCCESS) goto leave;
    /* a pre-cleanup: the keep-alive thread's pool is a sub-pool of lp, and sub-pools go
     * before the plain cleanups run; the thread must have ended by then */
    apr_pool_pre_cleanup_register(lp, lock, lock_cleanup);
    rv = lock_create_key(pholder, farm, lock, p);
    if (rv != APR_SUCCESS) goto leave;
    /* 3. the keep-alive, until unlocked */
    rv = lock_start_keepalive(lock);
leave:
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(lp);       /* revokes the lease, if one was granted */
        return rv;
    }
    *plock = lock;
    return APR_SUCCESS;
}

apr_int64_t md_farm_lock_token(const md_farm_lock_t *lock)
{
    return lock->token;
}

int md_farm_lock_lost(const md_farm_lock_t *lock)
{
    return apr_atomic_read32((volatile apr_uint32_t *)&lock->lost) != 0;
}

volatile apr_uint32_t *md_farm_lock_lost_flag(md_farm_lock_t *lock)
{
    return &lock->lost;
}

void md_farm_lock_fence(md_etcd_txn_t *txn, const md_farm_lock_t *lock)
{
    md_etcd_txn_compare(txn, lock->key, MD_ETCD_CREATE_REVISION, lock->token);
}

const unsigned char *md_farm_secret(const md_farm_t *farm)
{
    return farm->config.key;
}

const char *md_farm_node(const md_farm_t *farm)
{
    return farm->config.node;
}

apr_status_t md_farm_commit_fenced(md_farm_lock_t *lock, md_farm_t *farm, md_etcd_txn_t *txn,
                                   apr_pool_t *p)
{
    int ok;
    apr_status_t rv;

    if (md_farm_lock_lost(lock)) return MD_FARM_EFENCED;
    md_farm_lock_fence(txn, lock);
    rv = md_etcd_txn_commit(&ok, farm->etcd, txn, p);
    if (rv == APR_SUCCESS && !ok) rv = MD_FARM_EFENCED;
    return rv;
}

void md_farm_unlock(md_farm_lock_t *lock)
{
    if (lock) apr_pool_destroy(lock->pool);
}

/* ---- the local generation -------------------------------------------------------- */

static const char *gen_file(const char *name, apr_pool_t *p)
{
    return apr_pstrcat(p, name, ".gen", NULL);
}

apr_int64_t md_farm_local_generation(md_store_t *store, const char *name, apr_pool_t *p)
{
    const char *text;

    if (md_store_load_text(&text, store, MD_SG_LOCKS, GEN_FOLDER, gen_file(name, p), p)
        != APR_SUCCESS) {
        return 0;
    }
    return apr_atoi64(text);
}

static apr_status_t local_generation_set(md_store_t *store, const char *name, apr_int64_t gen,
                                         apr_pool_t *p)
{
    return md_store_save_text(store, MD_SG_LOCKS, GEN_FOLDER, gen_file(name, p),
                              apr_psprintf(p, "%" APR_INT64_T_FMT "\n", gen), p);
}

/* ---- sets ------------------------------------------------------------------------ */

/* Files that are private keys: sealed in the engine, saved as keys in the store. */
static int is_key_file(const char *file)
{
    return !strncmp(file, MD_FN_PRIVKEY, strlen(MD_FN_PRIVKEY)) || !strcmp(file, MD_FN_ACCT_KEY);
}

static const char *seal_aad(const char *name, const char *file, apr_pool_t *p)
{
    return apr_pstrcat(p, name, "/", file, NULL);
}

/* A staged file as it goes to the engine: keys in clear PEM sealed, the rest as text
 * (which must hold no key). */
static apr_status_t file_value(const char **pval, apr_size_t *plen, md_farm_t *farm,
                               md_store_t *store, md_store_group_t group, const char *name,
                               const char *file, apr_pool_t *p)
{
    md_pkey_t *pkey;
    const char *text;
    apr_status_t rv;

    if (is_key_file(file)) {
        rv = md_store_load_pkey(&pkey, store, group, name, file, p);
        if (rv == APR_SUCCESS) rv = md_pkey_to_pem(&text, pkey, NULL, 0, p);
        if (rv != APR_SUCCESS) return rv;
        return md_farm_seal(pval, plen, farm->config.key, seal_aad(name, file, p), text, strlen(text), p);
    }
    rv = md_store_load_text(&text, store, group, name, file, p);
    if (rv != APR_SUCCESS) return rv;
    if (strstr(text, "PRIVATE KEY")) return APR_EINVAL;    /* never a key in clear */
    *pval = text;
    *plen = strlen(text);
    return APR_SUCCESS;
}

/* The file names of the set published now, so that files it no longer has are deleted. */
static apr_array_header_t *published_files(md_farm_t *farm, const char *name, apr_pool_t *p)
{
    apr_array_header_t *files = apr_array_make(p, 8, sizeof(const char *));
    md_etcd_kv_t *kv;
    char *list, *tok, *last;

    if (md_etcd_get(&kv, farm->etcd, md_farm_key(farm, "sets", apr_pstrcat(p, name, "/files", NULL), p),
                    p) != APR_SUCCESS) {
        return files;
    }
    list = apr_pstrdup(p, kv->value);
    for (tok = apr_strtok(list, "\n", &last); tok; tok = apr_strtok(NULL, "\n", &last)) {
        APR_ARRAY_PUSH(files, const char *) = tok;
    }
    return files;
}

typedef struct {
    md_farm_t *farm;
    md_store_t *store;
    md_store_group_t group;
    const char *name;
    md_etcd_txn_t *txn;
} publish_ctx_t;

/* Put every file of the set, and the list of their names, into the transaction. */
static apr_status_t publish_files(publish_ctx_t *pc, const apr_array_header_t *files, apr_pool_t *p)
{
    const char *sets = md_farm_key(pc->farm, "sets", pc->name, p), *file, *val, *list;
    apr_array_header_t *old = published_files(pc->farm, pc->name, p);
    apr_size_t len;
    apr_status_t rv;
    int i;

    for (i = 0; i < files->nelts; ++i) {
        file = APR_ARRAY_IDX(files, i, const char *);
        rv = file_value(&val, &len, pc->farm, pc->store, pc->group, pc->name, file, p);
        if (rv != APR_SUCCESS) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "MD1762: %s: staged file %s cannot be "
                          "published to the farm", pc->name, file);
            return rv;
        }
        md_etcd_txn_put(pc->txn, apr_pstrcat(p, sets, "/f/", file, NULL), val, len, 0);
    }
    for (i = 0; i < old->nelts; ++i) {
        file = APR_ARRAY_IDX(old, i, const char *);
        if (md_array_str_index(files, file, 1) < 0) {
            md_etcd_txn_delete(pc->txn, apr_pstrcat(p, sets, "/f/", file, NULL));
        }
    }
    list = md_array_str_join(files, "\n", p);
    md_etcd_txn_put(pc->txn, apr_pstrcat(p, sets, "/files", NULL), list, strlen(list), 0);
    return APR_SUCCESS;
}

apr_status_t md_farm_publish(apr_int64_t *pgen, md_farm_lock_t *lock, md_store_t *store,
                             const char *name, const apr_array_header_t *files, apr_pool_t *p)
{
    return md_farm_publish_from(pgen, lock, store, MD_SG_STAGING, name, files, p);
}

apr_status_t md_farm_publish_from(apr_int64_t *pgen, md_farm_lock_t *lock, md_store_t *store,
                                  md_store_group_t group, const char *name,
                                  const apr_array_header_t *files, apr_pool_t *p)
{
    md_farm_t *farm;
    publish_ctx_t pc;
    apr_int64_t gen;
    const char *gtext;
    int ok;
    apr_status_t rv;

    *pgen = 0;
    if (md_farm_lock_lost(lock)) return MD_FARM_EFENCED;
    rv = md_farm_create(&farm, &lock->config, p);
    /* 1. the next generation: under the lock, nobody else writes it */
    if (rv == APR_SUCCESS) rv = md_farm_generation(&gen, farm, name, p);
    if (rv != APR_SUCCESS) return rv;
    gtext = apr_psprintf(p, "%" APR_INT64_T_FMT, gen + 1);
    /* 2. the files, the generation twice, all or nothing, only while the lock is ours */
    pc.farm = farm;
    pc.store = store;
    pc.group = group;
    pc.name = name;
    pc.txn = md_etcd_txn_make(p);
    md_etcd_txn_compare(pc.txn, lock->key, MD_ETCD_CREATE_REVISION, lock->token);
    rv = publish_files(&pc, files, p);
    if (rv != APR_SUCCESS) return rv;
    md_etcd_txn_put(pc.txn, md_farm_key(farm, "sets", apr_pstrcat(p, name, "/gen", NULL), p),
                    gtext, strlen(gtext), 0);
    md_etcd_txn_put(pc.txn, md_farm_key(farm, "gen", name, p), gtext, strlen(gtext), 0);
    /* the order that made the set is done: nobody is to go on with it */
    md_etcd_txn_delete_prefix(pc.txn, md_farm_key(farm, "orders", apr_pstrcat(p, name, "/", NULL), p));
    rv = md_etcd_txn_commit(&ok, farm->etcd, pc.txn, p);
    if (rv != APR_SUCCESS) return rv;
    if (!ok) return MD_FARM_EFENCED;
    /* 3. this node has what it published */
    *pgen = gen + 1;
    return local_generation_set(store, name, *pgen, p);
}

apr_status_t md_farm_generation(apr_int64_t *pgen, md_farm_t *farm, const char *name, apr_pool_t *p)
{
    md_etcd_kv_t *kv;
    apr_status_t rv;

    *pgen = 0;
    rv = md_etcd_get(&kv, farm->etcd, md_farm_key(farm, "gen", name, p), p);
    if (rv == APR_ENOENT) return APR_SUCCESS;
    if (rv != APR_SUCCESS) return rv;
    *pgen = apr_atoi64(kv->value);
    return APR_SUCCESS;
}

/* Every published generation, and the revision the answer reflects. */
static apr_status_t gens_read(apr_hash_t **pgens, apr_int64_t *prevision, md_farm_t *farm,
                              apr_pool_t *p)
{
    const char *prefix = md_farm_key(farm, "gen/", NULL, p);
    apr_array_header_t *kvs;
    md_etcd_kv_t *kv;
    apr_int64_t *gen;
    apr_status_t rv;
    int i;

    *pgens = apr_hash_make(p);
    rv = md_etcd_get_prefix(&kvs, prevision, farm->etcd, prefix, 0, p);
    if (rv != APR_SUCCESS) return rv;
    for (i = 0; i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, md_etcd_kv_t *);
        gen = apr_palloc(p, sizeof(*gen));
        *gen = apr_atoi64(kv->value);
        apr_hash_set(*pgens, kv->key + strlen(prefix), APR_HASH_KEY_STRING, gen);
    }
    return APR_SUCCESS;
}

apr_status_t md_farm_generations(apr_hash_t **pgens, md_farm_t *farm, apr_pool_t *p)
{
    return gens_read(pgens, NULL, farm, p);
}

typedef struct {
    md_farm_watch_t *fw;
    const char *prefix;
} gen_watch_ctx_t;

/* md_etcd_watch_fn: a generation published (a deleted one tells nothing to pull) */
static apr_status_t gen_events(void *baton, const apr_array_header_t *events, apr_pool_t *p)
{
    gen_watch_ctx_t *ctx = baton;
    const md_etcd_event_t *e;
    apr_size_t plen = strlen(ctx->prefix);
    int i;

    (void)p;
    for (i = 0; i < events->nelts; ++i) {
        e = APR_ARRAY_IDX(events, i, const md_etcd_event_t *);
        if (e->deleted || strncmp(e->kv->key, ctx->prefix, plen) || !e->kv->key[plen]) continue;
        ctx->fw->cb(ctx->fw->baton, e->kv->key + plen, apr_atoi64(e->kv->value));
    }
    return APR_SUCCESS;
}

/* A full read: every generation to the callback; the watch goes on after its revision. */
static apr_status_t gens_tell(md_farm_watch_t *fw, md_farm_t *farm, apr_pool_t *p)
{
    apr_hash_t *gens;
    apr_hash_index_t *hi;
    apr_status_t rv;

    rv = gens_read(&gens, &fw->read_revision, farm, p);
    if (rv != APR_SUCCESS) return rv;
    if (fw->on_read) fw->on_read(fw->baton, fw->read_revision);
    for (hi = apr_hash_first(p, gens); hi; hi = apr_hash_next(hi)) {
        fw->cb(fw->baton, apr_hash_this_key(hi), *(apr_int64_t *)apr_hash_this_val(hi));
    }
    return APR_SUCCESS;
}

static apr_status_t gens_watch(md_farm_watch_t *fw, md_farm_t *farm, apr_pool_t *p)
{
    gen_watch_ctx_t ctx;
    md_etcd_watch_t w;

    ctx.fw = fw;
    ctx.prefix = md_farm_key(farm, "gen/", NULL, p);
    memset(&w, 0, sizeof(w));
    w.prefix = ctx.prefix;
    w.start_revision = fw->next;
    w.idle = fw->idle;
    w.duration = fw->duration;
    w.cancel = fw->cancel;
    w.cb = gen_events;
    w.baton = &ctx;
    return md_etcd_watch(&fw->next, farm->etcd, &w, p);
}

apr_status_t md_farm_watch(md_farm_watch_t *fw, md_farm_t *farm, apr_pool_t *p)
{
    apr_status_t rv;

    fw->read_revision = 0;
    fw->compacted = 0;
    /* 1. the present, when asked or when there is nothing to resume from */
    if (fw->full_read || fw->next <= 0) {
        rv = gens_tell(fw, farm, p);
        if (rv != APR_SUCCESS) return rv;
        /* resuming from an older revision replays what the read saw: harmless */
        if (fw->next <= 0) fw->next = fw->read_revision + 1;
    }
    /* 2. the changes, from the revision after the last one known */
    rv = gens_watch(fw, farm, p);
    if (rv != MD_ETCD_ECOMPACTED) return rv;
    /* 3. history compacted past it: only a full read tells what was missed */
    fw->compacted = 1;
    rv = gens_tell(fw, farm, p);
    if (rv != APR_SUCCESS) return rv;
    fw->next = fw->read_revision + 1;
    return gens_watch(fw, farm, p);
}

/* One file of a pulled set into staging/<name>: keys opened and saved as keys. */
static apr_status_t pull_file(md_farm_t *farm, md_store_t *store, const char *name, const char *file,
                              const md_etcd_kv_t *kv, apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    md_pkey_t *pkey;
    apr_status_t rv;

    if (!is_key_file(file)) return md_store_save_text(store, MD_SG_STAGING, name, file, kv->value, p);
    rv = md_farm_open(&pem, &len, farm->config.key, seal_aad(name, file, p), kv->value, kv->value_len, p);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "MD1763: %s: the key %s from the farm cannot "
                      "be opened: is the farm key the same on every node?", name, file);
        return rv;
    }
    rv = md_pkey_from_pem(&pkey, pem, len, NULL, 0, p);
    if (rv == APR_SUCCESS) rv = md_store_save_pkey(store, MD_SG_STAGING, name, file, pkey, p);
    return rv;
}

apr_status_t md_farm_pull(apr_int64_t *pgen, md_farm_t *farm, md_store_t *store, const char *name,
                          apr_pool_t *p)
{
    const char *sets = md_farm_key(farm, "sets", apr_pstrcat(p, name, "/", NULL), p), *file, *rel;
    apr_array_header_t *kvs, *files = apr_array_make(p, 8, sizeof(const char *));
    md_etcd_kv_t *kv;
    apr_hash_t *by_file = apr_hash_make(p);
    apr_status_t rv = APR_SUCCESS;
    int i;

    *pgen = 0;
    /* 1. the set and its generation as of one revision */
    rv = md_etcd_get_prefix(&kvs, NULL, farm->etcd, sets, 0, p);
    if (rv != APR_SUCCESS) return rv;
    for (i = 0; i < kvs->nelts; ++i) {
        kv = APR_ARRAY_IDX(kvs, i, md_etcd_kv_t *);
        rel = kv->key + strlen(sets);
        if (!strcmp(rel, "gen")) *pgen = apr_atoi64(kv->value);
        else if (!strncmp(rel, "f/", 2)) {
            apr_hash_set(by_file, rel + 2, APR_HASH_KEY_STRING, kv);
            if (strcmp(rel + 2, MD_FN_MD)) APR_ARRAY_PUSH(files, const char *) = rel + 2;
        }
    }
    if (!*pgen || !apr_hash_get(by_file, MD_FN_MD, APR_HASH_KEY_STRING)) return APR_ENOENT;
    /* 2. staging/<name> replaced; md.json last: it completes the set */
    APR_ARRAY_PUSH(files, const char *) = MD_FN_MD;
    md_store_purge(store, MD_SG_STAGING, name, p);
    for (i = 0; i < files->nelts && rv == APR_SUCCESS; ++i) {
        file = APR_ARRAY_IDX(files, i, const char *);
        rv = pull_file(farm, store, name, file, apr_hash_get(by_file, file, APR_HASH_KEY_STRING), p);
    }
    if (rv != APR_SUCCESS) {
        md_store_purge(store, MD_SG_STAGING, name, p);
        return rv;
    }
    /* 3. this node has it */
    return local_generation_set(store, name, *pgen, p);
}

/* ---- challenges -------------------------------------------------------------------- */

/* An answer of a challenge type for a name, on a lease of its own (it outlives no
 * renewal by much), and looked up by exactly that name. */
static apr_status_t answer_put(md_farm_t *farm, const char *type, const char *name, const char *key_authz,
                               long ttl, apr_pool_t *p)
{
    apr_int64_t lease;
    apr_status_t rv;

    rv = md_etcd_lease_grant(&lease, farm->etcd, ttl, p);
    if (rv != APR_SUCCESS) return rv;
    return md_etcd_put(farm->etcd, md_farm_key(farm, type, name, p), key_authz, strlen(key_authz), lease, p);
}

static apr_status_t answer_get(const char **pkey_authz, md_farm_t *farm, const char *type, const char *name,
                               apr_pool_t *p)
{
    md_etcd_kv_t *kv;
    apr_status_t rv;

    *pkey_authz = NULL;
    rv = md_etcd_get(&kv, farm->etcd, md_farm_key(farm, type, name, p), p);
    if (rv == APR_SUCCESS) *pkey_authz = kv->value;
    return rv;
}

apr_status_t md_farm_answers_drop(md_farm_t *farm, const apr_array_header_t *names, apr_pool_t *p)
{
    md_etcd_txn_t *txn = md_etcd_txn_make(p);
    const char *name;
    int i, ok;

    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        md_etcd_txn_delete(txn, md_farm_key(farm, "challenges/http-01", name, p));
        md_etcd_txn_delete(txn, md_farm_key(farm, "challenges/tls-alpn-01", name, p));
    }
    return md_etcd_txn_commit(&ok, farm->etcd, txn, p);
}

apr_status_t md_farm_http01_put(md_farm_t *farm, const char *name, const char *key_authz, long ttl,
                                apr_pool_t *p)
{
    return answer_put(farm, "challenges/http-01", name, key_authz, ttl, p);
}

apr_status_t md_farm_http01_get(const char **pkey_authz, md_farm_t *farm, const char *name,
                                apr_pool_t *p)
{
    return answer_get(pkey_authz, farm, "challenges/http-01", name, p);
}

apr_status_t md_farm_tlsalpn01_put(md_farm_t *farm, const char *name, const char *key_authz, long ttl,
                                   apr_pool_t *p)
{
    return answer_put(farm, "challenges/tls-alpn-01", name, key_authz, ttl, p);
}

apr_status_t md_farm_tlsalpn01_get(const char **pkey_authz, md_farm_t *farm, const char *name,
                                   apr_pool_t *p)
{
    return answer_get(pkey_authz, farm, "challenges/tls-alpn-01", name, p);
}
