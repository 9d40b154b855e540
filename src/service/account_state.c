/* service/account_state: the personal account states of RULES 1.5 changed through their
 * businesses (封存, 启封, 内部转移, 冻结, 解冻), each with its history row and audit snapshot in
 * one transaction, and the history read back (docs/internals/accounts.md). The table of what is
 * allowed is domain/account's; this file decides who may ask and writes it down. */
#include "service/internal.h"

#include "base/mem.h"
#include "domain/account.h"
#include "domain/ids.h"
#include "ledger/ledger.h"
#include "trust/audit.h"

#include <string.h>

/* The member as a state change needs it: no personal field is decrypted. */
typedef struct acct_row {
    int64_t id, employer_id;
    char account_no[19], employer_no[19], branch[3], state[3];
} acct_row;

/* 1 with the row, 0 when there is no such account, or an error. */
static int read_row(hpf_db *db, const char *account_no, acct_row *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT m.id, m.employer_id, m.account_no, e.account_no, e.branch,"
                            " m.state FROM member m JOIN employer e ON e.id = m.employer_id"
                            " WHERE m.account_no = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        out->id = hpf_stmt_i64(st, 0);
        out->employer_id = hpf_stmt_i64(st, 1);
        COPY(out->account_no, hpf_stmt_text(st, 2));
        COPY(out->employer_no, hpf_stmt_text(st, 3));
        COPY(out->branch, hpf_stmt_text(st, 4));
        COPY(out->state, hpf_stmt_text(st, 5));
    }
    hpf_stmt_reset(st);
    return rc;
}

bool svc_member_takes_deposits(const char *state, hpf_err *why)
{
    hpf_account_state s;
    return hpf_account_state_parse(state, &s, why) == 0 && hpf_account_may_receive(s, why) == 0;
}

static int no_account(const char *account_no, hpf_err *err)
{
    return hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", account_no);
}

/* The member's scope, as for reading it (service/member.c): its employer's agent (any other
 * agent gets the same 403 for an account elsewhere and for none), an operator whose branch sees
 * the employer (else the 404 of no account), the member themself when `member_ok`. `found` is
 * whether the row exists. */
static int scope_row(const hpf_actor *a, const acct_row *r, bool found, bool member_ok,
                     const char *account_no, hpf_err *err)
{
    if (a->role == HPF_ROLE_MEMBER && member_ok) {
        if (found && !strcmp(a->account_no, r->account_no))
            return 0;
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_account",
                             "a member may read only their own account");
    }
    if (a->role == HPF_ROLE_AGENT) {
        if (found && r->employer_id == a->employer_id)
            return 0;
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_employer",
                             "an employer agent may act only for their own employer's members");
    }
    if (a->role == HPF_ROLE_OPERATOR)
        return found && svc_branch_sees(a, r->branch) ? 0 : no_account(account_no, err);
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                         "this action needs an employer agent or an operator");
}

/* Free text of a request: at most `max` bytes (UTF-8, as JSON delivers it), no control
 * characters, not blank; NULL or "" only when not required. */
static int check_text(const char *s, bool required, size_t max, const char *field, const char *rule,
                      const char *what, hpf_err *err)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n <= max, blank = true;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        ok = c >= 0x20 && c != 0x7f;
        blank = blank && c == ' ';
    }
    if (ok && n > 0 && blank)
        ok = false;
    if (ok && (n > 0 || !required))
        return 0;
    return hpf_err_field(err, HPF_EINVAL, field, rule,
                         "%s: %s1 to %zu bytes of text without control characters", what,
                         required ? "required, " : "", max);
}

/* Who may ask for which business, before anything is read. */
static int check_role(const hpf_actor *a, hpf_account_biz biz, hpf_err *err)
{
    unsigned roles = biz == HPF_BIZ_FREEZE || biz == HPF_BIZ_UNFREEZE
                         ? HPF_ROLE_OPERATOR
                         : HPF_ROLE_OPERATOR | HPF_ROLE_AGENT;
    /* A voluntary depositor (灵活就业) stops their own deposits: 封存 of their own account of the
     * centre's voluntary unit (RULES 1.4: either party may stop), checked in run(). */
    if (biz == HPF_BIZ_SEAL)
        roles |= HPF_ROLE_MEMBER;
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    if (!(roles & (unsigned)a->role))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role", "%s (%s) is %s",
                             hpf_account_biz_name(biz), hpf_account_biz_code(biz),
                             roles == HPF_ROLE_OPERATOR ? "for operators"
                                                        : "for an employer agent or an operator");
    return 0;
}

