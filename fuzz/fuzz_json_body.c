/*
 * fuzz_json_body: request bodies through the server's own decoding and field checking, as the
 * API handlers do it, and every refusal through the problem+json writer:
 *   1. hpf_http_json_decode (http/server.c, what hpf_http_json_body calls): Content-Type
 *      check, jansson with
 *      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, "must be an object";
 *   2. api_check (api/common.c) against the field list of every request body the API takes
 *      (login, registration, employer + agent, member, remittance + rows), then the conversions
 *      each handler makes next: api_money, api_int, hpf_month_parse, and the validators the
 *      services apply first (ids, names, USCC, mobile numbers);
 *   3. every error: hpf_http_problem must give a 4xx problem that is valid JSON naming the same
 *      status, rule and request id: hostile input never makes a 5xx or an unencodable answer.
 * Properties: api_check accepts exactly the objects a reference check written here accepts;
 * money that api_money accepts lies in its bounds and survives format -> parse; integers from
 * api_int lie in theirs.
 *
 * Input: the body bytes. An input whose first byte is '#' carries its Content-Type on that first
 * line ("#text/plain; charset=utf-8\n{...}"); otherwise the Content-Type is application/json.
 *
 * The field lists below copy the static ones
 * of the handlers in src/api/ (session.c, employers.c, members.c, remittances.c): keep them in
 * step (fuzz/README.md says so too).
 */
#include "api/internal.h"
#include "base/log.h"
#include "base/parse.h"
#include "domain/ids.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_json_body: %s:%d: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define REQUEST_ID "req-00000000000000ff"

/* ---- the field lists of the handlers (copies: see the header) ---- */

static const api_field login_spec[] = {
    {"username", API_STR, true},
    {"password", API_STR, true},
};
static const api_field registration_spec[] = {
    {"id_number", API_STR, true},
    {"name", API_STR, true},
    {"account_no", API_STR, true},
    {"password", API_STR, true},
};
static const api_field employer_spec[] = {
    {"name", API_STR, true},           {"uscc", API_STR, true},  {"unit_ratio_bp", API_INT, true},
    {"indiv_ratio_bp", API_INT, true}, {"agent", API_OBJ, true},
};
static const api_field agent_spec[] = {
    {"username", API_STR, true},
    {"password", API_STR, true},
    {"name", API_STR, true},
};
static const api_field member_spec[] = {
    {"name", API_STR, true},
    {"id_number", API_STR, true},
    {"wage", API_MONEY, true},
    {"phone", API_STR, false},
};
static const api_field remit_spec[] = {
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
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- checks ---- */

static hpf_http_req g_req;

/* The refusal in err becomes a well-formed 4xx problem. */
static void check_problem(const hpf_err *err)
{
    CHECK(err->code < 0, "an error without a code");
    int status = hpf_err_http_status(err->code);
    CHECK(status >= 400 && status < 500, "input made a %d (code %d, rule %s: %s)", status,
          err->code, err->rule, err->msg);
    CHECK(memchr(err->msg, '\0', sizeof err->msg) && err->msg[0], "message");
    CHECK(memchr(err->field, '\0', sizeof err->field), "field terminated");
    CHECK(memchr(err->rule, '\0', sizeof err->rule) && err->rule[0], "every refusal names a rule");

    hpf_http_resp resp = {.status = 200, .body = HPF_BUF_INIT};
    hpf_http_problem(&g_req, &resp, err);
    CHECK(resp.status == status, "problem status %d want %d", resp.status, status);
    CHECK(resp.content_type && !strcmp(resp.content_type, "application/problem+json"),
          "content type %s", resp.content_type ? resp.content_type : "(null)");
    json_error_t je;
    json_t *p = json_loadb(resp.body.data, resp.body.len, 0, &je);
    CHECK(p && json_is_object(p), "the problem is not JSON: %s (%.*s)", je.text, (int)resp.body.len,
          resp.body.data);
    CHECK(json_integer_value(json_object_get(p, "status")) == status, "status member");
    const char *type = json_string_value(json_object_get(p, "type"));
    CHECK(type && !strncmp(type, "urn:hpf:problem:", 16), "type %s", type ? type : "(null)");
    const char *detail = json_string_value(json_object_get(p, "detail"));
    CHECK(detail && *detail, "detail");
    CHECK(!strcmp(json_string_value(json_object_get(p, "rule")), err->rule), "rule");
    CHECK(!strcmp(json_string_value(json_object_get(p, "request_id")), REQUEST_ID), "request id");
    json_decref(p);
    hpf_buf_cleanup(&resp.body);
}

static bool ref_type_ok(json_t *v, api_type t)
{
    switch (t) {
    case API_STR:
    case API_MONEY:
        return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
    case API_INT:
        return json_is_integer(v);
    case API_BOOL:
        return json_is_boolean(v);
    case API_OBJ:
        return json_is_object(v);
    case API_ARR:
        return json_is_array(v);
    }
    return false;
}

/* The reference of api_check: every member listed with its type, every required one present. */
static bool ref_check(json_t *obj, const api_field *spec, size_t n)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, key) != 0)
            i++;
        if (i == n || !ref_type_ok(val, spec[i].type))
            return false;
    }
    for (size_t i = 0; i < n; i++)
        if (spec[i].required && !json_object_get(obj, spec[i].name))
            return false;
    return true;
}

