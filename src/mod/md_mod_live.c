/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Live activation (MDActivation live, docs/directives/MDActivation.md): a renewed set is
 * served by every child for new handshakes within seconds, without a restart.
 *
 * - Parent, mod_ssl's init_server hook: for each SSL vhost of an MD, a certificate
 *   callback on its SSL_CTX, with the MD's slot as argument. mod_ssl never sets one; the
 *   SNI switch (SSL_set_SSL_CTX) carries it, so it runs after SNI (and in TLS 1.3 after
 *   ALPN) in every full handshake.
 * - Children, a watchdog thread each (mod_watchdog, not a singleton): when the renewal
 *   marks a new staged set (staging/.live-sets), or at the child's start, each MD's
 *   staged set is loaded once, into a pack of its own, and checked here: the children
 *   wrote staging/, so nothing in it is trusted (md_cert_check_chain against the MD's
 *   names, our key, the dates; the vhosts' names; a dry run on a throw-away SSL). Once its
 *   activation time has come (MDActivationDelay) the pack replaces the slot's under the
 *   slot's lock. A pack is freed when the slot and the last handshake using it let go.
 * - The callback: nothing while the slot is empty (mod_ssl's files serve); an acme-tls/1
 *   connection and a connection that got its certificate before (TLS 1.2
 *   renegotiation) are left alone; otherwise each key type's certificate, key and chain
 *   of the pack. It always returns 1: mod_ssl aborts the handshake on anything else.
 * The parent activates the same set into domains/ at its next start, as before. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_ssl.h>
#include <ap_mpm.h>
#include <mod_watchdog.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "md_mod.h"
#include "md_crypt.h"
#include "md_json_keys.h"
#include "md_renew.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

#define MD_LIVE_WATCHDOG "_md_live_"
#define MD_LIVE_TICK apr_time_from_msec(500)
#define MD_LIVE_MARKER ".live-sets"
#define MD_LIVE_ACME_TLS "acme-tls/1"
/* in the status directory: what each child serves live, a file per child */
#define MD_LIVE_CHILD_PREFIX "live-"

/* One key type's credentials, as handed to SSL_use_cert_and_key. */
typedef struct {
    X509 *leaf;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;      /* the intermediates */
    md_cert_t *cert, *issuer;   /* for stapling; issuer NULL without one */
} live_creds_t;

/* A staged set, loaded and checked: read-only once it is in a slot. */
typedef struct {
    apr_pool_t *pool;           /* unmanaged: destroyed with the last reference */
    volatile apr_uint32_t refs;
    int n;
    live_creds_t *creds;        /* one per key spec of the MD */
    md_cert_facts_t *facts;     /* of the first key spec's certificate */
    apr_time_t since;           /* when it went live in this child */
} live_pack_t;

/* One per MD that a vhost of mod_ssl serves; made in the parent, one copy per child. */
typedef struct {
    md_t *md;
    apr_array_header_t *servers;    /* server_rec*: the MD's SSL vhosts */
    apr_array_header_t *ctxs;       /* SSL_CTX*: theirs */
    apr_thread_mutex_t *lock;       /* guards pack */
    live_pack_t *pack;              /* NULL: what mod_ssl loaded at start serves */
    volatile apr_uint32_t live;     /* pack is set: the callback's quick test */
    /* the watchdog thread's own: */
    apr_time_t due;                 /* a checked set waits for its activation time */
    unsigned char looked[32];       /* sha256 of the last staged certificate looked at */
    char refused[512];              /* why the last set was not taken: said once */
} live_slot_t;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *by_md;              /* name -> live_slot_t* */
    apr_array_header_t *slots;
} live_reg_t;

typedef struct {
    md_mod_conf_t *mc;
    server_rec *s;
    apr_time_t marker_mtime;
    apr_ino_t marker_inode;
    int scanned;                    /* the child's first look at every MD was made */
    char child_file[1024];          /* this child's file in the status directory */
} live_wd_t;

/* This configuration cycle's slots, made at the first init_server call. */
static live_reg_t *live_reg;
/* SSL ex_data: set on a connection once it got its certificate from a pack. */
static int live_pin_idx = -1;
static const char live_pinned = 1;

/* ---- packs -------------------------------------------------------------------------- */

static void pack_ref(live_pack_t *pack)
{
    apr_atomic_inc32(&pack->refs);
}

static void pack_release(live_pack_t *pack)
{
    if (pack && !apr_atomic_dec32(&pack->refs)) apr_pool_destroy(pack->pool);
}

/* The slot's pack with a reference for the caller, or NULL. */
static live_pack_t *slot_take(live_slot_t *slot)
{
    live_pack_t *pack;

    apr_thread_mutex_lock(slot->lock);
    pack = slot->pack;
    if (pack) pack_ref(pack);
    apr_thread_mutex_unlock(slot->lock);
    return pack;
}

static apr_status_t chain_stack_free(void *data)
{
    sk_X509_free(data);
    return APR_SUCCESS;
}

/* One key spec's certificate chain and key from staging/, into the pack's pool. */
static apr_status_t creds_load(live_creds_t *c, apr_array_header_t **pchain, md_pkey_t **pkey,
                               md_store_t *store, const md_t *md, int i, apr_pool_t *p)
{
    const md_pkey_spec_t *spec = md_pkey_spec_at(md, i);
    apr_status_t rv;
    int k;

    rv = md_store_load_chain(pchain, store, MD_SG_STAGING, md->name,
                             md_pkey_file_name(spec, MD_FN_PUBCERT, p), p);
    if (rv == APR_SUCCESS && !(*pchain)->nelts) rv = APR_ENOENT;
    if (rv == APR_SUCCESS) rv = md_store_load_pkey(pkey, store, MD_SG_STAGING, md->name,
                                                   md_pkey_file_name(spec, MD_FN_PRIVKEY, p), p);
    if (rv != APR_SUCCESS) return rv;
    c->cert = APR_ARRAY_IDX(*pchain, 0, md_cert_t *);
    c->issuer = (*pchain)->nelts > 1 ? APR_ARRAY_IDX(*pchain, 1, md_cert_t *) : NULL;
    c->leaf = md_cert_x509(c->cert);
    c->key = md_pkey_evp(*pkey);
    c->chain = sk_X509_new_null();
    if (!c->chain) return APR_ENOMEM;
    apr_pool_cleanup_register(p, c->chain, chain_stack_free, apr_pool_cleanup_null);
    for (k = 1; k < (*pchain)->nelts; ++k) {
        if (!sk_X509_push(c->chain, md_cert_x509(APR_ARRAY_IDX(*pchain, k, md_cert_t *)))) {
            return APR_ENOMEM;
        }
    }
    return APR_SUCCESS;
}

/* Do the names of the MD's vhosts that the MD covers appear in the certificate? (The
 * check of the chain holds it to the MD's names; this one to what the vhosts answer.) */
static const char *vhost_names_check(const live_slot_t *slot, const md_cert_facts_t *facts,
                                     apr_pool_t *p)
{
    const char *name;
    int i, k;

    for (i = 0; i < slot->servers->nelts; ++i) {
        server_rec *s = APR_ARRAY_IDX(slot->servers, i, server_rec *);
        for (k = -1; k < (s->names ? s->names->nelts : 0); ++k) {
            name = k < 0 ? s->server_hostname : APR_ARRAY_IDX(s->names, k, const char *);
            if (!name || !md_san_covers(slot->md->domains, name)) continue;
            if (!md_san_covers(facts->sans, name)) {
                return apr_psprintf(p, "does not cover %s, a name of its virtual host", name);
            }
        }
    }
    return NULL;
}

/* What OpenSSL says: its first queued error, or the fallback text. */
static const char *ssl_error(const char *fallback, apr_pool_t *p)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_clear_error();
    if (!e) return fallback;
    ERR_error_string_n(e, buf, sizeof(buf));
    return apr_pstrdup(p, buf);
}

