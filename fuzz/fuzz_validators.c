/*
 * fuzz_validators: the input validators of base/ and domain/ on arbitrary bytes, each compared
 * with an independent reference written here from the rules (shared/domain/RULES.md §10, the
 * grammars in the headers), plus round trips:
 *   hpf_id_validate      GB 11643: 17 digits + check, real birth date 1800..today, MOD 11-2
 *                        with the explicit weights of RULES §10.1; a valid id re-validates from
 *                        its normal form, its check character recomputes, its mask is 4+10+4
 *   hpf_uscc_validate    GB 32100 with the outer mod 31 of RULES §10.2
 *   hpf_acct_validate    17 digits + MOD 11-2 ('X' upper case only)
 *   hpf_name_validate    1..50 code points of valid UTF-8, no controls, no edge spaces
 *   hpf_money_parse      -?(0|[1-9][0-9]*)(\.[0-9]{1,2})? within [min, max]; parse -> format ->
 *                        parse gives the same fen
 *   hpf_day_parse(_compact), hpf_month_parse: exact forms, years 1900..9999; format gives the
 *                        input back
 *   hpf_parse_i64        [+-]?[0-9]+ within [min, max]
 *   hpf_text_ok          UTF-8 without C0, DEL or C1 controls (tab when allowed)
 *   hpf_luhn_valid / hpf_luhn_check_digit, hpf_mobile_valid, hpf_orgcode_check_char
 * The NUL-terminated validators get the input up to its first NUL byte; hpf_text_ok gets every
 * byte. A disagreement aborts with both answers (a crash for libFuzzer).
 */
#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "base/parse.h"
#include "domain/ids.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_validators: %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The business date the id checks run against: 2026-11-15. */
#define TODAY_Y   2026
#define TODAY_YMD 20261115

/* ---- references, written from the rules, sharing nothing with src/ ---- */

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool real_date(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* RULES §10.1: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, "10X98765432"[S mod 11]. */
static char ref_mod112(const char *s17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

static bool ref_id_valid(const char *s, size_t n)
{
    if (n != 18)
        return false;
    for (int i = 0; i < 17; i++)
        if (!digit(s[i]))
            return false;
    char last = s[17] == 'x' ? 'X' : s[17];
    if (!digit(last) && last != 'X')
        return false;
    int y = num(s + 6, 4), m = num(s + 10, 2), d = num(s + 12, 2);
    if (y < 1800 || !real_date(y, m, d) || y * 10000 + m * 100 + d > TODAY_YMD)
        return false;
    return ref_mod112(s) == last;
}

static const char uscc_set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int ref_uscc_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    for (int i = 0; i < 31; i++)
        if (uscc_set[i] == c)
            return i;
    return -1;
}

static bool ref_uscc_valid(const char *s, size_t n)
{
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    if (n != 18)
        return false;
    int sum = 0;
    for (int i = 0; i < 18; i++)
        if (ref_uscc_value(s[i]) < 0)
            return false;
    int first = ref_uscc_value(s[0]);
    if (!((first >= 1 && first <= 9) || uscc_set[first] == 'A' || uscc_set[first] == 'N' ||
          uscc_set[first] == 'Y'))
        return false;
    for (int i = 0; i < 17; i++)
        sum += ref_uscc_value(s[i]) * w[i];
    return ref_uscc_value(s[17]) == (31 - sum % 31) % 31;
}

static bool ref_acct_valid(const char *s, size_t n)
{
    if (n != 18)
        return false;
    for (int i = 0; i < 17; i++)
        if (!digit(s[i]))
            return false;
    return s[17] == ref_mod112(s);
}

/* Decode one UTF-8 sequence at p (< end): its code point and length, or -1 when malformed
 * (overlong, surrogate, above U+10FFFF, truncated, a stray continuation byte). */
static int ref_utf8(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
        *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
        *cp = c & 0x07;
    } else {
        return -1;
    }
    if (end - p < n)
        return -1;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return -1;
    return n;
}

