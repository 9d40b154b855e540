#include "peers/bankfile.h"

#include "base/parse.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One table per layout says, field by field, what the column holds and where it goes in the
 * record; the parser and the writer both walk it, so a rule is written once and the writer can
 * never produce a line the parser refuses.
 */

enum ftype {
    F_SEQ,    /* positive integer, no leading zero, at most `vmax` */
    F_DIGITS, /* min..max ASCII digits */
    F_CODE,   /* min..max of [0-9A-Za-z._-] */
    F_TEXT,   /* min..max characters of UTF-8 without control characters */
    F_MONEY,  /* yuan with at most two decimals, `sign` says which values */
    F_DATE,   /* YYYYMMDD, a real date in 1900..9999 */
    F_TIME,   /* HHMMSS, 000000..235959 */
    F_ENUM,   /* one digit 0..vmax, stored as an int-sized enum */
};

enum sign { S_ANY, S_NONZERO, S_POSITIVE, S_NONNEG };

typedef struct field {
    const char *key;   /* ASCII key in error pointers */
    const char *label; /* the column's name in RULES §6.3 */
    enum ftype type;
    bool optional; /* may be empty */
    unsigned min, max;
    int64_t vmax;
    enum sign sign;
    const char *rule; /* the rule of a malformed value */
    size_t off;       /* the member */
    long has_off;     /* F_MONEY: the member's has_ flag, or -1 when empty reads as 0 */
} field;

typedef struct layout {
    hpf_bankfile_kind kind;
    const char *name;
    const char *sep;
    size_t seplen;
    bool trailing; /* every field is followed by the separator (the "@|$" files) */
    const field *fields;
    size_t nfields;
    size_t size; /* of one record */
} layout;

_Static_assert(sizeof(hpf_bankfile_reversal) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(hpf_bankfile_tran) == sizeof(int), "enums are stored as int");
/* The parser writes a record's line number through its first member. */
_Static_assert(offsetof(hpf_bankfile_notice, line) == 0, "line first");
_Static_assert(offsetof(hpf_bankfile_payment, line) == 0, "line first");
_Static_assert(offsetof(hpf_bankfile_outcome, line) == 0, "line first");

#define NOTICE(m) offsetof(hpf_bankfile_notice, m)
#define PAY(m)    offsetof(hpf_bankfile_payment, m)
#define OUTC(m)   offsetof(hpf_bankfile_outcome, m)
#define NOHAS     (-1L)
#define SEQ_MAX   INT64_C(999999999999999999)

/* SBDC100, the order of RULES §6.3. */
static const field notice_fields[] = {
    {"seq", "序号", F_SEQ, false, 1, 18, SEQ_MAX, S_ANY, "bankfile.seq", NOTICE(seq), NOHAS},
    {"account", "账号", F_DIGITS, false, 1, 32, 0, S_ANY, "bankfile.digits", NOTICE(account),
     NOHAS},
    {"host_serial", "银行主机流水号", F_CODE, false, 1, 32, 0, S_ANY, "bankfile.code",
     NOTICE(host_serial), NOHAS},
    {"tx_code", "交易代码", F_CODE, false, 1, 16, 0, S_ANY, "bankfile.code", NOTICE(tx_code),
     NOHAS},
    {"peer_account", "交易对手账号", F_CODE, true, 0, 32, 0, S_ANY, "bankfile.code",
     NOTICE(peer_account), NOHAS},
    {"peer_name", "交易对手户名", F_TEXT, true, 0, 60, 0, S_ANY, "bankfile.text", NOTICE(peer_name),
     NOHAS},
    {"amount", "金额", F_MONEY, false, 0, 0, 0, S_NONZERO, "bankfile.amount", NOTICE(amount),
     NOHAS},
    {"date", "交易日期", F_DATE, false, 8, 8, 0, S_ANY, "bankfile.date", NOTICE(date), NOHAS},
    {"time", "交易时间", F_TIME, false, 6, 6, 0, S_ANY, "bankfile.time", NOTICE(time), NOHAS},
    {"available", "可用金额", F_MONEY, true, 0, 0, 0, S_ANY, "bankfile.amount", NOTICE(available),
     (long)NOTICE(has_available)},
    {"open_branch", "开户机构号", F_CODE, true, 0, 20, 0, S_ANY, "bankfile.code",
     NOTICE(open_branch), NOHAS},
    {"remark", "备注", F_TEXT, true, 0, 100, 0, S_ANY, "bankfile.text", NOTICE(remark), NOHAS},
    {"currency", "币别", F_CODE, true, 0, 8, 0, S_ANY, "bankfile.code", NOTICE(currency), NOHAS},
    {"cash_remit", "钞汇", F_CODE, true, 0, 4, 0, S_ANY, "bankfile.code", NOTICE(cash_remit),
     NOHAS},
    {"balance", "余额", F_MONEY, true, 0, 0, 0, S_ANY, "bankfile.amount", NOTICE(balance),
     (long)NOTICE(has_balance)},
    {"overdraft", "可透支余额", F_MONEY, true, 0, 0, 0, S_ANY, "bankfile.amount", NOTICE(overdraft),
     (long)NOTICE(has_overdraft)},
    {"voucher_type", "凭证种类", F_CODE, true, 0, 8, 0, S_ANY, "bankfile.code",
     NOTICE(voucher_type), NOHAS},
    {"voucher_no", "凭证号码", F_CODE, true, 0, 32, 0, S_ANY, "bankfile.code", NOTICE(voucher_no),
     NOHAS},
    {"peer_bank", "交易对手行号", F_CODE, true, 0, 20, 0, S_ANY, "bankfile.code", NOTICE(peer_bank),
     NOHAS},
    {"summary", "摘要", F_TEXT, true, 0, 100, 0, S_ANY, "bankfile.text", NOTICE(summary), NOHAS},
    {"reversal", "冲正标识", F_ENUM, false, 1, 1, 2, S_ANY, "bankfile.reversal", NOTICE(reversal),
     NOHAS},
    {"item_no", "笔号", F_CODE, true, 0, 16, 0, S_ANY, "bankfile.code", NOTICE(item_no), NOHAS},
    {"book_no", "册号", F_CODE, true, 0, 16, 0, S_ANY, "bankfile.code", NOTICE(book_no), NOHAS},
};

