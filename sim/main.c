/*
 * hpf-sim: the outside peers of HPF on loopback, for tests and demos (see sim.h).
 *
 *   hpf-sim --listen 127.0.0.1:PORT --data-dir DIR [--ttl SECONDS] [--threads N]
 *
 * Prints "hpf-sim: serving https://HOST:PORT cert /abs/DIR/cert.pem" once it answers. Stops on
 * SIGINT or SIGTERM, or by itself after --ttl seconds (0: never). Exit 0 on a normal stop, 1
 * when it cannot serve, 2 for bad usage.
 */
#include "base/log.h"
#include "base/parse.h"
#include "http/server.h"
#include "http/tlscert.h"
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage[] =
    "usage: hpf-sim [--listen HOST:PORT] [--data-dir DIR] [--ttl SECONDS] [--threads N]\n\n"
    "Play the peers of HPF over HTTPS on loopback, for tests and demos:\n"
    "  SMS gateway  POST /sms/v1/messages, GET /sms/v1/messages?to=PHONE, GET /sms/inbox (HTML)\n"
    "  notary       POST /notary/v1/anchors, GET /notary/v1/anchors/{receipt_id}\n"
    "  transfers    POST /citytransfer/v1/messages (BDC901/903/904/905)\n"
    "  control      POST /_sim/faults {peer, fail_next, status}, GET /_sim/stats,\n"
    "               POST /_sim/citytransfer {mode, next}, GET /_sim/citytransfer\n"
    "State is kept in memory only. Repeats of an Idempotency-Key get the first answer again.\n\n"
    "  --listen HOST:PORT  loopback address only (default 127.0.0.1:8444; port 0 picks one)\n"
    "  --data-dir DIR      where cert.pem and key.pem (self-signed) are kept (default var/sim)\n"
    "  --ttl SECONDS       stop by itself after this long (default 0: run until SIGTERM)\n"
    "  --threads N         worker threads (default 2)\n";

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "hpf-sim: %s%s%s (see 'hpf-sim --help')\n", msg, arg ? ": " : "",
            arg ? arg : "");
    return 2;
}

/* The sim answers anyone who can reach it and keeps what they send: loopback only. */
static bool loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcmp(host, "localhost"))
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

static int split_listen(const char *s, char *host, size_t hostsz, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    if (!colon || colon == s || (size_t)(colon - s) >= hostsz ||
        hpf_parse_i64(&p, colon + 1, 0, 65535) < 0)
        return -1;
    const char *h = s;
    size_t n = (size_t)(colon - s);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    snprintf(host, hostsz, "%.*s", (int)n, h);
    *port = (uint16_t)p;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"data-dir", required_argument, NULL, 'd'},
        {"ttl", required_argument, NULL, 't'},    {"threads", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {0}};
    const char *listen = "127.0.0.1:8444", *dir = "var/sim";
    int64_t ttl = 0, threads = 2;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 't':
            if (hpf_parse_i64(&ttl, optarg, 0, 30 * 86400) < 0)
                return bad_usage("--ttl must be 0..2592000 seconds", optarg);
            break;
        case 'n':
            if (hpf_parse_i64(&threads, optarg, 1, 16) < 0)
                return bad_usage("--threads must be 1..16", optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return bad_usage("unknown option or missing value", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument", argv[optind]);
    char host[128];
    uint16_t port;
    if (split_listen(listen, host, sizeof host, &port) < 0)
        return bad_usage("--listen is not HOST:PORT", listen);
    if (!loopback(host))
        return bad_usage("--listen must be a loopback address (127.x.x.x, ::1, localhost)", host);

    char cert[PATH_MAX], key[PATH_MAX], abs[PATH_MAX];
    hpf_err err = HPF_ERR_INIT;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "hpf-sim: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if ((size_t)snprintf(cert, sizeof cert, "%s/cert.pem", dir) >= sizeof cert ||
        (size_t)snprintf(key, sizeof key, "%s/key.pem", dir) >= sizeof key)
        return bad_usage("--data-dir is too long", NULL);
    if (hpf_tls_ensure_selfsigned(cert, key, &err) < 0) {
        fprintf(stderr, "hpf-sim: %s\n", err.msg);
        return 1;
    }
    if (!realpath(cert, abs))
        snprintf(abs, sizeof abs, "%s", cert);

    /* Block the stop signals before any thread starts, so only the wait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    static sim state;
    sim_init(&state);
    sim_ct_init();
    const hpf_http_route routes[] = {
        {"POST", "/sms/v1/messages", sim_sms_post, &state},
        {"GET", "/sms/v1/messages", sim_sms_list, &state},
        {"GET", "/sms/inbox", sim_sms_inbox, &state},
        {"GET", "/sms", sim_sms_inbox, &state},
        {"POST", "/notary/v1/anchors", sim_notary_post, &state},
        {"GET", "/notary/v1/anchors/{receipt_id}", sim_notary_get, &state},
        {"POST", "/_sim/faults", sim_faults_post, &state},
        {"GET", "/_sim/stats", sim_stats_get, &state},
        {"POST", "/citytransfer/v1/messages", sim_ct_post, &state},
        {"POST", "/_sim/citytransfer", sim_ct_mode, &state},
        {"GET", "/_sim/citytransfer", sim_ct_list, &state},
    };
    hpf_http_config hc = {
        .listen_host = host,
        .listen_port = port,
        .cert_pem_path = cert,
        .key_pem_path = key,
        .routes = routes,
        .nroutes = sizeof routes / sizeof routes[0],
        .threads = (unsigned)threads,
        .max_body = 256 * 1024,
        .stop_grace_s = 2,
    };
    hpf_http_server *srv = NULL;
    if (hpf_http_start(&srv, &hc, &err) < 0) {
        fprintf(stderr, "hpf-sim: %s\n", err.msg);
        sim_ct_cleanup();
        sim_cleanup(&state);
        return 1;
    }
    bool v6 = strchr(host, ':') != NULL;
    printf("hpf-sim: serving https://%s%s%s:%u cert %s\n", v6 ? "[" : "", host, v6 ? "]" : "",
           (unsigned)hpf_http_port(srv), abs);
    fflush(stdout);
    hpf_log(HPF_LOG_INFO, "sim.start", "serving %s, ttl %lld s", listen, (long long)ttl);

    int sig = 0;
    if (ttl > 0) {
        struct timespec limit = {.tv_sec = (time_t)ttl};
        sig = sigtimedwait(&stop, NULL, &limit);
        while (sig < 0 && errno == EINTR)
            sig = sigtimedwait(&stop, NULL, &limit);
    } else {
        sigwait(&stop, &sig);
    }
    if (sig < 0)
        hpf_log(HPF_LOG_INFO, "sim.ttl", "ttl of %lld s reached: stopping", (long long)ttl);
    else
        hpf_log(HPF_LOG_INFO, "sim.stop", "signal %d: stopping", sig);
    hpf_http_stop(srv);
    sim_ct_cleanup();
    sim_cleanup(&state);
    return 0;
}
