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
    /* C-10: a deferred (缓缴) month keeps the continuity counter going (schema 13). */
    bool deferral_counts_as_continuous;
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

/* The annual statement (对账单, RULES 2.4) of interest year `year` (1 July year-1 .. 30 June
 * year, up to the business date while it runs), service/statement.c. */
typedef struct hpf_annual {
    int32_t year;
    hpf_statement statement; /* the year's postings in date order */
    hpf_fen carried_forward; /* 上年结转: the balance on 1 July, last year's interest included */
    hpf_fen deposits;    /* 当年缴存: 汇缴, 补缴, 外部转入 (net of their reversals) */
    hpf_fen withdrawals; /* 当年提取: every other movement out */
    hpf_fen interest;    /* 利息: the year's settled interest (posted 30 June) */
    hpf_fen closing;     /* carried_forward + deposits - withdrawals + interest */
    bool settled;        /* the year's settlement has run for the account */
    hpf_fen accrued;     /* not settled: the interest accrued up to accrued_to */
    hpf_day accrued_to;
    int32_t rate_e7, day_basis; /* the deposit rate and day basis in force at the year's end */
} hpf_annual;

/* Same roles and errors as hpf_member_statement, plus HPF_EINVAL interest.year_range and
 * HPF_EUNPROC interest.year_future. Free out->statement with hpf_statement_cleanup. */
int hpf_member_annual(hpf_svc *svc, const hpf_actor *actor, const char *account_no, int32_t year,
                      hpf_annual *out, hpf_err *err);

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

/* ---- one month for every employer (自动汇缴, service/remit_batch.c) ---- */

#define HPF_REMIT_BATCH_MAX 10000

typedef struct hpf_remit_batch_progress {
    hpf_month period;
    int64_t employers; /* employers taken up so far */
    int64_t posted;    /* ... whose month was posted by this run */
    int64_t skipped;   /* ... refused by their own business rules (state, roster) */
    int64_t members;   /* member postings written */
    hpf_fen total;
    char first_refusal[200]; /* the first employer refused and why */
    bool finished;
} hpf_remit_batch_progress;

typedef void (*hpf_remit_batch_cb)(const hpf_remit_batch_progress *p, void *arg);

/* Post month `period` for every normal employer that has not posted it, each from its roster
 * as hpf_remit_draft_make gives it and through hpf_remit_post (its own remittance, voucher,
 * postings and audit record), `per_tx` employers per transaction, each in its own savepoint: an
 * employer refused by its own rules is left out and counted, the others go on. A rerun takes
 * the employers still owing. Operators of the centre only. Errors: HPF_EFORBIDDEN scope.branch,
 * HPF_EINVAL remittance.batch, HPF_EUNPROC remittance.period_future, or a database error (the
 * transactions committed before it stay). */
int hpf_remit_batch(hpf_svc *svc, const hpf_actor *actor, hpf_month period, int per_tx,
                    hpf_remit_batch_cb progress, void *arg, hpf_remit_batch_progress *out,
                    hpf_err *err);

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

/* ---- contribution changes: 基数调整 10, 比例调整 75 (service/contribution_change.c;
 * docs/internals/contribution-changes.md) ----
 * A member's declared wage and an employer's ratios change from a month on; the history rows
 * say which was in force in each month, and a remittance of a month uses those
 * (hpf_contrib_terms_at). member.wage and the employer's ratio columns hold the latest, audited
 * as member.changed / employer.changed. */

typedef struct hpf_base_row {
    const char *account_no;
    hpf_fen wage;        /* the member's prior-year average monthly wage */
    hpf_month effective; /* 0: July of the year (or, for a member who joined later, that month) */
} hpf_base_row;

typedef struct hpf_base_req {
    const char *idem_key;
    int year;        /* 缴存年度 Y: 1 July Y .. 30 June Y+1 */
    bool correction; /* an operator's correction of a year already adjusted */
    const hpf_base_row *rows;
    size_t nrows;
} hpf_base_req;

typedef struct hpf_base_change {
    int64_t id, batch_id;
    char account_no[19];
    char employer_account_no[19]; /* the employer that declared it */
    int year;
    hpf_month effective;
    hpf_fen old_wage, new_wage, base; /* base: clamped by the effective month's policy */
    bool correction;
    hpf_day biz_date;
    char actor[64], actor_role[12];
} hpf_base_change;

typedef struct hpf_base_batch {
    int64_t id;
    int year;
    bool correction;
    hpf_day biz_date;
    hpf_base_change *rows; /* malloc'd, in request order */
    size_t n;
} hpf_base_batch;

