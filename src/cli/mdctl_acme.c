/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl's commands that talk to the CA: revocation and account management.
 *
 *   revoke [-c CAFILE] [-r REASON] [-k] MDNAME
 *       revoke the MD's certificates (all key specs) in domains/; signed by the MD's
 *       account, or with -k by each certificate's own key. REASON: CRLReason 0-10
 *       (1 keyCompromise, 4 superseded, 5 cessationOfOperation, ...).
 *   account-rollover [-c CAFILE] [-t KEYSPEC] ACCOUNT|MDNAME
 *       replace the account key (RFC 8555 7.3.5); KEYSPEC as in MDPrivateKeys
 *       (default secp256r1; rsa, rsa3072, secp384r1, ...).
 *   account-contacts [-c CAFILE] ACCOUNT|MDNAME CONTACT...
 *       replace the account's contacts ("mailto:" is added to bare addresses).
 *   account-deactivate [-c CAFILE] ACCOUNT|MDNAME
 *       deactivate the account at the CA for good.
 *   ari [-c CAFILE] MDNAME
 *       ask the CA that issued the MD's certificates for their renewal information
 *       (RFC 9773): the suggested window, the renewal time drawn inside it, and when to
 *       ask again.
 *
 * CAFILE is the trust anchor of the CA's HTTPS (as MDCACertificateFile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "mdctl_acme.h"
#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_ari.h"
#include "md_json_keys.h"
#include "md_util.h"
#include "md_time.h"

typedef struct {
    md_store_t *store;
    const char *ca_file;
    const char *key_spec;
    int reason;
    int with_cert_key;
    apr_array_header_t *args;   /* the words after the options */
    apr_pool_t *p;
} mdctl_acme_t;

static int fail(md_result_t *r, const char *what)
{
    fprintf(stderr, "mdctl: %s failed: %s%s%s\n", what, r->detail ? r->detail : "error",
            r->problem ? " " : "", r->problem ? r->problem : "");
    return 1;
}

/* -c CAFILE -r REASON -k -t KEYSPEC, then the words. */
static int options_parse(mdctl_acme_t *c, int argc, const char *const *argv)
{
    int i;

    c->reason = -1;
    c->args = apr_array_make(c->p, 4, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-k")) c->with_cert_key = 1;
        else if (!strcmp(a, "-c") && i + 1 < argc) c->ca_file = argv[++i];
        else if (!strcmp(a, "-t") && i + 1 < argc) c->key_spec = argv[++i];
        else if (!strcmp(a, "-r") && i + 1 < argc) c->reason = (int)strtol(argv[++i], NULL, 10);
        else if (a[0] == '-') return 0;
        else APR_ARRAY_PUSH(c->args, const char *) = a;
    }
    return c->args->nelts > 0;
}

static apr_status_t acme_make(md_acme_t **pacme, mdctl_acme_t *c, const char *url)
{
    md_http_config_t cfg;
    md_http_t *http;
    apr_status_t rv;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = c->ca_file;
    cfg.user_agent = "mdctl";
    rv = md_http_create(&http, &cfg, c->p);
    return rv == APR_SUCCESS ? md_acme_create(pacme, url, http, c->p) : rv;
}

/* An account id, or the account an MD uses. */
static const char *account_id(mdctl_acme_t *c, const char *arg)
{
    md_json_t *j;

    if (md_store_exists(c->store, MD_SG_ACCOUNTS, arg, MD_FN_ACCOUNT, c->p) == APR_SUCCESS) return arg;
    if (md_store_load_json(&j, c->store, MD_SG_DOMAINS, arg, MD_FN_MD, c->p) != APR_SUCCESS) return NULL;
    return md_json_gets(j, MD_KEY_CA, MD_KEY_ACCOUNT, NULL);
}

static int account_open(md_acme_t **pacme, md_acme_acct_t **pacct, mdctl_acme_t *c,
                        md_result_t *r)
{
    const char *id = account_id(c, APR_ARRAY_IDX(c->args, 0, const char *));
    md_json_t *j;

    if (!id || md_store_load_json(&j, c->store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, c->p)
        != APR_SUCCESS || !md_json_gets(j, MD_KEY_CA_URL, NULL)) {
        fprintf(stderr, "mdctl: no account '%s' (nor an MD using one) in the store\n",
                APR_ARRAY_IDX(c->args, 0, const char *));
        return 1;
    }
    if (acme_make(pacme, c, md_json_gets(j, MD_KEY_CA_URL, NULL)) != APR_SUCCESS
        || md_acme_acct_load(pacct, *pacme, c->store, id, r, c->p) != APR_SUCCESS) {
        return fail(r, "loading the account");
    }
    return 0;
}

