/* Unit tests for ledger/ledger: voucher templates (RULES 5.3) expanded from named amounts, pure
 * and from the template rows of schema 10, and the voucher writer's chart check. */
#include "base/err.h"
#include "base/log.h"
#include "ledger/chart.h"
#include "ledger/ledger.h"
#include "store/db.h"
#include "store/migrate.h"

#include "tmpstore.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- pure expansion ---- */

static const hpf_tline remit[] = {{'D', "101", "deposit"}, {'C', "201", "deposit"}};
static const hpf_tline closing[] = {{'D', "201", "principal"},
                                    {'D', "211", "interest_accrued"},
                                    {'D', "41101", "interest_unaccrued"},
                                    {'C', "101", "paid"}};

Test(template, remittance_gives_the_two_lines_of_J1)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_vline out[4];
    size_t n;
    const hpf_amount a[] = {{"deposit", 52300}};
    cr_assert_eq(hpf_ledger_template_expand("001", remit, 2, a, 1, out, &n, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(out[0].subject, "101");
    cr_assert_eq(out[0].debit, 52300);
    cr_assert_eq(out[0].credit, 0);
    cr_assert_str_eq(out[1].subject, "201");
    cr_assert_eq(out[1].debit, 0);
    cr_assert_eq(out[1].credit, 52300);
}

Test(template, closing_withdrawal_takes_each_amount_on_its_line)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_vline out[4];
    size_t n;
    const hpf_amount a[] = {{"paid", 1025000},
                            {"principal", 1000000},
                            {"interest_accrued", 20000},
                            {"interest_unaccrued", 5000}};
    cr_assert_eq(hpf_ledger_template_expand("008", closing, 4, a, 4, out, &n, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(n, 4);
    cr_assert_eq(out[1].debit, 20000);
    cr_assert_str_eq(out[2].subject, "41101");
    cr_assert_eq(out[2].debit, 5000);
    cr_assert_eq(out[3].credit, 1025000);
}

Test(template, a_zero_amount_leaves_its_line_out)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_vline out[4];
    size_t n;
    const hpf_amount a[] = {{"principal", 1000000},
                            {"interest_accrued", 0},
                            {"interest_unaccrued", 3000},
                            {"paid", 1003000}};
    cr_assert_eq(hpf_ledger_template_expand("008", closing, 4, a, 4, out, &n, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(out[0].subject, "201");
    cr_assert_str_eq(out[1].subject, "41101");
    cr_assert_str_eq(out[2].subject, "101");
}

static void refused(const hpf_tline *tl, size_t ntl, const hpf_amount *a, size_t na,
                    const char *says)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_vline out[4];
    size_t n = 99;
    cr_assert_eq(hpf_ledger_template_expand("008", tl, ntl, a, na, out, &n, &err), HPF_EINTERNAL);
    cr_assert_str_eq(err.rule, "ledger.template_amounts");
    cr_assert(strstr(err.msg, "template 008") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, says) != NULL, "'%s' does not say '%s'", err.msg, says);
}

Test(template, amounts_that_do_not_balance_are_refused)
{
    const hpf_amount a[] = {{"principal", 1000000},
                            {"interest_accrued", 20000},
                            {"interest_unaccrued", 5000},
                            {"paid", 1000000}};
    refused(closing, 4, a, 4, "debits 10250.00 != credits 10000.00");
}

Test(template, a_missing_amount_is_named)
{
    const hpf_amount a[] = {{"principal", 1000000}, {"paid", 1000000}};
    refused(closing, 4, a, 2, "amount interest_accrued is not given");
}

Test(template, an_amount_the_template_does_not_use_is_named)
{
    const hpf_amount a[] = {{"deposit", 100}, {"fee", 1}};
    refused(remit, 2, a, 2, "amount fee is not used");
}

Test(template, negative_repeated_or_all_zero_amounts_are_refused)
{
    const hpf_amount neg[] = {{"deposit", -100}};
    refused(remit, 2, neg, 1, "amount deposit out of range");
    const hpf_amount twice[] = {{"deposit", 100}, {"deposit", 100}};
    refused(remit, 2, twice, 2, "amount deposit given twice");
    const hpf_amount zero[] = {{"deposit", 0}};
    refused(remit, 2, zero, 1, "no line is left");
}

/* ---- the template rows of schema 10 and the voucher writer ---- */

static tmp_store ts;
static hpf_store *store;
static hpf_db *db;

static void setup(void)
{
    hpf_err err = HPF_ERR_INIT;
    tmp_store_open(&ts, "ledger");
    store = ts.store;
    db = ts.db;
    cr_assert_eq(hpf_chart_ensure_baseline(db, NULL, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    tmp_store_close(&ts);
    store = NULL;
    db = NULL;
}

/* The lines of template `code` as "D101,C201" for the catalogue of RULES 5.3. */
static void shape(const char *code, char *out, size_t n)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_tline tl[HPF_TEMPLATE_MAX_LINES];
    size_t ntl;
    cr_assert_eq(hpf_ledger_template_lines(db, code, tl, &ntl, &err), 0, "%s", err.msg);
    out[0] = 0;
    for (size_t i = 0; i < ntl; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%c%s", i ? "," : "", tl[i].side,
                 tl[i].subject);
}

Test(template_rows, the_core_entries_J1_to_J8_are_rows, .init = setup, .fini = teardown)
{
    static const char *const want[][2] = {
        {"001", "D101,C201"},             /* J1 汇补缴 */
        {"007", "D201,C101"},             /* J2 部分提取 */
        {"008", "D201,D211,D41101,C101"}, /* J3 销户提取 */
        {"010", "D201,C40105"},           /* J4 死亡无继承人销户 */
        {"017", "D41101,C211"},           /* J5 计提公积金利息 */
        {"018", "D211,D41101,C201"},      /* J6 结算公积金利息 */
        {"011", "D201,D211,D41101,C101"}, /* J7 外部转出 */
        {"046", "D101,C201"},             /* J8 外部转入 */
        {"003", "D101,C219"},             /* J1' 收到暂收 */
        {"047", "D219,C201"},             /* J1' 暂收分摊 */
    };
    char got[128];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        shape(want[i][0], got, sizeof got);
        cr_assert_str_eq(got, want[i][1], "template %s", want[i][0]);
    }
    hpf_err err = HPF_ERR_INIT;
    hpf_tline tl[HPF_TEMPLATE_MAX_LINES];
    size_t ntl;
    cr_assert_eq(hpf_ledger_template_lines(db, "999", tl, &ntl, &err), HPF_EINTERNAL);
    cr_assert_str_eq(err.rule, "ledger.template_unknown");
}

Test(template_rows, a_voucher_from_a_template_is_written_as_its_lines, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t id;
    char no[24];
    const hpf_amount a[] = {
        {"interest_accrued", 1200}, {"interest_unaccrued", 34}, {"interest", 1234}};
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_ledger_voucher_from(db, &id, no, hpf_day_from_ymd(2026, 6, 30), "018",
                                         "结算公积金利息", a, 3, &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(no, "V20260630000001");
    hpf_stmt *st;
    cr_assert_eq(hpf_db_prepare(db, &st,
                                "SELECT group_concat(line_no || subject || ':' || debit || ':' ||"
                                " credit, ' ') FROM voucher_line WHERE voucher_id = ?",
                                &err),
                 0, "%s", err.msg);
    hpf_stmt_bind_i64(st, 1, id);
    cr_assert_eq(hpf_stmt_step(st, &err), 1);
    cr_assert_str_eq(hpf_stmt_text(st, 0), "1211:1200:0 241101:34:0 3201:0:1234");
    hpf_stmt_reset(st);
    hpf_db_rollback(db);
}

Test(template_rows, a_voucher_before_any_chart_is_refused, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t id;
    char no[24];
    const hpf_amount a[] = {{"deposit", 100}};
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_ledger_voucher_from(db, &id, no, hpf_day_from_ymd(1998, 12, 31), "001", "x", a,
                                         1, &err),
                 HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "ledger.subject_not_in_chart");
    cr_assert(strstr(err.msg, "1998-12-31") != NULL, "%s", err.msg);
    hpf_db_rollback(db);
}

Test(template_rows, a_line_outside_the_chart_in_force_is_named, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t id;
    char no[24];
    const hpf_vline bad[] = {{.subject = "101", .debit = 100}, {.subject = "9999", .credit = 100}};
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(
        hpf_ledger_voucher(db, &id, no, hpf_day_from_ymd(2026, 6, 30), "099", "x", bad, 2, &err),
        HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "ledger.subject_not_in_chart");
    cr_assert(strstr(err.msg, "subject 9999 is not in the chart"), "%s", err.msg);
    hpf_db_rollback(db);
}

Test(template_rows, a_subject_on_several_lines_is_one_code_to_check, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_stmt *st;
    int64_t id;
    char no[24];
    const hpf_vline lines[] = {{.subject = "101", .debit = 60},
                               {.subject = "101", .debit = 40},
                               {.subject = "201", .credit = 100}};
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(
        hpf_ledger_voucher(db, &id, no, hpf_day_from_ymd(2026, 6, 30), "099", "x", lines, 3, &err),
        0, "%s", err.msg);
    cr_assert_eq(
        hpf_db_prepare(db, &st,
                       "SELECT group_concat(line_no || ':' || subject || ':' || debit || ':'"
                       " || credit, ' ') FROM (SELECT * FROM voucher_line"
                       " WHERE voucher_id = ? ORDER BY line_no)",
                       &err),
        0, "%s", err.msg);
    hpf_stmt_bind_i64(st, 1, id);
    cr_assert_eq(hpf_stmt_step(st, &err), 1);
    cr_assert_str_eq(hpf_stmt_text(st, 0), "1:101:60:0 2:101:40:0 3:201:0:100");
    hpf_stmt_reset(st);
    hpf_db_rollback(db);
}

/* ---- member and employer sub-ledgers, moves and reversal ---- */

static int64_t q(const char *sql)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t v = -1;
    cr_assert_eq(hpf_db_query_i64(db, &v, sql, &err), 0, "%s: %s", sql, err.msg);
    return v;
}

