/*
 * fuzz_bankfile: bytes through the bank file parser of peers/bankfile.h (RULES §6.3), compared
 * with a reference parser written here from RULES §6.3 and the contracts in the header, plus
 * round trips through the writer.
 *
 * Input: the first byte chooses what the rest is: bits 0-1 the layout (0 SBDC100 notice,
 * 1 same-bank batch payment, 2 cross-bank batch payment, 3 batch result), bit 2 the encoding of
 * the file (0 UTF-8, 1 GB18030), bit 3 the line end the writer uses (0 LF, 1 CRLF). The seeds
 * start with a digit '0'..'7' (0x30..0x37: bit 3 clear).
 *
 * What must hold:
 *   - the reference and hpf_bankfile_parse agree on the number of lines, on which lines are good
 *     and, for a bad line, on the field pointer and the rule of its first fault; every field of
 *     every good line has the value the reference read;
 *   - errors: at most HPF_BANKFILE_MAX_ERRORS kept of errors_total, one per bad line, in line
 *     order, each "/lines/N" or "/lines/N/KEY" with N a line of the input and a bankfile.* rule;
 *     the return code and err say the same;
 *   - the good records written by the writer (both encodings, the chosen line end) parse back
 *     to the same records, and writing those again gives the same bytes. The only refusal
 *     allowed is bankfile.encoding when GB18030 has no bytes for a character (glibc maps a few
 *     private-use code points to none); UTF-8 must then take the same records;
 *   - nothing leaks or trips AddressSanitizer / UndefinedBehaviorSanitizer.
 * GB18030 is decoded with iconv here too (a second decoder would be a project of its own); the
 * splitting into lines and fields, and every field rule, are written independently.
 */
#include "base/buf.h"
#include "base/date.h"
#include "base/err.h"
#include "peers/bankfile.h"

#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_bankfile: %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- the reference: layouts as RULES §6.3 and the header describe them ---- */

/* Field kinds: 'S' sequence number, 'D' digits, 'C' code [0-9A-Za-z._-], 'T' text,
 * 'M' money (sign: 'z' not zero, 'p' > 0, 'n' >= 0, 'a' any), 'd' date, 't' time, 'E' enum. */
typedef struct rfield {
    const char *key;
    char kind;
    bool optional;
    int min, max; /* lengths: characters for text, bytes otherwise; 'S' and 'E': the top value */
    char sign;
    int has; /* money: 1 when empty means absent, 0 when empty means 0 */
} rfield;

static const rfield r_notice[] = {
    {"seq", 'S', false, 1, 0, 0, 0},          {"account", 'D', false, 1, 32, 0, 0},
    {"host_serial", 'C', false, 1, 32, 0, 0}, {"tx_code", 'C', false, 1, 16, 0, 0},
    {"peer_account", 'C', true, 0, 32, 0, 0}, {"peer_name", 'T', true, 0, 60, 0, 0},
    {"amount", 'M', false, 0, 0, 'z', 0},     {"date", 'd', false, 0, 0, 0, 0},
    {"time", 't', false, 0, 0, 0, 0},         {"available", 'M', true, 0, 0, 'a', 1},
    {"open_branch", 'C', true, 0, 20, 0, 0},  {"remark", 'T', true, 0, 100, 0, 0},
    {"currency", 'C', true, 0, 8, 0, 0},      {"cash_remit", 'C', true, 0, 4, 0, 0},
    {"balance", 'M', true, 0, 0, 'a', 1},     {"overdraft", 'M', true, 0, 0, 'a', 1},
    {"voucher_type", 'C', true, 0, 8, 0, 0},  {"voucher_no", 'C', true, 0, 32, 0, 0},
    {"peer_bank", 'C', true, 0, 20, 0, 0},    {"summary", 'T', true, 0, 100, 0, 0},
    {"reversal", 'E', false, 0, 2, 0, 0},     {"item_no", 'C', true, 0, 16, 0, 0},
    {"book_no", 'C', true, 0, 16, 0, 0},
};

