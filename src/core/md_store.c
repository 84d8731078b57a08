/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "md_store.h"
#include "md_fs.h"
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
    md_fs_dir_t *base_dir;      /* every path below base is opened under this handle */
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
    return (name && !md_fs_name_ok(name)) || (aspect && !md_fs_name_ok(aspect));
}

/* Who owns what is created in a group: root gives the children's groups to the
 * children; elsewhere the creator keeps it. */
static md_fs_owner_t group_owner(const md_store_t *store, md_store_group_t group,
                                 apr_fileperms_t perms, int is_dir)
{
    md_fs_owner_t owner = { -1, -1, 0 };

    if (GROUPS[group].for_children && store->uid >= 0) {
        owner.uid = store->uid;
        owner.gid = store->gid;
    }
    owner.perms = group_perms(store, group, perms, is_dir);
    return owner;
}

/* The folder of group/name (name NULL: the group's own), reached from the store's
 * handle without following a link; with make, what is missing is created. */
static apr_status_t store_dir(md_fs_dir_t **pdir, const md_store_t *store, md_store_group_t group,
                              const char *name, int make, apr_pool_t *p)
{
    md_fs_owner_t owner = group_owner(store, group, GROUPS[group].dir_perms, 1);
    md_fs_dir_t *gdir;
    apr_status_t rv;

    *pdir = NULL;
    if (names_bad(name, NULL)) return APR_EINVAL;
    rv = md_fs_dir_sub(&gdir, store->base_dir, GROUPS[group].dir, make ? &owner : NULL, p);
    if (rv != APR_SUCCESS || !name) {
        *pdir = gdir;
        return rv;
    }
    return md_fs_dir_sub(pdir, gdir, name, make ? &owner : NULL, p);
}

static apr_status_t write_file_as(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *data, apr_size_t len,
                                  apr_fileperms_t perms, int durable, apr_pool_t *p)
{
    md_fs_owner_t owner = group_owner(store, group, perms, 0);
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (!aspect || names_bad(name, aspect)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 1, p);
    if (rv != APR_SUCCESS) return rv;
    return md_fs_write(dir, aspect, data, len, &owner, durable, p);
}

static apr_status_t write_file(const md_store_t *store, md_store_group_t group, const char *name,
                               const char *aspect, const char *data, apr_size_t len,
                               apr_fileperms_t perms, apr_pool_t *p)
{
    return write_file_as(store, group, name, aspect, data, len, perms, 1, p);
}

