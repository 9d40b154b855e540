/*
 * hpf-sim: the outside world on loopback, for tests and demos. One process plays every peer
 * that `hpf serve` talks to through peers/ (SMS gateway, notary chain; later banks and
 * government data), over HTTPS with a self-signed certificate kept in its data directory.
 * It is no part of the business floors: it includes only base/ and http/ (tests/layers.sh).
 *
 * State lives in memory and is lost when the process ends (a restart begins with an empty
 * inbox and an empty chain; the certificate stays). Every peer drops repeats by the
 * Idempotency-Key header: a repeat gets the first answer again, marked Idempotent-Replay:
 * true, and is counted. POST /_sim/faults makes the next N requests to a peer fail, so tests
 * can show retries.
 */
#ifndef HPF_SIM_SIM_H
#define HPF_SIM_SIM_H

#include "base/buf.h"
#include "http/server.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_MAX_ITEMS 100000 /* SMS kept, anchors kept: a full sim answers 503 */

typedef enum { SIM_SMS = 0, SIM_NOTARY = 1, SIM_CITYTRANSFER = 2, SIM_NPEERS } sim_peer;

typedef struct sim_counts {
    int64_t accepted; /* new messages taken */
    int64_t repeats;  /* requests dropped as repeats of a known Idempotency-Key */
    int64_t fail_next;
    int fail_status;
} sim_counts;

typedef struct sim {
    pthread_mutex_t mu;
    json_t *seen;     /* "peer\nkey" -> {"status": N, "body": {...}, "ref": item or null} */
    json_t *sms;      /* array of SMS objects, oldest first */
    json_t *anchors;  /* array of anchor records, in chain order */
    json_t *receipts; /* receipt_id -> index into anchors */
    char head[65];    /* hash of the last anchor; 64 zeros before the first */
    sim_counts peers[SIM_NPEERS];
    int64_t faults_served;
} sim;

void sim_init(sim *s);
void sim_cleanup(sim *s);

const char *sim_peer_name(sim_peer p);

/* Under s->mu: the request's fate before its body is looked at. Returns true when it was
 * answered here (a fault to inject, a missing key, or a repeat); else *key holds the
 * Idempotency-Key to remember with sim_remember. */
bool sim_intercept(sim *s, sim_peer p, hpf_http_req *req, hpf_http_resp *resp, const char **key);
/* Under s->mu: keep the answer for the key and send it (steals body). */
void sim_remember(sim *s, sim_peer p, const char *key, int status, json_t *body, json_t *item,
                  hpf_http_resp *resp);
/* A problem answer with a rule of the sim. */
void sim_problem(hpf_http_req *req, hpf_http_resp *resp, int code, const char *field,
                 const char *rule, const char *msg);
/* Now as RFC 3339 UTC with milliseconds. */
void sim_now(char out[64]);

/* Route handlers; udata is the sim. */
void sim_sms_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_sms_list(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_sms_inbox(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_notary_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_notary_get(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_faults_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_stats_get(hpf_http_req *req, hpf_http_resp *resp, const void *udata);

/* The transfer platform and the other centre (sim/citytransfer.c): its state is its own,
 * guarded by s->mu; init before serving, cleanup after. */
void sim_ct_init(void);
void sim_ct_cleanup(void);
void sim_ct_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_ct_mode(hpf_http_req *req, hpf_http_resp *resp, const void *udata);
void sim_ct_list(hpf_http_req *req, hpf_http_resp *resp, const void *udata);

#endif
