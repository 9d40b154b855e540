/*
 * fuzz_roster_csv: arbitrary bytes through hpf_roster_parse (domain/roster.c), the roster CSV
 * file employers' agents upload, compared with a reference reader written here from RFC 4180
 * and the contract of domain/roster.h, plus invariants:
 *   - the parser accepts exactly what the reference accepts, and then with the same rows
 *     (account number, name or none, both amounts, the line each record starts on);
 *   - a refusal's first error lies in the first faulty record the reference finds (between the
 *     line it starts on and the line it ends on), or on the line of the reference's file-level
 *     problem (encoding, empty, too many rows);
 *   - every error has a documented rule, a line within the input (1 .. newlines + 1), errors
 *     come in file order, at most HPF_ROSTER_MAX_ERRORS, detail and column are printable UTF-8,
 *     row and column indices in range; a refusal is HPF_ETOOBIG exactly for too many rows;
 *   - accepted rows written with hpf_roster_write parse back to the same rows, and the written
 *     file has no cell that starts a spreadsheet formula (= + - @) but the ="digits" form of an
 *     account number;
 *   - no crash, leak or undefined behaviour (ASan, UBSan).
 * The reference shares nothing with src/domain/roster.c but the validators it applies to the
 * cells (hpf_acct_validate, hpf_name_validate, hpf_money_parse: fuzz_validators checks them)
 * and glibc's GB18030 decoder. At most 16 rows per roster, so the row limit is reachable.
 */
#include "base/buf.h"
#include "base/err.h"
#include "base/money.h"
#include "base/parse.h"
#include "domain/ids.h"
#include "domain/roster.h"

#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_roster_csv: %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_ROWS 16

/* ---- the reference ---- */

typedef struct ref_field {
    char *s; /* unquoted, NUL-terminated (malloc'd) */
    size_t n;
} ref_field;

typedef struct ref_rec {
    ref_field *f;
    size_t nf;
    uint32_t first, last; /* the lines the record spans */
    bool bad;             /* a quoting problem */
} ref_rec;

typedef struct ref_row {
    char acct[64];
    char name[300];
    bool has_name;
    hpf_fen unit, individual;
    uint32_t line;
} ref_row;

typedef struct ref_result {
    bool ok;
    uint32_t lo, hi; /* where the first problem lies when !ok */
    bool too_many;   /* that problem is the row limit */
    ref_row rows[MAX_ROWS];
    size_t nrows;
} ref_result;

/* Well-formed UTF-8 by the table of The Unicode Standard (ch. 3, "Well-Formed UTF-8 Byte
 * Sequences"): the offset of the first ill-formed sequence, or n. */
