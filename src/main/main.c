/*
 * main: the `hpf` command. One binary is the HTTPS server and the operator's command line:
 * serve, migrate, demo, verify, audit, calc, user, routes, version. Exit codes: 0 ok, 1 failure,
 * 2 bad usage or input.
 */
#include "api/api.h"
#include "base/date.h"
#include "base/log.h"
#include "base/money.h"
#include "base/parse.h"
#include "domain/contribution.h"
#include "http/server.h"
#include "http/tlscert.h"
#include "jobs/jobs.h"
#include "ledger/verify.h"
#include "main/config.h"
#include "service/demo.h"
#include "service/svc.h"
#include "store/db.h"
#include "store/migrate.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef HPF_VERSION
#define HPF_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Options every data command takes. */
enum {
    OPT_DB = 1000,
    OPT_DATA_DIR,
    OPT_CONFIG,
    OPT_BUSINESS_DATE,
    OPT_CENTRE,
    OPT_LISTEN,
    OPT_WEB_DIR,
    OPT_THREADS,
    OPT_READ_DB,
    OPT_JOB_TICK,
    OPT_EMPLOYERS,
    OPT_MEMBERS,
    OPT_MONTHS,
    OPT_SEED,
    OPT_WAGE,
    OPT_CITY_AVG,
    OPT_MIN_WAGE,
    OPT_UNIT_RATIO,
    OPT_INDIV_RATIO,
    OPT_ROUNDING,
    OPT_USERNAME,
    OPT_NAME,
    OPT_HELP,
};

#define COMMON_OPTS                                                                                \
    {"db", required_argument, NULL, OPT_DB}, {"data-dir", required_argument, NULL, OPT_DATA_DIR},  \
        {"config", required_argument, NULL, OPT_CONFIG},                                           \
        {"business-date", required_argument, NULL, OPT_BUSINESS_DATE},                             \
        {"centre", required_argument, NULL, OPT_CENTRE},                                           \
    {                                                                                              \
        "help", no_argument, NULL, OPT_HELP                                                        \
    }

#define COMMON_HELP                                                                                \
    "  --db URL             database: sqlite:PATH (default sqlite:DATA_DIR/hpf.db) or\n"           \
    "                       postgres://USER:PASS@HOST:PORT/DB (env HPF_DB)\n"                      \
    "  --data-dir DIR       data directory (default var; env HPF_DATA_DIR)\n"                      \
    "  --config FILE        key = value settings file (env HPF_CONFIG)\n"                          \
    "  --business-date D    business date YYYY-MM-DD (default today; env HPF_BUSINESS_DATE)\n"     \
    "  --centre CODE        6-digit centre code for account numbers (default 320900)\n"            \
    "  --help               this help\n"

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hpf %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'hpf %s --help')\n", cmd);
    return EXIT_USAGE;
}

