/*
 * interest: the deposit interest of a personal account by the 积数 (balance-day product) method
 * (RULES §2). The 积数 of a period is the sum, over its days, of the end-of-day balance, in
 * fen·days; a posting counts from its own day (算头不算尾: a deposit earns on its posting day, a
 * withdrawal stops earning on it). Interest = Σ 积数 of each day x the annual rate in force that
 * day / (10^7 x day basis), summed exactly in 128 bits and rounded half-up to the fen once, at
 * the end (I-5); a rate change inside the period splits the 积数 at the change date (I-9). Rates
 * are integers in 10^-7 (1.5% = 150000). The interest year runs 1 July Y-1 .. 30 June Y (I-3).
 *
 * Three ways to the same 积数: the segment formula over sorted postings (O(postings), the
 * production path for a period), the day-by-day loop of RULES §2.2 (the reference the tests hold
 * the others to, never used in production) and an O(1) accumulator kept on the account row, so
 * that the annual settlement reads each account once and never its postings (ARCHITECTURE rule
 * 10). Pure functions: no I/O, no clock; the caller passes the rate schedule and the day basis in
 * force (policy) and the business date. Bad input gives an hpf_err with a stable rule name
 * (interest.*) and never a wrong number. Design, units and the accumulator's invariant:
 * docs/internals/interest.md.
 */
#ifndef HPF_DOMAIN_INTEREST_H
#define HPF_DOMAIN_INTEREST_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A rate of 100% a year in rate units (10^-7): 1.5% is 150000. Also the largest rate accepted. */
#define HPF_INTEREST_RATE_ONE INT32_C(10000000)

/* One step of a rate schedule: `rate` (annual, 10^-7 units, 0..HPF_INTEREST_RATE_ONE) is in
 * force from `from` on, until the next step's `from`. */
typedef struct hpf_interest_rate {
    hpf_day from;
    int32_t rate;
} hpf_interest_rate;

/* A rate schedule, steps sorted by strictly increasing `from`; borrowed, not owned. */
typedef struct hpf_interest_schedule {
    const hpf_interest_rate *steps;
    size_t n;
} hpf_interest_schedule;

/* The day basis: the daily rate is the annual rate / days. days is 360 (RULES default, I-4) or
 * 365; with leap_366 (RULES 2.3-C, a parameter [D]) a 365 basis becomes 366 for the days of an
 * interest year that contains 29 February, so that a full year earns exactly the annual rate. */
typedef struct hpf_interest_basis {
    int32_t days;
    bool leap_366;
} hpf_interest_basis;

/* A dated signed posting: amount > 0 credits, < 0 debits; it counts from its own day. */
typedef struct hpf_interest_posting {
    hpf_day day;
    hpf_fen amount;
} hpf_interest_posting;

typedef struct hpf_interest_result {
    int64_t jishu;    /* 积数 of the period, fen·days (yuan·days x 100) */
    hpf_fen interest; /* rounded half-up to the fen, once */
    hpf_fen balance;  /* the balance at the end of the period, before the interest */
    hpf_fen closing;  /* balance + interest: the new 上年结转, or the payout of a closing */
} hpf_interest_result;

/* ---- rates and basis ---- */

/*
 * Parse an annual rate written in percent, "1.5", "1.50" or "0.35" (at most five decimals, which
 * is exactly the 10^-7 unit; no sign, exponent or spaces; 0 to 100) into rate units: "1.5" ->
 * 150000. No floating point. Returns 0 or HPF_EINVAL; out untouched on error.
 */
int hpf_interest_rate_parse(int32_t *out, const char *percent);

/*
 * Check a schedule: at least one step (rule "interest.no_rate", field "/rates"), days within
 * 1900-01-01..9999-12-31 ("interest.date_range", "/rates/I/from"), strictly increasing
 * ("interest.schedule_order", "/rates/I/from"), each rate within 0..HPF_INTEREST_RATE_ONE
 * ("interest.rate_range", "/rates/I/rate"). Returns 0 or HPF_EINVAL.
 */
