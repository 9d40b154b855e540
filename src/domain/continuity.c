/* domain/continuity: the continuity counter of RULES §1.3 (continuity.h). */
#include "domain/continuity.h"

static bool counts(const hpf_continuity_month *m, bool deferral_counts)
{
    return (m->paid > 0 && m->paid >= m->required) || (m->deferred && deferral_counts);
}

int hpf_continuity_count(const hpf_continuity_month *months, size_t n, hpf_month as_of_month,
                         hpf_month first_month, bool deferral_counts, int imported_months, int *out,
                         hpf_err *err)
{
    *out = 0;
    if (n > HPF_CONTINUITY_MAX_MONTHS || imported_months < 0 ||
        imported_months > HPF_CONTINUITY_MAX_MONTHS || !hpf_month_valid(as_of_month) ||
        (first_month && !hpf_month_valid(first_month)))
        return hpf_err_field(err, HPF_EINVAL, "", "continuity.input",
                             "continuity: %zu months, %d imported, as of %d, first %d", n,
                             imported_months, (int)as_of_month, (int)first_month);
    for (size_t i = 0; i < n; i++)
        if (!hpf_month_valid(months[i].period) || months[i].required < 0 || months[i].paid < 0 ||
            (i > 0 && months[i].period <= months[i - 1].period))
            return hpf_err_field(err, HPF_EINVAL, "", "continuity.input",
                                 "continuity: month %zu (%d) out of order or invalid", i,
                                 (int)months[i].period);
    /* The start: the latest month not after the evaluation month that counts. */
    size_t i = n;
    while (i > 0 &&
           (months[i - 1].period > as_of_month || !counts(&months[i - 1], deferral_counts)))
        i--;
    if (i == 0) {
        *out = first_month && as_of_month <= first_month ? imported_months : 0;
        return 0;
    }
    /* Walk back one calendar month at a time while the listed months run on and count. */
    int count = 0;
    hpf_month expect = months[i - 1].period;
    while (i > 0 && months[i - 1].period == expect && counts(&months[i - 1], deferral_counts)) {
        count++;
        expect = hpf_month_add(expect, -1);
        i--;
    }
    /* `expect` is the first month that broke the run: before the account's first month here,
     * the run reached the account's beginning and the months brought with it carry on. */
    if (first_month && expect < first_month)
        count += imported_months;
    *out = count;
    return 0;
}
