/* service/member: member accounts (个人开户), reads, statements and online-hall logins. */
#include "service/internal.h"

#include "base/mem.h"
#include "domain/ids.h"
#include "trust/audit.h"

#include <stdlib.h>
#include <string.h>

#define MEMBER_COLS                                                                                \
    "SELECT m.id, m.account_no, m.employer_id, e.account_no, e.name, m.name, m.id_number,"         \
    " COALESCE(m.phone, ''), m.wage, m.state, m.opened_on, m.balance,"                             \
    " COALESCE(m.paid_through, 0), e.unit_ratio_bp, e.indiv_ratio_bp"                              \
    " FROM member m JOIN employer e ON e.id = m.employer_id "

static void read_member(hpf_stmt *st, void *item, const void *ctx)
{
    const hpf_policy *pol = ctx;
    hpf_member *m = item;
    memset(m, 0, sizeof *m);
    m->id = hpf_stmt_i64(st, 0);
    COPY(m->account_no, hpf_stmt_text(st, 1));
    m->employer_id = hpf_stmt_i64(st, 2);
    COPY(m->employer_account_no, hpf_stmt_text(st, 3));
    COPY(m->employer_name, hpf_stmt_text(st, 4));
    COPY(m->name, hpf_stmt_text(st, 5));
    COPY(m->id_number, hpf_stmt_text(st, 6));
    COPY(m->phone, hpf_stmt_text(st, 7));
    m->wage = hpf_stmt_i64(st, 8);
    COPY(m->state, hpf_stmt_text(st, 9));
    m->opened_on = svc_day(hpf_stmt_text(st, 10));
    m->balance = hpf_stmt_i64(st, 11);
    m->paid_through = (hpf_month)hpf_stmt_i64(st, 12);
    hpf_err ignore = HPF_ERR_INIT;
    /* Stored wages and ratios were validated on the way in; a failure here leaves zeros. */
    (void)hpf_contrib_compute(&m->contrib, &pol->contrib, m->wage, (int32_t)hpf_stmt_i64(st, 13),
                              (int32_t)hpf_stmt_i64(st, 14), &ignore);
}

static int load_member(hpf_db *db, const hpf_policy *pol, const char *account_no, hpf_member *out,
                       hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, MEMBER_COLS "WHERE m.account_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        read_member(st, out, pol);
        rc = 0;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", account_no);
    }
    hpf_stmt_reset(st);
    return rc;
}

/* Scope for reading one member account: the member, their employer's agent, operators.
 * A member asking for another account is refused before any lookup (no existence oracle). */
static int scope_member(hpf_db *db, const hpf_actor *a, const hpf_policy *pol,
                        const char *account_no, hpf_member *out, hpf_err *err)
{
    if (a->role == HPF_ROLE_MEMBER && strcmp(a->account_no, account_no) != 0)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_account",
                             "a member may read only their own account");
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    int rc = load_member(db, pol, account_no, out, err);
    /* An agent gets the same 403 for an account elsewhere and for no account at all, so
     * account numbers cannot be probed. */
    if (a->role == HPF_ROLE_AGENT &&
        (rc == HPF_ENOTFOUND || (rc == 0 && out->employer_id != a->employer_id)))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_employer",
                             "an employer agent may read only their own employer's members");
    return rc;
}

int hpf_member_open(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_member_new *in, hpf_member *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_employer emp;
    hpf_policy pol;
    char idn[19], acct[19], date[11], other[19];
    hpf_day today = hpf_svc_today(svc);
    int64_t seq;

    int rc = svc_scope_employer(actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_name_validate(in->name, "/name", err)) < 0 ||
        (rc = hpf_id_validate(in->id_number, today, idn, err)) < 0)
        return rc;
    if (in->wage <= 0 || in->wage > HPF_MONEY_MAX)
        return hpf_err_field(err, HPF_EINVAL, "/wage", "money.range",
                             "wage must be a positive amount");
    if (in->phone && *in->phone && !hpf_mobile_valid(in->phone))
        return hpf_err_field(err, HPF_EINVAL, "/phone", "phone.format",
                             "phone must be an 11-digit mobile number starting 13-19");
    rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    rc = hpf_policy_at(db, today, &pol, err);
    if (rc < 0)
        return rc;

    rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = svc_load_employer(db, employer_account_no, &emp, err);
    if (rc < 0)
        goto done;
    if ((rc = svc_employer_normal(&emp, err)) < 0)
        goto done;
    rc = svc_lookup_text(db,
                         "SELECT account_no FROM member WHERE id_type = '01' AND id_number = ?"
                         " AND state NOT IN ('03', '04', '05')",
                         idn, other, sizeof other, err);
    /* Only the centre's staff learn which account it is: an agent must not learn the account
     * number of another employer's member. */
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "/id_number", "member.one_live_account",
                           "this person already has a live account%s%s%s; transfer or close it "
                           "first",
                           actor->role == HPF_ROLE_OPERATOR ? " (" : "",
                           actor->role == HPF_ROLE_OPERATOR ? other : "",
                           actor->role == HPF_ROLE_OPERATOR ? ")" : "");
    if (rc < 0)
        goto done;
    rc = hpf_db_next_counter(db, "member", &seq, err);
    if (rc < 0)
        goto done;
    if (hpf_acct_make_member(acct, svc->centre, seq) < 0) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "member account sequence exhausted");
        goto done;
    }
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO member(account_no, employer_id, name, id_type, id_number,"
                        " phone, wage, state, opened_on) VALUES (?, ?, ?, '01', ?, ?, ?, '01', ?)",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, acct);
    hpf_stmt_bind_i64(st, 2, emp.id);
    hpf_stmt_bind_text(st, 3, in->name);
    hpf_stmt_bind_text(st, 4, idn);
    hpf_stmt_bind_text(st, 5, in->phone && *in->phone ? in->phone : NULL);
    hpf_stmt_bind_i64(st, 6, in->wage);
    hpf_stmt_bind_text(st, 7, hpf_day_fmt(date, today));
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* opened by a concurrent request since the check above */
        rc = hpf_err_field(err, HPF_ECONFLICT, "/id_number", "member.one_live_account",
                           "this person already has a live account; transfer or close it first");
    if (rc < 0)
        goto done;
    rc = load_member(db, &pol, acct, out, err);
    if (rc < 0)
        goto done;
    rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_MEMBER_OPENED, out->id, err);
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

