/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Keys, certificates and CSRs: what ends up in the store and in front of TLS clients. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "md_crypt.h"
#include "md_util.h"
#include "md_test.h"

#define HOUR apr_time_from_sec(60 * 60)
#define DAY (24 * HOUR)

/* store keys are random bytes: NULs and high bytes must work */
static const unsigned char PASS[] = "a store passphrase \x00\x01\xff with odd bytes";
#define PASS_LEN (sizeof(PASS) - 1)

static md_pkey_t *gen_key(const char *word)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey = NULL;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, word, NULL));
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(md_pkey_evp(pkey));
    return pkey;
}

/* A string array from a NULL-terminated list. */
static apr_array_header_t *names_of(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 5, sizeof(const char *));
    const char *s;
    va_list ap;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) APR_ARRAY_PUSH(a, const char *) = s;
    va_end(ap);
    return a;
}

/* "DNS:x.test,IP:127.0.0.1": the subjectAltName entries as a TLS client sees them. */
static const char *san_summary(const GENERAL_NAMES *gens)
{
    const char *out = "";
    char ip[INET6_ADDRSTRLEN];
    int i, type;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        const ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        const unsigned char *d = ASN1_STRING_get0_data(v);
        int len = ASN1_STRING_length(v);

        if (type == GEN_DNS) {
            out = apr_pstrcat(md_test_pool, out, *out ? "," : "", "DNS:",
                              apr_pstrmemdup(md_test_pool, (const char *)d, (apr_size_t)len),
                              NULL);
        }
        else if (type == GEN_IPADD) {
            ck_assert_ptr_nonnull(inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)));
            out = apr_pstrcat(md_test_pool, out, *out ? "," : "", "IP:", ip, NULL);
        }
        else {
            out = apr_pstrcat(md_test_pool, out, *out ? "," : "", "OTHER", NULL);
        }
    }
    return out;
}

static const char *cert_san_summary(const md_cert_t *cert)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(md_cert_x509(cert), NID_subject_alt_name, NULL, NULL);
    const char *s = san_summary(gens);

    GENERAL_NAMES_free(gens);
    return s;
}

/* ---- key specifications ------------------------------------------------------ */

START_TEST(spec_parse_valid_forms)
{
    md_pkey_spec_t spec;

    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "Default", NULL));
    ck_assert_int_eq(spec.type, MD_PKEY_DEFAULT);
    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "RSA", NULL));
    ck_assert_int_eq(spec.type, MD_PKEY_RSA);
    ck_assert_uint_eq(spec.bits, 2048);
    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "RSA", "3072"));
    ck_assert_uint_eq(spec.bits, 3072);
    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "rsa4096", NULL));
    ck_assert_int_eq(spec.type, MD_PKEY_RSA);
    ck_assert_uint_eq(spec.bits, 4096);
    ck_assert_ptr_null(md_pkey_spec_parse(&spec, "rsa2048", NULL));
    ck_assert_uint_eq(spec.bits, 2048);
}
END_TEST

/* Every spelling of a curve is accepted and is the same curve; the spec keeps the name
 * as configured, as today's module does (md.json, status keys, file names). */
START_TEST(spec_parse_curve_aliases)
{
    static const struct { const char *word, *curve; } cases[] = {
        { "secp256r1", "secp256r1" }, { "P-256", "secp256r1" }, { "prime256v1", "secp256r1" },
        { "p-256", "secp256r1" }, { "SECP384R1", "secp384r1" }, { "P-384", "secp384r1" },
        { "secp521r1", "secp521r1" }, { "P-521", "secp521r1" },
    };
    md_pkey_spec_t spec, canon;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_msg(md_pkey_spec_parse(&spec, cases[i].word, NULL) == NULL,
                      "rejected %s", cases[i].word);
        ck_assert_int_eq(spec.type, MD_PKEY_EC);
        ck_assert_str_eq(spec.curve, cases[i].word);
        ck_assert_ptr_null(md_pkey_spec_parse(&canon, cases[i].curve, NULL));
        ck_assert_msg(md_pkey_spec_eq(&spec, &canon), "%s is not %s", cases[i].word,
                      cases[i].curve);
    }
}
END_TEST

