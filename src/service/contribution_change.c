/* service/contribution_change: the yearly base adjustment (基数调整, type 10) and the ratio change
 * (比例调整, type 75), each with its history, and the terms in force in a month for the
 * remittance (docs/internals/contribution-changes.md). The rules are domain/contribution's; this
 * file decides who may ask, which month a change takes effect and writes it down. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/mem.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <stdlib.h>
#include <string.h>

/* A month after every month a change can name: "the latest value". */
#define LATEST ((hpf_month)999912)

static int check_actor(const hpf_actor *a, hpf_err *err)
{
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    if (a->role != HPF_ROLE_AGENT && a->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "this action needs an employer agent or an operator");
    return 0;
}

static void bind_actor(hpf_stmt *st, int i, const hpf_actor *a)
{
    if (a->user_id)
        hpf_stmt_bind_i64(st, i, a->user_id);
    else
        hpf_stmt_bind_null(st, i);
}

/* Lock the employer and read it again: changes and remittances of one employer queue here. An
 * employer under a deferral (缓缴, 03) still declares its members' wages; its ratios change
 * only when it is normal (lowering them is the 降比 procedure). */
static int lock_employer(hpf_db *db, const char *dwzh, bool deferral_ok, hpf_employer *emp,
                         hpf_err *err)
{
    int rc = svc_load_employer(db, dwzh, emp, err);
    if (rc < 0 || (rc = hpf_db_lock_row(db, "employer", emp->id, err)) < 0 ||
        (rc = svc_load_employer(db, dwzh, emp, err)) < 0)
        return rc;
    return deferral_ok && !strcmp(emp->state, "03") ? 0 : svc_employer_normal(emp, err);
}

/* The changes of one key (a member's wages, an employer's unit or individual ratio) in the
 * order hpf_contrib_value_at wants. `sql` selects effective_month, before, after for one id.
 * *out is malloc'd (NULL when none). */
static int load_changes(hpf_db *db, const char *sql, int64_t id, hpf_contrib_change **out,
                        size_t *n, hpf_err *err)
{
    hpf_stmt *st;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = hpf_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = (hpf_contrib_change){.from = (hpf_month)hpf_stmt_i64(st, 0),
                                              .before = hpf_stmt_i64(st, 1),
                                              .after = hpf_stmt_i64(st, 2)};
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc < 0 ? rc : 0;
}

#define WAGE_CHANGES_SQL                                                                           \
    "SELECT effective_month, old_wage, new_wage FROM base_adjustment WHERE member_id = ?"          \
    " ORDER BY effective_month, id"
#define UNIT_CHANGES_SQL                                                                           \
    "SELECT effective_month, old_unit_bp, new_unit_bp FROM ratio_change WHERE employer_id = ?"     \
    " ORDER BY effective_month, id"
#define INDIV_CHANGES_SQL                                                                          \
    "SELECT effective_month, old_indiv_bp, new_indiv_bp FROM ratio_change WHERE employer_id = ?"   \
    " ORDER BY effective_month, id"

/* The value of `sql`'s changes for `id` in `period` (`current` when there are none). */
static int value_at(hpf_db *db, const char *sql, int64_t id, hpf_month period, int64_t current,
                    int64_t *out, hpf_err *err)
{
    hpf_contrib_change *c;
    size_t n;
    int rc = load_changes(db, sql, id, &c, &n, err);
    if (rc < 0)
        return rc;
    *out = hpf_contrib_value_at(c, n, period, current);
    free(c);
    return 0;
}

/* ---- the terms of a month, for the remittance ---- */

static int cmp_entry(const void *a, const void *b)
{
    int64_t x = ((const struct hpf_wage_entry *)a)->member_id;
    int64_t y = ((const struct hpf_wage_entry *)b)->member_id;
    return x < y ? -1 : x > y;
}

