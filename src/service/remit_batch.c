/* service/remit_batch: one month's 汇缴 for every employer at once (自动汇缴: the bank collects
 * each employer's contributions by the roster on file, 委托扣款, and the centre posts them in
 * one run). Each employer is hpf_remit_post of its own roster, with its own remittance, voucher,
 * postings and audit record, exactly as one posted through the API; the run groups a page of
 * employers per transaction (each employer a savepoint inside it, so a refused employer undoes
 * only itself), which is what makes a million members a matter of seconds. Idempotent: an
 * employer that has the month already is not selected, and the key "auto-DWZH-YYYYMM" replays.
 * Design: docs/internals/deposits.md. */
#include "service/svc.h"

#include "base/mem.h"
#include "service/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One employer-month from its roster as drafted for the month. */
static int remit_one(hpf_svc *svc, const hpf_actor *actor, const char *acct, hpf_month period,
                     int64_t *members, hpf_fen *total, hpf_err *err)
{
    hpf_remit_draft d;
    int rc = hpf_remit_draft_make(svc, actor, acct, period, &d, err);
    if (rc < 0)
        return rc;
    *members = 0;
    *total = 0;
    if (d.n == 0) {
        hpf_remit_draft_cleanup(&d);
        return 0;
    }
    hpf_remit_row *rows = hpf_xcalloc(d.n, sizeof *rows);
    for (size_t i = 0; i < d.n; i++)
        rows[i] = (hpf_remit_row){.account_no = d.rows[i].account_no,
                                  .name = d.rows[i].name,
                                  .unit = d.rows[i].c.unit,
                                  .individual = d.rows[i].c.individual};
    char key[64];
    snprintf(key, sizeof key, "auto-%s-%d", acct, (int)period);
    hpf_remit_req req = {
        .idem_key = key, .period = period, .total = d.total, .rows = rows, .nrows = d.n};
    hpf_remittance out;
    bool replayed;
    rc = hpf_remit_post(svc, actor, acct, &req, &out, &replayed, err);
    if (rc == 0 && !replayed) {
        *members = (int64_t)d.n;
        *total = d.total;
    }
    free(rows);
    hpf_remit_draft_cleanup(&d);
    return rc;
}

typedef struct page_item {
    char acct[19];
} page_item;

/* The next employers in id order after `after` that owe the month: normal (01), without a
 * 汇缴 of it. */
static int next_page(hpf_db *db, int64_t after, hpf_month period, int n, page_item *items,
                     int64_t *ids, size_t *got, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT e.id, e.account_no FROM employer e WHERE e.id > ?"
                            " AND e.state = '01' AND NOT EXISTS (SELECT 1 FROM remittance r"
                            " WHERE r.employer_id = e.id AND r.period = ? AND r.kind = '01')"
                            " ORDER BY e.id LIMIT ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, after);
    hpf_stmt_bind_i64(st, 2, period);
    hpf_stmt_bind_i64(st, 3, n);
    *got = 0;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        ids[*got] = hpf_stmt_i64(st, 0);
        COPY(items[*got].acct, hpf_stmt_text(st, 1));
        (*got)++;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* A refusal of one employer's business (its state, its roster): the run goes on without it. */
static bool refused(int code)
{
    return code == HPF_EINVAL || code == HPF_EUNPROC || code == HPF_ECONFLICT ||
           code == HPF_ENOTFOUND || code == HPF_EFORBIDDEN || code == HPF_ETOOBIG;
}

int hpf_remit_batch(hpf_svc *svc, const hpf_actor *actor, hpf_month period, int per_tx,
                    hpf_remit_batch_cb progress, void *arg, hpf_remit_batch_progress *out,
                    hpf_err *err)
{
    memset(out, 0, sizeof *out);
    out->period = period;
    if (actor->role != HPF_ROLE_OPERATOR || !svc_branch_sees(actor, ""))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.branch",
                             "the batch remittance is the centre's: operators of the centre only");
    if (per_tx < 1 || per_tx > HPF_REMIT_BATCH_MAX)
        return hpf_err_field(err, HPF_EINVAL, "/per_tx", "remittance.batch",
                             "a transaction holds 1..%d employers", HPF_REMIT_BATCH_MAX);
    if (period > hpf_month_of(hpf_svc_today(svc)))
        return hpf_err_field(err, HPF_EUNPROC, "/period", "remittance.period_future",
                             "%04d-%02d is after the business month", (int)(period / 100),
                             (int)(period % 100));
    hpf_db *db;
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    page_item *items = hpf_xcalloc((size_t)per_tx, sizeof *items);
    int64_t *ids = hpf_xcalloc((size_t)per_tx, sizeof *ids);
    int64_t after = 0;
    for (;;) {
        size_t n;
        if ((rc = hpf_db_begin(db, err)) < 0)
            break;
        if ((rc = next_page(db, after, period, per_tx, items, ids, &n, err)) < 0 || n == 0) {
            hpf_db_rollback(db);
            break;
        }
        int64_t members = 0, posted = 0, skipped = 0;
        hpf_fen total = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            int64_t m;
            hpf_fen t;
            hpf_err one = HPF_ERR_INIT;
            rc = remit_one(svc, actor, items[i].acct, period, &m, &t, &one);
            if (rc < 0 && refused(rc)) {
                /* Its savepoint is undone; say why once per employer, and go on. */
                if (!out->first_refusal[0])
                    snprintf(out->first_refusal, sizeof out->first_refusal, "%.18s: %.40s %.120s",
                             items[i].acct, one.rule, one.msg);
                skipped++;
                rc = 0;
            } else if (rc < 0) {
                *err = one;
            } else if (m > 0) {
                posted++;
                members += m;
                total += t;
            }
        }
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        if (rc < 0) {
            hpf_db_rollback(db);
            break;
        }
        after = ids[n - 1];
        out->employers += (int64_t)n;
        out->posted += posted;
        out->skipped += skipped;
        out->members += members;
        out->total += total;
        if (progress)
            progress(out, arg);
        if (n < (size_t)per_tx)
            break;
    }
    free(items);
    free(ids);
    if (rc < 0)
        return rc;
    out->finished = true;
    return 0;
}
