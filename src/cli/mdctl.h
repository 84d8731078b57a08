/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl: what its commands share (mdctl.c). Exit codes: docs/mdctl.md. */
#ifndef mdctl_h
#define mdctl_h

#include <apr_pools.h>
#include "md.h"
#include "md_store.h"
#include "mdctl_find.h"

#define MDCTL_OK        0   /* done */
#define MDCTL_FAILED    1   /* the command failed; the message says why and what to do */
#define MDCTL_USAGE     2   /* wrong command line */
#define MDCTL_NO_STORE  3   /* no store found, or not readable */
#define MDCTL_CHECK_FAILS 4 /* check: a preflight check fails (the output says which and why) */

typedef struct {
    apr_pool_t *p;
    mdctl_where_t *where;       /* where the store and md-status were looked for */
    md_store_t *store;          /* NULL when none was found */
} mdctl_t;

/* "mdctl: no store ...": where mdctl looked and what to do; MDCTL_NO_STORE. */
int mdctl_no_store(const mdctl_t *ctl);
/* The MD whose name or one of whose names is name, from domains/<md>/md.json. */
apr_status_t mdctl_md_find(md_t **pmd, const mdctl_t *ctl, const char *name, apr_pool_t *p);
/* All MDs of the store (md_t*), by name; damaged md.json files are reported on stderr. */
apr_array_header_t *mdctl_md_all(const mdctl_t *ctl, apr_pool_t *p);

/* mdctl_status.c */
int mdctl_status_cmd(mdctl_t *ctl, int argc, const char *const *argv);
/* mdctl_renew.c */
int mdctl_renew_cmd(mdctl_t *ctl, int argc, const char *const *argv);
/* mdctl_check.c */
int mdctl_check_cmd(mdctl_t *ctl, int argc, const char *const *argv);
/* mdctl_farm.c */
int mdctl_farm_cmd(mdctl_t *ctl, int argc, const char *const *argv);

#endif
