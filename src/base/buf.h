/*
 * buf: a growable byte buffer with a hard maximum (every growable buffer has one).
 * Always NUL-terminated after any successful append.
 */
#ifndef HPF_BASE_BUF_H
#define HPF_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hpf_buf {
    char *data;
    size_t len, cap, max; /* max 0 means the default of 64 MiB */
} hpf_buf;

#define HPF_BUF_INIT                                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* Append; returns 0, or HPF_ETOOBIG (buffer unchanged) when the maximum would be passed. */
int hpf_buf_add(hpf_buf *b, const void *p, size_t n);
int hpf_buf_adds(hpf_buf *b, const char *s);
/* Append v in decimal, as printf's %lld writes it, without printf's cost (hot loops). */
int hpf_buf_add_i64(hpf_buf *b, int64_t v);
int hpf_buf_printf(hpf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (free() them) and reset the buffer. */
char *hpf_buf_detach(hpf_buf *b, size_t *len);
void hpf_buf_reset(hpf_buf *b);
void hpf_buf_cleanup(hpf_buf *b);

#endif
