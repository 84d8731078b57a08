/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A farm of servers on etcd, the httpd side (docs/farm.md; the core is md_farm.c):
 * - MDStore etcd URL[,URL...] [prefix=/md/] [ca=FILE] [auth=FILE] farm-key=FILE [node=NAME];
 * - the renewal of an MD takes the MD's farm lock (tried once; busy means another node
 *   renews it) and publishes the staged set under it;
 * - a thread next to the renewal watchdog (in the same child) watches the farm's
 *   generations: one full read, then etcd's watch, resumed from its revision after a
 *   disconnect, with a full read again every few minutes and after each reconnect. The
 *   watchdog's next tick looks at an MD with a newer generation, and pulls the set into
 *   staging/, where the node takes it up as its own renewal (the 'renewed' event,
 *   MDActivationRestart, or the next graceful restart). The watchdog's own look at the
 *   engine every few seconds (for status and metrics) catches newer generations too: the
 *   fallback when the thread is not there;
 * - http-01 answers go to the engine before the CA is told to look, and any node answers
 *   from it what its own store does not hold.
 * Every node keeps serving from its local store while the engine cannot be reached. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md_mod.h"
#include "md_farm.h"
#include "md_chall.h"
#include "md_names.h"
#include "md_renew.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

/* the look at the engine for status and metrics (and, without the watcher thread, for
 * new generations) */
#define FARM_POLL apr_time_from_sec(5)
#define FARM_ANSWER_TTL 600          /* seconds a challenge answer stays in the engine */
#define FARM_TIMEOUT apr_time_from_sec(5)
/* A watch round lasts this long, then a full read checks what the watch said. It also
 * bounds how long a connection that died without a word goes unnoticed: etcd's progress
 * notices come every 10 minutes by default (a server setting), too seldom to be the
 * heartbeat; TCP keep-alive probes (md_http) find a vanished peer sooner. */
#define FARM_WATCH_ROUND apr_time_from_sec(300)
#define FARM_WATCH_BACKOFF_MIN apr_time_from_sec(1)
#define FARM_WATCH_BACKOFF_MAX apr_time_from_sec(30)

typedef struct farm_watcher_t farm_watcher_t;

struct md_mod_farm_t {
    md_farm_config_t config;
    const char *at;                  /* "file:line" of MDStore, for messages */
    apr_time_t next_poll;
    volatile apr_uint32_t unreachable; /* the engine's outage was logged (any thread) */
    md_farm_t *poller;               /* the watchdog's own client, kept (its auth token too) */
    /* a child's tls-alpn-01 certificates made from the farm's answers: the CA looks a few
     * times per challenge, and a new key each time is work for nothing */
    apr_thread_mutex_t *alpn_mutex;
    apr_pool_t *alpn_pool;
    apr_hash_t *alpn_certs;          /* name -> alpn_cert_t */
    volatile void *watcher;          /* farm_watcher_t: the watch's thread, in the watchdog's
                                      * child; swapped atomically, two threads stop it */
};

typedef struct {
    const char *authz, *cert, *key;
    apr_time_t made;
} alpn_cert_t;

#define FARM_ALPN_CACHE_MAX 32       /* names; more at once and the cache starts afresh */
#define FARM_ALPN_CACHE_AGE apr_time_from_sec(60)

/* ---- MDStore -------------------------------------------------------------------------- */

static const char *store_err(cmd_parms *cmd, const char *msg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, msg);
}

const char *md_mod_farm_cmd_store(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    md_mod_farm_t *farm;
    const char *err;

    if (argc == 1 && !strcasecmp(argv[0], "file")) {
        mc->farm = NULL;
        return NULL;
    }
    if (argc < 2 || strcasecmp(argv[0], "etcd")) {
        return store_err(cmd, "'file', or 'etcd URL[,URL...] farm-key=FILE [prefix=/md/] [ca=FILE] "
                         "[auth=FILE] [node=NAME] [lock-ttl=SECONDS]'");
    }
    farm = apr_pcalloc(cmd->pool, sizeof(*farm));
    farm->at = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename, cmd->directive->line_num);
    err = md_farm_config_parse(&farm->config, argc - 1, (const char *const *)argv + 1,
                               ap_server_root_relative(cmd->pool, ""), cmd->pool);
    if (err) return store_err(cmd, err);
    farm->config.etcd.timeout = FARM_TIMEOUT;
    mc->farm = farm;
    return NULL;
}