int hpf_contrib_terms_at(hpf_db *db, hpf_employer *emp, hpf_month period, hpf_wage_book *wages,
                         hpf_err *err)
{
    hpf_stmt *st;
    int64_t unit, indiv;
    memset(wages, 0, sizeof *wages);
    int rc = value_at(db, UNIT_CHANGES_SQL, emp->id, period, emp->unit_ratio_bp, &unit, err);
    if (rc < 0 || (rc = value_at(db, INDIV_CHANGES_SQL, emp->id, period, emp->indiv_ratio_bp,
                                 &indiv, err)) < 0)
        return rc;
    emp->unit_ratio_bp = (int32_t)unit;
    emp->indiv_ratio_bp = (int32_t)indiv;
    /* One read for the employer's members: the changes of a member are in (member, month, id)
     * order, and each member's run gives its wage in force. A member keeps their history when
     * they move to another employer, so the join is on where they are now. */
    rc = hpf_db_prepare(db, &st,
                        "SELECT a.member_id, a.effective_month, a.old_wage, a.new_wage"
                        " FROM base_adjustment a JOIN member m ON m.id = a.member_id"
                        " WHERE m.employer_id = ? ORDER BY a.member_id, a.effective_month, a.id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, emp->id);
    size_t cap = 0, ncap = 0, nrun = 0;
    hpf_contrib_change *run = NULL;
    int64_t run_member = 0;
    for (;;) {
        rc = hpf_stmt_step(st, err);
        int64_t mid = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
        if (nrun > 0 && (rc != 1 || mid != run_member)) {
            if (wages->n == cap) {
                cap = cap ? cap * 2 : 16;
                wages->v = hpf_xrealloc(wages->v, cap * sizeof *wages->v);
            }
            wages->v[wages->n++] = (struct hpf_wage_entry){
                .member_id = run_member,
                .wage = hpf_contrib_value_at(run, nrun, period, 0),
            };
            nrun = 0;
        }
        if (rc != 1)
            break;
        if (nrun == ncap) {
            ncap = ncap ? ncap * 2 : 4;
            run = hpf_xrealloc(run, ncap * sizeof *run);
        }
        run_member = mid;
        run[nrun++] = (hpf_contrib_change){.from = (hpf_month)hpf_stmt_i64(st, 1),
                                           .before = hpf_stmt_i64(st, 2),
                                           .after = hpf_stmt_i64(st, 3)};
    }
    hpf_stmt_reset(st);
    free(run);
    if (rc < 0) {
        hpf_wage_book_cleanup(wages);
        return rc;
    }
    return 0; /* the rows came by member id: the book is sorted */
}

hpf_fen hpf_wage_book_get(const hpf_wage_book *b, int64_t member_id, hpf_fen stored)
{
    struct hpf_wage_entry key = {.member_id = member_id};
    const struct hpf_wage_entry *e =
        b->n ? bsearch(&key, b->v, b->n, sizeof *b->v, cmp_entry) : NULL;
    return e && e->wage > 0 ? e->wage : stored;
}

void hpf_wage_book_cleanup(hpf_wage_book *b)
{
    free(b->v);
    b->v = NULL;
    b->n = 0;
}

/* ---- 基数调整 ---- */

static void base_hash(char out[65], const hpf_base_req *req)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_printf(&b, "base/1|%d|%d|%zu", req->year, req->correction ? 1 : 0, req->nrows);
    for (size_t i = 0; i < req->nrows; i++)
        hpf_buf_printf(&b, "|%s:%lld:%d", req->rows[i].account_no, (long long)req->rows[i].wage,
                       (int)req->rows[i].effective);
    hpf_sm3_hex(out, b.data, b.len);
    hpf_buf_cleanup(&b);
}

static int row_err(hpf_err *err, int code, size_t i, const char *leaf, const char *rule,
                   const char *fmt, const char *detail)
{
    char field[96];
    snprintf(field, sizeof field, "/rows/%zu%s", i, leaf);
    return hpf_err_field(err, code, field, rule, fmt, i, detail);
}

#define CHANGE_COLS                                                                                \
    "SELECT a.id, a.batch_id, m.account_no, e.account_no, a.year, a.effective_month, a.old_wage,"  \
    " a.new_wage, a.base, a.correction, a.biz_date, COALESCE(u.username, ''),"                     \
    " COALESCE(u.role, '') FROM base_adjustment a JOIN member m ON m.id = a.member_id"             \
    " JOIN employer e ON e.id = a.employer_id LEFT JOIN app_user u ON u.id = a.actor_id "

