/*
 * jobs: the batch-job runner of `hpf serve`. Every job runs on one server at a time: before each
 * round a server takes or renews the job's lease in the database (table job_lease); the holder
 * runs the job, the others wait and take over when the lease expires (a server died or lost
 * the database). Several `hpf serve` processes can therefore share one database.
 *
 * Metrics: hpf_leader{job="NAME"} is 1 on the server that holds the job's lease, else 0;
 * hpf_job_runs_total{job="NAME"} counts rounds run.
 */
#ifndef HPF_JOBS_JOBS_H
#define HPF_JOBS_JOBS_H

#include "base/err.h"
#include "jobs/dispatch.h"
#include "service/svc.h"
#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>

/* Take or renew the lease of `job` for `holder` until now + ttl_s. *leader tells whether
 * `holder` holds it afterwards. One short transaction; returns 0 or a database error. */
int hpf_lease_take(hpf_db *db, const char *job, const char *holder, int64_t now, int ttl_s,
                   bool *leader, hpf_err *err);

typedef struct hpf_jobs hpf_jobs;

/* Start the runner thread over `svc` (which must outlive it). `tick_s` is the round length
 * (leases last three rounds). Also starts the outbox dispatcher (jobs/dispatch.h) with
 * `dispatch` (NULL or no peers URL: messages stay queued). Returns 0, HPF_EINVAL (bad peers
 * settings) or HPF_EINTERNAL. */
int hpf_jobs_start(hpf_jobs **out, hpf_svc *svc, int tick_s, const hpf_dispatch_config *dispatch,
                   hpf_err *err);
/* Stop the dispatcher and the thread (at most one round's wait), give up held leases, free.
 * Accepts NULL. */
void hpf_jobs_stop(hpf_jobs *j);

#endif
