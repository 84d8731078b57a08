/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The status snapshot file (docs/status.md): the status of every MD, so that answering
 * a status request never reads the store. The parent writes it whole at start; the
 * renewal watchdog refreshes one MD after each job. Each MD's entry is kept as text, so
 * an update re-serializes one entry, not 10,000.
 *
 * The file is written whole, so the watchdog writes it at most once a second
 * (MD_SNAP_WRITE_GAP): renewals finishing meanwhile are written together by the next
 * update or md_status_snapshot_flush(). A wave of 10,000 renewals thus writes the file
 * a few hundred times, not 10,000 times.
 *
 * Format: {"version":..., "written":..., "stats":{...}, "managed-domains":[...]}.
 * It is derived data, rebuilt at every start: written to a unique temporary file and
 * renamed over the old one (readers see the old or the new file, never a mix), without
 * fsync (after a crash, the next start rewrites it anyway). */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "md_json_keys.h"
#include "md_log.h"
#include "md_status.h"
#include "md_util.h"
#include "md_version.h"
#include "md_time.h"

#define MD_SNAP_MAX_SIZE (1024 * 1024 * 1024)
/* rebuild the cache pool when this much more than the live entries was allocated */
#define MD_SNAP_GARBAGE_SLACK (4 * 1024 * 1024)
#define MD_SNAP_WRITE_GAP apr_time_from_sec(1)

typedef struct {
    const char *name;
    const char *text;               /* the entry's compact JSON */
} snap_entry_t;

struct md_status_snap_t {
    const char *path;
    apr_pool_t *cache;              /* the entries known to this process, own pool */
    apr_array_header_t *entries;    /* snap_entry_t, sorted by name */
    apr_uint64_t stats[MD_STAT_COUNT];
    apr_size_t live, garbage;       /* bytes of entry text in use / replaced */
    apr_time_t mtime;               /* of the file as we last wrote or read it */
    apr_ino_t inode;
    int loaded;
    int uid, gid;                   /* the file's owner when root writes it; -1: keep */
    int dirty;                      /* updated since it was last written */
    apr_time_t written_at;          /* by this process */
    apr_thread_mutex_t *lock;       /* updates from several renewal threads */
};

static apr_status_t snap_cleanup(void *data)
{
    md_status_snap_t *snap = data;

    if (snap->cache) apr_pool_destroy(snap->cache);
    snap->cache = NULL;
    snap->loaded = 0;
    return APR_SUCCESS;
}

