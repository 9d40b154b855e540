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

const api_route api_ledger_routes[] = {
    {"GET", "/api/v1/ledger/trial-balance", HPF_ROLE_OPERATOR, trial_balance},
};
const size_t api_ledger_nroutes = sizeof api_ledger_routes / sizeof api_ledger_routes[0];
