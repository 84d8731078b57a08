/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_cert_check_chain: what a certificate from the CA must be before it replaces the one
 * we serve. The test is its own CA (root, intermediate) and makes leaves for our key with
 * the faults a hostile or broken CA could send. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "md_crypt.h"
#include "md_util.h"
#include "md_test.h"

#define HOUR apr_time_from_sec(60 * 60)
#define DAY (24 * HOUR)

/* What a leaf is made of; zero fields take the good default. */
typedef struct {
    const char *san;            /* OpenSSL's syntax, "DNS:x.test,IP:192.0.2.7"; "": none */
    const char *cn;             /* NULL: no CN */
    apr_interval_time_t from;   /* notBefore - now */
    apr_interval_time_t until;  /* notAfter - now; 0: 90 days */
    EVP_PKEY *signer;           /* NULL: the intermediate's key */
    int no_aki;                 /* no authorityKeyIdentifier */
} leaf_t;

typedef struct {
    md_pkey_t *root_key, *int_key, *our_key;
    X509 *root, *intermediate;
    apr_time_t now;
} test_ca_t;

static test_ca_t ca;

static md_pkey_t *ec_key(void)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *key;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    return key;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_msg(ext != NULL, "extension %d = %s", nid, value);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static void set_name(X509_NAME *name, const char *cn)
{
    ck_assert_int_eq(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                                (const unsigned char *)cn, -1, -1, 0), 1);
}

/* A certificate for key, issued by issuer (NULL: itself), valid from..until. */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, apr_time_t from,
                       apr_time_t until)
{
    static long serial = 1;
    X509 *x = X509_new();

    ck_assert_int_eq(X509_set_version(x, X509_VERSION_3), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial), 1);
    if (cn) set_name(X509_get_subject_name(x), cn);
    ck_assert_int_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                                    : X509_get_subject_name(x)), 1);
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)apr_time_sec(from)));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)apr_time_sec(until)));
    ck_assert_int_eq(X509_set_pubkey(x, key), 1);
    add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
    return x;
}

static X509 *ca_make(md_pkey_t *key, const char *cn, X509 *issuer, md_pkey_t *issuer_key)
{
    X509 *x = cert_make(md_pkey_evp(key), cn, issuer, ca.now - 30 * DAY, ca.now + 3650 * DAY);

    if (issuer) add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    ck_assert_int_gt(X509_sign(x, md_pkey_evp(issuer_key), EVP_sha256()), 0);
    return x;
}

/* Root and intermediate, made once per test (key generation is cheap for P-256). */
static void ca_setup(void)
{
    md_test_setup();
    memset(&ca, 0, sizeof(ca));
    ca.now = apr_time_now();
    ca.root_key = ec_key();
    ca.int_key = ec_key();
    ca.our_key = ec_key();
    ca.root = ca_make(ca.root_key, "Test Root", NULL, ca.root_key);
    md_cert_wrap(ca.root, md_test_pool);
    ca.intermediate = ca_make(ca.int_key, "Test Intermediate", ca.root, ca.root_key);
    md_cert_wrap(ca.intermediate, md_test_pool);
}

/* The chain leaf, intermediate, root with a leaf for our key made as l says. */
static apr_array_header_t *chain_with(const leaf_t *l)
{
    apr_array_header_t *chain = apr_array_make(md_test_pool, 3, sizeof(md_cert_t *));
    X509 *x = cert_make(md_pkey_evp(ca.our_key), l->cn, ca.intermediate, ca.now + l->from,
                        ca.now + (l->until ? l->until : 90 * DAY));

    if (!l->san || *l->san) add_ext(x, x, NID_subject_alt_name, l->san ? l->san : "DNS:x.test");
    if (!l->no_aki) add_ext(x, ca.intermediate, NID_authority_key_identifier, "keyid:always");
    add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
    ck_assert_int_gt(X509_sign(x, l->signer ? l->signer : md_pkey_evp(ca.int_key),
                               EVP_sha256()), 0);
    APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(x, md_test_pool);
    X509_up_ref(ca.intermediate);
    APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(ca.intermediate, md_test_pool);
    X509_up_ref(ca.root);
    APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(ca.root, md_test_pool);
    return chain;
}

static apr_array_header_t *names_split(const char *text)
{
    apr_array_header_t *names = apr_array_make(md_test_pool, 4, sizeof(const char *));
    char *copy = apr_pstrdup(md_test_pool, text), *last, *name;

    for (name = apr_strtok(copy, " ", &last); name; name = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(names, const char *) = name;
    }
    return names;
}

