/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl farm: the farm on etcd as its engine holds it, and moving a store into it and
 * back (docs/mdctl.md, docs/farm.md "Moving a server into a farm and back").
 *
 *   mdctl farm status [--json]        the farm's MDs (generation, certificates, lock
 *                                     holder) and its nodes with what each serves
 *   mdctl farm push [--force] [NAME...]  the active sets (domains/) into the farm
 *   mdctl farm pull [NAME...]         the farm's sets into staging/ of the file store
 *
 * The engine comes from `MDStore etcd ...` in Apache's configuration (mdctl_find.c),
 * with its farm key and credentials: mdctl runs as root, as the server's parent does. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_farm.h"
#include "md_json.h"
#include "md_json_keys.h"
#include "md_util.h"
#include "mdctl.h"

#define FARM_TIMEOUT apr_time_from_sec(10)

typedef struct {
    mdctl_t *ctl;
    md_farm_config_t config;
    md_farm_t *farm;
    int json, force;
    apr_array_header_t *names;      /* const char*: the MDs named, empty: all */
} farm_cmd_t;

/* ---- the engine, from MDStore etcd ----------------------------------------------------- */

/* The farm client of MDStore etcd, read as the server reads it; mdctl names itself as
 * lock holder. */
static int engine_open(farm_cmd_t *fc)
{
    const mdctl_where_t *w = fc->ctl->where;
    apr_pool_t *p = fc->ctl->p;
    const char *err;
    char host[256];

    if (!w || !w->farm_args || !w->farm_args->nelts) {
        fprintf(stderr, "mdctl farm: no 'MDStore etcd ...' in Apache's configuration%s%s; name it "
                "with -f APACHE_CONF\n", w && w->conf_file ? " " : "", w && w->conf_file ? w->conf_file : "");
        return 0;
    }
    err = md_farm_config_parse(&fc->config, w->farm_args->nelts, (const char *const *)w->farm_args->elts,
                               w->server_root, p);
    if (err) {
        fprintf(stderr, "mdctl farm: MDStore at %s: %s\n", w->farm_at, err);
        return 0;
    }
    fc->config.etcd.timeout = FARM_TIMEOUT;
    if (gethostname(host, sizeof(host)) != 0) apr_cpystrn(host, "?", sizeof(host));
    host[sizeof(host) - 1] = '\0';
    fc->config.node = apr_psprintf(p, "mdctl on %s pid %d", host, (int)getpid());
    if (md_farm_create(&fc->farm, &fc->config, p) != APR_SUCCESS) {
        fprintf(stderr, "mdctl farm: the etcd client cannot be made\n");
        return 0;
    }
    return 1;
}

static int engine_failed(farm_cmd_t *fc, const char *what)
{
    fprintf(stderr, "mdctl farm: %s: %s (MDStore at %s)\n", what, md_etcd_error(md_farm_etcd(fc->farm)),
            fc->ctl->where->farm_at);
    return MDCTL_FAILED;
}

/* What push and pull write (locks/farm/<md>.gen, staging/<md>) belongs to the user the
 * children write as, as if the server had written it: otherwise its renewal watchdog
 * could not record the next generation. That user owns staging/ once the server has run
 * with the store; a store made by `farm pull` is given to it at the server's first start. */
static void owner_take(farm_cmd_t *fc)
{
    apr_finfo_t info;

    if (getuid() != 0) return;
    if (md_store_info(&info, fc->ctl->store, MD_SG_STAGING, NULL, NULL, fc->ctl->p) != APR_SUCCESS
        || info.filetype != APR_DIR) {
        return;
    }
    md_store_set_owner(fc->ctl->store, (int)info.user, (int)info.group,
                       (info.protection & APR_FPROT_GWRITE) != 0);
}

static int named(const farm_cmd_t *fc, const char *name)
{
    return !fc->names->nelts || md_array_str_index(fc->names, name, 1) >= 0;
}

/* ---- status ------------------------------------------------------------------------- */

