/*
 * store/outbox: the transactional outbox (ARCHITECTURE section 2, rule 3). A business action
 * that must tell the outside world (an SMS one-time code, a notary anchoring, later bank
 * payments) enqueues a message in the same transaction as its business record: either both are
 * committed or neither. The dispatcher in jobs/ sends queued messages through peers/ and hands
 * each reply to the handler registered for the message's topic, in its own transaction.
 *
 * Delivery is at least once; the message's idempotency key travels with it so that the peer can
 * drop repeats. Messages are never deleted by business code; a sent or dead message stays for
 * the record (a housekeeping job may purge old sent ones).
 *
 * Life of a message: queued (attempts 0, due at once) -> claimed by one dispatcher (attempts + 1,
 * next_at moved past the time its send can take, so no other server sends it meanwhile) ->
 * sent (with the peer's reply), or queued again with a back-off, or dead (the peer refused it,
 * or HPF_OUTBOX_MAX_ATTEMPTS sends failed). An operator can requeue a queued or dead message
 * (`hpf outbox retry`). Every function here runs inside the caller's open transaction; times are
 * unix seconds of the wall clock (this is transport timing, not a business date).
 */
#ifndef HPF_STORE_OUTBOX_H
#define HPF_STORE_OUTBOX_H

#include "base/err.h"
#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_OUTBOX_PEER_MAX    31    /* longest peer name */
#define HPF_OUTBOX_TOPIC_MAX   63    /* longest topic */
#define HPF_OUTBOX_KEY_MAX     127   /* longest idempotency key */
#define HPF_OUTBOX_PAYLOAD_MAX 65536 /* largest payload, bytes of JSON */
/* A payload that carries personal data or a secret (an SMS code and its phone number) is
 * sealed by the enqueuer: {"sealed": TEXT}, TEXT being trust/fieldcrypt's encryption of the
 * real payload for this field with the message's idempotency key as context. The dispatcher
 * opens it just before sending; the database holds only the sealed text. */
#define HPF_OUTBOX_SEALED_FIELD "outbox.payload"
#define HPF_OUTBOX_MAX_ATTEMPTS 10  /* sends before a message is dead */
#define HPF_OUTBOX_BACKOFF_CAP  300 /* longest wait between two sends, seconds */

/* Enqueue one message for `peer` ("sms", "notary", ...) with `topic` ("sms.otp",
 * "notary.anchor", ...) and a JSON payload (copied), inside the caller's open write transaction.
 * `idem_key` is unique per message: enqueueing the same key again is a no-op that returns 0 with
 * *id set to the first message's id (id may be NULL). Returns 0, HPF_EINVAL (empty peer, topic
 * or key; payload not a JSON object) or a database error. */
int hpf_outbox_enqueue(hpf_db *db, const char *peer, const char *topic, const char *idem_key,
                       const char *payload_json, int64_t *id, hpf_err *err);

typedef enum {
    HPF_OUTBOX_QUEUED = 0,
    HPF_OUTBOX_SENT = 1,
    HPF_OUTBOX_DEAD = 2,
} hpf_outbox_status;

/* "queued", "sent", "dead". */
const char *hpf_outbox_status_name(hpf_outbox_status s);
/* Parse a status name; returns 0 or HPF_EINVAL. */
int hpf_outbox_status_parse(hpf_outbox_status *out, const char *s);

/* One message. The strings are owned by the message (free with hpf_outbox_msgs_free). */
typedef struct hpf_outbox_msg {
    int64_t id;
    char peer[HPF_OUTBOX_PEER_MAX + 1];
    char topic[HPF_OUTBOX_TOPIC_MAX + 1];
    char idem_key[HPF_OUTBOX_KEY_MAX + 1];
    hpf_outbox_status status;
    int64_t attempts;
    int64_t next_at;
    int64_t created_at;
    int64_t sent_at; /* 0 until sent */
    char *payload;   /* JSON object text */
    char *last_error;
    char *reply; /* JSON text, "" until sent */
} hpf_outbox_msg;

/* Free an array of n messages (and each one's strings). Accepts NULL. */
void hpf_outbox_msgs_free(hpf_outbox_msg *msgs, size_t n);
/* Free the strings of one message (not the message itself); it may be read into again. */
void hpf_outbox_msg_cleanup(hpf_outbox_msg *m);

