/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* mdctl's commands that talk to the CA (mdctl_acme.c). */
#ifndef mdctl_acme_h
#define mdctl_acme_h

#include "md_store.h"

/* Run cmd with its arguments; -1 when cmd is not one of these commands. */
int mdctl_acme_cmd(md_store_t *store, const char *cmd, int argc, const char *const *argv,
                   apr_pool_t *p);
/* Is cmd one of these commands? */
int mdctl_acme_knows(const char *cmd);
void mdctl_acme_usage(void);

#endif
