#include "jobs/jobs.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "http/server.h"
#include "jobs/checkpoint.h"
#include "store/outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int hpf_lease_take(hpf_db *db, const char *job, const char *holder, int64_t now, int ttl_s,
                   bool *leader, hpf_err *err)
{
    hpf_stmt *st;
    *leader = false;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    /* Insert, renew our own lease, or take over an expired one; otherwise leave it. */
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO job_lease(job, holder, expires_at) VALUES (?, ?, ?)"
                        " ON CONFLICT(job) DO UPDATE SET holder = excluded.holder,"
                        " expires_at = excluded.expires_at"
                        " WHERE job_lease.holder = excluded.holder OR job_lease.expires_at < ?",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, job);
        hpf_stmt_bind_text(st, 2, holder);
        hpf_stmt_bind_i64(st, 3, now + ttl_s);
        hpf_stmt_bind_i64(st, 4, now);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_db_prepare(db, &st, "SELECT holder FROM job_lease WHERE job = ?", err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, job);
        rc = hpf_stmt_step(st, err);
        if (rc == 1) {
            *leader = strcmp(hpf_stmt_text(st, 0), holder) == 0;
            rc = 0;
        }
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        *leader = false;
    }
    return rc;
}

/* Give the lease up so another server need not wait for it to expire. */
static void lease_release(hpf_db *db, const char *job, const char *holder)
{
    hpf_stmt *st;
    hpf_err e = HPF_ERR_INIT;
    if (hpf_db_prepare(db, &st, "DELETE FROM job_lease WHERE job = ? AND holder = ?", &e) < 0)
        return;
    hpf_stmt_bind_text(st, 1, job);
    hpf_stmt_bind_text(st, 2, holder);
    (void)hpf_stmt_step(st, &e);
    hpf_stmt_reset(st);
}

typedef struct job {
    const char *name;
    int (*run)(hpf_svc *svc, int64_t now, int64_t *done, hpf_err *err);
} job;

/* Rows past their use: expired sessions, and the contents of outbox messages sent more than
 * outbox_keep_s ago (a bounded batch a round, one transaction). */
static int housekeeping(hpf_svc *svc, int64_t now, int64_t *done, hpf_err *err)
{
    int64_t wiped = 0;
    hpf_db *db;
    int rc = hpf_auth_purge_sessions(svc, now, done, err);
    if (rc == 0)
        rc = hpf_store_conn(svc->store, &db, err);
    if (rc == 0 && (rc = hpf_db_begin(db, err)) == 0) {
        rc = hpf_outbox_purge(db, now - svc->outbox_keep_s, 1000, &wiped, err);
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        else
            hpf_db_rollback(db);
    }
    if (wiped)
        hpf_http_metric_add("hpf_outbox_wiped_total",
                            "Sent outbox messages whose contents were wiped after outbox_keep_days",
                            (uint64_t)wiped);
    *done += wiped;
    return rc;
}

static const job jobs[] = {
    {"housekeeping", housekeeping},
    {"checkpoint", hpf_job_checkpoint},
};
#define NJOBS (sizeof jobs / sizeof jobs[0])

struct hpf_jobs {
    hpf_svc *svc;
    int tick_s;
    char holder[96];
    bool leader[NJOBS];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    hpf_dispatch *dispatch; /* the outbox dispatcher, its own thread; NULL without peers */
};

static void gauge(const char *metric, const char *help, const char *jobname, uint64_t v)
{
    char series[128];
    snprintf(series, sizeof series, "%s{job=\"%s\"}", metric, jobname);
    hpf_http_metric_set(series, help, v);
}

static void round_of_jobs(hpf_jobs *j)
{
    hpf_db *db;
    hpf_err err = HPF_ERR_INIT;
    if (hpf_store_conn(j->svc->store, &db, &err) < 0) {
        hpf_log(HPF_LOG_WARN, "jobs.db", "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < NJOBS; i++) {
        int64_t now = (int64_t)time(NULL), done = 0;
        bool leader = false;
        hpf_err_clear(&err);
        if (hpf_lease_take(db, jobs[i].name, j->holder, now, 3 * j->tick_s, &leader, &err) < 0)
            hpf_log(HPF_LOG_WARN, "jobs.lease", "%s: %s", jobs[i].name, err.msg);
        if (leader != j->leader[i])
            hpf_log(HPF_LOG_INFO, "jobs.leader", "%s: %s the leader", jobs[i].name,
                    leader ? "became" : "is no longer");
        j->leader[i] = leader;
        gauge("hpf_leader", "1 on the server that runs the job, else 0", jobs[i].name, leader);
        if (!leader)
            continue;
        if (jobs[i].run(j->svc, now, &done, &err) < 0) {
            hpf_log(HPF_LOG_WARN, "jobs.failed", "%s: %s", jobs[i].name, err.msg);
            continue;
        }
        char series[128];
        snprintf(series, sizeof series, "hpf_job_runs_total{job=\"%s\"}", jobs[i].name);
        hpf_http_metric_add(series, "Job rounds run on this server", 1);
        if (done)
            hpf_log(HPF_LOG_INFO, "jobs.done", "%s: %lld rows", jobs[i].name, (long long)done);
    }
}

static void *runner(void *arg)
{
    hpf_jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        pthread_mutex_unlock(&j->mu);
        round_of_jobs(j);
        pthread_mutex_lock(&j->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += j->tick_s;
        while (!j->stop && pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&j->mu);
    hpf_db *db;
    hpf_err err = HPF_ERR_INIT;
    if (hpf_store_conn(j->svc->store, &db, &err) == 0)
        for (size_t i = 0; i < NJOBS; i++)
            if (j->leader[i])
                lease_release(db, jobs[i].name, j->holder);
    return NULL;
}

int hpf_jobs_start(hpf_jobs **out, hpf_svc *svc, int tick_s, const hpf_dispatch_config *dispatch,
                   hpf_err *err)
{
    hpf_dispatch *dsp = NULL;
    int rc = hpf_dispatch_start(&dsp, svc, dispatch, err);
    if (rc < 0)
        return rc;
    hpf_jobs *j = hpf_xcalloc(1, sizeof *j);
    j->dispatch = dsp;
    char host[64] = "host", tag[9];
    unsigned char r[4];
    gethostname(host, sizeof host - 1);
    hpf_rand_bytes(r, sizeof r);
    hpf_hex(tag, r, sizeof r);
    snprintf(j->holder, sizeof j->holder, "%s:%ld:%s", host, (long)getpid(), tag);
    j->svc = svc;
    j->tick_s = tick_s > 0 ? tick_s : 5;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->thread, NULL, runner, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        hpf_dispatch_stop(j->dispatch);
        free(j);
        return hpf_err_set(err, HPF_EINTERNAL, "cannot start the job runner thread");
    }
    *out = j;
    return 0;
}

void hpf_jobs_stop(hpf_jobs *j)
{
    if (!j)
        return;
    hpf_dispatch_stop(j->dispatch);
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}
