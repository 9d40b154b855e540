/* Unit tests for domain/interest: RULES §2 (the 积数 method), worked examples 2.3-A, 2.3-B and
 * 2.3-C, a rate change inside a year, the half-up tie, the accumulator and its invariant, and a
 * randomized agreement of the day loop, the segment formula and the accumulator. */
#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "domain/interest.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;

static hpf_day day(int y, int m, int d)
{
    return hpf_day_from_ymd(y, m, d);
}

/* I-2: 1.50% since 2016-02-21 (10^-7 units). */
static const hpf_interest_rate RATE_2016[] = {{.from = 16852 /* 2016-02-21 */, .rate = 150000}};
static const hpf_interest_schedule SCHED_2016 = {RATE_2016, 1};

static const hpf_interest_basis B360 = {.days = 360};
static const hpf_interest_basis B365 = {.days = 365};
static const hpf_interest_basis B365_LEAP = {.days = 365, .leap_366 = true};

Test(interest_setup, the_2016_step_is_2016_02_21)
{
    cr_assert_eq(RATE_2016[0].from, day(2016, 2, 21));
}

/* ---- Worked example 2.3-A: interest year 2021-07-01 .. 2022-06-30 ---- */

/* Opening 20,000.00; 1,000.00 on the 15th of each month 2021-07 .. 2022-06; 5,000.00 withdrawn
 * on 2022-03-10. Sorted by day. Returns the count. */
static size_t example_a(hpf_interest_posting p[13])
{
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        int y = i < 6 ? 2021 : 2022, m = (6 + i) % 12 + 1;
        if (y == 2022 && m == 3)
            p[n++] = (hpf_interest_posting){day(2022, 3, 10), -500000};
        p[n++] = (hpf_interest_posting){day(y, m, 15), 100000};
    }
    return n;
}

static void expect_err(const hpf_err *err, int rc, int code, const char *field, const char *rule)
{
    cr_assert_eq(rc, code, "rc %d, want %d (%s: %s)", rc, code, err->rule, err->msg);
    cr_assert_eq(err->code, code);
    cr_assert_str_eq(err->field, field);
    cr_assert_str_eq(err->rule, rule);
    cr_assert_neq(err->msg[0], '\0');
}

static hpf_interest_result compute_ok(hpf_fen opening, hpf_day from, hpf_day to,
                                      const hpf_interest_posting *p, size_t n,
                                      const hpf_interest_schedule *s, const hpf_interest_basis *b)
{
    hpf_interest_result r;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_compute(&r, opening, from, to, p, n, s, b, &err), 0, "%s", err.msg);
    return r;
}

Test(interest_example_a, segment_formula_gives_8931000_yuan_days)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    cr_assert_eq(n, 13);
    int64_t j = 0;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_jishu(&j, 2000000, day(2021, 7, 1), day(2022, 6, 30), p, n, &err), 0);
    cr_assert_eq(j, INT64_C(893100000)); /* 8,931,000.00 yuan·days */
}

Test(interest_example_a, day_loop_gives_the_same_8931000)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    int64_t j = 0;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(
        hpf_interest_jishu_daily(&j, 2000000, day(2021, 7, 1), day(2022, 6, 30), p, n, &err), 0);
    cr_assert_eq(j, INT64_C(893100000));
}

Test(interest_example_a, basis_360_gives_372_13_by_rounding_the_372_125_tie_up)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    hpf_interest_result r =
        compute_ok(2000000, day(2021, 7, 1), day(2022, 6, 30), p, n, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, INT64_C(893100000));
    cr_assert_eq(r.interest, 37213);
    cr_assert_eq(r.balance, 2700000);
    cr_assert_eq(r.closing, 2737213); /* 27,372.13 */
}

Test(interest_example_a, basis_365_gives_367_03)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    hpf_interest_result r =
        compute_ok(2000000, day(2021, 7, 1), day(2022, 6, 30), p, n, &SCHED_2016, &B365);
    cr_assert_eq(r.interest, 36703);
    cr_assert_eq(r.closing, 2736703);
    /* 2022 has no 29 February: the leap option changes nothing. */
    r = compute_ok(2000000, day(2021, 7, 1), day(2022, 6, 30), p, n, &SCHED_2016, &B365_LEAP);
    cr_assert_eq(r.interest, 36703);
}

