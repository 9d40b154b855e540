/* Unit tests for trust/sm2: SM2 signatures over SM3 with the GB/T 32918 distinguishing ID, key
 * files, fingerprints, and the public-key table with operators' keys. */
#include "base/buf.h"
#include "base/err.h"
#include "store/db.h"
#include "store/migrate.h"
#include "trust/sm2.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A vector made with the OpenSSL command line (a second implementation of the signing side):
 *   openssl genpkey -algorithm SM2 -out k.pem; openssl pkey -in k.pem -pubout -out pub.pem
 *   printf 'hpf-approval/1|test vector|42' > msg
 *   openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678 -inkey k.pem \
 *       -in msg -out sig
 * and the fingerprint as `openssl pkey -pubin -in pub.pem -outform DER | openssl dgst -sm3`. */
static const char vec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE2IMOwRF3iV1QH7eWfp2Bl/h0RQIW\n"
                              "xwSh9Vzk+HXxUOS6wWikyOICybs/uCihMeUBkuzE76mlNtiZW73X9oSnqg==\n"
                              "-----END PUBLIC KEY-----\n";
static const char vec_msg[] = "hpf-approval/1|test vector|42";
static const char vec_sig[] =
    "3046022100ca80139c6aa1e6c8a088ed499770e4b1a339474661884f1264bcc0fa07cca8b2022100cb3192"
    "26bcabc519e77939cd03abf0820a6ee7ed131e3b8da6ec5b4e428e8564";
/* The same message signed with another distinguishing ID (distid:ALICE123@YAHOO.COM). */
static const char vec_sig_other_id[] =
    "3046022100a372f77a1971117028b9eac747ed078808d6850c907abb7717b94f720a61913b022100dedfa1"
    "11b4f39e7212506b27ce7d8fdfb979c3e4e34a28f96d5421fffa2b4605";
static const char vec_fp[] = "2e123f223c2ee09f72fb37fd5bb5b0399b59472f15a6f003cd7586e6a00a62bd";

static void expect_rule(const hpf_err *err, int rc, int code, const char *rule)
{
    cr_assert_eq(rc, code, "rc %d, want %d (%s)", rc, code, err->msg);
    cr_assert_str_eq(err->rule, rule);
}

Test(sm2, a_signature_verifies_and_a_changed_message_or_signature_does_not)
{
    hpf_sm2_key *k = NULL;
    hpf_err err = HPF_ERR_INIT;
    char sig[HPF_SM2_SIG_HEX];
    const char msg[] = "hpf-checkpoint/1|320900|20261115|1|57|57|abc";
    cr_assert_eq(hpf_sm2_generate(&k, &err), 0, "%s", err.msg);
    cr_assert(hpf_sm2_has_private(k));
    cr_assert_eq(hpf_sm2_sign(k, msg, strlen(msg), sig, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_sm2_verify(k, msg, strlen(msg), sig, &err), 0, "%s", err.msg);

    char other[sizeof msg];
    memcpy(other, msg, sizeof msg);
    other[20] ^= 1;
    expect_rule(&err, hpf_sm2_verify(k, other, strlen(other), sig, &err), HPF_ECONFLICT,
                "sm2.signature");

    /* Each hex digit of the signature matters (a digit in r, one in s, the DER header). */
    for (size_t at = 0; at < strlen(sig); at += 17) {
        char bad[HPF_SM2_SIG_HEX];
        memcpy(bad, sig, sizeof bad);
        bad[at] = bad[at] == '0' ? '1' : '0';
        hpf_err_clear(&err);
        expect_rule(&err, hpf_sm2_verify(k, msg, strlen(msg), bad, &err), HPF_ECONFLICT,
                    "sm2.signature");
    }
    hpf_sm2_free(k);
}

Test(sm2, signatures_are_randomised_and_both_verify)
{
    hpf_sm2_key *k = NULL;
    hpf_err err = HPF_ERR_INIT;
    char a[HPF_SM2_SIG_HEX], b[HPF_SM2_SIG_HEX];
    cr_assert_eq(hpf_sm2_generate(&k, &err), 0);
    cr_assert_eq(hpf_sm2_sign(k, "x", 1, a, &err), 0);
    cr_assert_eq(hpf_sm2_sign(k, "x", 1, b, &err), 0);
    cr_assert_str_neq(a, b);
    cr_assert_eq(hpf_sm2_verify(k, "x", 1, a, &err), 0);
    cr_assert_eq(hpf_sm2_verify(k, "x", 1, b, &err), 0);
    hpf_sm2_free(k);
}

Test(sm2, malformed_signatures_are_refused_as_such)
{
    hpf_sm2_key *k = NULL;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_sm2_generate(&k, &err), 0);
    const char *bad[] = {"", "0", "zz", "30450221", "3046022100CA80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err_clear(&err);
        int rc = hpf_sm2_verify(k, "x", 1, bad[i], &err);
        if (i == 3) /* well-formed hex, not a DER signature: simply does not verify */
            expect_rule(&err, rc, HPF_ECONFLICT, "sm2.signature");
        else
            expect_rule(&err, rc, HPF_EINVAL, "sm2.signature_format");
    }
    char longer[2 * HPF_SM2_SIG_MAX + 3];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    expect_rule(&err, hpf_sm2_verify(k, "x", 1, longer, &err), HPF_EINVAL, "sm2.signature_format");
    hpf_sm2_free(k);
}