/* BDC103, the columns both layouts share (clang-format would scatter these macros). */
/* clang-format off */
#define PAY_HEAD                                                                                   \
    {"seq", "序号", F_SEQ, false, 1, 6, HPF_BANKFILE_MAX_LINES, S_ANY, "bankfile.seq", PAY(seq),   \
     NOHAS},                                                                                       \
    {"amount", "金额", F_MONEY, false, 0, 0, 0, S_POSITIVE, "bankfile.amount", PAY(amount),        \
     NOHAS},                                                                                       \
    {"payee_account", "收方账户", F_DIGITS, false, 1, 32, 0, S_ANY, "bankfile.digits",             \
     PAY(payee_account), NOHAS},                                                                   \
    {"payee_name", "收方户名", F_TEXT, false, 1, 60, 0, S_ANY, "bankfile.text", PAY(payee_name),   \
     NOHAS}
#define PAY_TAIL                                                                                   \
    {"summary", "摘要", F_TEXT, false, 1, 100, 0, S_ANY, "bankfile.text", PAY(summary), NOHAS},    \
    {"ref_account", "业务明细账号", F_CODE, true, 0, 32, 0, S_ANY, "bankfile.code",                \
     PAY(ref_account), NOHAS},                                                                     \
    {"ref_serial1", "业务明细流水号1", F_CODE, false, 1, 32, 0, S_ANY, "bankfile.code",            \
     PAY(ref_serial1), NOHAS},                                                                     \
    {"ref_serial2", "业务明细流水号2", F_CODE, true, 0, 32, 0, S_ANY, "bankfile.code",             \
     PAY(ref_serial2), NOHAS},                                                                     \
    {"principal", "本金发生额", F_MONEY, false, 0, 0, 0, S_NONNEG, "bankfile.amount",              \
     PAY(principal), NOHAS},                                                                       \
    {"interest", "利息发生额", F_MONEY, true, 0, 0, 0, S_NONNEG, "bankfile.amount",                \
     PAY(interest), NOHAS}
/* clang-format on */

/* Same-bank layout: the order of RULES §6.3. */
static const field pay_same_fields[] = {PAY_HEAD, PAY_TAIL};

/* Cross-bank and mixed files: the same columns with three more after 收方户名. Which columns
 * and where is our assumption (RULES says only "cross-bank files add 联行号 columns"); the
 * order follows the public implementation that RULES §6.3 was read from. */
static const field pay_cross_fields[] = {
    PAY_HEAD,
    {"payee_bank", "收方账户联行号", F_DIGITS, false, 12, 12, 0, S_ANY, "bankfile.bank_no",
     PAY(payee_bank), NOHAS},
    {"payee_branch_bank", "收款人开户行联行号", F_DIGITS, true, 12, 12, 0, S_ANY,
     "bankfile.bank_no", PAY(payee_branch_bank), NOHAS},
    {"payee_address", "收款人地址", F_TEXT, true, 0, 100, 0, S_ANY, "bankfile.text",
     PAY(payee_address), NOHAS},
    PAY_TAIL,
};