Test(interest_example_a, the_accumulator_settles_to_27372_13_and_opens_2023_with_it)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    hpf_interest_acc acc, next;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 2000000, &err), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(hpf_interest_acc_apply(&acc, p[i].day, p[i].amount, &SCHED_2016, &err), 0,
                     "%s", err.msg);
    hpf_interest_result r;
    cr_assert_eq(hpf_interest_acc_settle(&r, &next, &acc, &SCHED_2016, &B360, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(r.jishu, INT64_C(893100000));
    cr_assert_eq(r.interest, 37213);
    cr_assert_eq(r.closing, 2737213);
    /* I-6: the new 上年结转 is the balance with the interest; the 积数 starts again. */
    cr_assert_eq(next.year, 2023);
    cr_assert_eq(next.as_of, day(2022, 7, 1));
    cr_assert_eq(next.balance, 2737213);
    cr_assert_eq(next.jishu, 0);
    cr_assert_eq(next.rate_jishu, 0);
    cr_assert_eq(next.rate_jishu_rem, 0);
    /* The state holds the days before the last posting (2022-06-15): 893,100,000 less
     * 16 x 2,700,000 = 849,900,000 fen·days, and at 1.5% exactly 12,748,500. */
    cr_assert_eq(acc.as_of, day(2022, 6, 15));
    cr_assert_eq(acc.jishu, INT64_C(849900000));
    cr_assert_eq(acc.rate_jishu, 12748500);
    cr_assert_eq(acc.rate_jishu_rem, 0);
}

/* ---- Example 2.3-B: closing withdrawal on 2022-01-20 (I-8) ---- */

Test(interest_example_b, interest_up_to_the_day_before_the_closing_is_197_42)
{
    hpf_interest_posting p[13];
    example_a(p);
    hpf_day from, to;
    cr_assert(hpf_interest_closing_period(&from, &to, day(2022, 1, 20)));
    cr_assert_eq(from, day(2021, 7, 1));
    cr_assert_eq(to, day(2022, 1, 19));
    cr_assert_eq(to - from + 1, 203);
    /* the seven deposits 2021-07-15 .. 2022-01-15 */
    hpf_interest_result r = compute_ok(2000000, from, to, p, 7, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, INT64_C(473800000)); /* 4,738,000.00 */
    cr_assert_eq(r.balance, 2700000);
    cr_assert_eq(r.interest, 19742);  /* 197.416... */
    cr_assert_eq(r.closing, 2719742); /* payout 27,197.42 */
}

Test(interest_example_b, the_accumulator_closes_with_the_same_payout)
{
    hpf_interest_posting p[13];
    example_a(p);
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 2000000, &err), 0);
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(hpf_interest_acc_apply(&acc, p[i].day, p[i].amount, &SCHED_2016, &err), 0);
    hpf_interest_result r;
    cr_assert_eq(hpf_interest_acc_close(&r, &acc, day(2022, 1, 20), &SCHED_2016, &B360, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(r.jishu, INT64_C(473800000));
    cr_assert_eq(r.interest, 19742);
    cr_assert_eq(r.closing, 2719742);
}

Test(interest_example_b, a_closing_on_1_july_has_no_period_and_no_interest)
{
    hpf_day from = 0, to = 0;
    cr_assert_not(hpf_interest_closing_period(&from, &to, day(2021, 7, 1)));
    cr_assert_eq(from, 0);
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 2000000, &err), 0);
    hpf_interest_result r;
    cr_assert_eq(hpf_interest_acc_close(&r, &acc, day(2021, 7, 1), &SCHED_2016, &B360, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(r.jishu, 0);
    cr_assert_eq(r.interest, 0);
    cr_assert_eq(r.closing, 2000000);
}

/* ---- Example 2.3-C: 10,000.00 for the whole of 2023-07-01 .. 2024-06-30 (366 days) ---- */

Test(interest_example_c, the_year_has_366_days)
{
    cr_assert_eq(hpf_interest_year_days(2024), 366);
    cr_assert_eq(hpf_interest_year_last(2024) - hpf_interest_year_first(2024) + 1, 366);
    hpf_interest_result r =
        compute_ok(1000000, day(2023, 7, 1), day(2024, 6, 30), NULL, 0, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, INT64_C(366000000));
}

Test(interest_example_c, basis_360_gives_152_50)
{
    hpf_interest_result r =
        compute_ok(1000000, day(2023, 7, 1), day(2024, 6, 30), NULL, 0, &SCHED_2016, &B360);
    cr_assert_eq(r.interest, 15250);
    cr_assert_eq(r.closing, 1015250);
}

Test(interest_example_c, basis_365_gives_150_41)
{
    hpf_interest_result r =
        compute_ok(1000000, day(2023, 7, 1), day(2024, 6, 30), NULL, 0, &SCHED_2016, &B365);
    cr_assert_eq(r.interest, 15041);
}

Test(interest_example_c, the_leap_option_makes_it_366_and_the_full_year_earns_exactly_1_5_percent)
{
    hpf_interest_result r =
        compute_ok(1000000, day(2023, 7, 1), day(2024, 6, 30), NULL, 0, &SCHED_2016, &B365_LEAP);
    cr_assert_eq(r.interest, 15000);
    hpf_interest_acc acc, next;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2024, 1000000, &err), 0);
    cr_assert_eq(hpf_interest_acc_settle(&r, &next, &acc, &SCHED_2016, &B365_LEAP, &err), 0);
    cr_assert_eq(r.interest, 15000);
    cr_assert_eq(hpf_interest_acc_settle(&r, &next, &acc, &SCHED_2016, &B365, &err), 0);
    cr_assert_eq(r.interest, 15041);
}

/*
 * The leap option across two interest years: 10,000.00 held 2024-01-01 .. 2024-12-31.
 * 2024-01-01 .. 2024-06-30 is 182 days of interest year 2024 (366 days), 2024-07-01 .. 12-31 is
 * 184 days of 2025 (365 days):
 *   1,000,000 x 182 x 0.015 / 366 + 1,000,000 x 184 x 0.015 / 365
 *   = 7459.016... + 7561.643... = 15020.66 fen -> 150.21 (one rounding);
 * without the option: 1,000,000 x 366 x 0.015 / 365 = 15041.10 -> 150.41.
 */
Test(interest_example_c, the_leap_option_splits_a_period_at_1_july)
{
    hpf_interest_result r =
        compute_ok(1000000, day(2024, 1, 1), day(2024, 12, 31), NULL, 0, &SCHED_2016, &B365_LEAP);
    cr_assert_eq(r.jishu, INT64_C(366000000));
    cr_assert_eq(r.interest, 15021);
    r = compute_ok(1000000, day(2024, 1, 1), day(2024, 12, 31), NULL, 0, &SCHED_2016, &B365);
    cr_assert_eq(r.interest, 15041);
}

/* ---- A rate change inside the year (I-9) ---- */

/*
 * Interest year 2022 (2021-07-01 .. 2022-06-30). Opening 10,000.00; 1.50% until 2021-12-31,
 * 2.00% from 2022-01-01; a deposit of 2,000.00 on 2022-04-01.
 *   segment 1, 2021-07-01 .. 12-31, 184 days (31+31+30+31+30+31):
 *     积数 = 10,000 x 184 = 1,840,000.00 yuan·days, at 1.50%
 *   segment 2, 2022-01-01 .. 06-30, 181 days (31+28+31+30+31+30):
 *     积数 = 10,000 x 181 + 2,000 x 91 (04-01 .. 06-30: 30+31+30) = 1,992,000.00, at 2.00%
 *   total 积数 3,832,000.00
 *   basis 360: (1,840,000 x 0.015 + 1,992,000 x 0.02) / 360 = (27,600 + 39,840) / 360
 *              = 67,440 / 360 = 187.333... -> 187.33
 *   basis 365: 67,440 / 365 = 184.767... -> 184.77
 * Rounding each segment on its own would give 76.67 + 110.67 = 187.34: I-5 rounds once.
 */
