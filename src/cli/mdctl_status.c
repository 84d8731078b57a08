/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl status (alias list): every MD in a table, or as JSON with md-status's field names.
 *
 *   mdctl status [--json] [--store | --server URL [--host NAME]] [NAME...]
 *
 * The running server's view (its md-status handler, asked on this machine) when the
 * configuration has one that answers, else the store's view, computed here from the
 * store the way the server computes it at start (md_status_md_json). The output says
 * which one it shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "md_http.h"
#include "md_json_keys.h"
#include "md_request.h"
#include "md_status.h"
#include "md_util.h"
#include "mdctl.h"
#include "md_time.h"

#define SERVER_TIMEOUT apr_time_from_sec(5)
#define SERVER_MAX_BODY (256 * 1024 * 1024)   /* 10,000 MDs are about 10 MB */

typedef struct {
    mdctl_t *ctl;
    int json, store_only, color;
    const char *server_url, *server_host;
    apr_array_header_t *names;      /* const char*: only these MDs */
    /* what is shown */
    md_json_t *doc;                 /* {"managed-domains": [...]}, md-status's form */
    const char *source;             /* "server" or "store" */
    const char *source_text;        /* for people: which view and why */
    apr_array_header_t *pending;    /* md_request_t*: requests not yet taken */
} status_t;

enum { C_NONE, C_GREEN, C_YELLOW, C_RED, C_BOLD };

static const char *paint(const status_t *st, int color, const char *text, apr_pool_t *p)
{
    static const char *const codes[] = { "", "32", "33", "31", "1" };

    if (!st->color || color == C_NONE) return text;
    return apr_pstrcat(p, "\033[", codes[color], "m", text, "\033[0m", NULL);
}

