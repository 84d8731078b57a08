/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json_keys.h"
#include "md_util.h"
#include "md_names.h"

static const md_pkey_spec_t DEFAULT_SPEC = { MD_PKEY_RSA, MD_PKEY_RSA_BITS_DEFAULT, NULL };

md_t *md_create(apr_pool_t *p, const char *name)
{
    md_t *md = apr_pcalloc(p, sizeof(*md));

    md->name = name;
    md->domains = apr_array_make(p, 5, sizeof(const char *));
    md->contacts = apr_array_make(p, 2, sizeof(const char *));
    md->pkey_specs = apr_array_make(p, 2, sizeof(md_pkey_spec_t *));
    md->ca_urls = apr_array_make(p, 2, sizeof(const char *));
    md->ca_challenges = apr_array_make(p, 3, sizeof(const char *));
    md->cert_files = apr_array_make(p, 1, sizeof(const char *));
    md->pkey_files = apr_array_make(p, 1, sizeof(const char *));
    md->acme_tls_1_names = apr_array_make(p, 1, sizeof(const char *));
    md->renew_mode = MD_RENEW_AUTO;
    md->renew_window.len = 33;
    md->renew_window.norm = 100;
    md->warn_window.len = 10;
    md->warn_window.norm = 100;
    md->ari_renewals = 1;
    return md;
}

md_t *md_copy(apr_pool_t *p, const md_t *md)
{
    md_t *c = apr_pmemdup(p, md, sizeof(*md));

    c->domains = md_array_str_copy(p, md->domains);
    c->contacts = md_array_str_copy(p, md->contacts);
    c->pkey_specs = apr_array_copy(p, md->pkey_specs);
    c->ca_urls = md_array_str_copy(p, md->ca_urls);
    c->ca_challenges = md_array_str_copy(p, md->ca_challenges);
    c->cert_files = md_array_str_copy(p, md->cert_files);
    c->pkey_files = md_array_str_copy(p, md->pkey_files);
    c->acme_tls_1_names = md_array_str_copy(p, md->acme_tls_1_names);
    return c;
}

int md_pkey_spec_count(const md_t *md)
{
    return md->pkey_specs->nelts ? md->pkey_specs->nelts : 1;
}

const md_pkey_spec_t *md_pkey_spec_at(const md_t *md, int i)
{
    const md_pkey_spec_t *spec;

    if (md->pkey_specs->nelts == 0) return &DEFAULT_SPEC;
    spec = APR_ARRAY_IDX(md->pkey_specs, i, const md_pkey_spec_t *);
    return (spec->type == MD_PKEY_DEFAULT) ? &DEFAULT_SPEC : spec;
}

int md_contains(const md_t *md, const char *name)
{
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        if (md_dns_matches(APR_ARRAY_IDX(md->domains, i, const char *), name)) return 1;
    }
    return 0;
}

static int pkey_specs_eq(const md_t *a, const md_t *b)
{
    int i;

    if (md_pkey_spec_count(a) != md_pkey_spec_count(b)) return 0;
    for (i = 0; i < md_pkey_spec_count(a); ++i) {
        if (!md_pkey_spec_eq(md_pkey_spec_at(a, i), md_pkey_spec_at(b, i))) return 0;
    }
    return 1;
}

int md_needs_new_cert_for(const md_t *configured, const md_t *stored)
{
    return !md_array_str_eq(configured->domains, stored->domains, 0)
        || !pkey_specs_eq(configured, stored)
        || configured->must_staple != stored->must_staple;
}

const md_t *md_rename_pick(const md_t *configured, const apr_array_header_t *unclaimed)
{
    const md_t *best = NULL, *old;
    int i, k, shared, best_shared = 0;

    for (i = 0; i < unclaimed->nelts; ++i) {
        old = APR_ARRAY_IDX(unclaimed, i, const md_t *);
        for (k = shared = 0; k < configured->domains->nelts; ++k) {
            if (md_array_str_index(old->domains, APR_ARRAY_IDX(configured->domains, k,
                                                               const char *), 0) >= 0) ++shared;
        }
        if (shared > best_shared) {
            best = old;
            best_shared = shared;
        }
    }
    return best;
}

const char *md_state_descr(md_state_t state)
{
    switch (state) {
    case MD_S_INCOMPLETE: return "incomplete: certificate(s) missing";
    case MD_S_COMPLETE: return "certificate(s) available";
    case MD_S_EXPIRED_DEPRECATED: return "expired";
    case MD_S_ERROR: return "in error";
    case MD_S_MISSING_INFORMATION: return "missing information";
    default: return "unknown";
    }
}

/* ---- JSON ----------------------------------------------------------------------- */

