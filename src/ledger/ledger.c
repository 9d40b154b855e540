#include "ledger/ledger.h"

#include "base/buf.h"
#include "base/mem.h"
#include "ledger/interest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statements of 1..SHAPES_MAX rows or codes, built once per process, so that a voucher's chart
 * check and its lines are one statement each (on PostgreSQL a round trip each: the lines and
 * codes of a voucher were one statement apiece). */
#define SHAPES_MAX HPF_TEMPLATE_MAX_LINES
#define CHART_IN_FORCE                                                                             \
    "(SELECT id FROM chart_version WHERE effective_from <= ? ORDER BY effective_from DESC"         \
    " LIMIT 1)"
static char *chart_sql[SHAPES_MAX + 1], *lines_sql[SHAPES_MAX + 1];
static pthread_once_t shapes_once = PTHREAD_ONCE_INIT;

static void build_shapes(void)
{
    for (int n = 1; n <= SHAPES_MAX; n++) {
        hpf_buf b = HPF_BUF_INIT;
        hpf_buf_adds(&b, "SELECT " CHART_IN_FORCE ", (SELECT COUNT(*) FROM chart_entry"
                         " WHERE version = " CHART_IN_FORCE " AND code IN (");
        for (int i = 0; i < n; i++)
            hpf_buf_adds(&b, i ? ", ?" : "?");
        hpf_buf_adds(&b, "))");
        hpf_buf_add(&b, "", 1);
        chart_sql[n] = hpf_buf_detach(&b, NULL);
        hpf_buf_adds(&b, "INSERT INTO voucher_line(voucher_id, line_no, subject, debit, credit)"
                         " VALUES ");
        for (int i = 0; i < n; i++)
            hpf_buf_adds(&b, i ? ", (?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)");
        hpf_buf_add(&b, "", 1);
        lines_sql[n] = hpf_buf_detach(&b, NULL);
    }
}

/* The chart version in force on `date` (*version 0 when none is) and how many of the distinct
 * codes[0..n) it holds. */
static int chart_holds(hpf_db *db, const char *date, const char *const *codes, size_t n,
                       int64_t *version, int64_t *held, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, chart_sql[n], err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, date);
    hpf_stmt_bind_text(st, 2, date);
    for (size_t i = 0; i < n; i++)
        hpf_stmt_bind_text(st, 3 + (int)i, codes[i]);
    rc = hpf_stmt_step(st, err);
    *version = rc == 1 && !hpf_stmt_null(st, 0) ? hpf_stmt_i64(st, 0) : 0;
    *held = rc == 1 ? hpf_stmt_i64(st, 1) : 0;
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Every line names a code of the chart in force on `date`: one query for the distinct codes,
 * and one a code only to name the missing one. */
static int check_subjects(hpf_db *db, const char *date, const hpf_vline *lines, size_t nlines,
                          hpf_err *err)
{
    pthread_once(&shapes_once, build_shapes);
    for (size_t from = 0; from < nlines; from += SHAPES_MAX) {
        const char *codes[SHAPES_MAX];
        size_t n = 0, to = nlines - from < SHAPES_MAX ? nlines : from + SHAPES_MAX;
        for (size_t i = from; i < to; i++) {
            size_t k = 0;
            while (k < n && strcmp(codes[k], lines[i].subject) != 0)
                k++;
            if (k == n)
                codes[n++] = lines[i].subject;
        }
        int64_t version, held;
        int rc = chart_holds(db, date, codes, n, &version, &held, err);
        if (rc < 0)
            return rc;
        if (!version)
            return hpf_err_field(err, HPF_ECONFLICT, "", "ledger.subject_not_in_chart",
                                 "no chart of accounts is in force on %s", date);
        for (size_t k = 0; held < (int64_t)n && k < n; k++) {
            int64_t one;
            if ((rc = chart_holds(db, date, &codes[k], 1, &version, &one, err)) < 0)
                return rc;
            if (!one)
                return hpf_err_field(err, HPF_ECONFLICT, "", "ledger.subject_not_in_chart",
                                     "subject %s is not in the chart of accounts in force on %s",
                                     codes[k], date);
        }
    }
    return 0;
}

