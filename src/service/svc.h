/*
 * service/svc: the use cases of the first business slice (employers, members, remittances,
 * statements, logins) over one store. Each mutating call is one database transaction holding
 * the business record, its vouchers and postings: all of it is written or none of it.
 *
 * Every call takes the acting user (hpf_actor) and checks the scope here, not only in api/
 * (ARCHITECTURE rule 8): a member sees only their own account, an agent only their employer.
 * Dates are business dates from the context, never the wall clock (rule 6).
 */
#ifndef HPF_SERVICE_SVC_H
#define HPF_SERVICE_SVC_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "domain/account.h"
#include "domain/contribution.h"
#include "store/db.h"
#include "trust/keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hpf_svc {
    hpf_store *store;
    hpf_store *read_store;  /* optional hot standby for read-only work; NULL: use store */
    char centre[7];         /* 6-digit centre code for account numbers: "320900" */
    hpf_day business_date;  /* fixed business date; 0 = ask today() */
    hpf_day (*today)(void); /* the clock, supplied by main/ */
    int session_idle_s;     /* idle logout, default 1800 */
    int session_max_s;      /* absolute session lifetime, default 28800 */
    int session_step_up_s;  /* a money action wants a second factor this fresh, default 300 */
    int lockout_base_s;     /* first lock after 5 failed logins, doubling to 1 h; default 60 */
    const hpf_keys *keys;   /* field-encryption keys, loaded once by main/ (trust/keys.h) */
    const char *keys_dir;   /* DATA_DIR/keys: the SM2 seal and operator keys (trust/sm2.h) */
    int outbox_keep_s;      /* a sent message's contents are wiped after this (jobs/); 7 days */
} hpf_svc;

/* The business date in force for this call. */
hpf_day hpf_svc_today(const hpf_svc *svc);

typedef enum {
    HPF_ROLE_NONE = 0,
    HPF_ROLE_MEMBER = 1 << 0,
    HPF_ROLE_AGENT = 1 << 1,
    HPF_ROLE_OPERATOR = 1 << 2,
    HPF_ROLE_ADMIN = 1 << 3, /* manages logins, never money: no business route admits it */
} hpf_role;

const char *hpf_role_name(hpf_role r);

typedef struct hpf_actor {
    int64_t user_id;
    hpf_role role;
    int64_t employer_id; /* agents */
    int64_t member_id;   /* members */
    char username[64];
    char name[256];
    char account_no[19];          /* members: their GRZH */
    char employer_account_no[19]; /* agents: their employer's DWZH */
    int64_t factor_at;            /* unix seconds the session last proved its second factor */
    char branch[3]; /* operators: their branch office ("01"); "" for the whole centre */
} hpf_actor;

/* ---- policy (政策参数) ---- */

typedef struct hpf_policy {
    int64_t version;
    hpf_day effective_from;
    hpf_contrib_policy contrib;
    int64_t deposit_rate_e7;
    int day_basis;
} hpf_policy;

/* The policy version in force on `day`. Returns 0 or HPF_ENOTFOUND / HPF_EDB. */
int hpf_policy_at(hpf_db *db, hpf_day day, hpf_policy *out, hpf_err *err);
/* Same, opening its own connection, for readers. */
int hpf_svc_policy(hpf_svc *svc, hpf_day day, hpf_policy *out, hpf_err *err);

/* ---- sessions and users ---- */

#define HPF_TOKEN_LEN    48
#define HPF_TOTP_URI_LEN 512 /* an otpauth:// URI (trust/totp HPF_TOTP_URI_MAX) */

/* What a login step produced (docs/internals/identity.md). */
typedef struct hpf_login_result {
    char token[HPF_TOKEN_LEN];     /* a session was opened: its cookie value ... */
    char csrf[HPF_TOKEN_LEN];      /* ... and CSRF token; "" otherwise */
    char challenge[HPF_TOKEN_LEN]; /* an SMS code was sent instead (members): the handle to
                                      answer with; "" otherwise */
    char to[16];                   /* the phone it went to, masked: "138****0000" */
    int expires_in;                /* seconds the code is valid */
    int64_t fresh_until;           /* step-up: unix seconds the second factor stays fresh */
    int retry_after;               /* HPF_ELIMIT: seconds until the login opens again */
} hpf_login_result;