static size_t ref_utf8_bad(const unsigned char *s, size_t n)
{
    static const struct {
        unsigned char lo0, hi0, lo1, hi1;
        int len;
    } t[] = {
        {0x00, 0x7f, 0, 0, 1},       {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
        {0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
        {0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
    };
    size_t i = 0;
    while (i < n) {
        size_t k = 0;
        while (k < sizeof t / sizeof t[0] && !(s[i] >= t[k].lo0 && s[i] <= t[k].hi0))
            k++;
        if (k == sizeof t / sizeof t[0])
            return i;
        int len = t[k].len;
        if (len > 1) {
            if (i + (size_t)len > n || s[i + 1] < t[k].lo1 || s[i + 1] > t[k].hi1)
                return i;
            for (int j = 2; j < len; j++)
                if (s[i + (size_t)j] < 0x80 || s[i + (size_t)j] > 0xbf)
                    return i;
        }
        i += (size_t)len;
    }
    return n;
}

static uint32_t ref_line(const unsigned char *s, size_t off)
{
    uint32_t l = 1;
    while (off--)
        if (*s++ == '\n')
            l++;
    return l;
}

static void fail_at(ref_result *r, uint32_t lo, uint32_t hi)
{
    r->ok = false;
    r->lo = lo;
    r->hi = hi;
}

/* Decode to UTF-8 without a BOM: a malloc'd text, or NULL with r set to the problem. */
static char *ref_decode(const unsigned char *d, size_t n, size_t *tn, ref_result *r)
{
    char *text;
    if (n >= 2 && ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
        fail_at(r, 1, 1);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 0) {
            fail_at(r, ref_line(d, i), ref_line(d, i));
            return NULL;
        }
    }
    size_t bad = ref_utf8_bad(d, n);
    bool bom = n >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf;
    if (bad < n && bom) {
        fail_at(r, ref_line(d, bad), ref_line(d, bad));
        return NULL;
    }
    if (bad == n) {
        text = malloc(n + 1);
        memcpy(text, d, n);
        *tn = n;
    } else {
        size_t cap = 4 * n + 8, inleft = n, outleft = cap;
        text = malloc(cap + 1);
        char *in = (char *)d, *out = text;
        iconv_t cd = iconv_open("UTF-8", "GB18030");
        CHECK(cd != (iconv_t)-1, "no GB18030 in iconv");
        size_t rc = iconv(cd, &in, &inleft, &out, &outleft);
        if (rc != (size_t)-1)
            rc = iconv(cd, NULL, NULL, &out, &outleft);
        iconv_close(cd);
        if (rc == (size_t)-1) {
            uint32_t l = ref_line(d, (size_t)((unsigned char *)in - d));
            fail_at(r, l, l);
            free(text);
            return NULL;
        }
        *tn = (size_t)(out - text);
    }
    text[*tn] = '\0';
    if (*tn >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
        memmove(text, text + 3, *tn - 3 + 1);
        *tn -= 3;
    }
    return text;
}

/* RFC 4180 records with explicit states; a quote problem marks the record bad and, past a
 * closing quote, skips to the end of that line; an unclosed quote runs to the end. */
static ref_rec *ref_records(const char *s, size_t n, size_t *nrec)
{
    ref_rec *recs = NULL;
    size_t count = 0, cap = 0;
    size_t i = 0;
    uint32_t line = 1;
    while (i < n) {
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            recs = realloc(recs, cap * sizeof *recs);
        }
        ref_rec *rec = &recs[count++];
        memset(rec, 0, sizeof *rec);
        rec->first = line;
        size_t fcap = 0;
        enum { START, PLAIN, QUOTED, AFTER_CLOSE, SKIP } st = START;
        hpf_buf b = HPF_BUF_INIT;
        bool end = false;
        hpf_buf_add(&b, "", 0);
        while (!end) {
            bool at_end = i >= n;
            char c = at_end ? '\0' : s[i];
            bool crlf = !at_end && c == '\r' && i + 1 < n && s[i + 1] == '\n';
            bool delim = at_end || c == ',' || c == '\n' || crlf;
            switch (st) {
            case START:
                if (!at_end && c == '"') {
                    st = QUOTED;
                    i++;
                    continue;
                }
                st = PLAIN;
                continue;
            case PLAIN:
                if (!delim) {
                    if (c == '"')
                        rec->bad = true;
                    hpf_buf_add(&b, &c, 1);
                    i++;
                    continue;
                }
                break;
            case QUOTED:
                if (at_end) {
                    rec->bad = true;
                    break;
                }
                if (c == '"' && i + 1 < n && s[i + 1] == '"') {
                    hpf_buf_add(&b, "\"", 1);
                    i += 2;
                } else if (c == '"') {
                    st = AFTER_CLOSE;
                    i++;
                } else {
                    if (c == '\n')
                        line++;
                    hpf_buf_add(&b, &c, 1);
                    i++;
                }
                continue;
            case AFTER_CLOSE:
                if (!delim) {
                    rec->bad = true;
                    st = SKIP;
                    continue;
                }
                break;
            case SKIP:
                if (!at_end && c != '\n') {
                    i++;
                    continue;
                }
                break;
            }
            /* the field ends here */
            if (rec->nf == fcap) {
                fcap = fcap ? 2 * fcap : 8;
                rec->f = realloc(rec->f, fcap * sizeof *rec->f);
            }
            rec->f[rec->nf].n = b.len;
            rec->f[rec->nf].s = hpf_buf_detach(&b, NULL);
            if (!rec->f[rec->nf].s)
                rec->f[rec->nf].s = strdup("");
            rec->nf++;
            hpf_buf_add(&b, "", 0);
            st = START;
            if (!at_end && c == ',') {
                i++;
                continue;
            }
            rec->last = line;
            if (crlf)
                i++;
            if (i < n) {
                i++;
                line++;
            }
            end = true;
        }
        hpf_buf_cleanup(&b);
    }
    *nrec = count;
    return recs;
}

static void ref_free(ref_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < recs[i].nf; k++)
            free(recs[i].f[k].s);
        free(recs[i].f);
    }
    free(recs);
}

