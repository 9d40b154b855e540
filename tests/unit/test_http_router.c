/* The route matcher of http/: literal and {name} segments, decoding, precedence, 405 lists. */
#include "http/router.h"

#include <criterion/criterion.h>
#include <string.h>

static void h_a(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    (void)req;
    (void)resp;
    (void)udata;
}

static const int tag_list, tag_new, tag_one, tag_post, tag_sub, tag_root, tag_del;

static const hpf_http_route table[] = {
    {"GET", "/api/v1/employers", h_a, &tag_list},
    {"GET", "/api/v1/employers/{dwzh}", h_a, &tag_one},
    {"GET", "/api/v1/employers/new", h_a, &tag_new},
    {"POST", "/api/v1/employers", h_a, &tag_post},
    {"GET", "/api/v1/employers/{dwzh}/members/{grzh}", h_a, &tag_sub},
    {"DELETE", "/api/v1/session", h_a, &tag_del},
    {"GET", "/", h_a, &tag_root},
};
#define NTABLE (sizeof table / sizeof table[0])

static hpf_router *router;
static hpf_arena *arena;

static void setup(void)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_router_new(&router, table, NTABLE, &err), 0, "%s", err.msg);
    arena = hpf_arena_new(1024);
}

static void teardown(void)
{
    hpf_router_free(router);
    hpf_arena_free(arena);
}

static int match(const char *method, const char *path, hpf_route_match *m, char *allow,
                 size_t allow_size)
{
    return hpf_router_match(router, method, path, arena, m, allow, allow_size);
}

TestSuite(http_router, .init = setup, .fini = teardown);

Test(http_router, literal_route_matches_exactly)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_list);
    cr_assert_str_eq(m.route->pattern, "/api/v1/employers");
    cr_assert_eq(m.index, 0);
    cr_assert_eq(m.nparams, 0);
}

Test(http_router, capture_returns_the_decoded_segment)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers/3209%2000", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_one);
    cr_assert_eq(m.nparams, 1);
    cr_assert_str_eq(m.names[0], "dwzh");
    cr_assert_str_eq(m.values[0], "3209 00");
}

Test(http_router, encoded_slash_stays_inside_a_capture)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers/a%2Fb", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_one);
    cr_assert_str_eq(m.values[0], "a/b");
}

Test(http_router, two_captures_in_order)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers/E1/members/M%E5%BC%A0", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_sub);
    cr_assert_eq(m.nparams, 2);
    cr_assert_str_eq(m.names[0], "dwzh");
    cr_assert_str_eq(m.values[0], "E1");
    cr_assert_str_eq(m.names[1], "grzh");
    cr_assert_str_eq(m.values[1], "M\xe5\xbc\xa0");
}

Test(http_router, literal_beats_capture_whatever_the_table_order)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers/new", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_new);
    cr_assert_eq(m.nparams, 0);
}

Test(http_router, head_matches_a_get_route)
{
    hpf_route_match m;
    cr_assert_eq(match("HEAD", "/api/v1/employers/x", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_one);
}

Test(http_router, root_pattern_matches_only_root)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_root);
    cr_assert_eq(match("GET", "//", &m, NULL, 0), HPF_ENOTFOUND);
}

Test(http_router, wrong_method_gives_405_with_the_allowed_methods)
{
    hpf_route_match m;
    char allow[64];
    cr_assert_eq(match("PUT", "/api/v1/employers", &m, allow, sizeof allow), HPF_EMETHOD);
    cr_assert_str_eq(allow, "GET, HEAD, POST");
    cr_assert_eq(match("GET", "/api/v1/session", &m, allow, sizeof allow), HPF_EMETHOD);
    cr_assert_str_eq(allow, "DELETE");
}

Test(http_router, allow_list_is_truncated_not_overflowed)
{
    hpf_route_match m;
    char allow[6];
    cr_assert_eq(match("PUT", "/api/v1/employers", &m, allow, sizeof allow), HPF_EMETHOD);
    cr_assert_str_eq(allow, "GET");
}

Test(http_router, unknown_paths_are_not_found)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employer", &m, NULL, 0), HPF_ENOTFOUND);
    cr_assert_eq(match("GET", "/api/v1/employers/", &m, NULL, 0), HPF_ENOTFOUND,
                 "an empty segment never fills a capture");
    cr_assert_eq(match("GET", "/api/v1/employers/x/", &m, NULL, 0), HPF_ENOTFOUND);
    cr_assert_eq(match("GET", "/api/v1/employers/x/members", &m, NULL, 0), HPF_ENOTFOUND);
    cr_assert_eq(match("GET", "/API/v1/employers", &m, NULL, 0), HPF_ENOTFOUND);
}

