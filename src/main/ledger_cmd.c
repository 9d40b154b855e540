#include "main/ledger_cmd.h"

#include "base/date.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/money.h"
#include "ledger/chart.h"
#include "main/config.h"
#include "service/accounts.h"
#include "store/migrate.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { L_OK = 0, L_FAIL = 1, L_USAGE = 2 };

enum {
    O_DB = 1000,
    O_DATA_DIR,
    O_CONFIG,
    O_BUSINESS_DATE,
    O_CENTRE,
    O_HELP,
    O_EFFECTIVE,
    O_NAME,
    O_DATE,
    O_JSON,
    O_FROM,
    O_TO,
    O_REASON,
    O_YEAR,
    O_BATCH,
    O_MONTH,
    O_PER_TX,
};

static const char usage_text[] =
    "usage: hpf ledger chart load FILE [--effective YYYY-MM-DD] [--name TEXT]\n"
    "       hpf ledger chart show [--date YYYY-MM-DD] [--json]\n"
    "       hpf ledger trial-balance [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]\n"
    "       hpf ledger reverse VOUCHER_NO [--reason TEXT]\n"
    "       hpf job interest --year Y [--batch N]\n"
    "       hpf job remit --month YYYY-MM [--per-tx N]\n"
    "\n"
    "The fund's books (docs/internals/ledger.md) and the jobs that post to them.\n"
    "  chart load      load a chart of accounts version from a CSV or JSON file ('-': standard\n"
    "                  input), checked in full, in one transaction with its audit entry;\n"
    "                  --effective and --name set the version's date and name when the file\n"
    "                  does not (or override it)\n"
    "  chart show      the chart in force on --date (default the business date), as CSV in\n"
    "                  the load format, or JSON\n"
    "  trial-balance   the trial balance (科目余额表) from..to (default the business year so\n"
    "                  far) and the balance-sheet identity; exit 1 when it does not hold\n"
    "  reverse         post the mirror of a voucher (冲账) and of its member postings on the\n"
    "                  business date; a voucher is reversed once, a reversal never\n"
    "  job interest    the annual interest settlement (年终结息) of the interest year ending\n"
    "                  30 June Y, as of the business date (not before 30 June Y), in batches\n"
    "                  of N accounts (default 5000), one transaction and J6 voucher each;\n"
    "                  progress on stderr; a rerun settles what is left, nothing after a\n"
    "                  finished run (docs/internals/interest.md)\n"
    "  job remit       自动汇缴: post the month for every normal employer that has not, each\n"
    "                  from its roster on file as one remittance, N employers (default 200) per\n"
    "                  transaction; an employer refused by its own rules is left out and\n"
    "                  counted; a rerun takes the employers still owing\n"
    "\n"
    "  --db URL             database: sqlite:PATH (default sqlite:DATA_DIR/hpf.db) or\n"
    "                       postgres://USER:PASS@HOST:PORT/DB (env HPF_DB)\n"
    "  --data-dir DIR       data directory (default var; env HPF_DATA_DIR)\n"
    "  --config FILE        key = value settings file (env HPF_CONFIG)\n"
    "  --business-date D    business date YYYY-MM-DD (default today; env HPF_BUSINESS_DATE)\n"
    "  --centre CODE        6-digit centre code (default 320900)\n"
    "  --help               this help\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "ledger" or "job": the command being run, for messages. */
static const char *cmd_name = "ledger";

static int usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hpf %s: ", cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'hpf %s --help')\n", cmd_name);
    return L_USAGE;
}

static int failed(const char *what, const hpf_err *err)
{
    if (err->rule[0])
        fprintf(stderr, "hpf %s %s: %s: %s\n", cmd_name, what, err->rule, err->msg);
    else
        fprintf(stderr, "hpf %s %s: %s\n", cmd_name, what, err->msg[0] ? err->msg : "failed");
    return err->code == HPF_EINVAL || err->code == HPF_EUNPROC || err->code == HPF_ETOOBIG ? L_USAGE
                                                                                           : L_FAIL;
}

typedef struct lenv {
    hpf_config cfg;
    hpf_store *store;
    hpf_svc svc;
} lenv;

/* Configuration, store and service context, as every data command opens them: migrated, with
 * the baseline chart loaded when the database has none. No field-encryption keys: nothing here
 * reads a personal field. */
