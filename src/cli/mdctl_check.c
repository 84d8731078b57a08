/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl check: the preflight of MDs (md_preflight.h), as the server runs it before an
 * order, with what would fail and what to do.
 *
 *   mdctl check [--resolver ADDR[:PORT]] [--caa DOMAIN] [--no-http] NAME...
 *
 * The MD comes from the store, the server-wide settings (MDPreflight, MDPreflightResolver,
 * MDPortMap, MDChallengeDns01) from Apache's configuration. The http-01 probe puts its
 * token into the store, under the MD's lock, for the running server to answer. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_chall.h"
#include "md_json_keys.h"
#include "md_preflight.h"
#include "md_util.h"
#include "mdctl.h"

typedef struct {
    const char *resolver;
    apr_array_header_t *caa;    /* const char* */
    int no_http;
    apr_array_header_t *names;
} check_opts_t;

static int options(check_opts_t *o, int argc, const char *const *argv, apr_pool_t *p)
{
    int i;

    o->names = apr_array_make(p, 4, sizeof(const char *));
    o->caa = apr_array_make(p, 2, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--resolver") && i + 1 < argc) o->resolver = argv[++i];
        else if (!strcmp(a, "--caa") && i + 1 < argc) {
            APR_ARRAY_PUSH(o->caa, const char *) = md_caa_issuer(argv[++i], p);
        }
        else if (!strcmp(a, "--no-http")) o->no_http = 1;
        else if (a[0] == '-') {
            fprintf(stderr, "mdctl check: unknown option %s\n", a);
            return 0;
        }
        else APR_ARRAY_PUSH(o->names, const char *) = a;
    }
    if (!o->names->nelts) {
        fprintf(stderr, "mdctl check: name the MDs to check\n");
        return 0;
    }
    if (o->resolver && md_dns_server_check(o->resolver, p)) {
        fprintf(stderr, "mdctl check: --resolver %s\n", md_dns_server_check(o->resolver, p));
        return 0;
    }
    return 1;
}

/* The configuration's MDPreflight: *poff when it says off; its caa= domains into caa. */
static void conf_preflight(int *poff, apr_array_header_t *caa, const mdctl_where_t *w,
                           apr_pool_t *p)
{
    int i;

    *poff = 0;
    if (!w->preflight) return;
    for (i = 1; i < w->preflight->nelts; ++i) {
        const char *word = APR_ARRAY_IDX(w->preflight, i, const char *);
        if (i == 1) *poff = !strcasecmp(word, "off");
        else if (!strncasecmp(word, "caa=", 4) && !caa->nelts) {
            char *list = apr_pstrdup(p, word + 4), *tok, *last;
            for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
                APR_ARRAY_PUSH(caa, const char *) = md_caa_issuer(tok, p);
            }
        }
    }
}

/* The challenge types the server would use: MDCAChallenges, else what the configuration
 * allows (tls-alpn-01 where a vhost offers acme-tls/1, http-01 unless 80 is unmapped,
 * dns-01 with a program), as the server decides at start. */
static apr_array_header_t *chall_types(const mdctl_t *ctl, md_t *md, apr_pool_t *p)
{
    apr_array_header_t *alpn = NULL;
    md_json_t *json;

    if (ctl->where->dns01) md->dns01_cmd = "(MDChallengeDns01)";
    if (md_store_load_json(&json, ctl->store, MD_SG_DOMAINS, md->name, MD_FN_MD, p) == APR_SUCCESS) {
        alpn = md_json_getsa(json, p, MD_KEY_PROTO, "acme-tls/1", NULL);
    }
    return md_chall_usable(md, alpn && alpn->nelts, ctl->where->local_80 > 0, p);
}

/* Probe tokens are written as the owner of challenges/ (the server's children answer
 * from there and remove what they put there). */
