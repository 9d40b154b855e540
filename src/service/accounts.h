/*
 * service/accounts: the fund's books (住房公积金会计核算, RULES 5) as use cases over ledger/:
 * loading a chart of accounts version, reading the chart, the trial balance with the balance-sheet
 * identity, and reversing a posted voucher (冲账). The fund's books are the centre's: every call
 * wants an operator of the centre (HPF_EFORBIDDEN auth.role for another role, scope.branch for an
 * operator of a branch office). The operator CLI acts as such an operator with user id 0 (the
 * system). Writes are one transaction each, with their audit entry (docs/internals/ledger.md).
 */
#ifndef HPF_SERVICE_ACCOUNTS_H
#define HPF_SERVICE_ACCOUNTS_H

#include "ledger/chart.h"
#include "ledger/ledger.h"
#include "ledger/report.h"
#include "service/svc.h"

#include <stddef.h>

/* Audit event kinds of this module (stable strings; trust/audit.h lists the others). */
#define HPF_AUDIT_CHART_LOADED "chart.loaded" /* on chart_version: "chart/1|..." */

#define HPF_REVERSAL_REASON_MAX 200 /* bytes */

/* Parse the chart file `text` (hpf_chart_parse; source names it in the version row), let
 * `effective` (0: keep the file's) and `name` (NULL: keep the file's) override its date and
 * name, and store it as a new version (hpf_chart_store), with a chart.loaded audit entry
 * carrying the SM3 of the file, all in one transaction. Errors: those of hpf_chart_parse and
 * hpf_chart_store (the first broken rule, naming the subject by line or JSON index), the scope
 * errors above, or a database error. */
int hpf_accounts_chart_load(hpf_svc *svc, const hpf_actor *actor, const char *source,
                            const char *text, size_t len, hpf_day effective, const char *name,
                            hpf_chart_loaded *out, hpf_err *err);

/* The chart in force on `day` (hpf_chart_at). */
int hpf_accounts_chart_at(hpf_svc *svc, const hpf_actor *actor, hpf_day day, hpf_chart *out,
                          hpf_err *err);

/* The trial balance from..to in one read snapshot (hpf_ledger_trial_balance; the standby may
 * answer). */
int hpf_accounts_trial_balance(hpf_svc *svc, const hpf_actor *actor, hpf_day from, hpf_day to,
                               hpf_trial_balance *out, hpf_err *err);

/* Reverse the posted voucher `voucher_no` on the business date (hpf_ledger_reverse), with a
 * voucher.reversed audit entry; `reason` (may be NULL; at most HPF_REVERSAL_REASON_MAX bytes of
 * text, else HPF_EINVAL ledger.reason on /reason) goes into the mirror's summary and, as its
 * SM3, into the entry. Errors: those of hpf_ledger_reverse, or HPF_EBUSY (run it again). */
int hpf_accounts_reverse(hpf_svc *svc, const hpf_actor *actor, const char *voucher_no,
                         const char *reason, hpf_reversal *out, hpf_err *err);

/* The same reversal as a maker-checker request (kind voucher.reverse): checked now by a dry run
 * of hpf_ledger_reverse (its errors), stored pending, and run when another operator of the
 * centre approves it (hpf_approval_decide), with its voucher.reversed audit entry. Replays as
 * hpf_remit_submit. */
int hpf_accounts_reverse_submit(hpf_svc *svc, const hpf_actor *actor, const char *voucher_no,
                                const char *reason, const char *idem_key, hpf_approval *out,
                                bool *replayed, hpf_err *err);

/* ---- the annual interest settlement (年终结息, RULES 2.4) ---- */

#define HPF_SETTLE_BATCH_MAX 100000

typedef struct hpf_settle_progress {
    int32_t year;
    int64_t accounts;  /* accounts read by this run (settled, or with nothing of the year) */
    int64_t postings;  /* interest postings written by this run */
    hpf_fen interest;  /* their sum */
    int64_t batches;   /* transactions committed, one J6 voucher each (when interest > 0) */
    int64_t remaining; /* accounts still to settle */
    bool finished;
} hpf_settle_progress;

typedef void (*hpf_settle_cb)(const hpf_settle_progress *p, void *arg);

/*
 * Settle interest year `year` (1 July year-1 .. 30 June year) for every live account not yet
 * settled, in batches of `batch` accounts, each its own transaction with its J6 voucher and
 * voucher.posted audit entry; `progress` (may be NULL) is called after each. Idempotent: a rerun
 * settles only what is left (nothing, after a finished run) and a run stopped by a crash resumes.
 * Errors: HPF_EFORBIDDEN (not an operator of the centre), HPF_EINVAL interest.year_range /
 * interest.batch, HPF_EUNPROC interest.too_early (the business date is before 30 June of the
 * year: RULES I-3), HPF_ECONFLICT interest.year_unsettled (an earlier year is not settled on
 * some account), or a database error; the batches committed before an error stay.
 */
int hpf_interest_settle(hpf_svc *svc, const hpf_actor *actor, int32_t year, int batch,
                        hpf_settle_cb progress, void *arg, hpf_settle_progress *out, hpf_err *err);

#endif
