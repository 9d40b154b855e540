/* service/accounts: the fund's books over ledger/ (chart versions, trial balance, reversal). */
#include "service/accounts.h"

#include "base/buf.h"
#include "base/parse.h"
#include "service/internal.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <string.h>

/* The books are the centre's: an operator of the centre only. */
static int books_scope(const hpf_actor *a, hpf_err *err)
{
    if (a->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator reads or changes the fund's books");
    if (!svc_branch_sees(a, ""))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.branch",
                             "the fund's books are the centre's: an operator of a branch office "
                             "does not read them");
    return 0;
}

int hpf_accounts_chart_load(hpf_svc *svc, const hpf_actor *actor, const char *source,
                            const char *text, size_t len, hpf_day effective, const char *name,
                            hpf_chart_loaded *out, hpf_err *err)
{
    hpf_chart c;
    hpf_db *db;
    char digest[65], date[11];
    hpf_buf payload = HPF_BUF_INIT;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = hpf_chart_parse(&c, text, len, err)) < 0)
        return rc;
    if (effective)
        c.effective_from = effective;
    if (name && name[0]) {
        size_t n = strlen(name);
        if (n > HPF_CHART_NAME_MAX || !hpf_text_ok(name, n, false)) {
            rc = hpf_err_field(err, HPF_EINVAL, "/name", "chart.field",
                               "the chart's name must be 1 to 255 bytes of text");
            goto done;
        }
        snprintf(c.name, sizeof c.name, "%s", name);
    }
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        goto done;
    rc = hpf_chart_store(db, &c, source, actor->user_id, out, err);
    if (rc == 0) {
        hpf_sm3_hex(digest, text, len);
        hpf_buf_printf(&payload, "chart/1|%lld|%s|%zu|%zu|%s|", (long long)out->version,
                       hpf_day_fmt_compact(date, c.effective_from), out->subjects, out->added,
                       digest);
        hpf_audit_put_text(&payload, c.name[0] ? c.name : source);
        hpf_buf_adds(&payload, "|");
        hpf_audit_put_text(&payload, source);
        /* Last: the chain head is locked from here to the commit. */
        rc = hpf_audit_event(db, actor->user_id, HPF_AUDIT_CHART_LOADED, "chart_version",
                             out->version, payload.data, err);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
done:
    hpf_buf_cleanup(&payload);
    hpf_chart_cleanup(&c);
    return rc;
}

int hpf_accounts_chart_at(hpf_svc *svc, const hpf_actor *actor, hpf_day day, hpf_chart *out,
                          hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0)
        return rc;
    return hpf_chart_at(db, day, out, NULL, err);
}

int hpf_accounts_trial_balance(hpf_svc *svc, const hpf_actor *actor, hpf_day from, hpf_day to,
                               hpf_trial_balance *out, hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 || (rc = hpf_db_begin_read(db, err)) < 0)
        return rc;
    rc = hpf_ledger_trial_balance(db, from, to, out, err);
    hpf_db_rollback(db);
    return rc;
}

int hpf_accounts_reverse(hpf_svc *svc, const hpf_actor *actor, const char *voucher_no,
                         const char *reason, hpf_reversal *out, hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = books_scope(actor, err);
    if (rc < 0)
        return rc;
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > HPF_REVERSAL_REASON_MAX || (rl && !hpf_text_ok(reason, rl, false)))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "ledger.reason",
                             "the reason is at most %d bytes of text", HPF_REVERSAL_REASON_MAX);
    hpf_day today = hpf_svc_today(svc);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_ledger_reverse(db, voucher_no, today, reason, out, err);
    /* Last: the chain head is locked from here to the commit. The record holds the mirror
     * voucher, its lines and a digest of its postings (trust/audit.c), like a remittance. */
    if (rc == 0)
        rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_VOUCHER_REVERSED, out->voucher_id,
                              err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}
