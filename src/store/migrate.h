/*
 * store/migrate: numbered schema migrations from sql/<store>/NNNN_name.sql (one set per store
 * with the same numbers), compiled into the binary (scripts/embed_sql.py) and applied in order,
 * each in its own transaction, recorded in schema_migrations. Applying is idempotent.
 */
#ifndef HPF_STORE_MIGRATE_H
#define HPF_STORE_MIGRATE_H

#include "store/db.h"

typedef struct hpf_migration {
    int version;
    const char *name;
    const char *sql;
} hpf_migration;

extern const hpf_migration hpf_migrations_sqlite[];
extern const hpf_migration hpf_migrations_postgres[];
extern const int hpf_migrations_count;

/* Apply every migration newer than the database's version. *applied (may be NULL) receives how
 * many were applied. Returns 0, HPF_EDB, or HPF_ECONFLICT when the database is newer than this
 * binary. */
int hpf_migrate(hpf_db *db, int *applied, hpf_err *err);

/* The highest applied version (0 for an empty database). */
int hpf_migrate_version(hpf_db *db, int *version, hpf_err *err);

#endif
