/* service/citytransfer: cross-city transfers (异地转移接续, RULES 1.6; docs/internals/
 * citytransfer.md). In: our member applies, a BDC901 contact letter leaves through the outbox,
 * and the other centre's BDC905 (the platform's answer, handled by hpf_ct_reply in the
 * dispatcher's transaction) posts 外部转入 as one amount. Out: the other centre's letter for one
 * of our sealed members, recorded by an operator and run at approval (maker-checker kind
 * transfer.out): interest up to the day before (I-8), voucher 011, the closing posting, state
 * 04, and the BDC905 queued, in one transaction. */
#include "service/internal.h"

#include "base/mem.h"
#include "domain/account.h"
#include "domain/ids.h"
#include "ledger/interest.h"
#include "ledger/ledger.h"
#include "peers/citytransfer.h"
#include "store/outbox.h"
#include "trust/audit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VT_TRANSFER_OUT "011" /* J7 外部转出 */
#define VT_TRANSFER_IN  "046" /* J8 外部转入 */

/* ---- small helpers ---- */

typedef struct ct_member {
    int64_t id, employer_id;
    char account_no[19], employer_no[19], employer_name[512], branch[3], state[3], name[256];
    char opened_on[11];
    hpf_fen balance;
    hpf_month paid_through;
} ct_member;

/* 1 with the row, 0 none, or an error. By account number, or by id when account_no is NULL. */
static int read_member(hpf_db *db, const char *account_no, int64_t id, ct_member *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            account_no
                                ? "SELECT m.id, m.employer_id, m.account_no, e.account_no, e.name,"
                                  " e.branch, m.state, m.name, m.opened_on, b.balance,"
                                  " COALESCE(b.paid_through, 0) FROM member m JOIN employer e"
                                  " ON e.id = m.employer_id JOIN member_balance b"
                                  " ON b.member_id = m.id WHERE m.account_no = ?"
                                : "SELECT m.id, m.employer_id, m.account_no, e.account_no, e.name,"
                                  " e.branch, m.state, m.name, m.opened_on, b.balance,"
                                  " COALESCE(b.paid_through, 0) FROM member m JOIN employer e"
                                  " ON e.id = m.employer_id JOIN member_balance b"
                                  " ON b.member_id = m.id WHERE m.id = ?",
                            err);
    if (rc < 0)
        return rc;
    if (account_no)
        hpf_stmt_bind_text(st, 1, account_no);
    else
        hpf_stmt_bind_i64(st, 1, id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        out->id = hpf_stmt_i64(st, 0);
        out->employer_id = hpf_stmt_i64(st, 1);
        COPY(out->account_no, hpf_stmt_text(st, 2));
        COPY(out->employer_no, hpf_stmt_text(st, 3));
        COPY(out->employer_name, hpf_stmt_text(st, 4));
        COPY(out->branch, hpf_stmt_text(st, 5));
        COPY(out->state, hpf_stmt_text(st, 6));
        COPY(out->name, hpf_stmt_text(st, 7));
        COPY(out->opened_on, hpf_stmt_text(st, 8));
        out->balance = hpf_stmt_i64(st, 9);
        out->paid_through = (hpf_month)hpf_stmt_i64(st, 10);
    }
    hpf_stmt_reset(st);
    return rc;
}

/* Whether `a` may act on the member: the member themself when member_ok, an operator whose
 * branch sees the employer. Everyone else learns nothing (404 for an operator, 403 else). */
static int scope(const hpf_actor *a, const ct_member *m, bool found, bool member_ok,
                 const char *account_no, hpf_err *err)
{
    if (a->role == HPF_ROLE_MEMBER && member_ok) {
        if (found && !strcmp(a->account_no, m->account_no))
            return 0;
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_account",
                             "a member may act only on their own account");
    }
    if (a->role == HPF_ROLE_OPERATOR) {
        if (found && svc_branch_sees(a, m->branch))
            return 0;
        return hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", account_no);
    }
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                         member_ok ? "this is for the member or an operator" : "for operators");
}

static bool digits(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789") == n;
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    bool blank = true;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
        blank = blank && s[i] == ' ';
    }
    return !blank;
}

static bool acct_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 32 &&
           strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == n;
}

static int check_key(const char *k, hpf_err *err)
{
    size_t n = k ? strlen(k) : 0;
    bool ok = n >= 8 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
             (k[i] >= '0' && k[i] <= '9') || k[i] == '-' || k[i] == '_';
    return ok ? 0
              : hpf_err_field(err, HPF_EINVAL, "Idempotency-Key", "idempotency.key_format",
                              "Idempotency-Key must be 8 to 64 of A-Z a-z 0-9 - _");
}

static int check_centre(const hpf_svc *svc, const char *c, const char *field, hpf_err *err)
{
    if (!digits(c, 6))
        return hpf_err_field(err, HPF_EINVAL, field, "citytransfer.centre",
                             "a centre is named by its 6-digit institution code");
    if (!strcmp(c, svc->centre))
        return hpf_err_field(err, HPF_EUNPROC, field, "citytransfer.same_centre",
                             "%s is this centre: a transfer inside the city is 内部转移", c);
    return 0;
}

