/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Checks of the whole configuration, after every directive is read (check_config hook).
 * Unlike post_config, this also runs for `apache2 -t`: a problem found here stops the
 * configuration test as it stops the server. Nothing here touches the store. */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <unixd.h>
#include <grp.h>

#include "md_mod.h"
#include "md_names.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

/* With MDMatchNames all (the default) a name may belong to one MD only, because a
 * vhost is matched by all its names. With 'servernames' today's module allows it. */
static int overlaps_check(const md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    md_names_t *names = md_names_make(p);
    const apr_array_header_t *seen;
    int i, k;

    if (mc->match_servernames_only) return OK;
    for (i = 0; i < mc->conf_mds->nelts; ++i) {
        const md_t *a = APR_ARRAY_IDX(mc->conf_mds, i, md_conf_md_t *)->md;
        for (k = 0; k < a->domains->nelts; ++k) {
            const char *name = APR_ARRAY_IDX(a->domains, k, const char *);
            const md_t *b;
            seen = md_names_exact(names, name);
            b = (seen && seen->nelts) ? APR_ARRAY_IDX(seen, 0, const md_t *) : NULL;
            if (b && b != a) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "AH10038: MD4001: MDomain: the name '%s' is "
                             "in two managed domains: '%s' (%s:%u) and '%s' (%s:%u). A name "
                             "belongs to one MD only: remove it from one of them", name, b->name,
                             b->defn_name, b->defn_line, a->name, a->defn_name, a->defn_line);
                return !OK;
            }
            md_names_add(names, name, (void *)a);
        }
    }
    return OK;
}

/* The names of a vhost (ServerName, ServerAlias) that the MD does not cover. */
static apr_array_header_t *names_missing(const md_t *md, server_rec *vs, apr_pool_t *p)
{
    apr_array_header_t *missing = apr_array_make(p, 3, sizeof(const char *));
    int i;

    if (vs->server_hostname && !md_contains(md, vs->server_hostname)) {
        APR_ARRAY_PUSH(missing, const char *) = vs->server_hostname;
    }
    for (i = 0; vs->names && i < vs->names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(vs->names, i, const char *);
        if (!md_contains(md, name)) md_array_str_add_unique(missing, name, 0);
    }
    return missing;
}

void md_config_report_names(const md_t *md, server_rec *vs, server_rec *base, int level,
                            apr_pool_t *p)
{
    apr_array_header_t *missing;

    if (md->members != MD_MEMBERS_MANUAL) return;
    missing = names_missing(md, vs, p);
    if (!missing->nelts) return;
    ap_log_error(APLOG_MARK, level, 0, base, "AH10040: MD4002: the VirtualHost %s (%s:%u) "
                 "uses names that the managed domain '%s' (MDMembers manual, %s:%u) does "
                 "not contain: %s. Its certificate will not be valid for them: add them to "
                 "the MDomain, or use MDMembers auto", vs->server_hostname ? vs->server_hostname : "",
                 vs->defn_name ? vs->defn_name : "?", vs->defn_line_number, md->name,
                 md->defn_name, md->defn_line, md_array_str_join(missing, ", ", p));
}

/* MDMembers manual: report the names a vhost uses that the MD lacks (they would get a
 * certificate that does not match them); and an MD no vhost uses, which auto mode does
 * not renew. Warnings only: the configuration stays valid. `apache2 -t` reports the
 * names of every vhost; a start leaves that to the hand-over of certificates to mod_ssl,
 * which warns only for a vhost that serves the MD's certificate (md_mod_init.c), where
 * it matters (today's module is silent at its log level). */
static void usage_report(const md_mod_conf_t *mc, const md_vhost_index_t *vhosts, const md_t *md,
                         server_rec *base, apr_pool_t *p)
{
    apr_array_header_t *servers = md_mod_vhosts_index_find(vhosts, md, p);
    int i, used = servers->nelts > 0;

    for (i = 0; ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST && i < servers->nelts; ++i) {
        md_config_report_names(md, APR_ARRAY_IDX(servers, i, server_rec *), base, APLOG_WARNING, p);
    }
    if (!used && md->renew_mode == MD_RENEW_AUTO) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, base, "AH10045: MD4003: the managed domain '%s' "
                     "(%s:%u) is used by no VirtualHost%s; with MDRenewMode auto it gets no "
                     "certificate until one uses it", md->name, md->defn_name, md->defn_line,
                     mc->base_server ? "" : " (and MDBaseServer is off)");
    }
}

/* In scratch memory given back at the end (the index) and after each MD (its settled
 * copy): nothing of it stays in the process, whose allocator would keep it. */
static void usage_reports(server_rec *s, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_vhost_index_t *vhosts;
    apr_pool_t *scratch, *pmd;
    int i;

    apr_pool_create(&scratch, p);
    apr_pool_create(&pmd, scratch);
    vhosts = md_mod_vhosts_index_make(s, mc->base_server, mc->match_servernames_only, scratch);
    for (i = 0; i < mc->conf_mds->nelts; ++i) {
        md_conf_md_t *cm = APR_ARRAY_IDX(mc->conf_mds, i, md_conf_md_t *);
        md_t *md;

        apr_pool_clear(pmd);
        md = md_copy(pmd, cm->md);
        md_config_apply(md, cm, s, pmd);
        usage_report(mc, vhosts, md, s, pmd);
    }
    apr_pool_destroy(scratch);
}

/* Is the server's User in the group gid (primary or supplementary)? */
static int user_in_group(gid_t gid)
{
    gid_t groups[256];
    int i, n = 256;

    if (ap_unixd_config.group_id == gid) return 1;
    if (!ap_unixd_config.user_name
        || getgrouplist(ap_unixd_config.user_name, ap_unixd_config.group_id, groups, &n) < 0) {
        return 0;
    }
    for (i = 0; i < n; ++i) {
        if (groups[i] == gid) return 1;
    }
    return 0;
}

/* MDStoreOwner naming another user than the children's: they write through the group,
 * so the server's User must be in it, or no renewal could ever write its files. */
static int store_owner_check(const md_mod_conf_t *mc, server_rec *s)
{
    gid_t gid;

    if (mc->store_uid < 0 || (uid_t)mc->store_uid == ap_unixd_config.user_id) return OK;
    gid = mc->store_gid >= 0 ? (gid_t)mc->store_gid : ap_unixd_config.group_id;
    if (user_in_group(gid)) return OK;
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "MD6001: MDStoreOwner (%s): the store's "
                 "group (gid %d) does not contain the server's User '%s', so the renewals, "
                 "which run as that user, could not write the store. Name a group the User "
                 "belongs to, or leave the group out to use the server's Group",
                 mc->store_owner_at, (int)gid,
                 ap_unixd_config.user_name ? ap_unixd_config.user_name : "?");
    return !OK;
}

int md_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    /* 1. errors: in every pass */
    if (overlaps_check(md_config_get(s)->mc, s, ptemp) != OK) return !OK;
    if (store_owner_check(md_config_get(s)->mc, s) != OK) return !OK;
    /* 2. warnings: here only for `apache2 -t`; a start reports them after the logs
     * are open (md_config_report) */
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST) usage_reports(s, ptemp);
    return OK;
}

int md_config_report(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    /* once per start or restart: not in the dry run before the server detaches */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) usage_reports(s, ptemp);
    return OK;
}
