/*
 * http/server: a generic HTTPS server on libmicrohttpd (TLS through GnuTLS; plain HTTP is never
 * served). It owns TLS, connection and body limits, routing by a static table that the caller
 * supplies, request ids, one JSON access-log line per request, Prometheus counters, security
 * headers and static files. It knows nothing of the business: a route is a method, a path
 * pattern, a handler and an opaque pointer the handler interprets.
 *
 * Threading: handlers run on the server's worker threads (a pool of `threads`), several at once.
 */
#ifndef HPF_HTTP_SERVER_H
#define HPF_HTTP_SERVER_H

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_HTTP_MAX_PARAMS 4

typedef struct hpf_http_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded path without the query string */
    const char *body;   /* NUL-terminated; "" when there is none */
    size_t body_len;
    const char *request_id; /* "req-" + 16 hex chars; also sent as X-Request-Id */
    const char *remote_ip;  /* textual peer address */
    int nparams;            /* path parameters captured by {name} segments, in order */
    const char *param_names[HPF_HTTP_MAX_PARAMS];
    const char *param_values[HPF_HTTP_MAX_PARAMS];
    hpf_arena *arena;          /* scratch memory freed when the request completes */
    void *conn;                /* internal */
    const char *route_pattern; /* the matched pattern, for logs and metrics */
} hpf_http_req;

typedef struct hpf_http_resp {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json" */
    hpf_buf body;
    int nheaders;
    const char *header_names[8]; /* arena or static strings */
    const char *header_values[8];
    const char *log_user; /* optional: who, for the access log */
} hpf_http_resp;

typedef void (*hpf_http_handler)(hpf_http_req *req, hpf_http_resp *resp, const void *udata);

typedef struct hpf_http_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern; /* "/api/v1/employers/{id}/remittances": literal or {name} segments */
    hpf_http_handler handler;
    const void *udata; /* handed to the handler unchanged (the caller's route descriptor) */
} hpf_http_route;

typedef struct hpf_http_config {
    const char *listen_host;   /* "127.0.0.1" */
    uint16_t listen_port;      /* 8443; 0 picks a free port (see hpf_http_port) */
    const char *cert_pem_path; /* TLS certificate chain, PEM */
    const char *key_pem_path;  /* TLS private key, PEM */
    const char *static_dir;    /* files served for GET paths no route matches; NULL: none.
                                  Unknown paths without a dot get index.html (SPA fallback). */
    const hpf_http_route *routes;
    size_t nroutes;
    unsigned threads;            /* worker threads, default 4 */
    unsigned max_connections;    /* default 1024 */
    unsigned conn_timeout_s;     /* idle connection timeout, default 30 */
    size_t max_body;             /* request bodies above this get 413; default 1 MiB */
    unsigned per_ip_connections; /* simultaneous connections from one address, default 256 */
    unsigned stop_grace_s;       /* seconds hpf_http_stop waits for in-flight requests; 5 */
    /* Called for /readyz: return true when the process can serve (database reachable). */
    bool (*ready)(void *ctx);
    void *ready_ctx;
} hpf_http_config;

typedef struct hpf_http_server hpf_http_server;

/* Start serving in background threads. Returns 0, HPF_EIO (cannot bind, bad cert) with err set.
 * Also HPF_EINVAL for a bad route table or a listen_host that is not an IPv4 or IPv6 literal
 * (or "localhost"). The route table and every config string are copied: none need outlive the
 * call. GET /healthz, /readyz and /metrics are built in; the table may not repeat them. */
int hpf_http_start(hpf_http_server **out, const hpf_http_config *cfg, hpf_err *err);
/* The bound port (useful with listen_port 0). */
uint16_t hpf_http_port(const hpf_http_server *s);
/* Stop accepting, finish in-flight requests, free everything. Accepts NULL. */
void hpf_http_stop(hpf_http_server *s);

/* --- helpers for handlers --- */

/* Request header value (case-insensitive name) or NULL. */
const char *hpf_http_header(hpf_http_req *req, const char *name);
/* Cookie value by name or NULL. */
const char *hpf_http_cookie(hpf_http_req *req, const char *name);
/* Query-string argument (decoded) or NULL. */
const char *hpf_http_query(hpf_http_req *req, const char *name);
/* Path parameter by name or NULL. */
const char *hpf_http_param(const hpf_http_req *req, const char *name);
/* Add a response header (both strings must outlive the request: static or arena). */
void hpf_http_add_header(hpf_http_resp *resp, const char *name, const char *value);

/* Write an RFC 9457 problem+json response from an error: status from hpf_err_http_status(),
 * type "urn:hpf:problem:<hpf_err_name>", title, detail = err->msg, and when set "field" and
 * "rule"; always "request_id". */
void hpf_http_problem(hpf_http_req *req, hpf_http_resp *resp, const hpf_err *err);
/* The same with more members from the object `extra` (RFC 9457 extension members, such as an
 * "errors" array listing every problem of a file), added to a 4xx answer only and never over a
 * standard member. Steals the reference to `extra`, which may be NULL. */
void hpf_http_problem_ext(hpf_http_req *req, hpf_http_resp *resp, const hpf_err *err,
                          json_t *extra);

/* True when the Content-Type value `ct` names the media type `type` ("text/csv"), in any case,
 * whatever parameters follow a ';'. NULL is no type. */
bool hpf_http_media_type_is(const char *ct, const char *type);

/* Decode the body as one JSON object. Returns 0 with *out owned by the caller, or:
 * HPF_EMEDIA (415) unless Content-Type is application/json (a charset=utf-8 parameter is fine),
 * HPF_EINVAL (400) for broken JSON, duplicate keys, a non-object, or bytes that are not UTF-8. */
int hpf_http_json_body(hpf_http_req *req, json_t **out, hpf_err *err);
/* The same decoding without a request: the Content-Type value (NULL when absent) and the body
 * bytes. Pure; what hpf_http_json_body calls, and what the fuzz target drives directly. */
int hpf_http_json_decode(const char *content_type, const char *body, size_t body_len,
                         json_t **out, hpf_err *err);
/* Set status and a JSON body; steals the reference to `obj`. */
void hpf_http_json(hpf_http_resp *resp, int status, json_t *obj);

/* Metrics: add to a labelled counter shown on /metrics ("hpf_remittances_total", ...). */
void hpf_http_metric_add(const char *name, const char *help, uint64_t delta);
/* Metrics: set a gauge ("hpf_leader{job=\"housekeeping\"}") to a value. */
void hpf_http_metric_set(const char *name, const char *help, uint64_t value);

#endif
