/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "md_acme.h"
#include "md_util.h"
#include "md_jws.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_time.h"

#define MD_ACME_MAX_NONCES 10
/* How much of a refused URL a message shows. */
#define MD_ACME_URL_SHOWN 200

apr_status_t md_acme_create(md_acme_t **pacme, const char *url, md_http_t *http, apr_pool_t *p)
{
    md_acme_t *acme = apr_pcalloc(p, sizeof(*acme));

    acme->p = p;
    acme->url = apr_pstrdup(p, url);
    acme->http = http;
    acme->nonces = apr_array_make(p, MD_ACME_MAX_NONCES, sizeof(const char *));
    acme->max_retries = 3;
    acme->max_nonce_retries = 10;
    acme->max_retry_wait = apr_time_from_sec(10);
    acme->directory_max_age = apr_time_from_sec(60 * 60);
    *pacme = acme;
    return APR_SUCCESS;
}

const char *md_acme_host(const md_acme_t *acme, apr_pool_t *p)
{
    apr_uri_t uri;

    if (apr_uri_parse(p, acme->url, &uri) != APR_SUCCESS || !uri.hostname) return "unknown";
    return uri.hostname;
}

static const char *header(const md_http_response_t *resp, const char *name)
{
    return apr_table_get(resp->headers, name);
}

static void nonce_keep(md_acme_t *acme, const md_http_response_t *resp)
{
    const char *nonce = header(resp, "Replay-Nonce");

    if (!nonce || !*nonce || strlen(nonce) > 256) return;
    if (acme->nonces->nelts >= MD_ACME_MAX_NONCES) {
        memmove(acme->nonces->elts, acme->nonces->elts + sizeof(char *),
                (size_t)(acme->nonces->nelts - 1) * sizeof(char *));
        --acme->nonces->nelts;
    }
    APR_ARRAY_PUSH(acme->nonces, const char *) = apr_pstrdup(acme->p, nonce);
}

/* What a transport failure means, for the operator. */
static const char *transport_failure(apr_status_t rv, md_acme_t *acme, apr_pool_t *p)
{
    const md_http_config_t *cfg = &acme->http->config;

    switch (rv) {
    case MD_HTTP_EVERIFY:
        return apr_psprintf(p, "the CA's TLS certificate could not be verified with %s; check "
                            "MDCACertificateFile", cfg->ca_file ? cfg->ca_file
                                                                : "the system's trusted CAs");
    case MD_HTTP_ETOOLARGE:
        return apr_psprintf(p, "the CA's answer is larger than the limit of %lu bytes and was "
                            "not read", (unsigned long)(cfg->max_body ? cfg->max_body
                                                        : MD_HTTP_DEFAULT_MAX_BODY));
    case APR_TIMEUP:
        return apr_psprintf(p, "no answer from the CA within %s (MDCATimeout)",
                            md_duration_print(cfg->timeout, p));
    case APR_ECONNREFUSED:
        return apr_psprintf(p, "no answer from the CA: the connection%s was refused (down, or "
                            "the wrong port?)", cfg->proxy_url
                            ? apr_pstrcat(p, " through the proxy ", md_url_masked(cfg->proxy_url, p), NULL)
                            : "");
    case APR_ECONNRESET:
        return "no answer from the CA: the connection was closed or reset before a complete answer";
    case APR_EHOSTUNREACH:
        return "no answer from the CA: the host name could not be resolved";
    default:
        return "no answer from the CA";
    }
}

/* ACME has no redirects (RFC 8555): a 3xx is not followed, least of all to another host. */
static apr_status_t redirect_refuse(const md_http_request_t *req, const md_http_response_t *resp,
                                    md_result_t *result, apr_pool_t *p)
{
    const char *to = header(resp, "Location");
    apr_uri_t from_uri, to_uri;
    int other = 0;

    if (to && apr_uri_parse(p, req->url, &from_uri) == APR_SUCCESS
        && apr_uri_parse(p, to, &to_uri) == APR_SUCCESS && to_uri.hostname && from_uri.hostname) {
        other = apr_strnatcasecmp(to_uri.hostname, from_uri.hostname) != 0;
    }
    md_result_set(result, APR_EINVAL, "%s %s: the CA redirected (HTTP %d) to %s%s; redirects "
                  "are not followed: check MDCertificateAuthority", req->method, req->url,
                  resp->status, to ? to : "nowhere", other ? ", another host" : "");
    return APR_EINVAL;
}