/* ---- the engine, from the renewal watchdog ------------------------------------------- */

static md_farm_t *farm_client(md_mod_farm_t *mf, apr_pool_t *p)
{
    md_farm_config_t cfg = mf->config;
    md_farm_t *farm = NULL;
    char host[256];

    if (!cfg.node) {
        if (gethostname(host, sizeof(host)) != 0) apr_cpystrn(host, "?", sizeof(host));
        host[sizeof(host) - 1] = '\0';
        cfg.node = apr_psprintf(p, "%s pid %d", host, (int)getpid());
    }
    if (md_farm_create(&farm, &cfg, p) != APR_SUCCESS) return NULL;
    return farm;
}

md_farm_t *md_mod_farm_client(md_mod_conf_t *mc, apr_pool_t *p)
{
    return mc->farm ? farm_client(mc->farm, p) : NULL;
}

/* How long a node waits for another registering the farm's account at a CA: longer than
 * a registration takes, shorter than a renewal should stall */
#define FARM_ACCT_WAIT apr_time_from_sec(30)

md_acme_acct_share_t *md_mod_farm_acct_share(md_mod_conf_t *mc, apr_pool_t *p)
{
    md_acme_acct_share_t *share;
    md_farm_t *farm = md_mod_farm_client(mc, p);

    if (!farm || md_farm_acct_share(&share, farm, FARM_ACCT_WAIT, p) != APR_SUCCESS) return NULL;
    return share;
}

/* An outage is logged when it starts and when it ends, not at every look. */
static void engine_state(md_mod_farm_t *mf, server_rec *s, apr_status_t rv, md_farm_t *farm,
                         apr_pool_t *p)
{
    /* the watcher and the renewals both report: the one that flips the state logs */
    if (rv == APR_SUCCESS && apr_atomic_cas32(&mf->unreachable, 0, 1) == 1) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1764: the farm's etcd (MDStore at %s) answers "
                     "again", mf->at);
    }
    else if (rv != APR_SUCCESS && apr_atomic_cas32(&mf->unreachable, 1, 0) == 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1765: the farm's etcd (MDStore at %s): %s; this "
                     "node serves what it has and renews nothing until it answers",
                     mf->at, farm ? md_etcd_error(md_farm_etcd(farm)) : "no client");
    }
}

void md_mod_farm_check(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    md_farm_t *farm;
    apr_hash_t *gens;
    apr_status_t rv;

    if (!mc->farm) return;
    farm = farm_client(mc->farm, p);
    rv = farm ? md_farm_generations(&gens, farm, p) : APR_EGENERAL;
    engine_state(mc->farm, s, rv, farm, p);
    if (rv == APR_SUCCESS) ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD1766: the farm's etcd (MDStore "
                                        "at %s) holds %d published MD(s)", mc->farm->at,
                                        apr_hash_count(gens));
}

/* The poll's client, made once in the watchdog's thread, in a pool of its own (the
 * configuration pool is not for other threads to allocate from). */
static md_farm_t *poller(md_mod_farm_t *mf)
{
    apr_pool_t *pool;

    if (!mf->poller) {
        apr_pool_create(&pool, NULL);
        mf->poller = farm_client(mf, pool);
        if (!mf->poller) apr_pool_destroy(pool);
    }
    return mf->poller;
}

/* ---- the watch of the generations ----------------------------------------------------- */

/* The watcher thread tells the renewal watchdog's thread which MDs the farm has a newer
 * set of; mc->watched is the watchdog's alone, so the news goes through this record. */
struct farm_watcher_t {
    md_mod_farm_t *mf;
    server_rec *s;
    apr_pool_t *pool;                /* the thread's; kept until the process ends */
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;         /* a stop cuts the backoff short */
    volatile apr_uint32_t stop;      /* also cancels the thread's requests */
    apr_hash_t *index;               /* MD name -> int* index in mc->watched (read only) */
    /* under lock, per watched MD: */
    apr_int64_t *newest;             /* the newest generation heard of */
    int *told;                       /* heard of since the watchdog last looked */
    md_farm_watch_t fw;              /* the thread's own */
};