static int fail(const char *cmd, const hpf_err *err)
{
    fprintf(stderr, "hpf %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return err->code == HPF_EINVAL || err->code == HPF_EUNPROC ? EXIT_USAGE : EXIT_FAIL;
}

/* Take a common option into the flags; returns 1 when it was one. */
static int common_opt(int c, hpf_config_flags *fl)
{
    switch (c) {
    case OPT_DB:
        fl->db = optarg;
        return 1;
    case OPT_DATA_DIR:
        fl->data_dir = optarg;
        return 1;
    case OPT_CONFIG:
        fl->config = optarg;
        return 1;
    case OPT_BUSINESS_DATE:
        fl->business_date = optarg;
        return 1;
    case OPT_CENTRE:
        fl->centre = optarg;
        return 1;
    default:
        return 0;
    }
}

/* Parse a command that takes only the common options. Returns -1 to go on, or the exit code
 * (0 after --help, 2 for bad usage). */
static int parse_common_only(int argc, char **argv, const char *cmd, const char *help,
                             hpf_config_flags *fl)
{
    static const struct option opts[] = {COMMON_OPTS, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, fl))
            continue;
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        return usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Resolved configuration, data directory, store and service context of a data command. */
typedef struct env {
    hpf_config cfg;
    hpf_store *store;
    hpf_store *read_store; /* serve --read-db */
    hpf_svc svc;
} env;

static int open_env(env *e, const char *cmd, const hpf_config_flags *fl, bool migrate)
{
    hpf_err err = HPF_ERR_INIT;
    memset(e, 0, sizeof *e);
    if (hpf_config_load(&e->cfg, fl, &err) < 0)
        return fail(cmd, &err);
    if (mkdir(e->cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "hpf %s: cannot create data directory %s: %s\n", cmd, e->cfg.data_dir,
                strerror(errno));
        return EXIT_FAIL;
    }
    hpf_day bd = 0;
    if (e->cfg.business_date[0] && hpf_day_parse(&bd, e->cfg.business_date) < 0)
        return usage_error(cmd, "business date '%s' is not YYYY-MM-DD", e->cfg.business_date);
    if (hpf_store_open(&e->store, e->cfg.db, &err) < 0)
        return fail(cmd, &err);
    if (migrate) {
        hpf_db *db;
        if (hpf_store_conn(e->store, &db, &err) < 0 || hpf_migrate(db, NULL, &err) < 0) {
            hpf_store_free(e->store);
            e->store = NULL;
            return fail(cmd, &err);
        }
    }
    e->svc = (hpf_svc){.store = e->store,
                       .business_date = bd,
                       .today = hpf_day_today_utc,
                       .session_idle_s = 1800,
                       .session_max_s = 8 * 3600};
    memcpy(e->svc.centre, e->cfg.centre, sizeof e->svc.centre - 1);
    return EXIT_OK;
}

static void close_env(env *e)
{
    hpf_store_free(e->read_store);
    e->read_store = NULL;
    hpf_store_free(e->store);
    e->store = NULL;
}

/* ---- serve ---- */

static int split_listen(const char *s, char *host, size_t hostsz, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    if (!colon || colon == s || (size_t)(colon - s) >= hostsz ||
        hpf_parse_i64(&p, colon + 1, 0, 65535) < 0)
        return -1;
    const char *h = s;
    size_t n = (size_t)(colon - s);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') { /* [::1]:8443 */
        h++;
        n -= 2;
    }
    snprintf(host, hostsz, "%.*s", (int)n, h);
    *port = (uint16_t)p;
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTS,
                                         {"listen", required_argument, NULL, OPT_LISTEN},
                                         {"web-dir", required_argument, NULL, OPT_WEB_DIR},
                                         {"threads", required_argument, NULL, OPT_THREADS},
                                         {"read-db", required_argument, NULL, OPT_READ_DB},
                                         {"job-tick", required_argument, NULL, OPT_JOB_TICK},
                                         {0}};
    hpf_config_flags fl = {0};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        switch (c) {
        case OPT_LISTEN:
            fl.listen = optarg;
            break;
        case OPT_WEB_DIR:
            fl.web_dir = optarg;
            break;
        case OPT_THREADS:
            fl.threads = optarg;
            break;
        case OPT_READ_DB:
            fl.read_db = optarg;
            break;
        case OPT_JOB_TICK:
            fl.job_tick = optarg;
            break;
        case OPT_HELP:
            printf(
                "usage: hpf serve [options]\n\nServe the API and the web pages over HTTPS "
                "(never plain HTTP).\nCreates DATA_DIR/tls/cert.pem and key.pem (self-signed) "
                "when missing and applies migrations first.\n\n"
                "  --listen HOST:PORT   address (default 127.0.0.1:8443; port 0 picks one; env "
                "HPF_LISTEN)\n"
                "  --web-dir DIR        static files (default web/dist; env HPF_WEB_DIR)\n"
                "  --threads N          worker threads (default 4; env HPF_THREADS)\n"
                "  --read-db URL        hot standby for read-only work: member reads, lists and\n"
                "                       statements (env HPF_READ_DB; default: the primary)\n"
                "  --job-tick S         seconds between batch-job rounds (default 5; env "
                "HPF_JOB_TICK)\n" COMMON_HELP);
            return EXIT_OK;
        default:
            return usage_error("serve", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("serve", "unexpected argument '%s'", argv[optind]);

    /* Block the stop signals before any thread starts, so only sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    env e;
    int rc = open_env(&e, "serve", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    hpf_err err = HPF_ERR_INIT;
    char host[128], tlsdir[600], cert[700], key[700];
    uint16_t port;
    if (split_listen(e.cfg.listen, host, sizeof host, &port) < 0) {
        close_env(&e);
        return usage_error("serve", "listen address '%s' is not HOST:PORT", e.cfg.listen);
    }
    snprintf(tlsdir, sizeof tlsdir, "%s/tls", e.cfg.data_dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", tlsdir);
    snprintf(key, sizeof key, "%s/key.pem", tlsdir);
    if ((mkdir(tlsdir, 0700) < 0 && errno != EEXIST) ||
        hpf_tls_ensure_selfsigned(cert, key, &err) < 0) {
        if (!err.code)
            hpf_err_set(&err, HPF_EIO, "cannot create %s: %s", tlsdir, strerror(errno));
        close_env(&e);
        return fail("serve", &err);
    }
    struct stat sb;
    bool have_web = stat(e.cfg.web_dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!have_web)
        hpf_log(HPF_LOG_WARN, "serve.no_web", "web directory %s not found; serving the API only",
                e.cfg.web_dir);
    if (e.cfg.read_db[0] && hpf_store_open(&e.read_store, e.cfg.read_db, &err) < 0) {
        close_env(&e);
        return fail("serve", &err);
    }
    e.svc.read_store = e.read_store;
    size_t nroutes;
    const hpf_http_route *routes = hpf_api_routes(&e.svc, &nroutes);
    hpf_http_config hc = {
        .listen_host = host,
        .listen_port = port,
        .cert_pem_path = cert,
        .key_pem_path = key,
        .static_dir = have_web ? e.cfg.web_dir : NULL,
        .routes = routes,
        .nroutes = nroutes,
        .threads = (unsigned)e.cfg.threads,
        .ready = hpf_svc_ready,
        .ready_ctx = &e.svc,
    };
    hpf_http_server *srv = NULL;
    if (hpf_http_start(&srv, &hc, &err) < 0) {
        close_env(&e);
        return fail("serve", &err);
    }
    hpf_jobs *jobs = NULL;
    if (hpf_jobs_start(&jobs, &e.svc, e.cfg.job_tick, &err) < 0) {
        hpf_http_stop(srv);
        close_env(&e);
        return fail("serve", &err);
    }
    bool v6 = strchr(host, ':') != NULL;
    printf("hpf: serving https://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "",
           (unsigned)hpf_http_port(srv));
    fflush(stdout);
    hpf_log(HPF_LOG_INFO, "serve.start", "serving %s with %s store, %d threads", e.cfg.listen,
            hpf_store_driver(e.store), e.cfg.threads);
    int sig = 0;
    sigwait(&stop, &sig);
    hpf_log(HPF_LOG_INFO, "serve.stop", "signal %d: stopping", sig);
    hpf_jobs_stop(jobs);
    hpf_http_stop(srv);
    close_env(&e);
    return EXIT_OK;
}

/* ---- migrate ---- */

static int cmd_migrate(int argc, char **argv)
{
    hpf_config_flags fl = {0};
    int rc = parse_common_only(argc, argv, "migrate",
                               "usage: hpf migrate [options]\n\nApply the numbered schema "
                               "migrations (sql/NNNN_name.sql, built in) that the database "
                               "lacks.\n\n" COMMON_HELP,
                               &fl);
    if (rc >= 0)
        return rc;
    env e;
    rc = open_env(&e, "migrate", &fl, false);
    if (rc != EXIT_OK)
        return rc;
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    int applied = 0, version = 0;
    if (hpf_store_conn(e.store, &db, &err) < 0 || hpf_migrate(db, &applied, &err) < 0 ||
        hpf_migrate_version(db, &version, &err) < 0) {
        close_env(&e);
        return fail("migrate", &err);
    }
    printf("hpf: schema version %d (%d migration%s applied)\n", version, applied,
           applied == 1 ? "" : "s");
    close_env(&e);
    return EXIT_OK;
}

/* ---- demo ---- */

static int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTS,
                                         {"employers", required_argument, NULL, OPT_EMPLOYERS},
                                         {"members", required_argument, NULL, OPT_MEMBERS},
                                         {"months", required_argument, NULL, OPT_MONTHS},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {0}};
    hpf_config_flags fl = {0};
    int64_t employers = 20, members = 1000, months = 12, seed = 2022;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        int bad = 0;
        switch (c) {
        case OPT_EMPLOYERS:
            bad = hpf_parse_i64(&employers, optarg, 1, 100000);
            break;
        case OPT_MEMBERS:
            bad = hpf_parse_i64(&members, optarg, 1, 10000000);
            break;
        case OPT_MONTHS:
            bad = hpf_parse_i64(&months, optarg, 0, 60);
            break;
        case OPT_SEED:
            bad = hpf_parse_i64(&seed, optarg, 0, INT64_MAX);
            break;
        case OPT_HELP:
            printf("usage: hpf demo [options]\n\nFill an empty database with a deterministic "
                   "demo population and print the demo logins\n(one line each: login ROLE "
                   "USERNAME PASSWORD).\n\n"
                   "  --employers N        employers, sizes Zipf-like (default 20)\n"
                   "  --members M          member accounts, M >= N (default 1000)\n"
                   "  --months K           months of posted remittances before the business "
                   "month (default 12, max 60)\n"
                   "  --seed S             random seed (default 2022)\n" COMMON_HELP);
            return EXIT_OK;
        default:
            return usage_error("demo", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
        if (bad < 0)
            return usage_error("demo", "bad value '%s'", optarg);
    }
    if (optind < argc)
        return usage_error("demo", "unexpected argument '%s'", argv[optind]);
    if (members < employers)
        return usage_error("demo", "--members must be at least --employers");
    env e;
    int rc = open_env(&e, "demo", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    hpf_err err = HPF_ERR_INIT;
    hpf_demo_opts o = {.employers = (int)employers,
                       .members = (int)members,
                       .months = (int)months,
                       .seed = (uint64_t)seed};
    rc = hpf_demo_run(&e.svc, &o, stdout, stderr, &err);
    close_env(&e);
    if (rc < 0) {
        fprintf(stderr, "hpf demo: %s\n", err.msg);
        return EXIT_FAIL;
    }
    fprintf(stderr, "hpf demo: %lld employers, %lld members, %lld months posted\n",
            (long long)employers, (long long)members, (long long)months);
    return EXIT_OK;
}

/* ---- calc ---- */

static int parse_money_opt(const char *what, const char *s, hpf_fen *out)
{
    if (hpf_money_parse(out, s, 1, HPF_MONEY_MAX) < 0)
        return usage_error("calc contribution", "%s '%s' must be a positive amount in yuan", what,
                           s);
    return 0;
}

static int cmd_calc(int argc, char **argv)
{
    static const struct option opts[] = {{"wage", required_argument, NULL, OPT_WAGE},
                                         {"city-avg", required_argument, NULL, OPT_CITY_AVG},
                                         {"min-wage", required_argument, NULL, OPT_MIN_WAGE},
                                         {"unit-ratio", required_argument, NULL, OPT_UNIT_RATIO},
                                         {"indiv-ratio", required_argument, NULL, OPT_INDIV_RATIO},
                                         {"rounding", required_argument, NULL, OPT_ROUNDING},
                                         {"help", no_argument, NULL, OPT_HELP},
                                         {0}};
    const char *help =
        "usage: hpf calc contribution --wage W --city-avg A --min-wage F --unit-ratio U\n"
        "                             --indiv-ratio I [--rounding yuan|jiao|fen]\n\n"
        "Monthly contribution (RULES 1.2): base = clamp(W, F, 3 x A); each part rounded\n"
        "half-up separately. Amounts in yuan (\"6543.21\"); ratios in percent, 5 to 12.\n"
        "Prints {\"base\",\"unit\",\"individual\",\"total\"} as decimal strings.\n";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "contribution") != 0)
        return usage_error("calc", "unknown calculation '%s' (try contribution)", argv[1]);
    argc--;
    argv++;
    hpf_fen wage = -1, avg = -1, minw = -1, unit = -1, indiv = -1;
    hpf_rounding rounding = HPF_ROUND_YUAN;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_WAGE:
            rc = parse_money_opt("--wage", optarg, &wage);
            break;
        case OPT_CITY_AVG:
            rc = parse_money_opt("--city-avg", optarg, &avg);
            break;
        case OPT_MIN_WAGE:
            rc = parse_money_opt("--min-wage", optarg, &minw);
            break;
        case OPT_UNIT_RATIO:
        case OPT_INDIV_RATIO: {
            /* A percent with up to two decimals is, in hundredths, basis points. */
            hpf_fen *dst = c == OPT_UNIT_RATIO ? &unit : &indiv;
            if (hpf_money_parse(dst, optarg, 0, 10000) < 0 || *dst < 500 || *dst > 1200)
                return usage_error("calc contribution", "%s %s is outside 5..12 (percent)",
                                   c == OPT_UNIT_RATIO ? "--unit-ratio" : "--indiv-ratio", optarg);
            break;
        }
        case OPT_ROUNDING:
            if (hpf_rounding_parse(&rounding, optarg) < 0)
                return usage_error("calc contribution", "--rounding must be yuan, jiao or fen");
            break;
        case OPT_HELP:
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return usage_error("calc contribution", "unknown option or missing value: '%s'",
                               argv[optind - 1]);
        }
        if (rc)
            return rc;
    }
    if (optind < argc)
        return usage_error("calc contribution", "unexpected argument '%s'", argv[optind]);
    if (wage < 0 || avg < 0 || minw < 0 || unit < 0 || indiv < 0)
        return usage_error("calc contribution", "--wage, --city-avg, --min-wage, --unit-ratio and "
                                                "--indiv-ratio are all required");
    hpf_contrib_policy p = {.unit_ratio_min_bp = 500,
                            .unit_ratio_max_bp = 1200,
                            .indiv_ratio_min_bp = 500,
                            .indiv_ratio_max_bp = 1200,
                            .city_avg_wage = avg,
                            .min_wage = minw,
                            .cap_multiple = 3,
                            .rounding = rounding,
                            .ratios_must_match = false};
    hpf_contrib r;
    hpf_err err = HPF_ERR_INIT;
    if (hpf_contrib_compute(&r, &p, wage, (int32_t)unit, (int32_t)indiv, &err) < 0) {
        fprintf(stderr, "hpf calc contribution: %s\n", err.msg);
        return EXIT_USAGE;
    }
    char b[24], u[24], i[24], t[24];
    printf("{\"base\":\"%s\",\"unit\":\"%s\",\"individual\":\"%s\",\"total\":\"%s\"}\n",
           hpf_money_fmt(b, r.base), hpf_money_fmt(u, r.unit), hpf_money_fmt(i, r.individual),
           hpf_money_fmt(t, r.total));
    return EXIT_OK;
}

