#include "ledger/verify.h"

#include "base/money.h"

#include <stdio.h>

/* Run a query whose first row, if any, is a violation; `describe` formats it. */
typedef void (*describe_fn)(hpf_stmt *st, char *out, size_t n);

static int first_violation(hpf_db *db, const char *check, const char *sql, describe_fn describe,
                           hpf_err *err)
{
    hpf_stmt *st;
    char what[256];
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        describe(st, what, sizeof what);
        rc = hpf_err_field(err, HPF_ECONFLICT, "", check, "%s: %s", check, what);
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static void d_unbalanced(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24];
    snprintf(out, n, "voucher %s (id %lld) debits %s != credits %s", hpf_stmt_text(st, 1),
             (long long)hpf_stmt_i64(st, 0), hpf_money_fmt(a, hpf_stmt_i64(st, 2)),
             hpf_money_fmt(b, hpf_stmt_i64(st, 3)));
}

static void d_member_sum(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24];
    snprintf(out, n, "member %s (id %lld) balance %s != sum of postings %s", hpf_stmt_text(st, 1),
             (long long)hpf_stmt_i64(st, 0), hpf_money_fmt(a, hpf_stmt_i64(st, 2)),
             hpf_money_fmt(b, hpf_stmt_i64(st, 3)));
}

static void d_running(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24];
    snprintf(out, n, "posting id %lld of member id %lld: balance_after %s != running sum %s",
             (long long)hpf_stmt_i64(st, 0), (long long)hpf_stmt_i64(st, 1),
             hpf_money_fmt(a, hpf_stmt_i64(st, 2)), hpf_money_fmt(b, hpf_stmt_i64(st, 3)));
}

static void d_negative(hpf_stmt *st, char *out, size_t n)
{
    char a[24];
    snprintf(out, n, "member %s (id %lld) has negative balance %s", hpf_stmt_text(st, 1),
             (long long)hpf_stmt_i64(st, 0), hpf_money_fmt(a, hpf_stmt_i64(st, 2)));
}

static void d_control(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24];
    snprintf(out, n, "account 201 balance %s != member sub-ledger %s",
             hpf_money_fmt(a, hpf_stmt_i64(st, 0)), hpf_money_fmt(b, hpf_stmt_i64(st, 1)));
}

static void d_identity(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24];
    snprintf(out, n, "assets+expenses %s != liabilities+equity+income %s",
             hpf_money_fmt(a, hpf_stmt_i64(st, 0)), hpf_money_fmt(b, hpf_stmt_i64(st, 1)));
}

static void d_remit(hpf_stmt *st, char *out, size_t n)
{
    char a[24], b[24], c[24];
    snprintf(out, n,
             "remittance %s (id %lld) total %s, voucher debit 101 %s, postings %s (%lld of %lld "
             "members)",
             hpf_stmt_text(st, 1), (long long)hpf_stmt_i64(st, 0),
             hpf_money_fmt(a, hpf_stmt_i64(st, 2)), hpf_money_fmt(b, hpf_stmt_i64(st, 3)),
             hpf_money_fmt(c, hpf_stmt_i64(st, 4)), (long long)hpf_stmt_i64(st, 5),
             (long long)hpf_stmt_i64(st, 6));
}

static void d_orphan(hpf_stmt *st, char *out, size_t n)
{
    snprintf(out, n, "voucher %s (id %lld, template %s) has no business record",
             hpf_stmt_text(st, 1), (long long)hpf_stmt_i64(st, 0), hpf_stmt_text(st, 2));
}

