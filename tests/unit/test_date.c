/* Unit tests for base/date: validity, day numbers, parsing, formatting and month arithmetic. */
#include "base/date.h"
#include "base/err.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <time.h>

Test(date_valid, knows_gregorian_leap_years)
{
    cr_assert(hpf_date_valid(2000, 2, 29), "2000 is divisible by 400");
    cr_assert(!hpf_date_valid(1900, 2, 29), "1900 is a century not divisible by 400");
    cr_assert(hpf_date_valid(2024, 2, 29));
    cr_assert(!hpf_date_valid(2023, 2, 29));
    cr_assert(!hpf_date_valid(2100, 2, 29));
    cr_assert(hpf_date_valid(2400, 2, 29));
    cr_assert_eq(hpf_days_in_month(2000, 2), 29);
    cr_assert_eq(hpf_days_in_month(1900, 2), 28);
}

Test(date_valid, refuses_impossible_days_and_months)
{
    cr_assert(!hpf_date_valid(2024, 4, 31));
    cr_assert(hpf_date_valid(2024, 1, 31));
    cr_assert(!hpf_date_valid(2024, 0, 1));
    cr_assert(!hpf_date_valid(2024, 13, 1));
    cr_assert(!hpf_date_valid(2024, 1, 0));
    cr_assert(!hpf_date_valid(2024, 12, 32));
    cr_assert(!hpf_date_valid(0, 1, 1));
    cr_assert(!hpf_date_valid(10000, 1, 1));
    cr_assert(hpf_date_valid(9999, 12, 31));
    cr_assert_eq(hpf_days_in_month(2024, 13), 0);
}

Test(day_number, counts_from_the_unix_epoch)
{
    cr_assert_eq(hpf_day_from_ymd(1970, 1, 1), 0);
    cr_assert_eq(hpf_day_from_ymd(1970, 1, 2), 1);
    cr_assert_eq(hpf_day_from_ymd(1969, 12, 31), -1);
    cr_assert_eq(hpf_day_from_ymd(2000, 3, 1), 11017);
    cr_assert_eq(hpf_day_from_ymd(1900, 1, 1), -25567);
    /* The interest year of RULES 2.3-A: 2021-07-01 .. 2022-06-30 is 365 days. */
    cr_assert_eq(hpf_day_from_ymd(2022, 7, 1) - hpf_day_from_ymd(2021, 7, 1), 365);
    cr_assert_eq(hpf_day_from_ymd(2024, 7, 1) - hpf_day_from_ymd(2023, 7, 1), 366);
}

