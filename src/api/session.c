/* api/session: login (password, then TOTP or an SMS code), step-up, the current session, logout,
 * online-hall registration, the policy. The flows: docs/internals/identity.md. */
#include "api/internal.h"

#include "base/mem.h"

#include <stdio.h>
#include <string.h>

#define COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Strict"

static json_t *session_json(const hpf_actor *a, const char *csrf)
{
    json_t *u = json_pack("{s:s, s:s, s:s}", "username", a->username, "role",
                          hpf_role_name(a->role), "name", a->name);
    if (a->role == HPF_ROLE_MEMBER)
        json_object_set_new(u, "account_no", json_string(a->account_no));
    if (a->role == HPF_ROLE_AGENT)
        json_object_set_new(u, "employer_account_no", json_string(a->employer_account_no));
    if (a->role == HPF_ROLE_OPERATOR) /* null: the whole centre */
        json_object_set_new(u, "branch", a->branch[0] ? json_string(a->branch) : json_null());
    return json_pack("{s:o, s:s}", "user", u, "csrf_token", csrf);
}

/* What a login step answered: 201 with a new session (cookie set), 202 with an SMS challenge,
 * or the error (a 429 carries Retry-After). Wipes the secrets in r. */
static int login_reply(api_ctx *c, hpf_login_result *r, int rc)
{
    if (rc == HPF_ELIMIT && r->retry_after > 0)
        hpf_http_add_header(c->resp, "Retry-After",
                            hpf_arena_printf(c->req->arena, "%d", r->retry_after));
    if (rc == 0 && r->challenge[0]) {
        rc = api_reply(c, 202,
                       json_pack("{s:s, s:s, s:s, s:i}", "challenge", r->challenge, "channel",
                                 "sms", "to", r->to, "expires_in", r->expires_in));
    } else if (rc == 0 && r->token[0]) {
        api_log_user(c);
        hpf_http_add_header(c->resp, "Set-Cookie",
                            hpf_arena_printf(c->req->arena,
                                             "hpf_session=%s" COOKIE_ATTRS "; Max-Age=%d", r->token,
                                             c->svc->session_max_s));
        rc = api_reply(c, 201, session_json(&c->actor, r->csrf));
    } else if (rc == 0) {
        rc = api_reply(c, 200, json_pack("{s:I}", "fresh_until", (json_int_t)r->fresh_until));
    }
    hpf_wipe(r, sizeof *r);
    return rc;
}

static int login(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"username", API_STR, true},
        {"password", API_STR, true},
        {"totp", API_STR, false},
    };
    json_t *body;
    hpf_login_result r;
    int rc = api_body(c, spec, 3, &body, err);
    if (rc < 0)
        return rc;
    rc = hpf_auth_login(c->svc, api_str(body, "username"), api_str(body, "password"),
                        api_str(body, "totp"), &c->actor, &r, err);
    json_decref(body);
    return login_reply(c, &r, rc);
}

/* The answer to an SMS challenge: a login challenge opens a session (201), a step-up challenge
 * refreshes the caller's session (200 {fresh_until}). Public, because a member answering a login
 * challenge has no session yet; a step-up challenge checks the session and its CSRF token here. */
static int otp(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"challenge", API_STR, true},
        {"code", API_STR, true},
    };
    json_t *body;
    hpf_login_result r;
    int rc = api_body(c, spec, 2, &body, err);
    if (rc < 0)
        return rc;
    const char *session = c->actor.role != HPF_ROLE_NONE ? c->token : NULL;
    if (session) {
        /* Without the session's CSRF token nothing shows the request comes from its own page:
         * the answer is then taken as made without a session (a step-up challenge fails). */
        const char *t = hpf_http_header(c->req, "X-CSRF-Token");
        size_t n = t ? strlen(t) : 0;
        unsigned char d = n != strlen(c->csrf) || n == 0;
        for (size_t i = 0; i < n && i < sizeof c->csrf; i++)
            d |= (unsigned char)(t[i] ^ c->csrf[i]);
        if (d)
            session = NULL;
    }
    hpf_actor who = c->actor;
    rc = hpf_auth_otp(c->svc, api_str(body, "challenge"), api_str(body, "code"), session, &c->actor,
                      &r, err);
    json_decref(body);
    if (rc == 0 && r.fresh_until)
        c->actor = who; /* a step-up: the session and its user stay as they were */
    return login_reply(c, &r, rc);
}