/* The first login step. Operators and agents send password and TOTP code: 0 with a session in
 * `out`. Members send the password: 0 with out->challenge set and a 6-digit code queued for
 * their phone through the outbox (no session yet; hpf_auth_otp finishes). Errors: HPF_EAUTH
 * auth.bad_credentials (wrong password or code; the same for an unknown user), HPF_EAUTH
 * auth.totp_required (right password, no code), HPF_ELIMIT auth.locked (out->retry_after; the
 * password was not checked), HPF_ELIMIT auth.sms_rate, HPF_EFORBIDDEN auth.no_phone. Five
 * consecutive failures lock the login for lockout_base_s, doubling with each further failure up
 * to an hour; a success resets the count. */
int hpf_auth_login(hpf_svc *svc, const char *username, const char *password, const char *totp,
                   hpf_actor *actor, hpf_login_result *out, hpf_err *err);
/* Answer an SMS challenge. A login challenge opens a session (out->token, csrf); a step-up
 * challenge refreshes the session it was made for (session_token, the caller's cookie) and sets
 * out->fresh_until. Errors: HPF_EAUTH auth.otp_invalid (unknown, used, wrong, out of tries, or
 * another session's challenge), HPF_EAUTH auth.otp_expired, HPF_ELIMIT auth.locked. */
int hpf_auth_otp(hpf_svc *svc, const char *challenge, const char *code, const char *session_token,
                 hpf_actor *actor, hpf_login_result *out, hpf_err *err);
/* Prove the second factor again in the session `session_token` of `actor`: operators and agents
 * with a TOTP code (0 with out->fresh_until; HPF_EAUTH auth.totp_required or
 * auth.bad_credentials), members by SMS (0 with out->challenge; then hpf_auth_otp). Failures
 * count towards the lockout like failed logins. */
int hpf_auth_step_up(hpf_svc *svc, const hpf_actor *actor, const char *session_token,
                     const char *totp, hpf_login_result *out, hpf_err *err);
/* 0 when the actor's session proved its second factor within session_step_up_s, else HPF_EAUTH
 * auth.step_up_required. For routes that move money. */
int hpf_auth_require_fresh(const hpf_svc *svc, const hpf_actor *actor, hpf_err *err);
/* Resolve a session token (touching its idle timer). Returns 0 or HPF_EAUTH (unknown, expired,
 * idle). */
int hpf_auth_session(hpf_svc *svc, const char *token, hpf_actor *actor, char csrf[HPF_TOKEN_LEN],
                     hpf_err *err);
/* End a session. Returns 0 (also when it was already gone). */
int hpf_auth_logout(hpf_svc *svc, const char *token, hpf_err *err);

/* Delete sessions that expired (absolute or idle) before `now` (unix seconds); *deleted counts
 * them. */
int hpf_auth_purge_sessions(hpf_svc *svc, int64_t now, int64_t *deleted, hpf_err *err);

typedef struct hpf_user_new {
    hpf_role role;
    const char *username, *password, *display_name;
    const char *field_prefix; /* of the fields named in errors; NULL: none */
    int64_t employer_id;      /* agents: their employer; else 0 */
    int64_t member_id;        /* members: their account; else 0 */
    const char *branch;       /* operators: their branch office; NULL: the whole centre */
} hpf_user_new;

/* Create a login inside the caller's transaction; `actor_id` (the app_user who creates it, 0 for
 * the system or a member registering themself) is named in its user.created audit entry, whose
 * snapshot holds the branch. Checks the password rules (field field_prefix + "/password") and
 * username uniqueness (HPF_ECONFLICT user.username_taken, field field_prefix + "/username").
 * Operators, administrators and agents get a new TOTP secret, handed back once as an otpauth://
 * URI in totp_uri (HPF_TOTP_URI_LEN bytes; required for those roles, may be NULL for members):
 * show it to the user and keep it nowhere else. The secret is stored encrypted with svc->keys
 * (field "app_user.totp_secret", context the username). */
int hpf_user_create(const hpf_svc *svc, hpf_db *db, int64_t actor_id, const hpf_user_new *in,
                    int64_t *user_id, char *totp_uri, hpf_err *err);

/* ---- administration: logins (service/admin.c; docs/internals/identity.md) ----
 * Administrators manage logins and nothing else: every call here wants HPF_ROLE_ADMIN
 * (HPF_EFORBIDDEN auth.role otherwise) and appends its audit entry in its transaction. */