/* ---- user ---- */

static int cmd_user(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTS,
                                         {"username", required_argument, NULL, OPT_USERNAME},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {0}};
    const char *help =
        "usage: hpf user add-operator --username U [--name NAME] [options]\n\n"
        "Create an operator login. The password is read from the first line of standard input\n"
        "(10+ characters, three of: lower, upper, digit, symbol).\n\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "add-operator") != 0)
        return usage_error("user", "unknown subcommand '%s'", argv[1]);
    argc--;
    argv++;
    hpf_config_flags fl = {0};
    const char *username = NULL, *name = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        if (c == OPT_USERNAME)
            username = optarg;
        else if (c == OPT_NAME)
            name = optarg;
        else if (c == OPT_HELP) {
            fputs(help, stdout);
            return EXIT_OK;
        } else
            return usage_error("user", "unknown option or missing value: '%s'", argv[optind - 1]);
    }
    if (!username)
        return usage_error("user", "--username is required");
    char pw[256];
    if (!fgets(pw, sizeof pw, stdin))
        return usage_error("user", "no password on standard input");
    pw[strcspn(pw, "\r\n")] = '\0';
    env e;
    int rc = open_env(&e, "user", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    rc = hpf_store_conn(e.store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin(db, &err)) == 0) {
        rc = hpf_user_create(db, HPF_ROLE_OPERATOR, username, pw, "", name ? name : username, 0, 0,
                             NULL, &err);
        if (rc == 0)
            rc = hpf_db_commit(db, &err);
        else
            hpf_db_rollback(db);
    }
    memset(pw, 0, sizeof pw);
    close_env(&e);
    if (rc < 0)
        return fail("user", &err);
    printf("hpf: operator %s created\n", username);
    return EXIT_OK;
}

