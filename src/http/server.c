#include "http/server.h"

#include "base/log.h"
#include "base/parse.h"
#include "base/rand.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/static.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_THREADS   4
#define DEFAULT_MAX_CONN  1024
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_BODY  ((size_t)1 << 20)
#define DEFAULT_PER_IP    256
#define DEFAULT_GRACE_S   5
/* Longest request path (before the query) answered normally; longer ones get 414. */
#define MAX_PATH_LEN 2048
/* Largest PEM file read for the certificate chain or the key. */
#define MAX_PEM_SIZE ((size_t)1 << 20)
/* Per-connection memory for the request line, headers and read buffer (bodies stream past). */
#define CONN_MEMORY_LIMIT ((size_t)32 << 10)
/* Once a body passed max_body it is read and dropped so the client still sees the 413; past this
 * much more the connection is cut instead. */
#define MAX_DRAIN ((uint64_t)64 << 20)

/* TLS 1.2 and 1.3 only, AEAD ciphers only, forward-secret key exchange only. */
static const char tls_priorities[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

static const char csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self' "
                          "'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'";

static const struct {
    const char *name, *value;
} security_headers[] = {
    {"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Content-Security-Policy", csp},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
};

struct hpf_http_server {
    struct MHD_Daemon *daemon;
    hpf_router *router;
    hpf_static *files; /* NULL: no static directory */
    hpf_metrics *metrics;
    size_t slot_static, slot_none; /* metrics slots after the routes */
    size_t max_body;
    unsigned grace_s;
    bool (*ready)(void *ctx);
    void *ready_ctx;
    char *cert_pem, *key_pem;
    size_t key_len;
    uint16_t port;
    atomic_bool running;   /* false while starting: MHD messages are then kept for err */
    pthread_t starter;     /* the thread in hpf_http_start, the only writer of start_error */
    char start_error[256]; /* the MHD messages while starting, for err */
};

typedef enum { URI_OK, URI_BAD, URI_TOO_LONG } uri_state;

/* One request, from its request line to the end of its response. */
typedef struct reqctx {
    hpf_http_server *srv;
    struct MHD_Connection *conn;
    bool started; /* the access handler has seen this request */
    bool too_big; /* the body passed max_body: drain it, answer 413 */
    uri_state uri;
    char *raw_path; /* the path of the request target, still percent-encoded */
    hpf_buf body;
    uint64_t received;
    struct timespec t0;
    char method[16];
    char request_id[72];
    char remote[INET6_ADDRSTRLEN];
    hpf_arena *arena;
    /* for the access log and metrics, set when a response is queued */
    int status;
    uint64_t bytes;
    size_t slot;
    const char *route;
    const char *user;
    hpf_http_req req;
} reqctx;

/* ---- small helpers ---- */

static bool is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool header_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!is_token_char((unsigned char)*s))
            return false;
    return true;
}

static bool header_value_ok(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
    return true;
}

static bool request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n == 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n > 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Every '%' in a query string must start a proper escape, and none may be %00. */
static bool query_ok(const char *q)
{
    for (const char *p = q; *p; p++) {
        if (*p != '%')
            continue;
        if (!is_hex(p[1]) || !is_hex(p[2]) || (p[1] == '0' && p[2] == '0'))
            return false;
        p += 2;
    }
    return true;
}

static bool is_api_path(const char *path)
{
    return !strncmp(path, "/api/", 5) || !strcmp(path, "/api");
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A JSON string of s; bytes that are not printable ASCII or valid UTF-8 text become '?', so
 * an error message that quotes hostile input still encodes. */
static json_t *safe_string(const char *s)
{
    if (hpf_text_ok(s, strlen(s), true)) {
        json_t *j = json_string(s);
        if (j)
            return j;
    }
    char *copy = hpf_xstrdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    json_t *j = json_string(copy);
    free(copy);
    return j;
}

/* Append s as a JSON string (at most max bytes of it) for the access log. */
static void log_str(hpf_buf *b, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    bool text = hpf_text_ok(s, n, true);
    hpf_buf_adds(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            hpf_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !text))
            hpf_buf_printf(b, "\\u%04x", c);
        else
            hpf_buf_add(b, &s[i], 1);
    }
    hpf_buf_adds(b, "\"");
}

