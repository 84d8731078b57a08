/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Files under a directory handle: the one layer through which the store, and every
 * other file that root touches in a folder the unprivileged children may change, is
 * read and written (docs/security.md).
 *
 * A handle is a directory opened once; everything below it is reached one component
 * at a time with the *at() calls, never through a symbolic link (O_NOFOLLOW), so a
 * folder swapped for a link between two steps is refused, not followed. Files are
 * opened O_NONBLOCK and must be regular files (a FIFO never holds the caller);
 * ownership and modes are changed on an open descriptor, never by path; removal is
 * unlinkat() relative to a checked handle. Names are single path components. */
#ifndef md_fs_h
#define md_fs_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>

typedef struct md_fs_dir_t md_fs_dir_t;

/* Who gets what this layer creates: uid/gid -1 keep the caller's (only root changes
 * them). perms are the exact mode, whatever the umask. */
typedef struct {
    int uid, gid;
    apr_fileperms_t perms;
} md_fs_owner_t;

/* Set owner's mode (and, as root, its owner) on an open descriptor. */
apr_status_t md_fs_own_fd(int fd, const md_fs_owner_t *owner);

/* Open a directory by an administrator's path (links in it are followed: the path is
 * the configuration's). Closed with the pool. */
apr_status_t md_fs_dir_open(md_fs_dir_t **pdir, const char *path, apr_pool_t *p);
/* Open the directory `name` under `dir`, never through a link. With make, a missing
 * one is created with make's mode and owner. APR_ENOENT when missing, APR_ENOTDIR when
 * it is anything but a real directory. */
apr_status_t md_fs_dir_sub(md_fs_dir_t **pdir, const md_fs_dir_t *dir, const char *name,
                           const md_fs_owner_t *make, apr_pool_t *p);

/* Is `name` a valid single path component? */
int md_fs_name_ok(const char *name);

/* Read a regular file of at most max_len bytes (0: no limit), NUL-terminated.
 * APR_EINVAL when it is not a regular file, APR_ENOSPC when it is larger. */
apr_status_t md_fs_read(const char **pdata, apr_size_t *plen, const md_fs_dir_t *dir,
                        const char *name, apr_size_t max_len, apr_pool_t *p);
/* The same by an administrator's path (links in it followed), still O_NONBLOCK and
 * for a regular file only. */
apr_status_t md_fs_read_path(const char **pdata, apr_size_t *plen, const char *path,
                             apr_size_t max_len, apr_pool_t *p);
/* Replace `name` with data: a fresh temporary file of its own (never one that is
 * there), mode and owner set on the descriptor, written, fsynced when durable, renamed
 * over name, the directory fsynced when durable. */
apr_status_t md_fs_write(const md_fs_dir_t *dir, const char *name, const void *data,
                         apr_size_t len, const md_fs_owner_t *owner, int durable, apr_pool_t *p);
/* Append to `name` (created with owner's mode when missing); a regular file only. */
apr_status_t md_fs_append(const md_fs_dir_t *dir, const char *name, const char *text,
                          const md_fs_owner_t *owner, apr_pool_t *p);
/* What `name` is, without following a link: filetype (APR_LNK for a link), size,
 * mtime, inode, user and group. APR_ENOENT when missing. */
apr_status_t md_fs_stat(apr_finfo_t *info, const md_fs_dir_t *dir, const char *name);
/* Remove the entry `name` (a file or a link, never what a link points to); a missing
 * one is success. */
apr_status_t md_fs_remove(const md_fs_dir_t *dir, const char *name);
/* Remove `name` and, when it is a real directory, everything under it. Links are
 * removed, never followed; a missing name is success. */
apr_status_t md_fs_remove_tree(const md_fs_dir_t *dir, const char *name, apr_pool_t *p);
apr_status_t md_fs_rename(const md_fs_dir_t *from_dir, const char *from, const md_fs_dir_t *to_dir,
                          const char *to);
/* The names in a directory, without "." and ".."; with dirs_only, real directories only. */
apr_status_t md_fs_list(apr_array_header_t **pnames, const md_fs_dir_t *dir, int dirs_only,
                        apr_pool_t *p);
apr_status_t md_fs_sync(const md_fs_dir_t *dir);
/* Everything written to the file system the folder is on made durable (syncfs). */
apr_status_t md_fs_syncfs(const md_fs_dir_t *dir);

/* Open (creating it with owner) a regular file for writing to lock it; a link, a FIFO
 * or a file with other hard links in its place is removed and a fresh one made.
 * The caller closes the descriptor. */
apr_status_t md_fs_open_lockfile(int *pfd, const md_fs_dir_t *dir, const char *name,
                                 const md_fs_owner_t *owner);

/* Walk the tree below dir (depth levels at most), calling fn for dir itself and for
 * each real directory and regular file in it, with a descriptor opened without
 * following a link. Regular files with other hard links are skipped (they may be a
 * file elsewhere), so are links, FIFOs, sockets and devices. fn may fchown/fchmod. */
typedef void md_fs_visit_fn(void *baton, int fd, int is_dir, apr_fileperms_t perms);
void md_fs_walk(const md_fs_dir_t *dir, int depth, md_fs_visit_fn *fn, void *baton,
                apr_pool_t *p);

#endif
