/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Start-up in the parent: merge the configuration into MDs, bring the store up to date
 * (only in the serving pass), and tell mod_ssl which certificate files to use. */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_listen.h>
#include <ap_mpm.h>
#include <unixd.h>

#include "md_mod.h"
#include "md_chall.h"
#include "md_names.h"
#include "md_log.h"
#include "md_job.h"
#include "md_json_keys.h"
#include "md_ocsp.h"
#include "md_renew.h"
#include "md_state.h"
#include "md_status.h"
#include "md_util.h"
#include "md_time.h"

APLOG_USE_MODULE(md);

#define FALLBACK_VALIDITY apr_time_from_sec(30 * 24 * 60 * 60)


/* ---- merging the configuration ---------------------------------------------------- */

static void server_names_add(md_t *md, server_rec *s, apr_array_header_t *into)
{
    int i;

    if (s->server_hostname) md_array_str_add_unique(into, s->server_hostname, 0);
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        md_array_str_add_unique(into, APR_ARRAY_IDX(s->names, i, const char *), 0);
    }
}

/* Link the MD to the vhosts that use it: their names (MDMembers auto), their acme-tls/1. */
static void md_link_vhosts(const md_vhost_index_t *vhosts, md_t *md, server_rec *base,
                           apr_pool_t *p, apr_pool_t *ptemp)
{
    apr_array_header_t *servers = md_mod_vhosts_index_find(vhosts, md, ptemp);
    const char *contact;
    server_rec *s;
    int i;

    for (i = 0; i < servers->nelts; ++i) {
        s = APR_ARRAY_IDX(servers, i, server_rec *);
        md->watched = 1;
        if (md->members == MD_MEMBERS_AUTO) server_names_add(md, s, md->domains);
        if (ap_is_allowed_protocol(NULL, NULL, s, "acme-tls/1")) {
            server_names_add(md, s, md->acme_tls_1_names);
        }
        contact = md->contacts->nelts ? NULL : md_config_contact_uri(s->server_admin, p);
        if (contact) APR_ARRAY_PUSH(md->contacts, const char *) = contact;
    }
    contact = md->contacts->nelts ? NULL : md_config_contact_uri(base->server_admin, p);
    if (contact) APR_ARRAY_PUSH(md->contacts, const char *) = contact;
}

/* The MDs of this pass: each MD's own definition (read anew with every configuration pass)
 * completed in place, not copied: a copy per MD is memory the parent and every child keep
 * for as long as the configuration lives. The vhost index is scratch, given back before
 * the MDs are synced, which use its memory again. */
static void mds_merge(md_mod_conf_t *mc, server_rec *base, apr_pool_t *p, apr_pool_t *ptemp)
{
    md_vhost_index_t *vhosts;
    apr_pool_t *scratch;
    int i, k;

    apr_pool_create(&scratch, ptemp);
    /* the base server only with MDBaseServer on */
    vhosts = md_mod_vhosts_index_make(base, mc->base_server, mc->match_servernames_only, scratch);

    apr_array_clear(mc->mds);
    mc->md_names = md_names_make(p);
    for (i = 0; i < mc->conf_mds->nelts; ++i) {
        md_conf_md_t *cm = APR_ARRAY_IDX(mc->conf_mds, i, md_conf_md_t *);
        md_t *md = cm->md;
        md_config_apply(md, cm, base, p);
        md_link_vhosts(vhosts, md, base, p, scratch);
        APR_ARRAY_PUSH(mc->mds, md_t *) = md;
        for (k = 0; k < md->domains->nelts; ++k) {
            md_names_add(mc->md_names, APR_ARRAY_IDX(md->domains, k, const char *), md);
        }
    }
    apr_pool_destroy(scratch);
}

/* ---- challenge types ---------------------------------------------------------- */

static int listening_on(int port)
{
    ap_listen_rec *lr;

    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->bind_addr && lr->bind_addr->port == port) return 1;
    }
    return 0;
}

/* What the server can answer: MDCAChallenges as given, otherwise what the port map,
 * the listeners and the Protocols of the MD's vhosts allow. */
static apr_array_header_t *challenge_types(const md_mod_conf_t *mc, const md_t *md, apr_pool_t *p)
{
    return md_chall_usable(md, mc->local_443 > 0 && listening_on(mc->local_443)
                                   && md->acme_tls_1_names->nelts,
                           mc->local_80 > 0 && listening_on(mc->local_80), p);
}

/* ---- the store ------------------------------------------------------------------ */

