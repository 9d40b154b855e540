/* api/common: the dispatcher (session, role, CSRF), body decoding, query parameters, encoders. */
#include "api/internal.h"

#include "base/mem.h"
#include "base/parse.h"
#include "base/rand.h"
#include "domain/ids.h"
#include "http/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static hpf_svc *g_svc;
static hpf_ratelimit *g_throttle; /* the public routes' limiter; NULL: none */
static char g_proxies[256];       /* trusted proxies, whose X-Forwarded-For names the client */

void hpf_api_throttle(unsigned per_minute, unsigned burst, const char *trusted_proxies)
{
    hpf_ratelimit_free(g_throttle);
    g_throttle = hpf_ratelimit_new(per_minute, burst);
    snprintf(g_proxies, sizeof g_proxies, "%s", trusted_proxies ? trusted_proxies : "");
}

/* A public route (anybody, without a session: login, registration, the document check) takes
 * a token of its client's bucket; without one the answer is 429 http.rate_limited. */
static bool throttled(hpf_http_req *req, hpf_http_resp *resp)
{
    char client[HPF_RATELIMIT_KEY];
    unsigned retry = 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    hpf_ratelimit_client(client, sizeof client, req->remote_ip,
                         hpf_http_header(req, "X-Forwarded-For"), g_proxies);
    if (hpf_ratelimit_take(g_throttle, client, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                           &retry))
        return false;
    hpf_err err = HPF_ERR_INIT;
    hpf_err_field(&err, HPF_ELIMIT, "", "http.rate_limited",
                  "too many requests from this address; try again in %u s", retry);
    hpf_http_add_header(resp, "Retry-After", hpf_arena_printf(req->arena, "%u", retry));
    hpf_http_problem(req, resp, &err);
    hpf_http_metric_add("hpf_requests_throttled_total",
                        "Requests to public routes refused for their client's rate", 1);
    return true;
}

static bool same_secret(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static int authorize(api_ctx *c, const api_route *r, hpf_err *err)
{
    c->token = hpf_http_cookie(c->req, "hpf_session");
    if (c->token && *c->token) {
        int rc = hpf_auth_session(c->svc, c->token, &c->actor, c->csrf, err);
        if (rc < 0 && rc != HPF_EAUTH)
            return rc;
        if (rc == HPF_EAUTH) {
            memset(&c->actor, 0, sizeof c->actor);
            if (r->roles != API_PUBLIC)
                return rc;
            hpf_err_clear(err);
        }
    }
    if (r->roles == API_PUBLIC)
        return 0;
    if (c->actor.role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "log in first");
    if (!(r->roles & (unsigned)c->actor.role))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "the %s role may not use this route", hpf_role_name(c->actor.role));
    if (is_write(c->req->method)) {
        const char *t = hpf_http_header(c->req, "X-CSRF-Token");
        if (!t || !*t)
            return hpf_err_field(err, HPF_EFORBIDDEN, "X-CSRF-Token", "csrf.missing",
                                 "writes need the X-CSRF-Token header from the session");
        if (!same_secret(t, c->csrf))
            return hpf_err_field(err, HPF_EFORBIDDEN, "X-CSRF-Token", "csrf.mismatch",
                                 "the X-CSRF-Token does not match this session");
    }
    if (r->flags & API_FRESH_FACTOR)
        return hpf_auth_require_fresh(c->svc, &c->actor, err);
    return 0;
}

/* A request whose transaction lost a conflict with another one (PostgreSQL serialization
 * failure or deadlock, SQLite busy past its timeout) is run again from the start: nothing of
 * the failed attempt was committed. Bounded, with a short random back-off. */
#define MAX_ATTEMPTS 8

static void backoff(int attempt)
{
    unsigned char r;
    hpf_rand_bytes(&r, 1);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(1 + attempt * 2 + r % 8) * 1000000L};
    nanosleep(&ts, NULL);
}

void api_log_user(api_ctx *c)
{
    /* A member's login name is their resident ID: the access log names them by user id. */
    if (c->actor.role == HPF_ROLE_MEMBER)
        c->resp->log_user =
            hpf_arena_printf(c->req->arena, "member#%lld", (long long)c->actor.user_id);
    else if (c->actor.username[0])
        c->resp->log_user = hpf_arena_strdup(c->req->arena, c->actor.username);
}