/* ---- helpers for handlers ---- */

static reqctx *ctx_of(hpf_http_req *req)
{
    return req->conn;
}

const char *hpf_http_header(hpf_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(ctx_of(req)->conn, MHD_HEADER_KIND, name);
}

const char *hpf_http_cookie(hpf_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(ctx_of(req)->conn, MHD_COOKIE_KIND, name);
}

const char *hpf_http_query(hpf_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(ctx_of(req)->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *hpf_http_param(const hpf_http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->param_names[i], name))
            return req->param_values[i];
    return NULL;
}

void hpf_http_add_header(hpf_http_resp *resp, const char *name, const char *value)
{
    int cap = (int)(sizeof resp->header_names / sizeof resp->header_names[0]);
    if (resp->nheaders >= cap) {
        hpf_log(HPF_LOG_ERROR, "http.too_many_headers", "response header %s dropped", name);
        return;
    }
    resp->header_names[resp->nheaders] = name;
    resp->header_values[resp->nheaders] = value;
    resp->nheaders++;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
    return hpf_buf_add(data, p, n) == 0 ? 0 : -1;
}

void hpf_http_json(hpf_http_resp *resp, int status, json_t *obj)
{
    resp->status = status;
    resp->content_type = "application/json";
    hpf_buf_reset(&resp->body);
    if (!obj ||
        json_dump_callback(obj, dump_to_buf, &resp->body, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        hpf_log(HPF_LOG_ERROR, "http.json_encode", "response body could not be encoded");
        resp->status = 500;
        hpf_buf_reset(&resp->body);
        hpf_buf_adds(&resp->body, "{\"type\":\"urn:hpf:problem:internal\",\"title\":"
                                  "\"Internal error\",\"status\":500}");
        resp->content_type = "application/problem+json";
    }
    json_decref(obj);
}

static const char *status_title(int status)
{
    switch (status) {
    case 400:
        return "Invalid input";
    case 401:
        return "Unauthenticated";
    case 403:
        return "Forbidden";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Request too large";
    case 414:
        return "URI too long";
    case 415:
        return "Unsupported media type";
    case 422:
        return "Unprocessable request";
    case 429:
        return "Too many requests";
    case 503:
        return "Service unavailable";
    default:
        return status >= 500 ? "Internal error" : "Request refused";
    }
}

/* The problem response for err with an explicit status (414 has no error code of its own),
 * with extension members from `extra` (stolen; NULL for none) on a 4xx. */
static void problem_with(hpf_http_req *req, hpf_http_resp *resp, int status, const hpf_err *err,
                         json_t *extra)
{
    const char *rid = req->request_id ? req->request_id : "";
    json_t *o = json_object();
    char type[96];

    snprintf(type, sizeof type, "urn:hpf:problem:%s", hpf_err_name(err->code));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "title", json_string(status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    if (status >= 500) {
        /* Clients get no internals; the log line carries them under the request id. */
        hpf_log(status == 503 ? HPF_LOG_WARN : HPF_LOG_ERROR, "http.error", "%s %s %s: %s (%s)",
                rid, req->method ? req->method : "", req->route_pattern ? req->route_pattern : "",
                err->msg, hpf_err_name(err->code));
        json_object_set_new(o, "detail",
                            json_string(status == 503
                                            ? "The service is not available now; retry later."
                                            : "The request could not be completed; quote the "
                                              "request_id when reporting this."));
    } else {
        json_object_set_new(o, "detail", safe_string(err->msg));
        if (err->field[0])
            json_object_set_new(o, "field", safe_string(err->field));
        if (err->rule[0])
            json_object_set_new(o, "rule", safe_string(err->rule));
        const char *key;
        json_t *val;
        json_object_foreach(extra, key, val)
        {
            if (!json_object_get(o, key) && strcmp(key, "request_id") != 0)
                json_object_set(o, key, val);
        }
    }
    json_decref(extra);
    json_object_set_new(o, "request_id", json_string(rid));
    hpf_http_json(resp, status, o);
    if (resp->status == status)
        resp->content_type = "application/problem+json";
}

static void problem_status(hpf_http_req *req, hpf_http_resp *resp, int status, const hpf_err *err)
{
    problem_with(req, resp, status, err, NULL);
}

void hpf_http_problem(hpf_http_req *req, hpf_http_resp *resp, const hpf_err *err)
{
    problem_status(req, resp, hpf_err_http_status(err->code), err);
}

void hpf_http_problem_ext(hpf_http_req *req, hpf_http_resp *resp, const hpf_err *err,
                          json_t *extra)
{
    problem_with(req, resp, hpf_err_http_status(err->code), err, extra);
}

bool hpf_http_media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (!ct || strncasecmp(ct, type, n) != 0)
        return false;
    const char *p = ct + n + strspn(ct + n, " \t");
    return *p == '\0' || *p == ';';
}

static bool content_type_is_json(const char *ct)
{
    static const char mt[] = "application/json";
    if (!ct || strncasecmp(ct, mt, sizeof mt - 1) != 0)
        return false;
    const char *p = ct + sizeof mt - 1;
    p += strspn(p, " \t");
    if (!*p)
        return true;
    if (*p++ != ';')
        return false;
    p += strspn(p, " \t");
    if (strncasecmp(p, "charset=", 8) != 0)
        return false;
    p += 8;
    if (!strncasecmp(p, "utf-8", 5))
        p += 5;
    else if (!strncasecmp(p, "\"utf-8\"", 7))
        p += 7;
    else
        return false;
    p += strspn(p, " \t");
    return *p == '\0';
}

int hpf_http_json_body(hpf_http_req *req, json_t **out, hpf_err *err)
{
    return hpf_http_json_decode(hpf_http_header(req, "Content-Type"), req->body, req->body_len, out,
                                err);
}

int hpf_http_json_decode(const char *content_type, const char *body, size_t body_len,
                         json_t **out, hpf_err *err)
{
    json_error_t je;
    *out = NULL;
    if (!content_type_is_json(content_type))
        return hpf_err_field(err, HPF_EMEDIA, "Content-Type", "http.content_type",
                             "Content-Type must be application/json");
    if (body_len == 0)
        return hpf_err_field(err, HPF_EINVAL, "", "json.syntax",
                             "the request body is empty; a JSON object is expected");
    json_t *j = json_loadb(body, body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j) {
        /* je.text may quote the input: keep it printable ASCII */
        for (char *p = je.text; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                *p = '?';
        const char *why = je.text;
        switch (json_error_code(&je)) {
        case json_error_duplicate_key:
            return hpf_err_field(err, HPF_EINVAL, "", "json.duplicate_key",
                                 "duplicate key in the JSON body at line %d, column %d: %s",
                                 je.line, je.column, je.text);
        case json_error_invalid_utf8:
            why = "the body is not valid UTF-8";
            break;
        case json_error_null_character:
            why = "\\u0000 is not allowed in strings";
            break;
        case json_error_end_of_input_expected:
            why = "data after the JSON value";
            break;
        case json_error_premature_end_of_input:
            why = "the JSON value is incomplete";
            break;
        default:
            break;
        }
        return hpf_err_field(err, HPF_EINVAL, "", "json.syntax",
                             "invalid JSON at line %d, column %d: %s", je.line, je.column, why);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return hpf_err_field(err, HPF_EINVAL, "", "json.not_object",
                             "the request body must be a JSON object");
    }
    *out = j;
    return 0;
}

/* ---- built-in routes ---- */

static void healthz(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    (void)req;
    (void)udata;
    hpf_buf_adds(&resp->body, "{\"status\":\"ok\"}");
}

static void readyz(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    const hpf_http_server *s = udata;
    if (!s->ready || s->ready(s->ready_ctx)) {
        hpf_buf_adds(&resp->body, "{\"status\":\"ready\"}");
        return;
    }
    hpf_err e = HPF_ERR_INIT;
    hpf_err_set(&e, HPF_EBUSY, "readiness check failed");
    hpf_http_problem(req, resp, &e);
}

static void metrics(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    const hpf_http_server *s = udata;
    (void)req;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (hpf_metrics_render(s->metrics, &resp->body) < 0)
        hpf_log(HPF_LOG_ERROR, "http.metrics", "exposition truncated at its maximum size");
}

/* ---- answering ---- */

static bool add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (!header_name_ok(name) || !header_value_ok(value)) {
        hpf_log(HPF_LOG_ERROR, "http.bad_header", "response header %.64s refused",
                name ? name : "(null)");
        return false;
    }
    return MHD_add_response_header(r, name, value) == MHD_YES;
}

static void add_common_headers(struct MHD_Response *r, const reqctx *c)
{
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        add_header(r, security_headers[i].name, security_headers[i].value);
    add_header(r, "X-Request-Id", c->request_id);
}

static enum MHD_Result queue(reqctx *c, struct MHD_Response *r, int status, uint64_t bytes)
{
    enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    c->status = status;
    c->bytes = bytes;
    return ret;
}

/* Queue resp (an API, built-in or problem answer: never cached). */
static enum MHD_Result send_resp(reqctx *c, hpf_http_resp *resp)
{
    struct MHD_Response *r;
    size_t len = 0;
    bool cache_set = false;

    if (resp->status < 200 || resp->status > 599) {
        hpf_err e = HPF_ERR_INIT;
        hpf_err_set(&e, HPF_EINTERNAL, "handler set status %d", resp->status);
        problem_status(&c->req, resp, 500, &e);
    }
    if (resp->body.len > 0) {
        char *data = hpf_buf_detach(&resp->body, &len);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(data);
    } else {
        hpf_buf_cleanup(&resp->body);
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (resp->status != 204 && resp->status != 304)
        add_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
    for (int i = 0; i < resp->nheaders && i < 8; i++) {
        if (resp->header_names[i] && !strcasecmp(resp->header_names[i], "Cache-Control"))
            cache_set = true;
        add_header(r, resp->header_names[i], resp->header_values[i]);
    }
    if (!cache_set)
        add_header(r, "Cache-Control", "no-store");
    add_common_headers(r, c);
    if (resp->log_user)
        c->user = hpf_arena_strdup(c->arena, resp->log_user);
    return queue(c, r, resp->status, len);
}

/* A problem made here (not by a handler): 400, 404, 405, 413, 414. */
static enum MHD_Result send_problem(reqctx *c, int status, int code, const char *rule,
                                    const char *detail)
{
    hpf_http_resp resp = {.status = status};
    hpf_err e = HPF_ERR_INIT;
    hpf_err_field(&e, code, "", rule, "%s", detail);
    problem_status(&c->req, &resp, status, &e);
    return send_resp(c, &resp);
}

static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (!strcmp(inm, "*"))
        return true;
    /* a weak comparison: W/ prefixes on either side are ignored */
    const char *tag = !strncmp(etag, "W/", 2) ? etag + 2 : etag;
    size_t n = strlen(tag);
    for (const char *p = inm; (p = strstr(p, tag)) != NULL; p += n) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ' || after == '\t')
            return true;
    }
    return false;
}

