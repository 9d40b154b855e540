/* hpf-sim, SMS gateway peer: takes messages (POST /sms/v1/messages), keeps them, lists them
 * per number (GET /sms/v1/messages?to=PHONE, newest first; tests read one-time codes there)
 * and shows them on an HTML inbox page for the demo (GET /sms/inbox). */
#include "base/buf.h"
#include "base/parse.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 200 /* newest messages one list answer carries */

static bool phone_ok(const char *s)
{
    const char *d = s[0] == '+' ? s + 1 : s;
    size_t n = strlen(d);
    return n >= 5 && n <= 20 && strspn(d, "0123456789") == n;
}

/* The work of sim_sms_post under the lock; *in receives the decoded body (caller frees). */
static void sms_post_locked(sim *s, hpf_http_req *req, hpf_http_resp *resp, json_t **in)
{
    const char *key = NULL, *to = NULL, *tpl = NULL, *text = NULL;
    json_t *params = NULL;
    json_error_t je;
    hpf_err e = HPF_ERR_INIT;
    char id[32], now[64];
    if (sim_intercept(s, SIM_SMS, req, resp, &key))
        return;
    if (hpf_http_json_body(req, in, &e) < 0) {
        hpf_http_problem(req, resp, &e);
        return;
    }
    if (json_unpack_ex(*in, &je, JSON_STRICT, "{s:s, s:s, s?o, s?s}", "to", &to, "template", &tpl,
                       "params", &params, "text", &text) < 0 ||
        (params && !json_is_object(params))) {
        sim_problem(req, resp, HPF_EINVAL, "", "sim.sms_format",
                    "want {to, template, params (object), text (optional)}, nothing else");
        return;
    }
    if (!phone_ok(to) || !*tpl || (text && (!*text || !hpf_text_ok(text, strlen(text), false)))) {
        sim_problem(req, resp, HPF_EINVAL, "/to", "sim.sms_format",
                    "to must be 5..20 digits; template (and text when given) must not be empty");
        return;
    }
    if (json_array_size(s->sms) >= SIM_MAX_ITEMS) {
        sim_problem(req, resp, HPF_EBUSY, NULL, "sim.full", "hpf-sim holds too many SMS");
        return;
    }
    snprintf(id, sizeof id, "sms-%06zu", json_array_size(s->sms) + 1);
    sim_now(now);
    json_t *p = params ? json_incref(params) : json_object();
    json_t *msg = json_pack("{s:s, s:s, s:s, s:o, s:s?, s:s, s:s, s:i}", "message_id", id, "to", to,
                            "template", tpl, "params", p, "text", text, "received_at", now,
                            "idempotency_key", key, "repeats", 0);
    if (!msg) {
        sim_problem(req, resp, HPF_EINTERNAL, NULL, "sim.internal", "cannot keep the SMS");
        return;
    }
    json_array_append(s->sms, msg);
    sim_remember(s, SIM_SMS, key, 201,
                 json_pack("{s:s, s:s}", "message_id", id, "accepted_at", now), msg, resp);
    json_decref(msg);
}

void sim_sms_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    json_t *in = NULL;
    pthread_mutex_lock(&s->mu);
    sms_post_locked(s, req, resp, &in);
    pthread_mutex_unlock(&s->mu);
    json_decref(in);
}

void sim_sms_list(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    const char *to = hpf_http_query(req, "to");
    json_t *items = json_array();
    pthread_mutex_lock(&s->mu);
    for (size_t i = json_array_size(s->sms); i-- > 0 && json_array_size(items) < LIST_MAX;) {
        json_t *m = json_array_get(s->sms, i);
        if (!to || !strcmp(json_string_value(json_object_get(m, "to")), to))
            json_array_append_new(items, json_deep_copy(m));
    }
    pthread_mutex_unlock(&s->mu);
    hpf_http_json(resp, 200, json_pack("{s:o}", "items", items));
}

static void html_add(hpf_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            hpf_buf_adds(b, "&lt;");
            break;
        case '>':
            hpf_buf_adds(b, "&gt;");
            break;
        case '&':
            hpf_buf_adds(b, "&amp;");
            break;
        case '"':
            hpf_buf_adds(b, "&quot;");
            break;
        case '\'':
            hpf_buf_adds(b, "&#39;");
            break;
        default:
            hpf_buf_add(b, s, 1);
        }
    }
}

/* The demo's phone: every SMS, newest first, refreshed every 3 s (a meta refresh: the server's
 * Content-Security-Policy allows no script). */
void sim_sms_inbox(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    (void)req;
    hpf_buf *b = &resp->body;
    resp->content_type = "text/html; charset=utf-8";
    hpf_buf_adds(b, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"refresh\" content=\"3\">"
                    "<title>hpf-sim SMS inbox</title><style>"
                    "body{font-family:sans-serif;margin:2em;color:#222}"
                    "table{border-collapse:collapse}td,th{padding:.3em .8em;"
                    "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
                    "td.t{font-size:1.1em}</style></head><body>"
                    "<h1>SMS inbox (hpf-sim)</h1><p>Messages that HPF sent through the SMS "
                    "gateway, newest first. This page refreshes itself.</p>"
                    "<table><tr><th>Received</th><th>To</th><th>Template</th><th>Text</th>"
                    "<th>Repeats dropped</th></tr>");
    pthread_mutex_lock(&s->mu);
    size_t shown = 0;
    for (size_t i = json_array_size(s->sms); i-- > 0 && shown < LIST_MAX; shown++) {
        json_t *m = json_array_get(s->sms, i);
        hpf_buf_adds(b, "<tr><td>");
        html_add(b, json_string_value(json_object_get(m, "received_at")));
        hpf_buf_adds(b, "</td><td>");
        html_add(b, json_string_value(json_object_get(m, "to")));
        hpf_buf_adds(b, "</td><td>");
        html_add(b, json_string_value(json_object_get(m, "template")));
        hpf_buf_adds(b, "</td><td class=\"t\">");
        const char *text = json_string_value(json_object_get(m, "text"));
        if (text) {
            html_add(b, text);
        } else { /* a template message: what the gateway would fill in */
            char *params = json_dumps(json_object_get(m, "params"), JSON_COMPACT);
            html_add(b, params);
            free(params);
        }
        hpf_buf_printf(b, "</td><td>%lld</td></tr>",
                       (long long)json_integer_value(json_object_get(m, "repeats")));
    }
    pthread_mutex_unlock(&s->mu);
    if (!shown)
        hpf_buf_adds(b, "<tr><td colspan=\"5\">No messages yet.</td></tr>");
    hpf_buf_adds(b, "</table></body></html>\n");
}
