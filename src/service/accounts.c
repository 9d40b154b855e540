/* service/accounts: the fund's books over ledger/ (chart versions, trial balance, reversal). */
#include "service/accounts.h"

#include "base/buf.h"
#include "base/parse.h"
#include "service/internal.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <string.h>

/* The books are the centre's: an operator of the centre only. */
static int books_scope(const hpf_actor *a, hpf_err *err)
{
    if (a->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator reads or changes the fund's books");
    if (!svc_branch_sees(a, ""))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.branch",
                             "the fund's books are the centre's: an operator of a branch office "
                             "does not read them");
    return 0;
}

int hpf_accounts_chart_load(hpf_svc *svc, const hpf_actor *actor, const char *source,
                            const char *text, size_t len, hpf_day effective, const char *name,
                            hpf_chart_loaded *out, hpf_err *err)
{
    hpf_chart c;
    hpf_db *db;
    char digest[65], date[11];
    hpf_buf payload = HPF_BUF_INIT;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = hpf_chart_parse(&c, text, len, err)) < 0)
        return rc;
    if (effective)
        c.effective_from = effective;
    if (name && name[0]) {
        size_t n = strlen(name);
        if (n > HPF_CHART_NAME_MAX || !hpf_text_ok(name, n, false)) {
            rc = hpf_err_field(err, HPF_EINVAL, "/name", "chart.field",
                               "the chart's name must be 1 to 255 bytes of text");
            goto done;
        }
        snprintf(c.name, sizeof c.name, "%s", name);
    }
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        goto done;
    rc = hpf_chart_store(db, &c, source, actor->user_id, out, err);
    if (rc == 0) {
        hpf_sm3_hex(digest, text, len);
        hpf_buf_printf(&payload, "chart/1|%lld|%s|%zu|%zu|%s|", (long long)out->version,
                       hpf_day_fmt_compact(date, c.effective_from), out->subjects, out->added,
                       digest);
        hpf_audit_put_text(&payload, c.name[0] ? c.name : source);
        hpf_buf_adds(&payload, "|");
        hpf_audit_put_text(&payload, source);
        /* Last: the chain head is locked from here to the commit. */
        rc = hpf_audit_event(db, actor->user_id, HPF_AUDIT_CHART_LOADED, "chart_version",
                             out->version, payload.data, err);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
done:
    hpf_buf_cleanup(&payload);
    hpf_chart_cleanup(&c);
    return rc;
}

int hpf_accounts_chart_at(hpf_svc *svc, const hpf_actor *actor, hpf_day day, hpf_chart *out,
                          hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0)
        return rc;
    return hpf_chart_at(db, day, out, NULL, err);
}

int hpf_accounts_trial_balance(hpf_svc *svc, const hpf_actor *actor, hpf_day from, hpf_day to,
                               hpf_trial_balance *out, hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 || (rc = hpf_db_begin_read(db, err)) < 0)
        return rc;
    rc = hpf_ledger_trial_balance(db, from, to, out, err);
    hpf_db_rollback(db);
    return rc;
}

int hpf_accounts_reverse(hpf_svc *svc, const hpf_actor *actor, const char *voucher_no,
                         const char *reason, hpf_reversal *out, hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0)
        return rc;
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > HPF_REVERSAL_REASON_MAX || (rl && !hpf_text_ok(reason, rl, false)))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "ledger.reason",
                             "the reason is at most %d bytes of text", HPF_REVERSAL_REASON_MAX);
    hpf_day today = hpf_svc_today(svc);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_ledger_reverse(db, voucher_no, today, reason, out, err);
    /* Last: the chain head is locked from here to the commit. The record holds the mirror
     * voucher, its lines and a digest of its postings (trust/audit.c), like a remittance. */
    if (rc == 0)
        rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_VOUCHER_REVERSED, out->voucher_id, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

/* ---- the annual interest settlement (年终结息, RULES 2.4) ----
 * As of the business date, in batches that each commit on their own, so that a run stopped
 * anywhere resumes where it stopped: every account is settled once (the row's interest state
 * says which year it is in, and posting_interest_once refuses a second posting). Design:
 * docs/internals/interest.md. */

