/* trust/audit: the audit hash chain, its appends and its verifier (see audit.h). */
#include "trust/audit.h"

#include "base/buf.h"
#include "base/mem.h"
#include "base/rand.h"
#include "http/server.h"
#include "trust/digest.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ZERO_HASH  "0000000000000000000000000000000000000000000000000000000000000000"
#define ENTRY_TAG  "hpf-audit/1"
#define GENESIS    "audit.genesis"
#define PAGE_ROWS  20000        /* rows per page of a verifier stream (PostgreSQL holds a page) */
#define FLUSH_AT   (256u << 10) /* hash a postings buffer once it is this long */
#define SHOW_BYTES 48           /* a field value shown in a message is cut to this */

/* ---- canonical bytes ----
 * Fields are joined by '|'. Text is copied with '\', '|', ';', ',' escaped by a '\' and other
 * bytes below 0x20 (and 0x7f) written as \xHH, so that any field sequence has exactly one
 * encoding. Integers and amounts (fen) are decimal; dates YYYYMMDD; months yyyymm; NULL and
 * "none" are empty. Personal identifiers are never written in clear: a member's resident ID and
 * phone as "bidx:" + their stored blind index (keyed HMAC-SM3, trust/fieldcrypt.h), a member's
 * login name as stored ("m:" + the blind index). Before schema 4 they were "sm3:" + SM3 of
 * "hpf-pii/1|" + value (unkeyed: member/1); that form is still computed for the password hash,
 * and for a record's clear values only while the upgrade re-snapshots it. */

typedef struct canon {
    hpf_buf *b;
    hpf_sm3 *sm3;              /* for the personal-field digests */
    int64_t bytes;             /* bytes hashed */
    const char *const *legacy; /* a member's clear resident ID and phone: the member/1 form */
    bool before_branch;        /* the employer/1 and user/1 forms, which had no branch */
} canon;

static void put(hpf_buf *b, const char *s, size_t n)
{
    /* The buffers hold one entry or one page of postings; a field the database inflated past
     * the 64 MiB cap is cut, which makes the payload differ, which is what it should do. */
    (void)hpf_buf_add(b, s, n);
}

static void put_sep(hpf_buf *b)
{
    put(b, "|", 1);
}

static void put_text(hpf_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != 0x7f && c != '\\' && c != '|' && c != ';' && c != ',')
            continue;
        put(b, run, (size_t)(p - run));
        char esc[5] = {'\\', (char)c, 0, 0, 0};
        size_t n = 2;
        if (c < 0x20 || c == 0x7f) {
            static const char hx[] = "0123456789abcdef";
            esc[1] = 'x';
            esc[2] = hx[c >> 4];
            esc[3] = hx[c & 15];
            n = 4;
        }
        put(b, esc, n);
        run = p + 1;
    }
    put(b, run, strlen(run));
}

void hpf_audit_put_text(hpf_buf *b, const char *s)
{
    put_text(b, s);
}

static char *digits(char tmp[24], int64_t v);

static void put_i64(hpf_buf *b, int64_t v)
{
    char tmp[24], *d = digits(tmp, v);
    put(b, d, (size_t)(tmp + sizeof tmp - d));
}

/* A stored 'YYYY-MM-DD' as YYYYMMDD; "" stays ""; any other text is kept, marked by a leading
 * '?', so that the mapping stays one-to-one (a forged date never reads as another). */
static void put_date(hpf_buf *b, const char *s)
{
    if (!*s)
        return;
    static const char shape[] = "DDDD-DD-DD";
    size_t i = 0;
    for (; shape[i] && s[i]; i++)
        if (shape[i] == 'D' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
            break;
    if (!shape[i] && !s[i]) {
        char out[8] = {s[0], s[1], s[2], s[3], s[5], s[6], s[8], s[9]};
        put(b, out, 8);
        return;
    }
    put(b, "?", 1);
    put_text(b, s);
}

static void put_pii(canon *c, const char *s)
{
    if (!*s)
        return;
    unsigned char md[HPF_SM3_LEN];
    char hex[2 * HPF_SM3_LEN + 1];
    size_t n = strlen(s);
    hpf_sm3_update(c->sm3, "hpf-pii/1|", 10);
    hpf_sm3_update(c->sm3, s, n);
    hpf_sm3_final(c->sm3, md);
    c->bytes += (int64_t)n + 10;
    put(c->b, "sm3:", 4);
    put(c->b, hpf_hex(hex, md, sizeof md), 2 * HPF_SM3_LEN);
}

#define TXT(col)  put_text(c->b, hpf_stmt_text(st, (col)))
#define I64(col)  put_i64(c->b, hpf_stmt_i64(st, (col)))
#define DATE(col) put_date(c->b, hpf_stmt_text(st, (col)))
#define PII(col)  put_pii(c, hpf_stmt_text(st, (col)))
#define BIDX(col) put_bidx(c, hpf_stmt_text(st, (col)))
#define SEP       put_sep(c->b)

/* A stored blind index (64 hex; empty stays empty). It stays the same when the field keys are
 * rotated: the blind-index key is never rotated (docs/internals/crypto.md). */
static void put_bidx(canon *c, const char *s)
{
    if (!*s)
        return;
    put(c->b, "bidx:", 5);
    put_text(c->b, s);
}

/* ---- the audited records ----
 * Each type reads its rows with one column list (column 0 is the id) for the append (one row)
 * and for the verifier (pages in id order), so both build the payload from the same columns.
 * The payload holds the facts of the record, not running figures derived from audited history
 * (balances and paid-through months are checked against postings by `hpf verify`). */

#define EMPLOYER_SEL                                                                               \
    "SELECT id, account_no, name, uscc, unit_ratio_bp, indiv_ratio_bp, opened_on, state, branch"   \
    " FROM employer "

/* employer/2 adds the branch (schema 9), which decides who may see and act on the employer's
 * cases. A snapshot taken in the employer/1 form is compared in that form. */
static void canon_employer(canon *c, hpf_stmt *st)
{
    put(c->b, c->before_branch ? "employer/1" : "employer/2", 10);
    SEP, TXT(1), SEP, TXT(2), SEP, TXT(3), SEP, I64(4), SEP, I64(5), SEP, DATE(6), SEP, TXT(7);
    if (!c->before_branch)
        SEP, TXT(8);
}

#define MEMBER_SEL                                                                                 \
    "SELECT m.id, m.account_no, COALESCE(e.account_no, ''), m.name, m.id_type,"                    \
    " COALESCE(m.id_number_bidx, ''), COALESCE(m.phone_bidx, ''), m.wage, m.state, m.opened_on,"   \
    " COALESCE(m.closed_on, '') FROM member m LEFT JOIN employer e ON e.id = m.employer_id "

/* member/2 holds the blind indexes, not the ciphertexts: a snapshot must survive a rotation of
 * the field keys, which rewrites every ciphertext. That a ciphertext matches its blind index is
 * checked by `hpf keys status`, which holds the keys. */
static void canon_member(canon *c, hpf_stmt *st)
{
    put(c->b, c->legacy ? "member/1" : "member/2", 8);
    SEP, TXT(1), SEP, TXT(2), SEP, TXT(3), SEP, TXT(4), SEP;
    if (c->legacy) /* the form before schema 4, from the clear values the upgrade holds */
        put_pii(c, c->legacy[0]), SEP, put_pii(c, c->legacy[1]);
    else
        BIDX(5), SEP, BIDX(6);
    SEP, I64(7), SEP, TXT(8), SEP, DATE(9), SEP, DATE(10);
}

#define USER_SEL                                                                                   \
    "SELECT u.id, u.username, u.role, u.display_name, COALESCE(e.account_no, ''),"                 \
    " COALESCE(m.account_no, ''), u.disabled, u.pw_hash, COALESCE(u.branch, '') FROM app_user u"   \
    " LEFT JOIN employer e ON e.id = u.employer_id LEFT JOIN member m ON m.id = u.member_id "

/* user/2 adds an operator's branch (empty: the whole centre); user/1 snapshots are compared in
 * their form. */
static void canon_user(canon *c, hpf_stmt *st)
{
    put(c->b, c->before_branch ? "user/1" : "user/2", 6);
    SEP;
    /* A member's login name is stored as "m:" + the blind index of the resident ID they log in
     * with; before schema 4 it was the resident ID itself, written as its digest. */
    if (!strcmp(hpf_stmt_text(st, 2), "member") && strncmp(hpf_stmt_text(st, 1), "m:", 2) != 0)
        PII(1);
    else
        TXT(1);
    SEP, TXT(2), SEP, TXT(3), SEP, TXT(4), SEP, TXT(5), SEP, I64(6), SEP;
    /* The password hash as a digest: a swapped hash (a taken-over login) shows, nothing leaks. */
    PII(7);
    if (!c->before_branch)
        SEP, TXT(8);
}

/* A maker-checker request (service/approval.c): free text, the request and its result enter as
 * digests (they may be long, and a reason may name a person). */
#define APPROVAL_SEL                                                                               \
    "SELECT a.id, a.kind, a.ref, COALESCE(e.account_no, ''), a.request_hash, a.maker_id,"          \
    " a.made_at, a.status, COALESCE(a.checker_id, 0), COALESCE(a.decided_at, ''),"                 \
    " COALESCE(a.reason, ''), COALESCE(a.signature, ''), COALESCE(a.key_id, ''),"                  \
    " COALESCE(a.result, ''), a.payload FROM approval a"                                           \
    " LEFT JOIN employer e ON e.id = a.scope_employer_id "

static void canon_approval(canon *c, hpf_stmt *st)
{
    put(c->b, "approval/2", 10);
    SEP, TXT(1), SEP, TXT(2), SEP, TXT(3), SEP, TXT(4), SEP, I64(5), SEP, TXT(6), SEP, TXT(7), SEP,
        I64(8), SEP, TXT(9), SEP, PII(10), SEP, TXT(11), SEP, TXT(12), SEP, PII(13), SEP, PII(14);
}

#define REMIT_SEL                                                                                  \
    "SELECT r.id, r.serial, COALESCE(e.account_no, ''), r.kind, r.period, r.idem_key,"             \
    " r.request_hash, r.members, r.unit_total, r.indiv_total, r.total, r.posted_on,"               \
    " COALESCE(r.created_by, 0), COALESCE(v.voucher_no, ''), COALESCE(v.biz_date, ''),"            \
    " COALESCE(v.template, ''), COALESCE(v.summary, '') FROM remittance r"                         \
    " LEFT JOIN employer e ON e.id = r.employer_id LEFT JOIN voucher v ON v.id = r.voucher_id "
/* Voucher lines of a remittance's voucher: remittance id, line_no, subject, debit, credit. */
#define LINE_SEL                                                                                   \
    "SELECT r.id, l.line_no, l.subject, l.debit, l.credit FROM remittance r"                       \
    " JOIN voucher_line l ON l.voucher_id = r.voucher_id "
/* Postings of a remittance: remittance id, then the posting. */
#define POSTING_SEL                                                                                \
    "SELECT remittance_id, id, member_id, biz_date, kind, COALESCE(period, 0), amount,"            \
    " unit_amount, indiv_amount, balance_after, voucher_id, COALESCE(reversal_of, 0)"              \
    " FROM posting "

/* A voucher that no remittance owns (ledger/ledger.c): the annual interest, a transfer, a merge,
 * a reversal (冲账) ... The record is the voucher itself: the voucher it reverses if any, its
 * lines and its postings (each naming the posting it reverses, if any). The summary may hold an
 * operator's free text that names a person: it enters as a digest. The remittance_voucher index
 * answers the NOT EXISTS. */
#define OWN_VOUCHER "NOT EXISTS (SELECT 1 FROM remittance r WHERE r.voucher_id = v.id)"
#define VOUCHER_SEL                                                                                \
    "SELECT v.id, v.voucher_no, v.biz_date, v.template, v.summary, COALESCE(o.voucher_no, '')"     \
    " FROM voucher v LEFT JOIN voucher o ON o.id = v.reversal_of "
#define VLINE_SEL                                                                                  \
    "SELECT v.id, l.line_no, l.subject, l.debit, l.credit FROM voucher v"                          \
    " JOIN voucher_line l ON l.voucher_id = v.id WHERE " OWN_VOUCHER " "
#define VPOSTING_SEL                                                                               \
    "SELECT p.voucher_id, p.id, p.member_id, p.biz_date, p.kind, COALESCE(p.period, 0), p.amount," \
    " p.unit_amount, p.indiv_amount, p.balance_after, p.voucher_id, COALESCE(p.reversal_of, 0)"    \
    " FROM voucher v JOIN posting p ON p.voucher_id = v.id WHERE " OWN_VOUCHER " "

/* The ledger rows a remittance carries: its voucher lines in line order (inline in the payload:
 * few, and a changed amount is then named) and its postings in id order (a count, the sum and
 * an SM3 digest over their canonical lines). */
typedef struct ledger_block {
    hpf_buf lines;
    hpf_buf postings; /* canonical posting lines not yet hashed */
    hpf_sm3 *sm3;
    int64_t count, sum;
    bool overflow;
} ledger_block;

static void block_reset(ledger_block *k)
{
    hpf_buf_reset(&k->lines);
    hpf_buf_reset(&k->postings);
    k->count = k->sum = 0;
    k->overflow = false;
}

static void block_line(ledger_block *k, hpf_stmt *st)
{
    hpf_buf *b = &k->lines;
    if (b->len)
        put(b, ";", 1);
    put_i64(b, hpf_stmt_i64(st, 1));
    put(b, ",", 1);
    put_text(b, hpf_stmt_text(st, 2));
    put(b, ",", 1);
    put_i64(b, hpf_stmt_i64(st, 3));
    put(b, ",", 1);
    put_i64(b, hpf_stmt_i64(st, 4));
}

static void block_flush(ledger_block *k, int64_t *bytes)
{
    hpf_sm3_update(k->sm3, k->postings.data, k->postings.len);
    *bytes += (int64_t)k->postings.len;
    hpf_buf_reset(&k->postings);
}

/* Decimal digits of v at the end of tmp[24]; returns where they start. */
static char *digits(char tmp[24], int64_t v)
{
    char *p = tmp + 24;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

/* A posting line the long way: any date or kind, through the escaping writers. */
static void block_posting_general(ledger_block *k, hpf_stmt *st)
{
    hpf_buf *b = &k->postings;
    for (int col = 1; col <= 11; col++) {
        if (col == 3)
            put_date(b, hpf_stmt_text(st, col));
        else if (col == 4)
            put_text(b, hpf_stmt_text(st, col));
        else
            put_i64(b, hpf_stmt_i64(st, col));
        put(b, col == 11 ? "\n" : "|", 1);
    }
}

/* A short text that needs no escape, copied to out; false when it is long or needs one. */
static bool plain_text(char *out, size_t cap, const char *s, size_t *n)
{
    size_t i = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == cap || c < 0x20 || c == 0x7f || c == '\\' || c == '|' || c == ';' || c == ',')
            return false;
        out[i] = (char)c;
    }
    *n = i;
    return true;
}

