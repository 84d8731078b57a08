/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Certificates: reading, inspecting and making the self-signed ones we serve ourselves
 * (the fallback certificate and the tls-alpn-01 challenge certificate). */
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/asn1t.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "md_crypt.h"
#include "md_crypt_int.h"
#include "md_log.h"
#include "md_util.h"
#include "md_names.h"

/* RFC 8737 section 3: id-pe-acmeIdentifier. */
#define MD_OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
/* RFC 7633: the TLS feature status_request, which makes OCSP stapling mandatory. */
#define MD_TLSFEATURE_STATUS_REQUEST 5
/* Longest subject CN we write (RFC 5280 allows 64; we stay below like the CSR does). */
#define MD_CN_MAX_LEN 63

struct md_cert_t {
    X509 *x509;
};

static apr_status_t cert_cleanup(void *data)
{
    md_cert_t *cert = data;

    X509_free(cert->x509);
    cert->x509 = NULL;
    return APR_SUCCESS;
}

md_cert_t *md_cert_wrap(X509 *x509, apr_pool_t *p)
{
    md_cert_t *cert = apr_pcalloc(p, sizeof(*cert));

    cert->x509 = x509;
    apr_pool_cleanup_register(p, cert, cert_cleanup, apr_pool_cleanup_null);
    return cert;
}

X509 *md_cert_x509(const md_cert_t *cert)
{
    return cert ? cert->x509 : NULL;
}

/* ---- PEM ------------------------------------------------------------------------ */

apr_status_t md_chain_from_pem(apr_array_header_t **pchain, const char *pem, apr_size_t len,
                               apr_pool_t *p)
{
    apr_array_header_t *chain = apr_array_make(p, 3, sizeof(md_cert_t *));
    apr_status_t rv = APR_SUCCESS;
    unsigned long err;
    BIO *bio = NULL;
    X509 *x;

    *pchain = NULL;
    if (!pem || len == 0 || len > INT_MAX) return APR_ENOENT;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return APR_ENOMEM;

    ERR_clear_error();
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    while (x) {
        APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(x, p);
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    }
    /* The loop ends at the end of the text ("no start line") or at a damaged block. */
    err = ERR_peek_last_error();
    if (err && !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EINVAL, p,
                      "MD2101: damaged certificate in PEM text after %d good ones",
                      chain->nelts);
        rv = APR_EINVAL;
    }
    else if (chain->nelts == 0) {
        rv = APR_ENOENT;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (rv == APR_SUCCESS) *pchain = chain;
    return rv;
}

/* Copy the contents of a memory BIO into the pool as a NUL-terminated string. */
static const char *bio_to_string(BIO *bio, apr_pool_t *p)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);

    return apr_pstrmemdup(p, data ? data : "", (len > 0 && data) ? (apr_size_t)len : 0);
}

apr_status_t md_chain_to_pem(const char **ppem, const apr_array_header_t *chain, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    BIO *bio;
    int i;

    *ppem = NULL;
    if (!chain || chain->nelts == 0) return APR_EINVAL;
    bio = BIO_new(BIO_s_mem());
    if (!bio) return APR_ENOMEM;
    for (i = 0; i < chain->nelts; ++i) {
        const md_cert_t *cert = APR_ARRAY_IDX(chain, i, const md_cert_t *);

        if (!cert || !cert->x509 || !PEM_write_bio_X509(bio, cert->x509)) {
            ERR_clear_error();
            rv = APR_EGENERAL;
            goto leave;
        }
    }
    *ppem = bio_to_string(bio, p);
leave:
    BIO_free(bio);
    return rv;
}

apr_status_t md_cert_to_pem(const char **ppem, const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *chain = apr_array_make(p, 1, sizeof(const md_cert_t *));

    APR_ARRAY_PUSH(chain, const md_cert_t *) = cert;
    return md_chain_to_pem(ppem, chain, p);
}

/* ---- inspection ----------------------------------------------------------------- */

apr_time_t md_asn1_time_to_apr(const ASN1_TIME *t)
{
    struct tm tm;
    apr_time_exp_t xt;
    apr_time_t result = 0;

    if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
    memset(&xt, 0, sizeof(xt));
    xt.tm_year = tm.tm_year;
    xt.tm_mon = tm.tm_mon;
    xt.tm_mday = tm.tm_mday;
    xt.tm_hour = tm.tm_hour;
    xt.tm_min = tm.tm_min;
    xt.tm_sec = tm.tm_sec;
    if (apr_time_exp_gmt_get(&result, &xt) != APR_SUCCESS) return 0;
    return result;
}

