/* Unit tests for base/money: checked arithmetic, half-up rounding, parsing and formatting. */
#include "base/err.h"
#include "base/money.h"

#include <criterion/criterion.h>

#include <stdint.h>

static hpf_fen parse_ok(const char *s)
{
    hpf_fen v = -1;
    cr_assert_eq(hpf_money_parse(&v, s, -HPF_MONEY_MAX, HPF_MONEY_MAX), 0, "\"%s\" should parse",
                 s);
    return v;
}

static void parse_refused(const char *s)
{
    hpf_fen v = 4242;
    cr_expect_eq(hpf_money_parse(&v, s, -HPF_MONEY_MAX, HPF_MONEY_MAX), HPF_EINVAL,
                 "\"%s\" should be refused", s);
    cr_expect_eq(v, 4242, "\"%s\": output must stay untouched on error", s);
}

Test(money_add, adds_and_subtracts_within_range)
{
    hpf_fen r;
    cr_assert_eq(hpf_money_add(&r, 52346, 52346), 0);
    cr_assert_eq(r, 104692);
    cr_assert_eq(hpf_money_sub(&r, 100, 250), 0);
    cr_assert_eq(r, -150);
}

Test(money_add, reports_overflow_and_leaves_output_untouched)
{
    hpf_fen r = 7;
    cr_assert_eq(hpf_money_add(&r, INT64_MAX, 1), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_add(&r, INT64_MIN, -1), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_sub(&r, INT64_MIN, 1), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_sub(&r, 0, INT64_MIN), HPF_EOVERFLOW);
    cr_assert_eq(r, 7);
    cr_assert_eq(hpf_money_add(&r, INT64_MAX, INT64_MIN), 0);
    cr_assert_eq(r, -1);
}

Test(money_muldiv, rounds_half_up_on_the_absolute_value)
{
    hpf_fen r;
    /* 207000 fen x 5% = 10350 fen exactly; 654321 x 8% = 52345.68 -> 52346 */
    cr_assert_eq(hpf_money_muldiv(&r, 207000, 500, 10000), 0);
    cr_assert_eq(r, 10350);
    cr_assert_eq(hpf_money_muldiv(&r, 654321, 800, 10000), 0);
    cr_assert_eq(r, 52346);
    cr_assert_eq(hpf_money_muldiv(&r, 5, 1, 10), 0); /* 0.5 -> 1 */
    cr_assert_eq(r, 1);
    cr_assert_eq(hpf_money_muldiv(&r, -5, 1, 10), 0); /* -0.5 -> -1, not 0 */
    cr_assert_eq(r, -1);
    cr_assert_eq(hpf_money_muldiv(&r, 4, 1, 10), 0); /* 0.4 -> 0 */
    cr_assert_eq(r, 0);
    cr_assert_eq(hpf_money_muldiv(&r, -14, 1, 10), 0); /* -1.4 -> -1 */
    cr_assert_eq(r, -1);
    cr_assert_eq(hpf_money_muldiv(&r, 15, 1, 10), 0); /* 1.5 -> 2 */
    cr_assert_eq(r, 2);
    cr_assert_eq(hpf_money_muldiv(&r, 1, 1, 3), 0); /* 1/3 -> 0 */
    cr_assert_eq(r, 0);
    cr_assert_eq(hpf_money_muldiv(&r, 2, 1, 3), 0); /* 2/3 -> 1 */
    cr_assert_eq(r, 1);
}

Test(money_muldiv, uses_a_wide_intermediate_product)
{
    hpf_fen r;
    /* INT64_MAX * 10000 overflows 64 bits, but the quotient fits. */
    cr_assert_eq(hpf_money_muldiv(&r, INT64_MAX, 10000, 10000), 0);
    cr_assert_eq(r, INT64_MAX);
    cr_assert_eq(hpf_money_muldiv(&r, INT64_MIN, INT64_MIN, INT64_MAX), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_muldiv(&r, INT64_MAX, 2, 1), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_muldiv(&r, INT64_MIN, -1, 1), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_muldiv(&r, INT64_MIN, 1, 1), 0);
    cr_assert_eq(r, INT64_MIN);
}

Test(money_muldiv, refuses_a_non_positive_denominator)
{
    hpf_fen r = 3;
    cr_assert_eq(hpf_money_muldiv(&r, 100, 1, 0), HPF_EINVAL);
    cr_assert_eq(hpf_money_muldiv(&r, 100, 1, -1), HPF_EINVAL);
    cr_assert_eq(r, 3);
}

Test(money_round, rounds_to_yuan_jiao_and_fen_half_up)
{
    hpf_fen r;
    cr_assert_eq(hpf_money_round(&r, 10350, 100), 0); /* 103.50 -> 104 */
    cr_assert_eq(r, 10400);
    cr_assert_eq(hpf_money_round(&r, 10349, 100), 0); /* 103.49 -> 103 */
    cr_assert_eq(r, 10300);
    cr_assert_eq(hpf_money_round(&r, 52346, 10), 0); /* 523.46 -> 523.50 */
    cr_assert_eq(r, 52350);
    cr_assert_eq(hpf_money_round(&r, 52344, 10), 0);
    cr_assert_eq(r, 52340);
    cr_assert_eq(hpf_money_round(&r, 52346, 1), 0);
    cr_assert_eq(r, 52346);
    cr_assert_eq(hpf_money_round(&r, -1050, 100), 0); /* -10.50 -> -11 */
    cr_assert_eq(r, -1100);
    cr_assert_eq(hpf_money_round(&r, -1049, 100), 0);
    cr_assert_eq(r, -1000);
}

