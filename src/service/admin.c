/* service/admin: what administrators do: create operator logins, disable and enable logins, list
 * operators (svc.h "administration"; docs/internals/identity.md "Roles and scopes"). An
 * administrator manages logins and never money: no business call admits the role. */
#include "service/internal.h"

#include "base/mem.h"
#include "domain/ids.h"
#include "trust/audit.h"
#include "trust/sm2.h"

#include <stdlib.h>
#include <string.h>

static int admin_only(const hpf_actor *actor, hpf_err *err)
{
    if (actor->role == HPF_ROLE_ADMIN)
        return 0;
    return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                         "only an administrator manages logins");
}

int hpf_branch_check(hpf_svc *svc, const char *code, const char *field, hpf_err *err)
{
    hpf_db *db;
    char found[8];
    bool shaped = code && strlen(code) == 2 && strspn(code, "0123456789") == 2;
    int rc = shaped ? svc_conn(svc, &db, err) : 0;
    if (rc < 0)
        return rc;
    if (shaped && (rc = svc_lookup_text(db, "SELECT code FROM branch WHERE code = ?", code, found,
                                        sizeof found, err)) < 0)
        return rc;
    if (shaped && rc == 1)
        return 0;
    return hpf_err_field(err, HPF_EINVAL, field, "branch.unknown",
                         "branch must be the code of a branch office: 00 (the centre) or 01..04");
}

#define LOGIN_COLS                                                                                 \
    "SELECT id, username, display_name, role, COALESCE(branch, ''), disabled, created_at"          \
    " FROM app_user "

static void read_login(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_login_info *l = item;
    (void)ctx;
    memset(l, 0, sizeof *l);
    l->id = hpf_stmt_i64(st, 0);
    COPY(l->username, hpf_stmt_text(st, 1));
    COPY(l->name, hpf_stmt_text(st, 2));
    COPY(l->role, hpf_stmt_text(st, 3));
    COPY(l->branch, hpf_stmt_text(st, 4));
    l->disabled = hpf_stmt_i64(st, 5) != 0;
    COPY(l->created_at, hpf_stmt_text(st, 6));
}

/* The operator or agent login `username` (1), or none (0). Members' logins are stored under a
 * blind index and managed through their account; administrators through `hpf user`. */
static int find_login(hpf_db *db, const char *username, hpf_login_info *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, LOGIN_COLS "WHERE username = ? AND role IN ('operator', 'agent', 'admin')", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, username);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        read_login(st, out, NULL);
    hpf_stmt_reset(st);
    return rc;
}

int hpf_operator_create(hpf_svc *svc, const hpf_actor *actor, const hpf_operator_new *in,
                        hpf_login_info *out, hpf_err *err)
{
    hpf_db *db;
    int64_t id = 0;
    const char *branch = in->branch && *in->branch ? in->branch : NULL;
    int rc = admin_only(actor, err);
    if (rc < 0 || (rc = svc_check_username(in->username, "/username", err)) < 0 ||
        (rc = hpf_name_validate(in->name, "/name", err)) < 0 ||
        (branch && (rc = hpf_branch_check(svc, branch, "/branch", err)) < 0))
        return rc;
    if (!svc->keys_dir)
        return hpf_err_set(err, HPF_EINTERNAL, "no keys directory configured for SM2 keys");
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    hpf_user_new un = {.role = HPF_ROLE_OPERATOR,
                       .username = in->username,
                       .password = in->password,
                       .display_name = in->name,
                       .branch = branch};
    rc = hpf_user_create(svc, db, actor->user_id, &un, &id, in->totp_uri, err);
    /* Operators sign their approvals (maker-checker): the key pair comes with the login. */
    if (rc == 0)
        rc = hpf_sm2_operator_create(db, svc->keys_dir, id, NULL, err);
    if (rc == 0 && (rc = find_login(db, in->username, out, err)) == 0)
        rc = hpf_err_set(err, HPF_EINTERNAL, "the login just created is gone");
    if (rc == 1)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        if (in->totp_uri)
            hpf_wipe(in->totp_uri, HPF_TOTP_URI_LEN);
    }
    return rc < 0 ? rc : 0;
}

int hpf_user_set_disabled(hpf_svc *svc, const hpf_actor *actor, const char *username, bool disabled,
                          hpf_login_info *out, int64_t *sessions, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    bool committed = false;
    *sessions = 0;
    int rc = admin_only(actor, err);
    if (rc < 0 || (rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = find_login(db, username, out, err);
    if (rc == 1 && out->id == actor->user_id)
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "user.self_disable",
                           "an administrator does not %s their own login",
                           disabled ? "disable" : "enable");
    else if (rc == 0 || (rc == 1 && !strcmp(out->role, "admin")))
        /* Administrators are managed with `hpf user`, not by each other over the API. */
        rc = hpf_err_field(err, HPF_ENOTFOUND, "", "user.unknown",
                           "no operator or agent login '%s'", username);
    if (rc < 0 || out->disabled == disabled) /* already so: nothing to write */
        goto done;
    rc = hpf_db_prepare(db, &st, "UPDATE app_user SET disabled = ? WHERE id = ?", err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, disabled ? 1 : 0);
    hpf_stmt_bind_i64(st, 2, out->id);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;
    /* A disabled login's sessions end with it: the next request of any of them is 401. */
    if (disabled && (rc = svc_end_user_sessions(db, actor->user_id, out->id, sessions, err)) < 0)
        goto done;
    if ((rc = hpf_audit_record(db, actor->user_id,
                               disabled ? HPF_AUDIT_USER_DISABLED : HPF_AUDIT_USER_ENABLED, out->id,
                               err)) < 0)
        goto done;
    out->disabled = disabled;
    rc = hpf_db_commit(db, err);
    committed = rc == 0;
done:
    if (!committed) {
        hpf_db_rollback(db);
        *sessions = 0;
    }
    return rc < 0 ? rc : 0;
}

int hpf_operator_list(hpf_svc *svc, const hpf_actor *actor, int64_t offset, int64_t limit,
                      hpf_login_info **items, size_t *n, int64_t *total, hpf_err *err)
{
    hpf_db *db;
    *items = NULL;
    *n = 0;
    *total = 0;
    int rc = admin_only(actor, err);
    if (rc < 0 || (rc = svc_conn_read(svc, &db, err)) < 0)
        return rc;
    return svc_list(db, "SELECT count(*) FROM app_user WHERE role = 'operator'",
                    LOGIN_COLS "WHERE role = 'operator' ORDER BY id LIMIT ? OFFSET ?", -1, offset,
                    limit, sizeof **items, read_login, NULL, (void **)items, n, total, err);
}