static const field result_fields[] = {
    {"seq", "序号", F_SEQ, false, 1, 6, HPF_BANKFILE_MAX_LINES, S_ANY, "bankfile.seq", OUTC(seq),
     NOHAS},
    {"amount", "金额", F_MONEY, false, 0, 0, 0, S_POSITIVE, "bankfile.amount", OUTC(amount), NOHAS},
    {"payee_account", "收方账户", F_DIGITS, false, 1, 32, 0, S_ANY, "bankfile.digits",
     OUTC(payee_account), NOHAS},
    {"result", "处理结果", F_ENUM, false, 1, 1, 2, S_ANY, "bankfile.result", OUTC(result), NOHAS},
    {"message", "响应信息", F_TEXT, true, 0, 100, 0, S_ANY, "bankfile.text", OUTC(message), NOHAS},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const layout layouts[] = {
    {HPF_BANKFILE_NOTICE, "SBDC100 notice", "|", 1, false, notice_fields, COUNT(notice_fields),
     sizeof(hpf_bankfile_notice)},
    {HPF_BANKFILE_PAY_SAME, "same-bank payment", "@|$", 3, true, pay_same_fields,
     COUNT(pay_same_fields), sizeof(hpf_bankfile_payment)},
    {HPF_BANKFILE_PAY_CROSS, "cross-bank payment", "@|$", 3, true, pay_cross_fields,
     COUNT(pay_cross_fields), sizeof(hpf_bankfile_payment)},
    {HPF_BANKFILE_RESULT, "batch result", "@|$", 3, true, result_fields, COUNT(result_fields),
     sizeof(hpf_bankfile_outcome)},
};

#define MAX_FIELDS 23

static const layout *layout_of(hpf_bankfile_kind kind)
{
    for (size_t i = 0; i < COUNT(layouts); i++)
        if (layouts[i].kind == kind)
            return &layouts[i];
    return NULL;
}

static bool is_payment(hpf_bankfile_kind kind)
{
    return kind == HPF_BANKFILE_PAY_SAME || kind == HPF_BANKFILE_PAY_CROSS;
}

/* ---- errors ---- */

static int line_err(hpf_err *err, int code, uint32_t line, const char *key, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int line_err(hpf_err *err, int code, uint32_t line, const char *key, const char *rule,
                    const char *fmt, ...)
{
    char ptr[sizeof err->field], msg[sizeof err->msg];
    if (key)
        snprintf(ptr, sizeof ptr, "/lines/%u/%s", (unsigned)line, key);
    else
        snprintf(ptr, sizeof ptr, "/lines/%u", (unsigned)line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hpf_err_field(err, code, ptr, rule, "line %u: %s", (unsigned)line, msg);
}

/* A value worth quoting in a message: short printable ASCII only, so a message never carries
 * control bytes or half a character. */
static const char *quote(char out[static 40], const char *s, size_t n)
{
    if (n > 24) {
        snprintf(out, 40, "(%zu bytes)", n);
        return out;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"') {
            snprintf(out, 40, "(%zu bytes)", n);
            return out;
        }
    snprintf(out, 40, "\"%.*s\"", (int)n, s);
    return out;
}

/* ---- field values ---- */

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool code_char(char c)
{
    return digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' ||
           c == '-';
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            k++;
    return k;
}

/* The day numbers of 1900-01-01 and 9999-12-31, the range hpf_day_parse_compact accepts. */
static hpf_day day_min(void)
{
    return hpf_day_from_ymd(1900, 1, 1);
}

static hpf_day day_max(void)
{
    return hpf_day_from_ymd(9999, 12, 31);
}

/* -?(0|[1-9][0-9]*)(\.[0-9]{1,2})? and not a negative zero; the value must fit int64_t fen. */
static int money_read(hpf_fen *out, const char *s, size_t n, const char **rule, const char **why)
{
    size_t i = 0;
    bool neg = i < n && s[i] == '-';
    if (neg)
        i++;
    size_t d0 = i;
    while (i < n && digit(s[i]))
        i++;
    size_t nint = i - d0;
    bool zero = true;
    for (size_t k = d0; k < i; k++)
        zero = zero && s[k] == '0';
    *rule = "bankfile.amount";
    if (nint == 0) {
        *why = "is not an amount in yuan";
        return HPF_EINVAL;
    }
    if (nint > 1 && s[d0] == '0') {
        *why = "has a leading zero";
        return HPF_EINVAL;
    }
    if (i < n && s[i] == '.') {
        size_t f0 = ++i;
        while (i < n && digit(s[i]))
            i++;
        if (i == f0) {
            *why = "has a decimal point without decimals";
            return HPF_EINVAL;
        }
        if (i - f0 > 2) {
            *why = "has more than two decimals";
            return HPF_EINVAL;
        }
        for (size_t k = f0; k < i; k++)
            zero = zero && s[k] == '0';
    }
    if (i != n) {
        *why = "is not an amount in yuan (digits, an optional '-' and up to two decimals)";
        return HPF_EINVAL;
    }
    if (neg && zero) {
        *why = "is a negative zero";
        return HPF_EINVAL;
    }
    char buf[32];
    *rule = "bankfile.amount_range";
    *why = "is beyond the int64 range of fen";
    if (n >= sizeof buf)
        return HPF_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (hpf_money_parse(out, buf, INT64_MIN, INT64_MAX) < 0)
        return HPF_EINVAL;
    return 0;
}

static bool sign_ok(enum sign sg, hpf_fen v)
{
    switch (sg) {
    case S_NONZERO:
        return v != 0;
    case S_POSITIVE:
        return v > 0;
    case S_NONNEG:
        return v >= 0;
    case S_ANY:
        break;
    }
    return true;
}

static const char *sign_words(enum sign sg)
{
    return sg == S_NONZERO    ? "may not be zero (its sign tells debit from credit)"
           : sg == S_POSITIVE ? "must be more than zero"
                              : "may not be negative";
}

/* Check the text of one field. Sets *v (the number, or 0 for text) and *present; on a fault
 * returns HPF_EINVAL with err naming /lines/LINE/KEY. */
static int field_check(const field *f, const char *s, size_t n, uint32_t line, int64_t *v,
                       bool *present, hpf_err *err)
{
    char q[40];
    *v = 0;
    *present = n > 0;
    if (n == 0) {
        if (f->optional)
            return 0;
        return line_err(err, HPF_EINVAL, line, f->key, "bankfile.required",
                        "%s (%s) is empty; the field is required", f->label, f->key);
    }
    switch (f->type) {
    case F_SEQ: {
        int64_t x = 0;
        bool ok = digit(s[0]) && s[0] != '0' && n <= 18;
        for (size_t i = 0; ok && i < n; i++) {
            ok = digit(s[i]);
            x = x * 10 + (s[i] - '0');
        }
        if (!ok || x > f->vmax)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule,
                            "%s %s is not a whole number from 1 to %lld without leading zeros",
                            f->label, quote(q, s, n), (long long)f->vmax);
        *v = x;
        return 0;
    }
    case F_DIGITS:
    case F_CODE:
        if (n > f->max)
            return line_err(err, HPF_EINVAL, line, f->key, "bankfile.too_long",
                            "%s is %zu characters long, at most %u fit", f->label, n, f->max);
        for (size_t i = 0; i < n; i++)
            if (f->type == F_DIGITS ? !digit(s[i]) : !code_char(s[i]))
                return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s %s is not %s", f->label,
                                quote(q, s, n),
                                f->type == F_DIGITS ? "all digits"
                                                    : "made of letters, digits and . _ -");
        if (n < f->min)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s %s has %zu digits, not %u",
                            f->label, quote(q, s, n), n, f->min);
        return 0;
    case F_TEXT: {
        if (!hpf_text_ok(s, n, false))
            return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s holds a control character",
                            f->label);
        size_t k = utf8_chars(s, n);
        if (k > f->max)
            return line_err(err, HPF_EINVAL, line, f->key, "bankfile.too_long",
                            "%s is %zu characters long, at most %u fit", f->label, k, f->max);
        return 0;
    }
    case F_MONEY: {
        const char *rule, *why;
        hpf_fen x;
        if (money_read(&x, s, n, &rule, &why) < 0)
            return line_err(err, HPF_EINVAL, line, f->key, rule, "%s %s %s", f->label,
                            quote(q, s, n), why);
        if (!sign_ok(f->sign, x))
            return line_err(err, HPF_EINVAL, line, f->key, "bankfile.amount_sign", "%s %s %s",
                            f->label, quote(q, s, n), sign_words(f->sign));
        *v = x;
        return 0;
    }
    case F_DATE: {
        char buf[9];
        hpf_day d;
        if (n != 8)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s %s is not a date YYYYMMDD",
                            f->label, quote(q, s, n));
        memcpy(buf, s, 8);
        buf[8] = '\0';
        if (hpf_day_parse_compact(&d, buf) < 0)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule,
                            "%s %s is not a real date YYYYMMDD in 1900..9999", f->label,
                            quote(q, s, n));
        *v = d;
        return 0;
    }
    case F_TIME: {
        bool ok = n == 6;
        for (size_t i = 0; ok && i < 6; i++)
            ok = digit(s[i]);
        int h = ok ? (s[0] - '0') * 10 + (s[1] - '0') : 0;
        int m = ok ? (s[2] - '0') * 10 + (s[3] - '0') : 0;
        int sec = ok ? (s[4] - '0') * 10 + (s[5] - '0') : 0;
        if (!ok || h > 23 || m > 59 || sec > 59)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule,
                            "%s %s is not a time HHMMSS from 000000 to 235959", f->label,
                            quote(q, s, n));
        *v = h * 3600 + m * 60 + sec;
        return 0;
    }
    case F_ENUM:
        if (n != 1 || s[0] < '0' || s[0] > '0' + f->vmax)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s %s is not one of 0..%d",
                            f->label, quote(q, s, n), (int)f->vmax);
        *v = s[0] - '0';
        return 0;
    }
    return hpf_err_set(err, HPF_EINTERNAL, "unknown field type");
}

