/* api/counter: what counter terminals hand in: the verdicts of ID-card readers, face checks and
 * e-licence scans, recorded with their case (docs/internals/identity.md). */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *verdict_json(const hpf_verdict *v)
{
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)v->id, "case_ref",
                  v->case_ref, "kind", v->kind, "result", v->result, "device_id", v->device_id,
                  "operator", v->operator_username, "recorded_at", v->recorded_at);
    if (v->evidence_sha256[0])
        json_object_set_new(o, "evidence_sha256", json_string(v->evidence_sha256));
    if (v->licence_id[0])
        json_object_set_new(o, "licence_id", json_string(v->licence_id));
    if (v->score >= 0)
        json_object_set_new(o, "score", json_integer(v->score));
    return o;
}

static int record(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"case_ref", API_STR, true},         {"kind", API_STR, true},
        {"result", API_STR, true},           {"device_id", API_STR, true},
        {"evidence_sha256", API_STR, false}, {"licence_id", API_STR, false},
        {"score", API_INT, false},
    };
    json_t *body;
    hpf_verdict v;
    bool replayed = false;
    int64_t score = -1;
    int rc = api_body(c, spec, sizeof spec / sizeof spec[0], &body, err);
    if (rc < 0)
        return rc;
    if (json_object_get(body, "score"))
        rc = api_int(body, "score", "", 0, 100, &score, err);
    if (rc == 0) {
        hpf_verdict_new in = {
            .case_ref = api_str(body, "case_ref"),
            .kind = api_str(body, "kind"),
            .result = api_str(body, "result"),
            .device_id = api_str(body, "device_id"),
            .evidence_sha256 = api_str(body, "evidence_sha256"),
            .licence_id = api_str(body, "licence_id"),
            .score = (int)score,
            .idem_key = hpf_http_header(c->req, "Idempotency-Key"),
        };
        rc = hpf_verdict_record(c->svc, &c->actor, &in, &v, &replayed, err);
    }
    if (rc == 0) {
        if (replayed)
            hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
        rc = api_reply(
            c, replayed ? 200 : 201,
            json_pack("{s:I, s:s}", "id", (json_int_t)v.id, "recorded_at", v.recorded_at));
    }
    json_decref(body);
    return rc;
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_verdict *items = NULL;
    size_t n = 0;
    const char *case_ref = hpf_http_query(c->req, "case_ref");
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0)
        return rc;
    if (!case_ref)
        return hpf_err_field(err, HPF_EINVAL, "case_ref", "query.required", "case_ref is required");
    rc = hpf_verdict_list(c->svc, &c->actor, case_ref, offset, limit, &items, &n, &total, err);
    if (rc < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, verdict_json(&items[i]));
    free(items);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

const api_route api_counter_routes[] = {
    {"POST", "/api/v1/counter/verdicts", HPF_ROLE_OPERATOR, record},
    {"GET", "/api/v1/counter/verdicts", HPF_ROLE_OPERATOR, list},
};
const size_t api_counter_nroutes = sizeof api_counter_routes / sizeof api_counter_routes[0];
