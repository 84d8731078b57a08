/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A certificate from the CA, checked before it may replace anything: when it is staged
 * and again when the parent activates the staged set. The CA (or whoever wrote the
 * children's staging/) controls every byte of it; what it must be is decided here, from
 * the arguments alone. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "md_crypt.h"
#include "md_util.h"
#include "md_time.h"
#include "md_names.h"

/* How much of a name from the certificate a reason shows. */
#define MD_CHECK_TEXT_SHOWN 100

/* A text from the certificate as a reason may show it: bytes outside printable ASCII
 * replaced, at most MD_CHECK_TEXT_SHOWN of them. */
static const char *shown(const unsigned char *data, apr_size_t len, apr_pool_t *p)
{
    apr_size_t n = len > MD_CHECK_TEXT_SHOWN ? MD_CHECK_TEXT_SHOWN : len, i;
    char *s = apr_pstrmemdup(p, (const char *)data, n);

    for (i = 0; i < n; ++i) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) s[i] = '?';
    }
    return len > n ? apr_pstrcat(p, s, "...", NULL) : s;
}

/* An IP address as its bytes (4 or 16); 0 for a name that is none. */
static int ip_bytes(unsigned char out[16], const char *text)
{
    if (inet_pton(AF_INET, text, out) == 1) return 4;
    return inet_pton(AF_INET6, text, out) == 1 ? 16 : 0;
}

/* The index of the MD's name this certificate name is, or -1. A DNS name (wildcards
 * too) matches literally, without regard to ASCII case; an IP address by its bytes,
 * and only as an IP address (is_ip): "*.x.test" is not "a.x.test", and a dNSName
 * "192.0.2.1" is not the IP address. */
static int name_index(const apr_array_header_t *names, const unsigned char *data,
                      apr_size_t len, int is_ip)
{
    unsigned char ip[16];
    int i, iplen;

    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        iplen = ip_bytes(ip, name);
        if (is_ip && iplen && (apr_size_t)iplen == len && !memcmp(ip, data, len)) return i;
        if (!is_ip && !iplen && strlen(name) == len && !strncasecmp(name, (const char *)data, len)) {
            return i;
        }
    }
    return -1;
}

/* One subjectAltName entry: a name we asked for (marked in covered), else why not. */
static const char *san_check(const GENERAL_NAME *gen, const apr_array_header_t *names,
                             char *covered, apr_pool_t *p)
{
    char ip[INET6_ADDRSTRLEN];
    const unsigned char *data;
    int type, len, i;
    const ASN1_STRING *value = GENERAL_NAME_get0_value(gen, &type);

    if (type != GEN_DNS && type != GEN_IPADD) {
        return "has a subjectAltName that is neither a DNS name nor an IP address";
    }
    data = value ? ASN1_STRING_get0_data(value) : NULL;
    len = value ? ASN1_STRING_length(value) : 0;
    if (!data || len <= 0) return "has an empty subjectAltName";
    if (type == GEN_DNS && memchr(data, '\0', (size_t)len)) {
        return "has a DNS name with a NUL byte in it";
    }
    if (type == GEN_IPADD && len != 4 && len != 16) return "has a malformed IP address";
    i = name_index(names, data, (apr_size_t)len, type == GEN_IPADD);
    if (i >= 0) {
        covered[i] = 1;
        return NULL;
    }
    if (type == GEN_IPADD) {
        inet_ntop(len == 4 ? AF_INET : AF_INET6, data, ip, sizeof(ip));
        return apr_psprintf(p, "names the IP address %s, which was not asked for", ip);
    }
    return apr_psprintf(p, "names %s, which was not asked for", shown(data, (apr_size_t)len, p));
}

/* The subject's CNs, if any, must be names we asked for (a TLS client may read them). */
static const char *cn_check(X509 *x, const apr_array_header_t *names, apr_pool_t *p)
{
    X509_NAME *subject = X509_get_subject_name(x);
    unsigned char *utf8 = NULL, ip[16];
    const char *why = NULL;
    int idx = -1, len, iplen;

    while (!why && (idx = X509_NAME_get_index_by_NID(subject, NID_commonName, idx)) >= 0) {
        len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
                                             X509_NAME_get_entry(subject, idx)));
        if (len < 0) return "has a subject CN that cannot be read";
        iplen = memchr(utf8, '\0', (size_t)len) ? 0
                : ip_bytes(ip, apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)len));
        if ((iplen ? name_index(names, ip, (apr_size_t)iplen, 1)
                   : name_index(names, utf8, (apr_size_t)len, 0)) < 0) {
            why = apr_psprintf(p, "has the subject CN %s, which was not asked for",
                               shown(utf8, (apr_size_t)len, p));
        }
        OPENSSL_free(utf8);
        utf8 = NULL;
    }
    return why;
}

