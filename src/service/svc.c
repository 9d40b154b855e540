#include "service/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "store/db.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <string.h>

hpf_day hpf_svc_today(const hpf_svc *svc)
{
    if (svc->business_date)
        return svc->business_date;
    return svc->today ? svc->today() : hpf_day_today_utc();
}

const char *hpf_role_name(hpf_role r)
{
    switch (r) {
    case HPF_ROLE_MEMBER:
        return "member";
    case HPF_ROLE_AGENT:
        return "agent";
    case HPF_ROLE_OPERATOR:
        return "operator";
    case HPF_ROLE_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

int svc_conn(hpf_svc *svc, hpf_db **db, hpf_err *err)
{
    return hpf_store_conn(svc->store, db, err);
}

int svc_conn_read(hpf_svc *svc, hpf_db **db, hpf_err *err)
{
    if (svc->read_store) {
        hpf_err ignore = HPF_ERR_INIT;
        if (hpf_store_conn(svc->read_store, db, &ignore) == 0 && hpf_db_alive(*db))
            return 0;
        /* The standby is down: the primary answers, slower but right (said once a minute). */
        static _Atomic long said;
        long now = (long)time(NULL), last = said;
        if (now - last >= 60 && atomic_compare_exchange_strong(&said, &last, now))
            hpf_log(HPF_LOG_WARN, "db.read_fallback",
                    "hot standby unreachable; the primary answers reads");
    }
    return hpf_store_conn(svc->store, db, err);
}

hpf_day svc_day(const char *s)
{
    hpf_day d = 0;
    if (s && *s && hpf_day_parse(&d, s) < 0)
        d = 0;
    return d;
}

void svc_page(int64_t *offset, int64_t *limit)
{
    if (*offset < 0)
        *offset = 0;
    if (*limit <= 0)
        *limit = 50;
    if (*limit > 200)
        *limit = 200;
}

int svc_list(hpf_db *db, const char *count_sql, const char *page_sql, int64_t key, int64_t offset,
             int64_t limit, size_t item_size, svc_row_fn read, const void *ctx, void **items,
             size_t *n, int64_t *total, hpf_err *err)
{
    hpf_stmt *st;
    int p = 1;
    *items = NULL;
    *n = 0;
    svc_page(&offset, &limit);
    int rc = hpf_db_prepare(db, &st, count_sql, err);
    if (rc < 0)
        return rc;
    if (key >= 0)
        hpf_stmt_bind_i64(st, 1, key);
    rc = hpf_stmt_step(st, err);
    *total = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0 || (rc = hpf_db_prepare(db, &st, page_sql, err)) < 0)
        return rc;
    if (key >= 0)
        hpf_stmt_bind_i64(st, p++, key);
    hpf_stmt_bind_i64(st, p++, limit);
    hpf_stmt_bind_i64(st, p, offset);
    char *buf = hpf_xcalloc((size_t)limit, item_size);
    while (*n < (size_t)limit && (rc = hpf_stmt_step(st, err)) == 1)
        read(st, buf + (*n)++ * item_size, ctx);
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(buf);
        *n = 0;
        return rc;
    }
    *items = buf;
    return 0;
}

bool svc_branch_sees(const hpf_actor *a, const char *branch)
{
    return a->role != HPF_ROLE_OPERATOR || !a->branch[0] || !strcmp(a->branch, branch);
}

int svc_scope_employer(hpf_svc *svc, const hpf_actor *a, const char *employer_account_no,
                       hpf_err *err)
{
    if (a->role == HPF_ROLE_OPERATOR) {
        if (!a->branch[0])
            return 0;
        /* A branch's operator: the employer must be of the branch. Another branch's employer
         * gets the answer of an employer that does not exist, so branches cannot probe each
         * other's account numbers. */
        hpf_db *db;
        char branch[8] = "";
        int rc = svc_conn(svc, &db, err);
        if (rc < 0 || (rc = svc_lookup_text(db, "SELECT branch FROM employer WHERE account_no = ?",
                                            employer_account_no, branch, sizeof branch, err)) < 0)
            return rc;
        if (rc == 1 && svc_branch_sees(a, branch))
            return 0;
        return hpf_err_set(err, HPF_ENOTFOUND, "no employer with account number %s",
                           employer_account_no);
    }
    if (a->role == HPF_ROLE_AGENT) {
        if (!strcmp(a->employer_account_no, employer_account_no))
            return 0;
        return hpf_err_field(err, HPF_EFORBIDDEN, "", "scope.own_employer",
                             "an employer agent may act only for their own employer");
    }
    return hpf_err_field(err, HPF_EFORBIDDEN, "", "auth.role",
                         "this action needs an employer agent or an operator");
}

#define EMPLOYER_COLS                                                                              \
    "SELECT e.id, e.account_no, e.name, e.uscc, e.unit_ratio_bp, e.indiv_ratio_bp, e.state,"       \
    " e.opened_on, COALESCE(e.paid_through, 0),"                                                   \
    " (SELECT count(*) FROM member m WHERE m.employer_id = e.id"                                   \
    "  AND m.state NOT IN ('03', '04', '05')), e.branch FROM employer e "

void svc_read_employer(hpf_stmt *st, void *item, const void *ctx)
{
    hpf_employer *out = item;
    (void)ctx;
    memset(out, 0, sizeof *out);
    out->id = hpf_stmt_i64(st, 0);
    COPY(out->account_no, hpf_stmt_text(st, 1));
    COPY(out->name, hpf_stmt_text(st, 2));
    COPY(out->uscc, hpf_stmt_text(st, 3));
    out->unit_ratio_bp = (int32_t)hpf_stmt_i64(st, 4);
    out->indiv_ratio_bp = (int32_t)hpf_stmt_i64(st, 5);
    COPY(out->state, hpf_stmt_text(st, 6));
    out->opened_on = svc_day(hpf_stmt_text(st, 7));
    out->paid_through = (hpf_month)hpf_stmt_i64(st, 8);
    out->members = hpf_stmt_i64(st, 9);
    COPY(out->branch, hpf_stmt_text(st, 10));
}