/* Would mod_ssl's context take the credentials (key match, security level)? Tried on a
 * throw-away SSL of each of the MD's vhosts. */
static const char *dry_run(const live_slot_t *slot, const live_pack_t *pack, apr_pool_t *p)
{
    const char *why = NULL;
    SSL *ssl;
    int i, k;

    for (i = 0; i < slot->ctxs->nelts && !why; ++i) {
        ssl = SSL_new(APR_ARRAY_IDX(slot->ctxs, i, SSL_CTX *));
        if (!ssl) return ssl_error("cannot be tried: no SSL made", p);
        for (k = 0; k < pack->n && !why; ++k) {
            const live_creds_t *c = &pack->creds[k];
            if (SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) != 1) {
                why = apr_psprintf(p, "is refused by mod_ssl's settings of its virtual host "
                                   "(%s)", ssl_error("security level?", p));
            }
        }
        SSL_free(ssl);
    }
    return why;
}

/* The staged set of the slot's MD, loaded once and checked: *ppack, or *pwhy says what
 * is wrong (APR_EINVAL), or APR_ENOENT when nothing complete is staged. */
static apr_status_t pack_load(live_pack_t **ppack, const char **pwhy, live_wd_t *wd,
                              live_slot_t *slot, apr_pool_t *ptemp)
{
    md_t *md = slot->md;
    live_pack_t *pack;
    apr_array_header_t *chain;
    md_pkey_t *key;
    apr_pool_t *pool;
    apr_status_t rv = APR_SUCCESS;
    int i;

    *ppack = NULL;
    *pwhy = NULL;
    /* 1. complete: the staged md.json is written last */
    if (md_store_exists(wd->mc->store, MD_SG_STAGING, md->name, MD_FN_MD, ptemp) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    pack = apr_pcalloc(pool, sizeof(*pack));
    pack->pool = pool;
    pack->refs = 1;
    pack->n = md_pkey_spec_count(md);
    pack->creds = apr_pcalloc(pool, sizeof(live_creds_t) * (apr_size_t)pack->n);
    /* 2. each key spec: read once, and what was read is what is checked and served */
    for (i = 0; i < pack->n && rv == APR_SUCCESS && !*pwhy; ++i) {
        rv = creds_load(&pack->creds[i], &chain, &key, wd->mc->store, md, i, pool);
        if (rv == APR_SUCCESS
            && md_renew_chain_check(pwhy, wd->mc->store, md, i, key, chain, ptemp) != APR_SUCCESS
            && !*pwhy) {
            *pwhy = "fails its check";
        }
        if (rv == APR_SUCCESS && !*pwhy && i == 0) {
            rv = md_cert_facts_of(&pack->facts, pack->creds[0].cert, pool);
        }
        if (*pwhy) *pwhy = apr_psprintf(ptemp, "the staged %s certificate %s",
                                        md_pkey_spec_name(md_pkey_spec_at(md, i)), *pwhy);
    }
    /* 3. the vhosts' names, and mod_ssl's settings */
    if (rv == APR_SUCCESS && !*pwhy) *pwhy = vhost_names_check(slot, pack->facts, ptemp);
    if (rv == APR_SUCCESS && !*pwhy) *pwhy = dry_run(slot, pack, ptemp);
    if (rv != APR_SUCCESS || *pwhy) {
        apr_pool_destroy(pool);
        return rv != APR_SUCCESS ? rv : APR_EINVAL;
    }
    *ppack = pack;
    return APR_SUCCESS;
}

/* ---- the callback, in every full handshake ----------------------------------------- */

static int is_acme_tls(SSL *ssl)
{
    const unsigned char *proto = NULL;
    unsigned int len = 0;

    SSL_get0_alpn_selected(ssl, &proto, &len);
    return proto && len == sizeof(MD_LIVE_ACME_TLS) - 1
           && !memcmp(proto, MD_LIVE_ACME_TLS, len);
}

/* An acme-tls/1 connection: mod_ssl put the challenge certificate (EC P-256) next to
 * the MD's own; a CA's client that prefers RSA signatures would get an RSA certificate
 * of the MD instead, and the validation fails (a renewal of an MD with an RSA key over
 * tls-alpn-01). So the challenge certificate, the current one, is left alone. */
static void challenge_only(SSL *ssl)
{
    X509 *cert = SSL_get_certificate(ssl);
    EVP_PKEY *key = SSL_get_privatekey(ssl);

    if (!cert || !key || !X509_up_ref(cert)) return;
    if (!EVP_PKEY_up_ref(key)) {
        X509_free(cert);
        return;
    }
    SSL_certs_clear(ssl);
    SSL_use_cert_and_key(ssl, cert, key, NULL, 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    ERR_clear_error();
}

static int live_cert_cb(SSL *ssl, void *arg)
{
    live_slot_t *slot = arg;
    live_pack_t *pack;
    int i;

    /* a renegotiation keeps the certificate of the first handshake, whichever it was */
    if (SSL_get_ex_data(ssl, live_pin_idx)) return 1;
    SSL_set_ex_data(ssl, live_pin_idx, (void *)&live_pinned);
    /* in TLS 1.3 the protocol is chosen before this callback (in TLS 1.2 after it) */
    if (is_acme_tls(ssl)) {
        challenge_only(ssl);
        return 1;
    }
    if (!apr_atomic_read32(&slot->live)) return 1;
    pack = slot_take(slot);
    if (!pack) return 1;
    /* only the pack's: what mod_ssl loaded may hold another key type (the fallback of an
     * MD without certificate is EC, its first certificate RSA), which a client could prefer */
    SSL_certs_clear(ssl);
    for (i = 0; i < pack->n; ++i) {
        const live_creds_t *c = &pack->creds[i];
        SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1);  /* checked in dry_run */
    }
    ERR_clear_error();
    pack_release(pack);
    return 1;
}

/* ---- the parent: slots and callbacks, as mod_ssl makes each vhost's context ---------- */

static apr_status_t reg_cleanup(void *data)
{
    if (live_reg == data) live_reg = NULL;
    return APR_SUCCESS;
}

static live_slot_t *slot_get(md_t *md, apr_pool_t *p)
{
    live_slot_t *slot;

    if (!live_reg) {
        live_reg = apr_pcalloc(p, sizeof(*live_reg));
        live_reg->p = p;
        live_reg->by_md = apr_hash_make(p);
        live_reg->slots = apr_array_make(p, 10, sizeof(live_slot_t *));
        apr_pool_cleanup_register(p, live_reg, reg_cleanup, apr_pool_cleanup_null);
    }
    slot = apr_hash_get(live_reg->by_md, md->name, APR_HASH_KEY_STRING);
    if (slot) return slot;
    slot = apr_pcalloc(p, sizeof(*slot));
    slot->md = md;
    slot->servers = apr_array_make(p, 2, sizeof(server_rec *));
    slot->ctxs = apr_array_make(p, 2, sizeof(SSL_CTX *));
    if (apr_thread_mutex_create(&slot->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
    apr_hash_set(live_reg->by_md, md->name, APR_HASH_KEY_STRING, slot);
    APR_ARRAY_PUSH(live_reg->slots, live_slot_t *) = slot;
    return slot;
}

int md_mod_live_init_server(server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx)
{
    md_t *md = is_proxy ? NULL : md_mod_vhosts_md_for_server(s);
    live_slot_t *slot;

    /* static files are not ours; with MDActivation restart the callback is there for
     * tls-alpn-01 (challenge_only), and the slot stays empty */
    if (!md || !ctx || md->cert_files->nelts) return DECLINED;
    if (live_pin_idx < 0) live_pin_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    slot = live_pin_idx >= 0 ? slot_get(md, p) : NULL;
    if (!slot) return DECLINED;
    APR_ARRAY_PUSH(slot->servers, server_rec *) = s;
    APR_ARRAY_PUSH(slot->ctxs, SSL_CTX *) = ctx;
    SSL_CTX_set_cert_cb(ctx, live_cert_cb, slot);
    return OK;
}

static const char *live_dir(apr_pool_t *p)
{
    return ap_runtime_dir_relative(p, MD_STATUS_DIR);
}

static int is_child_file(const char *name)
{
    apr_size_t len = strlen(name);

    return !strncmp(name, MD_LIVE_CHILD_PREFIX, sizeof(MD_LIVE_CHILD_PREFIX) - 1)
           && len > 5 && !strcmp(name + len - 5, ".json");
}

/* The children's files of the last generation: the new children serve what this start
 * activates (a child of the old one still draining its connections is not listed). */
static void child_files_remove(apr_pool_t *p)
{
    apr_array_header_t *names;
    const char *dir = live_dir(p);
    int i;

    if (md_dir_list(&names, dir, 0, p) != APR_SUCCESS) return;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (is_child_file(name)) apr_file_remove(apr_pstrcat(p, dir, "/", name, NULL), p);
    }
}

/* After mod_ssl's post_config: say when live activation is on but cannot work. */
int md_mod_live_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    int i, n = 0;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    child_files_remove(ptemp);
    if (!mc->activation_live || !mc->watched->nelts) return OK;
    for (i = 0; i < mc->watched->nelts; ++i) {
        md_watch_t *w = APR_ARRAY_IDX(mc->watched, i, md_watch_t *);
        if (live_reg && apr_hash_get(live_reg->by_md, w->md->name, APR_HASH_KEY_STRING)) continue;
        ++n;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD1501: %s: no SSL virtual host of the "
                     "MD was set up through mod_ssl's init_server hook; its renewed "
                     "certificate goes live at the next restart", w->md->name);
    }
    if (!live_reg) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "MD1502: MDActivation live: no SSL "
                     "virtual host of a managed domain came through mod_ssl's init_server hook "
                     "(mod_ssl not loaded, no SSL virtual hosts, or mod_ssl older than 2.4.19); "
                     "renewed certificates go live at the next restart (MDActivationRestart "
                     "does that by itself)");
    }
    else if (n) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "MD1503: %d managed domain(s) without an "
                     "SSL virtual host go live at the next restart", n);
    }
    return OK;
}

