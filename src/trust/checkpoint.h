/*
 * trust/checkpoint: signed daily checkpoints of the audit chain, verification codes for the
 * documents it records, and inclusion proofs (RULES 11.3; docs/internals/audit.md, "Signatures
 * and checkpoints").
 *
 * A checkpoint covers the entries of one closed day in the centre's time zone (Asia/Shanghai,
 * UTC+8, no daylight saving) as a contiguous seq range, following the range of the checkpoint
 * before it without a gap: first_seq = previous last_seq + 1, last_seq = the entry before the
 * first one stamped after the day's end. Its root is the Merkle tree hash of RFC 6962 with SM3
 * over the entries' hashes in seq order: leaf = SM3(0x00 || entry hash), node = SM3(0x01 ||
 * left || right), a last odd node promoted to the level above. The centre's SM2 seal key signs
 * the text "hpf-checkpoint/1|CENTRE|YYYYMMDD|FIRST|LAST|LEAVES|ROOT"; the row is stored in
 * audit_checkpoint and recorded in the chain itself as an "audit.checkpoint" entry, so that the
 * next day's checkpoint covers it. The same transaction enqueues the root for the notary
 * (outbox peer "notary", topic "notary.anchor"), whose receipt hpf_checkpoint_record_anchor
 * keeps.
 *
 * A verification code names the audit entry that recorded a document: "SEQ-xxxx-xxxx-xxxx-xxxx",
 * SEQ the entry's chain position and the 16 hex its hash's first 64 bits, so a code cannot be
 * guessed from another one.
 */
#ifndef HPF_TRUST_CHECKPOINT_H
#define HPF_TRUST_CHECKPOINT_H

#include "base/date.h"
#include "base/err.h"
#include "store/db.h"
#include "trust/digest.h"
#include "trust/sm2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_CHECKPOINT_TAG      "hpf-checkpoint/1"
#define HPF_AUDIT_CHECKPOINT    "audit.checkpoint" /* the chain entry of a checkpoint */
#define HPF_CENTRE_UTC_OFFSET_S (8 * 3600)         /* Asia/Shanghai: UTC+8 all year */
/* A day counts as closed this long after its end by the wall clock, so that an entry stamped
 * just before midnight by a server whose clock runs slightly behind is still in it. */
#define HPF_CHECKPOINT_SETTLE_S 120

/* ---- Merkle trees (RFC 6962 shape, SM3) ---- */

#define HPF_MERKLE_MAX_DEPTH 64

/* A tree hash built leaf by leaf in O(log n) memory. */
typedef struct hpf_merkle {
    hpf_sm3 *sm3; /* borrowed */
    unsigned char node[HPF_MERKLE_MAX_DEPTH][HPF_SM3_LEN];
    int level[HPF_MERKLE_MAX_DEPTH]; /* complete subtrees on a stack, largest first */
    int n;
    int64_t leaves;
} hpf_merkle;

void hpf_merkle_init(hpf_merkle *m, hpf_sm3 *sm3);
/* Add the leaf for an entry hash (32 raw bytes). */
void hpf_merkle_add(hpf_merkle *m, const unsigned char entry_hash[HPF_SM3_LEN]);
/* The root of the leaves added so far (SM3 of nothing for none); m can take more leaves after. */
void hpf_merkle_root(const hpf_merkle *m, unsigned char out[HPF_SM3_LEN]);

/* One step of an inclusion proof, from the leaf up: the sibling hash and the side it is on. */
typedef struct hpf_proof_step {
    bool left;     /* hash goes left of the running value: SM3(0x01 || hash || value) */
    char hash[65]; /* hex */
} hpf_proof_step;

/* ---- checkpoints ---- */

typedef struct hpf_checkpoint {
    hpf_day day;
    char centre[8];
    int64_t first_seq, last_seq, leaves;
    char root[65];
    char signature[HPF_SM2_SIG_HEX];
    char key_id[HPF_SM2_KEY_ID_LEN + 1];
    char created_at[32];
    char anchored_at[32];      /* "" until the notary answered */
    char anchor_receipt[1024]; /* the notary's receipt (JSON), "" until then */
} hpf_checkpoint;

/* The signed text of a checkpoint into out (NUL-terminated). Returns its length. */
size_t hpf_checkpoint_text(const hpf_checkpoint *c, char *out, size_t n);

/* The centre-time-zone day of an audit timestamp 'YYYY-MM-DDTHH:MM:SS...Z'; 0 when it is not one.
 */
hpf_day hpf_checkpoint_day_of(const char *at);
/* The last closed day at unix time `now` (wall clock): yesterday in the centre's time zone, once
 * HPF_CHECKPOINT_SETTLE_S have passed since midnight. */
hpf_day hpf_checkpoint_closed_through(int64_t now);

/* True in *due when a day up to `through` has entries that no checkpoint covers yet. Two indexed
 * reads, no writes: for the job's every round. */
int hpf_checkpoint_due(hpf_db *db, hpf_day through, bool *due, hpf_err *err);

