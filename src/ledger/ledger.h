/*
 * ledger: double-entry vouchers (记账凭证) against the chart of accounts (ledger/chart.h), written
 * from voucher templates (凭证模板, RULES 5.3) so that business code names amounts, not subjects;
 * the member sub-ledger (个人业务明细) whose postings move member balances, and with them the
 * employer sub-ledger (单位账户余额); and reversals (冲账) that mirror a posted voucher. Every
 * function runs inside the caller's transaction and writes nothing else; history is append-only
 * (docs/internals/ledger.md).
 */
#ifndef HPF_LEDGER_LEDGER_H
#define HPF_LEDGER_LEDGER_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "ledger/interest.h"
#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

/* The control account of the member and employer sub-ledgers (住房公积金, RULES 5.2). */
#define HPF_SUBJECT_FUND "201"

typedef struct hpf_vline {
    const char *subject; /* chart code, e.g. "101" */
    hpf_fen debit;       /* exactly one of debit and credit is > 0 */
    hpf_fen credit;
} hpf_vline;

/* Voucher templates (凭证模板, RULES 5.3; rows of table voucher_template, schema 10). */
#define HPF_VT_REMIT "001" /* 汇补缴 J1: Dr 101 / Cr 201, amount "deposit" */
/* 结算公积金利息 J6: Dr 211 "interest_accrued" + Dr 41101 "interest_unaccrued" / Cr 201
 * "interest" */
#define HPF_VT_INTEREST "018"

/* Write a balanced voucher dated biz_date. Fails with HPF_EINTERNAL if the lines do not balance,
 * a line is not one-sided and positive, or there are no lines; HPF_EOVERFLOW on sums out of
 * range; HPF_ECONFLICT ledger.subject_not_in_chart when a line names a code that the chart in
 * force on biz_date lacks (or no chart is in force then). voucher_no receives "V" + YYYYMMDD +
 * 6 digits (per-day sequence). */
int hpf_ledger_voucher(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                       const char *template_code, const char *summary, const hpf_vline *lines,
                       size_t nlines, hpf_err *err);

/* Record `business` (a stable name: "interest", "citytransfer", "merge" ...) and its row
 * (ref_table, ref_id) as the business record of voucher `voucher_id` (table voucher_link), for a
 * voucher that no remittance carries and that reverses nothing; `hpf verify` requires exactly
 * one business record per voucher. Returns 0, HPF_ECONFLICT (the voucher has one already) or a
 * database error. */
int hpf_ledger_link(hpf_db *db, int64_t voucher_id, const char *business, const char *ref_table,
                    int64_t ref_id, hpf_err *err);

/* ---- templates ---- */

#define HPF_TEMPLATE_MAX_LINES 16

/* One line of a template: the side, the subject, and the name of the amount it takes. */
typedef struct hpf_tline {
    char side; /* 'D' or 'C' */
    char subject[17];
    char amount[32];
} hpf_tline;

/* A named amount of a business (fen, >= 0): {"deposit", 52300}. */
typedef struct hpf_amount {
    const char *name;
    hpf_fen value;
} hpf_amount;

/* Expand template `code` (its lines `tl`, in line order) with the named amounts into voucher
 * lines (out has room for ntl; *nout receives the count; out[i].subject points into tl). A line
 * whose amount is 0 is left out. Pure. Returns 0, or HPF_EINTERNAL (a bug of the caller: an
 * amount the template names is missing, one given is not used or given twice, an amount is
 * negative or over HPF_MONEY_MAX, no line is left, or the lines do not balance) with rule
 * ledger.template_amounts and a message naming the template and the amount. */
int hpf_ledger_template_expand(const char *code, const hpf_tline *tl, size_t ntl,
                               const hpf_amount *amounts, size_t namounts, hpf_vline *out,
                               size_t *nout, hpf_err *err);

/* The lines of template `code` (at most HPF_TEMPLATE_MAX_LINES) into tl; *ntl the count.
 * Returns 0, HPF_EINTERNAL ledger.template_unknown, or a database error. */
int hpf_ledger_template_lines(hpf_db *db, const char *code, hpf_tline tl[HPF_TEMPLATE_MAX_LINES],
                              size_t *ntl, hpf_err *err);

/* Write the voucher of template `code` for these named amounts (hpf_ledger_template_expand,
 * then hpf_ledger_voucher; same errors). */
int hpf_ledger_voucher_from(hpf_db *db, int64_t *voucher_id, char voucher_no[24], hpf_day biz_date,
                            const char *template_code, const char *summary,
                            const hpf_amount *amounts, size_t namounts, hpf_err *err);

