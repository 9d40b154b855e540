/*
 * ledger/verify: the ledger invariants, recomputed from posted data. Used by `hpf verify` and
 * by the tests after every API run. Read-only; O(rows) on both stores.
 *
 * Checked, in this order (the rule names the violation); the checks of one record come first, so
 * a forged row is named by the first check that sees it, the sums over the ledger last. Every
 * voucher has lines and balances (voucher.balanced); its lines name subjects of the chart in
 * force on its date (voucher.subject_in_chart); each member's balance equals the sum of their
 * postings (member.balance_is_sum_of_postings) and every posting's balance_after is the running
 * sum (posting.running_balance); every posting belongs to a business record, a remittance or a
 * reversal (posting.has_business_record); no balance is negative (member.non_negative); each
 * employer's kept balance equals its members' (employer.balance_is_sum_of_members); an original
 * voucher's lines are lines of its template (voucher.matches_template); each remittance equals
 * its voucher and the postings that carry it (remittance.matches_voucher_and_postings); a
 * voucher carries one business record (voucher.one_business_record); a reversal mirrors its
 * original line by line, is no reversal of a reversal and is not dated before it
 * (voucher.reversal_mirrors_original); a voucher is reversed at most once
 * (voucher.reversed_once); every mirror posting mirrors its original
 * (posting.reversal_mirrors_original) and a reversal moves every posting of the original
 * (voucher.reversal_moves_every_posting); every voucher has a business record or is a reversal
 * (voucher.has_business_record); the control account 201 equals the member sub-ledger
 * (ledger.control_201) and the employer sub-ledger (ledger.control_201_employers); total debits
 * equal total credits over the classes (ledger.balance_sheet_identity, RULES 5.2 before
 * closing). A voucher's business record is its remittance, the voucher it reverses, or a
 * voucher_link row (the annual interest, transfers ...), and only one of them
 * (voucher.one_business_record); each interest_run equals its interest postings
 * (interest.run_matches_postings); last, every member's interest state on the row equals the one
 * its postings give (member.interest_state, ledger/interest.h).
 */
#ifndef HPF_LEDGER_VERIFY_H
#define HPF_LEDGER_VERIFY_H

#include "store/db.h"

#include <stdint.h>

typedef struct hpf_verify_counts {
    int64_t vouchers, members, postings, remittances, employers, reversals;
} hpf_verify_counts;

/* Returns 0 when every invariant holds; HPF_ECONFLICT with err->rule the check and err->msg
 * naming the first violation (check, table, row, figures) otherwise; or a database error. */
int hpf_ledger_verify(hpf_db *db, hpf_verify_counts *counts, hpf_err *err);

#endif
