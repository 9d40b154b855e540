/*
 * trust/sm2: SM2 signatures (GB/T 32918) over SM3 through OpenSSL 3, and the keys that make
 * them: the centre's seal key, which signs the daily audit checkpoints (trust/checkpoint), and
 * one key pair per operator, which signs the operator's approvals (maker-checker).
 *
 * Every signature uses the distinguishing ID "1234567812345678" (the GB/T 32918 default), so
 * that `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678` and any
 * other SM2 implementation verify it. A signature is the DER encoding of (r, s), carried as
 * lower-case hex. A key is named by its fingerprint, the SM3 of its DER SubjectPublicKeyInfo
 * (64 hex), and by its key id, the first 16 hex of the fingerprint.
 *
 * Private keys live in PEM files outside the database (PKCS#8, mode 0600, in DATA_DIR/keys,
 * mode 0700): DATA_DIR/keys/centre-sm2.pem and DATA_DIR/keys/operators/<user id>.pem. Public
 * keys live in the database (table sm2_key, immutable), so that a signature made with a key
 * that has since been rotated still verifies. In production the private keys would sit in a
 * USB key or a signing server; the functions below keep the same shape (docs/internals/crypto.md).
 *
 * A key handle is immutable once made and may be used by several threads at once.
 */
#ifndef HPF_TRUST_SM2_H
#define HPF_TRUST_SM2_H

#include "base/buf.h"
#include "base/err.h"
#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hpf_sm2_key hpf_sm2_key;

#define HPF_SM2_DISTID      "1234567812345678"
#define HPF_SM2_SIG_MAX     72                        /* DER of (r, s): at most 72 bytes */
#define HPF_SM2_SIG_HEX     (2 * HPF_SM2_SIG_MAX + 1) /* hex of a signature, with its NUL */
#define HPF_SM2_KEY_ID_LEN  16                        /* hex characters of a key id */
#define HPF_SM2_CENTRE      "centre"                  /* owner of the centre's seal keys */
#define HPF_SM2_OPERATOR    "operator"                /* owner of an operator's keys */
#define HPF_SM2_CENTRE_FILE "centre-sm2.pem"          /* in the keys directory */

/* A new key pair. Returns 0 or HPF_EINTERNAL (OpenSSL without SM2). */
int hpf_sm2_generate(hpf_sm2_key **out, hpf_err *err);
/* Accepts NULL. The private part is freed by OpenSSL, which clears it. */
void hpf_sm2_free(hpf_sm2_key *k);
/* True when the handle holds the private key (it can sign). */
bool hpf_sm2_has_private(const hpf_sm2_key *k);

/* Write the private key to `path` as PEM (PKCS#8), mode 0600, never replacing a file: it is
 * written to a temporary file next to it and linked into place. Returns 0, HPF_ECONFLICT (the
 * file exists already), HPF_EINVAL (no private key in k) or HPF_EIO. */
int hpf_sm2_save_private(const hpf_sm2_key *k, const char *path, hpf_err *err);
/* Read a private key from a PEM file. Refuses a file that group or others may read (HPF_EIO)
 * and a key that is not SM2 (HPF_EINVAL). Returns 0, HPF_ENOTFOUND (no such file), HPF_EINVAL
 * or HPF_EIO. */
int hpf_sm2_load_private(hpf_sm2_key **out, const char *path, hpf_err *err);
/* A public key from PEM text (SubjectPublicKeyInfo). Returns 0 or HPF_EINVAL. */
int hpf_sm2_load_public(hpf_sm2_key **out, const char *pem, hpf_err *err);

/* The public key as PEM text appended to `out`. Returns 0 or HPF_EINTERNAL. */
int hpf_sm2_public_pem(const hpf_sm2_key *k, hpf_buf *out, hpf_err *err);
/* The fingerprint (64 hex) and the key id (its first 16 hex); either may be NULL. */
void hpf_sm2_fingerprint(const hpf_sm2_key *k, char fp[65], char key_id[HPF_SM2_KEY_ID_LEN + 1]);

/* Sign `n` bytes: sig_hex gets the DER signature as hex. Returns 0, HPF_EINVAL (no private
 * key) or HPF_EINTERNAL. */
int hpf_sm2_sign(const hpf_sm2_key *k, const void *msg, size_t n, char sig_hex[HPF_SM2_SIG_HEX],
                 hpf_err *err);
/* Verify a hex signature over `n` bytes. Returns 0 when it verifies, HPF_ECONFLICT (rule
 * sm2.signature) when it does not, HPF_EINVAL (rule sm2.signature_format) when sig_hex is not
 * the hex of at most HPF_SM2_SIG_MAX bytes. */
int hpf_sm2_verify(const hpf_sm2_key *k, const void *msg, size_t n, const char *sig_hex,
                   hpf_err *err);

/* ---- public keys in the database (table sm2_key) ---- */

