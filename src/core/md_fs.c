/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_fs.h"

#define MD_FS_MAX_DEPTH 16      /* no folder of the store is deeper */

struct md_fs_dir_t {
    int fd;
};

/* ---- modes and descriptors ------------------------------------------------------ */

static const struct { apr_fileperms_t perm; mode_t mode; } PERM_BITS[] = {
    { APR_FPROT_USETID, S_ISUID }, { APR_FPROT_GSETID, S_ISGID }, { APR_FPROT_WSTICKY, S_ISVTX },
    { APR_FPROT_UREAD, S_IRUSR }, { APR_FPROT_UWRITE, S_IWUSR }, { APR_FPROT_UEXECUTE, S_IXUSR },
    { APR_FPROT_GREAD, S_IRGRP }, { APR_FPROT_GWRITE, S_IWGRP }, { APR_FPROT_GEXECUTE, S_IXGRP },
    { APR_FPROT_WREAD, S_IROTH }, { APR_FPROT_WWRITE, S_IWOTH }, { APR_FPROT_WEXECUTE, S_IXOTH },
};

static mode_t perms_mode(apr_fileperms_t perms)
{
    mode_t mode = 0;
    size_t i;

    for (i = 0; i < sizeof(PERM_BITS) / sizeof(PERM_BITS[0]); ++i) {
        if (perms & PERM_BITS[i].perm) mode |= PERM_BITS[i].mode;
    }
    return mode;
}

static apr_fileperms_t mode_perms(mode_t mode)
{
    apr_fileperms_t perms = 0;
    size_t i;

    for (i = 0; i < sizeof(PERM_BITS) / sizeof(PERM_BITS[0]); ++i) {
        if (mode & PERM_BITS[i].mode) perms |= PERM_BITS[i].perm;
    }
    return perms;
}

static apr_status_t os_error(void)
{
    return APR_FROM_OS_ERROR(errno);
}

static apr_status_t fd_cleanup(void *data)
{
    int *pfd = data;

    if (*pfd >= 0) close(*pfd);
    *pfd = -1;
    return APR_SUCCESS;
}

static md_fs_dir_t *dir_wrap(int fd, apr_pool_t *p)
{
    md_fs_dir_t *dir = apr_palloc(p, sizeof(*dir));

    dir->fd = fd;
    apr_pool_cleanup_register(p, &dir->fd, fd_cleanup, apr_pool_cleanup_null);
    return dir;
}

/* Mode and owner on the descriptor itself: the path may be someone else's by now. */
apr_status_t md_fs_own_fd(int fd, const md_fs_owner_t *owner)
{
    if (fchmod(fd, perms_mode(owner->perms)) != 0) return os_error();
    if ((owner->uid >= 0 || owner->gid >= 0) && geteuid() == 0
        && fchown(fd, (uid_t)owner->uid, (gid_t)owner->gid) != 0) {
        return os_error();
    }
    return APR_SUCCESS;
}

int md_fs_name_ok(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* ---- directories ---------------------------------------------------------------- */

apr_status_t md_fs_dir_open(md_fs_dir_t **pdir, const char *path, apr_pool_t *p)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    *pdir = NULL;
    if (fd < 0) return os_error();
    *pdir = dir_wrap(fd, p);
    return APR_SUCCESS;
}

