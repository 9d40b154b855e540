/* service/merge: 个人合并 (RULES 1.5 state 03; docs/internals/citytransfer.md "Account merge").
 * One person with two accounts: the duplicate's balance moves to the main account (template 099,
 * Dr 201 / Cr 201, and two postings of kind 99) and the duplicate closes into 03, at approval
 * (maker-checker kind member.merge), in the decision's transaction.
 *
 * Which duplicates can exist: member_one_live allows one live account per (证件类型, 证件号码),
 * so a second live account of the same resident ID has another 证件类型 (an account recorded
 * under 99 其他 or a passport number before the resident ID was known), or comes from legacy
 * data. "Same person" is read as: the same name and the same resident ID number (compared on the
 * decrypted values). */
#include "service/internal.h"

#include "base/mem.h"
#include "domain/account.h"
#include "ledger/ledger.h"
#include "trust/audit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VT_MERGE "099" /* 个人合并, schema 15 */

typedef struct mrow {
    int64_t id, employer_id;
    char account_no[19], branch[3], state[3], name[256];
    hpf_fen balance;
} mrow;

static int read_row(hpf_db *db, const char *account_no, mrow *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT m.id, m.employer_id, m.account_no, e.branch, m.state, m.name,"
                            " b.balance FROM member m JOIN employer e ON e.id = m.employer_id"
                            " JOIN member_balance b ON b.member_id = m.id WHERE m.account_no = ?",
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
        COPY(out->branch, hpf_stmt_text(st, 3));
        COPY(out->state, hpf_stmt_text(st, 4));
        COPY(out->name, hpf_stmt_text(st, 5));
        out->balance = hpf_stmt_i64(st, 6);
    }
    hpf_stmt_reset(st);
    return rc;
}

typedef struct mpayload {
    const char *from, *to, *reason;
} mpayload;

static int decode(json_t *p, mpayload *o, hpf_err *err)
{
    o->from = json_string_value(json_object_get(p, "from_account"));
    o->to = json_string_value(json_object_get(p, "to_account"));
    o->reason = json_string_value(json_object_get(p, "reason"));
    if (!o->from || !o->to || !o->reason)
        return hpf_err_set(err, HPF_EINTERNAL, "approval payload: a member.merge field");
    return 0;
}

/* Both accounts, visible to the actor (an operator of their branch; 404 otherwise). */
static int read_both(hpf_db *db, const hpf_actor *a, const mpayload *p, mrow *from, mrow *to,
                     hpf_err *err)
{
    int rc = read_row(db, p->from, from, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || !svc_branch_sees(a, from->branch))
        return hpf_err_field(err, HPF_ENOTFOUND, "/from_account", "merge.account_unknown",
                             "no member account %s", p->from);
    if ((rc = read_row(db, p->to, to, err)) < 0)
        return rc;
    if (rc == 0 || !svc_branch_sees(a, to->branch))
        return hpf_err_field(err, HPF_ENOTFOUND, "/to_account", "merge.account_unknown",
                             "no member account %s", p->to);
    return 0;
}

int svc_merge_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, struct json_t *payload,
                    int64_t *employer_id, hpf_err *err)
{
    mpayload p;
    mrow f, t;
    (void)svc;
    if (maker->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role", "个人合并 is for operators");
    int rc = decode(payload, &p, err);
    if (rc < 0 || (rc = read_both(db, maker, &p, &f, &t, err)) < 0)
        return rc;
    /* The duplicate's employer scopes the request; both employers are locked, in id order. */
    *employer_id = f.employer_id;
    int64_t a = f.employer_id < t.employer_id ? f.employer_id : t.employer_id;
    int64_t b = f.employer_id < t.employer_id ? t.employer_id : f.employer_id;
    rc = hpf_db_lock_row(db, "employer", a, err);
    if (rc == 0 && b != a)
        rc = hpf_db_lock_row(db, "employer", b, err);
    return rc;
}

static int check(hpf_svc *svc, hpf_db *db, const hpf_actor *a, const mpayload *p, mrow *f, mrow *t,
                 hpf_err *err)
{
    hpf_account_state fs, ts, next;
    char fid[19] = "", tid[19] = "";
    size_t n = strlen(p->reason);
    bool ok = n > 0 && n <= 200;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)p->reason[i] >= 0x20 && p->reason[i] != 0x7f;
    if (!ok)
        return hpf_err_field(err, HPF_EINVAL, "/reason", "merge.reason",
                             "reason: 1 to 200 bytes of text without control characters");
    int rc = read_both(db, a, p, f, t, err);
    if (rc < 0)
        return rc;
    if (f->id == t->id)
        return hpf_err_field(err, HPF_EUNPROC, "/to_account", "merge.same_account",
                             "an account is not merged into itself");
    if ((rc = svc_member_pii(svc, db, f->id, fid, NULL, err)) < 0 ||
        (rc = svc_member_pii(svc, db, t->id, tid, NULL, err)) < 0)
        goto done;
    if (strcmp(fid, tid) != 0 || strcmp(f->name, t->name) != 0) {
        rc = hpf_err_field(err, HPF_EUNPROC, "/to_account", "merge.not_same_person",
                           "accounts %s and %s are not of one person (name and resident ID)",
                           f->account_no, t->account_no);
        goto done;
    }
    if (hpf_account_state_parse(f->state, &fs, err) < 0 ||
        hpf_account_state_parse(t->state, &ts, err) < 0) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "a member has a state outside A.6");
        goto done;
    }
    if ((rc = hpf_account_next(fs, HPF_BIZ_MERGE, HPF_ACCOUNT_NONE, &next, err)) < 0)
        goto done;
    /* The main account takes the money as a deposit (01, or 06: a frozen one receives). */
    if ((rc = hpf_account_may_receive(ts, err)) < 0)
        hpf_err_prefix_field(err, "/to_account");