md_status_snap_t *md_status_snap_make(const char *path, apr_pool_t *p)
{
    md_status_snap_t *snap = apr_pcalloc(p, sizeof(*snap));

    snap->path = apr_pstrdup(p, path);
    snap->uid = snap->gid = -1;
    apr_thread_mutex_create(&snap->lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_pool_cleanup_register(p, snap, snap_cleanup, apr_pool_cleanup_null);
    return snap;
}

const char *md_status_snap_path(const md_status_snap_t *snap) { return snap->path; }

void md_status_snap_set_owner(md_status_snap_t *snap, int uid, int gid)
{
    snap->uid = uid;
    snap->gid = gid;
}

/* ---- the in-memory copy ------------------------------------------------------------ */

static void cache_reset(md_status_snap_t *snap)
{
    if (snap->cache) apr_pool_destroy(snap->cache);
    apr_pool_create_unmanaged_ex(&snap->cache, NULL, NULL);
    snap->entries = apr_array_make(snap->cache, 64, sizeof(snap_entry_t));
    snap->live = snap->garbage = 0;
    snap->loaded = 0;
    snap->dirty = 0;
}

static void stats_from_json(apr_uint64_t stats[MD_STAT_COUNT], const md_json_t *j)
{
    int i;

    for (i = 0; i < MD_STAT_COUNT; ++i) {
        long v = j ? md_json_getl(j, MD_KEY_STATS, md_stats_name((md_stat_t)i), NULL) : 0;
        stats[i] = v > 0 ? (apr_uint64_t)v : 0;
    }
}

apr_status_t md_status_snap_read(md_json_t **phead, apr_array_header_t **pentries,
                                 const char *path, apr_pool_t *p)
{
    apr_array_header_t *entries = apr_array_make(p, 64, sizeof(const char *));
    char *data, *line, *end, *last;
    apr_size_t len;
    apr_status_t rv;

    *phead = NULL;
    *pentries = entries;
    rv = md_file_read((const char **)&data, &len, path, MD_SNAP_MAX_SIZE, p);
    if (rv != APR_SUCCESS) return rv;
    /* 1. the first line: the header object up to the MDs' array, closed here */
    line = apr_strtok(data, "\n", &last);
    if (!line) return APR_EINVAL;
    rv = md_json_parse(phead, apr_pstrcat(p, line, "]}", NULL), strlen(line) + 2, p);
    if (rv != APR_SUCCESS) return rv;
    /* 2. an MD per line, up to the closing "]}" */
    for (line = apr_strtok(NULL, "\n", &last); line && *line == '{';
         line = apr_strtok(NULL, "\n", &last)) {
        end = line + strlen(line);
        if (end[-1] == ',') *--end = '\0';
        APR_ARRAY_PUSH(entries, const char *) = line;
    }
    return line && !strcmp(line, "]}") ? APR_SUCCESS : APR_EINVAL;
}

static void file_identity(md_status_snap_t *snap, apr_pool_t *p)
{
    apr_finfo_t info;

    if (apr_stat(&info, snap->path, APR_FINFO_MTIME | APR_FINFO_INODE, p) == APR_SUCCESS) {
        snap->mtime = info.mtime;
        snap->inode = info.inode;
    }
}

/* Read the file into the cache, unless it is the one we know. */
static apr_status_t cache_sync(md_status_snap_t *snap, apr_pool_t *p)
{
    apr_array_header_t *entries;
    md_json_t *head, *e;
    apr_pool_t *ptemp;
    apr_finfo_t info;
    apr_status_t rv;
    int i;

    rv = apr_stat(&info, snap->path, APR_FINFO_MTIME | APR_FINFO_INODE, p);
    if (rv != APR_SUCCESS) return rv;
    if (snap->loaded && info.mtime == snap->mtime && info.inode == snap->inode) return APR_SUCCESS;
    cache_reset(snap);
    rv = md_status_snap_read(&head, &entries, snap->path, p);
    if (rv != APR_SUCCESS) return rv;
    stats_from_json(snap->stats, head);
    /* the entries stay text; each is parsed just for its name */
    apr_pool_create(&ptemp, p);
    for (i = 0; i < entries->nelts; ++i) {
        const char *text = APR_ARRAY_IDX(entries, i, const char *);
        snap_entry_t *se;
        apr_pool_clear(ptemp);
        if (md_json_parse(&e, text, strlen(text), ptemp) != APR_SUCCESS) continue;
        se = apr_array_push(snap->entries);
        se->name = apr_pstrdup(snap->cache, md_json_gets(e, MD_KEY_NAME, NULL));
        se->text = apr_pstrdup(snap->cache, text);
        snap->live += strlen(se->text);
    }
    apr_pool_destroy(ptemp);
    snap->mtime = info.mtime;
    snap->inode = info.inode;
    snap->loaded = 1;
    return APR_SUCCESS;
}

/* Copy the live entries into a fresh pool when replaced texts pile up. */
static void cache_compact(md_status_snap_t *snap)
{
    apr_pool_t *old = snap->cache, *fresh;
    apr_array_header_t *entries;
    int i;

    if (snap->garbage < snap->live + MD_SNAP_GARBAGE_SLACK) return;
    apr_pool_create_unmanaged_ex(&fresh, NULL, NULL);
    entries = apr_array_make(fresh, snap->entries->nelts, sizeof(snap_entry_t));
    for (i = 0; i < snap->entries->nelts; ++i) {
        snap_entry_t *from = &APR_ARRAY_IDX(snap->entries, i, snap_entry_t);
        snap_entry_t *to = apr_array_push(entries);
        to->name = apr_pstrdup(fresh, from->name);
        to->text = apr_pstrdup(fresh, from->text);
    }
    snap->cache = fresh;
    snap->entries = entries;
    snap->garbage = 0;
    apr_pool_destroy(old);
}

/* ---- the file ------------------------------------------------------------------------ */

static const char *header_text(md_status_snap_t *snap, apr_pool_t *p)
{
    md_json_t *j = md_json_create(p);
    const char *s;
    int i;

    md_json_sets(MOD_MD_VERSION, j, MD_KEY_VERSION, NULL);
    md_json_sets(md_time_print(apr_time_now(), p), j, MD_KEY_WRITTEN, NULL);
    for (i = 0; i < MD_STAT_COUNT; ++i) {
        md_json_setl((long)snap->stats[i], j, MD_KEY_STATS, md_stats_name((md_stat_t)i), NULL);
    }
    s = md_json_dump(j, MD_JSON_COMPACT, p);
    /* the object without its closing brace: the MDs follow */
    return apr_pstrndup(p, s, strlen(s) - 1);
}

static apr_status_t file_write(md_status_snap_t *snap, apr_pool_t *p)
{
    const char *head = header_text(snap, p), *mid = ",\"" MD_KEY_MANAGED_DOMAINS "\":[";
    char *tmp = apr_pstrcat(p, snap->path, ".XXXXXX", NULL), *buf, *at;
    apr_size_t len = strlen(head) + strlen(mid) + snap->live + 2 * (apr_size_t)snap->entries->nelts + 4;
    apr_os_file_t fd;
    apr_file_t *f;
    apr_status_t rv;
    int i;

    /* 1. the whole file in one buffer: the entries are text already, one per line */
    at = buf = apr_palloc(p, len + 1);
    at = apr_cpystrn(at, head, len + 1 - (apr_size_t)(at - buf));
    at = apr_cpystrn(at, mid, len + 1 - (apr_size_t)(at - buf));
    for (i = 0; i < snap->entries->nelts; ++i) {
        if (i) *at++ = ',';
        *at++ = '\n';
        at = apr_cpystrn(at, APR_ARRAY_IDX(snap->entries, i, snap_entry_t).text,
                         len + 1 - (apr_size_t)(at - buf));
    }
    at = apr_cpystrn(at, "\n]}\n", len + 1 - (apr_size_t)(at - buf));
    /* 2. a temporary file of our own, renamed over the snapshot */
    rv = apr_file_mktemp(&f, tmp, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p);
    if (rv != APR_SUCCESS) return rv;
    /* mode and owner on the descriptor (the children may swap the name for a link
     * meanwhile): the children read it, nobody else needs to */
    apr_os_file_get(&fd, f);
    rv = (fchmod(fd, 0640) == 0) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (rv == APR_SUCCESS && snap->uid >= 0 && geteuid() == 0
        && fchown(fd, (uid_t)snap->uid, (gid_t)snap->gid) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv == APR_SUCCESS) rv = apr_file_write_full(f, buf, (apr_size_t)(at - buf), NULL);
    apr_file_close(f);
    if (rv == APR_SUCCESS) rv = apr_file_rename(tmp, snap->path, p);
    if (rv != APR_SUCCESS) apr_file_remove(tmp, p);
    if (rv == APR_SUCCESS) {
        file_identity(snap, p);
        snap->dirty = 0;
        snap->written_at = apr_time_now();
    }
    return rv;
}

/* ---- writing and updating ------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const snap_entry_t *)a)->name, ((const snap_entry_t *)b)->name);
}

apr_status_t md_status_snapshot_write(md_status_snap_t *snap, const apr_array_header_t *mds,
                                      md_store_t *store, apr_pool_t *p)
{
    md_json_t *old = NULL, *j;
    apr_array_header_t *entries;
    apr_pool_t *pscratch, *ptemp;
    apr_status_t rv;
    int i;

    /* what is read and written here (the old file, each MD's status, the new file: MBs
     * at 10,000 MDs) goes back to malloc, not to the process's allocator, which keeps
     * what it is given and hands it on to every child */
    apr_pool_create_unmanaged_ex(&pscratch, NULL, NULL);
    /* 1. the counters of the snapshot before: they count since the first start */
    if (md_status_snap_read(&old, &entries, snap->path, pscratch) != APR_SUCCESS) old = NULL;
    cache_reset(snap);
    stats_from_json(snap->stats, old);
    /* 2. every MD's status, read from the store once */
    apr_pool_create(&ptemp, pscratch);
    for (i = 0; i < mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mds, i, const md_t *);
        snap_entry_t *se = apr_array_push(snap->entries);
        md_status_md_json(&j, md, store, 0, ptemp);
        se->name = apr_pstrdup(snap->cache, md->name);
        se->text = apr_pstrdup(snap->cache, md_json_dump(j, MD_JSON_COMPACT, ptemp));
        snap->live += strlen(se->text);
        apr_pool_clear(ptemp);
    }
    qsort(snap->entries->elts, (size_t)snap->entries->nelts, sizeof(snap_entry_t), entry_cmp);
    /* 3. the file, replaced at once; the texts are not kept: the parent answers no
     * status request, and a child reads the file when it first needs it */
    rv = file_write(snap, pscratch);
    apr_pool_destroy(pscratch);
    cache_reset(snap);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "MD7001: writing the status snapshot %s "
                      "failed; status pages show no managed domains until it works", snap->path);
    }
    return rv;
}