static int check_request(const hpf_state_req *req, hpf_err *err)
{
    switch (req->business) {
    case HPF_BIZ_SEAL:
        return check_text(req->reason, true, HPF_STATE_REASON_MAX, "/reason", "account.reason",
                          "封存 needs the reason employment ended (RULES C-8)", err);
    case HPF_BIZ_FREEZE: {
        int rc = check_text(req->reason, true, HPF_STATE_REASON_MAX, "/reason", "account.reason",
                            "冻结 needs a reason", err);
        return rc < 0 ? rc
                      : check_text(req->order_ref, true, HPF_ORDER_REF_MAX, "/order_ref",
                                   "account.order_ref",
                                   "冻结 needs the court order or fraud case it executes", err);
    }
    case HPF_BIZ_UNFREEZE:
        return check_text(req->reason, true, HPF_STATE_REASON_MAX, "/reason", "account.reason",
                          "解冻 needs a reason (the order that lifts the freeze)", err);
    case HPF_BIZ_UNSEAL:
    case HPF_BIZ_TRANSFER:
        return check_text(req->reason, false, HPF_STATE_REASON_MAX, "/reason", "account.reason",
                          "reason", err);
    default:
        return hpf_err_set(err, HPF_EINTERNAL, "business %s is not changed through this call",
                           hpf_account_biz_code(req->business));
    }
}

