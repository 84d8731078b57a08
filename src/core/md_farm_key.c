/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The farm key and the sealing of secrets before they go to the engine (md_farm.h):
 * AES-256-GCM, a fresh random nonce per seal, what the data is (MD and file name) as
 * associated data, so that a sealed key cannot be passed off as another's. */
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md_farm.h"
#include "md_util.h"

#define SEAL_MAGIC "mdf1"
#define SEAL_MAGIC_LEN 4
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 64 hex digits (maybe followed by a line end) into 32 bytes; 0 when it is not that. */
static int from_hex(unsigned char *key, const char *data, apr_size_t len)
{
    apr_size_t i;
    int hi, lo;

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) --len;
    if (len != 2 * MD_FARM_KEY_LEN) return 0;
    for (i = 0; i < MD_FARM_KEY_LEN; ++i) {
        hi = hex_val(data[2 * i]);
        lo = hex_val(data[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        key[i] = (unsigned char)(hi * 16 + lo);
    }
    return 1;
}

apr_status_t md_farm_key_load(const unsigned char **pkey, const char **pwhy, const char *path,
                              apr_pool_t *p)
{
    unsigned char *key = apr_pcalloc(p, MD_FARM_KEY_LEN);
    const char *data;
    apr_size_t len;
    struct stat st;
    apr_status_t rv;

    *pkey = NULL;
    *pwhy = NULL;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        *pwhy = apr_psprintf(p, "the farm key %s is not a regular file", path);
        return APR_ENOENT;
    }
    if (st.st_uid != 0 || (st.st_mode & 077)) {
        *pwhy = apr_psprintf(p, "the farm key %s must belong to root with mode 0600 (it has owner %d, "
                             "mode %04o)", path, (int)st.st_uid, (unsigned)(st.st_mode & 07777));
        return APR_EACCES;
    }
    rv = md_file_read(&data, &len, path, 1024, p);
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "the farm key %s cannot be read", path);
        return rv;
    }
    if (len == MD_FARM_KEY_LEN) memcpy(key, data, MD_FARM_KEY_LEN);
    else if (!from_hex(key, data, len)) {
        *pwhy = apr_psprintf(p, "the farm key %s must hold 32 bytes or 64 hex digits "
                             "(openssl rand -hex 32)", path);
        return APR_EINVAL;
    }
    *pkey = key;
    return APR_SUCCESS;
}

static apr_status_t ctx_free(void *data)
{
    EVP_CIPHER_CTX_free(data);
    return APR_SUCCESS;
}

static EVP_CIPHER_CTX *ctx_make(apr_pool_t *p)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx) apr_pool_cleanup_register(p, ctx, ctx_free, apr_pool_cleanup_null);
    return ctx;
}

apr_status_t md_farm_seal(const char **psealed, apr_size_t *plen, const unsigned char *key,
                          const char *aad, const void *data, apr_size_t len, apr_pool_t *p)
{
    apr_size_t total = SEAL_MAGIC_LEN + SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
    unsigned char *out = apr_palloc(p, total);
    unsigned char *nonce = out + SEAL_MAGIC_LEN, *ct = nonce + SEAL_NONCE_LEN;
    EVP_CIPHER_CTX *ctx = ctx_make(p);
    int n = 0;

    *psealed = NULL;
    *plen = 0;
    memcpy(out, SEAL_MAGIC, SEAL_MAGIC_LEN);
    if (!ctx || md_rand_bytes(nonce, SEAL_NONCE_LEN) != APR_SUCCESS) return APR_EGENERAL;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1
        || EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1
        || EVP_EncryptUpdate(ctx, ct, &n, data, (int)len) != 1
        || EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1) {
        return APR_EGENERAL;
    }
    *psealed = (const char *)out;
    *plen = total;
    return APR_SUCCESS;
}

apr_status_t md_farm_open(const char **pdata, apr_size_t *plen, const unsigned char *key,
                          const char *aad, const char *sealed, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *nonce = (const unsigned char *)sealed + SEAL_MAGIC_LEN;
    const unsigned char *ct = nonce + SEAL_NONCE_LEN;
    apr_size_t ct_len;
    unsigned char *out;
    EVP_CIPHER_CTX *ctx;
    int n = 0;

    *pdata = NULL;
    *plen = 0;
    if (len < SEAL_MAGIC_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN
        || memcmp(sealed, SEAL_MAGIC, SEAL_MAGIC_LEN)) {
        return APR_EINVAL;
    }
    ct_len = len - SEAL_MAGIC_LEN - SEAL_NONCE_LEN - SEAL_TAG_LEN;
    out = apr_palloc(p, ct_len + 1);
    ctx = ctx_make(p);
    if (!ctx) return APR_ENOMEM;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1
        || EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1
        || EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, (void *)(ct + ct_len)) != 1) {
        return APR_EGENERAL;
    }
    /* the tag is checked here: another key, other associated data or changed bytes fail */
    if (EVP_DecryptFinal_ex(ctx, out + n, &n) != 1) return APR_EACCES;
    out[ct_len] = '\0';
    *pdata = (const char *)out;
    *plen = ct_len;
    return APR_SUCCESS;
}