/* "2027-02-26 14:37" (UTC), or "-". */
static const char *when(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t tm;

    if (t <= 0 || apr_time_exp_gmt(&tm, t) != APR_SUCCESS) return "-";
    return apr_psprintf(p, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static int options(status_t *st, int argc, const char *const *argv)
{
    int i;

    st->names = apr_array_make(st->ctl->p, 4, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) st->json = 1;
        else if (!strcmp(a, "--store")) st->store_only = 1;
        else if (!strcmp(a, "--server") && i + 1 < argc) st->server_url = argv[++i];
        else if (!strcmp(a, "--host") && i + 1 < argc) st->server_host = argv[++i];
        else if (a[0] == '-') {
            fprintf(stderr, "mdctl status: unknown option %s (see mdctl --help)\n", a);
            return 0;
        }
        else APR_ARRAY_PUSH(st->names, const char *) = a;
    }
    if (st->store_only && st->server_url) {
        fprintf(stderr, "mdctl status: --store and --server exclude each other\n");
        return 0;
    }
    return 1;
}

/* ---- the two views ----------------------------------------------------------------- */

/* GET an md-status handler: the document when it is one, else why not in *perr. */
static md_json_t *server_get(const char *url, const char *host, const char **perr, apr_pool_t *p)
{
    md_http_request_t req = { "GET", url, NULL, NULL, 0 };
    md_http_response_t *resp;
    md_http_config_t cfg;
    md_http_t *http;
    md_json_t *j;
    char buf[120];
    apr_status_t rv;

    memset(&cfg, 0, sizeof(cfg));
    cfg.user_agent = "mdctl";
    cfg.proxy_url = "";                       /* never through http_proxy: it is local */
    cfg.connect_timeout = SERVER_TIMEOUT;
    cfg.timeout = SERVER_TIMEOUT;
    cfg.max_body = SERVER_MAX_BODY;
    cfg.host = host;
    rv = md_http_create(&http, &cfg, p);
    if (rv == APR_SUCCESS) rv = md_http_perform(&resp, http, &req, p);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "%s: %s", url, apr_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    if (resp->status != 200) {
        *perr = apr_psprintf(p, "%s: HTTP status %d", url, resp->status);
        return NULL;
    }
    if (md_json_parse(&j, resp->body, resp->body_len, p) != APR_SUCCESS
        || !md_json_is_array(j, MD_KEY_MANAGED_DOMAINS, NULL)) {
        *perr = apr_psprintf(p, "%s: not an md-status answer", url);
        return NULL;
    }
    return j;
}

/* The running server's view: --server, or the configured md-status handlers. */
static int server_view(status_t *st, const char **pwhy)
{
    apr_pool_t *p = st->ctl->p;
    const apr_array_header_t *urls = st->ctl->where->status_urls;
    apr_array_header_t *errs = apr_array_make(p, 2, sizeof(const char *));
    const char *err = NULL;
    int i;

    if (st->server_url) {
        st->doc = server_get(st->server_url, st->server_host, &err, p);
        if (!st->doc) *pwhy = err;
        else st->source_text = apr_pstrcat(p, "the running server (", st->server_url, ")", NULL);
        return st->doc != NULL;
    }
    for (i = 0; i < urls->nelts; ++i) {
        const mdctl_status_url_t *u = APR_ARRAY_IDX(urls, i, const mdctl_status_url_t *);
        st->doc = server_get(u->url, u->host, &err, p);
        if (st->doc) {
            st->source_text = apr_pstrcat(p, "the running server (", u->url,
                                          u->host ? ", Host " : "", u->host ? u->host : "",
                                          ")", NULL);
            return 1;
        }
        APR_ARRAY_PUSH(errs, const char *) = err;
    }
    if (!st->ctl->where->conf_file) *pwhy = "no Apache configuration read; -f FILE names one";
    else if (!urls->nelts) *pwhy = apr_pstrcat(p, "no plain-http <Location> with 'SetHandler "
                                               "md-status' in ", st->ctl->where->conf_file,
                                               " and its includes", NULL);
    else *pwhy = md_array_str_join(errs, "; ", p);
    return 0;
}

/* The store's view: each MD's status as the server computes it at start. */
static int store_view(status_t *st)
{
    apr_pool_t *p = st->ctl->p;
    apr_array_header_t *mds = mdctl_md_all(st->ctl, p);
    md_json_t *list = md_json_create_array(p), *j;
    int i;

    for (i = 0; i < mds->nelts; ++i) {
        if (md_status_md_json(&j, APR_ARRAY_IDX(mds, i, md_t *), st->ctl->store, 0, p)
            == APR_SUCCESS) {
            md_json_array_append(list, j);
        }
    }
    st->doc = md_json_create(p);
    md_json_setj(list, st->doc, MD_KEY_MANAGED_DOMAINS, NULL);
    return 1;
}

/* ---- one MD ------------------------------------------------------------------------ */

typedef struct {
    const char *name, *names, *keys, *valid_until, *next, *state, *error;
    int state_color;
} row_t;

static int md_matches(const md_json_t *mdj, const apr_array_header_t *names, apr_pool_t *p)
{
    apr_array_header_t *domains = md_json_getsa(mdj, p, MD_KEY_DOMAINS, NULL);
    int i;

    if (!names->nelts) return 1;
    for (i = 0; i < names->nelts; ++i) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        const char *mdname = md_json_gets(mdj, MD_KEY_NAME, NULL);
        if ((mdname && !strcasecmp(mdname, n)) || md_array_str_index(domains, n, 0) >= 0) return 1;
    }
    return 0;
}

static const md_request_t *pending_for(const status_t *st, const char *name)
{
    int i;

    for (i = 0; st->pending && i < st->pending->nelts; ++i) {
        const md_request_t *r = APR_ARRAY_IDX(st->pending, i, const md_request_t *);
        if (!strcmp(r->name, name)) return r;
    }
    return NULL;
}

/* Key types: those of the certificates served, else those configured. */
static const char *keys_of(const md_json_t *mdj, apr_pool_t *p)
{
    apr_array_header_t *keys = md_json_keys(mdj, p, MD_KEY_CERT, NULL), *out;
    md_t *md;
    int i;

    out = apr_array_make(p, 2, sizeof(const char *));
    for (i = 0; i < keys->nelts; ++i) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);
        if (strcmp(k, MD_KEY_VALID)) APR_ARRAY_PUSH(out, const char *) = k;
    }
    if (!out->nelts && md_from_json(&md, mdj, p) == APR_SUCCESS) {
        for (i = 0; i < md_pkey_spec_count(md); ++i) {
            APR_ARRAY_PUSH(out, const char *) = md_pkey_spec_name(md_pkey_spec_at(md, i));
        }
    }
    return out->nelts ? md_array_str_join(out, ",", p) : "-";
}

