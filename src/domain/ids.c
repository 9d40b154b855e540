#include "domain/ids.h"

#include "base/parse.h"

#include <string.h>

#define ID_LEN 18

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Length of s if it is at most max, else max + 1; never reads past max + 1 bytes. */
static size_t bounded_len(const char *s, size_t max)
{
    const char *nul = memchr(s, '\0', max + 1);
    return nul ? (size_t)(nul - s) : max + 1;
}

/* ISO 7064 MOD 11-2 over n digits: the weight of a digit is 2^k mod 11, k counted from the
 * right starting at 1 (the check character sits at k = 0). For n = 17 this gives the GB 11643
 * weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2. */
static char mod11_2(const char *s, size_t n)
{
    unsigned sum = 0, w = 1;
    for (size_t i = n; i-- > 0;) {
        if (!is_digit(s[i]))
            return '\0';
        w = w * 2 % 11;
        sum = (sum + (unsigned)(s[i] - '0') * w) % 11;
    }
    return "10X98765432"[sum];
}

char hpf_id_check_char(const char *first17)
{
    if (!first17 || bounded_len(first17, 17) < 17)
        return '\0';
    return mod11_2(first17, 17);
}

int hpf_id_validate(const char *s, hpf_day today, char norm[19], hpf_err *err)
{
    static const char *const field = "/id_number";
    if (!s || bounded_len(s, ID_LEN) != ID_LEN)
        return hpf_err_field(err, HPF_EINVAL, field, "id.format", "an ID number has 18 characters");
    char buf[ID_LEN + 1];
    for (size_t i = 0; i < ID_LEN - 1; i++) {
        if (!is_digit(s[i]))
            return hpf_err_field(err, HPF_EINVAL, field, "id.format",
                                 "character %zu of the ID number must be a digit", i + 1);
        buf[i] = s[i];
    }
    buf[ID_LEN - 1] = ascii_upper(s[ID_LEN - 1]);
    buf[ID_LEN] = '\0';
    if (!is_digit(buf[ID_LEN - 1]) && buf[ID_LEN - 1] != 'X')
        return hpf_err_field(err, HPF_EINVAL, field, "id.format",
                             "the last character of the ID number must be a digit or X");

    hpf_day birth;
    if (hpf_id_birth_date(&birth, buf) < 0)
        return hpf_err_field(err, HPF_EINVAL, field, "id.birth_date",
                             "characters 7-14 of the ID number are not a real date of birth");
    if (birth > today)
        return hpf_err_field(err, HPF_EINVAL, field, "id.birth_date",
                             "the date of birth in the ID number is in the future");

    char want = mod11_2(buf, ID_LEN - 1);
    if (buf[ID_LEN - 1] != want)
        return hpf_err_field(err, HPF_EINVAL, field, "id.check_digit",
                             "ID number check character should be %c", want);
    if (norm)
        memcpy(norm, buf, sizeof buf);
    return 0;
}