Test(sm2, a_signature_made_by_the_openssl_command_line_verifies)
{
    hpf_sm2_key *pub = NULL;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_sm2_load_public(&pub, vec_pub, &err), 0, "%s", err.msg);
    cr_assert(!hpf_sm2_has_private(pub));
    cr_assert_eq(hpf_sm2_verify(pub, vec_msg, strlen(vec_msg), vec_sig, &err), 0, "%s", err.msg);
    /* The distinguishing ID is part of what is signed: another ID, another signature. */
    expect_rule(&err, hpf_sm2_verify(pub, vec_msg, strlen(vec_msg), vec_sig_other_id, &err),
                HPF_ECONFLICT, "sm2.signature");
    char fp[65], id[HPF_SM2_KEY_ID_LEN + 1];
    hpf_sm2_fingerprint(pub, fp, id);
    cr_assert_str_eq(fp, vec_fp);
    cr_assert_eq(strncmp(id, vec_fp, 16), 0);
    cr_assert_eq(strlen(id), 16);
    char sig[HPF_SM2_SIG_HEX];
    cr_assert_eq(hpf_sm2_sign(pub, "x", 1, sig, &err), HPF_EINVAL, "a public key cannot sign");
    hpf_sm2_free(pub);
}

Test(sm2, the_public_pem_round_trips_with_the_same_fingerprint)
{
    hpf_sm2_key *k = NULL, *pub = NULL;
    hpf_err err = HPF_ERR_INIT;
    hpf_buf pem = HPF_BUF_INIT;
    char sig[HPF_SM2_SIG_HEX], fa[65], fb[65];
    cr_assert_eq(hpf_sm2_generate(&k, &err), 0);
    cr_assert_eq(hpf_sm2_public_pem(k, &pem, &err), 0);
    cr_assert(strstr(pem.data, "-----BEGIN PUBLIC KEY-----") == pem.data);
    cr_assert(strstr(pem.data, "PRIVATE") == NULL);
    cr_assert_eq(hpf_sm2_load_public(&pub, pem.data, &err), 0, "%s", err.msg);
    hpf_sm2_fingerprint(k, fa, NULL);
    hpf_sm2_fingerprint(pub, fb, NULL);
    cr_assert_str_eq(fa, fb);
    cr_assert_eq(hpf_sm2_sign(k, "payload", 7, sig, &err), 0);
    cr_assert_eq(hpf_sm2_verify(pub, "payload", 7, sig, &err), 0);
    cr_assert_eq(hpf_sm2_load_public(&pub, "not a key", &err), HPF_EINVAL);
    hpf_buf_cleanup(&pem);
    hpf_sm2_free(pub);
    hpf_sm2_free(k);
}

static char tmpdir[PATH_MAX];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hpf-sm2-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

Test(sm2, a_private_key_file_is_0600_never_replaced_and_refused_when_others_may_read_it,
     .init = make_tmp, .fini = rm_tmp)
{
    hpf_sm2_key *k = NULL, *back = NULL;
    hpf_err err = HPF_ERR_INIT;
    char path[PATH_MAX + 16], fa[65], fb[65];
    snprintf(path, sizeof path, "%s/k.pem", tmpdir);
    cr_assert_eq(hpf_sm2_load_private(&back, path, &err), HPF_ENOTFOUND);
    cr_assert_eq(hpf_sm2_generate(&k, &err), 0);
    cr_assert_eq(hpf_sm2_save_private(k, path, &err), 0, "%s", err.msg);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(hpf_sm2_save_private(k, path, &err), HPF_ECONFLICT, "an existing key is kept");
    cr_assert_eq(hpf_sm2_load_private(&back, path, &err), 0, "%s", err.msg);
    hpf_sm2_fingerprint(k, fa, NULL);
    hpf_sm2_fingerprint(back, fb, NULL);
    cr_assert_str_eq(fa, fb);
    char sig[HPF_SM2_SIG_HEX];
    cr_assert_eq(hpf_sm2_sign(back, "m", 1, sig, &err), 0);
    cr_assert_eq(hpf_sm2_verify(k, "m", 1, sig, &err), 0);
    hpf_sm2_free(back);
    back = NULL;
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(hpf_sm2_load_private(&back, path, &err), HPF_EIO);
    cr_assert(strstr(err.msg, "chmod 600") != NULL, "%s", err.msg);
    cr_assert_null(back);
    hpf_sm2_free(k);
}