static int open_lenv(lenv *e, const hpf_config_flags *fl)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    hpf_day bd = 0;
    memset(e, 0, sizeof *e);
    if (hpf_config_load(&e->cfg, fl, &err) < 0)
        return failed("", &err);
    if (mkdir(e->cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "hpf ledger: cannot create data directory %s: %s\n", e->cfg.data_dir,
                strerror(errno));
        return L_FAIL;
    }
    if (e->cfg.business_date[0] && hpf_day_parse(&bd, e->cfg.business_date) < 0)
        return usage("business date '%s' is not YYYY-MM-DD", e->cfg.business_date);
    if (hpf_store_open(&e->store, e->cfg.db, &err) < 0)
        return failed("", &err);
    if (hpf_store_conn(e->store, &db, &err) < 0 || hpf_migrate(db, NULL, &err) < 0 ||
        hpf_chart_ensure_baseline(db, NULL, &err) < 0) {
        hpf_store_free(e->store);
        e->store = NULL;
        return failed("", &err);
    }
    e->svc = (hpf_svc){.store = e->store, .business_date = bd, .today = hpf_day_today_utc};
    memcpy(e->svc.centre, e->cfg.centre, sizeof e->svc.centre - 1);
    return L_OK;
}

/* The operator CLI acts for the centre, as the system (user id 0). */
static const hpf_actor cli_actor = {.role = HPF_ROLE_OPERATOR, .username = "cli"};

/* Returns -1 (after saying why) for a value that is not a date. */
static int day_opt(const char *name, const char *v, hpf_day *out)
{
    if (hpf_day_parse(out, v) < 0) {
        usage("--%s '%s' is not a date YYYY-MM-DD", name, v);
        return -1;
    }
    return 0;
}

