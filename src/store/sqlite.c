/*
 * store/sqlite: the SQLite driver behind store/db.h. WAL, foreign keys, a busy timeout,
 * synchronous=FULL (a committed business action survives power loss), and a per-connection
 * cache of prepared statements keyed by SQL text.
 */
#include "base/mem.h"
#include "base/parse.h"
#include "store/driver.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 512 /* power of two; more distinct statements than this is a design smell */

typedef struct sq_stmt {
    hpf_stmt base; /* must be first */
    sqlite3_stmt *st;
    struct sq_db *db;
    char *sql;
    int bad_text; /* the first text parameter that is not UTF-8 (0: none), refused at step */
} sq_stmt;

typedef struct sq_db {
    hpf_db base; /* must be first */
    sqlite3 *h;
    sq_stmt *cache[CACHE_SLOTS];
} sq_db;

static int db_error(sqlite3 *h, int rc, hpf_err *err, const char *what)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_CONSTRAINT)
        return hpf_err_set(err, HPF_ECONFLICT, "%s", sqlite3_errmsg(h));
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return hpf_err_set(err, HPF_EBUSY, "database busy: %s", sqlite3_errmsg(h));
    return hpf_err_set(err, HPF_EDB, "sqlite %s: %s", what, sqlite3_errmsg(h));
}

static int sq_exec(hpf_db *d, const char *sql, hpf_err *err)
{
    sq_db *db = (sq_db *)d;
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int r;
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            r = hpf_err_set(err, HPF_ECONFLICT, "%s", msg ? msg : sqlite3_errstr(rc));
        else if ((rc & 0xff) == SQLITE_BUSY)
            r = hpf_err_set(err, HPF_EBUSY, "database busy");
        else
            r = hpf_err_set(err, HPF_EDB, "sqlite exec: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return r;
    }
    return 0;
}

static void sq_close(hpf_db *d)
{
    sq_db *db = (sq_db *)d;
    if (!db)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (db->cache[i]) {
            sqlite3_finalize(db->cache[i]->st);
            free(db->cache[i]->sql);
            free(db->cache[i]);
        }
    }
    sqlite3_close_v2(db->h);
    free(db);
}

/* Process-wide settings, before the library's first use: no memory statistics (they take a
 * global mutex on every allocation, which parallel readers then queue on). */
static void sq_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_connect(hpf_db **out, const char *path, hpf_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sq_configure);
    sq_db *db = hpf_xcalloc(1, sizeof *db);
    db->base.ops = &hpf_sqlite_ops;
    int rc = sqlite3_open_v2(
        path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = hpf_err_set(err, HPF_EDB, "cannot open database '%s': %s", path,
                         db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        sq_close(&db->base);
        return rc;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, 10000);
    rc = sq_exec(&db->base,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                 "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; PRAGMA mmap_size=134217728;",
                 err);
    if (rc < 0) {
        sq_close(&db->base);
        return rc;
    }
    *out = &db->base;
    return 0;
}

static int sq_begin(hpf_db *d, hpf_err *err)
{
    /* IMMEDIATE takes the write lock now, so two writers queue on the busy timeout instead of
     * failing later with SQLITE_BUSY on upgrade. */
    return sq_exec(d, "BEGIN IMMEDIATE", err);
}

static int sq_begin_read(hpf_db *d, hpf_err *err)
{
    /* A deferred transaction takes its WAL snapshot at the first read. */
    return sq_exec(d, "BEGIN DEFERRED", err);
}

