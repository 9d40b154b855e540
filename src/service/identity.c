/* service/identity: the verdicts counter terminals hand in (ID-card reader, face check,
 * e-licence scan), recorded with their case and operator and appended to the audit chain. The
 * terminal decides; HPF keeps what it said, who was at the counter and when, so that a later
 * withdrawal or loan case can show which identity checks it rests on. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/mem.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERDICT_COLS                                                                               \
    "SELECT v.id, v.case_ref, v.kind, v.result, v.device_id, COALESCE(v.evidence_sha256, ''),"     \
    " COALESCE(v.licence_id, ''), COALESCE(v.score, -1), u.username, v.recorded_at,"               \
    " v.request_hash FROM identity_verdict v JOIN app_user u ON u.id = v.operator_id "

static void read_verdict(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_verdict *v = item;
    (void)ctx;
    v->id = hpf_stmt_i64(st, 0);
    COPY(v->case_ref, hpf_stmt_text(st, 1));
    COPY(v->kind, hpf_stmt_text(st, 2));
    COPY(v->result, hpf_stmt_text(st, 3));
    COPY(v->device_id, hpf_stmt_text(st, 4));
    COPY(v->evidence_sha256, hpf_stmt_text(st, 5));
    COPY(v->licence_id, hpf_stmt_text(st, 6));
    v->score = (int)hpf_stmt_i64(st, 7);
    COPY(v->operator_username, hpf_stmt_text(st, 8));
    COPY(v->recorded_at, hpf_stmt_text(st, 9));
}

/* 1..64 of A-Z a-z 0-9 and - _ . : (references and device names; nothing that needs escaping
 * in the audit payload or a URL). */
static bool ref_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