static const rfield r_same[] = {
    {"seq", 'S', false, 1, 0, 0, 0},
    {"amount", 'M', false, 0, 0, 'p', 0},
    {"payee_account", 'D', false, 1, 32, 0, 0},
    {"payee_name", 'T', false, 1, 60, 0, 0},
    {"summary", 'T', false, 1, 100, 0, 0},
    {"ref_account", 'C', true, 0, 32, 0, 0},
    {"ref_serial1", 'C', false, 1, 32, 0, 0},
    {"ref_serial2", 'C', true, 0, 32, 0, 0},
    {"principal", 'M', false, 0, 0, 'n', 0},
    {"interest", 'M', true, 0, 0, 'n', 0},
};

static const rfield r_cross[] = {
    {"seq", 'S', false, 1, 0, 0, 0},
    {"amount", 'M', false, 0, 0, 'p', 0},
    {"payee_account", 'D', false, 1, 32, 0, 0},
    {"payee_name", 'T', false, 1, 60, 0, 0},
    {"payee_bank", 'B', false, 12, 12, 0, 0},
    {"payee_branch_bank", 'B', true, 12, 12, 0, 0},
    {"payee_address", 'T', true, 0, 100, 0, 0},
    {"summary", 'T', false, 1, 100, 0, 0},
    {"ref_account", 'C', true, 0, 32, 0, 0},
    {"ref_serial1", 'C', false, 1, 32, 0, 0},
    {"ref_serial2", 'C', true, 0, 32, 0, 0},
    {"principal", 'M', false, 0, 0, 'n', 0},
    {"interest", 'M', true, 0, 0, 'n', 0},
};

static const rfield r_result[] = {
    {"seq", 'S', false, 1, 0, 0, 0},
    {"amount", 'M', false, 0, 0, 'p', 0},
    {"payee_account", 'D', false, 1, 32, 0, 0},
    {"result", 'E', false, 0, 2, 0, 0},
    {"message", 'T', true, 0, 100, 0, 0},
};

#define R_MAXF 23

typedef struct rval {
    const char *s; /* UTF-8 text of the field (points into the decoded line) */
    size_t n;
    int64_t i; /* the number read */
    bool present;
} rval;

/* What the reference found on one line: "" rule when good. */
typedef struct rline {
    char key[32];
    const char *rule;
    rval v[R_MAXF];
} rline;

static bool dig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Strict UTF-8: the length of the sequence at p, or 0 when malformed. *cp gets the code point. */
static size_t r_utf8(const unsigned char *p, size_t left, unsigned *cp)
{
    unsigned c = p[0];
    size_t k;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, min = 0x80, *cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, min = 0x800, *cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, min = 0x10000, *cp = c & 0x07;
    else
        return 0;
    if (left < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return k;
}

static bool r_utf8_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t k = r_utf8((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

/* Text: no C0 control (tab neither), no DEL, no C1 control; *chars code points. */
static bool r_text(const char *s, size_t n, size_t *chars)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t l = r_utf8((const unsigned char *)s + i, n - i, &cp);
        if (!l || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return false;
        i += l;
        k++;
    }
    *chars = k;
    return true;
}

/* Money: -?(0|[1-9][0-9]*)(\.[0-9]{1,2})?, no negative zero ("bankfile.amount"), the value in
 * int64_t fen ("bankfile.amount_range"), then the sign ("bankfile.amount_sign"). */
static const char *r_money(const char *s, size_t n, char sign, int64_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    i += neg;
    size_t a = i;
    while (i < n && dig(s[i]))
        i++;
    if (i == a || (i - a > 1 && s[a] == '0'))
        return "bankfile.amount";
    __int128 v = 0;
    bool big = false;
    for (size_t k = a; k < i; k++) {
        v = v * 10 + (s[k] - '0');
        if (v > ((__int128)1 << 80))
            big = true, v = (__int128)1 << 80;
    }
    v *= 100;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && dig(s[i]))
            i++;
        if (i == f || i - f > 2)
            return "bankfile.amount";
        v += (s[f] - '0') * 10 + (i - f == 2 ? s[f + 1] - '0' : 0);
    }
    if (i != n)
        return "bankfile.amount";
    if (neg && v == 0)
        return "bankfile.amount";
    if (big || v > INT64_MAX)
        return "bankfile.amount_range";
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    if ((sign == 'z' && x == 0) || (sign == 'p' && x <= 0) || (sign == 'n' && x < 0))
        return "bankfile.amount_sign";
    *out = x;
    return NULL;
}