/* Read FILE ('-': standard input), at most HPF_CHART_FILE_MAX bytes (one more is read to tell). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "hpf ledger chart load: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = hpf_xmalloc((size_t)HPF_CHART_FILE_MAX + 2);
    size_t n = fread(buf, 1, (size_t)HPF_CHART_FILE_MAX + 1, f);
    bool bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        fprintf(stderr, "hpf ledger chart load: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int chart_load(lenv *e, const char *file, hpf_day effective, const char *name)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart_loaded l;
    size_t len;
    char *text = read_file(file, &len);
    if (!text)
        return L_FAIL;
    const char *base = strrchr(file, '/');
    int rc = hpf_accounts_chart_load(&e->svc, &cli_actor, base ? base + 1 : file, text, len,
                                     effective, name, &l, &err);
    free(text);
    if (rc < 0)
        return failed("chart load", &err);
    hpf_chart c;
    char date[11];
    if (hpf_accounts_chart_at(&e->svc, &cli_actor, hpf_svc_today(&e->svc), &c, &err) == 0) {
        printf("hpf ledger chart load: version %lld loaded (%zu subjects, %zu new codes); in force "
               "today: the chart of %s\n",
               (long long)l.version, l.subjects, l.added, hpf_day_fmt(date, c.effective_from));
        hpf_chart_cleanup(&c);
    } else {
        printf("hpf ledger chart load: version %lld loaded (%zu subjects, %zu new codes)\n",
               (long long)l.version, l.subjects, l.added);
    }
    return L_OK;
}

static int chart_show(lenv *e, hpf_day day, bool json)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_chart c;
    if (hpf_accounts_chart_at(&e->svc, &cli_actor, day ? day : hpf_svc_today(&e->svc), &c, &err) <
        0)
        return failed("chart show", &err);
    if (json) {
        json_t *o = hpf_chart_json(&c);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "null");
        free(s);
        json_decref(o);
    } else {
        hpf_buf b = HPF_BUF_INIT;
        hpf_chart_csv(&c, &b);
        fwrite(b.data, 1, b.len, stdout);
        hpf_buf_cleanup(&b);
    }
    hpf_chart_cleanup(&c);
    return L_OK;
}

static void print_identity(const char *when, const hpf_tb_identity *id)
{
    char a[24], l[24], q[24], i[24], x[24];
    printf("identity (%s): assets %s = liabilities %s + equity %s + income %s - expense %s: %s\n",
           when, hpf_money_fmt(a, id->assets), hpf_money_fmt(l, id->liabilities),
           hpf_money_fmt(q, id->equity), hpf_money_fmt(i, id->income),
           hpf_money_fmt(x, id->expense), id->holds ? "holds" : "DOES NOT HOLD");
}

static int trial_balance(lenv *e, hpf_day from, hpf_day to, bool json)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_trial_balance tb;
    int y, m, d;
    if (!to)
        to = hpf_svc_today(&e->svc);
    hpf_day_to_ymd(to, &y, &m, &d);
    if (!from)
        from = hpf_day_from_ymd(y, 1, 1);
    if (hpf_accounts_trial_balance(&e->svc, &cli_actor, from, to, &tb, &err) < 0)
        return failed("trial-balance", &err);
    bool holds = tb.opening_identity.holds && tb.closing_identity.holds && tb.debit == tb.credit &&
                 tb.opening_debit == tb.opening_credit && tb.closing_debit == tb.closing_credit;
    if (json) {
        json_t *o = hpf_trial_balance_json(&tb);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "null");
        free(s);
        json_decref(o);
    } else {
        char a[11], b[11], c[11], f[4][24];
        printf("trial balance %s..%s, chart of %s (%s)\n", hpf_day_fmt(a, tb.from),
               hpf_day_fmt(b, tb.to), hpf_day_fmt(c, tb.chart_from), tb.chart_name);
        printf("%-10s %2s %4s %16s %16s %16s %16s  %s\n", "code", "lv", "side", "opening", "debit",
               "credit", "closing", "name");
        for (size_t i = 0; i < tb.n; i++) {
            const hpf_tb_row *r = &tb.rows[i];
            printf("%-10s %2d %4c %16s %16s %16s %16s  %s%s\n", r->code, r->level, r->side,
                   hpf_money_fmt(f[0], r->opening), hpf_money_fmt(f[1], r->debit),
                   hpf_money_fmt(f[2], r->credit), hpf_money_fmt(f[3], r->closing), r->name,
                   r->in_chart ? "" : " (not in this chart)");
        }
        printf("first level: opening Dr %s Cr %s; turnover Dr %s Cr %s; ",
               hpf_money_fmt(f[0], tb.opening_debit), hpf_money_fmt(f[1], tb.opening_credit),
               hpf_money_fmt(f[2], tb.debit), hpf_money_fmt(f[3], tb.credit));
        printf("closing Dr %s Cr %s\n", hpf_money_fmt(f[0], tb.closing_debit),
               hpf_money_fmt(f[1], tb.closing_credit));
        print_identity("opening", &tb.opening_identity);
        print_identity("closing", &tb.closing_identity);
    }
    hpf_trial_balance_cleanup(&tb);
    if (!holds)
        fprintf(stderr, "hpf ledger trial-balance: the books do not balance (run hpf verify)\n");
    return holds ? L_OK : L_FAIL;
}

static int reverse(lenv *e, const char *voucher_no, const char *reason)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_reversal r;
    int rc = HPF_EBUSY;
    /* A concurrent writer of the same members: run it again, as the API dispatcher would. */
    for (int attempt = 0; attempt < 8 && rc == HPF_EBUSY; attempt++) {
        hpf_err_clear(&err);
        rc = hpf_accounts_reverse(&e->svc, &cli_actor, voucher_no, reason, &r, &err);
    }
    if (rc < 0)
        return failed("reverse", &err);
    char a[24];
    printf("hpf ledger reverse: %s reverses %s (%lld member postings, %s)\n", r.voucher_no,
           r.original_no, (long long)r.postings, hpf_money_fmt(a, r.amount));
    return L_OK;
}

static void settle_progress(const hpf_settle_progress *p, void *arg)
{
    (void)arg;
    char a[24];
    fprintf(stderr,
            "hpf job interest: year %d: %lld accounts read, %lld posted, %s; %lld to go%s\n",
            (int)p->year, (long long)p->accounts, (long long)p->postings,
            hpf_money_fmt(a, p->interest), (long long)p->remaining, p->finished ? ": done" : "");
}

