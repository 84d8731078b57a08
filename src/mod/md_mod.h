/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Shared declarations of the httpd glue. */
#ifndef md_mod_h
#define md_mod_h

#include <httpd.h>
#include <http_config.h>
#include <http_ssl.h>
#include <mod_watchdog.h>
#include <apr_hash.h>
#include "md.h"
#include "md_store.h"
#include "md_http.h"
#include "md_event.h"
#include "md_request.h"
#include "md_farm.h"

/* Where ACME http-01 asks (RFC 8555 8.3); the only path MDRequireHttps leaves on http. */
#define MD_ACME_CHALLENGE_PREFIX "/.well-known/acme-challenge/"

extern module AP_MODULE_DECLARE_DATA md_module;

/* Settings that may be given globally, per vhost, or inside <MDomain>. Every field
 * starts unset (NULL / -1); md_config_merge_srv() fills in the more general scope, and
 * md_config_apply() gives an MD its settings and then the module's defaults. */
typedef struct {
    apr_array_header_t *ca_urls;
    const char *ca_agreement;
    apr_array_header_t *ca_challenges;
    const char *contact;
    int renew_mode;
    const md_timeslice_t *renew_window;
    const md_timeslice_t *warn_window;
    apr_array_header_t *pkey_specs;
    int must_staple;
    int members;
    const char *ca_certs;
    const char *proxy_url;
    const char *proxy_ca_certs;
    int require_https;          /* md_require_t */
    const char *eab_kid, *eab_hmac;  /* "none" as kid: explicitly no EAB */
    const char *profile;
    int profile_mandatory;
    int ari_renewals;
    int stapling;
    int staple_others;
    const char *dns01_cmd;
    apr_interval_time_t dns01_wait; /* MDChallengeDns01Wait; -1: not set */
    const char *preferred_chain;    /* MDPreferredChain issuer CN; "none": explicitly none */
    int preflight;                  /* MDPreflight on|off */
    int preflight_http;             /* MDPreflight ... http-probe=on|off */
    apr_array_header_t *preflight_caa;  /* MDPreflight ... caa=DOMAIN */
} md_settings_t;

/* One configured MD before it is merged. */
typedef struct {
    md_t *md;
    md_settings_t settings;     /* from inside <MDomain> */
    server_rec *defined_in;     /* the server (vhost or main) whose settings apply next */
    apr_array_header_t *cert_files, *pkey_files;  /* MDCertificateFile/-KeyFile */
} md_conf_md_t;

/* The module's global configuration, shared by all server records. */
typedef struct {
    apr_array_header_t *conf_mds;   /* md_conf_md_t* in definition order */
    apr_array_header_t *mds;        /* md_t* merged, at post_config */
    const char *store_dir;
    int local_80, local_443;        /* MDPortMap: local port for 80/443, -1 unreachable */
    apr_interval_time_t check_interval, initial_delay, retry_delay;
    int retry_failover;             /* errors before the next CA */
    int base_server;                /* MDBaseServer */
    int match_servernames_only;     /* MDMatchNames servernames */
    int dns01_version;              /* MDChallengeDns01Version 1|2 */
    apr_array_header_t *notify_cmd; /* MDNotifyCmd argv */
    apr_array_header_t *message_cmd;/* MDMessageCmd argv */
    int store_locks;                /* MDStoreLocks on/off */
    apr_interval_time_t store_lock_wait;
    apr_interval_time_t activation_delay;
    apr_interval_time_t staple_keep_response;
    md_timeslice_t staple_renew_window;
    int server_status;              /* MDServerStatus */
    int certificate_status;         /* MDCertificateStatus */
    const char *cert_check_name, *cert_check_url;
    md_store_t *store;
    md_http_config_t http;
    apr_array_header_t *watched;    /* md_watch_t*: MDs the watchdog keeps fresh */
    int renew_concurrency;          /* MDRenewConcurrency */
    apr_interval_time_t program_timeout;  /* MDProgramTimeout */
    int archive_keep;               /* MDArchiveKeep */
    int store_uid, store_gid;       /* MDStoreOwner, -1: the server's User/Group */
    const char *store_owner_at;     /* "file:line" of MDStoreOwner, for messages */
    apr_hash_t *accounts_checked;   /* accounts whose files were checked at this start */
    int restart_auto;               /* MDActivationRestart on */
    int activation_live;            /* MDActivation live (1, the default) or restart (0) */
    int restart_from, restart_to;   /* its time-of-day window in minutes, -1 for any time */
    const char *fallback_dir;       /* DefaultRuntimeDir/md-fallback: placeholder certificates */
    struct md_names_t *md_names;    /* the MDs by their names, for the per-vhost look-ups */
    apr_pool_t *pconf;              /* what lives as long as this configuration */
    struct md_status_snap_t *status_snap; /* the status snapshot (md_mod_status.c), or NULL */
    const char *preflight_resolver; /* MDPreflightResolver ADDR[:PORT]; NULL: the system's */
    struct md_mod_farm_t *farm;     /* MDStore etcd: the farm (md_mod_farm.c); NULL: files only */
} md_mod_conf_t;

