#include "domain/interest.h"

#include <stdio.h>

/* 128-bit intermediates (gcc and clang); __extension__ keeps -Wpedantic quiet about them. */
__extension__ typedef __int128 i128;

#define RATE_ONE ((int64_t)HPF_INTEREST_RATE_ONE)

/* The days any function accepts: those hpf_day_parse can give. */
static hpf_day day_min(void)
{
    return hpf_day_from_ymd(1900, 1, 1);
}

static hpf_day day_max(void)
{
    return hpf_day_from_ymd(9999, 12, 31);
}

static bool day_ok(hpf_day d)
{
    return d >= day_min() && d <= day_max();
}

static bool fits_i64(i128 v)
{
    return v >= INT64_MIN && v <= INT64_MAX;
}

static bool money_ok(hpf_fen v)
{
    return v >= -HPF_MONEY_MAX && v <= HPF_MONEY_MAX;
}

/* n / den rounded half-up on the absolute value (RULES §0.2), den > 0. Every numerator here is
 * far below 2^126 in magnitude (see the bounds at each caller), so negating it is safe. */
static i128 div_half_up(i128 n, i128 den)
{
    bool neg = n < 0;
    i128 m = neg ? -n : n;
    i128 q = m / den, r = m % den;
    if (r >= den - r) /* 2r >= den without overflowing 2r */
        q++;
    return neg ? -q : q;
}

/* Floor division and the matching non-negative remainder, den > 0. */
static i128 floor_div(i128 n, i128 den, i128 *rem)
{
    i128 q = n / den, r = n % den;
    if (r < 0) {
        q--;
        r += den;
    }
    *rem = r;
    return q;
}

static const char *fmt_day(char out[static 11], hpf_day d)
{
    return d >= day_min() && d <= day_max() ? hpf_day_fmt(out, d) : "(no date)";
}

/* ---- rates and basis ---- */

int hpf_interest_rate_parse(int32_t *out, const char *percent)
{
    if (!percent)
        return HPF_EINVAL;
    const char *p = percent;
    /* Integer part: one to three digits, no superfluous leading zero ("0.35" yes, "01" no). */
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return HPF_EINVAL;
    int64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 3)
            return HPF_EINVAL;
        v = v * 10 + (*p - '0');
    }
    /* Percent to 10^-7 units is x 10^5: the five decimals allowed are exactly the unit. */
    int64_t scale = 100000;
    v *= scale;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return HPF_EINVAL; /* "1." */
        for (; *p >= '0' && *p <= '9'; p++) {
            scale /= 10;
            if (scale == 0)
                return HPF_EINVAL; /* a sixth decimal is finer than the unit */
            v += (*p - '0') * scale;
        }
    }
    if (*p || v > RATE_ONE)
        return HPF_EINVAL;
    *out = (int32_t)v;
    return 0;
}

int hpf_interest_schedule_check(const hpf_interest_schedule *s, hpf_err *err)
{
    if (!s || s->n == 0 || !s->steps)
        return hpf_err_field(err, HPF_EINVAL, "/rates", "interest.no_rate",
                             "the rate schedule is empty: no rate is in force");
    char f[48], d[11];
    for (size_t i = 0; i < s->n; i++) {
        const hpf_interest_rate *r = &s->steps[i];
        if (!day_ok(r->from)) {
            snprintf(f, sizeof f, "/rates/%zu/from", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.date_range",
                                 "rate %zu: the date is outside 1900-01-01..9999-12-31", i + 1);
        }
        if (i > 0 && r->from <= s->steps[i - 1].from) {
            snprintf(f, sizeof f, "/rates/%zu/from", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.schedule_order",
                                 "rate %zu (from %s) does not come after the one before it: "
                                 "the schedule must be sorted by date, one rate per date",
                                 i + 1, hpf_day_fmt(d, r->from));
        }
        if (r->rate < 0 || r->rate > HPF_INTEREST_RATE_ONE) {
            snprintf(f, sizeof f, "/rates/%zu/rate", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.rate_range",
                                 "rate %zu (from %s) is outside 0%%..100%% a year", i + 1,
                                 hpf_day_fmt(d, r->from));
        }
    }
    return 0;
}

