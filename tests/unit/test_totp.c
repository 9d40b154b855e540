/* Unit tests for trust/totp: the RFC 6238 appendix B vectors (SHA-1), the RFC 4226 appendix D
 * HOTP values, the ±1 step window, replay refusal, base32 and the otpauth URI. */
#include "trust/totp.h"

#include <criterion/criterion.h>

#include <string.h>

/* The RFC 6238 SHA-1 seed: ASCII "12345678901234567890" (20 bytes). */
static const unsigned char SEED[] = "12345678901234567890";
#define SEEDLEN 20

Test(totp, rfc6238_appendix_b_sha1_eight_digits)
{
    static const struct {
        int64_t t;
        uint32_t code;
    } v[] = {{59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
             {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_expect_eq(hpf_hotp(SEED, SEEDLEN, (uint64_t)hpf_totp_step(v[i].t), 8), v[i].code,
                     "T=%lld", (long long)v[i].t);
}

Test(totp, rfc6238_appendix_b_sha1_truncated_to_six_digits)
{
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
             {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char code[7];
        hpf_totp_code(code, SEED, SEEDLEN, v[i].t);
        cr_expect_str_eq(code, v[i].code, "T=%lld", (long long)v[i].t);
    }
}

Test(totp, rfc4226_appendix_d_hotp_values)
{
    static const uint32_t v[] = {755224, 287082, 359152, 969429, 338314,
                                 254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        cr_expect_eq(hpf_hotp(SEED, SEEDLEN, c, 6), v[c], "counter %llu", (unsigned long long)c);
}

Test(totp, check_accepts_one_step_either_way_and_no_more)
{
    int64_t now = 1111111111; /* step 37037037 */
    char prev[7], cur[7], next[7], far[7];
    hpf_totp_code(prev, SEED, SEEDLEN, now - 30);
    hpf_totp_code(cur, SEED, SEEDLEN, now);
    hpf_totp_code(next, SEED, SEEDLEN, now + 30);
    hpf_totp_code(far, SEED, SEEDLEN, now + 60);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, cur, 0), 37037037);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, prev, 0), 37037036);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, next, 0), 37037038);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, far, 0), 0, "two steps ahead is refused");
}

Test(totp, check_refuses_a_used_step)
{
    int64_t now = 1234567890;
    char code[7], prev[7];
    hpf_totp_code(code, SEED, SEEDLEN, now);
    hpf_totp_code(prev, SEED, SEEDLEN, now - 30);
    int64_t s = hpf_totp_check(SEED, SEEDLEN, now, code, 0);
    cr_assert_gt(s, 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, code, s), 0, "the same code again");
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, prev, s), 0, "an older code after a newer");
}

Test(totp, check_refuses_malformed_codes)
{
    int64_t now = 59;
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, "28708", 0), 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, "2870822", 0), 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, "28708a", 0), 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, "", 0), 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, NULL, 0), 0);
    cr_expect_eq(hpf_totp_check(SEED, SEEDLEN, now, "287082", 0), 1);
}

Test(totp, base32_rfc4648_vectors_and_round_trip)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},
             {"f", "MY"},
             {"fo", "MZXQ"},
             {"foo", "MZXW6"},
             {"foob", "MZXW6YQ"},
             {"fooba", "MZXW6YTB"},
             {"foobar", "MZXW6YTBOI"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char b[32];
        unsigned char back[32];
        size_t n = strlen(v[i].in);
        cr_expect_str_eq(hpf_base32(b, sizeof b, (const unsigned char *)v[i].in, n), v[i].out);
        cr_expect_eq(hpf_base32_decode(back, sizeof back, v[i].out), (int)n);
        cr_expect_eq(memcmp(back, v[i].in, n), 0);
    }
    char b[64];
    cr_expect_str_eq(hpf_base32(b, sizeof b, SEED, SEEDLEN), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

Test(totp, base32_decode_is_lenient_on_case_spaces_padding_and_strict_on_the_rest)
{
    unsigned char out[32];
    cr_expect_eq(hpf_base32_decode(out, sizeof out, "mzxw 6ytb oi======"), 6);
    cr_expect_eq(memcmp(out, "foobar", 6), 0);
    cr_expect_eq(hpf_base32_decode(out, sizeof out, "MZXW1"), -1, "1 is not base32");
    cr_expect_eq(hpf_base32_decode(out, sizeof out, "M"), -1, "5 bits are no byte");
    cr_expect_eq(hpf_base32_decode(out, sizeof out, "MZ"), -1, "leftover bits must be zero");
    cr_expect_eq(hpf_base32_decode(out, 2, "MZXW6"), -1, "does not fit");
}

Test(totp, uri_names_issuer_and_account_percent_encoded)
{
    char uri[HPF_TOTP_URI_MAX];
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_totp_uri(uri, sizeof uri, "HPF", "agent t@1", SEED, SEEDLEN, &err), 0);
    cr_expect_str_eq(uri, "otpauth://totp/HPF:agent%20t%401?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                          "&issuer=HPF&algorithm=SHA1&digits=6&period=30");
    char small[40];
    cr_expect_eq(hpf_totp_uri(small, sizeof small, "HPF", "x", SEED, SEEDLEN, &err), HPF_ETOOBIG);
    cr_expect_str_eq(small, "");
}

Test(totp, new_keys_differ)
{
    unsigned char a[HPF_TOTP_KEY_LEN], b[HPF_TOTP_KEY_LEN];
    hpf_totp_new_key(a);
    hpf_totp_new_key(b);
    cr_expect_neq(memcmp(a, b, sizeof a), 0);
}
