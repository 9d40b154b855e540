/* trust/sm2: SM2 keys, signatures and the public-key table (see sm2.h). */
#include "trust/sm2.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "trust/audit.h"
#include "trust/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hpf_sm2_key {
    EVP_PKEY *pkey;
    bool priv;
};

/* OpenSSL keeps a per-thread error queue: empty it after a failure we answered ourselves, so
 * that it does not surface later in an unrelated call. */
static int ossl_fail(hpf_err *err, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char why[160] = "";
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return hpf_err_set(err, code, "SM2: %s%s%s", what, why[0] ? ": " : "", why);
}

static hpf_sm2_key *wrap(EVP_PKEY *p, bool priv)
{
    hpf_sm2_key *k = hpf_xcalloc(1, sizeof *k);
    k->pkey = p;
    k->priv = priv;
    return k;
}

int hpf_sm2_generate(hpf_sm2_key **out, hpf_err *err)
{
    EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    if (!p)
        return ossl_fail(err, HPF_EINTERNAL, "cannot generate a key pair");
    *out = wrap(p, true);
    return 0;
}

void hpf_sm2_free(hpf_sm2_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

bool hpf_sm2_has_private(const hpf_sm2_key *k)
{
    return k && k->priv;
}

/* ---- key files ---- */

/* Never prompt for a passphrase on a terminal: our key files have none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static int fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write the key to a fresh temporary file (0600), then put it at `path`: link() when nothing may
 * be replaced (fails if the file exists), rename() when it may. Either way a reader sees the
 * old file or the whole new one. */
static int write_key(const hpf_sm2_key *k, const char *path, bool replace, hpf_err *err)
{
    if (!hpf_sm2_has_private(k))
        return hpf_err_set(err, HPF_EINVAL, "SM2: no private key to save");
    char tmp[PATH_MAX + 32], tag[9];
    unsigned char r[4];
    hpf_rand_bytes(r, sizeof r);
    hpf_hex(tag, r, sizeof r);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, tag) >= sizeof tmp)
        return hpf_err_set(err, HPF_EIO, "key path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return hpf_err_set(err, HPF_EIO, "cannot create %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return hpf_err_set(err, HPF_EIO, "cannot write %s: %s", tmp, strerror(errno));
    }
    bool ok = PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        unlink(tmp);
        ERR_clear_error();
        return hpf_err_set(err, HPF_EIO, "cannot write the key file %s", tmp);
    }
    int rc = replace ? rename(tmp, path) : link(tmp, path);
    int saved = errno;
    if (!replace || rc < 0)
        unlink(tmp);
    if (rc < 0 && saved == EEXIST)
        return hpf_err_set(err, HPF_ECONFLICT, "the key file %s exists already", path);
    if (rc < 0)
        return hpf_err_set(err, HPF_EIO, "cannot put the key file at %s: %s", path,
                           strerror(saved));
    (void)fsync_dir_of(path); /* the file is complete either way; this makes its name durable */
    return 0;
}

int hpf_sm2_save_private(const hpf_sm2_key *k, const char *path, hpf_err *err)
{
    return write_key(k, path, false, err);
}

int hpf_sm2_load_private(hpf_sm2_key **out, const char *path, hpf_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return hpf_err_set(err, HPF_ENOTFOUND, "no key file %s", path);
    if (fd < 0)
        return hpf_err_set(err, HPF_EIO, "cannot open the key file %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return hpf_err_set(err, HPF_EIO, "the key file %s is not a regular file", path);
    }
    if (sb.st_mode & 077) {
        close(fd);
        return hpf_err_set(err, HPF_EIO,
                           "the key file %s may be read by others (mode %03o): chmod 600 it", path,
                           (unsigned)(sb.st_mode & 0777));
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return hpf_err_set(err, HPF_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    EVP_PKEY *p = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!p)
        return ossl_fail(err, HPF_EINVAL, "the key file holds no readable private key");
    if (!EVP_PKEY_is_a(p, "SM2")) {
        EVP_PKEY_free(p);
        return hpf_err_set(err, HPF_EINVAL, "the key in %s is not an SM2 key", path);
    }
    *out = wrap(p, true);
    return 0;
}

int hpf_sm2_load_public(hpf_sm2_key **out, const char *pem, hpf_err *err)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b)
        return ossl_fail(err, HPF_EINTERNAL, "out of memory");
    EVP_PKEY *p = PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
    BIO_free(b);
    if (!p)
        return ossl_fail(err, HPF_EINVAL, "not a PEM public key");
    if (!EVP_PKEY_is_a(p, "SM2")) {
        EVP_PKEY_free(p);
        return hpf_err_set(err, HPF_EINVAL, "SM2: the public key is not an SM2 key");
    }
    *out = wrap(p, false);
    return 0;
}

