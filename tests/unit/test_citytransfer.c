/* Unit tests for peers/citytransfer: the BDC9xx message model (docs/internals/citytransfer.md):
 * the letter number, the bodies, the BDC905 checks (TranAmt = OrAcctAmt + Yinter, flags,
 * months), the platform's answer and the BDC906 batch. */
#include "base/err.h"
#include "peers/citytransfer.h"

#include <criterion/criterion.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(ct_letter, is_institution_date_and_sequence)
{
    hpf_err err = HPF_ERR_INIT;
    char no[HPF_CT_LETTER_LEN + 1];
    cr_assert_eq(hpf_ct_letter_no(no, "320900", hpf_day_from_ymd(2026, 11, 15), 7, &err), 0);
    cr_assert_str_eq(no, "3209002611150007");
    cr_assert(hpf_ct_letter_valid(no));
    cr_assert_eq(hpf_ct_letter_no(no, "320900", hpf_day_from_ymd(2026, 1, 2), 9999, &err), 0);
    cr_assert_str_eq(no, "3209002601029999");
    cr_assert_eq(hpf_ct_letter_no(no, "32090", hpf_day_from_ymd(2026, 1, 2), 1, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "citytransfer.letter_no");
    cr_assert_eq(hpf_ct_letter_no(no, "320900", hpf_day_from_ymd(2026, 1, 2), 10000, &err),
                 HPF_EINVAL);
    cr_assert_eq(hpf_ct_letter_no(no, "320900", hpf_day_from_ymd(2026, 1, 2), 0, &err), HPF_EINVAL);
    cr_assert_not(hpf_ct_letter_valid("3209002613150007"), "month 13");
    cr_assert_not(hpf_ct_letter_valid("3209002611150000"), "sequence 0");
    cr_assert_not(hpf_ct_letter_valid("320900261115007"), "15 digits");
    cr_assert_not(hpf_ct_letter_valid(NULL));
}

Test(ct_states, names_the_workflow_codes_of_rules_1_6)
{
    cr_assert_str_eq(hpf_ct_state_name("01"), "联系函复核通过");
    cr_assert_str_eq(hpf_ct_state_name("00"), "正常办结");
    cr_assert_str_eq(hpf_ct_state_name("05"), "转入撤销业务办结");
    cr_assert_str_eq(hpf_ct_state_name("40"), "转出失败业务办结");
    cr_assert_null(hpf_ct_state_name("03"));
}

Test(ct_apply, builds_bdc901_and_names_a_bad_field)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    hpf_ct_apply a = {.tx_func = "0",
                      .contact_no = "3209002611150001",
                      .in_centre = "320900",
                      .out_centre = "320100",
                      .name = "张三",
                      .cert_type = "01",
                      .cert_no = "32090219900307123X",
                      .or_unit = "南京某公司",
                      .or_acct = "A123",
                      .in_acct = "320900000000000123"};
    cr_assert_eq(hpf_ct_apply_message(&out, &a, &err), 0, "%s", err.msg);
    cr_assert_str_eq(out, "{\"CertNo\":\"32090219900307123X\",\"CertType\":\"01\","
                          "\"ContactNo\":\"3209002611150001\",\"InAcctNo\":\"320900000000000123\","
                          "\"InCenterCode\":\"320900\",\"Name\":\"张三\",\"OrAcctNo\":\"A123\","
                          "\"OrUnitName\":\"南京某公司\",\"OutCenterCode\":\"320100\","
                          "\"TxCode\":\"BDC901\",\"TxFunc\":\"0\"}");
    free(out);
    a.tx_func = "2";
    cr_assert_eq(hpf_ct_apply_message(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "TxFunc");
    a.tx_func = "1";
    a.cert_type = "05";
    cr_assert_eq(hpf_ct_apply_message(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "citytransfer.CertType");
    a.cert_type = "03";
    a.name = "a\nb";
    cr_assert_eq(hpf_ct_apply_message(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "Name");
    cr_assert_null(out);
}

static hpf_ct_out sample(void)
{
    hpf_ct_out o = {.tx_func = "0",
                    .contact_no = "3201002611150003",
                    .name = "李四",
                    .cert_type = "01",
                    .cert_no = "320902199003071234",
                    .or_acct = "320900000000000042",
                    .tran_amt = 1234567 + 9259,
                    .principal = 1234567,
                    .interest = 9259,
                    .o_acct = 201003,
                    .pay_end = 202610,
                    .six_mcon = 1,
                    .loan_num = 2,
                    .loan_end = 2,
                    .fr_loan = 2,
                    .cont_phone = "051512329",
                    .rst_code = "0"};
    return o;
}

Test(ct_out, round_trips_and_checks_the_sum)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    hpf_ct_out o = sample(), back;
    cr_assert_eq(hpf_ct_out_message(&out, &o, &err), 0, "%s", err.msg);
    cr_assert(strstr(out, "\"TranAmt\":\"12438.26\""), "%s", out);
    cr_assert(strstr(out, "\"OrAcctAmt\":\"12345.67\""), "%s", out);
    cr_assert(strstr(out, "\"Yinter\":\"92.59\""), "%s", out);
    cr_assert(strstr(out, "\"PayEndDate\":\"202610\""), "%s", out);
    cr_assert_eq(hpf_ct_out_parse(&back, out, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(&back, &o, sizeof o), 0);
    free(out);
    o.tran_amt += 1; /* TranAmt != OrAcctAmt + Yinter */
    cr_assert_eq(hpf_ct_out_message(&out, &o, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "TranAmt");
    o = sample();
    o.six_mcon = 3;
    cr_assert_eq(hpf_ct_out_message(&out, &o, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "SixMconFlag");
    o = sample();
    o.pay_end = 202613;
    cr_assert_eq(hpf_ct_out_message(&out, &o, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "PayEndDate");
}

Test(ct_out, parse_refuses_unknown_members_forged_sums_and_bad_flags)
{
    hpf_err err = HPF_ERR_INIT;
    char *text = NULL;
    hpf_ct_out o = sample(), back;
    cr_assert_eq(hpf_ct_out_message(&text, &o, &err), 0);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    const char *cases[][2] = {{"TranAmt", "\"12438.27\""}, {"Yinter", "\"-1.00\""},
                              {"LoanEndFlag", "\"3\""},    {"LoanNum", "100"},
                              {"Extra", "\"x\""},          {"OAcctDate", "\"2010-03\""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *c = json_deep_copy(j);
        json_object_set_new(c, cases[i][0], json_loads(cases[i][1], JSON_DECODE_ANY, NULL));
        char *s = json_dumps(c, JSON_COMPACT);
        cr_assert_eq(hpf_ct_out_parse(&back, s, &err), HPF_EINVAL, "%s accepted", cases[i][0]);
        cr_assert_str_eq(err.rule, "citytransfer.reply");
        cr_assert(strstr(err.msg, cases[i][0]), "%s: %s", cases[i][0], err.msg);
        free(s);
        json_decref(c);
    }
    json_decref(j);
    cr_assert_eq(hpf_ct_out_parse(&back, "not json", &err), HPF_EINVAL);
}

Test(ct_reply, reads_the_answer_with_and_without_a_transfer)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_ct_reply r;
    cr_assert_eq(hpf_ct_reply_parse(&r,
                                    "{\"TxCode\":\"BDC901\",\"RstCode\":\"0\",\"ContactNo\":"
                                    "\"3209002611150001\",\"FlowState\":\"02\"}",
                                    &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(r.flow_state, "02");
    cr_assert_not(r.has_transfer);
    char *t = NULL, body[4096];
    hpf_ct_out o = sample();
    snprintf(o.contact_no, sizeof o.contact_no, "%s", "3209002611150001");
    cr_assert_eq(hpf_ct_out_message(&t, &o, &err), 0);
    snprintf(body, sizeof body,
             "{\"TxCode\":\"BDC904\",\"RstCode\":\"0\",\"ContactNo\":\"3209002611150001\","
             "\"FlowState\":\"08\",\"Transfer\":%s}",
             t);
    cr_assert_eq(hpf_ct_reply_parse(&r, body, &err), 0, "%s", err.msg);
    cr_assert(r.has_transfer);
    cr_assert_eq(r.transfer.tran_amt, o.tran_amt);
    /* the transfer must be of the same letter */
    snprintf(body, sizeof body,
             "{\"TxCode\":\"BDC904\",\"RstCode\":\"0\",\"ContactNo\":\"3209002611150002\","
             "\"FlowState\":\"08\",\"Transfer\":%s}",
             t);
    cr_assert_eq(hpf_ct_reply_parse(&r, body, &err), HPF_EINVAL);
    free(t);
    cr_assert_eq(hpf_ct_reply_parse(&r,
                                    "{\"TxCode\":\"BDC901\",\"RstCode\":\"0\",\"ContactNo\":"
                                    "\"3209002611150001\",\"FlowState\":\"77\"}",
                                    &err),
                 HPF_EINVAL, "an unknown workflow state");
    cr_assert_eq(hpf_ct_reply_parse(&r,
                                    "{\"TxCode\":\"BDC901\",\"RstCode\":\"0\",\"ContactNo\":"
                                    "\"3209002611150001\",\"FlowState\":\"01\",\"X\":1}",
                                    &err),
                 HPF_EINVAL, "an unknown member");
}

Test(ct_batch, reads_a_bdc906_and_names_the_bad_item)
{
    hpf_err err = HPF_ERR_INIT;
    char *a = NULL, *b = NULL, body[8192];
    hpf_ct_out o1 = sample(), o2 = sample();
    snprintf(o2.contact_no, sizeof o2.contact_no, "%s", "3201002611150004");
    cr_assert_eq(hpf_ct_out_message(&a, &o1, &err), 0);
    cr_assert_eq(hpf_ct_out_message(&b, &o2, &err), 0);
    snprintf(body, sizeof body, "{\"TxCode\":\"BDC906\",\"Items\":[%s,%s]}", a, b);
    hpf_ct_out *items = NULL;
    size_t n = 0;
    cr_assert_eq(hpf_ct_out_batch_parse(&items, &n, body, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(items[1].contact_no, "3201002611150004");
    free(items);
    snprintf(body, sizeof body, "{\"TxCode\":\"BDC906\",\"Items\":[%s,{}]}", a);
    cr_assert_eq(hpf_ct_out_batch_parse(&items, &n, body, &err), HPF_EINVAL);
    cr_assert(strstr(err.msg, "item 1"), "%s", err.msg);
    cr_assert_null(items);
    cr_assert_eq(hpf_ct_out_batch_parse(&items, &n, "{\"TxCode\":\"BDC906\",\"Items\":[]}", &err),
                 HPF_EINVAL);
    free(a);
    free(b);
}