/* Index of the step in force on `day` in a checked schedule, or -1 when none is. */
static ptrdiff_t step_at(const hpf_interest_schedule *s, hpf_day day)
{
    size_t lo = 0, hi = s->n; /* the answer is the last index < hi with from <= day */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->steps[mid].from <= day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

static int no_rate(hpf_err *err, const char *field, hpf_day day)
{
    char d[11];
    return hpf_err_field(err, HPF_EINVAL, field, "interest.no_rate",
                         "no interest rate is in force on %s", fmt_day(d, day));
}

int hpf_interest_rate_at(int32_t *out, const hpf_interest_schedule *s, hpf_day day, hpf_err *err)
{
    int rc = hpf_interest_schedule_check(s, err);
    if (rc < 0)
        return rc;
    ptrdiff_t i = step_at(s, day);
    if (i < 0)
        return no_rate(err, "/day", day);
    *out = s->steps[i].rate;
    return 0;
}

int hpf_interest_basis_check(const hpf_interest_basis *b, hpf_err *err)
{
    if (!b || (b->days != 360 && b->days != 365))
        return hpf_err_field(err, HPF_EINVAL, "/basis", "interest.basis",
                             "the day basis must be 360 or 365");
    if (b->leap_366 && b->days != 365)
        return hpf_err_field(err, HPF_EINVAL, "/basis", "interest.basis",
                             "the leap-year option turns a 365 basis into 366; it does not apply "
                             "to a 360 basis");
    return 0;
}

/* ---- the interest year ---- */

int32_t hpf_interest_year_of(hpf_day day)
{
    int y, m, d;
    hpf_day_to_ymd(day, &y, &m, &d);
    return m >= 7 ? y + 1 : y;
}

hpf_day hpf_interest_year_first(int32_t y)
{
    return hpf_day_from_ymd(y - 1, 7, 1);
}

hpf_day hpf_interest_year_last(int32_t y)
{
    return hpf_day_from_ymd(y, 6, 30);
}

int32_t hpf_interest_year_days(int32_t y)
{
    return hpf_interest_year_last(y) - hpf_interest_year_first(y) + 1;
}

int32_t hpf_interest_divisor(const hpf_interest_basis *b, int32_t y)
{
    if (b->leap_366 && b->days == 365)
        return hpf_interest_year_days(y);
    return b->days;
}

bool hpf_interest_closing_period(hpf_day *from, hpf_day *to, hpf_day closing_day)
{
    hpf_day first = hpf_interest_year_first(hpf_interest_year_of(closing_day));
    if (closing_day == first)
        return false;
    *from = first;
    *to = closing_day - 1;
    return true;
}

/* ---- a period, from its postings ---- */

static int amount_range(hpf_err *err, const char *field, const char *what)
{
    return hpf_err_field(err, HPF_EINVAL, field, "interest.amount_range",
                         "%s is outside ±100,000,000,000.00 yuan", what);
}

static int overflow(hpf_err *err, const char *what)
{
    return hpf_err_field(err, HPF_EOVERFLOW, "", "interest.overflow", "%s overflows", what);
}

/* The input rules of hpf_interest_jishu, shared by every function that takes postings. */
static int check_postings(hpf_fen opening, hpf_day from, hpf_day to, const hpf_interest_posting *p,
                          size_t n, hpf_err *err)
{
    char f[48], d[11], e[11], g[11];
    if (!day_ok(from))
        return hpf_err_field(err, HPF_EINVAL, "/from", "interest.date_range",
                             "the first day is outside 1900-01-01..9999-12-31");
    if (!day_ok(to))
        return hpf_err_field(err, HPF_EINVAL, "/to", "interest.date_range",
                             "the last day is outside 1900-01-01..9999-12-31");
    if (from > to)
        return hpf_err_field(err, HPF_EINVAL, "/to", "interest.period",
                             "the period ends (%s) before it starts (%s)", hpf_day_fmt(d, to),
                             hpf_day_fmt(e, from));
    if (!money_ok(opening))
        return amount_range(err, "/opening", "the opening balance");
    if (n > 0 && !p)
        return hpf_err_field(err, HPF_EINVAL, "/postings", "interest.posting_order",
                             "postings are missing");
    hpf_fen bal = opening;
    for (size_t i = 0; i < n; i++) {
        if (!money_ok(p[i].amount)) {
            snprintf(f, sizeof f, "/postings/%zu/amount", i);
            char what[64];
            snprintf(what, sizeof what, "posting %zu (%s)", i + 1, fmt_day(d, p[i].day));
            return amount_range(err, f, what);
        }
        if (p[i].day < from || p[i].day > to) {
            snprintf(f, sizeof f, "/postings/%zu/day", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.posting_outside",
                                 "posting %zu (%s) is outside the period %s..%s (a posting "
                                 "before the period belongs in the opening balance)",
                                 i + 1, fmt_day(d, p[i].day), hpf_day_fmt(e, from),
                                 hpf_day_fmt(g, to));
        }
        if (i > 0 && p[i].day < p[i - 1].day) {
            snprintf(f, sizeof f, "/postings/%zu/day", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.posting_order",
                                 "posting %zu (%s) comes before the one above it: postings "
                                 "must be sorted by date",
                                 i + 1, hpf_day_fmt(d, p[i].day));
        }
        /* Both terms are within ±HPF_MONEY_MAX, so the sum cannot overflow int64. */
        bal += p[i].amount;
        if (!money_ok(bal)) {
            snprintf(f, sizeof f, "/postings/%zu/amount", i);
            return hpf_err_field(err, HPF_EINVAL, f, "interest.balance_range",
                                 "after posting %zu (%s) the balance is outside "
                                 "±100,000,000,000.00 yuan",
                                 i + 1, hpf_day_fmt(d, p[i].day));
        }
    }
    return 0;
}

/* A walk through sorted, checked postings: the balance at the start of the next day not yet
 * summed, and the first posting not yet applied. */
typedef struct walk {
    hpf_fen bal;
    size_t k;
} walk;

/*
 * The 积数 of [a, b) (a < b) by the segment formula, with w->bal the end-of-day balance of a - 1;
 * applies the postings dated before b (all dated >= a: the walk consumed the earlier ones).
 * Each term is at most HPF_MONEY_MAX x 2^32 < 2^76 in magnitude, so no count of postings that
 * fits in memory can overflow the 128-bit sum.
 */
static i128 span(walk *w, hpf_day a, hpf_day b, const hpf_interest_posting *p, size_t n)
{
    i128 j = (i128)w->bal * (b - a);
    for (; w->k < n && p[w->k].day < b; w->k++) {
        j += (i128)p[w->k].amount * (b - p[w->k].day);
        w->bal += p[w->k].amount; /* within ±HPF_MONEY_MAX: checked by check_postings */
    }
    return j;
}

int hpf_interest_jishu(int64_t *out, hpf_fen opening, hpf_day from, hpf_day to,
                       const hpf_interest_posting *p, size_t n, hpf_err *err)
{
    int rc = check_postings(opening, from, to, p, n, err);
    if (rc < 0)
        return rc;
    walk w = {.bal = opening};
    i128 j = span(&w, from, to + 1, p, n);
    if (!fits_i64(j))
        return overflow(err, "the 积数 of the period");
    *out = (int64_t)j;
    return 0;
}

int hpf_interest_jishu_daily(int64_t *out, hpf_fen opening, hpf_day from, hpf_day to,
                             const hpf_interest_posting *p, size_t n, hpf_err *err)
{
    int rc = check_postings(opening, from, to, p, n, err);
    if (rc < 0)
        return rc;
    /* RULES §2.2 as written: the end-of-day balance of every day, summed. */
    i128 acc = 0;
    hpf_fen bal = opening;
    size_t k = 0;
    for (hpf_day d = from; d <= to; d++) {
        while (k < n && p[k].day == d)
            bal += p[k++].amount; /* a posting counts on its own day */
        acc += bal;
    }
    if (!fits_i64(acc))
        return overflow(err, "the 积数 of the period");
    *out = (int64_t)acc;
    return 0;
}

/*
 * The 积数 and the rate-weighted 积数 (Σ eod(d) x rate(d)) of [a, end), split at each rate
 * change and, when `by_year`, at each 1 July; the weighted part goes to num[1] for the days of
 * an interest year with 366 days when `by_year`, to num[0] otherwise. The walk is positioned at
 * a; the schedule is checked. Bounds: |积数| <= 2^22 days x HPF_MONEY_MAX < 2^66 for any period
 * of valid days, times a rate <= 2^24 gives < 2^90 per sum: no 128-bit overflow.
 */
static int weighted(i128 *jishu, i128 num[2], walk *w, hpf_day a, hpf_day end,
                    const hpf_interest_posting *p, size_t n, const hpf_interest_schedule *s,
                    bool by_year, const char *field, hpf_err *err)
{
    ptrdiff_t i = step_at(s, a);
    if (a < end && i < 0)
        return no_rate(err, field, a);
    while (a < end) {
        hpf_day b = end;
        if ((size_t)(i + 1) < s->n && s->steps[i + 1].from < b)
            b = s->steps[i + 1].from;
        int slot = 0;
        if (by_year) {
            int32_t y = hpf_interest_year_of(a);
            hpf_day next_year = hpf_interest_year_last(y) + 1;
            if (next_year < b)
                b = next_year;
            slot = hpf_interest_year_days(y) == 366;
        }
        i128 j = span(w, a, b, p, n);
        *jishu += j;
        num[slot] += j * s->steps[i].rate;
        a = b;
        if ((size_t)(i + 1) < s->n && s->steps[i + 1].from == a)
            i++;
    }
    return 0;
}

/* Round num[0] / (10^7 x d0) + num[1] / (10^7 x 366) half-up once, exactly: over the common
 * denominator 10^7 x d0 x 366 when num[1] is used (|num| < 2^90, x 366 < 2^99). */
static int round_interest(hpf_fen *out, const i128 num[2], int32_t d0, hpf_err *err)
{
    i128 q = num[1] == 0 ? div_half_up(num[0], (i128)RATE_ONE * d0)
                         : div_half_up(num[0] * 366 + num[1] * d0, (i128)RATE_ONE * d0 * 366);
    if (!fits_i64(q) || !money_ok((hpf_fen)q))
        return overflow(err, "the interest");
    *out = (hpf_fen)q;
    return 0;
}

static int finish(hpf_interest_result *out, i128 jishu, hpf_fen balance, hpf_fen interest,
                  hpf_err *err)
{
    hpf_interest_result r = {.balance = balance, .interest = interest};
    if (!fits_i64(jishu))
        return overflow(err, "the 积数 of the period");
    r.jishu = (int64_t)jishu;
    if (hpf_money_add(&r.closing, balance, interest) < 0)
        return overflow(err, "the balance with the interest");
    *out = r;
    return 0;
}

int hpf_interest_compute(hpf_interest_result *out, hpf_fen opening, hpf_day from, hpf_day to,
                         const hpf_interest_posting *p, size_t n, const hpf_interest_schedule *s,
                         const hpf_interest_basis *b, hpf_err *err)
{
    int rc = hpf_interest_basis_check(b, err);
    if (rc == 0)
        rc = hpf_interest_schedule_check(s, err);
    if (rc == 0)
        rc = check_postings(opening, from, to, p, n, err);
    if (rc < 0)
        return rc;
    /* With leap_366 the divisor changes at 1 July; otherwise it is b->days throughout. */
    bool by_year = b->leap_366 && b->days == 365;
    walk w = {.bal = opening};
    i128 jishu = 0, num[2] = {0, 0};
    rc = weighted(&jishu, num, &w, from, to + 1, p, n, s, by_year, "/from", err);
    if (rc < 0)
        return rc;
    hpf_fen interest;
    rc = round_interest(&interest, num, b->days, err);
    if (rc < 0)
        return rc;
    return finish(out, jishu, w.bal, interest, err);
}

/* ---- the accumulator ---- */

static bool year_ok(int32_t y)
{
    return y >= 1901 && y <= 9999;
}

int hpf_interest_acc_check(const hpf_interest_acc *acc, hpf_err *err)
{
    if (!acc || !year_ok(acc->year) || acc->as_of < hpf_interest_year_first(acc->year) ||
        acc->as_of > hpf_interest_year_last(acc->year) || !money_ok(acc->balance) ||
        acc->rate_jishu_rem < 0 || acc->rate_jishu_rem >= HPF_INTEREST_RATE_ONE)
        return hpf_err_field(err, HPF_EINTERNAL, "", "interest.state",
                             "the stored interest state of the account is inconsistent");
    return 0;
}

int hpf_interest_acc_start(hpf_interest_acc *acc, int32_t year, hpf_fen opening, hpf_err *err)
{
    if (!year_ok(year))
        return hpf_err_field(err, HPF_EINVAL, "/year", "interest.year_range",
                             "interest year %d is outside 1901..9999", (int)year);
    if (!money_ok(opening))
        return amount_range(err, "/opening", "the opening balance");
    *acc = (hpf_interest_acc){
        .year = year, .as_of = hpf_interest_year_first(year), .balance = opening};
    return 0;
}

/* Σ_{d=a}^{b-1} rate(d) for a <= b within one interest year (at most 366 x 10^7 < 2^32). */
static int rate_days(int64_t *out, const hpf_interest_schedule *s, hpf_day a, hpf_day b,
                     const char *field, hpf_err *err)
{
    int64_t sum = 0;
    if (a < b) {
        ptrdiff_t i = step_at(s, a);
        if (i < 0)
            return no_rate(err, field, a);
        while (a < b) {
            hpf_day next = b;
            if ((size_t)(i + 1) < s->n && s->steps[i + 1].from < next)
                next = s->steps[i + 1].from;
            sum += (int64_t)s->steps[i].rate * (next - a);
            a = next;
            i++;
        }
    }
    *out = sum;
    return 0;
}

static i128 weighted_of(const hpf_interest_acc *acc)
{
    return (i128)acc->rate_jishu * RATE_ONE + acc->rate_jishu_rem;
}

static int set_weighted(hpf_interest_acc *acc, i128 wsum, hpf_err *err)
{
    i128 rem;
    i128 q = floor_div(wsum, RATE_ONE, &rem);
    if (!fits_i64(q))
        return overflow(err, "the rate-weighted 积数");
    acc->rate_jishu = (int64_t)q;
    acc->rate_jishu_rem = (int32_t)rem;
    return 0;
}

static int other_year(hpf_err *err, hpf_day day, int32_t year)
{
    char d[11];
    return hpf_err_field(err, HPF_ECONFLICT, "/day", "interest.other_year",
                         "%s is outside interest year %d (%d-07-01..%d-06-30) of the account's "
                         "interest state",
                         fmt_day(d, day), (int)year, (int)year - 1, (int)year);
}

static int before_as_of(hpf_err *err, hpf_day day, hpf_day as_of)
{
    char d[11], e[11];
    return hpf_err_field(err, HPF_ECONFLICT, "/day", "interest.before_as_of",
                         "%s is before the account's latest posting (%s), whose days are already "
                         "summed",
                         fmt_day(d, day), hpf_day_fmt(e, as_of));
}

int hpf_interest_acc_apply(hpf_interest_acc *acc, hpf_day day, hpf_fen amount,
                           const hpf_interest_schedule *s, hpf_err *err)
{
    int rc = hpf_interest_acc_check(acc, err);
    if (rc == 0)
        rc = hpf_interest_schedule_check(s, err);
    if (rc < 0)
        return rc;
    if (day < hpf_interest_year_first(acc->year) || day > hpf_interest_year_last(acc->year))
        return other_year(err, day, acc->year);
    if (!money_ok(amount))
        return amount_range(err, "/amount", "the amount");
    hpf_interest_acc next = *acc;
    next.balance = acc->balance + amount; /* both within ±HPF_MONEY_MAX */
    if (!money_ok(next.balance))
        return hpf_err_field(err, HPF_EINVAL, "/amount", "interest.balance_range",
                             "the balance after the posting is outside ±100,000,000,000.00 yuan");
    int64_t rd;
    i128 j = acc->jishu, wsum = weighted_of(acc);
    if (day >= acc->as_of) {
        /* The days as_of .. day-1 close with the old balance; the posting opens `day`. */
        rc = rate_days(&rd, s, acc->as_of, day, "/day", err);
        if (rc < 0)
            return rc;
        j += (i128)acc->balance * (day - acc->as_of);
        wsum += (i128)acc->balance * rd;
        next.as_of = day;
    } else {
        /* Back-dated: the posting adds itself to every summed day from its own on. */
        rc = rate_days(&rd, s, day, acc->as_of, "/day", err);
        if (rc < 0)
            return rc;
        j += (i128)amount * (acc->as_of - day);
        wsum += (i128)amount * rd;
    }
    if (!fits_i64(j))
        return overflow(err, "the 积数");
    next.jishu = (int64_t)j;
    rc = set_weighted(&next, wsum, err);
    if (rc < 0)
        return rc;
    *acc = next;
    return 0;
}

/* upto must be within as_of - 1 .. last(Y). */
static int check_upto(const hpf_interest_acc *acc, hpf_day upto, hpf_err *err)
{
    if (upto > hpf_interest_year_last(acc->year))
        return other_year(err, upto, acc->year);
    if (upto < acc->as_of - 1)
        return before_as_of(err, upto, acc->as_of);
    return 0;
}

int hpf_interest_acc_jishu(int64_t *out, const hpf_interest_acc *acc, hpf_day upto, hpf_err *err)
{
    int rc = hpf_interest_acc_check(acc, err);
    if (rc == 0)
        rc = check_upto(acc, upto, err);
    if (rc < 0)
        return rc;
    i128 j = (i128)acc->jishu + (i128)acc->balance * (upto + 1 - acc->as_of);
    if (!fits_i64(j))
        return overflow(err, "the 积数");
    *out = (int64_t)j;
    return 0;
}

int hpf_interest_acc_interest(hpf_interest_result *out, const hpf_interest_acc *acc, hpf_day upto,
                              const hpf_interest_schedule *s, const hpf_interest_basis *b,
                              hpf_err *err)
{
    int rc = hpf_interest_acc_check(acc, err);
    if (rc == 0)
        rc = hpf_interest_basis_check(b, err);
    if (rc == 0)
        rc = hpf_interest_schedule_check(s, err);
    if (rc == 0)
        rc = check_upto(acc, upto, err);
    if (rc < 0)
        return rc;
    int64_t rd;
    rc = rate_days(&rd, s, acc->as_of, upto + 1, "/day", err);
    if (rc < 0)
        return rc;
    /* One interest year: a single divisor, so num[1] stays 0. */
    i128 num[2] = {weighted_of(acc) + (i128)acc->balance * rd, 0};
    hpf_fen interest;
    rc = round_interest(&interest, num, hpf_interest_divisor(b, acc->year), err);
    if (rc < 0)
        return rc;
    i128 j = (i128)acc->jishu + (i128)acc->balance * (upto + 1 - acc->as_of);
    return finish(out, j, acc->balance, interest, err);
}

int hpf_interest_acc_close(hpf_interest_result *out, const hpf_interest_acc *acc,
                           hpf_day closing_day, const hpf_interest_schedule *s,
                           const hpf_interest_basis *b, hpf_err *err)
{
    int rc = hpf_interest_acc_check(acc, err);
    if (rc < 0)
        return rc;
    if (closing_day < acc->as_of)
        return before_as_of(err, closing_day, acc->as_of);
    if (closing_day > hpf_interest_year_last(acc->year))
        return other_year(err, closing_day, acc->year);
    /* I-8: up to the day before the closing posting (as_of - 1 at the earliest: 0 days). */
    return hpf_interest_acc_interest(out, acc, closing_day - 1, s, b, err);
}

int hpf_interest_acc_settle(hpf_interest_result *out, hpf_interest_acc *next,
                            const hpf_interest_acc *acc, const hpf_interest_schedule *s,
                            const hpf_interest_basis *b, hpf_err *err)
{
    hpf_interest_result r;
    int rc =
        hpf_interest_acc_interest(&r, acc, hpf_interest_year_last(acc ? acc->year : 0), s, b, err);
    if (rc < 0)
        return rc;
    hpf_interest_acc n;
    rc = hpf_interest_acc_start(&n, acc->year + 1, r.closing, err);
    if (rc < 0)
        return rc;
    *out = r;
    *next = n;
    return 0;
}

int hpf_interest_acc_rebuild(hpf_interest_acc *acc, int32_t year, hpf_fen opening,
                             const hpf_interest_posting *p, size_t n,
                             const hpf_interest_schedule *s, hpf_err *err)
{
    hpf_interest_acc a;
    int rc = hpf_interest_acc_start(&a, year, opening, err);
    if (rc == 0)
        rc = hpf_interest_schedule_check(s, err);
    if (rc == 0)
        rc = check_postings(opening, hpf_interest_year_first(year), hpf_interest_year_last(year), p,
                            n, err);
    if (rc < 0)
        return rc;
    if (n > 0)
        a.as_of = p[n - 1].day; /* sorted and inside the year, so >= first(Y) */
    walk w = {.bal = opening};
    i128 jishu = 0, num[2] = {0, 0};
    rc = weighted(&jishu, num, &w, hpf_interest_year_first(year), a.as_of, p, n, s, false, "/year",
                  err);
    if (rc < 0)
        return rc;
    for (; w.k < n; w.k++) /* the postings of the as_of day itself */
        w.bal += p[w.k].amount;
    a.balance = w.bal;
    if (!fits_i64(jishu))
        return overflow(err, "the 积数");
    a.jishu = (int64_t)jishu;
    rc = set_weighted(&a, num[0], err);
    if (rc < 0)
        return rc;
    *acc = a;
    return 0;
}
