/* Unit tests for base/buf: the decimal append agrees with printf's %lld everywhere, edges
 * included. */
#include "base/buf.h"

#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void same_as_printf(int64_t v)
{
    hpf_buf b = HPF_BUF_INIT;
    char want[32];
    snprintf(want, sizeof want, "%" PRId64, v);
    cr_assert_eq(hpf_buf_add_i64(&b, v), 0);
    cr_assert_eq(b.len, strlen(want));
    cr_assert(memcmp(b.data, want, b.len) == 0, "%s", want);
    hpf_buf_cleanup(&b);
}

Test(buf, add_i64_writes_what_printf_writes)
{
    static const int64_t edges[] = {
        0,   1,         -1,         9,         10,        -10,           99,
        100, 123456789, -987654321, INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        same_as_printf(edges[i]);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        same_as_printf((int64_t)x >> (i % 63));
    }
}

Test(buf, add_i64_appends)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, "a:");
    hpf_buf_add_i64(&b, -42);
    hpf_buf_adds(&b, ":");
    hpf_buf_add_i64(&b, 7);
    cr_assert_eq(b.len, 7);
    cr_assert(memcmp(b.data, "a:-42:7", 7) == 0);
    hpf_buf_cleanup(&b);
}
