#include "http/tlscert.h"

#include "base/buf.h"
#include "base/mem.h"
#include "base/rand.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define VALID_DAYS 825

static int ossl_fail(hpf_err *err, const char *what)
{
    char buf[160];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return hpf_err_set(err, HPF_EINTERNAL, "self-signed certificate: %s failed (%s)", what,
                       e ? buf : "no detail");
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir_of(const char *path)
{
    char *copy = hpf_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Write `n` bytes to a temporary file next to `path` with `mode`, then rename it into place. */
static int write_atomic(const char *path, const char *data, size_t n, mode_t mode, hpf_err *err)
{
    hpf_buf tmp = HPF_BUF_INIT;
    int fd = -1, rc = 0;

    hpf_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp.data); /* created 0600, so the key is never readable by others */
    if (fd < 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot create %s: %s", tmp.data, strerror(errno));
        goto done;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, n) != 0 || fsync(fd) != 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = hpf_err_set(err, HPF_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp.data, path) != 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot rename %s to %s: %s", tmp.data, path,
                         strerror(errno));
        goto done;
    }
    fsync_dir_of(path);
done:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp.data)
        (void)unlink(tmp.data);
    hpf_buf_cleanup(&tmp);
    return rc;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, hpf_err *err)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext)
        return ossl_fail(err, "X509V3_EXT_conf_nid");
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : ossl_fail(err, "X509_add_ext");
}

static int build_cert(X509 *x, EVP_PKEY *pkey, hpf_err *err)
{
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509V3_CTX ctx;
    X509_NAME *name;
    int rc = 0;

    hpf_rand_bytes(serial, sizeof serial);
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x40; /* and of full length */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        rc = ossl_fail(err, "serial number");
        goto done;
    }
    name = X509_get_subject_name(x);
    if (!X509_set_version(x, X509_VERSION_3) || !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), VALID_DAYS, 0, NULL) ||
        !X509_set_pubkey(x, pkey) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"HPF self-signed", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1",
                                    -1, -1, 0) ||
        !X509_set_issuer_name(x, name)) {
        rc = ossl_fail(err, "certificate fields");
        goto done;
    }
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if ((rc = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", err)) < 0 ||
        (rc = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", err)) < 0 ||
        (rc = add_ext(x, &ctx, NID_ext_key_usage, "serverAuth", err)) < 0 ||
        (rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", err)) < 0 ||
        (rc = add_ext(x, &ctx, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost", err)) < 0)
        goto done;
    if (X509_sign(x, pkey, EVP_sha256()) <= 0)
        rc = ossl_fail(err, "X509_sign");
done:
    BN_free(bn);
    return rc;
}

int hpf_tls_ensure_selfsigned(const char *cert_path, const char *key_path, hpf_err *err)
{
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    BIO *kbio = NULL, *cbio = NULL;
    char *kdata = NULL, *cdata = NULL;
    long klen, clen;
    int rc = 0;

    bool have_cert = file_exists(cert_path), have_key = file_exists(key_path);
    if (have_cert && have_key)
        return 0;
    /* A lone file cannot be paired with a new partner: remove it before writing both. */
    if ((have_cert && unlink(cert_path) != 0) || (have_key && unlink(key_path) != 0))
        return hpf_err_set(err, HPF_EIO, "cannot remove the unpaired %s: %s",
                           have_cert ? cert_path : key_path, strerror(errno));

    pkey = EVP_EC_gen("P-256");
    x = X509_new();
    if (!pkey || !x) {
        rc = ossl_fail(err, "EVP_EC_gen");
        goto done;
    }
    rc = build_cert(x, pkey, err);
    if (rc < 0)
        goto done;

    kbio = BIO_new(BIO_s_secmem()); /* cleared when freed */
    cbio = BIO_new(BIO_s_mem());
    if (!kbio || !cbio || !PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cbio, x)) {
        rc = ossl_fail(err, "PEM encoding");
        goto done;
    }
    klen = BIO_get_mem_data(kbio, &kdata);
    clen = BIO_get_mem_data(cbio, &cdata);
    if (klen <= 0 || clen <= 0) {
        rc = ossl_fail(err, "BIO_get_mem_data");
        goto done;
    }
    /* Key first: a crash between the two renames leaves a lone key, replaced on the next run. */
    rc = write_atomic(key_path, kdata, (size_t)klen, 0600, err);
    if (rc == 0)
        rc = write_atomic(cert_path, cdata, (size_t)clen, 0644, err);
done:
    BIO_free(kbio);
    BIO_free(cbio);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}
