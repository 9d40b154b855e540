#include "jobs/dispatch.h"

#include "base/log.h"
#include "base/mem.h"
#include "http/server.h"
#include "peers/transport.h"
#include "service/document.h"
#include "trust/fieldcrypt.h"

#include <jansson.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_POLL_MS 200
#define BATCH           8 /* messages claimed at once */
/* A claim holds its messages for longer than sending all of them can take, plus a margin for
 * the database; after that a dead dispatcher's messages are due again. */
#define HOLD_S (BATCH * (HPF_PEERS_TOTAL_TIMEOUT_MS / 1000) + 30)

/* Reply handlers by topic (service functions; NULL: nothing to do with the reply). A topic not
 * listed needs nothing either: the reply is kept with the message. */
static const struct {
    const char *topic;
    hpf_dispatch_handler fn;
} handlers[] = {
    {"sms.otp", NULL}, /* the gateway's message id is kept in the reply; no business follows */
    {"notary.anchor", hpf_doc_notary_reply}, /* the notary's receipt onto the day's checkpoint */
    /* the transfer platform's answers (service/citytransfer.c) */
    {"citytransfer.901", hpf_xfer_reply},
    {"citytransfer.903", hpf_xfer_reply},
    {"citytransfer.904", hpf_xfer_reply},
    {"citytransfer.905", hpf_xfer_reply},
};

static hpf_dispatch_handler handler_of(const char *topic)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (!strcmp(handlers[i].topic, topic))
            return handlers[i].fn;
    return NULL;
}

struct hpf_dispatch {
    hpf_svc *svc;
    hpf_peers *peers;
    int poll_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
};

static void count(const char *metric, const char *help, const char *peer)
{
    char series[160];
    snprintf(series, sizeof series, "%s{peer=\"%s\"}", metric, peer);
    hpf_http_metric_add(series, help, 1);
}

/* Record a successful send: mark it sent and apply the reply, in one transaction. Returns 0,
 * or an error (nothing of it committed) that the caller records as a failed send. */
