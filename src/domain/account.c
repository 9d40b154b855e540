#include "domain/account.h"

#include <string.h>

/* Rows: the states in this order; columns: the businesses in this order. */
static const hpf_account_state states[] = {
    HPF_ACCOUNT_NONE,   HPF_ACCOUNT_NORMAL,          HPF_ACCOUNT_SEALED,
    HPF_ACCOUNT_MERGED, HPF_ACCOUNT_TRANSFERRED_OUT, HPF_ACCOUNT_CLOSED,
    HPF_ACCOUNT_FROZEN, HPF_ACCOUNT_OTHER,
};
static const hpf_account_biz bizs[] = {
    HPF_BIZ_OPEN,        HPF_BIZ_UNSEAL, HPF_BIZ_SEAL,   HPF_BIZ_TRANSFER, HPF_BIZ_TRANSFER_OUT,
    HPF_BIZ_TRANSFER_IN, HPF_BIZ_CLOSE,  HPF_BIZ_FREEZE, HPF_BIZ_UNFREEZE, HPF_BIZ_MERGE,
};
#define NSTATES (sizeof states / sizeof states[0])
#define NBIZ    (sizeof bizs / sizeof bizs[0])

enum { X = -1, PREV = -2 }; /* refused; back to the state it froze */

/* RULES §1.5, read as docs/internals/accounts.md explains. 01 leaves "via 销户": each of the
 * three closings (合并, 外部转出, 销户提取). 06 is entered from 01 and from 02 (解冻 returns "to
 * the previous state", which can then be either) and left only by 解冻; a transfer in stays
 * frozen, as any deposit does (invariant 4). A sealed account takes no transfer in before it is
 * unsealed (invariant 3). 个人合并 closes the duplicate account, sealed or not [D]. */
static const signed char table[NSTATES][NBIZ] = {
    /*          开户 启封 封存 内转 外出 外入 销提 冻结 解冻 合并 */
    /* none */ {1, X, X, X, X, 1, X, X, X, X},
    /* 01 */ {X, X, 2, 1, 4, 1, 5, 6, X, 3},
    /* 02 */ {X, 1, X, 1, 4, X, 5, 6, X, 3},
    /* 03 */ {X, X, X, X, X, X, X, X, X, X},
    /* 04 */ {X, X, X, X, X, X, X, X, X, X},
    /* 05 */ {X, X, X, X, X, X, X, X, X, X},
    /* 06 */ {X, X, X, X, X, 6, X, X, PREV, X},
    /* 99 */ {X, X, X, X, X, X, X, X, X, X},
};

static int state_index(hpf_account_state s)
{
    for (size_t i = 0; i < NSTATES; i++)
        if (states[i] == s)
            return (int)i;
    return -1;
}

static int biz_index(hpf_account_biz b)
{
    for (size_t i = 0; i < NBIZ; i++)
        if (bizs[i] == b)
            return (int)i;
    return -1;
}

int hpf_account_state_parse(const char *code, hpf_account_state *out, hpf_err *err)
{
    for (size_t i = 1; i < NSTATES; i++)
        if (code && !strcmp(code, hpf_account_state_code(states[i]))) {
            *out = states[i];
            return 0;
        }
    return hpf_err_field(err, HPF_EINVAL, "", "account.state_code",
                         "'%s' is not a personal account state (JGJ/T 320 A.6)", code ? code : "");
}

const char *hpf_account_state_code(hpf_account_state s)
{
    switch (s) {
    case HPF_ACCOUNT_NONE:
        return "";
    case HPF_ACCOUNT_NORMAL:
        return "01";
    case HPF_ACCOUNT_SEALED:
        return "02";
    case HPF_ACCOUNT_MERGED:
        return "03";
    case HPF_ACCOUNT_TRANSFERRED_OUT:
        return "04";
    case HPF_ACCOUNT_CLOSED:
        return "05";
    case HPF_ACCOUNT_FROZEN:
        return "06";
    case HPF_ACCOUNT_OTHER:
        return "99";
    }
    return "?";
}

const char *hpf_account_state_name(hpf_account_state s)
{
    switch (s) {
    case HPF_ACCOUNT_NONE:
        return "无";
    case HPF_ACCOUNT_NORMAL:
        return "正常";
    case HPF_ACCOUNT_SEALED:
        return "封存";
    case HPF_ACCOUNT_MERGED:
        return "合并销户";
    case HPF_ACCOUNT_TRANSFERRED_OUT:
        return "外部转出销户";
    case HPF_ACCOUNT_CLOSED:
        return "提取销户";
    case HPF_ACCOUNT_FROZEN:
        return "冻结";
    case HPF_ACCOUNT_OTHER:
        return "其他";
    }
    return "?";
}

