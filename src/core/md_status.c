/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* One MD as today's md-status JSON: md.json, the served certificates, the renewal job
 * and its staged certificates (docs/status.md). */
#include <string.h>
#include <apr_strings.h>

#include "md_job.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_renew.h"
#include "md_status.h"
#include "md_ocsp.h"
#include "md_util.h"
#include "md_time.h"

#define MD_STATUS_CERT_FILE_MAX (1024 * 1024)

/* ---- certificates ----------------------------------------------------------------- */

static void set_valid(md_json_t *j, apr_time_t from, apr_time_t until, apr_pool_t *p)
{
    md_json_sets(md_time_print(from, p), j, MD_KEY_VALID, MD_KEY_FROM, NULL);
    md_json_sets(md_time_print(until, p), j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
}

/* The certificate data of a certificate, as in "cert": issuer-name, valid{from,until},
 * serial, sha256-fingerprint, ari-cert-id. */
static md_json_t *cert_json(const md_cert_facts_t *facts, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    const char *s;

    if (facts->issuer) md_json_sets(facts->issuer, j, MD_KEY_ISSUER_NAME, NULL);
    set_valid(j, facts->not_before, facts->not_after, p);
    if (facts->serial_hex) md_json_sets(facts->serial_hex, j, MD_KEY_SERIAL, NULL);
    md_json_sets(md_hex_encode(facts->sha256, sizeof(facts->sha256), p), j,
                 MD_KEY_SHA256_FINGERPRINT, NULL);
    s = md_cert_facts_ari_id(facts, NULL, p);
    if (s) md_json_sets(s, j, MD_KEY_ARI_CERT_ID, NULL);
    return j;
}

/* The "ocsp" member of a served certificate (status, valid{from,until}) for a response. */
static md_json_t *ocsp_json(const md_ocsp_resp_t *resp, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(md_ocsp_status_name(resp->status), j, MD_KEY_STATUS, NULL);
    md_json_sets(md_time_print(resp->valid_from, p), j, MD_KEY_VALID, MD_KEY_FROM, NULL);
    md_json_sets(md_time_print(resp->valid_until, p), j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    if (resp->fetched_by) md_json_sets(resp->fetched_by, j, MD_KEY_FETCHED_BY, NULL);  /* a farm's */
    return j;
}

/* The OCSP status of a served certificate for its "ocsp" member, in today's format
 * (status good|revoked|unknown, valid{from,until}), from the response stapling keeps in
 * ocsp/<md>/; NULL while there is none. */
static md_json_t *cert_ocsp_json(const md_t *md, const md_served_t *served, md_store_t *store,
                                 apr_pool_t *p)
{
    md_ocsp_resp_t *resp;

    if (!store || !served->ocsp_file
        || md_ocsp_resp_load(&resp, store, md->name, served->ocsp_file, p) != APR_SUCCESS) {
        return NULL;
    }
    return ocsp_json(resp, p);
}

int md_status_ocsp_refresh(md_json_t *mdj, const char *sha256_hex, const md_ocsp_resp_t *resp,
                           apr_pool_t *p)
{
    apr_array_header_t *names = md_json_keys(mdj, p, MD_KEY_CERT, NULL);
    md_json_t *certj;
    const char *fp;
    int i;

    for (i = 0; i < names->nelts; ++i) {
        certj = md_json_getj(mdj, MD_KEY_CERT, APR_ARRAY_IDX(names, i, const char *), NULL);
        fp = certj ? md_json_gets(certj, MD_KEY_SHA256_FINGERPRINT, NULL) : NULL;
        if (fp && !strcasecmp(fp, sha256_hex)) {
            md_json_setj(ocsp_json(resp, p), certj, MD_KEY_OCSP, NULL);
            return 1;
        }
    }
    return 0;
}

/* The certificates of a set, keyed by name, plus "valid": when all of them are. */
typedef struct {
    md_json_t *certs;
    apr_time_t from, until;
    int count;
} cert_set_t;

static void cert_set_add(cert_set_t *set, const char *name, md_json_t *certj,
                         apr_time_t from, apr_time_t until)
{
    md_json_setj(certj, set->certs, name, NULL);
    if (!set->count || from > set->from) set->from = from;
    if (!set->count || until < set->until) set->until = until;
    ++set->count;
}

static void cert_set_finish(cert_set_t *set, apr_pool_t *p)
{
    if (set->count) set_valid(set->certs, set->from, set->until, p);
}

md_served_t *md_status_served_of(const char *name, const md_cert_facts_t *facts,
                                 const char *chain_pem, apr_pool_t *presult, apr_pool_t *ptemp)
{
    md_served_t *served = apr_pcalloc(presult, sizeof(*served));
    md_cert_facts_t *issuer = NULL;
    const char *ari_id;

    served->name = apr_pstrdup(presult, name);
    served->not_before = facts->not_before;
    served->not_after = facts->not_after;
    if (!facts->aki && chain_pem) {
        md_cert_facts_from_pem(&issuer, chain_pem, strlen(chain_pem), 1, ptemp);
    }
    ari_id = md_cert_facts_ari_id(facts, issuer, ptemp);
    served->ari_id = ari_id ? apr_pstrdup(presult, ari_id) : NULL;
    served->ocsp_file = apr_pstrdup(presult, md_ocsp_file_name(facts->sha1, sizeof(facts->sha1),
                                                               ptemp));
    served->json = apr_pstrdup(presult, md_json_dump(cert_json(facts, ptemp),
                                                     MD_JSON_COMPACT, ptemp));
    return served;
}

/* The served facts of a chain file (a static one, or one in the store). */
static md_served_t *served_from_pem(const char *name, const char *pem, apr_size_t len,
                                    apr_pool_t *presult, apr_pool_t *p)
{
    md_cert_facts_t *facts;

    if (md_cert_facts_from_pem(&facts, pem, len, 0, p) != APR_SUCCESS) return NULL;
    return md_status_served_of(name, facts, pem, presult, p);
}

static md_served_t *served_from_file(const char *name, const char *file, apr_pool_t *presult,
                                     apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;

    if (md_file_read(&pem, &len, file, MD_STATUS_CERT_FILE_MAX, p) != APR_SUCCESS) return NULL;
    return served_from_pem(name, pem, len, presult, p);
}

static md_served_t *served_from_store(md_store_t *store, md_store_group_t group, const md_t *md,
                                      const md_pkey_spec_t *spec, apr_pool_t *p)
{
    const char *pem;

    if (!store || md_store_load_text(&pem, store, group, md->name,
                                     md_pkey_file_name(spec, MD_FN_PUBCERT, p), p) != APR_SUCCESS) {
        return NULL;
    }
    return served_from_pem(md_pkey_spec_name(spec), pem, strlen(pem), p, p);
}

apr_array_header_t *md_status_served_load(const md_t *md, md_store_t *store,
                                          apr_pool_t *presult, apr_pool_t *p)
{
    apr_array_header_t *all = apr_array_make(presult, 2, sizeof(md_served_t *));
    int i;

    for (i = 0; i < md->cert_files->nelts; ++i) {
        APR_ARRAY_PUSH(all, md_served_t *) = served_from_file(
            apr_itoa(p, i), APR_ARRAY_IDX(md->cert_files, i, const char *), presult, p);
    }
    for (i = 0; !md->cert_files->nelts && i < md_pkey_spec_count(md); ++i) {
        APR_ARRAY_PUSH(all, md_served_t *) = served_from_store(store, MD_SG_DOMAINS, md,
                                                               md_pkey_spec_at(md, i), p);
    }
    return all;
}

apr_time_t md_status_served_renew_at(const md_t *md, const apr_array_header_t *served)
{
    const md_served_t *one;
    apr_time_t at = 0, t;
    int i;

    for (i = 0; served && i < served->nelts; ++i) {
        one = APR_ARRAY_IDX(served, i, const md_served_t *);
        if (!one) return 0;
        t = md_renew_at(&md->renew_window, one->not_before, one->not_after);
        if (!at || t < at) at = t;
    }
    return at;
}

/* The served certificates (read at start, or now from the store): the static files
 * (named by index, as today), or one per key spec. The earliest renewal time of them
 * goes to *prenew_at. */
static md_json_t *served_certs_json(const md_t *md, md_store_t *store, apr_time_t *prenew_at,
                                    apr_pool_t *p)
{
    cert_set_t set = { md_json_create(p), 0, 0, 0 };
    const apr_array_header_t *all = md->served ? md->served
                                               : md_status_served_load(md, store, p, p);
    const md_served_t *served;
    md_json_t *certj, *ocspj;
    apr_time_t at;
    int i;

    *prenew_at = 0;
    for (i = 0; i < all->nelts; ++i) {
        served = APR_ARRAY_IDX(all, i, const md_served_t *);
        if (!served) continue;
        if (md_json_parse(&certj, served->json, strlen(served->json), p) != APR_SUCCESS) continue;
        ocspj = cert_ocsp_json(md, served, store, p);
        if (ocspj) md_json_setj(ocspj, certj, MD_KEY_OCSP, NULL);
        cert_set_add(&set, served->name, certj, served->not_before, served->not_after);
        at = md_renew_at(&md->renew_window, served->not_before, served->not_after);
        if (!*prenew_at || at < *prenew_at) *prenew_at = at;
    }
    cert_set_finish(&set, p);
    return set.certs;
}

static md_json_t *staged_certs_json(const md_t *md, md_store_t *store, apr_pool_t *p)
{
    cert_set_t set = { md_json_create(p), 0, 0, 0 };
    const md_served_t *staged;
    md_json_t *certj;
    int i;

    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        staged = served_from_store(store, MD_SG_STAGING, md, md_pkey_spec_at(md, i), p);
        if (staged && md_json_parse(&certj, staged->json, strlen(staged->json), p) == APR_SUCCESS) {
            cert_set_add(&set, staged->name, certj, staged->not_before, staged->not_after);
        }
    }
    cert_set_finish(&set, p);
    return set.certs;
}

/* ---- the renewal ------------------------------------------------------------------ */

/* When the newest "finished" entry of a job log was written; 0 if there is none. */
static apr_time_t last_finished(const md_json_t *job)
{
    md_json_t *log = md_json_getj(job, MD_KEY_LOG, MD_KEY_ENTRIES, NULL);
    const char *type;
    apr_size_t i;

    for (i = 0; log && i < md_json_array_len(log); ++i) {
        md_json_t *e = md_json_array_at(log, i);
        type = md_json_gets(e, MD_KEY_TYPE, NULL);
        if (type && !strcmp(type, "finished")) return md_time_parse(md_json_gets(e, MD_KEY_WHEN, NULL));
    }
    return 0;
}

/* The renewal time and its reason: the renew window, or an earlier time that the
 * renewal code took from the CA's renewal information (ARI) and recorded in the job
 * as "ari": {"renew-at": <time>}. */
static void renew_at_set(md_json_t *mdj, apr_time_t window_at, const md_json_t *job,
                         apr_pool_t *p)
{
    apr_time_t ari_at = job ? md_time_parse(md_json_gets(job, MD_KEY_ARI, MD_KEY_RENEW_AT, NULL)) : 0;
    apr_time_t at = window_at;
    const char *reason = "window";

    if (ari_at > 0 && (!at || ari_at < at)) {
        at = ari_at;
        reason = "ari";
    }
    md_json_del(mdj, MD_KEY_RENEW_AT, NULL);
    md_json_del(mdj, MD_KEY_RENEW_REASON, NULL);
    if (at <= 0 && md_json_has(mdj, MD_KEY_CERT, MD_KEY_VALID, NULL)) return;
    if (at <= 0) {
        /* no certificate: due now, as today's module says (it prints the current time) */
        at = apr_time_now();
        reason = "missing";
    }
    md_json_sets(md_time_print(at, p), mdj, MD_KEY_RENEW_AT, NULL);
    md_json_sets(reason, mdj, MD_KEY_RENEW_REASON, NULL);
}

/* Damaged store files of the MD (and of its account) as found so far in this process:
 * at start by the parent, later by the watchdog. */
static void damage_json(md_json_t *mdj, const md_t *md, md_store_t *store, apr_pool_t *p)
{
    static const md_store_group_t groups[] = { MD_SG_DOMAINS, MD_SG_STAGING, MD_SG_OCSP,
                                               MD_SG_ACCOUNTS };
    md_json_t *list = md_json_create_array(p), *e;
    apr_array_header_t *found;
    const char *name;
    size_t g;
    int i;

    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); ++g) {
        name = groups[g] == MD_SG_ACCOUNTS ? md->ca_account : md->name;
        if (!name) continue;
        found = md_store_damage_get(store, groups[g], name, p);
        for (i = 0; i < found->nelts; ++i) {
            const md_store_damage_t *d = APR_ARRAY_IDX(found, i, md_store_damage_t *);
            e = md_json_create(p);
            md_json_sets(d->path, e, MD_KEY_PATH, NULL);
            md_json_sets(d->problem, e, MD_KEY_PROBLEM, NULL);
            md_json_array_append(list, e);
        }
    }
    md_json_del(mdj, MD_KEY_STORE_DAMAGE, NULL);
    if (md_json_array_len(list) > 0) md_json_setj(list, mdj, MD_KEY_STORE_DAMAGE, NULL);
}