/* A copy of s without ASCII spaces and tabs at its ends. */
static void ref_trim(char *out, size_t cap, const char *s)
{
    size_t a = 0, b = strlen(s);
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    size_t n = b - a < cap - 1 ? b - a : cap - 1;
    memcpy(out, s + a, n);
    out[n] = '\0';
}

static const char *const ref_zh[4] = {"个人账号", "姓名", "单位缴存额", "个人缴存额"};
static const char *const ref_en[4] = {"account_no", "name", "unit", "individual"};

static bool ref_amount(const char *cell, hpf_fen *out)
{
    char t[300];
    ref_trim(t, sizeof t, cell);
    return hpf_money_parse(out, t, 0, HPF_MONEY_MAX) == 0;
}

static bool ref_account(const char *cell, char out[64])
{
    char t[300];
    ref_trim(t, sizeof t, cell);
    size_t n = strlen(t);
    const char *v = t;
    if (n >= 3 && t[0] == '=' && t[1] == '"' && t[n - 1] == '"') {
        bool plain = true;
        for (size_t k = 2; k < n - 1; k++)
            plain &= (t[k] >= '0' && t[k] <= '9') || t[k] == 'X';
        if (plain) {
            t[n - 1] = '\0';
            v = t + 2;
        }
    }
    size_t len = strlen(v);
    if (len >= 64 || hpf_acct_validate(v, NULL) < 0)
        return false;
    memcpy(out, v, len + 1);
    return true;
}

static bool ref_name(const char *cell, ref_row *row)
{
    const char *v = cell;
    row->has_name = false;
    if (!*v)
        return true;
    if (v[0] == '\'' && (v[1] == '=' || v[1] == '+' || v[1] == '-' || v[1] == '@' || v[1] == '\''))
        v++;
    size_t len = strlen(v);
    if (hpf_name_validate(v, "", NULL) < 0 || len >= sizeof row->name)
        return false;
    memcpy(row->name, v, len + 1);
    row->has_name = true;
    return true;
}

