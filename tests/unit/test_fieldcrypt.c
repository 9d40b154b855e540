/* Unit tests for trust/fieldcrypt and trust/keys: SM4-CTR + HMAC-SM3 field encryption, blind
 * indexes and the key file (docs/internals/crypto.md). */
#include "base/err.h"
#include "trust/fieldcrypt.h"
#include "trust/keys.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static hpf_keys *keys;

/* A fresh key directory per test, under the temp dir. */
static void setup(void)
{
    char base[] = "/tmp/hpf-fc-XXXXXX";
    cr_assert_not_null(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/keys", base);
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_keys_create(&keys, dir, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    hpf_keys_free(keys);
    keys = NULL;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strrchr(dir, '/') - dir), dir);
    cr_assert_eq(system(cmd), 0);
}

static void enc(const char *field, const char *ctx, const char *plain, char out[HPF_FC_TEXT_MAX])
{
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_fc_encrypt(keys, field, ctx, plain, out, HPF_FC_TEXT_MAX, &err), 0, "%s",
                 err.msg);
}

static int dec(const char *field, const char *ctx, const char *text, char out[HPF_FC_PLAIN_MAX + 1],
               hpf_err *err)
{
    return hpf_fc_decrypt(keys, field, ctx, text, out, HPF_FC_PLAIN_MAX + 1, err);
}

TestSuite(fieldcrypt, .init = setup, .fini = teardown);

Test(fieldcrypt, round_trips_ids_phones_and_long_text)
{
    char long_text[HPF_FC_PLAIN_MAX + 1];
    memset(long_text, 'a', HPF_FC_PLAIN_MAX);
    long_text[HPF_FC_PLAIN_MAX] = '\0';
    const char *values[] = {"11010519491231002X", "13800000000", "", "盐城市亭湖区", long_text};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char text[HPF_FC_TEXT_MAX], back[HPF_FC_PLAIN_MAX + 1];
        hpf_err err = HPF_ERR_INIT;
        enc("id_number", "320900000000000001", values[i], text);
        cr_assert_eq(strncmp(text, "f1.1.", 5), 0, "%s", text);
        cr_assert_eq(hpf_fc_version(text), 1);
        cr_assert_eq(dec("id_number", "320900000000000001", text, back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back, values[i]);
        /* Nothing of the value shows in the text. */
        if (strlen(values[i]) > 4)
            cr_assert_null(strstr(text, values[i]));
    }
}

Test(fieldcrypt, refuses_a_value_too_long_to_store)
{
    char big[HPF_FC_PLAIN_MAX + 2], text[HPF_FC_TEXT_MAX];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_fc_encrypt(keys, "phone", "c", big, text, sizeof text, &err), HPF_EINVAL);
}

Test(fieldcrypt, two_encryptions_of_one_value_differ)
{
    char a[HPF_FC_TEXT_MAX], b[HPF_FC_TEXT_MAX];
    enc("phone", "320900000000000001", "13800000000", a);
    enc("phone", "320900000000000001", "13800000000", b);
    cr_assert_str_neq(a, b, "a random IV per value");
}

Test(fieldcrypt, every_changed_character_is_refused)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char text[HPF_FC_TEXT_MAX], back[HPF_FC_PLAIN_MAX + 1];
    enc("id_number", "320900000000000001", "11010519491231002X", text);
    size_t n = strlen(text);
    /* Each position of the base64 body, changed to each other character of the alphabet. */
    for (size_t i = 5; i < n; i++) {
        for (const char *c = alphabet; *c; c++) {
            if (*c == text[i])
                continue;
            char forged[HPF_FC_TEXT_MAX];
            memcpy(forged, text, n + 1);
            forged[i] = *c;
            hpf_err err = HPF_ERR_INIT;
            cr_assert_eq(dec("id_number", "320900000000000001", forged, back, &err), HPF_ECONFLICT,
                         "position %zu changed to %c was accepted", i, *c);
            cr_assert(strstr(err.msg, "id_number") != NULL, "%s", err.msg);
        }
    }
    /* Cut short, made longer, emptied. */
    char forged[HPF_FC_TEXT_MAX + 2];
    hpf_err err = HPF_ERR_INIT;
    snprintf(forged, sizeof forged, "%.*s", (int)n - 1, text);
    cr_assert_eq(dec("id_number", "320900000000000001", forged, back, &err), HPF_ECONFLICT);
    snprintf(forged, sizeof forged, "%sAA", text);
    cr_assert_eq(dec("id_number", "320900000000000001", forged, back, &err), HPF_ECONFLICT);
    cr_assert_eq(dec("id_number", "320900000000000001", "f1.1.", back, &err), HPF_ECONFLICT);
    cr_assert_eq(dec("id_number", "320900000000000001", "11010519491231002X", back, &err),
                 HPF_ECONFLICT, "a clear value is not a ciphertext");
}

Test(fieldcrypt, a_ciphertext_moved_to_another_field_or_record_is_refused)
{
    char text[HPF_FC_TEXT_MAX], back[HPF_FC_PLAIN_MAX + 1];
    hpf_err err = HPF_ERR_INIT;
    enc("id_number", "320900000000000001", "11010519491231002X", text);
    cr_assert_eq(dec("phone", "320900000000000001", text, back, &err), HPF_ECONFLICT);
    cr_assert_eq(dec("id_number", "320900000000000002", text, back, &err), HPF_ECONFLICT);
    /* The length prefixes keep field and record apart: moving a byte across does not help. */
    char t2[HPF_FC_TEXT_MAX];
    enc("ab", "c", "x", t2);
    cr_assert_eq(dec("a", "bc", t2, back, &err), HPF_ECONFLICT);
    cr_assert_eq(dec("ab", "c", t2, back, &err), 0);
}

