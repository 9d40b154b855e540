/* service/auth: logins, sessions and user creation. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/mem.h"
#include "base/rand.h"
#include "trust/audit.h"
#include "trust/digest.h"
#include "trust/password.h"

#include <string.h>
#include <time.h>

/* Touch last_seen at most this often, so reads do not each write. */
#define TOUCH_EVERY_S 60

/* Sessions ended by a DELETE ... RETURNING token_hash, user_id: each gets its audit entry of
 * `kind` by `actor` (0: the system; -1: the session's own user). The rows are collected first,
 * then appended; *n (may be NULL) counts them. */
static int end_sessions(hpf_db *db, hpf_stmt *del, int64_t actor, const char *kind, int64_t *n,
                        hpf_err *err)
{
    hpf_buf ended = HPF_BUF_INIT; /* 64-hex token hash + user id, per session */
    int rc;
    while ((rc = hpf_stmt_step(del, err)) == 1) {
        int64_t uid = hpf_stmt_i64(del, 1);
        char th[65];
        snprintf(th, sizeof th, "%s", hpf_stmt_text(del, 0));
        if (hpf_buf_add(&ended, th, sizeof th) < 0 || hpf_buf_add(&ended, &uid, sizeof uid) < 0) {
            rc = hpf_err_set(err, HPF_ETOOBIG, "too many sessions ended at once");
            break;
        }
    }
    hpf_stmt_reset(del);
    size_t rec = 65 + sizeof(int64_t);
    for (size_t off = 0; rc == 0 && off < ended.len; off += rec) {
        int64_t uid;
        memcpy(&uid, ended.data + off + 65, sizeof uid);
        rc = hpf_audit_session(db, actor < 0 ? uid : actor, kind, uid, ended.data + off, err);
        if (n)
            (*n)++;
    }
    hpf_buf_cleanup(&ended);
    return rc;
}

static hpf_role role_of(const char *s)
{
    if (!strcmp(s, "member"))
        return HPF_ROLE_MEMBER;
    if (!strcmp(s, "agent"))
        return HPF_ROLE_AGENT;
    if (!strcmp(s, "operator"))
        return HPF_ROLE_OPERATOR;
    return HPF_ROLE_NONE;
}

static int load_actor(hpf_db *db, int64_t user_id, hpf_actor *a, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT u.username, u.role, u.display_name, COALESCE(u.employer_id, 0),"
                            " COALESCE(u.member_id, 0), COALESCE(e.account_no, ''),"
                            " COALESCE(m.account_no, ''), u.disabled"
                            " FROM app_user u LEFT JOIN employer e ON e.id = u.employer_id"
                            " LEFT JOIN member m ON m.id = u.member_id WHERE u.id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, user_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(a, 0, sizeof *a);
        a->user_id = user_id;
        COPY(a->username, hpf_stmt_text(st, 0));
        a->role = role_of(hpf_stmt_text(st, 1));
        COPY(a->name, hpf_stmt_text(st, 2));
        a->employer_id = hpf_stmt_i64(st, 3);
        a->member_id = hpf_stmt_i64(st, 4);
        COPY(a->employer_account_no, hpf_stmt_text(st, 5));
        COPY(a->account_no, hpf_stmt_text(st, 6));
        rc = hpf_stmt_i64(st, 7)
                 ? hpf_err_field(err, HPF_EAUTH, "", "auth.disabled", "this login is disabled")
                 : 0;
    } else if (rc == 0) {
        rc = hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    }
    hpf_stmt_reset(st);
    return rc;
}

