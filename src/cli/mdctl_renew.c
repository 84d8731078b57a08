/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl renew: ask the running server to renew MDs now, without a restart.
 *
 *   mdctl renew [--reason TEXT] NAME...
 *   mdctl renew [--reason TEXT] --all
 *
 * A line per MD goes into staging/.renew-requests (md_request.h), written as the
 * store's owner would write it: the renewal watchdog, an unprivileged child, takes the
 * file away within a second, renews those MDs at once (window and backoff do not hold
 * it back) and records the request in the MD's job (status: renewal.requested). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pwd.h>
#include <apr_strings.h>
#include <apr_file_info.h>

#include "md_json_keys.h"
#include "md_renew.h"
#include "md_request.h"
#include "md_util.h"
#include "mdctl.h"

typedef struct {
    int all;
    const char *why;
    apr_array_header_t *names;  /* const char* */
} renew_opts_t;

static int options(renew_opts_t *o, int argc, const char *const *argv, apr_pool_t *p)
{
    int i;

    o->names = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--all")) o->all = 1;
        else if (!strcmp(a, "--reason") && i + 1 < argc) o->why = argv[++i];
        else if (a[0] == '-') {
            fprintf(stderr, "mdctl renew: unknown option %s\n", a);
            return 0;
        }
        else APR_ARRAY_PUSH(o->names, const char *) = a;
    }
    if (o->all == (o->names->nelts > 0)) {
        fprintf(stderr, "mdctl renew: name the MDs to renew, or give --all\n");
        return 0;
    }
    return 1;
}

/* Who asks: the user behind sudo, else the one running mdctl. */
static const char *requester(apr_pool_t *p)
{
    const char *sudo = getenv("SUDO_USER");
    struct passwd *pw;

    if (sudo && *sudo) return sudo;
    pw = getpwuid(getuid());
    return pw ? apr_pstrdup(p, pw->pw_name) : apr_psprintf(p, "uid %ld", (long)getuid());
}

/* Write as the store's owner: staging/ belongs to the children's user (MDStoreOwner or
 * the server's User) and so must the marker, or the watchdog could not take it away. */
static apr_status_t owner_take(mdctl_t *ctl)
{
    apr_finfo_t info;
    apr_status_t rv;

    rv = md_store_info(&info, ctl->store, MD_SG_STAGING, NULL, NULL, ctl->p);
    if (rv != APR_SUCCESS || info.filetype != APR_DIR) {
        fprintf(stderr, "mdctl renew: the store %s has no staging/ folder yet: the server has "
                "not started with this store. Start Apache (apache2ctl start); an MD without "
                "a certificate is renewed at once anyway.\n", md_store_base(ctl->store));
        return APR_ENOENT;
    }
    if (getuid() == 0) {
        md_store_set_owner(ctl->store, (int)info.user, (int)info.group,
                           (info.protection & APR_FPROT_GWRITE) != 0);
    }
    return APR_SUCCESS;
}

/* One MD: checked, then the request written. */
static int renew_one(mdctl_t *ctl, md_t *md, const char *why)
{
    apr_pool_t *p = ctl->p;
    apr_status_t rv;
    char buf[120];
    int staged;

    if (md->renew_mode == MD_RENEW_MANUAL) {
        fprintf(stderr, "mdctl renew: %s has MDRenewMode manual: the server does not renew "
                "it. Set 'MDRenewMode auto' for it and restart, or renew it yourself.\n",
                md->name);
        return MDCTL_FAILED;
    }
    staged = md_renew_staging_complete(ctl->store, md, p);
    rv = md_request_add(ctl->store, md->name, why, p);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "mdctl renew: %s: could not write %s/staging/%s: %s. Run mdctl as "
                "root or as the store's owner.\n", md->name, md_store_base(ctl->store),
                MD_FN_RENEW_REQUESTS, apr_strerror(rv, buf, sizeof(buf)));
        return MDCTL_FAILED;
    }
    printf("%s: renewal requested. The running server starts it within a second, without a "
           "restart; 'mdctl status %s' shows it. A stopped server renews it when it starts.\n",
           md->name, md->name);
    if (staged) {
        printf("%s: a renewed set is staged already. With MDActivation live (the default) the "
               "server serves it and renews it again now; with MDActivation restart it renews "
               "nothing and the staged set goes live at the next graceful restart.\n", md->name);
    }
    return MDCTL_OK;
}

int mdctl_renew_cmd(mdctl_t *ctl, int argc, const char *const *argv)
{
    apr_pool_t *p = ctl->p;
    renew_opts_t o;
    apr_array_header_t *mds;
    const char *why;
    md_t *md;
    int i, rc = MDCTL_OK, one;

    memset(&o, 0, sizeof(o));
    if (!options(&o, argc, argv, p)) return MDCTL_USAGE;
    if (!ctl->store) return mdctl_no_store(ctl);
    /* 1. the MDs: all of the store, or those named (by any of their names) */
    if (o.all) {
        mds = mdctl_md_all(ctl, p);
        if (!mds->nelts) {
            fprintf(stderr, "mdctl renew: the store %s has no MDs yet\n", md_store_base(ctl->store));
            return MDCTL_FAILED;
        }
    }
    else {
        mds = apr_array_make(p, o.names->nelts, sizeof(md_t *));
        for (i = 0; i < o.names->nelts; ++i) {
            const char *name = APR_ARRAY_IDX(o.names, i, const char *);
            if (mdctl_md_find(&md, ctl, name, p) != APR_SUCCESS) {
                fprintf(stderr, "mdctl renew: no MD has the name %s in the store %s; 'mdctl "
                        "status' lists them. Nothing requested.\n", name, md_store_base(ctl->store));
                return MDCTL_FAILED;
            }
            APR_ARRAY_PUSH(mds, md_t *) = md;
        }
    }
    /* 2. written as the owner of staging/, with who asked and why */
    if (owner_take(ctl) != APR_SUCCESS) return MDCTL_FAILED;
    why = apr_pstrcat(p, "requested by ", requester(p), " with mdctl renew", o.why ? ": " : "",
                      o.why ? o.why : "", NULL);
    for (i = 0; i < mds->nelts; ++i) {
        one = renew_one(ctl, APR_ARRAY_IDX(mds, i, md_t *), why);
        if (one != MDCTL_OK) rc = one;
    }
    return rc;
}
