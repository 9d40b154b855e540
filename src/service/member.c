/* service/member: member accounts (个人开户), reads, statements and online-hall logins; the
 * resident ID and phone encrypted at rest (docs/internals/crypto.md). */
#include "service/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "domain/ids.h"
#include "ledger/ledger.h"
#include "trust/audit.h"
#include "trust/fieldcrypt.h"
#include "trust/password.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column names bound into each ciphertext's tag (with the member's account number). */
#define F_ID    "id_number"
#define F_PHONE "phone"
/* A login's TOTP secret (service/auth.c, F_TOTP there; its context is the username): rotation
 * and the status cover it too. */
#define F_TOTP "app_user.totp_secret"

/* ---- the encrypted fields ---- */

static int no_keys(hpf_err *err)
{
    return hpf_err_set(err, HPF_EINTERNAL, "no field-encryption keys are loaded");
}

/* The ciphertext and blind index of one value ("" in, "" out: no value). */
static int seal(const hpf_svc *svc, const char *field, const char *account_no, const char *plain,
                char enc[HPF_FC_TEXT_MAX], char bidx[HPF_FC_BIDX_LEN + 1], hpf_err *err)
{
    enc[0] = bidx[0] = '\0';
    if (!svc->keys)
        return no_keys(err);
    if (!*plain)
        return 0;
    hpf_fc_bidx(svc->keys, field, plain, bidx);
    return hpf_fc_encrypt(svc->keys, field, account_no, plain, enc, HPF_FC_TEXT_MAX, err);
}

/* Decrypt a stored value ("" stays ""). A value that fails its check is a security event: it
 * is logged here with the account and the field (never a value), and the caller answers 500
 * without details, as for any broken invariant. */
static int reveal(const hpf_svc *svc, const char *field, const char *account_no, const char *text,
                  char *out, size_t n, hpf_err *err)
{
    out[0] = '\0';
    if (!*text)
        return 0;
    if (!svc->keys)
        return no_keys(err);
    hpf_err why = HPF_ERR_INIT;
    char plain[HPF_FC_PLAIN_MAX + 1];
    int rc = hpf_fc_decrypt(svc->keys, field, account_no, text, plain, sizeof plain, &why);
    if (rc == 0 && strlen(plain) >= n)
        rc = hpf_err_set(&why, HPF_ECONFLICT, "the stored %s is longer than any valid one", field);
    if (rc == 0) {
        memcpy(out, plain, strlen(plain) + 1);
        hpf_wipe(plain, sizeof plain);
        return 0;
    }
    hpf_wipe(plain, sizeof plain);
    if (rc == HPF_ECONFLICT)
        hpf_log(HPF_LOG_ERROR, "security.field_tampered", "member %s: %s", account_no, why.msg);
    else
        hpf_log(HPF_LOG_ERROR, "security.field_unreadable", "member %s: %s", account_no, why.msg);
    return hpf_err_set(err, HPF_EINTERNAL, "member %s: %s", account_no, why.msg);
}

int svc_member_insert(const hpf_svc *svc, hpf_db *db, int64_t employer_id, const char *name,
                      const char *idn, const char *phone, hpf_fen wage, char acct[19],
                      int64_t *member_id, hpf_err *err)
{
    char id_enc[HPF_FC_TEXT_MAX], id_bidx[HPF_FC_BIDX_LEN + 1];
    char ph_enc[HPF_FC_TEXT_MAX], ph_bidx[HPF_FC_BIDX_LEN + 1], date[11];
    hpf_day today = hpf_svc_today(svc);
    hpf_stmt *st;
    int64_t seq;
    int rc = hpf_db_next_counter(db, "member", &seq, err);
    if (rc < 0)
        return rc;
    if (hpf_acct_make_member(acct, svc->centre, seq) < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "member account sequence exhausted");
    /* The account number is known before the row exists: it binds the ciphertexts to it. */
    if ((rc = seal(svc, F_ID, acct, idn, id_enc, id_bidx, err)) < 0 ||
        (rc = seal(svc, F_PHONE, acct, phone ? phone : "", ph_enc, ph_bidx, err)) < 0)
        return rc;
    rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO member(account_no, employer_id, name, id_type, id_number_enc,"
                       " id_number_bidx, phone_enc, phone_bidx, key_version, wage, state,"
                       " opened_on) VALUES (?, ?, ?, '01', ?, ?, ?, ?, ?, ?, '01', ?) RETURNING id",
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, acct);
    hpf_stmt_bind_i64(st, 2, employer_id);
    hpf_stmt_bind_text(st, 3, name);
    hpf_stmt_bind_text(st, 4, id_enc);
    hpf_stmt_bind_text(st, 5, id_bidx);
    hpf_stmt_bind_text(st, 6, ph_enc[0] ? ph_enc : NULL);
    hpf_stmt_bind_text(st, 7, ph_bidx[0] ? ph_bidx : NULL);
    hpf_stmt_bind_i64(st, 8, hpf_keys_current(svc->keys));
    hpf_stmt_bind_i64(st, 9, wage);
    hpf_stmt_bind_text(st, 10, hpf_day_fmt(date, today));
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        *member_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* opened by a concurrent request since the caller's check */
        return hpf_err_field(err, HPF_ECONFLICT, "/id_number", "member.one_live_account",
                             "this person already has a live account; transfer or close it first");
    if (rc < 0)
        return rc;
    return hpf_ledger_open_account(db, *member_id, today, err);
}

/* ---- reads ---- */

