/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The state of an MD from its served files (domains/<md>/), at each start. */
#ifndef md_state_h
#define md_state_h

#include "md.h"
#include "md_store.h"

/* Set md->state, md->state_descr and md->served (in pconf) from the served files, or from
 * MDCertificateFile when the MD has static files. The account and the CA in use are taken
 * over from the stored md.json (store may be NULL: no store yet), whose text *pstored
 * gets (NULL when there is none that parses). Complete also needs the stored MD to ask for
 * no new certificate (md_needs_new_cert_for). */
void md_state_update(md_t *md, md_store_t *store, int dry_run, const char **pstored,
                     apr_pool_t *pconf, apr_pool_t *p);

#endif