/* A date in its canonical YYYYMMDD, into out[8]; false when it has another shape. */
static bool plain_date(char out[8], const char *s)
{
    static const char shape[] = "DDDD-DD-DD";
    size_t i = 0;
    for (; shape[i] && s[i]; i++)
        if (shape[i] == 'D' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
            return false;
    if (shape[i] || s[i])
        return false;
    memcpy(out, s, 4);
    memcpy(out + 4, s + 5, 2);
    memcpy(out + 6, s + 8, 2);
    return true;
}

/* One posting: id|member_id|biz_date|kind|period|amount|unit|indiv|balance_after|voucher_id|
 * reversal_of, then a newline. The hot loop of the verifier: the line is built on the stack and
 * added at once; a date or kind of an unusual shape takes the general path. */
static void block_posting(ledger_block *k, hpf_stmt *st, int64_t *bytes)
{
    enum { KIND_MAX = 32 };
    hpf_buf *b = &k->postings;
    char line[11 * 21 + 8 + KIND_MAX], date[8], kind[KIND_MAX], tmp[24];
    size_t n = 0, kn = 0;
    if (!plain_date(date, hpf_stmt_text(st, 3)) ||
        !plain_text(kind, KIND_MAX, hpf_stmt_text(st, 4), &kn)) {
        block_posting_general(k, st);
    } else {
        for (int col = 1; col <= 11; col++) {
            if (col == 3) {
                memcpy(line + n, date, 8);
                n += 8;
            } else if (col == 4) {
                memcpy(line + n, kind, kn);
                n += kn;
            } else {
                char *d = digits(tmp, hpf_stmt_i64(st, col));
                size_t dn = (size_t)(tmp + sizeof tmp - d);
                memcpy(line + n, d, dn);
                n += dn;
            }
            line[n++] = col == 11 ? '\n' : '|';
        }
        put(b, line, n);
    }
    k->count++;
    if (__builtin_add_overflow(k->sum, hpf_stmt_i64(st, 6), &k->sum))
        k->overflow = true;
    if (b->len >= FLUSH_AT)
        block_flush(k, bytes);
}

/* Drop what was fed for a block nobody claims, so the next digest starts clean. */
static void block_discard(ledger_block *k, int64_t *bytes)
{
    unsigned char md[HPF_SM3_LEN];
    block_flush(k, bytes);
    hpf_sm3_final(k->sm3, md);
}

/* A ledger block's tail: the lines inline, then the postings' count, sum and digest. */
static void put_block(canon *c, ledger_block *k)
{
    unsigned char md[HPF_SM3_LEN];
    char hex[2 * HPF_SM3_LEN + 1];
    block_flush(k, &c->bytes);
    hpf_sm3_final(k->sm3, md);
    put(c->b, k->lines.data ? k->lines.data : "", k->lines.len);
    SEP;
    put_i64(c->b, k->count);
    SEP;
    if (k->overflow)
        put(c->b, "overflow", 8);
    else
        put_i64(c->b, k->sum);
    SEP;
    put(c->b, hpf_hex(hex, md, sizeof md), 2 * HPF_SM3_LEN);
}

static void canon_remittance(canon *c, hpf_stmt *st, ledger_block *k)
{
    put(c->b, "remittance/1", 12);
    SEP, TXT(1), SEP, TXT(2), SEP, TXT(3), SEP, I64(4), SEP, TXT(5), SEP, TXT(6), SEP, I64(7), SEP,
        I64(8), SEP, I64(9), SEP, I64(10), SEP, DATE(11), SEP, I64(12), SEP, TXT(13), SEP, DATE(14),
        SEP, TXT(15), SEP, TXT(16), SEP;
    put_block(c, k);
}

/* A reversal keeps the form it was first audited in, "reversal/1"; any other voucher is
 * "voucher/1" with an empty `reverses`. */
static void canon_voucher(canon *c, hpf_stmt *st, ledger_block *k)
{
    if (hpf_stmt_text(st, 5)[0])
        put(c->b, "reversal/1", 10);
    else
        put(c->b, "voucher/1", 9);
    SEP, TXT(1), SEP, DATE(2), SEP, TXT(3), SEP, PII(4), SEP, TXT(5), SEP;
    put_block(c, k);
}

/* What a later snapshot of a record may change: the payload fields (names of rec_type.fields,
 * '|'-separated) that its business writes. */
typedef struct snap_change {
    const char *kind;
    const char *fields;
} snap_change;

typedef struct rec_type {
    const char *table;        /* ref_table of its entries */
    const char *noun;         /* how messages name it */
    const char *const *kinds; /* the record kinds whose payload is its snapshot */
    const char *one_sql;      /* the record by id */
    const char *page_sql;     /* records with id > ? AND id < ?, in id order, LIMIT ? */
    const char *entries_sql;  /* its entries after (ref_id, seq), see cursor */
    void (*canon)(canon *c, hpf_stmt *st);
    const char *fields;        /* payload field names, '|'-separated */
    const char *before_branch; /* the prefix of a snapshot in the form before the branch */
    /* A record that carries ledger rows (a voucher's lines inline, a digest of its postings):
     * canon_ledger instead of canon, and the rows of one record and of a range of them. */
    void (*canon_ledger)(canon *c, hpf_stmt *st, ledger_block *k);
    const char *lines_one, *postings_one; /* WHERE id = ?, in line / posting order */
    const char *lines_sql, *postings_sql; /* cursors over (record id, line / posting id) */
    const snap_change *changes;           /* per later snapshot kind, {NULL, NULL}-terminated */
} rec_type;

#define ENTRIES_SQL(table)                                                                         \
    "SELECT ref_id, seq, kind, payload FROM audit_log WHERE ref_table = '" table "'"               \
    " AND ref_id >= ? AND (ref_id, seq) > (?, ?) AND ref_id < ? ORDER BY ref_id, seq LIMIT ?"

static const char *const employer_kinds[] = {HPF_AUDIT_EMPLOYER_REGISTERED,
                                             HPF_AUDIT_EMPLOYER_CHANGED, NULL};
static const char *const member_kinds[] = {HPF_AUDIT_MEMBER_OPENED, HPF_AUDIT_MEMBER_PROTECTED,
                                           HPF_AUDIT_MEMBER_STATE_CHANGED, HPF_AUDIT_MEMBER_CHANGED,
                                           NULL};
static const char *const user_kinds[] = {HPF_AUDIT_USER_CREATED, HPF_AUDIT_USER_PROTECTED,
                                         HPF_AUDIT_USER_DISABLED, HPF_AUDIT_USER_ENABLED, NULL};
static const char *const remit_kinds[] = {HPF_AUDIT_REMITTANCE_POSTED, NULL};
static const char *const voucher_kinds[] = {HPF_AUDIT_VOUCHER_REVERSED, HPF_AUDIT_VOUCHER_POSTED,
                                            NULL};
static const char *const approval_kinds[] = {HPF_AUDIT_APPROVAL_SUBMITTED,
                                             HPF_AUDIT_APPROVAL_DECIDED, NULL};

/* The businesses that write a later snapshot, and what each changes (service/): the ratio
 * change and 缓缴 (employer state), the account states (state, closing date, the employer of an
 * in-city transfer), the base adjustment (wage), the encryption of personal fields (the
 * ciphertexts; a login name that was a resident ID becomes the account number), an
 * administrator's disable / enable, a checker's decision. */
static const snap_change employer_changes[] = {
    {HPF_AUDIT_EMPLOYER_CHANGED, "unit_ratio_bp|indiv_ratio_bp|state"}, {NULL, NULL}};
static const snap_change member_changes[] = {
    {HPF_AUDIT_MEMBER_PROTECTED, "id_number|phone"},
    {HPF_AUDIT_MEMBER_STATE_CHANGED, "state|closed_on|employer"},
    {HPF_AUDIT_MEMBER_CHANGED, "wage"},
    {NULL, NULL}};
static const snap_change user_changes[] = {{HPF_AUDIT_USER_PROTECTED, "username"},
                                           {HPF_AUDIT_USER_DISABLED, "disabled"},
                                           {HPF_AUDIT_USER_ENABLED, "disabled"},
                                           {NULL, NULL}};
static const snap_change approval_changes[] = {
    {HPF_AUDIT_APPROVAL_DECIDED, "status|checker|decided_at|reason|signature|key_id|result"},
    {NULL, NULL}};

enum { T_EMPLOYER, T_MEMBER, T_USER, T_APPROVAL, T_REMIT, T_VOUCHER, NTYPES };

static const rec_type types[NTYPES] = {
    [T_EMPLOYER] = {"employer", "employer", employer_kinds, EMPLOYER_SEL "WHERE id = ?",
                    EMPLOYER_SEL "WHERE id > ? AND id < ? ORDER BY id LIMIT ?",
                    ENTRIES_SQL("employer"), canon_employer,
                    "format|account_no|name|uscc|unit_ratio_bp|indiv_ratio_bp|opened_on|state|"
                    "branch",
                    "employer/1|", .changes = employer_changes},
    [T_MEMBER] = {"member", "member", member_kinds, MEMBER_SEL "WHERE m.id = ?",
                  MEMBER_SEL "WHERE m.id > ? AND m.id < ? ORDER BY m.id LIMIT ?",
                  ENTRIES_SQL("member"), canon_member,
                  "format|account_no|employer|name|id_type|id_number|phone|wage|state|opened_on|"
                  "closed_on",
                  .changes = member_changes},
    [T_USER] = {"app_user", "login", user_kinds, USER_SEL "WHERE u.id = ?",
                USER_SEL "WHERE u.id > ? AND u.id < ? ORDER BY u.id LIMIT ?",
                ENTRIES_SQL("app_user"), canon_user,
                "format|username|role|display_name|employer|member|disabled|password_hash|branch",
                "user/1|", .changes = user_changes},
    [T_APPROVAL] = {"approval", "approval", approval_kinds, APPROVAL_SEL "WHERE a.id = ?",
                    APPROVAL_SEL "WHERE a.id > ? AND a.id < ? ORDER BY a.id LIMIT ?",
                    ENTRIES_SQL("approval"), canon_approval,
                    "format|kind|ref|employer|request_hash|maker|made_at|status|checker|"
                    "decided_at|reason|signature|key_id|result|payload",
                    .changes = approval_changes},
    [T_REMIT] = {"remittance", "remittance", remit_kinds, REMIT_SEL "WHERE r.id = ?",
                 REMIT_SEL "WHERE r.id > ? AND r.id < ? ORDER BY r.id LIMIT ?",
                 ENTRIES_SQL("remittance"), NULL,
                 "format|serial|employer|kind|period|idem_key|request_hash|members|unit_total|"
                 "indiv_total|total|posted_on|created_by|voucher_no|voucher_date|voucher_template|"
                 "voucher_summary|voucher_lines|postings|postings_amount|postings_digest",
                 NULL, canon_remittance, LINE_SEL "WHERE r.id = ? ORDER BY l.line_no",
                 POSTING_SEL "WHERE remittance_id = ? ORDER BY id",
                 LINE_SEL "WHERE r.id >= ? AND (r.id, l.line_no) > (?, ?) AND r.id < ?"
                          " ORDER BY r.id, l.line_no LIMIT ?",
                 POSTING_SEL "WHERE remittance_id >= ? AND (remittance_id, id) > (?, ?)"
                             " AND remittance_id < ? ORDER BY remittance_id, id LIMIT ?"},
    [T_VOUCHER] = {"voucher", "voucher", voucher_kinds,
                   VOUCHER_SEL "WHERE v.id = ? AND " OWN_VOUCHER,
                   VOUCHER_SEL "WHERE v.id > ? AND v.id < ? AND " OWN_VOUCHER
                               " ORDER BY v.id LIMIT ?",
                   ENTRIES_SQL("voucher"), NULL,
                   "format|voucher_no|date|template|summary|reverses|voucher_lines|postings|"
                   "postings_amount|postings_digest",
                   NULL, canon_voucher, VLINE_SEL "AND v.id = ? ORDER BY l.line_no",
                   VPOSTING_SEL "AND v.id = ? ORDER BY p.id",
                   VLINE_SEL "AND v.id >= ? AND (v.id, l.line_no) > (?, ?) AND v.id < ?"
                             " ORDER BY v.id, l.line_no LIMIT ?",
                   VPOSTING_SEL "AND v.id >= ? AND (p.voucher_id, p.id) > (?, ?) AND v.id < ?"
                                " ORDER BY p.voucher_id, p.id LIMIT ?"},
};

/* The order of problems (hpf_problems): the order a single pass in chain order notes them in,
 * so that a verification in parts reports the same first problem. An entry's problems come by
 * seq, and at one seq: a gap, link or head problem, then the entry's own hash, then the genesis
 * marks, then the record the entry snapshots. Problems outside the chain (rows with no entry)
 * come after all of them, by record type, then the ledger orphans; within a type, by id. */
enum { P_LINK, P_HASH, P_GENESIS, P_RECORD };
#define ORDER_OUTSIDE (INT64_MAX - 16)
static int64_t at_seq(int64_t seq, int phase)
{
    return seq >= 0 && seq < ORDER_OUTSIDE / 4 ? seq * 4 + phase : ORDER_OUTSIDE - 1;
}
static int64_t outside(int type)
{
    return ORDER_OUTSIDE + type; /* NTYPES: the ledger orphans */
}

/* A record's payload in the form of the snapshot it is compared with (held; NULL: the current
 * form). */
static void canon_as(const rec_type *t, canon *c, hpf_stmt *st, const char *held)
{
    c->before_branch =
        held && t->before_branch && !strncmp(held, t->before_branch, strlen(t->before_branch));
    t->canon(c, st);
    c->before_branch = false;
}

static const rec_type *type_of_kind(const char *kind)
{
    for (int t = 0; t < NTYPES; t++)
        for (const char *const *k = types[t].kinds; *k; k++)
            if (!strcmp(*k, kind))
                return &types[t];
    return NULL;
}

static bool is_snapshot(const rec_type *t, const char *kind)
{
    for (const char *const *k = t->kinds; *k; k++)
        if (!strcmp(*k, kind))
            return true;
    return false;
}

/* The genesis payload: the marks of audit_genesis, in table order. */
static int genesis_payload(hpf_db *db, hpf_buf *b, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "SELECT tbl, max_id FROM audit_genesis ORDER BY tbl", err);
    if (rc < 0)
        return rc;
    put(b, "genesis/1", 9);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        put_sep(b);
        put_text(b, hpf_stmt_text(st, 0));
        put(b, ":", 1);
        put_i64(b, hpf_stmt_i64(st, 1));
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* ---- the entry and its hash ---- */

/* The bytes an entry's hash covers: the previous hash (32 bytes), then the entry's fields. */
static void entry_bytes(hpf_buf *b, const unsigned char prev[HPF_SM3_LEN], int64_t seq,
                        const char *at, int64_t actor, const char *kind, const char *ref_table,
                        int64_t ref_id, const char *payload, size_t plen)
{
    put(b, (const char *)prev, HPF_SM3_LEN);
    put(b, ENTRY_TAG, sizeof ENTRY_TAG - 1);
    put_sep(b);
    put_i64(b, seq);
    put_sep(b);
    put_text(b, at);
    put_sep(b);
    put_i64(b, actor);
    put_sep(b);
    put_text(b, kind);
    put_sep(b);
    put_text(b, ref_table);
    put_sep(b);
    put_i64(b, ref_id);
    put_sep(b);
    put(b, payload, plen); /* already canonical, and the last field */
}

static bool unhex(unsigned char out[HPF_SM3_LEN], const char *hex)
{
    if (strlen(hex) != 2 * HPF_SM3_LEN)
        return false;
    for (int i = 0; i < 2 * HPF_SM3_LEN; i++) {
        char ch = hex[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2)
            out[i / 2] = (unsigned char)(out[i / 2] | v);
        else
            out[i / 2] = (unsigned char)(v << 4);
    }
    return true;
}

/* hash = SM3(prev hash bytes || entry fields), as hex. */
static void entry_hash(hpf_sm3 *sm3, const hpf_buf *entry, char out[65])
{
    unsigned char md[HPF_SM3_LEN];
    hpf_sm3_update(sm3, entry->data, entry->len);
    hpf_sm3_final(sm3, md);
    hpf_hex(out, md, sizeof md);
}

/* ---- append ---- */

static void now_utc(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Take the chain head: the next seq and the hash before it. The UPDATE's row lock is held until
 * the transaction ends, so no other appender gets between this and the commit. */
static int take_head(hpf_db *db, int64_t *seq, char prev[65], hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash", err);
    if (rc < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *seq = hpf_stmt_i64(st, 0);
        snprintf(prev, 65, "%s", hpf_stmt_text(st, 1));
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "the audit chain head is missing");
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int write_entry(hpf_db *db, hpf_sm3 *sm3, int64_t seq, const char *prev, int64_t actor,
                       const char *kind, const char *ref_table, int64_t ref_id, const char *payload,
                       size_t plen, hpf_err *err)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_stmt *st;
    unsigned char prev_raw[HPF_SM3_LEN];
    char at[32], hash[65];
    if (!unhex(prev_raw, prev))
        return hpf_err_set(err, HPF_EINTERNAL, "the audit chain head holds no hash");
    now_utc(at);
    entry_bytes(&b, prev_raw, seq, at, actor, kind, ref_table, ref_id, payload, plen);
    entry_hash(sm3, &b, hash);
    hpf_buf_cleanup(&b);
    int rc =
        hpf_db_prepare(db, &st,
                       "INSERT INTO audit_log(seq, at, actor, kind, ref_table, ref_id, payload,"
                       " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, seq);
    hpf_stmt_bind_text(st, 2, at);
    hpf_stmt_bind_i64(st, 3, actor);
    hpf_stmt_bind_text(st, 4, kind);
    hpf_stmt_bind_text(st, 5, ref_table);
    hpf_stmt_bind_i64(st, 6, ref_id);
    hpf_stmt_bind_text(st, 7, payload);
    hpf_stmt_bind_text(st, 8, prev);
    hpf_stmt_bind_text(st, 9, hash);
    /* A trigger checks that the entry extends the head and moves the head's hash to it. */
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int append(hpf_db *db, int64_t actor, const char *kind, const char *ref_table,
                  int64_t ref_id, const char *payload, size_t plen, hpf_err *err)
{
    int64_t seq = 0;
    char prev[65];
    hpf_sm3 *sm3 = hpf_sm3_new();
    int rc = take_head(db, &seq, prev, err);
    if (rc == 0 && seq == 1) {
        /* The first append writes the genesis entry first: it fixes which records predate the
         * chain (a database upgraded to it), so that nobody can widen that set later. */
        hpf_buf g = HPF_BUF_INIT;
        rc = genesis_payload(db, &g, err);
        if (rc == 0)
            rc = write_entry(db, sm3, 1, prev, 0, GENESIS, "audit_genesis", 0, g.data, g.len, err);
        hpf_buf_cleanup(&g);
        if (rc == 0)
            rc = take_head(db, &seq, prev, err);
    }
    if (rc == 0)
        rc = write_entry(db, sm3, seq, prev, actor, kind, ref_table, ref_id, payload, plen, err);
    hpf_sm3_free(sm3);
    return rc;
}

/* The postings and voucher lines of remittance `id`, for its payload. */
static int load_block(hpf_db *db, const rec_type *t, int64_t id, ledger_block *k, int64_t *bytes,
                      hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, t->lines_one, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    while ((rc = hpf_stmt_step(st, err)) == 1)
        block_line(k, st);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st, t->postings_one, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    while ((rc = hpf_stmt_step(st, err)) == 1)
        block_posting(k, st, bytes);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* What appends cost, process-wide, for /metrics (the benchmark reads them): entries appended and
 * the time spent computing their payloads and appending them, in nanoseconds. */
static void count_append(const struct timespec *t0, int rc)
{
    if (rc < 0)
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ns = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000000 + (t1.tv_nsec - t0->tv_nsec);
    hpf_http_metric_add("hpf_audit_appends_total", "Audit chain entries appended", 1);
    hpf_http_metric_add("hpf_audit_append_nanoseconds_total",
                        "Time spent building and appending audit entries (ns)",
                        ns > 0 ? (uint64_t)ns : 0);
}

static int record(hpf_db *db, int64_t actor, const char *kind, int64_t ref_id, hpf_err *err);

int hpf_audit_record(hpf_db *db, int64_t actor, const char *kind, int64_t ref_id, hpf_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = record(db, actor, kind, ref_id, err);
    count_append(&t0, rc);
    return rc;
}

static int record(hpf_db *db, int64_t actor, const char *kind, int64_t ref_id, hpf_err *err)
{
    const rec_type *t = type_of_kind(kind);
    if (!t)
        return hpf_err_set(err, HPF_EINTERNAL, "'%s' is not an audited record kind", kind);
    hpf_buf b = HPF_BUF_INIT;
    ledger_block k = {.sm3 = NULL};
    canon c = {.b = &b, .sm3 = hpf_sm3_new()};
    hpf_stmt *st;
    int rc = 0;
    if (t->canon_ledger) {
        k.sm3 = hpf_sm3_new();
        rc = load_block(db, t, ref_id, &k, &c.bytes, err);
    }
    if (rc == 0)
        rc = hpf_db_prepare(db, &st, t->one_sql, err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, ref_id);
        rc = hpf_stmt_step(st, err);
        if (rc == 1 && k.sm3)
            t->canon_ledger(&c, st, &k);
        else if (rc == 1)
            t->canon(&c, st);
        else if (rc == 0)
            rc = hpf_err_set(err, HPF_ENOTFOUND, "no %s with id %lld to audit", t->noun,
                             (long long)ref_id);
        hpf_stmt_reset(st);
    }
    if (rc >= 0)
        rc = append(db, actor, kind, t->table, ref_id, b.data, b.len, err);
    hpf_buf_cleanup(&b);
    hpf_buf_cleanup(&k.lines);
    hpf_buf_cleanup(&k.postings);
    hpf_sm3_free(k.sm3);
    hpf_sm3_free(c.sm3);
    return rc;
}

int hpf_audit_unchanged(hpf_db *db, const char *table, int64_t ref_id, const char *const legacy[2],
                        bool *same, hpf_err *err)
{
    const rec_type *t = NULL;
    for (int i = 0; i < NTYPES; i++)
        if (!strcmp(types[i].table, table) && types[i].canon)
            t = &types[i];
    *same = false;
    if (!t || (legacy && t != &types[T_MEMBER]))
        return hpf_err_set(err, HPF_EINTERNAL, "cannot compare a %s record", table);
    hpf_buf now = HPF_BUF_INIT, held = HPF_BUF_INIT;
    canon c = {.b = &now, .sm3 = hpf_sm3_new(), .legacy = legacy};
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT kind, payload FROM audit_log WHERE ref_table = ? AND ref_id = ?"
                            " ORDER BY seq DESC",
                            err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, t->table);
        hpf_stmt_bind_i64(st, 2, ref_id);
        while (!held.len && (rc = hpf_stmt_step(st, err)) == 1)
            if (is_snapshot(t, hpf_stmt_text(st, 0))) {
                const char *p = hpf_stmt_text(st, 1);
                put(&held, p, strlen(p) + 1);
            }
        hpf_stmt_reset(st);
    }
    if (rc >= 0 && held.len)
        rc = hpf_db_prepare(db, &st, t->one_sql, err);
    if (rc >= 0 && held.len) {
        hpf_stmt_bind_i64(st, 1, ref_id);
        rc = hpf_stmt_step(st, err);
        if (rc == 1) {
            canon_as(t, &c, st, held.data);
            put(&now, "", 1);
            *same = held.len == now.len && !memcmp(held.data, now.data, now.len);
        }
        hpf_stmt_reset(st);
    }
    hpf_buf_cleanup(&now);
    hpf_buf_cleanup(&held);
    hpf_sm3_free(c.sm3);
    return rc < 0 ? rc : 0;
}

int hpf_audit_event(hpf_db *db, int64_t actor, const char *kind, const char *ref_table,
                    int64_t ref_id, const char *payload, hpf_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = append(db, actor, kind, ref_table, ref_id, payload, strlen(payload), err);
    count_append(&t0, rc);
    return rc;
}

int hpf_audit_session(hpf_db *db, int64_t actor, const char *kind, int64_t user_id,
                      const char *token_hash, hpf_err *err)
{
    hpf_buf b = HPF_BUF_INIT;
    put(&b, "session/1|", 10);
    put(&b, token_hash, strnlen(token_hash, 16));
    put_sep(&b);
    put_i64(&b, user_id);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = append(db, actor, kind, "app_user", user_id, b.data, b.len, err);
    count_append(&t0, rc);
    hpf_buf_cleanup(&b);
    return rc;
}

/* ---- verify ---- */

/* A stream of rows in key order, read in pages (keyset pagination: the PostgreSQL driver holds
 * a whole result in memory), over the range lo <= k1 < hi of its first key. The keys are result
 * columns 0..nk-1; the SQL takes the keys of the last row seen, then hi, then LIMIT:
 * "k1 > ? AND k1 < ?" for one key, "k1 >= ? AND (k1, k2) > (?, ?) AND k1 < ?" for two.
 * A row is valid until the next call. */
typedef struct cursor {
    hpf_db *db;
    const char *sql;
    int nk;
    int64_t key[2];
    int64_t hi;
    hpf_stmt *st;
    int64_t in_page;
    int64_t *rows;
    bool done, has;
} cursor;

static void cur_init(cursor *c, hpf_db *db, const char *sql, int nk, int64_t lo, int64_t hi,
                     int64_t *rows)
{
    /* One key: "k1 > last", so start just below lo; two keys: "(k1, k2) > (lo, min)". */
    int64_t first = nk == 1 && lo > INT64_MIN ? lo - 1 : lo;
    *c =
        (cursor){.db = db, .sql = sql, .nk = nk, .key = {first, INT64_MIN}, .hi = hi, .rows = rows};
}

/* 1 with a row, 0 at the end, or an error. */
static int cur_next(cursor *c, hpf_err *err)
{
    c->has = false;
    while (!c->done) {
        if (c->st) {
            int rc = hpf_stmt_step(c->st, err);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                c->in_page++;
                for (int k = 0; k < c->nk; k++)
                    c->key[k] = hpf_stmt_i64(c->st, k);
                (*c->rows)++;
                c->has = true;
                return 1;
            }
            hpf_stmt_reset(c->st);
            c->st = NULL;
            if (c->in_page < PAGE_ROWS)
                c->done = true;
            continue;
        }
        int rc = hpf_db_prepare(c->db, &c->st, c->sql, err);
        if (rc < 0)
            return rc;
        int i = 1;
        if (c->nk == 2) /* the bound on the first key alone: an index start for any planner */
            hpf_stmt_bind_i64(c->st, i++, c->key[0]);
        for (int k = 0; k < c->nk; k++)
            hpf_stmt_bind_i64(c->st, i++, c->key[k]);
        hpf_stmt_bind_i64(c->st, i++, c->hi);
        hpf_stmt_bind_i64(c->st, i, PAGE_ROWS);
        c->in_page = 0;
    }
    return 0;
}

static void cur_close(cursor *c)
{
    if (c->st)
        hpf_stmt_reset(c->st);
    c->st = NULL;
}

/* What one part read of the chain, in its range lo <= seq < hi: its first row (seq and stored
 * prev_hash) and its last (seq and stored hash); seq 0 when the range held none. */
typedef struct chain_span {
    int64_t lo, hi;
    int64_t first, last;
    char first_prev[65], last_hash[65];
    bool genesis; /* seq 1 is the genesis entry */
} chain_span;

/* Entries after `last` up to `seq` are missing. */
static void chain_gap(hpf_problems *pr, int64_t last, int64_t seq)
{
    hpf_problem(pr, at_seq(last + 1, P_LINK), "audit.entry_missing",
                "entry seq %lld is missing: the chain jumps from seq %lld to seq %lld (entries "
                "were deleted)",
                (long long)last + 1, (long long)last, (long long)seq);
}

static void chain_break(hpf_problems *pr, int64_t seq)
{
    hpf_problem(pr, at_seq(seq, P_LINK), "audit.chain_link",
                "the hash chain breaks at seq %lld: its prev_hash is not the hash of seq %lld "
                "(entries were reordered, inserted or deleted)",
                (long long)seq, (long long)seq - 1);
}

typedef struct vx {
    hpf_db *db;
    hpf_audit_stats *stats;
    hpf_err *err;
    canon c;      /* c.b is `now` */
    hpf_buf now;  /* a payload recomputed from the rows */
    hpf_buf held; /* the latest snapshot payload of one record */
    hpf_buf tmp;
    hpf_problems pr; /* ordered by at_seq and outside */
    int64_t marks[NTYPES], mark_posting;
} vx;

/* The chain rows lo <= seq < hi of one part: each row's hash is its content, and links to the
 * row before it in the range. The first row's link, and where the chain ends, are checked when
 * the parts are joined (chain_join). */
static int verify_chain(vx *v, chain_span *cs)
{
    cursor cu;
    hpf_sm3 *sm3 = v->c.sm3;
    unsigned char prev_raw[HPF_SM3_LEN];
    char hash[65];
    int rc;
    cs->first = cs->last = 0;
    cs->genesis = false;
    cur_init(&cu, v->db,
             "SELECT seq, at, actor, kind, ref_table, ref_id, payload, prev_hash, hash"
             " FROM audit_log WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?",
             1, cs->lo, cs->hi, &v->stats->rows);
    while ((rc = cur_next(&cu, v->err)) == 1) {
        hpf_stmt *st = cu.st;
        int64_t seq = hpf_stmt_i64(st, 0);
        const char *kind = hpf_stmt_text(st, 3), *ref_table = hpf_stmt_text(st, 4);
        const char *payload = hpf_stmt_text(st, 6), *stored_prev = hpf_stmt_text(st, 7);
        const char *stored = hpf_stmt_text(st, 8);
        int64_t ref_id = hpf_stmt_i64(st, 5);
        v->stats->entries++;
        if (!cs->first) {
            cs->first = seq;
            snprintf(cs->first_prev, sizeof cs->first_prev, "%s", stored_prev);
        } else if (seq != cs->last + 1) {
            chain_gap(&v->pr, cs->last, seq);
        } else if (strcmp(stored_prev, cs->last_hash) != 0) {
            chain_break(&v->pr, seq);
        }
        if (!unhex(prev_raw, stored_prev))
            memset(prev_raw, 0xff, sizeof prev_raw); /* cannot match any real chain */
        hpf_buf_reset(&v->tmp);
        entry_bytes(&v->tmp, prev_raw, seq, hpf_stmt_text(st, 1), hpf_stmt_i64(st, 2), kind,
                    ref_table, ref_id, payload, strlen(payload));
        entry_hash(sm3, &v->tmp, hash);
        v->stats->bytes += (int64_t)v->tmp.len;
        if (strcmp(hash, stored) != 0)
            hpf_problem(
                &v->pr, at_seq(seq, P_HASH), "audit.entry_hash",
                "entry seq %lld (%s, %s id %lld) does not match its hash: a field of the entry "
                "was changed",
                (long long)seq, kind, ref_table, (long long)ref_id);
        if (seq == 1 && !strcmp(kind, GENESIS)) {
            cs->genesis = true;
            hpf_buf_reset(&v->held);
            put(&v->held, payload, strlen(payload));
        }
        snprintf(cs->last_hash, sizeof cs->last_hash, "%s", stored);
        cs->last = seq;
    }
    cur_close(&cu);
    return rc < 0 ? rc : 0;
}

/* The genesis entry holds the marks of audit_genesis; records up to a mark predate the chain.
 * Every part loads the marks; the part that read seq 1 compares them. */
static int verify_genesis(vx *v, bool genesis_seen)
{
    hpf_stmt *st;
    hpf_buf_reset(&v->now);
    int rc = genesis_payload(v->db, &v->now, v->err);
    if (rc < 0)
        return rc;
    if (genesis_seen && strcmp(v->held.data, v->now.data) != 0)
        hpf_problem(&v->pr, at_seq(1, P_GENESIS), "audit.genesis",
                    "entry seq 1 (%s) differs from the genesis marks of audit_genesis: the marks "
                    "were changed",
                    GENESIS);
    rc = hpf_db_prepare(v->db, &st, "SELECT tbl, max_id FROM audit_genesis", v->err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, v->err)) == 1) {
        const char *tbl = hpf_stmt_text(st, 0);
        int64_t m = hpf_stmt_i64(st, 1);
        for (int t = 0; t < NTYPES; t++)
            if (!strcmp(types[t].table, tbl))
                v->marks[t] = m;
        if (!strcmp(tbl, "posting"))
            v->mark_posting = m;
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Field `idx` of a canonical payload (escapes kept), at most n-1 bytes, cut at a character. */
static void field_at(const char *payload, int idx, char *out, size_t n)
{
    const char *p = payload;
    for (int i = 0; i < idx && *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '|')
            i++;
    }
    size_t len = 0;
    while (p[len] && p[len] != '|') {
        if (p[len] == '\\' && p[len + 1])
            len++;
        len++;
    }
    if (len >= n) {
        len = n - 4;
        while (len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80)
            len--;
        snprintf(out, n, "%.*s...", (int)len, p);
    } else {
        snprintf(out, n, "%.*s", (int)len, p);
    }
}

