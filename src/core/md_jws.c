/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* JSON Web Keys, thumbprints and JSON Web Signatures for ACME requests. */
#include <limits.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include "md_json_keys.h"
#include "md_jws.h"
#include "md_log.h"
#include "md_util.h"

/* What RFC 7518 says for each curve we sign with. */
typedef struct {
    const char *group;            /* OpenSSL's group name of the key */
    const char *crv;              /* JWK "crv" */
    const char *alg;              /* JWS "alg" */
    const EVP_MD *(*md)(void);    /* the digest alg names */
    apr_size_t size;              /* octets of a coordinate, and of R and of S */
} jws_ec_t;

static const jws_ec_t ec_algs[] = {
    { "prime256v1", "P-256", "ES256", EVP_sha256, 32 },
    { "secp384r1",  "P-384", "ES384", EVP_sha384, 48 },
    { "secp521r1",  "P-521", "ES512", EVP_sha512, 66 },
};

#define EC_ALG_COUNT (sizeof(ec_algs) / sizeof(ec_algs[0]))

/* The JOSE parameters of an EC key, NULL for other keys or unsupported curves. */
static const jws_ec_t *jws_ec_lookup(EVP_PKEY *evp)
{
    char group[64];
    size_t len = 0;
    apr_size_t i;

    if (!evp || !EVP_PKEY_is_a(evp, "EC")) return NULL;
    if (!EVP_PKEY_get_utf8_string_param(evp, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &len)) {
        ERR_clear_error();
        return NULL;
    }
    for (i = 0; i < EC_ALG_COUNT; ++i) {
        if (!strcmp(group, ec_algs[i].group)) return &ec_algs[i];
    }
    return NULL;
}

const char *md_jws_alg(const md_pkey_t *pkey)
{
    EVP_PKEY *evp = md_pkey_evp(pkey);
    const jws_ec_t *ec;

    if (evp && EVP_PKEY_is_a(evp, "RSA")) return "RS256";
    ec = jws_ec_lookup(evp);
    return ec ? ec->alg : NULL;
}

/* ---- JWK ------------------------------------------------------------------------ */

/* base64url of a big-number parameter of the key: big-endian, unsigned, either as
 * short as possible (pad == 0) or left-padded with zeros to pad octets. */
static apr_status_t bn_param_b64(const char **pb64, EVP_PKEY *evp, const char *param,
                                 apr_size_t pad, apr_pool_t *p)
{
    apr_status_t rv = APR_EGENERAL;
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int len;

    *pb64 = NULL;
    if (!EVP_PKEY_get_bn_param(evp, param, &bn)) goto leave;
    len = pad ? (int)pad : BN_num_bytes(bn);
    if (len <= 0) goto leave;
    buf = apr_palloc(p, (apr_size_t)len);
    if (BN_bn2binpad(bn, buf, len) != len) goto leave;
    *pb64 = md_b64url_encode(buf, (apr_size_t)len, p);
    rv = APR_SUCCESS;
leave:
    BN_free(bn);
    ERR_clear_error();
    return rv;
}

/* Members are set in lexicographic order: the compact dump of the JWK is then the
 * RFC 7638 canonical form that the thumbprint hashes. */
static apr_status_t jwk_rsa(md_json_t *jwk, EVP_PKEY *evp, apr_pool_t *p)
{
    const char *e, *n;
    apr_status_t rv;

    rv = bn_param_b64(&e, evp, OSSL_PKEY_PARAM_RSA_E, 0, p);
    if (rv != APR_SUCCESS) return rv;
    rv = bn_param_b64(&n, evp, OSSL_PKEY_PARAM_RSA_N, 0, p);
    if (rv != APR_SUCCESS) return rv;
    md_json_sets(e, jwk, MD_KEY_E, NULL);
    md_json_sets("RSA", jwk, MD_KEY_KTY, NULL);
    md_json_sets(n, jwk, MD_KEY_N, NULL);
    return APR_SUCCESS;
}

static apr_status_t jwk_ec(md_json_t *jwk, EVP_PKEY *evp, const jws_ec_t *ec, apr_pool_t *p)
{
    const char *x, *y;
    apr_status_t rv;

    rv = bn_param_b64(&x, evp, OSSL_PKEY_PARAM_EC_PUB_X, ec->size, p);
    if (rv != APR_SUCCESS) return rv;
    rv = bn_param_b64(&y, evp, OSSL_PKEY_PARAM_EC_PUB_Y, ec->size, p);
    if (rv != APR_SUCCESS) return rv;
    md_json_sets(ec->crv, jwk, MD_KEY_CRV, NULL);
    md_json_sets("EC", jwk, MD_KEY_KTY, NULL);
    md_json_sets(x, jwk, MD_KEY_X, NULL);
    md_json_sets(y, jwk, MD_KEY_Y, NULL);
    return APR_SUCCESS;
}

