/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <apr_strings.h>

#include "fake_ca.h"
#include "fake_http.h"
#include "md_util.h"

typedef struct {
    const fake_exchange_t *script;
    int next;
    apr_array_header_t *requests;   /* md_http_request_t* */
    const char *error;
    fake_ca_t *ca;                  /* made by the first FAKE_BODY_ISSUE* */
    apr_pool_t *p;
} fake_t;

static void headers_parse(apr_table_t *t, const char *text, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text ? text : ""), *line, *last, *colon, *v;

    for (line = apr_strtok(copy, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        for (v = colon + 1; *v == ' '; ++v) {}
        apr_table_add(t, line, v);
    }
}

/* The CSR of the latest request that sent one (the "csr" of its JWS payload), as DER. */
static apr_status_t csr_latest(const unsigned char **pder, apr_size_t *plen,
                               const md_http_t *http, apr_pool_t *p)
{
    md_json_t *payload;
    const char *b64;
    int i;

    for (i = fake_http_count(http) - 1; i >= 0; --i) {
        payload = fake_http_payload(http, i, p);
        b64 = payload ? md_json_gets(payload, "csr", NULL) : NULL;
        if (b64) return md_b64url_decode(pder, plen, b64, p);
    }
    return APR_ENOENT;
}

/* The response body of the exchange: as written, or issued for the latest CSR. */
static apr_status_t body_make(const char **pbody, md_http_t *http, const char *body,
                              apr_pool_t *p)
{
    fake_t *f = http->baton;
    int other_key = body && !strcmp(body, FAKE_BODY_ISSUE_OTHER_KEY);
    const unsigned char *csr = NULL;
    apr_size_t csr_len = 0;
    apr_status_t rv;

    *pbody = body ? apr_pstrdup(p, body) : "";
    if (!body || (!other_key && strcmp(body, FAKE_BODY_ISSUE))) return APR_SUCCESS;
    rv = csr_latest(&csr, &csr_len, http, p);
    if (rv == APR_SUCCESS && !f->ca) rv = fake_ca_create(&f->ca, f->p);
    if (rv == APR_SUCCESS) rv = fake_ca_issue(pbody, f->ca, csr, csr_len, other_key, p);
    if (rv != APR_SUCCESS && !f->error) {
        f->error = apr_psprintf(f->p, "exchange %d: no certificate issued (no CSR sent "
                                "before, or it does not verify)", f->next);
    }
    return rv;
}

static apr_status_t fake_perform(md_http_response_t **presp, md_http_t *http,
                                 const md_http_request_t *req, apr_pool_t *p)
{
    fake_t *f = http->baton;
    const fake_exchange_t *x = &f->script[f->next];
    md_http_request_t *copy = apr_pmemdup(f->p, req, sizeof(*req));
    md_http_response_t *resp;
    apr_status_t rv;

    copy->url = apr_pstrdup(f->p, req->url);
    copy->body = req->body ? apr_pstrmemdup(f->p, req->body, req->body_len) : NULL;
    APR_ARRAY_PUSH(f->requests, md_http_request_t *) = copy;
    if (!x->method && !x->url && !x->status && !x->error) {
        if (!f->error) f->error = apr_psprintf(f->p, "script exhausted at %s %s", req->method, req->url);
        return APR_EGENERAL;
    }
    ++f->next;
    if ((x->method && strcmp(x->method, req->method)) || (x->url && strcmp(x->url, req->url))) {
        if (!f->error) f->error = apr_psprintf(f->p, "exchange %d: expected %s %s, got %s %s",
                                               f->next, x->method, x->url, req->method, req->url);
        return APR_EGENERAL;
    }
    if (x->error) return x->error;
    resp = apr_pcalloc(p, sizeof(*resp));
    resp->status = x->status;
    resp->headers = apr_table_make(p, 5);
    headers_parse(resp->headers, x->headers, p);
    rv = body_make(&resp->body, http, x->body, p);
    if (rv != APR_SUCCESS) return rv;
    resp->body_len = strlen(resp->body);
    *presp = resp;
    return APR_SUCCESS;
}

md_http_t *fake_http_create(const fake_exchange_t *script, apr_pool_t *p)
{
    md_http_t *http = apr_pcalloc(p, sizeof(*http));
    fake_t *f = apr_pcalloc(p, sizeof(*f));

    f->script = script;
    f->requests = apr_array_make(p, 10, sizeof(md_http_request_t *));
    f->p = p;
    http->perform = fake_perform;
    http->baton = f;
    return http;
}

int fake_http_left(const md_http_t *http)
{
    const fake_t *f = http->baton;
    int n = 0;

    while (f->script[f->next + n].method || f->script[f->next + n].url
           || f->script[f->next + n].status || f->script[f->next + n].error) ++n;
    return n;
}

int fake_http_count(const md_http_t *http)
{
    return ((const fake_t *)http->baton)->requests->nelts;
}

const md_http_request_t *fake_http_request(const md_http_t *http, int i)
{
    const fake_t *f = http->baton;

    if (i < 0) i += f->requests->nelts;
    if (i < 0 || i >= f->requests->nelts) return NULL;
    return APR_ARRAY_IDX(f->requests, i, md_http_request_t *);
}

static md_json_t *jws_part(const md_http_t *http, int i, const char *part, apr_pool_t *p)
{
    const md_http_request_t *req = fake_http_request(http, i);
    const unsigned char *data;
    apr_size_t len;
    md_json_t *jws, *j;
    const char *b64;

    if (!req || !req->body || md_json_parse(&jws, req->body, req->body_len, p) != APR_SUCCESS) {
        return NULL;
    }
    b64 = md_json_gets(jws, part, NULL);
    if (!b64 || !*b64 || md_b64url_decode(&data, &len, b64, p) != APR_SUCCESS) return NULL;
    if (md_json_parse(&j, (const char *)data, len, p) != APR_SUCCESS) return NULL;
    return j;
}

md_json_t *fake_http_payload(const md_http_t *http, int i, apr_pool_t *p)
{
    return jws_part(http, i, "payload", p);
}

md_json_t *fake_http_protected(const md_http_t *http, int i, apr_pool_t *p)
{
    return jws_part(http, i, "protected", p);
}

const char *fake_http_error(const md_http_t *http)
{
    return ((const fake_t *)http->baton)->error;
}