#define HPF_BRANCH_CENTRE "00" /* the centre's own code; an employer's default branch */

typedef struct hpf_operator_new {
    const char *username, *name, *password;
    const char *branch; /* NULL or "": the whole centre; else a branch code ("01") */
    char *totp_uri;     /* out, HPF_TOTP_URI_LEN bytes: the TOTP secret, shown once */
} hpf_operator_new;

typedef struct hpf_login_info {
    int64_t id;
    char username[64];
    char name[256];
    char role[12];
    char branch[3]; /* operators; "" for the whole centre */
    bool disabled;
    char created_at[40]; /* as stored: "2026-11-15 09:30:00"; PostgreSQL adds fractions, zone */
} hpf_login_info;

/* Create an operator login with its TOTP secret and SM2 key pair (svc->keys_dir). Errors:
 * HPF_EINVAL username.format / name rules / password rules / branch.unknown (field named),
 * HPF_ECONFLICT user.username_taken, HPF_EFORBIDDEN auth.role. */
int hpf_operator_create(hpf_svc *svc, const hpf_actor *actor, const hpf_operator_new *in,
                        hpf_login_info *out, hpf_err *err);
/* Disable (or enable) the operator or agent login `username`; disabling ends its sessions (each
 * with a session.expired entry). The change is audited as user.disabled / user.enabled (a new
 * snapshot of the login). Errors: HPF_ENOTFOUND user.unknown (no such operator or agent login),
 * HPF_ECONFLICT user.self_disable (an administrator's own login), HPF_EFORBIDDEN auth.role.
 * Doing it twice is no error and writes nothing. *sessions counts the sessions ended. */
int hpf_user_set_disabled(hpf_svc *svc, const hpf_actor *actor, const char *username, bool disabled,
                          hpf_login_info *out, int64_t *sessions, hpf_err *err);
/* A page of operator logins in id order. *items is malloc'd. */
int hpf_operator_list(hpf_svc *svc, const hpf_actor *actor, int64_t offset, int64_t limit,
                      hpf_login_info **items, size_t *n, int64_t *total, hpf_err *err);
/* The branch-office codes are two digits and listed in table branch: 0 when `code` is one,
 * else HPF_EINVAL branch.unknown on `field`. */
int hpf_branch_check(hpf_svc *svc, const char *code, const char *field, hpf_err *err);

/* ---- employers ---- */

typedef struct hpf_employer {
    int64_t id;
    char account_no[19];
    char name[512];
    char uscc[19];
    int32_t unit_ratio_bp, indiv_ratio_bp;
    char state[3];
    hpf_day opened_on;
    hpf_month paid_through; /* 0 when nothing was remitted */
    int64_t members;        /* live member accounts */
    char branch[3];         /* the branch office its cases belong to ("00": the centre) */
} hpf_employer;

typedef struct hpf_employer_new {
    const char *name;
    const char *uscc;
    int32_t unit_ratio_bp, indiv_ratio_bp;
    const char *agent_username, *agent_password, *agent_name; /* agent NULL: no login (imports) */
    char *agent_totp_uri; /* out, HPF_TOTP_URI_LEN bytes: the agent's TOTP secret, shown once;
                             required with an agent login */
    const char *branch;   /* NULL: the operator's own branch, or the centre ("00") */
} hpf_employer_new;

/* Register an employer with its agent login (operator only). An operator of a branch registers
 * into that branch only (HPF_EFORBIDDEN scope.branch on /branch). Errors: HPF_EINVAL (field
 * named; branch.unknown), HPF_ECONFLICT employer.uscc_unique / user.username_taken,
 * HPF_EFORBIDDEN. */
int hpf_employer_register(hpf_svc *svc, const hpf_actor *actor, const hpf_employer_new *in,
                          hpf_employer *out, hpf_err *err);
/* Read one employer (operator; its own agent). HPF_ENOTFOUND, HPF_EFORBIDDEN. */
int hpf_employer_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                     hpf_employer *out, hpf_err *err);
/* A page of employers (operator only; an operator of a branch sees that branch's), newest
 * first. *items is malloc'd; free() it. */
int hpf_employer_list(hpf_svc *svc, const hpf_actor *actor, int64_t offset, int64_t limit,
                      hpf_employer **items, size_t *n, int64_t *total, hpf_err *err);