/* Valid UTF-8 without C0 (but tab when allowed), DEL or C1 controls; *count code points. */
static bool ref_text_ok(const unsigned char *s, size_t len, bool tab, size_t *count)
{
    const unsigned char *p = s, *end = s + len;
    size_t k = 0;
    while (p < end) {
        unsigned cp;
        int n = ref_utf8(p, end, &cp);
        if (n < 0)
            return false;
        if ((cp < 0x20 && !(tab && cp == '\t')) || (cp >= 0x7f && cp < 0xa0))
            return false;
        p += n;
        k++;
    }
    if (count)
        *count = k;
    return true;
}

static bool ref_name_valid(const char *s, size_t n)
{
    size_t k;
    if (n == 0 || !ref_text_ok((const unsigned char *)s, n, false, &k) || k > 50)
        return false;
    static const char *const sp[] = {" ", "\xc2\xa0", "\xe3\x80\x80"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(sp[i]);
        if (n >= l && (!memcmp(s, sp[i], l) || !memcmp(s + n - l, sp[i], l)))
            return false;
    }
    return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]{1,2})? within [min, max]; *v in fen. */
static bool ref_money(const char *s, int64_t min, int64_t max, int64_t *v)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    if (!digit(*s) || (s[0] == '0' && digit(s[1])))
        return false;
    __int128 x = 0;
    for (; digit(*s); s++) {
        x = x * 10 + (*s - '0');
        if (x > (__int128)INT64_MAX)
            return false;
    }
    x *= 100;
    if (*s == '.') {
        s++;
        if (!digit(*s))
            return false;
        x += (*s++ - '0') * 10;
        if (digit(*s))
            x += *s++ - '0';
    }
    if (*s || x > (__int128)INT64_MAX)
        return false;
    if (neg)
        x = -x;
    if (x < min || x > max)
        return false;
    *v = (int64_t)x;
    return true;
}

static bool ref_i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    __int128 x = 0;
    for (; *s; s++) {
        if (!digit(*s))
            return false;
        x = x * 10 + (*s - '0');
        if (x > (__int128)INT64_MAX + 1)
            x = (__int128)INT64_MAX + 2; /* saturate: out of every range */
    }
    if (neg)
        x = -x;
    if (x < min || x > max)
        return false;
    *v = (int64_t)x;
    return true;
}

static bool ref_day(const char *s, size_t n, bool compact)
{
    if (n != (compact ? 8u : 10u))
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = !compact && (i == 4 || i == 7);
        if (dash ? s[i] != '-' : !digit(s[i]))
            return false;
    }
    int y = num(s, 4), m = num(s + (compact ? 4 : 5), 2), d = num(s + (compact ? 6 : 8), 2);
    return y >= 1900 && real_date(y, m, d);
}

static bool ref_month(const char *s, size_t n)
{
    if (n != 7 || s[4] != '-')
        return false;
    for (size_t i = 0; i < 7; i++)
        if (i != 4 && !digit(s[i]))
            return false;
    int y = num(s, 4), m = num(s + 5, 2);
    return y >= 1900 && m >= 1 && m <= 12;
}

static bool ref_luhn(const char *s, size_t n)
{
    if (n < 2)
        return false;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!digit(s[n - 1 - i]))
            return false;
        int d = s[n - 1 - i] - '0';
        if (i % 2) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