static int step_up(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"totp", API_STR, false},
    };
    json_t *body;
    hpf_login_result r;
    int rc = api_body(c, spec, 1, &body, err);
    if (rc < 0)
        return rc;
    rc = hpf_auth_step_up(c->svc, &c->actor, c->token, api_str(body, "totp"), &r, err);
    json_decref(body);
    return login_reply(c, &r, rc);
}

static int whoami(api_ctx *c, hpf_err *err)
{
    (void)err;
    return api_reply(c, 200, session_json(&c->actor, c->csrf));
}

static int logout(api_ctx *c, hpf_err *err)
{
    int rc = hpf_auth_logout(c->svc, c->token, err);
    if (rc < 0)
        return rc;
    hpf_http_add_header(c->resp, "Set-Cookie", "hpf_session=" COOKIE_ATTRS "; Max-Age=0");
    c->resp->status = 204;
    c->resp->content_type = NULL;
    return 0;
}

static int registration(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {
        {"id_number", API_STR, true},
        {"name", API_STR, true},
        {"account_no", API_STR, true},
        {"password", API_STR, true},
    };
    json_t *body;
    int rc = api_body(c, spec, 4, &body, err);
    if (rc < 0)
        return rc;
    rc = hpf_member_register_login(c->svc, api_str(body, "id_number"), api_str(body, "name"),
                                   api_str(body, "account_no"), api_str(body, "password"), err);
    if (rc == 0)
        rc = api_reply(c, 201, json_pack("{s:s}", "username", api_str(body, "id_number")));
    json_decref(body);
    return rc;
}

static int policy(api_ctx *c, hpf_err *err)
{
    hpf_day day;
    hpf_policy p;
    int rc = api_query_day(c, "date", hpf_svc_today(c->svc), &day, err);
    if (rc < 0 || (rc = hpf_svc_policy(c->svc, day, &p, err)) < 0)
        return rc;
    hpf_fen cap = 0, dmin = 0, dmax = 0;
    hpf_money_muldiv(&cap, p.contrib.city_avg_wage, p.contrib.cap_multiple, 1);
    hpf_contrib_deposit_limits(&dmin, &dmax, &p.contrib, NULL);
    return api_reply(
        c, 200,
        json_pack("{s:I, s:o, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:i, s:s, s:b, s:o, s:o,"
                  " s:I, s:i, s:b}",
                  "version", (json_int_t)p.version, "effective_from",
                  api_day_json(p.effective_from), "unit_ratio_min_bp", p.contrib.unit_ratio_min_bp,
                  "unit_ratio_max_bp", p.contrib.unit_ratio_max_bp, "indiv_ratio_min_bp",
                  p.contrib.indiv_ratio_min_bp, "indiv_ratio_max_bp", p.contrib.indiv_ratio_max_bp,
                  "city_avg_wage", api_money_json(p.contrib.city_avg_wage), "min_wage",
                  api_money_json(p.contrib.min_wage), "base_cap", api_money_json(cap), "base_floor",
                  api_money_json(p.contrib.min_wage), "cap_multiple", p.contrib.cap_multiple,
                  "rounding", hpf_rounding_name(p.contrib.rounding), "ratios_must_match",
                  p.contrib.ratios_must_match, "monthly_deposit_min", api_money_json(dmin),
                  "monthly_deposit_max", api_money_json(dmax), "deposit_rate_e7",
                  (json_int_t)p.deposit_rate_e7, "day_basis", p.day_basis,
                  "deferral_counts_as_continuous", p.deferral_counts_as_continuous));
}

const api_route api_session_routes[] = {
    {"POST", "/api/v1/session", API_PUBLIC, login},
    {"GET", "/api/v1/session", API_LOGGED_IN, whoami},
    {"DELETE", "/api/v1/session", API_LOGGED_IN, logout},
    {"POST", "/api/v1/session/otp", API_PUBLIC, otp},
    {"POST", "/api/v1/session/step-up", API_LOGGED_IN, step_up},
    {"POST", "/api/v1/registrations", API_PUBLIC, registration},
    {"GET", "/api/v1/policy", API_ANY, policy},
};
const size_t api_session_nroutes = sizeof api_session_routes / sizeof api_session_routes[0];