/* One field by the reference: NULL when fine. */
static const char *r_field(const rfield *f, hpf_bankfile_kind kind, const char *s, size_t n,
                           rval *v)
{
    v->s = s;
    v->n = n;
    v->i = 0;
    v->present = n > 0;
    if (n == 0)
        return f->optional ? NULL : "bankfile.required";
    switch (f->kind) {
    case 'S': {
        /* notices carry up to 18 digits, batch files number lines up to the line limit */
        int64_t top =
            kind == HPF_BANKFILE_NOTICE ? INT64_C(999999999999999999) : HPF_BANKFILE_MAX_LINES;
        if (s[0] == '0' || n > 18)
            return "bankfile.seq";
        int64_t x = 0;
        for (size_t i = 0; i < n; i++) {
            if (!dig(s[i]))
                return "bankfile.seq";
            x = x * 10 + (s[i] - '0');
        }
        if (x > top)
            return "bankfile.seq";
        v->i = x;
        return NULL;
    }
    case 'D':
    case 'B':
    case 'C':
        if ((int)n > f->max)
            return "bankfile.too_long";
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            bool ok =
                dig(c) || (f->kind == 'C' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                              c == '.' || c == '_' || c == '-'));
            if (!ok)
                return f->kind == 'C'   ? "bankfile.code"
                       : f->kind == 'B' ? "bankfile.bank_no"
                                        : "bankfile.digits";
        }
        if ((int)n < f->min)
            return f->kind == 'B' ? "bankfile.bank_no" : "bankfile.digits";
        return NULL;
    case 'T': {
        size_t chars;
        if (!r_text(s, n, &chars))
            return "bankfile.text";
        return (int)chars > f->max ? "bankfile.too_long" : NULL;
    }
    case 'M':
        return r_money(s, n, f->sign, &v->i);
    case 'd': {
        if (n != 8)
            return "bankfile.date";
        for (size_t i = 0; i < 8; i++)
            if (!dig(s[i]))
                return "bankfile.date";
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y = two(s) * 100 + two(s + 2), m = two(s + 4), d = two(s + 6);
        if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
            return "bankfile.date";
        v->i = hpf_day_from_ymd(y, m, d);
        return NULL;
    }
    case 't':
        if (n != 6)
            return "bankfile.time";
        for (size_t i = 0; i < 6; i++)
            if (!dig(s[i]))
                return "bankfile.time";
        if (two(s) > 23 || two(s + 2) > 59 || two(s + 4) > 59)
            return "bankfile.time";
        v->i = two(s) * 3600 + two(s + 2) * 60 + two(s + 4);
        return NULL;
    case 'E':
        if (n != 1 || s[0] < '0' || s[0] > '0' + f->max)
            return kind == HPF_BANKFILE_NOTICE ? "bankfile.reversal" : "bankfile.result";
        v->i = s[0] - '0';
        return NULL;
    }
    return "unknown kind";
}

typedef struct rfile {
    size_t lines;
    const char *file_rule; /* a fault of the whole file, or NULL */
    rline *line;           /* [lines] */
    char **text;           /* the decoded lines, owned */
} rfile;

static void rfile_free(rfile *r)
{
    for (size_t i = 0; i < r->lines; i++)
        free(r->text[i]);
    free(r->text);
    free(r->line);
}

