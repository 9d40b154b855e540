/* api/members: open, list and read member accounts, and statements. */
#include "api/internal.h"

#include "service/document.h"

#include <stdlib.h>
#include <string.h>

static int create(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"name", API_STR, true},
        {"id_number", API_STR, true},
        {"wage", API_MONEY, true},
        {"phone", API_STR, false},
    };
    json_t *body;
    hpf_fen wage;
    hpf_member m;
    int rc = api_body(c, spec, sizeof spec / sizeof spec[0], &body, err);
    if (rc < 0)
        return rc;
    rc = api_money(body, "wage", "", 1, HPF_MONEY_MAX, &wage, err);
    if (rc == 0) {
        hpf_member_new in = {.name = api_str(body, "name"),
                             .id_number = api_str(body, "id_number"),
                             .wage = wage,
                             .phone = api_str(body, "phone")};
        rc = hpf_member_open(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &in, &m, err);
    }
    json_decref(body);
    if (rc < 0)
        return rc;
    hpf_http_metric_add("hpf_members_opened_total", "Member accounts opened", 1);
    json_t *o = api_member_json(&m);
    api_set_vcode(c, o, HPF_DOC_MEMBER_ACCOUNT, m.account_no);
    return api_reply(c, 201, o);
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_member *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_member_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), offset,
                                        limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_member_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

static int get(api_ctx *c, hpf_err *err)
{
    hpf_member m;
    int rc = hpf_member_get(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), &m, err);
    if (rc < 0)
        return rc;
    /* The opening receipt's code, as the answer that opened the account gave it. */
    json_t *o = api_member_json(&m);
    api_set_vcode(c, o, HPF_DOC_MEMBER_ACCOUNT, m.account_no);
    return api_reply(c, 200, o);
}

static const char *kind_name(const char *kind)
{
    return !strcmp(kind, "01") ? "remittance" : !strcmp(kind, "02") ? "back_payment" : "other";
}

static int statement(api_ctx *c, hpf_err *err)
{
    hpf_day today = hpf_svc_today(c->svc), from, to;
    hpf_statement s;
    int rc;
    /* Default: the last twelve months up to the business date. */
    if ((rc = api_query_day(c, "to", today, &to, err)) < 0 ||
        (rc = api_query_day(c, "from", to - 365, &from, err)) < 0 ||
        (rc = hpf_member_statement(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), from, to, &s,
                                   err)) < 0)
        return rc;
    json_t *items = json_array();
    for (size_t i = 0; i < s.n; i++) {
        const hpf_stmt_item *it = &s.items[i];
        json_array_append_new(
            items, json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:s}", "date", api_day_json(it->date),
                             "type", kind_name(it->kind), "type_code", it->kind, "period",
                             api_month_json(it->period), "amount", api_money_json(it->amount),
                             "balance", api_money_json(it->balance), "voucher_no", it->voucher_no));
    }
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "account_no",
                          hpf_http_param(c->req, "grzh"), "from", api_day_json(s.from), "to",
                          api_day_json(s.to), "opening_balance", api_money_json(s.opening),
                          "closing_balance", api_money_json(s.closing), "items", items, "truncated",
                          s.truncated);
    hpf_statement_cleanup(&s);
    return api_reply(c, 200, o);
}

const api_route api_member_routes[] = {
    {"POST", "/api/v1/employers/{dwzh}/members", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, create},
    {"GET", "/api/v1/employers/{dwzh}/members", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, list},
    {"GET", "/api/v1/members/{grzh}", API_ANY, get},
    {"GET", "/api/v1/members/{grzh}/statement", API_ANY, statement},
};
const size_t api_member_nroutes = sizeof api_member_routes / sizeof api_member_routes[0];
