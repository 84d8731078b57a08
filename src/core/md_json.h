/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The JSON wrapper: jansson values tied to an APR pool. Paths are given as a list of
 * object keys ending in NULL: md_json_gets(j, MD_KEY_CA, MD_KEY_URL, NULL).
 * Key names are constants in md_json_keys.h. */
#ifndef md_json_h
#define md_json_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_io.h>

typedef struct md_json_t md_json_t;

md_json_t *md_json_create(apr_pool_t *p);        /* an empty object */
md_json_t *md_json_create_array(apr_pool_t *p);  /* an empty array */
md_json_t *md_json_copy(const md_json_t *j, apr_pool_t *p);  /* deep copy */

apr_status_t md_json_parse(md_json_t **pj, const char *data, apr_size_t len, apr_pool_t *p);
apr_status_t md_json_readf(md_json_t **pj, const char *path, apr_pool_t *p);
/* Atomic, durable write (see md_file_write_atomic). */
apr_status_t md_json_writef(const md_json_t *j, const char *path, apr_fileperms_t perms,
                            apr_pool_t *p);

typedef enum { MD_JSON_COMPACT, MD_JSON_INDENT } md_json_fmt_t;
const char *md_json_dump(const md_json_t *j, md_json_fmt_t fmt, apr_pool_t *p);

int md_json_has(const md_json_t *j, ...);
int md_json_is_object(const md_json_t *j, ...);
int md_json_is_array(const md_json_t *j, ...);
const char *md_json_gets(const md_json_t *j, ...);
long md_json_getl(const md_json_t *j, ...);
int md_json_getb(const md_json_t *j, ...);
/* The value at the path, sharing the underlying data, or NULL. */
md_json_t *md_json_getj(const md_json_t *j, ...);
/* Array of const char* of a JSON array of strings; empty when absent. */
apr_array_header_t *md_json_getsa(const md_json_t *j, apr_pool_t *p, ...);

/* The member names of the object at the path, in their order; empty when absent. */
apr_array_header_t *md_json_keys(const md_json_t *j, apr_pool_t *p, ...);

/* Setters create intermediate objects along the path. */
void md_json_sets(const char *value, md_json_t *j, ...);
void md_json_setl(long value, md_json_t *j, ...);
void md_json_setb(int value, md_json_t *j, ...);
void md_json_setj(const md_json_t *value, md_json_t *j, ...);  /* shares the value */
void md_json_setsa(const apr_array_header_t *a, md_json_t *j, ...);
void md_json_del(md_json_t *j, ...);

/* Arrays. */
apr_size_t md_json_array_len(const md_json_t *j);
md_json_t *md_json_array_at(const md_json_t *j, apr_size_t i);
void md_json_array_append(md_json_t *arr, const md_json_t *value);
void md_json_array_insert_first(md_json_t *arr, const md_json_t *value, apr_size_t max_len);

/* Scalars as values (for arrays). */
const char *md_json_str(const md_json_t *j);

/* Escape hatch for code that must walk jansson values directly (the JWS signer). */
struct json_t;
struct json_t *md_json_raw(const md_json_t *j);

#endif
