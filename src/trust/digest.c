#include "trust/digest.h"

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