/* The fallback certificate while an MD has none: mod_ssl serves a self-signed placeholder
 * for the MD's names (and the MD answers 503). They are scratch files in
 * DefaultRuntimeDir/md-fallback/, outside the store, so that they cost no fsync and the
 * configuration dry run, which must not write the store, makes them too: one EC key for
 * all (key.pem) and a certificate per MD (<md>.cert.pem), all in one directory. A
 * certificate is used again while it is younger than the key file and more than a day
 * from its end, judged by the files' times: no parse, no write, for a thousand new MDs
 * in the serving pass and at every restart. (Today's module keeps an RSA key and a
 * certificate per MD in domains/<md>/; nothing reads them from there.) */
typedef struct {
    const char *dir;
    apr_time_t key_mtime;           /* of key.pem; 0 while there is none */
    md_pkey_t *key;                 /* read or made once a certificate is to be made */
} md_fallbacks_t;

static const char *fallback_file(const char *dir, const char *md_name, apr_pool_t *p)
{
    return md_name ? apr_pstrcat(p, dir, "/", md_name, ".cert.pem", NULL)
                   : apr_pstrcat(p, dir, "/key.pem", NULL);
}

static apr_time_t file_mtime(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;

    return apr_stat(&info, path, APR_FINFO_MTIME, p) == APR_SUCCESS ? info.mtime : 0;
}

static void fallbacks_open(md_fallbacks_t *fbs, md_mod_conf_t *mc, apr_pool_t *p)
{
    memset(fbs, 0, sizeof(*fbs));
    fbs->dir = mc->fallback_dir = ap_runtime_dir_relative(mc->pconf, "md-fallback");
    fbs->key_mtime = file_mtime(fallback_file(fbs->dir, NULL, p), p);
}

