/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Answering the CA's challenges: http-01 on plain requests, tls-alpn-01 on TLS
 * connections that negotiated acme-tls/1. Anything that is not exactly ours is declined,
 * so other handlers and other ACME clients keep working. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_ssl.h>

#include "md_mod.h"
#include "md_chall.h"
#include "md_util.h"

APLOG_USE_MODULE(md);

#define ACME_TLS_1 "acme-tls/1"

static md_mod_conf_t *mod_conf(server_rec *s)
{
    return md_config_get(s)->mc;
}

/* A token is base64url: anything else (dots, slashes, escapes) is not ours. */
static int token_valid(const char *token)
{
    apr_size_t len = strlen(token), i;

    if (len == 0 || len > MD_ACME_TOKEN_MAX) return 0;
    for (i = 0; i < len; ++i) {
        if (!apr_isalnum(token[i]) && token[i] != '-' && token[i] != '_') return 0;
    }
    return 1;
}

static int host_valid(const char *host)
{
    return host && *host && !strchr(host, '/') && strcmp(host, ".") && strcmp(host, "..");
}

/* Is authz exactly the key authorization of token, "token.thumbprint"? */
static int authz_for(const char *authz, const char *token)
{
    apr_size_t tlen = strlen(token);

    return authz && !strncmp(authz, token, tlen) && authz[tlen] == '.';
}

int md_mod_challenge_http01_handler(request_rec *r, int lookup)
{
    md_mod_conf_t *mc = mod_conf(r->server);
    const char *path = r->parsed_uri.path, *token, *authz, *host = r->hostname;

    if (!mc->store || !path || strncmp(path, MD_ACME_CHALLENGE_PREFIX, sizeof(MD_ACME_CHALLENGE_PREFIX) - 1)) {
        return DECLINED;
    }
    token = path + sizeof(MD_ACME_CHALLENGE_PREFIX) - 1;
    if (!token_valid(token) || !host_valid(host)) return DECLINED;
    if (md_store_load_text(&authz, mc->store, MD_SG_CHALLENGES, host, MD_FN_HTTP01, r->pool)
        != APR_SUCCESS) {
        authz = NULL;
    }
    /* in a farm, another node may renew the name (and what this node has is stale) */
    if (!authz_for(authz, token)) authz = md_mod_farm_http01(mc, host, r->pool);
    if (!authz_for(authz, token)) return DECLINED;
    if (lookup) return OK;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "MD1201: answering http-01 for %s", host);
    ap_set_content_type(r, "text/plain");
    ap_set_content_length(r, (apr_off_t)strlen(authz));
    r->status = HTTP_OK;
    ap_rputs(authz, r);
    return OK;
}

/* ---- tls-alpn-01 ------------------------------------------------------------------ */

typedef struct { int acme_tls_1; } md_conn_ctx_t;

int md_mod_challenge_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                                      const apr_array_header_t *offers, apr_array_header_t *proposals)
{
    if (r || !offers || !ap_ssl_conn_is_ssl(c)) return DECLINED;
    if (md_array_str_index(offers, ACME_TLS_1, 1) < 0) return DECLINED;
    APR_ARRAY_PUSH(proposals, const char *) = ACME_TLS_1;
    return OK;
}

int md_mod_challenge_protocol_switch(conn_rec *c, request_rec *r, server_rec *s, const char *protocol)
{
    md_conn_ctx_t *ctx;

    if (r || !protocol || strcmp(protocol, ACME_TLS_1)) return DECLINED;
    ctx = apr_pcalloc(c->pool, sizeof(*ctx));
    ctx->acme_tls_1 = 1;
    ap_set_module_config(c->conn_config, &md_module, ctx);
    return DONE;
}

int md_mod_challenge_answer_tlsalpn01(conn_rec *c, const char *server_name, const char **pcert_pem,
                                      const char **pkey_pem)
{
    md_conn_ctx_t *ctx = ap_get_module_config(c->conn_config, &md_module);
    md_mod_conf_t *mc = mod_conf(c->base_server);
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    const char *cert, *key;

    if (!ctx || !ctx->acme_tls_1 || !mc->store || !host_valid(server_name)) return DECLINED;
    if ((md_store_load_text(&cert, mc->store, MD_SG_CHALLENGES, server_name,
                            md_pkey_file_name(&spec, MD_FN_TLSALPN01_CERT, c->pool), c->pool)
         != APR_SUCCESS
         || md_store_load_text(&key, mc->store, MD_SG_CHALLENGES, server_name,
                               md_pkey_file_name(&spec, MD_FN_TLSALPN01_PKEY, c->pool), c->pool)
         != APR_SUCCESS)
        /* in a farm, another node may renew the name: a certificate of our own made from
         * its key authorization in the engine (md_mod_farm.c); no key leaves a node */
        && !md_mod_farm_tlsalpn01(mc, server_name, &cert, &key, c->pool)) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "MD1202: acme-tls/1 for %s, but no "
                      "challenge is pending for it", server_name);
        return DECLINED;
    }
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "MD1203: answering tls-alpn-01 for %s", server_name);
    *pcert_pem = cert;
    *pkey_pem = key;
    return OK;
}

/* An acme-tls/1 connection carries no requests: close it once the handshake is done. */
int md_mod_challenge_process_connection(conn_rec *c)
{
    md_conn_ctx_t *ctx = ap_get_module_config(c->conn_config, &md_module);

    if (!ctx || !ctx->acme_tls_1) return DECLINED;
    c->keepalive = AP_CONN_CLOSE;
    return DONE;
}
