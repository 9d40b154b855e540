/* Unit tests for domain/roster: the roster CSV file (docs/internals/roster.md). */
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "domain/ids.h"
#include "domain/roster.h"

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Member account number number `seq` (valid check character), into a static slot. */
static const char *acct(int seq)
{
    static char slots[8][19];
    char *out = slots[seq % 8];
    cr_assert_eq(hpf_acct_make_member(out, "320900", seq), 0);
    return out;
}

/* printf into a malloc'd string (the test input). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    hpf_buf b = HPF_BUF_INIT;
    va_start(ap, f);
    char tmp[8192];
    vsnprintf(tmp, sizeof tmp, f, ap);
    va_end(ap);
    hpf_buf_adds(&b, tmp);
    return hpf_buf_detach(&b, NULL);
}

static int parse(hpf_roster *r, const char *s)
{
    return hpf_roster_parse(r, s, strlen(s), 5000);
}

/* The error with this rule, or fail. */
static const hpf_roster_error *find(const hpf_roster *r, const char *rule, size_t nth)
{
    for (size_t i = 0; i < r->nerrors; i++)
        if (!strcmp(r->errors[i].rule, rule) && nth-- == 0)
            return &r->errors[i];
    cr_assert_fail("no error %s (%zu errors, first %s)", rule, r->nerrors,
                   r->nerrors ? r->errors[0].rule : "-");
    return NULL;
}

/* ---- encodings ---- */

Test(roster_parse, utf8_chinese_header)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in =
        fmt("个人账号,姓名,单位缴存额,个人缴存额\n%s,张三,523.00,523\n%s,李娜,1800.5,1800.05\n",
            acct(1), acct(2));
    cr_assert_eq(parse(&r, in), 0);
    cr_assert_str_eq(r.encoding, "UTF-8");
    cr_assert_eq(r.nrows, 2);
    cr_assert_str_eq(r.rows[0].account_no, acct(1));
    cr_assert_str_eq(r.rows[0].name, "张三");
    cr_assert_eq(r.rows[0].unit, 52300);
    cr_assert_eq(r.rows[0].individual, 52300);
    cr_assert_eq(r.rows[0].line, 2);
    cr_assert_str_eq(r.rows[1].name, "李娜");
    cr_assert_eq(r.rows[1].unit, 180050);
    cr_assert_eq(r.rows[1].individual, 180005);
    cr_assert_eq(r.rows[1].line, 3);
    cr_assert_str_eq(r.columns[HPF_ROSTER_UNIT], "单位缴存额");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, utf8_with_bom)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("\xef\xbb\xbf个人账号,单位缴存额,个人缴存额\r\n%s,1,2\r\n", acct(3));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_str_eq(r.encoding, "UTF-8");
    cr_assert_eq(r.nrows, 1);
    cr_assert_null(r.rows[0].name, "no name column: no name");
    cr_assert_eq(r.rows[0].unit, 100);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, gbk_bytes_as_excel_saves_them)
{
    /* 个人账号,姓名,单位缴存额,个人缴存额 / 张三 in GBK, as Chinese Excel's "CSV (逗号分隔)". */
    static const char head[] = "\xb8\xf6\xc8\xcb\xd5\xcb\xba\xc5,\xd0\xd5\xc3\xfb,"
                               "\xb5\xa5\xce\xbb\xbd\xc9\xb4\xe6\xb6\xee,"
                               "\xb8\xf6\xc8\xcb\xbd\xc9\xb4\xe6\xb6\xee\r\n";
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("%s%s,\xd5\xc5\xc8\xfd,523,523\r\n", head, acct(4));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_str_eq(r.encoding, "GB18030");
    cr_assert_eq(r.nrows, 1);
    cr_assert_str_eq(r.rows[0].name, "张三");
    cr_assert_str_eq(r.columns[HPF_ROSTER_ACCOUNT_NO], "个人账号");
    cr_assert_eq(r.rows[0].individual, 52300);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, bytes_neither_utf8_nor_gb18030_name_their_line)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("account_no,unit,individual\n%s,1,1\n%s,1,\xff\n", acct(5), acct(6));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    const hpf_roster_error *e = find(&r, "roster.encoding", 0);
    cr_assert_eq(e->line, 3);
    cr_assert(strstr(e->detail, "0xFF"), "%s", e->detail);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, utf16_and_nul_are_refused)
{
    hpf_roster r = HPF_ROSTER_INIT;
    static const char u16[] = "\xff\xfe"
                              "a\0c\0";
    cr_assert_eq(hpf_roster_parse(&r, u16, sizeof u16 - 1, 10), HPF_EUNPROC);
    cr_assert(strstr(find(&r, "roster.encoding", 0)->detail, "UTF-16"));
    hpf_roster_cleanup(&r);
    static const char nul[] = "account_no,unit,individual\n\0";
    cr_assert_eq(hpf_roster_parse(&r, nul, sizeof nul - 1, 10), HPF_EUNPROC);
    cr_assert_eq(find(&r, "roster.encoding", 0)->line, 2);
    hpf_roster_cleanup(&r);
}