#define MEMBER_COLS                                                                                \
    "SELECT m.id, m.account_no, m.employer_id, e.account_no, e.name, m.name,"                      \
    " COALESCE(m.id_number_enc, ''), COALESCE(m.phone_enc, ''), m.wage, m.state, m.opened_on,"     \
    " b.balance, COALESCE(b.paid_through, 0), e.unit_ratio_bp, e.indiv_ratio_bp"                   \
    " FROM member m JOIN employer e ON e.id = m.employer_id"                                       \
    " JOIN member_balance b ON b.member_id = m.id "

/* What read_member needs, and where it reports the first field that did not decrypt. */
typedef struct read_ctx {
    const hpf_policy *pol;
    const hpf_svc *svc;
    hpf_err *err;
    int *rc;
} read_ctx;

static void read_member(hpf_stmt *st, void *item, const void *ctx)
{
    const read_ctx *rx = ctx;
    const hpf_policy *pol = rx->pol;
    hpf_member *m = item;
    memset(m, 0, sizeof *m);
    m->id = hpf_stmt_i64(st, 0);
    COPY(m->account_no, hpf_stmt_text(st, 1));
    m->employer_id = hpf_stmt_i64(st, 2);
    COPY(m->employer_account_no, hpf_stmt_text(st, 3));
    COPY(m->employer_name, hpf_stmt_text(st, 4));
    COPY(m->name, hpf_stmt_text(st, 5));
    if (*rx->rc == 0) {
        int rc = reveal(rx->svc, F_ID, m->account_no, hpf_stmt_text(st, 6), m->id_number,
                        sizeof m->id_number, rx->err);
        if (rc == 0 && !m->id_number[0])
            rc = hpf_err_set(rx->err, HPF_EINTERNAL, "member %s has no resident ID stored",
                             m->account_no);
        if (rc == 0)
            rc = reveal(rx->svc, F_PHONE, m->account_no, hpf_stmt_text(st, 7), m->phone,
                        sizeof m->phone, rx->err);
        *rx->rc = rc;
    }
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

static int load_member(const hpf_svc *svc, hpf_db *db, const hpf_policy *pol,
                       const char *account_no, hpf_member *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, MEMBER_COLS "WHERE m.account_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        int bad = 0;
        read_ctx rx = {.pol = pol, .svc = svc, .err = err, .rc = &bad};
        read_member(st, out, &rx);
        rc = bad;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", account_no);
    }
    hpf_stmt_reset(st);
    return rc;
}

/* Scope for reading one member account: the member, their employer's agent, operators (of a
 * branch: members of its employers). A member asking for another account is refused before any
 * lookup (no existence oracle). */
static int scope_member(hpf_svc *svc, hpf_db *db, const hpf_actor *a, const hpf_policy *pol,
                        const char *account_no, hpf_member *out, hpf_err *err)
{
    if (a->role == HPF_ROLE_MEMBER && strcmp(a->account_no, account_no) != 0)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_account",
                             "a member may read only their own account");
    if (a->role == HPF_ROLE_NONE)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    if (!(a->role & (HPF_ROLE_MEMBER | HPF_ROLE_AGENT | HPF_ROLE_OPERATOR)))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "an administrator manages logins and reads no member's data");
    int rc = load_member(svc, db, pol, account_no, out, err);
    /* An agent gets the same 403 for an account elsewhere and for no account at all, so
     * account numbers cannot be probed. */
    if (a->role == HPF_ROLE_AGENT &&
        (rc == HPF_ENOTFOUND || (rc == 0 && out->employer_id != a->employer_id)))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_employer",
                             "an employer agent may read only their own employer's members");
    /* A branch's operator: the member's employer decides, and another branch's member gets the
     * answer of an account that does not exist. */
    if (rc == 0 && a->role == HPF_ROLE_OPERATOR && a->branch[0]) {
        rc = svc_scope_employer(svc, a, out->employer_account_no, err);
        if (rc == HPF_ENOTFOUND)
            hpf_err_set(err, HPF_ENOTFOUND, "no member account %s", account_no);
    }
    return rc;
}