static void status_text(const md_json_t *view, apr_pool_t *p)
{
    apr_array_header_t *mds = md_json_keys(view, p, MD_KEY_MDS, NULL), *served;
    md_json_t *nodes = md_json_getj(view, MD_KEY_NODES, NULL), *certs, *c, *n;
    const char *name, *holder;
    apr_size_t k;
    int i, j;

    printf("%-30s %5s  %-29s %-34s %s\n", "MD", "GEN", "VALID UNTIL", "SERIAL", "RENEWED BY");
    for (i = 0; mds && i < mds->nelts; ++i) {
        name = APR_ARRAY_IDX(mds, i, const char *);
        holder = md_json_gets(view, MD_KEY_MDS, name, MD_KEY_LOCK_HOLDER, NULL);
        certs = md_json_getj(view, MD_KEY_MDS, name, MD_KEY_CERTS, NULL);
        c = certs && md_json_array_len(certs) ? md_json_array_at(certs, 0) : NULL;
        printf("%-30s %5ld  %-29s %-34s %s\n", name, md_json_getl(view, MD_KEY_MDS, name, MD_KEY_GENERATION, NULL),
               c ? md_json_gets(c, MD_KEY_VALID_UNTIL, NULL) : "-", c ? md_json_gets(c, MD_KEY_SERIAL, NULL) : "-",
               holder ? holder : "-");
    }
    printf("\n%-30s %s\n", "NODE", "SERVES (MD=GENERATION)");
    for (k = 0; nodes && k < md_json_array_len(nodes); ++k) {
        n = md_json_array_at(nodes, k);
        served = md_json_keys(n, p, MD_KEY_SERVES, NULL);
        printf("%-30s", md_json_gets(n, MD_KEY_NODE, NULL));
        for (j = 0; served && j < served->nelts; ++j) {
            name = APR_ARRAY_IDX(served, j, const char *);
            printf(" %s=%ld", name, md_json_getl(n, MD_KEY_SERVES, name, NULL));
        }
        printf("\n");
    }
}

static int cmd_status(farm_cmd_t *fc)
{
    apr_pool_t *p = fc->ctl->p;
    apr_array_header_t *mds;
    md_json_t *view, *certs;
    const char *name;
    int i;

    if (md_farm_view_read(&view, NULL, fc->farm, p) != APR_SUCCESS) {
        return engine_failed(fc, "etcd cannot be read");
    }
    mds = md_json_keys(view, p, MD_KEY_MDS, NULL);
    for (i = 0; mds && i < mds->nelts; ++i) {
        name = APR_ARRAY_IDX(mds, i, const char *);
        if (!named(fc, name)) {
            md_json_del(view, MD_KEY_MDS, name, NULL);
            continue;
        }
        if (md_farm_set_certs(&certs, fc->farm, name, p) != APR_SUCCESS) {
            return engine_failed(fc, "etcd cannot be read");
        }
        md_json_setj(certs, view, MD_KEY_MDS, name, MD_KEY_CERTS, NULL);
    }
    if (fc->json) printf("%s\n", md_json_dump(view, MD_JSON_INDENT, p));
    else status_text(view, p);
    return MDCTL_OK;
}

/* ---- push: a file store's active sets into the farm --------------------------------- */

/* The active set as the farm takes it: md.json, the keys and the certificates. */
static apr_array_header_t *active_files(farm_cmd_t *fc, const char *name)
{
    apr_array_header_t *all, *files = apr_array_make(fc->ctl->p, 6, sizeof(const char *));
    const char *f;
    int i;

    if (md_store_list(&all, fc->ctl->store, MD_SG_DOMAINS, name, fc->ctl->p) != APR_SUCCESS) return files;
    for (i = 0; i < all->nelts; ++i) {
        f = APR_ARRAY_IDX(all, i, const char *);
        if (!strcmp(f, MD_FN_MD) || (!strncmp(f, MD_FN_PRIVKEY, strlen(MD_FN_PRIVKEY)) && strstr(f, ".pem"))
            || (!strncmp(f, MD_FN_PUBCERT, strlen(MD_FN_PUBCERT)) && strstr(f, ".pem"))) {
            APR_ARRAY_PUSH(files, const char *) = f;
        }
    }
    return files;
}

/* One MD, under its farm lock: refused while a node renews it, and (without --force)
 * when the farm has a set of it already, which is as new or newer than this store's. */
