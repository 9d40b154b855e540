/*
 * date: calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian) and months
 * as yyyymm integers. Pure arithmetic: no clock here (the business date is passed in), except
 * hpf_day_today_utc, which only main/ and jobs/ may call. Day numbers come from Hinnant's
 * days-from-civil algorithm, so consecutive dates differ by one and subtraction counts days.
 */
#ifndef HPF_BASE_DATE_H
#define HPF_BASE_DATE_H

#include <stdbool.h>
#include <stdint.h>

typedef int32_t hpf_day;   /* days since 1970-01-01 */
typedef int32_t hpf_month; /* yyyy*100 + mm, e.g. 202607 */

/* True if y-m-d is a real date with 1 <= y <= 9999 (Gregorian leap years: 2000 yes, 1900 no). */
bool hpf_date_valid(int y, int m, int d);
/* 28..31 for a month 1..12 of year y; 0 if m is not a month. */
int hpf_days_in_month(int y, int m);
/* The day number of y-m-d; the caller guarantees hpf_date_valid(y, m, d). */
hpf_day hpf_day_from_ymd(int y, int m, int d);
/* The date of a day number; the inverse of hpf_day_from_ymd. */
void hpf_day_to_ymd(hpf_day day, int *y, int *m, int *d);

/* Parse "YYYY-MM-DD" exactly (year 1900..9999, a real date, nothing before or after).
 * Returns 0 or HPF_EINVAL; out untouched on error. */
int hpf_day_parse(hpf_day *out, const char *s);
/* Parse the compact "YYYYMMDD" form used by JGJ/T 320 and bank files; same rules otherwise. */
int hpf_day_parse_compact(hpf_day *out, const char *s);
/* "YYYY-MM-DD" into out[11]. Returns out. */
char *hpf_day_fmt(char out[static 11], hpf_day day);
/* "YYYYMMDD" into out[9]. Returns out. */
char *hpf_day_fmt_compact(char out[static 9], hpf_day day);

/* Parse "YYYY-MM" into yyyymm (year 1900..9999, month 01..12). Returns 0 or HPF_EINVAL. */
int hpf_month_parse(hpf_month *out, const char *s);
/* "YYYY-MM" into out[8]. Returns out. */
char *hpf_month_fmt(char out[static 8], hpf_month m);
/* True if m is yyyymm with year 1900..9999 and month 1..12. */
bool hpf_month_valid(hpf_month m);
/* m plus n months (n may be negative): 202611 + 3 = 202702. The result may fall outside
 * 1900..9999; check it with hpf_month_valid when n comes from input. */
hpf_month hpf_month_add(hpf_month m, int n);
/* The month a day falls in. */
hpf_month hpf_month_of(hpf_day day);
/* a - b in months: hpf_month_diff(202701, 202612) = 1. */
int hpf_month_diff(hpf_month a, hpf_month b);
/* The first and the last day of a valid month. */
hpf_day hpf_month_first_day(hpf_month m);
hpf_day hpf_month_last_day(hpf_month m);

/* Today's date in UTC from the system clock: only main/ and jobs/ may call this. */
hpf_day hpf_day_today_utc(void);

#endif
