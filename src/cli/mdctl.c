/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl: look after a mod_md store without httpd, and ask the running server for things.
 *   mdctl [-d STORE] [-f APACHE_CONF] COMMAND ...   (docs/mdctl.md, mdctl(1))
 *   status|list [--json] [--store|--server URL] [NAME...]   every MD in a table (mdctl_status.c)
 *   renew [--reason TEXT] NAME...|--all                      renew now, no restart (mdctl_renew.c)
 *   check [--resolver ADDR] [--caa DOMAIN] [--no-http] NAME... the preflight (mdctl_check.c)
 *   show NAME                                                one MD's md.json and job.json
 *   farm status|push|pull ...                                MDStore etcd (mdctl_farm.c)
 * and the commands that talk to the CA (revoke, account-*, ari): see mdctl_acme.c.
 * Without -d, the store is found in Apache's configuration (mdctl_find.c).
 */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "md_http.h"
#include "md.h"
#include "md_json_keys.h"
#include "md_store.h"
#include "md_util.h"
#include "mdctl.h"
#include "mdctl_acme.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: mdctl [-d STORE_DIR] [-f APACHE_CONF] COMMAND [ARGS]\n"
            "  The store: -d, else MDStoreDir in APACHE_CONF (default " MDCTL_APACHE_CONF ")\n"
            "  and its includes, else ServerRoot/md. See mdctl(1) or docs/mdctl.md.\n"
            "commands:\n"
            "  status [--json] [--store | --server URL [--host NAME]] [NAME...]\n"
            "                  every MD: names, keys, valid until, next renewal, state, last\n"
            "                  error; the running server's view when it can be had (alias: list)\n"
            "  renew [--reason TEXT] NAME... | --all\n"
            "                  the running server renews these MDs now, without a restart\n"
            "  check [--resolver ADDR[:PORT]] [--caa DOMAIN] [--no-http] NAME...\n"
            "                  the preflight: what would make the CA's validation fail\n"
            "  show MDNAME     the MD's md.json and job.json as stored\n"
            "  farm status [--json] [NAME...] | push [--force] [NAME...] | pull [NAME...]\n"
            "                  MDStore etcd: what the farm holds; a store's active sets into\n"
            "                  the farm; the farm's sets into the store's staging/\n");
    mdctl_acme_usage();
    fprintf(stderr, "exit codes: 0 done, 1 failed (the message says why), 2 usage, "
            "3 no store found, 4 check: a preflight check fails\n");
}

int mdctl_no_store(const mdctl_t *ctl)
{
    fprintf(stderr, "mdctl: no mod_md store found. Looked at:\n  %s\n"
            "Name the store with -d DIR (MDStoreDir of your configuration), or Apache's "
            "configuration with -f FILE.\n", mdctl_find_looked(ctl->where, ctl->p));
    return MDCTL_NO_STORE;
}

static apr_status_t md_load(md_t **pmd, const mdctl_t *ctl, const char *name, apr_pool_t *p)
{
    md_json_t *json;
    apr_status_t rv;

    rv = md_store_load_json(&json, ctl->store, MD_SG_DOMAINS, name, MD_FN_MD, p);
    if (rv == APR_SUCCESS) rv = md_from_json(pmd, json, p);
    return rv;
}

apr_array_header_t *mdctl_md_all(const mdctl_t *ctl, apr_pool_t *p)
{
    apr_array_header_t *names, *mds = apr_array_make(p, 10, sizeof(md_t *));
    md_t *md;
    int i;

    if (md_store_names(&names, ctl->store, MD_SG_DOMAINS, p) != APR_SUCCESS) return mds;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (md_load(&md, ctl, name, p) != APR_SUCCESS) {
            fprintf(stderr, "mdctl: %s: domains/%s/md.json missing or damaged; the server "
                    "writes it again at its next start\n", name, name);
            continue;
        }
        APR_ARRAY_PUSH(mds, md_t *) = md;
    }
    return mds;
}

apr_status_t mdctl_md_find(md_t **pmd, const mdctl_t *ctl, const char *name, apr_pool_t *p)
{
    apr_array_header_t *mds;
    int i;

    if (md_store_dir_exists(ctl->store, MD_SG_DOMAINS, name, p)
        && md_load(pmd, ctl, name, p) == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    mds = mdctl_md_all(ctl, p);
    for (i = 0; i < mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mds, i, md_t *);
        if (md_contains(md, name)) {
            *pmd = md;
            return APR_SUCCESS;
        }
    }
    return APR_ENOENT;
}