/* ---- the children: the watchdog thread ---------------------------------------------- */


/* This child's file: what it serves live, per MD (md-status shows every child's). Only
 * children write and read these files; the parent removes them at a start. */
static void child_file_write(live_wd_t *wd, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    const char *text;
    int i;

    md_json_setl((long)getpid(), j, MD_KEY_PID, NULL);
    md_json_setj(md_json_create(p), j, MD_KEY_MDS, NULL);
    for (i = 0; i < live_reg->slots->nelts; ++i) {
        live_slot_t *slot = APR_ARRAY_IDX(live_reg->slots, i, live_slot_t *);
        live_pack_t *pack = slot_take(slot);
        if (!pack) continue;
        md_json_sets(pack->facts->serial_hex, j, MD_KEY_MDS, slot->md->name, MD_KEY_SERIAL, NULL);
        md_json_sets(md_time_print(pack->since, p), j, MD_KEY_MDS, slot->md->name, MD_KEY_SINCE,
                     NULL);
        md_json_sets(md_time_print(pack->facts->not_after, p), j, MD_KEY_MDS, slot->md->name,
                     MD_KEY_VALID_UNTIL, NULL);
        pack_release(pack);
    }
    text = md_json_dump(j, MD_JSON_COMPACT, p);
    if (md_file_write_scratch(wd->child_file, text, strlen(text),
                              APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, wd->s, "MD1508: %s cannot be written; md-status "
                     "does not show what this child serves", wd->child_file);
    }
}

