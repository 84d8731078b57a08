/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Preflight checks before an order (md_preflight.h). */
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "md_preflight.h"
#include "md_log.h"
#include "md_util.h"
#include "md_names.h"

#define MD_PREFLIGHT_PATH "/.well-known/acme-challenge/"
#define MD_CAA_CRITICAL_FLAG 0x80
#define MD_PROBE_TIMEOUT apr_time_from_sec(10)

int md_preflight_is_problem(const char *problem)
{
    return problem && !strncmp(problem, MD_PROBLEM_PREFLIGHT, sizeof(MD_PROBLEM_PREFLIGHT) - 1);
}

/* ---- CAA ------------------------------------------------------------------------- */

/* Tags a CA knows (RFC 8659, RFC 8657's parameters live inside issue values, RFC 9495,
 * BIMI's issuevmc): a critical record with another tag stops every CA. */
static int caa_tag_known(const char *tag)
{
    static const char *const KNOWN[] = { "issue", "issuewild", "iodef", "contactemail",
                                         "contactphone", "issuemail", "issuevmc" };
    apr_size_t i;

    for (i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); ++i) {
        if (!strcasecmp(tag, KNOWN[i])) return 1;
    }
    return 0;
}

const char *md_caa_issuer(const char *value, apr_pool_t *p)
{
    const char *start = value, *end;
    char *issuer;
    apr_size_t len, i;

    while (*start && apr_isspace(*start)) ++start;
    end = start;
    while (*end && *end != ';' && !apr_isspace(*end)) ++end;
    len = (apr_size_t)(end - start);
    if (len && start[len - 1] == '.') --len;
    issuer = apr_pstrndup(p, start, len);
    for (i = 0; issuer[i]; ++i) issuer[i] = (char)apr_tolower(issuer[i]);
    return issuer;
}

static int caa_names_ca(const md_dns_rr_t *rr, const apr_array_header_t *ids, apr_pool_t *p)
{
    const char *issuer = md_caa_issuer(rr->caa_value, p);

    return *issuer && md_array_str_index(ids, issuer, 0) >= 0;
}

/* The records with tag, and how they read: issue "a", issue ";" */
static apr_array_header_t *caa_with_tag(const char **ptext, const apr_array_header_t *rrs,
                                        const char *tag, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(md_dns_rr_t *));
    apr_array_header_t *texts = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; i < rrs->nelts; ++i) {
        md_dns_rr_t *rr = APR_ARRAY_IDX(rrs, i, md_dns_rr_t *);
        if (strcasecmp(rr->caa_tag, tag)) continue;
        APR_ARRAY_PUSH(out, md_dns_rr_t *) = rr;
        APR_ARRAY_PUSH(texts, const char *) = apr_psprintf(p, "%s \"%s\"", tag, rr->caa_value);
    }
    *ptext = md_array_str_join(texts, ", ", p);
    return out;
}

md_caa_verdict_t md_caa_evaluate(const apr_array_header_t *rrs, const apr_array_header_t *ids,
                                 int wildcard, const char **pwhy, apr_pool_t *p)
{
    apr_array_header_t *relevant;
    const char *text;
    int i;

    *pwhy = NULL;
    /* 1. a critical record that no CA understands forbids everything (RFC 8659 4.5) */
    for (i = 0; i < rrs->nelts; ++i) {
        md_dns_rr_t *rr = APR_ARRAY_IDX(rrs, i, md_dns_rr_t *);
        if ((rr->caa_flags & MD_CAA_CRITICAL_FLAG) && !caa_tag_known(rr->caa_tag)) {
            *pwhy = apr_psprintf(p, "the record '%u %s \"%s\"' is marked critical with a tag "
                                 "CAs do not know", rr->caa_flags, rr->caa_tag, rr->caa_value);
            return MD_CAA_CRITICAL;
        }
    }
    /* 2. wildcards: issuewild when there is any, else issue; other names: issue */
    relevant = wildcard ? caa_with_tag(&text, rrs, "issuewild", p) : NULL;
    if (!relevant || !relevant->nelts) relevant = caa_with_tag(&text, rrs, "issue", p);
    if (!relevant->nelts) return MD_CAA_ALLOWED;
    /* 3. allowed when one of them names the CA */
    for (i = 0; i < relevant->nelts; ++i) {
        if (caa_names_ca(APR_ARRAY_IDX(relevant, i, md_dns_rr_t *), ids, p)) return MD_CAA_ALLOWED;
    }
    *pwhy = text;
    return MD_CAA_FORBIDDEN;
}

