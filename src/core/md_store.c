#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "md_store.h"
#include "md_json_keys.h"
#include "md_log.h"
#include "md_util.h"

#define MD_STORE_FILE   "md_store.json"
#define MD_STORE_KEYLEN 48
#define MD_STORE_MAX_ARCHIVE 999
#define MD_FN_COMPLETE  ".complete"

struct md_store_t {
    apr_pool_t *p;
    const char *base;
    const unsigned char *key;   /* passphrase for encrypted keys */
    apr_size_t key_len;
    int uid, gid;               /* owner of the children's groups, -1 = unchanged */
    int group_write;            /* the children write through the group (MDStoreOwner) */
    apr_hash_t *damage;         /* "group/name" -> apr_array_header_t of md_store_damage_t* */
    apr_pool_t *damage_pool;    /* only used under damage_lock */
    apr_thread_mutex_t *damage_lock;
};

typedef struct {
    const char *dir;
    apr_fileperms_t dir_perms, file_perms;
    int plain_keys;             /* private keys stored unencrypted */
    int for_children;           /* written by the unprivileged children */
} md_group_info_t;

#define PERMS_0755 (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE | APR_FPROT_GREAD \
                    | APR_FPROT_GEXECUTE | APR_FPROT_WREAD | APR_FPROT_WEXECUTE)
#define PERMS_0700 (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE)
#define PERMS_0644 (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD)
#define PERMS_0600 (APR_FPROT_UREAD | APR_FPROT_UWRITE)

static const md_group_info_t GROUPS[MD_SG_COUNT] = {
    [MD_SG_ACCOUNTS]   = { "accounts",   PERMS_0755, PERMS_0644, 0, 1 },
    [MD_SG_CHALLENGES] = { "challenges", PERMS_0755, PERMS_0644, 1, 1 },
    [MD_SG_DOMAINS]    = { "domains",    PERMS_0700, PERMS_0600, 1, 0 },
    [MD_SG_STAGING]    = { "staging",    PERMS_0755, PERMS_0644, 0, 1 },
    [MD_SG_ARCHIVE]    = { "archive",    PERMS_0700, PERMS_0600, 0, 0 },
    [MD_SG_TMP]        = { "tmp",        PERMS_0700, PERMS_0600, 1, 0 },
    [MD_SG_OCSP]       = { "ocsp",       PERMS_0755, PERMS_0644, 0, 1 },
    [MD_SG_LOCKS]      = { "locks",      PERMS_0755, PERMS_0644, 0, 1 },
};

const char *md_store_group_name(md_store_group_t group) { return GROUPS[group].dir; }
const char *md_store_base(const md_store_t *store) { return store->base; }

void md_store_set_owner(md_store_t *store, int uid, int gid, int group_write)
{
    store->uid = uid;
    store->gid = gid;
    store->group_write = group_write;
}

/* The mode of a file or directory of a group: when the children write through the
 * group, what the owner may do the group may do too, and directories pass their group
 * on to what the children create in them (set-group-id). */
static apr_fileperms_t group_perms(const md_store_t *store, md_store_group_t group,
                                   apr_fileperms_t perms, int is_dir)
{
    if (!store->group_write || !GROUPS[group].for_children) return perms;
    if (perms & APR_FPROT_UREAD) perms |= APR_FPROT_GREAD;
    if (perms & APR_FPROT_UWRITE) perms |= APR_FPROT_GWRITE;
    if (perms & APR_FPROT_UEXECUTE) perms |= APR_FPROT_GEXECUTE;
    return is_dir ? (perms | APR_FPROT_GSETID) : perms;
}

const char *md_store_path(const md_store_t *store, md_store_group_t group, const char *name,
                          const char *aspect, apr_pool_t *p)
{
    return apr_pstrcat(p, store->base, "/", GROUPS[group].dir, name ? "/" : "", name ? name : "",
                       aspect ? "/" : "", aspect ? aspect : "", NULL);
}

/* Names and aspects are single path components: a name from a CA's answer, a stored
 * md.json or a request must never reach outside its group ("..", "a/b", ""). */
