/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The managed domains in mod_status's server-status page: the "Managed Certificates"
 * table and the OCSP stapling table, and their ?auto lines. Everything comes from the
 * status view (md_mod_status.c); nothing here reads the store. */
#include <string.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "md_mod.h"
#include "md_json_keys.h"
#include "md_status.h"
#include "md_util.h"
#include "md_time.h"

typedef struct {
    request_rec *r;
    md_mod_conf_t *mc;
    const md_status_view_t *view;
    apr_time_t now;
    int short_form;                 /* ?auto */
} page_t;

/* ---- text pieces -------------------------------------------------------------------- */

static const char *esc(page_t *pg, const char *s)
{
    return s ? ap_escape_html2(pg->r->pool, s, 0) : "";
}

/* A value of a ?auto line, which scripts split at line ends: what a CA or the store
 * said (a problem's detail, a name) must not start a line of its own. */
static const char *line(page_t *pg, const char *s)
{
    char *copy, *c;

    if (!s) return "";
    copy = apr_pstrdup(pg->r->pool, s);
    for (c = copy; *c; ++c) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    }
    return copy;
}

static const char *date_text(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02d", x.tm_year + 1900, x.tm_mon + 1, x.tm_mday);
}

/* "in ~3 days", "~2 hours ago": for a reader, not a parser. */
static const char *when_text(apr_time_t t, apr_time_t now, apr_pool_t *p)
{
    apr_int64_t secs = apr_time_sec(t > now ? t - now : now - t);
    const char *amount;

    if (secs >= 2 * 86400) amount = apr_psprintf(p, "%" APR_INT64_T_FMT " days", secs / 86400);
    else if (secs >= 2 * 3600) amount = apr_psprintf(p, "%" APR_INT64_T_FMT " hours", secs / 3600);
    else if (secs >= 120) amount = apr_psprintf(p, "%" APR_INT64_T_FMT " minutes", secs / 60);
    else amount = apr_psprintf(p, "%" APR_INT64_T_FMT " seconds", secs);
    return t > now ? apr_pstrcat(p, "in ~", amount, NULL) : apr_pstrcat(p, "~", amount, " ago", NULL);
}

static const char *ca_name(const char *url, apr_pool_t *p)
{
    apr_uri_t uri;

    if (!url) return NULL;
    if (apr_uri_parse(p, url, &uri) == APR_SUCCESS && uri.hostname) return uri.hostname;
    return url;
}

static int md_is_good(const page_t *pg, const md_status_md_t *m)
{
    return m->state == MD_S_COMPLETE && m->valid_until > pg->now;
}

static const char *status_text(const page_t *pg, const md_status_md_t *m)
{
    switch (m->state) {
    case MD_S_COMPLETE:
        return m->valid_until > pg->now ? "good" : "expired";
    case MD_S_INCOMPLETE:
        if (m->state_descr && !strncmp(m->state_descr, "incomplete", 10)) return m->state_descr;
        return apr_pstrcat(pg->r->pool, "incomplete: ", m->state_descr ? m->state_descr
                           : "certificate(s) missing", NULL);
    case MD_S_ERROR:
        return "error";
    case MD_S_MISSING_INFORMATION:
        return "missing information";
    default:
        return "unknown";
    }
}

static int md_is_ready(const md_status_md_t *m)
{
    return m->has_job && m->finished && m->staged->nelts > 0;
}

/* ---- ?auto ------------------------------------------------------------------------- */

static void auto_activity(page_t *pg, int i, const md_status_md_t *m)
{
    request_rec *r = pg->r;

    if (m->has_job) {
        if (m->last_status && m->last_status_descr) {
            ap_rprintf(r, "ManagedDomain[%d]ActivityLastStatus: %s\n", i,
                       line(pg, m->last_status_descr));
        }
        if (m->last_problem) {
            ap_rprintf(r, "ManagedDomain[%d]ActivityLastProblem: %s\n", i, line(pg, m->last_problem));
        }
        ap_rprintf(r, "ManagedDomain[%d]ActivityFinished: %s\n", i, m->finished ? "yes" : "no");
        if (m->last_status && m->last_detail) {
            ap_rprintf(r, "ManagedDomain[%d]ActivityLastDetail: %s\n", i, line(pg, m->last_detail));
        }
        if (md_is_ready(m)) ap_rprintf(r, "ManagedDomain[%d]ActivityNewStaged: %d\n", i, m->staged->nelts);
        if (!m->finished && m->next_run > pg->now) {
            ap_rprintf(r, "ManagedDomain[%d]ActivityNextRun: %" APR_INT64_T_FMT "\n", i,
                       apr_time_sec(m->next_run - pg->now));
        }
    }
    else if (m->renew) {
        ap_rprintf(r, "ManagedDomain[%d]Activity: Pending\n", i);
    }
    else if (m->renew_at > pg->now) {
        ap_rprintf(r, "ManagedDomain[%d]ActivityRenew: %" APR_INT64_T_FMT "\n", i,
                   apr_time_sec(m->renew_at - pg->now));
    }
}

