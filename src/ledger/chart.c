#include "ledger/chart.h"

#include "base/mem.h"
#include "base/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hpf_chart_cleanup(hpf_chart *c)
{
    free(c->subjects);
    memset(c, 0, sizeof *c);
}

static const char *const classes[] = {"asset", "liability", "equity", "income", "expense"};

/* Where a subject came from, for messages: "line 12" or "/subjects/3". */
static void where(char *out, size_t n, const hpf_chart_subject *s, size_t k)
{
    if (s->line)
        snprintf(out, n, "line %d", s->line);
    else
        snprintf(out, n, "/subjects/%zu", k);
}

static int subject_err(hpf_err *err, int code, const char *rule, const hpf_chart_subject *s,
                       size_t k, const char *msg)
{
    char field[32], at[32];
    snprintf(field, sizeof field, "/subjects/%zu", k);
    where(at, sizeof at, s, k);
    if (s->code[0])
        return hpf_err_field(err, code, field, rule, "%s (code %s): %s", at, s->code, msg);
    return hpf_err_field(err, code, field, rule, "%s: %s", at, msg);
}

/* ---- one subject's fields ---- */

enum { F_CODE, F_NAME, F_LEVEL, F_PARENT, F_CLASS, F_SIDE, NFIELDS };
static const char *const field_names[NFIELDS] = {"code",   "name",  "level",
                                                 "parent", "class", "normal_side"};

static bool digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Fill s from the six texts (level as text); the first malformed one is the error. */
static int set_fields(hpf_chart_subject *s, size_t k, const char *const v[NFIELDS], hpf_err *err)
{
    char msg[160];
    if (!digits(v[F_CODE], HPF_CHART_CODE_MAX)) {
        snprintf(msg, sizeof msg, "code '%.20s' must be 1 to %d digits", v[F_CODE],
                 HPF_CHART_CODE_MAX);
        return subject_err(err, HPF_EINVAL, "chart.field", s, k, msg);
    }
    snprintf(s->code, sizeof s->code, "%s", v[F_CODE]);
    size_t nl = strlen(v[F_NAME]);
    if (nl == 0 || nl > HPF_CHART_NAME_MAX || !hpf_text_ok(v[F_NAME], nl, false) ||
        strchr("=+-@", v[F_NAME][0]))
        return subject_err(err, HPF_EINVAL, "chart.field", s, k,
                           "name must be 1 to 255 bytes of text without control characters, not "
                           "starting with = + - @");
    snprintf(s->name, sizeof s->name, "%s", v[F_NAME]);
    int64_t level;
    if (hpf_parse_i64(&level, v[F_LEVEL], 1, HPF_CHART_MAX_LEVEL) < 0) {
        snprintf(msg, sizeof msg, "level '%.20s' must be 1 to %d", v[F_LEVEL], HPF_CHART_MAX_LEVEL);
        return subject_err(err, HPF_EINVAL, "chart.field", s, k, msg);
    }
    s->level = (int)level;
    if (v[F_PARENT][0] && !digits(v[F_PARENT], HPF_CHART_CODE_MAX))
        return subject_err(err, HPF_EINVAL, "chart.field", s, k,
                           "parent must be empty or a code of digits");
    snprintf(s->parent, sizeof s->parent, "%s", v[F_PARENT]);
    s->klass[0] = 0;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (!strcmp(v[F_CLASS], classes[i]))
            snprintf(s->klass, sizeof s->klass, "%s", classes[i]);
    if (!s->klass[0]) {
        snprintf(msg, sizeof msg,
                 "class '%.20s' must be asset, liability, equity, income or expense", v[F_CLASS]);
        return subject_err(err, HPF_EINVAL, "chart.field", s, k, msg);
    }
    if (strcmp(v[F_SIDE], "D") != 0 && strcmp(v[F_SIDE], "C") != 0) {
        snprintf(msg, sizeof msg, "normal_side '%.20s' must be D or C", v[F_SIDE]);
        return subject_err(err, HPF_EINVAL, "chart.field", s, k, msg);
    }
    s->side = v[F_SIDE][0];
    return 0;
}

