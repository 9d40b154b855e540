/*
 * continuity: the continuity counter (连续足额缴存月数, RULES §1.3) that loans and rent withdrawals
 * ask for. Walk backwards from the latest month paid in full by the evaluation date (缴至年月 as
 * of that date) and count the consecutive months whose required amount was fully posted (汇缴 or
 * 补缴, matched by 汇补缴年月); the count stops at the first missing or short month. Approved
 * deferral (缓缴) months count as continuous when the policy says so; months brought by a
 * cross-city transfer-in count when the walk runs unbroken past the account's first month here.
 * Pure: the caller gathers the facts of each month (docs/internals/deposits.md).
 */
#ifndef HPF_DOMAIN_CONTINUITY_H
#define HPF_DOMAIN_CONTINUITY_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>

/* What one month holds, as of the evaluation date. */
typedef struct hpf_continuity_month {
    hpf_month period;
    hpf_fen required; /* the month's full amount (employer + member parts) */
    hpf_fen paid;     /* 汇缴 + 补缴 posted for the month on or before the evaluation date */
    bool deferred;    /* an approved 缓缴 month, owed and not made up by the evaluation date */
} hpf_continuity_month;

/* At most this many months are walked (a century): a bound on input, not a business rule. */
#define HPF_CONTINUITY_MAX_MONTHS 1200

/*
 * The count of consecutive months into *out. `months` lists the months that hold anything,
 * sorted by period ascending, each once (n <= HPF_CONTINUITY_MAX_MONTHS); a month that is not
 * listed holds nothing. A month counts when paid >= required and paid > 0, or when it is
 * deferred and `deferral_counts` (policy deferral_counts_as_continuous). The walk starts at the
 * latest counting month not after `as_of_month`; no such month gives 0 months of this account.
 * `imported_months` (>= 0, from a cross-city transfer-in) are added when the walk runs past
 * `first_month` (the account's first month at this centre; 0: unknown, never) without a break,
 * or when nothing counts yet and the account is new (as_of_month <= first_month). Returns 0, or
 * HPF_EINVAL continuity.input for unsorted or repeated periods, an invalid month, a negative amount
 * or imported count, or too many months.
 */
int hpf_continuity_count(const hpf_continuity_month *months, size_t n, hpf_month as_of_month,
                         hpf_month first_month, bool deferral_counts, int imported_months, int *out,
                         hpf_err *err);

#endif