apr_status_t md_caa_lookup(apr_array_header_t **prrs, const char **powner, const char **pwhy,
                           md_dns_t *dns, const char *name, apr_pool_t *p)
{
    const char *x = name, *dot;
    apr_status_t rv;

    *powner = NULL;
    *pwhy = NULL;
    while (x && *x) {
        rv = dns->query(prrs, pwhy, dns->baton, x, MD_DNS_CAA, p);
        if (rv != APR_SUCCESS && rv != MD_DNS_ENONAME) {
            *pwhy = apr_psprintf(p, "CAA of %s: %s", x, *pwhy ? *pwhy : "no answer");
            return rv;
        }
        if (rv == APR_SUCCESS && (*prrs)->nelts) {
            *powner = x;
            return APR_SUCCESS;
        }
        dot = strchr(x, '.');
        x = dot ? dot + 1 : NULL;
    }
    *prrs = apr_array_make(p, 1, sizeof(md_dns_rr_t *));
    return APR_SUCCESS;
}

typedef struct { const char *host, *ids; } md_known_caa_t;

/* The CAA identities the well-known CAs document for themselves. */
static const md_known_caa_t KNOWN_CAA[] = {
    { "acme-v02.api.letsencrypt.org", "letsencrypt.org" },
    { "acme-staging-v02.api.letsencrypt.org", "letsencrypt.org" },
    { "api.buypass.com", "buypass.com" },
    { "api.test4.buypass.no", "buypass.com" },
    { "acme.zerossl.com", "sectigo.com" },
    { "dv.acme-v02.api.pki.goog", "pki.goog" },
    { "dv.acme-v02.test-api.pki.goog", "pki.goog" },
    { "acme.ssl.com", "ssl.com" },
};

const apr_array_header_t *md_caa_ids_for(const apr_array_header_t *configured, const char *ca_url,
                                         apr_pool_t *p)
{
    apr_array_header_t *ids;
    apr_uri_t uri;
    apr_size_t i;

    if (configured && configured->nelts) return configured;
    if (!ca_url || apr_uri_parse(p, ca_url, &uri) != APR_SUCCESS || !uri.hostname) return NULL;
    for (i = 0; i < sizeof(KNOWN_CAA) / sizeof(KNOWN_CAA[0]); ++i) {
        if (strcasecmp(uri.hostname, KNOWN_CAA[i].host)) continue;
        ids = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(ids, const char *) = KNOWN_CAA[i].ids;
        return ids;
    }
    return NULL;
}

/* ---- decisions ------------------------------------------------------------------- */

const char *md_preflight_chall_type(const md_t *md, const apr_array_header_t *types,
                                    const char *name)
{
    int wildcard = md_dns_is_wildcard(name), i;

    for (i = 0; types && i < types->nelts; ++i) {
        const char *type = APR_ARRAY_IDX(types, i, const char *);
        int dns01 = !strcmp(type, "dns-01");
        if (dns01 && !md->dns01_cmd) continue;
        if (wildcard && !dns01) continue;
        if (dns01 || !strcmp(type, "http-01") || !strcmp(type, "tls-alpn-01")) return type;
    }
    return NULL;
}

int md_preflight_probe_port(const char *addr, const apr_array_header_t *local_addrs,
                            int local_port)
{
    if (local_port > 0 && local_addrs && md_array_str_index(local_addrs, addr, 0) >= 0) {
        return local_port;
    }
    return 80;
}

/* ---- the checks ------------------------------------------------------------------ */

typedef struct {
    md_preflight_t *pf;
    apr_array_header_t *details;        /* const char*: one per failing name */
    const char *problem;                /* of the first failure */
    apr_status_t rv;
    const char *token, *answer;         /* the http probe's */
    apr_pool_t *p;
} md_pf_run_t;

