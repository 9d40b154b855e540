#include "store/outbox.h"

#include "base/mem.h"
#include "base/rand.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The columns every reader takes, in this order (see read_row). */
#define COLS                                                                                       \
    "id, peer, topic, idem_key, status, attempts, next_at, created_at, coalesce(sent_at, 0),"      \
    " payload, last_error, coalesce(reply, '')"

static const char *const status_names[] = {"queued", "sent", "dead"};

const char *hpf_outbox_status_name(hpf_outbox_status s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "?";
}

int hpf_outbox_status_parse(hpf_outbox_status *out, const char *s)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
        if (s && !strcmp(s, status_names[i])) {
            *out = (hpf_outbox_status)i;
            return 0;
        }
    return HPF_EINVAL;
}

/* Names go into metric labels and file names of logs: keep them to a small safe alphabet. */
static bool name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Keys travel in an HTTP header: printable ASCII without spaces. */
static bool key_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > HPF_OUTBOX_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

int hpf_outbox_enqueue(hpf_db *db, const char *peer, const char *topic, const char *idem_key,
                       const char *payload_json, int64_t *id, hpf_err *err)
{
    if (!name_ok(peer, HPF_OUTBOX_PEER_MAX))
        return hpf_err_field(err, HPF_EINVAL, "peer", "outbox.peer",
                             "outbox peer must be 1..%d characters of a-z 0-9 . _ -",
                             HPF_OUTBOX_PEER_MAX);
    if (!name_ok(topic, HPF_OUTBOX_TOPIC_MAX))
        return hpf_err_field(err, HPF_EINVAL, "topic", "outbox.topic",
                             "outbox topic must be 1..%d characters of a-z 0-9 . _ -",
                             HPF_OUTBOX_TOPIC_MAX);
    if (!key_ok(idem_key))
        return hpf_err_field(err, HPF_EINVAL, "idem_key", "outbox.key",
                             "outbox idempotency key must be 1..%d printable characters",
                             HPF_OUTBOX_KEY_MAX);
    size_t plen = payload_json ? strlen(payload_json) : 0;
    if (plen == 0 || plen > HPF_OUTBOX_PAYLOAD_MAX)
        return hpf_err_field(err, HPF_EINVAL, "payload", "outbox.payload",
                             "outbox payload must be 1..%d bytes of JSON", HPF_OUTBOX_PAYLOAD_MAX);
    json_t *doc = json_loadb(payload_json, plen, JSON_REJECT_DUPLICATES, NULL);
    bool object = json_is_object(doc);
    json_decref(doc);
    if (!object)
        return hpf_err_field(err, HPF_EINVAL, "payload", "outbox.payload",
                             "outbox payload must be a JSON object");

    int64_t now = (int64_t)time(NULL);
    hpf_stmt *st;
    /* A repeated key inserts nothing and returns no row; the first message's id is read below.
     * On PostgreSQL a concurrent insert of the same key waits for the other transaction. */
    int rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO outbox(peer, topic, idem_key, payload, next_at, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(idem_key) DO NOTHING"
                       " RETURNING id",
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, peer);
    hpf_stmt_bind_text(st, 2, topic);
    hpf_stmt_bind_text(st, 3, idem_key);
    hpf_stmt_bind_text(st, 4, payload_json);
    hpf_stmt_bind_i64(st, 5, now);
    hpf_stmt_bind_i64(st, 6, now);
    rc = hpf_stmt_step(st, err);
    int64_t got = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        rc = hpf_db_prepare(db, &st, "SELECT id FROM outbox WHERE idem_key = ?", err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_text(st, 1, idem_key);
        rc = hpf_stmt_step(st, err);
        got = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        if (rc == 0) /* defensive: the conflicting row must exist in our snapshot */
            return hpf_err_set(err, HPF_EDB, "outbox key %s conflicts but is not visible",
                               idem_key);
    }
    if (id)
        *id = got;
    return 0;
}

void hpf_outbox_msg_cleanup(hpf_outbox_msg *m)
{
    free(m->payload);
    free(m->last_error);
    free(m->reply);
    m->payload = m->last_error = m->reply = NULL;
}

void hpf_outbox_msgs_free(hpf_outbox_msg *msgs, size_t n)
{
    if (!msgs)
        return;
    for (size_t i = 0; i < n; i++)
        hpf_outbox_msg_cleanup(&msgs[i]);
    free(msgs);
}

