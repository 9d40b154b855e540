/*
 * store/postgres: the PostgreSQL driver behind store/db.h (libpq). Write transactions run at
 * READ COMMITTED; a business action first locks the row of the account it changes
 * (hpf_db_lock_row: SELECT ... FOR UPDATE), so writers of one account queue instead of failing,
 * and every later statement sees what they committed. Counters are upserts that wait for their
 * row. Deadlocks (40P01), serialization failures (40001) and lock timeouts come back as
 * HPF_EBUSY, and the caller runs the whole business action again.
 * Statements use `?` placeholders, rewritten to $1..$n, prepared once per connection (cached by
 * SQL text) and run with text parameters and text results.
 */
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/parse.h"
#include "store/driver.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 512
#define MAX_PARAMS  65535 /* the protocol's limit; the arrays are sized per statement */

typedef struct pg_stmt {
    hpf_stmt base; /* must be first */
    struct pg_db *db;
    char *sql;
    char name[16];
    int nparams;
    /* One entry per parameter (at least one): the bound text, its length and format, whether
     * bound, and the argument vector handed to libpq. */
    char **vals;
    int *lens;
    int *fmts;
    bool *set;
    const char **argv;
    PGresult *res;
    int row, nrows;
    int64_t changes;
    unsigned char *blob; /* last unescaped bytea */
} pg_stmt;

typedef struct pg_db {
    hpf_db base; /* must be first */
    PGconn *conn;
    pg_stmt *cache[CACHE_SLOTS];
    unsigned next_name;
    bool broken; /* reset before the next transaction or autocommit statement */
} pg_db;

static int map_error(const PGresult *res, PGconn *conn, hpf_err *err, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    char clean[256];
    snprintf(clean, sizeof clean, "%s", msg && *msg ? msg : "unknown error");
    clean[strcspn(clean, "\n")] = '\0';
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
        return hpf_err_set(err, HPF_EBUSY, "transaction conflict (%s): %s", state, clean);
    if (state && !strncmp(state, "23", 2))
        return hpf_err_set(err, HPF_ECONFLICT, "%s", clean);
    if (state && (!strcmp(state, "57P01") || !strncmp(state, "08", 2)))
        return hpf_err_set(err, HPF_EBUSY, "database unavailable (%s): %s", state, clean);
    if (PQstatus(conn) != CONNECTION_OK)
        return hpf_err_set(err, HPF_EBUSY, "database connection lost: %s", clean);
    return hpf_err_set(err, HPF_EDB, "postgres %s: %s", what, clean);
}

/* A connection that broke (server restart, failover) is reset before the next business action
 * starts, not at once: a caller may still hold a statement of it until its reset. */
static void heal(pg_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        db->broken = true;
}

/* Allocate the parameter arrays for s->nparams. */
static void stmt_params(pg_stmt *s)
{
    size_t n = s->nparams > 0 ? (size_t)s->nparams : 1;
    s->vals = hpf_xcalloc(n, sizeof *s->vals);
    s->lens = hpf_xcalloc(n, sizeof *s->lens);
    s->fmts = hpf_xcalloc(n, sizeof *s->fmts);
    s->set = hpf_xcalloc(n, sizeof *s->set);
    s->argv = hpf_xcalloc(n, sizeof *s->argv);
}

/* Free a statement's memory (not its server-side preparation). */
static void stmt_free(pg_stmt *s)
{
    if (s->vals)
        for (int k = 0; k < s->nparams; k++)
            free(s->vals[k]);
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->set);
    free(s->argv);
    free(s->sql);
    free(s);
}

static void revive(pg_db *db)
{
    if (!db->broken)
        return;
    db->broken = false;
    /* Prepared statements die with the session: forget them. */
    for (int i = 0; i < CACHE_SLOTS; i++) {
        pg_stmt *s = db->cache[i];
        if (!s)
            continue;
        PQclear(s->res);
        PQfreemem(s->blob);
        stmt_free(s);
        db->cache[i] = NULL;
    }
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK)
        db->broken = true;
    else
        hpf_log(HPF_LOG_WARN, "db.reconnected", "PostgreSQL connection re-established");
}

static int pg_exec(hpf_db *d, const char *sql, hpf_err *err)
{
    pg_db *db = (pg_db *)d;
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = map_error(res, db->conn, err, "exec");
    PQclear(res);
    if (rc < 0)
        heal(db);
    return rc;
}

static void stmt_clear(pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    for (int k = 0; k < s->nparams; k++) {
        free(s->vals[k]);
        s->vals[k] = NULL;
        s->set[k] = false;
    }
}

