/* service/approval: maker-checker for money movements and policy changes (svc.h "approvals";
 * docs/internals/approval.md). A request is stored pending by its maker and runs when another
 * login with scope approves it, inside the decision's transaction. */
#include "service/internal.h"

#include "base/buf.h"
#include "base/mem.h"
#include "trust/audit.h"
#include "trust/digest.h"
#include "trust/sm2.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGN_TAG   "hpf-approval/1"
#define REASON_MAX 500 /* characters (bytes of UTF-8) of a rejection's reason */
#define NOTE_MAX   500

/* ---- the kinds ----
 * Adding a kind is one entry in `kinds` below: how to find its scope, how to check it, how to
 * run it, and who may check it. The kind's submit call (hpf_remit_submit, hpf_policy_submit)
 * builds the payload from plain C values; everything after that works on the payload as stored,
 * so what was checked at submit is byte for byte what runs at approval. */

typedef struct kind_def {
    const char *name;
    /* Decode the payload, check that `maker` may ask for it, lock what it acts on (scoped
     * kinds: the employer) and give its scope (0: the centre). Runs before the replay lookup. */
    int (*scope)(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, json_t *payload,
                 int64_t *employer_id, hpf_err *err);
    /* Every business check of the request, as the execution would make them, writing nothing:
     * a request that would fail now is refused at submit. */
    int (*validate)(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                    json_t *payload, hpf_err *err);
    /* Run the request for `checker`, in the decision's transaction. *result gets a JSON text
     * (malloc'd). A business error leaves the approval pending and reaches the checker. */
    int (*execute)(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                   json_t *payload, char **result, hpf_err *err);
    /* Roles that may check it: operators check anything of the centre; HPF_ROLE_AGENT here
     * lets another agent of the scope's employer check it too. */
    unsigned checkers;
} kind_def;

static const kind_def *find_kind(const char *name);

/* ---- small helpers ---- */

static void now_utc(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int check_ref(const char *k, hpf_err *err)
{
    size_t n = k ? strlen(k) : 0;
    bool ok = n >= 8 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
             (k[i] >= '0' && k[i] <= '9') || k[i] == '-' || k[i] == '_';
    return ok ? 0
              : hpf_err_field(err, HPF_EINVAL, "Idempotency-Key", "idempotency.key_format",
                              "Idempotency-Key must be 8 to 64 of A-Z a-z 0-9 - _");
}

/* The canonical text of a payload: compact, keys sorted, ASCII. It is stored as is, and its
 * SM3 is the approval's request_hash. NULL for NULL (a payload that could not be built). */
static char *canonical(json_t *payload)
{
    return payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
}

/* A stored payload (written by canonical()) back as JSON. Failure means the row was changed
 * behind the service's back. */
static int parse_payload(const char *text, json_t **out, hpf_err *err)
{
    json_error_t je;
    *out = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return hpf_err_set(err, HPF_EINTERNAL, "a stored approval payload does not parse: %s",
                           je.text);
    }
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int bad_payload(hpf_err *err, const char *what)
{
    return hpf_err_set(err, HPF_EINTERNAL, "approval payload: %s", what);
}

static int jmoney(json_t *o, const char *k, hpf_fen *out, hpf_err *err)
{
    const char *s = jstr(o, k);
    if (!s || hpf_money_parse(out, s, -HPF_MONEY_MAX, HPF_MONEY_MAX) < 0)
        return bad_payload(err, k);
    return 0;
}

static int jint(json_t *o, const char *k, int64_t *out, hpf_err *err)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return bad_payload(err, k);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static json_t *money_json(hpf_fen v)
{
    char b[24];
    return json_string(hpf_money_fmt(b, v));
}

/* ---- remittance.post ---- */

typedef struct remit_payload {
    const char *employer;
    hpf_remit_req req;
    hpf_remit_row *rows; /* owned; strings borrowed from the JSON */
} remit_payload;

static int remit_decode(json_t *p, const char *ref, remit_payload *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *rows = json_object_get(p, "rows");
    out->employer = jstr(p, "employer");
    out->req.idem_key = ref;
    if (!out->employer || !json_is_array(rows) || json_array_size(rows) > HPF_REMIT_MAX_ROWS ||
        !jstr(p, "period") || hpf_month_parse(&out->req.period, jstr(p, "period")) < 0)
        return bad_payload(err, "employer, period or rows");
    int rc = jmoney(p, "total", &out->req.total, err);
    if (rc < 0)
        return rc;
    out->req.nrows = json_array_size(rows);
    out->rows = hpf_xcalloc(out->req.nrows ? out->req.nrows : 1, sizeof *out->rows);
    for (size_t i = 0; i < out->req.nrows; i++) {
        json_t *r = json_array_get(rows, i);
        hpf_remit_row *w = &out->rows[i];
        w->account_no = jstr(r, "account_no");
        w->name = jstr(r, "name"); /* absent: not checked, as in the request */
        if (!w->account_no || (rc = jmoney(r, "unit", &w->unit, err)) < 0 ||
            (rc = jmoney(r, "individual", &w->individual, err)) < 0) {
            free(out->rows);
            out->rows = NULL;
            return rc < 0 ? rc : bad_payload(err, "row");
        }
    }
    out->req.rows = out->rows;
    return 0;
}

static json_t *remit_encode(const char *employer, const hpf_remit_req *req)
{
    char per[8];
    json_t *rows = json_array();
    for (size_t i = 0; i < req->nrows; i++) {
        const hpf_remit_row *r = &req->rows[i];
        json_t *o = json_pack("{s:s, s:o, s:o}", "account_no", r->account_no, "unit",
                              money_json(r->unit), "individual", money_json(r->individual));
        if (r->name)
            json_object_set_new(o, "name", json_string(r->name));
        json_array_append_new(rows, o);
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "employer", employer, "period",
                     hpf_month_fmt(per, req->period), "total", money_json(req->total), "rows",
                     rows);
}

static int remit_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, json_t *payload,
                       int64_t *employer_id, hpf_err *err)
{
    hpf_employer emp;
    const char *acct = jstr(payload, "employer");
    if (!acct)
        return bad_payload(err, "employer");
    int rc = svc_scope_employer(svc, maker, acct, err);
    if (rc < 0 || (rc = svc_load_employer(db, acct, &emp, err)) < 0 ||
        (rc = hpf_db_lock_row(db, "employer", emp.id, err)) < 0)
        return rc;
    *employer_id = emp.id;
    return 0;
}