Test(roster_parse, a_bom_then_broken_utf8_is_not_read_as_gb18030)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("\xef\xbb\xbf个人账号,单位缴存额,个人缴存额\n%s,1,1\xe5\n", acct(7));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(find(&r, "roster.encoding", 0)->line, 2);
    hpf_roster_cleanup(&r);
    free(in);
}

/* ---- RFC 4180 ---- */

Test(roster_parse, quoting_doubled_quotes_commas_and_newlines)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("\"name\",\"account_no\",unit,individual\n"
                   "\"王\"\"小\"\"芳\",\"%s\",\"1.5\",2\n"
                   "\"李,娜\",%s,3,4",
                   acct(8), acct(9));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_eq(r.nrows, 2);
    cr_assert_str_eq(r.rows[0].name, "王\"小\"芳");
    cr_assert_eq(r.rows[0].unit, 150);
    cr_assert_str_eq(r.rows[1].name, "李,娜");
    cr_assert_eq(r.rows[1].individual, 400, "last line without a line end");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, crlf_and_trailing_empty_lines)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("account_no,unit,individual\r\n\r\n%s,1,1\r\n,,\r\n%s,2,2\r\n\r\n\r\n\n",
                   acct(10), acct(11));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_eq(r.nrows, 2, "blank lines and Excel's empty rows (,,) are skipped");
    cr_assert_eq(r.rows[0].line, 3);
    cr_assert_eq(r.rows[1].line, 5);
    cr_assert_eq(r.rows[1].unit, 200);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, quote_errors)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("account_no,unit,individual\n%s,\"1\"x,1\n%s,1\"2,1\n%s,1,1\n", acct(12),
                   acct(13), acct(14));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 2);
    cr_assert_eq(find(&r, "roster.quote", 0)->line, 2);
    cr_assert_str_eq(find(&r, "roster.quote", 0)->column, "unit");
    cr_assert_eq(find(&r, "roster.quote", 0)->row, 0);
    cr_assert_eq(find(&r, "roster.quote", 1)->line, 3);
    cr_assert_eq(find(&r, "roster.quote", 1)->row, 1);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, unterminated_quote_names_the_line_it_opened_on)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in =
        fmt("account_no,name,unit,individual\n%s,\"张三,1,1\n%s,李四,1,1\n", acct(15), acct(16));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 1);
    cr_assert_eq(find(&r, "roster.quote", 0)->line, 2);
    cr_assert_str_eq(find(&r, "roster.quote", 0)->column, "name");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, line_numbers_count_newlines_inside_quoted_fields)
{
    hpf_roster r = HPF_ROSTER_INIT;
    /* Row 0 spans lines 2-4 (a name with two line breaks: refused), row 1 is line 5, row 2
     * starts on line 6 and has a bad amount. */
    char *in = fmt("account_no,name,unit,individual\n"
                   "%s,\"张\n\n三\",1,1\n"
                   "%s,李四,1,1\n"
                   "%s,王五,1.234,1\n",
                   acct(17), acct(18), acct(19));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 2);
    const hpf_roster_error *e = find(&r, "roster.name", 0);
    cr_assert_eq(e->line, 2);
    cr_assert_eq(e->row, 0);
    e = find(&r, "roster.amount", 0);
    cr_assert_eq(e->line, 6);
    cr_assert_eq(e->row, 2);
    cr_assert_eq(e->col, HPF_ROSTER_UNIT);
    cr_assert_eq(r.rows[1].line, 5);
    hpf_roster_cleanup(&r);
    free(in);
}