/* The state column: the MD's state, then what its renewal is doing. */
static void state_of(row_t *row, const status_t *st, const md_json_t *mdj, apr_pool_t *p)
{
    md_json_t *ren = md_json_getj(mdj, MD_KEY_RENEWAL, NULL);
    apr_time_t until = md_time_parse(md_json_gets(mdj, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_UNTIL, NULL));
    long state = md_json_getl(mdj, MD_KEY_STATE, NULL);
    const char *descr = md_json_gets(mdj, MD_KEY_STATE_DESCR, NULL);
    const md_request_t *req = pending_for(st, row->name);
    long errors = ren ? md_json_getl(ren, MD_KEY_ERRORS, NULL) : 0;

    row->state_color = C_GREEN;
    row->state = "ok";
    if (until && until <= apr_time_now()) {
        row->state = "EXPIRED";
        row->state_color = C_RED;
    }
    else if (state == MD_S_INCOMPLETE) {
        row->state = "no certificate yet";
        row->state_color = C_YELLOW;
    }
    else if (state != MD_S_COMPLETE) {
        row->state = apr_pstrcat(p, md_state_descr((md_state_t)state), descr ? ": " : "",
                                 descr ? descr : "", NULL);
        row->state_color = C_RED;
    }
    if (req) {
        row->state = apr_pstrcat(p, row->state, "; renewal requested, not yet started", NULL);
        if (row->state_color == C_GREEN) row->state_color = C_YELLOW;
    }
    if (!ren) {
        if (md_json_getb(mdj, MD_KEY_RENEW, NULL)) row->state = apr_pstrcat(p, row->state,
                                                                        "; renewal due", NULL);
        return;
    }
    if (md_json_has(ren, MD_KEY_REQUESTED, NULL) && !req) {
        row->state = apr_pstrcat(p, row->state, "; renewal requested ",
                                 when(md_time_parse(md_json_gets(ren, MD_KEY_REQUESTED, MD_KEY_WHEN, NULL)), p),
                                 NULL);
    }
    if (errors > 0) {
        row->state = apr_psprintf(p, "%s; renewal failing (%ld attempts)", row->state, errors);
        row->state_color = C_RED;
    }
    else if (md_json_getb(ren, MD_KEY_FINISHED, NULL)) {
        row->state = apr_pstrcat(p, row->state, "; renewed, live after the next graceful "
                                 "restart", NULL);
        if (row->state_color == C_GREEN) row->state_color = C_YELLOW;
    }
    else {
        row->state = apr_pstrcat(p, row->state, "; renewing", NULL);
        if (row->state_color == C_GREEN) row->state_color = C_YELLOW;
    }
}

