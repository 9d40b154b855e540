/* Unit tests for peers/bankfile: the SBDC100 notice, BDC103 batch payment and batch result file
 * formats of RULES §6.3 in UTF-8 and GB18030, each bad form with the line, field and rule it
 * must name, the limits, and write -> parse round trips. */
#include "base/buf.h"
#include "base/date.h"
#include "base/err.h"
#include "peers/bankfile.h"

#include <criterion/criterion.h>

#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE_N 23
#define SAME_N   10
#define CROSS_N  13
#define RESULT_N 5

/* One good line of each layout, field by field, in UTF-8. */
static const char *const notice_base[NOTICE_N] = {
    "1",
    "3209001234567890",
    "HS20261115000001",
    "TR01",
    "6217001234567890122",
    "盐城市某某有限公司",
    "1234.56",
    "20261115",
    "093005",
    "100000.00",
    "320900",
    "汇缴",
    "CNY",
    "0",
    "100000.00",
    "",
    "01",
    "V0001",
    "102311000010",
    "11月汇缴",
    "0",
    "",
    "",
};

static const char *const same_base[SAME_N] = {
    "1",
    "1500.00",
    "6217001234567890122",
    "张三",
    "部分提取",
    "320900000001234567",
    "WD20261115000001",
    "",
    "1400.00",
    "100.00",
};

static const char *const cross_base[CROSS_N] = {
    "1",
    "1500.00",
    "6217001234567890122",
    "张三",
    "102311000010",
    "102311000010",
    "江苏省盐城市",
    "部分提取",
    "320900000001234567",
    "WD20261115000001",
    "",
    "1500.00",
    "0.00",
};

static const char *const result_base[RESULT_N] = {"1", "1500.00", "6217001234567890122", "0",
                                                  "交易成功"};

/* Join fields into one line (malloc'd): "|" between them for notices, "@|$" after each for the
 * batch files. `replace` (index, or -1) swaps one field for `with`. */
static char *line_of(const char *const *f, size_t n, bool batch, int replace, const char *with)
{
    hpf_buf b = HPF_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        hpf_buf_adds(&b, (int)i == replace ? with : f[i]);
        if (batch)
            hpf_buf_adds(&b, "@|$");
        else if (i + 1 < n)
            hpf_buf_adds(&b, "|");
    }
    return hpf_buf_detach(&b, NULL);
}

/* UTF-8 to GB18030 (malloc'd), through iconv as a bank's system would. */
static char *to_gb(const char *s, size_t *len)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    cr_assert_neq(cd, (iconv_t)-1);
    size_t n = strlen(s), cap = 4 * n + 4, il = n, ol = cap;
    char *out = malloc(cap + 1), *ip = (char *)s, *op = out;
    cr_assert_neq(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
    iconv_close(cd);
    *len = cap - ol;
    out[*len] = '\0';
    return out;
}

static int parse(hpf_bankfile_parsed **out, hpf_bankfile_kind kind, const char *text, size_t len,
                 hpf_bankfile_enc enc, hpf_err *err)
{
    hpf_err_clear(err);
    return hpf_bankfile_parse(out, kind, text, len, enc, err);
}

/* The one error a one-line file gives: field pointer and rule. */
static void expect_refused(hpf_bankfile_kind kind, const char *text, hpf_bankfile_enc enc,
                           const char *field, const char *rule)
{
    hpf_bankfile_parsed *p = NULL;
    hpf_err err;
    int rc = parse(&p, kind, text, strlen(text), enc, &err);
    cr_expect_eq(rc, HPF_EINVAL, "refused: %s", text);
    cr_expect_str_eq(err.field, field, "field of %s (%s)", text, err.msg);
    cr_expect_str_eq(err.rule, rule, "rule of %s (%s)", text, err.msg);
    cr_assert_not_null(p);
    cr_expect_eq(p->n, 0);
    cr_expect_eq(p->errors_total, 1);
    cr_expect_eq(p->nerrors, 1);
    cr_expect_str_eq(p->errors[0].rule, rule);
    hpf_bankfile_parsed_free(p);
}

static void expect_line_refused(hpf_bankfile_kind kind, const char *const *base, size_t n, int idx,
                                const char *with, const char *field, const char *rule)
{
    char *line = line_of(base, n, kind != HPF_BANKFILE_NOTICE, idx, with);
    expect_refused(kind, line, HPF_BANKFILE_UTF8, field, rule);
    free(line);
}

static hpf_bankfile_parsed *parse_ok(hpf_bankfile_kind kind, const char *text, size_t len,
                                     hpf_bankfile_enc enc, size_t want_n)
{
    hpf_bankfile_parsed *p = NULL;
    hpf_err err;
    cr_assert_eq(parse(&p, kind, text, len, enc, &err), 0, "%s: %s (%s)", err.field, err.msg,
                 err.rule);
    cr_assert_not_null(p);
    cr_assert_eq(p->n, want_n);
    cr_assert_eq(p->nerrors, 0);
    return p;
}

/* ---- SBDC100 notices ---- */

static hpf_day day(int y, int m, int d)
{
    return hpf_day_from_ymd(y, m, d);
}

Test(bankfile_notice, parses_every_field_of_a_line_into_exact_types)
{
    char *line = line_of(notice_base, NOTICE_N, false, -1, NULL);
    hpf_bankfile_parsed *p =
        parse_ok(HPF_BANKFILE_NOTICE, line, strlen(line), HPF_BANKFILE_UTF8, 1);
    const hpf_bankfile_notice *r = &p->notices[0];
    cr_expect_eq(p->lines, 1);
    cr_expect_eq(r->line, 1);
    cr_expect_eq(r->seq, 1);
    cr_expect_str_eq(r->account, "3209001234567890");
    cr_expect_str_eq(r->host_serial, "HS20261115000001");
    cr_expect_str_eq(r->tx_code, "TR01");
    cr_expect_str_eq(r->peer_account, "6217001234567890122");
    cr_expect_str_eq(r->peer_name, "盐城市某某有限公司");
    cr_expect_eq(r->amount, 123456);
    cr_expect_eq(r->date, day(2026, 11, 15));
    cr_expect_eq(r->time, 9 * 3600 + 30 * 60 + 5);
    cr_expect(r->has_available);
    cr_expect_eq(r->available, 10000000);
    cr_expect_str_eq(r->open_branch, "320900");
    cr_expect_str_eq(r->remark, "汇缴");
    cr_expect_str_eq(r->currency, "CNY");
    cr_expect_str_eq(r->cash_remit, "0");
    cr_expect(r->has_balance);
    cr_expect_eq(r->balance, 10000000);
    cr_expect_not(r->has_overdraft, "an empty 可透支余额 is absent, not zero");
    cr_expect_str_eq(r->voucher_type, "01");
    cr_expect_str_eq(r->voucher_no, "V0001");
    cr_expect_str_eq(r->peer_bank, "102311000010");
    cr_expect_str_eq(r->summary, "11月汇缴");
    cr_expect_eq(r->reversal, HPF_BANKFILE_REV_NORMAL);
    cr_expect_str_eq(r->item_no, "");
    cr_expect_str_eq(r->book_no, "");
    hpf_bankfile_parsed_free(p);
    free(line);
}

