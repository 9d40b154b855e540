#include "peers/citytransfer.h"

#include "base/mem.h"
#include "base/parse.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code, *name;
} states[] = {
    {"01", "联系函复核通过"},   {"02", "联系函确认接收"}, {"08", "账户信息复核通过"},
    {"00", "正常办结"},         {"06", "协商中"},         {"20", "协商后业务办结"},
    {"05", "转入撤销业务办结"}, {"13", "转出审核不通过"}, {"40", "转出失败业务办结"},
};

const char *hpf_ct_state_name(const char *code)
{
    for (size_t i = 0; code && i < sizeof states / sizeof states[0]; i++)
        if (!strcmp(states[i].code, code))
            return states[i].name;
    return NULL;
}

static bool digits(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

static bool alnum(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= max &&
           strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == n;
}

/* Text of 1..max bytes without control characters (UTF-8 as JSON carries it). */
static bool text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool cert_type_ok(const char *s)
{
    static const char *const types[] = {"01", "02", "03", "04", "99"};
    for (size_t i = 0; s && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(s, types[i]))
            return true;
    return false;
}

int hpf_ct_letter_no(char out[HPF_CT_LETTER_LEN + 1], const char *institution, hpf_day day,
                     int64_t seq, hpf_err *err)
{
    int y, m, d;
    out[0] = '\0';
    hpf_day_to_ymd(day, &y, &m, &d);
    if (!digits(institution, 6, 6) || y < 2000 || y > 2099 || seq < 1 || seq > 9999)
        return hpf_err_field(err, HPF_EINVAL, "contact_no", "citytransfer.letter_no",
                             "a letter number is an institution code of 6 digits, a date of "
                             "2000..2099 and a sequence of 1..9999");
    snprintf(out, HPF_CT_LETTER_LEN + 1, "%s%02d%02d%02d%04d", institution, y % 100, m, d,
             (int)seq);
    return 0;
}

bool hpf_ct_letter_valid(const char *s)
{
    if (!digits(s, HPF_CT_LETTER_LEN, HPF_CT_LETTER_LEN))
        return false;
    int y = 2000 + (s[6] - '0') * 10 + (s[7] - '0');
    int m = (s[8] - '0') * 10 + (s[9] - '0');
    int d = (s[10] - '0') * 10 + (s[11] - '0');
    return hpf_date_valid(y, m, d) && strcmp(s + 12, "0000") != 0;
}

static int bad(hpf_err *err, const char *field, const char *what)
{
    char rule[64];
    snprintf(rule, sizeof rule, "citytransfer.%s", field);
    return hpf_err_field(err, HPF_EINVAL, field, rule, "%s", what);
}

/* Dump o (stolen) as compact text with sorted keys into *out. */
static int dump(char **out, json_t *o, hpf_err *err)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!s)
        return hpf_err_set(err, HPF_EINTERNAL, "cannot encode a transfer message (not UTF-8?)");
    *out = s;
    return 0;
}

int hpf_ct_apply_message(char **out, const hpf_ct_apply *a, hpf_err *err)
{
    *out = NULL;
    if (!a->tx_func || (strcmp(a->tx_func, "0") != 0 && strcmp(a->tx_func, "1") != 0))
        return bad(err, "TxFunc", "TxFunc of a BDC901 is 0 (new) or 1 (accepted)");
    if (!hpf_ct_letter_valid(a->contact_no))
        return bad(err, "ContactNo", "ContactNo is a letter number of 16 digits");
    if (!digits(a->in_centre, 6, 6))
        return bad(err, "InCenterCode", "InCenterCode is 6 digits");
    if (!digits(a->out_centre, 6, 6))
        return bad(err, "OutCenterCode", "OutCenterCode is 6 digits");
    if (!text_ok(a->name, HPF_CT_NAME_MAX))
        return bad(err, "Name", "Name is 1 to 120 bytes of text");
    if (!cert_type_ok(a->cert_type))
        return bad(err, "CertType", "CertType is 01, 02, 03, 04 or 99");
    if (!alnum(a->cert_no, 1, 32))
        return bad(err, "CertNo", "CertNo is 1 to 32 letters and digits");
    if (!text_ok(a->or_unit, HPF_CT_NAME_MAX))
        return bad(err, "OrUnitName", "OrUnitName is 1 to 120 bytes of text");
    if (!alnum(a->or_acct, 1, 32))
        return bad(err, "OrAcctNo", "OrAcctNo is 1 to 32 letters and digits");
    if (!alnum(a->in_acct, 1, 32))
        return bad(err, "InAcctNo", "InAcctNo is 1 to 32 letters and digits");
    return dump(out,
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "TxCode",
                          "BDC901", "TxFunc", a->tx_func, "ContactNo", a->contact_no,
                          "InCenterCode", a->in_centre, "OutCenterCode", a->out_centre, "Name",
                          a->name, "CertType", a->cert_type, "CertNo", a->cert_no, "OrUnitName",
                          a->or_unit, "OrAcctNo", a->or_acct, "InAcctNo", a->in_acct),
                err);
}

