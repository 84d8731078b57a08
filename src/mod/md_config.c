/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Directives. Each handler is named after its directive; values are checked here so
 * that a broken configuration stops the server at start, naming file and line. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md_mod.h"
#include "md_chall.h"
#include "md_exec.h"
#include "md_util.h"
#include "md_dns.h"
#include "md_preflight.h"

APLOG_USE_MODULE(md);

static const md_timeslice_t DEFAULT_RENEW_WINDOW = { 33, 100 };
static const md_timeslice_t DEFAULT_WARN_WINDOW = { 10, 100 };
#define DEFAULT_CA "https://acme-v02.api.letsencrypt.org/directory"

/* The <MDomain> section being read, if any: its directives apply to that MD. */
static md_conf_md_t *section_md;

typedef struct { const char *name, *url; } md_known_ca_t;
static const md_known_ca_t KNOWN_CAS[] = {
    { "LetsEncrypt", DEFAULT_CA },
    { "LetsEncrypt-Test", "https://acme-staging-v02.api.letsencrypt.org/directory" },
    { "Buypass", "https://api.buypass.com/acme/directory" },
    { "Buypass-Test", "https://api.test4.buypass.no/acme/directory" },
};

static void settings_init(md_settings_t *st)
{
    memset(st, 0, sizeof(*st));
    st->renew_mode = st->must_staple = st->members = st->require_https = -1;
    st->profile_mandatory = st->ari_renewals = st->stapling = st->staple_others = -1;
    st->dns01_wait = -1;
    st->preflight = st->preflight_http = -1;
}

static md_mod_conf_t *mod_conf_get(apr_pool_t *pool)
{
    static const char *KEY = "md-module-conf";
    md_mod_conf_t *mc = NULL;

    /* one per configuration cycle: kept with the configuration pool */
    apr_pool_userdata_get((void **)&mc, KEY, pool);
    if (mc) return mc;
    mc = apr_pcalloc(pool, sizeof(*mc));
    mc->conf_mds = apr_array_make(pool, 5, sizeof(md_conf_md_t *));
    mc->mds = apr_array_make(pool, 5, sizeof(md_t *));
    mc->watched = apr_array_make(pool, 5, sizeof(md_t *));
    mc->store_dir = "md";
    mc->local_80 = 80;
    mc->local_443 = 443;
    mc->check_interval = apr_time_from_sec(12 * 60 * 60);
    mc->retry_delay = apr_time_from_sec(30);
    mc->retry_failover = 13;
    mc->renew_concurrency = 8;
    mc->program_timeout = apr_time_from_sec(60);
    mc->archive_keep = 5;
    mc->store_uid = mc->store_gid = -1;
    mc->restart_from = mc->restart_to = -1;
    mc->activation_live = 1;
    mc->dns01_version = 1;
    mc->store_lock_wait = apr_time_from_sec(5);
    mc->staple_keep_response = apr_time_from_sec(7 * 24 * 60 * 60);
    mc->staple_renew_window.len = 33;
    mc->staple_renew_window.norm = 100;
    mc->server_status = 1;
    mc->certificate_status = 1;
    mc->cert_check_name = "crt.sh";
    mc->cert_check_url = "https://crt.sh?q=";
    apr_pool_userdata_set(mc, KEY, apr_pool_cleanup_null, pool);
    return mc;
}

void *md_config_create_srv(apr_pool_t *p, server_rec *s)
{
    md_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->mc = mod_conf_get(p);
    settings_init(&sc->settings);
    return sc;
}

/* One merge rule: a value set in the more specific scope wins. */
static void settings_merge(md_settings_t *into, const md_settings_t *general)
{
#define MERGE_PTR(f) if (!into->f) into->f = general->f
#define MERGE_INT(f) if (into->f < 0) into->f = general->f
    MERGE_PTR(ca_urls); MERGE_PTR(ca_agreement); MERGE_PTR(ca_challenges); MERGE_PTR(contact);
    MERGE_INT(renew_mode); MERGE_PTR(renew_window); MERGE_PTR(warn_window);
    MERGE_PTR(pkey_specs); MERGE_INT(must_staple); MERGE_INT(members);
    MERGE_PTR(ca_certs); MERGE_PTR(proxy_url); MERGE_PTR(proxy_ca_certs);
    MERGE_INT(require_https); MERGE_PTR(eab_kid); MERGE_PTR(eab_hmac); MERGE_PTR(profile);
    MERGE_INT(profile_mandatory); MERGE_INT(ari_renewals); MERGE_INT(stapling);
    MERGE_INT(staple_others); MERGE_PTR(dns01_cmd); MERGE_INT(dns01_wait);
    MERGE_PTR(preferred_chain); MERGE_INT(preflight); MERGE_INT(preflight_http);
    MERGE_PTR(preflight_caa);
#undef MERGE_PTR
#undef MERGE_INT
}

void *md_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    md_srv_conf_t *add = addv, *sc;
    md_settings_t unset;

    /* a vhost that sets nothing of ours shares the general settings (nothing writes to a
     * server's settings after the merge): no copy per vhost */
    settings_init(&unset);
    if (!memcmp(&add->settings, &unset, sizeof(unset))) return basev;
    sc = apr_pmemdup(p, add, sizeof(*sc));
    settings_merge(&sc->settings, &((md_srv_conf_t *)basev)->settings);
    return sc;
}

md_srv_conf_t *md_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &md_module);
}

md_event_conf_t *md_config_event_conf(const md_mod_conf_t *mc, apr_pool_t *p)
{
    md_event_conf_t *ev = apr_pcalloc(p, sizeof(*ev));

    ev->message_cmd = mc->message_cmd;
    ev->notify_cmd = mc->notify_cmd;
    ev->timeout = mc->program_timeout;
    ev->store_dir = mc->store ? md_store_base(mc->store) : NULL;
    return ev;
}

static md_settings_t *settings_for(cmd_parms *cmd)
{
    return section_md ? &section_md->settings : &md_config_get(cmd->server)->settings;
}

static const char *at(cmd_parms *cmd, const char *msg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, msg);
}

/* A value accepted with a warning: the id, where it is, and what is wrong. */
static void warn_at(cmd_parms *cmd, const char *id, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, "%s: %s:%d: %s: %s", id,
                 cmd->directive->filename, cmd->directive->line_num, cmd->cmd->name, msg);
}

/* Directives with a global effect are not allowed inside <MDomain>. */
static const char *not_in_section(cmd_parms *cmd)
{
    return section_md ? at(cmd, "is not allowed inside <MDomain>; put it outside") : NULL;
}

