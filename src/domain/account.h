/*
 * account: the personal account state machine (个人账户状态, RULES §1.5, JGJ/T 320 A.6) and the
 * businesses (归集和提取业务类型, A.5) that move an account between its states, as one table:
 * (state, business) -> new state, or refused. Frozen (06) remembers the state it froze, and 解冻
 * returns to it; 03, 04 and 05 are terminal. Whether money may come in or go out in a state is
 * decided here too (RULES §1.5 invariants 3 and 4), so that every path that moves money or
 * changes a state asks the same table. Pure: no I/O; the caller passes the facts in.
 * The table, with the readings of RULES it makes, is in docs/internals/accounts.md.
 */
#ifndef HPF_DOMAIN_ACCOUNT_H
#define HPF_DOMAIN_ACCOUNT_H

#include "base/err.h"

#include <stdbool.h>

/* The states; the value is the JGJ/T 320 A.6 code ("01" is 1). */
typedef enum hpf_account_state {
    HPF_ACCOUNT_NONE = 0,            /* no account yet: before 开户 or 外部转入 */
    HPF_ACCOUNT_NORMAL = 1,          /* 01 正常 */
    HPF_ACCOUNT_SEALED = 2,          /* 02 封存 */
    HPF_ACCOUNT_MERGED = 3,          /* 03 合并销户 (terminal) */
    HPF_ACCOUNT_TRANSFERRED_OUT = 4, /* 04 外部转出销户 (terminal) */
    HPF_ACCOUNT_CLOSED = 5,          /* 05 提取销户 (terminal) */
    HPF_ACCOUNT_FROZEN = 6,          /* 06 冻结 */
    HPF_ACCOUNT_OTHER = 99,          /* 99 其他: no business until someone sorts it out */
} hpf_account_state;

/* The businesses that change a state; the value is the JGJ/T 320 A.5 code. Money-only
 * businesses (汇缴 01, 补缴 02, 部分提取 11, 结息 09) change no state: they ask
 * hpf_account_may_receive / hpf_account_may_pay_out. */
typedef enum hpf_account_biz {
    HPF_BIZ_OPEN = 3,         /* 开户 */
    HPF_BIZ_UNSEAL = 4,       /* 启封 */
    HPF_BIZ_SEAL = 5,         /* 封存 */
    HPF_BIZ_TRANSFER = 6,     /* 内部转移: to another employer of the centre */
    HPF_BIZ_TRANSFER_OUT = 7, /* 外部转出 (cross-city, completed) */
    HPF_BIZ_TRANSFER_IN = 8,  /* 外部转入 */
    HPF_BIZ_CLOSE = 12,       /* 销户提取 */
    HPF_BIZ_FREEZE = 14,      /* 冻结 */
    HPF_BIZ_UNFREEZE = 15,    /* 解冻 */
    HPF_BIZ_MERGE = 99,       /* 个人合并: A.5 has no code of its own; 99 其他 [D] */
} hpf_account_biz;

/* "01" -> HPF_ACCOUNT_NORMAL ... Returns 0, or HPF_EINVAL (rule account.state_code) for a code
 * that is not one of A.6 (NONE has no code). */
int hpf_account_state_parse(const char *code, hpf_account_state *out, hpf_err *err);
/* The two-digit code ("01"), "" for NONE, "?" for a value outside the enum. */
const char *hpf_account_state_code(hpf_account_state s);
/* The Chinese name ("正常"); "无" for NONE. */
const char *hpf_account_state_name(hpf_account_state s);
/* The two-digit A.5 code of a business ("05") and its name ("封存"); "?" outside the enum. */
const char *hpf_account_biz_code(hpf_account_biz b);
const char *hpf_account_biz_name(hpf_account_biz b);
/* "05" -> HPF_BIZ_SEAL; false for a code that is not a business of this table. */
bool hpf_account_biz_parse(const char *code, hpf_account_biz *out);

/* 03, 04, 05: closed for good. */
bool hpf_account_terminal(hpf_account_state s);

/*
 * The state that business `biz` leads to from `from` (*to), or the refusal: HPF_ECONFLICT, rule
 * account.state, the message naming the current state and the business ("account is in state
 * 02 (封存): 封存 (05) is not allowed in it"). `frozen_from` is the state the account had when
 * it was frozen: 解冻 from 06 returns to it (it must be a state 冻结 is allowed from, else
 * HPF_EINTERNAL rule account.frozen_from: the caller's record is broken); it is ignored
 * otherwise. An in-city transfer from 01 is allowed and stays 01 (a plain change of employer);
 * the caller refuses a transfer to the same employer.
 */
int hpf_account_next(hpf_account_state from, hpf_account_biz biz, hpf_account_state frozen_from,
                     hpf_account_state *to, hpf_err *err);

/* 0 when a deposit (汇缴, 补缴, money transferred in) may post to an account in state `s`: 01
 * and 06 (a frozen account receives, RULES §1.5 invariant 4). Else HPF_ECONFLICT account.state
 * naming the state: a sealed account first needs 启封 or 内部转移 (invariant 3), a terminal or
 * 99 account takes nothing. */
int hpf_account_may_receive(hpf_account_state s, hpf_err *err);

/* 0 when money may leave an account in state `s` (提取, 转出): 01 and 02 (a sealed account stays
 * withdrawable, RULES §1.6). Else HPF_ECONFLICT account.state naming the state: 06 pays nothing
 * out (invariant 4), terminal and 99 accounts hold nothing. */
int hpf_account_may_pay_out(hpf_account_state s, hpf_err *err);

#endif
