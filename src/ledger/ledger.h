/*
 * ledger: double-entry vouchers (记账凭证) against the chart of accounts, and the member
 * sub-ledger (个人业务明细) whose postings move member balances. Every function runs inside the
 * caller's transaction and writes nothing else; history is append-only.
 */
#ifndef HPF_LEDGER_LEDGER_H
#define HPF_LEDGER_LEDGER_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hpf_vline {
    const char *subject; /* chart code, e.g. "101" */
    hpf_fen debit;       /* exactly one of debit and credit is > 0 */
    hpf_fen credit;
} hpf_vline;

/* Voucher templates (凭证模板, RULES 5.3). */
#define HPF_VT_REMIT "001" /* 汇补缴: Dr 101 / Cr 201 */

/* Write a balanced voucher. Fails with HPF_EINTERNAL if the lines do not balance, a line is not
 * one-sided and positive, or there are no lines; HPF_EOVERFLOW on sums out of range.
 * voucher_no receives "V" + YYYYMMDD + 6 digits (per-day sequence). */
int hpf_ledger_voucher(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                       const char *template_code, const char *summary, const hpf_vline *lines,
                       size_t nlines, hpf_err *err);

typedef struct hpf_posting_in {
    int64_t member_id;
    hpf_day biz_date;
    const char *kind;     /* JGJ/T A.5 business type: "01" 汇缴 ... */
    hpf_month period;     /* 汇补缴年月, 0 if none */
    hpf_fen unit_amount;  /* employer part (for deposits) */
    hpf_fen indiv_amount; /* member part */
    hpf_fen amount;       /* signed movement; for deposits unit + indiv */
    int64_t voucher_id;
    int64_t remittance_id; /* 0 if none */
} hpf_posting_in;

/* Append one posting and move the member balance by `amount`. Returns 0, HPF_ENOTFOUND (no such
 * member), HPF_ECONFLICT (the balance would go negative), HPF_EOVERFLOW. *balance_after (may be
 * NULL) receives the new balance. */
int hpf_ledger_post_member(hpf_db *db, const hpf_posting_in *in, hpf_fen *balance_after,
                           hpf_err *err);

#endif
