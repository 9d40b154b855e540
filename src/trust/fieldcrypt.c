/* trust/fieldcrypt: SM4-CTR + HMAC-SM3 for stored personal fields, and blind indexes (see
 * fieldcrypt.h). */
#include "trust/fieldcrypt.h"

#include "base/mem.h"
#include "base/rand.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT  "f1"
#define IV_LEN  16
#define TAG_LEN 32

/* Fetched once: an implicit fetch on every call costs more than the work on a short field. */
static EVP_CIPHER *g_sm4ctr;
static EVP_MAC *g_hmac;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
    g_sm4ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static bool ready(void)
{
    pthread_once(&g_once, fetch_algorithms);
    return g_sm4ctr && g_hmac;
}

/* HMAC-SM3 over the concatenation of `n` parts. */
static bool hmac_sm3(const unsigned char *key, size_t keylen, const void *const *parts,
                     const size_t *lens, size_t n, unsigned char out[TAG_LEN])
{
    char digest[] = "SM3";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(g_hmac);
    size_t len = 0;
    bool ok = ctx && EVP_MAC_init(ctx, key, keylen, params);
    for (size_t i = 0; ok && i < n; i++)
        ok = lens[i] == 0 || EVP_MAC_update(ctx, parts[i], lens[i]);
    ok = ok && EVP_MAC_final(ctx, out, &len, TAG_LEN) && len == TAG_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok;
}

static void be32(unsigned char out[4], uint32_t v)
{
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
}

/* TAG = HMAC-SM3(mac, "f1" || u32 version || u32 len || field || u32 len || context || IV || CT).
 * The lengths keep the fields apart: no (field, context) pair reads as another. */
static bool tag_of(const hpf_field_key *fk, const char *field, const char *context,
                   const unsigned char *iv, const unsigned char *ct, size_t ctlen,
                   unsigned char out[TAG_LEN])
{
    unsigned char ver[4], flen[4], clen[4];
    size_t fl = strlen(field), cl = strlen(context);
    be32(ver, (uint32_t)fk->version);
    be32(flen, (uint32_t)fl);
    be32(clen, (uint32_t)cl);
    const void *parts[] = {FORMAT, ver, flen, field, clen, context, iv, ct};
    const size_t lens[] = {2, 4, 4, fl, 4, cl, IV_LEN, ctlen};
    return hmac_sm3(fk->mac, sizeof fk->mac, parts, lens, 8, out);
}

/* SM4-CTR is its own inverse: the same call encrypts and decrypts. */
static bool sm4_ctr(const hpf_field_key *fk, const unsigned char *iv, const unsigned char *in,
                    size_t n, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = ctx && EVP_EncryptInit_ex2(ctx, g_sm4ctr, fk->sm4, iv, NULL) &&
              EVP_EncryptUpdate(ctx, out, &len, in, (int)n) &&
              EVP_EncryptFinal_ex(ctx, out + len, &fin) && (size_t)(len + fin) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Strict base64url without padding: only the alphabet, no trailing bits set. Returns the
 * decoded length or -1. */
static long b64url_decode(unsigned char *out, size_t cap, const char *s, size_t n)
{
    if (n % 4 == 1)
        return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(b64, s[i]) : NULL;
        if (!p)
            return -1;
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)))
        return -1; /* one value, one text: no second encoding with other trailing bits */
    return (long)o;
}

int hpf_fc_version(const char *text)
{
    if (strncmp(text, FORMAT ".", 3) != 0)
        return -1;
    int v = 0;
    const char *p = text + 3;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > HPF_KEYS_MAX_VER)
            return -1;
    }
    return *p == '.' ? v : -1;
}

int hpf_fc_encrypt_v(const hpf_keys *k, int version, const char *field, const char *context,
                     const char *plain, char *out, size_t outsz, hpf_err *err)
{
    size_t n = strlen(plain);
    if (n > HPF_FC_PLAIN_MAX)
        return hpf_err_set(err, HPF_EINVAL, "a %s of %zu bytes is too long to encrypt", field, n);
    const hpf_field_key *fk = hpf_keys_field(k, version);
    if (!fk)
        return hpf_err_set(err, HPF_ENOTFOUND, "the key file holds no version v%d", version);
    if (!ready())
        return hpf_err_set(err, HPF_EINTERNAL, "SM4-CTR or HMAC is unavailable in this OpenSSL");
    unsigned char raw[IV_LEN + HPF_FC_PLAIN_MAX + TAG_LEN];
    unsigned char *iv = raw, *ct = raw + IV_LEN, *tag = ct + n;
    /* A fresh random IV per value: CTR must never reuse (key, IV); 128 random bits make a
     * repeat negligible for any number of stored values. */
    hpf_rand_bytes(iv, IV_LEN);
    if (!sm4_ctr(fk, iv, (const unsigned char *)plain, n, ct) ||
        !tag_of(fk, field, context, iv, ct, n, tag))
        return hpf_err_set(err, HPF_EINTERNAL, "SM4-CTR or HMAC-SM3 failed");
    size_t rawlen = IV_LEN + n + TAG_LEN;
    char prefix[16];
    int pl = snprintf(prefix, sizeof prefix, FORMAT ".%d.", version);
    if ((size_t)pl + rawlen * 4 / 3 + 2 > outsz)
        return hpf_err_set(err, HPF_EINVAL, "no room for the encrypted %s", field);
    memcpy(out, prefix, (size_t)pl);
    hpf_b64url(out + pl, outsz - (size_t)pl, raw, rawlen);
    return 0;
}