/* The voucher writer behind hpf_ledger_voucher and the reversal (reversal_of 0: none). */
static int write_voucher(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                         const char *template_code, const char *summary, const hpf_vline *lines,
                         size_t nlines, int64_t reversal_of, hpf_err *err)
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
    hpf_day_fmt(date, biz_date);
    int rc = check_subjects(db, date, lines, nlines, err);
    if (rc < 0)
        return rc;
    snprintf(cname, sizeof cname, "voucher:%04d%02d%02d", y, m, d);
    int64_t seq;
    rc = hpf_db_next_counter(db, cname, &seq, err);
    if (rc < 0)
        return rc;
    snprintf(voucher_no, 24, "V%04d%02d%02d%06lld", y, m, d, (long long)seq);

    hpf_stmt *st;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO voucher(voucher_no, biz_date, template, summary, reversal_of) "
                        "VALUES (?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, voucher_no);
    hpf_stmt_bind_text(st, 2, date);
    hpf_stmt_bind_text(st, 3, template_code);
    hpf_stmt_bind_text(st, 4, summary);
    if (reversal_of)
        hpf_stmt_bind_i64(st, 5, reversal_of);
    else
        hpf_stmt_bind_null(st, 5);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *voucher_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;

    /* The lines, SHAPES_MAX to a statement. */
    pthread_once(&shapes_once, build_shapes);
    for (size_t from = 0; from < nlines; from += SHAPES_MAX) {
        size_t n = nlines - from < SHAPES_MAX ? nlines - from : SHAPES_MAX;
        if ((rc = hpf_db_prepare(db, &st, lines_sql[n], err)) < 0)
            return rc;
        for (size_t i = 0; i < n; i++) {
            const hpf_vline *l = &lines[from + i];
            int p = 5 * (int)i;
            hpf_stmt_bind_i64(st, p + 1, *voucher_id);
            hpf_stmt_bind_i64(st, p + 2, (int64_t)(from + i) + 1);
            hpf_stmt_bind_text(st, p + 3, l->subject);
            hpf_stmt_bind_i64(st, p + 4, l->debit);
            hpf_stmt_bind_i64(st, p + 5, l->credit);
        }
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hpf_ledger_voucher(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                       const char *template_code, const char *summary, const hpf_vline *lines,
                       size_t nlines, hpf_err *err)
{
    return write_voucher(db, voucher_id, voucher_no, biz_date, template_code, summary, lines,
                         nlines, 0, err);
}

/* ---- templates ---- */

static int template_err(hpf_err *err, const char *code, const char *fmt, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof msg, fmt, what);
    return hpf_err_field(err, HPF_EINTERNAL, "", "ledger.template_amounts", "template %s: %s", code,
                         msg);
}

int hpf_ledger_template_expand(const char *code, const hpf_tline *tl, size_t ntl,
                               const hpf_amount *amounts, size_t namounts, hpf_vline *out,
                               size_t *nout, hpf_err *err)
{
    bool used[HPF_TEMPLATE_MAX_LINES] = {false};
    hpf_fen dr = 0, cr = 0;
    *nout = 0;
    if (namounts > HPF_TEMPLATE_MAX_LINES)
        return template_err(err, code, "%s", "too many amounts");
    for (size_t a = 0; a < namounts; a++) {
        if (!amounts[a].name)
            return template_err(err, code, "%s", "an amount without a name");
        if (amounts[a].value < 0 || amounts[a].value > HPF_MONEY_MAX)
            return template_err(err, code, "amount %s out of range", amounts[a].name);
        for (size_t b = 0; b < a; b++)
            if (!strcmp(amounts[a].name, amounts[b].name))
                return template_err(err, code, "amount %s given twice", amounts[a].name);
    }
    for (size_t i = 0; i < ntl; i++) {
        size_t a = 0;
        while (a < namounts && strcmp(amounts[a].name, tl[i].amount) != 0)
            a++;
        if (a == namounts)
            return template_err(err, code, "amount %s is not given", tl[i].amount);
        used[a] = true;
        hpf_fen v = amounts[a].value;
        if (v == 0)
            continue;
        hpf_vline *l = &out[(*nout)++];
        *l = (hpf_vline){.subject = tl[i].subject};
        if (tl[i].side == 'D') {
            l->debit = v;
            dr += v; /* at most 16 amounts of at most 10^13 each: no overflow */
        } else {
            l->credit = v;
            cr += v;
        }
    }
    for (size_t a = 0; a < namounts; a++)
        if (!used[a])
            return template_err(err, code, "amount %s is not used by the template",
                                amounts[a].name);
    if (*nout == 0)
        return template_err(err, code, "%s", "every amount is zero: no line is left");
    if (dr != cr) {
        char a[24], b[24], msg[80];
        snprintf(msg, sizeof msg, "debits %s != credits %s", hpf_money_fmt(a, dr),
                 hpf_money_fmt(b, cr));
        return template_err(err, code, "%s", msg);
    }
    return 0;
}

