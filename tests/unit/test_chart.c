/* Unit tests for ledger/chart: parsing a chart file (CSV and JSON), the chart's own rules with the
 * row named, and storing versions against a database (the baseline, a revision, refusals). */
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "ledger/chart.h"
#include "ledger/ledger.h"
#include "store/db.h"
#include "store/migrate.h"

#include "tmpstore.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HEAD                                                                                       \
    "# effective_from: 2019-01-01\n# name: revision\ncode,name,level,parent,class,normal_side\n"

/* Parse and check; returns the code and leaves err as they left it. */
static int load(const char *text, hpf_err *err)
{
    hpf_chart c;
    int rc = hpf_chart_parse(&c, text, strlen(text), err);
    if (rc == 0)
        rc = hpf_chart_check(&c, err);
    hpf_chart_cleanup(&c);
    return rc;
}

static void refused(const char *text, int code, const char *rule, const char *field,
                    const char *says)
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(load(text, &err), code, "%s: %s", rule, err.msg);
    cr_assert_str_eq(err.rule, rule, "%s", err.msg);
    cr_assert_str_eq(err.field, field, "%s", err.msg);
    cr_assert(strstr(err.msg, says) != NULL, "'%s' does not say '%s'", err.msg, says);
}

Test(chart, the_baseline_parses_and_keeps_its_rules)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart c;
    cr_assert_eq(hpf_chart_parse(&c, hpf_chart_baseline, hpf_chart_baseline_len, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(hpf_chart_check(&c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.effective_from, hpf_day_from_ymd(1999, 1, 1));
    cr_assert_eq(c.n, 31);
    /* RULES 5.2: 16 first-level codes and the second-level ones it names. */
    size_t first = 0;
    for (size_t i = 0; i < c.n; i++)
        first += c.subjects[i].level == 1;
    cr_assert_eq(first, 16);
    cr_assert_str_eq(c.subjects[1].code, "10101");
    cr_assert_str_eq(c.subjects[1].parent, "101");
    cr_assert_eq(c.subjects[1].line, 10);
    hpf_chart_cleanup(&c);
}

Test(chart, csv_quoting_and_json_give_the_same_chart)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart a, b;
    const char *csv = "\xEF\xBB\xBF" HEAD "101,\"存款, \"\"活期\"\"\",1,,asset,D\r\n"
                      "10101,活期,2,101,asset,D\r\n";
    const char *json =
        "{\"effective_from\": \"2019-01-01\", \"name\": \"revision\", \"subjects\": ["
        "{\"code\": \"101\", \"name\": \"存款, \\\"活期\\\"\", \"level\": 1, "
        "\"parent\": null, \"class\": \"asset\", \"normal_side\": \"D\"},"
        "{\"code\": \"10101\", \"name\": \"活期\", \"level\": 2, \"parent\": \"101\","
        " \"class\": \"asset\", \"normal_side\": \"D\"}]}";
    cr_assert_eq(hpf_chart_parse(&a, csv, strlen(csv), &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_chart_parse(&b, json, strlen(json), &err), 0, "%s", err.msg);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(b.n, 2);
    cr_assert_eq(a.effective_from, b.effective_from);
    cr_assert_str_eq(a.name, b.name);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(a.subjects[i].code, b.subjects[i].code);
        cr_assert_str_eq(a.subjects[i].name, b.subjects[i].name);
        cr_assert_str_eq(a.subjects[i].parent, b.subjects[i].parent);
    }
    cr_assert_str_eq(a.subjects[0].name, "存款, \"活期\"");
    /* And the CSV the chart writes parses back to the same. */
    hpf_buf out = HPF_BUF_INIT;
    hpf_chart_csv(&a, &out);
    hpf_chart c;
    cr_assert_eq(hpf_chart_parse(&c, out.data, out.len, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.subjects[0].name, a.subjects[0].name);
    cr_assert_eq(c.effective_from, a.effective_from);
    hpf_buf_cleanup(&out);
    hpf_chart_cleanup(&a);
    hpf_chart_cleanup(&b);
    hpf_chart_cleanup(&c);
}

Test(chart, each_rule_names_the_row)
{
    refused(HEAD "101,存款,1,,asset,D\n102,增值,1,,asset,D\n101,又一个,1,,asset,D\n", HPF_EUNPROC,
            "chart.code_duplicate", "/subjects/2", "line 6 (code 101)");
    refused(HEAD "101,存款,1,,asset,D\n10301,活期,2,103,asset,D\n", HPF_EUNPROC,
            "chart.parent_unknown", "/subjects/1", "parent 103 is not in the chart");
    refused(HEAD "101,存款,1,,asset,D\n10201,活期,2,101,asset,D\n", HPF_EUNPROC,
            "chart.parent_mismatch", "/subjects/1", "line 5 (code 10201)");
    refused(HEAD "101,存款,1,,asset,D\n10101,活期,3,101,asset,D\n", HPF_EUNPROC,
            "chart.parent_mismatch", "/subjects/1", "this is on level 3");
    refused(HEAD "101,存款,1,101,asset,D\n", HPF_EUNPROC, "chart.parent_mismatch", "/subjects/0",
            "a first-level subject has no parent");
    refused(HEAD "101,存款,1,,asset,D\n10101,活期,2,101,liability,D\n", HPF_EUNPROC,
            "chart.class_mismatch", "/subjects/1", "differ from parent 101's (asset, D)");
    refused(HEAD "321,分配,1,,equity,D\n32101,提取,2,321,equity,C\n", HPF_EUNPROC,
            "chart.class_mismatch", "/subjects/1", "normal side C");
    refused(HEAD "101,存款,1,,assets,D\n", HPF_EINVAL, "chart.field", "/subjects/0",
            "class 'assets'");
    refused(HEAD "101,存款,1,,asset,X\n", HPF_EINVAL, "chart.field", "/subjects/0",
            "normal_side 'X'");
    refused(HEAD "1a1,存款,1,,asset,D\n", HPF_EINVAL, "chart.field", "/subjects/0", "code '1a1'");
    refused(HEAD "101,=cmd(),1,,asset,D\n", HPF_EINVAL, "chart.field", "/subjects/0", "name");
    refused(HEAD "101,存款,7,,asset,D\n", HPF_EINVAL, "chart.field", "/subjects/0", "level '7'");
    refused(HEAD "101,存款,1,,asset\n", HPF_EINVAL, "chart.syntax", "/subjects/0",
            "the number of cells");
    refused(HEAD "101,\"存款,1,,asset,D\n", HPF_EINVAL, "chart.syntax", "", "line 4");
    refused("code,name,level,class,normal_side\n", HPF_EINVAL, "chart.syntax", "",
            "lacks column parent");
    refused("code,name,level,parent,class,normal_side\n101,存款,1,,asset,D\n", HPF_EINVAL,
            "chart.effective_missing", "/effective_from", "effective_from");
    refused("# effective_from: 2019-02-30\n", HPF_EINVAL, "chart.field", "/effective_from",
            "line 1");
    refused(HEAD, HPF_EINVAL, "chart.empty", "/subjects", "empty");
    refused("{\"effective_from\": \"2019-01-01\", \"subjects\": [{\"code\": \"101\", \"name\": "
            "\"a\", \"level\": 1, \"class\": \"asset\", \"normal_side\": \"D\", \"x\": 1}]}",
            HPF_EINVAL, "chart.syntax", "/subjects/0", "member 'x'");
    refused("{\"effective_from\": \"2019-01-01\", \"subjects\": [{\"code\": \"101\", \"level\": 1, "
            "\"class\": \"asset\", \"normal_side\": \"D\"}]}",
            HPF_EINVAL, "chart.syntax", "/subjects/0", "member name is missing");
    refused("{\"subjects\": [], \"subjects\": []}", HPF_EINVAL, "chart.syntax", "", "not JSON");
}

/* ---- versions in a database ---- */

static tmp_store ts;
static hpf_store *store;
static hpf_db *db;

static void setup(void)
{
    hpf_err err = HPF_ERR_INIT;
    bool loaded = false;
    tmp_store_open(&ts, "chart");
    store = ts.store;
    db = ts.db;
    cr_assert_eq(hpf_chart_ensure_baseline(db, &loaded, &err), 0, "%s", err.msg);
    cr_assert(loaded);
    cr_assert_eq(hpf_chart_ensure_baseline(db, &loaded, &err), 0, "%s", err.msg);
    cr_assert(!loaded, "the baseline is loaded once");
}

static void teardown(void)
{
    tmp_store_close(&ts);
    store = NULL;
    db = NULL;
}

TestSuite(chart_db, .init = setup, .fini = teardown);

/* The baseline with one line replaced (`from` -> `to`, "" to drop it) and another date. */
static char *revised(const char *date, const char *from, const char *to)
{
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, hpf_chart_baseline);
    char *s = b.data, *at = strstr(s, "# effective_from: 1999-01-01");
    cr_assert_not_null(at);
    memcpy(at + 18, date, 10);
    hpf_buf out = HPF_BUF_INIT;
    char *p = strstr(s, from);
    cr_assert_not_null(p, "%s", from);
    hpf_buf_add(&out, s, (size_t)(p - s));
    hpf_buf_adds(&out, to);
    hpf_buf_adds(&out, p + strlen(from));
    hpf_buf_cleanup(&b);
    size_t len;
    return hpf_buf_detach(&out, &len);
}

static int store_text(const char *text, hpf_chart_loaded *l, hpf_err *err)
{
    hpf_chart c;
    int rc = hpf_chart_parse(&c, text, strlen(text), err);
    cr_assert_eq(rc, 0, "%s", err->msg);
    cr_assert_eq(hpf_db_begin(db, err), 0, "%s", err->msg);
    rc = hpf_chart_store(db, &c, "test.csv", 0, l, err);
    if (rc == 0)
        cr_assert_eq(hpf_db_commit(db, err), 0, "%s", err->msg);
    else
        hpf_db_rollback(db);
    hpf_chart_cleanup(&c);
    return rc;
}

static const hpf_chart_subject *subject(const hpf_chart *c, const char *code)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->subjects[i].code, code))
            return &c->subjects[i];
    return NULL;
}

