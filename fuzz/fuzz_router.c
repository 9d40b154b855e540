/*
 * fuzz_router: the route matcher of http/router.h with arbitrary methods, paths and route
 * tables, compared with a reference matcher written here from the contract in router.h:
 * split the raw path on '/', percent-decode each segment strictly (no %00), compare with literal
 * and {name} segments; the most specific route wins (at the first segment where two patterns
 * differ a literal beats a capture, ties go to the earlier entry); HEAD matches GET; a path that
 * matches only under other methods is HPF_EMETHOD with those methods in `allow`; a malformed path
 * is HPF_EINVAL; more than HPF_ROUTER_MAX_SEGS segments match nothing.
 *
 * Input (text, cut at the first NUL byte), one request per line, "METHOD PATH" (a line without a
 * space is a GET of that path):
 *   - by default the requests go to the server's real table: the API routes of api/
 *     (hpf_api_routes) plus the built-in GET /healthz, /readyz and /metrics;
 *   - an input starting with "ROUTES\n" first lists a table of its own, one "METHOD PATTERN" a
 *     line up to an empty line; hpf_router_new must accept it exactly when the reference finds it
 *     valid, and then every pattern, instantiated, and the requests after the empty line are
 *     matched against it.
 * hpf_http_pct_decode also gets the whole input. Any disagreement aborts with both answers.
 */
#include "api/api.h"
#include "base/log.h"
#include "http/router.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_router: %s:%d: %s: ", __FILE__, __LINE__, #cond);                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_ROUTES 64
#define MAX_LINE   4096

static void nop(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    (void)req;
    (void)resp;
    (void)udata;
}

/* ---- reference: patterns and paths ---- */

typedef struct rseg {
    char text[MAX_LINE];
    size_t len;
    bool capture;
} rseg;

typedef struct rpat {
    int n;
    rseg segs[HPF_ROUTER_MAX_SEGS];
} rpat;

/* Append s to the NUL-terminated text in dst (capacity cap), truncating: no strcat. */
static void append(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    if (n < cap)
        snprintf(dst + n, cap - n, "%s", s);
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Strict decoding of s[0..n) into out (n + 1 bytes); -1 on a bad escape or %00. */
static long ref_decode(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (n - i < 3)
            return -1;
        int hi = hexv(s[i + 1]), lo = hexv(s[i + 2]);
        if (hi < 0 || lo < 0 || hi * 16 + lo == 0)
            return -1;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return (long)o;
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Parse a pattern as router.h describes it; false when hpf_router_new must refuse it. */
static bool ref_pattern(rpat *p, const char *pat)
{
    p->n = 0;
    if (pat[0] != '/')
        return false;
    if (!strcmp(pat, "/"))
        return true;
    int captures = 0;
    const char *s = pat + 1;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || p->n == HPF_ROUTER_MAX_SEGS)
            return false;
        rseg *g = &p->segs[p->n++];
        if (s[0] == '{') {
            if (len < 3 || s[len - 1] != '}' || len - 2 > 32 || ++captures > HPF_HTTP_MAX_PARAMS)
                return false;
            for (size_t i = 1; i < len - 1; i++)
                if (!name_char(s[i], i == 1))
                    return false;
            for (int k = 0; k < p->n - 1; k++)
                if (p->segs[k].capture && p->segs[k].len == len - 2 &&
                    !memcmp(p->segs[k].text, s + 1, len - 2))
                    return false;
            g->capture = true;
            memcpy(g->text, s + 1, len - 2);
            g->len = len - 2;
        } else {
            for (size_t i = 0; i < len; i++)
                if (strchr("{}%?#", s[i]) || (unsigned char)s[i] <= ' ')
                    return false;
            g->capture = false;
            memcpy(g->text, s, len);
            g->len = len;
        }
        g->text[g->len] = '\0';
        if (!e)
            return true;
        s = e + 1;
    }
}

static bool method_ok(const char *m)
{
    static const char *const known[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(m, known[i]))
            return true;
    return false;
}

typedef struct rtable {
    size_t n;
    hpf_http_route routes[MAX_ROUTES];
    rpat pats[MAX_ROUTES];
} rtable;