/* md_farm_gen_fn, in the watcher thread: every generation read or seen published */
static void watcher_gen(void *baton, const char *name, apr_int64_t gen)
{
    farm_watcher_t *fwr = baton;
    int *i = apr_hash_get(fwr->index, name, APR_HASH_KEY_STRING);

    if (!i) return;                  /* an MD this node does not serve */
    apr_thread_mutex_lock(fwr->lock);
    if (gen > fwr->newest[*i]) fwr->newest[*i] = gen;
    fwr->told[*i] = 1;
    apr_thread_mutex_unlock(fwr->lock);
}

/* A full read succeeded: the engine answers (MD1764 after an outage). */
static void watcher_read(void *baton, apr_int64_t revision)
{
    farm_watcher_t *fwr = baton;

    (void)revision;
    engine_state(fwr->mf, fwr->s, APR_SUCCESS, NULL, fwr->pool);
}

/* Waits d, or less when stopped; 1 when stopped. */
static int watcher_sleep(farm_watcher_t *fwr, apr_interval_time_t d)
{
    apr_time_t until = apr_time_now() + d, now;

    apr_thread_mutex_lock(fwr->lock);
    while (!apr_atomic_read32(&fwr->stop) && (now = apr_time_now()) < until) {
        apr_thread_cond_timedwait(fwr->wake, fwr->lock, until - now);
    }
    apr_thread_mutex_unlock(fwr->lock);
    return (int)apr_atomic_read32(&fwr->stop);
}

/* The next wait after a failed round: doubled, within bounds, with a fifth of jitter so
 * that the nodes of a farm do not all come back at the same moment. */
static apr_interval_time_t watcher_backoff(apr_interval_time_t last)
{
    apr_interval_time_t d = last ? last * 2 : FARM_WATCH_BACKOFF_MIN;
    unsigned char b = 128;

    if (d > FARM_WATCH_BACKOFF_MAX) d = FARM_WATCH_BACKOFF_MAX;
    md_rand_bytes(&b, 1);
    return d - d / 10 + (apr_interval_time_t)((double)d / 5.0 * (double)b / 255.0);
}

/* One round ended: what it says about the engine, and how long to wait before the next.
 * The round's time up: the next goes at once. The watch dropped after the full read
 * worked: the engine answers, so about a second. The read failed: the engine cannot be
 * reached (MD1765). Each failure in a row doubles the wait (a watch that keeps dropping
 * while reads work must not turn into a full read every second). */
static apr_interval_time_t watcher_after(farm_watcher_t *fwr, md_farm_t *farm, apr_status_t rv,
                                         apr_interval_time_t *pbackoff, apr_pool_t *p)
{
    md_farm_watch_t *fw = &fwr->fw;

    if (fw->compacted) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, fwr->s, "MD1775: the farm's etcd compacted its "
                     "history past what this node had seen; it read every generation again and "
                     "watches from revision %" APR_INT64_T_FMT, fw->next);
    }
    if (rv == APR_SUCCESS) {
        *pbackoff = 0;
        return 0;
    }
    if (!fw->read_revision) engine_state(fwr->mf, fwr->s, rv, farm, p);
    *pbackoff = watcher_backoff(*pbackoff);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, fwr->s, "MD1774: the watch of the farm's generations "
                 "ended (%s); it resumes from revision %" APR_INT64_T_FMT " in %" APR_TIME_T_FMT
                 " ms, after a full read", md_etcd_error(md_farm_etcd(farm)), fw->next,
                 apr_time_as_msec(*pbackoff));
    return *pbackoff;
}

/* The thread: rounds of a full read and a watch until stopped. After a disconnect the
 * watch resumes from the revision after the last it saw, and a full read precedes it:
 * the watch misses nothing etcd still has, the read covers what it compacted away. */
static void *APR_THREAD_FUNC watcher_run(apr_thread_t *thread, void *baton)
{
    farm_watcher_t *fwr = baton;
    md_mod_farm_t *mf = fwr->mf;
    md_farm_config_t cfg = mf->config;
    md_farm_t *farm = NULL;
    apr_interval_time_t backoff = 0, wait;
    apr_time_t started;
    apr_pool_t *p;
    apr_status_t rv;

    (void)thread;
    cfg.etcd.cancel = &fwr->stop;
    if (md_farm_create(&farm, &cfg, fwr->pool) != APR_SUCCESS) return NULL;
    apr_pool_create(&p, fwr->pool);
    while (!apr_atomic_read32(&fwr->stop)) {
        fwr->fw.full_read = 1;
        started = apr_time_now();
        rv = md_farm_watch(&fwr->fw, farm, p);
        /* a watch that lasted was no failure in a row: the next drop waits a second again */
        if (apr_time_now() - started > 2 * FARM_WATCH_BACKOFF_MAX) backoff = 0;
        if (apr_atomic_read32(&fwr->stop)) break;
        wait = watcher_after(fwr, farm, rv, &backoff, p);
        apr_pool_clear(p);
        if (wait && watcher_sleep(fwr, wait)) break;
    }
    return NULL;
}