static const char *member_str(const void *rec, const field *f)
{
    const char *s;
    memcpy(&s, (const char *)rec + f->off, sizeof s);
    return s ? s : "";
}

static int64_t member_num(const void *rec, const field *f)
{
    const char *p = (const char *)rec + f->off;
    switch (f->type) {
    case F_SEQ:
    case F_MONEY: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case F_DATE:
    case F_TIME: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case F_ENUM: {
        int v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default:
        return 0;
    }
}

static bool member_has(const void *rec, const field *f)
{
    bool b = true;
    if (f->has_off >= 0)
        memcpy(&b, (const char *)rec + f->has_off, sizeof b);
    return b;
}

static void store(void *rec, const field *f, const char *s, size_t n, int64_t v, bool present,
                  hpf_arena *a)
{
    char *p = (char *)rec + f->off;
    switch (f->type) {
    case F_DIGITS:
    case F_CODE:
    case F_TEXT: {
        const char *str = "";
        if (n) {
            char *c = hpf_arena_alloc(a, n + 1);
            memcpy(c, s, n);
            c[n] = '\0';
            str = c;
        }
        memcpy(p, &str, sizeof str);
        return;
    }
    case F_SEQ:
    case F_MONEY:
        memcpy(p, &v, sizeof v);
        if (f->has_off >= 0)
            memcpy((char *)rec + f->has_off, &present, sizeof present);
        return;
    case F_DATE:
    case F_TIME: {
        int32_t x = (int32_t)v;
        memcpy(p, &x, sizeof x);
        return;
    }
    case F_ENUM: {
        int x = (int)v;
        memcpy(p, &x, sizeof x);
        return;
    }
    }
}

/* The checks across the fields of one record (numbers already read). */
static int record_check(const layout *L, const void *rec, uint32_t line, hpf_err *err)
{
    if (!is_payment(L->kind))
        return 0;
    const hpf_bankfile_payment *p = rec;
    if (p->seq != (int64_t)line)
        return line_err(err, HPF_EINVAL, line, "seq", "bankfile.seq_order",
                        "序号 is %lld on line %u; a batch numbers its lines 1..n",
                        (long long)p->seq, (unsigned)line);
    hpf_fen sum;
    if (hpf_money_add(&sum, p->principal, p->interest) < 0 || sum != p->amount) {
        char a[24], c[24], i[24];
        return line_err(err, HPF_EINVAL, line, "amount", "bankfile.sum",
                        "金额 %s is not 本金发生额 %s + 利息发生额 %s", hpf_money_fmt(a, p->amount),
                        hpf_money_fmt(c, p->principal), hpf_money_fmt(i, p->interest));
    }
    return 0;
}

/* A result names each payment once: seen[] has one bit per 序号. */
static bool seen_test_set(unsigned char *seen, int64_t seq)
{
    unsigned char bit = (unsigned char)(1u << (seq % 8));
    bool was = seen[seq / 8] & bit;
    seen[seq / 8] |= bit;
    return was;
}

/* ---- decoding ---- */

/* Offset of the first byte that is not part of valid UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF), or n. */
static size_t utf8_bad(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += k + 1;
    }
    return n;
}