void md_status_renewal_refresh(md_json_t *mdj, const md_t *md, md_store_t *store,
                               int with_log, apr_pool_t *p)
{
    md_json_t *job = NULL;
    apr_time_t window_at = 0, renewed;
    int has_job, due;

    /* 1. the window time was computed from the served certificates */
    if (md_json_has(mdj, MD_KEY_RENEW_REASON, NULL)
        && !strcmp(md_json_gets(mdj, MD_KEY_RENEW_REASON, NULL), "window")) {
        window_at = md_time_parse(md_json_gets(mdj, MD_KEY_RENEW_AT, NULL));
    }
    else if (md_json_has(mdj, MD_KEY_CERT, MD_KEY_VALID, NULL)) {
        window_at = md_renew_at(&md->renew_window,
                                md_time_parse(md_json_gets(mdj, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_FROM, NULL)),
                                md_time_parse(md_json_gets(mdj, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_UNTIL, NULL)));
    }
    /* 2. the renewal job in staging, if any; damaged files found so far */
    has_job = md_store_load_json(&job, store, MD_SG_STAGING, md->name, MD_FN_JOB, p) == APR_SUCCESS;
    renew_at_set(mdj, window_at, has_job ? job : NULL, p);
    damage_json(mdj, md, store, p);
    renewed = has_job ? last_finished(job) : 0;
    if (renewed) md_json_sets(md_time_print(renewed, p), mdj, MD_KEY_LAST_RENEWAL, NULL);
    /* 3. renew: due, missing, or a job exists; then its job and staged certificates */
    due = !md_json_has(mdj, MD_KEY_RENEW_AT, NULL)
          || md_time_parse(md_json_gets(mdj, MD_KEY_RENEW_AT, NULL)) <= apr_time_now();
    md_json_del(mdj, MD_KEY_RENEW, NULL);
    md_json_del(mdj, MD_KEY_RENEWAL, NULL);
    if (!(has_job || (md->watched && due))) return;
    md_json_setb(1, mdj, MD_KEY_RENEW, NULL);
    if (!has_job) return;
    if (!with_log) md_json_del(job, MD_KEY_LOG, NULL);
    md_json_setj(staged_certs_json(md, store, p), job, MD_KEY_CERT, NULL);
    md_json_setj(job, mdj, MD_KEY_RENEWAL, NULL);
}