/* Put pack into the slot; the one before goes when its last handshake lets go. */
static void slot_swap(live_wd_t *wd, live_slot_t *slot, live_pack_t *pack, apr_pool_t *ptemp)
{
    live_pack_t *old;
    int i;

    pack->since = apr_time_now();
    apr_thread_mutex_lock(slot->lock);
    old = slot->pack;
    slot->pack = pack;
    apr_atomic_set32(&slot->live, 1);
    apr_thread_mutex_unlock(slot->lock);
    pack_release(old);
    for (i = 0; slot->md->stapling && i < pack->n; ++i) {
        if (pack->creds[i].issuer) md_mod_ocsp_live_add(wd->s, slot->md, pack->creds[i].cert,
                                                        pack->creds[i].issuer);
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wd->s, "MD1504: %s: the new certificate "
                 "(serial %s) is served from now on by this child (pid %d), without a "
                 "restart", slot->md->name, pack->facts->serial_hex, (int)getpid());
    if (wd->scanned) child_file_write(wd, ptemp);   /* else at the end of the first look */
}

/* When the set may go live: its notBefore plus MDActivationDelay, but not after the end
 * of the certificate it replaces (as the parent decides at a restart). */
static apr_time_t activation_at(live_wd_t *wd, const live_slot_t *slot, const live_pack_t *pack)
{
    const md_served_t *served = slot->md->served && slot->md->served->nelts
        ? APR_ARRAY_IDX(slot->md->served, 0, const md_served_t *) : NULL;
    apr_time_t at = pack->facts->not_before + wd->mc->activation_delay;

    if (!wd->mc->activation_delay) return 0;
    if (served && served->not_after < at) at = served->not_after;
    return at;
}

