/*
 * main: the `hpf` command. One binary is the HTTPS server and the operator's command line:
 * serve, migrate, demo, verify, audit, calc, user, totp, outbox, routes, version. Exit codes:
 * 0 ok, 1 failure, 2 bad usage or input.
 */
#include "api/api.h"
#include "base/date.h"
#include "base/log.h"
#include "base/money.h"
#include "base/parse.h"
#include "base/rand.h"
#include "domain/contribution.h"
#include "domain/interest.h"
#include "http/server.h"
#include "http/tlscert.h"
#include "jobs/jobs.h"
#include "ledger/chart.h"
#include "ledger/verify.h"
#include "main/config.h"
#include "main/ledger_cmd.h"
#include "peers/sms.h"
#include "service/demo.h"
#include "service/svc.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/outbox.h"
#include "trust/audit.h"
#include "trust/checkpoint.h"
#include "trust/digest.h"
#include "trust/sm2.h"
#include "trust/keys.h"
#include "trust/totp.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
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
    OPT_JOBS,
    OPT_SESSION_IDLE,
    OPT_SESSION_MAX,
    OPT_STEP_UP,
    OPT_LOCKOUT_BASE,
};

/* Options of the outbox command and the peers settings of serve. */
enum { OPT_PEERS = 2000, OPT_PEERS_CA, OPT_STATUS, OPT_LIMIT, OPT_JSON, OPT_TO, OPT_WAIT };

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
    hpf_keys *keys; /* field-encryption keys (NULL: not loaded), lent to svc */
    /* DATA_DIR/keys, for the SM2 keys (lent to svc) */
    char keys_dir[600];
} env;

/* ---- field-encryption keys (trust/keys.h, docs/internals/crypto.md) ---- */

typedef enum {
    KEYS_OPTIONAL, /* load when usable; commands that never read an encrypted field */
    KEYS_ENSURE,   /* create when absent and nothing is encrypted yet: the commands that
                      write encrypted fields (migrate, demo, serve, user) */
    KEYS_REQUIRED, /* the key file must exist (hpf keys) */
} keys_mode;

static keys_mode keys_mode_of(const char *cmd)
{
    static const char *const ensure[] = {"serve", "migrate", "demo", "user"};
    for (size_t i = 0; i < sizeof ensure / sizeof ensure[0]; i++)
        if (!strcmp(cmd, ensure[i]))
            return KEYS_ENSURE;
    return strncmp(cmd, "keys", 4) == 0 ? KEYS_REQUIRED : KEYS_OPTIONAL;
}

/* Load the key file of DATA_DIR/keys (or create it, by mode), check that it holds every key
 * version the database uses, then finish the schema 4 upgrade: personal fields still in clear
 * are encrypted. A database with encrypted fields never gets a new key file: it could not read
 * them, and that must be a loud failure, not a silent one. */
static int open_keys(env *e, const char *cmd, keys_mode mode)
{
    hpf_err err = HPF_ERR_INIT;
    char dir[600];
    bool any = false;
    snprintf(dir, sizeof dir, "%s/keys", e->cfg.data_dir);
    int rc = hpf_keys_load(&e->keys, dir, &err);
    if (rc == HPF_ENOTFOUND) {
        hpf_err_clear(&err);
        if (hpf_member_fields_keys_cover(&e->svc, &any, &err) < 0)
            return fail(cmd, &err);
        if (mode == KEYS_REQUIRED || (mode == KEYS_ENSURE && any)) {
            fprintf(stderr, "hpf %s: no key file %s/%s%s\n", cmd, dir, HPF_KEYS_FILE,
                    any ? ", but the database holds encrypted personal fields: restore the key "
                          "file from its backup (a new key could not read them)"
                        : "");
            return EXIT_FAIL;
        }
        if (mode == KEYS_OPTIONAL)
            return EXIT_OK; /* verify and audit verify need no key (nor do forged copies) */
        if (hpf_keys_create(&e->keys, dir, &err) < 0)
            return fail(cmd, &err);
        hpf_log(HPF_LOG_INFO, "keys.created",
                "created the field-encryption key file %s (key version v1): back it up apart "
                "from the database",
                hpf_keys_path(e->keys));
    } else if (rc < 0 && mode == KEYS_OPTIONAL) {
        hpf_log(HPF_LOG_WARN, "keys.unusable", "%s (not needed here: going on without it)",
                err.msg);
        return EXIT_OK;
    } else if (rc < 0) {
        return fail(cmd, &err);
    }
    e->svc.keys = e->keys;
    rc = hpf_member_fields_keys_cover(&e->svc, &any, &err);
    if (rc == HPF_ENOTFOUND && mode != KEYS_ENSURE) {
        /* hpf keys status shows the rows; verify and audit verify need no key. */
        hpf_log(HPF_LOG_WARN, "keys.version_missing", "%s", err.msg);
        return EXIT_OK;
    }
    if (rc < 0)
        return fail(cmd, &err);
    int64_t done = 0;
    if (hpf_member_fields_protect(&e->svc, &done, &err) < 0)
        return fail(cmd, &err);
    if (done)
        hpf_log(HPF_LOG_INFO, "keys.upgraded",
                "encrypted the resident IDs and phones of %lld members that the upgrade to "
                "schema 4 found in clear, and purged the clear values from free space",
                (long long)done);
    return EXIT_OK;
}

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
        /* The baseline chart of accounts is data (data/chart-1999.csv, built in), loaded the
         * first time a database has none. */
        if (hpf_store_conn(e->store, &db, &err) < 0 || hpf_migrate(db, NULL, &err) < 0 ||
            hpf_chart_ensure_baseline(db, NULL, &err) < 0) {
            hpf_store_free(e->store);
            e->store = NULL;
            return fail(cmd, &err);
        }
    }
    e->svc = (hpf_svc){.store = e->store,
                       .business_date = bd,
                       .today = hpf_day_today_utc,
                       .session_idle_s = e->cfg.session_idle_s,
                       .session_max_s = e->cfg.session_max_s,
                       .session_step_up_s = e->cfg.session_step_up_s,
                       .lockout_base_s = e->cfg.lockout_base_s,
                       .outbox_keep_s = e->cfg.outbox_keep_days * 86400};
    memcpy(e->svc.centre, e->cfg.centre, sizeof e->svc.centre - 1);
    snprintf(e->keys_dir, sizeof e->keys_dir, "%s/keys", e->cfg.data_dir);
    e->svc.keys_dir = e->keys_dir;
    if (migrate) {
        int rc = open_keys(e, cmd, keys_mode_of(cmd));
        if (rc != EXIT_OK) {
            hpf_keys_free(e->keys);
            e->keys = NULL;
            hpf_store_free(e->store);
            e->store = NULL;
            return rc;
        }
    }
    return EXIT_OK;
}

