/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP for stapling: ids, requests, response checks, persistence, decisions. */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "md_ocsp.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"
#include "md_time.h"

#define MD_OCSP_SKEW_SEC 300L
#define MD_OCSP_MAX_RESP (64 * 1024)

struct md_ocsp_req_t {
    OCSP_REQUEST *req;
    OCSP_CERTID *cid;       /* owned by req */
    X509 *issuer;           /* a reference of our own */
    const unsigned char *der;
    apr_size_t der_len;
    int nonce;              /* we sent one: an answer must echo it or none */
};

static const char *const STATUS_NAMES[] = { "unknown", "good", "revoked" };

const char *md_ocsp_status_name(md_ocsp_status_t status)
{
    return (status >= MD_OCSP_UNKNOWN && status <= MD_OCSP_REVOKED) ? STATUS_NAMES[status] : "unknown";
}

static md_ocsp_status_t status_parse(const char *name)
{
    if (name && !strcmp(name, "good")) return MD_OCSP_GOOD;
    if (name && !strcmp(name, "revoked")) return MD_OCSP_REVOKED;
    return MD_OCSP_UNKNOWN;
}

/* ---- certificates ------------------------------------------------------------ */

const char *md_ocsp_file_name(const unsigned char *id, apr_size_t id_len, apr_pool_t *p)
{
    return apr_pstrcat(p, "ocsp-", md_hex_encode(id, id_len, p), ".json", NULL);
}

const char *md_ocsp_responder_url(const md_cert_t *cert, apr_pool_t *p)
{
    STACK_OF(OPENSSL_STRING) *urls;
    const char *url = NULL;

    if (!md_cert_x509(cert)) return NULL;
    urls = X509_get1_ocsp(md_cert_x509(cert));
    if (urls && sk_OPENSSL_STRING_num(urls) > 0) {
        url = apr_pstrdup(p, sk_OPENSSL_STRING_value(urls, 0));
    }
    X509_email_free(urls);
    return url;
}

/* ---- request ------------------------------------------------------------------ */

static apr_status_t req_cleanup(void *data)
{
    md_ocsp_req_t *req = data;

    OCSP_REQUEST_free(req->req);
    X509_free(req->issuer);
    req->req = NULL;
    req->issuer = NULL;
    return APR_SUCCESS;
}

static apr_status_t req_make(md_ocsp_req_t **preq, const md_cert_t *cert, const md_cert_t *issuer,
                             int nonce, apr_pool_t *p)
{
    md_ocsp_req_t *req = apr_pcalloc(p, sizeof(*req));
    OCSP_CERTID *cid;
    unsigned char *der = NULL;
    int len;

    *preq = NULL;
    req->req = OCSP_REQUEST_new();
    if (!req->req) return APR_ENOMEM;
    apr_pool_cleanup_register(p, req, req_cleanup, apr_pool_cleanup_null);
    /* 1. the certificate id: SHA-1 of the issuer's name and key, and the serial */
    cid = OCSP_cert_to_id(EVP_sha1(), md_cert_x509(cert), md_cert_x509(issuer));
    if (!cid) return APR_EINVAL;
    if (!OCSP_request_add0_id(req->req, cid)) {
        OCSP_CERTID_free(cid);
        return APR_ENOMEM;
    }
    req->cid = cid;
    if (!X509_up_ref(md_cert_x509(issuer))) return APR_EGENERAL;
    req->issuer = md_cert_x509(issuer);
    /* 2. a random nonce (RFC 8954: 32 bytes), so a replayed answer is noticed */
    req->nonce = nonce;
    if (nonce && !OCSP_request_add1_nonce(req->req, NULL, 32)) return APR_ENOMEM;
    /* 3. the DER body */
    len = i2d_OCSP_REQUEST(req->req, &der);
    if (len <= 0) return APR_EGENERAL;
    req->der = apr_pmemdup(p, der, (apr_size_t)len);
    req->der_len = (apr_size_t)len;
    OPENSSL_free(der);
    *preq = req;
    return APR_SUCCESS;
}

apr_status_t md_ocsp_req_create(md_ocsp_req_t **preq, const md_cert_t *cert,
                                const md_cert_t *issuer, apr_pool_t *p)
{
    return req_make(preq, cert, issuer, 1, p);
}

apr_status_t md_ocsp_req_for_check(md_ocsp_req_t **preq, const md_cert_t *cert,
                                   const md_cert_t *issuer, apr_pool_t *p)
{
    return req_make(preq, cert, issuer, 0, p);
}

