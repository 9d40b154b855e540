/*
 * store/driver: what a database driver provides behind store/db.h. Internal to store/.
 */
#ifndef HPF_STORE_DRIVER_H
#define HPF_STORE_DRIVER_H

#include "store/db.h"

#include <stdint.h>
#include <string.h>

/* The key of a driver's prepared-statement cache: a hash of the SQL text, taken on every
 * prepare (the hot path of every business action), so eight bytes at a time (FNV-1a over words,
 * then a final mix). The cache compares the text itself on a hit. */
static inline uint32_t hpf_sql_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 14695981039346656037ull ^ n;
    for (; n >= 8; n -= 8, s += 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; n; n--, s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

typedef struct hpf_db_ops {
    const char *name;
    bool round_trips; /* every statement is a round trip to a server (hpf_db_round_trips) */
    int (*connect)(hpf_db **out, const char *target, hpf_err *err);
    void (*close)(hpf_db *db);
    int (*exec)(hpf_db *db, const char *sql, hpf_err *err);
    int (*begin)(hpf_db *db, hpf_err *err);
    int (*begin_read)(hpf_db *db, hpf_err *err);
    int (*bulk)(hpf_db *db, bool on, hpf_err *err);
    int (*lock_row)(hpf_db *db, const char *table, int64_t id, hpf_err *err);
    bool (*alive)(hpf_db *db);
    int (*prepare)(hpf_db *db, hpf_stmt **out, const char *sql, hpf_err *err);
    void (*bind_i64)(hpf_stmt *st, int i, int64_t v);
    void (*bind_text)(hpf_stmt *st, int i, const char *s);
    void (*bind_blob)(hpf_stmt *st, int i, const void *p, int n);
    void (*bind_null)(hpf_stmt *st, int i);
    int (*step)(hpf_stmt *st, hpf_err *err);
    int64_t (*col_i64)(hpf_stmt *st, int col);
    const char *(*col_text)(hpf_stmt *st, int col);
    const void *(*col_blob)(hpf_stmt *st, int col, int *len);
    bool (*col_null)(hpf_stmt *st, int col);
    int64_t (*changes)(hpf_stmt *st);
    void (*reset)(hpf_stmt *st);
} hpf_db_ops;

/* Every connection starts with this header so db.c can dispatch. */
struct hpf_db {
    const hpf_db_ops *ops;
    int in_tx; /* nesting depth: 0 none, 1 a transaction, > 1 savepoints inside it */
};

/* Every statement starts with this header. */
struct hpf_stmt {
    const hpf_db_ops *ops;
};

extern const hpf_db_ops hpf_sqlite_ops;
extern const hpf_db_ops hpf_postgres_ops;

#endif