/* The SM2 keys (trust/sm2.h): the centre's seal key, made on first use, and a key pair for
 * every operator that has none on this server. Each key made is said in the log. */
static int ensure_sm2_keys(env *e, const char *cmd)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    bool created = false;
    int64_t made = 0;
    char id[HPF_SM2_KEY_ID_LEN + 1] = "";
    if (hpf_store_conn(e->store, &db, &err) < 0 ||
        hpf_sm2_centre_ensure(db, e->keys_dir, &created, id, &err) < 0 ||
        hpf_sm2_operators_ensure(db, e->keys_dir, &made, &err) < 0)
        return fail(cmd, &err);
    if (created)
        hpf_log(HPF_LOG_INFO, "keys.seal_created",
                "created the centre's SM2 seal key %s/%s (key id %s)", e->keys_dir,
                HPF_SM2_CENTRE_FILE, id);
    if (made)
        hpf_log(HPF_LOG_INFO, "keys.operator_created",
                "created SM2 key pairs for %lld operator%s in %s/operators", (long long)made,
                made == 1 ? "" : "s", e->keys_dir);
    return EXIT_OK;
}

static void close_env(env *e)
{
    hpf_store_free(e->read_store);
    e->read_store = NULL;
    hpf_store_free(e->store);
    e->store = NULL;
    hpf_keys_free(e->keys); /* wipes the keys */
    e->keys = NULL;
    e->svc.keys = NULL;
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
    static const struct option opts[] = {
        COMMON_OPTS,
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"web-dir", required_argument, NULL, OPT_WEB_DIR},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"read-db", required_argument, NULL, OPT_READ_DB},
        {"job-tick", required_argument, NULL, OPT_JOB_TICK},
        {"peers", required_argument, NULL, OPT_PEERS},
        {"peers-ca", required_argument, NULL, OPT_PEERS_CA},
        {"session-idle-s", required_argument, NULL, OPT_SESSION_IDLE},
        {"session-max-s", required_argument, NULL, OPT_SESSION_MAX},
        {"session-step-up-s", required_argument, NULL, OPT_STEP_UP},
        {"lockout-base-s", required_argument, NULL, OPT_LOCKOUT_BASE},
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
        case OPT_PEERS:
            fl.peers = optarg;
            break;
        case OPT_PEERS_CA:
            fl.peers_ca = optarg;
            break;
        case OPT_SESSION_IDLE:
            fl.session_idle_s = optarg;
            break;
        case OPT_SESSION_MAX:
            fl.session_max_s = optarg;
            break;
        case OPT_STEP_UP:
            fl.session_step_up_s = optarg;
            break;
        case OPT_LOCKOUT_BASE:
            fl.lockout_base_s = optarg;
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
                "HPF_JOB_TICK)\n"
                "  --peers URL          https base URL of the outside peers (SMS, notary), e.g.\n"
                "                       hpf-sim's; without it outbox messages stay queued (env\n"
                "                       HPF_PEERS)\n"
                "  --peers-ca FILE      PEM certificate(s) to trust for the peers (default: the\n"
                "                       system's; env HPF_PEERS_CA)\n"
                "  --session-idle-s S   idle logout (default 1800; env HPF_SESSION_IDLE_S)\n"
                "  --session-max-s S    absolute session lifetime (default 28800; env "
                "HPF_SESSION_MAX_S)\n"
                "  --session-step-up-s S  money actions want a second factor proven within S\n"
                "                       seconds (default 300; env HPF_SESSION_STEP_UP_S)\n"
                "  --lockout-base-s S   first lock after 5 failed logins, doubling with each\n"
                "                       further failure up to 1 h (default 60; env "
                "HPF_LOCKOUT_BASE_S)\n" COMMON_HELP);
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
    if ((rc = ensure_sm2_keys(&e, "serve")) != EXIT_OK) {
        close_env(&e);
        return rc;
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
    hpf_api_throttle((unsigned)e.cfg.throttle_per_min, (unsigned)e.cfg.throttle_burst,
                     e.cfg.trusted_proxies);
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
    hpf_dispatch_config dc = {.peers_url = e.cfg.peers, .peers_ca = e.cfg.peers_ca};
    if (hpf_jobs_start(&jobs, &e.svc, e.cfg.job_tick, &dc, &err) < 0) {
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
        hpf_chart_ensure_baseline(db, NULL, &err) < 0 ||
        hpf_migrate_version(db, &version, &err) < 0) {
        close_env(&e);
        return fail("migrate", &err);
    }
    if ((rc = open_keys(&e, "migrate", KEYS_ENSURE)) != EXIT_OK) {
        close_env(&e);
        return rc;
    }
    printf("hpf: schema version %d (%d migration%s applied)\n", version, applied,
           applied == 1 ? "" : "s");
    rc = ensure_sm2_keys(&e, "migrate");
    close_env(&e);
    return rc;
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
                   "USERNAME PASSWORD [TOTP_SECRET_BASE32]; `hpf totp` gives the code).\n\n"
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
    if (rc < 0) {
        close_env(&e);
        fprintf(stderr, "hpf demo: %s\n", err.msg);
        return EXIT_FAIL;
    }
    rc = ensure_sm2_keys(&e, "demo");
    close_env(&e);
    if (rc != EXIT_OK)
        return rc;
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

/* Options of calc interest. */
enum {
    OPT_I_RATE = 3000,
    OPT_I_BASIS,
    OPT_I_FROM,
    OPT_I_TO,
    OPT_I_OPENING,
    OPT_I_POSTING,
    OPT_I_RATE_CHANGE,
    OPT_I_LEAP_366,
    OPT_I_INTEREST_HELP,
};

/* Caps on what the command line can ask for (argv is bounded anyway; these keep it on the
 * stack). */
#define CALC_MAX_POSTINGS     1000
#define CALC_MAX_RATE_CHANGES 50

static const char calc_interest_help[] =
    "usage: hpf calc interest --rate R --basis 360|365 --from DATE --to DATE --opening AMOUNT\n"
    "                         [--posting DATE:SIGNED_AMOUNT]... [--rate-change DATE:R]...\n"
    "                         [--leap-366]\n\n"
    "Interest by the balance-day product (jishu) method, RULES 2: the sum of the end-of-day\n"
    "balances of --from..--to (both days counted; a posting counts from its own day) times\n"
    "the annual rate R in percent (\"1.5\"), split at each --rate-change (its rate applies\n"
    "from DATE on), divided by the day basis and rounded half-up to the fen once.\n"
    "--leap-366 turns the 365 basis into 366 for the days of an interest year (1 July ..\n"
    "30 June) that contains 29 February. AMOUNT and SIGNED_AMOUNT in yuan (\"27000.00\",\n"
    "\"-5000\"), dates YYYY-MM-DD; postings may come in any order and must fall inside the\n"
    "period. For a closing (I-8) give --to the day before the closing posting.\n"
    "Prints {\"jishu\",\"interest\",\"closing\"} as decimal strings: yuan-days, yuan, and the\n"
    "balance at --to plus the interest.\n";

static int by_posting_day(const void *a, const void *b)
{
    const hpf_interest_posting *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static int by_step_day(const void *a, const void *b)
{
    const hpf_interest_rate *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

/* Split "YYYY-MM-DD:REST" at its colon; false if there is none or the date is bad. */
static bool dated_arg(const char *s, hpf_day *day, const char **rest)
{
    char date[11];
    const char *colon = strchr(s, ':');
    if (!colon || colon - s != 10)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (hpf_day_parse(day, date) < 0)
        return false;
    *rest = colon + 1;
    return true;
}

static int calc_interest(int argc, char **argv)
{
    static const char *cmd = "calc interest";
    static const struct option opts[] = {
        {"rate", required_argument, NULL, OPT_I_RATE},
        {"basis", required_argument, NULL, OPT_I_BASIS},
        {"from", required_argument, NULL, OPT_I_FROM},
        {"to", required_argument, NULL, OPT_I_TO},
        {"opening", required_argument, NULL, OPT_I_OPENING},
        {"posting", required_argument, NULL, OPT_I_POSTING},
        {"rate-change", required_argument, NULL, OPT_I_RATE_CHANGE},
        {"leap-366", no_argument, NULL, OPT_I_LEAP_366},
        {"help", no_argument, NULL, OPT_I_INTEREST_HELP},
        {0}};
    hpf_interest_posting postings[CALC_MAX_POSTINGS];
    hpf_interest_rate steps[1 + CALC_MAX_RATE_CHANGES];
    size_t np = 0, nsteps = 1;
    bool have_rate = false, have_from = false, have_to = false, have_opening = false;
    hpf_interest_basis basis = {0};
    hpf_day from = 0, to = 0;
    hpf_fen opening = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_I_RATE:
            if (hpf_interest_rate_parse(&steps[0].rate, optarg) < 0)
                return usage_error(cmd,
                                   "--rate '%s' must be a percentage such as 1.5 (0 to 100, "
                                   "at most five decimals)",
                                   optarg);
            have_rate = true;
            break;
        case OPT_I_BASIS:
            if (strcmp(optarg, "360") != 0 && strcmp(optarg, "365") != 0)
                return usage_error(cmd, "--basis must be 360 or 365");
            basis.days = strcmp(optarg, "360") == 0 ? 360 : 365;
            break;
        case OPT_I_FROM:
        case OPT_I_TO:
            if (hpf_day_parse(c == OPT_I_FROM ? &from : &to, optarg) < 0)
                return usage_error(cmd, "%s '%s' is not a date YYYY-MM-DD",
                                   c == OPT_I_FROM ? "--from" : "--to", optarg);
            *(c == OPT_I_FROM ? &have_from : &have_to) = true;
            break;
        case OPT_I_OPENING:
            if (hpf_money_parse(&opening, optarg, -HPF_MONEY_MAX, HPF_MONEY_MAX) < 0)
                return usage_error(cmd, "--opening '%s' must be an amount in yuan", optarg);
            have_opening = true;
            break;
        case OPT_I_POSTING: {
            hpf_day d;
            const char *amount;
            if (np == CALC_MAX_POSTINGS)
                return usage_error(cmd, "at most %d --posting", CALC_MAX_POSTINGS);
            if (!dated_arg(optarg, &d, &amount) ||
                hpf_money_parse(&postings[np].amount,
                                amount + (amount[0] == '+' && amount[1] != '-'), -HPF_MONEY_MAX,
                                HPF_MONEY_MAX) < 0)
                return usage_error(cmd,
                                   "--posting '%s' must be DATE:SIGNED_AMOUNT, e.g. "
                                   "2022-03-10:-5000.00",
                                   optarg);
            postings[np++].day = d;
            break;
        }
        case OPT_I_RATE_CHANGE: {
            const char *rate;
            if (nsteps == 1 + CALC_MAX_RATE_CHANGES)
                return usage_error(cmd, "at most %d --rate-change", CALC_MAX_RATE_CHANGES);
            if (!dated_arg(optarg, &steps[nsteps].from, &rate) ||
                hpf_interest_rate_parse(&steps[nsteps].rate, rate) < 0)
                return usage_error(cmd, "--rate-change '%s' must be DATE:R, e.g. 2022-01-01:2.0",
                                   optarg);
            nsteps++;
            break;
        }
        case OPT_I_LEAP_366:
            basis.leap_366 = true;
            break;
        case OPT_I_INTEREST_HELP:
            fputs(calc_interest_help, stdout);
            return EXIT_OK;
        default:
            return usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!have_rate || basis.days == 0 || !have_from || !have_to || !have_opening)
        return usage_error(cmd, "--rate, --basis, --from, --to and --opening are all required");
    if (basis.leap_366 && basis.days != 365)
        return usage_error(cmd, "--leap-366 applies to --basis 365 only");
    if (from > to)
        return usage_error(cmd, "--to is before --from");
    /* --rate is in force from the first day; each change from its own date on. */
    steps[0].from = from;
    qsort(steps + 1, nsteps - 1, sizeof steps[0], by_step_day);
    for (size_t i = 1; i < nsteps; i++) {
        char d[11];
        if (steps[i].from <= from || steps[i].from > to)
            return usage_error(cmd, "--rate-change %s must fall after --from and on or before --to",
                               hpf_day_fmt(d, steps[i].from));
        if (steps[i].from == steps[i - 1].from)
            return usage_error(cmd, "two --rate-change on %s", hpf_day_fmt(d, steps[i].from));
    }
    qsort(postings, np, sizeof postings[0], by_posting_day);
    hpf_interest_schedule sched = {steps, nsteps};
    hpf_interest_result r;
    hpf_err err = HPF_ERR_INIT;
    if (hpf_interest_compute(&r, opening, from, to, postings, np, &sched, &basis, &err) < 0) {
        fprintf(stderr, "hpf %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    /* The 积数 in fen·days is yuan·days with two decimals, formatted as money is. */
    char j[24], i[24], cl[24];
    printf("{\"jishu\":\"%s\",\"interest\":\"%s\",\"closing\":\"%s\"}\n", hpf_money_fmt(j, r.jishu),
           hpf_money_fmt(i, r.interest), hpf_money_fmt(cl, r.closing));
    return EXIT_OK;
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
        fprintf(argc < 2 ? stderr : stdout, "\n%s", calc_interest_help);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "interest"))
        return calc_interest(argc - 1, argv + 1);
    if (strcmp(argv[1], "contribution") != 0)
        return usage_error("calc", "unknown calculation '%s' (try contribution or interest)",
                           argv[1]);
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
        "usage: hpf user add-operator|add-admin --username U [--name NAME] [options]\n\n"
        "Create an operator login, or an administrator's (who manages logins over the API and\n"
        "nothing else; the first one is made here). The password is read from the first line\n"
        "of standard input (10+ characters, three of: lower, upper, digit, symbol; not\n"
        "containing the username). Prints the login's TOTP secret once, as an otpauth:// URI\n"
        "for an authenticator app (RFC 6238: SHA1, 6 digits, 30 s); it is needed at every\n"
        "login.\n\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    bool admin = !strcmp(argv[1], "add-admin");
    if (!admin && strcmp(argv[1], "add-operator") != 0)
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
    char uri[HPF_TOTP_URI_LEN] = "";
    int64_t uid = 0;
    rc = hpf_store_conn(e.store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin(db, &err)) == 0) {
        hpf_user_new un = {.role = admin ? HPF_ROLE_ADMIN : HPF_ROLE_OPERATOR,
                           .username = username,
                           .password = pw,
                           .display_name = name ? name : username};
        rc = hpf_user_create(&e.svc, db, 0, &un, &uid, uri, &err);
        /* The operator's SM2 key pair for signing approvals (trust/sm2.h); administrators
         * approve nothing. */
        if (rc == 0 && !admin)
            rc = hpf_sm2_operator_create(db, e.keys_dir, uid, NULL, &err);
        if (rc == 0)
            rc = hpf_db_commit(db, &err);
        else
            hpf_db_rollback(db);
    }
    memset(pw, 0, sizeof pw);
    close_env(&e);
    if (rc < 0)
        return fail("user", &err);
    printf("hpf: %s %s created\n"
           "hpf: TOTP secret (shown once; add it to an authenticator app):\n%s\n",
           admin ? "administrator" : "operator", username, uri);
    memset(uri, 0, sizeof uri);
    return EXIT_OK;
}

/* ---- totp ---- */

static int cmd_totp(int argc, char **argv)
{
    const char *help =
        "usage: hpf totp SECRET_BASE32\n\n"
        "Print the current 6-digit TOTP code (RFC 6238: HMAC-SHA1, 30 s steps) of a secret,\n"
        "as an authenticator app would show it. A calculator for demo and test logins without\n"
        "an authenticator app: whoever holds the secret can log in, so keep real secrets in an\n"
        "app, not in a shell history.\n";
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc == 2 ? stdout : stderr);
        return argc == 2 ? EXIT_OK : EXIT_USAGE;
    }
    unsigned char key[HPF_TOTP_KEY_MAX];
    int n = hpf_base32_decode(key, sizeof key, argv[1]);
    if (n <= 0)
        return usage_error("totp", "the secret is not base32 of 1 to %d bytes", HPF_TOTP_KEY_MAX);
    char code[7];
    hpf_totp_code(code, key, (size_t)n, (int64_t)time(NULL));
    memset(key, 0, sizeof key);
    printf("%s\n", code);
    return EXIT_OK;
}

