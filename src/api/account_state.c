/* api/account_state: the businesses that change a member account's state (封存, 启封, 内部转移,
 * 冻结, 解冻) and the account's state history (docs/internals/accounts.md). */
#include "api/internal.h"

#include <stdlib.h>

/* An English token per business, beside its A.5 code. */
static const char *business_token(const char *code)
{
    hpf_account_biz b;
    if (!hpf_account_biz_parse(code, &b))
        return "other";
    switch (b) {
    case HPF_BIZ_SEAL:
        return "seal";
    case HPF_BIZ_UNSEAL:
        return "unseal";
    case HPF_BIZ_TRANSFER:
        return "transfer";
    case HPF_BIZ_FREEZE:
        return "freeze";
    case HPF_BIZ_UNFREEZE:
        return "unfreeze";
    default:
        return "other";
    }
}

static json_t *change_json(const hpf_state_change *c)
{
    hpf_account_biz b;
    const char *name = hpf_account_biz_parse(c->business, &b) ? hpf_account_biz_name(b) : "";
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)c->id, "business", business_token(c->business), "business_code", c->business,
        "business_name", name, "from_state_code", c->from_state, "to_state_code", c->to_state,
        "from_employer_account_no", c->from_employer, "to_employer_account_no", c->to_employer,
        "reason", c->reason[0] ? json_string(c->reason) : json_null(), "order_ref",
        c->order_ref[0] ? json_string(c->order_ref) : json_null(), "business_date",
        api_day_json(c->biz_date), "actor", c->actor[0] ? json_string(c->actor) : json_null(),
        "actor_role", c->actor_role[0] ? json_string(c->actor_role) : json_null());
    return o;
}

/* Decode the body of one business against its fields, run it, answer 200 with the account's
 * new state and the history row. */
static int change(api_ctx *c, hpf_account_biz biz, const api_field *spec, size_t n, hpf_err *err)
{
    json_t *body = NULL;
    hpf_state_change out;
    int rc;
    /* A POST without a body (启封 needs nothing) is an empty object: the fields still apply. */
    if (c->req->body_len == 0) {
        body = json_object();
        rc = api_check(body, "", spec, n, err);
    } else {
        rc = api_body(c, spec, n, &body, err);
    }
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    hpf_state_req req = {
        .business = biz,
        .reason = api_str(body, "reason"),
        .order_ref = api_str(body, "order_ref"),
        .to_employer = api_str(body, "to_employer"),
        .id_number = api_str(body, "id_number"),
    };
    rc =
        hpf_member_state_change(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), &req, &out, err);
    json_decref(body);
    if (rc < 0)
        return rc;
    hpf_http_metric_add("hpf_account_state_changes_total",
                        "Member account state businesses done (封存, 启封, 内部转移, 冻结, 解冻)",
                        1);
    return api_reply(c, 200,
                     json_pack("{s:s, s:s, s:s, s:o}", "account_no", out.account_no, "state_code",
                               out.to_state, "employer_account_no", out.to_employer, "change",
                               change_json(&out)));
}

static int seal(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, true}};
    return change(c, HPF_BIZ_SEAL, spec, 1, err);
}

static int unseal(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, false}};
    return change(c, HPF_BIZ_UNSEAL, spec, 1, err);
}

static int freeze(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, true}, {"order_ref", API_STR, true}};
    return change(c, HPF_BIZ_FREEZE, spec, 2, err);
}

static int unfreeze(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, true}};
    return change(c, HPF_BIZ_UNFREEZE, spec, 1, err);
}

static int transfer(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"to_employer", API_STR, true},
        {"id_number", API_STR, false},
        {"reason", API_STR, false},
    };
    return change(c, HPF_BIZ_TRANSFER, spec, 3, err);
}

static int history(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_state_change *items;
    size_t n;
    const char *grzh = hpf_http_param(c->req, "grzh");
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_member_state_history(c->svc, &c->actor, grzh, offset, limit, &items, &n,
                                                 &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, change_json(&items[i]));
    free(items);
    json_t *o = api_list_json(arr, total, offset, limit);
    json_object_set_new(o, "account_no", json_string(grzh));
    return api_reply(c, 200, o);
}

const api_route api_account_state_routes[] = {
    {"POST", "/api/v1/members/{grzh}/seal", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, seal},
    {"POST", "/api/v1/members/{grzh}/unseal", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, unseal},
    {"POST", "/api/v1/members/{grzh}/freeze", HPF_ROLE_OPERATOR, freeze},
    {"POST", "/api/v1/members/{grzh}/unfreeze", HPF_ROLE_OPERATOR, unfreeze},
    {"POST", "/api/v1/members/{grzh}/transfer", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, transfer},
    {"GET", "/api/v1/members/{grzh}/history", API_ANY, history},
};
const size_t api_account_state_nroutes =
    sizeof api_account_state_routes / sizeof api_account_state_routes[0];