/* The reason md_cert_check_chain gives for the chain and the MD's names ("" for
 * success), with the served certificate ending at replaced_until (0: none). */
static const char *check(const apr_array_header_t *chain, const char *names,
                         apr_time_t replaced_until)
{
    md_cert_facts_t replaced;
    md_cert_check_t c;
    const char *reason = "unset";
    apr_status_t rv;

    memset(&c, 0, sizeof(c));
    memset(&replaced, 0, sizeof(replaced));
    replaced.not_after = replaced_until;
    c.names = names_split(names);
    c.pkey = ca.our_key;
    c.now = ca.now;
    c.replaced = replaced_until ? &replaced : NULL;
    rv = md_cert_check_chain(&reason, &c, chain, md_test_pool);
    ck_assert_int_eq(ERR_peek_error(), 0);
    if (rv == APR_SUCCESS) {
        ck_assert_ptr_null(reason);
        return "";
    }
    ck_assert_int_eq(rv, APR_EINVAL);
    ck_assert_ptr_nonnull(reason);
    return reason;
}

#define assert_refused(reason, expected) \
    ck_assert_msg(strstr((reason), (expected)) != NULL, "'%s' lacks '%s'", (reason), (expected))

START_TEST(good_chain_passes)
{
    leaf_t l = { "DNS:x.test,DNS:*.X.Test,IP:192.0.2.7,IP:2001:db8:0::1", "x.test", -HOUR, 0, 0, 0 };
    leaf_t l2 = { "DNS:x.test", NULL, 2 * apr_time_from_sec(60), 0, 0, 0 };

    ck_assert_str_eq(check(chain_with(&l), "x.test *.x.test 192.0.2.7 2001:db8::1", 0), "");
    /* later than the certificate it replaces */
    ck_assert_str_eq(check(chain_with(&l), "x.test *.x.test 192.0.2.7 2001:db8::1",
                           ca.now + 30 * DAY), "");
    /* a notBefore two minutes ahead is a clock difference; no CN is fine */
    ck_assert_str_eq(check(chain_with(&l2), "x.test", 0), "");
}
END_TEST

START_TEST(wrong_key_refused)
{
    leaf_t l = { NULL, NULL, -HOUR, 0, 0, 0 };
    apr_array_header_t *chain = chain_with(&l);

    ca.our_key = ec_key();      /* our request had another key */
    ck_assert_str_eq(check(chain, "x.test", 0), "does not match the key of our request");
}
END_TEST

START_TEST(wrong_names_refused)
{
    leaf_t other = { "DNS:other.test", "other.test", -HOUR, 0, 0, 0 };
    leaf_t none = { "", "x.test", -HOUR, 0, 0, 0 };
    leaf_t fewer = { "DNS:x.test", NULL, -HOUR, 0, 0, 0 };

    ck_assert_str_eq(check(chain_with(&other), "x.test", 0),
                     "names other.test, which was not asked for");
    ck_assert_str_eq(check(chain_with(&none), "x.test", 0), "does not name x.test");
    ck_assert_str_eq(check(chain_with(&fewer), "x.test www.x.test 192.0.2.7", 0),
                     "does not name www.x.test, the IP address 192.0.2.7");
}
END_TEST

START_TEST(extra_names_refused)
{
    leaf_t extra = { "DNS:x.test,DNS:evil.test", NULL, -HOUR, 0, 0, 0 };
    leaf_t ip = { "DNS:x.test,IP:192.0.2.66", NULL, -HOUR, 0, 0, 0 };
    leaf_t cn = { "DNS:x.test", "evil.test", -HOUR, 0, 0, 0 };
    leaf_t email = { "DNS:x.test,email:admin@x.test", NULL, -HOUR, 0, 0, 0 };

    ck_assert_str_eq(check(chain_with(&extra), "x.test", 0),
                     "names evil.test, which was not asked for");
    ck_assert_str_eq(check(chain_with(&ip), "x.test", 0),
                     "names the IP address 192.0.2.66, which was not asked for");
    ck_assert_str_eq(check(chain_with(&cn), "x.test", 0),
                     "has the subject CN evil.test, which was not asked for");
    ck_assert_str_eq(check(chain_with(&email), "x.test", 0),
                     "has a subjectAltName that is neither a DNS name nor an IP address");
}
END_TEST