static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* One row of COLS into *m. */
static void read_row(hpf_stmt *st, hpf_outbox_msg *m)
{
    memset(m, 0, sizeof *m);
    m->id = hpf_stmt_i64(st, 0);
    copy_text(m->peer, sizeof m->peer, hpf_stmt_text(st, 1));
    copy_text(m->topic, sizeof m->topic, hpf_stmt_text(st, 2));
    copy_text(m->idem_key, sizeof m->idem_key, hpf_stmt_text(st, 3));
    hpf_outbox_status s = HPF_OUTBOX_QUEUED;
    (void)hpf_outbox_status_parse(&s, hpf_stmt_text(st, 4)); /* the schema allows no other */
    m->status = s;
    m->attempts = hpf_stmt_i64(st, 5);
    m->next_at = hpf_stmt_i64(st, 6);
    m->created_at = hpf_stmt_i64(st, 7);
    m->sent_at = hpf_stmt_i64(st, 8);
    m->payload = hpf_xstrdup(hpf_stmt_text(st, 9));
    m->last_error = hpf_xstrdup(hpf_stmt_text(st, 10));
    m->reply = hpf_xstrdup(hpf_stmt_text(st, 11));
}

/* Step a prepared and bound statement over its rows into a growing array (at most max). */
static int read_rows(hpf_stmt *st, size_t max, hpf_outbox_msg **msgs, size_t *n, hpf_err *err)
{
    hpf_outbox_msg *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (len == max)
            continue; /* defensive: the SQL has a LIMIT */
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = hpf_xrealloc(v, cap * sizeof *v);
        }
        read_row(st, &v[len++]);
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        hpf_outbox_msgs_free(v, len);
        return rc;
    }
    *msgs = v;
    *n = len;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const hpf_outbox_msg *)a)->id, y = ((const hpf_outbox_msg *)b)->id;
    return (x > y) - (x < y);
}

int hpf_outbox_claim(hpf_db *db, int64_t now, int64_t hold_s, size_t max, hpf_outbox_msg **msgs,
                     size_t *n, hpf_err *err)
{
    *msgs = NULL;
    *n = 0;
    if (max == 0)
        return 0;
    if (max > 1000)
        max = 1000;
    /* One statement picks and moves the rows. On PostgreSQL SKIP LOCKED passes over rows that
     * another server is claiming right now instead of waiting for them (and then finding them
     * no longer due); SQLite has no row locks and needs none behind BEGIN IMMEDIATE. */
    const char *sql = !strcmp(hpf_db_driver(db), "postgres")
                          ? "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id IN"
                            " (SELECT id FROM outbox WHERE status = 'queued' AND next_at <= ?"
                            " ORDER BY next_at, id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING " COLS
                          : "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id IN"
                            " (SELECT id FROM outbox WHERE status = 'queued' AND next_at <= ?"
                            " ORDER BY next_at, id LIMIT ?) RETURNING " COLS;
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, now + hold_s);
    hpf_stmt_bind_i64(st, 2, now);
    hpf_stmt_bind_i64(st, 3, (int64_t)max);
    rc = read_rows(st, max, msgs, n, err);
    if (rc == 0 && *n > 1) /* RETURNING has no order: send oldest first */
        qsort(*msgs, *n, sizeof **msgs, by_id);
    return rc;
}

int hpf_outbox_mark_sent(hpf_db *db, int64_t id, const char *reply_json, int64_t now, bool *marked,
                         hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE outbox SET status = 'sent', reply = ?, sent_at = ?,"
                            " next_at = ?, last_error = '' WHERE id = ? AND status = 'queued'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, reply_json ? reply_json : "");
    hpf_stmt_bind_i64(st, 2, now);
    hpf_stmt_bind_i64(st, 3, now); /* a sent message's next_at is when it was sent: retention */
    hpf_stmt_bind_i64(st, 4, id);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc == 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (marked)
        *marked = changed == 1;
    return 0;
}

int64_t hpf_outbox_backoff(int64_t attempts, uint32_t jitter)
{
    int64_t d = HPF_OUTBOX_BACKOFF_CAP;
    if (attempts < 1)
        attempts = 1;
    if (attempts - 1 < 30 && ((int64_t)1 << (attempts - 1)) < d)
        d = (int64_t)1 << (attempts - 1);
    /* equal jitter: half the step is fixed, the other half random */
    int64_t half = d / 2;
    return d - (int64_t)(jitter % (uint32_t)(half + 1));
}