static hpf_chart_subject *add_subject(hpf_chart *c, size_t *cap)
{
    if (c->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        c->subjects = hpf_xrealloc(c->subjects, *cap * sizeof *c->subjects);
    }
    hpf_chart_subject *s = &c->subjects[c->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static int set_effective(hpf_chart *c, const char *v, const char *where_, hpf_err *err)
{
    if (hpf_day_parse(&c->effective_from, v) < 0)
        return hpf_err_field(err, HPF_EINVAL, "/effective_from", "chart.field",
                             "%s: effective_from '%.20s' must be a date YYYY-MM-DD", where_, v);
    return 0;
}

static int set_name(hpf_chart *c, const char *v, const char *where_, hpf_err *err)
{
    size_t n = strlen(v);
    if (n == 0 || n > HPF_CHART_NAME_MAX || !hpf_text_ok(v, n, false))
        return hpf_err_field(err, HPF_EINVAL, "/name", "chart.field",
                             "%s: the chart's name must be 1 to 255 bytes of text", where_);
    snprintf(c->name, sizeof c->name, "%s", v);
    return 0;
}

/* ---- CSV ---- */

#define CELL_MAX 512

/* Split one line (no line break) into at most `max` cells, RFC 4180 quoting. Returns the number
 * of cells or -1 (with *why) on a malformed line. Cells are NUL-terminated copies in cells[]. */
static int split_csv(const char *p, size_t len, char cells[][CELL_MAX], int max, const char **why)
{
    const char *end = p + len;
    int n = 0;
    for (;;) {
        if (n == max) {
            *why = "too many cells";
            return -1;
        }
        char *out = cells[n];
        size_t o = 0;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p == end) {
                    *why = "a quoted cell is not closed";
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        p++;
                    } else {
                        p++;
                        break;
                    }
                }
                if (o + 1 >= CELL_MAX) {
                    *why = "a cell is too long";
                    return -1;
                }
                out[o++] = *p++;
            }
            if (p < end && *p != ',') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            while (p < end && *p != ',') {
                if (*p == '"') {
                    *why = "a quote inside an unquoted cell";
                    return -1;
                }
                if (o + 1 >= CELL_MAX) {
                    *why = "a cell is too long";
                    return -1;
                }
                out[o++] = *p++;
            }
        }
        out[o] = 0;
        n++;
        if (p == end)
            return n;
        p++; /* the comma */
    }
}

/* "# key: value" comment lines set the version's date and name. */
static int csv_comment(hpf_chart *c, const char *p, size_t len, int line, hpf_err *err)
{
    char buf[HPF_CHART_NAME_MAX + 64], at[24];
    size_t i = 1;
    while (i < len && p[i] == ' ')
        i++;
    if (len - i >= sizeof buf)
        return 0; /* a long comment is prose */
    memcpy(buf, p + i, len - i);
    buf[len - i] = 0;
    snprintf(at, sizeof at, "line %d", line);
    char *colon = strchr(buf, ':');
    if (!colon)
        return 0;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ')
        v++;
    size_t vl = strlen(v);
    while (vl && v[vl - 1] == ' ')
        v[--vl] = 0;
    if (!strcmp(buf, "effective_from"))
        return set_effective(c, v, at, err);
    if (!strcmp(buf, "name"))
        return set_name(c, v, at, err);
    return 0;
}