/* ---- members ---- */

typedef struct hpf_member {
    int64_t id;
    char account_no[19];
    int64_t employer_id;
    char employer_account_no[19];
    char employer_name[512];
    char name[256];
    char id_number[19];
    char phone[16];
    hpf_fen wage;
    char state[3];
    hpf_day opened_on;
    hpf_fen balance;
    hpf_month paid_through;
    hpf_contrib contrib; /* monthly amounts under the policy in force today */
} hpf_member;

typedef struct hpf_member_new {
    const char *name;
    const char *id_number;
    hpf_fen wage;
    const char *phone; /* NULL or "" for none */
} hpf_member_new;

/* Open a member account at an employer (its agent; operator). Errors: HPF_EINVAL (field named),
 * HPF_ECONFLICT member.one_live_account, HPF_ENOTFOUND, HPF_EFORBIDDEN. */
int hpf_member_open(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_member_new *in, hpf_member *out, hpf_err *err);
/* Read one member (the member; the employer's agent; operator). */
int hpf_member_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no, hpf_member *out,
                   hpf_err *err);
/* A page of an employer's members in account order. *items is malloc'd. */
int hpf_member_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    int64_t offset, int64_t limit, hpf_member **items, size_t *n, int64_t *total,
                    hpf_err *err);

typedef struct hpf_stmt_item {
    hpf_day date;
    char kind[3];
    hpf_month period;
    hpf_fen amount, balance;
    char voucher_no[24];
} hpf_stmt_item;

typedef struct hpf_statement {
    hpf_day from, to;
    hpf_fen opening, closing;
    hpf_stmt_item *items; /* malloc'd */
    size_t n;
    bool truncated; /* more than HPF_STATEMENT_MAX items in the range */
} hpf_statement;

#define HPF_STATEMENT_MAX 1000

/* The member's postings with from <= date <= to. Free with hpf_statement_cleanup. */
int hpf_member_statement(hpf_svc *svc, const hpf_actor *actor, const char *account_no, hpf_day from,
                         hpf_day to, hpf_statement *out, hpf_err *err);
void hpf_statement_cleanup(hpf_statement *s);

/* A member creates an online-hall login for an open account; id number, name and account must
 * match (HPF_EUNPROC registration.mismatch). */
int hpf_member_register_login(hpf_svc *svc, const char *id_number, const char *name,
                              const char *account_no, const char *password, hpf_err *err);

/* ---- personal fields at rest (docs/internals/crypto.md) ----
 * A member's resident ID and phone are stored encrypted under svc->keys and found by blind
 * index; so is the TOTP secret of a login (service/auth.c). These calls are for main/
 * (start-up, `hpf keys`); each works in batches of at most HPF_FIELDS_BATCH rows, one
 * transaction per batch. A "row" is a member (both its fields) or a login's secret. */

#define HPF_FIELDS_BATCH 500
#define HPF_FIELDS_SHOW  20

typedef struct hpf_fields_status {
    int64_t clear;    /* members whose fields still wait in clear (schema 4 upgrade) */
    size_t nversions; /* key versions in use, ascending in v[] (at most HPF_KEYS_VERSIONS) */
    struct {
        int version;
        int64_t rows;
    } v[HPF_KEYS_VERSIONS];
    int64_t checked;    /* with check: members whose fields were decrypted and compared */
    int64_t tampered;   /* ... failing their tag or their blind index */
    int64_t unreadable; /* ... under a version the key file lacks */
    size_t nshown;      /* the first problems, for the report */
    struct {
        char who[48];   /* "member 320900000000000013", "login agent0001" */
        char what[160]; /* which field and why; never a value */
    } shown[HPF_FIELDS_SHOW];
} hpf_fields_status;

/* Rows per key version and, when `check`, every member's fields decrypted with svc->keys and
 * compared with their blind indexes (O(members)). Returns 0 or a database error. */
int hpf_member_fields_status(hpf_svc *svc, bool check, hpf_fields_status *out, hpf_err *err);

/* Whether any member's fields are stored encrypted (*any), and, when svc->keys is set, that
 * the key file holds every version in use: HPF_ENOTFOUND naming the first one missing. */
int hpf_member_fields_keys_cover(hpf_svc *svc, bool *any, hpf_err *err);