const char *hpf_account_biz_code(hpf_account_biz b)
{
    switch (b) {
    case HPF_BIZ_OPEN:
        return "03";
    case HPF_BIZ_UNSEAL:
        return "04";
    case HPF_BIZ_SEAL:
        return "05";
    case HPF_BIZ_TRANSFER:
        return "06";
    case HPF_BIZ_TRANSFER_OUT:
        return "07";
    case HPF_BIZ_TRANSFER_IN:
        return "08";
    case HPF_BIZ_CLOSE:
        return "12";
    case HPF_BIZ_FREEZE:
        return "14";
    case HPF_BIZ_UNFREEZE:
        return "15";
    case HPF_BIZ_MERGE:
        return "99";
    }
    return "?";
}

const char *hpf_account_biz_name(hpf_account_biz b)
{
    switch (b) {
    case HPF_BIZ_OPEN:
        return "开户";
    case HPF_BIZ_UNSEAL:
        return "启封";
    case HPF_BIZ_SEAL:
        return "封存";
    case HPF_BIZ_TRANSFER:
        return "内部转移";
    case HPF_BIZ_TRANSFER_OUT:
        return "外部转出";
    case HPF_BIZ_TRANSFER_IN:
        return "外部转入";
    case HPF_BIZ_CLOSE:
        return "销户提取";
    case HPF_BIZ_FREEZE:
        return "冻结";
    case HPF_BIZ_UNFREEZE:
        return "解冻";
    case HPF_BIZ_MERGE:
        return "个人合并";
    }
    return "?";
}

bool hpf_account_biz_parse(const char *code, hpf_account_biz *out)
{
    for (size_t i = 0; i < NBIZ; i++)
        if (code && !strcmp(code, hpf_account_biz_code(bizs[i]))) {
            *out = bizs[i];
            return true;
        }
    return false;
}

bool hpf_account_terminal(hpf_account_state s)
{
    return s == HPF_ACCOUNT_MERGED || s == HPF_ACCOUNT_TRANSFERRED_OUT || s == HPF_ACCOUNT_CLOSED;
}

/* The refusal, naming the state and the business. */
static int refuse(hpf_account_state from, hpf_account_biz biz, hpf_err *err)
{
    const char *why = hpf_account_terminal(from)   ? ", a closed account (terminal)"
                      : from == HPF_ACCOUNT_FROZEN ? ", which only 解冻 (15) leaves"
                                                   : "";
    if (from == HPF_ACCOUNT_NONE)
        return hpf_err_field(err, HPF_ECONFLICT, "", "account.state",
                             "there is no account yet: %s (%s) needs one",
                             hpf_account_biz_name(biz), hpf_account_biz_code(biz));
    return hpf_err_field(err, HPF_ECONFLICT, "", "account.state",
                         "account is in state %s (%s)%s: %s (%s) is not allowed in it",
                         hpf_account_state_code(from), hpf_account_state_name(from), why,
                         hpf_account_biz_name(biz), hpf_account_biz_code(biz));
}

int hpf_account_next(hpf_account_state from, hpf_account_biz biz, hpf_account_state frozen_from,
                     hpf_account_state *to, hpf_err *err)
{
    int si = state_index(from), bi = biz_index(biz);
    if (si < 0 || bi < 0)
        return hpf_err_field(err, HPF_EINTERNAL, "", "account.state",
                             "state %d or business %d is not in the table", (int)from, (int)biz);
    int next = table[si][bi];
    if (next == X)
        return refuse(from, biz, err);
    if (next == PREV) {
        /* Only a state 冻结 could have come from is a state 解冻 may return to. */
        int pi = state_index(frozen_from), fi = biz_index(HPF_BIZ_FREEZE);
        if (pi < 0 || table[pi][fi] != HPF_ACCOUNT_FROZEN)
            return hpf_err_field(err, HPF_EINTERNAL, "", "account.frozen_from",
                                 "the frozen account remembers state '%s', which 冻结 is not "
                                 "allowed from",
                                 hpf_account_state_code(frozen_from));
        *to = frozen_from;
        return 0;
    }
    *to = (hpf_account_state)next;
    return 0;
}

int hpf_account_may_receive(hpf_account_state s, hpf_err *err)
{
    if (s == HPF_ACCOUNT_NORMAL || s == HPF_ACCOUNT_FROZEN)
        return 0;
    const char *why = s == HPF_ACCOUNT_SEALED
                          ? " (RULES 1.5 invariant 3): 启封 (04) or 内部转移 (06) comes first"
                      : hpf_account_terminal(s) ? ": the account is closed"
                                                : "";
    return hpf_err_field(err, HPF_ECONFLICT, "", "account.state",
                         "account is in state %s (%s), which takes no deposit%s",
                         hpf_account_state_code(s), hpf_account_state_name(s), why);
}

int hpf_account_may_pay_out(hpf_account_state s, hpf_err *err)
{
    if (s == HPF_ACCOUNT_NORMAL || s == HPF_ACCOUNT_SEALED)
        return 0;
    const char *why = s == HPF_ACCOUNT_FROZEN   ? " (RULES 1.5 invariant 4: it only receives)"
                      : hpf_account_terminal(s) ? ": the account is closed"
                                                : "";
    return hpf_err_field(err, HPF_ECONFLICT, "", "account.state",
                         "account is in state %s (%s), which pays nothing out%s",
                         hpf_account_state_code(s), hpf_account_state_name(s), why);
}
