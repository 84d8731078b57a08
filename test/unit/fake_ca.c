/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A certificate authority for unit tests (fake_ca.h): what an ACME CA does at finalize,
 * without the ACME around it. */
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fake_ca.h"

#define FAKE_CA_CN "Fake Test CA"
#define FAKE_DAY_SECS (24L * 60 * 60)

struct fake_ca_t {
    EVP_PKEY *key;          /* signs every certificate */
    X509 *cert;             /* self-signed, CA:TRUE */
    EVP_PKEY *other;        /* the key of other_key leaves, made when first needed */
    long serial;            /* of the last certificate made */
};

static apr_status_t ca_free(void *baton)
{
    fake_ca_t *ca = baton;

    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    EVP_PKEY_free(ca->other);
    return APR_SUCCESS;
}

static EVP_PKEY *ec_key_gen(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* One extension in openssl.cnf syntax ("critical,CA:TRUE"), issued by issuer. */
static int ext_add(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A v3 certificate for pub with the next serial, valid from an hour ago for days. */
static X509 *cert_start(fake_ca_t *ca, EVP_PKEY *pub, long days)
{
    X509 *x = X509_new();
    int ok;

    ok = x != NULL && X509_set_version(x, X509_VERSION_3)
         && ASN1_INTEGER_set(X509_get_serialNumber(x), ++ca->serial)
         && X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL
         && X509_gmtime_adj(X509_getm_notAfter(x), days * FAKE_DAY_SECS) != NULL
         && X509_set_pubkey(x, pub);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

apr_status_t fake_ca_create(fake_ca_t **pca, apr_pool_t *p)
{
    fake_ca_t *ca = apr_pcalloc(p, sizeof(*ca));
    X509_NAME *name = NULL;
    int ok;

    apr_pool_cleanup_register(p, ca, ca_free, apr_pool_cleanup_null);
    ca->key = ec_key_gen();
    ca->cert = ca->key ? cert_start(ca, ca->key, 365) : NULL;
    if (ca->cert) name = X509_get_subject_name(ca->cert);
    ok = name != NULL
         && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *)FAKE_CA_CN, -1, -1, 0)
         && X509_set_issuer_name(ca->cert, name)
         && ext_add(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE")
         && ext_add(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign")
         && ext_add(ca->cert, ca->cert, NID_subject_key_identifier, "hash")
         && X509_sign(ca->cert, ca->key, EVP_sha256()) > 0;
    ERR_clear_error();
    *pca = ok ? ca : NULL;
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

/* The leaf's extensions: those the CSR asks for, and the CA's key identifier. */
static int leaf_extensions(X509 *leaf, X509_REQ *req, fake_ca_t *ca)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    int i, ok = 1;

    for (i = 0; ok && i < sk_X509_EXTENSION_num(exts); ++i) {
        ok = X509_add_ext(leaf, sk_X509_EXTENSION_value(exts, i), -1) == 1;
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok && ext_add(leaf, ca->cert, NID_authority_key_identifier, "keyid:always");
}

/* PEM text of the certificates, in order. */
static const char *pem_of(X509 *const *certs, int n, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *pem = NULL;
    char *data = NULL;
    long len = 0;
    int i, ok = bio != NULL;

    for (i = 0; ok && i < n; ++i) ok = PEM_write_bio_X509(bio, certs[i]) == 1;
    if (ok) len = BIO_get_mem_data(bio, &data);
    if (len > 0) pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    BIO_free(bio);
    return pem;
}

apr_status_t fake_ca_issue(const char **ppem, fake_ca_t *ca, const unsigned char *csr_der,
                           apr_size_t csr_len, int other_key, apr_pool_t *p)
{
    const unsigned char *der = csr_der;
    X509_REQ *req = d2i_X509_REQ(NULL, &der, (long)csr_len);
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    X509 *chain[2] = { NULL, ca->cert };
    int ok;

    *ppem = NULL;
    /* 1. a CSR signed by the key it asks a certificate for */
    ok = pub != NULL && X509_REQ_verify(req, pub) == 1;
    if (ok && other_key && !ca->other) {
        ca->other = ec_key_gen();
        ok = ca->other != NULL;
    }
    /* 2. the leaf: the CSR's subject and extensions, our name as issuer, our signature */
    if (ok) chain[0] = cert_start(ca, other_key ? ca->other : pub, 90);
    ok = chain[0] != NULL
         && X509_set_subject_name(chain[0], X509_REQ_get_subject_name(req))
         && X509_set_issuer_name(chain[0], X509_get_subject_name(ca->cert))
         && leaf_extensions(chain[0], req, ca)
         && X509_sign(chain[0], ca->key, EVP_sha256()) > 0;
    /* 3. sent with the CA's certificate after it */
    if (ok) *ppem = pem_of(chain, 2, p);
    X509_free(chain[0]);
    X509_REQ_free(req);
    ERR_clear_error();
    return *ppem ? APR_SUCCESS : APR_EINVAL;
}