static int state_refused(const char *state, const char *what, hpf_err *err)
{
    hpf_account_state s = HPF_ACCOUNT_NONE;
    hpf_err ignore = HPF_ERR_INIT;
    (void)hpf_account_state_parse(state, &s, &ignore);
    return hpf_err_field(err, HPF_ECONFLICT, "", "account.state", "account is in state %s (%s): %s",
                         state, hpf_account_state_name(s), what);
}

/* ---- rows ---- */

#define CT_COLS                                                                                    \
    "SELECT t.id, t.direction, t.contact_no, m.account_no, t.state, t.other_centre,"               \
    " COALESCE(t.or_unit, ''), COALESCE(t.or_acct, ''), t.amount IS NOT NULL,"                     \
    " COALESCE(t.principal, 0), COALESCE(t.interest, 0), COALESCE(t.amount, 0),"                   \
    " COALESCE(t.o_acct, 0), COALESCE(t.pay_end, 0), COALESCE(t.six_mcon, 0),"                     \
    " COALESCE(t.loan_num, 0), COALESCE(t.loan_end, 0), COALESCE(t.fr_loan, 0),"                   \
    " COALESCE(t.cont_phone, ''), COALESCE(v.voucher_no, ''), t.applied_on,"                       \
    " COALESCE(t.done_on, ''), t.member_id, COALESCE(t.idem_key, '') FROM city_transfer t"         \
    " JOIN member m ON m.id = t.member_id LEFT JOIN voucher v ON v.id = t.voucher_id "

static void read_ct(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_city_transfer *t = item;
    (void)ctx;
    memset(t, 0, sizeof *t);
    t->id = hpf_stmt_i64(st, 0);
    COPY(t->direction, hpf_stmt_text(st, 1));
    COPY(t->contact_no, hpf_stmt_text(st, 2));
    COPY(t->account_no, hpf_stmt_text(st, 3));
    COPY(t->state, hpf_stmt_text(st, 4));
    COPY(t->other_centre, hpf_stmt_text(st, 5));
    COPY(t->or_unit, hpf_stmt_text(st, 6));
    COPY(t->or_acct, hpf_stmt_text(st, 7));
    t->has_amounts = hpf_stmt_i64(st, 8) != 0;
    t->principal = hpf_stmt_i64(st, 9);
    t->interest = hpf_stmt_i64(st, 10);
    t->amount = hpf_stmt_i64(st, 11);
    t->o_acct = (hpf_month)hpf_stmt_i64(st, 12);
    t->pay_end = (hpf_month)hpf_stmt_i64(st, 13);
    t->six_mcon = (int)hpf_stmt_i64(st, 14);
    t->loan_num = (int)hpf_stmt_i64(st, 15);
    t->loan_end = (int)hpf_stmt_i64(st, 16);
    t->fr_loan = (int)hpf_stmt_i64(st, 17);
    COPY(t->cont_phone, hpf_stmt_text(st, 18));
    COPY(t->voucher_no, hpf_stmt_text(st, 19));
    t->applied_on = svc_day(hpf_stmt_text(st, 20));
    t->done_on = svc_day(hpf_stmt_text(st, 21));
    t->member_id = hpf_stmt_i64(st, 22);
    COPY(t->idem_key, hpf_stmt_text(st, 23));
}

/* 1 with the transfer of letter `contact_no`, 0 none, or an error. */
static int read_transfer(hpf_db *db, const char *contact_no, hpf_city_transfer *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, CT_COLS "WHERE t.contact_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, contact_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        read_ct(st, out, NULL);
    hpf_stmt_reset(st);
    return rc;
}