/* Read a file of group/name under the store's handle. */
static apr_status_t read_file(const char **pdata, apr_size_t *plen, const md_store_t *store,
                              md_store_group_t group, const char *name, const char *aspect,
                              apr_size_t max_len, apr_pool_t *p)
{
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (!aspect || names_bad(name, aspect)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 0, p);
    if (rv != APR_SUCCESS) return rv;
    return md_fs_read(pdata, plen, dir, aspect, max_len, p);
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
    if (rv == APR_SUCCESS) rv = md_fs_dir_open(&store->base_dir, base_dir, p);
    if (rv != APR_SUCCESS) return rv;
    for (g = 0; create && g < MD_SG_COUNT; ++g) {
        md_fs_owner_t owner = { -1, -1, GROUPS[g].dir_perms };
        md_fs_dir_t *gdir;
        rv = md_fs_dir_sub(&gdir, store->base_dir, GROUPS[g].dir, &owner, p);
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

/* What the last start gave the children, in a file only root writes (the base folder
 * is root's): the trigger for the walk below is never something the children can set. */
#define MD_STORE_CHILDREN "children.json"

typedef struct {
    const md_store_t *store;
    md_store_group_t group;
} tree_fix_t;

/* One directory or regular file of a children's group, by its open descriptor. */
static void tree_fix_visit(void *baton, int fd, int is_dir, apr_fileperms_t perms)
{
    const tree_fix_t *fix = baton;
    md_fs_owner_t owner = group_owner(fix->store, fix->group, 0, is_dir);

    owner.perms = owned_perms(fix->store, fix->group, perms, is_dir);
    if (md_fs_own_fd(fd, &owner) != APR_SUCCESS) {
        /* a file that cannot be given away is reported by the child that fails on it */
    }
}

static const char *children_record(const md_store_t *store, apr_pool_t *p)
{
    return apr_psprintf(p, "{\"uid\": %d, \"gid\": %d, \"group-write\": %d}\n", store->uid,
                        store->gid, store->group_write);
}

apr_status_t md_store_prepare_children(md_store_t *store, apr_pool_t *p)
{
    const char *want, *had = NULL;
    md_fs_dir_t *gdir;
    apr_pool_t *ptmp;
    tree_fix_t fix;
    md_fs_owner_t record = { -1, -1, PERMS_0644 };
    int g;

    if (store->uid < 0 || geteuid() != 0) return APR_SUCCESS;
    apr_pool_create(&ptmp, p);
    /* 1. the usual start: the same owner as last time, one read */
    want = children_record(store, ptmp);
    md_fs_read(&had, NULL, store->base_dir, MD_STORE_CHILDREN, 1024, ptmp);
    if (had && !strcmp(had, want)) goto leave;
    /* 2. a new owner or mode (or a store from before the record): every children's
     *    group walked by handles, nothing followed, hard-linked files left alone */
    for (g = 0; g < MD_SG_COUNT; ++g) {
        if (!GROUPS[g].for_children) continue;
        if (store_dir(&gdir, store, (md_store_group_t)g, NULL, 1, ptmp) != APR_SUCCESS) continue;
        fix.store = store;
        fix.group = (md_store_group_t)g;
        md_fs_walk(gdir, 8, tree_fix_visit, &fix, ptmp);
    }
    md_fs_write(store->base_dir, MD_STORE_CHILDREN, want, strlen(want), &record, 1, ptmp);
leave:
    apr_pool_destroy(ptmp);
    return APR_SUCCESS;
}

/* ---- values --------------------------------------------------------------------- */

apr_status_t md_store_info(apr_finfo_t *info, const md_store_t *store, md_store_group_t group,
                           const char *name, const char *aspect, apr_pool_t *p)
{
    md_fs_dir_t *dir;
    apr_status_t rv;

    memset(info, 0, sizeof(*info));
    if (names_bad(name, aspect)) return APR_EINVAL;
    /* the last component given is looked at in its folder, without following it */
    if (!name && !aspect) return md_fs_stat(info, store->base_dir, GROUPS[group].dir);
    rv = store_dir(&dir, store, group, aspect ? name : NULL, 0, p);
    if (rv != APR_SUCCESS) return rv;
    return md_fs_stat(info, dir, aspect ? aspect : name);
}

apr_status_t md_store_exists(const md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_status_t rv = md_store_info(&info, store, group, name, aspect, p);

    if (rv == APR_SUCCESS && info.filetype != APR_REG) return APR_EINVAL;
    return rv;
}

int md_store_dir_exists(const md_store_t *store, md_store_group_t group, const char *name,
                        apr_pool_t *p)
{
    apr_finfo_t info;

    return md_store_info(&info, store, group, name, NULL, p) == APR_SUCCESS
           && info.filetype == APR_DIR;
}

apr_status_t md_store_load_json(md_json_t **pjson, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *pjson = NULL;
    if (names_bad(name, aspect)) return APR_EINVAL;
    rv = read_file(&data, &len, store, group, name, aspect, 16 * 1024 * 1024, p);
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
    return read_file(ptext, NULL, store, group, name, aspect, 1024 * 1024, p);
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
    (void)p;
    return md_fs_syncfs(store->base_dir);
}

/* PEM files (keys, chains) are small: anything over a megabyte is not one of ours. */
static apr_status_t read_pem(const char **ppem, apr_size_t *plen, const md_store_t *store,
                             md_store_group_t group, const char *name, const char *aspect,
                             apr_pool_t *p)
{
    return read_file(ppem, plen, store, group, name, aspect, 1024 * 1024, p);
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
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (!aspect || names_bad(name, aspect)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 0, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    return (rv == APR_SUCCESS) ? md_fs_remove(dir, aspect) : rv;
}

apr_status_t md_store_purge(const md_store_t *store, md_store_group_t group, const char *name,
                            apr_pool_t *p)
{
    md_fs_dir_t *gdir;
    apr_status_t rv;

    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    rv = store_dir(&gdir, store, group, NULL, 0, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    return (rv == APR_SUCCESS) ? md_fs_remove_tree(gdir, name, p) : rv;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

apr_status_t md_store_names(apr_array_header_t **pnames, const md_store_t *store,
                            md_store_group_t group, apr_pool_t *p)
{
    return md_store_list(pnames, store, group, NULL, p);
}

apr_status_t md_store_list(apr_array_header_t **pnames, const md_store_t *store,
                           md_store_group_t group, const char *name, apr_pool_t *p)
{
    md_fs_dir_t *dir;
    apr_status_t rv;

    *pnames = apr_array_make(p, 0, sizeof(const char *));
    rv = store_dir(&dir, store, group, name, 0, p);
    if (rv == APR_SUCCESS) rv = md_fs_list(pnames, dir, !name, p);
    if (rv == APR_SUCCESS) qsort((*pnames)->elts, (size_t)(*pnames)->nelts, sizeof(char *), name_cmp);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

apr_status_t md_store_rename(const md_store_t *store, md_store_group_t group, const char *from,
                             const char *to, apr_pool_t *p)
{
    md_fs_dir_t *gdir;
    apr_status_t rv;

    if (!from || !to || names_bad(from, to)) return APR_EINVAL;
    rv = store_dir(&gdir, store, group, NULL, 0, p);
    return (rv == APR_SUCCESS) ? md_fs_rename(gdir, from, gdir, to) : rv;
}

apr_status_t md_store_rename_file(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *from, const char *to, apr_pool_t *p)
{
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (!from || !to || names_bad(name, from) || names_bad(NULL, to)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 0, p);
    return (rv == APR_SUCCESS) ? md_fs_rename(dir, from, dir, to) : rv;
}

apr_status_t md_store_append_text(const md_store_t *store, md_store_group_t group, const char *name,
                                  const char *aspect, const char *text, apr_pool_t *p)
{
    md_fs_owner_t owner = group_owner(store, group, GROUPS[group].file_perms, 0);
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (!aspect || names_bad(name, aspect)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 1, p);
    return (rv == APR_SUCCESS) ? md_fs_append(dir, aspect, text, &owner, p) : rv;
}

apr_status_t md_store_take_text(const char **ptext, const md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    const char *taken = apr_pstrcat(p, aspect, ".taken", NULL);
    md_fs_dir_t *dir;
    apr_status_t rv;

    *ptext = NULL;
    if (!aspect || names_bad(name, aspect)) return APR_EINVAL;
    rv = store_dir(&dir, store, group, name, 0, p);
    /* taken away first, so that what is appended meanwhile lands in a new file */
    if (rv == APR_SUCCESS) rv = md_fs_rename(dir, aspect, dir, taken);
    if (rv != APR_SUCCESS) return rv;
    rv = md_fs_read(ptext, NULL, dir, taken, 1024 * 1024, p);
    md_fs_remove(dir, taken);
    return rv;
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
    rv = read_file(&data, &len, store, MD_SG_STAGING, name, aspect, 1024 * 1024, p);
    if (rv != APR_SUCCESS) return rv;
    return write_file(store, MD_SG_TMP, name, aspect, data, len, PERMS_0600, p);
}

static const char *archive_name(const char *name, int n, apr_pool_t *p)
{
    return apr_psprintf(p, "%s.%d", name, n);
}

/* The highest N of archive/<name>.N, 0 if none. */
static int archive_newest(const md_fs_dir_t *adir, const char *name, apr_pool_t *p)
{
    apr_finfo_t info;
    int n, newest = 0;

    for (n = 1; n <= MD_STORE_MAX_ARCHIVE; ++n) {
        if (md_fs_stat(&info, adir, archive_name(name, n, p)) == APR_SUCCESS) newest = n;
    }
    return newest;
}

/* The folders an activation moves between, all root's: domains, archive and tmp. */
typedef struct {
    md_fs_dir_t *domains, *archive, *tmp;
} activation_dirs_t;

static apr_status_t activation_dirs(activation_dirs_t *d, const md_store_t *store, apr_pool_t *p)
{
    apr_status_t rv = store_dir(&d->domains, store, MD_SG_DOMAINS, NULL, 1, p);

    if (rv == APR_SUCCESS) rv = store_dir(&d->archive, store, MD_SG_ARCHIVE, NULL, 1, p);
    if (rv == APR_SUCCESS) rv = store_dir(&d->tmp, store, MD_SG_TMP, NULL, 1, p);
    return rv;
}

static apr_status_t archive_current(const activation_dirs_t *d, const char *name, apr_pool_t *p)
{
    apr_finfo_t info;
    int next;

    if (md_fs_stat(&info, d->domains, name) != APR_SUCCESS) return APR_SUCCESS;
    next = archive_newest(d->archive, name, p) + 1;
    if (next > MD_STORE_MAX_ARCHIVE) return APR_ENOSPC;
    return md_fs_rename(d->domains, name, d->archive, archive_name(name, next, p));
}

apr_status_t md_store_recover(const md_store_t *store, const char *name, apr_pool_t *p)
{
    activation_dirs_t d;
    apr_status_t rv;

    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    rv = activation_dirs(&d, store, p);
    if (rv != APR_SUCCESS) return rv;
    /* a crash after tmp/<name> became domains/<name>: only the marker and staging are left */
    if (md_store_exists(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p) == APR_SUCCESS) {
        rv = md_store_purge(store, MD_SG_STAGING, name, p);
        if (rv == APR_SUCCESS) rv = md_store_remove(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p);
        return rv;
    }
    if (md_store_exists(store, MD_SG_TMP, name, MD_FN_COMPLETE, p) != APR_SUCCESS) {
        return md_fs_remove_tree(d.tmp, name, p);  /* an unfinished copy: staging still has it */
    }
    rv = archive_current(&d, name, p);
    MD_FAULT("activate-archived");
    if (rv == APR_SUCCESS) rv = md_fs_rename(d.tmp, name, d.domains, name);
    if (rv == APR_SUCCESS) rv = md_fs_sync(d.domains);
    MD_FAULT("activate-renamed");
    /* staging goes before the marker: a crash in between repeats only this step */
    if (rv == APR_SUCCESS) rv = md_store_purge(store, MD_SG_STAGING, name, p);
    MD_FAULT("activate-staging-purged");
    if (rv == APR_SUCCESS) rv = md_store_remove(store, MD_SG_DOMAINS, name, MD_FN_COMPLETE, p);
    return rv;
}

apr_status_t md_store_activate(const md_store_t *store, const char *name,
                               const apr_array_header_t *files, md_store_check_fn *check,
                               void *baton, apr_pool_t *p)
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
    /* 3. the copy checked: from here on nothing of the children's is read */
    if (rv == APR_SUCCESS && check) rv = check(baton, MD_SG_TMP, p);
    /* 4. the marker that tmp/<name> is complete: from here on, recovery finishes the job */
    if (rv == APR_SUCCESS) rv = md_store_save_text(store, MD_SG_TMP, name, MD_FN_COMPLETE, "", p);
    if (rv != APR_SUCCESS) {
        md_store_purge(store, MD_SG_TMP, name, p);
        return rv;
    }
    MD_FAULT("activate-marked");
    /* 5. old set to the archive, new set in place, staging gone */
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
    int fd;
};

/* A lock its holder forgot is released with its pool (closing the file releases it). */
static apr_status_t lock_cleanup(void *data)
{
    md_store_lock_t *lock = data;

    if (lock->fd >= 0) close(lock->fd);
    lock->fd = -1;
    return APR_SUCCESS;
}

static int lock_try(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &fl) == 0;
}

/* The lock file `name` in dir, opened by md_fs (locks/ is the children's: a link, a
 * FIFO or a hard link there must not make root wait, or change another file). */
static apr_status_t lock_file(md_store_lock_t **plock, const md_fs_dir_t *dir, const char *name,
                              const md_fs_owner_t *owner, apr_interval_time_t wait, apr_pool_t *p)
{
    md_store_lock_t *lock = apr_pcalloc(p, sizeof(*lock));
    apr_time_t deadline = apr_time_now() + wait;
    apr_status_t rv;

    *plock = NULL;
    rv = md_fs_open_lockfile(&lock->fd, dir, name, owner);
    if (rv != APR_SUCCESS) return rv;
    apr_pool_cleanup_register(p, lock, lock_cleanup, apr_pool_cleanup_null);
    while (!lock_try(lock->fd)) {
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
    md_fs_owner_t owner = { -1, -1, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD };

    return lock_file(plock, store->base_dir, "store.lock", &owner, wait, p);
}

apr_status_t md_store_lock_md(md_store_lock_t **plock, const md_store_t *store, const char *name,
                              apr_interval_time_t wait, apr_pool_t *p)
{
    md_fs_owner_t owner = group_owner(store, MD_SG_LOCKS, APR_FPROT_UREAD | APR_FPROT_UWRITE
                                      | APR_FPROT_GREAD, 0);
    md_fs_dir_t *dir;
    apr_status_t rv;

    if (names_bad(name, NULL)) return APR_EINVAL;
    rv = store_dir(&dir, store, MD_SG_LOCKS, NULL, 1, p);
    if (rv != APR_SUCCESS) return rv;
    return lock_file(plock, dir, apr_pstrcat(p, name, ".lock", NULL), &owner, wait, p);
}

void md_store_unlock(md_store_lock_t *lock)
{
    if (!lock || lock->fd < 0) return;
    lock_cleanup(lock);     /* closing the file releases its fcntl lock */
}

/* ---- archive -------------------------------------------------------------------------- */

apr_status_t md_store_archive_prune(const md_store_t *store, const char *name, int keep,
                                    apr_pool_t *p)
{
    md_fs_dir_t *adir;
    apr_finfo_t info;
    int n, to = 0, newest;
    apr_status_t rv;

    if (!name || names_bad(name, NULL)) return APR_EINVAL;
    rv = store_dir(&adir, store, MD_SG_ARCHIVE, NULL, 0, p);
    if (rv != APR_SUCCESS) return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
    newest = archive_newest(adir, name, p);
    /* 1. the oldest go */
    for (n = 1; n <= newest - keep && rv == APR_SUCCESS; ++n) {
        rv = md_fs_remove_tree(adir, archive_name(name, n, p), p);
    }
    MD_FAULT("archive-pruned");
    /* 2. the rest renumbered 1..keep, oldest first, so numbers stay small */
    for (; n <= newest && rv == APR_SUCCESS; ++n) {
        if (md_fs_stat(&info, adir, archive_name(name, n, p)) != APR_SUCCESS) continue;
        if (++to != n) rv = md_fs_rename(adir, archive_name(name, n, p), adir,
                                         archive_name(name, to, p));
    }
    return rv;
}