/* What the parent hands the renewal watchdog about one MD (children cannot read the
 * served certificates in domains/, which are root's). */
typedef struct {
    md_t *md;
    apr_time_t renew_at;            /* renew from then on; 0: now (no certificate) */
    apr_time_t warn_at;             /* the 'expiring' event from then on; 0: never */
    apr_time_t valid_until;         /* of the served certificate, 0 if none */
    apr_time_t next_check;          /* the watchdog's own schedule */
    volatile apr_uint32_t running;
    /* a renewal asked for (staging/.renew-requests), under the watchdog's slot lock */
    int requested;
    char requested_reason[MD_REQUEST_REASON_MAX + 1];
} md_watch_t;

typedef struct {
    md_mod_conf_t *mc;
    md_settings_t settings;
} md_srv_conf_t;

md_srv_conf_t *md_config_get(server_rec *s);
/* MDMessageCmd, MDNotifyCmd and their timeout, for md_event_raise(). */
md_event_conf_t *md_config_event_conf(const md_mod_conf_t *mc, apr_pool_t *p);
/* The account contact for an email address (MDContactEmail, ServerAdmin): "mailto:" added
 * unless it is there already; NULL when it is no address. */
const char *md_config_contact_uri(const char *address, apr_pool_t *p);
void *md_config_create_srv(apr_pool_t *p, server_rec *s);
void *md_config_merge_srv(apr_pool_t *p, void *base, void *add);
extern const command_rec md_cmds[];
/* The MD's settings: <MDomain>, then its server, then the main server, then defaults. */
void md_config_apply(md_t *md, const md_conf_md_t *cmd, server_rec *base_server, apr_pool_t *p);