apr_time_t md_cert_not_before(const md_cert_t *cert)
{
    return cert && cert->x509 ? md_asn1_time_to_apr(X509_get0_notBefore(cert->x509)) : 0;
}

apr_time_t md_cert_not_after(const md_cert_t *cert)
{
    return cert && cert->x509 ? md_asn1_time_to_apr(X509_get0_notAfter(cert->x509)) : 0;
}

/* Text of a dNSName or iPAddress entry; NULL for other kinds. */
static const char *general_name_text(const GENERAL_NAME *gen, apr_pool_t *p)
{
    char buf[INET6_ADDRSTRLEN];
    const unsigned char *data;
    int type, len;
    const ASN1_STRING *value = GENERAL_NAME_get0_value(gen, &type);

    if (!value) return NULL;
    data = ASN1_STRING_get0_data(value);
    len = ASN1_STRING_length(value);
    if (type == GEN_DNS) {
        /* "good.test\0.evil.test" must not pass for "good.test" */
        if (!data || len <= 0 || memchr(data, '\0', (size_t)len)) return NULL;
        return apr_pstrmemdup(p, (const char *)data, (apr_size_t)len);
    }
    if (type == GEN_IPADD && (len == 4 || len == 16)
        && inet_ntop(len == 4 ? AF_INET : AF_INET6, data, buf, sizeof(buf))) {
        return apr_pstrdup(p, buf);
    }
    return NULL;
}

apr_status_t md_cert_alt_names(apr_array_header_t **pnames, const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 5, sizeof(const char *));
    GENERAL_NAMES *gens;
    int i;

    *pnames = names;
    if (!cert || !cert->x509) return APR_EINVAL;
    gens = X509_get_ext_d2i(cert->x509, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        const char *text = general_name_text(sk_GENERAL_NAME_value(gens, i), p);

        if (text) APR_ARRAY_PUSH(names, const char *) = text;
    }
    GENERAL_NAMES_free(gens);
    return APR_SUCCESS;
}

/* An IP address as its bytes (4 or 16), so that "::1" and "0:0::1" are the same. */
static int ip_bytes(unsigned char out[16], const char *text)
{
    if (inet_pton(AF_INET, text, out) == 1) return 4;
    return inet_pton(AF_INET6, text, out) == 1 ? 16 : 0;
}

int md_san_covers(const apr_array_header_t *sans, const char *name)
{
    unsigned char want[16], have[16];
    int i, wlen = (name && *name) ? ip_bytes(want, name) : 0;

    if (!name || !*name) return 0;
    for (i = 0; sans && i < sans->nelts; ++i) {
        const char *san = APR_ARRAY_IDX(sans, i, const char *);

        if (wlen) {
            if (ip_bytes(have, san) == wlen && !memcmp(have, want, (size_t)wlen)) return 1;
        }
        else if (!md_is_ip_address(san) && md_dns_matches(san, name)) return 1;
    }
    return 0;
}

int md_cert_covers(const md_cert_t *cert, const char *name, apr_pool_t *p)
{
    apr_array_header_t *sans;

    if (!cert || !cert->x509 || md_cert_alt_names(&sans, cert, p) != APR_SUCCESS) return 0;
    return md_san_covers(sans, name);
}

static const char *serial_hex(const ASN1_INTEGER *serial, apr_pool_t *p)
{
    const char *result = NULL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    char *hex;

    if (!bn) return NULL;
    hex = BN_bn2hex(bn);
    if (hex) result = apr_pstrdup(p, hex);
    OPENSSL_free(hex);
    BN_free(bn);
    return result;
}

const char *md_cert_serial_hex(const md_cert_t *cert, apr_pool_t *p)
{
    return (cert && cert->x509) ? serial_hex(X509_get0_serialNumber(cert->x509), p) : NULL;
}

