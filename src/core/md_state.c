/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The state of an MD from its served files in domains/: complete when every key spec has
 * a whole certificate for all of its names and a key, and the configuration asks for
 * nothing the certificates lack. */
#include <string.h>
#include <apr_strings.h>

#include "md_state.h"
#include "md_crypt.h"
#include "md_json.h"
#include "md_status.h"
#include "md_util.h"

/* Is a served file there but unusable? Then it is reported (with its path, in the log
 * and the status): the MD falls back to a new certificate instead of handing mod_ssl a
 * file it would stop the server for. */
static int served_file_ok(md_store_t *store, md_t *md, const char *file, apr_status_t rv,
                          apr_pool_t *p)
{
    if (rv == APR_SUCCESS) return 1;
    if (!APR_STATUS_IS_ENOENT(rv)) {
        md_store_damage_report(store, MD_SG_DOMAINS, md->name, file, "not usable by mod_ssl", p);
        md_store_damage_note(store, MD_SG_DOMAINS, md->name, file,
                             "not served; the MD gets a new certificate", p);
    }
    return 0;
}

/* Is the text whole PEM of the kind: blocks whose armour names it ("CERTIFICATE",
 * "PRIVATE KEY"), each BEGIN with its END, and nothing cut off after the last one? */
static int pem_whole(const char *pem, const char *kind)
{
    const char *begin, *line_end, *end, *close = pem;
    int blocks = 0;

    for (begin = strstr(pem, "-----BEGIN "); begin; begin = strstr(close, "-----BEGIN ")) {
        line_end = strchr(begin, '\n');
        if (!line_end || !strstr(begin, kind) || strstr(begin, kind) > line_end) return 0;
        end = strstr(line_end, "-----END ");
        close = end ? strstr(end + 9, "-----") : NULL;
        if (!close) return 0;
        close += 5;
        ++blocks;
    }
    return blocks > 0;
}

/* A served file that looks whole: parsing every key and (in the dry run) every
 * certificate here would double what mod_ssl spends at start; a torn or emptied file is
 * caught, so that mod_ssl is not handed it. */
static apr_status_t served_file_check(const char **ppem, md_store_t *store, md_t *md,
                                      const char *file, const char *kind, apr_pool_t *p)
{
    const char *pem;
    apr_status_t rv = md_store_load_text(&pem, store, MD_SG_DOMAINS, md->name, file, p);

    if (ppem) *ppem = pem;
    if (rv != APR_SUCCESS || pem_whole(pem, kind)) return rv;
    md_store_damage_report(store, MD_SG_DOMAINS, md->name, file,
                           apr_psprintf(p, "not whole PEM of a %s (truncated?)", kind), p);
    return APR_EINVAL;
}

/* The served certificate of one key spec, read once and recorded in md->served (pconf)
 * for the watchdog and the status; *pcovers: it is for all of the MD's names. The file
 * must be whole PEM; of it only the leaf's facts are read (md_cert_facts_t: no key
 * decoded), which is most of what a start with many certificates costs us. */
