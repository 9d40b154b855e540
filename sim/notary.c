/* hpf-sim, notary peer (plays the judicial chain): POST /notary/v1/anchors appends the anchor to
 * an in-memory hash chain and answers a receipt; GET /notary/v1/anchors/{receipt_id} shows it.
 * Each block's tx_hash is SM3(previous tx_hash || the anchor as canonical JSON), so the chain
 * is tamper-evident the way a real one is; nothing is signed and nothing is mined. */
#include "base/rand.h"
#include "sim.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN "hpf-sim-notary"

static bool hex_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* SM3 of prev (hex text) followed by data, as lower-case hex into out[65]. */
static bool chain_hash(char out[65], const char *prev, const char *data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sm3(), NULL) == 1 &&
              EVP_DigestUpdate(c, prev, strlen(prev)) == 1 &&
              EVP_DigestUpdate(c, data, strlen(data)) == 1 &&
              EVP_DigestFinal_ex(c, md, &len) == 1 && len == 32;
    EVP_MD_CTX_free(c);
    if (ok)
        hpf_hex(out, md, 32);
    return ok;
}

/* The work of sim_notary_post under the lock; *in receives the decoded body (caller frees). */
static void notary_post_locked(sim *s, hpf_http_req *req, hpf_http_resp *resp, json_t **in)
{
    const char *key = NULL, *centre, *day, *root, *sig, *key_id;
    json_error_t je;
    hpf_err e = HPF_ERR_INIT;
    char tx[65], now[64], rid[48], tag[9];
    unsigned char r[4];
    if (sim_intercept(s, SIM_NOTARY, req, resp, &key))
        return;
    if (hpf_http_json_body(req, in, &e) < 0) {
        hpf_http_problem(req, resp, &e);
        return;
    }
    if (json_unpack_ex(*in, &je, JSON_STRICT, "{s:s, s:s, s:s, s:s, s:s}", "centre", &centre, "day",
                       &day, "root", &root, "signature", &sig, "key_id", &key_id) < 0 ||
        strlen(centre) != 6 || strlen(day) != 10 || !hex_ok(root, 16, 128) || !*sig || !*key_id) {
        sim_problem(req, resp, HPF_EINVAL, "", "sim.notary_format",
                    "want {centre (6 digits), day (YYYY-MM-DD), root (hex), signature, key_id}");
        return;
    }
    if (json_array_size(s->anchors) >= SIM_MAX_ITEMS) {
        sim_problem(req, resp, HPF_EBUSY, NULL, "sim.full", "hpf-sim holds too many anchors");
        return;
    }
    char *canon = json_dumps(*in, JSON_COMPACT | JSON_SORT_KEYS);
    bool hashed = canon && chain_hash(tx, s->head, canon);
    free(canon);
    if (!hashed) {
        sim_problem(req, resp, HPF_EINTERNAL, NULL, "sim.internal", "SM3 failed");
        return;
    }
    hpf_rand_bytes(r, sizeof r);
    hpf_hex(tag, r, sizeof r);
    size_t height = json_array_size(s->anchors) + 1;
    snprintf(rid, sizeof rid, "rcpt-%06zu-%s", height, tag);
    sim_now(now);
    json_t *rec = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "receipt_id",
                            rid, "chain", CHAIN, "block_height", (json_int_t)height, "tx_hash", tx,
                            "prev_hash", s->head, "anchored_at", now, "centre", centre, "day", day,
                            "root", root, "signature", sig, "key_id", key_id);
    if (!rec) {
        sim_problem(req, resp, HPF_EINTERNAL, NULL, "sim.internal", "cannot keep the anchor");
        return;
    }
    json_object_set_new(s->receipts, rid, json_integer((json_int_t)height - 1));
    json_array_append_new(s->anchors, rec);
    memcpy(s->head, tx, sizeof s->head);
    sim_remember(s, SIM_NOTARY, key, 201,
                 json_pack("{s:s, s:s, s:I, s:s, s:s}", "receipt_id", rid, "chain", CHAIN,
                           "block_height", (json_int_t)height, "tx_hash", tx, "anchored_at", now),
                 NULL, resp);
}

void sim_notary_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    json_t *in = NULL;
    pthread_mutex_lock(&s->mu);
    notary_post_locked(s, req, resp, &in);
    pthread_mutex_unlock(&s->mu);
    json_decref(in);
}

void sim_notary_get(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    const char *rid = hpf_http_param(req, "receipt_id");
    json_t *rec = NULL;
    pthread_mutex_lock(&s->mu);
    json_t *idx = rid ? json_object_get(s->receipts, rid) : NULL;
    if (idx)
        rec = json_deep_copy(json_array_get(s->anchors, (size_t)json_integer_value(idx)));
    pthread_mutex_unlock(&s->mu);
    if (!rec) {
        sim_problem(req, resp, HPF_ENOTFOUND, "receipt_id", "sim.not_found", "no such receipt");
        return;
    }
    hpf_http_json(resp, 200, rec);
}