static void reference(const unsigned char *d, size_t n, ref_result *r)
{
    size_t tn, nrec;
    memset(r, 0, sizeof *r);
    r->ok = true;
    char *text = ref_decode(d, n, &tn, r);
    if (!text)
        return;
    ref_rec *recs = ref_records(text, tn, &nrec);
    int colmap[64];
    size_t ncols = 0;
    bool header = false;
    uint32_t header_line = 1;
    size_t data = 0;
    for (size_t k = 0; k < nrec && r->ok; k++) {
        ref_rec *rec = &recs[k];
        bool empty = true;
        for (size_t j = 0; j < rec->nf; j++)
            empty &= rec->f[j].n == 0;
        /* more than 32 fields is refused even when all are empty */
        bool bad = rec->bad || rec->nf > 32;
        if (empty && !bad)
            continue;
        for (size_t j = 0; j < rec->nf; j++)
            bad |= rec->f[j].n > HPF_ROSTER_MAX_FIELD;
        if (!header) {
            header = true;
            header_line = rec->first;
            ncols = rec->nf;
            bool seen[4] = {false};
            for (size_t j = 0; !bad && j < rec->nf; j++) {
                char t[300];
                ref_trim(t, sizeof t, rec->f[j].s);
                colmap[j] = -1;
                if (!*t)
                    continue;
                int c = -1;
                for (int q = 0; q < 4; q++)
                    if (!strcmp(t, ref_zh[q]) || !strcasecmp(t, ref_en[q]))
                        c = q;
                if (c < 0 || seen[c])
                    bad = true;
                else
                    seen[c] = true, colmap[j] = c;
            }
            if (!seen[0] || !seen[2] || !seen[3])
                bad = true;
            if (bad)
                fail_at(r, rec->first, rec->last);
            continue;
        }
        if (data == MAX_ROWS) {
            fail_at(r, rec->first, rec->last);
            r->too_many = true;
            break;
        }
        data++;
        ref_row row = {.line = rec->first};
        if (!bad && rec->nf < ncols)
            bad = true;
        for (size_t j = 0; !bad && j < rec->nf; j++) {
            int c = j < ncols ? colmap[j] : -1;
            const char *cell = rec->f[j].s;
            if (c < 0)
                bad = rec->f[j].n != 0;
            else if (c == 0)
                bad = !ref_account(cell, row.acct);
            else if (c == 1)
                bad = !ref_name(cell, &row);
            else if (c == 2)
                bad = !ref_amount(cell, &row.unit);
            else
                bad = !ref_amount(cell, &row.individual);
        }
        if (bad)
            fail_at(r, rec->first, rec->last);
        else
            r->rows[r->nrows++] = row;
    }
    if (r->ok && !header)
        fail_at(r, 1, 1);
    else if (r->ok && r->nrows == 0)
        fail_at(r, header_line, header_line);
    ref_free(recs, nrec);
    free(text);
}

/* ---- properties ---- */

static const char *const rules[] = {
    "roster.encoding",     "roster.quote",      "roster.columns",       "roster.fields",
    "roster.field_length", "roster.account_no", "roster.name",          "roster.amount",
    "roster.empty",        "roster.too_big",    "roster.too_many_rows",
};

static bool known_rule(const char *rule)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (!strcmp(rule, rules[i]))
            return true;
    return false;
}

static void check_errors(const hpf_roster *r, int rc, const uint8_t *data, size_t size)
{
    uint32_t lines = ref_line(data, size);
    CHECK(r->nerrors >= 1 && r->nerrors <= HPF_ROSTER_MAX_ERRORS, "%zu errors", r->nerrors);
    CHECK(r->errors_total >= r->nerrors, "total %zu < listed %zu", r->errors_total, r->nerrors);
    bool too_many = false;
    for (size_t i = 0; i < r->nerrors; i++) {
        const hpf_roster_error *e = &r->errors[i];
        CHECK(known_rule(e->rule), "rule %s", e->rule);
        CHECK(e->line >= 1 && e->line <= lines, "error %zu line %u of %u", i, e->line, lines);
        CHECK(i == 0 || e->line >= r->errors[i - 1].line, "error %zu line %u before %u", i, e->line,
              r->errors[i - 1].line);
        CHECK(e->detail[0] && hpf_text_ok(e->detail, strlen(e->detail), false), "detail %s",
              e->detail);
        CHECK(hpf_text_ok(e->column, strlen(e->column), false), "column");
        CHECK(e->row >= -1 && e->row <= (int64_t)r->nrows, "row %lld of %zu", (long long)e->row,
              r->nrows);
        CHECK(e->col >= -1 && e->col < HPF_ROSTER_NCOLS, "col %d", e->col);
        too_many |= !strcmp(e->rule, "roster.too_many_rows");
    }
    CHECK((rc == HPF_ETOOBIG) == too_many, "rc %d, too_many_rows %d", rc, too_many);
    CHECK(rc == HPF_ETOOBIG || rc == HPF_EUNPROC, "rc %d", rc);
}