/* Encrypt the fields that the schema 4 upgrade left in clear (member_pii_legacy), rename the
 * members' logins to their blind index, and append a fresh audit snapshot of each record whose
 * latest snapshot still matched it; then purge the clear values from free space (SQLite VACUUM,
 * PostgreSQL VACUUM FULL of the tables). *done counts members. Idempotent. */
int hpf_member_fields_protect(hpf_svc *svc, int64_t *done, hpf_err *err);

/* Re-encrypt every row not under the current version (at most `limit` rows when limit > 0);
 * *done counts them, *left those still on other versions. A value that fails its check is left
 * as it is and counted in *tampered (see the status). Resumable: call again to go on. */
int hpf_member_fields_rekey(hpf_svc *svc, int64_t limit, int64_t *done, int64_t *left,
                            int64_t *tampered, hpf_err *err);

/* Rows (members, logins' secrets) under key version `version`. */
int hpf_member_fields_rows(hpf_svc *svc, int version, int64_t *rows, hpf_err *err);

/* ---- account states (service/account_state.c; docs/internals/accounts.md) ----
 * 封存, 启封, 内部转移, 冻结 and 解冻 change a member account's state (and, for 内部转移, its
 * employer) as domain/account's table allows, each with a member_state_history row and a
 * member.state_changed audit snapshot in one transaction. */

#define HPF_STATE_REASON_MAX 200 /* bytes of a reason */
#define HPF_ORDER_REF_MAX    100 /* bytes of a court order or fraud case reference */

typedef struct hpf_state_req {
    hpf_account_biz business; /* HPF_BIZ_SEAL, _UNSEAL, _TRANSFER, _FREEZE, _UNFREEZE */
    const char *reason;       /* 封存, 冻结, 解冻: required; else optional (NULL) */
    const char *order_ref;    /* 冻结: the court order or fraud case, required */
    const char *to_employer;  /* 内部转移: the new employer's DWZH */
    const char *id_number;    /* 内部转移 by the new employer's agent: the member's resident ID,
                                 required (optional for an operator; checked when given) */
} hpf_state_req;

/* One change of state (a row of the history). */
typedef struct hpf_state_change {
    int64_t id;
    char account_no[19];
    char business[3];                        /* JGJ/T 320 A.5 code: "05" */
    char from_state[3], to_state[3];         /* A.6 codes */
    char from_employer[19], to_employer[19]; /* DWZH; equal unless 内部转移 */
    char reason[HPF_STATE_REASON_MAX + 1];   /* "" when none */
    char order_ref[HPF_ORDER_REF_MAX + 1];   /* 冻结 only */
    hpf_day biz_date;
    char actor[64], actor_role[12]; /* the login that did it; "" for the system */
} hpf_state_change;

/* Run one state business on account `account_no` (*out: the history row written). Who: 封存 and
 * 启封 the employer's agent or an operator; 冻结 and 解冻 operators only; 内部转移 an operator, or
 * the new employer's agent for a sealed account (naming the resident ID). Scopes as for reading
 * the member: an agent of another employer 403 scope.own_employer, an operator of another branch
 * 404. Errors (nothing written): HPF_EINVAL account.reason / account.order_ref / json.required
 * (field named); HPF_ECONFLICT account.state (the state forbids the business: the message names
 * both; a second 封存 is one), account.same_employer, account.not_sealed, employer.state
 * (/to_employer); HPF_EUNPROC account.employer_unknown; HPF_EFORBIDDEN auth.role,
 * scope.own_employer, account.identity_mismatch; HPF_ENOTFOUND; HPF_EBUSY (run it again). */
int hpf_member_state_change(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                            const hpf_state_req *req, hpf_state_change *out, hpf_err *err);

/* A page of the account's state changes, newest first (the member, who is not told the staff's
 * login names (actor ""); the employer's agent; an operator of the branch). *items is
 * malloc'd. */
int hpf_member_state_history(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                             int64_t offset, int64_t limit, hpf_state_change **items, size_t *n,
                             int64_t *total, hpf_err *err);

/* ---- remittances (汇缴) ---- */

typedef struct hpf_remit_row {
    const char *account_no;
    const char *name;
    hpf_fen unit, individual;
} hpf_remit_row;

typedef struct hpf_remit_req {
    const char *idem_key;
    hpf_month period;
    hpf_fen total;
    const hpf_remit_row *rows;
    size_t nrows;
} hpf_remit_req;

