/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>
#include <openssl/rand.h>

#include "md_util.h"
#include "md_fs.h"

/* ---- base64url --------------------------------------------------------------- */

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *md_b64url_encode(const void *data, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *d = data;
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = B64URL[d[i] >> 2];
        *o++ = B64URL[((d[i] & 0x03) << 4) | (d[i + 1] >> 4)];
        *o++ = B64URL[((d[i + 1] & 0x0f) << 2) | (d[i + 2] >> 6)];
        *o++ = B64URL[d[i + 2] & 0x3f];
    }
    if (i < len) {
        *o++ = B64URL[d[i] >> 2];
        if (i + 1 < len) {
            *o++ = B64URL[((d[i] & 0x03) << 4) | (d[i + 1] >> 4)];
            *o++ = B64URL[(d[i + 1] & 0x0f) << 2];
        }
        else {
            *o++ = B64URL[(d[i] & 0x03) << 4];
        }
    }
    *o = '\0';
    return out;
}

static int b64url_value(char c)
{
    const char *pos = (c != '\0') ? strchr(B64URL, c) : NULL;
    return pos ? (int)(pos - B64URL) : -1;
}

apr_status_t md_b64url_decode(const unsigned char **pdata, apr_size_t *plen,
                              const char *s, apr_pool_t *p)
{
    apr_size_t n = strlen(s), i, o = 0;
    unsigned char *out;
    unsigned int acc = 0, bits = 0;
    int v;

    while (n > 0 && s[n - 1] == '=') --n;
    if (n % 4 == 1) return APR_EINVAL;
    out = apr_palloc(p, n * 3 / 4 + 1);
    for (i = 0; i < n; ++i) {
        v = b64url_value(s[i]);
        if (v < 0) return APR_EINVAL;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *pdata = out;
    *plen = o;
    return APR_SUCCESS;
}

const char *md_hex_encode(const void *data, apr_size_t len, apr_pool_t *p)
{
    static const char HEX[] = "0123456789abcdef";
    const unsigned char *d = data;
    char *out = apr_palloc(p, 2 * len + 1);
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        out[2 * i] = HEX[d[i] >> 4];
        out[2 * i + 1] = HEX[d[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

/* ---- string arrays ------------------------------------------------------------ */

int md_array_str_index(const apr_array_header_t *a, const char *s, int case_sensitive)
{
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        const char *e = APR_ARRAY_IDX(a, i, const char *);
        if (case_sensitive ? !strcmp(e, s) : !strcasecmp(e, s)) return i;
    }
    return -1;
}

apr_array_header_t *md_array_str_copy(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *c = apr_array_make(p, a ? a->nelts : 1, sizeof(const char *));
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        APR_ARRAY_PUSH(c, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(a, i, const char *));
    }
    return c;
}

int md_array_str_eq(const apr_array_header_t *a, const apr_array_header_t *b, int case_sensitive)
{
    int i, na = a ? a->nelts : 0, nb = b ? b->nelts : 0;

    if (na != nb) return 0;
    for (i = 0; i < na; ++i) {
        if (md_array_str_index(b, APR_ARRAY_IDX(a, i, const char *), case_sensitive) < 0) return 0;
    }
    return 1;
}

void md_array_str_add_unique(apr_array_header_t *a, const char *s, int case_sensitive)
{
    if (md_array_str_index(a, s, case_sensitive) < 0) APR_ARRAY_PUSH(a, const char *) = s;
}

const char *md_array_str_join(const apr_array_header_t *a, const char *sep, apr_pool_t *p)
{
    const char *s = "";
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        s = apr_pstrcat(p, s, i ? sep : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    }
    return s;
}

/* ---- URLs --------------------------------------------------------------------- */

const char *md_url_masked(const char *url, apr_pool_t *p)
{
    apr_uri_t uri;

    if (!url || !strchr(url, '@')) return url;
    /* a URL that does not parse is not shown at all: it may hold a password anywhere */
    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS) return "(a URL that does not parse)";
    if (!uri.password) return url;
    uri.password = "***";
    return apr_uri_unparse(p, &uri, APR_URI_UNP_REVEALPASSWORD);
}

/* ---- files: paths an administrator configured, opened through md_fs ---------------- */

/* The folder of path (opened following links: the path is the configuration's) and the
 * last component, which md_fs then reaches without following one. */
static apr_status_t path_split(md_fs_dir_t **pdir, const char **pname, const char *path,
                               apr_pool_t *p)
{
    char *dir = apr_pstrdup(p, path), *slash = strrchr(dir, '/');

    if (!slash) {
        *pname = path;
        return md_fs_dir_open(pdir, ".", p);
    }
    *pname = slash + 1;
    *slash = '\0';
    return md_fs_dir_open(pdir, dir[0] ? dir : "/", p);
}

static apr_status_t file_replace(const char *path, const void *data, apr_size_t len,
                                 apr_fileperms_t perms, int durable, apr_pool_t *p)
{
    md_fs_owner_t owner = { -1, -1, perms };
    md_fs_dir_t *dir;
    const char *name;
    apr_status_t rv = path_split(&dir, &name, path, p);

    return (rv == APR_SUCCESS) ? md_fs_write(dir, name, data, len, &owner, durable, p) : rv;
}

apr_status_t md_file_write_atomic(const char *path, const void *data, apr_size_t len,
                                  apr_fileperms_t perms, apr_pool_t *p)
{
    return file_replace(path, data, len, perms, 1, p);
}

apr_status_t md_file_write_scratch(const char *path, const void *data, apr_size_t len,
                                   apr_fileperms_t perms, apr_pool_t *p)
{
    return file_replace(path, data, len, perms, 0, p);
}

apr_status_t md_file_read(const char **pdata, apr_size_t *plen, const char *path,
                          apr_size_t max_len, apr_pool_t *p)
{
    return md_fs_read_path(pdata, plen, path, max_len, p);
}

apr_status_t md_file_exists(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_status_t rv = apr_stat(&info, path, APR_FINFO_TYPE, p);

    if (rv == APR_SUCCESS && info.filetype != APR_REG) return APR_EINVAL;
    return rv;
}

apr_status_t md_dir_make(const char *path, apr_fileperms_t perms, apr_pool_t *p)
{
    apr_status_t rv = apr_dir_make_recursive(path, perms, p);

    if (rv == APR_SUCCESS || APR_STATUS_IS_EEXIST(rv)) return APR_SUCCESS;
    return rv;
}

apr_status_t md_dir_list(apr_array_header_t **pnames, const char *path, int dirs_only,
                         apr_pool_t *p)
{
    md_fs_dir_t *dir;
    apr_status_t rv = md_fs_dir_open(&dir, path, p);

    *pnames = apr_array_make(p, 0, sizeof(const char *));
    return (rv == APR_SUCCESS) ? md_fs_list(pnames, dir, dirs_only, p) : rv;
}

apr_status_t md_dir_remove_all(const char *path, apr_pool_t *p)
{
    md_fs_dir_t *dir;
    const char *name;
    apr_status_t rv = path_split(&dir, &name, path, p);

    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    return (rv == APR_SUCCESS) ? md_fs_remove_tree(dir, name, p) : rv;
}

apr_status_t md_rand_bytes(unsigned char *buf, apr_size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? APR_SUCCESS : APR_EGENERAL;
}

#ifdef MD_FAULT_POINTS
void md_fault_point(const char *name)
{
    const char *want = getenv("MD_FAULT_POINT");
    apr_size_t len = strlen(name);

    if (!want || strncmp(want, name, len)) return;
    if (!want[len]) raise(SIGKILL);
    else if (!strcmp(want + len, ":stop")) raise(SIGSTOP);   /* paused: the test continues it */
}
#endif
