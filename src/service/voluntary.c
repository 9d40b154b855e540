/* service/voluntary: voluntary depositors (灵活就业人员, RULES 1.4): registration at the counter,
 * the month's deposit (once, in its own month: no back-payment, no refund) and stopping, which
 * seals the account (docs/internals/contribution-changes.md). The accounts sit at the centre's
 * own pseudo-unit; a deposit is a remittance (kind 01) of that unit for one member, posted
 * through voucher template 001 like any 汇缴, so the ledger, `hpf verify` and the audit chain
 * cover it unchanged. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/mem.h"
#include "domain/ids.h"
#include "ledger/ledger.h"
#include "trust/audit.h"
#include "trust/digest.h"
#include "trust/fieldcrypt.h"

#include <string.h>

/* The pseudo-unit's USCC: 'O' and 'V' are outside the GB 32100 alphabet, so no registered
 * employer (whose code is validated) can hold it. The centre code follows. */
#define UNIT_USCC_PREFIX "HPFVOLUNTARY"
#define UNIT_NAME        "灵活就业人员住房公积金（中心自管）"
/* Employer state 99 其他: the unit takes no 汇缴, no member opened through the employer routes
 * and no 内部转移 into it (those ask for state 01); its accounts come and pay through here. */
#define UNIT_STATE "99"

/* The pseudo-unit: 1 with its id and DWZH, 0 when it does not exist yet, or an error. */
static int unit_find(hpf_db *db, int64_t *id, char acct[19], hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT v.employer_id, e.account_no FROM voluntary_unit v"
                            " JOIN employer e ON e.id = v.employer_id WHERE v.singleton = 1",
                            err);
    if (rc < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *id = hpf_stmt_i64(st, 0);
        snprintf(acct, 19, "%s", hpf_stmt_text(st, 1));
    }
    hpf_stmt_reset(st);
    return rc;
}

int svc_voluntary_unit(hpf_db *db, int64_t *id, hpf_err *err)
{
    char acct[19];
    return unit_find(db, id, acct, err);
}

/* Make the pseudo-unit in the caller's transaction (first registration), audited as any
 * employer's registration. A concurrent first registration fails on the singleton key and is
 * run again (HPF_EBUSY), finding the unit. */
