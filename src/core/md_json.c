/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <stdarg.h>
#include <apr_strings.h>
#include <jansson.h>

#include "md_json.h"
#include "md_util.h"

struct md_json_t {
    apr_pool_t *p;
    json_t *j;
};

#define MD_JSON_MAX_FILE (16 * 1024 * 1024)

static apr_status_t json_cleanup(void *data)
{
    md_json_t *w = data;

    json_decref(w->j);
    w->j = NULL;
    return APR_SUCCESS;
}

/* Wrap a jansson value whose reference the wrapper now owns. */
static md_json_t *json_own(json_t *j, apr_pool_t *p)
{
    md_json_t *w = apr_palloc(p, sizeof(*w));

    w->p = p;
    w->j = j;
    apr_pool_cleanup_register(p, w, json_cleanup, apr_pool_cleanup_null);
    return w;
}

md_json_t *md_json_create(apr_pool_t *p) { return json_own(json_object(), p); }
md_json_t *md_json_create_array(apr_pool_t *p) { return json_own(json_array(), p); }

md_json_t *md_json_copy(const md_json_t *j, apr_pool_t *p)
{
    return json_own(json_deep_copy(j->j), p);
}

struct json_t *md_json_raw(const md_json_t *j) { return j ? j->j : NULL; }

apr_status_t md_json_parse(md_json_t **pj, const char *data, apr_size_t len, apr_pool_t *p)
{
    json_error_t err;
    json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &err);

    *pj = NULL;
    if (!j) return APR_EINVAL;
    *pj = json_own(j, p);
    return APR_SUCCESS;
}

apr_status_t md_json_readf(md_json_t **pj, const char *path, apr_pool_t *p)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *pj = NULL;
    rv = md_file_read(&data, &len, path, MD_JSON_MAX_FILE, p);
    if (rv != APR_SUCCESS) return rv;
    return md_json_parse(pj, data, len, p);
}

const char *md_json_dump(const md_json_t *j, md_json_fmt_t fmt, apr_pool_t *p)
{
    size_t flags = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER;
    char *s, *copy;

    if (fmt == MD_JSON_INDENT) flags |= JSON_INDENT(2);
    else flags |= JSON_COMPACT;
    s = json_dumps(j->j, flags);
    if (!s) return NULL;
    copy = apr_pstrdup(p, s);
    free(s);  /* jansson's allocation, released right here */
    return copy;
}

apr_status_t md_json_writef(const md_json_t *j, const char *path, apr_fileperms_t perms,
                            apr_pool_t *p)
{
    const char *s = md_json_dump(j, MD_JSON_INDENT, p);

    if (!s) return APR_EINVAL;
    return md_file_write_atomic(path, s, strlen(s), perms, p);
}

/* ---- paths -------------------------------------------------------------------- */

static json_t *path_get(json_t *j, va_list ap)
{
    const char *key;

    while (j && (key = va_arg(ap, const char *)) != NULL) {
        j = json_is_object(j) ? json_object_get(j, key) : NULL;
    }
    return j;
}

/* Walk the path, creating objects, and set the last key to value (reference stolen). */
static void path_set(json_t *j, json_t *value, va_list ap)
{
    const char *key = va_arg(ap, const char *), *next;
    json_t *child;

    if (!key || !json_is_object(j)) {
        json_decref(value);
        return;
    }
    while ((next = va_arg(ap, const char *)) != NULL) {
        child = json_object_get(j, key);
        if (!json_is_object(child)) {
            child = json_object();
            json_object_set_new(j, key, child);
        }
        j = child;
        key = next;
    }
    json_object_set_new(j, key, value);
}

#define GET_AT(j, last) ({ va_list ap_; json_t *v_; va_start(ap_, last); \
                           v_ = path_get((j)->j, ap_); va_end(ap_); v_; })
#define SET_AT(j, value) do { va_list ap_; va_start(ap_, j); \
                              path_set((j)->j, (value), ap_); va_end(ap_); } while (0)

int md_json_has(const md_json_t *j, ...) { return GET_AT(j, j) != NULL; }
int md_json_is_object(const md_json_t *j, ...) { return json_is_object(GET_AT(j, j)); }
int md_json_is_array(const md_json_t *j, ...) { return json_is_array(GET_AT(j, j)); }

const char *md_json_gets(const md_json_t *j, ...)
{
    json_t *v = GET_AT(j, j);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long md_json_getl(const md_json_t *j, ...)
{
    json_t *v = GET_AT(j, j);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

int md_json_getb(const md_json_t *j, ...)
{
    json_t *v = GET_AT(j, j);
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    return json_is_true(v);
}

md_json_t *md_json_getj(const md_json_t *j, ...)
{
    json_t *v = GET_AT(j, j);
    return v ? json_own(json_incref(v), j->p) : NULL;
}

apr_array_header_t *md_json_getsa(const md_json_t *j, apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 5, sizeof(const char *));
    json_t *v = GET_AT(j, p), *e;
    size_t i;

    json_array_foreach(v, i, e) {
        if (json_is_string(e)) APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, json_string_value(e));
    }
    return a;
}

apr_array_header_t *md_json_keys(const md_json_t *j, apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 5, sizeof(const char *));
    json_t *v = GET_AT(j, p), *e;
    const char *key;

    json_object_foreach(v, key, e) {
        APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, key);
    }
    return a;
}

void md_json_sets(const char *value, md_json_t *j, ...)
{
    SET_AT(j, value ? json_string(value) : json_null());
}

void md_json_setl(long value, md_json_t *j, ...) { SET_AT(j, json_integer(value)); }
void md_json_setb(int value, md_json_t *j, ...) { SET_AT(j, json_boolean(value)); }

void md_json_setj(const md_json_t *value, md_json_t *j, ...)
{
    SET_AT(j, value ? json_incref(value->j) : json_null());
}

void md_json_setsa(const apr_array_header_t *a, md_json_t *j, ...)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i, const char *)));
    }
    SET_AT(j, arr);
}

void md_json_del(md_json_t *j, ...)
{
    va_list ap;
    const char *key, *next;
    json_t *v = j->j;

    va_start(ap, j);
    key = va_arg(ap, const char *);
    while (key && v && (next = va_arg(ap, const char *)) != NULL) {
        v = json_object_get(v, key);
        key = next;
    }
    va_end(ap);
    if (key && json_is_object(v)) json_object_del(v, key);
}

/* ---- arrays and scalars ---------------------------------------------------------- */

apr_size_t md_json_array_len(const md_json_t *j)
{
    return (j && json_is_array(j->j)) ? json_array_size(j->j) : 0;
}

md_json_t *md_json_array_at(const md_json_t *j, apr_size_t i)
{
    json_t *v = json_array_get(j->j, i);
    return v ? json_own(json_incref(v), j->p) : NULL;
}

void md_json_array_append(md_json_t *arr, const md_json_t *value)
{
    json_array_append(arr->j, value->j);
}

void md_json_array_insert_first(md_json_t *arr, const md_json_t *value, apr_size_t max_len)
{
    json_array_insert(arr->j, 0, value->j);
    while (max_len && json_array_size(arr->j) > max_len) {
        json_array_remove(arr->j, json_array_size(arr->j) - 1);
    }
}

const char *md_json_str(const md_json_t *j)
{
    return (j && json_is_string(j->j)) ? json_string_value(j->j) : NULL;
}
