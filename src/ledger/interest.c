/* ledger/interest: the interest accumulator on the member row (schema 12), kept by every
 * posting, read once per account by the annual settlement, and recomputed from the postings by
 * `hpf verify`. The arithmetic is domain/interest.c; this file moves it to and from the row.
 * Design: docs/internals/interest.md. */
#include "ledger/interest.h"

#include "base/mem.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rate schedule and day basis, from the policy versions ---- */

int hpf_ledger_rates_load(hpf_db *db, hpf_ledger_rates *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT effective_from, deposit_rate_e7, day_basis FROM policy_version"
                            " ORDER BY effective_from",
                            err);
    if (rc < 0)
        return rc;
    out->n = 0;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (out->n == HPF_LEDGER_RATES_MAX) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "more than %d policy versions",
                             HPF_LEDGER_RATES_MAX);
            break;
        }
        hpf_day from;
        if (hpf_day_parse(&from, hpf_stmt_text(st, 0)) < 0) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "policy version date '%s' is not a date",
                             hpf_stmt_text(st, 0));
            break;
        }
        int64_t rate = hpf_stmt_i64(st, 1), basis = hpf_stmt_i64(st, 2);
        if (rate < 0 || rate > HPF_INTEREST_RATE_ONE) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "policy version rate %lld out of range",
                             (long long)rate);
            break;
        }
        out->steps[out->n].from = from;
        out->steps[out->n].rate = (int32_t)rate;
        out->basis[out->n] = (int32_t)basis;
        out->n++;
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (out->n == 0)
        return hpf_err_field(err, HPF_ECONFLICT, "", "interest.no_rate",
                             "no policy version gives a deposit rate");
    return 0;
}

hpf_interest_schedule hpf_ledger_rates_schedule(const hpf_ledger_rates *r)
{
    return (hpf_interest_schedule){.steps = r->steps, .n = r->n};
}

hpf_interest_basis hpf_ledger_rates_basis(const hpf_ledger_rates *r, hpf_day day)
{
    int32_t days = r->basis[0];
    for (size_t i = 0; i < r->n && r->steps[i].from <= day; i++)
        days = r->basis[i];
    return (hpf_interest_basis){.days = days, .leap_366 = false};
}

/* ---- the row ---- */

#define ACC_COLS HPF_LEDGER_ACC_COLS

static int corrupt(hpf_err *err, int64_t member_id, const char *what)
{
    return hpf_err_field(err, HPF_EINTERNAL, "", "interest.state",
                         "member id %lld: the interest state on the account is corrupt (%s)",
                         (long long)member_id, what);
}

int hpf_ledger_acc_read(hpf_stmt *st, int col, int64_t member_id, hpf_fen balance,
                        hpf_ledger_acc *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    out->member_id = member_id;
    if (hpf_stmt_null(st, col))
        return 0; /* not started: hpf_ledger_acc_start */
    out->started = true;
    out->opening = hpf_stmt_i64(st, col + 1);
    out->acc.year = (int32_t)hpf_stmt_i64(st, col);
    if (hpf_day_parse(&out->acc.as_of, hpf_stmt_text(st, col + 2)) < 0)
        return corrupt(err, member_id, "int_as_of");
    out->acc.balance = balance;
    out->acc.jishu = hpf_stmt_i64(st, col + 3);
    out->acc.rate_jishu = hpf_stmt_i64(st, col + 4);
    out->acc.rate_jishu_rem = (int32_t)hpf_stmt_i64(st, col + 5);
    int rc = hpf_interest_acc_check(&out->acc, err);
    if (rc < 0)
        return corrupt(err, member_id, err->msg);
    if (!hpf_stmt_null(st, col + 6)) {
        out->has_due = true;
        out->due.year = (int32_t)hpf_stmt_i64(st, col + 6);
        out->due.as_of = hpf_interest_year_last(out->due.year);
        out->due.jishu = hpf_stmt_i64(st, col + 7);
        out->due.rate_jishu = hpf_stmt_i64(st, col + 8);
        out->due.rate_jishu_rem = (int32_t)hpf_stmt_i64(st, col + 9);
        out->due.balance = hpf_stmt_i64(st, col + 10);
        if (out->due.year != out->acc.year - 1 || hpf_interest_acc_check(&out->due, err) < 0)
            return corrupt(err, member_id, "int_due_*");
    }
    return 0;
}

