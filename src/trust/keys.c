/* trust/keys: the field-encryption key file (see keys.h). */
#include "trust/keys.h"

#include "base/mem.h"
#include "base/parse.h"
#include "base/rand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (64u << 10) /* a file with 64 versions is about 7 KiB */
#define MAGIC    "hpf-keys 1"

struct hpf_keys {
    char dir[512];
    char path[600];
    int current;
    size_t n;
    hpf_field_key v[HPF_KEYS_VERSIONS]; /* ascending by version */
    unsigned char bidx[HPF_KEYS_BIDX_LEN];
    int lock_fd; /* -1 when not locked */
};

static hpf_keys *keys_new(const char *dir)
{
    hpf_keys *k = hpf_xcalloc(1, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    snprintf(k->path, sizeof k->path, "%s/%s", dir, HPF_KEYS_FILE);
    k->lock_fd = -1;
    return k;
}

void hpf_keys_free(hpf_keys *k)
{
    if (!k)
        return;
    if (k->lock_fd >= 0)
        close(k->lock_fd); /* releases the flock */
    hpf_wipe(k, sizeof *k);
    free(k);
}

static int unhex(unsigned char *out, size_t n, const char *s, size_t len)
{
    if (len != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
}

/* "v12" (or "12") as a version number; -1 when it is not one. */
static int parse_version(const char *s, size_t len)
{
    char tmp[8];
    if (len && s[0] == 'v') {
        s++;
        len--;
    }
    if (len == 0 || len >= sizeof tmp || s[0] == '0')
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    int64_t v;
    return hpf_parse_i64(&v, tmp, 1, HPF_KEYS_MAX_VER) < 0 ? -1 : (int)v;
}

/* Split a line into at most 4 space-separated words; returns how many (5 when too many). */
static int words(char *line, const char *w[4], size_t wl[4])
{
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == 4)
            return 5;
        w[n] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        wl[n] = (size_t)(p - w[n]);
        n++;
    }
    return n;
}

static int add_sorted(hpf_keys *k, const hpf_field_key *fk)
{
    if (k->n == HPF_KEYS_VERSIONS)
        return -1;
    size_t i = k->n;
    while (i > 0 && k->v[i - 1].version > fk->version) {
        k->v[i] = k->v[i - 1];
        i--;
    }
    if (i > 0 && k->v[i - 1].version == fk->version)
        return -2;
    k->v[i] = *fk;
    k->n++;
    return 0;
}

static int parse(hpf_keys *k, char *text, hpf_err *err)
{
    bool magic = false, have_bidx = false;
    int lineno = 0;
    char *save = text;
    while (save && *save) {
        char *line = save;
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        const char *w[4];
        size_t wl[4];
        int n = words(line, w, wl);
        if (n == 0 || w[0][0] == '#')
            continue;
#define IS(word, lit) (wl[word] == sizeof(lit) - 1 && !memcmp(w[word], lit, sizeof(lit) - 1))
        bool ok = false;
        if (!magic) {
            ok = n == 2 && IS(0, "hpf-keys") && IS(1, "1");
            magic = ok;
        } else if (n == 2 && IS(0, "bidx") && !have_bidx) {
            ok = unhex(k->bidx, sizeof k->bidx, w[1], wl[1]) == 0;
            have_bidx = ok;
        } else if (n == 2 && IS(0, "current") && !k->current) {
            k->current = parse_version(w[1], wl[1]);
            ok = k->current > 0;
        } else if (n == 4 && IS(0, "field")) {
            hpf_field_key fk = {.version = parse_version(w[1], wl[1])};
            ok = fk.version > 0 && unhex(fk.sm4, sizeof fk.sm4, w[2], wl[2]) == 0 &&
                 unhex(fk.mac, sizeof fk.mac, w[3], wl[3]) == 0 && add_sorted(k, &fk) == 0;
            hpf_wipe(&fk, sizeof fk);
        }
#undef IS
        /* The message names the line and its first word only: the rest may be key bytes. */
        if (!ok)
            return hpf_err_set(err, HPF_EINVAL,
                               "%s line %d ('%.*s ...') is not a valid key-file line%s", k->path,
                               lineno, (int)(wl[0] < 16 ? wl[0] : 16), w[0],
                               magic ? "" : " (the file must start with '" MAGIC "')");
    }
    if (!magic || !have_bidx || !k->current || !k->n)
        return hpf_err_set(err, HPF_EINVAL, "%s lacks %s", k->path,
                           !magic       ? "the '" MAGIC "' line"
                           : !have_bidx ? "the 'bidx' line"
                           : !k->n      ? "a 'field' line"
                                        : "the 'current' line");
    if (!hpf_keys_has(k, k->current))
        return hpf_err_set(err, HPF_EINVAL, "%s names current version v%d, which it does not hold",
                           k->path, k->current);
    return 0;
}

