/* Unit tests for ledger/interest: the interest accumulator kept on the member row by every
 * posting, the annual settlement batch, the closing interest (I-8), and the verifier's
 * recomputation, against the worked examples of RULES 2.3 and against the segment formula of
 * domain/interest.c over random postings. */
#include "base/err.h"
#include "base/rand.h"
#include "ledger/chart.h"
#include "ledger/interest.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/db.h"

#include "tmpstore.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

static tmp_store ts;
static hpf_db *db;

static int64_t q(const char *sql)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t v = -1;
    cr_assert_eq(hpf_db_query_i64(db, &v, sql, &err), 0, "%s: %s", sql, err.msg);
    return v;
}

static void exec(const char *sql)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_db_exec(db, sql, &err), 0, "%s: %s", sql, err.msg);
}

static void setup(void)
{
    hpf_err err = HPF_ERR_INIT;
    tmp_store_open(&ts, "linterest");
    db = ts.db;
    cr_assert_eq(hpf_chart_ensure_baseline(db, NULL, &err), 0, "%s", err.msg);
    exec("INSERT INTO employer (id, account_no, name, uscc, unit_ratio_bp, indiv_ratio_bp,"
         " opened_on) VALUES (1, 'E1', 'one', 'U1', 1200, 1200, '2020-01-01');"
         "INSERT INTO member (id, account_no, employer_id, name, wage, opened_on) VALUES"
         " (1, 'M1', 1, 'a', 100000, '2020-01-01'), (2, 'M2', 1, 'b', 100000, '2020-01-01');"
         /* Balance rows without an interest state: started from the postings when touched. */
         "INSERT INTO member_balance (member_id) VALUES (1), (2);");
}

static void teardown(void)
{
    tmp_store_close(&ts);
    db = NULL;
}

static hpf_day day_of(const char *s)
{
    hpf_day d;
    cr_assert_eq(hpf_day_parse(&d, s), 0, "%s", s);
    return d;
}

/* A deposit (template 001) or a partial withdrawal (007) of one member on `date`, with a
 * voucher_link as its business record, so that `hpf verify` finds nothing orphaned. */
static int post(int64_t member, const char *date, hpf_fen amount, hpf_err *err)
{
    int64_t vid;
    char no[24];
    const hpf_amount dep[] = {{"deposit", amount}}, wd[] = {{"withdrawal", -amount}};
    int rc = hpf_ledger_voucher_from(db, &vid, no, day_of(date), amount > 0 ? "001" : "007", "test",
                                     amount > 0 ? dep : wd, 1, err);
    if (rc < 0)
        return rc;
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO voucher_link (voucher_id, business, ref_table, ref_id) VALUES (%lld,"
             " 'test', 'test', %lld)",
             (long long)vid, (long long)vid);
    if ((rc = hpf_db_exec(db, sql, err)) < 0)
        return rc;
    hpf_posting_in p = {.member_id = member,
                        .biz_date = day_of(date),
                        .kind = amount > 0 ? "01" : "11",
                        .amount = amount,
                        .voucher_id = vid};
    return hpf_ledger_post_member(db, &p, NULL, err);
}

static void ok_post(int64_t member, const char *date, hpf_fen amount)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(post(member, date, amount, &err), 0, "%s %lld: %s", date, (long long)amount,
                 err.msg);
}

/* RULES 2.3-A: 20,000 held from 1 July (the same 积数 as an opening balance), 1,000 on the
 * 15th of each month, 5,000 withdrawn on 2022-03-10. */
static void example_a(int64_t member, bool with_withdrawal)
{
    ok_post(member, "2021-07-01", 2000000);
    for (int i = 0; i < 12; i++) {
        char d[11];
        int y = i < 6 ? 2021 : 2022, m = (i + 6) % 12 + 1;
        snprintf(d, sizeof d, "%04d-%02d-15", y, m);
        if (with_withdrawal && y == 2022 && m == 3)
            ok_post(member, "2022-03-10", -500000);
        ok_post(member, d, 100000);
    }
}

static void verify_ok(void)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_ledger_verify(db, NULL, &err), 0, "%s", err.msg);
}

static hpf_ledger_settled settle(int32_t year, int limit)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_ledger_rates r;
    hpf_ledger_settled out;
    cr_assert_eq(hpf_ledger_rates_load(db, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_ledger_settle_batch(db, year, &r, 0, limit, &out, &err), 0, "%s", err.msg);
    if (out.voucher_id) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "INSERT INTO interest_run (year, day_basis, accounts, interest) VALUES (%d, 360,"
                 " %lld, %lld) ON CONFLICT (year) DO UPDATE SET interest = interest + %lld",
                 (int)year, (long long)out.postings, (long long)out.interest,
                 (long long)out.interest);
        exec(sql);
    }
    return out;
}