/* ---- columns ---- */

Test(roster_parse, columns_in_any_order_english_any_case_with_spaces)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt(" Individual ,UNIT,Name,Account_No\n7,6,张三,%s\n", acct(20));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_eq(r.rows[0].individual, 700);
    cr_assert_eq(r.rows[0].unit, 600);
    cr_assert_str_eq(r.rows[0].account_no, acct(20));
    cr_assert_str_eq(r.columns[HPF_ROSTER_INDIVIDUAL], "Individual");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, unknown_duplicate_and_missing_columns)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("个人账号,缴存基数,单位缴存额,unit,备注\n%s,1,1,1,x\n", acct(21));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 4, "2 unknown, 1 duplicate, 1 missing");
    const hpf_roster_error *e = find(&r, "roster.columns", 0);
    cr_assert_str_eq(e->column, "缴存基数");
    cr_assert(strstr(e->detail, "缴存基数"), "%s", e->detail);
    cr_assert_eq(e->line, 1);
    cr_assert_str_eq(find(&r, "roster.columns", 1)->column, "unit");
    cr_assert_str_eq(find(&r, "roster.columns", 2)->column, "备注");
    cr_assert_str_eq(find(&r, "roster.columns", 3)->column, "个人缴存额");
    cr_assert_eq(r.nrows, 0, "no row is read under a bad header");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, unnamed_trailing_column_must_stay_empty)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in =
        fmt("account_no,unit,individual,\n%s,1,1,\n%s,1,1,x\n%s,1\n", acct(22), acct(23), acct(24));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 2);
    cr_assert_eq(find(&r, "roster.fields", 0)->line, 3);
    cr_assert_eq(find(&r, "roster.fields", 1)->line, 4);
    hpf_roster_cleanup(&r);
    free(in);
}

/* ---- cells ---- */

