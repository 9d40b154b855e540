/* api/members: open, list and read member accounts, and statements. */
#include "api/internal.h"

#include "base/parse.h"
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
    /* As GET /api/v1/members/{grzh} answers it (0 for a new account, or the months a transfer
     * brought once transfers-in carry them). */
    int months = 0;
    if ((rc = hpf_member_continuity(c->svc, m.id, hpf_svc_today(c->svc), &months, err)) < 0)
        return rc;
    json_t *o = api_member_json(&m);
    json_object_set_new(o, "continuous_months", json_integer(months));
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
    /* 连续足额缴存月数 as of the business date (the scope was checked by hpf_member_get). */
    int months = 0;
    if ((rc = hpf_member_continuity(c->svc, m.id, hpf_svc_today(c->svc), &months, err)) < 0)
        return rc;
    /* The opening receipt's code, as the answer that opened the account gave it. */
    json_t *o = api_member_json(&m);
    json_object_set_new(o, "continuous_months", json_integer(months));
    api_set_vcode(c, o, HPF_DOC_MEMBER_ACCOUNT, m.account_no);
    return api_reply(c, 200, o);
}

/* The business type of a posting (JGJ/T 320 A.5) as the statement names it. */
static const char *kind_name(const char *kind)
{
    static const struct {
        const char *code, *name;
    } names[] = {{"01", "remittance"},         {"02", "back_payment"}, {"07", "transfer_out"},
                 {"08", "transfer_in"},        {"09", "interest"},     {"11", "withdrawal"},
                 {"12", "closing_withdrawal"}, {"99", "merge"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(kind, names[i].code))
            return names[i].name;
    return "other";
}

static json_t *statement_json(api_ctx *c, const hpf_statement *s)
{
    json_t *items = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const hpf_stmt_item *it = &s->items[i];
        json_array_append_new(
            items, json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:s}", "date", api_day_json(it->date),
                             "type", kind_name(it->kind), "type_code", it->kind, "period",
                             api_month_json(it->period), "amount", api_money_json(it->amount),
                             "balance", api_money_json(it->balance), "voucher_no", it->voucher_no));
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "account_no",
                     hpf_http_param(c->req, "grzh"), "from", api_day_json(s->from), "to",
                     api_day_json(s->to), "opening_balance", api_money_json(s->opening),
                     "closing_balance", api_money_json(s->closing), "items", items, "truncated",
                     s->truncated);
}

/* ?year=Y: the annual statement of interest year Y (RULES 2.4), the statement of 1 July Y-1 ..
 * 30 June Y with its figures in `annual`. */
static int annual_statement(api_ctx *c, const char *year_text, hpf_err *err)
{
    int64_t year;
    hpf_annual a;
    if (hpf_http_query(c->req, "from") || hpf_http_query(c->req, "to"))
        return hpf_err_field(err, HPF_EINVAL, "year", "query.exclusive",
                             "year (an interest year) and from/to (a date range) exclude each "
                             "other");
    if (hpf_parse_i64(&year, year_text, 1901, 9999) < 0)
        return hpf_err_field(err, HPF_EINVAL, "year", "query.range",
                             "year must be an interest year 1901..9999");
    int rc = hpf_member_annual(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), (int32_t)year, &a,
                               err);
    if (rc < 0)
        return rc;
    json_t *o = statement_json(c, &a.statement);
    json_t *an = json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:o, s:i, s:b, s:s, s:i}", "year", (int)a.year,
        "carried_forward", api_money_json(a.carried_forward), "deposits",
        api_money_json(a.deposits), "withdrawals", api_money_json(a.withdrawals), "interest",
        api_money_json(a.interest), "closing_balance", api_money_json(a.closing), "deposit_rate_e7",
        (int)a.rate_e7, "settled", a.settled, "method", "积数", "day_basis", (int)a.day_basis);
    if (!a.settled && a.accrued_to) {
        json_object_set_new(an, "accrued_interest", api_money_json(a.accrued));
        json_object_set_new(an, "accrued_to", api_day_json(a.accrued_to));
    }
    json_object_set_new(o, "annual", an);
    hpf_statement_cleanup(&a.statement);
    return api_reply(c, 200, o);
}

static int statement(api_ctx *c, hpf_err *err)
{
    hpf_day today = hpf_svc_today(c->svc), from, to;
    hpf_statement s;
    int rc;
    const char *year = hpf_http_query(c->req, "year");
    if (year)
        return annual_statement(c, year, err);
    /* Default: the last twelve months up to the business date. */
    if ((rc = api_query_day(c, "to", today, &to, err)) < 0 ||
        (rc = api_query_day(c, "from", to - 365, &from, err)) < 0 ||
        (rc = hpf_member_statement(c->svc, &c->actor, hpf_http_param(c->req, "grzh"), from, to, &s,
                                   err)) < 0)
        return rc;
    json_t *o = statement_json(c, &s);
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
