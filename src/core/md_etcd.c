/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* etcd's v3 JSON gateway over md_http (see md_etcd.h). Each call is one POST of a JSON
 * body to <endpoint>/v3/<path>; 64-bit numbers go as strings, as the gateway writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "md_etcd.h"
#include "md_http.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_log.h"

/* gRPC status codes the gateway puts in "code" */
#define GRPC_INVALID_ARGUMENT 3
#define GRPC_NOT_FOUND 5
#define GRPC_PERMISSION_DENIED 7
#define GRPC_UNAVAILABLE 14
#define GRPC_UNAUTHENTICATED 16

#define MD_ETCD_MAX_BODY (16 * 1024 * 1024)

struct md_etcd_t {
    md_etcd_config_t config;
    md_http_t *http;
    int current;                /* the endpoint requests go to first */
    const char *token;          /* auth token, in the client's pool */
    apr_pool_t *pool;
    char error[512];
};

struct md_etcd_txn_t {
    apr_pool_t *pool;
    md_json_t *compare;
    md_json_t *success;
};

static const char *b64(const void *data, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));

    apr_base64_encode_binary(out, data, (int)len);
    return out;
}

/* Decoded bytes, NUL-terminated; "" for NULL (the gateway leaves out empty values). */
static const char *unb64(apr_size_t *plen, const char *s, apr_pool_t *p)
{
    char *out;
    int len;

    if (!s) s = "";
    out = apr_palloc(p, (apr_size_t)apr_base64_decode_len(s) + 1);
    len = apr_base64_decode_binary((unsigned char *)out, s);
    out[len] = '\0';
    if (plen) *plen = (apr_size_t)len;
    return out;
}

/* A 64-bit number the gateway sends as a string (or a number); 0 when absent. */
static apr_int64_t get_i64(const md_json_t *j, const char *key)
{
    const char *s = md_json_gets(j, key, NULL);

    return s ? apr_atoi64(s) : (apr_int64_t)md_json_getl(j, key, NULL);
}

static const char *i64_str(apr_int64_t v, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

static void set_error(md_etcd_t *etcd, const char *msg)
{
    apr_cpystrn(etcd->error, msg, sizeof(etcd->error));
}

static apr_status_t status_of(long code, const char *path, const char *msg)
{
    if (code == GRPC_NOT_FOUND) return APR_ENOENT;
    if (code == GRPC_PERMISSION_DENIED || code == GRPC_UNAUTHENTICATED) return APR_EACCES;
    /* wrong credentials, or none where the engine wants them */
    if (code == GRPC_INVALID_ARGUMENT && !strcmp(path, "/auth/authenticate")) return APR_EACCES;
    if (code == GRPC_INVALID_ARGUMENT && msg && strstr(msg, "user name is empty")) return APR_EACCES;
    return APR_EGENERAL;
}

/* One POST to the current endpoint, then to each other one while none answers. A
 * member that answers "unavailable" (no quorum, no leader) counts as not answering. */
static apr_status_t post_any(md_http_response_t **presp, md_etcd_t *etcd, md_http_request_t *req,
                             const char *path, apr_pool_t *p)
{
    int n = etcd->config.endpoints->nelts, i;
    const char *base;
    apr_status_t rv;

    for (i = 0; i < n; ++i) {
        base = APR_ARRAY_IDX(etcd->config.endpoints, etcd->current, const char *);
        req->url = apr_pstrcat(p, base, "/v3", path, NULL);
        rv = md_http_perform(presp, etcd->http, req, p);
        if (rv == APR_SUCCESS && (*presp)->status != 503) return APR_SUCCESS;
        set_error(etcd, apr_psprintf(p, "etcd at %s %s", base, rv == APR_SUCCESS ?
                                     "is unavailable (no quorum?)" : rv == MD_HTTP_EVERIFY ?
                                     "has a certificate this node does not trust (ca=FILE names "
                                     "the CA that signed it)" : "cannot be reached"));
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "MD1760: %s", etcd->error);
        etcd->current = (etcd->current + 1) % n;
    }
    return APR_ECONNREFUSED;
}