static enum MHD_Result send_static(reqctx *c, const char *path)
{
    hpf_static_file f;
    int rc = hpf_static_find(c->srv->files, path, &f);
    if (rc == HPF_EINVAL)
        return send_problem(c, 400, HPF_EINVAL, "http.path", "the path is not allowed");
    if (rc < 0)
        return send_problem(c, 404, HPF_ENOTFOUND, "http.not_found", "no such resource");
    c->slot = c->srv->slot_static;
    c->route = "static";

    struct MHD_Response *r;
    int status = 200;
    uint64_t bytes = f.size;
    const char *inm = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "If-None-Match");
    if (etag_matches(inm, f.etag)) {
        close(f.fd);
        status = 304;
        bytes = 0;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_fd64(f.size, f.fd); /* owns the fd from here */
        if (!r)
            close(f.fd);
        else
            add_header(r, "Content-Type", f.content_type);
    }
    if (!r)
        return MHD_NO;
    add_header(r, "Cache-Control", f.cache_control);
    add_header(r, "ETag", f.etag);
    add_common_headers(r, c);
    return queue(c, r, status, bytes);
}

static enum MHD_Result dispatch(reqctx *c)
{
    hpf_http_server *s = c->srv;
    hpf_http_req *req = &c->req;
    hpf_route_match m;
    char allow[96];
    size_t len;