static int names_bad(const char *name, const char *aspect)
{
    const char *v[2] = { name, aspect };
    int i;

    for (i = 0; i < 2; ++i) {
        if (!v[i]) continue;
        if (!*v[i] || strchr(v[i], '/') || !strcmp(v[i], ".") || !strcmp(v[i], "..")) return 1;
    }
    return 0;
}

/* When root writes where the children work, the children must own it. */
static void give_to_children(const md_store_t *store, md_store_group_t group, const char *path)
{
    if (!GROUPS[group].for_children || store->uid < 0 || geteuid() != 0) return;
    /* lchown: a link a child put there must not hand its target to the child */
    if (lchown(path, (uid_t)store->uid, (gid_t)store->gid) != 0) {
        /* The write succeeded; a child that cannot use the file reports it where it fails. */
    }
}

static apr_status_t ensure_dir(const md_store_t *store, md_store_group_t group, const char *name,
                               apr_pool_t *p)
{
    const char *dir = md_store_path(store, group, name, NULL, p);
    apr_fileperms_t perms = group_perms(store, group, GROUPS[group].dir_perms, 1);
    apr_status_t rv = md_dir_make(dir, perms, p);
    apr_finfo_t info;

    if (rv != APR_SUCCESS) return rv;
    give_to_children(store, group, dir);
    /* the umask takes group write away; a child cannot change a directory root made
     * (chmod follows links: only a real directory) */
    if (perms != GROUPS[group].dir_perms
        && apr_stat(&info, dir, APR_FINFO_LINK | APR_FINFO_TYPE, p) == APR_SUCCESS
        && info.filetype == APR_DIR) {
        apr_file_perms_set(dir, perms);
    }
    return APR_SUCCESS;
}

static apr_status_t write_file_as(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *data, apr_size_t len,
                                  apr_fileperms_t perms, int durable, apr_pool_t *p)
{
    const char *path = md_store_path(store, group, name, aspect, p);
    apr_status_t rv;

    if (names_bad(name, aspect)) return APR_EINVAL;
    rv = ensure_dir(store, group, name, p);
    if (rv != APR_SUCCESS) return rv;
    perms = group_perms(store, group, perms, 0);
    rv = durable ? md_file_write_atomic(path, data, len, perms, p)
                 : md_file_write_scratch(path, data, len, perms, p);
    if (rv == APR_SUCCESS) give_to_children(store, group, path);
    return rv;
}

static apr_status_t write_file(const md_store_t *store, md_store_group_t group, const char *name,
                               const char *aspect, const char *data, apr_size_t len,
                               apr_fileperms_t perms, apr_pool_t *p)
{
    return write_file_as(store, group, name, aspect, data, len, perms, 1, p);
}

/* ---- opening -------------------------------------------------------------------- */

static apr_status_t store_key_create(md_store_t *store, const char *path, apr_pool_t *p)
{
    unsigned char *key = apr_palloc(store->p, MD_STORE_KEYLEN);
    md_json_t *json = md_json_create(p);
    apr_status_t rv;

    rv = md_rand_bytes(key, MD_STORE_KEYLEN);
    if (rv != APR_SUCCESS) return rv;
    md_json_setl(MD_STORE_VERSION, json, MD_KEY_STORE, MD_KEY_VERSION, NULL);
    md_json_sets(md_b64url_encode(key, MD_STORE_KEYLEN, p), json, MD_KEY_KEY, NULL);
    rv = md_json_writef(json, path, PERMS_0600, p);
    store->key = key;
    store->key_len = MD_STORE_KEYLEN;
    return rv;
}