/* ---- verify ---- */

static int cmd_verify(int argc, char **argv)
{
    hpf_config_flags fl = {0};
    int rc = parse_common_only(
        argc, argv, "verify",
        "usage: hpf verify [options]\n\nRecompute the ledger invariants from posted data: "
        "balanced vouchers on subjects of the chart\nin force, member balances equal to their "
        "postings, the control account 201 equal to\nthe member and the employer sub-ledgers, "
        "the balance-sheet identity, vouchers that\nfollow their templates, remittances equal to "
        "their vouchers and postings, reversals\nthat mirror their originals "
        "(ledger/verify.h).\nExit 0 when all hold; 1 naming the first violation.\n\n" COMMON_HELP,
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

/* One core's SM3 speed on this machine now: the best of five passes over 16 MiB already in
 * memory (the best, because a pass can only be slowed by other work, never sped up). */
static double sm3_raw_speed(void)
{
    size_t n = (size_t)16 << 20;
    unsigned char *p = malloc(n), md[HPF_SM3_LEN];
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 2654435761u >> 24);
    hpf_sm3 *h = hpf_sm3_new();
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        hpf_sm3_update(h, p, n);
        hpf_sm3_final(h, md);
        double s = seconds_since(&t0);
        if (s > 0 && (double)n / s > best)
            best = (double)n / s;
    }
    hpf_sm3_free(h);
    free(p);
    return best;
}