static int push_one(farm_cmd_t *fc, const char *name)
{
    apr_pool_t *p = fc->ctl->p;
    apr_array_header_t *files = active_files(fc, name);
    md_farm_lock_t *lock;
    const char *holder = NULL;
    apr_int64_t gen;
    apr_status_t rv;

    if (md_array_str_index(files, MD_FN_MD, 1) < 0 || files->nelts < 3) {
        fprintf(stderr, "mdctl farm push: %s: no complete active set in domains/%s\n", name, name);
        return MDCTL_FAILED;
    }
    rv = md_farm_lock_try(&lock, &holder, fc->farm, name, p);
    if (rv == APR_EBUSY) {
        fprintf(stderr, "mdctl farm push: %s: %s renews it now; try again later\n", name,
                holder ? holder : "another node");
        return MDCTL_FAILED;
    }
    if (rv != APR_SUCCESS) return engine_failed(fc, apr_psprintf(p, "%s: the farm lock", name));
    rv = md_farm_generation(&gen, fc->farm, name, p);
    if (rv == APR_SUCCESS && gen > 0 && !fc->force) {
        md_farm_unlock(lock);
        fprintf(stderr, "mdctl farm push: %s: the farm has generation %" APR_INT64_T_FMT " of it already; "
                "--force replaces it with this store's\n", name, gen);
        return MDCTL_FAILED;
    }
    if (rv == APR_SUCCESS) rv = md_farm_publish_from(&gen, lock, fc->ctl->store, MD_SG_DOMAINS, name, files, p);
    md_farm_unlock(lock);
    if (rv != APR_SUCCESS) return engine_failed(fc, apr_psprintf(p, "%s: not published", name));
    printf("%s: published generation %" APR_INT64_T_FMT " (%d files)\n", name, gen, files->nelts);
    return MDCTL_OK;
}

/* The store's valid accounts go with it: each becomes the farm's account at its CA (and
 * binding) unless the farm has one there already, so the nodes do not register their own.
 * The lock names the CA as a node registering there would (locks/account/<ca>). */
static int push_account(farm_cmd_t *fc, const char *name)
{
    apr_pool_t *p = fc->ctl->p;
    md_json_t *json;
    md_pkey_t *key, *had;
    md_farm_lock_t *lock;
    const char *url, *status, *ca_key, *text, *holder = NULL;
    apr_status_t rv;

    if (md_store_load_json(&json, fc->ctl->store, MD_SG_ACCOUNTS, name, MD_FN_ACCOUNT, p) != APR_SUCCESS
        || md_store_load_pkey(&key, fc->ctl->store, MD_SG_ACCOUNTS, name, MD_FN_ACCT_KEY, p) != APR_SUCCESS) {
        return MDCTL_OK;                        /* not a complete account: nothing to share */
    }
    url = md_json_gets(json, MD_KEY_CA_URL, NULL);
    status = md_json_gets(json, MD_KEY_STATUS, NULL);
    if (!url || (status && strcmp(status, "valid"))) return MDCTL_OK;
    ca_key = md_farm_acct_ca_key(url, md_json_gets(json, MD_KEY_EAB, MD_KEY_KID, NULL), p);
    rv = ca_key ? md_farm_lock_try(&lock, &holder, fc->farm, apr_pstrcat(p, "account/", ca_key, NULL), p)
                : APR_EGENERAL;
    if (rv == APR_EBUSY) {
        fprintf(stderr, "mdctl farm push: account %s: %s registers one at %s now; its account is the "
                "farm's\n", name, holder ? holder : "another node", url);
        return MDCTL_OK;
    }
    if (rv != APR_SUCCESS) return engine_failed(fc, apr_psprintf(p, "account %s: the farm lock", name));
    rv = md_farm_acct_get(&text, &had, fc->farm, ca_key, p);
    if (rv == APR_SUCCESS) {
        md_farm_unlock(lock);
        printf("account %s: the farm has an account at %s already; kept\n", name, url);
        return MDCTL_OK;
    }
    text = md_json_dump(json, MD_JSON_INDENT, p);
    rv = (rv == APR_ENOENT && text) ? md_farm_acct_publish(lock, fc->farm, ca_key, text, key, p) : rv;
    md_farm_unlock(lock);
    if (rv != APR_SUCCESS) return engine_failed(fc, apr_psprintf(p, "account %s: not published", name));
    printf("account %s: published as the farm's account at %s\n", name, url);
    return MDCTL_OK;
}

static int push_accounts(farm_cmd_t *fc)
{
    apr_array_header_t *names;
    int i, rc = MDCTL_OK;

    if (md_store_names(&names, fc->ctl->store, MD_SG_ACCOUNTS, fc->ctl->p) != APR_SUCCESS) return rc;
    for (i = 0; i < names->nelts; ++i) {
        if (push_account(fc, APR_ARRAY_IDX(names, i, const char *)) != MDCTL_OK) rc = MDCTL_FAILED;
    }
    return rc;
}

