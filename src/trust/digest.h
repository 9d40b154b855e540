/*
 * trust/digest: SM3 (GB/T 32905) hashes through OpenSSL 3, for request fingerprints, session
 * token hashes and, later, the audit chain.
 */
#ifndef HPF_TRUST_DIGEST_H
#define HPF_TRUST_DIGEST_H

#include <stddef.h>

/* SM3 of `n` bytes as 64 lower-case hex characters plus NUL. */
void hpf_sm3_hex(char out[65], const void *p, size_t n);

#endif
