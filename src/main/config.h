/*
 * main/config: settings from flags, over environment variables (HPF_*), over an optional
 * config file (key = value lines; --config FILE or HPF_CONFIG), over defaults.
 */
#ifndef HPF_MAIN_CONFIG_H
#define HPF_MAIN_CONFIG_H

#include "base/err.h"

typedef struct hpf_config {
    char data_dir[512];     /* HPF_DATA_DIR, default "var" */
    char db[1024];          /* HPF_DB, default "sqlite:<data_dir>/hpf.db" */
    char read_db[1024];     /* HPF_READ_DB: hot standby for read-only work, default none */
    char listen[128];       /* HPF_LISTEN, default "127.0.0.1:8443" */
    char web_dir[512];      /* HPF_WEB_DIR, default "web/dist" */
    char business_date[16]; /* HPF_BUSINESS_DATE, default "" (today) */
    char centre[8];         /* HPF_CENTRE, default "320900" (Yancheng) */
    int threads;            /* HPF_THREADS, default 4 */
    int job_tick;           /* HPF_JOB_TICK: seconds between job rounds, default 5 */
    int session_idle_s;     /* HPF_SESSION_IDLE_S: idle logout, default 1800 */
    int session_max_s;      /* HPF_SESSION_MAX_S: absolute session lifetime, default 28800 */
    int session_step_up_s;  /* HPF_SESSION_STEP_UP_S: freshness of the second factor, 300 */
    int lockout_base_s;     /* HPF_LOCKOUT_BASE_S: first lock after 5 failures, default 60 */
    char peers[512];        /* HPF_PEERS: https base URL of the outside peers, default none */
    char peers_ca[512];     /* HPF_PEERS_CA: PEM file to trust for them, default the system's */
    int throttle_per_min;   /* HPF_THROTTLE_PER_MIN: public requests a minute per client, 120 */
    int throttle_burst;     /* HPF_THROTTLE_BURST: and in a burst, default 60 (0: no limit) */
    char trusted_proxies[256]; /* HPF_TRUSTED_PROXIES: gateways whose X-Forwarded-For counts */
    int outbox_keep_days;      /* HPF_OUTBOX_KEEP_DAYS: sent messages' contents kept, default 7 */
} hpf_config;

/* Which settings a flag set explicitly (flags win over everything). */
typedef struct hpf_config_flags {
    const char *config, *data_dir, *db, *read_db, *listen, *web_dir, *business_date, *centre,
        *threads, *job_tick, *session_idle_s, *session_max_s, *session_step_up_s, *lockout_base_s,
        *peers, *peers_ca, *throttle_per_min, *throttle_burst, *trusted_proxies, *outbox_keep_days;
} hpf_config_flags;

/* Resolve the configuration. Returns 0 or HPF_EINVAL (bad file line or value, message says
 * which). */
int hpf_config_load(hpf_config *cfg, const hpf_config_flags *flags, hpf_err *err);

#endif