static void dispatch(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    const api_route *r = udata;
    hpf_err err = HPF_ERR_INIT;
    api_ctx c = {.req = req, .resp = resp, .svc = g_svc};
    const hpf_http_resp fresh = *resp; /* the body is still empty here */
    int rc;
    if (r->roles == API_PUBLIC && throttled(req, resp))
        return;
    for (int attempt = 1;; attempt++) {
        rc = authorize(&c, r, &err);
        if (rc == 0) {
            api_log_user(&c);
            rc = r->fn(&c, &err);
        }
        if (rc != HPF_EBUSY || attempt == MAX_ATTEMPTS)
            break;
        hpf_http_metric_add("hpf_request_retries_total",
                            "Requests run again after a transaction conflict or a lost connection",
                            1);
        hpf_buf_reset(&resp->body);
        resp->status = fresh.status;
        resp->content_type = fresh.content_type;
        resp->nheaders = fresh.nheaders;
        hpf_err_clear(&err);
        memset(&c.actor, 0, sizeof c.actor);
        json_decref(c.problem_extra);
        c.problem_extra = NULL;
        backoff(attempt);
    }
    if (rc < 0) {
        if (!err.code)
            hpf_err_set(&err, rc, "request failed");
        hpf_http_problem_ext(req, resp, &err, c.problem_extra);
    } else {
        json_decref(c.problem_extra);
    }
    hpf_wipe(c.csrf, sizeof c.csrf);
}

#define API_MAX_ROUTES 128

const hpf_http_route *hpf_api_routes(hpf_svc *svc, size_t *n)
{
    static hpf_http_route table[API_MAX_ROUTES];
    static size_t count;
    const struct {
        const api_route *r;
        size_t n;
    } groups[] = {
        {api_session_routes, api_session_nroutes},
        {api_employer_routes, api_employer_nroutes},
        {api_member_routes, api_member_nroutes},
        {api_remit_routes, api_remit_nroutes},
        {api_public_routes, api_public_nroutes},
        {api_counter_routes, api_counter_nroutes},
        {api_approval_routes, api_approval_nroutes},
        {api_policy_routes, api_policy_nroutes},
        {api_admin_routes, api_admin_nroutes},
        {api_ledger_routes, api_ledger_nroutes},
        {api_account_state_routes, api_account_state_nroutes},
        {api_backpay_routes, api_backpay_nroutes},
        {api_deferral_routes, api_deferral_nroutes},
        {api_contribution_change_routes, api_contribution_change_nroutes},
        {api_voluntary_routes, api_voluntary_nroutes},
        {api_citytransfer_routes, api_citytransfer_nroutes},
        {api_merge_routes, api_merge_nroutes},
    };
    g_svc = svc;
    if (!count) {
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            for (size_t i = 0; i < groups[g].n; i++) {
                if (count == API_MAX_ROUTES) { /* a build that cannot serve its own API */
                    fprintf(stderr, "api: more than %d routes: raise API_MAX_ROUTES\n",
                            API_MAX_ROUTES);
                    abort();
                }
                table[count++] = (hpf_http_route){.method = groups[g].r[i].method,
                                                  .pattern = groups[g].r[i].pattern,
                                                  .handler = dispatch,
                                                  .udata = &groups[g].r[i]};
            }
    }
    *n = count;
    return table;
}

unsigned hpf_api_route_roles(const hpf_http_route *r)
{
    return ((const api_route *)r->udata)->roles;
}

bool hpf_api_route_fresh(const hpf_http_route *r)
{
    return (((const api_route *)r->udata)->flags & API_FRESH_FACTOR) != 0;
}

/* ---- body decoding ---- */

static const char *type_name(api_type t)
{
    switch (t) {
    case API_STR:
        return "a string";
    case API_INT:
        return "an integer";
    case API_MONEY:
        return "a decimal string such as \"523.00\"";
    case API_OBJ:
        return "an object";
    case API_ARR:
        return "an array";
    case API_BOOL:
        return "true or false";
    }
    return "?";
}

int api_item(json_t *arr, const char *name, size_t i, const api_field *spec, size_t n, char ptr[32],
             json_t **item, hpf_err *err)
{
    *item = json_array_get(arr, i);
    snprintf(ptr, 32, "/%s/%zu", name, i);
    if (!json_is_object(*item))
        return hpf_err_field(err, HPF_EINVAL, ptr, "json.type", "item %zu of %s must be an object",
                             i, name);
    return api_check(*item, ptr, spec, n, err);
}

