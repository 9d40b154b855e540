/*
 * trust/password: password hashing with argon2id (libargon2) and the password rules.
 * Encoded hashes carry their own salt and cost, so costs can rise without a migration.
 */
#ifndef HPF_TRUST_PASSWORD_H
#define HPF_TRUST_PASSWORD_H

#include "base/err.h"

#include <stdbool.h>

#define HPF_PW_HASH_MAX 128

/* Hash `pw` with argon2id (t=2, m=19 MiB, p=1, 16-byte random salt) into out. Returns 0 or
 * HPF_EINTERNAL. */
int hpf_password_hash(char out[HPF_PW_HASH_MAX], const char *pw, hpf_err *err);

/* True when `pw` matches the encoded argon2id hash. Constant work whether or not it matches. */
bool hpf_password_verify(const char *encoded, const char *pw);

/* Burn the same work as a verification, for logins of unknown users (no timing oracle). */
void hpf_password_dummy_verify(const char *pw);

/* Password rules: 10..128 bytes, valid text, at least three of lower, upper, digit, symbol,
 * and not containing the username (`username` may be NULL; ignoring case; names shorter than 3
 * are not looked for). Returns 0 or HPF_EINVAL naming `field` with rule "password.weak" and a
 * message that says what is missing. */
int hpf_password_check(const char *pw, const char *username, const char *field, hpf_err *err);

#endif