/* The answer's JSON, or the engine's error as a status and a message. */
static apr_status_t answer(md_json_t **presp, long *pcode, md_etcd_t *etcd,
                           const md_http_response_t *resp, const char *path, apr_pool_t *p)
{
    md_json_t *j = NULL;
    const char *msg;

    *pcode = 0;
    if (md_json_parse(&j, resp->body, resp->body_len, p) != APR_SUCCESS) {
        set_error(etcd, apr_psprintf(p, "etcd answered %s with HTTP %d and no JSON", path, resp->status));
        return APR_EGENERAL;
    }
    if (resp->status == 200) {
        *presp = j;
        return APR_SUCCESS;
    }
    *pcode = md_json_getl(j, MD_KEY_ETCD_CODE, NULL);
    msg = md_json_gets(j, MD_KEY_ETCD_MESSAGE, NULL);
    set_error(etcd, apr_psprintf(p, "etcd refused %s: %s", path, msg ? msg : "(no message)"));
    if (*pcode == GRPC_UNAVAILABLE) return APR_ECONNREFUSED;
    return status_of(*pcode, path, msg);
}

static apr_status_t call_once(md_json_t **presp, long *pcode, md_etcd_t *etcd, const char *path,
                              const md_json_t *body, apr_pool_t *p)
{
    md_http_request_t req;
    md_http_response_t *resp;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.content_type = "application/json";
    req.body = md_json_dump(body, MD_JSON_COMPACT, p);
    req.body_len = strlen(req.body);
    etcd->http->config.authorization = etcd->token;
    *pcode = 0;
    rv = post_any(&resp, etcd, &req, path, p);
    if (rv != APR_SUCCESS) return rv;
    return answer(presp, pcode, etcd, resp, path, p);
}

/* An auth token for the configured user, kept until the engine says it is no good. */
static apr_status_t authenticate(md_etcd_t *etcd, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *resp;
    const char *token;
    long code;
    apr_status_t rv;

    etcd->token = NULL;
    md_json_sets(etcd->config.user, body, MD_KEY_ETCD_NAME, NULL);
    md_json_sets(etcd->config.password ? etcd->config.password : "", body, MD_KEY_ETCD_PASSWORD, NULL);
    rv = call_once(&resp, &code, etcd, "/auth/authenticate", body, p);
    if (rv != APR_SUCCESS) return rv;
    token = md_json_gets(resp, MD_KEY_ETCD_TOKEN, NULL);
    if (!token) {
        set_error(etcd, apr_psprintf(p, "etcd gave user %s no auth token (is authentication enabled?)",
                                     etcd->config.user));
        return APR_EACCES;
    }
    etcd->token = apr_pstrdup(etcd->pool, token);
    return APR_SUCCESS;
}

/* A call with the auth token; an expired token is renewed once. */
static apr_status_t call(md_json_t **presp, md_etcd_t *etcd, const char *path, const md_json_t *body,
                         apr_pool_t *p)
{
    long code;
    apr_status_t rv;

    if (etcd->config.user && !etcd->token) {
        rv = authenticate(etcd, p);
        if (rv != APR_SUCCESS) return rv;
    }
    rv = call_once(presp, &code, etcd, path, body, p);
    if (rv == APR_EACCES && code == GRPC_UNAUTHENTICATED && etcd->config.user) {
        rv = authenticate(etcd, p);
        if (rv == APR_SUCCESS) rv = call_once(presp, &code, etcd, path, body, p);
    }
    return rv;
}

apr_status_t md_etcd_create(md_etcd_t **petcd, const md_etcd_config_t *config, apr_pool_t *p)
{
    md_etcd_t *etcd = apr_pcalloc(p, sizeof(*etcd));
    md_http_config_t hc;

    *petcd = NULL;
    if (!config->endpoints || config->endpoints->nelts == 0) return APR_EINVAL;
    etcd->config = *config;
    etcd->pool = p;
    if (!etcd->config.timeout) etcd->config.timeout = apr_time_from_sec(10);
    memset(&hc, 0, sizeof(hc));
    hc.ca_file = config->ca_file;
    hc.user_agent = "mod_md-etcd";
    hc.connect_timeout = etcd->config.timeout;
    hc.timeout = etcd->config.timeout;
    hc.max_body = MD_ETCD_MAX_BODY;
    hc.cancel = config->cancel;
    hc.direct = 1;              /* the engine is the farm's own, never behind an http_proxy */
    *petcd = etcd;
    return md_http_create(&etcd->http, &hc, p);
}