static bool methods_match(const char *route_method, const char *method)
{
    return !strcmp(route_method, method) ||
           (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* ---- one request against a table, both ways ---- */

static void check_request(const hpf_router *r, const rtable *t, const char *method,
                          const char *path)
{
    /* reference */
    int want;
    size_t want_i = 0;
    char *segs[512];
    size_t nsegs = 0;
    bool bad = path[0] != '/';
    char *segbuf = malloc(strlen(path) + 1);
    if (!bad && strlen(path) > 1) {
        char *o = segbuf;
        const char *s = path + 1;
        for (;;) {
            const char *e = strchr(s, '/');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            long d = ref_decode(o, s, len);
            if (d < 0) {
                bad = true;
                break;
            }
            if (nsegs < sizeof segs / sizeof segs[0])
                segs[nsegs] = o;
            nsegs++;
            o += d + 1;
            if (!e)
                break;
            s = e + 1;
        }
    }
    bool path_seen = false;
    char allow_want[256] = "";
    if (bad) {
        want = HPF_EINVAL;
    } else if (nsegs > HPF_ROUTER_MAX_SEGS) {
        want = HPF_ENOTFOUND;
    } else {
        want = HPF_ENOTFOUND;
        for (size_t i = 0; i < t->n; i++) {
            const rpat *p = &t->pats[i];
            if ((size_t)p->n != nsegs)
                continue;
            bool ok = true;
            for (int k = 0; ok && k < p->n; k++)
                ok = p->segs[k].capture ? segs[k][0] != '\0' : !strcmp(p->segs[k].text, segs[k]);
            if (!ok)
                continue;
            path_seen = true;
            if (!methods_match(t->routes[i].method, method)) {
                char word[16];
                snprintf(word, sizeof word, " %s,", t->routes[i].method);
                if (!strstr(allow_want, word))
                    append(allow_want, sizeof allow_want, word);
                if (!strcmp(t->routes[i].method, "GET") && !strstr(allow_want, " HEAD,"))
                    append(allow_want, sizeof allow_want, " HEAD,");
                continue;
            }
            if (want == 0) {
                /* lexicographic on the capture masks: a literal first wins */
                const rpat *b = &t->pats[want_i];
                int k = 0;
                while (k < p->n && p->segs[k].capture == b->segs[k].capture)
                    k++;
                if (k == p->n || p->segs[k].capture)
                    continue;
            }
            want = 0;
            want_i = i;
        }
        if (want != 0 && path_seen)
            want = HPF_EMETHOD;
    }

    /* the router */
    hpf_arena *arena = hpf_arena_new(1024);
    hpf_route_match m;
    char allow[256];
    memset(allow, 'Z', sizeof allow);
    int rc = hpf_router_match(r, method, path, arena, &m, allow, sizeof allow);
    CHECK(rc == want, "%s %s: router %d, reference %d", method, path, rc, want);
    if (rc == 0) {
        CHECK(m.index == want_i, "%s %s: route %zu, reference %zu", method, path, m.index, want_i);
        CHECK(m.route == hpf_router_route(r, m.index), "the route pointer is the router's copy");
        CHECK(!strcmp(m.route->pattern, t->routes[want_i].pattern), "pattern");
        int k = 0;
        for (int s = 0; s < t->pats[want_i].n; s++) {
            if (!t->pats[want_i].segs[s].capture)
                continue;
            CHECK(k < m.nparams, "%s %s: capture %d missing", method, path, k);
            CHECK(!strcmp(m.names[k], t->pats[want_i].segs[s].text), "capture name %d", k);
            CHECK(!strcmp(m.values[k], segs[s]), "%s %s: capture %s = \"%s\" want \"%s\"", method,
                  path, m.names[k], m.values[k], segs[s]);
            k++;
        }
        CHECK(k == m.nparams, "%s %s: %d captures, reference %d", method, path, m.nparams, k);
    } else if (rc == HPF_EMETHOD) {
        CHECK(memchr(allow, '\0', sizeof allow) != NULL, "allow terminated");
        /* the same set of methods, written "A, B, C" */
        char norm[300] = "";
        for (const char *w = allow; *w;) {
            size_t len = strcspn(w, ",");
            char word[32];
            CHECK(len > 0 && len < 16, "%s %s: allow \"%s\"", method, path, allow);
            snprintf(word, sizeof word, " %.*s,", (int)len, w);
            CHECK(strstr(allow_want, word), "%s %s: allow names%s reference \"%s\"", method, path,
                  word, allow_want);
            CHECK(!strstr(norm, word), "%s %s: allow repeats%s", method, path, word);
            append(norm, sizeof norm, word);
            w += len;
            if (*w) {
                CHECK(w[1] == ' ', "%s %s: allow \"%s\" separated by \", \"", method, path, allow);
                w += 2;
            }
        }
        CHECK(strlen(norm) == strlen(allow_want), "%s %s: allow \"%s\", reference \"%s\"", method,
              path, allow, allow_want);
    } else {
        CHECK(m.route == NULL && m.nparams == 0, "no match leaves the match empty");
    }
    hpf_arena_free(arena);
    free(segbuf);
}

/* Split "METHOD PATH" (or "PATH") and check it. */
static void check_line(const hpf_router *r, const rtable *t, char *line)
{
    char *sp = strchr(line, ' ');
    if (sp) {
        *sp = '\0';
        check_request(r, t, line, sp + 1);
        *sp = ' ';
    } else {
        check_request(r, t, "GET", line);
    }
}

/* ---- the tables ---- */

static hpf_router *api_router;
static rtable api_table;

static void add_route(rtable *t, const hpf_http_route *src)
{
    CHECK(t->n < MAX_ROUTES, "the API has more than %d routes: raise MAX_ROUTES", MAX_ROUTES);
    t->routes[t->n] = *src;
    CHECK(ref_pattern(&t->pats[t->n], src->pattern), "the reference refuses %s", src->pattern);
    t->n++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hpf_log_set_level(HPF_LOG_ERROR + 1);
    size_t n;
    const hpf_http_route *api = hpf_api_routes(NULL, &n);
    for (size_t i = 0; i < n; i++)
        add_route(&api_table, &api[i]);
    static const hpf_http_route builtin[] = {
        {"GET", "/healthz", nop, NULL},
        {"GET", "/readyz", nop, NULL},
        {"GET", "/metrics", nop, NULL},
    };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        add_route(&api_table, &builtin[i]);
    hpf_err err = HPF_ERR_INIT;
    CHECK(hpf_router_new(&api_router, api_table.routes, api_table.n, &err) == 0, "%s", err.msg);
    return 0;
}

/* A table of the input's own: "METHOD PATTERN" lines up to an empty line. Returns where the
 * requests start, or NULL for a table longer than this harness holds. */
static char *own_table(char *s, rtable *t, char **methods, char **patterns, bool *valid)
{
    *valid = true;
    t->n = 0;
    while (*s && *s != '\n') {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        if (t->n == MAX_ROUTES || strlen(s) >= MAX_LINE)
            return NULL;
        char *sp = strchr(s, ' ');
        size_t i = t->n++;
        methods[i] = s;
        patterns[i] = sp ? sp + 1 : (char *)"";
        if (sp)
            *sp = '\0';
        t->routes[i] = (hpf_http_route){methods[i], patterns[i], nop, NULL};
        bool ok = method_ok(methods[i]) && ref_pattern(&t->pats[i], patterns[i]);
        for (size_t j = 0; ok && j < i; j++)
            ok = strcmp(methods[j], methods[i]) || strcmp(patterns[j], patterns[i]);
        *valid = *valid && ok;
        if (!nl)
            return s + strlen(s);
        s = nl + 1;
    }
    return *s ? s + 1 : s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    size_t n = strnlen((const char *)data, size);
    char *text = malloc(n + 1);
    char *dec = malloc(n + 1), *ref = malloc(n + 1);
    memcpy(text, data, n);
    text[n] = '\0';

    /* hpf_http_pct_decode on the whole input */
    size_t dlen = 0;
    int drc = hpf_http_pct_decode(dec, &dlen, text, n);
    long rlen = ref_decode(ref, text, n);
    CHECK((drc == 0) == (rlen >= 0), "pct_decode %d, reference %ld", drc, rlen);
    if (drc == 0)
        CHECK(dlen == (size_t)rlen && !memcmp(dec, ref, dlen + 1) && strlen(dec) == dlen,
              "pct_decode output");

    char *s = text;
    const hpf_router *r = api_router;
    const rtable *t = &api_table;
    static rtable own;
    hpf_router *own_router = NULL;
    if (!strncmp(s, "ROUTES\n", 7)) {
        char *methods[MAX_ROUTES], *patterns[MAX_ROUTES];
        bool valid;
        s = own_table(s + 7, &own, methods, patterns, &valid);
        if (!s)
            goto done;
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_router_new(&own_router, own.routes, own.n, &err);
        CHECK((rc == 0) == valid, "hpf_router_new says %d (%s), the reference %d", rc, err.msg,
              valid);
        if (rc < 0) {
            CHECK(own_router == NULL && err.code == HPF_EINVAL && err.msg[0], "refusal");
            goto done;
        }
        CHECK(hpf_router_count(own_router) == own.n, "count");
        r = own_router;
        t = &own;
        /* every pattern, its captures filled in, under its own method and under HEAD */
        for (size_t i = 0; i < own.n; i++) {
            char path[MAX_LINE * 2] = "";
            for (int k = 0; k < own.pats[i].n; k++) {
                append(path, sizeof path, "/");
                append(path, sizeof path, own.pats[i].segs[k].capture ? "v" : own.pats[i].segs[k].text);
            }
            if (!path[0])
                snprintf(path, sizeof path, "/");
            check_request(r, t, own.routes[i].method, path);
            check_request(r, t, "HEAD", path);
        }
    }
    while (*s) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        check_line(r, t, s);
        if (!nl)
            break;
        s = nl + 1;
    }
done:
    hpf_router_free(own_router);
    free(text);
    free(dec);
    free(ref);
    return 0;
}
