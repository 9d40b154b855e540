/*
 * ledger/verify: the ledger invariants, recomputed from posted data. Used by `hpf verify` and
 * by the tests after every API run. Read-only.
 *
 * Checked: every voucher has lines and balances; total debits equal total credits over the
 * chart (the balance-sheet identity before closing); each member's balance equals the sum of
 * their postings and every posting's balance_after is the running sum; no balance is negative;
 * the control account 201 equals the member sub-ledger; each remittance equals its voucher and
 * the postings that carry it.
 */
#ifndef HPF_LEDGER_VERIFY_H
#define HPF_LEDGER_VERIFY_H

#include "store/db.h"

#include <stdint.h>

typedef struct hpf_verify_counts {
    int64_t vouchers, members, postings, remittances;
} hpf_verify_counts;

/* Returns 0 when every invariant holds; HPF_ECONFLICT with err->msg naming the first violation
 * (table, row, figures) otherwise; or a database error. */
int hpf_ledger_verify(hpf_db *db, hpf_verify_counts *counts, hpf_err *err);

#endif