const char *md_etcd_error(const md_etcd_t *etcd)
{
    return etcd->error[0] ? etcd->error : "no error";
}

const char *md_etcd_endpoint(const md_etcd_t *etcd)
{
    return APR_ARRAY_IDX(etcd->config.endpoints, etcd->current, const char *);
}

/* The range_end etcd takes for "every key starting with prefix". */
static const char *prefix_end(const char *prefix, apr_pool_t *p)
{
    char *end = apr_pstrdup(p, prefix);
    apr_size_t i = strlen(end);

    /* the smallest key greater than all keys with the prefix: last byte below 0xff plus one */
    while (i > 0) {
        --i;
        if ((unsigned char)end[i] < 0xff) {
            end[i] = (char)((unsigned char)end[i] + 1);
            end[i + 1] = '\0';
            return end;
        }
    }
    return "\0";                /* every key */
}

static md_etcd_kv_t *kv_from_json(const md_json_t *j, apr_pool_t *p)
{
    md_etcd_kv_t *kv = apr_pcalloc(p, sizeof(*kv));

    kv->key = unb64(NULL, md_json_gets(j, MD_KEY_ETCD_KEY, NULL), p);
    kv->value = unb64(&kv->value_len, md_json_gets(j, MD_KEY_ETCD_VALUE, NULL), p);
    kv->create_revision = get_i64(j, MD_KEY_ETCD_CREATE_REV);
    kv->mod_revision = get_i64(j, MD_KEY_ETCD_MOD_REV);
    kv->version = get_i64(j, MD_KEY_ETCD_VERSION);
    kv->lease = get_i64(j, MD_KEY_ETCD_LEASE);
    return kv;
}

static apr_status_t range(md_json_t **presp, md_etcd_t *etcd, const char *key, const char *end,
                          int keys_only, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p);

    md_json_sets(b64(key, strlen(key), p), body, MD_KEY_ETCD_KEY, NULL);
    if (end) md_json_sets(b64(end, strlen(end), p), body, MD_KEY_ETCD_RANGE_END, NULL);
    if (keys_only) md_json_setb(1, body, MD_KEY_ETCD_KEYS_ONLY, NULL);
    return call(presp, etcd, "/kv/range", body, p);
}

apr_status_t md_etcd_get(md_etcd_kv_t **pkv, md_etcd_t *etcd, const char *key, apr_pool_t *p)
{
    md_json_t *resp, *kvs;
    apr_status_t rv;

    *pkv = NULL;
    rv = range(&resp, etcd, key, NULL, 0, p);
    if (rv != APR_SUCCESS) return rv;
    kvs = md_json_getj(resp, MD_KEY_ETCD_KVS, NULL);
    if (!kvs || md_json_array_len(kvs) == 0) return APR_ENOENT;
    *pkv = kv_from_json(md_json_array_at(kvs, 0), p);
    return APR_SUCCESS;
}

apr_status_t md_etcd_get_prefix(apr_array_header_t **pkvs, apr_int64_t *prevision, md_etcd_t *etcd,
                                const char *prefix, int keys_only, apr_pool_t *p)
{
    return md_etcd_get_range(pkvs, prevision, etcd, prefix, prefix_end(prefix, p), keys_only, p);
}

apr_status_t md_etcd_get_range(apr_array_header_t **pkvs, apr_int64_t *prevision, md_etcd_t *etcd,
                               const char *key, const char *end, int keys_only, apr_pool_t *p)
{
    md_json_t *resp, *kvs, *header;
    apr_size_t i, n;
    apr_status_t rv;

    *pkvs = apr_array_make(p, 10, sizeof(md_etcd_kv_t *));
    rv = range(&resp, etcd, key, end, keys_only, p);
    if (rv != APR_SUCCESS) return rv;
    header = md_json_getj(resp, MD_KEY_ETCD_HEADER, NULL);
    if (prevision) *prevision = header ? get_i64(header, MD_KEY_ETCD_REVISION) : 0;
    kvs = md_json_getj(resp, MD_KEY_ETCD_KVS, NULL);
    n = kvs ? md_json_array_len(kvs) : 0;
    for (i = 0; i < n; ++i) {
        APR_ARRAY_PUSH(*pkvs, md_etcd_kv_t *) = kv_from_json(md_json_array_at(kvs, i), p);
    }
    return APR_SUCCESS;
}