static const hpf_interest_rate RATE_CHANGE[] = {
    {.from = 16852 /* 2016-02-21 */, .rate = 150000},
    {.from = 18993 /* 2022-01-01 */, .rate = 200000},
};
static const hpf_interest_schedule SCHED_CHANGE = {RATE_CHANGE, 2};
static const hpf_interest_posting CHANGE_POSTING[] = {{.day = 19083 /* 2022-04-01 */, 200000}};

Test(interest_rate_change, the_constants_are_the_dates_they_say)
{
    cr_assert_eq(RATE_CHANGE[1].from, day(2022, 1, 1));
    cr_assert_eq(CHANGE_POSTING[0].day, day(2022, 4, 1));
}

Test(interest_rate_change, splits_the_jishu_at_the_change_and_rounds_once)
{
    hpf_interest_result r = compute_ok(1000000, day(2021, 7, 1), day(2022, 6, 30), CHANGE_POSTING,
                                       1, &SCHED_CHANGE, &B360);
    cr_assert_eq(r.jishu, INT64_C(383200000));
    cr_assert_eq(r.interest, 18733);
    cr_assert_eq(r.closing, 1218733);
    r = compute_ok(1000000, day(2021, 7, 1), day(2022, 6, 30), CHANGE_POSTING, 1, &SCHED_CHANGE,
                   &B365);
    cr_assert_eq(r.interest, 18477);
}

Test(interest_rate_change, the_two_parts_match_their_hand_computed_jishu)
{
    hpf_interest_result a =
        compute_ok(1000000, day(2021, 7, 1), day(2021, 12, 31), NULL, 0, &SCHED_CHANGE, &B360);
    hpf_interest_result b = compute_ok(1000000, day(2022, 1, 1), day(2022, 6, 30), CHANGE_POSTING,
                                       1, &SCHED_CHANGE, &B360);
    cr_assert_eq(a.jishu, INT64_C(184000000));
    cr_assert_eq(b.jishu, INT64_C(199200000));
    /* rounded separately they give one fen more than the once-rounded whole */
    cr_assert_eq(a.interest, 7667);
    cr_assert_eq(b.interest, 11067);
    cr_assert_eq(a.interest + b.interest, 18734);
}

Test(interest_rate_change, the_accumulator_agrees_with_a_back_dated_posting_across_the_change)
{
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 1000000, &err), 0);
    /* A deposit and its reversal on 2022-05-10 come first; then the 2022-04-01 deposit is
     * posted back-dated, and a withdrawal and its reversal back-dated to 2021-11-30, across the
     * change: the net history is the vector above. */
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2022, 5, 10), 50000, &SCHED_CHANGE, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2022, 5, 10), -50000, &SCHED_CHANGE, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2022, 4, 1), 200000, &SCHED_CHANGE, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2021, 11, 30), -100000, &SCHED_CHANGE, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2021, 11, 30), 100000, &SCHED_CHANGE, &err), 0);
    cr_assert_eq(acc.as_of, day(2022, 5, 10));
    hpf_interest_result r;
    cr_assert_eq(hpf_interest_acc_interest(&r, &acc, day(2022, 6, 30), &SCHED_CHANGE, &B360, &err),
                 0);
    cr_assert_eq(r.jishu, INT64_C(383200000));
    cr_assert_eq(r.interest, 18733);
    int64_t j;
    cr_assert_eq(hpf_interest_acc_jishu(&j, &acc, day(2021, 12, 31), &err), HPF_ECONFLICT);
    cr_assert_eq(hpf_interest_acc_jishu(&j, &acc, day(2022, 6, 30), &err), 0);
    cr_assert_eq(j, INT64_C(383200000));
}

/* ---- Rounding and signs ---- */

/* At 1.5% and basis 360 one fen·day earns 1/24000 fen: 12,000 fen·days is exactly 0.5 fen. */
Test(interest_rounding, the_half_fen_tie_rounds_up_on_the_absolute_value)
{
    hpf_day d = day(2022, 3, 1);
    cr_assert_eq(compute_ok(12000, d, d, NULL, 0, &SCHED_2016, &B360).interest, 1);
    cr_assert_eq(compute_ok(11999, d, d, NULL, 0, &SCHED_2016, &B360).interest, 0);
    cr_assert_eq(compute_ok(-12000, d, d, NULL, 0, &SCHED_2016, &B360).interest, -1);
    cr_assert_eq(compute_ok(-11999, d, d, NULL, 0, &SCHED_2016, &B360).interest, 0);
    cr_assert_eq(compute_ok(36000, d, d, NULL, 0, &SCHED_2016, &B360).interest, 2); /* 1.5 */
}

Test(interest_rounding, a_zero_balance_earns_nothing)
{
    hpf_interest_result r =
        compute_ok(0, day(2021, 7, 1), day(2022, 6, 30), NULL, 0, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, 0);
    cr_assert_eq(r.interest, 0);
    cr_assert_eq(r.closing, 0);
    /* in and out on the same day: no day ends with the money in */
    hpf_interest_posting p[] = {{day(2021, 9, 1), 500000}, {day(2021, 9, 1), -500000}};
    r = compute_ok(0, day(2021, 7, 1), day(2022, 6, 30), p, 2, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, 0);
    cr_assert_eq(r.interest, 0);
}

Test(interest_rounding, a_negative_balance_gives_negative_jishu_and_interest)
{
    /* -10,000.00 for 365 days: -3,650,000.00 yuan·days; x 1.5% / 360 = -152.083 -> -152.08 */
    hpf_interest_result r =
        compute_ok(-1000000, day(2021, 7, 1), day(2022, 6, 30), NULL, 0, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, INT64_C(-365000000));
    cr_assert_eq(r.interest, -15208);
    cr_assert_eq(r.closing, -1015208);
    /* -1,000.00 until a 3,000.00 deposit on 2022-01-01: -184,000 + 2,000 x 181 = 178,000 */
    hpf_interest_posting p[] = {{day(2022, 1, 1), 300000}};
    r = compute_ok(-100000, day(2021, 7, 1), day(2022, 6, 30), p, 1, &SCHED_2016, &B360);
    cr_assert_eq(r.jishu, INT64_C(17800000));
    cr_assert_eq(r.interest, 742); /* 178,000 x 0.015 / 360 = 7.4166 */
}