static void settings_apply(md_t *md, const md_settings_t *st, apr_pool_t *p)
{
    int i;

    /* into the MD's own arrays; the strings live as long as the configuration */
    apr_array_clear(md->ca_urls);
    if (st->ca_urls) apr_array_cat(md->ca_urls, st->ca_urls);
    if (!md->ca_urls->nelts) APR_ARRAY_PUSH(md->ca_urls, const char *) = DEFAULT_CA;
    md->ca_agreement = st->ca_agreement;
    apr_array_clear(md->ca_challenges);
    if (st->ca_challenges) apr_array_cat(md->ca_challenges, st->ca_challenges);
    if (st->contact) md_array_str_add_unique(md->contacts, st->contact, 0);
    md->renew_mode = st->renew_mode >= 0 ? (md_renew_mode_t)st->renew_mode : MD_RENEW_AUTO;
    md->renew_window = st->renew_window ? *st->renew_window : DEFAULT_RENEW_WINDOW;
    md->warn_window = st->warn_window ? *st->warn_window : DEFAULT_WARN_WINDOW;
    for (i = 0; st->pkey_specs && i < st->pkey_specs->nelts; ++i) {
        APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) = APR_ARRAY_IDX(st->pkey_specs, i, md_pkey_spec_t *);
    }
    md->must_staple = st->must_staple > 0;
    if (st->members >= 0) md->members = (md_members_t)st->members;
    md->ca_certs = (st->ca_certs && *st->ca_certs) ? st->ca_certs : NULL;
    md->proxy_url = st->proxy_url;
    md->proxy_ca_certs = (st->proxy_ca_certs && *st->proxy_ca_certs) ? st->proxy_ca_certs : NULL;
    md->preferred_chain = (st->preferred_chain && strcasecmp(st->preferred_chain, "none"))
                          ? st->preferred_chain : NULL;
    md->require_https = st->require_https > 0 ? (md_require_t)st->require_https : MD_REQUIRE_OFF;
    if (st->eab_kid && strcmp(st->eab_kid, "none")) {
        md->eab_kid = st->eab_kid;
        md->eab_hmac = st->eab_hmac;
    }
    md->profile = st->profile;
    md->profile_mandatory = st->profile_mandatory > 0;
    md->ari_renewals = st->ari_renewals != 0;           /* default on */
    md->stapling = st->stapling > 0;
    md->dns01_cmd = st->dns01_cmd;
    md->dns01_wait = st->dns01_wait > 0 ? st->dns01_wait : 0;
    md->preflight = st->preflight != 0;                 /* default on */
    md->preflight_http = st->preflight_http != 0;       /* default on */
    md->preflight_caa = st->preflight_caa;
}

void md_config_apply(md_t *md, const md_conf_md_t *cmd, server_rec *base_server, apr_pool_t *p)
{
    md_settings_t st = cmd->settings;

    settings_merge(&st, &md_config_get(cmd->defined_in ? cmd->defined_in : base_server)->settings);
    settings_merge(&st, &md_config_get(base_server)->settings);
    settings_apply(md, &st, p);
    if (cmd->cert_files) {
        md->cert_files = md_array_str_copy(p, cmd->cert_files);
        md->pkey_files = md_array_str_copy(p, cmd->pkey_files);
    }
}

/* ---- MDomain and <MDomain> ---------------------------------------------------- */

/* DNS names are case-insensitive; the store and md.json hold them in lower case, as
 * today's module does. */
static const char *name_lower(apr_pool_t *p, const char *name)
{
    char *lower = apr_pstrdup(p, name), *c;

    for (c = lower; *c; ++c) *c = (char)apr_tolower(*c);
    return lower;
}

static const char *add_names(cmd_parms *cmd, md_conf_md_t *cm, int argc, char *const argv[])
{
    int i;

    for (i = 0; i < argc; ++i) {
        if (!strcasecmp(argv[i], "auto")) cm->settings.members = MD_MEMBERS_AUTO;
        else if (!strcasecmp(argv[i], "manual")) cm->settings.members = MD_MEMBERS_MANUAL;
        else if (strchr(argv[i], '/') || strchr(argv[i], ' ') || !argv[i][0]) {
            return at(cmd, apr_psprintf(cmd->pool, "'%s' is not a domain name", argv[i]));
        }
        else md_array_str_add_unique(cm->md->domains, name_lower(cmd->pool, argv[i]), 0);
    }
    return NULL;
}

static const char *md_define(cmd_parms *cmd, int argc, char *const argv[], md_conf_md_t **pcm)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    md_conf_md_t *cm = apr_pcalloc(cmd->pool, sizeof(*cm));
    const char *err;

    if (argc < 1) return at(cmd, "needs at least one domain name");
    cm->md = md_create(cmd->pool, NULL);
    cm->defined_in = cmd->server;
    settings_init(&cm->settings);
    err = add_names(cmd, cm, argc, argv);
    if (err) return err;
    if (!cm->md->domains->nelts) return at(cmd, "needs at least one domain name");
    cm->md->name = APR_ARRAY_IDX(cm->md->domains, 0, const char *);
    cm->md->defn_name = cmd->directive->filename;
    cm->md->defn_line = (unsigned int)cmd->directive->line_num;
    APR_ARRAY_PUSH(mc->conf_mds, md_conf_md_t *) = cm;
    *pcm = cm;
    return NULL;
}

static const char *md_cmd_mdomain(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_conf_md_t *cm;
    const char *err = not_in_section(cmd);

    return err ? err : md_define(cmd, argc, argv, &cm);
}

/* Each MDCertificateFile needs its MDCertificateKeyFile, in the same order. */
static const char *static_files_check(cmd_parms *cmd, const md_conf_md_t *cm)
{
    int certs = cm->cert_files ? cm->cert_files->nelts : 0;
    int keys = cm->pkey_files ? cm->pkey_files->nelts : 0;

    if (certs == keys) return NULL;
    return apr_psprintf(cmd->pool, "MDCertificateFile/MDCertificateKeyFile: <MDomain %s> has %d "
                        "MDCertificateFile and %d MDCertificateKeyFile lines; give one "
                        "MDCertificateKeyFile for each MDCertificateFile, in the same order",
                        cm->md->name, certs, keys);
}

static const char *md_cmd_section(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *endp = strrchr(arg, '>'), *err = not_in_section(cmd);
    apr_array_header_t *names = apr_array_make(cmd->temp_pool, 5, sizeof(char *));
    ap_directive_t *section = cmd->directive;
    const char *args, *word;
    md_conf_md_t *cm;

    if (err) return err;
    if (!endp) return at(cmd, "the section start is missing its closing '>'");
    args = apr_pstrndup(cmd->temp_pool, arg, (apr_size_t)(endp - arg));
    for (word = ap_getword_conf(cmd->temp_pool, &args); *word;
         word = ap_getword_conf(cmd->temp_pool, &args)) {
        APR_ARRAY_PUSH(names, char *) = (char *)word;
    }
    err = md_define(cmd, names->nelts, (char *const *)names->elts, &cm);
    if (err) return err;
    section_md = cm;
    err = ap_walk_config(cmd->directive->first_child, cmd, cmd->context);
    section_md = NULL;
    if (err) return err;
    /* a problem of the whole section is reported at its first line */
    cmd->directive = section;
    return static_files_check(cmd, cm);
}