/* The shared key, read from key.pem or made anew (which outdates every certificate). */
static apr_status_t fallback_key(md_fallbacks_t *fbs, md_mod_conf_t *mc, apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    const char *path = fallback_file(fbs->dir, NULL, p), *pem;
    apr_status_t rv;

    if (fbs->key) return APR_SUCCESS;
    if (fbs->key_mtime && md_file_read(&pem, NULL, path, 64 * 1024, p) == APR_SUCCESS
        && md_pkey_from_pem(&fbs->key, pem, strlen(pem), NULL, 0, mc->pconf) == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    rv = md_dir_make(fbs->dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, p);
    if (rv == APR_SUCCESS) rv = md_pkey_gen(&fbs->key, &spec, mc->pconf);
    if (rv == APR_SUCCESS) rv = md_pkey_to_pem(&pem, fbs->key, NULL, 0, p);
    if (rv == APR_SUCCESS) rv = md_file_write_scratch(path, pem, strlen(pem),
                                                      APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv == APR_SUCCESS) fbs->key_mtime = file_mtime(path, p);
    return rv;
}

static apr_status_t fallback_ensure(md_fallbacks_t *fbs, md_mod_conf_t *mc, md_t *md,
                                    apr_pool_t *p)
{
    const char *path = fallback_file(fbs->dir, md->name, p), *pem;
    apr_time_t made = file_mtime(path, p);
    md_cert_t *cert;
    apr_status_t rv;

    if (made && fbs->key_mtime && made >= fbs->key_mtime
        && made + FALLBACK_VALIDITY - apr_time_from_sec(24 * 60 * 60) > apr_time_now()) {
        return APR_SUCCESS;
    }
    rv = fallback_key(fbs, mc, p);
    if (rv == APR_SUCCESS) rv = md_cert_self_signed(&cert, md->name, md->domains, fbs->key,
                                                    FALLBACK_VALIDITY, p);
    if (rv == APR_SUCCESS) rv = md_cert_to_pem(&pem, cert, p);
    if (rv == APR_SUCCESS) rv = md_file_write_scratch(path, pem, strlen(pem),
                                                      APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    return rv;
}

/* ---- damaged store files, found and rebuilt at start ------------------------------- */

/* A JSON file of the MD that does not parse (reported by the loader) is removed when
 * it can be rebuilt: a job starts fresh, an order is asked of the CA again. */
static int json_damaged(md_store_t *store, md_store_group_t group, const char *name,
                        const char *file, const char *rebuilt, apr_pool_t *p)
{
    md_json_t *json;
    apr_status_t rv = md_store_load_json(&json, store, group, name, file, p);

    if (rv == APR_SUCCESS || APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_EACCES(rv)) return 0;
    if (rebuilt && md_store_remove(store, group, name, file, p) == APR_SUCCESS) {
        md_store_damage_note(store, group, name, file, rebuilt, p);
    }
    return 1;
}

/* A staged set with a damaged file is not activated: it is removed, and the renewal
 * starts over (the served certificate stays). */
static void staging_scan(md_store_t *store, md_t *md, apr_pool_t *p)
{
    static const char *const ALL = "staging removed; the renewal starts over";
    const char *name = md->name, *bad = NULL;
    md_pkey_t *pkey;
    apr_array_header_t *chain;
    apr_status_t rv;
    int i;

    json_damaged(store, MD_SG_STAGING, name, MD_FN_JOB, "removed; a fresh job replaces it", p);
    json_damaged(store, MD_SG_STAGING, name, MD_FN_ORDER, "removed; a new order is made", p);
    if (json_damaged(store, MD_SG_STAGING, name, MD_FN_MD, NULL, p)) bad = MD_FN_MD;
    if (json_damaged(store, MD_SG_STAGING, name, MD_FN_ACCOUNT, NULL, p)) bad = MD_FN_ACCOUNT;
    rv = md_store_load_pkey(&pkey, store, MD_SG_STAGING, name, MD_FN_ACCT_KEY, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) bad = MD_FN_ACCT_KEY;
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        const char *cert = md_pkey_file_name(md_pkey_spec_at(md, i), MD_FN_PUBCERT, p);
        const char *key = md_pkey_file_name(md_pkey_spec_at(md, i), MD_FN_PRIVKEY, p);
        rv = md_store_load_chain(&chain, store, MD_SG_STAGING, name, cert, p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) bad = cert;
        rv = md_store_load_pkey(&pkey, store, MD_SG_STAGING, name, key, p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) bad = key;
    }
    if (bad && md_store_purge(store, MD_SG_STAGING, name, p) == APR_SUCCESS) {
        md_store_damage_note(store, MD_SG_STAGING, name, bad, ALL, p);
    }
}

/* Key and certificate files under the name our earlier versions gave them (the curve's
 * canonical name, privkey.secp256r1.pem for 'P-256') get today's name (privkey.p-256.pem),
 * which is what we write: a store from either module is carried on without ordering its
 * certificates again. Serving pass only, before anything reads them. */
static void old_names_carry(md_store_t *store, md_store_group_t group, const md_t *md,
                            apr_pool_t *p)
{
    static const char *const kinds[] = { MD_FN_PUBCERT, MD_FN_PRIVKEY };
    const md_pkey_spec_t *spec;
    const char *old, *now;
    int i, k;

    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        spec = md_pkey_spec_at(md, i);
        for (k = 0; k < 2; ++k) {
            old = md_pkey_file_name_old(spec, kinds[k], p);
            now = md_pkey_file_name(spec, kinds[k], p);
            /* the same content under the new name: a rename in the MD's folder */
            if (old && md_store_exists(store, group, md->name, now, p) != APR_SUCCESS
                && md_store_exists(store, group, md->name, old, p) == APR_SUCCESS) {
                md_store_rename_file(store, group, md->name, old, now, p);
            }
        }
    }
}

/* Every file of the MD's groups that should parse, before anything uses them; what can
 * be rebuilt is removed (the served files are checked when the state is computed). */
static void md_store_scan(md_mod_conf_t *mc, md_t *md, apr_pool_t *p)
{
    md_store_t *store = mc->store;
    apr_array_header_t *files;
    int i;

    /* 1. domains/: the job starts fresh (a damaged md.json is reported when the state is
     *    computed, and written again from the configuration) */
    json_damaged(store, MD_SG_DOMAINS, md->name, MD_FN_JOB, "removed; a fresh job replaces it", p);
    /* 2. staging/, when a renewal is there */
    if (md_store_dir_exists(store, MD_SG_STAGING, md->name, p)) staging_scan(store, md, p);
    /* 3. ocsp/: a damaged response is fetched again */
    if (md_store_list(&files, store, MD_SG_OCSP, md->name, p) != APR_SUCCESS) return;
    for (i = 0; i < files->nelts; ++i) {
        const char *f = APR_ARRAY_IDX(files, i, const char *);
        if (strlen(f) < 5 || strcmp(f + strlen(f) - 5, ".json")) continue;
        json_damaged(store, MD_SG_OCSP, md->name, f, "removed; fetched again", p);
    }
}

