/* service/auth: logins (password, TOTP, SMS codes), lockout with back-off, step-up, sessions and
 * user creation. The design: docs/internals/identity.md. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "store/outbox.h"
#include "trust/audit.h"
#include "trust/digest.h"
#include "trust/fieldcrypt.h"
#include "trust/password.h"
#include "trust/totp.h"

#include <stdio.h>
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

int svc_end_user_sessions(hpf_db *db, int64_t actor, int64_t user_id, int64_t *n, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, "DELETE FROM session WHERE user_id = ? RETURNING token_hash, user_id", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, user_id);
    return end_sessions(db, st, actor, HPF_AUDIT_SESSION_EXPIRED, n, err);
}

static hpf_role role_of(const char *s)
{
    if (!strcmp(s, "member"))
        return HPF_ROLE_MEMBER;
    if (!strcmp(s, "agent"))
        return HPF_ROLE_AGENT;
    if (!strcmp(s, "operator"))
        return HPF_ROLE_OPERATOR;
    if (!strcmp(s, "admin"))
        return HPF_ROLE_ADMIN;
    return HPF_ROLE_NONE;
}

static int load_actor(const hpf_svc *svc, hpf_db *db, int64_t user_id, hpf_actor *a, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT u.username, u.role, u.display_name, COALESCE(u.employer_id, 0),"
                            " COALESCE(u.member_id, 0), COALESCE(e.account_no, ''),"
                            " COALESCE(m.account_no, ''), u.disabled, COALESCE(u.branch, '')"
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
        COPY(a->branch, hpf_stmt_text(st, 8));
        rc = hpf_stmt_i64(st, 7)
                 ? hpf_err_field(err, HPF_EAUTH, "", "auth.disabled", "this login is disabled")
                 : 0;
    } else if (rc == 0) {
        rc = hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    }
    hpf_stmt_reset(st);
    /* A member's login is stored under the blind index of their resident ID (member.c); the
     * session names the resident ID itself, decrypted, as the name they log in with. */
    if (rc == 0 && a->role == HPF_ROLE_MEMBER)
        rc = svc_member_pii(svc, db, a->member_id, a->username, NULL, err);
    return rc;
}

/* ---- logins: throttle, second factors, sessions ---- */

#define LOCK_AFTER    5                    /* consecutive failures before the first lock */
#define LOCK_MAX_S    3600                 /* the back-off stops doubling at an hour */
#define OTP_TTL_S     300                  /* an SMS code lives five minutes ... */
#define OTP_TRIES     5                    /* ... and takes five tries */
#define SMS_PER_TTL   5                    /* unanswered live SMS codes one login may have */
#define THROTTLE_IDLE (24 * 3600 * 1000LL) /* unlocked throttle rows idle this long are purged */
#define TOTP_ISSUER   "HPF"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bad_credentials(hpf_err *err)
{
    /* One answer for an unknown name, a wrong password and a wrong code. */
    return hpf_err_field(err, HPF_EAUTH, "/password", "auth.bad_credentials",
                         "wrong username, password or code");
}

/*
 * The login behind a username: its id and password hash, or *user_id = 0 when there is none.
 * This is the one place that turns what the client typed into a login (the member lookup by
 * resident ID is owned by the field-encryption work: keep it here).
 */
static int lookup_login(const hpf_svc *svc, hpf_db *db, const char *username, int64_t *user_id,
                        char hash[HPF_PW_HASH_MAX], hpf_err *err)
{
    hpf_stmt *st;
    char key[SVC_LOGIN_KEY_MAX];
    *user_id = 0;
    hash[0] = '\0';
    /* A resident ID is looked up by its blind index ("m:..."); the name as typed too, so an
     * agent whose name happens to read as a resident ID still logs in (members first). */
    svc_login_key(svc, username, key);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, pw_hash FROM app_user WHERE username IN (?, ?)"
                            " ORDER BY CASE WHEN role = 'member' THEN 0 ELSE 1 END LIMIT 1",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, key);
    hpf_stmt_bind_text(st, 2, username);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        *user_id = hpf_stmt_i64(st, 0);
        snprintf(hash, HPF_PW_HASH_MAX, "%s", hpf_stmt_text(st, 1));
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The throttle row of a login ("u:ID"), or of a name that matches none ("n:" + SM3 of its
 * login key, svc_login_key: a typed resident ID becomes a keyed blind index first, so the row
 * neither holds it in clear nor lets anyone without the key test guesses against it). */
