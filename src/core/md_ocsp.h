/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* OCSP for stapling (RFC 6960): the id of a certificate, the request to its responder,
 * the checks a response must pass, its persisted form (ocsp/<name>/ocsp-<hexid>.json in
 * today's format) and the pure decisions: when to fetch again, how long to back off,
 * what to serve and what to prune. docs/ocsp.md describes the design. */
#ifndef md_ocsp_h
#define md_ocsp_h

#include <apr_pools.h>
#include <apr_time.h>
#include "md.h"
#include "md_crypt.h"
#include "md_http.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"

/* The id of a certificate: SHA-1 of its DER, as mod_ssl hands it to the prime hook. */
#define MD_OCSP_ID_LEN 20
/* The store directory for certificates no MD manages. */
#define MD_OCSP_OTHER "other"

typedef enum {
    MD_OCSP_UNKNOWN = 0, MD_OCSP_GOOD = 1, MD_OCSP_REVOKED = 2
} md_ocsp_status_t;

/* A checked response as it is persisted and served. */
typedef struct {
    const unsigned char *der;
    apr_size_t der_len;
    md_ocsp_status_t status;
    apr_time_t valid_from;      /* thisUpdate */
    apr_time_t valid_until;     /* nextUpdate; 0 when the responder gave none */
    const char *fetched_by;     /* in a farm: the node that asked the responder; else NULL */
} md_ocsp_resp_t;

const char *md_ocsp_status_name(md_ocsp_status_t status);  /* "good", "revoked", "unknown" */

/* ---- certificates ------------------------------------------------------------ */

/* "ocsp-<lower-case hex of the id>.json" */
const char *md_ocsp_file_name(const unsigned char *id, apr_size_t id_len, apr_pool_t *p);
/* The first OCSP responder URL of the certificate's AIA extension, or NULL. */
const char *md_ocsp_responder_url(const md_cert_t *cert, apr_pool_t *p);

/* ---- request and response ------------------------------------------------------ */

typedef struct md_ocsp_req_t md_ocsp_req_t;

/* A request for one certificate with a random nonce, as DER. */
apr_status_t md_ocsp_req_create(md_ocsp_req_t **preq, const md_cert_t *cert,
                                const md_cert_t *issuer, apr_pool_t *p);
/* The same without a nonce, only to check a response another server fetched (a farm's,
 * md_farm_ocsp.c): its nonce was the other's, so any (or none) is accepted. */
apr_status_t md_ocsp_req_for_check(md_ocsp_req_t **preq, const md_cert_t *cert,
                                   const md_cert_t *issuer, apr_pool_t *p);
void md_ocsp_req_der(const unsigned char **pder, apr_size_t *plen, const md_ocsp_req_t *req);

/* Check a response to the request: successful, signed by the issuer or by a responder
 * the issuer delegated to (OCSPSigning), about the requested certificate, the nonce
 * echoed when the responder echoes one, thisUpdate not in the future and nextUpdate
 * not in the past (5 minutes of skew allowed). Failures are described in result. */
apr_status_t md_ocsp_resp_check(md_ocsp_resp_t **presp, const md_ocsp_req_t *req,
                                const unsigned char *der, apr_size_t len, apr_time_t now,
                                md_result_t *result, apr_pool_t *p);

/* POST the request (application/ocsp-request) to url and check the answer. */
apr_status_t md_ocsp_fetch(md_ocsp_resp_t **presp, md_http_t *http, const char *url,
                           const md_ocsp_req_t *req, md_result_t *result, apr_pool_t *p);

/* ---- persistence ------------------------------------------------------------------ */

/* {"response": base64url DER, "status": ..., "valid": {"from", "until"}}, and in a farm
 * "fetched-by": the node */
md_json_t *md_ocsp_resp_to_json(const md_ocsp_resp_t *resp, apr_pool_t *p);
apr_status_t md_ocsp_resp_from_json(md_ocsp_resp_t **presp, const md_json_t *json,
                                    apr_pool_t *p);
apr_status_t md_ocsp_resp_load(md_ocsp_resp_t **presp, const md_store_t *store,
                               const char *name, const char *file, apr_pool_t *p);
apr_status_t md_ocsp_resp_save(const md_ocsp_resp_t *resp, const md_store_t *store,
                               const char *name, const char *file, apr_pool_t *p);

/* The revocation marker for the renewal side: does the persisted response of any served
 * certificate of the MD (md->served, as read at start) say "revoked"? */
int md_ocsp_md_revoked(const md_store_t *store, const md_t *md, apr_pool_t *p);

/* Remove response files under ocsp/ not written for keep and no longer valid (or
 * unreadable). Returns how many were removed. */
int md_ocsp_prune(const md_store_t *store, apr_interval_time_t keep, apr_time_t now,
                  apr_pool_t *p);

/* ---- decisions (pure) --------------------------------------------------------------- */

/* Fetches of one certificate are at least this far apart, whatever the window says. */
#define MD_OCSP_MIN_REFRESH apr_time_from_sec(5)
/* A response without nextUpdate is refreshed this long after its thisUpdate. */
#define MD_OCSP_NO_NEXT_UPDATE_REFRESH apr_time_from_sec(60 * 60)

/* When to fetch a new response: now without one; otherwise when the window before its
 * nextUpdate opens (without nextUpdate: MD_OCSP_NO_NEXT_UPDATE_REFRESH after
 * thisUpdate), but not earlier than MD_OCSP_MIN_REFRESH after fetched_at. */
apr_time_t md_ocsp_renew_at(const md_timeslice_t *window, const md_ocsp_resp_t *resp,
                            apr_time_t fetched_at, apr_time_t now);
/* Delay after the n-th consecutive failed fetch (n >= 1): 5 s doubling to at most
 * 10 minutes; jitter in [-0.5, 0.5] scales it by up to a quarter either way. */
apr_interval_time_t md_ocsp_retry_delay(int errors, double jitter);
/* May the response be stapled now? Yes while nextUpdate (or, without one, an hour
 * after thisUpdate) has not passed. */
int md_ocsp_servable(const md_ocsp_resp_t *resp, apr_time_t now);
/* Should a response file be removed at start (see md_ocsp_prune)? resp is NULL when
 * the file cannot be read. */
int md_ocsp_should_prune(const md_ocsp_resp_t *resp, apr_time_t written, apr_interval_time_t keep,
                         apr_time_t now);

#endif
