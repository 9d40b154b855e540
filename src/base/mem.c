#include "base/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "hpf: out of memory allocating %zu bytes\n", n);
    abort();
}

void *hpf_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *hpf_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *hpf_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *hpf_xstrdup(const char *s)
{
    return hpf_xstrndup(s, strlen(s));
}

char *hpf_xstrndup(const char *s, size_t n)
{
    char *p = hpf_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void hpf_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

struct hpf_arena {
    struct block *head;
    size_t block;
};

hpf_arena *hpf_arena_new(size_t block)
{
    hpf_arena *a = hpf_xcalloc(1, sizeof *a);
    a->block = block < 1024 ? 1024 : block;
    return a;
}

void hpf_arena_free(hpf_arena *a)
{
    if (!a)
        return;
    for (struct block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}

void *hpf_arena_alloc(hpf_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > a->block ? need : a->block;
        b = hpf_xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *hpf_arena_strdup(hpf_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = hpf_arena_alloc(a, n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *hpf_arena_printf(hpf_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = hpf_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
