/* api/ledger: the fund's books for operators of the centre: the trial balance (科目余额表) with
 * the balance-sheet identity (service/accounts.h; docs/internals/ledger.md). */
#include "api/internal.h"
#include "service/accounts.h"

static int trial_balance(api_ctx *c, hpf_err *err)
{
    hpf_day today = hpf_svc_today(c->svc), from, to;
    hpf_trial_balance tb;
    int y, m, d;
    /* Default: the business year so far. */
    int rc = api_query_day(c, "to", today, &to, err);
    if (rc < 0)
        return rc;
    hpf_day_to_ymd(to, &y, &m, &d);
    if ((rc = api_query_day(c, "from", hpf_day_from_ymd(y, 1, 1), &from, err)) < 0 ||
        (rc = hpf_accounts_trial_balance(c->svc, &c->actor, from, to, &tb, err)) < 0)
        return rc;
    json_t *o = hpf_trial_balance_json(&tb);
    hpf_trial_balance_cleanup(&tb);
    return api_reply(c, 200, o);
}

/* 冲账 as a maker-checker request: 202 pending, run when another operator approves it. */
static int reverse(api_ctx *c, hpf_err *err)
{
    static const api_field spec[] = {{"reason", API_STR, false}};
    json_t *body = NULL;
    const char *key;
    hpf_approval a;
    bool replayed = false;
    int rc = api_idem_key(c, "a reversal", &key, err);
    if (rc < 0 || (rc = api_body(c, spec, 1, &body, err)) < 0)
        return rc;
    rc = hpf_accounts_reverse_submit(
        c->svc, &c->actor, hpf_http_param(c->req, "voucher_no"),
        json_object_get(body, "reason") ? api_str(body, "reason") : NULL, key, &a, &replayed, err);
    json_decref(body);
    return rc < 0 ? rc : api_approval_reply(c, &a, replayed);
}

const api_route api_ledger_routes[] = {
    {"GET", "/api/v1/ledger/trial-balance", HPF_ROLE_OPERATOR, trial_balance},
    {"POST", "/api/v1/vouchers/{voucher_no}/reversal", HPF_ROLE_OPERATOR, reverse,
     API_FRESH_FACTOR},
};
const size_t api_ledger_nroutes = sizeof api_ledger_routes / sizeof api_ledger_routes[0];