static int unit_make(hpf_svc *svc, hpf_db *db, const hpf_actor *actor, const hpf_policy *pol,
                     int64_t *id, char acct[19], hpf_err *err)
{
    hpf_stmt *st;
    int64_t seq;
    char uscc[19], date[11];
    int rc = hpf_db_next_counter(db, "employer", &seq, err);
    if (rc < 0)
        return rc;
    if (hpf_acct_make_employer(acct, svc->centre, 1, seq) < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "employer account sequence exhausted");
    snprintf(uscc, sizeof uscc, "%s%s", UNIT_USCC_PREFIX, svc->centre);
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO employer (account_no, name, uscc, unit_ratio_bp,"
                        " indiv_ratio_bp, state, opened_on, branch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, acct);
    hpf_stmt_bind_text(st, 2, UNIT_NAME);
    hpf_stmt_bind_text(st, 3, uscc);
    /* The unit's own ratios mean nothing (each depositor has one ratio of their own): the
     * policy minimum keeps the row within the rules every employer row keeps. */
    hpf_stmt_bind_i64(st, 4, pol->contrib.unit_ratio_min_bp);
    hpf_stmt_bind_i64(st, 5, pol->contrib.indiv_ratio_min_bp);
    hpf_stmt_bind_text(st, 6, UNIT_STATE);
    hpf_stmt_bind_text(st, 7, hpf_day_fmt(date, hpf_svc_today(svc)));
    hpf_stmt_bind_text(st, 8, HPF_BRANCH_CENTRE);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc == HPF_ECONFLICT ? hpf_err_set(err, HPF_EBUSY, "voluntary unit made concurrently")
                                   : rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO voluntary_unit (singleton, employer_id) VALUES (1, ?)", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, *id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc == HPF_ECONFLICT ? hpf_err_set(err, HPF_EBUSY, "voluntary unit made concurrently")
                                   : rc;
    return hpf_audit_record(db, actor->user_id, HPF_AUDIT_EMPLOYER_REGISTERED, *id, err);
}

/* The ciphertext and blind index of a personal field, as service/member.c stores them (column
 * name and account number bound into the tag). "" in, "" out. */
#define VOL_COLS                                                                                   \
    "SELECT m.id, m.account_no, m.name, e.account_no, m.state, v.base, v.ratio_bp, b.balance,"     \
    " COALESCE(b.paid_through, 0), v.registered_on FROM voluntary_account v"                       \
    " JOIN member m ON m.id = v.member_id JOIN employer e ON e.id = m.employer_id"                 \
    " JOIN member_balance b ON b.member_id = m.id "

/* 1 with the depositor (and their member id), 0 when `account_no` is no voluntary account. */
static int load(hpf_db *db, const hpf_policy *pol, const char *account_no, hpf_voluntary *out,
                int64_t *member_id, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, VOL_COLS "WHERE m.account_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        *member_id = hpf_stmt_i64(st, 0);
        COPY(out->account_no, hpf_stmt_text(st, 1));
        COPY(out->name, hpf_stmt_text(st, 2));
        COPY(out->unit_account_no, hpf_stmt_text(st, 3));
        COPY(out->state, hpf_stmt_text(st, 4));
        out->base = hpf_stmt_i64(st, 5);
        out->ratio_bp = (int32_t)hpf_stmt_i64(st, 6);
        out->balance = hpf_stmt_i64(st, 7);
        out->paid_through = (hpf_month)hpf_stmt_i64(st, 8);
        out->registered_on = svc_day(hpf_stmt_text(st, 9));
        hpf_contrib c;
        hpf_err ignore = HPF_ERR_INIT;
        if (hpf_contrib_voluntary(&c, &pol->contrib, out->base, out->ratio_bp, false, &ignore) == 0)
            out->monthly = c.total;
    }
    hpf_stmt_reset(st);
    return rc;
}

/* The depositor themself or an operator of the centre (the unit is the centre's, branch 00). */
static int scope(const hpf_actor *a, const char *account_no, hpf_err *err)
{
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    if (a->role == HPF_ROLE_MEMBER)
        return !strcmp(a->account_no, account_no)
                   ? 0
                   : hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_account",
                                   "a member may act only on their own account");
    if (a->role == HPF_ROLE_OPERATOR)
        return svc_branch_sees(a, HPF_BRANCH_CENTRE)
                   ? 0
                   : hpf_err_set(err, HPF_ENOTFOUND, "no voluntary account %s", account_no);
    return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                         "voluntary accounts are the depositor's and the centre's");
}

static int not_voluntary(const char *account_no, hpf_err *err)
{
    return hpf_err_set(err, HPF_ENOTFOUND, "no voluntary account %s", account_no);
}

