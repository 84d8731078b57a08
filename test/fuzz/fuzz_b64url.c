/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* base64url (md_b64url_decode): EAB HMAC keys, the store key, JWS parts. Decoding must
 * never read or write out of bounds, and what decodes must encode back to the same text
 * without padding, modulo the bits a non-canonical last character carries. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *s = fuzz_str(data, size, p), *again;
    const unsigned char *raw, *raw2;
    apr_size_t len, len2;

    if (md_b64url_decode(&raw, &len, s, p) != APR_SUCCESS) return 0;
    /* 1. the length is what the unpadded input length says */
    again = md_b64url_encode(raw, len, p);
    if (len > strlen(s) * 3 / 4) abort();
    /* 2. encode(decode(x)) decodes to the same bytes */
    if (md_b64url_decode(&raw2, &len2, again, p) != APR_SUCCESS) abort();
    if (len2 != len || memcmp(raw, raw2, len)) abort();
    /* 3. and it is canonical: a second round is the identity */
    if (strcmp(md_b64url_encode(raw2, len2, p), again)) abort();
    return 0;
}