const char *md_cert_issuer_name(const md_cert_t *cert, apr_pool_t *p)
{
    const char *result = NULL;
    BIO *bio;

    if (!cert || !cert->x509) return NULL;
    bio = BIO_new(BIO_s_mem());
    if (!bio) return NULL;
    /* RFC 2253 order and escaping, but UTF-8 left readable */
    if (X509_NAME_print_ex(bio, X509_get_issuer_name(cert->x509), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        result = bio_to_string(bio, p);
    }
    BIO_free(bio);
    return result;
}

/* ---- a certificate's facts ---------------------------------------------------------- */

/* The certificate as RFC 5280 has it, with subject and subjectPublicKeyInfo kept as
 * their encoding: nothing of them is needed, and decoding the key is what costs. */
typedef struct {
    ASN1_TIME *not_before;
    ASN1_TIME *not_after;
} MD_CERT_VALIDITY;

typedef struct {
    ASN1_INTEGER *version;
    ASN1_INTEGER *serial;
    X509_ALGOR *signature;
    X509_NAME *issuer;
    MD_CERT_VALIDITY *validity;
    ASN1_TYPE *subject;
    ASN1_TYPE *spki;
    ASN1_BIT_STRING *issuer_uid;
    ASN1_BIT_STRING *subject_uid;
    STACK_OF(X509_EXTENSION) *extensions;
} MD_CERT_TBS;

typedef struct {
    MD_CERT_TBS *tbs;
    X509_ALGOR *sig_alg;
    ASN1_BIT_STRING *sig;
} MD_CERT_FACTS;

ASN1_SEQUENCE(MD_CERT_VALIDITY) = {
    ASN1_SIMPLE(MD_CERT_VALIDITY, not_before, ASN1_TIME),
    ASN1_SIMPLE(MD_CERT_VALIDITY, not_after, ASN1_TIME)
} static_ASN1_SEQUENCE_END(MD_CERT_VALIDITY)

ASN1_SEQUENCE(MD_CERT_TBS) = {
    ASN1_EXP_OPT(MD_CERT_TBS, version, ASN1_INTEGER, 0),
    ASN1_SIMPLE(MD_CERT_TBS, serial, ASN1_INTEGER),
    ASN1_SIMPLE(MD_CERT_TBS, signature, X509_ALGOR),
    ASN1_SIMPLE(MD_CERT_TBS, issuer, X509_NAME),
    ASN1_SIMPLE(MD_CERT_TBS, validity, MD_CERT_VALIDITY),
    ASN1_SIMPLE(MD_CERT_TBS, subject, ASN1_ANY),
    ASN1_SIMPLE(MD_CERT_TBS, spki, ASN1_ANY),
    ASN1_IMP_OPT(MD_CERT_TBS, issuer_uid, ASN1_BIT_STRING, 1),
    ASN1_IMP_OPT(MD_CERT_TBS, subject_uid, ASN1_BIT_STRING, 2),
    ASN1_EXP_SEQUENCE_OF_OPT(MD_CERT_TBS, extensions, X509_EXTENSION, 3)
} static_ASN1_SEQUENCE_END(MD_CERT_TBS)

ASN1_SEQUENCE(MD_CERT_FACTS) = {
    ASN1_SIMPLE(MD_CERT_FACTS, tbs, MD_CERT_TBS),
    ASN1_SIMPLE(MD_CERT_FACTS, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(MD_CERT_FACTS, sig, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(MD_CERT_FACTS)

/* The content octets of a DER value (after its tag and length). */
static const unsigned char *der_content(const unsigned char *der, long der_len, long *plen)
{
    const unsigned char *q = der;
    int tag, xclass;

    if (ASN1_get_object(&q, plen, &tag, &xclass, der_len) & 0x80) return NULL;
    return *plen > 0 ? q : NULL;
}

/* The facts from the parts of a certificate, parsed either way. */
static void facts_fill(md_cert_facts_t *f, const ASN1_TIME *not_before, const ASN1_TIME *not_after,
                       const X509_NAME *issuer, const ASN1_INTEGER *serial,
                       const STACK_OF(X509_EXTENSION) *extensions, apr_pool_t *p)
{
    unsigned char *der = NULL;
    const unsigned char *content;
    AUTHORITY_KEYID *akid;
    ASN1_OCTET_STRING *ski;
    GENERAL_NAMES *gens;
    char *text;
    long len;
    int i, n;

    f->not_before = md_asn1_time_to_apr(not_before);
    f->not_after = md_asn1_time_to_apr(not_after);
    text = X509_NAME_oneline(issuer, NULL, 0);
    if (text) f->issuer = apr_pstrdup(p, text);
    OPENSSL_free(text);
    f->serial_hex = serial_hex(serial, p);
    n = i2d_ASN1_INTEGER(serial, &der);
    if (n > 0 && (content = der_content(der, n, &len)) != NULL) {
        f->serial = apr_pmemdup(p, content, (apr_size_t)len);
        f->serial_len = (apr_size_t)len;
    }
    OPENSSL_free(der);
    akid = X509V3_get_d2i(extensions, NID_authority_key_identifier, NULL, NULL);
    if (akid && akid->keyid && ASN1_STRING_length(akid->keyid) > 0) {
        f->aki = apr_pmemdup(p, ASN1_STRING_get0_data(akid->keyid),
                             (apr_size_t)ASN1_STRING_length(akid->keyid));
        f->aki_len = (apr_size_t)ASN1_STRING_length(akid->keyid);
    }
    AUTHORITY_KEYID_free(akid);
    ski = X509V3_get_d2i(extensions, NID_subject_key_identifier, NULL, NULL);
    if (ski && ASN1_STRING_length(ski) > 0) {
        f->ski = apr_pmemdup(p, ASN1_STRING_get0_data(ski), (apr_size_t)ASN1_STRING_length(ski));
        f->ski_len = (apr_size_t)ASN1_STRING_length(ski);
    }
    ASN1_OCTET_STRING_free(ski);
    f->sans = apr_array_make(p, 2, sizeof(const char *));
    gens = X509V3_get_d2i(extensions, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        const char *san = general_name_text(sk_GENERAL_NAME_value(gens, i), p);

        if (san) APR_ARRAY_PUSH(f->sans, const char *) = san;
    }
    GENERAL_NAMES_free(gens);
}

apr_status_t md_cert_facts_from_der(md_cert_facts_t **pfacts, const unsigned char *der,
                                    apr_size_t len, apr_pool_t *p)
{
    const unsigned char *q = der;
    MD_CERT_FACTS *c;
    md_cert_facts_t *f;

    *pfacts = NULL;
    if (!der || !len || len > INT_MAX) return APR_EINVAL;
    c = (MD_CERT_FACTS *)ASN1_item_d2i(NULL, &q, (long)len, ASN1_ITEM_rptr(MD_CERT_FACTS));
    if (!c) {
        ERR_clear_error();
        return APR_EINVAL;
    }
    f = apr_pcalloc(p, sizeof(*f));
    facts_fill(f, c->tbs->validity->not_before, c->tbs->validity->not_after, c->tbs->issuer,
               c->tbs->serial, c->tbs->extensions, p);
    ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(MD_CERT_FACTS));
    if (!EVP_Digest(der, len, f->sha1, NULL, EVP_sha1(), NULL)
        || !EVP_Digest(der, len, f->sha256, NULL, EVP_sha256(), NULL)) {
        return APR_EGENERAL;
    }
    *pfacts = f;
    return APR_SUCCESS;
}

apr_status_t md_cert_facts_from_pem(md_cert_facts_t **pfacts, const char *pem, apr_size_t len,
                                    int skip, apr_pool_t *p)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long der_len = 0;
    apr_status_t rv = APR_EINVAL;
    BIO *bio;

    *pfacts = NULL;
    if (!pem || !len || len > INT_MAX) return APR_EINVAL;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return APR_ENOMEM;
    for (; skip >= 0; --skip) {
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
        if (!PEM_read_bio(bio, &name, &header, &der, &der_len)
            || strcmp(name, PEM_STRING_X509)) break;
        if (!skip) rv = md_cert_facts_from_der(pfacts, der, (apr_size_t)der_len, p);
    }
    ERR_clear_error();
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return rv;
}

apr_status_t md_cert_facts_of(md_cert_facts_t **pfacts, const md_cert_t *cert, apr_pool_t *p)
{
    md_cert_facts_t *f;
    X509 *x = cert ? cert->x509 : NULL;

    *pfacts = NULL;
    if (!x) return APR_EINVAL;
    f = apr_pcalloc(p, sizeof(*f));
    facts_fill(f, X509_get0_notBefore(x), X509_get0_notAfter(x), X509_get_issuer_name(x),
               X509_get0_serialNumber(x), X509_get0_extensions(x), p);
    /* both digests are of the DER; they stay zero for a certificate without one */
    X509_digest(x, EVP_sha1(), f->sha1, NULL);
    X509_digest(x, EVP_sha256(), f->sha256, NULL);
    *pfacts = f;
    return APR_SUCCESS;
}

int md_cert_has_must_staple(const md_cert_t *cert)
{
    TLS_FEATURE *features;
    int64_t value;
    int i, found = 0;

    if (!cert || !cert->x509) return 0;
    features = X509_get_ext_d2i(cert->x509, NID_tlsfeature, NULL, NULL);
    for (i = 0; features && i < sk_ASN1_INTEGER_num(features); ++i) {
        if (ASN1_INTEGER_get_int64(&value, sk_ASN1_INTEGER_value(features, i))
            && value == MD_TLSFEATURE_STATUS_REQUEST) {
            found = 1;
        }
    }
    TLS_FEATURE_free(features);
    ERR_clear_error();
    return found;
}

int md_cert_matches_key(const md_cert_t *cert, const md_pkey_t *pkey)
{
    EVP_PKEY *pub;

    if (!cert || !cert->x509 || !md_pkey_evp(pkey)) return 0;
    pub = X509_get0_pubkey(cert->x509);
    return pub && EVP_PKEY_eq(pub, md_pkey_evp(pkey)) == 1;
}

/* ---- extensions shared with md_csr.c ------------------------------------------ */

/* One subjectAltName entry: iPAddress for an IPv4/IPv6 address, else dNSName. */
static apr_status_t san_entry(GENERAL_NAME **pgen, const char *name)
{
    unsigned char ip[16];
    int iplen = 0, type = GEN_DNS;
    ASN1_STRING *value;
    GENERAL_NAME *gen;
    const char *c;

    *pgen = NULL;
    if (inet_pton(AF_INET, name, ip) == 1) iplen = 4;
    else if (inet_pton(AF_INET6, name, ip) == 1) iplen = 16;
    for (c = name; !iplen && *c; ++c) {
        if ((unsigned char)*c > 0x7e || (unsigned char)*c <= 0x20) return APR_EINVAL;
    }
    if (iplen) type = GEN_IPADD;
    value = iplen ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    gen = GENERAL_NAME_new();
    if (!value || !gen || !ASN1_STRING_set(value, iplen ? (const void *)ip : (const void *)name,
                                           iplen ? iplen : (int)strlen(name))) {
        ASN1_STRING_free(value);
        GENERAL_NAME_free(gen);
        return APR_ENOMEM;
    }
    GENERAL_NAME_set0_value(gen, type, value);
    *pgen = gen;
    return APR_SUCCESS;
}

apr_status_t md_cert_san_ext(X509_EXTENSION **pext, const apr_array_header_t *names,
                             int critical)
{
    apr_status_t rv = APR_SUCCESS;
    GENERAL_NAMES *gens;
    GENERAL_NAME *gen;
    int i;

    *pext = NULL;
    if (!names || names->nelts <= 0) return APR_EINVAL;
    gens = GENERAL_NAMES_new();
    if (!gens) return APR_ENOMEM;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);

        rv = (name && *name) ? san_entry(&gen, name) : APR_EINVAL;
        if (rv != APR_SUCCESS) goto leave;
        if (!sk_GENERAL_NAME_push(gens, gen)) {
            GENERAL_NAME_free(gen);
            rv = APR_ENOMEM;
            goto leave;
        }
    }
    *pext = X509V3_EXT_i2d(NID_subject_alt_name, critical, gens);
    if (!*pext) rv = APR_EGENERAL;
leave:
    GENERAL_NAMES_free(gens);
    return rv;
}

