/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Key specifications and private keys: the only place where keys are made or loaded. */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "md_crypt.h"
#include "md_log.h"

struct md_pkey_t {
    EVP_PKEY *pkey;
};

/* The curves we make keys for. name is what store file names and status use,
 * group what OpenSSL calls it, nist the name RFC 7518 and FIPS 186 use. */
typedef struct {
    const char *name;
    const char *group;
    const char *nist;
} pkey_curve_t;

static const pkey_curve_t curves[] = {
    { "secp256r1", "prime256v1", "P-256" },
    { "secp384r1", "secp384r1", "P-384" },
    { "secp521r1", "secp521r1", "P-521" },
};

#define CURVE_COUNT (sizeof(curves) / sizeof(curves[0]))

static const char *const err_unknown_type =
    "unknown private key type: use 'Default', 'RSA' with an optional number of bits "
    "(at least 2048), 'rsa2048', 'rsa3072', 'rsa4096', or one of the curves "
    "'secp256r1' (also 'P-256', 'prime256v1'), 'secp384r1' (also 'P-384'), "
    "'secp521r1' (also 'P-521')";
/* the phrases of today's module's messages ("must be 2048 or higher", "allows no other
 * parameter") are kept in ours, which say more: administrators search for them */
static const char *const err_rsa_bits =
    "the RSA key size must be 2048 or higher (and at most 16384), a number of bits, "
    "e.g. 'RSA 3072' or 'rsa3072'";
static const char *const err_default_arg =
    "'Default' allows no other parameter: only 'RSA' takes a number of bits";
static const char *const err_no_arg =
    "a curve name or 'rsaNNNN' allows no other parameter: only 'RSA' takes a number of bits";

/* Find a curve by any of its names, case-insensitively. */
static const pkey_curve_t *curve_lookup(const char *name)
{
    apr_size_t i;

    for (i = 0; i < CURVE_COUNT; ++i) {
        if (!strcasecmp(name, curves[i].name)
            || !strcasecmp(name, curves[i].group)
            || !strcasecmp(name, curves[i].nist)) {
            return &curves[i];
        }
    }
    return NULL;
}

const char *md_pkey_spec_name(const md_pkey_spec_t *spec)
{
    if (spec && spec->type == MD_PKEY_EC && spec->curve) {
        return spec->curve;
    }
    return "rsa";
}

/* Today's module names the files after the curve as configured, in lower case
 * ('P-256' gives privkey.p-256.pem), so a store it wrote is found under these names. */
const char *md_pkey_file_name(const md_pkey_spec_t *spec, const char *prefix, apr_pool_t *p)
{
    char *name, *c;

    if (spec && spec->type == MD_PKEY_EC && spec->curve) {
        name = apr_pstrcat(p, prefix, ".", spec->curve, ".pem", NULL);
        for (c = name; *c; ++c) *c = (char)apr_tolower(*c);
        return name;
    }
    return apr_pstrcat(p, prefix, ".pem", NULL);
}

const char *md_pkey_file_name_old(const md_pkey_spec_t *spec, const char *prefix, apr_pool_t *p)
{
    const pkey_curve_t *curve;
    const char *name;

    if (!spec || spec->type != MD_PKEY_EC || !spec->curve) return NULL;
    curve = curve_lookup(spec->curve);
    if (!curve) return NULL;
    name = apr_pstrcat(p, prefix, ".", curve->name, ".pem", NULL);
    return strcmp(name, md_pkey_file_name(spec, prefix, p)) ? name : NULL;
}

/* Parse a decimal bit count without sign, spaces or trailing text. */
static int parse_bits(unsigned int *pbits, const char *s)
{
    unsigned long val = 0;
    const char *c;

    if (!s || !*s || strlen(s) > 6) return 0;
    for (c = s; *c; ++c) {
        if (!apr_isdigit(*c)) return 0;
        val = val * 10 + (unsigned long)(*c - '0');
    }
    if (val < MD_PKEY_RSA_BITS_MIN || val > MD_PKEY_RSA_BITS_MAX) return 0;
    *pbits = (unsigned int)val;
    return 1;
}

