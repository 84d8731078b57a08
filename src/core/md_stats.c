/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
#include <stdatomic.h>

#include "md_stats.h"

static _Atomic apr_uint64_t counts_now[MD_STAT_COUNT];

static const char *const NAMES[MD_STAT_COUNT] = {
    [MD_STAT_ORDERS] = "orders",
    [MD_STAT_CHALLENGES] = "challenges",
    [MD_STAT_ERRORS] = "errors",
    [MD_STAT_RATE_LIMITED] = "rate-limited",
};

void md_stats_inc(md_stat_t stat)
{
    if (stat < MD_STAT_COUNT) atomic_fetch_add(&counts_now[stat], 1);
}

apr_uint64_t md_stats_get(md_stat_t stat)
{
    return stat < MD_STAT_COUNT ? atomic_load(&counts_now[stat]) : 0;
}

void md_stats_take(apr_uint64_t counts[MD_STAT_COUNT])
{
    int i;

    for (i = 0; i < MD_STAT_COUNT; ++i) counts[i] = atomic_exchange(&counts_now[i], 0);
}

const char *md_stats_name(md_stat_t stat)
{
    return stat < MD_STAT_COUNT ? NAMES[stat] : "unknown";
}
