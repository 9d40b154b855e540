#include "http/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct seg {
    char *text; /* literal text, or the capture name */
    bool capture;
} seg;

typedef struct croute {
    hpf_http_route route; /* strings point into this router's own copies */
    int nsegs;
    seg segs[HPF_ROUTER_MAX_SEGS];
} croute;

struct hpf_router {
    croute *routes;
    size_t n;
};

static const char *const known_methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                            "PATCH", "DELETE", "OPTIONS"};

static bool method_known(const char *m)
{
    for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
        if (!strcmp(m, known_methods[i]))
            return true;
    return false;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static void croute_cleanup(croute *c)
{
    for (int i = 0; i < c->nsegs; i++)
        free(c->segs[i].text);
    free((char *)c->route.method);
    free((char *)c->route.pattern);
}

/* Split and check one pattern into c->segs. */
static int compile_pattern(croute *c, const char *pattern, hpf_err *err)
{
    int nparams = 0;
    if (pattern[0] != '/')
        return hpf_err_set(err, HPF_EINVAL, "route %s: pattern must start with '/'", pattern);
    if (!strcmp(pattern, "/"))
        return 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return hpf_err_set(err, HPF_EINVAL, "route %s: empty segment", pattern);
        if (c->nsegs == HPF_ROUTER_MAX_SEGS)
            return hpf_err_set(err, HPF_EINVAL, "route %s: more than %d segments", pattern,
                               HPF_ROUTER_MAX_SEGS);
        seg *s = &c->segs[c->nsegs];
        if (p[0] == '{') {
            if (p[len - 1] != '}' || !name_ok(p + 1, len - 2))
                return hpf_err_set(err, HPF_EINVAL, "route %s: bad capture '%.*s'", pattern,
                                   (int)len, p);
            if (nparams == HPF_HTTP_MAX_PARAMS)
                return hpf_err_set(err, HPF_EINVAL, "route %s: more than %d captures", pattern,
                                   HPF_HTTP_MAX_PARAMS);
            for (int i = 0; i < c->nsegs; i++)
                if (c->segs[i].capture && strlen(c->segs[i].text) == len - 2 &&
                    !memcmp(c->segs[i].text, p + 1, len - 2))
                    return hpf_err_set(err, HPF_EINVAL, "route %s: capture named twice", pattern);
            s->capture = true;
            s->text = hpf_xstrndup(p + 1, len - 2);
            nparams++;
        } else {
            for (size_t i = 0; i < len; i++)
                if (p[i] == '{' || p[i] == '}' || p[i] == '%' || (unsigned char)p[i] <= ' ' ||
                    p[i] == '?' || p[i] == '#')
                    return hpf_err_set(err, HPF_EINVAL,
                                       "route %s: character '%c' not allowed in a literal", pattern,
                                       p[i]);
            s->capture = false;
            s->text = hpf_xstrndup(p, len);
        }
        c->nsegs++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

int hpf_router_new(hpf_router **out, const hpf_http_route *routes, size_t n, hpf_err *err)
{
    hpf_router *r = hpf_xcalloc(1, sizeof *r);
    int rc = 0;

    *out = NULL;
    r->routes = hpf_xcalloc(n ? n : 1, sizeof *r->routes);
    for (size_t i = 0; i < n; i++) {
        const hpf_http_route *src = &routes[i];
        croute *c = &r->routes[i];
        if (!src->method || !method_known(src->method) || !strcmp(src->method, "HEAD")) {
            rc = hpf_err_set(err, HPF_EINVAL, "route %zu: method %s not allowed", i,
                             src->method ? src->method : "(null)");
            goto done;
        }
        if (!src->pattern || !src->handler) {
            rc = hpf_err_set(err, HPF_EINVAL, "route %zu: pattern and handler are required", i);
            goto done;
        }
        c->route = (hpf_http_route){.method = hpf_xstrdup(src->method),
                                    .pattern = hpf_xstrdup(src->pattern),
                                    .handler = src->handler,
                                    .udata = src->udata};
        r->n = i + 1; /* from here on, route i is cleaned up by hpf_router_free */
        rc = compile_pattern(c, src->pattern, err);
        if (rc < 0)
            goto done;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r->routes[j].route.method, src->method) &&
                !strcmp(r->routes[j].route.pattern, src->pattern)) {
                rc = hpf_err_set(err, HPF_EINVAL, "route %s %s: defined twice", src->method,
                                 src->pattern);
                goto done;
            }
    }
    *out = r;
    r = NULL;
done:
    hpf_router_free(r);
    return rc;
}

