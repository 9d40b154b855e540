/*
 * trust/audit: the tamper-evident audit chain (RULES 11.2, 11.3). Every business record and
 * every session event is appended, inside the transaction that writes it, to one global hash
 * chain (table audit_log): entry n holds hash_n = SM3(hash_{n-1} || canonical bytes of entry n),
 * with hash_0 = 32 zero bytes. The entry's payload is the canonical form of the record it is
 * about (fixed field order, pipe-separated, amounts in fen, dates YYYYMMDD); for a remittance it
 * also carries the voucher with its lines and a digest of its postings.
 *
 * hpf_audit_verify recomputes the chain and, for every audited record, the payload from the
 * rows as they are now, and names the first changed, deleted, inserted or reordered row, of the
 * chain or of the records it covers. Formats and the threat model: docs/internals/audit.md.
 *
 * Appends run inside the caller's write transaction (same hpf_db, same commit). The chain head
 * (table audit_head) is taken last, by an UPDATE whose row lock serialises appenders until they
 * commit, so call the append after everything the entry covers is written.
 */
#ifndef HPF_TRUST_AUDIT_H
#define HPF_TRUST_AUDIT_H

#include "base/buf.h"
#include "base/err.h"
#include "store/db.h"
#include "trust/digest.h"

#include <stdbool.h>
#include <stdint.h>

/* Entry kinds: stable strings, added, never renamed. A record kind snapshots a stored record
 * (its payload is recomputed by the verifier); an event kind records something that leaves no
 * row of its own (its payload is checked only as part of the chain). */
#define HPF_AUDIT_EMPLOYER_REGISTERED "employer.registered" /* record: employer */
#define HPF_AUDIT_MEMBER_OPENED       "member.opened"       /* record: member */
#define HPF_AUDIT_USER_CREATED        "user.created"        /* record: app_user */
#define HPF_AUDIT_REMITTANCE_POSTED   "remittance.posted"   /* record: remittance + voucher */
/* A voucher that no remittance owns (the annual interest, a transfer, a merge ...): record, the
 * voucher with its lines and a digest of its postings. voucher.reversed is the same record for a
 * reversal (冲账, ledger/ledger.c), which also names the voucher it reverses. */
#define HPF_AUDIT_VOUCHER_POSTED   "voucher.posted"
#define HPF_AUDIT_VOUCHER_REVERSED "voucher.reversed"
#define HPF_AUDIT_SESSION_LOGIN       "session.login"       /* event on app_user */
#define HPF_AUDIT_SESSION_LOGOUT      "session.logout"      /* event on app_user */
#define HPF_AUDIT_SESSION_EXPIRED     "session.expired"     /* event on app_user */
/* Schema 4 (personal fields encrypted): the upgrade re-snapshots a member, and a member's login
 * (now named by the blind index of the resident ID), whose last snapshot still matched it. */
#define HPF_AUDIT_MEMBER_PROTECTED "member.protected" /* record: member */
#define HPF_AUDIT_USER_PROTECTED   "user.protected"   /* record: app_user */
/* Identity (service/auth.c, service/identity.c; docs/internals/identity.md). */
/* session.step_up: event on app_user, the second factor proven again. user.locked: event on
 * app_user, or on login_throttle for a name that matches no login. */
#define HPF_AUDIT_SESSION_STEP_UP  "session.step_up"
#define HPF_AUDIT_USER_LOCKED      "user.locked"
#define HPF_AUDIT_IDENTITY_VERDICT "identity.verdict" /* event on identity_verdict */
/* A read of a member's personal data by someone other than the member (RULES 11.2; written by
 * service/member.c before the data is answered): event on member, payload
 * "read/1|fields|purpose|authorisation_id|channel". */
#define HPF_AUDIT_MEMBER_READ "member.read"
/* Maker-checker requests (service/approval.c): a snapshot when stored, and again when decided
 * (approved, rejected, withdrawn). */
#define HPF_AUDIT_APPROVAL_SUBMITTED "approval.submitted" /* record: approval */
#define HPF_AUDIT_APPROVAL_DECIDED   "approval.decided"   /* record: approval */
/* An administrator disabled or enabled a login (service/admin.c): record, a new snapshot of the
 * app_user row, whose `disabled` field changed. */
#define HPF_AUDIT_USER_DISABLED "user.disabled"
#define HPF_AUDIT_USER_ENABLED  "user.enabled"
/* The centre's SM2 seal key was replaced (trust/sm2.c): event, payload
 * "seal-rotation/1|old key id|new key id". */
#define HPF_AUDIT_SEAL_ROTATED "keys.seal_rotated"
/* A business changed a member account's state or employer (service/account_state.c: 封存, 启封,
 * 内部转移, 冻结, 解冻; docs/internals/accounts.md): record, a new snapshot of the member, whose
 * state and employer are audited; the business, reason and actor are in member_state_history. */