Test(interest_rounding, a_zero_rate_earns_nothing)
{
    hpf_interest_rate z[] = {{day(2000, 1, 1), 0}};
    hpf_interest_schedule s = {z, 1};
    hpf_interest_result r =
        compute_ok(1000000, day(2021, 7, 1), day(2022, 6, 30), NULL, 0, &s, &B360);
    cr_assert_eq(r.interest, 0);
    cr_assert_eq(r.jishu, INT64_C(365000000));
}

/* ---- Rates, schedule, basis, years ---- */

Test(interest_rate, parses_percent_exactly_into_10e7_units)
{
    static const struct {
        const char *s;
        int32_t want;
    } ok[] = {{"1.5", 150000}, {"1.50", 150000},  {"0.35", 35000},         {"1.10", 110000},
              {"3.1", 310000}, {"2.75", 275000},  {"3.025", 302500},       {"0", 0},
              {"0.00001", 1},  {"100", 10000000}, {"100.00000", 10000000}, {"12.34567", 1234567}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int32_t v = -1;
        cr_assert_eq(hpf_interest_rate_parse(&v, ok[i].s), 0, "%s", ok[i].s);
        cr_assert_eq(v, ok[i].want, "%s -> %d", ok[i].s, v);
    }
}

Test(interest_rate, refuses_what_is_not_a_plain_percentage)
{
    static const char *bad[] = {"",         "-1",    "+1",  "1.",  ".5",        "01",
                                "1.234567", "100.1", "1e2", " 1",  "1 ",        "1%",
                                "1000",     "1,5",   "abc", "0x1", "100.00001", "1.5.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t v = 42;
        cr_assert_eq(hpf_interest_rate_parse(&v, bad[i]), HPF_EINVAL, "'%s'", bad[i]);
        cr_assert_eq(v, 42, "out untouched for '%s'", bad[i]);
    }
    int32_t v;
    cr_assert_eq(hpf_interest_rate_parse(&v, NULL), HPF_EINVAL);
}

Test(interest_rate, the_rate_in_force_is_the_last_one_effective_on_or_before_the_day)
{
    int32_t r = 0;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_rate_at(&r, &SCHED_CHANGE, day(2021, 12, 31), &err), 0);
    cr_assert_eq(r, 150000);
    cr_assert_eq(hpf_interest_rate_at(&r, &SCHED_CHANGE, day(2022, 1, 1), &err), 0);
    cr_assert_eq(r, 200000);
    cr_assert_eq(hpf_interest_rate_at(&r, &SCHED_CHANGE, day(2030, 1, 1), &err), 0);
    cr_assert_eq(r, 200000);
    r = 7;
    int rc = hpf_interest_rate_at(&r, &SCHED_CHANGE, day(2016, 2, 20), &err);
    expect_err(&err, rc, HPF_EINVAL, "/day", "interest.no_rate");
    cr_assert_eq(r, 7);
}

Test(interest_rate, a_bad_schedule_is_refused_with_its_rule)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_interest_schedule empty = {NULL, 0};
    expect_err(&err, hpf_interest_schedule_check(&empty, &err), HPF_EINVAL, "/rates",
               "interest.no_rate");
    hpf_interest_rate unsorted[] = {{day(2022, 1, 1), 1}, {day(2021, 1, 1), 2}};
    hpf_interest_schedule s = {unsorted, 2};
    expect_err(&err, hpf_interest_schedule_check(&s, &err), HPF_EINVAL, "/rates/1/from",
               "interest.schedule_order");
    hpf_interest_rate twice[] = {{day(2022, 1, 1), 1}, {day(2022, 1, 1), 2}};
    s = (hpf_interest_schedule){twice, 2};
    expect_err(&err, hpf_interest_schedule_check(&s, &err), HPF_EINVAL, "/rates/1/from",
               "interest.schedule_order");
    hpf_interest_rate neg[] = {{day(2022, 1, 1), -1}};
    s = (hpf_interest_schedule){neg, 1};
    expect_err(&err, hpf_interest_schedule_check(&s, &err), HPF_EINVAL, "/rates/0/rate",
               "interest.rate_range");
    hpf_interest_rate big[] = {{day(2022, 1, 1), HPF_INTEREST_RATE_ONE + 1}};
    s = (hpf_interest_schedule){big, 1};
    expect_err(&err, hpf_interest_schedule_check(&s, &err), HPF_EINVAL, "/rates/0/rate",
               "interest.rate_range");
    hpf_interest_rate early[] = {{day(1899, 12, 31), 1}};
    s = (hpf_interest_schedule){early, 1};
    expect_err(&err, hpf_interest_schedule_check(&s, &err), HPF_EINVAL, "/rates/0/from",
               "interest.date_range");
    /* and compute refuses a bad schedule before any arithmetic */
    hpf_interest_result r = {.interest = 99};
    s = (hpf_interest_schedule){unsorted, 2};
    int rc =
        hpf_interest_compute(&r, 100, day(2022, 2, 1), day(2022, 3, 1), NULL, 0, &s, &B360, &err);
    expect_err(&err, rc, HPF_EINVAL, "/rates/1/from", "interest.schedule_order");
    cr_assert_eq(r.interest, 99);
}

Test(interest_rate, no_rate_in_force_on_the_first_day_is_an_error_not_zero)
{
    hpf_interest_rate late[] = {{day(2022, 1, 1), 150000}};
    hpf_interest_schedule s = {late, 1};
    hpf_interest_result r;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_interest_compute(&r, 100000, day(2021, 7, 1), day(2022, 6, 30), NULL, 0, &s, &B360,
                                  &err);
    expect_err(&err, rc, HPF_EINVAL, "/from", "interest.no_rate");
    hpf_interest_acc acc;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 100000, &err), 0);
    rc = hpf_interest_acc_apply(&acc, day(2022, 2, 1), 100, &s, &err);
    expect_err(&err, rc, HPF_EINVAL, "/day", "interest.no_rate");
    cr_assert_eq(acc.balance, 100000, "state untouched");
    rc = hpf_interest_acc_interest(&r, &acc, day(2022, 6, 30), &s, &B360, &err);
    expect_err(&err, rc, HPF_EINVAL, "/day", "interest.no_rate");
}