int hpf_sm2_public_pem(const hpf_sm2_key *k, hpf_buf *out, hpf_err *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    if (!b || PEM_write_bio_PUBKEY(b, k->pkey) != 1 || (n = BIO_get_mem_data(b, &data)) <= 0) {
        BIO_free(b);
        return ossl_fail(err, HPF_EINTERNAL, "cannot encode the public key");
    }
    int rc = hpf_buf_add(out, data, (size_t)n);
    BIO_free(b);
    return rc < 0 ? hpf_err_set(err, rc, "public key too long") : 0;
}

void hpf_sm2_fingerprint(const hpf_sm2_key *k, char fp[65], char key_id[HPF_SM2_KEY_ID_LEN + 1])
{
    unsigned char *der = NULL;
    char hex[65];
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) { /* a key we made or parsed always encodes */
        fprintf(stderr, "hpf: cannot encode an SM2 public key\n");
        abort();
    }
    hpf_sm3_hex(hex, der, (size_t)n);
    OPENSSL_free(der);
    if (fp)
        memcpy(fp, hex, 65);
    if (key_id) {
        memcpy(key_id, hex, HPF_SM2_KEY_ID_LEN);
        key_id[HPF_SM2_KEY_ID_LEN] = '\0';
    }
}

/* ---- sign and verify ---- */

/* A digest context for SM2 with SM3 and the distinguishing ID set on its own key context (the
 * calling sequence of the OpenSSL SM2(7) page). The EVP_MD_CTX does not own *pctx: free both. */
static int sm2_ctx(const hpf_sm2_key *k, bool sign, EVP_MD_CTX **mctx, EVP_PKEY_CTX **pctx,
                   hpf_err *err)
{
    *mctx = EVP_MD_CTX_new();
    *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!*mctx || !*pctx || EVP_PKEY_CTX_set1_id(*pctx, HPF_SM2_DISTID, 16) <= 0)
        return ossl_fail(err, HPF_EINTERNAL, "cannot set up the signature context");
    EVP_MD_CTX_set_pkey_ctx(*mctx, *pctx);
    int ok = sign ? EVP_DigestSignInit(*mctx, NULL, EVP_sm3(), NULL, k->pkey)
                  : EVP_DigestVerifyInit(*mctx, NULL, EVP_sm3(), NULL, k->pkey);
    if (ok != 1)
        return ossl_fail(err, HPF_EINTERNAL, "cannot start the signature");
    return 0;
}

static void ctx_free(EVP_MD_CTX *mctx, EVP_PKEY_CTX *pctx)
{
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
}

int hpf_sm2_sign(const hpf_sm2_key *k, const void *msg, size_t n, char sig_hex[HPF_SM2_SIG_HEX],
                 hpf_err *err)
{
    if (!hpf_sm2_has_private(k))
        return hpf_err_set(err, HPF_EINVAL, "SM2: a public key cannot sign");
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx;
    unsigned char sig[HPF_SM2_SIG_MAX + 8];
    size_t len = sizeof sig;
    int rc = sm2_ctx(k, true, &mctx, &pctx, err);
    if (rc == 0 && (EVP_DigestSign(mctx, sig, &len, msg, n) != 1 || len > HPF_SM2_SIG_MAX))
        rc = ossl_fail(err, HPF_EINTERNAL, "signing failed");
    if (rc == 0)
        hpf_hex(sig_hex, sig, len);
    ctx_free(mctx, pctx);
    return rc;
}

