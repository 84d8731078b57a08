/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* ACME problem types (RFC 8555 section 6.7 and later additions) mapped to statuses, in
 * one table. "input" marks problems that blame what we sent: retrying soon will not help. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_json_keys.h"

typedef struct {
    const char *type;
    apr_status_t status;
    int input;
    const char *hint;           /* what the operator can do, or NULL */
} md_acme_problem_t;

static const md_acme_problem_t PROBLEMS[] = {
    { "accountDoesNotExist",     APR_ENOENT,    0, NULL },
    { "alreadyReplaced",         APR_EEXIST,    0, NULL },
    { "alreadyRevoked",          APR_EINVAL,    1, NULL },
    { "badCSR",                  APR_EINVAL,    1, "check MDPrivateKeys and the MD's names" },
    { "badNonce",                APR_EAGAIN,    0, NULL },
    { "badPublicKey",            APR_EINVAL,    1, "the CA does not accept this key type or size: "
                                                   "check MDPrivateKeys" },
    { "badRevocationReason",     APR_EINVAL,    1, NULL },
    { "badSignatureAlgorithm",   APR_EINVAL,    1, NULL },
    { "caa",                     APR_EACCES,    1, "the domain's CAA DNS records do not allow "
                                                   "this CA" },
    { "compound",                APR_EINVAL,    0, NULL },
    { "connection",              APR_ECONNREFUSED, 0, "the CA could not connect to this server: "
                                                   "check DNS, firewalls and MDPortMap" },
    { "dns",                     APR_EHOSTUNREACH, 0, "the CA could not resolve the name" },
    { "externalAccountRequired", APR_EACCES,    1, "the CA requires an external account binding: "
                                                   "configure MDExternalAccountBinding with the key "
                                                   "id and HMAC key the CA gave you" },
    { "incorrectResponse",       APR_EACCES,    0, NULL },
    { "invalidContact",          APR_EINVAL,    1, "check MDContactEmail (or ServerAdmin)" },
    { "invalidProfile",          APR_EINVAL,    1, "check MDProfile" },
    { "malformed",               APR_EINVAL,    0, NULL },
    { "orderNotReady",           APR_EAGAIN,    0, NULL },
    { "rateLimited",             APR_EAGAIN,    0, "the CA's rate limit: retried when it allows" },
    { "rejectedIdentifier",      APR_EINVAL,    1, "the CA will not issue for one of the MD's "
                                                   "names" },
    { "serverInternal",          APR_EGENERAL,  0, NULL },
    { "tls",                     APR_EACCES,    0, NULL },
    { "unauthorized",            APR_EACCES,    0, NULL },
    { "unsupportedContact",      APR_EINVAL,    1, "check MDContactEmail" },
    { "unsupportedIdentifier",   APR_EINVAL,    1, "the CA does not issue for this kind of name "
                                                   "(wildcard or IP address?)" },
    { "userActionRequired",      APR_EAGAIN,    1, "the CA asks for an action on its web site "
                                                   "(e.g. new terms of service)" },
};

static const md_acme_problem_t *problem_find(const char *type)
{
    static const char *PREFIXES[] = { "urn:ietf:params:acme:error:", "urn:acme:error:" };
    apr_size_t i;

    if (!type) return NULL;
    for (i = 0; i < sizeof(PREFIXES) / sizeof(PREFIXES[0]); ++i) {
        if (!strncmp(type, PREFIXES[i], strlen(PREFIXES[i]))) {
            type += strlen(PREFIXES[i]);
            break;
        }
    }
    for (i = 0; i < sizeof(PROBLEMS) / sizeof(PROBLEMS[0]); ++i) {
        if (!strcmp(type, PROBLEMS[i].type)) return &PROBLEMS[i];
    }
    return NULL;
}

apr_status_t md_acme_problem_status(const char *type)
{
    const md_acme_problem_t *prob = problem_find(type);
    return prob ? prob->status : APR_EGENERAL;
}

int md_acme_problem_is_input_related(const char *type)
{
    const md_acme_problem_t *prob = problem_find(type);
    return prob && prob->input;
}

apr_status_t md_acme_problem_record(md_result_t *result, const md_acme_resp_t *resp,
                                    const char *url)
{
    const char *type = resp->json ? md_json_gets(resp->json, MD_KEY_TYPE, NULL) : NULL;
    const char *detail = resp->json ? md_json_gets(resp->json, MD_KEY_DETAIL, NULL) : NULL;
    apr_status_t rv;

    if (type) {
        const md_acme_problem_t *prob = problem_find(type);
        rv = prob ? prob->status : APR_EGENERAL;
        if (!detail) detail = apr_psprintf(result->p, "HTTP %d from %s", resp->status, url);
        if (prob && prob->hint) detail = apr_psprintf(result->p, "%s (%s)", detail, prob->hint);
        md_result_problem(result, rv, type, detail,
                          md_json_getj(resp->json, MD_KEY_SUBPROBLEMS, NULL));
        return rv;
    }
    rv = (resp->status == 503 || resp->status == 429) ? APR_EAGAIN
         : (resp->status >= 500) ? APR_EGENERAL : APR_EINVAL;
    md_result_set(result, rv, "the CA answered HTTP %d to %s without a problem document",
                  resp->status, url);
    return rv;
}
