#include "http/metrics.h"

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const method_names[] = {"GET",   "HEAD",   "POST",    "PUT",
                                           "PATCH", "DELETE", "OPTIONS", "OTHER"};
#define NMETHODS (sizeof method_names / sizeof method_names[0])

/* Upper bounds of the latency buckets, in seconds; +Inf is implicit. */
static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10};
static const char *const bucket_text[] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                          "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                          "2.5",   "5",      "10"};
#define NBUCKETS (sizeof bucket_le / sizeof bucket_le[0])
_Static_assert(sizeof bucket_text / sizeof bucket_text[0] == NBUCKETS, "bucket tables differ");

typedef struct status_count {
    int status;
    uint64_t count;
} status_count;

typedef struct entry {
    uint64_t buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
    uint64_t count;
    double sum;
    status_count *statuses;
    size_t nstatuses;
} entry;

struct hpf_metrics {
    pthread_mutex_t mu;
    char **labels;
    size_t nslots;
    entry **entries; /* nslots * NMETHODS, allocated on first use */
    atomic_long in_flight;
};

/* ---- process-wide state ---- */

typedef struct custom {
    char *series; /* name with its optional {labels} */
    size_t base_len;
    char *help;
    uint64_t value;
    bool gauge; /* set, not added to */
} custom;

static pthread_mutex_t custom_mu = PTHREAD_MUTEX_INITIALIZER;
static custom *customs;
static size_t ncustoms, capcustoms;
static bool custom_full_logged;

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static double process_start;

static void record_start(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    process_start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

hpf_metrics *hpf_metrics_new(const char *const *labels, size_t n)
{
    pthread_once(&start_once, record_start);
    hpf_metrics *m = hpf_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->nslots = n;
    m->labels = hpf_xcalloc(n ? n : 1, sizeof *m->labels);
    for (size_t i = 0; i < n; i++)
        m->labels[i] = hpf_xstrdup(labels[i]);
    m->entries = hpf_xcalloc(n ? n * NMETHODS : 1, sizeof *m->entries);
    atomic_init(&m->in_flight, 0);
    return m;
}

void hpf_metrics_free(hpf_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots * NMETHODS; i++) {
        if (m->entries[i])
            free(m->entries[i]->statuses);
        free(m->entries[i]);
    }
    for (size_t i = 0; i < m->nslots; i++)
        free(m->labels[i]);
    free(m->labels);
    free(m->entries);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < NMETHODS; i++)
        if (method && !strcmp(method, method_names[i]))
            return i;
    return NMETHODS - 1;
}

void hpf_metrics_observe(hpf_metrics *m, size_t slot, const char *method, int status,
                         double seconds)
{
    if (slot >= m->nslots)
        return;
    if (status < 100 || status > 599)
        status = 599; /* defensive: keep the label set bounded */
    size_t b = 0;
    while (b < NBUCKETS && seconds > bucket_le[b])
        b++;

    pthread_mutex_lock(&m->mu);
    entry **ep = &m->entries[slot * NMETHODS + method_index(method)];
    if (!*ep)
        *ep = hpf_xcalloc(1, sizeof **ep);
    entry *e = *ep;
    if (b < NBUCKETS)
        e->buckets[b]++;
    e->count++;
    e->sum += seconds;
    size_t i = 0;
    while (i < e->nstatuses && e->statuses[i].status != status)
        i++;
    if (i == e->nstatuses) {
        /* at most 500 distinct statuses, so this stays bounded */
        e->statuses = hpf_xrealloc(e->statuses, (e->nstatuses + 1) * sizeof *e->statuses);
        e->statuses[i] = (status_count){.status = status, .count = 0};
        e->nstatuses++;
    }
    e->statuses[i].count++;
    pthread_mutex_unlock(&m->mu);
}

void hpf_metrics_in_flight_add(hpf_metrics *m, long delta)
{
    atomic_fetch_add(&m->in_flight, delta);
}

long hpf_metrics_in_flight(const hpf_metrics *m)
{
    return atomic_load(&((hpf_metrics *)m)->in_flight);
}

/* A label value with \, " and newline escaped. */
static int add_label_value(hpf_buf *out, const char *s)
{
    int rc = 0;
    for (const char *p = s; *p && rc == 0; p++) {
        if (*p == '\\')
            rc = hpf_buf_adds(out, "\\\\");
        else if (*p == '"')
            rc = hpf_buf_adds(out, "\\\"");
        else if (*p == '\n')
            rc = hpf_buf_adds(out, "\\n");
        else
            rc = hpf_buf_add(out, p, 1);
    }
    return rc;
}

