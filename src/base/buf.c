#include "base/buf.h"

#include "base/err.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX ((size_t)64 << 20)

static int grow(hpf_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return HPF_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = hpf_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int hpf_buf_add(hpf_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int hpf_buf_adds(hpf_buf *b, const char *s)
{
    return hpf_buf_add(b, s, strlen(s));
}

int hpf_buf_add_i64(hpf_buf *b, int64_t v)
{
    char tmp[24], *d = tmp + sizeof tmp;
    /* Negate as unsigned: INT64_MIN has no positive int64_t. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    return hpf_buf_add(b, d, (size_t)(tmp + sizeof tmp - d));
}

int hpf_buf_printf(hpf_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    int rc = n < 0 ? HPF_EINVAL : grow(b, (size_t)n);
    if (rc == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return rc;
}

char *hpf_buf_detach(hpf_buf *b, size_t *len)
{
    char *p = b->data ? b->data : hpf_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void hpf_buf_reset(hpf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void hpf_buf_cleanup(hpf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
