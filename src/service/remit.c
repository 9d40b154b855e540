/* service/remit: the monthly remittance (汇缴) of one employer-month, its roster and history. */
#include "service/deposits.h"

#include "base/buf.h"
#include "base/mem.h"
#include "ledger/ledger.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REMIT_SELECT                                                                               \
    "SELECT r.serial, r.period, r.members, r.unit_total, r.indiv_total, r.total, v.voucher_no,"    \
    " r.posted_on"
#define REMIT_FROM " FROM remittance r JOIN voucher v ON v.id = r.voucher_id "
#define REMIT_COLS REMIT_SELECT REMIT_FROM

static void read_remittance(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_remittance *r = item;
    (void)ctx;
    memset(r, 0, sizeof *r);
    COPY(r->serial, hpf_stmt_text(st, 0));
    r->period = (hpf_month)hpf_stmt_i64(st, 1);
    r->members = hpf_stmt_i64(st, 2);
    r->unit_total = hpf_stmt_i64(st, 3);
    r->indiv_total = hpf_stmt_i64(st, 4);
    r->total = hpf_stmt_i64(st, 5);
    COPY(r->voucher_no, hpf_stmt_text(st, 6));
    r->posted_on = svc_day(hpf_stmt_text(st, 7));
}

static hpf_day first_day(hpf_month m)
{
    return hpf_day_from_ymd(m / 100, m % 100, 1);
}

/* Members a roster may hold for `period`: accounts that take deposits (domain/account: normal
 * and frozen) opened on or before its last day. */
int hpf_remit_draft_make(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                         hpf_month period, hpf_remit_draft *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_employer emp;
    hpf_policy pol;
    hpf_wage_book wb; /* the wages and ratios in force in the month (基数调整, 比例调整) */
    char last[11];
    memset(out, 0, sizeof *out);
    out->period = period;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if ((rc = svc_conn(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0 ||
        (rc = hpf_policy_at(db, first_day(period), &pol, err)) < 0 ||
        (rc = hpf_contrib_terms_at(db, &emp, period, &wb, err)) < 0)
        return rc;
    hpf_day_fmt(last, hpf_day_from_ymd(period / 100, period % 100,
                                       hpf_days_in_month(period / 100, period % 100)));
    rc = hpf_db_prepare(db, &st,
                        "SELECT account_no, name, wage, state, id FROM member WHERE employer_id = ?"
                        " AND opened_on <= ? ORDER BY id",
                        err);
    if (rc < 0) {
        hpf_wage_book_cleanup(&wb);
        return rc;
    }
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_text(st, 2, last);
    size_t cap = 16;
    out->rows = hpf_xcalloc(cap, sizeof *out->rows);
    while (out->n < HPF_REMIT_MAX_ROWS && (rc = hpf_stmt_step(st, err)) == 1) {
        if (!svc_member_takes_deposits(hpf_stmt_text(st, 3), NULL))
            continue;
        if (out->n == cap) {
            cap *= 2;
            out->rows = hpf_xrealloc(out->rows, cap * sizeof *out->rows);
        }
        hpf_draft_row *r = &out->rows[out->n];
        memset(r, 0, sizeof *r);
        COPY(r->account_no, hpf_stmt_text(st, 0));
        COPY(r->name, hpf_stmt_text(st, 1));
        rc = hpf_contrib_compute(&r->c, &pol.contrib,
                                 hpf_wage_book_get(&wb, hpf_stmt_i64(st, 4), hpf_stmt_i64(st, 2)),
                                 emp.unit_ratio_bp, emp.indiv_ratio_bp, err);
        if (rc < 0 || (rc = hpf_money_add(&out->unit_total, out->unit_total, r->c.unit)) < 0 ||
            (rc = hpf_money_add(&out->indiv_total, out->indiv_total, r->c.individual)) < 0 ||
            (rc = hpf_money_add(&out->total, out->total, r->c.total)) < 0)
            break;
        out->n++;
    }
    hpf_stmt_reset(st);
    hpf_wage_book_cleanup(&wb);
    if (rc < 0) {
        hpf_remit_draft_cleanup(out);
        return rc == HPF_EOVERFLOW ? hpf_err_set(err, rc, "roster total out of range") : rc;
    }
    return 0;
}

void hpf_remit_draft_cleanup(hpf_remit_draft *d)
{
    free(d->rows);
    d->rows = NULL;
    d->n = 0;
}

/* A fingerprint of the request's content, to tell a replay from a reused key. */
static void request_hash(char out[65], const hpf_remit_req *req)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_printf(&b, "remit/1|%d|%lld|%zu", (int)req->period, (long long)req->total, req->nrows);
    for (size_t i = 0; i < req->nrows; i++) {
        /* "|%s:%s:%lld:%lld" without printf: this runs for every row of every roster. */
        const hpf_remit_row *r = &req->rows[i];
        hpf_buf_add(&b, "|", 1);
        hpf_buf_adds(&b, r->account_no);
        hpf_buf_add(&b, ":", 1);
        hpf_buf_adds(&b, r->name ? r->name : "");
        hpf_buf_add(&b, ":", 1);
        hpf_buf_add_i64(&b, r->unit);
        hpf_buf_add(&b, ":", 1);
        hpf_buf_add_i64(&b, r->individual);
    }
    hpf_sm3_hex(out, b.data, b.len);
    hpf_buf_cleanup(&b);
}

static int cmp_idx(const void *a, const void *b, void *ctx)
{
    const hpf_remit_row *rows = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(rows[i].account_no, rows[j].account_no);
    return c ? c : (i < j ? -1 : i > j);
}

/* dup[i] = true when row i repeats an account of an earlier row. */
static bool *find_duplicates(const hpf_remit_req *req)
{
    size_t n = req->nrows;
    size_t *idx = hpf_xcalloc(n, sizeof *idx);
    bool *dup = hpf_xcalloc(n, sizeof *dup);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_idx, (void *)req->rows);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(req->rows[idx[i]].account_no, req->rows[idx[i - 1]].account_no))
            dup[idx[i]] = true;
    free(idx);
    return dup;
}

