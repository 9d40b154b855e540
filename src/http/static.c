#include "http/static.h"

#include "base/buf.h"
#include "base/mem.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct hpf_static {
    char *root; /* real path of the directory, without a trailing '/' */
    size_t root_len;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

/* Longest request path considered; the server refuses longer ones before this. */
#define MAX_PATH_LEN 2048

const char *hpf_static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

int hpf_static_open(hpf_static **out, const char *dir, hpf_err *err)
{
    struct stat stbuf;
    *out = NULL;
    char *root = realpath(dir, NULL);
    if (!root || stat(root, &stbuf) != 0 || !S_ISDIR(stbuf.st_mode)) {
        free(root);
        return hpf_err_set(err, HPF_EIO, "static directory %s is not a readable directory", dir);
    }
    hpf_static *st = hpf_xcalloc(1, sizeof *st);
    st->root = root;
    st->root_len = strlen(root);
    if (st->root_len == 1) /* "/" itself: keep the prefix check simple */
        st->root_len = 0;
    *out = st;
    return 0;
}

void hpf_static_free(hpf_static *st)
{
    if (!st)
        return;
    free(st->root);
    free(st);
}

typedef enum { SEG_OK, SEG_TRAVERSAL, SEG_HIDDEN } seg_verdict;

/* Check every segment of `path`; *last_has_dot tells whether the final one contains a dot. */
static seg_verdict check_segments(const char *path, bool *last_has_dot)
{
    seg_verdict v = SEG_OK;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return SEG_TRAVERSAL;
        if (memchr(p, '\\', len))
            return SEG_TRAVERSAL;
        if ((len > 0 && p[0] == '.') || (len == 0 && end))
            v = SEG_HIDDEN; /* hidden names and empty inner segments ("//") are not served */
        if (!end) {
            *last_has_dot = memchr(p, '.', len) != NULL;
            return v;
        }
        p = end + 1;
    }
}

/* Open root + rel as a regular file inside the root. Returns 0 or HPF_ENOTFOUND. */
static int open_inside(const hpf_static *st, const char *rel, hpf_static_file *out)
{
    hpf_buf full = HPF_BUF_INIT;
    char *real = NULL;
    int fd = -1, rc = HPF_ENOTFOUND;
    struct stat stbuf;

    full.max = MAX_PATH_LEN + PATH_MAX;
    if (hpf_buf_printf(&full, "%.*s/%s", (int)st->root_len, st->root, rel) < 0)
        goto done;
    real = realpath(full.data, NULL);
    if (!real || strncmp(real, st->root, st->root_len) != 0 || real[st->root_len] != '/')
        goto done;
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &stbuf) != 0 || !S_ISREG(stbuf.st_mode))
        goto done;
    out->fd = fd;
    fd = -1;
    out->size = (uint64_t)stbuf.st_size;
    out->content_type = hpf_static_content_type(real);
    snprintf(out->etag, sizeof out->etag, "W/\"%llx-%llx%09ld\"", (unsigned long long)stbuf.st_size,
             (unsigned long long)stbuf.st_mtim.tv_sec, stbuf.st_mtim.tv_nsec);
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(real);
    hpf_buf_cleanup(&full);
    return rc;
}

int hpf_static_find(const hpf_static *st, const char *path, hpf_static_file *out)
{
    bool last_has_dot = false;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (path[0] != '/' || strlen(path) > MAX_PATH_LEN)
        return HPF_ENOTFOUND;

    seg_verdict v = check_segments(path, &last_has_dot);
    if (v == SEG_TRAVERSAL)
        return HPF_EINVAL;

    const char *rel = path + 1;
    int rc = HPF_ENOTFOUND;
    if (v == SEG_OK && rel[0] != '\0' && rel[strlen(rel) - 1] != '/')
        rc = open_inside(st, rel, out);
    if (rc == 0) {
        bool assets = !strncmp(path, "/assets/", 8);
        out->cache_control = assets ? CACHE_IMMUTABLE : CACHE_REVALIDATE;
        return 0;
    }
    if (rel[0] != '\0' && last_has_dot)
        return HPF_ENOTFOUND; /* a missing file, not a front-end route */
    rc = open_inside(st, "index.html", out);
    if (rc == 0)
        out->cache_control = CACHE_REVALIDATE;
    return rc;
}
