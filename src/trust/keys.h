/*
 * trust/keys: the keys of personal-field encryption, held in one file outside the database
 * (docs/internals/crypto.md, "Keys"). The file, DIR/field.keys (DIR is DATA_DIR/keys, mode
 * 0700; the file 0600), holds numbered field-key versions (each an SM4 key of 16 bytes for
 * SM4-CTR and an HMAC-SM3 key of 32 bytes, drawn from the OS CSPRNG), which of them is current
 * (new ciphertexts use it), and one blind-index key of 32 bytes. Text, one item a line:
 *
 *     hpf-keys 1
 *     bidx <64 hex>
 *     field v1 <32 hex SM4 key> <64 hex HMAC key>
 *     current v1
 *
 * The blind-index key is never rotated: blind indexes are stored (unique index, login lookup,
 * audit payloads) and would all change with it. Field versions are added by rotation and
 * removed by retirement once no row uses them.
 *
 * A loaded hpf_keys is read-only and may be shared by threads. Key bytes never leave this
 * module except to trust/fieldcrypt (hpf_keys_field, hpf_keys_bidx) and are wiped on free.
 * Changes (add, set current, retire) write a new file next to the old one and rename it over,
 * so a crash leaves either file whole.
 */
#ifndef HPF_TRUST_KEYS_H
#define HPF_TRUST_KEYS_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hpf_keys hpf_keys;

#define HPF_KEYS_FILE     "field.keys"
#define HPF_KEYS_SM4_LEN  16
#define HPF_KEYS_MAC_LEN  32
#define HPF_KEYS_BIDX_LEN 32
#define HPF_KEYS_VERSIONS 64   /* versions a file may hold */
#define HPF_KEYS_MAX_VER  9999 /* highest version number */

/* One field-key version (for trust/fieldcrypt only). */
typedef struct hpf_field_key {
    int version;
    unsigned char sm4[HPF_KEYS_SM4_LEN];
    unsigned char mac[HPF_KEYS_MAC_LEN];
} hpf_field_key;

/* Load DIR/field.keys. Returns 0; HPF_ENOTFOUND when there is no such file (*out NULL);
 * HPF_EFORBIDDEN when the file is readable by group or others; HPF_EINVAL when it is
 * malformed (the message names the line, never a key); HPF_EIO. */
int hpf_keys_load(hpf_keys **out, const char *dir, hpf_err *err);

/* Create DIR (0700) when absent and DIR/field.keys (0600) with version v1 current and a
 * blind-index key, all fresh from the OS CSPRNG. HPF_ECONFLICT when the file exists, HPF_EIO. */
int hpf_keys_create(hpf_keys **out, const char *dir, hpf_err *err);

/* Add a new version (the highest so far + 1), fresh from the CSPRNG; it becomes current when
 * make_current. The file is rewritten before this returns 0. *version receives the number.
 * HPF_ETOOBIG when the file holds HPF_KEYS_VERSIONS versions already; HPF_EIO. */
int hpf_keys_add(hpf_keys *k, bool make_current, int *version, hpf_err *err);

/* Make `version` current and rewrite the file. HPF_ENOTFOUND when it is not in the file. */
int hpf_keys_set_current(hpf_keys *k, int version, hpf_err *err);

/* Remove `version` from the file (its key is wiped). The caller checks first that no stored
 * value uses it. HPF_ENOTFOUND (not in the file), HPF_ECONFLICT (it is current), HPF_EIO. */
int hpf_keys_retire(hpf_keys *k, int version, hpf_err *err);

/* Take an exclusive lock on the key directory for a change (rotate, retire), held until
 * hpf_keys_free. HPF_EBUSY when another process holds it. */
int hpf_keys_lock(hpf_keys *k, hpf_err *err);

/* The current version. */
int hpf_keys_current(const hpf_keys *k);
/* The highest version in the file. */
int hpf_keys_newest(const hpf_keys *k);
/* Whether `version` is in the file. */
bool hpf_keys_has(const hpf_keys *k, int version);
/* The versions in the file, ascending: returns how many there are, writes up to max. */
size_t hpf_keys_versions(const hpf_keys *k, int *out, size_t max);
/* The file's path (for messages). */
const char *hpf_keys_path(const hpf_keys *k);

/* Key material, for trust/fieldcrypt only. NULL when the version is not in the file. */
const hpf_field_key *hpf_keys_field(const hpf_keys *k, int version);
const unsigned char *hpf_keys_bidx(const hpf_keys *k);

/* Wipe and free. Accepts NULL. */
void hpf_keys_free(hpf_keys *k);

#endif
