/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The ACME client (RFC 8555): one file per resource over this one transport layer,
 * which reads the directory, keeps a nonce pool, signs requests (through md_jws) and
 * turns problem documents into the result record. */
#ifndef md_acme_h
#define md_acme_h

#include "md_crypt.h"
#include "md_http.h"
#include "md_json.h"
#include "md_result.h"

/* How the client waits (polls, Retry-After, DNS propagation): a caller that runs many
 * clients side by side may let others work meanwhile. Without one: apr_sleep. */
typedef void md_acme_wait_fn(void *baton, apr_interval_time_t duration);

typedef struct md_acme_t {
    apr_pool_t *p;
    const char *url;            /* directory URL */
    md_http_t *http;
    md_json_t *directory;
    const char *new_nonce, *new_account, *new_order, *revoke_cert, *key_change;
    const char *renewal_info;   /* ARI, when the CA offers it */
    const char *terms_of_service;
    apr_array_header_t *nonces; /* const char*, newest last */
    const md_pkey_t *acct_key;  /* signs requests */
    const char *acct_url;       /* "kid"; NULL before the account exists */
    int max_retries;            /* for 429 and 503 */
    int max_nonce_retries;      /* for badNonce: cheap, and some CAs reject many */
    apr_interval_time_t max_retry_wait; /* a longer Retry-After fails the call instead */
    apr_time_t directory_at;    /* when the directory was read */
    apr_interval_time_t directory_max_age; /* read again after this long */
    md_acme_wait_fn *wait;      /* NULL: apr_sleep */
    void *wait_baton;
} md_acme_t;

apr_status_t md_acme_create(md_acme_t **pacme, const char *url, md_http_t *http, apr_pool_t *p);
/* Read the directory (once; again when older than directory_max_age). A 429/503 answer
 * with Retry-After is waited for when short, else recorded in result->retry_after. */
apr_status_t md_acme_setup(md_acme_t *acme, md_result_t *result);
/* The host part of the directory URL, for account directory names. */
const char *md_acme_host(const md_acme_t *acme, apr_pool_t *p);

typedef struct {
    int status;
    md_json_t *json;            /* parsed body, if JSON */
    const char *body;
    apr_size_t body_len;
    const char *location;
    md_http_response_t *http;
} md_acme_resp_t;

/* A JWS-signed POST of payload (a JSON text; NULL for POST-as-GET). Signs with the
 * account key and kid, or, when use_jwk, the key's JWK (new account). Retries on
 * badNonce with a fresh nonce, and on 429/503 after a Retry-After of at most
 * max_retry_wait (longer ones fail the call with result->retry_after set). A problem
 * document fails the call with the mapped status, type and detail recorded in result.
 * result->retry_after also carries a Retry-After of a successful answer (polling). */
apr_status_t md_acme_post(md_acme_resp_t **presp, md_acme_t *acme, const char *url,
                          const char *payload, int use_jwk, md_result_t *result, apr_pool_t *p);
/* An unauthenticated GET (renewalInfo, ...), with 429/503 handled as for POST: a short
 * Retry-After is waited for; otherwise the answer is returned as it is, with
 * result->retry_after set from its Retry-After. */
apr_status_t md_acme_get(md_http_response_t **presp, md_acme_t *acme, const char *url,
                         md_result_t *result, apr_pool_t *p);
/* POST-as-GET expecting JSON. */
apr_status_t md_acme_get_json(md_json_t **pjson, md_acme_t *acme, const char *url,
                              md_result_t *result, apr_pool_t *p);

/* Wait `duration` the way the caller asked for (md_acme_t.wait). */
void md_acme_wait(md_acme_t *acme, apr_interval_time_t duration);

/* Polling an authorization or an order: how long to wait before the next look, after
 * `previous` (0 before the first wait). The CA's Retry-After (result->retry_after) is
 * honoured up to MD_POLL_MAX_ASKED; otherwise 10 ms, doubling up to MD_POLL_MAX.
 * CAs that finish in milliseconds (most orders, most validations) are seen done at once;
 * slow ones are asked about a few times a minute. */
#define MD_POLL_FIRST apr_time_from_msec(10)
#define MD_POLL_MAX apr_time_from_sec(10)
#define MD_POLL_MAX_ASKED apr_time_from_sec(60)
apr_interval_time_t md_acme_poll_delay(const md_result_t *result, apr_interval_time_t previous,
                                       apr_time_t now);

/* ---- problems (md_acme_problem.c) --------------------------------------------- */

/* The status for an ACME problem type (with or without the urn prefix). */
apr_status_t md_acme_problem_status(const char *type);
/* Does the problem blame the input (contact, identifiers, ...), so retrying soon is useless? */
int md_acme_problem_is_input_related(const char *type);
/* Record the problem document of a failed response in result. Returns the status. */
apr_status_t md_acme_problem_record(md_result_t *result, const md_acme_resp_t *resp,
                                    const char *url);

#endif