Test(roster_parse, bad_amounts_each_reported)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in =
        fmt("account_no,unit,individual\n%s,1.234,-1\n%s,1e3,\n%s,\"1,000.00\",100000000000.01\n",
            acct(25), acct(26), acct(27));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 6);
    static const struct {
        uint32_t line;
        int col;
        const char *says;
    } want[6] = {
        {2, HPF_ROSTER_UNIT, "two decimals"}, {2, HPF_ROSTER_INDIVIDUAL, "negative"},
        {3, HPF_ROSTER_UNIT, "exponent"},     {3, HPF_ROSTER_INDIVIDUAL, "empty"},
        {4, HPF_ROSTER_UNIT, "thousands"},    {4, HPF_ROSTER_INDIVIDUAL, "range"},
    };
    for (size_t i = 0; i < 6; i++) {
        const hpf_roster_error *e = find(&r, "roster.amount", i);
        cr_assert_eq(e->line, want[i].line, "error %zu", i);
        cr_assert_eq(e->col, want[i].col, "error %zu", i);
        cr_assert_eq(e->row, (int64_t)want[i].line - 2);
        cr_assert(strstr(e->detail, want[i].says), "error %zu: %s", i, e->detail);
    }
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, amounts_take_spaces_zero_and_the_maximum)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("account_no,unit,individual\n %s , 0 ,100000000000.00\n", acct(28));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_eq(r.rows[0].unit, 0);
    cr_assert_eq(r.rows[0].individual, HPF_MONEY_MAX);
    cr_assert_str_eq(r.rows[0].account_no, acct(28));
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, account_numbers)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char wrong[19];
    memcpy(wrong, acct(29), 19);
    wrong[17] = wrong[17] == '0' ? '1' : '0';
    char *in =
        fmt("account_no,unit,individual\n%s,1,1\n3.20900E+17,1,1\n,1,1\n\"=\"\"%s\"\"\",1,1\n",
            wrong, acct(30));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, 3);
    cr_assert(strstr(find(&r, "roster.account_no", 0)->detail, "check character"));
    cr_assert(strstr(find(&r, "roster.account_no", 1)->detail, "text"),
              "Excel's scientific notation gets a hint: %s",
              find(&r, "roster.account_no", 1)->detail);
    cr_assert(strstr(find(&r, "roster.account_no", 2)->detail, "empty"));
    cr_assert_str_eq(r.rows[3].account_no, acct(30), "=\"…\" (the writer's form) is unwrapped");
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, names_are_checked_and_the_formula_guard_removed)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *in = fmt("account_no,name,unit,individual\n%s,'=SUM(A1),1,1\n%s,,1,1\n%s,'abc,1,1\n",
                   acct(31), acct(32), acct(33));
    cr_assert_eq(parse(&r, in), 0, "%s", r.nerrors ? r.errors[0].detail : "");
    cr_assert_str_eq(r.rows[0].name, "=SUM(A1)");
    cr_assert_null(r.rows[1].name, "an empty name cell is no name");
    cr_assert_str_eq(r.rows[2].name, "'abc");
    hpf_roster_cleanup(&r);
    free(in);
    in = fmt("account_no,name,unit,individual\n%s, 张三,1,1\n", acct(34));
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(find(&r, "roster.name", 0)->col, HPF_ROSTER_NAME);
    hpf_roster_cleanup(&r);
    free(in);
}

Test(roster_parse, long_field_is_refused)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *in = fmt("account_no,name,unit,individual\n%s,%s,1,1\n", acct(35), big);
    cr_assert_eq(parse(&r, in), HPF_EUNPROC);
    cr_assert_eq(find(&r, "roster.field_length", 0)->line, 2);
    hpf_roster_cleanup(&r);
    free(in);
}

/* ---- the file ---- */

Test(roster_parse, empty_files)
{
    hpf_roster r = HPF_ROSTER_INIT;
    const char *cases[] = {"", "\n\n", "\xef\xbb\xbf", "account_no,unit,individual\r\n",
                           "account_no,unit,individual\n,,\n\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(parse(&r, cases[i]), HPF_EUNPROC, "case %zu", i);
        cr_assert_eq(r.nerrors, 1, "case %zu", i);
        cr_assert_str_eq(r.errors[0].rule, "roster.empty", "case %zu", i);
        cr_assert_eq(r.errors[0].line, 1);
        hpf_roster_cleanup(&r);
    }
}

Test(roster_parse, too_many_rows)
{
    hpf_roster r = HPF_ROSTER_INIT;
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, "account_no,unit,individual\n");
    for (int i = 0; i < 5001; i++)
        hpf_buf_printf(&b, "%s,1,1\n", acct(1000 + i));
    cr_assert_eq(hpf_roster_parse(&r, b.data, b.len, 5001), 0, "5001 rows within a limit of 5001");
    cr_assert_eq(r.nrows, 5001);
    hpf_roster_cleanup(&r);
    cr_assert_eq(hpf_roster_parse(&r, b.data, b.len, 5000), HPF_ETOOBIG);
    const hpf_roster_error *e = find(&r, "roster.too_many_rows", 0);
    cr_assert_eq(e->line, 5002, "the first row past the limit");
    cr_assert_eq(e->row, 5000);
    hpf_roster_cleanup(&r);
    hpf_buf_cleanup(&b);
}

