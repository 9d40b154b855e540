#include "trust/totp.h"

#include "base/mem.h"
#include "base/rand.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t hpf_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits)
{
    static const uint32_t mod[] = {1000000, 10000000, 100000000};
    unsigned char msg[8], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    if (digits < 6 || digits > 8 ||
        !HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof msg, md, &mdlen) || mdlen != 20)
        abort(); /* a caller's bug or a broken libcrypto: never a wrong code that might match */
    /* Dynamic truncation (RFC 4226 section 5.3). */
    unsigned off = md[19] & 0x0f;
    uint32_t bin = ((uint32_t)(md[off] & 0x7f) << 24) | ((uint32_t)md[off + 1] << 16) |
                   ((uint32_t)md[off + 2] << 8) | md[off + 3];
    hpf_wipe(md, sizeof md);
    return bin % mod[digits - 6];
}

int64_t hpf_totp_step(int64_t t)
{
    return t < 0 ? 0 : t / HPF_TOTP_STEP_S;
}

void hpf_totp_code(char out[7], const unsigned char *key, size_t keylen, int64_t t)
{
    uint32_t v = hpf_hotp(key, keylen, (uint64_t)hpf_totp_step(t), HPF_TOTP_DIGITS);
    snprintf(out, 7, "%06u", (unsigned)v);
}

int64_t hpf_totp_check(const unsigned char *key, size_t keylen, int64_t now, const char *code,
                       int64_t last_step)
{
    if (!code || strlen(code) != HPF_TOTP_DIGITS || strspn(code, "0123456789") != HPF_TOTP_DIGITS)
        return 0;
    int64_t t = hpf_totp_step(now), found = 0;
    /* Every candidate is computed and compared in full, whatever matched, so the time taken does
     * not tell which step (or how many digits) matched. */
    for (int64_t s = t - 1; s <= t + 1; s++) {
        if (s < 0)
            continue;
        char want[7];
        snprintf(want, sizeof want, "%06u",
                 (unsigned)hpf_hotp(key, keylen, (uint64_t)s, HPF_TOTP_DIGITS));
        unsigned char d = 0;
        for (int i = 0; i < HPF_TOTP_DIGITS; i++)
            d |= (unsigned char)(want[i] ^ code[i]);
        hpf_wipe(want, sizeof want);
        if (d == 0 && s > last_step && !found)
            found = s;
    }
    return found;
}

void hpf_totp_new_key(unsigned char key[HPF_TOTP_KEY_LEN])
{
    hpf_rand_bytes(key, HPF_TOTP_KEY_LEN);
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *hpf_base32(char *out, size_t outsz, const unsigned char *in, size_t n)
{
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5 && o + 1 < outsz) {
            out[o++] = B32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0 && o + 1 < outsz)
        out[o++] = B32[(buf << (5 - bits)) & 31];
    if (outsz)
        out[o] = '\0';
    return out;
}

int hpf_base32_decode(unsigned char *out, size_t outsz, const char *in)
{
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '=')
            continue;
        char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        const char *at = ch ? strchr(B32, ch) : NULL;
        if (!at)
            return -1;
        buf = ((buf << 5) | (unsigned)(at - B32)) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            if (o >= outsz)
                return -1;
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    /* Leftover bits are the padding of the last character: fewer than 5, and zero. */
    if (bits >= 5 || (buf & ((1u << bits) - 1)) != 0)
        return -1;
    return (int)o;
}

/* Percent-encode everything but the RFC 3986 unreserved characters. */
static int pct(char *out, size_t outsz, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (*o + (plain ? 1 : 3) >= outsz)
            return -1;
        if (plain) {
            out[(*o)++] = (char)*p;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[*p >> 4];
            out[(*o)++] = hex[*p & 15];
        }
    }
    out[*o] = '\0';
    return 0;
}

static int lit(char *out, size_t outsz, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= outsz)
        return -1;
    memcpy(out + *o, s, n + 1);
    *o += n;
    return 0;
}

int hpf_totp_uri(char *out, size_t outsz, const char *issuer, const char *account,
                 const unsigned char *key, size_t keylen, hpf_err *err)
{
    char b32[HPF_TOTP_B32_MAX];
    size_t o = 0;
    if (keylen > HPF_TOTP_KEY_MAX || outsz == 0)
        return hpf_err_set(err, HPF_ETOOBIG, "TOTP secret or URI buffer out of range");
    hpf_base32(b32, sizeof b32, key, keylen);
    int bad = lit(out, outsz, &o, "otpauth://totp/") || pct(out, outsz, &o, issuer) ||
              lit(out, outsz, &o, ":") || pct(out, outsz, &o, account) ||
              lit(out, outsz, &o, "?secret=") || lit(out, outsz, &o, b32) ||
              lit(out, outsz, &o, "&issuer=") || pct(out, outsz, &o, issuer) ||
              lit(out, outsz, &o, "&algorithm=SHA1&digits=6&period=30");
    hpf_wipe(b32, sizeof b32);
    if (bad) {
        hpf_wipe(out, outsz);
        out[0] = '\0';
        return hpf_err_set(err, HPF_ETOOBIG, "the otpauth URI does not fit in %zu bytes", outsz);
    }
    return 0;
}