static int parse_csv(hpf_chart *c, const char *text, size_t len, hpf_err *err)
{
    char cells[8][CELL_MAX];
    int map[NFIELDS];
    int ncols = 0, line = 0;
    size_t cap = 0;
    const char *p = text, *end = text + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (n && p[n - 1] == '\r')
            n--;
        line++;
        const char *cur = p;
        p = nl ? nl + 1 : end;
        if (n == 0 || cur[0] == '#') {
            int rc = n ? csv_comment(c, cur, n, line, err) : 0;
            if (rc < 0)
                return rc;
            continue;
        }
        if (!hpf_text_ok(cur, n, false))
            return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax",
                                 "line %d: not UTF-8 text, or control characters", line);
        const char *why = "";
        int k = split_csv(cur, n, cells, 8, &why);
        if (k < 0)
            return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax", "line %d: %s", line, why);
        if (ncols == 0) { /* the header */
            for (int f = 0; f < NFIELDS; f++)
                map[f] = -1;
            for (int i = 0; i < k; i++) {
                int f = 0;
                while (f < NFIELDS && strcmp(cells[i], field_names[f]) != 0)
                    f++;
                if (f == NFIELDS || map[f] >= 0)
                    return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax",
                                         "line %d: column '%.40s' is unknown or repeated (want "
                                         "code,name,level,parent,class,normal_side)",
                                         line, cells[i]);
                map[f] = i;
            }
            for (int f = 0; f < NFIELDS; f++)
                if (map[f] < 0)
                    return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax",
                                         "line %d: the header lacks column %s", line,
                                         field_names[f]);
            ncols = k;
            continue;
        }
        if (c->n == HPF_CHART_MAX_SUBJECTS)
            return hpf_err_field(err, HPF_ETOOBIG, "/subjects", "chart.too_big",
                                 "a chart holds at most %d subjects", HPF_CHART_MAX_SUBJECTS);
        hpf_chart_subject *s = add_subject(c, &cap);
        s->line = line;
        if (k != ncols)
            return subject_err(err, HPF_EINVAL, "chart.syntax", s, c->n - 1,
                               "the number of cells differs from the header's");
        const char *v[NFIELDS];
        for (int f = 0; f < NFIELDS; f++)
            v[f] = cells[map[f]];
        int rc = set_fields(s, c->n - 1, v, err);
        if (rc < 0)
            return rc;
    }
    if (ncols == 0)
        return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax",
                             "no header line code,name,level,parent,class,normal_side");
    return 0;
}

/* ---- JSON ---- */

static int json_subject(hpf_chart_subject *s, size_t k, json_t *o, hpf_err *err)
{
    char lvl[24] = "", msg[120];
    const char *vals[NFIELDS] = {"", "", lvl, "", "", ""};
    const char *key;
    json_t *v;
    if (!json_is_object(o))
        return subject_err(err, HPF_EINVAL, "chart.syntax", s, k, "not an object");
    json_object_foreach(o, key, v)
    {
        int f = 0;
        while (f < NFIELDS && strcmp(key, field_names[f]) != 0)
            f++;
        bool ok = f < NFIELDS && (f == F_LEVEL    ? json_is_integer(v)
                                  : f == F_PARENT ? json_is_string(v) || json_is_null(v)
                                                  : json_is_string(v));
        if (!ok) {
            snprintf(msg, sizeof msg, "member '%.40s' is unknown or of the wrong type", key);
            return subject_err(err, HPF_EINVAL, "chart.syntax", s, k, msg);
        }
        if (f == F_LEVEL)
            snprintf(lvl, sizeof lvl, "%lld", (long long)json_integer_value(v));
        else if (!json_is_null(v))
            vals[f] = json_string_value(v);
    }
    for (int f = 0; f < NFIELDS; f++)
        if (f != F_PARENT && !json_object_get(o, field_names[f])) {
            snprintf(msg, sizeof msg, "member %s is missing", field_names[f]);
            return subject_err(err, HPF_EINVAL, "chart.syntax", s, k, msg);
        }
    return set_fields(s, k, vals, err);
}

