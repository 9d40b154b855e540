/*
 * trust/totp: time-based one-time passwords (RFC 6238 over the HOTP of RFC 4226) for the second
 * factor of operators and employer agents: HMAC-SHA1, 30-second steps, 6 digits, the shared
 * secret 20 random bytes handed to the user once as an otpauth:// URI (base32, RFC 4648).
 *
 * SHA-1 and not SM3 because every authenticator app speaks only the RFC algorithms; HMAC-SHA1 is
 * still sound as a MAC (the collision attacks on SHA-1 do not reach HMAC). Pure functions of
 * their inputs (the time is passed in), so the RFC test vectors run as unit tests.
 */
#ifndef HPF_TRUST_TOTP_H
#define HPF_TRUST_TOTP_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPF_TOTP_KEY_LEN 20  /* bytes of a secret we issue */
#define HPF_TOTP_KEY_MAX 64  /* bytes of a secret we accept (RFC 6238 vectors go to 64) */
#define HPF_TOTP_B32_MAX 104 /* base32 of HPF_TOTP_KEY_MAX bytes, plus NUL */
#define HPF_TOTP_URI_MAX 512
#define HPF_TOTP_STEP_S  30
#define HPF_TOTP_DIGITS  6

/* The HOTP value of `key` at `counter` with `digits` (6..8) digits (RFC 4226 section 5.3). */
uint32_t hpf_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits);

/* The time step of unix time `t` (t / 30; 0 for t < 0). */
int64_t hpf_totp_step(int64_t t);

/* The current 6-digit code of `key` at unix time `t`, as "NNNNNN" into out[7]. */
void hpf_totp_code(char out[7], const unsigned char *key, size_t keylen, int64_t t);

/* Check a 6-digit code against the steps t-1, t, t+1 of time `now` (a clock drift of one step
 * either way), refusing any step <= last_step (a code already used: RFC 6238 section 5.2).
 * Returns the matched step (> 0), or 0 when the code is malformed, wrong or replayed. The
 * comparison does not stop at the first differing digit. */
int64_t hpf_totp_check(const unsigned char *key, size_t keylen, int64_t now, const char *code,
                       int64_t last_step);

/* Fill key with HPF_TOTP_KEY_LEN secure random bytes. */
void hpf_totp_new_key(unsigned char key[HPF_TOTP_KEY_LEN]);

/* Base32 (RFC 4648 alphabet, upper case, no padding) of n bytes into out (8n/5+2 bytes).
 * Returns out. */
char *hpf_base32(char *out, size_t outsz, const unsigned char *in, size_t n);

/* Decode base32, case-insensitive, ignoring spaces and '=' padding (as authenticator apps
 * show and accept secrets). Returns the number of bytes written to out (at most outsz), or -1
 * for a character outside the alphabet, a length that is no whole number of bytes, or output
 * that would not fit. */
int hpf_base32_decode(unsigned char *out, size_t outsz, const char *in);

/* The provisioning URI authenticator apps scan:
 * otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30,
 * issuer and account percent-encoded. Returns 0 or HPF_ETOOBIG. */
int hpf_totp_uri(char *out, size_t outsz, const char *issuer, const char *account,
                 const unsigned char *key, size_t keylen, hpf_err *err);

#endif
