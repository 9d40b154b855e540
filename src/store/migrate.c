#include "store/migrate.h"

#include "base/log.h"

#include <stdio.h>
#include <string.h>

int hpf_migrate_version(hpf_db *db, int *version, hpf_err *err)
{
    int64_t v = 0;
    hpf_err probe = HPF_ERR_INIT;
    /* Read first: a current database (a hot standby among them) is not written to. */
    int rc =
        hpf_db_query_i64(db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &probe);
    if (rc < 0) {
        rc = hpf_db_exec(db,
                         "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                         " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
                         err);
        if (rc < 0)
            return rc;
        v = 0;
    }
    *version = (int)v;
    return 0;
}

int hpf_migrate(hpf_db *db, int *applied, hpf_err *err)
{
    int current = 0, n = 0;
    int rc = hpf_migrate_version(db, &current, err);
    if (rc < 0)
        return rc;
    if (current > hpf_migrations_count)
        return hpf_err_set(err, HPF_ECONFLICT,
                           "database schema version %d is newer than this program (%d)", current,
                           hpf_migrations_count);
    const hpf_migration *set = strcmp(hpf_db_driver(db), "postgres") == 0 ? hpf_migrations_postgres
                                                                          : hpf_migrations_sqlite;
    for (int i = 0; i < hpf_migrations_count; i++) {
        const hpf_migration *m = &set[i];
        if (m->version <= current)
            continue;
        rc = hpf_db_begin(db, err);
        if (rc < 0)
            return rc;
        rc = hpf_db_exec(db, m->sql, err);
        if (rc == 0) {
            hpf_stmt *st;
            rc = hpf_db_prepare(db, &st,
                                "INSERT INTO schema_migrations(version, name) VALUES (?, ?)", err);
            if (rc == 0) {
                hpf_stmt_bind_i64(st, 1, m->version);
                hpf_stmt_bind_text(st, 2, m->name);
                rc = hpf_stmt_step(st, err);
                hpf_stmt_reset(st);
            }
        }
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        if (rc < 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            hpf_db_rollback(db);
            return hpf_err_set(err, rc, "migration %04d_%s failed: %s", m->version, m->name, why);
        }
        hpf_log(HPF_LOG_INFO, "db.migrated", "applied migration %04d_%s", m->version, m->name);
        n++;
    }
    if (applied)
        *applied = n;
    return 0;
}