int hpf_ledger_verify(hpf_db *db, hpf_verify_counts *counts, hpf_err *err)
{
    static const struct {
        const char *check;
        const char *sql;
        describe_fn describe;
    } checks[] = {
        {"voucher.balanced",
         "SELECT v.id, v.voucher_no, COALESCE(SUM(l.debit), 0), COALESCE(SUM(l.credit), 0)"
         " FROM voucher v LEFT JOIN voucher_line l ON l.voucher_id = v.id GROUP BY v.id,"
         " v.voucher_no HAVING COALESCE(SUM(l.debit), 0) <> COALESCE(SUM(l.credit), 0)"
         " OR COUNT(l.line_no) = 0 ORDER BY v.id LIMIT 1",
         d_unbalanced},
        {"member.balance_is_sum_of_postings",
         "SELECT m.id, m.account_no, m.balance, COALESCE(SUM(p.amount), 0) FROM member m"
         " LEFT JOIN posting p ON p.member_id = m.id GROUP BY m.id, m.account_no, m.balance"
         " HAVING m.balance <> COALESCE(SUM(p.amount), 0) ORDER BY m.id LIMIT 1",
         d_member_sum},
        {"posting.running_balance",
         "SELECT id, member_id, balance_after, running FROM (SELECT id, member_id, balance_after,"
         " SUM(amount) OVER (PARTITION BY member_id ORDER BY id) AS running FROM posting) t"
         " WHERE balance_after <> running ORDER BY id LIMIT 1",
         d_running},
        {"member.non_negative",
         "SELECT id, account_no, balance FROM member WHERE balance < 0 ORDER BY id LIMIT 1",
         d_negative},
        {"ledger.control_201",
         "SELECT c, s FROM (SELECT (SELECT COALESCE(SUM(credit - debit), 0) FROM voucher_line"
         " WHERE subject = '201') AS c, (SELECT COALESCE(SUM(balance), 0) FROM member) AS s) t"
         " WHERE c <> s",
         d_control},
        {"ledger.balance_sheet_identity",
         "SELECT l, r FROM (SELECT"
         " COALESCE(SUM(CASE WHEN s.class IN ('asset', 'expense') THEN l.debit - l.credit"
         " ELSE 0 END), 0) AS l,"
         " COALESCE(SUM(CASE WHEN s.class IN ('liability', 'equity', 'income')"
         " THEN l.credit - l.debit ELSE 0 END), 0) AS r"
         " FROM voucher_line l JOIN subject s ON s.code = l.subject) t WHERE l <> r",
         d_identity},
        {"remittance.matches_voucher_and_postings",
         /* Correlated sums through the indexes on voucher_line(voucher_id) and
          * posting(remittance_id): O(postings) on both stores. A join against grouped
          * subqueries with ORDER BY ... LIMIT 1 got a nested-loop plan on PostgreSQL that
          * compared every remittance with every group (19.6 s at 100k members). */
         "SELECT id, serial, total, dr, amt, n, members FROM (SELECT r.id, r.serial, r.total,"
         " r.unit_total, r.indiv_total, r.members,"
         " (SELECT COALESCE(SUM(l.debit), 0) FROM voucher_line l WHERE l.voucher_id = r.voucher_id"
         "  AND l.subject = '101') AS dr,"
         " (SELECT COALESCE(SUM(p.amount), 0) FROM posting p WHERE p.remittance_id = r.id) AS amt,"
         " (SELECT COUNT(*) FROM posting p WHERE p.remittance_id = r.id) AS n"
         " FROM remittance r) t"
         " WHERE total <> dr OR total <> amt OR members <> n OR total <> unit_total + indiv_total"
         " ORDER BY id LIMIT 1",
         d_remit},
        {"voucher.has_business_record",
         "SELECT v.id, v.voucher_no, v.template FROM voucher v WHERE NOT EXISTS"
         " (SELECT 1 FROM remittance r WHERE r.voucher_id = v.id) ORDER BY v.id LIMIT 1",
         d_orphan},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int rc = first_violation(db, checks[i].check, checks[i].sql, checks[i].describe, err);
        if (rc < 0)
            return rc;
    }
    if (counts) {
        int rc;
        if ((rc = hpf_db_query_i64(db, &counts->vouchers, "SELECT count(*) FROM voucher", err)) <
                0 ||
            (rc = hpf_db_query_i64(db, &counts->members, "SELECT count(*) FROM member", err)) < 0 ||
            (rc = hpf_db_query_i64(db, &counts->postings, "SELECT count(*) FROM posting", err)) <
                0 ||
            (rc = hpf_db_query_i64(db, &counts->remittances, "SELECT count(*) FROM remittance",
                                   err)) < 0)
            return rc;
    }
    return 0;
}
