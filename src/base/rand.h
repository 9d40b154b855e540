/*
 * rand: cryptographically secure random bytes (getrandom) and tokens.
 */
#ifndef HPF_BASE_RAND_H
#define HPF_BASE_RAND_H

#include <stddef.h>

/* Fill buf with n secure random bytes; aborts if the kernel cannot provide them. */
void hpf_rand_bytes(void *buf, size_t n);

/* A random token of `nbytes` bytes, base64url without padding, into out (4*nbytes/3+2 bytes). */
void hpf_rand_token(char *out, size_t outsz, size_t nbytes);

/* Base64url (no padding) of n bytes into out; returns out. outsz >= 4*n/3 + 2. */
char *hpf_b64url(char *out, size_t outsz, const void *in, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
char *hpf_hex(char *out, const void *in, size_t n);

#endif