    if (c->too_big) {
        char detail[96];
        snprintf(detail, sizeof detail, "the request body is larger than %zu bytes", s->max_body);
        return send_problem(c, 413, HPF_ETOOBIG, "http.body_too_large", detail);
    }
    if (c->uri == URI_TOO_LONG)
        return send_problem(c, 414, HPF_ETOOBIG, "http.uri_too_long",
                            "the request path is longer than 2048 bytes");
    if (c->uri == URI_BAD || c->raw_path[0] != '/')
        return send_problem(c, 400, HPF_EINVAL, "http.url", "the request target is malformed");

    len = strlen(c->raw_path);
    char *path = hpf_arena_alloc(c->arena, len + 1);
    if (hpf_http_pct_decode(path, &len, c->raw_path, len) < 0 || !hpf_text_ok(path, len, false))
        return send_problem(c, 400, HPF_EINVAL, "http.url",
                            "the request path has a malformed escape or a control character");
    req->path = path;

    int rc = hpf_router_match(s->router, c->method, c->raw_path, c->arena, &m, allow, sizeof allow);
    if (rc == 0) {
        req->route_pattern = m.route->pattern;
        req->nparams = m.nparams;
        for (int i = 0; i < m.nparams; i++) {
            req->param_names[i] = m.names[i];
            req->param_values[i] = m.values[i];
        }
        c->slot = m.index;
        c->route = m.route->pattern;
        hpf_http_resp resp = {.status = 200};
        m.route->handler(req, &resp, m.route->udata);
        return send_resp(c, &resp);
    }
    if (rc == HPF_EMETHOD) {
        hpf_http_resp resp = {.status = 405};
        hpf_err e = HPF_ERR_INIT;
        hpf_err_field(&e, HPF_EMETHOD, "", "http.method", "%s is not allowed here; use %s",
                      c->method, allow);
        problem_status(req, &resp, 405, &e);
        hpf_http_add_header(&resp, "Allow", allow);
        return send_resp(c, &resp);
    }
    if (rc == HPF_EINVAL)
        return send_problem(c, 400, HPF_EINVAL, "http.url", "the request path is malformed");
    if (s->files && !is_api_path(path) && (!strcmp(c->method, "GET") || !strcmp(c->method, "HEAD")))
        return send_static(c, path);
    return send_problem(c, 404, HPF_ENOTFOUND, "http.not_found", "no such resource");
}