int api_check(json_t *obj, const char *ptr, const api_field *spec, size_t n, hpf_err *err)
{
    const char *key;
    json_t *val;
    char f[96];
    json_object_foreach(obj, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, key) != 0)
            i++;
        snprintf(f, sizeof f, "%s/%s", ptr, key);
        if (i == n)
            return hpf_err_field(err, HPF_EINVAL, f, "json.unknown_field", "unknown field '%s'",
                                 key);
        bool ok;
        switch (spec[i].type) {
        case API_STR:
        case API_MONEY:
            ok = json_is_string(val) && strlen(json_string_value(val)) == json_string_length(val);
            break;
        case API_INT:
            ok = json_is_integer(val);
            break;
        case API_OBJ:
            ok = json_is_object(val);
            break;
        case API_BOOL:
            ok = json_is_boolean(val);
            break;
        default:
            ok = json_is_array(val);
            break;
        }
        if (!ok)
            return hpf_err_field(err, HPF_EINVAL, f, "json.type", "'%s' must be %s", key,
                                 type_name(spec[i].type));
    }
    for (size_t i = 0; i < n; i++) {
        if (spec[i].required && !json_object_get(obj, spec[i].name)) {
            snprintf(f, sizeof f, "%s/%s", ptr, spec[i].name);
            return hpf_err_field(err, HPF_EINVAL, f, "json.required", "'%s' is required",
                                 spec[i].name);
        }
    }
    return 0;
}

int api_body(api_ctx *c, const api_field *spec, size_t n, json_t **out, hpf_err *err)
{
    json_t *body = NULL;
    int rc = hpf_http_json_body(c->req, &body, err);
    if (rc < 0)
        return rc;
    rc = api_check(body, "", spec, n, err);
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    *out = body;
    return 0;
}

const char *api_str(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Well-formed but possibly out of range: -?(0|[1-9][0-9]*)(.[0-9]{1,2})? */
static bool money_shaped(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0' && s[1] != '.' && s[1] != '\0')
        return false;
    size_t n = strspn(s, "0123456789");
    if (n == 0)
        return false;
    s += n;
    if (*s == '.') {
        size_t d = strspn(s + 1, "0123456789");
        return (d == 1 || d == 2) && s[1 + d] == '\0';
    }
    return *s == '\0';
}

int api_money(json_t *obj, const char *name, const char *ptr, hpf_fen min, hpf_fen max,
              hpf_fen *out, hpf_err *err)
{
    const char *s = api_str(obj, name);
    char f[96], a[24], b[24];
    snprintf(f, sizeof f, "%s/%s", ptr, name);
    if (!s)
        return hpf_err_field(err, HPF_EINVAL, f, "json.required", "'%s' is required", name);
    if (hpf_money_parse(out, s, INT64_MIN / 2, INT64_MAX / 2) < 0) {
        if (money_shaped(s))
            return hpf_err_field(err, HPF_EINVAL, f, "money.range",
                                 "'%s' must be between %s and %s", name, hpf_money_fmt(a, min),
                                 hpf_money_fmt(b, max));
        return hpf_err_field(err, HPF_EINVAL, f, "money.format",
                             "'%s' must be an amount in yuan with at most two decimals, such as "
                             "\"523.00\"",
                             name);
    }
    if (*out < min || *out > max)
        return hpf_err_field(err, HPF_EINVAL, f, "money.range", "'%s' must be between %s and %s",
                             name, hpf_money_fmt(a, min), hpf_money_fmt(b, max));
    return 0;
}

int api_int(json_t *obj, const char *name, const char *ptr, int64_t min, int64_t max, int64_t *out,
            hpf_err *err)
{
    json_t *v = json_object_get(obj, name);
    char f[96];
    snprintf(f, sizeof f, "%s/%s", ptr, name);
    if (!json_is_integer(v))
        return hpf_err_field(err, HPF_EINVAL, f, "json.required", "'%s' is required", name);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return hpf_err_field(err, HPF_EINVAL, f, "json.range", "'%s' must be in %lld..%lld", name,
                             (long long)min, (long long)max);
    *out = (int64_t)x;
    return 0;
}

/* ---- query parameters ---- */

int api_query_page(api_ctx *c, int64_t *offset, int64_t *limit, hpf_err *err)
{
    const char *o = hpf_http_query(c->req, "offset"), *l = hpf_http_query(c->req, "limit");
    *offset = 0;
    *limit = 50;
    if (o && hpf_parse_i64(offset, o, 0, 100000000) < 0)
        return hpf_err_field(err, HPF_EINVAL, "offset", "query.range",
                             "offset must be an integer >= 0");
    if (l && hpf_parse_i64(limit, l, 1, 200) < 0)
        return hpf_err_field(err, HPF_EINVAL, "limit", "query.range",
                             "limit must be an integer in 1..200");
    return 0;
}

int api_query_month(api_ctx *c, const char *name, hpf_month def, hpf_month *out, hpf_err *err)
{
    const char *s = hpf_http_query(c->req, name);
    if (!s && def) {
        *out = def;
        return 0;
    }
    if (!s || hpf_month_parse(out, s) < 0)
        return hpf_err_field(err, HPF_EINVAL, name, "month.format", "%s must be a month YYYY-MM",
                             name);
    return 0;
}

int api_query_day(api_ctx *c, const char *name, hpf_day def, hpf_day *out, hpf_err *err)
{
    const char *s = hpf_http_query(c->req, name);
    if (!s) {
        *out = def;
        return 0;
    }
    if (hpf_day_parse(out, s) < 0)
        return hpf_err_field(err, HPF_EINVAL, name, "date.format", "%s must be a date YYYY-MM-DD",
                             name);
    return 0;
}

/* ---- encoders ---- */

json_t *api_money_json(hpf_fen v)
{
    char b[24];
    return json_string(hpf_money_fmt(b, v));
}

json_t *api_day_json(hpf_day d)
{
    char b[11];
    return d ? json_string(hpf_day_fmt(b, d)) : json_null();
}

json_t *api_month_json(hpf_month m)
{
    char b[8];
    return m ? json_string(hpf_month_fmt(b, m)) : json_null();
}

static const char *state_name(const char *code)
{
    static const struct {
        const char *code, *name;
    } t[] = {{"01", "normal"}, {"02", "sealed"}, {"03", "merged"}, {"04", "transferred_out"},
             {"05", "closed"}, {"06", "frozen"}, {"99", "other"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].code, code))
            return t[i].name;
    return "other";
}

