/* Unit tests for domain/contribution: RULES §1.2 and worked example 1.2-A in every rounding. */
#include "base/err.h"
#include "base/money.h"
#include "domain/contribution.h"

#include <criterion/criterion.h>

#include <string.h>

/* Worked example 1.2-A: city average 7,500.00 (cap 22,500.00), minimum wage 2,070.00. */
static hpf_contrib_policy example(hpf_rounding rounding)
{
    return (hpf_contrib_policy){
        .unit_ratio_min_bp = 500,
        .unit_ratio_max_bp = 1200,
        .indiv_ratio_min_bp = 500,
        .indiv_ratio_max_bp = 1200,
        .city_avg_wage = 750000,
        .min_wage = 207000,
        .cap_multiple = 3,
        .rounding = rounding,
        .ratios_must_match = true,
    };
}

static hpf_contrib compute_ok(hpf_rounding rounding, hpf_fen wage, int32_t bp)
{
    hpf_contrib_policy p = example(rounding);
    hpf_contrib c = {0};
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_contrib_compute(&c, &p, wage, bp, bp, &err), 0, "%s", err.msg);
    return c;
}

static void expect_err(const hpf_err *err, int rc, int code, const char *field, const char *rule)
{
    cr_assert_eq(rc, code);
    cr_assert_eq(err->code, code);
    cr_assert_str_eq(err->field, field);
    cr_assert_str_eq(err->rule, rule);
}

/* ---- Employee A: 25,310.40, capped at 22,500.00, 12% / 12% ---- */

Test(contrib_example_a, caps_the_base_and_gives_2700_each_in_yuan)
{
    hpf_contrib c = compute_ok(HPF_ROUND_YUAN, 2531040, 1200);
    cr_assert_eq(c.base, 2250000);
    cr_assert_eq(c.unit, 270000);
    cr_assert_eq(c.individual, 270000);
    cr_assert_eq(c.total, 540000);
}

Test(contrib_example_a, gives_the_same_2700_each_in_jiao_and_fen)
{
    static const hpf_rounding units[] = {HPF_ROUND_JIAO, HPF_ROUND_FEN};
    for (size_t i = 0; i < 2; i++) {
        hpf_contrib c = compute_ok(units[i], 2531040, 1200);
        cr_assert_eq(c.base, 2250000);
        cr_assert_eq(c.unit, 270000);
        cr_assert_eq(c.individual, 270000);
        cr_assert_eq(c.total, 540000);
    }
}

/* ---- Employee B: 1,900.00, floored at 2,070.00, 5% / 5%: the exact .5 tie ---- */

Test(contrib_example_b, floors_the_base_and_rounds_the_103_50_tie_up_to_104_in_yuan)
{
    hpf_contrib c = compute_ok(HPF_ROUND_YUAN, 190000, 500);
    cr_assert_eq(c.base, 207000);
    cr_assert_eq(c.unit, 10400);
    cr_assert_eq(c.individual, 10400);
    cr_assert_eq(c.total, 20800);
}

Test(contrib_example_b, keeps_103_50_in_jiao)
{
    hpf_contrib c = compute_ok(HPF_ROUND_JIAO, 190000, 500);
    cr_assert_eq(c.base, 207000);
    cr_assert_eq(c.unit, 10350);
    cr_assert_eq(c.individual, 10350);
    cr_assert_eq(c.total, 20700);
}

Test(contrib_example_b, keeps_103_50_in_fen)
{
    hpf_contrib c = compute_ok(HPF_ROUND_FEN, 190000, 500);
    cr_assert_eq(c.base, 207000);
    cr_assert_eq(c.unit, 10350);
    cr_assert_eq(c.individual, 10350);
    cr_assert_eq(c.total, 20700);
}

/* ---- Employee C: 6,543.21 within the limits, 8% / 8%: 523.4568 ---- */

Test(contrib_example_c, rounds_523_4568_down_to_523_in_yuan)
{
    hpf_contrib c = compute_ok(HPF_ROUND_YUAN, 654321, 800);
    cr_assert_eq(c.base, 654321);
    cr_assert_eq(c.unit, 52300);
    cr_assert_eq(c.individual, 52300);
    cr_assert_eq(c.total, 104600);
}

