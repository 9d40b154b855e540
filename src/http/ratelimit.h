/*
 * http/ratelimit: token buckets per client key (an address), for the routes anybody may call
 * without a session (login, registration, the public document check). A bucket holds up to
 * `burst` tokens and gains `per_minute` tokens a minute; a request takes one or is refused with
 * the seconds until the next token.
 *
 * Memory is fixed: a table of HPF_RATELIMIT_SLOTS keys. A key not in the table takes the slot of
 * its probe window that has been idle longest; losing a slot only gives that key a full bucket
 * again, which errs on the side of serving. Thread-safe (one mutex: these routes are few).
 */
#ifndef HPF_HTTP_RATELIMIT_H
#define HPF_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_RATELIMIT_SLOTS 4096
#define HPF_RATELIMIT_KEY   64 /* bytes of a key kept; longer keys are cut */

typedef struct hpf_ratelimit hpf_ratelimit;

/* A limiter, or NULL when per_minute or burst is 0 (no limit: hpf_ratelimit_take accepts a NULL
 * limiter and always allows). */
hpf_ratelimit *hpf_ratelimit_new(unsigned per_minute, unsigned burst);
void hpf_ratelimit_free(hpf_ratelimit *rl);

/* Take a token for `key` at `now_ms` (a monotonic clock in milliseconds). True when allowed;
 * false with *retry_after_s (>= 1) the seconds until a token is back. */
bool hpf_ratelimit_take(hpf_ratelimit *rl, const char *key, int64_t now_ms,
                        unsigned *retry_after_s);

/* The client a request comes from: `peer`, unless peer is one of `trusted_proxies` (a comma-
 * separated list of address literals, may be NULL or empty) and `forwarded` (the
 * X-Forwarded-For value, may be NULL) names it: then the last address in it that is not a
 * trusted proxy. An entry that is not an IPv4 or IPv6 literal ends the walk (the peer is used).
 * Writes at most n-1 bytes to out. */
void hpf_ratelimit_client(char *out, size_t n, const char *peer, const char *forwarded,
                          const char *trusted_proxies);

#endif
