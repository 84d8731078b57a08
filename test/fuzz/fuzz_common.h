/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Shared harness of the fuzz targets (libFuzzer): one APR pool per input, a log sink
 * that formats every message at every level and throws it away, a scratch store on a
 * tmpfs, and a fake HTTP transport that plays back a script of answers, so the ACME
 * client can be driven with hostile bodies and headers without a network. */
#ifndef fuzz_common_h
#define fuzz_common_h

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "md_crypt.h"
#include "md_http.h"
#include "md_store.h"

/* What the fake CA says to one request. */
typedef struct {
    int status;
    const char *content_type;   /* NULL: no Content-Type header */
    const char *body;
    apr_size_t body_len;
    const char *location;       /* NULL: no Location header */
    apr_table_t *headers;       /* extra headers, may be NULL */
} fuzz_answer_t;

typedef struct {
    const char *dir_url;               /* answered with dir (GET) */
    fuzz_answer_t dir;
    apr_array_header_t *posts;         /* fuzz_answer_t*, one per POST in order */
    int next_post;
    fuzz_answer_t after;               /* for POSTs once the script is used up */
    unsigned int nonce_counter;
    int no_nonces;                     /* HEAD newNonce answers without a nonce */
} fuzz_ca_t;

#define FUZZ_DIR_URL "https://ca.fuzz.test/dir"

/* Called once by every target from LLVMFuzzerInitialize or the first input. */
void fuzz_init(void);
/* The global pool (lives for the whole run) and a fresh pool for one input. */
apr_pool_t *fuzz_global_pool(void);
apr_pool_t *fuzz_pool(void);
/* An EC P-256 key made once, for signing ACME requests. */
const md_pkey_t *fuzz_account_key(void);

/* A fake CA: the directory is a valid one of RFC 8555 section 7.1.1 until changed. */
fuzz_ca_t *fuzz_ca_make(apr_pool_t *p);
fuzz_answer_t *fuzz_ca_post(fuzz_ca_t *ca, int status, const char *ctype, const char *body,
                            apr_size_t len, apr_pool_t *p);
md_http_t *fuzz_http(fuzz_ca_t *ca, apr_pool_t *p);

/* A store in a fresh scratch directory (on /dev/shm when there is one: fsync is free).
 * fuzz_store_check() aborts when anything exists beside the store's own directories,
 * i.e. when a write escaped the store, and removes the scratch directory. */
md_store_t *fuzz_store(const char **pscratch, apr_pool_t *p);
void fuzz_store_check(const char *scratch, apr_pool_t *p);

/* The input as a NUL-terminated string (embedded NULs end it early). */
const char *fuzz_str(const uint8_t *data, size_t size, apr_pool_t *p);

#endif