/* ---- libmicrohttpd callbacks ---- */

static void set_request_id(reqctx *c)
{
    const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (h && request_id_ok(h)) {
        snprintf(c->request_id, sizeof c->request_id, "%s", h);
        return;
    }
    /* One getrandom call per 32 ids: a syscall per request shows up at 100k requests/s. */
    static _Thread_local unsigned char pool[256];
    static _Thread_local size_t used = sizeof pool;
    if (used + 8 > sizeof pool) {
        hpf_rand_bytes(pool, sizeof pool);
        used = 0;
    }
    memcpy(c->request_id, "req-", 4);
    hpf_hex(c->request_id + 4, pool + used, 8);
    hpf_wipe(pool + used, 8);
    used += 8;
}

/* Called once per request with the raw request target, before the headers are read; its
 * result becomes *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    hpf_http_server *s = cls;
    reqctx *c = hpf_xcalloc(1, sizeof *c);

    c->srv = s;
    c->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    c->slot = s->slot_none;
    c->route = "";
    c->body.max = s->max_body;
    size_t plen = strcspn(uri, "?");
    c->raw_path = hpf_xstrndup(uri, plen > MAX_PATH_LEN ? MAX_PATH_LEN : plen);
    if (plen > MAX_PATH_LEN)
        c->uri = URI_TOO_LONG;
    else if (uri[plen] == '?' && !query_ok(uri + plen + 1))
        c->uri = URI_BAD;

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, c->remote,
                      sizeof c->remote);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      c->remote, sizeof c->remote);
    }
    hpf_metrics_in_flight_add(s->metrics, 1);
    return c;
}

static void ctx_free(reqctx *c)
{
    hpf_buf_cleanup(&c->body);
    hpf_arena_free(c->arena);
    free(c->raw_path);
    free(c);
}

/*
 * The keep-alive pattern of libmicrohttpd 0.9.75 (see PLATFORM-NOTES): the first call for a
 * request only marks it started; body chunks arrive on later calls; the answer is queued on the
 * call where *upload_size is 0. Queueing on the first call would close the connection after
 * every response.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    hpf_http_server *s = cls;
    reqctx *c = *con_cls;
    (void)version;

    if (!c) /* defensive: the URI callback always runs first */
        *con_cls = c = on_uri(s, url, conn);
    if (!c->started) {
        c->started = true;
        snprintf(c->method, sizeof c->method, "%s", method);
        set_request_id(c);
        c->arena = hpf_arena_new(4096);
        c->req = (hpf_http_req){.method = c->method,
                                .path = "",
                                .body = "",
                                .request_id = c->request_id,
                                .remote_ip = c->remote,
                                .arena = c->arena,
                                .conn = c};
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t n;
        if (cl && hpf_parse_i64(&n, cl, 0, INT64_MAX) == 0 && (uint64_t)n > s->max_body) {
            c->too_big = true;
            /* The client waits for "100 Continue": refuse now, before it sends the body. */
            const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
            if (expect && !strcasecmp(expect, "100-continue"))
                return dispatch(c);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        c->received += n;
        if (!c->too_big && hpf_buf_add(&c->body, upload, n) < 0) {
            c->too_big = true;
            hpf_buf_cleanup(&c->body);
        }
        if (c->too_big && c->received > s->max_body + MAX_DRAIN)
            return MHD_NO; /* enough draining: drop the connection */
        return MHD_YES;
    }
    if (c->status)
        return MHD_YES; /* already answered (early 413) */
    c->req.body = c->body.data ? c->body.data : "";
    c->req.body_len = c->body.len;
    return dispatch(c);
}

