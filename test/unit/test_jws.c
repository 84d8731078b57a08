/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* JWK, thumbprints and JWS: what an ACME CA checks on every request we send. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "md_crypt.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_jws.h"
#include "md_util.h"
#include "md_test.h"

/* RFC 7638 section 3.1: the example RSA key and its thumbprint. */
static const char RFC7638_N[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
    "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
    "MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char RFC7638_E[] = "AQAB";
static const char RFC7638_THUMBPRINT[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static md_pkey_t *gen_key(const char *word)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey = NULL;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, word, NULL));
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    return pkey;
}

static const unsigned char *b64_decode(apr_size_t *plen, const char *s)
{
    const unsigned char *data = NULL;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(md_b64url_decode(&data, plen, s, md_test_pool), APR_SUCCESS);
    return data;
}

static BIGNUM *b64_bn(const char *s)
{
    apr_size_t len;
    const unsigned char *data = b64_decode(&len, s);
    BIGNUM *bn = BN_bin2bn(data, (int)len, NULL);

    ck_assert_ptr_nonnull(bn);
    return bn;
}

/* A public key built from a JWK the way a CA would, independently of the code under test. */
static EVP_PKEY *key_from_jwk(const md_json_t *jwk)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    const char *kty = md_json_gets(jwk, MD_KEY_KTY, NULL);
    BIGNUM *n = NULL, *e = NULL;
    unsigned char point[1 + 2 * 66];
    const unsigned char *x, *y;
    apr_size_t xlen, ylen;
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;

    ck_assert_ptr_nonnull(kty);
    if (!strcmp(kty, "RSA")) {
        n = b64_bn(md_json_gets(jwk, MD_KEY_N, NULL));
        e = b64_bn(md_json_gets(jwk, MD_KEY_E, NULL));
        ck_assert(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
        ck_assert(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
    }
    else {
        x = b64_decode(&xlen, md_json_gets(jwk, MD_KEY_X, NULL));
        y = b64_decode(&ylen, md_json_gets(jwk, MD_KEY_Y, NULL));
        ck_assert_uint_eq(xlen, ylen);
        ck_assert_uint_le(xlen, 66);
        point[0] = 0x04;
        memcpy(point + 1, x, xlen);
        memcpy(point + 1 + xlen, y, ylen);
        ck_assert(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                                  md_json_gets(jwk, MD_KEY_CRV, NULL), 0));
        ck_assert(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                                   1 + xlen + ylen));
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL);
    ck_assert_ptr_nonnull(params);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static md_json_t *json_of_b64(const char *b64)
{
    apr_size_t len;
    const unsigned char *data = b64_decode(&len, b64);
    md_json_t *j = NULL;

    ck_assert_int_eq(md_json_parse(&j, (const char *)data, len, md_test_pool), APR_SUCCESS);
    return j;
}

/* RFC 7518 3.4: turn R || S back into the DER that OpenSSL verifies. */
static const unsigned char *ecdsa_raw_to_der(int *pder_len, const unsigned char *raw,
                                             apr_size_t size)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)size, NULL), *s = BN_bin2bn(raw + size, (int)size, NULL);
    unsigned char *der, *end;
    int len;

    ck_assert(sig && r && s);
    ck_assert_int_eq(ECDSA_SIG_set0(sig, r, s), 1);
    len = i2d_ECDSA_SIG(sig, NULL);
    ck_assert_int_gt(len, 0);
    der = apr_palloc(md_test_pool, (apr_size_t)len);
    end = der;
    ck_assert_int_eq(i2d_ECDSA_SIG(sig, &end), len);
    ECDSA_SIG_free(sig);
    *pder_len = len;
    return der;
}