Test(bankfile_notice, the_sign_of_the_amount_is_debit_or_credit_and_the_reversal_flag_an_enum)
{
    char *a = line_of(notice_base, NOTICE_N, false, 6, "-0.5");
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_NOTICE, a, strlen(a), HPF_BANKFILE_UTF8, 1);
    cr_expect_eq(p->notices[0].amount, -50, "a debit is negative");
    hpf_bankfile_parsed_free(p);
    free(a);
    const char *flags[] = {"0", "1", "2"};
    for (int i = 0; i < 3; i++) {
        a = line_of(notice_base, NOTICE_N, false, 20, flags[i]);
        p = parse_ok(HPF_BANKFILE_NOTICE, a, strlen(a), HPF_BANKFILE_UTF8, 1);
        cr_expect_eq((int)p->notices[0].reversal, i);
        hpf_bankfile_parsed_free(p);
        free(a);
    }
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 20, "3", "/lines/1/reversal",
                        "bankfile.reversal");
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 20, "", "/lines/1/reversal",
                        "bankfile.required");
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 6, "0", "/lines/1/amount",
                        "bankfile.amount_sign");
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 6, "0.00", "/lines/1/amount",
                        "bankfile.amount_sign");
    /* balances may be negative (an overdrawn account) but never a negative zero */
    a = line_of(notice_base, NOTICE_N, false, 14, "-12.30");
    p = parse_ok(HPF_BANKFILE_NOTICE, a, strlen(a), HPF_BANKFILE_UTF8, 1);
    cr_expect_eq(p->notices[0].balance, -1230);
    hpf_bankfile_parsed_free(p);
    free(a);
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 14, "-0.00", "/lines/1/balance",
                        "bankfile.amount");
}

Test(bankfile_notice, bad_amounts_dates_times_and_field_counts_name_their_field)
{
    static const struct {
        int idx;
        const char *with, *field, *rule;
    } cases[] = {
        {6, "1.234", "/lines/1/amount", "bankfile.amount"},
        {6, "-0", "/lines/1/amount", "bankfile.amount"},
        {6, "12a", "/lines/1/amount", "bankfile.amount"},
        {6, "+12", "/lines/1/amount", "bankfile.amount"},
        {6, "012", "/lines/1/amount", "bankfile.amount"},
        {6, "12.", "/lines/1/amount", "bankfile.amount"},
        {6, ".5", "/lines/1/amount", "bankfile.amount"},
        {6, "1,000.00", "/lines/1/amount", "bankfile.amount"},
        {6, " 12", "/lines/1/amount", "bankfile.amount"},
        {6, "", "/lines/1/amount", "bankfile.required"},
        {7, "20260230", "/lines/1/date", "bankfile.date"},
        {7, "20250229", "/lines/1/date", "bankfile.date"},
        {7, "2026115", "/lines/1/date", "bankfile.date"},
        {7, "18991231", "/lines/1/date", "bankfile.date"},
        {7, "2026-11-15", "/lines/1/date", "bankfile.date"},
        {8, "246000", "/lines/1/time", "bankfile.time"},
        {8, "240000", "/lines/1/time", "bankfile.time"},
        {8, "236000", "/lines/1/time", "bankfile.time"},
        {8, "235960", "/lines/1/time", "bankfile.time"},
        {8, "93005", "/lines/1/time", "bankfile.time"},
        {0, "0", "/lines/1/seq", "bankfile.seq"},
        {0, "01", "/lines/1/seq", "bankfile.seq"},
        {0, "1000000000000000000", "/lines/1/seq", "bankfile.seq"},
        {1, "3209-0012", "/lines/1/account", "bankfile.digits"},
        {1, "", "/lines/1/account", "bankfile.required"},
        {1, "123456789012345678901234567890123", "/lines/1/account", "bankfile.too_long"},
        {2, "HS 1", "/lines/1/host_serial", "bankfile.code"},
        {2, "流水", "/lines/1/host_serial", "bankfile.code"},
        {5, "a\tb", "/lines/1/peer_name", "bankfile.text"},
        {5, "a\rb", "/lines/1/peer_name", "bankfile.text"},
        {9, "1e3", "/lines/1/available", "bankfile.amount"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, cases[i].idx, cases[i].with,
                            cases[i].field, cases[i].rule);
    /* the edges that are fine */
    static const struct {
        int idx;
        const char *with;
    } fine[] = {{7, "20240229"}, {8, "000000"}, {8, "235959"}, {6, "0.01"}, {6, "-3"}, {6, "12.5"}};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char *l = line_of(notice_base, NOTICE_N, false, fine[i].idx, fine[i].with);
        hpf_bankfile_parsed_free(parse_ok(HPF_BANKFILE_NOTICE, l, strlen(l), HPF_BANKFILE_UTF8, 1));
        free(l);
    }
}

