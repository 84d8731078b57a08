/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* DNS look-ups for the preflight checks (md_preflight.h): a small resolver interface,
 * so that unit tests feed answers, and its implementation over libresolv. */
#ifndef md_dns_h
#define md_dns_h

#include <apr_pools.h>
#include <apr_tables.h>

#define MD_DNS_A     1
#define MD_DNS_AAAA  28
#define MD_DNS_CAA   257

/* The name does not exist (NXDOMAIN). */
#define MD_DNS_ENONAME APR_ENOENT

/* One record of an answer. */
typedef struct {
    int type;                   /* MD_DNS_A, MD_DNS_AAAA, MD_DNS_CAA */
    const char *addr;           /* A, AAAA: the address as text */
    unsigned int caa_flags;     /* CAA: flags (128: critical) */
    const char *caa_tag;        /* CAA: "issue", "issuewild", ... */
    const char *caa_value;      /* CAA: the value as given */
} md_dns_rr_t;

/* Ask for records of type at name (no trailing dot needed). APR_SUCCESS with the records
 * of that type in the answer (*prrs may be empty: the name has none); MD_DNS_ENONAME when
 * the name does not exist; another status when no answer could be had (the server
 * failed, SERVFAIL, or did not answer): then *pwhy says so. */
typedef apr_status_t md_dns_query_fn(apr_array_header_t **prrs, const char **pwhy, void *baton,
                                     const char *name, int type, apr_pool_t *p);

typedef struct {
    md_dns_query_fn *query;
    void *baton;
    const char *server;         /* for messages: "the system resolver" or "ADDR:PORT" */
} md_dns_t;

/* A resolver over libresolv: the system's (/etc/resolv.conf) when server is NULL, else
 * that server ("IPv4[:port]", port 53 by default). Each query makes its own resolver
 * state, so it may be used by several threads. APR_EINVAL for a server that is no
 * IPv4 address with an optional port. */
apr_status_t md_dns_create(md_dns_t **pdns, const char *server, apr_pool_t *p);
/* Is server usable for md_dns_create? NULL if so, else what is wrong with it. */
const char *md_dns_server_check(const char *server, apr_pool_t *p);

#endif
