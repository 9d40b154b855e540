/*
 * contribution: the monthly deposit (月缴存额) of one employee from the contribution base and the
 * two ratios (RULES §1.2). The base is the employee's prior-year average monthly wage clamped to
 * [local minimum wage, cap_multiple x prior-year city average monthly wage]; the employer part
 * and the employee part are each rounded half-up to the policy's unit (yuan, jiao or fen)
 * straight from the exact product, separately, and then added. Also the published monthly
 * deposit limits (YJCESX / YJCEXX). Pure functions: the policy is passed in by the caller, which
 * loads the version in force for the business date. All arithmetic is overflow-checked.
 */
#ifndef HPF_DOMAIN_CONTRIBUTION_H
#define HPF_DOMAIN_CONTRIBUTION_H

#include "base/err.h"
#include "base/money.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { HPF_ROUND_FEN = 1, HPF_ROUND_JIAO = 10, HPF_ROUND_YUAN = 100 } hpf_rounding;

typedef struct hpf_contrib_policy {
    int32_t unit_ratio_min_bp, unit_ratio_max_bp;   /* employer ratio bounds, e.g. 500..1200 */
    int32_t indiv_ratio_min_bp, indiv_ratio_max_bp; /* employee ratio bounds, e.g. 500..1200 */
    hpf_fen city_avg_wage;                          /* prior-year city average monthly wage */
    hpf_fen min_wage;                               /* local minimum wage = base floor */
    int32_t cap_multiple;   /* base cap = cap_multiple x city_avg_wage; 3 in Jiangsu */
    hpf_rounding rounding;  /* unit the two parts are rounded to */
    bool ratios_must_match; /* employer and employee ratios must be equal */
} hpf_contrib_policy;

typedef struct hpf_contrib {
    hpf_fen base, unit, individual, total;
} hpf_contrib;

/*
 * Check that a policy makes sense before it is stored or used: each ratio range is
 * 0 < min <= max <= 10000 bp, city_avg_wage > 0, cap_multiple >= 1, the cap
 * cap_multiple x city_avg_wage at most HPF_MONEY_MAX, 0 < min_wage <= cap, and rounding one of
 * the three units. Returns 0 or HPF_EINVAL (rule "policy.invalid", field "/" + the member name).
 */
int hpf_contrib_policy_check(const hpf_contrib_policy *p, hpf_err *err);

/*
 * Check the employer and employee ratios against the policy: each within its [min, max]
 * (field "/unit_ratio_bp" or "/indiv_ratio_bp", rule "ratio.range", the message gives the range
 * in percent, e.g. "5%..12%"), and equal when p->ratios_must_match (field "/indiv_ratio_bp",
 * rule "ratio.must_match"). Returns 0 or HPF_EINVAL.
 */
int hpf_contrib_check_ratios(const hpf_contrib_policy *p, int32_t unit_bp, int32_t indiv_bp,
                             hpf_err *err);

/*
 * Compute one employee's monthly deposit. `wage` is the prior-year average monthly wage in fen
 * and must be > 0 (else HPF_EINVAL, field "/wage", rule "wage.range"). The ratios are checked as
 * by hpf_contrib_check_ratios. A policy that fails hpf_contrib_policy_check gives HPF_EINTERNAL
 * (it is configuration, not the client's input; the message says what is wrong). Then
 *   base       = clamp(wage, min_wage, cap_multiple x city_avg_wage)
 *   unit       = round_half_up(base x unit_bp  / 10000, rounding)
 *   individual = round_half_up(base x indiv_bp / 10000, rounding)
 *   total      = unit + individual
 * Returns 0, HPF_EINVAL, HPF_EINTERNAL or HPF_EOVERFLOW; *out is written only on success.
 */
int hpf_contrib_compute(hpf_contrib *out, const hpf_contrib_policy *p, hpf_fen wage,
                        int32_t unit_bp, int32_t indiv_bp, hpf_err *err);

/*
 * The published limits on the combined monthly deposit (RULES §1.2 bullet 3):
 *   max = round(cap x unit_ratio_max) + round(cap x indiv_ratio_max)
 *   min = round(floor x unit_ratio_min) + round(floor x indiv_ratio_min)
 * with cap = cap_multiple x city_avg_wage, floor = min_wage and the policy's rounding; with equal
 * ratio bounds this is RULES' round(cap x 12%) x 2 and round(floor x 5%) x 2. They equal the
 * totals hpf_contrib_compute gives at the cap with the maximum ratios and at the floor with the
 * minimum ratios. Returns 0, HPF_EINTERNAL (a policy that fails hpf_contrib_policy_check) or
 * HPF_EOVERFLOW; outputs written only on success.
 */
int hpf_contrib_deposit_limits(hpf_fen *min_out, hpf_fen *max_out, const hpf_contrib_policy *p,
                               hpf_err *err);

/* Parse "yuan", "jiao" or "fen" (or the upper-case "YUAN", "JIAO", "FEN" used in RULES).
 * Returns 0 or HPF_EINVAL; out untouched on error. */
int hpf_rounding_parse(hpf_rounding *out, const char *s);

/* "yuan", "jiao" or "fen"; "unknown" for a value outside the enum. Static storage. */
const char *hpf_rounding_name(hpf_rounding r);

#endif
