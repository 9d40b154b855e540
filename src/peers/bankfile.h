/*
 * peers/bankfile: the file formats of the bank settlement interface (RULES §6.3), bytes in and
 * typed records out, and back again:
 *
 *   HPF_BANKFILE_NOTICE      SBDC100 账户变动通知 (also the BDC113 detail download): one bank
 *                            transaction per line, 23 fields separated by '|'
 *   HPF_BANKFILE_PAY_SAME    BDC103 批量付款, same-bank layout: 10 fields, each followed by the
 *                            literal separator "@|$" (so every line ends with one)
 *   HPF_BANKFILE_PAY_CROSS   BDC103 批量付款, cross-bank and mixed layout: 13 fields (three more
 *                            after 收方户名; our assumption, see docs/internals/bankfile.md)
 *   HPF_BANKFILE_RESULT      BDC107/108 batch result download: 5 fields in the "@|$" style (our
 *                            assumption, RULES fixes no layout)
 *
 * Message formats only: no business rule lives here (no matching to remittances, no postings,
 * no channel limits). A value is refused only when the format cannot carry it: a malformed
 * number or date, a wrong field count, text too long for its column, a batch whose 序号 does
 * not run 1..n or whose 金额 is not 本金发生额 + 利息发生额.
 *
 * Text comes in as UTF-8 or GB18030 (GBK is a subset), converted with glibc iconv; inside the
 * program every string is UTF-8. Lines end in LF or CRLF. Money is int64_t fen, read from yuan
 * with at most two decimals and written with exactly two. The full layouts, which parts are
 * RULES and which are ours, and the limits are in docs/internals/bankfile.md.
 *
 * Errors are hpf_err values with a field pointer "/lines/N/KEY", N the 1-based line number of
 * the file and KEY the ASCII key of the field named in the record structs below ("/lines/N" for
 * a fault of the whole line, "" or "/lines" for the whole file), and a stable rule "bankfile.*".
 */
#ifndef HPF_PEERS_BANKFILE_H
#define HPF_PEERS_BANKFILE_H

#include "base/buf.h"
#include "base/date.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_BANKFILE_MAX_BYTES  (32u * 1024 * 1024) /* one file, as sent */
#define HPF_BANKFILE_MAX_LINES  100000              /* lines of one file */
#define HPF_BANKFILE_MAX_LINE   4096                /* bytes of one line, without its end */
#define HPF_BANKFILE_MAX_ERRORS 100                 /* line errors kept by one parse */

typedef enum hpf_bankfile_kind {
    HPF_BANKFILE_NOTICE = 1,
    HPF_BANKFILE_PAY_SAME = 2,
    HPF_BANKFILE_PAY_CROSS = 3,
    HPF_BANKFILE_RESULT = 4,
} hpf_bankfile_kind;

typedef enum hpf_bankfile_enc {
    HPF_BANKFILE_UTF8 = 0,
    HPF_BANKFILE_GB18030 = 1,
} hpf_bankfile_enc;

typedef enum hpf_bankfile_eol {
    HPF_BANKFILE_LF = 0,
    HPF_BANKFILE_CRLF = 1,
} hpf_bankfile_eol;

/* 冲正标识 of a notice line, written as the digit of its value. */
typedef enum hpf_bankfile_reversal {
    HPF_BANKFILE_REV_NORMAL = 0,   /* '0' 正常 */
    HPF_BANKFILE_REV_REVERSAL = 1, /* '1' 冲正: this line reverses an earlier one */
    HPF_BANKFILE_REV_REVERSED = 2, /* '2' 被冲正: this line was reversed later */
} hpf_bankfile_reversal;

/* TranRstCode of a batch result line (RULES §6.3), written as the digit of its value. */
typedef enum hpf_bankfile_tran {
    HPF_BANKFILE_TRAN_DONE = 0,    /* 已完成 */
    HPF_BANKFILE_TRAN_FAILED = 1,  /* 失败 */
    HPF_BANKFILE_TRAN_PENDING = 2, /* 处理中 */
} hpf_bankfile_tran;

