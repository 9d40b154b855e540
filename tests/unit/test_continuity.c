/* Unit tests for domain/continuity: the continuity counter of RULES §1.3 (连续足额缴存月数):
 * where the walk starts, what stops it (a missing month, a short month, a month paid after the
 * evaluation date is the caller's to leave out), deferral months with the policy flag on and off,
 * and the months a cross-city transfer-in brings. */
#include "base/err.h"
#include "domain/continuity.h"

#include <criterion/criterion.h>

#define FULL(p)                                                                                    \
    {                                                                                              \
        (p), 104600, 104600, false                                                                 \
    }
#define SHORT(p)                                                                                   \
    {                                                                                              \
        (p), 104600, 104500, false                                                                 \
    }
#define DEFERRED(p)                                                                                \
    {                                                                                              \
        (p), 104600, 0, true                                                                       \
    }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int count(const hpf_continuity_month *m, size_t n, hpf_month as_of, hpf_month first,
                 bool deferral_counts, int imported)
{
    hpf_err err = HPF_ERR_INIT;
    int out = -1;
    int rc = hpf_continuity_count(m, n, as_of, first, deferral_counts, imported, &out, &err);
    cr_assert_eq(rc, 0, "hpf_continuity_count: %s", err.msg);
    return out;
}

Test(continuity, counts_every_month_of_an_unbroken_run)
{
    const hpf_continuity_month m[] = {FULL(202601), FULL(202602), FULL(202603), FULL(202604)};
    cr_assert_eq(count(m, N(m), 202611, 202601, false, 0), 4);
}

Test(continuity, a_missing_month_stops_the_walk)
{
    /* 2026-03 was never paid: the run ending at 2026-05 is 04 and 05. */
    const hpf_continuity_month m[] = {FULL(202601), FULL(202602), FULL(202604), FULL(202605)};
    cr_assert_eq(count(m, N(m), 202611, 202601, false, 0), 2);
}

Test(continuity, a_short_month_stops_the_walk_and_is_not_counted)
{
    const hpf_continuity_month m[] = {FULL(202601), SHORT(202602), FULL(202603), FULL(202604)};
    cr_assert_eq(count(m, N(m), 202611, 202601, false, 0), 2);
}

Test(continuity, the_walk_starts_at_the_latest_full_month)
{
    /* The latest month is short: the walk starts at the month before it (缴至年月 as of the
     * evaluation date is the last month paid in full). */
    const hpf_continuity_month m[] = {FULL(202601), FULL(202602), FULL(202603), SHORT(202604)};
    cr_assert_eq(count(m, N(m), 202611, 202601, false, 0), 3);
}

Test(continuity, months_after_the_evaluation_month_do_not_count)
{
    const hpf_continuity_month m[] = {FULL(202601), FULL(202602), FULL(202603), FULL(202604)};
    cr_assert_eq(count(m, N(m), 202602, 202601, false, 0), 2);
    cr_assert_eq(count(m, N(m), 202512, 202601, false, 0), 0);
}

Test(continuity, a_back_payment_filling_a_gap_joins_the_runs)
{
    const hpf_continuity_month gap[] = {FULL(202601), FULL(202602), FULL(202604)};
    const hpf_continuity_month filled[] = {FULL(202601), FULL(202602), FULL(202603), FULL(202604)};
    cr_assert_eq(count(gap, N(gap), 202611, 202601, false, 0), 1);
    cr_assert_eq(count(filled, N(filled), 202611, 202601, false, 0), 4);
}

Test(continuity, deferral_months_count_only_with_the_policy_flag)
{
    /* C-10: 2022 deferral 04..06 between paid months. */
    const hpf_continuity_month m[] = {FULL(202201),     FULL(202202),     FULL(202203),
                                      DEFERRED(202204), DEFERRED(202205), DEFERRED(202206),
                                      FULL(202207)};
    cr_assert_eq(count(m, N(m), 202212, 202201, true, 0), 7);
    cr_assert_eq(count(m, N(m), 202212, 202201, false, 0), 1);
}