int hpf_ct_cancel_message(char **out, const char *contact_no, const char *reason, hpf_err *err)
{
    *out = NULL;
    if (!hpf_ct_letter_valid(contact_no))
        return bad(err, "ContactNo", "ContactNo is a letter number of 16 digits");
    if (!text_ok(reason, HPF_CT_TEXT_MAX))
        return bad(err, "Reason", "Reason is 1 to 200 bytes of text");
    return dump(
        out,
        json_pack("{s:s, s:s, s:s}", "TxCode", "BDC903", "ContactNo", contact_no, "Reason", reason),
        err);
}

int hpf_ct_query_message(char **out, const char *contact_no, hpf_err *err)
{
    *out = NULL;
    if (!hpf_ct_letter_valid(contact_no))
        return bad(err, "ContactNo", "ContactNo is a letter number of 16 digits");
    return dump(out, json_pack("{s:s, s:s}", "TxCode", "BDC904", "ContactNo", contact_no), err);
}

static bool month_ok(hpf_month m)
{
    return hpf_month_valid(m);
}

static void yyyymm(char out[7], hpf_month m)
{
    snprintf(out, 7, "%06d", (int)m);
}

static bool flag_ok(int f)
{
    return f == 1 || f == 2;
}

/* The checks a BDC905 passes both ways; names the first field that fails. */
static const char *out_invalid(const hpf_ct_out *o)
{
    hpf_fen sum;
    if (strcmp(o->tx_func, "0") != 0 && strcmp(o->tx_func, "1") != 0 &&
        strcmp(o->tx_func, "2") != 0)
        return "TxFunc";
    if (!hpf_ct_letter_valid(o->contact_no))
        return "ContactNo";
    if (!text_ok(o->name, HPF_CT_NAME_MAX))
        return "Name";
    if (!cert_type_ok(o->cert_type))
        return "CertType";
    if (!alnum(o->cert_no, 1, 32))
        return "CertNo";
    if (!alnum(o->or_acct, 1, 32))
        return "OrAcctNo";
    if (o->principal < 0 || o->principal > HPF_MONEY_MAX)
        return "OrAcctAmt";
    if (o->interest < 0 || o->interest > HPF_MONEY_MAX)
        return "Yinter";
    if (hpf_money_add(&sum, o->principal, o->interest) < 0 || sum != o->tran_amt)
        return "TranAmt";
    if (!month_ok(o->o_acct))
        return "OAcctDate";
    if (!month_ok(o->pay_end))
        return "PayEndDate";
    if (!flag_ok(o->six_mcon))
        return "SixMconFlag";
    if (o->loan_num < 0 || o->loan_num > 99)
        return "LoanNum";
    if (!flag_ok(o->loan_end))
        return "LoanEndFlag";
    if (!flag_ok(o->fr_loan))
        return "FrLoanFlag";
    if (o->cont_phone[0] && !digits(o->cont_phone, 5, 20))
        return "ContPhone";
    if (strcmp(o->rst_code, "0") != 0 && strcmp(o->rst_code, "1") != 0 &&
        strcmp(o->rst_code, "2") != 0)
        return "TranRstCode";
    return NULL;
}

