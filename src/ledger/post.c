/* ledger/post: member postings, one or many at once. A business that posts to many members (a
 * remittance, the annual interest, a reversal) hands them over together: the member rows are read
 * by one SELECT per chunk, the postings written by one multi-row INSERT and the rows by one
 * multi-row UPDATE, instead of three statements a member. On SQLite that saves the statement
 * overhead; on PostgreSQL, the round trips, which otherwise are most of the time (issue 5's
 * benchmark: docs/internals/ledger.md "Posting many members"). The arithmetic is the one of a
 * single posting, member by member, in input order. */
#include "ledger/ledger.h"

#include "base/buf.h"
#include "base/mem.h"
#include "ledger/interest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunks are powers of two up to CHUNK_MAX rows, so that each statement has one of a few
 * shapes, prepared once per connection (SHAPES of each of the three statements). */
#define CHUNK_MAX 64
#define SHAPES    7 /* 1, 2, 4 ... 64 */

static char *select_sql[SHAPES], *insert_sql[SHAPES], *update_sql[SHAPES];
static pthread_once_t shapes_once = PTHREAD_ONCE_INIT;

/* The new balance and interest state of one member, bound as one row of the UPDATE. */
#define UPDATE_ROW                                                                                 \
    "SELECT CAST(? AS BIGINT) AS id, CAST(? AS BIGINT) AS old, CAST(? AS BIGINT) AS b,"            \
    " CAST(? AS BIGINT) AS y, CAST(? AS BIGINT) AS o, CAST(? AS TEXT) AS a, CAST(? AS BIGINT) AS " \
    "j,"                                                                                           \
    " CAST(? AS BIGINT) AS rj, CAST(? AS BIGINT) AS rr, CAST(? AS BIGINT) AS dy,"                  \
    " CAST(? AS BIGINT) AS dj, CAST(? AS BIGINT) AS drj, CAST(? AS BIGINT) AS drr,"                \
    " CAST(? AS BIGINT) AS db, CAST(? AS BIGINT) AS pt"
#define UPDATE_PARAMS 15
#define INSERT_PARAMS 11

static char *detach(hpf_buf *b)
{
    hpf_buf_add(b, "", 1);
    return hpf_buf_detach(b, NULL);
}