static const char *md_cmd_member(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    if (argc == 1 && (!strcasecmp(argv[0], "auto") || !strcasecmp(argv[0], "manual"))) {
        settings_for(cmd)->members = strcasecmp(argv[0], "auto") ? MD_MEMBERS_MANUAL
                                                                       : MD_MEMBERS_AUTO;
        return NULL;
    }
    if (!section_md) return at(cmd, "adds names only inside <MDomain>; outside, only "
                                    "'auto' or 'manual' are allowed");
    return add_names(cmd, section_md, argc, argv);
}

/* ---- CA and account --------------------------------------------------------------- */

static const char *md_cmd_ca(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *urls = apr_array_make(cmd->pool, argc, sizeof(const char *));
    apr_size_t k;
    int i;

    if (argc < 1) return at(cmd, "needs an ACME directory URL or a known CA name");
    for (i = 0; i < argc; ++i) {
        const char *url = NULL;
        for (k = 0; k < sizeof(KNOWN_CAS) / sizeof(KNOWN_CAS[0]); ++k) {
            if (!strcasecmp(KNOWN_CAS[k].name, argv[i])) url = KNOWN_CAS[k].url;
        }
        if (!url && strncmp(argv[i], "https://", 8) && strncmp(argv[i], "http://", 7)) {
            return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither an http(s) URL nor one of "
                      "LetsEncrypt, LetsEncrypt-Test, Buypass, Buypass-Test", argv[i]));
        }
        APR_ARRAY_PUSH(urls, const char *) = url ? url : argv[i];
    }
    settings_for(cmd)->ca_urls = urls;
    return NULL;
}

static const char *md_cmd_protocol(cmd_parms *cmd, void *dc, const char *arg)
{
    return strcasecmp(arg, "ACME") ? at(cmd, "only 'ACME' is supported") : NULL;
}

static const char *md_cmd_challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *types = apr_array_make(cmd->pool, argc, sizeof(const char *));
    int i;

    for (i = 0; i < argc; ++i) {
        /* An unknown type is not an error, as with today's module: the server starts and
         * the MD's renewal fails with the problem 'challenge-mismatch' (in status) unless
         * another type of the list is usable. A warning says so at start. */
        if (!md_chall_find(argv[i])) {
            warn_at(cmd, "MD4004", apr_psprintf(cmd->pool, "unknown challenge type '%s' (known: "
                                                "%s); it is never used", argv[i],
                                                md_chall_names(cmd->pool)));
        }
        APR_ARRAY_PUSH(types, const char *) = argv[i];
    }
    if (!types->nelts) return at(cmd, "needs at least one challenge type");
    settings_for(cmd)->ca_challenges = types;
    return NULL;
}

const char *md_config_contact_uri(const char *address, apr_pool_t *p)
{
    if (!address || !strchr(address, '@')) return NULL;
    /* "mailto:a@b" (any case: a URI scheme is case-insensitive) is already one; a common
     * form of ServerAdmin, which must not become "mailto:mailto:a@b" (the CA refuses it) */
    return strncasecmp(address, "mailto:", 7) ? apr_pstrcat(p, "mailto:", address, NULL)
                                              : address;
}

/* A warning at start naming the line, for values today's module starts with and that
 * fail later (a renewal): the server starts, as it does with today's. */
static const char *md_cmd_contact(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *uri = md_config_contact_uri(arg, cmd->pool);

    if (!uri) {
        /* today's module sends it as it is; the CA refuses the account (invalidContact) */
        warn_at(cmd, "MD4014", apr_psprintf(cmd->pool, "'%s' is not an email address; the CA "
                                            "will likely refuse the account", arg));
        uri = apr_pstrcat(cmd->pool, "mailto:", arg, NULL);
    }
    settings_for(cmd)->contact = uri;
    return NULL;
}

/* A trust-anchor file, or 'none': "" then says "explicitly none", so that it overrides a
 * file given in a more general scope (NULL would mean unset and inherit it). */
static const char *file_or_none(cmd_parms *cmd, const char *arg, const char **pfield)
{
    const char *path;

    if (!strcasecmp(arg, "none")) {
        *pfield = "";
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) return at(cmd, apr_psprintf(cmd->pool, "'%s' is not a valid path", arg));
    if (md_file_exists(path, cmd->pool) != APR_SUCCESS) {
        /* as today's module: the server starts, requests that need it fail naming it */
        warn_at(cmd, "MD4015", apr_psprintf(cmd->pool, "the file '%s' does not exist; "
                                            "requests that need it will fail", arg));
    }
    *pfield = path;
    return NULL;
}

static const char *md_cmd_ca_certs(cmd_parms *cmd, void *dc, const char *arg)
{
    return file_or_none(cmd, arg, &settings_for(cmd)->ca_certs);
}

/* An http(s) URL with a host and, if any, a port from 1 to 65535 (today's module refuses
 * a URL it cannot parse, such as a negative port, too). */
static const char *http_url_check(cmd_parms *cmd, const char *arg)
{
    apr_uri_t uri;
    const char *c;

    if (apr_uri_parse(cmd->temp_pool, arg, &uri) != APR_SUCCESS || !uri.scheme
        || (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https"))) {
        return apr_psprintf(cmd->pool, "'%s' is not an http:// or https:// URL", arg);
    }
    if (!uri.hostname || !*uri.hostname) {
        return apr_psprintf(cmd->pool, "'%s' names no host", arg);
    }
    for (c = uri.port_str; c && *c; ++c) {
        if (!apr_isdigit(*c)) break;
    }
    if (uri.port_str && (*c || !*uri.port_str || strlen(uri.port_str) > 5 || uri.port == 0
                         || atol(uri.port_str) > 65535)) {
        return apr_psprintf(cmd->pool, "'%s' has an invalid port '%s' (1 to 65535)", arg,
                            uri.port_str);
    }
    return NULL;
}

static const char *md_cmd_proxy(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = http_url_check(cmd, arg);

    if (err) return at(cmd, err);
    settings_for(cmd)->proxy_url = arg;
    return NULL;
}

/* ---- renewal ------------------------------------------------------------------------ */

static const char *md_cmd_renew_mode(cmd_parms *cmd, void *dc, const char *arg)
{
    int mode;

    if (!strcasecmp(arg, "auto") || !strcasecmp(arg, "automatic")) mode = MD_RENEW_AUTO;
    else if (!strcasecmp(arg, "always")) mode = MD_RENEW_ALWAYS;
    else if (!strcasecmp(arg, "manual") || !strcasecmp(arg, "stick")) mode = MD_RENEW_MANUAL;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s' is not one of auto, always, manual", arg));
    settings_for(cmd)->renew_mode = mode;
    return NULL;
}

static const char *window_parse(cmd_parms *cmd, const char *arg, const md_timeslice_t **pts)
{
    md_timeslice_t *ts = apr_pcalloc(cmd->pool, sizeof(*ts));
    const char *err = md_timeslice_parse(ts, arg, "d");

    if (err) return at(cmd, apr_psprintf(cmd->pool, "'%s': %s", arg, err));
    *pts = ts;
    return NULL;
}

/* A negative window means nothing; today's module starts with one, so ours does too,
 * with the default window and a warning. Other invalid values stop the start. */
static const char *window_directive(cmd_parms *cmd, const char *arg, const md_timeslice_t **pts)
{
    if (arg[0] == '-') {
        warn_at(cmd, "MD4016", apr_psprintf(cmd->pool, "'%s' is negative and ignored; the "
                                            "default window applies", arg));
        return NULL;
    }
    return window_parse(cmd, arg, pts);
}

static const char *md_cmd_renew_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return window_directive(cmd, arg, &settings_for(cmd)->renew_window);
}