/* One pending request per employer-month: a second one (another key for the same month) is
 * refused until the first is decided or withdrawn, so a checker never sees two competing
 * rosters. Pending requests of one employer are few; their payloads are read to find the month. */
static int remit_pending_month(hpf_db *db, int64_t employer_id, const char *period, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, payload FROM approval WHERE kind = '" HPF_APPROVAL_REMIT
                            "' AND scope_employer_id = ? AND status = 'pending'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, employer_id);
    int64_t clash = 0;
    while (!clash && (rc = hpf_stmt_step(st, err)) == 1) {
        json_t *p = NULL;
        if (parse_payload(hpf_stmt_text(st, 1), &p, err) < 0) {
            rc = HPF_EINTERNAL;
            break;
        }
        const char *per = jstr(p, "period");
        if (per && !strcmp(per, period))
            clash = hpf_stmt_i64(st, 0);
        json_decref(p);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (clash)
        return hpf_err_field(err, HPF_ECONFLICT, "/period", "remittance.period_pending",
                             "a remittance of this month waits for approval already (approval "
                             "%lld): approve, reject or withdraw it first",
                             (long long)clash);
    return 0;
}

static int remit_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                          json_t *payload, hpf_err *err)
{
    remit_payload rp;
    int64_t employer_id = 0;
    int rc = remit_decode(payload, ref, &rp, err);
    if (rc < 0)
        return rc;
    rc = hpf_remit_check(svc, maker, rp.employer, &rp.req, &employer_id, err);
    if (rc == 0)
        rc = remit_pending_month(db, employer_id, jstr(payload, "period"), err);
    free(rp.rows);
    return rc;
}

static char *remittance_result(const hpf_remittance *r)
{
    char per[8], day[11];
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:s, s:s}", "serial", r->serial,
                          "period", hpf_month_fmt(per, r->period), "state", "posted", "members",
                          (json_int_t)r->members, "unit_total", money_json(r->unit_total),
                          "indiv_total", money_json(r->indiv_total), "total", money_json(r->total),
                          "voucher_no", r->voucher_no, "posted_on", hpf_day_fmt(day, r->posted_on));
    char *s = canonical(o);
    json_decref(o);
    return s ? s : hpf_xstrdup("{}"); /* a receipt of fixed ASCII fields always encodes */
}

static int remit_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                         json_t *payload, char **result, hpf_err *err)
{
    remit_payload rp;
    hpf_remittance out;
    bool replayed = false;
    (void)db;
    int rc = remit_decode(payload, ref, &rp, err);
    if (rc < 0)
        return rc;
    rc = hpf_remit_post(svc, checker, rp.employer, &rp.req, &out, &replayed, err);
    free(rp.rows);
    if (rc == 0 && replayed)
        /* The key is this approval's own and submit refused keys spent before: only a
         * concurrent decision of this same approval posted it. Run again: it is decided. */
        return hpf_err_set(err, HPF_EBUSY, "approval decided concurrently");
    if (rc == 0)
        *result = remittance_result(&out);
    return rc;
}

/* ---- policy.change ---- */

static json_t *policy_encode(const hpf_policy *p, const char *note)
{
    char day[11];
    return json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:i, s:s, s:b, s:I, s:i, s:b, s:s}", "effective_from",
        hpf_day_fmt(day, p->effective_from), "unit_ratio_min_bp", (int)p->contrib.unit_ratio_min_bp,
        "unit_ratio_max_bp", (int)p->contrib.unit_ratio_max_bp, "indiv_ratio_min_bp",
        (int)p->contrib.indiv_ratio_min_bp, "indiv_ratio_max_bp",
        (int)p->contrib.indiv_ratio_max_bp, "city_avg_wage", money_json(p->contrib.city_avg_wage),
        "min_wage", money_json(p->contrib.min_wage), "cap_multiple", (int)p->contrib.cap_multiple,
        "rounding", hpf_rounding_name(p->contrib.rounding), "ratios_must_match",
        p->contrib.ratios_must_match, "deposit_rate_e7", (json_int_t)p->deposit_rate_e7,
        "day_basis", p->day_basis, "deferral_counts_as_continuous",
        p->deferral_counts_as_continuous, "note", note);
}

static int policy_decode(json_t *o, hpf_policy *p, const char **note, hpf_err *err)
{
    int64_t v[7];
    static const char *const ints[] = {
        "unit_ratio_min_bp", "unit_ratio_max_bp", "indiv_ratio_min_bp", "indiv_ratio_max_bp",
        "cap_multiple",      "deposit_rate_e7",   "day_basis"};
    json_t *match = json_object_get(o, "ratios_must_match");
    memset(p, 0, sizeof *p);
    const char *from = jstr(o, "effective_from");
    *note = jstr(o, "note");
    if (!from || hpf_day_parse(&p->effective_from, from) < 0 || !*note || !json_is_boolean(match) ||
        hpf_rounding_parse(&p->contrib.rounding, jstr(o, "rounding") ? jstr(o, "rounding") : "") <
            0)
        return bad_payload(err, "effective_from, rounding, ratios_must_match or note");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 7; i++)
        rc = jint(o, ints[i], &v[i], err);
    if (rc < 0 || (rc = jmoney(o, "city_avg_wage", &p->contrib.city_avg_wage, err)) < 0 ||
        (rc = jmoney(o, "min_wage", &p->contrib.min_wage, err)) < 0)
        return rc;
    for (size_t i = 0; i < 7; i++)
        if (i != 5 && (v[i] < INT32_MIN || v[i] > INT32_MAX))
            return bad_payload(err, ints[i]);
    p->contrib.unit_ratio_min_bp = (int32_t)v[0];
    p->contrib.unit_ratio_max_bp = (int32_t)v[1];
    p->contrib.indiv_ratio_min_bp = (int32_t)v[2];
    p->contrib.indiv_ratio_max_bp = (int32_t)v[3];
    p->contrib.cap_multiple = (int32_t)v[4];
    p->contrib.ratios_must_match = json_is_true(match);
    p->deposit_rate_e7 = v[5];
    p->day_basis = (int)v[6];
    /* Requests stored before the flag was proposable lack it: the default of C-10. */
    json_t *defer = json_object_get(o, "deferral_counts_as_continuous");
    if (defer && !json_is_boolean(defer))
        return bad_payload(err, "deferral_counts_as_continuous");
    p->deferral_counts_as_continuous = !json_is_false(defer);
    return 0;
}

