/* api/public: checking a document's verification code, and the centre's public seal keys.
 * No session: anyone holding a receipt may check it; the answers carry no personal data. */
#include "api/internal.h"

#include "base/log.h"
#include "service/document.h"

#include <stdlib.h>
#include <string.h>

void api_set_vcode(api_ctx *c, json_t *obj, int type, const char *key)
{
    char code[HPF_VCODE_LEN];
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_doc_code(c->svc, (hpf_doc_type)type, key, code, &err);
    if (rc < 0 && rc != HPF_ENOTFOUND)
        hpf_log(HPF_LOG_WARN, "document.code_failed", "no verification code for %.40s: %s", key,
                err.msg);
    json_object_set_new(obj, "verification_code", rc == 0 ? json_string(code) : json_null());
}

static json_t *checkpoint_json(const hpf_checkpoint *cp)
{
    char day[11], text[256];
    hpf_checkpoint_text(cp, text, sizeof text);
    /* The notary's receipt as it answered (the judicial chain's transaction), once it has. */
    json_t *receipt = cp->anchor_receipt[0] ? json_loads(cp->anchor_receipt, 0, NULL) : NULL;
    json_t *anchor =
        receipt ? json_pack("{s:s, s:o}", "anchored_at", cp->anchored_at, "receipt", receipt)
                : json_null();
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "day",
                     hpf_day_fmt(day, cp->day), "centre", cp->centre, "first_seq",
                     (json_int_t)cp->first_seq, "last_seq", (json_int_t)cp->last_seq, "leaves",
                     (json_int_t)cp->leaves, "root", cp->root, "signature", cp->signature, "key_id",
                     cp->key_id, "signed_at", cp->created_at, "signed_text", text, "anchor",
                     anchor);
}

static int document(api_ctx *c, hpf_err *err)
{
    const char *code = hpf_http_param(c->req, "code");
    hpf_document d;
    int rc = hpf_doc_check(c->svc, code, &d, err);
    if (rc < 0)
        return rc;
    json_t *proof = json_array();
    for (int i = 0; i < d.nproof; i++)
        json_array_append_new(proof,
                              json_pack("{s:s, s:s}", "side", d.proof[i].left ? "left" : "right",
                                        "hash", d.proof[i].hash));
    json_t *o = json_pack(
        "{s:s, s:b, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "code", code, "authentic", d.authentic,
        "kind", d.kind, "recorded_at", d.recorded_at, "entry_hash", d.entry_hash, "chain_position",
        (json_int_t)d.seq, "checkpoint", d.checkpointed ? checkpoint_json(&d.cp) : json_null(),
        "leaf_index", d.checkpointed ? json_integer(d.leaf_index) : json_null(), "proof", proof);
    if (!d.authentic) {
        /* The chain or its checkpoint disagrees with itself: the database was changed. Say
         * which check failed, and raise it in the log (RULES 11.3: a security incident). */
        const char *failed = !d.entry_ok  ? "entry"
                             : !d.root_ok ? "checkpoint_root"
                                          : "checkpoint_signature";
        json_object_set_new(o, "failed_check", json_string(failed));
        hpf_log(HPF_LOG_WARN, "document.not_authentic",
                "verification code %s (entry seq %lld): the %s check failed; run hpf audit verify",
                code, (long long)d.seq, failed);
    }
    return api_reply(c, 200, o);
}

static int centre_keys(api_ctx *c, hpf_err *err)
{
    hpf_sm2_pubkey *keys;
    size_t n;
    int rc = hpf_doc_centre_keys(c->svc, &keys, &n, err);
    if (rc < 0)
        return rc;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:b}", "key_id",
                                               keys[i].key_id, "fingerprint", keys[i].fingerprint,
                                               "public_key_pem", keys[i].pem, "valid_from",
                                               keys[i].created_at, "current", i + 1 == n));
    hpf_sm2_pubkeys_free(keys, n);
    return api_reply(c, 200,
                     json_pack("{s:o, s:s, s:s, s:s}", "items", items, "algorithm", "SM2", "digest",
                               "SM3", "distinguishing_id", HPF_SM2_DISTID));
}

const api_route api_public_routes[] = {
    {"GET", "/api/v1/public/documents/{code}", API_PUBLIC, document},
    {"GET", "/api/v1/public/centre-keys", API_PUBLIC, centre_keys},
};
const size_t api_public_nroutes = sizeof api_public_routes / sizeof api_public_routes[0];