int hpf_member_open(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_member_new *in, hpf_member *out, hpf_err *err)
{
    hpf_db *db;
    hpf_employer emp;
    hpf_policy pol;
    char idn[19], acct[19], other[19], id_bidx[HPF_FC_BIDX_LEN + 1];
    int64_t member_id = 0;
    hpf_day today = hpf_svc_today(svc);

    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
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
    if (!svc->keys) {
        rc = no_keys(err);
        goto done;
    }
    /* Equal resident IDs have equal blind indexes: uniqueness is checked on them. */
    hpf_fc_bidx(svc->keys, F_ID, idn, id_bidx);
    rc = svc_lookup_text(db,
                         "SELECT account_no FROM member WHERE id_type = '01' AND id_number_bidx = ?"
                         " AND state NOT IN ('03', '04', '05')",
                         id_bidx, other, sizeof other, err);
    /* Only the centre's staff learn which account it is: an agent must not learn the account
     * number of another employer's member, nor a branch office another branch's. */
    if (rc == 1)
        rc = hpf_err_field(err, HPF_ECONFLICT, "/id_number", "member.one_live_account",
                           "this person already has a live account%s%s%s; transfer or close it "
                           "first",
                           actor->role == HPF_ROLE_OPERATOR && !actor->branch[0] ? " (" : "",
                           actor->role == HPF_ROLE_OPERATOR && !actor->branch[0] ? other : "",
                           actor->role == HPF_ROLE_OPERATOR && !actor->branch[0] ? ")" : "");
    if (rc < 0)
        goto done;
    if ((rc = svc_member_insert(svc, db, emp.id, in->name, idn, in->phone, in->wage, acct,
                                &member_id, err)) < 0)
        goto done;
    rc = load_member(svc, db, &pol, acct, out, err);
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

/* RULES 11.2: a read of a member's personal data by anyone but the member themself (their
 * employer's agent, an operator) is appended to the audit chain before the data is answered:
 * one member.read entry per member, "read/1|FIELDS|PURPOSE|AUTHORISATION|CHANNEL", in a short
 * write transaction on the primary (the read itself may have come from the standby). A trail
 * that cannot be written refuses the read (HPF_EBUSY is run again by api/). A member reading
 * their own account is in the access log only: it shares nothing with anyone, and writing the
 * chain for each balance look would make every read a write. Access is by role and scope
 * (no third-party share), so the authorisation is empty; the purpose names the role's duty. */
static int trace_reads(hpf_svc *svc, const hpf_actor *actor, const int64_t *member_ids, size_t n,
                       const char *fields, hpf_err *err)
{
    if (actor->role == HPF_ROLE_MEMBER || n == 0)
        return 0;
    const char *purpose = actor->role == HPF_ROLE_AGENT ? "employer_admin" : "centre_service";
    char payload[160];
    snprintf(payload, sizeof payload, "read/1|%s|%s||api", fields, purpose);
    hpf_db *db;
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = hpf_audit_event(db, actor->user_id, HPF_AUDIT_MEMBER_READ, "member", member_ids[i],
                             payload, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

#define READ_FIELDS_MEMBER    "name,id_number,phone,wage,balance,state"
#define READ_FIELDS_STATEMENT "postings"

int hpf_member_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no, hpf_member *out,
                   hpf_err *err)
{
    hpf_db *db;
    hpf_policy pol;
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0 ||
        (rc = scope_member(svc, db, actor, &pol, account_no, out, err)) < 0)
        return rc;
    return trace_reads(svc, actor, &out->id, 1, READ_FIELDS_MEMBER, err);
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
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0 ||
        (rc = svc_load_employer(db, employer_account_no, &emp, err)) < 0 ||
        (rc = hpf_policy_at(db, hpf_svc_today(svc), &pol, err)) < 0)
        return rc;
    int bad = 0;
    read_ctx rx = {.pol = &pol, .svc = svc, .err = err, .rc = &bad};
    rc = svc_list(db, "SELECT count(*) FROM member WHERE employer_id = ?",
                  MEMBER_COLS "WHERE m.employer_id = ? ORDER BY m.id LIMIT ? OFFSET ?", emp.id,
                  offset, limit, sizeof **items, read_member, &rx, (void **)items, n, total, err);
    if (rc == 0 && bad < 0) /* one tampered row fails the page: no partial answers */
        rc = bad;
    if (rc == 0 && *n > 0) {
        int64_t *ids = hpf_xcalloc(*n, sizeof *ids);
        for (size_t i = 0; i < *n; i++)
            ids[i] = (*items)[i].id;
        rc = trace_reads(svc, actor, ids, *n, READ_FIELDS_MEMBER, err);
        free(ids);
    }
    if (rc < 0) {
        free(*items);
        *items = NULL;
        *n = 0;
    }
    return rc;
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
        (rc = scope_member(svc, db, actor, &pol, account_no, &m, err)) < 0)
        return rc;
    hpf_day_fmt(d1, from);
    hpf_day_fmt(d2, to);
    rc = hpf_db_prepare(db, &st,
                        /* By date, not by id: the interest of 30 June is posted after the
                         * settlement, which may follow July's first postings. */
                        "SELECT COALESCE(SUM(amount), 0) FROM posting WHERE member_id = ?"
                        " AND biz_date < ?",
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
                        " v.voucher_no FROM posting p"
                        " JOIN voucher v ON v.id = p.voucher_id"
                        " WHERE p.member_id = ? AND p.biz_date >= ? AND p.biz_date <= ?"
                        " ORDER BY p.biz_date, p.id LIMIT ?",
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
        /* The running balance in date order (a posting's balance_after is in id order). */
        it->balance = out->closing += it->amount;
        COPY(it->voucher_no, hpf_stmt_text(st, 4));
    }
    hpf_stmt_reset(st);
    if (rc == 0)
        rc = trace_reads(svc, actor, &m.id, 1, READ_FIELDS_STATEMENT, err);
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
    char idn[19], bidx[HPF_FC_BIDX_LEN + 1], login[SVC_LOGIN_KEY_MAX];
    int64_t member_id = 0;
    hpf_user_new un;
    int rc;
    if ((rc = hpf_id_validate(id_number, hpf_svc_today(svc), idn, err)) < 0 ||
        (rc = hpf_name_validate(name, "/name", err)) < 0 ||
        (rc = hpf_acct_validate(account_no, err)) < 0) {
        if (err && !strncmp(err->rule, "account.", 8))
            COPY(err->field, "/account_no");
        return rc;
    }
    if (!svc->keys)
        return no_keys(err);
    /* The password must not contain the resident ID; hpf_user_create sees only the stored key. */
    if ((rc = hpf_password_check(password, idn, "/password", err)) < 0)
        return rc;
    hpf_fc_bidx(svc->keys, F_ID, idn, bidx);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT id FROM member WHERE account_no = ? AND id_type = '01'"
                        " AND id_number_bidx = ? AND name = ? AND state NOT IN ('03', '04', '05')",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, account_no);
    hpf_stmt_bind_text(st, 2, bidx);
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
    /* The login is stored under the blind index: no login row holds the resident ID. */
    svc_login_key(svc, idn, login);
    un = (hpf_user_new){.role = HPF_ROLE_MEMBER,
                        .username = login,
                        .password = password,
                        .display_name = name,
                        .member_id = member_id};
    rc = hpf_user_create(svc, db, 0, &un, NULL, NULL, err);
    if (rc == HPF_ECONFLICT) /* its message would show the stored key */
        rc = hpf_err_field(err, HPF_ECONFLICT, "/id_number", "user.username_taken",
                           "a login already exists for this ID number");
    if (rc < 0)
        goto done;
    rc = hpf_db_commit(db, err);
