/* Unit tests for http/ratelimit: the bucket's burst, its refill in exact units, the wait it
 * names, keys that lose their slot, and which address X-Forwarded-For names behind a trusted
 * proxy. */
#include "http/ratelimit.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

Test(ratelimit, burst_then_refused_with_the_wait)
{
    hpf_ratelimit *rl = hpf_ratelimit_new(6, 3); /* a token every 10 s, 3 at once */
    unsigned wait = 0;
    for (int i = 0; i < 3; i++)
        cr_assert(hpf_ratelimit_take(rl, "192.0.2.1", 1000, &wait), "token %d", i);
    cr_assert_not(hpf_ratelimit_take(rl, "192.0.2.1", 1000, &wait));
    cr_assert_eq(wait, 10u);
    /* 9.999 s later: still none; at 10 s one, and the next waits 10 s again. */
    cr_assert_not(hpf_ratelimit_take(rl, "192.0.2.1", 10999, &wait));
    cr_assert_eq(wait, 1u);
    cr_assert(hpf_ratelimit_take(rl, "192.0.2.1", 11000, &wait));
    cr_assert_not(hpf_ratelimit_take(rl, "192.0.2.1", 11000, &wait));
    cr_assert_eq(wait, 10u);
    /* Another address has its own bucket. */
    cr_assert(hpf_ratelimit_take(rl, "192.0.2.2", 11000, &wait));
    /* A long idle fills the bucket to the burst, not beyond. */
    int got = 0;
    while (hpf_ratelimit_take(rl, "192.0.2.1", 10000000, &wait))
        got++;
    cr_assert_eq(got, 3);
    hpf_ratelimit_free(rl);
}

Test(ratelimit, no_limit_when_zero)
{
    cr_assert_null(hpf_ratelimit_new(0, 10));
    cr_assert_null(hpf_ratelimit_new(10, 0));
    unsigned wait = 0;
    for (int i = 0; i < 1000; i++)
        cr_assert(hpf_ratelimit_take(NULL, "192.0.2.1", 0, &wait));
}

Test(ratelimit, many_keys_stay_bounded_and_err_on_serving)
{
    /* Far more keys than slots: every new key starts with a full bucket, and a key that lost
     * its slot does too (never a refusal it did not earn). */
    hpf_ratelimit *rl = hpf_ratelimit_new(1, 1);
    unsigned wait = 0;
    char key[32];
    for (int i = 0; i < 4 * HPF_RATELIMIT_SLOTS; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        cr_assert(hpf_ratelimit_take(rl, key, 5000, &wait), "new key %s", key);
    }
    /* The most recent key is still in its slot and spent. */
    cr_assert_not(hpf_ratelimit_take(rl, key, 5000, &wait));
    cr_assert_eq(wait, 60u);
    hpf_ratelimit_free(rl);
}

Test(ratelimit, the_client_behind_trusted_proxies)
{
    char out[64];
    /* No trusted proxy: the header is the client's own claim and ignored. */
    hpf_ratelimit_client(out, sizeof out, "192.0.2.10", "203.0.113.5", NULL);
    cr_assert_str_eq(out, "192.0.2.10");
    hpf_ratelimit_client(out, sizeof out, "192.0.2.10", "203.0.113.5", "192.0.2.99");
    cr_assert_str_eq(out, "192.0.2.10");
    /* From a trusted proxy: the last address it received from. */
    hpf_ratelimit_client(out, sizeof out, "192.0.2.99", "198.51.100.1, 203.0.113.5", "192.0.2.99");
    cr_assert_str_eq(out, "203.0.113.5");
    /* Two trusted hops: skip both, from the right. */
    hpf_ratelimit_client(out, sizeof out, "192.0.2.99", "203.0.113.5,10.0.0.2",
                         "10.0.0.2, 192.0.2.99");
    cr_assert_str_eq(out, "203.0.113.5");
    /* IPv6. */
    hpf_ratelimit_client(out, sizeof out, "::1", "2001:db8::7", "::1");
    cr_assert_str_eq(out, "2001:db8::7");
    /* Garbage ends the walk at the last good address. */
    hpf_ratelimit_client(out, sizeof out, "192.0.2.99", "evil, 203.0.113.5", "192.0.2.99");
    cr_assert_str_eq(out, "203.0.113.5");
    hpf_ratelimit_client(out, sizeof out, "192.0.2.99", "203.0.113.5 x", "192.0.2.99");
    cr_assert_str_eq(out, "192.0.2.99");
    hpf_ratelimit_client(out, sizeof out, "192.0.2.99", "", "192.0.2.99");
    cr_assert_str_eq(out, "192.0.2.99");
}
