/* domain/roster: the roster CSV file, both ways (docs/internals/roster.md). */
#include "domain/roster.h"

#include "base/err.h"
#include "base/mem.h"
#include "domain/ids.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Fields one record may hold; a file with more columns is no roster. */
#define MAX_FIELDS 32

static const struct {
    const char *zh, *en;
    bool required;
} cols[HPF_ROSTER_NCOLS] = {
    [HPF_ROSTER_ACCOUNT_NO] = {"个人账号", "account_no", true},
    [HPF_ROSTER_NAME] = {"姓名", "name", false},
    [HPF_ROSTER_UNIT] = {"单位缴存额", "unit", true},
    [HPF_ROSTER_INDIVIDUAL] = {"个人缴存额", "individual", true},
};

const char *hpf_roster_col_name(int col)
{
    return col >= 0 && col < HPF_ROSTER_NCOLS ? cols[col].en : "";
}

/* ---- errors ---- */

/* Copy at most cap-1 bytes of valid UTF-8 `s` (n bytes), cut at a code point boundary, with
 * control characters (C0, DEL, C1) shown as '?': what reaches a message stays printable. */
static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0) {
            dst[w++] = '?'; /* U+0080..U+009F */
            i++;
        } else {
            dst[w++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
        }
    }
    dst[w] = '\0';
}

/* A short quotation of a cell for a message: at most 40 bytes and "…" when cut. */
static const char *excerpt(char out[48], const char *s)
{
    size_t n = strlen(s);
    copy_text(out, 41, s, n);
    size_t k = strlen(out);
    if (k < n)
        memcpy(out + k, "\xe2\x80\xa6", 4); /* fits: 40 + 3 + NUL < 48 */
    return out;
}