/*
 * One SBDC100 line. Strings are UTF-8, never NULL after a parse ("" for an empty optional
 * field); a writer takes NULL as "". Lengths are in characters for text, in bytes otherwise.
 * Debit or credit is the sign of `amount`: positive money came into `account` (贷, credit),
 * negative money left it (借, debit); zero and "-0" are refused. tx_code stays the bank's
 * opaque code. The three balances may be empty (has_* false) and may be negative.
 */
typedef struct hpf_bankfile_notice {
    uint32_t line;            /* 1-based line of the file it came from (parse only) */
    int64_t seq;              /* seq 序号: 1..10^18-1, no leading zero */
    const char *account;      /* account 账号: 1..32 digits */
    const char *host_serial;  /* host_serial 银行主机流水号: 1..32 code characters */
    const char *tx_code;      /* tx_code 交易代码: 1..16 code characters */
    const char *peer_account; /* peer_account 交易对手账号: 0..32 code characters */
    const char *peer_name;    /* peer_name 交易对手户名: 0..60 characters */
    hpf_fen amount;           /* amount 金额: signed, not 0 */
    hpf_day date;             /* date 交易日期: YYYYMMDD */
    int32_t time;             /* time 交易时间: HHMMSS, as seconds since midnight */
    bool has_available;       /* available 可用金额 */
    hpf_fen available;
    const char *open_branch; /* open_branch 开户机构号: 0..20 code characters */
    const char *remark;      /* remark 备注: 0..100 characters */
    const char *currency;    /* currency 币别: 0..8 code characters */
    const char *cash_remit;  /* cash_remit 钞汇: 0..4 code characters */
    bool has_balance;        /* balance 余额 */
    hpf_fen balance;
    bool has_overdraft; /* overdraft 可透支余额 */
    hpf_fen overdraft;
    const char *voucher_type;       /* voucher_type 凭证种类: 0..8 code characters */
    const char *voucher_no;         /* voucher_no 凭证号码: 0..32 code characters */
    const char *peer_bank;          /* peer_bank 交易对手行号: 0..20 code characters */
    const char *summary;            /* summary 摘要: 0..100 characters */
    hpf_bankfile_reversal reversal; /* reversal 冲正标识: '0', '1' or '2' */
    const char *item_no;            /* item_no 笔号: 0..16 code characters */
    const char *book_no;            /* book_no 册号: 0..16 code characters */
} hpf_bankfile_notice;

/*
 * One BDC103 batch payment line. seq must be the line number (序号 runs 1..n); amount > 0 and
 * amount == principal + interest, both >= 0 (an empty 利息发生额 reads as 0). The payee_bank,
 * payee_branch_bank and payee_address columns exist only in the cross-bank layout: "" after a
 * same-bank parse, and a same-bank writer refuses them when not empty.
 */
typedef struct hpf_bankfile_payment {
    uint32_t line;                 /* 1-based line (parse only) */
    int64_t seq;                   /* seq 序号 */
    hpf_fen amount;                /* amount 金额 */
    const char *payee_account;     /* payee_account 收方账户: 1..32 digits */
    const char *payee_name;        /* payee_name 收方户名: 1..60 characters */
    const char *payee_bank;        /* payee_bank 收方账户联行号: 12 digits (cross only) */
    const char *payee_branch_bank; /* payee_branch_bank 收款人开户行联行号: "" or 12 digits */
    const char *payee_address;     /* payee_address 收款人地址: 0..100 characters */
    const char *summary;           /* summary 摘要: 1..100 characters */
    const char *ref_account;       /* ref_account 业务明细账号: 0..32 code characters */
    const char *ref_serial1;       /* ref_serial1 业务明细流水号1: 1..32 code characters */
    const char *ref_serial2;       /* ref_serial2 业务明细流水号2: 0..32 code characters */
    hpf_fen principal;             /* principal 本金发生额 */
    hpf_fen interest;              /* interest 利息发生额 */
} hpf_bankfile_payment;

/* One batch result line: which payment (by 序号, unique in the file), its amount and payee as
 * the bank echoes them, the TranRstCode and the bank's message. */