int hpf_voluntary_register(hpf_svc *svc, const hpf_actor *actor, const hpf_voluntary_new *in,
                           hpf_voluntary *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_policy pol;
    hpf_contrib c;
    char idn[19], acct[19], unit_acct[19], date[11], other[19], id_bidx[HPF_FC_BIDX_LEN + 1];
    hpf_day today = hpf_svc_today(svc);
    int64_t unit_id = 0, member_id = 0;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "a voluntary depositor registers at the counter, with an operator");
    /* The unit is the centre's: a branch office sends the person to the centre. */
    if (!svc_branch_sees(actor, HPF_BRANCH_CENTRE))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.branch",
                             "voluntary depositors are registered by the centre's operators");
    int rc;
    if ((rc = hpf_name_validate(in->name, "/name", err)) < 0 ||
        (rc = hpf_id_validate(in->id_number, today, idn, err)) < 0)
        return rc;
    if (in->phone && *in->phone && !hpf_mobile_valid(in->phone))
        return hpf_err_field(err, HPF_EINVAL, "/phone", "phone.format",
                             "phone must be an 11-digit mobile number starting 13-19");
    if (!svc->keys)
        return hpf_err_set(err, HPF_EINTERNAL, "no field-encryption keys are loaded");
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_policy_at(db, today, &pol, err)) < 0 ||
        (rc = hpf_contrib_voluntary(&c, &pol.contrib, in->base, in->ratio_bp, true, err)) < 0)
        return rc;
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    /* RULES 1.4: one account per person; within the centre it is the one-live-account rule
     * (the national platform's check is the counter's). */
    hpf_fc_bidx(svc->keys, "id_number", idn, id_bidx);
    rc = svc_lookup_text(db,
                         "SELECT account_no FROM member WHERE id_type = '01' AND id_number_bidx = ?"
                         " AND state NOT IN ('03', '04', '05')",
                         id_bidx, other, sizeof other, err);
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "/id_number", "member.one_live_account",
                           "this person already has a live account (%s); it is sealed and "
                           "transferred, or closed, first",
                           other);
    if (rc < 0)
        goto done;
    if ((rc = unit_find(db, &unit_id, unit_acct, err)) == 0)
        rc = unit_make(svc, db, actor, &pol, &unit_id, unit_acct, err);
    /* The declared base stands for the wage. */
    if (rc < 0 || (rc = svc_member_insert(svc, db, unit_id, in->name, idn, in->phone, in->base,
                                          acct, &member_id, err)) < 0)
        goto done;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO voluntary_account (member_id, base, ratio_bp, registered_on,"
                        " actor_id) VALUES (?, ?, ?, ?, ?)",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, in->base);
    hpf_stmt_bind_i64(st, 3, in->ratio_bp);
    hpf_stmt_bind_text(st, 4, hpf_day_fmt(date, today));
    hpf_stmt_bind_i64(st, 5, actor->user_id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0 || (rc = load(db, &pol, acct, out, &member_id, err)) < 0)
        goto done;
    if ((rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_MEMBER_OPENED, member_id, err)) < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    hpf_wipe(idn, sizeof idn);
    if (rc < 0) {
        hpf_db_rollback(db);
        memset(out, 0, sizeof *out);
        return rc;
    }
    return 0;
}

int hpf_voluntary_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                      hpf_voluntary *out, hpf_err *err)
{
    hpf_db *db;
    hpf_policy pol;
    int64_t member_id;
    int rc = scope(actor, account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0 ||
        (rc = load(db, &pol, account_no, out, &member_id, err)) < 0)
        return rc;
    return rc == 1 ? 0 : not_voluntary(account_no, err);
}

static int load_deposit(hpf_db *db, int64_t member_id, hpf_month period, hpf_remittance *out,
                        hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT r.serial, r.period, r.members, r.unit_total, r.indiv_total,"
                            " r.total, v.voucher_no, r.posted_on FROM remittance r"
                            " JOIN voucher v ON v.id = r.voucher_id WHERE r.member_id = ?"
                            " AND r.period = ? AND r.kind = '01'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, period);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        COPY(out->serial, hpf_stmt_text(st, 0));
        out->period = (hpf_month)hpf_stmt_i64(st, 1);
        out->members = hpf_stmt_i64(st, 2);
        out->unit_total = hpf_stmt_i64(st, 3);
        out->indiv_total = hpf_stmt_i64(st, 4);
        out->total = hpf_stmt_i64(st, 5);
        COPY(out->voucher_no, hpf_stmt_text(st, 6));
        out->posted_on = svc_day(hpf_stmt_text(st, 7));
    }
    hpf_stmt_reset(st);
    return rc;
}