static int json_chart(hpf_chart *c, json_t *root, hpf_err *err)
{
    const char *key;
    json_t *v, *arr = NULL;
    size_t cap = 0, k;
    int rc = 0;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "effective_from") && json_is_string(v))
            rc = set_effective(c, json_string_value(v), "/effective_from", err);
        else if (!strcmp(key, "name") && json_is_string(v))
            rc = set_name(c, json_string_value(v), "/name", err);
        else if (!strcmp(key, "subjects") && json_is_array(v))
            arr = v;
        else
            rc = hpf_err_field(err, HPF_EINVAL, "", "chart.syntax",
                               "member '%.40s' is unknown or of the wrong type (want "
                               "effective_from, name: strings; subjects: an array)",
                               key);
        if (rc < 0)
            return rc;
    }
    if (!arr)
        return hpf_err_field(err, HPF_EINVAL, "/subjects", "chart.syntax", "no subjects array");
    json_array_foreach(arr, k, v)
    {
        if (c->n == HPF_CHART_MAX_SUBJECTS)
            return hpf_err_field(err, HPF_ETOOBIG, "/subjects", "chart.too_big",
                                 "a chart holds at most %d subjects", HPF_CHART_MAX_SUBJECTS);
        if ((rc = json_subject(add_subject(c, &cap), k, v, err)) < 0)
            return rc;
    }
    return 0;
}

static int parse_json(hpf_chart *c, const char *text, size_t len, hpf_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return hpf_err_field(err, HPF_EINVAL, "", "chart.syntax", "not JSON: %s (line %d)", je.text,
                             je.line);
    int rc = json_is_object(root)
                 ? json_chart(c, root, err)
                 : hpf_err_field(err, HPF_EINVAL, "", "chart.syntax", "not a JSON object");
    json_decref(root);
    return rc;
}

int hpf_chart_parse(hpf_chart *out, const char *text, size_t len, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > HPF_CHART_FILE_MAX)
        return hpf_err_field(err, HPF_ETOOBIG, "", "chart.too_big",
                             "a chart file holds at most %d bytes", HPF_CHART_FILE_MAX);
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    int rc = i < len && text[i] == '{' ? parse_json(out, text, len, err)
                                       : parse_csv(out, text, len, err);
    if (rc < 0)
        hpf_chart_cleanup(out);
    return rc;
}

/* ---- the chart's own rules ---- */

static const hpf_chart_subject *find(const hpf_chart *c, const char *code, size_t before)
{
    for (size_t i = 0; i < before; i++)
        if (!strcmp(c->subjects[i].code, code))
            return &c->subjects[i];
    return NULL;
}

int hpf_chart_check(const hpf_chart *c, hpf_err *err)
{
    char msg[200];
    if (!c->effective_from)
        return hpf_err_field(err, HPF_EINVAL, "/effective_from", "chart.effective_missing",
                             "the chart does not say from when it is in force (a line "
                             "'# effective_from: YYYY-MM-DD', or --effective)");
    if (c->n == 0)
        return hpf_err_field(err, HPF_EINVAL, "/subjects", "chart.empty", "the chart is empty");
    for (size_t k = 0; k < c->n; k++) {
        const hpf_chart_subject *s = &c->subjects[k];
        if (find(c, s->code, k))
            return subject_err(err, HPF_EUNPROC, "chart.code_duplicate", s, k,
                               "the code appears twice");
        if (s->level == 1) {
            if (s->parent[0])
                return subject_err(err, HPF_EUNPROC, "chart.parent_mismatch", s, k,
                                   "a first-level subject has no parent");
            continue;
        }
        if (!s->parent[0])
            return subject_err(err, HPF_EUNPROC, "chart.parent_mismatch", s, k,
                               "a subject below level 1 names its parent");
        const hpf_chart_subject *p = find(c, s->parent, c->n);
        if (!p) {
            snprintf(msg, sizeof msg, "parent %s is not in the chart", s->parent);
            return subject_err(err, HPF_EUNPROC, "chart.parent_unknown", s, k, msg);
        }
        size_t pl = strlen(p->code);
        if (strlen(s->code) <= pl || strncmp(s->code, p->code, pl) != 0 ||
            s->level != p->level + 1) {
            snprintf(msg, sizeof msg,
                     "a child's code extends its parent's and its level is one more (parent %s "
                     "is on level %d, this is on level %d)",
                     p->code, p->level, s->level);
            return subject_err(err, HPF_EUNPROC, "chart.parent_mismatch", s, k, msg);
        }
        if (strcmp(s->klass, p->klass) != 0 || s->side != p->side) {
            snprintf(msg, sizeof msg,
                     "class %s and normal side %c differ from parent %s's (%s, %c)", s->klass,
                     s->side, p->code, p->klass, p->side);
            return subject_err(err, HPF_EUNPROC, "chart.class_mismatch", s, k, msg);
        }
    }
    return 0;
}

