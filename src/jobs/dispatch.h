/*
 * jobs/dispatch: the outbox dispatcher of `hpf serve`. A thread that polls the outbox table
 * (store/outbox.h) every 200 ms with one indexed read, claims the messages that are due, sends
 * each through peers/transport, and records the outcome:
 *   - 2xx: in one transaction the message is marked sent with the peer's reply and the reply is
 *     handed to the handler registered for its topic (a service function, see below);
 *   - a failure worth retrying: attempts + 1, due again after an exponential back-off with
 *     jitter (1 s, 2 s, 4 s ... capped at 5 min), dead after 10 attempts;
 *   - the peer refused the message (a 4xx other than 408/425/429): dead at once.
 * last_error keeps the reason. Delivery is at least once: a server that dies mid-send leaves
 * the message claimed until its hold expires, then it is sent again with the same
 * Idempotency-Key and the peer drops the repeat. Several servers may dispatch from one
 * database: claims never overlap (store/outbox.h hpf_outbox_claim).
 *
 * Without a peers URL the dispatcher does not start: messages stay queued (logged once), and
 * readiness is not affected.
 *
 * Metrics: hpf_outbox_sent_total{peer}, hpf_outbox_failed_total{peer} (sends that failed,
 * including those that made a message dead), hpf_outbox_dead_total{peer}, and the gauge
 * hpf_outbox_queued (queued messages, due or not, as of the last poll).
 */
#ifndef HPF_JOBS_DISPATCH_H
#define HPF_JOBS_DISPATCH_H

#include "base/err.h"
#include "service/svc.h"
#include "store/outbox.h"

/* A reply handler: runs inside the transaction that marks `msg` sent, with the peer's reply
 * (a JSON object as text). Return 0 to commit both; an error rolls both back and the message
 * is sent again later (the peer answers the repeat with its first reply). Handlers live in
 * service/ and are listed by topic in the table of dispatch.c. */
typedef int (*hpf_dispatch_handler)(hpf_svc *svc, hpf_db *db, const hpf_outbox_msg *msg,
                                    const char *reply_json, hpf_err *err);

typedef struct hpf_dispatch_config {
    const char *peers_url; /* https base URL of the peers; NULL or "": do not dispatch */
    const char *peers_ca;  /* PEM file to trust for them; NULL or "": the system store */
    int poll_ms;           /* 0: 200 */
} hpf_dispatch_config;

typedef struct hpf_dispatch hpf_dispatch;

/* Start the dispatcher thread over `svc` (which must outlive it). *out is NULL (and 0 returned)
 * when no peers URL is configured. Returns 0, HPF_EINVAL (bad URL or CA file, field named) or
 * HPF_EINTERNAL. */
int hpf_dispatch_start(hpf_dispatch **out, hpf_svc *svc, const hpf_dispatch_config *cfg,
                       hpf_err *err);
/* Stop the thread (a send in flight is cut short) and free. Accepts NULL. */
void hpf_dispatch_stop(hpf_dispatch *d);

#endif