void md_ocsp_req_der(const unsigned char **pder, apr_size_t *plen, const md_ocsp_req_t *req)
{
    *pder = req->der;
    *plen = req->der_len;
}

/* ---- response ------------------------------------------------------------------ */

/* A trust store for the responder's signature: the issuer alone is the anchor (it is
 * not self-signed, hence the partial chain). The caller frees it. */
static X509_STORE *issuer_store(X509 *issuer)
{
    X509_STORE *store = X509_STORE_new();

    if (store && (!X509_STORE_add_cert(store, issuer)
                  || !X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN))) {
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

/* The signature and the nonce. */
static apr_status_t basic_verify(OCSP_BASICRESP *bs, const md_ocsp_req_t *req, X509 *issuer,
                                 md_result_t *result)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = issuer_store(issuer);
    apr_status_t rv = APR_SUCCESS;
    int nonce;

    if (!untrusted || !store || !sk_X509_push(untrusted, issuer)) {
        rv = APR_ENOMEM;
        goto leave;
    }
    /* the signature, by the issuer itself or by a responder it certified for OCSP */
    if (OCSP_basic_verify(bs, untrusted, store, 0) <= 0) {
        md_result_set(result, APR_EINVAL, "the response signature does not verify against "
                      "the certificate's issuer (nor a responder the issuer delegated to)");
        rv = APR_EINVAL;
        goto leave;
    }
    /* 1 echoed, 2 neither side, -1 not echoed (allowed: many responders never do) */
    nonce = OCSP_check_nonce(req->req, bs);
    if (req->nonce && (nonce == 0 || nonce == 3)) {
        md_result_set(result, APR_EINVAL, "the response carries a nonce other than ours");
        rv = APR_EINVAL;
    }
leave:
    sk_X509_free(untrusted);   /* the issuer is not ours to free */
    X509_STORE_free(store);
    return rv;
}

static apr_status_t single_status(md_ocsp_resp_t *resp, OCSP_BASICRESP *bs,
                                  const md_ocsp_req_t *req, apr_time_t now, md_result_t *result)
{
    ASN1_GENERALIZEDTIME *rev = NULL, *this_upd = NULL, *next_upd = NULL;
    int status = V_OCSP_CERTSTATUS_UNKNOWN, reason = 0;

    if (OCSP_resp_find_status(bs, req->cid, &status, &reason, &rev, &this_upd, &next_upd) != 1) {
        md_result_set(result, APR_EINVAL, "the response does not speak about the certificate "
                      "we asked for");
        return APR_EINVAL;
    }
    resp->valid_from = md_asn1_time_to_apr(this_upd);
    resp->valid_until = md_asn1_time_to_apr(next_upd);
    if (!this_upd || resp->valid_from > now + apr_time_from_sec(MD_OCSP_SKEW_SEC)
        || (next_upd && resp->valid_until < now - apr_time_from_sec(MD_OCSP_SKEW_SEC))
        || (next_upd && resp->valid_until < resp->valid_from)) {
        md_result_set(result, APR_EINVAL, "the response is not valid now (thisUpdate %s, "
                      "nextUpdate %s)", md_time_print(resp->valid_from, result->p),
                      next_upd ? md_time_print(resp->valid_until, result->p) : "none");
        return APR_EINVAL;
    }
    resp->status = (status == V_OCSP_CERTSTATUS_GOOD) ? MD_OCSP_GOOD
                 : (status == V_OCSP_CERTSTATUS_REVOKED) ? MD_OCSP_REVOKED : MD_OCSP_UNKNOWN;
    return APR_SUCCESS;
}