/* ---- the MD ------------------------------------------------------------------------ */

/* What md.json of today carries beyond md_to_json(), with secrets masked. */
static void md_extras(md_json_t *j, const md_t *md, apr_pool_t *p)
{
    if (md->cert_files->nelts) md_json_setsa(md->cert_files, j, MD_KEY_CERT_FILES, NULL);
    if (md->pkey_files->nelts) md_json_setsa(md->pkey_files, j, MD_KEY_PKEY_FILES, NULL);
    if (md->dns01_cmd) md_json_sets(md->dns01_cmd, j, MD_KEY_CMD_DNS01, NULL);
    if (md->proxy_url) md_json_sets(md_url_masked(md->proxy_url, p), j, MD_KEY_PROXY_URL, NULL);
    md_json_del(j, MD_KEY_EAB, NULL);
    if (md->eab_kid && strcmp(md->eab_kid, "none")) {
        md_json_sets(md->eab_kid, j, MD_KEY_EAB, MD_KEY_KID, NULL);
        md_json_sets("***", j, MD_KEY_EAB, MD_KEY_HMAC, NULL);
    }
}

/* The newest "finished" in domains/<md>/job.json: a renewal that is already active. */
static void last_renewal_served(md_json_t *mdj, const md_t *md, md_store_t *store, apr_pool_t *p)
{
    md_json_t *job;
    apr_time_t t;

    if (md_json_has(mdj, MD_KEY_LAST_RENEWAL, NULL)) return;
    if (md_store_load_json(&job, store, MD_SG_DOMAINS, md->name, MD_FN_JOB, p) != APR_SUCCESS) return;
    t = last_finished(job);
    if (t) md_json_sets(md_time_print(t, p), mdj, MD_KEY_LAST_RENEWAL, NULL);
}