/* The postings of a member: (day, amount) in day order (ties in id order). *p is malloc'd. */
static int member_postings(hpf_db *db, int64_t member_id, hpf_interest_posting **p, size_t *n,
                           hpf_err *err)
{
    hpf_stmt *st;
    *p = NULL;
    *n = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT biz_date, amount FROM posting WHERE member_id = ?"
                            " ORDER BY biz_date, id",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    size_t cap = 0;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *p = hpf_xrealloc(*p, cap * sizeof **p);
        }
        if (hpf_day_parse(&(*p)[*n].day, hpf_stmt_text(st, 0)) < 0) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "posting date '%s' is not a date",
                             hpf_stmt_text(st, 0));
            break;
        }
        (*p)[(*n)++].amount = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(*p);
        *p = NULL;
        *n = 0;
    }
    return rc < 0 ? rc : 0;
}

int hpf_ledger_acc_rebuild(const hpf_interest_posting *p, size_t n, int32_t year, bool with_due,
                           const hpf_interest_schedule *s, hpf_ledger_acc *out, hpf_err *err)
{
    int64_t member_id = out->member_id;
    memset(out, 0, sizeof *out);
    out->member_id = member_id;
    out->started = true;
    /* Year y's state from the postings: those before it are its opening, those inside it are
     * folded in, none may come after it (a later posting would have rolled the state). */
    size_t lo = 0;
    for (int32_t y = with_due ? year - 1 : year; y <= year; y++) {
        hpf_day first = hpf_interest_year_first(y), last = hpf_interest_year_last(y);
        hpf_fen opening = 0;
        size_t i = 0;
        for (; i < n && p[i].day < first; i++)
            if (hpf_money_add(&opening, opening, p[i].amount) < 0)
                return hpf_err_set(err, HPF_EOVERFLOW, "balance out of range");
        lo = i;
        size_t hi = lo;
        while (hi < n && p[hi].day <= last)
            hi++;
        if (y == year && hi < n)
            return hpf_err_field(err, HPF_ECONFLICT, "", "interest.other_year",
                                 "member id %lld has postings after interest year %d",
                                 (long long)member_id, (int)year);
        hpf_interest_acc a;
        int rc = hpf_interest_acc_rebuild(&a, y, opening, p + lo, hi - lo, s, err);
        if (rc < 0)
            return rc;
        if (y < year) {
            /* The closed year runs to 30 June inclusive: fold the last day in. */
            if ((rc = hpf_interest_acc_apply(&a, last, 0, s, err)) < 0)
                return rc;
            out->has_due = true;
            out->due = a;
        } else {
            out->acc = a;
            out->opening = opening;
        }
    }
    return 0;
}

int hpf_ledger_acc_start(hpf_db *db, hpf_ledger_acc *a, hpf_day day, const hpf_interest_schedule *s,
                         hpf_err *err)
{
    if (a->started)
        return 0;
    /* A row from before schema 12 (or an account never posted to): its state in the year of
     * `day`, the years before taken as settled (the opening is what they left). */
    hpf_interest_posting *p;
    size_t n;
    int rc = member_postings(db, a->member_id, &p, &n, err);
    if (rc < 0)
        return rc;
    int32_t year = hpf_interest_year_of(day);
    bool with_due = false;
    if (n && p[n - 1].day > hpf_interest_year_last(year)) {
        /* Postings after `day`'s year (a settlement that runs after 1 July): that year waits
         * for its settlement as a due year. */
        int32_t later = hpf_interest_year_of(p[n - 1].day);
        with_due = later == year + 1;
        year = later;
    }
    rc = hpf_ledger_acc_rebuild(p, n, year, with_due, s, a, err);
    free(p);
    return rc;
}

int hpf_ledger_acc_roll(hpf_ledger_acc *a, hpf_day day, const hpf_interest_schedule *s,
                        hpf_err *err)
{
    int32_t y = hpf_interest_year_of(day);
    if (y == a->acc.year)
        return 0;
    if (y < a->acc.year)
        return hpf_err_field(err, HPF_ECONFLICT, "", "interest.year_settled",
                             "member id %lld: interest year %d is closed (the account is in year "
                             "%d): a posting cannot be dated in it",
                             (long long)a->member_id, (int)y, (int)a->acc.year);
    if (y > a->acc.year + 1 || a->has_due)
        return hpf_err_field(err, HPF_ECONFLICT, "", "interest.year_unsettled",
                             "the annual interest of year %d is not settled for member id %lld: "
                             "run `hpf job interest --year %d` first",
                             (int)(a->has_due ? a->due.year : a->acc.year), (long long)a->member_id,
                             (int)(a->has_due ? a->due.year : a->acc.year));
    /* 30 June has passed and the settlement has not run: close the year as it stands. */
    hpf_interest_acc due = a->acc;
    int rc = hpf_interest_acc_apply(&due, hpf_interest_year_last(due.year), 0, s, err);
    if (rc < 0)
        return rc;
    hpf_interest_acc next;
    if ((rc = hpf_interest_acc_start(&next, y, due.balance, err)) < 0)
        return rc;
    a->due = due;
    a->has_due = true;
    a->acc = next;
    a->opening = due.balance;
    return 0;
}