/* The leaf names every name of the MD and nothing else. */
static const char *names_check(X509 *x, const apr_array_header_t *names, apr_pool_t *p)
{
    char *covered = apr_pcalloc(p, (apr_size_t)names->nelts + 1);
    apr_array_header_t *missing = apr_array_make(p, 2, sizeof(const char *));
    GENERAL_NAMES *gens;
    const char *why = NULL;
    int i, crit = 0;

    gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    if (!gens && crit == -2) why = "has more than one subjectAltName extension";
    else if (!gens && crit >= 0) why = "has a subjectAltName extension that cannot be read";
    for (i = 0; !why && gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        why = san_check(sk_GENERAL_NAME_value(gens, i), names, covered, p);
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    if (why) return why;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (!covered[i]) APR_ARRAY_PUSH(missing, const char *) = md_is_ip_address(name)
            ? apr_pstrcat(p, "the IP address ", name, NULL) : name;
    }
    if (missing->nelts) return apr_pstrcat(p, "does not name ",
                                           md_array_str_join(missing, ", ", p), NULL);
    return cn_check(x, names, p);
}

/* Valid now (a notBefore a few minutes ahead is a clock difference), and not ending
 * before the certificate it replaces. */
static const char *validity_check(X509 *x, const md_cert_check_t *check, apr_pool_t *p)
{
    apr_time_t from = md_asn1_time_to_apr(X509_get0_notBefore(x));
    apr_time_t until = md_asn1_time_to_apr(X509_get0_notAfter(x));

    if (!from || !until || until < from) return "has no valid notBefore/notAfter";
    if (from > check->now + MD_CERT_CHECK_SKEW) {
        return apr_pstrcat(p, "is not valid before ", md_time_print(from, p), NULL);
    }
    if (until <= check->now) return apr_pstrcat(p, "expired on ", md_time_print(until, p), NULL);
    if (check->replaced && until < check->replaced->not_after) {
        return apr_psprintf(p, "ends on %s, before the certificate it replaces (%s)",
                            md_time_print(until, p), md_time_print(check->replaced->not_after, p));
    }
    return NULL;
}

static const char *subject_text(X509 *x, apr_pool_t *p)
{
    char *text = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
    const char *s = text ? shown((const unsigned char *)text, strlen(text), p) : "?";

    OPENSSL_free(text);
    return s;
}

/* Each certificate issued by the next one: names, key identifiers and key usage agree
 * (X509_check_issued), and the signature verifies with the next one's key. */
static const char *chain_check(const apr_array_header_t *chain, apr_pool_t *p)
{
    X509 *x, *issuer;
    EVP_PKEY *key;
    const char *why = NULL;
    int i, rc;

    for (i = 0; !why && i + 1 < chain->nelts; ++i) {
        x = md_cert_x509(APR_ARRAY_IDX(chain, i, const md_cert_t *));
        issuer = md_cert_x509(APR_ARRAY_IDX(chain, i + 1, const md_cert_t *));
        if (!x || !issuer) return "has an empty place in its chain";
        rc = X509_check_issued(issuer, x);
        key = X509_get0_pubkey(issuer);
        if (rc != X509_V_OK) {
            why = apr_psprintf(p, "has a broken chain: certificate %d (%s) is not issued by "
                               "certificate %d (%s): %s", i + 1, subject_text(x, p), i + 2,
                               subject_text(issuer, p), X509_verify_cert_error_string(rc));
        }
        else if (!key || X509_verify(x, key) != 1) {
            why = apr_psprintf(p, "has a broken chain: the signature of certificate %d (%s) "
                               "does not verify with the key of certificate %d (%s)", i + 1,
                               subject_text(x, p), i + 2, subject_text(issuer, p));
        }
    }
    ERR_clear_error();
    return why;
}

apr_status_t md_cert_check_chain(const char **preason, const md_cert_check_t *check,
                                 const apr_array_header_t *chain, apr_pool_t *p)
{
    const md_cert_t *leaf = chain && chain->nelts ? APR_ARRAY_IDX(chain, 0, const md_cert_t *)
                                                  : NULL;
    X509 *x = md_cert_x509(leaf);
    const char *why;

    *preason = NULL;
    /* 1. a certificate at all, for the key of our request */
    if (!x) why = "is empty";
    else if (!md_cert_matches_key(leaf, check->pkey)) why = "does not match the key of our request";
    /* 2. for every name of the MD, and for nothing else */
    else if (!check->names || !check->names->nelts) why = "cannot be checked: the MD has no names";
    else why = names_check(x, check->names, p);
    /* 3. valid now, and not ending before the one it replaces */
    if (!why) why = validity_check(x, check, p);
    /* 4. each certificate of the chain signed by the next */
    if (!why) why = chain_check(chain, p);
    if (!why) return APR_SUCCESS;
    *preason = why;
    return APR_EINVAL;
}