/* Checks of the whole configuration, also run by `apache2 -t` (md_config_check.c). */
int md_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* The same configuration warnings at a start or restart, in the error log (post_config). */
int md_config_report(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* MD4002 at `level`: the names of vhost vs that the MD (MDMembers manual) lacks, if any. */
void md_config_report_names(const md_t *md, server_rec *vs, server_rec *base, int level,
                            apr_pool_t *p);

/* The vhosts an MD covers, through an index of their names (md_mod_vhosts.c). */
typedef struct md_vhost_index_t md_vhost_index_t;
md_vhost_index_t *md_mod_vhosts_index_make(server_rec *base, int with_base, int servernames_only,
                                           apr_pool_t *p);
apr_array_header_t *md_mod_vhosts_index_find(const md_vhost_index_t *idx, const md_t *md, apr_pool_t *p);
/* The MD a server record belongs to, or NULL. */
md_t *md_mod_vhosts_md_for_server(server_rec *s);

/* Hooks, by file. */
int md_mod_init_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
void md_mod_init_child(apr_pool_t *pchild, server_rec *s);
int md_mod_init_add_cert_files(server_rec *s, apr_pool_t *p, apr_array_header_t *cert_files,
                               apr_array_header_t *key_files);
int md_mod_init_add_fallback_cert_files(server_rec *s, apr_pool_t *p, apr_array_header_t *cert_files,
                                        apr_array_header_t *key_files);

apr_status_t md_mod_renew_start_watchdog(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p);
/* The parent's monitor: a graceful restart once a child marked renewed sets ready. */
int md_mod_renew_monitor(apr_pool_t *p, server_rec *s);
/* In each child: stop the renewal workers before the child's exit cleans up. */
void md_mod_renew_child_init(apr_pool_t *pchild);

/* A mod_watchdog callback started (md_mod_watchdog.c): APR_ENOTIMPL without mod_watchdog. */
apr_status_t md_mod_watchdog_start(const char *name, int singleton, apr_interval_time_t tick,
                                   ap_watchdog_callback_fn_t *callback, void *baton, apr_pool_t *p);

/* Live activation (md_mod_live.c, docs/directives/MDActivation.md): renewed sets served by
 * every child without a restart. */
int md_mod_live_init_server(server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx);
int md_mod_live_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
apr_status_t md_mod_live_start_watchdog(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p);
/* The renewal watchdog staged a set: the children look at staging/ again. */
void md_mod_live_note_staged(md_mod_conf_t *mc, apr_pool_t *p);
/* What every running child serves live, read from their files once per status request
 * (NULL: no child serves anything live); and an MD's "live" status member from it: the
 * newest serial, since when, whether all children serve it, each child (NULL: every
 * child serves what the last start loaded). */
typedef struct md_live_view_t md_live_view_t;
md_live_view_t *md_mod_live_view_load(apr_pool_t *p);
md_json_t *md_mod_live_status(const md_live_view_t *view, const char *name, apr_pool_t *p);
/* 503 on an MD's SSL vhost while it has no certificate and none is served live. */
int md_mod_live_unavailable(request_rec *r);

/* OCSP stapling (md_mod_ocsp.c, docs/ocsp.md). */
int md_mod_ocsp_configured(const md_mod_conf_t *mc, server_rec *s);
/* Serving pass, after md_mod_init_post_config: must-staple check, pruning of old responses,
 * the OCSP watchdog. */
int md_mod_ocsp_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* In each child: abort requests to OCSP responders at the child's exit. */
void md_mod_ocsp_child_init(apr_pool_t *pchild, server_rec *s);
int md_mod_ocsp_prime(server_rec *s, apr_pool_t *p, const char *id, apr_size_t id_len,
                      const char *pem);
/* A certificate that went live in this child (md_mod_live.c): stapled from now on, its
 * response fetched by the OCSP watchdog when it runs in this child. */
void md_mod_ocsp_live_add(server_rec *s, const md_t *md, const md_cert_t *cert,
                          const md_cert_t *issuer);
int md_mod_ocsp_get_resp(server_rec *s, conn_rec *c, const char *id, apr_size_t id_len,
                         ap_ssl_ocsp_copy_resp *cb, void *userdata);

int md_mod_challenge_http01_handler(request_rec *r, int lookup);
int md_mod_challenge_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                                      const apr_array_header_t *offers, apr_array_header_t *proposals);
int md_mod_challenge_protocol_switch(conn_rec *c, request_rec *r, server_rec *s, const char *protocol);
int md_mod_challenge_answer_tlsalpn01(conn_rec *c, const char *server_name, const char **pcert_pem,
                                      const char **pkey_pem);
int md_mod_challenge_process_connection(conn_rec *c);

int md_mod_https_require(request_rec *r);