static bool ref_mobile(const char *s, size_t n)
{
    if (n != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return false;
    for (size_t i = 2; i < 11; i++)
        if (!digit(s[i]))
            return false;
    return true;
}

/* ---- the checks ---- */

static const hpf_err no_err = HPF_ERR_INIT;

static void check_err(const hpf_err *e, const char *field, const char *const *rules)
{
    CHECK(e->code == HPF_EINVAL, "code %d", e->code);
    CHECK(memchr(e->msg, '\0', sizeof e->msg) && e->msg[0], "message set and terminated");
    CHECK(!strcmp(e->field, field), "field '%s' want '%s'", e->field, field);
    bool known = false;
    for (; *rules; rules++)
        known = known || !strcmp(e->rule, *rules);
    CHECK(known, "rule '%s'", e->rule);
}

static void check_id(const char *s, size_t n)
{
    static const char *const rules[] = {"id.format", "id.birth_date", "id.check_digit", NULL};
    hpf_day today = hpf_day_from_ymd(TODAY_Y, 11, 15);
    char norm[19];
    memset(norm, '#', sizeof norm);
    hpf_err e = no_err;
    bool ok = hpf_id_validate(s, today, norm, &e) == 0;
    bool want = ref_id_valid(s, n);
    CHECK(ok == want, "hpf_id_validate(\"%s\") says %d, the reference %d", s, ok, want);
    if (!ok) {
        check_err(&e, "/id_number", rules);
        CHECK(norm[0] == '#' && norm[18] == '#', "norm written on failure");
        return;
    }
    CHECK(norm[18] == '\0' && strlen(norm) == 18, "norm is 18 characters");
    CHECK(!memcmp(norm, s, 17) && (norm[17] == s[17] || (s[17] == 'x' && norm[17] == 'X')),
          "norm \"%s\" of \"%s\"", norm, s);
    CHECK(hpf_id_check_char(norm) == norm[17], "check character of \"%s\" recomputes", norm);
    CHECK(hpf_id_check_char(norm) == ref_mod112(norm), "hpf_id_check_char vs RULES weights");
    char again[19];
    CHECK(hpf_id_validate(norm, today, again, NULL) == 0 && !strcmp(again, norm),
          "the normal form \"%s\" validates to itself", norm);
    hpf_day birth;
    CHECK(hpf_id_birth_date(&birth, norm) == 0 && birth <= today, "birth date of \"%s\"", norm);
    int y, m, d;
    hpf_day_to_ymd(birth, &y, &m, &d);
    CHECK(y == num(norm + 6, 4) && m == num(norm + 10, 2) && d == num(norm + 12, 2),
          "birth date round trip of \"%s\"", norm);
    hpf_sex sex = hpf_id_sex(norm);
    CHECK(sex == ((norm[16] - '0') % 2 ? HPF_SEX_MALE : HPF_SEX_FEMALE), "sex of \"%s\"", norm);
    char mask[19];
    hpf_id_mask(mask, norm);
    CHECK(strlen(mask) == 18 && !memcmp(mask, norm, 4) && !memcmp(mask + 14, norm + 14, 4) &&
              strspn(mask + 4, "*") == 10,
          "mask \"%s\" of \"%s\"", mask, norm);
}

static void check_mask(const char *s, size_t n)
{
    char mask[19];
    hpf_id_mask(mask, s);
    size_t shown = n > 18 ? 18 : n;
    CHECK(strlen(mask) == shown, "mask length %zu of a %zu-byte string", strlen(mask), n);
    if (n <= 8) {
        CHECK(strspn(mask, "*") == n, "short strings are all stars");
    } else {
        CHECK(!memcmp(mask, s, 4) && !memcmp(mask + shown - 4, s + n - 4, 4),
              "mask \"%s\" keeps the first and last four", mask);
        for (size_t i = 4; i < shown - 4; i++)
            CHECK(mask[i] == '*', "mask \"%s\" hides character %zu", mask, i + 1);
    }
}

static void check_uscc(const char *s, size_t n)
{
    static const char *const rules[] = {"uscc.format", "uscc.check_digit", NULL};
    char norm[19];
    memset(norm, '#', sizeof norm);
    hpf_err e = no_err;
    bool ok = hpf_uscc_validate(s, norm, &e) == 0;
    bool want = ref_uscc_valid(s, n);
    CHECK(ok == want, "hpf_uscc_validate(\"%s\") says %d, the reference %d", s, ok, want);
    if (!ok) {
        check_err(&e, "/uscc", rules);
        CHECK(norm[0] == '#', "norm written on failure");
        return;
    }
    CHECK(strlen(norm) == 18 && hpf_uscc_check_char(norm) == norm[17], "uscc \"%s\"", norm);
    for (int i = 0; i < 18; i++)
        CHECK(norm[i] == (s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]), "upper case");
    CHECK(hpf_uscc_validate(norm, NULL, NULL) == 0, "the normal form validates");
}