static apr_status_t resp_parse(OCSP_RESPONSE **pocsp, const unsigned char *der, apr_size_t len,
                               md_result_t *result)
{
    const unsigned char *d = der;
    int status;

    *pocsp = (len && len < MD_OCSP_MAX_RESP) ? d2i_OCSP_RESPONSE(NULL, &d, (long)len) : NULL;
    if (!*pocsp) {
        md_result_set(result, APR_EINVAL, "the responder's answer is not an OCSP response");
        return APR_EINVAL;
    }
    status = OCSP_response_status(*pocsp);
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        md_result_set(result, APR_EINVAL, "the responder answered '%s'",
                      OCSP_response_status_str(status));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_ocsp_resp_check(md_ocsp_resp_t **presp, const md_ocsp_req_t *req,
                                const unsigned char *der, apr_size_t len, apr_time_t now,
                                md_result_t *result, apr_pool_t *p)
{
    md_ocsp_resp_t *resp = apr_pcalloc(p, sizeof(*resp));
    OCSP_RESPONSE *ocsp = NULL;
    OCSP_BASICRESP *bs = NULL;
    apr_status_t rv;

    *presp = NULL;
    /* 1. a successful response with a basic response inside */
    rv = resp_parse(&ocsp, der, len, result);
    if (rv != APR_SUCCESS) goto leave;
    bs = OCSP_response_get1_basic(ocsp);
    if (!bs) {
        md_result_set(result, APR_EINVAL, "the OCSP response has no basic response");
        rv = APR_EINVAL;
        goto leave;
    }
    /* 2. signed for the issuer we asked about, echoing our nonce */
    rv = basic_verify(bs, req, req->issuer, result);
    if (rv != APR_SUCCESS) goto leave;
    /* 3. the status of our certificate, valid now */
    rv = single_status(resp, bs, req, now, result);
    if (rv != APR_SUCCESS) goto leave;
    resp->der = apr_pmemdup(p, der, len);
    resp->der_len = len;
    *presp = resp;
leave:
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(ocsp);
    return rv;
}

apr_status_t md_ocsp_fetch(md_ocsp_resp_t **presp, md_http_t *http, const char *url,
                           const md_ocsp_req_t *req, md_result_t *result, apr_pool_t *p)
{
    md_http_request_t hreq;
    md_http_response_t *hresp = NULL;
    apr_status_t rv;

    *presp = NULL;
    md_result_activity(result, "fetching an OCSP response from %s", url);
    memset(&hreq, 0, sizeof(hreq));
    hreq.method = "POST";
    hreq.url = url;
    hreq.content_type = "application/ocsp-request";
    hreq.body = (const char *)req->der;
    hreq.body_len = req->der_len;
    rv = md_http_perform(&hresp, http, &hreq, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "the OCSP responder did not answer");
        return rv;
    }
    if (hresp->status != 200) {
        md_result_set(result, APR_EGENERAL, "the OCSP responder answered HTTP %d", hresp->status);
        result->retry_after = md_http_retry_after(hresp, apr_time_now());
        return APR_EGENERAL;
    }
    return md_ocsp_resp_check(presp, req, (const unsigned char *)hresp->body, hresp->body_len,
                              apr_time_now(), result, p);
}

/* ---- persistence ------------------------------------------------------------------ */

