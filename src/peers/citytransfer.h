/*
 * peers/citytransfer: the messages of the national transfer platform (异地转移接续, RULES 1.6),
 * reached through the bank-settlement data system as BDC9xx transactions. The platform's real
 * wire format is not in RULES; this is our assumption, documented in docs/internals/
 * citytransfer.md: one JSON object per transaction, POSTed through peers/transport to peer
 * "citytransfer" (POST /citytransfer/v1/messages), its members named after the BDC fields.
 *
 *   BDC901 单笔转入申请 (a contact letter, 联系函): {"TxCode": "BDC901", "TxFunc": "0",
 * "ContactNo", "InCenterCode", "OutCenterCode", "Name", "CertType", "CertNo", "OrUnitName",
 *          "OrAcctNo", "InAcctNo"}
 *   BDC903 转入申请撤销: {"TxCode": "BDC903", "ContactNo", "Reason"}
 *   BDC904 progress query: {"TxCode": "BDC904", "ContactNo"}
 *   BDC905 单笔转出信息: {"TxCode": "BDC905", "TxFunc", "ContactNo", "Name", "CertType", "CertNo",
 *          "OrAcctNo", "TranAmt", "OrAcctAmt", "Yinter", "OAcctDate", "PayEndDate",
 *          "SixMconFlag", "LoanNum", "LoanEndFlag", "FrLoanFlag", "ContPhone", "TranRstCode"}
 *   BDC902 / BDC906 (batches): {"TxCode": "BDC902" | "BDC906", "Items": [single forms]}
 *   answer (to any of them): {"TxCode": the request's, "RstCode": "0" (taken) | "1" (refused),
 *          "RstMsg", "ContactNo", "FlowState": workflow code of RULES 1.6 item 6, and for
 *          901 / 904 when the sending centre has transferred: "Transfer": a BDC905 object}
 *
 * Money travels as decimal yuan strings ("1234.56"), dates as YYYYMM, flags as "1" / "2".
 * Formats only: which state follows from an answer is the service's business.
 */
#ifndef HPF_PEERS_CITYTRANSFER_H
#define HPF_PEERS_CITYTRANSFER_H

#include "base/date.h"
#include "base/err.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_CT_PEER       "citytransfer"
#define HPF_CT_LETTER_LEN 16 /* institution code (6) + YYMMDD + 4-digit sequence */
#define HPF_CT_NAME_MAX   120
#define HPF_CT_TEXT_MAX   200
#define HPF_CT_BATCH_MAX  500 /* items of one BDC902 / BDC906 */

/* Workflow states of a transfer (RULES 1.6 item 6). */
#define HPF_CT_LETTER_PASSED   "01" /* 联系函复核通过 */
#define HPF_CT_LETTER_ACCEPTED "02" /* 联系函确认接收 */
#define HPF_CT_INFO_PASSED     "08" /* 账户信息复核通过 */
#define HPF_CT_DONE            "00" /* 正常办结 */
#define HPF_CT_NEGOTIATING     "06" /* 协商中 */
#define HPF_CT_NEGOTIATED      "20" /* 协商后业务办结 */
#define HPF_CT_CANCELLED       "05" /* 转入撤销业务办结 */
#define HPF_CT_OUT_REFUSED     "13" /* 转出审核不通过 */
#define HPF_CT_OUT_FAILED      "40" /* 转出失败业务办结 */

/* The Chinese name of a workflow code, or NULL for a code that is not one of RULES 1.6. */
const char *hpf_ct_state_name(const char *code);

/* The letter number: institution code (6 digits) + YYMMDD of `day` + `seq` as 4 digits, into
 * out. Returns 0, or HPF_EINVAL (rule citytransfer.letter_no) for an institution code that is
 * not 6 digits, a day outside 2000..2099 or seq outside 1..9999. */
int hpf_ct_letter_no(char out[HPF_CT_LETTER_LEN + 1], const char *institution, hpf_day day,
                     int64_t seq, hpf_err *err);
/* True when s is a letter number of that shape (the date part a real date). */
bool hpf_ct_letter_valid(const char *s);