/* The MD's account: reported when damaged (it cannot be rebuilt: a new one is made). */
static void account_scan(md_mod_conf_t *mc, md_t *md, apr_pool_t *p)
{
    md_pkey_t *pkey;

    /* many MDs share an account: its files are read (and the key decrypted) once */
    if (!md->ca_account || apr_hash_get(mc->accounts_checked, md->ca_account, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(mc->accounts_checked, apr_pstrdup(mc->pconf, md->ca_account), APR_HASH_KEY_STRING, "");
    json_damaged(mc->store, MD_SG_ACCOUNTS, md->ca_account, MD_FN_ACCOUNT, NULL, p);
    md_store_load_pkey(&pkey, mc->store, MD_SG_ACCOUNTS, md->ca_account, MD_FN_ACCT_KEY, p);
}

/* Has the staged set's activation time come (md_renew_activation_at)? A set that cannot
 * be read here goes on to the check, which says what is wrong with it. */
static int activation_due(md_mod_conf_t *mc, md_t *md, apr_pool_t *p)
{
    apr_array_header_t *staged, *served;
    const char *cert = md_pkey_file_name(md_pkey_spec_at(md, 0), MD_FN_PUBCERT, p);
    apr_time_t served_until = 0;

    if (!mc->activation_delay) return 1;
    if (md_store_load_chain(&staged, mc->store, MD_SG_STAGING, md->name, cert, p) != APR_SUCCESS
        || !staged->nelts) return 1;
    if (md_store_load_chain(&served, mc->store, MD_SG_DOMAINS, md->name, cert, p) == APR_SUCCESS
        && served->nelts) {
        served_until = md_cert_not_after(APR_ARRAY_IDX(served, 0, md_cert_t *));
    }
    return md_renew_activation_at(md_cert_not_before(APR_ARRAY_IDX(staged, 0, md_cert_t *)),
                                  mc->activation_delay, served_until) <= apr_time_now();
}

static void md_installed(md_mod_conf_t *mc, md_t *md, server_rec *s, apr_pool_t *p)
{
    md_job_t *job = md_job_load(mc->store, MD_SG_DOMAINS, md->name, p);
    md_result_t *result = md_result_make(p);
    int ran;

    /* the 'installed' program runs here, in the parent, as root */
    if (md_event_raise(md_config_event_conf(mc, p), "installed", md, job, result, &ran, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, result->status, s, "MD1006: %s: the "
                     "'installed' program failed: %s", md->name, result->detail);
    }
    if (ran) md_job_save(job, mc->store, MD_SG_DOMAINS, p);
}

/* The check again on the copy in tmp/, which the children cannot change: what goes live
 * is what was checked, whatever happens in staging/ meanwhile. */
typedef struct {
    md_store_t *store;
    const md_t *md;
} activation_t;

static apr_status_t activation_check(void *baton, md_store_group_t group, apr_pool_t *p)
{
    const activation_t *a = baton;
    const char *why;

    return md_renew_set_check(&why, a->store, group, a->md, p);
}

/* A staged set that fails the check of what the CA sent is not activated: it stays in
 * staging (the status shows it), its job says why and backs off like a failed renewal,
 * and the watchdog renews the certificates that failed when the backoff is over. */
static void md_staged_refused(md_mod_conf_t *mc, md_t *md, server_rec *s, apr_status_t rv,
                              const char *why, apr_pool_t *p)
{
    md_job_t *job = md_job_load(mc->store, MD_SG_STAGING, md->name, p);
    md_result_t *result = md_result_make(p);
    const char *recorded = job->last ? md_json_gets(job->last, MD_KEY_DETAIL, NULL) : NULL;

    md_result_activity(result, "checking the staged certificate(s) of %s before activation",
                       md->name);
    md_result_set(result, rv, "%s: it is not activated; the served certificate stays",
                  why ? why : "the staged set fails its check");
    /* one failure, counted once: restarts before the renewal ran again change nothing */
    if (job->finished || !recorded || strcmp(recorded, result->detail)) {
        md_job_end_run(job, result, p);
        job->next_run = apr_time_now() + md_renew_backoff(job->errors, mc->retry_delay, 0, 0.0);
        md_job_save(job, mc->store, MD_SG_STAGING, p);
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1013: %s: %s; a new certificate is ordered "
                 "at %s", md->name, md_result_line(result, p), md_time_print(job->next_run, p));
}

static void md_activate_staged(md_mod_conf_t *mc, md_t *md, server_rec *s, apr_pool_t *p)
{
    md_store_t *store = mc->store;
    md_store_lock_t *lock;
    const char *why;
    apr_status_t rv;

    /* 0. most starts have nothing staged and nothing half-done: two stats tell */
    if (!md_store_dir_exists(store, MD_SG_STAGING, md->name, p)
        && !md_store_dir_exists(store, MD_SG_TMP, md->name, p)
        && md_store_exists(store, MD_SG_DOMAINS, md->name, ".complete", p) != APR_SUCCESS) {
        return;
    }
    /* 1. no renewal of this MD (here or on another server of the store) meanwhile */
    rv = md_store_lock_md(&lock, store, md->name, mc->store_lock_wait, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "MD1007: %s: the MD is locked by a "
                     "renewal in progress; activation waits for the next restart", md->name);
        return;
    }
    /* 2. an activation a crash interrupted is finished first */
    rv = md_store_recover(store, md->name, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1001: %s: finishing an interrupted "
                     "activation failed; the last served certificate stays", md->name);
    }
    /* 3. a complete staged set is checked again (the children own staging/, and time
     *    passed since it was staged): our keys, our names, its dates, its chain */
    if (rv == APR_SUCCESS) {
        rv = md_renew_set_check(&why, store, MD_SG_STAGING, md, p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) md_staged_refused(mc, md, s, rv, why, p);
    }
    /* 4. one whose time has come goes live; the old one to the archive */
    if (rv == APR_SUCCESS && activation_due(mc, md, p)) {
        activation_t a = { store, md };
        rv = md_store_activate(store, md->name, md_renew_staged_files(store, md, p),
                               activation_check, &a, p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "AH10069: MD1002: %s: activating the staged "
                         "certificate failed; the last served certificate stays. Check the "
                         "permissions and free space of %s", md->name, md_store_base(store));
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "AH10068: MD1003: %s: the renewed certificate "
                         "is now in use", md->name);
            md_store_archive_prune(store, md->name, mc->archive_keep, p);
            md_installed(mc, md, s, p);
        }
    }
    md_store_unlock(lock);
}