int hpf_ledger_template_lines(hpf_db *db, const char *code, hpf_tline tl[HPF_TEMPLATE_MAX_LINES],
                              size_t *ntl, hpf_err *err)
{
    hpf_stmt *st;
    *ntl = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT side, subject, amount FROM voucher_template_line"
                            " WHERE template = ? ORDER BY line_no",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, code);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*ntl == HPF_TEMPLATE_MAX_LINES) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "template %s has too many lines", code);
            break;
        }
        hpf_tline *t = &tl[(*ntl)++];
        t->side = hpf_stmt_text(st, 0)[0];
        snprintf(t->subject, sizeof t->subject, "%s", hpf_stmt_text(st, 1));
        snprintf(t->amount, sizeof t->amount, "%s", hpf_stmt_text(st, 2));
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (*ntl == 0)
        return hpf_err_field(err, HPF_EINTERNAL, "", "ledger.template_unknown",
                             "no voucher template %s", code);
    return 0;
}

int hpf_ledger_voucher_from(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                            const char *template_code, const char *summary,
                            const hpf_amount *amounts, size_t namounts, hpf_err *err)
{
    hpf_tline tl[HPF_TEMPLATE_MAX_LINES];
    hpf_vline lines[HPF_TEMPLATE_MAX_LINES];
    size_t ntl, n;
    int rc = hpf_ledger_template_lines(db, template_code, tl, &ntl, err);
    if (rc < 0 || (rc = hpf_ledger_template_expand(template_code, tl, ntl, amounts, namounts, lines,
                                                   &n, err)) < 0)
        return rc;
    return hpf_ledger_voucher(db, voucher_id, voucher_no, biz_date, template_code, summary, lines,
                              n, err);
}

/* ---- the member and employer sub-ledgers ---- */

/* Move employer `employer_id`'s sub-ledger balance by `amount`. An upsert would test its proposed
 * row (a negative amount) against the table's CHECK before it found the conflict, so: update, and
 * insert the employer's first balance. */
int hpf_ledger_link(hpf_db *db, int64_t voucher_id, const char *business, const char *ref_table,
                    int64_t ref_id, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "INSERT INTO voucher_link (voucher_id, business, ref_table, ref_id)"
                            " VALUES (?, ?, ?, ?)",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, voucher_id);
    hpf_stmt_bind_text(st, 2, business);
    hpf_stmt_bind_text(st, 3, ref_table);
    hpf_stmt_bind_i64(st, 4, ref_id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_ledger_employer_add(hpf_db *db, int64_t employer_id, hpf_fen amount, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, "UPDATE employer_balance SET balance = balance + ? WHERE employer_id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, amount);
    hpf_stmt_bind_i64(st, 2, employer_id);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (changed == 1)
        return 0;
    if (amount < 0)
        return hpf_err_field(err, HPF_ECONFLICT, "", "ledger.balance_negative",
                             "employer id %lld has no balance to take %lld fen from",
                             (long long)employer_id, (long long)-amount);
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO employer_balance (employer_id, balance) VALUES (?, ?)", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    hpf_stmt_bind_i64(st, 2, amount);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* a concurrent first posting of this employer */
        return hpf_err_set(err, HPF_EBUSY, "employer balance created concurrently");
    return rc < 0 ? rc : 0;
}

int hpf_ledger_open_account(hpf_db *db, int64_t member_id, hpf_day opened_on, hpf_err *err)
{
    /* Nothing earned yet: the state of the interest year of the opening, from its first day
     * with a zero balance (an account has no posting before it opens). */
    int32_t year = hpf_interest_year_of(opened_on);
    char first[11];
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "INSERT INTO member_balance (member_id, balance, int_year, int_opening,"
                            " int_as_of, int_jishu, int_rate_jishu, int_rate_rem)"
                            " VALUES (?, 0, ?, 0, ?, 0, 0, 0)",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, year);
    hpf_stmt_bind_text(st, 3, hpf_day_fmt(first, hpf_interest_year_first(year)));
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_ledger_move_member(hpf_db *db, int64_t member_id, int64_t from_employer,
                           int64_t to_employer, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "SELECT balance FROM member_balance WHERE member_id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    rc = hpf_stmt_step(st, err);
    hpf_fen balance = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "member %lld not found", (long long)member_id);
    if (balance == 0 || from_employer == to_employer)
        return 0;
    rc = hpf_ledger_employer_add(db, from_employer, -balance, err);
    if (rc == HPF_ECONFLICT && err && !err->rule[0]) /* the CHECK: it held less than that */
        return hpf_err_field(err, HPF_ECONFLICT, "", "ledger.balance_negative",
                             "employer id %lld holds less than member id %lld's balance",
                             (long long)from_employer, (long long)member_id);
    if (rc < 0)
        return rc;
    return hpf_ledger_employer_add(db, to_employer, balance, err);
}

