/*
 * api: the route table of /api/v1 and one file per resource. Each handler decodes and
 * validates the request (unknown fields are errors), calls service/ with plain C values and
 * encodes the answer. Every route declares the roles it admits; the dispatcher resolves the
 * session, enforces the role and the CSRF token on writes before any handler runs.
 */
#ifndef HPF_API_API_H
#define HPF_API_API_H

#include "http/server.h"
#include "service/svc.h"

#include <stddef.h>

/* The route table to hand to http/ (static storage). `svc` must outlive the server. */
const hpf_http_route *hpf_api_routes(hpf_svc *svc, size_t *n);

/* Limit the public routes (no session: login, registration, the document check) to
 * `per_minute` requests a minute per client with bursts of `burst` (0: no limit). The client is
 * the peer address, or for a peer listed in `trusted_proxies` (comma-separated addresses, a
 * TLS gateway or load balancer) the address its X-Forwarded-For names. Call before serving. */
void hpf_api_throttle(unsigned per_minute, unsigned burst, const char *trusted_proxies);

/* The roles a route of that table admits: a mask of hpf_role, 0 for a public route. */
unsigned hpf_api_route_roles(const hpf_http_route *r);
/* True when the route wants a fresh second factor (it moves money or decides a request). */
bool hpf_api_route_fresh(const hpf_http_route *r);

#endif
