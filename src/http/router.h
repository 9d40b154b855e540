/*
 * http/router: the route matcher of the HTTPS server. A route table is compiled once into lists
 * of segments; a request path (raw, still percent-encoded, without the query string) is split on
 * '/', each segment is percent-decoded strictly, and compared with literal segments and {name}
 * captures. There are no regular expressions. When several routes match a path, the most
 * specific wins: at the first segment where two patterns differ, a literal beats a capture; on a
 * tie the earlier table entry wins. A HEAD request matches GET routes. Splitting before decoding
 * means "%2F" inside a capture is data, never a separator.
 *
 * A compiled router is immutable and may be shared by any number of threads.
 */
#ifndef HPF_HTTP_ROUTER_H
#define HPF_HTTP_ROUTER_H

#include "base/err.h"
#include "base/mem.h"
#include "http/server.h"

#include <stddef.h>

/* Most segments a pattern may have. */
#define HPF_ROUTER_MAX_SEGS 32

typedef struct hpf_router hpf_router;

typedef struct hpf_route_match {
    size_t index;                /* position of the route in the table given to hpf_router_new */
    const hpf_http_route *route; /* the router's own copy (pattern, method, handler, udata) */
    int nparams;
    const char *names[HPF_HTTP_MAX_PARAMS];  /* capture names, owned by the router */
    const char *values[HPF_HTTP_MAX_PARAMS]; /* decoded capture values, in the arena */
} hpf_route_match;

/*
 * Compile `n` routes. Every string is copied, so the table need not outlive the router.
 * Returns 0, or HPF_EINVAL naming the bad route in err: unknown method, a pattern that does not
 * start with '/', an empty segment, a malformed {name}, '%' or a brace inside a literal, more
 * than HPF_HTTP_MAX_PARAMS captures or HPF_ROUTER_MAX_SEGS segments, a repeated method and
 * pattern, a NULL handler.
 */
int hpf_router_new(hpf_router **out, const hpf_http_route *routes, size_t n, hpf_err *err);
void hpf_router_free(hpf_router *r);

/* Number of routes, and route `i` (the router's copy; i < count). */
size_t hpf_router_count(const hpf_router *r);
const hpf_http_route *hpf_router_route(const hpf_router *r, size_t i);

/*
 * Match `method` and `raw_path` (begins with '/', percent-encoded, no query). Returns
 *   0              a route matched: *m is filled, capture values live in `arena`;
 *   HPF_EMETHOD    the path matches but no route has this method: `allow` receives the methods
 *                  that do, as "GET, HEAD, POST" (truncated to allow_size; may be NULL);
 *   HPF_ENOTFOUND  no pattern matches the path;
 *   HPF_EINVAL     the path is malformed (no leading '/', a bad or NUL percent escape).
 */
int hpf_router_match(const hpf_router *r, const char *method, const char *raw_path,
                     hpf_arena *arena, hpf_route_match *m, char *allow, size_t allow_size);

/*
 * Strict percent-decoding of `n` bytes of `in` into `out` (room for n + 1 bytes; the result is
 * NUL-terminated) and *out_len. '+' stays '+'. Returns 0, or HPF_EINVAL for '%' not followed by
 * two hex digits or for an escape that decodes to NUL.
 */
int hpf_http_pct_decode(char *out, size_t *out_len, const char *in, size_t n);

#endif