apr_status_t md_jwk_get(md_json_t **pjwk, const md_pkey_t *pkey, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_evp(pkey);
    const jws_ec_t *ec = jws_ec_lookup(evp);
    md_json_t *jwk;
    apr_status_t rv;

    *pjwk = NULL;
    if (!evp) return APR_EINVAL;
    jwk = md_json_create(p);
    if (EVP_PKEY_is_a(evp, "RSA")) rv = jwk_rsa(jwk, evp, p);
    else if (ec) rv = jwk_ec(jwk, evp, ec, p);
    else rv = APR_ENOTIMPL;
    if (rv == APR_SUCCESS) *pjwk = jwk;
    return rv;
}

apr_status_t md_jwk_thumbprint(const char **pthumb, const md_pkey_t *pkey, apr_pool_t *p)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    md_json_t *jwk;
    const char *canonical;
    apr_status_t rv;

    *pthumb = NULL;
    rv = md_jwk_get(&jwk, pkey, p);
    if (rv != APR_SUCCESS) return rv;
    /* only the required members, sorted, no whitespace (RFC 7638 section 3.2) */
    canonical = md_json_dump(jwk, MD_JSON_COMPACT, p);
    if (!canonical) return APR_EGENERAL;
    if (!EVP_Digest(canonical, strlen(canonical), digest, &dlen, EVP_sha256(), NULL)) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *pthumb = md_b64url_encode(digest, dlen, p);
    return APR_SUCCESS;
}

apr_status_t md_jws_key_authz(const char **pauthz, const md_pkey_t *account_key,
                              const char *token, apr_pool_t *p)
{
    const char *thumb;
    apr_status_t rv;

    *pauthz = NULL;
    if (!token || !*token) return APR_EINVAL;
    rv = md_jwk_thumbprint(&thumb, account_key, p);
    if (rv != APR_SUCCESS) return rv;
    *pauthz = apr_pstrcat(p, token, ".", thumb, NULL);
    return APR_SUCCESS;
}

/* ---- JWS ------------------------------------------------------------------------ */

/* The encoded parts of a flattened JWS before the signature. */
typedef struct {
    const char *protected64;
    const char *payload64;
    const char *input;        /* protected64 "." payload64: what is signed */
} jws_parts_t;

static apr_status_t jws_parts_make(jws_parts_t *parts, const md_json_t *protected_hdr,
                                   const char *payload, apr_pool_t *p)
{
    const char *hdr = md_json_dump(protected_hdr, MD_JSON_COMPACT, p);

    if (!hdr) return APR_EGENERAL;
    parts->protected64 = md_b64url_encode(hdr, strlen(hdr), p);
    parts->payload64 = md_b64url_encode(payload, strlen(payload), p);
    parts->input = apr_pstrcat(p, parts->protected64, ".", parts->payload64, NULL);
    return APR_SUCCESS;
}

static md_json_t *jws_parts_finish(const jws_parts_t *parts, const unsigned char *sig,
                                   apr_size_t sig_len, apr_pool_t *p)
{
    md_json_t *jws = md_json_create(p);

    md_json_sets(parts->protected64, jws, MD_KEY_PROTECTED, NULL);
    md_json_sets(parts->payload64, jws, MD_KEY_PAYLOAD, NULL);
    md_json_sets(md_b64url_encode(sig, sig_len, p), jws, MD_KEY_SIGNATURE, NULL);
    return jws;
}

/* RFC 7518 3.4: an ECDSA signature in JWS is R || S, each of the curve's size,
 * where OpenSSL gives the DER of ECDSA-Sig-Value. */
static apr_status_t ecdsa_der_to_raw(const unsigned char **praw, const unsigned char *der,
                                     apr_size_t der_len, apr_size_t size, apr_pool_t *p)
{
    const unsigned char *in = der;
    const BIGNUM *r = NULL, *s = NULL;
    apr_status_t rv = APR_EGENERAL;
    unsigned char *raw;
    ECDSA_SIG *sig;

    sig = d2i_ECDSA_SIG(NULL, &in, (long)der_len);
    if (!sig) return APR_EGENERAL;
    ECDSA_SIG_get0(sig, &r, &s);
    raw = apr_palloc(p, 2 * size);
    if (BN_bn2binpad(r, raw, (int)size) == (int)size
        && BN_bn2binpad(s, raw + size, (int)size) == (int)size) {
        *praw = raw;
        rv = APR_SUCCESS;
    }
    ECDSA_SIG_free(sig);
    return rv;
}