static json_t *out_json(const hpf_ct_out *o)
{
    char t[24], p[24], i[24], oa[7], pe[7], f1[2], f2[2], f3[2];
    snprintf(f1, sizeof f1, "%d", o->six_mcon);
    snprintf(f2, sizeof f2, "%d", o->loan_end);
    snprintf(f3, sizeof f3, "%d", o->fr_loan);
    yyyymm(oa, o->o_acct);
    yyyymm(pe, o->pay_end);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s,"
                     " s:s, s:s, s:s}",
                     "TxCode", "BDC905", "TxFunc", o->tx_func, "ContactNo", o->contact_no, "Name",
                     o->name, "CertType", o->cert_type, "CertNo", o->cert_no, "OrAcctNo",
                     o->or_acct, "TranAmt", hpf_money_fmt(t, o->tran_amt), "OrAcctAmt",
                     hpf_money_fmt(p, o->principal), "Yinter", hpf_money_fmt(i, o->interest),
                     "OAcctDate", oa, "PayEndDate", pe, "SixMconFlag", f1, "LoanNum",
                     (json_int_t)o->loan_num, "LoanEndFlag", f2, "FrLoanFlag", f3, "ContPhone",
                     o->cont_phone, "TranRstCode", o->rst_code);
}

int hpf_ct_out_message(char **out, const hpf_ct_out *o, hpf_err *err)
{
    *out = NULL;
    const char *f = out_invalid(o);
    if (f) {
        char what[96];
        snprintf(what, sizeof what, "BDC905 field %s breaks its shape", f);
        return bad(err, f, what);
    }
    return dump(out, out_json(o), err);
}

/* Copy member `k`, a string of at most size-1 bytes, into dst; false when absent or longer. */
static bool get_s(json_t *o, const char *k, char *dst, size_t size)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || strlen(s) >= size)
        return false;
    snprintf(dst, size, "%s", s);
    return true;
}

static bool get_money(json_t *o, const char *k, hpf_fen *v)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && hpf_money_parse(v, s, 0, HPF_MONEY_MAX) == 0;
}

static bool get_month(json_t *o, const char *k, hpf_month *m)
{
    char b[7];
    if (!get_s(o, k, b, sizeof b) || !digits(b, 6, 6))
        return false;
    int64_t v;
    if (hpf_parse_i64(&v, b, 0, 999999) < 0)
        return false;
    *m = (hpf_month)v;
    return true;
}

static bool get_flag(json_t *o, const char *k, int *f)
{
    char b[2];
    if (!get_s(o, k, b, sizeof b) || (b[0] != '1' && b[0] != '2'))
        return false;
    *f = b[0] - '0';
    return true;
}

static int reply_bad(hpf_err *err, const char *what, const char *field)
{
    return hpf_err_field(err, HPF_EINVAL, "reply", "citytransfer.reply",
                         "the transfer platform's %s is malformed at %s", what, field);
}

/* The members a BDC905 may have. */
static const char *const out_keys[] = {
    "TxCode",      "TxFunc",  "ContactNo",   "Name",       "CertType",  "CertNo",
    "OrAcctNo",    "TranAmt", "OrAcctAmt",   "Yinter",     "OAcctDate", "PayEndDate",
    "SixMconFlag", "LoanNum", "LoanEndFlag", "FrLoanFlag", "ContPhone", "TranRstCode",
};

static int out_from(hpf_ct_out *out, json_t *o, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(o))
        return reply_bad(err, "BDC905", "(not an object)");
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof out_keys / sizeof out_keys[0]; i++)
            known = known || !strcmp(k, out_keys[i]);
        if (!known)
            return reply_bad(err, "BDC905", k);
    }
    const char *tx = json_string_value(json_object_get(o, "TxCode"));
    if (!tx || strcmp(tx, "BDC905") != 0)
        return reply_bad(err, "BDC905", "TxCode");
    json_t *ln = json_object_get(o, "LoanNum");
    const char *f = NULL;
    if (!get_s(o, "TxFunc", out->tx_func, sizeof out->tx_func))
        f = "TxFunc";
    else if (!get_s(o, "ContactNo", out->contact_no, sizeof out->contact_no))
        f = "ContactNo";
    else if (!get_s(o, "Name", out->name, sizeof out->name))
        f = "Name";
    else if (!get_s(o, "CertType", out->cert_type, sizeof out->cert_type))
        f = "CertType";
    else if (!get_s(o, "CertNo", out->cert_no, sizeof out->cert_no))
        f = "CertNo";
    else if (!get_s(o, "OrAcctNo", out->or_acct, sizeof out->or_acct))
        f = "OrAcctNo";
    else if (!get_money(o, "TranAmt", &out->tran_amt))
        f = "TranAmt";
    else if (!get_money(o, "OrAcctAmt", &out->principal))
        f = "OrAcctAmt";
    else if (!get_money(o, "Yinter", &out->interest))
        f = "Yinter";
    else if (!get_month(o, "OAcctDate", &out->o_acct))
        f = "OAcctDate";
    else if (!get_month(o, "PayEndDate", &out->pay_end))
        f = "PayEndDate";
    else if (!get_flag(o, "SixMconFlag", &out->six_mcon))
        f = "SixMconFlag";
    else if (!json_is_integer(ln) || json_integer_value(ln) < 0 || json_integer_value(ln) > 99)
        f = "LoanNum";
    else if (!get_flag(o, "LoanEndFlag", &out->loan_end))
        f = "LoanEndFlag";
    else if (!get_flag(o, "FrLoanFlag", &out->fr_loan))
        f = "FrLoanFlag";
    else if (!get_s(o, "ContPhone", out->cont_phone, sizeof out->cont_phone))
        f = "ContPhone";
    else if (!get_s(o, "TranRstCode", out->rst_code, sizeof out->rst_code))
        f = "TranRstCode";
    if (!f) {
        out->loan_num = (int)json_integer_value(ln);
        f = out_invalid(out);
    }
    if (f) {
        memset(out, 0, sizeof *out);
        return reply_bad(err, "BDC905", f);
    }
    return 0;
}