static void check_orgcode(const char *s, size_t n)
{
    static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    char got = hpf_orgcode_check_char(s);
    if (n < 8) {
        CHECK(got == '\0', "orgcode check of a short string");
        return;
    }
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int v = digit(s[i]) ? s[i] - '0' : (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 10 : -1;
        if (v < 0) {
            CHECK(got == '\0', "orgcode check of a bad character");
            return;
        }
        sum += v * w[i];
    }
    int c9 = 11 - sum % 11;
    char want = c9 == 10 ? 'X' : c9 == 11 ? '0' : (char)('0' + c9);
    CHECK(got == want, "orgcode check %c want %c", got, want);
    CHECK(hpf_orgcode_valid(s) == (n >= 9 && s[8] == want), "hpf_orgcode_valid");
}

static void check_acct(const char *s, size_t n)
{
    static const char *const rules[] = {"account.format", "account.check_digit", NULL};
    hpf_err e = no_err;
    bool ok = hpf_acct_validate(s, &e) == 0;
    bool want = ref_acct_valid(s, n);
    CHECK(ok == want, "hpf_acct_validate(\"%s\") says %d, the reference %d", s, ok, want);
    if (!ok)
        check_err(&e, "", rules);
}

static void check_name(const char *s, size_t n)
{
    static const char *const rules[] = {"name.format", NULL};
    hpf_err e = no_err;
    bool ok = hpf_name_validate(s, "/name", &e) == 0;
    bool want = ref_name_valid(s, n);
    CHECK(ok == want, "hpf_name_validate says %d, the reference %d (%zu bytes)", ok, want, n);
    if (!ok)
        check_err(&e, "/name", rules);
}

static void check_money(const char *s)
{
    static const int64_t bounds[][2] = {
        {INT64_MIN, INT64_MAX},
        {INT64_MIN / 2, INT64_MAX / 2},
        {0, HPF_MONEY_MAX},
        {1, HPF_MONEY_MAX},
        {-100, 100},
    };
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        int64_t got = 12345, want = 0;
        bool ok = hpf_money_parse(&got, s, bounds[b][0], bounds[b][1]) == 0;
        bool rok = ref_money(s, bounds[b][0], bounds[b][1], &want);
        CHECK(ok == rok, "hpf_money_parse(\"%s\", bounds %zu) says %d, the reference %d", s, b, ok,
              rok);
        if (!ok) {
            CHECK(got == 12345, "out written on failure");
            continue;
        }
        CHECK(got == want, "hpf_money_parse(\"%s\") = %lld, the reference %lld", s, (long long)got,
              (long long)want);
        char text[24];
        hpf_money_fmt(text, got);
        int64_t back = 0;
        CHECK(hpf_money_parse(&back, text, INT64_MIN, INT64_MAX) == 0 && back == got,
              "\"%s\" -> %lld -> \"%s\" -> %lld", s, (long long)got, text, (long long)back);
        size_t dot = strcspn(text, ".");
        CHECK(text[dot] == '.' && strlen(text + dot + 1) == 2, "two decimals in \"%s\"", text);
    }
}

static void check_i64(const char *s)
{
    static const int64_t bounds[][2] = {
        {INT64_MIN, INT64_MAX}, {0, 100000000}, {1, 200}, {-5, 5}, {INT64_MAX, INT64_MAX},
    };
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        int64_t got = 777, want = 0;
        bool ok = hpf_parse_i64(&got, s, bounds[b][0], bounds[b][1]) == 0;
        bool rok = ref_i64(s, bounds[b][0], bounds[b][1], &want);
        CHECK(ok == rok, "hpf_parse_i64(\"%s\", bounds %zu) says %d, the reference %d", s, b, ok,
              rok);
        CHECK(!ok ? got == 777 : got == want, "hpf_parse_i64(\"%s\") = %lld want %lld", s,
              (long long)got, (long long)want);
    }
}

