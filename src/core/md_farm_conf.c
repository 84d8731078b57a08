/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The words of `MDStore etcd URL[,URL...] NAME=VALUE...` made into a farm's configuration,
 * for the server (MDStore) and for mdctl alike: both reach the same engine with the same
 * key and credentials, and refuse the same mistakes with the same words. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "md_farm.h"
#include "md_util.h"

typedef struct {
    md_farm_config_t *config;
    const char *root;
    apr_pool_t *p;
} parse_t;

static const char *rooted(const parse_t *ps, const char *path)
{
    if (path[0] == '/' || !ps->root) return path;
    return apr_pstrcat(ps->p, ps->root, "/", path, NULL);
}

static const char *endpoints_parse(parse_t *ps, const char *arg)
{
    char *list = apr_pstrdup(ps->p, arg), *tok, *last;
    apr_array_header_t *endpoints = apr_array_make(ps->p, 3, sizeof(const char *));
    apr_uri_t uri;

    for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        if (apr_uri_parse(ps->p, tok, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname
            || (strcmp(uri.scheme, "http") && strcmp(uri.scheme, "https"))
            || (uri.path && *uri.path && strcmp(uri.path, "/"))) {
            return apr_psprintf(ps->p, "'%s' is not an etcd endpoint (http://HOST:PORT or "
                                "https://HOST:PORT)", tok);
        }
        if (tok[strlen(tok) - 1] == '/') tok[strlen(tok) - 1] = '\0';
        APR_ARRAY_PUSH(endpoints, const char *) = tok;
    }
    if (!endpoints->nelts) return "etcd needs an endpoint URL";
    ps->config->etcd.endpoints = endpoints;
    return NULL;
}

/* auth=FILE: "user:password" on its first line, a file only its owner may read. */
static const char *auth_read(parse_t *ps, const char *path)
{
    const char *data, *colon;
    apr_size_t len;
    struct stat st;

    if (stat(path, &st) != 0 || md_file_read(&data, &len, path, 4096, ps->p) != APR_SUCCESS) {
        return apr_psprintf(ps->p, "the etcd credentials %s cannot be read", path);
    }
    if (st.st_mode & 077) {
        return apr_psprintf(ps->p, "the etcd credentials %s may be read by others: chmod 0600 it", path);
    }
    len = strcspn(data, "\r\n");
    colon = memchr(data, ':', len);
    if (!colon || colon == data) {
        return apr_psprintf(ps->p, "the etcd credentials %s must hold 'user:password' on one line", path);
    }
    ps->config->etcd.user = apr_pstrndup(ps->p, data, (apr_size_t)(colon - data));
    ps->config->etcd.password = apr_pstrndup(ps->p, colon + 1, len - (apr_size_t)(colon - data) - 1);
    return NULL;
}

/* lock-ttl=SECONDS: how long a dead holder's lock outlives it (and the keep-alive's pace) */
static const char *lock_ttl_parse(parse_t *ps, const char *v)
{
    char *end;
    long ttl = strtol(v, &end, 10);

    if (*end || ttl < 5 || ttl > 3600) {
        return apr_psprintf(ps->p, "lock-ttl=%s is not a number of seconds from 5 to 3600", v);
    }
    ps->config->lock_ttl = ttl;
    return NULL;
}

static const char *option_parse(parse_t *ps, const char *opt)
{
    const char *v = strchr(opt, '='), *why;

    if (!v || !v[1]) return apr_psprintf(ps->p, "'%s' is not NAME=VALUE", opt);
    ++v;
    if (!strncmp(opt, "prefix=", 7)) {
        if (v[0] != '/' || v[strlen(v) - 1] != '/') return "prefix must start and end with '/'";
        ps->config->prefix = v;
    }
    else if (!strncmp(opt, "ca=", 3)) {
        ps->config->etcd.ca_file = rooted(ps, v);
        if (md_file_exists(ps->config->etcd.ca_file, ps->p) != APR_SUCCESS) {
            return apr_psprintf(ps->p, "the CA file %s does not exist", v);
        }
    }
    else if (!strncmp(opt, "auth=", 5)) return auth_read(ps, rooted(ps, v));
    else if (!strncmp(opt, "farm-key=", 9)) {
        if (md_farm_key_load(&ps->config->key, &why, rooted(ps, v), ps->p) != APR_SUCCESS) return why;
    }
    else if (!strncmp(opt, "node=", 5)) ps->config->node = v;
    else if (!strncmp(opt, "lock-ttl=", 9)) return lock_ttl_parse(ps, v);
    else return apr_psprintf(ps->p, "unknown option '%s' (prefix=, ca=, auth=, farm-key=, node=, "
                             "lock-ttl=)", opt);
    return NULL;
}

const char *md_farm_config_parse(md_farm_config_t *config, int argc, const char *const *argv,
                                 const char *root, apr_pool_t *p)
{
    parse_t ps = { config, root, p };
    const char *err;
    int i;

    memset(config, 0, sizeof(*config));
    if (argc < 1) return "etcd needs an endpoint URL";
    err = endpoints_parse(&ps, argv[0]);
    for (i = 1; !err && i < argc; ++i) err = option_parse(&ps, argv[i]);
    if (!err && !config->key) {
        err = "etcd needs farm-key=FILE (openssl rand -hex 32 > FILE; chmod 0600 FILE; the same file "
              "on every node)";
    }
    return err;
}