/* A URL as a message may show it: control characters replaced, at most
 * MD_ACME_URL_SHOWN bytes. */
static const char *url_shown(const char *url, apr_pool_t *p)
{
    apr_size_t len = strlen(url), i;
    char *s = apr_pstrmemdup(p, url, len > MD_ACME_URL_SHOWN ? MD_ACME_URL_SHOWN : len);

    for (i = 0; s[i]; ++i) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) s[i] = '?';
    }
    return len > MD_ACME_URL_SHOWN ? apr_pstrcat(p, s, "...", NULL) : s;
}

/* Every URL the client requests passes here. Apart from the configured directory, the CA
 * names them all: directory entries, Location, finalize, certificate, alternate links,
 * authorizations, challenges, renewalInfo. ACME runs over HTTPS (RFC 8555 section 6.1),
 * so they must be https:, unless the configured directory itself is http: (a test CA);
 * and they must name a host. Nothing is sent to a URL that fails. */
static apr_status_t url_check(md_acme_t *acme, const md_http_request_t *req,
                              md_result_t *result, apr_pool_t *p)
{
    const char *url = req->url ? req->url : "", *why = NULL, *c;
    int http_allowed = !strncasecmp(acme->url, "http://", 7);
    apr_uri_t uri;

    for (c = url; !why && *c; ++c) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) why = "has a blank or control character";
    }
    if (!why && strncasecmp(url, "https://", 8)
        && !(http_allowed && !strncasecmp(url, "http://", 7))) {
        why = http_allowed ? "is neither https: nor http:"
                           : "is not https: (http: only with an http: MDCertificateAuthority)";
    }
    if (!why && (apr_uri_parse(p, url, &uri) != APR_SUCCESS || !uri.hostname || !*uri.hostname)) {
        why = "names no host";
    }
    if (!why) return APR_SUCCESS;
    md_result_set(result, APR_EINVAL, "%s %s: refused, the %s %s; nothing was sent to it",
                  req->method, url_shown(url, p),
                  strcmp(url, acme->url) ? "URL from the CA" : "configured URL", why);
    return APR_EINVAL;
}

static apr_status_t http_do(md_http_response_t **presp, md_acme_t *acme,
                            const md_http_request_t *req, md_result_t *result, apr_pool_t *p)
{
    apr_time_t start;
    apr_status_t rv = url_check(acme, req, result, p);

    if (rv != APR_SUCCESS) return rv;
    start = apr_time_now();
    rv = md_http_perform(presp, acme->http, req, p);

    if (md_log_enabled(MD_LOG_TRACE2)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_TRACE2, rv, p, "MD3011: %s %s: %d in %d ms", req->method,
                      req->url, rv == APR_SUCCESS ? (*presp)->status : 0,
                      (int)apr_time_as_msec(apr_time_now() - start));
    }
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "%s %s: %s", req->method, req->url,
                      transport_failure(rv, acme, p));
        return rv;
    }
    if ((*presp)->status >= 300 && (*presp)->status < 400) {
        return redirect_refuse(req, *presp, result, p);
    }
    nonce_keep(acme, *presp);
    return APR_SUCCESS;
}

/* Should a 429/503 answer be tried again? Waits the Retry-After when it is short. */
static int retry_later(md_acme_t *acme, const md_http_response_t *resp, int attempt,
                       md_result_t *result)
{
    apr_time_t now = apr_time_now(), at;

    if (resp->status != 429 && resp->status != 503) return 0;
    at = md_http_retry_after(resp, now);
    result->retry_after = at;
    if (!at || attempt >= acme->max_retries || at - now > acme->max_retry_wait) return 0;
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, acme->p, "MD3010: HTTP %d from %s, retrying "
                  "in %d ms", resp->status, acme->url, (int)apr_time_as_msec(at - now));
    md_acme_wait(acme, at - now);
    return 1;
}

