/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Preflight: before an order (and after a failed one), what this server can see for
 * itself that would make the CA's validation fail, so that a CA's limit on failed
 * validations is not spent on it (docs/directives/MDPreflight.md):
 *   - a wildcard name without a usable dns-01;
 *   - a name without an address in DNS (no A, no AAAA);
 *   - CAA records (RFC 8659, climbing the tree) that do not allow the CA;
 *   - a name validated by http-01 whose port 80, through its address in DNS, does not
 *     reach this server (a probe token under /.well-known/acme-challenge/).
 * A check that cannot be made (the resolver does not answer) never fails the preflight:
 * it is noted. The decisions are pure functions; DNS and HTTP come through interfaces. */
#ifndef md_preflight_h
#define md_preflight_h

#include "md.h"
#include "md_dns.h"
#include "md_http.h"
#include "md_result.h"
#include "md_store.h"

/* The problem types (md_result_t.problem, renewal.last.problem in the status). */
#define MD_PROBLEM_PREFLIGHT          "urn:org:apache:httpd:preflight:"
#define MD_PROBLEM_PREFLIGHT_DNS      MD_PROBLEM_PREFLIGHT "dns"
#define MD_PROBLEM_PREFLIGHT_CAA      MD_PROBLEM_PREFLIGHT "caa"
#define MD_PROBLEM_PREFLIGHT_HTTP     MD_PROBLEM_PREFLIGHT "http"
/* a wildcard without dns-01: today's type for it, which monitoring keys on */
#define MD_PROBLEM_PREFLIGHT_WILDCARD MD_PROBLEM_CHALLENGE_MISMATCH

/* Is problem one of the preflight's (urn:org:apache:httpd:preflight:*)? */
int md_preflight_is_problem(const char *problem);

/* ---- CAA (RFC 8659), pure ---------------------------------------------------------- */

typedef enum {
    MD_CAA_ALLOWED,             /* no relevant record, or one naming the CA */
    MD_CAA_FORBIDDEN,           /* issue/issuewild records, none naming the CA */
    MD_CAA_CRITICAL,            /* a record with the critical flag and a tag CAs do not know */
} md_caa_verdict_t;

/* The issuer domain of an issue/issuewild value, lower case, without parameters or a
 * trailing dot; "" when the value names none (";": nobody may issue). */
const char *md_caa_issuer(const char *value, apr_pool_t *p);
/* May a CA with one of the identities ids (const char*, e.g. "letsencrypt.org") issue
 * for a name (wildcard: for "*.name"), given its relevant CAA set rrs (md_dns_rr_t*)?
 * *pwhy tells which records decided (for messages); NULL when allowed. */
md_caa_verdict_t md_caa_evaluate(const apr_array_header_t *rrs, const apr_array_header_t *ids,
                                 int wildcard, const char **pwhy, apr_pool_t *p);
/* The relevant CAA set of name (RFC 8659 3): its own CAA records, else its parent's,
 * up to the top-level domain. *powner is the name that holds them (NULL when none does).
 * A status other than APR_SUCCESS when a look-up gave no answer (*pwhy says why). */
apr_status_t md_caa_lookup(apr_array_header_t **prrs, const char **powner, const char **pwhy,
                           md_dns_t *dns, const char *name, apr_pool_t *p);
/* The CAA identities of the CA at a directory URL: those configured when there are
 * any, else those of a well-known CA (Let's Encrypt: letsencrypt.org, ...); NULL when
 * neither: then CAA is not checked. */
const apr_array_header_t *md_caa_ids_for(const apr_array_header_t *configured, const char *ca_url,
                                         apr_pool_t *p);

/* ---- decisions, pure --------------------------------------------------------------- */

/* The challenge type the renewal will use for name: the first of types (in preference
 * order) that works for it (wildcards: only dns-01; dns-01 only with a program). NULL
 * when none does. */
const char *md_preflight_chall_type(const md_t *md, const apr_array_header_t *types,
                                    const char *name);
/* The port the probe asks at addr: local_port (what MDPortMap maps 80 to) when addr is
 * one of this machine's own addresses (local_addrs, text), else 80, as the CA does. */
int md_preflight_probe_port(const char *addr, const apr_array_header_t *local_addrs,
                            int local_port);

/* ---- the checks -------------------------------------------------------------------- */

typedef struct {
    const md_t *md;
    const apr_array_header_t *challenge_types;  /* usable types, in preference order */
    const apr_array_header_t *caa_ids;  /* the CA's CAA identities; NULL: CAA not checked */
    md_dns_t *dns;                      /* NULL: no DNS, CAA or probe checks */
    int http_probe;                     /* probe the names validated by http-01 */
    md_store_t *store;                  /* where the probe token goes (challenges/<name>/) */
    md_http_t *http;                    /* for the probe: no proxy; config.host set per request */
    int local_port;                     /* the local port of public port 80 (MDPortMap) */
    const apr_array_header_t *local_addrs;  /* this machine's addresses, text */
    apr_array_header_t *notes;          /* out (const char*): checks that could not be made */
} md_preflight_t;

/* Run the checks for every name of pf->md. APR_SUCCESS when nothing fails (pf->notes
 * may say what could not be checked); else the status of the first failure, with
 * result->problem its type and result->detail every failing name, what is wrong and
 * what to do. */
apr_status_t md_preflight_run(md_preflight_t *pf, md_result_t *result, apr_pool_t *p);

/* The addresses of this machine's network interfaces, as text. */
apr_array_header_t *md_preflight_local_addrs(apr_pool_t *p);

/* The probe's client: straight to the name's address, never through a proxy, short
 * timeouts, a small body; cancel (or NULL) stops it as the renewal's requests stop. */
md_http_t *md_preflight_http(const char *user_agent, volatile apr_uint32_t *cancel,
                             apr_pool_t *p);

#endif