int hpf_interest_schedule_check(const hpf_interest_schedule *s, hpf_err *err);

/*
 * The rate in force on `day`: that of the last step with from <= day. Returns 0, HPF_EINVAL
 * (a schedule that fails hpf_interest_schedule_check, or no step on or before `day`: rule
 * "interest.no_rate", field "/day"). *out is written only on success.
 */
int hpf_interest_rate_at(int32_t *out, const hpf_interest_schedule *s, hpf_day day, hpf_err *err);

/* Check a basis: days 360 or 365, leap_366 only with 365. Returns 0 or HPF_EINVAL (rule
 * "interest.basis", field "/basis"). */
int hpf_interest_basis_check(const hpf_interest_basis *b, hpf_err *err);

/* ---- the interest year (1 July Y-1 .. 30 June Y, I-3) ---- */

/* Y such that day falls in 1 July Y-1 .. 30 June Y: 2021-07-01 and 2022-06-30 are both in 2022. */
int32_t hpf_interest_year_of(hpf_day day);
/* The first day, 1 July of y-1, and the last, 30 June of y (the settlement day). */
hpf_day hpf_interest_year_first(int32_t y);
hpf_day hpf_interest_year_last(int32_t y);
/* 366 when the year contains 29 February (that of calendar year y), else 365. */
int32_t hpf_interest_year_days(int32_t y);
/* The divisor for the days of interest year y under basis b: b->days, or 366 for a leap year
 * with b->leap_366. The caller passes a checked basis. */
int32_t hpf_interest_divisor(const hpf_interest_basis *b, int32_t y);

/*
 * I-8: a closing (销户提取, outward transfer, death or retirement closure) posted on
 * `closing_day` settles interest from the first day of its interest year up to the day before
 * the closing posting. Sets *from and *to to that period and returns true; returns false (and
 * sets nothing) when the closing falls on 1 July, whose period is empty: no interest is due.
 */
bool hpf_interest_closing_period(hpf_day *from, hpf_day *to, hpf_day closing_day);

/* ---- a period, from its postings ---- */

/*
 * The 积数 of [from, to] (both inclusive) in fen·days by the segment formula, O(n):
 *   积数 = opening x (to - from + 1) + Σ amount_i x (to - day_i + 1)
 * summed in __int128 (one term alone can exceed int64 over a long period, and a partial sum can
 * exceed the final one), the result checked to fit int64_t (the type the account row stores;
 * a whole interest year is at most 366 x HPF_MONEY_MAX, far inside it).
 * Input rules, each HPF_EINVAL with its rule and field: from <= to ("interest.period", "/to");
 * days within 1900-01-01..9999-12-31 ("interest.date_range"); |opening| and |amount_i| at most
 * HPF_MONEY_MAX ("interest.amount_range", "/opening" or "/postings/I/amount"); postings sorted
 * by day ("interest.posting_order", "/postings/I/day") and inside [from, to] (a posting before
 * `from` belongs in `opening`: "interest.posting_outside", "/postings/I/day"); the balance after
 * each posting within ±HPF_MONEY_MAX ("interest.balance_range", "/postings/I/amount"). Then
 * HPF_EOVERFLOW ("interest.overflow") if the 积数 does not fit. *out written only on success.
 */
int hpf_interest_jishu(int64_t *out, hpf_fen opening, hpf_day from, hpf_day to,
                       const hpf_interest_posting *p, size_t n, hpf_err *err);

/* The same 积数 by the day-by-day loop of RULES §2.2, O(days + n), with the same checks and
 * errors. The reference the tests compare the segment formula and the accumulator against;
 * production paths do not call it. */
int hpf_interest_jishu_daily(int64_t *out, hpf_fen opening, hpf_day from, hpf_day to,
                             const hpf_interest_posting *p, size_t n, hpf_err *err);

