/* jobs/checkpoint: the daily checkpoint job (see checkpoint.h). */
#include "jobs/checkpoint.h"

#include "trust/checkpoint.h"
#include "trust/sm2.h"

int hpf_job_checkpoint(hpf_svc *svc, int64_t now, int64_t *done, hpf_err *err)
{
    hpf_db *db;
    hpf_sm2_key *seal = NULL;
    bool due = false;
    hpf_day through = hpf_checkpoint_closed_through(now);
    *done = 0;
    if (!svc->keys_dir)
        return 0;
    /* The cheap question first: most rounds find nothing to do and load no key. */
    int rc = hpf_store_conn(svc->store, &db, err);
    if (rc == 0)
        rc = hpf_checkpoint_due(db, through, &due, err);
    if (rc < 0 || !due)
        return rc;
    rc = hpf_sm2_centre_load(svc->keys_dir, &seal, err);
    if (rc == 0)
        rc = hpf_checkpoint_run(db, seal, svc->centre, through, done, NULL, err);
    hpf_sm2_free(seal);
    return rc;
}