typedef struct hpf_bankfile_outcome {
    uint32_t line;             /* 1-based line (parse only) */
    int64_t seq;               /* seq 序号: 1..HPF_BANKFILE_MAX_LINES */
    hpf_fen amount;            /* amount 金额: > 0 */
    const char *payee_account; /* payee_account 收方账户: 1..32 digits */
    hpf_bankfile_tran result;  /* result 处理结果: '0', '1' or '2' */
    const char *message;       /* message 响应信息: 0..100 characters */
} hpf_bankfile_outcome;

/* What a parse found: the records of the good lines in file order (the array of the kind parsed;
 * the others are NULL) and the line errors, the first HPF_BANKFILE_MAX_ERRORS of them kept in
 * line order. Free with hpf_bankfile_parsed_free. */
typedef struct hpf_bankfile_parsed {
    hpf_bankfile_kind kind;
    size_t lines; /* lines in the file */
    size_t n;     /* records, one per good line */
    hpf_bankfile_notice *notices;
    hpf_bankfile_payment *payments;
    hpf_bankfile_outcome *outcomes;
    size_t nerrors;      /* errors kept in errors[] */
    size_t errors_total; /* line errors found, also those not kept */
    hpf_err *errors;
    hpf_arena *arena; /* owns the strings */
} hpf_bankfile_parsed;

/*
 * Parse `len` bytes of a file of `kind` sent in `enc` (`data` may be NULL when `len` is 0; the
 * bytes are borrowed, the result copies what it keeps). Each line is decoded and checked on its
 * own, and a bad line (the first fault found in it) is recorded and skipped, so one parse
 * reports up to HPF_BANKFILE_MAX_ERRORS faults. A UTF-8 byte order mark at the start is skipped;
 * an empty line (also a blank last line) is an error.
 *
 * Returns 0 (every line good), HPF_EINVAL (one or more line errors: err is the first, *out holds
 * the good records and the errors), or a fault of the whole file with *out NULL: HPF_ETOOBIG
 * (bankfile.too_big over HPF_BANKFILE_MAX_BYTES, bankfile.too_many_lines over
 * HPF_BANKFILE_MAX_LINES), HPF_EINVAL (bankfile.empty: a payment file without lines;
 * bankfile.argument: an unknown kind or encoding), HPF_EINTERNAL (iconv cannot be opened).
 * The records and strings in *out belong to it; the caller frees it, also after HPF_EINVAL.
 * Whether the good lines of a file with errors may be used is the caller's rule.
 */
int hpf_bankfile_parse(hpf_bankfile_parsed **out, hpf_bankfile_kind kind, const void *data,
                       size_t len, hpf_bankfile_enc enc, hpf_err *err);

/* Free a parse result. Accepts NULL. */
void hpf_bankfile_parsed_free(hpf_bankfile_parsed *p);

/*
 * Append a whole file to `out`: the records in order, one line each, in `enc` with `eol` after
 * every line. Every field is checked by the same rules as the parser (the `line` members are
 * ignored; a payment's seq must be its index + 1), and text may not hold the separator of its
 * layout, so what is written parses back to the same records. Returns 0, HPF_EINVAL naming
 * "/lines/N/KEY" and a bankfile.* rule (bankfile.encoding: a character GB18030 cannot carry;
 * bankfile.empty: no payment), or HPF_ETOOBIG (bankfile.too_many_lines, bankfile.too_big,
 * bankfile.line_too_long). On error `out` keeps its earlier length.
 */
int hpf_bankfile_write_notices(hpf_buf *out, const hpf_bankfile_notice *rows, size_t n,
                               hpf_bankfile_enc enc, hpf_bankfile_eol eol, hpf_err *err);
/* kind: HPF_BANKFILE_PAY_SAME or HPF_BANKFILE_PAY_CROSS. */
int hpf_bankfile_write_payments(hpf_buf *out, hpf_bankfile_kind kind,
                                const hpf_bankfile_payment *rows, size_t n, hpf_bankfile_enc enc,
                                hpf_bankfile_eol eol, hpf_err *err);
int hpf_bankfile_write_outcomes(hpf_buf *out, const hpf_bankfile_outcome *rows, size_t n,
                                hpf_bankfile_enc enc, hpf_bankfile_eol eol, hpf_err *err);

#endif