int svc_employer_normal(const hpf_employer *emp, hpf_err *err)
{
    if (strcmp(emp->state, "01") == 0)
        return 0;
    return hpf_err_field(err, HPF_ECONFLICT, "", "employer.state",
                         "employer account is in state %s, not 01 (normal)", emp->state);
}

int svc_lookup_text(hpf_db *db, const char *sql, const char *param, char *found, size_t n,
                    hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, param);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        snprintf(found, n, "%s", hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    return rc;
}

int svc_load_employer(hpf_db *db, const char *account_no, hpf_employer *out, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, EMPLOYER_COLS "WHERE e.account_no = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, account_no);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        svc_read_employer(st, out, NULL);
        rc = 0;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no employer with account number %s", account_no);
    }
    hpf_stmt_reset(st);
    return rc;
}

int svc_list_employers(hpf_db *db, const char *branch, int64_t offset, int64_t limit,
                       hpf_employer **items, size_t *n, int64_t *total, hpf_err *err)
{
    hpf_stmt *st;
    *items = NULL;
    *n = 0;
    *total = 0;
    if (!branch || !*branch)
        return svc_list(db, "SELECT count(*) FROM employer",
                        EMPLOYER_COLS "ORDER BY e.id DESC LIMIT ? OFFSET ?", -1, offset, limit,
                        sizeof **items, svc_read_employer, NULL, (void **)items, n, total, err);
    /* One branch's (svc_list binds integer keys only; the branch code is text). */
    svc_page(&offset, &limit);
    int rc = hpf_db_prepare(db, &st, "SELECT count(*) FROM employer WHERE branch = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, branch);
    rc = hpf_stmt_step(st, err);
    *total = rc == 1 ? hpf_stmt_i64(st, 0) : 0;
    hpf_stmt_reset(st);
    if (rc < 0 ||
        (rc = hpf_db_prepare(db, &st,
                             EMPLOYER_COLS "WHERE e.branch = ? ORDER BY e.id DESC LIMIT ? OFFSET ?",
                             err)) < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, branch);
    hpf_stmt_bind_i64(st, 2, limit);
    hpf_stmt_bind_i64(st, 3, offset);
    hpf_employer *buf = hpf_xcalloc((size_t)limit, sizeof *buf);
    while (*n < (size_t)limit && (rc = hpf_stmt_step(st, err)) == 1)
        svc_read_employer(st, &buf[(*n)++], NULL);
    hpf_stmt_reset(st);
    if (rc < 0) {
        free(buf);
        *n = 0;
        return rc;
    }
    *items = buf;
    return 0;
}

int hpf_policy_at(hpf_db *db, hpf_day day, hpf_policy *out, hpf_err *err)
{
    hpf_stmt *st;
    char date[11];
    int rc = hpf_db_prepare(
        db, &st,
        "SELECT version, effective_from, unit_ratio_min_bp, unit_ratio_max_bp, indiv_ratio_min_bp,"
        " indiv_ratio_max_bp, city_avg_wage, min_wage, cap_multiple, rounding, ratios_must_match,"
        " deposit_rate_e7, day_basis, deferral_counts_as_continuous FROM policy_version"
        " WHERE effective_from <= ?"
        " ORDER BY effective_from DESC LIMIT 1",
        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, hpf_day_fmt(date, day));
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        out->version = hpf_stmt_i64(st, 0);
        out->effective_from = svc_day(hpf_stmt_text(st, 1));
        out->contrib.unit_ratio_min_bp = (int32_t)hpf_stmt_i64(st, 2);
        out->contrib.unit_ratio_max_bp = (int32_t)hpf_stmt_i64(st, 3);
        out->contrib.indiv_ratio_min_bp = (int32_t)hpf_stmt_i64(st, 4);
        out->contrib.indiv_ratio_max_bp = (int32_t)hpf_stmt_i64(st, 5);
        out->contrib.city_avg_wage = hpf_stmt_i64(st, 6);
        out->contrib.min_wage = hpf_stmt_i64(st, 7);
        out->contrib.cap_multiple = (int32_t)hpf_stmt_i64(st, 8);
        if (hpf_rounding_parse(&out->contrib.rounding, hpf_stmt_text(st, 9)) < 0)
            out->contrib.rounding = HPF_ROUND_YUAN;
        out->contrib.ratios_must_match = hpf_stmt_i64(st, 10) != 0;
        out->deposit_rate_e7 = hpf_stmt_i64(st, 11);
        out->day_basis = (int)hpf_stmt_i64(st, 12);
        out->deferral_counts_as_continuous = hpf_stmt_i64(st, 13) != 0;
        rc = 0;
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no policy in force on %s", date);
    }
    hpf_stmt_reset(st);
    return rc;
}

int hpf_svc_policy(hpf_svc *svc, hpf_day day, hpf_policy *out, hpf_err *err)
{
    hpf_db *db;
    int rc = svc_conn_read(svc, &db, err);
    return rc < 0 ? rc : hpf_policy_at(db, day, out, err);
}

bool hpf_svc_ready(void *p)
{
    hpf_svc *svc = p;
    hpf_db *db;
    int64_t one = 0;
    hpf_err e = HPF_ERR_INIT;
    return svc_conn(svc, &db, &e) == 0 && hpf_db_query_i64(db, &one, "SELECT 1", &e) == 0 &&
           one == 1;
}