/* ---- audit checkpoint (trust/checkpoint.h) ---- */

enum { OPT_THROUGH = 3000 };

static int cmd_audit_checkpoint(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTS, {"through", required_argument, NULL, OPT_THROUGH}, {0}};
    const char *help =
        "usage: hpf audit checkpoint [--through YYYY-MM-DD] [options]\n\n"
        "Sign the daily checkpoints of the audit chain that are due, as the checkpoint job of\n"
        "hpf serve does: for each closed day (Asia/Shanghai) with entries that no checkpoint\n"
        "covers, oldest first, the Merkle root (SM3) of its entries, signed with the centre's\n"
        "SM2 seal key (DATA_DIR/keys/centre-sm2.pem, made when missing). Idempotent.\n\n"
        "  --through D          checkpoint days up to D (default: the last closed day by the\n"
        "                       wall clock). A later D closes days early (tests, demos);\n"
        "                       entries stamped on such a day afterwards go into the next\n"
        "                       day's checkpoint.\n" COMMON_HELP;
    hpf_config_flags fl = {0};
    hpf_day through = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (c == OPT_THROUGH && hpf_day_parse(&through, optarg) == 0)
            continue;
        return usage_error("audit checkpoint", "bad option or value: '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return usage_error("audit checkpoint", "unexpected argument '%s'", argv[optind]);
    if (!through)
        through = hpf_checkpoint_closed_through((int64_t)time(NULL));
    env e;
    int rc = open_env(&e, "audit checkpoint", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = ensure_sm2_keys(&e, "audit checkpoint")) != EXIT_OK) {
        close_env(&e);
        return rc;
    }
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    hpf_sm2_key *seal = NULL;
    hpf_checkpoint last;
    int64_t written = 0;
    rc = hpf_store_conn(e.store, &db, &err);
    if (rc == 0)
        rc = hpf_sm2_centre_load(e.keys_dir, &seal, &err);
    if (rc == 0)
        rc = hpf_checkpoint_run(db, seal, e.svc.centre, through, &written, &last, &err);
    hpf_sm2_free(seal);
    close_env(&e);
    if (rc < 0)
        return fail("audit checkpoint", &err);
    char t[11], d[11];
    hpf_day_fmt(t, through);
    if (!written)
        printf("hpf audit checkpoint: nothing due through %s\n", t);
    else
        printf("hpf audit checkpoint: %lld checkpoint%s signed through %s; the last: %s, entries "
               "%lld..%lld, root %s, centre key %s\n",
               (long long)written, written == 1 ? "" : "s", t, hpf_day_fmt(d, last.day),
               (long long)last.first_seq, (long long)last.last_seq, last.root, last.key_id);
    return EXIT_OK;
}