Test(settlement, example_2_3_A_posts_372_13_on_30_june_and_opens_the_next_year, .init = setup,
     .fini = teardown)
{
    example_a(1, true);
    cr_assert_eq(q("SELECT int_jishu + balance * (julianday('2022-06-30') - julianday(int_as_of)"
                   " + 1) FROM member_balance WHERE member_id = 1"),
                 893100000, "积数 8,931,000.00 yuan·days");
    hpf_ledger_settled s = settle(2022, 100);
    cr_assert_eq(s.postings, 1); /* member 2 has nothing: read, no posting */
    cr_assert_eq(s.accounts, 2);
    cr_assert_eq(s.interest, 37213);
    cr_assert_eq(q("SELECT amount FROM posting WHERE kind = '09' AND period = 2022"), 37213);
    cr_assert_eq(q("SELECT count(*) FROM posting WHERE kind = '09' AND biz_date = '2022-06-30'"),
                 1);
    cr_assert_eq(q("SELECT balance FROM member_balance WHERE member_id = 1"), 2737213);
    cr_assert_eq(q("SELECT int_opening FROM member_balance WHERE member_id = 1"), 2737213,
                 "上年结转 (I-6)");
    cr_assert_eq(q("SELECT int_year FROM member_balance WHERE member_id = 1"), 2023);
    cr_assert_eq(q("SELECT int_jishu FROM member_balance WHERE member_id = 1"), 0);
    cr_assert_eq(q("SELECT balance FROM employer_balance WHERE employer_id = 1"), 2737213);
    verify_ok();

    /* Idempotent per (account, year): nothing is left to settle. */
    hpf_ledger_settled again = settle(2022, 100);
    cr_assert_eq(again.postings, 0);
    cr_assert_eq(again.interest, 0);
    cr_assert_eq(q("SELECT count(*) FROM posting WHERE kind = '09'"), 1);
}

Test(settlement, the_day_basis_is_the_policy_s_365_gives_367_03, .init = setup, .fini = teardown)
{
    exec("UPDATE policy_version SET day_basis = 365");
    example_a(1, true);
    cr_assert_eq(settle(2022, 100).interest, 36703);
}

