/*
 * jobs/checkpoint: the daily checkpoint job of `hpf serve` (trust/checkpoint.h). Each round it
 * asks whether a closed day (Asia/Shanghai, by the wall clock) has audit entries that no
 * checkpoint covers; if so it loads the centre's seal key from svc->keys_dir and signs the
 * checkpoints, oldest day first. The runner's lease makes one server do it at a time; a second
 * writer (`hpf audit checkpoint` run by hand) is harmless, as a day is checkpointed only once.
 */
#ifndef HPF_JOBS_CHECKPOINT_H
#define HPF_JOBS_CHECKPOINT_H

#include "base/err.h"
#include "service/svc.h"

#include <stdint.h>

/* One round at unix time `now`; *done counts the checkpoints written. Without svc->keys_dir
 * it does nothing. Returns 0 or an error (the round is tried again next time). */
int hpf_job_checkpoint(hpf_svc *svc, int64_t now, int64_t *done, hpf_err *err);

#endif