static int add_help(hpf_buf *out, const char *name, size_t name_len, const char *help,
                    const char *type)
{
    int rc = hpf_buf_printf(out, "# HELP %.*s ", (int)name_len, name);
    for (const char *p = help; *p && rc == 0; p++) {
        if (*p == '\\')
            rc = hpf_buf_adds(out, "\\\\");
        else if (*p == '\n')
            rc = hpf_buf_adds(out, "\\n");
        else
            rc = hpf_buf_add(out, p, 1);
    }
    if (rc == 0)
        rc = hpf_buf_printf(out, "\n# TYPE %.*s %s\n", (int)name_len, name, type);
    return rc;
}

static int add_labels(hpf_buf *out, const char *route, const char *method)
{
    int rc = hpf_buf_adds(out, "{route=\"");
    if (rc == 0)
        rc = add_label_value(out, route);
    if (rc == 0)
        rc = hpf_buf_printf(out, "\",method=\"%s\"", method);
    return rc;
}

static int render_requests(hpf_metrics *m, hpf_buf *out)
{
    int rc = add_help(out, "hpf_http_requests_total", strlen("hpf_http_requests_total"),
                      "HTTP requests answered, by route pattern, method and status.", "counter");
    for (size_t i = 0; i < m->nslots * NMETHODS && rc == 0; i++) {
        const entry *e = m->entries[i];
        for (size_t s = 0; e && s < e->nstatuses && rc == 0; s++) {
            rc = hpf_buf_adds(out, "hpf_http_requests_total");
            if (rc == 0)
                rc = add_labels(out, m->labels[i / NMETHODS], method_names[i % NMETHODS]);
            if (rc == 0)
                rc = hpf_buf_printf(out, ",status=\"%d\"} %llu\n", e->statuses[s].status,
                                    (unsigned long long)e->statuses[s].count);
        }
    }
    return rc;
}

static int render_durations(hpf_metrics *m, hpf_buf *out)
{
    static const char name[] = "hpf_http_request_duration_seconds";
    int rc = add_help(out, name, strlen(name),
                      "Time from the request line to the last byte of the response.", "histogram");
    for (size_t i = 0; i < m->nslots * NMETHODS && rc == 0; i++) {
        const entry *e = m->entries[i];
        if (!e)
            continue;
        const char *route = m->labels[i / NMETHODS], *method = method_names[i % NMETHODS];
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS && rc == 0; b++) {
            cum = b < NBUCKETS ? cum + e->buckets[b] : e->count;
            rc = hpf_buf_printf(out, "%s_bucket", name);
            if (rc == 0)
                rc = add_labels(out, route, method);
            if (rc == 0)
                rc =
                    hpf_buf_printf(out, ",le=\"%s\"} %llu\n",
                                   b < NBUCKETS ? bucket_text[b] : "+Inf", (unsigned long long)cum);
        }
        if (rc == 0)
            rc = hpf_buf_printf(out, "%s_sum", name);
        if (rc == 0)
            rc = add_labels(out, route, method);
        if (rc == 0)
            rc = hpf_buf_printf(out, "} %.6f\n%s_count", e->sum, name);
        if (rc == 0)
            rc = add_labels(out, route, method);
        if (rc == 0)
            rc = hpf_buf_printf(out, "} %llu\n", (unsigned long long)e->count);
    }
    return rc;
}

static int render_custom(hpf_buf *out)
{
    int rc = 0;
    pthread_mutex_lock(&custom_mu);
    for (size_t i = 0; i < ncustoms && rc == 0; i++) {
        const custom *c = &customs[i];
        bool first = i == 0 || customs[i - 1].base_len != c->base_len ||
                     memcmp(customs[i - 1].series, c->series, c->base_len) != 0;
        if (first)
            rc = add_help(out, c->series, c->base_len, c->help, c->gauge ? "gauge" : "counter");
        if (rc == 0)
            rc = hpf_buf_printf(out, "%s %llu\n", c->series, (unsigned long long)c->value);
    }
    pthread_mutex_unlock(&custom_mu);
    return rc;
}