/* Two employers; members 1 and 2 at employer 1. */
static void people(void)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(
        hpf_db_exec(db,
                    "INSERT INTO employer (id, account_no, name, uscc, unit_ratio_bp,"
                    " indiv_ratio_bp, opened_on) VALUES"
                    " (1, 'E1', 'one', 'U1', 1200, 1200, '2026-01-01'),"
                    " (2, 'E2', 'two', 'U2', 1200, 1200, '2026-01-01');"
                    "INSERT INTO member (id, account_no, employer_id, name, wage, opened_on)"
                    " VALUES (1, 'M1', 1, 'a', 100000, '2026-01-01'),"
                    " (2, 'M2', 1, 'b', 100000, '2026-01-01');"
                    "INSERT INTO member_balance (member_id) VALUES (1), (2);",
                    &err),
        0, "%s", err.msg);
}

/* A deposit voucher of template 001 with one posting per member. */
static void deposit(const char *date, const hpf_fen amounts[2], char no[24])
{
    hpf_err err = HPF_ERR_INIT;
    hpf_day day;
    int64_t id;
    cr_assert_eq(hpf_day_parse(&day, date), 0);
    const hpf_amount a[] = {{"deposit", amounts[0] + amounts[1]}};
    cr_assert_eq(hpf_ledger_voucher_from(db, &id, no, day, "001", "汇缴", a, 1, &err), 0, "%s",
                 err.msg);
    for (int m = 0; m < 2; m++) {
        hpf_posting_in p = {.member_id = m + 1,
                            .biz_date = day,
                            .kind = "01",
                            .unit_amount = amounts[m] / 2,
                            .indiv_amount = amounts[m] - amounts[m] / 2,
                            .amount = amounts[m],
                            .voucher_id = id};
        cr_assert_eq(hpf_ledger_post_member(db, &p, NULL, &err), 0, "%s", err.msg);
    }
}