static apr_status_t store_key_load(md_store_t *store, const char *path, apr_pool_t *p)
{
    md_json_t *json;
    const char *key64;
    apr_status_t rv;

    rv = md_json_readf(&json, path, p);
    if (rv != APR_SUCCESS) return rv;
    if (md_json_getl(json, MD_KEY_STORE, MD_KEY_VERSION, NULL) > MD_STORE_VERSION) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, p,
                      "MD0101: store %s has layout version %ld, newer than this module's %d",
                      path, md_json_getl(json, MD_KEY_STORE, MD_KEY_VERSION, NULL),
                      MD_STORE_VERSION);
        return APR_ENOTIMPL;
    }
    key64 = md_json_gets(json, MD_KEY_KEY, NULL);
    if (!key64) return APR_EINVAL;
    return md_b64url_decode(&store->key, &store->key_len, key64, store->p);
}

apr_status_t md_store_open(md_store_t **pstore, const char *base_dir, int create, apr_pool_t *p)
{
    md_store_t *store = apr_pcalloc(p, sizeof(*store));
    const char *path = apr_pstrcat(p, base_dir, "/", MD_STORE_FILE, NULL);
    apr_status_t rv;
    int g;

    *pstore = NULL;
    store->p = p;
    store->base = apr_pstrdup(p, base_dir);
    store->uid = store->gid = -1;
    apr_pool_create(&store->damage_pool, p);
    store->damage = apr_hash_make(store->damage_pool);
    apr_thread_mutex_create(&store->damage_lock, APR_THREAD_MUTEX_DEFAULT, p);
    rv = md_file_exists(path, p);
    if (rv == APR_SUCCESS) {
        rv = store_key_load(store, path, p);
    }
    else if (APR_STATUS_IS_ENOENT(rv) && create) {
        rv = md_dir_make(base_dir, PERMS_0755, p);
        if (rv == APR_SUCCESS) rv = store_key_create(store, path, p);
    }
    if (rv != APR_SUCCESS) return rv;
    for (g = 0; create && g < MD_SG_COUNT; ++g) {
        rv = md_dir_make(md_store_path(store, (md_store_group_t)g, NULL, NULL, p),
                         GROUPS[g].dir_perms, p);
        if (rv != APR_SUCCESS) return rv;
    }
    *pstore = store;
    return APR_SUCCESS;
}

/* The mode a file or directory of a children's group should have, from its own. */
static apr_fileperms_t owned_perms(const md_store_t *store, md_store_group_t group,
                                   apr_fileperms_t perms, int is_dir)
{
    perms &= ~(APR_FPROT_GREAD | APR_FPROT_GWRITE | APR_FPROT_GEXECUTE | APR_FPROT_GSETID);
    if (!store->group_write) {
        /* as before MDStoreOwner: group and others read what is not a secret */
        if (perms & APR_FPROT_WREAD) perms |= APR_FPROT_GREAD;
        if (perms & APR_FPROT_WEXECUTE) perms |= APR_FPROT_GEXECUTE;
        return perms;
    }
    return group_perms(store, group, perms, is_dir);
}