done:
    hpf_wipe(fid, sizeof fid);
    hpf_wipe(tid, sizeof tid);
    return rc;
}

int svc_merge_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                       struct json_t *payload, hpf_err *err)
{
    mpayload p;
    mrow f, t;
    (void)ref;
    int rc = decode(payload, &p, err);
    return rc < 0 ? rc : check(svc, db, maker, &p, &f, &t, err);
}

int svc_merge_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                      struct json_t *payload, char **result, hpf_err *err)
{
    mpayload p;
    mrow f, t;
    hpf_day today = hpf_svc_today(svc);
    char vno[24] = "", day[11];
    int64_t vid = 0, mid = 0;
    hpf_stmt *st;
    (void)ref;
    int rc = decode(payload, &p, err);
    if (rc < 0 || (rc = read_both(db, checker, &p, &f, &t, err)) < 0)
        return rc;
    /* Members in id order, after the employers the scope locked. */
    int64_t a = f.id < t.id ? f.id : t.id, b = f.id < t.id ? t.id : f.id;
    if ((rc = hpf_db_lock_row(db, "member", a, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "member", b, err)) < 0 ||
        (rc = check(svc, db, checker, &p, &f, &t, err)) < 0)
        return rc;
    if (f.balance > 0) {
        hpf_amount amt[] = {{"merged", f.balance}};
        char summary[96];
        snprintf(summary, sizeof summary, "个人合并 %s -> %s", f.account_no, t.account_no);
        if ((rc = hpf_ledger_voucher_from(db, &vid, vno, today, VT_MERGE, summary, amt, 1, err)) <
            0)
            return rc;
        hpf_posting_in out = {.member_id = f.id,
                              .biz_date = today,
                              .kind = "99",
                              .amount = -f.balance,
                              .indiv_amount = -f.balance,
                              .voucher_id = vid};
        hpf_posting_in in = {.member_id = t.id,
                             .biz_date = today,
                             .kind = "99",
                             .amount = f.balance,
                             .indiv_amount = f.balance,
                             .voucher_id = vid};
        if ((rc = hpf_ledger_post_member(db, &out, NULL, err)) < 0 ||
            (rc = hpf_ledger_post_member(db, &in, NULL, err)) < 0)
            return rc;
    }
    if ((rc = svc_member_close(db, f.id, "03", "99", p.reason, today, checker->user_id, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO member_merge (from_member, to_member, amount, voucher_id,"
                        " reason, biz_date, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, f.id);
    hpf_stmt_bind_i64(st, 2, t.id);
    hpf_stmt_bind_i64(st, 3, f.balance);
    if (vid)
        hpf_stmt_bind_i64(st, 4, vid);
    else
        hpf_stmt_bind_null(st, 4);
    hpf_stmt_bind_text(st, 5, p.reason);
    hpf_stmt_bind_text(st, 6, hpf_day_fmt(day, today));
    hpf_stmt_bind_i64(st, 7, checker->user_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        mid = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT)
        return hpf_err_set(err, HPF_EBUSY, "account %s was merged concurrently", f.account_no);
    if (rc < 0 || (vid && (rc = hpf_ledger_link(db, vid, "merge", "member_merge", mid, err)) < 0) ||
        (rc = hpf_audit_record(db, checker->user_id, HPF_AUDIT_MEMBER_STATE_CHANGED, f.id, err)) <
            0 ||
        (vid &&
         (rc = hpf_audit_record(db, checker->user_id, HPF_AUDIT_VOUCHER_POSTED, vid, err)) < 0))
        return rc;
    char amt_s[24];
    json_t *res =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?}", "merge_id", (json_int_t)mid, "from_account",
                  f.account_no, "to_account", t.account_no, "from_state_code", "03", "amount",
                  hpf_money_fmt(amt_s, f.balance), "voucher_no", vid ? vno : NULL);
    *result = res ? json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    json_decref(res);
    return *result ? 0 : hpf_err_set(err, HPF_EINTERNAL, "member.merge result does not encode");
}

int hpf_merge_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_merge_req *req,
                     hpf_approval *out, bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role", "个人合并 is for operators");
    if (!req->from_account || !req->to_account || !req->reason)
        return hpf_err_field(err, HPF_EINVAL, "", "json.required",
                             "from_account, to_account and reason are required");
    json_t *p = json_pack("{s:s, s:s, s:s}", "from_account", req->from_account, "to_account",
                          req->to_account, "reason", req->reason);
    return svc_approval_submit(svc, actor, HPF_APPROVAL_MERGE, req->idem_key, p, out, replayed,
                               err);
}
