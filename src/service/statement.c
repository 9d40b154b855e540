/* service/statement: the annual statement (对账单, RULES 2.4) of one account: the interest year
 * 1 July .. 30 June with 上年结转, 当年缴存, 当年提取, 利息 and the closing balance, on top of the
 * date-range statement (hpf_member_statement: the same scope check and read trail). While the
 * year is not settled, the interest accrued so far comes from the account's interest state
 * (ledger/interest.h), as it would be settled, not posted. */
#include "service/internal.h"

#include "ledger/interest.h"

#include <string.h>

/* 汇缴, 补缴 and 外部转入 are deposits (a reversal of one keeps its kind, with the opposite
 * sign, so it nets out); 年终结息 is the interest; everything else that moves money out or
 * between accounts counts as a withdrawal (提取, 转出, 合并). */
static bool is_deposit(const char *kind)
{
    return !strcmp(kind, "01") || !strcmp(kind, "02") || !strcmp(kind, "08");
}

/* Settled, or the interest accrued so far, from the account's interest state. */
static int accrual(hpf_svc *svc, const char *account_no, hpf_annual *out, hpf_err *err)
{
    int32_t year = out->year;
    hpf_day last = hpf_interest_year_last(year), today = hpf_svc_today(svc);
    hpf_db *db;
    hpf_stmt *st;
    int64_t member_id = 0;
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_prepare(db, &st, "SELECT id, state FROM member WHERE account_no = ?",
                                       err)) < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    bool terminal = false;
    if (rc == 1) {
        member_id = hpf_stmt_i64(st, 0);
        const char *state = hpf_stmt_text(st, 1);
        terminal = !strcmp(state, "03") || !strcmp(state, "04") || !strcmp(state, "05");
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    hpf_ledger_rates rates;
    hpf_ledger_acc a;
    hpf_err ignore = HPF_ERR_INIT;
    if ((rc = hpf_ledger_rates_load(db, &rates, err)) < 0)
        return rc;
    out->day_basis = hpf_ledger_rates_basis(&rates, last).days;
    int32_t rate = 0;
    hpf_interest_schedule sched = hpf_ledger_rates_schedule(&rates);
    if (hpf_interest_rate_at(&rate, &sched, last < today ? last : today, &ignore) == 0)
        out->rate_e7 = rate;
    /* An account whose state is already past the year has had its settlement (or closed). */
    if (terminal || !member_id ||
        hpf_ledger_acc_load(db, member_id, today, &rates, &a, &ignore) < 0) {
        out->settled = true;
        return 0;
    }
    const hpf_interest_acc *y = a.acc.year == year                ? &a.acc
                                : a.has_due && a.due.year == year ? &a.due
                                                                  : NULL;
    out->settled = y == NULL;
    if (y) {
        hpf_interest_basis b = hpf_ledger_rates_basis(&rates, last);
        hpf_interest_result r;
        hpf_day upto = last < today ? last : today;
        if (upto >= y->as_of - 1 &&
            hpf_interest_acc_interest(&r, y, upto, &sched, &b, &ignore) == 0) {
            out->accrued = r.interest;
            out->accrued_to = upto;
        }
    }
    return 0;
}

int hpf_member_annual(hpf_svc *svc, const hpf_actor *actor, const char *account_no, int32_t year,
                      hpf_annual *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    if (year < 1901 || year > 9999)
        return hpf_err_field(err, HPF_EINVAL, "year", "interest.year_range",
                             "year is the interest year 1901..9999 (1 July year-1 .. 30 June "
                             "year)");
    out->year = year;
    hpf_day first = hpf_interest_year_first(year), last = hpf_interest_year_last(year);
    hpf_day today = hpf_svc_today(svc);
    if (first > today)
        return hpf_err_field(err, HPF_EUNPROC, "year", "interest.year_future",
                             "interest year %d begins after the business date", (int)year);
    int rc = hpf_member_statement(svc, actor, account_no, first, last < today ? last : today,
                                  &out->statement, err);
    if (rc < 0)
        return rc;
    const hpf_statement *s = &out->statement;
    out->carried_forward = s->opening;
    for (size_t i = 0; i < s->n; i++) {
        const hpf_stmt_item *it = &s->items[i];
        if (!strcmp(it->kind, "09"))
            out->interest += it->amount;
        else if (is_deposit(it->kind))
            out->deposits += it->amount;
        else
            out->withdrawals -= it->amount;
    }
    out->closing = s->closing;

    if ((rc = accrual(svc, account_no, out, err)) < 0)
        hpf_statement_cleanup(&out->statement);
    return rc;
}
