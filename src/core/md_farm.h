/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A farm of servers sharing their MDs through etcd (docs/farm.md). Each node keeps its
 * file store as its replica, from which it serves; etcd holds what the farm agrees on:
 * - a lock per MD, backed by a lease (TTL about a minute, kept alive at a third of it):
 *   a crashed holder's lock goes when its lease does. The lock key's create_revision is
 *   the fencing token: every write made under the lock is a transaction conditioned on
 *   it, so a holder that lost its lock (paused, cut off) writes nothing;
 * - the published set of each MD (the files of a staged set) with a generation counter,
 *   written in one transaction; private keys sealed with AES-256-GCM under the farm key;
 * - challenge answers (http-01) under a short lease, so that any node answers the CA.
 * Keys under the prefix P:
 *   P locks/<md>                  the lock: the holder's node name, on its lease
 *   P gen/<md>                    the MD's generation (decimal), read by every node's poll
 *   P sets/<md>/gen               the same generation, inside the set (one range reads both)
 *   P sets/<md>/files             the set's file names, one a line
 *   P sets/<md>/f/<file>          a file; keys sealed
 *   P challenges/http-01/<name>   the key authorization for the name, on a short lease
 *   P challenges/tls-alpn-01/<name> the same for tls-alpn-01
 *   P orders/<md>/...             the order in progress of the lock's holder (md_farm_order.c)
 *   P locks/ocsp/<id>             the lock of one certificate's OCSP fetch (md_farm_ocsp.c)
 *   P ocsp/<id>                   the farm's OCSP response of a certificate (<id>: SHA-1 hex)
 *   P locks/account/<ca>          the lock of registering an account at a CA (md_farm_acct.c)
 *   P accounts/<ca>/account.json  the account the farm registered there, and its key sealed
 *   P accounts/<ca>/account.pem   (<ca>: SHA-256 hex of the CA URL and the EAB key id) */
#ifndef md_farm_h
#define md_farm_h

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_tables.h>

#include "md_etcd.h"
#include "md_json.h"
#include "md_store.h"
#include "md_ocsp.h"
#include "md_acme_acct.h"

#define MD_FARM_KEY_LEN 32
#define MD_FARM_LOCK_TTL 60              /* seconds */
/* publish() with a lock that is no longer held: the engine refused the write */
#define MD_FARM_EFENCED APR_ECONNABORTED

typedef struct {
    md_etcd_config_t etcd;
    const char *prefix;                  /* ends with '/'; "/md/" when NULL */
    const unsigned char *key;            /* the farm key, MD_FARM_KEY_LEN bytes */
    const char *node;                    /* this node's name, shown as lock holder */
    long lock_ttl;                       /* seconds; 0: MD_FARM_LOCK_TTL */
} md_farm_config_t;

typedef struct md_farm_t md_farm_t;

/* ---- the configuration (md_farm_conf.c) ------------------------------------------ */

/* The words after "MDStore etcd": "URL[,URL...]" then NAME=VALUE options (prefix=, ca=,
 * auth=, farm-key=, node=, lock-ttl=); relative file names are taken from root (when not
 * NULL). The farm key and the credentials are read here. NULL when all is well, else what
 * is wrong and what to do. */
const char *md_farm_config_parse(md_farm_config_t *config, int argc, const char *const *argv,
                                 const char *root, apr_pool_t *p);

/* ---- the farm key (md_farm_key.c) ------------------------------------------------ */

/* Read the farm key: 32 bytes, as they are or as 64 hex digits (a final newline is
 * fine). The file must be a regular file of root's with no access for group or others;
 * otherwise APR_EACCES (or the read's error) and *pwhy says what is wrong. */
apr_status_t md_farm_key_load(const unsigned char **pkey, const char **pwhy, const char *path,
                              apr_pool_t *p);
/* Seal data with AES-256-GCM under key; aad (associated data: what the data is) must be
 * given again to open it. The sealed form is binary: "mdf1", 12 bytes nonce, the
 * ciphertext, 16 bytes tag. */
apr_status_t md_farm_seal(const char **psealed, apr_size_t *plen, const unsigned char *key,
                          const char *aad, const void *data, apr_size_t len, apr_pool_t *p);
/* APR_EINVAL when not sealed, APR_EACCES when the key or the aad is not the one it was
 * sealed with (or the data was changed). The opened data is NUL-terminated. */
apr_status_t md_farm_open(const char **pdata, apr_size_t *plen, const unsigned char *key,
                          const char *aad, const char *sealed, apr_size_t len, apr_pool_t *p);

/* ---- the farm (md_farm.c) -------------------------------------------------------- */