/* api_check, compared with the reference; a refusal is checked as a problem. */
static bool checked(json_t *obj, const char *ptr, const api_field *spec, size_t n)
{
    hpf_err err = HPF_ERR_INIT;
    bool ok = api_check(obj, ptr, spec, n, &err) == 0;
    CHECK(ok == ref_check(obj, spec, n), "api_check says %d at '%s' (%s)", ok, ptr, err.msg);
    if (!ok) {
        CHECK(!strcmp(err.rule, "json.unknown_field") || !strcmp(err.rule, "json.type") ||
                  !strcmp(err.rule, "json.required"),
              "rule %s", err.rule);
        CHECK(!strncmp(err.field, ptr, strlen(ptr)) && err.field[strlen(ptr)] == '/',
              "field '%s' under '%s'", err.field, ptr);
        check_problem(&err);
    }
    return ok;
}

static bool money(json_t *obj, const char *name, const char *ptr, hpf_fen min, hpf_fen max)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_fen v = 0;
    if (api_money(obj, name, ptr, min, max, &v, &err) < 0) {
        CHECK(!strcmp(err.rule, "money.format") || !strcmp(err.rule, "money.range") ||
                  !strcmp(err.rule, "json.required"),
              "rule %s", err.rule);
        check_problem(&err);
        return false;
    }
    CHECK(v >= min && v <= max, "api_money %lld outside its bounds", (long long)v);
    char text[24];
    hpf_fen back = 0;
    CHECK(hpf_money_parse(&back, hpf_money_fmt(text, v), min, max) == 0 && back == v,
          "%lld -> \"%s\" does not parse back", (long long)v, text);
    return true;
}

static bool integer(json_t *obj, const char *name, int64_t min, int64_t max)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t v = 0;
    if (api_int(obj, name, "", min, max, &v, &err) < 0) {
        check_problem(&err);
        return false;
    }
    CHECK(v >= min && v <= max && v == json_integer_value(json_object_get(obj, name)), "api_int");
    return true;
}

/* A validator's verdict: a refusal must be a proper problem. */
static void verdict(int rc, const hpf_err *err)
{
    if (rc < 0)
        check_problem(err);
}

static void id_number(const char *s)
{
    hpf_err err = HPF_ERR_INIT;
    char norm[19];
    verdict(hpf_id_validate(s, hpf_day_from_ymd(2026, 11, 15), norm, &err), &err);
}

static void name(const char *s, const char *field)
{
    hpf_err err = HPF_ERR_INIT;
    verdict(hpf_name_validate(s, field, &err), &err);
}

/* ---- the request bodies, as their handlers take them ---- */

static void login_body(json_t *b)
{
    checked(b, "", login_spec, N(login_spec));
}

static void registration_body(json_t *b)
{
    if (!checked(b, "", registration_spec, N(registration_spec)))
        return;
    hpf_err err = HPF_ERR_INIT;
    id_number(api_str(b, "id_number"));
    name(api_str(b, "name"), "/name");
    verdict(hpf_acct_validate(api_str(b, "account_no"), &err), &err);
}

static void employer_body(json_t *b)
{
    if (!checked(b, "", employer_spec, N(employer_spec)))
        return;
    json_t *agent = json_object_get(b, "agent");
    if (!checked(agent, "/agent", agent_spec, N(agent_spec)) ||
        !integer(b, "unit_ratio_bp", 0, 10000) || !integer(b, "indiv_ratio_bp", 0, 10000))
        return;
    hpf_err err = HPF_ERR_INIT;
    name(api_str(b, "name"), "/name");
    verdict(hpf_uscc_validate(api_str(b, "uscc"), NULL, &err), &err);
    name(api_str(agent, "name"), "/agent/name");
}

