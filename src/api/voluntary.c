/* api/voluntary: voluntary depositors (灵活就业, RULES 1.4): registration at the counter, the
 * terms, the month's deposit and stopping (docs/internals/contribution-changes.md). */
#include "api/internal.h"

#include <string.h>

static json_t *voluntary_json(const hpf_voluntary *v)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o}", "account_no",
                     v->account_no, "name", v->name, "unit_account_no", v->unit_account_no,
                     "state_code", v->state, "base", api_money_json(v->base), "ratio_bp",
                     (int)v->ratio_bp, "monthly", api_money_json(v->monthly), "balance",
                     api_money_json(v->balance), "paid_through", api_month_json(v->paid_through),
                     "registered_on", api_day_json(v->registered_on));
}

static int reg(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"name", API_STR, true},   {"id_number", API_STR, true}, {"phone", API_STR, false},
        {"base", API_MONEY, true}, {"ratio_bp", API_INT, true},
    };
    json_t *body = NULL;
    hpf_voluntary out;
    int64_t ratio;
    hpf_voluntary_new in = {0};
    int rc = api_body(c, spec, 5, &body, err);
    if (rc < 0)
        return rc;
    if ((rc = api_money(body, "base", "", 1, HPF_MONEY_MAX, &in.base, err)) < 0 ||
        (rc = api_int(body, "ratio_bp", "", 1, 20000, &ratio, err)) < 0)
        goto done;
    in.name = api_str(body, "name");
    in.id_number = api_str(body, "id_number");
    in.phone = api_str(body, "phone");
    in.ratio_bp = (int32_t)ratio;
    rc = hpf_voluntary_register(c->svc, &c->actor, &in, &out, err);
    if (rc == 0) {
        hpf_http_metric_add("hpf_voluntary_registrations_total",
                            "Voluntary depositors registered (灵活就业)", 1);
        rc = api_reply(c, 201, voluntary_json(&out));
    }
done:
    json_decref(body);
    return rc;
}

static int get(api_ctx *c, hpf_err *err)
{
    hpf_voluntary v;
    int rc = hpf_voluntary_get(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), &v, err);
    return rc < 0 ? rc : api_reply(c, 200, voluntary_json(&v));
}

static int deposit(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"period", API_STR, true}};
    json_t *body = NULL;
    hpf_month period;
    hpf_remittance out;
    bool replayed = false;
    int rc = api_body(c, spec, 1, &body, err);
    if (rc < 0)
        return rc;
    if (hpf_month_parse(&period, api_str(body, "period")) < 0)
        rc = hpf_err_field(err, HPF_EINVAL, "/period", "month.format",
                           "period must be a month YYYY-MM");
    json_decref(body);
    if (rc < 0 || (rc = hpf_voluntary_deposit(c->svc, &c->actor, hpf_http_param(c->req, "grzh"),
                                              period, &out, &replayed, err)) < 0)
        return rc;
    if (replayed)
        hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
    else
        hpf_http_metric_add("hpf_voluntary_deposits_total", "Voluntary monthly deposits posted", 1);
    return api_reply(c, replayed ? 200 : 201, api_remittance_json(&out));
}

static int stop(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, false}};
    json_t *body = NULL;
    hpf_state_change out;
    int rc = c->req->body_len == 0 ? 0 : api_body(c, spec, 1, &body, err);
    if (rc < 0)
        return rc;
    rc = hpf_voluntary_stop(c->svc, &c->actor, hpf_http_param(c->req, "grzh"),
                            body ? api_str(body, "reason") : NULL, &out, err);
    json_decref(body);
    if (rc < 0)
        return rc;
    return api_reply(c, 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:o}", "account_no", out.account_no,
                               "state_code", out.to_state, "business_code", out.business, "reason",
                               out.reason, "business_date", api_day_json(out.biz_date)));
}

const api_route api_voluntary_routes[] = {
    {"POST", "/api/v1/voluntary", HPF_ROLE_OPERATOR, reg},
    {"GET", "/api/v1/voluntary/{grzh}", HPF_ROLE_OPERATOR | HPF_ROLE_MEMBER, get},
    {"POST", "/api/v1/voluntary/{grzh}/deposits", HPF_ROLE_OPERATOR | HPF_ROLE_MEMBER, deposit,
     API_FRESH_FACTOR},
    {"POST", "/api/v1/voluntary/{grzh}/stop", HPF_ROLE_OPERATOR | HPF_ROLE_MEMBER, stop},
};
const size_t api_voluntary_nroutes = sizeof api_voluntary_routes / sizeof api_voluntary_routes[0];
