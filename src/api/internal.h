/*
 * api/internal: what the resource files share: the request context, body decoding against a
 * field list, query parameters, and the JSON encoders of the resources.
 */
#ifndef HPF_API_INTERNAL_H
#define HPF_API_INTERNAL_H

#include "api/api.h"

#include <jansson.h>

#define API_PUBLIC 0
#define API_ANY    (HPF_ROLE_MEMBER | HPF_ROLE_AGENT | HPF_ROLE_OPERATOR) /* the business roles */
/* Anyone logged in, administrators too: the session's own routes only. Business routes never
 * name HPF_ROLE_ADMIN (deny by default). */
#define API_LOGGED_IN (API_ANY | HPF_ROLE_ADMIN)

typedef struct api_ctx {
    hpf_http_req *req;
    hpf_http_resp *resp;
    hpf_svc *svc;
    hpf_actor actor; /* role HPF_ROLE_NONE when not logged in */
    char csrf[HPF_TOKEN_LEN];
    const char *token; /* the session cookie, or NULL */
    /* Members a failing handler adds to its problem answer (an "errors" array): owned, sent
     * and freed by the dispatcher (hpf_http_problem_ext). */
    json_t *problem_extra;
} api_ctx;

/* A handler returns 0 after writing the response, or a negative code with err set (the
 * dispatcher writes the problem). */
typedef int (*api_fn)(api_ctx *c, hpf_err *err);

/* Route flags (api_route.flags). */
/* Moves money: the session's second factor must be younger than session_step_up_s (else 401
 * auth.step_up_required). */
#define API_FRESH_FACTOR 1u

/* Route tables are positional ({"GET", "/api/v1/x", roles, fn}) and name flags only where a
 * route has some: in api/ an omitted trailing field is meant, and zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

typedef struct api_route {
    const char *method;
    const char *pattern;
    unsigned roles; /* API_PUBLIC or a mask of hpf_role */
    api_fn fn;
    unsigned flags; /* API_FRESH_FACTOR ...; last, so positional initialisers may leave it out */
} api_route;

extern const api_route api_session_routes[], api_employer_routes[], api_member_routes[],
    api_remit_routes[], api_counter_routes[];
extern const size_t api_session_nroutes, api_employer_nroutes, api_member_nroutes,
    api_remit_nroutes, api_counter_nroutes;

extern const api_route api_public_routes[];
extern const size_t api_public_nroutes;

/* Administrators (api/admin.c). */
extern const api_route api_admin_routes[];
extern const size_t api_admin_nroutes;

/* Maker-checker (api/approvals.c, api/policies.c). */
extern const api_route api_approval_routes[], api_policy_routes[];
extern const size_t api_approval_nroutes, api_policy_nroutes;

/* The fund's books (api/ledger.c). */
extern const api_route api_ledger_routes[];
extern const size_t api_ledger_nroutes;

/* Member account states: 封存, 启封, 内部转移, 冻结, 解冻 and the history (api/account_state.c). */
extern const api_route api_account_state_routes[];
extern const size_t api_account_state_nroutes;

/* 基数调整 and 比例调整 (api/contribution_change.c); voluntary depositors (api/voluntary.c). */
extern const api_route api_contribution_change_routes[], api_voluntary_routes[];
extern const size_t api_contribution_change_nroutes, api_voluntary_nroutes;

/* Cross-city transfers and account merge (api/citytransfer.c, api/merge.c). */
extern const api_route api_citytransfer_routes[], api_merge_routes[];
extern const size_t api_citytransfer_nroutes, api_merge_nroutes;

/* 补缴 and 缓缴 (api/backpay.c, api/deferrals.c). */
extern const api_route api_backpay_routes[], api_deferral_routes[];
extern const size_t api_backpay_nroutes, api_deferral_nroutes;

/* ---- body decoding ---- */

typedef enum { API_STR, API_INT, API_MONEY, API_OBJ, API_ARR, API_BOOL } api_type;

typedef struct api_field {
    const char *name;
    api_type type;
    bool required;
} api_field;

/* Check that `obj` holds only the listed fields, with the right JSON types, and the required
 * ones. Strings must not contain NUL. `ptr` is the JSON Pointer of obj ("" for the body). */
int api_check(json_t *obj, const char *ptr, const api_field *spec, size_t n, hpf_err *err);
/* Item i of the array `name` of a body (roster rows, back-payment lines): *item, and its JSON
 * Pointer "/name/i" in ptr; 400 json.type when it is not an object, else api_check's errors. */
int api_item(json_t *arr, const char *name, size_t i, const api_field *spec, size_t n, char ptr[32],
             json_t **item, hpf_err *err);
/* Decode the body (415/400 on bad content) and check it against spec. *out owned by caller. */
int api_body(api_ctx *c, const api_field *spec, size_t n, json_t **out, hpf_err *err);

/* The string value or NULL when absent (after api_check). */
const char *api_str(json_t *obj, const char *name);
/* Money from a decimal string within [min, max] (field named by JSON Pointer). */
int api_money(json_t *obj, const char *name, const char *ptr, hpf_fen min, hpf_fen max,
              hpf_fen *out, hpf_err *err);
/* Integer within [min, max]. */
int api_int(json_t *obj, const char *name, const char *ptr, int64_t min, int64_t max, int64_t *out,
            hpf_err *err);

/* ---- query parameters ---- */

int api_query_page(api_ctx *c, int64_t *offset, int64_t *limit, hpf_err *err);
/* A "YYYY-MM" query parameter; `def` when absent (def 0 makes it required). */
int api_query_month(api_ctx *c, const char *name, hpf_month def, hpf_month *out, hpf_err *err);
int api_query_day(api_ctx *c, const char *name, hpf_day def, hpf_day *out, hpf_err *err);

/* ---- encoders (new references) ---- */

json_t *api_money_json(hpf_fen v);
json_t *api_day_json(hpf_day d);     /* null for 0 */
json_t *api_month_json(hpf_month m); /* null for 0 */
json_t *api_employer_json(const hpf_employer *e);
json_t *api_member_json(const hpf_member *m);
json_t *api_remittance_json(const hpf_remittance *r);
json_t *api_list_json(json_t *items, int64_t total, int64_t offset, int64_t limit);

/* Set obj's "verification_code" to the code of the document `type` (hpf_doc_type,
 * service/document.h) with business key `key`, or to null when it has none (it predates the
 * audit chain). Never fails: it runs after the document was committed, where an error response
 * (or a retry of the whole request) would be wrong; a database error is logged. (api/public.c) */
void api_set_vcode(api_ctx *c, json_t *obj, int type, const char *key);

/* ---- maker-checker (api/approvals.c) ---- */

/* The request's Idempotency-Key (*out), required and 8..64 of A-Z a-z 0-9 - _; `what` names the
 * request in the message ("a remittance"). */
int api_idem_key(api_ctx *c, const char *what, const char **out, hpf_err *err);
/* An approval; `full` adds the payload and the verification of its signature. */
json_t *api_approval_json(api_ctx *c, const hpf_approval *a, bool full);
/* Answer a submit: 202 with the stored request, or 200 and Idempotent-Replay for a repeated key.
 * Cleans up `a`. */
int api_approval_reply(api_ctx *c, hpf_approval *a, bool replayed);

/* Name the actor in the access log line (a member by user id, never by resident ID). */
void api_log_user(api_ctx *c);

/* Reply with JSON (steals obj). */
int api_reply(api_ctx *c, int status, json_t *obj);

#endif
