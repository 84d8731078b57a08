/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl: finding the store and the md-status handlers in Apache's configuration.
 *
 * The configuration is read the way httpd reads it as far as these directives go:
 * lines continued with a backslash, comments, "quoted" arguments, ${VAR} from Define
 * and the environment, Include/IncludeOptional with wildcards and folders relative to
 * ServerRoot. Conditional sections (<IfModule>, <IfDefine>) are read as if they held:
 * an MDStoreDir in one is taken. */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_file_info.h>

#include "md_util.h"
#include "mdctl_find.h"

#define READ_MAX (4 * 1024 * 1024)   /* larger configuration files are not read */
#define DEPTH_MAX 16                 /* Include nesting */
#define FILES_MAX 2000

/* Debian's httpd has this compiled in as its ServerRoot. */
#define DEFAULT_SERVER_ROOT "/etc/apache2"

typedef struct {
    const char *addr;           /* first address of <VirtualHost addr:port ...> */
    const char *port;
    const char *server_name;
} vhost_t;

typedef struct {
    const char *addr, *port;
    int https;
} listen_t;

typedef struct {
    const vhost_t *vhost;       /* NULL: the main server's */
    const char *path;
} location_t;

typedef struct {
    mdctl_where_t *w;
    apr_pool_t *p;
    const char *server_root;
    const char *store_dir, *store_at;   /* the last MDStoreDir, "file:line" */
    apr_array_header_t *listens;        /* listen_t* */
    apr_array_header_t *locations;      /* location_t*: md-status handlers */
    apr_hash_t *defines;
    vhost_t *vhost;                     /* the <VirtualHost> read now */
    const char *location;               /* the <Location> read now */
} reader_t;

