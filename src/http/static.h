/*
 * http/static: the files of the web front-end, served for GET and HEAD requests that no route
 * matched. A request path is mapped onto one directory and nowhere else: "." and ".." segments
 * are refused, hidden names (a leading '.') are never served, and the resolved real path must lie
 * inside the directory (a symbolic link cannot lead out). The single-page-application fallback
 * answers index.html for a path whose last segment has no dot, so the front-end's own router
 * can handle deep links. Content types come from a fixed table; files under /assets/ (named by
 * content hash at build time) are cacheable for a year, index.html must be revalidated.
 */
#ifndef HPF_HTTP_STATIC_H
#define HPF_HTTP_STATIC_H

#include "base/err.h"

#include <stdint.h>

typedef struct hpf_static hpf_static;

typedef struct hpf_static_file {
    int fd; /* open for reading; the caller owns it */
    uint64_t size;
    const char *content_type;  /* static string */
    const char *cache_control; /* static string */
    char etag[64];             /* weak validator from size and modification time */
} hpf_static_file;

/* Serve files from `dir`. Returns 0, or HPF_EIO when dir is not a readable directory. */
int hpf_static_open(hpf_static **out, const char *dir, hpf_err *err);
void hpf_static_free(hpf_static *st);

/*
 * Find the file for `path` (decoded, begins with '/', no query). Returns 0 with out->fd open,
 * HPF_EINVAL for a "." or ".." segment (a traversal attempt), HPF_ENOTFOUND otherwise (also for
 * hidden names, directories, links leading out and a missing index.html).
 */
int hpf_static_find(const hpf_static *st, const char *path, hpf_static_file *out);

/* The Content-Type for a file name, by extension ("application/octet-stream" if unknown). */
const char *hpf_static_content_type(const char *name);

#endif
