/* service/employer: employer registration (单位开户) and reads. */
#include "service/internal.h"

#include "domain/ids.h"
#include "trust/audit.h"

#include <string.h>

int svc_check_username(const char *u, const char *field, hpf_err *err)
{
    size_t n = strlen(u);
    if (n < 3 || n > 32)
        return hpf_err_field(err, HPF_EINVAL, field, "username.format",
                             "username must be 3 to 32 characters");
    for (const char *p = u; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return hpf_err_field(err, HPF_EINVAL, field, "username.format",
                                 "username may hold only letters, digits, '_', '-' and '.'");
    }
    return 0;
}

int hpf_employer_register(hpf_svc *svc, const hpf_actor *actor, const hpf_employer_new *in,
                          hpf_employer *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_policy pol;
    char uscc[19], acct[19], date[11], other[19];
    hpf_day today = hpf_svc_today(svc);
    int64_t seq, id = 0;

    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator registers employers");
    /* The branch its cases belong to: the one named, else the operator's own, else the centre.
     * A branch's operator registers into that branch only. */
    const char *branch = in->branch         ? in->branch
                         : actor->branch[0] ? actor->branch
                                            : HPF_BRANCH_CENTRE;
    int rc = hpf_branch_check(svc, branch, "/branch", err);
    if (rc < 0)
        return rc;
    if (!svc_branch_sees(actor, branch))
        return hpf_err_field(err, HPF_EFORBIDDEN, "/branch", "scope.branch",
                             "an operator of branch %s registers employers of that branch only",
                             actor->branch);
    rc = hpf_name_validate(in->name, "/name", err);
    if (rc < 0)
        return rc;
    rc = hpf_uscc_validate(in->uscc, uscc, err);
    if (rc < 0)
        return rc;
    if (in->agent_username) {
        rc = svc_check_username(in->agent_username, "/agent/username", err);
        if (rc < 0)
            return rc;
        rc = hpf_name_validate(in->agent_name, "/agent/name", err);
        if (rc < 0)
            return rc;
    }
    rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    rc = hpf_policy_at(db, today, &pol, err);
    if (rc < 0)
        return rc;
    rc = hpf_contrib_check_ratios(&pol.contrib, in->unit_ratio_bp, in->indiv_ratio_bp, err);
    if (rc < 0)
        return rc;

    rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = svc_lookup_text(db, "SELECT account_no FROM employer WHERE uscc = ?", uscc, other,
                         sizeof other, err);
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "/uscc", "employer.uscc_unique",
                           "an employer with this unified social credit code is already "
                           "registered (account %s)",
                           other);
    if (rc < 0)
        goto done;
    rc = hpf_db_next_counter(db, "employer", &seq, err);
    if (rc < 0)
        goto done;
    rc = hpf_acct_make_employer(acct, svc->centre, 1, seq);
    if (rc < 0) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "employer account sequence exhausted");
        goto done;
    }
    rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO employer(account_no, name, uscc, unit_ratio_bp, indiv_ratio_bp,"
                       " state, opened_on, branch) VALUES (?, ?, ?, ?, ?, '01', ?, ?) RETURNING id",
                       err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, acct);
    hpf_stmt_bind_text(st, 2, in->name);
    hpf_stmt_bind_text(st, 3, uscc);
    hpf_stmt_bind_i64(st, 4, in->unit_ratio_bp);
    hpf_stmt_bind_i64(st, 5, in->indiv_ratio_bp);
    hpf_stmt_bind_text(st, 6, hpf_day_fmt(date, today));
    hpf_stmt_bind_text(st, 7, branch);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* registered by a concurrent request since the check above */
        rc = hpf_err_field(err, HPF_ECONFLICT, "/uscc", "employer.uscc_unique",
                           "an employer with this unified social credit code is already "
                           "registered");
    if (rc < 0)
        goto done;
    if (in->agent_username) {
        hpf_user_new un = {.role = HPF_ROLE_AGENT,
                           .username = in->agent_username,
                           .password = in->agent_password,
                           .display_name = in->agent_name,
                           .field_prefix = "/agent",
                           .employer_id = id};
        rc = hpf_user_create(svc, db, actor->user_id, &un, NULL, in->agent_totp_uri, err);
        if (rc < 0)
            goto done;
    }
    rc = svc_load_employer(db, acct, out, err);
    if (rc < 0)
        goto done;
    rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_EMPLOYER_REGISTERED, id, err);
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

int hpf_employer_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                     hpf_employer *out, hpf_err *err)
{
    hpf_db *db;
    int rc = svc_scope_employer(svc, actor, account_no, err);
    if (rc < 0)
        return rc;
    rc = svc_conn_read(svc, &db, err);
    return rc < 0 ? rc : svc_load_employer(db, account_no, out, err);
}

int hpf_employer_list(hpf_svc *svc, const hpf_actor *actor, int64_t offset, int64_t limit,
                      hpf_employer **items, size_t *n, int64_t *total, hpf_err *err)
{
    hpf_db *db;
    *items = NULL;
    *n = 0;
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator lists employers");
    int rc = svc_conn_read(svc, &db, err);
    return rc < 0 ? rc : svc_list_employers(db, actor->branch, offset, limit, items, n, total, err);
}
