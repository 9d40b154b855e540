/* http/ratelimit: token buckets per client key in a fixed table (see ratelimit.h). */
#include "http/ratelimit.h"

#include "base/mem.h"
#include "base/rand.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tokens are counted in units of 1/60000 of a token, so that `per_minute` units arrive every
 * millisecond and the arithmetic stays in integers. */
#define UNIT   60000
#define WINDOW 8 /* slots probed for a key */

typedef struct slot {
    char key[HPF_RATELIMIT_KEY];
    int64_t units;   /* tokens held, in units */
    int64_t last_ms; /* when they were counted */
} slot;

struct hpf_ratelimit {
    pthread_mutex_t mu;
    int64_t per_minute, cap;
    uint64_t seed; /* keeps the slot of a key unpredictable to whoever picks the keys */
    slot slots[HPF_RATELIMIT_SLOTS];
};

hpf_ratelimit *hpf_ratelimit_new(unsigned per_minute, unsigned burst)
{
    if (!per_minute || !burst)
        return NULL;
    hpf_ratelimit *rl = hpf_xcalloc(1, sizeof *rl);
    pthread_mutex_init(&rl->mu, NULL);
    rl->per_minute = per_minute;
    rl->cap = (int64_t)burst * UNIT;
    hpf_rand_bytes(&rl->seed, sizeof rl->seed);
    return rl;
}

void hpf_ratelimit_free(hpf_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static uint64_t hash(uint64_t seed, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ seed; /* FNV-1a, seeded */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

bool hpf_ratelimit_take(hpf_ratelimit *rl, const char *key, int64_t now_ms,
                        unsigned *retry_after_s)
{
    if (!rl)
        return true;
    char k[HPF_RATELIMIT_KEY];
    snprintf(k, sizeof k, "%s", key);
    size_t base = (size_t)(hash(rl->seed, k) % HPF_RATELIMIT_SLOTS);
    pthread_mutex_lock(&rl->mu);
    slot *s = NULL, *idle = NULL;
    for (size_t i = 0; i < WINDOW && !s; i++) {
        slot *c = &rl->slots[(base + i) % HPF_RATELIMIT_SLOTS];
        if (c->key[0] && !strcmp(c->key, k))
            s = c;
        else if (!idle || !c->key[0] || (idle->key[0] && c->last_ms < idle->last_ms))
            idle = c;
    }
    if (!s) { /* a new key, or one that lost its slot: a full bucket */
        s = idle;
        memcpy(s->key, k, sizeof s->key);
        s->units = rl->cap;
        s->last_ms = now_ms;
    }
    if (now_ms > s->last_ms) {
        int64_t gained = (now_ms - s->last_ms) * rl->per_minute;
        s->units = gained > rl->cap - s->units ? rl->cap : s->units + gained;
        s->last_ms = now_ms;
    }
    bool ok = s->units >= UNIT;
    if (ok) {
        s->units -= UNIT;
    } else if (retry_after_s) {
        int64_t ms = (UNIT - s->units + rl->per_minute - 1) / rl->per_minute;
        *retry_after_s = (unsigned)((ms + 999) / 1000);
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

static bool is_address(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Whether `addr` is one of the comma-separated `list`. */
static bool listed(const char *addr, const char *list)
{
    size_t n = strlen(addr);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len && len == n && !memcmp(p, addr, n))
            return true;
        p += len;
    }
    return false;
}

void hpf_ratelimit_client(char *out, size_t n, const char *peer, const char *forwarded,
                          const char *trusted_proxies)
{
    snprintf(out, n, "%s", peer ? peer : "");
    if (!forwarded || !trusted_proxies || !*trusted_proxies || !listed(out, trusted_proxies))
        return;
    /* From the right: each hop appended the address it received the request from. */
    const char *end = forwarded + strlen(forwarded);
    while (end > forwarded) {
        const char *start = end;
        while (start > forwarded && start[-1] != ',')
            start--;
        char addr[64];
        const char *a = start;
        while (a < end && *a == ' ')
            a++;
        size_t len = (size_t)(end - a);
        while (len && a[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof addr)
            return;
        memcpy(addr, a, len);
        addr[len] = '\0';
        if (!is_address(addr))
            return;
        snprintf(out, n, "%s", addr);
        if (!listed(addr, trusted_proxies))
            return;
        end = start > forwarded ? start - 1 : start;
    }
}