#define HPF_AUDIT_MEMBER_STATE_CHANGED "member.state_changed"
/* Any other business that changes an audited field of a member (its wage: 基数调整) or of an
 * employer (its ratios: 比例调整; its state: 缓缴): record, a new snapshot of the row; the
 * business itself is in that business's history table. */
#define HPF_AUDIT_MEMBER_CHANGED   "member.changed"
#define HPF_AUDIT_EMPLOYER_CHANGED "employer.changed"

/* Append a snapshot of the record `ref_id` as `kind` (one of the record kinds above) by `actor`
 * (an app_user id; 0 = the system). The payload is computed from the rows as they are in this
 * transaction, so call it after the record, its voucher and its postings are written. Returns 0,
 * HPF_EINTERNAL (not a record kind), HPF_ENOTFOUND (no such record: a bug of the caller) or a
 * database error (HPF_EBUSY: run the whole business action again). */
int hpf_audit_record(hpf_db *db, int64_t actor, const char *kind, int64_t ref_id, hpf_err *err);

/* Whether record `ref_id` of `table` ("member", "app_user") still equals its latest snapshot
 * entry (*same; false when it has none). For the schema 4 upgrade, which re-snapshots a record
 * only when it does: `legacy` (members only; NULL otherwise) gives the clear resident ID and
 * phone ("" for none) that the row held then, for the payload of that time (member/1). Returns
 * 0 or a database error. */
int hpf_audit_unchanged(hpf_db *db, const char *table, int64_t ref_id, const char *const legacy[2],
                        bool *same, hpf_err *err);

/* Append `s` to an event payload as one canonical text field: `\`, `|`, `;` and `,` escaped by
 * a `\`, other control bytes as \xHH (docs/internals/audit.md), so that any field sequence has
 * exactly one encoding. For callers that build their own event payloads. */
void hpf_audit_put_text(hpf_buf *b, const char *s);

/* Append an event about `ref_table` row `ref_id` with the given payload (borrowed; canonical as
 * docs/internals/audit.md describes: "name/1|field|field...", text fields escaped). Same errors
 * as above. */
int hpf_audit_event(hpf_db *db, int64_t actor, const char *kind, const char *ref_table,
                    int64_t ref_id, const char *payload, hpf_err *err);

/* A session event (login, logout, expiry) of login `user_id`, for the session whose token hash
 * (the session table's key, 64 hex) is given: payload "session/1|SID|USER_ID", SID being the
 * first 16 hex of the token hash. */
int hpf_audit_session(hpf_db *db, int64_t actor, const char *kind, int64_t user_id,
                      const char *token_hash, hpf_err *err);

typedef struct hpf_audit_stats {
    int64_t entries;   /* length of the chain */
    int64_t records;   /* audited records compared with their latest entry */
    int64_t postings;  /* postings folded into remittance digests */
    int64_t uncovered; /* records older than the chain (genesis marks), not covered */
    int64_t rows;      /* rows read in all */
    int64_t bytes;     /* bytes hashed with SM3 */
    int64_t problems;  /* problems found; the first in chain order is in err */
    char head[65];     /* hash of the last entry (64 zeros for an empty chain) */
} hpf_audit_stats;

/* Verify the whole chain and every audited record, O(rows), in the caller's read transaction
 * (hpf_db_begin_read: one snapshot). Returns 0 when everything holds; HPF_ECONFLICT with err
 * naming the problem that comes first in chain order (entry seq, record, field; rule
 * audit.entry_missing, audit.chain_link, audit.entry_hash, audit.head, audit.genesis,
 * audit.entry_repeated, audit.record_changed, audit.record_missing or audit.record_unaudited)
 * and stats->problems counting all of them; or a database error. stats is filled in either
 * case. */
int hpf_audit_verify(hpf_db *db, hpf_audit_stats *stats, hpf_err *err);

#define HPF_AUDIT_MAX_JOBS 8

/* The same verification over the store, on up to `jobs` connections in parallel (0: one per
 * processor when the ledger is large enough to gain, else one). The parts read one committed
 * state: each reads the chain head first and they go on only when all saw the same one (every
 * audited write moves it); after five tries under a steady stream of writes it reads in one
 * part. Opens and ends its own read transactions. Same results as hpf_audit_verify. */
int hpf_audit_verify_store(hpf_store *store, int jobs, hpf_audit_stats *stats, hpf_err *err);

/* The hash of an entry with these fields after the entry whose hash is `prev_hash` (64 hex),
 * as the chain computes it, into out (64 hex + NUL). Pure: for readers that check one entry (the
 * public document check) or a range of entries before signing it (trust/checkpoint). `sm3` is a
 * context to reuse, or NULL. Returns false (out untouched) when prev_hash is not 64 hex. */
bool hpf_audit_entry_hash(hpf_sm3 *sm3, const char *prev_hash, int64_t seq, const char *at,
                          int64_t actor, const char *kind, const char *ref_table, int64_t ref_id,
                          const char *payload, char out[65]);

#endif