START_TEST(spec_parse_rejects_weak_and_unknown)
{
    md_pkey_spec_t spec;
    const char *err;

    err = md_pkey_spec_parse(&spec, "RSA", "1024");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "2048"));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "rsa1024", NULL));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "RSA", "abc"));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "RSA", "-4096"));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "rsa3072x", NULL));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "P-256", "2048"));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "", NULL));
    ck_assert_ptr_nonnull(md_pkey_spec_parse(&spec, "DSA", NULL));
    /* an unknown curve: the message tells the admin what would work */
    err = md_pkey_spec_parse(&spec, "secp192r1", NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "secp256r1"));
    ck_assert_ptr_nonnull(strstr(err, "P-384"));
    ck_assert_ptr_nonnull(strstr(err, "RSA"));
}
END_TEST

/* The store's file names per key spec, as today's module writes them. */
START_TEST(spec_names_and_file_names)
{
    md_pkey_spec_t def, rsa, rsa4k, ec256, ec384;

    ck_assert_ptr_null(md_pkey_spec_parse(&def, "Default", NULL));
    ck_assert_ptr_null(md_pkey_spec_parse(&rsa, "RSA", NULL));
    ck_assert_ptr_null(md_pkey_spec_parse(&rsa4k, "rsa4096", NULL));
    ck_assert_ptr_null(md_pkey_spec_parse(&ec256, "P-256", NULL));
    ck_assert_ptr_null(md_pkey_spec_parse(&ec384, "secp384r1", NULL));

    ck_assert_str_eq(md_pkey_spec_name(&def), "rsa");
    ck_assert_str_eq(md_pkey_spec_name(&rsa4k), "rsa");
    /* observed with today's module: 'MDPrivateKeys P-256' writes privkey.p-256.pem and
     * names the certificate "P-256" in its status; our earlier versions wrote
     * privkey.secp256r1.pem, which is still read (md_pkey_file_name_old) */
    ck_assert_str_eq(md_pkey_spec_name(&ec256), "P-256");
    ck_assert_str_eq(md_pkey_file_name(&def, "privkey", md_test_pool), "privkey.pem");
    ck_assert_str_eq(md_pkey_file_name(&rsa4k, "pubcert", md_test_pool), "pubcert.pem");
    ck_assert_str_eq(md_pkey_file_name(&ec256, "privkey", md_test_pool), "privkey.p-256.pem");
    ck_assert_str_eq(md_pkey_file_name_old(&ec256, "privkey", md_test_pool),
                     "privkey.secp256r1.pem");
    ck_assert_str_eq(md_pkey_file_name(&ec384, "pubcert", md_test_pool),
                     "pubcert.secp384r1.pem");
    ck_assert_ptr_null(md_pkey_file_name_old(&ec384, "pubcert", md_test_pool));
    ck_assert_ptr_null(md_pkey_file_name_old(&rsa, "pubcert", md_test_pool));

    ck_assert(md_pkey_spec_eq(&rsa, &rsa));
    ck_assert(!md_pkey_spec_eq(&rsa, &rsa4k));
    ck_assert(!md_pkey_spec_eq(&ec256, &ec384));
    ck_assert(!md_pkey_spec_eq(&def, &ec256));
}
END_TEST

/* ---- keys ----------------------------------------------------------------------- */