typedef struct hpf_remittance {
    char serial[24];
    hpf_month period;
    int64_t members;
    hpf_fen unit_total, indiv_total, total;
    char voucher_no[24];
    hpf_day posted_on;
} hpf_remittance;

#define HPF_REMIT_MAX_ROWS 5000

typedef struct hpf_draft_row {
    char account_no[19];
    char name[256];
    hpf_contrib c;
} hpf_draft_row;

typedef struct hpf_remit_draft {
    hpf_month period;
    hpf_draft_row *rows; /* malloc'd */
    size_t n;
    hpf_fen unit_total, indiv_total, total;
} hpf_remit_draft;

/* The roster (清册) for a month: every normal member opened by then, with amounts computed from
 * their wage, the employer's ratios and the policy in force on the month's first day. */
int hpf_remit_draft_make(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                         hpf_month period, hpf_remit_draft *out, hpf_err *err);
void hpf_remit_draft_cleanup(hpf_remit_draft *d);

/* Post one employer-month: every row's shares to the member sub-ledger and one balanced voucher
 * (Dr 101 / Cr 201), in one transaction. The same idempotency key with the same content returns
 * the first result with *replayed = true and writes nothing. Errors (nothing written):
 * HPF_ECONFLICT idempotency.key_reused / remittance.period_posted; HPF_EUNPROC with the field
 * "/rows/N/..." or "/total" or "/period" and a remittance.* rule; HPF_ETOOBIG. */
int hpf_remit_post(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                   const hpf_remit_req *req, hpf_remittance *out, bool *replayed, hpf_err *err);

/* Every check hpf_remit_post makes, inside the caller's open write transaction, writing nothing;
 * the employer row stays locked until the caller's transaction ends. *employer_id gets the
 * employer's id. A key already spent on a posted remittance is HPF_ECONFLICT
 * idempotency.key_reused. For maker-checker (hpf_remit_submit), which stores the request. */
int hpf_remit_check(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_remit_req *req, int64_t *employer_id, hpf_err *err);

/* A page of an employer's remittances, newest period first. *items is malloc'd. */
int hpf_remit_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                   int64_t offset, int64_t limit, hpf_remittance **items, size_t *n, int64_t *total,
                   hpf_err *err);

/* ---- approvals: maker-checker (service/approval.c; docs/internals/approval.md) ----
 * Money movements and policy changes are stored as pending requests by their maker and run when
 * another login with scope approves them, in the transaction of the decision. Nobody decides
 * their own request. An operator's decision is signed with their SM2 key; agents have none. */

#define HPF_APPROVAL_REMIT  "remittance.post" /* an employer-month of contributions */
#define HPF_APPROVAL_POLICY "policy.change"   /* a new policy_version from a later date */

typedef struct hpf_approval {
    int64_t id;
    char kind[32];
    char ref[65];                 /* the business key: the request's Idempotency-Key */
    int64_t employer_id;          /* the employer it acts for; 0 for the centre's own */
    char employer_account_no[19]; /* "" for the centre's own */
    char request_hash[65];        /* SM3 of payload, as stored */
    char status[12];              /* pending, approved, rejected, withdrawn */
    int64_t maker_id, checker_id; /* checker 0 until approved or rejected */
    char maker[64], maker_role[12], checker[64], checker_role[12];
    char made_at[21], decided_at[21]; /* UTC "2026-11-15T09:30:00Z"; decided_at "" if pending */
    char key_id[17];                  /* the checker's SM2 key; "" when unsigned */
    char signature[160];              /* SM2 (DER, hex); "" when unsigned */
    int signature_valid; /* get and decisions: 1 verifies, 0 fails (or the payload changed), -1
                            none expected (pending, withdrawn, decided by an agent) */
    bool payload_intact; /* get and decisions: SM3(payload) == request_hash */
    char *reason;        /* a rejection's reason, or NULL */
    char *payload;       /* the request (JSON text); NULL in lists */
    char *result;        /* what the execution gave (JSON text, e.g. the receipt), or NULL */
} hpf_approval;

void hpf_approval_cleanup(hpf_approval *a);
void hpf_approvals_free(hpf_approval *items, size_t n);