static int policy_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, json_t *payload,
                        int64_t *employer_id, hpf_err *err)
{
    (void)svc, (void)db, (void)payload;
    *employer_id = 0;
    if (maker->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator proposes a policy change");
    /* The policy is the whole centre's: a branch office neither proposes nor sees it. */
    if (!svc_branch_sees(maker, ""))
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.branch",
                             "only an operator of the centre proposes a policy change");
    return 0;
}

/* The rules of a new policy version that do not depend on the stored ones, then those that do:
 * it starts after today (a change never rewrites what was computed under the old one) and on a
 * date no version holds yet. */
static int policy_check(hpf_svc *svc, hpf_db *db, const hpf_policy *p, const char *note,
                        hpf_err *err)
{
    char day[11], today_s[11];
    hpf_day today = hpf_svc_today(svc);
    int64_t taken = 0;
    int rc = hpf_contrib_policy_check(&p->contrib, err);
    if (rc < 0)
        return rc;
    if (p->contrib.cap_multiple > 5)
        return hpf_err_field(err, HPF_EINVAL, "/cap_multiple", "policy.invalid",
                             "cap_multiple must be in 1..5");
    if (p->deposit_rate_e7 < 0 || p->deposit_rate_e7 > 10000000)
        return hpf_err_field(err, HPF_EINVAL, "/deposit_rate_e7", "policy.invalid",
                             "deposit_rate_e7 must be in 0..10000000 (0%%..100%%)");
    if (p->day_basis != 360 && p->day_basis != 365)
        return hpf_err_field(err, HPF_EINVAL, "/day_basis", "policy.invalid",
                             "day_basis must be 360 or 365");
    size_t n = strlen(note);
    bool printable = n > 0 && n <= NOTE_MAX;
    for (size_t i = 0; printable && i < n; i++)
        printable = (unsigned char)note[i] >= 0x20 && note[i] != 0x7f;
    if (!printable)
        return hpf_err_field(err, HPF_EINVAL, "/note", "policy.note",
                             "note must be 1 to %d characters without control characters",
                             NOTE_MAX);
    if (p->effective_from <= today)
        return hpf_err_field(err, HPF_EUNPROC, "/effective_from", "policy.effective_past",
                             "a new policy takes effect after the business date %s",
                             hpf_day_fmt(today_s, today));
    hpf_stmt *st;
    rc =
        hpf_db_prepare(db, &st, "SELECT version FROM policy_version WHERE effective_from = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, hpf_day_fmt(day, p->effective_from));
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        taken = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (taken)
        return hpf_err_field(err, HPF_ECONFLICT, "/effective_from", "policy.date_taken",
                             "policy version %lld takes effect on %s already", (long long)taken,
                             day);
    return 0;
}

static int policy_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                           json_t *payload, hpf_err *err)
{
    hpf_policy p;
    const char *note;
    (void)maker, (void)ref;
    int rc = policy_decode(payload, &p, &note, err);
    return rc < 0 ? rc : policy_check(svc, db, &p, note, err);
}

