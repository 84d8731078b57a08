/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Shared harness of the fuzz targets; see fuzz_common.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "md_log.h"
#include "md_util.h"

static apr_pool_t *global_pool;
static apr_pool_t *input_pool;
static md_pkey_t *account_key;

/* Every message is formatted (that is where format bugs show) and dropped. */
static int log_enabled(void *baton, md_log_level_t level)
{
    (void)baton;
    (void)level;
    return 1;
}

static void log_print(void *baton, const char *file, int line, md_log_level_t level,
                      apr_status_t rv, const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    (void)level;
    (void)rv;
    if (getenv("FUZZ_LOG")) fprintf(stderr, "%s\n", msg);
}

/* At exit, before the leak check: everything of the run goes with the pools. */
static void fuzz_done(void)
{
    apr_pool_destroy(global_pool);
    global_pool = input_pool = NULL;
    account_key = NULL;
    apr_terminate();
}

void fuzz_init(void)
{
    if (global_pool) return;
    if (apr_initialize() != APR_SUCCESS) abort();
    if (apr_pool_create(&global_pool, NULL) != APR_SUCCESS) abort();
    md_log_set_sink(log_enabled, log_print, NULL);
    atexit(fuzz_done);
}

apr_pool_t *fuzz_global_pool(void)
{
    fuzz_init();
    return global_pool;
}

apr_pool_t *fuzz_pool(void)
{
    fuzz_init();
    if (input_pool) apr_pool_destroy(input_pool);
    if (apr_pool_create(&input_pool, global_pool) != APR_SUCCESS) abort();
    return input_pool;
}

const md_pkey_t *fuzz_account_key(void)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };

    fuzz_init();
    if (!account_key && md_pkey_gen(&account_key, &spec, global_pool) != APR_SUCCESS) abort();
    return account_key;
}

const char *fuzz_str(const uint8_t *data, size_t size, apr_pool_t *p)
{
    return apr_pstrmemdup(p, (const char *)data, size);
}

/* ---- the fake CA ------------------------------------------------------------------ */

static const char DIRECTORY[] =
    "{\"newNonce\":\"https://ca.fuzz.test/nonce\",\"newAccount\":\"https://ca.fuzz.test/acct\","
    "\"newOrder\":\"https://ca.fuzz.test/order\",\"revokeCert\":\"https://ca.fuzz.test/revoke\","
    "\"keyChange\":\"https://ca.fuzz.test/key\",\"meta\":{\"termsOfService\":"
    "\"https://ca.fuzz.test/tos\"}}";

static void answer_set(fuzz_answer_t *a, int status, const char *ctype, const char *body,
                       apr_size_t len)
{
    memset(a, 0, sizeof(*a));
    a->status = status;
    a->content_type = ctype;
    a->body = body;
    a->body_len = len;
}

fuzz_ca_t *fuzz_ca_make(apr_pool_t *p)
{
    fuzz_ca_t *ca = apr_pcalloc(p, sizeof(*ca));

    ca->dir_url = FUZZ_DIR_URL;
    answer_set(&ca->dir, 200, "application/json", DIRECTORY, sizeof(DIRECTORY) - 1);
    answer_set(&ca->after, 500, NULL, "", 0);
    ca->posts = apr_array_make(p, 4, sizeof(fuzz_answer_t *));
    return ca;
}

fuzz_answer_t *fuzz_ca_post(fuzz_ca_t *ca, int status, const char *ctype, const char *body,
                            apr_size_t len, apr_pool_t *p)
{
    fuzz_answer_t *a = apr_palloc(p, sizeof(*a));

    answer_set(a, status, ctype, body, len);
    APR_ARRAY_PUSH(ca->posts, fuzz_answer_t *) = a;
    return a;
}

static md_http_response_t *respond(fuzz_ca_t *ca, const fuzz_answer_t *a, apr_pool_t *p)
{
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));

    resp->status = a->status;
    resp->headers = a->headers ? apr_table_copy(p, a->headers) : apr_table_make(p, 4);
    if (a->content_type) apr_table_set(resp->headers, "Content-Type", a->content_type);
    if (a->location) apr_table_set(resp->headers, "Location", a->location);
    if (!ca->no_nonces && !apr_table_get(resp->headers, "Replay-Nonce")) {
        apr_table_set(resp->headers, "Replay-Nonce",
                      apr_psprintf(p, "fuzz-nonce-%u", ++ca->nonce_counter));
    }
    /* a copy, so that a reader running past body_len hits ASan's redzone */
    resp->body = a->body_len ? apr_pmemdup(p, a->body, a->body_len) : "";
    resp->body_len = a->body_len;
    return resp;
}

static apr_status_t fake_perform(md_http_response_t **presp, md_http_t *http,
                                 const md_http_request_t *req, apr_pool_t *p)
{
    fuzz_ca_t *ca = http->baton;
    fuzz_answer_t none;

    if (!req->url || !req->method) abort();  /* the client never sends that */
    if (!strcmp(req->method, "HEAD")) {
        answer_set(&none, 200, NULL, "", 0);
        *presp = respond(ca, &none, p);
    }
    else if (!strcmp(req->method, "GET") && !strcmp(req->url, ca->dir_url)) {
        *presp = respond(ca, &ca->dir, p);
    }
    else if (!strcmp(req->method, "POST") && ca->next_post < ca->posts->nelts) {
        *presp = respond(ca, APR_ARRAY_IDX(ca->posts, ca->next_post++, fuzz_answer_t *), p);
    }
    else if (!strcmp(req->method, "POST")) {
        *presp = respond(ca, &ca->after, p);
    }
    else {
        answer_set(&none, 404, NULL, "", 0);
        *presp = respond(ca, &none, p);
    }
    return APR_SUCCESS;
}

md_http_t *fuzz_http(fuzz_ca_t *ca, apr_pool_t *p)
{
    md_http_t *http = apr_pcalloc(p, sizeof(*http));

    http->perform = fake_perform;
    http->baton = ca;
    return http;
}

/* ---- scratch stores ------------------------------------------------------------- */

md_store_t *fuzz_store(const char **pscratch, apr_pool_t *p)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char *scratch = apr_pstrcat(p, base, "/mdfuzz-XXXXXX", NULL);
    md_store_t *store;

    if (!mkdtemp(scratch)) abort();
    if (md_store_open(&store, apr_pstrcat(p, scratch, "/store", NULL), 1, p) != APR_SUCCESS) {
        abort();
    }
    *pscratch = scratch;
    return store;
}

void fuzz_store_check(const char *scratch, apr_pool_t *p)
{
    apr_array_header_t *names;

    if (md_dir_list(&names, scratch, 0, p) != APR_SUCCESS) abort();
    if (names->nelts != 1 || strcmp(APR_ARRAY_IDX(names, 0, const char *), "store")) {
        fprintf(stderr, "a write escaped the store: %s holds %s\n", scratch,
                md_array_str_join(names, ", ", p));
        abort();
    }
    md_dir_remove_all(scratch, p);
}