static int add_event(hpf_db *db, int64_t transfer_id, const char *from, const char *to,
                     const char *tx, const char *note, hpf_day day, int64_t actor, hpf_err *err)
{
    hpf_stmt *st;
    char d[11];
    int rc = hpf_db_prepare(db, &st,
                            "INSERT INTO city_transfer_event (transfer_id, from_state, to_state,"
                            " tx_code, note, biz_date, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, transfer_id);
    hpf_stmt_bind_text(st, 2, from);
    hpf_stmt_bind_text(st, 3, to);
    hpf_stmt_bind_text(st, 4, tx);
    hpf_stmt_bind_text(st, 5, note && *note ? note : NULL);
    hpf_stmt_bind_text(st, 6, hpf_day_fmt(d, day));
    if (actor)
        hpf_stmt_bind_i64(st, 7, actor);
    else
        hpf_stmt_bind_null(st, 7);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Move the transfer from state `from` to `to` (the row must still be in `from`), with its event;
 * `done` sets done_on. */
static int move(hpf_db *db, const hpf_city_transfer *t, const char *to, const char *tx,
                const char *note, hpf_day day, int64_t actor, bool done, hpf_err *err)
{
    hpf_stmt *st;
    char d[11];
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE city_transfer SET state = ?, done_on = ? WHERE id = ?"
                            " AND state = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, to);
    hpf_stmt_bind_text(st, 2, done ? hpf_day_fmt(d, day) : NULL);
    hpf_stmt_bind_i64(st, 3, t->id);
    hpf_stmt_bind_text(st, 4, t->state);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc >= 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (changed != 1)
        return hpf_err_set(err, HPF_EBUSY, "transfer %s changed concurrently", t->contact_no);
    return add_event(db, t->id, t->state, to, tx, note, day, actor, err);
}

static int enqueue(hpf_db *db, const char *tx, const char *contact_no, const char *suffix,
                   const char *body, hpf_err *err)
{
    char key[96], topic[32], lower[8];
    for (size_t i = 0; i < sizeof lower - 1 && tx[i]; i++) {
        lower[i] = (char)(tx[i] >= 'A' && tx[i] <= 'Z' ? tx[i] + 32 : tx[i]);
        lower[i + 1] = '\0';
    }
    snprintf(key, sizeof key, "ct:%s:%s%s", lower, contact_no, suffix ? suffix : "");
    snprintf(topic, sizeof topic, "citytransfer.%s", lower + 3); /* "bdc901" -> "901" */
    return hpf_outbox_enqueue(db, HPF_CT_PEER, topic, key, body, NULL, err);
}

/* ---- transfer in: apply, cancel, query ---- */

static int apply_run(hpf_svc *svc, hpf_db *db, const hpf_actor *actor, const hpf_ct_in_req *req,
                     hpf_city_transfer *out, bool *replayed, hpf_err *err)
{
    ct_member m;
    hpf_city_transfer prev;
    hpf_day today = hpf_svc_today(svc);
    char contact[HPF_CT_LETTER_LEN + 1], idn[19] = "", day[11], name[64];
    char *body = NULL;
    int64_t seq = 0, id = 0;
    hpf_stmt *st;

    int rc = read_member(db, req->account_no, 0, &m, err);
    if (rc < 0 || (rc = scope(actor, &m, rc == 1, true, req->account_no, err)) < 0)
        return rc;
    rc = svc_lookup_text(db, "SELECT contact_no FROM city_transfer WHERE idem_key = ?",
                         req->idem_key, contact, sizeof contact, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if ((rc = read_transfer(db, contact, &prev, err)) < 0)
            return rc;
        if (prev.member_id != m.id || strcmp(prev.other_centre, req->out_centre) != 0 ||
            strcmp(prev.or_unit, req->or_unit) != 0 || strcmp(prev.or_acct, req->or_acct) != 0)
            return hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                                 "this Idempotency-Key was used for another application (%s)",
                                 contact);
        *out = prev;
        *replayed = true;
        return 0;
    }
    if ((rc = hpf_db_lock_row(db, "employer", m.employer_id, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "member", m.id, err)) < 0 ||
        (rc = read_member(db, NULL, m.id, &m, err)) < 0)
        return rc;
    /* RULES 1.6 item 1: the receiving centre must already hold an open account. */
    if (strcmp(m.state, "01") != 0)
        return state_refused(m.state,
                             "a transfer in needs an open account (01) here: open or unseal it "
                             "first",
                             err);
    snprintf(name, sizeof name, "ct_letter:%s", hpf_day_fmt(day, today));
    if ((rc = hpf_db_next_counter(db, name, &seq, err)) < 0 ||
        (rc = hpf_ct_letter_no(contact, svc->centre, today, seq, err)) < 0)
        return rc;
    if ((rc = svc_member_pii(svc, db, m.id, idn, NULL, err)) < 0)
        return rc;
    hpf_ct_apply a = {
        .tx_func = "0",
        .contact_no = contact,
        .in_centre = svc->centre,
        .out_centre = req->out_centre,
        .name = m.name,
        .cert_type = "01",
        .cert_no = idn,
        .or_unit = req->or_unit,
        .or_acct = req->or_acct,
        .in_acct = m.account_no,
    };
    rc = hpf_ct_apply_message(&body, &a, err);
    hpf_wipe(idn, sizeof idn);
    if (rc < 0)
        goto done;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO city_transfer (direction, contact_no, member_id, state,"
                        " other_centre, or_unit, or_acct, idem_key, applied_on, actor_id)"
                        " VALUES ('in', ?, ?, '01', ?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, contact);
    hpf_stmt_bind_i64(st, 2, m.id);
    hpf_stmt_bind_text(st, 3, req->out_centre);
    hpf_stmt_bind_text(st, 4, req->or_unit);
    hpf_stmt_bind_text(st, 5, req->or_acct);
    hpf_stmt_bind_text(st, 6, req->idem_key);
    hpf_stmt_bind_text(st, 7, day);
    if (actor->user_id)
        hpf_stmt_bind_i64(st, 8, actor->user_id);
    else
        hpf_stmt_bind_null(st, 8);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "/account_no", "citytransfer.open",
                           "account %s has a transfer in under way: cancel it or wait for it",
                           m.account_no);
        goto done;
    }
    if (rc < 0 ||
        (rc = add_event(db, id, NULL, HPF_CT_LETTER_PASSED, "BDC901", NULL, today, actor->user_id,
                        err)) < 0 ||
        (rc = enqueue(db, "BDC901", contact, NULL, body, err)) < 0 ||
        (rc = read_transfer(db, contact, out, err)) < 0)
        goto done;
    rc = 0;
done:
    free(body);
    return rc;
}

