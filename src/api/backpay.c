/* api/backpay: submitting a back-payment (补缴, type 02) for named months of an employer's
 * members (idempotent; posted when another login approves it, api/approvals.c). The posted
 * back-payments are remittances of kind 02 and list with them (api/remittances.c). */
#include "api/internal.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static int submit(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"lines", API_ARR, true},
        {"total", API_MONEY, false},
    };
    static const api_field line_spec[] = {
        {"account_no", API_STR, true},
        {"period", API_STR, true},
        {"unit", API_MONEY, false},
        {"individual", API_MONEY, false},
    };
    const char *key;
    json_t *body = NULL, *arr;
    hpf_backpay_line *lines = NULL;
    hpf_backpay_req req = {0};
    hpf_approval a;
    bool replayed = false;
    int rc = api_idem_key(c, "a back-payment", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 2, &body, err)) < 0)
        return rc;
    req.idem_key = key;
    if (json_object_get(body, "total")) {
        if ((rc = api_money(body, "total", "", 0, HPF_MONEY_MAX, &req.total, err)) < 0)
            goto done;
        req.has_total = true;
    }
    arr = json_object_get(body, "lines");
    req.nlines = json_array_size(arr);
    if (req.nlines > HPF_BACKPAY_MAX_LINES) {
        rc = hpf_err_field(err, HPF_ETOOBIG, "/lines", "backpay.too_many_lines",
                           "a back-payment holds at most %d lines", HPF_BACKPAY_MAX_LINES);
        goto done;
    }
    lines = hpf_xcalloc(req.nlines ? req.nlines : 1, sizeof *lines);
    for (size_t i = 0; i < req.nlines; i++) {
        json_t *l;
        char ptr[32], field[48];
        if ((rc = api_item(arr, "lines", i, line_spec, 4, ptr, &l, err)) < 0)
            goto done;
        lines[i].account_no = api_str(l, "account_no");
        if (hpf_month_parse(&lines[i].period, api_str(l, "period")) < 0) {
            snprintf(field, sizeof field, "%s/period", ptr);
            rc = hpf_err_field(err, HPF_EINVAL, field, "month.format",
                               "period must be a month YYYY-MM");
            goto done;
        }
        bool has_unit = json_object_get(l, "unit"), has_indiv = json_object_get(l, "individual");
        if (has_unit != has_indiv) {
            snprintf(field, sizeof field, "%s/%s", ptr, has_unit ? "individual" : "unit");
            rc = hpf_err_field(err, HPF_EINVAL, field, "backpay.amounts",
                               "give both unit and individual, or neither (computed)");
            goto done;
        }
        if (has_unit &&
            ((rc = api_money(l, "unit", ptr, 0, HPF_MONEY_MAX, &lines[i].unit, err)) < 0 ||
             (rc = api_money(l, "individual", ptr, 0, HPF_MONEY_MAX, &lines[i].individual, err)) <
                 0))
            goto done;
        lines[i].amounts = has_unit;
    }
    req.lines = lines;
    rc = hpf_backpay_submit(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &req, &a, &replayed,
                            err);
    if (rc == 0)
        rc = api_approval_reply(c, &a, replayed);
done:
    free(lines);
    json_decref(body);
    return rc;
}

const api_route api_backpay_routes[] = {
    {"POST", "/api/v1/employers/{dwzh}/backpays", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, submit,
     API_FRESH_FACTOR},
};
const size_t api_backpay_nroutes = sizeof api_backpay_routes / sizeof api_backpay_routes[0];