static int policy_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                          json_t *payload, char **result, hpf_err *err)
{
    hpf_policy p;
    hpf_stmt *st;
    const char *note;
    char day[11];
    int64_t version = 0;
    (void)checker, (void)ref;
    int rc = policy_decode(payload, &p, &note, err);
    if (rc < 0 || (rc = policy_check(svc, db, &p, note, err)) < 0 ||
        (rc = hpf_db_query_i64(db, &version,
                               "SELECT COALESCE(MAX(version), 0) + 1 FROM"
                               " policy_version",
                               err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO policy_version (version, effective_from, unit_ratio_min_bp,"
                        " unit_ratio_max_bp, indiv_ratio_min_bp, indiv_ratio_max_bp,"
                        " city_avg_wage, min_wage, cap_multiple, rounding, ratios_must_match,"
                        " deposit_rate_e7, day_basis, deferral_counts_as_continuous, note) VALUES"
                        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, version);
    hpf_stmt_bind_text(st, 2, hpf_day_fmt(day, p.effective_from));
    hpf_stmt_bind_i64(st, 3, p.contrib.unit_ratio_min_bp);
    hpf_stmt_bind_i64(st, 4, p.contrib.unit_ratio_max_bp);
    hpf_stmt_bind_i64(st, 5, p.contrib.indiv_ratio_min_bp);
    hpf_stmt_bind_i64(st, 6, p.contrib.indiv_ratio_max_bp);
    hpf_stmt_bind_i64(st, 7, p.contrib.city_avg_wage);
    hpf_stmt_bind_i64(st, 8, p.contrib.min_wage);
    hpf_stmt_bind_i64(st, 9, p.contrib.cap_multiple);
    hpf_stmt_bind_text(st, 10, hpf_rounding_name(p.contrib.rounding));
    hpf_stmt_bind_i64(st, 11, p.contrib.ratios_must_match ? 1 : 0);
    hpf_stmt_bind_i64(st, 12, p.deposit_rate_e7);
    hpf_stmt_bind_i64(st, 13, p.day_basis);
    hpf_stmt_bind_i64(st, 14, p.deferral_counts_as_continuous ? 1 : 0);
    hpf_stmt_bind_text(st, 15, note);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* the version number or the date, taken by a concurrent decision */
        return hpf_err_set(err, HPF_EBUSY, "a concurrent policy change took the version");
    if (rc < 0)
        return rc;
    json_t *o = json_pack("{s:I, s:s}", "version", (json_int_t)version, "effective_from", day);
    *result = canonical(o);
    json_decref(o);
    return *result ? 0 : hpf_err_set(err, HPF_EINTERNAL, "policy result does not encode");
}

/* ---- backpay.post (service/backpay.c) ---- */

typedef struct backpay_payload {
    const char *employer;
    hpf_backpay_req req;
} backpay_payload;

static int backpay_decode(json_t *p, const char *ref, backpay_payload *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *lines = json_object_get(p, "lines");
    out->employer = jstr(p, "employer");
    out->req.idem_key = ref;
    if (!out->employer || !json_is_array(lines) || json_array_size(lines) > HPF_BACKPAY_MAX_LINES)
        return bad_payload(err, "employer or lines");
    int rc = jmoney(p, "total", &out->req.total, err);
    if (rc < 0)
        return rc;
    out->req.has_total = true;
    out->req.nlines = json_array_size(lines);
    out->req.lines = hpf_xcalloc(out->req.nlines ? out->req.nlines : 1, sizeof *out->req.lines);
    for (size_t i = 0; i < out->req.nlines; i++) {
        json_t *l = json_array_get(lines, i);
        hpf_backpay_line *w = &out->req.lines[i];
        w->account_no = jstr(l, "account_no");
        w->amounts = true;
        if (!w->account_no || !jstr(l, "period") ||
            hpf_month_parse(&w->period, jstr(l, "period")) < 0 ||
            (rc = jmoney(l, "unit", &w->unit, err)) < 0 ||
            (rc = jmoney(l, "individual", &w->individual, err)) < 0) {
            free(out->req.lines);
            out->req.lines = NULL;
            return rc < 0 ? rc : bad_payload(err, "line");
        }
    }
    return 0;
}

/* Every amount is in the payload: what the checker approves is what posts. */
static json_t *backpay_encode(const char *employer, const hpf_backpay_req *req)
{
    char per[8];
    json_t *lines = json_array();
    for (size_t i = 0; i < req->nlines; i++) {
        const hpf_backpay_line *l = &req->lines[i];
        json_array_append_new(lines, json_pack("{s:s, s:s, s:o, s:o}", "account_no", l->account_no,
                                               "period", hpf_month_fmt(per, l->period), "unit",
                                               money_json(l->unit), "individual",
                                               money_json(l->individual)));
    }
    return json_pack("{s:s, s:o, s:o}", "employer", employer, "total", money_json(req->total),
                     "lines", lines);
}

static int backpay_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                            json_t *payload, hpf_err *err)
{
    backpay_payload bp;
    int64_t employer_id = 0;
    (void)db;
    int rc = backpay_decode(payload, ref, &bp, err);
    if (rc < 0)
        return rc;
    rc = hpf_backpay_check(svc, maker, bp.employer, &bp.req, &employer_id, err);
    free(bp.req.lines);
    return rc;
}

static int backpay_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                           json_t *payload, char **result, hpf_err *err)
{
    backpay_payload bp;
    hpf_remittance out;
    bool replayed = false;
    (void)db;
    int rc = backpay_decode(payload, ref, &bp, err);
    if (rc < 0)
        return rc;
    rc = hpf_backpay_post(svc, checker, bp.employer, &bp.req, &out, &replayed, err);
    free(bp.req.lines);
    if (rc == 0 && replayed) /* as remit_execute */
        return hpf_err_set(err, HPF_EBUSY, "approval decided concurrently");
    if (rc == 0)
        *result = remittance_result(&out);
    return rc;
}

/* ---- deferral.grant (service/deferral.c) ---- */

static int deferral_decode(json_t *p, const char *ref, hpf_deferral_req *out, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    out->idem_key = ref;
    out->reason = jstr(p, "reason");
    out->document_no = jstr(p, "document_no");
    if (!out->reason || !out->document_no || !jstr(p, "from") || !jstr(p, "to") ||
        hpf_month_parse(&out->from, jstr(p, "from")) < 0 ||
        hpf_month_parse(&out->to, jstr(p, "to")) < 0 || !jstr(p, "employer"))
        return bad_payload(err, "employer, from, to, reason or document_no");
    return 0;
}

static int deferral_scope(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, json_t *payload,
                          int64_t *employer_id, hpf_err *err)
{
    if (maker->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator records a deferral");
    return remit_scope(svc, db, maker, payload, employer_id, err);
}

static int deferral_validate(hpf_svc *svc, hpf_db *db, const hpf_actor *maker, const char *ref,
                             json_t *payload, hpf_err *err)
{
    hpf_deferral_req req;
    int rc = deferral_decode(payload, ref, &req, err);
    return rc < 0 ? rc : hpf_deferral_check(svc, db, maker, jstr(payload, "employer"), &req, err);
}

static int deferral_execute(hpf_svc *svc, hpf_db *db, const hpf_actor *checker, const char *ref,
                            json_t *payload, char **result, hpf_err *err)
{
    hpf_deferral_req req;
    hpf_deferral d;
    char from[8], to[8];
    int rc = deferral_decode(payload, ref, &req, err);
    if (rc < 0 ||
        (rc = hpf_deferral_grant(svc, db, checker, jstr(payload, "employer"), &req, &d, err)) < 0)
        return rc;
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:o}", "deferral_id", (json_int_t)d.id,
                          "from", hpf_month_fmt(from, d.from), "to", hpf_month_fmt(to, d.to),
                          "state", d.state, "members", (json_int_t)d.members, "owed_months",
                          (json_int_t)d.owed_months, "owed_total", money_json(d.owed_total));
    *result = canonical(o);
    json_decref(o);
    return *result ? 0 : hpf_err_set(err, HPF_EINTERNAL, "deferral result does not encode");
}

static const kind_def kinds[] = {
    {HPF_APPROVAL_REMIT, remit_scope, remit_validate, remit_execute,
     HPF_ROLE_OPERATOR | HPF_ROLE_AGENT},
    {HPF_APPROVAL_POLICY, policy_scope, policy_validate, policy_execute, HPF_ROLE_OPERATOR},
    /* service/backpay.c and service/deferral.c */
    {HPF_APPROVAL_BACKPAY, remit_scope, backpay_validate, backpay_execute,
     HPF_ROLE_OPERATOR | HPF_ROLE_AGENT},
    {HPF_APPROVAL_DEFERRAL, deferral_scope, deferral_validate, deferral_execute, HPF_ROLE_OPERATOR},
    /* service/citytransfer.c and service/merge.c */
    {HPF_APPROVAL_TRANSFER_OUT, svc_xfer_out_scope, svc_xfer_out_validate, svc_xfer_out_execute,
     HPF_ROLE_OPERATOR},
    {HPF_APPROVAL_MERGE, svc_merge_scope, svc_merge_validate, svc_merge_execute, HPF_ROLE_OPERATOR},
    /* service/accounts.c */
    {HPF_APPROVAL_REVERSAL, svc_reverse_scope, svc_reverse_validate, svc_reverse_execute,
     HPF_ROLE_OPERATOR},
};

