/*
 * ledger/report: the trial balance (科目余额表, JGJ/T 320 8.0.3 总账: QCYE, JFFSE, DFFSE, QMYE)
 * over a date range, rolled up the chart's levels, with the balance-sheet identity of RULES 5.2.
 * Read-only; run it in a read transaction for one consistent snapshot.
 */
#ifndef HPF_LEDGER_REPORT_H
#define HPF_LEDGER_REPORT_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"
#include "ledger/chart.h"
#include "store/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct hpf_tb_row {
    char code[HPF_CHART_CODE_MAX + 1];
    char name[HPF_CHART_NAME_MAX + 1];
    int level;
    char parent[HPF_CHART_CODE_MAX + 1];
    char klass[10];
    char side;     /* normal side, 'D' or 'C' */
    bool in_chart; /* false: a code with figures that the chart in force on `to` lacks */
    /* Each figure covers the code and every code below it. Balances are on the normal side
     * (negative: a balance on the other side); debit and credit are the turnover from..to. */
    hpf_fen opening, debit, credit, closing;
} hpf_tb_row;

/* RULES 5.2: 101 + 102 + 111 + 119 + 121 + 122 + 124 (assets) = 201 + 211 + 214 + 219 (liabilities)
 * + 301 + 311 - 321 (equity, Cr - Dr, so 321's debit balance counts against it) + 401 - 411
 * (income and expense still open before period-end closing). */
typedef struct hpf_tb_identity {
    hpf_fen assets, liabilities, equity, income, expense;
    hpf_fen left, right; /* assets; liabilities + equity + income - expense */
    bool holds;
} hpf_tb_identity;

typedef struct hpf_trial_balance {
    hpf_day from, to;
    hpf_day chart_from; /* the chart version in force on `to` */
    char chart_name[HPF_CHART_NAME_MAX + 1];
    hpf_tb_row *rows; /* by code: parents before their children */
    size_t n;
    /* Over the first-level rows: turnover, and balances on the debit and on the credit side
     * (each pair is equal when every voucher balances: 试算平衡). */
    hpf_fen debit, credit, opening_debit, opening_credit, closing_debit, closing_credit;
    hpf_tb_identity opening_identity, closing_identity;
} hpf_trial_balance;

/* The trial balance of the vouchers dated from..to (inclusive; opening = everything before
 * from). Returns 0, HPF_EINVAL query.range (from after to), HPF_ENOTFOUND chart.none (no chart in
 * force on to), HPF_EOVERFLOW, or a database error. O(voucher lines up to `to`). */
int hpf_ledger_trial_balance(hpf_db *db, hpf_day from, hpf_day to, hpf_trial_balance *out,
                             hpf_err *err);
void hpf_trial_balance_cleanup(hpf_trial_balance *tb);

/* The report as JSON (a new reference): {from, to, chart, subjects[], totals, identity}. Money as
 * decimal strings. */
json_t *hpf_trial_balance_json(const hpf_trial_balance *tb);

#endif
