/* Unit tests for domain/account: the personal account state machine of RULES §1.5 (Appendix A
 * item 2): every allowed transition, every forbidden one, freeze and unfreeze round trips, and
 * which states receive deposits and pay out. The expected table is written here from RULES, by
 * code, independently of the one in src/. */
#include "base/err.h"
#include "domain/account.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

static const char *const STATES[] = {"", "01", "02", "03", "04", "05", "06", "99"};
static const char *const BIZS[] = {"03", "04", "05", "06", "07", "08", "12", "14", "15", "99"};
#define NSTATES (sizeof STATES / sizeof STATES[0])
#define NBIZ    (sizeof BIZS / sizeof BIZS[0])

/* Every allowed (from, business, to) of RULES §1.5 ("" is no account yet). 06 -> 15 is tested
 * apart: it returns to the state that was frozen. */
static const struct {
    const char *from, *biz, *to;
} ALLOWED[] = {
    /* 01 is entered via 开户 03 and 外部转入 08 (and 启封 04 / 内部转移 06 below). */
    {"", "03", "01"},
    {"", "08", "01"},
    /* 01 leaves via 封存 05, 冻结 14 and 销户: 外部转出 07 -> 04, 销户提取 12 -> 05, 个人合并 ->
       03. */
    {"01", "05", "02"},
    {"01", "14", "06"},
    {"01", "07", "04"},
    {"01", "12", "05"},
    {"01", "99", "03"},
    /* A transfer from 01 is a plain change of employer; money transferred in is a deposit. */
    {"01", "06", "01"},
    {"01", "08", "01"},
    /* 02 leaves via 启封 04 / 内部转移 06 -> 01, 外部转出 07 -> 04, 销户提取 12 -> 05. */
    {"02", "04", "01"},
    {"02", "06", "01"},
    {"02", "07", "04"},
    {"02", "12", "05"},
    /* [D] frozen from 02 (解冻 returns "to the previous state"); the duplicate merged away. */
    {"02", "14", "06"},
    {"02", "99", "03"},
    /* A frozen account receives (invariant 4): money transferred in leaves it frozen. */
    {"06", "08", "06"},
};
#define NALLOWED (sizeof ALLOWED / sizeof ALLOWED[0])

static hpf_account_state st(const char *code)
{
    hpf_account_state s = HPF_ACCOUNT_NONE;
    hpf_err err = HPF_ERR_INIT;
    if (*code)
        cr_assert_eq(hpf_account_state_parse(code, &s, &err), 0, "%s: %s", code, err.msg);
    return s;
}

static hpf_account_biz biz(const char *code)
{
    hpf_account_biz b;
    cr_assert(hpf_account_biz_parse(code, &b), "business %s", code);
    return b;
}

static const char *allowed_to(const char *from, const char *b)
{
    for (size_t i = 0; i < NALLOWED; i++)
        if (!strcmp(ALLOWED[i].from, from) && !strcmp(ALLOWED[i].biz, b))
            return ALLOWED[i].to;
    return NULL;
}

Test(account, every_allowed_transition_of_rules_1_5)
{
    for (size_t i = 0; i < NALLOWED; i++) {
        hpf_account_state to = HPF_ACCOUNT_OTHER;
        hpf_err err = HPF_ERR_INIT;
        int rc =
            hpf_account_next(st(ALLOWED[i].from), biz(ALLOWED[i].biz), HPF_ACCOUNT_NONE, &to, &err);
        cr_assert_eq(rc, 0, "%s --%s--> : %s", ALLOWED[i].from, ALLOWED[i].biz, err.msg);
        cr_assert_str_eq(hpf_account_state_code(to), ALLOWED[i].to, "%s --%s-->", ALLOWED[i].from,
                         ALLOWED[i].biz);
    }
}