static const kind_def *find_kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* ---- reading approvals ---- */

#define APPROVAL_SELECT                                                                            \
    "SELECT a.id, a.kind, a.ref, COALESCE(e.account_no, ''), a.request_hash, a.status,"            \
    " a.maker_id, mu.username, mu.role, a.made_at, COALESCE(a.checker_id, 0),"                     \
    " COALESCE(cu.username, ''), COALESCE(cu.role, ''), COALESCE(a.decided_at, ''),"               \
    " COALESCE(a.signature, ''), COALESCE(a.key_id, ''), COALESCE(a.scope_employer_id, 0),"        \
    " a.reason, a.result, COALESCE(e.branch, '')"
#define APPROVAL_FROM                                                                              \
    " FROM approval a JOIN app_user mu ON mu.id = a.maker_id"                                      \
    " LEFT JOIN app_user cu ON cu.id = a.checker_id"                                               \
    " LEFT JOIN employer e ON e.id = a.scope_employer_id "

static char *dup_or_null(hpf_stmt *st, int col)
{
    return hpf_stmt_null(st, col) ? NULL : hpf_xstrdup(hpf_stmt_text(st, col));
}

/* Columns 0..18 of APPROVAL_SELECT (a svc_row_fn; lists leave payload and result out); column
 * 19, the employer's branch, only decides who may see it. */
static void read_approval(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_approval *a = item;
    (void)ctx;
    memset(a, 0, sizeof *a);
    a->id = hpf_stmt_i64(st, 0);
    COPY(a->kind, hpf_stmt_text(st, 1));
    COPY(a->ref, hpf_stmt_text(st, 2));
    COPY(a->employer_account_no, hpf_stmt_text(st, 3));
    COPY(a->request_hash, hpf_stmt_text(st, 4));
    COPY(a->status, hpf_stmt_text(st, 5));
    a->maker_id = hpf_stmt_i64(st, 6);
    COPY(a->maker, hpf_stmt_text(st, 7));
    COPY(a->maker_role, hpf_stmt_text(st, 8));
    COPY(a->made_at, hpf_stmt_text(st, 9));
    a->checker_id = hpf_stmt_i64(st, 10);
    COPY(a->checker, hpf_stmt_text(st, 11));
    COPY(a->checker_role, hpf_stmt_text(st, 12));
    COPY(a->decided_at, hpf_stmt_text(st, 13));
    COPY(a->signature, hpf_stmt_text(st, 14));
    COPY(a->key_id, hpf_stmt_text(st, 15));
    a->employer_id = hpf_stmt_i64(st, 16);
    a->reason = dup_or_null(st, 17);
    a->result = dup_or_null(st, 18);
    a->signature_valid = -1;
}

void hpf_approval_cleanup(hpf_approval *a)
{
    if (!a)
        return;
    free(a->reason);
    free(a->payload);
    free(a->result);
    a->reason = a->payload = a->result = NULL;
}

void hpf_approvals_free(hpf_approval *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        hpf_approval_cleanup(&items[i]);
    free(items);
}

/* Load one approval with its payload. HPF_ENOTFOUND (rule approval.unknown) when there is none
 * or the actor may not see it: an agent sees only their employer's, a member none. */
static int load(hpf_db *db, const hpf_actor *actor, int64_t id, hpf_approval *out, hpf_err *err)
{
    hpf_stmt *st;
    memset(out, 0, sizeof *out);
    char branch[8] = "";
    int rc =
        hpf_db_prepare(db, &st, APPROVAL_SELECT ", a.payload" APPROVAL_FROM "WHERE a.id = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        read_approval(st, out, NULL);
        COPY(branch, hpf_stmt_text(st, 19));
        out->payload = hpf_xstrdup(hpf_stmt_text(st, 20));
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    /* An operator of a branch sees its employers' requests only, not the centre's own. */
    bool visible =
        rc == 1 && ((actor->role == HPF_ROLE_OPERATOR && svc_branch_sees(actor, branch)) ||
                    (actor->role == HPF_ROLE_AGENT && out->employer_id &&
                     out->employer_id == actor->employer_id));
    if (!visible) {
        hpf_approval_cleanup(out);
        return hpf_err_field(err, HPF_ENOTFOUND, "", "approval.unknown", "no approval %lld",
                             (long long)id);
    }
    return 0;
}

/* The text an operator signs when deciding (docs/internals/approval.md). */
static void sign_text(hpf_buf *b, const hpf_approval *a, int64_t checker, const char *decision,
                      const char *decided_at)
{
    hpf_buf_printf(b, SIGN_TAG "|%lld|%s|%s|%lld|%lld|%s|%s", (long long)a->id, a->kind,
                   a->request_hash, (long long)a->maker_id, (long long)checker, decision,
                   decided_at);
}

/* signature_valid and payload_intact of a loaded approval. */
static int verify(hpf_db *db, hpf_approval *a, hpf_err *err)
{
    char h[65];
    hpf_sm3_hex(h, a->payload, strlen(a->payload));
    a->payload_intact = !strcmp(h, a->request_hash);
    a->signature_valid = -1;
    /* Operators sign every decision; agents hold no key. A decision by an operator without a
     * signature is as wrong as one with a bad signature. */
    if (strcmp(a->checker_role, "operator") != 0 || !a->checker_id)
        return 0;
    if (!a->signature[0] || !a->key_id[0]) {
        a->signature_valid = 0;
        return 0;
    }
    hpf_buf b = HPF_BUF_INIT;
    hpf_err e = HPF_ERR_INIT;
    sign_text(&b, a, a->checker_id, a->status, a->decided_at);
    int rc = hpf_sm2_operator_verify(db, a->checker_id, a->key_id, b.data, b.len, a->signature, &e);
    hpf_buf_cleanup(&b);
    if (rc == 0 || rc == HPF_ECONFLICT || rc == HPF_EINVAL) {
        a->signature_valid = rc == 0 && a->payload_intact;
        return 0;
    }
    *err = e;
    return rc;
}

int hpf_approval_get(hpf_svc *svc, const hpf_actor *actor, int64_t id, hpf_approval *out,
                     hpf_err *err)
{
    hpf_db *db;
    /* The primary: a decision just made must show at once. */
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = load(db, actor, id, out, err)) < 0)
        return rc;
    rc = verify(db, out, err);
    if (rc < 0)
        hpf_approval_cleanup(out);
    return rc;
}