static md_json_t *pkey_spec_to_json(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    switch (spec->type) {
    case MD_PKEY_RSA:
        md_json_sets("RSA", j, MD_KEY_TYPE, NULL);
        md_json_setl((long)spec->bits, j, MD_KEY_BITS, NULL);
        break;
    case MD_PKEY_EC:
        md_json_sets("EC", j, MD_KEY_TYPE, NULL);
        md_json_sets(spec->curve, j, MD_KEY_CURVE, NULL);
        break;
    default:
        md_json_sets("Default", j, MD_KEY_TYPE, NULL);
    }
    return j;
}

/* A curve name from the store becomes part of file names: letters, digits, '-', '_'. */
static int curve_name_ok(const char *s)
{
    apr_size_t i;

    if (!s || !*s || strlen(s) > 64) return 0;
    for (i = 0; s[i]; ++i) {
        if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '_') return 0;
    }
    return 1;
}

/* A damaged spec (unknown type, RSA size out of range, a curve that is no name)
 * becomes the default spec rather than a path or an hour-long key generation. */
static md_pkey_spec_t *pkey_spec_from_json(const md_json_t *j, apr_pool_t *p)
{
    md_pkey_spec_t *spec = apr_pcalloc(p, sizeof(*spec));
    const char *type = md_json_gets(j, MD_KEY_TYPE, NULL);
    const char *curve = md_json_gets(j, MD_KEY_CURVE, NULL);
    long bits = md_json_getl(j, MD_KEY_BITS, NULL);

    if (type && !strcasecmp(type, "RSA")) {
        spec->type = MD_PKEY_RSA;
        spec->bits = (bits >= MD_PKEY_RSA_BITS_MIN && bits <= MD_PKEY_RSA_BITS_MAX)
                     ? (unsigned int)bits : MD_PKEY_RSA_BITS_DEFAULT;
    }
    else if (type && !strcasecmp(type, "EC") && curve_name_ok(curve)) {
        spec->type = MD_PKEY_EC;
        spec->curve = apr_pstrdup(p, curve);
    }
    return spec;
}

static void ca_to_json(const md_t *md, md_json_t *j)
{
    if (md->ca_account) md_json_sets(md->ca_account, j, MD_KEY_CA, MD_KEY_ACCOUNT, NULL);
    md_json_sets("ACME", j, MD_KEY_CA, MD_KEY_PROTO, NULL);
    if (md->ca_effective) md_json_sets(md->ca_effective, j, MD_KEY_CA, MD_KEY_URL, NULL);
    md_json_setsa(md->ca_urls, j, MD_KEY_CA, MD_KEY_URLS, NULL);
    md_json_sets(md->ca_agreement, j, MD_KEY_CA, MD_KEY_AGREEMENT, NULL);
    if (md->ca_challenges->nelts) {
        md_json_setsa(md->ca_challenges, j, MD_KEY_CA, MD_KEY_CHALLENGES, NULL);
    }
}

md_json_t *md_to_json(const md_t *md, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p), *keys;
    int i;

    md_json_sets(md->name, j, MD_KEY_NAME, NULL);
    md_json_setsa(md->domains, j, MD_KEY_DOMAINS, NULL);
    md_json_setsa(md->contacts, j, MD_KEY_CONTACTS, NULL);
    md_json_setl(md->members == MD_MEMBERS_AUTO, j, MD_KEY_TRANSITIVE, NULL);
    ca_to_json(md, j);
    if (md->pkey_specs->nelts == 1) {
        md_json_setj(pkey_spec_to_json(md_pkey_spec_at(md, 0), p), j, MD_KEY_PKEY, NULL);
    }
    else if (md->pkey_specs->nelts > 1) {
        keys = md_json_create_array(p);
        for (i = 0; i < md->pkey_specs->nelts; ++i) {
            md_json_array_append(keys, pkey_spec_to_json(md_pkey_spec_at(md, i), p));
        }
        md_json_setj(keys, j, MD_KEY_PKEY, NULL);
    }
    md_json_setl(md->state, j, MD_KEY_STATE, NULL);
    if (md->state_descr) md_json_sets(md->state_descr, j, MD_KEY_STATE_DESCR, NULL);
    md_json_setl(md->renew_mode, j, MD_KEY_RENEW_MODE, NULL);
    md_json_sets(md_timeslice_print(&md->renew_window, p), j, MD_KEY_RENEW_WINDOW, NULL);
    md_json_sets(md_timeslice_print(&md->warn_window, p), j, MD_KEY_WARN_WINDOW, NULL);
    if (md->require_https != MD_REQUIRE_OFF) {
        md_json_sets(md->require_https == MD_REQUIRE_PERMANENT ? "permanent" : "temporary",
                     j, MD_KEY_REQUIRE_HTTPS, NULL);
    }
    md_json_setb(md->must_staple, j, MD_KEY_MUST_STAPLE, NULL);
    md_json_setb(md->stapling, j, "stapling", NULL);
    /* always, as today's module writes it (scripts index it): an empty list when no
     * name of the MD offers acme-tls/1 */
    md_json_setsa(md->acme_tls_1_names, j, MD_KEY_PROTO, "acme-tls/1", NULL);
    if (md->profile) md_json_sets(md->profile, j, MD_KEY_PROFILE, NULL);
    md_json_setb(md->profile_mandatory, j, "profile-mandatory", NULL);
    md_json_setb(md->ari_renewals, j, "ari-renewals", NULL);
    if (md->cert_files->nelts) {
        md_json_setsa(md->cert_files, j, MD_KEY_CERT_FILES, NULL);
        md_json_setsa(md->pkey_files, j, MD_KEY_PKEY_FILES, NULL);
    }
    return j;
}

