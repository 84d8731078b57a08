/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Status of the managed domains, in three parts (docs/status.md):
 *
 * 1. md_status_md_json(): one MD, its certificates and its renewal job as today's
 *    md-status JSON (md_status.c).
 * 2. The snapshot: a file holding the status of every MD, written atomically by the
 *    parent at start and refreshed by the renewal watchdog after each job, so that no
 *    status request reads the store (md_status_snap.c).
 * 3. The view: a snapshot parsed once into read-only records that request threads
 *    share; re-read only when the file changes (md_status_view.c).
 */
#ifndef md_status_h
#define md_status_h

#include <apr_hash.h>
#include <apr_file_info.h>
#include "md.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_stats.h"
#include "md_store.h"

/* ---- 1. one MD ------------------------------------------------------------------ */

/* The status of an MD: md.json (EAB hmac masked as "***"), "cert" per key spec of the
 * served certificates (read from domains/ or the static files: needs root), renew-at,
 * watched, renew, and "renewal" (the staging job with its staged certificates). The job
 * log only with with_log. */
apr_status_t md_status_md_json(md_json_t **pjson, const md_t *md, md_store_t *store,
                               int with_log, apr_pool_t *p);
/* Refresh the renewal part of an MD's status JSON (renew, renewal, renew-at and its
 * reason, last-renewal) from staging/<md>/: what the unprivileged watchdog can read. */
void md_status_renewal_refresh(md_json_t *mdj, const md_t *md, md_store_t *store,
                               int with_log, apr_pool_t *p);
/* The "ocsp" member of the certificate in an MD's status JSON whose SHA-256 fingerprint
 * is sha256_hex set from resp; 0 when no certificate there has that fingerprint. */
int md_status_ocsp_refresh(md_json_t *mdj, const char *sha256_hex, const md_ocsp_resp_t *resp,
                           apr_pool_t *p);
/* What the status and the watchdog keep of a served certificate, under name, from its
 * facts; the chain file's PEM text is parsed only when the ARI id needs the issuer. In
 * presult the result alone, the work in ptemp. */
md_served_t *md_status_served_of(const char *name, const md_cert_facts_t *facts,
                                 const char *chain_pem, apr_pool_t *presult, apr_pool_t *ptemp);
/* The served certificates of an MD read now (md->served's layout), allocated from
 * presult: its static files, or the chain of each key spec in domains/ (NULL entries
 * where there is none). The certificates are parsed in p. */
apr_array_header_t *md_status_served_load(const md_t *md, md_store_t *store,
                                          apr_pool_t *presult, apr_pool_t *p);
/* When the first of the served certificates is due for renewal; 0 when one is missing. */
apr_time_t md_status_served_renew_at(const md_t *md, const apr_array_header_t *served);

/* ---- 2. the snapshot file ------------------------------------------------------- */

typedef struct md_status_snap_t md_status_snap_t;

/* A handle on the snapshot at path. Nothing is read or written yet. */
md_status_snap_t *md_status_snap_make(const char *path, apr_pool_t *p);
const char *md_status_snap_path(const md_status_snap_t *snap);
/* The file is 0640; written by root, it is given to uid:gid (the children, who serve it). */
void md_status_snap_set_owner(md_status_snap_t *snap, int uid, int gid);
/* The snapshot file read: its header (version, written, stats) and each MD's entry as
 * compact JSON text (const char*), one per line as written; nothing of the entries is
 * parsed, so a reader can take them one at a time. */
apr_status_t md_status_snap_read(md_json_t **phead, apr_array_header_t **pentries,
                                 const char *path, apr_pool_t *p);
/* The parent at start: the status of all MDs (md_t*), sorted by name, replaces the
 * file. The counters of the previous file are carried over. */
apr_status_t md_status_snapshot_write(md_status_snap_t *snap, const apr_array_header_t *mds,
                                      md_store_t *store, apr_pool_t *p);
/* The renewal watchdog after a job: the MD's renewal part is refreshed from staging,
 * the counters of this process (md_stats) are added, the file is replaced, at once
 * when it was last written a second ago or longer, else by a later update or flush.
 * An MD the snapshot does not know is ignored. Cheap at 10,000 MDs: the other entries
 * are kept as text and not parsed again. */
apr_status_t md_status_snapshot_update(md_status_snap_t *snap, const md_t *md,
                                       md_store_t *store, apr_pool_t *p);
/* The stapling watchdog after a fetch: the "ocsp" member of MD name's certificate with
 * the SHA-256 fingerprint sha256_hex follows resp, written as updates are (at most a
 * second later), so that status shows a revocation as soon as stapling does. */
apr_status_t md_status_snapshot_ocsp(md_status_snap_t *snap, const char *name,
                                     const char *sha256_hex, const md_ocsp_resp_t *resp,
                                     apr_pool_t *p);
/* Write what updates left unwritten: when a second has passed since the last write, or
 * `now` (the watchdog stops). */
apr_status_t md_status_snapshot_flush(md_status_snap_t *snap, int now, apr_pool_t *p);

/* ---- 3. the view ---------------------------------------------------------------- */

typedef struct {
    const char *name;               /* key spec name ("rsa", "secp384r1") or file index */
    apr_time_t valid_from, valid_until;
    const char *serial, *sha256, *issuer, *ari_id;
    const char *ocsp_status;        /* good|revoked|unknown, NULL without a response */
    apr_time_t ocsp_from, ocsp_until;
    int ocsp_errors;                /* failed fetches in a row ("ocsp": {"renewal": {"errors"}}) */
    const char *ocsp_responder;     /* "ocsp": {"url"}: the responder, when known */
} md_status_cert_t;

typedef struct {
    const char *name;
    apr_array_header_t *domains;    /* const char* */
    int state;
    const char *state_descr;
    const char *ca_url;
    int renew_mode, watched, stapling, renew;
    apr_time_t valid_from, valid_until;   /* all served certificates valid in between */
    apr_time_t renew_at;
    const char *renew_reason;       /* "window" or "ari" */
    apr_array_header_t *certs;      /* md_status_cert_t*: served */
    apr_array_header_t *staged;     /* md_status_cert_t*: staged by the renewal */
    int has_job, finished, errors;
    apr_time_t next_run, last_run, last_renewal;
    long last_status;
    const char *last_status_descr, *last_problem, *last_detail;
    apr_array_header_t *damage;     /* const char* "path: problem", damaged store files */
    const char *json;               /* this MD's status, compact, without job log */
} md_status_md_t;

typedef struct md_status_view_t {
    apr_pool_t *pool;
    apr_time_t mtime;               /* of the file when it was read */
    apr_off_t size;
    apr_ino_t inode;
    apr_time_t written;
    apr_uint64_t stats[MD_STAT_COUNT];
    apr_array_header_t *mds;        /* md_status_md_t*, sorted by name */
    apr_hash_t *by_name;            /* MD names and domains -> md_status_md_t* */
} md_status_view_t;

/* Parse the snapshot at path into a view allocated in p. */
apr_status_t md_status_view_load(md_status_view_t **pview, const char *path, apr_pool_t *p);
/* Is the view what the file (finfo from apr_stat) holds now? */
int md_status_view_is_current(const md_status_view_t *view, const apr_finfo_t *finfo);
/* The MD named so, or having the domain (also through a wildcard), or NULL. */
const md_status_md_t *md_status_view_find(const md_status_view_t *view, const char *name,
                                          apr_pool_t *p);
/* The answer of /.httpd/certificate-status: public certificate data only. */
md_json_t *md_status_public_json(const md_status_md_t *md, apr_pool_t *p);

#endif