static int pack_is_served(live_slot_t *slot, const live_pack_t *pack)
{
    const live_pack_t *cur = slot->pack;   /* only this thread changes it */

    return cur && !memcmp(cur->facts->sha256, pack->facts->sha256, sizeof(cur->facts->sha256));
}

/* Look at one MD's staged set: load, check, and put it live once its time has come. */
static void slot_look(live_wd_t *wd, live_slot_t *slot, apr_pool_t *ptemp)
{
    live_pack_t *pack;
    const char *why;
    apr_time_t at;
    apr_status_t rv;

    slot->due = 0;
    rv = pack_load(&pack, &why, wd, slot, ptemp);
    if (rv != APR_SUCCESS) {
        if (!why) return;   /* nothing complete staged */
        if (strncmp(slot->refused, why, sizeof(slot->refused) - 1)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wd->s, "MD1505: %s: %s; it is not "
                         "served, the certificate in use stays", slot->md->name, why);
        }
        apr_cpystrn(slot->refused, why, sizeof(slot->refused));
        return;
    }
    slot->refused[0] = '\0';
    if (pack_is_served(slot, pack)) {
        pack_release(pack);
        return;
    }
    at = activation_at(wd, slot, pack);
    if (at > apr_time_now()) {
        slot->due = at;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, wd->s, "MD1506: %s: the renewed certificate "
                     "goes live at %s (MDActivationDelay)", slot->md->name,
                     md_time_print(at, ptemp));
        pack_release(pack);
        return;
    }
    slot_swap(wd, slot, pack, ptemp);
}