static void access_log(const reqctx *c, double secs, bool complete)
{
    hpf_buf b = HPF_BUF_INIT;
    char ts[64];
    hpf_log_now(ts);
    hpf_buf_printf(
        &b, "{\"ts\":\"%s\",\"level\":\"info\",\"event\":\"http.access\",\"request_id\":", ts);
    log_str(&b, c->request_id, 72);
    hpf_buf_adds(&b, ",\"remote\":");
    log_str(&b, c->remote, sizeof c->remote);
    hpf_buf_adds(&b, ",\"method\":");
    log_str(&b, c->method, sizeof c->method);
    hpf_buf_adds(&b, ",\"path\":");
    log_str(&b, c->raw_path ? c->raw_path : "", 512);
    hpf_buf_adds(&b, ",\"route\":");
    log_str(&b, c->route, 256);
    hpf_buf_printf(&b, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f", c->status,
                   (unsigned long long)c->bytes, secs * 1000.0);
    if (c->user) {
        hpf_buf_adds(&b, ",\"user\":");
        log_str(&b, c->user, 128);
    }
    if (!complete)
        hpf_buf_adds(&b, ",\"complete\":false");
    hpf_buf_adds(&b, "}");
    hpf_log_json_line(HPF_LOG_INFO, b.data);
    hpf_buf_cleanup(&b);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    hpf_http_server *s = cls;
    reqctx *c = *con_cls;
    (void)conn;
    if (!c)
        return;
    *con_cls = NULL;
    double secs = seconds_since(&c->t0);
    if (c->status) {
        hpf_metrics_observe(s->metrics, c->slot, c->method, c->status, secs);
        access_log(c, secs, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    } else {
        hpf_log(HPF_LOG_DEBUG, "http.unanswered", "request from %s ended before an answer (%d)",
                c->remote, (int)toe);
    }
    hpf_metrics_in_flight_add(s->metrics, -1);
    ctx_free(c);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    hpf_http_server *s = cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    if (!atomic_load(&s->running) && pthread_equal(pthread_self(), s->starter)) {
        size_t n = strlen(s->start_error); /* keep them all: the first is often the cause */
        snprintf(s->start_error + n, sizeof s->start_error - n, "%s%s", n ? "; " : "", msg);
        hpf_log(HPF_LOG_WARN, "http.mhd", "%s", msg);
    } else {
        /* TLS handshakes refused, idle timeouts, clients that hang up: routine on a server */
        hpf_log(HPF_LOG_DEBUG, "http.mhd", "%s", msg);
    }
}

/* ---- start and stop ---- */

static int read_pem(char **out, size_t *len, const char *path, const char *what, hpf_err *err)
{
    hpf_buf b = HPF_BUF_INIT;
    char chunk[4096];
    int rc = 0, fd = -1;

    b.max = MAX_PEM_SIZE;
    if (!path) {
        rc = hpf_err_set(err, HPF_EIO, "no TLS %s file configured", what);
        goto done;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot open TLS %s %s: %s", what, path, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc =
                hpf_err_set(err, HPF_EIO, "cannot read TLS %s %s: %s", what, path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (hpf_buf_add(&b, chunk, (size_t)n) < 0) {
            rc = hpf_err_set(err, HPF_EIO, "TLS %s %s is larger than 1 MiB", what, path);
            goto done;
        }
    }
    if (b.len == 0) {
        rc = hpf_err_set(err, HPF_EIO, "TLS %s %s is empty", what, path);
        goto done;
    }
    *out = hpf_buf_detach(&b, len);
done:
    hpf_wipe(chunk, sizeof chunk);
    if (b.data)
        hpf_wipe(b.data, b.cap);
    hpf_buf_cleanup(&b);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int parse_listen(struct sockaddr_storage *ss, const char *host, uint16_t port, hpf_err *err)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);

    memset(ss, 0, sizeof *ss);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        snprintf(buf, sizeof buf, "%s", !strcmp(host, "localhost") ? "127.0.0.1" : host);
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return 0;
    }
    return hpf_err_set(err, HPF_EINVAL, "listen address %.64s is not an IPv4 or IPv6 literal",
                       host);
}

