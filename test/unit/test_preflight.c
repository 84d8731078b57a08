/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Preflight: CAA evaluation (RFC 8659), tree climbing, the decisions, and the checks
 * over a fed resolver and a fake web server that answers from the store. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_preflight.h"
#include "md_util.h"
#include "md_test.h"

/* ---- a resolver fed from a table: "name type value" ------------------------------ */

typedef struct {
    const char *name;
    int type;
    unsigned int flags;         /* CAA */
    const char *tag;            /* CAA; "SERVFAIL" as tag: the query fails */
    const char *value;          /* address or CAA value */
} fed_rr_t;

typedef struct {
    const fed_rr_t *rrs;
    const char *const *existing;   /* names that exist (NOERROR) even without records */
    int queries;
} fed_dns_t;

static int fed_exists(const fed_dns_t *fed, const char *name)
{
    int i;

    for (i = 0; fed->rrs[i].name; ++i) if (!strcmp(fed->rrs[i].name, name)) return 1;
    for (i = 0; fed->existing && fed->existing[i]; ++i) if (!strcmp(fed->existing[i], name)) return 1;
    return 0;
}

static apr_status_t fed_query(apr_array_header_t **prrs, const char **pwhy, void *baton,
                              const char *name, int type, apr_pool_t *p)
{
    fed_dns_t *fed = baton;
    md_dns_rr_t *rr;
    int i;

    ++fed->queries;
    *prrs = apr_array_make(p, 4, sizeof(md_dns_rr_t *));
    for (i = 0; fed->rrs[i].name; ++i) {
        const fed_rr_t *f = &fed->rrs[i];
        if (strcmp(f->name, name) || f->type != type) continue;
        if (f->tag && !strcmp(f->tag, "SERVFAIL")) {
            *pwhy = "SERVFAIL";
            return APR_EAGAIN;
        }
        rr = apr_pcalloc(p, sizeof(*rr));
        rr->type = type;
        rr->addr = f->value;
        rr->caa_flags = f->flags;
        rr->caa_tag = f->tag;
        rr->caa_value = f->value;
        APR_ARRAY_PUSH(*prrs, md_dns_rr_t *) = rr;
    }
    return fed_exists(fed, name) ? APR_SUCCESS : MD_DNS_ENONAME;
}

static md_dns_t *fed_make(fed_dns_t *fed)
{
    md_dns_t *dns = apr_pcalloc(md_test_pool, sizeof(*dns));

    dns->query = fed_query;
    dns->baton = fed;
    dns->server = "the fed resolver";
    return dns;
}

static apr_array_header_t *strs(const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(md_test_pool, 2, sizeof(const char *));

    if (a) APR_ARRAY_PUSH(arr, const char *) = a;
    if (b) APR_ARRAY_PUSH(arr, const char *) = b;
    return arr;
}

static apr_array_header_t *caa_set(const fed_rr_t *rrs)
{
    apr_array_header_t *set = apr_array_make(md_test_pool, 4, sizeof(md_dns_rr_t *));
    md_dns_rr_t *rr;
    int i;

    for (i = 0; rrs[i].name; ++i) {
        rr = apr_pcalloc(md_test_pool, sizeof(*rr));
        rr->type = MD_DNS_CAA;
        rr->caa_flags = rrs[i].flags;
        rr->caa_tag = rrs[i].tag;
        rr->caa_value = rrs[i].value;
        APR_ARRAY_PUSH(set, md_dns_rr_t *) = rr;
    }
    return set;
}

#define CAA(name, flags, tag, value) { name, MD_DNS_CAA, flags, tag, value }
#define A(name, addr) { name, MD_DNS_A, 0, NULL, addr }
#define RR_END { NULL, 0, 0, NULL, NULL }

/* ---- CAA --------------------------------------------------------------------------- */

