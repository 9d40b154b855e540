/* service/deferral: 缓缴 (deferral, RULES §1.1 C-9 / C-10, §1.3 type 13): an employer's approved
 * deferral, the months it owes per member (应缴未缴), and its end (docs/internals/deposits.md). */
#include "service/deposits.h"

#include "base/mem.h"
#include "trust/audit.h"

#include <stdlib.h>
#include <string.h>

#define REASON_MAX   500
#define DOCUMENT_MAX 64

static bool printable(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n > 0 && n <= max;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    return ok;
}

int svc_deferral_month(hpf_db *db, int64_t employer_id, hpf_month period, int64_t *deferral_id,
                       hpf_err *err)
{
    hpf_stmt *st;
    *deferral_id = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT d.id FROM deferral d WHERE d.employer_id = ?"
                            " AND d.from_month <= ? AND d.to_month >= ? AND (d.state = 'active'"
                            "  OR EXISTS (SELECT 1 FROM owed_month o WHERE o.deferral_id = d.id"
                            "   AND o.period = ? AND o.made_up_by IS NULL))"
                            " ORDER BY d.id LIMIT 1",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    hpf_stmt_bind_i64(st, 2, period);
    hpf_stmt_bind_i64(st, 3, period);
    hpf_stmt_bind_i64(st, 4, period);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *deferral_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Set the employer's state from `from` to `to`, audited; nothing when it is not in `from`. */
static int employer_state(hpf_db *db, int64_t actor, int64_t employer_id, const char *from,
                          const char *to, hpf_err *err)
{
    hpf_stmt *st;
    int rc =
        hpf_db_prepare(db, &st, "UPDATE employer SET state = ? WHERE id = ? AND state = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, to);
    hpf_stmt_bind_i64(st, 2, employer_id);
    hpf_stmt_bind_text(st, 3, from);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc >= 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0 || changed != 1)
        return rc < 0 ? rc : 0;
    return hpf_audit_record(db, actor, HPF_AUDIT_EMPLOYER_CHANGED, employer_id, err);
}

int svc_deferral_settle(hpf_db *db, int64_t actor, int64_t employer_id, hpf_day today, hpf_err *err)
{
    hpf_stmt *st;
    hpf_month now = hpf_month_of(today);
    char date[11];
    struct {
        int64_t id;
        const char *state;
    } close[16];
    size_t nclose = 0;
    int64_t active = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT d.id, d.to_month,"
                            " (SELECT count(*) FROM owed_month o WHERE o.deferral_id = d.id),"
                            " (SELECT count(*) FROM owed_month o WHERE o.deferral_id = d.id"
                            "  AND o.made_up_by IS NULL)"
                            " FROM deferral d WHERE d.employer_id = ? AND d.state = 'active'"
                            " ORDER BY d.id",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        hpf_month to = (hpf_month)hpf_stmt_i64(st, 1);
        int64_t owed = hpf_stmt_i64(st, 2), open = hpf_stmt_i64(st, 3);
        /* Made up: nothing owed is left (and something was, or the months are over); ended: the
         * months are over with some still owed, which stay owed and are made up later. */
        const char *state = open == 0 && (owed > 0 || to < now) ? "made_up"
                            : to < now                          ? "ended"
                                                                : NULL;
        if (state && nclose < sizeof close / sizeof close[0]) {
            close[nclose].id = hpf_stmt_i64(st, 0);
            close[nclose].state = state;
            nclose++;
        } else {
            active++; /* (more than 16 to close at once: the rest close next time) */
        }
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    hpf_day_fmt(date, today);
    for (size_t i = 0; i < nclose; i++) {
        rc = hpf_db_prepare(db, &st,
                            "UPDATE deferral SET state = ?, closed_on = ? WHERE id = ?"
                            " AND state = 'active'",
                            err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_text(st, 1, close[i].state);
        hpf_stmt_bind_text(st, 2, date);
        hpf_stmt_bind_i64(st, 3, close[i].id);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    return active ? 0 : employer_state(db, actor, employer_id, "03", "01", err);
}

/* ---- grant ---- */

int hpf_deferral_check(hpf_svc *svc, hpf_db *db, const hpf_actor *actor,
                       const char *employer_account_no, const hpf_deferral_req *req, hpf_err *err)
{
    hpf_stmt *st;
    hpf_employer emp;
    hpf_month now = hpf_month_of(hpf_svc_today(svc));
    char per[8];
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator records a deferral");
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    if (!printable(req->reason, REASON_MAX))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "deferral.reason",
                             "reason must be 1 to %d characters without control characters",
                             REASON_MAX);
    if (!printable(req->document_no, DOCUMENT_MAX))
        return hpf_err_field(err, HPF_EINVAL, "/document_no", "deferral.document_no",
                             "document_no (the approval document) must be 1 to %d characters "
                             "without control characters",
                             DOCUMENT_MAX);
    if (!hpf_month_valid(req->from) || !hpf_month_valid(req->to) || req->to < req->from)
        return hpf_err_field(err, HPF_EUNPROC, "/to", "deferral.range",
                             "the deferred months run from `from` to `to`, in that order");
    if (hpf_month_diff(req->to, req->from) >= HPF_DEFERRAL_MAX_MONTHS)
        return hpf_err_field(err, HPF_EUNPROC, "/to", "deferral.range",
                             "a deferral covers at most %d months", HPF_DEFERRAL_MAX_MONTHS);
    if (req->from < hpf_month_of(emp.opened_on))
        return hpf_err_field(err, HPF_EUNPROC, "/from", "deferral.range",
                             "the first deferred month is before the employer's account opened");
    if (req->from > hpf_month_add(now, 12))
        return hpf_err_field(err, HPF_EUNPROC, "/from", "deferral.range",
                             "a deferral starts at most 12 months after the business month");
    if (strcmp(emp.state, "03") != 0 && (rc = svc_employer_normal(&emp, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT MIN(period) FROM remittance WHERE employer_id = ? AND kind = '01'"
                        " AND period BETWEEN ? AND ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_i64(st, 2, req->from);
    hpf_stmt_bind_i64(st, 3, req->to);
    hpf_month taken = 0;
    rc = hpf_stmt_step(st, err);
    if (rc == 1 && !hpf_stmt_null(st, 0))
        taken = (hpf_month)hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (taken)
        return hpf_err_field(err, HPF_ECONFLICT, "/from", "deferral.month_remitted",
                             "%s was remitted already: a deferral covers unpaid months only",
                             hpf_month_fmt(per, taken));
    rc = hpf_db_prepare(db, &st,
                        "SELECT id FROM deferral WHERE employer_id = ? AND from_month <= ?"
                        " AND to_month >= ? ORDER BY id LIMIT 1",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_i64(st, 2, req->to);
    hpf_stmt_bind_i64(st, 3, req->from);
    int64_t other = 0;
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        other = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (other)
        return hpf_err_field(err, HPF_ECONFLICT, "/from", "deferral.overlap",
                             "deferral %lld covers some of these months already", (long long)other);
    return 0;
}

typedef struct owed_new {
    int64_t member_id;
    hpf_month period;
    hpf_fen unit, indiv;
} owed_new;

typedef struct owed_vec {
    owed_new *v;
    size_t n, cap;
    int64_t members; /* distinct members */
    hpf_fen total;
} owed_vec;

/* What the employer's members owe for one month: the month's amount for every member who takes
 * deposits and was open by its last day, less what was posted for it already. */
static int owe_month(hpf_db *db, const hpf_employer *emp, hpf_month period, owed_vec *out,
                     hpf_err *err)
{
    hpf_stmt *st;
    hpf_policy pol;
    hpf_employer then = *emp;
    hpf_wage_book book;
    char last[11];
    int64_t *paid_id = NULL;
    hpf_fen(*paid)[2] = NULL;
    size_t npaid = 0, cap = 0, k = 0;
    int rc = hpf_policy_at(db, hpf_month_first_day(period), &pol, err);
    if (rc == HPF_ENOTFOUND)
        return hpf_err_field(err, HPF_EUNPROC, "/from", "deferral.range",
                             "no policy was in force in a deferred month");
    if (rc < 0 || (rc = hpf_contrib_terms_at(db, &then, period, &book, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT p.member_id, SUM(p.unit_amount), SUM(p.indiv_amount)"
                        " FROM posting p JOIN member m ON m.id = p.member_id"
                        " WHERE m.employer_id = ? AND p.period = ? AND p.kind IN ('01', '02')"
                        " GROUP BY p.member_id ORDER BY p.member_id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, emp->id);
    hpf_stmt_bind_i64(st, 2, period);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (npaid == cap) {
            cap = cap ? cap * 2 : 8;
            paid_id = hpf_xrealloc(paid_id, cap * sizeof *paid_id);
            paid = hpf_xrealloc(paid, cap * sizeof *paid);
        }
        paid_id[npaid] = hpf_stmt_i64(st, 0);
        paid[npaid][0] = hpf_stmt_i64(st, 1);
        paid[npaid][1] = hpf_stmt_i64(st, 2);
        npaid++;
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    hpf_day_fmt(last, hpf_month_last_day(period));
    rc = hpf_db_prepare(db, &st,
                        "SELECT id, wage, state FROM member WHERE employer_id = ?"
                        " AND opened_on <= ? ORDER BY id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, emp->id);
    hpf_stmt_bind_text(st, 2, last);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (!svc_member_takes_deposits(hpf_stmt_text(st, 2), NULL))
            continue;
        int64_t id = hpf_stmt_i64(st, 0);
        hpf_contrib c;
        rc =
            hpf_contrib_compute(&c, &pol.contrib, hpf_wage_book_get(&book, id, hpf_stmt_i64(st, 1)),
                                then.unit_ratio_bp, then.indiv_ratio_bp, err);
        if (rc < 0)
            break;
        while (k < npaid && paid_id[k] < id)
            k++;
        hpf_fen pu = k < npaid && paid_id[k] == id ? paid[k][0] : 0;
        hpf_fen pi = k < npaid && paid_id[k] == id ? paid[k][1] : 0;
        hpf_fen u = c.unit > pu ? c.unit - pu : 0, iv = c.individual > pi ? c.individual - pi : 0;
        if (u == 0 && iv == 0)
            continue;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->v = hpf_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = (owed_new){.member_id = id, .period = period, .unit = u, .indiv = iv};
        if (hpf_money_add(&out->total, out->total, u + iv) < 0) {
            rc = hpf_err_field(err, HPF_EOVERFLOW, "", "money.range", "owed total out of range");
            break;
        }
    }
    hpf_stmt_reset(st);
done:
    hpf_wage_book_cleanup(&book);
    free(paid_id);
    free(paid);
    return rc < 0 ? rc : 0;
}

static int cmp_member(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

#define DEFERRAL_SELECT                                                                            \
    "SELECT d.id, d.from_month, d.to_month, d.reason, d.document_no, d.state, d.granted_on,"       \
    " COALESCE(d.closed_on, ''), d.members, d.owed_total,"                                         \
    " (SELECT count(*) FROM owed_month o WHERE o.deferral_id = d.id),"                             \
    " (SELECT count(*) FROM owed_month o WHERE o.deferral_id = d.id"                               \
    "  AND o.made_up_by IS NOT NULL),"                                                             \
    " (SELECT COALESCE(SUM(o.amount), 0) FROM owed_month o WHERE o.deferral_id = d.id"             \
    "  AND o.made_up_by IS NULL) FROM deferral d "

static void read_deferral(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_deferral *d = item;
    (void)ctx;
    memset(d, 0, sizeof *d);
    d->id = hpf_stmt_i64(st, 0);
    d->from = (hpf_month)hpf_stmt_i64(st, 1);
    d->to = (hpf_month)hpf_stmt_i64(st, 2);
    COPY(d->reason, hpf_stmt_text(st, 3));
    COPY(d->document_no, hpf_stmt_text(st, 4));
    COPY(d->state, hpf_stmt_text(st, 5));
    d->granted_on = svc_day(hpf_stmt_text(st, 6));
    d->closed_on = svc_day(hpf_stmt_text(st, 7));
    d->members = hpf_stmt_i64(st, 8);
    d->owed_total = hpf_stmt_i64(st, 9);
    d->owed_months = hpf_stmt_i64(st, 10);
    d->made_up_months = hpf_stmt_i64(st, 11);
    d->outstanding = hpf_stmt_i64(st, 12);
}

int hpf_deferral_grant(hpf_svc *svc, hpf_db *db, const hpf_actor *actor,
                       const char *employer_account_no, const hpf_deferral_req *req,
                       hpf_deferral *out, hpf_err *err)
{
    hpf_stmt *st;
    hpf_employer emp;
    owed_vec owed = {0};
    char date[11];
    int64_t id = 0, *ids = NULL;
    hpf_day today = hpf_svc_today(svc);
    int rc = hpf_deferral_check(svc, db, actor, employer_account_no, req, err);
    if (rc < 0 || (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    for (hpf_month p = req->from; rc == 0 && p <= req->to; p = hpf_month_add(p, 1))
        rc = owe_month(db, &emp, p, &owed, err);
    if (rc < 0)
        goto done;
    /* Distinct members, for the record. */
    ids = hpf_xcalloc(owed.n ? owed.n : 1, sizeof *ids);
    for (size_t i = 0; i < owed.n; i++)
        ids[i] = owed.v[i].member_id;
    qsort(ids, owed.n, sizeof *ids, cmp_member);
    for (size_t i = 0; i < owed.n; i++)
        owed.members += i == 0 || ids[i] != ids[i - 1];
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO deferral (employer_id, ref, from_month, to_month, reason,"
                        " document_no, granted_on, members, owed_total, created_by)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, emp.id);
    hpf_stmt_bind_text(st, 2, req->idem_key);
    hpf_stmt_bind_i64(st, 3, req->from);
    hpf_stmt_bind_i64(st, 4, req->to);
    hpf_stmt_bind_text(st, 5, req->reason);
    hpf_stmt_bind_text(st, 6, req->document_no);
    hpf_stmt_bind_text(st, 7, hpf_day_fmt(date, today));
    hpf_stmt_bind_i64(st, 8, owed.members);
    hpf_stmt_bind_i64(st, 9, owed.total);
    if (actor->user_id)
        hpf_stmt_bind_i64(st, 10, actor->user_id);
    else
        hpf_stmt_bind_null(st, 10);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* the same key by a concurrent decision */
        rc = hpf_err_set(err, HPF_EBUSY, "a concurrent decision recorded this deferral");
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < owed.n; i++) {
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO owed_month (deferral_id, member_id, period, unit_amount,"
                            " indiv_amount, amount) VALUES (?, ?, ?, ?, ?, ?)",
                            err);
        if (rc < 0)
            goto done;
        hpf_stmt_bind_i64(st, 1, id);
        hpf_stmt_bind_i64(st, 2, owed.v[i].member_id);
        hpf_stmt_bind_i64(st, 3, owed.v[i].period);
        hpf_stmt_bind_i64(st, 4, owed.v[i].unit);
        hpf_stmt_bind_i64(st, 5, owed.v[i].indiv);
        hpf_stmt_bind_i64(st, 6, owed.v[i].unit + owed.v[i].indiv);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc == HPF_ECONFLICT) /* (member, month) owed under another deferral: a member moved */
            rc = hpf_err_field(err, HPF_ECONFLICT, "/from", "deferral.overlap",
                               "a member owes one of these months under another deferral");
        if (rc < 0)
            goto done;
    }
    if ((rc = employer_state(db, actor->user_id, emp.id, "01", "03", err)) < 0)
        goto done;
    rc = hpf_db_prepare(db, &st, DEFERRAL_SELECT "WHERE d.id = ?", err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        read_deferral(st, out, NULL);
    else if (rc == 0)
        rc = hpf_err_set(err, HPF_EINTERNAL, "deferral %lld vanished", (long long)id);
    hpf_stmt_reset(st);
    rc = rc < 0 ? rc : 0;
done:
    free(ids);
    free(owed.v);
    return rc;
}

/* ---- reading ---- */

int hpf_deferral_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                      int64_t offset, int64_t limit, hpf_deferral **items, size_t *n,
                      int64_t *total, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    *items = NULL;
    *n = 0;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    return svc_list(db, "SELECT count(*) FROM deferral WHERE employer_id = ?",
                    DEFERRAL_SELECT "WHERE d.employer_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?",
                    emp.id, offset, limit, sizeof **items, read_deferral, NULL, (void **)items, n,
                    total, err);
}

static void read_owed(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_owed_month *o = item;
    (void)ctx;
    memset(o, 0, sizeof *o);
    o->deferral_id = hpf_stmt_i64(st, 0);
    COPY(o->account_no, hpf_stmt_text(st, 1));
    COPY(o->name, hpf_stmt_text(st, 2));
    o->period = (hpf_month)hpf_stmt_i64(st, 3);
    o->unit = hpf_stmt_i64(st, 4);
    o->individual = hpf_stmt_i64(st, 5);
    o->total = hpf_stmt_i64(st, 6);
    COPY(o->made_up_by, hpf_stmt_text(st, 7));
    o->made_up_on = svc_day(hpf_stmt_text(st, 8));
}

#define OWED_SELECT                                                                                \
    "SELECT o.deferral_id, m.account_no, m.name, o.period, o.unit_amount, o.indiv_amount,"         \
    " o.amount, COALESCE(r.serial, ''), COALESCE(o.made_up_on, '')"                                \
    " FROM owed_month o JOIN deferral d ON d.id = o.deferral_id"                                   \
    " JOIN member m ON m.id = o.member_id LEFT JOIN remittance r ON r.id = o.made_up_by "
#define OWED_COUNT "SELECT count(*) FROM owed_month o JOIN deferral d ON d.id = o.deferral_id "

int hpf_owed_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                  bool outstanding, int64_t offset, int64_t limit, hpf_owed_month **items,
                  size_t *n, int64_t *total, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    *items = NULL;
    *n = 0;
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0)
        return rc;
    if (outstanding)
        return svc_list(db, OWED_COUNT "WHERE d.employer_id = ? AND o.made_up_by IS NULL",
                        OWED_SELECT "WHERE d.employer_id = ? AND o.made_up_by IS NULL"
                                    " ORDER BY o.period, m.account_no LIMIT ? OFFSET ?",
                        emp.id, offset, limit, sizeof **items, read_owed, NULL, (void **)items, n,
                        total, err);
    return svc_list(db, OWED_COUNT "WHERE d.employer_id = ?",
                    OWED_SELECT "WHERE d.employer_id = ? ORDER BY o.period, m.account_no"
                                " LIMIT ? OFFSET ?",
                    emp.id, offset, limit, sizeof **items, read_owed, NULL, (void **)items, n,
                    total, err);
}
