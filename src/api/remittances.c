/* api/remittances: the roster draft (JSON, or the CSV file of domain/roster), submitting a month
 * for approval as JSON or as that CSV file (idempotent; posted when another login approves it,
 * api/approvals.c), and the history. */
#include "api/internal.h"

#include "base/mem.h"
#include "base/parse.h"
#include "domain/roster.h"
#include "service/document.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(HPF_REMIT_MAX_ROWS * 200 <= HPF_ROSTER_MAX_BYTES,
               "a full roster of long rows fits in a roster file");

/* The draft as the CSV file an agent edits and uploads again (hpf_roster_write). */
static int draft_csv(api_ctx *c, const hpf_remit_draft *d, hpf_err *err)
{
    hpf_roster_row *rows = hpf_xcalloc(d->n ? d->n : 1, sizeof *rows);
    char month[8];
    for (size_t i = 0; i < d->n; i++)
        rows[i] = (hpf_roster_row){.account_no = d->rows[i].account_no,
                                   .name = d->rows[i].name,
                                   .unit = d->rows[i].c.unit,
                                   .individual = d->rows[i].c.individual};
    hpf_buf_reset(&c->resp->body);
    int rc = hpf_roster_write(&c->resp->body, rows, d->n);
    free(rows);
    if (rc < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "the roster file passed its buffer's maximum");
    c->resp->status = 200;
    c->resp->content_type = "text/csv; charset=utf-8";
    /* The employer's account number is the one the service found: digits and X only. */
    hpf_http_add_header(c->resp, "Content-Disposition",
                        hpf_arena_printf(c->req->arena, "attachment; filename=\"roster-%s-%s.csv\"",
                                         hpf_http_param(c->req, "dwzh"),
                                         hpf_month_fmt(month, d->period)));
    return 0;
}

static int draft(api_ctx *c, hpf_err *err)
{
    hpf_month period;
    hpf_remit_draft d;
    const char *format = hpf_http_query(c->req, "format");
    bool csv = format && !strcmp(format, "csv");
    if (format && !csv && strcmp(format, "json") != 0)
        return hpf_err_field(err, HPF_EINVAL, "format", "query.format",
                             "format must be json or csv");
    int rc = api_query_month(c, "period", hpf_month_add(hpf_month_of(hpf_svc_today(c->svc)), -1),
                             &period, err);
    if (rc < 0 || (rc = hpf_remit_draft_make(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"),
                                             period, &d, err)) < 0)
        return rc;
    if (csv) {
        rc = draft_csv(c, &d, err);
        hpf_remit_draft_cleanup(&d);
        return rc;
    }
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

/* Maker-checker: the roster is checked as it would be posted and stored for approval by another
 * login (POST /api/v1/approvals/{id}/approve posts it); no money moves here. */
static int submit(api_ctx *c, const hpf_remit_req *req, hpf_err *err)
{
    hpf_approval a;
    bool replayed = false;
    int rc = hpf_remit_submit(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), req, &a, &replayed,
                              err);
    return rc < 0 ? rc : api_approval_reply(c, &a, replayed);
}

static int post_json(api_ctx *c, hpf_err *err)
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
        json_t *r;
        char ptr[32];
        if ((rc = api_item(arr, "rows", i, row_spec, 4, ptr, &r, err)) < 0 ||
            (rc = api_money(r, "unit", ptr, 0, HPF_MONEY_MAX, &rows[i].unit, err)) < 0 ||
            (rc = api_money(r, "individual", ptr, 0, HPF_MONEY_MAX, &rows[i].individual, err)) < 0)
            goto done;
        rows[i].account_no = api_str(r, "account_no");
        rows[i].name = api_str(r, "name");
    }
    req.rows = rows;
    rc = submit(c, &req, err);
done:
    free(rows);
    json_decref(body);
    return rc;
}

/* One entry of a problem's "errors" array for a roster file: where (JSON Pointer of the row as
 * JSON would have it, and the file's line and column), which rule, what is wrong. */
static json_t *roster_error_json(int64_t row, int col, uint32_t line, const char *column,
                                 const char *rule, const char *detail)
{
    char ptr[64] = "";
    if (row >= 0 && col >= 0)
        snprintf(ptr, sizeof ptr, "/rows/%lld/%s", (long long)row, hpf_roster_col_name(col));
    else if (row >= 0)
        snprintf(ptr, sizeof ptr, "/rows/%lld", (long long)row);
    json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "pointer", ptr, "line", (json_int_t)line, "rule",
                          rule, "detail", detail);
    if (o && column && *column)
        json_object_set_new(o, "column", json_string(column));
    return o;
}

/* A file hpf_roster_parse refused: every listed error goes into the problem's "errors"; the
 * problem's own field, rule and detail are the first one's. */