int hpf_metrics_render(hpf_metrics *m, hpf_buf *out)
{
    pthread_mutex_lock(&m->mu);
    int rc = render_requests(m, out);
    if (rc == 0)
        rc = render_durations(m, out);
    pthread_mutex_unlock(&m->mu);
    if (rc == 0)
        rc = add_help(out, "hpf_http_in_flight", strlen("hpf_http_in_flight"),
                      "Requests being received, handled or answered now.", "gauge");
    if (rc == 0)
        rc = hpf_buf_printf(out, "hpf_http_in_flight %ld\n", hpf_metrics_in_flight(m));
    if (rc == 0)
        rc = add_help(out, "process_start_time_seconds", strlen("process_start_time_seconds"),
                      "Start time of the process since the Unix epoch, in seconds.", "gauge");
    if (rc == 0)
        rc = hpf_buf_printf(out, "process_start_time_seconds %.3f\n", process_start);
    if (rc == 0)
        rc = render_custom(out);
    return rc;
}

/* ---- custom counters ---- */

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/*
 * Check `name{label="value",...}` (labels optional) and return the length of the base name, or 0
 * when the series is malformed.
 */
static size_t series_check(const char *s)
{
    size_t n = 0;
    while (s[n] && s[n] != '{') {
        if (!name_char(s[n], n == 0))
            return 0;
        n++;
    }
    if (n == 0)
        return 0;
    if (!s[n])
        return n;
    const char *p = s + n + 1;
    if (*p == '}')
        return p[1] ? 0 : n;
    for (;;) {
        const char *l = p;
        while (name_char(*p, p == l) && *p != ':')
            p++;
        if (p == l || *p++ != '=' || *p++ != '"')
            return 0;
        while (*p != '"') {
            if (!*p || *p == '\n')
                return 0;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                    return 0;
            }
            p++;
        }
        p++;
        if (*p == '}')
            return p[1] ? 0 : n;
        if (*p++ != ',')
            return 0;
    }
}

/* Order: base name first, so one base's series stay together, then the whole series. */
static int custom_cmp(const char *series, size_t base_len, const custom *c)
{
    size_t n = base_len < c->base_len ? base_len : c->base_len;
    int d = memcmp(series, c->series, n);
    if (d)
        return d;
    if (base_len != c->base_len)
        return base_len < c->base_len ? -1 : 1;
    return strcmp(series, c->series);
}

static void metric_update(const char *name, const char *help, uint64_t v, bool gauge);

void hpf_http_metric_add(const char *name, const char *help, uint64_t delta)
{
    metric_update(name, help, delta, false);
}

void hpf_http_metric_set(const char *name, const char *help, uint64_t value)
{
    metric_update(name, help, value, true);
}

static void metric_update(const char *name, const char *help, uint64_t delta, bool gauge)
{
    size_t base_len = name ? series_check(name) : 0;
    if (!base_len || strlen(name) > 256) {
        hpf_log(HPF_LOG_ERROR, "http.metric_name", "metric name refused: %.80s",
                name ? name : "(null)");
        return;
    }
    pthread_mutex_lock(&custom_mu);
    size_t lo = 0, hi = ncustoms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = custom_cmp(name, base_len, &customs[mid]);
        if (d == 0) {
            customs[mid].value = gauge ? delta : customs[mid].value + delta;
            pthread_mutex_unlock(&custom_mu);
            return;
        }
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (ncustoms == HPF_METRICS_MAX_CUSTOM) {
        bool log_it = !custom_full_logged;
        custom_full_logged = true;
        pthread_mutex_unlock(&custom_mu);
        if (log_it)
            hpf_log(HPF_LOG_ERROR, "http.metric_full", "more than %d custom series; %.80s dropped",
                    HPF_METRICS_MAX_CUSTOM, name);
        return;
    }
    if (ncustoms == capcustoms) {
        capcustoms = capcustoms ? capcustoms * 2 : 16;
        customs = hpf_xrealloc(customs, capcustoms * sizeof *customs);
    }
    memmove(&customs[lo + 1], &customs[lo], (ncustoms - lo) * sizeof *customs);
    customs[lo] = (custom){.series = hpf_xstrdup(name),
                           .base_len = base_len,
                           .help = hpf_xstrdup(help ? help : ""),
                           .value = delta,
                           .gauge = gauge};
    ncustoms++;
    pthread_mutex_unlock(&custom_mu);
}