/* The index of the first field where two payloads differ. */
static int first_diff(const char *a, const char *b)
{
    int idx = 0;
    for (; *a && *a == *b; a++, b++) {
        if (*a == '\\' && a[1] && a[1] == b[1]) {
            a++;
            b++;
        } else if (*a == '|') {
            idx++;
        }
    }
    return idx;
}

static void field_name(const rec_type *t, int idx, char *out, size_t n)
{
    const char *p = t->fields;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        snprintf(out, n, "field %d", idx);
        return;
    }
    size_t len = strcspn(p, "|");
    snprintf(out, n, "%.*s", (int)len, p);
}

/* Field idx of a payload: where it starts and its length (escapes included); false past the
 * last field. */
static bool field_span(const char *p, int idx, const char **start, size_t *len)
{
    for (int i = 0; i < idx; p++) {
        if (!*p)
            return false;
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '|')
            i++;
    }
    size_t n = 0;
    while (p[n] && p[n] != '|')
        n += p[n] == '\\' && p[n + 1] ? 2 : 1;
    *start = p;
    *len = n;
    return true;
}

static bool name_in(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, name, n))
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

static const char *field_hint(const char *name)
{
    if (!strcmp(name, "postings"))
        return ": a posting of it was deleted, inserted or moved";
    if (!strcmp(name, "postings_amount"))
        return ": a posting amount was changed";
    if (!strcmp(name, "postings_digest"))
        return ": a posting of it was changed, or two were swapped";
    if (!strcmp(name, "voucher_lines"))
        return ": a voucher line was changed";
    return "";
}