static const char *md_cmd_warn_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return window_directive(cmd, arg, &settings_for(cmd)->warn_window);
}

static const char *md_cmd_pkeys(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *specs = apr_array_make(cmd->pool, argc, sizeof(md_pkey_spec_t *));
    const char *err;
    int i, k;

    for (i = 0; i < argc; ++i) {
        md_pkey_spec_t *spec = apr_pcalloc(cmd->pool, sizeof(*spec));
        const char *bits = (i + 1 < argc && apr_isdigit(argv[i + 1][0])) ? argv[i + 1] : NULL;
        err = md_pkey_spec_parse(spec, argv[i], bits);
        if (err) return at(cmd, err);
        if (bits) ++i;
        for (k = 0; k < specs->nelts; ++k) {
            const md_pkey_spec_t *other = APR_ARRAY_IDX(specs, k, md_pkey_spec_t *);
            /* one RSA; one key per curve, under whichever of its names */
            if (!strcasecmp(md_pkey_spec_name(other), md_pkey_spec_name(spec))
                || md_pkey_spec_eq(other, spec)) {
                return at(cmd, apr_psprintf(cmd->pool, "two keys of type '%s' are not possible: "
                                            "one key per type", md_pkey_spec_name(spec)));
            }
        }
        APR_ARRAY_PUSH(specs, md_pkey_spec_t *) = spec;
    }
    if (!specs->nelts) return at(cmd, "needs at least one key type, e.g. 'RSA 2048' or 'secp256r1'");
    settings_for(cmd)->pkey_specs = specs;
    return NULL;
}

static const char *flag_parse(cmd_parms *cmd, const char *arg, int *pvalue)
{
    if (!strcasecmp(arg, "on")) *pvalue = 1;
    else if (!strcasecmp(arg, "off")) *pvalue = 0;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither 'on' nor 'off'", arg));
    return NULL;
}

static const char *md_cmd_must_staple(cmd_parms *cmd, void *dc, const char *arg)
{
    return flag_parse(cmd, arg, &settings_for(cmd)->must_staple);
}

/* ---- global ------------------------------------------------------------------------- */

static const char *md_cmd_store_dir(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = not_in_section(cmd);

    if (err) return err;
    md_config_get(cmd->server)->mc->store_dir = arg;
    return NULL;
}

/* MDStore file | etcd ...: parsed with the farm's glue (md_mod_farm.c) */
static const char *md_cmd_store(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    const char *err = not_in_section(cmd);

    return err ? err : md_mod_farm_cmd_store(cmd, dc, argc, argv);
}

static const char *port_map_one(cmd_parms *cmd, md_mod_conf_t *mc, const char *map)
{
    const char *colon = strchr(map, ':'), *local;
    int public_port, local_port;
    char *end;

    if (!colon) return at(cmd, apr_psprintf(cmd->pool, "'%s' is not of the form 80:8080, "
                                            "http:8080 or http:-", map));
    if (!strncmp(map, "http:", 5) || !strncmp(map, "80:", 3)) public_port = 80;
    else if (!strncmp(map, "https:", 6) || !strncmp(map, "443:", 4)) public_port = 443;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s': the public port must be 80, 443, "
                                      "http or https", map));
    local = colon + 1;
    if (!strcmp(local, "-")) local_port = -1;
    else {
        long v = strtol(local, &end, 10);
        if (*end || v <= 0 || v > 65535) {
            return at(cmd, apr_psprintf(cmd->pool, "'%s': the local port must be 1-65535 or '-'", map));
        }
        local_port = (int)v;
    }
    if (public_port == 80) mc->local_80 = local_port;
    else mc->local_443 = local_port;
    return NULL;
}

static const char *md_cmd_port_map(cmd_parms *cmd, void *dc, const char *a1, const char *a2)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);

    if (!err) err = port_map_one(cmd, mc, a1);
    if (!err && a2) err = port_map_one(cmd, mc, a2);
    return err;
}

/* A duration (seconds without a unit) of at least min and, when max > 0, at most max. */
static const char *duration_value(cmd_parms *cmd, const char *arg, apr_interval_time_t min,
                                  apr_interval_time_t max, apr_interval_time_t *pd)
{
    apr_interval_time_t d = 0;
    const char *err = md_duration_parse(&d, arg, "s");

    if (!err && d < min) {
        err = (min <= 1) ? "must be greater than 0"
                         : apr_psprintf(cmd->pool, "must be at least %s", md_duration_print(min, cmd->pool));
    }
    if (!err && max > 0 && d > max) {
        err = apr_psprintf(cmd->pool, "must be at most %s", md_duration_print(max, cmd->pool));
    }
    if (err) return at(cmd, apr_psprintf(cmd->pool, "'%s': %s", arg, err));
    *pd = d;
    return NULL;
}

/* The same for a global setting: not inside <MDomain>. */
static const char *duration_parse(cmd_parms *cmd, const char *arg, apr_interval_time_t min,
                                  apr_interval_time_t *pd)
{
    const char *err = not_in_section(cmd);

    return err ? err : duration_value(cmd, arg, min, 0, pd);
}

static const char *md_cmd_check_interval(cmd_parms *cmd, void *dc, const char *arg)
{
    return duration_parse(cmd, arg, apr_time_from_sec(1), &md_config_get(cmd->server)->mc->check_interval);
}

static const char *md_cmd_initial_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    return duration_parse(cmd, arg, 0, &md_config_get(cmd->server)->mc->initial_delay);
}

