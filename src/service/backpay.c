/* service/backpay: 补缴 (back-payment, RULES §1.3 type 02) for named months of members of one
 * employer, and the make-up of deferred months (docs/internals/deposits.md). */
#include "service/deposits.h"

#include "base/buf.h"
#include "base/mem.h"
#include "ledger/interest.h"
#include "ledger/ledger.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <stdlib.h>
#include <string.h>

static int line_err(hpf_err *err, int code, size_t i, const char *leaf, const char *rule,
                    const char *msg)
{
    char field[96];
    snprintf(field, sizeof field, "/lines/%zu%s", i, leaf);
    return hpf_err_field(err, code, field, rule, "line %zu: %s", i, msg);
}

int svc_month_amount(hpf_db *db, const hpf_employer *emp, int64_t member_id, hpf_fen wage,
                     hpf_month period, hpf_contrib *out, hpf_err *err)
{
    hpf_employer then = *emp;
    hpf_wage_book book;
    hpf_policy pol;
    int rc = hpf_policy_at(db, hpf_month_first_day(period), &pol, err);
    if (rc < 0 || (rc = hpf_contrib_terms_at(db, &then, period, &book, err)) < 0)
        return rc;
    rc = hpf_contrib_compute(out, &pol.contrib, hpf_wage_book_get(&book, member_id, wage),
                             then.unit_ratio_bp, then.indiv_ratio_bp, err);
    hpf_wage_book_cleanup(&book);
    return rc;
}

int svc_backpaid_members(hpf_db *db, int64_t employer_id, hpf_month period, int64_t **ids,
                         size_t *n, hpf_err *err)
{
    hpf_stmt *st;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    /* Through the employer's back-payments (remittance(employer_id, ...) and
     * posting(remittance_id)): an employer that never back-paid costs one index probe. */
    int rc = hpf_db_prepare(db, &st,
                            "SELECT DISTINCT p.member_id FROM remittance r"
                            " JOIN posting p ON p.remittance_id = r.id"
                            " WHERE r.employer_id = ? AND r.kind = '02' AND p.period = ?"
                            " ORDER BY p.member_id",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    hpf_stmt_bind_i64(st, 2, period);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *ids = hpf_xrealloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*n)++] = hpf_stmt_i64(st, 0);
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

/* ---- one member-month ---- */

typedef struct member_row {
    int64_t id;
    hpf_fen wage;
    char state[3];
    hpf_month opened;
} member_row;

/* The employer's member with this account number: 1 found, 0 none (or another employer's). */
static int find_member(hpf_db *db, int64_t employer_id, const char *account_no, member_row *out,
                       hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, wage, state, opened_on FROM member"
                            " WHERE account_no = ? AND employer_id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    hpf_stmt_bind_i64(st, 2, employer_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        out->id = hpf_stmt_i64(st, 0);
        out->wage = hpf_stmt_i64(st, 1);
        COPY(out->state, hpf_stmt_text(st, 2));
        out->opened = hpf_month_of(svc_day(hpf_stmt_text(st, 3)));
    }
    hpf_stmt_reset(st);
    return rc;
}

/* The month's full amount for the member: the owed month's under a deferral (fixed at the
 * grant), else computed. */
static int full_amount(hpf_db *db, const hpf_employer *emp, const member_row *m, hpf_month period,
                       hpf_fen *unit, hpf_fen *indiv, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT unit_amount, indiv_amount FROM owed_month"
                            " WHERE member_id = ? AND period = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m->id);
    hpf_stmt_bind_i64(st, 2, period);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *unit = hpf_stmt_i64(st, 0);
        *indiv = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    hpf_contrib c;
    if ((rc = svc_month_amount(db, emp, m->id, m->wage, period, &c, err)) < 0)
        return rc;
    *unit = c.unit;
    *indiv = c.individual;
    return 0;
}

/* What was posted for the member's month (汇缴 and 补缴, reversals netted), by side. */
static int paid_amount(hpf_db *db, int64_t member_id, hpf_month period, hpf_fen *unit,
                       hpf_fen *indiv, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT COALESCE(SUM(unit_amount), 0), COALESCE(SUM(indiv_amount), 0)"
                            " FROM posting WHERE member_id = ? AND period = ?"
                            " AND kind IN ('01', '02')",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, period);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *unit = hpf_stmt_i64(st, 0);
        *indiv = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* ---- resolve ---- */

