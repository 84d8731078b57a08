/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The file-system store, layout version 3 (docs/store.md). Every write is atomic and
 * durable; private keys outside domains/, challenges/ and tmp/ are encrypted with the
 * store key from md_store.json. */
#ifndef md_store_h
#define md_store_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>
#include "md_json.h"
#include "md_crypt.h"

typedef enum {
    MD_SG_ACCOUNTS, MD_SG_CHALLENGES, MD_SG_DOMAINS, MD_SG_STAGING,
    MD_SG_ARCHIVE, MD_SG_TMP, MD_SG_OCSP, MD_SG_LOCKS, MD_SG_COUNT
} md_store_group_t;

#define MD_STORE_VERSION 3

#define MD_FN_MD        "md.json"
#define MD_FN_JOB       "job.json"
#define MD_FN_ORDER     "order.json"
#define MD_FN_ACCOUNT   "account.json"
#define MD_FN_ACCT_KEY  "account.pem"
#define MD_FN_PRIVKEY   "privkey"
#define MD_FN_PUBCERT   "pubcert"
#define MD_FN_HTTP01    "acme-http-01.txt"
#define MD_FN_TLSALPN01_PKEY "acme-tls-alpn-01-privkey"
#define MD_FN_TLSALPN01_CERT "acme-tls-alpn-01-pubcert"
#define MD_FN_TLSALPN01_AUTHZ "acme-tls-alpn-01.txt"   /* its key authorization, for the farm */
/* Markers in staging/ (no MD): a renewed set wants the restart of MDActivationRestart,
 * holding the time it may go live. */
#define MD_FN_RESTART_WANTED ".restart-wanted"

typedef struct md_store_t md_store_t;

/* Open the store at base_dir. With create, missing directories and md_store.json (with
 * a new random key) are created; without, a store that does not exist yet is APR_ENOENT. */
apr_status_t md_store_open(md_store_t **pstore, const char *base_dir, int create, apr_pool_t *p);
const char *md_store_base(const md_store_t *store);
/* Files the unprivileged children write (accounts, staging, challenges, ocsp, locks) are
 * given to this owner when the store is written by root. -1 keeps the current owner.
 * With group_write (MDStoreOwner names another user than the children's), the group may
 * do what the owner may in those parts: directories 2775, files 0664, keys 0660. */
void md_store_set_owner(md_store_t *store, int uid, int gid, int group_write);
/* Give the directories the children work in to the owner (parent, at start); when the
 * owner or the modes changed since the last start, everything in them. */
apr_status_t md_store_prepare_children(md_store_t *store, apr_pool_t *p);

const char *md_store_group_name(md_store_group_t group);
const char *md_store_path(const md_store_t *store, md_store_group_t group, const char *name,
                          const char *aspect, apr_pool_t *p);

/* What group/name/aspect is (the last component given, not followed if a link). */
apr_status_t md_store_info(apr_finfo_t *info, const md_store_t *store, md_store_group_t group,
                           const char *name, const char *aspect, apr_pool_t *p);
/* A regular file: APR_SUCCESS; anything else there: APR_EINVAL. */
apr_status_t md_store_exists(const md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p);
/* Is group/name a real folder (not a link to one)? */
int md_store_dir_exists(const md_store_t *store, md_store_group_t group, const char *name,
                        apr_pool_t *p);
apr_status_t md_store_load_json(md_json_t **pjson, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p);
apr_status_t md_store_save_json(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const md_json_t *json, apr_pool_t *p);
apr_status_t md_store_load_text(const char **ptext, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p);
apr_status_t md_store_save_text(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const char *text, apr_pool_t *p);
/* A record that is rebuilt when lost (md.json at start): replaced atomically but not
 * fsynced one by one; md_store_sync() then makes a whole batch durable at once. */
apr_status_t md_store_save_record(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *text, apr_pool_t *p);
apr_status_t md_store_sync(const md_store_t *store, apr_pool_t *p);
apr_status_t md_store_load_pkey(md_pkey_t **ppkey, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p);
apr_status_t md_store_save_pkey(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const md_pkey_t *pkey, apr_pool_t *p);
apr_status_t md_store_load_chain(apr_array_header_t **pchain, const md_store_t *store,
                                 md_store_group_t group, const char *name, const char *aspect,
                                 apr_pool_t *p);
apr_status_t md_store_save_chain(const md_store_t *store, md_store_group_t group, const char *name,
                                 const char *aspect, const apr_array_header_t *chain, apr_pool_t *p);