done:
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

/* ---- logins and personal fields for the other service modules ---- */

void svc_login_key(const hpf_svc *svc, const char *username, char out[SVC_LOGIN_KEY_MAX])
{
    char idn[19], bidx[HPF_FC_BIDX_LEN + 1];
    hpf_err ignore = HPF_ERR_INIT;
    if (svc->keys && hpf_id_validate(username, hpf_svc_today(svc), idn, &ignore) == 0) {
        hpf_fc_bidx(svc->keys, F_ID, idn, bidx);
        snprintf(out, SVC_LOGIN_KEY_MAX, "m:%s", bidx);
    } else {
        snprintf(out, SVC_LOGIN_KEY_MAX, "%s", username);
    }
}

int svc_member_pii(const hpf_svc *svc, hpf_db *db, int64_t member_id, char id_number[19],
                   char phone[16], hpf_err *err)
{
    hpf_stmt *st;
    char acct[19] = "", id_enc[HPF_FC_TEXT_MAX] = "", ph_enc[HPF_FC_TEXT_MAX] = "";
    int rc = hpf_db_prepare(db, &st,
                            "SELECT account_no, COALESCE(id_number_enc, ''),"
                            " COALESCE(phone_enc, '') FROM member WHERE id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, member_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        COPY(acct, hpf_stmt_text(st, 0));
        COPY(id_enc, hpf_stmt_text(st, 1));
        COPY(ph_enc, hpf_stmt_text(st, 2));
    }
    hpf_stmt_reset(st);
    if (rc == 0)
        return hpf_err_set(err, HPF_ENOTFOUND, "no member with id %lld", (long long)member_id);
    if (rc < 0)
        return rc;
    if (id_number && (rc = reveal(svc, F_ID, acct, id_enc, id_number, 19, err)) < 0)
        return rc;
    if (phone && (rc = reveal(svc, F_PHONE, acct, ph_enc, phone, 16, err)) < 0)
        return rc;
    return 0;
}

/* ---- personal fields at rest: start-up checks, the schema 4 upgrade, rotation ---- */

/* The logins' TOTP secrets are few (operators, agents): they are read whole. */
#define LOGIN_SECRETS "SELECT id, username, totp_secret FROM app_user WHERE totp_secret IS NOT NULL"

int hpf_member_fields_rows(hpf_svc *svc, int version, int64_t *rows, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char like[24];
    int64_t logins = 0;
    *rows = 0;
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_prepare(db, &st, "SELECT count(*) FROM member WHERE key_version = ?",
                                       err)) < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, version);
    rc = hpf_stmt_step(st, err);
    *rows = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0 || (rc = hpf_db_prepare(
                       db, &st, "SELECT count(*) FROM app_user WHERE totp_secret LIKE ?", err)) < 0)
        return rc;
    snprintf(like, sizeof like, "f1.%d.%%", version);
    hpf_stmt_bind_text(st, 1, like);
    rc = hpf_stmt_step(st, err);
    logins = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    *rows += logins;
    return rc < 0 ? rc : 0;
}

static int missing_version(const hpf_svc *svc, int64_t v, hpf_err *err)
{
    return hpf_err_set(err, HPF_ENOTFOUND,
                       "personal fields are encrypted under key version v%lld, which %s lacks: "
                       "restore the key file that holds it",
                       (long long)v, hpf_keys_path(svc->keys));
}

int hpf_member_fields_keys_cover(hpf_svc *svc, bool *any, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    int64_t lo = 0, hi = 0, missing = 0;
    *any = false;
    /* MIN and MAX come from the ends of the index: cheap at every start, at any size. */
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_prepare(db, &st,
                                       "SELECT COALESCE(MIN(key_version), 0),"
                                       " COALESCE(MAX(key_version), 0) FROM member",
                                       err)) < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        lo = hpf_stmt_i64(st, 0);
        hi = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    *any = hi > 0;
    for (int64_t v = lo; svc->keys && hi > 0 && v <= hi && !missing; v++) {
        if (v > 0 && v <= HPF_KEYS_MAX_VER && hpf_keys_has(svc->keys, (int)v))
            continue;
        if ((rc = hpf_db_prepare(db, &st, "SELECT 1 FROM member WHERE key_version = ? LIMIT 1",
                                 err)) < 0)
            return rc;
        hpf_stmt_bind_i64(st, 1, v);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        if (rc == 1)
            missing = v;
    }
    /* The versions of the logins' secrets, from their prefixes ("f1.12.ab"). */
    rc = hpf_db_prepare(db, &st,
                        "SELECT DISTINCT substr(totp_secret, 1, 8) FROM app_user"
                        " WHERE totp_secret IS NOT NULL",
                        err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        int v = hpf_fc_version(hpf_stmt_text(st, 0));
        *any = true;
        if (svc->keys && !missing && v > 0 && !hpf_keys_has(svc->keys, v))
            missing = v;
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    return missing ? missing_version(svc, missing, err) : 0;
}