Test(contrib_example_c, rounds_to_523_50_in_jiao)
{
    hpf_contrib c = compute_ok(HPF_ROUND_JIAO, 654321, 800);
    cr_assert_eq(c.unit, 52350);
    cr_assert_eq(c.individual, 52350);
    cr_assert_eq(c.total, 104700);
}

Test(contrib_example_c, rounds_to_523_46_in_fen)
{
    hpf_contrib c = compute_ok(HPF_ROUND_FEN, 654321, 800);
    cr_assert_eq(c.unit, 52346);
    cr_assert_eq(c.individual, 52346);
    cr_assert_eq(c.total, 104692);
}

/* ---- rounding and clamping details ---- */

Test(contrib_compute, rounds_once_from_the_exact_product)
{
    /* 12,344.95 x 10% = 1,234.495: rounding to fen first (1,234.50) and then to yuan would give
     * 1,235; the exact product rounds to 1,234. */
    hpf_contrib c = compute_ok(HPF_ROUND_YUAN, 1234495, 1000);
    cr_assert_eq(c.unit, 123400);
    cr_assert_eq(c.individual, 123400);
    cr_assert_eq(c.total, 246800);
}

Test(contrib_compute, rounds_each_side_separately_before_adding)
{
    /* 2,070.00 x 5% = 103.50 -> 104 and 2,070.00 x 7% = 144.90 -> 145: 249. Rounding the sum
     * 248.40 would give 248. */
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    p.ratios_must_match = false;
    hpf_contrib c;
    cr_assert_eq(hpf_contrib_compute(&c, &p, 207000, 500, 700, NULL), 0);
    cr_assert_eq(c.unit, 10400);
    cr_assert_eq(c.individual, 14500);
    cr_assert_eq(c.total, 24900);
}

Test(contrib_compute, clamps_at_the_exact_limits)
{
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, 207000, 500).base, 207000);
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, 206999, 500).base, 207000);
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, 1, 500).base, 207000);
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, 2250000, 500).base, 2250000);
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, 2250001, 500).base, 2250000);
    cr_assert_eq(compute_ok(HPF_ROUND_FEN, INT64_MAX, 1200).total, 540000);
}

Test(contrib_compute, rejects_a_wage_that_is_not_positive)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_contrib c = {.total = 42};
    static const hpf_fen bad[] = {0, -1, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_contrib_compute(&c, &p, bad[i], 800, 800, &err);
        expect_err(&err, rc, HPF_EINVAL, "/wage", "wage.range");
    }
    cr_assert_eq(c.total, 42);
}

Test(contrib_compute, rejects_ratios_outside_the_policy_without_output)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_contrib c = {.total = 42};
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_contrib_compute(&c, &p, 654321, 1300, 1300, &err);
    expect_err(&err, rc, HPF_EINVAL, "/unit_ratio_bp", "ratio.range");
    cr_assert_eq(c.total, 42);
}

Test(contrib_compute, reports_a_broken_policy_as_internal)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    p.rounding = (hpf_rounding)7;
    hpf_contrib c;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_contrib_compute(&c, &p, 654321, 800, 800, &err);
    expect_err(&err, rc, HPF_EINTERNAL, "/rounding", "policy.invalid");
}

/* ---- ratios ---- */

Test(contrib_ratios, accepts_the_bounds_themselves)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    cr_assert_eq(hpf_contrib_check_ratios(&p, 500, 500, NULL), 0);
    cr_assert_eq(hpf_contrib_check_ratios(&p, 1200, 1200, NULL), 0);
    cr_assert_eq(hpf_contrib_check_ratios(&p, 850, 850, NULL), 0);
}