/* Does the JWS signature verify with the public key? ec_size 0 for RSA. */
static int jws_verifies(const md_json_t *jws, EVP_PKEY *pub, const EVP_MD *md,
                        apr_size_t ec_size, const char *input)
{
    const unsigned char *sig;
    apr_size_t sig_len;
    int der_len, ok;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    sig = b64_decode(&sig_len, md_json_gets(jws, MD_KEY_SIGNATURE, NULL));
    if (ec_size) {
        ck_assert_uint_eq(sig_len, 2 * ec_size);
        sig = ecdsa_raw_to_der(&der_len, sig, ec_size);
        sig_len = (apr_size_t)der_len;
    }
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub), 1);
    ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static const char *jws_input(const md_json_t *jws)
{
    return apr_pstrcat(md_test_pool, md_json_gets(jws, MD_KEY_PROTECTED, NULL), ".",
                       md_json_gets(jws, MD_KEY_PAYLOAD, NULL), NULL);
}

/* ---- JWK and thumbprint ---------------------------------------------------------- */

START_TEST(thumbprint_rfc7638_example)
{
    md_json_t *jwk = md_json_create(md_test_pool), *back;
    md_pkey_t *pkey;
    const char *thumb = NULL, *authz = NULL;

    md_json_sets(RFC7638_E, jwk, MD_KEY_E, NULL);
    md_json_sets("RSA", jwk, MD_KEY_KTY, NULL);
    md_json_sets(RFC7638_N, jwk, MD_KEY_N, NULL);
    pkey = md_pkey_wrap(key_from_jwk(jwk), md_test_pool);

    ck_assert_int_eq(md_jwk_get(&back, pkey, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, MD_KEY_N, NULL), RFC7638_N);
    ck_assert_str_eq(md_json_gets(back, MD_KEY_E, NULL), RFC7638_E);
    ck_assert_str_eq(md_json_gets(back, MD_KEY_KTY, NULL), "RSA");
    ck_assert_int_eq(md_jwk_thumbprint(&thumb, pkey, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(thumb, RFC7638_THUMBPRINT);

    /* the key authorization the http-01 and tls-alpn-01 answers carry */
    ck_assert_int_eq(md_jws_key_authz(&authz, pkey, "evaGxfADs6pSRb2LAv9IZ", md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(authz, apr_pstrcat(md_test_pool, "evaGxfADs6pSRb2LAv9IZ.",
                                        RFC7638_THUMBPRINT, NULL));
}
END_TEST

START_TEST(jwk_rsa_describes_the_key)
{
    md_pkey_t *pkey = gen_key("rsa2048");
    EVP_PKEY *rebuilt;
    md_json_t *jwk;

    ck_assert_int_eq(md_jwk_get(&jwk, pkey, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_dump(jwk, MD_JSON_COMPACT, md_test_pool),
                     apr_pstrcat(md_test_pool, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"",
                                 md_json_gets(jwk, MD_KEY_N, NULL), "\"}", NULL));
    rebuilt = key_from_jwk(jwk);
    ck_assert_int_eq(EVP_PKEY_eq(rebuilt, md_pkey_evp(pkey)), 1);
    EVP_PKEY_free(rebuilt);
    ck_assert_str_eq(md_jws_alg(pkey), "RS256");
}
END_TEST

/* EC coordinates keep their leading zero octets (RFC 7518 6.2.1.2): a key whose x starts
 * with 0x00 is tried on purpose, since a CA rejects a short coordinate. */
START_TEST(jwk_ec_pads_coordinates)
{
    static const struct { const char *word, *crv, *alg; apr_size_t size; } cases[] = {
        { "P-256", "P-256", "ES256", 32 },
        { "P-384", "P-384", "ES384", 48 },
    };
    apr_size_t i, len;
    md_pkey_t *pkey;
    md_json_t *jwk;
    EVP_PKEY *rebuilt;
    int tries;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const unsigned char *x = NULL;

        for (tries = 0; tries < 4000; ++tries) {
            pkey = gen_key(cases[i].word);
            ck_assert_int_eq(md_jwk_get(&jwk, pkey, md_test_pool), APR_SUCCESS);
            x = b64_decode(&len, md_json_gets(jwk, MD_KEY_X, NULL));
            ck_assert_uint_eq(len, cases[i].size);
            b64_decode(&len, md_json_gets(jwk, MD_KEY_Y, NULL));
            ck_assert_uint_eq(len, cases[i].size);
            if (x[0] == 0) break;
        }
        ck_assert_uint_eq(x[0], 0);
        ck_assert_str_eq(md_json_gets(jwk, MD_KEY_CRV, NULL), cases[i].crv);
        ck_assert_str_eq(md_json_gets(jwk, MD_KEY_KTY, NULL), "EC");
        ck_assert_str_eq(md_jws_alg(pkey), cases[i].alg);
        rebuilt = key_from_jwk(jwk);
        ck_assert_int_eq(EVP_PKEY_eq(rebuilt, md_pkey_evp(pkey)), 1);
        EVP_PKEY_free(rebuilt);
    }
}
END_TEST

/* ---- JWS ------------------------------------------------------------------------- */

START_TEST(jws_rs256_new_account)
{
    const char *payload = "{\"termsOfServiceAgreed\":true}";
    md_pkey_t *pkey = gen_key("rsa2048");
    md_json_t *jws = NULL, *hdr, *jwk;
    const unsigned char *data;
    apr_size_t len;

    ck_assert_int_eq(md_jws_sign(&jws, payload, pkey, NULL, "nonce-1",
                                 "https://ca.test/new-acct", md_test_pool), APR_SUCCESS);
    hdr = json_of_b64(md_json_gets(jws, MD_KEY_PROTECTED, NULL));
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_ALG, NULL), "RS256");
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_NONCE, NULL), "nonce-1");
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_URL, NULL), "https://ca.test/new-acct");
    ck_assert(!md_json_has(hdr, MD_KEY_KID, NULL));
    jwk = md_json_getj(hdr, MD_KEY_JWK, NULL);
    ck_assert_ptr_nonnull(jwk);
    ck_assert_str_eq(md_json_gets(jwk, MD_KEY_KTY, NULL), "RSA");

    data = b64_decode(&len, md_json_gets(jws, MD_KEY_PAYLOAD, NULL));
    ck_assert_uint_eq(len, strlen(payload));
    ck_assert_mem_eq(data, payload, len);

    ck_assert(jws_verifies(jws, md_pkey_evp(pkey), EVP_sha256(), 0, jws_input(jws)));
    /* and a changed request does not */
    ck_assert(!jws_verifies(jws, md_pkey_evp(pkey), EVP_sha256(), 0,
                            apr_pstrcat(md_test_pool, jws_input(jws), "x", NULL)));
}
END_TEST

