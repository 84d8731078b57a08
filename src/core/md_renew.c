/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>

#include "md_renew.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define MD_DAY apr_time_from_sec(24 * 60 * 60)

/* ---- decisions ----------------------------------------------------------------- */

apr_time_t md_renew_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until)
{
    apr_interval_time_t lifetime = until - from, before;

    before = md_timeslice_length(window, from, until);
    if (lifetime > 0 && lifetime < 10 * MD_DAY && before < lifetime / 2) before = lifetime / 2;
    return until - before;
}

apr_time_t md_renew_in_place_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until)
{
    apr_time_t at = md_renew_at(window, from, until);

    return at > from ? at : from + (until - from) / 2;
}

apr_interval_time_t md_renew_backoff(int errors, apr_interval_time_t base, int input_related,
                                     double jitter)
{
    apr_interval_time_t delay = base > 0 ? base : apr_time_from_sec(1);
    int i;

    if (input_related) delay = MD_DAY;
    for (i = 1; i < errors && delay < MD_DAY; ++i) delay *= 2;
    if (delay > MD_DAY) delay = MD_DAY;
    if (jitter < -0.5) jitter = -0.5;
    if (jitter > 0.5) jitter = 0.5;
    return delay + (apr_interval_time_t)((double)delay * jitter);
}

const char *md_renew_ca_pick(const apr_array_header_t *urls, int errors, int retry_failover)
{
    if (!urls || urls->nelts == 0) return NULL;
    if (errors < 0) errors = 0;
    if (retry_failover < 1) retry_failover = 1;
    return APR_ARRAY_IDX(urls, (errors / retry_failover) % urls->nelts, const char *);
}

apr_time_t md_renew_activation_at(apr_time_t not_before, apr_interval_time_t delay,
                                  apr_time_t served_until)
{
    apr_time_t at = not_before + (delay > 0 ? delay : 0);

    return (served_until > 0 && served_until < at) ? served_until : at;
}

apr_time_t md_renew_warn_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until)
{
    return until - md_timeslice_length(window, from, until);
}

apr_time_t md_renew_next_check(const md_renew_times_t *t, apr_time_t now,
                               apr_interval_time_t interval, apr_interval_time_t retry,
                               double jitter)
{
    apr_time_t next;

    if (jitter < -0.5) jitter = -0.5;
    if (jitter > 0.5) jitter = 0.5;
    next = now + interval + (apr_interval_time_t)((double)interval * jitter);
    if (t->staged && !t->notified) return t->job_next_run > now ? t->job_next_run : now + retry;
    if (t->staged) return next;
    if (t->job_next_run > now && t->job_next_run < next) next = t->job_next_run;
    if (t->renew_at > now && t->renew_at < next) next = t->renew_at;
    if (t->warn_at > now && t->warn_at < next) next = t->warn_at;
    return next;
}

/* ---- the staged set ---------------------------------------------------------------- */

/* What a new certificate of the key spec is compared with: the one served now, when it
 * is for all of the MD's names (one for other names is no standard to hold a new one
 * to). The watchdog has what the parent read at start (md->served: a child cannot read
 * domains/); the parent at activation, and mdctl, read domains/ themselves. */
static const md_cert_facts_t *replaced_facts(md_store_t *store, const md_t *md, int spec_index,
                                             apr_pool_t *p)
{
    const md_served_t *served;
    apr_array_header_t *chain;
    md_cert_facts_t *facts;
    int i;

    if (md->served) {
        served = spec_index < md->served->nelts
                 ? APR_ARRAY_IDX(md->served, spec_index, const md_served_t *) : NULL;
        if (!served || md->state != MD_S_COMPLETE) return NULL;
        facts = apr_pcalloc(p, sizeof(*facts));
        facts->not_before = served->not_before;
        facts->not_after = served->not_after;
        return facts;
    }
    if (md_store_load_chain(&chain, store, MD_SG_DOMAINS, md->name,
                            md_pkey_file_name(md_pkey_spec_at(md, spec_index), MD_FN_PUBCERT, p),
                            p) != APR_SUCCESS
        || !chain->nelts
        || md_cert_facts_of(&facts, APR_ARRAY_IDX(chain, 0, md_cert_t *), p) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; i < md->domains->nelts; ++i) {
        if (!md_san_covers(facts->sans, APR_ARRAY_IDX(md->domains, i, const char *))) return NULL;
    }
    return facts;
}

apr_status_t md_renew_chain_check(const char **preason, md_store_t *store, const md_t *md,
                                  int spec_index, const md_pkey_t *key,
                                  const apr_array_header_t *chain, apr_pool_t *p)
{
    md_cert_check_t check;

    memset(&check, 0, sizeof(check));
    check.names = md->domains;
    check.pkey = key;
    check.now = apr_time_now();
    check.replaced = replaced_facts(store, md, spec_index, p);
    return md_cert_check_chain(preason, &check, chain, p);
}

/* The staged certificate of a key spec: APR_ENOENT when it or its key is missing, else
 * what the check says of it (it may have been staged long ago, or by someone else: the
 * children own staging/). */
static apr_status_t spec_check(const char **preason, md_store_t *store, md_store_group_t group,
                               const md_t *md, int spec_index, apr_pool_t *p)
{
    const md_pkey_spec_t *spec = md_pkey_spec_at(md, spec_index);
    apr_array_header_t *chain;
    md_pkey_t *key;

    *preason = NULL;
    if (md_store_load_chain(&chain, store, group, md->name,
                            md_pkey_file_name(spec, MD_FN_PUBCERT, p), p) != APR_SUCCESS
        || chain->nelts == 0
        || md_store_load_pkey(&key, store, group, md->name,
                              md_pkey_file_name(spec, MD_FN_PRIVKEY, p), p) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    return md_renew_chain_check(preason, store, md, spec_index, key, chain, p);
}

int md_renew_spec_staged(md_store_t *store, const md_t *md, int spec_index, apr_pool_t *p)
{
    const char *why;

    return spec_check(&why, store, MD_SG_STAGING, md, spec_index, p) == APR_SUCCESS;
}

apr_status_t md_renew_set_check(const char **preason, md_store_t *store, md_store_group_t group,
                                const md_t *md, apr_pool_t *p)
{
    apr_status_t rv;
    const char *why;
    int i;

    *preason = NULL;
    if (md_store_exists(store, group, md->name, MD_FN_MD, p) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        rv = spec_check(&why, store, group, md, i, p);
        if (rv == APR_SUCCESS) continue;
        if (why) *preason = apr_psprintf(p, "the staged %s certificate %s",
                                         md_pkey_spec_name(md_pkey_spec_at(md, i)), why);
        return rv;
    }
    return APR_SUCCESS;
}

int md_renew_staging_complete(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *why;

    return md_renew_set_check(&why, store, MD_SG_STAGING, md, p) == APR_SUCCESS;
}

apr_array_header_t *md_renew_staged_files(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *files = apr_array_make(p, 6, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(files, const char *) = MD_FN_MD;
    /* the job that made the set goes along: status shows when the last renewal was */
    if (md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_JOB, p) == APR_SUCCESS) {
        APR_ARRAY_PUSH(files, const char *) = MD_FN_JOB;
    }
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        APR_ARRAY_PUSH(files, const char *) = md_pkey_file_name(md_pkey_spec_at(md, i), MD_FN_PRIVKEY, p);
        APR_ARRAY_PUSH(files, const char *) = md_pkey_file_name(md_pkey_spec_at(md, i), MD_FN_PUBCERT, p);
    }
    return files;
}