static int roster_problem(api_ctx *c, int code, const hpf_roster *ros, hpf_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < ros->nerrors; i++) {
        const hpf_roster_error *e = &ros->errors[i];
        json_t *o = roster_error_json(e->row, e->col, e->line, e->column, e->rule, e->detail);
        if (o)
            json_array_append_new(arr, o);
    }
    const hpf_roster_error *f = &ros->errors[0];
    json_t *first = json_array_get(arr, 0);
    const char *ptr = first ? json_string_value(json_object_get(first, "pointer")) : "";
    if (ros->errors_total > 1)
        hpf_err_field(err, code, ptr, f->rule,
                      "line %u%s%s: %s (%zu problems in the file, listed "
                      "in errors)",
                      f->line, f->column[0] ? ", " : "", f->column, f->detail, ros->errors_total);
    else
        hpf_err_field(err, code, ptr, f->rule, "line %u%s%s: %s", f->line, f->column[0] ? ", " : "",
                      f->column, f->detail);
    c->problem_extra =
        json_pack("{s:o, s:I}", "errors", arr, "errors_total", (json_int_t)ros->errors_total);
    return code;
}

/* A business rule refused row N of an uploaded file (field "/rows/N/leaf"): name its line and
 * column too. The query parameters are what a CSV request calls period and total. */
static void locate_row_error(api_ctx *c, const hpf_roster *ros, hpf_err *err)
{
    if (!strcmp(err->field, "/total") || !strcmp(err->field, "/period")) {
        memmove(err->field, err->field + 1, strlen(err->field));
        return;
    }
    if (strncmp(err->field, "/rows/", 6) != 0)
        return;
    char num[24];
    const char *p = err->field + 6, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    int64_t row;
    if (n == 0 || n >= sizeof num)
        return;
    memcpy(num, p, n);
    num[n] = '\0';
    if (hpf_parse_i64(&row, num, 0, (int64_t)ros->nrows - 1) < 0)
        return;
    int col = -1;
    for (int k = 0; slash && k < HPF_ROSTER_NCOLS; k++)
        if (!strcmp(slash + 1, hpf_roster_col_name(k)))
            col = k;
    json_t *o = roster_error_json(row, col, ros->rows[row].line,
                                  col >= 0 ? ros->columns[col] : NULL, err->rule, err->msg);
    if (o)
        c->problem_extra = json_pack("{s:[o], s:I}", "errors", o, "errors_total", (json_int_t)1);
}

/* The roster as a CSV file (domain/roster.h), with the period and the control total as query
 * parameters; from there on the same submit as JSON. */
static int post_csv(api_ctx *c, hpf_err *err)
{
    const char *key, *total = hpf_http_query(c->req, "total");
    hpf_roster ros = HPF_ROSTER_INIT;
    hpf_remit_row *rows = NULL;
    hpf_remit_req req = {0};
    char lo[24], hi[24];
    int rc = api_idem_key(c, "a remittance", &key, err);
    if (rc < 0 || (rc = api_query_month(c, "period", 0, &req.period, err)) < 0)
        return rc;
    if (!total)
        return hpf_err_field(err, HPF_EINVAL, "total", "money.format",
                             "total (the roster's control sum in yuan, such as 4978.00) is "
                             "required");
    if (hpf_money_parse(&req.total, total, 0, HPF_MONEY_MAX) < 0)
        return hpf_err_field(err, HPF_EINVAL, "total", "money.format",
                             "total must be an amount in yuan with at most two decimals between "
                             "%s and %s",
                             hpf_money_fmt(lo, 0), hpf_money_fmt(hi, HPF_MONEY_MAX));
    req.idem_key = key;
    rc = hpf_roster_parse(&ros, c->req->body, c->req->body_len, HPF_REMIT_MAX_ROWS);
    if (rc < 0) {
        rc = roster_problem(c, rc, &ros, err);
        goto done;
    }
    rows = hpf_xcalloc(ros.nrows, sizeof *rows);
    for (size_t i = 0; i < ros.nrows; i++)
        rows[i] = (hpf_remit_row){.account_no = ros.rows[i].account_no,
                                  .name = ros.rows[i].name,
                                  .unit = ros.rows[i].unit,
                                  .individual = ros.rows[i].individual};
    req.rows = rows;
    req.nrows = ros.nrows;
    rc = submit(c, &req, err);
    if (rc < 0 && rc != HPF_EBUSY)
        locate_row_error(c, &ros, err);
done:
    free(rows);
    hpf_roster_cleanup(&ros);
    return rc;
}

static int post(api_ctx *c, hpf_err *err)
{
    const char *ct = hpf_http_header(c->req, "Content-Type");
    if (hpf_http_media_type_is(ct, "text/csv"))
        return post_csv(c, err);
    if (!hpf_http_media_type_is(ct, "application/json"))
        return hpf_err_field(err, HPF_EMEDIA, "Content-Type", "http.content_type",
                             "Content-Type must be application/json or text/csv");
    return post_json(c, err);
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
