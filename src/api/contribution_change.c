/* api/contribution_change: the yearly base adjustment (基数调整) of an employer's members and the
 * employer's ratio change (比例调整), each with its history
 * (docs/internals/contribution-changes.md). */
#include "api/internal.h"

#include "base/mem.h"
#include "base/parse.h"

#include <stdlib.h>
#include <string.h>

static json_t *text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *base_json(const hpf_base_change *c)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id",
                     (json_int_t)c->id, "batch_id", (json_int_t)c->batch_id, "account_no",
                     c->account_no, "employer_account_no", c->employer_account_no, "year", c->year,
                     "effective_month", api_month_json(c->effective), "old_wage",
                     api_money_json(c->old_wage), "wage", api_money_json(c->new_wage), "base",
                     api_money_json(c->base), "correction", c->correction, "business_date",
                     api_day_json(c->biz_date), "actor", text_or_null(c->actor), "actor_role",
                     text_or_null(c->actor_role));
}

static int adjust(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"year", API_INT, true},
        {"correction", API_BOOL, false},
        {"rows", API_ARR, true},
    };
    static const api_field row_spec[] = {
        {"account_no", API_STR, true},
        {"wage", API_MONEY, true},
        {"effective_month", API_STR, false},
    };
    const char *key;
    json_t *body = NULL, *arr, *items, *o;
    hpf_base_row *rows = NULL;
    hpf_base_req req = {0};
    hpf_base_batch out = {0};
    bool replayed = false;
    int64_t year;
    int rc = api_idem_key(c, "a base adjustment", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 3, &body, err)) < 0)
        return rc;
    if ((rc = api_int(body, "year", "", 1990, 9998, &year, err)) < 0)
        goto done;
    req.idem_key = key;
    req.year = (int)year;
    req.correction = json_is_true(json_object_get(body, "correction"));
    arr = json_object_get(body, "rows");
    req.nrows = json_array_size(arr);
    if (req.nrows > HPF_REMIT_MAX_ROWS) {
        rc = hpf_err_field(err, HPF_ETOOBIG, "/rows", "contribution.too_many_rows",
                           "a base adjustment holds at most %d rows", HPF_REMIT_MAX_ROWS);
        goto done;
    }
    rows = hpf_xcalloc(req.nrows ? req.nrows : 1, sizeof *rows);
    for (size_t i = 0; i < req.nrows; i++) {
        json_t *r;
        char ptr[32];
        if ((rc = api_item(arr, "rows", i, row_spec, 3, ptr, &r, err)) < 0 ||
            (rc = api_money(r, "wage", ptr, 1, HPF_MONEY_MAX, &rows[i].wage, err)) < 0)
            goto done;
        rows[i].account_no = api_str(r, "account_no");
        const char *eff = api_str(r, "effective_month");
        if (eff && hpf_month_parse(&rows[i].effective, eff) < 0) {
            rc = hpf_err_field(
                err, HPF_EINVAL, hpf_arena_printf(c->req->arena, "%s/effective_month", ptr),
                "month.format", "row %zu: effective_month must be a month YYYY-MM", i);
            goto done;
        }
    }
    req.rows = rows;
    rc = hpf_base_adjust(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &req, &out, &replayed,
                         err);
    if (rc < 0)
        goto done;
    items = json_array();
    for (size_t i = 0; i < out.n; i++)
        json_array_append_new(items, base_json(&out.rows[i]));
    o = json_pack("{s:I, s:i, s:b, s:o, s:I, s:o}", "id", (json_int_t)out.id, "year", out.year,
                  "correction", out.correction, "business_date", api_day_json(out.biz_date),
                  "members", (json_int_t)out.n, "rows", items);
    hpf_base_batch_cleanup(&out);
    if (replayed)
        hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
    else
        hpf_http_metric_add("hpf_base_adjustments_total",
                            "Members whose base was adjusted (基数调整)", (int64_t)req.nrows);
    rc = api_reply(c, replayed ? 200 : 201, o);
done:
    free(rows);
    json_decref(body);
    return rc;
}

static int adjust_list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total, year = 0;
    hpf_base_change *items;
    size_t n;
    const char *y = hpf_http_query(c->req, "year");
    if (y && hpf_parse_i64(&year, y, 1990, 9998) < 0)
        return hpf_err_field(err, HPF_EINVAL, "year", "query.range",
                             "year must be a contribution year such as 2026");
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_base_adjust_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"),
                                             (int)year, hpf_http_query(c->req, "account_no"),
                                             offset, limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, base_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

static json_t *ratio_json(const hpf_ratio_change *r)
{
    return json_pack("{s:I, s:s, s:o, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)r->id, "employer_account_no", r->employer_account_no,
                     "effective_month", api_month_json(r->effective), "old_unit_ratio_bp",
                     (int)r->old_unit_bp, "old_indiv_ratio_bp", (int)r->old_indiv_bp,
                     "unit_ratio_bp", (int)r->unit_bp, "indiv_ratio_bp", (int)r->indiv_bp, "reason",
                     text_or_null(r->reason), "business_date", api_day_json(r->biz_date), "actor",
                     text_or_null(r->actor), "actor_role", text_or_null(r->actor_role));
}

static int ratio_change(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"unit_ratio_bp", API_INT, true},
        {"indiv_ratio_bp", API_INT, true},
        {"effective_month", API_STR, true},
        {"reason", API_STR, false},
    };
    const char *key;
    json_t *body = NULL;
    hpf_ratio_req req = {0};
    hpf_ratio_change out;
    bool replayed = false;
    int64_t unit, indiv;
    int rc = api_idem_key(c, "a ratio change", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 4, &body, err)) < 0)
        return rc;
    if ((rc = api_int(body, "unit_ratio_bp", "", 0, 10000, &unit, err)) < 0 ||
        (rc = api_int(body, "indiv_ratio_bp", "", 0, 10000, &indiv, err)) < 0)
        goto done;
    if (hpf_month_parse(&req.effective, api_str(body, "effective_month")) < 0) {
        rc = hpf_err_field(err, HPF_EINVAL, "/effective_month", "month.format",
                           "effective_month must be a month YYYY-MM");
        goto done;
    }
    req.idem_key = key;
    req.unit_bp = (int32_t)unit;
    req.indiv_bp = (int32_t)indiv;
    req.reason = api_str(body, "reason");
    rc = hpf_ratio_change_make(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &req, &out,
                               &replayed, err);
    if (rc < 0)
        goto done;
    if (replayed)
        hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
    else
        hpf_http_metric_add("hpf_ratio_changes_total", "Employer ratio changes (比例调整)", 1);
    rc = api_reply(c, replayed ? 200 : 201, ratio_json(&out));
done:
    json_decref(body);
    return rc;
}

static int ratio_list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_ratio_change *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_ratio_change_list(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"),
                                              offset, limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, ratio_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

const api_route api_contribution_change_routes[] = {
    {"POST", "/api/v1/employers/{dwzh}/base-adjustments", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT,
     adjust},
    {"GET", "/api/v1/employers/{dwzh}/base-adjustments", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT,
     adjust_list},
    {"POST", "/api/v1/employers/{dwzh}/ratio-changes", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT,
     ratio_change},
    {"GET", "/api/v1/employers/{dwzh}/ratio-changes", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT,
     ratio_list},
};
const size_t api_contribution_change_nroutes =
    sizeof api_contribution_change_routes / sizeof api_contribution_change_routes[0];
