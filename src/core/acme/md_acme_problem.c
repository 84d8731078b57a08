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
} md_acme_problem_t;

static const md_acme_problem_t PROBLEMS[] = {
    { "accountDoesNotExist",     APR_ENOENT,    0 },
    { "alreadyReplaced",         APR_EEXIST,    0 },
    { "alreadyRevoked",          APR_EINVAL,    1 },
    { "badCSR",                  APR_EINVAL,    1 },
    { "badNonce",                APR_EAGAIN,    0 },
    { "badPublicKey",            APR_EINVAL,    1 },
    { "badRevocationReason",     APR_EINVAL,    1 },
    { "badSignatureAlgorithm",   APR_EINVAL,    1 },
    { "caa",                     APR_EACCES,    1 },
    { "compound",                APR_EINVAL,    0 },
    { "connection",              APR_ECONNREFUSED, 0 },
    { "dns",                     APR_EHOSTUNREACH, 0 },
    { "externalAccountRequired", APR_EACCES,    1 },
    { "incorrectResponse",       APR_EACCES,    0 },
    { "invalidContact",          APR_EINVAL,    1 },
    { "invalidProfile",          APR_EINVAL,    1 },
    { "malformed",               APR_EINVAL,    0 },
    { "orderNotReady",           APR_EAGAIN,    0 },
    { "rateLimited",             APR_EAGAIN,    0 },
    { "rejectedIdentifier",      APR_EINVAL,    1 },
    { "serverInternal",          APR_EGENERAL,  0 },
    { "tls",                     APR_EACCES,    0 },
    { "unauthorized",            APR_EACCES,    0 },
    { "unsupportedContact",      APR_EINVAL,    1 },
    { "unsupportedIdentifier",   APR_EINVAL,    1 },
    { "userActionRequired",      APR_EAGAIN,    1 },
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
        rv = md_acme_problem_status(type);
        md_result_problem(result, rv, type,
                          detail ? detail : apr_psprintf(result->p, "HTTP %d from %s",
                                                         resp->status, url),
                          md_json_getj(resp->json, MD_KEY_SUBPROBLEMS, NULL));
        return rv;
    }
    rv = (resp->status == 503 || resp->status == 429) ? APR_EAGAIN
         : (resp->status >= 500) ? APR_EGENERAL : APR_EINVAL;
    md_result_set(result, rv, "the CA answered HTTP %d to %s without a problem document",
                  resp->status, url);
    return rv;
}