/* hpf audit verify, second part: the signed checkpoints, in a read snapshot of their own. */
static int verify_checkpoints(env *e, hpf_checkpoint_stats *cs, hpf_err *err)
{
    hpf_db *db;
    int rc = hpf_store_conn(e->store, &db, err);
    if (rc == 0 && (rc = hpf_db_begin_read(db, err)) == 0) {
        rc = hpf_checkpoint_verify(db, cs, err);
        hpf_db_rollback(db);
    }
    return rc;
}

static int cmd_audit(int argc, char **argv)
{
    const char *help =
        "usage: hpf audit verify [options]\n"
        "       hpf audit checkpoint [--through YYYY-MM-DD] [options]\n\n"
        "Recompute the SM3 audit chain and check every audited record against it, in one read\n"
        "snapshot: the chain has no gap, each entry hashes to its hash and links to the one\n"
        "before, the head is its last entry, and every employer, member, login and remittance\n"
        "(with its voucher lines and postings) equals the payload of its latest entry.\n"
        "Exit 0 with the counts and the throughput next to the raw SM3 speed of one core\n"
        "measured in the same run; 1 naming the first problem in chain order (entry seq,\n"
        "record, field). Then every signed daily checkpoint: its range follows the one before,\n"
        "its Merkle root recomputes from the entry hashes, its SM2 signature verifies with a\n"
        "recorded centre key, and it equals its own chain entry (a second line counts them;\n"
        "exit 1 naming the first bad one). 'hpf audit checkpoint --help' tells more.\n\n"
        "  --jobs N             connections reading in parallel, 1-8 (default: one per\n"
        "                       processor when there are 50,000 postings per "
        "processor)\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "checkpoint"))
        return cmd_audit_checkpoint(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") != 0)
        return usage_error("audit", "unknown subcommand '%s' (try verify or checkpoint)", argv[1]);
    hpf_config_flags fl = {0};
    static const struct option opts[] = {
        COMMON_OPTS, {"jobs", required_argument, NULL, OPT_JOBS}, {0}};
    int c, jobs = 0;
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        int64_t v;
        if (c == OPT_JOBS && hpf_parse_i64(&v, optarg, 1, HPF_AUDIT_MAX_JOBS) == 0) {
            jobs = (int)v;
            continue;
        }
        return usage_error("audit verify", "bad option or value: '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return usage_error("audit verify", "unexpected argument '%s'", argv[optind]);
    env e;
    int rc = open_env(&e, "audit verify", &fl, true);
    if (rc != EXIT_OK)
        return rc;
    double raw = sm3_raw_speed();
    hpf_err err = HPF_ERR_INIT;
    hpf_audit_stats st = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = hpf_audit_verify_store(e.store, jobs, &st, &err);
    double secs = seconds_since(&t0);
    hpf_checkpoint_stats cs = {0};
    if (rc == 0 || rc == HPF_ECONFLICT) {
        /* A chain problem comes first; the checkpoints' problems are counted with it. */
        hpf_err cerr = HPF_ERR_INIT;
        int crc = verify_checkpoints(&e, &cs, &cerr);
        if (rc == 0 && crc < 0) {
            rc = crc;
            err = cerr;
        }
        st.problems += cs.problems;
    }
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
    if (cs.checkpoints) {
        char a[11], b[11];
        printf("hpf audit verify: %lld checkpoint%s ok (%s..%s, %lld entries; roots recomputed, "
               "SM2 signatures verified; last root %.16s)\n",
               (long long)cs.checkpoints, cs.checkpoints == 1 ? "" : "s",
               hpf_day_fmt(a, cs.first_day), hpf_day_fmt(b, cs.last_day), (long long)cs.leaves,
               cs.last_root);
    }
    return EXIT_OK;
}

/* ---- outbox ---- */

/* Unix seconds as "2026-11-15T08:00:00Z" (UTC), or "-" for 0. */
static const char *utc(char out[32], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "-");
    return out;
}

/* JSON text as a value (a string when it does not parse; null when empty). */
static json_t *json_or_text(const char *s)
{
    if (!s || !*s)
        return json_null();
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(s);
}

static void outbox_print(const hpf_outbox_msg *m, bool as_json)
{
    char next[32], made[32], sent[32];
    if (as_json) {
        json_t *o = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:I, s:s?, s:s, s:s?, s:s, s:o, s:o}", "id",
            (json_int_t)m->id, "status", hpf_outbox_status_name(m->status), "peer", m->peer,
            "topic", m->topic, "idem_key", m->idem_key, "attempts", (json_int_t)m->attempts,
            "next_at", m->status == HPF_OUTBOX_QUEUED ? utc(next, m->next_at) : NULL, "created_at",
            utc(made, m->created_at), "sent_at", m->sent_at ? utc(sent, m->sent_at) : NULL,
            "last_error", m->last_error, "payload", json_or_text(m->payload), "reply",
            json_or_text(m->reply));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s)
            puts(s);
        free(s);
        json_decref(o);
        return;
    }
    printf("%-7lld %-6s %-7s %-16s %8lld  %-20s %-24s %s\n", (long long)m->id,
           hpf_outbox_status_name(m->status), m->peer, m->topic, (long long)m->attempts,
           m->status == HPF_OUTBOX_QUEUED ? utc(next, m->next_at) : "-", m->idem_key,
           m->last_error);
}

