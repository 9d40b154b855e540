#include "peers/transport.h"

#include "base/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hpf_peers {
    char *url; /* base, without a trailing '/' */
    char *ca;  /* PEM file, or NULL for the system store */
};

struct hpf_peers_conn {
    const hpf_peers *peers;
    CURL *curl;
    const atomic_bool *abort_flag;
    char errbuf[CURL_ERROR_SIZE];
};

static const struct {
    const char *peer, *path;
} paths[] = {
    {"sms", "/sms/v1/messages"},
    {"notary", "/notary/v1/anchors"},
    {"citytransfer", "/citytransfer/v1/messages"}, /* BDC9xx, peers/citytransfer.h */
};

const char *hpf_peers_path(const char *peer)
{
    for (size_t i = 0; peer && i < sizeof paths / sizeof paths[0]; i++)
        if (!strcmp(peer, paths[i].peer))
            return paths[i].path;
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

/* curl_global_init must run once before any handle exists; pthread_once makes that so even if
 * two dispatchers started at once. It is never undone: the process ends instead. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n <= 8 || n > 512 || strncmp(u, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '\\' || c == '@')
            return false;
    }
    return u[8] != '/';
}

int hpf_peers_new(hpf_peers **out, const char *base_url, const char *ca_file, hpf_err *err)
{
    *out = NULL;
    if (!base_url || !url_ok(base_url))
        return hpf_err_field(err, HPF_EINVAL, "--peers", "peers.url",
                             "peers URL must be https://HOST[:PORT][/PATH] without a query or "
                             "user name (plain http is never used)");
    if (ca_file && *ca_file && access(ca_file, R_OK) != 0)
        return hpf_err_field(err, HPF_EINVAL, "--peers-ca", "peers.ca",
                             "cannot read the peers CA file %.200s", ca_file);
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return hpf_err_set(err, HPF_EINTERNAL, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    hpf_peers *p = hpf_xcalloc(1, sizeof *p);
    p->url = hpf_xstrdup(base_url);
    size_t n = strlen(p->url);
    while (n > 8 && p->url[n - 1] == '/')
        p->url[--n] = '\0';
    p->ca = ca_file && *ca_file ? hpf_xstrdup(ca_file) : NULL;
    *out = p;
    return 0;
}

void hpf_peers_free(hpf_peers *p)
{
    if (!p)
        return;
    free(p->url);
    free(p->ca);
    free(p);
}

const char *hpf_peers_url(const hpf_peers *p)
{
    return p->url;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    hpf_buf *b = userdata;
    size_t n = size * nmemb;
    /* Over the cap: a short count makes libcurl abort the transfer (CURLE_WRITE_ERROR). */
    return hpf_buf_add(b, ptr, n) == 0 ? n : 0;
}

/* The options that stay the same for every message of this handle. */
static bool setup(hpf_peers_conn *c)
{
    CURL *h = c->curl;
    bool ok =
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)HPF_PEERS_CONNECT_TIMEOUT_MS) ==
            CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HPF_PEERS_TOTAL_TIMEOUT_MS) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_USERAGENT, "hpf/" HPF_VERSION) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK;
    if (ok && c->peers->ca)
        ok = curl_easy_setopt(h, CURLOPT_CAINFO, c->peers->ca) == CURLE_OK;
    return ok;
}

int hpf_peers_conn_new(hpf_peers_conn **out, hpf_peers *p, hpf_err *err)
{
    hpf_peers_conn *c = hpf_xcalloc(1, sizeof *c);
    c->peers = p;
    c->curl = curl_easy_init();
    if (!c->curl || !setup(c)) {
        hpf_peers_conn_free(c);
        *out = NULL;
        return hpf_err_set(err, HPF_EINTERNAL, "libcurl: cannot set up a connection handle");
    }
    *out = c;
    return 0;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const hpf_peers_conn *c = clientp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return c->abort_flag && atomic_load(c->abort_flag) ? 1 : 0; /* non-zero aborts */
}

void hpf_peers_conn_abort_on(hpf_peers_conn *c, const atomic_bool *flag)
{
    c->abort_flag = flag;
    if (flag) {
        curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
        curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    } else {
        curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
    }
}

void hpf_peers_conn_free(hpf_peers_conn *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c);
}

static bool retryable_status(long s)
{
    return s == 408 || s == 425 || s == 429 || s >= 500;
}

/* The start of a reply body as one printable line, for error messages. */
static void snippet(char *out, size_t size, const hpf_buf *b)
{
    size_t k = 0;
    for (size_t i = 0; i < b->len && k + 1 < size && i < 160; i++) {
        unsigned char ch = (unsigned char)b->data[i];
        out[k++] = ch < ' ' || ch == 0x7f ? ' ' : (char)ch;
    }
    out[k] = '\0';
}

int hpf_peers_send(hpf_peers_conn *c, const char *peer, const char *idem_key, const char *body,
                   hpf_peers_reply *reply, hpf_err *err)
{
    hpf_buf_reset(&reply->body);
    if (!reply->body.max)
        reply->body.max = HPF_PEERS_REPLY_MAX;
    reply->status = 0;
    const char *path = hpf_peers_path(peer);
    if (!path)
        return hpf_err_field(err, HPF_EINVAL, "peer", "peers.unknown", "no peer named %.40s",
                             peer ? peer : "(null)");
    char url[640], keyh[192];
    snprintf(url, sizeof url, "%s%s", c->peers->url, path);
    snprintf(keyh, sizeof keyh, "Idempotency-Key: %s", idem_key);
    struct curl_slist *hdrs = NULL, *t;
    const char *lines[] = {"Content-Type: application/json", "Accept: application/json",
                           "Expect:", keyh};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        t = curl_slist_append(hdrs, lines[i]);
        if (!t) {
            curl_slist_free_all(hdrs);
            return hpf_err_set(err, HPF_EINTERNAL, "libcurl: out of memory for headers");
        }
        hdrs = t;
    }
    CURL *h = c->curl;
    c->errbuf[0] = '\0';
    CURLcode cc = CURLE_OK;
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply->body) != CURLE_OK)
        cc = CURLE_FAILED_INIT;
    else
        cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK)
        return hpf_err_set(err, HPF_EBUSY, "%s: %s", url,
                           c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
    char snip[192];
    snippet(snip, sizeof snip, &reply->body);
    if (reply->status < 200 || reply->status > 299)
        return hpf_err_set(err, retryable_status(reply->status) ? HPF_EBUSY : HPF_EUNPROC,
                           "%s answered %ld: %s", url, reply->status, snip);
    json_t *doc = json_loadb(reply->body.data ? reply->body.data : "", reply->body.len, 0, NULL);
    bool object = json_is_object(doc);
    json_decref(doc);
    if (!object)
        return hpf_err_set(err, HPF_EBUSY, "%s answered %ld without a JSON object: %s", url,
                           reply->status, snip);
    return 0;
}