/* How messages name a record: its business number from the current row or, when it is gone,
 * from the audited payload. Personal identifiers are never shown. */
static void record_name(const rec_type *t, hpf_stmt *row, const char *payload, int64_t id,
                        char *out, size_t n)
{
    char num[40] = "";
    if (t == &types[T_USER]) {
        const char *role = row ? hpf_stmt_text(row, 2) : "";
        if (row && strcmp(role, "member") != 0)
            snprintf(num, sizeof num, "%.32s ", hpf_stmt_text(row, 1));
    } else if (row) {
        snprintf(num, sizeof num, "%.32s ", hpf_stmt_text(row, 1));
    } else if (payload) {
        field_at(payload, 1, num, sizeof num - 1);
        size_t l = strlen(num);
        if (l)
            snprintf(num + l, sizeof num - l, " ");
    }
    snprintf(out, n, "%s %s(id %lld)", t->noun, num, (long long)id);
}

/* Compare one record (row may be NULL: gone) with the latest snapshot entry of its id (seq 0:
 * none). The recomputed payload is in v->now when row is set. True when it was compared. */
/* A later snapshot (kind, at seq) of record `id` against the one before it (prev, at
 * prev_seq): every field that differs is one its business writes. Otherwise the row was
 * changed outside the audited path and a later business recorded it as found: the comparison
 * with the latest snapshot alone would pass it. Snapshots of two forms (a migration of the
 * payload) are not compared. */