static int build_router(hpf_http_server *s, const hpf_http_config *cfg, hpf_err *err)
{
    const hpf_http_route builtins[] = {
        {.method = "GET", .pattern = "/healthz", .handler = healthz, .udata = s},
        {.method = "GET", .pattern = "/readyz", .handler = readyz, .udata = s},
        {.method = "GET", .pattern = "/metrics", .handler = metrics, .udata = s},
    };
    size_t nb = sizeof builtins / sizeof builtins[0];
    size_t n = nb + (cfg->routes ? cfg->nroutes : 0);
    hpf_http_route *all = hpf_xcalloc(n, sizeof *all);
    const char **labels = hpf_xcalloc(n + 2, sizeof *labels);
    int rc;

    memcpy(all, builtins, sizeof builtins);
    if (n > nb)
        memcpy(all + nb, cfg->routes, (n - nb) * sizeof *all);
    rc = hpf_router_new(&s->router, all, n, err);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        labels[i] = hpf_router_route(s->router, i)->pattern;
    s->slot_static = n;
    s->slot_none = n + 1;
    labels[n] = "static";
    labels[n + 1] = "none";
    s->metrics = hpf_metrics_new(labels, n + 2);
done:
    free(all);
    free(labels);
    return rc;
}

static void log_listening(const struct sockaddr_storage *ss, uint16_t port, unsigned threads)
{
    char addr[INET6_ADDRSTRLEN] = "";
    bool v6 = ss->ss_family == AF_INET6;
    if (v6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, addr,
                  sizeof addr);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, addr,
                  sizeof addr);
    hpf_log(HPF_LOG_DEBUG, "http.listen", "serving https://%s%s%s:%u/ with %u threads",
            v6 ? "[" : "", addr, v6 ? "]" : "", (unsigned)port, threads);
}

