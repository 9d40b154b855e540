/*
 * err: the project's error codes and the error value that carries one message.
 *
 * Functions return 0 (or a non-negative count) on success and a negative HPF_E* code on failure.
 * The message is set once, where the error happens, with hpf_err_set() or hpf_err_field(); callers
 * pass the code up unchanged. The enum is append-only: codes are never renumbered.
 */
#ifndef HPF_BASE_ERR_H
#define HPF_BASE_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    HPF_OK = 0,
    HPF_EINVAL = -1,     /* bad input: syntax or a field that breaks a rule (400) */
    HPF_ENOTFOUND = -2,  /* the thing named does not exist or is not visible to the caller (404) */
    HPF_ECONFLICT = -3,  /* state forbids it, duplicate, idempotency key reused (409) */
    HPF_EAUTH = -4,      /* not logged in, bad credentials (401) */
    HPF_EFORBIDDEN = -5, /* logged in but not allowed; missing CSRF token (403) */
    HPF_EDB = -6,        /* database failure (500; a bug or an outage) */
    HPF_EIO = -7,        /* file or network I/O failure */
    HPF_EUNPROC = -8,    /* well-formed but semantically refused: a bad roster row (422) */
    HPF_ETOOBIG = -9,    /* body or collection over its cap (413) */
    HPF_EMEDIA = -10,    /* wrong content type (415) */
    HPF_EBUSY = -11,     /* temporarily unavailable, retry (503) */
    HPF_EINTERNAL = -12, /* an invariant broke: a bug (500) */
    HPF_EMETHOD = -13,   /* method not allowed on this path (405) */
    HPF_ELIMIT = -14,    /* too many requests (429) */
    HPF_EOVERFLOW = -15, /* arithmetic overflow on money (422 when input-driven) */
};

typedef struct hpf_err {
    int code;
    char field[96]; /* JSON field or CLI option the error is about, "" if none */
    char rule[64];  /* stable rule id, e.g. "id.check_digit", "ratio.range" */
    char msg[320];  /* human message, for clients and logs */
} hpf_err;

#define HPF_ERR_INIT                                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* Set code and message (printf-style). Returns `code` so callers can `return hpf_err_set(...)`.
 * `err` may be NULL (the code is still returned). */
int hpf_err_set(hpf_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like hpf_err_set, also naming the field and the rule that was broken. */
int hpf_err_field(hpf_err *err, int code, const char *field, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prefix the field name (e.g. "rows/3/") in front of the current field; for nested validation. */
void hpf_err_prefix_field(hpf_err *err, const char *prefix);

/* Reset to no error. */
void hpf_err_clear(hpf_err *err);

/* The problems a checker finds when it goes on after the first (the verifiers): every one is
 * counted in *count, and err keeps the one that comes first by `order` (the first noted among
 * equals) as HPF_ECONFLICT with its rule. */
typedef struct hpf_problems {
    hpf_err *err;
    int64_t *count;
    bool have;    /* a problem is in err */
    int64_t best; /* its order */
} hpf_problems;

void hpf_problem(hpf_problems *p, int64_t order, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A short stable name for a code ("invalid", "not-found", ...), used in problem types. */
const char *hpf_err_name(int code);

/* The HTTP status for a code (400, 404, 409, ...). */
int hpf_err_http_status(int code);

#endif