/* Give a tree to the store's owner, with the group's modes (MDStoreOwner changed). */
static void tree_fix(const md_store_t *store, md_store_group_t group, const char *path,
                     int depth, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_dir_t *d;

    /* links are not followed: a child's link must not hand its target to the child */
    if (apr_stat(&info, path, APR_FINFO_LINK | APR_FINFO_TYPE | APR_FINFO_PROT, p) != APR_SUCCESS
        || (info.filetype != APR_DIR && info.filetype != APR_REG)) return;
    give_to_children(store, group, path);
    apr_file_perms_set(path, owned_perms(store, group, info.protection, info.filetype == APR_DIR));
    if (info.filetype != APR_DIR || depth > 8 || apr_dir_open(&d, path, p) != APR_SUCCESS) return;
    while (apr_dir_read(&info, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (!strcmp(info.name, ".") || !strcmp(info.name, "..")) continue;
        tree_fix(store, group, apr_pstrcat(p, path, "/", info.name, NULL), depth + 1, p);
    }
    apr_dir_close(d);
}

/* Does a group's directory have the owner and modes the store wants? */
static int group_dir_right(const md_store_t *store, md_store_group_t group, const char *dir,
                           apr_pool_t *p)
{
    apr_finfo_t info;

    if (apr_stat(&info, dir, APR_FINFO_OWNER | APR_FINFO_PROT, p) != APR_SUCCESS) return 1;
    return (int)info.user == store->uid && (int)info.group == store->gid
           && !!(info.protection & APR_FPROT_GWRITE) == !!store->group_write;
}

apr_status_t md_store_prepare_children(md_store_t *store, apr_pool_t *p)
{
    const char *dir;
    apr_pool_t *ptmp;
    int g;

    if (store->uid < 0 || geteuid() != 0) return APR_SUCCESS;
    apr_pool_create(&ptmp, p);
    for (g = 0; g < MD_SG_COUNT; ++g) {
        if (!GROUPS[g].for_children) continue;
        apr_pool_clear(ptmp);
        dir = md_store_path(store, (md_store_group_t)g, NULL, NULL, ptmp);
        /* the usual start: one stat per group; a new owner or mode: the whole group */
        if (!group_dir_right(store, (md_store_group_t)g, dir, ptmp)) {
            tree_fix(store, (md_store_group_t)g, dir, 0, ptmp);
        }
    }
    apr_pool_destroy(ptmp);
    return APR_SUCCESS;
}

/* ---- values --------------------------------------------------------------------- */

apr_status_t md_store_exists(const md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p)
{
    if (names_bad(name, aspect)) return APR_EINVAL;
    return md_file_exists(md_store_path(store, group, name, aspect, p), p);
}

apr_status_t md_store_load_json(md_json_t **pjson, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *pjson = NULL;
    if (names_bad(name, aspect)) return APR_EINVAL;
    rv = md_file_read(&data, &len, md_store_path(store, group, name, aspect, p),
                      16 * 1024 * 1024, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_json_parse(pjson, data, len, p);
    if (rv != APR_SUCCESS) {
        md_store_damage_report(store, group, name, aspect, len ? "not valid JSON (truncated?)"
                               : "empty", p);
    }
    return rv;
}

apr_status_t md_store_save_json(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const md_json_t *json, apr_pool_t *p)
{
    const char *s = md_json_dump(json, MD_JSON_INDENT, p);

    if (!s) return APR_EINVAL;
    return write_file(store, group, name, aspect, s, strlen(s), GROUPS[group].file_perms, p);
}

apr_status_t md_store_load_text(const char **ptext, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    if (names_bad(name, aspect)) return APR_EINVAL;
    return md_file_read(ptext, NULL, md_store_path(store, group, name, aspect, p), 1024 * 1024, p);
}

apr_status_t md_store_save_text(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const char *text, apr_pool_t *p)
{
    return write_file(store, group, name, aspect, text, strlen(text), GROUPS[group].file_perms, p);
}

apr_status_t md_store_save_record(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *text, apr_pool_t *p)
{
    return write_file_as(store, group, name, aspect, text, strlen(text), GROUPS[group].file_perms,
                         0, p);
}

apr_status_t md_store_sync(const md_store_t *store, apr_pool_t *p)
{
    apr_file_t *f;
    apr_os_file_t fd;
    apr_status_t rv;

    rv = apr_file_open(&f, store->base, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) return rv;
    apr_os_file_get(&fd, f);
    rv = (syncfs(fd) == 0) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    apr_file_close(f);
    return rv;
}

/* PEM files (keys, chains) are small: anything over a megabyte is not one of ours. */
static apr_status_t read_pem(const char **ppem, apr_size_t *plen, const md_store_t *store,
                             md_store_group_t group, const char *name, const char *aspect,
                             apr_pool_t *p)
{
    if (names_bad(name, aspect)) return APR_EINVAL;
    return md_file_read(ppem, plen, md_store_path(store, group, name, aspect, p), 1024 * 1024, p);
}

apr_status_t md_store_load_pkey(md_pkey_t **ppkey, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    rv = read_pem(&pem, &len, store, group, name, aspect, p);
    if (rv != APR_SUCCESS) return rv;
    if (GROUPS[group].plain_keys) rv = md_pkey_from_pem(ppkey, pem, len, NULL, 0, p);
    else rv = md_pkey_from_pem(ppkey, pem, len, store->key, store->key_len, p);
    if (rv != APR_SUCCESS) {
        md_store_damage_report(store, group, name, aspect, GROUPS[group].plain_keys
                               ? "not a private key in PEM (truncated?)"
                               : "not a private key that the store key decrypts (truncated?)", p);
    }
    return rv;
}

apr_status_t md_store_save_pkey(const md_store_t *store, md_store_group_t group, const char *name,
                                const char *aspect, const md_pkey_t *pkey, apr_pool_t *p)
{
    const char *pem;
    apr_status_t rv;

    if (GROUPS[group].plain_keys) rv = md_pkey_to_pem(&pem, pkey, NULL, 0, p);
    else rv = md_pkey_to_pem(&pem, pkey, store->key, store->key_len, p);
    if (rv != APR_SUCCESS) return rv;
    /* Keys are secrets wherever they are, encrypted or not. */
    return write_file(store, group, name, aspect, pem, strlen(pem), PERMS_0600, p);
}

apr_status_t md_store_load_chain(apr_array_header_t **pchain, const md_store_t *store,
                                 md_store_group_t group, const char *name, const char *aspect,
                                 apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    rv = read_pem(&pem, &len, store, group, name, aspect, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_chain_from_pem(pchain, pem, len, p);
    if (rv == APR_SUCCESS && !(*pchain)->nelts) rv = APR_EINVAL;
    if (rv != APR_SUCCESS) {
        md_store_damage_report(store, group, name, aspect,
                               "no valid certificate chain in PEM (truncated?)", p);
    }
    return rv;
}

apr_status_t md_store_save_chain(const md_store_t *store, md_store_group_t group, const char *name,
                                 const char *aspect, const apr_array_header_t *chain, apr_pool_t *p)
{
    const char *pem;
    apr_status_t rv;

    rv = md_chain_to_pem(&pem, chain, p);
    if (rv != APR_SUCCESS) return rv;
    return write_file(store, group, name, aspect, pem, strlen(pem), GROUPS[group].file_perms, p);
}

apr_status_t md_store_remove(const md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p)
{
    apr_status_t rv;

    if (names_bad(name, aspect)) return APR_EINVAL;
    rv = apr_file_remove(md_store_path(store, group, name, aspect, p), p);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

apr_status_t md_store_purge(const md_store_t *store, md_store_group_t group, const char *name,
                            apr_pool_t *p)
{
    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    return md_dir_remove_all(md_store_path(store, group, name, NULL, p), p);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

apr_status_t md_store_names(apr_array_header_t **pnames, const md_store_t *store,
                            md_store_group_t group, apr_pool_t *p)
{
    apr_status_t rv = md_dir_list(pnames, md_store_path(store, group, NULL, NULL, p), 1, p);

    if (rv == APR_SUCCESS) qsort((*pnames)->elts, (size_t)(*pnames)->nelts, sizeof(char *), name_cmp);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

apr_status_t md_store_rename(const md_store_t *store, md_store_group_t group, const char *from,
                             const char *to, apr_pool_t *p)
{
    if (!from || !to || names_bad(from, to)) return APR_EINVAL;
    return apr_file_rename(md_store_path(store, group, from, NULL, p),
                           md_store_path(store, group, to, NULL, p), p);
}

/* ---- activation ------------------------------------------------------------------ */

static apr_status_t copy_to_tmp(const md_store_t *store, const char *name, const char *aspect,
                                apr_pool_t *p)
{
    const char *data;
    md_pkey_t *pkey;
    apr_size_t len;
    apr_status_t rv;

    if (!strncmp(aspect, MD_FN_PRIVKEY, strlen(MD_FN_PRIVKEY))) {
        rv = md_store_load_pkey(&pkey, store, MD_SG_STAGING, name, aspect, p);
        if (rv == APR_SUCCESS) rv = md_store_save_pkey(store, MD_SG_TMP, name, aspect, pkey, p);
        return rv;
    }
    rv = md_file_read(&data, &len, md_store_path(store, MD_SG_STAGING, name, aspect, p),
                      1024 * 1024, p);
    if (rv != APR_SUCCESS) return rv;
    return write_file(store, MD_SG_TMP, name, aspect, data, len, PERMS_0600, p);
}

static const char *archive_path(const md_store_t *store, const char *name, int n, apr_pool_t *p)
{
    return md_store_path(store, MD_SG_ARCHIVE, apr_psprintf(p, "%s.%d", name, n), NULL, p);
}

/* The highest N of archive/<name>.N, 0 if none. */
static int archive_newest(const md_store_t *store, const char *name, apr_pool_t *p)
{
    apr_finfo_t info;
    int n, newest = 0;

    for (n = 1; n <= MD_STORE_MAX_ARCHIVE; ++n) {
        if (apr_stat(&info, archive_path(store, name, n, p), APR_FINFO_TYPE, p) == APR_SUCCESS) newest = n;
    }
    return newest;
}

static apr_status_t archive_current(const md_store_t *store, const char *name, apr_pool_t *p)
{
    const char *current = md_store_path(store, MD_SG_DOMAINS, name, NULL, p);
    apr_finfo_t info;
    int next;

    if (apr_stat(&info, current, APR_FINFO_TYPE, p) != APR_SUCCESS) return APR_SUCCESS;
    next = archive_newest(store, name, p) + 1;
    if (next > MD_STORE_MAX_ARCHIVE) return APR_ENOSPC;
    return apr_file_rename(current, archive_path(store, name, next, p), p);
}

apr_status_t md_store_recover(const md_store_t *store, const char *name, apr_pool_t *p)
{
    const char *tmp = md_store_path(store, MD_SG_TMP, name, NULL, p);
    const char *domains = md_store_path(store, MD_SG_DOMAINS, name, NULL, p);
    apr_status_t rv;

    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    /* a crash after tmp/<name> became domains/<name>: only the marker and staging are left */
    if (md_store_exists(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p) == APR_SUCCESS) {
        rv = md_store_purge(store, MD_SG_STAGING, name, p);
        if (rv == APR_SUCCESS) rv = md_store_remove(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p);
        return rv;
    }
    if (md_store_exists(store, MD_SG_TMP, name, MD_FN_COMPLETE, p) != APR_SUCCESS) {
        return md_dir_remove_all(tmp, p);  /* an unfinished copy: staging still has it */
    }
    rv = archive_current(store, name, p);
    MD_FAULT("activate-archived");
    if (rv == APR_SUCCESS) rv = apr_file_rename(tmp, domains, p);
    if (rv == APR_SUCCESS) rv = md_dir_fsync(md_store_path(store, MD_SG_DOMAINS, NULL, NULL, p), p);
    MD_FAULT("activate-renamed");
    /* staging goes before the marker: a crash in between repeats only this step */
    if (rv == APR_SUCCESS) rv = md_store_purge(store, MD_SG_STAGING, name, p);
    MD_FAULT("activate-staging-purged");
    if (rv == APR_SUCCESS) rv = md_store_remove(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p);
    return rv;
}

apr_status_t md_store_activate(const md_store_t *store, const char *name,
                               const apr_array_header_t *files, apr_pool_t *p)
{
    apr_status_t rv;
    int i;

    /* 1. a clean tmp/<name> */
    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    rv = md_store_purge(store, MD_SG_TMP, name, p);
    if (rv != APR_SUCCESS) return rv;
    /* 2. every file of the set, with its final permissions, keys decrypted */
    for (i = 0; i < files->nelts && rv == APR_SUCCESS; ++i) {
        rv = copy_to_tmp(store, name, APR_ARRAY_IDX(files, i, const char *), p);
        MD_FAULT("activate-copying");   /* after the first file, and the others */
    }
    MD_FAULT("activate-copied");
    /* 3. the marker that tmp/<name> is complete: from here on, recovery finishes the job */
    if (rv == APR_SUCCESS) rv = md_store_save_text(store, MD_SG_TMP, name, MD_FN_COMPLETE, "", p);
    if (rv != APR_SUCCESS) {
        md_store_purge(store, MD_SG_TMP, name, p);
        return rv;
    }
    MD_FAULT("activate-marked");
    /* 4. old set to the archive, new set in place, staging gone */
    return md_store_recover(store, name, p);
}

/* ---- damage ------------------------------------------------------------------------ */

static apr_array_header_t *damage_list(const md_store_t *store, md_store_group_t group,
                                       const char *name, int create, apr_pool_t *p)
{
    const char *key = apr_pstrcat(p, GROUPS[group].dir, "/", name ? name : "", NULL);
    apr_array_header_t *list = apr_hash_get(store->damage, key, APR_HASH_KEY_STRING);

    if (!list && create) {
        list = apr_array_make(store->damage_pool, 2, sizeof(md_store_damage_t *));
        apr_hash_set(store->damage, apr_pstrdup(store->damage_pool, key), APR_HASH_KEY_STRING, list);
    }
    return list;
}

static md_store_damage_t *damage_find(apr_array_header_t *list, const char *path)
{
    int i;

    for (i = 0; list && i < list->nelts; ++i) {
        md_store_damage_t *d = APR_ARRAY_IDX(list, i, md_store_damage_t *);
        if (!strcmp(d->path, path)) return d;
    }
    return NULL;
}

void md_store_damage_report(const md_store_t *store, md_store_group_t group, const char *name,
                            const char *aspect, const char *problem, apr_pool_t *p)
{
    const char *path = md_store_path(store, group, name, aspect, p);
    apr_array_header_t *list;
    md_store_damage_t *d;
    int fresh = 0;

    apr_thread_mutex_lock(store->damage_lock);
    list = damage_list(store, group, name, 1, p);
    d = damage_find(list, path);
    if (!d) {
        /* long-lived: one entry per damaged path, whatever the number of reports */
        d = apr_pcalloc(store->damage_pool, sizeof(*d));
        d->path = apr_pstrdup(store->damage_pool, path);
        d->problem = apr_pstrdup(store->damage_pool, problem);
        APR_ARRAY_PUSH(list, md_store_damage_t *) = d;
        fresh = 1;
    }
    apr_thread_mutex_unlock(store->damage_lock);
    if (fresh) md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "MD6002: %s is damaged: %s", path, problem);
}

void md_store_damage_note(const md_store_t *store, md_store_group_t group, const char *name,
                          const char *aspect, const char *done, apr_pool_t *p)
{
    const char *path = md_store_path(store, group, name, aspect, p);
    md_store_damage_t *d;

    apr_thread_mutex_lock(store->damage_lock);
    d = damage_find(damage_list(store, group, name, 0, p), path);
    if (d && !strstr(d->problem, done)) d->problem = apr_pstrcat(store->damage_pool, d->problem, "; ", done, NULL);
    apr_thread_mutex_unlock(store->damage_lock);
    if (d) md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "MD6003: %s: %s", path, done);
}

apr_array_header_t *md_store_damage_get(const md_store_t *store, md_store_group_t group,
                                        const char *name, apr_pool_t *p)
{
    apr_array_header_t *list, *copy = apr_array_make(p, 2, sizeof(md_store_damage_t *));
    int i;

    apr_thread_mutex_lock(store->damage_lock);
    list = damage_list(store, group, name, 0, p);
    for (i = 0; list && i < list->nelts; ++i) {
        const md_store_damage_t *d = APR_ARRAY_IDX(list, i, md_store_damage_t *);
        md_store_damage_t *c = apr_pcalloc(p, sizeof(*c));
        c->path = apr_pstrdup(p, d->path);
        c->problem = apr_pstrdup(p, d->problem);
        APR_ARRAY_PUSH(copy, md_store_damage_t *) = c;
    }
    apr_thread_mutex_unlock(store->damage_lock);
    return copy;
}

/* ---- locks -------------------------------------------------------------------------- */

struct md_store_lock_t {
    apr_file_t *f;
};

/* The lock file, opened without following a link (locks/ is the children's: a link
 * there must not make root change the mode or owner of its target). */
static apr_status_t lock_open(apr_file_t **pf, const md_store_t *store, const char *path,
                              md_store_group_t group, apr_pool_t *p)
{
    int children = (group != MD_SG_COUNT && GROUPS[group].for_children);
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (children && store->group_write && fchmod(fd, 0660) != 0) {
        /* a lock file of the other owner: its mode is that owner's to give */
    }
    if (children && store->uid >= 0 && geteuid() == 0
        && fchown(fd, (uid_t)store->uid, (gid_t)store->gid) != 0) {
        /* the lock works all the same; a child that cannot open it says so */
    }
    return apr_os_file_put(pf, &fd, APR_FOPEN_WRITE, p);
}

/* A lock its holder forgot is released with its pool, as an apr_file_open()ed one. */
static apr_status_t lock_cleanup(void *data)
{
    md_store_lock_t *lock = data;

    if (lock->f) apr_file_close(lock->f);
    lock->f = NULL;
    return APR_SUCCESS;
}

static apr_status_t lock_file(md_store_lock_t **plock, const md_store_t *store, const char *path,
                              md_store_group_t group, apr_interval_time_t wait, apr_pool_t *p)
{
    md_store_lock_t *lock = apr_pcalloc(p, sizeof(*lock));
    apr_time_t deadline = apr_time_now() + wait;
    apr_status_t rv;

    *plock = NULL;
    rv = lock_open(&lock->f, store, path, group, p);
    if (rv != APR_SUCCESS) return rv;
    apr_pool_cleanup_register(p, lock, lock_cleanup, apr_pool_cleanup_null);
    for (;;) {
        rv = apr_file_lock(lock->f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
        if (rv == APR_SUCCESS) break;
        if (apr_time_now() >= deadline) {
            lock_cleanup(lock);
            return APR_TIMEUP;
        }
        apr_sleep(apr_time_from_msec(100));
    }
    *plock = lock;
    return APR_SUCCESS;
}

apr_status_t md_store_lock_global(md_store_lock_t **plock, const md_store_t *store,
                                  apr_interval_time_t wait, apr_pool_t *p)
{
    return lock_file(plock, store, apr_pstrcat(p, store->base, "/store.lock", NULL), MD_SG_COUNT,
                     wait, p);
}

apr_status_t md_store_lock_md(md_store_lock_t **plock, const md_store_t *store, const char *name,
                              apr_interval_time_t wait, apr_pool_t *p)
{
    apr_status_t rv = ensure_dir(store, MD_SG_LOCKS, NULL, p);

    if (rv != APR_SUCCESS) return rv;
    return lock_file(plock, store, md_store_path(store, MD_SG_LOCKS, apr_pstrcat(p, name, ".lock", NULL),
                                                 NULL, p), MD_SG_LOCKS, wait, p);
}

void md_store_unlock(md_store_lock_t *lock)
{
    if (!lock || !lock->f) return;
    apr_file_unlock(lock->f);
    lock_cleanup(lock);
}

/* ---- archive -------------------------------------------------------------------------- */

apr_status_t md_store_archive_prune(const md_store_t *store, const char *name, int keep,
                                    apr_pool_t *p)
{
    apr_finfo_t info;
    int n, to = 0, newest = archive_newest(store, name, p);
    apr_status_t rv = APR_SUCCESS;

    /* 1. the oldest go */
    for (n = 1; n <= newest - keep && rv == APR_SUCCESS; ++n) {
        rv = md_dir_remove_all(archive_path(store, name, n, p), p);
    }
    MD_FAULT("archive-pruned");
    /* 2. the rest renumbered 1..keep, oldest first, so numbers stay small */
    for (; n <= newest && rv == APR_SUCCESS; ++n) {
        if (apr_stat(&info, archive_path(store, name, n, p), APR_FINFO_TYPE, p) != APR_SUCCESS) continue;
        if (++to != n) rv = apr_file_rename(archive_path(store, name, n, p),
                                            archive_path(store, name, to, p), p);
    }
    return rv;
}