START_TEST(jws_es256_es384_verify)
{
    static const struct { const char *word, *alg; apr_size_t size; } cases[] = {
        { "P-256", "ES256", 32 },
        { "P-384", "ES384", 48 },
    };
    md_json_t *jws = NULL, *hdr;
    md_pkey_t *pkey;
    const EVP_MD *md;
    apr_size_t i;
    int round;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        pkey = gen_key(cases[i].word);
        md = cases[i].size == 32 ? EVP_sha256() : EVP_sha384();
        /* several signatures, so short R or S values (leading zeros) come up too */
        for (round = 0; round < 20; ++round) {
            ck_assert_int_eq(md_jws_sign(&jws, "{}", pkey, "https://ca.test/acct/1",
                                         "nonce-2", "https://ca.test/order", md_test_pool),
                             APR_SUCCESS);
            ck_assert(jws_verifies(jws, md_pkey_evp(pkey), md, cases[i].size, jws_input(jws)));
        }
        hdr = json_of_b64(md_json_gets(jws, MD_KEY_PROTECTED, NULL));
        ck_assert_str_eq(md_json_gets(hdr, MD_KEY_ALG, NULL), cases[i].alg);
        ck_assert_str_eq(md_json_gets(hdr, MD_KEY_KID, NULL), "https://ca.test/acct/1");
        ck_assert(!md_json_has(hdr, MD_KEY_JWK, NULL));
    }
}
END_TEST