/* A migrated SQLite database in tmpdir with two operators (ids 1 and 2). */
static hpf_store *open_db(hpf_db **db)
{
    hpf_store *s = NULL;
    hpf_err err = HPF_ERR_INIT;
    char url[PATH_MAX + 32];
    snprintf(url, sizeof url, "sqlite:%s/hpf.db", tmpdir);
    cr_assert_eq(hpf_store_open(&s, url, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_store_conn(s, db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_migrate(*db, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_db_exec(*db,
                             "INSERT INTO app_user(id, username, pw_hash, role, display_name)"
                             " VALUES (1, 'op1', 'x', 'operator', 'A'),"
                             " (2, 'op2', 'x', 'operator', 'B')",
                             &err),
                 0, "%s", err.msg);
    return s;
}

Test(sm2, an_operator_signs_an_approval_and_it_verifies_only_as_theirs, .init = make_tmp,
     .fini = rm_tmp)
{
    hpf_db *db;
    hpf_store *s = open_db(&db);
    hpf_err err = HPF_ERR_INIT;
    char keys[PATH_MAX + 8], id1[17], id2[17], used[17], sig[HPF_SM2_SIG_HEX];
    const char approval[] = "approval/1|remittance|HJ20261115000001|approve|1";
    snprintf(keys, sizeof keys, "%s/keys", tmpdir);

    cr_assert_eq(hpf_sm2_operator_sign(keys, 1, approval, strlen(approval), used, sig, &err),
                 HPF_ENOTFOUND);
    cr_assert_str_eq(err.rule, "sm2.no_key");
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_sm2_operator_create(db, keys, 1, id1, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_sm2_operator_create(db, keys, 2, id2, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0);
    cr_assert_str_neq(id1, id2);

    cr_assert_eq(hpf_sm2_operator_sign(keys, 1, approval, strlen(approval), used, sig, &err), 0,
                 "%s", err.msg);
    cr_assert_str_eq(used, id1);
    cr_assert_eq(hpf_sm2_operator_verify(db, 1, used, approval, strlen(approval), sig, &err), 0,
                 "%s", err.msg);
    /* Someone else's key, a changed payload, a key nobody recorded. */
    expect_rule(&err, hpf_sm2_operator_verify(db, 2, used, approval, strlen(approval), sig, &err),
                HPF_ECONFLICT, "sm2.key_owner");
    expect_rule(&err, hpf_sm2_operator_verify(db, 1, used, "approval/1|x", 12, sig, &err),
                HPF_ECONFLICT, "sm2.signature");
    expect_rule(
        &err,
        hpf_sm2_operator_verify(db, 1, "0123456789abcdef", approval, strlen(approval), sig, &err),
        HPF_ECONFLICT, "sm2.unknown_key");

    /* Rotation: a new key signs from now on; what the old one signed still verifies. */
    char id1b[17], sig2[HPF_SM2_SIG_HEX];
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_sm2_operator_create(db, keys, 1, id1b, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0);
    cr_assert_str_neq(id1b, id1);
    cr_assert_eq(hpf_sm2_operator_sign(keys, 1, approval, strlen(approval), used, sig2, &err), 0);
    cr_assert_str_eq(used, id1b);
    cr_assert_eq(hpf_sm2_operator_verify(db, 1, id1, approval, strlen(approval), sig, &err), 0);
    cr_assert_eq(hpf_sm2_operator_verify(db, 1, id1b, approval, strlen(approval), sig2, &err), 0);

    /* The public rows are immutable. */
    cr_assert_lt(hpf_db_exec(db, "DELETE FROM sm2_key", &err), 0);
    cr_assert_lt(hpf_db_exec(db, "UPDATE sm2_key SET owner = 'centre'", &err), 0);
    hpf_store_free(s);
}

Test(sm2, the_centre_key_is_made_once_and_recorded, .init = make_tmp, .fini = rm_tmp)
{
    hpf_db *db;
    hpf_store *s = open_db(&db);
    hpf_err err = HPF_ERR_INIT;
    char keys[PATH_MAX + 8], a[17], b[17], fp[65];
    bool created = false;
    snprintf(keys, sizeof keys, "%s/keys", tmpdir);
    cr_assert_eq(hpf_sm2_centre_ensure(db, keys, &created, a, &err), 0, "%s", err.msg);
    cr_assert(created);
    cr_assert_eq(hpf_sm2_centre_ensure(db, keys, &created, b, &err), 0, "%s", err.msg);
    cr_assert(!created);
    cr_assert_str_eq(a, b);
    struct stat sb;
    cr_assert_eq(stat(keys, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);

    hpf_sm2_key *seal = NULL, *pub = NULL;
    char owner[16];
    int64_t uid = -1;
    cr_assert_eq(hpf_sm2_centre_load(keys, &seal, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_sm2_key_lookup(db, a, &pub, owner, &uid, &err), 0, "%s", err.msg);
    cr_assert_str_eq(owner, "centre");
    cr_assert_eq(uid, 0);
    hpf_sm2_fingerprint(pub, fp, NULL);
    cr_assert_eq(strncmp(fp, a, 16), 0);

    hpf_sm2_pubkey *items = NULL;
    size_t n = 0;
    cr_assert_eq(hpf_sm2_centre_keys(db, &items, &n, &err), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(items[0].key_id, a);
    cr_assert_str_eq(items[0].fingerprint, fp);
    hpf_sm2_pubkeys_free(items, n);
    hpf_sm2_free(pub);
    hpf_sm2_free(seal);
    hpf_store_free(s);
}
