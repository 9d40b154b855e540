/*
 * peers/notary: the message format of the notary peer (the judicial chain that anchors the
 * daily audit checkpoints; POST /notary/v1/anchors through peers/transport). The checkpoint
 * service builds the request here, enqueues it for peer "notary", and reads the receipt from the
 * reply its outbox handler receives. What is anchored, and when, is the service's business.
 *
 *   request  {"centre": "320900", "day": "2026-11-15", "root": "<hex>", "signature": "...",
 *             "key_id": "..."}
 *   reply    {"receipt_id": "...", "chain": "...", "block_height": 42, "tx_hash": "<hex>",
 *             "anchored_at": "RFC 3339"}
 */
#ifndef HPF_PEERS_NOTARY_H
#define HPF_PEERS_NOTARY_H

#include "base/err.h"

#include <stdint.h>

typedef struct hpf_notary_anchor {
    const char *centre;    /* 6-digit centre code */
    const char *day;       /* YYYY-MM-DD, the day the checkpoint closes */
    const char *root;      /* hex Merkle root (16..128 hex digits) */
    const char *signature; /* the centre's signature over it: 1..1024 characters of hex or
                              base64 / base64url */
    const char *key_id;    /* which key signed: 1..64 printable ASCII characters */
} hpf_notary_anchor;

typedef struct hpf_notary_receipt {
    char receipt_id[96];
    char chain[64];
    int64_t block_height;
    char tx_hash[160];
    char anchored_at[40];
} hpf_notary_receipt;

/* Build the request body into *out (malloc'd JSON text; free() it). Returns 0 or HPF_EINVAL
 * naming the field (centre, day, root, signature, key_id). */
int hpf_notary_anchor_request(char **out, const hpf_notary_anchor *a, hpf_err *err);

/* Read a reply. Returns 0, or HPF_EINVAL (rule notary.reply) when it is not a JSON object with
 * the five members of the right types and sizes. */
int hpf_notary_receipt_parse(hpf_notary_receipt *out, const char *reply_json, hpf_err *err);

#endif