int hpf_keys_load(hpf_keys **out, const char *dir, hpf_err *err)
{
    *out = NULL;
    hpf_keys *k = keys_new(dir);
    int fd = open(k->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        int rc = e == ENOENT
                     ? hpf_err_set(err, HPF_ENOTFOUND, "no key file %s", k->path)
                     : hpf_err_set(err, HPF_EIO, "cannot open %s: %s", k->path, strerror(e));
        hpf_keys_free(k);
        return rc;
    }
    struct stat sb;
    char *text = NULL;
    int rc = 0;
    if (fstat(fd, &sb) < 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot stat %s: %s", k->path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        rc = hpf_err_set(err, HPF_EINVAL, "%s is not a regular file", k->path);
    } else if (sb.st_mode & 077) {
        /* As ssh does with private keys: a key file others can read is refused, not used. */
        rc = hpf_err_set(err, HPF_EFORBIDDEN,
                         "%s is readable by group or others (mode %03o): chmod 600 it", k->path,
                         (unsigned)(sb.st_mode & 0777));
    } else if (sb.st_size > (off_t)FILE_MAX) {
        rc = hpf_err_set(err, HPF_EINVAL, "%s is too large to be a key file", k->path);
    } else {
        size_t size = (size_t)sb.st_size, got = 0;
        text = hpf_xmalloc(size + 1);
        while (got < size) {
            ssize_t r = read(fd, text + got, size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                rc = hpf_err_set(err, HPF_EIO, "cannot read %s", k->path);
                break;
            }
            got += (size_t)r;
        }
        text[got] = '\0';
        if (rc == 0 && strlen(text) != got)
            rc = hpf_err_set(err, HPF_EINVAL, "%s holds a NUL byte", k->path);
        if (rc == 0)
            rc = parse(k, text, err);
        hpf_wipe(text, size + 1);
        free(text);
    }
    close(fd);
    if (rc < 0) {
        hpf_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

/* The file's text into buf (cap bytes, FILE_MAX); returns its length. */
static size_t render(const hpf_keys *k, char *buf, size_t cap)
{
    char a[2 * HPF_KEYS_MAC_LEN + 1], b[2 * HPF_KEYS_MAC_LEN + 1];
    size_t off = 0;
#define OUT(...) off += (size_t)snprintf(buf + off, cap - off, __VA_ARGS__)
    OUT("# HPF field-encryption keys (docs/internals/crypto.md). Secret: keep mode 0600 and\n"
        "# back it up apart from the database: without it the personal fields cannot be "
        "read.\n" MAGIC "\nbidx %s\n",
        hpf_hex(a, k->bidx, sizeof k->bidx));
    for (size_t i = 0; i < k->n; i++)
        OUT("field v%d %s %s\n", k->v[i].version, hpf_hex(a, k->v[i].sm4, sizeof k->v[i].sm4),
            hpf_hex(b, k->v[i].mac, sizeof k->v[i].mac));
    OUT("current v%d\n", k->current);
#undef OUT
    hpf_wipe(a, sizeof a);
    hpf_wipe(b, sizeof b);
    return off;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
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

/* Write the file: a temporary file of mode 0600 in the same directory, synced, renamed over
 * the old one, the directory synced, so the change is durable and a crash leaves one whole. */
static int save(const hpf_keys *k, bool must_be_new, hpf_err *err)
{
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->path);
    char *buf = hpf_xmalloc(FILE_MAX);
    size_t len = render(k, buf, FILE_MAX);
    int rc = 0;
    (void)unlink(tmp); /* left by a crash */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot create %s: %s", tmp, strerror(errno));
    } else {
        if (write_all(fd, buf, len) < 0 || fsync(fd) < 0)
            rc = hpf_err_set(err, HPF_EIO, "cannot write %s: %s", tmp, strerror(errno));
        if (close(fd) < 0 && rc == 0)
            rc = hpf_err_set(err, HPF_EIO, "cannot write %s: %s", tmp, strerror(errno));
    }
    hpf_wipe(buf, FILE_MAX);
    free(buf);
    if (rc == 0 && must_be_new) {
        /* link() fails when the name exists: two processes creating at once keep one file. */
        if (link(tmp, k->path) < 0)
            rc = errno == EEXIST
                     ? hpf_err_set(err, HPF_ECONFLICT, "%s exists already", k->path)
                     : hpf_err_set(err, HPF_EIO, "cannot create %s: %s", k->path, strerror(errno));
        (void)unlink(tmp);
    } else if (rc == 0 && rename(tmp, k->path) < 0) {
        rc = hpf_err_set(err, HPF_EIO, "cannot replace %s: %s", k->path, strerror(errno));
    }
    if (rc < 0) {
        (void)unlink(tmp);
        return rc;
    }
    int dfd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void fresh_version(hpf_field_key *fk, int version)
{
    fk->version = version;
    hpf_rand_bytes(fk->sm4, sizeof fk->sm4);
    hpf_rand_bytes(fk->mac, sizeof fk->mac);
}

int hpf_keys_create(hpf_keys **out, const char *dir, hpf_err *err)
{
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return hpf_err_set(err, HPF_EIO, "cannot create key directory %s: %s", dir,
                           strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return hpf_err_set(err, HPF_EIO, "%s is not a directory", dir);
    if ((sb.st_mode & 077) && chmod(dir, 0700) < 0)
        return hpf_err_set(err, HPF_EIO, "cannot make %s private: %s", dir, strerror(errno));
    hpf_keys *k = keys_new(dir);
    hpf_rand_bytes(k->bidx, sizeof k->bidx);
    fresh_version(&k->v[0], 1);
    k->n = 1;
    k->current = 1;
    int rc = save(k, true, err);
    if (rc < 0) {
        hpf_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int hpf_keys_add(hpf_keys *k, bool make_current, int *version, hpf_err *err)
{
    int v = hpf_keys_newest(k) + 1;
    if (k->n == HPF_KEYS_VERSIONS || v > HPF_KEYS_MAX_VER)
        return hpf_err_set(err, HPF_ETOOBIG, "%s holds %zu versions: retire old ones first",
                           k->path, k->n);
    hpf_keys *next = hpf_xmalloc(sizeof *next);
    *next = *k;
    next->lock_fd = -1;
    fresh_version(&next->v[next->n++], v);
    if (make_current)
        next->current = v;
    int rc = save(next, false, err);
    if (rc == 0) {
        int fd = k->lock_fd;
        *k = *next;
        k->lock_fd = fd;
        *version = v;
    }
    hpf_wipe(next, sizeof *next);
    free(next);
    return rc;
}

int hpf_keys_set_current(hpf_keys *k, int version, hpf_err *err)
{
    if (!hpf_keys_has(k, version))
        return hpf_err_set(err, HPF_ENOTFOUND, "%s holds no version v%d", k->path, version);
    int old = k->current;
    k->current = version;
    int rc = save(k, false, err);
    if (rc < 0)
        k->current = old;
    return rc;
}

int hpf_keys_retire(hpf_keys *k, int version, hpf_err *err)
{
    size_t i = 0;
    while (i < k->n && k->v[i].version != version)
        i++;
    if (i == k->n)
        return hpf_err_set(err, HPF_ENOTFOUND, "%s holds no version v%d", k->path, version);
    if (version == k->current)
        return hpf_err_set(err, HPF_ECONFLICT,
                           "v%d is the current version: rotate to a new one before retiring it",
                           version);
    hpf_field_key gone = k->v[i];
    memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof k->v[0]);
    k->n--;
    hpf_wipe(&k->v[k->n], sizeof k->v[0]);
    int rc = save(k, false, err);
    if (rc < 0) { /* put it back: the file still holds it */
        memmove(&k->v[i + 1], &k->v[i], (k->n - i) * sizeof k->v[0]);
        k->v[i] = gone;
        k->n++;
    }
    hpf_wipe(&gone, sizeof gone);
    return rc;
}

int hpf_keys_lock(hpf_keys *k, hpf_err *err)
{
    if (k->lock_fd >= 0)
        return 0;
    int fd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hpf_err_set(err, HPF_EIO, "cannot open %s: %s", k->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return hpf_err_set(err, HPF_EBUSY, "another hpf keys command is changing %s", k->dir);
    }
    k->lock_fd = fd;
    return 0;
}

int hpf_keys_current(const hpf_keys *k)
{
    return k->current;
}

int hpf_keys_newest(const hpf_keys *k)
{
    return k->n ? k->v[k->n - 1].version : 0;
}

bool hpf_keys_has(const hpf_keys *k, int version)
{
    return hpf_keys_field(k, version) != NULL;
}

size_t hpf_keys_versions(const hpf_keys *k, int *out, size_t max)
{
    for (size_t i = 0; i < k->n && i < max; i++)
        out[i] = k->v[i].version;
    return k->n;
}

const char *hpf_keys_path(const hpf_keys *k)
{
    return k->path;
}

const hpf_field_key *hpf_keys_field(const hpf_keys *k, int version)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].version == version)
            return &k->v[i];
    return NULL;
}

const unsigned char *hpf_keys_bidx(const hpf_keys *k)
{
    return k->bidx;
}
