/* api/approvals: maker-checker requests: list, read (with the signature verified now),
 * approve, reject, withdraw (docs/internals/approval.md). Submitting is each kind's own route
 * (POST .../remittances, POST /api/v1/policies); they answer with api_approval_reply. */
#include "api/internal.h"

#include "base/parse.h"
#include "service/document.h"

#include <stdlib.h>
#include <string.h>

int api_idem_key(api_ctx *c, const char *what, const char **out, hpf_err *err)
{
    const char *k = hpf_http_header(c->req, "Idempotency-Key");
    *out = k;
    if (!k)
        return hpf_err_field(err, HPF_EINVAL, "Idempotency-Key", "idempotency.key_missing",
                             "%s needs an Idempotency-Key header", what);
    size_t n = strlen(k);
    bool ok = n >= 8 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
             (k[i] >= '0' && k[i] <= '9') || k[i] == '-' || k[i] == '_';
    return ok ? 0
              : hpf_err_field(err, HPF_EINVAL, "Idempotency-Key", "idempotency.key_format",
                              "Idempotency-Key must be 8 to 64 of A-Z a-z 0-9 - _");
}

static json_t *text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* A stored JSON text (written by service/) as a value; null when absent or unreadable. */
static json_t *stored_json(const char *s)
{
    return s ? json_loads(s, 0, NULL) : NULL;
}

json_t *api_approval_json(api_ctx *c, const hpf_approval *a, bool full)
{
    json_t *result = stored_json(a->result);
    if (json_is_object(result) && !strcmp(a->kind, HPF_APPROVAL_REMIT) &&
        json_is_string(json_object_get(result, "serial")))
        /* The receipt as POST .../remittances answered before maker-checker, with its code. */
        api_set_vcode(c, result, HPF_DOC_REMITTANCE,
                      json_string_value(json_object_get(result, "serial")));
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
        "approval_id", (json_int_t)a->id, "kind", a->kind, "status", a->status, "ref", a->ref,
        "employer_account_no", text_or_null(a->employer_account_no), "request_hash",
        a->request_hash, "made_by", "username", a->maker, "role", a->maker_role, "made_at",
        a->made_at, "decided_by",
        a->checker_id ? json_pack("{s:s, s:s}", "username", a->checker, "role", a->checker_role)
                      : json_null(),
        "decided_at", text_or_null(a->decided_at), "reason", text_or_null(a->reason), "signature",
        text_or_null(a->signature), "key_id", text_or_null(a->key_id), "result",
        result ? result : json_null());
    if (full && o) {
        json_object_set_new(o, "signature_valid",
                            a->signature_valid < 0 ? json_null()
                                                   : json_boolean(a->signature_valid));
        json_object_set_new(o, "payload_intact", json_boolean(a->payload_intact));
        json_t *p = stored_json(a->payload);
        json_object_set_new(o, "payload", p ? p : json_null());
    }
    return o;
}

int api_approval_reply(api_ctx *c, hpf_approval *a, bool replayed)
{
    if (replayed)
        hpf_http_add_header(c->resp, "Idempotent-Replay", "true");
    else
        hpf_http_metric_add("hpf_approvals_submitted_total", "Requests stored for approval", 1);
    int rc = api_reply(c, replayed ? 200 : 202, api_approval_json(c, a, false));
    hpf_approval_cleanup(a);
    return rc;
}

static int path_id(api_ctx *c, int64_t *id, hpf_err *err)
{
    const char *s = hpf_http_param(c->req, "id");
    if (!s || hpf_parse_i64(id, s, 1, INT64_MAX) < 0)
        return hpf_err_field(err, HPF_ENOTFOUND, "", "approval.unknown", "no approval %.20s",
                             s ? s : "");
    return 0;
}

/* An optional body that may hold nothing: absent, or {}. */
static int empty_body(api_ctx *c, hpf_err *err)
{
    json_t *body = NULL;
    if (c->req->body_len == 0)
        return 0;
    int rc = api_body(c, NULL, 0, &body, err);
    json_decref(body);
    return rc;
}

static int list(api_ctx *c, hpf_err *err)
{
    int64_t offset, limit, total;
    hpf_approval *items;
    size_t n;
    int rc = api_query_page(c, &offset, &limit, err);
    if (rc < 0 || (rc = hpf_approval_list(c->svc, &c->actor, hpf_http_query(c->req, "status"),
                                          hpf_http_query(c->req, "kind"), offset, limit, &items, &n,
                                          &total, err)) < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_approval_json(c, &items[i], false));
    hpf_approvals_free(items, n);
    return api_reply(c, 200, api_list_json(arr, total, offset, limit));
}

static int get(api_ctx *c, hpf_err *err)
{
    int64_t id;
    hpf_approval a;
    int rc = path_id(c, &id, err);
    if (rc < 0 || (rc = hpf_approval_get(c->svc, &c->actor, id, &a, err)) < 0)
        return rc;
    rc = api_reply(c, 200, api_approval_json(c, &a, true));
    hpf_approval_cleanup(&a);
    return rc;
}

static int decided(api_ctx *c, hpf_approval *a)
{
    if (!strcmp(a->status, "approved") && !strcmp(a->kind, HPF_APPROVAL_REMIT)) {
        json_t *r = stored_json(a->result);
        json_t *m = json_object_get(r, "members");
        hpf_http_metric_add("hpf_remittances_posted_total", "Remittances posted", 1);
        hpf_http_metric_add("hpf_remittance_rows_posted_total", "Member shares posted",
                            json_is_integer(m) ? (uint64_t)json_integer_value(m) : 0);
        json_decref(r);
    }
    int rc = api_reply(c, 200, api_approval_json(c, a, true));
    hpf_approval_cleanup(a);
    return rc;
}

static int approve(api_ctx *c, hpf_err *err)
{
    int64_t id;
    hpf_approval a;
    int rc = path_id(c, &id, err);
    if (rc < 0 || (rc = empty_body(c, err)) < 0 ||
        (rc = hpf_approval_decide(c->svc, &c->actor, id, true, NULL, &a, err)) < 0)
        return rc;
    return decided(c, &a);
}

static int reject(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, true}};
    int64_t id;
    hpf_approval a;
    json_t *body = NULL;
    int rc = path_id(c, &id, err);
    if (rc < 0 || (rc = api_body(c, spec, 1, &body, err)) < 0)
        return rc;
    rc = hpf_approval_decide(c->svc, &c->actor, id, false, api_str(body, "reason"), &a, err);
    json_decref(body);
    return rc < 0 ? rc : decided(c, &a);
}

static int withdraw(api_ctx *c, hpf_err *err)
{
    int64_t id;
    hpf_approval a;
    int rc = path_id(c, &id, err);
    if (rc < 0 || (rc = empty_body(c, err)) < 0 ||
        (rc = hpf_approval_withdraw(c->svc, &c->actor, id, &a, err)) < 0)
        return rc;
    return decided(c, &a);
}

const api_route api_approval_routes[] = {
    {"GET", "/api/v1/approvals", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, list},
    {"GET", "/api/v1/approvals/{id}", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, get},
    {"POST", "/api/v1/approvals/{id}/approve", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, approve,
     API_FRESH_FACTOR},
    {"POST", "/api/v1/approvals/{id}/reject", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, reject,
     API_FRESH_FACTOR},
    {"POST", "/api/v1/approvals/{id}/withdraw", HPF_ROLE_OPERATOR | HPF_ROLE_AGENT, withdraw},
};
const size_t api_approval_nroutes = sizeof api_approval_routes / sizeof api_approval_routes[0];