static snap_entry_t *entry_find(md_status_snap_t *snap, const char *name)
{
    snap_entry_t key = { name, NULL };

    return bsearch(&key, snap->entries->elts, (size_t)snap->entries->nelts,
                   sizeof(snap_entry_t), entry_cmp);
}

/* Under the lock: write what was updated, when a second has passed since the last write
 * or `now`. The file may have been replaced meanwhile (the parent at a restart): then it
 * is newer than what is kept here, which is dropped. */
static apr_status_t write_due(md_status_snap_t *snap, int now, apr_pool_t *p)
{
    apr_status_t rv;

    if (!snap->dirty || (!now && apr_time_now() - snap->written_at < MD_SNAP_WRITE_GAP)) {
        return APR_SUCCESS;
    }
    rv = cache_sync(snap, p);
    return (rv == APR_SUCCESS && snap->dirty) ? file_write(snap, p) : rv;
}

/* One change of an MD's entry: its JSON is edited in place; 0 when nothing changed. */
typedef int entry_edit_fn(md_json_t *mdj, void *baton, apr_pool_t *p);

/* Under the lock: the file as it is now, this process's counts added, the MD's entry
 * (if the snapshot knows it) edited, and the file written now or with the next write. */
static apr_status_t snapshot_edit(md_status_snap_t *snap, const char *name,
                                  entry_edit_fn *edit, void *baton, apr_pool_t *p)
{
    apr_uint64_t counts[MD_STAT_COUNT];
    snap_entry_t *se;
    md_json_t *j;
    apr_status_t rv;
    int i;

    /* 1. what the file holds now (the parent may have rewritten it) */
    rv = cache_sync(snap, p);
    if (rv != APR_SUCCESS) return rv;
    /* 2. this process's counts added to the totals */
    md_stats_take(counts);
    for (i = 0; i < MD_STAT_COUNT; ++i) {
        if (counts[i]) snap->dirty = 1;
        snap->stats[i] += counts[i];
    }
    /* 3. the entry, edited */
    se = name ? entry_find(snap, name) : NULL;
    if (se) {
        rv = md_json_parse(&j, se->text, strlen(se->text), p);
        if (rv != APR_SUCCESS) return rv;
        if (edit(j, baton, p)) {
            snap->garbage += strlen(se->text);
            snap->live -= strlen(se->text);
            se->text = apr_pstrdup(snap->cache, md_json_dump(j, MD_JSON_COMPACT, p));
            snap->live += strlen(se->text);
            cache_compact(snap);
            snap->dirty = 1;
        }
    }
    /* 4. the file, if anything changed: now or with the next write (at most a second
     *    from now) */
    return write_due(snap, 0, p);
}