json_t *api_employer_json(const hpf_employer *e)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:o, s:I, s:o, s:o}", "account_no",
                     e->account_no, "name", e->name, "branch", e->branch, "uscc", e->uscc,
                     "unit_ratio_bp", e->unit_ratio_bp, "indiv_ratio_bp", e->indiv_ratio_bp,
                     "state", !strcmp(e->state, "01") ? "normal" : e->state, "state_code", e->state,
                     "opened_on", api_day_json(e->opened_on), "members", (json_int_t)e->members,
                     "paid_through", api_month_json(e->paid_through), "next_period",
                     api_month_json(e->paid_through ? hpf_month_add(e->paid_through, 1)
                                                    : hpf_month_of(e->opened_on)));
}

json_t *api_member_json(const hpf_member *m)
{
    char masked[19];
    hpf_id_mask(masked, m->id_number);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "account_no",
        m->account_no, "name", m->name, "id_number", masked, "employer_account_no",
        m->employer_account_no, "employer_name", m->employer_name, "state", state_name(m->state),
        "state_code", m->state, "opened_on", api_day_json(m->opened_on), "wage",
        api_money_json(m->wage), "base", api_money_json(m->contrib.base), "unit_monthly",
        api_money_json(m->contrib.unit), "indiv_monthly", api_money_json(m->contrib.individual),
        "monthly_total", api_money_json(m->contrib.total), "balance", api_money_json(m->balance),
        "paid_through", api_month_json(m->paid_through));
    return o;
}

json_t *api_remittance_json(const hpf_remittance *r)
{
    return json_pack("{s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:s, s:o}", "serial", r->serial, "period",
                     api_month_json(r->period), "state", "posted", "members",
                     (json_int_t)r->members, "unit_total", api_money_json(r->unit_total),
                     "indiv_total", api_money_json(r->indiv_total), "total",
                     api_money_json(r->total), "voucher_no", r->voucher_no, "posted_on",
                     api_day_json(r->posted_on));
}

json_t *api_list_json(json_t *items, int64_t total, int64_t offset, int64_t limit)
{
    return json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total, "offset",
                     (json_int_t)offset, "limit", (json_int_t)limit);
}

int api_reply(api_ctx *c, int status, json_t *obj)
{
    if (!obj)
        return HPF_EINTERNAL;
    hpf_http_json(c->resp, status, obj);
    return 0;
}