/* The first certificate served for the MD, as read at start; NULL when there is none. */
static const md_served_t *served_first(const md_t *md)
{
    return md->served && md->served->nelts ? APR_ARRAY_IDX(md->served, 0, const md_served_t *)
                                           : NULL;
}

/* What the watchdog needs to know of the served certificate, which it cannot read. */
static void md_watch(md_mod_conf_t *mc, md_t *md, server_rec *s, apr_pool_t *p)
{
    md_watch_t *w = apr_pcalloc(mc->pconf, sizeof(*w));
    const md_served_t *first = md->state == MD_S_COMPLETE ? served_first(md) : NULL;

    w->md = md;
    md->ca_challenges = challenge_types(mc, md, mc->pconf);
    if (first) {
        w->valid_until = first->not_after;
        w->renew_at = md_status_served_renew_at(md, md->served);
        w->warn_at = md_renew_warn_at(&md->warn_window, first->not_before, first->not_after);
        /* a certificate its OCSP responder reported revoked is renewed now */
        if (md_ocsp_md_revoked(mc->store, md, p)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD8040: %s: the "
                         "certificate is revoked (ocsp/%s/), a new one is ordered", md->name, md->name);
            w->renew_at = 0;
        }
    }
    APR_ARRAY_PUSH(mc->watched, md_watch_t *) = w;
}

/* Bring the store's view of one MD up to date and decide whether it needs renewing. */
static apr_status_t md_sync(md_mod_conf_t *mc, md_t *md, server_rec *s, md_fallbacks_t *fbs,
                            apr_pool_t *p)
{
    const char *stored, *now;
    apr_status_t rv = APR_SUCCESS;

    /* 1. damaged files reported, what can be rebuilt removed; a staged set becomes the
     *    served one */
    old_names_carry(mc->store, MD_SG_DOMAINS, md, p);
    old_names_carry(mc->store, MD_SG_STAGING, md, p);
    md_store_scan(mc, md, p);
    md_activate_staged(mc, md, s, p);
    /* 2. the state, and md.json as configured now (written only when it changed); a store
     *    that cannot be written (a full disk) costs the record, not the serving */
    md_state_update(md, mc->store, 0, &stored, mc->pconf, p);
    account_scan(mc, md, p);
    now = md_json_dump(md_to_json(md, p), MD_JSON_INDENT, p);
    if (!stored || strcmp(stored, now)) {
        rv = md_store_save_record(mc->store, MD_SG_DOMAINS, md->name, MD_FN_MD, now, p);
        /* a damaged one (reported when it was read) is rebuilt so */
        if (rv == APR_SUCCESS && !stored) {
            md_store_damage_note(mc->store, MD_SG_DOMAINS, md->name, MD_FN_MD,
                                 "written again from the configuration", p);
        }
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1009: %s: md.json cannot be written to "
                     "the store at %s (full or read-only?); serving goes on", md->name,
                     md_store_base(mc->store));
    }
    /* 3. a fallback while there is no certificate */
    if (md->state != MD_S_COMPLETE) {
        rv = fallback_ensure(fbs, mc, md, p);
        if (rv != APR_SUCCESS) return rv;
    }
    /* 4. watched by the renewal watchdog when the mode allows it */
    if (md->renew_mode == MD_RENEW_MANUAL) return APR_SUCCESS;
    if (md->renew_mode == MD_RENEW_AUTO && (!md->watched || md->cert_files->nelts)) return APR_SUCCESS;
    md_watch(mc, md, s, p);
    return APR_SUCCESS;
}