int hpf_fc_encrypt(const hpf_keys *k, const char *field, const char *context, const char *plain,
                   char *out, size_t outsz, hpf_err *err)
{
    return hpf_fc_encrypt_v(k, hpf_keys_current(k), field, context, plain, out, outsz, err);
}

int hpf_fc_decrypt(const hpf_keys *k, const char *field, const char *context, const char *text,
                   char *out, size_t outsz, hpf_err *err)
{
    int version = hpf_fc_version(text);
    if (version < 0)
        return hpf_err_set(err, HPF_ECONFLICT, "the stored %s is not an f1 ciphertext", field);
    const hpf_field_key *fk = hpf_keys_field(k, version);
    if (!fk)
        return hpf_err_set(err, HPF_ENOTFOUND,
                           "the stored %s is encrypted under key version v%d, which the key file "
                           "lacks",
                           field, version);
    if (!ready())
        return hpf_err_set(err, HPF_EINTERNAL, "SM4-CTR or HMAC is unavailable in this OpenSSL");
    const char *body = strchr(text + 3, '.') + 1;
    unsigned char raw[IV_LEN + HPF_FC_PLAIN_MAX + TAG_LEN], tag[TAG_LEN];
    long rawlen = b64url_decode(raw, sizeof raw, body, strlen(body));
    if (rawlen < IV_LEN + TAG_LEN)
        return hpf_err_set(err, HPF_ECONFLICT, "the stored %s is not an f1 ciphertext", field);
    size_t n = (size_t)rawlen - IV_LEN - TAG_LEN;
    const unsigned char *iv = raw, *ct = raw + IV_LEN;
    if (!tag_of(fk, field, context, iv, ct, n, tag))
        return hpf_err_set(err, HPF_EINTERNAL, "HMAC-SM3 failed");
    /* Constant time: how many tag bytes matched must not show in the timing. */
    if (CRYPTO_memcmp(tag, ct + n, TAG_LEN) != 0)
        return hpf_err_set(err, HPF_ECONFLICT,
                           "the stored %s fails its integrity check (changed, or copied from "
                           "another field or record)",
                           field);
    if (n >= outsz)
        return hpf_err_set(err, HPF_EINVAL, "no room for the decrypted %s", field);
    if (!sm4_ctr(fk, iv, ct, n, (unsigned char *)out))
        return hpf_err_set(err, HPF_EINTERNAL, "SM4-CTR failed");
    out[n] = '\0';
    if (strlen(out) != n) { /* an authentic value never holds a NUL: a bug, not input */
        hpf_wipe(out, n);
        return hpf_err_set(err, HPF_EINTERNAL, "the decrypted %s holds a NUL byte", field);
    }
    return 0;
}

void hpf_fc_bidx(const hpf_keys *k, const char *field, const char *value,
                 char out[HPF_FC_BIDX_LEN + 1])
{
    /* Normalise: no blanks around, ASCII letters upper-cased (a resident ID's x is X). */
    const char *s = value, *e = value + strlen(value);
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    size_t n = (size_t)(e - s);
    char *norm = hpf_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        norm[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    unsigned char md[TAG_LEN];
    const void *parts[] = {field, "", norm};
    const size_t lens[] = {strlen(field), 1, n}; /* the "" part is its NUL: the 0x00 separator */
    if (!ready() || !hmac_sm3(hpf_keys_bidx(k), HPF_KEYS_BIDX_LEN, parts, lens, 3, md)) {
        /* The blind index decides uniqueness and logins: never answer with a made-up one. */
        fprintf(stderr, "hpf: HMAC-SM3 unavailable in this OpenSSL\n");
        abort();
    }
    hpf_wipe(norm, n + 1);
    free(norm);
    hpf_hex(out, md, sizeof md);
}
