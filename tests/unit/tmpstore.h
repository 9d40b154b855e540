/* A migrated SQLite store in a fresh temporary directory, for the unit tests that need a
 * database (one per test: Criterion runs each test in its own process). */
#ifndef HPF_TESTS_UNIT_TMPSTORE_H
#define HPF_TESTS_UNIT_TMPSTORE_H

#include "base/log.h"
#include "store/migrate.h"
#include "store/db.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

typedef struct tmp_store {
    char dir[PATH_MAX];
    hpf_store *store;
    hpf_db *db; /* the test thread's connection */
} tmp_store;

/* Make DIR (/tmp/hpf-TAG-XXXXXX), open sqlite:DIR/t.db and migrate it. */
static inline void tmp_store_open(tmp_store *t, const char *tag)
{
    hpf_err err = HPF_ERR_INIT;
    char url[PATH_MAX + 32];
    hpf_log_set_level(HPF_LOG_WARN); /* no line per migration */
    snprintf(t->dir, sizeof t->dir, "/tmp/hpf-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(url, sizeof url, "sqlite:%s/t.db", t->dir);
    cr_assert_eq(hpf_store_open(&t->store, url, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_store_conn(t->store, &t->db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_migrate(t->db, NULL, &err), 0, "%s", err.msg);
}

/* Close the store and remove the directory with the database and its WAL files. */
static inline void tmp_store_close(tmp_store *t)
{
    char path[PATH_MAX + 16];
    hpf_store_free(t->store);
    t->store = NULL;
    t->db = NULL;
    static const char *const files[] = {"t.db", "t.db-wal", "t.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", t->dir, files[i]);
        unlink(path);
    }
    rmdir(t->dir);
}

#endif
