#include "domain/contribution.h"

#include <stdio.h>
#include <string.h>

/* A ratio in basis points as a percentage for messages: 1200 -> "12%", 1250 -> "12.5%". */
static const char *pct(char out[24], int32_t bp)
{
    int64_t a = bp < 0 ? -(int64_t)bp : bp;
    const char *sign = bp < 0 ? "-" : "";
    int64_t whole = a / 100, frac = a % 100;
    if (frac == 0)
        snprintf(out, 24, "%s%lld%%", sign, (long long)whole);
    else if (frac % 10 == 0)
        snprintf(out, 24, "%s%lld.%lld%%", sign, (long long)whole, (long long)(frac / 10));
    else
        snprintf(out, 24, "%s%lld.%02lld%%", sign, (long long)whole, (long long)frac);
    return out;
}

static int policy_field(hpf_err *err, const char *field, const char *msg)
{
    return hpf_err_field(err, HPF_EINVAL, field, "policy.invalid", "contribution policy: %s", msg);
}

int hpf_contrib_policy_check(const hpf_contrib_policy *p, hpf_err *err)
{
    if (p->unit_ratio_min_bp <= 0 || p->unit_ratio_min_bp > p->unit_ratio_max_bp ||
        p->unit_ratio_max_bp > 10000)
        return policy_field(err, "/unit_ratio_min_bp",
                            "employer ratio bounds must satisfy 0 < min <= max <= 10000 bp");
    if (p->indiv_ratio_min_bp <= 0 || p->indiv_ratio_min_bp > p->indiv_ratio_max_bp ||
        p->indiv_ratio_max_bp > 10000)
        return policy_field(err, "/indiv_ratio_min_bp",
                            "employee ratio bounds must satisfy 0 < min <= max <= 10000 bp");
    if (p->city_avg_wage <= 0 || p->city_avg_wage > HPF_MONEY_MAX)
        return policy_field(err, "/city_avg_wage", "the city average wage must be positive");
    if (p->cap_multiple < 1)
        return policy_field(err, "/cap_multiple", "the cap multiple must be at least 1");
    hpf_fen cap;
    if (__builtin_mul_overflow(p->city_avg_wage, (int64_t)p->cap_multiple, &cap) ||
        cap > HPF_MONEY_MAX)
        return policy_field(err, "/cap_multiple", "the base cap is too large");
    if (p->min_wage <= 0 || p->min_wage > cap)
        return policy_field(err, "/min_wage",
                            "the minimum wage must be positive and not above the base cap");
    if (p->rounding != HPF_ROUND_FEN && p->rounding != HPF_ROUND_JIAO &&
        p->rounding != HPF_ROUND_YUAN)
        return policy_field(err, "/rounding", "rounding must be yuan, jiao or fen");
    return 0;
}

static int ratio_in_range(const char *field, const char *who, int32_t bp, int32_t min, int32_t max,
                          hpf_err *err)
{
    if (bp >= min && bp <= max)
        return 0;
    char a[24], lo[24], hi[24];
    return hpf_err_field(err, HPF_EINVAL, field, "ratio.range",
                         "the %s ratio %s is outside the allowed %s..%s", who, pct(a, bp),
                         pct(lo, min), pct(hi, max));
}

int hpf_contrib_check_ratios(const hpf_contrib_policy *p, int32_t unit_bp, int32_t indiv_bp,
                             hpf_err *err)
{
    int rc = ratio_in_range("/unit_ratio_bp", "employer", unit_bp, p->unit_ratio_min_bp,
                            p->unit_ratio_max_bp, err);
    if (rc < 0)
        return rc;
    rc = ratio_in_range("/indiv_ratio_bp", "employee", indiv_bp, p->indiv_ratio_min_bp,
                        p->indiv_ratio_max_bp, err);
    if (rc < 0)
        return rc;
    if (p->ratios_must_match && unit_bp != indiv_bp) {
        char u[24], i[24];
        return hpf_err_field(err, HPF_EINVAL, "/indiv_ratio_bp", "ratio.must_match",
                             "the employee ratio %s must equal the employer ratio %s here",
                             pct(i, indiv_bp), pct(u, unit_bp));
    }
    return 0;
}