static int record_sent(hpf_dispatch *d, hpf_db *db, const hpf_outbox_msg *m, const char *reply,
                       hpf_err *err)
{
    bool marked = false;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_outbox_mark_sent(db, m->id, reply, (int64_t)time(NULL), &marked, err);
    hpf_dispatch_handler fn = handler_of(m->topic);
    /* Not marked: another dispatcher recorded this message already (its claim had expired and
     * it was sent twice; the peer dropped the repeat). Its reply was applied then. */
    if (rc == 0 && marked && fn) {
        rc = fn(d->svc, db, m, reply, err);
        if (rc < 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            hpf_err_set(err, rc, "reply handler of %s: %s", m->topic, why);
        }
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

static void record_failed(hpf_db *db, const hpf_outbox_msg *m, const hpf_err *why, bool permanent)
{
    hpf_err err = HPF_ERR_INIT;
    bool dead = false;
    int64_t next_at = 0;
    int rc = hpf_db_begin(db, &err);
    if (rc == 0)
        rc = hpf_outbox_mark_failed(db, m->id, m->attempts, why->msg, permanent,
                                    (int64_t)time(NULL), &dead, &next_at, &err);
    if (rc == 0)
        rc = hpf_db_commit(db, &err);
    if (rc < 0) {
        hpf_db_rollback(db);
        /* The claim's hold runs out and the message is sent again: nothing is lost. */
        hpf_log(HPF_LOG_WARN, "outbox.record", "message %lld: cannot record the failure: %s",
                (long long)m->id, err.msg);
        return;
    }
    count("hpf_outbox_failed_total", "Outbox sends that failed", m->peer);
    if (dead) {
        count("hpf_outbox_dead_total", "Outbox messages given up (dead)", m->peer);
        hpf_log(HPF_LOG_ERROR, "outbox.dead",
                "message %lld (%s, %s) is dead after %lld attempts: %s", (long long)m->id, m->peer,
                m->topic, (long long)m->attempts, why->msg);
    } else {
        hpf_log(HPF_LOG_WARN, "outbox.retry",
                "message %lld (%s, %s) attempt %lld failed, next in %lld s: %s", (long long)m->id,
                m->peer, m->topic, (long long)m->attempts,
                (long long)(next_at - (int64_t)time(NULL)), why->msg);
    }
}

/* The payload to send: a sealed one opened into `plain` (see store/outbox.h), else as stored.
 * Returns NULL with err set when a sealed payload does not open (a missing key version, or a
 * changed text: the message cannot be sent as it is). */
static const char *open_payload(const hpf_dispatch *d, const hpf_outbox_msg *m, char *plain,
                                size_t n, hpf_err *err)
{
    json_t *o = json_loads(m->payload, 0, NULL);
    const char *sealed = json_string_value(json_object_get(o, "sealed"));
    const char *out = m->payload;
    if (sealed && json_object_size(o) == 1) {
        out = NULL;
        if (!d->svc->keys)
            hpf_err_set(err, HPF_EINTERNAL, "a sealed message needs the field keys");
        else if (hpf_fc_decrypt(d->svc->keys, HPF_OUTBOX_SEALED_FIELD, m->idem_key, sealed, plain,
                                n, err) == 0)
            out = plain;
    }
    json_decref(o);
    return out;
}

static void send_one(hpf_dispatch *d, hpf_db *db, hpf_peers_conn *conn, const hpf_outbox_msg *m)
{
    hpf_peers_reply reply = HPF_PEERS_REPLY_INIT;
    hpf_err err = HPF_ERR_INIT;
    char plain[HPF_FC_PLAIN_MAX + 1];
    const char *payload = open_payload(d, m, plain, sizeof plain, &err);
    int rc =
        payload ? hpf_peers_send(conn, m->peer, m->idem_key, payload, &reply, &err) : HPF_EINVAL;
    hpf_wipe(plain, sizeof plain);
    if (rc == 0) {
        rc = record_sent(d, db, m, reply.body.data, &err);
        if (rc == 0) {
            count("hpf_outbox_sent_total", "Outbox messages sent", m->peer);
            hpf_log(HPF_LOG_DEBUG, "outbox.sent", "message %lld (%s, %s) sent, attempt %lld",
                    (long long)m->id, m->peer, m->topic, (long long)m->attempts);
        } else {
            record_failed(db, m, &err, false);
        }
    } else {
        /* EUNPROC: the peer refused this very message; EINVAL: no such peer in this build. */
        record_failed(db, m, &err, rc == HPF_EUNPROC || rc == HPF_EINVAL);
    }
    hpf_buf_cleanup(&reply.body);
}

/* One poll: the gauge, and when something is due a claim and its sends. Returns the number of
 * messages claimed (BATCH means: look again at once). */
static size_t round_of_sends(hpf_dispatch *d, hpf_db *db, hpf_peers_conn *conn)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t now = (int64_t)time(NULL), queued = 0, due = 0;
    /* A plain read, no write transaction: the idle poll must not queue behind business writes
     * (SQLite has one writer) nor take a lock. */
    if (hpf_outbox_stats(db, now, &queued, &due, &err) < 0) {
        hpf_log(HPF_LOG_WARN, "outbox.poll", "%s", err.msg);
        return 0;
    }
    hpf_http_metric_set("hpf_outbox_queued", "Outbox messages waiting to be sent",
                        (uint64_t)queued);
    if (due == 0)
        return 0;
    hpf_outbox_msg *msgs = NULL;
    size_t n = 0;
    int rc = hpf_db_begin(db, &err);
    if (rc == 0)
        rc = hpf_outbox_claim(db, now, HOLD_S, BATCH, &msgs, &n, &err);
    if (rc == 0)
        rc = hpf_db_commit(db, &err);
    if (rc < 0) {
        hpf_db_rollback(db);
        hpf_outbox_msgs_free(msgs, n);
        if (rc != HPF_EBUSY) /* a busy store is the next poll's business */
            hpf_log(HPF_LOG_WARN, "outbox.claim", "%s", err.msg);
        return 0;
    }
    for (size_t i = 0; i < n && !atomic_load(&d->stop); i++)
        send_one(d, db, conn, &msgs[i]);
    hpf_outbox_msgs_free(msgs, n);
    return n;
}

static void *dispatcher(void *arg)
{
    hpf_dispatch *d = arg;
    hpf_peers_conn *conn = NULL;
    hpf_db *db = NULL;
    hpf_err err = HPF_ERR_INIT;
    pthread_setname_np(pthread_self(), "hpf-outbox"); /* for top -H and /proc */
    if (hpf_peers_conn_new(&conn, d->peers, &err) < 0) {
        hpf_log(HPF_LOG_ERROR, "outbox.start", "dispatcher not running: %s", err.msg);
        return NULL;
    }
    hpf_peers_conn_abort_on(conn, &d->stop);
    while (!atomic_load(&d->stop)) {
        size_t n = 0;
        if (db || hpf_store_conn(d->svc->store, &db, &err) == 0)
            n = round_of_sends(d, db, conn);
        else
            hpf_log(HPF_LOG_WARN, "outbox.db", "%s", err.msg);
        if (n == BATCH)
            continue;
        pthread_mutex_lock(&d->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)d->poll_ms * 1000000L;
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        while (!atomic_load(&d->stop) &&
               pthread_cond_timedwait(&d->cv, &d->mu, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&d->mu);
    }
    hpf_peers_conn_free(conn);
    return NULL;
}

int hpf_dispatch_start(hpf_dispatch **out, hpf_svc *svc, const hpf_dispatch_config *cfg,
                       hpf_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->peers_url || !cfg->peers_url[0]) {
        hpf_log(HPF_LOG_INFO, "outbox.no_peers",
                "no peers URL (--peers, HPF_PEERS): outbox messages stay queued");
        return 0;
    }
    hpf_peers *peers = NULL;
    int rc = hpf_peers_new(&peers, cfg->peers_url, cfg->peers_ca, err);
    if (rc < 0)
        return rc;
    hpf_dispatch *d = hpf_xcalloc(1, sizeof *d);
    d->svc = svc;
    d->peers = peers;
    d->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : DEFAULT_POLL_MS;
    atomic_init(&d->stop, false);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, dispatcher, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        hpf_peers_free(peers);
        free(d);
        return hpf_err_set(err, HPF_EINTERNAL, "cannot start the outbox dispatcher thread");
    }
    hpf_log(HPF_LOG_INFO, "outbox.start", "dispatching to %s every %d ms", hpf_peers_url(peers),
            d->poll_ms);
    *out = d;
    return 0;
}

void hpf_dispatch_stop(hpf_dispatch *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_store(&d->stop, true);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    hpf_peers_free(d->peers);
    free(d);
}
