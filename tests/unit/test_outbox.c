/* Unit tests for store/outbox on a temporary SQLite file: enqueue (one row per key), claim,
 * mark sent, mark failed with back-off and death, operator retry, list and stats. */
#include "base/err.h"
#include "base/log.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/outbox.h"

#include "tmpstore.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tmp_store ts;
static hpf_store *store;
static hpf_db *db;

static void setup(void)
{
    tmp_store_open(&ts, "outbox");
    store = ts.store;
    db = ts.db;
}

static void teardown(void)
{
    tmp_store_close(&ts);
    store = NULL;
    db = NULL;
}

TestSuite(outbox, .init = setup, .fini = teardown);

/* Enqueue in a transaction of its own; returns the id. */
static int64_t enqueue(const char *key, const char *payload)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t id = 0;
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", key, payload, &id, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0, "%s", err.msg);
    return id;
}

static int64_t count_rows(void)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t n = -1;
    cr_assert_eq(hpf_db_query_i64(db, &n, "SELECT count(*) FROM outbox", &err), 0, "%s", err.msg);
    return n;
}

static hpf_outbox_msg get(int64_t id)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_outbox_msg m;
    cr_assert_eq(hpf_outbox_get(db, id, &m, &err), 0, "%s", err.msg);
    return m;
}

/* Claim in a transaction of its own. */
static size_t claim(int64_t now, int64_t hold, size_t max, hpf_outbox_msg **msgs)
{
    hpf_err err = HPF_ERR_INIT;
    size_t n = 0;
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_outbox_claim(db, now, hold, max, msgs, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0, "%s", err.msg);
    return n;
}

Test(outbox, enqueue_twice_with_one_key_keeps_one_row_and_returns_the_first_id)
{
    int64_t a = enqueue("otp-1", "{\"to\":\"13800000000\",\"text\":\"first\"}");
    int64_t b = enqueue("otp-1", "{\"to\":\"13800000000\",\"text\":\"second\"}");
    cr_assert_gt(a, 0);
    cr_assert_eq(b, a);
    cr_assert_eq(count_rows(), 1);
    hpf_outbox_msg m = get(a);
    cr_assert_str_eq(m.payload, "{\"to\":\"13800000000\",\"text\":\"first\"}");
    cr_assert_eq(m.status, HPF_OUTBOX_QUEUED);
    cr_assert_eq(m.attempts, 0);
    cr_assert_str_eq(m.peer, "sms");
    cr_assert_str_eq(m.topic, "sms.otp");
    hpf_outbox_msg_cleanup(&m);
    cr_assert_neq(enqueue("otp-2", "{}"), a);
    cr_assert_eq(count_rows(), 2);
}

Test(outbox, enqueue_refuses_bad_names_keys_and_payloads)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", "k", "[1]", NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "outbox.payload");
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", "k", "{", NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", "", "{}", NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "outbox.key");
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", "a key", "{}", NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_outbox_enqueue(db, "SMS", "sms.otp", "k", "{}", NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "outbox.peer");
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "", "k", "{}", NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "outbox.topic");
    hpf_db_rollback(db);
    cr_assert_eq(count_rows(), 0);
}

Test(outbox, a_rolled_back_transaction_leaves_no_message)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_outbox_enqueue(db, "sms", "sms.otp", "k", "{}", NULL, &err), 0);
    hpf_db_rollback(db);
    cr_assert_eq(count_rows(), 0);
}

Test(outbox, claim_takes_due_messages_once_and_holds_them)
{
    int64_t a = enqueue("a", "{}"), b = enqueue("b", "{}");
    int64_t now = (int64_t)time(NULL) + 1;
    hpf_outbox_msg *msgs = NULL;
    size_t n = claim(now, 60, 10, &msgs);
    cr_assert_eq(n, 2);
    cr_assert_eq(msgs[0].id, a);
    cr_assert_eq(msgs[1].id, b);
    cr_assert_eq(msgs[0].attempts, 1);
    cr_assert_eq(msgs[0].next_at, now + 60);
    cr_assert_str_eq(msgs[0].idem_key, "a");
    hpf_outbox_msgs_free(msgs, n);
    /* held: nothing is due until the hold runs out */
    cr_assert_eq(claim(now + 59, 60, 10, &msgs), 0);
    cr_assert_null(msgs);
    n = claim(now + 60, 60, 1, &msgs); /* max 1: the oldest */
    cr_assert_eq(n, 1);
    cr_assert_eq(msgs[0].id, a);
    cr_assert_eq(msgs[0].attempts, 2);
    hpf_outbox_msgs_free(msgs, n);
}

Test(outbox, a_message_is_not_due_before_its_time)
{
    enqueue("a", "{}");
    hpf_outbox_msg *msgs = NULL;
    cr_assert_eq(claim((int64_t)time(NULL) - 5, 60, 10, &msgs), 0);
}