static void fail(md_pf_run_t *run, apr_status_t rv, const char *problem, const char *detail)
{
    if (!run->problem) {
        run->problem = problem;
        run->rv = rv;
    }
    APR_ARRAY_PUSH(run->details, const char *) = detail;
}

static void note(md_pf_run_t *run, const char *text)
{
    APR_ARRAY_PUSH(run->pf->notes, const char *) = text;
}

/* The name's addresses (AAAA first, as CAs try them). APR_SUCCESS also when it has
 * none (*paddrs empty, *pnx set when the name does not exist); else no answer. */
static apr_status_t addrs_lookup(apr_array_header_t **paddrs, int *pnx, md_pf_run_t *run,
                                 const char *name)
{
    static const int TYPES[] = { MD_DNS_AAAA, MD_DNS_A };
    md_dns_t *dns = run->pf->dns;
    apr_array_header_t *rrs;
    const char *why;
    apr_status_t rv;
    apr_size_t t;
    int i, nx = 0;

    *paddrs = apr_array_make(run->p, 4, sizeof(const char *));
    for (t = 0; t < sizeof(TYPES) / sizeof(TYPES[0]); ++t) {
        rv = dns->query(&rrs, &why, dns->baton, name, TYPES[t], run->p);
        if (rv == MD_DNS_ENONAME) {
            ++nx;
            continue;
        }
        if (rv != APR_SUCCESS) {
            note(run, apr_psprintf(run->p, "%s: the address of %s could not be looked up at "
                                   "%s: %s", run->pf->md->name, name, dns->server, why));
            return rv;
        }
        for (i = 0; i < rrs->nelts; ++i) {
            APR_ARRAY_PUSH(*paddrs, const char *) = APR_ARRAY_IDX(rrs, i, md_dns_rr_t *)->addr;
        }
    }
    *pnx = (nx == 2);
    return APR_SUCCESS;
}

static void check_caa(md_pf_run_t *run, const char *name)
{
    md_preflight_t *pf = run->pf;
    int wildcard = md_dns_is_wildcard(name);
    const char *base = wildcard ? name + 2 : name, *owner, *why, *ca;
    apr_array_header_t *rrs;
    md_caa_verdict_t verdict;

    if (!pf->caa_ids || !pf->caa_ids->nelts) return;
    if (md_caa_lookup(&rrs, &owner, &why, pf->dns, base, run->p) != APR_SUCCESS) {
        note(run, apr_psprintf(run->p, "%s: CAA of %s not checked: %s (at %s)", pf->md->name,
                               name, why, pf->dns->server));
        return;
    }
    verdict = md_caa_evaluate(rrs, pf->caa_ids, wildcard, &why, run->p);
    if (verdict == MD_CAA_ALLOWED) return;
    ca = md_array_str_join(pf->caa_ids, " or ", run->p);
    if (verdict == MD_CAA_CRITICAL) {
        fail(run, APR_EACCES, MD_PROBLEM_PREFLIGHT_CAA, apr_psprintf(run->p,
             "%s: the CAA records of %s forbid every CA: %s. Remove that record or its "
             "critical flag", name, owner, why));
        return;
    }
    fail(run, APR_EACCES, MD_PROBLEM_PREFLIGHT_CAA, apr_psprintf(run->p,
         "%s: the CAA records of %s (%s) do not allow the CA (%s) to issue for it. Add a "
         "record '%s. CAA 0 %s \"%s\"', or use a CA these records allow (if the CA's CAA "
         "identity is another, say so with 'MDPreflight on caa=DOMAIN')", name, owner, why,
         ca, owner, wildcard ? "issuewild" : "issue", APR_ARRAY_IDX(pf->caa_ids, 0, const char *)));
}

/* One request to addr as the CA would make it: APR_SUCCESS when it got the probe's
 * answer; else *pwhy says what came instead. */
