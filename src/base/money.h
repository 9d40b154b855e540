/*
 * money: amounts are int64_t fen (1 yuan = 100 fen). Every sum and product is overflow-checked;
 * rounding is half-up on the absolute value and happens only where the business rules say.
 * Text form is a decimal string with exactly two decimals: "523.00", "-0.50".
 */
#ifndef HPF_BASE_MONEY_H
#define HPF_BASE_MONEY_H

#include <stdint.h>

typedef int64_t hpf_fen;

/* Largest amount accepted from input: 10^13 fen = 100 billion yuan. */
#define HPF_MONEY_MAX INT64_C(10000000000000)

/* *out = a + b; returns 0 or HPF_EOVERFLOW (out untouched). */
int hpf_money_add(hpf_fen *out, hpf_fen a, hpf_fen b);
/* *out = a - b; returns 0 or HPF_EOVERFLOW. */
int hpf_money_sub(hpf_fen *out, hpf_fen a, hpf_fen b);

/* *out = round_half_up(a * num / den) in fen, with a 128-bit intermediate; den > 0.
 * Returns 0, HPF_EOVERFLOW (result outside int64_t) or HPF_EINVAL (den <= 0); out untouched on
 * error. To round straight to jiao or yuan, divide by den * unit and multiply back: rounding to
 * fen first and then to yuan would round twice (103.495 -> 103.50 -> 104 instead of 103). */
int hpf_money_muldiv(hpf_fen *out, hpf_fen a, int64_t num, int64_t den);

/* Round `a` half-up (on the absolute value) to a multiple of `unit` fen (1, 10 or 100; any
 * unit > 0 works): 1050 -> 1100 and -1050 -> -1100 for unit 100. Returns 0, HPF_EINVAL
 * (unit <= 0) or HPF_EOVERFLOW; out untouched on error. */
int hpf_money_round(hpf_fen *out, hpf_fen a, int64_t unit);

/* Parse "1234", "1234.5", "1234.56", "-3.10" (at most two decimals, no exponent, no spaces,
 * no thousands separators) into fen within [min, max]. Returns 0 or HPF_EINVAL; out untouched
 * on error. The grammar is exactly -?(0|[1-9][0-9]*)(\.[0-9]{1,2})?, so these are refused:
 * "", "-", "+1", " 1", "1 ", ".5", "1.", "1.234", "1e3", "01", "1,000". "-0.00" parses as 0. */
int hpf_money_parse(hpf_fen *out, const char *s, hpf_fen min, hpf_fen max);

/* Format as "-1234.56" into out (at least 24 bytes; every int64_t fits). Returns out. */
char *hpf_money_fmt(char out[static 24], hpf_fen v);

#endif