int hpf_backpay_resolve(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                        hpf_backpay_req *req, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_fen total = 0;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nlines > HPF_BACKPAY_MAX_LINES)
        return hpf_err_field(err, HPF_ETOOBIG, "/lines", "backpay.too_many_lines",
                             "a back-payment holds at most %d lines", HPF_BACKPAY_MAX_LINES);
    if ((rc = svc_conn(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    for (size_t i = 0; i < req->nlines; i++) {
        hpf_backpay_line *l = &req->lines[i];
        if (!l->amounts) {
            member_row m;
            rc = find_member(db, emp.id, l->account_no, &m, err);
            if (rc == 0)
                return line_err(err, HPF_EUNPROC, i, "/account_no", "remittance.member_unknown",
                                "no member account with this number at this employer");
            if (rc < 0 ||
                (rc = full_amount(db, &emp, &m, l->period, &l->unit, &l->individual, err)) < 0) {
                if (rc == HPF_ENOTFOUND) /* no policy that early */
                    return line_err(err, HPF_EUNPROC, i, "/period",
                                    "remittance.period_before_opening",
                                    "no policy was in force in this month");
                return rc;
            }
            l->amounts = true;
        }
        if (hpf_money_add(&total, total, l->unit) < 0 ||
            hpf_money_add(&total, total, l->individual) < 0)
            return hpf_err_field(err, HPF_EOVERFLOW, "/total", "money.range",
                                 "back-payment total out of range");
    }
    if (!req->has_total) {
        req->total = total;
        req->has_total = true;
    }
    return 0;
}

/* ---- check ---- */

typedef struct checked_line {
    member_row m;
    hpf_fen unit, indiv;
} checked_line;

static int cmp_line(const void *a, const void *b, void *ctx)
{
    const hpf_backpay_line *l = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(l[i].account_no, l[j].account_no);
    if (!c)
        c = l[i].period < l[j].period ? -1 : l[i].period > l[j].period;
    return c ? c : (i < j ? -1 : i > j);
}

/* The first line that repeats a (member, month) of an earlier line, or nlines. */
static size_t first_duplicate(const hpf_backpay_req *req)
{
    size_t n = req->nlines, found = n;
    size_t *idx = hpf_xcalloc(n ? n : 1, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_line, req->lines);
    for (size_t i = 1; i < n; i++) {
        const hpf_backpay_line *a = &req->lines[idx[i - 1]], *b = &req->lines[idx[i]];
        if (!strcmp(a->account_no, b->account_no) && a->period == b->period && idx[i] < found)
            found = idx[i];
    }
    free(idx);
    return found;
}

static int check_line(hpf_db *db, const hpf_employer *emp, hpf_month now, size_t i,
                      const hpf_backpay_line *l, checked_line *out, hpf_err *err)
{
    char want[24], got[24], msg[200];
    hpf_err why = HPF_ERR_INIT;
    hpf_fen full_u = 0, full_i = 0, paid_u = 0, paid_i = 0;
    if (!l->amounts)
        return hpf_err_set(err, HPF_EINTERNAL, "back-payment line %zu has no amounts", i);
    if (!hpf_month_valid(l->period) || l->period > now)
        return line_err(err, HPF_EUNPROC, i, "/period", "remittance.period_future",
                        "month is after the current business month");
    if (l->period < hpf_month_of(emp->opened_on))
        return line_err(err, HPF_EUNPROC, i, "/period", "remittance.period_before_opening",
                        "month is before the employer's account was opened");
    int rc = find_member(db, emp->id, l->account_no, &out->m, err);
    if (rc == 0)
        return line_err(err, HPF_EUNPROC, i, "/account_no", "remittance.member_unknown",
                        "no member account with this number at this employer");
    if (rc < 0)
        return rc;
    if (!svc_member_takes_deposits(out->m.state, &why))
        return line_err(err, HPF_EUNPROC, i, "/account_no", "remittance.member_state", why.msg);
    if (l->period < out->m.opened)
        return line_err(err, HPF_EUNPROC, i, "/period", "remittance.member_not_open",
                        "account was opened after this month");
    if (l->unit < 0 || l->individual < 0 || l->unit + l->individual <= 0)
        return line_err(err, HPF_EUNPROC, i, "/unit", "backpay.amount_zero",
                        "a line pays a positive amount");
    if ((rc = full_amount(db, emp, &out->m, l->period, &full_u, &full_i, err)) < 0 ||
        (rc = paid_amount(db, out->m.id, l->period, &paid_u, &paid_i, err)) < 0) {
        if (rc == HPF_ENOTFOUND)
            return line_err(err, HPF_EUNPROC, i, "/period", "remittance.period_before_opening",
                            "no policy was in force in this month");
        return rc;
    }
    hpf_fen left_u = full_u > paid_u ? full_u - paid_u : 0;
    hpf_fen left_i = full_i > paid_i ? full_i - paid_i : 0;
    if (left_u == 0 && left_i == 0)
        return line_err(err, HPF_ECONFLICT, i, "/period", "remittance.month_paid",
                        "this member's month is paid in full already");
    if (l->unit > left_u) {
        snprintf(msg, sizeof msg, "employer part is at most %s for this month, not %s",
                 hpf_money_fmt(want, left_u), hpf_money_fmt(got, l->unit));
        return line_err(err, HPF_EUNPROC, i, "/unit", "backpay.amount_exceeds", msg);
    }
    if (l->individual > left_i) {
        snprintf(msg, sizeof msg, "employee part is at most %s for this month, not %s",
                 hpf_money_fmt(want, left_i), hpf_money_fmt(got, l->individual));
        return line_err(err, HPF_EUNPROC, i, "/individual", "backpay.amount_exceeds", msg);
    }
    out->unit = l->unit;
    out->indiv = l->individual;
    return 0;
}

static void request_hash(char out[65], const hpf_backpay_req *req)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_printf(&b, "backpay/1|%lld|%zu", (long long)req->total, req->nlines);
    for (size_t i = 0; i < req->nlines; i++)
        hpf_buf_printf(&b, "|%s:%d:%lld:%lld", req->lines[i].account_no, (int)req->lines[i].period,
                       (long long)req->lines[i].unit, (long long)req->lines[i].individual);
    hpf_sm3_hex(out, b.data, b.len);
    hpf_buf_cleanup(&b);
}

/* Lock the employer and check everything inside the caller's write transaction (see
 * remit.c validate). */
static int validate(hpf_svc *svc, hpf_db *db, const char *employer_account_no,
                    const hpf_backpay_req *req, const char *hash, hpf_employer *emp,
                    checked_line **chk, hpf_remittance *prior, bool *found, hpf_err *err)
{
    hpf_month now = hpf_month_of(hpf_svc_today(svc));
    hpf_fen total = 0;
    char want[24], got[24];
    *chk = NULL;
    int rc = svc_load_employer(db, employer_account_no, emp, err);
    if (rc < 0 || (rc = hpf_db_lock_row(db, "employer", emp->id, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, emp, err)) < 0)
        return rc;
    rc = svc_remit_find_by_key(db, emp->id, req->idem_key, hash, prior, found, err);
    if (rc < 0 || *found)
        return rc;
    if (req->nlines == 0)
        return hpf_err_field(err, HPF_EUNPROC, "/lines", "backpay.empty",
                             "a back-payment needs at least one line");
    /* Deferring employers make up their months; a closed or sealed one pays nothing in. */
    if (strcmp(emp->state, "03") != 0 && (rc = svc_employer_normal(emp, err)) < 0)
        return rc;
    size_t dup = first_duplicate(req);
    if (dup < req->nlines)
        return line_err(err, HPF_EUNPROC, dup, "/period", "backpay.duplicate_line",
                        "this member and month appear on an earlier line");
    *chk = hpf_xcalloc(req->nlines, sizeof **chk);
    for (size_t i = 0; rc == 0 && i < req->nlines; i++) {
        rc = check_line(db, emp, now, i, &req->lines[i], &(*chk)[i], err);
        if (rc == 0 && (hpf_money_add(&total, total, (*chk)[i].unit) < 0 ||
                        hpf_money_add(&total, total, (*chk)[i].indiv) < 0))
            rc = hpf_err_field(err, HPF_EOVERFLOW, "/total", "money.range",
                               "back-payment total out of range");
    }
    if (rc == 0 && total != req->total)
        rc = hpf_err_field(err, HPF_EUNPROC, "/total", "remittance.total_mismatch",
                           "total %s does not equal the lines' sum %s",
                           hpf_money_fmt(got, req->total), hpf_money_fmt(want, total));
    if (rc < 0) {
        free(*chk);
        *chk = NULL;
    }
    return rc;
}

int hpf_backpay_check(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                      const hpf_backpay_req *req, int64_t *employer_id, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_remittance prior;
    checked_line *chk = NULL;
    char hash[65];
    bool found = false;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nlines > HPF_BACKPAY_MAX_LINES)
        return hpf_err_field(err, HPF_ETOOBIG, "/lines", "backpay.too_many_lines",
                             "a back-payment holds at most %d lines", HPF_BACKPAY_MAX_LINES);
    request_hash(hash, req);
    if ((rc = svc_conn(svc, &db, err)) < 0)
        return rc;
    rc = validate(svc, db, employer_account_no, req, hash, &emp, &chk, &prior, &found, err);
    free(chk);
    if (rc == 0 && found)
        rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                           "this Idempotency-Key was already used for remittance %s", prior.serial);
    if (rc == 0)
        *employer_id = emp.id;
    return rc;
}

