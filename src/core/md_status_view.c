/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The snapshot parsed once into plain records (md_status_md_t) that request threads
 * read without locks: nothing in a view changes after md_status_view_load(). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "md_json_keys.h"
#include "md_status.h"
#include "md_util.h"
#include "md_time.h"

#define MD_VIEW_MAX_SIZE (1024 * 1024 * 1024)

static const char *dup_s(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

static apr_time_t get_time(const md_json_t *j, const char *k1, const char *k2, const char *k3)
{
    return md_time_parse(md_json_gets(j, k1, k2, k3, NULL));
}

static md_status_cert_t *cert_from_json(const char *name, const md_json_t *j, apr_pool_t *p)
{
    md_status_cert_t *c = apr_pcalloc(p, sizeof(*c));

    c->name = apr_pstrdup(p, name);
    c->valid_from = get_time(j, MD_KEY_VALID, MD_KEY_FROM, NULL);
    c->valid_until = get_time(j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    c->serial = dup_s(p, md_json_gets(j, MD_KEY_SERIAL, NULL));
    c->sha256 = dup_s(p, md_json_gets(j, MD_KEY_SHA256_FINGERPRINT, NULL));
    c->issuer = dup_s(p, md_json_gets(j, MD_KEY_ISSUER_NAME, NULL));
    c->ari_id = dup_s(p, md_json_gets(j, MD_KEY_ARI_CERT_ID, NULL));
    c->ocsp_status = dup_s(p, md_json_gets(j, MD_KEY_OCSP, MD_KEY_STATUS, NULL));
    c->ocsp_from = get_time(j, MD_KEY_OCSP, MD_KEY_VALID, MD_KEY_FROM);
    c->ocsp_until = get_time(j, MD_KEY_OCSP, MD_KEY_VALID, MD_KEY_UNTIL);
    c->ocsp_errors = (int)md_json_getl(j, MD_KEY_OCSP, MD_KEY_RENEWAL, MD_KEY_ERRORS, NULL);
    c->ocsp_responder = dup_s(p, md_json_gets(j, MD_KEY_OCSP, MD_KEY_URL, NULL));
    return c;
}

/* The certificates of a "cert" object: every member but "valid" is one. */
static apr_array_header_t *certs_from_json(const md_json_t *certs, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(md_status_cert_t *));
    apr_array_header_t *names;
    int i;

    if (!certs) return a;
    names = md_json_keys(certs, p, NULL);
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        md_json_t *cj = md_json_getj(certs, name, NULL);
        if (strcmp(name, MD_KEY_VALID) && md_json_is_object(cj, NULL)) {
            APR_ARRAY_PUSH(a, md_status_cert_t *) = cert_from_json(name, cj, p);
        }
    }
    return a;
}

static void renewal_from_json(md_status_md_t *m, const md_json_t *r, apr_pool_t *p)
{
    m->has_job = 1;
    m->finished = md_json_getb(r, MD_KEY_FINISHED, NULL);
    m->errors = (int)md_json_getl(r, MD_KEY_ERRORS, NULL);
    m->next_run = get_time(r, MD_KEY_NEXT_RUN, NULL, NULL);
    m->last_run = get_time(r, MD_KEY_LAST_RUN, NULL, NULL);
    m->last_status = md_json_getl(r, MD_KEY_LAST, MD_KEY_STATUS, NULL);
    m->last_status_descr = dup_s(p, md_json_gets(r, MD_KEY_LAST, MD_KEY_STATUS_DESCR, NULL));
    m->last_problem = dup_s(p, md_json_gets(r, MD_KEY_LAST, MD_KEY_PROBLEM, NULL));
    m->last_detail = dup_s(p, md_json_gets(r, MD_KEY_LAST, MD_KEY_DETAIL, NULL));
    m->staged = certs_from_json(md_json_getj(r, MD_KEY_CERT, NULL), p);
}

/* "store-damage": [{path, problem}] as "path: problem" lines. */
static apr_array_header_t *damage_from_json(const md_json_t *list, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 1, sizeof(const char *));
    apr_size_t i;

    for (i = 0; list && i < md_json_array_len(list); ++i) {
        const md_json_t *e = md_json_array_at(list, i);
        APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(p, md_json_gets(e, MD_KEY_PATH, NULL), ": ",
                                                      md_json_gets(e, MD_KEY_PROBLEM, NULL), NULL);
    }
    return a;
}