static int count_pending(hpf_db *db, int32_t year, int64_t *n, hpf_err *err)
{
    hpf_stmt *st;
    int rc =
        hpf_db_prepare(db, &st,
                       "SELECT COUNT(*) FROM member_balance b JOIN member m ON m.id = b.member_id"
                       " WHERE" HPF_LEDGER_UNSETTLED,
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, year);
    hpf_stmt_bind_i64(st, 2, year);
    rc = hpf_stmt_step(st, err);
    *n = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* An earlier year left unsettled on some live account: the settlements run in year order. */
static int check_earlier(hpf_db *db, int32_t year, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT COUNT(*), MIN(COALESCE(int_due_year, int_year))"
                            " FROM member_balance b JOIN member m ON m.id = b.member_id"
                            " WHERE int_year IS NOT NULL AND COALESCE(int_due_year, int_year) < ?"
                            " AND m.state NOT IN ('03', '04', '05')",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, year);
    rc = hpf_stmt_step(st, err);
    int64_t n = rc == 1 ? hpf_stmt_i64(st, 0) : 0, first = rc == 1 ? hpf_stmt_i64(st, 1) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (n > 0)
        return hpf_err_field(err, HPF_ECONFLICT, "/year", "interest.year_unsettled",
                             "%lld accounts have not had the settlement of year %lld: settle the "
                             "years in order (hpf job interest --year %lld first)",
                             (long long)n, (long long)first, (long long)first);
    return 0;
}

/* One batch in its own transaction: the postings, the J6 voucher with its audit entry, the
 * run's progress. */
static int one_batch(hpf_db *db, const hpf_actor *actor, int32_t year,
                     const hpf_ledger_rates *rates, int64_t after, int limit,
                     hpf_ledger_settled *got, hpf_err *err)
{
    hpf_interest_basis b = hpf_ledger_rates_basis(rates, hpf_interest_year_last(year));
    hpf_stmt *st;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO interest_run (year, day_basis, actor_id) VALUES (?, ?, ?)"
                        " ON CONFLICT (year) DO NOTHING",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, year);
        hpf_stmt_bind_i64(st, 2, b.days);
        if (actor->user_id)
            hpf_stmt_bind_i64(st, 3, actor->user_id);
        else
            hpf_stmt_bind_null(st, 3);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_ledger_settle_batch(db, year, rates, after, limit, got, err);
    if (rc == 0 && got->accounts > 0 &&
        (rc = hpf_db_prepare(db, &st,
                             "UPDATE interest_run SET accounts = accounts + ?, interest = interest"
                             " + ?, batches = batches + 1 WHERE year = ?",
                             err)) == 0) {
        hpf_stmt_bind_i64(st, 1, got->postings);
        hpf_stmt_bind_i64(st, 2, got->interest);
        hpf_stmt_bind_i64(st, 3, year);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    /* Last: the chain head is locked from here to the commit. */
    if (rc == 0 && got->voucher_id)
        rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_VOUCHER_POSTED, got->voucher_id, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

int hpf_interest_settle(hpf_svc *svc, const hpf_actor *actor, int32_t year, int batch,
                        hpf_settle_cb progress, void *arg, hpf_settle_progress *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    out->year = year;
    int rc = books_scope(actor, err);
    if (rc < 0)
        return rc;
    if (year < 1901 || year > 9998)
        return hpf_err_field(err, HPF_EINVAL, "/year", "interest.year_range",
                             "the interest year is within 1901..9998");
    if (batch < 1 || batch > HPF_SETTLE_BATCH_MAX)
        return hpf_err_field(err, HPF_EINVAL, "/batch", "interest.batch",
                             "a batch is 1..%d accounts", HPF_SETTLE_BATCH_MAX);
    hpf_day today = hpf_svc_today(svc), last = hpf_interest_year_last(year);
    if (today < last) {
        char a[11], b[11];
        return hpf_err_field(err, HPF_EUNPROC, "/year", "interest.too_early",
                             "the interest year %d ends on %s; the business date is %s (RULES "
                             "I-3: the settlement runs after the end of day of 30 June)",
                             (int)year, hpf_day_fmt(a, last), hpf_day_fmt(b, today));
    }
    hpf_db *db;
    hpf_ledger_rates rates;
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = check_earlier(db, year, err)) < 0 ||
        (rc = count_pending(db, year, &out->remaining, err)) < 0 ||
        (rc = hpf_ledger_rates_load(db, &rates, err)) < 0)
        return rc;
    int64_t after = 0, busy = 0;
    for (;;) {
        hpf_ledger_settled got;
        rc = one_batch(db, actor, year, &rates, after, batch, &got, err);
        if (rc == HPF_EBUSY && busy++ < 8) {
            hpf_err_clear(err); /* a concurrent writer of one of the rows: run the batch again */
            continue;
        }
        if (rc < 0)
            return rc;
        busy = 0;
        after = got.last_member;
        out->accounts += got.accounts;
        out->postings += got.postings;
        out->interest += got.interest;
        out->batches += got.accounts > 0;
        out->remaining = out->remaining > got.accounts ? out->remaining - got.accounts : 0;
        if (got.accounts < batch)
            break;
        if (progress)
            progress(out, arg);
    }
    hpf_stmt *st;
    if ((rc = hpf_db_prepare(db, &st,
                             "UPDATE interest_run SET finished_at = CURRENT_TIMESTAMP"
                             " WHERE year = ? AND finished_at IS NULL",
                             err)) < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, year);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    out->finished = true;
    out->remaining = 0;
    if (progress)
        progress(out, arg);
    return 0;
}