/* Checkpoint every day up to and including `through` that has uncovered entries, oldest first,
 * each in its own write transaction, signed with `seal` for centre code `centre`. Waits first
 * for writers in flight (it takes the chain head's lock for a moment) so that every entry stamped
 * before the day's end is committed. Entries stamped on a day after its checkpoint was made (a
 * `through` later than the clock allows, a clock that ran behind) go into the next checkpoint.
 * Before signing it recomputes every entry's hash and link in the range and refuses to sign a
 * broken chain (HPF_ECONFLICT, rule audit.entry_hash or audit.chain_link). Idempotent: a day
 * already checkpointed, by this process or another, is skipped. *written counts new checkpoints
 * and *last (may be NULL) is the newest one written. Returns 0 or an error. */
int hpf_checkpoint_run(hpf_db *db, const hpf_sm2_key *seal, const char *centre, hpf_day through,
                       int64_t *written, hpf_checkpoint *last, hpf_err *err);

typedef struct hpf_checkpoint_stats {
    int64_t checkpoints; /* rows checked */
    int64_t leaves;      /* entries under them */
    int64_t problems;    /* problems found; the first, in day order, is in err */
    hpf_day first_day, last_day;
    char last_root[65];
} hpf_checkpoint_stats;

/* Check every checkpoint against the chain, in the caller's read transaction: the ranges follow
 * each other from seq 1 without a gap (audit.checkpoint_missing) or an overlap
 * (audit.checkpoint_range), each root recomputes from the entry hashes (audit.checkpoint_root),
 * each signature verifies with a recorded centre key (audit.checkpoint_signature), and each row
 * equals its "audit.checkpoint" chain entry, which must exist for every row and have a row
 * (audit.checkpoint_entry, audit.checkpoint_missing). Run it after hpf_audit_verify: it trusts
 * the stored entry hashes, which that one checks. Returns 0; HPF_ECONFLICT with err naming the
 * first bad checkpoint; or a database error. */
int hpf_checkpoint_verify(hpf_db *db, hpf_checkpoint_stats *stats, hpf_err *err);

/* Record the notary's receipt of day's checkpoint (its reply to the "notary.anchor" message
 * that hpf_checkpoint_run enqueued with the checkpoint, idempotency key "anchor:YYYY-MM-DD"), in
 * the caller's transaction. A checkpoint already anchored, or none for that day, is left as it
 * is (a repeated reply). Returns 0 or a database error. */
int hpf_checkpoint_record_anchor(hpf_db *db, hpf_day day, const char *receipt_json,
                                 const char *anchored_at, hpf_err *err);

/* ---- verification codes and documents ---- */

#define HPF_VCODE_LEN 48 /* room for "SEQ-xxxx-xxxx-xxxx-xxxx" and its NUL */

/* The document types that carry a verification code, and the business key that finds each. */
typedef enum {
    HPF_DOC_REMITTANCE = 1, /* key: the remittance serial; entry remittance.posted */
    HPF_DOC_MEMBER_ACCOUNT, /* key: the member account number (GRZH); entry member.opened */
} hpf_doc_type;

/* "SEQ-xxxx-xxxx-xxxx-xxxx" from an entry's seq and hash (64 hex). Returns out. */
char *hpf_vcode_format(char out[HPF_VCODE_LEN], int64_t seq, const char *hash);
/* Parse a code (hex in either case; nothing else around it): seq and the 16 hex in lower case.
 * Returns 0 or HPF_EINVAL (field /code, rule document.code_format). */
int hpf_vcode_parse(const char *code, int64_t *seq, char hex16[17], hpf_err *err);
/* The code of the document with business key `key`: from the first entry that recorded it.
 * Returns 0, HPF_ENOTFOUND (no such document, or it predates the chain) or a database error. */
int hpf_vcode_lookup(hpf_db *db, hpf_doc_type type, const char *key, char out[HPF_VCODE_LEN],
                     hpf_err *err);

#define HPF_PROOF_MAX HPF_MERKLE_MAX_DEPTH

/* What the chain says about a document: no personal data, only where and when it was recorded
 * and how to check that against a signed checkpoint. */
typedef struct hpf_document {
    int64_t seq;
    const char *kind; /* "remittance", "member_account" (static) */
    char recorded_at[32];
    char entry_hash[65];
    bool entry_ok; /* the entry's hash recomputes from its fields and links to the one before */
    bool checkpointed;
    hpf_checkpoint cp;  /* when checkpointed */
    int64_t leaf_index; /* seq - cp.first_seq */
    int nproof;
    hpf_proof_step proof[HPF_PROOF_MAX];
    bool root_ok;      /* the proof leads from the entry to cp.root */
    bool signature_ok; /* cp's signature verifies with its recorded centre key */
    bool authentic;    /* entry_ok, and root_ok and signature_ok when checkpointed */
} hpf_document;

/* Look a verification code up, in the caller's read transaction. Returns 0 with *out filled;
 * HPF_EINVAL for a malformed code (document.code_format, field /code); HPF_ENOTFOUND (rule
 * document.unknown) for a code that names no document: no such entry, another hash, an entry
 * that records no document; or a database error. */
int hpf_document_check(hpf_db *db, const char *code, hpf_document *out, hpf_err *err);

#endif
