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
#include "domain/contribution.h"
#include "store/db.h"

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
} hpf_svc;

/* The business date in force for this call. */
hpf_day hpf_svc_today(const hpf_svc *svc);

typedef enum {
    HPF_ROLE_NONE = 0,
    HPF_ROLE_MEMBER = 1 << 0,
    HPF_ROLE_AGENT = 1 << 1,
    HPF_ROLE_OPERATOR = 1 << 2,
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

#define HPF_TOKEN_LEN 48

/* Check the password and open a session. Returns 0 with token and csrf set, or HPF_EAUTH
 * (rule auth.bad_credentials; the same answer for an unknown user and a wrong password). */
int hpf_auth_login(hpf_svc *svc, const char *username, const char *password, hpf_actor *actor,
                   char token[HPF_TOKEN_LEN], char csrf[HPF_TOKEN_LEN], hpf_err *err);
/* Resolve a session token (touching its idle timer). Returns 0 or HPF_EAUTH (unknown, expired,
 * idle). */
int hpf_auth_session(hpf_svc *svc, const char *token, hpf_actor *actor, char csrf[HPF_TOKEN_LEN],
                     hpf_err *err);
/* End a session. Returns 0 (also when it was already gone). */
int hpf_auth_logout(hpf_svc *svc, const char *token, hpf_err *err);

/* Delete sessions that expired (absolute or idle) before `now` (unix seconds); *deleted counts
 * them. */
int hpf_auth_purge_sessions(hpf_svc *svc, int64_t now, int64_t *deleted, hpf_err *err);

/* Create a login inside the caller's transaction. Checks the password rules (field
 * field_prefix + "/password") and username uniqueness (HPF_ECONFLICT user.username_taken,
 * field field_prefix + "/username"). */
int hpf_user_create(hpf_db *db, hpf_role role, const char *username, const char *password,
                    const char *field_prefix, const char *display_name, int64_t employer_id,
                    int64_t member_id, int64_t *user_id, hpf_err *err);

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
} hpf_employer;

typedef struct hpf_employer_new {
    const char *name;
    const char *uscc;
    int32_t unit_ratio_bp, indiv_ratio_bp;
    const char *agent_username, *agent_password, *agent_name; /* agent NULL: no login (imports) */
} hpf_employer_new;

/* Register an employer with its agent login (operator only). Errors: HPF_EINVAL (field named),
 * HPF_ECONFLICT employer.uscc_unique / user.username_taken, HPF_EFORBIDDEN. */
int hpf_employer_register(hpf_svc *svc, const hpf_actor *actor, const hpf_employer_new *in,
                          hpf_employer *out, hpf_err *err);
/* Read one employer (operator; its own agent). HPF_ENOTFOUND, HPF_EFORBIDDEN. */
int hpf_employer_get(hpf_svc *svc, const hpf_actor *actor, const char *account_no,
                     hpf_employer *out, hpf_err *err);
/* A page of employers (operator only), newest first. *items is malloc'd; free() it. */
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

/* A page of an employer's remittances, newest period first. *items is malloc'd. */
int hpf_remit_list(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                   int64_t offset, int64_t limit, hpf_remittance **items, size_t *n, int64_t *total,
                   hpf_err *err);

/* ---- database readiness ---- */

/* True when a trivial query succeeds on this thread's connection. */
bool hpf_svc_ready(void *svc);

#endif