Test(roster_parse, too_big)
{
    hpf_roster r = HPF_ROSTER_INIT;
    char *big = hpf_xcalloc(HPF_ROSTER_MAX_BYTES + 1, 1);
    memset(big, 'a', HPF_ROSTER_MAX_BYTES + 1);
    cr_assert_eq(hpf_roster_parse(&r, big, HPF_ROSTER_MAX_BYTES + 1, 10), HPF_ETOOBIG);
    cr_assert_str_eq(r.errors[0].rule, "roster.too_big");
    hpf_roster_cleanup(&r);
    free(big);
}

Test(roster_parse, errors_stop_at_the_cap)
{
    hpf_roster r = HPF_ROSTER_INIT;
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, "account_no,unit,individual\n");
    for (int i = 0; i < 300; i++)
        hpf_buf_printf(&b, "%s,x,1\n", acct(2000 + i));
    cr_assert_eq(hpf_roster_parse(&r, b.data, b.len, 5000), HPF_EUNPROC);
    cr_assert_eq(r.nerrors, HPF_ROSTER_MAX_ERRORS);
    cr_assert_eq(r.errors[99].line, 101);
    hpf_roster_cleanup(&r);
    hpf_buf_cleanup(&b);
}

/* ---- writing ---- */

Test(roster_write, round_trip_with_guards_and_quotes)
{
    hpf_roster_row rows[] = {
        {.account_no = acct(40), .name = "张三", .unit = 52300, .individual = 52300},
        {.account_no = acct(41), .name = "=HYPERLINK(\"x\")", .unit = 0, .individual = 1},
        {.account_no = acct(42), .name = "O'Neil, \"Jr\"", .unit = 180050, .individual = 5},
        {.account_no = acct(43), .name = "'=x", .unit = 1, .individual = 1},
        {.account_no = acct(44), .name = NULL, .unit = HPF_MONEY_MAX, .individual = 0},
        {.account_no = acct(45), .name = "-1", .unit = 1, .individual = 1},
    };
    size_t n = sizeof rows / sizeof rows[0];
    const char *names[6];
    char accts[6][19];
    for (size_t i = 0; i < n; i++) {
        memcpy(accts[i], rows[i].account_no, 19);
        rows[i].account_no = accts[i];
        names[i] = rows[i].name;
    }
    hpf_buf b = HPF_BUF_INIT;
    cr_assert_eq(hpf_roster_write(&b, rows, n), 0);
    static const char head[] = "\xef\xbb\xbf个人账号,姓名,单位缴存额,个人缴存额\r\n";
    cr_assert_eq(memcmp(b.data, head, sizeof head - 1), 0);
    cr_assert(strstr(b.data, "\"=\"\"") != NULL, "account numbers as =\"…\"");
    cr_assert(strstr(b.data, ",'=HYPERLINK") || strstr(b.data, ",\"'=HYPERLINK"),
              "a formula-looking name is guarded: %s", b.data);
    cr_assert_null(strstr(b.data, ",=H"));
    cr_assert_null(strstr(b.data, ",\"=H"));
    hpf_roster r = HPF_ROSTER_INIT;
    cr_assert_eq(hpf_roster_parse(&r, b.data, b.len, 5000), 0, "%s",
                 r.nerrors ? r.errors[0].detail : "");
    cr_assert_eq(r.nrows, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(r.rows[i].account_no, accts[i]);
        if (names[i])
            cr_assert_str_eq(r.rows[i].name, names[i], "row %zu", i);
        else
            cr_assert_null(r.rows[i].name);
        cr_assert_eq(r.rows[i].unit, rows[i].unit);
        cr_assert_eq(r.rows[i].individual, rows[i].individual);
        cr_assert_eq(r.rows[i].line, i + 2);
    }
    hpf_roster_cleanup(&r);
    hpf_buf_cleanup(&b);
}
