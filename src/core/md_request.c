/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Renewal requests through the marker staging/.renew-requests (md_request.h). */
#include <string.h>
#include <apr_strings.h>

#include "md_request.h"

/* One line of printable text: tabs, line ends and other control bytes become blanks. */
static const char *reason_clean(const char *why, apr_pool_t *p)
{
    char *s;
    apr_size_t i;

    if (!why) return "";
    s = apr_pstrndup(p, why, MD_REQUEST_REASON_MAX);
    for (i = 0; s[i]; ++i) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) s[i] = ' ';
    }
    return s;
}

/* A name the store would take as a folder of staging/: no separators, not "." or "..". */
static int name_ok(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

apr_status_t md_request_add(md_store_t *store, const char *name, const char *why,
                            apr_pool_t *p)
{
    const char *reason = reason_clean(why, p);

    if (!name_ok(name) || strpbrk(name, "\t\r\n")) return APR_EINVAL;
    return md_store_append_text(store, MD_SG_STAGING, NULL, MD_FN_RENEW_REQUESTS,
                                apr_pstrcat(p, name, *reason ? "\t" : "", reason, "\n", NULL), p);
}

apr_array_header_t *md_request_parse(const char *text, apr_pool_t *p)
{
    apr_array_header_t *reqs = apr_array_make(p, 5, sizeof(md_request_t *));
    char *copy, *line, *state = NULL, *tab;
    md_request_t *req;

    if (!text) return reqs;
    copy = apr_pstrdup(p, text);
    for (line = apr_strtok(copy, "\r\n", &state); line; line = apr_strtok(NULL, "\r\n", &state)) {
        tab = strchr(line, '\t');
        if (tab) *tab = '\0';
        if (!name_ok(line)) continue;
        req = apr_pcalloc(p, sizeof(*req));
        req->name = line;
        req->reason = tab ? tab + 1 : "";
        APR_ARRAY_PUSH(reqs, md_request_t *) = req;
    }
    return reqs;
}

/* The requests in staging/, read (and removed when take is set). */
static apr_array_header_t *requests_read(md_store_t *store, int take, apr_pool_t *p)
{
    const char *text = NULL;
    apr_status_t rv = take ? md_store_take_text(&text, store, MD_SG_STAGING, NULL,
                                                MD_FN_RENEW_REQUESTS, p)
                           : md_store_load_text(&text, store, MD_SG_STAGING, NULL,
                                                MD_FN_RENEW_REQUESTS, p);

    return md_request_parse(rv == APR_SUCCESS ? text : NULL, p);
}

apr_array_header_t *md_request_pending(md_store_t *store, apr_pool_t *p)
{
    return requests_read(store, 0, p);
}

apr_array_header_t *md_request_take(md_store_t *store, apr_pool_t *p)
{
    return requests_read(store, 1, p);
}