Test(http_router, literal_compares_after_decoding)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/%65mployers", &m, NULL, 0), 0);
    cr_assert_eq(m.route->udata, &tag_list);
}

Test(http_router, malformed_escapes_are_invalid)
{
    hpf_route_match m;
    cr_assert_eq(match("GET", "/api/v1/employers/%zz", &m, NULL, 0), HPF_EINVAL);
    cr_assert_eq(match("GET", "/api/v1/employers/%4", &m, NULL, 0), HPF_EINVAL);
    cr_assert_eq(match("GET", "/api/v1/employers/%", &m, NULL, 0), HPF_EINVAL);
    cr_assert_eq(match("GET", "/api/v1/employers/a%00b", &m, NULL, 0), HPF_EINVAL);
    cr_assert_eq(match("GET", "api/v1/employers", &m, NULL, 0), HPF_EINVAL);
}

Test(http_router, very_deep_paths_are_not_found)
{
    hpf_route_match m;
    char path[400];
    size_t n = 0;
    for (int i = 0; i < 60; i++) {
        path[n++] = '/';
        path[n++] = 'a';
    }
    path[n] = '\0';
    cr_assert_eq(match("GET", path, &m, NULL, 0), HPF_ENOTFOUND);
}

Test(http_router, pct_decode_is_strict)
{
    char out[16];
    size_t n;
    cr_assert_eq(hpf_http_pct_decode(out, &n, "a%41+%7e", 8), 0);
    cr_assert_str_eq(out, "aA+~");
    cr_assert_eq(n, 4);
    cr_assert_eq(hpf_http_pct_decode(out, &n, "%g1", 3), HPF_EINVAL);
    cr_assert_eq(hpf_http_pct_decode(out, &n, "%00", 3), HPF_EINVAL);
}

static int compile_one(const char *method, const char *pattern)
{
    hpf_router *r = NULL;
    hpf_err err = HPF_ERR_INIT;
    const hpf_http_route t[] = {{method, pattern, h_a, NULL}};
    int rc = hpf_router_new(&r, t, 1, &err);
    hpf_router_free(r);
    return rc;
}

Test(http_router, bad_patterns_are_refused_at_compile_time)
{
    cr_assert_eq(compile_one("GET", "/ok/{id}"), 0);
    cr_assert_eq(compile_one("GET", "no/slash"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a//b"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/{}"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/{1x}"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/{id"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/x{id}"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/a/%41"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/{a}/{a}"), HPF_EINVAL);
    cr_assert_eq(compile_one("GET", "/{a}/{b}/{c}/{d}/{e}"), HPF_EINVAL);
    cr_assert_eq(compile_one("FETCH", "/a"), HPF_EINVAL);
    cr_assert_eq(compile_one("HEAD", "/a"), HPF_EINVAL);
}

Test(http_router, duplicate_routes_are_refused)
{
    hpf_router *r = NULL;
    hpf_err err = HPF_ERR_INIT;
    const hpf_http_route t[] = {{"GET", "/a/{x}", h_a, NULL}, {"GET", "/a/{x}", h_a, NULL}};
    cr_assert_eq(hpf_router_new(&r, t, 2, &err), HPF_EINVAL);
    cr_assert_null(r);
    cr_assert(strstr(err.msg, "defined twice") != NULL);
}

Test(http_router, table_need_not_outlive_the_router)
{
    hpf_router *r = NULL;
    hpf_err err = HPF_ERR_INIT;
    char method[] = "GET", pattern[] = "/t/{id}";
    hpf_http_route t[] = {{method, pattern, h_a, NULL}};
    hpf_route_match m;
    cr_assert_eq(hpf_router_new(&r, t, 1, &err), 0);
    memset(pattern, 'x', sizeof pattern - 1);
    memset(method, 'x', sizeof method - 1);
    cr_assert_eq(hpf_router_match(r, "GET", "/t/9", arena, &m, NULL, 0), 0);
    cr_assert_str_eq(m.route->pattern, "/t/{id}");
    cr_assert_str_eq(m.values[0], "9");
    hpf_router_free(r);
}
