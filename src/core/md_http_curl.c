/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_date.h>
#include <apr_atomic.h>
#include <curl/curl.h>

#include "md_http.h"
#include "md_log.h"

#define MD_HTTP_RETRY_AFTER_MAX (30 * 24 * 3600)

typedef struct {
    apr_pool_t *p;
    const md_http_config_t *cfg;
    md_http_response_t *resp;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
    md_http_stream_t *stream;   /* a streamed answer, or NULL */
    apr_time_t started, last_data;
} curl_ctx_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_ctx_t *ctx = baton;
    size_t n = size * nmemb;
    char *nbuf;

    if (ctx->stream) {
        ctx->last_data = apr_time_now();
        /* a short count aborts the transfer (CURLE_WRITE_ERROR) */
        return ctx->stream->on_chunk(ctx->stream->baton, data, n) ? 0 : n;
    }
    if (ctx->len + n > ctx->max) {
        ctx->too_large = 1;
        return 0;  /* aborts the transfer */
    }
    if (ctx->len + n + 1 > ctx->cap) {
        ctx->cap = (ctx->len + n + 1) * 2;
        nbuf = apr_palloc(ctx->p, ctx->cap);
        if (ctx->len) memcpy(nbuf, ctx->buf, ctx->len);
        ctx->buf = nbuf;
    }
    memcpy(ctx->buf + ctx->len, data, n);
    ctx->len += n;
    ctx->buf[ctx->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_ctx_t *ctx = baton;
    size_t n = size * nmemb, klen;
    const char *colon = memchr(data, ':', n), *v, *end = data + n;

    /* curl's header data is one line, not NUL-terminated */
    if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
        apr_table_clear(ctx->resp->headers);  /* a new response (after 100 or a proxy) */
        return n;
    }
    if (!colon) return n;
    klen = (size_t)(colon - data);
    for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); ++v) {}
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) --end;
    apr_table_addn(ctx->resp->headers, apr_pstrmemdup(ctx->p, data, klen),
                   apr_pstrmemdup(ctx->p, v, (apr_size_t)(end - v)));
    return n;
}

/* A stream that has been silent too long, or has lasted long enough. The watch of an idle
 * engine sends nothing for minutes: its limits are checked here, not by curl's timeouts. */
static int stream_over(curl_ctx_t *ctx)
{
    apr_time_t now = apr_time_now();
    md_http_stream_t *st = ctx->stream;

    if (st->idle && now - ctx->last_data > st->idle) {
        st->idle_out = 1;
        return 1;
    }
    return st->duration && now - ctx->started > st->duration;
}

/* curl asks about once a second, and while it waits for the network */
static int on_progress(void *baton, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    curl_ctx_t *ctx = baton;
    const md_http_config_t *cfg = ctx->cfg;

    /* non-zero aborts the transfer */
    if (ctx->stream && stream_over(ctx)) return 1;
    return (cfg->cancel && apr_atomic_read32(cfg->cancel))
           || (cfg->cancel_also && apr_atomic_read32(cfg->cancel_also));
}

static apr_status_t curl_status(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return APR_SUCCESS;
    case CURLE_OPERATION_TIMEDOUT: return APR_TIMEUP;
    case CURLE_COULDNT_CONNECT: return APR_ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: return APR_EHOSTUNREACH;
    case CURLE_WRITE_ERROR: return APR_ENOSPC;
    case CURLE_ABORTED_BY_CALLBACK: return APR_EINTR;
    case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING: return APR_ECONNRESET;
    /* the server's certificate did not verify, or the trust anchors could not be read */
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE: return MD_HTTP_EVERIFY;
    default: return APR_EGENERAL;
    }
}

/* Connections are kept open between renewals: the programs the module runs (fork and
 * exec from any thread) must not inherit them. */
static curl_socket_t open_socket(void *baton, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)baton;
    (void)purpose;
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static void configure(CURL *curl, const md_http_config_t *cfg, curl_ctx_t *ctx)
{
    long timeout_ms = ctx->stream ? 0L : (long)apr_time_as_msec(cfg->timeout);

    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)apr_time_as_msec(cfg->connect_timeout));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);   /* 0: none, for a stream */
    curl_easy_setopt(curl, CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : "mod_md");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, ctx);
    if (cfg->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->ca_file);
        curl_easy_setopt(curl, CURLOPT_SSL_OPTIONS, (long)CURLSSLOPT_NO_REVOKE);
    }
    if (cfg->cancel || cfg->cancel_also || ctx->stream) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, ctx);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    if (ctx->stream) {
        /* a stream's connection ends with it: no later request finds it half-read */
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        /* a peer gone without a word (power, a cable) is found in about 25 s */
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 10L);
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 5L);
    }
    if (cfg->proxy_url) curl_easy_setopt(curl, CURLOPT_PROXY, cfg->proxy_url);
    else if (cfg->direct) curl_easy_setopt(curl, CURLOPT_PROXY, "");
    if (cfg->proxy_ca_file) curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO, cfg->proxy_ca_file);
}