static void auto_md(page_t *pg, int i, const md_status_md_t *m)
{
    request_rec *r = pg->r;
    const md_status_cert_t *c;
    int k;

    ap_rprintf(r, "ManagedDomain[%d]Domain: %s\n", i, line(pg, m->name));
    for (k = 0; k < m->domains->nelts; ++k) {
        ap_rprintf(r, "ManagedDomain[%d]Names[%d]: %s\n", i, k,
                   line(pg, APR_ARRAY_IDX(m->domains, k, const char *)));
    }
    ap_rprintf(r, "ManagedDomain[%d]Status: %s\n", i, status_text(pg, m));
    if (m->valid_from > pg->now) {
        ap_rprintf(r, "ManagedDomain[%d]ValidFrom: %s\n", i, date_text(m->valid_from, r->pool));
    }
    if (m->valid_until) {
        ap_rprintf(r, "ManagedDomain[%d]ValidUntil: %s\n", i, date_text(m->valid_until, r->pool));
    }
    if (m->ca_url) {
        ap_rprintf(r, "ManagedDomain[%d]CAName: %s\n", i, line(pg, ca_name(m->ca_url, r->pool)));
        ap_rprintf(r, "ManagedDomain[%d]CAURL: %s\n", i, line(pg, m->ca_url));
    }
    if (m->stapling) ap_rprintf(r, "ManagedDomain[%d]Stapling: on\n", i);
    /* the first certificate's check link, under today's keys */
    c = m->certs->nelts ? APR_ARRAY_IDX(m->certs, 0, const md_status_cert_t *) : NULL;
    if (c && c->sha256) {
        ap_rprintf(r, "ManagedDomain[%d]CheckAtType: %s\n", i, c->name);
        ap_rprintf(r, "ManagedDomain[%d]CheckAtName: %s\n", i, pg->mc->cert_check_name);
        ap_rprintf(r, "ManagedDomain[%d]CheckAtURL: %s%s\n", i, pg->mc->cert_check_url, c->sha256);
        ap_rprintf(r, "ManagedDomain[%d]CheckAtFingerprint: %s\n", i, c->sha256);
    }
    auto_activity(pg, i, m);
    for (k = 0; k < m->damage->nelts; ++k) {
        ap_rprintf(r, "ManagedDomain[%d]StoreDamage[%d]: %s\n", i, k,
                   line(pg, APR_ARRAY_IDX(m->damage, k, const char *)));
    }
}

static void auto_summary(page_t *pg)
{
    const apr_array_header_t *mds = pg->view ? pg->view->mds : NULL;
    int i, ok = 0, renew = 0, errored = 0, ready = 0, n = mds ? mds->nelts : 0;

    for (i = 0; i < n; ++i) {
        const md_status_md_t *m = APR_ARRAY_IDX(mds, i, const md_status_md_t *);
        ok += md_is_good(pg, m);
        renew += m->renew;
        errored += m->has_job && m->errors > 0;
        ready += md_is_ready(m);
    }
    ap_rprintf(pg->r, "ManagedCertificatesTotal: %d\nManagedCertificatesOK: %d\n"
               "ManagedCertificatesRenew: %d\nManagedCertificatesErrored: %d\n"
               "ManagedCertificatesReady: %d\n", n, ok, renew, errored, ready);
    for (i = 0; i < n; ++i) auto_md(pg, i, APR_ARRAY_IDX(mds, i, const md_status_md_t *));
}

/* ---- HTML ---------------------------------------------------------------------------- */

