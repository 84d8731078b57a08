/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The managed domain (MD): the names that share one certificate per key spec, and
 * the settings that say how it is obtained. Stored as md.json in today's format. */
#ifndef md_h
#define md_h

#include <apr_pools.h>
#include <apr_tables.h>
#include "md_crypt.h"
#include "md_json.h"
#include "md_time.h"

typedef enum {
    MD_S_UNKNOWN = 0, MD_S_INCOMPLETE = 1, MD_S_COMPLETE = 2, MD_S_EXPIRED_DEPRECATED = 3,
    MD_S_ERROR = 4, MD_S_MISSING_INFORMATION = 5,
} md_state_t;

typedef enum { MD_RENEW_MANUAL = 0, MD_RENEW_AUTO = 1, MD_RENEW_ALWAYS = 2 } md_renew_mode_t;
typedef enum { MD_REQUIRE_OFF, MD_REQUIRE_TEMPORARY, MD_REQUIRE_PERMANENT } md_require_t;
typedef enum { MD_MEMBERS_AUTO = 0, MD_MEMBERS_MANUAL = 1 } md_members_t;

/* A served certificate as the parent read it at start: what the watchdog, the status and
 * the start-up checks need of it. The parsed certificate itself is not kept: it costs
 * about 11 KB of memory, a thousand MDs 11 MB. */
typedef struct md_served_t {
    const char *name;               /* the key spec's name, or the static file's index */
    apr_time_t not_before, not_after;
    const char *ari_id;             /* RFC 9773 certificate id; NULL without one */
    const char *ocsp_file;          /* its OCSP response's file in ocsp/<md>/; NULL */
    const char *json;               /* the status "cert" JSON of it, compact text: a pool
                                     * string costs less than a JSON tree, 1000s of times */
} md_served_t;

typedef struct md_t {
    const char *name;                 /* the first name; the store directory */
    apr_array_header_t *domains;      /* const char*: DNS names, wildcards, IP addresses */
    apr_array_header_t *contacts;     /* const char*: "mailto:..." */
    md_members_t members;             /* MDMembers auto|manual */
    md_renew_mode_t renew_mode;
    md_timeslice_t renew_window;
    md_timeslice_t warn_window;
    md_require_t require_https;
    int must_staple;
    int stapling;
    apr_array_header_t *pkey_specs;   /* md_pkey_spec_t*; empty means one default RSA key */
    apr_array_header_t *ca_urls;      /* const char*: ACME directory URLs, in failover order */
    const char *ca_effective;         /* the CA in use now */
    const char *ca_account;           /* account id in the store, once known */
    const char *ca_agreement;         /* "accepted" or a ToS URL */
    apr_array_header_t *ca_challenges;/* const char*: allowed types, in order; empty = auto */
    const char *ca_certs;             /* MDCACertificateFile */
    const char *proxy_url;
    const char *proxy_ca_certs;       /* MDHttpProxyCACertificateFile */
    const char *preferred_chain;      /* MDPreferredChain: issuer CN of the chain to pick */
    const char *profile;
    int profile_mandatory;
    int ari_renewals;
    const char *dns01_cmd;
    apr_interval_time_t dns01_wait;   /* MDChallengeDns01Wait: DNS propagation, before the CA looks */
    int preflight;                    /* MDPreflight: check the names before ordering */
    int preflight_http;               /* MDPreflight http-probe=on|off */
    apr_array_header_t *preflight_caa;/* const char*: the CA's CAA identities (caa=), or NULL */
    const char *eab_kid, *eab_hmac;
    apr_array_header_t *cert_files;   /* static certificates (MDCertificateFile) */
    apr_array_header_t *pkey_files;
    apr_array_header_t *acme_tls_1_names; /* names whose vhosts offer acme-tls/1 */
    md_state_t state;
    const char *state_descr;
    const char *defn_name;            /* where it was defined, for messages */
    unsigned int defn_line;
    int watched;                      /* renewed by us (in use, not static, mode allows) */
    /* The served certificates (md_served_t*), one per key spec (NULL where there is none)
     * or per static file, read once by the parent at start: domains/ is root-only, and
     * the watchdog (ARI, renew time) and the status need them. NULL when not read. */
    apr_array_header_t *served;
} md_t;

md_t *md_create(apr_pool_t *p, const char *name);
md_t *md_copy(apr_pool_t *p, const md_t *md);
int md_pkey_spec_count(const md_t *md);
/* The i-th key spec; with none configured, the default RSA 2048 spec. */
const md_pkey_spec_t *md_pkey_spec_at(const md_t *md, int i);
int md_contains(const md_t *md, const char *name);
/* Do the configured names/keys/staple settings differ in a way that needs a new certificate? */
int md_needs_new_cert_for(const md_t *configured, const md_t *stored);
/* Of the stored MDs (md_t*) no configured MD uses any more, the one a renamed or changed
 * configured MD carries on from: the one sharing the most names with it (the first of
 * equals); NULL when none shares a name. */
const md_t *md_rename_pick(const md_t *configured, const apr_array_header_t *unclaimed);

md_json_t *md_to_json(const md_t *md, apr_pool_t *p);
apr_status_t md_from_json(md_t **pmd, const md_json_t *json, apr_pool_t *p);

const char *md_state_descr(md_state_t state);

#endif