/* Declare a year's wages for members of employer `employer_account_no` (its agent; an operator
 * of its branch), all rows or none. Per row: the member is the employer's and takes deposits;
 * the effective month is July of the year unless the member joined the employer after 1 July
 * (then any month from joining to June); once a year per member (HPF_ECONFLICT
 * contribution.base_year_done) unless `correction` (operators only). Errors name the row:
 * HPF_EUNPROC "/rows/N/..." contribution.*; HPF_ECONFLICT idempotency.key_reused; the same key
 * and content replays the first batch (*replayed). */
int hpf_base_adjust(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                    const hpf_base_req *req, hpf_base_batch *out, bool *replayed, hpf_err *err);
void hpf_base_batch_cleanup(hpf_base_batch *b);
/* A page of an employer's base adjustments, newest first; `year` 0 and `account_no` NULL for
 * all. *items is malloc'd. */
int hpf_base_adjust_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                         int year, const char *account_no, int64_t offset, int64_t limit,
                         hpf_base_change **items, size_t *n, int64_t *total, hpf_err *err);

typedef struct hpf_ratio_req {
    const char *idem_key;
    int32_t unit_bp, indiv_bp;
    hpf_month effective; /* first month of the new ratios */
    const char *reason;  /* optional */
} hpf_ratio_req;

typedef struct hpf_ratio_change {
    int64_t id;
    char employer_account_no[19];
    hpf_month effective;
    int32_t old_unit_bp, old_indiv_bp, unit_bp, indiv_bp;
    char reason[201];
    hpf_day biz_date;
    char actor[64], actor_role[12];
} hpf_ratio_change;

/* Change an employer's ratios from a month on (its agent; an operator of its branch): the
 * month is neither before the business month nor already remitted, and at most 12 months ahead
 * (HPF_EUNPROC contribution.ratio_month); the ratios within the policy in force then
 * (HPF_EINVAL ratio.below_minimum: that is the 降比/缓缴 procedure; ratio.range,
 * ratio.must_match); HPF_EUNPROC contribution.ratio_unchanged. Idempotent by key. */
int hpf_ratio_change_make(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                          const hpf_ratio_req *req, hpf_ratio_change *out, bool *replayed,
                          hpf_err *err);
int hpf_ratio_change_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                          int64_t offset, int64_t limit, hpf_ratio_change **items, size_t *n,
                          int64_t *total, hpf_err *err);

/* The wages in force in one month of the members of an employer who ever had a base
 * adjustment (the others: member.wage). */
typedef struct hpf_wage_book {
    struct hpf_wage_entry {
        int64_t member_id;
        hpf_fen wage;
    } * v; /* malloc'd, by member_id */
    size_t n;
} hpf_wage_book;

/* The terms of month `period` for a remittance: sets emp's ratios to those in force then and
 * fills `wages` (clean it up) for its members. Inside the caller's transaction. */
int hpf_contrib_terms_at(hpf_db *db, hpf_employer *emp, hpf_month period, hpf_wage_book *wages,
                         hpf_err *err);
/* The member's wage in force: the book's, or `stored` (member.wage) when it has none. */
hpf_fen hpf_wage_book_get(const hpf_wage_book *b, int64_t member_id, hpf_fen stored);
void hpf_wage_book_cleanup(hpf_wage_book *b);

/* ---- voluntary depositors: 灵活就业 (service/voluntary.c, RULES 1.4) ----
 * The person registers at the counter (an operator, who checks identity with the counter's
 * verdicts); the account sits at the centre's pseudo-unit for voluntary deposits. The person
 * (online, as a member) or an operator pays each month's deposit in that month; a missed month
 * is not back-paid, a paid month not refunded; stopping seals the account. */

typedef struct hpf_voluntary_new {
    const char *name, *id_number, *phone; /* phone may be NULL */
    hpf_fen base;
    int32_t ratio_bp; /* the single ratio, within [unit_min + indiv_min, unit_max + indiv_max] */
} hpf_voluntary_new;

typedef struct hpf_voluntary {
    char account_no[19];
    char name[256];
    char unit_account_no[19]; /* the pseudo-unit */
    char state[3];
    hpf_fen base;
    int32_t ratio_bp;
    hpf_fen monthly; /* this month's deposit under the policy in force */
    hpf_fen balance;
    hpf_month paid_through;
    hpf_day registered_on;
} hpf_voluntary;

