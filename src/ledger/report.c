#include "ledger/report.h"

#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hpf_trial_balance_cleanup(hpf_trial_balance *tb)
{
    free(tb->rows);
    memset(tb, 0, sizeof *tb);
}

static hpf_tb_row *find_row(hpf_trial_balance *tb, const char *code)
{
    for (size_t i = 0; i < tb->n; i++)
        if (!strcmp(tb->rows[i].code, code))
            return &tb->rows[i];
    return NULL;
}

/* Raw figures of one code: opening net (Dr - Cr before from), turnover from..to. */
typedef struct raw {
    char code[HPF_CHART_CODE_MAX + 1];
    hpf_fen open_net, debit, credit;
} raw;

/* A row for a code with figures that the chart in force on `to` lacks (from the registry). */
static int extra_row(hpf_db *db, hpf_trial_balance *tb, size_t *cap, const char *code, hpf_err *err)
{
    hpf_stmt *st;
    if (tb->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        tb->rows = hpf_xrealloc(tb->rows, *cap * sizeof *tb->rows);
    }
    hpf_tb_row *r = &tb->rows[tb->n];
    memset(r, 0, sizeof *r);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT name, level, COALESCE(parent, ''), class, normal_side"
                            " FROM subject WHERE code = ?",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, code);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        snprintf(r->code, sizeof r->code, "%s", code);
        snprintf(r->name, sizeof r->name, "%s", hpf_stmt_text(st, 0));
        r->level = (int)hpf_stmt_i64(st, 1);
        snprintf(r->parent, sizeof r->parent, "%s", hpf_stmt_text(st, 2));
        snprintf(r->klass, sizeof r->klass, "%s", hpf_stmt_text(st, 3));
        r->side = hpf_stmt_text(st, 4)[0];
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0) /* voucher_line.subject references subject: cannot happen */
        return hpf_err_set(err, HPF_EINTERNAL, "voucher lines name code %s, which is no subject",
                           code);
    tb->n++;
    return 0;
}

/* Add a code's raw figures (as Dr - Cr nets) to its row and every row above it. */
static int roll_up(hpf_trial_balance *tb, const raw *x, hpf_fen close_net, hpf_err *err)
{
    hpf_tb_row *r = find_row(tb, x->code);
    for (int depth = 0; r && depth <= HPF_CHART_MAX_LEVEL; depth++) {
        hpf_fen sign = r->side == 'D' ? 1 : -1;
        if (hpf_money_add(&r->opening, r->opening, sign * x->open_net) < 0 ||
            hpf_money_add(&r->debit, r->debit, x->debit) < 0 ||
            hpf_money_add(&r->credit, r->credit, x->credit) < 0 ||
            hpf_money_add(&r->closing, r->closing, sign * close_net) < 0)
            return hpf_err_set(err, HPF_EOVERFLOW, "trial balance figure out of range");
        r = r->parent[0] ? find_row(tb, r->parent) : NULL;
    }
    return 0;
}

/* Add a code's net balance (Dr - Cr) to the identity's classes. */
static int add_identity(hpf_tb_identity *id, const char *klass, hpf_fen net)
{
    hpf_fen *f = !strcmp(klass, "asset")       ? &id->assets
                 : !strcmp(klass, "liability") ? &id->liabilities
                 : !strcmp(klass, "equity")    ? &id->equity
                 : !strcmp(klass, "income")    ? &id->income
                                               : &id->expense;
    /* Assets and expenses count on the debit side, the others on the credit side. */
    bool debit_side = f == &id->assets || f == &id->expense;
    return hpf_money_add(f, *f, debit_side ? net : -net);
}

static int finish_identity(hpf_tb_identity *id)
{
    id->left = id->assets;
    if (hpf_money_add(&id->right, id->liabilities, id->equity) < 0 ||
        hpf_money_add(&id->right, id->right, id->income) < 0 ||
        hpf_money_sub(&id->right, id->right, id->expense) < 0)
        return HPF_EOVERFLOW;
    id->holds = id->left == id->right;
    return 0;
}