static apr_status_t watcher_make(farm_watcher_t **pfwr, md_mod_conf_t *mc, server_rec *s)
{
    farm_watcher_t *fwr;
    apr_pool_t *pool;
    apr_status_t rv;
    int i, *idx;

    apr_pool_create(&pool, NULL);
    fwr = apr_pcalloc(pool, sizeof(*fwr));
    fwr->mf = mc->farm;
    fwr->s = s;
    fwr->pool = pool;
    fwr->index = apr_hash_make(pool);
    fwr->newest = apr_pcalloc(pool, sizeof(apr_int64_t) * (apr_size_t)(mc->watched->nelts + 1));
    fwr->told = apr_pcalloc(pool, sizeof(int) * (apr_size_t)(mc->watched->nelts + 1));
    for (i = 0; i < mc->watched->nelts; ++i) {
        idx = apr_palloc(pool, sizeof(*idx));
        *idx = i;
        apr_hash_set(fwr->index, apr_pstrdup(pool, APR_ARRAY_IDX(mc->watched, i, md_watch_t *)->md->name),
                     APR_HASH_KEY_STRING, idx);
    }
    fwr->fw.cb = watcher_gen;
    fwr->fw.on_read = watcher_read;
    fwr->fw.baton = fwr;
    fwr->fw.duration = FARM_WATCH_ROUND;
    fwr->fw.cancel = &fwr->stop;
    rv = apr_thread_mutex_create(&fwr->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv == APR_SUCCESS) rv = apr_thread_cond_create(&fwr->wake, pool);
    if (rv == APR_SUCCESS) rv = apr_thread_create(&fwr->thread, NULL, watcher_run, fwr, pool);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
    *pfwr = fwr;
    return APR_SUCCESS;
}

void md_mod_farm_watch_start(md_mod_conf_t *mc, server_rec *s)
{
    farm_watcher_t *fwr;
    apr_status_t rv;

    if (!mc->farm || mc->farm->watcher || !mc->watched->nelts) return;
    rv = watcher_make(&fwr, mc, s);
    if (rv == APR_SUCCESS) apr_atomic_casptr(&mc->farm->watcher, fwr, NULL);
    else {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1776: the watch of the farm's etcd (MDStore at "
                     "%s) could not start; this node reads the farm's generations every 5 "
                     "seconds instead", mc->farm->at);
    }
}

/* Called by the watchdog's thread when it stops and by the child's exit, which does not
 * wait for that thread (md_mod_renew.c): whoever comes first joins the watcher. Its record
 * stays (the watchdog may be looking at it; the process is ending). */
void md_mod_farm_watch_stop(md_mod_conf_t *mc)
{
    farm_watcher_t *fwr;
    apr_status_t trv;

    if (!mc->farm) return;
    fwr = apr_atomic_xchgptr(&mc->farm->watcher, NULL);
    if (!fwr) return;
    /* a request in flight sees the flag within about a second; a backoff at once */
    apr_thread_mutex_lock(fwr->lock);
    apr_atomic_set32(&fwr->stop, 1);
    apr_thread_cond_broadcast(fwr->wake);
    apr_thread_mutex_unlock(fwr->lock);
    apr_thread_join(&trv, fwr->thread);
}

/* The MDs the watcher heard of: one the farm has a newer set of is looked at now, and
 * its turn pulls the set. An MD renewing now is looked at again once it is done. */
static void watcher_take(farm_watcher_t *fwr, md_mod_conf_t *mc, apr_pool_t *p)
{
    md_watch_t *w;
    apr_int64_t gen;
    int i, told;

    for (i = 0; i < mc->watched->nelts; ++i) {
        w = APR_ARRAY_IDX(mc->watched, i, md_watch_t *);
        apr_thread_mutex_lock(fwr->lock);
        told = fwr->told[i] && !apr_atomic_read32(&w->running);
        if (told) fwr->told[i] = 0;
        gen = fwr->newest[i];
        apr_thread_mutex_unlock(fwr->lock);
        if (told && gen > md_farm_local_generation(mc->store, w->md->name, p)) {
            w->next_check = apr_time_now();
        }
    }
}

