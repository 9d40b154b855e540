/*
 * ledger/interest: the interest accumulator on the member row (schema 12; domain/interest.h
 * hpf_interest_acc), so that the annual settlement reads each account once (ARCHITECTURE rule
 * 10). hpf_ledger_post_member keeps it with every posting; a posting of the next interest year
 * that comes before the settlement closes the year into the row's "due" figures, which the
 * settlement then turns into interest. Rates and the day basis come from the policy versions
 * (RULES 0.3: deposit_rate_e7, day_basis by effective date). Design and invariant:
 * docs/internals/interest.md.
 */
#ifndef HPF_LEDGER_INTEREST_H
#define HPF_LEDGER_INTEREST_H

#include "base/date.h"
#include "base/err.h"
#include "domain/interest.h"
#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>

#define HPF_LEDGER_RATES_MAX 128

/* The deposit rate schedule and day basis of every policy version, in effective-date order.
 * Load it once per business action and pass it to the postings (hpf_posting_in.rates). */
typedef struct hpf_ledger_rates {
    hpf_interest_rate steps[HPF_LEDGER_RATES_MAX];
    int32_t basis[HPF_LEDGER_RATES_MAX]; /* day_basis of the version of each step */
    size_t n;
} hpf_ledger_rates;

/* Returns 0, HPF_ECONFLICT interest.no_rate (no version), HPF_EINTERNAL or a database error. */
int hpf_ledger_rates_load(hpf_db *db, hpf_ledger_rates *out, hpf_err *err);
/* The schedule (borrowing r's steps) and the basis in force on `day`. */
hpf_interest_schedule hpf_ledger_rates_schedule(const hpf_ledger_rates *r);
hpf_interest_basis hpf_ledger_rates_basis(const hpf_ledger_rates *r, hpf_day day);

/* The state of one account as stored on its row. */
typedef struct hpf_ledger_acc {
    int64_t member_id;
    bool started;         /* false: int_year is NULL (hpf_ledger_acc_start computes it) */
    hpf_interest_acc acc; /* the current year; acc.balance is member.balance */
    hpf_fen opening;      /* 上年结转余额 of acc.year */
    bool has_due;         /* a closed year (acc.year - 1) waits for its settlement */
    hpf_interest_acc due; /* its figures, as_of 30 June */
} hpf_ledger_acc;

/* The accumulator columns of member, comma-separated, for a SELECT (a literal, so that a query
 * built with it is one string the statement cache finds by address); hpf_ledger_acc_read reads
 * them from column `col` on. */
#define HPF_LEDGER_ACC_COLS                                                                        \
    "int_year, int_opening, int_as_of, int_jishu, int_rate_jishu, int_rate_rem, int_due_year,"     \
    " int_due_jishu, int_due_rate_jishu, int_due_rate_rem, int_due_balance"
/* The accounts that the settlement of year Y still has to read, for a query over
 * member_balance b JOIN member m: live (terminal accounts were settled when they closed, I-8;
 * sealed and frozen ones earn) and holding year Y unsettled, or never started. Binds Y twice. */
#define HPF_LEDGER_UNSETTLED                                                                       \
    " (b.int_year IS NULL OR (b.int_year = ? AND b.int_due_year IS NULL) OR b.int_due_year = ?)"   \
    " AND m.state NOT IN ('03', '04', '05')"
int hpf_ledger_acc_read(hpf_stmt *st, int col, int64_t member_id, hpf_fen balance,
                        hpf_ledger_acc *out, hpf_err *err);

/* A row without a state: compute it from the member's postings for the interest year of `day`
 * (or of its latest posting if later), taking the years before as settled. No-op when
 * started. */
int hpf_ledger_acc_start(hpf_db *db, hpf_ledger_acc *a, hpf_day day, const hpf_interest_schedule *s,
                         hpf_err *err);

/* Bring the state to the interest year of `day`: nothing in the same year; the next year closes
 * the current one into `due`. HPF_ECONFLICT interest.year_settled (an earlier year) or
 * interest.year_unsettled (two years, or a due year not settled yet). */
int hpf_ledger_acc_roll(hpf_ledger_acc *a, hpf_day day, const hpf_interest_schedule *s,
                        hpf_err *err);

/* The state that the postings p (sorted by day) give for interest year `year`, with a due
 * year-1 when with_due; out->member_id is kept (the verifier's recomputation). Errors of
 * domain/interest.h, and HPF_ECONFLICT interest.other_year (a posting after the year). */
int hpf_ledger_acc_rebuild(const hpf_interest_posting *p, size_t n, int32_t year, bool with_due,
                           const hpf_interest_schedule *s, hpf_ledger_acc *out, hpf_err *err);

/* Read, start and roll to `day` the state of member_id. */
int hpf_ledger_acc_load(hpf_db *db, int64_t member_id, hpf_day day, const hpf_ledger_rates *rates,
                        hpf_ledger_acc *out, hpf_err *err);

/*
 * I-8: the interest due on a closing (销户提取, 外部转出, death) posted on closing_day, from the
 * first day of its interest year to the day before: out->interest, out->balance (the balance
 * before the closing posting) and out->closing (the payout, balance + interest). Read-only.
 * Errors: HPF_ENOTFOUND, HPF_ECONFLICT interest.year_unsettled (last year's settlement has not
 * run: run it first), interest.year_settled / interest.before_as_of (a closing dated before
 * the account's latest posting), or a database error.
 */
int hpf_ledger_closing_interest(hpf_db *db, int64_t member_id, hpf_day closing_day,
                                hpf_interest_result *out, hpf_err *err);

/* One account's new balance and state (state->acc.balance) for hpf_ledger_write_states, with
 * the posting that moved it (NULL: the state only, as for an account whose settlement earned
 * nothing). */
typedef struct hpf_ledger_state_write {
    const struct hpf_posting_in *posting;
    const hpf_ledger_acc *state;
    hpf_fen old_balance;
} hpf_ledger_state_write;

/* Write the postings (with balance_after the new balance) and the member rows of w[0..n) in
 * multi-row statements (ledger/post.c); a row whose balance is no longer old_balance is
 * HPF_EBUSY. The employer sub-ledger is the caller's. */
int hpf_ledger_write_states(hpf_db *db, const hpf_ledger_state_write *w, size_t n, hpf_err *err);

/* ---- the annual settlement (年终结息, RULES 2.4) ---- */

typedef struct hpf_ledger_settled {
    int64_t accounts;    /* accounts read (settled, or found with nothing of the year) */
    int64_t postings;    /* interest postings written (accounts with interest > 0) */
    hpf_fen interest;    /* their sum: the voucher's amount */
    int64_t voucher_id;  /* the J6 voucher (template 018), 0 when no interest */
    int64_t last_member; /* the highest member id read: where the next batch starts */
} hpf_ledger_settled;

/*
 * Settle interest year `year` for the next `limit` unsettled live accounts after member id
 * after_member, inside the caller's transaction: for each, the interest of the year from its
 * state (one read of the row, never its postings), a posting of kind '09' dated 30 June with
 * period = year, and the state of the next year; one J6 voucher for the batch (template 018,
 * linked to interest_run `year` in voucher_link) and the employers' balances. Accounts already
 * settled for the year are not selected, and the unique index posting_interest_once refuses a
 * second posting (HPF_EBUSY: a concurrent run). The caller audits the voucher. out->accounts <
 * limit means no account is left.
 */
int hpf_ledger_settle_batch(hpf_db *db, int32_t year, const hpf_ledger_rates *rates,
                            int64_t after_member, int limit, hpf_ledger_settled *out, hpf_err *err);

#endif