int hpf_approval_list(hpf_svc *svc, const hpf_actor *actor, const char *status, const char *kind,
                      int64_t offset, int64_t limit, hpf_approval **items, size_t *n,
                      int64_t *total, hpf_err *err)
{
    static const char *const statuses[] = {"pending", "approved", "rejected", "withdrawn"};
    hpf_db *db;
    hpf_stmt *st;
    *items = NULL;
    *n = 0;
    *total = 0;
    if (actor->role != HPF_ROLE_OPERATOR && actor->role != HPF_ROLE_AGENT)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "approvals are for operators and employer agents");
    bool ok = !status;
    for (size_t i = 0; !ok && i < 4; i++)
        ok = !strcmp(status, statuses[i]);
    if (!ok)
        return hpf_err_field(err, HPF_EINVAL, "status", "query.enum",
                             "status must be pending, approved, rejected or withdrawn");
    if (kind && !find_kind(kind)) {
        char names[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     kinds[i].name);
        return hpf_err_field(err, HPF_EINVAL, "kind", "query.enum", "kind must be one of %s",
                             names);
    }
    svc_page(&offset, &limit);
    int64_t scope = actor->role == HPF_ROLE_AGENT ? actor->employer_id : 0;
    const char *branch = actor->role == HPF_ROLE_OPERATOR ? actor->branch : "";
#define FILTER                                                                                     \
    " WHERE (CAST(? AS TEXT) = '' OR a.status = ?) AND (CAST(? AS TEXT) = '' OR a.kind = ?)"       \
    " AND (CAST(? AS BIGINT) = 0 OR a.scope_employer_id = ?)"                                      \
    " AND (CAST(? AS TEXT) = '' OR e.branch = ?)"
    int rc = svc_conn_read(svc, &db, err);
    if (rc < 0)
        return rc;
    for (int pass = 0; pass < 2 && rc >= 0; pass++) {
        rc = hpf_db_prepare(db, &st,
                            pass == 0 ? "SELECT count(*) FROM approval a"
                                        " LEFT JOIN employer e ON e.id = a.scope_employer_id" FILTER
                                      : APPROVAL_SELECT APPROVAL_FROM FILTER
                                " ORDER BY a.id DESC LIMIT ? OFFSET ?",
                            err);
        if (rc < 0)
            break;
        hpf_stmt_bind_text(st, 1, status ? status : "");
        hpf_stmt_bind_text(st, 2, status ? status : "");
        hpf_stmt_bind_text(st, 3, kind ? kind : "");
        hpf_stmt_bind_text(st, 4, kind ? kind : "");
        hpf_stmt_bind_i64(st, 5, scope);
        hpf_stmt_bind_i64(st, 6, scope);
        hpf_stmt_bind_text(st, 7, branch);
        hpf_stmt_bind_text(st, 8, branch);
        if (pass == 0) {
            rc = hpf_stmt_step(st, err);
            if (rc == 1)
                *total = hpf_stmt_i64(st, 0);
        } else {
            hpf_stmt_bind_i64(st, 9, limit);
            hpf_stmt_bind_i64(st, 10, offset);
            *items = hpf_xcalloc((size_t)limit, sizeof **items);
            while (*n < (size_t)limit && (rc = hpf_stmt_step(st, err)) == 1)
                read_approval(st, &(*items)[(*n)++], NULL);
        }
        hpf_stmt_reset(st);
    }
#undef FILTER
    if (rc < 0) {
        hpf_approvals_free(*items, *n);
        *items = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

/* ---- submit ---- */

/* Store `payload` (stolen) as a pending request of `kind` by `actor` under the business key
 * `ref`, after the kind's checks; or find the request already stored under that key. */
static int submit(hpf_svc *svc, const hpf_actor *actor, const char *kind_name, const char *ref,
                  json_t *payload, hpf_approval *out, bool *replayed, hpf_err *err)
{
    const kind_def *k = find_kind(kind_name);
    hpf_db *db;
    hpf_stmt *st;
    char hash[65], made_at[21];
    int64_t scope = 0, id = 0;
    char *text = NULL;
    *replayed = false;
    memset(out, 0, sizeof *out);
    int rc = check_ref(ref, err);
    if (rc < 0)
        goto done;
    if (!k) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "unknown approval kind %s", kind_name);
        goto done;
    }
    if (!(text = canonical(payload))) {
        /* json_pack refuses NULL and invalid UTF-8: only a caller outside api/ can get here */
        rc = hpf_err_set(err, HPF_EINVAL, "the request cannot be encoded (text not UTF-8?)");
        goto done;
    }
    hpf_sm3_hex(hash, text, strlen(text));
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        goto done;
    if ((rc = k->scope(svc, db, actor, payload, &scope, err)) < 0)
        goto end;
    rc = hpf_db_prepare(db, &st,
                        "SELECT id, request_hash FROM approval WHERE kind = ?"
                        " AND COALESCE(scope_employer_id, 0) = ? AND ref = ?",
                        err);
    if (rc < 0)
        goto end;
    hpf_stmt_bind_text(st, 1, k->name);
    hpf_stmt_bind_i64(st, 2, scope);
    hpf_stmt_bind_text(st, 3, ref);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        id = hpf_stmt_i64(st, 0);
        *replayed = !strcmp(hpf_stmt_text(st, 1), hash);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto end;
    if (id && !*replayed) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "Idempotency-Key", "idempotency.key_reused",
                           "this Idempotency-Key was used for a different request (approval %lld)",
                           (long long)id);
        goto end;
    }
    if (!id) {
        if ((rc = k->validate(svc, db, actor, ref, payload, err)) < 0)
            goto end;
        now_utc(made_at);
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO approval (kind, ref, scope_employer_id, payload,"
                            " request_hash, maker_id, made_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                            " RETURNING id",
                            err);
        if (rc < 0)
            goto end;
        hpf_stmt_bind_text(st, 1, k->name);
        hpf_stmt_bind_text(st, 2, ref);
        if (scope)
            hpf_stmt_bind_i64(st, 3, scope);
        else
            hpf_stmt_bind_null(st, 3);
        hpf_stmt_bind_text(st, 4, text);
        hpf_stmt_bind_text(st, 5, hash);
        hpf_stmt_bind_i64(st, 6, actor->user_id);
        hpf_stmt_bind_text(st, 7, made_at);
        rc = hpf_stmt_step(st, err);
        if (rc == 1)
            id = hpf_stmt_i64(st, 0);
        hpf_stmt_reset(st);
        if (rc == HPF_ECONFLICT) /* the same key by a concurrent request: run again, it replays */
            rc = hpf_err_set(err, HPF_EBUSY, "a concurrent request used this Idempotency-Key");
        if (rc < 0)
            goto end;
        if ((rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_APPROVAL_SUBMITTED, id, err)) < 0)
            goto end;
    }
    rc = load(db, actor, id, out, err);
