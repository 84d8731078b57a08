/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* SetHandler md-metrics: the status view in the Prometheus text exposition format
 * (version 0.0.4). Metric names start with mod_md_, times are seconds since the epoch
 * (*_seconds), counters end in _total; every family has its HELP and TYPE lines and
 * its samples together. See docs/status.md for the list. */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>

#include "md_mod.h"
#include "md_json_keys.h"
#include "md_status.h"
#include "md_time.h"
#include "md_version.h"

typedef struct {
    request_rec *r;
    const md_status_view_t *view;
} metrics_t;

/* A label value with \, " and newline escaped. */
static const char *label(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s) return "";
    if (!strpbrk(s, "\\\"\n")) return s;
    o = out = apr_palloc(p, 2 * strlen(s) + 1);
    for (; *s; ++s) {
        if (*s == '\\' || *s == '"') *o++ = '\\';
        if (*s == '\n') { *o++ = '\\'; *o++ = 'n'; continue; }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static void family(metrics_t *mx, const char *name, const char *type, const char *help)
{
    ap_rprintf(mx->r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_time(metrics_t *mx, const char *name, const char *labels, apr_time_t t)
{
    ap_rprintf(mx->r, "%s{%s} %" APR_INT64_T_FMT "\n", name, labels, apr_time_sec(t));
}

#define EACH_MD(mx, m) \
    for (int i_ = 0; (mx)->view && i_ < (mx)->view->mds->nelts; ++i_) \
        for (const md_status_md_t *m = APR_ARRAY_IDX((mx)->view->mds, i_, const md_status_md_t *); \
             m; m = NULL)

static void md_families(metrics_t *mx, apr_pool_t *p)
{
    family(mx, "mod_md_domain_state", "gauge", "State of the managed domain: 0 unknown, "
           "1 incomplete, 2 complete, 4 error, 5 missing information.");
    EACH_MD(mx, m) ap_rprintf(mx->r, "mod_md_domain_state{md=\"%s\"} %d\n", label(p, m->name), m->state);
    family(mx, "mod_md_renewal_scheduled_seconds", "gauge", "When the certificates of the "
           "managed domain are to be renewed, and why: the renew window or the CA's ARI.");
    EACH_MD(mx, m) if (m->renew_at) {
        sample_time(mx, "mod_md_renewal_scheduled_seconds", apr_psprintf(p, "md=\"%s\",reason=\"%s\"",
                    label(p, m->name), label(p, m->renew_reason ? m->renew_reason : "window")), m->renew_at);
    }
    family(mx, "mod_md_renewal_consecutive_failures", "gauge",
           "Renewal runs of the managed domain that failed in a row (0 after a success).");
    EACH_MD(mx, m) ap_rprintf(mx->r, "mod_md_renewal_consecutive_failures{md=\"%s\"} %d\n",
                              label(p, m->name), m->has_job ? m->errors : 0);
    family(mx, "mod_md_renewal_last_problem_info", "gauge",
           "The ACME problem type of the last failed renewal run, as a label (value 1).");
    EACH_MD(mx, m) if (m->has_job && m->errors > 0) {
        ap_rprintf(mx->r, "mod_md_renewal_last_problem_info{md=\"%s\",problem=\"%s\"} 1\n",
                   label(p, m->name), label(p, m->last_problem ? m->last_problem : "none"));
    }
    family(mx, "mod_md_renewal_last_success_seconds", "gauge",
           "When the last renewal of the managed domain succeeded, if known.");
    EACH_MD(mx, m) if (m->last_renewal) {
        sample_time(mx, "mod_md_renewal_last_success_seconds", apr_psprintf(p, "md=\"%s\"",
                    label(p, m->name)), m->last_renewal);
    }
    family(mx, "mod_md_renewal_staged", "gauge", "1 when a renewed certificate set is staged "
           "and waits for the next (graceful) restart to go live.");
    EACH_MD(mx, m) ap_rprintf(mx->r, "mod_md_renewal_staged{md=\"%s\"} %d\n", label(p, m->name),
                              m->has_job && m->finished && m->staged->nelts > 0);
}

/* One sample per served certificate (per key spec) of every MD. */
static void cert_family(metrics_t *mx, const char *name, int which, apr_pool_t *p)
{
    int k;

    EACH_MD(mx, m) for (k = 0; k < m->certs->nelts; ++k) {
        const md_status_cert_t *c = APR_ARRAY_IDX(m->certs, k, const md_status_cert_t *);
        apr_time_t t = which == 0 ? c->valid_from : which == 1 ? c->valid_until
                       : which == 2 ? c->ocsp_from : c->ocsp_until;
        if (which >= 2 && !c->ocsp_status) continue;
        sample_time(mx, name, apr_psprintf(p, "md=\"%s\",key=\"%s\"", label(p, m->name),
                    label(p, c->name)), t);
    }
}

static void cert_families(metrics_t *mx, apr_pool_t *p)
{
    /* in the order of cert_family()'s "which" */
    static const struct { const char *name, *help; } F[] = {
        { "mod_md_certificate_not_before_seconds",
          "Start of validity (notBefore) of the served certificate, per key type." },
        { "mod_md_certificate_not_after_seconds",
          "End of validity (notAfter) of the served certificate, per key type." },
        { "mod_md_ocsp_response_valid_from_seconds",
          "Start of validity (thisUpdate) of the OCSP response stapled for the certificate." },
        { "mod_md_ocsp_response_valid_until_seconds",
          "End of validity (nextUpdate) of the OCSP response stapled for the certificate." },
    };
    int i;

    for (i = 0; i < (int)(sizeof(F) / sizeof(F[0])); ++i) {
        family(mx, F[i].name, "gauge", F[i].help);
        cert_family(mx, F[i].name, i, p);
    }
}

static void counters(metrics_t *mx)
{
    static const struct { md_stat_t stat; const char *name, *help; } C[] = {
        { MD_STAT_ORDERS, "mod_md_acme_orders_total", "ACME orders created." },
        { MD_STAT_CHALLENGES, "mod_md_acme_challenges_total", "ACME authorizations answered with a challenge." },
        { MD_STAT_ERRORS, "mod_md_renewal_errors_total", "Renewal runs that failed." },
        { MD_STAT_RATE_LIMITED, "mod_md_acme_rate_limited_total", "Answers of the CA that said: rate limited." },
    };
    size_t i;

    for (i = 0; i < sizeof(C) / sizeof(C[0]); ++i) {
        family(mx, C[i].name, "counter", C[i].help);
        ap_rprintf(mx->r, "%s %" APR_UINT64_T_FMT "\n", C[i].name,
                   mx->view ? mx->view->stats[C[i].stat] : (apr_uint64_t)0);
    }
}

/* MDStore etcd: the farm's view (md_mod_farm_status.c), from the file the renewal
 * watchdog writes at each look at the engine. */
static void farm_engine(metrics_t *mx, const md_json_t *farm)
{
    family(mx, "mod_md_farm_engine_up", "gauge", "1 when the farm's etcd answered the last look "
           "(every few seconds), 0 when it could not be reached.");
    ap_rprintf(mx->r, "mod_md_farm_engine_up %d\n", md_json_getb(farm, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL));
    family(mx, "mod_md_farm_engine_since_seconds", "gauge",
           "Since when the farm's etcd has been reachable, or unreachable.");
    ap_rprintf(mx->r, "mod_md_farm_engine_since_seconds %" APR_INT64_T_FMT "\n",
               apr_time_sec(md_time_parse(md_json_gets(farm, MD_KEY_ENGINE, MD_KEY_SINCE, NULL))));
    family(mx, "mod_md_farm_view_timestamp_seconds", "gauge",
           "When this node last looked at the farm's etcd.");
    ap_rprintf(mx->r, "mod_md_farm_view_timestamp_seconds %" APR_INT64_T_FMT "\n",
               apr_time_sec(md_time_parse(md_json_gets(farm, MD_KEY_WRITTEN, NULL))));
}

static void farm_mds(metrics_t *mx, const md_json_t *farm, apr_pool_t *p)
{
    static const struct { const char *name, *key, *help; } G[] = {
        { "mod_md_farm_generation", MD_KEY_GENERATION,
          "The generation of the managed domain's set the farm published last (0: none)." },
        { "mod_md_farm_local_generation", MD_KEY_LOCAL_GENERATION,
          "The generation of the managed domain's set this node has (pulled or published)." },
    };
    apr_array_header_t *names = md_json_keys(farm, p, MD_KEY_MDS, NULL);
    const char *name, *holder;
    size_t g;
    int i;

    for (g = 0; g < sizeof(G) / sizeof(G[0]); ++g) {
        family(mx, G[g].name, "gauge", G[g].help);
        for (i = 0; names && i < names->nelts; ++i) {
            name = APR_ARRAY_IDX(names, i, const char *);
            ap_rprintf(mx->r, "%s{md=\"%s\"} %ld\n", G[g].name, label(p, name),
                       md_json_getl(farm, MD_KEY_MDS, name, G[g].key, NULL));
        }
    }
    family(mx, "mod_md_farm_lock_held", "gauge",
           "1 for the node that holds the managed domain's farm lock (renews it), if any.");
    for (i = 0; names && i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        holder = md_json_gets(farm, MD_KEY_MDS, name, MD_KEY_LOCK_HOLDER, NULL);
        if (holder) ap_rprintf(mx->r, "mod_md_farm_lock_held{md=\"%s\",node=\"%s\"} 1\n",
                               label(p, name), label(p, holder));
    }
}

static void farm_nodes(metrics_t *mx, const md_json_t *farm, apr_pool_t *p)
{
    md_json_t *nodes = md_json_getj(farm, MD_KEY_NODES, NULL), *n;
    apr_size_t k, count = nodes ? md_json_array_len(nodes) : 0;
    apr_array_header_t *mds;
    const char *node, *name;
    int i;

    family(mx, "mod_md_farm_nodes", "gauge", "Nodes of the farm with a live record in etcd.");
    ap_rprintf(mx->r, "mod_md_farm_nodes %lu\n", (unsigned long)count);
    family(mx, "mod_md_farm_node_generation", "gauge",
           "The generation of the managed domain's set each node of the farm has.");
    for (k = 0; k < count; ++k) {
        n = md_json_array_at(nodes, k);
        node = md_json_gets(n, MD_KEY_NODE, NULL);
        mds = md_json_keys(n, p, MD_KEY_SERVES, NULL);
        for (i = 0; node && mds && i < mds->nelts; ++i) {
            name = APR_ARRAY_IDX(mds, i, const char *);
            ap_rprintf(mx->r, "mod_md_farm_node_generation{node=\"%s\",md=\"%s\"} %ld\n", label(p, node),
                       label(p, name), md_json_getl(n, MD_KEY_SERVES, name, NULL));
        }
    }
}

int md_mod_metrics_handler(request_rec *r)
{
    metrics_t mx;
    md_json_t *farm;

    if (!r->handler || strcmp(r->handler, "md-metrics")) return DECLINED;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    mx.r = r;
    mx.view = md_mod_status_view(r);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    family(&mx, "mod_md_info", "gauge", "The module's version (value 1).");
    ap_rputs("mod_md_info{version=\"" MOD_MD_VERSION "\"} 1\n", r);
    family(&mx, "mod_md_domains", "gauge", "Managed domains configured.");
    ap_rprintf(r, "mod_md_domains %d\n", mx.view ? mx.view->mds->nelts : 0);
    family(&mx, "mod_md_status_snapshot_timestamp_seconds", "gauge",
           "When the status these metrics come from was written.");
    ap_rprintf(r, "mod_md_status_snapshot_timestamp_seconds %" APR_INT64_T_FMT "\n",
               mx.view ? apr_time_sec(mx.view->written) : (apr_int64_t)0);
    md_families(&mx, r->pool);
    cert_families(&mx, r->pool);
    counters(&mx);
    farm = md_mod_farm_status_load(r->pool);
    if (farm) {
        farm_engine(&mx, farm);
        farm_mds(&mx, farm, r->pool);
        farm_nodes(&mx, farm, r->pool);
    }
    return OK;
}
