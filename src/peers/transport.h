/*
 * peers/transport: HTTPS to the outside peers (SMS gateway, notary, later banks and government
 * data), over libcurl. All peers sit under one base URL (`hpf serve --peers URL`); each peer
 * name maps to one path: sms -> POST /sms/v1/messages, notary -> POST /notary/v1/anchors. A
 * message is sent with its idempotency key in the Idempotency-Key header so that the peer
 * drops repeats (delivery is at least once).
 *
 * Only https URLs; TLS 1.2 or later; the peer's certificate and host name are always verified,
 * against the PEM file of --peers-ca when given, else the system's trust store. Connect timeout
 * 2 s, whole exchange 10 s, no redirects, replies capped at 1 MiB.
 *
 * Threads: an hpf_peers is shared and read-only after hpf_peers_new; an hpf_peers_conn (one
 * libcurl easy handle, keeping its connection alive between messages) belongs to one thread.
 * Message formats live next to this module (peers/sms.h, peers/notary.h); no business rule does.
 */
#ifndef HPF_PEERS_TRANSPORT_H
#define HPF_PEERS_TRANSPORT_H

#include "base/buf.h"
#include "base/err.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct hpf_peers hpf_peers;
typedef struct hpf_peers_conn hpf_peers_conn;

#define HPF_PEERS_CONNECT_TIMEOUT_MS 2000
#define HPF_PEERS_TOTAL_TIMEOUT_MS   10000
#define HPF_PEERS_REPLY_MAX          (1u << 20)

/* Check and keep the base URL (https://HOST[:PORT][/PREFIX], no query; a trailing '/' is
 * dropped) and the CA file (NULL or "": the system store; it must be readable). Initialises
 * libcurl once per process. Returns 0 or HPF_EINVAL (field "--peers" / "--peers-ca"). */
int hpf_peers_new(hpf_peers **out, const char *base_url, const char *ca_file, hpf_err *err);
void hpf_peers_free(hpf_peers *p);
/* The base URL as kept. */
const char *hpf_peers_url(const hpf_peers *p);

/* The request path of a peer ("/sms/v1/messages"), or NULL for a peer this build does not
 * know. */
const char *hpf_peers_path(const char *peer);

/* A connection for the calling thread. Returns 0 or HPF_EINTERNAL. */
int hpf_peers_conn_new(hpf_peers_conn **out, hpf_peers *p, hpf_err *err);
void hpf_peers_conn_free(hpf_peers_conn *c);
/* Make sends of this connection give up soon after *flag turns true (a server stopping does
 * not wait for a slow peer). `flag` must outlive the connection; NULL: never. */
void hpf_peers_conn_abort_on(hpf_peers_conn *c, const atomic_bool *flag);

/* The outcome of one send. */
typedef struct hpf_peers_reply {
    long status; /* HTTP status; 0 when no response arrived */
    hpf_buf body;
} hpf_peers_reply;

#define HPF_PEERS_REPLY_INIT                                                                       \
    {                                                                                              \
        .status = 0, .body = {.max = HPF_PEERS_REPLY_MAX }                                         \
    }

/* POST the JSON `body` to `peer` with the Idempotency-Key `idem_key`. The reply (cleared first)
 * receives the status and body; release it with hpf_buf_cleanup(&reply->body). Returns:
 *   0             2xx, and the body is a JSON object
 *   HPF_EBUSY     worth retrying later: no connection, TLS failure, timeout, 408, 425, 429,
 *                 5xx, or a 2xx whose body is not a JSON object
 *   HPF_EUNPROC   the peer refused this message (any other 4xx): sending it again cannot help
 *   HPF_EINVAL    unknown peer
 * err->msg says what happened (status and the start of the body, or libcurl's reason). */
int hpf_peers_send(hpf_peers_conn *c, const char *peer, const char *idem_key, const char *body,
                   hpf_peers_reply *reply, hpf_err *err);

#endif
