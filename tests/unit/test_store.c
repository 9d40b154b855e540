/* store/sqlite: text parameters are UTF-8 on both stores. SQLite stores any bytes as TEXT while
 * PostgreSQL refuses what is not UTF-8, so a bound buffer never filled in went unnoticed on
 * SQLite (the voluntary registration date, 8db31b0); the SQLite driver now refuses it at step,
 * as PostgreSQL does. Also base/parse's hpf_utf8_valid, which it uses. */
#include "base/parse.h"
#include "tmpstore.h"

#include <criterion/criterion.h>
#include <string.h>

Test(utf8_valid, accepts_well_formed_text_with_controls)
{
    cr_assert(hpf_utf8_valid("", 0));
    cr_assert(hpf_utf8_valid("2026-11-15", 10));
    const char *cjk = "住房公积金"; /* 3 bytes each */
    cr_assert(hpf_utf8_valid(cjk, strlen(cjk)));
    cr_assert(hpf_utf8_valid("a\tb\x01\x7f", 5), "controls are text to the database");
    cr_assert(hpf_utf8_valid("\xc2\x80", 2), "U+0080: a C1 control, still UTF-8");
    cr_assert(hpf_utf8_valid("\xf4\x8f\xbf\xbf", 4), "U+10FFFF");
    /* ... which hpf_text_ok, the check of input text, refuses. */
    cr_assert_not(hpf_text_ok("a\x01", 2, false));
    cr_assert_not(hpf_text_ok("\xc2\x80", 2, false));
}

Test(utf8_valid, refuses_malformed_sequences)
{
    cr_assert_not(hpf_utf8_valid("\xff", 1));
    cr_assert_not(hpf_utf8_valid("\x80", 1), "a lone continuation byte");
    cr_assert_not(hpf_utf8_valid("\xe4\xbd", 2), "a cut sequence");
    cr_assert_not(hpf_utf8_valid("\xc0\xaf", 2), "an overlong '/'");
    cr_assert_not(hpf_utf8_valid("\xed\xa0\x80", 3), "a surrogate");
    cr_assert_not(hpf_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
}

Test(sqlite_text, a_parameter_that_is_not_utf8_is_refused_at_step_and_nothing_is_written)
{
    tmp_store ts;
    hpf_err err = HPF_ERR_INIT;
    hpf_stmt *st;
    int64_t n = -1;
    tmp_store_open(&ts, "store");
    cr_assert_eq(hpf_db_exec(ts.db, "CREATE TABLE t (a TEXT, b TEXT)", &err), 0, "%s", err.msg);
    static const char sql[] = "INSERT INTO t (a, b) VALUES (?, ?)";
    cr_assert_eq(hpf_db_prepare(ts.db, &st, sql, &err), 0, "%s", err.msg);
    hpf_stmt_bind_text(st, 1, "盐城");
    hpf_stmt_bind_text(st, 2, "2026-\xff\xfe-15");
    cr_assert_eq(hpf_stmt_step(st, &err), HPF_EDB);
    cr_assert(strstr(err.msg, "text parameter 2 is not valid UTF-8"), "%s", err.msg);
    hpf_stmt_reset(st);
    cr_assert_eq(hpf_db_query_i64(ts.db, &n, "SELECT count(*) FROM t", &err), 0, "%s", err.msg);
    cr_assert_eq(n, 0);
    /* The same statement, prepared again from the cache, takes valid text. */
    hpf_err_clear(&err);
    cr_assert_eq(hpf_db_prepare(ts.db, &st, sql, &err), 0, "%s", err.msg);
    hpf_stmt_bind_text(st, 1, "盐城");
    hpf_stmt_bind_text(st, 2, "2026-11-15");
    cr_assert_eq(hpf_stmt_step(st, &err), 0, "%s", err.msg);
    hpf_stmt_reset(st);
    cr_assert_eq(hpf_db_query_i64(ts.db, &n, "SELECT count(*) FROM t WHERE a = '盐城'", &err), 0,
                 "%s", err.msg);
    cr_assert_eq(n, 1);
    tmp_store_close(&ts);
}