Test(interest_rate, the_basis_is_360_or_365_and_the_leap_option_needs_365)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_basis_check(&B360, &err), 0);
    cr_assert_eq(hpf_interest_basis_check(&B365, &err), 0);
    cr_assert_eq(hpf_interest_basis_check(&B365_LEAP, &err), 0);
    static const hpf_interest_basis bad[] = {
        {.days = 366}, {.days = 0}, {.days = -360}, {.days = 360, .leap_366 = true}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err(&err, hpf_interest_basis_check(&bad[i], &err), HPF_EINVAL, "/basis",
                   "interest.basis");
    hpf_interest_result r;
    int rc = hpf_interest_compute(&r, 100, day(2022, 1, 1), day(2022, 1, 2), NULL, 0, &SCHED_2016,
                                  &bad[0], &err);
    expect_err(&err, rc, HPF_EINVAL, "/basis", "interest.basis");
}

Test(interest_year, runs_from_1_july_to_30_june)
{
    cr_assert_eq(hpf_interest_year_of(day(2021, 7, 1)), 2022);
    cr_assert_eq(hpf_interest_year_of(day(2022, 6, 30)), 2022);
    cr_assert_eq(hpf_interest_year_of(day(2022, 7, 1)), 2023);
    cr_assert_eq(hpf_interest_year_of(day(2022, 1, 1)), 2022);
    cr_assert_eq(hpf_interest_year_first(2022), day(2021, 7, 1));
    cr_assert_eq(hpf_interest_year_last(2022), day(2022, 6, 30));
    cr_assert_eq(hpf_interest_year_days(2022), 365);
    cr_assert_eq(hpf_interest_year_days(2000), 366);
    cr_assert_eq(hpf_interest_year_days(2100), 365);
    cr_assert_eq(hpf_interest_divisor(&B360, 2024), 360);
    cr_assert_eq(hpf_interest_divisor(&B365, 2024), 365);
    cr_assert_eq(hpf_interest_divisor(&B365_LEAP, 2024), 366);
    cr_assert_eq(hpf_interest_divisor(&B365_LEAP, 2023), 365);
}

/* ---- Input errors of a period ---- */

Test(interest_errors, a_period_that_ends_before_it_starts)
{
    int64_t j = 5;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_interest_jishu(&j, 100, day(2022, 1, 2), day(2022, 1, 1), NULL, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/to", "interest.period");
    rc = hpf_interest_jishu_daily(&j, 100, day(2022, 1, 2), day(2022, 1, 1), NULL, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/to", "interest.period");
    cr_assert_eq(j, 5);
    /* one day is a period: from == to */
    cr_assert_eq(hpf_interest_jishu(&j, 100, day(2022, 1, 1), day(2022, 1, 1), NULL, 0, &err), 0);
    cr_assert_eq(j, 100);
}

Test(interest_errors, postings_out_of_order_or_outside_the_period)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t j;
    hpf_interest_posting unsorted[] = {{day(2022, 2, 1), 100}, {day(2022, 1, 15), 100}};
    int rc = hpf_interest_jishu(&j, 0, day(2022, 1, 1), day(2022, 3, 1), unsorted, 2, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/1/day", "interest.posting_order");
    hpf_interest_posting before[] = {{day(2021, 12, 31), 100}};
    rc = hpf_interest_jishu(&j, 0, day(2022, 1, 1), day(2022, 3, 1), before, 1, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/0/day", "interest.posting_outside");
    hpf_interest_posting after[] = {{day(2022, 1, 5), 1}, {day(2022, 3, 2), 100}};
    rc = hpf_interest_jishu_daily(&j, 0, day(2022, 1, 1), day(2022, 3, 1), after, 2, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/1/day", "interest.posting_outside");
    /* a posting on the last day counts for that one day */
    hpf_interest_posting last[] = {{day(2022, 3, 1), 100}};
    cr_assert_eq(hpf_interest_jishu(&j, 0, day(2022, 1, 1), day(2022, 3, 1), last, 1, &err), 0);
    cr_assert_eq(j, 100);
}

Test(interest_errors, amounts_and_balances_out_of_range)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t j;
    hpf_day a = day(2022, 1, 1), b = day(2022, 1, 31);
    int rc = hpf_interest_jishu(&j, HPF_MONEY_MAX + 1, a, b, NULL, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/opening", "interest.amount_range");
    hpf_interest_posting huge[] = {{a, -HPF_MONEY_MAX - 1}};
    rc = hpf_interest_jishu(&j, 0, a, b, huge, 1, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/0/amount", "interest.amount_range");
    hpf_interest_posting climb[] = {{a, HPF_MONEY_MAX}, {b, 1}};
    rc = hpf_interest_jishu(&j, 0, a, b, climb, 2, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/1/amount", "interest.balance_range");
    hpf_interest_posting min[] = {{a, INT64_MIN}};
    rc = hpf_interest_jishu(&j, 0, a, b, min, 1, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/0/amount", "interest.amount_range");
}

Test(interest_errors, a_jishu_too_large_for_int64_is_an_overflow_not_a_wrapped_number)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t j = 5;
    /* 100 billion yuan for 8,100 years: about 2.96 x 10^19 fen·days > INT64_MAX */
    hpf_day a = day(1900, 1, 1), b = day(9999, 12, 31);
    int rc = hpf_interest_jishu(&j, HPF_MONEY_MAX, a, b, NULL, 0, &err);
    expect_err(&err, rc, HPF_EOVERFLOW, "", "interest.overflow");
    rc = hpf_interest_jishu_daily(&j, HPF_MONEY_MAX, a, b, NULL, 0, &err);
    expect_err(&err, rc, HPF_EOVERFLOW, "", "interest.overflow");
    cr_assert_eq(j, 5);
    hpf_interest_result r;
    rc = hpf_interest_compute(&r, HPF_MONEY_MAX, a, b, NULL, 0, &SCHED_2016, &B360, &err);
    cr_assert_lt(rc, 0); /* no rate before 2016: refused either way, never a number */
    hpf_interest_rate all[] = {{a, 150000}};
    hpf_interest_schedule s = {all, 1};
    rc = hpf_interest_compute(&r, HPF_MONEY_MAX, a, b, NULL, 0, &s, &B360, &err);
    expect_err(&err, rc, HPF_EOVERFLOW, "", "interest.overflow");
    /* the largest balance for a whole interest year is far inside the range */
    rc = hpf_interest_compute(&r, HPF_MONEY_MAX, day(2021, 7, 1), day(2022, 6, 30), NULL, 0, &s,
                              &B360, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_eq(r.jishu, HPF_MONEY_MAX * 365);
    cr_assert_eq(r.interest, HPF_MONEY_MAX * 365 / 24000 + (HPF_MONEY_MAX * 365 % 24000 >= 12000));
}

Test(interest_errors, days_outside_the_calendar_range)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t j;
    int rc = hpf_interest_jishu(&j, 0, day(1899, 12, 31), day(1900, 1, 2), NULL, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/from", "interest.date_range");
    rc = hpf_interest_jishu(&j, 0, day(1900, 1, 1), day(10000, 1, 1), NULL, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/to", "interest.date_range");
}

/* ---- The accumulator's own rules ---- */

Test(interest_acc, a_posting_of_another_interest_year_is_a_conflict_and_changes_nothing)
{
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 100000, &err), 0);
    hpf_interest_acc before = acc;
    int rc = hpf_interest_acc_apply(&acc, day(2022, 7, 1), 100, &SCHED_2016, &err);
    expect_err(&err, rc, HPF_ECONFLICT, "/day", "interest.other_year");
    rc = hpf_interest_acc_apply(&acc, day(2021, 6, 30), 100, &SCHED_2016, &err);
    expect_err(&err, rc, HPF_ECONFLICT, "/day", "interest.other_year");
    cr_assert_eq(memcmp(&acc, &before, sizeof acc), 0);
    /* the first and the last day of the year are in it */
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2021, 7, 1), 100, &SCHED_2016, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2022, 6, 30), 100, &SCHED_2016, &err), 0);
    int64_t j;
    rc = hpf_interest_acc_jishu(&j, &acc, day(2022, 7, 1), &err);
    expect_err(&err, rc, HPF_ECONFLICT, "/day", "interest.other_year");
}

Test(interest_acc, a_query_before_the_latest_posting_is_refused)
{
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 100000, &err), 0);
    cr_assert_eq(hpf_interest_acc_apply(&acc, day(2022, 3, 1), 100, &SCHED_2016, &err), 0);
    int64_t j;
    /* the day before as_of is the earliest that can still be answered */
    cr_assert_eq(hpf_interest_acc_jishu(&j, &acc, day(2022, 2, 28), &err), 0);
    cr_assert_eq(j, INT64_C(100000) * (day(2022, 3, 1) - day(2021, 7, 1)));
    int rc = hpf_interest_acc_jishu(&j, &acc, day(2022, 2, 27), &err);
    expect_err(&err, rc, HPF_ECONFLICT, "/day", "interest.before_as_of");
    hpf_interest_result r;
    rc = hpf_interest_acc_close(&r, &acc, day(2022, 2, 28), &SCHED_2016, &B360, &err);
    expect_err(&err, rc, HPF_ECONFLICT, "/day", "interest.before_as_of");
}