static int outbox_list(env *e, bool filter, hpf_outbox_status status, int64_t limit, bool as_json)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    hpf_outbox_msg *msgs = NULL;
    size_t n = 0;
    int rc = hpf_store_conn(e->store, &db, &err);
    if (rc == 0)
        rc = hpf_outbox_list(db, filter, status, (size_t)limit, &msgs, &n, &err);
    if (rc < 0)
        return fail("outbox list", &err);
    if (!as_json)
        printf("%-7s %-6s %-7s %-16s %8s  %-20s %-24s %s\n", "ID", "STATUS", "PEER", "TOPIC",
               "ATTEMPTS", "NEXT_TRY", "KEY", "LAST_ERROR");
    for (size_t i = 0; i < n; i++)
        outbox_print(&msgs[i], as_json);
    hpf_outbox_msgs_free(msgs, n);
    return EXIT_OK;
}

static int outbox_retry(env *e, int64_t id)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    int rc = hpf_store_conn(e->store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin(db, &err)) == 0) {
        rc = hpf_outbox_retry(db, id, (int64_t)time(NULL), &err);
        if (rc == 0)
            rc = hpf_db_commit(db, &err);
        else
            hpf_db_rollback(db);
    }
    if (rc < 0)
        return fail("outbox retry", &err);
    printf("hpf outbox: message %lld is due now\n", (long long)id);
    return EXIT_OK;
}

/* Enqueue a test SMS and watch it (through the database) until a server has sent it. */
static int outbox_ping(env *e, const char *to, int64_t wait_s)
{
    hpf_err err = HPF_ERR_INIT;
    char *payload = NULL, key[48], tag[17], when[32];
    unsigned char r[8];
    hpf_rand_bytes(r, sizeof r);
    hpf_hex(tag, r, sizeof r);
    snprintf(key, sizeof key, "ping-%s", tag);
    char text[128];
    snprintf(text, sizeof text, "HPF connectivity check %s (%s)", utc(when, (int64_t)time(NULL)),
             tag);
    if (hpf_sms_message(&payload, to, "ops.ping", NULL, text, &err) < 0)
        return usage_error("outbox ping", "--to %s: %s", to, err.msg);
    hpf_db *db;
    int64_t id = 0;
    int rc = hpf_store_conn(e->store, &db, &err);
    if (rc == 0 && (rc = hpf_db_begin(db, &err)) == 0) {
        rc = hpf_outbox_enqueue(db, "sms", "sms.ping", key, payload, &id, &err);
        if (rc == 0)
            rc = hpf_db_commit(db, &err);
        else
            hpf_db_rollback(db);
    }
    free(payload);
    if (rc < 0)
        return fail("outbox ping", &err);
    printf("hpf outbox ping: message %lld queued for sms %s (key %s)\n", (long long)id, to, key);
    fflush(stdout);
    if (wait_s == 0)
        return EXIT_OK;
    struct timespec t0, tick = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hpf_outbox_msg m = {0};
    for (;;) {
        if ((rc = hpf_outbox_get(db, id, &m, &err)) < 0)
            return fail("outbox ping", &err);
        if (m.status != HPF_OUTBOX_QUEUED || seconds_since(&t0) >= (double)wait_s)
            break;
        hpf_outbox_msg_cleanup(&m);
        nanosleep(&tick, NULL);
    }
    int code = EXIT_OK;
    if (m.status == HPF_OUTBOX_SENT)
        printf("hpf outbox ping: delivered in %.1f s after %lld attempt%s; reply %s\n",
               seconds_since(&t0), (long long)m.attempts, m.attempts == 1 ? "" : "s", m.reply);
    else if (m.status == HPF_OUTBOX_DEAD) {
        fprintf(stderr, "hpf outbox ping: message %lld is dead: %s\n", (long long)id, m.last_error);
        code = EXIT_FAIL;
    } else {
        fprintf(stderr,
                "hpf outbox ping: not delivered within %lld s (attempts %lld%s%s); is `hpf serve "
                "--peers URL` running? The message stays queued (hpf outbox list).\n",
                (long long)wait_s, (long long)m.attempts, m.last_error[0] ? "; last error: " : "",
                m.last_error);
        code = EXIT_FAIL;
    }
    hpf_outbox_msg_cleanup(&m);
    return code;
}

static int cmd_outbox(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTS,
                                         {"status", required_argument, NULL, OPT_STATUS},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"wait", required_argument, NULL, OPT_WAIT},
                                         {0}};
    const char *help =
        "usage: hpf outbox list [--status queued|sent|dead] [--limit N] [--json] [options]\n"
        "       hpf outbox retry ID [options]\n"
        "       hpf outbox ping sms --to PHONE [--wait S] [options]\n\n"
        "The outbox holds the messages for the outside peers (SMS, notary), written with the\n"
        "business action that causes them and sent by `hpf serve --peers URL`.\n"
        "  list   the newest messages (--limit, default 50): id, status, peer, topic, attempts,\n"
        "         next try (UTC), key, last error; --json: one JSON object per line, with the\n"
        "         payload and the peer's reply\n"
        "  retry  make a queued message due now, or queue a dead one again (its attempts start\n"
        "         over); a sent message is refused\n"
        "  ping   connectivity check: queue a test SMS to PHONE and wait up to S seconds\n"
        "         (default 10; 0: do not wait) for a server to deliver it. Exit 0 when\n"
        "         delivered, 1 when not\n\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "list") != 0 && strcmp(sub, "retry") != 0 && strcmp(sub, "ping") != 0)
        return usage_error("outbox", "unknown subcommand '%s' (try list, retry, ping)", sub);
    char cmd[32];
    snprintf(cmd, sizeof cmd, "outbox %s", sub);
    hpf_config_flags fl = {0};
    const char *to = NULL;
    int64_t limit = 50, wait_s = 10;
    bool filter = false, as_json = false;
    hpf_outbox_status status = HPF_OUTBOX_QUEUED;
    int c;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        switch (c) {
        case OPT_STATUS:
            if (hpf_outbox_status_parse(&status, optarg) < 0)
                return usage_error(cmd, "--status must be queued, sent or dead");
            filter = true;
            break;
        case OPT_LIMIT:
            if (hpf_parse_i64(&limit, optarg, 1, 1000) < 0)
                return usage_error(cmd, "--limit must be 1..1000");
            break;
        case OPT_JSON:
            as_json = true;
            break;
        case OPT_TO:
            to = optarg;
            break;
        case OPT_WAIT:
            if (hpf_parse_i64(&wait_s, optarg, 0, 3600) < 0)
                return usage_error(cmd, "--wait must be 0..3600 seconds");
            break;
        case OPT_HELP:
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    int64_t id = 0;
    int want_args = strcmp(sub, "list") ? 1 : 0;
    if (argc - optind != want_args)
        return usage_error(cmd, !strcmp(sub, "retry")  ? "wants one message ID"
                                : !strcmp(sub, "ping") ? "wants the peer to ping (sms)"
                                                       : "takes no arguments");
    if (!strcmp(sub, "retry") && hpf_parse_i64(&id, argv[optind], 1, INT64_MAX) < 0)
        return usage_error(cmd, "message ID '%s' is not a positive integer", argv[optind]);
    if (!strcmp(sub, "ping")) {
        if (strcmp(argv[optind], "sms") != 0)
            return usage_error(cmd, "only sms can be pinged (a notary anchor is a legal record, "
                                    "not a test message)");
        if (!to)
            return usage_error(cmd, "--to PHONE is required");
    }
    env e;
    int rc = open_env(&e, cmd, &fl, true);
    if (rc != EXIT_OK)
        return rc;
    if (!strcmp(sub, "list"))
        rc = outbox_list(&e, filter, status, limit, as_json);
    else if (!strcmp(sub, "retry"))
        rc = outbox_retry(&e, id);
    else
        rc = outbox_ping(&e, to, wait_s);
    close_env(&e);
    return rc;
}