static void ca_from_json(md_t *md, const md_json_t *j, apr_pool_t *p)
{
    const char *s;

    s = md_json_gets(j, MD_KEY_CA, MD_KEY_ACCOUNT, NULL);
    md->ca_account = s ? apr_pstrdup(p, s) : NULL;
    s = md_json_gets(j, MD_KEY_CA, MD_KEY_URL, NULL);
    md->ca_effective = s ? apr_pstrdup(p, s) : NULL;
    md->ca_urls = md_json_getsa(j, p, MD_KEY_CA, MD_KEY_URLS, NULL);
    if (!md->ca_urls->nelts && md->ca_effective) {
        APR_ARRAY_PUSH(md->ca_urls, const char *) = md->ca_effective;
    }
    s = md_json_gets(j, MD_KEY_CA, MD_KEY_AGREEMENT, NULL);
    md->ca_agreement = s ? apr_pstrdup(p, s) : NULL;
    md->ca_challenges = md_json_getsa(j, p, MD_KEY_CA, MD_KEY_CHALLENGES, NULL);
}

static void pkeys_from_json(md_t *md, const md_json_t *j, apr_pool_t *p)
{
    md_json_t *keys = md_json_getj(j, MD_KEY_PKEY, NULL);
    apr_size_t i;

    if (!keys) return;
    if (md_json_is_array(keys, NULL)) {
        for (i = 0; i < md_json_array_len(keys); ++i) {
            APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) =
                pkey_spec_from_json(md_json_array_at(keys, i), p);
        }
    }
    else {
        APR_ARRAY_PUSH(md->pkey_specs, md_pkey_spec_t *) = pkey_spec_from_json(keys, p);
    }
}

apr_status_t md_from_json(md_t **pmd, const md_json_t *j, apr_pool_t *p)
{
    const char *name = md_json_gets(j, MD_KEY_NAME, NULL), *s;
    md_t *md;
    long l;

    *pmd = NULL;
    if (!name) return APR_EINVAL;
    md = md_create(p, apr_pstrdup(p, name));
    md->domains = md_json_getsa(j, p, MD_KEY_DOMAINS, NULL);
    md->contacts = md_json_getsa(j, p, MD_KEY_CONTACTS, NULL);
    md->members = md_json_getl(j, MD_KEY_TRANSITIVE, NULL) ? MD_MEMBERS_AUTO : MD_MEMBERS_MANUAL;
    ca_from_json(md, j, p);
    pkeys_from_json(md, j, p);
    l = md_json_getl(j, MD_KEY_STATE, NULL);
    md->state = (l >= MD_S_UNKNOWN && l <= MD_S_MISSING_INFORMATION) ? (md_state_t)l : MD_S_UNKNOWN;
    l = md_json_getl(j, MD_KEY_RENEW_MODE, NULL);
    md->renew_mode = (l >= MD_RENEW_MANUAL && l <= MD_RENEW_ALWAYS) ? (md_renew_mode_t)l
                     : MD_RENEW_AUTO;
    s = md_json_gets(j, MD_KEY_RENEW_WINDOW, NULL);
    if (s) md_timeslice_parse(&md->renew_window, s, "d");
    s = md_json_gets(j, MD_KEY_WARN_WINDOW, NULL);
    if (s) md_timeslice_parse(&md->warn_window, s, "d");
    s = md_json_gets(j, MD_KEY_REQUIRE_HTTPS, NULL);
    if (s) md->require_https = strcmp(s, "permanent") ? MD_REQUIRE_TEMPORARY : MD_REQUIRE_PERMANENT;
    md->must_staple = md_json_getb(j, MD_KEY_MUST_STAPLE, NULL);
    md->stapling = md_json_getb(j, "stapling", NULL);
    s = md_json_gets(j, MD_KEY_PROFILE, NULL);
    md->profile = s ? apr_pstrdup(p, s) : NULL;
    md->cert_files = md_json_getsa(j, p, MD_KEY_CERT_FILES, NULL);
    md->pkey_files = md_json_getsa(j, p, MD_KEY_PKEY_FILES, NULL);
    *pmd = md;
    return APR_SUCCESS;
}
