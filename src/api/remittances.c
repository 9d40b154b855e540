/* api/remittances: the roster draft, submitting a month for approval (idempotent; posted when
 * another login approves it, api/approvals.c), and the history. */
#include "api/internal.h"

#include "base/mem.h"
#include "service/document.h"

#include <stdlib.h>
#include <string.h>

static int draft(api_ctx *c, hpf_err *err)
{
    hpf_month period;
    hpf_remit_draft d;
    int rc = api_query_month(c, "period", hpf_month_add(hpf_month_of(hpf_svc_today(c->svc)), -1),
                             &period, err);
    if (rc < 0 || (rc = hpf_remit_draft_make(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"),
                                             period, &d, err)) < 0)
        return rc;
    json_t *rows = json_array();
    for (size_t i = 0; i < d.n; i++) {
        const hpf_draft_row *r = &d.rows[i];
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "account_no", r->account_no, "name",
                            r->name, "base", api_money_json(r->c.base), "unit",
                            api_money_json(r->c.unit), "individual",
                            api_money_json(r->c.individual), "total", api_money_json(r->c.total)));
    }
    json_t *o =
        json_pack("{s:o, s:o, s:I, s:o, s:o, s:o}", "period", api_month_json(period), "rows", rows,
                  "members", (json_int_t)d.n, "unit_total", api_money_json(d.unit_total),
                  "indiv_total", api_money_json(d.indiv_total), "total", api_money_json(d.total));
    hpf_remit_draft_cleanup(&d);
    return api_reply(c, 200, o);
}

static int post(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"period", API_STR, true},
        {"total", API_MONEY, true},
        {"rows", API_ARR, true},
    };
    static const api_field row_spec[] = {
        {"account_no", API_STR, true},
        {"name", API_STR, false},
        {"unit", API_MONEY, true},
        {"individual", API_MONEY, true},
    };
    const char *key;
    json_t *body = NULL;
    hpf_remit_row *rows = NULL;
    hpf_remit_req req = {0};
    hpf_approval a;
    bool replayed = false;
    json_t *arr;
    int rc = api_idem_key(c, "a remittance", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 3, &body, err)) < 0)
        return rc;
    req.idem_key = key;
    if (hpf_month_parse(&req.period, api_str(body, "period")) < 0) {
        rc = hpf_err_field(err, HPF_EINVAL, "/period", "month.format",
                           "period must be a month YYYY-MM");
        goto done;
    }
    if ((rc = api_money(body, "total", "", 0, HPF_MONEY_MAX, &req.total, err)) < 0)
        goto done;
    arr = json_object_get(body, "rows");
    req.nrows = json_array_size(arr);
    if (req.nrows > HPF_REMIT_MAX_ROWS) {
        rc = hpf_err_field(err, HPF_ETOOBIG, "/rows", "remittance.too_many_rows",
                           "a roster holds at most %d rows", HPF_REMIT_MAX_ROWS);
        goto done;
    }
    rows = hpf_xcalloc(req.nrows ? req.nrows : 1, sizeof *rows);
    for (size_t i = 0; i < req.nrows; i++) {
        json_t *r = json_array_get(arr, i);
        char ptr[32];
        snprintf(ptr, sizeof ptr, "/rows/%zu", i);
        if (!json_is_object(r)) {
            rc = hpf_err_field(err, HPF_EINVAL, ptr, "json.type", "row %zu must be an object", i);
            goto done;
        }
        if ((rc = api_check(r, ptr, row_spec, 4, err)) < 0 ||
            (rc = api_money(r, "unit", ptr, 0, HPF_MONEY_MAX, &rows[i].unit, err)) < 0 ||
            (rc = api_money(r, "individual", ptr, 0, HPF_MONEY_MAX, &rows[i].individual, err)) < 0)
            goto done;
        rows[i].account_no = api_str(r, "account_no");
        rows[i].name = api_str(r, "name");
    }
    req.rows = rows;
    /* Maker-checker: the roster is checked as it would be posted and stored for approval by
     * another login (POST /api/v1/approvals/{id}/approve posts it); no money moves here. */
    rc = hpf_remit_submit(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &req, &a, &replayed,
                          err);
    if (rc == 0)
        rc = api_approval_reply(c, &a, replayed);
done:
    free(rows);
    json_decref(body);
    return rc;
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_remittance *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_remit_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), offset,
                                       limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = api_remittance_json(&items[i]);
        api_set_vcode(c, o, HPF_DOC_REMITTANCE, items[i].serial);
        json_array_append_new(arr, o);
    }
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

const api_route api_remit_routes[] = {
    {"GET", "/api/v1/employers/{dwzh}/remittances/draft", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT,
     draft},
    {"POST", "/api/v1/employers/{dwzh}/remittances", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, post,
     API_FRESH_FACTOR},
    {"GET", "/api/v1/employers/{dwzh}/remittances", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, list},
};
const size_t api_remit_nroutes = sizeof api_remit_routes / sizeof api_remit_routes[0];