static void check_transition(vx *v, const rec_type *t, int64_t id, const char *prev,
                             int64_t prev_seq, const char *next, int64_t seq, const char *kind)
{
    const char *allowed = NULL;
    for (const snap_change *c = t->changes; c && c->kind; c++)
        if (!strcmp(c->kind, kind))
            allowed = c->fields;
    const char *a, *b;
    size_t an, bn;
    if (!allowed || !field_span(prev, 0, &a, &an) || !field_span(next, 0, &b, &bn) || an != bn ||
        memcmp(a, b, an))
        return;
    for (int i = 1; field_span(prev, i, &a, &an) && field_span(next, i, &b, &bn); i++) {
        char fname[40], name[96];
        if (an == bn && !memcmp(a, b, an))
            continue;
        field_name(t, i, fname, sizeof fname);
        if (name_in(fname, allowed))
            continue;
        record_name(t, NULL, next, id, name, sizeof name);
        hpf_problem(&v->pr, at_seq(seq, P_RECORD), "audit.snapshot_transition",
                    "entry seq %lld (%s): %s changed %s since its snapshot at seq %lld, and %s "
                    "does not change %s: the row was changed outside the audited path before it",
                    (long long)seq, kind, name, fname, (long long)prev_seq, kind, fname);
        return;
    }
}

