/*
 * mem: allocation that never returns NULL (out-of-memory aborts here, in one place), a bump
 * arena for per-request scratch memory freed in one go, and secret wiping.
 */
#ifndef HPF_BASE_MEM_H
#define HPF_BASE_MEM_H

#include <stddef.h>

void *hpf_xmalloc(size_t n);
void *hpf_xcalloc(size_t count, size_t size);
void *hpf_xrealloc(void *p, size_t n);
char *hpf_xstrdup(const char *s);
char *hpf_xstrndup(const char *s, size_t n);

/* Overwrite `n` bytes at `p` with zeros in a way the compiler cannot drop. */
void hpf_wipe(void *p, size_t n);

typedef struct hpf_arena hpf_arena;

/* A new arena; blocks of at least `block` bytes are chained as needed. */
hpf_arena *hpf_arena_new(size_t block);
/* Free every block. Accepts NULL. */
void hpf_arena_free(hpf_arena *a);
/* `n` bytes, 16-aligned, zeroed, valid until hpf_arena_free. */
void *hpf_arena_alloc(hpf_arena *a, size_t n);
char *hpf_arena_strdup(hpf_arena *a, const char *s);
/* printf into the arena. */
char *hpf_arena_printf(hpf_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