/* ---- keys ---- */

enum { OPT_KEYS_PREPARE = 3000, OPT_KEYS_LIMIT };

static int keys_status(env *e)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_fields_status st;
    if (hpf_member_fields_status(&e->svc, true, &st, &err) < 0)
        return fail("keys status", &err);
    int versions[HPF_KEYS_VERSIONS];
    size_t nv = hpf_keys_versions(e->keys, versions, HPF_KEYS_VERSIONS);
    int cur = hpf_keys_current(e->keys);
    printf("hpf keys status: %s\n", hpf_keys_path(e->keys));
    /* Every version in the file, then any in use that the file lacks. */
    for (size_t i = 0; i < nv; i++) {
        int64_t rows = 0;
        for (size_t j = 0; j < st.nversions; j++)
            if (st.v[j].version == versions[i])
                rows = st.v[j].rows;
        printf("version v%d%s: %lld rows\n", versions[i], versions[i] == cur ? " (current)" : "",
               (long long)rows);
    }
    for (size_t j = 0; j < st.nversions; j++)
        if (!hpf_keys_has(e->keys, st.v[j].version))
            printf("version v%d (NOT IN THE KEY FILE): %lld rows\n", st.v[j].version,
                   (long long)st.v[j].rows);
    printf("clear: %lld rows awaiting encryption\n", (long long)st.clear);
    printf("checked: %lld rows, %lld tampered, %lld unreadable\n", (long long)st.checked,
           (long long)st.tampered, (long long)st.unreadable);
    for (size_t i = 0; i < st.nshown; i++)
        fprintf(stderr, "hpf keys status: %s: %s\n", st.shown[i].who, st.shown[i].what);
    if (st.tampered || st.unreadable) {
        fprintf(stderr,
                "hpf keys status: FAILED: %lld rows fail their integrity check and %lld are under "
                "a key version the file lacks (a security incident: see docs/operations.md)\n",
                (long long)st.tampered, (long long)st.unreadable);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int keys_rotate(env *e, bool prepare, int64_t limit)
{
    hpf_err err = HPF_ERR_INIT;
    int v = 0;
    if (hpf_keys_lock(e->keys, &err) < 0)
        return fail("keys rotate", &err);
    if (prepare) {
        if (hpf_keys_add(e->keys, false, &v, &err) < 0)
            return fail("keys rotate", &err);
        printf("hpf keys rotate: added v%d (not current yet): copy %s to every server, restart "
               "them, then run hpf keys rotate\n",
               v, hpf_keys_path(e->keys));
        return EXIT_OK;
    }
    int cur = hpf_keys_current(e->keys), newest = hpf_keys_newest(e->keys);
    hpf_fields_status st;
    if (hpf_member_fields_status(&e->svc, false, &st, &err) < 0)
        return fail("keys rotate", &err);
    bool behind = false; /* rows on other versions: an earlier rotation did not finish */
    for (size_t i = 0; i < st.nversions; i++)
        behind |= st.v[i].version != cur && st.v[i].rows > 0;
    /* The file is rewritten (and synced) before any row is: a crash in between leaves a file
     * that reads every row. */
    if (newest > cur) {
        if (hpf_keys_set_current(e->keys, newest, &err) < 0)
            return fail("keys rotate", &err);
        printf("hpf keys rotate: v%d (prepared) is current now\n", newest);
    } else if (!behind) {
        if (hpf_keys_add(e->keys, true, &v, &err) < 0)
            return fail("keys rotate", &err);
        printf("hpf keys rotate: added v%d, current now\n", v);
        hpf_log(HPF_LOG_INFO, "keys.rotated", "key version v%d added to %s and made current", v,
                hpf_keys_path(e->keys));
    } else {
        printf("hpf keys rotate: resuming the rotation to v%d\n", cur);
    }
    int64_t done = 0, left = 0, tampered = 0;
    if (hpf_member_fields_rekey(&e->svc, limit, &done, &left, &tampered, &err) < 0)
        return fail("keys rotate", &err);
    printf("hpf keys rotate: %lld rows re-encrypted to v%d, %lld rows left on other versions%s\n",
           (long long)done, hpf_keys_current(e->keys), (long long)left,
           left ? " (run hpf keys rotate again to go on)" : "");
    if (tampered) {
        fprintf(stderr,
                "hpf keys rotate: FAILED: %lld rows fail their integrity check and were left as "
                "they are (see hpf keys status)\n",
                (long long)tampered);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int keys_retire(env *e, int version)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t rows = 0;
    if (hpf_keys_lock(e->keys, &err) < 0)
        return fail("keys retire", &err);
    if (!hpf_keys_has(e->keys, version)) {
        fprintf(stderr, "hpf keys retire: %s holds no version v%d\n", hpf_keys_path(e->keys),
                version);
        return EXIT_FAIL;
    }
    if (hpf_member_fields_rows(&e->svc, version, &rows, &err) < 0)
        return fail("keys retire", &err);
    if (rows > 0) {
        fprintf(stderr,
                "hpf keys retire: %lld rows are still encrypted under v%d: run hpf keys rotate "
                "until none is, then retire it\n",
                (long long)rows, version);
        return EXIT_FAIL;
    }
    if (hpf_keys_retire(e->keys, version, &err) < 0)
        return fail("keys retire", &err);
    printf("hpf keys retire: v%d removed from %s\n", version, hpf_keys_path(e->keys));
    hpf_log(HPF_LOG_INFO, "keys.retired", "key version v%d removed from %s", version,
            hpf_keys_path(e->keys));
    return EXIT_OK;
}

static int keys_rotate_seal(env *e)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_db *db;
    char old_id[HPF_SM2_KEY_ID_LEN + 1], new_id[HPF_SM2_KEY_ID_LEN + 1];
    int rc = hpf_store_conn(e->store, &db, &err);
    if (rc == 0)
        rc = hpf_sm2_centre_rotate(db, e->keys_dir, old_id, new_id, &err);
    if (rc < 0)
        return fail("keys rotate-seal", &err);
    hpf_log(HPF_LOG_INFO, "keys.seal_rotated",
            "replaced the centre's SM2 seal key %s by %s in %s/%s: copy it to every server of the "
            "centre; what the old key signed still verifies",
            old_id, new_id, e->keys_dir, HPF_SM2_CENTRE_FILE);
    printf("hpf keys rotate-seal: seal key %s replaced by %s\n", old_id, new_id);
    return EXIT_OK;
}

static int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTS,
                                         {"prepare", no_argument, NULL, OPT_KEYS_PREPARE},
                                         {"limit", required_argument, NULL, OPT_KEYS_LIMIT},
                                         {0}};
    const char *help =
        "usage: hpf keys status|rotate [--prepare] [--limit N]|retire VERSION|rotate-seal "
        "[options]\n\n"
        "The field-encryption keys of DATA_DIR/keys/field.keys (docs/internals/crypto.md), and\n"
        "the centre's SM2 seal key DATA_DIR/keys/centre-sm2.pem.\n"
        "  status    key versions, the current one, rows under each; decrypts every stored\n"
        "            field and checks it: exit 1 when one fails (tampered) or is unreadable\n"
        "  rotate    add a version, make it current and re-encrypt every row to it, in\n"
        "            batches of 500, one transaction each; run again to resume. Stop the\n"
        "            servers first, or use --prepare (docs/operations.md)\n"
        "  retire V  remove version V from the file; refused while a row uses it\n"
        "  rotate-seal  a new SM2 seal key for checkpoints and documents; the old public key\n"
        "            stays recorded, so what it signed still verifies (copy the key file to\n"
        "            every server of the centre)\n\n"
        "  --prepare            add a version without making it current (copy the file to\n"
        "                       every server, restart them, then rotate)\n"
        "  --limit N            re-encrypt at most N rows this time\n" COMMON_HELP;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    char cmd[32];
    if (strcmp(sub, "status") && strcmp(sub, "rotate") && strcmp(sub, "retire") &&
        strcmp(sub, "rotate-seal"))
        return usage_error(
            "keys", "unknown subcommand '%s' (try status, rotate, retire, rotate-seal)", sub);
    snprintf(cmd, sizeof cmd, "keys %s", sub);
    argc--;
    argv++;
    hpf_config_flags fl = {0};
    bool prepare = false;
    int64_t limit = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(c, &fl))
            continue;
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (c == OPT_KEYS_PREPARE && !strcmp(sub, "rotate")) {
            prepare = true;
            continue;
        }
        if (c == OPT_KEYS_LIMIT && !strcmp(sub, "rotate")) {
            if (hpf_parse_i64(&limit, optarg, 1, INT64_MAX) < 0)
                return usage_error(cmd, "--limit must be a positive number of rows");
            continue;
        }
        return usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
    }
    int version = 0;
    if (!strcmp(sub, "retire")) {
        int64_t v;
        const char *a = optind < argc ? argv[optind] : "";
        if (optind + 1 != argc ||
            hpf_parse_i64(&v, a[0] == 'v' ? a + 1 : a, 1, HPF_KEYS_MAX_VER) < 0)
            return usage_error(cmd, "wants one key version (v1, v2 ...)");
        version = (int)v;
    } else if (optind < argc) {
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (prepare && limit)
        return usage_error(cmd, "--prepare re-encrypts nothing: no --limit with it");
    env e;
    int rc = open_env(&e, cmd, &fl, true);
    if (rc != EXIT_OK)
        return rc;
    if (!strcmp(sub, "status"))
        rc = keys_status(&e);
    else if (!strcmp(sub, "rotate-seal"))
        rc = keys_rotate_seal(&e);
    else if (!strcmp(sub, "rotate"))
        rc = keys_rotate(&e, prepare, limit);
    else
        rc = keys_retire(&e, version);
    close_env(&e);
    return rc;
}