static apr_status_t probe_addr(const char **pwhy, md_pf_run_t *run, const char *name,
                               const char *addr)
{
    md_preflight_t *pf = run->pf;
    int port = md_preflight_probe_port(addr, pf->local_addrs, pf->local_port);
    md_http_request_t req;
    md_http_response_t *resp;
    apr_status_t rv;
    char buf[100];

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = apr_psprintf(run->p, strchr(addr, ':') ? "http://[%s]:%d%s%s" : "http://%s:%d%s%s",
                           addr, port, MD_PREFLIGHT_PATH, run->token);
    pf->http->config.host = name;
    rv = md_http_perform(&resp, pf->http, &req, run->p);
    pf->http->config.host = NULL;
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(run->p, "connecting to %s port %d failed: %s%s", addr, port,
                             apr_strerror(rv, buf, sizeof(buf)),
                             (pf->local_addrs && md_array_str_index(pf->local_addrs, addr, 0) >= 0) ? ""
                             : "; if that is the address of a NAT router in front of this "
                               "server that does not loop requests from inside back "
                               "(no hairpin NAT), the probe cannot work there: "
                               "'MDPreflight on http-probe=off'");
        return rv;
    }
    if (resp->status == 200 && resp->body_len == strlen(run->answer)
        && !memcmp(resp->body, run->answer, resp->body_len)) {
        return APR_SUCCESS;
    }
    *pwhy = apr_psprintf(run->p, "%s port %d answered HTTP %d%s: another server answers "
                         "there", addr, port, resp->status,
                         resp->status == 200 ? " with other content" : "");
    return APR_EACCES;
}

static void check_http(md_pf_run_t *run, const char *name, const apr_array_header_t *addrs)
{
    md_preflight_t *pf = run->pf;
    apr_array_header_t *whys = apr_array_make(run->p, 2, sizeof(const char *));
    const char *why = NULL;
    apr_status_t rv = APR_EGENERAL;
    int i;

    if (md_store_save_text(pf->store, MD_SG_CHALLENGES, name, MD_FN_HTTP01, run->answer,
                           run->p) != APR_SUCCESS) {
        note(run, apr_psprintf(run->p, "%s: http-01 of %s not probed: the probe token could "
                               "not be written to the store", pf->md->name, name));
        return;
    }
    for (i = 0; i < addrs->nelts && rv != APR_SUCCESS; ++i) {
        rv = probe_addr(&why, run, name, APR_ARRAY_IDX(addrs, i, const char *));
        if (rv != APR_SUCCESS) APR_ARRAY_PUSH(whys, const char *) = why;
    }
    md_store_remove(pf->store, MD_SG_CHALLENGES, name, MD_FN_HTTP01, run->p);
    if (rv == APR_SUCCESS) return;
    fail(run, APR_ECONNREFUSED, MD_PROBLEM_PREFLIGHT_HTTP, apr_psprintf(run->p,
         "%s: http-01 would fail: a request for http://%s%s... to its address in DNS does "
         "not reach this server (%s). Point the name's A/AAAA records at this server and "
         "forward port 80 to it (MDPortMap when it listens on another port), or validate "
         "with dns-01 (MDChallengeDns01)", name, name, MD_PREFLIGHT_PATH,
         md_array_str_join(whys, "; ", run->p)));
}

static void check_dns_name(md_pf_run_t *run, const char *name, const char *type)
{
    md_preflight_t *pf = run->pf;
    apr_array_header_t *addrs;
    int nx = 0;

    if (addrs_lookup(&addrs, &nx, run, name) != APR_SUCCESS) {
        check_caa(run, name);
        return;
    }
    if (!addrs->nelts) {
        fail(run, APR_EHOSTUNREACH, MD_PROBLEM_PREFLIGHT_DNS, apr_psprintf(run->p,
             "%s: %s (asked %s). Add an A or AAAA record with this server's public address, "
             "or remove the name from the MD", name,
             nx ? "the name does not exist in DNS" : "the name has no A or AAAA record",
             pf->dns->server));
        return;
    }
    check_caa(run, name);
    if (pf->http_probe && type && !strcmp(type, "http-01")) check_http(run, name, addrs);
}

/* In the words of today's module (problem challenge-mismatch, "no usable challenge"),
 * which monitoring keys on; the fix for dns-01 first. */
