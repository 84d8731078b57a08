/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Key custody and certificates. Only this module creates or loads private keys.
 * OpenSSL objects are owned by wrappers whose lifetime is the pool they were made in. */
#ifndef md_crypt_h
#define md_crypt_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* ---- key specifications ------------------------------------------------------ */

typedef enum { MD_PKEY_DEFAULT, MD_PKEY_RSA, MD_PKEY_EC } md_pkey_type_t;

typedef struct {
    md_pkey_type_t type;
    unsigned int bits;        /* RSA */
    const char *curve;        /* EC: "secp256r1", "secp384r1", ... */
} md_pkey_spec_t;

#define MD_PKEY_RSA_BITS_DEFAULT 2048
#define MD_PKEY_RSA_BITS_MIN     2048
/* Upper bound for RSA sizes: keeps a typo from generating a key for hours. */
#define MD_PKEY_RSA_BITS_MAX     16384

/* The name a spec has in store file names and status: "rsa" for RSA (any size),
 * the curve name for EC. */
const char *md_pkey_spec_name(const md_pkey_spec_t *spec);
/* File names in a domain/staging directory: "privkey.pem" or "privkey.secp384r1.pem". */
const char *md_pkey_file_name(const md_pkey_spec_t *spec, const char *prefix, apr_pool_t *p);
/* The name our earlier versions gave the file (the curve's canonical name, 'secp256r1' for
 * 'P-256'), when it differs from md_pkey_file_name(); NULL otherwise. */
const char *md_pkey_file_name_old(const md_pkey_spec_t *spec, const char *prefix, apr_pool_t *p);
/* Parse one MDPrivateKeys word ("RSA", "rsa3072", "secp384r1", "P-256", "Default");
 * bits_arg is the optional number after "RSA". Returns an error text or NULL. */
const char *md_pkey_spec_parse(md_pkey_spec_t *spec, const char *word, const char *bits_arg);
int md_pkey_spec_eq(const md_pkey_spec_t *a, const md_pkey_spec_t *b);

/* ---- private keys -------------------------------------------------------------- */

typedef struct md_pkey_t md_pkey_t;

apr_status_t md_pkey_gen(md_pkey_t **ppkey, const md_pkey_spec_t *spec, apr_pool_t *p);
/* Load a PEM private key. With a passphrase, an encrypted PKCS#8 key is expected. */
apr_status_t md_pkey_from_pem(md_pkey_t **ppkey, const char *pem, apr_size_t len,
                              const unsigned char *pass, apr_size_t pass_len, apr_pool_t *p);
/* PEM text of the key; with a passphrase, PKCS#8 encrypted with AES-256-CBC. */
apr_status_t md_pkey_to_pem(const char **ppem, const md_pkey_t *pkey,
                            const unsigned char *pass, apr_size_t pass_len, apr_pool_t *p);
EVP_PKEY *md_pkey_evp(const md_pkey_t *pkey);
/* A key object for an EVP_PKEY made elsewhere (e.g. from JWK parameters); takes ownership. */
md_pkey_t *md_pkey_wrap(EVP_PKEY *pkey, apr_pool_t *p);
/* The spec this key satisfies (type, bits, curve). */
void md_pkey_get_spec(md_pkey_spec_t *spec, const md_pkey_t *pkey, apr_pool_t *p);

/* ---- certificates ------------------------------------------------------------ */

typedef struct md_cert_t md_cert_t;

md_cert_t *md_cert_wrap(X509 *x509, apr_pool_t *p);  /* takes ownership */
X509 *md_cert_x509(const md_cert_t *cert);

/* A chain (array of md_cert_t*), leaf first, from PEM text with one or more certificates. */
apr_status_t md_chain_from_pem(apr_array_header_t **pchain, const char *pem, apr_size_t len,
                               apr_pool_t *p);
apr_status_t md_chain_to_pem(const char **ppem, const apr_array_header_t *chain, apr_pool_t *p);
apr_status_t md_cert_to_pem(const char **ppem, const md_cert_t *cert, apr_pool_t *p);

/* An ASN.1 time (UTCTime or GeneralizedTime) as apr_time_t; 0 when it cannot be read. */
apr_time_t md_asn1_time_to_apr(const ASN1_TIME *t);
apr_time_t md_cert_not_before(const md_cert_t *cert);
apr_time_t md_cert_not_after(const md_cert_t *cert);
/* DNS names and IP addresses of the subjectAltName extension (IPs as text). */
apr_status_t md_cert_alt_names(apr_array_header_t **pnames, const md_cert_t *cert, apr_pool_t *p);
int md_cert_covers(const md_cert_t *cert, const char *name, apr_pool_t *p);
/* Does a subjectAltName list (md_cert_alt_names) cover the DNS name or IP address? */
int md_san_covers(const apr_array_header_t *sans, const char *name);
const char *md_cert_serial_hex(const md_cert_t *cert, apr_pool_t *p);
const char *md_cert_issuer_name(const md_cert_t *cert, apr_pool_t *p);