/* An extension from OpenSSL's configuration syntax; only used with constant values. */
static apr_status_t conf_ext(X509_EXTENSION **pext, int nid, const char *value)
{
    X509V3_CTX ctx;

    X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
    *pext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!*pext) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_cert_must_staple_ext(X509_EXTENSION **pext)
{
    return conf_ext(pext, NID_tlsfeature, "status_request");
}

apr_status_t md_cert_name_set_cn(int *pset, X509_NAME *xname, const char *cn)
{
    *pset = 0;
    if (!cn || !*cn || strlen(cn) > MD_CN_MAX_LEN || md_is_ip_address(cn)) return APR_SUCCESS;
    if (!X509_NAME_add_entry_by_NID(xname, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0)) {
        ERR_clear_error();
        return APR_EINVAL;
    }
    *pset = 1;
    return APR_SUCCESS;
}

/* ---- making self-signed certificates ------------------------------------------- */

/* Add an extension to x and release it. */
static apr_status_t cert_add_ext(X509 *x, X509_EXTENSION *ext)
{
    int ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t cert_add_conf_ext(X509 *x, int nid, const char *value)
{
    X509_EXTENSION *ext;
    apr_status_t rv = conf_ext(&ext, nid, value);

    return rv == APR_SUCCESS ? cert_add_ext(x, ext) : rv;
}

static apr_status_t cert_set_serial(X509 *x)
{
    apr_status_t rv = APR_EGENERAL;
    BIGNUM *bn = BN_new();

    /* 127 random bits: positive, unique enough, within the 20 octets RFC 5280 allows */
    if (bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) && BN_add_word(bn, 1)
        && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        rv = APR_SUCCESS;
    }
    BN_free(bn);
    return rv;
}