Test(account, every_other_pair_is_a_409_naming_the_state_and_the_business)
{
    size_t refused = 0;
    for (size_t s = 0; s < NSTATES; s++)
        for (size_t b = 0; b < NBIZ; b++) {
            if (allowed_to(STATES[s], BIZS[b]) ||
                (!strcmp(STATES[s], "06") && !strcmp(BIZS[b], "15")))
                continue;
            hpf_account_state to = HPF_ACCOUNT_OTHER;
            hpf_err err = HPF_ERR_INIT;
            int rc = hpf_account_next(st(STATES[s]), biz(BIZS[b]), HPF_ACCOUNT_NORMAL, &to, &err);
            cr_assert_eq(rc, HPF_ECONFLICT, "'%s' --%s--> should be refused", STATES[s], BIZS[b]);
            cr_assert_eq(to, HPF_ACCOUNT_OTHER, "untouched on refusal");
            cr_assert_str_eq(err.rule, "account.state");
            char want[64];
            if (*STATES[s]) {
                snprintf(want, sizeof want, "state %s (%s)", STATES[s],
                         hpf_account_state_name(st(STATES[s])));
                cr_assert(strstr(err.msg, want), "message names the state: %s", err.msg);
            }
            snprintf(want, sizeof want, "%s (%s)", hpf_account_biz_name(biz(BIZS[b])), BIZS[b]);
            cr_assert(strstr(err.msg, want), "message names the business: %s", err.msg);
            refused++;
        }
    /* 8 states x 10 businesses, less the allowed ones and 解冻 from 06. */
    cr_assert_eq(refused, NSTATES * NBIZ - NALLOWED - 1);
}

Test(account, terminal_states_take_no_business_at_all)
{
    for (size_t s = 0; s < NSTATES; s++) {
        hpf_account_state x = st(STATES[s]);
        bool terminal =
            !strcmp(STATES[s], "03") || !strcmp(STATES[s], "04") || !strcmp(STATES[s], "05");
        cr_assert_eq(hpf_account_terminal(x), terminal, "state '%s'", STATES[s]);
        if (!terminal)
            continue;
        for (size_t b = 0; b < NBIZ; b++) {
            hpf_account_state to;
            hpf_err err = HPF_ERR_INIT;
            cr_assert_eq(hpf_account_next(x, biz(BIZS[b]), HPF_ACCOUNT_NORMAL, &to, &err),
                         HPF_ECONFLICT);
            cr_assert(strstr(err.msg, "terminal"), "%s", err.msg);
        }
    }
}

