#include "ledger/ledger.h"

#include <stdio.h>

int hpf_ledger_voucher(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                       const char *template_code, const char *summary, const hpf_vline *lines,
                       size_t nlines, hpf_err *err)
{
    hpf_fen dr = 0, cr = 0;
    if (nlines == 0)
        return hpf_err_set(err, HPF_EINTERNAL, "voucher without lines");
    for (size_t i = 0; i < nlines; i++) {
        const hpf_vline *l = &lines[i];
        if (l->debit < 0 || l->credit < 0 || (l->debit > 0) == (l->credit > 0))
            return hpf_err_set(err, HPF_EINTERNAL, "voucher line %zu is not one-sided", i + 1);
        if (hpf_money_add(&dr, dr, l->debit) < 0 || hpf_money_add(&cr, cr, l->credit) < 0)
            return hpf_err_set(err, HPF_EOVERFLOW, "voucher total out of range");
    }
    if (dr != cr)
        return hpf_err_set(err, HPF_EINTERNAL, "voucher does not balance: Dr %lld Cr %lld",
                           (long long)dr, (long long)cr);

    int y, m, d;
    hpf_day_to_ymd(biz_date, &y, &m, &d);
    char cname[32], date[11];
    snprintf(cname, sizeof cname, "voucher:%04d%02d%02d", y, m, d);
    int64_t seq;
    int rc = hpf_db_next_counter(db, cname, &seq, err);
    if (rc < 0)
        return rc;
    snprintf(voucher_no, 24, "V%04d%02d%02d%06lld", y, m, d, (long long)seq);

    hpf_stmt *st;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO voucher(voucher_no, biz_date, template, summary) "
                        "VALUES (?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, voucher_no);
    hpf_stmt_bind_text(st, 2, hpf_day_fmt(date, biz_date));
    hpf_stmt_bind_text(st, 3, template_code);
    hpf_stmt_bind_text(st, 4, summary);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *voucher_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;

    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO voucher_line(voucher_id, line_no, subject, debit, credit) "
                        "VALUES (?, ?, ?, ?, ?)",
                        err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nlines; i++) {
        hpf_stmt_bind_i64(st, 1, *voucher_id);
        hpf_stmt_bind_i64(st, 2, (int64_t)i + 1);
        hpf_stmt_bind_text(st, 3, lines[i].subject);
        hpf_stmt_bind_i64(st, 4, lines[i].debit);
        hpf_stmt_bind_i64(st, 5, lines[i].credit);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hpf_ledger_post_member(hpf_db *db, const hpf_posting_in *in, hpf_fen *balance_after,
                           hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "SELECT balance FROM member WHERE id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, in->member_id);
    rc = hpf_stmt_step(st, err);
    hpf_fen old = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "member %lld not found", (long long)in->member_id);
    hpf_fen now;
    if (hpf_money_add(&now, old, in->amount) < 0)
        return hpf_err_set(err, HPF_EOVERFLOW, "member balance out of range");
    if (now < 0)
        return hpf_err_set(err, HPF_ECONFLICT, "member balance would become negative");

    /* The old balance in the WHERE clause guards against a concurrent writer. */
    rc = hpf_db_prepare(db, &st, "UPDATE member SET balance = ? WHERE id = ? AND balance = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, now);
    hpf_stmt_bind_i64(st, 2, in->member_id);
    hpf_stmt_bind_i64(st, 3, old);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (changed != 1)
        return hpf_err_set(err, HPF_EBUSY, "member balance changed concurrently");

    char date[11];
    rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO posting(member_id, biz_date, kind, period, amount, unit_amount,"
                       " indiv_amount, balance_after, voucher_id, remittance_id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, in->member_id);
    hpf_stmt_bind_text(st, 2, hpf_day_fmt(date, in->biz_date));
    hpf_stmt_bind_text(st, 3, in->kind);
    if (in->period)
        hpf_stmt_bind_i64(st, 4, in->period);
    else
        hpf_stmt_bind_null(st, 4);
    hpf_stmt_bind_i64(st, 5, in->amount);
    hpf_stmt_bind_i64(st, 6, in->unit_amount);
    hpf_stmt_bind_i64(st, 7, in->indiv_amount);
    hpf_stmt_bind_i64(st, 8, now);
    hpf_stmt_bind_i64(st, 9, in->voucher_id);
    if (in->remittance_id)
        hpf_stmt_bind_i64(st, 10, in->remittance_id);
    else
        hpf_stmt_bind_null(st, 10);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (balance_after)
        *balance_after = now;
    return 0;
}