/* A farm client, used by one thread at a time (it holds an md_etcd_t). */
apr_status_t md_farm_create(md_farm_t **pfarm, const md_farm_config_t *config, apr_pool_t *p);
md_etcd_t *md_farm_etcd(md_farm_t *farm);
/* The farm's configuration, defaults filled in (node, prefix, lock_ttl). */
const md_farm_config_t *md_farm_config(const md_farm_t *farm);
/* A key under the farm's prefix. */
const char *md_farm_key(const md_farm_t *farm, const char *part, const char *name, apr_pool_t *p);

/* The lock of an MD, tried once: APR_EBUSY when another holds it (*pholder, when given,
 * names the node). While held, a thread of its own keeps the lease alive every TTL/3;
 * when that fails until the lease may have run out, the lock counts as lost. */
typedef struct md_farm_lock_t md_farm_lock_t;
apr_status_t md_farm_lock_try(md_farm_lock_t **plock, const char **pholder, md_farm_t *farm,
                              const char *name, apr_pool_t *p);
/* The lock's fencing token (its key's create_revision). */
apr_int64_t md_farm_lock_token(const md_farm_lock_t *lock);
/* Is the lock lost (its lease not renewed in time, or gone)? Checked before each step
 * that would act on the lock. */
int md_farm_lock_lost(const md_farm_lock_t *lock);
/* The flag md_farm_lock_lost() reads, for md_http_config_t.cancel_also: a holder that
 * lost its lock makes no further request to the CA (they fail with APR_EINTR). */
volatile apr_uint32_t *md_farm_lock_lost_flag(md_farm_lock_t *lock);
/* Make a transaction succeed only while the lock is this one (its fencing token). */
void md_farm_lock_fence(md_etcd_txn_t *txn, const md_farm_lock_t *lock);
/* The farm key (MD_FARM_KEY_LEN bytes) and this node's name, of a farm client. */
const unsigned char *md_farm_secret(const md_farm_t *farm);
const char *md_farm_node(const md_farm_t *farm);
/* Give the lock up: the keep-alive stops, the lease is revoked (the key goes with it). */
void md_farm_unlock(md_farm_lock_t *lock);

/* Commit txn only while the lock is held (its key's create_revision is the token):
 * MD_FARM_EFENCED when the lock was lost or the engine refused for that reason. */
apr_status_t md_farm_commit_fenced(md_farm_lock_t *lock, md_farm_t *farm, md_etcd_txn_t *txn,
                                   apr_pool_t *p);

/* Publish the staged set of an MD (files: aspects of staging/<name>, e.g. from
 * md_renew_staged_files(), plus account.json and account.pem when staged) with the next
 * generation, in one transaction fenced by the lock. MD_FARM_EFENCED when the lock was
 * lost. *pgen is the new generation. */
apr_status_t md_farm_publish(apr_int64_t *pgen, md_farm_lock_t *lock, md_store_t *store,
                             const char *name, const apr_array_header_t *files, apr_pool_t *p);
/* The same from another group of the store: mdctl farm push publishes the active set
 * (domains/<name>) of a server that becomes a node of a farm. */
apr_status_t md_farm_publish_from(apr_int64_t *pgen, md_farm_lock_t *lock, md_store_t *store,
                                  md_store_group_t group, const char *name,
                                  const apr_array_header_t *files, apr_pool_t *p);
/* The published generation of one MD (0 when none), or of all (name -> apr_int64_t*) in
 * one request. */
apr_status_t md_farm_generation(apr_int64_t *pgen, md_farm_t *farm, const char *name, apr_pool_t *p);
apr_status_t md_farm_generations(apr_hash_t **pgens, md_farm_t *farm, apr_pool_t *p);
/* Watching the generations instead of reading them over and over: one round of
 * md_farm_watch() reads all of them when asked to (or when it has no revision to resume
 * from), then watches gen/ from the revision after what it knows, telling cb every
 * generation it reads or sees published. It ends when duration has passed (APR_SUCCESS),
 * on cancel (APR_EINTR), or when the engine cannot be reached, drops the connection or
 * falls silent for idle. A revision the engine has compacted away meanwhile costs a full
 * read, in the same round. The next round resumes from next: nothing published in
 * between is missed. */
typedef void md_farm_gen_fn(void *baton, const char *name, apr_int64_t gen);

typedef struct {
    md_farm_gen_fn *cb;
    void *baton;
    void (*on_read)(void *baton, apr_int64_t revision); /* a full read succeeded, or NULL */
    apr_interval_time_t idle;        /* see md_etcd_watch_t */
    apr_interval_time_t duration;
    volatile apr_uint32_t *cancel;
    int full_read;                   /* in: read every generation before watching */
    apr_int64_t next;                /* in/out: the revision to resume at; 0: none yet */
    apr_int64_t read_revision;       /* out: the revision of the last full read, or 0 */
    int compacted;                   /* out: the resume revision was compacted away */
} md_farm_watch_t;