static void show(hpf_fields_status *out, const char *kind, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void show(hpf_fields_status *out, const char *kind, const char *name, const char *fmt, ...)
{
    if (out->nshown == HPF_FIELDS_SHOW)
        return;
    snprintf(out->shown[out->nshown].who, sizeof out->shown[0].who, "%s %.32s", kind, name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->shown[out->nshown].what, sizeof out->shown[0].what, fmt, ap);
    va_end(ap);
    out->nshown++;
}

static void count_version(hpf_fields_status *out, int version, int64_t rows)
{
    size_t i = 0;
    while (i < out->nversions && out->v[i].version < version)
        i++;
    if (i < out->nversions && out->v[i].version == version) {
        out->v[i].rows += rows;
        return;
    }
    if (out->nversions == HPF_KEYS_VERSIONS)
        return;
    memmove(&out->v[i + 1], &out->v[i], (out->nversions - i) * sizeof out->v[0]);
    out->v[i].version = version;
    out->v[i].rows = rows;
    out->nversions++;
}

/* Check one stored field: it decrypts under its version, and (when bidx is given) its blind
 * index is the one of its value. Returns 0 when it holds, 1 when it does not (counted and
 * shown), 2 when its version is not in the key file. */
static int check_field(const hpf_svc *svc, hpf_fields_status *out, const char *kind,
                       const char *name, const char *field, const char *context, const char *enc,
                       const char *bidx, int64_t version)
{
    char plain[HPF_FC_PLAIN_MAX + 1], want[HPF_FC_BIDX_LEN + 1];
    hpf_err why = HPF_ERR_INIT;
    if (!*enc && (!bidx || !*bidx))
        return 0;
    if (bidx && (!*enc || !*bidx)) {
        show(out, kind, name, "%s: %s", field,
             *enc ? "ciphertext without a blind index" : "blind index without a ciphertext");
        return 1;
    }
    if (version && hpf_fc_version(enc) != version) {
        show(out, kind, name, "%s: the ciphertext's key version is not the row's (v%lld)", field,
             (long long)version);
        return 1;
    }
    int rc = hpf_fc_decrypt(svc->keys, field, context, enc, plain, sizeof plain, &why);
    if (rc < 0) {
        show(out, kind, name, "%s: %s", field, why.msg);
        return rc == HPF_ENOTFOUND ? 2 : 1;
    }
    if (bidx) {
        hpf_fc_bidx(svc->keys, field, plain, want);
        if (strcmp(want, bidx) != 0) {
            hpf_wipe(plain, sizeof plain);
            show(out, kind, name, "%s: the blind index is not the one of the stored value", field);
            return 1;
        }
    }
    hpf_wipe(plain, sizeof plain);
    return 0;
}

static void tally(hpf_fields_status *out, int a, int b)
{
    out->checked++;
    if (a == 1 || b == 1)
        out->tampered++;
    else if (a == 2 || b == 2)
        out->unreadable++;
}

/* The logins' TOTP secrets: counted per version and, with check, decrypted. */
static int status_logins(hpf_svc *svc, hpf_db *db, bool check, hpf_fields_status *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, LOGIN_SECRETS " ORDER BY id", err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        const char *user = hpf_stmt_text(st, 1), *enc = hpf_stmt_text(st, 2);
        int v = hpf_fc_version(enc);
        count_version(out, v > 0 ? v : 0, 1);
        if (check)
            tally(out, check_field(svc, out, "login", user, F_TOTP, user, enc, NULL, 0), 0);
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_member_fields_status(hpf_svc *svc, bool check, hpf_fields_status *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 ||
        (rc = hpf_db_query_i64(db, &out->clear, "SELECT count(*) FROM member_pii_legacy", err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "SELECT key_version, count(*) FROM member WHERE key_version IS NOT NULL"
                        " GROUP BY key_version ORDER BY key_version",
                        err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1)
        count_version(out, (int)hpf_stmt_i64(st, 0), hpf_stmt_i64(st, 1));
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (check && !svc->keys)
        return no_keys(err);
    if ((rc = status_logins(svc, db, check, out, err)) < 0 || !check)
        return rc;
    /* Members in pages of id order, each read whole before it is checked. A member with no
     * ciphertext is fine only while the upgrade still holds its clear values. */
    int64_t after = 0;
    for (;;) {
        typedef struct row {
            int64_t id, version;
            bool pending;
            char acct[19], id_enc[HPF_FC_TEXT_MAX], id_bidx[HPF_FC_BIDX_LEN + 1];
            char ph_enc[HPF_FC_TEXT_MAX], ph_bidx[HPF_FC_BIDX_LEN + 1];
        } row;
        row *rows = hpf_xcalloc(HPF_FIELDS_BATCH, sizeof *rows);
        size_t n = 0;
        rc = hpf_db_prepare(
            db, &st,
            "SELECT m.id, m.account_no, COALESCE(m.id_number_enc, ''),"
            " COALESCE(m.id_number_bidx, ''), COALESCE(m.phone_enc, ''), COALESCE(m.phone_bidx, "
            "''),"
            " COALESCE(m.key_version, 0), CASE WHEN l.member_id IS NULL THEN 0 ELSE 1 END"
            " FROM member m LEFT JOIN member_pii_legacy l ON l.member_id = m.id"
            " WHERE m.id > ? ORDER BY m.id LIMIT ?",
            err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, after);
            hpf_stmt_bind_i64(st, 2, HPF_FIELDS_BATCH);
            while (n < HPF_FIELDS_BATCH && (rc = hpf_stmt_step(st, err)) == 1) {
                row *r = &rows[n++];
                r->id = hpf_stmt_i64(st, 0);
                COPY(r->acct, hpf_stmt_text(st, 1));
                COPY(r->id_enc, hpf_stmt_text(st, 2));
                COPY(r->id_bidx, hpf_stmt_text(st, 3));
                COPY(r->ph_enc, hpf_stmt_text(st, 4));
                COPY(r->ph_bidx, hpf_stmt_text(st, 5));
                r->version = hpf_stmt_i64(st, 6);
                r->pending = hpf_stmt_i64(st, 7) != 0;
            }
            hpf_stmt_reset(st);
        }
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            row *r = &rows[i];
            after = r->id;
            if (!r->id_enc[0] && r->pending && !r->ph_enc[0])
                continue;
            int a = r->id_enc[0]
                        ? check_field(svc, out, "member", r->acct, F_ID, r->acct, r->id_enc,
                                      r->id_bidx, r->version)
                        : (show(out, "member", r->acct, "%s: no ciphertext stored", F_ID), 1);
            int b = check_field(svc, out, "member", r->acct, F_PHONE, r->acct, r->ph_enc,
                                r->ph_bidx, r->version);
            tally(out, a, b);
        }
        hpf_wipe(rows, HPF_FIELDS_BATCH * sizeof *rows);
        free(rows);
        if (rc < 0)
            return rc;
        if (n < HPF_FIELDS_BATCH)
            return 0;
    }
}

/* Purge clear values the upgrade left in free space: SQLite rebuilds the file and empties its
 * WAL; PostgreSQL rewrites the tables that held them (no dead tuple keeps one). Outside any
 * transaction. */
static int purge_free_space(hpf_db *db, hpf_err *err)
{
    static const char *const sqlite_sql[] = {"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)", NULL};
    static const char *const pg_sql[] = {"VACUUM FULL member", "VACUUM FULL app_user",
                                         "VACUUM FULL member_pii_legacy", NULL};
    const char *const *sql = strcmp(hpf_db_driver(db), "postgres") == 0 ? pg_sql : sqlite_sql;
    for (int i = 0; sql[i]; i++) {
        int rc = hpf_db_exec(db, sql[i], err); /* one statement each: VACUUM runs alone */
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct legacy_row {
    int64_t id;
    char acct[19], idn[64], phone[64];
} legacy_row;

/* One member of the upgrade, inside the batch's transaction. */
static int protect_one(hpf_svc *svc, hpf_db *db, const legacy_row *r, hpf_err *err)
{
    hpf_stmt *st;
    char id_enc[HPF_FC_TEXT_MAX], id_bidx[HPF_FC_BIDX_LEN + 1];
    char ph_enc[HPF_FC_TEXT_MAX], ph_bidx[HPF_FC_BIDX_LEN + 1], login[SVC_LOGIN_KEY_MAX];
    int64_t users[8];
    bool user_same[8], member_same = false;
    size_t nusers = 0;
    const char *clear[2] = {r->idn, r->phone};
    int rc;
    /* Re-snapshot only what its last snapshot still vouches for: a record changed before the
     * upgrade keeps failing `hpf audit verify`, as it did. */
    if ((rc = hpf_audit_unchanged(db, "member", r->id, clear, &member_same, err)) < 0 ||
        (rc = hpf_db_prepare(db, &st,
                             "SELECT id FROM app_user WHERE member_id = ? AND role = 'member'"
                             " ORDER BY id",
                             err)) < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, r->id);
    while (nusers < 8 && (rc = hpf_stmt_step(st, err)) == 1)
        users[nusers++] = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nusers; i++)
        if ((rc = hpf_audit_unchanged(db, "app_user", users[i], NULL, &user_same[i], err)) < 0)
            return rc;
    if ((rc = seal(svc, F_ID, r->acct, r->idn, id_enc, id_bidx, err)) < 0 ||
        (rc = seal(svc, F_PHONE, r->acct, r->phone, ph_enc, ph_bidx, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "UPDATE member SET id_number_enc = ?, id_number_bidx = ?, phone_enc = ?,"
                        " phone_bidx = ?, key_version = ? WHERE id = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, id_enc);
    hpf_stmt_bind_text(st, 2, id_bidx);
    hpf_stmt_bind_text(st, 3, ph_enc[0] ? ph_enc : NULL);
    hpf_stmt_bind_text(st, 4, ph_bidx[0] ? ph_bidx : NULL);
    hpf_stmt_bind_i64(st, 5, hpf_keys_current(svc->keys));
    hpf_stmt_bind_i64(st, 6, r->id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    svc_login_key(svc, r->idn, login);
    for (size_t i = 0; i < nusers; i++) {
        if ((rc = hpf_db_prepare(db, &st, "UPDATE app_user SET username = ? WHERE id = ?", err)) <
            0)
            return rc;
        hpf_stmt_bind_text(st, 1, login);
        hpf_stmt_bind_i64(st, 2, users[i]);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    if (member_same && (rc = hpf_audit_record(db, 0, HPF_AUDIT_MEMBER_PROTECTED, r->id, err)) < 0)
        return rc;
    for (size_t i = 0; i < nusers; i++)
        if (user_same[i] &&
            (rc = hpf_audit_record(db, 0, HPF_AUDIT_USER_PROTECTED, users[i], err)) < 0)
            return rc;
    if ((rc = hpf_db_prepare(db, &st, "DELETE FROM member_pii_legacy WHERE member_id = ?", err)) <
        0)
        return rc;
    hpf_stmt_bind_i64(st, 1, r->id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_member_fields_protect(hpf_svc *svc, int64_t *done, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    *done = 0;
    if (!svc->keys)
        return no_keys(err);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    legacy_row *rows = hpf_xcalloc(HPF_FIELDS_BATCH, sizeof *rows);
    for (;;) {
        size_t n = 0;
        if ((rc = hpf_db_begin(db, err)) < 0)
            break;
        rc =
            hpf_db_prepare(db, &st,
                           "SELECT l.member_id, COALESCE(m.account_no, ''), l.id_number,"
                           " COALESCE(l.phone, '') FROM member_pii_legacy l"
                           " LEFT JOIN member m ON m.id = l.member_id ORDER BY l.member_id LIMIT ?",
                           err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, HPF_FIELDS_BATCH);
            while (n < HPF_FIELDS_BATCH && (rc = hpf_stmt_step(st, err)) == 1) {
                legacy_row *r = &rows[n++];
                r->id = hpf_stmt_i64(st, 0);
                COPY(r->acct, hpf_stmt_text(st, 1));
                COPY(r->idn, hpf_stmt_text(st, 2));
                COPY(r->phone, hpf_stmt_text(st, 3));
            }
            hpf_stmt_reset(st);
        }
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            if (!rows[i].acct[0]) { /* no such member (cannot happen with the foreign key) */
                rc = hpf_err_set(err, HPF_EINTERNAL,
                                 "member_pii_legacy holds member id %lld, which does not exist",
                                 (long long)rows[i].id);
                break;
            }
            rc = protect_one(svc, db, &rows[i], err);
        }
        if (rc >= 0)
            rc = hpf_db_commit(db, err);
        if (rc < 0) {
            hpf_db_rollback(db);
            break;
        }
        *done += (int64_t)n;
        if (n < HPF_FIELDS_BATCH)
            break;
    }
    hpf_wipe(rows, HPF_FIELDS_BATCH * sizeof *rows);
    free(rows);
    if (rc >= 0 && *done > 0)
        rc = purge_free_space(db, err);
    return rc < 0 ? rc : 0;
}

typedef struct rekey_row {
    int64_t id;
    char acct[19], id_enc[HPF_FC_TEXT_MAX], ph_enc[HPF_FC_TEXT_MAX];
} rekey_row;

/* Re-encrypt one member to the current version. Returns 1 when written, 0 when the row changed
 * under us (left for the next pass) or failed its check (*bad set), or an error. */
static int rekey_one(hpf_svc *svc, hpf_db *db, const rekey_row *r, bool *bad, hpf_err *err)
{
    char idn[HPF_FC_PLAIN_MAX + 1], phone[HPF_FC_PLAIN_MAX + 1];
    char id_enc[HPF_FC_TEXT_MAX], ph_enc[HPF_FC_TEXT_MAX] = "";
    hpf_err why = HPF_ERR_INIT;
    hpf_stmt *st;
    int rc = hpf_fc_decrypt(svc->keys, F_ID, r->acct, r->id_enc, idn, sizeof idn, &why);
    if (rc == 0 && r->ph_enc[0])
        rc = hpf_fc_decrypt(svc->keys, F_PHONE, r->acct, r->ph_enc, phone, sizeof phone, &why);
    if (rc == HPF_ECONFLICT || rc == HPF_ENOTFOUND) {
        /* Not rewritten: a fresh ciphertext would launder a forged value. */
        hpf_log(HPF_LOG_ERROR, "security.field_tampered", "member %s left on its old key: %s",
                r->acct, why.msg);
        *bad = true;
        hpf_wipe(idn, sizeof idn);
        return 0;
    }
    if (rc < 0)
        return hpf_err_set(err, rc, "%s", why.msg);
    rc = hpf_fc_encrypt(svc->keys, F_ID, r->acct, idn, id_enc, sizeof id_enc, err);
    if (rc == 0 && r->ph_enc[0])
        rc = hpf_fc_encrypt(svc->keys, F_PHONE, r->acct, phone, ph_enc, sizeof ph_enc, err);
    hpf_wipe(idn, sizeof idn);
    hpf_wipe(phone, sizeof phone);
    if (rc < 0)
        return rc;
    /* Only if nobody changed the row since it was read (PostgreSQL runs this beside servers). */
    rc = hpf_db_prepare(db, &st,
                        "UPDATE member SET id_number_enc = ?, phone_enc = ?, key_version = ?"
                        " WHERE id = ? AND id_number_enc = ? AND COALESCE(phone_enc, '') = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, id_enc);
    hpf_stmt_bind_text(st, 2, ph_enc[0] ? ph_enc : NULL);
    hpf_stmt_bind_i64(st, 3, hpf_keys_current(svc->keys));
    hpf_stmt_bind_i64(st, 4, r->id);
    hpf_stmt_bind_text(st, 5, r->id_enc);
    hpf_stmt_bind_text(st, 6, r->ph_enc);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    return rc < 0 ? rc : changed > 0;
}

typedef struct login_row {
    int64_t id;
    char user[128], enc[HPF_FC_TEXT_MAX];
} login_row;

/* Re-encrypt the logins' TOTP secrets not under the current version (at most `budget` when
 * budget > 0), in batches; *wrote counts them. */
static int rekey_logins(hpf_svc *svc, hpf_db *db, int64_t budget, int64_t *wrote, int64_t *tampered,
                        hpf_err *err)
{
    hpf_stmt *st;
    char like[24], plain[HPF_FC_PLAIN_MAX + 1], enc[HPF_FC_TEXT_MAX];
    int64_t after = 0;
    int rc = 0;
    snprintf(like, sizeof like, "f1.%d.%%", hpf_keys_current(svc->keys));
    login_row *rows = hpf_xcalloc(HPF_FIELDS_BATCH, sizeof *rows);
    for (;;) {
        int64_t want = HPF_FIELDS_BATCH;
        if (budget > 0 && budget - *wrote < want)
            want = budget - *wrote;
        if (want <= 0 || (rc = hpf_db_begin(db, err)) < 0)
            break;
        size_t n = 0;
        int64_t w = 0;
        rc = hpf_db_prepare(db, &st,
                            LOGIN_SECRETS " AND totp_secret NOT LIKE ? AND id > ? ORDER BY id"
                                          " LIMIT ?",
                            err);
        if (rc == 0) {
            hpf_stmt_bind_text(st, 1, like);
            hpf_stmt_bind_i64(st, 2, after);
            hpf_stmt_bind_i64(st, 3, want);
            while (n < (size_t)want && (rc = hpf_stmt_step(st, err)) == 1) {
                login_row *r = &rows[n++];
                r->id = hpf_stmt_i64(st, 0);
                COPY(r->user, hpf_stmt_text(st, 1));
                COPY(r->enc, hpf_stmt_text(st, 2));
            }
            hpf_stmt_reset(st);
        }
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            login_row *r = &rows[i];
            hpf_err why = HPF_ERR_INIT;
            after = r->id;
            rc = hpf_fc_decrypt(svc->keys, F_TOTP, r->user, r->enc, plain, sizeof plain, &why);
            if (rc == HPF_ECONFLICT || rc == HPF_ENOTFOUND) {
                hpf_log(HPF_LOG_ERROR, "security.field_tampered",
                        "login %s: its TOTP secret is left on its old key: %s", r->user, why.msg);
                (*tampered)++;
                rc = 0;
                continue;
            }
            if (rc < 0) {
                rc = hpf_err_set(err, rc, "%s", why.msg);
                break;
            }
            rc = hpf_fc_encrypt(svc->keys, F_TOTP, r->user, plain, enc, sizeof enc, err);
            hpf_wipe(plain, sizeof plain);
            if (rc == 0)
                rc = hpf_db_prepare(db, &st,
                                    "UPDATE app_user SET totp_secret = ? WHERE id = ?"
                                    " AND totp_secret = ?",
                                    err);
            if (rc < 0)
                break;
            hpf_stmt_bind_text(st, 1, enc);
            hpf_stmt_bind_i64(st, 2, r->id);
            hpf_stmt_bind_text(st, 3, r->enc);
            rc = hpf_stmt_step(st, err);
            if (rc == 0 && hpf_stmt_changes(st) > 0)
                w++;
            hpf_stmt_reset(st);
        }
        if (rc >= 0)
            rc = hpf_db_commit(db, err);
        if (rc < 0) {
            hpf_db_rollback(db);
            break;
        }
        *wrote += w;
        if ((int64_t)n < want)
            break;
    }
    hpf_wipe(rows, HPF_FIELDS_BATCH * sizeof *rows);
    free(rows);
    return rc < 0 ? rc : 0;
}

int hpf_member_fields_rekey(hpf_svc *svc, int64_t limit, int64_t *done, int64_t *left,
                            int64_t *tampered, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    *done = *left = *tampered = 0;
    if (!svc->keys)
        return no_keys(err);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    int64_t cur = hpf_keys_current(svc->keys), after = 0;
    rekey_row *rows = hpf_xcalloc(HPF_FIELDS_BATCH, sizeof *rows);
    for (;;) {
        int64_t want = HPF_FIELDS_BATCH;
        if (limit > 0 && limit - *done < want)
            want = limit - *done;
        if (want <= 0)
            break;
        size_t n = 0;
        int64_t wrote = 0;
        if ((rc = hpf_db_begin(db, err)) < 0)
            break;
        /* The batch is read whole before it is written: a driver may not run a statement while
         * another still streams rows. */
        rc = hpf_db_prepare(db, &st,
                            "SELECT id, account_no, id_number_enc, COALESCE(phone_enc, '')"
                            " FROM member WHERE key_version <> ? AND id > ? ORDER BY id LIMIT ?",
                            err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, cur);
            hpf_stmt_bind_i64(st, 2, after);
            hpf_stmt_bind_i64(st, 3, want);
            while (n < (size_t)want && (rc = hpf_stmt_step(st, err)) == 1) {
                rekey_row *r = &rows[n++];
                r->id = hpf_stmt_i64(st, 0);
                COPY(r->acct, hpf_stmt_text(st, 1));
                COPY(r->id_enc, hpf_stmt_text(st, 2));
                COPY(r->ph_enc, hpf_stmt_text(st, 3));
            }
            hpf_stmt_reset(st);
        }
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            bool bad = false;
            after = rows[i].id;
            rc = rekey_one(svc, db, &rows[i], &bad, err);
            if (rc == 1)
                wrote++;
            if (bad)
                (*tampered)++;
        }
        if (rc >= 0)
            rc = hpf_db_commit(db, err);
        if (rc < 0) {
            hpf_db_rollback(db);
            break;
        }
        *done += wrote;
        if ((int64_t)n < want)
            break;
    }
    free(rows);
    if (rc >= 0 && (limit <= 0 || *done < limit)) {
        int64_t wrote = 0;
        rc = rekey_logins(svc, db, limit > 0 ? limit - *done : 0, &wrote, tampered, err);
        *done += wrote;
    }
    if (rc >= 0) {
        hpf_stmt *cnt;
        char like[24];
        snprintf(like, sizeof like, "f1.%lld.%%", (long long)cur);
        rc = hpf_db_prepare(db, &cnt,
                            "SELECT (SELECT count(*) FROM member WHERE key_version <> ?)"
                            " + (SELECT count(*) FROM app_user WHERE totp_secret IS NOT NULL"
                            " AND totp_secret NOT LIKE ?)",
                            err);
        if (rc == 0) {
            hpf_stmt_bind_i64(cnt, 1, cur);
            hpf_stmt_bind_text(cnt, 2, like);
            rc = hpf_stmt_step(cnt, err);
            *left = rc == 1 ? hpf_stmt_i64(cnt, 0) : 0;
            hpf_stmt_reset(cnt);
        }
    }
    return rc < 0 ? rc : 0;
}