/* GB18030 to UTF-8 into out (room for 2n + 4 bytes: a character grows by half at most). Returns
 * the UTF-8 length, or -1 with *bad the offset of the first byte that is no character. */
static long gb_decode(iconv_t cd, const char *in, size_t n, char *out, size_t cap, size_t *bad)
{
    char *ip = (char *)in, *op = out;
    size_t il = n, ol = cap;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
        *bad = (size_t)(ip - in);
        return -1;
    }
    return (long)(cap - ol);
}

/* ---- parsing ---- */

typedef struct span {
    const char *p;
    size_t n;
} span;

static void keep_error(hpf_bankfile_parsed *r, const hpf_err *e)
{
    if (r->nerrors < HPF_BANKFILE_MAX_ERRORS)
        r->errors[r->nerrors++] = *e;
    r->errors_total++;
}

/* Find sep in [p, end). */
static const char *find_sep(const char *p, const char *end, const layout *L)
{
    return memmem(p, (size_t)(end - p), L->sep, L->seplen);
}

/* Split one decoded line into its fields. */
static int split(const layout *L, const char *s, size_t n, uint32_t line, span *f, hpf_err *err)
{
    const char *end = s + n;
    if (L->trailing) {
        if (n < L->seplen || memcmp(end - L->seplen, L->sep, L->seplen) != 0)
            return line_err(err, HPF_EINVAL, line, NULL, "bankfile.trailing_separator",
                            "a %s line ends with the separator %s", L->name, L->sep);
        end -= L->seplen;
    }
    size_t k = 0;
    const char *p = s;
    for (;;) {
        const char *q = find_sep(p, end, L);
        if (k < MAX_FIELDS + 1)
            f[k] = (span){p, (size_t)((q ? q : end) - p)};
        k++;
        if (!q)
            break;
        p = q + L->seplen;
    }
    /* SBDC100 lines may end with a '|' after 册号, as the public implementation writes them. */
    if (!L->trailing && k == L->nfields + 1 && f[L->nfields].n == 0)
        k--;
    if (k != L->nfields)
        return line_err(err, HPF_EINVAL, line, NULL, "bankfile.fields",
                        "%zu fields, a %s line has %zu", k, L->name, L->nfields);
    return 0;
}

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 64;
    if (*cap > HPF_BANKFILE_MAX_LINES)
        *cap = HPF_BANKFILE_MAX_LINES;
    return hpf_xrealloc(arr, *cap * size);
}

void hpf_bankfile_parsed_free(hpf_bankfile_parsed *p)
{
    if (!p)
        return;
    free(p->notices);
    free(p->payments);
    free(p->outcomes);
    free(p->errors);
    hpf_arena_free(p->arena);
    free(p);
}