/* ---- windows and static certificates, checked against the certificate in use ---------- */

/* The leaf of the certificate in use: the first static file, or the first key spec's. */
/* Warnings at start: an absolute MDRenewWindow as long as the certificate's whole life
 * (a renewal would be due at once, every time), and a static certificate inside its
 * MDWarnWindow (nobody renews it unless MDRenewMode is always). */
static void md_windows_check(const md_t *md, server_rec *s, apr_pool_t *p)
{
    const md_served_t *first = served_first(md);
    apr_time_t from, until;
    char date[APR_RFC822_DATE_LEN];

    if (!first) return;
    from = first->not_before;
    until = first->not_after;
    if (!md->renew_window.norm && md->renew_window.len >= until - from) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD4012: %s: MDRenewWindow %s is not "
                     "shorter than the certificate's lifetime of %d days, so a renewal is always due. "
                     "Use a percentage (e.g. 33%%) or a shorter duration", md->name,
                     md_timeslice_print(&md->renew_window, p),
                     (int)(apr_time_sec(until - from) / (24 * 60 * 60)));
    }
    if (md->cert_files->nelts
        && apr_time_now() >= until - md_timeslice_length(&md->warn_window, from, until)) {
        apr_rfc822_date(date, until);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD4013: %s: the static certificate %s "
                     "expires %s (inside MDWarnWindow %s). Replace the file%s", md->name,
                     APR_ARRAY_IDX(md->cert_files, 0, const char *), date,
                     md_timeslice_print(&md->warn_window, p),
                     md->renew_mode == MD_RENEW_ALWAYS ? "" : ", or set MDRenewMode always");
    }
}

/* ---- renames keep their certificates --------------------------------------------- */

/* The stored MD, claimed by no configured MD, that `md` carries on from (md_rename_pick). */
static const char *rename_source(md_mod_conf_t *mc, const md_t *md, apr_array_header_t *stored,
                                 apr_hash_t *claimed, apr_pool_t *p)
{
    apr_array_header_t *unclaimed = apr_array_make(p, stored->nelts, sizeof(md_t *));
    const md_t *from;
    md_json_t *json;
    md_t *old;
    int i;

    for (i = 0; i < stored->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(stored, i, const char *);
        if (apr_hash_get(claimed, name, APR_HASH_KEY_STRING)) continue;
        if (md_store_load_json(&json, mc->store, MD_SG_DOMAINS, name, MD_FN_MD, p) != APR_SUCCESS
            || md_from_json(&old, json, p) != APR_SUCCESS) continue;
        old->name = name;   /* the folder's name is the one to move */
        APR_ARRAY_PUSH(unclaimed, md_t *) = old;
    }
    from = md_rename_pick(md, unclaimed);
    return from ? from->name : NULL;
}

/* When the configuration renames an MD or changes its names, the store entry that
 * overlaps it most carries over, with certificate and key: domains/<old> and
 * staging/<old> become <new>. Only MDs without a domains/<name> directory look for one,
 * and an entry that a configured MD still uses is never taken. */