Test(outbox, mark_sent_keeps_the_reply_and_happens_once)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t a = enqueue("a", "{}");
    bool marked = false;
    cr_assert_eq(hpf_outbox_mark_sent(db, a, "{\"message_id\":\"sms-1\"}", 1234, &marked, &err), 0);
    cr_assert(marked);
    hpf_outbox_msg m = get(a);
    cr_assert_eq(m.status, HPF_OUTBOX_SENT);
    cr_assert_str_eq(m.reply, "{\"message_id\":\"sms-1\"}");
    cr_assert_eq(m.sent_at, 1234);
    hpf_outbox_msg_cleanup(&m);
    /* a second delivery's record changes nothing */
    cr_assert_eq(hpf_outbox_mark_sent(db, a, "{\"other\":1}", 9999, &marked, &err), 0);
    cr_assert(!marked);
    m = get(a);
    cr_assert_str_eq(m.reply, "{\"message_id\":\"sms-1\"}");
    cr_assert_eq(m.sent_at, 1234);
    hpf_outbox_msg_cleanup(&m);
    /* sent messages are never claimed */
    hpf_outbox_msg *msgs = NULL;
    cr_assert_eq(claim((int64_t)time(NULL) + 1000, 60, 10, &msgs), 0);
}

Test(outbox, backoff_doubles_with_equal_jitter_up_to_the_cap)
{
    cr_assert_eq(hpf_outbox_backoff(1, 0), 1);
    cr_assert_eq(hpf_outbox_backoff(1, 0xffffffffu), 1);
    cr_assert_eq(hpf_outbox_backoff(2, 0), 2);
    cr_assert_eq(hpf_outbox_backoff(2, 1), 1);
    cr_assert_eq(hpf_outbox_backoff(3, 0), 4);
    cr_assert_eq(hpf_outbox_backoff(3, 2), 2);
    cr_assert_eq(hpf_outbox_backoff(3, 3), 4); /* 3 % 3 = 0 */
    cr_assert_eq(hpf_outbox_backoff(9, 0), 256);
    cr_assert_eq(hpf_outbox_backoff(10, 0), HPF_OUTBOX_BACKOFF_CAP);
    cr_assert_eq(hpf_outbox_backoff(1000, 0), HPF_OUTBOX_BACKOFF_CAP);
    cr_assert_eq(hpf_outbox_backoff(0, 0), 1);
    /* every attempt's wait lies in [ceil(d/2), d], and the jitter reaches both ends */
    for (int64_t a = 1; a <= 40; a++) {
        int64_t d = a - 1 < 9 ? (int64_t)1 << (a - 1) : HPF_OUTBOX_BACKOFF_CAP;
        int64_t lo = d, hi = 0;
        for (uint32_t r = 0; r <= 400; r++) {
            int64_t w = hpf_outbox_backoff(a, r);
            cr_assert_geq(w, (d + 1) / 2, "attempt %lld wait %lld", (long long)a, (long long)w);
            cr_assert_leq(w, d, "attempt %lld wait %lld", (long long)a, (long long)w);
            lo = w < lo ? w : lo;
            hi = w > hi ? w : hi;
        }
        cr_assert_eq(lo, (d + 1) / 2);
        cr_assert_eq(hi, d);
    }
}

Test(outbox, a_failure_backs_off_and_the_tenth_makes_the_message_dead)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t a = enqueue("a", "{}");
    int64_t now = (int64_t)time(NULL);
    bool dead = true;
    int64_t next = 0;
    for (int64_t attempt = 1; attempt < HPF_OUTBOX_MAX_ATTEMPTS; attempt++) {
        hpf_outbox_msg *msgs = NULL;
        cr_assert_eq(claim(now, 60, 10, &msgs), 1);
        cr_assert_eq(msgs[0].attempts, attempt);
        hpf_outbox_msgs_free(msgs, 1);
        cr_assert_eq(
            hpf_outbox_mark_failed(db, a, attempt, "503 from peer", false, now, &dead, &next, &err),
            0, "%s", err.msg);
        cr_assert(!dead);
        int64_t d = attempt - 1 < 9 ? (int64_t)1 << (attempt - 1) : HPF_OUTBOX_BACKOFF_CAP;
        cr_assert_geq(next - now, (d + 1) / 2);
        cr_assert_leq(next - now, d);
        hpf_outbox_msg m = get(a);
        cr_assert_eq(m.status, HPF_OUTBOX_QUEUED);
        cr_assert_eq(m.next_at, next);
        cr_assert_str_eq(m.last_error, "503 from peer");
        hpf_outbox_msg_cleanup(&m);
        now = next;
    }
    hpf_outbox_msg *msgs = NULL;
    cr_assert_eq(claim(now, 60, 10, &msgs), 1);
    cr_assert_eq(msgs[0].attempts, HPF_OUTBOX_MAX_ATTEMPTS);
    hpf_outbox_msgs_free(msgs, 1);
    cr_assert_eq(hpf_outbox_mark_failed(db, a, HPF_OUTBOX_MAX_ATTEMPTS, "timeout", false, now,
                                        &dead, &next, &err),
                 0);
    cr_assert(dead);
    hpf_outbox_msg m = get(a);
    cr_assert_eq(m.status, HPF_OUTBOX_DEAD);
    cr_assert_str_eq(m.last_error, "timeout");
    hpf_outbox_msg_cleanup(&m);
    cr_assert_eq(claim(now + 100000, 60, 10, &msgs), 0);
}