int hpf_bankfile_parse(hpf_bankfile_parsed **out, hpf_bankfile_kind kind, const void *data,
                       size_t len, hpf_bankfile_enc enc, hpf_err *err)
{
    *out = NULL;
    const layout *L = layout_of(kind);
    if (!L || (enc != HPF_BANKFILE_UTF8 && enc != HPF_BANKFILE_GB18030))
        return hpf_err_field(err, HPF_EINVAL, "", "bankfile.argument",
                             "unknown bank file kind %d or encoding %d", (int)kind, (int)enc);
    if (len > HPF_BANKFILE_MAX_BYTES)
        return hpf_err_field(err, HPF_ETOOBIG, "", "bankfile.too_big",
                             "the file has %zu bytes, at most %u are read", len,
                             HPF_BANKFILE_MAX_BYTES);
    const char *s = data ? data : "", *end = s + len;
    if (enc == HPF_BANKFILE_UTF8 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
        s += 3;
    if (s == end && is_payment(kind))
        return hpf_err_field(err, HPF_EINVAL, "/lines", "bankfile.empty",
                             "a batch payment file has at least one line");

    iconv_t cd = (iconv_t)-1;
    if (enc == HPF_BANKFILE_GB18030) {
        cd = iconv_open("UTF-8", "GB18030");
        if (cd == (iconv_t)-1)
            return hpf_err_set(err, HPF_EINTERNAL, "iconv cannot convert GB18030: %s",
                               strerror(errno));
    }
    hpf_bankfile_parsed *r = hpf_xcalloc(1, sizeof *r);
    r->kind = kind;
    r->arena = hpf_arena_new(64 * 1024);
    r->errors = hpf_xcalloc(HPF_BANKFILE_MAX_ERRORS, sizeof *r->errors);
    char *dec = enc == HPF_BANKFILE_GB18030 ? hpf_xmalloc(2 * HPF_BANKFILE_MAX_LINE + 4) : NULL;
    unsigned char *seen =
        kind == HPF_BANKFILE_RESULT ? hpf_xcalloc(HPF_BANKFILE_MAX_LINES / 8 + 1, 1) : NULL;
    char *recs = NULL;
    size_t cap = 0;
    int rc = 0;

    uint32_t line = 0;
    while (s < end) {
        if (line == HPF_BANKFILE_MAX_LINES) {
            rc = hpf_err_field(err, HPF_ETOOBIG, "/lines", "bankfile.too_many_lines",
                               "the file has more than %d lines", HPF_BANKFILE_MAX_LINES);
            goto done;
        }
        line++;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        const char *raw = s;
        size_t n = (size_t)(le - s);
        s = next;

        hpf_err e = HPF_ERR_INIT;
        if (n == 0) {
            line_err(&e, HPF_EINVAL, line, NULL, "bankfile.line_empty", "the line is empty");
            keep_error(r, &e);
            continue;
        }
        if (n > HPF_BANKFILE_MAX_LINE) {
            line_err(&e, HPF_EINVAL, line, NULL, "bankfile.line_too_long",
                     "the line has %zu bytes, at most %d fit", n, HPF_BANKFILE_MAX_LINE);
            keep_error(r, &e);
            continue;
        }
        /* Decode the whole line before splitting it: '|' (0x7c) and '@' (0x40) are also the
         * second byte of many GBK characters. LF and CR never are, so lines split safely. */
        const char *text = raw;
        size_t tn = n, bad = 0;
        if (enc == HPF_BANKFILE_GB18030) {
            long got = gb_decode(cd, raw, n, dec, 2 * HPF_BANKFILE_MAX_LINE + 4, &bad);
            if (got < 0) {
                line_err(&e, HPF_EINVAL, line, NULL, "bankfile.encoding",
                         "byte %zu (0x%02x) does not start a GB18030 character", bad + 1,
                         (unsigned char)raw[bad]);
                keep_error(r, &e);
                continue;
            }
            text = dec;
            tn = (size_t)got;
        } else if ((bad = utf8_bad((const unsigned char *)raw, n)) < n) {
            line_err(&e, HPF_EINVAL, line, NULL, "bankfile.encoding",
                     "byte %zu (0x%02x) is not valid UTF-8", bad + 1, (unsigned char)raw[bad]);
            keep_error(r, &e);
            continue;
        }

        span f[MAX_FIELDS + 1];
        if (split(L, text, tn, line, f, &e) < 0) {
            keep_error(r, &e);
            continue;
        }
        recs = grow(recs, &cap, r->n, L->size);
        void *rec = recs + r->n * L->size;
        memset(rec, 0, L->size);
        if (kind == HPF_BANKFILE_PAY_SAME) { /* the cross-bank columns, absent here */
            hpf_bankfile_payment *pay = rec;
            pay->payee_bank = pay->payee_branch_bank = pay->payee_address = "";
        }
        bool ok = true;
        for (size_t i = 0; ok && i < L->nfields; i++) {
            int64_t v;
            bool present;
            ok = field_check(&L->fields[i], f[i].p, f[i].n, line, &v, &present, &e) == 0;
            if (ok)
                store(rec, &L->fields[i], f[i].p, f[i].n, v, present, r->arena);
        }
        ok = ok && record_check(L, rec, line, &e) == 0;
        if (ok && seen && seen_test_set(seen, ((hpf_bankfile_outcome *)rec)->seq)) {
            line_err(&e, HPF_EINVAL, line, "seq", "bankfile.seq_duplicate",
                     "序号 %lld is on an earlier line too",
                     (long long)((hpf_bankfile_outcome *)rec)->seq);
            ok = false;
        }
        if (!ok) {
            keep_error(r, &e);
            continue;
        }
        memcpy(rec, &line, sizeof line); /* every record starts with its line number */
        r->n++;
    }
    r->lines = line;
    if (r->errors_total) {
        rc = HPF_EINVAL;
        if (err)
            *err = r->errors[0];
    }
done:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    free(dec);
    free(seen);
    if (rc < 0 && rc != HPF_EINVAL) {
        free(recs);
        hpf_bankfile_parsed_free(r);
        return rc;
    }
    if (kind == HPF_BANKFILE_NOTICE)
        r->notices = (hpf_bankfile_notice *)(void *)recs;
    else if (kind == HPF_BANKFILE_RESULT)
        r->outcomes = (hpf_bankfile_outcome *)(void *)recs;
    else
        r->payments = (hpf_bankfile_payment *)(void *)recs;
    *out = r;
    return rc;
}

/* ---- writing ---- */

/* Format one member as the text the file carries (into scratch for numbers). Values the file
 * cannot carry are refused here before formatting (a day outside 1900..9999 would not even
 * format safely); the text then goes through field_check like a parsed one. */
static int field_text(const field *f, const void *rec, uint32_t line, char scratch[static 32],
                      const char **s, size_t *n, hpf_err *err)
{
    int64_t v = member_num(rec, f);
    switch (f->type) {
    case F_DIGITS:
    case F_CODE:
    case F_TEXT:
        *s = member_str(rec, f);
        *n = strlen(*s);
        return 0;
    case F_SEQ:
        snprintf(scratch, 32, "%lld", (long long)v);
        break;
    case F_MONEY:
        if (!member_has(rec, f))
            scratch[0] = '\0';
        else
            hpf_money_fmt(scratch, v);
        break;
    case F_DATE:
        if (v < day_min() || v > day_max())
            return line_err(err, HPF_EINVAL, line, f->key, f->rule,
                            "%s (day %lld) is outside 1900..9999", f->label, (long long)v);
        hpf_day_fmt_compact(scratch, (hpf_day)v);
        break;
    case F_TIME:
        if (v < 0 || v >= 86400)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule,
                            "%s %lld is not a second of a day", f->label, (long long)v);
        snprintf(scratch, 32, "%02d%02d%02d", (int)(v / 3600), (int)(v / 60 % 60), (int)(v % 60));
        break;
    case F_ENUM:
        if (v < 0 || v > f->vmax)
            return line_err(err, HPF_EINVAL, line, f->key, f->rule, "%s %lld is not one of 0..%d",
                            f->label, (long long)v, (int)f->vmax);
        scratch[0] = (char)('0' + v);
        scratch[1] = '\0';
        break;
    }
    *s = scratch;
    *n = strlen(scratch);
    return 0;
}