/* ---- reversal (冲账) through maker-checker: kind voucher.reverse ----
 * A correction moves members' money back, so like every money movement it is stored by one
 * operator of the centre and run when another approves it (docs/internals/approval.md). The
 * submit checks it as it would run: the reversal is done inside a savepoint and undone. */

static int reversal_decode(json_t *p, const char **voucher_no, const char **reason, hpf_err *err)
{
    json_t *v = json_object_get(p, "voucher_no"), *r = json_object_get(p, "reason");
    if (!json_is_string(v) || (r && !json_is_string(r)))
        return hpf_err_set(err, HPF_EINTERNAL, "a stored reversal request lacks its voucher");
    *voucher_no = json_string_value(v);
    *reason = r ? json_string_value(r) : NULL;
    return 0;
}

int svc_reverse_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, json_t *payload,
                      int64_t *employer_id, hpf_err *err)
{
    (void)svc;
    (void)db;
    (void)payload;
    *employer_id = 0; /* the centre's books */
    return books_scope(maker, err);
}

int svc_reverse_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                         json_t *payload, hpf_err *err)
{
    const char *no = NULL, *reason = NULL;
    hpf_reversal r;
    (void)maker;
    (void)ref;
    int rc = reversal_decode(payload, &no, &reason, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_ledger_reverse(db, no, hpf_svc_today(svc), reason, &r, err);
    hpf_db_rollback(db); /* the savepoint: a dry run */
    return rc;
}

int svc_reverse_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                        json_t *payload, char **result, hpf_err *err)
{
    const char *no = NULL, *reason = NULL;
    hpf_reversal r;
    char amount[24];
    (void)ref;
    int rc = reversal_decode(payload, &no, &reason, err);
    if (rc < 0 || (rc = hpf_ledger_reverse(db, no, hpf_svc_today(svc), reason, &r, err)) < 0 ||
        (rc = hpf_audit_record(db, checker->user_id, HPF_AUDIT_VOUCHER_REVERSED, r.voucher_id,
                               err)) < 0)
        return rc;
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s}", "voucher_no", r.voucher_no, "reverses", r.original_no,
                  "postings", (json_int_t)r.postings, "amount", hpf_money_fmt(amount, r.amount));
    *result = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    return *result ? 0 : hpf_err_set(err, HPF_EINTERNAL, "reversal result does not encode");
}

int hpf_accounts_reverse_submit(hpf_svc *svc, const hpf_actor *actor, const char *voucher_no,
                                const char *reason, const char *idem_key, hpf_approval *out,
                                bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0)
        return rc;
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > HPF_REVERSAL_REASON_MAX || (rl && !hpf_text_ok(reason, rl, false)))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "ledger.reason",
                             "the reason is at most %d bytes of text", HPF_REVERSAL_REASON_MAX);
    json_t *p = json_pack("{s:s}", "voucher_no", voucher_no);
    if (reason)
        json_object_set_new(p, "reason", json_string(reason));
    return svc_approval_submit(svc, actor, HPF_APPROVAL_REVERSAL, idem_key, p, out, replayed, err);
}