/* Register (operator only): opens the account at the pseudo-unit (made on first use). Errors:
 * HPF_EINVAL (field named; voluntary.base_range, voluntary.ratio_range), HPF_ECONFLICT
 * member.one_live_account, HPF_EFORBIDDEN. */
int hpf_voluntary_register(hpf_svc *svc, const hpf_actor *actor, const hpf_voluntary_new *in,
                           hpf_voluntary *out, hpf_err *err);
/* The terms and state (the member themself; an operator). */
int hpf_voluntary_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                      hpf_voluntary *out, hpf_err *err);
/* Pay month `period`'s deposit (the member themself; an operator): only in that month
 * (HPF_EUNPROC voluntary.no_backpay for an earlier month, voluntary.period_future for a later
 * one); once: a month already paid returns that deposit with *replayed. Posts a remittance
 * (kind 01) of the pseudo-unit with one posting through voucher template 001. */
int hpf_voluntary_deposit(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                          hpf_month period, hpf_remittance *out, bool *replayed, hpf_err *err);
/* Stop deposits (the member themself; an operator): seals the account (封存, with its history
 * row and audit snapshot). HPF_ECONFLICT account.state when it is not normal. */
int hpf_voluntary_stop(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                       const char *reason, hpf_state_change *out, hpf_err *err);

/* ---- deposits: 补缴 (back-payment, type 02), 缓缴 (deferral, type 13) and the continuity
 * counter (service/backpay.c, service/deferral.c; docs/internals/deposits.md) ---- */

typedef struct hpf_backpay_line {
    const char *account_no;
    hpf_month period; /* 汇补缴年月: the month paid for */
    bool amounts;     /* false: computed by hpf_backpay_resolve (the month's full amount) */
    hpf_fen unit, individual;
} hpf_backpay_line;

typedef struct hpf_backpay_req {
    const char *idem_key;
    hpf_backpay_line *lines;
    size_t nlines;
    bool has_total; /* false: hpf_backpay_resolve sets it to the lines' sum */
    hpf_fen total;
} hpf_backpay_req;

#define HPF_BACKPAY_MAX_LINES HPF_REMIT_MAX_ROWS

/* Fill in what the request left to the centre: a line without amounts gets its month's full
 * amount (the owed month's, under a deferral; else the member's wage in force then x the
 * employer's ratios then, under the policy in force on the month's first day), a request without
 * a total the lines' sum. Reads only; scope as hpf_backpay_post. Errors name the line
 * ("/lines/N/..."): remittance.member_unknown, policy not found. */
int hpf_backpay_resolve(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                        hpf_backpay_req *req, hpf_err *err);
/* Every check of hpf_backpay_post inside the caller's open write transaction (the employer row
 * stays locked until it ends), writing nothing; *employer_id gets the employer's id. For
 * maker-checker (hpf_backpay_submit). Every line must carry its amounts. */
int hpf_backpay_check(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                      const hpf_backpay_req *req, int64_t *employer_id, hpf_err *err);
/* Post a back-payment: a remittance of kind 02 (serial "BJ...", period its latest month, members
 * its line count) with one voucher of template 001 and one posting per line dated the business
 * date with the line's month; owed months it fills are made up, a deferral whose months are all
 * made up (or that is over) closes and the employer returns to 01, and a member's 缴至年月 moves
 * on over the months now paid in full right after it. Errors (nothing written): HPF_ECONFLICT
 * idempotency.key_reused, employer.state, remittance.month_paid ("/lines/N/period": the month is
 * paid in full); HPF_EUNPROC "/lines/N/..." remittance.member_unknown / member_state /
 * member_not_open / period_future / period_before_opening, backpay.duplicate_line,
 * backpay.amount_zero, backpay.amount_exceeds, "/total" remittance.total_mismatch; HPF_ETOOBIG.
 * The same key and content replays (*replayed). */
int hpf_backpay_post(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                     const hpf_backpay_req *req, hpf_remittance *out, bool *replayed, hpf_err *err);

typedef struct hpf_deferral_req {
    const char *idem_key;
    hpf_month from, to;      /* the deferred months, inclusive */
    const char *reason;      /* 1..500 characters */
    const char *document_no; /* the 管委会's approval document, 1..64 characters */
} hpf_deferral_req;

typedef struct hpf_deferral {
    int64_t id;
    hpf_month from, to;
    char reason[512];
    char document_no[72];
    char state[8]; /* active, made_up (every owed month paid), ended (over, some still owed) */
    hpf_day granted_on, closed_on;
    int64_t members, owed_months, made_up_months;
    hpf_fen owed_total, outstanding;
} hpf_deferral;