/* Has the renewal marked a staged set since the last look? One stat. */
static int marker_changed(live_wd_t *wd, apr_pool_t *p)
{
    apr_finfo_t info;

    if (md_store_info(&info, wd->mc->store, MD_SG_STAGING, NULL, MD_LIVE_MARKER, p) != APR_SUCCESS) {
        return 0;
    }
    if (info.mtime == wd->marker_mtime && info.inode == wd->marker_inode) return 0;
    wd->marker_mtime = info.mtime;
    wd->marker_inode = info.inode;
    return 1;
}

/* Is this child on its way out (a graceful restart or stop)? Its exit tears down what a
 * look at a staged set needs (OpenSSL's decoders among it): a key read then fails and
 * would be reported as damage. */
static int child_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

static apr_status_t live_tick(int state, void *baton, apr_pool_t *ptemp)
{
    live_wd_t *wd = baton;
    apr_time_t now = apr_time_now();
    int i, all;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        if (wd->scanned) apr_file_remove(wd->child_file, ptemp);
        return APR_SUCCESS;
    }
    if (!live_reg || !wd->mc->store) return APR_SUCCESS;
    /* every MD at the child's start, and whenever the renewal staged a set */
    all = marker_changed(wd, ptemp) || !wd->scanned;
    for (i = 0; i < live_reg->slots->nelts; ++i) {
        live_slot_t *slot = APR_ARRAY_IDX(live_reg->slots, i, live_slot_t *);
        if (child_stopping()) return APR_SUCCESS;
        if (all || (slot->due && slot->due <= now)) slot_look(wd, slot, ptemp);
    }
    if (!wd->scanned) {
        /* the child's file, also when it serves nothing live: it counts for "all" */
        apr_snprintf(wd->child_file, sizeof(wd->child_file), "%s/" MD_LIVE_CHILD_PREFIX "%d.json",
                     live_dir(ptemp), (int)getpid());
        wd->scanned = 1;
        child_file_write(wd, ptemp);
    }
    return APR_SUCCESS;
}