void hpf_router_free(hpf_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        croute_cleanup(&r->routes[i]);
    free(r->routes);
    free(r);
}

size_t hpf_router_count(const hpf_router *r)
{
    return r->n;
}

const hpf_http_route *hpf_router_route(const hpf_router *r, size_t i)
{
    return &r->routes[i].route;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hpf_http_pct_decode(char *out, size_t *out_len, const char *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (n - i < 3)
            return HPF_EINVAL;
        int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return HPF_EINVAL;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}

static bool method_matches(const char *route_method, const char *method)
{
    return !strcmp(route_method, method) ||
           (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* True when route a is more specific than route b (both matched the same path). */
static bool more_specific(const croute *a, const croute *b)
{
    for (int i = 0; i < a->nsegs; i++)
        if (a->segs[i].capture != b->segs[i].capture)
            return !a->segs[i].capture;
    return false;
}

static bool path_matches(const croute *c, char *const *segs, int nsegs)
{
    if (c->nsegs != nsegs)
        return false;
    for (int i = 0; i < nsegs; i++) {
        if (c->segs[i].capture) {
            if (segs[i][0] == '\0')
                return false;
        } else if (strcmp(c->segs[i].text, segs[i])) {
            return false;
        }
    }
    return true;
}

static void allow_add(char *allow, size_t allow_size, const char *m)
{
    size_t len = strlen(allow);
    size_t mlen = strlen(m);
    /* whole words only: "GET" must not be found inside another method */
    for (const char *p = allow; (p = strstr(p, m)) != NULL; p += mlen)
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
            return;
    size_t need = (len ? 2 : 0) + mlen;
    if (len + need + 1 > allow_size)
        return;
    if (len) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, m, mlen + 1);
}

int hpf_router_match(const hpf_router *r, const char *method, const char *raw_path,
                     hpf_arena *arena, hpf_route_match *m, char *allow, size_t allow_size)
{
    char *segs[HPF_ROUTER_MAX_SEGS];
    int nsegs = 0;

    memset(m, 0, sizeof *m);
    if (allow && allow_size)
        allow[0] = '\0';
    if (raw_path[0] != '/')
        return HPF_EINVAL;

    /* Decode each segment into one arena copy: split first, so "%2F" never splits. */
    size_t plen = strlen(raw_path);
    char *buf = hpf_arena_alloc(arena, plen + 1);
    bool too_many = false;
    if (plen > 1) {
        const char *p = raw_path + 1;
        char *o = buf;
        for (;;) {
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            size_t dlen;
            if (hpf_http_pct_decode(o, &dlen, p, len) < 0)
                return HPF_EINVAL;
            if (nsegs < HPF_ROUTER_MAX_SEGS)
                segs[nsegs++] = o;
            else
                too_many = true; /* keep validating the escapes; no route can match */
            o += dlen + 1;
            if (!end)
                break;
            p = end + 1;
        }
    }
    if (too_many)
        return HPF_ENOTFOUND;

    const croute *best = NULL;
    size_t best_i = 0;
    bool path_seen = false;
    for (size_t i = 0; i < r->n; i++) {
        const croute *c = &r->routes[i];
        if (!path_matches(c, segs, nsegs))
            continue;
        path_seen = true;
        if (!method_matches(c->route.method, method)) {
            if (allow && allow_size) {
                allow_add(allow, allow_size, c->route.method);
                if (!strcmp(c->route.method, "GET"))
                    allow_add(allow, allow_size, "HEAD");
            }
            continue;
        }
        if (!best || more_specific(c, best)) {
            best = c;
            best_i = i;
        }
    }
    if (!best)
        return path_seen ? HPF_EMETHOD : HPF_ENOTFOUND;

    m->index = best_i;
    m->route = &best->route;
    for (int i = 0; i < nsegs; i++) {
        if (!best->segs[i].capture)
            continue;
        m->names[m->nparams] = best->segs[i].text;
        m->values[m->nparams] = segs[i];
        m->nparams++;
    }
    return 0;
}