typedef struct hpf_owed_month {
    int64_t deferral_id;
    char account_no[19];
    char name[256];
    hpf_month period;
    hpf_fen unit, individual, total;
    char made_up_by[24]; /* the back-payment's serial; "" while owed */
    hpf_day made_up_on;
} hpf_owed_month;

#define HPF_DEFERRAL_MAX_MONTHS 36

/* Every check of a deferral grant inside the caller's open write transaction, writing nothing
 * (operators only): the months are valid and in order, at most HPF_DEFERRAL_MAX_MONTHS, none
 * before the employer opened, none already remitted (HPF_ECONFLICT deferral.month_remitted) or
 * under another deferral (deferral.overlap); reason and document_no present (HPF_EINVAL
 * deferral.reason / deferral.document_no); the employer normal or deferring (employer.state). */
int hpf_deferral_check(hpf_svc *svc, hpf_db *db, const hpf_actor *actor,
                       const char *employer_account_no, const hpf_deferral_req *req, hpf_err *err);
/* Grant it inside the caller's transaction (an approval's execution): the deferral row, one
 * owed month per member that takes deposits and deferred month (the month's amount less what
 * was paid for it already), the employer's state 03 (audited employer.changed). */
int hpf_deferral_grant(hpf_svc *svc, hpf_db *db, const hpf_actor *actor,
                       const char *employer_account_no, const hpf_deferral_req *req,
                       hpf_deferral *out, hpf_err *err);
/* A page of an employer's deferrals, newest first (its agent; operators of its branch). */
int hpf_deferral_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                      int64_t offset, int64_t limit, hpf_deferral **items, size_t *n,
                      int64_t *total, hpf_err *err);
/* A page of an employer's owed months in (month, account) order; `outstanding` only those not
 * made up. *items is malloc'd. */
int hpf_owed_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                  bool outstanding, int64_t offset, int64_t limit, hpf_owed_month **items,
                  size_t *n, int64_t *total, hpf_err *err);

/* 连续足额缴存月数 of member `member_id` as of `as_of` (RULES 1.3; domain/continuity.h): the
 * months paid in full (汇缴 or 补缴, by 汇补缴年月, posted on or before as_of) running back from
 * the latest one, with deferral months when the policy in force on as_of says they count. For
 * the engines that ask it (loans, rent withdrawals): no scope check, the caller has done it.
 * Months brought by a cross-city transfer-in are not known yet (0 is passed). The _db form runs
 * on the caller's connection, inside its transaction if one is open. */
int hpf_member_continuity(hpf_svc *svc, int64_t member_id, hpf_day as_of, int *months,
                          hpf_err *err);
int hpf_member_continuity_db(hpf_db *db, int64_t member_id, hpf_day as_of, int *months,
                             hpf_err *err);

/* ---- approvals: maker-checker (service/approval.c; docs/internals/approval.md) ----
 * Money movements and policy changes are stored as pending requests by their maker and run when
 * another login with scope approves them, in the transaction of the decision. Nobody decides
 * their own request. An operator's decision is signed with their SM2 key; agents have none. */

#define HPF_APPROVAL_REMIT        "remittance.post" /* an employer-month of contributions */
#define HPF_APPROVAL_POLICY       "policy.change"   /* a new policy_version from a later date */
#define HPF_APPROVAL_TRANSFER_OUT "transfer.out"    /* 外部转出 (service/citytransfer.c) */
#define HPF_APPROVAL_MERGE        "member.merge"    /* 个人合并 (service/merge.c) */
#define HPF_APPROVAL_BACKPAY      "backpay.post"    /* 补缴: months paid back for members */
#define HPF_APPROVAL_DEFERRAL     "deferral.grant"  /* 缓缴: an employer's approved deferral */
#define HPF_APPROVAL_REVERSAL     "voucher.reverse" /* 冲账 of a posted voucher (accounts.c) */

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
/* Submit a back-payment for approval (kind backpay.post; operators, the employer's agent): lines
 * without amounts are resolved first (hpf_backpay_resolve) and the request is stored with every
 * amount, as the checker will see and run it; then the checks of hpf_backpay_post. Replays as
 * hpf_remit_submit. No money moves. */
int hpf_backpay_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                       hpf_backpay_req *req, hpf_approval *out, bool *replayed, hpf_err *err);
/* Submit a deferral (kind deferral.grant; operators): the checks of hpf_deferral_check. Replays
 * as hpf_remit_submit. Another operator approves it (hpf_deferral_grant runs then). */
int hpf_deferral_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                        const hpf_deferral_req *req, hpf_approval *out, bool *replayed,
                        hpf_err *err);
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