/*
 * Interest for [from, to] (inclusive) with the postings as for hpf_interest_jishu:
 *   interest = round_half_up( Σ_segments 积数_seg x rate_seg / (10^7 x divisor_seg) )
 * where the segments split the period at each rate change (I-9) and, with leap_366, at each
 * 1 July (the divisor is per interest year). The sum is exact in __int128 over the common
 * denominator and rounded half-up (on the absolute value) to the fen once (I-5). Errors: those
 * of hpf_interest_jishu, a schedule or basis that fails its check, no rate in force on `from`
 * ("interest.no_rate", "/from"), HPF_EOVERFLOW ("interest.overflow"). *out only on success.
 */
int hpf_interest_compute(hpf_interest_result *out, hpf_fen opening, hpf_day from, hpf_day to,
                         const hpf_interest_posting *p, size_t n, const hpf_interest_schedule *s,
                         const hpf_interest_basis *b, hpf_err *err);

/* ---- the accumulator kept on the account row ---- */

/*
 * The running interest state of one account in one interest year, O(1) to update and to read.
 * Invariant (what `hpf verify` recomputes from the postings; hpf_interest_acc_rebuild is that
 * computation): for the opening balance O of year Y (上年结转 after the last settlement) and the
 * set P of the year's postings applied so far, with eod(d) = O + Σ_{p in P, p.day <= d} p.amount:
 *   balance   = O + Σ_{p in P} p.amount
 *   as_of     = max(first(Y), the latest p.day)
 *   jishu     = Σ_{d = first(Y)}^{as_of - 1} eod(d)                      (fen·days)
 *   rate_jishu x 10^7 + rate_jishu_rem = Σ_{d = first(Y)}^{as_of - 1} eod(d) x rate(d)
 *               with 0 <= rate_jishu_rem < 10^7 (floor division), i.e. the rate-weighted 积数
 *               in fen·days (interest x divisor), exactly.
 * Every day from as_of on has the end-of-day balance `balance`, so any 积数 or interest up to a
 * day D >= as_of - 1 follows from the state alone. The state depends on the set P only, not on
 * the order in which the postings were applied (both update rules below are linear), so a
 * back-dated posting inside the year gives the same state as if it had come in date order.
 * All fields fit BIGINT / INTEGER columns on both stores.
 */
typedef struct hpf_interest_acc {
    int32_t year;           /* Y: the state covers 1 July Y-1 .. 30 June Y */
    hpf_day as_of;          /* the latest posting day; first(Y) before any posting */
    hpf_fen balance;        /* the opening plus every applied posting */
    int64_t jishu;          /* 积数 of first(Y) .. as_of - 1, fen·days */
    int64_t rate_jishu;     /* floor(Σ eod(d) x rate(d) / 10^7) over the same days, fen·days */
    int32_t rate_jishu_rem; /* the rest of that sum, 0 .. 10^7 - 1, in 10^-7 fen·days */
} hpf_interest_acc;

/*
 * Check a state read back from storage: year within 1901..9999, as_of inside its year,
 * |balance| <= HPF_MONEY_MAX, 0 <= rate_jishu_rem < 10^7. A bad state is corrupt data, not the
 * client's input: HPF_EINTERNAL, rule "interest.state". Every function below checks its state.
 */
int hpf_interest_acc_check(const hpf_interest_acc *acc, hpf_err *err);

/*
 * The state at the start of interest year `year` with the opening balance (上年结转) `opening`.
 * Returns 0 or HPF_EINVAL ("interest.year_range", "/year": outside 1901..9999;
 * "interest.amount_range", "/opening"). *acc written only on success.
 */
int hpf_interest_acc_start(hpf_interest_acc *acc, int32_t year, hpf_fen opening, hpf_err *err);