/* An MD's record from its entry, parsed (j) and as text. */
static md_status_md_t *view_md_from_json(const md_json_t *j, const char *text, apr_pool_t *p,
                                         apr_pool_t *ptemp)
{
    md_status_md_t *m = apr_pcalloc(p, sizeof(*m));
    md_json_t *renewal = md_json_getj(j, MD_KEY_RENEWAL, NULL);

    m->name = dup_s(p, md_json_gets(j, MD_KEY_NAME, NULL));
    m->domains = md_json_getsa(j, p, MD_KEY_DOMAINS, NULL);
    m->state = (int)md_json_getl(j, MD_KEY_STATE, NULL);
    m->state_descr = dup_s(p, md_json_gets(j, MD_KEY_STATE_DESCR, NULL));
    m->ca_url = dup_s(p, md_json_gets(j, MD_KEY_CA, MD_KEY_URL, NULL));
    if (!m->ca_url) {
        apr_array_header_t *urls = md_json_getsa(j, ptemp, MD_KEY_CA, MD_KEY_URLS, NULL);
        if (urls->nelts) m->ca_url = apr_pstrdup(p, APR_ARRAY_IDX(urls, 0, const char *));
    }
    m->renew_mode = (int)md_json_getl(j, MD_KEY_RENEW_MODE, NULL);
    m->watched = md_json_getb(j, MD_KEY_WATCHED, NULL);
    m->stapling = md_json_getb(j, MD_KEY_STAPLING, NULL);
    m->renew = md_json_getb(j, MD_KEY_RENEW, NULL);
    m->valid_from = get_time(j, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_FROM);
    m->valid_until = get_time(j, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_UNTIL);
    m->renew_at = get_time(j, MD_KEY_RENEW_AT, NULL, NULL);
    m->renew_reason = dup_s(p, md_json_gets(j, MD_KEY_RENEW_REASON, NULL));
    m->last_renewal = get_time(j, MD_KEY_LAST_RENEWAL, NULL, NULL);
    m->certs = certs_from_json(md_json_getj(j, MD_KEY_CERT, NULL), p);
    m->staged = apr_array_make(p, 1, sizeof(md_status_cert_t *));
    m->damage = damage_from_json(md_json_getj(j, MD_KEY_STORE_DAMAGE, NULL), p);
    if (renewal) renewal_from_json(m, renewal, p);
    m->json = apr_pstrdup(p, text);
    return m;
}

static const char *lower(const char *s, apr_pool_t *p)
{
    char *l = apr_pstrdup(p, s), *c;

    for (c = l; *c; ++c) *c = (char)apr_tolower(*c);
    return l;
}

/* Names in lower case; an MD's own name wins over another MD's domain. */
static void index_md(apr_hash_t *h, md_status_md_t *m, apr_pool_t *p)
{
    const char *key;
    int i;

    apr_hash_set(h, lower(m->name, p), APR_HASH_KEY_STRING, m);
    for (i = 0; i < m->domains->nelts; ++i) {
        key = lower(APR_ARRAY_IDX(m->domains, i, const char *), p);
        if (!apr_hash_get(h, key, APR_HASH_KEY_STRING)) apr_hash_set(h, key, APR_HASH_KEY_STRING, m);
    }
}