/* ---- post ---- */

/* Mark the member's owed month made up by `remit_id` once what was posted for it covers it. */
static int make_up(hpf_db *db, int64_t member_id, hpf_month period, int64_t remit_id,
                   const char *date, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE owed_month SET made_up_by = ?, made_up_on = ?"
                            " WHERE member_id = ? AND period = ? AND made_up_by IS NULL"
                            " AND amount <= (SELECT COALESCE(SUM(p.amount), 0) FROM posting p"
                            "  WHERE p.member_id = ? AND p.period = ? AND p.kind IN ('01', '02'))",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, remit_id);
    hpf_stmt_bind_text(st, 2, date);
    hpf_stmt_bind_i64(st, 3, member_id);
    hpf_stmt_bind_i64(st, 4, period);
    hpf_stmt_bind_i64(st, 5, member_id);
    hpf_stmt_bind_i64(st, 6, period);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* 缴至年月 moves on over the months paid in full right after it (a back-payment that fills the
 * month after it, and any later months already paid), never past the business month. */
static int advance_paid_through(hpf_db *db, const hpf_employer *emp, const member_row *m,
                                hpf_month now, hpf_err *err)
{
    hpf_stmt *st;
    hpf_month pt = 0;
    int rc = hpf_db_prepare(
        db, &st, "SELECT COALESCE(paid_through, 0) FROM member_balance WHERE member_id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m->id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        pt = (hpf_month)hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    hpf_month next = pt ? hpf_month_add(pt, 1) : m->opened, moved = pt;
    while (next <= now) {
        hpf_fen fu = 0, fi = 0, pu = 0, pi = 0;
        if ((rc = paid_amount(db, m->id, next, &pu, &pi, err)) < 0)
            return rc;
        if (pu + pi <= 0)
            break;
        if ((rc = full_amount(db, emp, m, next, &fu, &fi, err)) < 0)
            return rc == HPF_ENOTFOUND ? 0 : rc;
        if (pu + pi < fu + fi)
            break;
        moved = next;
        next = hpf_month_add(next, 1);
    }
    if (moved == pt)
        return 0;
    rc = hpf_db_prepare(db, &st, "UPDATE member_balance SET paid_through = ? WHERE member_id = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, moved);
    hpf_stmt_bind_i64(st, 2, m->id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int write_backpay(hpf_svc *svc, hpf_db *db, const hpf_actor *actor, const hpf_employer *emp,
                         const hpf_backpay_req *req, const char *hash, const checked_line *chk,
                         hpf_remittance *out, hpf_err *err)
{
    hpf_stmt *st;
    hpf_day today = hpf_svc_today(svc);
    hpf_month now = hpf_month_of(today), latest = 0;
    hpf_fen unit_total = 0, indiv_total = 0;
    char voucher_no[24], serial[24], summary[640], date[11], cname[32];
    int64_t voucher_id, remit_id = 0, seq;
    int y, m, d;
    for (size_t i = 0; i < req->nlines; i++) {
        unit_total += chk[i].unit; /* bounded: validate summed these with checks */
        indiv_total += chk[i].indiv;
        if (req->lines[i].period > latest)
            latest = req->lines[i].period;
    }
    snprintf(summary, sizeof summary, "补缴 %s", emp->name);
    const hpf_amount amounts[] = {{"deposit", req->total}};
    int rc = hpf_ledger_voucher_from(db, &voucher_id, voucher_no, today, HPF_VT_REMIT, summary,
                                     amounts, 1, err);
    if (rc < 0)
        return rc;
    hpf_day_to_ymd(today, &y, &m, &d);
    snprintf(cname, sizeof cname, "backpay:%04d%02d%02d", y, m, d);
    if ((rc = hpf_db_next_counter(db, cname, &seq, err)) < 0)
        return rc;
    snprintf(serial, sizeof serial, "BJ%04d%02d%02d%06lld", y, m, d, (long long)seq);
    hpf_day_fmt(date, today);
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO remittance(serial, employer_id, kind, period, idem_key,"
                        " request_hash, members, unit_total, indiv_total, total, voucher_id,"
                        " posted_on, created_by) VALUES (?, ?, '02', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, serial);
    hpf_stmt_bind_i64(st, 2, emp->id);
    hpf_stmt_bind_i64(st, 3, latest);
    hpf_stmt_bind_text(st, 4, req->idem_key);
    hpf_stmt_bind_text(st, 5, hash);
    hpf_stmt_bind_i64(st, 6, (int64_t)req->nlines);
    hpf_stmt_bind_i64(st, 7, unit_total);
    hpf_stmt_bind_i64(st, 8, indiv_total);
    hpf_stmt_bind_i64(st, 9, req->total);
    hpf_stmt_bind_i64(st, 10, voucher_id);
    hpf_stmt_bind_text(st, 11, date);
    if (actor->user_id)
        hpf_stmt_bind_i64(st, 12, actor->user_id);
    else
        hpf_stmt_bind_null(st, 12);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        remit_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    hpf_ledger_rates rates;
    if ((rc = hpf_ledger_rates_load(db, &rates, err)) < 0)
        return rc;
    for (size_t i = 0; i < req->nlines; i++) {
        hpf_posting_in p = {
            .member_id = chk[i].m.id,
            .biz_date = today,
            .kind = "02",
            .period = req->lines[i].period,
            .unit_amount = chk[i].unit,
            .indiv_amount = chk[i].indiv,
            .amount = chk[i].unit + chk[i].indiv,
            .voucher_id = voucher_id,
            .remittance_id = remit_id,
            .rates = &rates,
        };
        if ((rc = hpf_ledger_post_member(db, &p, NULL, err)) < 0 ||
            (rc = make_up(db, chk[i].m.id, req->lines[i].period, remit_id, date, err)) < 0)
            return rc;
    }
    /* Each member once (lines of one member are usually adjacent; a repeat is harmless). */
    for (size_t i = 0; i < req->nlines; i++)
        if ((i == 0 || chk[i].m.id != chk[i - 1].m.id) &&
            (rc = advance_paid_through(db, emp, &chk[i].m, now, err)) < 0)
            return rc;
    if ((rc = svc_deferral_settle(db, actor->user_id, emp->id, today, err)) < 0 ||
        (rc = svc_remit_load(db, serial, out, err)) < 0)
        return rc;
    /* Last: the chain head is locked from here to the commit. */
    return hpf_audit_record(db, actor->user_id, HPF_AUDIT_REMITTANCE_POSTED, remit_id, err);
}

int hpf_backpay_post(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                     const hpf_backpay_req *req, hpf_remittance *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    checked_line *chk = NULL;
    char hash[65];
    bool found = false;
    *replayed = false;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nlines > HPF_BACKPAY_MAX_LINES)
        return hpf_err_field(err, HPF_ETOOBIG, "/lines", "backpay.too_many_lines",
                             "a back-payment holds at most %d lines", HPF_BACKPAY_MAX_LINES);
    request_hash(hash, req);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = validate(svc, db, employer_account_no, req, hash, &emp, &chk, out, &found, err);
    if (rc < 0)
        goto done;
    if (found) {
        *replayed = true;
        goto done;
    }
    if ((rc = write_backpay(svc, db, actor, &emp, req, hash, chk, out, err)) < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    free(chk);
    return rc;
}