static int set_paid_through(hpf_db *db, const char *sql, int64_t id, hpf_month period, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, period);
    hpf_stmt_bind_i64(st, 2, id);
    hpf_stmt_bind_i64(st, 3, period);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Write the month's deposit: voucher, remittance row, posting, paid-through, audit entry. */
static int post(hpf_svc *svc, hpf_db *db, const hpf_actor *actor, const hpf_voluntary *v,
                int64_t member_id, hpf_month period, hpf_fen amount, hpf_err *err)
{
    hpf_stmt *st;
    hpf_day today = hpf_svc_today(svc);
    char voucher_no[24], serial[24], summary[400], date[11], per[8], cname[32], key[64], hash[65];
    int64_t voucher_id, seq, remit_id = 0, unit_id = 0;
    int y, m, d;
    char unit_acct[19];
    int rc = unit_find(db, &unit_id, unit_acct, err);
    if (rc == 0)
        rc = hpf_err_set(err, HPF_EINTERNAL, "a voluntary account without the voluntary unit");
    if (rc < 0)
        return rc;
    snprintf(summary, sizeof summary, "灵活就业缴存 %s %s", hpf_month_fmt(per, period), v->name);
    const hpf_amount amounts[] = {{"deposit", amount}};
    if ((rc = hpf_ledger_voucher_from(db, &voucher_id, voucher_no, today, HPF_VT_REMIT, summary,
                                      amounts, 1, err)) < 0)
        return rc;
    hpf_day_to_ymd(today, &y, &m, &d);
    snprintf(cname, sizeof cname, "remittance:%04d%02d%02d", y, m, d);
    if ((rc = hpf_db_next_counter(db, cname, &seq, err)) < 0)
        return rc;
    snprintf(serial, sizeof serial, "HJ%04d%02d%02d%06lld", y, m, d, (long long)seq);
    /* The business key of a month's deposit is the account and the month. */
    snprintf(key, sizeof key, "voluntary-%s-%d", v->account_no, (int)period);
    {
        hpf_buf b = HPF_BUF_INIT;
        hpf_buf_printf(&b, "voluntary/1|%s|%d|%lld", v->account_no, (int)period, (long long)amount);
        hpf_sm3_hex(hash, b.data, b.len);
        hpf_buf_cleanup(&b);
    }
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO remittance(serial, employer_id, kind, period, idem_key,"
                        " request_hash, members, unit_total, indiv_total, total, voucher_id,"
                        " posted_on, created_by, member_id) VALUES (?, ?, '01', ?, ?, ?, 1, 0, ?,"
                        " ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, serial);
    hpf_stmt_bind_i64(st, 2, unit_id);
    hpf_stmt_bind_i64(st, 3, period);
    hpf_stmt_bind_text(st, 4, key);
    hpf_stmt_bind_text(st, 5, hash);
    hpf_stmt_bind_i64(st, 6, amount);
    hpf_stmt_bind_i64(st, 7, amount);
    hpf_stmt_bind_i64(st, 8, voucher_id);
    hpf_stmt_bind_text(st, 9, hpf_day_fmt(date, today));
    if (actor->user_id)
        hpf_stmt_bind_i64(st, 10, actor->user_id);
    else
        hpf_stmt_bind_null(st, 10);
    hpf_stmt_bind_i64(st, 11, member_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        remit_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* paid by a concurrent request since the check: run it again */
        return hpf_err_set(err, HPF_EBUSY, "the month was paid concurrently");
    if (rc < 0)
        return rc;
    /* A voluntary depositor pays both parts: the whole deposit is the member's own. */
    hpf_posting_in p = {
        .member_id = member_id,
        .biz_date = today,
        .kind = "01",
        .period = period,
        .unit_amount = 0,
        .indiv_amount = amount,
        .amount = amount,
        .voucher_id = voucher_id,
        .remittance_id = remit_id,
        .paid_through = period,
    };
    if ((rc = hpf_ledger_post_member(db, &p, NULL, err)) < 0 ||
        (rc = set_paid_through(db,
                               "UPDATE employer SET paid_through = ? WHERE id = ?"
                               " AND (paid_through IS NULL OR paid_through < ?)",
                               unit_id, period, err)) < 0)
        return rc;
    /* Last: the chain head is locked from here to the commit. */
    return hpf_audit_record(db, actor->user_id, HPF_AUDIT_REMITTANCE_POSTED, remit_id, err);
}

int hpf_voluntary_deposit(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                          hpf_month period, hpf_remittance *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    hpf_policy pol;
    hpf_voluntary v;
    hpf_contrib c;
    hpf_err why = HPF_ERR_INIT;
    int64_t member_id = 0;
    char m1[8], m2[8];
    hpf_month now = hpf_month_of(hpf_svc_today(svc));
    memset(out, 0, sizeof *out);
    *replayed = false;
    int rc = scope(actor, account_no, err);
    if (rc < 0 || (rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = hpf_policy_at(db, hpf_month_first_day(period), &pol, err)) < 0 ||
        (rc = load(db, &pol, account_no, &v, &member_id, err)) < 0)
        goto done;
    if (rc == 0) {
        rc = not_voluntary(account_no, err);
        goto done;
    }
    /* One depositor's deposits queue on their row; the month is read again behind the lock. */
    if ((rc = hpf_db_lock_row(db, "member", member_id, err)) < 0 ||
        (rc = load(db, &pol, account_no, &v, &member_id, err)) < 0)
        goto done;
    if ((rc = load_deposit(db, member_id, period, out, err)) < 0)
        goto done;
    if (rc == 1) { /* once a month: the month's deposit is the answer */
        *replayed = true;
        rc = 0;
        goto done;
    }
    if (period < now) {
        rc = hpf_err_field(err, HPF_EUNPROC, "/period", "voluntary.no_backpay",
                           "%s was not paid in its month; a voluntary depositor's missed month "
                           "cannot be paid later (RULES 1.4): pay %s",
                           hpf_month_fmt(m1, period), hpf_month_fmt(m2, now));
        goto done;
    }
    if (period > now) {
        rc = hpf_err_field(err, HPF_EUNPROC, "/period", "voluntary.period_future",
                           "%s has not begun; pay each month in that month (now %s)",
                           hpf_month_fmt(m1, period), hpf_month_fmt(m2, now));
        goto done;
    }
    if (!svc_member_takes_deposits(v.state, &why)) {
        if (err)
            *err = why; /* 409 account.state naming the state */
        rc = why.code ? why.code : HPF_ECONFLICT;
        goto done;
    }
    if ((rc = hpf_contrib_voluntary(&c, &pol.contrib, v.base, v.ratio_bp, false, err)) < 0 ||
        (rc = post(svc, db, actor, &v, member_id, period, c.total, err)) < 0 ||
        (rc = load_deposit(db, member_id, period, out, err)) < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc < 0 ? rc : 0;
}

int hpf_voluntary_stop(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                       const char *reason, hpf_state_change *out, hpf_err *err)
{
    hpf_db *db;
    hpf_policy pol;
    hpf_voluntary v;
    int64_t member_id;
    memset(out, 0, sizeof *out);
    int rc = scope(actor, account_no, err);
    if (rc < 0 || (rc = svc_conn(svc, &db, err)) < 0 ||
        (rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0 ||
        (rc = load(db, &pol, account_no, &v, &member_id, err)) < 0)
        return rc;
    if (rc == 0)
        return not_voluntary(account_no, err);
    /* 封存 through the one state machine, with its history row and audit snapshot; its role
     * rule admits the depositor for their own voluntary account (account_state.c). */
    hpf_state_req req = {
        .business = HPF_BIZ_SEAL,
        .reason = reason && *reason ? reason : "灵活就业人员停缴",
    };
    return hpf_member_state_change(svc, actor, account_no, &req, out, err);
}