static void member_body(json_t *b)
{
    if (!checked(b, "", member_spec, N(member_spec)) || !money(b, "wage", "", 1, HPF_MONEY_MAX))
        return;
    name(api_str(b, "name"), "/name");
    id_number(api_str(b, "id_number"));
    const char *phone = api_str(b, "phone");
    if (phone && *phone && !hpf_mobile_valid(phone)) {
        hpf_err err = HPF_ERR_INIT;
        hpf_err_field(&err, HPF_EINVAL, "/phone", "phone.format", "phone");
        check_problem(&err);
    }
}

static void remittance_body(json_t *b)
{
    if (!checked(b, "", remit_spec, N(remit_spec)))
        return;
    hpf_month period;
    if (hpf_month_parse(&period, api_str(b, "period")) < 0 ||
        !money(b, "total", "", 0, HPF_MONEY_MAX))
        return;
    json_t *rows = json_object_get(b, "rows");
    if (json_array_size(rows) > HPF_REMIT_MAX_ROWS)
        return;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        char ptr[32];
        snprintf(ptr, sizeof ptr, "/rows/%zu", i);
        if (!json_is_object(r) || !checked(r, ptr, row_spec, N(row_spec)) ||
            !money(r, "unit", ptr, 0, HPF_MONEY_MAX) ||
            !money(r, "individual", ptr, 0, HPF_MONEY_MAX))
            return;
    }
}

/* ---- the Content-Type rule of hpf_http_json_body, from its contract ---- */

static bool ref_content_type(const char *ct)
{
    static const char mt[] = "application/json";
    if (!ct || strncasecmp(ct, mt, sizeof mt - 1))
        return false;
    const char *p = ct + sizeof mt - 1;
    p += strspn(p, " \t");
    if (!*p)
        return true;
    if (*p++ != ';')
        return false;
    p += strspn(p, " \t");
    if (strncasecmp(p, "charset=", 8))
        return false;
    p += 8;
    if (!strncasecmp(p, "utf-8", 5))
        p += 5;
    else if (!strncasecmp(p, "\"utf-8\"", 7))
        p += 7;
    else
        return false;
    return p[strspn(p, " \t")] == '\0';
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hpf_log_set_level(HPF_LOG_ERROR + 1);
    json_object_seed(1); /* the same member order on every run */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 16))
        return 0;
    const char *body = (const char *)data;
    size_t blen = size;
    char ct[512] = "application/json";
    if (size && data[0] == '#') {
        const char *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - body) - 1 : size - 1;
        if (n >= sizeof ct)
            n = sizeof ct - 1;
        memcpy(ct, body + 1, n);
        ct[n] = '\0';
        blen = nl ? size - (size_t)(nl + 1 - body) : 0;
        body = nl ? nl + 1 : body + size;
    }

    char *copy = malloc(blen + 1); /* the server's bodies are NUL-terminated */
    memcpy(copy, body, blen);
    copy[blen] = '\0';
    hpf_arena *arena = hpf_arena_new(1024);
    g_req = (hpf_http_req){.method = "POST",
                           .path = "/api/v1/fuzz",
                           .body = copy,
                           .body_len = blen,
                           .request_id = REQUEST_ID,
                           .remote_ip = "127.0.0.1",
                           .arena = arena,
                           .route_pattern = "/api/v1/fuzz"};

    json_t *obj = NULL;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_http_json_decode(ct, copy, blen, &obj, &err);
    if (!ref_content_type(ct)) {
        CHECK(rc == HPF_EMEDIA && !strcmp(err.rule, "http.content_type"),
              "Content-Type \"%s\" accepted (%d)", ct, rc);
    } else if (blen == 0) {
        CHECK(rc == HPF_EINVAL && !strcmp(err.rule, "json.syntax"), "an empty body (%d)", rc);
    } else {
        json_error_t je;
        json_t *ref = json_loadb(copy, blen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        bool want = ref && json_is_object(ref);
        CHECK((rc == 0) == want, "hpf_http_json_decode %d, jansson object %d", rc, want);
        if (rc < 0)
            CHECK(!strcmp(err.rule, "json.syntax") || !strcmp(err.rule, "json.duplicate_key") ||
                      !strcmp(err.rule, "json.not_object"),
                  "rule %s", err.rule);
        else
            CHECK(json_equal(obj, ref), "decoded differently");
        json_decref(ref);
    }
    if (rc < 0) {
        CHECK(obj == NULL, "no object on failure");
        check_problem(&err);
    } else {
        login_body(obj);
        registration_body(obj);
        employer_body(obj);
        member_body(obj);
        remittance_body(obj);
        json_decref(obj);
    }
    hpf_arena_free(arena);
    free(copy);
    return 0;
}