static void mds_carry_renames(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    apr_hash_t *claimed = apr_hash_make(p);
    apr_array_header_t *stored;
    const char *from;
    apr_status_t rv;
    int i;

    if (md_store_names(&stored, mc->store, MD_SG_DOMAINS, p) != APR_SUCCESS) return;
    for (i = 0; i < mc->mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        apr_hash_set(claimed, md->name, APR_HASH_KEY_STRING, md);
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        /* an existing directory, even without md.json, may hold a certificate: keep it;
         * so may tmp/<name>, of an activation a crash interrupted (recovered in md_sync) */
        if (md_store_dir_exists(mc->store, MD_SG_DOMAINS, md->name, p)
            || md_store_dir_exists(mc->store, MD_SG_TMP, md->name, p)) continue;
        from = rename_source(mc, md, stored, claimed, p);
        if (!from) continue;
        apr_hash_set(claimed, from, APR_HASH_KEY_STRING, md);
        rv = md_store_rename(mc->store, MD_SG_DOMAINS, from, md->name, p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD4010: %s: taking over the store entry "
                         "of '%s' failed; a new certificate will be obtained", md->name, from);
            continue;
        }
        if (md_store_dir_exists(mc->store, MD_SG_STAGING, from, p)
            && !md_store_dir_exists(mc->store, MD_SG_STAGING, md->name, p)) {
            md_store_rename(mc->store, MD_SG_STAGING, from, md->name, p);
        }
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD4011: %s: renamed from '%s' in the "
                     "store (the most names in common); its certificate and key carry over",
                     md->name, from);
    }
}

/* The configuration dry run: read the store, write nothing there. */
static apr_status_t md_dry_run(md_mod_conf_t *mc, md_t *md, md_fallbacks_t *fbs, apr_pool_t *p)
{
    md_state_update(md, mc->store, 1, NULL, mc->pconf, p);
    return (md->state == MD_S_COMPLETE) ? APR_SUCCESS : fallback_ensure(fbs, mc, md, p);
}

static apr_status_t store_open(md_mod_conf_t *mc, server_rec *s, int create, apr_pool_t *p)
{
    const char *dir = ap_server_root_relative(p, mc->store_dir);
    apr_status_t rv;
    int uid, gid;

    rv = md_store_open(&mc->store, dir, create, p);
    if (rv != APR_SUCCESS) {
        if (!create && APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MD1004: the store at %s cannot be "
                     "opened: check MDStoreDir and the directory's permissions", dir);
        return rv;
    }
    /* MDStoreOwner, or the children's User/Group; another user than the children's
     * lets them write through the group (checked in md_config_check.c) */
    uid = mc->store_uid >= 0 ? mc->store_uid : (int)ap_unixd_config.user_id;
    gid = mc->store_gid >= 0 ? mc->store_gid : (int)ap_unixd_config.group_id;
    md_store_set_owner(mc->store, uid, gid, uid != (int)ap_unixd_config.user_id);
    return create ? md_store_prepare_children(mc->store, p) : APR_SUCCESS;
}

int md_mod_init_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    int dry_run = ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
    md_fallbacks_t fallbacks;
    md_store_lock_t *global_lock = NULL;
    apr_time_t started = apr_time_now();
    apr_pool_t *ptmp;
    apr_status_t rv;
    int i;

    md_mod_log_install(s);
    mc->pconf = pconf;
    /* 1. the MDs as configured, linked to their vhosts */
    mds_merge(mc, s, pconf, ptemp);
    if (!mc->mds->nelts && !md_mod_ocsp_configured(mc, s)) return OK;
    /* 2. the store; only the serving pass writes to it */
    mc->accounts_checked = apr_hash_make(pconf);
    rv = store_open(mc, s, !dry_run, pconf);
    if (rv != APR_SUCCESS) return !OK;
    fallbacks_open(&fallbacks, mc, ptemp);
    /* 3. with MDStoreLocks, the rest under the store's global lock (each MD's own lock
     *    guards its activation anyway) */
    apr_array_clear(mc->watched);
    if (!dry_run && mc->store_locks
        && md_store_lock_global(&global_lock, mc->store, mc->store_lock_wait, ptemp) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, APR_TIMEUP, s, "AH10398: MD1008: the store lock %s/store.lock "
                     "was not free within %s; going on with each MD's own lock",
                     md_store_base(mc->store), md_duration_print(mc->store_lock_wait, ptemp));
    }
    /* 4. renamed MDs keep their store entries (serving pass only) */
    if (!dry_run) mds_carry_renames(mc, s, ptemp);
    /* 5. each MD synced: activation, state, fallback, renewal decision */
    /* what an MD's sync reads and parses is gone before the next MD's: memory stays flat */
    apr_pool_create(&ptmp, ptemp);
    for (i = 0; i < mc->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        apr_pool_clear(ptmp);
        rv = dry_run ? md_dry_run(mc, md, &fallbacks, ptmp)
                     : md_sync(mc, md, s, &fallbacks, ptmp);
        if (!dry_run) md_windows_check(md, s, ptmp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MD1005: %s: the store at %s cannot "
                         "be written", md->name, mc->store ? md_store_base(mc->store) : mc->store_dir);
            return !OK;
        }
    }
    if (!dry_run) md_store_sync(mc->store, ptemp);  /* the md.json records, at once */
    md_store_unlock(global_lock);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD1010: %d managed domain(s) %s in %d ms",
                 mc->mds->nelts, dry_run ? "checked (configuration pass)" : "synced with the store",
                 (int)apr_time_as_msec(apr_time_now() - started));
    if (dry_run) return OK;
    /* 6. the renewal watchdog for what needs renewing */
    /* libcurl's set-up is done by the child that makes the first request (memory the
     * parent and the other children do not carry); a libcurl whose set-up is not
     * thread-safe gets it here, single-threaded */
    if (md_http_init_needs_early() && md_http_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "MD1012: libcurl cannot be initialized");
        return !OK;
    }
    md_mod_farm_check(mc, s, ptemp);
    rv = md_mod_renew_start_watchdog(mc, s, pconf);
    if (rv != APR_SUCCESS) return !OK;
    /* 7. live activation: a thread in every child takes renewed sets into use */
    md_mod_live_start_watchdog(mc, s, pconf);
    /* OCSP stapling starts in a hook of its own, after this one (md_mod_ocsp_post_config) */
    return OK;
}

