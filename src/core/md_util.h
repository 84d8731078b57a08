/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Small helpers of the core: base64url, hex, string lists, files written durably.
 * Names are in md_names.h, times in md_time.h. */
#ifndef md_util_h
#define md_util_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_file_io.h>

/* base64url (RFC 4648 section 5) without padding. Decoding accepts input with or
 * without '=' padding and rejects any character outside the alphabet. */
const char *md_b64url_encode(const void *data, apr_size_t len, apr_pool_t *p);
apr_status_t md_b64url_decode(const unsigned char **pdata, apr_size_t *plen,
                              const char *s, apr_pool_t *p);

const char *md_hex_encode(const void *data, apr_size_t len, apr_pool_t *p);

/* String arrays (apr_array_header_t of const char*). */
int md_array_str_index(const apr_array_header_t *a, const char *s, int case_sensitive);
apr_array_header_t *md_array_str_copy(apr_pool_t *p, const apr_array_header_t *a);
int md_array_str_eq(const apr_array_header_t *a, const apr_array_header_t *b, int case_sensitive);
void md_array_str_add_unique(apr_array_header_t *a, const char *s, int case_sensitive);
const char *md_array_str_join(const apr_array_header_t *a, const char *sep, apr_pool_t *p);

/* A URL as it may be shown (status, job.json, logs): a password in it as "***". */
const char *md_url_masked(const char *url, apr_pool_t *p);

/* Files by an administrator's path (the last component is not followed when written
 * or removed; see md_fs.h). md_file_write_atomic writes a fresh "<path>.tmp", fsyncs
 * it, renames it over path and fsyncs the directory, so a crash leaves either the old
 * or the new content. */
apr_status_t md_file_write_atomic(const char *path, const void *data, apr_size_t len,
                                  apr_fileperms_t perms, apr_pool_t *p);
/* The same without fsync: for scratch files that are rebuilt when lost. */
apr_status_t md_file_write_scratch(const char *path, const void *data, apr_size_t len,
                                   apr_fileperms_t perms, apr_pool_t *p);
/* A regular file (links followed: certificate files are often links); never waits on
 * a FIFO. */
apr_status_t md_file_read(const char **pdata, apr_size_t *plen, const char *path,
                          apr_size_t max_len, apr_pool_t *p);
apr_status_t md_file_exists(const char *path, apr_pool_t *p);
apr_status_t md_dir_make(const char *path, apr_fileperms_t perms, apr_pool_t *p);
apr_status_t md_dir_remove_all(const char *path, apr_pool_t *p);
apr_status_t md_dir_list(apr_array_header_t **pnames, const char *path, int dirs_only,
                         apr_pool_t *p);

/* Crash points for the crash tests, only in the fault-injecting build (`make
 * fault-module`, -DMD_FAULT_POINTS): the process kills itself (SIGKILL) at the point
 * the environment variable MD_FAULT_POINT names, or stops itself (SIGSTOP) at
 * "<name>:stop". Nothing at all in the normal build. */
#ifdef MD_FAULT_POINTS
void md_fault_point(const char *name);
#define MD_FAULT(name) md_fault_point(name)
#else
#define MD_FAULT(name) ((void)0)
#endif

/* Random bytes from OpenSSL's CSPRNG. */
apr_status_t md_rand_bytes(unsigned char *buf, apr_size_t len);

#endif