static void read_change(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_base_change *c = item;
    (void)ctx;
    memset(c, 0, sizeof *c);
    c->id = hpf_stmt_i64(st, 0);
    c->batch_id = hpf_stmt_i64(st, 1);
    COPY(c->account_no, hpf_stmt_text(st, 2));
    COPY(c->employer_account_no, hpf_stmt_text(st, 3));
    c->year = (int)hpf_stmt_i64(st, 4);
    c->effective = (hpf_month)hpf_stmt_i64(st, 5);
    c->old_wage = hpf_stmt_i64(st, 6);
    c->new_wage = hpf_stmt_i64(st, 7);
    c->base = hpf_stmt_i64(st, 8);
    c->correction = hpf_stmt_i64(st, 9) != 0;
    c->biz_date = svc_day(hpf_stmt_text(st, 10));
    COPY(c->actor, hpf_stmt_text(st, 11));
    COPY(c->actor_role, hpf_stmt_text(st, 12));
}

/* The batch `id` with its rows in request order. */
static int load_batch(hpf_db *db, int64_t id, hpf_base_batch *out, hpf_err *err)
{
    hpf_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = hpf_db_prepare(
        db, &st, "SELECT year, correction, biz_date, nrows FROM base_adjustment_batch WHERE id = ?",
        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    rc = hpf_stmt_step(st, err);
    size_t nrows = 0;
    if (rc == 1) {
        out->id = id;
        out->year = (int)hpf_stmt_i64(st, 0);
        out->correction = hpf_stmt_i64(st, 1) != 0;
        out->biz_date = svc_day(hpf_stmt_text(st, 2));
        nrows = (size_t)hpf_stmt_i64(st, 3);
    }
    hpf_stmt_reset(st);
    if (rc == 0)
        return hpf_err_set(err, HPF_EINTERNAL, "base adjustment batch %lld vanished",
                           (long long)id);
    if (rc < 0 ||
        (rc = hpf_db_prepare(db, &st, CHANGE_COLS "WHERE a.batch_id = ? ORDER BY a.id", err)) < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    out->rows = hpf_xcalloc(nrows ? nrows : 1, sizeof *out->rows);
    while (out->n < nrows && (rc = hpf_stmt_step(st, err)) == 1)
        read_change(st, &out->rows[out->n++], NULL);
    hpf_stmt_reset(st);
    if (rc < 0)
        hpf_base_batch_cleanup(out);
    return rc < 0 ? rc : 0;
}

void hpf_base_batch_cleanup(hpf_base_batch *b)
{
    free(b->rows);
    b->rows = NULL;
    b->n = 0;
}

static int cmp_acct(const void *a, const void *b, void *ctx)
{
    const hpf_base_row *rows = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(rows[i].account_no, rows[j].account_no);
    return c ? c : (i < j ? -1 : i > j);
}

/* The first row that repeats an account of an earlier row, or SIZE_MAX. */
static size_t first_duplicate(const hpf_base_req *req)
{
    size_t n = req->nrows, found = SIZE_MAX;
    size_t *idx = hpf_xcalloc(n ? n : 1, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_acct, (void *)req->rows);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(req->rows[idx[i]].account_no, req->rows[idx[i - 1]].account_no) &&
            idx[i] < found)
            found = idx[i];
    free(idx);
    return found;
}

/* The member of one row, as the adjustment needs it. */
typedef struct adj_member {
    int64_t id, employer_id;
    char state[3];
    hpf_day joined; /* opened, or moved to this employer (内部转移), whichever is later */
    hpf_fen wage;
} adj_member;

/* 1 with the member, 0 when there is none, or an error. */
static int read_member(hpf_db *db, const char *account_no, adj_member *m, hpf_err *err)
{
    hpf_stmt *st;
    memset(m, 0, sizeof *m);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, employer_id, state, opened_on, wage FROM member"
                            " WHERE account_no = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        m->id = hpf_stmt_i64(st, 0);
        m->employer_id = hpf_stmt_i64(st, 1);
        COPY(m->state, hpf_stmt_text(st, 2));
        m->joined = svc_day(hpf_stmt_text(st, 3));
        m->wage = hpf_stmt_i64(st, 4);
    }
    hpf_stmt_reset(st);
    if (rc != 1)
        return rc;
    int found = rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT COALESCE(MAX(biz_date), '') FROM member_state_history"
                        " WHERE member_id = ? AND business = '06' AND to_employer = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m->id);
    hpf_stmt_bind_i64(st, 2, m->employer_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        hpf_day moved = svc_day(hpf_stmt_text(st, 0));
        if (moved > m->joined)
            m->joined = moved;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : found;
}

/* Whether the member already had this year's (ordinary) adjustment. */
static int year_done(hpf_db *db, int64_t member_id, int year, bool *done, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT count(*) FROM base_adjustment WHERE member_id = ? AND year = ?"
                            " AND correction = 0",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, year);
    rc = hpf_stmt_step(st, err);
    *done = rc == 1 && hpf_stmt_i64(st, 0) > 0;
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int set_member_wage(hpf_db *db, int64_t member_id, hpf_fen wage, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "UPDATE member SET wage = ? WHERE id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, wage);
    hpf_stmt_bind_i64(st, 2, member_id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Check and write row i of the batch. *member_id gets the member for the audit entry. */
static int adjust_row(hpf_db *db, const hpf_actor *actor, const hpf_employer *emp,
                      const hpf_base_req *req, size_t i, int64_t batch_id, hpf_day today,
                      int64_t *member_id, hpf_err *err)
{
    const hpf_base_row *r = &req->rows[i];
    hpf_err why = HPF_ERR_INIT;
    adj_member m;
    hpf_policy pol;
    char ms[8], ms2[8], date[11];
    int rc = read_member(db, r->account_no, &m, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || m.employer_id != emp->id)
        return row_err(err, HPF_EUNPROC, i, "/account_no", "contribution.member_unknown",
                       "row %zu: %s", "no member account with this number at this employer");
    if (!svc_member_takes_deposits(m.state, &why))
        return row_err(err, HPF_EUNPROC, i, "/account_no", "contribution.member_state",
                       "row %zu: %s", why.msg);
    if (r->wage <= 0 || r->wage > HPF_MONEY_MAX)
        return row_err(err, HPF_EINVAL, i, "/wage", "money.range", "row %zu: %s",
                       "wage must be a positive amount");
    /* RULES C-5: the base changes in July. A member who joined the employer after 1 July was
     * given a base when they joined (C-6) and may take the year's from any later month. */
    hpf_month july = req->year * 100 + 7, june = (req->year + 1) * 100 + 6;
    bool joined_later = m.joined > hpf_month_first_day(july);
    hpf_month joined = hpf_month_of(m.joined);
    hpf_month eff = r->effective ? r->effective : joined_later ? joined : july;
    if (!joined_later && eff != july) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "the base changes in July (RULES C-5): the effective month must be %s",
                 hpf_month_fmt(ms, july));
        return row_err(err, HPF_EUNPROC, i, "/effective_month", "contribution.effective_month",
                       "row %zu: %s", detail);
    }
    if (joined_later && (eff < joined || eff > june)) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "a member who joined in %s takes this year's base from a month %s..%s",
                 hpf_month_fmt(ms, joined), ms, hpf_month_fmt(ms2, june));
        return row_err(err, HPF_EUNPROC, i, "/effective_month", "contribution.effective_month",
                       "row %zu: %s", detail);
    }
    bool done = false;
    if ((rc = year_done(db, m.id, req->year, &done, err)) < 0)
        return rc;
    if (done && !req->correction) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "this member's base for %d-%d was already adjusted; once a year (RULES C-5), "
                 "an operator corrects it",
                 req->year, req->year + 1);
        return row_err(err, HPF_ECONFLICT, i, "/account_no", "contribution.base_year_done",
                       "row %zu: %s", detail);
    }
    hpf_fen base, old_wage, latest;
    if ((rc = hpf_policy_at(db, hpf_month_first_day(eff), &pol, err)) < 0)
        return rc;
    if ((rc = hpf_contrib_base(&base, &pol.contrib, r->wage, err)) < 0) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "/rows/%zu", i);
        hpf_err_prefix_field(err, prefix);
        return rc;
    }
    if ((rc = value_at(db, WAGE_CHANGES_SQL, m.id, eff, m.wage, &old_wage, err)) < 0)
        return rc;
    hpf_stmt *st;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO base_adjustment (batch_id, member_id, employer_id, year,"
                        " effective_month, old_wage, new_wage, base, correction, biz_date,"
                        " actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, batch_id);
    hpf_stmt_bind_i64(st, 2, m.id);
    hpf_stmt_bind_i64(st, 3, emp->id);
    hpf_stmt_bind_i64(st, 4, req->year);
    hpf_stmt_bind_i64(st, 5, eff);
    hpf_stmt_bind_i64(st, 6, old_wage);
    hpf_stmt_bind_i64(st, 7, r->wage);
    hpf_stmt_bind_i64(st, 8, base);
    hpf_stmt_bind_i64(st, 9, done ? 1 : 0); /* a correction only where there is one to correct */
    hpf_stmt_bind_text(st, 10, hpf_day_fmt(date, today));
    bind_actor(st, 11, actor);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* a concurrent batch took the year since the check above */
        return row_err(err, HPF_ECONFLICT, i, "/account_no", "contribution.base_year_done",
                       "row %zu: %s", "this member's base for the year was already adjusted");
    if (rc < 0)
        return rc;
    /* member.wage is the latest declared wage: the one in force from the last change on. */
    if ((rc = value_at(db, WAGE_CHANGES_SQL, m.id, LATEST, m.wage, &latest, err)) < 0 ||
        (rc = set_member_wage(db, m.id, latest, err)) < 0)
        return rc;
    *member_id = m.id;
    return 0;
}