apr_status_t md_mod_live_start_watchdog(md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    live_wd_t *wd;
    apr_status_t rv;

    if (!mc->activation_live || !mc->watched->nelts) return APR_SUCCESS;
    wd = apr_pcalloc(p, sizeof(*wd));
    wd->mc = mc;
    wd->s = s;
    /* in every child (not a singleton) */
    rv = md_mod_watchdog_start(MD_LIVE_WATCHDOG, 0, MD_LIVE_TICK, live_tick, wd, p);
    if (rv == APR_ENOTIMPL) return rv;   /* said by the renewal's start */
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "MD1507: the watchdog of live activation "
                     "could not start; renewed certificates go live at the next restart");
    }
    return rv;
}

void md_mod_live_note_staged(md_mod_conf_t *mc, apr_pool_t *p)
{
    if (!mc->activation_live || !mc->store) return;
    md_store_save_text(mc->store, MD_SG_STAGING, NULL, MD_LIVE_MARKER,
                       md_time_print(apr_time_now(), p), p);
}

/* ---- status ------------------------------------------------------------------------ */

static live_slot_t *slot_find(const char *name)
{
    return live_reg ? apr_hash_get(live_reg->by_md, name, APR_HASH_KEY_STRING) : NULL;
}

/* Does this child serve a set of the MD live? */
static int live_serving(const char *name)
{
    live_slot_t *slot = slot_find(name);

    return slot && apr_atomic_read32(&slot->live);
}

struct md_live_view_t {
    apr_array_header_t *children;   /* md_json_t*: the file of each running child */
    int any;                        /* some child serves some MD live */
};

