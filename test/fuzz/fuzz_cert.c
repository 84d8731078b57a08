/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Certificates and keys from outside: md_chain_from_pem (the CA's certificate download,
 * pubcert.pem, MDCertificateFile), a DER certificate (d2i_X509 + our inspection, as for
 * OCSP and ARI), a certificate's facts read without OpenSSL's X509 (md_cert_facts_from_der
 * and _from_pem, as at start; where both read it, they must agree) and md_pkey_from_pem (privkey*.pem, account.pem, MDCertificateKeyFile),
 * plain and with the store's passphrase. Every interpretation is tried on each input.
 * A chain is also put through md_cert_check_chain, with the key of the input (a seed
 * holding a key and a chain for it gets past the key check, so that mutations reach the
 * names, dates and signatures). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "fuzz_common.h"
#include "md_jws.h"
#include "md_util.h"
#include "md_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The facts read from the DER agree with those OpenSSL's X509 gives. */
static void facts_compare(const md_cert_t *cert, apr_pool_t *p)
{
    md_cert_facts_t *of, *der_facts;
    unsigned char *der = NULL;
    int len = i2d_X509(md_cert_x509(cert), &der);

    if (md_cert_facts_of(&of, cert, p) != APR_SUCCESS) abort();
    if (len > 0 && md_cert_facts_from_der(&der_facts, der, (apr_size_t)len, p) == APR_SUCCESS) {
        if (memcmp(of->sha256, der_facts->sha256, sizeof(of->sha256))
            || of->not_after != der_facts->not_after || of->sans->nelts != der_facts->sans->nelts
            || (of->serial_hex == NULL) != (der_facts->serial_hex == NULL)
            || (of->serial_hex && strcmp(of->serial_hex, der_facts->serial_hex))
            || (of->aki == NULL) != (der_facts->aki == NULL)
            || (of->ski == NULL) != (der_facts->ski == NULL)) {
            abort();
        }
    }
    OPENSSL_free(der);
}

static void cert_inspect(const md_cert_t *cert, const md_pkey_t *key, apr_pool_t *p)
{
    apr_array_header_t *names, *chain;
    const char *pem;
    int i;

    md_cert_not_before(cert);
    md_cert_not_after(cert);
    md_cert_serial_hex(cert, p);
    md_cert_issuer_name(cert, p);
    facts_compare(cert, p);
    md_cert_has_must_staple(cert);
    if (key) md_cert_matches_key(cert, key);
    if (md_cert_alt_names(&names, cert, p) != APR_SUCCESS) return;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        /* a SAN with an embedded NUL must not pass as a shorter name */
        if (!md_cert_covers(cert, name, p) && !md_is_ip_address(name)) abort();
    }
    md_cert_covers(cert, "www.example.org", p);
    md_cert_covers(cert, "192.0.2.1", p);
    /* what we write, we read back as the same single certificate */
    if (md_cert_to_pem(&pem, cert, p) != APR_SUCCESS) return;
    if (md_chain_from_pem(&chain, pem, strlen(pem), p) != APR_SUCCESS || chain->nelts != 1) abort();
}

/* md_cert_check_chain for a fixed MD and for the leaf's own names: a chain it passes is
 * for the key and names every name; a refusal says why. */
static void chain_check(const apr_array_header_t *chain, const md_pkey_t *key, apr_pool_t *p)
{
    static const char *const fixed[] = { "fuzz.test", "*.fuzz.test", "192.0.2.1" };
    apr_array_header_t *names = apr_array_make(p, 3, sizeof(const char *)), *sans;
    const md_cert_t *leaf = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
    md_cert_check_t check;
    const char *why;
    int i, round;
    size_t k;

    if (md_cert_alt_names(&sans, leaf, p) != APR_SUCCESS) return;
    for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); ++k) {
        APR_ARRAY_PUSH(names, const char *) = fixed[k];
    }
    for (round = 0; round < 2; ++round) {
        memset(&check, 0, sizeof(check));
        check.names = round ? sans : names;
        check.pkey = key;
        check.now = apr_time_now();
        if (md_cert_check_chain(&why, &check, chain, p) != APR_SUCCESS) {
            if (!why) abort();
            if (getenv("FUZZ_LOG")) fprintf(stderr, "check %d: %s\n", round, why);
            continue;
        }
        if (getenv("FUZZ_LOG")) fprintf(stderr, "check %d: passed\n", round);
        if (!md_cert_matches_key(leaf, key)) abort();
        for (i = 0; i < check.names->nelts; ++i) {
            if (!md_san_covers(sans, APR_ARRAY_IDX(check.names, i, const char *))) abort();
        }
    }
}

static md_pkey_t *key_try(const uint8_t *data, size_t size, apr_pool_t *p)
{
    static const unsigned char pass[] = "fuzz-store-passphrase-of-some-length-0123456789";
    md_pkey_t *key = NULL, *key2;
    md_pkey_spec_t spec;
    md_json_t *jwk;
    const char *pem;

    if (md_pkey_from_pem(&key, (const char *)data, size, NULL, 0, p) != APR_SUCCESS
        && md_pkey_from_pem(&key, (const char *)data, size, pass, sizeof(pass) - 1, p)
           != APR_SUCCESS) {
        return NULL;
    }
    md_pkey_get_spec(&spec, key, p);
    md_pkey_spec_name(&spec);
    md_jwk_get(&jwk, key, p);
    if (md_pkey_to_pem(&pem, key, pass, sizeof(pass) - 1, p) == APR_SUCCESS
        && md_pkey_from_pem(&key2, pem, strlen(pem), pass, sizeof(pass) - 1, p) != APR_SUCCESS) {
        abort();
    }
    return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const unsigned char *der = data;
    apr_array_header_t *chain;
    md_pkey_t *key = key_try(data, size, p);
    md_cert_facts_t *facts;
    X509 *x;
    int i;

    if (md_chain_from_pem(&chain, (const char *)data, size, p) == APR_SUCCESS) {
        for (i = 0; i < chain->nelts; ++i) {
            cert_inspect(APR_ARRAY_IDX(chain, i, md_cert_t *), key, p);
        }
        if (key) chain_check(chain, key, p);
    }
    md_cert_facts_from_der(&facts, data, size, p);
    md_cert_facts_from_pem(&facts, (const char *)data, size, 0, p);
    md_cert_facts_from_pem(&facts, (const char *)data, size, 1, p);
    x = d2i_X509(NULL, &der, (long)size);
    if (x) cert_inspect(md_cert_wrap(x, p), key, p);
    ERR_clear_error();
    return 0;
}