/* An earlier batch under this key: 1 with its id (rc 0 when the content is the same). */
static int find_batch(hpf_db *db, int64_t employer_id, const char *key, const char *hash,
                      int64_t *id, hpf_err *err)
{
    hpf_stmt *st;
    *id = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, request_hash FROM base_adjustment_batch"
                            " WHERE employer_id = ? AND idem_key = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    hpf_stmt_bind_text(st, 2, key);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *id = hpf_stmt_i64(st, 0);
        if (strcmp(hpf_stmt_text(st, 1), hash) != 0)
            rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                               "this Idempotency-Key was used for a different base adjustment");
    }
    hpf_stmt_reset(st);
    return rc;
}

static int base_request_check(const hpf_actor *actor, const hpf_base_req *req, hpf_day today,
                              hpf_err *err)
{
    int rc = check_actor(actor, err);
    if (rc < 0)
        return rc;
    if (req->correction && actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "/correction", "contribution.correction_role",
                             "only an operator corrects a year's base adjustment");
    if (req->nrows == 0)
        return hpf_err_field(err, HPF_EUNPROC, "/rows", "contribution.empty",
                             "a base adjustment needs at least one row");
    if (req->nrows > HPF_REMIT_MAX_ROWS)
        return hpf_err_field(err, HPF_ETOOBIG, "/rows", "contribution.too_many_rows",
                             "a base adjustment holds at most %d rows", HPF_REMIT_MAX_ROWS);
    /* The employer declares the coming year (in June) or the current one; an operator may
     * correct the year before too. */
    int cur = hpf_contrib_year_of(hpf_month_of(today));
    int lo = req->correction ? cur - 1 : cur;
    if (req->year < lo || req->year > cur + 1)
        return hpf_err_field(err, HPF_EUNPROC, "/year", "contribution.year",
                             "the contribution year must be %d..%d (a year runs 1 July to 30 June "
                             "and is named by its July)",
                             lo, cur + 1);
    return 0;
}

