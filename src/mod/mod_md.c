/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mod_md: Managed Domains for Apache httpd. The module record and the hook table;
 * each hook group lives in a file of its own (see docs/internals.md). */
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_connection.h>
#include <http_ssl.h>
#include <mpm_common.h>
#include <mod_status.h>

#include <apr_optional_hooks.h>

#include "md_mod.h"

/* mod_ssl's optional hook as each vhost's SSL_CTX is made (its mod_ssl_openssl.h is not
 * in Debian's apache2-dev): declared here by its signature. */
typedef int ssl_HOOK_init_server_t(server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx);

static void md_register_hooks(apr_pool_t *p)
{
    /* Our post_config must run before mod_ssl's, which asks us for certificate files. */
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_check_config(md_config_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(md_config_report, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(md_mod_init_post_config, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_child_init(md_mod_init_child, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(md_mod_renew_monitor, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_add_cert_files(md_mod_init_add_cert_files, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_add_fallback_cert_files(md_mod_init_add_fallback_cert_files, NULL, NULL, APR_HOOK_MIDDLE);
    /* Challenges: http-01 before anything else maps the request; tls-alpn-01 through ALPN. */
    ap_hook_quick_handler(md_mod_challenge_http01_handler, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_protocol_propose(md_mod_challenge_protocol_propose, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(md_mod_challenge_protocol_switch, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_answer_challenge(md_mod_challenge_answer_tlsalpn01, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_process_connection(md_mod_challenge_process_connection, NULL, NULL, APR_HOOK_FIRST);
    /* OCSP stapling (md_mod_ocsp.c): started after md_mod_init_post_config (the MDs synced)
     * and before mod_ssl primes the certificates; we hand out the responses. Its child
     * cleanup is registered after the renewal's, so it runs first. */
    ap_hook_post_config(md_mod_ocsp_post_config, NULL, before_ssl, APR_HOOK_MIDDLE + 1);
    ap_hook_child_init(md_mod_ocsp_child_init, NULL, NULL, APR_HOOK_MIDDLE + 1);
    ap_hook_ssl_ocsp_prime_hook(md_mod_ocsp_prime, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_get_resp_hook(md_mod_ocsp_get_resp, NULL, NULL, APR_HOOK_MIDDLE);
    /* Live activation (md_mod_live.c): a certificate callback on each MD's SSL_CTX */
    APR_OPTIONAL_HOOK(ssl, init_server, md_mod_live_init_server, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(md_mod_live_post_config, NULL, NULL, APR_HOOK_LAST);
    /* after /.httpd/certificate-status, which answers while an MD has no certificate */
    ap_hook_post_read_request(md_mod_live_unavailable, NULL, NULL, APR_HOOK_LAST);
    /* MDRequireHttps: redirect early, before access checks answer for http: */
    ap_hook_post_read_request(md_mod_https_require, NULL, NULL, APR_HOOK_MIDDLE);
    /* Status: the snapshot after the MDs are synced; md-status, md-metrics,
     * /.httpd/certificate-status and server-status. */
    ap_hook_post_config(md_mod_status_post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_handler(md_mod_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(md_mod_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* certificate-status answers even while mod_ssl answers 503 on a fallback certificate */
    ap_hook_post_read_request(md_mod_status_cert_status, NULL, before_ssl, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, md_mod_server_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(md) = {
    STANDARD20_MODULE_STUFF,
    NULL,                   /* per-directory config */
    NULL,                   /* merge per-directory */
    md_config_create_srv,   /* per-server config */
    md_config_merge_srv,    /* merge per-server */
    md_cmds,
    md_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE,
#endif
};
