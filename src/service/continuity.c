/* service/continuity: the facts of a member's months for the continuity counter
 * (domain/continuity.h, RULES §1.3; docs/internals/deposits.md). */
#include "service/deposits.h"

#include "base/mem.h"
#include "domain/continuity.h"

#include <stdlib.h>
#include <string.h>

typedef struct fact {
    hpf_continuity_month m;
    hpf_fen remitted; /* the month's own 汇缴 (originals): it was checked to be the full amount */
    hpf_fen owed;     /* an owed month's amount, -1 when none */
} fact;

static fact *find_or_add(fact **v, size_t *n, size_t *cap, hpf_month period)
{
    /* Both reads come in period order: the month is the last one or a new one. */
    if (*n && (*v)[*n - 1].m.period == period)
        return &(*v)[*n - 1];
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].m.period == period)
            return &(*v)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *v = hpf_xrealloc(*v, *cap * sizeof **v);
    }
    fact *f = &(*v)[(*n)++];
    memset(f, 0, sizeof *f);
    f->m.period = period;
    f->owed = -1;
    return f;
}

static int cmp_fact(const void *a, const void *b)
{
    hpf_month x = ((const fact *)a)->m.period, y = ((const fact *)b)->m.period;
    return x < y ? -1 : x > y;
}

int hpf_member_continuity_db(hpf_db *db, int64_t member_id, hpf_day as_of, int *months,
                             hpf_err *err)
{
    hpf_stmt *st;
    hpf_employer emp;
    char date[11], emp_acct[19] = "";
    hpf_fen wage = 0;
    hpf_month first = 0;
    int imported = 0; /* months brought by a cross-city transfer-in */
    fact *v = NULL;
    size_t n = 0, cap = 0;
    bool counts = false;
    hpf_policy pol;
    hpf_continuity_month *in = NULL;
    size_t skip = 0;
    *months = 0;
    hpf_day_fmt(date, as_of);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT m.wage, m.opened_on, e.account_no FROM member m"
                            " JOIN employer e ON e.id = m.employer_id WHERE m.id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        wage = hpf_stmt_i64(st, 0);
        first = hpf_month_of(svc_day(hpf_stmt_text(st, 1)));
        COPY(emp_acct, hpf_stmt_text(st, 2));
    }
    hpf_stmt_reset(st);
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "no member %lld", (long long)member_id);
    if (rc < 0 || (rc = svc_load_employer(db, emp_acct, &emp, err)) < 0)
        return rc;
    /* What was posted for each month by the evaluation date (reversals net out). */
    rc = hpf_db_prepare(db, &st,
                        "SELECT period, SUM(amount),"
                        " SUM(CASE WHEN kind = '01' AND reversal_of IS NULL THEN amount ELSE 0 END)"
                        " FROM posting WHERE member_id = ? AND kind IN ('01', '02')"
                        " AND period IS NOT NULL AND biz_date <= ? GROUP BY period ORDER BY period",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_text(st, 2, date);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        hpf_month p = (hpf_month)hpf_stmt_i64(st, 0);
        if (!hpf_month_valid(p))
            continue;
        fact *f = find_or_add(&v, &n, &cap, p);
        f->m.paid = hpf_stmt_i64(st, 1);
        f->remitted = hpf_stmt_i64(st, 2);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    /* Owed months of deferrals granted by then; owed until made up on or before as_of. */
    rc = hpf_db_prepare(db, &st,
                        "SELECT o.period, o.amount, COALESCE(o.made_up_on, '') FROM owed_month o"
                        " JOIN deferral d ON d.id = o.deferral_id"
                        " WHERE o.member_id = ? AND d.granted_on <= ? ORDER BY o.period",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_text(st, 2, date);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        hpf_month p = (hpf_month)hpf_stmt_i64(st, 0);
        if (!hpf_month_valid(p))
            continue;
        const char *made_up = hpf_stmt_text(st, 2);
        fact *f = find_or_add(&v, &n, &cap, p);
        f->owed = hpf_stmt_i64(st, 1);
        f->m.deferred = !made_up[0] || strcmp(made_up, date) > 0;
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    if (n) /* qsort wants a non-null array even for no elements */
        qsort(v, n, sizeof *v, cmp_fact);
    /* The required amount: the month's own 汇缴 was checked against it when posted; an owed
     * month's was fixed at the grant; otherwise (back-paid months) computed as a back-payment
     * computes it. */
    for (size_t i = 0; i < n; i++) {
        fact *f = &v[i];
        if (f->remitted > 0) {
            f->m.required = f->remitted;
        } else if (f->owed >= 0) {
            f->m.required = f->owed;
        } else if (f->m.paid > 0) {
            hpf_contrib c;
            rc = svc_month_amount(db, &emp, member_id, wage, f->m.period, &c, err);
            if (rc == HPF_ENOTFOUND) { /* no policy that early: what was paid is the month */
                c.total = f->m.paid;
                rc = 0;
            }
            if (rc < 0)
                goto done;
            f->m.required = c.total;
        }
    }
    /* The flag of the policy in force (none before the first version: nothing counts). */
    rc = hpf_policy_at(db, as_of, &pol, err);
    if (rc == HPF_ENOTFOUND) {
        hpf_err_clear(err);
        rc = 0;
    } else if (rc == 0) {
        counts = pol.deferral_counts_as_continuous;
    }
    if (rc < 0)
        goto done;
    /* The latest months only (the counter stops at the first gap anyway). */
    skip = n > HPF_CONTINUITY_MAX_MONTHS ? n - HPF_CONTINUITY_MAX_MONTHS : 0;
    in = hpf_xcalloc(n - skip ? n - skip : 1, sizeof *in);
    for (size_t i = skip; i < n; i++)
        in[i - skip] = v[i].m;
    /* Months brought by a cross-city transfer-in (RULES 1.3): the 6 before its 缴至年月 when
     * the sending centre's BDC905 said they were continuous (SixMconFlag 1), from the latest
     * completed transfer-in posted by the evaluation date. */
    if ((rc = hpf_db_prepare(db, &st,
                             "SELECT six_mcon FROM city_transfer WHERE member_id = ?"
                             " AND direction = 'in' AND state = '00' AND voucher_id IS NOT NULL"
                             " AND EXISTS (SELECT 1 FROM voucher v WHERE v.id = voucher_id"
                             " AND v.biz_date <= ?) ORDER BY id DESC LIMIT 1",
                             err)) < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_text(st, 2, hpf_day_fmt(date, as_of));
    rc = hpf_stmt_step(st, err);
    if (rc == 1 && hpf_stmt_i64(st, 0) == 1)
        imported = 6;
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    rc = hpf_continuity_count(in, n - skip, hpf_month_of(as_of), first, counts, imported, months,
                              err);
    if (rc == HPF_EINVAL) /* the facts read here were refused: stored data, not the caller's */
        err->code = rc = HPF_EINTERNAL;
done:
    free(in);
    free(v);
    return rc < 0 ? rc : 0;
}

int hpf_member_continuity(hpf_svc *svc, int64_t member_id, hpf_day as_of, int *months, hpf_err *err)
{
    hpf_db *db;
    int rc = svc_conn(svc, &db, err);
    return rc < 0 ? rc : hpf_member_continuity_db(db, member_id, as_of, months, err);
}