Test(fieldcrypt, blind_index_is_stable_normalised_per_field_and_keyed)
{
    char a[HPF_FC_BIDX_LEN + 1], b[HPF_FC_BIDX_LEN + 1], c[HPF_FC_BIDX_LEN + 1];
    hpf_fc_bidx(keys, "id_number", "11010519491231002X", a);
    hpf_fc_bidx(keys, "id_number", " 11010519491231002x\t", b);
    cr_assert_eq(strlen(a), HPF_FC_BIDX_LEN);
    cr_assert_str_eq(a, b, "trimmed, x upper-cased");
    hpf_fc_bidx(keys, "phone", "11010519491231002X", c);
    cr_assert_str_neq(a, c, "the field is part of the index");
    hpf_fc_bidx(keys, "id_number", "11010519491231003X", c);
    cr_assert_str_neq(a, c);

    /* Loaded again from the file: the same index. Another key file: another index. */
    hpf_keys *again = NULL, *other = NULL;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_keys_load(&again, dir, &err), 0, "%s", err.msg);
    hpf_fc_bidx(again, "id_number", "11010519491231002X", b);
    cr_assert_str_eq(a, b);
    char dir2[80];
    snprintf(dir2, sizeof dir2, "%s2", dir);
    cr_assert_eq(hpf_keys_create(&other, dir2, &err), 0, "%s", err.msg);
    hpf_fc_bidx(other, "id_number", "11010519491231002X", c);
    cr_assert_str_neq(a, c, "the index is keyed");
    hpf_keys_free(again);
    hpf_keys_free(other);
}

Test(fieldcrypt, the_key_file_is_private_and_refused_when_others_can_read_it)
{
    struct stat sb;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, HPF_KEYS_FILE);
    cr_assert_eq(stat(dir, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    hpf_keys *k = NULL;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_keys_create(&k, dir, &err), HPF_ECONFLICT, "never overwrites a key file");
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(hpf_keys_load(&k, dir, &err), HPF_EFORBIDDEN);
    cr_assert_null(k);
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(hpf_keys_load(&k, dir, &err), 0, "%s", err.msg);
    hpf_keys_free(k);
}

Test(fieldcrypt, a_malformed_key_file_is_named_without_its_bytes)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, HPF_KEYS_FILE);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("hpf-keys 1\nbidx 00112233\nfield v1 aabbccdd 0011\ncurrent v1\n", f);
    fclose(f);
    hpf_keys *k = NULL;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_keys_load(&k, dir, &err), HPF_EINVAL);
    cr_assert(strstr(err.msg, "line 2") != NULL, "%s", err.msg);
    cr_assert_null(strstr(err.msg, "00112233"), "%s", err.msg);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(hpf_keys_load(&k, dir, &err), HPF_ENOTFOUND);
}

Test(fieldcrypt, rotation_adds_a_version_old_texts_still_read_until_retired)
{
    char old_text[HPF_FC_TEXT_MAX], new_text[HPF_FC_TEXT_MAX], back[HPF_FC_PLAIN_MAX + 1];
    char before[HPF_FC_BIDX_LEN + 1], after[HPF_FC_BIDX_LEN + 1];
    hpf_err err = HPF_ERR_INIT;
    int v = 0;
    enc("phone", "acct", "13800000000", old_text);
    hpf_fc_bidx(keys, "phone", "13800000000", before);
    cr_assert_eq(hpf_keys_add(keys, true, &v, &err), 0, "%s", err.msg);
    cr_assert_eq(v, 2);
    cr_assert_eq(hpf_keys_current(keys), 2);
    enc("phone", "acct", "13800000000", new_text);
    cr_assert_eq(hpf_fc_version(new_text), 2);
    cr_assert_eq(dec("phone", "acct", old_text, back, &err), 0, "%s", err.msg);
    cr_assert_str_eq(back, "13800000000");
    hpf_fc_bidx(keys, "phone", "13800000000", after);
    cr_assert_str_eq(before, after, "the blind-index key is not rotated");

    /* The change is in the file. */
    hpf_keys *again = NULL;
    cr_assert_eq(hpf_keys_load(&again, dir, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_keys_current(again), 2);
    cr_assert(hpf_keys_has(again, 1) && hpf_keys_has(again, 2));
    hpf_keys_free(again);

    cr_assert_eq(hpf_keys_retire(keys, 2, &err), HPF_ECONFLICT, "the current version stays");
    cr_assert_eq(hpf_keys_retire(keys, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(dec("phone", "acct", old_text, back, &err), HPF_ENOTFOUND);
    cr_assert(strstr(err.msg, "v1") != NULL, "%s", err.msg);
    cr_assert_eq(dec("phone", "acct", new_text, back, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_keys_load(&again, dir, &err), 0, "%s", err.msg);
    cr_assert(!hpf_keys_has(again, 1));
    hpf_keys_free(again);

    /* A prepared version is in the file but not current. */
    cr_assert_eq(hpf_keys_add(keys, false, &v, &err), 0, "%s", err.msg);
    cr_assert_eq(v, 3);
    cr_assert_eq(hpf_keys_current(keys), 2);
    cr_assert_eq(hpf_keys_newest(keys), 3);
}