/* Record the public key of `k` for `owner` (HPF_SM2_CENTRE, or HPF_SM2_OPERATOR with the
 * operator's app_user id; 0 for none), in the caller's open write transaction. A key already
 * recorded is left as it is. key_id (may be NULL) receives its id. Returns 0 or a database
 * error. */
int hpf_sm2_key_register(hpf_db *db, const hpf_sm2_key *k, const char *owner, int64_t user_id,
                         char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err);

/* A recorded public key by its id, with its owner and user id (0 for the centre). Returns 0,
 * HPF_ENOTFOUND or a database error. */
int hpf_sm2_key_lookup(hpf_db *db, const char *key_id, hpf_sm2_key **out, char owner[16],
                       int64_t *user_id, hpf_err *err);

/* A recorded public key, for listing. */
typedef struct hpf_sm2_pubkey {
    char key_id[HPF_SM2_KEY_ID_LEN + 1];
    char fingerprint[65];
    char created_at[32]; /* valid from (UTC) */
    char *pem;           /* owned: free with hpf_sm2_pubkeys_free */
} hpf_sm2_pubkey;

/* Every recorded centre key, oldest first (the last is the one in use). *items is malloc'd.
 * Returns 0 or a database error. */
int hpf_sm2_centre_keys(hpf_db *db, hpf_sm2_pubkey **items, size_t *n, hpf_err *err);
/* Accepts NULL. */
void hpf_sm2_pubkeys_free(hpf_sm2_pubkey *items, size_t n);

/* ---- the centre's seal key ---- */

/* Make sure the centre has a seal key: create `keys_dir` (0700) and keys_dir/centre-sm2.pem when
 * missing, and record its public key in sm2_key (its own transaction). *created tells whether
 * the file was made now. Several processes starting at once on one data directory end up with
 * one key. Returns 0, or an I/O or database error. */
int hpf_sm2_centre_ensure(hpf_db *db, const char *keys_dir, bool *created,
                          char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err);
/* Load the centre's seal key (private) from keys_dir/centre-sm2.pem. Errors as
 * hpf_sm2_load_private. */
int hpf_sm2_centre_load(const char *keys_dir, hpf_sm2_key **out, hpf_err *err);

/* Replace the centre's seal key with a new one: the new public key is recorded (with an audit
 * event "keys.seal_rotated" naming both key ids, its own transaction) before the new private
 * key takes the place of keys_dir/centre-sm2.pem, so a signing server never holds a key the
 * database does not know. The old public key keeps its row: what it signed still verifies. The
 * old private key is gone from the file (it is not kept anywhere). Servers load the key when
 * they sign, so the next checkpoint uses the new one. Returns 0, HPF_ENOTFOUND (no seal key yet:
 * `hpf serve` or `hpf audit checkpoint` makes one), or an I/O or database error. */
int hpf_sm2_centre_rotate(hpf_db *db, const char *keys_dir,
                          char old_id[HPF_SM2_KEY_ID_LEN + 1],
                          char new_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err);

/* ---- operators' keys (for approvals: maker-checker) ---- */

/* Give operator `user_id` a new key pair, inside the caller's open write transaction: the public
 * key goes to sm2_key, the private key to keys_dir/operators/<user_id>.pem (directories made
 * 0700). A key made before for the same operator is replaced on disk (rotation); its public key
 * stays recorded, so what it signed still verifies. If the caller's transaction then fails, the
 * file stays behind unused. Returns 0, or an I/O or database error. */
int hpf_sm2_operator_create(hpf_db *db, const char *keys_dir, int64_t user_id,
                            char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err);

/* Give every operator login that has no key file under keys_dir a key pair, one transaction
 * each: operators made by a path that makes no key (the demo loader), or whose file is not on
 * this server. *made counts them. Returns 0, or an I/O or database error. */
int hpf_sm2_operators_ensure(hpf_db *db, const char *keys_dir, int64_t *made, hpf_err *err);

/* Sign an approval payload (canonical bytes chosen by the caller, e.g. "approval/1|...") with
 * operator `user_id`'s current private key. key_id receives the id of the key used: store it
 * with the signature. Returns 0, HPF_ENOTFOUND (rule sm2.no_key: the operator has no key) or
 * HPF_EIO. */
int hpf_sm2_operator_sign(const char *keys_dir, int64_t user_id, const void *msg, size_t n,
                          char key_id[HPF_SM2_KEY_ID_LEN + 1], char sig_hex[HPF_SM2_SIG_HEX],
                          hpf_err *err);

/* Verify a stored approval signature against the recorded public key `key_id`, which must
 * belong to operator `user_id`. Returns 0 when it verifies; HPF_ECONFLICT with rule
 * sm2.signature (it does not), sm2.key_owner (the key is someone else's) or sm2.unknown_key
 * (no such key recorded); HPF_EINVAL (rule sm2.signature_format); or a database error. */
int hpf_sm2_operator_verify(hpf_db *db, int64_t user_id, const char *key_id, const void *msg,
                            size_t n, const char *sig_hex, hpf_err *err);

#endif