void md_mod_init_child(apr_pool_t *pchild, server_rec *s)
{
    md_mod_log_install(s);
    md_mod_renew_child_init(pchild);
    md_mod_farm_child_init(md_config_get(s)->mc, pchild);
}

/* ---- mod_ssl's certificate hooks --------------------------------------------------- */

/* mod_ssl asks for the certificate of an SSL vhost: if the MD (MDMembers manual) lacks
 * names of that vhost, its certificate will not be valid for them. Said once per start,
 * in the serving pass (not in the dry run before it). */
static void served_names_report(const md_t *md, server_rec *s, apr_pool_t *p)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return;
    md_config_report_names(md, s, s, APLOG_WARNING, p);
}

/* With MDActivation live the fallback of an MD without certificate is handed to mod_ssl as
 * the vhost's certificate, not as a fallback: mod_ssl would mark the vhost unavailable until
 * a restart. The 503 is ours then (md_mod_live_unavailable), until the children serve the MD's
 * first certificate. */
static int fallback_as_cert(const md_mod_conf_t *mc, const md_t *md)
{
    return mc->activation_live && mc->fallback_dir && !md->cert_files->nelts;
}

int md_mod_init_add_cert_files(server_rec *s, apr_pool_t *p, apr_array_header_t *cert_files,
                               apr_array_header_t *key_files)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_t *md = md_mod_vhosts_md_for_server(s);
    int i;

    if (md) served_names_report(md, s, p);
    if (md && md->state != MD_S_COMPLETE && fallback_as_cert(mc, md)) {
        APR_ARRAY_PUSH(cert_files, const char *) = fallback_file(mc->fallback_dir, md->name, p);
        APR_ARRAY_PUSH(key_files, const char *) = fallback_file(mc->fallback_dir, NULL, p);
        return OK;
    }
    if (!md || md->state != MD_S_COMPLETE) return DECLINED;
    if (md->cert_files->nelts) {
        apr_array_cat(cert_files, md->cert_files);
        apr_array_cat(key_files, md->pkey_files);
        return OK;
    }
    if (!mc->store) return DECLINED;
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        const md_pkey_spec_t *spec = md_pkey_spec_at(md, i);
        APR_ARRAY_PUSH(cert_files, const char *) = md_store_path(mc->store, MD_SG_DOMAINS,
            md->name, md_pkey_file_name(spec, MD_FN_PUBCERT, p), p);
        APR_ARRAY_PUSH(key_files, const char *) = md_store_path(mc->store, MD_SG_DOMAINS,
            md->name, md_pkey_file_name(spec, MD_FN_PRIVKEY, p), p);
    }
    return OK;
}

int md_mod_init_add_fallback_cert_files(server_rec *s, apr_pool_t *p, apr_array_header_t *cert_files,
                                        apr_array_header_t *key_files)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_t *md = md_mod_vhosts_md_for_server(s);

    if (!md || md->state == MD_S_COMPLETE || !mc->fallback_dir) return DECLINED;
    APR_ARRAY_PUSH(cert_files, const char *) = fallback_file(mc->fallback_dir, md->name, p);
    APR_ARRAY_PUSH(key_files, const char *) = fallback_file(mc->fallback_dir, NULL, p);
    return OK;
}
