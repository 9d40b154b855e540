/*
 * trust/fieldcrypt: personal fields at rest (RULES 11; docs/internals/crypto.md, "Field
 * encryption"). A value is stored as the text
 *
 *     f1.<version>.<base64url of IV || CT || TAG>
 *
 * CT = SM4-CTR(key version's SM4 key, random 16-byte IV, value); TAG = HMAC-SM3(the version's
 * MAC key, "f1" || u32 version || u32 len || field || u32 len || context || IV || CT), u32 being
 * big-endian. OpenSSL 3 has no SM4-GCM: this is encrypt-then-MAC with separate keys. The tag
 * binds the column (field, "phone") and the record (context, the member's account number), so
 * a ciphertext copied to another column or another row does not decrypt.
 *
 * Values are found through a blind index: hex HMAC-SM3(blind-index key, field || 0x00 ||
 * normalised value), normalised by trimming blanks and upper-casing ASCII letters (the X of a
 * resident ID). Equal values of one field have equal indexes; without the key an index tells
 * nothing, and it is not a guess-checking oracle for anyone without the key.
 *
 * All functions are thread-safe; keys are borrowed.
 */
#ifndef HPF_TRUST_FIELDCRYPT_H
#define HPF_TRUST_FIELDCRYPT_H

#include "base/err.h"
#include "trust/keys.h"

#include <stddef.h>

#define HPF_FC_PLAIN_MAX 255 /* longest value */
/* Room for the text of a value of HPF_FC_PLAIN_MAX bytes, with its NUL. */
#define HPF_FC_TEXT_MAX 420
#define HPF_FC_BIDX_LEN 64 /* hex characters of a blind index */

/* Encrypt `plain` (at most HPF_FC_PLAIN_MAX bytes) for column `field` of record `context` with
 * the current version into out (outsz >= HPF_FC_TEXT_MAX is always enough). Returns 0,
 * HPF_EINVAL (value too long, or out too small), HPF_EINTERNAL (OpenSSL failed). */
int hpf_fc_encrypt(const hpf_keys *k, const char *field, const char *context, const char *plain,
                   char *out, size_t outsz, hpf_err *err);

/* Encrypt with a given version (rotation writes the current one; tests pin one). Same
 * returns, and HPF_ENOTFOUND when the file lacks the version. */
int hpf_fc_encrypt_v(const hpf_keys *k, int version, const char *field, const char *context,
                     const char *plain, char *out, size_t outsz, hpf_err *err);

/* Decrypt a stored text of column `field` of record `context` into out (NUL-terminated;
 * outsz > HPF_FC_PLAIN_MAX is always enough). The tag is checked, in constant time, before
 * anything is decrypted. Returns 0; HPF_ENOTFOUND when the key file lacks the text's version;
 * HPF_ECONFLICT when the text is malformed or its tag does not match (changed, or moved from
 * another column or record): treat it as tampering; HPF_EINTERNAL. */
int hpf_fc_decrypt(const hpf_keys *k, const char *field, const char *context, const char *text,
                   char *out, size_t outsz, hpf_err *err);

/* The key version of a stored text; -1 when it is not shaped f1.<version>.<...>. */
int hpf_fc_version(const char *text);

/* The blind index of `value` in column `field`: 64 hex characters and a NUL. */
void hpf_fc_bidx(const hpf_keys *k, const char *field, const char *value,
                 char out[HPF_FC_BIDX_LEN + 1]);

#endif