const char *md_pkey_spec_parse(md_pkey_spec_t *spec, const char *word, const char *bits_arg)
{
    const pkey_curve_t *curve;

    memset(spec, 0, sizeof(*spec));
    if (!word || !*word) return err_unknown_type;

    if (!strcasecmp(word, "Default")) {
        spec->type = MD_PKEY_DEFAULT;
        return bits_arg ? err_default_arg : NULL;
    }
    if (!strcasecmp(word, "RSA")) {
        spec->type = MD_PKEY_RSA;
        spec->bits = MD_PKEY_RSA_BITS_DEFAULT;
        if (bits_arg && !parse_bits(&spec->bits, bits_arg)) return err_rsa_bits;
        return NULL;
    }
    if (!strncasecmp(word, "rsa", 3) && apr_isdigit(word[3])) {
        spec->type = MD_PKEY_RSA;
        if (bits_arg) return err_no_arg;
        return parse_bits(&spec->bits, word + 3) ? NULL : err_rsa_bits;
    }
    curve = curve_lookup(word);
    if (!curve) return err_unknown_type;
    spec->type = MD_PKEY_EC;
    /* the name as configured, as today's module keeps it (md.json, status, file names);
     * the same curve under another of its names is the same spec (md_pkey_spec_eq) */
    spec->curve = word;
    return bits_arg ? err_no_arg : NULL;
}

int md_pkey_spec_eq(const md_pkey_spec_t *a, const md_pkey_spec_t *b)
{
    if (a == b) return 1;
    if (!a || !b || a->type != b->type) return 0;
    switch (a->type) {
    case MD_PKEY_RSA:
        return a->bits == b->bits;
    case MD_PKEY_EC:
        return a->curve && b->curve && (!strcasecmp(a->curve, b->curve)
                                        || (curve_lookup(a->curve)
                                            && curve_lookup(a->curve) == curve_lookup(b->curve)));
    default:
        return 1;
    }
}

static apr_status_t pkey_cleanup(void *data)
{
    md_pkey_t *pkey = data;

    EVP_PKEY_free(pkey->pkey);
    pkey->pkey = NULL;
    return APR_SUCCESS;
}

md_pkey_t *md_pkey_wrap(EVP_PKEY *evp, apr_pool_t *p)
{
    md_pkey_t *pkey = apr_pcalloc(p, sizeof(*pkey));

    pkey->pkey = evp;
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    return pkey;
}

EVP_PKEY *md_pkey_evp(const md_pkey_t *pkey)
{
    return pkey ? pkey->pkey : NULL;
}

apr_status_t md_pkey_gen(md_pkey_t **ppkey, const md_pkey_spec_t *spec, apr_pool_t *p)
{
    const pkey_curve_t *curve = NULL;
    EVP_PKEY *evp = NULL;
    size_t bits = MD_PKEY_RSA_BITS_DEFAULT;

    *ppkey = NULL;
    if (spec && spec->type == MD_PKEY_EC) {
        curve = spec->curve ? curve_lookup(spec->curve) : NULL;
        if (!curve) return APR_ENOTIMPL;
        evp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve->nist);
    }
    else {
        if (spec && spec->type == MD_PKEY_RSA && spec->bits) bits = spec->bits;
        if (bits < MD_PKEY_RSA_BITS_MIN || bits > MD_PKEY_RSA_BITS_MAX) return APR_EINVAL;
        evp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
    }
    if (!evp) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EGENERAL, p,
                      "MD2001: generating a %s private key failed",
                      curve ? curve->name : "RSA");
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *ppkey = md_pkey_wrap(evp, p);
    return APR_SUCCESS;
}

typedef struct {
    const unsigned char *data;
    apr_size_t len;
} pkey_pass_t;