/* ---- against the database ---- */

static int check_against_db(hpf_db *db, const hpf_chart *c, hpf_err *err)
{
    hpf_stmt *st;
    char date[11], msg[200];
    int rc = hpf_db_prepare(db, &st, "SELECT id FROM chart_version WHERE effective_from = ?", err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, hpf_day_fmt(date, c->effective_from));
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return hpf_err_field(err, HPF_ECONFLICT, "/effective_from", "chart.version_exists",
                             "a chart version is already in force from %s (versions are never "
                             "changed: load the correction with a later date)",
                             date);

    rc = hpf_db_prepare(db, &st, "SELECT class, normal_side FROM subject WHERE code = ?", err);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < c->n; k++) {
        const hpf_chart_subject *s = &c->subjects[k];
        bool changed = false;
        hpf_stmt_bind_text(st, 1, s->code);
        rc = hpf_stmt_step(st, err);
        if (rc == 1 &&
            (strcmp(hpf_stmt_text(st, 0), s->klass) != 0 || hpf_stmt_text(st, 1)[0] != s->side)) {
            changed = true;
            snprintf(msg, sizeof msg,
                     "an earlier chart has this code as %s with normal side %s: a code keeps its "
                     "class and side (use a new code)",
                     hpf_stmt_text(st, 0), hpf_stmt_text(st, 1));
        }
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        if (changed)
            return subject_err(err, HPF_EUNPROC, "chart.class_changed", s, k, msg);
    }

    /* Codes in use: every posted line, of any date, stays readable in every version. */
    rc = hpf_db_prepare(db, &st, "SELECT DISTINCT subject FROM voucher_line ORDER BY subject", err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1)
        if (!find(c, hpf_stmt_text(st, 0), c->n)) {
            rc = hpf_err_field(err, HPF_EUNPROC, "/subjects", "chart.code_in_use",
                               "code %s is used by posted voucher lines and missing from the "
                               "chart (a code in use is never removed)",
                               hpf_stmt_text(st, 0));
            break;
        }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;

    rc = hpf_db_prepare(db, &st,
                        "SELECT template, line_no, subject FROM voucher_template_line"
                        " ORDER BY template, line_no",
                        err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1)
        if (!find(c, hpf_stmt_text(st, 2), c->n)) {
            rc = hpf_err_field(err, HPF_EUNPROC, "/subjects", "chart.template_subject",
                               "code %s is missing from the chart, and line %lld of voucher "
                               "template %s names it",
                               hpf_stmt_text(st, 2), (long long)hpf_stmt_i64(st, 1),
                               hpf_stmt_text(st, 0));
            break;
        }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int hpf_chart_store(hpf_db *db, const hpf_chart *c, const char *source, int64_t loaded_by,
                    hpf_chart_loaded *out, hpf_err *err)
{
    hpf_stmt *st;
    char date[11];
    memset(out, 0, sizeof *out);
    int rc = hpf_chart_check(c, err);
    if (rc < 0 || (rc = check_against_db(db, c, err)) < 0)
        return rc;
    rc = hpf_db_prepare(db, &st,
                        "INSERT INTO chart_version (effective_from, name, source, subjects,"
                        " loaded_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, hpf_day_fmt(date, c->effective_from));
    hpf_stmt_bind_text(st, 2, c->name[0] ? c->name : source);
    hpf_stmt_bind_text(st, 3, source);
    hpf_stmt_bind_i64(st, 4, (int64_t)c->n);
    if (loaded_by)
        hpf_stmt_bind_i64(st, 5, loaded_by);
    else
        hpf_stmt_bind_null(st, 5);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        out->version = hpf_stmt_i64(st, 0);
    hpf_stmt_reset(st);
    if (rc == HPF_ECONFLICT) /* a concurrent load of the same date */
        return hpf_err_field(err, HPF_ECONFLICT, "/effective_from", "chart.version_exists",
                             "a chart version is already in force from %s", date);
    if (rc < 0)
        return rc;

    for (size_t k = 0; k < c->n; k++) {
        const hpf_chart_subject *s = &c->subjects[k];
        const char side[2] = {s->side, 0};
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO subject (code, name, class, normal_side, level, parent)"
                            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                            err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_text(st, 1, s->code);
        hpf_stmt_bind_text(st, 2, s->name);
        hpf_stmt_bind_text(st, 3, s->klass);
        hpf_stmt_bind_text(st, 4, side);
        hpf_stmt_bind_i64(st, 5, s->level);
        hpf_stmt_bind_text(st, 6, s->parent[0] ? s->parent : NULL);
        rc = hpf_stmt_step(st, err);
        out->added += rc == 0 && hpf_stmt_changes(st) == 1;
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO chart_entry (version, code, name, level, parent, class,"
                            " normal_side) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_i64(st, 1, out->version);
        hpf_stmt_bind_text(st, 2, s->code);
        hpf_stmt_bind_text(st, 3, s->name);
        hpf_stmt_bind_i64(st, 4, s->level);
        hpf_stmt_bind_text(st, 5, s->parent[0] ? s->parent : NULL);
        hpf_stmt_bind_text(st, 6, s->klass);
        hpf_stmt_bind_text(st, 7, side);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    /* The registry row of each code of this version follows the latest version holding it (this
     * one, unless a later-dated version was loaded before). */
    rc = hpf_db_prepare(
        db, &st,
        "UPDATE subject SET"
        " name = (SELECT e.name FROM chart_entry e JOIN chart_version v ON v.id = e.version"
        "  WHERE e.code = subject.code ORDER BY v.effective_from DESC LIMIT 1),"
        " level = (SELECT e.level FROM chart_entry e JOIN chart_version v ON v.id = e.version"
        "  WHERE e.code = subject.code ORDER BY v.effective_from DESC LIMIT 1),"
        " parent = (SELECT e.parent FROM chart_entry e JOIN chart_version v ON v.id = e.version"
        "  WHERE e.code = subject.code ORDER BY v.effective_from DESC LIMIT 1)"
        " WHERE code IN (SELECT code FROM chart_entry WHERE version = ?)",
        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, out->version);
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    out->subjects = c->n;
    return 0;
}

int hpf_chart_ensure_baseline(hpf_db *db, bool *loaded, hpf_err *err)
{
    int64_t n = 0;
    hpf_chart c;
    hpf_chart_loaded l;
    if (loaded)
        *loaded = false;
    int rc = hpf_db_query_i64(db, &n, "SELECT count(*) FROM chart_version", err);
    if (rc < 0 || n > 0)
        return rc;
    rc = hpf_chart_parse(&c, hpf_chart_baseline, hpf_chart_baseline_len, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_db_begin(db, err)) == 0) {
        rc = hpf_db_query_i64(db, &n, "SELECT count(*) FROM chart_version", err);
        if (rc == 0 && n == 0)
            rc = hpf_chart_store(db, &c, "data/chart-1999.csv (built in)", 0, &l, err);
        if (rc == 0 && n == 0 && (rc = hpf_db_commit(db, err)) == 0 && loaded)
            *loaded = true;
        if (rc < 0 || n > 0)
            hpf_db_rollback(db);
    }
    hpf_chart_cleanup(&c);
    if (rc == HPF_ECONFLICT && err && !strcmp(err->rule, "chart.version_exists")) {
        hpf_err_clear(err); /* another process loaded it a moment ago */
        rc = 0;
    }
    return rc;
}

/* ---- reading ---- */

int hpf_chart_at(hpf_db *db, hpf_day day, hpf_chart *out, int64_t *version, hpf_err *err)
{
    hpf_stmt *st;
    char date[11];
    int64_t id = 0;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    int rc = hpf_db_prepare(db, &st,
                            "SELECT id, effective_from, name FROM chart_version"
                            " WHERE effective_from <= ? ORDER BY effective_from DESC LIMIT 1",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, hpf_day_fmt(date, day));
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        id = hpf_stmt_i64(st, 0);
        hpf_day_parse(&out->effective_from, hpf_stmt_text(st, 1));
        snprintf(out->name, sizeof out->name, "%s", hpf_stmt_text(st, 2));
    }
    hpf_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hpf_err_field(err, HPF_ENOTFOUND, "date", "chart.none",
                             "no chart of accounts is in force on %s", date);
    rc = hpf_db_prepare(db, &st,
                        "SELECT code, name, level, COALESCE(parent, ''), class, normal_side"
                        " FROM chart_entry WHERE version = ? ORDER BY code",
                        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, id);
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        hpf_chart_subject *s = add_subject(out, &cap);
        snprintf(s->code, sizeof s->code, "%s", hpf_stmt_text(st, 0));
        snprintf(s->name, sizeof s->name, "%s", hpf_stmt_text(st, 1));
        s->level = (int)hpf_stmt_i64(st, 2);
        snprintf(s->parent, sizeof s->parent, "%s", hpf_stmt_text(st, 3));
        snprintf(s->klass, sizeof s->klass, "%s", hpf_stmt_text(st, 4));
        s->side = hpf_stmt_text(st, 5)[0];
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        hpf_chart_cleanup(out);
        return rc;
    }
    if (version)
        *version = id;
    return 0;
}