apr_status_t md_status_md_json(md_json_t **pjson, const md_t *md, md_store_t *store,
                               int with_log, apr_pool_t *p)
{
    md_json_t *j = md_to_json(md, p);
    apr_time_t renew_at;

    /* 1. the MD as configured, secrets masked; like today, no text for a complete one */
    md_extras(j, md, p);
    if (md->state == MD_S_COMPLETE) md_json_del(j, MD_KEY_STATE_DESCR, NULL);
    /* 2. the served certificates and the renew window they open */
    md_json_setj(served_certs_json(md, store, &renew_at, p), j, MD_KEY_CERT, NULL);
    if (renew_at) {
        md_json_sets(md_time_print(renew_at, p), j, MD_KEY_RENEW_AT, NULL);
        md_json_sets("window", j, MD_KEY_RENEW_REASON, NULL);
    }
    else if (!md_json_has(j, MD_KEY_CERT, MD_KEY_VALID, NULL)) {
        /* no certificate: due now, as today's module says (it prints the current time) */
        md_json_sets(md_time_print(apr_time_now(), p), j, MD_KEY_RENEW_AT, NULL);
        md_json_sets("missing", j, MD_KEY_RENEW_REASON, NULL);
    }
    md_json_setb(md->stapling, j, MD_KEY_STAPLING, NULL);
    md_json_setb(md->watched, j, MD_KEY_WATCHED, NULL);
    /* 3. the renewal: job, staged certificates, when renewed last */
    if (store) {
        md_status_renewal_refresh(j, md, store, with_log, p);
        last_renewal_served(j, md, store, p);
    }
    *pjson = j;
    return APR_SUCCESS;
}