/* ---- reversal ---- */

typedef struct orig_posting {
    int64_t id, member_id, period;
    char kind[8];
    hpf_fen amount, unit_amount, indiv_amount;
} orig_posting;

typedef struct orig_line {
    char subject[17];
    hpf_fen debit, credit;
} orig_line;

#define REVERSAL_MAX_LINES 64

/* The original's lines, swapped. */
static int mirror_lines(hpf_db *db, int64_t voucher_id, orig_line *ol, hpf_vline *vl, size_t *n,
                        hpf_err *err)
{
    hpf_stmt *st;
    *n = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT subject, debit, credit FROM voucher_line WHERE voucher_id = ?"
                            " ORDER BY line_no",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, voucher_id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == REVERSAL_MAX_LINES) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "voucher id %lld has more than %d lines",
                             (long long)voucher_id, REVERSAL_MAX_LINES);
            break;
        }
        orig_line *o = &ol[*n];
        snprintf(o->subject, sizeof o->subject, "%s", hpf_stmt_text(st, 0));
        o->debit = hpf_stmt_i64(st, 1);
        o->credit = hpf_stmt_i64(st, 2);
        vl[*n] = (hpf_vline){.subject = o->subject, .debit = o->credit, .credit = o->debit};
        (*n)++;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The original's member postings, in id order (malloc'd). */
static int load_postings(hpf_db *db, int64_t voucher_id, orig_posting **out, size_t *n,
                         hpf_err *err)
{
    hpf_stmt *st;
    size_t cap = 16;
    *n = 0;
    *out = hpf_xcalloc(cap, sizeof **out);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, member_id, kind, COALESCE(period, 0), amount, unit_amount,"
                            " indiv_amount FROM posting WHERE voucher_id = ? ORDER BY id",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, voucher_id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap *= 2;
            *out = hpf_xrealloc(*out, cap * sizeof **out);
        }
        orig_posting *p = &(*out)[(*n)++];
        p->id = hpf_stmt_i64(st, 0);
        p->member_id = hpf_stmt_i64(st, 1);
        snprintf(p->kind, sizeof p->kind, "%s", hpf_stmt_text(st, 2));
        p->period = hpf_stmt_i64(st, 3);
        p->amount = hpf_stmt_i64(st, 4);
        p->unit_amount = hpf_stmt_i64(st, 5);
        p->indiv_amount = hpf_stmt_i64(st, 6);
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Lock the employers of the original's members in id order, as every writer of an employer's
 * members does first: a concurrent remittance of one of them then queues behind this reversal
 * (or this behind it) instead of deadlocking on the employer's balance. */
