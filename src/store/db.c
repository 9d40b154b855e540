#include "store/db.h"

#include "base/log.h"
#include "base/mem.h"
#include "store/driver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-thread connections: each thread that asks gets its own, kept in a list so that
 * hpf_store_free can close them all; a thread that exits closes its own. */
struct conn_node {
    struct conn_node *next;
    hpf_db *db;
    hpf_store *store;
};

struct hpf_store {
    const hpf_db_ops *ops;
    char *target;
    pthread_key_t key;
    pthread_mutex_t mu;
    struct conn_node *conns;
};

static void unlink_node(hpf_store *s, struct conn_node *n)
{
    pthread_mutex_lock(&s->mu);
    for (struct conn_node **pp = &s->conns; *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void thread_exit(void *p)
{
    struct conn_node *n = p;
    unlink_node(n->store, n);
    n->store->ops->close(n->db);
    free(n);
}

int hpf_store_open(hpf_store **out, const char *url, hpf_err *err)
{
    const hpf_db_ops *ops = NULL;
    const char *target = NULL;
    if (!url || !*url)
        return hpf_err_field(err, HPF_EINVAL, "--db", "db.url", "no database URL given");
    if (!strncmp(url, "sqlite:", 7)) {
        ops = &hpf_sqlite_ops;
        target = url + 7;
    } else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
        ops = &hpf_postgres_ops;
        target = url; /* libpq takes the URL as it is */
    } else if (!strstr(url, "://")) {
        ops = &hpf_sqlite_ops;
        target = url;
    } else {
        return hpf_err_field(
            err, HPF_EINVAL, "--db", "db.url",
            "unknown database URL scheme in '%s' (use sqlite:PATH or postgres://...)", url);
    }
    if (!*target)
        return hpf_err_field(err, HPF_EINVAL, "--db", "db.url", "empty database path");
    hpf_store *s = hpf_xcalloc(1, sizeof *s);
    s->ops = ops;
    s->target = hpf_xstrdup(target);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_key_create(&s->key, thread_exit) != 0) {
        free(s->target);
        free(s);
        return hpf_err_set(err, HPF_EINTERNAL, "pthread_key_create failed");
    }
    /* Open one connection now so that a bad path fails early and clearly. */
    hpf_db *db;
    int rc = hpf_store_conn(s, &db, err);
    if (rc < 0) {
        hpf_store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void hpf_store_free(hpf_store *s)
{
    if (!s)
        return;
    pthread_setspecific(s->key, NULL);
    pthread_mutex_lock(&s->mu);
    struct conn_node *n = s->conns;
    s->conns = NULL;
    pthread_mutex_unlock(&s->mu);
    while (n) {
        struct conn_node *next = n->next;
        s->ops->close(n->db);
        free(n);
        n = next;
    }
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    free(s->target);
    free(s);
}

int hpf_store_conn(hpf_store *s, hpf_db **out, hpf_err *err)
{
    struct conn_node *n = pthread_getspecific(s->key);
    if (n) {
        *out = n->db;
        return 0;
    }
    hpf_db *db = NULL;
    int rc = s->ops->connect(&db, s->target, err);
    if (rc < 0)
        return rc;
    n = hpf_xcalloc(1, sizeof *n);
    n->db = db;
    n->store = s;
    pthread_mutex_lock(&s->mu);
    n->next = s->conns;
    s->conns = n;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, n);
    *out = db;
    return 0;
}

const char *hpf_store_driver(const hpf_store *s)
{
    return s->ops->name;
}

static int savepoint(hpf_db *db, const char *verb, int depth, hpf_err *err)
{
    char sql[48];
    snprintf(sql, sizeof sql, "%s sp%d", verb, depth);
    return db->ops->exec(db, sql, err);
}

int hpf_db_begin(hpf_db *db, hpf_err *err)
{
    int rc = db->in_tx ? savepoint(db, "SAVEPOINT", db->in_tx + 1, err) : db->ops->begin(db, err);
    if (rc == 0)
        db->in_tx++;
    return rc;
}

const char *hpf_db_driver(const hpf_db *db)
{
    return db->ops->name;
}

int hpf_db_bulk(hpf_db *db, bool on, hpf_err *err)
{
    return db->ops->bulk(db, on, err);
}

bool hpf_db_round_trips(const hpf_db *db)
{
    return db->ops->round_trips;
}

bool hpf_db_alive(hpf_db *db)
{
    return db->ops->alive(db);
}

int hpf_db_lock_row(hpf_db *db, const char *table, int64_t id, hpf_err *err)
{
    return db->ops->lock_row(db, table, id, err);
}

int hpf_db_begin_read(hpf_db *db, hpf_err *err)
{
    if (db->in_tx)
        return hpf_err_set(err, HPF_EINTERNAL, "transaction already open");
    int rc = db->ops->begin_read(db, err);
    if (rc == 0)
        db->in_tx = 1;
    return rc;
}

int hpf_db_commit(hpf_db *db, hpf_err *err)
{
    if (!db->in_tx)
        return hpf_err_set(err, HPF_EINTERNAL, "commit without a transaction");
    if (db->in_tx > 1) {
        int rc = savepoint(db, "RELEASE", db->in_tx, err);
        if (rc < 0) {
            hpf_db_rollback(db);
            return rc;
        }
        db->in_tx--;
        return 0;
    }
    int rc = db->ops->exec(db, "COMMIT", err);
    if (rc < 0) {
        hpf_db_rollback(db);
        return rc;
    }
    db->in_tx = 0;
    return 0;
}

void hpf_db_rollback(hpf_db *db)
{
    if (!db || !db->in_tx)
        return;
    hpf_err e = HPF_ERR_INIT;
    if (db->in_tx > 1) {
        if (savepoint(db, "ROLLBACK TO", db->in_tx, &e) < 0 ||
            savepoint(db, "RELEASE", db->in_tx, &e) < 0)
            hpf_log(HPF_LOG_WARN, "db.rollback", "%s", e.msg);
        db->in_tx--;
        return;
    }
    if (db->ops->exec(db, "ROLLBACK", &e) < 0)
        hpf_log(HPF_LOG_WARN, "db.rollback", "%s", e.msg);
    db->in_tx = 0;
}

int hpf_db_exec(hpf_db *db, const char *sql, hpf_err *err)
{
    return db->ops->exec(db, sql, err);
}

int hpf_db_prepare(hpf_db *db, hpf_stmt **out, const char *sql, hpf_err *err)
{
    return db->ops->prepare(db, out, sql, err);
}

void hpf_stmt_bind_i64(hpf_stmt *st, int i, int64_t v)
{
    st->ops->bind_i64(st, i, v);
}

void hpf_stmt_bind_text(hpf_stmt *st, int i, const char *s)
{
    if (!s)
        st->ops->bind_null(st, i);
    else
        st->ops->bind_text(st, i, s);
}

void hpf_stmt_bind_blob(hpf_stmt *st, int i, const void *p, int n)
{
    st->ops->bind_blob(st, i, p, n);
}

void hpf_stmt_bind_null(hpf_stmt *st, int i)
{
    st->ops->bind_null(st, i);
}

int hpf_stmt_step(hpf_stmt *st, hpf_err *err)
{
    return st->ops->step(st, err);
}

int64_t hpf_stmt_i64(hpf_stmt *st, int col)
{
    return st->ops->col_i64(st, col);
}

const char *hpf_stmt_text(hpf_stmt *st, int col)
{
    return st->ops->col_text(st, col);
}

const void *hpf_stmt_blob(hpf_stmt *st, int col, int *len)
{
    return st->ops->col_blob(st, col, len);
}

bool hpf_stmt_null(hpf_stmt *st, int col)
{
    return st->ops->col_null(st, col);
}

int64_t hpf_stmt_changes(hpf_stmt *st)
{
    return st->ops->changes(st);
}

void hpf_stmt_reset(hpf_stmt *st)
{
    st->ops->reset(st);
}

int hpf_db_query_i64(hpf_db *db, int64_t *out, const char *sql, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *out = hpf_stmt_i64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no row");
    }
    hpf_stmt_reset(st);
    return rc;
}

int hpf_db_next_counter(hpf_db *db, const char *name, int64_t *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "INSERT INTO counter(name, value) VALUES (?, 1) "
                            "ON CONFLICT(name) DO UPDATE SET value = counter.value + 1 "
                            "RETURNING value",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, name);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *out = hpf_stmt_i64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_EDB, "counter %s returned no value", name);
    }
    hpf_stmt_reset(st);
    return rc;
}