static apr_status_t cert_set_validity(X509 *x, apr_interval_time_t valid_for)
{
    apr_int64_t secs = apr_time_sec(valid_for);

    if (secs <= 0 || secs / 86400 > INT_MAX) return APR_EINVAL;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), 0)
        || !X509_time_adj_ex(X509_getm_notAfter(x), (int)(secs / 86400),
                             (long)(secs % 86400), NULL)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The parts every certificate we make has: v3, serial, subject = issuer (CN when it
 * fits), validity, public key and subjectAltName (critical when the subject is empty). */
static apr_status_t cert_make_base(X509 **px, const char *cn, const apr_array_header_t *names,
                                   const md_pkey_t *pkey, apr_interval_time_t valid_for)
{
    X509_EXTENSION *san = NULL;
    apr_status_t rv;
    int has_cn = 0;
    X509 *x;

    *px = NULL;
    x = X509_new();
    if (!x) return APR_ENOMEM;
    rv = X509_set_version(x, X509_VERSION_3) ? cert_set_serial(x) : APR_EGENERAL;
    if (rv != APR_SUCCESS) goto leave;
    rv = md_cert_name_set_cn(&has_cn, X509_get_subject_name(x), cn);
    if (rv != APR_SUCCESS) goto leave;
    /* Self-signed certificates are never checked by a CA: an IP address as CN there
     * lets mod_ssl's name check (which reads CN and DNS names only) match it. */
    if (!has_cn && cn && md_is_ip_address(cn)) {
        has_cn = X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName,
                                            MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    }
    rv = X509_set_issuer_name(x, X509_get_subject_name(x)) ? APR_SUCCESS : APR_EGENERAL;
    if (rv != APR_SUCCESS) goto leave;
    rv = cert_set_validity(x, valid_for);
    if (rv != APR_SUCCESS) goto leave;
    rv = X509_set_pubkey(x, md_pkey_evp(pkey)) ? APR_SUCCESS : APR_EGENERAL;
    if (rv != APR_SUCCESS) goto leave;
    rv = md_cert_san_ext(&san, names, !has_cn);
    if (rv != APR_SUCCESS) goto leave;
    rv = cert_add_ext(x, san);
leave:
    if (rv == APR_SUCCESS) *px = x;
    else X509_free(x);
    ERR_clear_error();
    return rv;
}

