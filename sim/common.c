/* hpf-sim: state, repeats, injected faults and counters shared by the peers. */
#include "base/log.h"
#include "base/parse.h"
#include "sim.h"

#include <stdio.h>
#include <string.h>

static const char *const peer_names[SIM_NPEERS] = {"sms", "notary", "citytransfer"};

const char *sim_peer_name(sim_peer p)
{
    return (unsigned)p < SIM_NPEERS ? peer_names[p] : "?";
}

void sim_init(sim *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->seen = json_object();
    s->sms = json_array();
    s->anchors = json_array();
    s->receipts = json_object();
    memset(s->head, '0', 64);
    s->head[64] = '\0';
}

void sim_cleanup(sim *s)
{
    json_decref(s->seen);
    json_decref(s->sms);
    json_decref(s->anchors);
    json_decref(s->receipts);
    pthread_mutex_destroy(&s->mu);
}

void sim_now(char out[64])
{
    hpf_log_now(out);
}

void sim_problem(hpf_http_req *req, hpf_http_resp *resp, int code, const char *field,
                 const char *rule, const char *msg)
{
    hpf_err e = HPF_ERR_INIT;
    hpf_err_field(&e, code, field ? field : "", rule, "%s", msg);
    hpf_http_problem(req, resp, &e);
}

/* Keys travel in a header: printable ASCII without spaces, as hpf sends them. */
static bool key_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > 127)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] <= ' ' || (unsigned char)k[i] >= 0x7f)
            return false;
    return true;
}

bool sim_intercept(sim *s, sim_peer p, hpf_http_req *req, hpf_http_resp *resp, const char **key)
{
    sim_counts *c = &s->peers[p];
    if (c->fail_next > 0) {
        c->fail_next--;
        s->faults_served++;
        json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", "urn:hpf-sim:problem:fault", "title",
                              "Injected fault", "status", c->fail_status, "detail",
                              "hpf-sim was told to fail this request (POST /_sim/faults)");
        hpf_http_json(resp, c->fail_status, o);
        resp->content_type = "application/problem+json";
        return true;
    }
    const char *k = hpf_http_header(req, "Idempotency-Key");
    if (!key_ok(k)) {
        sim_problem(req, resp, HPF_EINVAL, "Idempotency-Key", "sim.idempotency_key",
                    "every message needs an Idempotency-Key header of 1 to 127 printable "
                    "characters");
        return true;
    }
    char name[160];
    snprintf(name, sizeof name, "%s\n%s", sim_peer_name(p), k);
    json_t *seen = json_object_get(s->seen, name);
    if (seen) {
        c->repeats++;
        json_t *ref = json_object_get(seen, "ref");
        if (json_is_object(ref))
            json_object_set_new(
                ref, "repeats",
                json_integer(json_integer_value(json_object_get(ref, "repeats")) + 1));
        hpf_http_json(resp, (int)json_integer_value(json_object_get(seen, "status")),
                      json_incref(json_object_get(seen, "body")));
        hpf_http_add_header(resp, "Idempotent-Replay", "true");
        return true;
    }
    if (json_object_size(s->seen) >= 4 * SIM_MAX_ITEMS) {
        sim_problem(req, resp, HPF_EBUSY, NULL, "sim.full", "hpf-sim holds too many messages");
        return true;
    }
    *key = k;
    return false;
}

void sim_remember(sim *s, sim_peer p, const char *key, int status, json_t *body, json_t *item,
                  hpf_http_resp *resp)
{
    char name[160];
    snprintf(name, sizeof name, "%s\n%s", sim_peer_name(p), key);
    json_object_set_new(s->seen, name,
                        json_pack("{s:i, s:O, s:O?}", "status", status, "body", body, "ref", item));
    s->peers[p].accepted++;
    hpf_http_json(resp, status, body);
}

/* POST /_sim/faults {"peer": "sms", "fail_next": 2, "status": 503} */
void sim_faults_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    json_t *in = NULL;
    hpf_err e = HPF_ERR_INIT;
    if (hpf_http_json_body(req, &in, &e) < 0) {
        hpf_http_problem(req, resp, &e);
        return;
    }
    const char *peer = NULL;
    json_int_t n = -1, status = 503;
    json_error_t je;
    if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s, s:I, s?I}", "peer", &peer, "fail_next", &n,
                       "status", &status) < 0 ||
        n < 0 || n > 1000 || status < 400 || status > 599) {
        json_decref(in);
        sim_problem(
            req, resp, HPF_EINVAL, "", "sim.faults",
            "want {peer: sms|notary|citytransfer, fail_next: 0..1000, status: 400..599 (503)}");
        return;
    }
    int p = -1;
    for (int i = 0; i < SIM_NPEERS; i++)
        if (!strcmp(peer, sim_peer_name((sim_peer)i)))
            p = i;
    if (p < 0) {
        json_decref(in);
        sim_problem(req, resp, HPF_EINVAL, "/peer", "sim.peer",
                    "peer must be sms, notary or citytransfer");
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->peers[p].fail_next = n;
    s->peers[p].fail_status = (int)status;
    pthread_mutex_unlock(&s->mu);
    hpf_http_json(resp, 200,
                  json_pack("{s:s, s:I, s:I}", "peer", peer, "fail_next", n, "status", status));
    json_decref(in);
}

/* GET /_sim/stats */
void sim_stats_get(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    (void)req;
    json_t *o = json_object();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < SIM_NPEERS; i++) {
        const sim_counts *c = &s->peers[i];
        json_object_set_new(o, sim_peer_name((sim_peer)i),
                            json_pack("{s:I, s:I, s:I}", "accepted", (json_int_t)c->accepted,
                                      "repeats", (json_int_t)c->repeats, "fail_next",
                                      (json_int_t)c->fail_next));
    }
    json_object_set_new(o, "faults_served", json_integer(s->faults_served));
    pthread_mutex_unlock(&s->mu);
    hpf_http_json(resp, 200, o);
}