static bool judge(vx *v, const rec_type *t, hpf_stmt *row, int64_t id, int64_t seq,
                  const char *kind, int64_t first_event_seq)
{
    char name[96];
    if (row && seq == 0) {
        if (id <= v->marks[t - types]) {
            v->stats->uncovered++;
            return false;
        }
        record_name(t, row, NULL, id, name, sizeof name);
        hpf_problem(&v->pr, outside((int)(t - types)), "audit.record_unaudited",
                    "%s has no audit entry: it was written outside the audited path (inserted)",
                    name);
        return false;
    }
    if (!row) {
        record_name(t, NULL, seq ? v->held.data : NULL, id, name, sizeof name);
        int64_t at = seq ? seq : first_event_seq;
        hpf_problem(&v->pr, at_seq(at, P_RECORD), "audit.record_missing",
                    "entry seq %lld (%s) refers to %s, which does not exist (deleted, or the entry "
                    "was inserted)",
                    (long long)at, seq ? kind : "an event", name);
        return false;
    }
    v->stats->records++;
    if (!strcmp(v->now.data, v->held.data))
        return true;
    char fname[40], was[SHOW_BYTES + 4], is[SHOW_BYTES + 4];
    int idx = first_diff(v->held.data, v->now.data);
    field_name(t, idx, fname, sizeof fname);
    field_at(v->held.data, idx, was, sizeof was);
    field_at(v->now.data, idx, is, sizeof is);
    record_name(t, row, NULL, id, name, sizeof name);
    bool pii = !strncmp(was, "sm3:", 4) || !strncmp(is, "sm3:", 4) || !strncmp(was, "bidx:", 5) ||
               !strncmp(is, "bidx:", 5) || !strncmp(was, "m:", 2) || !strncmp(is, "m:", 2);
    hpf_problem(&v->pr, at_seq(seq, P_RECORD), "audit.record_changed",
                "entry seq %lld (%s): %s differs from its audited record in %s%s%s%s%s%s%s",
                (long long)seq, kind, name, fname,
                pii ? " (a personal field: values not shown)" : ": audited '", pii ? "" : was,
                pii ? "" : "', now '", pii ? "" : is, pii ? "" : "'", field_hint(fname));
    return true;
}

static void orphan_posting(vx *v, const rec_type *t, hpf_stmt *st)
{
    hpf_problem(&v->pr, outside((int)(t - types)), "audit.record_unaudited",
                "posting id %lld refers to %s id %lld, which does not exist (inserted)",
                (long long)hpf_stmt_i64(st, 1), t->noun, (long long)hpf_stmt_i64(st, 0));
}

/* Merge the records of one type (id order) with their entries ((ref_id, seq) order), for ids
 * lo <= id < hi. For a type with ledger rows (remittances, reversals), also its voucher lines
 * and postings, streamed in record order. */