/* What the status, the watchdog and ARI need of a certificate: read from its DER with
 * the public key left undecoded, which OpenSSL 3.0 otherwise does through its provider
 * decoders on every parse (most of the cost of reading a certificate). */
typedef struct {
    apr_time_t not_before, not_after;
    const char *issuer;                 /* OpenSSL's one-line form ("/C=US/O=Org/CN=Name") */
    const char *serial_hex;             /* upper-case hex, no leading zeros */
    const unsigned char *serial;        /* the serial's DER content octets (ARI) */
    apr_size_t serial_len;
    const unsigned char *aki;           /* authorityKeyIdentifier keyIdentifier, or NULL */
    apr_size_t aki_len;
    const unsigned char *ski;           /* subjectKeyIdentifier, or NULL */
    apr_size_t ski_len;
    unsigned char sha1[20];             /* of the DER: the OCSP file id */
    unsigned char sha256[32];           /* of the DER: the fingerprint (zero without DER) */
    apr_array_header_t *sans;           /* subjectAltName DNS names and IPs, as text */
} md_cert_facts_t;

apr_status_t md_cert_facts_from_der(md_cert_facts_t **pfacts, const unsigned char *der,
                                    apr_size_t len, apr_pool_t *p);
/* Of a certificate in PEM text: the first (the leaf of a chain file) with skip 0, the
 * next (its issuer) with skip 1. */
apr_status_t md_cert_facts_from_pem(md_cert_facts_t **pfacts, const char *pem, apr_size_t len,
                                    int skip, apr_pool_t *p);
apr_status_t md_cert_facts_of(md_cert_facts_t **pfacts, const md_cert_t *cert, apr_pool_t *p);
int md_cert_has_must_staple(const md_cert_t *cert);
/* Does the certificate's public key belong to this private key? */
int md_cert_matches_key(const md_cert_t *cert, const md_pkey_t *pkey);

/* ---- a certificate from the CA, checked (md_cert_check.c) ------------------------ */

/* What a chain from the CA is checked against before it may replace anything. */
typedef struct {
    const apr_array_header_t *names;    /* the MD's names: DNS names, wildcards, IP addresses */
    const md_pkey_t *pkey;              /* the key of our request */
    apr_time_t now;
    const md_cert_facts_t *replaced;    /* the certificate it replaces (its not_after); NULL */
} md_cert_check_t;

/* A notBefore up to this far ahead of our clock is a clock difference, not a certificate
 * that is not valid yet. */
#define MD_CERT_CHECK_SKEW apr_time_from_sec(5 * 60)

/* Is the chain (leaf first) fit to serve for the MD? The leaf is for pkey; its
 * subjectAltNames are the names, each of them and no other (a wildcard literally, an IP
 * address as an iPAddress entry), and a subject CN is one of them; it is valid at now
 * and does not end before the replaced one; each certificate is issued and signed by the
 * next. APR_SUCCESS, or APR_EINVAL with *preason saying what is wrong as a predicate of
 * "the certificate ...", e.g. "does not name www.x.test". Reads nothing but its
 * arguments. */
apr_status_t md_cert_check_chain(const char **preason, const md_cert_check_t *check,
                                 const apr_array_header_t *chain, apr_pool_t *p);

/* A self-signed certificate for the names, valid from now for valid_for: the fallback
 * certificate served while no real one exists. */
apr_status_t md_cert_self_signed(md_cert_t **pcert, const char *cn,
                                 const apr_array_header_t *names, const md_pkey_t *pkey,
                                 apr_interval_time_t valid_for, apr_pool_t *p);
/* The tls-alpn-01 certificate (RFC 8737): self-signed for one name with the critical
 * acmeIdentifier extension holding the SHA-256 of the key authorization. */
apr_status_t md_cert_tls_alpn01(md_cert_t **pcert, const char *name, const char *key_authz,
                                const md_pkey_t *pkey, apr_interval_time_t valid_for,
                                apr_pool_t *p);

/* A certificate signing request for the names (DNS names and IP addresses) as DER.
 * The subject CN is the first name when it is at most 63 bytes and not an IP. */
apr_status_t md_csr_create(const unsigned char **pder, apr_size_t *pder_len,
                           const apr_array_header_t *names, int must_staple,
                           const md_pkey_t *pkey, apr_pool_t *p);

/* The certificate's ARI identifier: base64url(AKI keyIdentifier) "." base64url(serial
 * DER content octets). Without an AKI extension, the issuer's subject key identifier
 * is used when the issuer is given. NULL when neither is there. */
const char *md_cert_ari_id(const md_cert_t *cert, const md_cert_t *issuer, apr_pool_t *p);
/* The same from the certificate's facts. */
const char *md_cert_facts_ari_id(const md_cert_facts_t *facts, const md_cert_facts_t *issuer,
                                 apr_pool_t *p);

#endif