Test(contrib_ratios, names_the_field_and_the_range_in_percent)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_contrib_check_ratios(&p, 1201, 1201, &err);
    expect_err(&err, rc, HPF_EINVAL, "/unit_ratio_bp", "ratio.range");
    cr_assert(strstr(err.msg, "12.01%"), "message: %s", err.msg);
    cr_assert(strstr(err.msg, "5%..12%"), "message: %s", err.msg);

    rc = hpf_contrib_check_ratios(&p, 800, 499, &err);
    expect_err(&err, rc, HPF_EINVAL, "/indiv_ratio_bp", "ratio.range");
    cr_assert(strstr(err.msg, "4.99%"), "message: %s", err.msg);

    p.unit_ratio_min_bp = 550;
    p.unit_ratio_max_bp = 1150;
    rc = hpf_contrib_check_ratios(&p, 500, 500, &err);
    expect_err(&err, rc, HPF_EINVAL, "/unit_ratio_bp", "ratio.range");
    cr_assert(strstr(err.msg, "5.5%..11.5%"), "message: %s", err.msg);

    rc = hpf_contrib_check_ratios(&p, -100, 500, &err);
    expect_err(&err, rc, HPF_EINVAL, "/unit_ratio_bp", "ratio.range");
    cr_assert(strstr(err.msg, "-1%"), "message: %s", err.msg);
}

Test(contrib_ratios, must_match_when_the_policy_says_so)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_contrib_check_ratios(&p, 1200, 1000, &err);
    expect_err(&err, rc, HPF_EINVAL, "/indiv_ratio_bp", "ratio.must_match");
    p.ratios_must_match = false;
    cr_assert_eq(hpf_contrib_check_ratios(&p, 1200, 1000, NULL), 0);
    hpf_contrib c;
    cr_assert_eq(hpf_contrib_compute(&c, &p, 2531040, 1200, 1000, NULL), 0);
    cr_assert_eq(c.unit, 270000);
    cr_assert_eq(c.individual, 225000);
    cr_assert_eq(c.total, 495000);
}

/* ---- policy ---- */

Test(contrib_policy, accepts_the_worked_example)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    cr_assert_eq(hpf_contrib_policy_check(&p, NULL), 0);
}

Test(contrib_policy, rejects_inconsistent_parameters)
{
    struct {
        const char *field;
        hpf_contrib_policy p;
    } cases[] = {
        {"/unit_ratio_min_bp", example(HPF_ROUND_YUAN)},
        {"/unit_ratio_min_bp", example(HPF_ROUND_YUAN)},
        {"/indiv_ratio_min_bp", example(HPF_ROUND_YUAN)},
        {"/city_avg_wage", example(HPF_ROUND_YUAN)},
        {"/cap_multiple", example(HPF_ROUND_YUAN)},
        {"/cap_multiple", example(HPF_ROUND_YUAN)},
        {"/min_wage", example(HPF_ROUND_YUAN)},
        {"/min_wage", example(HPF_ROUND_YUAN)},
        {"/rounding", example(HPF_ROUND_YUAN)},
    };
    cases[0].p.unit_ratio_min_bp = 0;
    cases[1].p.unit_ratio_max_bp = 400; /* below min */
    cases[2].p.indiv_ratio_max_bp = 10001;
    cases[3].p.city_avg_wage = 0;
    cases[4].p.cap_multiple = 0;
    cases[5].p.city_avg_wage = HPF_MONEY_MAX; /* x3 is over the money limit */
    cases[6].p.min_wage = 0;
    cases[7].p.min_wage = 2250001; /* above the cap */
    cases[8].p.rounding = (hpf_rounding)2;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_contrib_policy_check(&cases[i].p, &err);
        expect_err(&err, rc, HPF_EINVAL, cases[i].field, "policy.invalid");
    }
}

/* ---- monthly deposit limits (§1.2 bullet 3) ---- */

Test(contrib_limits, are_5400_and_208_for_the_worked_example_in_yuan)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_fen lo = 0, hi = 0;
    cr_assert_eq(hpf_contrib_deposit_limits(&lo, &hi, &p, NULL), 0);
    cr_assert_eq(hi, 540000); /* round(22,500 x 12%) x 2 */
    cr_assert_eq(lo, 20800);  /* round(2,070 x 5%) x 2 = 104 x 2 */
}