/* ---- verify ---- */

static int cmd_verify(int argc, char **argv)
{
    hpf_config_flags fl = {0};
    int rc = parse_common_only(
        argc, argv, "verify",
        "usage: hpf verify [options]\n\nRecompute the ledger invariants from posted data: "
        "balanced vouchers, member balances\nequal to their postings, the control account 201 "
        "equal to the member sub-ledger,\nthe balance-sheet identity, remittances equal to their "
        "vouchers and postings.\nExit 0 when all hold; 1 naming the first "
        "violation.\n\n" COMMON_HELP,
        &fl);
    if (rc >= 0)
        return rc;
    env e;
    rc = open_env(&e, "verify", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    hpf_verify_counts n = {0};
    rc = hpf_store_conn(e.store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin_read(db, &err)) == 0) {
        rc = hpf_ledger_verify(db, &n, &err);
        hpf_db_rollback(db);
    }
    close_env(&e);
    if (rc < 0) {
        fprintf(stderr, "hpf verify: FAILED: %s\n", err.msg);
        return EXIT_FAIL;
    }
    printf("hpf verify: ok (%lld vouchers, %lld members, %lld postings, %lld remittances)\n",
           (long long)n.vouchers, (long long)n.members, (long long)n.postings,
           (long long)n.remittances);
    return EXIT_OK;
}