static int cmd_push(farm_cmd_t *fc)
{
    apr_array_header_t *names;
    const char *name;
    int i, rc = MDCTL_OK, done = 0;

    if (md_store_names(&names, fc->ctl->store, MD_SG_DOMAINS, fc->ctl->p) != APR_SUCCESS) {
        names = apr_array_make(fc->ctl->p, 1, sizeof(const char *));
    }
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (!named(fc, name)) continue;
        ++done;
        if (push_one(fc, name) != MDCTL_OK) rc = MDCTL_FAILED;
    }
    for (i = 0; i < fc->names->nelts; ++i) {
        name = APR_ARRAY_IDX(fc->names, i, const char *);
        if (md_array_str_index(names, name, 1) < 0) {
            fprintf(stderr, "mdctl farm push: %s: not in %s/domains\n", name, md_store_base(fc->ctl->store));
            rc = MDCTL_FAILED;
        }
    }
    if (!done && !fc->names->nelts) fprintf(stderr, "mdctl farm push: the store has no MD in domains/\n");
    if (done && push_accounts(fc) != MDCTL_OK) rc = MDCTL_FAILED;
    return done ? rc : MDCTL_FAILED;
}

/* ---- pull: the farm's sets into a file store's staging/ -------------------------------- */

static int cmd_pull(farm_cmd_t *fc)
{
    apr_pool_t *p = fc->ctl->p;
    apr_hash_t *gens;
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    apr_hash_index_t *hi;
    const void *key;
    const char *name;
    apr_int64_t gen;
    apr_status_t rv;
    int i, rc = MDCTL_OK;

    if (md_farm_generations(&gens, fc->farm, p) != APR_SUCCESS) return engine_failed(fc, "etcd cannot be read");
    for (hi = apr_hash_first(p, gens); hi; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, &key, NULL, NULL);
        if (named(fc, key)) APR_ARRAY_PUSH(names, const char *) = key;
    }
    for (i = 0; i < fc->names->nelts; ++i) {
        name = APR_ARRAY_IDX(fc->names, i, const char *);
        if (!apr_hash_get(gens, name, APR_HASH_KEY_STRING)) {
            fprintf(stderr, "mdctl farm pull: %s: the farm has not published it\n", name);
            rc = MDCTL_FAILED;
        }
    }
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        rv = md_farm_pull(&gen, fc->farm, fc->ctl->store, name, p);
        if (rv != APR_SUCCESS) {
            rc = engine_failed(fc, apr_psprintf(p, "%s: not pulled", name));
            continue;
        }
        printf("%s: generation %" APR_INT64_T_FMT " staged in %s/staging/%s; the server serves it from "
               "its next start\n", name, gen, md_store_base(fc->ctl->store), name);
    }
    return rc;
}

/* ---- the command ----------------------------------------------------------------------- */

static int usage_err(const char *msg)
{
    fprintf(stderr, "mdctl farm: %s\nusage: mdctl farm status [--json] [NAME...] | push [--force] "
            "[NAME...] | pull [NAME...]\n", msg);
    return MDCTL_USAGE;
}

int mdctl_farm_cmd(mdctl_t *ctl, int argc, const char *const *argv)
{
    farm_cmd_t fc;
    const char *sub;
    int i;

    memset(&fc, 0, sizeof(fc));
    fc.ctl = ctl;
    fc.names = apr_array_make(ctl->p, 4, sizeof(const char *));
    if (argc < 1) return usage_err("status, push or pull?");
    sub = argv[0];
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--json") && !strcmp(sub, "status")) fc.json = 1;
        else if (!strcmp(argv[i], "--force") && !strcmp(sub, "push")) fc.force = 1;
        else if (argv[i][0] == '-') return usage_err(apr_psprintf(ctl->p, "unknown option %s", argv[i]));
        else APR_ARRAY_PUSH(fc.names, const char *) = argv[i];
    }
    if (strcmp(sub, "status") && strcmp(sub, "push") && strcmp(sub, "pull")) {
        return usage_err(apr_psprintf(ctl->p, "unknown command '%s'", sub));
    }
    if (strcmp(sub, "status") && !ctl->store) return mdctl_no_store(ctl);
    if (!engine_open(&fc)) return MDCTL_FAILED;
    if (!strcmp(sub, "status")) return cmd_status(&fc);
    owner_take(&fc);
    if (!strcmp(sub, "push")) return cmd_push(&fc);
    return cmd_pull(&fc);
}