static void pg_close(hpf_db *d)
{
    pg_db *db = (pg_db *)d;
    if (!db)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        pg_stmt *s = db->cache[i];
        if (!s)
            continue;
        stmt_clear(s);
        PQfreemem(s->blob);
        stmt_free(s);
    }
    PQfinish(db->conn);
    free(db);
}

static void notice(void *arg, const char *msg)
{
    (void)arg;
    hpf_log(HPF_LOG_DEBUG, "db.notice", "%s", msg);
}

static int pg_connect(hpf_db **out, const char *url, hpf_err *err)
{
    pg_db *db = hpf_xcalloc(1, sizeof *db);
    db->base.ops = &hpf_postgres_ops;
    db->conn = PQconnectdb(url);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(db->conn));
        msg[strcspn(msg, "\n")] = '\0';
        pg_close(&db->base);
        return hpf_err_set(err, HPF_EDB, "cannot connect to PostgreSQL: %s", msg);
    }
    PQsetNoticeProcessor(db->conn, notice, NULL);
    int rc = pg_exec(&db->base,
                     "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"
                     " SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '60s'",
                     err);
    if (rc < 0) {
        pg_close(&db->base);
        return rc;
    }
    *out = &db->base;
    return 0;
}

static int pg_begin(hpf_db *d, hpf_err *err)
{
    revive((pg_db *)d);
    return pg_exec(d, "BEGIN ISOLATION LEVEL READ COMMITTED", err);
}

static int pg_begin_read(hpf_db *d, hpf_err *err)
{
    revive((pg_db *)d);
    return pg_exec(d, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static int pg_bulk(hpf_db *d, bool on, hpf_err *err)
{
    return pg_exec(d, on ? "SET synchronous_commit = off" : "SET synchronous_commit = on", err);
}

static int pg_lock_row(hpf_db *d, const char *table, int64_t id, hpf_err *err)
{
    /* Table names are code constants, never input; only these tables are lockable. */
    static const char *const sql[][2] = {
        {"employer", "SELECT 1 FROM employer WHERE id = ? FOR UPDATE"},
        {"member", "SELECT 1 FROM member WHERE id = ? FOR UPDATE"},
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (strcmp(sql[i][0], table) != 0)
            continue;
        hpf_stmt *st;
        int rc = d->ops->prepare(d, &st, sql[i][1], err);
        if (rc < 0)
            return rc;
        d->ops->bind_i64(st, 1, id);
        rc = d->ops->step(st, err);
        d->ops->reset(st);
        return rc < 0 ? rc : 0;
    }
    return hpf_err_set(err, HPF_EINTERNAL, "table %s cannot be locked", table);
}

static bool pg_alive(hpf_db *d)
{
    pg_db *db = (pg_db *)d;
    if (!db->base.in_tx)
        revive(db);
    return !db->broken && PQstatus(db->conn) == CONNECTION_OK;
}

/* `?` -> `$n`, leaving quoted literals alone. */
static char *rewrite(const char *sql, int *nparams)
{
    hpf_buf b = HPF_BUF_INIT;
    int n = 0;
    char q = 0;
    for (const char *p = sql; *p; p++) {
        if (q) {
            if (*p == q)
                q = 0;
            hpf_buf_add(&b, p, 1);
        } else if (*p == '\'' || *p == '"') {
            q = *p;
            hpf_buf_add(&b, p, 1);
        } else if (*p == '?') {
            hpf_buf_printf(&b, "$%d", ++n);
        } else {
            hpf_buf_add(&b, p, 1);
        }
    }
    *nparams = n;
    return hpf_buf_detach(&b, NULL);
}

static int pg_prepare(hpf_db *d, hpf_stmt **out, const char *sql, hpf_err *err)
{
    pg_db *db = (pg_db *)d;
    if (!db->base.in_tx)
        revive(db);
    uint32_t h = hpf_sql_hash(sql);
    for (int probe = 0; probe < CACHE_SLOTS; probe++) {
        uint32_t slot = (h + (uint32_t)probe) & (CACHE_SLOTS - 1);
        pg_stmt *s = db->cache[slot];
        if (s && (s->sql == sql || !strcmp(s->sql, sql))) {
            stmt_clear(s);
            *out = &s->base;
            return 0;
        }
        if (s)
            continue;
        s = hpf_xcalloc(1, sizeof *s);
        s->base.ops = &hpf_postgres_ops;
        s->db = db;
        snprintf(s->name, sizeof s->name, "h%u", db->next_name++);
        char *text = rewrite(sql, &s->nparams);
        if (s->nparams > MAX_PARAMS) {
            free(text);
            free(s);
            return hpf_err_set(err, HPF_EINTERNAL, "too many parameters in a statement");
        }
        stmt_params(s);
        PGresult *res = PQprepare(db->conn, s->name, text, s->nparams, NULL);
        free(text);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            int rc = map_error(res, db->conn, err, "prepare");
            PQclear(res);
            stmt_free(s);
            heal(db);
            return rc;
        }
        PQclear(res);
        s->sql = hpf_xstrdup(sql);
        db->cache[slot] = s;
        *out = &s->base;
        return 0;
    }
    return hpf_err_set(err, HPF_EINTERNAL, "statement cache full");
}

static void put(hpf_stmt *st, int i, char *v, int len, int fmt)
{
    pg_stmt *s = (pg_stmt *)st;
    if (i < 1 || i > s->nparams) {
        free(v);
        return;
    }
    free(s->vals[i - 1]);
    s->vals[i - 1] = v;
    s->lens[i - 1] = len;
    s->fmts[i - 1] = fmt;
    s->set[i - 1] = true;
}

static void pg_bind_i64(hpf_stmt *st, int i, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    put(st, i, hpf_xstrdup(buf), 0, 0);
}

static void pg_bind_text(hpf_stmt *st, int i, const char *s)
{
    put(st, i, hpf_xstrdup(s), 0, 0);
}

static void pg_bind_blob(hpf_stmt *st, int i, const void *p, int n)
{
    char *copy = hpf_xmalloc(n > 0 ? (size_t)n : 1);
    if (n > 0)
        memcpy(copy, p, (size_t)n);
    put(st, i, copy, n, 1);
}

static void pg_bind_null(hpf_stmt *st, int i)
{
    put(st, i, NULL, 0, 0);
}

static int pg_step(hpf_stmt *st, hpf_err *err)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->res) {
        for (int k = 0; k < s->nparams; k++)
            s->argv[k] = s->set[k] ? s->vals[k] : NULL;
        s->res = PQexecPrepared(s->db->conn, s->name, s->nparams, s->argv, s->lens, s->fmts, 0);
        ExecStatusType rs = PQresultStatus(s->res);
        if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
            int rc = map_error(s->res, s->db->conn, err, "step");
            stmt_clear(s);
            heal(s->db);
            return rc;
        }
        s->nrows = rs == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        s->row = -1;
        int64_t ch = 0;
        const char *t = PQcmdTuples(s->res);
        if (t && *t && hpf_parse_i64(&ch, t, 0, INT64_MAX) < 0)
            ch = 0;
        s->changes = ch;
    }
    if (s->row + 1 < s->nrows) {
        s->row++;
        return 1;
    }
    s->row = s->nrows;
    return 0;
}