apr_status_t md_store_remove(const md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p);
apr_status_t md_store_purge(const md_store_t *store, md_store_group_t group, const char *name,
                            apr_pool_t *p);
/* Names (directories) in a group, sorted. */
apr_status_t md_store_names(apr_array_header_t **pnames, const md_store_t *store,
                            md_store_group_t group, apr_pool_t *p);
/* Entries of group/name (of any kind), sorted; with name NULL, the group's folders. */
apr_status_t md_store_list(apr_array_header_t **pnames, const md_store_t *store,
                           md_store_group_t group, const char *name, apr_pool_t *p);
/* Rename a file of group/name (a file name of an earlier version to today's). */
apr_status_t md_store_rename_file(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *from, const char *to, apr_pool_t *p);
/* Append text to a file (markers several writers add to). */
apr_status_t md_store_append_text(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *text, apr_pool_t *p);
/* Take a file's text away: renamed aside first (what is appended meanwhile starts a
 * new file), read, removed. APR_ENOENT when there is none. */
apr_status_t md_store_take_text(const char **ptext, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p);
/* Rename an MD's directory in one group (a configuration rename keeps its certificate). */
apr_status_t md_store_rename(const md_store_t *store, md_store_group_t group, const char *from,
                             const char *to, apr_pool_t *p);

/* Activation: make the complete staged set of an MD the served one. The files of
 * staging/<name> are written with their final permissions (keys decrypted) to
 * tmp/<name>; check (when given) is run on that copy, which only root can change, so
 * what goes live is what was checked (the children own staging/ and may change it after
 * any earlier look); domains/<name> moves to archive/<name>.N, tmp/<name> becomes
 * domains/<name>, staging/<name> is removed. A crash between the steps is repaired
 * by md_store_recover() at the next start. */
typedef apr_status_t md_store_check_fn(void *baton, md_store_group_t group, apr_pool_t *p);
apr_status_t md_store_activate(const md_store_t *store, const char *name,
                               const apr_array_header_t *files, md_store_check_fn *check,
                               void *baton, apr_pool_t *p);
/* Damage. A file that is there but does not parse (truncated or invalid JSON, a PEM
 * file without certificate, a key that does not load) is damage: the loaders report it
 * themselves, and so may callers that check files otherwise. Each damaged path is logged
 * once (MD6002) and kept for the status (per group and name: the MD, or the account),
 * with what was done about it. Safe from several threads. */
typedef struct {
    const char *path;
    const char *problem;        /* what is wrong, and what was done */
} md_store_damage_t;

void md_store_damage_report(const md_store_t *store, md_store_group_t group, const char *name,
                            const char *aspect, const char *problem, apr_pool_t *p);
/* Say what was done about a reported file ("removed, rebuilt when needed"). */
void md_store_damage_note(const md_store_t *store, md_store_group_t group, const char *name,
                          const char *aspect, const char *done, apr_pool_t *p);
/* The damage reported for group/name, oldest first (md_store_damage_t*, copies in p). */
apr_array_header_t *md_store_damage_get(const md_store_t *store, md_store_group_t group,
                                        const char *name, apr_pool_t *p);

/* Locks. The global lock (store.lock, MDStoreLocks) guards the start-up sync and
 * activation; an MD's lock (locks/<name>.lock) is held by whoever renews or activates
 * it, so servers sharing the store never work on one MD at once. Both are fcntl locks:
 * the system drops them when the holder dies, so a crashed holder leaves no stale lock.
 * Tries every 100 ms until wait has passed; APR_TIMEUP when it could not be had. */
typedef struct md_store_lock_t md_store_lock_t;
apr_status_t md_store_lock_global(md_store_lock_t **plock, const md_store_t *store,
                                  apr_interval_time_t wait, apr_pool_t *p);
apr_status_t md_store_lock_md(md_store_lock_t **plock, const md_store_t *store, const char *name,
                              apr_interval_time_t wait, apr_pool_t *p);
void md_store_unlock(md_store_lock_t *lock);

/* Keep at most keep archived sets of an MD (archive/<name>.N), removing the oldest. */
apr_status_t md_store_archive_prune(const md_store_t *store, const char *name, int keep,
                                    apr_pool_t *p);

/* Finish an interrupted activation: tmp/<name> complete but domains/<name> missing. */
apr_status_t md_store_recover(const md_store_t *store, const char *name, apr_pool_t *p);

#endif