/* POST-as-GET (RFC 8555 6.3): the payload is the empty string, not "null" or "{}". */
START_TEST(jws_post_as_get)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_json_t *jws = NULL;

    ck_assert_int_eq(md_jws_sign(&jws, NULL, pkey, "https://ca.test/acct/1", "nonce-3",
                                 "https://ca.test/authz/1", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(jws, MD_KEY_PAYLOAD, NULL), "");
    ck_assert(jws_verifies(jws, md_pkey_evp(pkey), EVP_sha256(), 32, jws_input(jws)));
    ck_assert_int_eq(md_jws_sign(&jws, "", pkey, "https://ca.test/acct/1", "nonce-4",
                                 "https://ca.test/authz/1", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(jws, MD_KEY_PAYLOAD, NULL), "");
}
END_TEST

/* ---- External Account Binding ---------------------------------------------------- */

START_TEST(eab_hmac_verifies)
{
    unsigned char key[32], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    md_pkey_t *pkey = gen_key("P-256");
    md_json_t *jwk, *eab = NULL, *hdr, *inner;
    const unsigned char *sig;
    apr_size_t sig_len;
    const char *hmac_b64;

    ck_assert_int_eq(md_rand_bytes(key, sizeof(key)), APR_SUCCESS);
    hmac_b64 = md_b64url_encode(key, sizeof(key), md_test_pool);
    ck_assert_int_eq(md_jwk_get(&jwk, pkey, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_jws_eab(&eab, jwk, "kid-1", hmac_b64, "https://ca.test/new-acct",
                                md_test_pool), APR_SUCCESS);

    hdr = json_of_b64(md_json_gets(eab, MD_KEY_PROTECTED, NULL));
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_ALG, NULL), "HS256");
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_KID, NULL), "kid-1");
    ck_assert_str_eq(md_json_gets(hdr, MD_KEY_URL, NULL), "https://ca.test/new-acct");
    ck_assert(!md_json_has(hdr, MD_KEY_NONCE, NULL));
    /* the payload is the account key, as the outer JWS carries it */
    inner = json_of_b64(md_json_gets(eab, MD_KEY_PAYLOAD, NULL));
    ck_assert_str_eq(md_json_dump(inner, MD_JSON_COMPACT, md_test_pool),
                     md_json_dump(jwk, MD_JSON_COMPACT, md_test_pool));

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)sizeof(key),
                               (const unsigned char *)jws_input(eab), strlen(jws_input(eab)),
                               mac, &mac_len));
    sig = b64_decode(&sig_len, md_json_gets(eab, MD_KEY_SIGNATURE, NULL));
    ck_assert_uint_eq(sig_len, 32);
    ck_assert_mem_eq(sig, mac, 32);

    /* a key that is not base64url is refused, not used as garbage */
    ck_assert_int_ne(md_jws_eab(&eab, jwk, "kid-1", "not base64!", "https://ca.test/new-acct",
                                md_test_pool), APR_SUCCESS);
}
END_TEST

Suite *md_test_jws_suite(void)
{
    Suite *s = suite_create("jws");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, thumbprint_rfc7638_example);
    tcase_add_test(tc, jwk_rsa_describes_the_key);
    tcase_add_test(tc, jwk_ec_pads_coordinates);
    tcase_add_test(tc, jws_rs256_new_account);
    tcase_add_test(tc, jws_es256_es384_verify);
    tcase_add_test(tc, jws_post_as_get);
    tcase_add_test(tc, eab_hmac_verifies);
    suite_add_tcase(s, tc);
    return s;
}