/* Sign x with the key (SHA-256) and hand it to a wrapper in pool p; x is consumed. */
static apr_status_t cert_sign_wrap(md_cert_t **pcert, X509 *x, const md_pkey_t *pkey,
                                   apr_pool_t *p)
{
    if (X509_sign(x, md_pkey_evp(pkey), EVP_sha256()) <= 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EGENERAL, p,
                      "MD2102: signing a self-signed certificate failed");
        ERR_clear_error();
        X509_free(x);
        return APR_EGENERAL;
    }
    *pcert = md_cert_wrap(x, p);
    return APR_SUCCESS;
}

apr_status_t md_cert_self_signed(md_cert_t **pcert, const char *cn,
                                 const apr_array_header_t *names, const md_pkey_t *pkey,
                                 apr_interval_time_t valid_for, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_evp(pkey);
    apr_status_t rv;
    X509 *x = NULL;

    *pcert = NULL;
    if (!evp) return APR_EINVAL;
    /* 1. serial, names, validity, key and subjectAltName */
    rv = cert_make_base(&x, cn, names, pkey, valid_for);
    if (rv != APR_SUCCESS) return rv;
    /* 2. what a TLS server certificate is allowed to do */
    rv = cert_add_conf_ext(x, NID_basic_constraints, "critical,CA:FALSE");
    if (rv != APR_SUCCESS) goto leave;
    rv = cert_add_conf_ext(x, NID_key_usage, EVP_PKEY_is_a(evp, "RSA")
                           ? "critical,digitalSignature,keyEncipherment"
                           : "critical,digitalSignature");
    if (rv != APR_SUCCESS) goto leave;
    rv = cert_add_conf_ext(x, NID_ext_key_usage, "serverAuth");
    if (rv != APR_SUCCESS) goto leave;
    /* 3. sign it */
    rv = cert_sign_wrap(pcert, x, pkey, p);
    x = NULL;
leave:
    X509_free(x);
    return rv;
}