/* BDC901: the receiving centre's contact letter. */
typedef struct hpf_ct_apply {
    const char *tx_func;    /* "0" new, "1" the sending centre confirms acceptance */
    const char *contact_no; /* the letter number */
    const char *in_centre;  /* 6-digit institution code of the receiving centre */
    const char *out_centre; /* of the sending centre */
    const char *name;       /* 1..HPF_CT_NAME_MAX bytes */
    const char *cert_type; /* 01 身份证, 02 军官证, 03 护照, 04 外国人永久居留证, 99 其他 */
    const char *cert_no; /* 1..32 of A-Z a-z 0-9 */
    const char *or_unit; /* the former employer's name, 1..HPF_CT_NAME_MAX bytes */
    const char *or_acct; /* the former 公积金 account at the sending centre, 1..32 */
    const char *in_acct; /* the account at the receiving centre (GRZH), 1..32 */
} hpf_ct_apply;

/* BDC905: the sending centre's transfer-out information. */
typedef struct hpf_ct_out {
    char tx_func[2]; /* "0" new, "1" modify (negotiation), "2" receiving centre confirms */
    char contact_no[HPF_CT_LETTER_LEN + 1];
    char name[HPF_CT_NAME_MAX + 1];
    char cert_type[3];
    char cert_no[33];
    char or_acct[33];
    hpf_fen tran_amt;    /* TranAmt = OrAcctAmt + Yinter */
    hpf_fen principal;   /* OrAcctAmt 本金 */
    hpf_fen interest;    /* Yinter 利息 */
    hpf_month o_acct;    /* OAcctDate: month the account was opened at the sending centre */
    hpf_month pay_end;   /* PayEndDate 缴至年月 */
    int six_mcon;        /* SixMconFlag: 1 the six months before PayEndDate continuous, 2 not */
    int loan_num;        /* LoanNum: 公积金 loans taken at the sending centre, 0..99 */
    int loan_end;        /* LoanEndFlag: 1 an unsettled 公积金 loan, 2 none */
    int fr_loan;         /* FrLoanFlag: 1 a fraudulent withdrawal or loan, 2 none */
    char cont_phone[21]; /* the sending centre's contact phone, "" when none */
    char rst_code[2];    /* TranRstCode: "0" done, "1" failed, "2" in progress */
} hpf_ct_out;

/* The platform's answer to one message. */
typedef struct hpf_ct_reply {
    char tx_code[8];  /* the request's TxCode */
    char rst_code[2]; /* "0" taken, "1" refused */
    char rst_msg[HPF_CT_TEXT_MAX + 1];
    char contact_no[HPF_CT_LETTER_LEN + 1];
    char flow_state[3]; /* a RULES 1.6 workflow code */
    bool has_transfer;
    hpf_ct_out transfer; /* when has_transfer */
} hpf_ct_reply;

/* Build the bodies (malloc'd JSON text; free() it). Each returns 0 or HPF_EINVAL naming the
 * field (rule citytransfer.<field>) when a value breaks its shape. */
int hpf_ct_apply_message(char **out, const hpf_ct_apply *a, hpf_err *err);
int hpf_ct_cancel_message(char **out, const char *contact_no, const char *reason, hpf_err *err);
int hpf_ct_query_message(char **out, const char *contact_no, hpf_err *err);
int hpf_ct_out_message(char **out, const hpf_ct_out *o, hpf_err *err);

/* Read a BDC905 object (its JSON text). Checks every field's shape and TranAmt = OrAcctAmt +
 * Yinter. Returns 0 or HPF_EINVAL (rule citytransfer.reply, the message naming the field). */
int hpf_ct_out_parse(hpf_ct_out *out, const char *json, hpf_err *err);
/* Read a BDC906: *items (malloc'd; free()) receives the transfers, *n their count (at most
 * HPF_CT_BATCH_MAX). Returns 0 or HPF_EINVAL as hpf_ct_out_parse, naming the item. */
int hpf_ct_out_batch_parse(hpf_ct_out **items, size_t *n, const char *json, hpf_err *err);
/* Read the platform's answer. Returns 0 or HPF_EINVAL (rule citytransfer.reply). */
int hpf_ct_reply_parse(hpf_ct_reply *out, const char *json, hpf_err *err);

#endif