int hpf_base_adjust(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_base_req *req, hpf_base_batch *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_stmt *st;
    char hash[65], date[11];
    hpf_day today = hpf_svc_today(svc);
    int64_t batch_id = 0, *members = NULL;
    size_t dup;
    memset(out, 0, sizeof *out);
    *replayed = false;
    /* The scope first: whoever may not act learns nothing of the request's rules. */
    int rc = check_actor(actor, err);
    if (rc < 0 || (rc = svc_scope_employer(svc, actor, employer_account_no, err)) < 0 ||
        (rc = base_request_check(actor, req, today, err)) < 0)
        return rc;
    base_hash(hash, req);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = lock_employer(db, employer_account_no, true, &emp, err)) < 0)
        goto done;
    rc = find_batch(db, emp.id, req->idem_key, hash, &batch_id, err);
    if (rc < 0)
        goto done;
    if (rc == 1) {
        *replayed = true;
        rc = load_batch(db, batch_id, out, err);
        goto done;
    }
    dup = first_duplicate(req);
    if (dup != SIZE_MAX) {
        rc = row_err(err, HPF_EUNPROC, dup, "/account_no", "contribution.duplicate_member",
                     "row %zu: %s", "this account appears twice in the batch");
        goto done;
    }
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO base_adjustment_batch (employer_id, year, idem_key,"
                        " request_hash, nrows, correction, biz_date, actor_id)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_i64(st, 2, req->year);
    hpf_stmt_bind_text(st, 3, req->idem_key);
    hpf_stmt_bind_text(st, 4, hash);
    hpf_stmt_bind_i64(st, 5, (int64_t)req->nrows);
    hpf_stmt_bind_i64(st, 6, req->correction ? 1 : 0);
    hpf_stmt_bind_text(st, 7, hpf_day_fmt(date, today));
    bind_actor(st, 8, actor);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        batch_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    members = hpf_xcalloc(req->nrows, sizeof *members);
    for (size_t i = 0; i < req->nrows; i++)
        if ((rc = adjust_row(db, actor, &emp, req, i, batch_id, today, &members[i], err)) < 0)
            goto done;
    /* Last: the chain head is locked from the first entry to the commit. */
    for (size_t i = 0; i < req->nrows; i++)
        if ((rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_MEMBER_CHANGED, members[i], err)) <
            0)
            goto done;
    if ((rc = load_batch(db, batch_id, out, err)) < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    free(members);
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    if (rc < 0) {
        hpf_base_batch_cleanup(out);
        return rc;
    }
    return 0;
}