Test(subledgers, postings_move_the_employer_balance_moves_and_reversals_follow, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    char v1[24], v2[24];
    people();
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    deposit("2026-03-15", (const hpf_fen[]){30000, 20000}, v1);
    deposit("2026-04-15", (const hpf_fen[]){1000, 2000}, v2);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 1"), 53000);
    cr_assert_eq(q("SELECT count(*) FROM employer_balance WHERE employer_id = 2"), 0);

    /* Member 2 moves to employer 2: the balance goes with it. */
    cr_assert_eq(hpf_db_exec(db, "UPDATE member SET employer_id = 2 WHERE id = 2", &err), 0);
    cr_assert_eq(hpf_ledger_move_member(db, 2, 1, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 1"), 31000);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 2"), 22000);

    /* More than the balance: refused, and nothing moved. */
    hpf_posting_in out = {.member_id = 1,
                          .biz_date = hpf_day_from_ymd(2026, 5, 1),
                          .kind = "02",
                          .amount = -31001,
                          .voucher_id = 1};
    cr_assert_eq(hpf_ledger_post_member(db, &out, NULL, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "ledger.balance_negative");
    cr_assert_eq(q("SELECT balance FROM member_balance WHERE member_id = 1"), 31000);

    /* The reversal of the first deposit takes each member's share back, from the employer the
     * member belongs to now. */
    hpf_reversal r;
    cr_assert_eq(hpf_ledger_reverse(db, v1, hpf_day_from_ymd(2026, 5, 2), "错缴", &r, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(r.postings, 2);
    cr_assert_eq(r.amount, 50000);
    cr_assert_str_eq(r.original_no, v1);
    cr_assert_eq(q("SELECT balance FROM member_balance WHERE member_id = 1"), 1000);
    cr_assert_eq(q("SELECT balance FROM member_balance WHERE member_id = 2"), 2000);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 1"), 1000);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 2"), 2000);
    cr_assert_eq(q("SELECT count(*) FROM posting WHERE reversal_of IS NOT NULL AND"
                   " amount = -(SELECT amount FROM posting o WHERE o.id = posting.reversal_of)"),
                 2);
    cr_assert_eq(q("SELECT count(*) FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id"
                   " WHERE v.reversal_of = 1 AND ((l.line_no = 1 AND l.subject = '101'"
                   " AND l.credit = 50000) OR (l.line_no = 2 AND l.subject = '201'"
                   " AND l.debit = 50000))"),
                 2);

    /* Not twice, not a reversal's reversal, not before the original. */
    hpf_reversal again;
    cr_assert_eq(hpf_ledger_reverse(db, v1, hpf_day_from_ymd(2026, 5, 2), NULL, &again, &err),
                 HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "ledger.already_reversed");
    cr_assert_eq(
        hpf_ledger_reverse(db, r.voucher_no, hpf_day_from_ymd(2026, 5, 2), NULL, &again, &err),
        HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "ledger.reversal_of_reversal");
    cr_assert_eq(hpf_ledger_reverse(db, v2, hpf_day_from_ymd(2026, 4, 14), NULL, &again, &err),
                 HPF_EUNPROC);
    cr_assert_str_eq(err.rule, "ledger.reversal_date");
    cr_assert_eq(
        hpf_ledger_reverse(db, "V20260101999999", hpf_day_from_ymd(2026, 5, 2), NULL, &again, &err),
        HPF_ENOTFOUND);
    cr_assert_str_eq(err.rule, "ledger.voucher_unknown");
    hpf_db_rollback(db);
}