/* A farm on etcd (md_mod_farm.c, docs/farm.md). Without MDStore etcd each is a no-op. */
typedef struct md_mod_farm_t md_mod_farm_t;
struct md_farm_lock_t;
const char *md_mod_farm_cmd_store(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
/* Serving pass: is the engine there? Logged, never fatal: a node serves what it has. */
void md_mod_farm_check(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p);
/* The watch of the farm's generations: a thread of its own in the renewal watchdog's
 * child, started with the watchdog and stopped before the child's pools go. */
void md_mod_farm_watch_start(md_mod_conf_t *mc, server_rec *s);
void md_mod_farm_watch_stop(md_mod_conf_t *mc);
/* Renewal watchdog, each tick: MDs the farm has a newer set of (as the watch told, or as
 * the look at the engine every few seconds read) are looked at now; that look also feeds
 * status and metrics (md_mod_farm_status_update). */
void md_mod_farm_poll(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p);
/* Pull the farm's set of an MD into staging/ when it is newer than this node's; 1 if so. */
int md_mod_farm_pull_newer(md_mod_conf_t *mc, server_rec *s, const md_t *md, apr_pool_t *p);
/* The MD's farm lock, tried once (APR_EBUSY: another node renews it); *plock NULL and
 * APR_SUCCESS without a farm. Published under, and given up with md_mod_farm_unlock. */
apr_status_t md_mod_farm_lock(struct md_farm_lock_t **plock, md_mod_conf_t *mc, server_rec *s,
                              const md_t *md, apr_pool_t *p);
apr_status_t md_mod_farm_publish(struct md_farm_lock_t *lock, md_mod_conf_t *mc, server_rec *s,
                                 const md_t *md, apr_pool_t *p);
void md_mod_farm_unlock(struct md_farm_lock_t *lock);
/* Under the lock just taken: the order a dead holder left in the engine is staged here,
 * so that the renewal goes on with it (1 if so). */
int md_mod_farm_resume(struct md_farm_lock_t *lock, md_mod_conf_t *mc, server_rec *s, const md_t *md,
                       apr_pool_t *p);
/* The renewal ended: its challenge answers in the engine go. */
void md_mod_farm_answers_drop(md_mod_conf_t *mc, const md_t *md, apr_pool_t *p);
/* The renewal failed: its order in the engine goes too. */
void md_mod_farm_order_drop(struct md_farm_lock_t *lock, md_mod_conf_t *mc, const md_t *md, apr_pool_t *p);
/* A renewal's event: the order in progress, http-01 and tls-alpn-01 answers to the
 * engine; fails when the lock was lost. */
apr_status_t md_mod_farm_challenge(md_mod_conf_t *mc, struct md_farm_lock_t *lock, const md_t *md,
                                   const char *event, apr_pool_t *p);
/* The farm's http-01 key authorization for a name, or NULL. */
const char *md_mod_farm_http01(md_mod_conf_t *mc, const char *host, apr_pool_t *p);
/* A child's start: what answering tls-alpn-01 from the engine needs. */
void md_mod_farm_child_init(md_mod_conf_t *mc, apr_pool_t *pchild);
/* A tls-alpn-01 certificate and its key (PEM) for an MD's name, made here from the key
 * authorization in the engine; 0 when the engine has none for the name. */
int md_mod_farm_tlsalpn01(md_mod_conf_t *mc, const char *name, const char **pcert, const char **pkey,
                          apr_pool_t *p);
/* A client of the farm for one thread, living in p; NULL without a farm. */
md_farm_t *md_mod_farm_client(md_mod_conf_t *mc, apr_pool_t *p);
/* A renewal's account sharing (md_acme_drive_ctx_t.accounts_share); NULL without a farm. */
md_acme_acct_share_t *md_mod_farm_acct_share(md_mod_conf_t *mc, apr_pool_t *p);

/* OCSP responses fetched once for the farm (md_mod_farm_ocsp.c). Without a farm, obtain
 * is req->fetch. In a fetch's thread: no log; the watchdog reports the outcome. */
apr_status_t md_mod_farm_ocsp_obtain(md_ocsp_resp_t **presp, md_farm_ocsp_outcome_t *out,
                                     md_mod_conf_t *mc, md_farm_ocsp_req_t *req, md_result_t *result,
                                     apr_pool_t *p);
/* After obtain, in the watchdog: 1 when another node fetches now (*pnext: when to look
 * again); otherwise the farm's part is logged and 0. */
int md_mod_farm_ocsp_report(apr_time_t *pnext, server_rec *s, const char *name, const char *serial,
                            const md_farm_ocsp_outcome_t *out, apr_status_t rv);

/* The farm's view for status and metrics (md_mod_farm_status.c): the renewal watchdog,
 * at each look at the engine (rv its outcome, engine_view what md_farm_view_read gave),
 * records what this node serves in the engine and writes the view file; the status
 * handlers load it (NULL without a farm). clear() at a start without a farm. */
struct md_farm_t;
void md_mod_farm_status_update(md_mod_conf_t *mc, server_rec *s, struct md_farm_t *farm, apr_status_t rv,
                               md_json_t *engine_view, apr_pool_t *p);
md_json_t *md_mod_farm_status_load(apr_pool_t *p);
void md_mod_farm_status_clear(apr_pool_t *p);

/* Status outputs (md_mod_status.c, md_mod_server_status.c, md_mod_metrics.c). The
 * status directory, in DefaultRuntimeDir, is the children's: the snapshot and, with
 * MDActivation live, a file per child of what it serves. */
#define MD_STATUS_DIR "md-status"
int md_mod_status_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
int md_mod_status_handler(request_rec *r);
int md_mod_status_cert_status(request_rec *r);
int md_mod_server_status_hook(request_rec *r, int flags);
int md_mod_metrics_handler(request_rec *r);
/* The current status view for a request (released with the request), or NULL. */
struct md_status_view_t;
const struct md_status_view_t *md_mod_status_view(request_rec *r);

void md_mod_log_install(server_rec *s);

#endif