typedef struct {
    const md_t *md;
    md_store_t *store;
} renewal_edit_t;

static int renewal_edit(md_json_t *mdj, void *baton, apr_pool_t *p)
{
    renewal_edit_t *e = baton;

    md_status_renewal_refresh(mdj, e->md, e->store, 0, p);
    return 1;
}

apr_status_t md_status_snapshot_update(md_status_snap_t *snap, const md_t *md,
                                       md_store_t *store, apr_pool_t *p)
{
    renewal_edit_t e = { md, store };
    apr_status_t rv;

    if (!snap) return APR_SUCCESS;
    if (snap->lock) apr_thread_mutex_lock(snap->lock);
    rv = snapshot_edit(snap, md ? md->name : NULL, renewal_edit, &e, p);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "MD7002: %s: updating the status "
                      "snapshot %s failed; status pages show the state before this renewal run",
                      md ? md->name : "-", snap->path);
    }
    if (snap->lock) apr_thread_mutex_unlock(snap->lock);
    return rv;
}

typedef struct {
    const char *sha256_hex;
    const md_ocsp_resp_t *resp;
} ocsp_edit_t;

static int ocsp_edit(md_json_t *mdj, void *baton, apr_pool_t *p)
{
    ocsp_edit_t *e = baton;

    return md_status_ocsp_refresh(mdj, e->sha256_hex, e->resp, p);
}

apr_status_t md_status_snapshot_ocsp(md_status_snap_t *snap, const char *name,
                                     const char *sha256_hex, const md_ocsp_resp_t *resp,
                                     apr_pool_t *p)
{
    ocsp_edit_t e = { sha256_hex, resp };
    apr_status_t rv;

    if (!snap) return APR_SUCCESS;
    if (snap->lock) apr_thread_mutex_lock(snap->lock);
    rv = snapshot_edit(snap, name, ocsp_edit, &e, p);
    if (rv != APR_SUCCESS) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "MD7003: %s: updating the OCSP "
                      "status in the snapshot %s failed; status pages show the response "
                      "before", name, snap->path);
    }
    if (snap->lock) apr_thread_mutex_unlock(snap->lock);
    return rv;
}

apr_status_t md_status_snapshot_flush(md_status_snap_t *snap, int now, apr_pool_t *p)
{
    apr_status_t rv;

    if (!snap) return APR_SUCCESS;
    if (snap->lock) apr_thread_mutex_lock(snap->lock);
    rv = write_due(snap, now, p);
    if (snap->lock) apr_thread_mutex_unlock(snap->lock);
    return rv;
}