/* The critical acmeIdentifier extension whose value is the DER of
 * Authorization ::= OCTET STRING (SIZE (32)), the SHA-256 of the key authorization. */
static apr_status_t acme_identifier_ext(X509_EXTENSION **pext, const char *key_authz)
{
    unsigned char der[2 + 32];
    unsigned int dlen = 0;
    apr_status_t rv = APR_EGENERAL;
    ASN1_OCTET_STRING *value = NULL;
    ASN1_OBJECT *oid = NULL;

    *pext = NULL;
    der[0] = V_ASN1_OCTET_STRING;
    der[1] = 32;
    if (!EVP_Digest(key_authz, strlen(key_authz), der + 2, &dlen, EVP_sha256(), NULL)
        || dlen != 32) {
        goto leave;
    }
    oid = OBJ_txt2obj(MD_OID_ACME_IDENTIFIER, 1);
    value = ASN1_OCTET_STRING_new();
    if (!oid || !value || !ASN1_OCTET_STRING_set(value, der, (int)sizeof(der))) goto leave;
    *pext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
    if (*pext) rv = APR_SUCCESS;
leave:
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
    ERR_clear_error();
    return rv;
}

apr_status_t md_cert_tls_alpn01(md_cert_t **pcert, const char *name, const char *key_authz,
                                const md_pkey_t *pkey, apr_interval_time_t valid_for,
                                apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    X509_EXTENSION *ext = NULL;
    apr_status_t rv;
    X509 *x = NULL;

    *pcert = NULL;
    if (!name || !*name || !key_authz || !md_pkey_evp(pkey)) return APR_EINVAL;
    /* 1. exactly one subjectAltName: the dNSName (or iPAddress, RFC 8738) validated */
    APR_ARRAY_PUSH(names, const char *) = name;
    rv = cert_make_base(&x, name, names, pkey, valid_for);
    if (rv != APR_SUCCESS) return rv;
    /* 2. the critical acmeIdentifier with the digest of the key authorization */
    rv = acme_identifier_ext(&ext, key_authz);
    if (rv != APR_SUCCESS) goto leave;
    rv = cert_add_ext(x, ext);
    if (rv != APR_SUCCESS) goto leave;
    /* 3. sign it */
    rv = cert_sign_wrap(pcert, x, pkey, p);
    x = NULL;
leave:
    X509_free(x);
    return rv;
}

/* ---- ARI identifiers (RFC 9773) -------------------------------------------------- */

/* The certificate's AKI keyIdentifier, else its issuer's SKI; and the serial's DER
 * content octets (leading zero kept when needed), both from the facts. */
const char *md_cert_facts_ari_id(const md_cert_facts_t *facts, const md_cert_facts_t *issuer,
                                 apr_pool_t *p)
{
    const char *kid = NULL;

    if (!facts || !facts->serial_len) return NULL;
    if (facts->aki) kid = md_b64url_encode(facts->aki, facts->aki_len, p);
    else if (issuer && issuer->ski) kid = md_b64url_encode(issuer->ski, issuer->ski_len, p);
    return kid ? apr_pstrcat(p, kid, ".", md_b64url_encode(facts->serial, facts->serial_len, p),
                             NULL) : NULL;
}

const char *md_cert_ari_id(const md_cert_t *cert, const md_cert_t *issuer, apr_pool_t *p)
{
    md_cert_facts_t *facts, *ifacts = NULL;

    if (md_cert_facts_of(&facts, cert, p) != APR_SUCCESS) return NULL;
    if (issuer) md_cert_facts_of(&ifacts, issuer, p);
    return md_cert_facts_ari_id(facts, ifacts, p);
}
