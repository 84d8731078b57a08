/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A fake HTTP transport for unit tests: replays a script of recorded exchanges in
 * order, checks that each request has the expected method and URL, and keeps the
 * requests for the test to inspect (e.g. the JWS payloads). */
#ifndef fake_http_h
#define fake_http_h

#include "md_http.h"
#include "md_json.h"

typedef struct {
    const char *method;         /* expected; NULL: any */
    const char *url;            /* expected; NULL: any */
    int status;
    const char *headers;        /* "Name: value" lines separated by '\n' */
    const char *body;           /* NULL: empty */
    apr_status_t error;         /* non-zero: the transport fails with it, no response */
} fake_exchange_t;

#define FAKE_END { NULL, NULL, 0, NULL, NULL, 0 }

/* Bodies computed from the requests so far instead of sent as written: the PEM chain a
 * CA issues for the CSR of the latest request whose JWS payload has a "csr" (the
 * finalize), from a CA the transport makes once (fake_ca.h): a leaf with the CSR's key,
 * subject and subjectAltNames, then the CA's certificate. With _OTHER_KEY the leaf is
 * for a key other than the CSR's. Without a CSR sent before, or with one whose signature
 * does not verify, the exchange fails (fake_http_error). */
#define FAKE_BODY_ISSUE           "@fake:issue-for-the-csr@"
#define FAKE_BODY_ISSUE_OTHER_KEY "@fake:issue-for-another-key@"

md_http_t *fake_http_create(const fake_exchange_t *script, apr_pool_t *p);
/* Exchanges of the script not yet used. */
int fake_http_left(const md_http_t *http);
/* Requests performed so far. */
int fake_http_count(const md_http_t *http);
const md_http_request_t *fake_http_request(const md_http_t *http, int i);
/* The decoded JSON payload of the i-th request (a JWS), NULL for POST-as-GET or none. */
md_json_t *fake_http_payload(const md_http_t *http, int i, apr_pool_t *p);
/* The decoded protected header of the i-th request (a JWS). */
md_json_t *fake_http_protected(const md_http_t *http, int i, apr_pool_t *p);
/* The first failure of the script (unexpected request, script exhausted), or NULL. */
const char *fake_http_error(const md_http_t *http);

#endif