apr_status_t md_farm_watch(md_farm_watch_t *fw, md_farm_t *farm, apr_pool_t *p);

/* Copy the published set of an MD into staging/<name> of the local store (keys opened
 * and saved as the store saves keys), replacing what was staged; *pgen is its generation.
 * APR_ENOENT when nothing is published. The local generation is recorded. */
apr_status_t md_farm_pull(apr_int64_t *pgen, md_farm_t *farm, md_store_t *store, const char *name,
                          apr_pool_t *p);
/* The generation this node's store holds of an MD (pulled or published), 0 when none;
 * kept in locks/farm/<name>.gen, which outlives the staged set's activation. */
apr_int64_t md_farm_local_generation(md_store_t *store, const char *name, apr_pool_t *p);

/* http-01 answers shared by the farm: put under a lease of ttl seconds (before the CA
 * is told to validate), looked up by the name the CA asks. APR_ENOENT when none. */
apr_status_t md_farm_http01_put(md_farm_t *farm, const char *name, const char *key_authz, long ttl,
                                apr_pool_t *p);
apr_status_t md_farm_http01_get(const char **pkey_authz, md_farm_t *farm, const char *name,
                                apr_pool_t *p);

/* ---- what the farm looks like (md_farm_admin.c) ---------------------------------- */

/* Seconds a node's record outlives the node: refreshed at a third of it. */
#define MD_FARM_NODE_TTL 90

/* The farm's view, as of one revision, in one request (the renewal watchdog's poll):
 *   {"mds": {MD: {"generation": N, "lock-holder": NODE}},
 *    "nodes": [{"node": NODE, "serves": {MD: N}, "updated": TIME}]}
 * an MD has "generation" once published and "lock-holder" while a node renews it.
 * *pgens (when given): name -> apr_int64_t*, as md_farm_generations() gives them. */
apr_status_t md_farm_view_read(md_json_t **pview, apr_hash_t **pgens, md_farm_t *farm, apr_pool_t *p);

/* This node's record, nodes/<node>: what it serves (MD -> generation) on a lease of its
 * own. update() writes it when that changed (or the lease was lost) and refreshes the
 * lease every MD_FARM_NODE_TTL/3 seconds. A node that stops refreshing (dead) is gone
 * from nodes/ within MD_FARM_NODE_TTL seconds; a new child of the node takes the key over
 * on a lease of its own. */
typedef struct md_farm_node_t md_farm_node_t;
md_farm_node_t *md_farm_node_make(apr_pool_t *p);
apr_status_t md_farm_node_update(md_farm_node_t *node, md_farm_t *farm, apr_hash_t *serves,
                                 apr_pool_t *p);

/* The certificates of an MD's published set: [{"file", "serial", "valid-until"}], one per
 * pubcert*.pem (empty when nothing is published). */
apr_status_t md_farm_set_certs(md_json_t **pcerts, md_farm_t *farm, const char *name, apr_pool_t *p);

/* ---- orders in progress (md_farm_order.c) ------------------------------------------ */

/* The order the lock's holder works on, so that another node can finish it should the
 * holder die: staging/<name>'s order.json (the CA's order, its URL, the account's URL),
 * the files of files that are staged (keys sealed) and the account the order belongs to
 * (its record, its key sealed), under orders/<name>/ in one transaction fenced by the
 * lock, replacing what was there. MD_FARM_EFENCED when the lock was lost; APR_ENOENT
 * when no order is staged. */
apr_status_t md_farm_order_put(md_farm_lock_t *lock, md_farm_t *farm, md_store_t *store,
                               const char *name, const apr_array_header_t *files, apr_pool_t *p);
/* Copy the order under orders/<name>/ into staging/<name> (keys opened and saved as the
 * store saves keys), and its account into accounts/ unless one with its URL is there.
 * *pnode names the node that put it. APR_ENOENT when there is none. */
apr_status_t md_farm_order_take(const char **pnode, md_farm_t *farm, md_store_t *store,
                                const char *name, apr_pool_t *p);
/* Delete orders/<name>/ (the order failed), fenced by the lock. */
apr_status_t md_farm_order_drop(md_farm_lock_t *lock, md_farm_t *farm, const char *name, apr_pool_t *p);

/* The answers of a renewal that ended go (as a single server's teardown removes its
 * own), rather than being given for the rest of their lease. */
apr_status_t md_farm_answers_drop(md_farm_t *farm, const apr_array_header_t *names, apr_pool_t *p);
/* tls-alpn-01 key authorizations shared by the farm, as md_farm_http01_*. */
apr_status_t md_farm_tlsalpn01_put(md_farm_t *farm, const char *name, const char *key_authz, long ttl,
                                   apr_pool_t *p);