static void check_dates(const char *s, size_t n)
{
    hpf_day day = 4242;
    bool ok = hpf_day_parse(&day, s) == 0;
    CHECK(ok == ref_day(s, n, false), "hpf_day_parse(\"%s\") says %d", s, ok);
    if (ok) {
        char text[11];
        CHECK(!strcmp(hpf_day_fmt(text, day), s), "\"%s\" -> %d -> \"%s\"", s, day, text);
        int y, m, d;
        hpf_day_to_ymd(day, &y, &m, &d);
        CHECK(hpf_day_from_ymd(y, m, d) == day && hpf_date_valid(y, m, d), "ymd round trip");
        CHECK(hpf_month_valid(hpf_month_of(day)), "month of a day");
    } else {
        CHECK(day == 4242, "out written on failure");
    }

    day = 4242;
    ok = hpf_day_parse_compact(&day, s) == 0;
    CHECK(ok == ref_day(s, n, true), "hpf_day_parse_compact(\"%s\") says %d", s, ok);
    if (ok) {
        char text[9];
        CHECK(!strcmp(hpf_day_fmt_compact(text, day), s), "\"%s\" -> \"%s\"", s, text);
    }

    hpf_month mo = 4242;
    ok = hpf_month_parse(&mo, s) == 0;
    CHECK(ok == ref_month(s, n), "hpf_month_parse(\"%s\") says %d", s, ok);
    if (ok) {
        char text[8];
        CHECK(hpf_month_valid(mo) && !strcmp(hpf_month_fmt(text, mo), s), "\"%s\" -> \"%s\"", s,
              text);
        hpf_day first = hpf_month_first_day(mo), last = hpf_month_last_day(mo);
        CHECK(hpf_month_of(first) == mo && hpf_month_of(last) == mo && last >= first + 27 &&
                  last <= first + 30,
              "first and last day of %d", mo);
    } else {
        CHECK(mo == 4242, "out written on failure");
    }
}

static void check_text(const unsigned char *data, size_t size)
{
    for (int tab = 0; tab < 2; tab++) {
        bool ok = hpf_text_ok((const char *)data, size, tab);
        bool want = ref_text_ok(data, size, tab, NULL);
        CHECK(ok == want, "hpf_text_ok(%zu bytes, tab %d) says %d, the reference %d", size, tab, ok,
              want);
    }
}

static void check_luhn_mobile(const char *s, size_t n)
{
    CHECK(hpf_luhn_valid(s) == ref_luhn(s, n), "hpf_luhn_valid(\"%s\")", s);
    char c = hpf_luhn_check_digit(s);
    bool digits = n > 0 && strspn(s, "0123456789") == n;
    CHECK((c != '\0') == digits, "hpf_luhn_check_digit(\"%s\") = %d", s, c);
    if (c && n < 64) {
        char full[66];
        memcpy(full, s, n);
        full[n] = c;
        full[n + 1] = '\0';
        CHECK(hpf_luhn_valid(full) && ref_luhn(full, n + 1), "\"%s\" + check digit is valid", s);
    }
    CHECK(hpf_mobile_valid(s) == ref_mobile(s, n), "hpf_mobile_valid(\"%s\")", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    size_t n = strnlen((const char *)data, size);
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data, n);
    s[n] = '\0';

    check_id(s, n);
    check_mask(s, n);
    check_uscc(s, n);
    check_orgcode(s, n);
    check_acct(s, n);
    check_name(s, n);
    check_money(s);
    check_i64(s);
    check_dates(s, n);
    check_luhn_mobile(s, n);
    check_text(data, size);

    free(s);
    return 0;
}