int hpf_xfer_apply(hpf_svc *svc, const hpf_actor *actor, const hpf_ct_in_req *req,
                   hpf_city_transfer *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    *replayed = false;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_MEMBER && actor->role != HPF_ROLE_OPERATOR)
        return scope(actor, NULL, false, true, "", err);
    int rc = check_key(req->idem_key, err);
    if (rc < 0 || (rc = check_centre(svc, req->out_centre, "/out_centre", err)) < 0)
        return rc;
    if (!req->account_no || !*req->account_no)
        return hpf_err_field(err, HPF_EINVAL, "/account_no", "json.required",
                             "'account_no' is required: the account here that receives");
    if (!text_ok(req->or_unit, HPF_CT_NAME_MAX))
        return hpf_err_field(err, HPF_EINVAL, "/or_unit", "citytransfer.or_unit",
                             "or_unit: the former employer's name, 1 to 120 bytes of text");
    if (!acct_ok(req->or_acct))
        return hpf_err_field(err, HPF_EINVAL, "/or_acct", "citytransfer.or_acct",
                             "or_acct: the former 公积金 account, 1 to 32 letters and digits");
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = apply_run(svc, db, actor, req, out, replayed, err);
    if (rc == 0 && !*replayed)
        rc = hpf_db_commit(db, err);
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* The transfer of a letter as `actor` may see it (the member: their own; an operator of the
 * member's branch); 404 citytransfer.unknown otherwise. */
static int load_scoped(hpf_db *db, const hpf_actor *actor, const char *contact_no,
                       hpf_city_transfer *t, ct_member *m, hpf_err *err)
{
    int rc = hpf_ct_letter_valid(contact_no) ? read_transfer(db, contact_no, t, err) : 0;
    if (rc == 1 && (rc = read_member(db, NULL, t->member_id, m, err)) == 1) {
        hpf_err ignore = HPF_ERR_INIT;
        if (scope(actor, m, true, true, m->account_no, &ignore) == 0)
            return 0;
        if (actor->role != HPF_ROLE_MEMBER && actor->role != HPF_ROLE_OPERATOR)
            return scope(actor, m, true, true, m->account_no, err);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    return hpf_err_field(err, HPF_ENOTFOUND, "", "citytransfer.unknown", "no transfer %.20s",
                         contact_no ? contact_no : "");
}

int hpf_xfer_cancel(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                    const char *reason, hpf_city_transfer *out, hpf_err *err)
{
    hpf_db *db;
    hpf_city_transfer t;
    ct_member m;
    char *body = NULL;
    hpf_day today = hpf_svc_today(svc);
    memset(out, 0, sizeof *out);
    if (!text_ok(reason, HPF_CT_TEXT_MAX))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "citytransfer.reason",
                             "reason: 1 to 200 bytes of text without control characters");
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = load_scoped(db, actor, contact_no, &t, &m, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "member", t.member_id, err)) < 0 ||
        (rc = read_transfer(db, contact_no, &t, err)) < 0)
        goto done;
    /* RULES 1.6 item 3: only before the sending centre accepted the letter. */
    if (strcmp(t.direction, "in") != 0 || strcmp(t.state, HPF_CT_LETTER_PASSED) != 0) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "citytransfer.state",
                           "transfer %s is in state %s (%s): BDC903 cancels only a transfer in "
                           "in state 01 (联系函复核通过)",
                           t.contact_no, t.state, hpf_ct_state_name(t.state));
        goto done;
    }
    if ((rc = hpf_ct_cancel_message(&body, t.contact_no, reason, err)) < 0 ||
        (rc = move(db, &t, HPF_CT_CANCELLED, "BDC903", reason, today, actor->user_id, true, err)) <
            0 ||
        (rc = enqueue(db, "BDC903", t.contact_no, NULL, body, err)) < 0 ||
        (rc = read_transfer(db, contact_no, out, err)) < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    free(body);
    if (rc < 0) {
        hpf_db_rollback(db);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int hpf_xfer_query(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                   hpf_city_transfer *out, hpf_err *err)
{
    hpf_db *db;
    hpf_city_transfer t;
    ct_member m;
    char *body = NULL, suffix[24];
    int64_t n = 0;
    memset(out, 0, sizeof *out);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = load_scoped(db, actor, contact_no, &t, &m, err)) < 0)
        goto done;
    if (strcmp(t.direction, "in") != 0 || t.done_on) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "citytransfer.state",
                           "transfer %s is in state %s (%s): only an open transfer in is "
                           "queried (BDC904)",
                           t.contact_no, t.state, hpf_ct_state_name(t.state));
        goto done;
    }
    /* Each query is a message of its own (the key names it), so the platform answers anew. */
    if ((rc = hpf_db_next_counter(db, "ct_query", &n, err)) < 0)
        goto done;
    snprintf(suffix, sizeof suffix, ":%lld", (long long)n);
    if ((rc = hpf_ct_query_message(&body, t.contact_no, err)) < 0 ||
        (rc = enqueue(db, "BDC904", t.contact_no, suffix, body, err)) < 0)
        goto done;
    *out = t;
    rc = hpf_db_commit(db, err);