START_TEST(keygen_types)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey;

    pkey = gen_key("rsa2048");
    md_pkey_get_spec(&spec, pkey, md_test_pool);
    ck_assert_int_eq(spec.type, MD_PKEY_RSA);
    ck_assert_uint_eq(spec.bits, 2048);
    ck_assert(EVP_PKEY_is_a(md_pkey_evp(pkey), "RSA"));

    pkey = gen_key("P-256");
    md_pkey_get_spec(&spec, pkey, md_test_pool);
    ck_assert_int_eq(spec.type, MD_PKEY_EC);
    ck_assert_str_eq(spec.curve, "secp256r1");
    ck_assert_int_eq(EVP_PKEY_get_bits(md_pkey_evp(pkey)), 256);

    pkey = gen_key("secp384r1");
    md_pkey_get_spec(&spec, pkey, md_test_pool);
    ck_assert_str_eq(spec.curve, "secp384r1");
    ck_assert_int_eq(EVP_PKEY_get_bits(md_pkey_evp(pkey)), 384);

    /* Default means RSA 2048 */
    pkey = gen_key("Default");
    md_pkey_get_spec(&spec, pkey, md_test_pool);
    ck_assert_int_eq(spec.type, MD_PKEY_RSA);
    ck_assert_uint_eq(spec.bits, 2048);
}
END_TEST