/* Start libmicrohttpd on the prepared server; NULL on failure (s->start_error says why). */
static struct MHD_Daemon *start_daemon(hpf_http_server *s, const hpf_http_config *cfg,
                                       const struct sockaddr_storage *ss, unsigned threads)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    unsigned max_conn = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONN;
    unsigned timeout = cfg->conn_timeout_s ? cfg->conn_timeout_s : DEFAULT_TIMEOUT_S;
    unsigned per_ip = cfg->per_ip_connections ? cfg->per_ip_connections : DEFAULT_PER_IP;
    if (per_ip > max_conn)
        per_ip = max_conn;
    /* MHD warns about a pool size of 0 or 1, so the option is only given for a real pool. */
    struct MHD_OptionItem pool[] = {
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* One option and its value(s) per line; the logger goes first, or MHD prints messages
     * about earlier options itself. Value types must match what MHD reads from the va_list. */
    /* clang-format off */
    return MHD_start_daemon(flags, cfg->listen_port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
        MHD_OPTION_HTTPS_MEM_CERT, (const char *)s->cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, (const char *)s->key_pem,
        MHD_OPTION_HTTPS_PRIORITIES, tls_priorities,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_END);
    /* clang-format on */
}

int hpf_http_start(hpf_http_server **out, const hpf_http_config *cfg, hpf_err *err)
{
    hpf_http_server *s = hpf_xcalloc(1, sizeof *s);
    struct sockaddr_storage ss;
    size_t cert_len = 0;
    const union MHD_DaemonInfo *di;
    unsigned threads = cfg->threads ? cfg->threads : DEFAULT_THREADS;
    const char *host = cfg->listen_host ? cfg->listen_host : "127.0.0.1";
    int rc;

    *out = NULL;
    atomic_init(&s->running, false);
    s->starter = pthread_self();
    s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    s->grace_s = cfg->stop_grace_s ? cfg->stop_grace_s : DEFAULT_GRACE_S;
    s->ready = cfg->ready;
    s->ready_ctx = cfg->ready_ctx;

    rc = parse_listen(&ss, host, cfg->listen_port, err);
    if (rc < 0)
        goto done;
    rc = read_pem(&s->cert_pem, &cert_len, cfg->cert_pem_path, "certificate", err);
    if (rc < 0)
        goto done;
    rc = read_pem(&s->key_pem, &s->key_len, cfg->key_pem_path, "key", err);
    if (rc < 0)
        goto done;
    rc = build_router(s, cfg, err);
    if (rc < 0)
        goto done;
    if (cfg->static_dir) {
        rc = hpf_static_open(&s->files, cfg->static_dir, err);
        if (rc < 0)
            goto done;
    }
    s->daemon = start_daemon(s, cfg, &ss, threads);
    if (!s->daemon) {
        rc = hpf_err_set(
            err, HPF_EIO, "cannot serve HTTPS on %s port %u: %s", host, (unsigned)cfg->listen_port,
            s->start_error[0] ? s->start_error : "address in use or bad certificate or key");
        goto done;
    }
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->listen_port;
    atomic_store(&s->running, true);
    log_listening(&ss, s->port, threads);
    *out = s;
    s = NULL;
done:
    hpf_http_stop(s);
    return rc;
}

uint16_t hpf_http_port(const hpf_http_server *s)
{
    return s->port;
}

void hpf_http_stop(hpf_http_server *s)
{
    if (!s)
        return;
    if (s->daemon) {
        MHD_socket lsock = MHD_quiesce_daemon(s->daemon);
        /* Let requests already read finish; idle keep-alive connections are simply closed. */
        struct timespec tick = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        for (unsigned i = 0; i < s->grace_s * 100 && hpf_metrics_in_flight(s->metrics) > 0; i++)
            nanosleep(&tick, NULL);
        MHD_stop_daemon(s->daemon);
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
    }
    hpf_router_free(s->router);
    hpf_static_free(s->files);
    hpf_metrics_free(s->metrics);
    if (s->key_pem)
        hpf_wipe(s->key_pem, s->key_len);
    free(s->key_pem);
    free(s->cert_pem);
    free(s);
}