static int revoke_spec(mdctl_acme_t *c, md_acme_t *acme, const md_t *md,
                       const md_pkey_spec_t *spec, md_result_t *r)
{
    apr_array_header_t *chain;
    md_pkey_t *key = NULL;

    if (md_store_load_chain(&chain, c->store, MD_SG_DOMAINS, md->name,
                            md_pkey_file_name(spec, MD_FN_PUBCERT, c->p), c->p) != APR_SUCCESS
        || chain->nelts == 0) {
        return 0;
    }
    if (c->with_cert_key && md_store_load_pkey(&key, c->store, MD_SG_DOMAINS, md->name,
            md_pkey_file_name(spec, MD_FN_PRIVKEY, c->p), c->p) != APR_SUCCESS) {
        fprintf(stderr, "mdctl: the %s key of %s cannot be read\n", md_pkey_spec_name(spec), md->name);
        return -1;
    }
    if (md_acme_revoke(acme, APR_ARRAY_IDX(chain, 0, md_cert_t *), key, c->reason, r, c->p)
        != APR_SUCCESS) {
        fail(r, "revocation");
        return -1;
    }
    printf("%s: %s certificate %s revoked\n", md->name, md_pkey_spec_name(spec),
           md_cert_serial_hex(APR_ARRAY_IDX(chain, 0, md_cert_t *), c->p));
    return 1;
}

/* The MD from the store's domains/<name>/md.json, if it has a CA; else a message. */
static md_t *md_with_ca(mdctl_acme_t *c, const char *name)
{
    md_json_t *j;
    md_t *md;

    if (md_store_load_json(&j, c->store, MD_SG_DOMAINS, name, MD_FN_MD, c->p) != APR_SUCCESS
        || md_from_json(&md, j, c->p) != APR_SUCCESS || !md->ca_effective) {
        fprintf(stderr, "mdctl: no MD named %s with a CA in the store\n", name);
        return NULL;
    }
    return md;
}

static int cmd_revoke(mdctl_acme_t *c, md_result_t *r)
{
    const char *name = APR_ARRAY_IDX(c->args, 0, const char *);
    md_acme_acct_t *acct;
    md_acme_t *acme;
    md_t *md;
    int i, n, done = 0;

    md = md_with_ca(c, name);
    if (!md) return 1;
    if (c->with_cert_key) {
        if (acme_make(&acme, c, md->ca_effective) != APR_SUCCESS) return 1;
    }
    else if (account_open(&acme, &acct, c, r)) {
        return 1;
    }
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        n = revoke_spec(c, acme, md, md_pkey_spec_at(md, i), r);
        if (n < 0) return 1;
        done += n;
    }
    if (!done) fprintf(stderr, "mdctl: %s has no certificate to revoke\n", name);
    return done ? 0 : 1;
}

static int cmd_rollover(mdctl_acme_t *c, md_result_t *r)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_acme_acct_t *acct;
    md_acme_t *acme;
    const char *err = c->key_spec ? md_pkey_spec_parse(&spec, c->key_spec, NULL) : NULL;

    if (err) {
        fprintf(stderr, "mdctl: -t %s: %s\n", c->key_spec, err);
        return 2;
    }
    if (spec.type == MD_PKEY_DEFAULT) {
        spec.type = MD_PKEY_RSA;
        spec.bits = MD_PKEY_RSA_BITS_DEFAULT;
    }
    if (account_open(&acme, &acct, c, r)) return 1;
    if (md_acme_acct_key_change(acme, acct, c->store, &spec, r, c->p) != APR_SUCCESS) {
        return fail(r, "the account key rollover");
    }
    printf("%s: account key replaced by a new %s key\n", acct->id, md_pkey_spec_name(&spec));
    return 0;
}

static int cmd_contacts(mdctl_acme_t *c, md_result_t *r)
{
    apr_array_header_t *contacts = apr_array_make(c->p, 2, sizeof(const char *));
    md_acme_acct_t *acct;
    md_acme_t *acme;
    int i;

    for (i = 1; i < c->args->nelts; ++i) {
        const char *a = APR_ARRAY_IDX(c->args, i, const char *);
        APR_ARRAY_PUSH(contacts, const char *) = strchr(a, ':') ? a : apr_pstrcat(c->p, "mailto:", a, NULL);
    }
    if (account_open(&acme, &acct, c, r)) return 1;
    if (md_acme_acct_update_contacts(acme, acct, c->store, contacts, r, c->p) != APR_SUCCESS) {
        return fail(r, "updating the contacts");
    }
    printf("%s: contacts now [%s]\n", acct->id, md_array_str_join(contacts, ", ", c->p));
    return 0;
}

