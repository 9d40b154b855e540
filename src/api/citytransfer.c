/* api/citytransfer: cross-city transfers (异地转移接续, RULES 1.6; docs/internals/citytransfer.md):
 * a transfer in applied for, read, cancelled (BDC903) and queried (BDC904); a transfer out
 * recorded from the other centre's letter as a maker-checker request (transfer.out). */
#include "api/internal.h"

#include "peers/citytransfer.h"

#include <stdlib.h>

static json_t *money_or_null(bool known, hpf_fen v)
{
    return known ? api_money_json(v) : json_null();
}

static json_t *flag_or_null(bool known, int v)
{
    return known ? json_integer(v) : json_null();
}

static json_t *transfer_json(const hpf_city_transfer *t)
{
    bool k = t->has_amounts;
    const char *name = hpf_ct_state_name(t->state);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:s?, s:s?, s:o, s:o}",
        "contact_no", t->contact_no, "direction", t->direction, "account_no", t->account_no,
        "state_code", t->state, "state_name", name ? name : "", "other_centre", t->other_centre,
        "or_unit", t->or_unit[0] ? t->or_unit : NULL, "or_acct", t->or_acct[0] ? t->or_acct : NULL,
        "principal", money_or_null(k, t->principal), "interest", money_or_null(k, t->interest),
        "amount", money_or_null(k, t->amount), "o_acct_month",
        k ? api_month_json(t->o_acct) : json_null(), "pay_end_month",
        k ? api_month_json(t->pay_end) : json_null(), "six_months_continuous",
        flag_or_null(k, t->six_mcon), "loan_num", flag_or_null(k, t->loan_num), "loan_unsettled",
        flag_or_null(k, t->loan_end), "fraud_flag", flag_or_null(k, t->fr_loan), "contact_phone",
        t->cont_phone[0] ? t->cont_phone : NULL, "voucher_no",
        t->voucher_no[0] ? t->voucher_no : NULL, "applied_on", api_day_json(t->applied_on),
        "done_on", api_day_json(t->done_on));
    return o;
}

static int apply(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"account_no", API_STR, true},
        {"out_centre", API_STR, true},
        {"or_unit", API_STR, true},
        {"or_acct", API_STR, true},
    };
    json_t *body = NULL;
    const char *key;
    hpf_city_transfer t;
    bool replayed = false;
    int rc = api_idem_key(c, "a transfer application", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 4, &body, err)) < 0)
        return rc;
    hpf_ct_in_req req = {
        .account_no = api_str(body, "account_no"),
        .out_centre = api_str(body, "out_centre"),
        .or_unit = api_str(body, "or_unit"),
        .or_acct = api_str(body, "or_acct"),
        .idem_key = key,
    };
    rc = hpf_xfer_apply(c->svc, &c->actor, &req, &t, &replayed, err);
    json_decref(body);
    if (rc < 0)
        return rc;
    if (replayed)
        hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
    return api_reply(c, replayed ? 200 : 201, transfer_json(&t));
}

static int get(api_ctx *c, hpf_err *err)
{
    hpf_city_transfer t;
    hpf_ct_event *ev = NULL;
    size_t n = 0;
    int rc =
        hpf_xfer_get(c->svc, &c->actor, hpf_http_param(c->req, "contact_no"), &t, &ev, &n, err);
    if (rc < 0)
        return rc;
    json_t *o = transfer_json(&t);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:s?, s:s, s:s, s:s?, s:o}", "from_state_code",
                                        ev[i].from_state[0] ? ev[i].from_state : NULL,
                                        "to_state_code", ev[i].to_state, "tx_code", ev[i].tx_code,
                                        "note", ev[i].note[0] ? ev[i].note : NULL, "business_date",
                                        api_day_json(ev[i].biz_date)));
    free(ev);
    json_object_set_new(o, "events", arr);
    return api_reply(c, 200, o);
}

static int cancel(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, true}};
    json_t *body = NULL;
    hpf_city_transfer t;
    int rc = api_body(c, spec, 1, &body, err);
    if (rc < 0)
        return rc;
    rc = hpf_xfer_cancel(c->svc, &c->actor, hpf_http_param(c->req, "contact_no"),
                         api_str(body, "reason"), &t, err);
    json_decref(body);
    return rc < 0 ? rc : api_reply(c, 200, transfer_json(&t));
}

static int query(api_ctx *c, hpf_err *err)
{
    hpf_city_transfer t;
    int rc = hpf_xfer_query(c->svc, &c->actor, hpf_http_param(c->req, "contact_no"), &t, err);
    return rc < 0 ? rc : api_reply(c, 202, transfer_json(&t));
}

static int transfer_out(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"account_no", API_STR, true},
        {"contact_no", API_STR, true},
        {"in_centre", API_STR, true},
        {"reason", API_STR, true},
    };
    json_t *body = NULL;
    const char *key;
    hpf_approval a;
    bool replayed = false;
    int rc = api_idem_key(c, "a transfer out", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 4, &body, err)) < 0)
        return rc;
    hpf_ct_out_req req = {
        .account_no = api_str(body, "account_no"),
        .contact_no = api_str(body, "contact_no"),
        .in_centre = api_str(body, "in_centre"),
        .reason = api_str(body, "reason"),
        .idem_key = key,
    };
    rc = hpf_xfer_out_submit(c->svc, &c->actor, &req, &a, &replayed, err);
    json_decref(body);
    return rc < 0 ? rc : api_approval_reply(c, &a, replayed);
}

const api_route api_citytransfer_routes[] = {
    {"POST", "/api/v1/city-transfers/in", HPF_ROLE_MEMBER | HPF_ROLE_OPERATOR, apply},
    {"POST", "/api/v1/city-transfers/out", HPF_ROLE_OPERATOR, transfer_out, API_FRESH_FACTOR},
    {"GET", "/api/v1/city-transfers/{contact_no}", HPF_ROLE_MEMBER | HPF_ROLE_OPERATOR, get},
    {"POST", "/api/v1/city-transfers/{contact_no}/cancel", HPF_ROLE_MEMBER | HPF_ROLE_OPERATOR,
     cancel},
    {"POST", "/api/v1/city-transfers/{contact_no}/query", HPF_ROLE_MEMBER | HPF_ROLE_OPERATOR,
     query},
};
const size_t api_citytransfer_nroutes =
    sizeof api_citytransfer_routes / sizeof api_citytransfer_routes[0];