static void throttle_key(const hpf_svc *svc, char key[72], int64_t user_id, const char *username)
{
    if (user_id) {
        snprintf(key, 72, "u:%lld", (long long)user_id);
    } else {
        char h[65], login[SVC_LOGIN_KEY_MAX];
        hpf_buf b = HPF_BUF_INIT;
        svc_login_key(svc, username, login);
        hpf_buf_adds(&b, "hpf-login-name\n");
        hpf_buf_adds(&b, login);
        hpf_sm3_hex(h, b.data, b.len);
        hpf_buf_cleanup(&b);
        snprintf(key, 72, "n:%s", h);
    }
}

static int64_t lock_ms(const hpf_svc *svc, int64_t failures)
{
    int64_t base = svc->lockout_base_s > 0 ? svc->lockout_base_s : 60,
            shift = failures - LOCK_AFTER;
    int64_t s = base;
    while (shift-- > 0 && s < LOCK_MAX_S)
        s *= 2;
    return (s < LOCK_MAX_S ? s : LOCK_MAX_S) * 1000;
}

static int locked(hpf_err *err, int *retry_after, int64_t until_ms, int64_t now)
{
    int64_t left = (until_ms - now + 999) / 1000;
    *retry_after = left < 1 ? 1 : (int)left;
    return hpf_err_field(err, HPF_ELIMIT, "", "auth.locked",
                         "too many failed attempts: this login is locked; try again in %d s",
                         *retry_after);
}

/*
 * Count this attempt as a failure before checking anything, in its own committed transaction,
 * so that parallel guesses queue on the row and no more than LOCK_AFTER of them get through:
 * the attempt that reaches the threshold locks the login at once. A success deletes the row
 * (throttle_reset); a member's right password gives the attempt back (throttle_undo). While the
 * login is locked the attempt is not counted and HPF_ELIMIT auth.locked comes back.
 */
static int throttle_take(hpf_svc *svc, hpf_db *db, const char *key, int64_t user_id,
                         int64_t *failures, int *retry_after, hpf_err *err)
{
    hpf_stmt *st;
    int64_t now = now_ms(), until = 0;
    *failures = 0;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(
        db, &st,
        "INSERT INTO login_throttle (throttle_key, user_id, failures, locked_until, updated_at)"
        " VALUES (?, ?, 1, 0, ?) ON CONFLICT (throttle_key) DO UPDATE SET"
        " failures = login_throttle.failures + 1, updated_at = excluded.updated_at"
        " WHERE login_throttle.locked_until <= excluded.updated_at RETURNING failures",
        err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, key);
        if (user_id)
            hpf_stmt_bind_i64(st, 2, user_id);
        else
            hpf_stmt_bind_null(st, 2);
        hpf_stmt_bind_i64(st, 3, now);
        rc = hpf_stmt_step(st, err);
        if (rc == 1)
            *failures = hpf_stmt_i64(st, 0);
        hpf_stmt_reset(st);
    }
    if (rc == 0) { /* locked: the update did not apply */
        rc = hpf_db_prepare(db, &st,
                            "SELECT locked_until FROM login_throttle WHERE throttle_key = ?", err);
        if (rc == 0) {
            hpf_stmt_bind_text(st, 1, key);
            rc = hpf_stmt_step(st, err);
            until = rc == 1 ? hpf_stmt_i64(st, 0) : now + 1000;
            hpf_stmt_reset(st);
        }
        hpf_db_rollback(db);
        return rc < 0 ? rc : locked(err, retry_after, until, now);
    }
    if (rc == 1 && *failures >= LOCK_AFTER) {
        rc = hpf_db_prepare(
            db, &st, "UPDATE login_throttle SET locked_until = ? WHERE throttle_key = ?", err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, now + lock_ms(svc, *failures));
            hpf_stmt_bind_text(st, 2, key);
            rc = hpf_stmt_step(st, err);
            hpf_stmt_reset(st);
        }
    }
    if (rc >= 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc < 0 ? rc : 0;
}

/* A success: the count starts again. Inside the caller's transaction. */
static int throttle_reset(hpf_db *db, const char *key, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "DELETE FROM login_throttle WHERE throttle_key = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, key);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* A second factor proven again on session `token_hash` (an SMS code or a TOTP code): the
 * session is fresh from `now`, the login's failure count is cleared, and the chain records it. */
static int step_up_proven(hpf_db *db, int64_t user_id, const char *token_hash, const char *key,
                          int64_t now, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, "UPDATE session SET factor_at = ? WHERE token_hash = ?", err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, now);
        hpf_stmt_bind_text(st, 2, token_hash);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = throttle_reset(db, key, err);
    if (rc == 0)
        rc = hpf_audit_session(db, user_id, HPF_AUDIT_SESSION_STEP_UP, user_id, token_hash, err);
    return rc < 0 ? rc : 0;
}