apr_status_t md_status_view_load(md_status_view_t **pview, const char *path, apr_pool_t *p)
{
    md_status_view_t *v = apr_pcalloc(p, sizeof(*v));
    apr_array_header_t *entries;
    md_json_t *head, *e;
    apr_finfo_t info;
    apr_pool_t *ptemp, *pentry;
    apr_status_t rv;
    int i, k;

    *pview = NULL;
    /* the file's text and each entry's parse go back to malloc, not to the view's
     * allocator, which lives as long as the view */
    apr_pool_create_unmanaged_ex(&ptemp, NULL, NULL);
    /* 1. the file, and what identifies this version of it */
    rv = apr_stat(&info, path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE, ptemp);
    if (rv == APR_SUCCESS) rv = md_status_snap_read(&head, &entries, path, ptemp);
    if (rv != APR_SUCCESS) goto leave;
    v->pool = p;
    v->mtime = info.mtime;
    v->size = info.size;
    v->inode = info.inode;
    v->written = md_time_parse(md_json_gets(head, MD_KEY_WRITTEN, NULL));
    for (k = 0; k < MD_STAT_COUNT; ++k) {
        long n = md_json_getl(head, MD_KEY_STATS, md_stats_name((md_stat_t)k), NULL);
        v->stats[k] = n > 0 ? (apr_uint64_t)n : 0;
    }
    /* 2. one record per MD, found by name or domain; each entry's parse is gone before
     *    the next one's, so a view of 10,000 MDs costs its records, not a JSON tree */
    v->mds = apr_array_make(p, entries->nelts + 1, sizeof(md_status_md_t *));
    v->by_name = apr_hash_make(p);
    apr_pool_create(&pentry, ptemp);
    for (i = 0; i < entries->nelts; ++i) {
        const char *text = APR_ARRAY_IDX(entries, i, const char *);
        md_status_md_t *m;
        apr_pool_clear(pentry);
        if (md_json_parse(&e, text, strlen(text), pentry) != APR_SUCCESS) continue;
        m = view_md_from_json(e, text, p, pentry);
        if (!m->name) continue;
        APR_ARRAY_PUSH(v->mds, md_status_md_t *) = m;
        index_md(v->by_name, m, p);
    }
    *pview = v;
leave:
    apr_pool_destroy(ptemp);
    return rv;
}

int md_status_view_is_current(const md_status_view_t *view, const apr_finfo_t *finfo)
{
    return view && finfo->mtime == view->mtime && finfo->size == view->size
           && finfo->inode == view->inode;
}

const md_status_md_t *md_status_view_find(const md_status_view_t *view, const char *name,
                                          apr_pool_t *p)
{
    const md_status_md_t *m;
    const char *dot;

    if (!view || !name || !*name) return NULL;
    name = lower(name, p);
    m = apr_hash_get(view->by_name, name, APR_HASH_KEY_STRING);
    dot = strchr(name, '.');
    if (!m && dot) m = apr_hash_get(view->by_name, apr_pstrcat(p, "*", dot, NULL), APR_HASH_KEY_STRING);
    return m;
}

static md_json_t *public_cert_json(const md_status_cert_t *c, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(md_time_print(c->valid_from, p), j, MD_KEY_VALID, MD_KEY_FROM, NULL);
    md_json_sets(md_time_print(c->valid_until, p), j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    if (c->serial) md_json_sets(c->serial, j, MD_KEY_SERIAL, NULL);
    if (c->sha256) md_json_sets(c->sha256, j, MD_KEY_SHA256_FINGERPRINT, NULL);
    return j;
}

static md_json_t *public_set_json(const apr_array_header_t *certs, apr_time_t from,
                                  apr_time_t until, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    int i;

    if (from && until) {
        md_json_sets(md_time_print(from, p), j, MD_KEY_VALID, MD_KEY_FROM, NULL);
        md_json_sets(md_time_print(until, p), j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    }
    for (i = 0; i < certs->nelts; ++i) {
        const md_status_cert_t *c = APR_ARRAY_IDX(certs, i, const md_status_cert_t *);
        md_json_setj(public_cert_json(c, p), j, c->name, NULL);
    }
    return j;
}

md_json_t *md_status_public_json(const md_status_md_t *m, apr_pool_t *p)
{
    md_json_t *j = public_set_json(m->certs, m->valid_from, m->valid_until, p);
    apr_time_t from = 0, until = 0;
    int i;

    if (!m->renew || !m->has_job) return j;
    for (i = 0; i < m->staged->nelts; ++i) {
        const md_status_cert_t *c = APR_ARRAY_IDX(m->staged, i, const md_status_cert_t *);
        if (!from || c->valid_from > from) from = c->valid_from;
        if (!until || c->valid_until < until) until = c->valid_until;
    }
    md_json_setj(public_set_json(m->staged, from, until, p), j, MD_KEY_RENEWAL, MD_KEY_CERT, NULL);
    return j;
}