/* ---- reads for the businesses ---- */

int hpf_ledger_acc_load(hpf_db *db, int64_t member_id, hpf_day day, const hpf_ledger_rates *rates,
                        hpf_ledger_acc *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, "SELECT balance, " ACC_COLS " FROM member_balance WHERE member_id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        rc = hpf_ledger_acc_read(st, 1, member_id, hpf_stmt_i64(st, 0), out, err);
    else if (rc == 0)
        rc = hpf_err_set(err, HPF_ENOTFOUND, "member %lld not found", (long long)member_id);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    hpf_interest_schedule s = hpf_ledger_rates_schedule(rates);
    if ((rc = hpf_ledger_acc_start(db, out, day, &s, err)) < 0)
        return rc;
    return hpf_ledger_acc_roll(out, day, &s, err);
}

int hpf_ledger_closing_interest(hpf_db *db, int64_t member_id, hpf_day closing_day,
                                hpf_interest_result *out, hpf_err *err)
{
    hpf_ledger_rates rates;
    hpf_ledger_acc a;
    int rc = hpf_ledger_rates_load(db, &rates, err);
    if (rc < 0 || (rc = hpf_ledger_acc_load(db, member_id, closing_day, &rates, &a, err)) < 0)
        return rc;
    if (a.has_due)
        return hpf_err_field(err, HPF_ECONFLICT, "", "interest.year_unsettled",
                             "the annual interest of year %d is not settled yet for member id "
                             "%lld: run `hpf job interest --year %d` before closing the account",
                             (int)a.due.year, (long long)member_id, (int)a.due.year);
    hpf_interest_schedule s = hpf_ledger_rates_schedule(&rates);
    hpf_interest_basis b = hpf_ledger_rates_basis(&rates, closing_day);
    return hpf_interest_acc_close(out, &a.acc, closing_day, &s, &b, err);
}

/* ---- the annual settlement (年终结息, RULES 2.4) ---- */

/* One account of a batch: its state before and after, and the interest it earns. */
typedef struct settle_row {
    hpf_ledger_acc a;
    int64_t employer_id;
    hpf_fen old_balance, interest;
} settle_row;

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* The interest of year `year` for one account, and its state after: the year closes into the
 * next with the interest as the start of its 上年结转 (I-6). */
static int settle_one(settle_row *r, int32_t year, const hpf_interest_schedule *s,
                      const hpf_interest_basis *b, hpf_err *err)
{
    hpf_interest_result res;
    hpf_interest_acc next;
    int rc;
    if (r->a.has_due) {
        /* The next year has begun on the row: the interest joins its opening, from 1 July. */
        if ((rc = hpf_interest_acc_settle(&res, &next, &r->a.due, s, b, err)) < 0)
            return rc;
        if ((rc = hpf_interest_acc_apply(&r->a.acc, hpf_interest_year_first(year + 1), res.interest,
                                         s, err)) < 0)
            return rc;
        r->a.opening += res.interest;
        r->a.has_due = false;
    } else {
        if ((rc = hpf_interest_acc_settle(&res, &next, &r->a.acc, s, b, err)) < 0)
            return rc;
        r->a.acc = next;
        r->a.opening = next.balance;
    }
    r->interest = res.interest;
    return 0;
}