/* Give back the attempt throttle_take counted (a right password before the SMS step): the
 * failures before it stand, the lock it may have set goes (the one before had expired, or the
 * attempt would not have been counted). */
static int throttle_undo(hpf_db *db, const char *key, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE login_throttle SET locked_until = 0, failures ="
                            " CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END"
                            " WHERE throttle_key = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, key);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/*
 * The attempt failed with `rc` (err already says why). When it was the one that locked the
 * login, or extended a lock, that is an audit event (kind user.locked): the lock itself was
 * committed by throttle_take. Returns rc unchanged unless the audit append fails for good.
 */
static int attempt_failed(hpf_svc *svc, hpf_db *db, const char *key, int64_t user_id,
                          int64_t failures, int rc)
{
    if (failures < LOCK_AFTER)
        return rc;
    int64_t secs = lock_ms(svc, failures) / 1000;
    char payload[160];
    snprintf(payload, sizeof payload, "locked/1|%s|%lld|%lld|%lld", key, (long long)user_id,
             (long long)failures, (long long)secs);
    hpf_log(HPF_LOG_WARN, "auth.locked", "login %s locked for %lld s after %lld failures", key,
            (long long)secs, (long long)failures);
    hpf_err aerr = HPF_ERR_INIT;
    int arc = 0;
    /* The chain head is contended: a short local retry rather than the dispatcher's, which would
     * count the attempt again. */
    for (int attempt = 0; attempt < 4; attempt++) {
        hpf_err_clear(&aerr);
        arc = hpf_db_begin(db, &aerr);
        if (arc == 0)
            arc = hpf_audit_event(db, user_id, HPF_AUDIT_USER_LOCKED,
                                  user_id ? "app_user" : "login_throttle", user_id, payload, &aerr);
        if (arc == 0)
            arc = hpf_db_commit(db, &aerr);
        if (arc == 0)
            return rc;
        hpf_db_rollback(db);
        if (arc != HPF_EBUSY)
            break;
    }
    hpf_log(HPF_LOG_ERROR, "auth.lock_audit", "could not audit the lock of %s: %s", key, aerr.msg);
    return rc;
}

#define F_TOTP "app_user.totp_secret" /* the field name the TOTP secret is encrypted under */

/* The TOTP secret of a login (*keylen 0: none), decrypted (field F_TOTP, context the username).
 * A stored secret that fails its check is tampering: HPF_EINTERNAL, logged, no details out. */
static int totp_secret(const hpf_svc *svc, hpf_db *db, int64_t user_id,
                       unsigned char key[HPF_TOTP_KEY_MAX], int *keylen, int64_t *last_step,
                       hpf_err *err)
{
    hpf_stmt *st;
    char enc[HPF_FC_TEXT_MAX] = "", user[128] = "", b32[HPF_FC_PLAIN_MAX + 1] = "";
    *keylen = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT COALESCE(totp_secret, ''), totp_last_step, username"
                            " FROM app_user WHERE id = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, user_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        snprintf(enc, sizeof enc, "%s", hpf_stmt_text(st, 0));
        *last_step = hpf_stmt_i64(st, 1);
        snprintf(user, sizeof user, "%s", hpf_stmt_text(st, 2));
    }
    hpf_stmt_reset(st);
    if (rc <= 0 || !enc[0])
        return rc < 0 ? rc : 0;
    if (!svc->keys)
        return hpf_err_set(err, HPF_EINTERNAL, "no field-encryption keys are loaded");
    hpf_err why = HPF_ERR_INIT;
    rc = hpf_fc_decrypt(svc->keys, F_TOTP, user, enc, b32, sizeof b32, &why);
    if (rc < 0) {
        hpf_log(HPF_LOG_ERROR, "security.field_check", "TOTP secret of login %lld: %s",
                (long long)user_id, why.msg);
        return hpf_err_set(err, HPF_EINTERNAL, "a stored second factor failed its check");
    }
    int n = hpf_base32_decode(key, HPF_TOTP_KEY_MAX, b32);
    hpf_wipe(b32, sizeof b32);
    *keylen = n > 0 ? n : 0;
    return 0;
}

/* Check a TOTP code of the login and, when it is right, take its time step so that the same
 * code (or an older one) is refused from now on; the conditional update makes two concurrent
 * uses of one code let only one through. *ok tells. */