static void owner_take(const mdctl_t *ctl)
{
    apr_finfo_t info;

    if (getuid() != 0) return;
    if (md_store_info(&info, ctl->store, MD_SG_CHALLENGES, NULL, NULL, ctl->p) != APR_SUCCESS
        && md_store_info(&info, ctl->store, MD_SG_STAGING, NULL, NULL, ctl->p) != APR_SUCCESS) {
        return;
    }
    md_store_set_owner(ctl->store, (int)info.user, (int)info.group,
                       (info.protection & APR_FPROT_GWRITE) != 0);
}

static void print_result(const md_t *md, apr_status_t rv, const md_result_t *r,
                         const md_preflight_t *pf, apr_pool_t *p)
{
    int i;

    for (i = 0; i < pf->notes->nelts; ++i) {
        printf("%s: not checked: %s\n", md->name, APR_ARRAY_IDX(pf->notes, i, const char *));
    }
    if (rv == APR_SUCCESS) {
        printf("%s: preflight passed (%s; asked %s; CAA %s): nothing found that would make "
               "the CA fail\n", md->name, md_array_str_join(md->domains, ", ", p), pf->dns->server,
               pf->caa_ids ? md_array_str_join(pf->caa_ids, ",", p) : "not checked: the CA's "
               "CAA identity is unknown, give it with --caa DOMAIN");
        return;
    }
    printf("%s: preflight FAILS (%s):\n", md->name, r->problem);
    printf("  %s\n", r->detail);
}

/* One MD: 0 passed, 1 not checked, 4 a check fails. */
static int check_one(mdctl_t *ctl, const check_opts_t *o, const char *name, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_store_lock_t *lock = NULL;
    md_preflight_t pf;
    apr_array_header_t *caa = apr_array_make(p, 2, sizeof(const char *));
    apr_status_t rv;
    md_t *md;
    int off;

    if (mdctl_md_find(&md, ctl, name, p) != APR_SUCCESS) {
        fprintf(stderr, "mdctl check: no MD has the name %s in the store %s; 'mdctl status' "
                "lists them\n", name, md_store_base(ctl->store));
        return MDCTL_FAILED;
    }
    conf_preflight(&off, caa, ctl->where, p);
    if (off) printf("%s: MDPreflight is off in the configuration; checking anyway\n", md->name);
    memset(&pf, 0, sizeof(pf));
    pf.md = md;
    pf.challenge_types = chall_types(ctl, md, p);
    pf.caa_ids = md_caa_ids_for(o->caa->nelts ? o->caa : caa, md->ca_effective ? md->ca_effective
                                : APR_ARRAY_IDX(md->ca_urls, 0, const char *), p);
    md_dns_create(&pf.dns, o->resolver ? o->resolver : ctl->where->preflight_resolver, p);
    pf.http_probe = !o->no_http;
    /* the probe's token goes where a renewal's would: not while one runs */
    if (pf.http_probe && md_store_lock_md(&lock, ctl->store, md->name, 0, p) != APR_SUCCESS) {
        printf("%s: a renewal is running now; the http-01 probe is left out\n", md->name);
        pf.http_probe = 0;
    }
    owner_take(ctl);
    pf.store = ctl->store;
    pf.http = md_preflight_http("mdctl (preflight)", NULL, p);
    pf.local_port = ctl->where->local_80;
    pf.local_addrs = md_preflight_local_addrs(p);
    rv = md_preflight_run(&pf, result, p);
    if (lock) md_store_unlock(lock);
    print_result(md, rv, result, &pf, p);
    return rv == APR_SUCCESS ? MDCTL_OK : MDCTL_CHECK_FAILS;
}

int mdctl_check_cmd(mdctl_t *ctl, int argc, const char *const *argv)
{
    check_opts_t o;
    int i, rc = MDCTL_OK, one;

    memset(&o, 0, sizeof(o));
    if (!options(&o, argc, argv, ctl->p)) return MDCTL_USAGE;
    if (!ctl->store) return mdctl_no_store(ctl);
    for (i = 0; i < o.names->nelts; ++i) {
        one = check_one(ctl, &o, APR_ARRAY_IDX(o.names, i, const char *), ctl->p);
        if (one == MDCTL_FAILED || (one != MDCTL_OK && rc == MDCTL_OK)) rc = one;
    }
    return rc;
}
