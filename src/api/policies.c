/* api/policies: proposing a new policy (政策参数) version, which an operator submits and another
 * operator approves (maker-checker, api/approvals.c). GET /api/v1/policy (api/session.c) shows
 * the version in force on a date; this body takes the same fields. */
#include "api/internal.h"

#include <string.h>

static int propose(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"effective_from", API_STR, true},
        {"unit_ratio_min_bp", API_INT, true},
        {"unit_ratio_max_bp", API_INT, true},
        {"indiv_ratio_min_bp", API_INT, true},
        {"indiv_ratio_max_bp", API_INT, true},
        {"city_avg_wage", API_MONEY, true},
        {"min_wage", API_MONEY, true},
        {"cap_multiple", API_INT, true},
        {"rounding", API_STR, true},
        {"ratios_must_match", API_BOOL, true},
        {"deposit_rate_e7", API_INT, true},
        {"day_basis", API_INT, true},
        {"deferral_counts_as_continuous", API_BOOL, false},
        {"note", API_STR, true},
    };
    const char *key;
    json_t *body = NULL;
    hpf_policy p = {0};
    hpf_approval a;
    bool replayed;
    int64_t v[7];
    int rc = api_idem_key(c, "a policy change", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, sizeof spec / sizeof spec[0], &body, err)) < 0)
        return rc;
    if (hpf_day_parse(&p.effective_from, api_str(body, "effective_from")) < 0) {
        rc = hpf_err_field(err, HPF_EINVAL, "/effective_from", "date.format",
                           "effective_from must be a date YYYY-MM-DD");
        goto done;
    }
    if (hpf_rounding_parse(&p.contrib.rounding, api_str(body, "rounding")) < 0 ||
        strcmp(api_str(body, "rounding"), hpf_rounding_name(p.contrib.rounding)) != 0) {
        rc = hpf_err_field(err, HPF_EINVAL, "/rounding", "policy.invalid",
                           "rounding must be yuan, jiao or fen");
        goto done;
    }
    /* Wide bounds here (the JSON is well-formed); the policy's own rules are the service's. */
    if ((rc = api_int(body, "unit_ratio_min_bp", "", 0, 10000, &v[0], err)) < 0 ||
        (rc = api_int(body, "unit_ratio_max_bp", "", 0, 10000, &v[1], err)) < 0 ||
        (rc = api_int(body, "indiv_ratio_min_bp", "", 0, 10000, &v[2], err)) < 0 ||
        (rc = api_int(body, "indiv_ratio_max_bp", "", 0, 10000, &v[3], err)) < 0 ||
        (rc = api_int(body, "cap_multiple", "", 1, 5, &v[4], err)) < 0 ||
        (rc = api_int(body, "day_basis", "", 360, 365, &v[6], err)) < 0 ||
        (rc = api_int(body, "deposit_rate_e7", "", 0, 10000000, &p.deposit_rate_e7, err)) < 0 ||
        (rc = api_money(body, "city_avg_wage", "", 1, HPF_MONEY_MAX, &p.contrib.city_avg_wage,
                        err)) < 0 ||
        (rc = api_money(body, "min_wage", "", 1, HPF_MONEY_MAX, &p.contrib.min_wage, err)) < 0)
        goto done;
    p.contrib.unit_ratio_min_bp = (int32_t)v[0];
    p.contrib.unit_ratio_max_bp = (int32_t)v[1];
    p.contrib.indiv_ratio_min_bp = (int32_t)v[2];
    p.contrib.indiv_ratio_max_bp = (int32_t)v[3];
    p.contrib.cap_multiple = (int32_t)v[4];
    p.contrib.ratios_must_match = json_is_true(json_object_get(body, "ratios_must_match"));
    p.day_basis = (int)v[6];
    /* Absent: the default of C-10, a deferred month counts. */
    p.deferral_counts_as_continuous =
        !json_is_false(json_object_get(body, "deferral_counts_as_continuous"));
    rc = hpf_policy_submit(c->svc, &c->actor, &p, api_str(body, "note"), key, &a, &replayed, err);
    if (rc == 0)
        rc = api_approval_reply(c, &a, replayed);
done:
    json_decref(body);
    return rc;
}

const api_route api_policy_routes[] = {
    {"POST", "/api/v1/policies", HPF_ROLE_OPERATOR, propose, API_FRESH_FACTOR},
};
const size_t api_policy_nroutes = sizeof api_policy_routes / sizeof api_policy_routes[0];