int hpf_ledger_settle_batch(hpf_db *db, int32_t year, const hpf_ledger_rates *rates,
                            int64_t after_member, int limit, hpf_ledger_settled *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    out->last_member = after_member;
    hpf_interest_schedule s = hpf_ledger_rates_schedule(rates);
    hpf_day last = hpf_interest_year_last(year);
    hpf_interest_basis b = hpf_ledger_rates_basis(rates, last);
    hpf_stmt *st;
    char sql[512];
    /* Terminal accounts were settled when they closed (I-8); sealed and frozen ones earn. */
    snprintf(sql, sizeof sql,
             "SELECT b.member_id, m.employer_id, b.balance, %s FROM member_balance b"
             " JOIN member m ON m.id = b.member_id WHERE b.member_id > ? AND" HPF_LEDGER_UNSETTLED
             " ORDER BY b.member_id LIMIT ?",
             ACC_COLS);
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, after_member);
    hpf_stmt_bind_i64(st, 2, year);
    hpf_stmt_bind_i64(st, 3, year);
    hpf_stmt_bind_i64(st, 4, limit);
    settle_row *rows = hpf_xmalloc((size_t)limit * sizeof *rows);
    size_t n = 0, ne = 0;
    int64_t *emps = NULL, voucher_id = 0;
    hpf_fen *emp_sum = NULL, total = 0;
    hpf_posting_in *ins = NULL;
    hpf_ledger_state_write *w = NULL;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        settle_row *r = &rows[n];
        r->employer_id = hpf_stmt_i64(st, 1);
        r->old_balance = hpf_stmt_i64(st, 2);
        if ((rc = hpf_ledger_acc_read(st, 3, hpf_stmt_i64(st, 0), r->old_balance, &r->a, err)) < 0)
            break;
        n++;
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    out->accounts = (int64_t)n;
    if (n)
        out->last_member = rows[n - 1].a.member_id;

    for (size_t i = 0; i < n; i++) {
        settle_row *r = &rows[i];
        r->interest = 0;
        if ((rc = hpf_ledger_acc_start(db, &r->a, last, &s, err)) < 0)
            goto done;
        if (r->a.acc.year != year && !(r->a.has_due && r->a.due.year == year))
            continue; /* started in a later year: nothing of this year to settle */
        if ((rc = settle_one(r, year, &s, &b, err)) < 0)
            goto done;
        if (hpf_money_add(&total, total, r->interest) < 0) {
            rc = hpf_err_set(err, HPF_EOVERFLOW, "interest total out of range");
            goto done;
        }
    }

    /* The employers of the batch, locked in id order as a remittance locks its one, so that a
     * concurrent writer queues instead of deadlocking on a member or an employer balance. */
    emps = hpf_xmalloc((n ? n : 1) * sizeof *emps);
    for (size_t i = 0; i < n; i++)
        emps[i] = rows[i].employer_id;
    qsort(emps, n, sizeof *emps, cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (ne == 0 || emps[ne - 1] != emps[i])
            emps[ne++] = emps[i];
    emp_sum = hpf_xcalloc(ne ? ne : 1, sizeof *emp_sum);
    for (size_t i = 0; i < ne; i++)
        if ((rc = hpf_db_lock_row(db, "employer", emps[i], err)) < 0)
            goto done;

    if (total > 0) {
        char no[24], summary[64];
        snprintf(summary, sizeof summary, "年终结息 %d", (int)year);
        const hpf_amount amounts[] = {
            {"interest_accrued", 0}, {"interest_unaccrued", total}, {"interest", total}};
        if ((rc = hpf_ledger_voucher_from(db, &voucher_id, no, last, HPF_VT_INTEREST, summary,
                                          amounts, 3, err)) < 0)
            goto done;
        if ((rc = hpf_ledger_link(db, voucher_id, "interest", "interest_run", year, err)) < 0)
            goto done;
        out->voucher_id = voucher_id;
    }
    /* The postings and the new states, in multi-row statements (ledger/post.c). */
    ins = hpf_xcalloc(n ? n : 1, sizeof *ins);
    w = hpf_xcalloc(n ? n : 1, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        settle_row *r = &rows[i];
        w[i] = (hpf_ledger_state_write){.state = &r->a, .old_balance = r->old_balance};
        if (r->interest <= 0)
            continue;
        ins[i] = (hpf_posting_in){.member_id = r->a.member_id,
                                  .biz_date = last,
                                  .kind = "09",
                                  .period = year,
                                  .amount = r->interest,
                                  .voucher_id = voucher_id};
        w[i].posting = &ins[i];
        size_t lo = 0, hi = ne;
        while (lo + 1 < hi) {
            size_t mid = (lo + hi) / 2;
            if (emps[mid] <= r->employer_id)
                lo = mid;
            else
                hi = mid;
        }
        emp_sum[lo] += r->interest;
        out->postings++;
    }
    rc = hpf_ledger_write_states(db, w, n, err);
    if (rc == HPF_ECONFLICT) /* the unique index: settled by a concurrent run */
        rc = hpf_err_set(err, HPF_EBUSY, "an account of the batch was settled concurrently");
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < ne; i++)
        if (emp_sum[i] && (rc = hpf_ledger_employer_add(db, emps[i], emp_sum[i], err)) < 0)
            goto done;
    out->interest = total;
done:
    free(rows);
    free(emps);
    free(emp_sum);
    free(ins);
    free(w);
    return rc < 0 ? rc : 0;
}