/* ---- cross-city transfers and account merge (service/citytransfer.c, service/merge.c;
 * docs/internals/citytransfer.md) ---- */

typedef struct hpf_city_transfer {
    int64_t id, member_id;
    char direction[4];   /* "in": we receive; "out": we send */
    char contact_no[17]; /* 联系函编号 */
    char account_no[19]; /* our member's GRZH */
    char state[3];       /* workflow code, RULES 1.6 item 6 */
    char other_centre[7];
    char or_unit[121], or_acct[33];
    bool has_amounts; /* the BDC905 figures below are known */
    hpf_fen principal, interest, amount;
    hpf_month o_acct, pay_end;
    int six_mcon, loan_num, loan_end, fr_loan;
    char cont_phone[21];
    char voucher_no[24];         /* "" until posted */
    hpf_day applied_on, done_on; /* done_on 0 while open */
    char idem_key[65];
} hpf_city_transfer;

typedef struct hpf_ct_event {
    char from_state[3], to_state[3], tx_code[8];
    char note[256];
    hpf_day biz_date;
} hpf_ct_event;

typedef struct hpf_ct_in_req {
    const char *account_no; /* the account here that receives (state 01) */
    const char *out_centre; /* the sending centre's 6-digit institution code */
    const char *or_unit;    /* the former employer's name */
    const char *or_acct;    /* the former 公积金 account there */
    const char *idem_key;
} hpf_ct_in_req;

/* Apply for a transfer in (the member for their own account; an operator): the transfer in
 * state 01 and its BDC901 queued, one transaction. A repeated key with the same request replays
 * (*replayed). Errors: HPF_EINVAL (field named), HPF_EUNPROC citytransfer.same_centre,
 * HPF_ECONFLICT account.state (not 01) / citytransfer.open / idempotency.key_reused, 403/404. */
int hpf_xfer_apply(hpf_svc *svc, const hpf_actor *actor, const hpf_ct_in_req *req,
                   hpf_city_transfer *out, bool *replayed, hpf_err *err);
/* BDC903: cancel a transfer in, only in state 01 (HPF_ECONFLICT citytransfer.state naming it). */
int hpf_xfer_cancel(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                    const char *reason, hpf_city_transfer *out, hpf_err *err);
/* BDC904: queue a progress query of an open transfer in. */
int hpf_xfer_query(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                   hpf_city_transfer *out, hpf_err *err);
/* One transfer and its events (malloc'd; free()), for the member or an operator. */
int hpf_xfer_get(hpf_svc *svc, const hpf_actor *actor, const char *contact_no,
                 hpf_city_transfer *out, hpf_ct_event **events, size_t *nevents, hpf_err *err);
/* The outbox reply handler of topics citytransfer.* (jobs/dispatch.c). */
struct hpf_outbox_msg;
int hpf_xfer_reply(hpf_svc *svc, hpf_db *db, const struct hpf_outbox_msg *msg,
                   const char *reply_json, hpf_err *err);

typedef struct hpf_ct_out_req {
    const char *account_no; /* our member, sealed (02) */
    const char *contact_no; /* the receiving centre's letter number */
    const char *in_centre;  /* its institution code (the letter's first 6 digits) */
    const char *reason;
    const char *idem_key;
} hpf_ct_out_req;

/* Record the other centre's letter as a pending transfer.out (operators): at approval the
 * interest up to the day before is settled, voucher 011 and the closing posting written, the
 * account closed (04) and the BDC905 queued. Errors as hpf_remit_submit, and the checks of the
 * execution (account.state, citytransfer.*). */
int hpf_xfer_out_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_ct_out_req *req,
                        hpf_approval *out, bool *replayed, hpf_err *err);

typedef struct hpf_merge_req {
    const char *from_account; /* the duplicate, closed into 03 */
    const char *to_account;   /* the person's main account */
    const char *reason;
    const char *idem_key;
} hpf_merge_req;

/* Submit 个人合并 (operators): at approval the duplicate's balance moves to the main account by
 * a voucher of template 099 and two postings, and the duplicate closes (03). Errors: those of
 * hpf_remit_submit; HPF_EUNPROC merge.not_same_person / merge.same_account; HPF_ECONFLICT
 * account.state. */
int hpf_merge_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_merge_req *req,
                     hpf_approval *out, bool *replayed, hpf_err *err);

/* ---- database readiness ---- */

/* True when a trivial query succeeds on this thread's connection. */
bool hpf_svc_ready(void *svc);

#endif
