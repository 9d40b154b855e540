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

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>
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

/* ---- changes of the base and the ratios (基数调整 10, 比例调整 75) ---- */

/* The 缴存年度 (contribution year, RULES C-5) a month belongs to, named by the calendar year of
 * its July: 1 July Y .. 30 June Y+1 is year Y. hpf_contrib_year_of(202606) = 2025. */
int hpf_contrib_year_of(hpf_month m);

/* One change of a value (a member's declared wage, an employer's ratio) from month `from` on:
 * `before` was in force until then, `after` from then. */
typedef struct hpf_contrib_change {
    hpf_month from;
    int64_t before, after;
} hpf_contrib_change;

/* The value in force in `period`, given the changes ordered by (from, then the order they were
 * made): the `after` of the last change from on or before the period; before every change, the
 * `before` of the first; with no change, `current`. A later change of the same month supersedes
 * an earlier one (an operator's correction). Pure and total. */
int64_t hpf_contrib_value_at(const hpf_contrib_change *c, size_t n, hpf_month period,
                             int64_t current);

/* The contribution base of a declared wage: clamp(wage, min_wage, cap). HPF_EINVAL wage.range
 * (field "/wage") for wage <= 0; HPF_EINTERNAL for a policy that fails the check. */
int hpf_contrib_base(hpf_fen *out, const hpf_contrib_policy *p, hpf_fen wage, hpf_err *err);

/* A ratio change (比例调整) checked against the policy in force from its month: a ratio below the
 * minimum is not a ratio change but the 降比 / 缓缴 procedure of RULES C-9 (workers' congress,
 * centre review, 管委会 approval): HPF_EINVAL ratio.below_minimum on the field; otherwise as
 * hpf_contrib_check_ratios (ratio.range above the maximum, ratio.must_match). */
int hpf_contrib_check_ratio_change(const hpf_contrib_policy *p, int32_t unit_bp, int32_t indiv_bp,
                                   hpf_err *err);

/* ---- voluntary deposits (灵活就业, RULES 1.4) ---- */

/* The single ratio range of a voluntary depositor, who pays both parts: [unit_ratio_min +
 * indiv_ratio_min, unit_ratio_max + indiv_ratio_max], RULES' "[5%, 12%] x 2" = 10%..24%. */
void hpf_contrib_voluntary_range(const hpf_contrib_policy *p, int32_t *min_bp, int32_t *max_bp);

/* A voluntary depositor's monthly deposit: base x ratio / 10000 rounded half-up once to the
 * policy's unit; out->unit = 0, out->individual = out->total. When `strict` (registration) the
 * base must lie within [min_wage, cap] (HPF_EINVAL voluntary.base_range, field "/base") and the
 * ratio within the voluntary range (HPF_EINVAL voluntary.ratio_range, field "/ratio_bp"); when
 * not (a month's deposit under a later policy), both are clamped into the policy's bounds so
 * that a policy change never stops a depositor's payments. HPF_EINTERNAL for a bad policy. */
int hpf_contrib_voluntary(hpf_contrib *out, const hpf_contrib_policy *p, hpf_fen base,
                          int32_t ratio_bp, bool strict, hpf_err *err);

/* Parse "yuan", "jiao" or "fen" (or the upper-case "YUAN", "JIAO", "FEN" used in RULES).
 * Returns 0 or HPF_EINVAL; out untouched on error. */
int hpf_rounding_parse(hpf_rounding *out, const char *s);

/* "yuan", "jiao" or "fen"; "unknown" for a value outside the enum. Static storage. */
const char *hpf_rounding_name(hpf_rounding r);

#endif