START_TEST(caa_issuer_parsing)
{
    ck_assert_str_eq(md_caa_issuer("letsencrypt.org", md_test_pool), "letsencrypt.org");
    ck_assert_str_eq(md_caa_issuer("  LetsEncrypt.ORG. ; accounturi=https://x/1", md_test_pool),
                     "letsencrypt.org");
    ck_assert_str_eq(md_caa_issuer(";", md_test_pool), "");
    ck_assert_str_eq(md_caa_issuer("", md_test_pool), "");
    ck_assert_str_eq(md_caa_issuer("ca.example;validationmethods=dns-01", md_test_pool), "ca.example");
}
END_TEST

START_TEST(caa_issue_matching)
{
    static const fed_rr_t none[] = { RR_END };
    static const fed_rr_t only_iodef[] = { CAA("x", 0, "iodef", "mailto:a@x"), RR_END };
    static const fed_rr_t other[] = { CAA("x", 0, "issue", "other.example"), RR_END };
    static const fed_rr_t both[] = { CAA("x", 0, "issue", "other.example"),
                                     CAA("x", 0, "ISSUE", "letsencrypt.org; accounturi=u"), RR_END };
    static const fed_rr_t nobody[] = { CAA("x", 0, "issue", ";"), RR_END };
    apr_array_header_t *le = strs("letsencrypt.org", NULL);
    const char *why;

    ck_assert_int_eq(md_caa_evaluate(caa_set(none), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(only_iodef), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(other), le, 0, &why, md_test_pool), MD_CAA_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(why, "issue \"other.example\""));
    ck_assert_int_eq(md_caa_evaluate(caa_set(both), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_ptr_null(why);
    ck_assert_int_eq(md_caa_evaluate(caa_set(nobody), le, 0, &why, md_test_pool), MD_CAA_FORBIDDEN);
    /* another identity of the CA */
    ck_assert_int_eq(md_caa_evaluate(caa_set(other), strs("letsencrypt.org", "other.example"), 0,
                                     &why, md_test_pool), MD_CAA_ALLOWED);
}
END_TEST

START_TEST(caa_issuewild)
{
    /* issuewild rules wildcards when present; issue still rules the plain names */
    static const fed_rr_t wild_only_other[] = { CAA("x", 0, "issue", "letsencrypt.org"),
                                                CAA("x", 0, "issuewild", "other.example"), RR_END };
    static const fed_rr_t issue_only[] = { CAA("x", 0, "issue", "letsencrypt.org"), RR_END };
    static const fed_rr_t wild_forbids_none[] = { CAA("x", 0, "issue", "other.example"),
                                                  CAA("x", 0, "issuewild", "letsencrypt.org"), RR_END };
    apr_array_header_t *le = strs("letsencrypt.org", NULL);
    const char *why;

    ck_assert_int_eq(md_caa_evaluate(caa_set(wild_only_other), le, 1, &why, md_test_pool), MD_CAA_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(why, "issuewild"));
    ck_assert_int_eq(md_caa_evaluate(caa_set(wild_only_other), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(issue_only), le, 1, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(wild_forbids_none), le, 1, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(wild_forbids_none), le, 0, &why, md_test_pool), MD_CAA_FORBIDDEN);
}
END_TEST

START_TEST(caa_critical_flag)
{
    static const fed_rr_t crit_unknown[] = { CAA("x", 0, "issue", "letsencrypt.org"),
                                             CAA("x", 128, "tbs", "whatever"), RR_END };
    static const fed_rr_t crit_known[] = { CAA("x", 128, "issue", "letsencrypt.org"),
                                           CAA("x", 128, "iodef", "mailto:a@x"), RR_END };
    static const fed_rr_t noncrit_unknown[] = { CAA("x", 0, "tbs", "whatever"), RR_END };
    apr_array_header_t *le = strs("letsencrypt.org", NULL);
    const char *why;

    ck_assert_int_eq(md_caa_evaluate(caa_set(crit_unknown), le, 0, &why, md_test_pool), MD_CAA_CRITICAL);
    ck_assert_ptr_nonnull(strstr(why, "tbs"));
    ck_assert_int_eq(md_caa_evaluate(caa_set(crit_known), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
    ck_assert_int_eq(md_caa_evaluate(caa_set(noncrit_unknown), le, 0, &why, md_test_pool), MD_CAA_ALLOWED);
}
END_TEST

START_TEST(caa_tree_climbing)
{
    static const fed_rr_t rrs[] = {
        CAA("example.org", 0, "issue", "letsencrypt.org"),
        CAA("sub.example.org", 0, "issue", "other.example"),
        CAA("broken.test", 0, "SERVFAIL", NULL),
        RR_END };
    static const char *const existing[] = { "www.example.org", "org", NULL };
    fed_dns_t fed = { rrs, existing, 0 };
    apr_array_header_t *set;
    const char *owner, *why;

    /* the closest name with records wins; NXDOMAIN on the way counts as none */
    ck_assert_int_eq(md_caa_lookup(&set, &owner, &why, fed_make(&fed), "a.b.www.example.org",
                                   md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(owner, "example.org");
    ck_assert_int_eq(set->nelts, 1);
    ck_assert_int_eq(fed.queries, 4);       /* a.b.www, b.www, www, example.org */
    ck_assert_int_eq(md_caa_lookup(&set, &owner, &why, fed_make(&fed), "x.sub.example.org",
                                   md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(owner, "sub.example.org");
    /* no records up to the top: empty, no owner */
    ck_assert_int_eq(md_caa_lookup(&set, &owner, &why, fed_make(&fed), "a.example.com",
                                   md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(owner);
    ck_assert_int_eq(set->nelts, 0);
    /* no answer: the caller cannot decide */
    ck_assert_int_ne(md_caa_lookup(&set, &owner, &why, fed_make(&fed), "x.broken.test",
                                   md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "broken.test"));
}
END_TEST

START_TEST(caa_ids_of_cas)
{
    const apr_array_header_t *ids;

    ids = md_caa_ids_for(NULL, "https://acme-v02.api.letsencrypt.org/directory", md_test_pool);
    ck_assert_ptr_nonnull(ids);
    ck_assert_str_eq(APR_ARRAY_IDX(ids, 0, const char *), "letsencrypt.org");
    ck_assert_ptr_null(md_caa_ids_for(NULL, "https://127.0.0.1:14000/dir", md_test_pool));
    ids = md_caa_ids_for(strs("pebble.test", NULL), "https://acme-v02.api.letsencrypt.org/directory",
                         md_test_pool);
    ck_assert_str_eq(APR_ARRAY_IDX(ids, 0, const char *), "pebble.test");
}
END_TEST

/* ---- decisions --------------------------------------------------------------------- */

START_TEST(chall_type_choice)
{
    md_t *md = md_create(md_test_pool, "x.test");
    apr_array_header_t *types = strs("tls-alpn-01", "http-01");

    ck_assert_str_eq(md_preflight_chall_type(md, types, "x.test"), "tls-alpn-01");
    ck_assert_str_eq(md_preflight_chall_type(md, strs("http-01", NULL), "x.test"), "http-01");
    ck_assert_ptr_null(md_preflight_chall_type(md, types, "*.x.test"));
    ck_assert_ptr_null(md_preflight_chall_type(md, strs("http-01", "dns-01"), "*.x.test"));
    md->dns01_cmd = "/bin/true";
    ck_assert_str_eq(md_preflight_chall_type(md, strs("http-01", "dns-01"), "*.x.test"), "dns-01");
    ck_assert_str_eq(md_preflight_chall_type(md, strs("http-01", "dns-01"), "x.test"), "http-01");
}
END_TEST

START_TEST(probe_port_choice)
{
    apr_array_header_t *local = strs("127.0.0.1", "::1");

    ck_assert_int_eq(md_preflight_probe_port("127.0.0.1", local, 5002), 5002);
    ck_assert_int_eq(md_preflight_probe_port("::1", local, 8080), 8080);
    ck_assert_int_eq(md_preflight_probe_port("192.0.2.1", local, 8080), 80);   /* NAT: as the CA */
    ck_assert_int_eq(md_preflight_probe_port("127.0.0.1", local, -1), 80);
}
END_TEST

/* ---- the checks, with a web server that answers from the store at one address -------- */

typedef struct {
    md_store_t *store;
    const char *serving_addr;   /* requests to it get the stored http-01 answer */
    int requests;
    const char *last_url;
} fake_web_t;

static apr_status_t web_perform(md_http_response_t **presp, md_http_t *http,
                                const md_http_request_t *req, apr_pool_t *p)
{
    fake_web_t *web = http->baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *answer;
    char *prefix = apr_psprintf(p, "http://%s:", web->serving_addr);

    ++web->requests;
    web->last_url = apr_pstrdup(md_test_pool, req->url);
    if (strncmp(req->url, prefix, strlen(prefix))) return APR_ECONNREFUSED;
    resp->headers = apr_table_make(p, 1);
    resp->status = 404;
    resp->body = "";
    if (md_store_load_text(&answer, web->store, MD_SG_CHALLENGES, http->config.host,
                           MD_FN_HTTP01, p) == APR_SUCCESS
        && strstr(req->url, apr_pstrndup(p, answer, (apr_size_t)(strchr(answer, '.') - answer)))) {
        resp->status = 200;
        resp->body = answer;
    }
    resp->body_len = strlen(resp->body);
    *presp = resp;
    return APR_SUCCESS;
}

static md_preflight_t *pf_make(md_t *md, fed_dns_t *fed, fake_web_t *web)
{
    md_preflight_t *pf = apr_pcalloc(md_test_pool, sizeof(*pf));
    md_http_t *http = apr_pcalloc(md_test_pool, sizeof(*http));

    http->perform = web_perform;
    http->baton = web;
    web->store = md_test_tmp_store();
    pf->md = md;
    pf->challenge_types = strs("http-01", "dns-01");
    pf->caa_ids = strs("pebble.test", NULL);
    pf->dns = fed_make(fed);
    pf->http_probe = 1;
    pf->store = web->store;
    pf->http = http;
    pf->local_port = 5002;
    pf->local_addrs = strs("127.0.0.1", NULL);
    return pf;
}

static md_t *md_with(const char *a, const char *b)
{
    md_t *md = md_create(md_test_pool, a);

    APR_ARRAY_PUSH(md->domains, const char *) = a;
    if (b) APR_ARRAY_PUSH(md->domains, const char *) = b;
    return md;
}

START_TEST(run_good_names_pass)
{
    static const fed_rr_t rrs[] = { A("good.test", "127.0.0.1"), A("www.good.test", "127.0.0.1"),
                                    CAA("good.test", 0, "issue", "pebble.test"), RR_END };
    fed_dns_t fed = { rrs, NULL, 0 };
    fake_web_t web = { NULL, "127.0.0.1", 0, NULL };
    md_preflight_t *pf = pf_make(md_with("good.test", "www.good.test"), &fed, &web);
    md_result_t *r = md_result_make(md_test_pool);
    const char *left;

    ck_assert_int_eq(md_preflight_run(pf, r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(web.requests, 2);
    ck_assert_ptr_nonnull(strstr(web.last_url, "http://127.0.0.1:5002/.well-known/acme-challenge/"));
    ck_assert_int_eq(pf->notes->nelts, 0);
    /* the probe token is gone again */
    ck_assert_int_ne(md_store_load_text(&left, web.store, MD_SG_CHALLENGES, "good.test",
                                        MD_FN_HTTP01, md_test_pool), APR_SUCCESS);
    md_dir_remove_all(md_store_base(web.store), md_test_pool);
}
END_TEST

START_TEST(run_failures_named_with_fix)
{
    static const fed_rr_t rrs[] = {
        A("ok.test", "127.0.0.1"),
        A("caa.test", "127.0.0.1"), CAA("test", 0, "issue", "letsencrypt.org"),
        A("elsewhere.ok.test", "127.0.0.2"),
        RR_END };
    static const char *const existing[] = { "nodata.test", NULL };
    fed_dns_t fed = { rrs, existing, 0 };
    fake_web_t web = { NULL, "127.0.0.1", 0, NULL };
    md_t *md = md_with("missing.test", "nodata.test");
    md_preflight_t *pf;
    md_result_t *r = md_result_make(md_test_pool);

    APR_ARRAY_PUSH(md->domains, const char *) = "caa.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "elsewhere.ok.test";
    APR_ARRAY_PUSH(md->domains, const char *) = "*.ok.test";
    pf = pf_make(md, &fed, &web);
    ck_assert_int_ne(md_preflight_run(pf, r, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(r->problem, MD_PROBLEM_PREFLIGHT_DNS);          /* the first one */
    ck_assert_ptr_nonnull(strstr(r->detail, "missing.test: the name does not exist in DNS"));
    ck_assert_ptr_nonnull(strstr(r->detail, "nodata.test: the name has no A or AAAA record"));
    ck_assert_ptr_nonnull(strstr(r->detail, "caa.test: the CAA records of test "
                                            "(issue \"letsencrypt.org\") do not allow the CA (pebble.test)"));
    ck_assert_ptr_nonnull(strstr(r->detail, "elsewhere.ok.test: http-01 would fail"));
    ck_assert_ptr_nonnull(strstr(r->detail, "127.0.0.2 port 80"));   /* not ours: port 80 */
    ck_assert_ptr_nonnull(strstr(r->detail, "no usable challenge for *.ok.test: dns-01: "
                                            "MDChallengeDns01 (the program"));
    ck_assert_ptr_nonnull(strstr(r->detail, "nothing was sent to the CA"));
    md_dir_remove_all(md_store_base(web.store), md_test_pool);
}
END_TEST

START_TEST(run_what_cannot_be_checked_passes)
{
    /* the resolver fails: noted, not blocking; no CAA identity: CAA not checked; a name
     * validated by tls-alpn-01 is not probed over http */
    static const fed_rr_t rrs[] = { { "flaky.test", MD_DNS_AAAA, 0, "SERVFAIL", NULL },
                                    A("alpn.test", "127.0.0.1"),
                                    CAA("alpn.test", 0, "issue", "letsencrypt.org"), RR_END };
    fed_dns_t fed = { rrs, NULL, 0 };
    fake_web_t web = { NULL, "127.0.0.1", 0, NULL };
    md_preflight_t *pf = pf_make(md_with("flaky.test", NULL), &fed, &web);
    md_result_t *r = md_result_make(md_test_pool);

    pf->caa_ids = NULL;
    ck_assert_int_eq(md_preflight_run(pf, r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(pf->notes->nelts, 1);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(pf->notes, 0, const char *), "could not be looked up"));
    pf->md = md_with("alpn.test", NULL);
    pf->challenge_types = strs("tls-alpn-01", "http-01");
    pf->notes = NULL;
    ck_assert_int_eq(md_preflight_run(pf, r, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(web.requests, 0);
    md_dir_remove_all(md_store_base(web.store), md_test_pool);
}
END_TEST

START_TEST(problem_types)
{
    ck_assert(md_preflight_is_problem(MD_PROBLEM_PREFLIGHT_CAA));
    ck_assert(!md_preflight_is_problem("urn:ietf:params:acme:error:caa"));
    ck_assert(!md_preflight_is_problem(NULL));
}
END_TEST

Suite *md_test_preflight_suite(void)
{
    Suite *s = suite_create("preflight");
    TCase *tc = tcase_create("caa");
    TCase *tr = tcase_create("checks");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, caa_issuer_parsing);
    tcase_add_test(tc, caa_issue_matching);
    tcase_add_test(tc, caa_issuewild);
    tcase_add_test(tc, caa_critical_flag);
    tcase_add_test(tc, caa_tree_climbing);
    tcase_add_test(tc, caa_ids_of_cas);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tr, md_test_setup, md_test_teardown);
    tcase_add_test(tr, chall_type_choice);
    tcase_add_test(tr, probe_port_choice);
    tcase_add_test(tr, run_good_names_pass);
    tcase_add_test(tr, run_failures_named_with_fix);
    tcase_add_test(tr, run_what_cannot_be_checked_passes);
    tcase_add_test(tr, problem_types);
    suite_add_tcase(s, tr);
    return s;
}