static apr_status_t perform_with(md_http_response_t **presp, md_http_t *http,
                                 const md_http_request_t *req, md_http_stream_t *stream,
                                 apr_pool_t *p)
{
    curl_ctx_t ctx;
    struct curl_slist *hdrs = NULL;
    CURL *curl;
    CURLcode rc;
    long code = 0;
    apr_status_t rv;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.cfg = &http->config;
    ctx.stream = stream;
    ctx.started = ctx.last_data = apr_time_now();
    ctx.max = http->config.max_body ? http->config.max_body : MD_HTTP_DEFAULT_MAX_BODY;
    ctx.resp = apr_pcalloc(p, sizeof(*ctx.resp));
    ctx.resp->headers = apr_table_make(p, 10);
    /* one handle for all requests of this md_http_t: its connection to the CA and its TLS
     * session stay open for the next request (a renewal makes a dozen); the options are
     * set anew each time */
    curl = http->baton;
    if (!curl) return APR_ENOMEM;
    curl_easy_reset(curl);
    configure(curl, &http->config, &ctx);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    if (!strcmp(req->method, "HEAD")) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (!strcmp(req->method, "POST")) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Content-Type: ", req->content_type, NULL));
    }
    if (http->config.authorization) {
        hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Authorization: ", http->config.authorization, NULL));
    }
    if (http->config.host) {
        hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Host: ", http->config.host, NULL));
    }
    if (hdrs) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    /* the next request must not see this one's header list or body */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    rv = ctx.too_large ? MD_HTTP_ETOOLARGE : curl_status(rc);
    if (stream && rc == CURLE_WRITE_ERROR) rv = APR_EINTR;         /* on_chunk said stop */
    if (stream && rc == CURLE_ABORTED_BY_CALLBACK && stream_over(&ctx)) rv = APR_TIMEUP;
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "MD0201: %s %s failed: %s%s", req->method,
                      req->url, curl_easy_strerror(rc), ctx.too_large ? " (response too large)" : "");
        return rv;
    }
    ctx.resp->status = (int)code;
    ctx.resp->body = ctx.buf ? ctx.buf : "";
    ctx.resp->body_len = ctx.len;
    *presp = ctx.resp;
    return APR_SUCCESS;
}

static apr_status_t curl_perform(md_http_response_t **presp, md_http_t *http,
                                 const md_http_request_t *req, apr_pool_t *p)
{
    return perform_with(presp, http, req, NULL, p);
}

/* Handles given back are kept (up to MD_HTTP_IDLE_MAX) for the next md_http_t of the
 * process, with their open connections, TLS sessions and loaded trust anchors: renewals
 * that follow each other on the same CA then make no new TLS handshake, nor a new
 * SSL_CTX. A handle serves one md_http_t, thus one thread, at a time. */
#define MD_HTTP_IDLE_MAX 64

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *idle[MD_HTTP_IDLE_MAX];
static int idle_count;
static pid_t idle_pid;          /* the process whose connections the idle handles hold */
static int idle_base;           /* idle[0..idle_base): the parent's, left as they are */

/* A child forked by httpd inherits the parent's idle handles, and their connections are
 * the parent's (and every other child's): a request on one would mix its bytes with
 * theirs, and an etcd watch left streaming on it by a child that died hangs the next
 * request of any other. So the handles of another process are left alone, neither used
 * nor closed (closing could end the parent's TLS session), and stay where they are: the
 * child takes and gives back only above them. Called under idle_lock. */
static void idle_own(void)
{
    pid_t me = getpid();

    if (idle_pid == me) return;
    idle_base = idle_count;
    idle_pid = me;
}

static CURL *handle_take(void)
{
    CURL *curl = NULL;

    pthread_mutex_lock(&idle_lock);
    idle_own();
    if (idle_count > idle_base) curl = idle[--idle_count];
    pthread_mutex_unlock(&idle_lock);
    return curl ? curl : curl_easy_init();
}