/*
 * Fold one posting into the state. For day >= as_of:
 *   jishu += balance x (day - as_of); rate_jishu += balance x Σ_{d=as_of}^{day-1} rate(d);
 *   as_of = day; balance += amount
 * and for a back-dated posting (first(Y) <= day < as_of), linear in the posting:
 *   jishu += amount x (as_of - day); rate_jishu += amount x Σ_{d=day}^{as_of-1} rate(d);
 *   balance += amount.
 * Errors: a day outside the state's interest year (HPF_ECONFLICT, "interest.other_year",
 * "/day": the year must be settled, or was); |amount| > HPF_MONEY_MAX or the new balance outside
 * ±HPF_MONEY_MAX (HPF_EINVAL, "interest.amount_range" / "interest.balance_range", "/amount");
 * no rate in force on a day it needs (HPF_EINVAL, "interest.no_rate"); HPF_EOVERFLOW; a bad
 * state or schedule. *acc is changed only on success.
 */
int hpf_interest_acc_apply(hpf_interest_acc *acc, hpf_day day, hpf_fen amount,
                           const hpf_interest_schedule *s, hpf_err *err);

/*
 * The 积数 of first(Y) .. upto from the state: jishu + balance x (upto - as_of + 1).
 * upto must be within as_of - 1 .. last(Y) (earlier days are folded in: HPF_ECONFLICT,
 * "interest.before_as_of", "/day"; later ones are another year: "interest.other_year").
 */
int hpf_interest_acc_jishu(int64_t *out, const hpf_interest_acc *acc, hpf_day upto, hpf_err *err);

/*
 * Interest of first(Y) .. upto from the state, rounded half-up once:
 *   round((rate_jishu x 10^7 + rate_jishu_rem + balance x Σ_{d=as_of}^{upto} rate(d))
 *         / (10^7 x hpf_interest_divisor(b, Y)))
 * Also fills jishu, balance and closing of *out. Errors as hpf_interest_acc_jishu, plus a bad
 * schedule or basis, "interest.no_rate", HPF_EOVERFLOW.
 */
int hpf_interest_acc_interest(hpf_interest_result *out, const hpf_interest_acc *acc, hpf_day upto,
                              const hpf_interest_schedule *s, const hpf_interest_basis *b,
                              hpf_err *err);

/*
 * I-8 from the state: the interest due on a closing posted on `closing_day` (up to the day
 * before it), with out->closing the payout (balance + interest) before the closing posting
 * itself is applied. closing_day must be within as_of .. last(Y) (a closing before the latest
 * posting: "interest.before_as_of"). A closing on 1 July gives 0 interest.
 */
int hpf_interest_acc_close(hpf_interest_result *out, const hpf_interest_acc *acc,
                           hpf_day closing_day, const hpf_interest_schedule *s,
                           const hpf_interest_basis *b, hpf_err *err);

/*
 * The annual settlement of the state's year (I-3, I-6): *out is the interest up to 30 June Y,
 * and *next the state of year Y+1 whose opening is out->closing (the interest posting of
 * 30 June is the new 上年结转, outside the 积数 it came from). Errors as
 * hpf_interest_acc_interest, plus "interest.year_range" for Y = 9999. Outputs only on success.
 */
int hpf_interest_acc_settle(hpf_interest_result *out, hpf_interest_acc *next,
                            const hpf_interest_acc *acc, const hpf_interest_schedule *s,
                            const hpf_interest_basis *b, hpf_err *err);

/*
 * The state the invariant above gives for year `year`, opening `opening` and the year's
 * postings p (sorted by day, each inside the year), by the segment formula in O(n + steps):
 * what `hpf verify` compares the stored row with. Errors as hpf_interest_acc_start and
 * hpf_interest_jishu (posting rules, with the year as the period), "interest.no_rate",
 * HPF_EOVERFLOW. *acc written only on success.
 */
int hpf_interest_acc_rebuild(hpf_interest_acc *acc, int32_t year, hpf_fen opening,
                             const hpf_interest_posting *p, size_t n,
                             const hpf_interest_schedule *s, hpf_err *err);

#endif