/* Claim up to `max` queued messages due at `now` (next_at <= now), oldest first: each gets
 * attempts + 1 and next_at = now + hold_s, where hold_s must exceed the time the caller may take
 * to send them all (a dispatcher that dies mid-send thereby releases them after hold_s). On
 * PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so concurrent claimers never get
 * the same row and never wait for each other; SQLite has one writer at a time anyway. The
 * caller commits before sending. *msgs is malloc'd (NULL when *n is 0). Returns 0 or a database
 * error. */
int hpf_outbox_claim(hpf_db *db, int64_t now, int64_t hold_s, size_t max, hpf_outbox_msg **msgs,
                     size_t *n, hpf_err *err);

/* Mark message `id` sent at `now` with the peer's reply (JSON text, copied; "" when none). Only a
 * queued message changes: *marked (may be NULL) is false when it was already sent or dead (a
 * repeat delivery: the caller must not apply the reply twice). Returns 0 or a database error. */
int hpf_outbox_mark_sent(hpf_db *db, int64_t id, const char *reply_json, int64_t now, bool *marked,
                         hpf_err *err);

/* Record a failed send of message `id` whose attempts counter is `attempts`: keep `error` as
 * last_error; when `permanent` (the peer refused the message itself) or attempts reached
 * HPF_OUTBOX_MAX_ATTEMPTS it becomes dead, else it is due again at now + hpf_outbox_backoff().
 * *dead and *next_at (each may be NULL) tell which. Only a queued message changes. Returns 0 or
 * a database error. */
int hpf_outbox_mark_failed(hpf_db *db, int64_t id, int64_t attempts, const char *error,
                           bool permanent, int64_t now, bool *dead, int64_t *next_at, hpf_err *err);

/* The wait in seconds before the next send after `attempts` failed ones (1, 2, ...): the
 * exponential step d = min(2^(attempts-1), HPF_OUTBOX_BACKOFF_CAP) with "equal jitter": a value
 * in [ceil(d/2), d] chosen by `jitter` (any 32-bit random number), so that messages that failed
 * together do not come back together. Pure. */
int64_t hpf_outbox_backoff(int64_t attempts, uint32_t jitter);

/* Messages newest first: all, or those with `status` when filter is true; at most `limit`
 * (1..1000). *msgs is malloc'd. Returns 0 or a database error. */
int hpf_outbox_list(hpf_db *db, bool filter, hpf_outbox_status status, size_t limit,
                    hpf_outbox_msg **msgs, size_t *n, hpf_err *err);

/* Read one message into *out (free its strings with hpf_outbox_msg_cleanup).
 * Returns 0, HPF_ENOTFOUND or a database error. */
int hpf_outbox_get(hpf_db *db, int64_t id, hpf_outbox_msg *out, hpf_err *err);

/* Operator requeue: a queued message becomes due at `now`; a dead one is queued again with its
 * attempts reset to 0 (last_error kept until the next send). Returns 0, HPF_ENOTFOUND, or
 * HPF_ECONFLICT (rule outbox.already_sent) for a sent message. */
int hpf_outbox_retry(hpf_db *db, int64_t id, int64_t now, hpf_err *err);

/* Retention: wipe the contents of up to `max` messages sent at or before `before` (unix
 * seconds; a sent message's next_at is its sent_at, so this reads the (status, next_at) index): the
 * payload becomes "{}" and the reply NULL; the row stays, so its idempotency key still turns a
 * late repeat into a no-op and the record of what went to whom and when remains. A sealed SMS
 * code or a phone number need not outlive its use. A wiped message has next_at 0, which keeps
 * it out of the (status, next_at) range the next purge reads: each purge reads only what it
 * wipes. Dead messages are kept whole (an operator may retry them). *n counts the wiped ones.
 * Returns 0 or a database error. */
int hpf_outbox_purge(hpf_db *db, int64_t before, int64_t max, int64_t *n, hpf_err *err);

/* Queue figures for the dispatcher's poll and the gauge, in one indexed read: *queued counts
 * queued messages, *due those due at `now`. Returns 0 or a database error. */
int hpf_outbox_stats(hpf_db *db, int64_t now, int64_t *queued, int64_t *due, hpf_err *err);

#endif