int hpf_outbox_mark_failed(hpf_db *db, int64_t id, int64_t attempts, const char *error,
                           bool permanent, int64_t now, bool *dead, int64_t *next_at, hpf_err *err)
{
    uint32_t r;
    hpf_rand_bytes(&r, sizeof r);
    bool is_dead = permanent || attempts >= HPF_OUTBOX_MAX_ATTEMPTS;
    int64_t when = is_dead ? now : now + hpf_outbox_backoff(attempts, r);
    char msg[512];
    copy_text(msg, sizeof msg, error ? error : "");
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE outbox SET status = ?, next_at = ?, last_error = ?"
                            " WHERE id = ? AND status = 'queued'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, is_dead ? "dead" : "queued");
    hpf_stmt_bind_i64(st, 2, when);
    hpf_stmt_bind_text(st, 3, msg);
    hpf_stmt_bind_i64(st, 4, id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (dead)
        *dead = is_dead;
    if (next_at)
        *next_at = when;
    return 0;
}

int hpf_outbox_list(hpf_db *db, bool filter, hpf_outbox_status status, size_t limit,
                    hpf_outbox_msg **msgs, size_t *n, hpf_err *err)
{
    *msgs = NULL;
    *n = 0;
    if (limit < 1)
        limit = 1;
    if (limit > 1000)
        limit = 1000;
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            filter ? "SELECT " COLS " FROM outbox WHERE status = ?"
                                     " ORDER BY id DESC LIMIT ?"
                                   : "SELECT " COLS " FROM outbox ORDER BY id DESC LIMIT ?",
                            err);
    if (rc < 0)
        return rc;
    int i = 1;
    if (filter)
        hpf_stmt_bind_text(st, i++, hpf_outbox_status_name(status));
    hpf_stmt_bind_i64(st, i, (int64_t)limit);
    return read_rows(st, limit, msgs, n, err);
}

int hpf_outbox_get(hpf_db *db, int64_t id, hpf_outbox_msg *out, hpf_err *err)
{
    hpf_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = hpf_db_prepare(db, &st, "SELECT " COLS " FROM outbox WHERE id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        read_row(st, out);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_field(err, HPF_ENOTFOUND, "id", "outbox.not_found", "no outbox message %lld",
                             (long long)id);
    return 0;
}

int hpf_outbox_retry(hpf_db *db, int64_t id, int64_t now, hpf_err *err)
{
    hpf_outbox_msg m;
    int rc = hpf_outbox_get(db, id, &m, err);
    if (rc < 0)
        return rc;
    hpf_outbox_status s = m.status;
    hpf_outbox_msg_cleanup(&m);
    if (s == HPF_OUTBOX_SENT)
        return hpf_err_field(err, HPF_ECONFLICT, "id", "outbox.already_sent",
                             "outbox message %lld was sent already", (long long)id);
    hpf_stmt *st;
    /* A dead message starts its count again, or its next failure would kill it at once. */
    rc = hpf_db_prepare(db, &st,
                        "UPDATE outbox SET status = 'queued', next_at = ?,"
                        " attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END"
                        " WHERE id = ? AND status <> 'sent'",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, now);
    hpf_stmt_bind_i64(st, 2, id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_outbox_purge(hpf_db *db, int64_t before, int64_t max, int64_t *n, hpf_err *err)
{
    hpf_stmt *st;
    *n = 0;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE outbox SET payload = '{}', reply = NULL, next_at = 0"
                            " WHERE id IN (SELECT id FROM outbox WHERE status = 'sent'"
                            " AND next_at > 0 AND next_at <= ? LIMIT ?)",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, before);
    hpf_stmt_bind_i64(st, 2, max);
    rc = hpf_stmt_step(st, err);
    if (rc >= 0)
        *n = hpf_stmt_changes(st);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_outbox_stats(hpf_db *db, int64_t now, int64_t *queued, int64_t *due, hpf_err *err)
{
    hpf_stmt *st;
    /* Both figures come from the (status, next_at) index alone: O(queued rows), not O(table). */
    int rc = hpf_db_prepare(db, &st,
                            "SELECT count(*), coalesce(sum(CASE WHEN next_at <= ? THEN 1 ELSE 0"
                            " END), 0) FROM outbox WHERE status = 'queued'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, now);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *queued = hpf_stmt_i64(st, 0);
        *due = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0) /* defensive: an aggregate always has a row */
        *queued = *due = 0;
    return 0;
}