static const char *md_cmd_retry_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    return duration_parse(cmd, arg, 1, &md_config_get(cmd->server)->mc->retry_delay);
}

/* ---- generic forms: on/off flags at an offset, in the scope's settings or global ---- */

static const char *md_cmd_settings_flag(cmd_parms *cmd, void *dc, const char *arg)
{
    int *field = (int *)((char *)settings_for(cmd) + (apr_size_t)cmd->info);
    return flag_parse(cmd, arg, field);
}

/* A text value taken as written, at an offset in the scope's settings. */
static const char *md_cmd_settings_text(cmd_parms *cmd, void *dc, const char *arg)
{
    *(const char **)((char *)settings_for(cmd) + (apr_size_t)cmd->info) = arg;
    return NULL;
}

static const char *md_cmd_global_flag(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);

    return err ? err : flag_parse(cmd, arg, (int *)((char *)mc + (apr_size_t)cmd->info));
}

/* ---- more per-MD settings ---------------------------------------------------------- */

static const char *md_cmd_require_https(cmd_parms *cmd, void *dc, const char *arg)
{
    /* flagged OR_AUTHCFG as in today's module, but it configures an MD, not a path: as
     * there, <If> and <Files> around it are accepted (they do not make it conditional) */
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_LOCATION | NOT_IN_HTACCESS);
    int v;

    if (err) return err;
    if (!strcasecmp(arg, "off")) v = MD_REQUIRE_OFF;
    else if (!strcasecmp(arg, "temporary")) v = MD_REQUIRE_TEMPORARY;
    else if (!strcasecmp(arg, "permanent")) v = MD_REQUIRE_PERMANENT;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s' is not one of off, temporary, permanent", arg));
    settings_for(cmd)->require_https = v;
    return NULL;
}

static const char *md_cmd_proxy_ca_certs(cmd_parms *cmd, void *dc, const char *arg)
{
    return file_or_none(cmd, arg, &settings_for(cmd)->proxy_ca_certs);
}

/* MDExternalAccountBinding kid hmac | none | file.json ({"kid": ..., "hmac": ...}) */
static const char *md_cmd_eab(cmd_parms *cmd, void *dc, const char *a1, const char *a2)
{
    md_settings_t *st = settings_for(cmd);
    const unsigned char *raw;
    apr_size_t raw_len;
    md_json_t *json;
    const char *path;

    if (!a2 && !strcasecmp(a1, "none")) {
        st->eab_kid = "none";
        st->eab_hmac = NULL;
        return NULL;
    }
    if (!a2) {
        path = ap_server_root_relative(cmd->pool, a1);
        if (!path || md_json_readf(&json, path, cmd->pool) != APR_SUCCESS
            || !md_json_gets(json, "kid", NULL) || !md_json_gets(json, "hmac", NULL)) {
            return at(cmd, apr_psprintf(cmd->pool, "'%s' is not a readable JSON file with "
                                        "\"kid\" and \"hmac\"; or give 'kid hmac' or 'none'", a1));
        }
        a1 = md_json_gets(json, "kid", NULL);
        a2 = md_json_gets(json, "hmac", NULL);
    }
    if (md_b64url_decode(&raw, &raw_len, a2, cmd->temp_pool) != APR_SUCCESS || raw_len == 0) {
        /* Not an error, as with today's module: the server starts and a renewal that
         * needs a new account fails with the problem 'apache:eab-hmac-invalid'. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, "MD4005: %s:%d: "
                     "MDExternalAccountBinding: the hmac of '%s' is not base64url-encoded, as "
                     "the CA hands it out; registering an account will fail "
                     "(apache:eab-hmac-invalid)", cmd->directive->filename,
                     cmd->directive->line_num, a1);
    }
    st->eab_kid = a1;
    st->eab_hmac = a2;
    return NULL;
}

/* MDPreferredChain <issuer CN> | none */
static const char *md_cmd_preferred_chain(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!*arg) return at(cmd, "needs the common name of an issuer, or 'none'");
    settings_for(cmd)->preferred_chain = arg;
    return NULL;
}

static const char *md_cmd_cert_file(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_array_header_t **pa;

    if (!section_md) return at(cmd, "is only allowed inside <MDomain>");
    if (!path || md_file_exists(path, cmd->pool) != APR_SUCCESS) {
        return at(cmd, apr_psprintf(cmd->pool, "the file '%s' does not exist", arg));
    }
    pa = strstr(cmd->cmd->name, "Key") ? &section_md->pkey_files : &section_md->cert_files;
    if (!*pa) *pa = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(*pa, const char *) = path;
    return NULL;
}

#define MD_DNS01_WAIT_MAX apr_time_from_sec(60 * 60)

static const char *md_cmd_dns01_wait(cmd_parms *cmd, void *dc, const char *arg)
{
    return duration_value(cmd, arg, 0, MD_DNS01_WAIT_MAX, &settings_for(cmd)->dns01_wait);
}

/* ---- more global settings ------------------------------------------------------------ */

static const char *md_cmd_dns01_version(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = not_in_section(cmd);

    if (err) return err;
    if (strcmp(arg, "1") && strcmp(arg, "2")) return at(cmd, "must be 1 or 2");
    md_config_get(cmd->server)->mc->dns01_version = arg[0] - '0';
    return NULL;
}

/* MDPreflight on|off [caa=DOMAIN[,DOMAIN]]... [http-probe=on|off] */
static const char *preflight_option(cmd_parms *cmd, md_settings_t *st, const char *opt)
{
    char *list, *tok, *last;

    if (!strncasecmp(opt, "http-probe=", 11)) return flag_parse(cmd, opt + 11, &st->preflight_http);
    if (strncasecmp(opt, "caa=", 4)) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither 'caa=DOMAIN' nor "
                                    "'http-probe=on|off'", opt));
    }
    if (!st->preflight_caa) st->preflight_caa = apr_array_make(cmd->pool, 2, sizeof(const char *));
    list = apr_pstrdup(cmd->pool, opt + 4);
    for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        if (!*tok || strchr(tok, ';') || strchr(tok, '"')) break;
        APR_ARRAY_PUSH(st->preflight_caa, const char *) = md_caa_issuer(tok, cmd->pool);
    }
    if (tok || !st->preflight_caa->nelts) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s': caa= needs the CA's CAA domain(s), e.g. "
                                    "caa=letsencrypt.org", opt));
    }
    return NULL;
}

static const char *md_cmd_preflight(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_settings_t *st = settings_for(cmd);
    const char *err;
    int i;

    if (argc < 1) return at(cmd, "needs 'on' or 'off'");
    err = flag_parse(cmd, argv[0], &st->preflight);
    for (i = 1; !err && i < argc; ++i) err = preflight_option(cmd, st, argv[i]);
    return err;
}