/* Submit a remittance for approval: the checks of hpf_remit_post (all its errors, nothing
 * stored), and HPF_ECONFLICT remittance.period_pending when another request of this month waits.
 * The same key with the same content returns the stored request (*replayed, whatever its status
 * now); with other content HPF_ECONFLICT idempotency.key_reused. No money moves. */
int hpf_remit_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                     const hpf_remit_req *req, hpf_approval *out, bool *replayed, hpf_err *err);
/* Submit a new policy version (operators; p->version is ignored; note 1..500 characters) taking
 * effect on p->effective_from, after the business date. Errors: HPF_EINVAL policy.invalid /
 * policy.note, HPF_EUNPROC policy.effective_past, HPF_ECONFLICT policy.date_taken /
 * idempotency.key_reused, HPF_EFORBIDDEN. Replays as hpf_remit_submit. */
int hpf_policy_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_policy *p, const char *note,
                      const char *idem_key, hpf_approval *out, bool *replayed, hpf_err *err);
/* Approve (run the request; out->result) or reject (reason required: HPF_EINVAL
 * approval.reason) a pending request. Errors: HPF_ENOTFOUND approval.unknown (none the actor may
 * see), HPF_ECONFLICT approval.decided / approval.self_approval / sm2.no_key (an operator without
 * a key), HPF_EFORBIDDEN approval.scope; and, on approval, the request's own business errors,
 * which leave it pending. */
int hpf_approval_decide(hpf_svc *svc, const hpf_actor *actor, int64_t id, bool approve,
                        const char *reason, hpf_approval *out, hpf_err *err);
/* The maker takes back a pending request (HPF_ECONFLICT approval.not_maker otherwise). */
int hpf_approval_withdraw(hpf_svc *svc, const hpf_actor *actor, int64_t id, hpf_approval *out,
                          hpf_err *err);
/* One request with its payload, its signature verified now against the recorded key. */
int hpf_approval_get(hpf_svc *svc, const hpf_actor *actor, int64_t id, hpf_approval *out,
                     hpf_err *err);
/* A page of requests, newest first, filtered by status and kind (NULL: any): operators of the
 * centre see all, an operator of a branch its employers', an agent their employer's. Without
 * payloads; signature_valid -1. */
int hpf_approval_list(hpf_svc *svc, const hpf_actor *actor, const char *status, const char *kind,
                      int64_t offset, int64_t limit, hpf_approval **items, size_t *n,
                      int64_t *total, hpf_err *err);

/* ---- identity verdicts of counter terminals ---- */

typedef struct hpf_verdict {
    int64_t id;
    char case_ref[65];
    char kind[9];   /* "id_card", "face", "elicence" */
    char result[5]; /* "pass", "fail" */
    char device_id[65];
    char evidence_sha256[65]; /* id_card, face: SHA-256 of what the device captured; else "" */
    char licence_id[65];      /* elicence: the e-licence id; else "" */
    int score;                /* face: 0..100; -1 when none */
    char operator_username[64];
    char recorded_at[21]; /* UTC "2026-11-15T09:30:00Z" */
} hpf_verdict;

typedef struct hpf_verdict_new {
    const char *case_ref, *kind, *result, *device_id;
    const char *evidence_sha256, *licence_id; /* NULL when absent */
    int score;                                /* -1 when absent */
    const char *idem_key;                     /* optional Idempotency-Key; NULL: none */
} hpf_verdict_new;

/* Record what a counter terminal saw (operator only), with the operator, on the audit chain
 * (identity.verdict), in one transaction. The same idempotency key with the same content returns
 * the first record with *replayed = true. Errors: HPF_EINVAL (field named, rule verdict.* or
 * idempotency.key_format), HPF_ECONFLICT idempotency.key_reused, HPF_EFORBIDDEN. */
int hpf_verdict_record(hpf_svc *svc, const hpf_actor *actor, const hpf_verdict_new *in,
                       hpf_verdict *out, bool *replayed, hpf_err *err);
/* A page of a case's verdicts in the order recorded (operator only). *items is malloc'd. */
int hpf_verdict_list(hpf_svc *svc, const hpf_actor *actor, const char *case_ref, int64_t offset,
                     int64_t limit, hpf_verdict **items, size_t *n, int64_t *total, hpf_err *err);

/* ---- database readiness ---- */

/* True when a trivial query succeeds on this thread's connection. */
bool hpf_svc_ready(void *svc);

#endif