static const rfield *r_layout(hpf_bankfile_kind kind, size_t *nf, const char **sep, bool *after)
{
    *sep = "@|$";
    *after = true;
    switch (kind) {
    case HPF_BANKFILE_NOTICE:
        *nf = 23, *sep = "|", *after = false;
        return r_notice;
    case HPF_BANKFILE_PAY_SAME:
        *nf = 10;
        return r_same;
    case HPF_BANKFILE_PAY_CROSS:
        *nf = 13;
        return r_cross;
    default:
        *nf = 5;
        return r_result;
    }
}

static void r_fail(rline *l, const char *key, const char *rule)
{
    snprintf(l->key, sizeof l->key, "%s", key ? key : "");
    l->rule = rule;
}

static void reference(rfile *r, hpf_bankfile_kind kind, const char *s, size_t n, bool gb)
{
    memset(r, 0, sizeof *r);
    size_t nf;
    const char *sep;
    bool after;
    const rfield *fs = r_layout(kind, &nf, &sep, &after);
    size_t sl = strlen(sep);
    if (!gb && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
        s += 3, n -= 3;
    if (n == 0 && kind != HPF_BANKFILE_NOTICE && kind != HPF_BANKFILE_RESULT) {
        r->file_rule = "bankfile.empty";
        return;
    }
    /* lines: the pieces between LF bytes, without a last empty piece; a CR before the LF goes */
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '\n';
    if (n > 0 && s[n - 1] != '\n')
        count++;
    if (count > HPF_BANKFILE_MAX_LINES) {
        r->file_rule = "bankfile.too_many_lines";
        return;
    }
    r->lines = count;
    r->line = calloc(count ? count : 1, sizeof *r->line);
    r->text = calloc(count ? count : 1, sizeof *r->text);
    iconv_t cd = gb ? iconv_open("UTF-8", "GB18030") : (iconv_t)-1;
    CHECK(!gb || cd != (iconv_t)-1, "iconv");
    unsigned char *seen = calloc(HPF_BANKFILE_MAX_LINES + 1, 1);
    size_t pos = 0;
    for (size_t ln = 0; ln < count; ln++) {
        rline *L = &r->line[ln];
        L->rule = "";
        size_t end = pos;
        while (end < n && s[end] != '\n')
            end++;
        size_t a = pos, b = end;
        pos = end + 1;
        if (b > a && s[b - 1] == '\r')
            b--;
        if (b == a) {
            r_fail(L, NULL, "bankfile.line_empty");
            continue;
        }
        if (b - a > HPF_BANKFILE_MAX_LINE) {
            r_fail(L, NULL, "bankfile.line_too_long");
            continue;
        }
        char *t;
        size_t tn;
        if (gb) {
            size_t cap = 4 * (b - a) + 4, il = b - a, ol = cap;
            t = malloc(cap);
            char *ip = (char *)s + a, *op = t;
            iconv(cd, NULL, NULL, NULL, NULL);
            if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
                free(t);
                r_fail(L, NULL, "bankfile.encoding");
                continue;
            }
            tn = cap - ol;
        } else {
            if (!r_utf8_ok(s + a, b - a)) {
                r_fail(L, NULL, "bankfile.encoding");
                continue;
            }
            t = malloc(b - a + 1);
            memcpy(t, s + a, b - a);
            tn = b - a;
        }
        r->text[ln] = t;
        /* fields */
        if (after) {
            if (tn < sl || memcmp(t + tn - sl, sep, sl)) {
                r_fail(L, NULL, "bankfile.trailing_separator");
                continue;
            }
            tn -= sl;
        }
        size_t starts[R_MAXF + 2], lens[R_MAXF + 2], k = 0, i = 0, f0 = 0;
        for (;;) {
            bool at = i + sl <= tn && !memcmp(t + i, sep, sl);
            if (at || i == tn) {
                if (k < R_MAXF + 2)
                    starts[k] = f0, lens[k] = i - f0;
                k++;
                if (!at)
                    break;
                i += sl;
                f0 = i;
                continue;
            }
            i++;
        }
        if (!after && k == nf + 1 && lens[nf] == 0)
            k = nf;
        if (k != nf) {
            r_fail(L, NULL, "bankfile.fields");
            continue;
        }
        const char *bad = NULL;
        size_t fi;
        for (fi = 0; fi < nf && !bad; fi++)
            bad = r_field(&fs[fi], kind, t + starts[fi], lens[fi], &L->v[fi]);
        if (bad) {
            r_fail(L, fs[fi - 1].key, bad);
            continue;
        }
        if (kind == HPF_BANKFILE_PAY_SAME || kind == HPF_BANKFILE_PAY_CROSS) {
            int64_t amount = L->v[1].i, principal = L->v[nf - 2].i, interest = L->v[nf - 1].i;
            if (L->v[0].i != (int64_t)ln + 1) {
                r_fail(L, "seq", "bankfile.seq_order");
                continue;
            }
            if ((__int128)principal + interest != amount) {
                r_fail(L, "amount", "bankfile.sum");
                continue;
            }
        }
        if (kind == HPF_BANKFILE_RESULT) {
            if (seen[L->v[0].i]) {
                r_fail(L, "seq", "bankfile.seq_duplicate");
                continue;
            }
            seen[L->v[0].i] = 1;
        }
    }
    free(seen);
    if (gb)
        iconv_close(cd);
}