Test(contrib_limits, keep_the_103_50_tie_in_jiao)
{
    hpf_contrib_policy p = example(HPF_ROUND_JIAO);
    hpf_fen lo = 0, hi = 0;
    cr_assert_eq(hpf_contrib_deposit_limits(&lo, &hi, &p, NULL), 0);
    cr_assert_eq(hi, 540000);
    cr_assert_eq(lo, 20700);
}

Test(contrib_limits, equal_the_computed_totals_at_the_cap_and_the_floor)
{
    static const hpf_rounding units[] = {HPF_ROUND_YUAN, HPF_ROUND_JIAO, HPF_ROUND_FEN};
    for (size_t i = 0; i < 3; i++) {
        hpf_contrib_policy p = example(units[i]);
        p.city_avg_wage = 812345; /* an awkward cap: 24,370.35 */
        p.min_wage = 211111;
        p.ratios_must_match = false;
        p.unit_ratio_max_bp = 1150;
        p.indiv_ratio_min_bp = 600;
        hpf_fen lo, hi;
        hpf_contrib at_cap, at_floor;
        cr_assert_eq(hpf_contrib_deposit_limits(&lo, &hi, &p, NULL), 0);
        cr_assert_eq(hpf_contrib_compute(&at_cap, &p, INT64_MAX, 1150, 1200, NULL), 0);
        cr_assert_eq(hpf_contrib_compute(&at_floor, &p, 1, 500, 600, NULL), 0);
        cr_assert_eq(hi, at_cap.total, "%s", hpf_rounding_name(units[i]));
        cr_assert_eq(lo, at_floor.total, "%s", hpf_rounding_name(units[i]));
    }
}

Test(contrib_limits, report_a_broken_policy_as_internal)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    p.min_wage = -1;
    hpf_fen lo = 1, hi = 2;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_contrib_deposit_limits(&lo, &hi, &p, &err);
    expect_err(&err, rc, HPF_EINTERNAL, "/min_wage", "policy.invalid");
    cr_assert_eq(lo, 1);
    cr_assert_eq(hi, 2);
}

/* ---- rounding names ---- */

Test(rounding, parses_and_names_the_three_units)
{
    hpf_rounding r = HPF_ROUND_FEN;
    cr_assert_eq(hpf_rounding_parse(&r, "yuan"), 0);
    cr_assert_eq(r, HPF_ROUND_YUAN);
    cr_assert_eq(hpf_rounding_parse(&r, "JIAO"), 0);
    cr_assert_eq(r, HPF_ROUND_JIAO);
    cr_assert_eq(hpf_rounding_parse(&r, "fen"), 0);
    cr_assert_eq(r, HPF_ROUND_FEN);
    cr_assert_str_eq(hpf_rounding_name(HPF_ROUND_YUAN), "yuan");
    cr_assert_str_eq(hpf_rounding_name(HPF_ROUND_JIAO), "jiao");
    cr_assert_str_eq(hpf_rounding_name(HPF_ROUND_FEN), "fen");
    cr_assert_str_eq(hpf_rounding_name((hpf_rounding)5), "unknown");
}

Test(rounding, refuses_other_spellings)
{
    static const char *const bad[] = {"", "Yuan", "yuan ", "元", "cent", "100"};
    hpf_rounding r = HPF_ROUND_JIAO;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(hpf_rounding_parse(&r, bad[i]), HPF_EINVAL, "\"%s\"", bad[i]);
    cr_assert_eq(hpf_rounding_parse(&r, NULL), HPF_EINVAL);
    cr_assert_eq(r, HPF_ROUND_JIAO);
}

/* ---- changes of the base and the ratios (基数调整, 比例调整) ---- */

Test(contrib_year, runs_from_july_to_june_and_is_named_by_its_july)
{
    cr_assert_eq(hpf_contrib_year_of(202607), 2026);
    cr_assert_eq(hpf_contrib_year_of(202612), 2026);
    cr_assert_eq(hpf_contrib_year_of(202701), 2026);
    cr_assert_eq(hpf_contrib_year_of(202706), 2026);
    cr_assert_eq(hpf_contrib_year_of(202606), 2025);
}

