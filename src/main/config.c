#include "main/config.h"

#include "base/parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct setting {
    const char *key, *env;
    char *dst;
    size_t size;
} setting;

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t k = 0;
    while (isspace((unsigned char)s[k]))
        k++;
    memmove(s, s + k, n - k + 1);
}

static int put(char *dst, size_t size, const char *v, const char *what, hpf_err *err)
{
    if (strlen(v) >= size)
        return hpf_err_field(err, HPF_EINVAL, what, "config.too_long", "%s is too long", what);
    snprintf(dst, size, "%s", v);
    return 0;
}

static int read_file(const char *path, setting *s, size_t n, bool *seen, hpf_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return hpf_err_field(err, HPF_EINVAL, "--config", "config.open", "cannot open %s", path);
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        trim(line);
        if (!line[0] || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = hpf_err_field(err, HPF_EINVAL, "--config", "config.syntax",
                               "%s:%d: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = line, *val = eq + 1;
        trim(key);
        trim(val);
        size_t i = 0;
        while (i < n && strcmp(s[i].key, key) != 0)
            i++;
        if (i == n) {
            rc = hpf_err_field(err, HPF_EINVAL, "--config", "config.unknown_key",
                               "%s:%d: unknown key '%s'", path, lineno, key);
            break;
        }
        rc = put(s[i].dst, s[i].size, val, key, err);
        seen[i] = true;
    }
    fclose(f);
    return rc;
}

int hpf_config_load(hpf_config *cfg, const hpf_config_flags *fl, hpf_err *err)
{
    char threads[16] = "4", job_tick[16] = "5", idle[16] = "1800", max[16] = "28800",
         step_up[16] = "300", lock_base[16] = "60", per_min[16] = "120", burst[16] = "60",
         keep_days[16] = "7";
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "var");
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8443");
    snprintf(cfg->web_dir, sizeof cfg->web_dir, "web/dist");
    snprintf(cfg->centre, sizeof cfg->centre, "320900");
    setting s[] = {
        {"data_dir", "HPF_DATA_DIR", cfg->data_dir, sizeof cfg->data_dir},
        {"db", "HPF_DB", cfg->db, sizeof cfg->db},
        {"read_db", "HPF_READ_DB", cfg->read_db, sizeof cfg->read_db},
        {"listen", "HPF_LISTEN", cfg->listen, sizeof cfg->listen},
        {"web_dir", "HPF_WEB_DIR", cfg->web_dir, sizeof cfg->web_dir},
        {"business_date", "HPF_BUSINESS_DATE", cfg->business_date, sizeof cfg->business_date},
        {"centre", "HPF_CENTRE", cfg->centre, sizeof cfg->centre},
        {"threads", "HPF_THREADS", threads, sizeof threads},
        {"job_tick", "HPF_JOB_TICK", job_tick, sizeof job_tick},
        {"session_idle_s", "HPF_SESSION_IDLE_S", idle, sizeof idle},
        {"session_max_s", "HPF_SESSION_MAX_S", max, sizeof max},
        {"session_step_up_s", "HPF_SESSION_STEP_UP_S", step_up, sizeof step_up},
        {"lockout_base_s", "HPF_LOCKOUT_BASE_S", lock_base, sizeof lock_base},
        {"peers", "HPF_PEERS", cfg->peers, sizeof cfg->peers},
        {"peers_ca", "HPF_PEERS_CA", cfg->peers_ca, sizeof cfg->peers_ca},
        {"throttle_per_min", "HPF_THROTTLE_PER_MIN", per_min, sizeof per_min},
        {"throttle_burst", "HPF_THROTTLE_BURST", burst, sizeof burst},
        {"trusted_proxies", "HPF_TRUSTED_PROXIES", cfg->trusted_proxies,
         sizeof cfg->trusted_proxies},
        {"outbox_keep_days", "HPF_OUTBOX_KEEP_DAYS", keep_days, sizeof keep_days},
    };
    const char *flag[] = {fl->data_dir,       fl->db,
                          fl->read_db,        fl->listen,
                          fl->web_dir,        fl->business_date,
                          fl->centre,         fl->threads,
                          fl->job_tick,       fl->session_idle_s,
                          fl->session_max_s,  fl->session_step_up_s,
                          fl->lockout_base_s, fl->peers,
                          fl->peers_ca,       fl->throttle_per_min,
                          fl->throttle_burst, fl->trusted_proxies,
                          fl->outbox_keep_days};
    _Static_assert(sizeof flag / sizeof flag[0] == sizeof s / sizeof s[0],
                   "one flag slot per setting, in the same order");
    size_t n = sizeof s / sizeof s[0];
    bool seen[sizeof s / sizeof s[0]] = {0};
    int rc = 0;
    const char *file = fl->config ? fl->config : getenv("HPF_CONFIG");
    if (file && *file && (rc = read_file(file, s, n, seen, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *e = getenv(s[i].env);
        if (e && *e && (rc = put(s[i].dst, s[i].size, e, s[i].env, err)) < 0)
            return rc;
        if (flag[i] && (rc = put(s[i].dst, s[i].size, flag[i], s[i].key, err)) < 0)
            return rc;
    }
    if (!cfg->db[0] && (size_t)snprintf(cfg->db, sizeof cfg->db, "sqlite:%s/hpf.db",
                                        cfg->data_dir) >= sizeof cfg->db)
        return hpf_err_field(err, HPF_EINVAL, "--data-dir", "config.too_long",
                             "data directory path too long");
    int64_t t;
    if (hpf_parse_i64(&t, threads, 1, 64) < 0)
        return hpf_err_field(err, HPF_EINVAL, "--threads", "config.range", "threads must be 1..64");
    cfg->threads = (int)t;
    if (hpf_parse_i64(&t, job_tick, 1, 3600) < 0)
        return hpf_err_field(err, HPF_EINVAL, "--job-tick", "config.range",
                             "job_tick must be 1..3600 seconds");
    cfg->job_tick = (int)t;
    /* Short limits are for tests (idle logout, step-up, lockout in seconds, not minutes). */
    static const struct {
        const char *flag, *name;
        int64_t min, max;
    } lim[] = {{"--session-idle-s", "session_idle_s", 1, 86400},
               {"--session-max-s", "session_max_s", 1, 7 * 86400},
               {"--session-step-up-s", "session_step_up_s", 1, 86400},
               {"--lockout-base-s", "lockout_base_s", 1, 3600}};
    const char *val[] = {idle, max, step_up, lock_base};
    int *dst[] = {&cfg->session_idle_s, &cfg->session_max_s, &cfg->session_step_up_s,
                  &cfg->lockout_base_s};
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (hpf_parse_i64(&t, val[i], lim[i].min, lim[i].max) < 0)
            return hpf_err_field(err, HPF_EINVAL, lim[i].flag, "config.range",
                                 "%s must be %lld..%lld seconds", lim[i].name,
                                 (long long)lim[i].min, (long long)lim[i].max);
        *dst[i] = (int)t;
    }
    if (hpf_parse_i64(&t, per_min, 0, 1000000) < 0)
        return hpf_err_field(err, HPF_EINVAL, "throttle_per_min", "config.range",
                             "throttle_per_min must be 0..1000000");
    cfg->throttle_per_min = (int)t;
    if (hpf_parse_i64(&t, burst, 0, 1000000) < 0)
        return hpf_err_field(err, HPF_EINVAL, "throttle_burst", "config.range",
                             "throttle_burst must be 0..1000000");
    cfg->throttle_burst = (int)t;
    if (hpf_parse_i64(&t, keep_days, 0, 3650) < 0)
        return hpf_err_field(err, HPF_EINVAL, "outbox_keep_days", "config.range",
                             "outbox_keep_days must be 0..3650");
    cfg->outbox_keep_days = (int)t;
    if (strlen(cfg->centre) != 6 || strspn(cfg->centre, "0123456789") != 6)
        return hpf_err_field(err, HPF_EINVAL, "--centre", "config.centre",
                             "centre must be a 6-digit administrative code");
    return 0;
}