void md_acme_wait(md_acme_t *acme, apr_interval_time_t duration)
{
    if (duration <= 0) return;
    if (acme->wait) acme->wait(acme->wait_baton, duration);
    else apr_sleep(duration);
}

apr_interval_time_t md_acme_poll_delay(const md_result_t *result, apr_interval_time_t previous,
                                       apr_time_t now)
{
    if (result->retry_after > now) {
        return result->retry_after - now > MD_POLL_MAX_ASKED ? MD_POLL_MAX_ASKED
                                                              : result->retry_after - now;
    }
    if (previous < MD_POLL_FIRST) return MD_POLL_FIRST;
    return previous * 2 > MD_POLL_MAX ? MD_POLL_MAX : previous * 2;
}

apr_status_t md_acme_get(md_http_response_t **presp, md_acme_t *acme, const char *url,
                         md_result_t *result, apr_pool_t *p)
{
    md_http_request_t req = { "GET", url, NULL, NULL, 0 };
    apr_status_t rv;
    int attempt;

    for (attempt = 0; ; ++attempt) {
        result->retry_after = 0;
        rv = http_do(presp, acme, &req, result, p);
        if (rv != APR_SUCCESS || !retry_later(acme, *presp, attempt, result)) break;
    }
    if (rv == APR_SUCCESS) result->retry_after = md_http_retry_after(*presp, apr_time_now());
    return rv;
}

/* A URL of the directory: a string, and not an empty one (which names no resource). */
static const char *directory_url(md_json_t *dir, const char *key)
{
    const char *url = md_json_gets(dir, key, NULL);

    return url && *url ? url : NULL;
}

static apr_status_t directory_read(md_acme_t *acme, md_json_t *dir, md_result_t *result)
{
    acme->new_nonce = directory_url(dir, MD_KEY_NEW_NONCE);
    acme->new_account = directory_url(dir, MD_KEY_NEW_ACCOUNT);
    acme->new_order = directory_url(dir, MD_KEY_NEW_ORDER);
    acme->revoke_cert = directory_url(dir, MD_KEY_REVOKE_CERT);
    acme->key_change = directory_url(dir, MD_KEY_KEY_CHANGE);
    acme->renewal_info = directory_url(dir, MD_KEY_RENEWAL_INFO);
    acme->terms_of_service = md_json_gets(dir, MD_KEY_META, MD_KEY_TERMS_OF_SERVICE, NULL);
    if (!acme->new_nonce || !acme->new_account || !acme->new_order) {
        md_result_set(result, APR_EINVAL, "the ACME directory at %s lacks newNonce, newAccount "
                      "or newOrder: is this an ACME v2 (RFC 8555) CA?", acme->url);
        return APR_EINVAL;
    }
    acme->directory = dir;
    acme->directory_at = apr_time_now();
    return APR_SUCCESS;
}

apr_status_t md_acme_setup(md_acme_t *acme, md_result_t *result)
{
    md_http_response_t *resp;
    md_json_t *dir;
    apr_status_t rv;

    if (acme->directory && apr_time_now() - acme->directory_at < acme->directory_max_age) {
        return APR_SUCCESS;
    }
    rv = md_acme_get(&resp, acme, acme->url, result, acme->p);
    if (rv != APR_SUCCESS) return rv;
    if (resp->status == 429 || resp->status == 503) {
        md_result_set(result, APR_EAGAIN, "the ACME directory at %s is unavailable (HTTP %d)%s",
                      acme->url, resp->status, result->retry_after ? ", the CA asks to retry "
                      "later" : "");
        return APR_EAGAIN;
    }
    if (resp->status != 200 || md_json_parse(&dir, resp->body, resp->body_len, acme->p)
        != APR_SUCCESS || !md_json_is_object(dir, NULL)) {
        md_result_set(result, APR_EINVAL, "the ACME directory at %s is not valid JSON "
                      "(HTTP %d); check MDCertificateAuthority", acme->url, resp->status);
        return APR_EINVAL;
    }
    return directory_read(acme, dir, result);
}