Test(bankfile_notice, takes_an_optional_trailing_bar_but_no_other_field_count)
{
    char *line = line_of(notice_base, NOTICE_N, false, -1, NULL);
    size_t n = strlen(line);
    char buf[2048];
    snprintf(buf, sizeof buf, "%s|", line);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_NOTICE, buf, strlen(buf), HPF_BANKFILE_UTF8, 1);
    cr_expect_str_eq(p->notices[0].book_no, "");
    hpf_bankfile_parsed_free(p);
    snprintf(buf, sizeof buf, "%s|x", line); /* a 24th field that is not empty */
    expect_refused(HPF_BANKFILE_NOTICE, buf, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    snprintf(buf, sizeof buf, "%s||", line);
    expect_refused(HPF_BANKFILE_NOTICE, buf, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    /* drop the last field: 22 */
    char *last = strrchr(line, '|');
    cr_assert_not_null(last);
    snprintf(buf, sizeof buf, "%.*s", (int)(last - line), line);
    expect_refused(HPF_BANKFILE_NOTICE, buf, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    cr_expect_gt(n, 0);
    free(line);
}

static hpf_bankfile_notice sample_notice(int64_t seq)
{
    return (hpf_bankfile_notice){
        .seq = seq,
        .account = "3209001234567890",
        .host_serial = "HS0001",
        .tx_code = "TR01",
        .peer_account = "6217001234567890122",
        .peer_name = "盐城市亭湖区𠀀记餐饮店", /* U+20000: four bytes in both encodings */
        .amount = -98765,
        .date = day(2026, 2, 28),
        .time = 86399,
        .has_available = true,
        .available = 0,
        .open_branch = "320900",
        .remark = "退款",
        .currency = "CNY",
        .cash_remit = NULL, /* NULL writes as empty */
        .has_balance = true,
        .balance = INT64_MAX,
        .has_overdraft = false,
        .voucher_type = "01",
        .voucher_no = "V-1.2_3",
        .peer_bank = "",
        .summary = "张三·李四",
        .reversal = HPF_BANKFILE_REV_REVERSAL,
        .item_no = "7",
        .book_no = "12",
    };
}

static void same_notice(const hpf_bankfile_notice *a, const hpf_bankfile_notice *b)
{
#define S(m) cr_expect_str_eq(a->m ? a->m : "", b->m, #m)
#define N(m) cr_expect_eq(a->m, b->m, #m)
    N(seq);
    S(account);
    S(host_serial);
    S(tx_code);
    S(peer_account);
    S(peer_name);
    N(amount);
    N(date);
    N(time);
    N(has_available);
    if (a->has_available)
        N(available);
    S(open_branch);
    S(remark);
    S(currency);
    S(cash_remit);
    N(has_balance);
    if (a->has_balance)
        N(balance);
    N(has_overdraft);
    if (a->has_overdraft)
        N(overdraft);
    S(voucher_type);
    S(voucher_no);
    S(peer_bank);
    S(summary);
    N(reversal);
    S(item_no);
    S(book_no);
#undef S
#undef N
}

Test(bankfile_notice, write_then_parse_round_trips_in_both_encodings)
{
    hpf_bankfile_notice rows[3] = {sample_notice(1), sample_notice(2), sample_notice(999)};
    rows[1].amount = 1;
    rows[1].peer_name = "";
    rows[1].has_balance = false;
    rows[2].amount = -INT64_MAX;
    rows[2].has_overdraft = true;
    rows[2].overdraft = -100;
    rows[2].reversal = HPF_BANKFILE_REV_REVERSED;
    for (int enc = 0; enc < 2; enc++)
        for (int eol = 0; eol < 2; eol++) {
            hpf_buf b = HPF_BUF_INIT;
            hpf_err err = HPF_ERR_INIT;
            cr_assert_eq(hpf_bankfile_write_notices(&b, rows, 3, enc, eol, &err), 0, "%s %s",
                         err.field, err.msg);
            hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_NOTICE, b.data, b.len, enc, 3);
            for (int i = 0; i < 3; i++) {
                same_notice(&rows[i], &p->notices[i]);
                cr_expect_eq(p->notices[i].line, (uint32_t)i + 1);
            }
            /* the bytes are really in the encoding asked for */
            bool has_utf8_name = memmem(b.data, b.len, "盐城", strlen("盐城")) != NULL;
            cr_expect_eq(has_utf8_name, enc == HPF_BANKFILE_UTF8);
            if (enc == HPF_BANKFILE_GB18030)
                cr_expect_not_null(memmem(b.data, b.len, "\xd1\xce\xb3\xc7", 4), "盐城 in GBK");
            cr_expect_eq(memmem(b.data, b.len, "\r\n", 2) != NULL, eol == HPF_BANKFILE_CRLF);
            cr_expect_eq(b.data[b.len - 1], '\n');
            hpf_bankfile_parsed_free(p);
            hpf_buf_cleanup(&b);
        }
}

/* Case i of the writer's refusals: spoil one member of a good notice. */
static bool spoil(int i, hpf_bankfile_notice *r, const char **field, const char **rule)
{
    switch (i) {
    case 0:
        r->peer_name = "a|b", *field = "/lines/1/peer_name", *rule = "bankfile.separator";
        return true;
    case 1:
        r->amount = 0, *field = "/lines/1/amount", *rule = "bankfile.amount_sign";
        return true;
    case 2:
        r->amount = INT64_MIN, *field = "/lines/1/amount", *rule = "bankfile.amount_range";
        return true;
    case 3:
        r->seq = 0, *field = "/lines/1/seq", *rule = "bankfile.seq";
        return true;
    case 4:
        r->date = day(1899, 12, 31), *field = "/lines/1/date", *rule = "bankfile.date";
        return true;
    case 5:
        r->date = INT32_MAX, *field = "/lines/1/date", *rule = "bankfile.date";
        return true;
    case 6:
        r->time = 86400, *field = "/lines/1/time", *rule = "bankfile.time";
        return true;
    case 7:
        r->reversal = 3, *field = "/lines/1/reversal", *rule = "bankfile.reversal";
        return true;
    case 8:
        r->account = NULL, *field = "/lines/1/account", *rule = "bankfile.required";
        return true;
    case 9: /* broken UTF-8 */
        r->remark = "\xe2\x82", *field = "/lines/1/remark", *rule = "bankfile.text";
        return true;
    case 10:
        r->peer_name = "0123456789012345678901234567890123456789012345678901234567890",
        *field = "/lines/1/peer_name", *rule = "bankfile.too_long";
        return true;
    case 11: /* U+E78D: glibc's GB18030 has no bytes for it */
        r->summary = "\xee\x9e\x8d", *field = "/lines/1/summary", *rule = "bankfile.encoding";
        return true;
    }
    return false;
}

Test(bankfile_notice, the_writer_refuses_what_the_format_cannot_carry)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, "kept");
    const char *field, *rule;
    int i = 0;
    for (hpf_bankfile_notice r = sample_notice(1); spoil(i, &r, &field, &rule);
         r = sample_notice(1), i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_bankfile_write_notices(&b, &r, 1, HPF_BANKFILE_GB18030, HPF_BANKFILE_LF, &err);
        cr_expect_lt(rc, 0, "case %d", i);
        cr_expect_str_eq(err.field, field, "case %d: %s", i, err.msg);
        cr_expect_str_eq(err.rule, rule, "case %d: %s", i, err.msg);
        cr_expect_eq(b.len, 4, "the buffer keeps what it had");
        cr_expect_str_eq(b.data, "kept");
    }
    cr_expect_eq(i, 12);
    /* U+E78D is fine in UTF-8: only GB18030 cannot carry it */
    hpf_bankfile_notice r = sample_notice(1);
    r.summary = "\xee\x9e\x8d";
    cr_expect_eq(hpf_bankfile_write_notices(&b, &r, 1, HPF_BANKFILE_UTF8, HPF_BANKFILE_LF, NULL),
                 0);
    hpf_buf_cleanup(&b);
}