static bool valid_row(const pg_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < s->nrows && col >= 0 && col < PQnfields(s->res);
}

static int64_t pg_i64(hpf_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    int64_t v = 0;
    if (!valid_row(s, col) || PQgetisnull(s->res, s->row, col))
        return 0;
    const char *t = PQgetvalue(s->res, s->row, col);
    if (!strcmp(t, "t"))
        return 1;
    if (!strcmp(t, "f"))
        return 0;
    /* numeric sums of integers print without a fraction; anything else is a schema bug */
    if (hpf_parse_i64(&v, t, INT64_MIN, INT64_MAX) < 0)
        hpf_log(HPF_LOG_ERROR, "db.type", "column %d is not an integer: %.40s", col, t);
    return v;
}

static const char *pg_text(hpf_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!valid_row(s, col) || PQgetisnull(s->res, s->row, col))
        return "";
    return PQgetvalue(s->res, s->row, col);
}

static const void *pg_blob(hpf_stmt *st, int col, int *len)
{
    pg_stmt *s = (pg_stmt *)st;
    *len = 0;
    if (!valid_row(s, col) || PQgetisnull(s->res, s->row, col))
        return NULL;
    size_t n = 0;
    PQfreemem(s->blob);
    s->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, col), &n);
    *len = (int)n;
    return s->blob;
}

static bool pg_null(hpf_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    return !valid_row(s, col) || PQgetisnull(s->res, s->row, col);
}

static int64_t pg_changes(hpf_stmt *st)
{
    return ((pg_stmt *)st)->changes;
}

static void pg_reset(hpf_stmt *st)
{
    stmt_clear((pg_stmt *)st);
}

const hpf_db_ops hpf_postgres_ops = {
    .name = "postgres",
    .connect = pg_connect,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .begin_read = pg_begin_read,
    .round_trips = true,
    .bulk = pg_bulk,
    .lock_row = pg_lock_row,
    .alive = pg_alive,
    .prepare = pg_prepare,
    .bind_i64 = pg_bind_i64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_i64 = pg_i64,
    .col_text = pg_text,
    .col_blob = pg_blob,
    .col_null = pg_null,
    .changes = pg_changes,
    .reset = pg_reset,
};