static int child_running(const md_json_t *child)
{
    long pid = md_json_getl(child, MD_KEY_PID, NULL);

    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

md_live_view_t *md_mod_live_view_load(apr_pool_t *p)
{
    md_live_view_t *view = apr_pcalloc(p, sizeof(*view));
    apr_array_header_t *names;
    const char *dir = live_dir(p), *text;
    apr_size_t len;
    md_json_t *child;
    int i;

    view->children = apr_array_make(p, 8, sizeof(md_json_t *));
    if (md_dir_list(&names, dir, 0, p) != APR_SUCCESS) return view;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (!is_child_file(name)
            || md_file_read(&text, &len, apr_pstrcat(p, dir, "/", name, NULL), 64 * 1024, p) != APR_SUCCESS
            || md_json_parse(&child, text, len, p) != APR_SUCCESS || !child_running(child)) {
            continue;   /* a child that ended, or is writing its file right now */
        }
        APR_ARRAY_PUSH(view->children, md_json_t *) = child;
        view->any |= md_json_keys(child, p, MD_KEY_MDS, NULL)->nelts > 0;
    }
    return view->any ? view : NULL;
}

/* The MD's entry of the child that took a set of it last, or NULL. */
static const md_json_t *newest_of(const md_live_view_t *view, const char *name)
{
    const md_json_t *newest = NULL, *m;
    int i;

    for (i = 0; i < view->children->nelts; ++i) {
        m = md_json_getj(APR_ARRAY_IDX(view->children, i, md_json_t *), MD_KEY_MDS, name, NULL);
        if (m && (!newest || strcmp(md_json_gets(m, MD_KEY_SINCE, NULL),
                                    md_json_gets(newest, MD_KEY_SINCE, NULL)) > 0)) {
            newest = m;
        }
    }
    return newest;
}

md_json_t *md_mod_live_status(const md_live_view_t *view, const char *name, apr_pool_t *p)
{
    const md_json_t *newest = view ? newest_of(view, name) : NULL;
    const char *serial;
    md_json_t *j, *children, *m, *e;
    int i, all = 1;

    if (!newest) return NULL;   /* every child serves what the last start loaded */
    serial = md_json_gets(newest, MD_KEY_SERIAL, NULL);
    children = md_json_create_array(p);
    for (i = 0; i < view->children->nelts; ++i) {
        md_json_t *child = APR_ARRAY_IDX(view->children, i, md_json_t *);
        m = md_json_getj(child, MD_KEY_MDS, name, NULL);
        e = m ? md_json_copy(m, p) : md_json_create(p);
        md_json_setl(md_json_getl(child, MD_KEY_PID, NULL), e, MD_KEY_PID, NULL);
        md_json_array_append(children, e);
        all &= m && !strcmp(md_json_gets(m, MD_KEY_SERIAL, NULL), serial);
    }
    j = md_json_create(p);
    md_json_sets("live", j, MD_KEY_ACTIVATION, NULL);
    md_json_sets(serial, j, MD_KEY_SERIAL, NULL);
    md_json_sets(md_json_gets(newest, MD_KEY_SINCE, NULL), j, MD_KEY_SINCE, NULL);
    md_json_sets(md_json_gets(newest, MD_KEY_VALID_UNTIL, NULL), j, MD_KEY_VALID_UNTIL, NULL);
    md_json_setb(all, j, MD_KEY_ALL, NULL);
    md_json_setj(children, j, MD_KEY_CHILDREN, NULL);
    return j;
}

/* ---- an MD's first certificate ------------------------------------------------------- */

/* post_read_request: a request on an SSL vhost of an MD that has no certificate yet is
 * answered 503, as mod_ssl does for a fallback certificate, until this child serves the
 * MD's first certificate live (md_mod_init_add_cert_files gave mod_ssl the fallback as the
 * vhost's certificate, so that mod_ssl does not answer 503 until a restart). */
int md_mod_live_unavailable(request_rec *r)
{
    md_t *md;

    if (!r->connection || !ap_ssl_conn_is_ssl(r->connection)) return DECLINED;
    md = md_mod_vhosts_md_for_server(r->server);
    if (!md || md->state == MD_S_COMPLETE || md->cert_files->nelts) return DECLINED;
    if (!md_config_get(r->server)->mc->activation_live || live_serving(md->name)) {
        return DECLINED;
    }
    return HTTP_SERVICE_UNAVAILABLE;
}