int hpf_ledger_trial_balance(hpf_db *db, hpf_day from, hpf_day to, hpf_trial_balance *out,
                             hpf_err *err)
{
    hpf_stmt *st;
    hpf_chart chart;
    char dfrom[11], dto[11];
    raw *xs = NULL;
    size_t nx = 0, xcap = 0, cap;
    memset(out, 0, sizeof *out);
    if (from > to)
        return hpf_err_field(err, HPF_EINVAL, "from", "query.range", "from (%s) is after to (%s)",
                             hpf_day_fmt(dfrom, from), hpf_day_fmt(dto, to));
    int rc = hpf_chart_at(db, to, &chart, NULL, err);
    if (rc < 0)
        return rc;
    out->from = from;
    out->to = to;
    out->chart_from = chart.effective_from;
    snprintf(out->chart_name, sizeof out->chart_name, "%s", chart.name);
    cap = chart.n ? chart.n : 1;
    out->rows = hpf_xcalloc(cap, sizeof *out->rows);
    for (size_t i = 0; i < chart.n; i++) {
        const hpf_chart_subject *s = &chart.subjects[i];
        hpf_tb_row *r = &out->rows[out->n++];
        snprintf(r->code, sizeof r->code, "%s", s->code);
        snprintf(r->name, sizeof r->name, "%s", s->name);
        r->level = s->level;
        snprintf(r->parent, sizeof r->parent, "%s", s->parent);
        snprintf(r->klass, sizeof r->klass, "%s", s->klass);
        r->side = s->side;
        r->in_chart = true;
    }
    hpf_chart_cleanup(&chart);

    /* One pass over the lines up to `to`, grouped by code. */
    rc = hpf_db_prepare(db, &st,
                        "SELECT l.subject,"
                        " COALESCE(SUM(CASE WHEN v.biz_date < ? THEN l.debit - l.credit"
                        "  ELSE 0 END), 0),"
                        " COALESCE(SUM(CASE WHEN v.biz_date >= ? THEN l.debit ELSE 0 END), 0),"
                        " COALESCE(SUM(CASE WHEN v.biz_date >= ? THEN l.credit ELSE 0 END), 0)"
                        " FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id"
                        " WHERE v.biz_date <= ? GROUP BY l.subject ORDER BY l.subject",
                        err);
    if (rc < 0)
        goto done;
    hpf_day_fmt(dfrom, from);
    hpf_day_fmt(dto, to);
    hpf_stmt_bind_text(st, 1, dfrom);
    hpf_stmt_bind_text(st, 2, dfrom);
    hpf_stmt_bind_text(st, 3, dfrom);
    hpf_stmt_bind_text(st, 4, dto);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (nx == xcap) {
            xcap = xcap ? xcap * 2 : 64;
            xs = hpf_xrealloc(xs, xcap * sizeof *xs);
        }
        raw *x = &xs[nx++];
        snprintf(x->code, sizeof x->code, "%s", hpf_stmt_text(st, 0));
        x->open_net = hpf_stmt_i64(st, 1);
        x->debit = hpf_stmt_i64(st, 2);
        x->credit = hpf_stmt_i64(st, 3);
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        goto done;

    for (size_t i = 0; i < nx; i++) {
        const raw *x = &xs[i];
        hpf_fen close_net;
        if (!find_row(out, x->code) && (rc = extra_row(db, out, &cap, x->code, err)) < 0)
            goto done;
        if (hpf_money_add(&close_net, x->open_net, x->debit) < 0 ||
            hpf_money_sub(&close_net, close_net, x->credit) < 0) {
            rc = hpf_err_set(err, HPF_EOVERFLOW, "trial balance figure out of range");
            goto done;
        }
        if ((rc = roll_up(out, x, close_net, err)) < 0)
            goto done;
        const char *klass = find_row(out, x->code)->klass;
        if (add_identity(&out->opening_identity, klass, x->open_net) < 0 ||
            add_identity(&out->closing_identity, klass, close_net) < 0) {
            rc = hpf_err_set(err, HPF_EOVERFLOW, "trial balance figure out of range");
            goto done;
        }
    }
    if (finish_identity(&out->opening_identity) < 0 ||
        finish_identity(&out->closing_identity) < 0) {
        rc = hpf_err_set(err, HPF_EOVERFLOW, "trial balance figure out of range");
        goto done;
    }

    /* Totals over the first-level rows, each balance on the side it stands on. Sums of figures
     * that were each range-checked above; 2,000 codes of at most 2^63 / 2^12 cannot overflow in
     * practice, and the checked adds say so if they do. */
    for (size_t i = 0; i < out->n; i++) {
        const hpf_tb_row *r = &out->rows[i];
        if (r->level != 1 && find_row(out, r->parent))
            continue;
        hpf_fen sign = r->side == 'D' ? 1 : -1;
        hpf_fen o = sign * r->opening, c = sign * r->closing; /* as Dr - Cr */
        if (hpf_money_add(&out->debit, out->debit, r->debit) < 0 ||
            hpf_money_add(&out->credit, out->credit, r->credit) < 0 ||
            hpf_money_add(o > 0 ? &out->opening_debit : &out->opening_credit,
                          o > 0 ? out->opening_debit : out->opening_credit, o > 0 ? o : -o) < 0 ||
            hpf_money_add(c > 0 ? &out->closing_debit : &out->closing_credit,
                          c > 0 ? out->closing_debit : out->closing_credit, c > 0 ? c : -c) < 0) {
            rc = hpf_err_set(err, HPF_EOVERFLOW, "trial balance total out of range");
            goto done;
        }
    }
    rc = 0;
done:
    free(xs);
    if (rc < 0)
        hpf_trial_balance_cleanup(out);
    return rc;
}

static json_t *money(hpf_fen v)
{
    char b[24];
    return json_string(hpf_money_fmt(b, v));
}

static json_t *identity_json(const hpf_tb_identity *id)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "assets", money(id->assets),
                     "liabilities", money(id->liabilities), "equity", money(id->equity), "income",
                     money(id->income), "expense", money(id->expense), "left", money(id->left),
                     "right", money(id->right), "holds", id->holds);
}

json_t *hpf_trial_balance_json(const hpf_trial_balance *tb)
{
    char a[11], b[11], c[11];
    json_t *rows = json_array();
    for (size_t i = 0; i < tb->n; i++) {
        const hpf_tb_row *r = &tb->rows[i];
        const char side[2] = {r->side, 0};
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:b, s:o, s:o, s:o, s:o}", "code",
                            r->code, "name", r->name, "level", r->level, "parent",
                            r->parent[0] ? json_string(r->parent) : json_null(), "class", r->klass,
                            "normal_side", side, "in_chart", r->in_chart, "opening",
                            money(r->opening), "debit", money(r->debit), "credit", money(r->credit),
                            "closing", money(r->closing)));
    }
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o, s:o}}", "from",
        hpf_day_fmt(a, tb->from), "to", hpf_day_fmt(b, tb->to), "chart", "effective_from",
        hpf_day_fmt(c, tb->chart_from), "name", tb->chart_name, "subjects", rows, "totals",
        "opening_debit", money(tb->opening_debit), "opening_credit", money(tb->opening_credit),
        "debit", money(tb->debit), "credit", money(tb->credit), "closing_debit",
        money(tb->closing_debit), "closing_credit", money(tb->closing_credit), "identity",
        "opening", identity_json(&tb->opening_identity), "closing",
        identity_json(&tb->closing_identity));
}