static int cmd_deactivate(mdctl_acme_t *c, md_result_t *r)
{
    md_acme_acct_t *acct;
    md_acme_t *acme;

    if (account_open(&acme, &acct, c, r)) return 1;
    if (md_acme_acct_deactivate(acme, acct, c->store, r, c->p) != APR_SUCCESS) {
        return fail(r, "deactivating the account");
    }
    printf("%s: deactivated at %s\n", acct->id, acme->url);
    return 0;
}

static int ari_spec(mdctl_acme_t *c, md_acme_t *acme, const md_t *md, const md_pkey_spec_t *spec,
                    md_result_t *r)
{
    apr_array_header_t *chain;
    md_cert_t *cert, *issuer;
    md_acme_ari_t ari;
    apr_time_t at;

    if (md_store_load_chain(&chain, c->store, MD_SG_DOMAINS, md->name,
                            md_pkey_file_name(spec, MD_FN_PUBCERT, c->p), c->p) != APR_SUCCESS
        || chain->nelts == 0) {
        return 0;
    }
    cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    issuer = chain->nelts > 1 ? APR_ARRAY_IDX(chain, 1, md_cert_t *) : NULL;
    printf("%s %s: ari-cert-id %s\n", md->name, md_pkey_spec_name(spec),
           md_cert_ari_id(cert, issuer, c->p));
    if (md_acme_ari_get(&ari, acme, md_cert_ari_id(cert, issuer, c->p), r, c->p) != APR_SUCCESS
        || md_acme_ari_renew_at(&at, acme, cert, issuer, r, c->p) != APR_SUCCESS) {
        fail(r, "fetching the renewal information");
        return -1;
    }
    printf("  window    %s .. %s\n", md_time_print(ari.start, c->p), md_time_print(ari.end, c->p));
    printf("  renew-at  %s\n", md_time_print(at, c->p));
    if (ari.retry_after) printf("  ask-again %s\n", md_time_print(ari.retry_after, c->p));
    if (ari.explanation) printf("  see       %s\n", ari.explanation);
    return 1;
}

static int cmd_ari(mdctl_acme_t *c, md_result_t *r)
{
    const char *name = APR_ARRAY_IDX(c->args, 0, const char *);
    md_acme_t *acme;
    md_t *md;
    int i, n, done = 0;

    md = md_with_ca(c, name);
    if (!md) return 1;
    if (acme_make(&acme, c, md->ca_effective) != APR_SUCCESS) return 1;
    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        n = ari_spec(c, acme, md, md_pkey_spec_at(md, i), r);
        if (n < 0) return 1;
        done += n;
    }
    if (!done) fprintf(stderr, "mdctl: %s has no certificate\n", name);
    return done ? 0 : 1;
}

static const struct {
    const char *name;
    int (*run)(mdctl_acme_t *c, md_result_t *r);
} CMDS[] = {
    { "revoke", cmd_revoke },
    { "account-rollover", cmd_rollover },
    { "account-contacts", cmd_contacts },
    { "account-deactivate", cmd_deactivate },
    { "ari", cmd_ari },
};

int mdctl_acme_knows(const char *cmd)
{
    apr_size_t i;

    for (i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); ++i) {
        if (!strcmp(cmd, CMDS[i].name)) return 1;
    }
    return 0;
}

int mdctl_acme_cmd(md_store_t *store, const char *cmd, int argc, const char *const *argv,
                   apr_pool_t *p)
{
    mdctl_acme_t c;
    apr_size_t i;

    for (i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); ++i) {
        if (strcmp(cmd, CMDS[i].name)) continue;
        memset(&c, 0, sizeof(c));
        c.store = store;
        c.p = p;
        if (!options_parse(&c, argc, argv)) {
            mdctl_acme_usage();
            return 2;
        }
        return CMDS[i].run(&c, md_result_make(p));
    }
    return -1;
}

void mdctl_acme_usage(void)
{
    fprintf(stderr, "  revoke [-c CAFILE] [-r REASON] [-k] MDNAME\n"
                    "  account-rollover [-c CAFILE] [-t KEYSPEC] ACCOUNT|MDNAME\n"
                    "  account-contacts [-c CAFILE] ACCOUNT|MDNAME CONTACT...\n"
                    "  account-deactivate [-c CAFILE] ACCOUNT|MDNAME\n"
                    "  ari [-c CAFILE] MDNAME\n"
                    "                  at the CA: revocation, the account, ARI (docs/mdctl-acme.md)\n");
}