static apr_status_t handle_give_back(void *data)
{
    CURL *curl = data;

    pthread_mutex_lock(&idle_lock);
    idle_own();
    if (idle_count < MD_HTTP_IDLE_MAX) {
        idle[idle_count++] = curl;
        curl = NULL;
    }
    pthread_mutex_unlock(&idle_lock);
    if (curl) curl_easy_cleanup(curl);
    return APR_SUCCESS;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void init_curl(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

apr_status_t md_http_init(void)
{
    pthread_once(&init_once, init_curl);
    return init_rc == CURLE_OK ? APR_SUCCESS : APR_EGENERAL;
}

int md_http_init_needs_early(void)
{
#ifdef CURL_VERSION_THREADSAFE
    return !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_THREADSAFE);
#else
    return 1;
#endif
}

apr_status_t md_http_create(md_http_t **phttp, const md_http_config_t *config, apr_pool_t *p)
{
    md_http_t *http = apr_pcalloc(p, sizeof(*http));
    apr_status_t rv = md_http_init();   /* a no-op after the first call */

    if (rv != APR_SUCCESS) return rv;
    http->baton = handle_take();
    if (!http->baton) return APR_ENOMEM;
    apr_pool_cleanup_register(p, http->baton, handle_give_back, apr_pool_cleanup_null);
    http->config = *config;
    if (!http->config.connect_timeout) http->config.connect_timeout = apr_time_from_sec(30);
    if (!http->config.timeout) http->config.timeout = apr_time_from_sec(120);
    http->perform = curl_perform;
    *phttp = http;
    return APR_SUCCESS;
}

apr_status_t md_http_perform(md_http_response_t **presp, md_http_t *http,
                             const md_http_request_t *req, apr_pool_t *p)
{
    return http->perform(presp, http, req, p);
}

apr_status_t md_http_perform_stream(md_http_response_t **presp, md_http_t *http,
                                    const md_http_request_t *req, md_http_stream_t *stream,
                                    apr_pool_t *p)
{
    stream->idle_out = 0;
    if (http->perform != curl_perform) return APR_ENOTIMPL;
    return perform_with(presp, http, req, stream, p);
}

apr_time_t md_http_retry_after(const md_http_response_t *resp, apr_time_t now)
{
    const char *v = apr_table_get(resp->headers, "Retry-After");
    apr_int64_t secs;
    apr_time_t at;
    char *end;

    if (!v || !*v) return 0;
    if (apr_isdigit(*v)) {
        secs = apr_strtoi64(v, &end, 10);
        if (*end || secs < 0 || secs > MD_HTTP_RETRY_AFTER_MAX) return 0;
        return now + apr_time_from_sec(secs);
    }
    /* a date, like a number of seconds, further than 30 days ahead is not believed */
    at = apr_date_parse_rfc(v);
    return (at > 0 && at <= now + apr_time_from_sec(MD_HTTP_RETRY_AFTER_MAX)) ? at : 0;
}

typedef struct {
    const char *rel;
    const char *found;
    apr_array_header_t *all;    /* collect every match when set */
    apr_pool_t *p;
} link_find_t;

/* One Link header value may hold several links: <uri>;rel="x", <uri2>;rel=y */
static int link_scan(void *baton, const char *key, const char *value)
{
    link_find_t *f = baton;
    const char *s = value, *lt, *gt, *next;

    while (s && (lt = strchr(s, '<')) != NULL) {
        gt = strchr(lt, '>');
        if (!gt) break;
        next = strchr(gt, ',');
        if (strstr(apr_pstrndup(f->p, gt, next ? (apr_size_t)(next - gt) : strlen(gt)),
                   apr_pstrcat(f->p, "rel=\"", f->rel, "\"", NULL))) {
            f->found = apr_pstrmemdup(f->p, lt + 1, (apr_size_t)(gt - lt - 1));
            if (!f->all) return 0;
            APR_ARRAY_PUSH(f->all, const char *) = f->found;
        }
        s = next;
    }
    return 1;
}

const char *md_http_link(const md_http_response_t *resp, const char *rel, apr_pool_t *p)
{
    link_find_t f = { rel, NULL, NULL, p };

    apr_table_do(link_scan, &f, resp->headers, "Link", NULL);
    return f.found;
}

apr_array_header_t *md_http_links(const md_http_response_t *resp, const char *rel, apr_pool_t *p)
{
    link_find_t f = { rel, NULL, NULL, p };

    f.all = apr_array_make(p, 3, sizeof(const char *));
    apr_table_do(link_scan, &f, resp->headers, "Link", NULL);
    return f.all;
}