/* A valid policy is a configuration fact, not the client's input: report it as a bug. */
static int checked_policy(const hpf_contrib_policy *p, hpf_err *err)
{
    if (hpf_contrib_policy_check(p, err) == 0)
        return 0;
    if (err)
        err->code = HPF_EINTERNAL;
    return HPF_EINTERNAL;
}

/* round_half_up(base * bp / 10000) to a multiple of `unit` fen, from the exact product: rounding
 * to fen first and then to the unit would round twice. */
static int part(hpf_fen *out, hpf_fen base, int32_t bp, hpf_rounding unit, hpf_err *err)
{
    hpf_fen units, v;
    if (hpf_money_muldiv(&units, base, bp, INT64_C(10000) * unit) < 0 ||
        __builtin_mul_overflow(units, (int64_t)unit, &v))
        return hpf_err_set(err, HPF_EOVERFLOW, "contribution amount overflows");
    *out = v;
    return 0;
}

int hpf_contrib_compute(hpf_contrib *out, const hpf_contrib_policy *p, hpf_fen wage,
                        int32_t unit_bp, int32_t indiv_bp, hpf_err *err)
{
    int rc = checked_policy(p, err);
    if (rc < 0)
        return rc;
    if (wage <= 0)
        return hpf_err_field(err, HPF_EINVAL, "/wage", "wage.range",
                             "the average monthly wage must be greater than 0");
    rc = hpf_contrib_check_ratios(p, unit_bp, indiv_bp, err);
    if (rc < 0)
        return rc;

    hpf_fen cap = p->city_avg_wage * p->cap_multiple; /* checked by the policy check */
    hpf_contrib c = {.base = wage < p->min_wage ? p->min_wage : wage > cap ? cap : wage};
    rc = part(&c.unit, c.base, unit_bp, p->rounding, err);
    if (rc < 0)
        return rc;
    rc = part(&c.individual, c.base, indiv_bp, p->rounding, err);
    if (rc < 0)
        return rc;
    if (hpf_money_add(&c.total, c.unit, c.individual) < 0)
        return hpf_err_set(err, HPF_EOVERFLOW, "contribution total overflows");
    *out = c;
    return 0;
}

int hpf_contrib_deposit_limits(hpf_fen *min_out, hpf_fen *max_out, const hpf_contrib_policy *p,
                               hpf_err *err)
{
    int rc = checked_policy(p, err);
    if (rc < 0)
        return rc;
    hpf_fen cap = p->city_avg_wage * p->cap_multiple; /* checked by the policy check */
    hpf_fen u_max = 0, i_max = 0, u_min = 0, i_min = 0, lo, hi;
    if ((rc = part(&u_max, cap, p->unit_ratio_max_bp, p->rounding, err)) < 0)
        return rc;
    if ((rc = part(&i_max, cap, p->indiv_ratio_max_bp, p->rounding, err)) < 0)
        return rc;
    if ((rc = part(&u_min, p->min_wage, p->unit_ratio_min_bp, p->rounding, err)) < 0)
        return rc;
    if ((rc = part(&i_min, p->min_wage, p->indiv_ratio_min_bp, p->rounding, err)) < 0)
        return rc;
    if (hpf_money_add(&hi, u_max, i_max) < 0 || hpf_money_add(&lo, u_min, i_min) < 0)
        return hpf_err_set(err, HPF_EOVERFLOW, "monthly deposit limit overflows");
    *min_out = lo;
    *max_out = hi;
    return 0;
}

/* ---- changes of the base and the ratios ---- */

int hpf_contrib_year_of(hpf_month m)
{
    return m % 100 >= 7 ? m / 100 : m / 100 - 1;
}

int64_t hpf_contrib_value_at(const hpf_contrib_change *c, size_t n, hpf_month period,
                             int64_t current)
{
    if (n == 0)
        return current;
    /* The changes are few per member or employer (one a year): a scan is enough. */
    const hpf_contrib_change *last = NULL;
    for (size_t i = 0; i < n && c[i].from <= period; i++)
        last = &c[i];
    return last ? last->after : c[0].before;
}

int hpf_contrib_base(hpf_fen *out, const hpf_contrib_policy *p, hpf_fen wage, hpf_err *err)
{
    int rc = checked_policy(p, err);
    if (rc < 0)
        return rc;
    if (wage <= 0)
        return hpf_err_field(err, HPF_EINVAL, "/wage", "wage.range",
                             "the average monthly wage must be greater than 0");
    hpf_fen cap = p->city_avg_wage * p->cap_multiple; /* checked by the policy check */
    *out = wage < p->min_wage ? p->min_wage : wage > cap ? cap : wage;
    return 0;
}