/* Hands the passphrase to OpenSSL; without one, refuses instead of prompting on a tty. */
static int pass_cb(char *buf, int size, int rwflag, void *baton)
{
    const pkey_pass_t *pass = baton;

    (void)rwflag;
    if (!pass || !pass->data || pass->len == 0 || size < 0 || pass->len > (apr_size_t)size) {
        return -1;
    }
    memcpy(buf, pass->data, pass->len);
    return (int)pass->len;
}

apr_status_t md_pkey_from_pem(md_pkey_t **ppkey, const char *pem, apr_size_t len,
                              const unsigned char *pass, apr_size_t pass_len, apr_pool_t *p)
{
    pkey_pass_t secret;
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY *evp = NULL;
    BIO *bio = NULL;

    *ppkey = NULL;
    secret.data = pass;
    secret.len = pass ? pass_len : 0;
    if (!pem || len == 0 || len > INT_MAX) return APR_EINVAL;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return APR_ENOMEM;

    evp = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &secret);
    if (!evp) {
        unsigned long err = ERR_peek_last_error();
        const char *reason = ERR_reason_error_string(err);

        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EINVAL, p,
                      "MD2002: reading a PEM private key failed: %s%s",
                      reason ? reason : "unknown reason",
                      secret.len ? " (wrong passphrase?)" : "");
        ERR_clear_error();
        rv = APR_EINVAL;
        goto leave;
    }
    *ppkey = md_pkey_wrap(evp, p);
leave:
    BIO_free(bio);
    return rv;
}

/* Copy the contents of a memory BIO into the pool as a NUL-terminated string. */
static apr_status_t bio_to_string(const char **ps, BIO *bio, apr_pool_t *p)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0 || !data) return APR_EGENERAL;
    *ps = apr_pstrmemdup(p, data, (apr_size_t)len);
    return APR_SUCCESS;
}

apr_status_t md_pkey_to_pem(const char **ppem, const md_pkey_t *pkey,
                            const unsigned char *pass, apr_size_t pass_len, apr_pool_t *p)
{
    apr_status_t rv = APR_EGENERAL;
    BIO *bio = NULL;
    int ok;

    *ppem = NULL;
    if (!pkey || !pkey->pkey || (pass && pass_len > INT_MAX)) return APR_EINVAL;
    bio = BIO_new(BIO_s_mem());
    if (!bio) return APR_ENOMEM;

    if (pass && pass_len > 0) {
        ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey->pkey, EVP_aes_256_cbc(),
                                           (const char *)pass, (int)pass_len, NULL, NULL);
    }
    else {
        ok = PEM_write_bio_PrivateKey(bio, pkey->pkey, NULL, NULL, 0, NULL, NULL);
    }
    if (!ok) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EGENERAL, p,
                      "MD2003: writing a private key as PEM failed");
        ERR_clear_error();
        goto leave;
    }
    rv = bio_to_string(ppem, bio, p);
leave:
    BIO_free(bio);
    return rv;
}

void md_pkey_get_spec(md_pkey_spec_t *spec, const md_pkey_t *pkey, apr_pool_t *p)
{
    char group[80];
    size_t glen = 0;
    const pkey_curve_t *curve;
    EVP_PKEY *evp = md_pkey_evp(pkey);

    memset(spec, 0, sizeof(*spec));
    spec->type = MD_PKEY_DEFAULT;
    if (!evp) return;
    if (EVP_PKEY_is_a(evp, "RSA")) {
        spec->type = MD_PKEY_RSA;
        spec->bits = (unsigned int)EVP_PKEY_get_bits(evp);
        return;
    }
    if (!EVP_PKEY_is_a(evp, "EC")) return;
    spec->type = MD_PKEY_EC;
    if (!EVP_PKEY_get_utf8_string_param(evp, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen)) {
        ERR_clear_error();
        return;
    }
    curve = curve_lookup(group);
    spec->curve = curve ? curve->name : apr_pstrdup(p, group);
}