Test(chart_db, a_revision_renames_and_adds_codes_from_its_date)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart_loaded l;
    char *text = revised("2019-01-01", "10102,定期存款,2,101,asset,D\n",
                         "10102,定期存款,2,101,asset,D\n10103,通知存款,2,101,asset,D\n");
    char *text2 = NULL;
    cr_assert_eq(store_text(text, &l, &err), 0, "%s", err.msg);
    cr_assert_eq(l.subjects, 32);
    cr_assert_eq(l.added, 1);
    /* A second revision renames 101, from 2021. */
    text2 =
        revised("2021-01-01", "101,住房公积金存款,1,,asset,D", "101,住房公积金银行存款,1,,asset,D");
    cr_assert_eq(store_text(text2, &l, &err), 0, "%s", err.msg);

    hpf_chart c;
    cr_assert_eq(hpf_chart_at(db, hpf_day_from_ymd(2018, 12, 31), &c, NULL, &err), 0, "%s",
                 err.msg);
    cr_assert_null(subject(&c, "10103"));
    cr_assert_str_eq(subject(&c, "101")->name, "住房公积金存款");
    hpf_chart_cleanup(&c);
    cr_assert_eq(hpf_chart_at(db, hpf_day_from_ymd(2019, 1, 1), &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_not_null(subject(&c, "10103"));
    cr_assert_str_eq(subject(&c, "101")->name, "住房公积金存款");
    hpf_chart_cleanup(&c);
    cr_assert_eq(hpf_chart_at(db, hpf_day_from_ymd(2026, 1, 1), &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_eq(subject(&c, "101")->name, "住房公积金银行存款");
    cr_assert_eq(c.effective_from, hpf_day_from_ymd(2021, 1, 1));
    hpf_chart_cleanup(&c);
    /* The registry follows the latest version. */
    hpf_stmt *st;
    cr_assert_eq(hpf_db_prepare(db, &st, "SELECT name FROM subject WHERE code = '101'", &err), 0);
    cr_assert_eq(hpf_stmt_step(st, &err), 1);
    cr_assert_str_eq(hpf_stmt_text(st, 0), "住房公积金银行存款");
    hpf_stmt_reset(st);
    cr_assert_eq(hpf_chart_at(db, hpf_day_from_ymd(1998, 12, 31), &c, NULL, &err), HPF_ENOTFOUND);
    cr_assert_str_eq(err.rule, "chart.none");
    free(text);
    free(text2);
}

Test(chart_db, a_revision_is_refused_against_what_the_database_holds)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart_loaded l;
    int64_t id;
    char no[24];
    const hpf_amount a[] = {{"received", 100}};
    /* 219 is now in use by a posted line. */
    cr_assert_eq(hpf_db_begin(db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_ledger_voucher_from(db, &id, no, hpf_day_from_ymd(2020, 5, 6), "003", "暂收",
                                         a, 1, &err),
                 0, "%s", err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0, "%s", err.msg);

    struct {
        const char *date, *from, *to, *rule, *says;
        int code;
    } cases[] = {
        {"1999-01-01", "101,", "101,", "chart.version_exists", "already in force from 1999-01-01",
         HPF_ECONFLICT},
        {"2019-01-01", "219,其他应付款,1,,liability,C\n", "", "chart.code_in_use",
         "code 219 is used by posted voucher lines", HPF_EUNPROC},
        {"2019-01-01", "41101,住房公积金利息支出,2,411,expense,D\n", "", "chart.template_subject",
         "code 41101 is missing from the chart, and line 3 of voucher template 008", HPF_EUNPROC},
        {"2019-01-01", "119,其他应收款,1,,asset,D", "119,其他应收款,1,,liability,C",
         "chart.class_changed", "line 14 (code 119): an earlier chart has this code as asset",
         HPF_EUNPROC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = revised(cases[i].date, cases[i].from, cases[i].to);
        hpf_err_clear(&err);
        cr_assert_eq(store_text(text, &l, &err), cases[i].code, "%s: %s", cases[i].rule, err.msg);
        cr_assert_str_eq(err.rule, cases[i].rule, "%s", err.msg);
        cr_assert(strstr(err.msg, cases[i].says) != NULL, "'%s' does not say '%s'", err.msg,
                  cases[i].says);
        free(text);
    }
    /* Nothing of the refused loads stayed. */
    int64_t n;
    cr_assert_eq(hpf_db_query_i64(db, &n, "SELECT count(*) FROM chart_version", &err), 0);
    cr_assert_eq(n, 1);
}