static const char *md_cmd_preflight_resolver(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = not_in_section(cmd);

    if (err) return err;
    if (!strcasecmp(arg, "system")) {
        md_config_get(cmd->server)->mc->preflight_resolver = NULL;
        return NULL;
    }
    err = md_dns_server_check(arg, cmd->pool);
    if (err) return at(cmd, apr_psprintf(cmd->pool, "%s, or 'system'", err));
    md_config_get(cmd->server)->mc->preflight_resolver = arg;
    return NULL;
}

static const char *md_cmd_match_names(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = not_in_section(cmd);

    if (err) return err;
    if (!strcasecmp(arg, "all")) md_config_get(cmd->server)->mc->match_servernames_only = 0;
    else if (!strcasecmp(arg, "servernames")) md_config_get(cmd->server)->mc->match_servernames_only = 1;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither 'all' nor 'servernames'", arg));
    return NULL;
}

/* A command line as written: split here, once, into an argv vector; never given to a shell. */
/* A program's command line, split as it will be run (md_exec_split: no shell), the
 * program relative to ServerRoot. Today's module starts with any text here, so a line
 * that is no command (empty, an open quote) is a warning: that program is never run. */
static apr_array_header_t *program_line(cmd_parms *cmd, const char *line)
{
    apr_array_header_t *argv;

    if (md_exec_split(&argv, line, cmd->pool) != APR_SUCCESS) {
        warn_at(cmd, "MD4018", apr_psprintf(cmd->pool, "'%s' is not a command line (empty, or "
                                            "a quote not closed); the program is never run",
                                            line));
        return NULL;
    }
    APR_ARRAY_IDX(argv, 0, const char *) = ap_server_root_relative(cmd->pool,
                                                                   APR_ARRAY_IDX(argv, 0, const char *));
    return argv;
}

/* MDNotifyCmd and MDMessageCmd: global settings. */
static const char *cmd_line_parse(cmd_parms *cmd, const char *line, apr_array_header_t **pargv)
{
    const char *err = not_in_section(cmd);

    if (err) return err;
    *pargv = program_line(cmd, line);
    return NULL;
}

/* MDChallengeDns01: the text as written (shown in status), checked as the others. */
static const char *md_cmd_dns01_cmd(cmd_parms *cmd, void *dc, const char *arg)
{
    program_line(cmd, arg);
    settings_for(cmd)->dns01_cmd = arg;
    return NULL;
}

static const char *md_cmd_notify_cmd(cmd_parms *cmd, void *dc, const char *arg)
{
    return cmd_line_parse(cmd, arg, &md_config_get(cmd->server)->mc->notify_cmd);
}

static const char *md_cmd_message_cmd(cmd_parms *cmd, void *dc, const char *arg)
{
    return cmd_line_parse(cmd, arg, &md_config_get(cmd->server)->mc->message_cmd);
}

static const char *md_cmd_retry_failover(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = not_in_section(cmd);
    char *end;
    long n;

    if (err) return err;
    n = strtol(arg, &end, 10);
    if (*end || n < 1 || n > 1000000) return at(cmd, "must be a whole number of errors, at least 1");
    md_config_get(cmd->server)->mc->retry_failover = (int)n;
    return NULL;
}

static const char *md_cmd_store_locks(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);
    apr_interval_time_t wait;

    if (err) return err;
    if (!strcasecmp(arg, "on") || !strcasecmp(arg, "off")) {
        mc->store_locks = !strcasecmp(arg, "on");
        return NULL;
    }
    if (md_duration_parse(&wait, arg, "s") != NULL) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither 'on', 'off' nor a duration "
                                    "to wait for the lock, e.g. 10s", arg));
    }
    mc->store_locks = (wait > 0);   /* as today: a wait of 0 means no lock */
    if (wait > 0) mc->store_lock_wait = wait;
    return NULL;
}

static const char *md_cmd_activation_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);

    if (err) return err;
    err = md_duration_parse(&mc->activation_delay, arg, "d");
    return err ? at(cmd, apr_psprintf(cmd->pool, "'%s': %s", arg, err)) : NULL;
}

static const char *md_cmd_staple_keep(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = md_duration_parse(&mc->staple_keep_response, arg, "d");

    return err ? at(cmd, apr_psprintf(cmd->pool, "'%s': %s", arg, err)) : NULL;
}

static const char *md_cmd_staple_window(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = md_timeslice_parse(&mc->staple_renew_window, arg, "d");

    return err ? at(cmd, apr_psprintf(cmd->pool, "'%s': %s", arg, err)) : NULL;
}

/* The global settings today's module accepts inside <MDomain> (applying them to the
 * whole server): ours starts with them too, with a warning naming the line. */
static void global_in_section_warn(cmd_parms *cmd)
{
    if (section_md) warn_at(cmd, "MD4017", "is a global setting: inside <MDomain> it applies to "
                            "the whole server, not to this MD; put it outside");
}

static const char *md_cmd_server_status(cmd_parms *cmd, void *dc, const char *arg)
{
    global_in_section_warn(cmd);
    return flag_parse(cmd, arg, &md_config_get(cmd->server)->mc->server_status);
}

static const char *md_cmd_certificate_status(cmd_parms *cmd, void *dc, const char *arg)
{
    global_in_section_warn(cmd);
    return flag_parse(cmd, arg, &md_config_get(cmd->server)->mc->certificate_status);
}

static const char *md_cmd_cert_check(cmd_parms *cmd, void *dc, const char *name, const char *url)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;

    global_in_section_warn(cmd);
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s' is not an http(s) URL", url));
    }
    mc->cert_check_name = name;
    mc->cert_check_url = url;
    return NULL;
}

static const char *number_parse(cmd_parms *cmd, const char *arg, int min, int max, int *pn)
{
    const char *err = not_in_section(cmd);
    char *end;
    long n;

    if (err) return err;
    n = strtol(arg, &end, 10);
    if (*end || !*arg || n < min || n > max) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s' is not a number from %d to %d", arg, min, max));
    }
    *pn = (int)n;
    return NULL;
}

static const char *md_cmd_renew_concurrency(cmd_parms *cmd, void *dc, const char *arg)
{
    return number_parse(cmd, arg, 1, 1000, &md_config_get(cmd->server)->mc->renew_concurrency);
}

static const char *md_cmd_archive_keep(cmd_parms *cmd, void *dc, const char *arg)
{
    return number_parse(cmd, arg, 0, 900, &md_config_get(cmd->server)->mc->archive_keep);
}

