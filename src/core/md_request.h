/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Renewal requests: the marker staging/.renew-requests, one line per request,
 * "<MD name>\t<why>\n" ("<MD name>\n" alone is a request without a reason). Whoever
 * wants an MD renewed now appends a line (OCSP stapling that sees a revocation, an
 * administrator's `mdctl renew`); the renewal watchdog takes the file away at its next
 * look and renews those MDs at once (docs/mdctl.md). */
#ifndef md_request_h
#define md_request_h

#include <apr_pools.h>
#include <apr_tables.h>
#include "md_store.h"

#define MD_FN_RENEW_REQUESTS ".renew-requests"
/* Longest reason kept; a longer one is cut. */
#define MD_REQUEST_REASON_MAX 200

typedef struct {
    const char *name;
    const char *reason;             /* never NULL; "" when the line gave none */
} md_request_t;

/* Append a request for name, with why (may be NULL), to the marker. The reason is
 * kept to one line of printable text. Written with the store's owner settings
 * (md_store_set_owner), like everything in staging/. */
apr_status_t md_request_add(md_store_t *store, const char *name, const char *why,
                            apr_pool_t *p);
/* The requests in a marker's text (md_request_t*), in the order written; empty lines
 * and lines whose name is not a plain store name are left out. */
apr_array_header_t *md_request_parse(const char *text, apr_pool_t *p);
/* The requests waiting in the marker, without taking them; empty when there is none. */
apr_array_header_t *md_request_pending(md_store_t *store, apr_pool_t *p);
/* Take the marker away (what is appended meanwhile starts a new one) and return its
 * requests; empty when there was none. */
apr_array_header_t *md_request_take(md_store_t *store, apr_pool_t *p);

#endif