Test(continuity, deferral_months_after_the_last_paid_month_count_with_the_flag)
{
    const hpf_continuity_month m[] = {FULL(202201), FULL(202202), DEFERRED(202203),
                                      DEFERRED(202204), DEFERRED(202205)};
    /* As of 2022-04 the deferral of 05 has not come yet. */
    cr_assert_eq(count(m, N(m), 202204, 202201, true, 0), 4);
    cr_assert_eq(count(m, N(m), 202204, 202201, false, 0), 2);
}

Test(continuity, nothing_paid_is_zero)
{
    cr_assert_eq(count(NULL, 0, 202611, 202601, true, 0), 0);
    const hpf_continuity_month m[] = {SHORT(202601)};
    cr_assert_eq(count(m, N(m), 202611, 202601, true, 0), 0);
    /* Required 0 and nothing paid is not a paid month. */
    const hpf_continuity_month z[] = {{202601, 0, 0, false}};
    cr_assert_eq(count(z, N(z), 202611, 202601, true, 0), 0);
}

Test(continuity, imported_months_join_a_run_that_reaches_the_first_month)
{
    /* Transferred in with 6 continuous months (SixMconFlag = 1); every month here paid. */
    const hpf_continuity_month m[] = {FULL(202605), FULL(202606), FULL(202607)};
    cr_assert_eq(count(m, N(m), 202611, 202605, false, 6), 9);
    /* A gap here cuts them off. */
    const hpf_continuity_month g[] = {FULL(202605), FULL(202607)};
    cr_assert_eq(count(g, N(g), 202611, 202605, false, 6), 1);
    /* First month unknown: never added. */
    cr_assert_eq(count(m, N(m), 202611, 0, false, 6), 3);
}

Test(continuity, a_new_account_carries_its_imported_months)
{
    cr_assert_eq(count(NULL, 0, 202611, 202611, false, 6), 6);
    /* An account whose months came and went unpaid does not. */
    cr_assert_eq(count(NULL, 0, 202611, 202601, false, 6), 0);
}

Test(continuity, overpaid_month_counts)
{
    const hpf_continuity_month m[] = {{202601, 104600, 110000, false}};
    cr_assert_eq(count(m, N(m), 202611, 202601, false, 0), 1);
}

Test(continuity, bad_input_is_refused)
{
    hpf_err err = HPF_ERR_INIT;
    int out;
    const hpf_continuity_month unsorted[] = {FULL(202602), FULL(202601)};
    cr_assert_eq(hpf_continuity_count(unsorted, 2, 202611, 0, false, 0, &out, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "continuity.input");
    const hpf_continuity_month twice[] = {FULL(202601), FULL(202601)};
    cr_assert_eq(hpf_continuity_count(twice, 2, 202611, 0, false, 0, &out, &err), HPF_EINVAL);
    const hpf_continuity_month bad[] = {FULL(202613)};
    cr_assert_eq(hpf_continuity_count(bad, 1, 202611, 0, false, 0, &out, &err), HPF_EINVAL);
    const hpf_continuity_month neg[] = {{202601, -1, 0, false}};
    cr_assert_eq(hpf_continuity_count(neg, 1, 202611, 0, false, 0, &out, &err), HPF_EINVAL);
    cr_assert_eq(hpf_continuity_count(NULL, 0, 202611, 0, false, -1, &out, &err), HPF_EINVAL);
    cr_assert_eq(hpf_continuity_count(NULL, 0, 0, 0, false, 0, &out, &err), HPF_EINVAL);
}

Test(continuity, the_run_crosses_year_ends)
{
    const hpf_continuity_month m[] = {FULL(202511), FULL(202512), FULL(202601), FULL(202602)};
    cr_assert_eq(count(m, N(m), 202611, 202511, false, 0), 4);
}