/* MDStoreOwner user [group]: names resolved now, so a typo is a syntax error. */
static const char *md_cmd_store_owner(cmd_parms *cmd, void *dc, const char *user,
                                      const char *group)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);
    apr_uid_t uid;
    apr_gid_t gid;

    if (err) return err;
    if (apr_uid_get(&uid, &gid, user, cmd->pool) != APR_SUCCESS) {
        return at(cmd, apr_psprintf(cmd->pool, "unknown user '%s'", user));
    }
    if (group && apr_gid_get(&gid, group, cmd->pool) != APR_SUCCESS) {
        return at(cmd, apr_psprintf(cmd->pool, "unknown group '%s'", group));
    }
    mc->store_uid = (int)uid;
    mc->store_gid = group ? (int)gid : -1;   /* without one: the server's Group */
    mc->store_owner_at = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                                      cmd->directive->line_num);
    return NULL;
}

static const char *md_cmd_program_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    return duration_parse(cmd, arg, apr_time_from_sec(1), &md_config_get(cmd->server)->mc->program_timeout);
}

/* MDCATimeout: the longest an ACME request may take; connecting gets at most 30s of it */
static const char *md_cmd_ca_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = duration_parse(cmd, arg, apr_time_from_sec(1), &mc->http.timeout);

    if (err) return err;
    mc->http.connect_timeout = mc->http.timeout < apr_time_from_sec(30)
                               ? mc->http.timeout : apr_time_from_sec(30);
    return NULL;
}

/* "HH:MM" as minutes of the day, or -1. */
static int minutes_parse(const char *s)
{
    int h, m, n = 0;

    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] || h < 0 || h > 23 || m < 0 || m > 59) return -1;
    return h * 60 + m;
}

static const char *md_cmd_activation_restart(cmd_parms *cmd, void *dc, const char *flag,
                                             const char *window)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd), *dash;

    if (!err) err = flag_parse(cmd, flag, &mc->restart_auto);
    if (err || !window) return err;
    dash = strchr(window, '-');
    mc->restart_from = dash ? minutes_parse(apr_pstrndup(cmd->pool, window, (apr_size_t)(dash - window))) : -1;
    mc->restart_to = dash ? minutes_parse(dash + 1) : -1;
    if (mc->restart_from < 0 || mc->restart_to < 0) {
        return at(cmd, apr_psprintf(cmd->pool, "'%s' is not a time-of-day window like 02:00-05:00", window));
    }
    return NULL;
}

static const char *md_cmd_activation(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const char *err = not_in_section(cmd);

    if (err) return err;
    if (!strcasecmp(arg, "live")) mc->activation_live = 1;
    else if (!strcasecmp(arg, "restart")) mc->activation_live = 0;
    else return at(cmd, apr_psprintf(cmd->pool, "'%s' is neither 'live' nor 'restart'", arg));
    return NULL;
}

#define SRV_CONF (RSRC_CONF)
#define SETTING(f) ((void *)APR_OFFSETOF(md_settings_t, f))
#define GLOBAL(f) ((void *)APR_OFFSETOF(md_mod_conf_t, f))

