/* api/deferrals: an employer's deferrals (缓缴, type 13): an operator submits one for approval
 * (granted when another operator approves it, api/approvals.c); the employer's agent and
 * operators read them and the months they owe (应缴未缴). */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

static int submit(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"from", API_STR, true},
        {"to", API_STR, true},
        {"reason", API_STR, true},
        {"document_no", API_STR, true},
    };
    const char *key;
    json_t *body;
    hpf_approval a;
    bool replayed = false;
    hpf_deferral_req req = {0};
    int rc = api_idem_key(c, "a deferral", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 4, &body, err)) < 0)
        return rc;
    req.idem_key = key;
    req.reason = api_str(body, "reason");
    req.document_no = api_str(body, "document_no");
    if (hpf_month_parse(&req.from, api_str(body, "from")) < 0)
        rc =
            hpf_err_field(err, HPF_EINVAL, "/from", "month.format", "from must be a month YYYY-MM");
    else if (hpf_month_parse(&req.to, api_str(body, "to")) < 0)
        rc = hpf_err_field(err, HPF_EINVAL, "/to", "month.format", "to must be a month YYYY-MM");
    else
        rc = hpf_deferral_submit(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &req, &a,
                                 &replayed, err);
    if (rc == 0)
        rc = api_approval_reply(c, &a, replayed);
    json_decref(body);
    return rc;
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_deferral *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_deferral_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), offset,
                                          limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const hpf_deferral *d = &items[i];
        json_array_append_new(
            arr,
            json_pack("{s:I, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
                      "deferral_id", (json_int_t)d->id, "from", api_month_json(d->from), "to",
                      api_month_json(d->to), "reason", d->reason, "document_no", d->document_no,
                      "state", d->state, "granted_on", api_day_json(d->granted_on), "closed_on",
                      api_day_json(d->closed_on), "members", (json_int_t)d->members, "owed_months",
                      (json_int_t)d->owed_months, "made_up_months", (json_int_t)d->made_up_months,
                      "owed_total", api_money_json(d->owed_total), "outstanding",
                      api_money_json(d->outstanding)));
    }
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

static int owed(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_owed_month *items;
    size_t n;
    const char *o = hpf_http_query(c->req, "outstanding");
    if (o && strcmp(o, "true") != 0 && strcmp(o, "false") != 0)
        return hpf_err_field(err, HPF_EINVAL, "outstanding", "query.enum",
                             "outstanding must be true or false");
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 ||
        (rc = hpf_owed_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"),
                            o && !strcmp(o, "true"), offset, limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const hpf_owed_month *m = &items[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "deferral_id",
                           (json_int_t)m->deferral_id, "account_no", m->account_no, "name", m->name,
                           "period", api_month_json(m->period), "unit", api_money_json(m->unit),
                           "individual", api_money_json(m->individual), "total",
                           api_money_json(m->total), "made_up_by",
                           m->made_up_by[0] ? json_string(m->made_up_by) : json_null(),
                           "made_up_on", api_day_json(m->made_up_on)));
    }
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

const api_route api_deferral_routes[] = {
    {"POST", "/api/v1/employers/{dwzh}/deferrals", HPF_ROLE_OPERATOR, submit, API_FRESH_FACTOR},
    {"GET", "/api/v1/employers/{dwzh}/deferrals", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, list},
    {"GET", "/api/v1/employers/{dwzh}/deferrals/owed", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, owed},
};
const size_t api_deferral_nroutes = sizeof api_deferral_routes / sizeof api_deferral_routes[0];