/* ---- audit ---- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Raw SM3 speed on this machine now, in bytes/s: one 64 MiB buffer hashed once. */
static double sm3_raw_speed(void)
{
    size_t n = (size_t)64 << 20;
    unsigned char *p = malloc(n), md[HPF_SM3_LEN];
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 2654435761u >> 24);
    hpf_sm3 *h = hpf_sm3_new();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hpf_sm3_update(h, p, n);
    hpf_sm3_final(h, md);
    double s = seconds_since(&t0);
    hpf_sm3_free(h);
    free(p);
    return s > 0 ? (double)n / s : 0;
}

static int cmd_audit(int argc, char **argv)
{
    const char *help =
        "usage: hpf audit verify [options]\n\n"
        "Recompute the SM3 audit chain and check every audited record against it, in one read\n"
        "snapshot: the chain has no gap, each entry hashes to its hash and links to the one\n"
        "before, the head is its last entry, and every employer, member, login and remittance\n"
        "(with its voucher lines and postings) equals the payload of its latest entry.\n"
        "Exit 0 with the counts and the throughput next to the raw SM3 speed measured in the\n"
        "same run; 1 naming the first problem in chain order (entry seq, record, "
        "field).\n\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "verify") != 0)
        return usage_error("audit", "unknown subcommand '%s' (try verify)", argv[1]);
    hpf_config_flags fl = {0};
    int rc = parse_common_only(argc - 1, argv + 1, "audit verify", help, &fl);
    if (rc >= 0)
        return rc;
    env e;
    rc = open_env(&e, "audit verify", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    double raw = sm3_raw_speed();
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    hpf_audit_stats st = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = hpf_store_conn(e.store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin_read(db, &err)) == 0) {
        rc = hpf_audit_verify(db, &st, &err);
        hpf_db_rollback(db);
    }
    double secs = seconds_since(&t0);
    close_env(&e);
    if (rc == HPF_ECONFLICT) {
        fprintf(stderr, "hpf audit verify: FAILED: %s", err.msg);
        if (st.problems > 1)
            fprintf(stderr, " (and %lld more problem%s)", (long long)st.problems - 1,
                    st.problems > 2 ? "s" : "");
        fputc('\n', stderr);
        return EXIT_FAIL;
    }
    if (rc < 0)
        return fail("audit verify", &err);
    double mbps = secs > 0 ? (double)st.bytes / secs / 1e6 : 0;
    printf("hpf audit verify: ok (%lld entries, head %.16s; %lld records and %lld postings match "
           "their entries, %lld older than the chain; %lld rows, %.1f MB hashed in %.2f s: "
           "%.0f rows/s, %.1f MB/s = %.2f of raw SM3 at %.1f MB/s)\n",
           (long long)st.entries, st.head, (long long)st.records, (long long)st.postings,
           (long long)st.uncovered, (long long)st.rows, (double)st.bytes / 1e6, secs,
           secs > 0 ? (double)st.rows / secs : 0, mbps, raw > 0 ? mbps * 1e6 / raw : 0, raw / 1e6);
    return EXIT_OK;
}