static int digits_at(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int hpf_id_birth_date(hpf_day *out, const char *id)
{
    if (!id || bounded_len(id, 14) < 14)
        return HPF_EINVAL;
    int y = digits_at(id + 6, 4), m = digits_at(id + 10, 2), d = digits_at(id + 12, 2);
    if (y < HPF_ID_MIN_BIRTH_YEAR || m < 0 || d < 0 || !hpf_date_valid(y, m, d))
        return HPF_EINVAL;
    *out = hpf_day_from_ymd(y, m, d);
    return 0;
}

hpf_sex hpf_id_sex(const char *id)
{
    if (!id || bounded_len(id, 17) < 17 || !is_digit(id[16]))
        return HPF_SEX_UNKNOWN;
    return (id[16] - '0') % 2 ? HPF_SEX_MALE : HPF_SEX_FEMALE;
}

void hpf_id_mask(char out[19], const char *id)
{
    size_t n = id ? bounded_len(id, ID_LEN) : 0;
    if (n <= 8) {
        memset(out, '*', n);
        out[n] = '\0';
        return;
    }
    if (n > ID_LEN) {
        n = ID_LEN;
        memcpy(out + n - 4, id + strlen(id) - 4, 4);
    } else {
        memcpy(out + n - 4, id + n - 4, 4);
    }
    memcpy(out, id, 4);
    memset(out + 4, '*', n - 8);
    out[n] = '\0';
}

/* ---- USCC ---- */

static const char uscc_charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Value 0..30 of an USCC character (case-insensitive), -1 if it is not in the set. */
static int uscc_value(char c)
{
    c = ascii_upper(c);
    if (c == '\0')
        return -1;
    const char *p = strchr(uscc_charset, c);
    return p ? (int)(p - uscc_charset) : -1;
}

char hpf_uscc_check_char(const char *first17)
{
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    if (!first17)
        return '\0';
    int sum = 0;
    for (size_t i = 0; i < 17; i++) {
        int v = uscc_value(first17[i]); /* stops at the NUL of a short string */
        if (v < 0)
            return '\0';
        sum += v * w[i];
    }
    /* The outer mod maps sum mod 31 == 0 to '0' instead of indexing past the set. */
    return uscc_charset[(31 - sum % 31) % 31];
}

int hpf_uscc_validate(const char *s, char norm[19], hpf_err *err)
{
    static const char *const field = "/uscc";
    if (!s || bounded_len(s, ID_LEN) != ID_LEN)
        return hpf_err_field(err, HPF_EINVAL, field, "uscc.format",
                             "a unified social credit code has 18 characters");
    char buf[ID_LEN + 1];
    for (size_t i = 0; i < ID_LEN; i++) {
        if (uscc_value(s[i]) < 0)
            return hpf_err_field(err, HPF_EINVAL, field, "uscc.format",
                                 "character %zu of the unified social credit code is not one of "
                                 "0-9 and A-Y without I, O, S, V",
                                 i + 1);
        buf[i] = ascii_upper(s[i]);
    }
    buf[ID_LEN] = '\0';
    if (!strchr("123456789ANY", buf[0]))
        return hpf_err_field(err, HPF_EINVAL, field, "uscc.format",
                             "the registration authority (first character) must be 1-9, A, N or "
                             "Y");
    char want = hpf_uscc_check_char(buf);
    if (buf[ID_LEN - 1] != want)
        return hpf_err_field(err, HPF_EINVAL, field, "uscc.check_digit",
                             "unified social credit code check character should be %c", want);
    if (norm)
        memcpy(norm, buf, sizeof buf);
    return 0;
}

char hpf_orgcode_check_char(const char *first8)
{
    static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    if (!first8)
        return '\0';
    int sum = 0;
    for (size_t i = 0; i < 8; i++) {
        char c = first8[i];
        int v;
        if (is_digit(c))
            v = c - '0';
        else if (c >= 'A' && c <= 'Z')
            v = c - 'A' + 10;
        else
            return '\0';
        sum += v * w[i];
    }
    int c9 = 11 - sum % 11;
    return c9 == 10 ? 'X' : c9 == 11 ? '0' : (char)('0' + c9);
}

bool hpf_orgcode_valid(const char *code9)
{
    if (!code9)
        return false;
    char want = hpf_orgcode_check_char(code9);
    return want != '\0' && code9[8] == want;
}

/* ---- Luhn ---- */

/* Luhn sum of digits, doubling those at odd distance from the right end when `double_last` is
 * false, or at even distance (starting with the last) when computing a check digit. -1 on a
 * non-digit or an empty string. */
static int luhn_sum(const char *s, bool double_last)
{
    size_t n = strlen(s);
    if (n == 0)
        return -1;
    unsigned sum = 0;
    bool dbl = double_last;
    for (size_t i = n; i-- > 0;) {
        if (!is_digit(s[i]))
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (dbl) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum = (sum + d) % 10;
        dbl = !dbl;
    }
    return (int)sum;
}

bool hpf_luhn_valid(const char *digits)
{
    if (!digits || bounded_len(digits, 1) < 2)
        return false;
    return luhn_sum(digits, false) == 0;
}

char hpf_luhn_check_digit(const char *prefix)
{
    if (!prefix)
        return '\0';
    int sum = luhn_sum(prefix, true);
    if (sum < 0)
        return '\0';
    return (char)('0' + (10 - sum) % 10);
}

/* ---- Mobile ---- */

bool hpf_mobile_valid(const char *s)
{
    if (!s || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return false;
    for (size_t i = 2; i < 11; i++)
        if (!is_digit(s[i]))
            return false;
    return s[11] == '\0';
}

/* ---- Account numbers ---- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Write `v` as exactly `width` decimal digits, zero-padded; v fits (checked by the caller). */
static void put_digits(char *out, int64_t v, size_t width)
{
    for (size_t i = width; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static bool centre_ok(const char *centre6)
{
    return centre6 && bounded_len(centre6, 6) == 6 && all_digits(centre6, 6);
}

int hpf_acct_make_employer(char out[19], const char *centre6, int branch, int64_t seq)
{
    if (!centre_ok(centre6) || branch < 0 || branch > HPF_ACCT_BRANCH_MAX || seq < 1 ||
        seq > HPF_ACCT_EMPLOYER_SEQ_MAX)
        return HPF_EINVAL;
    char buf[ID_LEN + 1];
    memcpy(buf, centre6, 6);
    put_digits(buf + 6, branch, 2);
    put_digits(buf + 8, seq, 9);
    buf[17] = mod11_2(buf, 17);
    buf[18] = '\0';
    memcpy(out, buf, sizeof buf);
    return 0;
}

int hpf_acct_make_member(char out[19], const char *centre6, int64_t seq)
{
    if (!centre_ok(centre6) || seq < 1 || seq > HPF_ACCT_MEMBER_SEQ_MAX)
        return HPF_EINVAL;
    char buf[ID_LEN + 1];
    memcpy(buf, centre6, 6);
    put_digits(buf + 6, seq, 11);
    buf[17] = mod11_2(buf, 17);
    buf[18] = '\0';
    memcpy(out, buf, sizeof buf);
    return 0;
}

int hpf_acct_validate(const char *s, hpf_err *err)
{
    if (!s || bounded_len(s, ID_LEN) != ID_LEN || !all_digits(s, 17))
        return hpf_err_field(err, HPF_EINVAL, "", "account.format",
                             "an account number is 17 digits and a check character");
    char want = mod11_2(s, 17);
    if (s[17] != want)
        return hpf_err_field(err, HPF_EINVAL, "", "account.check_digit",
                             "account number check character should be %c", want);
    return 0;
}

/* ---- Names ---- */

/* UTF-8 of the spaces a name may not start or end with: ASCII, NBSP, ideographic space. */
static const char *const spaces[] = {" ", "\xc2\xa0", "\xe3\x80\x80"};

static bool starts_or_ends_with_space(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        size_t k = strlen(spaces[i]);
        if (n >= k && (memcmp(s, spaces[i], k) == 0 || memcmp(s + n - k, spaces[i], k) == 0))
            return true;
    }
    return false;
}

int hpf_name_validate(const char *s, const char *field, hpf_err *err)
{
    /* A code point is at most 4 bytes, so a longer string is too long whatever it holds. */
    const size_t max_bytes = 4 * HPF_NAME_MAX_CHARS;
    size_t n = s ? bounded_len(s, max_bytes) : 0;
    if (n == 0)
        return hpf_err_field(err, HPF_EINVAL, field, "name.format", "the name is empty");
    if (n > max_bytes)
        return hpf_err_field(err, HPF_EINVAL, field, "name.format",
                             "the name is longer than %d characters", HPF_NAME_MAX_CHARS);
    if (!hpf_text_ok(s, n, false))
        return hpf_err_field(err, HPF_EINVAL, field, "name.format",
                             "the name holds control characters or is not valid UTF-8");
    if (hpf_utf8_len(s) > HPF_NAME_MAX_CHARS)
        return hpf_err_field(err, HPF_EINVAL, field, "name.format",
                             "the name is longer than %d characters", HPF_NAME_MAX_CHARS);
    if (starts_or_ends_with_space(s, n))
        return hpf_err_field(err, HPF_EINVAL, field, "name.format",
                             "the name starts or ends with a space");
    return 0;
}