START_TEST(pem_round_trip_plain)
{
    md_pkey_t *pkey = gen_key("P-256"), *back = NULL;
    const char *pem = NULL;

    ck_assert_int_eq(md_pkey_to_pem(&pem, pkey, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, strlen(pem), NULL, 0, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(EVP_PKEY_eq(md_pkey_evp(pkey), md_pkey_evp(back)), 1);
}
END_TEST

START_TEST(pem_round_trip_encrypted)
{
    static const unsigned char wrong[] = "another passphrase";
    md_pkey_t *pkey = gen_key("rsa2048"), *back = NULL;
    const char *pem = NULL;

    ck_assert_int_eq(md_pkey_to_pem(&pem, pkey, PASS, PASS_LEN, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, strlen(pem), PASS, PASS_LEN, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(EVP_PKEY_eq(md_pkey_evp(pkey), md_pkey_evp(back)), 1);

    /* the wrong passphrase, a prefix of the right one, or none at all: no key */
    ck_assert_int_ne(md_pkey_from_pem(&back, pem, strlen(pem), wrong, sizeof(wrong) - 1,
                                      md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(back);
    ck_assert_int_ne(md_pkey_from_pem(&back, pem, strlen(pem), PASS, PASS_LEN - 1,
                                      md_test_pool), APR_SUCCESS);
    /* the bytes after a NUL count: the passphrase is not a C string */
    ck_assert_int_ne(md_pkey_from_pem(&back, pem, strlen(pem), PASS, strlen((const char *)PASS),
                                      md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_pkey_from_pem(&back, pem, strlen(pem), NULL, 0, md_test_pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(pem_garbage_rejected)
{
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnot base64\n"
                                  "-----END PRIVATE KEY-----\n";
    md_pkey_t *back = NULL;

    ck_assert_int_ne(md_pkey_from_pem(&back, garbage, strlen(garbage), NULL, 0, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_ne(md_pkey_from_pem(&back, "", 0, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_ptr_null(back);
}
END_TEST

/* ---- certificates ---------------------------------------------------------------- */

START_TEST(self_signed_covers_names)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL;
    apr_array_header_t *alt;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test",
                                         names_of("x.test", "*.x.test", "127.0.0.1", "::1", NULL),
                                         pkey, 7 * DAY, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(cert_san_summary(cert), "DNS:x.test,DNS:*.x.test,IP:127.0.0.1,IP:::1");
    ck_assert_int_eq(md_cert_alt_names(&alt, cert, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(alt->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(alt, 3, const char *), "::1");

    ck_assert(md_cert_covers(cert, "x.test", md_test_pool));
    ck_assert(md_cert_covers(cert, "X.Test", md_test_pool));
    ck_assert(md_cert_covers(cert, "a.x.test", md_test_pool));
    ck_assert(md_cert_covers(cert, "*.x.test", md_test_pool));
    ck_assert(md_cert_covers(cert, "127.0.0.1", md_test_pool));
    ck_assert(md_cert_covers(cert, "0:0::1", md_test_pool));
    /* a wildcard covers exactly one label */
    ck_assert(!md_cert_covers(cert, "b.a.x.test", md_test_pool));
    ck_assert(!md_cert_covers(cert, "y.test", md_test_pool));
    ck_assert(!md_cert_covers(cert, "ax.test", md_test_pool));
    ck_assert(!md_cert_covers(cert, "127.0.0.2", md_test_pool));
}
END_TEST

START_TEST(self_signed_is_a_server_cert)
{
    md_pkey_t *rsa = gen_key("rsa2048"), *ec = gen_key("P-384");
    md_cert_t *cert = NULL;
    X509 *x;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", NULL), rsa,
                                         7 * DAY, md_test_pool), APR_SUCCESS);
    x = md_cert_x509(cert);
    ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
    ck_assert_int_eq(X509_verify(x, md_pkey_evp(rsa)), 1);
    ck_assert_int_eq(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
    ck_assert_int_eq(X509_check_ca(x), 0);
    ck_assert_int_eq(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
    ck_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
    ck_assert(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
    ck_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    ck_assert(md_cert_matches_key(cert, rsa));
    ck_assert(!md_cert_matches_key(cert, ec));
    ck_assert(!md_cert_has_must_staple(cert));
    ck_assert_str_eq(md_cert_issuer_name(cert, md_test_pool), "CN=x.test");

    /* EC keys cannot encipher: keyUsage says digitalSignature only */
    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", NULL), ec,
                                         7 * DAY, md_test_pool), APR_SUCCESS);
    x = md_cert_x509(cert);
    ck_assert_int_eq(X509_verify(x, md_pkey_evp(ec)), 1);
    ck_assert(!(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT));
    ck_assert(md_cert_matches_key(cert, ec));
}
END_TEST

START_TEST(self_signed_validity_and_ids)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL, *other = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    apr_time_t now = apr_time_now();
    const char *serial, *fp;
    md_cert_facts_t *facts;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", NULL), pkey,
                                         30 * DAY, md_test_pool), APR_SUCCESS);
    ck_assert_int_le(llabs(apr_time_sec(md_cert_not_before(cert)) - apr_time_sec(now)), 5);
    ck_assert_int_eq(md_cert_not_after(cert) - md_cert_not_before(cert), 30 * DAY);

    serial = md_cert_serial_hex(cert, md_test_pool);
    ck_assert_ptr_nonnull(serial);
    ck_assert_uint_eq(strspn(serial, "0123456789ABCDEF"), strlen(serial));
    ck_assert_int_eq(md_cert_self_signed(&other, "x.test", names_of("x.test", NULL), pkey,
                                         30 * DAY, md_test_pool), APR_SUCCESS);
    ck_assert_str_ne(serial, md_cert_serial_hex(other, md_test_pool));

    fp = md_cert_facts_of(&facts, cert, md_test_pool) == APR_SUCCESS
         ? md_hex_encode(facts->sha256, sizeof(facts->sha256), md_test_pool) : NULL;
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(strlen(fp), 64);
    ck_assert_int_eq(X509_digest(md_cert_x509(cert), EVP_sha256(), md, &mdlen), 1);
    for (i = 0; i < mdlen; ++i) {
        ck_assert_str_eq(apr_psprintf(md_test_pool, "%02x", md[i]),
                         apr_pstrndup(md_test_pool, fp + 2 * i, 2));
    }
}
END_TEST

/* A certificate's facts, read without decoding its key, agree with OpenSSL's X509. */
START_TEST(cert_facts_agree_with_x509)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL;
    md_cert_facts_t *facts = NULL, *from_pem = NULL;
    apr_array_header_t *sans;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const char *pem, *pem2;
    char *issuer;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", "*.y.test",
                                         "192.0.2.7", "2001:db8::1", NULL), pkey, 30 * DAY,
                                         md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_facts_of(&facts, cert, md_test_pool), APR_SUCCESS);
    ck_assert(facts->not_before == md_cert_not_before(cert));
    ck_assert(facts->not_after == md_cert_not_after(cert));
    ck_assert_str_eq(facts->serial_hex, md_cert_serial_hex(cert, md_test_pool));
    issuer = X509_NAME_oneline(X509_get_issuer_name(md_cert_x509(cert)), NULL, 0);
    ck_assert_str_eq(facts->issuer, issuer);
    OPENSSL_free(issuer);
    ck_assert_int_eq(X509_digest(md_cert_x509(cert), EVP_sha1(), md, &mdlen), 1);
    ck_assert_uint_eq(mdlen, sizeof(facts->sha1));
    ck_assert_mem_eq(md, facts->sha1, mdlen);
    ck_assert_int_eq(md_cert_alt_names(&sans, cert, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(facts->sans->nelts, sans->nelts);
    ck_assert(md_san_covers(facts->sans, "a.y.test") && md_san_covers(facts->sans, "x.test"));
    ck_assert(md_san_covers(facts->sans, "2001:db8:0::1") && md_san_covers(facts->sans, "192.0.2.7"));
    ck_assert(!md_san_covers(facts->sans, "y.test") && !md_san_covers(facts->sans, "192.0.2.8"));
    /* the first certificate of PEM text; anything else is refused */
    ck_assert_int_eq(md_cert_to_pem(&pem, cert, md_test_pool), APR_SUCCESS);
    pem2 = apr_pstrcat(md_test_pool, pem, pem, NULL);
    ck_assert_int_eq(md_cert_facts_from_pem(&from_pem, pem2, strlen(pem2), 0, md_test_pool),
                     APR_SUCCESS);
    ck_assert_mem_eq(from_pem->sha256, facts->sha256, sizeof(facts->sha256));
    ck_assert_int_eq(md_cert_facts_from_pem(&from_pem, pem2, strlen(pem2), 1, md_test_pool),
                     APR_SUCCESS);
    ck_assert_mem_eq(from_pem->sha256, facts->sha256, sizeof(facts->sha256));
    ck_assert_int_ne(md_cert_facts_from_pem(&from_pem, pem2, strlen(pem2), 2, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_ne(md_cert_facts_from_pem(&from_pem, pem, strlen(pem) / 2, 0, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_ne(md_cert_facts_from_der(&from_pem, (const unsigned char *)"0\x03\x02\x01\x01", 5,
                                            md_test_pool), APR_SUCCESS);
}
END_TEST

/* Times far in the future (GeneralizedTime after 2049) convert exactly. */
START_TEST(cert_times_convert_exactly)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL, *copy;
    X509 *x;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", NULL), pkey,
                                         DAY, md_test_pool), APR_SUCCESS);
    x = X509_dup(md_cert_x509(cert));
    ck_assert_ptr_nonnull(x);
    copy = md_cert_wrap(x, md_test_pool);
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notBefore(x), 1700000000));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notAfter(x), 4102444800));  /* 2100-01-01 */
    ck_assert_int_eq(md_cert_not_before(copy), apr_time_from_sec(1700000000));
    ck_assert_int_eq(md_cert_not_after(copy), apr_time_from_sec(4102444800));
}
END_TEST

START_TEST(must_staple_detected)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL, *stapled;
    X509_EXTENSION *ext;
    X509V3_CTX ctx;
    X509 *x;

    ck_assert_int_eq(md_cert_self_signed(&cert, "x.test", names_of("x.test", NULL), pkey,
                                         DAY, md_test_pool), APR_SUCCESS);
    x = X509_dup(md_cert_x509(cert));
    stapled = md_cert_wrap(x, md_test_pool);
    X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_tlsfeature, "status_request");
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ck_assert(md_cert_has_must_staple(stapled));
    ck_assert(!md_cert_has_must_staple(cert));
}
END_TEST

START_TEST(chain_pem_round_trip)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *leaf = NULL, *ca = NULL;
    apr_array_header_t *chain = apr_array_make(md_test_pool, 2, sizeof(md_cert_t *)), *back;
    const char *pem, *one;

    ck_assert_int_eq(md_cert_self_signed(&leaf, "leaf.test", names_of("leaf.test", NULL), pkey,
                                         DAY, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_self_signed(&ca, "ca.test", names_of("ca.test", NULL), pkey,
                                         DAY, md_test_pool), APR_SUCCESS);
    APR_ARRAY_PUSH(chain, md_cert_t *) = leaf;
    APR_ARRAY_PUSH(chain, md_cert_t *) = ca;
    ck_assert_int_eq(md_chain_to_pem(&pem, chain, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_chain_from_pem(&back, pem, strlen(pem), md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(back->nelts, 2);
    /* leaf first */
    ck_assert(md_cert_covers(APR_ARRAY_IDX(back, 0, md_cert_t *), "leaf.test", md_test_pool));
    ck_assert(md_cert_covers(APR_ARRAY_IDX(back, 1, md_cert_t *), "ca.test", md_test_pool));
    ck_assert_int_eq(X509_cmp(md_cert_x509(APR_ARRAY_IDX(back, 0, md_cert_t *)),
                              md_cert_x509(leaf)), 0);

    ck_assert_int_eq(md_cert_to_pem(&one, leaf, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(strncmp(pem, one, strlen(one)), 0);
}
END_TEST

/* A torn file must not pass for a shorter chain. */
START_TEST(chain_pem_damaged)
{
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *leaf = NULL;
    apr_array_header_t *back;
    const char *pem, *torn;

    ck_assert(APR_STATUS_IS_ENOENT(md_chain_from_pem(&back, "", 0, md_test_pool)));
    ck_assert(APR_STATUS_IS_ENOENT(md_chain_from_pem(&back, "no pem here\n", 12,
                                                     md_test_pool)));
    ck_assert_int_eq(md_cert_self_signed(&leaf, "x.test", names_of("x.test", NULL), pkey,
                                         DAY, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_cert_to_pem(&pem, leaf, md_test_pool), APR_SUCCESS);
    torn = apr_pstrcat(md_test_pool, pem, apr_pstrndup(md_test_pool, pem, strlen(pem) / 2),
                       NULL);
    ck_assert_int_eq(md_chain_from_pem(&back, torn, strlen(torn), md_test_pool), APR_EINVAL);
    ck_assert_ptr_null(back);
    ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

/* ---- tls-alpn-01 ------------------------------------------------------------------ */

/* The extension value must be the DER OCTET STRING of SHA-256(key authorization). */
static void assert_acme_identifier(X509 *x, const char *key_authz)
{
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    unsigned char expected[34];
    unsigned int dlen = 0;
    X509_EXTENSION *ext;
    ASN1_OCTET_STRING *data;
    int idx;

    ck_assert_ptr_nonnull(oid);
    idx = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    ck_assert_int_ge(idx, 0);
    ext = X509_get_ext(x, idx);
    ck_assert_int_eq(X509_EXTENSION_get_critical(ext), 1);
    expected[0] = 0x04;
    expected[1] = 0x20;
    ck_assert_int_eq(EVP_Digest(key_authz, strlen(key_authz), expected + 2, &dlen,
                                EVP_sha256(), NULL), 1);
    data = X509_EXTENSION_get_data(ext);
    ck_assert_int_eq(ASN1_STRING_length(data), 34);
    ck_assert_mem_eq(ASN1_STRING_get0_data(data), expected, 34);
}

START_TEST(tls_alpn01_cert)
{
    const char *authz = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    md_pkey_t *pkey = gen_key("P-256");
    md_cert_t *cert = NULL;

    ck_assert_int_eq(md_cert_tls_alpn01(&cert, "x.test", authz, pkey, 7 * DAY, md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(cert_san_summary(cert), "DNS:x.test");
    assert_acme_identifier(md_cert_x509(cert), authz);
    ck_assert_int_eq(X509_verify(md_cert_x509(cert), md_pkey_evp(pkey)), 1);
    ck_assert(md_cert_matches_key(cert, pkey));
    ck_assert_int_eq(md_cert_not_after(cert) - md_cert_not_before(cert), 7 * DAY);

    /* RFC 8738: an IP identifier is validated with an iPAddress entry */
    ck_assert_int_eq(md_cert_tls_alpn01(&cert, "192.0.2.7", authz, pkey, 7 * DAY,
                                        md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(cert_san_summary(cert), "IP:192.0.2.7");
    assert_acme_identifier(md_cert_x509(cert), authz);
}
END_TEST

/* ---- CSR -------------------------------------------------------------------------- */

static X509_REQ *csr_parse(const unsigned char *der, apr_size_t len)
{
    const unsigned char *in = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &in, (long)len);

    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_eq(in, der + len);
    return req;
}

static const char *csr_cn(X509_REQ *req)
{
    char buf[256];
    int len = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
                                        buf, sizeof(buf));

    return len < 0 ? NULL : apr_pstrdup(md_test_pool, buf);
}

START_TEST(csr_has_names_and_verifies)
{
    md_pkey_t *pkey = gen_key("rsa2048");
    const unsigned char *der = NULL;
    STACK_OF(X509_EXTENSION) *exts;
    GENERAL_NAMES *gens;
    apr_size_t len = 0;
    X509_REQ *req;

    ck_assert_int_eq(md_csr_create(&der, &len, names_of("x.test", "www.x.test", "127.0.0.1",
                                                         "2001:db8::1", NULL),
                                   0, pkey, md_test_pool), APR_SUCCESS);
    req = csr_parse(der, len);
    ck_assert_int_eq(X509_REQ_verify(req, md_pkey_evp(pkey)), 1);
    ck_assert_str_eq(csr_cn(req), "x.test");
    ck_assert_int_eq(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), md_pkey_evp(pkey)), 1);

    exts = X509_REQ_get_extensions(req);
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    ck_assert_str_eq(san_summary(gens), "DNS:x.test,DNS:www.x.test,IP:127.0.0.1,IP:2001:db8::1");
    ck_assert_int_lt(X509v3_get_ext_by_NID(exts, NID_tlsfeature, -1), 0);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}
END_TEST

START_TEST(csr_must_staple)
{
    static const unsigned char status_request[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
    md_pkey_t *pkey = gen_key("P-256");
    const unsigned char *der = NULL;
    STACK_OF(X509_EXTENSION) *exts;
    ASN1_OCTET_STRING *data;
    apr_size_t len = 0;
    X509_REQ *req;
    int idx;

    ck_assert_int_eq(md_csr_create(&der, &len, names_of("x.test", NULL), 1, pkey,
                                   md_test_pool), APR_SUCCESS);
    req = csr_parse(der, len);
    ck_assert_int_eq(X509_REQ_verify(req, md_pkey_evp(pkey)), 1);
    exts = X509_REQ_get_extensions(req);
    idx = X509v3_get_ext_by_NID(exts, NID_tlsfeature, -1);
    ck_assert_int_ge(idx, 0);
    data = X509_EXTENSION_get_data(X509v3_get_ext(exts, idx));
    ck_assert_int_eq(ASN1_STRING_length(data), (int)sizeof(status_request));
    ck_assert_mem_eq(ASN1_STRING_get0_data(data), status_request, sizeof(status_request));
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}
END_TEST

/* A CN holds at most 64 characters: longer first names go only into the SAN, which is
 * then critical because the subject is empty (RFC 5280 4.2.1.6). */
static void assert_csr_subject(const char *first, int expect_cn)
{
    md_pkey_t *pkey = gen_key("P-256");
    const unsigned char *der = NULL;
    STACK_OF(X509_EXTENSION) *exts;
    apr_size_t len = 0;
    X509_REQ *req;
    int idx;

    ck_assert_int_eq(md_csr_create(&der, &len, names_of(first, "x.test", NULL), 0, pkey,
                                   md_test_pool), APR_SUCCESS);
    req = csr_parse(der, len);
    ck_assert_int_eq(X509_REQ_verify(req, md_pkey_evp(pkey)), 1);
    if (expect_cn) {
        ck_assert_str_eq(csr_cn(req), first);
    }
    else {
        ck_assert_int_eq(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
    }
    exts = X509_REQ_get_extensions(req);
    idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    ck_assert_int_ge(idx, 0);
    ck_assert_int_eq(X509_EXTENSION_get_critical(X509v3_get_ext(exts, idx)), !expect_cn);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}

START_TEST(csr_cn_only_when_it_fits)
{
    /* 63 bytes: a CN; 64 bytes: none */
    const char *n63 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.test";
    const char *n64 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.test";

    ck_assert_uint_eq(strlen(n63), 63);
    ck_assert_uint_eq(strlen(n64), 64);
    assert_csr_subject(n63, 1);
    assert_csr_subject(n64, 0);
    assert_csr_subject("127.0.0.1", 0);
}
END_TEST

START_TEST(csr_rejects_no_names)
{
    md_pkey_t *pkey = gen_key("P-256");
    const unsigned char *der = NULL;
    apr_size_t len = 0;

    ck_assert_int_ne(md_csr_create(&der, &len, names_of(NULL), 0, pkey, md_test_pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(der);
}
END_TEST

Suite *md_test_crypt_suite(void)
{
    Suite *s = suite_create("crypt");
    TCase *specs = tcase_create("specs"), *keys = tcase_create("keys");
    TCase *certs = tcase_create("certs"), *csrs = tcase_create("csr");

    tcase_add_checked_fixture(specs, md_test_setup, md_test_teardown);
    tcase_add_test(specs, spec_parse_valid_forms);
    tcase_add_test(specs, spec_parse_curve_aliases);
    tcase_add_test(specs, spec_parse_rejects_weak_and_unknown);
    tcase_add_test(specs, spec_names_and_file_names);
    suite_add_tcase(s, specs);

    tcase_add_checked_fixture(keys, md_test_setup, md_test_teardown);
    tcase_set_timeout(keys, 120);
    tcase_add_test(keys, keygen_types);
    tcase_add_test(keys, pem_round_trip_plain);
    tcase_add_test(keys, pem_round_trip_encrypted);
    tcase_add_test(keys, pem_garbage_rejected);
    suite_add_tcase(s, keys);

    tcase_add_checked_fixture(certs, md_test_setup, md_test_teardown);
    tcase_set_timeout(certs, 120);
    tcase_add_test(certs, self_signed_covers_names);
    tcase_add_test(certs, self_signed_is_a_server_cert);
    tcase_add_test(certs, self_signed_validity_and_ids);
    tcase_add_test(certs, cert_facts_agree_with_x509);
    tcase_add_test(certs, cert_times_convert_exactly);
    tcase_add_test(certs, must_staple_detected);
    tcase_add_test(certs, chain_pem_round_trip);
    tcase_add_test(certs, chain_pem_damaged);
    tcase_add_test(certs, tls_alpn01_cert);
    suite_add_tcase(s, certs);

    tcase_add_checked_fixture(csrs, md_test_setup, md_test_teardown);
    tcase_set_timeout(csrs, 120);
    tcase_add_test(csrs, csr_has_names_and_verifies);
    tcase_add_test(csrs, csr_must_staple);
    tcase_add_test(csrs, csr_cn_only_when_it_fits);
    tcase_add_test(csrs, csr_rejects_no_names);
    suite_add_tcase(s, csrs);
    return s;
}
