/* api/employers: register, list and read employers. */
#include "api/internal.h"

#include "base/mem.h"

#include <stdlib.h>

static int create(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"name", API_STR, true},          {"uscc", API_STR, true},
        {"unit_ratio_bp", API_INT, true}, {"indiv_ratio_bp", API_INT, true},
        {"agent", API_OBJ, true},         {"branch", API_STR, false},
    };
    static const api_field agent_spec[] = {
        {"username", API_STR, true},
        {"password", API_STR, true},
        {"name", API_STR, true},
    };
    json_t *body;
    int64_t unit, indiv;
    hpf_employer e;
    char totp_uri[HPF_TOTP_URI_LEN] = "";
    int rc = api_body(c, spec, sizeof spec / sizeof spec[0], &body, err);
    if (rc < 0)
        return rc;
    json_t *agent = json_object_get(body, "agent");
    hpf_employer_new in = {0};
    if ((rc = api_check(agent, "/agent", agent_spec, 3, err)) < 0 ||
        (rc = api_int(body, "unit_ratio_bp", "", 0, 10000, &unit, err)) < 0 ||
        (rc = api_int(body, "indiv_ratio_bp", "", 0, 10000, &indiv, err)) < 0)
        goto done;
    in = (hpf_employer_new){
        .name = api_str(body, "name"),
        .uscc = api_str(body, "uscc"),
        .unit_ratio_bp = (int32_t)unit,
        .indiv_ratio_bp = (int32_t)indiv,
        .agent_username = api_str(agent, "username"),
        .agent_password = api_str(agent, "password"),
        .agent_name = api_str(agent, "name"),
        .agent_totp_uri = totp_uri,
        .branch = api_str(body, "branch"),
    };
    rc = hpf_employer_register(c->svc, &c->actor, &in, &e, err);
    if (rc == 0) {
        hpf_http_metric_add("hpf_employers_registered_total", "Employers registered", 1);
        /* The agent's TOTP secret is shown here once and kept by nobody but the agent. */
        json_t *o = api_employer_json(&e);
        json_object_set_new(
            o, "agent",
            json_pack("{s:s, s:s}", "username", in.agent_username, "totp_uri", totp_uri));
        rc = api_reply(c, 201, o);
    }
done:
    hpf_wipe(totp_uri, sizeof totp_uri);
    json_decref(body);
    return rc;
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_employer *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 ||
        (rc = hpf_employer_list(c->svc, &c->actor, offset, limit, &items, &n, &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_employer_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

static int get(api_ctx *c, hpf_err *err)
{
    hpf_employer e;
    int rc = hpf_employer_get(c->svc, &c->actor, hpf_http_param(c->req, "dwzh"), &e, err);
    return rc < 0 ? rc : api_reply(c, 200, api_employer_json(&e));
}

const api_route api_employer_routes[] = {
    {"POST", "/api/v1/employers", HPF_ROLE_OPERATOR, create},
    {"GET", "/api/v1/employers", HPF_ROLE_OPERATOR, list},
    {"GET", "/api/v1/employers/{dwzh}", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, get},
};
const size_t api_employer_nroutes = sizeof api_employer_routes / sizeof api_employer_routes[0];