/* ---- comparing the parser with the reference ---- */

static void same_str(const char *got, const rval *v, const char *what, size_t line)
{
    CHECK(got && strlen(got) == v->n && !memcmp(got, v->s, v->n), "line %zu %s: \"%s\"", line, what,
          got ? got : "(null)");
}

static void same_money(int64_t got, bool got_has, const rval *v, int has, const char *what,
                       size_t line)
{
    if (has)
        CHECK(got_has == v->present, "line %zu %s present %d", line, what, got_has);
    if (!has || v->present)
        CHECK(got == v->i, "line %zu %s %lld want %lld", line, what, (long long)got,
              (long long)v->i);
}

static void check_notice(const hpf_bankfile_notice *r, const rval *v, size_t ln)
{
    CHECK(r->seq == v[0].i, "line %zu seq", ln);
    same_str(r->account, &v[1], "account", ln);
    same_str(r->host_serial, &v[2], "host_serial", ln);
    same_str(r->tx_code, &v[3], "tx_code", ln);
    same_str(r->peer_account, &v[4], "peer_account", ln);
    same_str(r->peer_name, &v[5], "peer_name", ln);
    same_money(r->amount, true, &v[6], 0, "amount", ln);
    CHECK(r->date == v[7].i, "line %zu date", ln);
    CHECK(r->time == v[8].i, "line %zu time", ln);
    same_money(r->available, r->has_available, &v[9], 1, "available", ln);
    same_str(r->open_branch, &v[10], "open_branch", ln);
    same_str(r->remark, &v[11], "remark", ln);
    same_str(r->currency, &v[12], "currency", ln);
    same_str(r->cash_remit, &v[13], "cash_remit", ln);
    same_money(r->balance, r->has_balance, &v[14], 1, "balance", ln);
    same_money(r->overdraft, r->has_overdraft, &v[15], 1, "overdraft", ln);
    same_str(r->voucher_type, &v[16], "voucher_type", ln);
    same_str(r->voucher_no, &v[17], "voucher_no", ln);
    same_str(r->peer_bank, &v[18], "peer_bank", ln);
    same_str(r->summary, &v[19], "summary", ln);
    CHECK((int64_t)r->reversal == v[20].i, "line %zu reversal", ln);
    same_str(r->item_no, &v[21], "item_no", ln);
    same_str(r->book_no, &v[22], "book_no", ln);
}