int hpf_auth_login(hpf_svc *svc, const char *username, const char *password, hpf_actor *actor,
                   char token[HPF_TOKEN_LEN], char csrf[HPF_TOKEN_LEN], hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char hash[HPF_PW_HASH_MAX] = "";
    int64_t user_id = 0;
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st, "SELECT id, pw_hash FROM app_user WHERE username = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, username);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        user_id = hpf_stmt_i64(st, 0);
        COPY(hash, hpf_stmt_text(st, 1));
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    bool ok;
    if (user_id) {
        ok = hpf_password_verify(hash, password);
    } else {
        hpf_password_dummy_verify(password);
        ok = false;
    }
    hpf_wipe(hash, sizeof hash);
    if (!ok)
        return hpf_err_field(err, HPF_EAUTH, "/password", "auth.bad_credentials",
                             "wrong username or password");
    rc = load_actor(db, user_id, actor, err);
    if (rc < 0)
        return rc;

    char th[65];
    hpf_rand_token(token, HPF_TOKEN_LEN, 32);
    hpf_rand_token(csrf, HPF_TOKEN_LEN, 32);
    hpf_sm3_hex(th, token, strlen(token));
    int64_t now = (int64_t)time(NULL);
    rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "DELETE FROM session WHERE user_id = ? AND expires_at <= ?"
                        " RETURNING token_hash, user_id",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, user_id);
        hpf_stmt_bind_i64(st, 2, now);
        rc = end_sessions(db, st, 0, HPF_AUDIT_SESSION_EXPIRED, NULL, err);
    }
    if (rc == 0)
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO session(token_hash, user_id, csrf_token, created_at,"
                            " last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                            err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, th);
        hpf_stmt_bind_i64(st, 2, user_id);
        hpf_stmt_bind_text(st, 3, csrf);
        hpf_stmt_bind_i64(st, 4, now);
        hpf_stmt_bind_i64(st, 5, now);
        hpf_stmt_bind_i64(st, 6, now + svc->session_max_s);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_audit_session(db, user_id, HPF_AUDIT_SESSION_LOGIN, user_id, th, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc;
}

int hpf_auth_session(hpf_svc *svc, const char *token, hpf_actor *actor, char csrf[HPF_TOKEN_LEN],
                     hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char th[65];
    int64_t user_id = 0, last_seen = 0, expires = 0;
    size_t tlen = strlen(token);
    if (tlen == 0 || tlen >= HPF_TOKEN_LEN)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    hpf_sm3_hex(th, token, tlen);
    rc = hpf_db_prepare(db, &st,
                        "SELECT user_id, csrf_token, last_seen, expires_at FROM session"
                        " WHERE token_hash = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, th);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        user_id = hpf_stmt_i64(st, 0);
        snprintf(csrf, HPF_TOKEN_LEN, "%s", hpf_stmt_text(st, 1));
        last_seen = hpf_stmt_i64(st, 2);
        expires = hpf_stmt_i64(st, 3);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    int64_t now = (int64_t)time(NULL);
    if (rc == 0 || now >= expires || now - last_seen > svc->session_idle_s)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required",
                             rc == 0 ? "not logged in" : "the session has expired; log in again");
    if (now - last_seen >= TOUCH_EVERY_S) {
        rc = hpf_db_prepare(db, &st, "UPDATE session SET last_seen = ? WHERE token_hash = ?", err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, now);
            hpf_stmt_bind_text(st, 2, th);
            rc = hpf_stmt_step(st, err);
            hpf_stmt_reset(st);
        }
        if (rc < 0)
            return rc;
    }
    return load_actor(db, user_id, actor, err);
}

int hpf_auth_logout(hpf_svc *svc, const char *token, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char th[65];
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    hpf_sm3_hex(th, token, strlen(token));
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_db_prepare(
        db, &st, "DELETE FROM session WHERE token_hash = ? RETURNING token_hash, user_id", err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, th);
        /* The one who logs out acts: the entry's actor is the session's user. */
        rc = end_sessions(db, st, -1, HPF_AUDIT_SESSION_LOGOUT, NULL, err);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc < 0 ? rc : 0;
}

int hpf_auth_purge_sessions(hpf_svc *svc, int64_t now, int64_t *deleted, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    *deleted = 0;
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "DELETE FROM session WHERE expires_at <= ? OR last_seen < ?"
                        " RETURNING token_hash, user_id",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, now);
        hpf_stmt_bind_i64(st, 2, now - svc->session_idle_s);
        rc = end_sessions(db, st, 0, HPF_AUDIT_SESSION_EXPIRED, deleted, err);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        *deleted = 0;
    }
    return rc < 0 ? rc : 0;
}

int hpf_user_create(hpf_db *db, hpf_role role, const char *username, const char *password,
                    const char *field_prefix, const char *display_name, int64_t employer_id,
                    int64_t member_id, int64_t *user_id, hpf_err *err)
{
    char hash[HPF_PW_HASH_MAX], pw_field[64], user_field[64];
    hpf_stmt *st;
    snprintf(pw_field, sizeof pw_field, "%s/password", field_prefix);
    snprintf(user_field, sizeof user_field, "%s/username", field_prefix);
    int rc = hpf_password_check(password, pw_field, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st, "SELECT 1 FROM app_user WHERE username = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, username);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return hpf_err_field(err, HPF_ECONFLICT, user_field, "user.username_taken",
                             "the username '%s' is already taken", username);
    rc = hpf_password_hash(hash, password, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO app_user(username, pw_hash, role, display_name, employer_id,"
                        " member_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, username);
    hpf_stmt_bind_text(st, 2, hash);
    hpf_stmt_bind_text(st, 3, hpf_role_name(role));
    hpf_stmt_bind_text(st, 4, display_name);
    if (employer_id)
        hpf_stmt_bind_i64(st, 5, employer_id);
    else
        hpf_stmt_bind_null(st, 5);
    if (member_id)
        hpf_stmt_bind_i64(st, 6, member_id);
    else
        hpf_stmt_bind_null(st, 6);
    int64_t id = 0;
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* taken by a concurrent request since the check above */
        rc = hpf_err_field(err, HPF_ECONFLICT, user_field, "user.username_taken",
                           "the username '%s' is already taken", username);
    if (rc < 0)
        return rc;
    if (user_id)
        *user_id = id;
    /* Who created it is not known here (no actor parameter): the system, 0. The entry of the
     * business action around it (employer.registered) names the operator. */
    return hpf_audit_record(db, 0, HPF_AUDIT_USER_CREATED, id, err);
}
