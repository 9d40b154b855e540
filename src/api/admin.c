/* api/admin: what administrators do over the API: create operators, disable and enable logins,
 * list operators (docs/internals/identity.md "Roles and scopes"). No other route admits them. */
#include "api/internal.h"

#include "base/mem.h"

#include <stdlib.h>

static json_t *login_json(const hpf_login_info *l)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:s}", "username", l->username, "name", l->name,
                     "role", l->role, "branch", l->branch[0] ? json_string(l->branch) : json_null(),
                     "disabled", l->disabled, "created_at", l->created_at);
}

static int create(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"username", API_STR, true},
        {"name", API_STR, true},
        {"password", API_STR, true},
        {"branch", API_STR, false},
    };
    json_t *body;
    hpf_login_info l;
    char totp_uri[HPF_TOTP_URI_LEN] = "";
    int rc = api_body(c, spec, sizeof spec / sizeof spec[0], &body, err);
    if (rc < 0)
        return rc;
    hpf_operator_new in = {.username = api_str(body, "username"),
                           .name = api_str(body, "name"),
                           .password = api_str(body, "password"),
                           .branch = api_str(body, "branch"),
                           .totp_uri = totp_uri};
    rc = hpf_operator_create(c->svc, &c->actor, &in, &l, err);
    if (rc == 0) {
        /* The TOTP secret is shown here once and kept by nobody but the operator. */
        json_t *o = login_json(&l);
        json_object_set_new(o, "totp_uri", json_string(totp_uri));
        rc = api_reply(c, 201, o);
    }
    hpf_wipe(totp_uri, sizeof totp_uri);
    json_decref(body);
    return rc;
}

static int set_disabled(api_ctx *c, bool disabled, hpf_err *err)
{
    hpf_login_info l;
    int64_t ended = 0;
    /* The body is optional and empty: anything in it is refused like any unknown field. */
    if (c->req->body_len > 0) {
        json_t *body;
        int rc = api_body(c, NULL, 0, &body, err);
        if (rc < 0)
            return rc;
        json_decref(body);
    }
    int rc = hpf_user_set_disabled(c->svc, &c->actor, hpf_http_param(c->req, "username"), disabled,
                                   &l, &ended, err);
    if (rc < 0)
        return rc;
    json_t *o = login_json(&l);
    json_object_set_new(o, "sessions_ended", json_integer((json_int_t)ended));
    return api_reply(c, 200, o);
}

static int disable(api_ctx *c, hpf_err *err)
{
    return set_disabled(c, true, err);
}

static int enable(api_ctx *c, hpf_err *err)
{
    return set_disabled(c, false, err);
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_login_info *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 ||
        (rc = hpf_operator_list(c->svc, &c->actor, offset, limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, login_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

/* Changing who may log in wants the second factor as fresh as a money action does. */
const api_route api_admin_routes[] = {
    {"POST", "/api/v1/operators", HPF_ROLE_ADMIN, create, API_FRESH_FACTOR},
    {"GET", "/api/v1/operators", HPF_ROLE_ADMIN, list},
    {"POST", "/api/v1/users/{username}/disable", HPF_ROLE_ADMIN, disable, API_FRESH_FACTOR},
    {"POST", "/api/v1/users/{username}/enable", HPF_ROLE_ADMIN, enable, API_FRESH_FACTOR},
};
const size_t api_admin_nroutes = sizeof api_admin_routes / sizeof api_admin_routes[0];