static int unhex_sig(const char *s, unsigned char out[HPF_SM2_SIG_MAX], size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > HPF_SM2_SIG_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
    }
    *len = n / 2;
    return 0;
}

int hpf_sm2_verify(const hpf_sm2_key *k, const void *msg, size_t n, const char *sig_hex,
                   hpf_err *err)
{
    unsigned char sig[HPF_SM2_SIG_MAX];
    size_t len;
    if (unhex_sig(sig_hex, sig, &len) < 0)
        return hpf_err_field(err, HPF_EINVAL, "", "sm2.signature_format",
                             "the signature is not the lower-case hex of at most %d bytes",
                             HPF_SM2_SIG_MAX);
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx;
    int rc = sm2_ctx(k, false, &mctx, &pctx, err);
    if (rc == 0) {
        /* 1 verifies; 0 does not; below 0 the signature could not even be parsed (bad DER),
         * which for the caller is the same: it is not a signature by this key. */
        if (EVP_DigestVerify(mctx, sig, len, msg, n) != 1) {
            ERR_clear_error();
            rc = hpf_err_field(err, HPF_ECONFLICT, "", "sm2.signature",
                               "the SM2 signature does not verify");
        }
    }
    ctx_free(mctx, pctx);
    return rc;
}

/* ---- public keys in the database ---- */

int hpf_sm2_key_register(hpf_db *db, const hpf_sm2_key *k, const char *owner, int64_t user_id,
                         char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err)
{
    char fp[65], id[HPF_SM2_KEY_ID_LEN + 1], now[64];
    hpf_buf pem = HPF_BUF_INIT;
    hpf_stmt *st;
    hpf_sm2_fingerprint(k, fp, id);
    int rc = hpf_sm2_public_pem(k, &pem, err);
    if (rc == 0)
        rc =
            hpf_db_prepare(db, &st,
                           "INSERT INTO sm2_key(key_id, owner, user_id, fingerprint, public_pem,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING",
                           err);
    if (rc == 0) {
        hpf_log_now(now);
        hpf_stmt_bind_text(st, 1, id);
        hpf_stmt_bind_text(st, 2, owner);
        if (user_id > 0)
            hpf_stmt_bind_i64(st, 3, user_id);
        else
            hpf_stmt_bind_null(st, 3);
        hpf_stmt_bind_text(st, 4, fp);
        hpf_stmt_bind_text(st, 5, pem.data);
        hpf_stmt_bind_text(st, 6, now);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    hpf_buf_cleanup(&pem);
    if (rc < 0)
        return rc;
    if (key_id)
        memcpy(key_id, id, sizeof id);
    return 0;
}

int hpf_sm2_key_lookup(hpf_db *db, const char *key_id, hpf_sm2_key **out, char owner[16],
                       int64_t *user_id, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(
        db, &st, "SELECT owner, COALESCE(user_id, 0), public_pem FROM sm2_key WHERE key_id = ?",
        err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, key_id);
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        if (owner)
            snprintf(owner, 16, "%s", hpf_stmt_text(st, 0));
        if (user_id)
            *user_id = hpf_stmt_i64(st, 1);
        rc = hpf_sm2_load_public(out, hpf_stmt_text(st, 2), err);
    } else if (rc == 0) {
        rc = hpf_err_set(err, HPF_ENOTFOUND, "no public key with id %.16s is recorded", key_id);
    }
    hpf_stmt_reset(st);
    return rc;
}

/* ---- the centre's seal key ---- */