static int job_interest(lenv *e, int year, int batch)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_settle_progress p;
    if (hpf_interest_settle(&e->svc, &cli_actor, year, batch, settle_progress, NULL, &p, &err) < 0)
        return failed("interest", &err);
    char a[24];
    printf("hpf job interest: year %d settled: %lld accounts, %lld interest postings, %s in %lld "
           "vouchers\n",
           year, (long long)p.accounts, (long long)p.postings, hpf_money_fmt(a, p.interest),
           (long long)p.batches);
    return L_OK;
}

static void remit_progress(const hpf_remit_batch_progress *p, void *arg)
{
    (void)arg;
    char a[24];
    fprintf(stderr,
            "hpf job remit: %04d-%02d: %lld employers, %lld posted, %lld refused, %lld members, "
            "%s%s\n",
            (int)(p->period / 100), (int)(p->period % 100), (long long)p->employers,
            (long long)p->posted, (long long)p->skipped, (long long)p->members,
            hpf_money_fmt(a, p->total), p->finished ? ": done" : "");
}

static int job_remit(lenv *e, hpf_month month, int per_tx)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_remit_batch_progress p;
    if (hpf_remit_batch(&e->svc, &cli_actor, month, per_tx, remit_progress, NULL, &p, &err) < 0)
        return failed("remit", &err);
    char a[24];
    printf("hpf job remit: %04d-%02d: %lld remittances posted (%lld members, %s); %lld employers "
           "refused%s%s\n",
           (int)(month / 100), (int)(month % 100), (long long)p.posted, (long long)p.members,
           hpf_money_fmt(a, p.total), (long long)p.skipped, p.skipped ? ", the first: " : "",
           p.first_refusal);
    return L_OK;
}

