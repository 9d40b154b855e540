/*
 * store/db: the database interface (ARCHITECTURE rule 9). Business code sees connections,
 * transactions and prepared statements; drivers (SQLite now, PostgreSQL next) sit behind it.
 *
 * SQL is written in the common subset of SQLite and PostgreSQL with `?` placeholders (a driver
 * may rewrite them, e.g. to $1..$n). Statements are prepared once per connection and cached by
 * their SQL text, then reset and reused. Parameters are always bound, never concatenated.
 *
 * A connection is used by one thread at a time. hpf_store hands each thread its own connection.
 */
#ifndef HPF_STORE_DB_H
#define HPF_STORE_DB_H

#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct hpf_store hpf_store; /* shared: the URL, options and the per-thread connections */
typedef struct hpf_db hpf_db;       /* one connection */
typedef struct hpf_stmt hpf_stmt;   /* one prepared statement owned by its connection */

/* Open a store by URL: "sqlite:PATH" (or a bare path). Returns 0, HPF_EINVAL (unknown scheme),
 * HPF_EDB (cannot open). Does not migrate. */
int hpf_store_open(hpf_store **out, const char *url, hpf_err *err);
/* Close every connection. Accepts NULL. */
void hpf_store_free(hpf_store *s);
/* The connection of the calling thread, opened on first use and closed by hpf_store_free or when
 * the thread exits. Returns 0 or HPF_EDB. */
int hpf_store_conn(hpf_store *s, hpf_db **out, hpf_err *err);
/* "sqlite" or "postgres". */
const char *hpf_store_driver(const hpf_store *s);
const char *hpf_db_driver(const hpf_db *db);

/* Bulk-load mode for a loader that can rebuild what it writes (the demo): commits stop waiting
 * for the disk (SQLite synchronous=OFF, PostgreSQL synchronous_commit=off). Off again with
 * on = false. */
int hpf_db_bulk(hpf_db *db, bool on, hpf_err *err);

/* Transactions. begin starts a write transaction (SQLite: BEGIN IMMEDIATE); commit and rollback
 * end it. rollback is safe to call when no transaction is open. A begin inside an open
 * transaction opens a savepoint: its commit releases it, its rollback undoes only its own work,
 * so a business action can run alone or as part of a larger batch (the demo loader). */
int hpf_db_begin(hpf_db *db, hpf_err *err);
/* Inside a write transaction, lock the row `id` of `table` ("employer", "member") until the
 * transaction ends, so that writers of one account queue and each sees the other's work. Take
 * it before reading what the action decides on. (SQLite: nothing to do, the whole database is
 * locked by hpf_db_begin.) */
int hpf_db_lock_row(hpf_db *db, const char *table, int64_t id, hpf_err *err);
/* False when the connection is known to be broken and could not be re-established (the server
 * is down). Cheap: sends nothing while the connection looks healthy. */
bool hpf_db_alive(hpf_db *db);
/* Whether every statement is a round trip to a database server (PostgreSQL), so that writing many
 * rows in one multi-row statement pays; false for the embedded SQLite, where a plain one-row
 * UPDATE costs less than a multi-row UPDATE ... FROM. */
bool hpf_db_round_trips(const hpf_db *db);
/* A read-only transaction: one consistent snapshot for several queries, without blocking
 * writers. End it with hpf_db_rollback. */
int hpf_db_begin_read(hpf_db *db, hpf_err *err);
int hpf_db_commit(hpf_db *db, hpf_err *err);
void hpf_db_rollback(hpf_db *db);
/* Run SQL without parameters or results (DDL, pragmas); may hold several statements. */
int hpf_db_exec(hpf_db *db, const char *sql, hpf_err *err);

/* Prepared statements: cached per connection by SQL text; reset and cleared on return. */
int hpf_db_prepare(hpf_db *db, hpf_stmt **out, const char *sql, hpf_err *err);
/* Bind parameter `i` (1-based). */
void hpf_stmt_bind_i64(hpf_stmt *st, int i, int64_t v);
void hpf_stmt_bind_text(hpf_stmt *st, int i, const char *s); /* NULL binds NULL; copied */
void hpf_stmt_bind_blob(hpf_stmt *st, int i, const void *p, int n);
void hpf_stmt_bind_null(hpf_stmt *st, int i);
/* Step: 1 a row is ready, 0 done, HPF_ECONFLICT (unique/foreign-key constraint; message names
 * it), HPF_EBUSY (locked past the timeout), HPF_EDB. */
int hpf_stmt_step(hpf_stmt *st, hpf_err *err);
/* Columns of the current row (0-based). Text is valid until the next step or reset. */
int64_t hpf_stmt_i64(hpf_stmt *st, int col);
const char *hpf_stmt_text(hpf_stmt *st, int col); /* "" for NULL */
const void *hpf_stmt_blob(hpf_stmt *st, int col, int *len);
bool hpf_stmt_null(hpf_stmt *st, int col);
/* Rows changed by the last completed INSERT/UPDATE/DELETE step. */
int64_t hpf_stmt_changes(hpf_stmt *st);
/* Reset for reuse (bindings cleared). Called automatically by hpf_db_prepare. */
void hpf_stmt_reset(hpf_stmt *st);

/* Convenience: prepare + bind nothing + step once, for "SELECT count(*) ..." style queries with
 * one integer result. Returns 0 with *out set, HPF_ENOTFOUND (no row), or an error. */
int hpf_db_query_i64(hpf_db *db, int64_t *out, const char *sql, hpf_err *err);

/* Next value of the named counter (1, 2, ...), inside the caller's transaction. */
int hpf_db_next_counter(hpf_db *db, const char *name, int64_t *out, hpf_err *err);

#endif