static void looked(mdctl_where_t *w, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void looked(mdctl_where_t *w, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(w->looked, const char *) = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
}

/* ${NAME} from Define, then from the environment; unknown ones stay as written. */
static const char *expand(reader_t *r, const char *s)
{
    const char *start, *end, *value;
    char *name;

    while ((start = strstr(s, "${")) != NULL) {
        end = strchr(start, '}');
        if (!end) break;
        name = apr_pstrndup(r->p, start + 2, (apr_size_t)(end - start - 2));
        value = apr_hash_get(r->defines, name, APR_HASH_KEY_STRING);
        if (!value) value = getenv(name);
        if (!value) break;
        s = apr_pstrcat(r->p, apr_pstrndup(r->p, s, (apr_size_t)(start - s)), value, end + 1, NULL);
    }
    return s;
}

/* The words of a directive line: blanks separate, "..." and '...' quote. */
static apr_array_header_t *words(reader_t *r, const char *line)
{
    apr_array_header_t *a = apr_array_make(r->p, 4, sizeof(const char *));
    const char *s = line, *start;
    char quote;

    for (;;) {
        while (*s && isspace((unsigned char)*s)) ++s;
        if (!*s) break;
        quote = (*s == '"' || *s == '\'') ? *s++ : 0;
        start = s;
        while (*s && (quote ? *s != quote : !isspace((unsigned char)*s))) ++s;
        APR_ARRAY_PUSH(a, const char *) = expand(r, apr_pstrndup(r->p, start, (apr_size_t)(s - start)));
        if (quote && *s) ++s;
    }
    return a;
}

static const char *rooted(reader_t *r, const char *path)
{
    if (path[0] == '/') return path;
    return apr_pstrcat(r->p, r->server_root, "/", path, NULL);
}

/* "[addr:]port" (an IPv6 address in brackets) into its parts; addr NULL for none. */
static void addr_port(const char *spec, const char **paddr, const char **pport, apr_pool_t *p)
{
    const char *colon = strrchr(spec, ':');
    const char *bracket = strrchr(spec, ']');

    *paddr = NULL;
    *pport = NULL;
    if (colon && (!bracket || colon > bracket)) {
        *paddr = apr_pstrndup(p, spec, (apr_size_t)(colon - spec));
        *pport = colon + 1;
    }
    else if (spec[0] != '[' && strspn(spec, "0123456789") == strlen(spec)) {
        *pport = spec;
    }
    else {
        *paddr = spec;
    }
}

static void read_file(reader_t *r, const char *path, int optional, int depth);

/* Include and IncludeOptional: a file, a folder (all its files) or a wildcard. */
static void include(reader_t *r, const char *pattern, int optional, int depth)
{
    const char *path = rooted(r, pattern);
    apr_finfo_t info;
    glob_t g;
    size_t i;

    if (!strpbrk(path, "*?[")) {
        if (apr_stat(&info, path, APR_FINFO_TYPE, r->p) == APR_SUCCESS && info.filetype == APR_DIR) {
            include(r, apr_pstrcat(r->p, path, "/*", NULL), 1, depth);
        }
        else read_file(r, path, optional, depth);
        return;
    }
    memset(&g, 0, sizeof(g));
    if (glob(path, 0, NULL, &g) == 0) {
        for (i = 0; i < g.gl_pathc; ++i) {
            if (apr_stat(&info, g.gl_pathv[i], APR_FINFO_TYPE, r->p) == APR_SUCCESS
                && info.filetype == APR_REG) {
                read_file(r, apr_pstrdup(r->p, g.gl_pathv[i]), optional, depth);
            }
        }
    }
    globfree(&g);
}

static void section(reader_t *r, const char *name, apr_array_header_t *args)
{
    const char *arg = args->nelts > 1 ? APR_ARRAY_IDX(args, 1, const char *) : "";
    char *a = apr_pstrdup(r->p, arg);
    apr_size_t n = strlen(a);

    if (n && a[n - 1] == '>') a[n - 1] = '\0';      /* "<Location /x>" */
    if (!strcasecmp(name, "<VirtualHost")) {
        r->vhost = apr_pcalloc(r->p, sizeof(*r->vhost));
        addr_port(a, &r->vhost->addr, &r->vhost->port, r->p);
    }
    else if (!strcasecmp(name, "</VirtualHost>")) r->vhost = NULL;
    else if (!strcasecmp(name, "<Location")) r->location = a;
    else if (!strcasecmp(name, "</Location>")) r->location = NULL;
}

/* MDPortMap's "80:PORT", "http:PORT" or "80:-" */
static void port_map_80(mdctl_where_t *w, const char *map)
{
    const char *colon = strchr(map, ':');

    if (!colon || (strncmp(map, "80:", 3) && strncmp(map, "http:", 5))) return;
    w->local_80 = strcmp(colon + 1, "-") ? (int)apr_atoi64(colon + 1) : -1;
}

/* MDStore etcd URL[,URL...] OPTION...: the words after "etcd" */
static void store_etcd(mdctl_where_t *w, const apr_array_header_t *args, apr_pool_t *p)
{
    int i;

    w->farm_args = apr_array_make(p, args->nelts, sizeof(const char *));
    for (i = 2; i < args->nelts; ++i) {
        APR_ARRAY_PUSH(w->farm_args, const char *) = APR_ARRAY_IDX(args, i, const char *);
    }
}

static void directive(reader_t *r, apr_array_header_t *args, const char *at, int depth)
{
    const char *name = APR_ARRAY_IDX(args, 0, const char *);
    const char *a1 = args->nelts > 1 ? APR_ARRAY_IDX(args, 1, const char *) : NULL;
    const char *a2 = args->nelts > 2 ? APR_ARRAY_IDX(args, 2, const char *) : NULL;
    listen_t *l;
    location_t *loc;

    if (name[0] == '<') {
        section(r, name, args);
    }
    else if (!a1) {
        return;
    }
    else if (!strcasecmp(name, "ServerRoot")) r->server_root = a1;
    else if (!strcasecmp(name, "Define")) {
        apr_hash_set(r->defines, a1, APR_HASH_KEY_STRING, a2 ? a2 : "");
    }
    else if (!strcasecmp(name, "Include")) include(r, a1, 0, depth + 1);
    else if (!strcasecmp(name, "IncludeOptional")) include(r, a1, 1, depth + 1);
    else if (!strcasecmp(name, "MDStoreDir")) {
        r->store_dir = a1;
        r->store_at = at;
    }
    else if (!strcasecmp(name, "MDStore")) {
        r->w->farm_args = NULL;
        r->w->farm_at = at;
        if (!strcasecmp(a1, "etcd")) store_etcd(r->w, args, r->p);
    }
    else if (!strcasecmp(name, "Listen")) {
        l = apr_pcalloc(r->p, sizeof(*l));
        addr_port(a1, &l->addr, &l->port, r->p);
        l->https = a2 ? !strcasecmp(a2, "https") : (l->port && !strcmp(l->port, "443"));
        if (l->port) APR_ARRAY_PUSH(r->listens, listen_t *) = l;
    }
    else if (!strcasecmp(name, "MDPreflight")) {
        r->w->preflight = apr_array_copy(r->p, args);
    }
    else if (!strcasecmp(name, "MDPreflightResolver")) {
        r->w->preflight_resolver = strcasecmp(a1, "system") ? a1 : NULL;
    }
    else if (!strcasecmp(name, "MDChallengeDns01")) r->w->dns01 = 1;
    else if (!strcasecmp(name, "MDPortMap")) {
        port_map_80(r->w, a1);
        if (a2) port_map_80(r->w, a2);
    }
    else if (!strcasecmp(name, "ServerName") && r->vhost) {
        r->vhost->server_name = a1;
    }
    else if (!strcasecmp(name, "SetHandler") && !strcasecmp(a1, "md-status") && r->location) {
        loc = apr_pcalloc(r->p, sizeof(*loc));
        loc->vhost = r->vhost;
        loc->path = r->location;
        APR_ARRAY_PUSH(r->locations, location_t *) = loc;
    }
}

/* The next logical line at *pos: physical lines joined where one ends in a backslash
 * (httpd's rule). *plineno counts the physical lines. NULL at the end of the text. */
static char *next_line(char **pos, int *plineno, apr_pool_t *p)
{
    char *start = *pos, *nl, *piece, *out = NULL;
    apr_size_t n;
    int more;

    if (!start) return NULL;
    do {
        nl = strchr(start, '\n');
        n = nl ? (apr_size_t)(nl - start) : strlen(start);
        if (n && start[n - 1] == '\r') --n;
        piece = apr_pstrndup(p, start, n);
        ++*plineno;
        start = nl ? nl + 1 : NULL;
        more = n && piece[n - 1] == '\\';
        if (more) piece[n - 1] = ' ';
        out = out ? apr_pstrcat(p, out, piece, NULL) : piece;
    } while (more && start);
    *pos = start;
    return out;
}

static void read_file(reader_t *r, const char *path, int optional, int depth)
{
    const char *data;
    char *pos, *line, buf[120];
    apr_array_header_t *args;
    apr_status_t rv;
    int lineno = 0, first;

    if (depth > DEPTH_MAX || r->w->files->nelts >= FILES_MAX) {
        looked(r->w, r->p, "%s: not read (Include nested more than %d deep, or more than %d "
               "files)", path, DEPTH_MAX, FILES_MAX);
        return;
    }
    rv = md_file_read(&data, NULL, path, READ_MAX, r->p);
    if (rv != APR_SUCCESS) {
        if (!optional || !APR_STATUS_IS_ENOENT(rv)) {
            looked(r->w, r->p, "%s: cannot be read (%s)", path, apr_strerror(rv, buf, sizeof(buf)));
        }
        return;
    }
    APR_ARRAY_PUSH(r->w->files, const char *) = path;
    pos = apr_pstrdup(r->p, data);
    for (;;) {
        first = lineno + 1;
        line = next_line(&pos, &lineno, r->p);
        if (!line) break;
        while (isspace((unsigned char)*line)) ++line;
        if (!*line || *line == '#') continue;
        args = words(r, line);
        if (args->nelts) directive(r, args, apr_psprintf(r->p, "%s:%d", path, first), depth);
    }
}

static int is_dir(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;

    return apr_stat(&info, path, APR_FINFO_TYPE, p) == APR_SUCCESS && info.filetype == APR_DIR;
}

/* An address mdctl can connect to for a configured one: any address is loopback. */
static const char *local_addr(const char *addr, apr_pool_t *p)
{
    if (!addr || !*addr || !strcmp(addr, "*") || !strcmp(addr, "_default_")
        || !strcmp(addr, "0.0.0.0")) {
        return "127.0.0.1";
    }
    if (!strcmp(addr, "[::]")) return "[::1]";
    if (strchr(addr, ':') && addr[0] != '[') return apr_pstrcat(p, "[", addr, "]", NULL);
    return addr;
}

static int port_is_https(reader_t *r, const char *port)
{
    int i;

    for (i = 0; i < r->listens->nelts; ++i) {
        const listen_t *l = APR_ARRAY_IDX(r->listens, i, const listen_t *);
        if (!strcmp(l->port, port)) return l->https;
    }
    return !strcmp(port, "443");
}

static void url_add(reader_t *r, const char *addr, const char *port, const char *path,
                    const char *host)
{
    mdctl_status_url_t *u = apr_pcalloc(r->p, sizeof(*u));

    u->url = apr_pstrcat(r->p, "http://", local_addr(addr, r->p), ":", port,
                         path[0] == '/' ? "" : "/", path, NULL);
    u->host = host;
    APR_ARRAY_PUSH(r->w->status_urls, mdctl_status_url_t *) = u;
}

/* The md-status handlers as URLs on this machine, plain http only (mdctl cannot verify
 * the server's own certificate for a local address). A handler in the main server is
 * tried on every plain http Listen. */
static void status_urls(reader_t *r)
{
    int i, k;

    for (i = 0; i < r->locations->nelts; ++i) {
        const location_t *loc = APR_ARRAY_IDX(r->locations, i, const location_t *);
        if (loc->vhost) {
            if (loc->vhost->port && !port_is_https(r, loc->vhost->port)) {
                url_add(r, loc->vhost->addr, loc->vhost->port, loc->path, loc->vhost->server_name);
            }
            continue;
        }
        for (k = 0; k < r->listens->nelts; ++k) {
            const listen_t *l = APR_ARRAY_IDX(r->listens, k, const listen_t *);
            if (!l->https) url_add(r, l->addr, l->port, loc->path, NULL);
        }
    }
}

/* Read the configuration; the store from MDStoreDir. 1 when MDStoreDir is set there. */
static int from_conf(mdctl_where_t *w, reader_t *r, const char *conf_file)
{
    const char *dir;

    r->server_root = DEFAULT_SERVER_ROOT;
    read_file(r, conf_file, 0, 0);
    if (!w->files->nelts) return 0;
    w->conf_file = conf_file;
    w->server_root = r->server_root;
    status_urls(r);
    if (w->store_dir) return 0;                    /* -d wins, the rest was for md-status */
    if (!r->store_dir) {
        looked(w, r->p, "%s and the %d file(s) it includes: no MDStoreDir", conf_file,
               w->files->nelts - 1);
        return 0;
    }
    dir = rooted(r, r->store_dir);
    if (is_dir(dir, r->p)) {
        looked(w, r->p, "MDStoreDir %s at %s: found", r->store_dir, r->store_at);
        w->store_dir = dir;
        w->store_from = apr_pstrcat(r->p, "MDStoreDir at ", r->store_at, NULL);
    }
    else {
        looked(w, r->p, "MDStoreDir %s at %s: %s does not exist", r->store_dir, r->store_at, dir);
    }
    return 1;
}

apr_status_t mdctl_find(mdctl_where_t **pwhere, const char *dir, const char *conf_file,
                        apr_pool_t *p)
{
    mdctl_where_t *w = apr_pcalloc(p, sizeof(*w));
    reader_t r;
    const char *def;
    int set_in_conf = 0;

    w->files = apr_array_make(p, 20, sizeof(const char *));
    w->status_urls = apr_array_make(p, 2, sizeof(mdctl_status_url_t *));
    w->looked = apr_array_make(p, 4, sizeof(const char *));
    w->local_80 = 80;
    *pwhere = w;
    /* 1. -d */
    if (dir) {
        if (!is_dir(dir, p)) {
            looked(w, p, "-d %s: does not exist", dir);
            return APR_ENOENT;
        }
        w->store_dir = dir;
        w->store_from = "-d";
    }
    /* 2. Apache's configuration: MDStoreDir, and the md-status handlers */
    if (!dir || conf_file) {
        memset(&r, 0, sizeof(r));
        r.w = w;
        r.p = p;
        r.listens = apr_array_make(p, 4, sizeof(listen_t *));
        r.locations = apr_array_make(p, 2, sizeof(location_t *));
        r.defines = apr_hash_make(p);
        set_in_conf = from_conf(w, &r, conf_file ? conf_file : MDCTL_APACHE_CONF);
    }
    if (w->store_dir) return APR_SUCCESS;
    if (set_in_conf) return APR_ENOENT;             /* MDStoreDir names a missing folder */
    /* 3. the default: md below ServerRoot (Debian: /etc/apache2/md) */
    def = apr_pstrcat(p, w->server_root ? w->server_root : DEFAULT_SERVER_ROOT, "/md", NULL);
    if (is_dir(def, p)) {
        looked(w, p, "the default store %s: found", def);
        w->store_dir = def;
        w->store_from = apr_pstrcat(p, "the default store (ServerRoot/md)", NULL);
        return APR_SUCCESS;
    }
    looked(w, p, "the default store %s: does not exist", def);
    return APR_ENOENT;
}

const char *mdctl_find_looked(const mdctl_where_t *where, apr_pool_t *p)
{
    return md_array_str_join(where->looked, "\n  ", p);
}