/* ---- the member and employer sub-ledgers ---- */

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
    int64_t reversal_of;   /* the posting this one mirrors (冲账), 0 if none */
    /* The deposit rates (ledger/interest.h hpf_ledger_rates_load) for the account's interest
     * state; NULL: loaded by the call. A business that posts to many members loads them once. */
    const hpf_ledger_rates *rates;
    /* A deposit for this month: the member's paid_through (缴至年月) moves up to it in the same
     * row update; 0 for none. */
    hpf_month paid_through;
} hpf_posting_in;

/* Append one posting, move the member balance by `amount`, its interest state (ledger/interest.h)
 * and the balance of the member's employer (table employer_balance) by the same. Returns 0,
 * HPF_ECONFLICT interest.year_settled / interest.year_unsettled (a posting dated before the
 * account's interest year, or two years after it: the settlement has not run), HPF_ENOTFOUND (no
 * such member),
 * HPF_ECONFLICT ledger.balance_negative (the balance would go negative), HPF_EOVERFLOW, HPF_EBUSY
 * (the balance changed under it: run the action again). *balance_after (may be NULL) receives the
 * new balance. Writers that post to several members of one employer lock the employer row first
 * (hpf_db_lock_row), as a remittance does, so that they queue instead of deadlocking on the
 * employer's balance. */
int hpf_ledger_post_member(hpf_db *db, const hpf_posting_in *in, hpf_fen *balance_after,
                           hpf_err *err);

/* The same for n postings, in input order, as if each were posted by hpf_ledger_post_member
 * (ledger/post.c): one read, one INSERT and one UPDATE per chunk of up to 64 members instead of
 * three statements a member; a member named twice makes the batch go one posting at a time.
 * after (may be NULL) receives each posting's balance after it. The rates of in[0] serve all.
 * Stops at the first error (the caller rolls its transaction back). */
int hpf_ledger_post_members(hpf_db *db, const hpf_posting_in *in, size_t n, hpf_fen *after,
                            hpf_err *err);

/* Move employer `employer_id`'s sub-ledger balance by `amount` (creating its row on the first
 * credit), for ledger writers that post many members at once and add up per employer. Returns 0,
 * HPF_ECONFLICT ledger.balance_negative, HPF_EBUSY (created concurrently), or a database error. */
int hpf_ledger_employer_add(hpf_db *db, int64_t employer_id, hpf_fen amount, hpf_err *err);

/* The balance row of a new account (table member_balance, schema 16: the balance, 缴至年月 and
 * interest state, kept apart from the wide member row), in the transaction that inserts the
 * member: a zero balance and the interest state of the year of opened_on. Every member has one
 * (`hpf verify`: member.balance_row). Returns 0 or a database error. */
int hpf_ledger_open_account(hpf_db *db, int64_t member_id, hpf_day opened_on, hpf_err *err);

/* Move member `member_id`'s whole balance from the employer sub-ledger of `from_employer` to that
 * of `to_employer`, for a business that changes the member's employer (内部转移) in the same
 * transaction; call it with the member row's employer_id changed or about to be. Lock both
 * employer rows first, in id order. Returns 0, HPF_ENOTFOUND (no such member), HPF_ECONFLICT
 * ledger.balance_negative (from_employer's balance does not hold the member's), or a database
 * error. */
int hpf_ledger_move_member(hpf_db *db, int64_t member_id, int64_t from_employer,
                           int64_t to_employer, hpf_err *err);

/* ---- reversal (冲账) ---- */

typedef struct hpf_reversal {
    int64_t voucher_id; /* the mirror voucher */
    char voucher_no[24];
    int64_t original_id;
    char original_no[24];
    int64_t postings; /* member postings mirrored */
    hpf_fen amount;   /* the voucher's debit total */
} hpf_reversal;

/* Post the mirror of voucher `voucher_no` on biz_date: a voucher of the same template with every
 * line's debit and credit swapped and reversal_of naming the original, and for every member
 * posting of the original a posting of the opposite amounts with reversal_of naming it (so
 * balances and their history stay right). The summary is "冲账 " + the original's number + ": "
 * + reason (or the original's summary). Returns 0, HPF_ENOTFOUND ledger.voucher_unknown,
 * HPF_ECONFLICT ledger.already_reversed / ledger.reversal_of_reversal /
 * ledger.balance_negative (a member has since spent the money) / ledger.subject_not_in_chart,
 * HPF_EUNPROC ledger.reversal_date (biz_date before the original's), or a database error. Locks
 * the employers of the members it posts to, in id order, before posting. */
int hpf_ledger_reverse(hpf_db *db, const char *voucher_no, hpf_day biz_date, const char *reason,
                       hpf_reversal *out, hpf_err *err);

#endif