/* UTF-8 to GB18030 into out (room for 2n + 4 bytes). Returns the length or -1 (a character
 * GB18030 cannot carry: glibc maps a few private-use code points to nothing). */
static long gb_encode(iconv_t cd, const char *in, size_t n, char *out, size_t cap)
{
    char *ip = (char *)in, *op = out;
    size_t il = n, ol = cap;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
        return -1;
    return (long)(cap - ol);
}

static int write_file(hpf_buf *out, const layout *L, const void *rows, size_t n,
                      hpf_bankfile_enc enc, hpf_bankfile_eol eol, hpf_err *err)
{
    if (enc != HPF_BANKFILE_UTF8 && enc != HPF_BANKFILE_GB18030)
        return hpf_err_field(err, HPF_EINVAL, "", "bankfile.argument", "unknown encoding %d",
                             (int)enc);
    if (n == 0 && is_payment(L->kind))
        return hpf_err_field(err, HPF_EINVAL, "/lines", "bankfile.empty",
                             "a batch payment file has at least one line");
    if (n > HPF_BANKFILE_MAX_LINES)
        return hpf_err_field(err, HPF_ETOOBIG, "/lines", "bankfile.too_many_lines",
                             "%zu lines, a file has at most %d", n, HPF_BANKFILE_MAX_LINES);
    iconv_t cd = (iconv_t)-1;
    if (enc == HPF_BANKFILE_GB18030) {
        cd = iconv_open("GB18030", "UTF-8");
        if (cd == (iconv_t)-1)
            return hpf_err_set(err, HPF_EINTERNAL, "iconv cannot convert to GB18030: %s",
                               strerror(errno));
    }
    unsigned char *seen =
        L->kind == HPF_BANKFILE_RESULT ? hpf_xcalloc(HPF_BANKFILE_MAX_LINES / 8 + 1, 1) : NULL;
    const char *eols = eol == HPF_BANKFILE_CRLF ? "\r\n" : "\n";
    size_t start = out->len;
    hpf_buf ln = HPF_BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        const void *rec = (const char *)rows + i * L->size;
        uint32_t line = (uint32_t)(i + 1);
        hpf_buf_reset(&ln);
        for (size_t k = 0; k < L->nfields; k++) {
            const field *f = &L->fields[k];
            char scratch[32], q[40];
            const char *s = NULL;
            size_t sn = 0;
            int64_t v;
            bool present;
            if ((rc = field_text(f, rec, line, scratch, &s, &sn, err)) < 0 ||
                (rc = field_check(f, s, sn, line, &v, &present, err)) < 0)
                goto done;
            if (memmem(s, sn, L->sep, L->seplen)) {
                rc = line_err(err, HPF_EINVAL, line, f->key, "bankfile.separator",
                              "%s holds the separator %s, which the file cannot carry", f->label,
                              L->sep);
                goto done;
            }
            /* field_check accepted the text: at most 100 characters, so 400 bytes of UTF-8. */
            char enc_buf[1024];
            if (cd != (iconv_t)-1) {
                long got = gb_encode(cd, s, sn, enc_buf, sizeof enc_buf);
                if (got < 0) {
                    rc = line_err(err, HPF_EINVAL, line, f->key, "bankfile.encoding",
                                  "%s %s has a character GB18030 cannot carry", f->label,
                                  quote(q, s, sn));
                    goto done;
                }
                s = enc_buf;
                sn = (size_t)got;
            }
            hpf_buf_add(&ln, s, sn);
            if (L->trailing || k + 1 < L->nfields)
                hpf_buf_add(&ln, L->sep, L->seplen);
        }
        if ((rc = record_check(L, rec, line, err)) < 0)
            goto done;
        if (seen) {
            int64_t seq = ((const hpf_bankfile_outcome *)rec)->seq;
            if (seen_test_set(seen, seq)) {
                rc = line_err(err, HPF_EINVAL, line, "seq", "bankfile.seq_duplicate",
                              "序号 %lld is on an earlier line too", (long long)seq);
                goto done;
            }
        }
        if (ln.len > HPF_BANKFILE_MAX_LINE) {
            rc = line_err(err, HPF_ETOOBIG, line, NULL, "bankfile.line_too_long",
                          "the line has %zu bytes, at most %d fit", ln.len, HPF_BANKFILE_MAX_LINE);
            goto done;
        }
        if (out->len - start + ln.len + strlen(eols) > HPF_BANKFILE_MAX_BYTES) {
            rc = hpf_err_field(err, HPF_ETOOBIG, "", "bankfile.too_big",
                               "the file would pass %u bytes", HPF_BANKFILE_MAX_BYTES);
            goto done;
        }
        if ((rc = hpf_buf_add(out, ln.data, ln.len)) < 0 || (rc = hpf_buf_adds(out, eols)) < 0) {
            hpf_err_field(err, rc, "", "bankfile.too_big", "the output buffer is full");
            goto done;
        }
    }
