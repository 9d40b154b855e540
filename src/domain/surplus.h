/*
 * surplus: the value-added income (增值收益) of the fund and its distribution (RULES 5.4,
 * 条例 art. 29). Value-added income = 业务收入 - 业务支出; it goes, in this order, to
 *   1. the loan-risk reserve (贷款风险准备金): what brings the reserve up to its target, a share
 *      of the outstanding loans (current practice: >= 1 %), or, under the older rule (财综〔1999〕
 *      59号), a share of the value-added income (>= 60 %): `hpf_surplus_rule`, a policy choice;
 *   2. the centre's budgeted management costs (管理费用), as approved;
 *   3. the rest to the city's public-rental housing fund (城市廉租住房/公共租赁住房建设补充资金).
 * Pure: amounts in fen (any one unit, as long as all are in it), shares in basis points, rounding
 * half up once where a share is taken. RULES 5.4's 2021 city report is the unit test.
 */
#ifndef HPF_DOMAIN_SURPLUS_H
#define HPF_DOMAIN_SURPLUS_H

#include "base/err.h"
#include "base/money.h"

#include <stdint.h>

typedef enum hpf_surplus_rule {
    HPF_SURPLUS_TOP_UP,     /* reserve := what brings it to reserve_bp of the loan balance */
    HPF_SURPLUS_PCT_OF_VAI, /* reserve := reserve_bp of the value-added income */
} hpf_surplus_rule;

typedef struct hpf_surplus_in {
    hpf_fen income;  /* 业务收入 of the year, >= 0 */
    hpf_fen expense; /* 业务支出 of the year, >= 0 */
    hpf_surplus_rule rule;
    int32_t reserve_bp; /* 0..10000 */
    hpf_fen loans;      /* outstanding loan balance at year end (TOP_UP), >= 0 */
    hpf_fen reserve;    /* the reserve before the distribution (TOP_UP), >= 0 */
    hpf_fen management; /* the approved management budget, >= 0 */
} hpf_surplus_in;

typedef struct hpf_surplus_out {
    hpf_fen value_added; /* income - expense; 0 or less: nothing to distribute */
    hpf_fen to_reserve;
    hpf_fen to_management;
    hpf_fen to_rental; /* the rest; the three add up to value_added exactly */
} hpf_surplus_out;

/* Returns 0, or HPF_EINVAL (rule "surplus.input", the field named) for a negative amount or a
 * share outside 0..10000, HPF_EOVERFLOW. A year without value-added income distributes nothing
 * (all zero; a loss is not distributed). */
int hpf_surplus_distribute(hpf_surplus_out *out, const hpf_surplus_in *in, hpf_err *err);

#endif