static row_t *row_of(const status_t *st, const md_json_t *mdj, apr_pool_t *p)
{
    row_t *row = apr_pcalloc(p, sizeof(*row));
    md_json_t *ren = md_json_getj(mdj, MD_KEY_RENEWAL, NULL);
    md_json_t *damage;
    apr_time_t next_run = ren ? md_time_parse(md_json_gets(ren, MD_KEY_NEXT_RUN, NULL)) : 0;
    apr_time_t renew_at = md_time_parse(md_json_gets(mdj, MD_KEY_RENEW_AT, NULL));
    const char *detail, *problem;

    row->name = md_json_gets(mdj, MD_KEY_NAME, NULL);
    if (!row->name) row->name = "?";
    row->names = md_array_str_join(md_json_getsa(mdj, p, MD_KEY_DOMAINS, NULL), ",", p);
    row->keys = keys_of(mdj, p);
    row->valid_until = when(md_time_parse(md_json_gets(mdj, MD_KEY_CERT, MD_KEY_VALID,
                                                       MD_KEY_UNTIL, NULL)), p);
    /* next renewal: a failed one's next try, else the renewal time; due ones "now" */
    if (ren && md_json_getl(ren, MD_KEY_ERRORS, NULL) > 0 && next_run) row->next = when(next_run, p);
    else if (ren && md_json_getb(ren, MD_KEY_FINISHED, NULL)) row->next = "staged";
    else if (!renew_at || renew_at <= apr_time_now()) row->next = "now";
    else row->next = when(renew_at, p);
    if (!md_json_getl(mdj, MD_KEY_RENEW_MODE, NULL)) row->next = "manual";
    state_of(row, st, mdj, p);
    /* last error: the failed renewal's detail and ACME problem; damaged store files */
    row->error = NULL;
    if (ren && md_json_getl(ren, MD_KEY_ERRORS, NULL) > 0) {
        detail = md_json_gets(ren, MD_KEY_LAST, MD_KEY_DETAIL, NULL);
        problem = md_json_gets(ren, MD_KEY_LAST, MD_KEY_PROBLEM, NULL);
        row->error = apr_pstrcat(p, detail ? detail : "failed", problem ? " (" : "",
                                 problem ? problem : "", problem ? ")" : "", NULL);
    }
    damage = md_json_getj(mdj, MD_KEY_STORE_DAMAGE, NULL);
    if (!row->error && damage && md_json_array_len(damage) > 0) {
        md_json_t *d = md_json_array_at(damage, 0);
        row->error = apr_pstrcat(p, "damaged store file ", md_json_gets(d, MD_KEY_PATH, NULL),
                                 ": ", md_json_gets(d, MD_KEY_PROBLEM, NULL), NULL);
    }
    return row;
}

/* ---- output ------------------------------------------------------------------------ */

static void print_json(const status_t *st, apr_array_header_t *mds, apr_pool_t *p)
{
    md_json_t *out = md_json_create(p), *list = md_json_create_array(p), *reqs, *e;
    const char *version = md_json_gets(st->doc, MD_KEY_VERSION, NULL);
    int i;

    md_json_sets(st->source, out, "source", NULL);
    md_json_sets(st->source_text, out, "source-description", NULL);
    if (version) md_json_sets(version, out, MD_KEY_VERSION, NULL);
    for (i = 0; i < mds->nelts; ++i) md_json_array_append(list, APR_ARRAY_IDX(mds, i, md_json_t *));
    md_json_setj(list, out, MD_KEY_MANAGED_DOMAINS, NULL);
    reqs = md_json_create_array(p);
    for (i = 0; st->pending && i < st->pending->nelts; ++i) {
        const md_request_t *r = APR_ARRAY_IDX(st->pending, i, const md_request_t *);
        e = md_json_create(p);
        md_json_sets(r->name, e, MD_KEY_NAME, NULL);
        md_json_sets(r->reason, e, MD_KEY_REASON, NULL);
        md_json_array_append(reqs, e);
    }
    md_json_setj(reqs, out, "pending-requests", NULL);
    printf("%s\n", md_json_dump(out, MD_JSON_INDENT, p));
}

static int width(apr_array_header_t *rows, size_t offset, int min)
{
    int i, w = min;

    for (i = 0; i < rows->nelts; ++i) {
        const char *s = *(const char *const *)((const char *)APR_ARRAY_IDX(rows, i, row_t *) + offset);
        if ((int)strlen(s) > w) w = (int)strlen(s);
    }
    return w;
}

