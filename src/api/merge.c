/* api/merge: 个人合并, a duplicate account merged into the person's main account, as a
 * maker-checker request (member.merge; docs/internals/citytransfer.md "Account merge"). */
#include "api/internal.h"

static int merge(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"from_account", API_STR, true},
        {"to_account", API_STR, true},
        {"reason", API_STR, true},
    };
    json_t *body = NULL;
    const char *key;
    hpf_approval a;
    bool replayed = false;
    int rc = api_idem_key(c, "an account merge", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 3, &body, err)) < 0)
        return rc;
    hpf_merge_req req = {
        .from_account = api_str(body, "from_account"),
        .to_account = api_str(body, "to_account"),
        .reason = api_str(body, "reason"),
        .idem_key = key,
    };
    rc = hpf_merge_submit(c->svc, &c->actor, &req, &a, &replayed, err);
    json_decref(body);
    return rc < 0 ? rc : api_approval_reply(c, &a, replayed);
}

const api_route api_merge_routes[] = {
    {"POST", "/api/v1/member-merges", HPF_ROLE_OPERATOR, merge, API_FRESH_FACTOR},
};
const size_t api_merge_nroutes = sizeof api_merge_routes / sizeof api_merge_routes[0];