void md_mod_farm_poll(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    farm_watcher_t *fwr;
    md_farm_t *farm;
    apr_hash_t *gens;
    md_json_t *view = NULL;
    apr_int64_t *gen;
    md_watch_t *w;
    apr_status_t rv;
    int i;

    if (!mc->farm) return;
    /* what the watch heard of, at every tick */
    fwr = apr_atomic_casptr(&mc->farm->watcher, NULL, NULL);
    if (fwr) watcher_take(fwr, mc, p);
    if (apr_time_now() < mc->farm->next_poll) return;
    mc->farm->next_poll = apr_time_now() + FARM_POLL;
    farm = poller(mc->farm);
    /* the generations with the lock holders and the nodes, in the same one request */
    rv = farm ? md_farm_view_read(&view, &gens, farm, p) : APR_EGENERAL;
    engine_state(mc->farm, s, rv, farm, p);
    md_mod_farm_status_update(mc, s, farm, rv, view, p);
    if (rv != APR_SUCCESS) return;
    /* an MD the farm has a newer set of is looked at now: its turn pulls the set */
    for (i = 0; i < mc->watched->nelts; ++i) {
        w = APR_ARRAY_IDX(mc->watched, i, md_watch_t *);
        gen = apr_hash_get(gens, w->md->name, APR_HASH_KEY_STRING);
        if (gen && *gen > md_farm_local_generation(mc->store, w->md->name, p)) {
            w->next_check = apr_time_now();
        }
    }
}

int md_mod_farm_pull_newer(md_mod_conf_t *mc, server_rec *s, const md_t *md, apr_pool_t *p)
{
    md_farm_t *farm;
    apr_int64_t gen;
    apr_status_t rv;

    if (!mc->farm) return 0;
    farm = farm_client(mc->farm, p);
    if (!farm || md_farm_generation(&gen, farm, md->name, p) != APR_SUCCESS) return 0;
    if (gen <= md_farm_local_generation(mc->store, md->name, p)) return 0;
    rv = md_farm_pull(&gen, farm, mc->store, md->name, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1767: %s: the farm's set could not be pulled: %s",
                     md->name, md_etcd_error(md_farm_etcd(farm)));
        return 0;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1768: %s: pulled generation %" APR_INT64_T_FMT
                 " from the farm into staging", md->name, gen);
    return 1;
}

apr_status_t md_mod_farm_lock(struct md_farm_lock_t **plock, md_mod_conf_t *mc, server_rec *s,
                              const md_t *md, apr_pool_t *p)
{
    md_farm_t *farm;
    const char *holder = NULL;
    apr_status_t rv;

    *plock = NULL;
    if (!mc->farm) return APR_SUCCESS;
    farm = farm_client(mc->farm, p);
    if (!farm) return APR_EGENERAL;
    rv = md_farm_lock_try(plock, &holder, farm, md->name, p);
    if (rv == APR_EBUSY) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD1769: %s: renewed by %s in the farm", md->name,
                     holder ? holder : "another node");
    }
    else if (rv != APR_SUCCESS) engine_state(mc->farm, s, rv, farm, p);
    return rv;
}

static void files_add_staged(apr_array_header_t *files, md_mod_conf_t *mc, const char *name,
                             const char *file, apr_pool_t *p)
{
    if (md_store_exists(mc->store, MD_SG_STAGING, name, file, p) == APR_SUCCESS) {
        APR_ARRAY_PUSH(files, const char *) = file;
    }
}

apr_status_t md_mod_farm_publish(struct md_farm_lock_t *lock, md_mod_conf_t *mc, server_rec *s,
                                 const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *files;
    apr_int64_t gen;
    apr_status_t rv;

    if (!lock) return APR_SUCCESS;
    /* the set as activation takes it, with a new account when one was made for it */
    files = md_renew_staged_files(mc->store, md, p);
    files_add_staged(files, mc, md->name, MD_FN_ACCOUNT, p);
    files_add_staged(files, mc, md->name, MD_FN_ACCT_KEY, p);
    rv = md_farm_publish(&gen, lock, mc->store, md->name, files, p);
    if (rv == MD_FARM_EFENCED) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "MD1770: %s: this node lost the farm lock while "
                     "renewing; its set is dropped, the farm's is pulled", md->name);
    }
    else if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1771: %s: the renewed set could not be published "
                     "to the farm; it is dropped and renewed again", md->name);
    }
    else ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1772: %s: published generation %"
                      APR_INT64_T_FMT " to the farm", md->name, gen);
    return rv;
}