Test(account, freeze_and_unfreeze_return_to_the_state_that_was_frozen)
{
    for (const char *const *from = (const char *const[]){"01", "02", NULL}; *from; from++) {
        hpf_account_state frozen, back;
        hpf_err err = HPF_ERR_INIT;
        cr_assert_eq(hpf_account_next(st(*from), HPF_BIZ_FREEZE, HPF_ACCOUNT_NONE, &frozen, &err),
                     0, "%s", err.msg);
        cr_assert_eq(frozen, HPF_ACCOUNT_FROZEN);
        cr_assert_eq(hpf_account_next(frozen, HPF_BIZ_UNFREEZE, st(*from), &back, &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(hpf_account_state_code(back), *from);
        /* Frozen twice: 409 naming 06. */
        cr_assert_eq(hpf_account_next(frozen, HPF_BIZ_FREEZE, st(*from), &back, &err),
                     HPF_ECONFLICT);
        cr_assert(strstr(err.msg, "state 06 (冻结)"), "%s", err.msg);
    }
    /* Unfreeze an account that is not frozen: 409 naming its state. */
    hpf_account_state to;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(
        hpf_account_next(HPF_ACCOUNT_NORMAL, HPF_BIZ_UNFREEZE, HPF_ACCOUNT_NORMAL, &to, &err),
        HPF_ECONFLICT);
    cr_assert(strstr(err.msg, "state 01 (正常)") && strstr(err.msg, "解冻 (15)"), "%s", err.msg);
}

Test(account, unfreeze_to_a_state_no_freeze_comes_from_is_a_broken_record)
{
    for (const char *const *prev = (const char *const[]){"", "03", "04", "05", "06", "99", NULL};
         *prev; prev++) {
        hpf_account_state to = HPF_ACCOUNT_OTHER;
        hpf_err err = HPF_ERR_INIT;
        cr_assert_eq(hpf_account_next(HPF_ACCOUNT_FROZEN, HPF_BIZ_UNFREEZE, st(*prev), &to, &err),
                     HPF_EINTERNAL, "remembered '%s'", *prev);
        cr_assert_str_eq(err.rule, "account.frozen_from");
        cr_assert_eq(to, HPF_ACCOUNT_OTHER);
    }
}

Test(account, deposits_go_to_01_and_06_only)
{
    for (size_t s = 1; s < NSTATES; s++) {
        hpf_err err = HPF_ERR_INIT;
        bool yes = !strcmp(STATES[s], "01") || !strcmp(STATES[s], "06");
        int rc = hpf_account_may_receive(st(STATES[s]), &err);
        cr_assert_eq(rc, yes ? 0 : HPF_ECONFLICT, "deposit to %s", STATES[s]);
        if (!yes) {
            cr_assert_str_eq(err.rule, "account.state");
            char want[32];
            snprintf(want, sizeof want, "state %s (", STATES[s]);
            cr_assert(strstr(err.msg, want), "%s", err.msg);
        }
    }
    /* Appendix A item 2: a deposit to 04 and to 05 is refused; a sealed account says how on. */
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_account_may_receive(HPF_ACCOUNT_TRANSFERRED_OUT, &err), HPF_ECONFLICT);
    cr_assert_eq(hpf_account_may_receive(HPF_ACCOUNT_CLOSED, &err), HPF_ECONFLICT);
    cr_assert_eq(hpf_account_may_receive(HPF_ACCOUNT_SEALED, &err), HPF_ECONFLICT);
    cr_assert(strstr(err.msg, "启封 (04)"), "%s", err.msg);
}

Test(account, money_leaves_01_and_02_only)
{
    for (size_t s = 1; s < NSTATES; s++) {
        hpf_err err = HPF_ERR_INIT;
        bool yes = !strcmp(STATES[s], "01") || !strcmp(STATES[s], "02");
        cr_assert_eq(hpf_account_may_pay_out(st(STATES[s]), &err), yes ? 0 : HPF_ECONFLICT,
                     "pay out of %s", STATES[s]);
    }
    /* Appendix A item 2: a withdrawal from 06 is refused, naming the state. */
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_account_may_pay_out(HPF_ACCOUNT_FROZEN, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "account.state");
    cr_assert(strstr(err.msg, "state 06 (冻结)"), "%s", err.msg);
    /* The businesses that move money out agree: 销户提取 and 外部转出 are refused in 06. */
    hpf_account_state to;
    cr_assert_eq(hpf_account_next(HPF_ACCOUNT_FROZEN, HPF_BIZ_CLOSE, HPF_ACCOUNT_NORMAL, &to, &err),
                 HPF_ECONFLICT);
    cr_assert_eq(
        hpf_account_next(HPF_ACCOUNT_FROZEN, HPF_BIZ_TRANSFER_OUT, HPF_ACCOUNT_NORMAL, &to, &err),
        HPF_ECONFLICT);
}

Test(account, codes_parse_and_print_both_ways)
{
    for (size_t s = 1; s < NSTATES; s++)
        cr_assert_str_eq(hpf_account_state_code(st(STATES[s])), STATES[s]);
    for (size_t b = 0; b < NBIZ; b++)
        cr_assert_str_eq(hpf_account_biz_code(biz(BIZS[b])), BIZS[b]);
    hpf_account_state s = HPF_ACCOUNT_NORMAL;
    hpf_err err = HPF_ERR_INIT;
    for (const char *const *bad = (const char *const[]){"", "00", "07", "1", "010", "xx", NULL};
         *bad; bad++) {
        cr_assert_eq(hpf_account_state_parse(*bad, &s, &err), HPF_EINVAL, "'%s'", *bad);
        cr_assert_str_eq(err.rule, "account.state_code");
    }
    cr_assert_eq(hpf_account_state_parse(NULL, &s, &err), HPF_EINVAL);
    hpf_account_biz b;
    cr_assert(!hpf_account_biz_parse("01", &b), "汇缴 changes no state");
    cr_assert(!hpf_account_biz_parse("11", &b), "部分提取 changes no state");
    cr_assert_str_eq(hpf_account_state_name(HPF_ACCOUNT_SEALED), "封存");
    cr_assert_str_eq(hpf_account_biz_name(HPF_BIZ_TRANSFER), "内部转移");
}