static bool same_name(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Write the rows and read them back; check the formula guard on the way. */
static void round_trip(const hpf_roster *r)
{
    hpf_buf b = HPF_BUF_INIT;
    CHECK(hpf_roster_write(&b, r->rows, r->nrows) == 0, "write");
    size_t nrec;
    CHECK(b.len >= 3 && !memcmp(b.data, "\xef\xbb\xbf", 3), "BOM");
    ref_rec *recs = ref_records(b.data + 3, b.len - 3, &nrec);
    CHECK(nrec == r->nrows + 1, "%zu records for %zu rows", nrec, r->nrows);
    for (size_t k = 1; k < nrec; k++) {
        CHECK(!recs[k].bad && recs[k].nf == 4, "record %zu", k);
        for (size_t j = 0; j < 4; j++) {
            const char *f = recs[k].f[j].s;
            if (j == 0 && f[0] == '=') {
                CHECK(strlen(f) == 21 && f[1] == '"' && f[20] == '"', "account cell %s", f);
                continue;
            }
            CHECK(!strchr("=+-@", f[0]) || !f[0], "unguarded cell %s", f);
        }
    }
    ref_free(recs, nrec);
    hpf_roster back = HPF_ROSTER_INIT;
    int rc = hpf_roster_parse(&back, b.data, b.len, MAX_ROWS);
    CHECK(rc == 0, "the written roster is refused: %s %s", back.nerrors ? back.errors[0].rule : "",
          back.nerrors ? back.errors[0].detail : "");
    CHECK(back.nrows == r->nrows, "%zu rows back of %zu", back.nrows, r->nrows);
    for (size_t i = 0; i < r->nrows; i++) {
        const hpf_roster_row *x = &r->rows[i], *y = &back.rows[i];
        CHECK(!strcmp(x->account_no, y->account_no), "row %zu account", i);
        CHECK(same_name(x->name, y->name), "row %zu name %s / %s", i, x->name ? x->name : "-",
              y->name ? y->name : "-");
        CHECK(x->unit == y->unit && x->individual == y->individual, "row %zu amounts", i);
        CHECK(y->line == i + 2, "row %zu line %u", i, y->line);
    }
    hpf_roster_cleanup(&back);
    hpf_buf_cleanup(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    hpf_roster r = HPF_ROSTER_INIT;
    ref_result *ref = malloc(sizeof *ref);
    int rc = hpf_roster_parse(&r, data, size, MAX_ROWS);
    reference(data, size, ref);
    CHECK((rc == 0) == ref->ok, "parser rc %d (%s: %s, line %u), reference %s lines %u..%u", rc,
          r.nerrors ? r.errors[0].rule : "", r.nerrors ? r.errors[0].detail : "",
          r.nerrors ? r.errors[0].line : 0, ref->ok ? "accepts" : "refuses", ref->lo, ref->hi);
    if (rc == 0) {
        CHECK(r.nerrors == 0 && r.errors_total == 0, "errors on success");
        CHECK(r.nrows == ref->nrows, "%zu rows, reference %zu", r.nrows, ref->nrows);
        for (size_t i = 0; i < r.nrows; i++) {
            const hpf_roster_row *x = &r.rows[i];
            const ref_row *y = &ref->rows[i];
            CHECK(!strcmp(x->account_no, y->acct), "row %zu account %s / %s", i, x->account_no,
                  y->acct);
            CHECK(same_name(x->name, y->has_name ? y->name : NULL), "row %zu name", i);
            CHECK(x->unit == y->unit, "row %zu unit %lld / %lld", i, (long long)x->unit,
                  (long long)y->unit);
            CHECK(x->individual == y->individual, "row %zu individual", i);
            CHECK(x->line == y->line, "row %zu line %u / %u", i, x->line, y->line);
        }
        round_trip(&r);
    } else {
        check_errors(&r, rc, data, size);
        CHECK(r.errors[0].line >= ref->lo && r.errors[0].line <= ref->hi,
              "first error %s on line %u, reference lines %u..%u", r.errors[0].rule,
              r.errors[0].line, ref->lo, ref->hi);
        CHECK(ref->too_many == !strcmp(r.errors[0].rule, "roster.too_many_rows"),
              "too many rows first: parser %s, reference %d", r.errors[0].rule, ref->too_many);
    }
    hpf_roster_cleanup(&r);
    free(ref);
    return 0;
}
