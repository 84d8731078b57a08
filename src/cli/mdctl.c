/* mdctl: look into a mod_md store without httpd.
 *   mdctl -d STORE list        the MDs in domains/ with their certificates
 *   mdctl -d STORE show NAME   one MD's md.json and job.json
 * and the commands that talk to the CA (revoke, account-*): see mdctl_acme.c.
 */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>

#include "md_http.h"
#include "md.h"
#include "md_json_keys.h"
#include "md_store.h"
#include "md_util.h"
#include "mdctl_acme.h"

static void usage(void)
{
    fprintf(stderr, "usage: mdctl -d STORE_DIR list\n"
                    "       mdctl -d STORE_DIR show MDNAME\n");
    mdctl_acme_usage();
}

static void print_certs(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    int i;

    for (i = 0; i < md_pkey_spec_count(md); ++i) {
        const md_pkey_spec_t *spec = md_pkey_spec_at(md, i);
        if (md_store_load_chain(&chain, store, MD_SG_DOMAINS, md->name,
                                md_pkey_file_name(spec, MD_FN_PUBCERT, p), p) != APR_SUCCESS
            || !chain->nelts) {
            printf("  %-10s no certificate\n", md_pkey_spec_name(spec));
            continue;
        }
        printf("  %-10s valid until %s, issuer %s\n", md_pkey_spec_name(spec),
               md_time_print(md_cert_not_after(APR_ARRAY_IDX(chain, 0, md_cert_t *)), p),
               md_cert_issuer_name(APR_ARRAY_IDX(chain, 0, md_cert_t *), p));
    }
}

static int cmd_list(md_store_t *store, apr_pool_t *p)
{
    apr_array_header_t *names;
    md_json_t *json;
    md_t *md;
    int i;

    if (md_store_names(&names, store, MD_SG_DOMAINS, p) != APR_SUCCESS) return 1;
    for (i = 0; i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (md_store_load_json(&json, store, MD_SG_DOMAINS, name, MD_FN_MD, p) != APR_SUCCESS
            || md_from_json(&md, json, p) != APR_SUCCESS) {
            printf("%s: md.json missing or damaged\n", name);
            continue;
        }
        printf("%s [%s]\n", md->name, md_array_str_join(md->domains, ", ", p));
        print_certs(store, md, p);
    }
    return 0;
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

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    apr_getopt_t *opt;
    const char *dir = NULL, *arg;
    md_store_t *store;
    char c;
    int rc = 2;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    if (md_http_init() != APR_SUCCESS) {
        fprintf(stderr, "mdctl: libcurl cannot be initialized\n");
        return 2;
    }
    apr_getopt_init(&opt, p, argc, argv);
    while (apr_getopt(opt, "d:", &c, &arg) == APR_SUCCESS) {
        if (c == 'd') dir = arg;
    }
    if (!dir || opt->ind >= argc) {
        usage();
    }
    else if (md_store_open(&store, dir, 0, p) != APR_SUCCESS) {
        fprintf(stderr, "mdctl: %s is not a readable mod_md store\n", dir);
        rc = 1;
    }
    else if (!strcmp(argv[opt->ind], "list")) {
        rc = cmd_list(store, p);
    }
    else if (!strcmp(argv[opt->ind], "show") && opt->ind + 1 < argc) {
        rc = cmd_show(store, argv[opt->ind + 1], p);
    }
    else {
        rc = mdctl_acme_cmd(store, argv[opt->ind], argc - opt->ind - 1, argv + opt->ind + 1, p);
        if (rc < 0) {
            usage();
            rc = 2;
        }
    }
    apr_terminate();
    return rc;
}