static md_json_t *put_json(const char *key, const void *value, apr_size_t len, apr_int64_t lease,
                           apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);

    md_json_sets(b64(key, strlen(key), p), j, MD_KEY_ETCD_KEY, NULL);
    md_json_sets(b64(value, len, p), j, MD_KEY_ETCD_VALUE, NULL);
    if (lease) md_json_sets(i64_str(lease, p), j, MD_KEY_ETCD_LEASE, NULL);
    return j;
}

apr_status_t md_etcd_put(md_etcd_t *etcd, const char *key, const void *value, apr_size_t len,
                         apr_int64_t lease, apr_pool_t *p)
{
    md_json_t *resp;

    return call(&resp, etcd, "/kv/put", put_json(key, value, len, lease, p), p);
}

static md_json_t *delete_json(const char *key, int prefix, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    const char *end;

    md_json_sets(b64(key, strlen(key), p), j, MD_KEY_ETCD_KEY, NULL);
    if (prefix) {
        end = prefix_end(key, p);
        md_json_sets(b64(end, strlen(end), p), j, MD_KEY_ETCD_RANGE_END, NULL);
    }
    return j;
}

apr_status_t md_etcd_delete(md_etcd_t *etcd, const char *key, int prefix, apr_pool_t *p)
{
    md_json_t *resp;

    return call(&resp, etcd, "/kv/deleterange", delete_json(key, prefix, p), p);
}