static int ensure_dir(const char *dir, hpf_err *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return hpf_err_set(err, HPF_EIO, "cannot create the key directory %s: %s", dir,
                           strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return hpf_err_set(err, HPF_EIO, "%s is not a directory", dir);
    return 0;
}

static int path_in(char *out, size_t n, const char *dir, const char *name, hpf_err *err)
{
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
        return hpf_err_set(err, HPF_EIO, "key path too long under %s", dir);
    return 0;
}

int hpf_sm2_centre_load(const char *keys_dir, hpf_sm2_key **out, hpf_err *err)
{
    char path[PATH_MAX];
    int rc = path_in(path, sizeof path, keys_dir, HPF_SM2_CENTRE_FILE, err);
    return rc < 0 ? rc : hpf_sm2_load_private(out, path, err);
}

int hpf_sm2_centre_ensure(hpf_db *db, const char *keys_dir, bool *created,
                          char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err)
{
    char path[PATH_MAX];
    hpf_sm2_key *k = NULL;
    *created = false;
    int rc = ensure_dir(keys_dir, err);
    if (rc == 0)
        rc = path_in(path, sizeof path, keys_dir, HPF_SM2_CENTRE_FILE, err);
    if (rc == 0)
        rc = hpf_sm2_load_private(&k, path, err);
    if (rc == HPF_ENOTFOUND) {
        hpf_err_clear(err);
        rc = hpf_sm2_generate(&k, err);
        if (rc == 0)
            rc = hpf_sm2_save_private(k, path, err);
        if (rc == 0) {
            *created = true;
        } else if (rc == HPF_ECONFLICT) { /* another process made it first: use theirs */
            hpf_err_clear(err);
            hpf_sm2_free(k);
            k = NULL;
            rc = hpf_sm2_load_private(&k, path, err);
        }
    }
    if (rc == 0 && (rc = hpf_db_begin(db, err)) == 0) {
        rc = hpf_sm2_key_register(db, k, HPF_SM2_CENTRE, 0, key_id, err);
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        else
            hpf_db_rollback(db);
    }
    hpf_sm2_free(k);
    return rc;
}

int hpf_sm2_centre_rotate(hpf_db *db, const char *keys_dir,
                          char old_id[HPF_SM2_KEY_ID_LEN + 1],
                          char new_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err)
{
    char path[PATH_MAX], fp[65], payload[96];
    hpf_sm2_key *old = NULL, *k = NULL;
    int rc = path_in(path, sizeof path, keys_dir, HPF_SM2_CENTRE_FILE, err);
    if (rc == 0)
        rc = hpf_sm2_load_private(&old, path, err);
    if (rc == 0) {
        hpf_sm2_fingerprint(old, fp, old_id);
        rc = hpf_sm2_generate(&k, err);
    }
    if (rc == 0 && (rc = hpf_db_begin(db, err)) == 0) {
        rc = hpf_sm2_key_register(db, k, HPF_SM2_CENTRE, 0, new_id, err);
        snprintf(payload, sizeof payload, "seal-rotation/1|%s|%s", old_id, new_id);
        if (rc == 0)
            rc = hpf_audit_event(db, 0, HPF_AUDIT_SEAL_ROTATED, "sm2_key", 0, payload, err);
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        else
            hpf_db_rollback(db);
    }
    if (rc == 0) /* an atomic rename over the old file */
        rc = write_key(k, path, true, err);
    hpf_sm2_free(old);
    hpf_sm2_free(k);
    return rc;
}

/* ---- operators' keys ---- */

static int operator_path(char *out, size_t n, const char *keys_dir, int64_t user_id, bool make,
                         hpf_err *err)
{
    char dir[PATH_MAX], name[32];
    int rc = path_in(dir, sizeof dir, keys_dir, "operators", err);
    if (rc == 0 && make && (rc = ensure_dir(keys_dir, err)) == 0)
        rc = ensure_dir(dir, err);
    snprintf(name, sizeof name, "%lld.pem", (long long)user_id);
    return rc < 0 ? rc : path_in(out, n, dir, name, err);
}

int hpf_sm2_operator_create(hpf_db *db, const char *keys_dir, int64_t user_id,
                            char key_id[HPF_SM2_KEY_ID_LEN + 1], hpf_err *err)
{
    char path[PATH_MAX];
    hpf_sm2_key *k = NULL;
    int rc = operator_path(path, sizeof path, keys_dir, user_id, true, err);
    if (rc == 0)
        rc = hpf_sm2_generate(&k, err);
    if (rc == 0)
        rc = hpf_sm2_key_register(db, k, HPF_SM2_OPERATOR, user_id, key_id, err);
    if (rc == 0)
        rc = write_key(k, path, true, err);
    hpf_sm2_free(k);
    return rc;
}

int hpf_sm2_operator_sign(const char *keys_dir, int64_t user_id, const void *msg, size_t n,
                          char key_id[HPF_SM2_KEY_ID_LEN + 1], char sig_hex[HPF_SM2_SIG_HEX],
                          hpf_err *err)
{
    char path[PATH_MAX];
    hpf_sm2_key *k = NULL;
    int rc = operator_path(path, sizeof path, keys_dir, user_id, false, err);
    if (rc == 0)
        rc = hpf_sm2_load_private(&k, path, err);
    if (rc == HPF_ENOTFOUND)
        return hpf_err_field(err, HPF_ENOTFOUND, "", "sm2.no_key",
                             "operator %lld has no signing key", (long long)user_id);
    if (rc == 0)
        rc = hpf_sm2_sign(k, msg, n, sig_hex, err);
    if (rc == 0)
        hpf_sm2_fingerprint(k, NULL, key_id);
    hpf_sm2_free(k);
    return rc;
}

int hpf_sm2_operator_verify(hpf_db *db, int64_t user_id, const char *key_id, const void *msg,
                            size_t n, const char *sig_hex, hpf_err *err)
{
    hpf_sm2_key *k = NULL;
    char owner[16] = "";
    int64_t uid = 0;
    int rc = hpf_sm2_key_lookup(db, key_id, &k, owner, &uid, err);
    if (rc == HPF_ENOTFOUND)
        return hpf_err_field(err, HPF_ECONFLICT, "", "sm2.unknown_key",
                             "no public key with id %.16s is recorded", key_id);
    if (rc < 0)
        return rc;
    if (strcmp(owner, HPF_SM2_OPERATOR) != 0 || uid != user_id)
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "sm2.key_owner",
                           "key %.16s is not a key of operator %lld", key_id, (long long)user_id);
    else
        rc = hpf_sm2_verify(k, msg, n, sig_hex, err);
    hpf_sm2_free(k);
    return rc;
}