static void print_table(const status_t *st, apr_array_header_t *mds, apr_pool_t *p)
{
    apr_array_header_t *rows = apr_array_make(p, mds->nelts, sizeof(row_t *));
    int i, wn, wk, wv, wx;

    for (i = 0; i < mds->nelts; ++i) {
        APR_ARRAY_PUSH(rows, row_t *) = row_of(st, APR_ARRAY_IDX(mds, i, md_json_t *), p);
    }
    printf("%s\n", paint(st, C_BOLD, apr_pstrcat(p, "Showing ", st->source_text, NULL), p));
    if (!rows->nelts) {
        printf("No managed domains%s.\n", st->names->nelts ? " of those names" : "");
        return;
    }
    wn = width(rows, APR_OFFSETOF(row_t, names), 5);
    wk = width(rows, APR_OFFSETOF(row_t, keys), 4);
    wv = width(rows, APR_OFFSETOF(row_t, valid_until), 11);
    wx = width(rows, APR_OFFSETOF(row_t, next), 12);
    printf("%s\n", paint(st, C_BOLD, apr_psprintf(p, "%-*s  %-*s  %-*s  %-*s  %s", wn, "NAMES",
                                                  wk, "KEYS", wv, "VALID UNTIL", wx,
                                                  "NEXT RENEWAL", "STATE"), p));
    for (i = 0; i < rows->nelts; ++i) {
        const row_t *r = APR_ARRAY_IDX(rows, i, const row_t *);
        printf("%-*s  %-*s  %-*s  %-*s  %s\n", wn, r->names, wk, r->keys, wv, r->valid_until,
               wx, r->next, paint(st, r->state_color, r->state, p));
        if (r->error) printf("  %s %s\n", paint(st, C_RED, "last error:", p), r->error);
    }
    printf("Times are UTC. 'mdctl status --json' gives the md-status fields; 'mdctl show NAME' "
           "the stored files.\n");
}

int mdctl_status_cmd(mdctl_t *ctl, int argc, const char *const *argv)
{
    status_t st;
    apr_pool_t *p = ctl->p;
    apr_array_header_t *shown;
    md_json_t *all;
    const char *why = NULL;
    const char *color_env = getenv("NO_COLOR"), *term = getenv("TERM");
    md_json_t *mdj;
    int i, missing = 0;

    memset(&st, 0, sizeof(st));
    st.ctl = ctl;
    if (!options(&st, argc, argv)) return MDCTL_USAGE;
    st.color = !st.json && isatty(1) && !(color_env && *color_env) && !(term && !strcmp(term, "dumb"));
    /* 1. the running server's view, else the store's */
    if (!st.store_only && server_view(&st, &why)) {
        st.source = "server";
    }
    else if (st.server_url) {
        fprintf(stderr, "mdctl status: the server did not answer: %s\n"
                "  Check the URL, that the location has 'SetHandler md-status' and allows "
                "this machine, or leave out --server to see the store.\n", why);
        return MDCTL_FAILED;
    }
    else if (!ctl->store) {
        return mdctl_no_store(ctl);
    }
    else {
        store_view(&st);
        st.source = "store";
        st.source_text = apr_pstrcat(p, "the store ", md_store_base(ctl->store),
                                     st.store_only ? "" : " (the running server's md-status "
                                     "was not available: ", st.store_only ? "" : why,
                                     st.store_only ? "" : ")", NULL);
    }
    /* 2. requests the watchdog has not taken yet */
    if (ctl->store) st.pending = md_request_pending(ctl->store, p);
    /* 3. the MDs asked for */
    all = md_json_getj(st.doc, MD_KEY_MANAGED_DOMAINS, NULL);
    shown = apr_array_make(p, 10, sizeof(md_json_t *));
    for (i = 0; all && (apr_size_t)i < md_json_array_len(all); ++i) {
        mdj = md_json_array_at(all, (apr_size_t)i);
        if (md_matches(mdj, st.names, p)) APR_ARRAY_PUSH(shown, md_json_t *) = mdj;
    }
    for (i = 0; i < st.names->nelts; ++i) {
        apr_array_header_t *one = apr_array_make(p, 1, sizeof(const char *));
        int k, found = 0;
        APR_ARRAY_PUSH(one, const char *) = APR_ARRAY_IDX(st.names, i, const char *);
        for (k = 0; k < shown->nelts; ++k) found |= md_matches(APR_ARRAY_IDX(shown, k, md_json_t *), one, p);
        if (!found) {
            fprintf(stderr, "mdctl status: no managed domain has the name %s ('mdctl status' "
                    "lists them all)\n", APR_ARRAY_IDX(st.names, i, const char *));
            missing = 1;
        }
    }
    /* 4. out */
    if (st.json) print_json(&st, shown, p);
    else print_table(&st, shown, p);
    return missing ? MDCTL_FAILED : MDCTL_OK;
}