Test(outbox, a_refused_message_is_dead_at_once)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t a = enqueue("a", "{}");
    bool dead = false;
    cr_assert_eq(hpf_outbox_mark_failed(db, a, 1, "400 bad number", true, 100, &dead, NULL, &err),
                 0);
    cr_assert(dead);
    hpf_outbox_msg m = get(a);
    cr_assert_eq(m.status, HPF_OUTBOX_DEAD);
    hpf_outbox_msg_cleanup(&m);
}

Test(outbox, retry_requeues_dead_and_queued_messages_but_not_sent_ones)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t a = enqueue("a", "{}"), b = enqueue("b", "{}"), c = enqueue("c", "{}");
    int64_t now = (int64_t)time(NULL);
    hpf_outbox_msg *msgs = NULL;
    cr_assert_eq(claim(now, 60, 10, &msgs), 3);
    hpf_outbox_msgs_free(msgs, 3);
    cr_assert_eq(hpf_outbox_mark_failed(db, a, 1, "refused", true, now, NULL, NULL, &err), 0);
    cr_assert_eq(hpf_outbox_mark_sent(db, b, "{}", now, NULL, &err), 0);
    /* c is still held by its claim: a retry makes it due now */
    cr_assert_eq(hpf_outbox_retry(db, c, now, &err), 0);
    hpf_outbox_msg m = get(c);
    cr_assert_eq(m.status, HPF_OUTBOX_QUEUED);
    cr_assert_eq(m.next_at, now);
    cr_assert_eq(m.attempts, 1);
    hpf_outbox_msg_cleanup(&m);
    /* a dead one is queued again and its attempts start over */
    cr_assert_eq(hpf_outbox_retry(db, a, now, &err), 0);
    m = get(a);
    cr_assert_eq(m.status, HPF_OUTBOX_QUEUED);
    cr_assert_eq(m.attempts, 0);
    cr_assert_str_eq(m.last_error, "refused");
    hpf_outbox_msg_cleanup(&m);
    cr_assert_eq(hpf_outbox_retry(db, b, now, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "outbox.already_sent");
    cr_assert_eq(hpf_outbox_retry(db, 999, now, &err), HPF_ENOTFOUND);
    cr_assert_eq(claim(now, 60, 10, &msgs), 2);
    hpf_outbox_msgs_free(msgs, 2);
}

Test(outbox, list_is_newest_first_by_status_and_stats_count_queued_and_due)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t a = enqueue("a", "{}"), b = enqueue("b", "{}"), c = enqueue("c", "{}");
    int64_t now = (int64_t)time(NULL);
    cr_assert_eq(hpf_outbox_mark_sent(db, b, "{\"ok\":true}", now, NULL, &err), 0);
    hpf_outbox_msg *msgs = NULL;
    size_t n = 0;
    cr_assert_eq(hpf_outbox_list(db, false, HPF_OUTBOX_QUEUED, 10, &msgs, &n, &err), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(msgs[0].id, c);
    cr_assert_eq(msgs[2].id, a);
    cr_assert_eq(msgs[1].status, HPF_OUTBOX_SENT);
    cr_assert_str_eq(msgs[1].reply, "{\"ok\":true}");
    hpf_outbox_msgs_free(msgs, n);
    cr_assert_eq(hpf_outbox_list(db, true, HPF_OUTBOX_QUEUED, 1, &msgs, &n, &err), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(msgs[0].id, c);
    hpf_outbox_msgs_free(msgs, n);
    int64_t queued = -1, due = -1;
    cr_assert_eq(hpf_outbox_stats(db, now, &queued, &due, &err), 0);
    cr_assert_eq(queued, 2);
    cr_assert_eq(due, 2);
    cr_assert_eq(claim(now, 60, 1, &msgs), 1); /* a is held now */
    hpf_outbox_msgs_free(msgs, 1);
    cr_assert_eq(hpf_outbox_stats(db, now, &queued, &due, &err), 0);
    cr_assert_eq(queued, 2);
    cr_assert_eq(due, 1);
}