/* Check the input and write the lower-cased digest into sha (65 bytes). */
static int check(const hpf_verdict_new *in, char sha[65], hpf_err *err)
{
    static const char *const kinds[] = {"id_card", "face", "elicence", NULL};
    static const char *const results[] = {"pass", "fail", NULL};
    if (!ref_ok(in->case_ref))
        return hpf_err_field(err, HPF_EINVAL, "/case_ref", "verdict.case_ref",
                             "case_ref must be 1 to 64 of A-Z a-z 0-9 - _ . :");
    if (!one_of(in->kind, kinds))
        return hpf_err_field(err, HPF_EINVAL, "/kind", "verdict.kind",
                             "kind must be id_card, face or elicence");
    if (!one_of(in->result, results))
        return hpf_err_field(err, HPF_EINVAL, "/result", "verdict.result",
                             "result must be pass or fail");
    if (!ref_ok(in->device_id))
        return hpf_err_field(err, HPF_EINVAL, "/device_id", "verdict.device_id",
                             "device_id must be 1 to 64 of A-Z a-z 0-9 - _ . :");
    bool licence = !strcmp(in->kind, "elicence");
    sha[0] = '\0';
    if (licence) {
        if (in->evidence_sha256)
            return hpf_err_field(err, HPF_EINVAL, "/evidence_sha256", "verdict.evidence",
                                 "an e-licence verdict carries licence_id, not evidence_sha256");
        if (!ref_ok(in->licence_id))
            return hpf_err_field(err, HPF_EINVAL, "/licence_id", "verdict.licence_id",
                                 "an e-licence verdict needs licence_id, 1 to 64 of A-Z a-z 0-9 "
                                 "- _ . :");
    } else {
        if (in->licence_id)
            return hpf_err_field(err, HPF_EINVAL, "/licence_id", "verdict.licence_id",
                                 "only an e-licence verdict carries licence_id");
        const char *e = in->evidence_sha256;
        if (!e || strlen(e) != 64 || strspn(e, "0123456789abcdefABCDEF") != 64)
            return hpf_err_field(err, HPF_EINVAL, "/evidence_sha256", "verdict.evidence",
                                 "an %s verdict needs evidence_sha256, 64 hex digits", in->kind);
        for (int i = 0; i < 64; i++)
            sha[i] = (char)(e[i] >= 'A' && e[i] <= 'F' ? e[i] - 'A' + 'a' : e[i]);
        sha[64] = '\0';
    }
    if (in->score >= 0 && strcmp(in->kind, "face") != 0)
        return hpf_err_field(err, HPF_EINVAL, "/score", "verdict.score",
                             "only a face verdict carries a score");
    if (in->score > 100)
        return hpf_err_field(err, HPF_EINVAL, "/score", "verdict.score", "score must be 0 to 100");
    if (in->idem_key) {
        size_t n = strlen(in->idem_key);
        bool ok = n >= 8 && n <= 64;
        for (size_t i = 0; ok && i < n; i++) {
            char c = in->idem_key[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        }
        if (!ok)
            return hpf_err_field(err, HPF_EINVAL, "Idempotency-Key", "idempotency.key_format",
                                 "Idempotency-Key must be 8 to 64 of A-Z a-z 0-9 - _");
    }
    return 0;
}

/* The canonical bytes of a verdict without its id and time: the request fingerprint, and the
 * head of the audit payload. Fields are from check()'s alphabets: no escaping is needed. */
static void canon(hpf_buf *b, const hpf_verdict_new *in, const char *sha, int64_t operator_id)
{
    hpf_buf_printf(b, "verdict/1|%s|%s|%s|%s|%s|%s|", in->case_ref, in->kind, in->result,
                   in->device_id, sha, in->licence_id ? in->licence_id : "");
    if (in->score >= 0)
        hpf_buf_printf(b, "%d", in->score);
    hpf_buf_printf(b, "|%lld", (long long)operator_id);
}

/* The verdict with this operator's idempotency key: 1 found (into out, its fingerprint into
 * hash), 0 none. */
static int find_by_key(hpf_db *db, int64_t operator_id, const char *key, hpf_verdict *out,
                       char hash[65], hpf_err *err)
{
    hpf_stmt *st;
    int rc =
        hpf_db_prepare(db, &st, VERDICT_COLS "WHERE v.operator_id = ? AND v.idem_key = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, operator_id);
    hpf_stmt_bind_text(st, 2, key);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        read_verdict(st, out, NULL);
        snprintf(hash, 65, "%s", hpf_stmt_text(st, 10));
    }
    hpf_stmt_reset(st);
    return rc;
}

int hpf_verdict_record(hpf_svc *svc, const hpf_actor *actor, const hpf_verdict_new *in,
                       hpf_verdict *out, bool *replayed, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    hpf_buf b = HPF_BUF_INIT;
    char sha[65], fp[65], seen[65], at[21];
    int64_t id = 0;
    time_t now = time(NULL);
    struct tm tm;
    *replayed = false;
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator records identity verdicts");
    int rc = check(in, sha, err);
    if (rc < 0)
        return rc;
    canon(&b, in, sha, actor->user_id);
    hpf_sm3_hex(fp, b.data, b.len);
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        goto done;
    if (in->idem_key && (rc = find_by_key(db, actor->user_id, in->idem_key, out, seen, err)) != 0) {
        if (rc == 1 && strcmp(seen, fp) != 0)
            rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                               "this Idempotency-Key was used for another verdict");
        else if (rc == 1) {
            *replayed = true;
            rc = 0;
        }
        goto end;
    }
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO identity_verdict (case_ref, kind, result, device_id,"
                        " evidence_sha256, licence_id, score, operator_id, idem_key, request_hash,"
                        " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        goto end;
    hpf_stmt_bind_text(st, 1, in->case_ref);
    hpf_stmt_bind_text(st, 2, in->kind);
    hpf_stmt_bind_text(st, 3, in->result);
    hpf_stmt_bind_text(st, 4, in->device_id);
    hpf_stmt_bind_text(st, 5, sha[0] ? sha : NULL);
    hpf_stmt_bind_text(st, 6, in->licence_id);
    if (in->score >= 0)
        hpf_stmt_bind_i64(st, 7, in->score);
    else
        hpf_stmt_bind_null(st, 7);
    hpf_stmt_bind_i64(st, 8, actor->user_id);
    hpf_stmt_bind_text(st, 9, in->idem_key);
    hpf_stmt_bind_text(st, 10, fp);
    hpf_stmt_bind_text(st, 11, at);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        id = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* the same key by a concurrent request: run again, it replays */
        rc = hpf_err_set(err, HPF_EBUSY, "a concurrent request used this Idempotency-Key");
    if (rc < 0)
        goto end;
    hpf_buf_printf(&b, "|%s", at);
    rc = hpf_audit_event(db, actor->user_id, HPF_AUDIT_IDENTITY_VERDICT, "identity_verdict", id,
                         b.data, err);
    if (rc < 0)
        goto end;
    *out = (hpf_verdict){.id = id, .score = in->score};
    COPY(out->case_ref, in->case_ref);
    COPY(out->kind, in->kind);
    COPY(out->result, in->result);
    COPY(out->device_id, in->device_id);
    COPY(out->evidence_sha256, sha);
    COPY(out->licence_id, in->licence_id ? in->licence_id : "");
    COPY(out->operator_username, actor->username);
    COPY(out->recorded_at, at);
end:
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
done:
    hpf_buf_cleanup(&b);
    return rc;
}

int hpf_verdict_list(hpf_svc *svc, const hpf_actor *actor, const char *case_ref, int64_t offset,
                     int64_t limit, hpf_verdict **items, size_t *n, int64_t *total, hpf_err *err)
{
    hpf_db *db;
    hpf_stmt *st;
    *items = NULL;
    *n = 0;
    *total = 0;
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator reads identity verdicts");
    if (!ref_ok(case_ref))
        return hpf_err_field(err, HPF_EINVAL, "case_ref", "verdict.case_ref",
                             "case_ref must be 1 to 64 of A-Z a-z 0-9 - _ . :");
    svc_page(&offset, &limit);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st, "SELECT count(*) FROM identity_verdict WHERE case_ref = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, case_ref);
    rc = hpf_stmt_step(st, err);
    *total = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0 ||
        (rc = hpf_db_prepare(
             db, &st, VERDICT_COLS "WHERE v.case_ref = ? ORDER BY v.id LIMIT ? OFFSET ?", err)) < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, case_ref);
    hpf_stmt_bind_i64(st, 2, limit);
    hpf_stmt_bind_i64(st, 3, offset);
    hpf_verdict *buf = hpf_xcalloc((size_t)limit, sizeof *buf);
    while (*n < (size_t)limit && (rc = hpf_stmt_step(st, err)) == 1)
        read_verdict(st, &buf[(*n)++], NULL);
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(buf);
        *n = 0;
        return rc;
    }
    *items = buf;
    return 0;
}