end:
    if (rc == 0 && !*replayed)
        rc = hpf_db_commit(db, err);
    if (rc < 0 || *replayed)
        hpf_db_rollback(db);
    if (rc < 0)
        hpf_approval_cleanup(out);
done:
    free(text);
    json_decref(payload);
    return rc;
}

int svc_approval_submit(hpf_svc *svc, const hpf_actor *actor, const char *kind, const char *ref,
                        json_t *payload, hpf_approval *out, bool *replayed, hpf_err *err)
{
    return submit(svc, actor, kind, ref, payload, out, replayed, err);
}

int hpf_remit_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                     const hpf_remit_req *req, hpf_approval *out, bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    int rc = svc_scope_employer(svc, actor, employer_account_no, err);
    if (rc < 0)
        return rc;
    if (req->nrows > HPF_REMIT_MAX_ROWS)
        return hpf_err_field(err, HPF_ETOOBIG, "/rows", "remittance.too_many_rows",
                             "a roster holds at most %d rows", HPF_REMIT_MAX_ROWS);
    for (size_t i = 0; i < req->nrows; i++)
        if (!req->rows[i].account_no)
            return hpf_err_field(err, HPF_EINVAL, "/rows", "json.required",
                                 "row %zu has no account_no", i);
    return submit(svc, actor, HPF_APPROVAL_REMIT, req->idem_key,
                  remit_encode(employer_account_no, req), out, replayed, err);
}

int hpf_policy_submit(hpf_svc *svc, const hpf_actor *actor, const hpf_policy *p, const char *note,
                      const char *idem_key, hpf_approval *out, bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator proposes a policy change");
    return submit(svc, actor, HPF_APPROVAL_POLICY, idem_key, policy_encode(p, note ? note : ""),
                  out, replayed, err);
}

int hpf_backpay_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                       hpf_backpay_req *req, hpf_approval *out, bool *replayed, hpf_err *err)
{
    *replayed = false;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < req->nlines && i <= HPF_BACKPAY_MAX_LINES; i++)
        if (!req->lines[i].account_no)
            return hpf_err_field(err, HPF_EINVAL, "/lines", "json.required",
                                 "line %zu has no account_no", i);
    /* The amounts left to the centre are computed now and stored: the checker sees them. */
    int rc = hpf_backpay_resolve(svc, actor, employer_account_no, req, err);
    if (rc < 0)
        return rc;
    return submit(svc, actor, HPF_APPROVAL_BACKPAY, req->idem_key,
                  backpay_encode(employer_account_no, req), out, replayed, err);
}

int hpf_deferral_submit(hpf_svc *svc, const hpf_actor *actor, const char *employer_account_no,
                        const hpf_deferral_req *req, hpf_approval *out, bool *replayed,
                        hpf_err *err)
{
    char from[8], to[8];
    *replayed = false;
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "only an operator records a deferral");
    if (!hpf_month_valid(req->from) || !hpf_month_valid(req->to))
        return hpf_err_field(err, HPF_EINVAL, "/from", "month.format",
                             "from and to must be months YYYY-MM");
    return submit(svc, actor, HPF_APPROVAL_DEFERRAL, req->idem_key,
                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "employer", employer_account_no, "from",
                            hpf_month_fmt(from, req->from), "to", hpf_month_fmt(to, req->to),
                            "reason", req->reason ? req->reason : "", "document_no",
                            req->document_no ? req->document_no : ""),
                  out, replayed, err);
}

/* ---- decide ---- */

/* Open the decision: load the approval for `actor` (locking its employer first, so that
 * decisions on one employer queue like its remittances), and check that it is still pending. */
static int open_decision(hpf_db *db, const hpf_actor *actor, int64_t id, hpf_approval *a,
                         hpf_err *err)
{
    int rc = load(db, actor, id, a, err);
    if (rc < 0)
        return rc;
    if (a->employer_id) {
        hpf_approval_cleanup(a);
        if ((rc = hpf_db_lock_row(db, "employer", a->employer_id, err)) < 0 ||
            (rc = load(db, actor, id, a, err)) < 0)
            return rc;
    }
    if (strcmp(a->status, "pending") != 0)
        return hpf_err_field(err, HPF_ECONFLICT, "", "approval.decided",
                             "approval %lld was %s already (%s)", (long long)id, a->status,
                             a->decided_at);
    return 0;
}

/* Write the decision, once: 0 rows changed means a concurrent decision won (PostgreSQL, READ
 * COMMITTED): the request runs again and finds it decided. */