static void fail_wildcard(md_pf_run_t *run, const char *name)
{
    const char *dns01 = !run->pf->md->dns01_cmd
        ? "MDChallengeDns01 (the program that sets the TXT record) is not configured"
        : "not in MDCAChallenges";

    fail(run, APR_EINVAL, MD_PROBLEM_PREFLIGHT_WILDCARD, apr_psprintf(run->p,
         "no usable challenge for %s: dns-01: %s; http-01, tls-alpn-01: wildcard names can "
         "only be validated with dns-01", name, dns01));
}

static void check_name(md_pf_run_t *run, const char *name)
{
    md_preflight_t *pf = run->pf;
    const char *type = md_preflight_chall_type(pf->md, pf->challenge_types, name);
    apr_array_header_t *addrs;

    if (md_dns_is_wildcard(name)) {
        if (!type) fail_wildcard(run, name);
        else if (pf->dns) check_caa(run, name);
        return;
    }
    if (!pf->dns) return;
    if (md_is_ip_address(name)) {
        if (!pf->http_probe || !type || strcmp(type, "http-01")) return;
        addrs = apr_array_make(run->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(addrs, const char *) = name;
        check_http(run, name, addrs);
        return;
    }
    check_dns_name(run, name, type);
}

apr_status_t md_preflight_run(md_preflight_t *pf, md_result_t *result, apr_pool_t *p)
{
    md_pf_run_t run;
    unsigned char rnd[32];
    int i;

    memset(&run, 0, sizeof(run));
    run.pf = pf;
    run.p = p;
    run.details = apr_array_make(p, 4, sizeof(const char *));
    if (!pf->notes) pf->notes = apr_array_make(p, 4, sizeof(const char *));
    md_result_activity(result, "checking the names of %s before ordering (preflight)",
                       pf->md->name);
    /* 1. a probe token and its answer, as an http-01 challenge would have */
    if (md_rand_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) return APR_EGENERAL;
    run.token = md_b64url_encode(rnd, 16, p);
    run.answer = apr_pstrcat(p, run.token, ".", md_b64url_encode(rnd + 16, 16, p), NULL);
    if (!pf->store || !pf->http) pf->http_probe = 0;
    /* 2. every name; all that fail are reported at once */
    for (i = 0; i < pf->md->domains->nelts; ++i) {
        check_name(&run, APR_ARRAY_IDX(pf->md->domains, i, const char *));
    }
    if (!run.problem) return APR_SUCCESS;
    md_result_problem(result, run.rv, run.problem, apr_psprintf(p, "preflight failed, nothing "
                      "was sent to the CA: %s", md_array_str_join(run.details, "; ", p)), NULL);
    return run.rv;
}

apr_array_header_t *md_preflight_local_addrs(apr_pool_t *p)
{
    apr_array_header_t *addrs = apr_array_make(p, 8, sizeof(const char *));
    struct ifaddrs *list, *ifa;
    char text[INET6_ADDRSTRLEN];
    const void *in;

    if (getifaddrs(&list) != 0) return addrs;
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr) continue;
        if (ifa->ifa_addr->sa_family == AF_INET) {
            in = &((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr;
        }
        else if (ifa->ifa_addr->sa_family == AF_INET6) {
            in = &((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr;
        }
        else continue;
        if (inet_ntop(ifa->ifa_addr->sa_family, in, text, sizeof(text))) {
            APR_ARRAY_PUSH(addrs, const char *) = apr_pstrdup(p, text);
        }
    }
    freeifaddrs(list);
    return addrs;
}

md_http_t *md_preflight_http(const char *user_agent, volatile apr_uint32_t *cancel,
                             apr_pool_t *p)
{
    md_http_config_t cfg;
    md_http_t *http = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.user_agent = user_agent;
    cfg.connect_timeout = apr_time_from_sec(5);
    cfg.timeout = apr_time_from_sec(10);
    cfg.max_body = 4096;
    cfg.direct = 1;
    cfg.cancel = cancel;
    md_http_create(&http, &cfg, p);
    return http;
}