static json_t *load(const char *json)
{
    return json_loads(json ? json : "", JSON_REJECT_DUPLICATES, NULL);
}

int hpf_ct_out_parse(hpf_ct_out *out, const char *json, hpf_err *err)
{
    json_t *o = load(json);
    int rc = out_from(out, o, err);
    json_decref(o);
    return rc;
}

int hpf_ct_out_batch_parse(hpf_ct_out **items, size_t *n, const char *json, hpf_err *err)
{
    *items = NULL;
    *n = 0;
    json_t *o = load(json);
    json_t *arr = json_object_get(o, "Items");
    const char *tx = json_string_value(json_object_get(o, "TxCode"));
    if (!json_is_object(o) || json_object_size(o) != 2 || !tx || strcmp(tx, "BDC906") != 0 ||
        !json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > HPF_CT_BATCH_MAX) {
        json_decref(o);
        return reply_bad(err, "BDC906", "TxCode / Items (1..500)");
    }
    size_t k = json_array_size(arr);
    hpf_ct_out *v = hpf_xcalloc(k, sizeof *v);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        rc = out_from(&v[i], json_array_get(arr, i), err);
        if (rc < 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            hpf_err_field(err, rc, "reply", "citytransfer.reply", "item %zu: %s", i, why);
        }
    }
    json_decref(o);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *items = v;
    *n = k;
    return 0;
}

int hpf_ct_reply_parse(hpf_ct_reply *out, const char *json, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = load(json);
    json_t *tr = json_object_get(o, "Transfer");
    const char *f = NULL;
    int rc = 0;
    /* TxCode, RstCode, ContactNo, FlowState; RstMsg and Transfer when present. */
    size_t want = 4 + (tr ? 1 : 0) + (json_object_get(o, "RstMsg") ? 1 : 0);
    if (!json_is_object(o))
        f = "(not an object)";
    else if (!get_s(o, "TxCode", out->tx_code, sizeof out->tx_code))
        f = "TxCode";
    else if (!get_s(o, "RstCode", out->rst_code, sizeof out->rst_code) ||
             (strcmp(out->rst_code, "0") != 0 && strcmp(out->rst_code, "1") != 0))
        f = "RstCode";
    else if (json_object_get(o, "RstMsg") && !get_s(o, "RstMsg", out->rst_msg, sizeof out->rst_msg))
        f = "RstMsg";
    else if (!get_s(o, "ContactNo", out->contact_no, sizeof out->contact_no) ||
             !hpf_ct_letter_valid(out->contact_no))
        f = "ContactNo";
    else if (!get_s(o, "FlowState", out->flow_state, sizeof out->flow_state) ||
             !hpf_ct_state_name(out->flow_state))
        f = "FlowState";
    else if (json_object_size(o) != want)
        f = "(unknown member)";
    if (f) {
        rc = reply_bad(err, "answer", f);
    } else if (tr) {
        rc = out_from(&out->transfer, tr, err);
        out->has_transfer = rc == 0;
        if (rc == 0 && strcmp(out->transfer.contact_no, out->contact_no) != 0)
            rc = reply_bad(err, "answer", "Transfer.ContactNo");
    }
    json_decref(o);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}