static void html_valid(page_t *pg, const md_status_md_t *m)
{
    request_rec *r = pg->r;
    if (!m->valid_until) return;
    ap_rputs(m->valid_from > pg->now ? "from " : "until ", r);
    ap_rprintf(r, "<span title='%s - %s' style='white-space: nowrap;'>%s</span>",
               md_time_print(m->valid_from, r->pool), md_time_print(m->valid_until, r->pool),
               date_text(m->valid_from > pg->now ? m->valid_from : m->valid_until, r->pool));
}

static void html_check_at(page_t *pg, const md_status_md_t *m)
{
    int k;

    for (k = 0; k < m->certs->nelts; ++k) {
        const md_status_cert_t *c = APR_ARRAY_IDX(m->certs, k, const md_status_cert_t *);
        if (!c->sha256) continue;
        ap_rprintf(pg->r, "<a href=\"%s%s\">%s[%s]</a><br>", esc(pg, pg->mc->cert_check_url),
                   esc(pg, c->sha256), esc(pg, pg->mc->cert_check_name), esc(pg, c->name));
    }
}

static void html_activity(page_t *pg, const md_status_md_t *m)
{
    request_rec *r = pg->r;

    if (m->has_job && m->errors > 0) {
        ap_rprintf(r, "Error[%s]: %s %s<br>", esc(pg, m->last_status_descr ? m->last_status_descr : "failed"),
                   esc(pg, m->last_problem), esc(pg, m->last_detail));
        if (m->next_run > pg->now) {
            ap_rprintf(r, "Next run <span title='%s'>%s</span>", md_time_print(m->next_run, r->pool),
                       when_text(m->next_run, pg->now, r->pool));
        }
    }
    else if (md_is_ready(m)) {
        ap_rprintf(r, "finished, %d new certificate(s) staged, active after the next (graceful) "
                   "restart", m->staged->nelts);
    }
    else if (m->has_job || m->renew) {
        ap_rputs(m->has_job && m->last_run ? "Ongoing" : "Pending", r);
    }
    else if (m->renew_at) {
        ap_rprintf(r, "Renew <span title='%s' style='white-space: nowrap;'>%s</span>%s",
                   md_time_print(m->renew_at, r->pool), date_text(m->renew_at, r->pool),
                   m->renew_reason && !strcmp(m->renew_reason, "ari") ? " (ARI)" : "");
    }
}

static void html_md(page_t *pg, int i, const md_status_md_t *m)
{
    request_rec *r = pg->r;
    const char *names = "";
    int k;

    for (k = 0; k < m->domains->nelts; ++k) {
        names = apr_pstrcat(r->pool, names, k ? ", " : "", esc(pg, APR_ARRAY_IDX(m->domains, k, const char *)), NULL);
    }
    ap_rprintf(r, "<tr class=\"%s\"><td>%s</td><td><div style=\"max-width:400px;\">%s</div></td>"
               "<td>%s</td><td>", (i % 2) ? "odd" : "even", esc(pg, m->name), names,
               esc(pg, status_text(pg, m)));
    html_valid(pg, m);
    ap_rputs("</td><td>", r);
    if (m->ca_url) ap_rprintf(r, "<a href='%s'>%s</a>", esc(pg, m->ca_url), esc(pg, ca_name(m->ca_url, r->pool)));
    ap_rprintf(r, "</td><td>%s</td><td>", m->stapling ? "on" : "");
    html_check_at(pg, m);
    ap_rputs("</td><td>", r);
    html_activity(pg, m);
    for (k = 0; k < m->damage->nelts; ++k) {
        ap_rprintf(r, "<br>Damaged: %s", esc(pg, APR_ARRAY_IDX(m->damage, k, const char *)));
    }
    ap_rputs("</td></tr>\n", r);
}

static void html_table(page_t *pg)
{
    static const char *const COLS[] = { "Domain", "Names", "Status", "Valid", "CA", "Stapling",
                                        "CheckAt", "Activity" };
    int i;

    ap_rputs("<hr>\n<h3>Managed Certificates</h3>\n<table class='md_status'><thead><tr>", pg->r);
    for (i = 0; i < (int)(sizeof(COLS) / sizeof(COLS[0])); ++i) {
        ap_rprintf(pg->r, "<th class=\"%s\">%s</th>", COLS[i], COLS[i]);
    }
    ap_rputs("</tr></thead><tbody>\n", pg->r);
    for (i = 0; pg->view && i < pg->view->mds->nelts; ++i) {
        html_md(pg, i, APR_ARRAY_IDX(pg->view->mds, i, const md_status_md_t *));
    }
    ap_rputs("</tbody></table>\n", pg->r);
}