void md_mod_farm_unlock(struct md_farm_lock_t *lock)
{
    md_farm_unlock(lock);
}

int md_mod_farm_resume(struct md_farm_lock_t *lock, md_mod_conf_t *mc, server_rec *s, const md_t *md,
                       apr_pool_t *p)
{
    md_farm_t *farm;
    const char *node;
    apr_status_t rv;

    if (!lock) return 0;
    farm = farm_client(mc->farm, p);
    rv = farm ? md_farm_order_take(&node, farm, mc->store, md->name, p) : APR_EGENERAL;
    if (rv == APR_ENOENT) return 0;
    if (rv != APR_SUCCESS) {
        /* what was copied has no order.json (it comes last): the renewal orders anew */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "MD1785: %s: the order in progress in the farm "
                     "could not be taken over (%s); ordering anew", md->name,
                     farm ? md_etcd_error(md_farm_etcd(farm)) : "no client");
        return 0;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1781: %s: resuming the order of node %s", md->name, node);
    return 1;
}

void md_mod_farm_answers_drop(md_mod_conf_t *mc, const md_t *md, apr_pool_t *p)
{
    md_farm_t *farm = mc->farm ? farm_client(mc->farm, p) : NULL;

    if (farm) md_farm_answers_drop(farm, md->domains, p);    /* else their lease ends them */
}

void md_mod_farm_order_drop(struct md_farm_lock_t *lock, md_mod_conf_t *mc, const md_t *md, apr_pool_t *p)
{
    md_farm_t *farm;

    if (!lock) return;
    farm = farm_client(mc->farm, p);
    if (farm) md_farm_order_drop(lock, farm, md->name, p);    /* else it fails at the CA in turn */
}

/* The files of the order in progress besides order.json: keys and certificates of the
 * key specs done so far (a set's md.json and job are not an order's). */
static apr_array_header_t *order_files(md_mod_conf_t *mc, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *all = md_renew_staged_files(mc->store, md, p);
    apr_array_header_t *files = apr_array_make(p, all->nelts, sizeof(const char *));
    const char *file;
    int i;

    for (i = 0; i < all->nelts; ++i) {
        file = APR_ARRAY_IDX(all, i, const char *);
        if (strcmp(file, MD_FN_MD) && strcmp(file, MD_FN_JOB)) APR_ARRAY_PUSH(files, const char *) = file;
    }
    return files;
}

/* The answer of a challenge type that other nodes give from the engine. */
static apr_status_t answer_share(md_mod_conf_t *mc, md_farm_t *farm, const char *type, const char *name,
                                 apr_pool_t *p)
{
    const char *authz;
    apr_status_t rv;

    if (!strcmp(type, "http-01")) {
        rv = md_store_load_text(&authz, mc->store, MD_SG_CHALLENGES, name, MD_FN_HTTP01, p);
        return rv == APR_SUCCESS ? md_farm_http01_put(farm, name, authz, FARM_ANSWER_TTL, p) : rv;
    }
    if (!strcmp(type, "tls-alpn-01")) {
        rv = md_store_load_text(&authz, mc->store, MD_SG_CHALLENGES, name, MD_FN_TLSALPN01_AUTHZ, p);
        return rv == APR_SUCCESS ? md_farm_tlsalpn01_put(farm, name, authz, FARM_ANSWER_TTL, p) : rv;
    }
    return APR_SUCCESS;     /* dns-01: the TXT records are the farm's already */
}

/* challenge-setup:<type>:<name>: the order in progress and the answer go to the engine
 * before the CA is told to look; a lock lost meanwhile stops the renewal here. */
