#include "base/money.h"

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

/* 128-bit intermediates (gcc and clang); __extension__ keeps -Wpedantic quiet about them. */
__extension__ typedef __int128 i128;

int hpf_money_add(hpf_fen *out, hpf_fen a, hpf_fen b)
{
    hpf_fen r;
    if (__builtin_add_overflow(a, b, &r))
        return HPF_EOVERFLOW;
    *out = r;
    return 0;
}

int hpf_money_sub(hpf_fen *out, hpf_fen a, hpf_fen b)
{
    hpf_fen r;
    if (__builtin_sub_overflow(a, b, &r))
        return HPF_EOVERFLOW;
    *out = r;
    return 0;
}

/* Divide and round half-up on the absolute value. |n| <= 2^126 because it is a product of two
 * int64_t, so negating it cannot overflow; den > 0. */
static i128 div_half_up(i128 n, i128 den)
{
    bool neg = n < 0;
    i128 m = neg ? -n : n;
    i128 q = m / den, r = m % den;
    if (r >= den - r) /* 2r >= den without overflowing 2r */
        q++;
    return neg ? -q : q;
}

int hpf_money_muldiv(hpf_fen *out, hpf_fen a, int64_t num, int64_t den)
{
    if (den <= 0)
        return HPF_EINVAL;
    i128 q = div_half_up((i128)a * num, den);
    if (q > INT64_MAX || q < INT64_MIN)
        return HPF_EOVERFLOW;
    *out = (hpf_fen)q;
    return 0;
}

int hpf_money_round(hpf_fen *out, hpf_fen a, int64_t unit)
{
    if (unit <= 0)
        return HPF_EINVAL;
    i128 q = div_half_up(a, unit) * unit;
    if (q > INT64_MAX || q < INT64_MIN)
        return HPF_EOVERFLOW;
    *out = (hpf_fen)q;
    return 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int hpf_money_parse(hpf_fen *out, const char *s, hpf_fen min, hpf_fen max)
{
    if (!s)
        return HPF_EINVAL;
    const char *p = s;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    /* Integer part: at least one digit, no superfluous leading zero ("0.5" yes, "05" no). */
    if (!is_digit(*p))
        return HPF_EINVAL;
    if (p[0] == '0' && is_digit(p[1]))
        return HPF_EINVAL;
    int64_t fen = 0;
    for (; is_digit(*p); p++)
        if (__builtin_mul_overflow(fen, 10, &fen) || __builtin_add_overflow(fen, *p - '0', &fen))
            return HPF_EINVAL;
    if (__builtin_mul_overflow(fen, 100, &fen))
        return HPF_EINVAL;
    if (*p == '.') {
        p++;
        /* One or two decimals; "1." is refused, as is a third decimal. */
        if (!is_digit(*p))
            return HPF_EINVAL;
        int frac = (*p++ - '0') * 10;
        if (is_digit(*p))
            frac += *p++ - '0';
        if (__builtin_add_overflow(fen, frac, &fen))
            return HPF_EINVAL;
    }
    if (*p)
        return HPF_EINVAL;
    if (neg)
        fen = -fen; /* fen >= 0 here, so this cannot overflow */
    if (fen < min || fen > max)
        return HPF_EINVAL;
    *out = fen;
    return 0;
}

char *hpf_money_fmt(char out[static 24], hpf_fen v)
{
    /* Work on the magnitude as unsigned so INT64_MIN formats too. */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char tmp[24];
    size_t n = 0;
    tmp[n++] = (char)('0' + m % 10);
    m /= 10;
    tmp[n++] = (char)('0' + m % 10);
    m /= 10;
    tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        tmp[n++] = '-';
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return out;
}
