/*
 * http/tlscert: a self-signed TLS certificate for the laptop and demo setup, so that `make run`
 * serves HTTPS without any manual step. Production deployments bring their own certificate and
 * key; this module never replaces files that exist.
 */
#ifndef HPF_HTTP_TLSCERT_H
#define HPF_HTTP_TLSCERT_H

#include "base/err.h"

/*
 * If both files exist, do nothing and return 0. Otherwise create a new ECDSA P-256 key and a
 * self-signed X.509 v3 certificate (SHA-256, CN=127.0.0.1, subjectAltName IP:127.0.0.1,
 * IP:::1 and DNS:localhost, valid 825 days, serverAuth) and write both as PEM: the key with
 * mode 0600, the certificate 0644, each through a temporary file renamed into place. A lone
 * existing file is removed first, so a crash never leaves a key and a certificate that do not
 * belong together. The directories must exist. Returns 0, HPF_EIO (file system) or
 * HPF_EINTERNAL (OpenSSL).
 */
int hpf_tls_ensure_selfsigned(const char *cert_path, const char *key_path, hpf_err *err);

#endif