/* A wildcard is a name of its own: "*.x.test" covers no "a.x.test" and the other way
 * round; an IP address must be an IP address, not a DNS name that reads like one. */
START_TEST(wildcards_and_ips_literally)
{
    leaf_t sub = { "DNS:a.x.test", NULL, -HOUR, 0, 0, 0 };
    leaf_t wild = { "DNS:*.x.test", NULL, -HOUR, 0, 0, 0 };
    leaf_t ip_as_dns = { "DNS:192.0.2.7", NULL, -HOUR, 0, 0, 0 };

    ck_assert_str_eq(check(chain_with(&sub), "*.x.test", 0),
                     "names a.x.test, which was not asked for");
    ck_assert_str_eq(check(chain_with(&wild), "a.x.test", 0),
                     "names *.x.test, which was not asked for");
    ck_assert_str_eq(check(chain_with(&wild), "*.x.test", 0), "");
    ck_assert_str_eq(check(chain_with(&ip_as_dns), "192.0.2.7", 0),
                     "names 192.0.2.7, which was not asked for");
}
END_TEST

START_TEST(expired_refused)
{
    leaf_t l = { NULL, NULL, -10 * DAY, -DAY, 0, 0 };

    assert_refused(check(chain_with(&l), "x.test", 0), "expired on ");
}
END_TEST

START_TEST(not_yet_valid_refused)
{
    leaf_t l = { NULL, NULL, DAY, 90 * DAY, 0, 0 };

    assert_refused(check(chain_with(&l), "x.test", 0), "is not valid before ");
}
END_TEST

START_TEST(ends_before_replaced_refused)
{
    leaf_t l = { NULL, NULL, -HOUR, 2 * DAY, 0, 0 };
    const char *reason = check(chain_with(&l), "x.test", ca.now + 60 * DAY);

    assert_refused(reason, "ends on ");
    assert_refused(reason, ", before the certificate it replaces (");
    /* the same certificate when nothing is replaced, or the old one ends first */
    ck_assert_str_eq(check(chain_with(&l), "x.test", 0), "");
    ck_assert_str_eq(check(chain_with(&l), "x.test", ca.now + DAY), "");
}
END_TEST

START_TEST(broken_chain_refused)
{
    md_pkey_t *other = ec_key();
    leaf_t forged = { NULL, "x.test", -HOUR, 0, md_pkey_evp(other), 1 };
    leaf_t good = { NULL, NULL, -HOUR, 0, 0, 0 };
    apr_array_header_t *chain = chain_with(&good), *swapped;

    /* right names and key identifiers, signed with another key */
    assert_refused(check(chain_with(&forged), "x.test", 0), "has a broken chain: the signature "
                   "of certificate 1 (/CN=x.test) does not verify with the key of certificate 2 "
                   "(/CN=Test Intermediate)");
    /* root and intermediate in the wrong order */
    swapped = apr_array_copy(md_test_pool, chain);
    APR_ARRAY_IDX(swapped, 1, md_cert_t *) = APR_ARRAY_IDX(chain, 2, md_cert_t *);
    APR_ARRAY_IDX(swapped, 2, md_cert_t *) = APR_ARRAY_IDX(chain, 1, md_cert_t *);
    assert_refused(check(swapped, "x.test", 0), "has a broken chain: certificate 1 (");
    assert_refused(check(swapped, "x.test", 0), ") is not issued by certificate 2 "
                   "(/CN=Test Root)");
    /* the leaf alone has no chain to break */
    chain->nelts = 1;
    ck_assert_str_eq(check(chain, "x.test", 0), "");
    chain->nelts = 0;
    ck_assert_str_eq(check(chain, "x.test", 0), "is empty");
}
END_TEST

Suite *md_test_cert_check_suite(void)
{
    Suite *s = suite_create("cert_check");
    TCase *tc = tcase_create("cert_check");

    tcase_add_checked_fixture(tc, ca_setup, md_test_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, good_chain_passes);
    tcase_add_test(tc, wrong_key_refused);
    tcase_add_test(tc, wrong_names_refused);
    tcase_add_test(tc, extra_names_refused);
    tcase_add_test(tc, wildcards_and_ips_literally);
    tcase_add_test(tc, expired_refused);
    tcase_add_test(tc, not_yet_valid_refused);
    tcase_add_test(tc, ends_before_replaced_refused);
    tcase_add_test(tc, broken_chain_refused);
    suite_add_tcase(s, tc);
    return s;
}