Test(day_number, round_trips_every_day_from_1900_to_2100)
{
    hpf_day first = hpf_day_from_ymd(1900, 1, 1), last = hpf_day_from_ymd(2100, 12, 31);
    int py = 1899, pm = 12, pd = 31;
    for (hpf_day day = first; day <= last; day++) {
        int y, m, d;
        hpf_day_to_ymd(day, &y, &m, &d);
        cr_assert(hpf_date_valid(y, m, d), "day %d gave %d-%d-%d", (int)day, y, m, d);
        cr_assert_eq(hpf_day_from_ymd(y, m, d), day);
        /* the next day of the previous date */
        bool next = (y == py && m == pm && d == pd + 1) ||
                    (y == py && m == pm + 1 && d == 1 && pd == hpf_days_in_month(py, pm)) ||
                    (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        cr_assert(next, "%d-%d-%d does not follow %d-%d-%d", y, m, d, py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

Test(day_parse, reads_iso_dates)
{
    hpf_day day = 0;
    cr_assert_eq(hpf_day_parse(&day, "2000-02-29"), 0);
    cr_assert_eq(day, hpf_day_from_ymd(2000, 2, 29));
    cr_assert_eq(hpf_day_parse(&day, "1900-01-01"), 0);
    cr_assert_eq(day, -25567);
}

Test(day_parse, refuses_unreal_or_malformed_dates)
{
    static const char *const bad[] = {
        "1900-02-29", "2023-02-29", "2024-04-31", "2024-13-01", "2024-00-10",  "2024-01-00",
        "2024-1-01",  "2024-01-1",  "20240101",   "2024/01/01", "2024-01-01 ", " 2024-01-01",
        "",           "2024",       "2024-01",    "1899-12-31", "+024-01-01",  "2024-01-01T",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_day day = 77;
        cr_expect_eq(hpf_day_parse(&day, bad[i]), HPF_EINVAL, "\"%s\" should be refused", bad[i]);
        cr_expect_eq(day, 77);
    }
    hpf_day day;
    cr_assert_eq(hpf_day_parse(&day, NULL), HPF_EINVAL);
}

Test(day_parse, reads_the_compact_form)
{
    hpf_day day = 0;
    cr_assert_eq(hpf_day_parse_compact(&day, "20220630"), 0);
    cr_assert_eq(day, hpf_day_from_ymd(2022, 6, 30));
    cr_assert_eq(hpf_day_parse_compact(&day, "19000229"), HPF_EINVAL);
    cr_assert_eq(hpf_day_parse_compact(&day, "2022-06-30"), HPF_EINVAL);
    cr_assert_eq(hpf_day_parse_compact(&day, "202206301"), HPF_EINVAL);
    cr_assert_eq(hpf_day_parse_compact(&day, "2022063"), HPF_EINVAL);
}

Test(day_fmt, writes_zero_padded_dates)
{
    char buf[11], compact[9];
    cr_assert_str_eq(hpf_day_fmt(buf, 0), "1970-01-01");
    cr_assert_str_eq(hpf_day_fmt(buf, hpf_day_from_ymd(2026, 7, 5)), "2026-07-05");
    cr_assert_str_eq(hpf_day_fmt(buf, hpf_day_from_ymd(9999, 12, 31)), "9999-12-31");
    cr_assert_str_eq(hpf_day_fmt_compact(compact, hpf_day_from_ymd(2000, 2, 29)), "20000229");
    hpf_day day;
    cr_assert_eq(hpf_day_parse(&day, hpf_day_fmt(buf, 11017)), 0);
    cr_assert_eq(day, 11017);
    cr_assert_str_eq(hpf_day_fmt(buf, hpf_day_from_ymd(5, 3, 9)), "0005-03-09");
    cr_assert_str_eq(hpf_day_fmt_compact(compact, hpf_day_from_ymd(10, 10, 10)), "00101010");
    /* Every day of 1900..9999 round-trips, and agrees with printf's form. */
    for (hpf_day d = hpf_day_from_ymd(1900, 1, 1); d <= hpf_day_from_ymd(9999, 12, 31); d += 7) {
        int y, m, dd;
        char want[32];
        hpf_day_to_ymd(d, &y, &m, &dd);
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, dd);
        cr_assert_str_eq(hpf_day_fmt(buf, d), want);
        cr_assert_eq(hpf_day_parse(&day, buf), 0);
        cr_assert_eq(day, d);
        snprintf(want, sizeof want, "%04d%02d%02d", y, m, dd);
        cr_assert_str_eq(hpf_day_fmt_compact(compact, d), want);
    }
}

Test(month, parses_and_formats_yyyy_mm)
{
    hpf_month m = 0;
    char buf[8];
    cr_assert_eq(hpf_month_parse(&m, "2026-07"), 0);
    cr_assert_eq(m, 202607);
    cr_assert_str_eq(hpf_month_fmt(buf, m), "2026-07");
    cr_assert_str_eq(hpf_month_fmt(buf, 190001), "1900-01");
    static const char *const bad[] = {"2026-13", "2026-00",    "2026-7", "202607",
                                      "1899-12", "2026-07-01", "",       "2026-7 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(hpf_month_parse(&m, bad[i]), HPF_EINVAL, "\"%s\" should be refused", bad[i]);
    cr_assert_eq(m, 202607);
}

Test(month, knows_valid_months)
{
    cr_assert(hpf_month_valid(202607));
    cr_assert(hpf_month_valid(190001));
    cr_assert(hpf_month_valid(999912));
    cr_assert(!hpf_month_valid(202600));
    cr_assert(!hpf_month_valid(202613));
    cr_assert(!hpf_month_valid(189912));
    cr_assert(!hpf_month_valid(-202601));
}

Test(month, adds_months_across_year_ends_both_ways)
{
    cr_assert_eq(hpf_month_add(202611, 3), 202702);
    cr_assert_eq(hpf_month_add(202612, 1), 202701);
    cr_assert_eq(hpf_month_add(202601, -1), 202512);
    cr_assert_eq(hpf_month_add(202601, -13), 202412);
    cr_assert_eq(hpf_month_add(202607, 0), 202607);
    cr_assert_eq(hpf_month_add(202607, 12 * 30), 205607); /* a 30-year loan term */
    cr_assert_eq(hpf_month_add(202607, -12), 202507);
}

Test(month, counts_the_months_between)
{
    cr_assert_eq(hpf_month_diff(202701, 202612), 1);
    cr_assert_eq(hpf_month_diff(202612, 202701), -1);
    cr_assert_eq(hpf_month_diff(202607, 202607), 0);
    cr_assert_eq(hpf_month_diff(205607, 202607), 360);
    for (int n = -40; n <= 40; n++)
        cr_assert_eq(hpf_month_diff(hpf_month_add(202603, n), 202603), n);
}

Test(month, finds_the_month_of_a_day_and_its_bounds)
{
    cr_assert_eq(hpf_month_of(hpf_day_from_ymd(2024, 2, 29)), 202402);
    cr_assert_eq(hpf_month_of(0), 197001);
    cr_assert_eq(hpf_month_first_day(202402), hpf_day_from_ymd(2024, 2, 1));
    cr_assert_eq(hpf_month_last_day(202402), hpf_day_from_ymd(2024, 2, 29));
    cr_assert_eq(hpf_month_last_day(190002), hpf_day_from_ymd(1900, 2, 28));
    cr_assert_eq(hpf_month_last_day(202612), hpf_day_from_ymd(2026, 12, 31));
}

Test(today, agrees_with_the_system_clock)
{
    /* Read the clock on both sides so a midnight between the reads cannot fail the test. */
    hpf_day before = (hpf_day)(time(NULL) / 86400);
    hpf_day today = hpf_day_today_utc();
    hpf_day after = (hpf_day)(time(NULL) / 86400);
    cr_assert(today >= before && today <= after);
    int y, m, d;
    hpf_day_to_ymd(today, &y, &m, &d);
    cr_assert(y >= 2024);
}