static void check_payment(const hpf_bankfile_payment *r, const rval *v, bool cross, size_t ln)
{
    static const rval empty = {"", 0, 0, false};
    size_t o = cross ? 3 : 0;
    CHECK(r->seq == v[0].i && r->amount == v[1].i, "line %zu seq, amount", ln);
    same_str(r->payee_account, &v[2], "payee_account", ln);
    same_str(r->payee_name, &v[3], "payee_name", ln);
    same_str(r->payee_bank, cross ? &v[4] : &empty, "payee_bank", ln);
    same_str(r->payee_branch_bank, cross ? &v[5] : &empty, "payee_branch_bank", ln);
    same_str(r->payee_address, cross ? &v[6] : &empty, "payee_address", ln);
    same_str(r->summary, &v[4 + o], "summary", ln);
    same_str(r->ref_account, &v[5 + o], "ref_account", ln);
    same_str(r->ref_serial1, &v[6 + o], "ref_serial1", ln);
    same_str(r->ref_serial2, &v[7 + o], "ref_serial2", ln);
    CHECK(r->principal == v[8 + o].i && r->interest == v[9 + o].i, "line %zu principal", ln);
}

static void check_outcome(const hpf_bankfile_outcome *r, const rval *v, size_t ln)
{
    CHECK(r->seq == v[0].i && r->amount == v[1].i, "line %zu seq, amount", ln);
    same_str(r->payee_account, &v[2], "payee_account", ln);
    CHECK((int64_t)r->result == v[3].i, "line %zu result", ln);
    same_str(r->message, &v[4], "message", ln);
}

/* Two parses of the same records agree field by field (line numbers aside). */
static bool str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

static void same_records(const hpf_bankfile_parsed *a, const hpf_bankfile_parsed *b)
{
    CHECK(a->n == b->n, "%zu records, then %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        if (a->kind == HPF_BANKFILE_NOTICE) {
            const hpf_bankfile_notice *x = &a->notices[i], *y = &b->notices[i];
            CHECK(x->seq == y->seq && str_eq(x->account, y->account) &&
                      str_eq(x->host_serial, y->host_serial) && str_eq(x->tx_code, y->tx_code) &&
                      str_eq(x->peer_account, y->peer_account) &&
                      str_eq(x->peer_name, y->peer_name) && x->amount == y->amount &&
                      x->date == y->date && x->time == y->time &&
                      x->has_available == y->has_available && x->available == y->available &&
                      str_eq(x->open_branch, y->open_branch) && str_eq(x->remark, y->remark) &&
                      str_eq(x->currency, y->currency) && str_eq(x->cash_remit, y->cash_remit) &&
                      x->has_balance == y->has_balance && x->balance == y->balance &&
                      x->has_overdraft == y->has_overdraft && x->overdraft == y->overdraft &&
                      str_eq(x->voucher_type, y->voucher_type) &&
                      str_eq(x->voucher_no, y->voucher_no) && str_eq(x->peer_bank, y->peer_bank) &&
                      str_eq(x->summary, y->summary) && x->reversal == y->reversal &&
                      str_eq(x->item_no, y->item_no) && str_eq(x->book_no, y->book_no),
                  "notice %zu differs after the round trip", i);
        } else if (a->kind == HPF_BANKFILE_RESULT) {
            const hpf_bankfile_outcome *x = &a->outcomes[i], *y = &b->outcomes[i];
            CHECK(x->seq == y->seq && x->amount == y->amount &&
                      str_eq(x->payee_account, y->payee_account) && x->result == y->result &&
                      str_eq(x->message, y->message),
                  "outcome %zu differs after the round trip", i);
        } else {
            const hpf_bankfile_payment *x = &a->payments[i], *y = &b->payments[i];
            CHECK(x->seq == y->seq && x->amount == y->amount &&
                      str_eq(x->payee_account, y->payee_account) &&
                      str_eq(x->payee_name, y->payee_name) &&
                      str_eq(x->payee_bank, y->payee_bank) &&
                      str_eq(x->payee_branch_bank, y->payee_branch_bank) &&
                      str_eq(x->payee_address, y->payee_address) &&
                      str_eq(x->summary, y->summary) && str_eq(x->ref_account, y->ref_account) &&
                      str_eq(x->ref_serial1, y->ref_serial1) &&
                      str_eq(x->ref_serial2, y->ref_serial2) && x->principal == y->principal &&
                      x->interest == y->interest,
                  "payment %zu differs after the round trip", i);
        }
    }
}