static void add_err(hpf_roster *r, int64_t row, uint32_t line, int col, const char *column,
                    const char *rule, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add_err(hpf_roster *r, int64_t row, uint32_t line, int col, const char *column,
                    const char *rule, const char *fmt, ...)
{
    r->errors_total++;
    if (r->nerrors >= HPF_ROSTER_MAX_ERRORS)
        return;
    if (!r->errors)
        r->errors = hpf_xcalloc(HPF_ROSTER_MAX_ERRORS, sizeof *r->errors);
    hpf_roster_error *e = &r->errors[r->nerrors++];
    char msg[512]; /* longer than detail: copy_text cuts it at a character boundary */
    va_list ap;
    e->row = row;
    e->line = line ? line : 1;
    e->col = col;
    copy_text(e->column, sizeof e->column, column ? column : "", column ? strlen(column) : 0);
    snprintf(e->rule, sizeof e->rule, "%s", rule);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    copy_text(e->detail, sizeof e->detail, msg, strlen(msg));
}

static bool has_rule(const hpf_roster *r, const char *rule)
{
    for (size_t i = 0; i < r->nerrors; i++)
        if (!strcmp(r->errors[i].rule, rule))
            return true;
    return false;
}

/* ---- encoding ---- */

static uint32_t line_at(const unsigned char *d, size_t off)
{
    uint32_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += d[i] == '\n';
    return line;
}

/* The offset of the first ill-formed UTF-8 sequence, or len when all of d is valid UTF-8:
 * shortest forms only, no surrogates, nothing above U+10FFFF. */
static size_t utf8_invalid_at(const unsigned char *d, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = d[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((d[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (d[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n + 1;
    }
    return len;
}

/* Decode the file into r->text (UTF-8, NUL-terminated, without a BOM): *n its length. Returns
 * false after adding a roster.encoding error. `utf8_line` gets the line of the first byte that
 * is not UTF-8 (0 when all are), for the hint when a broken UTF-8 file read as GB18030 gives
 * nonsense. */
static bool decode(hpf_roster *r, const unsigned char *d, size_t len, size_t *n,
                   uint32_t *utf8_line)
{
    static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
    *utf8_line = 0;
    if (len >= 2 && ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
        add_err(r, -1, 1, -1, NULL, "roster.encoding",
                "the file is UTF-16 (Excel's \"Unicode text\"); save it as \"CSV UTF-8\" or "
                "\"CSV (comma delimited)\"");
        return false;
    }
    const unsigned char *nul = memchr(d, 0, len);
    if (nul) {
        add_err(r, -1, line_at(d, (size_t)(nul - d)), -1, NULL, "roster.encoding",
                "the file holds a NUL byte: it is not a CSV text file (UTF-16 or a workbook?)");
        return false;
    }
    size_t bad = utf8_invalid_at(d, len);
    if (bad == len || (len >= 3 && !memcmp(d, bom, 3))) {
        if (bad != len) {
            /* A BOM says UTF-8: trying GB18030 would turn one broken byte into nonsense. */
            add_err(r, -1, line_at(d, bad), -1, NULL, "roster.encoding",
                    "byte 0x%02X on line %u is not UTF-8, although the file starts with a "
                    "UTF-8 byte order mark",
                    d[bad], line_at(d, bad));
            return false;
        }
        r->text = hpf_xmalloc(len + 1);
        memcpy(r->text, d, len);
        r->text[len] = '\0';
        *n = len;
        r->encoding = "UTF-8";
    } else {
        *utf8_line = line_at(d, bad);
        /* GB18030 is a superset of GBK and GB2312. Every character takes at least one byte and
         * gives at most four of UTF-8. */
        size_t cap = 4 * len + 4;
        r->text = hpf_xmalloc(cap + 1);
        iconv_t cd = iconv_open("UTF-8", "GB18030");
        if (cd == (iconv_t)-1) {
            add_err(r, -1, 1, -1, NULL, "roster.encoding",
                    "the file is not UTF-8 and this system cannot read GB18030");
            return false;
        }
        char *in = (char *)d, *outp = r->text;
        size_t inleft = len, outleft = cap;
        size_t rc = iconv(cd, &in, &inleft, &outp, &outleft);
        if (rc != (size_t)-1)
            rc = iconv(cd, NULL, NULL, &outp, &outleft);
        int e = errno;
        iconv_close(cd);
        if (rc == (size_t)-1) {
            size_t off = (size_t)((const unsigned char *)in - d);
            uint32_t line = line_at(d, off);
            if (e == EILSEQ && off < len)
                add_err(r, -1, line, -1, NULL, "roster.encoding",
                        "byte 0x%02X on line %u is neither UTF-8 nor GB18030 (GBK): save the "
                        "file as \"CSV UTF-8\"",
                        d[off], line);
            else
                add_err(r, -1, line, -1, NULL, "roster.encoding",
                        "the file ends inside a character: it is neither UTF-8 nor GB18030");
            return false;
        }
        *n = (size_t)(outp - r->text);
        r->text = hpf_xrealloc(r->text, *n + 1);
        r->text[*n] = '\0';
        r->encoding = "GB18030";
    }
    if (*n >= 3 && !memcmp(r->text, bom, 3)) {
        memmove(r->text, r->text + 3, *n - 3 + 1);
        *n -= 3;
    }
    return true;
}

/* ---- records (RFC 4180) ---- */

typedef struct parser {
    hpf_roster *r;
    char *s;
    size_t n, pos;
    uint32_t line;
    int64_t row;      /* the row index a record read now would get; -1 for the header */
    const int *map;   /* header: field -> column (-1 none); NULL while reading the header */
    char *const *hdr; /* header names as written, for messages */
    size_t nhdr;
} parser;

typedef struct record {
    char *f[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    size_t nf;
    uint32_t line;
    bool bad;
} record;

static void field_err(parser *p, size_t i, uint32_t line, const char *rule, const char *detail)
{
    int col = p->map && i < p->nhdr ? p->map[i] : -1;
    const char *name = p->hdr && i < p->nhdr ? p->hdr[i] : NULL;
    add_err(p->r, p->row, line, col, name, rule, "%s", detail);
}

/*
 * Read the record at p->pos: its fields unquoted in place (a field never grows when unquoted,
 * so the write position trails the read position) and NUL-terminated over the delimiter that
 * ended it. Returns false at the end of the text. A quote error marks the record bad; an
 * unterminated quote ends the text.
 */
static bool read_record(parser *p, record *rec)
{
    char *s = p->s;
    if (p->pos >= p->n)
        return false;
    rec->nf = 0;
    rec->line = p->line;
    rec->bad = false;
    for (size_t i = 0;; i++) {
        size_t w = p->pos, start = p->pos;
        uint32_t fline = p->line;         /* errors keep file order: a field's own line */
        bool junk = false, stray = false; /* a quote error in this field */
        if (s[p->pos] == '"') {
            uint32_t opened = p->line;
            p->pos++;
            for (;;) {
                if (p->pos >= p->n) {
                    field_err(p, i, opened, "roster.quote",
                              "a quoted field opened on this line is never closed");
                    rec->bad = junk = true;
                    break;
                }
                char c = s[p->pos];
                if (c == '"') {
                    if (p->pos + 1 < p->n && s[p->pos + 1] == '"') {
                        s[w++] = '"';
                        p->pos += 2;
                        continue;
                    }
                    p->pos++;
                    break;
                }
                if (c == '\n')
                    p->line++;
                s[w++] = c;
                p->pos++;
            }
            size_t q = p->pos;
            if (q < p->n && s[q] != ',' && s[q] != '\n' &&
                !(s[q] == '\r' && q + 1 < p->n && s[q + 1] == '\n')) {
                field_err(p, i, p->line, "roster.quote",
                          "text after the closing quote of a field: quote the whole field and "
                          "double the quotes inside it");
                rec->bad = junk = true;
                /* Resynchronise at the end of this physical line. */
                while (p->pos < p->n && s[p->pos] != '\n')
                    p->pos++;
            }
        } else {
            while (p->pos < p->n && s[p->pos] != ',' && s[p->pos] != '\n' &&
                   !(s[p->pos] == '\r' && p->pos + 1 < p->n && s[p->pos + 1] == '\n')) {
                stray |= s[p->pos] == '"';
                s[w++] = s[p->pos++];
            }
            if (stray) {
                field_err(p, i, p->line, "roster.quote",
                          "a quote inside an unquoted field: quote the whole field and double "
                          "the quotes inside it");
                rec->bad = true;
            }
        }
        /* What ended the field, read before its NUL may overwrite it. */
        char d = p->pos < p->n ? s[p->pos] : '\0';
        s[w] = '\0';
        if (w - start > HPF_ROSTER_MAX_FIELD && !junk && !stray) {
            char msg[96];
            snprintf(msg, sizeof msg, "a field is longer than %d bytes", HPF_ROSTER_MAX_FIELD);
            field_err(p, i, fline, "roster.field_length", msg);
            rec->bad = true;
        }
        if (i < MAX_FIELDS) {
            rec->f[i] = s + start;
            rec->len[i] = w - start;
            rec->nf = i + 1;
        } else if (i == MAX_FIELDS) {
            char msg[64];
            snprintf(msg, sizeof msg, "more than %d fields in one record", MAX_FIELDS);
            field_err(p, i, fline, "roster.fields", msg);
            rec->bad = true;
        }
        if (d == ',') {
            p->pos++;
            continue;
        }
        if (d == '\r')
            p->pos++;
        if (p->pos < p->n) { /* '\n' */
            p->pos++;
            p->line++;
        }
        return true;
    }
}

static bool blank(const record *rec)
{
    for (size_t i = 0; i < rec->nf; i++)
        if (rec->len[i])
            return false;
    return true;
}

/* Drop ASCII spaces and tabs around a cell (hand-edited files: "a, 523.00"). */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* ---- the header ---- */

static int find_col(const char *name)
{
    for (int c = 0; c < HPF_ROSTER_NCOLS; c++)
        if (!strcmp(name, cols[c].zh) || !strcasecmp(name, cols[c].en))
            return c;
    return -1;
}

/* Map the header's fields to columns; false after adding roster.columns errors. */
static bool read_header(parser *p, const record *rec, int *map, char **hdr, uint32_t utf8_line)
{
    bool ok = true;
    bool seen[HPF_ROSTER_NCOLS] = {false};
    char ex[48];
    if (rec->bad)
        return false; /* its fields are not what the file meant: the quote error says why */
    for (size_t i = 0; i < rec->nf; i++) {
        hdr[i] = trim(rec->f[i]);
        map[i] = -1;
        if (!*hdr[i])
            continue; /* a column without a name: its cells must be empty (Excel's trailing ,) */
        int c = find_col(hdr[i]);
        if (c < 0) {
            add_err(p->r, -1, rec->line, -1, hdr[i], "roster.columns",
                    "unknown column '%s': the columns are 个人账号|account_no, 姓名|name, "
                    "单位缴存额|unit, 个人缴存额|individual%s",
                    excerpt(ex, hdr[i]),
                    utf8_line ? " (the file was read as GB18030 because it is not UTF-8)" : "");
            ok = false;
        } else if (seen[c]) {
            add_err(p->r, -1, rec->line, c, hdr[i], "roster.columns",
                    "the column %s|%s appears twice", cols[c].zh, cols[c].en);
            ok = false;
        } else {
            seen[c] = true;
            map[i] = c;
            p->r->columns[c] = hdr[i];
        }
    }
    for (int c = 0; c < HPF_ROSTER_NCOLS; c++) {
        if (cols[c].required && !seen[c]) {
            add_err(p->r, -1, rec->line, c, cols[c].zh, "roster.columns",
                    "the header lacks the column %s|%s", cols[c].zh, cols[c].en);
            ok = false;
        }
    }
    return ok;
}

/* ---- cells ---- */

static void cell_err(parser *p, const record *rec, size_t i, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void cell_err(parser *p, const record *rec, size_t i, const char *rule, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    field_err(p, i, rec->line, rule, msg);
}

static bool all_digits_or_x(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == 'X'))
            return false;
    return n > 0;
}

static bool account_cell(parser *p, const record *rec, size_t i, const char **out)
{
    char *s = trim(rec->f[i]), ex[48];
    size_t n = strlen(s);
    hpf_err e = HPF_ERR_INIT;
    /* ="320900000000000013" is how the writer keeps Excel from making a number of it. */
    if (n >= 3 && s[0] == '=' && s[1] == '"' && s[n - 1] == '"' && all_digits_or_x(s + 2, n - 3)) {
        s[n - 1] = '\0';
        s += 2;
    }
    if (!*s) {
        cell_err(p, rec, i, "roster.account_no", "the account number is empty");
        return false;
    }
    if (hpf_acct_validate(s, &e) < 0) {
        if (strstr(s, "E+") || strstr(s, "e+"))
            cell_err(p, rec, i, "roster.account_no",
                     "'%s': the spreadsheet turned the account number into a number; format "
                     "the column as text and enter all 18 characters",
                     excerpt(ex, s));
        else
            cell_err(p, rec, i, "roster.account_no", "'%s': %s", excerpt(ex, s), e.msg);
        return false;
    }
    *out = s;
    return true;
}

/* A name cell: a leading ' before = + - @ or ' is the writer's formula guard, taken off. */
static bool name_cell(parser *p, const record *rec, size_t i, const char **out)
{
    char *s = rec->f[i];
    hpf_err e = HPF_ERR_INIT;
    *out = NULL;
    if (!*s)
        return true;
    if (s[0] == '\'' && s[1] && strchr("=+-@'", s[1]))
        s++;
    if (hpf_name_validate(s, "", &e) < 0) {
        cell_err(p, rec, i, "roster.name", "%s", e.msg);
        return false;
    }
    *out = s;
    return true;
}

static bool amount_cell(parser *p, const record *rec, size_t i, hpf_fen *out)
{
    char *s = trim(rec->f[i]), ex[48];
    const char *why = "is not an amount in yuan with at most two decimals, such as 523.00";
    if (!*s) {
        cell_err(p, rec, i, "roster.amount", "the amount is empty");
        return false;
    }
    if (hpf_money_parse(out, s, 0, HPF_MONEY_MAX) == 0)
        return true;
    const char *dot = strchr(s, '.');
    size_t decimals = dot ? strspn(dot + 1, "0123456789") : 0;
    hpf_fen v;
    if (s[0] == '-' && hpf_money_parse(&v, s + 1, 0, INT64_MAX / 2) == 0)
        why = "is negative";
    else if (hpf_money_parse(&v, s, 0, INT64_MAX / 2) == 0 ||
             (strspn(s, "0123456789") == strlen(s) && s[0] != '0'))
        why = "is out of range"; /* well-formed but larger than HPF_MONEY_MAX */
    else if (strpbrk(s, "eE"))
        why = "has an exponent: write the amount in full";
    else if (strchr(s, ','))
        why = "has a thousands separator: write 1234.00, not 1,234.00";
    else if (dot && decimals > 2 && !dot[1 + decimals])
        why = "has more than two decimals";
    else if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
        why = "has a leading zero";
    cell_err(p, rec, i, "roster.amount", "'%s' %s", excerpt(ex, s), why);
    return false;
}

/* ---- the file ---- */

int hpf_roster_parse(hpf_roster *out, const void *data, size_t len, size_t max_rows)
{
    hpf_roster *r = out;
    size_t n = 0, cap = 0;
    uint32_t utf8_line = 0;
    int map[MAX_FIELDS];
    char *hdr[MAX_FIELDS];
    record rec;
    bool have_header = false, stop = false;
    uint32_t header_line = 1;

    memset(r, 0, sizeof *r);
    if (len > HPF_ROSTER_MAX_BYTES) {
        add_err(r, -1, 1, -1, NULL, "roster.too_big", "the file is larger than %zu bytes",
                HPF_ROSTER_MAX_BYTES);
        return HPF_ETOOBIG;
    }
    if (!decode(r, data, len, &n, &utf8_line))
        return HPF_EUNPROC;

    parser p = {.r = r, .s = r->text, .n = n, .line = 1, .row = -1};
    for (;;) {
        size_t listed = r->nerrors, found = r->errors_total;
        if (stop || !read_record(&p, &rec))
            break;
        if (blank(&rec) && !rec.bad)
            continue;
        if (!have_header) {
            have_header = true;
            header_line = rec.line;
            if (!read_header(&p, &rec, map, hdr, utf8_line))
                break;
            p.map = map;
            p.hdr = hdr;
            p.nhdr = rec.nf;
            p.row = 0;
            continue;
        }
        if ((size_t)p.row >= max_rows) {
            /* The record past the limit is no row: what reading it found is not said. */
            r->nerrors = listed;
            r->errors_total = found;
            add_err(r, p.row, rec.line, -1, NULL, "roster.too_many_rows",
                    "a roster holds at most %zu rows", max_rows);
            break;
        }
        if (r->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            r->rows = hpf_xrealloc(r->rows, cap * sizeof *r->rows);
        }
        hpf_roster_row *row = &r->rows[r->nrows++];
        memset(row, 0, sizeof *row);
        row->line = rec.line;
        if (!rec.bad) {
            if (rec.nf < p.nhdr) {
                add_err(r, p.row, rec.line, -1, NULL, "roster.fields",
                        "%zu fields where the header has %zu", rec.nf, p.nhdr);
            } else {
                for (size_t i = 0; i < rec.nf; i++) {
                    int c = i < p.nhdr ? map[i] : -1;
                    if (c < 0 && rec.len[i])
                        add_err(r, p.row, rec.line, -1, NULL, "roster.fields",
                                "a value in field %zu, which has no column name in the header",
                                i + 1);
                    else if (c == HPF_ROSTER_ACCOUNT_NO)
                        account_cell(&p, &rec, i, &row->account_no);
                    else if (c == HPF_ROSTER_NAME)
                        name_cell(&p, &rec, i, &row->name);
                    else if (c == HPF_ROSTER_UNIT)
                        amount_cell(&p, &rec, i, &row->unit);
                    else if (c == HPF_ROSTER_INDIVIDUAL)
                        amount_cell(&p, &rec, i, &row->individual);
                }
            }
        }
        p.row++;
        stop = r->nerrors >= HPF_ROSTER_MAX_ERRORS;
    }
    if (!have_header)
        add_err(r, -1, 1, -1, NULL, "roster.empty", "the file is empty");
    else if (r->nrows == 0 && !r->errors_total)
        add_err(r, -1, header_line, -1, NULL, "roster.empty",
                "the file has no rows under its "
                "header");
    if (!r->errors_total)
        return 0;
    return has_rule(r, "roster.too_many_rows") ? HPF_ETOOBIG : HPF_EUNPROC;
}

void hpf_roster_cleanup(hpf_roster *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->errors);
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* ---- writing ---- */

/* One field, quoted when RFC 4180 wants it (a comma, a quote, CR or LF inside), and with a
 * leading ' when `guard` and it would start a spreadsheet formula. */
static int put_field(hpf_buf *out, const char *s, bool guard)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    int rc = quote ? hpf_buf_adds(out, "\"") : 0;
    if (rc == 0 && guard &&
        ((s[0] && strchr("=+-@", s[0])) || (s[0] == '\'' && s[1] && strchr("=+-@'", s[1]))))
        rc = hpf_buf_adds(out, "'");
    for (const char *q; rc == 0 && quote && (q = strchr(s, '"'));) {
        rc = hpf_buf_add(out, s, (size_t)(q - s + 1));
        if (rc == 0)
            rc = hpf_buf_adds(out, "\"");
        s = q + 1;
    }
    if (rc == 0)
        rc = hpf_buf_adds(out, s);
    return rc == 0 && quote ? hpf_buf_adds(out, "\"") : rc;
}

int hpf_roster_write(hpf_buf *out, const hpf_roster_row *rows, size_t n)
{
    char a[24], b[24];
    int rc = hpf_buf_adds(out, "\xef\xbb\xbf");
    for (int c = 0; rc == 0 && c < HPF_ROSTER_NCOLS; c++)
        rc = hpf_buf_printf(out, "%s%s", c ? "," : "", cols[c].zh);
    if (rc == 0)
        rc = hpf_buf_adds(out, "\r\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *acct = rows[i].account_no ? rows[i].account_no : "";
        /* ="…" only around what is digits (and X): anything else would be a formula. */
        if (all_digits_or_x(acct, strlen(acct)))
            rc = hpf_buf_printf(out, "\"=\"\"%s\"\"\"", acct);
        else
            rc = put_field(out, acct, true);
        if (rc == 0)
            rc = hpf_buf_adds(out, ",");
        if (rc == 0)
            rc = put_field(out, rows[i].name ? rows[i].name : "", true);
        if (rc == 0)
            rc = hpf_buf_printf(out, ",%s,%s\r\n", hpf_money_fmt(a, rows[i].unit),
                                hpf_money_fmt(b, rows[i].individual));
    }
    return rc;
}