Test(interest_acc, amounts_balance_and_years_out_of_range)
{
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_interest_acc_start(&acc, 1900, 0, &err);
    expect_err(&err, rc, HPF_EINVAL, "/year", "interest.year_range");
    rc = hpf_interest_acc_start(&acc, 2022, -HPF_MONEY_MAX - 1, &err);
    expect_err(&err, rc, HPF_EINVAL, "/opening", "interest.amount_range");
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, HPF_MONEY_MAX, &err), 0);
    rc = hpf_interest_acc_apply(&acc, day(2022, 1, 1), 1, &SCHED_2016, &err);
    expect_err(&err, rc, HPF_EINVAL, "/amount", "interest.balance_range");
    rc = hpf_interest_acc_apply(&acc, day(2022, 1, 1), INT64_MIN, &SCHED_2016, &err);
    expect_err(&err, rc, HPF_EINVAL, "/amount", "interest.amount_range");
    cr_assert_eq(hpf_interest_acc_start(&acc, 9999, 0, &err), 0);
    hpf_interest_acc next;
    hpf_interest_result r;
    rc = hpf_interest_acc_settle(&r, &next, &acc, &SCHED_2016, &B360, &err);
    expect_err(&err, rc, HPF_EINVAL, "/year", "interest.year_range");
}

Test(interest_acc, a_corrupt_stored_state_is_an_internal_error)
{
    hpf_interest_acc acc;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&acc, 2022, 100000, &err), 0);
    hpf_interest_acc bad[4] = {acc, acc, acc, acc};
    bad[0].rate_jishu_rem = HPF_INTEREST_RATE_ONE;
    bad[1].rate_jishu_rem = -1;
    bad[2].as_of = day(2022, 7, 1);
    bad[3].balance = HPF_MONEY_MAX + 1;
    for (size_t i = 0; i < 4; i++) {
        int rc = hpf_interest_acc_apply(&bad[i], day(2022, 1, 1), 1, &SCHED_2016, &err);
        expect_err(&err, rc, HPF_EINTERNAL, "", "interest.state");
        int64_t j;
        rc = hpf_interest_acc_jishu(&j, &bad[i], day(2022, 6, 30), &err);
        expect_err(&err, rc, HPF_EINTERNAL, "", "interest.state");
    }
}