/* The state a frozen account had when it was frozen: its latest 冻结 row. */
static int frozen_from(hpf_db *db, int64_t member_id, hpf_account_state *out, hpf_err *err)
{
    hpf_stmt *st;
    char prev[8] = "";
    int rc = hpf_db_prepare(db, &st,
                            "SELECT from_state FROM member_state_history WHERE member_id = ?"
                            " AND business = '14' ORDER BY id DESC LIMIT 1",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        COPY(prev, hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    *out = HPF_ACCOUNT_NONE; /* no 冻结 row: hpf_account_next names the broken record */
    hpf_err ignore = HPF_ERR_INIT;
    if (rc == 1)
        (void)hpf_account_state_parse(prev, out, &ignore);
    return 0;
}

/* The member's resident ID, as the request names it, must be the account's. */
static int check_identity(hpf_svc *svc, hpf_db *db, const acct_row *r, bool found,
                          const char *id_number, hpf_err *err)
{
    char want[19] = "", got[19] = "";
    hpf_err ignore = HPF_ERR_INIT;
    bool same = false;
    if (found && hpf_id_validate(id_number, hpf_svc_today(svc), got, &ignore) == 0) {
        int rc = svc_member_pii(svc, db, r->id, want, NULL, err);
        if (rc < 0)
            return rc;
        same = !strcmp(want, got);
    }
    hpf_wipe(want, sizeof want);
    hpf_wipe(got, sizeof got);
    if (same)
        return 0;
    /* One answer for no such account and for another person's: account numbers are not
     * probed through it. */
    return hpf_err_field(err, HPF_EFORBIDDEN, "/id_number", "account.identity_mismatch",
                         "the account number and the resident ID do not name one account");
}

/* Lock the employers (in id order, as every writer of an employer's members does) and then the
 * member, and read the member again: the state decided on is the one committed last. */
static int lock_and_read(hpf_db *db, const char *account_no, int64_t other_employer, acct_row *r,
                         hpf_err *err)
{
    int64_t first = r->employer_id, second = other_employer;
    if (second && second < first) {
        first = other_employer;
        second = r->employer_id;
    }
    int rc = hpf_db_lock_row(db, "employer", first, err);
    if (rc == 0 && second && second != first)
        rc = hpf_db_lock_row(db, "employer", second, err);
    if (rc == 0)
        rc = hpf_db_lock_row(db, "member", r->id, err);
    int64_t employer = r->employer_id;
    if (rc < 0 || (rc = read_row(db, account_no, r, err)) < 0)
        return rc;
    if (rc == 0 || r->employer_id != employer) /* moved between the two reads */
        return hpf_err_set(err, HPF_EBUSY, "member %s changed employer concurrently", account_no);
    return 0;
}

/* The target employer of a transfer: visible to the actor (an agent: their own; an operator:
 * of their branch) and normal. */
static int transfer_target(hpf_db *db, const hpf_actor *a, const char *dwzh, hpf_employer *to,
                           hpf_err *err)
{
    if (!dwzh || !*dwzh)
        return hpf_err_field(err, HPF_EINVAL, "/to_employer", "json.required",
                             "'to_employer' is required: the new employer's account number");
    if (a->role == HPF_ROLE_AGENT && strcmp(a->employer_account_no, dwzh) != 0)
        return hpf_err_field(err, HPF_EFORBIDDEN, "/to_employer", "scope.own_employer",
                             "an employer agent takes accounts over for their own employer only");
    int rc = svc_load_employer(db, dwzh, to, err);
    if (rc == 0 && !svc_branch_sees(a, to->branch))
        rc = HPF_ENOTFOUND;
    if (rc == HPF_ENOTFOUND)
        return hpf_err_field(err, HPF_EUNPROC, "/to_employer", "account.employer_unknown",
                             "no employer with account number %s", dwzh);
    if (rc < 0)
        return rc;
    rc = svc_employer_normal(to, err);
    if (rc < 0)
        hpf_err_prefix_field(err, "/to_employer");
    return rc;
}

static int insert_history(hpf_db *db, const hpf_actor *a, const acct_row *before,
                          const hpf_state_req *req, const char *to_state, int64_t to_employer,
                          hpf_day today, int64_t *id, hpf_err *err)
{
    hpf_stmt *st;
    char date[11];
    int rc = hpf_db_prepare(db, &st,
                            "INSERT INTO member_state_history (member_id, business, from_state,"
                            " to_state, from_employer, to_employer, reason, order_ref, biz_date,"
                            " actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, before->id);
    hpf_stmt_bind_text(st, 2, hpf_account_biz_code(req->business));
    hpf_stmt_bind_text(st, 3, before->state);
    hpf_stmt_bind_text(st, 4, to_state);
    hpf_stmt_bind_i64(st, 5, before->employer_id);
    hpf_stmt_bind_i64(st, 6, to_employer);
    hpf_stmt_bind_text(st, 7, req->reason && *req->reason ? req->reason : NULL);
    hpf_stmt_bind_text(st, 8,
                       req->business == HPF_BIZ_FREEZE && req->order_ref ? req->order_ref : NULL);
    hpf_stmt_bind_text(st, 9, hpf_day_fmt(date, today));
    if (a->user_id)
        hpf_stmt_bind_i64(st, 10, a->user_id);
    else
        hpf_stmt_bind_null(st, 10);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The member's new state and employer. */
static int set_member(hpf_db *db, const acct_row *before, const char *to_state, int64_t to_employer,
                      hpf_err *err)
{
    hpf_stmt *st;
    /* What was read in the WHERE clause: the row is locked, so a mismatch is a bug, not a race. */
    int rc =
        hpf_db_prepare(db, &st,
                       "UPDATE member SET state = ?, employer_id = ? WHERE id = ? AND state = ?"
                       " AND employer_id = ?",
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, to_state);
    hpf_stmt_bind_i64(st, 2, to_employer);
    hpf_stmt_bind_i64(st, 3, before->id);
    hpf_stmt_bind_text(st, 4, before->state);
    hpf_stmt_bind_i64(st, 5, before->employer_id);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    return changed == 1 ? 0 : hpf_err_set(err, HPF_EBUSY, "member state changed concurrently");
}

/* The business inside the caller's open transaction: scope, locks, the table's verdict, the
 * writes and the audit entry. */
static int run(hpf_svc *svc, hpf_db *db, const hpf_actor *actor, const char *account_no,
               const hpf_state_req *req, hpf_state_change *out, hpf_err *err)
{
    hpf_employer to_emp = {0};
    acct_row r = {0};
    hpf_account_state from, to, prev = HPF_ACCOUNT_NONE;
    bool transfer = req->business == HPF_BIZ_TRANSFER;
    bool agent_transfer = transfer && actor->role == HPF_ROLE_AGENT;
    bool named_id = req->id_number && *req->id_number;
    hpf_day today = hpf_svc_today(svc);
    int64_t hist_id = 0;

    int rc = read_row(db, account_no, &r, err);
    if (rc < 0)
        return rc;
    bool found = rc == 1;
    /* Scope first, so that whoever may not act learns nothing of the account. The new
     * employer's agent is not the account's agent: the resident ID stands for the scope. */
    if (agent_transfer) {
        if ((rc = transfer_target(db, actor, req->to_employer, &to_emp, err)) < 0 ||
            (rc = check_identity(svc, db, &r, found, req->id_number, err)) < 0)
            return rc;
    } else {
        bool self_seal = actor->role == HPF_ROLE_MEMBER && req->business == HPF_BIZ_SEAL;
        if ((rc = scope_row(actor, &r, found, self_seal, account_no, err)) < 0)
            return rc;
        int64_t unit = 0;
        if (self_seal &&
            ((rc = svc_voluntary_unit(db, &unit, err)) < 0 || (rc == 0 || r.employer_id != unit)))
            return rc < 0 ? rc
                          : hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                                          "a member stops only their own voluntary deposits; "
                                          "封存 is the employer's or an operator's");
        if (transfer &&
            ((rc = transfer_target(db, actor, req->to_employer, &to_emp, err)) < 0 ||
             (named_id && (rc = check_identity(svc, db, &r, found, req->id_number, err)) < 0)))
            return rc;
    }
    if ((rc = lock_and_read(db, account_no, to_emp.id, &r, err)) < 0)
        return rc;
    if (hpf_account_state_parse(r.state, &from, err) < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "member %s has state '%s'", account_no, r.state);
    if (from == HPF_ACCOUNT_FROZEN && req->business == HPF_BIZ_UNFREEZE &&
        (rc = frozen_from(db, r.id, &prev, err)) < 0)
        return rc;
    if ((rc = hpf_account_next(from, req->business, prev, &to, err)) < 0)
        return rc;
    if (transfer && to_emp.id == r.employer_id)
        return hpf_err_field(err, HPF_ECONFLICT, "/to_employer", "account.same_employer",
                             "account %s is already at employer %s", account_no, to_emp.account_no);
    /* The new employer's agent takes over an account its old employer released (封存, RULES
     * C-8); a live account elsewhere moves only through the centre. */
    if (agent_transfer && from != HPF_ACCOUNT_SEALED)
        return hpf_err_field(err, HPF_ECONFLICT, "", "account.not_sealed",
                             "account is in state %s (%s) at its employer: that employer seals it "
                             "(封存) first, or an operator transfers it",
                             hpf_account_state_code(from), hpf_account_state_name(from));

    const char *to_state = hpf_account_state_code(to);
    int64_t to_employer = transfer ? to_emp.id : r.employer_id;
    if ((strcmp(to_state, r.state) != 0 || to_employer != r.employer_id) &&
        (rc = set_member(db, &r, to_state, to_employer, err)) < 0)
        return rc;
    /* The balance and the postings stay on the account: the employer sub-ledger moves the
     * balance to the new employer; 201 is unchanged, so there is no voucher. */
    if (transfer && (rc = hpf_ledger_move_member(db, r.id, r.employer_id, to_emp.id, err)) < 0)
        return rc;
    if ((rc = insert_history(db, actor, &r, req, to_state, to_employer, today, &hist_id, err)) < 0)
        return rc;
    /* Last: the chain head is locked from here to the commit. */
    if ((rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_MEMBER_STATE_CHANGED, r.id, err)) < 0)
        return rc;

    *out = (hpf_state_change){.id = hist_id, .biz_date = today};
    COPY(out->account_no, r.account_no);
    COPY(out->business, hpf_account_biz_code(req->business));
    COPY(out->from_state, r.state);
    COPY(out->to_state, to_state);
    COPY(out->from_employer, r.employer_no);
    COPY(out->to_employer, transfer ? to_emp.account_no : r.employer_no);
    COPY(out->reason, req->reason ? req->reason : "");
    COPY(out->order_ref, req->business == HPF_BIZ_FREEZE && req->order_ref ? req->order_ref : "");
    COPY(out->actor, actor->username);
    COPY(out->actor_role, hpf_role_name(actor->role));
    return 0;
}

int hpf_member_state_change(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                            const hpf_state_req *req, hpf_state_change *out, hpf_err *err)
{
    hpf_db *db;
    memset(out, 0, sizeof *out);
    int rc = check_role(actor, req->business, err);
    if (rc < 0 || (rc = check_request(req, err)) < 0)
        return rc;
    if (actor->role == HPF_ROLE_AGENT && req->business == HPF_BIZ_TRANSFER &&
        (!req->id_number || !*req->id_number))
        return hpf_err_field(err, HPF_EINVAL, "/id_number", "json.required",
                             "an employer agent names the member's resident ID to take the "
                             "account over");
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = run(svc, db, actor, account_no, req, out, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

#define HISTORY_COLS                                                                               \
    "SELECT h.id, m.account_no, h.business, h.from_state, h.to_state, fe.account_no,"              \
    " te.account_no, COALESCE(h.reason, ''), COALESCE(h.order_ref, ''), h.biz_date,"               \
    " COALESCE(u.username, ''), COALESCE(u.role, '') FROM member_state_history h"                  \
    " JOIN member m ON m.id = h.member_id JOIN employer fe ON fe.id = h.from_employer"             \
    " JOIN employer te ON te.id = h.to_employer LEFT JOIN app_user u ON u.id = h.actor_id "

static void read_change(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_state_change *c = item;
    (void)ctx;
    memset(c, 0, sizeof *c);
    c->id = hpf_stmt_i64(st, 0);
    COPY(c->account_no, hpf_stmt_text(st, 1));
    COPY(c->business, hpf_stmt_text(st, 2));
    COPY(c->from_state, hpf_stmt_text(st, 3));
    COPY(c->to_state, hpf_stmt_text(st, 4));
    COPY(c->from_employer, hpf_stmt_text(st, 5));
    COPY(c->to_employer, hpf_stmt_text(st, 6));
    COPY(c->reason, hpf_stmt_text(st, 7));
    COPY(c->order_ref, hpf_stmt_text(st, 8));
    c->biz_date = svc_day(hpf_stmt_text(st, 9));
    COPY(c->actor, hpf_stmt_text(st, 10));
    COPY(c->actor_role, hpf_stmt_text(st, 11));
}

int hpf_member_state_history(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                             int64_t offset, int64_t limit, hpf_state_change **items, size_t *n,
                             int64_t *total, hpf_err *err)
{
    hpf_db *db;
    acct_row r = {0};
    *items = NULL;
    *n = 0;
    *total = 0;
    /* A member asking for another account is refused before any lookup. */
    if (actor->role == HPF_ROLE_MEMBER && strcmp(actor->account_no, account_no) != 0)
        return scope_row(actor, &r, false, true, account_no, err);
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0 || (rc = read_row(db, account_no, &r, err)) < 0 ||
        (rc = scope_row(actor, &r, rc == 1, true, account_no, err)) < 0)
        return rc;
    rc = svc_list(db, "SELECT count(*) FROM member_state_history WHERE member_id = ?",
                  HISTORY_COLS "WHERE h.member_id = ? ORDER BY h.id DESC LIMIT ? OFFSET ?", r.id,
                  offset, limit, sizeof **items, read_change, NULL, (void **)items, n, total, err);
    /* A member learns which role acted, not the staff's login names. */
    for (size_t i = 0; rc == 0 && actor->role == HPF_ROLE_MEMBER && i < *n; i++)
        (*items)[i].actor[0] = '\0';
    return rc;
}