/* A CSV cell: quoted when it holds a comma, a quote or leading/trailing blanks. */
static void csv_cell(hpf_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
        hpf_buf_adds(b, s);
        return;
    }
    hpf_buf_adds(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            hpf_buf_adds(b, "\"\"");
        else
            hpf_buf_add(b, p, 1);
    }
    hpf_buf_adds(b, "\"");
}

void hpf_chart_csv(const hpf_chart *c, hpf_buf *out)
{
    char date[11];
    hpf_buf_printf(out, "# effective_from: %s\n# name: %s\n", hpf_day_fmt(date, c->effective_from),
                   c->name);
    hpf_buf_adds(out, "code,name,level,parent,class,normal_side\n");
    for (size_t k = 0; k < c->n; k++) {
        const hpf_chart_subject *s = &c->subjects[k];
        hpf_buf_printf(out, "%s,", s->code);
        csv_cell(out, s->name);
        hpf_buf_printf(out, ",%d,%s,%s,%c\n", s->level, s->parent, s->klass, s->side);
    }
}

json_t *hpf_chart_json(const hpf_chart *c)
{
    char date[11];
    json_t *arr = json_array();
    for (size_t k = 0; k < c->n; k++) {
        const hpf_chart_subject *s = &c->subjects[k];
        const char side[2] = {s->side, 0};
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:o, s:s, s:s}", "code", s->code,
                                             "name", s->name, "level", s->level, "parent",
                                             s->parent[0] ? json_string(s->parent) : json_null(),
                                             "class", s->klass, "normal_side", side));
    }
    return json_pack("{s:s, s:s, s:o}", "effective_from", hpf_day_fmt(date, c->effective_from),
                     "name", c->name, "subjects", arr);
}
