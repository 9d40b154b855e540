#include "trust/digest.h"

#include "base/mem.h"
#include "base/rand.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

void hpf_sm3_hex(char out[65], const void *p, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(p, n, md, &len, EVP_sm3(), NULL) || len != 32) {
        fprintf(stderr, "hpf: SM3 unavailable in this OpenSSL\n");
        abort();
    }
    hpf_hex(out, md, 32);
}

struct hpf_sm3 {
    EVP_MD_CTX *ctx;
    EVP_MD *md; /* fetched once: an implicit fetch on every init costs more than a short hash */
};

static void sm3_unavailable(void)
{
    fprintf(stderr, "hpf: SM3 unavailable in this OpenSSL\n");
    abort();
}

hpf_sm3 *hpf_sm3_new(void)
{
    hpf_sm3 *h = hpf_xcalloc(1, sizeof *h);
    h->md = EVP_MD_fetch(NULL, "SM3", NULL);
    h->ctx = EVP_MD_CTX_new();
    if (!h->md || !h->ctx || !EVP_DigestInit_ex2(h->ctx, h->md, NULL))
        sm3_unavailable();
    return h;
}

void hpf_sm3_update(hpf_sm3 *h, const void *p, size_t n)
{
    if (n && !EVP_DigestUpdate(h->ctx, p, n))
        sm3_unavailable();
}

void hpf_sm3_final(hpf_sm3 *h, unsigned char out[HPF_SM3_LEN])
{
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(h->ctx, out, &len) || len != HPF_SM3_LEN ||
        !EVP_DigestInit_ex2(h->ctx, h->md, NULL))
        sm3_unavailable();
}

void hpf_sm3_free(hpf_sm3 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    free(h);
}