Test(settlement, a_posting_of_july_before_the_settlement_closes_the_year_as_it_stood, .init = setup,
     .fini = teardown)
{
    example_a(1, true);
    ok_post(1, "2022-07-15", 100000); /* 30 June has passed, the job has not run */
    cr_assert_eq(q("SELECT int_due_year FROM member_balance WHERE member_id = 1"), 2022);
    cr_assert_eq(q("SELECT int_year FROM member_balance WHERE member_id = 1"), 2023);
    verify_ok();
    hpf_ledger_settled s = settle(2022, 100);
    cr_assert_eq(s.interest, 37213, "the July posting is not in the year it closes");
    cr_assert_eq(q("SELECT count(*) FROM member_balance WHERE int_due_year IS NOT NULL"), 0);
    cr_assert_eq(q("SELECT int_opening FROM member_balance WHERE member_id = 1"), 2737213);
    /* The interest counts in the new year from 1 July, before the July posting. */
    cr_assert_eq(q("SELECT int_jishu FROM member_balance WHERE member_id = 1"), 2737213LL * 14);
    verify_ok();
    /* A posting two years on, with 2023 unsettled: refused, naming the year to settle. */
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(post(1, "2024-07-02", 100, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "interest.year_unsettled");
    cr_assert(strstr(err.msg, "--year 2023"), "%s", err.msg);
}

Test(closing, example_2_3_B_closing_on_20_january_earns_197_42, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_interest_result r;
    /* 20,000 from 1 July and the 7 deposits up to January. */
    exec("INSERT INTO member (id, account_no, employer_id, name, wage, opened_on) VALUES"
         " (3, 'M3', 1, 'c', 100000, '2020-01-01');"
         "INSERT INTO member_balance (member_id) VALUES (3)");
    ok_post(3, "2021-07-01", 2000000);
    for (int m = 7; m <= 13; m++) {
        char d[11];
        snprintf(d, sizeof d, "%04d-%02d-15", m <= 12 ? 2021 : 2022, m <= 12 ? m : 1);
        ok_post(3, d, 100000);
    }
    cr_assert_eq(hpf_ledger_closing_interest(db, 3, day_of("2022-01-20"), &r, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(r.jishu, 473800000, "积数 4,738,000.00");
    cr_assert_eq(r.interest, 19742);
    cr_assert_eq(r.balance, 2700000);
    cr_assert_eq(r.closing, 2719742);
    /* Before the latest posting: refused. */
    cr_assert_eq(hpf_ledger_closing_interest(db, 3, day_of("2022-01-10"), &r, &err), HPF_ECONFLICT);
}

Test(verify, a_forged_interest_state_is_named, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    example_a(1, true);
    verify_ok();
    exec("UPDATE member_balance SET int_rate_jishu = int_rate_jishu + 1 WHERE member_id = 1");
    cr_assert_eq(hpf_ledger_verify(db, NULL, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "member.interest_state");
    cr_assert(strstr(err.msg, "member M1 (id 1) int_rate_jishu"), "%s", err.msg);
}

Test(verify, a_member_without_its_balance_row_is_named, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    verify_ok();
    exec("DELETE FROM member_balance WHERE member_id = 2");
    cr_assert_eq(hpf_ledger_verify(db, NULL, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "member.balance_row", "%s", err.msg);
    cr_assert(strstr(err.msg, "member M2 (id 2) has no balance row"), "%s", err.msg);
}

Test(verify, a_forged_interest_posting_is_named, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    example_a(1, true);
    settle(2022, 100);
    verify_ok();
    exec("DROP TRIGGER posting_immutable_u");
    exec("UPDATE posting SET amount = amount + 1, balance_after = balance_after + 1"
         " WHERE kind = '09'");
    exec("UPDATE member_balance SET balance = balance + 1, int_opening = int_opening + 1"
         " WHERE member_id = 1");
    exec("UPDATE employer_balance SET balance = balance + 1");
    cr_assert_eq(hpf_ledger_verify(db, NULL, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "interest.run_matches_postings", "%s", err.msg);
    cr_assert(strstr(err.msg, "interest_run 2022 records 372.13"), "%s", err.msg);
}

/* Random deposits and withdrawals over a year, on one fresh account per round: the
 * settled interest equals the segment formula over the same postings, the state equals the
 * verifier's recomputation. */
Test(settlement, random_postings_settle_as_the_segment_formula_says, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    uint64_t seed = 0x5eed1234abcdULL;
    for (int round = 0; round < 20; round++) {
        char sql[256];
        int64_t id = 100 + round;
        snprintf(sql, sizeof sql,
                 "INSERT INTO member (id, account_no, employer_id, name, wage, opened_on) VALUES"
                 " (%lld, 'R%lld', 1, 'r', 100000, '2020-01-01');"
                 "INSERT INTO member_balance (member_id) VALUES (%lld)",
                 (long long)id, (long long)id, (long long)id);
        exec(sql);
        hpf_interest_posting ps[40];
        size_t n = 0;
        hpf_fen bal = 0;
        hpf_day first = hpf_interest_year_first(2022);
        hpf_day last_day = first;
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            hpf_day d = last_day + (hpf_day)((seed >> 33) % 12);
            if (d > hpf_interest_year_last(2022))
                break;
            hpf_fen amt = (hpf_fen)((seed >> 20) % 500000) + 1;
            if ((seed & 3) == 0 && bal > amt)
                amt = -amt;
            char date[11];
            ok_post(id, hpf_day_fmt(date, d), amt);
            bal += amt;
            ps[n++] = (hpf_interest_posting){d, amt};
            last_day = d;
        }
        hpf_ledger_rates r;
        cr_assert_eq(hpf_ledger_rates_load(db, &r, &err), 0);
        hpf_interest_schedule s = hpf_ledger_rates_schedule(&r);
        hpf_interest_basis b = hpf_ledger_rates_basis(&r, hpf_interest_year_last(2022));
        hpf_interest_result want;
        cr_assert_eq(hpf_interest_compute(&want, 0, first, hpf_interest_year_last(2022), ps, n, &s,
                                          &b, &err),
                     0, "%s", err.msg);
        hpf_ledger_settled got;
        exec("UPDATE member SET state = '05' WHERE id <> 0");
        snprintf(sql, sizeof sql, "UPDATE member SET state = '01' WHERE id = %lld", (long long)id);
        exec(sql);
        cr_assert_eq(hpf_ledger_settle_batch(db, 2022, &r, 0, 10, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(got.interest, want.interest, "round %d: %lld != %lld", round,
                     (long long)got.interest, (long long)want.interest);
    }
}
