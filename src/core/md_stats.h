/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* Process-wide counters of renewal activity (orders, challenges, errors, rate-limit
 * answers) for the metrics endpoint. The renewal code counts in its own process; the
 * status snapshot (md_status.h) carries the totals to the processes that answer
 * requests, and across restarts. Counting is thread-safe and never fails. */
#ifndef md_stats_h
#define md_stats_h

#include <apr.h>

typedef enum {
    MD_STAT_ORDERS,         /* ACME orders created */
    MD_STAT_CHALLENGES,     /* authorizations answered with a challenge */
    MD_STAT_ERRORS,         /* renewal runs that failed */
    MD_STAT_RATE_LIMITED,   /* answers of the CA that said: rate limited (or HTTP 429) */
    MD_STAT_COUNT
} md_stat_t;

/* Count one event. */
void md_stats_inc(md_stat_t stat);
/* Counted in this process since the last md_stats_take(). */
apr_uint64_t md_stats_get(md_stat_t stat);
/* Take the counts of this process (leaving zero), to add them to a persisted total. */
void md_stats_take(apr_uint64_t counts[MD_STAT_COUNT]);
/* The JSON/metric name of a counter: "orders", "challenges", "errors", "rate-limited". */
const char *md_stats_name(md_stat_t stat);

#endif
