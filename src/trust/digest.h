/*
 * trust/digest: SM3 (GB/T 32905) hashes through OpenSSL 3, for request fingerprints, session
 * token hashes and, later, the audit chain.
 */
#ifndef HPF_TRUST_DIGEST_H
#define HPF_TRUST_DIGEST_H

#include <stddef.h>

/* SM3 of `n` bytes as 64 lower-case hex characters plus NUL. */
void hpf_sm3_hex(char out[65], const void *p, size_t n);

/* Incremental SM3, for messages fed in pieces (the audit chain and its verifier). One context
 * is used by one thread at a time and may be reused: after hpf_sm3_final it is ready for a new
 * message. */
typedef struct hpf_sm3 hpf_sm3;

#define HPF_SM3_LEN 32

/* A new context, ready for updates. Aborts when OpenSSL has no SM3 (as hpf_sm3_hex does). */
hpf_sm3 *hpf_sm3_new(void);
void hpf_sm3_update(hpf_sm3 *h, const void *p, size_t n);
/* Write the 32-byte digest of everything fed since the last final, and start a new message. */
void hpf_sm3_final(hpf_sm3 *h, unsigned char out[HPF_SM3_LEN]);
/* Accepts NULL. */
void hpf_sm3_free(hpf_sm3 *h);

#endif