static int sub_open(const md_fs_dir_t *dir, const char *name)
{
    return openat(dir->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* A directory of ours still as mkdirat left it: its maker died before giving it make's
 * mode and owner (a killed renewal). Finished by the next one who would make it. */
static int make_interrupted(int fd, const md_fs_owner_t *make)
{
    struct stat st;

    return fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) == 0700
           && perms_mode(make->perms) != 0700;
}

apr_status_t md_fs_dir_sub(md_fs_dir_t **pdir, const md_fs_dir_t *dir, const char *name,
                           const md_fs_owner_t *make, apr_pool_t *p)
{
    apr_status_t rv;
    int fd, made = 0;

    *pdir = NULL;
    if (!md_fs_name_ok(name)) return APR_EINVAL;
    fd = sub_open(dir, name);
    if (fd < 0 && errno == ENOENT && make) {
        /* 1. made here, or by someone else meanwhile: either way opened without a link */
        made = (mkdirat(dir->fd, name, 0700) == 0);
        if (!made && errno != EEXIST) return os_error();
        fd = sub_open(dir, name);
    }
    /* 2. a link (ELOOP) or a file in its place is not a directory of ours */
    if (fd < 0) return (errno == ELOOP) ? APR_ENOTDIR : os_error();
    if (make && !made) made = make_interrupted(fd, make);
    if (made) {
        rv = md_fs_own_fd(fd, make);
        if (rv != APR_SUCCESS) {
            close(fd);
            return rv;
        }
    }
    *pdir = dir_wrap(fd, p);
    return APR_SUCCESS;
}

/* ---- files ---------------------------------------------------------------------- */

static int file_open(const md_fs_dir_t *dir, const char *name, int flags, mode_t mode)
{
    return openat(dir->fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
}

static apr_status_t read_all(int fd, char *buf, apr_size_t len, apr_size_t *pread)
{
    apr_size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return os_error();
        if (n == 0) break;
        got += (apr_size_t)n;
    }
    *pread = got;
    return APR_SUCCESS;
}

/* Read what fd holds: a regular file only (a FIFO or a device is nothing we wrote). */
static apr_status_t fd_read(const char **pdata, apr_size_t *plen, int fd, apr_size_t max_len,
                            apr_pool_t *p)
{
    struct stat st;
    apr_size_t len = 0;
    apr_status_t rv;
    char *buf;

    if (fstat(fd, &st) != 0) return os_error();
    if (!S_ISREG(st.st_mode)) return APR_EINVAL;
    if (max_len && (apr_size_t)st.st_size > max_len) return APR_ENOSPC;
    buf = apr_palloc(p, (apr_size_t)st.st_size + 1);
    rv = read_all(fd, buf, (apr_size_t)st.st_size, &len);
    if (rv != APR_SUCCESS) return rv;
    buf[len] = '\0';
    *pdata = buf;
    if (plen) *plen = len;
    return APR_SUCCESS;
}

apr_status_t md_fs_read(const char **pdata, apr_size_t *plen, const md_fs_dir_t *dir,
                        const char *name, apr_size_t max_len, apr_pool_t *p)
{
    apr_status_t rv;
    int fd;

    if (!md_fs_name_ok(name)) return APR_EINVAL;
    fd = file_open(dir, name, O_RDONLY, 0);
    if (fd < 0) return (errno == ELOOP) ? APR_EINVAL : os_error();
    rv = fd_read(pdata, plen, fd, max_len, p);
    close(fd);
    return rv;
}

apr_status_t md_fs_read_path(const char **pdata, apr_size_t *plen, const char *path,
                             apr_size_t max_len, apr_pool_t *p)
{
    apr_status_t rv;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) return os_error();
    rv = fd_read(pdata, plen, fd, max_len, p);
    close(fd);
    return rv;
}