done:
    if (rc < 0 && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    hpf_buf_cleanup(&ln);
    free(seen);
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    return rc;
}

int hpf_bankfile_write_notices(hpf_buf *out, const hpf_bankfile_notice *rows, size_t n,
                               hpf_bankfile_enc enc, hpf_bankfile_eol eol, hpf_err *err)
{
    return write_file(out, layout_of(HPF_BANKFILE_NOTICE), rows, n, enc, eol, err);
}

int hpf_bankfile_write_payments(hpf_buf *out, hpf_bankfile_kind kind,
                                const hpf_bankfile_payment *rows, size_t n, hpf_bankfile_enc enc,
                                hpf_bankfile_eol eol, hpf_err *err)
{
    if (!is_payment(kind))
        return hpf_err_field(err, HPF_EINVAL, "", "bankfile.argument",
                             "kind %d is no batch payment layout", (int)kind);
    if (kind == HPF_BANKFILE_PAY_SAME)
        for (size_t i = 0; i < n; i++) {
            const hpf_bankfile_payment *p = &rows[i];
            const char *key = p->payee_bank && *p->payee_bank                 ? "payee_bank"
                              : p->payee_branch_bank && *p->payee_branch_bank ? "payee_branch_bank"
                              : p->payee_address && *p->payee_address         ? "payee_address"
                                                                              : NULL;
            if (key)
                return line_err(err, HPF_EINVAL, (uint32_t)(i + 1), key, "bankfile.not_in_layout",
                                "a same-bank batch has no %s column; use the cross-bank layout",
                                key);
        }
    return write_file(out, layout_of(kind), rows, n, enc, eol, err);
}

int hpf_bankfile_write_outcomes(hpf_buf *out, const hpf_bankfile_outcome *rows, size_t n,
                                hpf_bankfile_enc enc, hpf_bankfile_eol eol, hpf_err *err)
{
    return write_file(out, layout_of(HPF_BANKFILE_RESULT), rows, n, enc, eol, err);
}