int hpf_base_adjust_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                         int year, const char *account_no, int64_t offset, int64_t limit,
                         hpf_base_change **items, size_t *n, int64_t *total, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_employer emp;
    *items = NULL;
    *n = 0;
    *total = 0;
    const char *acct = account_no ? account_no : "";
    int rc = check_actor(actor, err);
    if (rc < 0 || (rc = svc_scope_employer(svc, actor, employer_account_no, err)) < 0 ||
        (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    svc_page(&offset, &limit);
#define FILTER "WHERE a.employer_id = ? AND (? = 0 OR a.year = ?) AND (? = '' OR m.account_no = ?) "
    rc = hpf_db_prepare(
        db, &st,
        "SELECT count(*) FROM base_adjustment a JOIN member m ON m.id = a.member_id " FILTER, err);
    for (int pass = 0; rc >= 0 && pass < 2; pass++) {
        hpf_stmt_bind_i64(st, 1, emp.id);
        hpf_stmt_bind_i64(st, 2, year);
        hpf_stmt_bind_i64(st, 3, year);
        hpf_stmt_bind_text(st, 4, acct);
        hpf_stmt_bind_text(st, 5, acct);
        if (pass == 0) {
            rc = hpf_stmt_step(st, err);
            *total = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
            hpf_stmt_reset(st);
            if (rc >= 0)
                rc = hpf_db_prepare(db, &st,
                                    CHANGE_COLS FILTER "ORDER BY a.id DESC LIMIT ? OFFSET ?", err);
            continue;
        }
        hpf_stmt_bind_i64(st, 6, limit);
        hpf_stmt_bind_i64(st, 7, offset);
        *items = hpf_xcalloc((size_t)limit, sizeof **items);
        while (*n < (size_t)limit && (rc = hpf_stmt_step(st, err)) == 1)
            read_change(st, &(*items)[(*n)++], NULL);
        hpf_stmt_reset(st);
    }
#undef FILTER
    if (rc < 0) {
        free(*items);
        *items = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

/* ---- 比例调整 ---- */

#define RATIO_COLS                                                                                 \
    "SELECT r.id, e.account_no, r.effective_month, r.old_unit_bp, r.old_indiv_bp, r.new_unit_bp,"  \
    " r.new_indiv_bp, COALESCE(r.reason, ''), r.biz_date, COALESCE(u.username, ''),"               \
    " COALESCE(u.role, '') FROM ratio_change r JOIN employer e ON e.id = r.employer_id"            \
    " LEFT JOIN app_user u ON u.id = r.actor_id "

static void read_ratio(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_ratio_change *c = item;
    (void)ctx;
    memset(c, 0, sizeof *c);
    c->id = hpf_stmt_i64(st, 0);
    COPY(c->employer_account_no, hpf_stmt_text(st, 1));
    c->effective = (hpf_month)hpf_stmt_i64(st, 2);
    c->old_unit_bp = (int32_t)hpf_stmt_i64(st, 3);
    c->old_indiv_bp = (int32_t)hpf_stmt_i64(st, 4);
    c->unit_bp = (int32_t)hpf_stmt_i64(st, 5);
    c->indiv_bp = (int32_t)hpf_stmt_i64(st, 6);
    COPY(c->reason, hpf_stmt_text(st, 7));
    c->biz_date = svc_day(hpf_stmt_text(st, 8));
    COPY(c->actor, hpf_stmt_text(st, 9));
    COPY(c->actor_role, hpf_stmt_text(st, 10));
}

static int load_ratio(hpf_db *db, const char *where, int64_t id, const char *key,
                      hpf_ratio_change *out, char hash[65], hpf_err *err)
{
    hpf_stmt *st;
    char sql[1024];
    snprintf(sql, sizeof sql, "%s, r.request_hash FROM ratio_change r%s",
             "SELECT r.id, e.account_no, r.effective_month, r.old_unit_bp, r.old_indiv_bp,"
             " r.new_unit_bp, r.new_indiv_bp, COALESCE(r.reason, ''), r.biz_date,"
             " COALESCE(u.username, ''), COALESCE(u.role, '')",
             where);
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    if (key)
        hpf_stmt_bind_text(st, 2, key);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        read_ratio(st, out, NULL);
        snprintf(hash, 65, "%s", hpf_stmt_text(st, 11));
    }
    hpf_stmt_reset(st);
    return rc;
}

static int check_reason(const char *s, hpf_err *err)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n <= 200;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    return ok ? 0
              : hpf_err_field(err, HPF_EINVAL, "/reason", "contribution.reason",
                              "reason: at most 200 bytes of text without control characters");
}

int hpf_ratio_change_make(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                          const hpf_ratio_req *req, hpf_ratio_change *out, bool *replayed,
                          hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_policy pol;
    hpf_stmt *st;
    char hash[65], prior[65] = "", date[11], m1[8], m2[8];
    hpf_day today = hpf_svc_today(svc);
    hpf_month now = hpf_month_of(today);
    int64_t unit, indiv, id = 0;
    memset(out, 0, sizeof *out);
    *replayed = false;
    int rc = check_actor(actor, err);
    if (rc < 0 || (rc = svc_scope_employer(svc, actor, employer_account_no, err)) < 0 ||
        (rc = check_reason(req->reason, err)) < 0)
        return rc;
    {
        hpf_buf b = HPF_BUF_INIT;
        hpf_buf_printf(&b, "ratio/1|%d|%d|%d|", (int)req->unit_bp, (int)req->indiv_bp,
                       (int)req->effective);
        hpf_buf_adds(&b, req->reason ? req->reason : "");
        hpf_sm3_hex(hash, b.data, b.len);
        hpf_buf_cleanup(&b);
    }
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = lock_employer(db, employer_account_no, false, &emp, err)) < 0)
        goto done;
    rc = load_ratio(db,
                    " JOIN employer e ON e.id = r.employer_id LEFT JOIN app_user u ON"
                    " u.id = r.actor_id WHERE r.employer_id = ? AND r.idem_key = ?",
                    emp.id, req->idem_key, out, prior, err);
    if (rc == 1) {
        if (strcmp(prior, hash) != 0)
            rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                               "this Idempotency-Key was used for a different ratio change");
        else
            *replayed = true;
        goto done;
    }
    if (rc < 0)
        goto done;
    /* A remitted month keeps the ratios it was posted with: a change starts after them, and
     * not in the past (arrears are made up by 补缴 at the ratios of their months). */
    if (req->effective < now || req->effective > hpf_month_add(now, 12) ||
        (emp.paid_through && req->effective <= emp.paid_through)) {
        hpf_month lo =
            emp.paid_through && emp.paid_through >= now ? hpf_month_add(emp.paid_through, 1) : now;
        rc = hpf_err_field(err, HPF_EUNPROC, "/effective_month", "contribution.ratio_month",
                           "a ratio change takes effect from a month not yet remitted, %s..%s",
                           hpf_month_fmt(m1, lo), hpf_month_fmt(m2, hpf_month_add(now, 12)));
        goto done;
    }
    if ((rc = hpf_policy_at(db, hpf_month_first_day(req->effective), &pol, err)) < 0 ||
        (rc = hpf_contrib_check_ratio_change(&pol.contrib, req->unit_bp, req->indiv_bp, err)) < 0)
        goto done;
    if ((rc = value_at(db, UNIT_CHANGES_SQL, emp.id, req->effective, emp.unit_ratio_bp, &unit,
                       err)) < 0 ||
        (rc = value_at(db, INDIV_CHANGES_SQL, emp.id, req->effective, emp.indiv_ratio_bp, &indiv,
                       err)) < 0)
        goto done;
    if (unit == req->unit_bp && indiv == req->indiv_bp) {
        rc = hpf_err_field(err, HPF_EUNPROC, "/unit_ratio_bp", "contribution.ratio_unchanged",
                           "these are already the ratios in force from %s",
                           hpf_month_fmt(m1, req->effective));
        goto done;
    }
    rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO ratio_change (employer_id, effective_month, old_unit_bp,"
                       " old_indiv_bp, new_unit_bp, new_indiv_bp, reason, idem_key,"
                       " request_hash, biz_date, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " RETURNING id",
                       err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_i64(st, 2, req->effective);
    hpf_stmt_bind_i64(st, 3, unit);
    hpf_stmt_bind_i64(st, 4, indiv);
    hpf_stmt_bind_i64(st, 5, req->unit_bp);
    hpf_stmt_bind_i64(st, 6, req->indiv_bp);
    hpf_stmt_bind_text(st, 7, req->reason && *req->reason ? req->reason : NULL);
    hpf_stmt_bind_text(st, 8, req->idem_key);
    hpf_stmt_bind_text(st, 9, hash);
    hpf_stmt_bind_text(st, 10, hpf_day_fmt(date, today));
    bind_actor(st, 11, actor);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    /* The employer row holds the latest ratios: those in force from the last change on. */
    if ((rc = value_at(db, UNIT_CHANGES_SQL, emp.id, LATEST, emp.unit_ratio_bp, &unit, err)) < 0 ||
        (rc = value_at(db, INDIV_CHANGES_SQL, emp.id, LATEST, emp.indiv_ratio_bp, &indiv, err)) < 0)
        goto done;
    rc = hpf_db_prepare(
        db, &st, "UPDATE employer SET unit_ratio_bp = ?, indiv_ratio_bp = ? WHERE id = ?", err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, unit);
    hpf_stmt_bind_i64(st, 2, indiv);
    hpf_stmt_bind_i64(st, 3, emp.id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0 ||
        (rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_EMPLOYER_CHANGED, emp.id, err)) < 0)
        goto done;
    rc = load_ratio(db,
                    " JOIN employer e ON e.id = r.employer_id LEFT JOIN app_user u ON"
                    " u.id = r.actor_id WHERE r.id = ?",
                    id, NULL, out, prior, err);
    if (rc == 0)
        rc = hpf_err_set(err, HPF_EINTERNAL, "ratio change %lld vanished", (long long)id);
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    if (rc < 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return 0;
}

int hpf_ratio_change_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                          int64_t offset, int64_t limit, hpf_ratio_change **items, size_t *n,
                          int64_t *total, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    *items = NULL;
    *n = 0;
    int rc = check_actor(actor, err);
    if (rc < 0 || (rc = svc_scope_employer(svc, actor, employer_account_no, err)) < 0 ||
        (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    return svc_list(db, "SELECT count(*) FROM ratio_change WHERE employer_id = ?",
                    RATIO_COLS "WHERE r.employer_id = ? ORDER BY r.id DESC LIMIT ? OFFSET ?",
                    emp.id, offset, limit, sizeof **items, read_ratio, NULL, (void **)items, n,
                    total, err);
}