int hpf_contrib_check_ratio_change(const hpf_contrib_policy *p, int32_t unit_bp, int32_t indiv_bp,
                                   hpf_err *err)
{
    char a[24], lo[24];
    if (unit_bp < p->unit_ratio_min_bp)
        return hpf_err_field(err, HPF_EINVAL, "/unit_ratio_bp", "ratio.below_minimum",
                             "the employer ratio %s is below the minimum %s: lowering it needs the "
                             "降比/缓缴 procedure (RULES C-9), not a ratio change",
                             pct(a, unit_bp), pct(lo, p->unit_ratio_min_bp));
    if (indiv_bp < p->indiv_ratio_min_bp)
        return hpf_err_field(err, HPF_EINVAL, "/indiv_ratio_bp", "ratio.below_minimum",
                             "the employee ratio %s is below the minimum %s: lowering it needs the "
                             "降比/缓缴 procedure (RULES C-9), not a ratio change",
                             pct(a, indiv_bp), pct(lo, p->indiv_ratio_min_bp));
    return hpf_contrib_check_ratios(p, unit_bp, indiv_bp, err);
}

/* ---- voluntary deposits ---- */

void hpf_contrib_voluntary_range(const hpf_contrib_policy *p, int32_t *min_bp, int32_t *max_bp)
{
    *min_bp = p->unit_ratio_min_bp + p->indiv_ratio_min_bp; /* each <= 10000: no overflow */
    *max_bp = p->unit_ratio_max_bp + p->indiv_ratio_max_bp;
}

int hpf_contrib_voluntary(hpf_contrib *out, const hpf_contrib_policy *p, hpf_fen base,
                          int32_t ratio_bp, bool strict, hpf_err *err)
{
    int rc = checked_policy(p, err);
    if (rc < 0)
        return rc;
    hpf_fen cap = p->city_avg_wage * p->cap_multiple; /* checked by the policy check */
    int32_t lo, hi;
    hpf_contrib_voluntary_range(p, &lo, &hi);
    char b[24], f[24], c[24];
    if (strict && (base < p->min_wage || base > cap))
        return hpf_err_field(err, HPF_EINVAL, "/base", "voluntary.base_range",
                             "the base %s is outside %s..%s (the minimum wage to the cap)",
                             hpf_money_fmt(b, base), hpf_money_fmt(f, p->min_wage),
                             hpf_money_fmt(c, cap));
    if (strict && (ratio_bp < lo || ratio_bp > hi))
        return hpf_err_field(err, HPF_EINVAL, "/ratio_bp", "voluntary.ratio_range",
                             "the ratio %s is outside the voluntary range %s..%s", pct(b, ratio_bp),
                             pct(f, lo), pct(c, hi));
    hpf_contrib v = {.base = base < p->min_wage ? p->min_wage : base > cap ? cap : base};
    int32_t r = ratio_bp < lo ? lo : ratio_bp > hi ? hi : ratio_bp;
    rc = part(&v.individual, v.base, r, p->rounding, err);
    if (rc < 0)
        return rc;
    v.total = v.individual;
    *out = v;
    return 0;
}

static const struct {
    hpf_rounding r;
    const char *lower, *upper;
} rounding_names[] = {
    {HPF_ROUND_YUAN, "yuan", "YUAN"},
    {HPF_ROUND_JIAO, "jiao", "JIAO"},
    {HPF_ROUND_FEN, "fen", "FEN"},
};

int hpf_rounding_parse(hpf_rounding *out, const char *s)
{
    if (!s)
        return HPF_EINVAL;
    for (size_t i = 0; i < sizeof rounding_names / sizeof rounding_names[0]; i++)
        if (strcmp(s, rounding_names[i].lower) == 0 || strcmp(s, rounding_names[i].upper) == 0) {
            *out = rounding_names[i].r;
            return 0;
        }
    return HPF_EINVAL;
}

const char *hpf_rounding_name(hpf_rounding r)
{
    for (size_t i = 0; i < sizeof rounding_names / sizeof rounding_names[0]; i++)
        if (rounding_names[i].r == r)
            return rounding_names[i].lower;
    return "unknown";
}