/* ---- batch payments ---- */

Test(bankfile_payment, parses_both_layouts_and_checks_the_sum)
{
    char *s = line_of(same_base, SAME_N, true, -1, NULL);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_PAY_SAME, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    const hpf_bankfile_payment *r = &p->payments[0];
    cr_expect_eq(r->seq, 1);
    cr_expect_eq(r->amount, 150000);
    cr_expect_str_eq(r->payee_account, "6217001234567890122");
    cr_expect_str_eq(r->payee_name, "张三");
    cr_expect_str_eq(r->payee_bank, "");
    cr_expect_str_eq(r->summary, "部分提取");
    cr_expect_str_eq(r->ref_account, "320900000001234567");
    cr_expect_str_eq(r->ref_serial1, "WD20261115000001");
    cr_expect_str_eq(r->ref_serial2, "");
    cr_expect_eq(r->principal, 140000);
    cr_expect_eq(r->interest, 10000);
    hpf_bankfile_parsed_free(p);
    free(s);

    s = line_of(cross_base, CROSS_N, true, -1, NULL);
    p = parse_ok(HPF_BANKFILE_PAY_CROSS, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    cr_expect_str_eq(p->payments[0].payee_bank, "102311000010");
    cr_expect_str_eq(p->payments[0].payee_branch_bank, "102311000010");
    cr_expect_str_eq(p->payments[0].payee_address, "江苏省盐城市");
    cr_expect_str_eq(p->payments[0].summary, "部分提取");
    cr_expect_eq(p->payments[0].principal, 150000);
    hpf_bankfile_parsed_free(p);
    free(s);

    /* an empty 利息发生额 reads as 0 */
    s = line_of(cross_base, CROSS_N, true, 12, "");
    p = parse_ok(HPF_BANKFILE_PAY_CROSS, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    cr_expect_eq(p->payments[0].interest, 0);
    hpf_bankfile_parsed_free(p);
    free(s);
    /* the same line is a wrong field count in the other layout */
    s = line_of(cross_base, CROSS_N, true, -1, NULL);
    expect_refused(HPF_BANKFILE_PAY_SAME, s, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    free(s);
}

Test(bankfile_payment, every_bad_form_names_its_line_field_and_rule)
{
    static const struct {
        int idx;
        const char *with, *field, *rule;
    } cases[] = {
        {1, "1.234", "/lines/1/amount", "bankfile.amount"},
        {1, "-0", "/lines/1/amount", "bankfile.amount"},
        {1, "12a", "/lines/1/amount", "bankfile.amount"},
        {1, "-1500.00", "/lines/1/amount", "bankfile.amount_sign"},
        {1, "0", "/lines/1/amount", "bankfile.amount_sign"},
        {1, "1500.01", "/lines/1/amount", "bankfile.sum"},
        {8, "1400.001", "/lines/1/principal", "bankfile.amount"},
        {8, "-1", "/lines/1/principal", "bankfile.amount_sign"},
        {9, "-100.00", "/lines/1/interest", "bankfile.amount_sign"},
        {9, "99.99", "/lines/1/amount", "bankfile.sum"},
        {0, "2", "/lines/1/seq", "bankfile.seq_order"},
        {0, "x", "/lines/1/seq", "bankfile.seq"},
        {0, "100001", "/lines/1/seq", "bankfile.seq"},
        {2, "", "/lines/1/payee_account", "bankfile.required"},
        {2, "62170012345678901a", "/lines/1/payee_account", "bankfile.digits"},
        {3, "", "/lines/1/payee_name", "bankfile.required"},
        {4, "", "/lines/1/summary", "bankfile.required"},
        {6, "", "/lines/1/ref_serial1", "bankfile.required"},
        {6, "WD/1", "/lines/1/ref_serial1", "bankfile.code"},
        {7, "123456789012345678901234567890123", "/lines/1/ref_serial2", "bankfile.too_long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_line_refused(HPF_BANKFILE_PAY_SAME, same_base, SAME_N, cases[i].idx, cases[i].with,
                            cases[i].field, cases[i].rule);
    expect_line_refused(HPF_BANKFILE_PAY_CROSS, cross_base, CROSS_N, 4, "10231100001",
                        "/lines/1/payee_bank", "bankfile.bank_no");
    expect_line_refused(HPF_BANKFILE_PAY_CROSS, cross_base, CROSS_N, 4, "", "/lines/1/payee_bank",
                        "bankfile.required");
    expect_line_refused(HPF_BANKFILE_PAY_CROSS, cross_base, CROSS_N, 5, "1023110000101",
                        "/lines/1/payee_branch_bank", "bankfile.too_long");

    /* a missing field, an extra field, no trailing separator */
    char *s = line_of(same_base, SAME_N - 1, true, -1, NULL);
    expect_refused(HPF_BANKFILE_PAY_SAME, s, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    free(s);
    s = line_of(same_base, SAME_N, true, -1, NULL);
    char buf[1024];
    snprintf(buf, sizeof buf, "%sx@|$", s);
    expect_refused(HPF_BANKFILE_PAY_SAME, buf, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.fields");
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(s) - 3, s);
    expect_refused(HPF_BANKFILE_PAY_SAME, buf, HPF_BANKFILE_UTF8, "/lines/1",
                   "bankfile.trailing_separator");
    snprintf(buf, sizeof buf, "%.*s@|", (int)strlen(s) - 3, s);
    expect_refused(HPF_BANKFILE_PAY_SAME, buf, HPF_BANKFILE_UTF8, "/lines/1",
                   "bankfile.trailing_separator");
    free(s);
}

Test(bankfile_payment, names_are_limited_in_characters_not_bytes)
{
    char name[61 * 3 + 1];
    for (int i = 0; i < 61; i++)
        memcpy(name + 3 * i, "张", 3);
    name[60 * 3] = '\0';
    char *s = line_of(same_base, SAME_N, true, 3, name);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_PAY_SAME, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    cr_expect_str_eq(p->payments[0].payee_name, name);
    hpf_bankfile_parsed_free(p);
    free(s);
    /* the same 60 characters in GBK are 120 bytes, still 60 characters */
    s = line_of(same_base, SAME_N, true, 3, name);
    size_t gl;
    char *gb = to_gb(s, &gl);
    p = parse_ok(HPF_BANKFILE_PAY_SAME, gb, gl, HPF_BANKFILE_GB18030, 1);
    cr_expect_str_eq(p->payments[0].payee_name, name);
    hpf_bankfile_parsed_free(p);
    free(gb);
    free(s);
    memcpy(name + 60 * 3, "张", 3); /* one more */
    name[61 * 3] = '\0';
    expect_line_refused(HPF_BANKFILE_PAY_SAME, same_base, SAME_N, 3, name, "/lines/1/payee_name",
                        "bankfile.too_long");
}

Test(bankfile_payment, the_sequence_runs_one_to_n)
{
    char *l1 = line_of(same_base, SAME_N, true, -1, NULL);
    char *l2 = line_of(same_base, SAME_N, true, 0, "2");
    char *l3 = line_of(same_base, SAME_N, true, 0, "4"); /* a gap: 3 is missing */
    char *l4 = line_of(same_base, SAME_N, true, 0, "4");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s\n%s\n%s\n%s\n", l1, l2, l3, l4);
    hpf_bankfile_parsed *p = NULL;
    hpf_err err;
    cr_assert_eq(parse(&p, HPF_BANKFILE_PAY_SAME, buf, strlen(buf), HPF_BANKFILE_UTF8, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.field, "/lines/3/seq");
    cr_expect_str_eq(err.rule, "bankfile.seq_order");
    cr_expect_eq(p->lines, 4);
    cr_expect_eq(p->n, 3, "lines 1, 2 and 4 are good");
    cr_expect_eq(p->payments[2].line, 4);
    cr_expect_eq(p->errors_total, 1);
    hpf_bankfile_parsed_free(p);
    free(l1);
    free(l2);
    free(l3);
    free(l4);
}

Test(bankfile_payment, write_then_parse_round_trips_both_layouts_and_encodings)
{
    hpf_bankfile_payment rows[3] = {
        {.seq = 1,
         .amount = 150000,
         .payee_account = "6217001234567890122",
         .payee_name = "欧阳娜娜",
         .payee_bank = "102311000010",
         .payee_branch_bank = "",
         .payee_address = "江苏省盐城市亭湖区",
         .summary = "销户提取",
         .ref_account = "320900000001234567",
         .ref_serial1 = "WD1",
         .ref_serial2 = "A-2",
         .principal = 149000,
         .interest = 1000},
        {.seq = 2,
         .amount = 1,
         .payee_account = "1",
         .payee_name = "Zhang San",
         .payee_bank = "313311000018",
         .summary = "x",
         .ref_serial1 = "WD2",
         .principal = 0,
         .interest = 1},
        {.seq = 3,
         .amount = INT64_MAX,
         .payee_account = "62170012345678901220000000000000",
         .payee_name = "𠀀𠀁",
         .payee_bank = "102311000010",
         .summary = "max",
         .ref_serial1 = "WD3",
         .principal = INT64_MAX,
         .interest = 0},
    };
    for (int cross = 0; cross < 2; cross++) {
        hpf_bankfile_kind kind = cross ? HPF_BANKFILE_PAY_CROSS : HPF_BANKFILE_PAY_SAME;
        hpf_bankfile_payment in[3];
        memcpy(in, rows, sizeof in);
        if (!cross)
            for (int i = 0; i < 3; i++)
                in[i].payee_bank = in[i].payee_branch_bank = in[i].payee_address = NULL;
        for (int enc = 0; enc < 2; enc++) {
            hpf_buf b = HPF_BUF_INIT;
            hpf_err err = HPF_ERR_INIT;
            cr_assert_eq(hpf_bankfile_write_payments(&b, kind, in, 3, enc, HPF_BANKFILE_CRLF, &err),
                         0, "%s %s", err.field, err.msg);
            cr_expect_not_null(strstr(b.data, "@|$\r\n"), "each line ends with the separator");
            hpf_bankfile_parsed *p = parse_ok(kind, b.data, b.len, enc, 3);
            for (int i = 0; i < 3; i++) {
                const hpf_bankfile_payment *a = &in[i], *o = &p->payments[i];
                cr_expect_eq(o->seq, a->seq);
                cr_expect_eq(o->amount, a->amount);
                cr_expect_str_eq(o->payee_account, a->payee_account);
                cr_expect_str_eq(o->payee_name, a->payee_name);
                cr_expect_str_eq(o->payee_bank, a->payee_bank ? a->payee_bank : "");
                cr_expect_str_eq(o->payee_branch_bank,
                                 a->payee_branch_bank ? a->payee_branch_bank : "");
                cr_expect_str_eq(o->payee_address, a->payee_address ? a->payee_address : "");
                cr_expect_str_eq(o->summary, a->summary);
                cr_expect_str_eq(o->ref_account, a->ref_account ? a->ref_account : "");
                cr_expect_str_eq(o->ref_serial1, a->ref_serial1);
                cr_expect_str_eq(o->ref_serial2, a->ref_serial2 ? a->ref_serial2 : "");
                cr_expect_eq(o->principal, a->principal);
                cr_expect_eq(o->interest, a->interest);
            }
            hpf_bankfile_parsed_free(p);
            hpf_buf_cleanup(&b);
        }
    }
    /* the exact bytes of one same-bank line */
    hpf_buf b = HPF_BUF_INIT;
    hpf_bankfile_payment one = rows[1];
    one.seq = 1;
    one.payee_bank = NULL;
    cr_assert_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &one, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, NULL),
                 0);
    cr_expect_str_eq(b.data, "1@|$0.01@|$1@|$Zhang San@|$x@|$@|$WD2@|$@|$0.00@|$0.01@|$\n");
    hpf_buf_cleanup(&b);
}

Test(bankfile_payment, large_values_near_the_int64_fen_limit)
{
    /* INT64_MAX fen is 92233720368547758.07 yuan; 金额 = 本金 + 利息 at the limit */
    char *s = line_of((const char *const[]){"1", "92233720368547758.07", "1", "a", "b", "", "c", "",
                                            "92233720368547758.06", "0.01"},
                      SAME_N, true, -1, NULL);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_PAY_SAME, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    cr_expect_eq(p->payments[0].amount, INT64_MAX);
    cr_expect_eq(p->payments[0].principal, INT64_MAX - 1);
    hpf_bankfile_parsed_free(p);
    free(s);
    /* one fen more does not fit */
    expect_line_refused(HPF_BANKFILE_PAY_SAME, same_base, SAME_N, 1, "92233720368547758.08",
                        "/lines/1/amount", "bankfile.amount_range");
    expect_line_refused(HPF_BANKFILE_PAY_SAME, same_base, SAME_N, 1, "100000000000000000000",
                        "/lines/1/amount", "bankfile.amount_range");
    /* principal + interest overflows: refused as a wrong sum, not wrapped */
    s = line_of((const char *const[]){"1", "92233720368547758.07", "1", "a", "b", "", "c", "",
                                      "92233720368547758.07", "0.01"},
                SAME_N, true, -1, NULL);
    expect_refused(HPF_BANKFILE_PAY_SAME, s, HPF_BANKFILE_UTF8, "/lines/1/amount", "bankfile.sum");
    free(s);
    /* the most negative balance a notice can carry, and one fen past it */
    s = line_of(notice_base, NOTICE_N, false, 14, "-92233720368547758.07");
    p = parse_ok(HPF_BANKFILE_NOTICE, s, strlen(s), HPF_BANKFILE_UTF8, 1);
    cr_expect_eq(p->notices[0].balance, -INT64_MAX);
    hpf_bankfile_parsed_free(p);
    free(s);
    expect_line_refused(HPF_BANKFILE_NOTICE, notice_base, NOTICE_N, 14, "-92233720368547758.08",
                        "/lines/1/balance", "bankfile.amount_range");
}

Test(bankfile_payment, the_writer_refuses_a_wrong_batch)
{
    hpf_bankfile_payment r = {.seq = 1,
                              .amount = 100,
                              .payee_account = "1",
                              .payee_name = "张三",
                              .summary = "s",
                              .ref_serial1 = "r",
                              .principal = 100};
    hpf_buf b = HPF_BUF_INIT;
    hpf_err err;
    hpf_bankfile_payment bad = r;
    bad.seq = 2;
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &bad, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.seq_order");
    bad = r;
    bad.interest = 1;
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &bad, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.sum");
    bad = r;
    bad.payee_name = "张@|$三";
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &bad, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.field, "/lines/1/payee_name");
    cr_expect_str_eq(err.rule, "bankfile.separator");
    bad = r;
    bad.payee_bank = "102311000010";
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &bad, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.not_in_layout");
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_CROSS, &r, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL, "a cross-bank line needs its 联行号");
    cr_expect_str_eq(err.field, "/lines/1/payee_bank");
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &r, 0, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.empty");
    cr_expect_eq(b.len, 0);
    /* '@', '|' and '$' alone are fine in text, only the three together are the separator */
    bad = r;
    bad.payee_name = "a@b|c$d@|";
    cr_expect_eq(hpf_bankfile_write_payments(&b, HPF_BANKFILE_PAY_SAME, &bad, 1, HPF_BANKFILE_UTF8,
                                             HPF_BANKFILE_LF, &err),
                 0);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_PAY_SAME, b.data, b.len, HPF_BANKFILE_UTF8, 1);
    cr_expect_str_eq(p->payments[0].payee_name, "a@b|c$d@|");
    hpf_bankfile_parsed_free(p);
    hpf_buf_cleanup(&b);
}

/* ---- batch results ---- */

Test(bankfile_result, parses_the_result_codes_and_refuses_a_repeated_seq)
{
    char *l1 = line_of(result_base, RESULT_N, true, -1, NULL);
    char *l2 = line_of((const char *const[]){"3", "0.01", "1", "1", "账户已销户"}, RESULT_N, true,
                       -1, NULL);
    char *l3 = line_of((const char *const[]){"2", "8.00", "1", "2", ""}, RESULT_N, true, -1, NULL);
    char buf[2048];
    snprintf(buf, sizeof buf, "%s\r\n%s\r\n%s\r\n", l1, l2, l3);
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_RESULT, buf, strlen(buf), HPF_BANKFILE_UTF8, 3);
    cr_expect_eq(p->outcomes[0].result, HPF_BANKFILE_TRAN_DONE);
    cr_expect_str_eq(p->outcomes[0].message, "交易成功");
    cr_expect_eq(p->outcomes[1].seq, 3, "a result may list its lines in any order");
    cr_expect_eq(p->outcomes[1].result, HPF_BANKFILE_TRAN_FAILED);
    cr_expect_eq(p->outcomes[2].result, HPF_BANKFILE_TRAN_PENDING);
    cr_expect_str_eq(p->outcomes[2].message, "");

    /* write it back in GBK and read it again */
    hpf_buf b = HPF_BUF_INIT;
    cr_assert_eq(hpf_bankfile_write_outcomes(&b, p->outcomes, p->n, HPF_BANKFILE_GB18030,
                                             HPF_BANKFILE_LF, NULL),
                 0);
    hpf_bankfile_parsed *q = parse_ok(HPF_BANKFILE_RESULT, b.data, b.len, HPF_BANKFILE_GB18030, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_expect_eq(q->outcomes[i].seq, p->outcomes[i].seq);
        cr_expect_eq(q->outcomes[i].amount, p->outcomes[i].amount);
        cr_expect_str_eq(q->outcomes[i].payee_account, p->outcomes[i].payee_account);
        cr_expect_eq(q->outcomes[i].result, p->outcomes[i].result);
        cr_expect_str_eq(q->outcomes[i].message, p->outcomes[i].message);
    }
    hpf_bankfile_parsed_free(q);
    hpf_buf_cleanup(&b);
    /* the same 序号 twice: in a file, and to the writer */
    hpf_bankfile_outcome two[2] = {p->outcomes[0], p->outcomes[0]};
    hpf_err err;
    cr_expect_eq(hpf_bankfile_write_outcomes(&b, two, 2, HPF_BANKFILE_UTF8, HPF_BANKFILE_LF, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.field, "/lines/2/seq");
    cr_expect_str_eq(err.rule, "bankfile.seq_duplicate");
    hpf_buf_cleanup(&b);
    hpf_bankfile_parsed_free(p);
    snprintf(buf, sizeof buf, "%s\n%s\n%s\n", l1, l2, l1);
    cr_assert_eq(parse(&p, HPF_BANKFILE_RESULT, buf, strlen(buf), HPF_BANKFILE_UTF8, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.field, "/lines/3/seq");
    cr_expect_str_eq(err.rule, "bankfile.seq_duplicate");
    cr_expect_eq(p->n, 2);
    hpf_bankfile_parsed_free(p);

    expect_line_refused(HPF_BANKFILE_RESULT, result_base, RESULT_N, 3, "3", "/lines/1/result",
                        "bankfile.result");
    expect_line_refused(HPF_BANKFILE_RESULT, result_base, RESULT_N, 3, "", "/lines/1/result",
                        "bankfile.required");
    expect_line_refused(HPF_BANKFILE_RESULT, result_base, RESULT_N, 1, "0", "/lines/1/amount",
                        "bankfile.amount_sign");
    free(l1);
    free(l2);
    free(l3);
}

/* ---- encodings, lines and limits ---- */

Test(bankfile_encoding, gbk_input_with_chinese_names_parses_to_utf8)
{
    char *s = line_of(same_base, SAME_N, true, 3, "欧阳娜娜");
    size_t gl;
    char *gb = to_gb(s, &gl);
    cr_assert(memmem(gb, gl, "\xc5\xb7\xd1\xf4", 4), "欧阳 in GBK bytes");
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_PAY_SAME, gb, gl, HPF_BANKFILE_GB18030, 1);
    cr_expect_str_eq(p->payments[0].payee_name, "欧阳娜娜");
    hpf_bankfile_parsed_free(p);
    /* read as UTF-8, the GBK bytes are refused, not mangled */
    expect_refused(HPF_BANKFILE_PAY_SAME, gb, HPF_BANKFILE_UTF8, "/lines/1", "bankfile.encoding");
    free(gb);
    free(s);
    /* a GBK character whose second byte is '|' (0x7c) must not split the field */
    const char gb_bar[] = "\x81\x7c"; /* GBK 0x817C, a CJK character */
    char line[1024];
    char *base = line_of(notice_base, NOTICE_N, false, 5, "NAME");
    char *gbase = to_gb(base, &gl);
    char *at = strstr(gbase, "NAME");
    snprintf(line, sizeof line, "%.*s%s%s", (int)(at - gbase), gbase, gb_bar, at + 4);
    free(gbase);
    free(base);
    p = parse_ok(HPF_BANKFILE_NOTICE, line, strlen(line), HPF_BANKFILE_GB18030, 1);
    cr_expect_str_eq(p->notices[0].peer_name, "\xe4\xba\x85", "one CJK character, U+4E85");
    cr_expect_str_eq(p->notices[0].remark, "汇缴");
    hpf_bankfile_parsed_free(p);
}

Test(bankfile_encoding, invalid_bytes_are_refused_in_either_encoding)
{
    char *s = line_of(same_base, SAME_N, true, 3, "X");
    char *x = strstr(s, "@|$X@|$") + 3;
    /* not "\x81" alone: followed by the '@' of "@|$" it is the GBK character 0x8140 */
    const char *bad_gbk[] = {"\x80",     "\xff",     "\x81\x20",
                             "\x81\x7f", "\xfe\xff", "\x81\x30\x81\x20"};
    for (size_t i = 0; i < sizeof bad_gbk / sizeof bad_gbk[0]; i++) {
        char line[1024];
        snprintf(line, sizeof line, "%.*s%s%s", (int)(x - s), s, bad_gbk[i], x + 1);
        expect_refused(HPF_BANKFILE_PAY_SAME, line, HPF_BANKFILE_GB18030, "/lines/1",
                       "bankfile.encoding");
    }
    /* a character cut off by the end of the line */
    char *n = line_of(notice_base, NOTICE_N, false, 22, "");
    char cut[1024];
    snprintf(cut, sizeof cut, "%s\x81\n", n);
    expect_refused(HPF_BANKFILE_NOTICE, cut, HPF_BANKFILE_GB18030, "/lines/1", "bankfile.encoding");
    free(n);
    const char *bad_utf8[] = {
        "\xe5\xbc",     "\xc0\xaf",         "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80",         "\xd5\xc5"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        char line[1024];
        snprintf(line, sizeof line, "%.*s%s%s", (int)(x - s), s, bad_utf8[i], x + 1);
        expect_refused(HPF_BANKFILE_PAY_SAME, line, HPF_BANKFILE_UTF8, "/lines/1",
                       "bankfile.encoding");
    }
    free(s);
}

Test(bankfile_lines, lf_crlf_bom_and_a_missing_last_newline_are_fine_blank_lines_are_not)
{
    char *l1 = line_of(result_base, RESULT_N, true, -1, NULL);
    char *l2 = line_of(result_base, RESULT_N, true, 0, "2");
    char buf[2048];
    const char *forms[] = {"%s\n%s\n", "%s\r\n%s\r\n", "%s\r\n%s\n", "%s\n%s",
                           "\xef\xbb\xbf%s\n%s\n"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(buf, sizeof buf, forms[i], l1, l2);
        hpf_bankfile_parsed_free(
            parse_ok(HPF_BANKFILE_RESULT, buf, strlen(buf), HPF_BANKFILE_UTF8, 2));
    }
    const struct {
        const char *form, *field, *rule;
    } bad[] = {
        {"%s\n\n%s\n", "/lines/2", "bankfile.line_empty"},
        {"%s\n%s\n\n", "/lines/3", "bankfile.line_empty"},
        {"%s\n%s\r\r\n", "/lines/2", "bankfile.trailing_separator"},
        {"%s\r%s\n", "/lines/1", "bankfile.fields"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, bad[i].form, l1, l2);
        hpf_bankfile_parsed *p = NULL;
        hpf_err err;
        cr_expect_eq(parse(&p, HPF_BANKFILE_RESULT, buf, strlen(buf), HPF_BANKFILE_UTF8, &err),
                     HPF_EINVAL, "form %zu", i);
        cr_expect_str_eq(err.field, bad[i].field, "form %zu: %s", i, err.msg);
        cr_expect_str_eq(err.rule, bad[i].rule, "form %zu: %s", i, err.msg);
        hpf_bankfile_parsed_free(p);
    }
    /* an empty notice or result file is fine, an empty batch payment is not */
    hpf_bankfile_parsed *p = parse_ok(HPF_BANKFILE_NOTICE, "", 0, HPF_BANKFILE_UTF8, 0);
    cr_expect_eq(p->lines, 0);
    hpf_bankfile_parsed_free(p);
    hpf_err err;
    cr_expect_eq(parse(&p, HPF_BANKFILE_PAY_CROSS, "", 0, HPF_BANKFILE_UTF8, &err), HPF_EINVAL);
    cr_expect_null(p);
    cr_expect_str_eq(err.rule, "bankfile.empty");
    free(l1);
    free(l2);
}

Test(bankfile_lines, keeps_the_first_hundred_errors_and_the_good_lines)
{
    hpf_buf b = HPF_BUF_INIT;
    /* 200 lines: every odd line good, every even line with a bad date */
    for (int i = 1; i <= 200; i++) {
        char seq[16];
        snprintf(seq, sizeof seq, "%d", i);
        const char *f[NOTICE_N];
        memcpy(f, notice_base, sizeof f);
        f[0] = seq;
        if (i % 2 == 0)
            f[7] = "20261131";
        char *l = line_of(f, NOTICE_N, false, -1, NULL);
        hpf_buf_printf(&b, "%s\n", l);
        free(l);
    }
    /* line 201: the wrong field count */
    hpf_buf_adds(&b, "1|2|3\n");
    hpf_bankfile_parsed *p = NULL;
    hpf_err err;
    cr_assert_eq(parse(&p, HPF_BANKFILE_NOTICE, b.data, b.len, HPF_BANKFILE_UTF8, &err),
                 HPF_EINVAL);
    cr_expect_str_eq(err.field, "/lines/2/date", "err is the first error");
    cr_expect_eq(p->lines, 201);
    cr_expect_eq(p->n, 100);
    cr_expect_eq(p->errors_total, 101);
    cr_expect_eq(p->nerrors, HPF_BANKFILE_MAX_ERRORS);
    for (size_t i = 0; i < p->nerrors; i++) {
        char want[32];
        snprintf(want, sizeof want, "/lines/%zu/date", 2 * (i + 1));
        cr_expect_str_eq(p->errors[i].field, want, "error %zu in line order", i);
        cr_expect_str_eq(p->errors[i].rule, "bankfile.date");
        cr_expect_eq(p->errors[i].code, HPF_EINVAL);
    }
    for (size_t i = 0; i < p->n; i++) {
        cr_expect_eq(p->notices[i].line, 2 * i + 1);
        cr_expect_eq(p->notices[i].seq, (int64_t)(2 * i + 1));
    }
    hpf_bankfile_parsed_free(p);
    hpf_buf_cleanup(&b);
}

Test(bankfile_limits, file_size_line_count_and_line_length)
{
    hpf_bankfile_parsed *p = NULL;
    hpf_err err;
    size_t big = HPF_BANKFILE_MAX_BYTES + 1;
    char *mem = calloc(1, big);
    cr_assert_not_null(mem);
    cr_expect_eq(parse(&p, HPF_BANKFILE_NOTICE, mem, big, HPF_BANKFILE_UTF8, &err), HPF_ETOOBIG);
    cr_expect_str_eq(err.rule, "bankfile.too_big");
    cr_expect_null(p);

    /* one line more than allowed, each a bad one-byte line */
    size_t n = 2 * ((size_t)HPF_BANKFILE_MAX_LINES + 1);
    for (size_t i = 0; i < n; i += 2)
        memcpy(mem + i, "x\n", 2);
    cr_expect_eq(parse(&p, HPF_BANKFILE_RESULT, mem, n, HPF_BANKFILE_UTF8, &err), HPF_ETOOBIG);
    cr_expect_str_eq(err.rule, "bankfile.too_many_lines");
    cr_expect_null(p);
    /* exactly the limit is read (and each line is refused on its own) */
    cr_expect_eq(parse(&p, HPF_BANKFILE_RESULT, mem, n - 2, HPF_BANKFILE_UTF8, &err), HPF_EINVAL);
    cr_assert_not_null(p);
    cr_expect_eq(p->lines, HPF_BANKFILE_MAX_LINES);
    cr_expect_eq(p->errors_total, HPF_BANKFILE_MAX_LINES);
    cr_expect_eq(p->nerrors, HPF_BANKFILE_MAX_ERRORS);
    hpf_bankfile_parsed_free(p);

    /* a line of 4097 bytes */
    memset(mem, 'a', HPF_BANKFILE_MAX_LINE + 1);
    mem[HPF_BANKFILE_MAX_LINE + 1] = '\0';
    expect_refused(HPF_BANKFILE_NOTICE, mem, HPF_BANKFILE_UTF8, "/lines/1",
                   "bankfile.line_too_long");
    free(mem);

    /* unknown kind or encoding */
    cr_expect_eq(parse(&p, (hpf_bankfile_kind)9, "", 0, HPF_BANKFILE_UTF8, &err), HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.argument");
    cr_expect_eq(parse(&p, HPF_BANKFILE_NOTICE, "", 0, (hpf_bankfile_enc)7, &err), HPF_EINVAL);
    cr_expect_str_eq(err.rule, "bankfile.argument");
}
