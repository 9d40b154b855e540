/*
 * ledger/chart: the chart of accounts (会计科目, RULES 5.2; JGJ/T 320 8.0.2) as data, in versions
 * by effective date, so that a revised chart is loaded without a code change. A chart file (CSV
 * or JSON, docs/internals/ledger.md) is parsed and checked on its own (hpf_chart_parse,
 * hpf_chart_check: pure), then against the database and written as one version
 * (hpf_chart_store). The baseline chart ships as data/chart-1999.csv, built into the binary, and
 * is loaded the first time hpf opens a database without a chart (hpf_chart_ensure_baseline).
 */
#ifndef HPF_LEDGER_CHART_H
#define HPF_LEDGER_CHART_H

#include "base/buf.h"
#include "base/date.h"
#include "base/err.h"
#include "store/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_CHART_MAX_SUBJECTS 2000
#define HPF_CHART_MAX_LEVEL    6
#define HPF_CHART_CODE_MAX     16        /* digits */
#define HPF_CHART_NAME_MAX     255       /* bytes of UTF-8 */
#define HPF_CHART_FILE_MAX     (1 << 20) /* bytes */

typedef struct hpf_chart_subject {
    char code[HPF_CHART_CODE_MAX + 1];   /* KMBH: digits; a child's code extends its parent's */
    char name[HPF_CHART_NAME_MAX + 1];   /* KMMC */
    int level;                           /* KMJB: 1 for first-level codes */
    char parent[HPF_CHART_CODE_MAX + 1]; /* "" on level 1 */
    char klass[10];                      /* KMSX: asset, liability, equity, income, expense */
    char side;                           /* KMYEFX: 'D' or 'C' */
    int line;                            /* CSV line number (1-based), 0 for JSON */
} hpf_chart_subject;

typedef struct hpf_chart {
    hpf_day effective_from; /* 0: the file did not say */
    char name[HPF_CHART_NAME_MAX + 1];
    hpf_chart_subject *subjects; /* owned */
    size_t n;
} hpf_chart;

void hpf_chart_cleanup(hpf_chart *c);

/* Parse a chart file: JSON when its first non-blank byte is '{' ({"effective_from": "YYYY-MM-DD",
 * "name": "...", "subjects": [{"code", "name", "level", "parent", "class", "normal_side"}]}),
 * else CSV with the header line code,name,level,parent,class,normal_side (any order), '#'
 * comment lines, of which "# effective_from: D" and "# name: N" set the version's date and name,
 * and RFC 4180 quoting. Errors name the subject by field "/subjects/K" (K from 0, in file order)
 * and the message by CSV line or JSON index: HPF_EINVAL chart.syntax (structure, header, JSON),
 * chart.field (a malformed value), HPF_ETOOBIG chart.too_big. *out is empty on error. */
int hpf_chart_parse(hpf_chart *out, const char *text, size_t len, hpf_err *err);

/* The rules a chart keeps on its own, the first broken one in file order: an effective date
 * (HPF_EINVAL chart.effective_missing), at least one subject (chart.empty), unique codes
 * (HPF_EUNPROC chart.code_duplicate), every parent in the chart (chart.parent_unknown), a
 * child's code extends its parent's and its level is the parent's plus one, level 1 has no
 * parent (chart.parent_mismatch), a child has its parent's class and normal side
 * (chart.class_mismatch). Pure. */
int hpf_chart_check(const hpf_chart *c, hpf_err *err);

typedef struct hpf_chart_loaded {
    int64_t version; /* chart_version.id */
    size_t subjects; /* in the version */
    size_t added;    /* codes no earlier version had */
} hpf_chart_loaded;

/* Check `c` (hpf_chart_check), then against the database: no version starts on its date
 * (HPF_ECONFLICT chart.version_exists), a code known from an earlier version keeps its class and
 * normal side (HPF_EUNPROC chart.class_changed), every code that posted voucher lines use is in
 * it (chart.code_in_use), and every subject a voucher template names (chart.template_subject).
 * Then write it as a new version in the caller's transaction: new codes join the registry
 * (table subject, which voucher_line refers to), and each code's registry name, level and parent
 * follow the latest version holding it. `source` names the file; loaded_by is an app_user id (0:
 * the system). */
int hpf_chart_store(hpf_db *db, const hpf_chart *c, const char *source, int64_t loaded_by,
                    hpf_chart_loaded *out, hpf_err *err);

/* The baseline chart, data/chart-1999.csv, built into the binary (scripts/embed_file.py). */
extern const char hpf_chart_baseline[];
extern const size_t hpf_chart_baseline_len;

/* Load the baseline chart when the database holds no chart version yet, in a transaction of its
 * own; *loaded (may be NULL) says whether it did. Reads first, so a current database (a hot
 * standby among them) is not written to. Returns 0 (also when a concurrent process loaded it
 * first) or an error. */
int hpf_chart_ensure_baseline(hpf_db *db, bool *loaded, hpf_err *err);

/* The chart version in force on `day` into *out (subjects by code); *version (may be NULL) its
 * id. Returns 0, HPF_ENOTFOUND chart.none (no version starts on or before day), or a database
 * error. */
int hpf_chart_at(hpf_db *db, hpf_day day, hpf_chart *out, int64_t *version, hpf_err *err);

/* The chart in the CSV load format, with its "# effective_from" and "# name" lines. */
void hpf_chart_csv(const hpf_chart *c, hpf_buf *out);
/* The chart in the JSON load format (a new reference). */
json_t *hpf_chart_json(const hpf_chart *c);

#endif
