/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* job.json from the store (written by the unprivileged children): md_job_load in a
 * scratch store, a run's end recorded on top of it, saved and loaded again. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "md_job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *scratch, *path;
    md_store_t *store = fuzz_store(&scratch, p);
    md_result_t *result = md_result_make(p);
    md_job_t *job, *again;
    apr_file_t *f;
    apr_size_t n = size;

    if (md_store_save_text(store, MD_SG_STAGING, "fuzz.test", MD_FN_JOB, "", p) != APR_SUCCESS) {
        abort();
    }
    path = md_store_path(store, MD_SG_STAGING, "fuzz.test", MD_FN_JOB, p);
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, p)
        != APR_SUCCESS) {
        abort();
    }
    apr_file_write_full(f, data, size, &n);
    apr_file_close(f);

    job = md_job_load(store, MD_SG_STAGING, "fuzz.test", p);
    if (job->errors < 0 || job->next_run < 0 || job->last_run < 0) abort();
    md_result_set(result, APR_EAGAIN, "fuzzed run %d", job->errors);
    md_job_end_run(job, result, p);
    if (job->errors < 1) abort();
    if (md_json_array_len(job->log) > MD_JOB_LOG_MAX) abort();
    if (md_job_save(job, store, MD_SG_STAGING, p) != APR_SUCCESS) abort();
    again = md_job_load(store, MD_SG_STAGING, "fuzz.test", p);
    if (again->errors != job->errors || again->finished != job->finished) abort();
    fuzz_store_check(scratch, p);
    return 0;
}