apr_status_t md_farm_tlsalpn01_get(const char **pkey_authz, md_farm_t *farm, const char *name,
                                   apr_pool_t *p);

/* ---- OCSP responses shared by the farm (md_farm_ocsp.c) --------------------------- */

/* P ocsp/<id>: {"response", "status", "valid": {"from", "until"}, "fetched-at", "fetched-by"},
 * the response as md_ocsp_resp_to_json() has it, with when and by which node it was fetched.
 * A response is no secret: it is what every TLS client gets stapled. */
typedef struct {
    md_ocsp_resp_t *resp;
    apr_time_t fetched_at;
    const char *fetched_by;
} md_farm_ocsp_t;

/* The farm's response of a certificate as stored; APR_ENOENT when none (or not readable).
 * Not checked: see md_farm_ocsp_obtain. */
apr_status_t md_farm_ocsp_get(md_farm_ocsp_t **pshared, md_farm_t *farm, const char *hexid,
                              apr_pool_t *p);
/* May a node whose own response is own (or NULL) take the farm's instead of fetching? When
 * it is valid now, newer than own, and not due itself under window. Pure. */
int md_farm_ocsp_usable(const md_farm_ocsp_t *shared, const md_ocsp_resp_t *own,
                        const md_timeslice_t *window, apr_time_t now);

/* How a response was obtained. */
typedef enum {
    MD_FARM_OCSP_TAKEN,     /* the farm's, fetched by another node */
    MD_FARM_OCSP_FETCHED,   /* fetched under the farm lock, then published */
    MD_FARM_OCSP_BUSY,      /* another node fetches now: look again in a few seconds */
    MD_FARM_OCSP_ALONE      /* the engine did not answer: fetched as a single server does */
} md_farm_ocsp_how_t;

/* The fetch from the responder, given by the caller. */
typedef apr_status_t md_farm_ocsp_fetch_fn(md_ocsp_resp_t **presp, void *baton, md_result_t *result,
                                           apr_pool_t *p);

typedef struct {
    md_farm_t *farm;
    const char *hexid;                  /* the certificate's id, lower-case hex */
    const md_cert_t *cert, *issuer;     /* to check a response of the farm's */
    const md_ocsp_resp_t *own;          /* this node's response now, or NULL */
    const md_timeslice_t *window;       /* MDStaplingRenewWindow */
    md_farm_ocsp_fetch_fn *fetch;
    void *baton;
} md_farm_ocsp_req_t;

typedef struct {
    md_farm_ocsp_how_t how;
    const char *by;                     /* the node that fetched it */
    apr_status_t published;             /* FETCHED: how publishing went */
    apr_status_t engine;                /* ALONE: what the engine's client said */
} md_farm_ocsp_outcome_t;

/* One response of a certificate for the farm: the farm's when usable; else fetched under
 * P locks/ocsp/<id> (tried once; looked at again once held) and published, fenced by the
 * lock; a busy lock is BUSY; an engine that does not answer: fetched alone (stapling never
 * depends on etcd). The fetch's failures are in result. */
apr_status_t md_farm_ocsp_obtain(md_ocsp_resp_t **presp, md_farm_ocsp_outcome_t *out,
                                 const md_farm_ocsp_req_t *req, md_result_t *result, apr_pool_t *p);

/* ---- accounts shared by the farm (md_farm_acct.c) ---------------------------------- */

/* The CA's key under accounts/ and locks/account/: SHA-256 hex of its URL and the EAB
 * key id (accounts of different bindings are different accounts). */
const char *md_farm_acct_ca_key(const char *ca_url, const char *eab_kid, apr_pool_t *p);
/* The farm's account of a CA: account.json's text and the opened key.  APR_ENOENT when
 * none; APR_EACCES when the key does not open (another farm key). */
apr_status_t md_farm_acct_get(const char **pjson, md_pkey_t **pkey, md_farm_t *farm, const char *ca_key,
                              apr_pool_t *p);
/* Publish an account (its key sealed) under the CA's lock (fenced). */
apr_status_t md_farm_acct_publish(md_farm_lock_t *lock, md_farm_t *farm, const char *ca_key,
                                  const char *json, const md_pkey_t *key, apr_pool_t *p);
/* The account sharing of md_acme_acct_use() for this farm: before registering, a node
 * takes the farm's account, or the CA's lock (waiting up to wait while another node
 * registers) and publishes what it registered. Lives in p; one thread at a time. */
apr_status_t md_farm_acct_share(md_acme_acct_share_t **pshare, md_farm_t *farm, apr_interval_time_t wait,
                                apr_pool_t *p);

#endif