/* ---- OCSP stapling --------------------------------------------------------------------- */

/* Responses whose refresh is due by MDStaplingRenewWindow. */
static int ocsp_due(const page_t *pg, const md_status_cert_t *c)
{
    return !c->ocsp_until
           || pg->now >= c->ocsp_until - md_timeslice_length(&pg->mc->staple_renew_window,
                                                             c->ocsp_from, c->ocsp_until);
}

/* The OCSP responses of the served certificates ("ocsp" in each certificate's status,
 * filled in by the stapling code): a table, or counters labelled for what they count:
 * OK (good), Revoked, Unknown, Renew (refresh due) and Errored (last fetch failed).
 * Today's module printed revoked ones as "Renew" and unknown ones as "Errored". */
static void ocsp_section(page_t *pg)
{
    int i, k, n = 0, good = 0, revoked = 0, unknown = 0, due = 0, errored = 0;

    for (i = 0; pg->view && i < pg->view->mds->nelts; ++i) {
        const md_status_md_t *m = APR_ARRAY_IDX(pg->view->mds, i, const md_status_md_t *);
        for (k = 0; k < m->certs->nelts; ++k) {
            const md_status_cert_t *c = APR_ARRAY_IDX(m->certs, k, const md_status_cert_t *);
            if (!c->ocsp_status) continue;
            if (!n && !pg->short_form) {
                ap_rputs("<hr>\n<h3>Managed Staplings</h3>\n<table class='md_ocsp_status'><thead><tr>"
                         "<th>Domain</th><th>CertificateID</th><th>OCSPStatus</th><th>StaplingValid</th>"
                         "<th>Responder</th><th>Activity</th></tr></thead><tbody>\n", pg->r);
            }
            ++n;
            good += !strcmp(c->ocsp_status, "good");
            revoked += !strcmp(c->ocsp_status, "revoked");
            unknown += !strcmp(c->ocsp_status, "unknown");
            due += ocsp_due(pg, c);
            errored += c->ocsp_errors > 0;
            if (pg->short_form) continue;
            ap_rprintf(pg->r, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                       esc(pg, m->name), esc(pg, c->ari_id ? c->ari_id : c->serial), esc(pg, c->ocsp_status),
                       c->ocsp_until ? date_text(c->ocsp_until, pg->r->pool) : "",
                       esc(pg, c->ocsp_responder), c->ocsp_errors ? "errored" : (ocsp_due(pg, c) ? "renew" : ""));
        }
    }
    if (pg->short_form) {
        ap_rprintf(pg->r, "ManagedStaplingsTotal: %d\nManagedStaplingsOK: %d\nManagedStaplingsRevoked: %d\n"
                   "ManagedStaplingsUnknown: %d\nManagedStaplingsRenew: %d\nManagedStaplingsErrored: %d\n",
                   n, good, revoked, unknown, due, errored);
    }
    else if (n) {
        ap_rputs("</tbody></table>\n", pg->r);
    }
}

/* ---- the farm (MDStore etcd) ------------------------------------------------------- */

/* "n0=3, n1=3": the generation each node has of an MD */
static const char *farm_md_nodes(page_t *pg, const md_json_t *farm, const char *name)
{
    apr_array_header_t *nodes = md_json_keys(farm, pg->r->pool, MD_KEY_MDS, name, MD_KEY_NODES, NULL);
    const char *out = "", *node;
    int k;

    for (k = 0; nodes && k < nodes->nelts; ++k) {
        node = APR_ARRAY_IDX(nodes, k, const char *);
        out = apr_psprintf(pg->r->pool, "%s%s%s=%ld", out, k ? ", " : "", node,
                           md_json_getl(farm, MD_KEY_MDS, name, MD_KEY_NODES, node, NULL));
    }
    return out;
}