/* Returns -1 (after saying why) for a value that is not an integer in lo..hi. */
static int int_opt(const char *name, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        usage("--%s '%s' is not an integer in %d..%d", name, v, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, O_DB},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"config", required_argument, NULL, O_CONFIG},
        {"business-date", required_argument, NULL, O_BUSINESS_DATE},
        {"centre", required_argument, NULL, O_CENTRE},
        {"help", no_argument, NULL, O_HELP},
        {"effective", required_argument, NULL, O_EFFECTIVE},
        {"name", required_argument, NULL, O_NAME},
        {"date", required_argument, NULL, O_DATE},
        {"json", no_argument, NULL, O_JSON},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"reason", required_argument, NULL, O_REASON},
        {"year", required_argument, NULL, O_YEAR},
        {"batch", required_argument, NULL, O_BATCH},
        {"month", required_argument, NULL, O_MONTH},
        {"per-tx", required_argument, NULL, O_PER_TX},
        {0},
    };
    hpf_config_flags fl = {0};
    hpf_day effective = 0, date = 0, from = 0, to = 0;
    const char *name = NULL, *reason = NULL;
    bool json = false;
    int year = 0, batch = 5000, per_tx = 200;
    hpf_month month = 0;
    int c, used = 0; /* the subcommand options given, as bits of 1 << (O_x - O_EFFECTIVE) */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            fl.db = optarg;
            break;
        case O_DATA_DIR:
            fl.data_dir = optarg;
            break;
        case O_CONFIG:
            fl.config = optarg;
            break;
        case O_BUSINESS_DATE:
            fl.business_date = optarg;
            break;
        case O_CENTRE:
            fl.centre = optarg;
            break;
        case O_HELP:
            fputs(usage_text, stdout);
            return L_OK;
        case O_EFFECTIVE:
            if (day_opt("effective", optarg, &effective) < 0)
                return L_USAGE;
            break;
        case O_NAME:
            name = optarg;
            break;
        case O_DATE:
            if (day_opt("date", optarg, &date) < 0)
                return L_USAGE;
            break;
        case O_JSON:
            json = true;
            break;
        case O_FROM:
            if (day_opt("from", optarg, &from) < 0)
                return L_USAGE;
            break;
        case O_TO:
            if (day_opt("to", optarg, &to) < 0)
                return L_USAGE;
            break;
        case O_REASON:
            reason = optarg;
            break;
        case O_YEAR:
            if (int_opt("year", optarg, 1901, 9998, &year) < 0)
                return L_USAGE;
            break;
        case O_BATCH:
            if (int_opt("batch", optarg, 1, HPF_SETTLE_BATCH_MAX, &batch) < 0)
                return L_USAGE;
            break;
        case O_MONTH:
            if (hpf_month_parse(&month, optarg) < 0)
                return usage("--month '%s' is not a month YYYY-MM", optarg);
            break;
        case O_PER_TX:
            if (int_opt("per-tx", optarg, 1, HPF_REMIT_BATCH_MAX, &per_tx) < 0)
                return L_USAGE;
            break;
        default:
            return usage("unknown option or missing value: '%s'", argv[optind - 1]);
        }
        if (c >= O_EFFECTIVE)
            used |= 1 << (c - O_EFFECTIVE);
    }
    /* What each subcommand takes: the words, the operand count, the options. */
    static const struct {
        const char *cmd, *w1, *w2;
        int operands, options, required;
    } subs[] = {
        {"ledger", "chart", "load", 1,
         1 << (O_EFFECTIVE - O_EFFECTIVE) | 1 << (O_NAME - O_EFFECTIVE), 0},
        {"ledger", "chart", "show", 0, 1 << (O_DATE - O_EFFECTIVE) | 1 << (O_JSON - O_EFFECTIVE),
         0},
        {"ledger", "trial-balance", NULL, 0,
         1 << (O_FROM - O_EFFECTIVE) | 1 << (O_TO - O_EFFECTIVE) | 1 << (O_JSON - O_EFFECTIVE), 0},
        {"ledger", "reverse", NULL, 1, 1 << (O_REASON - O_EFFECTIVE), 0},
        {"job", "interest", NULL, 0, 1 << (O_YEAR - O_EFFECTIVE) | 1 << (O_BATCH - O_EFFECTIVE),
         1 << (O_YEAR - O_EFFECTIVE)},
        {"job", "remit", NULL, 0, 1 << (O_MONTH - O_EFFECTIVE) | 1 << (O_PER_TX - O_EFFECTIVE),
         1 << (O_MONTH - O_EFFECTIVE)},
    };
    char **words = argv + optind;
    int nwords = argc - optind;
    size_t s = 0;
    for (; s < sizeof subs / sizeof subs[0]; s++)
        if (!strcmp(subs[s].cmd, cmd_name) && nwords >= 1 && !strcmp(words[0], subs[s].w1) &&
            (!subs[s].w2 || (nwords >= 2 && !strcmp(words[1], subs[s].w2))))
            break;
    if (s == sizeof subs / sizeof subs[0])
        return usage("want %s, not '%s'",
                     strcmp(cmd_name, "job") ? "chart load|chart show|trial-balance|reverse"
                                             : "interest|remit",
                     nwords ? words[0] : "");
    int k = subs[s].w2 ? 2 : 1;
    if (nwords - k != subs[s].operands)
        return usage("%s%s%s takes %d argument%s", subs[s].w1, subs[s].w2 ? " " : "",
                     subs[s].w2 ? subs[s].w2 : "", subs[s].operands,
                     subs[s].operands == 1 ? "" : "s");
    if (used & ~subs[s].options)
        return usage("an option does not belong to %s%s%s", subs[s].w1, subs[s].w2 ? " " : "",
                     subs[s].w2 ? subs[s].w2 : "");
    if (~used & subs[s].required)
        return usage("%s needs --%s", subs[s].w1, s == 4 ? "year" : "month");

    hpf_log_set_level(HPF_LOG_WARN); /* the migration lines are for serve's log */
    lenv e;
    int rc = open_lenv(&e, &fl);
    if (rc != L_OK)
        return rc;
    const char *arg = words[k];
    switch (s) {
    case 0:
        rc = chart_load(&e, arg, effective, name);
        break;
    case 1:
        rc = chart_show(&e, date, json);
        break;
    case 2:
        rc = trial_balance(&e, from, to, json);
        break;
    case 3:
        rc = reverse(&e, arg, reason);
        break;
    case 4:
        rc = job_interest(&e, year, batch);
        break;
    default:
        rc = job_remit(&e, month, per_tx);
        break;
    }
    hpf_store_free(e.store);
    return rc;
}

int hpf_cmd_ledger(int argc, char **argv)
{
    cmd_name = "ledger";
    return run(argc, argv);
}

int hpf_cmd_job(int argc, char **argv)
{
    cmd_name = "job";
    return run(argc, argv);
}