apr_status_t md_etcd_lease_grant(apr_int64_t *please, md_etcd_t *etcd, long ttl, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *resp;
    apr_status_t rv;

    *please = 0;
    md_json_setl(ttl, body, MD_KEY_ETCD_TTL, NULL);
    rv = call(&resp, etcd, "/lease/grant", body, p);
    if (rv != APR_SUCCESS) return rv;
    *please = get_i64(resp, MD_KEY_ETCD_ID);
    return *please ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t md_etcd_lease_keepalive(long *pttl, md_etcd_t *etcd, apr_int64_t lease, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *resp, *result;
    apr_status_t rv;

    *pttl = 0;
    md_json_sets(i64_str(lease, p), body, MD_KEY_ETCD_ID, NULL);
    rv = call(&resp, etcd, "/lease/keepalive", body, p);
    if (rv != APR_SUCCESS) return rv;
    /* the gateway streams: one {"result": ...} per request; no TTL means it is gone */
    result = md_json_getj(resp, MD_KEY_ETCD_RESULT, NULL);
    *pttl = result ? (long)get_i64(result, MD_KEY_ETCD_TTL) : 0;
    if (*pttl > 0) return APR_SUCCESS;
    set_error(etcd, apr_psprintf(p, "etcd lease %" APR_INT64_T_FMT " has expired", lease));
    return APR_ENOENT;
}

apr_status_t md_etcd_lease_revoke(md_etcd_t *etcd, apr_int64_t lease, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *resp;

    md_json_sets(i64_str(lease, p), body, MD_KEY_ETCD_ID, NULL);
    return call(&resp, etcd, "/lease/revoke", body, p);
}

md_etcd_txn_t *md_etcd_txn_make(apr_pool_t *p)
{
    md_etcd_txn_t *txn = apr_pcalloc(p, sizeof(*txn));

    txn->pool = p;
    txn->compare = md_json_create_array(p);
    txn->success = md_json_create_array(p);
    return txn;
}

void md_etcd_txn_compare(md_etcd_txn_t *txn, const char *key, md_etcd_target_t target,
                         apr_int64_t value)
{
    static const char *const targets[] = { "VERSION", "CREATE", "MOD" };
    static const char *const fields[] = {
        MD_KEY_ETCD_VERSION, MD_KEY_ETCD_CREATE_REV, MD_KEY_ETCD_MOD_REV
    };
    apr_pool_t *p = txn->pool;
    md_json_t *c = md_json_create(p);

    md_json_sets(b64(key, strlen(key), p), c, MD_KEY_ETCD_KEY, NULL);
    md_json_sets(targets[target], c, MD_KEY_ETCD_TARGET, NULL);
    md_json_sets("EQUAL", c, MD_KEY_ETCD_RESULT, NULL);
    md_json_sets(i64_str(value, p), c, fields[target], NULL);
    md_json_array_append(txn->compare, c);
}

void md_etcd_txn_put(md_etcd_txn_t *txn, const char *key, const void *value, apr_size_t len,
                     apr_int64_t lease)
{
    md_json_t *op = md_json_create(txn->pool);

    md_json_setj(put_json(key, value, len, lease, txn->pool), op, MD_KEY_ETCD_REQ_PUT, NULL);
    md_json_array_append(txn->success, op);
}

void md_etcd_txn_delete(md_etcd_txn_t *txn, const char *key)
{
    md_json_t *op = md_json_create(txn->pool);

    md_json_setj(delete_json(key, 0, txn->pool), op, MD_KEY_ETCD_REQ_DELETE, NULL);
    md_json_array_append(txn->success, op);
}

void md_etcd_txn_delete_prefix(md_etcd_txn_t *txn, const char *prefix)
{
    md_json_t *op = md_json_create(txn->pool);

    md_json_setj(delete_json(prefix, 1, txn->pool), op, MD_KEY_ETCD_REQ_DELETE, NULL);
    md_json_array_append(txn->success, op);
}

apr_status_t md_etcd_txn_commit(int *psucceeded, md_etcd_t *etcd, md_etcd_txn_t *txn,
                                apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *resp;
    apr_status_t rv;

    *psucceeded = 0;
    md_json_setj(txn->compare, body, MD_KEY_ETCD_COMPARE, NULL);
    md_json_setj(txn->success, body, MD_KEY_ETCD_SUCCESS, NULL);
    rv = call(&resp, etcd, "/kv/txn", body, p);
    if (rv != APR_SUCCESS) return rv;
    *psucceeded = md_json_getb(resp, MD_KEY_ETCD_SUCCEEDED, NULL);
    return APR_SUCCESS;
}

/* ---- watches -------------------------------------------------------------------------- */

typedef struct {
    md_etcd_t *etcd;
    const md_etcd_watch_t *watch;
    apr_pool_t *bp;             /* the message being received */
    apr_pool_t *mp;             /* a message's JSON and events, cleared after each */
    char *buf;
    apr_size_t len, cap;
    apr_int64_t next;
    apr_status_t rv;            /* why the watch was ended from here */
    int answered;               /* the engine sent something: the endpoint is up */
} watch_ctx_t;

static md_json_t *watch_request(const md_etcd_watch_t *watch, apr_pool_t *p)
{
    md_json_t *body = md_json_create(p), *create = md_json_create(p);
    const char *end = prefix_end(watch->prefix, p);

    md_json_sets(b64(watch->prefix, strlen(watch->prefix), p), create, MD_KEY_ETCD_KEY, NULL);
    md_json_sets(b64(end, strlen(end), p), create, MD_KEY_ETCD_RANGE_END, NULL);
    if (watch->start_revision > 0) {
        md_json_sets(i64_str(watch->start_revision, p), create, MD_KEY_ETCD_START_REV, NULL);
    }
    /* the engine's heartbeat (every 10 minutes by default): a quiet watch is still alive */
    md_json_setb(1, create, MD_KEY_ETCD_PROGRESS, NULL);
    md_json_setj(create, body, MD_KEY_ETCD_CREATE_REQ, NULL);
    return body;
}

/* The engine ended the watch: compaction, or a reason in words. */
static apr_status_t watch_canceled(watch_ctx_t *ctx, const md_json_t *result)
{
    apr_int64_t compacted = get_i64(result, MD_KEY_ETCD_COMPACT_REV);
    const char *why = md_json_gets(result, MD_KEY_ETCD_CANCEL_WHY, NULL);

    if (compacted > 0) {
        set_error(ctx->etcd, apr_psprintf(ctx->mp, "etcd compacted its history up to revision %"
                                          APR_INT64_T_FMT, compacted));
        ctx->next = compacted;
        return MD_ETCD_ECOMPACTED;
    }
    set_error(ctx->etcd, apr_psprintf(ctx->mp, "etcd ended the watch: %s", why ? why : "no reason given"));
    return APR_EGENERAL;
}

/* One message of the stream: events move the resume point past the last of them; a
 * progress notice (no events) says every change up to its header's revision was sent.
 * The "created" answer says nothing of the sort when catching up from an old revision. */
static apr_status_t watch_message(watch_ctx_t *ctx, const char *line, apr_size_t len)
{
    md_json_t *j, *result, *events, *ev;
    apr_array_header_t *list;
    md_etcd_event_t *e;
    const char *type;
    apr_size_t i, n;
    apr_int64_t rev;

    if (md_json_parse(&j, line, len, ctx->mp) != APR_SUCCESS) {
        set_error(ctx->etcd, "etcd sent a watch message that is not JSON");
        return APR_EGENERAL;
    }
    result = md_json_getj(j, MD_KEY_ETCD_RESULT, NULL);
    if (!result) {
        const char *msg = md_json_gets(j, MD_KEY_ETCD_ERROR, MD_KEY_ETCD_MESSAGE, NULL);
        /* a stream's error says grpc_code, a unary answer's code */
        long code = md_json_has(j, MD_KEY_ETCD_ERROR, MD_KEY_ETCD_GRPC_CODE, NULL)
                    ? md_json_getl(j, MD_KEY_ETCD_ERROR, MD_KEY_ETCD_GRPC_CODE, NULL)
                    : md_json_getl(j, MD_KEY_ETCD_ERROR, MD_KEY_ETCD_CODE, NULL);

        set_error(ctx->etcd, apr_psprintf(ctx->mp, "etcd refused the watch: %s", msg ? msg : line));
        return code == GRPC_UNAVAILABLE ? APR_ECONNREFUSED : status_of(code, "/watch", msg);
    }
    if (md_json_getb(result, MD_KEY_ETCD_CANCELED, NULL)) return watch_canceled(ctx, result);
    rev = md_json_getj(result, MD_KEY_ETCD_HEADER, NULL)
          ? get_i64(md_json_getj(result, MD_KEY_ETCD_HEADER, NULL), MD_KEY_ETCD_REVISION) : 0;
    if (md_json_getb(result, MD_KEY_ETCD_CREATED, NULL)) {
        if (ctx->watch->start_revision <= 0 && rev > 0) ctx->next = rev + 1;
        return APR_SUCCESS;
    }
    list = apr_array_make(ctx->mp, 4, sizeof(md_etcd_event_t *));
    events = md_json_getj(result, MD_KEY_ETCD_EVENTS, NULL);
    n = events ? md_json_array_len(events) : 0;
    for (i = 0; i < n; ++i) {
        ev = md_json_array_at(events, i);
        e = apr_pcalloc(ctx->mp, sizeof(*e));
        type = md_json_gets(ev, MD_KEY_ETCD_TYPE, NULL);
        e->deleted = type && !strcmp(type, "DELETE");
        e->kv = kv_from_json(md_json_getj(ev, MD_KEY_ETCD_KV, NULL), ctx->mp);
        if (e->kv->mod_revision >= ctx->next) ctx->next = e->kv->mod_revision + 1;
        APR_ARRAY_PUSH(list, md_etcd_event_t *) = e;
    }
    if (!n && rev >= ctx->next) ctx->next = rev + 1;
    return ctx->watch->cb(ctx->watch->baton, list, ctx->mp);
}

/* md_http_chunk_fn: pieces of the stream, cut into lines (one message each). */
static int watch_chunk(void *baton, const char *data, apr_size_t len)
{
    watch_ctx_t *ctx = baton;
    const char *nl;
    apr_size_t take;
    char *nbuf;

    ctx->answered = 1;
    while (len > 0) {
        nl = memchr(data, '\n', len);
        take = nl ? (apr_size_t)(nl - data) + 1 : len;
        if (ctx->len + take + 1 > ctx->cap) {
            if (ctx->len + take > MD_ETCD_MAX_BODY) {
                set_error(ctx->etcd, "etcd sent a watch message larger than 16 MB");
                ctx->rv = APR_ENOSPC;
                return 1;
            }
            ctx->cap = (ctx->len + take + 1) * 2;
            nbuf = apr_palloc(ctx->bp, ctx->cap);
            if (ctx->len) memcpy(nbuf, ctx->buf, ctx->len);
            ctx->buf = nbuf;
        }
        memcpy(ctx->buf + ctx->len, data, take);
        ctx->len += take;
        ctx->buf[ctx->len] = '\0';
        data += take;
        len -= take;
        if (!nl) break;
        if (ctx->len > 1) ctx->rv = watch_message(ctx, ctx->buf, ctx->len);
        apr_pool_clear(ctx->mp);
        /* a large message's buffer is not kept for the hours the watch may last */
        if (ctx->cap > 64 * 1024) {
            apr_pool_clear(ctx->bp);
            ctx->buf = NULL;
            ctx->cap = 0;
        }
        ctx->len = 0;
        if (ctx->rv != APR_SUCCESS) return 1;
    }
    return 0;
}

/* One watch on the current endpoint; the engine's silence, duration and cancel are the
 * transport's to notice. */
static apr_status_t watch_once(watch_ctx_t *ctx, const md_etcd_watch_t *watch, apr_pool_t *p)
{
    md_etcd_t *etcd = ctx->etcd;
    md_http_request_t req;
    md_http_response_t *resp;
    md_http_stream_t stream;
    volatile apr_uint32_t *cancel_before = etcd->http->config.cancel;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.content_type = "application/json";
    req.body = md_json_dump(watch_request(watch, p), MD_JSON_COMPACT, p);
    req.body_len = strlen(req.body);
    req.url = apr_pstrcat(p, md_etcd_endpoint(etcd), "/v3/watch", NULL);
    memset(&stream, 0, sizeof(stream));
    stream.on_chunk = watch_chunk;
    stream.baton = ctx;
    stream.idle = watch->idle;
    stream.duration = watch->duration;
    etcd->http->config.authorization = etcd->token;
    etcd->http->config.cancel = watch->cancel;
    rv = md_http_perform_stream(&resp, etcd->http, &req, &stream, p);
    etcd->http->config.cancel = cancel_before;
    if (ctx->rv != APR_SUCCESS) return ctx->rv;            /* the engine said why */
    if (rv == APR_TIMEUP && !stream.idle_out) return APR_SUCCESS;  /* lasted its duration */
    if (rv == APR_TIMEUP) {
        set_error(etcd, apr_psprintf(p, "etcd at %s sent nothing on the watch for %" APR_TIME_T_FMT
                                     " s", md_etcd_endpoint(etcd), apr_time_sec(watch->idle)));
        return rv;
    }
    if (rv == APR_EINTR) return rv;
    if (rv == APR_SUCCESS) {
        set_error(etcd, apr_psprintf(p, "etcd at %s ended the watch (HTTP %d)", md_etcd_endpoint(etcd),
                                     resp->status));
        return resp->status == 503 ? APR_ECONNREFUSED : APR_ECONNRESET;
    }
    set_error(etcd, apr_psprintf(p, "etcd at %s %s", md_etcd_endpoint(etcd), ctx->answered ?
                                 "dropped the watch" : "cannot be reached"));
    return ctx->answered ? APR_ECONNRESET : APR_ECONNREFUSED;
}

apr_status_t md_etcd_watch(apr_int64_t *pnext, md_etcd_t *etcd, const md_etcd_watch_t *watch,
                           apr_pool_t *p)
{
    watch_ctx_t ctx;
    int i, n = etcd->config.endpoints->nelts;
    apr_status_t rv = APR_ECONNREFUSED;

    memset(&ctx, 0, sizeof(ctx));
    ctx.etcd = etcd;
    ctx.watch = watch;
    ctx.next = watch->start_revision;
    apr_pool_create(&ctx.bp, p);
    apr_pool_create(&ctx.mp, p);
    if (etcd->config.user && !etcd->token) {
        rv = authenticate(etcd, p);
        if (rv != APR_SUCCESS) goto leave;
    }
    /* an endpoint that cannot be reached: the next one; one that answered is kept */
    for (i = 0; i < n; ++i) {
        rv = watch_once(&ctx, watch, p);
        if (rv != APR_ECONNREFUSED || ctx.answered) break;
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "MD1773: %s", etcd->error);
        etcd->current = (etcd->current + 1) % n;
    }
    /* a token the engine no longer takes is renewed at the next watch */
    if (rv == APR_EACCES) etcd->token = NULL;
leave:
    *pnext = ctx.next;
    apr_pool_destroy(ctx.mp);
    apr_pool_destroy(ctx.bp);
    return rv;
}