md_json_t *md_ocsp_resp_to_json(const md_ocsp_resp_t *resp, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(md_b64url_encode(resp->der, resp->der_len, p), j, MD_KEY_RESPONSE, NULL);
    md_json_sets(md_ocsp_status_name(resp->status), j, MD_KEY_STATUS, NULL);
    md_json_sets(md_time_print(resp->valid_from, p), j, MD_KEY_VALID, MD_KEY_FROM, NULL);
    if (resp->valid_until) {
        md_json_sets(md_time_print(resp->valid_until, p), j, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    }
    if (resp->fetched_by) md_json_sets(resp->fetched_by, j, MD_KEY_FETCHED_BY, NULL);
    return j;
}

apr_status_t md_ocsp_resp_from_json(md_ocsp_resp_t **presp, const md_json_t *json,
                                    apr_pool_t *p)
{
    md_ocsp_resp_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *b64 = md_json_gets(json, MD_KEY_RESPONSE, NULL);
    apr_status_t rv;

    *presp = NULL;
    if (!b64) return APR_EINVAL;
    rv = md_b64url_decode(&resp->der, &resp->der_len, b64, p);
    if (rv != APR_SUCCESS || !resp->der_len) return APR_EINVAL;
    resp->status = status_parse(md_json_gets(json, MD_KEY_STATUS, NULL));
    resp->valid_from = md_time_parse(md_json_gets(json, MD_KEY_VALID, MD_KEY_FROM, NULL));
    resp->valid_until = md_time_parse(md_json_gets(json, MD_KEY_VALID, MD_KEY_UNTIL, NULL));
    resp->fetched_by = md_json_gets(json, MD_KEY_FETCHED_BY, NULL);
    *presp = resp;
    return APR_SUCCESS;
}

apr_status_t md_ocsp_resp_load(md_ocsp_resp_t **presp, const md_store_t *store,
                               const char *name, const char *file, apr_pool_t *p)
{
    md_json_t *j;
    apr_status_t rv;

    *presp = NULL;
    rv = md_store_load_json(&j, store, MD_SG_OCSP, name, file, p);
    return rv == APR_SUCCESS ? md_ocsp_resp_from_json(presp, j, p) : rv;
}

apr_status_t md_ocsp_resp_save(const md_ocsp_resp_t *resp, const md_store_t *store,
                               const char *name, const char *file, apr_pool_t *p)
{
    return md_store_save_json(store, MD_SG_OCSP, name, file, md_ocsp_resp_to_json(resp, p), p);
}

int md_ocsp_md_revoked(const md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const md_served_t *served;
    md_ocsp_resp_t *resp;
    int i;

    for (i = 0; store && md->served && i < md->served->nelts; ++i) {
        served = APR_ARRAY_IDX(md->served, i, const md_served_t *);
        if (served && served->ocsp_file
            && md_ocsp_resp_load(&resp, store, md->name, served->ocsp_file, p) == APR_SUCCESS
            && resp->status == MD_OCSP_REVOKED) {
            return 1;
        }
    }
    return 0;
}

static int prune_dir(const md_store_t *store, const char *name, apr_interval_time_t keep,
                     apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *files;
    md_ocsp_resp_t *resp;
    apr_finfo_t info;
    int i, removed = 0;

    if (md_store_list(&files, store, MD_SG_OCSP, name, p) != APR_SUCCESS) return 0;
    for (i = 0; i < files->nelts; ++i) {
        const char *fn = APR_ARRAY_IDX(files, i, const char *);
        apr_size_t len = strlen(fn);
        if (strncmp(fn, "ocsp-", 5) || len < 10 || strcmp(fn + len - 5, ".json")) continue;
        if (md_store_info(&info, store, MD_SG_OCSP, name, fn, p) != APR_SUCCESS) continue;
        if (md_ocsp_resp_load(&resp, store, name, fn, p) != APR_SUCCESS) resp = NULL;
        if (md_ocsp_should_prune(resp, info.mtime, keep, now)
            && md_store_remove(store, MD_SG_OCSP, name, fn, p) == APR_SUCCESS) {
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "MD8001: removed the old OCSP "
                          "response %s/%s", name, fn);
            ++removed;
        }
    }
    return removed;
}

int md_ocsp_prune(const md_store_t *store, apr_interval_time_t keep, apr_time_t now,
                  apr_pool_t *p)
{
    apr_array_header_t *names;
    int i, removed = 0;

    if (md_store_names(&names, store, MD_SG_OCSP, p) != APR_SUCCESS) return 0;
    for (i = 0; i < names->nelts; ++i) {
        removed += prune_dir(store, APR_ARRAY_IDX(names, i, const char *), keep, now, p);
    }
    return removed;
}

/* ---- decisions (pure) --------------------------------------------------------------- */

static apr_time_t resp_end(const md_ocsp_resp_t *resp)
{
    return resp->valid_until ? resp->valid_until
                             : resp->valid_from + MD_OCSP_NO_NEXT_UPDATE_REFRESH;
}

apr_time_t md_ocsp_renew_at(const md_timeslice_t *window, const md_ocsp_resp_t *resp,
                            apr_time_t fetched_at, apr_time_t now)
{
    apr_time_t at, earliest = fetched_at + MD_OCSP_MIN_REFRESH;

    if (!resp) return now;
    if (resp->valid_until) {
        at = resp->valid_until - md_timeslice_length(window, resp->valid_from, resp->valid_until);
    }
    else {
        at = resp_end(resp);
    }
    return at < earliest ? earliest : at;
}

apr_interval_time_t md_ocsp_retry_delay(int errors, double jitter)
{
    apr_interval_time_t delay = apr_time_from_sec(5), cap = apr_time_from_sec(10 * 60);
    int i;

    for (i = 1; i < errors && delay < cap; ++i) delay *= 2;
    if (delay > cap) delay = cap;
    if (jitter < -0.5) jitter = -0.5;
    if (jitter > 0.5) jitter = 0.5;
    return delay + (apr_interval_time_t)((double)delay * jitter / 2.0);
}

int md_ocsp_servable(const md_ocsp_resp_t *resp, apr_time_t now)
{
    return resp && resp->der_len && now < resp_end(resp);
}

int md_ocsp_should_prune(const md_ocsp_resp_t *resp, apr_time_t written, apr_interval_time_t keep,
                         apr_time_t now)
{
    if (written + keep > now) return 0;         /* written recently */
    return !resp || !md_ocsp_servable(resp, now);
}