Test(money_round, reports_overflow_near_the_limits_and_bad_units)
{
    hpf_fen r = 9;
    /* INT64_MAX ends in ...807 and INT64_MIN in ...808: to the jiao they round past the ends. */
    cr_assert_eq(hpf_money_round(&r, INT64_MAX, 10), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_round(&r, INT64_MIN, 10), HPF_EOVERFLOW);
    cr_assert_eq(hpf_money_round(&r, 100, 0), HPF_EINVAL);
    cr_assert_eq(r, 9);
    cr_assert_eq(hpf_money_round(&r, INT64_MAX, 100), 0); /* ...807 -> ...800 */
    cr_assert_eq(r, INT64_MAX - 7);
    cr_assert_eq(hpf_money_round(&r, INT64_MAX, 1), 0);
    cr_assert_eq(r, INT64_MAX);
}

Test(money_parse, accepts_zero_one_or_two_decimals)
{
    cr_assert_eq(parse_ok("1234"), 123400);
    cr_assert_eq(parse_ok("1234.5"), 123450);
    cr_assert_eq(parse_ok("1234.56"), 123456);
    cr_assert_eq(parse_ok("-3.10"), -310);
    cr_assert_eq(parse_ok("0"), 0);
    cr_assert_eq(parse_ok("0.5"), 50);
    cr_assert_eq(parse_ok("0.05"), 5);
    cr_assert_eq(parse_ok("-0.00"), 0);
    cr_assert_eq(parse_ok("523.00"), 52300);
}

Test(money_parse, refuses_everything_outside_the_grammar)
{
    static const char *const bad[] = {
        "",     "-",    "+1",  " 1",  "1 ",    ".5",    "1.",   "1.234", "1e3",
        "01",   "00.5", "-.5", "--1", "1,000", "1.2.3", "0x10", "1..2",  "\xd9\xa1",
        "1.-2", "NaN",  "inf", "12a", "-01",   "1.0 ",  "\t1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_refused(bad[i]);
    hpf_fen v;
    cr_assert_eq(hpf_money_parse(&v, NULL, 0, 100), HPF_EINVAL);
}

Test(money_parse, enforces_the_caller_bounds)
{
    hpf_fen v = 0;
    cr_assert_eq(hpf_money_parse(&v, "100.00", 0, 10000), 0);
    cr_assert_eq(v, 10000);
    cr_assert_eq(hpf_money_parse(&v, "100.01", 0, 10000), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "-0.01", 0, 10000), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "0.01", 1, 10000), 0);
    cr_assert_eq(v, 1);
}

Test(money_parse, refuses_numbers_too_large_for_int64_fen)
{
    hpf_fen v = 1;
    /* INT64_MAX fen is 92233720368547758.07 yuan. */
    cr_assert_eq(hpf_money_parse(&v, "92233720368547758.07", INT64_MIN, INT64_MAX), 0);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(hpf_money_parse(&v, "92233720368547758.08", INT64_MIN, INT64_MAX), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "92233720368547759", INT64_MIN, INT64_MAX), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "99999999999999999999999", INT64_MIN, INT64_MAX), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "100000000000.01", -HPF_MONEY_MAX, HPF_MONEY_MAX), HPF_EINVAL);
    cr_assert_eq(hpf_money_parse(&v, "100000000000.00", -HPF_MONEY_MAX, HPF_MONEY_MAX), 0);
    cr_assert_eq(v, HPF_MONEY_MAX);
}

Test(money_fmt, writes_two_decimals_and_a_sign)
{
    char buf[24];
    cr_assert_str_eq(hpf_money_fmt(buf, 52300), "523.00");
    cr_assert_str_eq(hpf_money_fmt(buf, 0), "0.00");
    cr_assert_str_eq(hpf_money_fmt(buf, 5), "0.05");
    cr_assert_str_eq(hpf_money_fmt(buf, -50), "-0.50");
    cr_assert_str_eq(hpf_money_fmt(buf, -123456), "-1234.56");
    cr_assert_str_eq(hpf_money_fmt(buf, INT64_MAX), "92233720368547758.07");
    cr_assert_str_eq(hpf_money_fmt(buf, INT64_MIN), "-92233720368547758.08");
}

Test(money_fmt, round_trips_through_parse)
{
    static const hpf_fen values[] = {
        0, 1, -1, 99, 100, 10350, -52346, HPF_MONEY_MAX, -HPF_MONEY_MAX};
    char buf[24];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        cr_assert_eq(parse_ok(hpf_money_fmt(buf, values[i])), values[i]);
}
