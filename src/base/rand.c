#include "base/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void hpf_rand_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            perror("hpf: getrandom");
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

char *hpf_b64url(char *out, size_t outsz, const void *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < outsz; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = tab[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = tab[v & 63];
    }
    out[o] = '\0';
    return out;
}

void hpf_rand_token(char *out, size_t outsz, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    hpf_rand_bytes(raw, nbytes);
    hpf_b64url(out, outsz, raw, nbytes);
}

char *hpf_hex(char *out, const void *in, size_t n)
{
    static const char d[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}