Test(contrib_value_at, is_the_current_value_without_changes)
{
    cr_assert_eq(hpf_contrib_value_at(NULL, 0, 202607, 650000), 650000);
}

Test(contrib_value_at, gives_the_old_value_before_and_the_new_from_the_effective_month)
{
    const hpf_contrib_change c[] = {{202607, 500000, 650000}, {202707, 650000, 700000}};
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202606, 1), 500000);
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202607, 1), 650000);
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202706, 1), 650000);
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202707, 1), 700000);
    cr_assert_eq(hpf_contrib_value_at(c, 2, 209912, 1), 700000);
}

Test(contrib_value_at, lets_a_later_correction_of_the_same_month_win)
{
    const hpf_contrib_change c[] = {{202607, 500000, 650000}, {202607, 650000, 640000}};
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202606, 1), 500000);
    cr_assert_eq(hpf_contrib_value_at(c, 2, 202608, 1), 640000);
}

Test(contrib_base, clamps_the_wage_to_floor_and_cap)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    hpf_fen b = 0;
    cr_assert_eq(hpf_contrib_base(&b, &p, 2531040, &err), 0);
    cr_assert_eq(b, 2250000);
    cr_assert_eq(hpf_contrib_base(&b, &p, 190000, &err), 0);
    cr_assert_eq(b, 207000);
    cr_assert_eq(hpf_contrib_base(&b, &p, 654321, &err), 0);
    cr_assert_eq(b, 654321);
    cr_assert_eq(hpf_contrib_base(&b, &p, 0, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "wage.range");
}

Test(contrib_ratio_change, refuses_below_the_minimum_as_the_lowering_procedure)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_contrib_check_ratio_change(&p, 400, 400, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "ratio.below_minimum");
    cr_assert_str_eq(err.field, "/unit_ratio_bp");
    cr_assert(strstr(err.msg, "降比/缓缴") != NULL);
    cr_assert_eq(hpf_contrib_check_ratio_change(&p, 1300, 1300, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "ratio.range");
    cr_assert_eq(hpf_contrib_check_ratio_change(&p, 1000, 800, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "ratio.must_match");
    cr_assert_eq(hpf_contrib_check_ratio_change(&p, 1000, 1000, &err), 0);
}

/* ---- voluntary deposits ---- */

Test(contrib_voluntary, has_the_range_of_both_ratios_together)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    int32_t lo, hi;
    hpf_contrib_voluntary_range(&p, &lo, &hi);
    cr_assert_eq(lo, 1000);
    cr_assert_eq(hi, 2400);
}

Test(contrib_voluntary, rounds_the_single_deposit_once_half_up)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    hpf_contrib c;
    /* 6,543.21 x 16% = 1,046.9136 -> 1,047 (two separate 8% parts would give 523 + 523). */
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 654321, 1600, true, &err), 0);
    cr_assert_eq(c.total, 104700);
    cr_assert_eq(c.individual, 104700);
    cr_assert_eq(c.unit, 0);
    cr_assert_eq(c.base, 654321);
    /* The floor at 10%: 207.00 exactly. */
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 207000, 1000, true, &err), 0);
    cr_assert_eq(c.total, 20700);
}

Test(contrib_voluntary, refuses_a_base_or_ratio_outside_the_policy_at_registration)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    hpf_contrib c;
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 206999, 1000, true, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "voluntary.base_range");
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 2250001, 1000, true, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "voluntary.base_range");
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 500000, 999, true, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "voluntary.ratio_range");
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 500000, 2401, true, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "/ratio_bp");
}

Test(contrib_voluntary, clamps_to_a_later_policy_when_paying)
{
    hpf_contrib_policy p = example(HPF_ROUND_YUAN);
    hpf_err err = HPF_ERR_INIT;
    hpf_contrib c;
    /* A base above today's cap and a ratio above today's range are paid at the cap and 24%. */
    cr_assert_eq(hpf_contrib_voluntary(&c, &p, 3000000, 3000, false, &err), 0);
    cr_assert_eq(c.base, 2250000);
    cr_assert_eq(c.total, 540000);
}