static int row_err(hpf_err *err, size_t i, const char *leaf, const char *rule, const char *msg)
{
    char field[96];
    snprintf(field, sizeof field, "/rows/%zu%s", i, leaf);
    return hpf_err_field(err, HPF_EUNPROC, field, rule, "row %zu: %s", i, msg);
}

/* Look for an earlier remittance under this key: a replay returns it. */
int svc_remit_find_by_key(hpf_db *db, int64_t employer_id, const char *key, const char *hash,
                          hpf_remittance *out, bool *found, hpf_err *err)
{
    hpf_stmt *st;
    *found = false;
    int rc = hpf_db_prepare(db, &st,
                            REMIT_SELECT ", r.request_hash" REMIT_FROM
                                         "WHERE r.employer_id = ? AND r.idem_key = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    hpf_stmt_bind_text(st, 2, key);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        read_remittance(st, out, NULL);
        *found = true;
        if (strcmp(hpf_stmt_text(st, 8), hash) != 0)
            rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                               "this Idempotency-Key was used for a different remittance (%s)",
                               out->serial);
        else
            rc = 0;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

typedef struct checked_row {
    int64_t member_id;
    hpf_contrib c;
} checked_row;

/* What check_rows needs of a roster row's member account. */
typedef struct member_fact {
    bool found;
    int64_t id, employer_id;
    hpf_fen wage;
    char name[256], state[3], opened_on[11];
} member_fact;

static char *lookup_sql[7]; /* "... WHERE account_no IN (?, ...)" for 1, 2, 4 ... 64 */
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void build_lookup(void)
{
    for (int s = 0; s < 7; s++) {
        hpf_buf b = HPF_BUF_INIT;
        hpf_buf_adds(&b, "SELECT account_no, id, employer_id, name, state, wage, opened_on"
                         " FROM member WHERE account_no IN (");
        for (int r = 0; r < 1 << s; r++)
            hpf_buf_adds(&b, r ? ", ?" : "?");
        hpf_buf_add(&b, ")", 2);
        lookup_sql[s] = hpf_buf_detach(&b, NULL);
    }
}

/* strlcpy: COPY's snprintf costs more than the row lookup itself in this loop. */
static void copy_text(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The member accounts the rows name, facts[i] for rows[i], read 64 account numbers per query (a
 * query a row cost a round trip each on PostgreSQL, and more instructions on SQLite). */
static int read_members(hpf_db *db, const hpf_remit_req *req, member_fact *facts, hpf_err *err)
{
    pthread_once(&lookup_once, build_lookup);
    int rc = 0;
    for (size_t i = 0; i < req->nrows && rc == 0;) {
        size_t left = req->nrows - i;
        int shape = 0;
        while (shape < 6 && (size_t)(2 << shape) <= left)
            shape++;
        size_t k = (size_t)1 << shape;
        hpf_stmt *st;
        if ((rc = hpf_db_prepare(db, &st, lookup_sql[shape], err)) < 0)
            break;
        for (size_t j = 0; j < k; j++)
            hpf_stmt_bind_text(st, (int)j + 1, req->rows[i + j].account_no);
        while ((rc = hpf_stmt_step(st, err)) == 1) {
            const char *acct = hpf_stmt_text(st, 0);
            for (size_t j = 0; j < k; j++) {
                member_fact *f = &facts[i + j];
                if (f->found || strcmp(req->rows[i + j].account_no, acct) != 0)
                    continue;
                f->found = true;
                f->id = hpf_stmt_i64(st, 1);
                f->employer_id = hpf_stmt_i64(st, 2);
                copy_text(f->name, sizeof f->name, hpf_stmt_text(st, 3));
                copy_text(f->state, sizeof f->state, hpf_stmt_text(st, 4));
                f->wage = hpf_stmt_i64(st, 5);
                copy_text(f->opened_on, sizeof f->opened_on, hpf_stmt_text(st, 6));
            }
        }
        hpf_stmt_reset(st);
        i += k;
    }
    return rc < 0 ? rc : 0;
}

/* Validate every row against the members and the policy; fill `chk`. Writes nothing. */
static int check_rows(hpf_db *db, const hpf_employer *emp, const hpf_policy *pol,
                      const hpf_remit_req *req, checked_row *chk, hpf_err *err)
{
    char last[11], want[24], got[24], msg[160];
    hpf_err why = HPF_ERR_INIT;
    hpf_fen unit_total = 0, indiv_total = 0, total = 0;
    int y = req->period / 100, m = req->period % 100;
    hpf_day_fmt(last, hpf_day_from_ymd(y, m, hpf_days_in_month(y, m)));
    hpf_employer at = *emp; /* the wages and ratios in force in the month (基数调整, 比例调整) */
    hpf_wage_book wb;
    int rc = hpf_contrib_terms_at(db, &at, req->period, &wb, err);
    if (rc < 0)
        return rc;
    bool *dup = find_duplicates(req);
    member_fact *facts = hpf_xcalloc(req->nrows ? req->nrows : 1, sizeof *facts);
    rc = read_members(db, req, facts, err);
    for (size_t i = 0; rc >= 0 && i < req->nrows; i++) {
        const hpf_remit_row *r = &req->rows[i];
        if (dup[i]) {
            rc = row_err(err, i, "/account_no", "remittance.duplicate_member",
                         "this account appears twice in the roster");
            break;
        }
        const member_fact *f = &facts[i];
        if (!f->found || f->employer_id != emp->id) {
            rc = row_err(err, i, "/account_no", "remittance.member_unknown",
                         "no member account with this number at this employer");
        } else if (!svc_member_takes_deposits(f->state, &why)) {
            rc = row_err(err, i, "/account_no", "remittance.member_state", why.msg);
        } else if (strcmp(f->opened_on, last) > 0) {
            rc = row_err(err, i, "/account_no", "remittance.member_not_open",
                         "account was opened after this month");
        } else if (r->name && strcmp(f->name, r->name) != 0) {
            rc = row_err(err, i, "/name", "remittance.name_mismatch",
                         "name does not match the account holder");
        } else {
            chk[i].member_id = f->id;
            rc = hpf_contrib_compute(&chk[i].c, &pol->contrib,
                                     hpf_wage_book_get(&wb, chk[i].member_id, f->wage),
                                     at.unit_ratio_bp, at.indiv_ratio_bp, err);
            if (rc == 0 && r->unit != chk[i].c.unit) {
                snprintf(msg, sizeof msg, "employer part should be %s, not %s",
                         hpf_money_fmt(want, chk[i].c.unit), hpf_money_fmt(got, r->unit));
                rc = row_err(err, i, "/unit", "remittance.amount_mismatch", msg);
            } else if (rc == 0 && r->individual != chk[i].c.individual) {
                snprintf(msg, sizeof msg, "employee part should be %s, not %s",
                         hpf_money_fmt(want, chk[i].c.individual),
                         hpf_money_fmt(got, r->individual));
                rc = row_err(err, i, "/individual", "remittance.amount_mismatch", msg);
            } else if (rc == 0 &&
                       (hpf_money_add(&unit_total, unit_total, chk[i].c.unit) < 0 ||
                        hpf_money_add(&indiv_total, indiv_total, chk[i].c.individual) < 0 ||
                        hpf_money_add(&total, total, chk[i].c.total) < 0)) {
                rc = hpf_err_field(err, HPF_EOVERFLOW, "/total", "money.range",
                                   "roster total out of range");
            }
        }
    }
    free(facts);
    free(dup);
    hpf_wage_book_cleanup(&wb);
    if (rc >= 0 && total != req->total)
        rc = hpf_err_field(err, HPF_EUNPROC, "/total", "remittance.total_mismatch",
                           "total %s does not equal the roster's sum %s",
                           hpf_money_fmt(got, req->total), hpf_money_fmt(want, total));
    return rc < 0 ? rc : 0;
}

int svc_remit_load(hpf_db *db, const char *serial, hpf_remittance *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, REMIT_COLS "WHERE r.serial = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, serial);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        read_remittance(st, out, NULL);
    else if (rc == 0)
        rc = hpf_err_set(err, HPF_EINTERNAL, "remittance %s vanished", serial);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The employer's 缴至年月 moves up to the month (each member's moves with its posting). */
static int set_paid_through(hpf_db *db, int64_t employer_id, hpf_month period, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE employer SET paid_through = ? WHERE id = ?"
                            " AND (paid_through IS NULL OR paid_through < ?)",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, period);
    hpf_stmt_bind_i64(st, 2, employer_id);
    hpf_stmt_bind_i64(st, 3, period);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int write_remittance(hpf_db *db, const hpf_actor *actor, const hpf_employer *emp,
                            const hpf_remit_req *req, const char *hash, const checked_row *chk,
                            hpf_day today, hpf_remittance *out, hpf_err *err)
{
    hpf_stmt *st;
    hpf_fen unit_total = 0, indiv_total = 0;
    char voucher_no[24], serial[24], summary[640], date[11], per[8];
    int64_t voucher_id, remit_id = 0, seq;
    int y, m, d;
    for (size_t i = 0; i < req->nrows; i++) {
        unit_total += chk[i].c.unit; /* bounded: check_rows summed these with checks */
        indiv_total += chk[i].c.individual;
    }
    snprintf(summary, sizeof summary, "汇缴 %s %s", hpf_month_fmt(per, req->period), emp->name);
    const hpf_amount amounts[] = {{"deposit", req->total}}; /* the template names the subjects */
    int rc = hpf_ledger_voucher_from(db, &voucher_id, voucher_no, today, HPF_VT_REMIT, summary,
                                     amounts, 1, err);
    if (rc < 0)
        return rc;
    hpf_day_to_ymd(today, &y, &m, &d);
    char cname[32];
    snprintf(cname, sizeof cname, "remittance:%04d%02d%02d", y, m, d);
    rc = hpf_db_next_counter(db, cname, &seq, err);
    if (rc < 0)
        return rc;
    snprintf(serial, sizeof serial, "HJ%04d%02d%02d%06lld", y, m, d, (long long)seq);
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO remittance(serial, employer_id, kind, period, idem_key,"
                        " request_hash, members, unit_total, indiv_total, total, voucher_id,"
                        " posted_on, created_by) VALUES (?, ?, '01', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, serial);
    hpf_stmt_bind_i64(st, 2, emp->id);
    hpf_stmt_bind_i64(st, 3, req->period);
    hpf_stmt_bind_text(st, 4, req->idem_key);
    hpf_stmt_bind_text(st, 5, hash);
    hpf_stmt_bind_i64(st, 6, (int64_t)req->nrows);
    hpf_stmt_bind_i64(st, 7, unit_total);
    hpf_stmt_bind_i64(st, 8, indiv_total);
    hpf_stmt_bind_i64(st, 9, req->total);
    hpf_stmt_bind_i64(st, 10, voucher_id);
    hpf_stmt_bind_text(st, 11, hpf_day_fmt(date, today));
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
    hpf_posting_in *ps = hpf_xcalloc(req->nrows, sizeof *ps);
    for (size_t i = 0; i < req->nrows; i++)
        ps[i] = (hpf_posting_in){
            .member_id = chk[i].member_id,
            .biz_date = today,
            .kind = "01",
            .period = req->period,
            .unit_amount = chk[i].c.unit,
            .indiv_amount = chk[i].c.individual,
            .amount = chk[i].c.total,
            .voucher_id = voucher_id,
            .remittance_id = remit_id,
            .rates = &rates,
            .paid_through = req->period,
        };
    /* The whole roster at once: the members, their employer's sub-ledger (ledger/post.c). */
    rc = hpf_ledger_post_members(db, ps, req->nrows, NULL, err);
    free(ps);
    if (rc < 0)
        return rc;
    rc = set_paid_through(db, emp->id, req->period, err);
    if (rc == 0 && !strcmp(emp->state, "03"))
        rc = svc_deferral_settle(db, actor->user_id, emp->id, today, err);
    if (rc < 0 || (rc = svc_remit_load(db, serial, out, err)) < 0)
        return rc;
    /* Last: the chain head is locked from here to the commit. */
    return hpf_audit_record(db, actor->user_id, HPF_AUDIT_REMITTANCE_POSTED, remit_id, err);
}

/* A member whose month was back-paid (补缴) is not paid for it again by the monthly roster. */
static int check_backpaid(hpf_db *db, int64_t employer_id, const hpf_remit_req *req,
                          const checked_row *chk, hpf_err *err)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = svc_backpaid_members(db, employer_id, req->period, &ids, &n, err);
    for (size_t i = 0; rc == 0 && n > 0 && i < req->nrows; i++)
        for (size_t k = 0; rc == 0 && k < n; k++)
            if (ids[k] == chk[i].member_id)
                rc = row_err(err, i, "/account_no", "remittance.month_paid",
                             "this member's month was back-paid already");
    free(ids);
    if (rc == HPF_EUNPROC)
        err->code = rc = HPF_ECONFLICT;
    return rc;
}

/* Lock the employer and run every check of a remittance inside the caller's open write
 * transaction: the scope was checked by the caller. Writes nothing. When a remittance under the
 * same key exists, *found is set and `prior` holds it (rc 0 when the content is the same). On
 * success `emp` and `*chk` (malloc'd, one per row) hold what the write needs. */
static int validate(hpf_svc *svc, hpf_db *db, const char *employer_account_no,
                    const hpf_remit_req *req, const char *hash, hpf_employer *emp,
                    checked_row **chk, hpf_remittance *prior, bool *found, hpf_err *err)
{
    hpf_stmt *st;
    hpf_policy pol;
    hpf_day today = hpf_svc_today(svc);
    *chk = NULL;
    /* Lock the employer, then read it again: remittances of one employer queue here, and the
     * checks below see everything the one before committed. */
    int64_t id = 0;
    int rc = hpf_db_prepare(db, &st, "SELECT id FROM employer WHERE account_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, employer_account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0 || (rc = hpf_db_lock_row(db, "employer", id, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, emp, err)) < 0)
        return rc;
    rc = svc_remit_find_by_key(db, emp->id, req->idem_key, hash, prior, found, err);
    if (rc < 0 || *found)
        return rc;
    if (req->nrows == 0)
        return hpf_err_field(err, HPF_EUNPROC, "/rows", "remittance.empty",
                             "a remittance needs at least one roster row");
    if (req->period > hpf_month_of(today))
        return hpf_err_field(err, HPF_EUNPROC, "/period", "remittance.period_future",
                             "period is after the current business month");
    if (req->period < hpf_month_of(emp->opened_on))
        return hpf_err_field(err, HPF_EUNPROC, "/period", "remittance.period_before_opening",
                             "period is before the employer's account was opened");
    /* An employer under a deferral (03) still remits the months it does not defer; a deferred
     * month is made up by a back-payment (deposits.md). */
    if (strcmp(emp->state, "03") != 0 && (rc = svc_employer_normal(emp, err)) < 0)
        return rc;
    int64_t deferral = 0;
    if ((rc = svc_deferral_month(db, emp->id, req->period, &deferral, err)) < 0)
        return rc;
    if (deferral)
        return hpf_err_field(err, HPF_ECONFLICT, "/period", "remittance.month_deferred",
                             "this month is deferred (deferral %lld): make it up with a "
                             "back-payment",
                             (long long)deferral);
    rc = hpf_db_prepare(db, &st,
                        "SELECT serial FROM remittance WHERE employer_id = ? AND period = ?"
                        " AND kind = '01'",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, emp->id);
    hpf_stmt_bind_i64(st, 2, req->period);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "/period", "remittance.period_posted",
                           "this month was already remitted (%s)", hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    if (rc < 0 || (rc = hpf_policy_at(db, first_day(req->period), &pol, err)) < 0)
        return rc;
    *chk = hpf_xcalloc(req->nrows, sizeof **chk);
    rc = check_rows(db, emp, &pol, req, *chk, err);
    if (rc == 0)
        rc = check_backpaid(db, emp->id, req, *chk, err);
    if (rc < 0) {
        free(*chk);
        *chk = NULL;
    }
    return rc;
}

int hpf_remit_check(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_remit_req *req, int64_t *employer_id, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_remittance prior;
    checked_row *chk = NULL;
    char hash[65];
    bool found = false;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nrows > HPF_REMIT_MAX_ROWS)
        return hpf_err_field(err, HPF_ETOOBIG, "/rows", "remittance.too_many_rows",
                             "a roster holds at most %d rows", HPF_REMIT_MAX_ROWS);
    request_hash(hash, req);
    if ((rc = svc_conn(svc, &db, err)) < 0)
        return rc;
    rc = validate(svc, db, employer_account_no, req, hash, &emp, &chk, &prior, &found, err);
    free(chk);
    if (rc == 0 && found)
        /* Posted before maker-checker, straight through the service (an import): the key is
         * spent. */
        rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                           "this Idempotency-Key was already used for remittance %s", prior.serial);
    if (rc == 0)
        *employer_id = emp.id;
    return rc;
}

int hpf_remit_post(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                   const hpf_remit_req *req, hpf_remittance *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    checked_row *chk = NULL;
    char hash[65];
    bool found = false;
    *replayed = false;

    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nrows > HPF_REMIT_MAX_ROWS)
        return hpf_err_field(err, HPF_ETOOBIG, "/rows", "remittance.too_many_rows",
                             "a roster holds at most %d rows", HPF_REMIT_MAX_ROWS);
    request_hash(hash, req);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = validate(svc, db, employer_account_no, req, hash, &emp, &chk, out, &found, err);
    if (rc < 0)
        goto done;
    if (found) {
        *replayed = true;
        goto done; /* nothing written; the rollback below ends the read transaction */
    }
    rc = write_remittance(db, actor, &emp, req, hash, chk, hpf_svc_today(svc), out, err);
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    free(chk);
    return rc;
}

int hpf_remit_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                   int64_t offset, int64_t limit, hpf_remittance **items, size_t *n, int64_t *total,
                   hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    *items = NULL;
    *n = 0;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    return svc_list(db, "SELECT count(*) FROM remittance WHERE employer_id = ?",
                    REMIT_COLS "WHERE r.employer_id = ? ORDER BY r.period DESC, r.id DESC"
                               " LIMIT ? OFFSET ?",
                    emp.id, offset, limit, sizeof **items, read_remittance, NULL, (void **)items, n,
                    total, err);
}