static int verify_type(vx *v, const rec_type *t, int64_t lo, int64_t hi)
{
    cursor rec, ent, lin, pos;
    ledger_block k = {.sm3 = NULL};
    bool remit = t->canon_ledger != NULL;
    int rc;
    cur_init(&rec, v->db, t->page_sql, 1, lo, hi, &v->stats->rows);
    cur_init(&ent, v->db, t->entries_sql, 2, lo, hi, &v->stats->rows);
    cur_init(&lin, v->db, t->lines_sql, 2, lo, hi, &v->stats->rows);
    cur_init(&pos, v->db, t->postings_sql, 2, lo, hi, &v->stats->rows);
    if (remit) {
        k.sm3 = hpf_sm3_new();
        if ((rc = cur_next(&lin, v->err)) < 0 || (rc = cur_next(&pos, v->err)) < 0)
            goto done;
    }
    if ((rc = cur_next(&rec, v->err)) < 0 || (rc = cur_next(&ent, v->err)) < 0)
        goto done;
    while (rec.has || ent.has) {
        int64_t rid = rec.has ? rec.key[0] : INT64_MAX;
        int64_t eid = ent.has ? ent.key[0] : INT64_MAX;
        int64_t id = rid < eid ? rid : eid;
        int64_t seq = 0, first_event = 0, created = 0;
        char kind[40] = "";
        /* The entries of this id: keep the latest snapshot. A record is created once: a second
         * creation entry is an insertion (one that even carries a valid hash). */
        while (ent.has && ent.key[0] == id) {
            const char *ek = hpf_stmt_text(ent.st, 2);
            if (!strcmp(ek, t->kinds[0]) && created) {
                char name[96];
                record_name(t, NULL, hpf_stmt_text(ent.st, 3), id, name, sizeof name);
                hpf_problem(
                    &v->pr, at_seq(ent.key[1], P_RECORD), "audit.entry_repeated",
                    "entry seq %lld (%s) repeats the creation of %s, written at seq %lld (an "
                    "entry was inserted)",
                    (long long)ent.key[1], ek, name, (long long)created);
            } else if (!strcmp(ek, t->kinds[0])) {
                created = ent.key[1];
            }
            if (is_snapshot(t, ek)) {
                const char *p = hpf_stmt_text(ent.st, 3);
                if (seq)
                    check_transition(v, t, id, v->held.data, seq, p, ent.key[1], ek);
                seq = ent.key[1];
                snprintf(kind, sizeof kind, "%s", ek);
                hpf_buf_reset(&v->held);
                put(&v->held, p, strlen(p));
            } else if (!first_event) {
                first_event = ent.key[1];
            }
            if ((rc = cur_next(&ent, v->err)) < 0)
                goto done;
        }
        if (remit) {
            /* Lines come joined to their remittance. A posting whose remittance id is below
             * this one, and was not taken by it, names a remittance that has neither a row
             * nor an entry. */
            block_reset(&k);
            while (lin.has && lin.key[0] <= id) {
                if (lin.key[0] == id)
                    block_line(&k, lin.st);
                if ((rc = cur_next(&lin, v->err)) < 0)
                    goto done;
            }
            while (pos.has && pos.key[0] <= id) {
                if (pos.key[0] == id)
                    block_posting(&k, pos.st, &v->c.bytes);
                else
                    orphan_posting(v, t, pos.st);
                if ((rc = cur_next(&pos, v->err)) < 0)
                    goto done;
            }
        }
        if (rid == id) {
            hpf_buf_reset(&v->now);
            if (remit)
                t->canon_ledger(&v->c, rec.st, &k);
            else
                canon_as(t, &v->c, rec.st, seq ? v->held.data : NULL);
            if (judge(v, t, rec.st, id, seq, kind, first_event) && remit)
                v->stats->postings += k.count;
            if ((rc = cur_next(&rec, v->err)) < 0)
                goto done;
        } else {
            if (remit)
                block_discard(&k, &v->c.bytes);
            judge(v, t, NULL, id, seq, kind, first_event);
        }
    }
    while (pos.has) {
        orphan_posting(v, t, pos.st);
        if ((rc = cur_next(&pos, v->err)) < 0)
            goto done;
    }
    rc = 0;
done:
    cur_close(&rec);
    cur_close(&ent);
    cur_close(&lin);
    cur_close(&pos);
    hpf_buf_cleanup(&k.lines);
    hpf_buf_cleanup(&k.postings);
    hpf_sm3_free(k.sm3);
    return rc;
}

/* Ledger rows that belong to no audited record: a posting without a remittance under a
 * remittance's voucher is in neither the remittance's digest (by remittance_id) nor a voucher's
 * (vouchers that no remittance owns are records of their own, T_VOUCHER, whose missing entries
 * the record pass names). */
static int verify_orphans(vx *v)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(v->db, &st,
                            "SELECT p.id FROM posting p WHERE p.remittance_id IS NULL AND p.id > ?"
                            " AND EXISTS (SELECT 1 FROM remittance r WHERE r.voucher_id ="
                            " p.voucher_id) ORDER BY p.id LIMIT 1",
                            v->err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, v->mark_posting);
    rc = hpf_stmt_step(st, v->err);
    if (rc == 1)
        hpf_problem(&v->pr, outside(NTYPES), "audit.record_unaudited",
                    "posting id %lld belongs to no audited business record (inserted)",
                    (long long)hpf_stmt_i64(st, 0));
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* ---- the verification, in chunks ----
 * Every stream is cut into ranges, one per chunk: the chain by seq, each record type by id, and
 * the remittances (with their voucher lines and postings, the bulk of the rows) at equal numbers
 * of members. Chunk 0 also checks the ledger orphans. Workers, each on its own connection, take
 * the next chunk until none is left (a worker on a slower processor simply takes fewer). Each
 * worker reads the chain head first and they go on only when all saw the same head (every
 * audited write moves it), so all read the same committed state. Joining the chunks checks where
 * their chain ranges meet and where the chain ends; problems are ordered as one pass in chain
 * order would meet them, so any number of workers reports the same first one. */

typedef struct chunk {
    int index;
    int64_t lo[NTYPES], hi[NTYPES]; /* each record type's id range */
    chain_span span;
    hpf_audit_stats stats;
    hpf_err err;
    bool have;    /* a problem is in err */
    int64_t best; /* its order */
} chunk;

/* The work shared by the workers: the chunks, the next one to take, and the gate where the
 * workers meet after reading the head (worker 0 decides for all: 1 go on, -1 stop). */
typedef struct plan {
    chunk *chunks;
    int n;
    int next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    int decision;
    int64_t head_seq; /* as worker 0 read it */
    char head_hash[65];
} plan;

typedef struct worker {
    plan *plan;
    hpf_store *store;
    hpf_db *db; /* worker 0: the caller's connection, in its read transaction */
    int64_t head_seq;
    char head_hash[65];
    hpf_err err;
    int rc;
} worker;

static void chunk_init(chunk *c, int index)
{
    *c = (chunk){.index = index, .err = HPF_ERR_INIT};
    for (int t = 0; t < NTYPES; t++) {
        c->lo[t] = INT64_MIN;
        c->hi[t] = INT64_MAX;
    }
    c->span.lo = INT64_MIN;
    c->span.hi = INT64_MAX;
}

static int read_head(hpf_db *db, int64_t *seq, char hash[65], hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "SELECT seq, hash FROM audit_head WHERE id = 1", err);
    if (rc < 0)
        return rc;
    *seq = -1;
    hash[0] = '\0';
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *seq = hpf_stmt_i64(st, 0);
        snprintf(hash, 65, "%s", hpf_stmt_text(st, 1));
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* One chunk; a database error goes to err. */
static int run_chunk(chunk *c, hpf_db *db, hpf_err *err)
{
    vx v = {.db = db, .stats = &c->stats, .err = err};
    v.pr = (hpf_problems){.err = &c->err, .count = &c->stats.problems};
    v.c = (canon){.b = &v.now, .sm3 = hpf_sm3_new()};
    int rc = verify_chain(&v, &c->span);
    if (rc == 0)
        rc = verify_genesis(&v, c->span.genesis);
    for (int t = 0; rc == 0 && t < NTYPES; t++)
        rc = verify_type(&v, &types[t], c->lo[t], c->hi[t]);
    if (rc == 0 && c->index == 0)
        rc = verify_orphans(&v);
    c->stats.bytes += v.c.bytes;
    hpf_sm3_free(v.c.sm3);
    hpf_buf_cleanup(&v.now);
    hpf_buf_cleanup(&v.held);
    hpf_buf_cleanup(&v.tmp);
    c->have = v.pr.have;
    c->best = v.pr.best;
    return rc;
}

/* Take chunks until none is left or one fails. */
static int run_chunks(plan *pl, hpf_db *db, hpf_err *err)
{
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        int i = pl->next < pl->n ? pl->next++ : -1;
        pthread_mutex_unlock(&pl->mu);
        if (i < 0)
            return 0;
        int rc = run_chunk(&pl->chunks[i], db, err);
        if (rc < 0) {
            pthread_mutex_lock(&pl->mu);
            pl->next = pl->n; /* the others stop after their chunk */
            pthread_mutex_unlock(&pl->mu);
            return rc;
        }
    }
}

/* A worker of hpf_audit_verify_store: its own connection and read transaction; waits for the
 * others at the head check. */
static void *worker_thread(void *arg)
{
    worker *w = arg;
    plan *pl = w->plan;
    hpf_db *db = NULL;
    int rc = hpf_store_conn(w->store, &db, &w->err);
    if (rc == 0)
        rc = hpf_db_begin_read(db, &w->err);
    if (rc == 0)
        rc = read_head(db, &w->head_seq, w->head_hash, &w->err);
    w->rc = rc;
    pthread_mutex_lock(&pl->mu);
    pl->arrived++;
    pthread_cond_broadcast(&pl->cv);
    while (pl->decision == 0)
        pthread_cond_wait(&pl->cv, &pl->mu);
    bool go = pl->decision > 0;
    pthread_mutex_unlock(&pl->mu);
    if (w->rc == 0 && go)
        w->rc = run_chunks(pl, db, &w->err);
    if (db)
        hpf_db_rollback(db);
    return NULL;
}

/* The checks a single pass makes at the first row of each chunk's chain range, and at the end
 * of the chain against its head. */