int hpf_member_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no, hpf_member *out,
                   hpf_err *err)
{
    hpf_db *db;
    hpf_policy pol;
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0)
        return rc;
    rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err);
    return rc < 0 ? rc : scope_member(db, actor, &pol, account_no, out, err);
}

int hpf_member_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    int64_t offset, int64_t limit, hpf_member **items, size_t *n, int64_t *total,
                    hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_policy pol;
    *items = NULL;
    *n = 0;
    int rc = svc_scope_employer(actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0 ||
        (rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0)
        return rc;
    return svc_list(db, "SELECT count(*) FROM member WHERE employer_id = ?",
                    MEMBER_COLS "WHERE m.employer_id = ? ORDER BY m.id LIMIT ? OFFSET ?", emp.id,
                    offset, limit, sizeof **items, read_member, &pol, (void **)items, n, total,
                    err);
}

int hpf_member_statement(hpf_svc *svc, const hpf_actor *actor, const char *account_no, hpf_day from,
                         hpf_day to, hpf_statement *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_member m;
    hpf_policy pol;
    char d1[11], d2[11];
    memset(out, 0, sizeof *out);
    out->from = from;
    out->to = to;
    if (to < from)
        return hpf_err_field(err, HPF_EINVAL, "to", "date.range", "'to' is before 'from'");
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0 ||
        (rc = scope_member(db, actor, &pol, account_no, &m, err)) < 0)
        return rc;
    hpf_day_fmt(d1, from);
    hpf_day_fmt(d2, to);
    rc = hpf_db_prepare(db, &st,
                        "SELECT balance_after FROM posting WHERE member_id = ? AND biz_date < ?"
                        " ORDER BY id DESC LIMIT 1",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m.id);
    hpf_stmt_bind_text(st, 2, d1);
    rc = hpf_stmt_step(st, err);
    out->opening = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    out->closing = out->opening;
    rc = hpf_db_prepare(db, &st,
                        "SELECT p.biz_date, p.kind, COALESCE(p.period, 0), p.amount,"
                        " p.balance_after, v.voucher_no FROM posting p"
                        " JOIN voucher v ON v.id = p.voucher_id"
                        " WHERE p.member_id = ? AND p.biz_date >= ? AND p.biz_date <= ?"
                        " ORDER BY p.id LIMIT ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m.id);
    hpf_stmt_bind_text(st, 2, d1);
    hpf_stmt_bind_text(st, 3, d2);
    hpf_stmt_bind_i64(st, 4, HPF_STATEMENT_MAX + 1);
    size_t cap = 16;
    out->items = hpf_xcalloc(cap, sizeof *out->items);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (out->n == HPF_STATEMENT_MAX) {
            out->truncated = true;
            break;
        }
        if (out->n == cap) {
            cap *= 2;
            out->items = hpf_xrealloc(out->items, cap * sizeof *out->items);
        }
        hpf_stmt_item *it = &out->items[out->n++];
        memset(it, 0, sizeof *it);
        it->date = svc_day(hpf_stmt_text(st, 0));
        COPY(it->kind, hpf_stmt_text(st, 1));
        it->period = (hpf_month)hpf_stmt_i64(st, 2);
        it->amount = hpf_stmt_i64(st, 3);
        it->balance = hpf_stmt_i64(st, 4);
        COPY(it->voucher_no, hpf_stmt_text(st, 5));
        out->closing = it->balance;
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        hpf_statement_cleanup(out);
        return rc;
    }
    return 0;
}

void hpf_statement_cleanup(hpf_statement *s)
{
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

int hpf_member_register_login(hpf_svc *svc, const char *id_number, const char *name,
                              const char *account_no, const char *password, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char idn[19];
    int64_t member_id = 0;
    int rc;
    if ((rc = hpf_id_validate(id_number, hpf_svc_today(svc), idn, err)) < 0 ||
        (rc = hpf_name_validate(name, "/name", err)) < 0 ||
        (rc = hpf_acct_validate(account_no, err)) < 0) {
        if (err && !strncmp(err->rule, "account.", 8))
            COPY(err->field, "/account_no");
        return rc;
    }
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT id FROM member WHERE account_no = ? AND id_number = ? AND name = ?"
                        " AND state NOT IN ('03', '04', '05')",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, account_no);
    hpf_stmt_bind_text(st, 2, idn);
    hpf_stmt_bind_text(st, 3, name);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        member_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    if (!member_id) {
        rc = hpf_err_field(err, HPF_EUNPROC, "", "registration.mismatch",
                           "no open account matches this ID number, name and account number");
        goto done;
    }
    rc = hpf_user_create(db, HPF_ROLE_MEMBER, idn, password, "", name, 0, member_id, NULL, err);
    if (rc == HPF_ECONFLICT && err)
        COPY(err->field, "/id_number");
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}