static int lock_employers(hpf_db *db, int64_t voucher_id, hpf_err *err)
{
    hpf_stmt *st;
    int64_t ids[256];
    int64_t after = 0;
    for (;;) {
        size_t n = 0;
        int rc = hpf_db_prepare(db, &st,
                                "SELECT DISTINCT m.employer_id FROM posting p"
                                " JOIN member m ON m.id = p.member_id"
                                " WHERE p.voucher_id = ? AND m.employer_id > ?"
                                " ORDER BY m.employer_id LIMIT 256",
                                err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_i64(st, 1, voucher_id);
        hpf_stmt_bind_i64(st, 2, after);
        while ((rc = hpf_stmt_step(st, err)) == 1)
            ids[n++] = hpf_stmt_i64(st, 0);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            if ((rc = hpf_db_lock_row(db, "employer", ids[i], err)) < 0)
                return rc;
        if (n < 256)
            return 0;
        after = ids[n - 1];
    }
}

int hpf_ledger_reverse(hpf_db *db, const char *voucher_no, hpf_day biz_date, const char *reason,
                       hpf_reversal *out, hpf_err *err)
{
    hpf_stmt *st;
    orig_line ol[REVERSAL_MAX_LINES];
    hpf_vline vl[REVERSAL_MAX_LINES];
    orig_posting *ps = NULL;
    hpf_posting_in *mirror = NULL;
    size_t nl = 0, np = 0;
    char template_code[16], summary[640], odate[11], date[11];
    bool is_reversal = false;
    memset(out, 0, sizeof *out);

    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, voucher_no, biz_date, template, summary, reversal_of"
                            " FROM voucher WHERE voucher_no = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, voucher_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        out->original_id = hpf_stmt_i64(st, 0);
        snprintf(out->original_no, sizeof out->original_no, "%s", hpf_stmt_text(st, 1));
        snprintf(odate, sizeof odate, "%s", hpf_stmt_text(st, 2));
        snprintf(template_code, sizeof template_code, "%s", hpf_stmt_text(st, 3));
        if (reason && reason[0])
            snprintf(summary, sizeof summary, "冲账 %s: %.500s", out->original_no, reason);
        else
            snprintf(summary, sizeof summary, "冲账 %s: %.500s", out->original_no,
                     hpf_stmt_text(st, 4));
        is_reversal = !hpf_stmt_null(st, 5);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_field(err, HPF_ENOTFOUND, "voucher", "ledger.voucher_unknown",
                             "no voucher %s", voucher_no);
    if (is_reversal)
        return hpf_err_field(err, HPF_ECONFLICT, "voucher", "ledger.reversal_of_reversal",
                             "voucher %s is itself a reversal: it is not reversed again (post the "
                             "business anew instead)",
                             out->original_no);
    rc = hpf_db_prepare(db, &st, "SELECT voucher_no FROM voucher WHERE reversal_of = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, out->original_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "voucher", "ledger.already_reversed",
                           "voucher %s was already reversed by %s", out->original_no,
                           hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (strcmp(hpf_day_fmt(date, biz_date), odate) < 0)
        return hpf_err_field(err, HPF_EUNPROC, "voucher", "ledger.reversal_date",
                             "a reversal on %s cannot precede voucher %s of %s", date,
                             out->original_no, odate);

    if ((rc = mirror_lines(db, out->original_id, ol, vl, &nl, err)) < 0 ||
        (rc = lock_employers(db, out->original_id, err)) < 0 ||
        (rc = load_postings(db, out->original_id, &ps, &np, err)) < 0)
        goto done;
    rc = write_voucher(db, &out->voucher_id, out->voucher_no, biz_date, template_code, summary, vl,
                       nl, out->original_id, err);
    if (rc == HPF_ECONFLICT && err && !err->rule[0]) /* the unique index: a concurrent one */
        rc = hpf_err_field(err, HPF_ECONFLICT, "voucher", "ledger.already_reversed",
                           "voucher %s was reversed concurrently", out->original_no);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < nl; i++)
        out->amount += ol[i].debit; /* balanced and range-checked when it was written */
    hpf_ledger_rates rates;
    if (np && (rc = hpf_ledger_rates_load(db, &rates, err)) < 0)
        goto done;
    mirror = hpf_xcalloc(np ? np : 1, sizeof *mirror);
    for (size_t i = 0; i < np; i++)
        mirror[i] = (hpf_posting_in){
            .member_id = ps[i].member_id,
            .biz_date = biz_date,
            .kind = ps[i].kind,
            .period = (hpf_month)ps[i].period,
            .unit_amount = -ps[i].unit_amount,
            .indiv_amount = -ps[i].indiv_amount,
            .amount = -ps[i].amount,
            .voucher_id = out->voucher_id,
            .reversal_of = ps[i].id,
            .rates = &rates,
        };
    if ((rc = hpf_ledger_post_members(db, mirror, np, NULL, err)) < 0)
        goto done;
    out->postings = (int64_t)np;
done:
    free(mirror);
    free(ps);
    return rc;
}