static apr_status_t served_chain_read(int *pcovers, md_store_t *store, md_t *md,
                                      const md_pkey_spec_t *spec, apr_pool_t *pconf, apr_pool_t *p)
{
    const char *file = md_pkey_file_name(spec, MD_FN_PUBCERT, p), *pem;
    md_cert_facts_t *facts;
    apr_status_t rv;
    int k;

    *pcovers = 0;
    rv = served_file_check(&pem, store, md, file, "CERTIFICATE", p);
    if (rv != APR_SUCCESS) return rv;
    if (md_cert_facts_from_pem(&facts, pem, strlen(pem), 0, p) != APR_SUCCESS) {
        md_store_damage_report(store, MD_SG_DOMAINS, md->name, file,
                               "no valid certificate in PEM", p);
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(md->served, md_served_t *) = md_status_served_of(md_pkey_spec_name(spec),
                                                                    facts, pem, pconf, p);
    for (k = 0; k < md->domains->nelts; ++k) {
        if (!md_san_covers(facts->sans, APR_ARRAY_IDX(md->domains, k, const char *))) {
            return APR_SUCCESS;
        }
    }
    *pcovers = 1;
    return APR_SUCCESS;
}

/* Does every key spec have a certificate and key in domains/? The serving pass parses
 * each certificate once (md->served, names covered); the dry run only looks at the
 * files, since mod_ssl parses them right after anyway. Damaged files are reported to the
 * store. When not, *pdescr (in pconf) says, in today's words, what the first key spec
 * lacking something lacks. */
static int state_complete(md_t *md, md_store_t *store, int dry_run, const char **pdescr,
                          apr_pool_t *pconf, apr_pool_t *p)
{
    const char *cert, *key;
    int i, covers = 1, complete = 1;
    apr_status_t rv, rv_key;

    if (!dry_run) md->served = apr_array_make(pconf, 2, sizeof(md_served_t *));
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        const md_pkey_spec_t *spec = md_pkey_spec_at(md, i);
        cert = md_pkey_file_name(spec, MD_FN_PUBCERT, p);
        key = md_pkey_file_name(spec, MD_FN_PRIVKEY, p);
        rv = dry_run ? served_file_check(NULL, store, md, cert, "CERTIFICATE", p)
                     : served_chain_read(&covers, store, md, spec, pconf, p);
        if (!dry_run && rv != APR_SUCCESS) APR_ARRAY_PUSH(md->served, md_served_t *) = NULL;
        rv_key = served_file_check(NULL, store, md, key, "PRIVATE KEY", p);
        if (!served_file_ok(store, md, cert, rv, p)
            || !served_file_ok(store, md, key, rv_key, p) || !covers) {
            /* today's texts, of the first key spec that lacks something (per spec name) */
            if (complete) *pdescr = apr_psprintf(pconf, "certificate(%s) %s",
                                                 md_pkey_spec_name(spec),
                                                 rv != APR_SUCCESS || rv_key != APR_SUCCESS
                                                 ? "is missing" : "does not cover all domains.");
            complete = 0;
        }
    }
    return complete;
}

/* The state of an MD from the served files: complete when every key spec has a
 * certificate for all names, and nothing changed that needs a new one. */
void md_state_update(md_t *md, md_store_t *store, int dry_run, const char **pstored,
                     apr_pool_t *pconf, apr_pool_t *p)
{
    md_json_t *stored_json;
    md_t *stored = NULL;
    const char *descr = NULL;

    if (pstored) *pstored = NULL;
    md->state = MD_S_INCOMPLETE;
    md->served = NULL;
    if (md->cert_files->nelts) {
        md->state = MD_S_COMPLETE;  /* static files: checked to exist at configuration */
        if (!dry_run) md->served = md_status_served_load(md, NULL, pconf, p);
    }
    else if (store) {
        if (md_store_load_json(&stored_json, store, MD_SG_DOMAINS, md->name, MD_FN_MD, p) == APR_SUCCESS
            && md_from_json(&stored, stored_json, p) == APR_SUCCESS) {
            md->ca_account = apr_pstrdup(pconf, stored->ca_account);
            md->ca_effective = apr_pstrdup(pconf, stored->ca_effective);
            if (pstored) *pstored = md_json_dump(stored_json, MD_JSON_INDENT, p);
        }
        if (!state_complete(md, store, dry_run, &descr, pconf, p)) {
            /* descr says which */
        }
        else if (stored && md_needs_new_cert_for(md, stored)) {
            descr = apr_psprintf(pconf, "certificate(%s) does not match the configuration "
                                 "(names, key types or must-staple changed)",
                                 md_pkey_spec_name(md_pkey_spec_at(md, 0)));
        }
        else md->state = MD_S_COMPLETE;
    }
    md->state_descr = descr ? descr : md_state_descr(md->state);
}