const command_rec md_cmds[] = {
    AP_INIT_TAKE_ARGV("MDomain", md_cmd_mdomain, NULL, SRV_CONF,
                      "A managed domain: its names, optionally 'auto' or 'manual'"),
    AP_INIT_RAW_ARGS("<MDomain", md_cmd_section, NULL, SRV_CONF,
                     "A managed domain with settings of its own"),
    AP_INIT_RAW_ARGS("<MDomainSet", md_cmd_section, NULL, SRV_CONF,
                     "The older spelling of <MDomain>"),
    AP_INIT_TAKE_ARGV("MDMember", md_cmd_member, NULL, SRV_CONF, "Names added to the MD"),
    AP_INIT_TAKE_ARGV("MDMembers", md_cmd_member, NULL, SRV_CONF, "Names added to the MD, or auto|manual"),
    AP_INIT_TAKE_ARGV("MDCertificateAuthority", md_cmd_ca, NULL, SRV_CONF,
                      "ACME directory URLs or known CA names, in failover order"),
    AP_INIT_TAKE1("MDCertificateAgreement", md_cmd_settings_text, SETTING(ca_agreement), SRV_CONF,
                  "'accepted': agree to the CA's terms of service"),
    AP_INIT_TAKE1("MDCertificateProtocol", md_cmd_protocol, NULL, SRV_CONF, "ACME"),
    AP_INIT_TAKE_ARGV("MDCAChallenges", md_cmd_challenges, NULL, SRV_CONF,
                      "Allowed challenge types, in order"),
    AP_INIT_TAKE1("MDContactEmail", md_cmd_contact, NULL, SRV_CONF, "Account contact email"),
    AP_INIT_TAKE1("MDCACertificateFile", md_cmd_ca_certs, NULL, SRV_CONF,
                  "Trust anchors for the ACME server, or 'none'"),
    AP_INIT_TAKE1("MDHttpProxy", md_cmd_proxy, NULL, SRV_CONF, "Proxy URL for ACME requests"),
    AP_INIT_TAKE1("MDRenewMode", md_cmd_renew_mode, NULL, SRV_CONF, "auto, always or manual"),
    AP_INIT_TAKE1("MDDriveMode", md_cmd_renew_mode, NULL, SRV_CONF, "Old name of MDRenewMode"),
    AP_INIT_TAKE1("MDRenewWindow", md_cmd_renew_window, NULL, SRV_CONF,
                  "Renew when this much lifetime remains: duration or percentage"),
    AP_INIT_TAKE1("MDWarnWindow", md_cmd_warn_window, NULL, SRV_CONF,
                  "Warn when this much lifetime remains: duration or percentage"),
    AP_INIT_TAKE_ARGV("MDPrivateKeys", md_cmd_pkeys, NULL, SRV_CONF,
                      "Key types, one certificate each: RSA [bits], secp256r1, ..."),
    AP_INIT_TAKE1("MDMustStaple", md_cmd_must_staple, NULL, SRV_CONF, "on|off"),
    AP_INIT_TAKE1("MDStoreDir", md_cmd_store_dir, NULL, SRV_CONF, "The store directory"),
    AP_INIT_TAKE_ARGV("MDStore", md_cmd_store, NULL, SRV_CONF,
                      "file, or etcd URL[,URL...] farm-key=FILE [prefix=/md/] [ca=FILE] [auth=FILE]: a farm"),
    AP_INIT_TAKE12("MDPortMap", md_cmd_port_map, NULL, SRV_CONF,
                   "Where public ports 80/443 arrive: http:8080 https:8443, or http:-"),
    AP_INIT_TAKE1("MDCheckInterval", md_cmd_check_interval, NULL, SRV_CONF, "Time between checks"),
    AP_INIT_TAKE1("MDInitialDelay", md_cmd_initial_delay, NULL, SRV_CONF, "Delay of the first check"),
    AP_INIT_TAKE1("MDRetryDelay", md_cmd_retry_delay, NULL, SRV_CONF, "First delay after an error"),
    AP_INIT_TAKE1("MDRequireHttps", md_cmd_require_https, NULL, SRV_CONF | OR_AUTHCFG,
                  "Redirect http: to https: - off, temporary or permanent (with HSTS)"),
    AP_INIT_TAKE1("MDHttpProxyCACertificateFile", md_cmd_proxy_ca_certs, NULL, SRV_CONF,
                  "Trust anchors for an https: proxy, or 'none'"),
    AP_INIT_TAKE12("MDExternalAccountBinding", md_cmd_eab, NULL, SRV_CONF,
                   "'kid hmac', a JSON file with both, or 'none'"),
    AP_INIT_TAKE1("MDPreferredChain", md_cmd_preferred_chain, NULL, SRV_CONF,
                  "the issuer CN of the chain to prefer among the CA's alternates, or 'none'"),
    AP_INIT_TAKE1("MDProfile", md_cmd_settings_text, SETTING(profile), SRV_CONF, "ACME profile for new orders"),
    AP_INIT_TAKE1("MDProfileMandatory", md_cmd_settings_flag, SETTING(profile_mandatory), SRV_CONF,
                  "on: fail the order when the CA does not offer the profile"),
    AP_INIT_TAKE1("MDRenewViaARI", md_cmd_settings_flag, SETTING(ari_renewals), SRV_CONF,
                  "on|off: follow the CA's renewal information (RFC 9773)"),
    AP_INIT_TAKE1("MDStapling", md_cmd_settings_flag, SETTING(stapling), SRV_CONF,
                  "on|off: mod_md's own OCSP stapling"),
    AP_INIT_TAKE1("MDStapleOthers", md_cmd_settings_flag, SETTING(staple_others), SRV_CONF,
                  "on|off: also staple certificates mod_md does not manage"),
    AP_INIT_TAKE1("MDStaplingKeepResponse", md_cmd_staple_keep, NULL, SRV_CONF,
                  "Remove OCSP responses older than this at start"),
    AP_INIT_TAKE1("MDStaplingRenewWindow", md_cmd_staple_window, NULL, SRV_CONF,
                  "Renew an OCSP response when this much of its validity remains"),
    AP_INIT_RAW_ARGS("MDChallengeDns01", md_cmd_dns01_cmd, NULL, SRV_CONF,
                     "Program that sets up and tears down dns-01 TXT records"),
    AP_INIT_TAKE1("MDChallengeDns01Wait", md_cmd_dns01_wait, NULL, SRV_CONF,
                  "How long TXT records take to propagate: waited after setup, before the CA looks"),
    AP_INIT_TAKE1("MDChallengeDns01Version", md_cmd_dns01_version, NULL, SRV_CONF,
                  "1 or 2: with 2, teardown also gets the token"),
    AP_INIT_TAKE1("MDCertificateFile", md_cmd_cert_file, NULL, SRV_CONF,
                  "A static certificate chain for the MD, monitored, not renewed"),
    AP_INIT_TAKE1("MDCertificateKeyFile", md_cmd_cert_file, NULL, SRV_CONF,
                  "The key of a static certificate"),
    AP_INIT_TAKE1("MDBaseServer", md_cmd_global_flag, GLOBAL(base_server), SRV_CONF,
                  "on|off: also manage the base server outside vhosts"),
    AP_INIT_TAKE1("MDMatchNames", md_cmd_match_names, NULL, SRV_CONF,
                  "all|servernames: how MDs are matched to vhosts"),
    AP_INIT_RAW_ARGS("MDNotifyCmd", md_cmd_notify_cmd, NULL, SRV_CONF,
                     "Program run after a renewal: cmd [args] <mdname>"),
    AP_INIT_RAW_ARGS("MDMessageCmd", md_cmd_message_cmd, NULL, SRV_CONF,
                     "Program run on events: cmd [args] <reason> <mdname>"),
    AP_INIT_TAKE1("MDRetryFailover", md_cmd_retry_failover, NULL, SRV_CONF,
                  "Errors before switching to the next CA"),
    AP_INIT_TAKE1("MDStoreLocks", md_cmd_store_locks, NULL, SRV_CONF,
                  "on|off|duration: lock the store at start and activation"),
    AP_INIT_TAKE1("MDActivationDelay", md_cmd_activation_delay, NULL, SRV_CONF,
                  "Delay before a new certificate goes live"),
    AP_INIT_TAKE1("MDServerStatus", md_cmd_server_status, NULL, SRV_CONF,
                  "on|off: MD sections in mod_status"),
    AP_INIT_TAKE1("MDCertificateStatus", md_cmd_certificate_status, NULL, SRV_CONF,
                  "on|off: answer /.httpd/certificate-status"),
    AP_INIT_TAKE2("MDCertificateCheck", md_cmd_cert_check, NULL, SRV_CONF,
                  "Name and URL of a certificate check site for server-status"),
    AP_INIT_TAKE1("MDRenewConcurrency", md_cmd_renew_concurrency, NULL, SRV_CONF,
                  "How many MDs renew at the same time"),
    AP_INIT_TAKE1("MDArchiveKeep", md_cmd_archive_keep, NULL, SRV_CONF,
                  "How many replaced certificate sets of an MD the archive keeps"),
    AP_INIT_TAKE12("MDStoreOwner", md_cmd_store_owner, NULL, SRV_CONF,
                   "user [group]: who owns the parts of the store the children write"),
    AP_INIT_TAKE1("MDProgramTimeout", md_cmd_program_timeout, NULL, SRV_CONF,
                  "How long an external program may run before it is killed"),
    AP_INIT_TAKE1("MDCATimeout", md_cmd_ca_timeout, NULL, SRV_CONF,
                  "How long one request to the ACME CA may take"),
    AP_INIT_TAKE12("MDActivationRestart", md_cmd_activation_restart, NULL, SRV_CONF,
                   "on [HH:MM-HH:MM]: restart gracefully by itself when renewed certificates are ready"),
    AP_INIT_TAKE1("MDActivation", md_cmd_activation, NULL, SRV_CONF,
                  "live|restart: renewed certificates served at once by every child, or at "
                  "the next restart"),
    AP_INIT_TAKE2("MDCertificateMonitor", md_cmd_cert_check, NULL, SRV_CONF,
                  "name url: the same as MDCertificateCheck (an older name)"),
    AP_INIT_TAKE_ARGV("MDPreflight", md_cmd_preflight, NULL, SRV_CONF,
                      "on|off [caa=DOMAIN[,DOMAIN]] [http-probe=on|off]: check names before ordering"),
    AP_INIT_TAKE1("MDPreflightResolver", md_cmd_preflight_resolver, NULL, SRV_CONF,
                  "The DNS server of the preflight checks: IPv4[:PORT], or system"),
    { NULL },
};