static int cmd_show(md_store_t *store, const char *name, apr_pool_t *p)
{
    static const md_store_group_t GROUPS[] = { MD_SG_DOMAINS, MD_SG_STAGING };
    md_json_t *json;
    apr_size_t i;
    int found = 0;

    for (i = 0; i < sizeof(GROUPS) / sizeof(GROUPS[0]); ++i) {
        if (md_store_load_json(&json, store, GROUPS[i], name, MD_FN_MD, p) == APR_SUCCESS) {
            printf("%s/%s/md.json:\n%s\n", md_store_group_name(GROUPS[i]), name,
                   md_json_dump(json, MD_JSON_INDENT, p));
            found = 1;
        }
        if (md_store_load_json(&json, store, GROUPS[i], name, MD_FN_JOB, p) == APR_SUCCESS) {
            printf("%s/%s/job.json:\n%s\n", md_store_group_name(GROUPS[i]), name,
                   md_json_dump(json, MD_JSON_INDENT, p));
        }
    }
    if (!found) fprintf(stderr, "mdctl: no MD named %s in the store\n", name);
    return found ? 0 : 1;
}

/* -d DIR, -f FILE, -h, then the command and its words. */
static int global_options(const char **pdir, const char **pconf, int argc,
                          const char *const *argv)
{
    int i;

    for (i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-d") && i + 1 < argc) *pdir = argv[++i];
        else if (!strcmp(a, "-f") && i + 1 < argc) *pconf = argv[++i];
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
        else if (a[0] == '-') return -1;
        else return i;
    }
    return -1;
}

static int command_known(const char *cmd)
{
    static const char *const own[] = { "status", "list", "renew", "check", "help", "show", "farm", NULL };
    int i;

    for (i = 0; own[i]; ++i) {
        if (!strcmp(cmd, own[i])) return 1;
    }
    return mdctl_acme_knows(cmd);
}

static int run(mdctl_t *ctl, const char *cmd, int argc, const char *const *argv)
{
    int rc;

    if (!strcmp(cmd, "status") || !strcmp(cmd, "list")) return mdctl_status_cmd(ctl, argc, argv);
    if (!strcmp(cmd, "renew")) return mdctl_renew_cmd(ctl, argc, argv);
    if (!strcmp(cmd, "check")) return mdctl_check_cmd(ctl, argc, argv);
    if (!strcmp(cmd, "farm")) return mdctl_farm_cmd(ctl, argc, argv);
    if (!strcmp(cmd, "help")) {
        usage();
        return MDCTL_OK;
    }
    if (!ctl->store) return mdctl_no_store(ctl);
    if (!strcmp(cmd, "show")) {
        if (argc != 1) {
            usage();
            return MDCTL_USAGE;
        }
        return cmd_show(ctl->store, argv[0], ctl->p);
    }
    rc = mdctl_acme_cmd(ctl->store, cmd, argc, argv, ctl->p);
    return rc < 0 ? MDCTL_USAGE : rc;
}

int main(int argc, const char *const *argv)
{
    mdctl_t ctl;
    const char *dir = NULL, *conf = NULL;
    char buf[120];
    apr_status_t rv;
    int rc, ind;

    apr_app_initialize(&argc, &argv, NULL);
    memset(&ctl, 0, sizeof(ctl));
    apr_pool_create(&ctl.p, NULL);
    if (md_http_init() != APR_SUCCESS) {
        fprintf(stderr, "mdctl: libcurl cannot be initialized\n");
        return MDCTL_FAILED;
    }
    ind = global_options(&dir, &conf, argc, argv);
    if (ind < 0) {
        usage();
        apr_terminate();
        return (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
               ? MDCTL_OK : MDCTL_USAGE;
    }
    /* a usage error first: it needs no store */
    if (!command_known(argv[ind])) {
        fprintf(stderr, "mdctl: unknown command '%s'\n", argv[ind]);
        usage();
        apr_terminate();
        return MDCTL_USAGE;
    }
    /* the store: -d, Apache's configuration, or the default; a command that needs one
     * and has none says where mdctl looked */
    if (mdctl_find(&ctl.where, dir, conf, ctl.p) == APR_SUCCESS) {
        /* farm pull may fill an empty folder: a store made there, as the server makes one */
        rv = md_store_open(&ctl.store, ctl.where->store_dir, ind + 1 < argc && !strcmp(argv[ind], "farm")
                           && !strcmp(argv[ind + 1], "pull"), ctl.p);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "mdctl: %s (%s) is not a readable mod_md store: %s. Run mdctl as "
                    "root; check the path.\n", ctl.where->store_dir, ctl.where->store_from,
                    apr_strerror(rv, buf, sizeof(buf)));
            apr_terminate();
            return MDCTL_NO_STORE;
        }
    }
    rc = run(&ctl, argv[ind], argc - ind - 1, argv + ind + 1);
    apr_terminate();
    return rc;
}
