/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The HTTP transport. ACME code builds finished requests and reads responses; the
 * transport (libcurl here, a replaying fake in unit tests) only moves bytes. */
#ifndef md_http_h
#define md_http_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct {
    const char *method;         /* "GET", "HEAD", "POST" */
    const char *url;
    const char *content_type;   /* for POST */
    const char *body;
    apr_size_t body_len;
} md_http_request_t;

typedef struct {
    int status;
    apr_table_t *headers;       /* names as sent; look-ups are case-insensitive */
    const char *body;
    apr_size_t body_len;
} md_http_response_t;

/* An HTTP client: one connection kept open between its requests (to the same server),
 * so it is used by one thread at a time; it lives as long as the pool it was made in. */
typedef struct md_http_t md_http_t;

typedef apr_status_t md_http_perform_fn(md_http_response_t **presp, md_http_t *http,
                                        const md_http_request_t *req, apr_pool_t *p);

typedef struct {
    const char *ca_file;          /* trust anchors for the server (MDCACertificateFile) */
    const char *proxy_url;        /* MDHttpProxy */
    const char *proxy_ca_file;    /* MDHttpProxyCACertificateFile */
    const char *user_agent;
    apr_interval_time_t connect_timeout;
    apr_interval_time_t timeout;  /* whole request */
    apr_size_t max_body;          /* larger response bodies fail the request */
    volatile apr_uint32_t *cancel;/* when set and non-zero, transfers stop at once (APR_EINTR) */
    volatile apr_uint32_t *cancel_also; /* a second such flag: a farm lock lost (md_farm.h) */
    const char *host;             /* Host header instead of the URL's: a name-based vhost
                                   * on a local address (mdctl asking the server's md-status) */
    int direct;                   /* no proxy, not even one from the environment (http_proxy) */
    const char *authorization;    /* an Authorization header's value (etcd's auth token), or NULL */
} md_http_config_t;

struct md_http_t {
    md_http_config_t config;
    md_http_perform_fn *perform;
    void *baton;                  /* for the implementation */
};

/* perform() fails with this when the server's TLS certificate could not be verified
 * against the configured trust anchors (or those could not be read). */
#define MD_HTTP_EVERIFY APR_EACCES
/* perform() fails with this when the response body is larger than config.max_body. */
#define MD_HTTP_ETOOLARGE APR_ENOSPC
/* The response body limit when config.max_body is 0. */
#define MD_HTTP_DEFAULT_MAX_BODY (1024 * 1024)

/* libcurl's global set-up, once per process: md_http_create does it when first needed,
 * in the process that makes requests. With a libcurl whose set-up is not thread-safe
 * (before 7.84), call it before any other thread runs; md_http_init_needs_early()
 * says so. */
apr_status_t md_http_init(void);
int md_http_init_needs_early(void);
/* A transport over libcurl. */
apr_status_t md_http_create(md_http_t **phttp, const md_http_config_t *config, apr_pool_t *p);
apr_status_t md_http_perform(md_http_response_t **presp, md_http_t *http,
                             const md_http_request_t *req, apr_pool_t *p);

/* A streamed answer (an etcd watch): the body is handed to on_chunk piece by piece as it
 * arrives, never collected, so a response that lasts hours costs no memory. The transfer
 * ends when the server ends it (APR_SUCCESS), when on_chunk returns non-zero or
 * config.cancel is set (APR_EINTR), when nothing arrived for idle, or when duration has
 * passed (both APR_TIMEUP; *pidle_out says which). config.timeout does not apply; TCP
 * keep-alive probes find a peer that vanished without closing. The response's body is
 * empty. The libcurl transport only; others answer APR_ENOTIMPL. */
typedef int md_http_chunk_fn(void *baton, const char *data, apr_size_t len);

typedef struct {
    md_http_chunk_fn *on_chunk;
    void *baton;
    apr_interval_time_t idle;       /* 0: no limit */
    apr_interval_time_t duration;   /* 0: no limit */
    int idle_out;                   /* out: the transfer ended for silence */
} md_http_stream_t;

apr_status_t md_http_perform_stream(md_http_response_t **presp, md_http_t *http,
                                    const md_http_request_t *req, md_http_stream_t *stream,
                                    apr_pool_t *p);

/* Retry-After as seconds or HTTP-date, as an absolute time; 0 when absent or invalid. */
apr_time_t md_http_retry_after(const md_http_response_t *resp, apr_time_t now);
/* The URIs of all Link headers with the given rel (const char*), maybe empty. */
apr_array_header_t *md_http_links(const md_http_response_t *resp, const char *rel, apr_pool_t *p);
/* The URI of a Link header with the given rel, or NULL. */
const char *md_http_link(const md_http_response_t *resp, const char *rel, apr_pool_t *p);

#endif