/* ---- routes ---- */

static int cmd_routes(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: hpf routes\n\nList the API routes with the roles each admits, one per "
               "line:\nMETHOD PATTERN ROLES [fresh-factor] (roles comma-separated, or 'public';\n"
               "fresh-factor: the route wants a second factor proven within the step-up "
               "window).\n");
        return EXIT_OK;
    }
    if (argc > 1)
        return usage_error("routes", "unexpected argument '%s'", argv[1]);
    static const hpf_role all[] = {HPF_ROLE_MEMBER, HPF_ROLE_AGENT, HPF_ROLE_OPERATOR,
                                   HPF_ROLE_ADMIN};
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
        if (hpf_api_route_fresh(&r[i]))
            fputs(" fresh-factor", stdout);
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
    {"ledger", hpf_cmd_ledger, "the fund's books (ledger chart load|show, trial-balance, reverse)"},
    {"job", hpf_cmd_job, "batch jobs as of the business date (job interest --year Y)"},
    {"calc", cmd_calc, "business calculations (calc contribution|interest ...)"},
    {"user", cmd_user, "manage logins (user add-operator|add-admin ...)"},
    {"totp", cmd_totp, "print the current TOTP code of a secret (for demo logins)"},
    {"keys", cmd_keys, "field-encryption and seal keys (keys status|rotate|retire V|rotate-seal)"},
    {"outbox", cmd_outbox, "messages to the outside peers (outbox list|retry ID|ping sms)"},
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
