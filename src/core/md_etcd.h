/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A small client of etcd's v3 JSON gateway (etcd 3.4 serves it at /v3/): key ranges, puts,
 * transactions with compares, deletes and leases, over the project's HTTP transport.
 * Keys and values travel base64 in the JSON; here they are plain bytes. Several
 * endpoints of one cluster may be given: a request that cannot reach one tries the next.
 * A client is used by one thread at a time (like md_http_t); make one per thread. */
#ifndef md_etcd_h
#define md_etcd_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct {
    apr_array_header_t *endpoints;  /* base URLs (const char*), e.g. "https://10.0.0.5:2379" */
    const char *ca_file;            /* trust anchors for https endpoints, or NULL */
    const char *user;               /* etcd user and password for an auth token, or NULL */
    const char *password;
    apr_interval_time_t timeout;    /* per request; 0: 10 seconds */
    volatile apr_uint32_t *cancel;  /* when set and non-zero, requests stop (APR_EINTR) */
} md_etcd_config_t;

typedef struct md_etcd_t md_etcd_t;

/* A key as etcd holds it. Revisions and versions are etcd's; version 0 means absent. */
typedef struct {
    const char *key;
    const char *value;              /* NUL-terminated for convenience; may hold any bytes */
    apr_size_t value_len;
    apr_int64_t create_revision;
    apr_int64_t mod_revision;
    apr_int64_t version;
    apr_int64_t lease;
} md_etcd_kv_t;

/* Errors: APR_ENOENT for an absent key or lease, APR_EACCES for refused credentials or
 * permissions, APR_ECONNREFUSED when no endpoint answered, APR_EGENERAL otherwise;
 * md_etcd_error() then says what the engine or the transport said. */
apr_status_t md_etcd_create(md_etcd_t **petcd, const md_etcd_config_t *config, apr_pool_t *p);
const char *md_etcd_error(const md_etcd_t *etcd);
/* The endpoint the last request went to. */
const char *md_etcd_endpoint(const md_etcd_t *etcd);

/* One key; APR_ENOENT when it does not exist. */
apr_status_t md_etcd_get(md_etcd_kv_t **pkv, md_etcd_t *etcd, const char *key, apr_pool_t *p);
/* Every key starting with prefix (md_etcd_kv_t*), sorted by key; with keys_only, values are
 * empty. *prevision (when given) is the store's revision the answer reflects. */
apr_status_t md_etcd_get_prefix(apr_array_header_t **pkvs, apr_int64_t *prevision, md_etcd_t *etcd,
                                const char *prefix, int keys_only, apr_pool_t *p);
/* Every key from key (included) to end (excluded), in one request and one revision:
 * several neighbouring prefixes read at once. */
apr_status_t md_etcd_get_range(apr_array_header_t **pkvs, apr_int64_t *prevision, md_etcd_t *etcd,
                               const char *key, const char *end, int keys_only, apr_pool_t *p);
/* Put a value; attached to lease when it is not 0 (the key goes when the lease does). */
apr_status_t md_etcd_put(md_etcd_t *etcd, const char *key, const void *value, apr_size_t len,
                         apr_int64_t lease, apr_pool_t *p);
/* Delete a key, or with prefix every key starting with it. */
apr_status_t md_etcd_delete(md_etcd_t *etcd, const char *key, int prefix, apr_pool_t *p);

/* Leases: granted for ttl seconds; a keepalive renews one and says the TTL it now has
 * (APR_ENOENT when it expired or was revoked); revoke ends it and deletes its keys. */
apr_status_t md_etcd_lease_grant(apr_int64_t *please, md_etcd_t *etcd, long ttl, apr_pool_t *p);
apr_status_t md_etcd_lease_keepalive(long *pttl, md_etcd_t *etcd, apr_int64_t lease, apr_pool_t *p);
apr_status_t md_etcd_lease_revoke(md_etcd_t *etcd, apr_int64_t lease, apr_pool_t *p);

/* Transactions: every compare must hold (equality of a key's version, create_revision or
 * mod_revision with a number), then all puts and deletes happen at once; otherwise none. */
typedef enum {
    MD_ETCD_VERSION, MD_ETCD_CREATE_REVISION, MD_ETCD_MOD_REVISION
} md_etcd_target_t;

typedef struct md_etcd_txn_t md_etcd_txn_t;
md_etcd_txn_t *md_etcd_txn_make(apr_pool_t *p);
void md_etcd_txn_compare(md_etcd_txn_t *txn, const char *key, md_etcd_target_t target,
                         apr_int64_t value);
void md_etcd_txn_put(md_etcd_txn_t *txn, const char *key, const void *value, apr_size_t len,
                     apr_int64_t lease);
void md_etcd_txn_delete(md_etcd_txn_t *txn, const char *key);
/* Every key starting with prefix. (etcd refuses a transaction whose deletes overlap its
 * puts.) */
void md_etcd_txn_delete_prefix(md_etcd_txn_t *txn, const char *prefix);
/* *psucceeded is 1 when the compares held and the operations were done, 0 when not. */
apr_status_t md_etcd_txn_commit(int *psucceeded, md_etcd_t *etcd, md_etcd_txn_t *txn,
                                apr_pool_t *p);

/* Watches: the changes to every key under a prefix, from a revision on, as they happen, on
 * one long request (POST /v3/watch; the gateway streams one JSON message a line). The
 * engine sends each change once: a watcher that lost its connection resumes from the
 * revision after the last one it saw and misses nothing, unless the engine compacted its
 * history past that revision meanwhile (MD_ETCD_ECOMPACTED): then only a full read tells
 * the present, and the watch goes on from that read's revision. */
#define MD_ETCD_ECOMPACTED APR_EINCOMPLETE

typedef struct {
    int deleted;                    /* a delete (kv has the key and mod_revision), else a put */
    const md_etcd_kv_t *kv;
} md_etcd_event_t;

/* Called for each message with its events (md_etcd_event_t*, maybe none: a progress
 * notice); a status other than APR_SUCCESS ends the watch with it. */
typedef apr_status_t md_etcd_watch_fn(void *baton, const apr_array_header_t *events, apr_pool_t *p);

typedef struct {
    const char *prefix;
    apr_int64_t start_revision;     /* the first revision wanted; 0: from now on */
    apr_interval_time_t idle;       /* no message for this long: the connection is dead (0: none) */
    apr_interval_time_t duration;   /* end (APR_SUCCESS) after this long (0: never) */
    volatile apr_uint32_t *cancel;  /* set: the watch ends within about a second (APR_EINTR) */
    md_etcd_watch_fn *cb;
    void *baton;
} md_etcd_watch_t;

/* Watch until duration passed (APR_SUCCESS), the watch was cancelled (APR_EINTR), the
 * start revision was compacted (MD_ETCD_ECOMPACTED; *pnext is then the oldest revision
 * still there), the engine ended the watch, or the connection failed or fell silent
 * (APR_TIMEUP, APR_ECONNRESET, APR_ECONNREFUSED, ...). *pnext is always where a watch
 * resuming this one starts: the revision after the last change delivered (or confirmed
 * by a progress notice). The endpoints are tried in turn to set the watch up. */
apr_status_t md_etcd_watch(apr_int64_t *pnext, md_etcd_t *etcd, const md_etcd_watch_t *watch,
                           apr_pool_t *p);

#endif