static int sq_bulk(hpf_db *d, bool on, hpf_err *err)
{
    return sq_exec(d, on ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL", err);
}

static int sq_lock_row(hpf_db *d, const char *table, int64_t id, hpf_err *err)
{
    /* BEGIN IMMEDIATE already holds the database's one write lock. */
    (void)d;
    (void)table;
    (void)id;
    (void)err;
    return 0;
}

static bool sq_alive(hpf_db *d)
{
    (void)d;
    return true;
}

static int sq_prepare(hpf_db *d, hpf_stmt **out, const char *sql, hpf_err *err)
{
    sq_db *db = (sq_db *)d;
    uint32_t h = hpf_sql_hash(sql);
    for (int probe = 0; probe < CACHE_SLOTS; probe++) {
        uint32_t slot = (h + (uint32_t)probe) & (CACHE_SLOTS - 1);
        sq_stmt *s = db->cache[slot];
        if (s && (s->sql == sql || !strcmp(s->sql, sql))) {
            s->bad_text = 0;
            sqlite3_reset(s->st);
            sqlite3_clear_bindings(s->st);
            *out = &s->base;
            return 0;
        }
        if (!s) {
            sqlite3_stmt *st = NULL;
            int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
            if (rc != SQLITE_OK)
                return db_error(db->h, rc, err, "prepare");
            s = hpf_xcalloc(1, sizeof *s);
            s->base.ops = &hpf_sqlite_ops;
            s->st = st;
            s->db = db;
            s->sql = hpf_xstrdup(sql);
            db->cache[slot] = s;
            *out = &s->base;
            return 0;
        }
    }
    return hpf_err_set(err, HPF_EINTERNAL, "statement cache full");
}

static void sq_bind_i64(hpf_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(((sq_stmt *)st)->st, i, v);
}

static void sq_bind_text(hpf_stmt *st, int i, const char *s)
{
    sq_stmt *q = (sq_stmt *)st;
    size_t n = strlen(s);
    /* SQLite stores any bytes as TEXT; PostgreSQL refuses what is not UTF-8. Refusing it here
     * too keeps the stores alike, and a bound buffer never filled in (garbage) fails on SQLite
     * as well, not only on the production store. */
    if (!q->bad_text && !hpf_utf8_valid(s, n))
        q->bad_text = i;
    sqlite3_bind_text(q->st, i, s, (int)n, SQLITE_TRANSIENT);
}

static void sq_bind_blob(hpf_stmt *st, int i, const void *p, int n)
{
    sqlite3_bind_blob(((sq_stmt *)st)->st, i, p, n, SQLITE_TRANSIENT);
}

static void sq_bind_null(hpf_stmt *st, int i)
{
    sqlite3_bind_null(((sq_stmt *)st)->st, i);
}

static int sq_step(hpf_stmt *st, hpf_err *err)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->bad_text)
        return hpf_err_set(err, HPF_EDB, "sqlite step: text parameter %d is not valid UTF-8",
                           s->bad_text);
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    rc = db_error(s->db->h, rc, err, "step");
    sqlite3_reset(s->st);
    return rc;
}

static int64_t sq_i64(hpf_stmt *st, int col)
{
    return sqlite3_column_int64(((sq_stmt *)st)->st, col);
}

static const char *sq_text(hpf_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(((sq_stmt *)st)->st, col);
    return t ? (const char *)t : "";
}

static const void *sq_blob(hpf_stmt *st, int col, int *len)
{
    sqlite3_stmt *s = ((sq_stmt *)st)->st;
    const void *p = sqlite3_column_blob(s, col);
    *len = sqlite3_column_bytes(s, col);
    return p;
}

static bool sq_null(hpf_stmt *st, int col)
{
    return sqlite3_column_type(((sq_stmt *)st)->st, col) == SQLITE_NULL;
}

static int64_t sq_changes(hpf_stmt *st)
{
    return sqlite3_changes64(((sq_stmt *)st)->db->h);
}

static void sq_reset(hpf_stmt *st)
{
    ((sq_stmt *)st)->bad_text = 0;
    sqlite3_reset(((sq_stmt *)st)->st);
    sqlite3_clear_bindings(((sq_stmt *)st)->st);
}

const hpf_db_ops hpf_sqlite_ops = {
    .name = "sqlite",
    .connect = sq_connect,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .begin_read = sq_begin_read,
    .bulk = sq_bulk,
    .lock_row = sq_lock_row,
    .alive = sq_alive,
    .prepare = sq_prepare,
    .bind_i64 = sq_bind_i64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_i64 = sq_i64,
    .col_text = sq_text,
    .col_blob = sq_blob,
    .col_null = sq_null,
    .changes = sq_changes,
    .reset = sq_reset,
};