/* ---- routes ---- */

static int cmd_routes(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: hpf routes\n\nList the API routes with the roles each admits, one per "
               "line:\nMETHOD PATTERN ROLES (roles comma-separated, or 'public').\n");
        return EXIT_OK;
    }
    if (argc > 1)
        return usage_error("routes", "unexpected argument '%s'", argv[1]);
    static const hpf_role all[] = {HPF_ROLE_MEMBER, HPF_ROLE_AGENT, HPF_ROLE_OPERATOR};
    hpf_svc none = {0};
    size_t n;
    const hpf_http_route *r = hpf_api_routes(&none, &n);
    for (size_t i = 0; i < n; i++) {
        unsigned roles = hpf_api_route_roles(&r[i]);
        printf("%s %s ", r[i].method, r[i].pattern);
        if (!roles)
            fputs("public", stdout);
        for (size_t k = 0, first = 1; k < sizeof all / sizeof all[0]; k++)
            if (roles & (unsigned)all[k]) {
                printf("%s%s", first ? "" : ",", hpf_role_name(all[k]));
                first = 0;
            }
        putchar('\n');
    }
    return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") != 0)
        return usage_error("version", "unexpected argument '%s'", argv[1]);
    if (argc > 1) {
        printf("usage: hpf version\n\nPrint the version.\n");
        return EXIT_OK;
    }
    printf("hpf %s\n", HPF_VERSION);
    return EXIT_OK;
}

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "serve the API and the web pages over HTTPS"},
    {"migrate", cmd_migrate, "apply database migrations"},
    {"demo", cmd_demo, "fill an empty database with a demo population"},
    {"verify", cmd_verify, "check the ledger invariants (exit 1 naming the first violation)"},
    {"audit", cmd_audit, "verify the SM3 audit chain and the records it covers (audit verify)"},
    {"calc", cmd_calc, "business calculations (calc contribution ...)"},
    {"user", cmd_user, "manage logins (user add-operator ...)"},
    {"routes", cmd_routes, "list the API routes and the roles each admits"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hpf COMMAND [options]\n\nHPF, the housing provident fund platform.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'hpf COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
    opterr = 0; /* usage_error says it once, in our words */
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hpf: unknown command '%s' (see 'hpf --help')\n", argv[1]);
    return EXIT_USAGE;
}
