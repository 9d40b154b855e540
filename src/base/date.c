#include "base/date.h"

#include "base/err.h"

#include <stdio.h>
#include <time.h>

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hpf_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool hpf_date_valid(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= hpf_days_in_month(y, m);
}

/* Howard Hinnant's days_from_civil: 400-year eras of 146097 days, years starting in March so the
 * leap day is the last day of the year. */
hpf_day hpf_day_from_ymd(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return (hpf_day)(era * 146097 + doe - 719468);
}

void hpf_day_to_ymd(hpf_day day, int *y, int *m, int *d)
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

/* Read exactly n ASCII digits; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int day_from_parts(hpf_day *out, int y, int m, int d)
{
    if (y < 1900 || !hpf_date_valid(y, m, d))
        return HPF_EINVAL;
    *out = hpf_day_from_ymd(y, m, d);
    return 0;
}

int hpf_day_parse(hpf_day *out, const char *s)
{
    /* digits() stops at the first non-digit, so a short string never reads past its NUL. */
    if (!s || digits(s, 4) < 0 || s[4] != '-' || digits(s + 5, 2) < 0 || s[7] != '-' ||
        digits(s + 8, 2) < 0 || s[10] != '\0')
        return HPF_EINVAL;
    return day_from_parts(out, digits(s, 4), digits(s + 5, 2), digits(s + 8, 2));
}

int hpf_day_parse_compact(hpf_day *out, const char *s)
{
    if (!s || digits(s, 8) < 0 || s[8] != '\0')
        return HPF_EINVAL;
    return day_from_parts(out, digits(s, 4), digits(s + 4, 2), digits(s + 6, 2));
}

/* Four digits of y (0..9999) at p. Dates are formatted for every row a business writes and
 * every key it compares; snprintf cost 1,500 instructions a date. */
static char *put4(char *p, int y)
{
    p[0] = (char)('0' + y / 1000);
    p[1] = (char)('0' + y / 100 % 10);
    p[2] = (char)('0' + y / 10 % 10);
    p[3] = (char)('0' + y % 10);
    return p + 4;
}

static char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

char *hpf_day_fmt(char out[static 11], hpf_day day)
{
    int y, m, d;
    hpf_day_to_ymd(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        if (snprintf(out, 11, "%04d-%02d-%02d", y, m, d) >= 11)
            out[10] = '\0'; /* outside years 0..9999: truncated, still terminated */
        return out;
    }
    char *p = put4(out, y);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p = '\0';
    return out;
}

char *hpf_day_fmt_compact(char out[static 9], hpf_day day)
{
    int y, m, d;
    hpf_day_to_ymd(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        if (snprintf(out, 9, "%04d%02d%02d", y, m, d) >= 9)
            out[8] = '\0';
        return out;
    }
    *put2(put2(put4(out, y), m), d) = '\0';
    return out;
}

bool hpf_month_valid(hpf_month m)
{
    int y = m / 100, mm = m % 100;
    return y >= 1900 && y <= 9999 && mm >= 1 && mm <= 12;
}

int hpf_month_parse(hpf_month *out, const char *s)
{
    if (!s || digits(s, 4) < 0 || s[4] != '-' || digits(s + 5, 2) < 0 || s[7] != '\0')
        return HPF_EINVAL;
    hpf_month m = digits(s, 4) * 100 + digits(s + 5, 2);
    if (!hpf_month_valid(m))
        return HPF_EINVAL;
    *out = m;
    return 0;
}

char *hpf_month_fmt(char out[static 8], hpf_month m)
{
    if (snprintf(out, 8, "%04d-%02d", m / 100, m % 100) >= 8)
        out[7] = '\0';
    return out;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

hpf_month hpf_month_add(hpf_month m, int n)
{
    int64_t idx = (int64_t)(m / 100) * 12 + (m % 100 - 1) + n;
    int64_t y = floor_div(idx, 12);
    return (hpf_month)(y * 100 + (idx - y * 12) + 1);
}

hpf_month hpf_month_of(hpf_day day)
{
    int y, m, d;
    hpf_day_to_ymd(day, &y, &m, &d);
    return y * 100 + m;
}

int hpf_month_diff(hpf_month a, hpf_month b)
{
    return (a / 100 - b / 100) * 12 + (a % 100 - b % 100);
}

hpf_day hpf_month_first_day(hpf_month m)
{
    return hpf_day_from_ymd(m / 100, m % 100, 1);
}

hpf_day hpf_month_last_day(hpf_month m)
{
    return hpf_day_from_ymd(m / 100, m % 100, hpf_days_in_month(m / 100, m % 100));
}

hpf_day hpf_day_today_utc(void)
{
    return (hpf_day)floor_div((int64_t)time(NULL), 86400);
}