apr_status_t md_mod_farm_challenge(md_mod_conf_t *mc, struct md_farm_lock_t *lock, const md_t *md,
                                   const char *event, apr_pool_t *p)
{
    static const char prefix[] = "challenge-setup:";
    char *type, *colon;
    md_farm_t *farm;
    apr_status_t rv;

    if (!lock) return APR_SUCCESS;
    if (md_farm_lock_lost(lock)) return MD_FARM_EFENCED;
    if (strncmp(event, prefix, sizeof(prefix) - 1)) return APR_SUCCESS;
    type = apr_pstrdup(p, event + sizeof(prefix) - 1);     /* <type>:<name> */
    colon = strchr(type, ':');
    if (!colon) return APR_SUCCESS;
    *colon = '\0';
    farm = farm_client(mc->farm, p);
    if (!farm) return APR_EGENERAL;
    /* 1. the order, so that another node can finish it should this one die */
    rv = md_farm_order_put(lock, farm, mc->store, md->name, order_files(mc, md, p), p);
    if (rv == APR_ENOENT) rv = APR_SUCCESS;              /* no order staged: nothing to go on with */
    /* 2. the answer, for any node the CA's request lands on */
    if (rv == APR_SUCCESS) rv = answer_share(mc, farm, type, colon + 1, p);
    MD_FAULT("farm-challenge-shared");     /* the crash tests: the holder dies here */
    return rv;
}

const char *md_mod_farm_http01(md_mod_conf_t *mc, const char *host, apr_pool_t *p)
{
    md_farm_t *farm;
    const char *authz;

    /* only for a name of an MD: any other Host must not make an engine request */
    if (!mc->farm || !mc->md_names || !md_names_exact(mc->md_names, host)) return NULL;
    farm = farm_client(mc->farm, p);
    if (!farm || md_farm_http01_get(&authz, farm, host, p) != APR_SUCCESS) return NULL;
    return authz;
}

/* ---- tls-alpn-01 from the engine, in the children ----------------------------------- */

void md_mod_farm_child_init(md_mod_conf_t *mc, apr_pool_t *pchild)
{
    if (!mc->farm) return;
    if (apr_thread_mutex_create(&mc->farm->alpn_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        mc->farm->alpn_mutex = NULL;      /* then no tls-alpn-01 from the engine */
        return;
    }
    apr_pool_create(&mc->farm->alpn_pool, pchild);
    mc->farm->alpn_certs = apr_hash_make(mc->farm->alpn_pool);
}

/* The certificate made for name and authz lately, or a new one (then kept). */
static apr_status_t alpn_cert(const char **pcert, const char **pkey, md_mod_farm_t *mf, const char *name,
                              const char *authz, apr_pool_t *p)
{
    alpn_cert_t *ac;
    apr_status_t rv = APR_SUCCESS;

    apr_thread_mutex_lock(mf->alpn_mutex);
    ac = apr_hash_get(mf->alpn_certs, name, APR_HASH_KEY_STRING);
    if (!ac || strcmp(ac->authz, authz) || apr_time_now() - ac->made > FARM_ALPN_CACHE_AGE) {
        if (apr_hash_count(mf->alpn_certs) >= FARM_ALPN_CACHE_MAX) {
            apr_pool_clear(mf->alpn_pool);
            mf->alpn_certs = apr_hash_make(mf->alpn_pool);
        }
        ac = apr_pcalloc(mf->alpn_pool, sizeof(*ac));
        rv = md_chall_tlsalpn01_make(&ac->cert, &ac->key, name, authz, mf->alpn_pool);
        ac->authz = apr_pstrdup(mf->alpn_pool, authz);
        ac->made = apr_time_now();
        if (rv == APR_SUCCESS) apr_hash_set(mf->alpn_certs, apr_pstrdup(mf->alpn_pool, name),
                                            APR_HASH_KEY_STRING, ac);
    }
    if (rv == APR_SUCCESS) {
        *pcert = apr_pstrdup(p, ac->cert);
        *pkey = apr_pstrdup(p, ac->key);
    }
    apr_thread_mutex_unlock(mf->alpn_mutex);
    return rv;
}

int md_mod_farm_tlsalpn01(md_mod_conf_t *mc, const char *name, const char **pcert, const char **pkey,
                          apr_pool_t *p)
{
    md_farm_t *farm;
    const char *authz;

    /* only for a name of an MD: any other SNI must not make an engine request */
    if (!mc->farm || !mc->farm->alpn_mutex || !mc->md_names || !md_names_exact(mc->md_names, name)) {
        return 0;
    }
    farm = farm_client(mc->farm, p);
    if (!farm || md_farm_tlsalpn01_get(&authz, farm, name, p) != APR_SUCCESS) return 0;
    return alpn_cert(pcert, pkey, mc->farm, name, authz, p) == APR_SUCCESS;
}