static int write_decision(hpf_db *db, const hpf_approval *a, const char *status, int64_t checker,
                          const char *decided_at, const char *reason, const char *sig,
                          const char *key_id, const char *result, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE approval SET status = ?, checker_id = ?, decided_at = ?,"
                            " reason = ?, signature = ?, key_id = ?, result = ?"
                            " WHERE id = ? AND status = 'pending'",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, status);
    if (checker)
        hpf_stmt_bind_i64(st, 2, checker);
    else
        hpf_stmt_bind_null(st, 2);
    hpf_stmt_bind_text(st, 3, decided_at);
    hpf_stmt_bind_text(st, 4, reason);
    hpf_stmt_bind_text(st, 5, sig && *sig ? sig : NULL);
    hpf_stmt_bind_text(st, 6, key_id && *key_id ? key_id : NULL);
    hpf_stmt_bind_text(st, 7, result);
    hpf_stmt_bind_i64(st, 8, a->id);
    rc = hpf_stmt_step(st, err);
    int64_t changed = rc >= 0 ? hpf_stmt_changes(st) : 0;
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (changed != 1)
        return hpf_err_set(err, HPF_EBUSY, "approval %lld decided concurrently", (long long)a->id);
    return 0;
}

static int check_reason(const char *reason, hpf_err *err)
{
    size_t n = reason ? strlen(reason) : 0;
    bool ok = n > 0 && n <= REASON_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!ok)
        return hpf_err_field(err, HPF_EINVAL, "/reason", "approval.reason",
                             "a rejection needs a reason of 1 to %d characters without control "
                             "characters",
                             REASON_MAX);
    return 0;
}

int hpf_approval_decide(hpf_svc *svc, const hpf_actor *actor, int64_t id, bool approve,
                        const char *reason, hpf_approval *out, hpf_err *err)
{
    hpf_db *db;
    hpf_approval a = {0};
    hpf_buf msg = HPF_BUF_INIT;
    json_t *payload = NULL;
    char decided_at[21], key_id[HPF_SM2_KEY_ID_LEN + 1] = "", sig[HPF_SM2_SIG_HEX] = "";
    char *result = NULL;
    const kind_def *k;
    const char *decision = approve ? "approved" : "rejected";
    memset(out, 0, sizeof *out);
    if (actor->role != HPF_ROLE_OPERATOR && actor->role != HPF_ROLE_AGENT)
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                             "approvals are decided by operators and employer agents");
    int rc = approve ? 0 : check_reason(reason, err);
    if (approve)
        reason = NULL;
    if (rc < 0 || (rc = svc_conn(svc, &db, err)) < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = open_decision(db, actor, id, &a, err)) < 0)
        goto end;
    k = find_kind(a.kind);
    if (!k) {
        rc = hpf_err_set(err, HPF_EINTERNAL, "approval %lld has an unknown kind %s", (long long)id,
                         a.kind);
        goto end;
    }
    /* Nobody decides their own request: the same login, whatever its role. */
    if (a.maker_id == actor->user_id) {
        rc =
            hpf_err_field(err, HPF_ECONFLICT, "", "approval.self_approval",
                          "approval %lld was made by you: another %s must decide it", (long long)id,
                          k->checkers & HPF_ROLE_AGENT ? "agent or operator" : "operator");
        goto end;
    }
    /* Operators check every kind; an agent only kinds open to agents, of their own employer
     * (load() already hid other employers' approvals from them). */
    if (!(k->checkers & (unsigned)actor->role) ||
        (actor->role == HPF_ROLE_AGENT && a.employer_id != actor->employer_id)) {
        rc = hpf_err_field(err, HPF_EFORBIDDEN, "", "approval.scope",
                           "a %s may not decide a %s request", hpf_role_name(actor->role), a.kind);
        goto end;
    }
    now_utc(decided_at);
    if (actor->role == HPF_ROLE_OPERATOR) {
        /* Sign first: the signature covers the decision, not its result, and the audit chain's
         * head is then locked only for the short rest of the transaction. */
        sign_text(&msg, &a, actor->user_id, decision, decided_at);
        if (!svc->keys_dir) {
            rc = hpf_err_set(err, HPF_EINTERNAL, "no keys directory configured for signatures");
            goto end;
        }
        rc = hpf_sm2_operator_sign(svc->keys_dir, actor->user_id, msg.data, msg.len, key_id, sig,
                                   err);
        if (rc == HPF_ENOTFOUND) /* the operator's state, not a missing resource */
            rc = err->code = HPF_ECONFLICT;
        if (rc < 0)
            goto end;
    }
    if (approve) {
        if ((rc = parse_payload(a.payload, &payload, err)) < 0 ||
            (rc = k->execute(svc, db, actor, a.ref, payload, &result, err)) < 0)
            goto end;
    }
    if ((rc = write_decision(db, &a, decision, actor->user_id, decided_at, reason, sig, key_id,
                             result, err)) < 0 ||
        (rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_APPROVAL_DECIDED, a.id, err)) < 0)
        goto end;
    hpf_approval_cleanup(&a);
    if ((rc = load(db, actor, id, out, err)) < 0 || (rc = verify(db, out, err)) < 0)
        goto end;
    rc = hpf_db_commit(db, err);
end:
    if (rc < 0) {
        hpf_db_rollback(db);
        hpf_approval_cleanup(out);
    }
    hpf_approval_cleanup(&a);
    hpf_buf_cleanup(&msg);
    json_decref(payload);
    free(result);
    return rc;
}

int hpf_approval_withdraw(hpf_svc *svc, const hpf_actor *actor, int64_t id, hpf_approval *out,
                          hpf_err *err)
{
    hpf_db *db;
    hpf_approval a = {0};
    char decided_at[21];
    memset(out, 0, sizeof *out);
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    if ((rc = open_decision(db, actor, id, &a, err)) < 0)
        goto end;
    if (a.maker_id != actor->user_id) {
        /* 409 like self-approval: the request's own facts refuse it, not the caller's role. */
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "approval.not_maker",
                           "only the maker withdraws a request; a checker rejects it");
        goto end;
    }
    now_utc(decided_at);
    if ((rc = write_decision(db, &a, "withdrawn", 0, decided_at, NULL, NULL, NULL, NULL, err)) <
            0 ||
        (rc = hpf_audit_record(db, actor->user_id, HPF_AUDIT_APPROVAL_DECIDED, a.id, err)) < 0)
        goto end;
    hpf_approval_cleanup(&a);
    if ((rc = load(db, actor, id, out, err)) < 0 || (rc = verify(db, out, err)) < 0)
        goto end;
    rc = hpf_db_commit(db, err);
end:
    if (rc < 0) {
        hpf_db_rollback(db);
        hpf_approval_cleanup(out);
    }
    hpf_approval_cleanup(&a);
    return rc;
}