/* ---- listing ---- */

int hpf_sm2_centre_keys(hpf_db *db, hpf_sm2_pubkey **items, size_t *n, hpf_err *err)
{
    hpf_stmt *st;
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    int rc = hpf_db_prepare(db, &st,
                            "SELECT key_id, fingerprint, created_at, public_pem FROM sm2_key"
                            " WHERE owner = '" HPF_SM2_CENTRE "' ORDER BY created_at, key_id",
                            err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *items = hpf_xrealloc(*items, cap * sizeof **items);
        }
        hpf_sm2_pubkey *k = &(*items)[(*n)++];
        snprintf(k->key_id, sizeof k->key_id, "%s", hpf_stmt_text(st, 0));
        snprintf(k->fingerprint, sizeof k->fingerprint, "%s", hpf_stmt_text(st, 1));
        snprintf(k->created_at, sizeof k->created_at, "%s", hpf_stmt_text(st, 2));
        k->pem = hpf_xstrdup(hpf_stmt_text(st, 3));
    }
    hpf_stmt_reset(st);
    if (rc < 0) {
        hpf_sm2_pubkeys_free(*items, *n);
        *items = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

void hpf_sm2_pubkeys_free(hpf_sm2_pubkey *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i].pem);
    free(items);
}

int hpf_sm2_operators_ensure(hpf_db *db, const char *keys_dir, int64_t *made, hpf_err *err)
{
    hpf_stmt *st;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    *made = 0;
    int rc =
        hpf_db_prepare(db, &st, "SELECT id FROM app_user WHERE role = 'operator' ORDER BY id", err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            ids = hpf_xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = hpf_stmt_i64(st, 0);
    }
    hpf_stmt_reset(st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[PATH_MAX];
        struct stat sb;
        if ((rc = operator_path(path, sizeof path, keys_dir, ids[i], false, err)) < 0)
            break;
        if (stat(path, &sb) == 0)
            continue;
        if ((rc = hpf_db_begin(db, err)) < 0)
            break;
        rc = hpf_sm2_operator_create(db, keys_dir, ids[i], NULL, err);
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        else
            hpf_db_rollback(db);
        if (rc == 0)
            (*made)++;
    }
    free(ids);
    return rc < 0 ? rc : 0;
}