static void build_shapes(void)
{
    for (int s = 0; s < SHAPES; s++) {
        int rows = 1 << s;
        hpf_buf b = HPF_BUF_INIT;
        hpf_buf_adds(&b, "SELECT m.id, b.balance, m.employer_id, " HPF_LEDGER_ACC_COLS
                         " FROM member m JOIN member_balance b ON b.member_id = m.id"
                         " WHERE m.id IN (");
        for (int r = 0; r < rows; r++)
            hpf_buf_adds(&b, r ? ", ?" : "?");
        hpf_buf_adds(&b, ")");
        select_sql[s] = detach(&b);

        hpf_buf_adds(&b, "INSERT INTO posting (member_id, biz_date, kind, period, amount,"
                         " unit_amount, indiv_amount, balance_after, voucher_id, remittance_id,"
                         " reversal_of) VALUES ");
        for (int r = 0; r < rows; r++)
            hpf_buf_adds(&b, r ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                               : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert_sql[s] = detach(&b);

        /* The old balance in the WHERE clause guards against a concurrent writer; paid_through
         * (缴至年月) only moves forward. */
        hpf_buf_adds(&b, "UPDATE member_balance SET balance = v.b, int_year = v.y,"
                         " int_opening = v.o, int_as_of = v.a, int_jishu = v.j,"
                         " int_rate_jishu = v.rj, int_rate_rem = v.rr, int_due_year = v.dy,"
                         " int_due_jishu = v.dj, int_due_rate_jishu = v.drj,"
                         " int_due_rate_rem = v.drr, int_due_balance = v.db,"
                         " paid_through = CASE WHEN v.pt > COALESCE(member_balance.paid_through, 0)"
                         " THEN v.pt ELSE member_balance.paid_through END FROM (");
        for (int r = 0; r < rows; r++) {
            if (r)
                hpf_buf_adds(&b, " UNION ALL ");
            hpf_buf_adds(&b, UPDATE_ROW);
        }
        hpf_buf_adds(&b, ") AS v WHERE member_balance.member_id = v.id"
                         " AND member_balance.balance = v.old");
        update_sql[s] = detach(&b);
    }
}

/* One member of a chunk: what was read, and what is written. */
typedef struct prow {
    const hpf_posting_in *in;
    bool found;
    int64_t employer_id;
    hpf_fen old, now;
    hpf_ledger_acc a;
} prow;

static int cmp_row_id(const void *x, const void *y)
{
    int64_t a = (*(prow *const *)x)->in->member_id, b = (*(prow *const *)y)->in->member_id;
    return a < b ? -1 : a > b;
}

/* Read the chunk's member rows (one SELECT) into rows[], matched by id through `by_id`, the rows
 * sorted by member id. */
static int read_rows(hpf_db *db, int shape, prow *rows, prow **by_id, int n, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, select_sql[shape], err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++)
        hpf_stmt_bind_i64(st, i + 1, rows[i].in->member_id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        int64_t id = hpf_stmt_i64(st, 0);
        int lo = 0, hi = n;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (by_id[mid]->in->member_id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n || by_id[lo]->in->member_id != id)
            continue;
        prow *r = by_id[lo];
        r->found = true;
        r->old = hpf_stmt_i64(st, 1);
        r->employer_id = hpf_stmt_i64(st, 2);
        if ((rc = hpf_ledger_acc_read(st, 3, id, r->old, &r->a, err)) < 0)
            break;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The new balance and state of each member of the chunk, in input order. */
static int compute(hpf_db *db, prow *rows, int n, const hpf_interest_schedule *s, hpf_err *err)
{
    for (int i = 0; i < n; i++) {
        prow *r = &rows[i];
        const hpf_posting_in *in = r->in;
        int rc;
        if (!r->found)
            return hpf_err_set(err, HPF_ENOTFOUND, "member %lld not found",
                               (long long)in->member_id);
        if (hpf_money_add(&r->now, r->old, in->amount) < 0)
            return hpf_err_set(err, HPF_EOVERFLOW, "member balance out of range");
        if (r->now < 0) {
            char x[24], y[24];
            return hpf_err_field(err, HPF_ECONFLICT, "", "ledger.balance_negative",
                                 "member id %lld: balance %s would become %s",
                                 (long long)in->member_id, hpf_money_fmt(x, r->old),
                                 hpf_money_fmt(y, r->now));
        }
        if ((rc = hpf_ledger_acc_start(db, &r->a, in->biz_date, s, err)) < 0 ||
            (rc = hpf_ledger_acc_roll(&r->a, in->biz_date, s, err)) < 0 ||
            (rc = hpf_interest_acc_apply(&r->a.acc, in->biz_date, in->amount, s, err)) < 0)
            return rc;
    }
    return 0;
}

static void bind_opt(hpf_stmt *st, int i, int64_t v)
{
    if (v)
        hpf_stmt_bind_i64(st, i, v);
    else
        hpf_stmt_bind_null(st, i);
}

/* The largest shape that fits n (n >= 1). */
static int shape_of(size_t n)
{
    int shape = 0;
    while (shape + 1 < SHAPES && ((size_t)2 << shape) <= n)
        shape++;
    return shape;
}

/* INSERT the postings w[0..n) (each with a posting), in chunks of the statement shapes. */
static int insert_postings(hpf_db *db, const hpf_ledger_state_write *w, size_t n, hpf_err *err)
{
    char dates[CHUNK_MAX][11];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        int shape = shape_of(n - i), k = 1 << shape;
        hpf_stmt *st;
        if ((rc = hpf_db_prepare(db, &st, insert_sql[shape], err)) < 0)
            break;
        for (int j = 0; j < k; j++) {
            const hpf_posting_in *in = w[i + (size_t)j].posting;
            int p = j * INSERT_PARAMS;
            hpf_stmt_bind_i64(st, p + 1, in->member_id);
            hpf_stmt_bind_text(st, p + 2, hpf_day_fmt(dates[j], in->biz_date));
            hpf_stmt_bind_text(st, p + 3, in->kind);
            bind_opt(st, p + 4, in->period);
            hpf_stmt_bind_i64(st, p + 5, in->amount);
            hpf_stmt_bind_i64(st, p + 6, in->unit_amount);
            hpf_stmt_bind_i64(st, p + 7, in->indiv_amount);
            hpf_stmt_bind_i64(st, p + 8, w[i + (size_t)j].state->acc.balance);
            hpf_stmt_bind_i64(st, p + 9, in->voucher_id);
            bind_opt(st, p + 10, in->remittance_id);
            bind_opt(st, p + 11, in->reversal_of);
        }
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        i += (size_t)k;
    }
    return rc < 0 ? rc : 0;
}

/* The same UPDATE for one row, plain: on SQLite cheaper than the multi-row FROM form (20k
 * instructions a row against 13k, callgrind), and no round trip to save. */
static const char update_one_sql[] =
    "UPDATE member_balance SET balance = ?, int_year = ?, int_opening = ?, int_as_of = ?,"
    " int_jishu = ?,"
    " int_rate_jishu = ?, int_rate_rem = ?, int_due_year = ?, int_due_jishu = ?,"
    " int_due_rate_jishu = ?, int_due_rate_rem = ?, int_due_balance = ?,"
    " paid_through = CASE WHEN ? > COALESCE(paid_through, 0) THEN ? ELSE paid_through END"
    " WHERE member_id = ? AND balance = ?";

static int update_one(hpf_db *db, const hpf_ledger_state_write *x, hpf_err *err)
{
    hpf_stmt *st;
    char as_of[11];
    const hpf_ledger_acc *a = x->state;
    hpf_month pt = x->posting ? x->posting->paid_through : 0;
    int rc = hpf_db_prepare(db, &st, update_one_sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, a->acc.balance);
    hpf_stmt_bind_i64(st, 2, a->acc.year);
    hpf_stmt_bind_i64(st, 3, a->opening);
    hpf_stmt_bind_text(st, 4, hpf_day_fmt(as_of, a->acc.as_of));
    hpf_stmt_bind_i64(st, 5, a->acc.jishu);
    hpf_stmt_bind_i64(st, 6, a->acc.rate_jishu);
    hpf_stmt_bind_i64(st, 7, a->acc.rate_jishu_rem);
    if (a->has_due) {
        hpf_stmt_bind_i64(st, 8, a->due.year);
        hpf_stmt_bind_i64(st, 9, a->due.jishu);
        hpf_stmt_bind_i64(st, 10, a->due.rate_jishu);
        hpf_stmt_bind_i64(st, 11, a->due.rate_jishu_rem);
        hpf_stmt_bind_i64(st, 12, a->due.balance);
    } else {
        for (int q = 8; q <= 12; q++)
            hpf_stmt_bind_null(st, q);
    }
    hpf_stmt_bind_i64(st, 13, pt);
    hpf_stmt_bind_i64(st, 14, pt);
    hpf_stmt_bind_i64(st, 15, a->member_id);
    hpf_stmt_bind_i64(st, 16, x->old_balance);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    return changed == 1 ? 0 : hpf_err_set(err, HPF_EBUSY, "member balance changed concurrently");
}

/* UPDATE the member rows of w[0..n) to their new balance and state, if each row's balance is
 * still the old one (HPF_EBUSY otherwise): in multi-row statements when statements are round
 * trips, else one plain statement a row. */
static int update_members(hpf_db *db, const hpf_ledger_state_write *w, size_t n, hpf_err *err)
{
    char as_of[CHUNK_MAX][11];
    int rc = 0;
    if (!hpf_db_round_trips(db)) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = update_one(db, &w[i], err);
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0;) {
        int shape = shape_of(n - i), k = 1 << shape;
        hpf_stmt *st;
        if ((rc = hpf_db_prepare(db, &st, update_sql[shape], err)) < 0)
            break;
        for (int j = 0; j < k; j++) {
            const hpf_ledger_state_write *x = &w[i + (size_t)j];
            const hpf_ledger_acc *a = x->state;
            int p = j * UPDATE_PARAMS;
            hpf_stmt_bind_i64(st, p + 1, a->member_id);
            hpf_stmt_bind_i64(st, p + 2, x->old_balance);
            hpf_stmt_bind_i64(st, p + 3, a->acc.balance);
            hpf_stmt_bind_i64(st, p + 4, a->acc.year);
            hpf_stmt_bind_i64(st, p + 5, a->opening);
            hpf_stmt_bind_text(st, p + 6, hpf_day_fmt(as_of[j], a->acc.as_of));
            hpf_stmt_bind_i64(st, p + 7, a->acc.jishu);
            hpf_stmt_bind_i64(st, p + 8, a->acc.rate_jishu);
            hpf_stmt_bind_i64(st, p + 9, a->acc.rate_jishu_rem);
            if (a->has_due) {
                hpf_stmt_bind_i64(st, p + 10, a->due.year);
                hpf_stmt_bind_i64(st, p + 11, a->due.jishu);
                hpf_stmt_bind_i64(st, p + 12, a->due.rate_jishu);
                hpf_stmt_bind_i64(st, p + 13, a->due.rate_jishu_rem);
                hpf_stmt_bind_i64(st, p + 14, a->due.balance);
            } else {
                for (int q = 10; q <= 14; q++)
                    hpf_stmt_bind_null(st, p + q);
            }
            hpf_stmt_bind_i64(st, p + 15, x->posting ? x->posting->paid_through : 0);
        }
        rc = hpf_stmt_step(st, err);
        int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
        hpf_stmt_reset(st);
        if (rc == 0 && changed != k)
            rc = hpf_err_set(err, HPF_EBUSY, "member balance changed concurrently");
        i += (size_t)k;
    }
    return rc < 0 ? rc : 0;
}

