/*
 * service/internal: helpers shared by the service modules. Not for use outside service/.
 */
#ifndef HPF_SERVICE_INTERNAL_H
#define HPF_SERVICE_INTERNAL_H

#include "service/svc.h"

#include <stdio.h>

/* Reads the current row into the item at `item`. */
typedef void (*svc_row_fn)(hpf_stmt *st, void *item, const void *ctx);

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* The calling thread's connection. */
int svc_conn(hpf_svc *svc, hpf_db **db, hpf_err *err);
/* The connection for read-only work that may lag a moment behind (statements, lists): the hot
 * standby when one is configured, else the primary. Never for a read that decides a write. */
int svc_conn_read(hpf_svc *svc, hpf_db **db, hpf_err *err);

/* The branch rule, decided here only (docs/internals/identity.md "Roles and scopes"): an
 * operator of a branch office sees only what belongs to employers of that branch; everyone else
 * passes (their own scopes are checked elsewhere). `branch` is the employer's. */
bool svc_branch_sees(const hpf_actor *a, const char *branch);

/* 0 when the actor may act for the employer with this account number: an agent for their own
 * (else 403 scope.own_employer), an operator of the centre for any, an operator of a branch for
 * that branch's (else 404, the answer of an employer that does not exist), nobody else (403
 * auth.role). Reads the employer's branch on the calling thread's connection when it must. */
int svc_scope_employer(hpf_svc *svc, const hpf_actor *a, const char *employer_account_no,
                       hpf_err *err);

/* A login name: 3 to 32 of letters, digits, '_', '-', '.' (HPF_EINVAL username.format on
 * `field`). */
int svc_check_username(const char *u, const char *field, hpf_err *err);

/* Load an employer by account number (HPF_ENOTFOUND otherwise). */
int svc_load_employer(hpf_db *db, const char *account_no, hpf_employer *out, hpf_err *err);
/* 409 employer.state unless the employer account is normal (01). */
int svc_employer_normal(const hpf_employer *emp, hpf_err *err);

/* Insert a new member row of employer_id in state 01, opened on the business date, with its
 * balance row (hpf_ledger_open_account), inside the caller's transaction: the next account
 * number (acct), the resident ID number idn (validated, normalised) and the phone (NULL or ""
 * for none) encrypted with their blind indexes. The caller has checked the one-live-account
 * rule; a concurrent opening is still 409 member.one_live_account. */
int svc_member_insert(const hpf_svc *svc, hpf_db *db, int64_t employer_id, const char *name,
                      const char *idn, const char *phone, hpf_fen wage, char acct[19],
                      int64_t *member_id, hpf_err *err);

/* Run `sql` with one text parameter; when it yields a row, copy its first column into `found`
 * (size n) and return 1; 0 when there is none; or an error. */
int svc_lookup_text(hpf_db *db, const char *sql, const char *param, char *found, size_t n,
                    hpf_err *err);

/* Read an employer row of the employer query (a svc_row_fn). */
void svc_read_employer(hpf_stmt *st, void *item, const void *ctx);
/* A page of employers, newest first: of one branch, or all when branch is NULL or "". */
int svc_list_employers(hpf_db *db, const char *branch, int64_t offset, int64_t limit,
                       hpf_employer **items, size_t *n, int64_t *total, hpf_err *err);

/* Parse a stored 'YYYY-MM-DD' (0 for NULL/empty). */
hpf_day svc_day(const char *s);

/* Clamp paging arguments: offset >= 0, 1 <= limit <= 200 (default 50 when limit <= 0). */
void svc_page(int64_t *offset, int64_t *limit);

/* One page of a list: `count_sql` gives the total, `page_sql` the rows; both take `key` as their
 * first parameter when key >= 0, and page_sql then takes LIMIT and OFFSET. Allocates *items
 * (free() it) of `item_size` each and fills them with `read`. */
int svc_list(hpf_db *db, const char *count_sql, const char *page_sql, int64_t key, int64_t offset,
             int64_t limit, size_t item_size, svc_row_fn read, const void *ctx, void **items,
             size_t *n, int64_t *total, hpf_err *err);

/* End every session of login `user_id` inside the caller's transaction, each with a
 * session.expired audit entry by `actor`; *n (may be NULL) counts them. (auth.c) */
int svc_end_user_sessions(hpf_db *db, int64_t actor, int64_t user_id, int64_t *n, hpf_err *err);

/* Whether a member account in the stored state `state` ("01") takes a deposit: the one rule
 * of domain/account (hpf_account_may_receive), for every path that posts one. When it does not,
 * `why` (may be NULL) holds the 409 account.state naming the state; an unknown code takes none.
 * (account_state.c) */
bool svc_member_takes_deposits(const char *state, hpf_err *why);

/* ---- maker-checker kinds of other modules (approval.c runs them; json_t of jansson) ---- */

struct json_t;
/* Store `payload` (stolen) as a pending request of `kind` (approval.c). */
int svc_approval_submit(hpf_svc *svc, const hpf_actor *actor, const char *kind, const char *ref,
                        struct json_t *payload, hpf_approval *out, bool *replayed, hpf_err *err);
/* The centre's pseudo-unit of voluntary depositors (voluntary.c): 1 with its employer id, 0 when
 * none exists yet, or an error. */
int svc_voluntary_unit(hpf_db *db, int64_t *id, hpf_err *err);
/* voucher.reverse (accounts.c): the hooks of approval.c's kind. */
int svc_reverse_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, struct json_t *payload,
                      int64_t *employer_id, hpf_err *err);
int svc_reverse_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                         struct json_t *payload, hpf_err *err);
int svc_reverse_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                        struct json_t *payload, char **result, hpf_err *err);
/* transfer.out (citytransfer.c) and member.merge (merge.c): the hooks of approval.c's kinds. */
int svc_xfer_out_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, struct json_t *payload,
                       int64_t *employer_id, hpf_err *err);
int svc_xfer_out_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                          struct json_t *payload, hpf_err *err);
int svc_xfer_out_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                         struct json_t *payload, char **result, hpf_err *err);
int svc_merge_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, struct json_t *payload,
                    int64_t *employer_id, hpf_err *err);
int svc_merge_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                       struct json_t *payload, hpf_err *err);
int svc_merge_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                      struct json_t *payload, char **result, hpf_err *err);
/* Close member `member_id` into terminal `to_state` ("03", "04") through business `biz` (A.5
 * code): state, closed_on and its history row (citytransfer.c). The caller holds the row lock
 * and records the member.state_changed audit entry. */
int svc_member_close(hpf_db *db, int64_t member_id, const char *to_state, const char *biz,
                     const char *reason, hpf_day today, int64_t actor, hpf_err *err);

/* ---- personal fields (member.c; docs/internals/crypto.md) ---- */

#define SVC_LOGIN_KEY_MAX 72

/* The app_user.username a typed login name is stored under: for a valid resident ID, "m:" + its
 * blind index (members log in with it; no table holds it in clear), else the name itself.
 * Wherever a login name is stored or compared (lookups, throttles, lockouts), use this key,
 * never the name as typed. */
void svc_login_key(const hpf_svc *svc, const char *username, char out[SVC_LOGIN_KEY_MAX]);

/* Member `member_id`'s resident ID and phone ("" when none), decrypted; either out may be NULL.
 * Returns 0, HPF_ENOTFOUND, HPF_EINTERNAL (a stored value failed its check: logged as a
 * security event; answer 500 without details) or a database error. */
int svc_member_pii(const hpf_svc *svc, hpf_db *db, int64_t member_id, char id_number[19],
                   char phone[16], hpf_err *err);

#endif
