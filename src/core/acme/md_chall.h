/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Challenge types. Each type lives in its own file and registers in the static table
 * of md_chall.c; all take one context. */
#ifndef md_chall_h
#define md_chall_h

#include "md.h"
#include "md_store.h"
#include "md_result.h"

/* Longest challenge token we accept from a CA and serve (RFC 8555 tokens are 43). */
#define MD_ACME_TOKEN_MAX 128

typedef struct {
    const char *type;           /* "http-01", ... */
    md_store_t *store;
    const md_t *md;
    const char *name;           /* the identifier's value (wildcards without "*.") */
    const char *token;
    const char *key_authz;      /* token "." account key thumbprint */
    md_result_t *result;
    /* dns-01 only */
    int dns01_version;                  /* 2: teardown also gets the TXT value */
    apr_interval_time_t dns01_timeout;  /* for each run of the program; 0: the default */
    volatile apr_uint32_t *cancel;      /* the process exits: stop the program (or NULL) */
    apr_pool_t *p;
} md_chall_ctx_t;

typedef struct {
    const char *type;                                      /* "http-01", ... */
    apr_status_t (*setup)(const md_chall_ctx_t *ctx);      /* make the answer available */
    void (*teardown)(const md_chall_ctx_t *ctx);           /* remove it again */
} md_chall_type_t;

const md_chall_type_t *md_chall_find(const char *type);
/* The known types for messages: "http-01, tls-alpn-01, dns-01". */
const char *md_chall_names(apr_pool_t *p);
/* The types a renewal of md offers the CA, in preference order: MDCAChallenges when given;
 * otherwise tls-alpn-01 when the server answers acme-tls/1 on the port the CA reaches as
 * 443 (tls_alpn01), http-01 when it listens where the CA reaches port 80 (http01), and
 * dns-01 when a program sets the TXT records (the only one for wildcards). */
apr_array_header_t *md_chall_usable(const md_t *md, int tls_alpn01, int http01, apr_pool_t *p);

extern const md_chall_type_t md_chall_http01;
extern const md_chall_type_t md_chall_tlsalpn01;
extern const md_chall_type_t md_chall_dns01;

/* A tls-alpn-01 challenge certificate for name (RFC 8737: the name as SAN, the
 * acmeIdentifier extension with SHA-256 of key_authz) and its fresh key, as PEM. */
apr_status_t md_chall_tlsalpn01_make(const char **pcert_pem, const char **pkey_pem, const char *name,
                                     const char *key_authz, apr_pool_t *p);

/* The dns-01 TXT record value (RFC 8555 8.4): base64url(SHA-256(key authorization)). */
apr_status_t md_chall_dns01_txt_value(const char **pvalue, const char *key_authz, apr_pool_t *p);

#endif