static int write_records(hpf_buf *b, const hpf_bankfile_parsed *p, hpf_bankfile_enc enc,
                         hpf_bankfile_eol eol, hpf_err *err)
{
    switch (p->kind) {
    case HPF_BANKFILE_NOTICE:
        return hpf_bankfile_write_notices(b, p->notices, p->n, enc, eol, err);
    case HPF_BANKFILE_RESULT:
        return hpf_bankfile_write_outcomes(b, p->outcomes, p->n, enc, eol, err);
    default:
        return hpf_bankfile_write_payments(b, p->kind, p->payments, p->n, enc, eol, err);
    }
}

static void round_trip(const hpf_bankfile_parsed *p, hpf_bankfile_enc enc, hpf_bankfile_eol eol)
{
    hpf_buf b = HPF_BUF_INIT, again = HPF_BUF_INIT;
    hpf_err err = HPF_ERR_INIT;
    int rc = write_records(&b, p, enc, eol, &err);
    if (rc < 0) {
        /* allowed only: a character GB18030 cannot carry, or a payment file without lines */
        CHECK(enc == HPF_BANKFILE_GB18030 && !strcmp(err.rule, "bankfile.encoding"),
              "the writer refused parsed records: %s %s (%s)", err.field, err.msg, err.rule);
        CHECK(b.len == 0, "nothing written on error");
        hpf_buf_cleanup(&b);
        return;
    }
    hpf_bankfile_parsed *q = NULL;
    rc = hpf_bankfile_parse(&q, p->kind, b.data, b.len, enc, &err);
    CHECK(rc == 0, "the writer's output does not parse: %s %s (%s)", err.field, err.msg, err.rule);
    CHECK(q->lines == p->n, "%zu lines written, %zu read", p->n, q->lines);
    same_records(p, q);
    CHECK(write_records(&again, q, enc, eol, &err) == 0 && again.len == b.len &&
              (b.len == 0 || !memcmp(again.data, b.data, b.len)),
          "writing the parsed output again gives other bytes");
    hpf_bankfile_parsed_free(q);
    hpf_buf_cleanup(&b);
    hpf_buf_cleanup(&again);
}