/* The signature over data as JWS wants it: RS256 (PKCS#1 v1.5) or ES256/384/512. */
static apr_status_t jws_sign_data(const unsigned char **psig, apr_size_t *psig_len,
                                  const md_pkey_t *pkey, const char *data, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_evp(pkey);
    const jws_ec_t *ec = jws_ec_lookup(evp);
    apr_status_t rv = APR_EGENERAL;
    EVP_MD_CTX *ctx;
    unsigned char *sig;
    size_t len = 0;

    if (!ec && !(evp && EVP_PKEY_is_a(evp, "RSA"))) return APR_ENOTIMPL;
    ctx = EVP_MD_CTX_new();
    if (!ctx) return APR_ENOMEM;
    if (EVP_DigestSignInit(ctx, NULL, ec ? ec->md() : EVP_sha256(), NULL, evp) != 1
        || EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)data, strlen(data)) != 1) {
        goto leave;
    }
    sig = apr_palloc(p, len);
    if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, strlen(data)) != 1) {
        goto leave;
    }
    if (ec) {
        rv = ecdsa_der_to_raw(psig, sig, len, ec->size, p);
        if (rv == APR_SUCCESS) *psig_len = 2 * ec->size;
    }
    else {
        *psig = sig;
        *psig_len = len;
        rv = APR_SUCCESS;
    }
leave:
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "MD2301: signing a JWS failed");
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rv;
}

apr_status_t md_jws_sign(md_json_t **pjws, const char *payload, const md_pkey_t *pkey,
                         const char *kid, const char *nonce, const char *url, apr_pool_t *p)
{
    const char *alg = md_jws_alg(pkey);
    const unsigned char *sig;
    apr_size_t sig_len;
    md_json_t *hdr, *jwk;
    jws_parts_t parts;
    apr_status_t rv;

    *pjws = NULL;
    if (!alg || !url) return APR_EINVAL;
    /* 1. the protected header: the account by kid, or the key itself (new account) */
    hdr = md_json_create(p);
    md_json_sets(alg, hdr, MD_KEY_ALG, NULL);
    if (kid) {
        md_json_sets(kid, hdr, MD_KEY_KID, NULL);
    }
    else {
        rv = md_jwk_get(&jwk, pkey, p);
        if (rv != APR_SUCCESS) return rv;
        md_json_setj(jwk, hdr, MD_KEY_JWK, NULL);
    }
    if (nonce) md_json_sets(nonce, hdr, MD_KEY_NONCE, NULL);
    md_json_sets(url, hdr, MD_KEY_URL, NULL);
    /* 2. encode header and payload ("" for POST-as-GET) */
    rv = jws_parts_make(&parts, hdr, payload ? payload : "", p);
    if (rv != APR_SUCCESS) return rv;
    /* 3. sign */
    rv = jws_sign_data(&sig, &sig_len, pkey, parts.input, p);
    if (rv != APR_SUCCESS) return rv;
    *pjws = jws_parts_finish(&parts, sig, sig_len, p);
    return APR_SUCCESS;
}

apr_status_t md_jws_eab(md_json_t **pjws, const md_json_t *account_jwk, const char *kid,
                        const char *hmac_b64url, const char *url, apr_pool_t *p)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const unsigned char *key;
    const char *payload;
    apr_size_t key_len;
    jws_parts_t parts;
    md_json_t *hdr;
    apr_status_t rv;

    *pjws = NULL;
    if (!account_jwk || !kid || !hmac_b64url || !url) return APR_EINVAL;
    /* 1. the MAC key the CA handed out, base64url-encoded */
    rv = md_b64url_decode(&key, &key_len, hmac_b64url, p);
    if (rv != APR_SUCCESS || key_len == 0 || key_len > INT_MAX) return APR_EINVAL;
    /* 2. protected {alg, kid, url}; the payload is the account's public JWK */
    hdr = md_json_create(p);
    md_json_sets("HS256", hdr, MD_KEY_ALG, NULL);
    md_json_sets(kid, hdr, MD_KEY_KID, NULL);
    md_json_sets(url, hdr, MD_KEY_URL, NULL);
    payload = md_json_dump(account_jwk, MD_JSON_COMPACT, p);
    if (!payload) return APR_EINVAL;
    rv = jws_parts_make(&parts, hdr, payload, p);
    if (rv != APR_SUCCESS) return rv;
    /* 3. HMAC-SHA256 over the signing input */
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)parts.input,
              strlen(parts.input), mac, &mac_len)) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *pjws = jws_parts_finish(&parts, mac, mac_len, p);
    return APR_SUCCESS;
}