static void chain_join(const plan *pl, hpf_problems *pr, hpf_audit_stats *stats)
{
    int64_t last = 0;
    const char *last_hash = ZERO_HASH;
    bool genesis = false;
    for (int i = 0; i < pl->n; i++) {
        const chain_span *cs = &pl->chunks[i].span;
        genesis = genesis || cs->genesis;
        if (!cs->first)
            continue;
        if (cs->first != last + 1)
            chain_gap(pr, last, cs->first);
        else if (strcmp(cs->first_prev, last_hash) != 0)
            chain_break(pr, cs->first);
        last = cs->last;
        last_hash = cs->last_hash;
    }
    if (pl->head_seq < 0)
        hpf_problem(pr, at_seq(last + 1, P_LINK), "audit.head", "the audit chain head is missing");
    else if (pl->head_seq != last || strcmp(pl->head_hash, last_hash) != 0)
        hpf_problem(pr, at_seq(last + 1, P_LINK), "audit.head",
                    "the chain ends at seq %lld but its head says seq %lld with %s hash (the last "
                    "entries were deleted, or the head was changed)",
                    (long long)last, (long long)pl->head_seq,
                    strcmp(pl->head_hash, last_hash) ? "another" : "the same");
    if (stats->entries > 0 && !genesis)
        hpf_problem(pr, at_seq(1, P_GENESIS), "audit.genesis",
                    "entry seq 1 is not the genesis entry of the chain");
    snprintf(stats->head, sizeof stats->head, "%s", last_hash);
}

/* Fold the chunks into one result: counts add up; the problem first in chain order wins (on a
 * tie, the lower chunk: lower ids of the same type, as one pass would meet them). */
static int merge_chunks(const plan *pl, hpf_audit_stats *stats, hpf_err *err)
{
    memset(stats, 0, sizeof *stats);
    hpf_err jerr = HPF_ERR_INIT;
    hpf_problems join = {.err = &jerr, .count = &stats->problems};
    const hpf_err *first = NULL;
    int64_t best = 0;
    for (int i = 0; i < pl->n; i++) {
        const chunk *c = &pl->chunks[i];
        stats->entries += c->stats.entries;
        stats->records += c->stats.records;
        stats->postings += c->stats.postings;
        stats->uncovered += c->stats.uncovered;
        stats->rows += c->stats.rows;
        stats->bytes += c->stats.bytes;
        stats->problems += c->stats.problems;
        if (c->have && (!first || c->best < best)) {
            first = &c->err;
            best = c->best;
        }
    }
    chain_join(pl, &join, stats);
    if (join.have && (!first || join.best < best))
        first = &jerr;
    if (!first)
        return 0;
    *err = *first;
    return HPF_ECONFLICT;
}

int hpf_audit_verify(hpf_db *db, hpf_audit_stats *stats, hpf_err *err)
{
    chunk c;
    chunk_init(&c, 0);
    plan pl = {.chunks = &c, .n = 1};
    int rc = read_head(db, &pl.head_seq, pl.head_hash, err);
    if (rc == 0)
        rc = run_chunk(&c, db, err);
    return rc < 0 ? rc : merge_chunks(&pl, stats, err);
}

/* Postings per worker below which one connection does it all (threads and connections cost
 * more than they save on a small database). */
#define PARALLEL_MIN_POSTINGS 50000
#define CHUNKS_PER_WORKER     4

/* Range i of n over [1, max]: the first starts at the bottom, the last has no top. */
static void split_even(int64_t max, int n, int i, int64_t *lo, int64_t *hi)
{
    *lo = i == 0 ? INT64_MIN : 1 + max / n * i + max % n * i / n;
    *hi = i == n - 1 ? INT64_MAX : 1 + max / n * (i + 1) + max % n * (i + 1) / n;
}

/* Each chunk's ranges: the chain and the record types at equal shares of their ids, the
 * remittances at equal shares of their members (one posting each: a plan, not a check). */
static int plan_chunks(hpf_db *db, plan *pl, hpf_err *err)
{
    chunk *c = pl->chunks;
    int n = pl->n;
    int64_t members = 0, max_seq = 0;
    int rc =
        hpf_db_query_i64(db, &members, "SELECT COALESCE(SUM(members), 0) FROM remittance", err);
    if (rc == 0)
        rc = hpf_db_query_i64(db, &max_seq, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++)
        split_even(max_seq, n, i, &c[i].span.lo, &c[i].span.hi);
    for (int t = 0; t < NTYPES; t++) {
        if (t == T_REMIT)
            continue;
        char sql[96];
        int64_t max = 0;
        snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(id), 0) FROM %s", types[t].table);
        if ((rc = hpf_db_query_i64(db, &max, sql, err)) < 0)
            return rc;
        for (int i = 0; i < n; i++)
            split_even(max, n, i, &c[i].lo[t], &c[i].hi[t]);
    }
    hpf_stmt *st;
    if ((rc = hpf_db_prepare(db, &st, "SELECT id, members FROM remittance ORDER BY id", err)) < 0)
        return rc;
    int i = 1;
    int64_t seen = 0;
    c[0].lo[T_REMIT] = INT64_MIN;
    while (i < n && (rc = hpf_stmt_step(st, err)) == 1) {
        /* A chunk starts at the first remittance past its share. */
        if (seen >= members / n * i + members % n * i / n) {
            c[i].lo[T_REMIT] = c[i - 1].hi[T_REMIT] = hpf_stmt_i64(st, 0);
            i++;
        }
        seen += hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    for (; i < n; i++) /* more chunks than remittances: the rest have none */
        c[i].lo[T_REMIT] = c[i - 1].hi[T_REMIT] = INT64_MAX;
    c[n - 1].hi[T_REMIT] = INT64_MAX;
    return 0;
}

static int verify_parallel(hpf_store *store, hpf_db *db0, int n, hpf_audit_stats *stats,
                           hpf_err *err, bool *same_head)
{
    chunk chunks[HPF_AUDIT_MAX_JOBS * CHUNKS_PER_WORKER];
    worker workers[HPF_AUDIT_MAX_JOBS];
    pthread_t tid[HPF_AUDIT_MAX_JOBS];
    plan pl = {.chunks = chunks,
               .n = n * CHUNKS_PER_WORKER,
               .mu = PTHREAD_MUTEX_INITIALIZER,
               .cv = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < pl.n; i++)
        chunk_init(&chunks[i], i);
    for (int i = 0; i < n; i++)
        workers[i] = (worker){.plan = &pl, .store = store, .err = HPF_ERR_INIT};
    int rc = hpf_db_begin_read(db0, err);
    if (rc < 0)
        return rc;
    if ((rc = read_head(db0, &pl.head_seq, pl.head_hash, err)) < 0 ||
        (rc = plan_chunks(db0, &pl, err)) < 0) {
        hpf_db_rollback(db0);
        return rc;
    }
    int started = 1;
    while (started < n &&
           pthread_create(&tid[started], NULL, worker_thread, &workers[started]) == 0)
        started++;
    pthread_mutex_lock(&pl.mu);
    while (pl.arrived < started - 1)
        pthread_cond_wait(&pl.cv, &pl.mu);
    bool go = started == n;
    for (int i = 1; i < started; i++)
        if (workers[i].rc < 0 || workers[i].head_seq != pl.head_seq ||
            strcmp(workers[i].head_hash, pl.head_hash) != 0)
            go = false;
    pl.decision = go ? 1 : -1;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    if (go)
        workers[0].rc = run_chunks(&pl, db0, &workers[0].err);
    hpf_db_rollback(db0);
    for (int i = 1; i < started; i++)
        pthread_join(tid[i], NULL);
    *same_head = go;
    if (started < n)
        return hpf_err_set(err, HPF_EINTERNAL, "cannot start the verifier threads");
    for (int i = 0; i < n; i++)
        if (workers[i].rc < 0) {
            *err = workers[i].err;
            return workers[i].rc;
        }
    return go ? merge_chunks(&pl, stats, err) : 0;
}

int hpf_audit_verify_store(hpf_store *store, int jobs, hpf_audit_stats *stats, hpf_err *err)
{
    hpf_db *db;
    int rc = hpf_store_conn(store, &db, err);
    if (rc < 0)
        return rc;
    if (jobs > HPF_AUDIT_MAX_JOBS)
        jobs = HPF_AUDIT_MAX_JOBS;
    if (jobs <= 0) {          /* automatic: the processors, when the ledger is big enough to gain */
        int64_t postings = 0; /* ids: the count when none was lost, and cheap to read */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 1 ? (int)(cpus < HPF_AUDIT_MAX_JOBS ? cpus : HPF_AUDIT_MAX_JOBS) : 1;
        if (jobs > 1 && (rc = hpf_db_query_i64(
                             db, &postings, "SELECT COALESCE(MAX(id), 0) FROM posting", err)) < 0)
            return rc;
        if (postings < PARALLEL_MIN_POSTINGS * jobs)
            jobs = 1;
    }
    /* A write committed between the parts' first reads: try again, then read in one part. */
    for (int attempt = 0; jobs > 1 && attempt < 5; attempt++) {
        bool same = false;
        rc = verify_parallel(store, db, jobs, stats, err, &same);
        if (same || rc < 0)
            return rc;
    }
    if ((rc = hpf_db_begin_read(db, err)) < 0)
        return rc;
    rc = hpf_audit_verify(db, stats, err);
    hpf_db_rollback(db);
    return rc;
}

/* ---- read-only helpers for trust/checkpoint ---- */

bool hpf_audit_entry_hash(hpf_sm3 *sm3, const char *prev_hash, int64_t seq, const char *at,
                          int64_t actor, const char *kind, const char *ref_table, int64_t ref_id,
                          const char *payload, char out[65])
{
    unsigned char prev_raw[HPF_SM3_LEN];
    if (!unhex(prev_raw, prev_hash))
        return false;
    hpf_buf b = HPF_BUF_INIT;
    hpf_sm3 *own = sm3 ? NULL : hpf_sm3_new();
    entry_bytes(&b, prev_raw, seq, at, actor, kind, ref_table, ref_id, payload, strlen(payload));
    entry_hash(sm3 ? sm3 : own, &b, out);
    hpf_buf_cleanup(&b);
    hpf_sm3_free(own);
    return true;
}
