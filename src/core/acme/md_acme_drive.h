/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The ACME work of one renewal: from nothing to a complete staged set (staging/<md>/). */
#ifndef md_acme_drive_h
#define md_acme_drive_h

#include "md.h"
#include "md_http.h"
#include "md_result.h"
#include "md_store.h"
#include "md_acme.h"

/* Called at points the operator's programs may veto ("challenge-setup:<type>:<name>").
 * A status other than APR_SUCCESS stops the renewal. */
typedef apr_status_t md_acme_drive_event_fn(void *baton, const char *event, md_result_t *result);

typedef struct {
    md_store_t *store;
    const md_t *md;
    md_http_t *http;
    const apr_array_header_t *challenge_types;  /* usable types, in preference order */
    md_result_t *result;
    struct apr_thread_mutex_t *acct_lock;       /* serializes finding/creating accounts */
    struct md_acme_acct_trust_t *accounts_trust; /* md_acme_acct_req_t.trust */
    struct md_acme_acct_share_t *accounts_share; /* md_acme_acct_req_t.share: a farm's */
    md_acme_drive_event_fn *on_event;
    void *event_baton;
    md_acme_wait_fn *wait;                      /* md_acme_t.wait: NULL sleeps */
    void *wait_baton;
    /* zero is the default for each of these */
    int dns01_version;                          /* MDChallengeDns01Version: 1 or 2 */
    apr_interval_time_t dns01_timeout;          /* per run of the dns-01 program */
    apr_interval_time_t dns01_wait;             /* DNS propagation wait after dns-01 setups */
    int replace_staged;                         /* renew the key specs staged already, too
                                                 * (their set is served live and is due) */
} md_acme_drive_ctx_t;

/* Obtain a certificate for every key spec of the MD that has none staged yet, and stage
 * it with its key and the MD's md.json. Failures are recorded in ctx->result. */
apr_status_t md_acme_drive_run(md_acme_drive_ctx_t *ctx, apr_pool_t *p);

#endif