int hpf_ledger_write_states(hpf_db *db, const hpf_ledger_state_write *w, size_t n, hpf_err *err)
{
    pthread_once(&shapes_once, build_shapes);
    /* The postings first (those that have one, in order), then every row. */
    hpf_ledger_state_write *with = hpf_xmalloc((n ? n : 1) * sizeof *with);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (w[i].posting)
            with[m++] = w[i];
    int rc = insert_postings(db, with, m, err);
    free(with);
    return rc < 0 ? rc : update_members(db, w, n, err);
}

/* Employers and what their balances move by. */
typedef struct emp_sum {
    int64_t id;
    hpf_fen sum;
} emp_sum;

static int cmp_emp(const void *x, const void *y)
{
    int64_t a = ((const emp_sum *)x)->id, b = ((const emp_sum *)y)->id;
    return a < b ? -1 : a > b;
}

/* Post one chunk of n (a power of two <= CHUNK_MAX) postings with distinct members. */
static int post_chunk(hpf_db *db, const hpf_posting_in *in, int n,
                      const hpf_interest_schedule *sched, hpf_fen *after, emp_sum *emps,
                      size_t *nemps, hpf_err *err)
{
    prow rows[CHUNK_MAX];
    prow *by_id[CHUNK_MAX];
    hpf_ledger_state_write w[CHUNK_MAX];
    memset(rows, 0, (size_t)n * sizeof rows[0]);
    for (int i = 0; i < n; i++) {
        rows[i].in = &in[i];
        by_id[i] = &rows[i];
    }
    qsort(by_id, (size_t)n, sizeof by_id[0], cmp_row_id);
    int rc = read_rows(db, shape_of((size_t)n), rows, by_id, n, err);
    if (rc < 0 || (rc = compute(db, rows, n, sched, err)) < 0)
        return rc;
    for (int i = 0; i < n; i++)
        w[i] = (hpf_ledger_state_write){
            .posting = &in[i], .state = &rows[i].a, .old_balance = rows[i].old};
    if ((rc = hpf_ledger_write_states(db, w, (size_t)n, err)) < 0)
        return rc;
    for (int i = 0; i < n; i++) {
        if (after)
            after[i] = rows[i].now;
        emps[(*nemps)++] = (emp_sum){rows[i].employer_id, in[i].amount};
    }
    return 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

int hpf_ledger_post_members(hpf_db *db, const hpf_posting_in *in, size_t n, hpf_fen *after,
                            hpf_err *err)
{
    if (n == 0)
        return 0;
    pthread_once(&shapes_once, build_shapes);
    hpf_ledger_rates own;
    const hpf_ledger_rates *rates = in[0].rates;
    int rc;
    if (!rates) {
        if ((rc = hpf_ledger_rates_load(db, &own, err)) < 0)
            return rc;
        rates = &own;
    }
    hpf_interest_schedule sched = hpf_ledger_rates_schedule(rates);

    /* A member twice in one statement would read its old row twice: such a batch goes one
     * posting at a time, in order. */
    int64_t *ids = hpf_xmalloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = in[i].member_id;
    qsort(ids, n, sizeof *ids, cmp_i64);
    bool distinct = true;
    for (size_t i = 1; i < n && distinct; i++)
        distinct = ids[i] != ids[i - 1];
    free(ids);

    emp_sum *emps = hpf_xmalloc(n * sizeof *emps);
    size_t nemps = 0;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t left = n - i;
        int k = 1;
        if (distinct)
            while (k < CHUNK_MAX && (size_t)(k * 2) <= left)
                k *= 2;
        rc = post_chunk(db, in + i, k, &sched, after ? after + i : NULL, emps, &nemps, err);
        i += (size_t)k;
    }
    /* The employer sub-ledger moves with the members' balances, once per employer. */
    if (rc == 0 && nemps) {
        qsort(emps, nemps, sizeof *emps, cmp_emp);
        size_t m = 0;
        for (size_t i = 0; i < nemps && rc == 0; i++) {
            if (m && emps[m - 1].id == emps[i].id) {
                if (hpf_money_add(&emps[m - 1].sum, emps[m - 1].sum, emps[i].sum) < 0)
                    rc = hpf_err_set(err, HPF_EOVERFLOW, "employer balance out of range");
            } else {
                emps[m++] = emps[i];
            }
        }
        for (size_t i = 0; i < m && rc == 0; i++)
            if (emps[i].sum)
                rc = hpf_ledger_employer_add(db, emps[i].id, emps[i].sum, err);
    }
    free(emps);
    return rc;
}

int hpf_ledger_post_member(hpf_db *db, const hpf_posting_in *in, hpf_fen *balance_after,
                           hpf_err *err)
{
    return hpf_ledger_post_members(db, in, 1, balance_after, err);
}
