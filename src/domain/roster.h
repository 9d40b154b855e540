/*
 * roster: the monthly roster (汇缴清册) as a CSV file, read and written. What employers' agents
 * upload is what Excel's "Save as CSV" gives: UTF-8 with or without a BOM, or GB18030/GBK (the
 * default of Chinese Excel), detected here (valid UTF-8 is taken as UTF-8, anything else is
 * converted from GB18030 with glibc iconv); RFC 4180 quoting; CRLF or LF; a header row whose
 * columns are found by name in any order, Chinese or English. Pure: bytes in, rows and errors
 * out, no I/O, no clock. Every row error is collected (up to HPF_ROSTER_MAX_ERRORS) with the
 * file's line, the column and a stable rule name, so a user fixes the file in one go.
 * Design and the Excel traps: docs/internals/roster.md.
 */
#ifndef HPF_DOMAIN_ROSTER_H
#define HPF_DOMAIN_ROSTER_H

#include "base/buf.h"
#include "base/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest file accepted (the HTTP body limit is the same 1 MiB). */
#define HPF_ROSTER_MAX_BYTES ((size_t)1 << 20)
/* Longest field in bytes (after decoding to UTF-8 and unquoting). */
#define HPF_ROSTER_MAX_FIELD 256
/* Errors listed; more are counted in errors_total. */
#define HPF_ROSTER_MAX_ERRORS 100

/* The columns, in the order the writer puts them. */
enum { HPF_ROSTER_ACCOUNT_NO, HPF_ROSTER_NAME, HPF_ROSTER_UNIT, HPF_ROSTER_INDIVIDUAL };
#define HPF_ROSTER_NCOLS 4

typedef struct hpf_roster_row {
    const char *account_no; /* 18 characters, valid check character (points into the roster) */
    const char *name;       /* NULL when the file has no name column or the cell is empty */
    hpf_fen unit, individual;
    uint32_t line; /* the file line the record starts on, 1-based */
} hpf_roster_row;

typedef struct hpf_roster_error {
    int64_t row;      /* the data record (0-based, blank records not counted); -1: the file */
    uint32_t line;    /* 1-based, always within the file (whole-file problems: 1) */
    int col;          /* HPF_ROSTER_ACCOUNT_NO..; -1 when no one column is meant */
    char column[260]; /* the column's name as the file's header spells it, "" if none */
    char rule[32];    /* roster.amount, roster.account_no, ... (docs/internals/roster.md) */
    char detail[320]; /* for people: what is wrong and what would be right */
} hpf_roster_error;

typedef struct hpf_roster {
    hpf_roster_row *rows; /* every data record in file order; meaningful only when no error */
    size_t nrows;
    hpf_roster_error *errors; /* the first HPF_ROSTER_MAX_ERRORS errors, in file order */
    size_t nerrors;
    size_t errors_total;                   /* every error found (parsing stops at some) */
    const char *encoding;                  /* "UTF-8" or "GB18030"; NULL before detection */
    const char *columns[HPF_ROSTER_NCOLS]; /* header names as written; NULL when absent */
    char *text;                            /* internal: the decoded file the strings point into */
} hpf_roster;

#define HPF_ROSTER_INIT                                                                            \
    {                                                                                              \
        0                                                                                          \
    }

/*
 * Parse `len` bytes of a roster file into *out (which must be HPF_ROSTER_INIT or cleaned up),
 * with at most `max_rows` data records. Returns 0 when the file holds at least one row and no
 * error; HPF_EUNPROC when out->errors lists what is wrong (rules roster.encoding,
 * roster.quote, roster.columns, roster.fields, roster.field_length, roster.account_no,
 * roster.name, roster.amount, roster.empty); HPF_ETOOBIG for a file over HPF_ROSTER_MAX_BYTES
 * (roster.too_big) or with more than max_rows records (roster.too_many_rows), also listed in
 * out->errors. Amounts are yuan with at most two decimals in [0, HPF_MONEY_MAX] (the grammar of
 * hpf_money_parse). Free with hpf_roster_cleanup whatever the result.
 */
int hpf_roster_parse(hpf_roster *out, const void *data, size_t len, size_t max_rows);

/* Free what hpf_roster_parse allocated and reset *r to HPF_ROSTER_INIT. Accepts NULL. */
void hpf_roster_cleanup(hpf_roster *r);

/*
 * Append the roster as the CSV file hpf_roster_parse reads back to the same rows: a UTF-8 BOM
 * (Excel needs it to read UTF-8), the Chinese header, CRLF line ends, the account number as
 * ="…" (so Excel keeps all 18 digits instead of 3.209E+17), names quoted where RFC 4180 wants
 * and guarded with a leading ' when they start with = + - @ (no formula runs in a spreadsheet),
 * amounts as "523.00". `rows[i].line` is ignored; a NULL name is an empty cell. Returns 0 or
 * HPF_ETOOBIG (out over its maximum; out then holds part of the file).
 */
int hpf_roster_write(hpf_buf *out, const hpf_roster_row *rows, size_t n);

/* The canonical (English) name of a column: "account_no", "name", "unit", "individual". */
const char *hpf_roster_col_name(int col);

#endif