done:
    free(body);
    if (rc < 0) {
        hpf_db_rollback(db);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int hpf_xfer_get(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                 hpf_city_transfer *out, hpf_ct_event **events, size_t *nevents, hpf_err *err)
{
    hpf_db *db;
    ct_member m;
    hpf_stmt *st;
    *events = NULL;
    *nevents = 0;
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0 || (rc = load_scoped(db, actor, contact_no, out, &m, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT COALESCE(from_state, ''), to_state, tx_code, COALESCE(note, ''),"
                        " biz_date FROM city_transfer_event WHERE transfer_id = ? ORDER BY id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, out->id);
    size_t cap = 0;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*nevents == cap) {
            cap = cap ? cap * 2 : 8;
            *events = hpf_xrealloc(*events, cap * sizeof **events);
        }
        hpf_ct_event *e = &(*events)[(*nevents)++];
        memset(e, 0, sizeof *e);
        COPY(e->from_state, hpf_stmt_text(st, 0));
        COPY(e->to_state, hpf_stmt_text(st, 1));
        COPY(e->tx_code, hpf_stmt_text(st, 2));
        COPY(e->note, hpf_stmt_text(st, 3));
        e->biz_date = svc_day(hpf_stmt_text(st, 4));
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(*events);
        *events = NULL;
        *nevents = 0;
        return rc;
    }
    return 0;
}

/* ---- the platform's answers (dispatcher) ---- */

/* Store what the BDC905 says on the transfer row. */
static int keep_transfer_info(hpf_db *db, int64_t id, const hpf_ct_out *o, int64_t voucher_id,
                              hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE city_transfer SET principal = ?, interest = ?, amount = ?,"
                            " o_acct = ?, pay_end = ?, six_mcon = ?, loan_num = ?, loan_end = ?,"
                            " fr_loan = ?, cont_phone = ?, voucher_id = ? WHERE id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, o->principal);
    hpf_stmt_bind_i64(st, 2, o->interest);
    hpf_stmt_bind_i64(st, 3, o->tran_amt);
    hpf_stmt_bind_i64(st, 4, o->o_acct);
    hpf_stmt_bind_i64(st, 5, o->pay_end);
    hpf_stmt_bind_i64(st, 6, o->six_mcon);
    hpf_stmt_bind_i64(st, 7, o->loan_num);
    hpf_stmt_bind_i64(st, 8, o->loan_end);
    hpf_stmt_bind_i64(st, 9, o->fr_loan);
    hpf_stmt_bind_text(st, 10, o->cont_phone[0] ? o->cont_phone : NULL);
    if (voucher_id)
        hpf_stmt_bind_i64(st, 11, voucher_id);
    else
        hpf_stmt_bind_null(st, 11);
    hpf_stmt_bind_i64(st, 12, id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The sending centre transferred (FlowState 08 with its BDC905): post 外部转入 as one amount,
 * 046 Dr 101 / Cr 201 and one posting of kind 08, and close the transfer in 00. When the account
 * takes no deposit now (sealed or frozen... since the letter), the transfer waits in 08 with the
 * figures kept; a later BDC904 brings the answer again. */
static int post_in(hpf_svc *svc, hpf_db *db, hpf_city_transfer *t, const hpf_ct_out *o,
                   hpf_err *err)
{
    ct_member m;
    hpf_day today = hpf_svc_today(svc);
    hpf_err why = HPF_ERR_INIT;
    char idn[19] = "", vno[24];
    int64_t vid = 0;
    int rc = read_member(db, NULL, t->member_id, &m, err);
    if (rc < 0 || (rc = hpf_db_lock_row(db, "employer", m.employer_id, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "member", m.id, err)) < 0 ||
        (rc = read_member(db, NULL, t->member_id, &m, err)) < 0)
        return rc;
    /* The transfer must be this person's: the platform's answer names the resident ID. */
    if ((rc = svc_member_pii(svc, db, m.id, idn, NULL, err)) < 0)
        return rc;
    bool same = !strcmp(idn, o->cert_no);
    hpf_wipe(idn, sizeof idn);
    if (!same)
        return hpf_err_field(err, HPF_EINVAL, "reply", "citytransfer.reply",
                             "the BDC905 of %s names another person than account %s", t->contact_no,
                             m.account_no);
    if (strcmp(t->state, HPF_CT_INFO_PASSED) != 0 &&
        (rc = move(db, t, HPF_CT_INFO_PASSED, "BDC905", NULL, today, 0, false, err)) < 0)
        return rc;
    COPY(t->state, HPF_CT_INFO_PASSED);
    if (!svc_member_takes_deposits(m.state, &why)) {
        if ((rc = keep_transfer_info(db, t->id, o, 0, err)) < 0)
            return rc;
        return add_event(db, t->id, HPF_CT_INFO_PASSED, HPF_CT_INFO_PASSED, "BDC905", why.msg,
                         today, 0, err);
    }
    if (o->tran_amt > 0) {
        hpf_amount amt[] = {{"transfer_in", o->tran_amt}};
        char summary[96];
        snprintf(summary, sizeof summary, "外部转入 %s", t->contact_no);
        if ((rc = hpf_ledger_voucher_from(db, &vid, vno, today, VT_TRANSFER_IN, summary, amt, 1,
                                          err)) < 0)
            return rc;
        hpf_posting_in p = {
            .member_id = m.id,
            .biz_date = today,
            .kind = "08",
            .amount = o->tran_amt,
            .indiv_amount = o->tran_amt,
            .voucher_id = vid,
        };
        if ((rc = hpf_ledger_post_member(db, &p, NULL, err)) < 0)
            return rc;
    }
    if ((rc = keep_transfer_info(db, t->id, o, vid, err)) < 0 ||
        (vid && (rc = hpf_ledger_link(db, vid, "citytransfer", "city_transfer", t->id, err)) < 0) ||
        (rc = move(db, t, HPF_CT_DONE, "BDC905", NULL, today, 0, true, err)) < 0)
        return rc;
    /* Last: the chain head is locked from here to the commit. */
    return vid ? hpf_audit_record(db, 0, HPF_AUDIT_VOUCHER_POSTED, vid, err) : 0;
}

int hpf_xfer_reply(hpf_svc *svc, hpf_db *db, const struct hpf_outbox_msg *msg,
                   const char *reply_json, hpf_err *err)
{
    hpf_ct_reply r;
    hpf_city_transfer t;
    hpf_day today = hpf_svc_today(svc);
    (void)msg;
    int rc = hpf_ct_reply_parse(&r, reply_json, err);
    if (rc < 0 || (rc = read_transfer(db, r.contact_no, &t, err)) < 0)
        return rc;
    if (rc == 0)
        return hpf_err_field(err, HPF_EINVAL, "reply", "citytransfer.reply",
                             "the platform answered for letter %s, which is not ours",
                             r.contact_no);
    if ((rc = hpf_db_lock_row(db, "member", t.member_id, err)) < 0 ||
        (rc = read_transfer(db, r.contact_no, &t, err)) < 0)
        return rc;
    if (!strcmp(r.rst_code, "1")) /* refused: the state stays; the event says why */
        return add_event(db, t.id, t.state, t.state, r.tx_code,
                         r.rst_msg[0] ? r.rst_msg : "refused by the platform", today, 0, err);
    if (!strcmp(t.direction, "out")) {
        /* Our BDC905, confirmed by the receiving centre. */
        if (!strcmp(r.flow_state, HPF_CT_DONE) && strcmp(t.state, HPF_CT_DONE) != 0)
            return move(db, &t, HPF_CT_DONE, r.tx_code, NULL, today, 0, true, err);
        return 0;
    }
    if (t.done_on) /* ended here already (cancelled, done, refused): a late answer changes nothing
                    */
        return 0;
    if (!strcmp(r.flow_state, HPF_CT_INFO_PASSED) && r.has_transfer)
        return post_in(svc, db, &t, &r.transfer, err);
    if (!strcmp(r.flow_state, t.state))
        return 0;
    bool ends = !strcmp(r.flow_state, HPF_CT_OUT_REFUSED) ||
                !strcmp(r.flow_state, HPF_CT_OUT_FAILED) ||
                !strcmp(r.flow_state, HPF_CT_CANCELLED) || !strcmp(r.flow_state, HPF_CT_NEGOTIATED);
    if (!strcmp(r.flow_state, HPF_CT_LETTER_ACCEPTED) ||
        !strcmp(r.flow_state, HPF_CT_NEGOTIATING) || ends)
        return move(db, &t, r.flow_state, r.tx_code, r.rst_msg, today, 0, ends, err);
    return 0; /* 01 (still with the sending centre), or 08 / 00 without a transfer: nothing new */
}

/* ---- transfer out: the maker-checker kind transfer.out ---- */

typedef struct out_payload {
    const char *account_no, *contact_no, *in_centre, *reason;
} out_payload;

static int out_decode(json_t *p, out_payload *o, hpf_err *err)
{
    o->account_no = json_string_value(json_object_get(p, "account_no"));
    o->contact_no = json_string_value(json_object_get(p, "contact_no"));
    o->in_centre = json_string_value(json_object_get(p, "in_centre"));
    o->reason = json_string_value(json_object_get(p, "reason"));
    if (!o->account_no || !o->contact_no || !o->in_centre || !o->reason)
        return hpf_err_set(err, HPF_EINTERNAL, "approval payload: a transfer.out field");
    return 0;
}

int svc_xfer_out_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, struct json_t *payload,
                       int64_t *employer_id, hpf_err *err)
{
    out_payload p;
    ct_member m;
    (void)svc;
    int rc = out_decode(payload, &p, err);
    if (rc < 0 || (rc = read_member(db, p.account_no, 0, &m, err)) < 0 ||
        (rc = scope(maker, &m, rc == 1, false, p.account_no, err)) < 0)
        return rc;
    *employer_id = m.employer_id;
    return hpf_db_lock_row(db, "employer", m.employer_id, err);
}

/* Every check of the execution, writing nothing. */
static int out_check(hpf_svc *svc, hpf_db *db, const out_payload *p, ct_member *m, hpf_err *err)
{
    int rc;
    if (!hpf_ct_letter_valid(p->contact_no))
        return hpf_err_field(err, HPF_EINVAL, "/contact_no", "citytransfer.contact_no",
                             "contact_no: the other centre's letter number, 16 digits");
    if ((rc = check_centre(svc, p->in_centre, "/in_centre", err)) < 0)
        return rc;
    if (strncmp(p->contact_no, p->in_centre, 6) != 0)
        return hpf_err_field(err, HPF_EUNPROC, "/contact_no", "citytransfer.contact_no",
                             "letter %s was not written by centre %s (its first 6 digits)",
                             p->contact_no, p->in_centre);
    if (!text_ok(p->reason, HPF_CT_TEXT_MAX))
        return hpf_err_field(err, HPF_EINVAL, "/reason", "citytransfer.reason",
                             "reason: 1 to 200 bytes of text without control characters");
    char other[HPF_CT_LETTER_LEN + 1];
    if ((rc = svc_lookup_text(db, "SELECT contact_no FROM city_transfer WHERE contact_no = ?",
                              p->contact_no, other, sizeof other, err)) < 0)
        return rc;
    if (rc == 1)
        return hpf_err_field(err, HPF_ECONFLICT, "/contact_no", "citytransfer.letter_used",
                             "letter %s has been handled already", p->contact_no);
    if ((rc = read_member(db, p->account_no, 0, m, err)) < 0)
        return rc;
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", p->account_no);
    /* RULES 1.5: 外部转出 07 leaves 02 封存 for 04; the employer seals the account first. */
    if (strcmp(m->state, "02") != 0)
        return state_refused(m->state,
                             "外部转出 (07) needs a sealed account (02): its employer seals it "
                             "first",
                             err);
    return 0;
}

int svc_xfer_out_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                          struct json_t *payload, hpf_err *err)
{
    out_payload p;
    ct_member m;
    (void)maker, (void)ref;
    int rc = out_decode(payload, &p, err);
    return rc < 0 ? rc : out_check(svc, db, &p, &m, err);
}

/* SixMconFlag from our postings: 1 when each of the six months up to 缴至年月 has a deposit. */
static int six_months(hpf_db *db, int64_t member_id, hpf_month pay_end, int *flag, hpf_err *err)
{
    hpf_stmt *st;
    int64_t n = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT COUNT(DISTINCT period) FROM posting WHERE member_id = ?"
                            " AND kind IN ('01', '02') AND amount > 0 AND period BETWEEN ? AND ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    hpf_stmt_bind_i64(st, 2, hpf_month_add(pay_end, -5));
    hpf_stmt_bind_i64(st, 3, pay_end);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        n = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    *flag = n == 6 ? 1 : 2;
    return rc < 0 ? rc : 0;
}

static int member_closed(hpf_db *db, const ct_member *m, const char *to_state, const char *biz,
                         const char *reason, hpf_day today, int64_t actor, hpf_err *err)
{
    hpf_stmt *st;
    char d[11];
    hpf_day_fmt(d, today);
    int rc = hpf_db_prepare(
        db, &st, "UPDATE member SET state = ?, closed_on = ? WHERE id = ? AND state = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, to_state);
    hpf_stmt_bind_text(st, 2, d);
    hpf_stmt_bind_i64(st, 3, m->id);
    hpf_stmt_bind_text(st, 4, m->state);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc >= 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (changed != 1)
        return hpf_err_set(err, HPF_EBUSY, "member state changed concurrently");
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO member_state_history (member_id, business, from_state,"
                        " to_state, from_employer, to_employer, reason, biz_date, actor_id)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, m->id);
    hpf_stmt_bind_text(st, 2, biz);
    hpf_stmt_bind_text(st, 3, m->state);
    hpf_stmt_bind_text(st, 4, to_state);
    hpf_stmt_bind_i64(st, 5, m->employer_id);
    hpf_stmt_bind_i64(st, 6, m->employer_id);
    hpf_stmt_bind_text(st, 7, reason);
    hpf_stmt_bind_text(st, 8, d);
    if (actor)
        hpf_stmt_bind_i64(st, 9, actor);
    else
        hpf_stmt_bind_null(st, 9);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int svc_member_close(hpf_db *db, int64_t member_id, const char *to_state, const char *biz,
                     const char *reason, hpf_day today, int64_t actor, hpf_err *err)
{
    ct_member m;
    int rc = read_member(db, NULL, member_id, &m, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "no member id %lld", (long long)member_id);
    return member_closed(db, &m, to_state, biz, reason, today, actor, err);
}

int svc_xfer_out_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                         struct json_t *payload, char **result, hpf_err *err)
{
    out_payload p;
    ct_member m;
    hpf_interest_result ir;
    hpf_day today = hpf_svc_today(svc);
    char idn[19] = "", vno[24] = "", day[11], *body = NULL, a[24], b[24], c[24];
    int64_t vid = 0, id = 0;
    hpf_stmt *st;
    json_t *res = NULL;
    (void)ref;
    int rc = out_decode(payload, &p, err);
    if (rc < 0 || (rc = out_check(svc, db, &p, &m, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "member", m.id, err)) < 0 ||
        (rc = out_check(svc, db, &p, &m, err)) < 0)
        return rc;
    /* I-8: interest of the year up to the day before, paid with the principal. */
    if ((rc = hpf_ledger_closing_interest(db, m.id, today, &ir, err)) < 0)
        return rc;
    hpf_fen paid;
    if (ir.balance != m.balance || hpf_money_add(&paid, ir.balance, ir.interest) < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "closing interest of %s: balance %lld, row %lld",
                           m.account_no, (long long)ir.balance, (long long)m.balance);
    if (paid > 0) {
        hpf_amount amt[] = {{"principal", ir.balance},
                            {"interest_accrued", 0},
                            {"interest_unaccrued", ir.interest},
                            {"paid", paid}};
        char summary[96];
        snprintf(summary, sizeof summary, "外部转出 %s", p.contact_no);
        if ((rc = hpf_ledger_voucher_from(db, &vid, vno, today, VT_TRANSFER_OUT, summary, amt, 4,
                                          err)) < 0)
            return rc;
    }
    if (ir.balance > 0) {
        hpf_posting_in post = {
            .member_id = m.id,
            .biz_date = today,
            .kind = "07",
            .amount = -ir.balance,
            .indiv_amount = -ir.balance,
            .voucher_id = vid,
        };
        if ((rc = hpf_ledger_post_member(db, &post, NULL, err)) < 0)
            return rc;
    }
    if ((rc = member_closed(db, &m, "04", "07", "外部转出", today, checker->user_id, err)) < 0)
        return rc;

    hpf_ct_out o = {.tx_func = "0", .rst_code = "0", .loan_end = 2, .fr_loan = 2};
    COPY(o.contact_no, p.contact_no);
    if (strlen(m.name) > HPF_CT_NAME_MAX)
        return hpf_err_field(err, HPF_EUNPROC, "/account_no", "citytransfer.name",
                             "the member's name is longer than a BDC905 carries");
    memcpy(o.name, m.name, strlen(m.name) + 1);
    COPY(o.cert_type, "01");
    COPY(o.or_acct, m.account_no);
    COPY(o.cont_phone, "");
    o.principal = ir.balance;
    o.interest = ir.interest;
    o.tran_amt = paid;
    o.o_acct = hpf_month_of(svc_day(m.opened_on));
    o.pay_end = m.paid_through ? m.paid_through : o.o_acct;
    if ((rc = six_months(db, m.id, o.pay_end, &o.six_mcon, err)) < 0 ||
        (rc = svc_member_pii(svc, db, m.id, idn, NULL, err)) < 0)
        return rc;
    COPY(o.cert_no, idn);
    hpf_wipe(idn, sizeof idn);
    rc = hpf_ct_out_message(&body, &o, err);
    hpf_wipe(o.cert_no, sizeof o.cert_no);
    if (rc < 0)
        goto done;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO city_transfer (direction, contact_no, member_id, state,"
                        " other_centre, or_acct, principal, interest, amount, o_acct, pay_end,"
                        " six_mcon, loan_num, loan_end, fr_loan, voucher_id, applied_on,"
                        " actor_id) VALUES ('out', ?, ?, '08', ?, ?, ?, ?, ?, ?, ?, ?, 0, 2, 2,"
                        " ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, p.contact_no);
    hpf_stmt_bind_i64(st, 2, m.id);
    hpf_stmt_bind_text(st, 3, p.in_centre);
    hpf_stmt_bind_text(st, 4, m.account_no);
    hpf_stmt_bind_i64(st, 5, o.principal);
    hpf_stmt_bind_i64(st, 6, o.interest);
    hpf_stmt_bind_i64(st, 7, o.tran_amt);
    hpf_stmt_bind_i64(st, 8, o.o_acct);
    hpf_stmt_bind_i64(st, 9, o.pay_end);
    hpf_stmt_bind_i64(st, 10, o.six_mcon);
    if (vid)
        hpf_stmt_bind_i64(st, 11, vid);
    else
        hpf_stmt_bind_null(st, 11);
    hpf_stmt_bind_text(st, 12, hpf_day_fmt(day, today));
    hpf_stmt_bind_i64(st, 13, checker->user_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0 ||
        (vid && (rc = hpf_ledger_link(db, vid, "citytransfer", "city_transfer", id, err)) < 0) ||
        (rc = add_event(db, id, NULL, HPF_CT_INFO_PASSED, "BDC905", p.reason, today,
                        checker->user_id, err)) < 0 ||
        (rc = enqueue(db, "BDC905", p.contact_no, NULL, body, err)) < 0 ||
        (rc = hpf_audit_record(db, checker->user_id, HPF_AUDIT_MEMBER_STATE_CHANGED, m.id, err)) <
            0 ||
        (vid &&
         (rc = hpf_audit_record(db, checker->user_id, HPF_AUDIT_VOUCHER_POSTED, vid, err)) < 0))
        goto done;
    res = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?}", "contact_no", p.contact_no,
                    "account_no", m.account_no, "state_code", "04", "principal",
                    hpf_money_fmt(a, o.principal), "interest", hpf_money_fmt(b, o.interest),
                    "amount", hpf_money_fmt(c, o.tran_amt), "voucher_no", vid ? vno : NULL);
    *result = res ? json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    json_decref(res);
    rc = *result ? 0 : hpf_err_set(err, HPF_EINTERNAL, "transfer.out result does not encode");
done:
    free(body);
    return rc;
}

int hpf_xfer_out_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_ct_out_req *req,
                        hpf_approval *out, bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "an operator records the other centre's letter");
    if (!req->account_no || !req->contact_no || !req->in_centre || !req->reason)
        return hpf_err_field(err, HPF_EINVAL, "", "json.required",
                             "account_no, contact_no, in_centre and reason are required");
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "account_no", req->account_no, "contact_no",
                          req->contact_no, "in_centre", req->in_centre, "reason", req->reason);
    return svc_approval_submit(svc, actor, HPF_APPROVAL_TRANSFER_OUT, req->idem_key, p, out,
                               replayed, err);
}