static apr_status_t nonce_take(const char **pnonce, md_acme_t *acme, md_result_t *result,
                               apr_pool_t *p)
{
    md_http_request_t req = { "HEAD", acme->new_nonce, NULL, NULL, 0 };
    md_http_response_t *resp;
    apr_status_t rv;

    if (acme->nonces->nelts == 0) {
        rv = http_do(&resp, acme, &req, result, p);
        if (rv != APR_SUCCESS) return rv;
        if (acme->nonces->nelts == 0) {
            md_result_set(result, APR_EINVAL, "the CA sent no Replay-Nonce from %s",
                          acme->new_nonce);
            return APR_EINVAL;
        }
    }
    *pnonce = APR_ARRAY_IDX(acme->nonces, acme->nonces->nelts - 1, const char *);
    --acme->nonces->nelts;
    return APR_SUCCESS;
}

static md_acme_resp_t *resp_wrap(const md_http_response_t *http, apr_pool_t *p)
{
    md_acme_resp_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *ctype = header(http, "Content-Type");

    resp->status = http->status;
    resp->body = http->body;
    resp->body_len = http->body_len;
    resp->location = header(http, "Location");
    resp->http = (md_http_response_t *)http;
    if (ctype && strstr(ctype, "json")) {
        if (md_json_parse(&resp->json, http->body, http->body_len, p) != APR_SUCCESS) {
            resp->json = NULL;
        }
    }
    return resp;
}

static apr_status_t post_once(md_acme_resp_t **presp, md_acme_t *acme, const char *url,
                              const char *payload, int use_jwk, md_result_t *result,
                              apr_pool_t *p)
{
    md_http_request_t req = { "POST", url, "application/jose+json", NULL, 0 };
    md_http_response_t *http;
    md_json_t *jws;
    const char *nonce;
    apr_status_t rv;

    rv = nonce_take(&nonce, acme, result, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_jws_sign(&jws, payload, acme->acct_key, use_jwk ? NULL : acme->acct_url, nonce, url, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "signing the request to %s", url);
        return rv;
    }
    req.body = md_json_dump(jws, MD_JSON_COMPACT, p);
    req.body_len = strlen(req.body);
    rv = http_do(&http, acme, &req, result, p);
    if (rv != APR_SUCCESS) return rv;
    *presp = resp_wrap(http, p);
    if (http->status >= 400) return md_acme_problem_record(result, *presp, url);
    return APR_SUCCESS;
}

static int is_bad_nonce(apr_status_t rv, const md_result_t *result)
{
    return rv == APR_EAGAIN && result->problem && strstr(result->problem, ":badNonce");
}

apr_status_t md_acme_post(md_acme_resp_t **presp, md_acme_t *acme, const char *url,
                          const char *payload, int use_jwk, md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;
    int attempt, nonce_attempt = 0;

    *presp = NULL;
    rv = md_acme_setup(acme, result);
    for (attempt = 0; rv == APR_SUCCESS; ) {
        result->retry_after = 0;
        rv = post_once(presp, acme, url, payload, use_jwk, result, p);
        if (rv == APR_SUCCESS || !*presp) break;
        /* badNonce is the CA's way of asking for a fresh nonce: worth a retry */
        if (is_bad_nonce(rv, result)) {
            if (nonce_attempt++ >= acme->max_nonce_retries) break;
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "MD0301: badNonce from %s, retrying", url);
            rv = APR_SUCCESS;
        }
        else if (retry_later(acme, (*presp)->http, attempt++, result)) {
            rv = APR_SUCCESS;
        }
    }
    if (rv == APR_SUCCESS) {
        result->status = APR_SUCCESS;
        result->problem = result->detail = NULL;
        result->subproblems = NULL;
        /* kept on success too: order and authorization polling honour it */
        result->retry_after = md_http_retry_after((*presp)->http, apr_time_now());
    }
    return rv;
}

apr_status_t md_acme_get_json(md_json_t **pjson, md_acme_t *acme, const char *url,
                              md_result_t *result, apr_pool_t *p)
{
    md_acme_resp_t *resp = NULL;
    apr_status_t rv = md_acme_post(&resp, acme, url, NULL, 0, result, p);

    if (rv != APR_SUCCESS) return rv;
    if (!resp->json) {
        md_result_set(result, APR_EINVAL, "the CA's answer from %s is not JSON", url);
        return APR_EINVAL;
    }
    *pjson = resp->json;
    return APR_SUCCESS;
}