Test(interest_acc, rebuild_from_postings_gives_the_folded_state_of_example_a)
{
    hpf_interest_posting p[13];
    size_t n = example_a(p);
    hpf_interest_acc folded, rebuilt;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_interest_acc_start(&folded, 2022, 2000000, &err), 0);
    for (size_t i = n; i-- > 0;) /* newest first: every posting after the first is back-dated */
        cr_assert_eq(hpf_interest_acc_apply(&folded, p[i].day, p[i].amount, &SCHED_2016, &err), 0);
    cr_assert_eq(hpf_interest_acc_rebuild(&rebuilt, 2022, 2000000, p, n, &SCHED_2016, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(memcmp(&folded, &rebuilt, sizeof folded), 0);
    cr_assert_eq(rebuilt.as_of, day(2022, 6, 15));
    cr_assert_eq(rebuilt.balance, 2700000);
    /* the year's 积数 less the last 16 days at 27,000.00 */
    cr_assert_eq(rebuilt.jishu, INT64_C(893100000) - INT64_C(2700000) * 16);
    /* postings outside the year are refused */
    hpf_interest_posting out[] = {{day(2022, 7, 1), 1}};
    int rc = hpf_interest_acc_rebuild(&rebuilt, 2022, 0, out, 1, &SCHED_2016, &err);
    expect_err(&err, rc, HPF_EINVAL, "/postings/0/day", "interest.posting_outside");
}

/* ---- Randomized: the day loop, the segment formula and the accumulator agree ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: a fixed seed gives the same cases on every run */
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* uniform-ish in [lo, hi] */
static int64_t rnd_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int by_day(const void *a, const void *b)
{
    const hpf_interest_posting *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* round_half_up(n / den) on the absolute value, written independently of the module:
 * floor((2|n| + den) / 2den). */
static int64_t ref_round(i128 n, i128 den)
{
    i128 m = n < 0 ? -n : n;
    i128 q = (2 * m + den) / (2 * den);
    return (int64_t)(n < 0 ? -q : q);
}

/*
 * The reference: RULES §2.2 day by day, with the rate of each day looked up on its own and the
 * divisor of each day's interest year, over the common denominator 10^7 x 360 x 365 x 366.
 * Postings sorted.
 */
static void reference(int64_t *jishu, int64_t *interest, hpf_fen opening, hpf_day from, hpf_day to,
                      const hpf_interest_posting *p, size_t n, const hpf_interest_schedule *s,
                      const hpf_interest_basis *b)
{
    const i128 common = (i128)360 * 365 * 366;
    i128 j = 0, num = 0;
    hpf_fen bal = opening;
    size_t k = 0;
    for (hpf_day d = from; d <= to; d++) {
        while (k < n && p[k].day == d)
            bal += p[k++].amount;
        int32_t rate = -1;
        for (size_t i = 0; i < s->n; i++) /* linear on purpose: not the module's search */
            if (s->steps[i].from <= d)
                rate = s->steps[i].rate;
        cr_assert_geq(rate, 0);
        int32_t y = hpf_interest_year_of(d);
        int32_t div = b->leap_366 ? hpf_interest_year_days(y) : b->days;
        j += bal;
        num += (i128)bal * rate * (common / div);
    }
    *jishu = (int64_t)j;
    *interest = ref_round(num, common * HPF_INTEREST_RATE_ONE);
}

#define MAXP 48

typedef struct rcase {
    int32_t year;
    hpf_fen opening;
    hpf_interest_posting p[MAXP]; /* in the order they are applied */
    hpf_interest_posting sorted[MAXP];
    size_t n;
    hpf_interest_rate steps[5];
    hpf_interest_schedule sched;
    hpf_interest_basis basis;
} rcase;

static void random_schedule(rcase *c, hpf_day first, hpf_day last)
{
    /* a step in force before the period, then up to three changes inside it (sorted, one rate
     * per date: a change drawn twice on one day is dropped) */
    hpf_day change[3];
    int changes = (int)rnd_in(0, 3);
    for (int i = 0; i < changes; i++)
        change[i] = (hpf_day)rnd_in(first, last);
    for (int i = 1; i < changes; i++)
        for (int k = i; k > 0 && change[k] < change[k - 1]; k--) {
            hpf_day t = change[k];
            change[k] = change[k - 1];
            change[k - 1] = t;
        }
    size_t k = 0;
    c->steps[k++] =
        (hpf_interest_rate){first - (hpf_day)rnd_in(0, 400), (int32_t)rnd_in(0, 500000)};
    for (int i = 0; i < changes; i++)
        if (change[i] > c->steps[k - 1].from)
            c->steps[k++] = (hpf_interest_rate){change[i], (int32_t)rnd_in(0, 500000)};
    c->sched = (hpf_interest_schedule){c->steps, k};
}

static void random_case(rcase *c)
{
    memset(c, 0, sizeof *c);
    c->year = (int32_t)rnd_in(2001, 2040);
    hpf_day first = hpf_interest_year_first(c->year), last = hpf_interest_year_last(c->year);
    /* mostly ordinary balances; sometimes negative or zero, sometimes very large */
    switch (rnd() % 6) {
    case 0:
        c->opening = 0;
        break;
    case 1:
        c->opening = rnd_in(-10000000, 0);
        break;
    case 2:
        c->opening = rnd_in(0, HPF_MONEY_MAX / 4);
        break;
    default:
        c->opening = rnd_in(0, 500000000);
    }
    c->n = (size_t)rnd_in(0, MAXP);
    for (size_t i = 0; i < c->n; i++) {
        /* postings bunch on some days, so same-day postings are common */
        hpf_day d =
            rnd() % 4 == 0 ? first + (hpf_day)(rnd() % 5) * 73 : (hpf_day)rnd_in(first, last);
        c->p[i] = (hpf_interest_posting){d, rnd_in(-3000000, 5000000)};
    }
    memcpy(c->sorted, c->p, sizeof c->p);
    qsort(c->sorted, c->n, sizeof c->sorted[0], by_day);
    random_schedule(c, first, last);
    switch (rnd() % 3) {
    case 0:
        c->basis = B360;
        break;
    case 1:
        c->basis = B365;
        break;
    default:
        c->basis = B365_LEAP;
    }
}

/* How many sorted postings fall on or before `d`. */
static size_t upto_count(const hpf_interest_posting *sorted, size_t n, hpf_day d)
{
    size_t k = 0;
    while (k < n && sorted[k].day <= d)
        k++;
    return k;
}

Test(interest_random, day_loop_segment_formula_and_accumulator_agree_exactly, .timeout = 120)
{
    rng_state = 20260630;
    hpf_err err = HPF_ERR_INIT;
    static rcase c;
    for (int iter = 0; iter < 3000; iter++) {
        random_case(&c);
        hpf_day first = hpf_interest_year_first(c.year), last = hpf_interest_year_last(c.year);

        /* 1. the whole year: day loop, segment formula, compute, reference */
        int64_t j_seg, j_day, ref_j, ref_i;
        cr_assert_eq(hpf_interest_jishu(&j_seg, c.opening, first, last, c.sorted, c.n, &err), 0,
                     "case %d: %s", iter, err.msg);
        cr_assert_eq(hpf_interest_jishu_daily(&j_day, c.opening, first, last, c.sorted, c.n, &err),
                     0);
        cr_assert_eq(j_seg, j_day, "case %d", iter);
        reference(&ref_j, &ref_i, c.opening, first, last, c.sorted, c.n, &c.sched, &c.basis);
        cr_assert_eq(j_seg, ref_j, "case %d", iter);
        hpf_interest_result r;
        cr_assert_eq(hpf_interest_compute(&r, c.opening, first, last, c.sorted, c.n, &c.sched,
                                          &c.basis, &err),
                     0, "case %d: %s", iter, err.msg);
        cr_assert_eq(r.jishu, j_seg);
        cr_assert_eq(r.interest, ref_i, "case %d: %lld vs %lld", iter, (long long)r.interest,
                     (long long)ref_i);

        /* 2. the accumulator, fed in the random order; after every step it equals the state
         * rebuilt from the postings applied so far, sorted */
        hpf_interest_acc acc, rebuilt;
        cr_assert_eq(hpf_interest_acc_start(&acc, c.year, c.opening, &err), 0);
        hpf_interest_posting applied[MAXP];
        for (size_t i = 0; i < c.n; i++) {
            cr_assert_eq(hpf_interest_acc_apply(&acc, c.p[i].day, c.p[i].amount, &c.sched, &err), 0,
                         "case %d posting %zu: %s", iter, i, err.msg);
            applied[i] = c.p[i];
            qsort(applied, i + 1, sizeof applied[0], by_day);
            cr_assert_eq(hpf_interest_acc_rebuild(&rebuilt, c.year, c.opening, applied, i + 1,
                                                  &c.sched, &err),
                         0, "case %d: %s", iter, err.msg);
            cr_assert_eq(memcmp(&acc, &rebuilt, sizeof acc), 0, "case %d after posting %zu", iter,
                         i);
        }
        int64_t j_acc;
        cr_assert_eq(hpf_interest_acc_jishu(&j_acc, &acc, last, &err), 0);
        cr_assert_eq(j_acc, j_seg, "case %d", iter);
        hpf_interest_result ra;
        cr_assert_eq(hpf_interest_acc_interest(&ra, &acc, last, &c.sched, &c.basis, &err), 0,
                     "case %d: %s", iter, err.msg);
        cr_assert_eq(memcmp(&ra, &r, sizeof ra), 0, "case %d: the accumulator's result", iter);

        /* 3. up to a day inside the year (as_of - 1 at the earliest) */
        hpf_day upto = (hpf_day)rnd_in(acc.as_of - 1, last);
        if (upto >= first) {
            size_t k = upto_count(c.sorted, c.n, upto);
            cr_assert_eq(hpf_interest_compute(&r, c.opening, first, upto, c.sorted, k, &c.sched,
                                              &c.basis, &err),
                         0, "case %d: %s", iter, err.msg);
            reference(&ref_j, &ref_i, c.opening, first, upto, c.sorted, k, &c.sched, &c.basis);
            cr_assert_eq(r.interest, ref_i, "case %d", iter);
            cr_assert_eq(hpf_interest_acc_interest(&ra, &acc, upto, &c.sched, &c.basis, &err), 0);
            cr_assert_eq(ra.jishu, ref_j, "case %d", iter);
            cr_assert_eq(ra.interest, ref_i, "case %d", iter);
        }

        /* 4. a closing on a day from as_of on: I-8 by the accumulator and from the postings */
        hpf_day closing = (hpf_day)rnd_in(acc.as_of, last);
        cr_assert_eq(hpf_interest_acc_close(&ra, &acc, closing, &c.sched, &c.basis, &err), 0,
                     "case %d: %s", iter, err.msg);
        hpf_day from, to;
        if (hpf_interest_closing_period(&from, &to, closing)) {
            size_t k = upto_count(c.sorted, c.n, to);
            reference(&ref_j, &ref_i, c.opening, from, to, c.sorted, k, &c.sched, &c.basis);
            cr_assert_eq(ra.jishu, ref_j, "case %d", iter);
            cr_assert_eq(ra.interest, ref_i, "case %d", iter);
        } else {
            cr_assert_eq(ra.interest, 0);
        }
        cr_assert_eq(ra.closing, acc.balance + ra.interest);
    }
}

/* Periods of up to three years, across 1 July and 29 February, with the leap option: compute
 * splits at each year and rate change and still rounds once, as the day loop does. */
Test(interest_random, multi_year_periods_agree_with_the_day_loop, .timeout = 120)
{
    rng_state = 366;
    hpf_err err = HPF_ERR_INIT;
    static rcase c;
    for (int iter = 0; iter < 1000; iter++) {
        random_case(&c);
        hpf_day from = (hpf_day)rnd_in(day(2001, 1, 1), day(2030, 12, 31));
        hpf_day to = from + (hpf_day)rnd_in(0, 3 * 366);
        for (size_t i = 0; i < c.n; i++)
            c.p[i].day = (hpf_day)rnd_in(from, to);
        memcpy(c.sorted, c.p, sizeof c.p);
        qsort(c.sorted, c.n, sizeof c.sorted[0], by_day);
        random_schedule(&c, from, to);
        int64_t j_seg, j_day, ref_j, ref_i;
        cr_assert_eq(hpf_interest_jishu(&j_seg, c.opening, from, to, c.sorted, c.n, &err), 0);
        cr_assert_eq(hpf_interest_jishu_daily(&j_day, c.opening, from, to, c.sorted, c.n, &err), 0);
        reference(&ref_j, &ref_i, c.opening, from, to, c.sorted, c.n, &c.sched, &c.basis);
        cr_assert_eq(j_seg, j_day, "case %d", iter);
        cr_assert_eq(j_seg, ref_j, "case %d", iter);
        hpf_interest_result r;
        cr_assert_eq(
            hpf_interest_compute(&r, c.opening, from, to, c.sorted, c.n, &c.sched, &c.basis, &err),
            0, "case %d: %s", iter, err.msg);
        cr_assert_eq(r.interest, ref_i, "case %d: %lld vs %lld", iter, (long long)r.interest,
                     (long long)ref_i);
    }
}