static apr_status_t write_all(int fd, const char *data, apr_size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return os_error();
        data += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t md_fs_write(const md_fs_dir_t *dir, const char *name, const void *data,
                         apr_size_t len, const md_fs_owner_t *owner, int durable, apr_pool_t *p)
{
    const char *tmp = apr_pstrcat(p, name, ".tmp", NULL);
    apr_status_t rv;
    int fd;

    if (!md_fs_name_ok(name)) return APR_EINVAL;
    /* 1. a fresh file: a leftover of a crash (or anything put in its place) goes */
    unlinkat(dir->fd, tmp, 0);
    fd = file_open(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return os_error();
    /* 2. mode and owner on the descriptor, then the content */
    rv = md_fs_own_fd(fd, owner);
    if (rv == APR_SUCCESS) rv = write_all(fd, data, len);
    if (rv == APR_SUCCESS && durable && fsync(fd) != 0) rv = os_error();
    if (close(fd) != 0 && rv == APR_SUCCESS) rv = os_error();
    /* 3. in place at once; the directory entry made durable */
    if (rv == APR_SUCCESS && renameat(dir->fd, tmp, dir->fd, name) != 0) rv = os_error();
    if (rv != APR_SUCCESS) {
        unlinkat(dir->fd, tmp, 0);
        return rv;
    }
    return durable ? md_fs_sync(dir) : APR_SUCCESS;
}

/* An open descriptor of a file we may write into: regular, and no other name for it. */
static int fd_is_own_file(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
}

/* Open name for writing, creating it with owner; what is not a plain file of its own
 * in its place (a link, a FIFO, a hard link to a file elsewhere) is removed first. */
static apr_status_t own_file_open(int *pfd, const md_fs_dir_t *dir, const char *name, int flags,
                                  const md_fs_owner_t *owner)
{
    int fd, tries;

    *pfd = -1;
    if (!md_fs_name_ok(name)) return APR_EINVAL;
    for (tries = 0; tries < 2; ++tries) {
        fd = file_open(dir, name, O_WRONLY | flags, 0600);
        if (fd < 0 && errno == ENOENT) {
            fd = file_open(dir, name, O_WRONLY | O_CREAT | O_EXCL | flags, 0600);
            if (fd >= 0 && md_fs_own_fd(fd, owner) != APR_SUCCESS) {
                /* made, but not given away: whoever needs it says so when it fails */
            }
        }
        if (fd >= 0 && fd_is_own_file(fd)) {
            *pfd = fd;
            return APR_SUCCESS;
        }
        if (fd >= 0) close(fd);
        else if (errno != ELOOP && errno != ENXIO && errno != EEXIST) return os_error();
        unlinkat(dir->fd, name, 0);
    }
    return APR_EINVAL;
}

apr_status_t md_fs_append(const md_fs_dir_t *dir, const char *name, const char *text,
                          const md_fs_owner_t *owner, apr_pool_t *p)
{
    apr_status_t rv;
    int fd;

    rv = own_file_open(&fd, dir, name, O_APPEND, owner);
    if (rv != APR_SUCCESS) return rv;
    rv = write_all(fd, text, strlen(text));
    close(fd);
    return rv;
}

apr_status_t md_fs_open_lockfile(int *pfd, const md_fs_dir_t *dir, const char *name,
                                 const md_fs_owner_t *owner)
{
    /* blocking from here on is no matter: fcntl locks are taken non-blocking */
    return own_file_open(pfd, dir, name, 0, owner);
}

apr_status_t md_fs_stat(apr_finfo_t *info, const md_fs_dir_t *dir, const char *name)
{
    struct stat st;

    memset(info, 0, sizeof(*info));
    if (!md_fs_name_ok(name)) return APR_EINVAL;
    if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return os_error();
    info->filetype = S_ISREG(st.st_mode) ? APR_REG : S_ISDIR(st.st_mode) ? APR_DIR
                   : S_ISLNK(st.st_mode) ? APR_LNK : APR_UNKFILE;
    info->size = st.st_size;
    info->inode = st.st_ino;
    info->user = st.st_uid;
    info->group = st.st_gid;
    info->protection = mode_perms(st.st_mode);
    info->mtime = apr_time_from_sec(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1000;
    info->valid = APR_FINFO_TYPE | APR_FINFO_SIZE | APR_FINFO_INODE | APR_FINFO_OWNER
                  | APR_FINFO_PROT | APR_FINFO_MTIME;
    return APR_SUCCESS;
}

/* ---- removing, renaming, listing -------------------------------------------------- */


apr_status_t md_fs_remove(const md_fs_dir_t *dir, const char *name)
{
    if (!md_fs_name_ok(name)) return APR_EINVAL;
    if (unlinkat(dir->fd, name, 0) == 0 || errno == ENOENT) return APR_SUCCESS;
    return os_error();
}

static apr_status_t tree_remove(const md_fs_dir_t *dir, const char *name, int depth, apr_pool_t *p)
{
    md_fs_dir_t *sub;
    apr_array_header_t *names;
    apr_pool_t *ptmp;
    apr_status_t rv;
    int i;

    /* 1. a file, a link, a FIFO: the entry goes, nothing is opened or followed */
    if (unlinkat(dir->fd, name, 0) == 0 || errno == ENOENT) return APR_SUCCESS;
    if (errno != EISDIR && errno != EPERM) return os_error();
    if (depth > MD_FS_MAX_DEPTH) return APR_EINVAL;
    /* 2. a real directory: emptied through its own handle (closed with ptmp), removed */
    apr_pool_create(&ptmp, p);
    rv = md_fs_dir_sub(&sub, dir, name, NULL, ptmp);
    if (rv == APR_SUCCESS) rv = md_fs_list(&names, sub, 0, ptmp);
    for (i = 0; rv == APR_SUCCESS && i < names->nelts; ++i) {
        rv = tree_remove(sub, APR_ARRAY_IDX(names, i, const char *), depth + 1, ptmp);
    }
    apr_pool_destroy(ptmp);
    if (rv != APR_SUCCESS) return rv;
    if (unlinkat(dir->fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return APR_SUCCESS;
    return os_error();
}

apr_status_t md_fs_remove_tree(const md_fs_dir_t *dir, const char *name, apr_pool_t *p)
{
    if (!md_fs_name_ok(name)) return APR_EINVAL;
    return tree_remove(dir, name, 0, p);
}

apr_status_t md_fs_rename(const md_fs_dir_t *from_dir, const char *from, const md_fs_dir_t *to_dir,
                          const char *to)
{
    if (!md_fs_name_ok(from) || !md_fs_name_ok(to)) return APR_EINVAL;
    return renameat(from_dir->fd, from, to_dir->fd, to) == 0 ? APR_SUCCESS : os_error();
}

apr_status_t md_fs_list(apr_array_header_t **pnames, const md_fs_dir_t *dir, int dirs_only,
                        apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 10, sizeof(const char *));
    struct dirent *e;
    struct stat st;
    DIR *d;
    int fd;

    *pnames = names;
    /* a descriptor of its own: readdir moves its offset */
    fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return os_error();
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return os_error();
    }
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (dirs_only && e->d_type != DT_DIR
            && (e->d_type != DT_UNKNOWN || fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
                || !S_ISDIR(st.st_mode))) {
            continue;
        }
        APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, e->d_name);
    }
    closedir(d);
    return APR_SUCCESS;
}

apr_status_t md_fs_syncfs(const md_fs_dir_t *dir)
{
    return (syncfs(dir->fd) == 0) ? APR_SUCCESS : os_error();
}

apr_status_t md_fs_sync(const md_fs_dir_t *dir)
{
    /* some file systems refuse fsync on directories: that is not a failed write */
    if (fsync(dir->fd) == 0 || errno == EINVAL || errno == EBADF) return APR_SUCCESS;
    return os_error();
}

/* ---- walking a tree ---------------------------------------------------------------- */

/* Called with a pool of its own: the handles it opens are closed when it returns. */
static void walk_entry(const md_fs_dir_t *dir, const char *name, int depth, md_fs_visit_fn *fn,
                       void *baton, apr_pool_t *p)
{
    md_fs_dir_t *sub;
    struct stat st;
    int fd;

    /* 1. a directory: through a handle opened without a link, then what is in it */
    if (md_fs_dir_sub(&sub, dir, name, NULL, p) == APR_SUCCESS) {
        md_fs_walk(sub, depth - 1, fn, baton, p);
        return;
    }
    /* 2. a regular file of its own (no FIFO waits: opened non-blocking, checked after) */
    fd = file_open(dir, name, O_RDONLY, 0);
    if (fd < 0) return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
        fn(baton, fd, 0, mode_perms(st.st_mode));
    }
    close(fd);
}

void md_fs_walk(const md_fs_dir_t *dir, int depth, md_fs_visit_fn *fn, void *baton,
                apr_pool_t *p)
{
    apr_array_header_t *names;
    apr_pool_t *ptmp, *pentry;
    struct stat st;
    int i;

    if (fstat(dir->fd, &st) != 0) return;
    fn(baton, dir->fd, 1, mode_perms(st.st_mode));
    if (depth <= 0) return;
    apr_pool_create(&ptmp, p);
    apr_pool_create(&pentry, ptmp);
    if (md_fs_list(&names, dir, 0, ptmp) == APR_SUCCESS) {
        for (i = 0; i < names->nelts; ++i) {
            walk_entry(dir, APR_ARRAY_IDX(names, i, const char *), depth, fn, baton, pentry);
            apr_pool_clear(pentry);
        }
    }
    apr_pool_destroy(ptmp);
}