static void check_error_shape(const hpf_err *e, size_t lines, size_t *line_out, char *key,
                              size_t keycap)
{
    CHECK(!strncmp(e->rule, "bankfile.", 9), "rule \"%s\"", e->rule);
    CHECK(e->code == HPF_EINVAL, "code %d", e->code);
    CHECK(memchr(e->msg, '\0', sizeof e->msg) && e->msg[0], "message");
    unsigned long n = 0;
    int used = 0;
    CHECK(sscanf(e->field, "/lines/%lu%n", &n, &used) == 1, "field \"%s\"", e->field);
    CHECK(n >= 1 && n <= lines, "error on line %lu of %zu", n, lines);
    const char *rest = e->field + used;
    CHECK(*rest == '\0' || *rest == '/', "field \"%s\"", e->field);
    snprintf(key, keycap, "%s", *rest ? rest + 1 : "");
    *line_out = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    static const hpf_bankfile_kind kinds[4] = {HPF_BANKFILE_NOTICE, HPF_BANKFILE_PAY_SAME,
                                               HPF_BANKFILE_PAY_CROSS, HPF_BANKFILE_RESULT};
    hpf_bankfile_kind kind = kinds[data[0] & 3];
    hpf_bankfile_enc enc = data[0] & 4 ? HPF_BANKFILE_GB18030 : HPF_BANKFILE_UTF8;
    hpf_bankfile_eol eol = data[0] & 8 ? HPF_BANKFILE_CRLF : HPF_BANKFILE_LF;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    rfile ref;
    reference(&ref, kind, s, n, enc == HPF_BANKFILE_GB18030);

    hpf_bankfile_parsed *p = NULL;
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_bankfile_parse(&p, kind, s, n, enc, &err);

    if (ref.file_rule) {
        CHECK(rc < 0 && !p && !strcmp(err.rule, ref.file_rule), "file fault %s, got %d %s",
              ref.file_rule, rc, err.rule);
        rfile_free(&ref);
        return 0;
    }
    CHECK(p, "no result (rc %d, %s %s)", rc, err.rule, err.msg);
    CHECK(p->lines == ref.lines, "%zu lines, the reference %zu", p->lines, ref.lines);
    CHECK(p->kind == kind, "kind");
    CHECK(p->nerrors <= HPF_BANKFILE_MAX_ERRORS && p->nerrors <= p->errors_total &&
              p->nerrors == (p->errors_total < HPF_BANKFILE_MAX_ERRORS ? p->errors_total
                                                                       : HPF_BANKFILE_MAX_ERRORS),
          "%zu errors kept of %zu", p->nerrors, p->errors_total);
    CHECK(p->n + p->errors_total == p->lines, "%zu good + %zu bad != %zu lines", p->n,
          p->errors_total, p->lines);
    CHECK((rc == 0) == (p->errors_total == 0) && (rc == 0 || rc == HPF_EINVAL), "rc %d", rc);
    if (rc)
        CHECK(!memcmp(&err, &p->errors[0], sizeof err), "err is the first error");

    /* walk the lines: good ones against the records, bad ones against the kept errors */
    size_t gi = 0, ei = 0, bad_seen = 0;
    for (size_t ln = 1; ln <= ref.lines; ln++) {
        const rline *L = &ref.line[ln - 1];
        if (!*L->rule) {
            CHECK(gi < p->n, "line %zu is good for the reference only", ln);
            if (kind == HPF_BANKFILE_NOTICE) {
                CHECK(p->notices[gi].line == ln, "record line %u, want %zu",
                      (unsigned)p->notices[gi].line, ln);
                check_notice(&p->notices[gi], L->v, ln);
            } else if (kind == HPF_BANKFILE_RESULT) {
                CHECK(p->outcomes[gi].line == ln, "record line");
                check_outcome(&p->outcomes[gi], L->v, ln);
            } else {
                CHECK(p->payments[gi].line == ln, "record line");
                check_payment(&p->payments[gi], L->v, kind == HPF_BANKFILE_PAY_CROSS, ln);
            }
            gi++;
            continue;
        }
        bad_seen++;
        if (ei >= p->nerrors)
            continue; /* past the kept errors: counted only */
        size_t eln;
        char key[64];
        check_error_shape(&p->errors[ei], ref.lines, &eln, key, sizeof key);
        CHECK(eln == ln, "error %zu is on line %zu, the reference's on %zu (%s)", ei, eln, ln,
              L->rule);
        CHECK(!strcmp(p->errors[ei].rule, L->rule), "line %zu: rule %s, the reference %s (%s)", ln,
              p->errors[ei].rule, L->rule, p->errors[ei].msg);
        CHECK(!strcmp(key, L->key), "line %zu: field \"%s\", the reference \"%s\"", ln, key,
              L->key);
        ei++;
    }
    CHECK(gi == p->n && bad_seen == p->errors_total && ei == p->nerrors,
          "records %zu/%zu, errors %zu/%zu", gi, p->n, bad_seen, p->errors_total);

    /* round trips: every good file; of a file with bad lines, the good notices and results
     * (a payment batch with a line left out no longer numbers 1..n) */
    bool payment = kind == HPF_BANKFILE_PAY_SAME || kind == HPF_BANKFILE_PAY_CROSS;
    if ((p->errors_total == 0 || !payment) && !(payment && p->n == 0)) {
        round_trip(p, enc, eol);
        round_trip(p, enc == HPF_BANKFILE_UTF8 ? HPF_BANKFILE_GB18030 : HPF_BANKFILE_UTF8, eol);
        hpf_buf b = HPF_BUF_INIT;
        CHECK(write_records(&b, p, HPF_BANKFILE_UTF8, eol, &err) == 0,
              "UTF-8 carries every parsed record: %s %s", err.field, err.msg);
        hpf_buf_cleanup(&b);
    }

    hpf_bankfile_parsed_free(p);
    rfile_free(&ref);
    return 0;
}