static void farm_auto(page_t *pg, const md_json_t *farm, const apr_array_header_t *mds)
{
    md_json_t *nodes = md_json_getj(farm, MD_KEY_NODES, NULL);
    apr_size_t k, n = nodes ? md_json_array_len(nodes) : 0;
    const char *name;
    int i;

    ap_rprintf(pg->r, "FarmStore: etcd\nFarmNode: %s\nFarmEngine: %s\nFarmEngineSince: %s\nFarmNodes: %lu\n",
               line(pg, md_json_gets(farm, MD_KEY_NODE, NULL)),
               md_json_getb(farm, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL) ? "reachable" : "unreachable",
               line(pg, md_json_gets(farm, MD_KEY_ENGINE, MD_KEY_SINCE, NULL)), (unsigned long)n);
    for (k = 0; k < n; ++k) {
        ap_rprintf(pg->r, "FarmNode[%lu]: %s\n", (unsigned long)k,
                   line(pg, md_json_gets(md_json_array_at(nodes, k), MD_KEY_NODE, NULL)));
    }
    for (i = 0; mds && i < mds->nelts; ++i) {
        name = APR_ARRAY_IDX(mds, i, const char *);
        ap_rprintf(pg->r, "FarmDomain[%d]Name: %s\nFarmDomain[%d]Generation: %ld\n"
                   "FarmDomain[%d]LocalGeneration: %ld\nFarmDomain[%d]Nodes: %s\n", i, line(pg, name),
                   i, md_json_getl(farm, MD_KEY_MDS, name, MD_KEY_GENERATION, NULL),
                   i, md_json_getl(farm, MD_KEY_MDS, name, MD_KEY_LOCAL_GENERATION, NULL),
                   i, line(pg, farm_md_nodes(pg, farm, name)));
        if (md_json_gets(farm, MD_KEY_MDS, name, MD_KEY_LOCK_HOLDER, NULL)) {
            ap_rprintf(pg->r, "FarmDomain[%d]LockHolder: %s\n", i,
                       line(pg, md_json_gets(farm, MD_KEY_MDS, name, MD_KEY_LOCK_HOLDER, NULL)));
        }
    }
}

static void farm_html(page_t *pg, const md_json_t *farm, const apr_array_header_t *mds)
{
    request_rec *r = pg->r;
    const char *name;
    int i;

    ap_rprintf(r, "<hr>\n<h3>Farm</h3>\n<p>This node: %s; etcd %s since %s</p>\n"
               "<table class='md_farm'><thead><tr><th>Domain</th><th>Farm generation</th>"
               "<th>This node</th><th>Renewed by</th><th>Nodes</th></tr></thead><tbody>\n",
               esc(pg, md_json_gets(farm, MD_KEY_NODE, NULL)),
               md_json_getb(farm, MD_KEY_ENGINE, MD_KEY_REACHABLE, NULL) ? "reachable" : "unreachable",
               esc(pg, md_json_gets(farm, MD_KEY_ENGINE, MD_KEY_SINCE, NULL)));
    for (i = 0; mds && i < mds->nelts; ++i) {
        name = APR_ARRAY_IDX(mds, i, const char *);
        ap_rprintf(r, "<tr><td>%s</td><td>%ld</td><td>%ld</td><td>%s</td><td>%s</td></tr>\n", esc(pg, name),
                   md_json_getl(farm, MD_KEY_MDS, name, MD_KEY_GENERATION, NULL),
                   md_json_getl(farm, MD_KEY_MDS, name, MD_KEY_LOCAL_GENERATION, NULL),
                   esc(pg, md_json_gets(farm, MD_KEY_MDS, name, MD_KEY_LOCK_HOLDER, NULL)),
                   esc(pg, farm_md_nodes(pg, farm, name)));
    }
    ap_rputs("</tbody></table>\n", r);
}

static void farm_section(page_t *pg)
{
    md_json_t *farm = md_mod_farm_status_load(pg->r->pool);
    apr_array_header_t *mds;

    if (!farm) return;
    mds = md_json_keys(farm, pg->r->pool, MD_KEY_MDS, NULL);
    if (pg->short_form) farm_auto(pg, farm, mds);
    else farm_html(pg, farm, mds);
}

int md_mod_server_status_hook(request_rec *r, int flags)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    page_t pg;

    if (!mc->server_status || !mc->mds->nelts) return OK;
    pg.r = r;
    pg.mc = mc;
    pg.view = md_mod_status_view(r);
    pg.now = apr_time_now();
    pg.short_form = (flags & AP_STATUS_SHORT) != 0;
    if (pg.short_form) auto_summary(&pg);
    else html_table(&pg);
    ocsp_section(&pg);
    farm_section(&pg);
    return OK;
}