static int totp_verify(const hpf_svc *svc, hpf_db *db, int64_t user_id, const char *code, bool *ok,
                       hpf_err *err)
{
    unsigned char key[HPF_TOTP_KEY_MAX];
    int keylen = 0;
    int64_t last = 0;
    *ok = false;
    int rc = totp_secret(svc, db, user_id, key, &keylen, &last, err);
    if (rc < 0 || keylen == 0) /* no secret: the second factor cannot be proven */
        return rc;
    int64_t step = hpf_totp_check(key, (size_t)keylen, (int64_t)time(NULL), code, last);
    hpf_wipe(key, sizeof key);
    if (!step)
        return 0;
    hpf_stmt *st;
    rc = hpf_db_prepare(
        db, &st, "UPDATE app_user SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, step);
    hpf_stmt_bind_i64(st, 2, user_id);
    hpf_stmt_bind_i64(st, 3, step);
    rc = hpf_stmt_step(st, err);
    *ok = rc == 0 && hpf_stmt_changes(st) == 1;
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Open a session of `user_id` whose second factor was proven now, resetting its throttle and
 * appending session.login; sets out->token and out->csrf. One transaction (a savepoint when the
 * caller has one open). */
/* End a login's transaction: commit it when rc is 0 and `keep`, else roll it back; on failure
 * no token or CSRF secret of a session that was not committed stays in `out`. */
static int end_login_tx(hpf_db *db, int rc, bool keep, hpf_login_result *out, hpf_err *err)
{
    if (rc == 0 && keep)
        rc = hpf_db_commit(db, err);
    if (rc < 0 || !keep)
        hpf_db_rollback(db);
    if (rc < 0) {
        hpf_wipe(out->token, sizeof out->token);
        hpf_wipe(out->csrf, sizeof out->csrf);
    }
    return rc;
}

static int open_session(hpf_svc *svc, hpf_db *db, int64_t user_id, const char *key,
                        hpf_login_result *out, hpf_err *err)
{
    hpf_stmt *st;
    char th[65];
    hpf_rand_token(out->token, HPF_TOKEN_LEN, 32);
    hpf_rand_token(out->csrf, HPF_TOKEN_LEN, 32);
    hpf_sm3_hex(th, out->token, strlen(out->token));
    int64_t now = (int64_t)time(NULL);
    int rc = hpf_db_begin(db, err);
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
                            " last_seen, expires_at, factor_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, th);
        hpf_stmt_bind_i64(st, 2, user_id);
        hpf_stmt_bind_text(st, 3, out->csrf);
        hpf_stmt_bind_i64(st, 4, now);
        hpf_stmt_bind_i64(st, 5, now);
        hpf_stmt_bind_i64(st, 6, now + svc->session_max_s);
        hpf_stmt_bind_i64(st, 7, now);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = throttle_reset(db, key, err);
    if (rc == 0)
        rc = hpf_audit_session(db, user_id, HPF_AUDIT_SESSION_LOGIN, user_id, th, err);
    return end_login_tx(db, rc, true, out, err);
}

/* The member's mobile number on file ("" when none) for the login `user_id`. */
static int member_phone(const hpf_svc *svc, hpf_db *db, int64_t user_id, char phone[16],
                        hpf_err *err)
{
    hpf_stmt *st;
    int64_t member_id = 0;
    char p[16] = "";
    phone[0] = '\0';
    int rc =
        hpf_db_prepare(db, &st, "SELECT COALESCE(member_id, 0) FROM app_user WHERE id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, user_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        member_id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    /* The phone is stored encrypted (member.c, docs/internals/crypto.md). */
    if (rc < 0 || !member_id || (rc = svc_member_pii(svc, db, member_id, NULL, p, err)) < 0)
        return rc < 0 ? rc : 0;
    /* Only a plain number goes into the message: anything else counts as no phone. */
    if (strlen(p) >= 7 && strspn(p, "0123456789") == strlen(p))
        snprintf(phone, 16, "%s", p);
    return 0;
}

/* "138****0000": what the client may show of the number the code went to. */
static void mask_phone(char out[16], const char *p)
{
    size_t n = strlen(p);
    snprintf(out, 16, "%.3s****%s", p, p + n - 4);
}

/* A uniform 6-digit code (rejection sampling: no modulo bias). */
static void new_code(char out[7])
{
    uint32_t v;
    do
        hpf_rand_bytes(&v, sizeof v);
    while (v >= 4294000000u);
    snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
    hpf_wipe(&v, sizeof v);
}

/* SM3(challenge || code), the only form in which the code is kept. */
static void code_hash(char out[65], const char *challenge, const char *code)
{
    char buf[HPF_TOKEN_LEN + 8];
    int n = snprintf(buf, sizeof buf, "%s%s", challenge, code);
    hpf_sm3_hex(out, buf, n > 0 ? (size_t)n : 0);
    hpf_wipe(buf, sizeof buf);
}

/*
 * Send a member a one-time code by SMS: a new challenge (purpose "login", or "step_up" bound to
 * the session whose token hash is session_hash) and the message for the outbox, in one
 * transaction. At most SMS_PER_TTL live codes of a login wait unanswered at a time (HPF_ELIMIT
 * auth.sms_rate): each costs money and lands on someone's phone.
 */
static int send_code(const hpf_svc *svc, hpf_db *db, int64_t user_id, const char *purpose,
                     const char *session_hash, hpf_login_result *out, hpf_err *err)
{
    char phone[16], code[7], ch[65], chash[65], payload[160], idem[80];
    char sealed[HPF_FC_TEXT_MAX], message[HPF_FC_TEXT_MAX + 16];
    hpf_stmt *st;
    int64_t now = (int64_t)time(NULL), recent = 0, oldest = 0;
    int rc = member_phone(svc, db, user_id, phone, err);
    if (rc < 0)
        return rc;
    if (!phone[0])
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.no_phone",
                             "no mobile number is on file for this account: register a mobile "
                             "number at a counter");
    rc = hpf_db_prepare(db, &st,
                        "SELECT count(*), COALESCE(MIN(created_at), 0) FROM otp_challenge"
                        " WHERE user_id = ? AND expires_at > ? AND used_at IS NULL AND tries < ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, user_id);
    hpf_stmt_bind_i64(st, 2, now);
    hpf_stmt_bind_i64(st, 3, OTP_TRIES);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        recent = hpf_stmt_i64(st, 0);
        oldest = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (recent >= SMS_PER_TTL) {
        int64_t wait = oldest + OTP_TTL_S - now + 1;
        out->retry_after = wait < 1 ? 1 : (int)wait;
        return hpf_err_field(err, HPF_ELIMIT, "", "auth.sms_rate",
                             "%d codes sent to this account are still waiting for an answer; "
                             "use one, or try again in %d s",
                             SMS_PER_TTL, out->retry_after);
    }
    hpf_rand_token(out->challenge, HPF_TOKEN_LEN, 32);
    new_code(code);
    hpf_sm3_hex(ch, out->challenge, strlen(out->challenge));
    code_hash(chash, out->challenge, code);
    snprintf(payload, sizeof payload,
             "{\"to\":\"%s\",\"template\":\"otp\",\"params\":{\"code\":\"%s\"}}", phone, code);
    /* The message is sealed for the outbox (the dispatcher opens it just before sending): the
     * code and the phone number never rest in the database in clear; nor does the challenge
     * (the key names its hash). */
    snprintf(idem, sizeof idem, "otp:%s", ch);
    hpf_wipe(code, sizeof code);
    rc = hpf_fc_encrypt(svc->keys, HPF_OUTBOX_SEALED_FIELD, idem, payload, sealed, sizeof sealed,
                        err);
    if (rc < 0)
        goto done;
    snprintf(message, sizeof message, "{\"sealed\":\"%s\"}", sealed);
    if ((rc = hpf_db_begin(db, err)) < 0)
        goto done;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO otp_challenge (challenge_hash, user_id, purpose, session_hash,"
                        " code_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, ch);
        hpf_stmt_bind_i64(st, 2, user_id);
        hpf_stmt_bind_text(st, 3, purpose);
        hpf_stmt_bind_text(st, 4, session_hash);
        hpf_stmt_bind_text(st, 5, chash);
        hpf_stmt_bind_i64(st, 6, now + OTP_TTL_S);
        hpf_stmt_bind_i64(st, 7, now);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_outbox_enqueue(db, "sms", "sms.otp", idem, message, NULL, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    else
        hpf_db_rollback(db);
done:
    hpf_wipe(payload, sizeof payload);
    if (rc < 0) {
        hpf_wipe(out->challenge, sizeof out->challenge);
        return rc;
    }
    mask_phone(out->to, phone);
    out->expires_in = OTP_TTL_S;
    return 0;
}

int hpf_auth_login(hpf_svc *svc, const char *username, const char *password, const char *totp,
                   hpf_actor *actor, hpf_login_result *out, hpf_err *err)
{
    hpf_db *db;
    char hash[HPF_PW_HASH_MAX] = "", key[72];
    int64_t user_id = 0, failures = 0;
    memset(out, 0, sizeof *out);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    if ((rc = lookup_login(svc, db, username, &user_id, hash, err)) < 0)
        return rc;
    throttle_key(svc, key, user_id, username);
    rc = throttle_take(svc, db, key, user_id, &failures, &out->retry_after, err);
    if (rc < 0) {
        hpf_wipe(hash, sizeof hash);
        return rc;
    }
    bool ok;
    if (user_id) {
        ok = hpf_password_verify(hash, password);
    } else {
        hpf_password_dummy_verify(password);
        ok = false;
    }
    hpf_wipe(hash, sizeof hash);
    if (!ok)
        return attempt_failed(svc, db, key, user_id, failures, bad_credentials(err));
    if ((rc = load_actor(svc, db, user_id, actor, err)) < 0)
        return attempt_failed(svc, db, key, user_id, failures, rc);
    if (actor->role == HPF_ROLE_MEMBER) {
        /* The password was right: the attempt is given back, and the SMS code decides. */
        if ((rc = throttle_undo(db, key, err)) < 0)
            return rc;
        return send_code(svc, db, user_id, "login", NULL, out, err);
    }
    if (!totp || !*totp)
        return attempt_failed(svc, db, key, user_id, failures,
                              hpf_err_field(err, HPF_EAUTH, "/totp", "auth.totp_required",
                                            "enter the 6-digit code of your authenticator app"));
    /* The code's time step is taken in the transaction that opens the session: a conflict that
     * runs the request again must not find its own code already used. */
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = totp_verify(svc, db, user_id, totp, &ok, err);
    if (rc == 0 && ok)
        rc = open_session(svc, db, user_id, key, out, err);
    if ((rc = end_login_tx(db, rc, ok, out, err)) < 0)
        return rc;
    if (!ok)
        return attempt_failed(svc, db, key, user_id, failures, bad_credentials(err));
    actor->factor_at = (int64_t)time(NULL);
    return 0;
}

static int otp_invalid(hpf_err *err, const char *why)
{
    return hpf_err_field(err, HPF_EAUTH, "/code", "auth.otp_invalid", "%s", why);
}

int hpf_auth_otp(hpf_svc *svc, const char *challenge, const char *code, const char *session_token,
                 hpf_actor *actor, hpf_login_result *out, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char ch[65], want[65] = "", got[65], bound[65] = "", purpose[16] = "", key[72];
    int64_t id = 0, user_id = 0, tries = 0, expires = 0, used = 0, failures = 0;
    int64_t now = (int64_t)time(NULL);
    memset(out, 0, sizeof *out);
    size_t clen = strlen(challenge);
    if (clen == 0 || clen >= HPF_TOKEN_LEN)
        return otp_invalid(err, "unknown challenge: ask for a new code");
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    hpf_sm3_hex(ch, challenge, clen);
    rc = hpf_db_prepare(db, &st,
                        "SELECT id, user_id, purpose, COALESCE(session_hash, ''), code_hash, tries,"
                        " expires_at, COALESCE(used_at, 0) FROM otp_challenge"
                        " WHERE challenge_hash = ?",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, ch);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        id = hpf_stmt_i64(st, 0);
        user_id = hpf_stmt_i64(st, 1);
        COPY(purpose, hpf_stmt_text(st, 2));
        COPY(bound, hpf_stmt_text(st, 3));
        COPY(want, hpf_stmt_text(st, 4));
        tries = hpf_stmt_i64(st, 5);
        expires = hpf_stmt_i64(st, 6);
        used = hpf_stmt_i64(st, 7);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return otp_invalid(err, "unknown challenge: ask for a new code");
    bool step_up = !strcmp(purpose, "step_up");
    if (step_up) {
        /* A step-up code refreshes the session it was asked for, and no other. */
        char th[65] = "";
        if (session_token && *session_token && strlen(session_token) < HPF_TOKEN_LEN)
            hpf_sm3_hex(th, session_token, strlen(session_token));
        if (!bound[0] || strcmp(th, bound) != 0)
            return otp_invalid(err, "unknown challenge: ask for a new code");
    }
    /* A locked login answers 429 before anything about the challenge is looked at; every answer
     * from here on counts as an attempt, so spent and expired challenges count as failures. */
    throttle_key(svc, key, user_id, NULL);
    if ((rc = throttle_take(svc, db, key, user_id, &failures, &out->retry_after, err)) < 0)
        return rc;
    if (used)
        return attempt_failed(svc, db, key, user_id, failures,
                              otp_invalid(err, "this code was already used: ask for a new one"));
    if (now >= expires)
        return attempt_failed(svc, db, key, user_id, failures,
                              hpf_err_field(err, HPF_EAUTH, "/code", "auth.otp_expired",
                                            "the code has expired: ask for a new one"));
    if (tries >= OTP_TRIES)
        return attempt_failed(svc, db, key, user_id, failures,
                              otp_invalid(err, "too many wrong codes: ask for a new one"));
    bool right = false;
    if (code && strlen(code) == 6 && strspn(code, "0123456789") == 6) {
        code_hash(got, challenge, code);
        unsigned char d = 0;
        for (int i = 0; i < 64; i++)
            d |= (unsigned char)(got[i] ^ want[i]);
        right = d == 0;
    }
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    /* Spend a try, and on the right code the challenge itself, only while it is still live:
     * of two concurrent answers only one can use it. */
    rc = hpf_db_prepare(db, &st,
                        "UPDATE otp_challenge SET tries = tries + 1,"
                        " used_at = CASE WHEN ? = 1 THEN ? ELSE used_at END"
                        " WHERE id = ? AND used_at IS NULL AND tries < ? AND expires_at > ?",
                        err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, right ? 1 : 0);
        hpf_stmt_bind_i64(st, 2, now);
        hpf_stmt_bind_i64(st, 3, id);
        hpf_stmt_bind_i64(st, 4, OTP_TRIES);
        hpf_stmt_bind_i64(st, 5, now);
        rc = hpf_stmt_step(st, err);
        if (rc == 0 && hpf_stmt_changes(st) != 1)
            right = false;
        hpf_stmt_reset(st);
    }
    if (rc == 0 && right) {
        if ((rc = load_actor(svc, db, user_id, actor, err)) == 0) {
            actor->factor_at = now;
            if (step_up) {
                rc = step_up_proven(db, user_id, bound, key, now, err);
                out->fresh_until = now + svc->session_step_up_s;
            } else {
                rc = open_session(svc, db, user_id, key, out, err);
            }
        }
    }
    if ((rc = end_login_tx(db, rc, true, out, err)) < 0)
        return rc;
    if (!right)
        return attempt_failed(svc, db, key, user_id, failures, otp_invalid(err, "wrong code"));
    return 0;
}

int hpf_auth_step_up(hpf_svc *svc, const hpf_actor *actor, const char *session_token,
                     const char *totp, hpf_login_result *out, hpf_err *err)
{
    hpf_db *db;
    char th[65], key[72];
    int64_t failures = 0;
    memset(out, 0, sizeof *out);
    if (!session_token || !*session_token || strlen(session_token) >= HPF_TOKEN_LEN)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "log in first");
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    hpf_sm3_hex(th, session_token, strlen(session_token));
    if (actor->role == HPF_ROLE_MEMBER) {
        if (totp)
            return hpf_err_field(err, HPF_EINVAL, "/totp", "json.unknown_field",
                                 "members prove their second factor by SMS: send {}");
        return send_code(svc, db, actor->user_id, "step_up", th, out, err);
    }
    if (!totp || !*totp)
        return hpf_err_field(err, HPF_EAUTH, "/totp", "auth.totp_required",
                             "enter the 6-digit code of your authenticator app");
    throttle_key(svc, key, actor->user_id, NULL);
    if ((rc = throttle_take(svc, db, key, actor->user_id, &failures, &out->retry_after, err)) < 0)
        return rc;
    bool ok = false;
    int64_t now = (int64_t)time(NULL);
    /* One transaction with the code's step, as at the login. */
    if ((rc = hpf_db_begin(db, err)) < 0)
        return rc;
    rc = totp_verify(svc, db, actor->user_id, totp, &ok, err);
    if (rc == 0 && !ok) {
        hpf_db_rollback(db);
        return attempt_failed(
            svc, db, key, actor->user_id, failures,
            hpf_err_field(err, HPF_EAUTH, "/totp", "auth.bad_credentials", "wrong code"));
    }
    if (rc == 0)
        rc = step_up_proven(db, actor->user_id, th, key, now, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        return rc;
    }
    out->fresh_until = now + svc->session_step_up_s;
    return 0;
}

int hpf_auth_require_fresh(const hpf_svc *svc, const hpf_actor *actor, hpf_err *err)
{
    int64_t now = (int64_t)time(NULL);
    if (actor->factor_at > 0 && now - actor->factor_at <= svc->session_step_up_s)
        return 0;
    return hpf_err_field(
        err, HPF_EAUTH, "", "auth.step_up_required",
        "this action needs your second factor again: POST /api/v1/session/step-up");
}

int hpf_auth_session(hpf_svc *svc, const char *token, hpf_actor *actor, char csrf[HPF_TOKEN_LEN],
                     hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    char th[65];
    int64_t user_id = 0, last_seen = 0, expires = 0, factor_at = 0;
    size_t tlen = strlen(token);
    if (tlen == 0 || tlen >= HPF_TOKEN_LEN)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required", "not logged in");
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    hpf_sm3_hex(th, token, tlen);
    rc = hpf_db_prepare(db, &st,
                        "SELECT user_id, csrf_token, last_seen, expires_at, factor_at FROM session"
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
        factor_at = hpf_stmt_i64(st, 4);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    int64_t now = (int64_t)time(NULL);
    if (rc == 0 || now >= expires || now - last_seen > svc->session_idle_s)
        return hpf_err_field(err, HPF_EAUTH, "", "auth.required",
                             rc == 0 ? "not logged in" : "the session has expired; log in again");
    /* A short idle limit needs the timer touched more often than the default minute. */
    int64_t touch =
        svc->session_idle_s / 4 < TOUCH_EVERY_S ? svc->session_idle_s / 4 : TOUCH_EVERY_S;
    if (now - last_seen >= touch) {
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
    rc = load_actor(svc, db, user_id, actor, err);
    actor->factor_at = factor_at;
    return rc;
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
    /* Throttle rows of names nobody tries any more, and spent challenges (hashes only), go too:
     * guessing random names must not grow a table for ever. */
    if (rc == 0)
        rc = hpf_db_prepare(
            db, &st, "DELETE FROM login_throttle WHERE updated_at < ? AND locked_until < ?", err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, now * 1000 - THROTTLE_IDLE);
        hpf_stmt_bind_i64(st, 2, now * 1000);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_db_prepare(db, &st, "DELETE FROM otp_challenge WHERE expires_at < ?", err);
    if (rc == 0) {
        hpf_stmt_bind_i64(st, 1, now - 24 * 3600);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        *deleted = 0;
    }
    return rc < 0 ? rc : 0;
}

int hpf_user_create(const hpf_svc *svc, hpf_db *db, int64_t actor_id, const hpf_user_new *in,
                    int64_t *user_id, char *totp_uri, hpf_err *err)
{
    hpf_role role = in->role;
    const char *username = in->username, *password = in->password;
    const char *field_prefix = in->field_prefix ? in->field_prefix : "";
    char hash[HPF_PW_HASH_MAX], pw_field[64], user_field[64], b32[HPF_TOTP_B32_MAX] = "";
    char enc[HPF_FC_TEXT_MAX] = "";
    unsigned char key[HPF_TOTP_KEY_LEN];
    hpf_stmt *st;
    int64_t id = 0;
    bool second_factor =
        role == HPF_ROLE_OPERATOR || role == HPF_ROLE_AGENT || role == HPF_ROLE_ADMIN;
    if (second_factor && !totp_uri)
        return hpf_err_set(err, HPF_EINTERNAL, "an %s login needs somewhere to put its TOTP URI",
                           hpf_role_name(role));
    snprintf(pw_field, sizeof pw_field, "%s/password", field_prefix);
    snprintf(user_field, sizeof user_field, "%s/username", field_prefix);
    int rc = hpf_password_check(password, username, pw_field, err);
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
    if (second_factor) {
        if (!svc->keys)
            return hpf_err_set(err, HPF_EINTERNAL, "no field-encryption keys are loaded");
        hpf_totp_new_key(key);
        hpf_base32(b32, sizeof b32, key, sizeof key);
        rc = hpf_fc_encrypt(svc->keys, F_TOTP, username, b32, enc, sizeof enc, err);
        if (rc < 0) {
            hpf_wipe(key, sizeof key);
            hpf_wipe(b32, sizeof b32);
            return rc;
        }
        rc = hpf_totp_uri(totp_uri, HPF_TOTP_URI_LEN, TOTP_ISSUER, username, key, sizeof key, err);
        hpf_wipe(key, sizeof key);
        if (rc < 0)
            goto done;
    }
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO app_user(username, pw_hash, role, display_name, employer_id,"
                        " member_id, totp_secret, branch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        err);
    if (rc < 0)
        goto done;
    hpf_stmt_bind_text(st, 1, username);
    hpf_stmt_bind_text(st, 2, hash);
    hpf_stmt_bind_text(st, 3, hpf_role_name(role));
    hpf_stmt_bind_text(st, 4, in->display_name);
    if (in->employer_id)
        hpf_stmt_bind_i64(st, 5, in->employer_id);
    else
        hpf_stmt_bind_null(st, 5);
    if (in->member_id)
        hpf_stmt_bind_i64(st, 6, in->member_id);
    else
        hpf_stmt_bind_null(st, 6);
    hpf_stmt_bind_text(st, 7, second_factor ? enc : NULL);
    hpf_stmt_bind_text(st, 8, in->branch);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* taken by a concurrent request since the check above */
        rc = hpf_err_field(err, HPF_ECONFLICT, user_field, "user.username_taken",
                           "the username '%s' is already taken", username);
    if (rc < 0)
        goto done;
    if (user_id)
        *user_id = id;
    rc = hpf_audit_record(db, actor_id, HPF_AUDIT_USER_CREATED, id, err);
done:
    hpf_wipe(b32, sizeof b32);
    if (rc < 0 && totp_uri)
        hpf_wipe(totp_uri, HPF_TOTP_URI_LEN);
    return rc;
}
