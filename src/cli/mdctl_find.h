/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Where mdctl finds the store and the running server's md-status: from -d, else from
 * Apache's configuration (MDStoreDir, ServerRoot, Listen, <Location> with
 * SetHandler md-status), else Debian's default (docs/mdctl.md, "Finding the store"). */
#ifndef mdctl_find_h
#define mdctl_find_h

#include <apr_pools.h>
#include <apr_tables.h>

/* Debian's Apache configuration, read when neither -d nor -f is given. */
#define MDCTL_APACHE_CONF "/etc/apache2/apache2.conf"

/* An md-status handler of the configuration, as mdctl can ask it on this machine. */
typedef struct {
    const char *url;            /* http://ADDRESS:PORT/LOCATION */
    const char *host;           /* Host header (the vhost's ServerName), or NULL */
} mdctl_status_url_t;

typedef struct {
    const char *conf_file;      /* Apache's configuration read, NULL when none was */
    const char *server_root;    /* its ServerRoot (or the file's folder) */
    apr_array_header_t *files;  /* const char*: the configuration files read */
    const char *store_dir;      /* the store to use, NULL when none was found */
    const char *store_from;     /* where that came from, for messages */
    apr_array_header_t *status_urls; /* mdctl_status_url_t*: md-status handlers to try */
    apr_array_header_t *looked; /* const char*: each place looked at, with what was there */
    /* for `mdctl check`, the server-wide values (the last one read wins) */
    apr_array_header_t *preflight;      /* const char*: MDPreflight's words, NULL if none */
    const char *preflight_resolver;     /* MDPreflightResolver, NULL if none */
    int local_80;                       /* MDPortMap's local port for 80 (80, -1: none) */
    int dns01;                          /* MDChallengeDns01 is configured */
    /* MDStore etcd ... (the last MDStore read): its words after "etcd", NULL for a
     * file store; for `mdctl farm` */
    apr_array_header_t *farm_args;      /* const char*: URL[,URL...] and NAME=VALUE options */
    const char *farm_at;                /* "file:line" */
} mdctl_where_t;

/* Find the store: dir (-d) if given; else MDStoreDir in conf_file (-f, or
 * MDCTL_APACHE_CONF when conf_file is NULL and dir too) and the files it includes,
 * relative to ServerRoot; else ServerRoot/md (Debian: /etc/apache2/md). The
 * configuration is read whenever dir is not given or conf_file is, for the
 * md-status handlers. APR_ENOENT when no store directory exists: pwhere->looked says
 * where mdctl looked. */
apr_status_t mdctl_find(mdctl_where_t **pwhere, const char *dir, const char *conf_file,
                        apr_pool_t *p);
/* "looked at: ...; ...": what mdctl_find tried, one line per place. */
const char *mdctl_find_looked(const mdctl_where_t *where, apr_pool_t *p);

#endif
